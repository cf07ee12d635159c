"""Regression tests from an adversarial hunt for silent wrong answers under jit, grad and
vmap (results that alias the caller's memory, programs whose results change type, eager and
transformed code that disagree)."""

from __future__ import annotations

import numpy as np

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import grad, jit, lax, vmap


def test_vmap_result_not_depending_on_the_batch_is_not_a_view_of_a_closed_over_array():
    # Found: vmap broadcast an unbatched output, a view of the array the function closed over,
    # so a later write into that array changed the result.
    c = np.arange(6.0).reshape(2, 3)
    x = np.ones((4, 2, 3))
    out, same, flat = vmap(lambda x: (c, x, c.reshape(-1)))(x)
    for y in (out, flat):
        assert not np.shares_memory(y, c)
    assert not np.shares_memory(same, x)
    c[0, 0] = 100.0
    assert out[0, 0, 0] == 0.0 and flat[2, 0] == 0.0
    kept = vmap(lambda x: c, out_axes=None)(x)  # an unmapped output: returned as it is
    assert not np.shares_memory(kept, c) and kept[0, 0] == 100.0


def test_jit_of_a_simplified_program_keeps_its_result_type():
    # Found: jit's simplifier replaced `mul(x, 1.0)` (strong) by the weakly typed Python
    # scalar x, so jit(grad(f))(2.0) returned a Python float instead of an Array.
    for f in (lambda x: x * x, lambda x: jnp.sin(x) * x):
        for g in (jit(grad(f)), jit(grad(jit(f)))):
            out = g(2.0)
            assert isinstance(out, funcdiff.Array) and out.shape == ()
            np.testing.assert_allclose(out, grad(f)(2.0))
            assert out.weak_type == grad(f)(2.0).weak_type
    strong = jit(lambda x, y: (x * np.float64(1.0)) * y)
    assert strong(2.0, np.ones(2, np.float32)).dtype == np.float64  # as eagerly


def test_nested_jit_with_different_static_arguments_under_vmap_and_grad():
    def inner(x, k):
        return jnp.sum(x**k)

    inner_jit = jit(inner, static_argnums=1)

    def outer(x, y):
        return inner_jit(x, 2) + inner_jit(x, 3) + inner_jit(y, 2)

    x, y = np.array([1.0, 2.0]), np.array([1.0, 2.0, 3.0])
    for f in (outer, jit(outer)):
        assert f(x, y) == 28.0
        np.testing.assert_allclose(grad(f)(x, y), 2 * x + 3 * x**2)
        np.testing.assert_allclose(
            vmap(f, in_axes=(0, None))(np.stack([x, 2 * x]), y), [28.0, 106.0]
        )
    np.testing.assert_allclose(
        vmap(grad(inner_jit), in_axes=(0, None))(np.stack([x, 2 * x]), 3), [3 * x**2, 12 * x**2]
    )


def test_integer_division_modulo_and_nan_reductions_match_eager_and_numpy():
    a, b = np.array([-7, 7, -8, 8, 0, 5]), np.array([2, -2, -3, 3, -1, -5])
    for f, ref in [
        (jnp.floor_divide, np.floor_divide),
        (jnp.mod, np.mod),
        (jnp.fmod, np.fmod),
        (lambda a, b: jnp.divmod(a, b)[1], np.mod),
    ]:
        for g in (f, jit(f), vmap(f)):
            np.testing.assert_array_equal(g(a, b), ref(a, b))
    x = np.array([1.0, np.nan, 3.0, -np.inf, np.nan, 2.0])
    for f, ref in [
        (jnp.max, np.max),
        (jnp.argmax, np.argmax),
        (jnp.argmin, np.argmin),
        (jnp.sort, np.sort),
        (jnp.argsort, np.argsort),
        (jnp.nanmax, np.nanmax),
    ]:
        for g in (f, jit(f)):
            np.testing.assert_array_equal(g(x), ref(x))
        np.testing.assert_array_equal(vmap(f)(x[None])[0], ref(x))


def test_control_flow_with_weak_carries_and_empty_loops_agree_with_eager():
    xs = np.ones(3, np.float32)
    cases = [
        (lambda xs: lax.scan(lambda c, x: (c + x, c), 0.0, xs), (xs,)),
        (lambda xs: lax.scan(lambda c, x: (c + x, c * 2), 0.0, xs), (xs[:0],)),
        (lambda xs: lax.scan(lambda c, x: (c, 2.0), 0.0, xs), (xs,)),
        (lambda n: lax.fori_loop(5, n, lambda i, c: c + i, 0.0), (np.int32(2),)),
        (
            lambda x: (
                lax.while_loop(lambda c: c[0] < 10, lambda c: c * 2.0, jnp.broadcast_to(1.0, (2,)))
                * x
            ),
            (np.float32(1.0),),
        ),
    ]
    for f, args in cases:
        eager, jitted = f(*args), jit(f)(*args)
        for e, j in zip(
            funcdiff.tree_util.tree_leaves(eager), funcdiff.tree_util.tree_leaves(jitted)
        ):
            assert np.asarray(e).dtype == np.asarray(j).dtype
            assert funcdiff.numpy.asarray(e).weak_type == j.weak_type
            np.testing.assert_array_equal(e, j)
    p = np.array([1.0, -1.0, 2.0], np.float32)
    f = lambda p: lax.cond(p > 0, lambda: 3.0, lambda: 1.0) * p  # noqa: E731
    for g in (vmap(f), jit(vmap(f)), vmap(jit(f))):
        out = g(p)
        assert out.dtype == np.float32 and out.tolist() == [3.0, -1.0, 6.0]
