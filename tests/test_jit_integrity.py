"""jit gives eager's answer and never touches the caller's memory: one regression test per
wrong answer, crash or leak found when jit was checked adversarially (issue #14).

The guarantee (see docs/how-to/jit.md): a jitted function never writes into its arguments or
the constants it closes over, its results share no memory with them or with each other, and it
computes what eager evaluation computes. The random programs of `test_jit_fuzz.py` check the
same properties in general; these are the cases that were once wrong.
"""

from __future__ import annotations

import gc
import linecache
import warnings

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import grad, jit, lax, vmap
from funcdiff._src.core import ClosedJaxpr, Jaxpr
from funcdiff._src.jit import passes

# ---- 1. a jitted function used twice --------------------------------------------------------


def test_jitted_function_called_twice_inside_jit():
    g = jit(jnp.sin)
    f = jit(lambda x: g(x) * g(x + 1))
    assert f(0.5) == pytest.approx(np.sin(0.5) * np.sin(1.5), rel=1e-15)
    program = f.lower(0.5)
    funcdiff._src.core.typecheck_jaxpr(program.optimized.jaxpr)


def test_two_layers_sharing_one_jitted_layer():
    layer = jit(lambda w, x: jnp.tanh(x @ w))
    w1, w2 = np.full((3, 3), 0.1), np.full((3, 3), -0.2)
    x = np.arange(3.0)
    net = lambda w1, w2, x: jnp.sum(layer(w2, layer(w1, x)))  # noqa: E731
    expected = np.sum(np.tanh(np.tanh(x @ w1) @ w2))
    assert jit(net)(w1, w2, x) == pytest.approx(expected, rel=1e-14)
    np.testing.assert_allclose(jit(grad(net))(w1, w2, x), grad(net)(w1, w2, x), rtol=1e-13)


@pytest.mark.parametrize("where", ["fori_loop", "scan", "while_loop", "cond"])
def test_jitted_function_twice_in_a_loop_or_branch_body(where):
    g = jit(jnp.sin)
    body = lambda c: g(c) * g(c + 1.0) + 0.5  # noqa: E731
    x = 0.25
    expected = x
    for _ in range(4):
        expected = np.sin(expected) * np.sin(expected + 1.0) + 0.5
    if where == "fori_loop":
        out = lax.fori_loop(0, 4, lambda i, c: body(c), x)
    elif where == "scan":
        out = lax.scan(lambda c, _: (body(c), None), x, None, length=4)[0]
    elif where == "while_loop":
        out = lax.while_loop(lambda ic: ic[0] < 4, lambda ic: (ic[0] + 1, body(ic[1])),
                             (0, x))[1]
    else:
        out = x
        for _ in range(4):  # the branch body is compiled from its second call on
            out = lax.cond(out > -1.0, body, lambda c: c, out)
    assert out == pytest.approx(expected, rel=1e-14)


def test_jitted_function_twice_inside_a_nested_jit():
    g = jit(lambda x: jnp.sin(x) * x)
    inner = jit(lambda u, v: g(u) - g(v) * u)
    f = jit(lambda a, b: inner(a, b) + inner(b, a))
    a, b = 0.3, -0.8
    ga, gb = np.sin(a) * a, np.sin(b) * b
    assert f(a, b) == pytest.approx((ga - gb * a) + (gb - ga * b), rel=1e-14)


def test_inlining_renames_every_copy_of_a_callee():
    g = jit(lambda x: jnp.exp(x) + 1.0)
    closed = funcdiff.make_jaxpr(lambda x: g(g(x)) * g(x))(0.3)
    inlined = passes.inline_calls(closed)
    funcdiff._src.core.typecheck_jaxpr(inlined.jaxpr)
    assert not any(e.primitive.name == "jit" for e in inlined.eqns)


def test_a_pass_that_breaks_the_program_is_caught(monkeypatch):
    """The well-formedness check run after every pass in the tests fails on a bad pass."""

    def duplicate_first_equation(closed):
        j = closed.jaxpr
        eqns = [j.eqns[0], *j.eqns]
        return ClosedJaxpr(Jaxpr(j.constvars, j.invars, eqns, j.outvars), closed.consts)

    monkeypatch.setattr(passes, "_PASSES", [*passes._PASSES, ("dup", duplicate_first_equation)])
    with pytest.raises(AssertionError, match="pass dup produced an ill-formed program.*twice"):
        jit(lambda x: jnp.sin(x) * 2.0)(1.0)


# ---- 2. views of the caller's arrays are never written ---------------------------------------


def test_static_index_of_an_argument_is_not_written():
    x = np.arange(6.0).reshape(2, 3)
    before = x.copy()
    f = jit(lambda x, i: jnp.exp(x[i]))
    for _ in range(2):
        np.testing.assert_array_equal(f(x, 0), np.exp(before[0]))
    np.testing.assert_array_equal(x, before)


def test_embedding_lookup_under_jit_grad_keeps_the_table():
    table = np.arange(12.0).reshape(4, 3) / 10
    before = table.copy()
    loss = lambda t, i: jnp.sum(jnp.tanh(t[i]) ** 2)  # noqa: E731
    f = jit(grad(loss))
    first = f(table, 1)
    second = f(table, 1)
    np.testing.assert_array_equal(table, before)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first, grad(loss)(before, 1), rtol=1e-14)


def test_take_in_a_fori_loop_keeps_a_closed_over_table():
    table = np.arange(12.0).reshape(4, 3) / 10
    before = table.copy()
    out = lax.fori_loop(0, 4, lambda i, c: c + jnp.exp(jnp.take(table, i, axis=0)), np.zeros(3))
    np.testing.assert_array_equal(table, before)
    np.testing.assert_allclose(out, np.exp(before).sum(0), rtol=1e-14)


# ---- 3. results alias nothing ----------------------------------------------------------------


def _assert_private(result, *others):
    """Every result is an immutable funcdiff Array whose memory nothing else can reach."""
    for leaf in funcdiff.tree_util.tree_leaves(result):
        assert type(leaf) is funcdiff.Array and not np.asarray(leaf).flags.writeable
        for other in others:
            assert not np.shares_memory(leaf, other)


def test_gradient_does_not_return_a_closed_over_constant():
    C = np.array([1.0, 2.0, 3.0])
    f = jit(grad(lambda x: jnp.sum(x * C)))
    g = f(np.ones(3))
    _assert_private(g, C)
    g *= 0.5
    np.testing.assert_array_equal(C, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(f(np.ones(3)), [1.0, 2.0, 3.0])


def test_identity_like_results_are_copies_of_the_argument():
    a = np.ones(3)
    for f in (lambda x: x * 1.0, lambda x: x, lambda x: x + 0.0, lambda x: x.reshape(3),
              lambda x: x[::-1], lambda x: jnp.transpose(x)):
        out = jit(f)(a)
        _assert_private(out, a)
        a[0] = 7.0  # the caller changes its array: the result must not see it
        assert np.all(out == 1.0)
        a[0] = 1.0


def test_two_results_are_two_buffers():
    a, b = jit(lambda x: (x * 2, x * 2))(np.ones(3))
    assert not np.shares_memory(a, b)
    a, b = jit(lambda x: (jnp.exp(x), jnp.exp(x).reshape(3, 1)))(np.ones(3))
    assert not np.shares_memory(a, b)


def test_constant_results_are_fresh_on_every_call():
    f = jit(lambda x: jnp.arange(3.0))
    r = f(1.0)
    _assert_private(r)
    with pytest.raises(TypeError, match="immutable"):
        r[0] = 10.0
    assert not np.shares_memory(f(1.0), r)
    np.testing.assert_array_equal(f(1.0), [0.0, 1.0, 2.0])


def test_results_of_eager_grad_are_private_arrays():
    p = np.ones(3)
    g = grad(lambda p: jnp.sum(p))(p)  # a broadcast of the scalar cotangent, made private
    g *= 0.1  # rebinds g to a new array
    np.testing.assert_allclose(g, 0.1)
    _, vjp_fn = funcdiff.vjp(lambda x: x, p)
    ct = np.full(3, 2.0)
    (back,) = vjp_fn(ct)
    _assert_private(back, ct, p)
    ct[0] = 0.0
    np.testing.assert_array_equal(back, 2.0)


@pytest.mark.parametrize("name", ["jvp", "vjp", "jacfwd", "jacrev", "hessian", "vmap",
                                  "linearize"])
def test_transformation_results_are_private_arrays(name):
    p = np.ones(3)
    total = lambda p: jnp.sum(p)  # noqa: E731
    spread = lambda p: jnp.sum(p) * jnp.ones(3)  # noqa: E731
    out = {
        "jvp": lambda: funcdiff.jvp(lambda x: x, (p,), (p,)),
        "vjp": lambda: funcdiff.vjp(lambda x: x, p)[0],
        "jacfwd": lambda: funcdiff.jacfwd(spread)(p),
        "jacrev": lambda: funcdiff.jacrev(spread)(p),
        "hessian": lambda: funcdiff.hessian(total)(p),
        "vmap": lambda: (vmap(lambda x: x)(p), vmap(lambda x: x, out_axes=1)(np.ones((2, 3)))),
        "linearize": lambda: (funcdiff.linearize(lambda x: x, p)[0],
                              funcdiff.linearize(lambda x: x, p)[1](p)),
    }[name]()
    _assert_private(out, p)


def test_gradients_of_two_arguments_are_two_buffers():
    loss = lambda x, y: jnp.sum((x + y) * np.arange(3.0))  # noqa: E731
    for g in (grad(loss, argnums=(0, 1)), grad(jit(loss), argnums=(0, 1)),
              jit(grad(loss, argnums=(0, 1)))):
        dx, dy = g(np.ones(3), np.ones(3))
        assert not np.shares_memory(dx, dy)
        np.testing.assert_array_equal(dy, [0.0, 1.0, 2.0])


# ---- 4. static arguments are keyed by type ---------------------------------------------------


def test_static_arguments_equal_but_of_different_types_trace_again():
    f = jit(lambda x, n: x * n, static_argnums=1)
    x = np.float32(1.5)
    assert f(x, 1).dtype == np.float32
    assert f(x, 1.0).dtype == np.float32
    assert f(x, True).dtype == np.float32
    assert f._cache_size() == 3
    assert f(x, np.float64(2.0)).dtype == np.float64  # a NumPy float64 is not weak
    assert f(x, 2.0).dtype == np.float32
    assert f._cache_size() == 5


def test_static_dict_keys_are_keyed_by_type():
    class Frozen(dict):
        def __hash__(self):
            return hash(tuple(self.items()))

    f = jit(lambda x, d: x * next(iter(d)), static_argnums=1)
    assert f(np.float32(2.0), Frozen({1: 0})).dtype == np.float32
    assert f(np.float32(2.0), Frozen({1.5: 0})) == np.float32(3.0)
    assert f._cache_size() == 2
    assert f(np.float32(2.0), Frozen({True: 0})) == np.float32(2.0)
    assert f._cache_size() == 3  # {True: 0} == {1: 0}, but its key is a bool


def test_static_argnums_by_keyword_and_negative_with_varargs():
    calls = []

    def f(x, n):
        calls.append(type(n))
        return x * n

    g = jit(f, static_argnums=1)
    assert g(np.ones(2), n=3)[0] == 3.0
    assert calls == [int]  # a static int, not a tracer
    h = jit(lambda *a: a[0] * a[-1], static_argnums=-1)
    np.testing.assert_array_equal(h(np.ones(2), 3), [3.0, 3.0])
    np.testing.assert_array_equal(h(np.ones(2), np.ones(2), 4), [4.0, 4.0])


def test_static_arguments_out_of_range_are_refused():
    with pytest.raises(ValueError, match="static_argnums=3 is out of range.*1 positional"):
        jit(lambda x: x, static_argnums=3)
    with pytest.raises(ValueError, match="static_argnums=-2"):
        jit(lambda x: x, static_argnums=-2)
    with pytest.warns(UserWarning, match=r"static_argnames \['y'\] name no parameter"):
        jit(lambda x: x, static_argnames="y")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jit(lambda x, **kw: x, static_argnames="y")  # may arrive through **kw


# ---- 5. signed zeros are distinct constants --------------------------------------------------


def test_cse_keeps_positive_and_negative_zero_apart():
    f = lambda x: (jnp.copysign(x, 0.0), jnp.copysign(x, -0.0))  # noqa: E731
    assert [float(v) for v in f(1.0)] == [1.0, -1.0]
    assert [float(v) for v in jit(f)(1.0)] == [1.0, -1.0]
    np.testing.assert_array_equal(jnp.copysign(2.0, np.array([0.0, -0.0, -np.nan, 3.0])),
                                  np.copysign(2.0, np.array([0.0, -0.0, -np.nan, 3.0])))
    g = lambda x: (jnp.arctan2(x, 0.0), jnp.arctan2(x, -0.0))  # noqa: E731
    assert [float(v) for v in jit(g)(0.0)] == [0.0, pytest.approx(np.pi)]
    h = lambda x: (jnp.minimum(x, 0.0), jnp.minimum(x, -0.0))  # noqa: E731
    assert [np.signbit(v) for v in jit(h)(0.0)] == [False, True]
    assert [np.signbit(v) for v in h(0.0)] == [False, True]


# ---- 6. Python scalars get NumPy's arithmetic ------------------------------------------------


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_python_floats_divide_by_zero_as_numpy():
    assert jit(lambda a, b: a / b)(1.0, 0.0) == np.inf
    assert np.isnan(jit(lambda a, b: a / b)(0.0, 0.0))
    assert jit(grad(lambda x: 1 / x))(0.0) == -np.inf
    assert jit(lambda a, b: a ** b)(0.0, -1.0) == np.inf
    assert jit(lambda a, b: a // b)(7, 0) == jnp.floor_divide(7, 0)


def test_weak_scalar_results_stay_weak_under_jit():
    y = np.ones(2, np.float32)
    f = lambda x, y: jnp.sin(x) * y + jnp.exp(x) / 2.0  # noqa: E731
    assert f(0.5, y).dtype == np.float32
    assert jit(f)(0.5, y).dtype == np.float32
    np.testing.assert_array_equal(jit(f)(0.5, y), f(0.5, y))


# ---- 7. array subclasses compute as arrays ---------------------------------------------------


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_matrix_arguments_multiply_elementwise():
    m = np.matrix([[1.0, 2.0], [3.0, 4.0]])
    out = jit(lambda x, y: x * y)(m, m)
    assert type(out) is funcdiff.Array
    np.testing.assert_array_equal(out, np.asarray(m) ** 2)


# ---- crashes and leaks -----------------------------------------------------------------------


def test_errors_inside_generated_code_are_eagers_errors():
    x = np.ones(2, np.int8)
    with pytest.raises(OverflowError, match="out of bounds for int8") as eager:
        jnp.multiply(x, 1000)
    with pytest.raises(type(eager.value), match="out of bounds for int8"):
        jit(lambda x, y: x * y)(x, 1000)


def test_compiled_sources_are_freed_with_their_programs():
    before = sum(1 for k in linecache.cache if str(k).startswith("<funcdiff-jit-"))
    for k in range(40):
        jit(lambda x, k=k: x * k + 1.0)(np.ones(2))
    gc.collect()
    after = sum(1 for k in linecache.cache if str(k).startswith("<funcdiff-jit-"))
    assert after - before < 10


def test_boolean_matmul_under_jit():
    a = np.array([[True, False], [True, True]])
    b = np.array([[False, True], [True, False]])
    np.testing.assert_array_equal(jit(lambda a, b: a @ b)(a, b), a @ b)
    np.testing.assert_array_equal(jnp.matmul(a, b), a @ b)
    np.testing.assert_array_equal(vmap(jnp.dot)(a, b), np.einsum("ij,ij->i", a, b))
