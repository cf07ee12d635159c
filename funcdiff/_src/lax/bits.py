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
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters.ad import is_undefined_primal
from funcdiff._src.lax._define import broadcast_shapes, check_kinds, define_primitive
from funcdiff._src.lax.structural import moveaxis, unbroadcast

Array = Any


def _float_of(x: ShapedArray) -> np.dtype:
    """The floating dtype NumPy's float ufuncs give an operand (integers and bools: float64)."""
    return x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)


# ---- ldexp: x * 2**n, linear in x -----------------------------------------------------------


def _ldexp_aval(x: ShapedArray, n: ShapedArray) -> ShapedArray:
    check_kinds([x], "biuf")
    if n.dtype.kind not in "biu":
        raise PrimitiveError(
            f"the exponent must be an integer array, got {n.dtype}; "
            "round it and cast it with astype(int) first"
        )
    return ShapedArray(
        broadcast_shapes(x.shape, n.shape), _float_of(x), x.weak_type and x.dtype.kind == "f"
    )


def _ldexp_impl(x, n):
    n = np.asarray(n)
    if n.dtype.kind not in "biu":  # (`bind` then raises the shape rule's error, as jit does)
        raise TypeError(f"ldexp's exponent must be an integer array, got {n.dtype}")
    return np.ldexp(x, n.astype(np.int32, copy=False) if n.ndim else int(n))


def _ldexp_transpose(ct, x, n):
    if not is_undefined_primal(x):
        raise NotImplementedError("ldexp is linear in x only, not in the exponent")
    return [unbroadcast(ldexp(ct, n), x.aval), None]


ldexp_p = define_primitive(
    "ldexp",
    impl=_ldexp_impl,
    abstract_eval=_ldexp_aval,
    elementwise=True,
    jvp_partials=[lambda g, ans, x, n: ldexp(g, n), None],
    transpose=_ldexp_transpose,
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
    "frexp_exponent",
    impl=lambda x: np.frexp(x)[1].astype(np.int32),
    abstract_eval=_unary_aval("biuf", np.int32),
    elementwise=True,
    nondifferentiable=True,
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
    "nextafter",
    impl=np.nextafter,
    abstract_eval=_nextafter_aval,
    elementwise=True,
    nondifferentiable=True,
    array_api="nextafter",
)


def nextafter(x1: Array, x2: Array) -> Array:
    """The representable float after `x1` in the direction of `x2`."""
    return nextafter_p.bind(x1, x2)


# ---- sign bit (boolean result) --------------------------------------------------------------


signbit_p = define_primitive(
    "signbit",
    impl=np.signbit,
    abstract_eval=_unary_aval("biuf", np.bool_),
    elementwise=True,
    nondifferentiable=True,
    array_api="signbit",
)


def signbit(x: Array) -> Array:
    """Whether the sign bit is set (true for -0.0 and negative NaNs)."""
    return signbit_p.bind(x)


# ---- population count (uint8 result) --------------------------------------------------------


bitwise_count_p = define_primitive(
    "bitwise_count",
    impl=np.bitwise_count,
    abstract_eval=_unary_aval("biu", np.uint8),
    elementwise=True,
    nondifferentiable=True,
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
    "gcd",
    impl=np.gcd,
    abstract_eval=_divisor_aval("gcd"),
    elementwise=True,
    nondifferentiable=True,
    lacks={"array_api": "the standard has no gcd"},
)
lcm_p = define_primitive(
    "lcm",
    impl=np.lcm,
    abstract_eval=_divisor_aval("lcm"),
    elementwise=True,
    nondifferentiable=True,
    lacks={"array_api": "the standard has no lcm"},
)


def gcd(x: Array, y: Array) -> Array:
    """The greatest common divisor of ``|x|`` and ``|y|``."""
    return gcd_p.bind(x, y)


def lcm(x: Array, y: Array) -> Array:
    """The least common multiple of ``|x|`` and ``|y|``."""
    return lcm_p.bind(x, y)


# ---- reduce_precision: rounding to a float format with fewer bits (linear, as in JAX) -------


def _reduce_precision_aval(x: ShapedArray, *, exponent_bits, mantissa_bits) -> ShapedArray:
    if x.dtype.kind != "f":
        raise PrimitiveError(f"reduce_precision takes floating-point operands, got {x.dtype}")
    if exponent_bits < 1 or mantissa_bits < 0:
        raise PrimitiveError(
            "reduce_precision needs exponent_bits >= 1 and mantissa_bits >= 0, got "
            f"exponent_bits={exponent_bits}, mantissa_bits={mantissa_bits}"
        )
    return ShapedArray(x.shape, x.dtype, x.weak_type)


def _round_mantissa(b: np.ndarray, drop: int, one: Any) -> np.ndarray:
    """Round the bit patterns `b` to nearest, ties to even, dropping `drop` mantissa bits."""
    last_kept = (b >> drop) & one
    bias = (one << (drop - 1)) - one + last_kept
    return (b + bias) & ~((one << drop) - one)


def _clamp_exponent(b: np.ndarray, src_m: int, src_e: int, exp_bits: int, one: Any):
    """Overflow to infinity and underflow (denormals of the smaller format included) to zero."""
    exp_mask = ((one << src_e) - one) << src_m
    sign = b & (one << (src_m + src_e))
    bias, small_bias = (1 << (src_e - 1)) - 1, (1 << (exp_bits - 1)) - 1
    exponent = b & exp_mask
    over = exponent > (b.dtype.type(bias + small_bias) << src_m)
    under = exponent <= (b.dtype.type(bias - small_bias) << src_m)
    return np.where(over, sign | exp_mask, np.where(under, sign, b))


def _reduce_precision_impl(x, *, exponent_bits, mantissa_bits):
    x = np.asarray(x)
    info = np.finfo(x.dtype)
    src_m, src_e = info.nmant, info.bits - info.nmant - 1
    uint = np.dtype(f"u{x.dtype.itemsize}")
    one = uint.type(1)
    b = x.view(uint)
    if mantissa_bits < src_m:
        b = _round_mantissa(b, src_m - mantissa_bits, one)
    if exponent_bits < src_e:
        b = _clamp_exponent(b, src_m, src_e, exponent_bits, one)
    out = np.asarray(b).view(x.dtype)
    return np.where(np.isnan(x), x, out)  # rounding may carry a NaN's payload to infinity


def _reduce_precision_transpose(ct, x, **params):
    return [reduce_precision(ct, **params)]


reduce_precision_p = define_primitive(
    "reduce_precision",
    impl=_reduce_precision_impl,
    abstract_eval=_reduce_precision_aval,
    elementwise=True,
    linear=True,
    transpose=_reduce_precision_transpose,
    lacks={"array_api": "the standard has no bit casts"},
)


def reduce_precision(operand: Array, exponent_bits: int, mantissa_bits: int) -> Array:
    """`operand` rounded to the floating-point format with `exponent_bits` exponent bits and
    `mantissa_bits` mantissa bits, as XLA does: the mantissa to nearest (ties to even), values
    too large to infinity, values below the format's smallest normal number to zero (signed),
    NaNs kept; the result keeps `operand`'s dtype. Its derivative, as in JAX, is the same
    rounding of the tangent.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        x = np.array([1 / 3, 65519.0, 1e6, 1e-6])
        print(lax.reduce_precision(x, exponent_bits=5, mantissa_bits=10))  # as float16
        ```
    """
    return reduce_precision_p.bind(
        operand, exponent_bits=int(exponent_bits), mantissa_bits=int(mantissa_bits)
    )


# ---- bitcast_convert_type: the same bits read as another dtype (no derivative) --------------


def _bitcast_shape(shape: tuple[int, ...], old: np.dtype, new: np.dtype) -> tuple[int, ...]:
    """JAX's rule: equal widths keep the shape; a narrower dtype adds a trailing dimension
    of the width ratio; a wider one removes a trailing dimension that must be that ratio."""
    if (old.kind in "bc" or new.kind in "bc") and old != new:
        raise PrimitiveError(
            f"bool and complex operands can only be cast to their own "
            f"dtype, got {old} to {new}; for complex values cast the real and imaginary parts "
            "(lax.real, lax.imag)"
        )
    if old.itemsize == new.itemsize:
        return shape
    if old.itemsize > new.itemsize:
        return (*shape, old.itemsize // new.itemsize)
    ratio = new.itemsize // old.itemsize
    if not shape or shape[-1] != ratio:
        raise PrimitiveError(
            f"to read {old} of shape {shape} as the wider {new}, the "
            f"last dimension must be {ratio} ({new.itemsize} bytes / {old.itemsize} bytes)"
        )
    return shape[:-1]


def _bitcast_aval(x: ShapedArray, *, new_dtype: np.dtype) -> ShapedArray:
    return ShapedArray(_bitcast_shape(x.shape, x.dtype, new_dtype), new_dtype)


def _bitcast_impl(x, *, new_dtype):
    x = np.asarray(x)
    shape = _bitcast_shape(x.shape, x.dtype, new_dtype)
    if x.ndim == 0 or x.dtype.itemsize > new_dtype.itemsize:
        x = x.reshape(*x.shape, 1)
    return np.ascontiguousarray(x).view(new_dtype).reshape(shape)


def _bitcast_batch(axis_size, vals, dims, *, new_dtype):
    # The cast reads the last dimension only: a leading batch dimension passes through.
    (x,), (d,) = vals, dims
    return bitcast_convert_type_p.bind(moveaxis(x, d, 0), new_dtype=new_dtype), 0


bitcast_convert_type_p = define_primitive(
    "bitcast_convert_type",
    impl=_bitcast_impl,
    abstract_eval=_bitcast_aval,
    nondifferentiable=True,
    batch=_bitcast_batch,
    cost=cost_mod.memory_cost,
    lacks={"array_api": "the standard has no bit casts"},
)


def bitcast_convert_type(operand: Array, new_dtype: Any) -> Array:
    """The bits of `operand` read as `new_dtype`, as JAX's `lax.bitcast_convert_type` (and
    NumPy's ``view``): for equal widths the shape is kept; a narrower `new_dtype` adds a
    trailing dimension (``float32`` as ``uint8``: one of 4); a wider one takes the trailing
    dimension, which must hold the width ratio. Bool and complex operands are only cast to
    their own dtype. Its derivative is zero, as in JAX.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        bits = lax.bitcast_convert_type(np.array([1.0, -2.0], np.float32), np.uint32)
        print([hex(b) for b in bits.tolist()])  # sign, exponent and mantissa of each float
        print(lax.bitcast_convert_type(np.float32(1.0), np.uint8).shape)
        ```
    """
    return bitcast_convert_type_p.bind(operand, new_dtype=np.dtype(new_dtype))
