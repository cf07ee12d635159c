"""Linear algebra beyond the generic tables: the worked examples of the issue (a Gaussian-process
likelihood, a Newton step), `funcdiff.scipy.linalg` against SciPy, `funcdiff.lax.linalg`'s
JAX signatures, the cost rules, `jit` against eager, and the documented behaviour at
degenerate points."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import lax
from funcdiff._src.interpreters.cost import jaxpr_cost
from funcdiff.scipy import linalg as fsl
from funcdiff.test_util import check_grads

RNG = np.random.default_rng(1234)


def _spd(n: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, n))
    return x @ x.T + n * np.eye(n)


# ---- worked example: a Gaussian-process likelihood ------------------------------------------

X_GP = np.linspace(-2.0, 2.0, 9)
Y_GP = np.sin(2.0 * X_GP) + 0.1 * np.cos(7.0 * X_GP)


def _gp_nll(params, x=X_GP, y=Y_GP):
    """Negative log marginal likelihood of a GP with an RBF kernel; `params` holds the logs of
    the length scale, the signal variance and the noise variance."""
    log_ell, log_sf2, log_sn2 = params[0], params[1], params[2]
    d2 = (x[:, None] - x[None, :]) ** 2
    k = jnp.exp(log_sf2) * jnp.exp(-0.5 * d2 / jnp.exp(2 * log_ell)) + jnp.exp(log_sn2) * \
        jnp.eye(len(x))
    c = fsl.cho_factor(k, lower=True)
    alpha = fsl.cho_solve(c, y)
    _, logdet = jnp.linalg.slogdet(k)
    return 0.5 * jnp.dot(y, alpha) + 0.5 * logdet + 0.5 * len(x) * np.log(2 * np.pi)


def _gp_nll_numpy(params):
    log_ell, log_sf2, log_sn2 = params
    d2 = (X_GP[:, None] - X_GP[None, :]) ** 2
    k = np.exp(log_sf2) * np.exp(-0.5 * d2 / np.exp(2 * log_ell)) + np.exp(log_sn2) * \
        np.eye(len(X_GP))
    return 0.5 * Y_GP @ np.linalg.solve(k, Y_GP) + 0.5 * np.linalg.slogdet(k)[1] + \
        0.5 * len(X_GP) * np.log(2 * np.pi)


def test_gp_likelihood_gradient_matches_finite_differences():
    params = np.array([np.log(0.7), np.log(1.3), np.log(0.05)])
    assert np.isclose(_gp_nll(params), _gp_nll_numpy(params), rtol=1e-12)
    g = funcdiff.grad(_gp_nll)(params)
    eps = 1e-6
    fd = np.array([(_gp_nll_numpy(params + eps * e) - _gp_nll_numpy(params - eps * e)) /
                   (2 * eps) for e in np.eye(3)])
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(funcdiff.jit(funcdiff.grad(_gp_nll))(params), g, rtol=1e-10)
    np.testing.assert_allclose(funcdiff.jacfwd(_gp_nll)(params), g, rtol=1e-10)
    check_grads(_gp_nll, (params,), order=2, modes=("fwd", "rev"))


def test_gp_likelihood_gradient_descent_improves_the_fit():
    params = np.array([0.0, 0.0, np.log(0.5)])
    start = float(_gp_nll(params))
    step = funcdiff.jit(lambda p: p - 0.05 * funcdiff.grad(_gp_nll)(p))
    for _ in range(30):
        params = step(params)
    assert float(_gp_nll(params)) < start - 1.0


def test_gp_likelihood_cost_counts_the_factorisations():
    # cholesky (n^3 / 3) and the LU of slogdet (2 n^3 / 3) are in the forward program, and
    # the reverse program differentiates through both.
    n = len(X_GP)
    params = np.array([0.1, 0.2, -2.0])
    j = funcdiff.make_jaxpr(_gp_nll)(params)
    names = [e.primitive.name for e in j.jaxpr.eqns]
    assert names.count("cholesky") == 1 and names.count("lu") == 1
    assert jaxpr_cost(j).flops >= round(n**3 / 3) + round(2 * n**3 / 3)
    report = funcdiff.cost_analysis(_gp_nll)(params)
    assert report.modes["vjp"].flops > report.modes["f"].flops >= n**3


# ---- worked example: a Newton step on a logistic regression ---------------------------------

X_LR = RNG.standard_normal((40, 3))
Y_LR = (X_LR @ np.array([1.5, -2.0, 0.5]) + 0.5 * RNG.standard_normal(40) > 0).astype(float)


def _logistic_loss(w):
    z = X_LR @ w
    return jnp.mean(jnp.logaddexp(0.0, z) - Y_LR * z) + 0.05 * jnp.sum(w**2)


def test_newton_step_on_logistic_regression():
    w = np.zeros(3)
    g = funcdiff.grad(_logistic_loss)(w)
    h = funcdiff.hessian(_logistic_loss)(w)
    step = jnp.linalg.solve(h, g)
    # The analytic gradient and Hessian.
    p = 1 / (1 + np.exp(-X_LR @ w))
    g_ref = X_LR.T @ (p - Y_LR) / len(Y_LR) + 0.1 * w
    h_ref = (X_LR.T * (p * (1 - p))) @ X_LR / len(Y_LR) + 0.1 * np.eye(3)
    np.testing.assert_allclose(step, np.linalg.solve(h_ref, g_ref), rtol=1e-10)
    newton = funcdiff.jit(lambda w: w - jnp.linalg.solve(funcdiff.hessian(_logistic_loss)(w),
                                                         funcdiff.grad(_logistic_loss)(w)))
    for _ in range(8):
        w = newton(w)
    assert np.linalg.norm(funcdiff.grad(_logistic_loss)(w)) < 1e-10


# ---- funcdiff.scipy.linalg against SciPy ----------------------------------------------------

A4 = RNG.standard_normal((4, 4))
B42 = RNG.standard_normal((4, 2))
SPD4 = _spd(4, 3)


def _close(ours, theirs, rtol=1e-10):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, (ours, theirs)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("trans", [0, 1, 2, "N", "T", "C"])
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("unit_diagonal", [True, False])
def test_solve_triangular_matches_scipy(trans, lower, unit_diagonal):
    a = A4 + 1j * RNG.standard_normal((4, 4)) + 4 * np.eye(4)
    for b in (B42, B42[:, 0]):
        _close(fsl.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal),
               sla.solve_triangular(a, b, trans=trans, lower=lower,
                                    unit_diagonal=unit_diagonal))


@pytest.mark.parametrize("lower", [True, False])
def test_cho_factor_and_cho_solve_match_scipy(lower):
    c, low = fsl.cho_factor(SPD4, lower=lower)
    c_ref, _ = sla.cho_factor(SPD4, lower=lower)
    tri = np.tril if lower else np.triu
    assert low is lower
    _close(c, tri(c_ref))  # funcdiff zeroes the unused triangle
    for b in (B42, B42[:, 1]):
        _close(fsl.cho_solve((c, low), b), sla.cho_solve((c_ref, lower), b))
    check_grads(lambda a, b: fsl.cho_solve(fsl.cho_factor(a @ a.T + 4 * np.eye(4), lower), b),
                (A4, B42), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3)])
def test_lu_matches_scipy(shape):
    a = RNG.standard_normal(shape)
    for ours, theirs in zip(fsl.lu(a), sla.lu(a)):
        _close(ours, theirs)
    for ours, theirs in zip(fsl.lu(a, permute_l=True), sla.lu(a, permute_l=True)):
        _close(ours, theirs)
    # Differentiable for every shape (pivots fixed near a random matrix).
    check_grads(lambda a: fsl.lu(a)[1:], (a,), order=2, modes=("fwd", "rev"))


def test_lu_factor_and_lu_solve_match_scipy():
    lu, piv = fsl.lu_factor(A4)
    lu_ref, piv_ref = sla.lu_factor(A4)
    _close(lu, lu_ref)
    np.testing.assert_array_equal(piv, piv_ref)
    assert np.asarray(piv).dtype == np.int32
    for trans in (0, 1, 2):
        for b in (B42, B42[:, 0]):
            _close(fsl.lu_solve((lu, piv), b, trans=trans),
                   sla.lu_solve((lu_ref, piv_ref), b, trans=trans))
    # Traced pivots (jit) give the same permutation.
    jitted = funcdiff.jit(lambda a, b: fsl.lu_solve(fsl.lu_factor(a), b))
    _close(jitted(A4, B42), sla.lu_solve((lu_ref, piv_ref), B42))
    check_grads(lambda a, b: fsl.lu_solve(fsl.lu_factor(a), b, trans=1), (A4, B42), order=2,
                modes=("fwd", "rev"))
    check_grads(lambda a: fsl.lu(a)[1:], (A4,), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("scale", [0.01, 0.5, 3.0, 40.0])
def test_expm_matches_scipy_and_differentiates(scale):
    a = scale * A4
    _close(fsl.expm(a), sla.expm(a), rtol=1e-12 if scale < 10 else 1e-9)
    if scale < 10:
        check_grads(fsl.expm, (a,), order=1 if scale > 1 else 2, modes=("fwd", "rev"))
    # The derivative of t -> expm(t a) is a expm(t a).
    d = funcdiff.jacfwd(lambda t: fsl.expm(t * A4))(scale)
    np.testing.assert_allclose(d, A4 @ sla.expm(scale * A4), rtol=1e-8, atol=1e-8)


def test_expm_of_a_stack_and_complex_input():
    stack = np.stack([A4, 0.1 * A4])
    _close(fsl.expm(stack), np.stack([sla.expm(A4), sla.expm(0.1 * A4)]))
    z = A4 + 1j * RNG.standard_normal((4, 4))
    _close(fsl.expm(z), sla.expm(z))


def test_expm_under_jit_and_vmap_chooses_its_squarings_in_the_program():
    # Traced, the number of squarings is computed per matrix and applied by selection.
    for scale in (0.01, 3.0, 40.0):
        _close(funcdiff.jit(fsl.expm)(scale * A4), sla.expm(scale * A4), rtol=1e-9)
    g = funcdiff.grad(lambda a: jnp.sum(fsl.expm(a)))(2.0 * A4)
    np.testing.assert_allclose(funcdiff.jit(funcdiff.grad(lambda a: jnp.sum(fsl.expm(a))))(
        2.0 * A4), g, rtol=1e-10)
    funcdiff.test_util.check_vmap(fsl.expm, (np.stack([A4, 0.1 * A4, 5.0 * A4]),))


def test_block_diag_matches_scipy():
    args = (A4[:2, :3], np.float64(5.0), B42[:, 0], np.ones((0, 2)))
    _close(fsl.block_diag(*args), sla.block_diag(*args))
    _close(fsl.block_diag(), sla.block_diag())
    check_grads(lambda a, b: fsl.block_diag(a, b), (A4[:2, :3], B42), order=2)


def test_scipy_decompositions_match_scipy():
    a = RNG.standard_normal((5, 3))
    for full in (True, False):
        for ours, theirs in zip(fsl.svd(a, full_matrices=full), sla.svd(a, full_matrices=full)):
            _close(ours, theirs)
    _close(fsl.svd(a, compute_uv=False), sla.svd(a, compute_uv=False))
    for mode in ("full", "economic", "r"):
        ours, theirs = fsl.qr(a, mode=mode), sla.qr(a, mode=mode)
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            _close(o, t)
    w, v = fsl.eigh(SPD4)
    w_ref, v_ref = sla.eigh(SPD4)
    _close(w, w_ref)
    _close(np.abs(v), np.abs(v_ref))  # LAPACK drivers may choose other signs
    _close(fsl.eigh(SPD4, eigvals_only=True), w_ref)
    _close(fsl.det(A4), sla.det(A4))
    _close(fsl.inv(A4), sla.inv(A4))
    _close(fsl.solve(A4, B42), sla.solve(A4, B42))
    _close(fsl.solve(SPD4, B42[:, 0], assume_a="pos"), sla.solve(SPD4, B42[:, 0],
                                                                 assume_a="pos"))
    _close(fsl.solve(A4, B42, transposed=True), sla.solve(A4, B42, transposed=True))


@pytest.mark.parametrize("lower", [True, False])
def test_generalized_eigh_matches_scipy(lower):
    # Only the `lower` (or upper) triangles of a and b are read, as SciPy.
    a = A4 + A4.T + np.triu(RNG.standard_normal((4, 4)), 1) * (not lower)
    b = SPD4 + np.tril(RNG.standard_normal((4, 4)), -1) * (not lower)
    w, v = fsl.eigh(a, b, lower=lower)
    w_ref, v_ref = sla.eigh(a, b, lower=lower)
    _close(w, w_ref)
    _close(np.abs(v), np.abs(v_ref))
    _close(fsl.eigh(a, b, lower=lower, eigvals_only=True), w_ref)
    check_grads(lambda a, x: fsl.eigh(a + a.T, x @ x.T + 4 * np.eye(4), eigvals_only=True),
                (A4, B42 @ B42.T), order=2, modes=("fwd", "rev"))


def test_scipy_unsupported_options_say_so():
    with pytest.raises(NotImplementedError, match="pivoting"):
        fsl.qr(A4, pivoting=True)
    with pytest.raises(ValueError, match="raw"):
        fsl.qr(A4, mode="raw")
    with pytest.raises(ValueError, match="trans"):
        fsl.solve_triangular(A4, B42, trans=3)


# ---- funcdiff.lax.linalg: JAX's signatures --------------------------------------------------


def test_lax_linalg_signatures_follow_jax():
    a = RNG.standard_normal((2, 4, 3))
    u, s, vh = lax.linalg.svd(a)
    assert u.shape == (2, 4, 4) and s.shape == (2, 3) and vh.shape == (2, 3, 3)
    assert lax.linalg.svd(a, compute_uv=False).shape == (2, 3)
    q, r = lax.linalg.qr(a)  # full_matrices=True by default, as in JAX
    assert q.shape == (2, 4, 4) and r.shape == (2, 4, 3)
    lu, pivots, perm = lax.linalg.lu(A4)
    assert pivots.dtype == np.int32 and perm.dtype == np.int32
    np.testing.assert_allclose(A4[perm], (np.tril(lu, -1) + np.eye(4)) @ np.triu(lu),
                               atol=1e-14)
    v, w = lax.linalg.eigh(SPD4)
    np.testing.assert_allclose(SPD4 @ v, v * w, atol=1e-12)
    # cholesky symmetrizes its input by default, as JAX.
    lower_only = np.tril(SPD4) + np.triu(RNG.standard_normal((4, 4)), 1)
    np.testing.assert_allclose(lax.linalg.cholesky(lower_only, symmetrize_input=False),
                               np.linalg.cholesky(SPD4), atol=1e-14)
    sym = (lower_only + lower_only.T) / 2
    np.testing.assert_allclose(lax.linalg.cholesky(lower_only), np.linalg.cholesky(sym),
                               atol=1e-14)
    w_eig, v_eig = lax.linalg.eig(A4)
    assert w_eig.dtype == np.complex128
    np.testing.assert_allclose(A4 @ v_eig, v_eig * w_eig, atol=1e-12)
    x = lax.linalg.triangular_solve(SPD4, B42.T, left_side=False, lower=True)
    np.testing.assert_allclose(x @ np.tril(SPD4), B42.T, atol=1e-12)


# ---- cost rules -----------------------------------------------------------------------------


@pytest.mark.parametrize("name,fn,flops", [
    ("cholesky", lambda a: lax.linalg.cholesky(a, symmetrize_input=False), lambda n: n**3 / 3),
    ("lu", lambda a: lax.linalg.lu(a)[0], lambda n: 2 * n**3 / 3),
    ("triangular_solve", lambda a: lax.linalg.triangular_solve(a, a, left_side=True),
     lambda n: n**3),
    ("eigh", lambda a: lax.linalg.eigh(a, symmetrize_input=False)[1], lambda n: 9 * n**3),
    ("qr", lambda a: lax.linalg.qr(a)[1], lambda n: 8 * n**3 / 3),
])
def test_factorisation_flops(name, fn, flops):
    a = np.stack([_spd(5), _spd(5, 1), _spd(5, 2)])
    j = funcdiff.make_jaxpr(fn)(a)
    (eqn,) = [e for e in j.jaxpr.eqns if e.primitive.name == name]
    assert jaxpr_cost(j).flops == round(3 * flops(5))
    # Reverse mode runs the factorisation once and differentiates through triangular solves.
    jg = funcdiff.make_jaxpr(funcdiff.grad(lambda a: jnp.sum(fn(a))))(a)
    assert sum(e.primitive.name == name for e in jg.jaxpr.eqns) >= 1
    assert jaxpr_cost(jg).flops > jaxpr_cost(j).flops


# ---- jit against eager, vmap of a stack -----------------------------------------------------


@pytest.mark.parametrize("fn", [
    lambda a: jnp.linalg.cholesky(a @ a.T + 4 * np.eye(4)),
    lambda a: jnp.linalg.eigh(a),
    lambda a: jnp.linalg.svd(a),
    lambda a: jnp.linalg.qr(a),
    lambda a: jnp.linalg.qr(a, mode="complete"),
    lambda a: jnp.linalg.solve(a, B42),
    lambda a: jnp.linalg.slogdet(a),
    lambda a: jnp.linalg.eig(a),
    lambda a: jnp.linalg.pinv(a),
    lambda a: fsl.lu(a),
], ids=["cholesky", "eigh", "svd", "qr", "qr-complete", "solve", "slogdet", "eig", "pinv", "lu"])
def test_jit_matches_eager(fn):
    eager = fn(A4)
    jitted = funcdiff.jit(fn)(A4)
    for e, j in zip(funcdiff.tree_util.tree_leaves(eager), funcdiff.tree_util.tree_leaves(jitted)):
        np.testing.assert_allclose(j, e, rtol=1e-12, atol=1e-12)


def test_vmap_of_solve_over_a_stack_of_systems():
    a = RNG.standard_normal((5, 3, 3)) + 3 * np.eye(3)
    b = RNG.standard_normal((5, 3))
    np.testing.assert_allclose(funcdiff.vmap(jnp.linalg.solve)(a, b),
                               np.linalg.solve(a, b[..., None])[..., 0], rtol=1e-12)
    g = funcdiff.vmap(funcdiff.grad(lambda a, b: jnp.linalg.slogdet(a)[1]))(a, b)
    np.testing.assert_allclose(g, np.swapaxes(np.linalg.inv(a), -1, -2), rtol=1e-10)


_STACK = np.stack([A4 + 4 * np.eye(4), A4.T + 5 * np.eye(4), -A4 + 4 * np.eye(4)])
_SPD_STACK = np.stack([_spd(4, k) for k in range(3)])
_B_STACK = RNG.standard_normal((3, 4, 2))


@pytest.mark.parametrize("fn,args,in_axes", [
    (lambda a, b: fsl.solve_triangular(a, b, lower=True, trans=1), (_STACK, _B_STACK), (0, 0)),
    (lambda a, b: fsl.solve_triangular(a, b), (_STACK, B42), (0, None)),
    (lambda a, b: fsl.cho_solve(fsl.cho_factor(a), b), (_SPD_STACK, _B_STACK), (0, 0)),
    (lambda a, b: fsl.cho_solve(fsl.cho_factor(a, lower=True), b), (SPD4, _B_STACK), (None, 0)),
    (lambda a, b: fsl.lu_solve(fsl.lu_factor(a), b, trans=2), (_STACK, _B_STACK), (0, 0)),
    (fsl.lu, (_STACK,), 0),
    (fsl.lu_factor, (_STACK,), 0),
    (fsl.eigh, (_SPD_STACK,), 0),
    (fsl.svd, (_STACK,), 0),
    (lambda a: fsl.qr(a, mode="economic"), (_STACK,), 0),
    (fsl.det, (_STACK,), 0),
    (fsl.inv, (_STACK,), 0),
    (lambda a, b: fsl.solve(a, b, assume_a="pos"), (_SPD_STACK, _B_STACK), (0, 0)),
    (lambda a, b: fsl.block_diag(a, b), (_STACK, _B_STACK), (0, 0)),
], ids=["solve_triangular", "solve_triangular-unbatched-b", "cho_solve", "cho_solve-unbatched-a",
        "lu_solve", "lu", "lu_factor", "eigh", "svd", "qr", "det", "inv", "solve-pos",
        "block_diag"])
def test_scipy_linalg_vmap_matches_a_loop(fn, args, in_axes):
    funcdiff.test_util.check_vmap(fn, args, in_axes=in_axes)


# ---- degenerate points, as JAX documents them -----------------------------------------------


def test_eigh_at_repeated_eigenvalues():
    a = np.diag([1.0, 1.0, 3.0])
    # The eigenvalues stay differentiable...
    g = funcdiff.grad(lambda a: jnp.linalg.eigvalsh(a)[2])(a)
    np.testing.assert_allclose(g, np.diag([0.0, 0.0, 1.0]), atol=1e-14)
    # ...the eigenvectors' derivative divides by the zero gap: not finite.
    with np.errstate(all="ignore"):
        gv = funcdiff.grad(lambda a: jnp.sum(jnp.linalg.eigh(a)[1] * RNG.standard_normal(
            (3, 3))))(a + np.triu(np.ones((3, 3)), 1) * 0.0)
    assert not np.all(np.isfinite(gv))


def test_svd_full_matrices_in_reverse_mode_raises_for_non_square():
    a = RNG.standard_normal((4, 2))
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        funcdiff.grad(lambda a: jnp.sum(jnp.linalg.svd(a)[0]))(a)
    funcdiff.grad(lambda a: jnp.sum(jnp.linalg.svd(a, full_matrices=False)[0]))(a)
    # Singular values alone are always fine.
    g = funcdiff.grad(lambda a: jnp.sum(jnp.linalg.svdvals(a)))(a)
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    np.testing.assert_allclose(g, u @ vh, rtol=1e-10)


def test_singular_and_indefinite_matrices_give_nans_not_errors():
    with np.errstate(all="ignore"):
        assert np.all(np.isnan(jnp.linalg.cholesky(-np.eye(3))))
        out = jnp.linalg.cholesky(np.stack([np.eye(2), -np.eye(2)]))
        np.testing.assert_array_equal(out[0], np.eye(2))
        assert np.all(np.isnan(out[1]))
        x = jnp.linalg.solve(np.zeros((2, 2)), np.ones(2))
        assert not np.all(np.isfinite(x))
        assert float(jnp.linalg.det(np.ones((3, 3)))) == 0.0
        sign, logdet = jnp.linalg.slogdet(np.ones((3, 3)))
        assert float(sign) == 0.0 and logdet == -np.inf


def test_eig_eigenvector_derivatives_are_not_implemented():
    with pytest.raises(NotImplementedError, match="eigenvectors"):
        funcdiff.grad(lambda a: jnp.real(jnp.sum(jnp.linalg.eig(a)[1])))(A4)
    g = funcdiff.grad(lambda a: jnp.real(jnp.sum(jnp.linalg.eigvals(a))))(A4)
    np.testing.assert_allclose(g, np.eye(4), atol=1e-12)  # d trace = I


# ---- errors name the problem ----------------------------------------------------------------


def test_errors_name_shapes_and_fixes():
    with pytest.raises(ValueError, match=r"square.*\(3, 2\)"):
        jnp.linalg.cholesky(np.ones((3, 2)))
    with pytest.raises(ValueError, match="b has 3 rows"):
        jnp.linalg.solve(np.eye(2), np.ones((3, 1)))
    with pytest.raises(TypeError, match="one dtype"):
        lax.linalg.triangular_solve(np.eye(2), np.ones((2, 2), np.float32), left_side=True)
    with pytest.raises(TypeError, match="floating-point"):
        lax.linalg.cholesky(np.eye(2, dtype=np.int64), symmetrize_input=False)
    with pytest.raises(ValueError, match="'raw' is not supported"):
        jnp.linalg.qr(A4, mode="raw")


def test_float32_stays_float32():
    a = (A4 + 4 * np.eye(4)).astype(np.float32)
    spd = (SPD4).astype(np.float32)
    for out in (jnp.linalg.solve(a, a), jnp.linalg.inv(a), jnp.linalg.det(a),
                jnp.linalg.cholesky(spd), jnp.linalg.eigvalsh(spd), jnp.linalg.svdvals(a),
                jnp.linalg.pinv(a), fsl.expm(a), fsl.cho_solve(fsl.cho_factor(spd), a[0]),
                funcdiff.grad(lambda a: jnp.linalg.slogdet(a)[1])(a)):
        assert np.asarray(out).dtype == np.float32
    assert jnp.linalg.eigvals(a).dtype == np.complex64
