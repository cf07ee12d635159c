"""The special matrices of `funcdiff.scipy.linalg` (companion, convolution_matrix, dft,
fiedler, fiedler_companion, hadamard, helmert, hilbert, invhilbert, leslie, pascal,
invpascal): values against SciPy over sizes, dtypes kept, batch axes, derivatives of the
matrices built from arrays against finite differences, `jit` against eager, `vmap` against a
loop, and the errors for bad arguments."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla

import funcdiff
from funcdiff.scipy import linalg as fsl
from funcdiff.test_util import check_grads

RNG = np.random.default_rng(7)


def _vec(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n) + 2.0  # (leading coefficient ≠ 0)


@pytest.mark.parametrize("n", [2, 3, 4, 6])
def test_companion_fiedler_leslie_match_scipy(n):
    a = _vec(n)
    np.testing.assert_allclose(fsl.companion(a), sla.companion(a), rtol=1e-15)
    np.testing.assert_allclose(fsl.fiedler(a), sla.fiedler(a), rtol=1e-15)
    np.testing.assert_allclose(fsl.fiedler_companion(a), sla.fiedler_companion(a), rtol=1e-15)
    np.testing.assert_allclose(fsl.leslie(a, a[1:] / 4), sla.leslie(a, a[1:] / 4), rtol=1e-15)


@pytest.mark.parametrize("n", [3, 5, 6, 7])
def test_companion_matrices_have_the_roots_as_eigenvalues(n):
    roots = np.arange(1.0, n)
    poly = np.poly(roots)
    for make in (fsl.companion, fsl.fiedler_companion):
        eig = np.sort(np.linalg.eigvals(np.asarray(make(poly))).real)
        np.testing.assert_allclose(eig, roots, rtol=1e-6)


@pytest.mark.parametrize("m", [1, 2, 5])
@pytest.mark.parametrize("n", [1, 3, 6])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_convolution_matrix_matches_scipy_and_convolve(m, n, mode):
    a, v = _vec(m, 1), _vec(n, 2)
    t = fsl.convolution_matrix(a, n, mode)
    np.testing.assert_allclose(t, sla.convolution_matrix(a, n, mode), rtol=1e-15)
    np.testing.assert_allclose(t @ v, np.convolve(a, v, mode), rtol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_constant_matrices_match_scipy(n):
    for scale in (None, "sqrtn", "n"):
        np.testing.assert_allclose(fsl.dft(n, scale), sla.dft(n, scale), atol=1e-14)
    assert fsl.dft(n).dtype == np.complex128
    assert fsl.dft(n, dtype=np.complex64).dtype == np.complex64
    for full in (False, True):
        np.testing.assert_allclose(fsl.helmert(n, full), sla.helmert(n, full), atol=1e-15)
    np.testing.assert_allclose(fsl.hilbert(n), sla.hilbert(n), rtol=1e-15)
    np.testing.assert_allclose(fsl.invhilbert(n), sla.invhilbert(n, exact=True).astype(float))
    for kind in ("symmetric", "lower", "upper"):
        np.testing.assert_array_equal(fsl.pascal(n, kind), sla.pascal(n, kind))
        np.testing.assert_array_equal(fsl.invpascal(n, kind), sla.invpascal(n, kind))
        np.testing.assert_allclose(fsl.pascal(n, kind) @ fsl.invpascal(n, kind), np.eye(n),
                                   atol=1e-12)
    if n & (n - 1) == 0:
        np.testing.assert_array_equal(fsl.hadamard(n), sla.hadamard(n))
        assert fsl.hadamard(n, np.float32).dtype == np.float32


def test_invhilbert_is_exact_where_float_arithmetic_is_not():
    """Large entries come from exact integers: they equal SciPy's exact result rounded once."""
    exact = sla.invhilbert(14, exact=True)
    np.testing.assert_array_equal(fsl.invhilbert(14), np.array(
        [[float(v) for v in row] for row in exact]))


def test_dtypes_kept_and_batch_axes():
    a32 = _vec(4).astype(np.float32)
    for make in (fsl.companion, fsl.fiedler, fsl.fiedler_companion):
        assert make(a32).dtype == np.float32
    assert fsl.companion(np.array([1, 2, 3])).dtype == np.float64
    assert fsl.leslie(a32, a32[1:]).dtype == np.float32
    batch = RNG.standard_normal((2, 3, 4)) + 2.0
    for make in (fsl.companion, fsl.fiedler, fsl.fiedler_companion):
        out = make(batch)
        for idx in np.ndindex(2, 3):
            np.testing.assert_allclose(out[idx], make(batch[idx]), rtol=1e-15)
    out = fsl.convolution_matrix(batch, 3, "same")
    np.testing.assert_allclose(out[1, 2], fsl.convolution_matrix(batch[1, 2], 3, "same"))
    lz = fsl.leslie(batch, np.full(3, 0.5))  # s broadcast against f's batch axes
    np.testing.assert_allclose(lz[0, 1], sla.leslie(batch[0, 1], np.full(3, 0.5)))


def test_gradients_match_finite_differences():
    a = _vec(5, 3)
    check_grads(fsl.companion, (a,), order=2)
    check_grads(fsl.fiedler_companion, (a,), order=2)
    check_grads(fsl.fiedler, (np.array([0.3, 1.4, -0.5, 2.0]),), order=1)
    check_grads(fsl.leslie, (a, a[1:]), order=1)
    check_grads(lambda a: fsl.convolution_matrix(a, 4, "valid"), (a,), order=1)


@pytest.mark.parametrize("make", [fsl.companion, fsl.fiedler, fsl.fiedler_companion,
                                  lambda a: fsl.convolution_matrix(a, 3, "same"),
                                  lambda a: fsl.leslie(a, a[1:] * 0.5)])
def test_jit_and_vmap(make):
    batch = RNG.standard_normal((3, 5)) + 2.0
    np.testing.assert_allclose(funcdiff.jit(make)(batch[0]), make(batch[0]), rtol=1e-15)
    np.testing.assert_allclose(funcdiff.vmap(make)(batch), np.stack([make(b) for b in batch]),
                               rtol=1e-15)


def test_errors():
    with pytest.raises(ValueError, match="companion: a needs at least 2 coefficients"):
        fsl.companion(np.ones(1))
    with pytest.raises(ValueError, match="expected arrays of at least one dimension"):
        fsl.fiedler(1.0)
    with pytest.raises(ValueError, match="mode must be 'full', 'same' or 'valid'"):
        fsl.convolution_matrix(np.ones(3), 2, "wrap")
    with pytest.raises(ValueError, match="n must be a non-negative integer"):
        fsl.hilbert(2.5)
    with pytest.raises(ValueError, match="power of 2"):
        fsl.hadamard(6)
    with pytest.raises(ValueError, match="kind must be"):
        fsl.pascal(3, "diagonal")
    with pytest.raises(ValueError, match="s one shorter"):
        fsl.leslie(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="dtype must be complex"):
        fsl.dft(3, dtype=np.float64)
