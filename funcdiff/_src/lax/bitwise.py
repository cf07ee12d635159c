"""`jax.lax`'s integer bit operations that funcdiff composes from its primitives: the logical and
arithmetic right shifts with XLA's rule for shift amounts out of range, `population_count`,
`clz` (count leading zeros) and `reduce_xor`.

XLA reads the shift amount as unsigned: an amount of the bit width or more (a negative one
included) shifts every bit out, giving 0 for a logical shift and the sign (0 or -1) for an
arithmetic one. NumPy leaves those amounts to the C compiler, so the amount is clamped first.
The bits of a signed integer are read through the unsigned type of the same width
(`convert_element_type` between them keeps the bits, two's complement). All are integer
functions with no derivative.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.lax import bits
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import shape as sh

Array = Any


def _int_dtype(fn: str, *xs: Any) -> np.dtype:
    """The one integer dtype of the operands (a Python int takes the arrays' dtype)."""
    avals = [core.get_aval(x) for x in xs]
    for a in avals:
        if a.dtype.kind not in "iu":
            raise TypeError(f"lax.{fn} takes integer operands, got {a.dtype}")
    strong = [a.dtype for a in avals if not a.weak_type]
    return strong[0] if strong else avals[0].dtype


def _unsigned(dtype: np.dtype) -> np.dtype:
    return np.dtype(f"u{dtype.itemsize}")


def _shift_amount(y: Any, dtype: np.dtype) -> Any:
    """The shift amount as unsigned (XLA's reading), clamped to the bit width - 1, and whether
    it was at least the bit width."""
    u = _unsigned(dtype)
    amount = ew.convert_element_type(ew.convert_element_type(y, dtype), u)
    width = np.asarray(8 * dtype.itemsize, u)
    out_of_range = ew.ge(amount, width)
    return ew.min(amount, width - np.asarray(1, u)), out_of_range


def shift_right_logical(x: Any, y: Any) -> Array:
    """`x` shifted right by `y` bits, filling with zeros (for signed integers too); shifting by
    the bit width or more (or by a negative amount) gives 0, as XLA.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        print(lax.shift_right_logical(np.int8(-128), np.int8(4)))
        ```
    """
    dtype = _int_dtype("shift_right_logical", x, y)
    u = _unsigned(dtype)
    amount, out_of_range = _shift_amount(y, dtype)
    bits_ = ew.convert_element_type(ew.convert_element_type(x, dtype), u)
    shifted = ew.select(out_of_range, np.zeros((), u), ew.shift_right(bits_, amount))
    return ew.convert_element_type(shifted, dtype)


def shift_right_arithmetic(x: Any, y: Any) -> Array:
    """`x` shifted right by `y` bits, filling with copies of the sign bit (for unsigned integers
    too, whose top bit is read as a sign); shifting by the bit width or more (or by a negative
    amount) gives 0 or -1, as XLA.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        print(lax.shift_right_arithmetic(np.int8(-128), np.int8(4)))
        ```
    """
    dtype = _int_dtype("shift_right_arithmetic", x, y)
    signed = np.dtype(f"i{dtype.itemsize}")
    amount, _ = _shift_amount(y, dtype)  # clamping to width - 1 already gives 0 or -1
    value = ew.convert_element_type(ew.convert_element_type(x, dtype), signed)
    shifted = ew.shift_right(value, ew.convert_element_type(amount, signed))
    return ew.convert_element_type(shifted, dtype)


def population_count(x: Any) -> Array:
    """The number of 1 bits of each element (of its two's complement for negative integers),
    in `x`'s dtype.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        print(lax.population_count(np.array([0, 7, -1], np.int32)))
        ```
    """
    dtype = _int_dtype("population_count", x)
    unsigned = ew.convert_element_type(ew.convert_element_type(x, dtype), _unsigned(dtype))
    return ew.convert_element_type(bits.bitwise_count(unsigned), dtype)


def clz(x: Any) -> Array:
    """The number of leading zero bits of each element (the bit width for 0, 0 for negative
    integers), in `x`'s dtype.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        print(lax.clz(np.array([0, 1, 255, -1], np.int32)))
        ```
    """
    dtype = _int_dtype("clz", x)
    u = _unsigned(dtype)
    v = ew.convert_element_type(ew.convert_element_type(x, dtype), u)
    shift = 1
    while shift < 8 * dtype.itemsize:  # smear the top 1 bit into every lower bit
        v = ew.bitwise_or(v, ew.shift_right(v, np.asarray(shift, u)))
        shift *= 2
    ones = ew.convert_element_type(bits.bitwise_count(v), dtype)
    return ew.sub(np.asarray(8 * dtype.itemsize, dtype), ones)


def reduce_xor(operand: Any, axes: Sequence[int]) -> Array:
    """The bitwise exclusive or of `operand`'s elements along `axes` (for booleans: whether an
    odd number are true), by pairwise halving.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        print(lax.reduce_xor(np.array([[1, 2], [4, 8]]), (0,)))
        print(lax.reduce_xor(np.array([True, True, False]), (0,)))
        ```
    """
    aval = core.get_aval(operand)
    if aval.dtype.kind not in "biu":
        raise TypeError(f"lax.reduce_xor takes booleans or integers, got {aval.dtype}")
    nd = aval.ndim
    axes = tuple(int(a) for a in axes)
    if any(not -nd <= a < builtins.max(nd, 1) for a in axes) or len(set(axes)) != len(axes):
        raise ValueError(f"lax.reduce_xor: axes {axes} are not distinct axes of shape {aval.shape}")
    axes = tuple(a % builtins.max(nd, 1) for a in axes)
    kept = [d for d in range(nd) if d not in axes]
    x = sh.transpose(operand, (*kept, *axes)) if axes else operand
    out_shape = tuple(aval.shape[d] for d in kept)
    n = int(np.prod([aval.shape[a] for a in axes], dtype=np.int64))
    x = sh.reshape(x, (*out_shape, n))
    size = 1 << builtins.max(n - 1, 0).bit_length()  # a power of two, padded with zeros
    if size != n:
        zero = np.zeros((), aval.dtype)
        x = sh.pad(x, zero, [(0, 0, 0)] * len(out_shape) + [(0, size - n, 0)])
    while size > 1:
        size //= 2
        lo, hi = [0] * (len(out_shape) + 1), [*out_shape, size]
        first = sh.slice(x, lo, hi)
        second = sh.slice(x, [*lo[:-1], size], [*out_shape, 2 * size])
        x = ew.bitwise_xor(first, second)
    if n == 0:
        return sh.broadcast_in_dim(np.zeros((), aval.dtype), out_shape, ())
    return sh.reshape(x, out_shape)


def mulhi(x: Any, y: Any) -> Array:
    """The high half of the double-width product of two integers of one dtype (the bits
    above the bit width of ``x * y``, which `lax.mul` drops), as JAX's `lax.mulhi`. Signed
    integers multiply as signed (two's complement), so ``mulhi(-5, 3)`` is -1.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        x = np.array([2**31 - 1, -5], np.int32)
        print(lax.mulhi(x, np.array([2**31 - 1, 3], np.int32)))   # (x * y) >> 32
        print(lax.mulhi(np.uint64(2**64 - 1), np.uint64(2**64 - 1)))
        ```
    """
    dtype = _int_dtype("mulhi", x, y)
    x, y = ew.convert_element_type(x, dtype), ew.convert_element_type(y, dtype)
    shape = np.broadcast_shapes(core.get_aval(x).shape, core.get_aval(y).shape)
    # At least 1-d: 0-d uint64 arithmetic in jit's code makes NumPy scalars, which warn on
    # the wrap-around used below.
    work = shape or (1,)
    x, y = (sh.broadcast_in_dim(v, work, tuple(range(len(work) - len(core.get_aval(v).shape),
                                                     len(work))))
            for v in (x, y))
    width = 8 * dtype.itemsize
    if width <= 32:  # the exact product fits in 64 bits
        wide = np.dtype(np.int64 if dtype.kind == "i" else np.uint64)
        product = ew.mul(ew.convert_element_type(x, wide), ew.convert_element_type(y, wide))
        high = ew.convert_element_type(ew.shift_right(product, np.asarray(width, wide)), dtype)
    else:
        high = _mulhi_64(x, y, dtype)
    return sh.reshape(high, shape) if not shape else high


def _mulhi_64(x: Any, y: Any, dtype: np.dtype) -> Array:
    """The high 64 bits of a 64 x 64-bit product, from four 32 x 32-bit partial products."""
    u = np.dtype(np.uint64)
    ux, uy = ew.convert_element_type(x, u), ew.convert_element_type(y, u)
    mask, half = np.asarray(0xFFFFFFFF, u), np.asarray(32, u)
    x_lo, x_hi = ew.bitwise_and(ux, mask), ew.shift_right(ux, half)
    y_lo, y_hi = ew.bitwise_and(uy, mask), ew.shift_right(uy, half)
    lo_hi, hi_lo = ew.mul(x_lo, y_hi), ew.mul(x_hi, y_lo)
    middle = ew.add(ew.add(ew.shift_right(ew.mul(x_lo, y_lo), half), ew.bitwise_and(lo_hi, mask)),
                    ew.bitwise_and(hi_lo, mask))
    high = ew.add(ew.add(ew.mul(x_hi, y_hi), ew.shift_right(lo_hi, half)),
                  ew.add(ew.shift_right(hi_lo, half), ew.shift_right(middle, half)))
    if dtype.kind == "i":  # two's complement: x * y = ux * uy - 2**64 * (y if x < 0) - ...
        zero = np.zeros((), u)
        high = ew.sub(high, ew.select(ew.lt(x, np.zeros((), dtype)), uy, zero))
        high = ew.sub(high, ew.select(ew.lt(y, np.zeros((), dtype)), ux, zero))
    return ew.convert_element_type(high, dtype)
