"""The `jax.lax` functions funcdiff composes from its primitives (`_src/lax/composed.py` and
`_src/lax/bitwise.py`) and `reduce_precision`: values against NumPy or against sums computed
here by hand, and `jit`, `vmap` and derivatives agreeing with eager evaluation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import lax
from funcdiff.test_util import check_grads

RNG = np.random.default_rng(0)


def _agree(f, *args):
    """`jit(f)` and `vmap(f)` (over a batch of 3 copies of the arguments, shifted) agree with
    eager `f`; returns the eager result."""
    out = f(*args)
    jitted = funcdiff.jit(f)(*args)
    for a, b in zip(funcdiff.tree_util.tree_leaves(out), funcdiff.tree_util.tree_leaves(jitted)):
        np.testing.assert_array_equal(a, b)
        assert np.asarray(a).dtype == np.asarray(b).dtype
    batch = [np.stack([np.asarray(a) + k for k in range(3)]) for a in args]
    batched = funcdiff.vmap(f)(*batch)
    for k in range(3):
        one = f(*[b[k] for b in batch])
        for a, b in zip(
            funcdiff.tree_util.tree_leaves(one), funcdiff.tree_util.tree_leaves(batched)
        ):
            np.testing.assert_array_equal(np.asarray(b)[k], a)
    return out


# ---- constants of a shape -------------------------------------------------------------------


def test_iota_and_broadcasted_iota():
    x = lax.iota(np.float32, 4)
    assert x.dtype == np.float32 and x.tolist() == [0, 1, 2, 3]
    b = lax.broadcasted_iota(np.int32, (2, 3), 1)
    np.testing.assert_array_equal(b, [[0, 1, 2], [0, 1, 2]])
    assert b.dtype == np.int32
    np.testing.assert_array_equal(lax.broadcasted_iota(int, (2, 3), -2), [[0, 0, 0], [1, 1, 1]])
    assert funcdiff.jit(lambda: lax.broadcasted_iota(np.int32, (2, 3), 0))().tolist() == [
        [0, 0, 0],
        [1, 1, 1],
    ]
    with pytest.raises(ValueError, match="dimension 2 is out of bounds"):
        lax.broadcasted_iota(np.int32, (2, 3), 2)


def test_full_keeps_dtypes_and_differentiates_the_fill_value():
    f32 = lax.full((2, 3), 1.5, np.float32)
    assert f32.dtype == np.float32 and f32.shape == (2, 3) and np.all(f32 == 1.5)
    # a Python scalar fill stays weakly typed: it takes float32 in a sum
    y32 = np.ones(2, np.float32)
    assert funcdiff.jit(lambda y: lax.full((2,), 3.0) + y)(y32).dtype == np.float32
    assert lax.full((2,), 3).dtype == np.int64
    assert funcdiff.grad(lambda v: jnp.sum(lax.full((4,), v)))(2.0) == 4.0
    assert _agree(lambda v: lax.full((2,), v * 2), np.float64(1.0)).tolist() == [2.0, 2.0]
    with pytest.raises(TypeError, match="fill_value must be a scalar"):
        lax.full((2,), np.ones(2))
    with pytest.raises(TypeError, match="must be static"):
        funcdiff.jit(lambda n: lax.full(n, 1.0))(3)


def test_full_like_and_empty():
    x = np.zeros((2, 3), np.float32)
    out = lax.full_like(x, 7)
    assert out.dtype == np.float32 and out.shape == (2, 3) and np.all(out == 7)
    assert lax.full_like(x, 2, shape=(1, 4)).shape == (1, 4)
    assert lax.full_like(x, 2, dtype=np.int8).dtype == np.int8
    e = lax.empty((3, 2), np.float32)
    assert e.shape == (3, 2) and e.dtype == np.float32 and not np.any(e)
    g = funcdiff.grad(lambda v: jnp.sum(lax.full_like(np.ones(3), v) * np.arange(3.0)))(1.0)
    assert g == 3.0


# ---- shapes ---------------------------------------------------------------------------------


def test_broadcast_family():
    x = RNG.standard_normal(3)
    np.testing.assert_array_equal(
        _agree(lambda x: lax.broadcast(x, (4, 2)), x), np.broadcast_to(x, (4, 2, 3))
    )
    assert lax.broadcast_to_rank(x, 3).shape == (1, 1, 3)
    assert lax.broadcast_to_rank(np.ones((2, 2)), 1).shape == (2, 2)
    assert lax.broadcast_shapes((2, 1), (1, 4)) == (2, 4)
    assert lax.broadcast_shapes((2, 3), (3,)) == (2, 3)
    assert lax.broadcast_shapes() == ()
    with pytest.raises(ValueError, match="incompatible"):
        lax.broadcast_shapes((2,), (3,))
    check_grads(lambda x: lax.broadcast(x, (2,)) ** 2, (x,), order=2)


def test_collapse():
    x = RNG.standard_normal((2, 3, 4))
    np.testing.assert_array_equal(_agree(lambda x: lax.collapse(x, 1), x), x.reshape(2, 12))
    np.testing.assert_array_equal(lax.collapse(x, 0, 2), x.reshape(6, 4))
    np.testing.assert_array_equal(lax.collapse(x, -2, -1), x)
    with pytest.raises(ValueError, match="after stop_dimension"):
        lax.collapse(x, 2, 1)
    check_grads(lambda x: lax.collapse(x, 0, 2) ** 2, (x,), order=2)


def test_stack_unstack_split_tile_against_numpy():
    a, b = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))
    for axis in (0, 1, 2, -1):
        np.testing.assert_array_equal(
            _agree(lambda a, b: lax.stack([a, b], axis), a, b), np.stack([a, b], axis)
        )
    parts = _agree(lambda a: lax.unstack(a, 1), a)
    assert len(parts) == 3 and all(np.array_equal(p, a[:, i]) for i, p in enumerate(parts))
    pieces = _agree(lambda a: lax.split(a, (1, 0, 2), axis=1), a)
    assert [p.shape for p in pieces] == [(2, 1), (2, 0), (2, 2)]
    np.testing.assert_array_equal(pieces[2], a[:, 1:])
    np.testing.assert_array_equal(_agree(lambda a: lax.tile(a, (2, 3)), a), np.tile(a, (2, 3)))
    with pytest.raises(ValueError, match="add up to 2"):
        lax.split(a, (1, 1), axis=1)
    with pytest.raises(ValueError, match="one entry per axis"):
        lax.tile(a, (2,))
    with pytest.raises(ValueError, match="at least one"):
        lax.stack([])
    check_grads(lambda a, b: lax.stack([a, b * a], 1), (a, b), order=2)
    check_grads(lambda a: lax.tile(a, (2, 1)) ** 2, (a,), order=2)
    check_grads(lambda a: lax.split(a, (2, 1), 1)[1] ** 3, (a,), order=2)
    check_grads(lambda a: lax.unstack(a)[1] * a[0], (a,), order=2)


# ---- arithmetic -----------------------------------------------------------------------------


def test_dot():
    m, v = RNG.standard_normal((2, 3)), RNG.standard_normal(3)
    np.testing.assert_allclose(_agree(lax.dot, m, v), m @ v)
    np.testing.assert_allclose(lax.dot(v, v), v @ v)
    np.testing.assert_allclose(lax.dot(m, m.T, precision=lax.Precision.HIGHEST), m @ m.T)
    out = lax.dot(m.astype(np.float32), v.astype(np.float32), preferred_element_type=np.float64)
    assert out.dtype == np.float64
    x, y = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 4, 5))
    dn = (((2,), (1,)), ((0,), (0,)))
    np.testing.assert_allclose(lax.dot(x, y, dimension_numbers=dn), x @ y)
    with pytest.raises(TypeError, match="dimension_numbers"):
        lax.dot(x, y)
    assert lax.dot(m.astype(np.float32), v).dtype == np.float64  # promotes, as JAX's dot
    check_grads(lax.dot, (m, v), order=2)


def test_reciprocal_and_exp2():
    x = np.array([0.5, 2.0, -4.0])
    np.testing.assert_allclose(_agree(lax.reciprocal, x), 1 / x)
    e = _agree(lax.exp2, np.array([-1.0, 0.0, 10.0, 0.5]))
    assert e[:3].tolist() == [0.5, 1.0, 1024.0]  # exact at integers
    np.testing.assert_allclose(e[3], np.sqrt(2.0))
    assert lax.exp2(np.float32(3.0)).dtype == np.float32
    assert funcdiff.grad(lax.exp2)(1.0) == pytest.approx(2 * np.log(2.0))
    assert funcdiff.grad(lax.reciprocal)(2.0) == pytest.approx(-0.25)
    check_grads(lax.exp2, (x,), order=2)
    check_grads(lax.reciprocal, (x,), order=2)
    for f in (lax.exp2, lax.reciprocal):
        with pytest.raises(TypeError, match="floating-point"):
            f(np.arange(3))
        with pytest.raises(TypeError, match="floating-point"):
            funcdiff.jit(f)(np.arange(3))


def test_identities_are_differentiable_identities():
    x = RNG.standard_normal(3)
    tree = {"a": x, "b": (2.0, x * 2)}
    out = lax.optimization_barrier(tree)
    assert set(out) == {"a", "b"} and np.array_equal(out["b"][1], x * 2)
    assert isinstance(out["b"][0], funcdiff.Array)
    f = lambda x: jnp.sum(lax.optimization_barrier((x, x * x))[1])
    np.testing.assert_allclose(funcdiff.grad(f)(x), 2 * x)
    np.testing.assert_allclose(funcdiff.jit(funcdiff.grad(f))(x), 2 * x)
    np.testing.assert_allclose(funcdiff.vmap(funcdiff.grad(f))(np.stack([x, x])), [2 * x] * 2)
    g = lambda x: jnp.sum(lax.with_sharding_constraint(x * x, "any sharding") * x)
    np.testing.assert_allclose(funcdiff.jit(funcdiff.grad(g))(x), 3 * x * x)


# ---- sorting and indexing -------------------------------------------------------------------


def test_sort_key_val():
    keys, vals = np.array([[3, 1, 2], [0, 5, 4]]), RNG.standard_normal((2, 3))
    k, v = _agree(lax.sort_key_val, keys, vals)
    order = np.argsort(keys, axis=-1, kind="stable")
    np.testing.assert_array_equal(k, np.take_along_axis(keys, order, -1))
    np.testing.assert_array_equal(v, np.take_along_axis(vals, order, -1))
    k0, _ = lax.sort_key_val(keys, vals, dimension=0)
    np.testing.assert_array_equal(k0, np.sort(keys, axis=0))
    check_grads(lambda v: lax.sort_key_val(keys, v)[1] ** 2, (vals,), order=2)
    with pytest.raises(TypeError, match="differ in shape"):
        lax.sort_key_val(keys, vals[0])


def test_index_take_wraps_indices_as_jax():
    src = RNG.standard_normal((2, 3, 4))
    i0, i2 = np.array([0, 1, -1]), np.array([2, -1, 5])
    out = _agree(lambda s: lax.index_take(s, (i0, i2), (0, 2)), src)
    np.testing.assert_array_equal(out, src[i0 % 2, :, i2 % 4])
    assert out.shape == (3, 3)
    # axes given out of order: the index arrays follow them
    np.testing.assert_array_equal(lax.index_take(src, (i2, i0), (2, 0)), src[i0 % 2, :, i2 % 4])
    check_grads(lambda s: lax.index_take(s, (i0, i2), (0, 2)) ** 2, (src,), order=2)
    with pytest.raises(ValueError, match="one index array per axis"):
        lax.index_take(src, (i0,), (0, 1))


# ---- integer bits ---------------------------------------------------------------------------

INT_DTYPES = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64]


def _bits_of(x: int, width: int) -> str:
    return format(x % (1 << width), f"0{width}b")


@settings(max_examples=30, deadline=None)
@given(dtype=st.sampled_from(INT_DTYPES), data=st.data())
def test_shifts_population_count_and_clz_bit_by_bit(dtype, data):
    info, width = np.iinfo(dtype), 8 * np.dtype(dtype).itemsize
    xs = data.draw(st.lists(st.integers(int(info.min), int(info.max)), min_size=1, max_size=6))
    amounts = data.draw(
        st.lists(st.integers(min(int(info.min), -3), width + 3), min_size=len(xs), max_size=len(xs))
    )
    x = np.array(xs, dtype)
    y = np.array([a % (int(info.max) + 1) if info.min == 0 else a for a in amounts], dtype)
    logical = _agree(lax.shift_right_logical, x, y)
    arithmetic = _agree(lax.shift_right_arithmetic, x, y)
    pop, lz = _agree(lax.population_count, x), _agree(lax.clz, x)
    for out in (logical, arithmetic, pop, lz):
        assert out.dtype == dtype
    for k, (xi, yi) in enumerate(zip(xs, y.tolist())):
        s = _bits_of(xi, width)
        n = yi % (1 << width)  # XLA reads the amount as unsigned
        logical_bits = ("0" * min(n, width) + s)[:width]
        arithmetic_bits = (s[0] * min(n, width) + s)[:width]
        assert _bits_of(int(logical[k]), width) == logical_bits
        assert _bits_of(int(arithmetic[k]), width) == arithmetic_bits
        assert int(pop[k]) == s.count("1")
        assert int(lz[k]) == len(s) - len(s.lstrip("0"))


def test_bit_functions_check_their_operands():
    with pytest.raises(TypeError, match="one dtype"):
        lax.shift_right_logical(np.int32(4), np.int64(1))
    for f in (lax.population_count, lax.clz):
        with pytest.raises(TypeError, match="integer operands"):
            f(np.ones(2))
    with pytest.raises(TypeError, match="booleans or integers"):
        lax.reduce_xor(np.ones(2), (0,))
    assert lax.shift_right_logical(np.int32(-8), 1) == 2**31 - 4  # a Python int amount


@pytest.mark.parametrize("axes", [(0,), (1, 2), (), (0, 1, 2), (2, 0)])
@pytest.mark.parametrize("dtype", [np.int32, np.uint8, np.bool_])
def test_reduce_xor_against_a_loop(axes, dtype):
    x = RNG.integers(0, 200, (3, 5, 6)).astype(dtype)
    expected = np.bitwise_xor.reduce(x, axis=axes) if axes else x
    out = _agree(lambda x: lax.reduce_xor(x, axes), x)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(lax.reduce_xor(np.zeros((2, 0), dtype), (1,)), np.zeros(2, dtype))


# ---- reduce_precision -----------------------------------------------------------------------


def test_reduce_precision_rounds_like_the_narrower_float_types():
    x = RNG.standard_normal(2000) * np.exp(RNG.uniform(-8, 8, 2000))
    np.testing.assert_array_equal(
        lax.reduce_precision(x, 8, 23), x.astype(np.float32).astype(np.float64)
    )
    normal16 = np.abs(x) >= np.finfo(np.float16).tiny
    np.testing.assert_array_equal(
        lax.reduce_precision(x, 5, 10)[normal16], x[normal16].astype(np.float16).astype(float)
    )
    # below float16's smallest normal number: zero, keeping the sign (XLA's rule)
    assert lax.reduce_precision(np.array([1e-6, -1e-6]), 5, 10).tolist() == [0.0, -0.0]
    assert np.signbit(lax.reduce_precision(np.array([-1e-6]), 5, 10))[0]
    special = np.array([np.inf, -np.inf, np.nan, 1e6, 0.0])
    out = lax.reduce_precision(special, 5, 10)
    assert out[:2].tolist() == [np.inf, -np.inf] and np.isnan(out[2]) and out[3] == np.inf
    # ties to even: 2.5 = 1.01b * 2 with one mantissa bit rounds to 1.0b * 2
    assert lax.reduce_precision(np.array([2.5, 3.5]), 8, 1).tolist() == [2.0, 4.0]
    assert _agree(lambda x: lax.reduce_precision(x, 5, 10), np.float32(1 / 3)).dtype == np.float32


def test_reduce_precision_derivative_rounds_the_tangent_as_jax():
    x = np.array([1 / 3, 2.0])
    _, t = funcdiff.jvp(lambda x: lax.reduce_precision(x, 5, 10), (x,), (np.full(2, 0.1),))
    np.testing.assert_array_equal(t, np.full(2, np.float16(0.1)).astype(float))
    g = funcdiff.grad(lambda x: jnp.sum(lax.reduce_precision(x, 8, 23) * 3.0))(x)
    np.testing.assert_array_equal(g, [3.0, 3.0])
    with pytest.raises(TypeError, match="floating-point"):
        lax.reduce_precision(np.arange(3), 5, 10)


# ---- broadcast_like, batch_matmul, approx_max_k / approx_min_k -------------------------------


def test_broadcast_like_and_batch_matmul():
    out = _agree(lambda a: lax.broadcast_like(a, np.zeros((2, 3))), np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(out, [[1, 2, 3], [1, 2, 3]])
    with pytest.raises(ValueError, match="cannot be broadcast"):
        lax.broadcast_like(np.ones((3, 1)), np.ones(3))
    a, b = RNG.standard_normal((4, 2, 3)), RNG.standard_normal((4, 3, 5))
    np.testing.assert_allclose(_agree(lax.batch_matmul, a, b), a @ b)
    with pytest.raises(ValueError, match="one rank, at least 2"):
        lax.batch_matmul(a, b[0])
    check_grads(lax.batch_matmul, (a, b), order=2)


def test_approx_top_k_is_exact():
    x = RNG.standard_normal((3, 7))
    values, indices = _agree(lambda x: lax.approx_max_k(x, 3), x)
    order = np.argsort(-x, axis=1, kind="stable")[:, :3]
    np.testing.assert_array_equal(indices, order)
    np.testing.assert_array_equal(values, np.take_along_axis(x, order, 1))
    assert indices.dtype == np.int32
    low, where = lax.approx_min_k(x, 2, reduction_dimension=0)
    np.testing.assert_array_equal(low, np.sort(x, axis=0)[:2])
    np.testing.assert_array_equal(where, np.argsort(x, axis=0, kind="stable")[:2])
    check_grads(lambda x: lax.approx_max_k(x, 3)[0] ** 2, (x,), order=2)
    with pytest.raises(ValueError, match="k=8 is out of range"):
        lax.approx_max_k(x, 8)
