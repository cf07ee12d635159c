"""Eager elementwise `funcdiff.numpy` calls on small operands (issue #20's W2: concrete NumPy
inputs outside any transformation should reach NumPy in a few hundred nanoseconds), against
the NumPy ufunc called directly.

``--trees A B`` times each tree (a directory holding a ``funcdiff`` package) in its own process,
alternating the order round by round, and reports per statement the median [range] over rounds
of the best-of-repeats time, and of the ratio B / A within each round.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/binop_bench.py --trees A B
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import timeit

STATEMENTS = [
    "np.multiply(x, x)",
    "jnp.multiply(0.5, 0.5)",
    "jnp.multiply(x, x)",
    "jnp.add(x, 1.0)",
    "jnp.subtract(x32, 2)",
    "jnp.maximum(x, w)",
    "jnp.sin(x)",
]

SETUP = (
    "import numpy as np; import funcdiff.numpy as jnp; "
    "from funcdiff._src.array import as_weak_array; "
    "x = np.ones(3); x32 = np.ones(3, np.float32); w = as_weak_array(np.ones(3))"
)


def measure(number: int, repeat: int) -> dict[str, float]:
    """Best-of-`repeat` time per call (seconds) of each statement, in this process."""
    return {
        s: min(timeit.repeat(s, SETUP, number=number, repeat=repeat)) / number for s in STATEMENTS
    }


def run_trees(trees: list[str], rounds: int, number: int, repeat: int) -> None:
    times: dict[str, list[dict[str, float]]] = {t: [] for t in trees}
    for r in range(rounds):
        for tree in trees if r % 2 == 0 else trees[::-1]:
            out = subprocess.run(
                [
                    sys.executable,
                    os.path.abspath(__file__),
                    "--number",
                    str(number),
                    "--repeat",
                    str(repeat),
                ],
                cwd=tree,
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PYTHONPATH": tree},
            ).stdout
            result = json.loads(out)
            file = result.pop("file")
            assert file.startswith(os.path.abspath(tree)), f"{tree} imported {file}"
            times[tree].append(result)
    base, *others = trees
    print(f"{rounds} rounds, alternating; best of {repeat} x {number} calls per round\n")
    print(
        "| statement | "
        + " | ".join(f"{t} (us)" for t in trees)
        + " | "
        + " | ".join(f"{t} / {base}" for t in others)
        + " |"
    )
    print("|---|" + "---:|" * (2 * len(trees) - 1))

    def fmt(xs: list[float], scale: float, digits: int) -> str:
        return (
            f"{statistics.median(xs) * scale:.{digits}f} "
            f"[{min(xs) * scale:.{digits}f}–{max(xs) * scale:.{digits}f}]"
        )

    for s in STATEMENTS:
        cells = [fmt([run[s] for run in times[t]], 1e6, 2) for t in trees]
        for t in others:
            ratios = [a[s] / b[s] for a, b in zip(times[t], times[base])]
            cells.append(fmt(ratios, 1.0, 3))
        print(f"| `{s}` | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", nargs="+", help="funcdiff trees to compare (A/B)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--number", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="smoke run: a few calls")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.number, args.repeat = 1, 200, 1
    if args.trees:
        run_trees(args.trees, args.rounds, args.number, args.repeat)
    else:
        import funcdiff

        print(json.dumps({"file": funcdiff.__file__, **measure(args.number, args.repeat)}))


if __name__ == "__main__":
    main()
