"""`funcdiff.scipy.optimize.minimize` (BFGS and JAX's experimental L-BFGS): optima against SciPy
and closed forms, the result's fields, float32 kept, the status codes, `jit` against eager,
`vmap` against a loop, and the errors for bad arguments."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize as so

import funcdiff
import funcdiff.numpy as jnp
from funcdiff.scipy.optimize import OptimizeResults, minimize

METHODS = ["BFGS", "l-bfgs-experimental-do-not-rely-on-this"]


def rosenbrock(x):
    return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosenbrock_np(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def _quadratic(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((n, n))
    return m @ m.T + n * np.eye(n), rng.standard_normal(n)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("x0", [np.array([-1.2, 1.0]), np.zeros(5), np.array([2.0, 2.0, 2.0])])
def test_rosenbrock_matches_scipy(method, x0):
    res = minimize(rosenbrock, x0, method=method)
    ref = so.minimize(rosenbrock_np, x0, method="BFGS", options={"gtol": 1e-8})
    np.testing.assert_allclose(res.x, ref.x, atol=2e-4)
    # L-BFGS may stop on its `ftol` test (status 4), which JAX does not count as success.
    assert int(res.status) in ((0,) if method == "BFGS" else (0, 4))
    assert bool(res.success) == (int(res.status) == 0)
    assert float(res.fun) < 1e-8
    np.testing.assert_allclose(res.fun, rosenbrock_np(np.asarray(res.x)), rtol=1e-12)
    np.testing.assert_allclose(res.jac, funcdiff.grad(rosenbrock)(res.x), rtol=1e-12)
    assert 0 < int(res.nit) <= int(res.nfev) and int(res.nfev) == int(res.njev)


@pytest.mark.parametrize("method", METHODS)
def test_quadratic_optimum_and_inverse_hessian(method):
    a, b = _quadratic(6)
    options = {"gtol": 1e-10} if method == "BFGS" else {"gtol": 1e-8, "ftol": 0.0}
    res = minimize(lambda x, a, b: 0.5 * x @ a @ x - b @ x, np.zeros(6), (a, b), method=method,
                   options=options)
    np.testing.assert_allclose(res.x, np.linalg.solve(a, b), rtol=1e-7, atol=1e-9)
    assert int(res.status) == 0 and bool(res.success)
    if method == "BFGS":
        # On a quadratic, BFGS's inverse-Hessian estimate approaches the true inverse.
        np.testing.assert_allclose(res.hess_inv, np.linalg.inv(a), atol=0.05)
    else:
        assert res.hess_inv is None


def test_result_is_a_namedtuple_with_jax_fields():
    res = minimize(rosenbrock, np.array([0.5, 0.5]), method="bfgs")
    assert isinstance(res, OptimizeResults)
    assert res._fields == ("x", "success", "status", "fun", "jac", "hess_inv", "nfev", "njev",
                           "nit")


@pytest.mark.parametrize("method", METHODS)
def test_float32_is_kept(method):
    res = minimize(rosenbrock, np.array([-1.2, 1.0], np.float32), method=method)
    assert res.x.dtype == np.float32 and res.fun.dtype == np.float32
    assert res.jac.dtype == np.float32
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-2)


def test_integer_start_is_made_float():
    res = minimize(lambda x: jnp.sum((x - 0.5) ** 2), np.array([0, 3]), method="BFGS")
    assert res.x.dtype == np.float64
    np.testing.assert_allclose(res.x, [0.5, 0.5], atol=1e-8)


def test_maxiter_and_already_converged():
    res = minimize(rosenbrock, np.array([-1.2, 1.0]), method="BFGS", options={"maxiter": 2})
    assert int(res.nit) == 2 and int(res.status) == 1 and not bool(res.success)
    res = minimize(rosenbrock, np.ones(3), method="BFGS")
    assert int(res.nit) == 0 and int(res.status) == 0 and int(res.nfev) == 1
    lres = minimize(rosenbrock, np.array([-1.2, 1.0]), method=METHODS[1],
                    options={"maxiter": 3})
    assert int(lres.nit) == 3 and int(lres.status) == 1


def test_norm_option_is_used():
    """With the 2-norm the test is stricter than the default max-norm for many coordinates."""
    f = lambda x: jnp.sum((x - 1.0) ** 4)  # noqa: E731  (slow, sublinear convergence)
    loose = minimize(f, np.zeros(30), method="BFGS", options={"gtol": 1e-3})
    strict = minimize(f, np.zeros(30), method="BFGS", options={"gtol": 1e-3, "norm": 2})
    assert np.max(np.abs(loose.jac)) < 1e-3 and np.linalg.norm(strict.jac) < 1e-3
    assert int(strict.nit) >= int(loose.nit)


@pytest.mark.parametrize("method", METHODS)
def test_jit_matches_eager(method):
    fn = lambda x0, c: minimize(lambda x: rosenbrock(x) + c * jnp.sum(x**2), x0,  # noqa: E731
                                method=method)
    x0 = np.array([-1.2, 1.0])
    eager, staged = fn(x0, 0.1), funcdiff.jit(fn)(x0, 0.1)
    np.testing.assert_allclose(staged.x, eager.x, rtol=1e-6)
    assert int(staged.status) == int(eager.status) and int(staged.nit) == int(eager.nit)


@pytest.mark.parametrize("method", METHODS)
def test_vmap_matches_a_loop(method):
    starts = np.array([[-1.2, 1.0], [0.0, 0.0], [2.0, -1.0]])
    out = funcdiff.vmap(lambda x: minimize(rosenbrock, x, method=method).x)(starts)
    for row, x0 in zip(out, starts):
        np.testing.assert_allclose(row, minimize(rosenbrock, x0, method=method).x, atol=1e-6)
        np.testing.assert_allclose(row, [1.0, 1.0], atol=1e-4)


def test_errors():
    with pytest.raises(TypeError, match="args must be a tuple"):
        minimize(rosenbrock, np.zeros(2), args=[1], method="BFGS")
    with pytest.raises(ValueError, match="method 'Nelder-Mead' is not recognised"):
        minimize(rosenbrock, np.zeros(2), method="Nelder-Mead")
    with pytest.raises(ValueError, match="x0 must be a 1-D array"):
        minimize(rosenbrock, np.zeros((2, 2)), method="BFGS")
