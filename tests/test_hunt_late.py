"""Regression tests for the wrong answers and unclear failures found by the late adversarial
hunt of 2026-12-07 (jit, grad, vmap and eager compared with each other and with JAX's
documented behaviour). One test per bug; each failed before its fix."""

from __future__ import annotations

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import grad, jit


def test_index_array_made_inside_jit():
    # `jnp.array([...])` built inside a jitted function is a constant Array; the bounds check
    # of NumPy indexing called its methods, which were staged, and failed with int().
    x = np.arange(12.0).reshape(3, 4)
    f = lambda x: x[jnp.array([0, 2, 2])]  # noqa: E731
    np.testing.assert_array_equal(jit(f)(x), x[[0, 2, 2]])
    g = jit(grad(lambda x: jnp.sum(f(x) ** 2)))(x)
    np.testing.assert_array_equal(g, [2 * x[0], 0 * x[1], 4 * x[2]])
    with pytest.raises(IndexError, match="index 5 is out of bounds"):
        jit(lambda x: x[jnp.array([0, 5])])(x)
