"""`lax.gather` and `lax.scatter*` with JAX's dimension numbers, against a reference that
loops over the index vectors in NumPy, with derivatives, jit and vmap."""

from __future__ import annotations

import numpy as np
import pytest
from gather_scatter_reference import gather_reference, scatter_reference

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import lax
from funcdiff.test_util import check_grads, check_vmap

rng = np.random.default_rng(7)
X = rng.normal(size=(5, 6, 4))


GATHERS = [
    (lax.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(0, 2),
                                start_index_map=(0, 2)), (1, 3, 1), (4, 2)),
    (lax.GatherDimensionNumbers(offset_dims=(1, 2, 3), collapsed_slice_dims=(),
                                start_index_map=(1,)), (2, 2, 4), (3, 1)),
    (lax.GatherDimensionNumbers(offset_dims=(0, 3), collapsed_slice_dims=(1,),
                                start_index_map=(1, 0)), (2, 1, 3), (2, 3, 2)),
    (lax.GatherDimensionNumbers(offset_dims=(), collapsed_slice_dims=(0, 1, 2),
                                start_index_map=(0, 1, 2)), (1, 1, 1), (7, 3)),
]


@pytest.mark.parametrize("case", range(len(GATHERS)))
@pytest.mark.parametrize("mode", ["clip", "fill"])
def test_gather_matches_the_reference(case, mode):
    dn, sizes, idx_shape = GATHERS[case]
    idx = rng.integers(-2, 7, size=idx_shape)
    expected = gather_reference(X, idx, dn, sizes, mode)
    got = lax.gather(X, idx, dn, sizes, mode=mode)
    np.testing.assert_array_equal(got, expected)
    jitted = funcdiff.jit(lambda x, i: lax.gather(x, i, dn, sizes, mode=mode))
    np.testing.assert_array_equal(jitted(X, idx), expected)
    if mode == "clip":
        np.testing.assert_array_equal(lax.gather(X, idx, dn, sizes), expected)  # the default
        check_grads(lambda x: lax.gather(x, idx, dn, sizes, mode=mode), (X,), order=2,
                    modes=("fwd", "rev"))
        check_vmap(lambda x: lax.gather(x, idx, dn, sizes), [np.stack([X, -X])])


SCATTERS = [
    (lax.ScatterDimensionNumbers(update_window_dims=(1,), inserted_window_dims=(0, 2),
                                 scatter_dims_to_operand_dims=(0, 2)), (4, 2), (4, 3)),
    (lax.ScatterDimensionNumbers(update_window_dims=(1, 2), inserted_window_dims=(0,),
                                 scatter_dims_to_operand_dims=(0, 1)), (3, 2), (3, 2, 4)),
    (lax.ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0, 1, 2),
                                 scatter_dims_to_operand_dims=(0, 1, 2)), (6, 3), (6,)),
]
KINDS = ["scatter_add", "scatter_mul", "scatter_min", "scatter_max", "scatter"]


@pytest.mark.parametrize("case", range(len(SCATTERS)))
@pytest.mark.parametrize("mode", ["clip", "drop"])
@pytest.mark.parametrize("kind", KINDS)
def test_scatter_matches_the_reference(case, mode, kind):
    dn, idx_shape, u_shape = SCATTERS[case]
    idx = rng.integers(-1, 6, size=idx_shape)
    if kind == "scatter":  # overlapping windows of a plain scatter land in no defined order
        idx = np.array([[i, i, i][: idx_shape[1]] for i in range(idx_shape[0])]) % 3
    u = rng.normal(size=u_shape)
    fn = getattr(lax, kind)
    expected = scatter_reference(kind, X, idx, u, dn, mode)
    np.testing.assert_allclose(fn(X, idx, u, dn, mode=mode), expected, rtol=1e-14)
    np.testing.assert_allclose(funcdiff.jit(lambda x, i, u: fn(x, i, u, dn, mode=mode))(X, idx, u),
                               expected, rtol=1e-14)
    if mode == "drop":
        np.testing.assert_allclose(fn(X, idx, u, dn), expected, rtol=1e-14)  # the default


@pytest.mark.parametrize("case", range(len(SCATTERS)))
def test_scatter_add_derivatives_and_vmap(case):
    dn, idx_shape, u_shape = SCATTERS[case]
    idx = rng.integers(-1, 6, size=idx_shape)
    u = rng.normal(size=u_shape)
    check_grads(lambda x, u: lax.scatter_add(x, idx, u, dn), (X, u), order=2,
                modes=("fwd", "rev"))
    check_vmap(lambda u: lax.scatter_add(X, idx, u, dn), [np.stack([u, 2 * u])])
    # scatter_sub is scatter_add of the negated updates.
    np.testing.assert_allclose(lax.scatter_sub(X, idx, u, dn),
                               lax.scatter_add(X, idx, -u, dn), rtol=1e-14)


def test_traced_indices_and_errors():
    dn, sizes, _ = GATHERS[0]
    f = funcdiff.jit(lambda i: jnp.sum(lax.gather(X, i, dn, sizes)))
    idx = np.array([[1, 2], [4, 3]])
    assert np.isclose(f(idx), gather_reference(X, idx, dn, sizes, "clip").sum())
    with pytest.raises(ValueError, match="slice_sizes"):
        lax.gather(X, idx, dn, (1, 3))
    with pytest.raises(ValueError, match="mode must be one of"):
        lax.gather(X, idx, dn, sizes, mode="wrap")
    with pytest.raises(ValueError, match="update_window_dims"):
        lax.scatter_add(X, idx, np.ones((2, 3)), SCATTERS[1][0])


def test_batching_dims_equal_a_loop_over_the_batch():
    x = rng.normal(size=(3, 5, 4))
    idx = rng.integers(0, 4, size=(3, 2, 1))
    u = rng.normal(size=(3, 2, 4))
    gdn = lax.GatherDimensionNumbers(offset_dims=(2,), collapsed_slice_dims=(1,),
                                     start_index_map=(1,), operand_batching_dims=(0,),
                                     start_indices_batching_dims=(0,))
    sdn = lax.ScatterDimensionNumbers(update_window_dims=(2,), inserted_window_dims=(1,),
                                      scatter_dims_to_operand_dims=(1,),
                                      operand_batching_dims=(0,),
                                      scatter_indices_batching_dims=(0,))
    one_g = lax.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(0,),
                                       start_index_map=(0,))
    one_s = lax.ScatterDimensionNumbers(update_window_dims=(1,), inserted_window_dims=(0,),
                                        scatter_dims_to_operand_dims=(0,))
    np.testing.assert_array_equal(
        lax.gather(x, idx, gdn, (1, 1, 4)),
        np.stack([lax.gather(x[b], idx[b], one_g, (1, 4)) for b in range(3)]))
    np.testing.assert_allclose(
        lax.scatter_add(x, idx, u, sdn),
        np.stack([lax.scatter_add(x[b], idx[b], u[b], one_s) for b in range(3)]), rtol=1e-14)
