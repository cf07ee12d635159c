"""Eager reverse mode's replayed JVPs (`interpreters/eager_linearize.py`) against the general
path (every JVP rule run on every call).

`grad` and `vjp` called outside any transformation replay the staged JVP of elementwise
primitives; the linear program they build must be the one the rules build, equation for
equation, so that gradients are bit for bit the same. The general path is forced by making
`linearize_trace_type` return `ad.JVPTrace`.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lax_table import C128, F64, LAX_OPS, draw_case

import funcdiff
import funcdiff.numpy as jnp
from funcdiff._src import core
from funcdiff._src.interpreters import ad, eager_linearize
from funcdiff._src.interpreters.eager_linearize import ReplayingJVPTrace

REPLAYED = [r for r in LAX_OPS if r.prim in eager_linearize.replayable]


@contextlib.contextmanager
def _general():
    """Within the block, eager reverse mode runs every JVP rule (the general path)."""
    chosen = eager_linearize.linearize_trace_type
    eager_linearize.linearize_trace_type = lambda: ad.JVPTrace
    try:
        yield
    finally:
        eager_linearize.linearize_trace_type = chosen


def _both(fn):
    """fn() on the replaying path (twice: staged, then from the cache) and on the general."""
    fast1, fast2 = fn(), fn()
    with _general():
        general = fn()
    return fast1, fast2, general


def _assert_same(a: Any, b: Any) -> None:
    la, ta = funcdiff.tree_util.tree_flatten(a)
    lb, tb = funcdiff.tree_util.tree_flatten(b)
    assert ta == tb
    for x, y in zip(la, lb):
        assert type(x) is type(y)
        assert np.asarray(x).dtype == np.asarray(y).dtype
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))  # bit for bit (NaN == NaN)


def _linear_program(f, args, trace_type):
    out, linear = ad.linearize_flat(
        lambda *xs: [f(*xs)],
        list(args),
        [np.asarray(a).dtype.kind in "fc" for a in args],
        trace_type,
    )
    return out, str(linear.jaxpr), linear.jaxpr.consts


def test_the_replayed_set_is_the_elementwise_primitives():
    names = {p.name for p in eager_linearize.replayable}
    assert {"sin", "mul", "add", "add_any", "exp", "div"} <= names
    assert not {"dot_general", "reduce_sum", "cond", "while", "scan"} & names


@pytest.mark.parametrize("rec", REPLAYED, ids=[r.name for r in REPLAYED])
@given(data=st.data())
def test_linear_program_and_vjp_equal_the_rules(rec, data):
    dtype = data.draw(st.sampled_from([F64, C128] if rec.complex else [F64]))
    case = draw_case(data.draw, rec, dtype)
    f = functools.partial(rec.fn, **case.static) if case.static else rec.fn
    args = case.args
    if not any(np.asarray(a).dtype.kind in "fc" for a in args):
        return
    # The linear program itself: the same listing and constants.
    general = _linear_program(f, args, ad.JVPTrace)
    for _ in range(2):  # staged, then from the cache
        fast = _linear_program(f, args, ReplayingJVPTrace)
        assert fast[1] == general[1]
        _assert_same(fast[0], general[0])
        _assert_same(fast[2], general[2])

    def pulled():
        out, vjp_fn = funcdiff.vjp(f, *args)
        return out, vjp_fn(funcdiff.tree_util.tree_map(np.ones_like, out))

    fast1, fast2, gen = _both(pulled)
    _assert_same(fast1, gen)
    _assert_same(fast2, gen)


@pytest.mark.parametrize(
    "rec",
    [r for r in REPLAYED if r.elementwise and r.n_args == 2],
    ids=[r.name for r in REPLAYED if r.elementwise and r.n_args == 2],
)
@given(data=st.data())
def test_weak_scalars_and_a_repeated_operand(rec, data):
    case = draw_case(data.draw, rec, F64)
    x = np.asarray(case.args[0])
    scalar = float(np.asarray(case.args[1]).ravel()[0]) if np.asarray(case.args[1]).size else 0.5

    def program(x):  # Python scalars on either side, the same tangent twice, and chained
        y = rec.fn(x, scalar)
        z = rec.fn(scalar, y)
        return rec.fn(z, z) if z.shape == y.shape else z

    def pulled():
        out, vjp_fn = funcdiff.vjp(program, x)
        return out, vjp_fn(np.ones_like(out))

    with np.errstate(all="ignore"):
        fast1, fast2, gen = _both(pulled)
    _assert_same(fast1, gen)
    _assert_same(fast2, gen)


_UNARY = [jnp.sin, jnp.cos, jnp.exp, jnp.tanh, jnp.log1p, jnp.sqrt, jnp.square, jnp.negative]
_BINARY = [jnp.add, jnp.subtract, jnp.multiply, jnp.divide, jnp.maximum, jnp.power]


@st.composite
def _programs(draw):
    """A random straight-line program: (op index, operand picks) per step."""
    steps = []
    for i in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):
            steps.append(("u", draw(st.integers(0, len(_UNARY) - 1)), draw(st.integers(0, i + 1))))
        else:
            steps.append(
                (
                    "b",
                    draw(st.integers(0, len(_BINARY) - 1)),
                    draw(st.integers(0, i + 1)),
                    draw(st.integers(0, i + 1)),
                )
            )
    return steps


def _run(steps, x, y, c):
    vals = [x, y, c]
    for step in steps:
        if step[0] == "u":
            vals.append(_UNARY[step[1]](jnp.abs(vals[step[2]]) + 0.5))
        else:
            vals.append(_BINARY[step[1]](jnp.abs(vals[step[2]]) + 0.5, vals[step[3]]))
    return vals[-1]


@given(
    steps=_programs(),
    kind=st.sampled_from(["float", "array", "mixed"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_programs_give_the_same_gradients(steps, kind, seed):
    rng = np.random.default_rng(seed)
    x = float(rng.uniform(0.1, 2)) if kind != "array" else rng.uniform(0.1, 2, (3,))
    y = rng.uniform(0.1, 2, (3,)) if kind != "float" else float(rng.uniform(0.1, 2))
    c = 0.75

    def loss(params, c):
        return jnp.sum(_run(steps, params["x"], params["y"], c))

    def value_aux(params, c):
        out = _run(steps, params["x"], params["y"], c)
        return jnp.sum(out), {"out": out}

    params = {"x": x, "y": y}
    with np.errstate(all="ignore"):
        for fn in (
            lambda: funcdiff.grad(loss)(params, c),
            lambda: funcdiff.grad(loss, argnums=(0, 1))(params, c),
            lambda: funcdiff.value_and_grad(value_aux, has_aux=True)(params, c),
            lambda: funcdiff.grad(lambda a, b: jnp.sum(_run(steps, a, b, c)))(x, y),
        ):
            fast1, fast2, gen = _both(fn)
            _assert_same(fast1, gen)
            _assert_same(fast2, gen)


def _message(fn) -> str:
    with pytest.raises(TypeError) as info:
        fn()
    return str(info.value)


@pytest.mark.parametrize("case", ["int input", "complex output", "vector output", "bad aux"])
def test_errors_are_the_same(case):
    calls = {
        "int input": lambda: funcdiff.grad(lambda x: x * 2.0)(3),
        "complex output": lambda: funcdiff.grad(lambda x: jnp.sin(x) * 1j)(0.5),
        "vector output": lambda: funcdiff.grad(lambda x: jnp.sin(x) * np.ones(2))(0.5),
        "bad aux": lambda: funcdiff.grad(lambda x: jnp.sin(x), has_aux=True)(0.5),
    }
    fast = _message(calls[case])
    with _general():
        assert _message(calls[case]) == fast


def test_only_eager_calls_replay():
    seen = []

    def f(x):
        seen.append(type(x._trace))  # the JVP trace of the innermost grad
        return jnp.sin(x) * x

    funcdiff.grad(f)(0.5)
    assert seen == [ReplayingJVPTrace]
    seen.clear()
    funcdiff.jit(funcdiff.grad(f))(0.5)
    funcdiff.vmap(funcdiff.grad(f))(np.ones(2))
    funcdiff.grad(funcdiff.grad(f))(0.5)
    # Under jit, vmap or an outer grad, the inner grad's linearize sees an active trace.
    assert seen == [ad.JVPTrace] * 3


def test_a_rule_that_reads_a_value_is_not_replayed():
    # integer_pow-free: `lax.pow` with a concrete exponent runs its rule, whatever it reads;
    # a rule asking its tracer for a value while staged marks the key unsupported.
    before = dict(eager_linearize._recipes)

    class Probe(Exception):
        pass

    p = core.Primitive("probe_value")
    p.def_impl(lambda x: np.sin(x))
    p.def_abstract_eval(lambda x: x)

    def rule(primals, tangents):
        (x,), (t,) = primals, tangents
        if core.concrete_or_none(x) is None:  # staged: asks for a value
            raise Probe
        return p.bind(x), t * np.cos(x)

    ad.jvp_rules[p] = rule
    eager_linearize.replayable.add(p)
    try:
        g = funcdiff.grad(lambda x: p.bind(x))(0.5)
        assert g == np.cos(0.5)
        staged = [k for k in eager_linearize._recipes if k not in before and k[0] is p]
        assert staged and eager_linearize._recipes[staged[0]] is eager_linearize._UNSUPPORTED
    finally:
        eager_linearize.replayable.discard(p)
        del ad.jvp_rules[p]
