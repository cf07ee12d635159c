"""Benchmarks of `funcdiff.jit`, side by side in one run.

1. ``jit(grad(loss))`` of a 784-512-512-10 tanh MLP (softmax cross-entropy, batch 128) against
   hand-written NumPy backpropagation, in float32 and float64 (and ``jax.jit(jax.grad)`` when
   jax is installed).
2. Call overhead of the jitted scalar function ``sin(x) * x + 1.0``.
3. First call (trace, optimise, lower) of a 2000-operation elementwise function and of its
   gradient.
4. Steady state of that chain under ``jit(grad(f))`` against eager ``grad(f)``: time and
   bytes allocated (tracemalloc peak).

Run (the OpenBLAS variables this machine sets slow NumPy down, so unset them here only):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/jit_bench.py
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import timeit
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

import funcdiff
import funcdiff.numpy as jnp

try:  # optional peer
    import jax
    import jax.numpy as jjnp

    jax.config.update("jax_enable_x64", True)
except ImportError:  # pragma: no cover - depends on the machine
    jax = None


def median_time(fn, repeats: int, number: int = 1) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)


# ---- 1. MLP gradient ------------------------------------------------------------------------

SIZES = (784, 512, 512, 10)


def init_params(dtype, rng):
    params = {}
    for i, (m, n) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        params[f"w{i}"] = (rng.normal(size=(m, n)) / np.sqrt(m)).astype(dtype)
        params[f"b{i}"] = np.zeros(n, dtype)
    return params


def loss(params, x, y_onehot):
    h = x
    for i in range(len(SIZES) - 2):
        h = jnp.tanh(h @ params[f"w{i}"] + params[f"b{i}"])
    logits = h @ params[f"w{len(SIZES) - 2}"] + params[f"b{len(SIZES) - 2}"]
    return -jnp.mean(jnp.sum(funcdiff.nn.log_softmax(logits) * y_onehot, axis=-1))


def grad_by_hand(params, x, y_onehot):
    """Hand-written backpropagation: the floor."""
    n_layers = len(SIZES) - 1
    acts = [x]
    h = x
    for i in range(n_layers - 1):
        h = np.tanh(h @ params[f"w{i}"] + params[f"b{i}"])
        acts.append(h)
    logits = h @ params[f"w{n_layers - 1}"] + params[f"b{n_layers - 1}"]
    shifted = logits - logits.max(axis=-1, keepdims=True)
    probs = np.exp(shifted)
    probs /= probs.sum(axis=-1, keepdims=True)
    delta = (probs - y_onehot) / x.shape[0]
    grads = {}
    for i in reversed(range(n_layers)):
        grads[f"w{i}"] = acts[i].T @ delta
        grads[f"b{i}"] = delta.sum(axis=0)
        if i:
            delta = (delta @ params[f"w{i}"].T) * (1 - acts[i] * acts[i])
    return grads


def jax_loss(params, x, y_onehot):  # pragma: no cover - optional peer
    h = x
    for i in range(len(SIZES) - 2):
        h = jjnp.tanh(h @ params[f"w{i}"] + params[f"b{i}"])
    logits = h @ params[f"w{len(SIZES) - 2}"] + params[f"b{len(SIZES) - 2}"]
    return -jjnp.mean(jjnp.sum(jax.nn.log_softmax(logits) * y_onehot, axis=-1))


def bench_mlp(dtype, repeats: int, batch: int) -> list[tuple[str, float]]:
    rng = np.random.default_rng(0)
    params = init_params(dtype, rng)
    x = rng.normal(size=(batch, SIZES[0])).astype(dtype)
    y = np.eye(SIZES[-1], dtype=dtype)[rng.integers(0, SIZES[-1], size=batch)]
    jitted = funcdiff.jit(funcdiff.grad(loss))
    expected = grad_by_hand(params, x, y)
    got = jitted(params, x, y)
    tol = 1e-9 if dtype == np.float64 else 1e-4
    for k in expected:
        np.testing.assert_allclose(got[k], expected[k], rtol=tol, atol=tol)
    calls = [
        ("hand-written NumPy backprop", lambda: grad_by_hand(params, x, y)),
        ("funcdiff jit(grad(loss))", lambda: jitted(params, x, y)),
        ("funcdiff grad(loss) (eager)", lambda: funcdiff.grad(loss)(params, x, y)),
    ]
    if jax is not None:  # pragma: no cover - optional peer
        jg = jax.jit(jax.grad(jax_loss))
        jp = {k: jjnp.asarray(v) for k, v in params.items()}
        jx, jy = jjnp.asarray(x), jjnp.asarray(y)
        calls.append(("jax.jit(jax.grad(loss))",
                      lambda: jax.block_until_ready(jg(jp, jx, jy))))
    return interleaved_medians(calls, repeats)


def interleaved_medians(calls: list[tuple[str, Callable[[], Any]]], repeats: int
                        ) -> list[tuple[str, float]]:
    """Median time of each call, measured in interleaved rounds (one call of each per round),
    so that a change in the machine's load affects all of them alike."""
    for _ in range(3):  # warm-up rounds: caches, allocator and BLAS threads settle
        for _, fn in calls:
            fn()
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(repeats):
        for k, (_, fn) in enumerate(calls):
            start = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - start)
    return [(name, statistics.median(t)) for (name, _), t in zip(calls, times)]


# ---- 2. call overhead -----------------------------------------------------------------------


def bench_overhead(repeats: int, number: int = 20000) -> list[tuple[str, float]]:
    f = funcdiff.jit(lambda x: jnp.sin(x) * x + 1.0)
    x = 0.5
    f(x)
    rows = [
        ("NumPy sin(x) * x + 1.0", min(timeit.repeat(lambda: np.sin(x) * x + 1.0,
                                                     number=number, repeat=repeats)) / number),
        ("funcdiff jit call", min(timeit.repeat(lambda: f(x), number=number,
                                                repeat=repeats)) / number),
    ]
    if jax is not None:  # pragma: no cover - optional peer
        jf = jax.jit(lambda x: jjnp.sin(x) * x + 1.0)
        jf(x).block_until_ready()
        rows.append(("jax.jit call", min(timeit.repeat(lambda: jf(x).block_until_ready(),
                                                      number=number, repeat=repeats)) / number))
    return rows


# ---- 3 and 4. a 2000-operation chain --------------------------------------------------------

CHAIN = 2000


def make_chain(np_like):
    """A new function object computing the chain with `np_like` (funcdiff.numpy or
    jax.numpy): a fresh function defeats any cache keyed on the function's identity, so
    each first call below traces, optimises and lowers from scratch."""

    def chain(x):
        y = x
        for i in range(CHAIN // 4):
            y = np_like.sin(y) * 0.9 + x * (0.001 * (i % 7)) - 0.01
        return np_like.sum(y * y)

    return chain


chain = make_chain(jnp)


def first_calls(make, x, n: int) -> tuple[float, float, float]:
    """Time `make()(x)` for `n` freshly made functions: (the first, in a process that has
    not compiled anything of this kind yet; the median of all `n`; the fastest)."""
    times = []
    for _ in range(n):
        fn = make()
        start = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - start)
    return times[0], statistics.median(times), min(times)


def bench_chain(repeats: int, size: int, n_first: int
                ) -> tuple[list[tuple[str, tuple[float, float, float]]], list[tuple[str, float]],
                           list[tuple[str, int]]]:
    x = np.linspace(-1.0, 1.0, size)
    firsts = [
        ("jit(f)", first_calls(lambda: funcdiff.jit(make_chain(jnp)), x, n_first)),
        ("jit(grad(f))", first_calls(
            lambda: funcdiff.jit(funcdiff.grad(make_chain(jnp))), x, n_first)),
    ]
    if jax is not None:  # pragma: no cover - optional peer
        def blocking(f):
            return lambda x: f(x).block_until_ready()

        firsts.append(("jax.jit(f)", first_calls(
            lambda: blocking(jax.jit(make_chain(jjnp))), x, n_first)))
        firsts.append(("jax.jit(jax.grad(f))", first_calls(
            lambda: blocking(jax.jit(jax.grad(make_chain(jjnp)))), x, n_first)))
    rows = []
    jg = funcdiff.jit(funcdiff.grad(chain))
    eager = funcdiff.grad(chain)
    np.testing.assert_allclose(jg(x), eager(x), rtol=1e-10)
    rows.append(("steady jit(grad(f))", median_time(lambda: jg(x), repeats)))
    rows.append(("steady eager grad(f)", median_time(lambda: eager(x), max(3, repeats // 4))))
    mem = []
    for name, fn in (("jit(grad(f))", lambda: jg(x)), ("eager grad(f)", lambda: eager(x))):
        tracemalloc.start()
        fn()
        mem.append((name, tracemalloc.get_traced_memory()[1]))
        tracemalloc.stop()
    return firsts, rows, mem


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--mlp-repeats", type=int, default=60,
                        help="interleaved rounds of the MLP gradients (their ratios are noisier)")
    parser.add_argument("--first-calls", type=int, default=5,
                        help="fresh functions whose first call is timed (median reported)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes (a 32-16-16-10 MLP, a 40-op chain), for smoke tests")
    args = parser.parse_args(argv)
    global SIZES, CHAIN
    if args.quick:  # the same programs at sizes that take no time
        SIZES, CHAIN = (32, 16, 16, 10), 40
    repeats = 3 if args.quick else args.repeats
    mlp_repeats = 3 if args.quick else args.mlp_repeats
    batch = 8 if args.quick else 128
    size = 16 if args.quick else 1000
    print("# funcdiff jit benchmarks\n")
    print(f"command: `{' '.join(['python'] + sys.argv)}`  ")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, NumPy {np.__version__}"
          + (f", JAX {jax.__version__}" if jax is not None else ", JAX not installed"))
    print("OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE set: "
          f"{'OPENBLAS_CORETYPE' in os.environ or 'OPENBLAS_L2_SIZE' in os.environ}, "
          f"OPENBLAS_NUM_THREADS: {os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}\n")
    for dtype in (np.float32, np.float64):
        rows = bench_mlp(dtype, mlp_repeats, batch)
        floor = rows[0][1]
        print(f"## MLP {'-'.join(map(str, SIZES))} gradient, batch {batch}, {np.dtype(dtype).name} "
              f"(median of {mlp_repeats}, interleaved rounds)\n")
        print("| implementation | time (ms) | ratio to hand-written |\n|---|---:|---:|")
        for name, t in rows:
            print(f"| {name} | {t * 1e3:.3f} | {t / floor:.2f}x |")
        times = dict(rows)
        if "jax.jit(jax.grad(loss))" in times:
            print(f"\nfuncdiff jit(grad(loss)) / jax.jit(jax.grad(loss)): "
                  f"{times['funcdiff jit(grad(loss))'] / times['jax.jit(jax.grad(loss))']:.2f}x")
        print()
    number = 200 if args.quick else 20000
    rows = bench_overhead(5, number)
    print("## Call overhead of jit(lambda x: sin(x) * x + 1.0) on a Python float "
          f"(best of 5 x {number} calls)\n")
    print("| call | time (us) |\n|---|---:|")
    for name, t in rows:
        print(f"| {name} | {t * 1e6:.2f} |")
    print()
    n_first = 2 if args.quick else args.first_calls
    firsts, rows, mem = bench_chain(repeats, size, n_first)
    print(f"## A {CHAIN}-operation elementwise chain on {size} elements\n")
    print(f"First call (trace, optimise, lower, run) of {n_first} freshly defined functions, "
          "each jitted anew: the first of them, the median and the fastest.\n")
    print("| first call of | first (ms) | median (ms) | fastest (ms) | median, ratio to "
          "funcdiff |\n|---|---:|---:|---:|---:|")
    medians = {name: med for name, (_, med, _) in firsts}
    for name, (first, med, fastest) in firsts:
        ours = medians[name.replace("jax.grad", "grad").replace("jax.jit", "jit")]
        print(f"| {name} | {first * 1e3:.1f} | {med * 1e3:.1f} | {fastest * 1e3:.1f} | "
              f"{med / ours:.1f}x |")
    print()
    print("| steady state | time (ms) |\n|---|---:|")
    for name, t in rows:
        print(f"| {name} | {t * 1e3:.2f} |")
    steady = dict(rows)
    print(f"\nsteady-state speed-up of jit(grad(f)) over eager grad(f): "
          f"{steady['steady eager grad(f)'] / steady['steady jit(grad(f))']:.1f}x\n")
    print("| peak bytes allocated during one call (tracemalloc) | bytes |\n|---|---:|")
    for name, b in mem:
        print(f"| {name} | {b:,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
