"""`funcdiff.scipy.signal`: composed functions, so each gets its own checks here: values and
dtypes against SciPy over modes, boundaries, shapes (edge sizes included) and dtypes,
derivatives against finite differences (`check_grads`) in both modes, `jit` and `vmap` agreeing
with eager evaluation, and the error messages."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import scipy.signal as ss

import funcdiff
import funcdiff.numpy as jnp
from funcdiff.scipy import signal
from funcdiff.test_util import check_grads

RNG = np.random.default_rng(23)


def _sample(shape, dtype=np.float64):
    x = RNG.standard_normal(shape)
    if np.issubdtype(dtype, np.complexfloating):
        x = x + 1j * RNG.standard_normal(shape)
    return x.astype(dtype)


def _close(got, want, dtype=np.float64, keep_float32=False):
    """`got` equals SciPy's `want`; SciPy returns float64 frequencies and times for float32
    data where funcdiff (and JAX) keep float32, so `keep_float32` casts `want` first."""
    got, want = np.asarray(got), np.asarray(want)
    if keep_float32 and got.dtype == np.float32:
        want = want.astype(np.float32)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    tol = 5e-5 if dtype in (np.float32, np.complex64) else 1e-10
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def _agree(f, *args):
    """`jit(f)` and `vmap(f)` over a batch of 3 shifted copies agree with eager `f`."""
    out = f(*args)
    jitted = funcdiff.jit(f)(*args)
    np.testing.assert_allclose(jitted, out, rtol=1e-11, atol=1e-11)
    assert jitted.dtype == out.dtype
    batch = [np.stack([np.asarray(a) + 0.25 * k for k in range(3)]) for a in args]
    batched = funcdiff.vmap(f)(*batch)
    for k in range(3):
        np.testing.assert_allclose(batched[k], f(*[b[k] for b in batch]), rtol=1e-11,
                                   atol=1e-11)


# ---- convolve, correlate, fftconvolve -------------------------------------------------------


@pytest.mark.parametrize("name", ["convolve", "correlate", "fftconvolve"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_one_dimensional_matches_scipy(name, mode):
    ours, ref = getattr(signal, name), getattr(ss, name)
    for n, m in itertools.product([1, 2, 5, 6], [1, 2, 3, 4, 7]):
        for dtype in (np.float64, np.float32, np.complex128):
            a, b = _sample(n, dtype), _sample(m, dtype)
            want = ref(a, b, mode)
            _close(ours(a, b, mode), want.astype(dtype), dtype)
            if name != "fftconvolve":
                _close(ours(a, b, mode, method="fft"), ref(a, b, mode, method="fft"), dtype)


@pytest.mark.parametrize("name", ["convolve", "correlate", "fftconvolve"])
def test_n_dimensional_matches_scipy(name):
    ours, ref = getattr(signal, name), getattr(ss, name)
    for s1, s2 in [((4, 5), (2, 3)), ((3, 3), (3, 3)), ((2, 2), (4, 5)), ((4, 6), (3, 1)),
                   ((1, 1), (3, 2)), ((3, 2, 4), (2, 2, 1))]:
        for mode in ("full", "same", "valid"):
            a, b = _sample(s1), _sample(s2)
            _close(ours(a, b, mode), ref(a, b, mode))


@pytest.mark.parametrize("name", ["convolve2d", "correlate2d"])
@pytest.mark.parametrize("boundary,fillvalue", [("fill", 0), ("fill", 1.5), ("wrap", 0),
                                                ("symm", 0)])
def test_two_dimensional_boundaries_match_scipy(name, boundary, fillvalue):
    ours, ref = getattr(signal, name), getattr(ss, name)
    for s1, s2 in [((4, 5), (2, 3)), ((3, 3), (3, 3)), ((2, 2), (4, 5)), ((5, 4), (2, 2)),
                   ((1, 1), (3, 2)), ((6, 7), (4, 4))]:
        for mode in ("full", "same", "valid"):
            for dtype in (np.float64, np.complex128):
                a, b = _sample(s1, dtype), _sample(s2, dtype)
                _close(ours(a, b, mode, boundary, fillvalue),
                       ref(a, b, mode, boundary, fillvalue))
    a, b = _sample((5, 4), np.float32), _sample((2, 3), np.float32)
    _close(ours(a, b, "same", boundary, fillvalue), ref(a, b, "same", boundary, fillvalue),
           np.float32)


def test_fftconvolve_axes_broadcast_the_others():
    a, b = _sample((3, 8, 4)), _sample((3, 3, 1))
    for mode in ("full", "same", "valid"):
        _close(signal.fftconvolve(a, b, mode, axes=1), ss.fftconvolve(a, b, mode, axes=1))
        _close(signal.fftconvolve(a, b, mode, axes=[1, 2]),
               ss.fftconvolve(a, b, mode, axes=[1, 2]))
        _close(signal.fftconvolve(a, b[:1], mode, axes=-2),
               ss.fftconvolve(a, b[:1], mode, axes=-2))


def test_integer_inputs_become_float64():
    a, b = np.array([1, 2, 3]), np.array([0, 1])
    _close(signal.convolve(a, b), ss.convolve(a, b).astype(np.float64))
    _close(signal.fftconvolve(a, b), ss.fftconvolve(a, b))
    # Zero-dimensional operands (Python scalars too) multiply, as in SciPy.
    for name in ("convolve", "correlate", "fftconvolve"):
        assert float(getattr(signal, name)(2.0, np.array(3.0))) == 6.0


def test_convolution_derivatives():
    a, b = _sample((6,)), _sample((3,))
    for mode in ("full", "same", "valid"):
        for name in ("convolve", "correlate", "fftconvolve"):
            check_grads(getattr(signal, name), (a, b), order=2)
            check_grads(getattr(signal, name), (b, a), order=1)
        check_grads(lambda x, y, mode=mode: signal.correlate(x, y, mode), (a, b), order=1)
    c, d = _sample((4, 5), np.complex128), _sample((2, 3), np.complex128)
    for boundary in ("fill", "wrap", "symm"):
        for mode in ("full", "same"):
            check_grads(lambda x, y, mode=mode, boundary=boundary:
                        signal.correlate2d(x, y, mode, boundary, 0.5), (c, d), order=1)
            check_grads(lambda x, y, mode=mode, boundary=boundary:
                        signal.convolve2d(x, y, mode, boundary, 0.5), (c.real, d.real),
                        order=1)
    check_grads(lambda x, y: signal.fftconvolve(x, y, "same", axes=1),
                (_sample((2, 5)), _sample((2, 3))), order=1)


def test_convolutions_under_jit_and_vmap():
    a, b = _sample((6,)), _sample((3,))
    for mode in ("full", "same", "valid"):
        _agree(lambda x, y, mode=mode: signal.convolve(x, y, mode), a, b)
        _agree(lambda x, y, mode=mode: signal.correlate(x, y, mode), b, a)
        _agree(lambda x, y, mode=mode: signal.fftconvolve(x, y, mode), a, b)
    c, d = _sample((4, 5)), _sample((2, 3))
    _agree(lambda x, y: signal.convolve2d(x, y, "same", "symm"), c, d)
    _agree(lambda x, y: signal.correlate2d(x, y, "full", "wrap"), c, d)


def test_convolution_errors():
    with pytest.raises(ValueError, match="mode must be one of"):
        signal.convolve(np.ones(3), np.ones(2), mode="circular")
    with pytest.raises(ValueError, match="same number of dimensions"):
        signal.correlate(np.ones(3), np.ones((2, 2)))
    with pytest.raises(ValueError, match="zero-size inputs"):
        signal.fftconvolve(np.ones(0), np.ones(2))
    with pytest.raises(ValueError, match="at least as large as the other in every dimension"):
        signal.convolve(np.ones((2, 5)), np.ones((3, 2)), mode="valid")
    with pytest.raises(ValueError, match="boundary must be one of"):
        signal.convolve2d(np.ones((2, 2)), np.ones((2, 2)), boundary="reflect")
    with pytest.raises(ValueError, match="must be 2-dimensional"):
        signal.correlate2d(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="method must be"):
        signal.convolve(np.ones(3), np.ones(2), method="overlap-add")
    with pytest.raises(ValueError, match="differ along axis 0, which is not convolved"):
        signal.fftconvolve(np.ones((2, 5)), np.ones((3, 2)), axes=1)


# ---- detrend --------------------------------------------------------------------------------


def test_detrend_matches_scipy():
    for shape, axis in [((7,), -1), ((5, 6), 0), ((3, 9), 1), ((1,), 0), ((2,), 0)]:
        x = _sample(shape)
        for kind, bp in [("linear", 0), ("linear", [2]), ("linear", [1, 4]), ("constant", 0),
                         ("l", 0), ("c", 0)]:
            if np.max(bp) > shape[axis]:
                continue
            _close(signal.detrend(x, axis, kind, bp), ss.detrend(x, axis, kind, bp))
        _close(signal.detrend(x.astype(np.float32), axis),
               ss.detrend(x.astype(np.float32), axis), np.float32)


def test_detrend_removes_a_line_exactly_and_differentiates():
    t = np.arange(8.0)
    np.testing.assert_allclose(signal.detrend(3.0 * t - 2.0), np.zeros(8), atol=1e-12)
    x = _sample((2, 7))
    check_grads(lambda v: signal.detrend(v, bp=[3]), (x,), order=2)
    check_grads(lambda v: signal.detrend(v, axis=0, type="constant"), (x,), order=1)
    _agree(lambda v: signal.detrend(v, bp=[2, 5]), x)
    with pytest.raises(ValueError, match="type must be 'linear' or 'constant'"):
        signal.detrend(x, type="quadratic")
    with pytest.raises(ValueError, match="breakpoints must lie in"):
        signal.detrend(x, bp=[9])


# ---- stft, istft, welch, csd ----------------------------------------------------------------

_SPECTRAL_CASES = [
    dict(nperseg=8), dict(nperseg=8, noverlap=2), dict(nperseg=7, nfft=10),
    dict(nperseg=16, window="hamming"), dict(nperseg=8, window="blackman"),
    dict(nperseg=8, window="bartlett"), dict(nperseg=8, window=("tukey", 0.3)),
    dict(nperseg=8, window=np.arange(1.0, 9.0)), dict(nperseg=8, fs=3.0),
    dict(nperseg=8, detrend="linear"), dict(nperseg=8, return_onesided=False),
]


@pytest.mark.parametrize("kw", _SPECTRAL_CASES, ids=lambda kw: "-".join(map(str, kw.values())))
def test_stft_matches_scipy(kw):
    for length, dtype in itertools.product((16, 33), (np.float64, np.float32, np.complex128)):
        x = _sample((2, length), dtype)
        for extra in (dict(), dict(boundary="even"), dict(boundary="odd"),
                      dict(boundary="constant"), dict(boundary=None, padded=False)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # complex data: two-sided, as SciPy warns
                ours, want = signal.stft(x, **kw, **extra), ss.stft(x, **kw, **extra)
            for got, ref in zip(ours, want):
                _close(got, ref, dtype, keep_float32=True)


@pytest.mark.parametrize("kw", _SPECTRAL_CASES, ids=lambda kw: "-".join(map(str, kw.values())))
def test_welch_and_csd_match_scipy(kw):
    for length, dtype in itertools.product((16, 40), (np.float64, np.float32, np.complex128)):
        x, y = _sample((2, length), dtype), _sample((2, length - 3), dtype)
        for average, scaling in (("mean", "density"), ("median", "density"),
                                 ("mean", "spectrum")):
            args = dict(kw, average=average, scaling=scaling)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pairs = [(signal.welch(x, **args), ss.welch(x, **args)),
                         (signal.csd(x, y, **args), ss.csd(x, y, **args))]
            for ours, want in pairs:
                for got, ref in zip(ours, want):
                    _close(got, ref, dtype, keep_float32=True)


def test_spectral_functions_along_another_axis():
    x = _sample((40, 3))
    for got, want in zip(signal.stft(x, nperseg=8, axis=0), ss.stft(x, nperseg=8, axis=0)):
        _close(got, want)
    for got, want in zip(signal.welch(x, nperseg=8, axis=0), ss.welch(x, nperseg=8, axis=0)):
        _close(got, want)


@pytest.mark.parametrize("kw", [dict(nperseg=8), dict(nperseg=8, noverlap=6), dict(nperseg=7),
                                dict(nperseg=8, nfft=12), dict(nperseg=8, window="hamming")])
def test_istft_matches_scipy(kw):
    for length in (32, 33):
        x = _sample((2, length))
        _, _, z = ss.stft(x, **kw)
        for boundary in (True, False):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SciPy's "NOLA condition failed" at the ends
                want = ss.istft(z, boundary=boundary, **kw)
            for got, ref in zip(signal.istft(z, boundary=boundary, **kw), want):
                _close(got, ref)
        _, _, z = ss.stft(x, return_onesided=False, **kw)
        zt = np.moveaxis(z, -1, 0)
        for got, want in zip(signal.istft(zt, input_onesided=False, time_axis=0,
                                          freq_axis=-1, **kw),
                             ss.istft(zt, input_onesided=False, time_axis=0, freq_axis=-1,
                                      **kw)):
            _close(got, want)


def test_istft_inverts_stft():
    x = _sample((3, 50))
    _, _, z = signal.stft(x, nperseg=16, noverlap=12)
    _, back = signal.istft(z, nperseg=16, noverlap=12)
    np.testing.assert_allclose(back[..., :50], x, atol=1e-12)


def test_spectral_derivatives():
    x, y = _sample((2, 24)), _sample((2, 24))
    check_grads(lambda v: signal.stft(v, nperseg=8)[2], (x,), order=1)
    check_grads(lambda v: signal.stft(v, nperseg=8, detrend="linear", boundary="odd")[2],
                (x,), order=1)
    check_grads(lambda v: signal.welch(v, nperseg=8)[1], (x,), order=2)
    check_grads(lambda v, w: signal.csd(v, w, nperseg=8, average="median")[1], (x, y),
                order=1)
    # An array window is an argument like any other.
    check_grads(lambda win: signal.welch(x, window=win, nperseg=8)[1], (_sample(8) + 2.0,),
                order=1)
    z = signal.stft(x, nperseg=8)[2]
    check_grads(lambda re, im: signal.istft(re + 1j * im, nperseg=8)[1],
                (np.real(z), np.imag(z)), order=1)


def test_spectral_functions_under_jit_and_vmap():
    x = _sample((30,))
    _agree(lambda v: signal.stft(v, nperseg=8)[2], x)
    _agree(lambda v: signal.welch(v, nperseg=8, average="median")[1], x)
    _agree(lambda v, w: signal.csd(v, w, nperseg=8)[1], x, _sample((30,)))
    z = signal.stft(x, nperseg=8)[2]
    _agree(lambda re, im: signal.istft(re + 1j * im, nperseg=8)[1], np.real(z), np.imag(z))


def test_welch_defaults_to_one_segment_as_jax():
    # JAX (unlike SciPy's 256) takes the whole signal as one segment when nperseg is None.
    x = _sample((300,))
    f, pxx = signal.welch(x)
    _close(pxx, ss.welch(x, nperseg=300)[1])
    assert f.shape == (151,)


def test_spectral_errors_and_warnings():
    x = _sample((20,))
    with pytest.raises(ValueError, match="noverlap \\(8\\) must be in"):
        signal.stft(x, nperseg=8, noverlap=8)
    with pytest.raises(ValueError, match="nfft \\(4\\) must be at least nperseg"):
        signal.welch(x, nperseg=8, nfft=4)
    with pytest.raises(ValueError, match="scaling must be"):
        signal.welch(x, scaling="power")
    with pytest.raises(ValueError, match="average must be"):
        signal.welch(x, nperseg=4, average="max")
    with pytest.raises(ValueError, match="boundary must be"):
        signal.stft(x, boundary="periodic")
    with pytest.raises(ValueError, match="differs from the window's length"):
        signal.welch(x, window=np.ones(4), nperseg=5)
    for bad in (np.ones(0), np.ones((3, 0)), 2.0):
        with pytest.raises(ValueError, match="non-empty signal of at least one dimension"):
            signal.welch(bad)
        with pytest.raises(ValueError, match="non-empty signal of at least one dimension"):
            signal.stft(bad)
    with pytest.raises(ValueError, match="time_axis and freq_axis must differ"):
        signal.istft(np.ones((5, 3)), time_axis=0, freq_axis=0)
    with pytest.warns(UserWarning, match="nperseg=256 is greater than the input length"):
        signal.stft(x)
    with pytest.warns(UserWarning, match="switching to return_onesided=False"):
        signal.welch(_sample((20,), np.complex128), nperseg=8)
    assert jnp.iscomplexobj(signal.csd(x, x, nperseg=8)[1])


def test_float32_stays_float32_through_gradients():
    x = _sample((16,), np.float32)
    for f in (lambda v: signal.convolve(v, v[:3], "same"), lambda v: signal.fftconvolve(v, v[:3]),
              lambda v: signal.correlate2d(v.reshape(4, 4), v[:4].reshape(2, 2), "full", "symm"),
              lambda v: signal.detrend(v, bp=[5]), lambda v: signal.welch(v, nperseg=8)[1],
              lambda v: jnp.abs(signal.stft(v, nperseg=8)[2])):
        assert f(x).dtype == np.float32
        assert funcdiff.grad(lambda v, f=f: jnp.sum(f(v)))(x).dtype == np.float32
