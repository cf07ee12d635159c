"""Elementwise primitives on the binary representation of numbers: scaling by powers of two
(`ldexp`) and reading the exponent (`frexp_exponent`), the next representable float
(`nextafter`), the sign bit, population counts and integer divisors (`gcd`, `lcm`).

Each primitive is one block: the NumPy implementation, the shape/dtype rule, its derivative
rules where it has any, then its wrapper. All broadcast like NumPy ufuncs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from funcdiff._src import dtypes
from funcdiff._src.core import ShapedArray
from funcdiff._src.errors import PrimitiveError
from funcdiff._src.interpreters.ad import is_undefined_primal
from funcdiff._src.lax._define import broadcast_shapes, check_kinds, define_primitive
from funcdiff._src.lax.structural import unbroadcast

Array = Any


def _float_of(x: ShapedArray) -> np.dtype:
    """The floating dtype NumPy's float ufuncs give an operand (integers and bools: float64)."""
    return x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)


# ---- ldexp: x * 2**n, linear in x -----------------------------------------------------------


def _ldexp_aval(x: ShapedArray, n: ShapedArray) -> ShapedArray:
    check_kinds([x], "biuf")
    if n.dtype.kind not in "biu":
        raise PrimitiveError(f"ldexp: the exponent must be an integer array, got {n.dtype}; "
                             "round it and cast it with astype(int) first")
    return ShapedArray(broadcast_shapes(x.shape, n.shape), _float_of(x),
                       x.weak_type and x.dtype.kind == "f")


def _ldexp_impl(x, n):
    return np.ldexp(x, np.asarray(n).astype(np.int32, copy=False) if np.ndim(n) else int(n))


def _ldexp_transpose(ct, x, n):
    if not is_undefined_primal(x):
        raise NotImplementedError("ldexp is linear in x only, not in the exponent")
    return [unbroadcast(ldexp(ct, n), x.aval), None]


ldexp_p = define_primitive(
    "ldexp", impl=_ldexp_impl, abstract_eval=_ldexp_aval, elementwise=True,
    jvp_partials=[lambda g, ans, x, n: ldexp(g, n), None], transpose=_ldexp_transpose,
    lacks={"array_api": "the standard has no ldexp (x * 2**n overflows where ldexp does not)"},
)


def ldexp(x: Array, n: Array) -> Array:
    """``x * 2**n`` for an integer `n`, exact (no overflow of ``2**n`` on the way)."""
    return ldexp_p.bind(x, n)


# ---- frexp's exponent (no derivative) -------------------------------------------------------


def _unary_aval(kinds: str, out_dtype: Any):
    """The shape/dtype rule of a unary primitive with a fixed result dtype."""

    def rule(x: ShapedArray) -> ShapedArray:
        check_kinds([x], kinds)
        return ShapedArray(x.shape, np.dtype(out_dtype))

    return rule


frexp_exponent_p = define_primitive(
    "frexp_exponent", impl=lambda x: np.frexp(x)[1].astype(np.int32),
    abstract_eval=_unary_aval("biuf", np.int32), elementwise=True, nondifferentiable=True,
    lacks={"array_api": "the standard has no frexp"},
)


def frexp_exponent(x: Array) -> Array:
    """The int32 exponent `e` of ``x = m * 2**e`` with ``0.5 <= |m| < 1`` (0 for 0, inf, NaN)."""
    return frexp_exponent_p.bind(x)


# ---- nextafter (piecewise constant) ---------------------------------------------------------


def _nextafter_aval(x: ShapedArray, y: ShapedArray) -> ShapedArray:
    check_kinds([x, y], "biuf")
    dt, weak = dtypes.result_type((x.dtype, x.weak_type), (y.dtype, y.weak_type))
    dt = dt if np.dtype(dt).kind == "f" else np.dtype(np.float64)
    return ShapedArray(broadcast_shapes(x.shape, y.shape), np.dtype(dt), weak)


nextafter_p = define_primitive(
    "nextafter", impl=np.nextafter, abstract_eval=_nextafter_aval, elementwise=True,
    nondifferentiable=True,
    array_api="nextafter",
)


def nextafter(x1: Array, x2: Array) -> Array:
    """The representable float after `x1` in the direction of `x2`."""
    return nextafter_p.bind(x1, x2)


# ---- sign bit (boolean result) --------------------------------------------------------------


signbit_p = define_primitive(
    "signbit", impl=np.signbit, abstract_eval=_unary_aval("biuf", np.bool_), elementwise=True,
    nondifferentiable=True,
    array_api="signbit",
)


def signbit(x: Array) -> Array:
    """Whether the sign bit is set (true for -0.0 and negative NaNs)."""
    return signbit_p.bind(x)


# ---- population count (uint8 result) --------------------------------------------------------


bitwise_count_p = define_primitive(
    "bitwise_count", impl=np.bitwise_count, abstract_eval=_unary_aval("biu", np.uint8),
    elementwise=True, nondifferentiable=True,
    lacks={"array_api": "the standard has no population count"},
)


def bitwise_count(x: Array) -> Array:
    """The number of 1 bits in ``|x|``, as uint8."""
    return bitwise_count_p.bind(x)


# ---- greatest common divisor and least common multiple (integers) ---------------------------


def _divisor_aval(name: str):
    def rule(x: ShapedArray, y: ShapedArray) -> ShapedArray:
        for a in (x, y):
            if a.dtype.kind not in "biu":
                raise PrimitiveError(f"{name}: operands must be integers, got {a.dtype}")
        dt, weak = dtypes.result_type((x.dtype, x.weak_type), (y.dtype, y.weak_type))
        dt = np.dtype(dt)
        if dt.kind == "b":
            dt = np.dtype(np.int8)
        return ShapedArray(broadcast_shapes(x.shape, y.shape), dt, weak)

    return rule


gcd_p = define_primitive(
    "gcd", impl=np.gcd, abstract_eval=_divisor_aval("gcd"), elementwise=True,
    nondifferentiable=True,
    lacks={"array_api": "the standard has no gcd"},
)
lcm_p = define_primitive(
    "lcm", impl=np.lcm, abstract_eval=_divisor_aval("lcm"), elementwise=True,
    nondifferentiable=True,
    lacks={"array_api": "the standard has no lcm"},
)


def gcd(x: Array, y: Array) -> Array:
    """The greatest common divisor of ``|x|`` and ``|y|``."""
    return gcd_p.bind(x, y)


def lcm(x: Array, y: Array) -> Array:
    """The least common multiple of ``|x|`` and ``|y|``."""
    return lcm_p.bind(x, y)
