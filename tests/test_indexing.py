"""Indexing of traced arrays (``x[idx]`` with ints, slices, `None`, `...`, integer arrays and
boolean masks) and the immutable updates ``x.at[idx].set/add/...``, against NumPy.

Indexing works on traced values, so every check runs `f` under `jvp` (the primal output must
equal NumPy's ``x[idx]``, the tangent ``t[idx]``) and under `make_jaxpr` (the staged program
must evaluate to the same), and checks derivatives with `check_grads`.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import broadcastable_shapes, seeds, shapes

import funcdiff
import funcdiff.numpy as jnp
from funcdiff._src import core
from funcdiff._src.core import Tracer
from funcdiff._src.numpy.indexing import _IndexUpdateHelper
from funcdiff.test_util import check_grads


def at(x):
    """``x.at``, also for the NumPy arrays that `check_grads` evaluates `f` at."""
    return x.at if isinstance(x, Tracer) else _IndexUpdateHelper(x)


def _value(f, *args):
    """`f` evaluated on traced arguments (the primal output of `jvp`)."""
    tangents = tuple(np.zeros_like(a) for a in args)
    return funcdiff.jvp(f, args, tangents)[0]


def _staged(f, *args):
    j = funcdiff.make_jaxpr(f)(*args)
    (out,) = core.eval_jaxpr(j.jaxpr, j.consts, *args)
    assert j.out_avals[0].shape == np.shape(out)
    return out


def check_index(x: np.ndarray, idx, grads: bool = True) -> None:
    expected = x[idx]
    f = lambda a: a[idx]
    t = np.random.default_rng(1).standard_normal(x.shape).astype(x.dtype)
    out, t_out = funcdiff.jvp(f, (x,), (t,))
    for got, want, what in [(out, expected, "value"), (t_out, t[idx], "tangent"),
                            (_staged(f, x), expected, "staged")]:
        got = np.asarray(got)
        assert got.shape == want.shape, (what, got.shape, want.shape, idx)
        assert got.dtype == want.dtype, (what, got.dtype, want.dtype)
        np.testing.assert_array_equal(got, want, err_msg=f"{what} of x[{idx!r}]")
    if grads:
        check_grads(f, (x,), order=2, modes=("fwd", "rev"))


def _x(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ---- named cases ----------------------------------------------------------------------------

X = _x((4, 5, 6))
NAMED = {
    "int": 2,
    "negative int": -1,
    "slice": slice(1, 3),
    "negative step": slice(None, None, -1),
    "negative step bounds": (slice(3, 0, -2), slice(-1, -6, -1)),
    "empty slice": slice(3, 1),
    "ellipsis newaxis": (Ellipsis, None),
    "newaxis first": None,
    "newaxes inside": (1, None, slice(None, None, 2), None),
    "ellipsis middle": (0, Ellipsis, -2),
    "int array": np.array([0, 2, 3]),
    "negative int array": np.array([-1, 0, -4]),
    "2-D int array": np.array([[0, 1], [3, 3]]),
    "list": [3, 1],
    "adjacent arrays": (slice(None), np.array([0, 4]), np.array([[5], [1]])),
    "non-adjacent arrays (to the front)": (np.array([0, 3]), slice(1, 4), np.array([5, 0])),
    "int and array, adjacent": (1, np.array([0, 2, 4])),
    "int and array, non-adjacent": (np.array([1, 2]), slice(None), 3),
    "array after ellipsis": (Ellipsis, np.array([[1, 0]])),
    "array, newaxis, array": (np.array([0, 1]), None, np.array([2, 3])),
    "repeated indices": np.array([1, 1, 1, 0]),
    "empty int array": np.array([], np.int64),
    "scalar True": True,
    "scalar False": False,
    "0-d int array": np.array(2),
}


@pytest.mark.parametrize("name", list(NAMED))
def test_named_indices(name):
    check_index(X, NAMED[name])


BOOL_NAMED = {
    "mask of all dims": X > 0.3,
    "mask of leading dims": X[:, :, 0] > 0,
    "mask of one dim": (slice(None), np.array([True, False, True, True, False])),
    "mask then array": (X[:, 0, 0] > 0, slice(None), np.array([1, 2])),
    "empty mask": np.zeros(4, bool),
    "scalar True with array": (True, np.array([0, 2])),
}


@pytest.mark.parametrize("name", list(BOOL_NAMED))
def test_concrete_boolean_masks(name):
    check_index(X, BOOL_NAMED[name])


def test_traced_boolean_mask_raises_concretization_error():
    x = _x((3, 4))
    with pytest.raises(funcdiff.ConcretizationTypeError):
        funcdiff.make_jaxpr(lambda a: a[a > 0])(x)
    with pytest.raises(funcdiff.ConcretizationTypeError):
        funcdiff.make_jaxpr(lambda a, m: a[m])(x, x > 0)
    with pytest.raises(funcdiff.ConcretizationTypeError):
        funcdiff.make_jaxpr(lambda a: a.at[a > 0].set(0.0))(x)


def test_mask_from_the_primal_under_grad():
    # Under grad the primal is concrete, so a data-dependent mask works (as in eager NumPy).
    x = _x((3, 4))
    g = funcdiff.grad(lambda a: jnp.sum(a[a > 0] ** 2))(x)
    np.testing.assert_allclose(g, np.where(x > 0, 2 * x, 0.0))


def test_out_of_bounds_raise_index_error():
    x = _x((3, 4))
    for idx in [3, (0, -5), np.array([0, 3]), (slice(None), np.array([[4]])), [-4]]:
        with pytest.raises(IndexError):
            x[idx]
        with pytest.raises(IndexError):
            _value(lambda a: a[idx], x)
        with pytest.raises(IndexError):
            _value(lambda a: a.at[idx].set(1.0), x)


def test_too_many_indices_and_two_ellipses():
    x = _x((3, 4))
    with pytest.raises(IndexError):
        _value(lambda a: a[0, 0, 0], x)
    with pytest.raises(IndexError):
        _value(lambda a: a[..., 0, ...], x)
    with pytest.raises(IndexError):
        _value(lambda a: a[np.array([0.5])], x)


def test_traced_integer_indices():
    x = _x((5, 3))
    for i in [np.array(3), np.array([4, -1, 0]), np.array([[1, 2], [0, 0]])]:
        f = lambda a, k: a[k]
        np.testing.assert_array_equal(_staged(f, x, i), x[i])
        f2 = lambda a, k: a[:, 1:][k % 5, np.array([1])]
        np.testing.assert_array_equal(_staged(f2, x, i), x[:, 1:][i % 5, np.array([1])])
        check_grads(lambda a: a[i], (x,), order=2)


def test_index_with_a_traced_scalar_under_jvp():
    x = _x((5,))
    f = lambda a, k: a[k] * 2.0
    np.testing.assert_array_equal(_staged(f, x, np.int64(3)), x[3] * 2.0)


# ---- random indices -------------------------------------------------------------------------


@st.composite
def _slice(draw, n):
    bound = st.one_of(st.none(), st.integers(-n - 2, n + 2))
    step = draw(st.sampled_from([None, 1, 2, 3, -1, -2, -3]))
    return slice(draw(bound), draw(bound), step)


@st.composite
def basic_indices(draw, shape):
    """ints (negative too), slices (negative steps), `None` and at most one `...`."""
    nd = len(shape)
    n_front = draw(st.integers(0, nd))
    n_back = draw(st.integers(0, nd - n_front))
    use_ellipsis = n_front + n_back < nd and draw(st.booleans()) or draw(st.booleans())
    if not use_ellipsis:
        n_back = 0

    def entry(n):
        if n and draw(st.booleans()):
            return draw(st.integers(-n, n - 1))
        return draw(_slice(n))

    front = [entry(shape[i]) for i in range(n_front)]
    back = [entry(shape[nd - n_back + i]) for i in range(n_back)]
    entries = front + ([Ellipsis] if use_ellipsis else []) + back
    for _ in range(draw(st.integers(0, 2))):
        entries.insert(draw(st.integers(0, len(entries))), None)
    if len(entries) == 1 and draw(st.booleans()):
        return entries[0]
    return tuple(entries)


@st.composite
def advanced_indices(draw, shape):
    """Some positions get integer arrays (broadcasting together), the others ints, slices or
    `None`: adjacent and separated advanced indices."""
    nd = len(shape)
    k = draw(st.integers(1, nd))
    n_arrays = draw(st.integers(1, k))
    where = draw(st.lists(st.integers(0, k - 1), min_size=n_arrays, max_size=n_arrays,
                          unique=True))
    idx_shapes = draw(broadcastable_shapes(n_arrays, max_dims=2))
    rng = np.random.default_rng(draw(seeds))
    entries, arrays = [], iter(idx_shapes)
    for d in range(k):
        n = shape[d]
        if d in where and n:
            arr = rng.integers(-n, n, size=next(arrays))
            entries.append(arr.tolist() if arr.ndim == 1 and draw(st.booleans()) else arr)
        elif n and draw(st.booleans()):
            entries.append(draw(st.integers(-n, n - 1)))
        else:
            entries.append(draw(_slice(n)))
    if draw(st.booleans()):
        entries.insert(draw(st.integers(0, len(entries))), None)
    return tuple(entries)


@given(data=st.data())
def test_random_basic_indices(data):
    x = _x(data.draw(shapes(1, 4, allow_empty=True)), seed=data.draw(seeds))
    check_index(x, data.draw(basic_indices(x.shape)))


@given(data=st.data())
def test_random_advanced_indices(data):
    x = _x(data.draw(shapes(1, 4)), seed=data.draw(seeds))
    check_index(x, data.draw(advanced_indices(x.shape)))


@given(data=st.data())
def test_random_masks(data):
    shape = data.draw(shapes(1, 3))
    x = _x(shape, seed=data.draw(seeds))
    k = data.draw(st.integers(1, len(shape)))
    start = data.draw(st.integers(0, len(shape) - k))
    mask = np.random.default_rng(data.draw(seeds)).random(shape[start:start + k]) > 0.5
    idx = (slice(None),) * start + (mask,)
    if start + k < len(shape) and data.draw(st.booleans()):
        idx = idx + (data.draw(st.integers(-shape[start + k], shape[start + k] - 1)),)
    check_index(x, idx)


@given(data=st.data())
def test_float32_and_int_dtypes_are_kept(data):
    shape = data.draw(shapes(1, 3))
    dtype = data.draw(st.sampled_from([np.float32, np.int32, np.bool_]))
    x = (np.random.default_rng(data.draw(seeds)).standard_normal(shape) * 3).astype(dtype)
    idx = data.draw(st.one_of(basic_indices(shape), advanced_indices(shape)))
    expected = x[idx]
    got = _staged(lambda a: a[idx], x)
    assert np.asarray(got).dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


# ---- x.at[idx] ------------------------------------------------------------------------------

_UFUNC_AT = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
    "min": np.minimum, "max": np.maximum,
}


def _reference_update(x, idx, op, v):
    y = x.copy()
    if op == "set":
        y[idx] = v
    elif op == "power":
        y[idx] = y[idx] ** v
    else:
        _UFUNC_AT[op].at(y, idx, np.broadcast_to(v, x[idx].shape))
    return y


def _update(op, idx):
    return lambda a, v: getattr(at(a)[idx], op)(v)


@st.composite
def update_cases(draw, op):
    shape = draw(shapes(1, 3))
    rng = np.random.default_rng(draw(seeds))
    x = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    repeated_ok = op in ("add", "subtract", "multiply", "divide", "min", "max", "set")
    kind = draw(st.sampled_from(["basic", "advanced", "repeated", "mask"]
                                if repeated_ok else ["basic", "advanced", "mask"]))
    if kind == "basic":
        idx = draw(basic_indices(shape))
    elif kind == "advanced":
        idx = draw(advanced_indices(shape))
        if not repeated_ok:
            # Distinct places only: ufunc.at and a single write differ on repeats.
            flat = np.arange(x.size).reshape(shape)[idx]
            if len(np.unique(flat)) != np.size(flat):
                idx = np.unique(np.arange(shape[0]) % shape[0])
    elif kind == "repeated":
        idx = (rng.integers(-shape[0], shape[0], size=draw(st.integers(2, 6))),)
    else:
        idx = rng.random(shape) > 0.5
    target = x[idx].shape
    drop = draw(st.integers(0, len(target)))
    v_shape = tuple(1 if draw(st.booleans()) else n for n in target[drop:])
    if op == "power":
        x = np.abs(x)
    v = rng.uniform(0.5, 2.0, v_shape) * (1.0 if op == "power" else rng.choice([-1.0, 1.0]))
    if op in ("min", "max"):
        # Keep x and the updates apart (and the updates distinct), so that finite differences
        # never cross a tie.
        grid = np.arange(-40, 40) / 4.0
        x = rng.choice(grid, size=shape)
        v = rng.permutation(grid)[: int(np.prod(v_shape))].reshape(v_shape) + 0.125
    return x, idx, np.asarray(v)


_OPS = ["set", "add", "subtract", "multiply", "divide", "min", "max", "power"]


@pytest.mark.parametrize("op", _OPS)
@given(data=st.data())
def test_at_updates(op, data):
    x, idx, v = data.draw(update_cases(op))
    x_before = x.copy()
    expected = _reference_update(x, idx, op, v)
    f = _update(op, idx)
    got = _value(f, x, v)
    np.testing.assert_allclose(got, expected, rtol=1e-13, err_msg=f"x.at[{idx!r}].{op}")
    np.testing.assert_allclose(_staged(f, x, v), expected, rtol=1e-13)
    np.testing.assert_array_equal(x, x_before)  # x itself is never modified
    check_grads(f, (x, v), order=2, modes=("fwd", "rev"))


def test_repeated_indices_accumulate():
    x = np.array([1.0, 5.0, 3.0, -2.0])
    idx = np.array([0, 0, 2, 0, -1])
    v = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    f = lambda a, u: at(a)[idx].add(u)
    np.testing.assert_array_equal(_value(f, x, v), [8.0, 5.0, 6.0, 3.0])
    np.testing.assert_array_equal(_staged(f, x, v), [8.0, 5.0, 6.0, 3.0])
    # d/du: every update lands; d/dx: identity.
    g = funcdiff.grad(lambda u: jnp.sum(f(x, u) * np.array([1.0, 10.0, 100.0, 1000.0])))(v)
    np.testing.assert_array_equal(g, [1.0, 1.0, 100.0, 1.0, 1000.0])
    # min/max over repeated places take all the updates into account (also when staged).
    f_max = lambda a, u: at(a)[idx].max(u)
    for fn in (_value, _staged):
        np.testing.assert_array_equal(fn(f_max, x, v), [4.0, 5.0, 3.0, 5.0])
        np.testing.assert_array_equal(fn(lambda a, u: at(a)[idx].min(u), x, -v),
                                      [-4.0, 5.0, -3.0, -5.0])
    # multiply accumulates like numpy.multiply.at
    np.testing.assert_array_equal(_value(lambda a, u: at(a)[idx].multiply(u), x, v),
                                  [1.0 * 1 * 2 * 4, 5.0, 9.0, -10.0])


def test_multiply_derivatives_at_zero_and_repeated_updates():
    # Each update's derivative is x at its place times the place's other updates: no division,
    # so zero updates (alone or sharing a place) give exact derivatives, not NaN.
    x = np.array([1.0, 5.0, 3.0, -2.0])
    idx = np.array([1, 1, 1, 0, 1, 3])
    f = lambda a, u: at(a)[idx].multiply(u)
    for v in ([0.0, 2.0, 0.0, 4.0, 1.5, -1.0], [3.0, 0.0, 2.0, 0.0, 1.5, 0.0],
              [3.0, 2.0, -1.0, 4.0, 1.5, 2.0]):
        v = np.array(v)
        expected = np.zeros((4, 6))  # d f(x, v)_p / d v_k
        for k, p in enumerate(idx):
            expected[p, k] = x[p] * np.prod(np.delete(v, k)[np.delete(idx, k) == p])
        np.testing.assert_array_equal(funcdiff.jacrev(f, argnums=1)(x, v), expected)
        np.testing.assert_array_equal(funcdiff.jacfwd(f, argnums=1)(x, v), expected)
        check_grads(f, (x, v), order=3)
        # Indices known only at run time (a jit argument) take another rule: exact to first
        # order, zeros included.
        g = funcdiff.jit(funcdiff.jacrev(lambda a, u, i: at(a)[i].multiply(u), argnums=1))
        np.testing.assert_allclose(g(x, v, idx), expected, rtol=1e-15)
    # With run-time indices, second order is exact where no zero shares its place.
    h = lambda a, u, i: at(a)[i].multiply(u)
    v = np.array([0.0, 2.0, 3.0, 4.0])
    for i in (np.array([1, 2, 3, 0]), np.array([0, 2, 2, 2])):
        hess = funcdiff.jit(funcdiff.hessian(lambda u, i: jnp.sum(h(x, u, i) ** 2)))(v, i)
        expected = funcdiff.hessian(lambda u: jnp.sum(h(x, u, i) ** 2))(v)
        np.testing.assert_allclose(hess, expected, rtol=1e-13)


def test_new_arrays_inside_transformations_have_at():
    # JAX's idiom: build an array with jnp.zeros/ones/full, then update it with .at.
    makers = (lambda: jnp.zeros(4), lambda: jnp.ones(4), lambda: jnp.full(4, 2.0),
              lambda: jnp.empty(4), lambda: jnp.zeros_like(np.ones(4)),
              lambda: jnp.ones_like(np.ones(4)), lambda: jnp.full_like(np.ones(4), 3.0))
    for make in makers:
        base = make()
        assert isinstance(base, np.ndarray)  # outside transformations: a NumPy array

        def f(v, i, make=make):
            return jnp.sum(make().at[i].set(v) ** 2)

        want = np.sum(np.where(np.arange(4) == 2, 3.0, base) ** 2)
        assert float(funcdiff.jit(f)(3.0, 2)) == want
        assert float(funcdiff.grad(f)(3.0, 2)) == 6.0
        assert float(funcdiff.jit(funcdiff.grad(f))(3.0, 2)) == 6.0
        np.testing.assert_array_equal(funcdiff.vmap(funcdiff.grad(f))(np.array([1.0, 2.0]),
                                                                     np.array([0, 3])), [2.0, 4.0])


def test_set_with_repeated_indices_last_write_wins():
    x = np.zeros(3)
    idx = np.array([1, 1, 2])
    v = np.array([1.0, 2.0, 3.0])
    f = lambda a, u: at(a)[idx].set(u)
    np.testing.assert_array_equal(_value(f, x, v), [0.0, 2.0, 3.0])
    g = funcdiff.grad(lambda u: jnp.sum(f(x, u)))(v)
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0])
    check_grads(f, (x, v), order=2)


def test_at_get_and_apply():
    x = _x((4, 3))
    for idx in [1, (slice(None), np.array([2, 0])), x > 0, (Ellipsis, -1)]:
        f = lambda a: at(a)[idx].get()
        np.testing.assert_array_equal(_value(f, x), x[idx])
        np.testing.assert_array_equal(_staged(f, x), x[idx])
        check_grads(f, (x,), order=2)
        g = lambda a: at(a)[idx].apply(jnp.sin)
        expected = x.copy()
        expected[idx] = np.sin(x[idx])
        np.testing.assert_allclose(_value(g, x), expected, rtol=1e-15)
        np.testing.assert_allclose(_staged(g, x), expected, rtol=1e-15)
        check_grads(g, (x,), order=2)


def test_at_keeps_dtype_and_casts_values():
    x32 = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = _value(lambda a: at(a)[0, 1].set(2.5), x32)
    assert out.dtype == np.float32 and out[0, 1] == 2.5
    xi = np.arange(6, dtype=np.int32)
    out = _staged(lambda a: at(a)[np.array([1, 1])].add(2), xi)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [0, 5, 2, 3, 4, 5])


def test_at_updates_that_do_not_broadcast_raise():
    x = _x((3, 4))
    with pytest.raises(ValueError):
        _value(lambda a: at(a)[0].set(np.ones(3)), x)
