"""``python -m funcdiff``: a short tour of funcdiff on a small neural network.

It traces the network's loss to the IR, prints it, computes the gradient with respect to a dict
of parameters, checks it against finite differences, and compares forward mode (one JVP per
input direction) with reverse mode (one VJP) on the same function.
"""

from __future__ import annotations

import sys
import time

import numpy as np

import funcdiff
import funcdiff.numpy as jnp
from funcdiff.test_util import numerical_jvp


def _loss(params: dict, x: np.ndarray, y: np.ndarray) -> jnp.ndarray:
    hidden = jnp.tanh(x @ params["w1"] + params["b1"])
    logits = hidden @ params["w2"] + params["b2"]
    log_probs = funcdiff.nn.log_softmax(logits)
    return -jnp.mean(jnp.sum(log_probs * y, axis=-1))


def _time(fn, repeats: int = 20) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> int:
    rng = np.random.default_rng(0)
    params = {
        "w1": rng.normal(size=(4, 8)) * 0.5,
        "b1": np.zeros(8),
        "w2": rng.normal(size=(8, 3)) * 0.5,
        "b2": np.zeros(3),
    }
    x = rng.normal(size=(5, 4))
    y = np.eye(3)[rng.integers(0, 3, size=5)]

    print("funcdiff tour: a 4-8-3 tanh network with softmax cross-entropy\n")
    print("1. The traced program (make_jaxpr):\n")
    print(funcdiff.make_jaxpr(_loss)(params, x, y))

    loss, grads = funcdiff.value_and_grad(_loss)(params, x, y)
    print(f"\n2. loss = {loss:.6f}; gradient shapes:",
          {k: v.shape for k, v in grads.items()})
    direction = {k: rng.normal(size=v.shape) for k, v in params.items()}
    analytic = sum(float(np.sum(grads[k] * direction[k])) for k in params)
    numeric = numerical_jvp(lambda p: _loss(p, x, y), (params,), (direction,))
    print(f"   directional derivative: reverse mode {analytic:.10f}, "
          f"central differences {float(numeric):.10f}")

    print("\n3. Forward versus reverse mode for the full gradient "
          f"({sum(v.size for v in params.values())} inputs, 1 output):")
    flat, unravel = _ravel(params)
    f_flat = lambda v: _loss(unravel(v), x, y)  # noqa: E731
    t_rev = _time(lambda: funcdiff.grad(f_flat)(flat))
    t_fwd = _time(lambda: funcdiff.jacfwd(f_flat)(flat), repeats=3)
    same = np.allclose(funcdiff.grad(f_flat)(flat), funcdiff.jacfwd(f_flat)(flat))
    print(f"   reverse mode (1 backward pass):         {t_rev * 1e3:8.2f} ms")
    print(f"   forward mode ({flat.size} JVPs, one per input): {t_fwd * 1e3:8.2f} ms")
    print(f"   same gradient: {same}; forward/reverse time ratio: {t_fwd / t_rev:.1f}x")
    print("\nReverse mode needs one pass per output, forward mode one per input: for a scalar "
          "loss of many parameters, reverse mode wins.")
    return 0


def _ravel(tree: dict) -> tuple[np.ndarray, object]:
    keys = sorted(tree)
    shapes = [tree[k].shape for k in keys]
    sizes = [int(np.prod(s)) for s in shapes]
    flat = np.concatenate([np.ravel(tree[k]) for k in keys])

    def unravel(v):
        out, start = {}, 0
        for k, shape, n in zip(keys, shapes, sizes):
            out[k] = jnp.reshape(v[start : start + n], shape)
            start += n
        return out

    return flat, unravel


if __name__ == "__main__":
    sys.exit(main())
