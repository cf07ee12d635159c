"""`lax_table` records of the primitives on the binary representation of numbers
(`funcdiff._src.lax.bits`): `ldexp`, `frexp_exponent`, `nextafter`, `signbit`,
`bitwise_count`, `gcd` and `lcm`, with NumPy as the reference. Imported at the end of
`lax_table`, whose `LAX_OPS` they join."""

from __future__ import annotations

import numpy as np
from domains import NONFINITE
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
