"""Discrete Fourier transforms of `funcdiff.numpy.fft`, with NumPy's arguments and results.

Every transform is the one `fft` primitive (`funcdiff._src.lax.fft`) over the trailing
dimensions: the transformed axes are moved last, padded with zeros or cropped to the requested
lengths, transformed, rescaled for `norm`, and moved back. `hfft`/`ihfft` are real transforms
of the conjugate; frequencies and shifts are plain array operations. So each function
differentiates (both modes, any order), vectorises and compiles through the primitive's rules.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import fft as lax_fft
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax.fft import FftType
from funcdiff._src.numpy import shape as np_shape
from funcdiff._src.numpy import ufuncs
from funcdiff._src.numpy._util import Array, ArrayLike, asarray, aval

_NORMS = ("backward", "ortho", "forward")
_INVERSE = {FftType.IFFT, FftType.IRFFT}


def _norm(norm: str | None, name: str) -> str:
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise ValueError(f'{name}: invalid norm {norm!r}; use "backward" (the default), '
                         '"ortho" or "forward"')
    return norm


def _swap_direction(norm: str | None, name: str) -> str:
    # hfft and ihfft are inverse transforms used forwards: their normalisation swaps.
    return {"backward": "forward", "ortho": "ortho", "forward": "backward"}[_norm(norm, name)]


def _axis(axis: int, ndim: int, name: str) -> int:
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(f"{name}: axis {axis} is out of bounds for an array of "
                                      f"dimension {ndim}")
    return axis % ndim


def _lengths_and_axes(x: Array, s: Sequence[int] | None, axes: Sequence[int] | None,
                      fft_type: FftType, name: str) -> tuple[list[int], list[int]]:
    """NumPy's defaults: all axes (or the last ``len(s)``); lengths from the array's shape,
    twice the half spectrum minus 2 for the last axis of an inverse real transform."""
    shape = aval(x).shape
    if axes is None:
        axes = list(range(-len(s), 0)) if s is not None else list(range(len(shape)))
    axes = [_axis(int(a), len(shape), name) for a in axes]
    if len(set(axes)) != len(axes):
        raise ValueError(f"{name}: repeated axes {tuple(axes)} are not supported (as in JAX); "
                         "transform each axis once")
    if s is None:
        lengths = [shape[a] for a in axes]
        if fft_type is FftType.IRFFT and axes:
            lengths[-1] = 2 * (shape[axes[-1]] - 1)
    else:
        lengths = [int(n) for n in s]
        if len(lengths) != len(axes):
            raise ValueError(f"{name}: s {tuple(lengths)} and axes {tuple(axes)} have "
                             "different lengths")
    if not axes and fft_type in (FftType.RFFT, FftType.IRFFT):
        raise ValueError(f"{name}: a real transform needs at least one axis")
    for n in lengths:
        if n < 1:
            raise ValueError(f"{name}: invalid number of FFT data points ({n}); each length "
                             "must be at least 1")
    return lengths, axes


def _resize(x: Array, dim: int, n: int) -> Array:
    """`x` cropped or zero-padded at the end of dimension `dim` to length `n`."""
    shape = aval(x).shape
    if shape[dim] > n:
        return sh.slice(x, [0] * len(shape), shape[:dim] + (n,) + shape[dim + 1:])
    if shape[dim] < n:
        config = [(0, n - shape[dim] if d == dim else 0, 0) for d in range(len(shape))]
        return sh.pad(x, np.zeros((), aval(x).dtype), config)
    return x


def _transform(a: ArrayLike, fft_type: FftType, s: Sequence[int] | None,
               axes: Sequence[int] | None, norm: str | None, name: str) -> Array:
    x = asarray(a)
    ndim = aval(x).ndim
    if ndim == 0:
        raise np.exceptions.AxisError(f"{name}: a 0-d array has no axis to transform")
    norm = _norm(norm, name)
    lengths, axes = _lengths_and_axes(x, s, axes, fft_type, name)
    if not axes:
        return x  # NumPy returns the array unchanged
    perm = [d for d in range(ndim) if d not in axes] + axes
    x = sh.transpose(x, perm)
    lead = ndim - len(axes)
    in_lengths = list(lengths)
    if fft_type is FftType.IRFFT:
        in_lengths[-1] = lengths[-1] // 2 + 1
    for i, n in enumerate(in_lengths):
        x = _resize(x, lead + i, n)
    y = lax_fft.fft(x, fft_type, lengths)
    n_total = math.prod(lengths)
    inverse = fft_type in _INVERSE
    scale = {"backward": 1.0, "ortho": math.sqrt(n_total) if inverse else 1 / math.sqrt(n_total),
             "forward": n_total if inverse else 1 / n_total}[norm]
    if scale != 1.0:
        y = ew.mul(y, float(scale))
    return sh.transpose(y, np.argsort(perm).tolist())


def _one_axis(n: int | None, axis: int, name: str) -> tuple[list[int] | None, list[int]]:
    if isinstance(axis, list | tuple):
        raise ValueError(f"{name} transforms one axis, got axis={axis!r}: use {name}n for "
                         "several")
    return (None if n is None else [n]), [axis]


# ---- one dimension --------------------------------------------------------------------------


def fft(a: ArrayLike, n: int | None = None, axis: int = -1, norm: str | None = None) -> Array:
    """The discrete Fourier transform along `axis` (NumPy's `numpy.fft.fft`).

    **Arguments:**

    - `a`: the input; real and integer values are converted to complex (float32 to
      complex64).
    - `n`: the transform length: `a` is cropped or padded with zeros along `axis` to it
      (default: its length).
    - `axis`: the axis to transform.
    - `norm`: ``"backward"`` (default: no scaling), ``"ortho"`` (``1/sqrt(n)``) or
      ``"forward"`` (``1/n``).

    !!! Example

        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        print(jnp.fft.fft(np.array([1.0, 0.0, -1.0, 0.0])))
        ```
    """
    return _transform(a, FftType.FFT, *_one_axis(n, axis, "fft"), norm, "fft")


def ifft(a: ArrayLike, n: int | None = None, axis: int = -1, norm: str | None = None) -> Array:
    """The inverse of `fft` along `axis` (divided by `n` with the default norm).

    !!! Example

        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        print(jnp.fft.ifft(jnp.fft.fft(np.array([1.0, 2.0, 3.0]))).real)
        ```
    """
    return _transform(a, FftType.IFFT, *_one_axis(n, axis, "ifft"), norm, "ifft")


def rfft(a: ArrayLike, n: int | None = None, axis: int = -1, norm: str | None = None) -> Array:
    """The transform of real input along `axis`: the ``n // 2 + 1`` non-negative frequencies
    (the others are their complex conjugates). Complex input is an error, as in NumPy.

    !!! Example

        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        print(jnp.fft.rfft(np.array([1.0, 0.0, -1.0, 0.0])))
        ```
    """
    return _transform(a, FftType.RFFT, *_one_axis(n, axis, "rfft"), norm, "rfft")


def irfft(a: ArrayLike, n: int | None = None, axis: int = -1, norm: str | None = None
          ) -> Array:
    """The inverse of `rfft`: `n` real values (default ``2 * (m - 1)`` for `m` input
    frequencies) from the non-negative half of a Hermitian spectrum. The imaginary parts of
    the zero frequency (and of the ``n / 2`` one for even `n`) are ignored, so their
    derivatives are zero.

    !!! Example

        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        x = np.array([1.0, 2.0, 0.0, -1.0, 3.0])
        print(jnp.fft.irfft(jnp.fft.rfft(x), n=5))
        ```
    """
    return _transform(a, FftType.IRFFT, *_one_axis(n, axis, "irfft"), norm, "irfft")


def hfft(a: ArrayLike, n: int | None = None, axis: int = -1, norm: str | None = None) -> Array:
    """The transform of a signal with Hermitian symmetry, given by its first half: `n` real
    values (default ``2 * (m - 1)``). ``hfft(a, n) == irfft(conj(a), n) * n``.

    !!! Example

        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        print(jnp.fft.hfft(np.array([1.0, 2.0 - 1.0j, 3.0])))
        ```
    """
    x = ufuncs.conjugate(asarray(a))
    return _transform(x, FftType.IRFFT, *_one_axis(n, axis, "hfft"),
                      _swap_direction(norm, "hfft"), "hfft")


def ihfft(a: ArrayLike, n: int | None = None, axis: int = -1, norm: str | None = None
          ) -> Array:
    """The inverse of `hfft`: the ``n // 2 + 1`` first values of the Hermitian-symmetric
    signal whose transform is the real `a`. ``ihfft(a) == conj(rfft(a)) / n``.

    !!! Example

        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        print(jnp.fft.ihfft(np.array([6.0, -2.0, 2.0, -2.0])))
        ```
    """
    y = _transform(a, FftType.RFFT, *_one_axis(n, axis, "ihfft"),
                   _swap_direction(norm, "ihfft"), "ihfft")
    return ew.conj(y)


# ---- two and n dimensions -------------------------------------------------------------------


def fftn(a: ArrayLike, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
         norm: str | None = None) -> Array:
    """The n-dimensional transform over `axes` (default: all, or the last ``len(s)``), each
    cropped or zero-padded to the length in `s`. Repeated axes are an error, as in JAX.

    !!! Example

        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        print(jnp.fft.fftn(np.eye(2)))
        ```
    """
    return _transform(a, FftType.FFT, s, axes, norm, "fftn")


def ifftn(a: ArrayLike, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
          norm: str | None = None) -> Array:
    """The inverse of `fftn`.

    !!! Example

        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        x = np.arange(6.0).reshape(2, 3)
        print(jnp.fft.ifftn(jnp.fft.fftn(x)).real)
        ```
    """
    return _transform(a, FftType.IFFT, s, axes, norm, "ifftn")


def rfftn(a: ArrayLike, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
          norm: str | None = None) -> Array:
    """The n-dimensional transform of real input: a real transform over the last of `axes`
    (keeping ``s[-1] // 2 + 1`` frequencies), complex ones over the others.

    !!! Example

        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        print(jnp.fft.rfftn(np.ones((2, 4))))
        ```
    """
    return _transform(a, FftType.RFFT, s, axes, norm, "rfftn")


def irfftn(a: ArrayLike, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
           norm: str | None = None) -> Array:
    """The inverse of `rfftn`: real output of shape `s` along `axes` (by default the input's
    lengths, and ``2 * (m - 1)`` along the last axis).

    !!! Example

        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        x = np.arange(6.0).reshape(2, 3)
        print(jnp.fft.irfftn(jnp.fft.rfftn(x), s=x.shape))
        ```
    """
    return _transform(a, FftType.IRFFT, s, axes, norm, "irfftn")


def fft2(a: ArrayLike, s: Sequence[int] | None = None, axes: Sequence[int] = (-2, -1),
         norm: str | None = None) -> Array:
    """`fftn` over two axes (the last two by default).

    !!! Example

        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        print(jnp.fft.fft2(np.array([[1.0, 2.0], [3.0, 4.0]])))
        ```
    """
    return _transform(a, FftType.FFT, s, axes, norm, "fft2")


def ifft2(a: ArrayLike, s: Sequence[int] | None = None, axes: Sequence[int] = (-2, -1),
          norm: str | None = None) -> Array:
    """`ifftn` over two axes (the last two by default).

    !!! Example

        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        print(jnp.fft.ifft2(np.array([[10.0, -2.0], [-4.0, 0.0]])))
        ```
    """
    return _transform(a, FftType.IFFT, s, axes, norm, "ifft2")


def rfft2(a: ArrayLike, s: Sequence[int] | None = None, axes: Sequence[int] = (-2, -1),
          norm: str | None = None) -> Array:
    """`rfftn` over two axes (the last two by default).

    !!! Example

        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        print(jnp.fft.rfft2(np.array([[1.0, 2.0], [3.0, 4.0]])))
        ```
    """
    return _transform(a, FftType.RFFT, s, axes, norm, "rfft2")


def irfft2(a: ArrayLike, s: Sequence[int] | None = None, axes: Sequence[int] = (-2, -1),
           norm: str | None = None) -> Array:
    """`irfftn` over two axes (the last two by default).

    !!! Example

        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        x = np.array([[1.0, 2.0], [3.0, 4.0]])
        print(jnp.fft.irfft2(jnp.fft.rfft2(x), s=(2, 2)))
        ```
    """
    return _transform(a, FftType.IRFFT, s, axes, norm, "irfft2")


# ---- frequencies and shifts -----------------------------------------------------------------


def _frequencies(n: int, d: ArrayLike, dtype: Any, ks: np.ndarray, name: str) -> Array:
    if not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{name}: n must be a positive integer (the number of samples), got "
                         f"{n!r}")
    out = ufuncs.multiply(ks, ufuncs.divide(1.0, ufuncs.multiply(int(n), asarray(d))))
    return out if dtype is None else ew.convert_element_type(asarray(out), dtype)


def fftfreq(n: int, d: ArrayLike = 1.0, *, dtype: Any = None) -> Array:
    """The sample frequencies of an `fft` of `n` points spaced `d` apart: ``[0, 1, ...,
    (n - 1) // 2, -(n // 2), ..., -1] / (n * d)``. The spacing `d` may be traced (the result
    is differentiable in it); `dtype` casts the result (float64 by default, as NumPy).

    !!! Example

        ```python
        import funcdiff.numpy as jnp

        print(jnp.fft.fftfreq(5, d=0.5))
        ```
    """
    n_int = int(n) if isinstance(n, int | np.integer) and not isinstance(n, bool) else 0
    ks = np.concatenate([np.arange(0, (n_int - 1) // 2 + 1), np.arange(-(n_int // 2), 0)])
    return _frequencies(n, d, dtype, ks, "fftfreq")


def rfftfreq(n: int, d: ArrayLike = 1.0, *, dtype: Any = None) -> Array:
    """The sample frequencies of an `rfft` of `n` points spaced `d` apart: ``[0, 1, ...,
    n // 2] / (n * d)``.

    !!! Example

        ```python
        import funcdiff.numpy as jnp

        print(jnp.fft.rfftfreq(5, d=0.5))
        ```
    """
    n_int = int(n) if isinstance(n, int | np.integer) and not isinstance(n, bool) else 0
    return _frequencies(n, d, dtype, np.arange(0, n_int // 2 + 1), "rfftfreq")


def _shift(x: ArrayLike, axes: int | Sequence[int] | None, sign: int, name: str) -> Array:
    x = asarray(x)
    shape = aval(x).shape
    if axes is None:
        axes = tuple(range(len(shape)))
    elif isinstance(axes, int | np.integer):
        axes = (int(axes),)
    shifts = [sign * (shape[_axis(int(a), len(shape), name)] // 2) for a in axes]
    return np_shape.roll(x, shifts, tuple(axes))


def fftshift(x: ArrayLike, axes: int | Sequence[int] | None = None) -> Array:
    """Roll the zero frequency to the centre along `axes` (default: all).

    !!! Example

        ```python
        import funcdiff.numpy as jnp

        print(jnp.fft.fftshift(jnp.fft.fftfreq(5)))
        ```
    """
    return _shift(x, axes, 1, "fftshift")


def ifftshift(x: ArrayLike, axes: int | Sequence[int] | None = None) -> Array:
    """The inverse of `fftshift` (they differ for odd lengths).

    !!! Example

        ```python
        import funcdiff.numpy as jnp

        print(jnp.fft.ifftshift(jnp.fft.fftshift(jnp.fft.fftfreq(5))))
        ```
    """
    return _shift(x, axes, -1, "ifftshift")
