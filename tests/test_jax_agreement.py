"""Behaviour that silently differed from JAX, pinned to the values JAX gives.

The expected values below were computed with JAX (0.10, float64 enabled); the tests do not
need JAX installed."""

import numpy as np
import pytest

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
