"""`funcdiff.scipy.interpolate.RegularGridInterpolator` and `funcdiff.scipy.cluster.vq.vq`:
values against SciPy (grids of 1 to 3 axes, trailing value axes, fill values, extrapolation,
both methods), dtypes, derivatives against finite differences, the interpolator as a pytree,
`jit` against eager, `vmap` against a loop, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.cluster.vq as scv
import scipy.interpolate as si

import funcdiff
import funcdiff.numpy as jnp
from funcdiff.scipy.cluster.vq import vq
from funcdiff.scipy.interpolate import RegularGridInterpolator
from funcdiff.test_util import check_grads

RNG = np.random.default_rng(11)


def _grid(sizes, rest=()):
    points = tuple(np.sort(RNG.uniform(-1, 2, n)) for n in sizes)
    return points, RNG.standard_normal((*sizes, *rest))


def _queries(points, m, margin=0.3):
    return np.stack([RNG.uniform(p[0] - margin, p[-1] + margin, m) for p in points], -1)


@pytest.mark.parametrize("sizes", [(5,), (4, 6), (3, 4, 5)])
@pytest.mark.parametrize("method", ["linear", "nearest"])
@pytest.mark.parametrize("fill", [np.nan, 0.5, None])
def test_matches_scipy(sizes, method, fill):
    points, values = _grid(sizes)
    xi = _queries(points, 20)
    got = RegularGridInterpolator(points, values, method, fill_value=fill)(xi)
    ref = si.RegularGridInterpolator(points, values, method, bounds_error=False,
                                     fill_value=fill)(xi)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14)


def test_trailing_value_axes_query_shapes_and_tuples():
    points, values = _grid((4, 5), rest=(3,))
    xi = _queries(points, 12, margin=0.0).reshape(3, 4, 2)
    interp = RegularGridInterpolator(points, values)
    got = interp(xi)
    assert got.shape == (3, 4, 3)
    ref = si.RegularGridInterpolator(points, values)(xi)
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    np.testing.assert_allclose(interp((xi[..., 0], xi[..., 1])), ref, rtol=1e-12)
    np.testing.assert_allclose(interp(xi, method="nearest"),
                               si.RegularGridInterpolator(points, values, "nearest")(xi))
    one = RegularGridInterpolator((points[0],), values[:, 0, 0])
    x1 = np.array([points[0][1], 0.3])
    np.testing.assert_allclose(one(x1), si.RegularGridInterpolator((points[0],),
                                                                   values[:, 0, 0])(x1[:, None]))


def test_dtypes():
    points, values = _grid((4, 4))
    p32 = tuple(p.astype(np.float32) for p in points)
    interp = RegularGridInterpolator(p32, values.astype(np.float32))
    assert interp(_queries(points, 3).astype(np.float32)).dtype == np.float32
    assert interp(_queries(points, 3).astype(np.float32), method="nearest").dtype == np.float32
    assert RegularGridInterpolator(points, np.arange(16).reshape(4, 4))(
        _queries(points, 3)).dtype == np.float64


def test_gradients_match_finite_differences():
    points, values = _grid((4, 5))
    xi = _queries(points, 6, margin=-0.05)  # inside, away from the grid lines
    check_grads(lambda v: RegularGridInterpolator(points, v)(xi), (values,), order=2)
    check_grads(lambda x: RegularGridInterpolator(points, values)(x), (xi,), order=1,
                eps=1e-6)
    check_grads(lambda g0: RegularGridInterpolator((g0, points[1]), values)(xi),
                (points[0],), order=1, eps=1e-6)


def test_interpolator_is_a_pytree_through_jit_and_vmap():
    points, values = _grid((4, 5))
    xi = _queries(points, 7)
    interp = RegularGridInterpolator(points, values, fill_value=None)
    leaves = funcdiff.tree_util.tree_leaves(interp)
    assert len(leaves) == 3  # the two axes and the values (fill_value None is no leaf)
    eager = interp(xi)
    np.testing.assert_allclose(funcdiff.jit(lambda f, x: f(x))(interp, xi), eager, rtol=1e-13)
    batched = funcdiff.vmap(lambda v: RegularGridInterpolator(points, v)(xi))(
        np.stack([values, 2 * values]))
    np.testing.assert_allclose(batched[1], 2 * RegularGridInterpolator(points, values)(xi),
                               rtol=1e-13)
    np.testing.assert_allclose(funcdiff.vmap(interp)(xi), eager, rtol=1e-13)


def test_interpolator_errors():
    points, values = _grid((4, 5))
    with pytest.raises(ValueError, match="method must be 'linear' or 'nearest'"):
        RegularGridInterpolator(points, values, method="cubic")
    with pytest.raises(NotImplementedError, match="bounds_error=True"):
        RegularGridInterpolator(points, values, bounds_error=True)
    with pytest.raises(ValueError, match="3 point arrays, but values has 2"):
        RegularGridInterpolator((*points, points[0]), values)
    with pytest.raises(ValueError, match="strictly increasing"):
        RegularGridInterpolator((points[0][::-1], points[1]), values)
    with pytest.raises(ValueError, match=r"points\[1\] must be 1-D of length 5"):
        RegularGridInterpolator((points[0], points[1][:3]), values)
    with pytest.raises(ValueError, match="query points xi have dimension 3"):
        RegularGridInterpolator(points, values)(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="fill_value of dtype complex128"):
        RegularGridInterpolator(points, values, fill_value=1j)


@pytest.mark.parametrize("n_features", [None, 1, 3])
def test_vq_matches_scipy(n_features):
    shape_o = (9,) if n_features is None else (9, n_features)
    shape_c = (4,) if n_features is None else (4, n_features)
    obs, book = RNG.standard_normal(shape_o), RNG.standard_normal(shape_c)
    code, dist = vq(obs, book)
    ref_code, ref_dist = scv.vq(obs, book)
    np.testing.assert_array_equal(code, ref_code)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-12)
    d32 = vq(obs.astype(np.float32), book.astype(np.float32))[1]
    assert d32.dtype == np.float32


def test_vq_derivatives_jit_vmap_and_errors():
    obs, book = RNG.standard_normal((6, 2)), RNG.standard_normal((3, 2))
    check_grads(lambda o, b: vq(o, b)[1], (obs, book), order=1)
    code, dist = funcdiff.jit(vq)(obs, book)
    np.testing.assert_array_equal(code, vq(obs, book)[0])
    batched = funcdiff.vmap(lambda o: vq(o, book)[1])(np.stack([obs, obs + 1]))
    np.testing.assert_allclose(batched[1], vq(obs + 1, book)[1], rtol=1e-13)
    with pytest.raises(ValueError, match="obs has 2 features but code_book has 3"):
        vq(obs, np.ones((2, 3)))
    with pytest.raises(ValueError, match="must both be 1-D or both 2-D"):
        vq(obs, np.ones(3))
    assert isinstance(jnp.asarray(dist), funcdiff.Array)
