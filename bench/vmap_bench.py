"""Benchmarks of `funcdiff.vmap`, side by side in one run.

1. Per-example gradients of logistic regression (256 examples, dimension 100):
   ``jit(vmap(grad(loss)))`` against a Python loop of ``grad`` (and ``jax.vmap`` when jax is
   installed), and, in paired rounds, against the gradients written by hand in NumPy,
   ``(-y * sigmoid(-y * (X @ w)))[:, None] * X`` (issue #20, W5).
2. The full Jacobian of ``f(x) = tanh(W @ x)`` with W of shape 200x200: ``jacfwd`` and
   ``jacrev`` (one batched pass each) against Python loops of 200 ``jvp`` / ``vjp`` calls, and
   under ``jit`` against the hand-written NumPy Jacobian ``(1 - tanh(W @ x)**2)[:, None] * W``.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/vmap_bench.py
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

# Benchmark this checkout, whatever funcdiff may be installed.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from _paired import paired_ratios, ratio_table  # noqa: E402

import funcdiff  # noqa: E402
import funcdiff.numpy as jnp  # noqa: E402

try:  # optional peer
    import jax
    import jax.numpy as jjnp

    jax.config.update("jax_enable_x64", True)
except ImportError:  # pragma: no cover - depends on the machine
    jax = None


def median_time(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def logistic_loss(w, x, y):
    return jnp.log1p(jnp.exp(-y * jnp.dot(x, w)))


def bench_per_example(n: int, d: int, repeats: int) -> list[tuple[str, float]]:
    rng = np.random.default_rng(0)
    w, xs, ys = rng.normal(size=d), rng.normal(size=(n, d)), np.sign(rng.normal(size=n))
    per_example = funcdiff.jit(funcdiff.vmap(funcdiff.grad(logistic_loss), in_axes=(None, 0, 0)))
    g = funcdiff.grad(logistic_loss)

    def loop():
        return np.stack([g(w, xs[i], ys[i]) for i in range(n)])

    np.testing.assert_allclose(per_example(w, xs, ys), loop(), rtol=1e-10)
    rows = [
        ("Python loop of grad", median_time(loop, max(1, repeats // 5))),
        ("funcdiff jit(vmap(grad))", median_time(lambda: per_example(w, xs, ys), repeats)),
        (
            "funcdiff vmap(grad) (eager)",
            median_time(lambda: funcdiff.vmap(g, in_axes=(None, 0, 0))(w, xs, ys), repeats),
        ),
    ]
    if jax is not None:  # pragma: no cover - optional peer
        jl = lambda w, x, y: jjnp.log1p(jjnp.exp(-y * jjnp.dot(x, w)))  # noqa: E731
        jf = jax.jit(jax.vmap(jax.grad(jl), in_axes=(None, 0, 0)))
        jw, jx, jy = jjnp.asarray(w), jjnp.asarray(xs), jjnp.asarray(ys)
        rows.append(
            (
                "jax.jit(jax.vmap(jax.grad))",
                median_time(lambda: jf(jw, jx, jy).block_until_ready(), repeats),
            )
        )
    return rows


def per_example_by_hand(w, x, y):
    """The floor: d/dw log1p(exp(-y x.w)) = -y sigmoid(-y x.w) x, for every row at once."""
    m = -y
    e = np.exp(m * (x @ w))
    return (m * e / (1.0 + e))[:, None] * x


def bench_per_example_floor(n: int, d: int, rounds: int, number: int):
    rng = np.random.default_rng(0)
    w, xs, ys = rng.normal(size=d), rng.normal(size=(n, d)), np.sign(rng.normal(size=n))
    per_example = funcdiff.jit(funcdiff.vmap(funcdiff.grad(logistic_loss), in_axes=(None, 0, 0)))
    np.testing.assert_allclose(per_example(w, xs, ys), per_example_by_hand(w, xs, ys), rtol=1e-10)
    calls = [
        ("hand-written NumPy", lambda: per_example_by_hand(w, xs, ys)),
        ("funcdiff jit(vmap(grad))", lambda: per_example(w, xs, ys)),
    ]
    if jax is not None:  # pragma: no cover - optional peer
        jl = lambda w, x, y: jjnp.log1p(jjnp.exp(-y * jjnp.dot(x, w)))  # noqa: E731
        jf = jax.jit(jax.vmap(jax.grad(jl), in_axes=(None, 0, 0)))
        jw, jx, jy = jjnp.asarray(w), jjnp.asarray(xs), jjnp.asarray(ys)
        calls.append(("jax.jit(jax.vmap(jax.grad))", lambda: jf(jw, jx, jy).block_until_ready()))
    return paired_ratios(calls, rounds, number)


def bench_jacobian(n: int, repeats: int) -> list[tuple[str, float]]:
    rng = np.random.default_rng(1)
    W = rng.normal(size=(n, n)) / np.sqrt(n)
    x = rng.normal(size=n)
    f = lambda x: jnp.tanh(W @ x)  # noqa: E731

    def by_hand():
        return (1 - np.tanh(W @ x) ** 2)[:, None] * W

    expected = by_hand()
    eye = np.eye(n)

    def jvp_loop():
        return np.stack([funcdiff.jvp(f, (x,), (eye[i],))[1] for i in range(n)], axis=1)

    def vjp_loop():
        _, pullback = funcdiff.vjp(f, x)
        return np.stack([pullback(eye[i])[0] for i in range(n)])

    jf, jr = funcdiff.jacfwd(f), funcdiff.jacrev(f)
    jjf, jjr = funcdiff.jit(jf), funcdiff.jit(jr)
    for fn in (jvp_loop, vjp_loop, lambda: jf(x), lambda: jr(x), lambda: jjf(x), lambda: jjr(x)):
        np.testing.assert_allclose(fn(), expected, rtol=1e-10, atol=1e-12)
    rows = [
        ("hand-written NumPy Jacobian", median_time(by_hand, repeats)),
        (f"Python loop of {n} jvp", median_time(jvp_loop, max(1, repeats // 5))),
        (f"Python loop of {n} vjp", median_time(vjp_loop, max(1, repeats // 5))),
        ("funcdiff jacfwd", median_time(lambda: jf(x), repeats)),
        ("funcdiff jacrev", median_time(lambda: jr(x), repeats)),
        ("funcdiff jit(jacfwd)", median_time(lambda: jjf(x), repeats)),
        ("funcdiff jit(jacrev)", median_time(lambda: jjr(x), repeats)),
    ]
    if jax is not None:  # pragma: no cover - optional peer
        jW, jxx = jjnp.asarray(W), jjnp.asarray(x)
        g = lambda x: jjnp.tanh(jW @ x)  # noqa: E731
        for name, jac in (("jax.jit(jax.jacfwd)", jax.jacfwd), ("jax.jit(jax.jacrev)", jax.jacrev)):
            compiled = jax.jit(jac(g))
            rows.append((name, median_time(lambda c=compiled: c(jxx).block_until_ready(), repeats)))
    return rows


def table(rows, base_name: str) -> None:
    base = dict(rows)[base_name]
    print(f"| implementation | time (ms) | ratio to {base_name} |\n|---|---:|---:|")
    for name, t in rows:
        print(f"| {name} | {t * 1e3:.3f} | {t / base:.3f}x |")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument(
        "--rounds",
        type=int,
        default=200,
        help="paired rounds against the hand-written per-example gradients",
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for smoke tests")
    args = parser.parse_args(argv)
    repeats = 2 if args.quick else args.repeats
    n, d, m = (8, 5, 6) if args.quick else (256, 100, 200)
    print("# funcdiff vmap benchmarks\n")
    print(f"command: `{' '.join(['python'] + sys.argv)}`  ")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, NumPy {np.__version__}"
        + (f", JAX {jax.__version__}" if jax is not None else ", JAX not installed")
        + "\n"
    )
    print(
        f"## Per-example gradients of logistic regression ({n} examples, dimension {d}), "
        f"median of {repeats}\n"
    )
    table(bench_per_example(n, d, repeats), "Python loop of grad")
    rounds, number = (5, 5) if args.quick else (args.rounds, 20)
    print(
        f"### Against the hand-written per-example gradients: {rounds} interleaved rounds of "
        f"{number} calls, ratios taken within each round\n"
    )
    print(ratio_table(bench_per_example_floor(n, d, rounds, number)) + "\n")
    print(f"## Jacobian of tanh(W @ x), W of shape {m}x{m}, median of {repeats}\n")
    table(bench_jacobian(m, repeats), "hand-written NumPy Jacobian")
    return 0


if __name__ == "__main__":
    sys.exit(main())
