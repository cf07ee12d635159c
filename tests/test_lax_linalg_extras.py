"""`funcdiff.lax.linalg`'s composed functions (`symmetric_product`, `lu_pivots_to_permutation`,
`householder_product`, `hessenberg`, `tridiagonal`) against LAPACK through SciPy (JAX 0.10.2
returns LAPACK's outputs for each; checked by hand against it), with jit/vmap agreement and
derivatives against finite differences. `tridiagonal_solve` is a primitive: its record is in
tests/lax_table.py; its singular systems and JAX's gradient conventions are checked here."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from scipy.linalg import lapack

import funcdiff
import funcdiff.numpy as jnp
from funcdiff.lax import linalg
from funcdiff.test_util import check_grads

RNG = np.random.default_rng(7)


def _normal(shape, complex_=False):
    x = RNG.normal(size=shape)
    return x + 1j * RNG.normal(size=shape) if complex_ else x


@pytest.mark.parametrize("n", [1, 2, 3, 5])
@pytest.mark.parametrize("complex_", [False, True])
def test_hessenberg_is_lapacks_gehrd(n, complex_):
    a = _normal((n, n), complex_)
    gehrd = lapack.zgehrd if complex_ else lapack.dgehrd
    packed, tau, info = gehrd(a)
    assert info == 0
    h, taus = linalg.hessenberg(a)
    np.testing.assert_allclose(h, packed, atol=1e-12)
    np.testing.assert_allclose(taus, tau[: max(n - 1, 0)], atol=1e-12)
    assert h.dtype == a.dtype and taus.shape == (max(n - 1, 0),)


@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("complex_", [False, True])
def test_tridiagonal_is_lapacks_sytrd(lower, complex_):
    a = _normal((4, 4), complex_)
    sytrd = lapack.zhetrd if complex_ else lapack.dsytrd
    c, d, e, tau, info = sytrd(a, lower=int(lower))
    assert info == 0
    out = linalg.tridiagonal(a, lower=lower)
    for got, want in zip(out, (c, d, e, tau)):
        np.testing.assert_allclose(got, want, atol=1e-12)
    assert out[1].dtype == np.float64 and out[3].dtype == a.dtype


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (5, 2)])
@pytest.mark.parametrize("complex_", [False, True])
def test_householder_product_is_lapacks_orgqr(shape, complex_):
    a = _normal(shape, complex_)
    geqrf, orgqr = (lapack.zgeqrf, lapack.zungqr) if complex_ else (lapack.dgeqrf, lapack.dorgqr)
    qr, tau, _, _ = geqrf(a)
    q = linalg.householder_product(qr, tau)
    np.testing.assert_allclose(q, orgqr(qr, tau)[0], atol=1e-12)
    np.testing.assert_allclose(q, scipy.linalg.qr(a, mode="economic")[0], atol=1e-12)
    # fewer reflectors than columns: the later ones are the identity
    np.testing.assert_allclose(linalg.householder_product(qr, tau[:1]),
                               orgqr(qr, np.concatenate([tau[:1], 0 * tau[1:]]))[0], atol=1e-12)


def test_lu_pivots_to_permutation_matches_scipy_lu():
    a = _normal((3, 5, 5))
    pivots = np.stack([scipy.linalg.lu_factor(m)[1] for m in a]).astype(np.int32)
    perm = linalg.lu_pivots_to_permutation(pivots, 5)
    assert perm.dtype == np.int32 and perm.shape == (3, 5)
    for m, p in zip(a, np.asarray(perm)):
        lower, upper = scipy.linalg.lu(m, permute_l=False)[1:]
        np.testing.assert_allclose(m[p], lower @ upper, atol=1e-12)
    assert linalg.lu_pivots_to_permutation(np.array([2, 2, 2]), 4).tolist() == [2, 0, 1, 3]
    assert linalg.lu_pivots_to_permutation(np.array([1]), 3).tolist() == [1, 0, 2]
    with pytest.raises(ValueError, match="permutation_size=2"):
        linalg.lu_pivots_to_permutation(np.array([0, 1, 2]), 2)
    with pytest.raises(TypeError, match="integer"):
        linalg.lu_pivots_to_permutation(np.array([0.0]), 2)


def test_symmetric_product():
    a, c = _normal((2, 3, 4)), _normal((2, 3, 3))
    out = linalg.symmetric_product(a, c, alpha=2.0, beta=0.5)
    np.testing.assert_allclose(out, 2 * a @ a.swapaxes(-1, -2) + 0.5 * c, atol=1e-12)
    sym = np.asarray(linalg.symmetric_product(a, c, alpha=2.0, beta=0.5, symmetrize_output=True))
    np.testing.assert_allclose(sym, sym.swapaxes(-1, -2))
    np.testing.assert_allclose(np.tril(sym), np.tril(out))
    with pytest.raises(ValueError, match="c_matrix"):
        linalg.symmetric_product(a, c[..., :2, :2])


def test_jit_and_vmap_agree():
    a = _normal((3, 4, 4))
    for f in (linalg.hessenberg, linalg.tridiagonal,
              lambda x: linalg.householder_product(x, x[..., 0, :3]),
              lambda x: linalg.symmetric_product(x, x, beta=2.0)):
        eager = f(a)
        for other in (funcdiff.jit(f)(a), funcdiff.vmap(f)(a)):
            for u, v in zip(funcdiff.tree_util.tree_leaves(eager),
                            funcdiff.tree_util.tree_leaves(other)):
                np.testing.assert_allclose(u, v, atol=1e-12)
    piv = np.array([[1, 2], [2, 2]], np.int32)
    want = linalg.lu_pivots_to_permutation(piv, 3)
    assert funcdiff.jit(linalg.lu_pivots_to_permutation, static_argnums=1)(piv, 3).tolist() == \
        want.tolist()
    assert funcdiff.vmap(lambda p: linalg.lu_pivots_to_permutation(p, 3))(piv).tolist() == \
        want.tolist()


def test_derivatives_against_finite_differences():
    a = _normal((4, 4))
    check_grads(lambda x: linalg.hessenberg(x)[0], (a,), 1)
    check_grads(lambda x: linalg.tridiagonal(x)[1:3], (a,), 1)
    qr, tau, _, _ = lapack.dgeqrf(_normal((4, 3)))
    check_grads(linalg.householder_product, (qr, tau), 2)
    check_grads(lambda x, c: linalg.symmetric_product(x, c, alpha=1.5, beta=-0.5),
                (_normal((3, 2)), _normal((3, 3))), 2)


# ---- tridiagonal_solve: what the generic table does not check ----------------------------------


def _dense(dl, d, du):
    return np.diag(d) + np.diag(dl[1:], -1) + np.diag(du[:-1], 1)


def test_tridiagonal_solve_pivots_and_gives_nans_when_singular():
    dl, d, du = np.array([0.0, 1.0, 1.0]), np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 0.0])
    b = _normal((3, 2))  # d[0] = 0: no solution without a row swap
    np.testing.assert_allclose(linalg.tridiagonal_solve(dl, d, du, b),
                               np.linalg.solve(_dense(dl, d, du), b), atol=1e-12)
    z = np.zeros(3)
    assert np.isnan(np.asarray(linalg.tridiagonal_solve(z, z, z, b))).all()
    with pytest.raises(Exception, match="b of shape"):
        linalg.tridiagonal_solve(dl, d, du, b[:, 0])
    with pytest.raises(Exception, match="one dtype"):
        linalg.tridiagonal_solve(dl.astype(np.float32), d, du, b)


def test_tridiagonal_solve_gradient_as_jax():
    # The unread entries dl[0] and du[-1] get zero derivatives (as JAX); the others those of the
    # dense solve.
    dl, d, du = _normal(5), _normal(5) + 4.0, _normal(5)
    b = _normal((5, 2))

    def loss(dl, d, du, b):
        return jnp.sum(jnp.sin(linalg.tridiagonal_solve(dl, d, du, b)))

    def dense_loss(dl, d, du, b):
        a = jnp.diag(d) + jnp.diag(dl[1:], -1) + jnp.diag(du[:-1], 1)
        return jnp.sum(jnp.sin(jnp.linalg.solve(a, b)))

    got = funcdiff.grad(loss, argnums=(0, 1, 2, 3))(dl, d, du, b)
    want = funcdiff.grad(dense_loss, argnums=(0, 1, 2, 3))(dl, d, du, b)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, atol=1e-12)
    assert got[0][0] == 0 and got[2][-1] == 0
    check_grads(loss, (dl, d, du, b), 2)
    batched = funcdiff.vmap(linalg.tridiagonal_solve, (0, 0, 0, None))(
        np.stack([dl, dl]), np.stack([d, d + 1]), np.stack([du, du]), b)
    np.testing.assert_allclose(batched[1], np.linalg.solve(_dense(dl, d + 1, du), b), atol=1e-12)
    np.testing.assert_allclose(funcdiff.jit(loss)(dl, d, du, b), loss(dl, d, du, b), atol=1e-13)


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (5, 2)])
@pytest.mark.parametrize("complex_", [False, True])
def test_ormqr_is_lapacks_ormqr(shape, complex_):
    a = _normal(shape, complex_)
    geqrf = lapack.zgeqrf if complex_ else lapack.dgeqrf
    qr, tau, _, _ = geqrf(a)
    q = scipy.linalg.qr(a)[0]  # the full m x m Q
    m = shape[0]
    for left in (True, False):
        for transpose in (True, False):
            c = _normal((m, 2) if left else (2, m), complex_)
            op = q.conj().T if transpose else q
            want = op @ c if left else c @ op
            got = linalg.ormqr(qr, tau, c, left=left, transpose=transpose)
            np.testing.assert_allclose(got, want, atol=1e-12)
    with pytest.raises(ValueError, match="rows"):
        linalg.ormqr(qr, tau, np.ones((m + 1, 2)))


@pytest.mark.parametrize("n", [1, 3, 5])
def test_cholesky_update(n):
    x = _normal((n, n))
    r = np.linalg.cholesky(x @ x.T + n * np.eye(n)).T
    w = _normal(n)
    new = np.asarray(linalg.cholesky_update(r, w))
    np.testing.assert_allclose(new, np.linalg.cholesky(r.T @ r + np.outer(w, w)).T, atol=1e-12)
    w[0] = 0.0  # a zero entry: the identity rotation, and finite derivatives through it
    np.testing.assert_allclose(np.asarray(linalg.cholesky_update(r, w)),
                               np.linalg.cholesky(r.T @ r + np.outer(w, w)).T, atol=1e-12)
    check_grads(linalg.cholesky_update, (r, w), 1)
    batched = funcdiff.vmap(linalg.cholesky_update)(np.stack([r, r]), np.stack([w, 2 * w]))
    np.testing.assert_allclose(batched[1], linalg.cholesky_update(r, 2 * w), atol=1e-13)
    np.testing.assert_allclose(funcdiff.jit(linalg.cholesky_update)(r, w),
                               linalg.cholesky_update(r, w), atol=1e-13)
    with pytest.raises(ValueError, match="vector of its size"):
        linalg.cholesky_update(r, np.ones(n + 1))


def test_ormqr_jit_vmap_grad():
    qr, tau, _, _ = lapack.dgeqrf(_normal((4, 3)))
    c = _normal((4, 2))
    f = linalg.ormqr
    np.testing.assert_allclose(funcdiff.jit(f)(qr, tau, c), f(qr, tau, c), atol=1e-13)
    batched = funcdiff.vmap(f, (None, None, 0))(qr, tau, np.stack([c, 2 * c]))
    np.testing.assert_allclose(batched[1], f(qr, tau, 2 * c), atol=1e-13)
    check_grads(lambda a, t, c: f(a, t, c, transpose=True), (qr, tau, c), 2)


# ---- qdwh -------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (6, 2)])
@pytest.mark.parametrize("complex_", [False, True])
def test_qdwh_is_the_polar_decomposition(shape, complex_):
    x = _normal(shape, complex_)
    u, h, num_iters, converged = linalg.qdwh(x)
    # JAX 0.10.2 takes 6 iterations from eps = float64's epsilon on such matrices
    assert bool(converged) and int(num_iters) == 6
    want_u, want_h = scipy.linalg.polar(x)
    np.testing.assert_allclose(u, want_u, atol=1e-12)
    np.testing.assert_allclose(h, want_h, atol=1e-12)


def test_qdwh_options_and_errors():
    x = _normal((5, 3))
    u, _, num_iters, converged = linalg.qdwh(x, max_iterations=2)
    assert int(num_iters) == 2 and not bool(converged)  # (as JAX)
    assert int(linalg.qdwh(x, eps=1e-3)[2]) < 6
    padded = np.zeros((6, 4))
    padded[:5, :3] = x
    u, h, _, _ = linalg.qdwh(padded, dynamic_shape=(5, 3))
    want_u, want_h = scipy.linalg.polar(x)
    np.testing.assert_allclose(u[:5, :3], want_u, atol=1e-12)
    np.testing.assert_allclose(h[:3, :3], want_h, atol=1e-12)
    assert not np.asarray(u)[5:].any() and not np.asarray(h)[3:].any()
    with pytest.raises(ValueError, match="M >= N"):
        linalg.qdwh(x.T)


def test_qdwh_jit_vmap_and_forward_derivative():
    xs = _normal((2, 4, 3))
    batched = funcdiff.vmap(linalg.qdwh)(xs)
    jitted = funcdiff.jit(linalg.qdwh)(xs[1])
    for got in (jitted, [b[1] for b in batched]):
        for g, w in zip(got, linalg.qdwh(xs[1])):
            np.testing.assert_allclose(g, w, atol=1e-13)
    # the polar factor's derivative, against finite differences (forward mode: the
    # convergence loop is a while_loop)
    check_grads(lambda x: linalg.qdwh(x)[0], (xs[0],), 1, modes=("fwd",), atol=1e-6, rtol=1e-6)
