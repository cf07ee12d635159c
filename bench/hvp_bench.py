"""Hessian-vector products by forward-over-reverse, side by side in one run (issue #20, W6).

``jit(lambda x, v: jvp(grad(rosenbrock), (x,), (v,))[1])`` on the Rosenbrock function of
n = 1000 variables, against the Hessian-vector product written by hand in NumPy (the floor)
and ``jax.jit`` of the same composition when JAX is installed. Rounds are interleaved and each
ratio is taken within a round (see `_paired.py`).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/hvp_bench.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/hvp_bench.py --quick
"""

from __future__ import annotations

import os
import sys

# Benchmark this checkout, whatever funcdiff may be installed.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse  # noqa: E402

import numpy as np  # noqa: E402
from _paired import header, paired_ratios, ratio_table  # noqa: E402

import funcdiff  # noqa: E402
import funcdiff.numpy as jnp  # noqa: E402

try:  # optional peer
    import jax
    import jax.numpy as jjnp

    jax.config.update("jax_enable_x64", True)
except ImportError:  # pragma: no cover - depends on the machine
    jax = None


def rosenbrock(x, np_like=jnp):
    return np_like.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def hvp_by_hand(x, v):
    """The floor: the Rosenbrock Hessian is tridiagonal; multiply by its three diagonals."""
    a, b, va, vb = x[:-1], x[1:], v[:-1], v[1:]
    out = np.zeros_like(x)
    out[:-1] = (1200.0 * a * a - 400.0 * b + 2.0) * va - 400.0 * a * vb
    out[1:] += 200.0 * vb - 400.0 * a * va
    return out


def hvp(x, v):
    return funcdiff.jvp(funcdiff.grad(rosenbrock), (x,), (v,))[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--number", type=int, default=20, help="calls per timed sample")
    parser.add_argument("--quick", action="store_true", help="a few seconds, for smoke tests")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.number = 10, 5
    rng = np.random.default_rng(0)
    x, v = rng.normal(size=args.n), rng.normal(size=args.n)
    jitted = funcdiff.jit(hvp)
    np.testing.assert_allclose(jitted(x, v), hvp_by_hand(x, v), rtol=1e-10)
    calls = [
        ("hand-written NumPy", lambda: hvp_by_hand(x, v)),
        ("funcdiff jit(jvp(grad))", lambda: jitted(x, v)),
    ]
    if jax is not None:  # pragma: no cover - optional peer
        jh = jax.jit(lambda x, v: jax.jvp(jax.grad(lambda x: rosenbrock(x, jjnp)), (x,), (v,))[1])
        jx, jv = jjnp.asarray(x), jjnp.asarray(v)
        np.testing.assert_allclose(np.asarray(jh(jx, jv)), hvp_by_hand(x, v), rtol=1e-10)
        calls.append(("jax.jit(jax.jvp(jax.grad))", lambda: jh(jx, jv).block_until_ready()))
    results = paired_ratios(calls, args.rounds, args.number)
    print(header(f"Hessian-vector product of Rosenbrock, n = {args.n}"))
    print(
        f"{args.rounds} interleaved rounds of {args.number} calls each; "
        "JAX " + (jax.__version__ if jax is not None else "not installed") + "\n"
    )
    print(ratio_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
