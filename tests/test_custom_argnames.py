"""custom_jvp and custom_vjp take `nondiff_argnames` (JAX 0.10's keyword) and keyword
arguments at the call, bound to their positions as JAX binds them."""

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import grad, jit, vmap


def _power_jvp():
    @funcdiff.custom_jvp
    def power(x, n=2):
        return x**n

    @power.defjvp
    def _rule(n, primals, tangents):
        (x,), (t,) = primals, tangents
        return x**n, 10.0 * n * x ** (n - 1) * t  # ten times the true derivative: visible

    return power


@pytest.mark.parametrize(
    "make",
    [
        lambda f: funcdiff.custom_jvp(f, nondiff_argnames=("n",)),
        lambda f: funcdiff.custom_jvp(f, nondiff_argnums=(1,)),
        lambda f: funcdiff.custom_jvp(f, nondiff_argnums=(1,), nondiff_argnames="n"),
    ],
    ids=["names", "numbers", "both"],
)
def test_custom_jvp_nondiff_by_name_or_number(make):
    def power(x, n=2):
        return x**n

    f = make(power)
    assert f.nondiff_argnums == (1,)

    @f.defjvp
    def _rule(n, primals, tangents):
        (x,), (t,) = primals, tangents
        return x**n, 10.0 * n * x ** (n - 1) * t

    assert grad(lambda x: f(x, 3))(2.0) == 120.0
    assert grad(lambda x: f(x, n=3))(2.0) == 120.0
    assert grad(lambda x: f(x=x, n=3))(2.0) == 120.0
    assert grad(f)(2.0) == 40.0  # n left to its default, 2
    assert jit(grad(lambda x: f(x, n=3)))(2.0) == 120.0
    np.testing.assert_allclose(vmap(grad(lambda x: f(x, n=2)))(np.array([1.0, 2.0])), [20, 40])


def test_custom_vjp_nondiff_argnames():
    @funcdiff.custom_vjp
    def scale(x, factor):
        return x * factor

    scale = funcdiff.custom_vjp(scale.fun, nondiff_argnames=["factor"])
    scale.defvjp(lambda x, factor: (x * factor, None), lambda factor, res, g: (-g * factor,))
    assert scale.nondiff_argnums == (1,)
    assert grad(lambda x: scale(x, factor=3.0))(1.0) == -3.0
    assert grad(lambda x: jnp.sum(scale(x, 2.0)))(np.ones(2)).tolist() == [-2.0, -2.0]


def test_keyword_arguments_without_nondiff():
    @funcdiff.custom_jvp
    def f(x, y):
        return x * y

    f.defjvps(lambda t, ans, x, y: t * y, lambda t, ans, x, y: t * x)
    assert f(2.0, y=5.0) == 10.0
    assert grad(lambda y: f(x=2.0, y=y))(5.0) == 2.0


def test_bad_names_and_keywords_raise():
    with pytest.raises(ValueError, match="'m', which is not a positional parameter"):
        funcdiff.custom_jvp(lambda x, n: x, nondiff_argnames=("m",))
    f = _power_jvp()
    with pytest.raises(TypeError, match="could not be bound"):
        f(1.0, k=2)

    @funcdiff.custom_vjp
    def g(x, *, scale=1.0):
        return x * scale

    g.defvjp(lambda x, scale=1.0: (x, None), lambda res, ct: (ct,))
    with pytest.raises(TypeError, match="keyword-only"):
        g(1.0, scale=2.0)
