"""Peak memory of reverse mode without checkpointing, side by side in one run (issue #20, W7).

``jit(grad(loss))`` of a 64-layer, 128-wide tanh MLP (batch 2048, float64, loss
``sum(h * h)`` of the last layer), against hand-written NumPy backpropagation, which keeps one
array per layer (the layer's output, from which both the next layer and the backward pass
read). Memory is the tracemalloc peak during one call, less the returned gradient; for
`jit` also the peak of its buffer plan (`peak_bytes`, what `cost_analysis` reports), which
counts the same arrays without Python's bookkeeping. Times are from interleaved rounds.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/memory_bench.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/memory_bench.py --quick
"""

from __future__ import annotations

import os
import sys

# Benchmark this checkout, whatever funcdiff may be installed.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402
from _paired import header, paired_ratios, ratio_table  # noqa: E402

import funcdiff  # noqa: E402
import funcdiff.numpy as jnp  # noqa: E402

MiB = 2**20


def loss(ws, x):
    h = x
    for w in ws:
        h = jnp.tanh(h @ w)
    return jnp.sum(h * h)


def grad_by_hand(ws, x):
    """The floor: keep each layer's output, the one array that both the next layer and the
    backward pass (its derivative ``1 - y * y`` and the weight gradient) read."""
    acts = [x]
    for w in ws:
        acts.append(np.tanh(acts[-1] @ w))
    y = acts.pop()
    g = 2 * y
    grads = [None] * len(ws)
    for i in reversed(range(len(ws))):
        g *= 1 - y * y
        y = acts.pop()
        grads[i] = y.T @ g
        if i:
            g = g @ ws[i].T
    return grads


def held_bytes(fn) -> int:
    """tracemalloc peak during one call, less the bytes of what it returns."""
    out = fn()
    out_bytes = sum(np.asarray(g).nbytes for g in funcdiff.tree_util.tree_leaves(out))
    del out
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - out_bytes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=64)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--batch", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="a few seconds, for smoke tests")
    args = parser.parse_args(argv)
    if args.quick:
        args.layers, args.width, args.batch, args.rounds = 8, 32, 256, 3
    rng = np.random.default_rng(0)
    ws = [
        rng.normal(size=(args.width, args.width)) / np.sqrt(args.width) for _ in range(args.layers)
    ]
    x = rng.normal(size=(args.batch, args.width))
    jitted = funcdiff.jit(funcdiff.grad(loss))
    for a, b in zip(jitted(ws, x), grad_by_hand(ws, x)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    plan_peak = jitted.lower(ws, x).compile().peak_bytes
    floor = held_bytes(lambda: grad_by_hand(ws, x))
    held = held_bytes(lambda: jitted(ws, x))
    layer = args.batch * args.width * 8
    print(
        header(
            f"Peak memory of jit(grad) on a {args.layers}-layer, {args.width}-wide tanh "
            f"MLP, batch {args.batch}, float64"
        )
    )
    print(
        f"one layer's activation: {layer / MiB:.1f} MiB; memory is the tracemalloc peak "
        "during one call less the returned gradient\n"
    )
    print("| gradient | memory held (MiB) | ratio to hand-written |\n|---|---:|---:|")
    print(f"| hand-written backprop (floor) | {floor / MiB:.1f} | 1.00x |")
    print(f"| funcdiff jit(grad), tracemalloc | {held / MiB:.1f} | {held / floor:.2f}x |")
    print(
        f"| funcdiff jit(grad), buffer plan (`peak_bytes`) | {plan_peak / MiB:.1f} | "
        f"{plan_peak / floor:.2f}x |"
    )
    results = paired_ratios(
        [
            ("hand-written backprop", lambda: grad_by_hand(ws, x)),
            ("funcdiff jit(grad)", lambda: jitted(ws, x)),
        ],
        args.rounds,
        warmup=1,
    )
    print(f"\ntime, {args.rounds} interleaved rounds:\n")
    print(ratio_table(results, 1e-3, "ms"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
