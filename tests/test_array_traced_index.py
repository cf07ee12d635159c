"""A concrete `funcdiff.Array` indexed by a traced value, as JAX's arrays are.

The commonest JAX pattern: a closed-over table read with a loop counter or a mapped index
(``t[i]`` in a `fori_loop` body, under `jit` or `vmap`). NumPy's own indexing cannot take a
traced index, so `Array.__getitem__` hands such an index to funcdiff's indexing. The results
equal eager indexing with the same concrete index, never share memory with the table, and
leave it unchanged; a traced boolean mask stays an error, as in JAX.
"""

from __future__ import annotations

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import grad, jit, lax, vmap

T1 = np.arange(10.0) * 1.5 - 2.0
T2 = np.arange(24.0).reshape(4, 6) / 7.0


def _tables():
    return jnp.asarray(T1), jnp.asarray(T2)


@pytest.mark.parametrize("i", [0, 3, -1, -10, 9])
def test_jit_scalar_index_equals_eager(i):
    t, _ = _tables()
    out = jit(lambda i: t[i])(i)
    assert isinstance(out, funcdiff.Array)
    np.testing.assert_array_equal(out, T1[i])
    assert out.shape == () and out.dtype == T1.dtype


@pytest.mark.parametrize(
    "make",
    [
        lambda i: (i, slice(1, None)),
        lambda i: (slice(None), i),
        lambda i: (i, None, Ellipsis),
        lambda i: (Ellipsis, i),
        lambda i: (i, 2),
        lambda i: (i, slice(None, None, -2)),
    ],
    ids=["i,1:", ":,i", "i,None,...", "...,i", "i,2", "i,::-2"],
)
def test_jit_mixed_tuple_index_equals_eager(make):
    _, t2 = _tables()
    for i in (0, 2, -1):
        out = jit(lambda i: t2[make(i)])(i)
        np.testing.assert_array_equal(out, T2[make(i)])
        assert out.shape == T2[make(i)].shape


def test_jit_traced_integer_array_index_equals_eager():
    t, t2 = _tables()
    idx = np.array([[3, 0], [9, -2]])
    np.testing.assert_array_equal(jit(lambda j: t[j])(idx), T1[idx])
    rows = np.array([2, 0, 3])
    np.testing.assert_array_equal(jit(lambda j: t2[j, 1:4])(rows), T2[rows, 1:4])
    np.testing.assert_array_equal(jit(lambda j: t2[:, j])(rows), T2[:, rows])


def test_vmap_over_the_index():
    t, t2 = _tables()
    idx = np.array([4, 0, 9, 2])
    np.testing.assert_array_equal(vmap(lambda i: t[i])(idx), T1[idx])
    np.testing.assert_array_equal(vmap(lambda i: t2[i, ::2])(idx % 4), T2[idx % 4, ::2])
    np.testing.assert_array_equal(jit(vmap(lambda i: t[i] * 2.0))(idx), 2.0 * T1[idx])


def test_grad_with_respect_to_another_argument():
    t, _ = _tables()

    def f(x, i):
        return jnp.sin(x * t[i])

    for i in (1, 7):
        g = grad(f)(0.3, i)
        np.testing.assert_allclose(g, T1[i] * np.cos(0.3 * T1[i]), rtol=1e-12)
        np.testing.assert_allclose(jit(grad(f))(0.3, i), g, rtol=1e-12)
    gs = vmap(grad(f), in_axes=(None, 0))(0.3, np.array([1, 7]))
    np.testing.assert_allclose(gs, T1[[1, 7]] * np.cos(0.3 * T1[[1, 7]]), rtol=1e-12)


def test_fori_loop_and_scan_bodies():
    t, t2 = _tables()
    total = lax.fori_loop(0, 10, lambda i, acc: acc + t[i], 0.0)
    np.testing.assert_allclose(total, T1.sum(), rtol=1e-12)
    rows = lax.fori_loop(0, 4, lambda i, acc: acc + t2[i, 1:], jnp.zeros(5))
    np.testing.assert_allclose(rows, T2[:, 1:].sum(0), rtol=1e-12)
    ints = jnp.arange(10)  # JAX's Common Gotchas page: an int table in a fori_loop
    assert int(lax.fori_loop(0, 10, lambda i, x: x + ints[i], 0)) == 45

    def body(carry, i):
        return carry * 0.5 + t[i], t[i] ** 2

    carry, ys = lax.scan(body, 0.0, np.array([2, 5, 0]))
    expected = 0.0
    for i in (2, 5, 0):
        expected = expected * 0.5 + T1[i]
    np.testing.assert_allclose(carry, expected, rtol=1e-12)
    np.testing.assert_allclose(ys, T1[[2, 5, 0]] ** 2, rtol=1e-12)


def test_results_do_not_alias_the_table_and_it_is_unchanged():
    t, t2 = _tables()
    before1, before2 = np.array(t), np.array(t2)
    outs = [
        jit(lambda i: t2[i])(1),
        jit(lambda i: t2[i, 1:])(2),
        jit(lambda j: t[j])(np.array([1, 2, 3])),
        vmap(lambda i: t2[i])(np.array([0, 3])),
    ]
    for out in outs:
        assert not np.shares_memory(np.asarray(out), np.asarray(t))
        assert not np.shares_memory(np.asarray(out), np.asarray(t2))
        with pytest.raises(TypeError, match="immutable"):
            out[0] = 1.0
    np.testing.assert_array_equal(t, before1)
    np.testing.assert_array_equal(t2, before2)
    assert not t.flags.writeable and not t2.flags.writeable


def test_weak_array_keeps_its_weak_type_with_a_traced_index():
    w = jnp.broadcast_to(2.5, (4,))
    assert w.weak_type
    out = jit(lambda i: w[i] + np.float32(1.0))(2)
    assert out.dtype == np.float32 and float(out) == 3.5


def test_at_update_with_traced_index_on_a_concrete_array():
    t, t2 = _tables()
    out = jit(lambda i, v: t.at[i].set(v))(3, 100.0)
    expected = T1.copy()
    expected[3] = 100.0
    np.testing.assert_array_equal(out, expected)
    out = vmap(lambda i: t2.at[i, 1:].add(1.0))(np.array([0, 2]))
    np.testing.assert_array_equal(out[1, 2, 1:], T2[2, 1:] + 1.0)
    np.testing.assert_array_equal(out[1, 0], T2[0])
    np.testing.assert_array_equal(t, T1)  # the table is unchanged


def test_traced_boolean_mask_is_a_clear_error():
    t, _ = _tables()
    with pytest.raises(funcdiff.errors.NonConcreteBooleanIndexError, match="where"):
        jit(lambda m: t[m])(T1 > 0)
    with pytest.raises(IndexError, match="integer"):
        jit(lambda x: t[x])(1.5)
    # A traced slice bound has a static-shape error, as on a traced array (and in JAX).
    with pytest.raises(funcdiff.TracerIntegerConversionError, match="dynamic_slice"):
        jit(lambda i: t[i : i + 2])(1)
    leaked = []
    jit(lambda i: leaked.append(i) or i)(1)
    with pytest.raises(funcdiff.UnexpectedTracerError):
        t[leaked[0]]


def test_eager_indexing_is_unchanged():
    t, t2 = _tables()
    assert type(t[3]) is np.float64 and t[3] == T1[3]
    view = t[1:5]
    assert isinstance(view, funcdiff.Array) and np.shares_memory(view, t)
    assert not view.flags.writeable
    np.testing.assert_array_equal(t[np.array([1, 3])], T1[[1, 3]])
    np.testing.assert_array_equal(t2[1, 2:], T2[1, 2:])
    with pytest.raises(IndexError, match="out of bounds"):
        t[10]
    with pytest.raises(IndexError):
        t["a"]
