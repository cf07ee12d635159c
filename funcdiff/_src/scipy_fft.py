"""`funcdiff.scipy.fft`: the discrete cosine transforms of `scipy.fft` (`dct`, `idct`, `dctn`,
`idctn`), types 1 to 4, with the ``"backward"``, ``"ortho"`` and ``"forward"`` normalisations.

Each transform is a complex FFT of length ``2N`` (``2N - 2`` for type 1) of a rearranged
input, followed by a twiddle and a real part, all `funcdiff.numpy` operations, so every
transformation (grad, jvp, vmap, jit) applies. JAX implements type 2 only; the other types and
``norm="forward"`` follow SciPy. A complex input is transformed as its real and imaginary
parts.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src import dtypes
from funcdiff._src.numpy._util import Array, ArrayLike, aval, canonical_axis

_NORMS = (None, "backward", "ortho", "forward")
_INVERSE_TYPE = {1: 1, 2: 3, 3: 2, 4: 4}
_SWAPPED_NORM = {None: "forward", "backward": "forward", "ortho": "ortho", "forward": "backward"}


def _check(name: str, kind: Any, norm: Any) -> None:
    if kind not in (1, 2, 3, 4):
        raise ValueError(f"{name}: type must be 1, 2, 3 or 4, got {kind!r}")
    if norm not in _NORMS:
        raise ValueError(f"{name}: norm must be one of {_NORMS}, got {norm!r}")


def _real_input(name: str, x: ArrayLike) -> Array:
    """`x` as an inexact Array (integers and booleans become float64)."""
    x = jnp.asarray(x)
    if not dtypes.is_inexact(aval(x).dtype):
        x = x.astype(np.float64)
    return x


def _along(vector: np.ndarray, axis: int, ndim: int, dtype: Any) -> Array:
    """A 1-D NumPy constant shaped to broadcast along `axis` of an `ndim`-array."""
    shape = [1] * ndim
    shape[axis] = vector.shape[0]
    return jnp.asarray(vector.reshape(shape).astype(dtype))


def _resize(x: Array, n: int | None, axis: int, name: str) -> Array:
    """`x` truncated or zero-padded to length `n` along `axis`."""
    if n is None:
        return x
    n = operator.index(n)
    if n < 1:
        raise ValueError(f"{name}: the transform length n must be at least 1, got {n}")
    m = aval(x).shape[axis]
    if n < m:
        return _part(x, 0, n, axis)
    if n > m:
        pads = [(0, 0)] * aval(x).ndim
        pads[axis] = (0, n - m)
        return jnp.pad(x, pads)
    return x


def _part(x: Array, start: int, stop: int, axis: int) -> Array:
    """``x[start:stop]`` along `axis` (a slice, not a gather)."""
    window = [slice(None)] * aval(x).ndim
    window[axis] = slice(start, stop)
    return x[tuple(window)]


def _unnormalised(x: Array, kind: int, axis: int) -> Array:
    """SciPy's ``dct(x, type, norm="backward")`` of real `x` along `axis`, through one FFT."""
    n = aval(x).shape[axis]
    nd = aval(x).ndim
    real = aval(x).dtype
    if kind == 1:
        # The even extension [x0 .. x_{N-1}, x_{N-2} .. x1] has a real DFT: the DCT-I.
        ext = jnp.concatenate([x, jnp.flip(_part(x, 1, n - 1, axis), axis)], axis)
        return jnp.real(_part(jnp.fft.fft(ext, axis=axis), 0, n, axis))
    k = np.arange(n)
    if kind == 2:
        # DFT of [x, reversed x], turned by exp(-i pi k / 2N).
        spec = jnp.fft.fft(jnp.concatenate([x, jnp.flip(x, axis)], axis), axis=axis)
        turn = _along(np.exp(-0.5j * np.pi * k / n), axis, nd, spec.dtype)
        return jnp.real(_part(spec, 0, n, axis) * turn)
    if kind == 3:
        # sum_n w_n x_n exp(i pi n (2k + 1) / 2N), w = (1, 2, 2, ...): an inverse DFT of 2N.
        weights = np.where(k == 0, 1.0, 2.0) * np.exp(0.5j * np.pi * k / n)
        z = x * _along(weights, axis, nd, np.result_type(real, np.complex64))
        padded = jnp.pad(z, [(0, n) if a == axis else (0, 0) for a in range(nd)])
        return jnp.real(_part(jnp.fft.ifft(padded, axis=axis), 0, n, axis)) * (2 * n)
    # Type 4: 2 Re(exp(-i pi (2k + 1) / 4N) DFT_2N(x_n exp(-i pi n / 2N))).
    z = x * _along(np.exp(-0.5j * np.pi * k / n), axis, nd, np.result_type(real, np.complex64))
    spec = jnp.fft.fft(z, n=2 * n, axis=axis)
    turn = _along(2.0 * np.exp(-0.25j * np.pi * (2 * k + 1) / n), axis, nd, spec.dtype)
    return jnp.real(_part(spec, 0, n, axis) * turn)


def _dct_real(x: Array, kind: int, axis: int, norm: str | None) -> Array:
    n = aval(x).shape[axis]
    nd = aval(x).ndim
    dtype = aval(x).dtype
    if kind == 1 and n < 2:
        raise ValueError(f"dct: a type-1 DCT needs at least 2 points along the axis, got {n}")
    if norm == "forward":
        return _unnormalised(x, kind, axis) * np.asarray(
            1.0 / (2 * (n - 1) if kind == 1 else 2 * n), dtype)
    if norm != "ortho":
        return _unnormalised(x, kind, axis)
    ends = np.ones(n)
    if kind == 1:
        ends[0] = ends[-1] = math.sqrt(2.0)
        y = _unnormalised(x * _along(ends, axis, nd, dtype), 1, axis)
        return y * _along(1.0 / (ends * math.sqrt(2.0 * (n - 1))), axis, nd, dtype)
    scale = np.full(n, math.sqrt(1.0 / (2 * n)))
    if kind == 2:
        scale[0] = math.sqrt(1.0 / (4 * n))
        return _unnormalised(x, 2, axis) * _along(scale, axis, nd, dtype)
    if kind == 3:
        # The transpose of the orthonormal kind 2: its scaling moves to the input.
        scale[0] = math.sqrt(1.0 / n)
        return _unnormalised(x * _along(scale, axis, nd, dtype), 3, axis)
    return _unnormalised(x, 4, axis) * _along(scale, axis, nd, dtype)


def _dct(name: str, x: ArrayLike, kind: int, n: int | None, axis: int, norm: str | None
         ) -> Array:
    _check(name, kind, norm)
    x = _real_input(name, x)
    if aval(x).ndim == 0:
        raise ValueError(f"{name}: x must have at least one dimension, got a scalar")
    axis = canonical_axis(axis, aval(x).ndim)
    x = _resize(x, n, axis, name)
    if aval(x).shape[axis] == 0:
        raise ValueError(f"{name}: cannot transform an empty axis (shape {aval(x).shape})")
    if dtypes.is_complex(aval(x).dtype):
        return (_dct_real(jnp.real(x), kind, axis, norm)
                + 1j * _dct_real(jnp.imag(x), kind, axis, norm)).astype(aval(x).dtype)
    return _dct_real(x, kind, axis, norm)


def dct(x: ArrayLike, type: int = 2, n: int | None = None, axis: int = -1,  # noqa: A002
        norm: str | None = None) -> Array:
    """The discrete cosine transform of `x` along `axis`, as `scipy.fft.dct`.

    `type` is 1, 2 (the default), 3 or 4; `n` truncates or zero-pads the axis first; `norm`
    is ``None``/``"backward"`` (no scaling), ``"ortho"`` (orthonormal, SciPy's default
    ``orthogonalize=True``) or ``"forward"`` (scaled by ``1/2N``, ``1/2(N-1)`` for type 1).
    Float32 stays float32; integers become float64; a complex `x` is transformed as its real
    and imaginary parts. JAX implements only type 2 and no ``"forward"``.

    !!! Example
        ```python
        import funcdiff.numpy as jnp
        from funcdiff.scipy.fft import dct

        x = jnp.array([1.0, 2.0, 0.5, -1.0])
        print(dct(x))
        print(dct(x, type=4, norm="ortho"))
        ```
    """
    return _dct("dct", x, type, n, axis, norm)


def idct(x: ArrayLike, type: int = 2, n: int | None = None, axis: int = -1,  # noqa: A002
         norm: str | None = None) -> Array:
    """The inverse of `dct` with the same `type` and `norm`, as `scipy.fft.idct`: the DCT of
    the inverse type (1 <-> 1, 2 <-> 3, 4 <-> 4) with the normalisation moved to this side.

    !!! Example
        ```python
        import funcdiff.numpy as jnp
        from funcdiff.scipy.fft import dct, idct

        x = jnp.array([1.0, 2.0, 0.5, -1.0])
        print(idct(dct(x, type=3), type=3))
        ```
    """
    _check("idct", type, norm)
    return _dct("idct", x, _INVERSE_TYPE[type], n, axis, _SWAPPED_NORM[norm])


def _axes_and_sizes(name: str, x: Array, s: Any, axes: Any
                    ) -> tuple[tuple[int, ...], list[int | None]]:
    nd = aval(x).ndim
    if s is not None:
        s = [operator.index(s)] if np.ndim(s) == 0 else [operator.index(v) for v in s]
        if len(s) > nd:
            raise ValueError(f"{name}: s has {len(s)} entries but x has only {nd} dimensions")
    if axes is None:
        axes = tuple(range(nd - len(s), nd)) if s is not None else tuple(range(nd))
    else:
        axes = (axes,) if np.ndim(axes) == 0 else tuple(axes)
        axes = tuple(canonical_axis(a, nd) for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{name}: axes must be distinct, got {axes}")
    if s is not None and len(s) != len(axes):
        raise ValueError(f"{name}: s ({s}) and axes ({axes}) must have the same length")
    return axes, list(s) if s is not None else [None] * len(axes)


def _dctn(name: str, one: Any, x: ArrayLike, kind: int, s: Any, axes: Any, norm: Any
          ) -> Array:
    _check(name, kind, norm)
    x = _real_input(name, x)
    axes, sizes = _axes_and_sizes(name, x, s, axes)
    for axis, n in zip(axes, sizes, strict=True):
        x = one(x, kind, n=n, axis=axis, norm=norm)
    return x


def dctn(x: ArrayLike, type: int = 2,  # noqa: A002
         s: Sequence[int] | int | None = None,
         axes: Sequence[int] | int | None = None, norm: str | None = None) -> Array:
    """The multidimensional DCT, as `scipy.fft.dctn`: `dct` along each of `axes` (all by
    default, or the last ``len(s)``), each truncated or zero-padded to its length in `s`.

    !!! Example
        ```python
        import funcdiff.numpy as jnp
        from funcdiff.scipy.fft import dctn

        x = jnp.array([[1.0, 2.0, 3.0], [0.0, -1.0, 0.5]])
        print(dctn(x, norm="ortho"))
        ```
    """
    return _dctn("dctn", dct, x, type, s, axes, norm)


def idctn(x: ArrayLike, type: int = 2,  # noqa: A002
          s: Sequence[int] | int | None = None,
          axes: Sequence[int] | int | None = None, norm: str | None = None) -> Array:
    """The inverse of `dctn`, as `scipy.fft.idctn`: `idct` along each of `axes`.

    !!! Example
        ```python
        import funcdiff.numpy as jnp
        from funcdiff.scipy.fft import dctn, idctn

        x = jnp.array([[1.0, 2.0, 3.0], [0.0, -1.0, 0.5]])
        print(idctn(dctn(x, type=1), type=1))
        ```
    """
    return _dctn("idctn", idct, x, type, s, axes, norm)
