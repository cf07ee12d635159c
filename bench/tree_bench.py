"""Small-pytree operations of `funcdiff.tree_util`, which every transformation runs on its
arguments and results: A/B of two funcdiff trees in one process, or one tree against Python
written by hand.

The cases: `tree_map` over two dicts of 6 leaves, flattening a flat dict and a nested tree
(dicts, lists, tuples, None, arrays), unflattening it, `flatten_up_to` (what `tree_map` does
with its second tree), flattening with `is_leaf` and with key paths.

``--trees OLD NEW`` loads ``funcdiff/_src/tree_util.py`` of each tree (a directory holding a
``funcdiff`` package, e.g. a worktree of an older commit) as its own module in this process
(it imports only the standard library), and times the same case of both trees in every round,
in alternating order: the ratio NEW/OLD is taken within a round, so a change in the machine's
load moves both sides alike. Without ``--trees``, this checkout's functions are timed against
the same work written by hand for these particular trees (the floor).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/tree_bench.py --trees OLD NEW
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/tree_bench.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/tree_bench.py --quick
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from _paired import header, paired_ratios

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

A = np.ones(3)
D1 = {k: 1.0 for k in "abcdef"}
D2 = {k: 2.0 for k in "abcdef"}
NESTED = {
    "layers": [{"w": A, "b": A}, {"w": A, "b": A}],
    "opt": (1.0, (2.0, 3.0)),
    "step": 0,
    "none": None,
}


def _second(x: Any, y: Any) -> Any:
    return y


def load_tree_util(tree: str, name: str) -> Any:
    """`funcdiff/_src/tree_util.py` of `tree`, loaded as the module `name`."""
    path = os.path.join(tree, "funcdiff", "_src", "tree_util.py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and typing look their module up by name
    spec.loader.exec_module(module)
    return module


def cases(tu: Any) -> dict[str, Callable[[], Any]]:
    """The timed calls of one tree_util module."""
    leaves, treedef = tu.tree_flatten(NESTED)
    return {
        "tree_map over two dicts of 6 leaves": lambda: tu.tree_map(_second, D1, D2),
        "tree_flatten, dict of 6 leaves": lambda: tu.tree_flatten(D1),
        "tree_flatten, nested tree (13 nodes)": lambda: tu.tree_flatten(NESTED),
        "tree_unflatten, nested tree": lambda: tu.tree_unflatten(treedef, leaves),
        "flatten_up_to, nested tree": lambda: treedef.flatten_up_to(NESTED),
        "tree_flatten with is_leaf, nested tree": lambda: tu.tree_flatten(
            NESTED, is_leaf=lambda x: x is None
        ),
        "tree_flatten_with_path, nested tree": lambda: tu.tree_flatten_with_path(NESTED),
    }


def _flatten_by_hand(x: Any, out: list[Any]) -> list[Any]:
    t = type(x)
    if t is dict:
        for k in sorted(x):
            _flatten_by_hand(x[k], out)
    elif t is list or t is tuple:
        for c in x:
            _flatten_by_hand(c, out)
    elif x is not None:
        out.append(x)
    return out


def by_hand() -> dict[str, Callable[[], Any]]:
    """The floor of each case: the same result for these trees, written directly."""
    leaves = _flatten_by_hand(NESTED, [])

    def rebuild() -> Any:
        b0, w0, b1, w1, o1, o2, o3, s = leaves
        return {
            "layers": [{"b": b0, "w": w0}, {"b": b1, "w": w1}],
            "none": None,
            "opt": (o1, (o2, o3)),
            "step": s,
        }

    return {
        "tree_map over two dicts of 6 leaves": lambda: {
            k: _second(D1[k], D2[k]) for k in sorted(D1)
        },
        "tree_flatten, dict of 6 leaves": lambda: [D1[k] for k in sorted(D1)],
        "tree_flatten, nested tree (13 nodes)": lambda: _flatten_by_hand(NESTED, []),
        "tree_unflatten, nested tree": rebuild,
        "flatten_up_to, nested tree": lambda: _flatten_by_hand(NESTED, []),
        "tree_flatten with is_leaf, nested tree": lambda: _flatten_by_hand(NESTED, []),
        "tree_flatten_with_path, nested tree": lambda: _flatten_by_hand(NESTED, []),
    }


def _calibrate(fn: Callable[[], Any], target: float) -> int:
    import time

    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - start >= target / 4 or n >= 1 << 20:
            return max(1, int(n * target / max(time.perf_counter() - start, 1e-9)))
        n *= 4


def run(sides: list[tuple[str, dict[str, Callable[[], Any]]]], rounds: int, target: float) -> None:
    """Time every case of every side in interleaved rounds; print each side's median time and
    the per-round ratio to the first side (median [quartiles])."""
    names = [name for name, _ in sides]
    print(
        "| case | "
        + " | ".join(f"{n} (us)" for n in names)
        + " | "
        + " | ".join(f"{n} / {names[0]}" for n in names[1:])
        + " |"
    )
    print("|---|" + "---:|" * (2 * len(names) - 1))
    for case in sides[0][1]:
        calls = [(name, table[case]) for name, table in sides]
        number = _calibrate(calls[-1][1], target)
        results = paired_ratios(calls, rounds, number=number)
        times = [f"{results[n][0] * 1e6:.2f}" for n in names]
        ratios = []
        for n in names[1:]:
            q1, med, q3 = np.percentile(results[n][1], [25, 50, 75])
            ratios.append(f"{med:.3f} [{q1:.3f}-{q3:.3f}]")
        print(f"| {case} | " + " | ".join(times + ratios) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", nargs="+", help="A/B: funcdiff trees, the first the base")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument(
        "--target", type=float, default=0.002, help="seconds per sample (one case, one side)"
    )
    parser.add_argument("--quick", action="store_true", help="a few seconds, for smoke tests")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.target = 5, 0.0002
    print(header("Small-pytree operations of funcdiff.tree_util"))
    if args.trees:
        sides = [
            (os.path.basename(os.path.abspath(t)), cases(load_tree_util(t, f"_tree_util_{i}")))
            for i, t in enumerate(args.trees)
        ]
        print(f"{args.rounds} interleaved rounds per case; ratios per round to {sides[0][0]}\n")
    else:
        sides = [("by hand", by_hand()), ("funcdiff", cases(load_tree_util(_ROOT, "_tree_util")))]
        print(f"{args.rounds} interleaved rounds per case; ratios per round to Python by hand\n")
    run(sides, args.rounds, args.target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
