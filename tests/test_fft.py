"""Directed tests of the Fourier transforms (`funcdiff.lax.fft`, `funcdiff.numpy.fft`).

The generic checks (values against NumPy, `check_grads` to second order in both modes, vmap
against a loop, staged programs) run from `tests/lax_table.py` and `tests/numpy_table.py`.
Here: the transpose rules against the inner-product identity and against the formula they come
from, JAX's convention for complex gradients, the worked example of a spectral smoothness
penalty, jit lowering, cost counts, dtypes and error messages.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import lax
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff.test_util import check_grads

FftType = lax.FftType
RNG = np.random.default_rng(17)


def _complex(shape, dtype=np.complex128):
    return (RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)).astype(dtype)


def _input_for(fft_type, batch, lengths):
    """A random operand of `fft_type` with batch dimensions `batch`."""
    if fft_type is FftType.RFFT:
        return RNG.standard_normal(batch + lengths)
    if fft_type is FftType.IRFFT:
        return _complex(batch + lengths[:-1] + (lengths[-1] // 2 + 1,))
    return _complex(batch + lengths)


def _pair(a, b) -> float:
    """The pairing transposes are taken against: Re(sum(a * b)), no conjugation (JAX's)."""
    return float(np.real(np.sum(np.asarray(a) * np.asarray(b))))


# ---- transpose rules ------------------------------------------------------------------------

_TRANSPOSE_CASES = [
    (t, lengths) for t in FftType
    for lengths in [(1,), (2,), (5,), (6,), (3, 4), (4, 5), (2, 3, 3)]
]


@pytest.mark.parametrize("fft_type,lengths", _TRANSPOSE_CASES,
                         ids=[f"{t.name}-{'x'.join(map(str, n))}" for t, n in _TRANSPOSE_CASES])
def test_transpose_satisfies_the_inner_product_identity(fft_type, lengths):
    # <v, J t> = <J^T v, t> for random t and v, with J^T from reverse mode; even and odd
    # last lengths exercise both weightings of the half spectrum.
    x = _input_for(fft_type, (2,), lengths)

    def f(x):
        return lax.fft(x, fft_type, lengths)

    t = _input_for(fft_type, (2,), lengths)
    y, jt = funcdiff.jvp(f, (x,), (t,))
    v = _complex(y.shape) if np.iscomplexobj(y) else RNG.standard_normal(y.shape)
    (jtv,) = funcdiff.vjp(f, x)[1](v)
    assert jtv.dtype == x.dtype and jtv.shape == x.shape
    np.testing.assert_allclose(_pair(v, jt), _pair(jtv, t), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_rfft_transpose_is_the_real_part_of_a_padded_fft(n):
    # The derivation: rfft = P F on real inputs, so x_bar = Re(F P^T ct), a full complex
    # transform of the zero-padded cotangent. Reverse mode computes it with an inverse real
    # transform and weights instead; both must agree.
    ct = _complex((3, n // 2 + 1))
    padded = np.concatenate([ct, np.zeros((3, n - n // 2 - 1))], axis=-1)
    expected = np.real(np.fft.fft(padded, axis=-1))
    (got,) = funcdiff.vjp(jnp.fft.rfft, RNG.standard_normal((3, n)))[1](ct)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_irfft_transpose_matches_the_dense_matrix(n):
    # irfft is real-linear in (Re z, Im z): build its matrix column by column from NumPy,
    # then the cotangent under Re(sum(z_bar * z)) is z_bar = ct @ (A_re - i A_im).
    m = n // 2 + 1
    eye = np.eye(m)
    a_re = np.stack([np.fft.irfft(e, n) for e in eye], axis=1)
    a_im = np.stack([np.fft.irfft(1j * e, n) for e in eye], axis=1)
    ct = RNG.standard_normal(n)
    (got,) = funcdiff.vjp(lambda z: jnp.fft.irfft(z, n), _complex(m))[1](ct)
    np.testing.assert_allclose(got, ct @ a_re - 1j * (ct @ a_im), rtol=1e-12, atol=1e-12)
    # The imaginary parts irfft ignores (zero frequency, and n / 2 for even n) get none.
    assert got[0].imag == 0 and (n % 2 or got[-1].imag == 0)


def test_complex_gradients_follow_jaxs_convention():
    # Parseval: sum |fft(z)|^2 = n sum |z|^2, so both sides have the same gradient, and that
    # of |z|^2 is 2 conj(z) in funcdiff as in JAX (grad(abs(z)**2)(3+4j) == 6-8j).
    z = _complex(6)
    g = funcdiff.grad(lambda z: jnp.sum(jnp.abs(jnp.fft.fft(z)) ** 2))(z)
    np.testing.assert_allclose(g, 2 * 6 * np.conj(z), rtol=1e-12)
    np.testing.assert_allclose(funcdiff.grad(lambda z: jnp.abs(z) ** 2)(3 + 4j), 6 - 8j)
    # ... with every normalisation: "ortho" is unitary, so the factor n goes.
    g = funcdiff.grad(lambda z: jnp.sum(jnp.abs(jnp.fft.ifft(z, norm="ortho")) ** 2))(z)
    np.testing.assert_allclose(g, 2 * np.conj(z), rtol=1e-12)


# ---- the worked example: a spectral smoothness penalty --------------------------------------


def _penalty(x):
    """sum_k k^2 |X_k|^2 over the half spectrum of the real signal x: large for rough x."""
    n = x.shape[-1]
    k = jnp.fft.rfftfreq(n) * n
    return jnp.sum(k**2 * jnp.abs(jnp.fft.rfft(x)) ** 2)


def _penalty_gradient_closed_form(x):
    # P = sum_k w_k |X_k|^2 with X = F x (first n // 2 + 1 rows), so
    # dP/dx_j = 2 Re(sum_k w_k conj(X_k) exp(-2 pi i k j / n)): a full FFT of the weighted
    # conjugate half spectrum, zero-padded to n.
    n = x.shape[-1]
    k = np.arange(n // 2 + 1)
    half = k**2 * np.conj(np.fft.rfft(x))
    return 2 * np.real(np.fft.fft(np.concatenate([half, np.zeros(n - half.size)])))


@pytest.mark.parametrize("n", [7, 8])
def test_spectral_penalty_gradient(n):
    x = np.sin(np.linspace(0, 3, n)) + 0.3 * RNG.standard_normal(n)
    g = funcdiff.grad(_penalty)(x)
    np.testing.assert_allclose(g, _penalty_gradient_closed_form(x), rtol=1e-10)
    # Central differences, by hand (a quadratic: exact up to rounding).
    eps = 1e-5
    fd = np.array([(_penalty(x + eps * e) - _penalty(x - eps * e)) / (2 * eps)
                   for e in np.eye(n)])
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(funcdiff.jit(funcdiff.grad(_penalty))(x), g, rtol=1e-12)
    np.testing.assert_allclose(funcdiff.jacfwd(_penalty)(x), g, rtol=1e-12)
    # P is a quadratic form: P(x) = x H x / 2 and grad P = H x, with H the Hessian.
    h = funcdiff.hessian(_penalty)(x)
    np.testing.assert_allclose(h, h.T, atol=1e-9)
    np.testing.assert_allclose(h @ x, g, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(x @ h @ x / 2, _penalty(x), rtol=1e-10)
    check_grads(_penalty, (x,), order=2, modes=("fwd", "rev"))


def test_spectral_penalty_gradient_per_signal_under_vmap():
    xs = RNG.standard_normal((4, 9)).astype(np.float32)
    gs = funcdiff.vmap(funcdiff.grad(_penalty))(xs)
    assert gs.dtype == np.float32
    for x, g in zip(xs, gs):
        np.testing.assert_allclose(g, _penalty_gradient_closed_form(x.astype(np.float64)),
                                   rtol=2e-4, atol=2e-3)


def test_gradient_descent_smooths_a_signal():
    # A few steps on |x - y|^2 + lam * P(x) damp the high frequencies of a noisy y.
    n = 32
    y = np.sin(2 * np.pi * np.arange(n) / n) + 0.5 * RNG.standard_normal(n)

    def loss(x):
        return jnp.sum((x - y) ** 2) + 1e-3 * _penalty(x)

    step = funcdiff.jit(lambda x: x - 0.05 * funcdiff.grad(loss)(x))
    x = y.copy()
    for _ in range(50):
        x = step(x)
    assert loss(x) < loss(y)
    high = slice(n // 4, None)
    assert np.sum(np.abs(np.fft.rfft(x))[high]) < 0.5 * np.sum(np.abs(np.fft.rfft(y))[high])


# ---- jit, cost, dtypes ----------------------------------------------------------------------


@pytest.mark.parametrize("fft_type", list(FftType))
def test_jit_lowers_to_the_array_namespace_and_matches_eager(fft_type):
    lengths = (4, 5)
    x = _input_for(fft_type, (3,), lengths)

    def f(x):
        return lax.fft(x, fft_type, lengths)

    lowered = funcdiff.jit(f).lower(x)
    assert f"xp.fft.{fft_type.name.lower()}n(" in lowered.as_python()
    out = funcdiff.jit(f)(x)
    np.testing.assert_allclose(out, f(x), rtol=1e-13, atol=1e-13)
    assert out.dtype == f(x).dtype
    loss = lambda x: jnp.sum(jnp.real(f(x) * np.conj(f(x))))  # noqa: E731
    np.testing.assert_allclose(funcdiff.jit(funcdiff.grad(loss))(x), funcdiff.grad(loss)(x),
                               rtol=1e-12, atol=1e-12)


def _eqn_flops(f, *args):
    closed = funcdiff.make_jaxpr(f)(*args)
    return [cost_mod.eqn_cost(e).flops for e in closed.eqns if e.primitive.name == "fft"]


def test_cost_is_5_n_log2_n_per_transform():
    x = _complex((3, 8, 4))
    assert _eqn_flops(lambda x: lax.fft(x, "fft", (8, 4)), x) == [3 * 5 * 32 * 5]
    assert _eqn_flops(lambda x: lax.fft(x, "ifft", (4,)), x) == [24 * 5 * 4 * 2]
    r = RNG.standard_normal((2, 16))
    assert _eqn_flops(jnp.fft.rfft, r) == [2 * 5 * 16 * 4 // 2]
    assert _eqn_flops(lambda x: jnp.fft.irfft(x, 16), jnp.fft.rfft(r)) == [2 * 5 * 16 * 4 // 2]
    assert _eqn_flops(lambda x: lax.fft(x, "fft", (1,)), _complex((5, 1))) == [0]
    # Reverse mode: one more transform of the same size (the transpose).
    grad_flops = _eqn_flops(funcdiff.grad(_penalty), RNG.standard_normal(16))
    assert grad_flops == [160, 160]
    # cost_analysis sees the same in both modes: the function's transform, and one more in
    # reverse mode (a JVP pushes its tangent through a transform too).
    report = funcdiff.cost_analysis(_penalty, repeats=0)(RNG.standard_normal(16)).to_dict()
    f_flops = report["f"]["flops"]
    assert f_flops >= 160
    assert report["vjp"]["flops"] - f_flops >= 160 and report["jvp"]["flops"] - f_flops >= 160


def test_single_precision_is_kept_as_in_jax_and_numpy():
    x32 = RNG.standard_normal(8).astype(np.float32)
    assert jnp.fft.fft(x32).dtype == np.complex64
    assert jnp.fft.rfft(x32).dtype == np.complex64
    assert jnp.fft.irfft(jnp.fft.rfft(x32)).dtype == np.float32
    assert jnp.fft.hfft(x32).dtype == np.float32
    assert jnp.fft.ihfft(x32).dtype == np.complex64
    assert funcdiff.grad(_penalty)(x32).dtype == np.float32
    assert jnp.fft.fft(np.arange(4)).dtype == np.complex128
    assert jnp.fft.rfft(np.arange(4, dtype=np.int32)).dtype == np.complex128
    for f in (jnp.fft.fft, jnp.fft.rfft):
        assert funcdiff.make_jaxpr(f)(x32).out_avals[0].dtype == np.complex64


def test_public_modules():
    import funcdiff.numpy.fft as fft_module

    assert jnp.fft is fft_module
    assert len(fft_module.__all__) == 18
    assert all(callable(getattr(fft_module, n)) for n in fft_module.__all__)
    assert lax.FftType.RFFT == 2 and str(lax.FftType.IRFFT) == "IRFFT"
    text = str(funcdiff.make_jaxpr(jnp.fft.rfft)(np.ones(4)))
    assert "fft[fft_lengths=(4,) fft_type=RFFT]" in text


# ---- errors ---------------------------------------------------------------------------------


def test_errors_name_the_argument_and_the_fix():
    x = np.ones((2, 4))
    with pytest.raises(TypeError, match="fft_lengths .* needs trailing dimensions .*pad or crop"):
        funcdiff.make_jaxpr(lambda x: lax.fft(x, "fft", (5,)))(x)
    with pytest.raises(TypeError, match="names 3 trailing dimensions, but the operand has 2"):
        funcdiff.make_jaxpr(lambda x: lax.fft(x, "fft", (2, 4, 4)))(x)
    with pytest.raises(TypeError, match="RFFT needs a real operand, got complex128"):
        lax.fft(x + 0j, "rfft", (4,))
    with pytest.raises(ValueError, match="unknown fft_type 'dct'"):
        lax.fft(x, "dct", (4,))
    with pytest.raises(ValueError, match='rfft: invalid norm .*"ortho"'):
        jnp.fft.rfft(x, norm="unitary")
    with pytest.raises(ValueError, match=r"irfft: invalid number of FFT data points \(0\)"):
        jnp.fft.irfft(np.ones(1))
    with pytest.raises(ValueError, match="fftn: repeated axes"):
        jnp.fft.fftn(x, axes=(0, 0))
    with pytest.raises(ValueError, match="s .* and axes .* have different lengths"):
        jnp.fft.fftn(x, s=(2, 2), axes=(0,))
    with pytest.raises(np.exceptions.AxisError, match="fft: axis 2 is out of bounds"):
        jnp.fft.fft(x, axis=2)
    with pytest.raises(ValueError, match="rfft transforms one axis, got axis=.* use rfftn"):
        jnp.fft.rfft(x, axis=(0, 1))
    with pytest.raises(np.exceptions.AxisError, match="0-d"):
        jnp.fft.fft(1.0)
    with pytest.raises(np.exceptions.AxisError, match="ifftshift: axis -3 is out of bounds"):
        jnp.fft.ifftshift(x, axes=(0, -3))
    with pytest.raises(ValueError, match="fftfreq: n must be a positive integer"):
        jnp.fft.fftfreq(0)


def test_fftfreq_differentiates_in_the_spacing():
    d = 0.25
    g = funcdiff.grad(lambda d: jnp.sum(jnp.fft.fftfreq(6, d)))(d)
    k = np.fft.fftfreq(6) * 6
    np.testing.assert_allclose(g, -np.sum(k) / (6 * d**2))
    g = funcdiff.grad(lambda d: jnp.sum(jnp.fft.rfftfreq(6, d) ** 2))(d)
    k = np.arange(4)
    np.testing.assert_allclose(g, -2 * np.sum(k**2) / (36 * d**3))
    assert jnp.fft.fftfreq(4, dtype=np.float32).dtype == np.float32
    assert math.isclose(float(jnp.fft.fftshift(jnp.fft.fftfreq(5))[0]), -0.4)
