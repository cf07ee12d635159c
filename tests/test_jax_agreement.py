"""Behaviour that silently differed from JAX, pinned to the values JAX gives.

The expected values below were computed with JAX (0.10, float64 enabled); the tests do not
need JAX installed."""

import numpy as np

from funcdiff import grad, jit, nn


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
