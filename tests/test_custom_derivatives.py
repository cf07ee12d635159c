"""custom_jvp, custom_vjp and checkpoint under every transformation; debugging aids."""

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import grad, jit, jvp, lax, vmap
from funcdiff._src import core
from funcdiff.test_util import check_grads


@funcdiff.custom_jvp
def log1pexp(x):
    return jnp.log1p(jnp.exp(x))


@log1pexp.defjvp
def _log1pexp_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return log1pexp(x), t * funcdiff.nn.sigmoid(x)


@pytest.mark.filterwarnings("ignore:overflow encountered in exp")
def test_stable_log1pexp_everywhere():
    assert grad(log1pexp)(1000.0) == 1.0  # the naive rule gives nan
    assert jit(grad(log1pexp))(1000.0) == 1.0
    np.testing.assert_allclose(vmap(grad(log1pexp))(np.array([0.0, 1000.0])), [0.5, 1.0])
    np.testing.assert_allclose(grad(lambda x: vmap(log1pexp)(x).sum())(np.array([0.0, 1e3])),
                               [0.5, 1.0])
    assert grad(grad(log1pexp))(0.0) == 0.25
    assert jvp(log1pexp, (0.0,), (2.0,))[1] == 1.0
    check_grads(log1pexp, (np.array([-2.0, 0.3, 4.0]),), order=2)


def test_defjvps_and_nondiff_argnums():
    f = funcdiff.custom_jvp(lambda x, y: x * y)
    f.defjvps(lambda t, ans, x, y: t * y * 10, lambda t, ans, x, y: t * x)
    assert grad(f, argnums=(0, 1))(2.0, 3.0) == (30.0, 2.0)

    g = funcdiff.custom_jvp(lambda n, x: x**n, nondiff_argnums=(0,))
    g.defjvp(lambda n, p, t: (g(n, p[0]), n * p[0] ** (n - 1) * t[0] * 2))
    assert grad(lambda x: g(3, x))(2.0) == 24.0


@funcdiff.custom_vjp
def clip_gradient(x):
    return x


clip_gradient.defvjp(lambda x: (x, None), lambda res, g: (jnp.clip(g, -1.0, 1.0),))


def test_gradient_clipping():
    assert grad(lambda x: 5.0 * clip_gradient(x))(2.0) == 1.0
    assert jit(grad(lambda x: 5.0 * clip_gradient(x)))(2.0) == 1.0
    np.testing.assert_allclose(vmap(grad(lambda x: 0.5 * clip_gradient(x)))(np.ones(2)),
                               [0.5, 0.5])
    np.testing.assert_allclose(grad(lambda x: 5 * vmap(clip_gradient)(x).sum())(np.ones(2)),
                               [1.0, 1.0])
    with pytest.raises(TypeError, match="forward-mode"):
        jvp(clip_gradient, (1.0,), (1.0,))


def test_straight_through_estimator():
    ste = funcdiff.custom_vjp(lambda x: jnp.round(x))
    ste.defvjp(lambda x: (jnp.round(x), None), lambda res, g: (g,))
    assert ste(1.3) == 1.0 and grad(lambda x: ste(x) * 3)(1.3) == 3.0
    assert grad(lambda x: jnp.round(x) * 3)(1.3) == 0.0


def fixed_point(f, a, x0):
    """x = f(a, x) by iteration, with the implicit-function-theorem gradient."""

    def solve(a, x0):
        return lax.while_loop(lambda c: jnp.abs(c[1] - c[0]) > 1e-12,
                              lambda c: (c[1], f(a, c[1])), (x0, f(a, x0)))[1]

    @funcdiff.custom_vjp
    def fp(a):
        return solve(a, x0)

    def fwd(a):
        x = solve(a, x0)
        return x, (a, x)

    def bwd(res, g):
        a, x = res
        _, vjp_x = funcdiff.vjp(lambda x: f(a, x), x)
        _, vjp_a = funcdiff.vjp(lambda a: f(a, x), a)
        # w = g + w df/dx, solved by iteration, then the gradient is w df/da.
        w = lax.while_loop(lambda c: jnp.abs(c[1] - c[0]) > 1e-12,
                           lambda c: (c[1], g + vjp_x(c[1])[0]), (g, g + vjp_x(g)[0]))[1]
        return vjp_a(w)

    fp.defvjp(fwd, bwd)
    return fp(a)


def test_implicit_fixed_point_gradient():
    # x = cos(a x) has a fixed point x*(a); dx*/da from the implicit function theorem.
    f = lambda a, x: jnp.cos(a * x)
    a = 0.5
    x = fixed_point(f, a, 0.0)
    assert np.isclose(x, np.cos(a * x))
    expected = -np.sin(a * x) * x / (1 + np.sin(a * x) * a)
    assert np.isclose(grad(lambda a: fixed_point(f, a, 0.0))(a), expected, rtol=1e-9)


def deep_mlp(params, x, block_size=None):
    def block(ws, h):
        for w in ws:
            h = jnp.tanh(h @ w)
        return h

    ws = list(params)
    if block_size:
        for i in range(0, len(ws), block_size):
            x = funcdiff.checkpoint(block)(ws[i:i + block_size], x)
        return jnp.sum(x**2)
    return jnp.sum(block(ws, x) ** 2)


@pytest.mark.parametrize("policy", [None, funcdiff.checkpoint_policies.dots_saveable])
def test_checkpoint_gives_the_same_gradients(policy):
    rng = np.random.default_rng(0)
    params = [rng.normal(size=(6, 6)) / 3 for _ in range(4)]
    x = rng.normal(size=(3, 6))
    expected = grad(deep_mlp)(params, x)
    got = grad(lambda p, x: jnp.sum(funcdiff.checkpoint(
        lambda p, h: _chain(p, h), policy=policy)(p, x) ** 2))(params, x)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, rtol=1e-12)
    got_jit = jit(grad(lambda p, x: deep_mlp(p, x, block_size=2)))(params, x)
    for e, g in zip(expected, got_jit):
        np.testing.assert_allclose(g, e, rtol=1e-12)


def _chain(ws, h):
    for w in ws:
        h = jnp.tanh(h @ w)
    return h


def test_checkpoint_saves_only_block_inputs():
    rng = np.random.default_rng(0)
    params = [rng.normal(size=(5, 5)) for _ in range(4)]
    x = rng.normal(size=(2, 5))
    f = funcdiff.checkpoint(_chain)
    _, linear = funcdiff._src.interpreters.ad.linearize_flat(
        lambda *a: [jnp.sum(f(list(a[:4]), a[4]))], [*params, x], [True] * 5)
    saved = [r for r in linear.residuals() if np.shape(r) == (2, 5)]
    # Without checkpoint every tanh output would be a residual; here only the input is.
    assert len(saved) == 1
    core.typecheck_jaxpr(funcdiff.make_jaxpr(grad(lambda x: jnp.sum(f(params, x))))(x).jaxpr)


# Blocks whose JVP is one equation with both primal and tangent outputs (a higher-order
# primitive): reverse mode must split it rather than treat its primal outputs as tangents.
_HIGHER_ORDER_BLOCKS = {
    "cond": lambda x: jnp.sin(lax.cond(jnp.sum(x) > 0, lambda y: jnp.sin(jnp.sin(y)),
                                       jnp.cos, x)),
    "switch": lambda x: lax.switch(1, [jnp.sin, lambda y: jnp.tanh(jnp.tanh(y)) * 2.0,
                                       jnp.cos], x) * x,
    "scan": lambda x: lax.scan(lambda c, w: (jnp.tanh(c * w), jnp.sin(c)), x,
                               jnp.arange(1.0, 4.0))[0],
    "fori_loop": lambda x: lax.fori_loop(0, 3, lambda i, c: jnp.tanh(c * 1.5), x),
    "map": lambda x: lax.map(lambda y: jnp.sin(jnp.sin(y)), x),
    "jit": jit(lambda x: jnp.sin(jnp.sin(x))),
    "nested_checkpoint": funcdiff.checkpoint(lambda x: jnp.sin(jnp.sin(x))),
}
_POLICIES = [None, funcdiff.checkpoint_policies.everything_saveable,
             funcdiff.checkpoint_policies.dots_saveable]


@pytest.mark.parametrize("policy", _POLICIES, ids=["default", "everything", "dots"])
@pytest.mark.parametrize("name", list(_HIGHER_ORDER_BLOCKS))
def test_checkpoint_of_higher_order_primitives(name, policy):
    block = _HIGHER_ORDER_BLOCKS[name]
    x = np.array([0.3, -0.7, 1.1])
    expected = grad(lambda x: jnp.sum(block(x) ** 2))(x)
    f = lambda x: jnp.sum(funcdiff.checkpoint(block, policy=policy)(x) ** 2)  # noqa: E731
    np.testing.assert_allclose(grad(f)(x), expected, rtol=1e-12)
    np.testing.assert_allclose(jit(grad(f))(x), expected, rtol=1e-12)
    check_grads(f, (x,), order=2)


@pytest.mark.parametrize("name", list(_HIGHER_ORDER_BLOCKS))
def test_checkpoint_of_higher_order_primitives_saves_only_block_inputs(name):
    x = np.array([0.3, -0.7, 1.1])
    f = funcdiff.checkpoint(_HIGHER_ORDER_BLOCKS[name])
    _, linear = funcdiff._src.interpreters.ad.linearize_flat(
        lambda x: [jnp.sum(f(x) ** 2)], [x], [True])
    # The block's input, its output (for the square) and the scan's constant `xs`: the
    # primal half of the higher-order equation is recomputed, not saved.
    assert len(linear.residuals()) == (3 if name == "scan" else 2)


def test_debug_print_inside_transformations(capsys):
    @jit
    def f(x):
        y = jnp.sin(x)
        funcdiff.debug.print("y = {y:.3f} at {}", "x", y=y)
        return y * 2

    f(1.0)
    grad(f)(1.0)
    vmap(f)(np.array([1.0, 2.0]))
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["y = 0.841 at x"] * 3 + ["y = 0.909 at x"]


def test_debug_nans_forward_and_backward():
    with funcdiff.debug_nans(), np.errstate(invalid="ignore", divide="ignore"):
        with pytest.raises(FloatingPointError, match=r"'log'.*test_custom_derivatives.py"):
            jit(lambda x: jnp.log(x) * 2)(-1.0)
        with pytest.raises(FloatingPointError, match="NaN produced by primitive"):
            # sqrt(0) is fine forward; its derivative 0.5/sqrt(0) * 0 is a NaN backward.
            grad(lambda x: jnp.sqrt(x * 0.0))(1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        assert np.isnan(grad(lambda x: jnp.sqrt(x * 0.0))(1.0))  # off: no error


def test_debug_nans_names_the_line_of_the_nan_not_of_an_earlier_program():
    def f(x):
        return jnp.log(x)  # the NaN's line

    line = f.__code__.co_firstlineno + 1
    with funcdiff.debug_nans(), np.errstate(invalid="ignore", divide="ignore"):
        grad(lambda x: jnp.sin(x) * 2)(1.0)  # evaluates programs, no NaN
        jit(lambda x: jnp.cos(x))(1.0)
        with pytest.raises(FloatingPointError, match=rf"test_custom_derivatives.py:{line}\b"):
            f(-1.0)


def test_disable_jit_runs_eagerly():
    f = jit(lambda x: float(x) + 1.0)
    with pytest.raises(funcdiff.ConcretizationTypeError):
        f(1.0)
    with funcdiff.disable_jit():
        assert f(1.0) == 2.0


# ---- custom rules run eagerly, as in JAX ------------------------------------------------------


def _counted_abs():
    """A custom_jvp absolute value written with Python control flow, counting its calls."""
    calls = []

    @funcdiff.custom_jvp
    def f(x):
        calls.append("f")
        return x if x > 0 else -x

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        calls.append("rule")
        return f(x), t * (1.0 if x > 0 else -1.0) * 10.0  # 10x marks the rule's tangent

    return f, calls


def test_custom_jvp_runs_python_control_flow_on_concrete_values():
    f, calls = _counted_abs()
    assert f(-2.0) == 2.0 and f(3.0) == 3.0
    assert calls == ["f", "f"]  # the function itself, once per call, never traced
    calls.clear()
    assert jvp(f, (-2.0,), (1.0,)) == (2.0, -10.0)
    assert calls == ["rule", "f"]  # the rule on the concrete primal, the function once
    calls.clear()
    assert grad(f)(-2.0) == -10.0 and grad(f)(4.0) == 10.0
    assert calls == ["rule", "f"] * 2
    # Second order: (f(x) x)'' = 2 f'(x) with the rule's f' = -10 (the rule's own derivative
    # is the constant sign factor's, zero).
    assert grad(grad(lambda x: f(x) * x))(-3.0) == -20.0
    # As in JAX, a Python `if` on a batched or staged value cannot be decided.
    with pytest.raises(funcdiff.TracerBoolConversionError):
        vmap(f)(np.array([1.0, -1.0]))
    with pytest.raises(funcdiff.TracerBoolConversionError):
        jit(f)(1.0)


def test_custom_vjp_runs_python_control_flow_on_concrete_values():
    calls = []

    @funcdiff.custom_vjp
    def f(x):
        calls.append("f")
        return x if x > 0 else -x

    def fwd(x):
        calls.append("fwd")
        return f(x), x

    f.defvjp(fwd, lambda x, g: (g * (3.0 if x > 0 else -3.0),))
    assert f(-2.0) == 2.0 and calls == ["f"]
    calls.clear()
    assert grad(f)(-2.0) == -3.0 and calls == ["fwd", "f"]
    np.testing.assert_allclose(grad(lambda x: jnp.sum(vmap(jnp.abs)(x) * f(2.0)))(
        np.array([1.0, -1.0])), [2.0, -2.0])


def test_custom_jvp_eager_results_agree_with_jit_and_vmap():
    x = np.array([-3.0, 0.2, 40.0])
    eager = vmap(grad(log1pexp))(x)
    np.testing.assert_allclose(eager, 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(jit(vmap(grad(log1pexp)))(x), eager)
    np.testing.assert_allclose(vmap(lambda x: jvp(log1pexp, (x,), (2.0,))[1])(x), 2 * eager)
    np.testing.assert_allclose(log1pexp(x), np.log1p(np.exp(x)))
    check_grads(lambda x: vmap(log1pexp)(x), (x,), order=2)


@pytest.mark.parametrize("bad, message", [
    (lambda t: t.astype(np.float32), r"tangent output 0 is f32\[\], but the primal output is "
                                     r"f64\[\], whose tangent type is f64\[\]"),
    (lambda t: jnp.ones(3), r"tangent output 0 is f64\[3\], but the primal output is f64\[\]"),
])
def test_custom_jvp_rule_with_wrong_tangent_type_raises(bad, message):
    f = funcdiff.custom_jvp(jnp.sin)
    f.defjvp(lambda p, t: (f(p[0]), bad(np.asarray(t[0]) if np.isscalar(t[0]) else t[0])))
    for run in [lambda: jvp(f, (1.0,), (1.0,)), lambda: grad(f)(1.0),
                lambda: jit(grad(f))(1.0), lambda: vmap(grad(f))(np.ones(2))]:
        with pytest.raises(TypeError, match=message):
            run()


def test_jvp_of_an_integer_primal_needs_a_float0_tangent():
    with pytest.raises(TypeError, match=r"tangent for primals\[0\] has dtype float64, but the "
                                        r"primal has the non-differentiable dtype int64.*float0"):
        jvp(lambda x: x * 2, (np.int64(1),), (1.0,))
    float0 = np.zeros((), [("float0", "V")])
    out, t = jvp(lambda x: x * 2, (np.int64(1),), (float0,))
    assert out == 2 and t.dtype == float0.dtype


def test_defjvps_gives_integer_outputs_a_float0_tangent():
    f = funcdiff.custom_jvp(lambda x, n: (x * 2.0, n + 1))
    f.defjvps(lambda t, out, x, n: (t * 2.0, np.zeros((), [("float0", "V")])), None)
    assert jvp(lambda x: f(x, np.int64(1))[0], (1.0,), (1.0,)) == (2.0, 2.0)


def _closing_over(y, call_with):
    @funcdiff.custom_jvp
    def f(x):
        return x * y

    @f.defjvp
    def f_jvp(primals, tangents):
        return f(primals[0]), tangents[0] * y

    return f(call_with(y))


@pytest.mark.parametrize("call_with", [lambda y: 2.0, lambda y: y], ids=["constant", "traced"])
def test_custom_jvp_closing_over_a_differentiated_value_raises(call_with):
    f = lambda y: _closing_over(y, call_with)  # noqa: E731
    for run in [lambda: grad(f)(3.0), lambda: jvp(f, (3.0,), (1.0,)), lambda: jit(grad(f))(3.0),
                lambda: grad(jit(f))(3.0)]:
        with pytest.raises(funcdiff.UnexpectedTracerError,
                           match="custom_jvp function f closes over the value f64"):
            run()
    # vmap may close over a batched value (JAX allows it too); the rule is not involved.
    np.testing.assert_allclose(vmap(f)(np.arange(3.0)),
                               np.arange(3.0) * (2.0 if call_with(0) == 2.0 else np.arange(3.0)))


def test_checkpoint_static_argnums_are_python_values():
    from functools import partial

    traced_with = []

    @partial(funcdiff.checkpoint, static_argnums=(1,), prevent_cse=False,
             policy=funcdiff.checkpoint_policies.dots_saveable)
    def layers(x, depth, scale=1.0):
        traced_with.append(depth)
        assert isinstance(depth, int)  # not traced: usable in range()
        for _ in range(depth):
            x = jnp.sin(x)
        return x * scale

    x = np.array([0.3, 1.2])
    np.testing.assert_allclose(layers(x, 2), np.sin(np.sin(x)))
    # A different static value gives a different program.
    np.testing.assert_allclose(layers(x, 3), np.sin(np.sin(np.sin(x))))
    assert traced_with[-2:] == [2, 3]
    expected = np.cos(np.sin(x)) * np.cos(x)
    loss = lambda x, d: jnp.sum(layers(x, d))  # noqa: E731
    np.testing.assert_allclose(grad(loss)(x, 2), expected, rtol=1e-13)
    np.testing.assert_allclose(jit(grad(loss), static_argnums=1)(x, 2), expected, rtol=1e-13)
    np.testing.assert_allclose(vmap(grad(loss), in_axes=(0, None))(np.stack([x, x]), 2),
                               [expected, expected], rtol=1e-13)
    # Keyword arguments are traced and differentiable.
    np.testing.assert_allclose(grad(lambda s: jnp.sum(layers(x, 1, scale=s)))(2.0),
                               np.sum(np.sin(x)))
    check_grads(lambda x: loss(x, 2), (x,), order=2)
    # Negative positions count from the end; a non-hashable static value is fine, as in JAX.
    pick = funcdiff.checkpoint(lambda x, fs: fs[0](x), static_argnums=-1)
    np.testing.assert_allclose(grad(lambda x: jnp.sum(pick(x, [jnp.tanh])))(x),
                               1 - np.tanh(x) ** 2)


def test_checkpoint_static_argnames_are_python_values():
    def layers(x, depth=1, scale=1.0):
        for _ in range(depth):  # needs a Python int
            x = jnp.tanh(scale * x)
        return x

    block = funcdiff.checkpoint(layers, static_argnames="depth")
    x = np.array([0.3, -1.2])
    want = grad(lambda x: jnp.sum(layers(x, depth=3, scale=0.5)))(x)
    np.testing.assert_allclose(grad(lambda x: jnp.sum(block(x, depth=3, scale=0.5)))(x), want,
                               rtol=1e-14)
    # The keyword not named static (scale) is traced, so differentiable.
    check_grads(lambda s: block(x, depth=2, scale=s), (0.5,), order=2, modes=("fwd", "rev"))
    with pytest.raises(funcdiff.TracerIntegerConversionError):
        funcdiff.checkpoint(layers)(x, depth=3)  # traced without static_argnames
    with pytest.raises(TypeError, match="static_argnames must be a str"):
        funcdiff.checkpoint(layers, static_argnames=[1])


def test_checkpoint_static_argnums_errors():
    with pytest.raises(TypeError, match="static_argnums must be an int or a sequence of ints"):
        funcdiff.checkpoint(jnp.sin, static_argnums="1")
    f = funcdiff.checkpoint(lambda x, n: x * n, static_argnums=(1,))
    with pytest.raises(ValueError, match=r"static_argnums=\(1,\) names an argument .* 1 "
                                         "positional"):
        f(1.0)
