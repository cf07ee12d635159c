"""Functions on the representation of numbers: `frexp`/`ldexp`, `modf`, `nextafter`,
`spacing`, `signbit`, `isposinf`/`isneginf`, `gcd`/`lcm`, `bitwise_count` and
`packbits`/`unpackbits`."""

from __future__ import annotations

import numpy as np

from funcdiff._src.lax import bits
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import shape as sh
from funcdiff._src.numpy import reductions, ufuncs
from funcdiff._src.numpy._util import (
    Array,
    ArrayLike,
    asarray,
    aval,
    canonical_axis,
    promote,
    promote_inexact,
)


def _real_float(name: str, x: ArrayLike) -> Array:
    (x,) = promote_inexact(asarray(x))
    if aval(x).dtype.kind == "c":
        raise TypeError(f"{name} is not defined for complex input (got {aval(x).dtype}); "
                        "apply it to the real and imaginary parts")
    return x


def frexp(x: ArrayLike, /) -> tuple[Array, Array]:
    """Split `x` into mantissa and int32 exponent, ``x = m * 2**e`` with ``0.5 <= |m| < 1``
    (``m = x, e = 0`` for 0, infinities and NaN). The mantissa is differentiable
    (``dm/dx = 2**-e``); the exponent is an integer.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        m, e = jnp.frexp(np.array([8.0, -0.375, 0.0]))
        assert m.tolist() == [0.5, -0.75, 0.0] and e.tolist() == [4, -1, 0]
        ```
    """
    x = _real_float("frexp", x)
    e = bits.frexp_exponent(x)
    return bits.ldexp(x, ew.neg(e)), e


def ldexp(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """``x1 * 2**x2`` for an integer `x2`, computed exactly; linear (and differentiable) in
    `x1`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        assert jnp.ldexp(np.array([0.75, 3.0]), np.array([2, -1])).tolist() == [3.0, 1.5]
        assert funcdiff.grad(lambda x: jnp.ldexp(x, 3))(1.0) == 8.0
        ```
    """
    x1, x2 = asarray(x1), asarray(x2)
    if aval(x1).dtype.kind == "c":
        raise TypeError(f"ldexp is not defined for complex x1 (got {aval(x1).dtype})")
    if isinstance(x2, int):
        x2 = np.int32(x2)
    return bits.ldexp(x1, x2)


def modf(x: ArrayLike, /) -> tuple[Array, Array]:
    """The fractional and integral parts of `x`, both with the sign of `x`. The fractional
    part has derivative one, the integral part zero.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        frac, whole = jnp.modf(np.array([2.5, -1.25]))
        assert frac.tolist() == [0.5, -0.25] and whole.tolist() == [2.0, -1.0]
        ```
    """
    x = _real_float("modf", x)
    whole = ew.trunc(x)
    frac = ew.sub(x, whole)
    # Infinities: the fraction is a signed zero, as in NumPy.
    frac = ew.select(ufuncs.isinf(x), ufuncs.copysign(np.zeros((), aval(x).dtype), x), frac)
    return frac, whole


def nextafter(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """The next floating-point value after `x1` towards `x2` (no derivative).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.nextafter(np.float64(1.0), 2.0) == 1.0 + np.finfo(np.float64).eps
        ```
    """
    x1, x2 = promote(asarray(x1), asarray(x2))
    return bits.nextafter(x1, x2)


def spacing(x: ArrayLike, /) -> Array:
    """The distance from `x` to the next float of larger magnitude, signed like `x` (NumPy's
    ``spacing``; no derivative).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.spacing(np.float32(1.0)) == np.finfo(np.float32).eps
        ```
    """
    x = _real_float("spacing", x)
    dt = aval(x).dtype
    away = ew.select(signbit(x), np.full((), -np.inf, dt), np.full((), np.inf, dt))
    return ew.sub(bits.nextafter(x, away), x)


def signbit(x: ArrayLike, /) -> Array:
    """Whether the sign bit of `x` is set: true for negative numbers and -0.0.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.signbit(np.array([-1.0, -0.0, 0.0, 2.0])).tolist() == [True, True, False,
                                                                          False]
        ```
    """
    x = asarray(x)
    if aval(x).dtype.kind == "c":
        raise TypeError("signbit is not defined for complex input")
    return bits.signbit(x)


def isposinf(x: ArrayLike, /) -> Array:
    """Whether `x` is positive infinity (elementwise; real input).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.isposinf(np.array([np.inf, -np.inf, 1.0])).tolist() == [True, False, False]
        ```
    """
    return _isinf_signed(x, False)


def isneginf(x: ArrayLike, /) -> Array:
    """Whether `x` is negative infinity (elementwise; real input).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.isneginf(np.array([np.inf, -np.inf, 1.0])).tolist() == [False, True, False]
        ```
    """
    return _isinf_signed(x, True)


def _isinf_signed(x: ArrayLike, negative: bool) -> Array:
    x = asarray(x)
    if aval(x).dtype.kind == "c":
        raise TypeError("This operation is not supported for complex values because it would "
                        "be ambiguous.")
    return ufuncs.logical_and(ufuncs.isinf(x), ufuncs.logical_not(signbit(x)) if not negative
                              else signbit(x))


def _integers(name: str, *xs: ArrayLike) -> list[Array]:
    xs = promote(*(asarray(x) for x in xs))
    for x in xs:
        if aval(asarray(x)).dtype.kind not in "biu":
            raise TypeError(f"{name} needs integer arguments, got {aval(asarray(x)).dtype}")
    return xs


def gcd(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """The greatest common divisor of ``|x1|`` and ``|x2|`` (integers; no derivative).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.gcd(np.array([12, -18, 0]), 8).tolist() == [4, 2, 8]
        ```
    """
    return bits.gcd(*_integers("gcd", x1, x2))


def lcm(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """The least common multiple of ``|x1|`` and ``|x2|`` (integers; no derivative).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.lcm(np.array([4, -6, 0]), 6).tolist() == [12, 6, 0]
        ```
    """
    return bits.lcm(*_integers("lcm", x1, x2))


def bitwise_count(x: ArrayLike, /) -> Array:
    """The number of one bits in the absolute value of each integer, as uint8.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.bitwise_count(np.array([0, 7, -8, 255])).tolist() == [0, 3, 1, 8]
        ```
    """
    (x,) = _integers("bitwise_count", x)
    return bits.bitwise_count(x)


def _bit_weights(bitorder: str) -> np.ndarray:
    if bitorder not in ("big", "little"):
        raise ValueError(f"bitorder must be 'big' or 'little', got {bitorder!r}")
    w = np.left_shift(np.uint8(1), np.arange(8, dtype=np.uint8))
    return w[::-1] if bitorder == "big" else w


def packbits(a: ArrayLike, axis: int | None = None, bitorder: str = "big") -> Array:
    """Pack the truth values of `a` along `axis` (the flattened array by default) into
    uint8 bytes, eight per byte, zero-padded at the end.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        bits = np.array([1, 0, 1, 1, 0, 0, 0, 0, 1])
        assert jnp.packbits(bits).tolist() == [176, 128]
        assert jnp.packbits(bits, bitorder="little").tolist() == [13, 1]
        ```
    """
    a = asarray(a)
    if aval(a).dtype.kind not in "biu":
        raise TypeError(f"packbits needs an integer or boolean array, got {aval(a).dtype}")
    weights = _bit_weights(bitorder)
    if axis is None:
        a, axis = sh.reshape(a, (aval(a).size,)), 0
    ax = canonical_axis(axis, aval(a).ndim)
    a = sh.transpose(a, [d for d in range(aval(a).ndim) if d != ax] + [ax])
    n = aval(a).shape[-1]
    nbytes = -(-n // 8)
    on = ew.convert_element_type(ufuncs.not_equal(a, 0), np.uint8)
    if nbytes * 8 != n:
        pad_cfg = [(0, 0, 0)] * (aval(on).ndim - 1) + [(0, nbytes * 8 - n, 0)]
        on = sh.pad(on, np.uint8(0), pad_cfg)
    on = sh.reshape(on, (*aval(on).shape[:-1], nbytes, 8))
    packed = reductions.sum(ufuncs.multiply(on, weights), axis=-1, dtype=np.uint8)
    nd = aval(packed).ndim
    return sh.transpose(packed, list(range(ax)) + [nd - 1] + list(range(ax, nd - 1)))


def unpackbits(a: ArrayLike, axis: int | None = None, count: int | None = None,
               bitorder: str = "big") -> Array:
    """The bits of the uint8 array `a` along `axis` (the flattened array by default), eight
    per byte, as uint8 zeros and ones; `count` keeps the first `count` bits (negative: drops
    bits from the end).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.unpackbits(np.array([176], np.uint8)).tolist() == [1, 0, 1, 1, 0, 0, 0, 0]
        assert jnp.unpackbits(np.array([13], np.uint8), count=4, bitorder="little").tolist() \\
            == [1, 0, 1, 1]
        ```
    """
    a = asarray(a)
    if aval(a).dtype != np.uint8:
        raise TypeError(f"Expected an input array of unsigned byte data type, got "
                        f"{aval(a).dtype}")
    weights = _bit_weights(bitorder)
    if axis is None:
        a, axis = sh.reshape(a, (aval(a).size,)), 0
    ax = canonical_axis(axis, aval(a).ndim)
    a = sh.transpose(a, [d for d in range(aval(a).ndim) if d != ax] + [ax])
    lead, n = aval(a).shape[:-1], aval(a).shape[-1]
    expanded = ufuncs.bitwise_and(sh.expand_dims(a, (aval(a).ndim,)), weights)
    out = ew.convert_element_type(ufuncs.not_equal(expanded, np.uint8(0)), np.uint8)
    out = sh.reshape(out, (*lead, n * 8))
    if count is not None:
        count = int(count)
        keep = n * 8 + count if count < 0 else count
        keep = max(keep, 0)
        if keep <= n * 8:
            out = sh.slice(out, (0,) * len(lead) + (0,), (*lead, keep))
        else:
            pad_cfg = [(0, 0, 0)] * len(lead) + [(0, keep - n * 8, 0)]
            out = sh.pad(out, np.uint8(0), pad_cfg)
    nd = aval(out).ndim
    return sh.transpose(out, list(range(ax)) + [nd - 1] + list(range(ax, nd - 1)))
