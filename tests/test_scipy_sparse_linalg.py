"""`funcdiff.scipy.sparse.linalg` (cg, bicgstab, gmres): solutions against NumPy's dense solve
and SciPy's solvers, matrices and matrix-free pytree operators, preconditioners, float32 kept,
derivatives (implicit, through `custom_linear_solve`) against finite differences, `jit`
against eager, `vmap` against a loop, and the errors for bad arguments."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse.linalg as ssl

import funcdiff
import funcdiff.numpy as jnp
from funcdiff.scipy.sparse.linalg import bicgstab, cg, gmres
from funcdiff.test_util import check_grads

SOLVERS = {"cg": cg, "bicgstab": bicgstab, "gmres": gmres}
GENERAL = {"bicgstab": bicgstab, "gmres": gmres}


def _spd(n: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, n))
    return x @ x.T + n * np.eye(n)


def _general(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, n)) + n * np.eye(n)


def _b(n: int, seed: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n)


@pytest.mark.parametrize("name", SOLVERS)
@pytest.mark.parametrize("n", [1, 2, 7])
def test_matches_dense_solve_and_scipy(name, n):
    a = _spd(n) if name == "cg" else _general(n)
    b = _b(n)
    x = SOLVERS[name](a, b, tol=1e-12)[0]
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-9, atol=1e-12)
    ref = getattr(ssl, name)(a, b, rtol=1e-12)[0]
    np.testing.assert_allclose(x, ref, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", SOLVERS)
def test_tolerance_stops_early_like_scipy(name):
    """A loose `tol` stops at a residual within it, and not at the exact solution."""
    a, b = _spd(30, 3), _b(30, 4)
    x = SOLVERS[name](a, b, tol=1e-2, restart=5)[0] if name == "gmres" else \
        SOLVERS[name](a, b, tol=1e-2)[0]
    res = np.linalg.norm(b - a @ x) / np.linalg.norm(b)
    assert res <= 1e-2 * 1.01
    assert res > 1e-12


def test_maxiter_caps_the_iterations():
    a, b = _spd(20, 5), _b(20)
    one = cg(a, b, maxiter=1)[0]
    # One CG step from zero is the exact minimiser along b: x = (bᵀb / bᵀAb) b.
    np.testing.assert_allclose(one, (b @ b) / (b @ a @ b) * b, rtol=1e-12)


def test_gmres_restart_smaller_than_size():
    a, b = _general(25, 6), _b(25)
    x, info = gmres(a, b, tol=1e-11, restart=4)
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-8, atol=1e-10)
    assert int(info) == 0


@pytest.mark.parametrize("name", SOLVERS)
def test_pytree_operator_and_x0(name):
    """``A`` acts on a dict of arrays; the solution has its structure."""
    a1, a2 = _spd(3, 7), _spd(2, 8)

    def op(v):
        return {"u": a1 @ v["u"], "w": a2 @ v["w"]}

    b = {"u": _b(3), "w": _b(2, 9)}
    x0 = {"u": np.ones(3), "w": np.ones(2)}
    x = SOLVERS[name](op, b, x0=x0, tol=1e-12)[0]
    np.testing.assert_allclose(x["u"], np.linalg.solve(a1, b["u"]), rtol=1e-9)
    np.testing.assert_allclose(x["w"], np.linalg.solve(a2, b["w"]), rtol=1e-9)


@pytest.mark.parametrize("name", SOLVERS)
def test_preconditioner_as_matrix_and_function(name):
    a, b = _spd(12, 10), _b(12)
    jacobi = np.diag(1.0 / np.diag(a))
    x_m = SOLVERS[name](a, b, tol=1e-12, M=jacobi)[0]
    x_f = SOLVERS[name](a, b, tol=1e-12, M=lambda r: r / np.diag(a))[0]
    np.testing.assert_allclose(x_m, np.linalg.solve(a, b), rtol=1e-9)
    np.testing.assert_allclose(x_f, x_m, rtol=1e-9)


@pytest.mark.parametrize("name", SOLVERS)
def test_float32_is_kept(name):
    a, b = _spd(4).astype(np.float32), _b(4).astype(np.float32)
    x = SOLVERS[name](a, b)[0]
    assert x.dtype == np.float32
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-3)


@pytest.mark.parametrize("name", SOLVERS)
def test_gradients_match_finite_differences(name):
    a = _spd(4, 11) if name == "cg" else _general(4, 12)
    check_grads(lambda a, b: SOLVERS[name](a, b, tol=1e-13)[0], (a, _b(4)), order=1)


@pytest.mark.parametrize("name", SOLVERS)
def test_gradient_through_a_matrix_free_operator(name):
    """The derivative reaches what the operator closes over (a diagonal scaling)."""
    base = _spd(3, 13)

    def f(d, b):
        return SOLVERS[name](lambda v: base @ v + d * v, b, tol=1e-13)[0]

    check_grads(f, (np.array([1.0, 2.0, 3.0]), _b(3)), order=1)
    g = funcdiff.grad(lambda d: jnp.sum(f(d, _b(3))))(np.array([1.0, 2.0, 3.0]))
    x = np.linalg.solve(base + np.diag([1.0, 2.0, 3.0]), _b(3))
    lam = np.linalg.solve((base + np.diag([1.0, 2.0, 3.0])).T, np.ones(3))
    np.testing.assert_allclose(g, -lam * x, rtol=1e-8)


@pytest.mark.parametrize("name", SOLVERS)
def test_jit_matches_eager(name):
    a, b = _spd(5, 14), _b(5)
    fn = lambda a, b: SOLVERS[name](a, b, tol=1e-12)[0]  # noqa: E731
    np.testing.assert_allclose(funcdiff.jit(fn)(a, b), fn(a, b), rtol=1e-12)
    g = lambda a, b: funcdiff.grad(lambda b: jnp.sum(fn(a, b) ** 2))(b)  # noqa: E731
    np.testing.assert_allclose(funcdiff.jit(g)(a, b), g(a, b), rtol=1e-10)


@pytest.mark.parametrize("name", SOLVERS)
def test_vmap_matches_a_loop(name):
    rng = np.random.default_rng(15)
    mats = np.stack([_spd(4, s) for s in range(3)])
    bs = rng.standard_normal((3, 4))
    fn = lambda a, b: SOLVERS[name](a, b, tol=1e-12)[0]  # noqa: E731
    out = funcdiff.vmap(fn)(mats, bs)
    np.testing.assert_allclose(out, np.stack([np.linalg.solve(m, v) for m, v in zip(mats, bs)]),
                               rtol=1e-9)


def test_gmres_reports_nan():
    a = np.array([[1.0, 0.0], [0.0, np.nan]])
    assert int(gmres(a, np.ones(2), maxiter=2)[1]) == -1


def test_errors():
    with pytest.raises(ValueError, match="cg: A must be a function .* or a 2-D array"):
        cg(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="x0 must have the structure and shapes of b"):
        bicgstab(np.eye(2), np.ones(2), x0=np.ones(3))
    with pytest.raises(ValueError, match="solve_method"):
        gmres(np.eye(2), np.ones(2), solve_method="qr")
