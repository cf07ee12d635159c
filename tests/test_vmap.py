"""vmap: axes specifications, nesting, chunking, errors, and composition with the other
transformations; per-example gradients against a loop of grad."""

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import grad, jit, lax, vmap
from funcdiff._src import core
from funcdiff._src.numpy.indexing import _IndexUpdateHelper as at
from funcdiff._src.numpy.indexing import getitem
from funcdiff.test_util import check_vmap

rng = np.random.default_rng(0)


def logistic_loss(w, x, y):
    return jnp.log1p(jnp.exp(-y * (x @ w)))


def test_per_example_gradients_match_a_loop_of_grad():
    w = rng.normal(size=10)
    xs, ys = rng.normal(size=(32, 10)), np.sign(rng.normal(size=32))
    loop = np.stack([grad(logistic_loss)(w, xs[i], ys[i]) for i in range(32)])
    per_example = vmap(grad(logistic_loss), in_axes=(None, 0, 0))
    np.testing.assert_allclose(per_example(w, xs, ys), loop, rtol=1e-12)
    np.testing.assert_allclose(jit(per_example)(w, xs, ys), loop, rtol=1e-12)


def test_grad_of_a_vmapped_loss():
    w = rng.normal(size=4)
    xs, ys = rng.normal(size=(6, 4)), np.sign(rng.normal(size=6))
    total = lambda w: vmap(logistic_loss, (None, 0, 0))(w, xs, ys).sum()
    expected = sum(grad(logistic_loss)(w, xs[i], ys[i]) for i in range(6))
    np.testing.assert_allclose(grad(total)(w), expected, rtol=1e-12)


@pytest.mark.parametrize("in_axes", [0, 1, -1, (0, None), (None, 1), ({"a": 0, "b": None}, 0)])
def test_axes_specifications(in_axes):
    x = rng.normal(size=(3, 4))
    if isinstance(in_axes, tuple) and isinstance(in_axes[0], dict):
        check_vmap(lambda p, v: p["a"] * v.sum() + p["b"], ({"a": x, "b": 1.0}, x), in_axes)
    elif in_axes == (0, None):
        check_vmap(lambda u, v: jnp.sin(u) * v, (x, rng.normal(size=4)), in_axes)
    elif in_axes == (None, 1):
        check_vmap(lambda u, v: jnp.sin(u) * v, (x, rng.normal(size=(4, 5))), in_axes)
    else:
        check_vmap(lambda u: jnp.cumsum(u, axis=0) @ np.ones(u.shape[-1]), (x,), in_axes)


@pytest.mark.parametrize("out_axes", [0, 1, -1])
def test_out_axes(out_axes):
    check_vmap(lambda v: jnp.outer(v, v), (rng.normal(size=(3, 4)),), 0, out_axes)


def test_nested_vmap_with_different_axes():
    x = rng.normal(size=(3, 4, 5))
    f = lambda v: jnp.sum(v**2)
    out = vmap(vmap(f, in_axes=1), in_axes=0)(x)
    np.testing.assert_allclose(out, np.sum(x**2, axis=1))
    out = vmap(vmap(f, in_axes=0), in_axes=2)(x)
    np.testing.assert_allclose(out, np.sum(x**2, axis=1).T)


def test_pytree_outputs_and_unmapped_outputs():
    f = vmap(lambda v, c: {"v": v * 2, "c": c}, in_axes=(0, None), out_axes={"v": 0, "c": None})
    out = f(np.arange(3.0), 7.0)
    np.testing.assert_allclose(out["v"], [0.0, 2.0, 4.0])
    assert out["c"] == 7.0
    # An unmapped output with out_axes=0 is broadcast along the batch.
    np.testing.assert_allclose(vmap(lambda v: 1.0, axis_size=3)(np.ones(3)), np.ones(3))


def test_axis_size_without_mapped_arguments():
    out = vmap(lambda c: c + 1.0, in_axes=None, axis_size=4)(2.0)
    np.testing.assert_allclose(out, np.full(4, 3.0))


def test_errors_name_arguments_and_sizes():
    with pytest.raises(ValueError, match=r"inconsistent sizes.*\[3, 4\].*x.*size 3.*y.*size 4"):
        vmap(lambda x, y: x + y)(np.ones(3), np.ones(4))
    # Keyword arguments are named too, and pytree leaves by their paths.
    with pytest.raises(ValueError, match=r"Arguments: a: axis 0 of shape \(3,\) has size 3; "
                                         r"b: axis 0 of shape \(4,\) has size 4$"):
        vmap(lambda a, b=None: a + b)(np.ones(3), b=np.ones(4))
    with pytest.raises(ValueError, match=r"Arguments: a\['x'\]: axis 0 of shape \(3,\) has size "
                                         r"3; a\['y'\]: not mapped; b: axis 1 of shape \(2, 5\) "
                                         r"has size 5$"):
        vmap(lambda a, b: a["x"] + b, in_axes=({"x": 0, "y": None}, 1))(
            {"x": np.ones(3), "y": 2.0}, np.ones((2, 5)))
    with pytest.raises(ValueError, match="tree prefix"):
        vmap(lambda p: p["a"], in_axes=({"b": 0},))({"a": np.ones(3)})
    with pytest.raises(ValueError, match="out_axes is None"):
        vmap(lambda v: v, out_axes=None)(np.ones(3))
    with pytest.raises(ValueError, match="one entry per argument"):
        vmap(lambda a, b: a, in_axes=(0,))(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="at least one argument mapped"):
        vmap(lambda a: a, in_axes=None)(np.ones(3))
    with pytest.raises(ValueError, match="out of range"):
        vmap(lambda a: a, in_axes=2)(np.ones((3, 3)))


def test_python_control_flow_on_batched_values_is_an_error():
    with pytest.raises(funcdiff.ConcretizationTypeError):
        vmap(lambda v: v if v > 0 else -v)(np.ones(3))


def test_chunked_vmap_gives_the_same_result():
    x = rng.normal(size=(10, 3))
    f = lambda v: jnp.tanh(v) @ np.ones((3, 2))
    np.testing.assert_allclose(vmap(f, chunk_size=3)(x), vmap(f)(x), rtol=1e-14)
    v = rng.normal(size=9)
    np.testing.assert_allclose(funcdiff.jacfwd(lambda v: jnp.tanh(v * 2), chunk_size=4)(v),
                               funcdiff.jacfwd(lambda v: jnp.tanh(v * 2))(v), rtol=1e-14)
    for jac in (funcdiff.jacfwd, funcdiff.jacrev):
        np.testing.assert_allclose(jac(jnp.sin, chunk_size=2)(v), np.diag(np.cos(v)))


def test_chunked_jacobians_hold_about_one_jacobian_of_memory():
    # The identity basis is built chunk by chunk and each chunk of the result is copied into
    # place as it finishes: peak memory is the Jacobian plus a chunk's work, not a multiple.
    import tracemalloc

    f = lambda v: jnp.tanh(jnp.sin(v) * jnp.cos(v) + jnp.exp(-v * v)) * v
    x = np.linspace(0.1, 1.0, 800)
    jacobian_bytes = x.size * x.size * 8
    expected = np.diag((1 - np.tanh(np.sin(x) * np.cos(x) + np.exp(-x * x)) ** 2)
                       * (np.cos(2 * x) - 2 * x * np.exp(-x * x)) * x
                       + np.tanh(np.sin(x) * np.cos(x) + np.exp(-x * x)))
    for jac in (funcdiff.jacfwd, funcdiff.jacrev):
        tracemalloc.start()
        try:
            J = jac(f, chunk_size=40)(x)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        np.testing.assert_allclose(J, expected, rtol=1e-12, atol=1e-15)
        assert peak < 1.5 * jacobian_bytes, (jac.__name__, peak / jacobian_bytes)


def test_jacobians_compose():
    f = lambda x: jnp.sum(jnp.sin(x) * x**2)
    x = rng.normal(size=4)
    h1 = funcdiff.jacfwd(funcdiff.jacrev(f))(x)
    h2 = funcdiff.jacrev(funcdiff.jacfwd(f))(x)
    h3 = funcdiff.hessian(f)(x)
    np.testing.assert_allclose(h1, h2, rtol=1e-12)
    np.testing.assert_allclose(h1, h3, rtol=1e-12)
    expected = np.diag(-np.sin(x) * x**2 + 4 * x * np.cos(x) + 2 * np.sin(x))
    np.testing.assert_allclose(h1, expected, rtol=1e-12, atol=1e-12)


def test_vmap_of_jit_is_one_batched_call():
    g = jit(lambda v: jnp.sin(v) @ np.ones((4, 2)))
    x = rng.normal(size=(5, 4))
    jaxpr = funcdiff.make_jaxpr(vmap(g))(x)
    assert [e.primitive.name for e in jaxpr.eqns] == ["jit"]
    core.typecheck_jaxpr(jaxpr.jaxpr)
    np.testing.assert_allclose(vmap(g)(x), np.sin(x) @ np.ones((4, 2)))


def test_batched_matmul_is_one_dot_general():
    xs, ws = rng.normal(size=(8, 3)), rng.normal(size=(8, 3, 2))
    jaxpr = funcdiff.make_jaxpr(vmap(lambda x, w: x @ w))(xs, ws)
    assert [e.primitive.name for e in jaxpr.eqns] == ["dot_general"]
    check_vmap(lambda x, w: x @ w, (xs, ws))


@pytest.mark.parametrize("batched", [(0, None), (None, 0), (0, 0)])
def test_indexing_and_updates(batched):
    x = rng.normal(size=(4, 5, 6))  # a batch of 4 arrays of shape (5, 6)
    idx = rng.integers(0, 5, size=(4, 3))
    i, j = batched
    xs = x if i is not None else x[0]
    ids = idx if j is not None else idx[0]
    # NumPy arrays cannot be indexed by traced values, so index through funcdiff's own
    # indexing (what `Tracer.__getitem__` and `.at` call).
    check_vmap(lambda a, k: getitem(a, (np.s_[1:], k)), (xs, ids), (i, j))
    check_vmap(lambda a, k: getitem(a, (k, np.s_[2:4])), (xs, ids), (i, j))
    check_vmap(lambda a, k: at(a)[k].add(1.0), (xs, ids), (i, j))
    check_vmap(lambda a, k: at(a)[:, k].set(getitem(a, (slice(None), 0))[:, None]),
               (xs, ids), (i, j))
    starts = rng.integers(-1, 6, size=4)
    s_in = starts if j is not None else starts[0]
    check_vmap(lambda a, s: lax.dynamic_slice(a, (s, 1), (2, 3)), (xs, s_in), (i, j))
    check_vmap(lambda a, s: lax.dynamic_update_slice(a, np.ones((2, 3)), (s, 1)), (xs, s_in),
               (i, j))


def _mixed(x, y):
    # Rules that broadcast an unbatched operand to the batch need the axis size:
    # concatenate, add_any (through grad), scan's carry and dynamic_update_slice.
    z = lax.concatenate([x, y], 0)
    _, ys = lax.scan(lambda c, v: (c + v, c * v), y[0], z)
    return lax.dynamic_update_slice(ys, y, (1,))


def _mixed_loop(xs, y):
    return np.array([np.asarray(_mixed(x, y)) for x in xs]).reshape(len(xs), 6)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_rules_that_broadcast_an_unbatched_operand_get_the_axis_size(n):
    # Batching rules receive the axis size from vmap (not from an operand): check the rules
    # that use it on batches of every size, including none, with in_axes None and negative,
    # nested, and under jit and grad.
    xs, y = rng.normal(size=(n, 4)), rng.normal(size=2)
    expected = _mixed_loop(xs, y)
    np.testing.assert_allclose(vmap(_mixed, in_axes=(0, None))(xs, y), expected)
    np.testing.assert_allclose(vmap(_mixed, in_axes=(-1, None))(xs.T, y), expected)
    np.testing.assert_allclose(jit(vmap(_mixed, in_axes=(0, None)))(xs, y), expected)
    np.testing.assert_allclose(vmap(jit(_mixed), in_axes=(0, None))(xs, y), expected)
    xss = np.stack([xs, 2 * xs])
    nested = vmap(vmap(_mixed, in_axes=(0, None)), in_axes=(0, None))(xss, y)
    np.testing.assert_allclose(nested, np.stack([expected, _mixed_loop(2 * xs, y)]))
    # grad of a sum over the batch: d/dy of the sum, and per-example gradients with respect
    # to the unbatched y (add_any sums the cotangents of the broadcast copies).
    total = lambda xs, y: jnp.sum(vmap(_mixed, in_axes=(0, None))(xs, y))
    g = grad(total, argnums=1)(xs, y)
    per_example = vmap(grad(lambda x, y: jnp.sum(_mixed(x, y)), argnums=1), in_axes=(0, None))
    np.testing.assert_allclose(g, np.sum(per_example(xs, y), axis=0).reshape(2), atol=1e-12)
    assert per_example(xs, y).shape == (n, 2)
