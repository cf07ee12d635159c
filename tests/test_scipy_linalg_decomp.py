"""`funcdiff.scipy.linalg`'s polar, expm_frechet, qr_multiply, eigh_tridiagonal, hessenberg
and solve_sylvester: values against SciPy (real and complex, edge sizes), float32 kept, batch
axes, derivatives against finite differences, `jit` against eager, `vmap` against a loop, and
the errors for bad arguments."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla

import funcdiff
import funcdiff.numpy as jnp
from funcdiff.scipy import linalg as fsl
from funcdiff.test_util import check_grads

RNG = np.random.default_rng(5)


def _mat(m: int, n: int | None = None, seed: int = 0, complex_: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m, m if n is None else n))
    return x + 1j * rng.standard_normal(x.shape) if complex_ else x


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (5, 3), (3, 5)])
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("complex_", [False, True])
def test_polar_matches_scipy(shape, side, complex_):
    a = _mat(*shape, complex_=complex_)
    u, p = fsl.polar(a, side)
    if shape[0] >= shape[1] or side == "left":  # (SciPy's own convention for wide 'right')
        ru, rp = sla.polar(a, side)
        np.testing.assert_allclose(u, ru, atol=1e-12)
        np.testing.assert_allclose(p, rp, atol=1e-12)
    np.testing.assert_allclose(u @ p if side == "right" else p @ u, a, atol=1e-12)
    np.testing.assert_allclose(p, np.conj(p.T), atol=1e-12)


def test_polar_float32_batch_grad_jit_vmap():
    a = _mat(3, seed=1).astype(np.float32)
    assert all(x.dtype == np.float32 for x in fsl.polar(a))
    batch = RNG.standard_normal((2, 3, 3))
    u, p = fsl.polar(batch)
    np.testing.assert_allclose(u[1], sla.polar(batch[1])[0], atol=1e-12)
    check_grads(lambda a: fsl.polar(a)[1], (_mat(3, seed=2),), order=1)
    np.testing.assert_allclose(funcdiff.jit(fsl.polar)(batch[0])[0], u[0], atol=1e-13)
    np.testing.assert_allclose(funcdiff.vmap(lambda a: fsl.polar(a)[1])(batch), p, atol=1e-13)


@pytest.mark.parametrize("n", [1, 2, 4])
@pytest.mark.parametrize("complex_", [False, True])
def test_expm_frechet_matches_scipy(n, complex_):
    a, e = _mat(n, seed=3, complex_=complex_) * 0.5, _mat(n, seed=4, complex_=complex_)
    value, deriv = fsl.expm_frechet(a, e)
    rv, rd = sla.expm_frechet(a, e)
    np.testing.assert_allclose(value, rv, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(deriv, rd, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fsl.expm_frechet(a, e, compute_expm=False), rd, rtol=1e-10,
                               atol=1e-12)


def test_expm_frechet_grad_jit_vmap_dtype():
    a, e = _mat(3, seed=5) * 0.3, _mat(3, seed=6)
    check_grads(lambda a, e: fsl.expm_frechet(a, e, compute_expm=False), (a, e), order=1)
    d = fsl.expm_frechet(a, e, compute_expm=False)
    np.testing.assert_allclose(funcdiff.jit(lambda a, e: fsl.expm_frechet(a, e)[1])(a, e), d,
                               rtol=1e-12)
    batch = np.stack([a, 2 * a])
    out = funcdiff.vmap(lambda a: fsl.expm_frechet(a, e, compute_expm=False))(batch)
    np.testing.assert_allclose(out[1], sla.expm_frechet(2 * a, e)[1], rtol=1e-10)
    assert fsl.expm_frechet(a.astype(np.float32), e.astype(np.float32))[1].dtype == np.float32


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4)])
@pytest.mark.parametrize("mode", ["left", "right"])
@pytest.mark.parametrize("conjugate", [False, True])
def test_qr_multiply_matches_scipy(shape, mode, conjugate):
    a = _mat(*shape, seed=7, complex_=True)
    k, m = min(shape), shape[0]
    for c in (_mat(k if mode == "left" else 2, 2 if mode == "left" else m, seed=8),
              RNG.standard_normal(k if mode == "left" else m)):
        got, r = fsl.qr_multiply(a, c, mode, conjugate=conjugate)
        ref, rr = sla.qr_multiply(a, c, mode, conjugate=conjugate)
        # Q's columns (and R's rows) are fixed up to a phase: compare through R.
        np.testing.assert_allclose(np.abs(np.diag(r)), np.abs(np.diag(rr)), rtol=1e-10)
        q = np.linalg.qr(a)[0]
        q = np.conj(q) if conjugate else q
        want = q @ c if mode == "left" else c @ q
        np.testing.assert_allclose(got, want, atol=1e-12)
        assert got.shape == ref.shape


def test_qr_multiply_grad_and_errors():
    a, c = _mat(4, 3, seed=9), _mat(3, 2, seed=10)
    check_grads(lambda a, c: fsl.qr_multiply(a, c, "left")[0], (a, c), order=1)
    with pytest.raises(NotImplementedError, match="pivoting"):
        fsl.qr_multiply(a, c, pivoting=True)
    with pytest.raises(ValueError, match="c needs 4 columns"):
        fsl.qr_multiply(a, c, "right")


@pytest.mark.parametrize("n", [1, 2, 6])
def test_eigh_tridiagonal_matches_scipy(n):
    d, e = RNG.standard_normal(n), RNG.standard_normal(n - 1)
    w = fsl.eigh_tridiagonal(d, e, eigvals_only=True)
    np.testing.assert_allclose(w, sla.eigh_tridiagonal(d, e, eigvals_only=True), atol=1e-12)
    w, v = fsl.eigh_tridiagonal(d, e)
    t = np.diag(d) + np.diag(e, 1) + np.diag(e, -1)
    np.testing.assert_allclose(t @ v, v * w, atol=1e-12)
    lo = n // 2
    sel = fsl.eigh_tridiagonal(d, e, eigvals_only=True, select="i", select_range=(lo, n - 1))
    np.testing.assert_allclose(sel, sla.eigh_tridiagonal(d, e, True, "i", (lo, n - 1)),
                               atol=1e-12)


def test_eigh_tridiagonal_grad_jit_vmap_errors():
    d, e = np.array([1.0, 2.5, 4.0]), np.array([0.3, -0.2])
    check_grads(lambda d, e: fsl.eigh_tridiagonal(d, e, eigvals_only=True), (d, e), order=1)
    f = lambda d: fsl.eigh_tridiagonal(d, e, eigvals_only=True)  # noqa: E731
    np.testing.assert_allclose(funcdiff.jit(f)(d), f(d), atol=1e-13)
    np.testing.assert_allclose(funcdiff.vmap(f)(np.stack([d, d + 1])), np.stack([f(d), f(d) + 1]),
                               atol=1e-12)
    assert f(d.astype(np.float32)).dtype == np.float64  # (e is float64)
    with pytest.raises(NotImplementedError, match="select='v'"):
        fsl.eigh_tridiagonal(d, e, select="v", select_range=(0, 1))
    with pytest.raises(ValueError, match="select_range"):
        fsl.eigh_tridiagonal(d, e, select="i", select_range=(2, 5))
    with pytest.raises(ValueError, match="e one shorter"):
        fsl.eigh_tridiagonal(d, d)


@pytest.mark.parametrize("n", [1, 2, 3, 6])
@pytest.mark.parametrize("complex_", [False, True])
def test_hessenberg_matches_scipy(n, complex_):
    a = _mat(n, seed=11, complex_=complex_)
    h, q = fsl.hessenberg(a, calc_q=True)
    rh, rq = sla.hessenberg(a, calc_q=True)
    np.testing.assert_allclose(h, rh, atol=1e-12)
    np.testing.assert_allclose(q, rq, atol=1e-12)
    np.testing.assert_allclose(fsl.hessenberg(a), rh, atol=1e-12)
    assert np.all(np.asarray(h)[np.tril_indices(n, -2)] == 0)


def test_hessenberg_float32_batch_grad_jit_vmap():
    a = _mat(4, seed=12)
    assert fsl.hessenberg(a.astype(np.float32)).dtype == np.float32
    batch = RNG.standard_normal((2, 4, 4))
    out = fsl.hessenberg(batch)
    np.testing.assert_allclose(out[1], sla.hessenberg(batch[1]), atol=1e-12)
    np.testing.assert_allclose(funcdiff.vmap(fsl.hessenberg)(batch), out, atol=1e-13)
    np.testing.assert_allclose(funcdiff.jit(fsl.hessenberg)(a), sla.hessenberg(a), atol=1e-12)
    check_grads(lambda a: fsl.hessenberg(a, calc_q=True), (a,), order=1)


@pytest.mark.parametrize("m,n", [(1, 1), (3, 2), (4, 4)])
@pytest.mark.parametrize("complex_", [False, True])
def test_solve_sylvester_matches_scipy(m, n, complex_):
    a, b = _mat(m, seed=13, complex_=complex_), _mat(n, seed=14, complex_=complex_)
    c = _mat(m, n, seed=15, complex_=complex_)
    x = fsl.solve_sylvester(a, b, c)
    np.testing.assert_allclose(x, sla.solve_sylvester(a, b, c), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(a @ x + x @ b, c, atol=1e-11)


def test_solve_sylvester_grad_jit_vmap_errors():
    a, b, c = _mat(3, seed=16) + 3 * np.eye(3), _mat(2, seed=17) + 3 * np.eye(2), _mat(3, 2)
    check_grads(fsl.solve_sylvester, (a, b, c), order=1)
    x = fsl.solve_sylvester(a, b, c)
    np.testing.assert_allclose(funcdiff.jit(fsl.solve_sylvester)(a, b, c), x, rtol=1e-12)
    out = funcdiff.vmap(lambda c: fsl.solve_sylvester(a, b, c))(np.stack([c, 2 * c]))
    np.testing.assert_allclose(out[1], 2 * x, rtol=1e-12)
    assert fsl.solve_sylvester(*(v.astype(np.float32) for v in (a, b, c))).dtype == np.float32
    with pytest.raises(ValueError, match=r"C \(m, n\) are needed"):
        fsl.solve_sylvester(a, b, c.T)
    with pytest.raises(ValueError, match="method must be"):
        fsl.solve_sylvester(a, b, c, method="bartels")
    assert isinstance(jnp.asarray(x), funcdiff.Array)


@pytest.mark.parametrize("n", [1, 2, 5, 7])
def test_rsf2csf_matches_scipy(n):
    for seed in range(3):
        a = _mat(n, seed=20 + seed)
        t, z = sla.schur(a)
        got_t, got_z = fsl.rsf2csf(t, z)
        ref_t, ref_z = sla.rsf2csf(t, z)
        np.testing.assert_allclose(got_t, ref_t, atol=1e-12)
        np.testing.assert_allclose(got_z, ref_z, atol=1e-12)
        np.testing.assert_allclose(got_z @ got_t @ np.conj(got_z.T), a, atol=1e-12)
        assert np.all(np.asarray(got_t)[np.tril_indices(n, -1)] == 0)


def test_rsf2csf_jit_dtype_errors():
    t, z = sla.schur(_mat(4, seed=30))
    got = fsl.rsf2csf(t, z)
    for x, y in zip(funcdiff.jit(fsl.rsf2csf)(t, z), got):
        np.testing.assert_allclose(x, y, atol=1e-13)
    t2, z2 = sla.schur(_mat(4, seed=31))
    batched = funcdiff.vmap(fsl.rsf2csf)(np.stack([t, t2]), np.stack([z, z2]))
    np.testing.assert_allclose(batched[0][1], sla.rsf2csf(t2, z2)[0], atol=1e-12)
    np.testing.assert_allclose(batched[1][0], got[1], atol=1e-12)
    assert fsl.rsf2csf(t.astype(np.float32), z.astype(np.float32))[0].dtype == np.complex64
    assert got[0].dtype == np.complex128
    with pytest.raises(ValueError, match="one shape"):
        fsl.rsf2csf(t, z[:3, :3])


def _check_schur(a, t, z, output):
    n = a.shape[-1]
    t, z = np.asarray(t), np.asarray(z)
    np.testing.assert_allclose(z @ t @ np.conj(z.T), a, atol=1e-11 * max(1, np.abs(a).max()))
    np.testing.assert_allclose(np.conj(z.T) @ z, np.eye(n), atol=1e-12)
    assert np.all(t[np.tril_indices(n, -2 if output == "real" else -1)] == 0)
    if output == "real" and n > 1:
        sub = np.diag(t, -1)
        assert not np.any((sub[:-1] != 0) & (sub[1:] != 0))  # 2x2 blocks do not overlap
        for k in np.nonzero(sub)[0]:  # standard form: equal diagonal, bc < 0
            assert abs(t[k, k] - t[k + 1, k + 1]) < 1e-12 and t[k, k + 1] * t[k + 1, k] < 0


def _sorted(w):
    w = np.asarray(w)
    return w[np.lexsort((w.imag, np.round(w.real, 8)))]


@pytest.mark.parametrize("n", [1, 2, 3, 6, 12])
@pytest.mark.parametrize("output", ["real", "complex"])
@pytest.mark.parametrize("kind", ["random", "symmetric", "triangular", "rotations", "complex"])
def test_schur_against_scipy(n, output, kind):
    a = _mat(n, seed=40 + n, complex_=kind == "complex")
    if kind == "symmetric":
        a = a + a.T
    elif kind == "triangular":
        a = np.triu(a)
    elif kind == "rotations":
        a = np.kron(np.eye(n), [[0.0, 1.0], [-1.0, 0.0]])[:n, :n] + np.diag(np.arange(n))
    t, z = fsl.schur(a, output)
    _check_schur(a, t, z, output if kind != "complex" else "complex")
    ref_t = sla.schur(a, output)[0]
    assert np.asarray(t).dtype == ref_t.dtype
    np.testing.assert_allclose(_sorted(np.linalg.eigvals(np.asarray(t))),
                               _sorted(np.linalg.eigvals(ref_t)), atol=1e-9)


def test_schur_hard_matrices():
    cases = [np.zeros((4, 4)), np.eye(5) + np.eye(5, k=1), np.eye(6, k=1),
             sla.companion(np.poly(np.arange(1.0, 8.0))), np.roll(np.eye(6), 1, 0),
             sla.hilbert(8), _mat(40, seed=50)]
    for a in cases:
        for output in ("real", "complex"):
            t, z = fsl.schur(a, output)
            _check_schur(a, t, z, output)


def test_schur_float32_batch_jit_vmap():
    a = _mat(5, seed=51)
    t32, z32 = fsl.schur(a.astype(np.float32))
    assert t32.dtype == np.float32 and z32.dtype == np.float32
    np.testing.assert_allclose(z32 @ t32 @ z32.T, a, atol=1e-4)
    assert fsl.schur(a.astype(np.float32), "complex")[0].dtype == np.complex64
    batch = RNG.standard_normal((3, 4, 4))
    t, z = fsl.schur(batch)
    for i in range(3):
        np.testing.assert_allclose(t[i], fsl.schur(batch[i])[0], atol=1e-13)
    tj, zj = funcdiff.jit(fsl.schur)(batch[0])
    np.testing.assert_allclose(tj, t[0], atol=1e-13)
    tv, zv = funcdiff.vmap(lambda x: fsl.schur(x, "complex"))(batch)
    np.testing.assert_allclose(tv[2], fsl.schur(batch[2], "complex")[0], atol=1e-13)


def test_schur_complex_form_derivatives():
    """|T_ij| does not depend on the phases of the Schur vectors, so it is a function of A."""
    a = _mat(4, seed=52) + np.diag([0.0, 3.0, 6.0, 9.0])  # distinct eigenvalues
    mask = np.tri(4, 4, -1)  # (keeps |.| away from 0 below the diagonal)
    check_grads(lambda x: jnp.abs(fsl.schur(x, "complex")[0] + mask), (a,), order=2)
    ac = a + 1j * _mat(4, seed=53)
    check_grads(lambda x: jnp.abs(fsl.schur(x, "complex")[0] + mask), (ac,), order=1)
    # The derivative of Z is consistent with T's: d(Z T Zᴴ) = dA.
    f = lambda x: (lambda t, z: z @ t @ jnp.conj(z.T))(*fsl.schur(x, "complex"))  # noqa: E731
    _, tangent = funcdiff.jvp(f, (a,), (np.ones((4, 4)),))
    np.testing.assert_allclose(tangent, np.ones((4, 4)), atol=1e-10)


def test_schur_errors():
    with pytest.raises(NotImplementedError, match="output='complex' only"):
        funcdiff.grad(lambda x: jnp.sum(fsl.schur(x)[0]))(_mat(3))
    with pytest.raises(ValueError, match="output must be 'real' or 'complex'"):
        fsl.schur(_mat(3), "quasi")
    with pytest.raises(ValueError, match="square matrix"):
        fsl.schur(_mat(3, 2))
    with pytest.raises(NotImplementedError, match="sorting the eigenvalues"):
        funcdiff.lax.linalg.schur(_mat(3), sort_eig_vals=True)


@pytest.mark.parametrize("n", [1, 2, 4, 7])
@pytest.mark.parametrize("complex_", [False, True])
def test_sqrtm_and_funm_match_scipy(n, complex_):
    a = _mat(n, seed=60 + n, complex_=complex_) + n * np.eye(n)
    x = fsl.sqrtm(a)
    assert x.dtype == np.complex128
    np.testing.assert_allclose(x @ x, a, atol=1e-11)
    np.testing.assert_allclose(x, sla.sqrtm(a), atol=1e-11)
    for fn, ref in ((jnp.exp, np.exp), (jnp.sin, np.sin), (lambda w: w**3, lambda w: w**3)):
        f, err = fsl.funm(a, fn, disp=False)
        rf, rerr = sla.funm(a, ref, disp=False)
        np.testing.assert_allclose(f, rf, rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(err, rerr, rtol=0.2)  # (an estimate near eps)
    np.testing.assert_allclose(fsl.funm(a, lambda w: w**3), a @ a @ a, rtol=1e-9, atol=1e-9)


def test_sqrtm_funm_float32_grad_jit_vmap():
    a = _mat(3, seed=70) + 3 * np.eye(3)
    assert fsl.sqrtm(a.astype(np.float32)).dtype == np.complex64
    assert fsl.funm(a.astype(np.float32), jnp.exp).dtype == np.complex64
    check_grads(lambda a: fsl.sqrtm(a), (a,), order=1)
    check_grads(lambda a: fsl.funm(a, jnp.exp), (a,), order=1)
    # The derivative of funm(a, exp) is that of expm.
    np.testing.assert_allclose(funcdiff.jvp(lambda a: fsl.funm(a, jnp.exp), (a,), (a.T,))[1],
                               sla.expm_frechet(a, a.T)[1], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(funcdiff.jit(fsl.sqrtm)(a), fsl.sqrtm(a), atol=1e-13)
    batch = np.stack([a, a + np.eye(3)])
    np.testing.assert_allclose(funcdiff.vmap(fsl.sqrtm)(batch)[1], sla.sqrtm(batch[1]),
                               atol=1e-11)
    np.testing.assert_allclose(funcdiff.vmap(lambda m: fsl.funm(m, jnp.exp))(batch)[0],
                               sla.expm(a), rtol=1e-10)
    with pytest.raises(ValueError, match=r"sqrtm: A must be a square matrix \(N, N\)"):
        fsl.sqrtm(np.ones((2, 3)))
