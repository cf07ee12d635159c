"""`funcdiff.scipy.signal`'s convolutions and `detrend`: `convolve`, `correlate`,
`convolve2d`, `correlate2d`, `fftconvolve`.

The direct convolutions are one `conv_general_dilated` each (a cross-correlation, so
`convolve` flips its kernel), with the boundary of `convolve2d` made by padding first;
`fftconvolve` multiplies real (or complex) FFTs over its axes. `detrend` removes each
segment's least-squares line in closed form. Everything is composed from primitives with
every rule, so grad, jvp, vmap and jit apply. The spectral functions (`stft`, `welch`...) are
in `scipy_spectral.py`.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src import dtypes
from funcdiff._src.lax.convolution import conv_general_dilated
from funcdiff._src.numpy._util import Array, ArrayLike, aval, canonical_axis, promote_inexact

_MODES = ("full", "same", "valid")


def _pair(name: str, in1: ArrayLike, in2: ArrayLike, mode: str) -> tuple[Array, Array]:
    """The two operands promoted to one inexact dtype, with SciPy's checks."""
    if mode not in _MODES:
        raise ValueError(f"{name}: mode must be one of {_MODES}, got {mode!r}")
    in1, in2 = (jnp.array(a) for a in promote_inexact(in1, in2))
    s1, s2 = aval(in1).shape, aval(in2).shape
    if len(s1) != len(s2):
        raise ValueError(f"{name}: in1 and in2 must have the same number of dimensions, got "
                         f"shapes {s1} and {s2}")
    if 0 in s1 or 0 in s2:
        raise ValueError(f"{name}: zero-size inputs are not supported, got shapes {s1} and {s2}")
    return in1, in2


def _swap_needed(name: str, s1: Sequence[int], s2: Sequence[int]) -> bool:
    """Whether the second shape is the larger in every dimension (SciPy's swap); an error if
    neither is."""
    if all(a >= b for a, b in zip(s1, s2)):
        return False
    if all(a <= b for a, b in zip(s1, s2)):
        return True
    raise ValueError(f"{name}: one input must be at least as large as the other in every "
                     f"dimension, got shapes {tuple(s1)} and {tuple(s2)}")


def _larger_first(name: str, in1: Array, in2: Array) -> tuple[Array, Array]:
    """The operand at least as large in every dimension first, or an error."""
    if _swap_needed(name, aval(in1).shape, aval(in2).shape):
        return in2, in1
    return in1, in2


def _slide(big: Array, kernel: Array, pads: Sequence[tuple[int, int]]) -> Array:
    """``sum_j big[i + j] kernel[j]`` (no flip) over the padded positions, as one
    convolution with a batch and a feature dimension of 1."""
    out = conv_general_dilated(big[None, None], kernel[None, None],
                               (1,) * aval(big).ndim, list(pads))
    return out[0, 0]


def _convolve_direct(name: str, in1: Array, in2: Array, mode: str) -> Array:
    shape1 = aval(in1).shape
    if not shape1:
        return in1 * in2  # scalars: SciPy's product
    big, small = _larger_first(name, in1, in2)
    kernel = jnp.flip(small)
    if mode == "valid":
        return _slide(big, kernel, [(0, 0)] * len(shape1))
    pads = []
    for n, m, s1 in zip(aval(big).shape, aval(kernel).shape, shape1):
        if mode == "full":
            pads.append((m - 1, m - 1))
        else:  # "same": in1's length, centred in the full result
            start = (n + m - 1 - s1) // 2
            pads.append((m - 1 - start, s1 - n + start))
    return _slide(big, kernel, pads)


def convolve(in1: ArrayLike, in2: ArrayLike, mode: str = "full", method: str = "auto",
             precision: Any = None) -> Array:
    """The N-dimensional convolution of `in1` and `in2` (same number of dimensions), as
    `scipy.signal.convolve`.

    `mode` is ``"full"`` (every overlap), ``"same"`` (`in1`'s shape, centred) or ``"valid"``
    (complete overlaps; one input must be at least as large as the other in every
    dimension). `method` is ``"auto"`` or ``"direct"`` (one convolution) or ``"fft"``
    (`fftconvolve`); `precision` is accepted for JAX compatibility and ignored.

    !!! Example
        ```python
        import funcdiff.numpy as jnp
        from funcdiff.scipy.signal import convolve

        print(convolve(jnp.array([1.0, 2.0, 3.0]), jnp.array([0.0, 1.0, 0.5])))
        print(convolve(jnp.array([1.0, 2.0, 3.0]), jnp.array([0.0, 1.0, 0.5]), "same"))
        ```
    """
    del precision
    if method == "fft":
        return fftconvolve(in1, in2, mode=mode)
    if method not in ("auto", "direct"):
        raise ValueError(f"convolve: method must be 'auto', 'direct' or 'fft', got {method!r}")
    in1, in2 = _pair("convolve", in1, in2, mode)
    return _convolve_direct("convolve", in1, in2, mode)


def _conj(x: Array) -> Array:
    return jnp.conj(x) if dtypes.is_complex(aval(x).dtype) else x


def _reverse_conj(x: Array) -> Array:
    return _conj(jnp.flip(x))


def correlate(in1: ArrayLike, in2: ArrayLike, mode: str = "full", method: str = "auto",
              precision: Any = None) -> Array:
    """The N-dimensional cross-correlation ``z[k] = sum_l in1[l] conj(in2[l - k + K])``, as
    `scipy.signal.correlate`: `convolve` with `in2` reversed and conjugated, with the same
    `mode`, `method` and `precision`.

    !!! Example
        ```python
        import funcdiff.numpy as jnp
        from funcdiff.scipy.signal import correlate

        print(correlate(jnp.array([1.0, 2.0, 3.0]), jnp.array([0.0, 1.0, 0.5])))
        ```
    """
    if method not in ("auto", "direct", "fft"):
        raise ValueError(f"correlate: method must be 'auto', 'direct' or 'fft', got {method!r}")
    in1, in2 = _pair("correlate", in1, in2, mode)
    if method == "fft":
        return fftconvolve(in1, _reverse_conj(in2), mode=mode)
    if mode == "valid" and _swap_needed("correlate", aval(in1).shape, aval(in2).shape):
        # SciPy correlates the larger with the smaller, then reverses and conjugates.
        return _reverse_conj(_convolve_direct("correlate", in2, _reverse_conj(in1), mode))
    return _convolve_direct("correlate", in1, _reverse_conj(in2), mode)


_BOUNDARIES = {"fill": "constant", "pad": "constant", "wrap": "wrap", "circular": "wrap",
               "symm": "symmetric", "symmetric": "symmetric"}


def _two_d(name: str, in1: ArrayLike, in2: ArrayLike, mode: str, boundary: str,
           fillvalue: Any) -> tuple[Array, Array, str]:
    if boundary not in _BOUNDARIES:
        raise ValueError(f"{name}: boundary must be one of {sorted(_BOUNDARIES)}, got "
                         f"{boundary!r}")
    in1, in2 = _pair(name, in1, in2, mode)
    if aval(in1).ndim != 2:
        raise ValueError(f"{name}: in1 and in2 must be 2-dimensional, got shapes "
                         f"{aval(in1).shape} and {aval(in2).shape}")
    if np.ndim(fillvalue) != 0:
        raise ValueError(f"{name}: fillvalue must be a scalar, got shape {np.shape(fillvalue)}")
    return in1, in2, _BOUNDARIES[boundary]


def _convolve2d(name: str, in1: Array, in2: Array, mode: str, pad_mode: str,
                fillvalue: Any) -> Array:
    """`convolve2d` of promoted operands. Outside ``"valid"`` mode the boundary is a padding
    of `in1` (even when it is the smaller operand, as in SciPy), then a complete-overlap
    convolution with `in2` reversed."""
    if mode == "valid" or (pad_mode == "constant" and fillvalue == 0):
        return _convolve_direct(name, in1, in2, mode)
    widths = []
    for m in aval(in2).shape:
        start = 0 if mode == "full" else (m - 1) // 2
        widths.append((m - 1 - start, m - 1 - start if mode == "full" else start))
    if pad_mode == "constant":
        fill = np.asarray(fillvalue).astype(aval(in1).dtype)
        padded = jnp.pad(in1, widths, constant_values=fill)
    else:
        padded = jnp.pad(in1, widths, mode=pad_mode)
    return _slide(padded, jnp.flip(in2), [(0, 0), (0, 0)])


def convolve2d(in1: ArrayLike, in2: ArrayLike, mode: str = "full", boundary: str = "fill",
               fillvalue: Any = 0, precision: Any = None) -> Array:
    """The 2-D convolution of `in1` and `in2`, as `scipy.signal.convolve2d`.

    `mode` as in `convolve`; `boundary` is ``"fill"`` (pad with `fillvalue`), ``"wrap"``
    (periodic) or ``"symm"`` (mirrored, the edge repeated). JAX supports only ``"fill"``
    with 0. `precision` is ignored.

    !!! Example
        ```python
        import funcdiff.numpy as jnp
        from funcdiff.scipy.signal import convolve2d

        image = jnp.arange(12.0).reshape(3, 4)
        kernel = jnp.array([[1.0, -1.0]])
        print(convolve2d(image, kernel, mode="same", boundary="symm"))
        ```
    """
    del precision
    in1, in2, pad_mode = _two_d("convolve2d", in1, in2, mode, boundary, fillvalue)
    return _convolve2d("convolve2d", in1, in2, mode, pad_mode, fillvalue)


def correlate2d(in1: ArrayLike, in2: ArrayLike, mode: str = "full", boundary: str = "fill",
                fillvalue: Any = 0, precision: Any = None) -> Array:
    """The 2-D cross-correlation of `in1` and `in2`, as `scipy.signal.correlate2d`, with the
    `mode`, `boundary` and `fillvalue` of `convolve2d`.

    !!! Example
        ```python
        import funcdiff.numpy as jnp
        from funcdiff.scipy.signal import correlate2d

        image = jnp.arange(12.0).reshape(3, 4)
        print(correlate2d(image, jnp.array([[1.0, -1.0]]), mode="valid"))
        ```
    """
    del precision
    in1, in2, pad_mode = _two_d("correlate2d", in1, in2, mode, boundary, fillvalue)
    if mode == "valid" and _swap_needed("correlate2d", aval(in1).shape, aval(in2).shape):
        # Unlike `correlate`, SciPy reverses this swapped result without conjugating it.
        return jnp.flip(_convolve_direct("correlate2d", in2, _reverse_conj(in1), mode))
    if mode == "same":
        # SciPy centres the correlation as the reversal of a convolution of reversed in1.
        flipped = _convolve2d("correlate2d", jnp.flip(in1), _conj(in2), mode, pad_mode,
                              fillvalue)
        return jnp.flip(flipped)
    return _convolve2d("correlate2d", in1, _reverse_conj(in2), mode, pad_mode, fillvalue)


def _fft_axes(in1: Array, in2: Array, axes: Any) -> tuple[int, ...]:
    nd = aval(in1).ndim
    if axes is None:
        return tuple(range(nd))
    axes = (axes,) if np.ndim(axes) == 0 else tuple(axes)
    axes = tuple(canonical_axis(operator.index(a), nd) for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"fftconvolve: axes must be distinct, got {axes}")
    for a in range(nd):
        n, m = aval(in1).shape[a], aval(in2).shape[a]
        if a not in axes and n != m and n != 1 and m != 1:
            raise ValueError(f"fftconvolve: in1 {aval(in1).shape} and in2 {aval(in2).shape} "
                             f"differ along axis {a}, which is not convolved; they must "
                             "match or be 1 there")
    return axes


def fftconvolve(in1: ArrayLike, in2: ArrayLike, mode: str = "full",
                axes: int | Sequence[int] | None = None) -> Array:
    """The convolution of `in1` and `in2` through FFTs over `axes` (all by default), as
    `scipy.signal.fftconvolve`; the other axes broadcast (equal sizes or 1).

    `mode` as in `convolve` (``"valid"`` needs one input at least as large as the other
    along every axis of `axes`). Real inputs use real FFTs; float32 stays float32.

    !!! Example
        ```python
        import funcdiff.numpy as jnp
        from funcdiff.scipy.signal import fftconvolve

        print(fftconvolve(jnp.array([1.0, 2.0, 3.0]), jnp.array([0.0, 1.0, 0.5]), "same"))
        ```
    """
    in1, in2 = _pair("fftconvolve", in1, in2, mode)
    axes = _fft_axes(in1, in2, axes)
    s1, s2 = aval(in1).shape, aval(in2).shape
    if mode == "valid" and _swap_needed("fftconvolve", [s1[a] for a in axes],
                                        [s2[a] for a in axes]):
        in1, in2, s1, s2 = in2, in1, s2, s1
    if not axes:
        return in1 * in2
    full = [s1[a] + s2[a] - 1 for a in axes]
    if dtypes.is_complex(aval(in1).dtype):
        spectrum = jnp.fft.fftn(in1, full, axes) * jnp.fft.fftn(in2, full, axes)
        conv = jnp.fft.ifftn(spectrum, full, axes)
    else:
        spectrum = jnp.fft.rfftn(in1, full, axes) * jnp.fft.rfftn(in2, full, axes)
        conv = jnp.fft.irfftn(spectrum, full, axes)
    window = [slice(None)] * aval(conv).ndim
    for a, f in zip(axes, full):
        size = {"full": f, "same": s1[a], "valid": s1[a] - s2[a] + 1}[mode]
        start = (f - size) // 2
        window[a] = slice(start, start + size)
    return conv[tuple(window)].astype(aval(in1).dtype)


def _breakpoints(bp: Any, n: int) -> np.ndarray:
    points = np.sort(np.unique(np.r_[0, np.asarray(bp, dtype=int).ravel(), n]))
    if points[0] < 0 or points[-1] > n:
        raise ValueError(f"detrend: breakpoints must lie in [0, {n}] (the length of the data "
                         f"along the axis), got {bp!r}")
    return points


def _remove_line(segment: Array) -> Array:
    """`segment` (points along axis 0) minus its least-squares straight line."""
    n = aval(segment).shape[0]
    t = np.arange(n, dtype=float) - (n - 1) / 2.0
    t = t.reshape((n,) + (1,) * (aval(segment).ndim - 1))
    centred = segment - jnp.mean(segment, axis=0, keepdims=True)
    if n < 2:
        return centred
    tt = jnp.asarray(t.astype(dtypes.real_dtype(aval(segment).dtype)))
    slope = jnp.sum(tt * centred, axis=0, keepdims=True) / float(np.sum(t * t))
    return centred - slope * tt


def detrend(data: ArrayLike, axis: int = -1, type: str = "linear",  # noqa: A002
            bp: int | Sequence[int] | np.ndarray = 0, overwrite_data: bool | None = None
            ) -> Array:
    """`data` minus its trend along `axis`, as `scipy.signal.detrend`: its mean
    (``type="constant"``) or its least-squares line (``"linear"``), fitted separately
    between the breakpoints `bp` (indices along `axis`). `overwrite_data` is accepted for
    SciPy compatibility: funcdiff never writes into its arguments.

    !!! Example
        ```python
        import funcdiff.numpy as jnp
        from funcdiff.scipy.signal import detrend

        print(detrend(jnp.array([1.0, 2.5, 3.0, 4.5])))
        print(detrend(jnp.array([1.0, 2.5, 3.0, 4.5]), type="constant"))
        ```
    """
    del overwrite_data
    if type not in ("linear", "l", "constant", "c"):
        raise ValueError(f"detrend: type must be 'linear' or 'constant', got {type!r}")
    (data,) = promote_inexact(data)
    if aval(data).ndim == 0:
        raise ValueError("detrend: data must have at least one dimension, got a scalar")
    axis = canonical_axis(axis, aval(data).ndim)
    if type in ("constant", "c"):
        return data - jnp.mean(data, axis=axis, keepdims=True)
    n = aval(data).shape[axis]
    points = _breakpoints(bp, n)
    moved = jnp.moveaxis(data, axis, 0)
    pieces = [_remove_line(moved[int(lo):int(hi)]) for lo, hi in zip(points[:-1], points[1:])
              if hi > lo]
    out = jnp.concatenate(pieces, axis=0) if pieces else moved
    return jnp.moveaxis(out, 0, axis)
