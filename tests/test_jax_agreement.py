"""Behaviour that silently differed from JAX, pinned to the values JAX gives.

The expected values below were computed with JAX (0.10, float64 enabled); the tests do not
need JAX installed."""

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import grad, jit, lax, nn, vmap


def test_relu_keeps_nan():
    np.testing.assert_array_equal(nn.relu(np.array([np.nan, -1.0, 0.0, 2.0])),
                                  [np.nan, 0.0, 0.0, 2.0])
    np.testing.assert_array_equal(jit(nn.relu)(np.array([np.nan, -1.0])), [np.nan, 0.0])
    np.testing.assert_array_equal(grad(lambda x: nn.relu(x).sum())(np.array([-1.0, 0.0, 2.0])),
                                  [0.0, 0.0, 1.0])
    assert nn.relu(np.array([-1, 3])).dtype == np.int64


def test_standardize_takes_jax_keywords():
    x = np.array([1.0, 2.0, 4.0])
    np.testing.assert_allclose(nn.standardize(x), [-1.06904153, -0.26726038, 1.33630191])
    np.testing.assert_allclose(nn.standardize(x, mean=1.0, variance=3.0, epsilon=1.0),
                               [0.0, 0.5, 1.5])
    # A given mean without a variance: the variance is mean(x**2) - mean**2, as in JAX.
    np.testing.assert_allclose(nn.standardize(x, mean=1.0), [0.0, 0.40824795, 1.22474385])
    assert nn.standardize(x.astype(np.float32), mean=1.0, variance=3.0).dtype == np.float32
    np.testing.assert_allclose(jit(lambda x: nn.standardize(x, epsilon=0.0))(x),
                               (x - x.mean()) / x.std())


def test_lax_round_rounds_half_away_from_zero_by_default():
    x = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 0.49999999999999994, 2.4, -3.7])
    away = [1.0, 2.0, 3.0, -1.0, -3.0, 0.0, 2.0, -4.0]
    even = [0.0, 2.0, 2.0, -0.0, -2.0, 0.0, 2.0, -4.0]
    for f in [lax.round, jit(lax.round), vmap(lax.round)]:
        np.testing.assert_array_equal(f(x), away)
    np.testing.assert_array_equal(lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN), even)
    np.testing.assert_array_equal(jit(lambda x: lax.round(x, 1))(x), even)
    np.testing.assert_array_equal(jnp.round(x), even)  # numpy.round's rule, as jnp.round
    assert lax.round(np.float32(2.5)) == 3.0 and lax.round(np.float32(2.5)).dtype == np.float32
    assert grad(lambda x: lax.round(x) * x)(2.5) == 3.0
    with pytest.raises(ValueError, match="rounding_method must be"):
        lax.round(x, 3)


def test_lax_conj_of_a_real_array_is_complex():
    for f in [lax.conj, jit(lax.conj)]:
        out = f(np.array([1.0, 2.0]))
        assert out.dtype == np.complex128
        np.testing.assert_array_equal(out, [1.0, 2.0])
    assert lax.conj(np.array([1.0], np.float32)).dtype == np.complex64
    assert lax.conj(np.array([1 + 2j])) == 1 - 2j
    assert jnp.conjugate(np.array([1.0])).dtype == np.float64  # as jnp.conjugate
    assert grad(lambda x: jnp.real(lax.conj(x) * 2.0))(1.0) == 2.0
    with pytest.raises(TypeError, match="lax.conj: the operand has dtype int64"):
        lax.conj(np.array([1, 2]))


# ---- .at[...].min / max / power with repeated places ------------------------------------------

_X, _IDX = np.array([1.0, 5.0, 3.0]), np.array([0, 0, 2])


def _at(method):
    return lambda x, i, v: getattr(x.at[i], method)(v)


@pytest.mark.parametrize("transform", [jit, lambda f: (lambda *a: vmap(f)(
    *[np.asarray(x)[None] for x in a])[0])], ids=["jit", "vmap"])
def test_at_min_max_with_a_traced_repeated_index_apply_every_update(transform):
    # The index is traced, so its repetitions are not visible when the program is built.
    np.testing.assert_array_equal(transform(_at("min"))(_X, _IDX, np.array([0.5, 4.0, 2.0])),
                                  [0.5, 5.0, 2.0])
    np.testing.assert_array_equal(transform(_at("max"))(_X, _IDX, np.array([7.0, 4.0, 2.0])),
                                  [7.0, 5.0, 3.0])
    np.testing.assert_array_equal(transform(_at("power"))(
        np.array([2.0, 3.0]), np.array([0, 0]), np.array([2.0, 3.0])), [64.0, 3.0])
    np.testing.assert_array_equal(transform(_at("max"))(
        np.arange(4), np.array([1, 1, 3]), np.array([7, 9, 1])), [0, 9, 2, 3])


@pytest.mark.parametrize("v, gx, gv", [
    ([0.5, 4.0, 2.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]),
    ([0.5, 0.5, 2.0], [0.0, 1.0, 0.0], [0.5, 0.5, 1.0]),  # tied updates share
    ([1.0, 3.0, 2.0], [0.5, 1.0, 0.0], [0.5, 0.0, 1.0]),  # a tie with the operand too
])
def test_at_min_derivative_shares_ties_as_jax(v, gx, gv):
    f = grad(lambda x, v, i: x.at[i].min(v).sum(), argnums=(0, 1))
    for g in [f, jit(f)]:
        got_x, got_v = g(_X, np.array(v), _IDX)
        np.testing.assert_array_equal(got_x, gx)
        np.testing.assert_array_equal(got_v, gv)
    got_x, got_v = jit(grad(lambda x, v, i: x.at[i].max(v).sum(), argnums=(0, 1)))(
        _X, np.array([4.0, 7.0, 2.0]), _IDX)
    np.testing.assert_array_equal(got_x, [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(got_v, [0.0, 1.0, 0.0])


def test_at_power_with_a_repeated_index_raises_to_every_update():
    gx, gv = grad(lambda x, v: x.at[np.array([0, 0])].power(v).sum(), argnums=(0, 1))(
        np.array([2.0, 3.0]), np.array([2.0, 3.0]))
    np.testing.assert_allclose(gx, [6 * 2.0**5, 1.0])  # d/dx x**6
    np.testing.assert_allclose(gv, [64 * np.log(2.0) * 3, 64 * np.log(2.0) * 2])


# ---- derivative conventions at ties and boundaries --------------------------------------------


def _grads(f, *args):
    return tuple(float(g) for g in grad(f, argnums=tuple(range(len(args))))(*args))


def test_fmax_fmin_route_ties_to_the_second_argument():
    assert _grads(jnp.fmax, 1.0, 1.0) == (0.0, 1.0)
    assert _grads(jnp.fmin, 1.0, 1.0) == (0.0, 1.0)
    assert _grads(jnp.fmax, np.nan, 1.0) == (0.0, 1.0)
    assert _grads(jnp.fmax, 2.0, 1.0) == (1.0, 0.0)
    assert _grads(jnp.maximum, 1.0, 1.0) == (0.5, 0.5)  # maximum still shares, as JAX
    x, y = np.array([np.nan, 1.0, 3.0, np.nan]), np.array([2.0, np.nan, 1.0, np.nan])
    np.testing.assert_array_equal(jnp.fmax(x, y), np.fmax(x, y))
    np.testing.assert_array_equal(jnp.fmin(x, y), np.fmin(x, y))


def test_hypot_at_zero_and_without_overflow():
    assert _grads(jnp.hypot, 0.0, 0.0) == (0.5, 0.5)
    np.testing.assert_allclose(_grads(jnp.hypot, -3.0, 4.0), (-0.6, 0.8))
    assert _grads(jnp.hypot, 0.0, 2.0) == (0.0, 1.0)
    np.testing.assert_allclose(jnp.hypot(1e200, 1e200), 1.4142135623730951e200)
    assert jnp.hypot(np.inf, np.nan) == np.inf and jnp.hypot(3.0, 4.0) == 5.0
    assert jnp.hypot(np.float32(3.0), np.float32(4.0)).dtype == np.float32
    assert _grads(jit(jnp.hypot), 0.0, 0.0) == (0.5, 0.5)


@pytest.mark.filterwarnings("ignore:divide by zero", "ignore:invalid value")
def test_special_function_derivatives_at_their_boundaries():
    from funcdiff.scipy import special

    gx, gy = _grads(special.xlogy, 0.0, 0.0)
    assert gx == -np.inf and np.isnan(gy)  # log(y) and x / y
    assert _grads(special.xlogy, 0.0, 1.0) == (0.0, 0.0) and special.xlogy(0.0, 0.0) == 0.0
    gx, gy = _grads(special.xlog1py, 0.0, -1.0)
    assert gx == -np.inf and np.isnan(gy)
    assert _grads(special.xlog1py, 0.0, 0.0) == (0.0, 0.0)
    assert _grads(special.entr, 0.0) == (np.inf,) and special.entr(0.0) == 0.0
    assert special.logit(0.0) == -np.inf and special.logit(1.0) == np.inf
    assert _grads(special.logit, 0.0) == (np.inf,) and _grads(special.logit, 1.0) == (np.inf,)
    np.testing.assert_allclose(_grads(special.logit, 0.25), (1 / (0.25 * 0.75),))
    np.testing.assert_array_equal(vmap(grad(special.logit))(np.array([0.0, 0.5])), [np.inf, 4.0])
    np.testing.assert_array_equal(jit(grad(special.xlogy, argnums=(0, 1)))(0.0, 0.0),
                                  (-np.inf, np.nan))


def test_descending_sort_routes_tied_derivatives_as_jax():
    x = np.array([1.0, 2.0, 2.0])
    expected = [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    for jac in [funcdiff.jacfwd, funcdiff.jacrev]:
        np.testing.assert_array_equal(jac(lambda x: jnp.sort(x, descending=True))(x), expected)
    f = grad(lambda x: jnp.sum(jnp.sort(x, descending=True) * np.array([1.0, 2.0, 3.0, 4.0])))
    np.testing.assert_array_equal(jit(f)(np.array([1.0, 2.0, 2.0, 0.0])), [3.0, 2.0, 1.0, 4.0])
    # argsort's descending order keeps equal elements in order, as JAX's.
    np.testing.assert_array_equal(jnp.argsort(np.array([1.0, 2.0, 2.0, 1.0]), descending=True),
                                  [1, 2, 0, 3])


@pytest.mark.filterwarnings("ignore:invalid value", "ignore:divide by zero",
                            "ignore:Degrees of freedom")
def test_var_with_ddof_equal_to_the_count_is_nan_with_nan_gradient():
    x = np.array([1.0, 2.0])
    assert np.isnan(jnp.var(x, ddof=2))
    assert np.isnan(grad(lambda x: jnp.var(x, ddof=2))(x)).all()


# ---- eager lax applies jit's dtype rules --------------------------------------------------------


@pytest.mark.parametrize("f, args, message", [
    (lax.atan2, (np.array([1]), np.array([2])), "atan2: operand of dtype int64 is not floating"),
    (lax.shift_left, (np.array([True]), np.array([True])), "shift_left: operand of dtype bool"),
    (lax.shift_left, (np.array([1]), np.array([True])), "shift_left requires operands of one"),
])
def test_eager_lax_refuses_the_dtypes_jit_refuses(f, args, message):
    for g in [f, jit(f)]:
        with pytest.raises(TypeError, match=message):
            g(*args)


def test_reduce_and_or_are_bitwise_on_integers():
    x = np.array([6, 3])
    for axes_fn in [lambda x: lax.reduce_and(x, (0,)), lambda x: lax.reduce_or(x, (0,))]:
        assert axes_fn(x) == jit(axes_fn)(x)
    assert lax.reduce_and(x, (0,)) == 2 and lax.reduce_or(x, (0,)) == 7
    assert lax.reduce_and(np.zeros(0, np.int32), (0,)) == -1  # the identity: all bits set
    assert lax.reduce_or(np.array([False, True]), (0,)) and not lax.reduce_and(
        np.array([False, True]), (0,))
    assert jnp.all(np.array([1, 2])) and not jnp.any(np.array([0, 0]))  # still logical


def test_lax_div_truncates_integers_eagerly_and_under_jit():
    x, y = np.array([-7, 7, 6, -6]), np.array([2, 2, -4, -4])
    for f in [lax.div, jit(lax.div)]:
        out = f(x, y)
        np.testing.assert_array_equal(out, [-3, 3, -1, 1])
        assert out.dtype == np.int64
    assert lax.div(np.int32(-7), np.int32(2)).dtype == np.int32
    assert lax.div(7.0, 2.0) == 3.5 and grad(lax.div)(7.0, 2.0) == 0.5
