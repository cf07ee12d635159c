"""cond/switch, while_loop/fori_loop, scan/map: values, derivatives in both modes, batching,
jit, and errors."""

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import grad, jit, jvp, lax, vmap
from funcdiff._src import core
from funcdiff.test_util import check_grads, check_vmap

rng = np.random.default_rng(0)


def piecewise(x):
    return lax.cond(x > 0, lambda x: jnp.sin(x) * x, lambda x: -(x**3), x)


def test_cond_values_and_derivatives():
    for x in (1.3, -0.7):
        assert np.isclose(piecewise(x), np.sin(x) * x if x > 0 else -(x**3))
        check_grads(piecewise, (x,), order=2)
        assert np.isclose(jit(piecewise)(x), piecewise(x))
        assert np.isclose(jit(grad(piecewise))(x), grad(piecewise)(x))


def test_cond_in_the_ir_has_both_branches():
    text = str(funcdiff.make_jaxpr(piecewise)(1.0))
    assert "cond[branches=(" in text and "sin" in text and "integer_pow[y=3]" in text


def test_cond_with_pytrees_and_closures():
    w = np.array([1.0, 2.0])

    def f(p, flag):
        return lax.cond(flag, lambda p: {"y": p["a"] * w}, lambda p: {"y": p["a"] - w}, p)

    p = {"a": np.array([3.0, 4.0])}
    np.testing.assert_allclose(f(p, True)["y"], [3.0, 8.0])
    np.testing.assert_allclose(f(p, False)["y"], [2.0, 2.0])
    g = grad(lambda w_: jnp.sum(lax.cond(True, lambda a: a * w_, lambda a: a, p["a"])))(w)
    np.testing.assert_allclose(g, p["a"])


def test_switch_clamps_the_index_and_differentiates():
    branches = [lambda x: x, lambda x: x**2, lambda x: jnp.exp(x)]
    for i, expected in [(-4, 1.0), (1, 2 * 1.5), (2, np.exp(1.5)), (9, np.exp(1.5))]:
        assert np.isclose(grad(lambda x: lax.switch(i, branches, x))(1.5), expected)


def test_batched_predicate_selects_per_element():
    xs = np.array([-1.5, 0.5, 2.0])
    check_vmap(piecewise, (xs,))
    np.testing.assert_allclose(vmap(grad(piecewise))(xs), [grad(piecewise)(x) for x in xs])
    check_vmap(lambda x, i: lax.switch(i, [jnp.sin, jnp.cos, jnp.tanh], x),
               (xs, np.array([0, 2, 1])))


def test_branch_output_mismatch_is_an_error():
    with pytest.raises(TypeError, match=r"f64\[2\].*f64\[3\]"):
        lax.cond(True, lambda x: x[:2], lambda x: x, np.ones(3))


def test_while_loop_forward_mode_and_batching():
    def f(x):
        return lax.while_loop(lambda c: c[0] < 5, lambda c: (c[0] + 1, c[1] * x + 1.0),
                              (0, 1.0))[1]

    assert np.isclose(f(2.0), 63.0)
    check_grads(f, (1.1,), order=2, modes=("fwd",))
    assert np.isclose(jvp(f, (2.0,), (1.0,))[1], funcdiff.jacfwd(f)(2.0))
    check_vmap(lambda x: lax.while_loop(lambda c: c < x, lambda c: c * 2.0, 1.0),
               (np.array([0.5, 3.0, 100.0]),))
    assert jit(f)(2.0) == 63.0


def test_while_loop_reverse_mode_error_suggests_scan():
    f = lambda x: lax.while_loop(lambda c: c < 10.0, lambda c: c * x, 1.0)
    with pytest.raises(TypeError, match="fori_loop.*scan"):
        grad(f)(2.0)


def test_while_loop_carry_type_errors():
    with pytest.raises(TypeError, match="carry"):
        lax.while_loop(lambda c: c < 3, lambda c: (c, c), 0)
    with pytest.raises(TypeError, match="f32.*f64|f64.*f32"):
        lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1].astype(np.float32)),
                       (0, np.float64(1.0)))
    with pytest.raises(TypeError, match="boolean scalar"):
        lax.while_loop(lambda c: c, lambda c: c, 1.0)


def test_fori_loop_static_bounds_is_reverse_differentiable():
    power = lambda x: lax.fori_loop(0, 4, lambda i, acc: acc * x + i, 1.0)
    check_grads(power, (0.7,), order=2)
    assert np.isclose(jit(grad(power))(0.7), grad(power)(0.7))
    # Traced bounds give a while loop: forward mode only.
    dyn = jit(lambda x, n: lax.fori_loop(0, n, lambda i, acc: acc * x, 1.0))
    assert dyn(2.0, 5) == 32.0


def running(xs, w):
    def step(c, x):
        c = jnp.tanh(c * w + x)
        return c, c * x

    return lax.scan(step, np.zeros(2), xs)


def test_scan_values_and_derivatives():
    xs, w = rng.normal(size=(5, 2)), rng.normal(size=2)
    carry, ys = running(xs, w)
    c, expected = np.zeros(2), []
    for x in xs:
        c = np.tanh(c * w + x)
        expected.append(c * x)
    np.testing.assert_allclose(carry, c)
    np.testing.assert_allclose(ys, np.stack(expected))
    f = lambda xs, w: jnp.sum(running(xs, w)[0]) + jnp.sum(running(xs, w)[1] ** 2)
    check_grads(f, (xs, w), order=2)
    np.testing.assert_allclose(jit(grad(f, argnums=(0, 1)))(xs, w)[1],
                               grad(f, argnums=(0, 1))(xs, w)[1])


def test_scan_reverse_and_map():
    xs = np.arange(1.0, 5.0)
    total, partial = lax.scan(lambda c, x: (c + x, c + x), 0.0, xs, reverse=True)
    assert total == 10.0
    np.testing.assert_allclose(partial, [10.0, 9.0, 7.0, 4.0])
    np.testing.assert_allclose(lax.map(lambda x: x**2, xs), xs**2)
    check_grads(lambda xs: lax.scan(lambda c, x: (c * x, c), 1.0, xs, reverse=True)[0], (xs,),
                order=2)


def test_scan_batching():
    xs, w = rng.normal(size=(3, 5, 2)), rng.normal(size=2)
    check_vmap(lambda xs: running(xs, w), (xs,))
    check_vmap(running, (xs[0], rng.normal(size=(4, 2))), (None, 0))


def test_reverse_mode_of_scan_stores_residuals_not_a_graph():
    xs = rng.normal(size=(6, 3))
    jaxpr = funcdiff.make_jaxpr(grad(lambda xs: jnp.sum(running(xs, np.ones(2) * 0.5)[0])))
    names = [e.primitive.name for e in jaxpr(xs[:, :2]).eqns]
    assert names.count("scan") == 2  # a forward scan (saving residuals) and its transpose
    core.typecheck_jaxpr(jaxpr(xs[:, :2]).jaxpr)


def test_scan_length_errors():
    with pytest.raises(ValueError, match="inconsistent lengths"):
        lax.scan(lambda c, x: (c, x), 0.0, (np.ones(3), np.ones(4)))
    with pytest.raises(TypeError, match="pair"):
        lax.scan(lambda c, x: c, 0.0, np.ones(3))


# ---- loop index and carry types, as in JAX (jax_enable_x64) ---------------------------------


def assert_strong(x, value, dtype):
    """`x` is a NumPy value (not a weakly typed Python scalar) equal to `value`, of `dtype`."""
    assert isinstance(x, np.ndarray | np.generic) and not core.get_aval(x).weak_type
    assert x.dtype == dtype and x == value


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.float64, np.int64])
def test_fori_loop_index_is_weak_for_python_bounds(dtype):
    seen = []

    def f(c):
        return lax.fori_loop(0, 3, lambda i, c: seen.append(core.get_aval(i)) or c + i, c)

    for run in (f, jit(f)):
        assert_strong(run(dtype(1)), 4, dtype)
    assert seen and all(a.weak_type and a.dtype == np.int64 for a in seen)


def test_fori_loop_index_has_the_dtype_of_numpy_bounds():
    seen = []
    body = lambda i, c: seen.append(core.get_aval(i)) or c + i
    assert_strong(lax.fori_loop(np.int32(0), np.int32(3), body, np.int32(1)), 4, np.int32)
    assert seen and all(a == core.ShapedArray((), np.int32) for a in seen)
    with pytest.raises(TypeError, match="fori_loop: lower and upper must be integers"):
        lax.fori_loop(0, 3.0, body, 1.0)


def test_fori_loop_float32_carry_transforms():
    # ((x x + 0) x + 1) x + 2 = x^4 + x + 2: derivative 4 x^3 + 1.
    f = lambda x: lax.fori_loop(0, 3, lambda i, c: c * x + i, x)
    x = np.float32(2.0)
    assert_strong(f(x), 20.0, np.float32)
    assert_strong(grad(f)(x), 33.0, np.float32)
    assert_strong(jit(grad(f))(x), 33.0, np.float32)
    out, t = jvp(f, (x,), (np.float32(1.0),))
    assert_strong(out, 20.0, np.float32)
    assert_strong(t, 33.0, np.float32)
    ys = vmap(f)(np.array([1.0, 2.0], np.float32))
    assert ys.dtype == np.float32
    np.testing.assert_allclose(ys, [4.0, 20.0])
    # Traced bounds: a while loop, with the same index.
    g = jit(lambda x, n: lax.fori_loop(0, n, lambda i, c: c * x + i, x))
    assert_strong(g(x, 3), 20.0, np.float32)
    assert_strong(jvp(lambda x: g(x, 3), (x,), (np.float32(1.0),))[1], 33.0, np.float32)


def test_weak_initial_carry_takes_the_body_dtype():
    for run in (lambda f: f(), lambda f: jit(f)()):
        assert_strong(run(lambda: lax.fori_loop(0, 3, lambda i, c: c + 1.5, 0)), 4.5,
                      np.float64)
        assert_strong(run(lambda: lax.while_loop(lambda c: c < 3, lambda c: c + 1.5, 0)), 3.0,
                      np.float64)
        assert_strong(run(lambda: lax.scan(lambda c, x: (c + x, None), 0.0,
                                           np.ones(3, np.float32))[0]), 3.0, np.float32)
        # A weak leaf of a pytree carry, next to a strong one.
        _, b = run(lambda: lax.fori_loop(0, 3, lambda i, c: (c[0] + 1, c[1] + 1.5),
                                         (np.float32(0), 0)))
        assert_strong(b, 4.5, np.float64)
    # The index, carried from a Python int: a weak int64, as in JAX (with x64).
    out = lax.fori_loop(0, 3, lambda i, c: i, 0)
    assert out == 2 and core.get_aval(out).weak_type and core.get_aval(out).dtype == np.int64


def test_weak_carry_whose_dtype_the_body_keeps_stays_weak():
    # As in JAX (with x64): a Python int carried through ``c + 1`` stays a weak int, so the
    # body sees a Python scalar on every step and ``x * c`` keeps the dtype of ``x``; its final
    # value combines with a float32 as a Python int would.
    xs = np.arange(3.0, dtype=np.float32)
    for run in (lambda f: f(), lambda f: jit(f)()):
        c, ys = run(lambda: lax.scan(lambda c, x: (c + 1, x * c), 0, xs))
        assert c == 3 and ys.dtype == np.float32
        np.testing.assert_array_equal(ys, [0.0, 1.0, 4.0])
        c, ys = run(lambda: lax.scan(lambda c, x: (c + 1, c), 0, xs))
        assert c == 3 and ys.dtype == np.int64
        np.testing.assert_array_equal(ys, [0, 1, 2])
        c, y = run(lambda: lax.fori_loop(0, 3, lambda i, c: (c[0] + 1, c[1] * c[0]),
                                         (0, np.float32(1))))
        assert c == 3 and y == 0.0 and np.asarray(y).dtype == np.float32
        w = run(lambda: lax.while_loop(lambda c: c[0] < 3,
                                       lambda c: (c[0] + 1, c[1] + c[0]), (0, np.float32(1))))
        assert w[0] == 3 and w[1] == 4.0 and np.asarray(w[1]).dtype == np.float32
        c, _ = run(lambda: lax.scan(lambda c, x: (c + 1, x), 0, xs, unroll=2))
        assert c == 3
    # Eagerly the weak carry comes back as a Python int (funcdiff's weak scalars), which adds
    # to a float32 as JAX's weak int does.
    c, _ = lax.scan(lambda c, x: (c + 1, x), 0, xs)
    assert core.get_aval(c).weak_type and core.get_aval(c).dtype == np.int64
    assert np.asarray(c + np.float32(1)).dtype == np.float32
    # A weak float carry kept weak, differentiated through a strong value.
    g = grad(lambda s: jnp.sum(lax.scan(lambda c, x: (c * 2.0, c * x * s), 1.0, xs)[1]))(1.0)
    assert g == 10.0
    np.testing.assert_allclose(
        vmap(lambda x: lax.scan(lambda c, x: (c + 1, x * c), 0, x)[1])(np.ones((2, 3))),
        [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]])


def test_weak_initial_carry_promotion_under_transformations():
    f = lambda x: lax.fori_loop(0, 3, lambda i, c: c + x, 0)
    assert_strong(f(1.5), 4.5, np.float64)
    assert_strong(grad(f)(1.5), 3.0, np.float64)
    assert_strong(jit(grad(f))(1.5), 3.0, np.float64)
    ys = vmap(f)(np.array([1.0, 2.0], np.float32))
    assert ys.dtype == np.float32
    np.testing.assert_allclose(ys, [3.0, 6.0])
    w = lambda x: lax.while_loop(lambda c: c < 3, lambda c: c + x, 0)
    out, t = jvp(w, (1.5,), (1.0,))
    assert_strong(out, 3.0, np.float64)
    assert_strong(t, 2.0, np.float64)
    np.testing.assert_allclose(vmap(w)(np.array([1.5, 2.0])), [3.0, 4.0])
    s = lambda x: lax.scan(lambda c, _: (c * x, None), 1, length=3)[0]
    assert_strong(grad(s)(2.0), 12.0, np.float64)


def test_strong_carry_mismatch_still_raises():
    with pytest.raises(TypeError, match=r"init_val as f32\[\], but it enters the loop as f64"):
        lax.fori_loop(0, 3, lambda i, c: c.astype(np.float32), np.float64(1))
    with pytest.raises(TypeError, match=r"carry init as i64\[\].*f32"):
        lax.scan(lambda c, x: (c.astype(np.int64), None), np.float32(0), length=2)


def test_fori_loop_carry_errors_name_the_users_carry():
    init = (np.float64(1), {"w": np.float64(2)})
    with pytest.raises(TypeError) as e:
        lax.fori_loop(0, 3, lambda i, c: (c[0], {"w": c[1]["w"].astype(np.float32)}), init)
    msg = str(e.value)
    assert msg.startswith("fori_loop: body_fun returned the carry init_val[1]['w'] as f32[]")
    assert "scan" not in msg and "leaf" not in msg and "i64" not in msg  # no hidden index
    with pytest.raises(TypeError, match=r"fori_loop: body_fun must return a carry with the "
                                        r"structure of init_val"):
        lax.fori_loop(0, 3, lambda i, c: c[0], init)
    # Traced bounds (a while loop) speak of fori_loop too.
    with pytest.raises(TypeError, match=r"fori_loop: body_fun returned the carry init_val\[0\]"):
        jit(lambda n: lax.fori_loop(0, n, lambda i, c: (c[0].astype(np.float32), c[1]), init))(3)
    with pytest.raises(TypeError, match=r"while_loop: body_fun returned the carry init_val\[1\]"):
        lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0], c[1].astype(np.int64)),
                       (np.float64(1), np.float64(2)))


def test_fori_loop_traced_bounds_reverse_mode_error_suggests_static_bounds():
    pattern = "fori_loop with traced bounds.*static.*scan"
    eager = lambda x: lax.fori_loop(0, (x > 0).astype(np.int64) * 3, lambda i, c: c * x, x)
    with pytest.raises(TypeError, match=pattern):
        funcdiff.make_jaxpr(grad(eager))(2.0)
    inner = jit(lambda n, x: lax.fori_loop(0, n, lambda i, c: c * x, x))
    with pytest.raises(TypeError, match=pattern):
        grad(lambda x: inner(3, x))(2.0)
    assert jvp(lambda x: inner(3, x), (2.0,), (1.0,))[1] == 32.0  # forward mode works


@pytest.mark.parametrize("bounds", [(np.int32(1), np.int32(5)), (np.int64(1), 5),
                                    (1, np.int16(5))], ids=["int32", "int64-python", "int16"])
def test_fori_loop_numpy_int_bounds_is_reverse_differentiable(bounds):
    lo, hi = bounds
    power = lambda x: lax.fori_loop(lo, hi, lambda i, acc: acc * x + i, 1.0)  # noqa: E731
    # acc_{i+1} = acc_i * x + i for i = 1..4, from acc = 1.
    expected = lambda x: (((x + 1) * x + 2) * x + 3) * x + 4  # noqa: E731
    assert np.isclose(power(0.7), expected(0.7))
    assert np.isclose(grad(power)(0.7), grad(expected)(0.7))
    assert np.isclose(jit(grad(power))(0.7), grad(expected)(0.7))
    _, pullback = funcdiff.vjp(power, 0.7)
    assert np.isclose(pullback(1.0)[0], grad(expected)(0.7))
    check_grads(power, (0.7,), order=2)
    np.testing.assert_allclose(vmap(grad(power))(np.array([0.3, 0.7])),
                               [grad(expected)(0.3), grad(expected)(0.7)])


def _tree_step(w):
    def step(c, x):
        c = jnp.tanh(c * w + x["a"]) + x["b"]
        return c, {"y": c * x["a"], "s": jnp.sum(c)}

    return step


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("unroll", [2, 3, 7, 10, True, False])
def test_scan_unroll_gives_identical_results(unroll, reverse):
    xs = {"a": rng.normal(size=(7, 2)), "b": rng.normal(size=7)[:, None]}
    w = rng.normal(size=2)

    def run(xs, w, unroll):
        return lax.scan(_tree_step(w), np.zeros(2), xs, reverse=reverse, unroll=unroll)

    def loss(xs, w, unroll):
        carry, ys = run(xs, w, unroll)
        return jnp.sum(carry**2) + jnp.sum(ys["y"] ** 2) + jnp.sum(jnp.sin(ys["s"]))

    plain, unrolled = run(xs, w, 1), run(xs, w, unroll)
    # The same operations in the same order: equal to the last bit.
    for a, b in zip(funcdiff.tree_util.tree_leaves(plain),
                    funcdiff.tree_util.tree_leaves(unrolled)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(funcdiff.tree_util.tree_leaves(jit(run, static_argnums=2)(xs, w, unroll)),
                    funcdiff.tree_util.tree_leaves(plain)):
        np.testing.assert_allclose(a, b, rtol=1e-14)
    g_plain = grad(loss, argnums=(0, 1))(xs, w, 1)
    g_unrolled = grad(loss, argnums=(0, 1))(xs, w, unroll)
    for a, b in zip(funcdiff.tree_util.tree_leaves(g_plain),
                    funcdiff.tree_util.tree_leaves(g_unrolled)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    check_grads(lambda xs, w: loss(xs, w, unroll), (xs, w), order=2, modes=("rev",))
    batch = {"a": rng.normal(size=(3, 7, 2)), "b": rng.normal(size=(3, 7, 1))}
    check_vmap(lambda xs: run(xs, w, unroll), (batch,))


def test_scan_unroll_traces_the_body_k_times_and_keeps_carry_types():
    body = lambda c, x: (c * x + 1, c)  # noqa: E731
    xs = np.arange(1.0, 8.0)
    sins = lambda u: str(funcdiff.make_jaxpr(  # noqa: E731
        lambda xs: lax.scan(lambda c, x: (jnp.sin(c) * x, c), 0.5, xs, unroll=u))(xs)
    ).count("sin")
    # Three steps per iteration over 2 chunks, then one plain loop step for the 7th slice.
    assert sins(3) == 4 and sins(1) == 1 and sins(True) == 7
    # A weak (Python scalar) initial carry takes the body's dtype, unrolled or not.
    for u in (1, 2):
        carry, ys = lax.scan(lambda c, x: (c + 1.5 * x, c), 0, xs, unroll=u)
        assert carry.dtype == np.float64 and ys.dtype == np.float64
        carry32, _ = lax.scan(body, np.float32(1), xs.astype(np.float32), unroll=u)
        assert carry32.dtype == np.float32
    # xs=None with a length, and a length-0 scan.
    assert list(lax.scan(lambda c, _: (c + 1, c), 0, None, length=5, unroll=2)[1]) == [
        0, 1, 2, 3, 4]
    assert lax.scan(body, 1.0, np.zeros(0), unroll=3)[0] == 1.0
    # Accepted for JAX compatibility.
    assert lax.scan(body, 1.0, xs, _split_transpose=True)[0] == lax.scan(body, 1.0, xs)[0]


@pytest.mark.parametrize("unroll", [0, -1, 1.5, "2"])
def test_scan_unroll_errors(unroll):
    with pytest.raises(ValueError, match="unroll must be a positive int or a bool"):
        lax.scan(lambda c, x: (c + x, c), 0.0, np.ones(3), unroll=unroll)


@pytest.mark.parametrize("batch_size", [1, 2, 3, 7, 10])
def test_map_batch_size_equals_the_unbatched_map(batch_size):
    xs = {"u": rng.normal(size=(7, 3)), "v": rng.normal(size=7)}
    w = rng.normal(size=(3, 2))

    def f(x):
        h = jnp.tanh(x["u"] @ w) * x["v"]
        return {"h": h, "n": jnp.sum(h**2)}

    def run(xs, w_scale, batch_size):
        return lax.map(lambda x: f({"u": x["u"] * w_scale, "v": x["v"]}), xs,
                       batch_size=batch_size)

    expected = run(xs, 1.0, None)
    np.testing.assert_allclose(expected["h"], np.stack(
        [np.tanh(xs["u"][i] @ w) * xs["v"][i] for i in range(7)]))
    for a, b in zip(funcdiff.tree_util.tree_leaves(run(xs, 1.0, batch_size)),
                    funcdiff.tree_util.tree_leaves(expected)):
        np.testing.assert_allclose(a, b, rtol=1e-13)
    got_jit = jit(run, static_argnums=2)(xs, 1.0, batch_size)
    np.testing.assert_allclose(got_jit["h"], expected["h"], rtol=1e-13)
    loss = lambda xs, s, b: jnp.sum(run(xs, s, b)["h"] ** 3) + jnp.sum(  # noqa: E731
        jnp.sin(run(xs, s, b)["n"]))
    g, g_expected = grad(loss, argnums=(0, 1))(xs, 0.8, batch_size), \
        grad(loss, argnums=(0, 1))(xs, 0.8, None)
    for a, b in zip(funcdiff.tree_util.tree_leaves(g), funcdiff.tree_util.tree_leaves(
            g_expected)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    check_grads(lambda xs, s: loss(xs, s, batch_size), (xs, 0.8), order=2)
    batch = {"u": rng.normal(size=(2, 7, 3)), "v": rng.normal(size=(2, 7))}
    check_vmap(lambda xs: run(xs, 1.0, batch_size), (batch,))


def test_map_batch_size_runs_f_vectorised_per_batch():
    text = str(funcdiff.make_jaxpr(
        lambda xs: lax.map(lambda x: jnp.sum(x**2), xs, batch_size=3))(np.ones((7, 4))))
    # Two batches of 3 in a scan, then the seventh slice as a batch of one outside it.
    assert text.count("scan[") == 1 and "f64[2,3,4]" in text and "a:f64[3,4]" in text
    assert "f64[1,4] = slice" in text and "concatenate" in text
    assert lax.map(lambda x: x * 2, np.zeros((0, 2)), batch_size=2).shape == (0, 2)
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="batch_size must be a positive int"):
            lax.map(lambda x: x, np.ones(3), batch_size=bad)


@pytest.mark.parametrize("unroll", [2, 3, True, 5, 7])
def test_fori_loop_unroll_runs_several_steps_per_iteration(unroll):
    # JAX's value for this loop (float32, weak index): 37.15625.
    def loop(x, unroll, init=None):
        init = np.float32(1.0) if init is None else init
        return lax.fori_loop(1, 6, lambda i, c: c * x + i, init, unroll=unroll)

    x = np.float32(1.5)
    out = loop(x, unroll)
    assert out == loop(x, None) == 37.15625 and out.dtype == np.float32
    lengths = [e.params["length"] for e in funcdiff.make_jaxpr(lambda x: loop(x, unroll))(
        x).jaxpr.eqns]
    k = min(unroll if unroll is not True else 5, 5)
    assert lengths == [5 // k] + ([5 % k] if 5 % k else [])  # chunks of k steps, the rest
    check_grads(lambda x: loop(x, unroll, 1.0), (1.5,), order=2, modes=("fwd", "rev"))
    assert jit(lambda x: loop(x, unroll))(x) == out
    xs = np.array([1.5, 0.5], np.float32)
    np.testing.assert_array_equal(vmap(lambda x: loop(x, unroll))(xs),
                                  [loop(xs[0], None), loop(xs[1], None)])


def test_fori_loop_unroll_needs_static_bounds():
    with pytest.raises(ValueError, match="unroll needs loop bounds known at trace time"):
        jit(lambda n: lax.fori_loop(0, n, lambda i, c: c + 1.0, 0.0, unroll=2))(3)
    assert lax.fori_loop(0, 0, lambda i, c: c + 1.0, 0.0, unroll=2) == 0.0
