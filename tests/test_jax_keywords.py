"""JAX's keyword arguments that give data-dependent functions a static shape, or choose how
out-of-bounds indices and masks behave: `size=`/`fill_value=` of `nonzero` and its family,
`mode=`/`fill_value=` of `take` and `take_along_axis`, `total_repeat_length=` of `repeat`,
and `where=` of `softmax`, `log_softmax` and `logsumexp`.

The expected values were computed with jax 0.10.2 (float64 enabled) and are written out
here, so these tests do not need JAX. The generic tables (`numpy_table.py`, variants "size",
"mode", "total_repeat_length" and "where") cover random cases, derivatives by finite
differences, staging and vmap.
"""

from __future__ import annotations

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import nn
from funcdiff.errors import ConcretizationTypeError
from funcdiff.scipy import special

# ---- nonzero, argwhere, flatnonzero, where(cond) ---------------------------------------------

X = np.array([[0, 3, 0], [4, 0, 5]])


def _lists(t):
    return [np.asarray(i).tolist() for i in t]


@pytest.mark.parametrize("transform", ["eager", "jit"])
def test_nonzero_with_size_pads_or_truncates(transform):
    def run(f, *args):
        return f(*args) if transform == "eager" else funcdiff.jit(f)(*args)

    assert _lists(run(lambda x: jnp.nonzero(x, size=5), X)) == [[0, 1, 1, 0, 0],
                                                                [1, 0, 2, 0, 0]]
    assert _lists(run(lambda x: jnp.nonzero(x, size=2), X)) == [[0, 1], [1, 0]]
    assert _lists(run(lambda x: jnp.nonzero(x, size=4, fill_value=-1), X)) == [
        [0, 1, 1, -1], [1, 0, 2, -1]]
    assert _lists(run(lambda x: jnp.nonzero(x, size=4, fill_value=(-1, -2)), X)) == [
        [0, 1, 1, -1], [1, 0, 2, -2]]
    assert _lists(run(lambda x: jnp.where(x, size=4, fill_value=7), X)) == [
        [0, 1, 1, 7], [1, 0, 2, 7]]
    assert run(lambda x: jnp.argwhere(x, size=4), X).tolist() == [[0, 1], [1, 0], [1, 2],
                                                                   [0, 0]]
    assert run(lambda x: jnp.argwhere(x, size=4, fill_value=(-1, -2)), X).tolist() == [
        [0, 1], [1, 0], [1, 2], [-1, -2]]
    assert run(lambda x: jnp.flatnonzero(x, size=4, fill_value=9), X).tolist() == [1, 3, 5, 9]
    out = run(lambda x: jnp.nonzero(x, size=3), X)
    assert all(np.asarray(i).dtype == np.int64 for i in out)


def test_nonzero_with_size_under_vmap_works_row_by_row():
    (cols,) = funcdiff.vmap(lambda r: jnp.nonzero(r, size=3))(X)
    assert cols.tolist() == [[1, 0, 0], [0, 2, 0]]
    rows = funcdiff.vmap(lambda r: jnp.argwhere(r, size=3, fill_value=-1))(X)
    assert rows.tolist() == [[[1], [-1], [-1]], [[0], [2], [-1]]]


def test_nonzero_edge_shapes():
    assert jnp.argwhere(np.array(3), size=2).shape == (2, 0)
    assert jnp.argwhere(np.array(3)).shape == (1, 0)
    assert jnp.argwhere(np.array(0)).shape == (0, 0)
    assert jnp.flatnonzero(np.array(3), size=2).tolist() == [0, 0]
    assert _lists(jnp.nonzero(np.zeros(0), size=2)) == [[0, 0]]
    assert _lists(jnp.nonzero(np.zeros((2, 0, 3)), size=1, fill_value=4)) == [[4], [4], [4]]
    # NaN and complex values count as nonzero.
    assert _lists(jnp.nonzero(np.array([1.5, 0, np.nan, 0j]), size=3)) == [[0, 2, 0]]


def test_nonzero_without_size_under_jit_suggests_size():
    for f in (jnp.nonzero, jnp.argwhere, jnp.flatnonzero, jnp.where):
        with pytest.raises(ConcretizationTypeError, match="pass size="):
            funcdiff.jit(f)(X)


def test_nonzero_bad_arguments_are_named():
    with pytest.raises(ValueError, match="0-d"):
        jnp.nonzero(np.array(3), size=2)
    with pytest.raises(ValueError, match="fill_value has 3 entries"):
        jnp.nonzero(X, size=4, fill_value=(1, 2, 3))
    with pytest.raises(ValueError, match="one-argument form"):
        jnp.where(X > 0, 1.0, 0.0, size=3)
    with pytest.raises(ValueError, match="size must be >= 0"):
        jnp.nonzero(X, size=-1)


# ---- take and take_along_axis ---------------------------------------------------------------

A = np.array([1.0, 2.0, 3.0])
IDX = np.array([0, -1, -3, -4, 3, 5])
I64_MIN = np.iinfo(np.int64).min


@pytest.mark.parametrize("transform", ["eager", "jit"])
def test_take_modes_follow_jax(transform):
    def take(a, **kw):
        f = lambda a, i: jnp.take(a, i, **kw)  # noqa: E731
        return (f if transform == "eager" else funcdiff.jit(f))(a, IDX)

    np.testing.assert_array_equal(take(A), [1, 3, 1, np.nan, np.nan, np.nan])
    np.testing.assert_array_equal(take(A, mode="fill"), [1, 3, 1, np.nan, np.nan, np.nan])
    assert take(A.astype(np.int64)).tolist() == [1, 3, 1, I64_MIN, I64_MIN, I64_MIN]
    assert take(A.astype(np.uint8)).tolist() == [1, 3, 1, 255, 255, 255]
    assert take(A > 1).tolist() == [False, True, False, True, True, True]
    assert take(A, mode="clip").tolist() == [1, 1, 1, 1, 3, 3]
    assert take(A, mode="wrap").tolist() == [1, 3, 1, 3, 1, 3]
    assert take(A, fill_value=-7.0).tolist() == [1, 3, 1, -7, -7, -7]
    assert take(A.astype(np.int64), fill_value=2.5).tolist() == [1, 3, 1, 2, 2, 2]
    assert take(A.astype(np.float32)).dtype == np.float32
    # promised in bounds: what an index out of bounds gives is unspecified (JAX's gather
    # clamps under jit), but never an error (it raised NumPy's IndexError, eagerly and in
    # the compiled program); in-bounds indices, negative ones too, give their elements
    got = take(A, mode="promise_in_bounds").tolist()
    assert got[:3] == [1, 3, 1] and all(v in A for v in got)
    along = funcdiff.jit(lambda a, i: jnp.take_along_axis(a, i, axis=0, mode="promise_in_bounds"))
    got = along(A, IDX).tolist()
    assert got[:3] == [1, 3, 1] and all(v in A for v in got)
    assert funcdiff.grad(lambda a: jnp.take(a, IDX, mode="promise_in_bounds").sum())(A).sum() == 6


def test_take_fill_along_an_axis_and_from_an_empty_axis():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(jnp.take(x, np.array([[5, 0]]), axis=1),
                                  [[[np.nan, 0.0]], [[np.nan, 3.0]]])
    np.testing.assert_array_equal(jnp.take(np.zeros((2, 0)), np.array([0, 1]), axis=1),
                                  np.full((2, 2), np.nan))
    with pytest.raises(IndexError, match="empty axis"):
        jnp.take(np.zeros(0), np.array([0]), mode="clip")


def test_take_derivatives_skip_filled_entries():
    g = funcdiff.grad(lambda a, m: jnp.nansum(jnp.take(a, IDX, mode=m)))
    assert g(A, None).tolist() == [2.0, 0.0, 1.0]
    sum_take = lambda m: lambda a: jnp.take(a, IDX, mode=m).sum()  # noqa: E731
    assert funcdiff.grad(sum_take("clip"))(A).tolist() == [4.0, 0.0, 2.0]
    assert funcdiff.jit(funcdiff.grad(sum_take("wrap")))(A).tolist() == [3.0, 0.0, 3.0]
    batched = funcdiff.vmap(lambda i: jnp.take(A, i))(IDX.reshape(2, 3))
    np.testing.assert_array_equal(batched, [[1, 3, 1], [np.nan, np.nan, np.nan]])


def test_take_bad_arguments_are_named():
    with pytest.raises(ValueError, match="mode must be one of"):
        jnp.take(A, IDX, mode="raise")
    with pytest.raises(NotImplementedError, match="out argument"):
        jnp.take(A, IDX, out=np.zeros(6))
    with pytest.raises(TypeError, match="indices must be integers"):
        jnp.take(A, np.array([0.0]))


def test_take_along_axis_modes_follow_jax():
    x = np.arange(6.0).reshape(2, 3)
    idx = np.array([[0, -1, 3], [2, -4, 1]])
    np.testing.assert_array_equal(jnp.take_along_axis(x, idx, axis=1),
                                  [[0, 2, np.nan], [5, np.nan, 4]])
    assert jnp.take_along_axis(x, idx, axis=1, mode="clip").tolist() == [[0, 2, 2], [5, 3, 4]]
    assert jnp.take_along_axis(x, idx, axis=1, fill_value=9).tolist() == [[0, 2, 9], [5, 9, 4]]
    assert jnp.take_along_axis(x, np.array([0, -1, 5]), axis=None).tolist() == [0, 5, 5]
    f = funcdiff.jit(lambda x, i: jnp.take_along_axis(x, i, axis=1, mode="clip"))
    assert f(x, idx).tolist() == [[0, 2, 2], [5, 3, 4]]
    g = funcdiff.grad(lambda x: jnp.take_along_axis(x, idx, axis=1, fill_value=0.0).sum())(x)
    assert g.tolist() == [[1, 0, 1], [0, 1, 1]]
    with pytest.raises(ValueError, match="got 'wrap'"):
        jnp.take_along_axis(x, idx, axis=1, mode="wrap")


# ---- repeat with total_repeat_length --------------------------------------------------------


def test_repeat_to_a_static_length_follows_jax():
    assert jnp.repeat(A, 2, total_repeat_length=5).tolist() == [1, 1, 2, 2, 3]
    assert jnp.repeat(A, 2, total_repeat_length=8).tolist() == [1, 1, 2, 2, 3, 3, 3, 3]
    assert jnp.repeat(A, np.array([2, 0, 3]), total_repeat_length=4).tolist() == [1, 1, 3, 3]
    x = np.arange(6.0).reshape(2, 3)
    assert jnp.repeat(x, np.array([1, 2]), axis=0, total_repeat_length=4).tolist() == [
        [0, 1, 2], [3, 4, 5], [3, 4, 5], [3, 4, 5]]
    assert jnp.repeat(x, 2, axis=None, total_repeat_length=3).tolist() == [0, 0, 1]


def test_repeat_with_traced_repeats():
    f = funcdiff.jit(lambda a, r: jnp.repeat(a, r, total_repeat_length=6))
    assert f(A, np.array([1, 2, 0])).tolist() == [1, 2, 2, 3, 3, 3]
    assert f(A, np.array(2)).tolist() == [1, 1, 2, 2, 3, 3]
    batched = funcdiff.vmap(lambda r: jnp.repeat(A, r, total_repeat_length=4))(
        np.array([[1, 1, 2], [0, 4, 0]]))
    assert batched.tolist() == [[1, 2, 3, 3], [2, 2, 2, 2]]

    def weighted(a, r):
        return (jnp.repeat(a, r, total_repeat_length=7) * jnp.arange(7.0)).sum()

    assert funcdiff.grad(weighted)(A, np.array([2, 0, 3])).tolist() == [1, 0, 20]
    assert funcdiff.jit(funcdiff.grad(weighted))(A, np.array([2, 0, 3])).tolist() == [1, 0, 20]
    with pytest.raises(ConcretizationTypeError, match="total_repeat_length="):
        funcdiff.jit(lambda a, r: jnp.repeat(a, r))(A, np.array([1, 2, 0]))
    with pytest.raises(ValueError, match="total_repeat_length must be >= 0"):
        jnp.repeat(A, 2, total_repeat_length=-1)


# ---- softmax, log_softmax, logsumexp with where ---------------------------------------------

S = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
W = np.array([[True, False, True], [False, False, False]])
C = np.arange(6.0).reshape(2, 3)
P = 1 / (1 + np.e**2)  # softmax of (1, 3)


@pytest.mark.parametrize("transform", ["eager", "jit"])
def test_masked_softmax_values_follow_jax(transform):
    def run(f, *args):
        return f(*args) if transform == "eager" else funcdiff.jit(f)(*args)

    sm = run(lambda x, w: nn.softmax(x, where=w), S, W)
    np.testing.assert_allclose(sm, [[P, 0, 1 - P], [0, 0, 0]], rtol=1e-15)
    lsm = run(lambda x, w: nn.log_softmax(x, where=w), S, W)
    np.testing.assert_allclose(lsm, [[np.log(P), -np.inf, np.log(1 - P)], [-np.inf] * 3],
                               rtol=1e-15)
    lse = np.log(np.e + np.e**3)  # 3.12692801...
    for f in (nn.logsumexp, special.logsumexp):
        np.testing.assert_allclose(run(lambda x, w, f=f: f(x, axis=1, where=w), S, W),
                                   [lse, -np.inf], rtol=1e-15)
        np.testing.assert_allclose(run(lambda x, w, f=f: f(x, where=w), S, W), lse,
                                   rtol=1e-15)
        np.testing.assert_allclose(
            run(lambda x, w, f=f: f(x, axis=1, where=w, keepdims=True), S, W),
            [[lse], [-np.inf]], rtol=1e-15)
        out, sign = run(lambda x, w, f=f: f(x, axis=1, b=np.array([2.0, 1.0, 1.0]), where=w,
                                            return_sign=True), S, W)
        np.testing.assert_allclose(out, [np.log(2 * np.e + np.e**3), -np.inf], rtol=1e-15)
        assert sign.tolist() == [1.0, 0.0]


def test_masked_softmax_derivatives_follow_jax():
    g = funcdiff.grad(lambda x: (nn.softmax(x, where=W) * C).sum())
    want = [[-2 * P * (1 - P), 0, 2 * P * (1 - P)], [0, 0, 0]]  # JAX: +-0.20998717
    np.testing.assert_allclose(g(S), want, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(funcdiff.jit(g)(S), want, rtol=1e-12, atol=1e-15)
    g = funcdiff.grad(lambda x: (jnp.where(W, nn.log_softmax(x, where=W), 0) * C).sum())
    np.testing.assert_allclose(g(S), [[-2 * P, 0, 2 * P], [0, 0, 0]], rtol=1e-12,
                               atol=1e-15)  # JAX: +-0.23840584
    g = funcdiff.grad(lambda x: jnp.where(W.any(1), nn.logsumexp(x, axis=1, where=W), 0).sum())
    np.testing.assert_allclose(g(S), [[P, 0, 1 - P], [0, 0, 0]], rtol=1e-12)


def test_masked_softmax_under_vmap_keeps_dtype_and_checks_the_mask():
    out = funcdiff.vmap(lambda x, w: nn.log_softmax(x, where=w))(S, W)
    np.testing.assert_allclose(out, [[np.log(P), -np.inf, np.log(1 - P)], [-np.inf] * 3])
    assert nn.softmax(S.astype(np.float32), where=W).dtype == np.float32
    assert nn.logsumexp(S.astype(np.float32), where=W).dtype == np.float32
    # A mask of the trailing axis broadcasts.
    np.testing.assert_allclose(nn.softmax(S, where=W[0])[1], [1 / (1 + np.e**2), 0,
                                                              np.e**2 / (1 + np.e**2)])
    with pytest.raises(ValueError, match="does not broadcast"):
        nn.softmax(S, where=np.ones((3, 2), bool))


def test_array_methods_take_the_keywords():
    x = jnp.asarray(np.array([0.0, 2.0, 3.0]))
    assert _lists(x.nonzero()) == [[1, 2]]
    assert _lists(funcdiff.jit(lambda x: x.nonzero(size=3, fill_value=-1))(x)) == [[1, 2, -1]]
    np.testing.assert_array_equal(funcdiff.jit(lambda x: x.take(np.array([1, 5])))(x),
                                  [2.0, np.nan])
    assert x.take(np.array([5]), mode="wrap").tolist() == [3.0]
    assert x.repeat(2, total_repeat_length=3).tolist() == [0.0, 0.0, 2.0]
