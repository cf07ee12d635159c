"""The collectives over `vmap`'s named axes (`lax.psum`, `pmean`, `pmax`, `pmin`,
`all_gather`, `axis_index`, `axis_size`): values against NumPy reductions of the batch, nested
named axes, and `jit`, `grad` and `vmap` in every order agreeing with each other and with
JAX's documented semantics (`psum`'s transpose is `psum`)."""

from __future__ import annotations

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import lax

vmap, grad, jit = funcdiff.vmap, funcdiff.grad, funcdiff.jit
RNG = np.random.default_rng(5)
XS = RNG.standard_normal((4, 3))


def _in_every_order(f, xs, expected):
    """`vmap(f, axis_name="i")` over the rows of `xs`, plain, jitted outside and inside."""
    for mapped in (
        vmap(f, axis_name="i"),
        jit(vmap(f, axis_name="i")),
        vmap(jit(f), axis_name="i"),
    ):
        np.testing.assert_allclose(mapped(xs), expected, rtol=1e-12, atol=1e-12)


def test_reductions_against_numpy():
    n = XS.shape[0]
    _in_every_order(lambda x: lax.psum(x, "i"), XS, np.tile(XS.sum(0), (n, 1)))
    _in_every_order(lambda x: lax.pmean(x, "i"), XS, np.tile(XS.mean(0), (n, 1)))
    _in_every_order(lambda x: lax.pmax(x, "i"), XS, np.tile(XS.max(0), (n, 1)))
    _in_every_order(lambda x: lax.pmin(x, "i"), XS, np.tile(XS.min(0), (n, 1)))
    _in_every_order(lambda x: x * lax.axis_index("i"), XS, XS * np.arange(n)[:, None])
    _in_every_order(lambda x: x / lax.axis_size("i"), XS, XS / n)
    # a pytree, and a value the same for every element (summed n times)
    out = vmap(lambda x: lax.psum({"a": x, "b": 2.0}, "i"), axis_name="i")(XS)
    np.testing.assert_allclose(out["a"], np.tile(XS.sum(0), (n, 1)))
    np.testing.assert_allclose(out["b"], np.full(n, 2.0 * n))
    ints = vmap(lambda k: lax.psum(k, "i"), axis_name="i")(np.arange(5))
    assert ints.tolist() == [10] * 5 and ints.dtype == np.int64


def test_all_gather_layouts():
    x = RNG.standard_normal((3, 2, 4))
    out = vmap(lambda v: lax.all_gather(v, "i"), axis_name="i")(x)
    np.testing.assert_array_equal(out, np.broadcast_to(x, (3, 3, 2, 4)))
    out = vmap(lambda v: lax.all_gather(v, "i", axis=1), axis_name="i")(x)
    np.testing.assert_array_equal(out[0], np.moveaxis(x, 0, 1))
    out = vmap(lambda v: lax.all_gather(v, "i", axis=1, tiled=True), axis_name="i")(x)
    np.testing.assert_array_equal(out[2], np.concatenate(list(x), axis=1))
    same = vmap(lambda v: lax.all_gather(1.0, "i"), axis_name="i")(x)
    np.testing.assert_array_equal(same, np.ones((3, 3)))
    _in_every_order(lambda v: lax.all_gather(v, "i").sum(0), XS, np.tile(XS.sum(0), (4, 1)))


def test_nested_named_axes():
    x = RNG.standard_normal((2, 3, 4))
    by_i = vmap(vmap(lambda v: lax.psum(v, "i"), axis_name="j"), axis_name="i")(x)
    np.testing.assert_allclose(by_i, np.broadcast_to(x.sum(0), x.shape))
    by_j = vmap(vmap(lambda v: lax.psum(v, "j"), axis_name="j"), axis_name="i")(x)
    np.testing.assert_allclose(by_j, np.broadcast_to(x.sum(1, keepdims=True), x.shape))
    both = vmap(vmap(lambda v: lax.psum(v, ("i", "j")), axis_name="j"), axis_name="i")(x)
    np.testing.assert_allclose(both, np.broadcast_to(x.sum((0, 1)), x.shape))
    idx = vmap(
        vmap(lambda v: lax.axis_index("i") * 10 + lax.axis_index("j"), axis_name="j"), axis_name="i"
    )(x)
    np.testing.assert_array_equal(idx, [[0, 1, 2], [10, 11, 12]])
    # an unnamed vmap in between is transparent
    mid = vmap(vmap(lambda v: lax.pmax(v, "i")), axis_name="i")(x)
    np.testing.assert_allclose(mid, np.broadcast_to(x.max(0), x.shape))
    # the innermost of two axes with one name is meant
    inner = vmap(vmap(lambda v: lax.psum(v, "i"), axis_name="i"), axis_name="i")(x)
    np.testing.assert_allclose(inner, np.broadcast_to(x.sum(1, keepdims=True), x.shape))


def test_derivatives_follow_jax():
    xs = np.array([1.0, 2.0, 3.0])
    # psum's transpose is psum: each element's gradient counts every element's total
    np.testing.assert_allclose(vmap(grad(lambda x: lax.psum(x, "i")), axis_name="i")(xs), 3.0)
    per_element = vmap(grad(lambda x: lax.psum(x * x, "i")), axis_name="i")(xs)
    outside = grad(lambda xs: vmap(lambda x: lax.psum(x * x, "i"), axis_name="i")(xs).sum())(xs)
    # each of the 3 elements' totals uses x_k once: 3 * 2 x_k, JAX's [6, 12, 18]
    np.testing.assert_allclose(per_element, 3 * 2 * xs)
    np.testing.assert_allclose(outside, per_element)
    np.testing.assert_allclose(
        vmap(grad(lambda x: lax.pmean(x * x, "i")), axis_name="i")(xs), 2 * xs
    )
    gathered = vmap(grad(lambda x: lax.all_gather(x * x, "i")[0]), axis_name="i")(xs)
    np.testing.assert_allclose(gathered, [6.0, 0.0, 0.0])
    # max: to the element holding it (each of the 3 outputs is that maximum)
    np.testing.assert_allclose(
        vmap(grad(lambda x: lax.pmax(x * x, "i")), axis_name="i")(xs), [0.0, 0.0, 18.0]
    )
    ties = vmap(grad(lambda x: lax.pmax(x, "i")), axis_name="i")(np.array([2.0, 2.0, 1.0]))
    np.testing.assert_allclose(ties, [1.5, 1.5, 0.0])
    # jit and grad in either order, and a softmax across the batch
    softmax = lambda x: jnp.exp(x) / lax.psum(jnp.exp(x), "i")
    f = lambda xs: jnp.sum(vmap(softmax, axis_name="i")(xs) * np.arange(3.0))
    expected = grad(lambda xs: jnp.sum(jnp.exp(xs) / jnp.sum(jnp.exp(xs)) * np.arange(3.0)))
    np.testing.assert_allclose(grad(f)(xs), expected(xs))
    np.testing.assert_allclose(jit(grad(f))(xs), expected(xs))
    jvp_out = funcdiff.jvp(f, (xs,), (np.ones(3),))[1]
    assert jvp_out == pytest.approx(float(np.sum(expected(xs))), abs=1e-12)


def test_errors():
    with pytest.raises(NameError, match="unbound axis name: 'k'"):
        vmap(lambda x: lax.psum(x, "k"), axis_name="i")(XS)
    with pytest.raises(NameError, match="unbound axis name"):
        lax.psum(1.0, "i")
    with pytest.raises(NameError, match="unbound axis name"):
        lax.axis_index("i")
    with pytest.raises(ValueError, match="chunk_size"):
        vmap(lambda x: lax.psum(x, "i"), axis_name="i", chunk_size=2)(XS)
    with pytest.raises(TypeError):
        vmap(lambda x: x, axis_name=["unhashable"])
    with pytest.raises(NotImplementedError, match="axis_index_groups"):
        vmap(lambda x: lax.psum(x, "i", axis_index_groups=[[0, 1]]), axis_name="i")(XS)
    # a jitted function with a collective runs only where its axis is bound
    f = jit(lambda x: x * lax.psum(1.0, "i"))
    np.testing.assert_allclose(vmap(f, axis_name="i")(np.ones(3)), 3.0)
    with pytest.raises(NameError, match="unbound axis name"):
        f(np.ones(3))


def test_collectives_inside_control_flow_and_solvers():
    def body(x):
        return lax.cond(x > 0, lambda: lax.psum(x, "i"), lambda: -lax.psum(x, "i"))

    out = vmap(body, axis_name="i")(np.array([1.0, -2.0, 4.0]))
    np.testing.assert_allclose(out, [3.0, -3.0, 3.0])
    scanned = vmap(
        lambda x: lax.scan(lambda c, _: (c + lax.psum(x, "i"), None), 0.0, None, length=2)[0],
        axis_name="i",
    )(np.array([1.0, 2.0]))
    np.testing.assert_allclose(scanned, [6.0, 6.0])


def test_collectives_inside_custom_derivative_functions():
    @funcdiff.custom_jvp
    def total(x):
        return lax.psum(x, "i")

    total.defjvp(lambda p, t: (total(p[0]), lax.psum(t[0], "i")))
    xs = np.arange(3.0)
    for f in (total, jit(total)):
        np.testing.assert_allclose(vmap(f, axis_name="i")(xs), [3.0, 3.0, 3.0])
    np.testing.assert_allclose(vmap(grad(total), axis_name="i")(xs), [3.0, 3.0, 3.0])

    @funcdiff.custom_vjp
    def squares(x):
        return lax.psum(x * x, "i")

    squares.defvjp(lambda x: (squares(x), x), lambda x, g: (lax.psum(2 * x * g, "i"),))
    np.testing.assert_allclose(vmap(squares, axis_name="i")(xs), [5.0, 5.0, 5.0])

    # a vmap of the user's own inside the function is unnamed: psum still means the outer axis
    @funcdiff.custom_jvp
    def rows(x):
        return vmap(lambda y: lax.psum(y, "i"))(x)

    rows.defjvp(lambda p, t: (rows(p[0]), t[0]))
    x = np.arange(6.0).reshape(3, 2)
    np.testing.assert_allclose(vmap(rows, axis_name="i")(x), np.tile(x.sum(0), (3, 1)))


PER_ELEMENT = {
    "psum": lambda x: lax.psum(x * x, "i"),
    "pmean": lambda x: lax.pmean(jnp.sin(x), "i") * x,
    "pmax": lambda x: lax.pmax(x * x, "i"),
    "all_gather": lambda x: lax.all_gather(x * x, "i")[0] + lax.all_gather(x, "i").sum(),
    "constant": lambda x: lax.psum(2.0, "i") * x + lax.pmax(1.0, "i"),
    "axis_index": lambda x: x * lax.axis_index("i") + lax.axis_size("i"),
}


@pytest.mark.parametrize("name", list(PER_ELEMENT))
def test_every_composition_of_jit_grad_and_vmap_agrees(name):
    f = PER_ELEMENT[name]
    xs = np.array([0.5, -1.0, 2.0])
    expected = vmap(grad(f), axis_name="i")(xs)
    compositions = {
        "jit(vmap(grad))": jit(vmap(grad(f), axis_name="i")),
        "vmap(jit(grad))": vmap(jit(grad(f)), axis_name="i"),
        "vmap(grad(jit))": vmap(grad(jit(f)), axis_name="i"),
    }
    for label, fn in compositions.items():
        np.testing.assert_allclose(fn(xs), expected, rtol=1e-12, err_msg=label)
    # forward mode seeds every element's tangent at once, so it differs from reverse mode
    # through a collective (as in JAX); it agrees with itself under jit
    forward = vmap(funcdiff.jacfwd(f), axis_name="i")(xs)
    for fn in (
        jit(vmap(funcdiff.jacfwd(f), axis_name="i")),
        vmap(jit(funcdiff.jacfwd(f)), axis_name="i"),
    ):
        np.testing.assert_allclose(fn(xs), forward, rtol=1e-12)
    if name == "psum":  # d/dt psum((x + t)^2) at t = 0 is 2 * sum(x), for every element
        np.testing.assert_allclose(forward, np.full(3, 2 * xs.sum()))
        np.testing.assert_allclose(expected, 3 * 2 * xs)
    values = vmap(f, axis_name="i")(xs)
    np.testing.assert_allclose(jit(vmap(f, axis_name="i"))(xs), values, rtol=1e-12)
    np.testing.assert_allclose(vmap(jit(f), axis_name="i")(xs), values, rtol=1e-12)
    # grad outside the vmap, of the sum of every element's value, is the same sum of
    # derivatives as psum's transpose gives inside (JAX's semantics)
    outside = grad(lambda xs: jnp.sum(vmap(f, axis_name="i")(xs)))(xs)
    np.testing.assert_allclose(outside, expected, rtol=1e-12)


def test_collectives_in_branches_under_grad():
    xs = np.array([0.5, -1.0, 2.0])
    f = lambda x: lax.cond(x > 0, lambda: lax.psum(x * x, "i"), lambda: -lax.psum(x, "i"))
    np.testing.assert_allclose(vmap(f, axis_name="i")(xs), [5.25, -1.5, 5.25])
    # JAX's values: under vmap the transposed cond runs both branches' transposes for every
    # element, each psum summing the 3 unit cotangents, then selects: 3 * 2x or -3
    for fn in (
        vmap(grad(f), axis_name="i"),
        jit(vmap(grad(f), axis_name="i")),
        vmap(grad(jit(f)), axis_name="i"),
    ):
        np.testing.assert_allclose(fn(xs), [3.0, -3.0, 12.0])
    # the gradient of the total, outside the vmap, is the true one: d(2 sum x^2 - sum x)
    total = grad(lambda xs: jnp.sum(vmap(f, axis_name="i")(xs)))
    np.testing.assert_allclose(total(xs), 4 * xs - 1)
    np.testing.assert_allclose(jit(total)(xs), 4 * xs - 1)


def test_ppermute_and_psum_scatter():
    xs = np.array([10.0, 20.0, 30.0])
    rotate = lambda x: lax.ppermute(x, "i", [(0, 1), (1, 2), (2, 0)])
    _in_every_order(rotate, xs, [30.0, 10.0, 20.0])
    # destinations not listed get zeros (JAX's documented rule)
    np.testing.assert_array_equal(
        vmap(lambda x: lax.ppermute(x, "i", [(0, 2)]), axis_name="i")(xs), [0.0, 0.0, 10.0]
    )
    # the transpose is the inverse permutation: JAX's values
    f = lambda x: lax.ppermute(x * x, "i", [(0, 1), (1, 2), (2, 0)]) * lax.axis_index("i")
    for fn in (
        vmap(grad(f), axis_name="i"),
        jit(vmap(grad(f), axis_name="i")),
        vmap(grad(jit(f)), axis_name="i"),
    ):
        np.testing.assert_allclose(fn(np.array([1.0, 2.0, 3.0])), [2.0, 8.0, 0.0])
    with pytest.raises(ValueError, match="distinct sources"):
        vmap(lambda x: lax.ppermute(x, "i", [(0, 1), (0, 2)]), axis_name="i")(xs)
    x = np.arange(9.0).reshape(3, 3)  # element i holds row i
    _in_every_order(lambda r: lax.psum_scatter(r, "i"), x, x.sum(0))
    tiled = vmap(lambda r: lax.psum_scatter(np.arange(6.0) * r[0], "i", tiled=True), axis_name="i")(
        x
    )
    np.testing.assert_array_equal(tiled, np.arange(6.0).reshape(3, 2) * 9.0)
    # its transpose is all_gather: every element's piece of the cotangent comes back
    g = vmap(grad(lambda r: jnp.sum(lax.psum_scatter(r * r, "i"))), axis_name="i")(x)
    np.testing.assert_allclose(g, 2 * x)
    with pytest.raises(ValueError, match="the axis size 3"):
        vmap(lambda r: lax.psum_scatter(r[:2], "i"), axis_name="i")(x)


# Programs called inside the vmap on an operand the whole batch shares (not mapped): a jitted
# function, or a loop, whose collectives must still run in the vmap (they used to run as the
# compiled program, outside it, and raise NameError; cond and one-step loops did so from
# their second call). Values as JAX gives them.
_SHARED = np.array([1.0, 2.0])
_pos = lambda r: r * lax.axis_index("i")  # noqa: E731
_rotate = lambda r: lax.ppermute(r, "i", [(0, 1), (1, 2), (2, 0)])  # noqa: E731
_IN_SHARED = {
    "jit": (jit(_pos), [[0, 0], [1, 2], [2, 4]]),
    "jit of ppermute": (jit(_rotate), [[1, 2]] * 3),
    "jit of psum": (jit(lambda r: lax.psum(r, "i")), [[3, 6]] * 3),
    "cond": (lambda r: lax.cond(r[0] > 0, _pos, lambda r: r, r), [[0, 0], [1, 2], [2, 4]]),
    "scan": (lambda r: lax.scan(lambda c, _: (_rotate(c) + c, None), r, None, length=3)[0],
             [[8, 16]] * 3),
    "while": (lambda r: lax.while_loop(lambda c: c[0] < lax.axis_index("i"),
                                       lambda c: (c[0] + 1, _pos(c[1]) + 1), (0, r))[1],
              [[1, 2], [2, 3], [7, 11]]),
    "map in jit": (jit(lambda r: lax.map(_pos, r)), [[0, 0], [1, 2], [2, 4]]),
    "checkpoint": (funcdiff.checkpoint(_pos), [[0, 0], [1, 2], [2, 4]]),
}


@pytest.mark.parametrize("name", list(_IN_SHARED))
def test_programs_on_an_operand_the_batch_shares(name):
    fn, expected = _IN_SHARED[name]
    for _ in range(3):  # the later calls run what the first one cached
        out = vmap(lambda _, r: fn(r), in_axes=(0, None), axis_name="i")(np.zeros(3), _SHARED)
        np.testing.assert_array_equal(out, expected)


def test_jit_on_a_shared_operand_in_nested_named_axes():
    # batched along the outer axis "j", shared along the inner "i"
    g = jit(lambda r: lax.psum(r * lax.axis_index("i"), "j") + lax.axis_index("j"))
    xs = np.arange(4.0).reshape(2, 2)
    inner = lambda x: vmap(lambda _, r: g(r), in_axes=(0, None), axis_name="i")(np.zeros(3), x)  # noqa: E731
    out = vmap(inner, axis_name="j")(xs)
    expected = [[[0, 0], [2, 4], [4, 8]], [[1, 1], [3, 5], [5, 9]]]  # (JAX's values)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(vmap(inner, axis_name="j")(xs), expected)
