"""`funcdiff.experimental.ode.odeint`: values against SciPy's `solve_ivp`, derivatives (the
adjoint method in reverse mode, differentiation through the solver in forward mode) against
finite differences, closed forms and each other, `jit` against eager, `vmap` against a loop,
pytree states, and the errors for bad times."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.linalg import expm

import funcdiff
import funcdiff.numpy as jnp
from funcdiff.experimental.ode import odeint
from funcdiff.test_util import check_grads

# Tolerances of the solves whose derivatives are checked by finite differences: central
# differences of an adaptive solver are only as smooth as its error, so solve tightly.
TIGHT = {"rtol": 1e-11, "atol": 1e-11}
FD = {"eps": 1e-4, "atol": 1e-6, "rtol": 1e-6}


def reference(f, y0, ts, *args):
    """SciPy's DOP853 solution of ``y' = f(y, t, *args)`` at `ts`, solved very tightly."""
    sol = solve_ivp(lambda t, y: np.asarray(f(y, t, *args)), (ts[0], ts[-1]), np.asarray(y0),
                    method="DOP853", t_eval=ts, rtol=1e-13, atol=1e-13)
    assert sol.success
    return sol.y.T


def linear(y, t, a):
    return a @ y


def lotka_volterra(y, t, alpha, beta, gamma, delta):
    prey, pred = y[0], y[1]
    return jnp.stack([alpha * prey - beta * prey * pred, gamma * prey * pred - delta * pred])


def pendulum(y, t, damping, strength):
    theta, omega = y[0], y[1]
    return jnp.stack([omega, -damping * omega - strength * jnp.sin(theta)])


A = np.array([[-0.5, 1.0, 0.0], [-1.0, -0.2, 0.3], [0.1, 0.0, -0.8]])
LV = (1.5, 1.0, 1.0, 3.0)
PENDULUM = (0.25, 5.0)


# ---- values ---------------------------------------------------------------------------------


def test_linear_system_matches_matrix_exponential_and_scipy():
    y0 = np.array([1.0, -0.5, 2.0])
    ts = np.array([0.0, 0.3, 1.0, 2.5, 4.0])
    ys = odeint(linear, y0, ts, A)
    assert ys.shape == (5, 3) and ys.dtype == np.float64
    exact = np.stack([expm(A * t) @ y0 for t in ts])
    np.testing.assert_allclose(ys, exact, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ys, reference(linear, y0, ts, A), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("f, y0, args, t_end", [
    (lotka_volterra, np.array([1.0, 1.0]), LV, 10.0),
    (pendulum, np.array([np.pi - 0.1, 0.0]), PENDULUM, 10.0),
], ids=["lotka_volterra", "pendulum"])
def test_nonlinear_systems_match_scipy(f, y0, args, t_end):
    ts = np.linspace(0.0, t_end, 21)
    ys = odeint(f, y0, ts, *args)
    np.testing.assert_allclose(ys, reference(f, y0, ts, *args), rtol=1e-5, atol=1e-7)
    # Looser tolerances give a less accurate solution (the tolerances are used).
    loose = odeint(f, y0, ts, *args, rtol=1e-3, atol=1e-3)
    err_loose = np.abs(loose - reference(f, y0, ts, *args)).max()
    assert 1e-6 < err_loose < 0.5


def test_output_times_do_not_change_the_steps():
    # Dense output: asking for more times in between leaves the values at the others.
    coarse = np.array([0.0, 2.0, 5.0])
    fine = np.array([0.0, 0.5, 1.0, 2.0, 3.3, 5.0])
    a = odeint(lotka_volterra, np.array([1.0, 1.0]), coarse, *LV)
    b = odeint(lotka_volterra, np.array([1.0, 1.0]), fine, *LV)
    np.testing.assert_allclose(a, b[[0, 3, 5]], rtol=1e-12, atol=1e-14)


def test_repeated_and_single_times():
    y0 = np.array([1.0, 0.0])
    ys = odeint(pendulum, y0, np.array([0.0, 1.0, 1.0]), *PENDULUM)
    np.testing.assert_array_equal(ys[1], ys[2])
    one = odeint(pendulum, y0, np.array([0.5]), *PENDULUM)
    np.testing.assert_array_equal(one, y0[None])


def test_time_dependent_field_and_hmax():
    # y' = cos(t): y(t) = sin(t); hmax bounds every step, and the result stays accurate.
    ts = np.linspace(0.0, 3.0, 4)
    ys = odeint(lambda y, t: jnp.cos(t) * jnp.ones_like(y), np.zeros(1), ts, hmax=0.05)
    np.testing.assert_allclose(ys[:, 0], np.sin(ts), atol=1e-8)


def test_mxstep_stops_the_solve():
    ts = np.array([0.0, 10.0])
    ys = odeint(lotka_volterra, np.array([1.0, 1.0]), ts, *LV, mxstep=3)
    full = odeint(lotka_volterra, np.array([1.0, 1.0]), ts, *LV)
    assert np.abs(ys[-1] - full[-1]).max() > 1e-3


def test_float32_state_stays_float32():
    ys = odeint(linear, np.ones(3, np.float32), np.array([0.0, 1.0], np.float32),
                A.astype(np.float32), rtol=1e-5, atol=1e-6)
    assert ys.dtype == np.float32
    np.testing.assert_allclose(ys[-1], expm(A) @ np.ones(3), rtol=1e-4)


def test_pytree_state():
    def field(state, t, k):
        return {"x": state["v"], "v": -k * state["x"]}

    state = {"x": np.array([1.0, 0.5]), "v": np.array([0.0, 1.0])}
    ts = np.array([0.0, 1.0, 2.0])
    out = odeint(field, state, ts, 4.0)
    assert set(out) == {"x", "v"} and out["x"].shape == (3, 2)
    np.testing.assert_allclose(out["x"][:, 0], np.cos(2 * ts), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(out["x"][:, 1], 0.5 * np.cos(2 * ts) + 0.5 * np.sin(2 * ts),
                               rtol=1e-7, atol=1e-9)
    g = funcdiff.grad(lambda s: jnp.sum(odeint(field, s, ts, 4.0)["x"][-1]))(state)
    # x(t) = x0 cos(2t) + v0 sin(2t) / 2
    np.testing.assert_allclose(g["x"], np.full(2, np.cos(4.0)), rtol=1e-6)
    np.testing.assert_allclose(g["v"], np.full(2, np.sin(4.0) / 2), rtol=1e-6)


# ---- derivatives ----------------------------------------------------------------------------


def test_gradient_closed_form():
    # y' = -k y: y(t) = y0 exp(-k (t - t0)).
    def decay(y, t, k):
        return -k * y

    def last(y0, ts, k):
        return odeint(decay, y0, ts, k, **TIGHT)[-1]

    y0, ts, k = 2.0, np.array([0.5, 1.0, 2.5]), 0.7
    gy0, gts, gk = funcdiff.grad(last, argnums=(0, 1, 2))(y0, ts, k)
    span = ts[-1] - ts[0]
    value = y0 * np.exp(-k * span)
    np.testing.assert_allclose(gy0, np.exp(-k * span), rtol=1e-8)
    np.testing.assert_allclose(gk, -span * value, rtol=1e-8)
    np.testing.assert_allclose(gts, [k * value, 0.0, -k * value], rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("f, y0, args, ts", [
    (linear, np.array([1.0, -0.5, 2.0]), (A,), np.array([0.0, 0.7, 1.5])),
    (lotka_volterra, np.array([1.0, 1.0]), LV, np.array([0.0, 0.5, 1.2])),
    (pendulum, np.array([1.0, 0.2]), PENDULUM, np.array([0.1, 0.6, 1.0])),
], ids=["linear", "lotka_volterra", "pendulum"])
def test_gradients_against_finite_differences(f, y0, args, ts):
    weights = np.linspace(0.5, 1.5, ts.size * y0.size).reshape(ts.size, y0.size)

    def loss(y0, ts, *args):
        return jnp.sum(weights * odeint(f, y0, ts, *args, **TIGHT) ** 2)

    # Both modes, and reverse mode against forward mode (the transpose identity).
    check_grads(loss, (y0, ts, *args), order=1, modes=("fwd", "rev"), **FD)


def test_forward_mode_closed_form_and_jacobians():
    def decay(y, t, k):
        return -k * y

    ts = np.array([0.0, 1.0, 2.0])
    out, tangent = funcdiff.jvp(lambda k: odeint(decay, 1.0, ts, k, **TIGHT), (0.7,), (1.0,))
    np.testing.assert_allclose(out, np.exp(-0.7 * ts), rtol=1e-9)
    np.testing.assert_allclose(tangent, -ts * np.exp(-0.7 * ts), rtol=1e-7, atol=1e-12)
    # Jacobians by forward and by reverse mode agree: the linear system's is expm(A t1).
    y0 = np.array([1.0, -0.5, 2.0])

    def final(y0):
        return odeint(linear, y0, np.array([0.0, 1.3]), A, **TIGHT)[-1]

    fwd, rev = funcdiff.jacfwd(final)(y0), funcdiff.jacrev(final)(y0)
    np.testing.assert_allclose(fwd, expm(1.3 * A), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(rev, expm(1.3 * A), rtol=1e-8, atol=1e-10)


def test_second_order_forward_over_forward():
    def decay(y, t, k):
        return -k * y

    def last(k):
        return odeint(decay, 1.0, np.array([0.0, 2.0]), k, **TIGHT)[-1]

    d2 = funcdiff.jacfwd(funcdiff.jacfwd(last))(0.5)
    np.testing.assert_allclose(d2, 4.0 * np.exp(-1.0), rtol=1e-6)


@pytest.mark.parametrize("f, y0, args, ts", [
    (lotka_volterra, np.array([1.0, 1.0]), LV, np.array([0.0, 0.5, 1.2])),
    (pendulum, np.array([1.0, 0.2]), PENDULUM, np.array([0.1, 0.6, 1.0])),
], ids=["lotka_volterra", "pendulum"])
def test_second_order_reverse_mode_against_finite_differences(f, y0, args, ts):
    # grad of grad runs the adjoint method on the adjoint system; checked in both modes
    # (reverse over reverse, forward over reverse...) against finite differences.
    def loss(y0, ts, *args):
        return jnp.sum(odeint(f, y0, ts, *args, **TIGHT) ** 2)

    check_grads(loss, (y0, ts, *args), order=2, modes=("fwd", "rev"), **FD)


def test_hessians_through_odeint_match_closed_forms():
    def riccati(y, t, k):
        return -k * y**2

    def last(k):  # y(2) = 1 / (1 + 2k)
        return odeint(riccati, 1.0, np.array([0.0, 1.0, 2.0]), k, **TIGHT)[-1]

    k = 0.5
    want = 8 / (1 + 2 * k) ** 3
    for d2 in (funcdiff.grad(funcdiff.grad(last)), funcdiff.hessian(last),
               funcdiff.jit(funcdiff.grad(funcdiff.grad(last)))):
        np.testing.assert_allclose(d2(k), want, rtol=1e-6)
    # The linear system: y(t1) = expm(A t1) y0, so the Hessian of sum(w * y(t1)**2) in y0 is
    # 2 M^T diag(w) M, from reverse over reverse and from forward over reverse.
    w, y0 = np.array([1.0, 0.5, 2.0]), np.array([1.0, -0.5, 2.0])
    m = expm(1.3 * A)

    def loss(y0):
        return jnp.sum(w * odeint(linear, y0, np.array([0.0, 1.3]), A, **TIGHT)[-1] ** 2)

    want = 2 * m.T @ np.diag(w) @ m
    np.testing.assert_allclose(funcdiff.jacrev(funcdiff.grad(loss))(y0), want, rtol=1e-7,
                               atol=1e-9)
    np.testing.assert_allclose(funcdiff.hessian(loss)(y0), want, rtol=1e-7, atol=1e-9)


def test_jit_matches_eager():
    y0, ts = np.array([1.0, 1.0]), np.linspace(0.0, 3.0, 7)

    def solve(y0, ts, *p):
        return odeint(lotka_volterra, y0, ts, *p)

    np.testing.assert_allclose(funcdiff.jit(solve)(y0, ts, *LV), solve(y0, ts, *LV),
                               rtol=1e-13, atol=1e-14)

    def loss(y0, alpha):
        return jnp.sum(solve(y0, ts, alpha, *LV[1:]) ** 2)

    for transform in (funcdiff.grad, funcdiff.jacfwd):
        eager = transform(loss, argnums=(0, 1))(y0, LV[0])
        jitted = funcdiff.jit(transform(loss, argnums=(0, 1)))(y0, LV[0])
        outside = transform(funcdiff.jit(loss), argnums=(0, 1))(y0, LV[0])
        for a, b, c in zip(eager, jitted, outside):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-14)


def test_vmap_matches_loop():
    from funcdiff.test_util import check_vmap

    y0s = np.array([[1.0, 0.0], [0.5, -0.3], [2.0, 0.1]])
    ts = np.array([0.0, 1.0, 2.0])
    check_vmap(lambda y0: odeint(pendulum, y0, ts, *PENDULUM), (y0s,), rtol=1e-6, atol=1e-8)

    def loss(y0, b):
        return jnp.sum(odeint(pendulum, y0, ts, b, PENDULUM[1]) ** 2)

    # Per-example gradients (reverse mode) and tangents (forward mode).
    check_vmap(funcdiff.grad(loss, argnums=(0, 1)), (y0s, 0.25), in_axes=(0, None),
               rtol=1e-6, atol=1e-8)
    check_vmap(lambda y0: funcdiff.jvp(lambda b: loss(y0, b), (0.25,), (1.0,))[1], (y0s,),
               rtol=1e-6, atol=1e-8)


# ---- errors ---------------------------------------------------------------------------------


def test_bad_times_are_refused():
    with pytest.raises(ValueError, match="odeint: t must be a 1-D array"):
        odeint(linear, np.ones(3), np.ones((2, 2)), A)
    with pytest.raises(ValueError, match="odeint: the times t must be increasing"):
        odeint(linear, np.ones(3), np.array([0.0, 2.0, 1.0]), A)
    with pytest.raises(TypeError, match="odeint: func must be callable"):
        odeint(A, np.ones(3), np.array([0.0, 1.0]))


def test_closing_over_a_differentiated_value():
    # As JAX (closure_convert): values func closes over are differentiated like args.
    w = np.array([[0.0, 1.0], [-2.0, -0.1]])

    def loss(k, w):
        return jnp.sum(odeint(lambda y, t: k * (w @ y), np.array([1.0, 0.0]),
                              np.array([0.0, 1.0]), **TIGHT)[-1])

    def loss_args(k, w):
        return jnp.sum(odeint(lambda y, t, k, w: k * (w @ y), np.array([1.0, 0.0]),
                              np.array([0.0, 1.0]), k, w, **TIGHT)[-1])

    got = funcdiff.grad(loss, argnums=(0, 1))(0.5, w)
    want = funcdiff.grad(loss_args, argnums=(0, 1))(0.5, w)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    check_grads(loss, (0.5, w), order=1, modes=("fwd", "rev"), **FD)
    np.testing.assert_allclose(funcdiff.jit(loss)(0.5, w), loss_args(0.5, w), rtol=1e-13)
