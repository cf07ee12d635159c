"""W2 of issue #20: funcdiff on scalar code, eagerly and jitted, side by side in one run.

Three rows, each on the Python float ``x = 0.5`` with ``f(x) = sin(x) * x + 1.0``:

1. **eager op**: ``f(x)`` with ``funcdiff.numpy`` outside any transformation;
2. **eager grad**: ``funcdiff.grad(f)(x)``;
3. **jitted call**: ``funcdiff.jit(f)(x)``, compiled before timing;

each against the floor, NumPy by hand (``np.sin(x) * x + 1.0``; for the gradient the forward
pass and the derivative ``cos(x) * x + sin(x)`` written out), and against autograd and JAX
when they are installed (``jax.numpy`` eagerly, ``jax.grad`` without jit, ``jax.jit``).

Every round times each variant in turn (the order rotated from round to round), so all
variants see the same machine: a variant's time in a round is the fastest of a few short
samples (a calibrated number of calls each), which leaves out the time other processes held
the CPU. A ratio is the median over rounds of the paired per-round ratio to the floor, with
its quartiles over the rounds.

Run (the OpenBLAS variables this machine sets slow NumPy down, so unset them here only):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/eager_bench.py           # ~1 min
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/eager_bench.py --quick   # ~5 s

A/B of funcdiff trees (each a directory holding a ``funcdiff`` package, e.g. a worktree of an
older commit): ``--trees OLD NEW`` runs this script on each tree in turn, in alternating
order, ``--tree-runs`` times, and reports each tree's funcdiff/floor ratios and their paired
ratio NEW/OLD (the peers are left out).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import time

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The funcdiff under test: this checkout, or the tree given by the --trees driver.
sys.path.insert(0, os.environ.get("FUNCDIFF_BENCH_TREE") or _ROOT)

import numpy as np  # noqa: E402

import funcdiff  # noqa: E402
import funcdiff.numpy as jnp  # noqa: E402

X = 0.5


def _optional(name: str):
    try:
        return __import__(name)
    except ImportError:  # pragma: no cover - depends on the machine
        return None


def variants(peers: bool) -> dict[str, list[tuple[str, object]]]:
    """For each row, (name, zero-argument callable); the first of each row is its floor."""

    def np_f(x):
        return np.sin(x) * x + 1.0

    def np_grad(x):  # forward pass, then its derivative by hand
        s = np.sin(x)
        _ = s * x + 1.0
        return np.cos(x) * x + s

    def fd_f(x):
        return jnp.sin(x) * x + 1.0

    fd_grad = funcdiff.grad(fd_f)
    fd_jit = funcdiff.jit(fd_f)
    rows = {
        "eager op": [("NumPy by hand", lambda: np_f(X)), ("funcdiff", lambda: fd_f(X))],
        "eager grad": [("NumPy by hand", lambda: np_grad(X)), ("funcdiff", lambda: fd_grad(X))],
        "jitted call": [("NumPy by hand", lambda: np_f(X)), ("funcdiff", lambda: fd_jit(X))],
    }
    autograd = _optional("autograd") if peers else None
    if autograd is not None:  # pragma: no cover - optional peer
        import autograd.numpy as anp

        def ag_f(x):
            return anp.sin(x) * x + 1.0

        ag_grad = autograd.grad(ag_f)
        rows["eager op"].append(("autograd", lambda: ag_f(X)))
        rows["eager grad"].append(("autograd", lambda: ag_grad(X)))
    jax = _optional("jax") if peers else None
    if jax is not None:  # pragma: no cover - optional peer
        import jax.numpy as jjnp

        jax.config.update("jax_enable_x64", True)

        def jx_f(x):
            return jjnp.sin(x) * x + 1.0

        jx_grad, jx_jit = jax.grad(jx_f), jax.jit(jx_f)
        rows["eager op"].append(("jax", lambda: jx_f(X).block_until_ready()))
        rows["eager grad"].append(("jax (no jit)", lambda: jx_grad(X).block_until_ready()))
        rows["jitted call"].append(("jax.jit", lambda: jx_jit(X).block_until_ready()))
    return rows


def check(rows) -> None:
    """Every variant of a row computes the same value as its floor."""
    for row, calls in rows.items():
        want = float(calls[0][1]())
        for name, fn in calls[1:]:
            got = float(fn())
            if not np.isclose(got, want, rtol=1e-12):
                raise AssertionError(f"{row}: {name} gives {got}, the floor {want}")


def calibrate(fn, target: float) -> int:
    """Calls per sample so that one sample takes about `target` seconds."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in itertools.repeat(None, number):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= target / 4 or number >= 1 << 20:
            return max(1, int(number * target / max(elapsed, 1e-9)))
        number *= 4


def measure(rows, rounds: int, target: float, samples: int):
    """Per row and variant, the time per call (s) of each round: the fastest of `samples`
    short samples, which leaves out the time other processes held the CPU (this machine's
    two cores are shared)."""
    flat = [(row, name, fn) for row, calls in rows.items() for name, fn in calls]
    numbers = [calibrate(fn, target) for _, _, fn in flat]
    times = {row: {name: [] for name, _ in calls} for row, calls in rows.items()}
    for r in range(rounds):
        k = r % len(flat)
        for (row, name, fn), number in zip(flat[k:] + flat[:k], numbers[k:] + numbers[:k]):
            best = float("inf")
            for _ in range(samples):
                start = time.perf_counter()
                for _ in itertools.repeat(None, number):
                    fn()
                best = min(best, time.perf_counter() - start)
            times[row][name].append(best / number)
    return times


def quartiles(xs: list[float]) -> tuple[float, float, float]:
    if len(xs) < 2:
        return xs[0], xs[0], xs[0]
    q1, q2, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    return q1, q2, q3


def summarise(times) -> dict[str, dict[str, dict[str, float]]]:
    """Median time per call (µs) and the paired ratio to the row's floor, with quartiles."""
    out = {}
    for row, by_name in times.items():
        floor_name = next(iter(by_name))
        floor = by_name[floor_name]
        out[row] = {}
        for name, ts in by_name.items():
            ratios = [t / f for t, f in zip(ts, floor)]
            q1, med, q3 = quartiles(ratios)
            out[row][name] = {
                "us": statistics.median(ts) * 1e6,
                "ratio": med,
                "ratio_q1": q1,
                "ratio_q3": q3,
            }
    return out


def print_table(summary) -> None:
    print("| row | variant | µs per call (median) | ratio to NumPy by hand [quartiles] |")
    print("|---|---|---:|---:|")
    for row, by_name in summary.items():
        for name, s in by_name.items():
            print(
                f"| {row} | {name} | {s['us']:.2f} | {s['ratio']:.2f}x "
                f"[{s['ratio_q1']:.2f}–{s['ratio_q3']:.2f}] |"
            )


def header() -> None:
    env = [
        f"{k}={os.environ[k]}" for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ
    ]
    if env:
        print(f"warning: {' '.join(env)} is set (unset it for benchmarks)", file=sys.stderr)
    print(f"- command: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python {' '.join(sys.argv)}`")
    print(
        f"- {platform.platform()}, os.cpu_count() = {os.cpu_count()}, Python "
        f"{platform.python_version()}, NumPy {np.__version__}, funcdiff from "
        f"{os.path.dirname(os.path.dirname(funcdiff.__file__))}"
    )
    print(f"- 1-minute load average before the run: {os.getloadavg()[0]:.2f}")


def run_trees(trees: list[str], runs: int, rounds: int, samples: int, target: float) -> None:
    """Run this script on each tree in turn (alternating order), then compare them."""
    per_tree: dict[str, list[dict]] = {t: [] for t in trees}
    for r in range(runs):
        order = trees if r % 2 == 0 else trees[::-1]
        for tree in order:
            env = {**os.environ, "FUNCDIFF_BENCH_TREE": os.path.abspath(tree)}
            cmd = [
                sys.executable,
                os.path.abspath(__file__),
                "--worker",
                "--rounds",
                str(rounds),
                "--samples",
                str(samples),
                "--target",
                str(target),
            ]
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            per_tree[tree].append(json.loads(done.stdout))
    header()
    print(
        f"- {runs} runs per tree, alternating, each of {rounds} interleaved rounds; "
        "ratio = funcdiff / NumPy by hand in the same run, median [range] over runs"
    )
    print()
    base = trees[0]
    print(
        "| row | "
        + " | ".join(trees)
        + " | "
        + " | ".join(f"{t} / {base}" for t in trees[1:])
        + " |"
    )
    print("|---|" + "---:|" * (2 * len(trees) - 1))
    for row in per_tree[base][0]:
        cells = []
        ratios = {t: [run[row]["funcdiff"]["ratio"] for run in per_tree[t]] for t in trees}
        for t in trees:
            rs = ratios[t]
            cells.append(f"{statistics.median(rs):.2f}x [{min(rs):.2f}–{max(rs):.2f}]")
        for t in trees[1:]:
            paired = [a / b for a, b in zip(ratios[t], ratios[base])]
            cells.append(f"{statistics.median(paired):.3f} [{min(paired):.3f}–{max(paired):.3f}]")
        print(f"| {row} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--samples", type=int, default=10, help="samples per variant per round")
    parser.add_argument(
        "--target", type=float, default=0.0005, help="seconds per sample (one variant, one round)"
    )
    parser.add_argument("--quick", action="store_true", help="5 short rounds: a smoke test")
    parser.add_argument("--no-peers", action="store_true", help="leave autograd and JAX out")
    parser.add_argument("--trees", nargs="+", help="A/B: funcdiff trees to compare")
    parser.add_argument("--tree-runs", type=int, default=6)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.samples, args.target, args.tree_runs = 5, 3, 0.0002, 2
    if args.trees:
        run_trees(args.trees, args.tree_runs, args.rounds, args.samples, args.target)
        return
    rows = variants(peers=not (args.no_peers or args.worker))
    check(rows)
    summary = summarise(measure(rows, args.rounds, args.target, args.samples))
    if args.worker:
        print(json.dumps(summary))
        return
    header()
    print(
        f"- {args.rounds} interleaved rounds; per variant and round, the fastest of {args.samples} "
        f"samples of about {args.target * 1e3:g} ms"
    )
    print()
    print_table(summary)


if __name__ == "__main__":
    main()
