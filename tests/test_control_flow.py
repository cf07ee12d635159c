"""cond/switch, while_loop/fori_loop, scan/map: values, derivatives in both modes, batching,
jit, and errors."""

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import grad, jit, jvp, lax, vmap
from funcdiff._src import core
from funcdiff.test_util import check_grads, check_vmap

rng = np.random.default_rng(0)


def piecewise(x):
    return lax.cond(x > 0, lambda x: jnp.sin(x) * x, lambda x: -(x**3), x)


def test_cond_values_and_derivatives():
    for x in (1.3, -0.7):
        assert np.isclose(piecewise(x), np.sin(x) * x if x > 0 else -(x**3))
        check_grads(piecewise, (x,), order=2)
        assert np.isclose(jit(piecewise)(x), piecewise(x))
        assert np.isclose(jit(grad(piecewise))(x), grad(piecewise)(x))


def test_cond_in_the_ir_has_both_branches():
    text = str(funcdiff.make_jaxpr(piecewise)(1.0))
    assert "cond[branches=(" in text and "sin" in text and "integer_pow[y=3]" in text


def test_cond_with_pytrees_and_closures():
    w = np.array([1.0, 2.0])

    def f(p, flag):
        return lax.cond(flag, lambda p: {"y": p["a"] * w}, lambda p: {"y": p["a"] - w}, p)

    p = {"a": np.array([3.0, 4.0])}
    np.testing.assert_allclose(f(p, True)["y"], [3.0, 8.0])
    np.testing.assert_allclose(f(p, False)["y"], [2.0, 2.0])
    g = grad(lambda w_: jnp.sum(lax.cond(True, lambda a: a * w_, lambda a: a, p["a"])))(w)
    np.testing.assert_allclose(g, p["a"])


def test_switch_clamps_the_index_and_differentiates():
    branches = [lambda x: x, lambda x: x**2, lambda x: jnp.exp(x)]
    for i, expected in [(-4, 1.0), (1, 2 * 1.5), (2, np.exp(1.5)), (9, np.exp(1.5))]:
        assert np.isclose(grad(lambda x: lax.switch(i, branches, x))(1.5), expected)


def test_batched_predicate_selects_per_element():
    xs = np.array([-1.5, 0.5, 2.0])
    check_vmap(piecewise, (xs,))
    np.testing.assert_allclose(vmap(grad(piecewise))(xs), [grad(piecewise)(x) for x in xs])
    check_vmap(lambda x, i: lax.switch(i, [jnp.sin, jnp.cos, jnp.tanh], x),
               (xs, np.array([0, 2, 1])))


def test_branch_output_mismatch_is_an_error():
    with pytest.raises(TypeError, match=r"f64\[2\].*f64\[3\]"):
        lax.cond(True, lambda x: x[:2], lambda x: x, np.ones(3))


def test_while_loop_forward_mode_and_batching():
    def f(x):
        return lax.while_loop(lambda c: c[0] < 5, lambda c: (c[0] + 1, c[1] * x + 1.0),
                              (0, 1.0))[1]

    assert np.isclose(f(2.0), 63.0)
    check_grads(f, (1.1,), order=2, modes=("fwd",))
    assert np.isclose(jvp(f, (2.0,), (1.0,))[1], funcdiff.jacfwd(f)(2.0))
    check_vmap(lambda x: lax.while_loop(lambda c: c < x, lambda c: c * 2.0, 1.0),
               (np.array([0.5, 3.0, 100.0]),))
    assert jit(f)(2.0) == 63.0


def test_while_loop_reverse_mode_error_suggests_scan():
    f = lambda x: lax.while_loop(lambda c: c < 10.0, lambda c: c * x, 1.0)
    with pytest.raises(TypeError, match="fori_loop.*scan"):
        grad(f)(2.0)


def test_while_loop_carry_type_errors():
    with pytest.raises(TypeError, match="carry"):
        lax.while_loop(lambda c: c < 3, lambda c: (c, c), 0)
    with pytest.raises(TypeError, match="f32.*f64|f64.*f32"):
        lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1].astype(np.float32)),
                       (0, 1.0))
    with pytest.raises(TypeError, match="boolean scalar"):
        lax.while_loop(lambda c: c, lambda c: c, 1.0)


def test_fori_loop_static_bounds_is_reverse_differentiable():
    power = lambda x: lax.fori_loop(0, 4, lambda i, acc: acc * x + i, 1.0)
    check_grads(power, (0.7,), order=2)
    assert np.isclose(jit(grad(power))(0.7), grad(power)(0.7))
    # Traced bounds give a while loop: forward mode only.
    dyn = jit(lambda x, n: lax.fori_loop(0, n, lambda i, acc: acc * x, 1.0))
    assert dyn(2.0, 5) == 32.0


def running(xs, w):
    def step(c, x):
        c = jnp.tanh(c * w + x)
        return c, c * x

    return lax.scan(step, np.zeros(2), xs)


def test_scan_values_and_derivatives():
    xs, w = rng.normal(size=(5, 2)), rng.normal(size=2)
    carry, ys = running(xs, w)
    c, expected = np.zeros(2), []
    for x in xs:
        c = np.tanh(c * w + x)
        expected.append(c * x)
    np.testing.assert_allclose(carry, c)
    np.testing.assert_allclose(ys, np.stack(expected))
    f = lambda xs, w: jnp.sum(running(xs, w)[0]) + jnp.sum(running(xs, w)[1] ** 2)
    check_grads(f, (xs, w), order=2)
    np.testing.assert_allclose(jit(grad(f, argnums=(0, 1)))(xs, w)[1],
                               grad(f, argnums=(0, 1))(xs, w)[1])


def test_scan_reverse_and_map():
    xs = np.arange(1.0, 5.0)
    total, partial = lax.scan(lambda c, x: (c + x, c + x), 0.0, xs, reverse=True)
    assert total == 10.0
    np.testing.assert_allclose(partial, [10.0, 9.0, 7.0, 4.0])
    np.testing.assert_allclose(lax.map(lambda x: x**2, xs), xs**2)
    check_grads(lambda xs: lax.scan(lambda c, x: (c * x, c), 1.0, xs, reverse=True)[0], (xs,),
                order=2)


def test_scan_batching():
    xs, w = rng.normal(size=(3, 5, 2)), rng.normal(size=2)
    check_vmap(lambda xs: running(xs, w), (xs,))
    check_vmap(running, (xs[0], rng.normal(size=(4, 2))), (None, 0))


def test_reverse_mode_of_scan_stores_residuals_not_a_graph():
    xs = rng.normal(size=(6, 3))
    jaxpr = funcdiff.make_jaxpr(grad(lambda xs: jnp.sum(running(xs, np.ones(2) * 0.5)[0])))
    names = [e.primitive.name for e in jaxpr(xs[:, :2]).eqns]
    assert names.count("scan") == 2  # a forward scan (saving residuals) and its transpose
    core.typecheck_jaxpr(jaxpr(xs[:, :2]).jaxpr)


def test_scan_length_errors():
    with pytest.raises(ValueError, match="inconsistent lengths"):
        lax.scan(lambda c, x: (c, x), 0.0, (np.ones(3), np.ones(4)))
    with pytest.raises(TypeError, match="pair"):
        lax.scan(lambda c, x: c, 0.0, np.ones(3))
