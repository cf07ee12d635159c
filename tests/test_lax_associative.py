"""`lax.associative_scan` and `lax.reduce`: values against NumPy's cumulative and reduction
functions and against Python loops, the monoids bound as their reduction primitives, and
`jit`, `vmap` and derivatives agreeing with eager evaluation and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import lax
from funcdiff.test_util import check_grads

RNG = np.random.default_rng(1)


def _affine(p, q):
    """Composition of the maps h -> a h + b (first p, then q): associative, not commutative."""
    return q[0] * p[0], q[0] * p[1] + q[1]


def _loop_scan(fn, xs, reverse=False):
    xs = xs[::-1] if reverse else xs
    out, acc = [], None
    for x in xs:
        acc = x if acc is None else fn(acc, x)
        out.append(acc)
    return out[::-1] if reverse else out


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 17), reverse=st.booleans())
def test_associative_scan_matches_a_loop_at_every_length(n, reverse):
    x = RNG.standard_normal(n)
    np.testing.assert_allclose(
        lax.associative_scan(jnp.add, x, reverse=reverse),
        np.cumsum(x[::-1])[::-1] if reverse else np.cumsum(x),
    )
    a, b = RNG.uniform(0.5, 1.5, n), RNG.standard_normal(n)
    got = lax.associative_scan(_affine, (a, b), reverse=reverse)
    expected = _loop_scan(_affine, list(zip(a, b)), reverse)
    np.testing.assert_allclose(got[0], [e[0] for e in expected])
    np.testing.assert_allclose(got[1], [e[1] for e in expected])


def test_associative_scan_axis_pytrees_and_transformations():
    x = RNG.standard_normal((3, 5))
    for axis in (0, 1, -1):
        np.testing.assert_allclose(
            lax.associative_scan(jnp.maximum, x, axis=axis), np.maximum.accumulate(x, axis=axis)
        )
    tree = {"a": x, "b": x * 2}
    out = lax.associative_scan(lambda p, q: {"a": p["a"] + q["a"], "b": p["b"] * q["b"]}, tree)
    np.testing.assert_allclose(out["a"], np.cumsum(x, 0))
    np.testing.assert_allclose(out["b"], np.cumprod(x * 2, 0))
    f = lambda x: lax.associative_scan(jnp.multiply, x, axis=1, reverse=True)
    np.testing.assert_allclose(funcdiff.jit(f)(x), f(x))
    np.testing.assert_allclose(funcdiff.vmap(f)(np.stack([x, x + 1])), [f(x), f(x + 1)])
    check_grads(f, (x,), order=2)
    g = lambda a, b: lax.associative_scan(_affine, (a, b))[1]
    check_grads(g, (x, x[::-1]), order=2)
    grad_jit = funcdiff.jit(funcdiff.grad(lambda x: jnp.sum(f(x) ** 2)))
    np.testing.assert_allclose(grad_jit(x), funcdiff.grad(lambda x: jnp.sum(f(x) ** 2))(x))


def test_associative_scan_errors():
    with pytest.raises(ValueError, match="one length"):
        lax.associative_scan(lambda p, q: p, (np.ones(3), np.ones(4)))
    with pytest.raises(TypeError, match="structure"):
        lax.associative_scan(lambda p, q: p[0], (np.ones(3), np.ones(3)))
    with pytest.raises(TypeError, match="elementwise"):
        lax.associative_scan(lambda p, q: jnp.sum(p + q), np.ones(3))
    with pytest.raises(ValueError, match="axis 2"):
        lax.associative_scan(jnp.add, np.ones((2, 2)), axis=2)


@pytest.mark.parametrize(
    ("computation", "init", "numpy_reduce", "primitive"),
    [
        (lax.add, 0.0, np.sum, "reduce_sum"),
        (lax.mul, 1.0, np.prod, "reduce_prod"),
        (lax.max, -np.inf, np.max, "reduce_max"),
        (lax.min, np.inf, np.min, "reduce_min"),
        (jnp.add, 0.0, np.sum, "reduce_sum"),
    ],
)
def test_reduce_binds_the_monoids_primitive(computation, init, numpy_reduce, primitive):
    x = RNG.uniform(0.5, 1.5, (3, 4))
    f = lambda x: lax.reduce(x, init, computation, (0,))
    np.testing.assert_allclose(f(x), numpy_reduce(x, axis=0))
    assert f"= {primitive}[" in str(funcdiff.make_jaxpr(f)(x))
    check_grads(f, (x,), order=2)


def test_reduce_logical_monoids_and_integers():
    b = RNG.integers(0, 2, (4, 3)).astype(bool)
    assert lax.reduce(b, True, lax.bitwise_and, (0,)).tolist() == np.all(b, 0).tolist()
    assert lax.reduce(b, False, lax.bitwise_or, (0,)).tolist() == np.any(b, 0).tolist()
    i = RNG.integers(-50, 50, (4, 3))
    lowest = np.iinfo(np.int64).min
    np.testing.assert_array_equal(lax.reduce(i, lowest, lax.max, (0, 1)), i.max())
    assert "reduce_max" in str(
        funcdiff.make_jaxpr(lambda i: lax.reduce(i, lowest, lax.max, (0,)))(i)
    )


def test_reduce_with_other_initial_values_combines_them_once():
    x = RNG.uniform(0.5, 1.5, (2, 5))
    np.testing.assert_allclose(lax.reduce(x, 2.0, lax.add, (1,)), x.sum(1) + 2.0)
    np.testing.assert_allclose(lax.reduce(x, 3.0, lax.mul, (0, 1)), 3.0 * x.prod())
    f = lambda x: lax.reduce(x, 3.0, lax.mul, (1,))
    assert "reduce_prod" not in str(funcdiff.make_jaxpr(f)(x))
    check_grads(f, (x,), order=2)
    # empty reduced axes give the initial value
    np.testing.assert_array_equal(lax.reduce(np.ones((2, 0)), 5.0, lax.add, (1,)), [5.0, 5.0])


@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3), data=st.data())
def test_reduce_with_a_pytree_computation_is_an_argmax(shape, data):
    x = RNG.standard_normal(shape)
    dims = tuple(sorted(data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))))
    kept = [d for d in range(len(shape)) if d not in dims]
    flat_idx = np.arange(x.size).reshape(shape)

    def pick(a, b):
        take_b = (b[0] > a[0]) | ((b[0] == a[0]) & (b[1] < a[1]))
        return jnp.where(take_b, b[0], a[0]), jnp.where(take_b, b[1], a[1])

    f = lambda x: lax.reduce((x, flat_idx), (-np.inf, np.int64(-1)), pick, dims)
    best, where = f(x)
    moved = np.transpose(x, (*kept, *dims)).reshape(*[shape[d] for d in kept], -1)
    np.testing.assert_array_equal(best, moved.max(-1))
    np.testing.assert_array_equal(x.reshape(-1)[np.asarray(where)], best)
    jb, jw = funcdiff.jit(f)(x)
    np.testing.assert_array_equal(jb, best)
    np.testing.assert_array_equal(jw, where)
    vb, _ = funcdiff.vmap(f)(np.stack([x, -x]))
    np.testing.assert_array_equal(vb[0], best)
    # the derivative of the max value goes to the chosen element
    g = funcdiff.grad(lambda x: jnp.sum(f(x)[0]))(x)
    expected = np.zeros(x.size)
    expected[np.asarray(where).reshape(-1)] = 1.0
    np.testing.assert_array_equal(g, expected.reshape(shape))


def test_reduce_calls_the_computation_on_scalars():
    seen = []

    def computation(a, b):
        seen.append(np.shape(a))
        return lax.cond(a > b, lambda: a, lambda: b)  # needs scalars

    x = RNG.standard_normal((3, 4))
    np.testing.assert_allclose(lax.reduce(x, -np.inf, computation, (1,)), x.max(1))
    assert set(seen) == {()}


def test_reduce_errors():
    x = np.ones((2, 3))
    with pytest.raises(TypeError, match="must match the operands"):
        lax.reduce((x, x), (0.0,), lambda a, b: a, (0,))
    with pytest.raises(TypeError, match="must match the operands"):
        lax.reduce((x, x), [0.0, 0.0], lambda a, b: a, (0,))
    with pytest.raises(ValueError, match="not distinct axes"):
        lax.reduce(x, 0.0, lax.add, (0, 0))
    with pytest.raises(TypeError, match="scalar of its operand's dtype"):
        lax.reduce(x, np.zeros(2), lax.add, (0,))
    with pytest.raises(TypeError, match="keep the operands' dtypes"):
        lax.reduce(x, 1.0, lambda a, b: a > b, (0,))
    with pytest.raises(TypeError, match="one shape"):
        lax.reduce((x, np.ones(3)), (0.0, 0.0), lambda a, b: a, (0,))
