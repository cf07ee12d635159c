"""`lax_table` records of the primitives on the binary representation of numbers
(`funcdiff._src.lax.bits`): `ldexp`, `frexp_exponent`, `nextafter`, `signbit`,
`bitwise_count`, `gcd` and `lcm`, with NumPy as the reference. Imported at the end of
`lax_table`, whose `LAX_OPS` they join."""

from __future__ import annotations

import numpy as np
from domains import NONFINITE, nonzero
from hypothesis import strategies as st
from lax_table import (
    FLOATS,
    I32,
    I64,
    U8,
    Case,
    _custom,
    _nondiff_binary,
    _nondiff_unary,
    _values,
    uniform,
)
from strategies import broadcastable_shapes

from funcdiff._src.lax import bits

INTS = (I64, I32, U8)


def _draw_ldexp(draw, dtype):
    sx, sn = draw(broadcastable_shapes(2, allow_empty=True))
    return Case((_values(draw, uniform(-2.0, 2.0), sx, dtype),
                 _values(draw, uniform(-5, 5), sn, I32)), {})


BITS_OPS = (
    # (Not marked elementwise: its operands are of different kinds, a float and an integer
    # exponent, so the weak-scalar promotion test of same-kind operands does not apply.)
    _custom("ldexp", bits.ldexp_p, bits.ldexp, np.ldexp, _draw_ldexp, 2, dtypes=FLOATS,
            linear=True),
    _nondiff_unary("frexp_exponent", bits.frexp_exponent_p, bits.frexp_exponent,
                   lambda x: np.frexp(x)[1].astype(np.int32), NONFINITE),
    _nondiff_binary("nextafter", bits.nextafter_p, bits.nextafter, np.nextafter,
                    dtypes=FLOATS),
    _nondiff_unary("signbit", bits.signbit_p, bits.signbit, np.signbit, NONFINITE,
                   dtypes=FLOATS + INTS),
    _nondiff_unary("bitwise_count", bits.bitwise_count_p, bits.bitwise_count,
                   np.bitwise_count, uniform(0, 200), dtypes=INTS),
    _nondiff_binary("gcd", bits.gcd_p, bits.gcd, np.gcd, uniform(0, 12), dtypes=INTS),
    _nondiff_binary("lcm", bits.lcm_p, bits.lcm, np.lcm, uniform(0, 12), dtypes=INTS),
)



def _draw_reduce_precision(draw, dtype):
    """float64 operands are rounded to formats at least as fine as float32, so that finite
    differences (of steps far above float32's rounding) see a slope of 1, as the derivative
    rule says; float32 operands meet the coarse formats (float16, bfloat16, 8-bit)."""
    from strategies import shapes

    shape = draw(shapes(allow_empty=True))
    fine = dtype == np.float64
    formats = [(8, 23), (11, 52), (11, 40)] if fine else [(5, 10), (8, 7), (4, 3), (8, 23)]
    exponent_bits, mantissa_bits = draw(st.sampled_from(formats))
    return Case((_values(draw, nonzero(0.5, 2.0), shape, dtype),),
                {"exponent_bits": exponent_bits, "mantissa_bits": mantissa_bits})


def _reduce_precision_reference(x, *, exponent_bits, mantissa_bits):
    """Rounding through NumPy's float16 and float32 for their formats, else rounding the
    mantissa of ``x = m * 2**e`` (normal numbers: the operands are drawn in 0.5 <= |x| <= 2)."""
    if (exponent_bits, mantissa_bits) == (5, 10):
        return x.astype(np.float16).astype(x.dtype)
    if (exponent_bits, mantissa_bits) == (8, 23):
        return x.astype(np.float32).astype(x.dtype)
    m, e = np.frexp(x)  # 0.5 <= |m| < 1: keep mantissa_bits + 1 bits of m, ties to even
    kept = np.round(np.ldexp(m, mantissa_bits + 1))
    return np.ldexp(kept, e - mantissa_bits - 1).astype(x.dtype)


BITS_OPS = BITS_OPS + (
    # Linear, as in JAX: its tangent is rounded the same way.
    _custom("reduce_precision", bits.reduce_precision_p, bits.reduce_precision,
            _reduce_precision_reference, _draw_reduce_precision, 1, dtypes=FLOATS, linear=True,
            tol=1e-2),
)


def _draw_bitcast(draw, dtype):
    """A cast to an integer dtype of any width (or to the operand's own dtype): narrower
    ones add a trailing dimension, wider ones take one of the width ratio."""
    from strategies import shapes

    new = draw(st.sampled_from([I64, I32, np.dtype(np.uint16), U8, dtype]))
    shape = draw(shapes(allow_empty=True))
    if new.itemsize > dtype.itemsize:
        shape = (*shape, new.itemsize // dtype.itemsize)
    return Case((_values(draw, uniform(-3.0, 3.0), shape, dtype),), {"new_dtype": new})


def _bitcast_reference(x, *, new_dtype):
    """The bytes of `x`, row-major, read as `new_dtype` in the shape JAX's rule gives."""
    x = np.asarray(x)
    old, new = x.dtype.itemsize, np.dtype(new_dtype).itemsize
    shape = x.shape if old == new else (*x.shape, old // new) if old > new else x.shape[:-1]
    return np.frombuffer(x.tobytes(), dtype=new_dtype).reshape(shape)


BITS_OPS = BITS_OPS + (
    _custom("bitcast_convert_type", bits.bitcast_convert_type_p, bits.bitcast_convert_type,
            _bitcast_reference, _draw_bitcast, 1, dtypes=FLOATS + INTS, differentiable=False,
            order=0),
)
