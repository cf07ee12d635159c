# Over 600 lines: one short wrapper per NumPy elementwise function (60 of them).
"""Elementwise functions of `funcdiff.numpy`, with NumPy's names, broadcasting and dtypes.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes, errors
from funcdiff._src.array import Array as _ArrayType
from funcdiff._src.core import ShapedArray, Tracer
from funcdiff._src.lax import bits
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import indexing as lax_indexing
from funcdiff._src.lax import reductions as red
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax import transcendental as tr
from funcdiff._src.numpy import sorting
from funcdiff._src.numpy._util import (
    Array,
    ArrayLike,
    as_arrays,
    asarray,
    aval,
    constant,
    promote,
    promote_inexact,
    promote_pair,
)

# ---- arithmetic -----------------------------------------------------------------------------


def add(x: ArrayLike, y: ArrayLike, /) -> Array:
    """Elementwise ``x + y`` (booleans: logical or, as in NumPy)."""
    x, y, dtype = promote_pair(x, y)
    if dtype.kind == "b":
        return ew.bitwise_or(x, y)
    return ew.add_p.bind(x, y)  # (`bind` itself: the eager hot path, one call fewer)


def subtract(x: ArrayLike, y: ArrayLike, /) -> Array:
    x, y, _ = promote_pair(x, y)
    return ew.sub_p.bind(x, y)


def multiply(x: ArrayLike, y: ArrayLike, /) -> Array:
    x, y, dtype = promote_pair(x, y)
    if dtype.kind == "b":
        return ew.bitwise_and(x, y)
    return ew.mul_p.bind(x, y)


def divide(x: ArrayLike, y: ArrayLike, /) -> Array:
    """True division; integers are divided as float64, as in NumPy."""
    x, y = promote_inexact(x, y)
    return ew.div(x, y)


true_divide = divide


def floor_divide(x: ArrayLike, y: ArrayLike, /) -> Array:
    """``x // y``. Floats follow NumPy's algorithm, consistent with `remainder`: the quotient
    is ``(x - x % y) / y`` rounded to the nearest integer (``1.0 // 0.1`` is 9.0, not 10.0)."""
    x, y = _bool_as_int8(*promote(x, y))
    if dtypes.is_inexact(aval(x).dtype) or dtypes.is_inexact(aval(y).dtype):
        return _floor_divide_float(x, y)
    return _floor_divide_int(x, y)


def _floor_divide_float(x: Array, y: Array) -> Array:
    # NumPy's npy_divmod: divide the exact multiple of y, then round (no derivative).
    mod = ew.rem(x, y)
    quotient = ew.div(ew.sub(x, mod), y)
    adjust = ew.bitwise_and(ew.ne(mod, 0), ew.ne(ew.lt(y, 0), ew.lt(mod, 0)))
    quotient = ew.select(adjust, ew.sub(quotient, 1), quotient)
    floored = ew.floor(quotient)
    floored = ew.select(ew.gt(ew.sub(quotient, floored), 0.5), ew.add(floored, 1), floored)
    return ew.select(ew.eq(y, 0), ew.div(x, y), floored)


def _floor_divide_int(x: Array, y: Array) -> Array:
    return ew.floor_divide(x, y)


def negative(x: ArrayLike, /) -> Array:
    return ew.neg(asarray(x))


def positive(x: ArrayLike, /) -> Array:
    return core.unchanged(asarray(x))


def power(x: ArrayLike, y: ArrayLike, /) -> Array:
    """``x ** y``. A static integer exponent uses repeated multiplication (exact for negative
    bases); otherwise the power is taken in floating point."""
    if isinstance(y, int | np.integer) and not isinstance(y, bool):
        x = asarray(x)
        if int(y) < 0 and not dtypes.is_inexact(aval(x).dtype):
            raise ValueError("Integers to negative integer powers are not allowed.")
        return ew.integer_pow(x, int(y))
    x, y = promote(x, y)
    dt, _ = dtypes.result_type((aval(x).dtype, aval(x).weak_type),
                               (aval(y).dtype, aval(y).weak_type))
    if dt.kind == "b":
        raise TypeError("power is not defined for booleans")
    if not dtypes.is_inexact(dt):
        return _integer_power(x, y)
    return tr.pow(x, y)


def _integer_power(x: Array, y: Array) -> Array:
    """Integer ``x ** y`` for an integer array exponent, by binary exponentiation over the
    bits of `y` (exact, with NumPy's wrap-around on overflow). Negative exponents raise when
    `y` is concrete, as in NumPy; a traced negative exponent gives 0."""
    vx, vy = aval(x), aval(y)
    dt, weak = dtypes.result_type((vx.dtype, vx.weak_type), (vy.dtype, vy.weak_type))
    x = ew.convert_element_type(x, dt)
    y_value = core.concrete_or_none(y)
    if y_value is not None:
        y_value = np.asarray(y_value)
        if y_value.dtype.kind == "i" and np.any(y_value < 0):
            raise ValueError("Integers to negative integer powers are not allowed.")
        bits = int(np.max(y_value)).bit_length() if y_value.size else 0
    else:
        bits = vy.dtype.itemsize * 8
    acc: Array = np.ones(np.broadcast_shapes(vx.shape, vy.shape), dt)
    base = x
    for bit in range(bits):
        take = ew.ne(ew.bitwise_and(ew.shift_right(y, bit), 1), 0)
        acc = ew.select(take, ew.mul(acc, base), acc)
        if bit + 1 < bits:
            base = ew.mul(base, base)
    if y_value is None and vy.dtype.kind == "i":
        acc = ew.select(ew.lt(y, 0), ew.mul(acc, 0), acc)
    return ew.convert_element_type(acc, dt, weak)


def float_power(x: ArrayLike, y: ArrayLike, /) -> Array:
    """``x ** y`` computed in at least float64 (or complex128), as `numpy.float_power`."""
    x, y = promote_inexact(x, y)
    target = np.dtype(np.complex128 if dtypes.is_complex(aval(x).dtype) else np.float64)
    return tr.pow(ew.convert_element_type(x, target), ew.convert_element_type(y, target))


def square(x: ArrayLike, /) -> Array:
    return ew.integer_pow(_bool_as_int8(asarray(x))[0], 2)


def _bool_as_int8(*xs: Array) -> tuple[Array, ...]:
    """Boolean operands as int8, as NumPy's arithmetic ufuncs take them (``True // True`` is
    ``int8(1)``); the lax primitives accept no booleans."""
    return tuple(ew.convert_element_type(x, np.int8, aval(x).weak_type)
                 if aval(x).dtype.kind == "b" else x for x in xs)


def reciprocal(x: ArrayLike, /) -> Array:
    """``1 / x``. For integers, NumPy's integer division ``1 // x`` truncated toward zero:
    ``x`` where ``|x| == 1``, otherwise 0."""
    (x,) = _bool_as_int8(asarray(x))
    dt = aval(x).dtype
    if dt.kind in "iu":
        unit = ew.eq(x, 1) if dt.kind == "u" else ew.bitwise_or(ew.eq(x, 1), ew.eq(x, -1))
        return ew.select(unit, x, ew.mul(x, 0))
    return ew.div(np.ones((), dt) if not aval(x).weak_type else 1.0, x)


def remainder(x: ArrayLike, y: ArrayLike, /) -> Array:
    """Remainder of floor division: the result has the sign of `y` (NumPy's ``%``)."""
    x, y = _bool_as_int8(*promote(x, y))
    r = ew.rem(x, y)
    fix = ew.bitwise_and(ew.ne(r, 0), ew.ne(ew.lt(r, 0), ew.lt(y, 0)))
    return ew.select(fix, ew.add(r, y), r)


mod = remainder


def fmod(x: ArrayLike, y: ArrayLike, /) -> Array:
    """Remainder of truncated division: the result has the sign of `x`."""
    x, y = _bool_as_int8(*promote(x, y))
    return ew.rem(x, y)


def absolute(x: ArrayLike, /) -> Array:
    x = asarray(x)
    return core.unchanged(x) if aval(x).dtype.kind == "b" else ew.abs(x)


abs = absolute  # noqa: A001


def fabs(x: ArrayLike, /) -> Array:
    return ew.abs(promote_inexact(x)[0])


def sign(x: ArrayLike, /) -> Array:
    return ew.sign(asarray(x))


def maximum(x: ArrayLike, y: ArrayLike, /) -> Array:
    """Elementwise maximum, propagating NaN; at ties the gradient is shared equally."""
    x, y = promote(x, y)
    return ew.max(x, y)


def minimum(x: ArrayLike, y: ArrayLike, /) -> Array:
    x, y = promote(x, y)
    return ew.min(x, y)


def fmax(x: ArrayLike, y: ArrayLike, /) -> Array:
    """Elementwise maximum ignoring NaN. At ties the derivative goes to `y`, as in JAX."""
    x, y = promote(x, y)
    return where(ew.bitwise_or(ew.gt(x, y), isnan(y)), x, y)


def fmin(x: ArrayLike, y: ArrayLike, /) -> Array:
    """Elementwise minimum ignoring NaN. At ties the derivative goes to `y`, as in JAX."""
    x, y = promote(x, y)
    return where(ew.bitwise_or(ew.lt(x, y), isnan(y)), x, y)


def clip(a: ArrayLike, a_min: ArrayLike | None = None, a_max: ArrayLike | None = None) -> Array:
    """Limit values to ``[a_min, a_max]`` (either bound may be None)."""
    a = asarray(a)
    if a_min is not None:
        a, lo = promote(a, a_min)
        a = ew.max(a, lo)
    if a_max is not None:
        a, hi = promote(a, a_max)
        a = ew.min(a, hi)
    return core.unchanged(a)


# ---- exponentials and logarithms ------------------------------------------------------------


def _named(fn, name):
    def wrapped(x: ArrayLike, /) -> Array:
        # (A Python float or an inexact array needs no promotion: the eager hot path, inline.)
        t = type(x)
        if t is float or ((t is np.ndarray or t is _ArrayType) and x.dtype.kind in "fc"):
            return fn(x)
        if isinstance(x, Tracer) and x.aval.dtype.kind in "fc":  # (the staging hot path)
            return fn(x)
        return fn(promote_inexact(x)[0])

    wrapped.__name__ = wrapped.__qualname__ = name
    wrapped.__doc__ = f"Elementwise `numpy.{name}`."
    return wrapped


def _inexact_unary(lax_fn):
    fn = _named(lax_fn, lax_fn.__name__)
    fn.__doc__ = f"Elementwise `{lax_fn.__name__}`, as `numpy.{lax_fn.__name__}`."
    return fn


exp = _inexact_unary(tr.exp)
expm1 = _inexact_unary(tr.expm1)
log = _inexact_unary(tr.log)
log1p = _inexact_unary(tr.log1p)
sqrt = _inexact_unary(tr.sqrt)
cbrt = _inexact_unary(tr.cbrt)
sin = _inexact_unary(tr.sin)
cos = _inexact_unary(tr.cos)
tan = _inexact_unary(tr.tan)
sinh = _inexact_unary(tr.sinh)
cosh = _inexact_unary(tr.cosh)
tanh = _inexact_unary(tr.tanh)


arcsin = _named(tr.asin, "arcsin")
arccos = _named(tr.acos, "arccos")
arctan = _named(tr.atan, "arctan")
arcsinh = _named(tr.asinh, "arcsinh")
arccosh = _named(tr.acosh, "arccosh")
arctanh = _named(tr.atanh, "arctanh")


def arctan2(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    x1, x2 = promote_inexact(x1, x2)
    return tr.atan2(x1, x2)


def exp2(x: ArrayLike, /) -> Array:
    """``2 ** x`` (exact at integers, as `numpy.exp2`)."""
    x = promote_inexact(x)[0]
    two = 2.0 if aval(x).weak_type else np.asarray(2.0, aval(x).dtype)
    return tr.pow(two, x)


def log2(x: ArrayLike, /) -> Array:
    x = promote_inexact(x)[0]
    return ew.div(tr.log(x), math.log(2.0))


def log10(x: ArrayLike, /) -> Array:
    x = promote_inexact(x)[0]
    return ew.div(tr.log(x), math.log(10.0))


def logaddexp(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """``log(exp(x1) + exp(x2))`` without overflow."""
    x1, x2 = promote_inexact(x1, x2)
    with np.errstate(invalid="ignore"):  # inf - inf, handled below (NumPy does not warn)
        delta = ew.sub(x1, x2)
    # The larger plus log1p(exp(smaller - larger)), written per branch as an analytic function
    # of (x1, x2): at ties the branch taken is still the whole function, so derivatives of
    # every order are right there (max + log1p(exp(-|x1 - x2|)) has zero second derivative
    # at x1 == x2). The exponent of the branch not taken is replaced by 0 (no overflow, and
    # no 0 * inf in reverse mode).
    first = ew.gt(x1, x2)
    zero = ew.zeros_like(delta)
    from_x1 = ew.add(x1, tr.log1p(tr.exp(ew.select(first, ew.neg(delta), zero))))
    from_x2 = ew.add(x2, tr.log1p(tr.exp(ew.select(first, zero, delta))))
    out = ew.select(first, from_x1, from_x2)
    # Equal infinities give delta = nan; their sum is the right answer there.
    with np.errstate(invalid="ignore"):
        return where(isnan(delta), ew.add(x1, x2), out)


def logaddexp2(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    x1, x2 = promote_inexact(x1, x2)
    ln2 = math.log(2.0)
    return ew.div(logaddexp(ew.mul(x1, ln2), ew.mul(x2, ln2)), ln2)


def hypot(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """``sqrt(x1**2 + x2**2)`` without overflow. As in JAX, it is computed from the larger
    magnitude ``b`` and the smaller ``s`` as ``b * sqrt(1 + (s/b)**2)``, so its derivative at
    (0, 0) is (0.5, 0.5), not NaN."""
    x1, x2 = promote_inexact(x1, x2)
    a1, a2 = ew.abs(x1), ew.abs(x2)
    big, small = ew.max(a1, a2), ew.min(a1, a2)
    zero = ew.eq(big, 0)
    ratio = ew.div(small, where(zero, 1.0, big))
    out = where(zero, big, ew.mul(big, tr.sqrt(ew.add(1.0, ew.mul(ratio, ratio)))))
    return where(ew.bitwise_or(ew.eq(a1, math.inf), ew.eq(a2, math.inf)), math.inf, out)


def deg2rad(x: ArrayLike, /) -> Array:
    return ew.mul(promote_inexact(x)[0], math.pi / 180.0)


def rad2deg(x: ArrayLike, /) -> Array:
    return ew.mul(promote_inexact(x)[0], 180.0 / math.pi)


radians = deg2rad
degrees = rad2deg


def sinc(x: ArrayLike, /) -> Array:
    """``sin(pi x) / (pi x)``, 1 at 0."""
    x = promote_inexact(x)[0]
    # Near 0, the Taylor polynomial 1 - z^2/6 + z^4/120 (z = pi x): exact there to rounding,
    # and it gives the right derivatives at 0 (a `where` on a constant 1 would give zero
    # second derivatives).
    pix = ew.mul(x, math.pi)
    small = ew.lt(ew.abs(pix), 1e-2)
    safe = where(small, 1.0, pix)
    z2 = ew.mul(where(small, pix, 0.0), where(small, pix, 0.0))
    taylor = ew.add(1.0, ew.mul(z2, ew.add(-1.0 / 6.0, ew.mul(z2, 1.0 / 120.0))))
    return where(small, taylor, ew.div(tr.sin(safe), safe))


# ---- rounding -------------------------------------------------------------------------------


def floor(x: ArrayLike, /) -> Array:
    x = asarray(x)
    return core.unchanged(x) if not dtypes.is_inexact(aval(x).dtype) else ew.floor(x)


def ceil(x: ArrayLike, /) -> Array:
    x = asarray(x)
    return core.unchanged(x) if not dtypes.is_inexact(aval(x).dtype) else ew.ceil(x)


def trunc(x: ArrayLike, /) -> Array:
    x = asarray(x)
    return core.unchanged(x) if not dtypes.is_inexact(aval(x).dtype) else ew.trunc(x)


fix = trunc


def round(a: ArrayLike, decimals: int = 0) -> Array:  # noqa: A001
    """Round half to even to the given number of decimals (the real and imaginary parts of a
    complex array separately, as NumPy and JAX)."""
    a = asarray(a)
    dt = aval(a).dtype
    if dt.kind == "c":
        return ew.complex(round(ew.real(a), decimals), round(ew.imag(a), decimals))
    if not dtypes.is_inexact(dt):
        if decimals >= 0 or dt.kind == "b":
            return core.unchanged(a)
        # Integers to tens, hundreds...: round half to even in float64, as NumPy does.
        scale = 10.0 ** (-decimals)
        as_float = ew.convert_element_type(a, np.float64)
        return ew.convert_element_type(ew.mul(ew.round(ew.div(as_float, scale)), scale), dt,
                                       aval(a).weak_type)
    if decimals == 0:
        return ew.round(a)
    if decimals < 0:
        scale = 10.0 ** (-decimals)
        return ew.mul(ew.round(ew.div(a, scale)), scale)
    scale = 10.0 ** decimals
    return ew.div(ew.round(ew.mul(a, scale)), scale)


around = round


def rint(x: ArrayLike, /) -> Array:
    """Round to the nearest integer (half to even); integers become float64, as in NumPy."""
    return round(promote_inexact(x)[0])


# ---- complex numbers ------------------------------------------------------------------------


def real(x: ArrayLike, /) -> Array:
    x = asarray(x)
    return ew.real(x) if dtypes.is_complex(aval(x).dtype) else core.unchanged(x)


def imag(x: ArrayLike, /) -> Array:
    x = asarray(x)
    if dtypes.is_complex(aval(x).dtype):
        return ew.imag(x)
    return ew.zeros_like(x) if aval(x).weak_type else constant(aval(x).shape, aval(x).dtype)


def conjugate(x: ArrayLike, /) -> Array:
    x = asarray(x)
    if aval(x).dtype.kind == "b":
        return ew.convert_element_type(x, np.int8)  # NumPy has no boolean loop
    return ew.conj(x) if dtypes.is_complex(aval(x).dtype) else core.unchanged(x)


conj = conjugate


def angle(z: ArrayLike, deg: bool = False) -> Array:
    """The argument of a complex number (0 or pi for reals)."""
    z = asarray(z)
    if dtypes.is_complex(aval(z).dtype):
        out = tr.atan2(ew.imag(z), ew.real(z))
    else:
        z = promote_inexact(z)[0]
        out = tr.atan2(np.zeros((), aval(z).dtype), z)
    return rad2deg(out) if deg else out


# ---- comparisons, logic and tests -----------------------------------------------------------


def _comparison(lax_fn, name):
    def fn(x: ArrayLike, y: ArrayLike, /) -> Array:
        x, y = promote(x, y)
        return lax_fn(x, y)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise `numpy.{name}` (no derivative)."
    return fn


equal = _comparison(ew.eq, "equal")
not_equal = _comparison(ew.ne, "not_equal")
less = _comparison(ew.lt, "less")
less_equal = _comparison(ew.le, "less_equal")
greater = _comparison(ew.gt, "greater")
greater_equal = _comparison(ew.ge, "greater_equal")


def _to_bool(x: ArrayLike) -> Array:
    x = asarray(x)
    if aval(x).dtype.kind == "b":
        return x
    return ew.ne(x, 0)


def logical_and(x: ArrayLike, y: ArrayLike, /) -> Array:
    return ew.bitwise_and(_to_bool(x), _to_bool(y))


def logical_or(x: ArrayLike, y: ArrayLike, /) -> Array:
    return ew.bitwise_or(_to_bool(x), _to_bool(y))


def logical_xor(x: ArrayLike, y: ArrayLike, /) -> Array:
    return ew.bitwise_xor(_to_bool(x), _to_bool(y))


def logical_not(x: ArrayLike, /) -> Array:
    return ew.bitwise_not(_to_bool(x))


def _bitwise(lax_fn, name):
    def fn(x: ArrayLike, y: ArrayLike, /) -> Array:
        x, y = promote(x, y)
        return lax_fn(x, y)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise `numpy.{name}` of integers or booleans (no derivative)."
    return fn


bitwise_and = _bitwise(ew.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(ew.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(ew.bitwise_xor, "bitwise_xor")
left_shift = _bitwise(ew.shift_left, "left_shift")
right_shift = _bitwise(ew.shift_right, "right_shift")


def invert(x: ArrayLike, /) -> Array:
    return ew.bitwise_not(asarray(x))


bitwise_not = invert


def isfinite(x: ArrayLike, /) -> Array:
    x = asarray(x)
    if not dtypes.is_inexact(aval(x).dtype):
        return constant(aval(x).shape, bool, True)
    if dtypes.is_complex(aval(x).dtype):
        return logical_and(ew.is_finite(ew.real(x)), ew.is_finite(ew.imag(x)))
    return ew.is_finite(x)


def isnan(x: ArrayLike, /) -> Array:
    x = asarray(x)
    if not dtypes.is_inexact(aval(x).dtype):
        return constant(aval(x).shape, bool)
    return ew.ne(x, x)


def isinf(x: ArrayLike, /) -> Array:
    x = asarray(x)
    if not dtypes.is_inexact(aval(x).dtype):
        return constant(aval(x).shape, bool)
    if dtypes.is_complex(aval(x).dtype):
        return logical_or(isinf(ew.real(x)), isinf(ew.imag(x)))
    return logical_and(logical_not(isfinite(x)), logical_not(isnan(x)))


def copysign(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """`x1` with the sign bit of `x2` (``copysign(1.0, -0.0)`` is ``-1.0``, as in NumPy)."""
    x1, x2 = promote_inexact(x1, x2)
    return where(bits.signbit(x2), ew.neg(ew.abs(x1)), ew.abs(x1))


def heaviside(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    x1, x2 = promote_inexact(x1, x2)
    return where(ew.lt(x1, 0), 0.0, where(ew.gt(x1, 0), 1.0, x2))


def nan_to_num(x: ArrayLike, copy: bool = True, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Array:
    """Replace NaN and infinities by finite numbers (the dtype's largest by default)."""
    x = asarray(x)
    dt = aval(x).dtype
    if not dtypes.is_inexact(dt):
        return core.unchanged(x)
    if dtypes.is_complex(dt):
        return ew.complex(nan_to_num(ew.real(x), copy, nan, posinf, neginf),
                          nan_to_num(ew.imag(x), copy, nan, posinf, neginf))
    info = np.finfo(dt)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    out = where(isnan(x), nan, x)
    out = where(ew.eq(out, np.inf), posinf, out)
    return where(ew.eq(out, -np.inf), neginf, out)


# ---- selection ------------------------------------------------------------------------------


def where(condition: ArrayLike, x: ArrayLike | None = None, y: ArrayLike | None = None, /,
          *, size: int | None = None, fill_value: ArrayLike | tuple[ArrayLike, ...] | None = None
          ) -> Any:
    """``x`` where `condition` holds, else ``y``, broadcasting all three. The one-argument
    form is `nonzero` (the indices of the true elements); `size` and `fill_value` belong to
    it and give it a static result length, so that it works under `jit` and `vmap`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        c = np.array([True, False, True])
        assert jnp.where(c, 1.0, -1.0).tolist() == [1.0, -1.0, 1.0]
        f = funcdiff.jit(lambda c: jnp.where(c, size=3, fill_value=-1))
        assert f(c)[0].tolist() == [0, 2, -1]
        ```
    """
    if x is None and y is None:
        return nonzero(condition, size=size, fill_value=fill_value)
    if x is None or y is None:
        raise ValueError("where takes either one argument or three")
    if size is not None or fill_value is not None:
        raise ValueError("where: size and fill_value apply only to the one-argument form "
                         "where(condition)")
    x, y = _same_dtype(*promote(x, y))
    cond = _to_bool(condition)
    return ew.select_n(cond, y, x)


def _same_dtype(*args: Array) -> list[Array]:
    """Give weakly typed operands the common dtype too (`select_n` wants one dtype, also for
    the tangents of its cases): a Python scalar becomes a Python scalar of the result's kind
    (still weak) or a NumPy scalar of the result's dtype; a weak tracer is converted."""
    avals = [aval(a) for a in args]
    dtype, weak = dtypes.result_type(*((v.dtype, v.weak_type) for v in avals))
    out = []
    for a, v in zip(args, avals):
        if v.dtype == dtype:
            out.append(a)
        elif type(a) in core._PY_SCALARS:
            out.append({"f": float, "c": complex, "i": int, "b": bool}[dtype.kind](a)
                       if weak and dtype.kind in "fcib" else np.asarray(a, dtype)[()])
        else:
            out.append(ew.convert_element_type(a, dtype, v.weak_type and weak))
    return out


def nonzero(a: ArrayLike, *, size: int | None = None,
            fill_value: ArrayLike | tuple[ArrayLike, ...] | None = None
            ) -> tuple[Array, ...]:
    """The indices of the nonzero elements of `a`, one int64 array per dimension.

    The result length depends on the data, so without `size` the array must be concrete (not
    traced under `jit`, `make_jaxpr` or `vmap`). With `size` the arrays have exactly `size`
    entries: the first `size` nonzero positions, padded with `fill_value` (0 by default; a
    tuple gives one value per dimension), which works under every transformation.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        x = np.array([[0, 3, 0], [4, 0, 5]])
        rows, cols = jnp.nonzero(x)
        assert rows.tolist() == [0, 1, 1] and cols.tolist() == [1, 0, 2]
        f = funcdiff.jit(lambda x: jnp.nonzero(x, size=4, fill_value=-1))
        assert [i.tolist() for i in f(x)] == [[0, 1, 1, -1], [1, 0, 2, -1]]
        ```
    """
    a = asarray(a)
    if aval(a).ndim == 0:
        raise ValueError("nonzero of a 0-d array is not allowed: use atleast_1d(a) first")
    if size is not None:
        return _nonzero_sized(a, size, fill_value)
    value = core.concrete_or_none(a)
    if value is None:
        raise errors.ConcretizationTypeError(
            "nonzero (or where with one argument, argwhere, flatnonzero, or boolean-mask "
            "indexing)",
            ": its result size depends on the data; pass size= (a static result length, "
            "padded with fill_value) to use it under jit, make_jaxpr or vmap",
        )
    return as_arrays(np.nonzero(value))


def _nonzero_sized(a: Array, size: int, fill_value: Any) -> tuple[Array, ...]:
    """`nonzero` with a static result length `size`: the flat positions of the nonzero
    elements come first in a stable sort of the flat mask; unravelled, padded with the fill."""
    size = operator.index(size)
    if size < 0:
        raise ValueError(f"nonzero: size must be >= 0, got {size}")
    shape = aval(a).shape
    fills = fill_value if isinstance(fill_value, tuple) else (fill_value,) * len(shape)
    if len(fills) != len(shape):
        raise ValueError(f"nonzero: fill_value has {len(fills)} entries, one per dimension "
                         f"of the {len(shape)}-d input is needed")
    n = math.prod(shape)
    flat = ew.convert_element_type(_to_bool(sh.reshape(a, (n,))), np.int64)
    slots = np.arange(size)
    if n == 0:
        where_flat = constant((size,), np.int64)
        valid = constant((size,), bool)
    else:
        order = sorting.argsort(subtract(1, flat))
        where_flat = lax_indexing.gather(order, [np.minimum(slots, n - 1)], [0])
        valid = less(slots, red.reduce_sum(flat, (0,)))
    out = []
    stride = n
    for length, fill in zip(shape, fills):
        stride //= max(length, 1)
        i = where_flat  # an empty input has no valid position to unravel
        if n:
            i = remainder(floor_divide(where_flat, stride), length)
        fill = ew.convert_element_type(asarray(0 if fill is None else fill), np.int64)
        out.append(where(valid, i, fill))
    return tuple(out)


def result_type(*args: Any) -> np.dtype:
    """The dtype NumPy would give to an operation on `args` (dtypes, arrays or scalars)."""
    pairs = []
    for a in args:
        if isinstance(a, np.dtype | type) and not isinstance(a, ShapedArray):
            pairs.append((np.dtype(a), False))
        else:
            v = aval(asarray(a))
            pairs.append((v.dtype, v.weak_type))
    return dtypes.result_type(*pairs)[0]



# ---- NumPy 2 names and small compositions ---------------------------------------------------

acos = arccos
asin = arcsin
atan = arctan
acosh = arccosh
asinh = arcsinh
atanh = arctanh
atan2 = arctan2
pow = power  # noqa: A001
bitwise_invert = invert
bitwise_left_shift = left_shift
bitwise_right_shift = right_shift


def divmod(x: ArrayLike, y: ArrayLike, /) -> tuple[Array, Array]:  # noqa: A001
    """``(x // y, x % y)``, as `numpy.divmod`."""
    return floor_divide(x, y), remainder(x, y)


def isclose(a: ArrayLike, b: ArrayLike, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Array:
    """``|a - b| <= atol + rtol * |b|`` elementwise (infinities close only to themselves), as
    `numpy.isclose` (no derivative)."""
    x, y = promote_inexact(a, b)
    with np.errstate(invalid="ignore"):  # inf - inf: NumPy does not warn here either
        close = ew.le(ew.abs(ew.sub(x, y)), ew.add(atol, ew.mul(rtol, ew.abs(y))))
    out = logical_or(logical_and(close, isfinite(y)), ew.eq(x, y))
    if equal_nan:
        out = logical_or(out, logical_and(isnan(x), isnan(y)))
    return out


def iscomplexobj(x: ArrayLike) -> bool:
    """Whether the dtype of `x` is complex (a static property)."""
    return dtypes.is_complex(aval(asarray(x)).dtype)


def isrealobj(x: ArrayLike) -> bool:
    return not iscomplexobj(x)


def iscomplex(x: ArrayLike) -> Array:
    """Elementwise: a nonzero imaginary part."""
    x = asarray(x)
    if not dtypes.is_complex(aval(x).dtype):
        return constant(aval(x).shape, bool)
    return ew.ne(ew.imag(x), 0)


def isreal(x: ArrayLike) -> Array:
    """Elementwise: a zero imaginary part (always, for real dtypes)."""
    x = asarray(x)
    if not dtypes.is_complex(aval(x).dtype):
        return constant(aval(x).shape, bool, True)
    return ew.eq(ew.imag(x), 0)
