"""`funcdiff.Array`: what funcdiff returns is a NumPy array with JAX's semantics (issue #15).

Immutable (item assignment raises, in-place operators rebind, NumPy views are read-only),
`.at[...]` in eager code as under transformations, JAX's device API for the one CPU, and
NumPy/SciPy interoperability without copies.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import grad, jit, vmap


def _results():
    x = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    f = lambda x: jnp.sum(jnp.tanh(x) ** 2)  # noqa: E731
    return {
        "eager": jnp.sin(x),
        "eager scalar": jnp.sum(jnp.sin(x)),
        "operator": jnp.sin(x) + 1.0,
        "method": jnp.sin(x).sum(axis=0),
        "grad": grad(f)(x),
        "value": funcdiff.value_and_grad(f)(x)[0],
        "jit": jit(lambda x: x * 2.0)(x),
        "jit scalar": jit(f)(x),
        "vmap": vmap(jnp.tanh)(x),
        "jvp": funcdiff.jvp(jnp.sin, (x,), (x,))[1],
        "jacrev": funcdiff.jacrev(lambda x: jnp.tanh(x).sum(0))(x),
    }


@pytest.mark.parametrize("name", list(_results()))
def test_every_result_is_an_immutable_array(name):
    y = _results()[name]
    assert type(y) is funcdiff.Array and isinstance(y, np.ndarray)
    assert isinstance(y, jnp.ndarray) and not isinstance(np.ones(1), jnp.ndarray)
    with pytest.raises(TypeError, match=r"immutable.*\.at\[idx\]\.set"):
        y[...] = 0.0
    view = np.asarray(y)
    assert type(view) is np.ndarray and not view.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        view[...] = 0.0


def test_in_place_operators_rebind_to_a_new_array():
    x = jnp.zeros(3)
    alias = x
    x += 1.0
    x *= 3.0
    x **= 2.0
    assert type(x) is funcdiff.Array and x.tolist() == [9.0, 9.0, 9.0]
    assert alias.tolist() == [0.0, 0.0, 0.0]  # the old array never changed
    g = grad(lambda p: jnp.sum(p))(np.ones(2))
    g *= 0.1  # the optimizer idiom of JAX code
    np.testing.assert_allclose(g, 0.1)


def test_at_updates_in_eager_code_match_jit():
    x = jnp.arange(5.0)
    idx = np.array([0, 2, 2])
    for method, args in [("set", (7.0,)), ("add", (1.0,)), ("multiply", (2.0,)),
                         ("divide", (4.0,)), ("power", (2.0,)), ("min", (1.5,)),
                         ("max", (3.5,)), ("apply", (jnp.sin,))]:
        eager = getattr(x.at[idx], method)(*args)
        staged = jit(lambda x: getattr(x.at[idx], method)(*args))(x)
        assert type(eager) is funcdiff.Array
        np.testing.assert_array_equal(eager, staged, err_msg=method)
    np.testing.assert_array_equal(x, [0.0, 1.0, 2.0, 3.0, 4.0])  # unchanged
    np.testing.assert_array_equal(x.at[1:3].get(), [1.0, 2.0])
    assert jnp.zeros(3).at[0].set(1.0).tolist() == [1.0, 0.0, 0.0]


def test_at_modes_for_out_of_bounds_indices():
    x = jnp.arange(5.0)
    idx = np.array([1, 9, -2, -7])
    for run in (lambda f, *a: f(*a), lambda f, *a: jit(f)(*a)):
        got = run(lambda x, i: x.at[i].get(mode="fill", fill_value=-1.0), x, idx)
        np.testing.assert_array_equal(got, [1.0, -1.0, 3.0, -1.0])
        got = run(lambda x, i: x.at[i].get(mode="fill"), x, idx)
        np.testing.assert_array_equal(got, [1.0, np.nan, 3.0, np.nan])
        got = run(lambda x, i: x.at[i].get(mode="clip"), x, idx)
        np.testing.assert_array_equal(got, [1.0, 4.0, 3.0, 0.0])
        got = run(lambda x, i: x.at[i].add(10.0, mode="drop"), x, np.array([1, 9, 1]))
        np.testing.assert_array_equal(got, [0.0, 21.0, 2.0, 3.0, 4.0])
        got = run(lambda x, i: x.at[i].set(10.0, mode="clip", indices_are_sorted=True,
                                           unique_indices=True), x, np.array([1, 9]))
        np.testing.assert_array_equal(got, [0.0, 10.0, 2.0, 3.0, 10.0])
    ints = jnp.arange(3)
    assert ints.at[np.array([5])].get(mode="fill").tolist() == [np.iinfo(np.int64).min]
    m = jnp.ones((2, 3))
    np.testing.assert_array_equal(m.at[np.array([0, 5]), 1:].multiply(3.0, mode="drop"),
                                  [[1.0, 3.0, 3.0], [1.0, 1.0, 1.0]])
    with pytest.raises(IndexError, match="out of bounds"):
        x.at[np.array([9])].get()
    with pytest.raises(ValueError, match="mode must be one of"):
        x.at[0].get(mode="wrap")
    # Dropped updates have no derivative; the others do.
    g = grad(lambda v: jnp.sum(x.at[np.array([1, 9])].set(v, mode="drop") ** 2))(3.0)
    assert g == 6.0


def test_operators_and_methods_give_arrays():
    x = jnp.arange(6.0).reshape(2, 3)
    for y in (x + 1, 2 * x, x @ x.T, -x, abs(x), x > 2, x.sum(), x.mean(0), x.reshape(3, 2),
              x.T, x.astype(np.float32), x[0], x[:, 1:]):
        assert isinstance(y, funcdiff.Array), type(y)
    assert (x.astype(np.float32) * 2).dtype == np.float32
    assert x.item(1) == 1.0 and x.tolist()[1] == [3.0, 4.0, 5.0]


def test_numpy_and_scipy_take_arrays_without_copies():
    x = jnp.exp(np.arange(4.0))
    assert np.shares_memory(np.asarray(x), x)
    out = np.sin(x)  # NumPy's own functions give NumPy arrays
    assert type(out) is np.ndarray
    np.testing.assert_allclose(out, np.sin(np.exp(np.arange(4.0))))
    assert type(np.concatenate([x, x])) is np.ndarray
    with pytest.raises(TypeError, match="immutable"):
        np.add(x, 1.0, out=x)
    scipy_linalg = pytest.importorskip("scipy.linalg")
    a = jnp.eye(3) * 2.0
    np.testing.assert_allclose(scipy_linalg.inv(a), np.eye(3) / 2.0)


def test_numpy_inputs_are_never_modified_and_still_accepted():
    x = np.arange(3.0)
    y = jnp.sin(x)
    assert type(x) is np.ndarray and x.flags.writeable
    x[0] = 5.0  # the user's array is theirs; the result does not see the change
    assert y[0] == 0.0


def test_device_api_of_one_cpu():
    x = jnp.ones(2)
    assert x.block_until_ready() is x
    assert funcdiff.block_until_ready({"a": x}) == {"a": x}
    assert x.device == funcdiff.devices()[0] and x.devices() == {x.device}
    assert x.device.platform == "cpu" and repr(x.device) == "CpuDevice(id=0)"
    assert x.sharding.device_set == {x.device} and x.is_fully_addressable
    assert x.addressable_data(0) is x and len(x.addressable_shards) == 1
    assert x.copy_to_host_async() is None
    assert funcdiff.local_devices() == funcdiff.devices() and funcdiff.device_count() == 1
    assert funcdiff.default_backend() == "cpu"
    with pytest.raises(RuntimeError, match="CPU only"):
        funcdiff.devices("gpu")
    a = np.arange(3.0)
    put = funcdiff.device_put(a)
    a[0] = 9.0
    assert type(put) is funcdiff.Array and put[0] == 0.0  # a private copy
    got = funcdiff.device_get({"w": put})
    assert type(got["w"]) is np.ndarray and got["w"].flags.writeable


def test_repr_pickle_and_copy():
    x = jnp.ones(2) * 1.5
    assert repr(x) == "Array([1.5, 1.5])"
    assert str(x) == "[1.5 1.5]"
    for y in (pickle.loads(pickle.dumps(x)), copy.deepcopy(x), copy.copy(x)):
        np.testing.assert_array_equal(y, x)


def test_arrays_pass_through_jit_and_transformations():
    x = jnp.linspace(0.0, 1.0, 4)
    f = jit(lambda x: jnp.sin(x) * x)
    np.testing.assert_allclose(f(x), np.sin(np.asarray(x)) * np.asarray(x))
    np.testing.assert_allclose(f(x), f(np.asarray(x)))
    assert f._cache_size() == 1  # an Array and a NumPy array share a signature
    for _ in range(3):  # the fast path of later calls hands the program plain NumPy views
        out = f(x)
        assert type(out) is funcdiff.Array
        np.testing.assert_array_equal(out, f(np.asarray(x)))
    np.testing.assert_allclose(grad(lambda x: jnp.sum(f(x)))(x),
                               np.sin(np.asarray(x)) + np.asarray(x) * np.cos(np.asarray(x)))


def test_scalar_results_of_every_numeric_type_are_read_only_arrays():
    # A 0-d result is built on the NumPy scalar's own (immutable) memory: it must still be a
    # read-only Array of the right dtype and value, and Python scalars stay Python scalars.
    cases = [(jnp.sin, np.float32(0.5)), (jnp.sin, np.float64(0.5)), (jnp.negative, np.int8(3)),
             (jnp.negative, np.uint16(3)), (jnp.sqrt, np.complex64(1 + 2j)),
             (jnp.logical_not, np.bool_(True)), (jnp.sin, np.longdouble(0.5))]
    for fn, x in cases:
        y = fn(x)
        want = np.asarray(fn(np.asarray(x)))
        assert type(y) is funcdiff.Array and y.shape == () and y.dtype == want.dtype, (fn, x)
        assert y == want and not y.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            np.asarray(y)[...] = 0
    assert type(jnp.sin(0.5)) is float and jnp.sin(0.5) == np.sin(0.5)
    assert type(jnp.add(1, 2)) is int and type(jnp.multiply(1j, 2.0)) is complex


def test_results_of_numpy_scalars_share_no_memory():
    # A NumPy scalar passed straight through to several results (a cotangent reaching two
    # arguments, an input returned twice) must not back all of them: results share memory
    # with no input and with no other result.
    one, two = np.float64(1.0), np.float64(2.0)
    _, pull = funcdiff.vjp(lambda x, y: x + y, one, two)
    a, b = pull(one)
    (p, q), (t, u) = funcdiff.jvp(lambda x: (x, x), (two,), (one,))
    results = [a, b, p, q, t, u, *jit(lambda x: (x, x))(two)]
    assert all(type(r) is funcdiff.Array for r in results)
    for i, r in enumerate(results):
        assert not any(np.shares_memory(r, s) for s in results[i + 1:]), i


@pytest.mark.parametrize("make", [jnp.asarray, jnp.array])
@pytest.mark.parametrize("value", [1.5, 2, 1j, True])
def test_array_of_python_scalar_is_a_0d_array_weak_as_in_jax(make, value):
    """jnp.asarray/jnp.array of a Python scalar is a 0-d Array (with .dtype, .astype), weakly
    typed except for a bool, eagerly and under jit, so float32 operands keep their dtype."""
    weak = type(value) is not bool
    a = make(value)
    assert isinstance(a, funcdiff.Array) and a.shape == () and a.weak_type is weak
    assert a.astype(np.float32).dtype == np.float32
    x32 = np.ones(2, np.float32)
    expected = np.result_type(np.float32, value) if weak else np.result_type(np.float32, a.dtype)
    assert (a * x32).dtype == expected
    assert funcdiff.jit(lambda x: make(value) * x)(x32).dtype == expected
    assert funcdiff.jit(lambda: make(value))().weak_type is weak


def test_array_of_python_int_out_of_int64_range_overflows_as_in_jax():
    with pytest.raises(OverflowError, match="too large to convert to int64"):
        jnp.asarray(2**70)
