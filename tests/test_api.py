"""The transformations' API: pytrees, argnums, has_aux, nesting, complex numbers, errors."""

import threading

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff._src import core
from funcdiff._src.numpy.shape import take_in_bounds
from funcdiff.test_util import check_grads


def test_make_jaxpr_listing():
    jaxpr = funcdiff.make_jaxpr(lambda x: jnp.sum(jnp.sin(x)))(np.ones(3))
    assert str(jaxpr) == (
        "{ lambda ; a:f64[3]. let\n"
        "    b:f64[3] = sin a\n"
        "    c:f64[] = reduce_sum[axes=(0,)] b\n"
        "  in (c,) }"
    )


def test_make_jaxpr_constants_and_literals():
    w = np.arange(6.0).reshape(2, 3)
    jaxpr = funcdiff.make_jaxpr(lambda x: (x @ w) * 2.0)(np.ones((4, 2), np.float32))
    text = str(jaxpr)
    assert text.startswith("{ lambda a:f64[2,3]; b:f32[4,2]. let")
    assert "convert_element_type[new_dtype=f64 weak_type=False] b" in text
    assert "mul d 2.0:f64[]" in text
    assert jaxpr.out_avals[0].str_short() == "f64[4,3]"
    np.testing.assert_allclose(jaxpr(np.ones((4, 2), np.float32))[0], np.ones((4, 2)) @ w * 2)


def test_deep_program_evaluates_prints_and_differentiates():
    n = 100_000

    def f(x):
        for _ in range(n):
            x = x + 1.0
        return x

    jaxpr = funcdiff.make_jaxpr(f)(0.0)
    assert len(jaxpr.eqns) == n
    assert len(str(jaxpr).splitlines()) == n + 2
    assert jaxpr(0.0)[0] == n
    core.typecheck_jaxpr(jaxpr.jaxpr)
    assert funcdiff.grad(f)(0.0) == 1.0


def test_higher_order_derivatives():
    x = 0.7
    assert np.isclose(funcdiff.grad(funcdiff.grad(funcdiff.grad(jnp.sin)))(x), -np.cos(x))
    fourth = funcdiff.grad(funcdiff.grad(funcdiff.grad(funcdiff.grad(jnp.exp))))
    assert np.isclose(fourth(x), np.exp(x))


def test_forward_over_reverse_and_reverse_over_forward():
    f = lambda x: jnp.sum(jnp.tanh(x) ** 3)
    x = np.array([0.3, -0.5, 1.1])
    v = np.array([1.0, 2.0, -1.0])
    _, hvp_fwd_rev = funcdiff.jvp(funcdiff.grad(f), (x,), (v,))
    hvp_rev_fwd = funcdiff.grad(lambda x: funcdiff.jvp(f, (x,), (v,))[1])(x)
    hessian = funcdiff.hessian(f)(x)
    np.testing.assert_allclose(hvp_fwd_rev, hessian @ v, rtol=1e-12)
    np.testing.assert_allclose(hvp_rev_fwd, hessian @ v, rtol=1e-12)
    np.testing.assert_allclose(hessian, funcdiff.jacrev(funcdiff.jacfwd(f))(x), rtol=1e-12)


def test_no_perturbation_confusion():
    # Siskind and Pearlmutter: d/dx [x * d/dy (x + y) at y=1] at x=1 is 1, not 2.
    inner = lambda x: funcdiff.grad(lambda y: x + y)(1.0)
    assert funcdiff.grad(lambda x: x * inner(x))(1.0) == 1.0
    # The same in forward mode.
    d_inner = lambda x: funcdiff.jvp(lambda y: x + y, (1.0,), (1.0,))[1]
    assert funcdiff.jvp(lambda x: x * d_inner(x), (1.0,), (1.0,))[1] == 1.0
    # A nested derivative closing over the outer variable: d/dx [d/dy (x y)] = 1.
    assert funcdiff.grad(lambda x: funcdiff.grad(lambda y: x * y)(2.0))(3.0) == 1.0


def test_python_control_flow_on_concrete_values():
    def f(x):
        if x > 0:
            return x**2
        while x < -1:
            x = x / 2
        return -x

    assert funcdiff.grad(f)(3.0) == 6.0
    assert funcdiff.grad(f)(-4.0) == -0.25
    assert funcdiff.jvp(f, (3.0,), (1.0,))[1] == 6.0


def test_equal_scalars_of_other_types_or_signs_stay_distinct_literals():
    # Staging shares one tracer per Python scalar; 0.0 == -0.0 == 0 == False must not merge.
    closed = funcdiff.make_jaxpr(
        lambda x: [x * 0.0, x * -0.0, x * 0, x * False, x * 0.0])(np.float64(2.0))
    literals = [e.invars[1].val for e in closed.eqns]
    assert [type(v) for v in literals] == [float, float, int, bool, float]
    assert [str(v) for v in literals] == ["0.0", "-0.0", "0", "False", "0.0"]


def test_python_if_under_make_jaxpr_names_the_line():
    def f(x):
        if x > 0:  # the line the error must name
            return x
        return -x

    with pytest.raises(funcdiff.ConcretizationTypeError) as info:
        funcdiff.make_jaxpr(f)(1.0)
    message = str(info.value)
    assert "test_api.py" in message and "(f)" in message
    assert "funcdiff.numpy.where" in message


def test_pytrees_in_and_out():
    def f(params, x):
        return {"y": params["w"] * x, "z": (params["b"] + x, jnp.sum(params["w"]))}

    params = {"w": np.array([1.0, 2.0]), "b": np.array(3.0)}
    x = np.array([0.5, -1.0])
    out, vjp_fn = funcdiff.vjp(f, params, x)
    ct = {"y": np.ones(2), "z": (np.ones(2), 1.0)}
    d_params, d_x = vjp_fn(ct)
    np.testing.assert_allclose(d_params["w"], x + 1.0)
    np.testing.assert_allclose(d_params["b"], 2.0)
    np.testing.assert_allclose(d_x, params["w"] + 1.0)
    tangents = ({"w": np.ones(2), "b": np.array(0.0)}, np.zeros(2))
    primals_out, tangents_out = funcdiff.jvp(f, (params, x), tangents)
    np.testing.assert_allclose(tangents_out["y"], x)
    assert float(tangents_out["z"][1]) == 2.0


def test_jacobian_layout_matches_jax():
    def f(x, y):
        return {"a": x * y[0], "b": jnp.outer(x, y)}

    x, y = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0])
    for jac in (funcdiff.jacfwd, funcdiff.jacrev):
        j = jac(f, argnums=(0, 1))(x, y)
        assert j["a"][0].shape == (3, 3) and j["a"][1].shape == (3, 2)
        assert j["b"][0].shape == (3, 2, 3) and j["b"][1].shape == (3, 2, 2)
        np.testing.assert_allclose(j["a"][0], np.diag([4.0] * 3))
        np.testing.assert_allclose(j["a"][1][:, 0], x)
        np.testing.assert_allclose(j["b"][1][1, :, 1], [0.0, 2.0])


def test_argnums_and_has_aux():
    f = lambda x, y, z: (x * y * z, {"aux": x + 1})
    g, aux = funcdiff.grad(f, argnums=(0, 2), has_aux=True)(2.0, 3.0, 4.0)
    assert tuple(map(float, g)) == (12.0, 6.0) and float(aux["aux"]) == 3.0
    (value, aux), g = funcdiff.value_and_grad(f, argnums=1, has_aux=True)(2.0, 3.0, 4.0)
    assert (float(value), float(g)) == (24.0, 8.0)
    y, vjp_fn, aux = funcdiff.vjp(lambda x: (x * 2, x), 3.0, has_aux=True)
    assert float(vjp_fn(1.0)[0]) == 2.0 and float(aux) == 3.0
    y, t, aux = funcdiff.jvp(lambda x: (x * 2, "anything"), (3.0,), (1.0,), has_aux=True)
    assert float(t) == 2.0 and aux == "anything"
    y, f_jvp, aux = funcdiff.linearize(lambda x: (jnp.sin(x) * 2, {"n": 3, "c": jnp.cos(x)}),
                                       np.array([0.5, 1.0]), has_aux=True)
    np.testing.assert_allclose(f_jvp(np.ones(2)), 2 * np.cos([0.5, 1.0]))
    assert aux["n"] == 3 and np.allclose(aux["c"], np.cos([0.5, 1.0]))
    j, aux = funcdiff.jacrev(lambda x: (x**2, x), has_aux=True)(np.array([1.0, 2.0]))
    np.testing.assert_allclose(j, np.diag([2.0, 4.0]))
    with pytest.raises(ValueError, match="argnums"):
        funcdiff.grad(lambda x: x, argnums=3)(1.0)
    # An argument named twice would get a zero derivative for one of its entries: refused.
    f2 = lambda w, x: jnp.sum(w * x) * jnp.sum(w)
    args = (np.ones(2), np.arange(2.0))
    for transform in (funcdiff.grad, funcdiff.jacrev, funcdiff.jacfwd, funcdiff.hessian):
        with pytest.raises(ValueError, match=r"argnums=\(1, 0, -1\) names positional "
                                             r"argument\(s\) \[1\] of <lambda> more than once"):
            transform(f2, argnums=(1, 0, -1))(*args)
    with pytest.raises(TypeError, match="argnums must be an int or a sequence of ints, got 'w'"):
        funcdiff.grad(f2, argnums="w")(*args)


def test_has_aux_without_a_pair_names_the_function_and_what_it_returned():
    def my_loss(x):
        return jnp.sum(x**2)

    for transform in (funcdiff.grad, funcdiff.value_and_grad, funcdiff.jacrev, funcdiff.jacfwd):
        with pytest.raises(TypeError, match=r"^my_loss was transformed with has_aux=True, so it "
                                            r"must return a pair \(output, aux\); it returned "
                                            r"an array f64\[\]\.$"):
            transform(my_loss, has_aux=True)(np.ones(2))


def test_vjp_checks_cotangent_shapes_and_dtypes():
    x32 = np.ones(2, np.float32)
    # A Python scalar takes the output's dtype, so float32 stays float32.
    for f in (lambda x: jnp.sum(x), funcdiff.jit(lambda x: jnp.sum(x))):
        (g,) = funcdiff.vjp(f, x32)[1](1.0)
        assert g.dtype == np.float32
    # Arrays of another dtype or shape are refused, naming the output leaf.
    _, pull = funcdiff.vjp(lambda x: {"a": [x * 2, x]}, np.ones(2))
    with pytest.raises(ValueError, match=r"for output \['a'\]\[0\] has dtype complex128 but "
                                         r"the primal output is f64\[2\]; pass a cotangent of "
                                         r"dtype float64"):
        pull({"a": [np.ones(2) * 1j, np.ones(2)]})
    with pytest.raises(ValueError, match=r"for output \['a'\]\[1\] has dtype float32"):
        pull({"a": [np.ones(2), x32]})
    with pytest.raises(ValueError, match=r"^vjp_fn: the cotangent has shape \(3,\) but the "
                                         r"primal output has shape \(2,\)\.$"):
        funcdiff.vjp(lambda x: x, np.ones(2))[1](np.ones(3))
    (g,) = pull({"a": [np.ones(2), np.ones(2)]})
    np.testing.assert_array_equal(g, [3.0, 3.0])


def test_jvp_tangent_errors_name_the_pytree_path():
    p = {"a": np.ones(2), "b": {"c": np.ones(3)}}
    with pytest.raises(ValueError, match=r"^jvp: the tangent for primals\[0\]\['b'\]\['c'\] "
                                         r"has shape \(4,\), but the primal has shape \(3,\)"):
        funcdiff.jvp(lambda p: jnp.sum(p["a"]), (p,), ({"a": np.ones(2), "b": {"c": np.ones(4)}},))
    with pytest.raises(TypeError, match=r"^linearize: the tangent for primals\[1\] has dtype "
                                        r"int64, but the primal has dtype float64"):
        funcdiff.linearize(lambda x, y: x * y, 1.0, np.ones(2))[1](1.0, np.ones(2, np.int64))
    with pytest.raises(TypeError, match="same tree structure"):
        funcdiff.jvp(lambda x: x, (np.ones(2),), (np.ones(2), np.ones(2)))


def test_jacobian_dtype_rules_follow_jax():
    x = np.array([0.3, -1.2])
    # jacfwd: real inputs, any outputs (a complex Jacobian here).
    np.testing.assert_allclose(funcdiff.jacfwd(lambda v: jnp.exp(1j * v))(x),
                               np.diag(1j * np.exp(1j * x)), rtol=1e-15)
    with pytest.raises(TypeError, match="jacfwd requires real-valued inputs"):
        funcdiff.jacfwd(jnp.sin)(x + 0j)
    # jacrev: real or complex inputs (each row is that output's grad), real outputs.
    z = np.array([1 + 2j, -0.5j])
    rows = funcdiff.jacrev(lambda z: jnp.abs(z) ** 2)(z)
    for k in range(2):
        np.testing.assert_allclose(rows[k], funcdiff.grad(lambda z: jnp.abs(z[k]) ** 2)(z))
    with pytest.raises(TypeError, match="jacrev requires real-valued outputs"):
        funcdiff.jacrev(lambda v: jnp.exp(1j * v))(x)


@pytest.mark.parametrize("name", ["grad", "value_and_grad", "jacfwd", "jacrev", "hessian",
                                  "vmap", "jit", "make_jaxpr"])
def test_transforming_a_non_function_fails_at_once(name):
    with pytest.raises(TypeError, match=rf"^{name} expects a callable as its first argument, "
                                        r"got 3 of type int\.$"):
        getattr(funcdiff, name)(3)


def test_linearize_matches_jvp():
    f = lambda x: jnp.sin(x) * jnp.exp(x)
    x, t = np.array([0.1, 0.2]), np.array([1.0, -2.0])
    y, f_jvp = funcdiff.linearize(f, x)
    np.testing.assert_allclose(y, f(x))
    np.testing.assert_allclose(f_jvp(t), funcdiff.jvp(f, (x,), (t,))[1], rtol=1e-14)


def test_stop_gradient():
    f = lambda x: x * funcdiff.stop_gradient(x) + funcdiff.lax.stop_gradient(x**2)
    assert funcdiff.grad(f)(3.0) == 3.0
    assert funcdiff.jvp(f, (3.0,), (1.0,))[1] == 3.0


def test_dtypes_are_kept():
    x32 = np.array([1.0, 2.0], np.float32)
    g = funcdiff.grad(lambda x: jnp.sum(x * 2.0))(x32)
    assert g.dtype == np.float32
    assert funcdiff.jvp(lambda x: x * 2.0, (x32,), (x32,))[1].dtype == np.float32
    assert funcdiff.grad(lambda x: x * 2)(1.0).dtype == np.float64


def test_integer_inputs():
    with pytest.raises(TypeError, match=r"argument p\['n'\] has dtype int64"):
        funcdiff.grad(lambda p: p["x"] * p["n"])({"x": 1.0, "n": 3})
    # vjp returns float0 zeros for integer inputs, as in JAX.
    _, vjp_fn = funcdiff.vjp(lambda x, n: x * n, 2.0, 3)
    dx, dn = vjp_fn(1.0)
    assert float(dx) == 3.0 and dn.dtype == funcdiff._src.dtypes.float0


def test_non_scalar_grad_error():
    with pytest.raises(TypeError, match=r"shape \(3,\).*jacrev"):
        funcdiff.grad(lambda x: x * 2)(np.ones(3))


def test_tangent_and_cotangent_structure_errors():
    with pytest.raises(TypeError, match="tree structure"):
        funcdiff.jvp(lambda a: a["x"], ({"x": 1.0},), ({"y": 1.0},))
    with pytest.raises(ValueError, match="shape"):
        funcdiff.jvp(jnp.sin, (np.ones(3),), (np.ones(2),))
    _, vjp_fn = funcdiff.vjp(lambda x: (x, x * 2), 1.0)
    with pytest.raises(TypeError, match=r"PyTreeDef\(\(\*, \*\)\)"):
        vjp_fn(1.0)


def test_shape_mismatch_error_names_primitive_shapes_and_line():
    def f(x, y):
        return x + y  # the line the error must name

    with pytest.raises(TypeError) as info:
        funcdiff.make_jaxpr(f)(np.ones(3), np.ones(4))
    message = str(info.value)
    assert message.startswith("add:") and "(3,), (4,)" in message
    assert "test_api.py" in message and "(f)" in message
    with pytest.raises(ValueError, match="dot_general"):  # eager errors are ValueErrors too
        funcdiff.grad(lambda x: jnp.sum(x @ np.ones((4, 2))))(np.ones(3))


def test_leaked_tracer_error():
    leaked = []

    def f(x):
        leaked.append(x)
        return x * 2

    funcdiff.grad(f)(1.0)
    with pytest.raises(funcdiff.UnexpectedTracerError, match="leaked tracer"):
        funcdiff.grad(lambda y: leaked[0] * y)(2.0)


def test_complex_differentiation_follows_jax():
    z = 1.0 + 2.0j
    # Real-valued function of a complex input: the gradient is conj(df/dz*) scaled, as JAX.
    assert funcdiff.grad(lambda z: jnp.abs(z) ** 2)(z) == 2 * np.conj(z)
    # Re(z^2) = x^2 - y^2: d/dx - i d/dy = 2x + 2iy.
    assert funcdiff.grad(lambda z: jnp.real(z * z))(z) == 2 * z
    assert funcdiff.grad(lambda z: z**2, holomorphic=True)(z) == 2 * z
    np.testing.assert_allclose(
        funcdiff.jacfwd(jnp.sin, holomorphic=True)(np.array([z])), [[np.cos(z)]])
    np.testing.assert_allclose(
        funcdiff.jacrev(jnp.exp, holomorphic=True)(np.array([z])), [[np.exp(z)]])
    with pytest.raises(TypeError, match="holomorphic=True"):
        funcdiff.grad(lambda z: z * 2)(z)
    with pytest.raises(TypeError, match="holomorphic"):
        funcdiff.jacfwd(jnp.sin)(np.array([z]))
    check_grads(lambda z: jnp.abs(jnp.sin(z)) ** 2 + jnp.angle(z), (np.array([z, 0.3 - 1j]),),
                order=2)


def test_typecheck_after_transformations():
    f = lambda x: jnp.sum(jnp.tanh(x @ x.T) ** 2)
    x = np.ones((3, 2))
    for g in (f, funcdiff.grad(f), funcdiff.jacfwd(f), funcdiff.hessian(f)):
        core.typecheck_jaxpr(funcdiff.make_jaxpr(g)(x).jaxpr)


def test_threads_do_not_share_trace_state():
    results, errors = {}, []

    def work(i):
        try:
            f = lambda x: jnp.sum(jnp.sin(x * i) ** 2)
            for _ in range(50):
                results[i] = funcdiff.grad(f)(np.full(4, 0.1))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i in range(1, 5):
        x = np.full(4, 0.1)
        np.testing.assert_allclose(results[i], 2 * np.sin(i * x) * np.cos(i * x) * i)


def test_config_accepts_jax_settings():
    funcdiff.config.update("jax_enable_x64", True)
    assert funcdiff.config.jax_enable_x64 is True
    with pytest.raises(AttributeError, match="Unrecognized"):
        funcdiff.config.update("no_such_option", 1)


def test_python_scalars_stay_weak_eagerly_as_when_staged():
    eager = funcdiff.lax.add(funcdiff.lax.mul(2.0, 2.0), np.float32(1.0))
    staged = funcdiff.make_jaxpr(
        lambda s: funcdiff.lax.add(funcdiff.lax.mul(2.0, 2.0), s))(np.float32(1.0))
    assert eager.dtype == np.float32 == staged.out_avals[0].dtype
    assert funcdiff.lax.convert_element_type(2.0, np.float32).dtype == np.float32


def test_select_with_a_python_int_case_differentiates():
    f = lambda x: funcdiff.lax.select_n(np.bool_(True), 0, x)
    assert funcdiff.jvp(f, (1.0,), (1.0,))[1] == 1.0
    assert funcdiff.grad(lambda x: funcdiff.lax.select_n(np.bool_(False), 0, x))(1.0) == 0.0


def test_an_error_while_evaluating_a_jaxpr_does_not_leak_its_source_line():
    from funcdiff._src.core import SourceInfo

    take = lambda x: take_in_bounds(x, np.array([5]))  # NumPy's gather: raises
    jaxpr = funcdiff.make_jaxpr(take)(np.ones(3))
    with pytest.raises(IndexError):
        jaxpr(np.ones(3))  # the failing equation's line is in force while it runs...
    info = funcdiff.make_jaxpr(lambda x: x * 2)(1.0).eqns[0].source_info
    assert info.function == "<lambda>" and info.lineno != jaxpr.eqns[0].source_info.lineno
    assert SourceInfo.current() is None or "test_api" in SourceInfo.current().filename


def test_equations_name_their_user_lines_once_the_call_sites_are_known():
    # The second trace finds each line from the call sites recorded by the first (an
    # operator's caller, or the first user frame above a funcdiff.numpy function).
    def helper(a):
        return a * 2.0

    def f(x):
        y = jnp.sin(x)
        z = y + 1.0
        return helper(z) - funcdiff.lax.neg(helper(y))

    start, h = f.__code__.co_firstlineno, helper.__code__.co_firstlineno
    expected = [
        ("sin", "f", start + 1),
        ("add", "f", start + 2),
        ("mul", "helper", h + 1),
        ("mul", "helper", h + 1),
        ("neg", "f", start + 3),
        ("sub", "f", start + 3),
    ]
    for _ in range(2):
        eqns = funcdiff.make_jaxpr(f)(np.ones(3)).eqns
        got = [(e.primitive.name, e.source_info.function, e.source_info.lineno) for e in eqns]
        assert got == expected


def test_make_jaxpr_names_a_non_array_argument_by_its_path():
    with pytest.raises(TypeError, match=r"argument opts\['mode'\] of type str"):
        funcdiff.make_jaxpr(lambda x, opts: x)(1.0, {"mode": "fast"})
    jaxpr = funcdiff.make_jaxpr(lambda x, opts: x * 2, static_argnums=1)(1.0, "fast")
    assert [e.primitive.name for e in jaxpr.eqns] == ["mul"]
