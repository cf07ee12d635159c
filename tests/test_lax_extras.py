"""The `funcdiff.lax` conveniences added for JAX programs (`*_in_dim`, `top_k`, the
cumulative scans, `Precision`), `funcdiff.jacobian` and the no-op config options: values
against NumPy, derivatives of both modes, `vmap` against a loop, `jit` against eager."""

from __future__ import annotations

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import lax
from funcdiff.test_util import check_grads, check_vmap

RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 5))


def _flip_accumulate(ufunc, x, axis, reverse):
    if reverse:
        return np.flip(ufunc.accumulate(np.flip(x, axis), axis=axis), axis)
    return ufunc.accumulate(x, axis=axis)


CUMULATIVE = [(lax.cumsum, np.add), (lax.cumprod, np.multiply), (lax.cummax, np.maximum),
              (lax.cummin, np.minimum), (lax.cumlogsumexp, np.logaddexp)]


@pytest.mark.parametrize("op, ufunc", CUMULATIVE, ids=[f.__name__ for f, _ in CUMULATIVE])
@pytest.mark.parametrize("axis, reverse", [(0, False), (1, True), (-1, False)])
def test_cumulative_scans(op, ufunc, axis, reverse):
    f = lambda x: op(x, axis=axis, reverse=reverse)  # noqa: E731
    np.testing.assert_allclose(f(X), _flip_accumulate(ufunc, X, axis, reverse), rtol=1e-13)
    np.testing.assert_array_equal(funcdiff.jit(f)(X), f(X))
    check_grads(f, (X,), order=2, modes=("fwd", "rev"))
    check_vmap(f, (np.stack([X, 2 * X]),), in_axes=(0,))
    x32 = X.astype(np.float32)
    assert np.asarray(f(x32)).dtype == np.float32


def test_cumulative_scans_on_integers_and_edge_values():
    ints = np.array([3, 1, 4, 1, 5], np.int32)
    assert lax.cummax(ints).tolist() == [3, 3, 4, 4, 5] and lax.cummax(ints).dtype == np.int32
    assert lax.cumprod(ints, reverse=True).tolist() == [60, 20, 20, 5, 5]
    out = lax.cumlogsumexp(np.array([-np.inf, -1000.0, 0.0, 1000.0]))
    np.testing.assert_allclose(out, [-np.inf, -1000.0, 0.0, 1000.0])
    # Zeros: exact derivatives of the product.
    jac = funcdiff.jacrev(lax.cumprod)(np.array([2.0, 0.0, 3.0]))
    np.testing.assert_array_equal(jac, [[1, 0, 0], [0, 2, 0], [0, 6, 0]])
    with pytest.raises(TypeError, match="cumlogsumexp"):
        lax.cumlogsumexp(ints)
    with pytest.raises(ValueError, match="axis 2"):
        lax.cummax(X, axis=2)


def test_in_dim_helpers():
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(lax.slice_in_dim(x, 1, None, 2, axis=2), x[:, :, 1::2])
    np.testing.assert_array_equal(lax.index_in_dim(x, -1, axis=1), x[:, -1:])
    np.testing.assert_array_equal(lax.index_in_dim(x, 0, keepdims=False), x[0])
    np.testing.assert_array_equal(lax.dynamic_slice_in_dim(x, 2, 2, axis=2), x[:, :, 2:])
    np.testing.assert_array_equal(lax.dynamic_slice_in_dim(x, 3, 2, axis=2), x[:, :, 2:])
    np.testing.assert_array_equal(lax.dynamic_index_in_dim(x, 1, 1, keepdims=False), x[:, 1])
    out = lax.dynamic_update_slice_in_dim(x, np.zeros((2, 1, 4)), 1, axis=1)
    expected = x.copy()
    expected[:, 1] = 0
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(lax.dynamic_update_index_in_dim(x, np.zeros((2, 4)), 1, 1),
                                  expected)
    with pytest.raises(IndexError, match="out of bounds"):
        lax.index_in_dim(x, 3, axis=1)
    with pytest.raises(ValueError, match="axis 3"):
        lax.dynamic_slice_in_dim(x, 0, 1, axis=3)


def test_in_dim_helpers_trace_their_start_and_differentiate():
    x = np.arange(6.0)
    f = funcdiff.jit(lambda x, i: lax.dynamic_slice_in_dim(x, i, 2))
    assert f(x, 1).tolist() == [1.0, 2.0] and f(x, 4).tolist() == [4.0, 5.0]
    g = funcdiff.grad(lambda x: (lax.dynamic_slice_in_dim(x, 2, 3) ** 2).sum())(x)
    np.testing.assert_array_equal(g, [0, 0, 4, 6, 8, 0])
    check_grads(lambda x, u: lax.dynamic_update_slice_in_dim(x, u, 1, 0),
                (x, np.ones(2)), order=2, modes=("fwd", "rev"))
    check_vmap(lambda x: lax.index_in_dim(x, 1, axis=0), (np.stack([x, x + 1]),), in_axes=(0,))


def test_top_k():
    x = RNG.permutation(20).reshape(4, 5).astype(np.float64)
    values, indices = lax.top_k(x, 3)
    np.testing.assert_array_equal(values, -np.sort(-x, axis=-1)[:, :3])
    np.testing.assert_array_equal(np.take_along_axis(x, indices, -1), values)
    assert indices.dtype == np.int32
    check_grads(lambda x: lax.top_k(x, 2)[0], (x,), order=2, modes=("fwd", "rev"))
    check_vmap(lambda x: lax.top_k(x, 2), (x,), in_axes=(0,))
    jitted = funcdiff.jit(lambda x: lax.top_k(x, 3))(x)
    np.testing.assert_array_equal(jitted[0], values)
    np.testing.assert_array_equal(jitted[1], indices)
    assert lax.top_k(np.array([2.0, 7.0, 7.0, 1.0]), 2)[1].tolist() == [1, 2]
    with pytest.raises(ValueError, match="k must be"):
        lax.top_k(x, 6)


def test_precision_is_accepted_and_ignored():
    a = RNG.normal(size=(2, 3))
    for p in (None, lax.Precision.HIGHEST, "highest", (lax.Precision.HIGH, "default")):
        out = lax.dot_general(a, a.T, (((1,), (0,)), ((), ())), precision=p)
        np.testing.assert_array_equal(out, a @ a.T)
    assert lax.Precision("tensorfloat32") is lax.Precision.HIGH
    with pytest.raises(ValueError):
        lax.Precision("fastest-please")


def test_numpy_contractions_accept_precision_and_preferred_element_type():
    a = RNG.normal(size=(2, 2)).astype(np.float32)
    for f in (jnp.dot, jnp.matmul):
        out = f(a, a, precision=lax.Precision.HIGHEST)
        np.testing.assert_array_equal(out, a @ a)
        assert out.dtype == np.float32
        assert f(a, a, preferred_element_type=np.float64).dtype == np.float64
        check_grads(lambda x: f(x, x, precision="highest"), (a.astype(np.float64),), order=2,
                    modes=("fwd", "rev"))


def test_jacobian_is_jacrev():
    assert funcdiff.jacobian is funcdiff.jacrev
    np.testing.assert_array_equal(funcdiff.jacobian(lambda x: x**2)(np.array([1.0, 2.0])),
                                  np.diag([2.0, 4.0]))


def test_config_accepts_jax_options_without_effect():
    config = funcdiff.config
    config.config_with_absl()
    config.parse_flags_with_absl()
    with config.override("jax_platform_name", "cpu"):
        assert config.jax_platform_name == "cpu"
        assert funcdiff.grad(lambda x: x * x)(3.0) == 6.0
    for name, value in [("jax_default_matmul_precision", "highest"), ("jax_log_compiles", True),
                        ("jax_platforms", "cpu"), ("jax_numpy_rank_promotion", "allow")]:
        with config.override(name, value):
            assert config.read(name) == value
    with pytest.raises(ValueError, match="jax_numpy_rank_promotion='raise'"):
        config.update("jax_numpy_rank_promotion", "raise")
    with pytest.raises(AttributeError, match="Unrecognized config option"):
        config.update("jax_no_such_option", 1)
    # JAX's default random bits, the ones funcdiff.random draws: only True.
    config.update("jax_threefry_partitionable", True)
    with pytest.raises(ValueError, match="partitionable.*jax_threefry_partitionable=False"):
        config.update("jax_threefry_partitionable", False)
