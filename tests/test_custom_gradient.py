"""custom_gradient: a function returning (value, vjp), under grad, jit, vmap and
grad-of-grad; its errors."""

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import grad, jit, vmap
from funcdiff.test_util import check_grads


@funcdiff.custom_gradient
def log1pexp(x):
    e = jnp.exp(-jnp.abs(x))  # never overflows
    value = jnp.maximum(x, 0.0) + jnp.log1p(e)
    sig = jnp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return value, lambda g: (g * sig,)


@funcdiff.custom_gradient
def half_square(x):
    """x**2 with a gradient of x (half the true one): shows that the rule is used."""
    return x**2, lambda g: (g * x,)


def test_the_rule_gives_the_gradient():
    assert half_square(3.0) == 9.0
    assert grad(half_square)(3.0) == 3.0
    assert jit(grad(half_square))(3.0) == 3.0
    assert grad(jit(half_square))(3.0) == 3.0
    np.testing.assert_allclose(vmap(grad(half_square))(np.arange(3.0)), [0.0, 1.0, 2.0])
    x = np.arange(3.0)
    np.testing.assert_allclose(grad(lambda v: jnp.sum(vmap(half_square)(v)))(x), x)
    np.testing.assert_allclose(grad(lambda v: jnp.sum(half_square(v)))(x), x)


def test_stable_log1pexp_and_its_second_derivative():
    assert grad(log1pexp)(1000.0) == 1.0
    assert grad(log1pexp)(-1000.0) == 0.0
    assert jit(grad(log1pexp))(1000.0) == 1.0
    # sigmoid'(0) = 1/4, through the rule's closed-over values
    assert grad(grad(log1pexp))(0.0) == 0.25
    assert jit(grad(grad(log1pexp)))(0.0) == 0.25
    x = np.array([-3.0, -0.5, 0.2, 4.0])
    s = 1.0 / (1.0 + np.exp(-x))
    np.testing.assert_allclose(vmap(grad(grad(log1pexp)))(x), s * (1 - s), rtol=1e-12)
    check_grads(log1pexp, (x,), order=2, modes=["rev"])


def test_several_and_pytree_arguments():
    @funcdiff.custom_gradient
    def f(x, y):
        return x * y, lambda g: (g * y, g * x)

    assert f(3.0, 4.0) == 12.0
    assert grad(f, argnums=(0, 1))(3.0, 4.0) == (4.0, 3.0)
    assert grad(lambda y: f(3.0, y=y))(4.0) == 3.0  # a keyword bound to its position

    @funcdiff.custom_gradient
    def h(p):
        return p["a"] * p["b"], lambda g: ({"a": 10 * g * p["b"], "b": g * p["a"]},)

    assert grad(h)({"a": 2.0, "b": 5.0}) == {"a": 50.0, "b": 2.0}


def test_pytree_output_and_a_bare_cotangent_for_one_argument():
    @funcdiff.custom_gradient
    def f(x):
        return (jnp.sin(x), 2 * x), lambda ct: ct[0] * jnp.cos(x) + 2 * ct[1]

    x = np.array([0.1, 0.7])
    np.testing.assert_allclose(grad(lambda v: jnp.sum(f(v)[0] + f(v)[1]))(x), np.cos(x) + 2)
    y, pull = funcdiff.vjp(f, x)
    (dx,) = pull((np.ones(2), np.zeros(2)))
    np.testing.assert_allclose(dx, np.cos(x))


def test_the_forward_pass_runs_once_under_grad():
    calls = []

    @funcdiff.custom_gradient
    def f(x):
        calls.append(1)
        return jnp.sin(x), lambda g: (g * jnp.cos(x),)

    assert grad(f)(0.5) == np.cos(0.5)
    assert len(calls) == 1


def test_float32_stays_float32():
    g = grad(lambda x: jnp.sum(half_square(x)))(np.ones(3, np.float32))
    assert g.dtype == np.float32


def test_forward_mode_is_not_defined():
    with pytest.raises(TypeError, match="forward-mode"):
        funcdiff.jvp(half_square, (1.0,), (1.0,))


@pytest.mark.parametrize(
    ("fun", "message"),
    [
        (lambda x: x, "must return a pair"),
        (lambda x: (x, 3.0), "second element is a float"),
        (lambda x: (x, lambda g: (g, g)), r"one cotangent per argument \(1\), got 2 items"),
    ],
)
def test_misuse_raises_a_clear_error(fun, message):
    with pytest.raises(TypeError, match=message):
        grad(funcdiff.custom_gradient(fun))(1.0)


def test_keyword_only_arguments_raise():
    @funcdiff.custom_gradient
    def f(x, *, scale):
        return x * scale, lambda g: (g * scale,)

    with pytest.raises(TypeError, match="keyword-only"):
        f(1.0, scale=2.0)
