"""`funcdiff.scipy.signal`'s spectral analysis: `stft`, `istft`, `csd` and `welch`.

A signal is cut into overlapping segments by indexing with a constant table of positions (a
gather), each segment is detrended, windowed and Fourier transformed with `funcdiff.numpy.fft`;
`istft` adds the inverse transforms back with a scatter-add. All of it is composed from
primitives with every rule, so grad, jvp, vmap and jit apply, to the signal and to an array
window. Arguments follow `jax.scipy.signal` (and SciPy where JAX is silent): in particular
`welch` and `csd` with ``nperseg=None`` take the whole signal as one segment, as JAX does,
where SciPy takes 256 samples.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src import dtypes
from funcdiff._src.numpy._util import Array, ArrayLike, aval, canonical_axis, promote_inexact
from funcdiff._src.scipy_signal import detrend as _detrend

# The periodic cosine-sum windows SciPy's `get_window` makes, by their coefficients.
_COSINE_WINDOWS = {
    "hann": (0.5, 0.5), "hann_periodic": (0.5, 0.5), "hanning": (0.5, 0.5),
    "hamming": (0.54, 0.46), "hamm": (0.54, 0.46),
    "blackman": (0.42, 0.5, 0.08), "black": (0.42, 0.5, 0.08),
    "boxcar": (1.0,), "box": (1.0,), "ones": (1.0,), "rectangular": (1.0,), "rect": (1.0,),
}


def _named_window(window: Any, n: int) -> np.ndarray:
    """SciPy's periodic ``get_window(window, n)``: common windows computed here, any other
    asked of SciPy if it is installed."""
    if isinstance(window, str) and window in _COSINE_WINDOWS:
        k = np.arange(n)
        return sum(a * (-1) ** j * np.cos(2 * np.pi * j * k / n)
                   for j, a in enumerate(_COSINE_WINDOWS[window])) * np.ones(n)
    if isinstance(window, str) and window in ("bartlett", "bart", "brt"):
        return 1.0 - np.abs(2.0 * np.arange(n) / n - 1.0)
    try:
        from scipy.signal import get_window
    except ImportError as err:
        raise ImportError(f"window={window!r} needs SciPy's get_window; funcdiff computes "
                          f"{sorted(_COSINE_WINDOWS)} and 'bartlett' itself, or pass the "
                          "window as an array") from err
    return np.asarray(get_window(window, n))


def _window(name: str, window: Any, nperseg: int | None, length: int, dtype: Any
            ) -> tuple[Array, int]:
    """The window as an Array of `dtype` and the segment length (SciPy's triage)."""
    if isinstance(window, str | tuple):
        n = length if nperseg is None else int(nperseg)
        if n < 1:
            raise ValueError(f"{name}: nperseg must be a positive integer, got {n}")
        if n > length:
            warnings.warn(f"{name}: nperseg={n} is greater than the input length {length}, "
                          f"using nperseg={length}", stacklevel=3)
            n = length
        return jnp.asarray(_named_window(window, n).astype(dtype)), n
    win = jnp.asarray(window).astype(dtype)
    if aval(win).ndim != 1:
        raise ValueError(f"{name}: an array window must be 1-D, got shape {aval(win).shape}")
    n = aval(win).shape[0] if nperseg is None else int(nperseg)
    if length < aval(win).shape[0]:
        raise ValueError(f"{name}: the window (length {aval(win).shape[0]}) is longer than "
                         f"the input signal ({length})")
    if n != aval(win).shape[0]:
        raise ValueError(f"{name}: nperseg={n} differs from the window's length "
                         f"{aval(win).shape[0]}")
    return win, n


@dataclass(frozen=True)
class _Segments:
    """The static layout of the windowed transforms."""

    nperseg: int
    noverlap: int
    nfft: int
    onesided: bool

    @property
    def step(self) -> int:
        return self.nperseg - self.noverlap


def _layout(name: str, nperseg: int, noverlap: Any, nfft: Any, onesided: bool) -> _Segments:
    noverlap = nperseg // 2 if noverlap is None else int(noverlap)
    nfft = nperseg if nfft is None else int(nfft)
    if nfft < nperseg:
        raise ValueError(f"{name}: nfft ({nfft}) must be at least nperseg ({nperseg})")
    if not 0 <= noverlap < nperseg:
        raise ValueError(f"{name}: noverlap ({noverlap}) must be in [0, nperseg={nperseg})")
    return _Segments(nperseg, noverlap, nfft, onesided)


def _signal_check(name: str, x: Array) -> None:
    if aval(x).ndim == 0 or 0 in aval(x).shape:
        raise ValueError(f"{name}: x must be a non-empty signal of at least one dimension, "
                         f"got shape {aval(x).shape}")


def _odd_extension(x: Array, n: int) -> Array:
    if n > aval(x).shape[-1] - 1:
        raise ValueError(f"the odd extension of {n} points needs a signal longer than {n}, "
                         f"got {aval(x).shape[-1]}")
    left = 2 * x[..., :1] - jnp.flip(x[..., 1:n + 1], -1)
    right = 2 * x[..., -1:] - jnp.flip(x[..., -n - 1:-1], -1)
    return jnp.concatenate([left, x, right], axis=-1)


def _extend(x: Array, n: int, boundary: str | None) -> Array:
    """`x` extended by `n` points at both ends of its last axis, as SciPy's `boundary`."""
    if boundary is None or n < 1:
        return x
    widths = [(0, 0)] * (aval(x).ndim - 1) + [(n, n)]
    if boundary == "odd":
        return _odd_extension(x, n)
    mode = {"even": "reflect", "constant": "edge", "zeros": "constant"}[boundary]
    return jnp.pad(x, widths, mode=mode)


def _detrender(detrend: Any) -> Callable[[Array], Array]:
    if detrend is False or detrend is None:
        return lambda d: d
    if isinstance(detrend, str):
        return lambda d: _detrend(d, axis=-1, type=detrend)
    if callable(detrend):
        return detrend
    raise ValueError(f"detrend must be False, 'constant', 'linear' or a function, got "
                     f"{detrend!r}")


def _transforms(x: Array, win: Array, layout: _Segments, detrend: Callable) -> Array:
    """The windowed FFTs of the segments of `x` (time on its last axis): shape
    ``(..., segments, frequencies)``."""
    length = aval(x).shape[-1]
    starts = np.arange(0, length - layout.nperseg + 1, layout.step)
    segments = x[..., starts[:, None] + np.arange(layout.nperseg)]
    segments = detrend(segments)
    if dtypes.is_complex(aval(win).dtype) and not dtypes.is_complex(aval(segments).dtype):
        segments = segments.astype(aval(win).dtype)
    windowed = segments * win
    if layout.onesided:
        return jnp.fft.rfft(jnp.real(windowed), n=layout.nfft)
    return jnp.fft.fft(windowed, n=layout.nfft)


def _frequencies(layout: _Segments, fs: Any, dtype: Any) -> Array:
    base = np.fft.rfftfreq(layout.nfft) if layout.onesided else np.fft.fftfreq(layout.nfft)
    return jnp.asarray(base.astype(dtype)) * fs


def _sides(return_onesided: bool, *arrays: Array) -> bool:
    if return_onesided and any(dtypes.is_complex(aval(a).dtype) for a in arrays):
        warnings.warn("Input data is complex, switching to return_onesided=False",
                      stacklevel=4)
        return False
    return bool(return_onesided)


def stft(x: ArrayLike, fs: ArrayLike = 1.0, window: Any = "hann", nperseg: int = 256,
         noverlap: int | None = None, nfft: int | None = None, detrend: Any = False,
         return_onesided: bool = True, boundary: str | None = "zeros", padded: bool = True,
         axis: int = -1) -> tuple[Array, Array, Array]:
    """The short-time Fourier transform of `x` along `axis`, as `jax.scipy.signal.stft`:
    ``(frequencies, segment times, Zxx)``, `Zxx` with a frequency axis at `axis` and the
    segments last, scaled as SciPy's ``scaling="spectrum"``.

    `window` is a name (``"hann"``, ``"hamming"``, ``"blackman"``, ``"boxcar"``,
    ``"bartlett"``; others through SciPy's `get_window` when SciPy is installed) or a 1-D
    array; `boundary` (``"zeros"``, ``"even"``, ``"odd"``, ``"constant"`` or ``None``)
    extends the signal by ``nperseg // 2`` at both ends; `padded` zero-pads it to a whole
    number of segments.

    !!! Example
        ```python
        import funcdiff.numpy as jnp
        from funcdiff.scipy.signal import stft

        x = jnp.sin(jnp.arange(16.0))
        f, t, zxx = stft(x, nperseg=8)
        print(f.shape, t.shape, zxx.shape)
        ```
    """
    (x,) = promote_inexact(x)
    _signal_check("stft", x)
    if boundary not in (None, "zeros", "even", "odd", "constant"):
        raise ValueError(f"stft: boundary must be 'zeros', 'even', 'odd', 'constant' or "
                         f"None, got {boundary!r}")
    axis = canonical_axis(axis, aval(x).ndim)
    x = jnp.moveaxis(x, axis, -1)
    win, n = _window("stft", window, nperseg, aval(x).shape[-1], aval(x).dtype)
    layout = _layout("stft", n, noverlap, nfft, _sides(return_onesided, x, win))
    x = _extend(x, n // 2, boundary)
    if padded:
        extra = (-(aval(x).shape[-1] - n) % layout.step) % n
        x = jnp.pad(x, [(0, 0)] * (aval(x).ndim - 1) + [(0, extra)])
    spectra = _transforms(x, win, layout, _detrender(detrend)) / jnp.sum(win)
    real = dtypes.real_dtype(aval(spectra).dtype)
    times = np.arange(n / 2, aval(x).shape[-1] - n / 2 + 1, layout.step)
    if boundary is not None:
        times = times - n / 2
    return (_frequencies(layout, fs, real), jnp.asarray(times.astype(real)) / fs,
            jnp.moveaxis(spectra, -1, axis))


def _cross_spectra(name: str, x: Array, y: Array | None, fs: Any, window: Any,
                   nperseg: Any, noverlap: Any, nfft: Any, detrend: Any,
                   return_onesided: bool, scaling: str, axis: int
                   ) -> tuple[Array, Array]:
    """The frequencies and the per-segment spectra ``conj(X) Y``, scaled and one-sided
    doubled, with the frequency axis at `axis` and the segments last."""
    if scaling not in ("density", "spectrum"):
        raise ValueError(f"{name}: scaling must be 'density' or 'spectrum', got {scaling!r}")
    axis = canonical_axis(axis, aval(x).ndim)
    x = jnp.moveaxis(x, axis, -1)
    if y is not None:
        y = jnp.moveaxis(y, axis, -1)
        longest = max(aval(x).shape[-1], aval(y).shape[-1])
        x, y = (jnp.pad(a, [(0, 0)] * (aval(a).ndim - 1) + [(0, longest - aval(a).shape[-1])])
                for a in (x, y))
    win, n = _window(name, window, nperseg, aval(x).shape[-1], aval(x).dtype)
    layout = _layout(name, n, noverlap, nfft,
                     _sides(return_onesided, *(a for a in (x, y, win) if a is not None)))
    detrend_fn = _detrender(detrend)
    fx = _transforms(x, win, layout, detrend_fn)
    fy = fx if y is None else _transforms(y, win, layout, detrend_fn)
    spectra = jnp.conj(fx) * fy
    scale = (1.0 / (fs * jnp.sum(win * win)) if scaling == "density"
             else 1.0 / jnp.sum(win) ** 2)
    spectra = spectra * scale
    if layout.onesided:
        double = np.full(aval(spectra).shape[-1], 2.0)
        double[0] = 1.0
        if layout.nfft % 2 == 0:
            double[-1] = 1.0
        spectra = spectra * jnp.asarray(double.astype(dtypes.real_dtype(aval(spectra).dtype)))
    freqs = _frequencies(layout, fs, dtypes.real_dtype(aval(spectra).dtype))
    return freqs, jnp.moveaxis(spectra, -1, axis)


def _median_bias(n: int) -> float:
    """The bias of the median of `n` chi-squared(2) periodograms, as SciPy corrects it."""
    even = np.arange(2.0, n, 2.0)
    return float(1.0 + np.sum(1.0 / (even + 1.0) - 1.0 / even))


def _average(spectra: Array, average: str) -> Array:
    if average not in ("mean", "median"):
        raise ValueError(f"average must be 'mean' or 'median', got {average!r}")
    if aval(spectra).shape[-1] == 1:
        return spectra[..., 0]
    if average == "mean":
        return jnp.mean(spectra, axis=-1)
    bias = _median_bias(aval(spectra).shape[-1])
    if dtypes.is_complex(aval(spectra).dtype):
        median = (jnp.median(jnp.real(spectra), axis=-1)
                  + 1j * jnp.median(jnp.imag(spectra), axis=-1)).astype(aval(spectra).dtype)
    else:
        median = jnp.median(spectra, axis=-1)
    return median / bias


def csd(x: ArrayLike, y: ArrayLike | None, fs: ArrayLike = 1.0, window: Any = "hann",
        nperseg: int | None = None, noverlap: int | None = None, nfft: int | None = None,
        detrend: Any = "constant", return_onesided: bool = True, scaling: str = "density",
        axis: int = -1, average: str = "mean") -> tuple[Array, Array]:
    """The cross power spectral density of `x` and `y` by Welch's method, as
    `jax.scipy.signal.csd`: ``(frequencies, Pxy)``, the `mean` or bias-corrected `median`
    over segments of ``conj(X) Y``. `y=None` gives `welch`'s spectrum of `x` (complex).

    `scaling` is ``"density"`` (per unit of `fs`) or ``"spectrum"``; the one-sided spectrum
    doubles every frequency but zero (and Nyquist). The axes of `x` and `y` other than
    `axis` broadcast; a shorter signal is zero-padded.

    !!! Example
        ```python
        import funcdiff.numpy as jnp
        from funcdiff.scipy.signal import csd

        t = jnp.arange(64.0)
        f, pxy = csd(jnp.sin(t), jnp.cos(t), nperseg=16)
        print(f.shape, pxy.dtype)
        ```
    """
    if y is None:
        (x,) = promote_inexact(x)
    else:
        x, y = promote_inexact(x, y)
        if aval(x).ndim != aval(y).ndim:
            raise ValueError(f"csd: x and y must have the same number of dimensions, got "
                             f"shapes {aval(x).shape} and {aval(y).shape}")
    _signal_check("csd", x)
    freqs, spectra = _cross_spectra("csd", x, y, fs, window, nperseg, noverlap, nfft,
                                    detrend, return_onesided, scaling, axis)
    if y is not None and not dtypes.is_complex(aval(spectra).dtype):
        spectra = spectra.astype(np.result_type(aval(spectra).dtype, np.complex64))
    return freqs, _average(spectra, average)


def welch(x: ArrayLike, fs: ArrayLike = 1.0, window: Any = "hann", nperseg: int | None = None,
          noverlap: int | None = None, nfft: int | None = None, detrend: Any = "constant",
          return_onesided: bool = True, scaling: str = "density", axis: int = -1,
          average: str = "mean") -> tuple[Array, Array]:
    """The power spectral density of `x` by Welch's method (averaged periodograms of
    overlapping windowed segments), as `jax.scipy.signal.welch`: ``(frequencies, Pxx)``,
    `Pxx` real. The arguments are `csd`'s.

    !!! Example
        ```python
        import funcdiff.numpy as jnp
        from funcdiff.scipy.signal import welch

        x = jnp.sin(0.5 * jnp.arange(128.0))
        f, pxx = welch(x, fs=2.0, nperseg=32)
        print(f[jnp.argmax(pxx)])
        ```
    """
    freqs, pxx = csd(x, None, fs, window, nperseg, noverlap, nfft, detrend, return_onesided,
                     scaling, axis, average)
    return freqs, jnp.real(pxx)


def _overlap_add(frames: Array, step: int) -> Array:
    """The sum of `frames` (``(..., segments, nperseg)``) placed `step` apart."""
    nseg, nperseg = aval(frames).shape[-2:]
    length = nperseg + (nseg - 1) * step
    positions = np.arange(nseg)[:, None] * step + np.arange(nperseg)
    out = jnp.zeros(aval(frames).shape[:-2] + (length,), dtype=aval(frames).dtype)
    return out.at[..., positions].add(frames)


def _istft_layout(zxx: Array, nperseg: Any, noverlap: Any, nfft: Any, onesided: bool,
                  freq_axis: int) -> _Segments:
    bins = aval(zxx).shape[freq_axis]
    default = 2 * (bins - 1) if onesided else bins
    n = default if nperseg is None else int(nperseg)
    if n < 1:
        raise ValueError(f"istft: nperseg must be a positive integer, got {n}")
    if nfft is None:
        nfft = n if onesided and n == default + 1 else default
    return _layout("istft", n, noverlap, nfft, onesided)


def istft(Zxx: ArrayLike, fs: ArrayLike = 1.0, window: Any = "hann", nperseg: int | None = None,
          noverlap: int | None = None, nfft: int | None = None, input_onesided: bool = True,
          boundary: bool = True, time_axis: int = -1, freq_axis: int = -2
          ) -> tuple[Array, Array]:
    """The inverse of `stft`, as `jax.scipy.signal.istft`: ``(times, x)`` by weighted
    overlap-add of the inverse FFTs of the segments, divided by the overlapped squared
    window. `boundary=True` removes the ``nperseg // 2`` points `stft` added at each end.

    !!! Example
        ```python
        import funcdiff.numpy as jnp
        from funcdiff.scipy.signal import istft, stft

        x = jnp.sin(jnp.arange(32.0))
        _, _, zxx = stft(x, nperseg=8)
        _, back = istft(zxx, nperseg=8)
        print(jnp.allclose(back[:32], x))
        ```
    """
    zxx = jnp.asarray(Zxx)
    if aval(zxx).ndim < 2:
        raise ValueError(f"istft: Zxx must be at least 2-D, got shape {aval(zxx).shape}")
    freq_axis = canonical_axis(freq_axis, aval(zxx).ndim, "freq_axis")
    time_axis = canonical_axis(time_axis, aval(zxx).ndim, "time_axis")
    if freq_axis == time_axis:
        raise ValueError("istft: time_axis and freq_axis must differ")
    if not dtypes.is_complex(aval(zxx).dtype):
        zxx = zxx.astype(np.result_type(aval(zxx).dtype, np.complex64))
    layout = _istft_layout(zxx, nperseg, noverlap, nfft, input_onesided, freq_axis)
    n = layout.nperseg
    zxx = jnp.moveaxis(zxx, (freq_axis, time_axis), (-1, -2))  # (..., segments, freqs)
    inverse = jnp.fft.irfft if input_onesided else jnp.fft.ifft
    frames = inverse(zxx, n=layout.nfft, axis=-1)[..., :n]
    if isinstance(window, str | tuple):
        win = jnp.asarray(_named_window(window, n).astype(aval(frames).dtype))
    else:
        win = jnp.asarray(window)
        if aval(win).shape != (n,):
            raise ValueError(f"istft: the window must be 1-D of length nperseg={n}, got "
                             f"shape {aval(win).shape}")
        win = win.astype(np.result_type(aval(win).dtype, aval(frames).dtype))
    x = _overlap_add(frames * jnp.sum(win) * win, layout.step)
    norm = _overlap_add(jnp.broadcast_to(win * win, (aval(frames).shape[-2], n)), layout.step)
    if boundary:
        x, norm = x[..., n // 2:-(n // 2)], norm[..., n // 2:-(n // 2)]
    x = x / jnp.where(norm > 1e-10, norm, 1.0)
    if input_onesided:
        x = jnp.real(x)
    if aval(x).ndim > 1 and time_axis != aval(zxx).ndim - 1:
        x = jnp.moveaxis(x, -1, time_axis - 1 if freq_axis < time_axis else time_axis)
    real = dtypes.real_dtype(aval(x).dtype)
    return jnp.asarray(np.arange(aval(x).shape[0]).astype(real)) / fs, x
