"""`funcdiff.scipy.stats.mode` and `rankdata`: values against SciPy over axes, ties, NaNs and
dtypes, `keepdims`, `jit` against eager, `vmap` against a loop, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as ss

import funcdiff
from funcdiff.scipy import stats

RNG = np.random.default_rng(3)
METHODS = ["average", "min", "max", "dense", "ordinal"]


def _ties(shape, dtype=np.float64):
    return RNG.integers(0, 4, size=shape).astype(dtype)


@pytest.mark.parametrize("shape,axis", [((9,), 0), ((4, 7), 0), ((4, 7), 1), ((4, 7), -1),
                                        ((2, 3, 5), 1), ((2, 3, 5), None), ((1,), 0)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32])
def test_mode_matches_scipy(shape, axis, dtype):
    x = _ties(shape, dtype)
    got, ref = stats.mode(x, axis=axis), ss.mode(x, axis=axis)
    np.testing.assert_array_equal(got.mode, ref.mode)
    np.testing.assert_array_equal(got.count, ref.count)
    assert got.mode.dtype == x.dtype
    got_k, ref_k = stats.mode(x, axis=axis, keepdims=True), ss.mode(x, axis=axis, keepdims=True)
    assert got_k.mode.shape == ref_k.mode.shape
    np.testing.assert_array_equal(got_k.count, ref_k.count)


def test_mode_nans_are_one_value():
    for x in ([1.0, np.nan, np.nan, 2.0], [1.0, 1.0, np.nan], [np.nan, 3.0]):
        got, ref = stats.mode(np.array(x)), ss.mode(np.array(x))
        np.testing.assert_array_equal(got.mode, ref.mode)
        assert int(got.count) == int(ref.count)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape,axis", [((8,), None), ((3, 6), None), ((3, 6), 0),
                                        ((3, 6), 1), ((2, 3, 4), -2), ((1,), 0)])
def test_rankdata_matches_scipy(method, shape, axis):
    x = _ties(shape)
    got = stats.rankdata(x, method, axis=axis)
    np.testing.assert_array_equal(got, ss.rankdata(x, method, axis=axis))
    assert got.dtype == np.float64


@pytest.mark.parametrize("method", METHODS)
def test_rankdata_nan_slices_and_float32(method):
    x = np.array([[3.0, np.nan, 1.0], [2.0, 2.0, 0.5]])
    np.testing.assert_array_equal(stats.rankdata(x, method, axis=1),
                                  ss.rankdata(x, method, axis=1))
    assert stats.rankdata(x.astype(np.float32), method).dtype == np.float32
    assert stats.rankdata(np.array([3, 1, 2]), method).dtype == np.float64


def test_jit_and_vmap():
    x = _ties((5, 8))
    for fn in (lambda v: stats.mode(v, axis=-1), lambda v: stats.rankdata(v, "average")):
        eager = fn(x[0])
        for got, want in zip(np.atleast_1d(funcdiff.jit(fn)(x[0])), np.atleast_1d(eager)):
            np.testing.assert_array_equal(got, want)
        batched = funcdiff.vmap(fn)(x)
        loop = [fn(row) for row in x]
        if isinstance(eager, tuple):
            np.testing.assert_array_equal(batched.mode, [r.mode for r in loop])
            np.testing.assert_array_equal(batched.count, [r.count for r in loop])
        else:
            np.testing.assert_array_equal(batched, np.stack(loop))


def test_errors():
    with pytest.raises(ValueError, match="method must be"):
        stats.rankdata(np.ones(3), "first")
    with pytest.raises(NotImplementedError, match="nan_policy='propagate'"):
        stats.mode(np.ones(3), nan_policy="omit")
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        stats.mode(np.ones((2, 2)), axis=2)
    with pytest.raises(ValueError, match="the axis is empty"):
        stats.mode(np.ones((0, 2)))
