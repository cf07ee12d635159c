"""`linearize` through `while_loop` and `fori_loop` with traced bounds (forward mode, as in
JAX): partial evaluation runs the loop's known carries now and stages the whole loop into the
linear program for the tangent carries (recomputing the known ones). The linear function
must agree with `jvp`, under `jit`, `vmap` and `jvp`, called again and again; reverse mode
(`grad`, `vjp`) still stops with the clear error, now when the linear program is transposed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_linearize_staged import assert_same_programs

import funcdiff
import funcdiff.numpy as fnp
from funcdiff import grad, jit, jvp, lax, linearize, vjp, vmap
from funcdiff.tree_util import tree_leaves, tree_map

WHILE_ERROR = "Reverse-mode differentiation does not work for lax.while_loop"
FORI_ERROR = "Reverse-mode differentiation does not work for lax.fori_loop with traced bounds"


# Each case builds its function from a `lax` and a `numpy` namespace (funcdiff's, or JAX's
# for the comparison), and gives its primal argument (a pytree) and its reverse-mode error.
def _counter(lax, np_):
    # An int counter next to a float carry; the body closes over the differentiated input.
    return lambda x: lax.while_loop(
        lambda c: c[0] < 5, lambda c: (c[0] + 1, c[1] * x + 1.0), (0, x)
    )[1]


def _pytree(lax, np_):
    def f(x):
        def body(c):
            v = np_.sin(c["v"]) * c["s"][0] + x["b"]
            return {"v": v, "s": (c["s"][0] * 0.9, c["s"][1] + 1)}

        init = {"v": x["a"], "s": (x["b"].sum(), 0)}
        out = lax.while_loop(lambda c: c["s"][1] < 4, body, init)
        return out["v"], out["s"][0]

    return f


def _float32(lax, np_):
    def f(x):
        def body(c):
            i, v = c
            return i + np.int32(1), np_.tanh(v * x[0]) + x

        return lax.while_loop(lambda c: c[0] < np.int32(3), body, (np.int32(0), x))[1]

    return f


W = np.array([[0.5, -0.3, 0.1], [0.2, 0.4, -0.6], [-0.1, 0.3, 0.2]])
B = np.array([0.1, -0.2, 0.3])


def _constants(lax, np_):
    # Closes over NumPy constants; the predicate reads a float carry (a data-dependent count).
    def f(x):
        def body(c):
            i, v, acc = c
            v = np_.tanh(W @ v + B) * 1.5 + x
            return i + 1, v, acc + np_.sum(v * v)

        return lax.while_loop(lambda c: (c[2] < 6.0) & (c[0] < 50), body, (0, x, 0.0))[1:]

    return f


def _cond_reads_input(lax, np_):
    # The predicate reads the differentiated input (its primal only).
    return lambda x: lax.while_loop(lambda c: c < 10.0 * x, lambda c: c * 1.5 + x, x)


def _fori_traced(lax, np_):
    jit_ = jit if lax is funcdiff.lax else pytest.importorskip("jax").jit
    inner = jit_(lambda n, x: lax.fori_loop(0, n, lambda i, c: np_.sin(c) * x + i, x))
    return lambda x: inner(4, x)


def _nested(lax, np_):
    # A while loop inside a while loop's body: the body's split meets the inner loop.
    def f(x):
        def outer(c):
            j, v = c
            v = lax.while_loop(lambda d: d[0] < 3, lambda d: (d[0] + 1, d[1] * x - 0.1), (0, v))[1]
            return j + 1, v

        return lax.while_loop(lambda c: c[0] < 2, outer, (0, x))[1]

    return f


def _in_scan(lax, np_):
    # A while loop inside a scan's body: scan's partial evaluation splits the while equation.
    def f(x):
        def step(c, r):
            c = lax.while_loop(lambda d: d[0] < 2, lambda d: (d[0] + 1, d[1] * r + x), (0, c))[1]
            return c, c * 2.0

        return lax.scan(step, x, np_.array([0.5, 1.5, -0.5]))

    return f


def _checkpointed(lax, np_):
    body = _counter(lax, np_)
    return funcdiff.checkpoint(body) if lax is funcdiff.lax else body


CASES: dict[str, tuple[Callable[..., Any], Any, str]] = {
    "counter": (_counter, 0.7, WHILE_ERROR),
    "pytree": (_pytree, {"a": np.array([0.3, -1.2]), "b": np.array([0.5, 0.25])}, WHILE_ERROR),
    "float32": (_float32, np.array([0.3, -0.4], np.float32), WHILE_ERROR),
    "constants": (_constants, np.array([0.2, -0.5, 0.4]), WHILE_ERROR),
    "cond reads input": (_cond_reads_input, 1.3, WHILE_ERROR),
    "fori traced bounds": (_fori_traced, 0.8, FORI_ERROR),
    "nested": (_nested, 0.9, WHILE_ERROR),
    "in scan": (_in_scan, 0.6, WHILE_ERROR),
    "checkpointed": (_checkpointed, 0.7, WHILE_ERROR),
}
NAMES = list(CASES)


def _tangent(x: Any, seed: int) -> Any:
    rng = np.random.default_rng(seed)
    return tree_map(lambda a: np.asarray(rng.normal(size=np.shape(a))).astype(np.asarray(a).dtype)
                    if np.ndim(a) else float(rng.normal()), x)


def _tol(x: Any) -> float:
    return 2e-5 if any(np.asarray(a).dtype == np.float32 for a in tree_leaves(x)) else 1e-12


def _close(a: Any, b: Any, tol: float) -> None:
    la, lb = tree_leaves(a), tree_leaves(b)
    assert len(la) == len(lb)
    for u, v in zip(la, lb):
        assert np.asarray(u).dtype == np.asarray(v).dtype
        np.testing.assert_allclose(np.asarray(u), np.asarray(v), rtol=tol, atol=tol)


def _case(name: str) -> tuple[Callable[..., Any], Any, str]:
    make, x, error = CASES[name]
    return make(funcdiff.lax, fnp), x, error


@pytest.mark.parametrize("name", NAMES)
def test_linear_function_equals_jvp_on_every_call(name):
    f, x, _ = _case(name)
    y, f_lin = linearize(f, x)
    _close(y, f(x), 0.0)
    for seed in range(3):  # the linear function is applied again and again
        t = _tangent(x, seed)
        y_jvp, t_jvp = jvp(f, (x,), (t,))
        _close(y_jvp, y, 0.0)
        _close(f_lin(t), t_jvp, _tol(x))
        if name == "float32":
            assert f_lin(t).dtype == np.float32
    # linear: doubling the tangent doubles the output tangent
    t = _tangent(x, 7)
    _close(f_lin(tree_map(lambda a: a * 2, t)), tree_map(lambda a: a * 2, f_lin(t)), _tol(x))


@pytest.mark.parametrize("name", NAMES)
def test_under_jit(name):
    f, x, _ = _case(name)
    t = _tangent(x, 1)
    staged = jit(lambda x, t: linearize(f, x)[1](t))
    expected = jvp(f, (x,), (t,))[1]
    _close(staged(x, t), expected, _tol(x))
    _close(staged(x, t), expected, _tol(x))  # the compiled program, called again
    # the primal output too, staged
    _close(jit(lambda x: linearize(f, x)[0])(x), f(x), _tol(x))


@pytest.mark.parametrize("name", NAMES)
def test_staged_and_general_linearizers_make_the_same_program(name):
    # under jit, `linearize` takes `staged_ad.linearize_staged`, which falls back to the
    # general JVP rule (and so to this partial evaluation) for the loop's equation
    f, x, _ = _case(name)
    assert_same_programs(lambda x, t: linearize(f, x)[1](t), x, _tangent(x, 2))


@pytest.mark.parametrize("name", NAMES)
def test_vmap_and_jvp_of_the_linear_function(name):
    f, x, _ = _case(name)
    _, f_lin = linearize(f, x)
    ts = [_tangent(x, s) for s in range(3)]
    stacked = tree_map(lambda *a: np.stack([np.asarray(b) for b in a]), *ts)
    batched = vmap(f_lin)(stacked)
    for k, t in enumerate(ts):
        _close(tree_map(lambda a, k=k: np.asarray(a)[k], batched), f_lin(t), _tol(x))
    # the jvp of a linear function is itself
    out, out_t = jvp(f_lin, (ts[0],), (ts[1],))
    _close(out, f_lin(ts[0]), _tol(x))
    _close(out_t, f_lin(ts[1]), _tol(x))


@pytest.mark.parametrize("name", NAMES)
def test_linearize_under_jvp_and_of_the_linear_function(name):
    f, x, _ = _case(name)
    t, s = _tangent(x, 4), _tangent(x, 5)
    # jvp of linearize (a second derivative in forward mode), against jvp of jvp
    got = jvp(lambda x: linearize(f, x)[1](t), (x,), (s,))
    expected = jvp(lambda x: jvp(f, (x,), (t,))[1], (x,), (s,))
    _close(got, expected, _tol(x))
    # the linear function linearized again is itself
    _, f_lin = linearize(f, x)
    out, lin2 = linearize(f_lin, t)
    _close(out, f_lin(t), _tol(x))
    _close(lin2(s), f_lin(s), _tol(x))


@pytest.mark.parametrize("name", NAMES)
def test_reverse_mode_still_refused_with_the_clear_error(name):
    f, x, error = _case(name)
    scalar = lambda x: sum(fnp.sum(a) for a in tree_leaves(f(x)))  # noqa: E731
    with pytest.raises(TypeError, match=error):
        grad(scalar)(x)
    with pytest.raises(TypeError, match=error):
        jit(grad(scalar))(x)
    y, pullback = vjp(f, x)
    with pytest.raises(TypeError, match=error):
        pullback(y)
    with pytest.raises(TypeError, match=error):
        funcdiff.jacrev(scalar)(x)


def test_the_error_names_the_loops_line():
    def f(x):
        return lax.while_loop(lambda c: c < 10.0, lambda c: c * x, 1.0)  # the loop's line

    for run in (lambda: grad(f)(2.0), lambda: jit(grad(f))(2.0)):
        with pytest.raises(TypeError) as info:
            run()
        assert "fori_loop" in str(info.value) and "(f)" in str(info.value)
        assert "test_linearize_while.py" in str(info.value)


def test_traced_bounds_under_jit_and_the_staged_loops():
    body = lambda i, c: c * 1.1 + fnp.sin(c) * i  # noqa: E731
    lin = jit(lambda n, x, t: linearize(lambda x: lax.fori_loop(0, n, body, x), x)[1](t))
    for n in (0, 1, 5):
        expected = jvp(lambda x: lax.fori_loop(0, n, body, x), (0.4,), (1.0,))[1]
        assert np.isclose(lin(n, 0.4, 1.0), expected, rtol=1e-12)
    # The staged program: one loop for the known carries, one (the whole loop) for the
    # tangent ones.
    jaxpr = funcdiff.make_jaxpr(lambda x: linearize(_counter(lax, fnp), x)[1](1.0))(0.7)
    assert str(jaxpr).count("while[") == 2


@settings(max_examples=25, deadline=None)
@given(x=st.floats(-1.5, 1.5), n=st.integers(0, 6), t=st.floats(-2, 2))
def test_random_trip_counts(x, n, t):
    def f(x):
        return lax.while_loop(
            lambda c: c[0] < n, lambda c: (c[0] + 1, fnp.sin(c[1]) * x + c[1]), (0, x)
        )[1]

    y, f_lin = linearize(f, x)
    expected_y, expected_t = jvp(f, (x,), (t,))
    assert y == expected_y
    assert np.isclose(f_lin(t), expected_t, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_agrees_with_jax_when_installed(name):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    make, x, _ = CASES[name]
    t = _tangent(x, 3)
    y, f_lin = linearize(make(funcdiff.lax, fnp), x)
    jy, jf_lin = jax.linearize(make(jax.lax, jax.numpy), x)
    tol = max(_tol(x), 1e-10)
    for a, b in zip(tree_leaves(y), tree_leaves(jy)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)
    for a, b in zip(tree_leaves(f_lin(t)), tree_leaves(jf_lin(t))):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)
