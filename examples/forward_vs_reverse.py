"""Forward versus reverse mode for the full Jacobian: where does one overtake the other?

A Jacobian of a function from n inputs to m outputs takes n forward-mode passes (one tangent
per input) or m reverse-mode passes (one cotangent per output). This example measures both
with `funcdiff.cost_sweep` on a small network, f(x) = W2 tanh(W1 x), as the shape of the
Jacobian goes from tall (few inputs, many outputs) to wide (many inputs, few outputs), prints
the counted FLOPs, the measured times and the crossover, and saves a figure when matplotlib
is installed.

    python examples/forward_vs_reverse.py            # the full sweep
    python examples/forward_vs_reverse.py --quick    # a small one, in a second or two
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

import funcdiff
import funcdiff.numpy as jnp


def network_family(hidden: int) -> Callable[[int, int], tuple[Callable[..., Any], tuple]]:
    """``(n, m) -> (f, args)`` for f(x) = W2 tanh(W1 x), from n inputs to m outputs."""

    def family(n: int, m: int) -> tuple[Callable[..., Any], tuple]:
        rng = np.random.default_rng(n * 1000 + m)
        w1 = rng.standard_normal((hidden, n)) / np.sqrt(n)
        w2 = rng.standard_normal((m, hidden)) / np.sqrt(hidden)

        def network(x: Any) -> Any:
            return w2 @ jnp.tanh(w1 @ x)

        return network, (rng.standard_normal(n),)

    family.__name__ = f"W2 tanh(W1 x), {hidden} hidden units"
    return family


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small, fast sweep")
    parser.add_argument("--output", default="forward_vs_reverse.png", help="the figure's path")
    args = parser.parse_args(argv)

    if args.quick:
        total, hidden, repeats = 16, 8, 1
    else:
        total, hidden, repeats = 1024, 256, 5
    # n * m stays fixed, so every Jacobian has the same number of entries.
    sizes = [(2**k, total // 2**k) for k in range(int(np.log2(total)) + 1)]
    sweep = funcdiff.cost_sweep(network_family(hidden), sizes, repeats=repeats)
    print(sweep)

    square = dict(zip(("n", "m"), sizes[len(sizes) // 2], strict=True))
    print(f"\nThe full report at n = {square['n']}, m = {square['m']}:\n")
    f, f_args = network_family(hidden)(square["n"], square["m"])
    print(funcdiff.cost_analysis(f, repeats=repeats)(*f_args))

    try:
        sweep.plot(args.output)
    except ImportError:
        print("\nmatplotlib is not installed, so no figure was saved "
              "(pip install matplotlib).")
    else:
        print(f"\nsaved {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
