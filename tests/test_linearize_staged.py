"""`staged_ad.linearize_staged`, the reverse mode of `jit(grad(f))` over a staged program,
builds the programs the general path (`ad.linearize_flat` on tracers) builds: both run here
on every record of the primitive table and on custom rules, control flow, nested
transformations and closures, and their jaxprs must print the same, equation for equation,
with the same source lines (and `check_passes`, on for every test, type-checks what `jit`
makes of them)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lax_table import F32, F64, LAX_OPS, draw_case
from test_lax_ops import (
    _fn,
    _ids,
    _inexact_positions,
    _is_inexact,
    _only,
    _random_like,
    _real_sum,
)

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import lax
from funcdiff._src import core
from funcdiff._src.interpreters import ad, staged_ad


@contextlib.contextmanager
def _direct(on: bool) -> Iterator[None]:
    saved = ad.use_direct_linearize
    ad.use_direct_linearize = on
    try:
        yield
    finally:
        ad.use_direct_linearize = saved


def _staged(f: Callable[..., Any], *args: Any) -> tuple[str, list[str]]:
    closed = funcdiff.make_jaxpr(f)(*args)
    core.typecheck_jaxpr(closed.jaxpr)
    return str(closed), [str(e.source_info) for e in closed.jaxpr.eqns]


def _direct_rules_used(f: Callable[..., Any], *args: Any, table: dict | None = None) -> int:
    """How many equations the direct rules of `table` (the JVP rules by default) handled (to
    show the comparisons reach them)."""
    calls = []
    table = staged_ad.direct_jvp_rules if table is None else table
    saved = dict(table)

    def counted(rule):
        def wrapper(*a, **k):
            out = rule(*a, **k)
            calls.append(out is not NotImplemented)
            return out
        return wrapper

    table.update({p: counted(r) for p, r in saved.items()})
    try:
        funcdiff.make_jaxpr(f)(*args)
    finally:
        table.clear()
        table.update(saved)
    return sum(calls)


def assert_same_programs(f: Callable[..., Any], *args: Any) -> None:
    with _direct(False):
        general = _staged(f, *args)
        value = funcdiff.jit(f)(*args)
    with _direct(True):
        direct = _staged(f, *args)
        got = funcdiff.jit(f)(*args)
    assert direct[0] == general[0]
    assert direct[1] == general[1]
    for a, b in zip(funcdiff.tree_util.tree_leaves(got), funcdiff.tree_util.tree_leaves(value)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def _dtype_for(rec, draw):
    floats = [d for d in (F64, F32) if d in rec.dtypes]
    return draw(st.sampled_from(floats)) if floats else rec.dtypes[0]


@pytest.mark.parametrize("rec", LAX_OPS, ids=_ids(LAX_OPS))
@given(data=st.data())
def test_grad_and_vjp_programs_match_the_general_path(rec, data):
    if rec.context is not None:
        pytest.skip("runs only inside its context (test_lax_ops stages it there)")
    case = draw_case(data.draw, rec, _dtype_for(rec, data.draw))
    f = _fn(rec, case.static)
    positions = _inexact_positions(case.args)
    out = f(*case.args)
    if not positions or not (rec.differentiable and _is_inexact(out)):
        return
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    g = _only(f, case.args, positions)
    primals = [case.args[i] for i in positions]
    weights = np.asarray(_random_like(out, rng))
    argnums = tuple(range(len(primals)))
    # the record's operation, then the chain's operations on its result (direct rules)
    loss = lambda *p: _real_sum(g(*p), weights)  # noqa: E731
    assert_same_programs(funcdiff.grad(loss, argnums), *primals)
    chained = lambda *p: loss(*p) * jnp.sin(loss(*p)) - 0.5  # noqa: E731
    assert_same_programs(funcdiff.value_and_grad(chained, argnums), *primals)
    ct = _random_like(out, rng)
    assert_same_programs(lambda p, c: funcdiff.vjp(g, *p)[1](c), primals, ct)


@funcdiff.custom_jvp
def _soft(x):
    return jnp.log1p(jnp.exp(x))


@_soft.defjvp
def _soft_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return _soft(x), t * funcdiff.nn.sigmoid(x)


@funcdiff.custom_vjp
def _clip(x):
    return jnp.sin(x)


def _clip_fwd(x):
    return jnp.sin(x), jnp.cos(x) * 2.0


def _clip_bwd(r, ct):
    return (jnp.clip(ct * r, -1.0, 1.0),)


_clip.defvjp(_clip_fwd, _clip_bwd)
W = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
X3 = np.linspace(0.1, 0.9, 3)


def _chain(x):
    y = x
    for i in range(6):
        y = jnp.sin(y) * 0.9 + x * (0.001 * (i % 7)) - 0.01
        y = jnp.cos(y) - (-y)
    return jnp.sum(y * y)


def _mlp(w, b, x):
    h = jnp.tanh(x @ w + b)
    logits = funcdiff.nn.sigmoid(h) @ w.T / 3.0
    return -jnp.sum(logits - jnp.log(jnp.sum(jnp.exp(logits), axis=-1, keepdims=True)))


CASES = {
    "chain": (funcdiff.grad(_chain), X3),
    "chain f32": (funcdiff.grad(_chain), X3.astype(np.float32)),
    "weak scalar": (funcdiff.grad(lambda x: jnp.sin(x) * x + 1.0), 0.5),
    "broadcast add": (funcdiff.grad(lambda x, y: jnp.sum((x + y) * (y - x)), (0, 1)), X3,
                      W[:1, :3]),
    "mixed precision": (funcdiff.grad(lambda x, y: jnp.sum(x * y + x - y), (0, 1)),
                        X3.astype(np.float32), X3),
    "closure constant": (funcdiff.grad(lambda x: jnp.sum(jnp.cos(x) * X3 - x)), X3),
    "same argument twice": (lambda x: funcdiff.grad(lambda a, b: jnp.sum(a * b), (0, 1))(x, x),
                            X3),
    "constant argument": (lambda x: funcdiff.grad(lambda a, c: jnp.sum(a * c), (0, 1))(x, 2.0),
                          X3),
    "closed-over tracer": (lambda x: funcdiff.grad(lambda c: c * x[0])(2.0), X3),
    "identity": (lambda x: funcdiff.grad(lambda c: c)(x), 2.0),
    "unused input": (funcdiff.grad(lambda x, y: jnp.sum(x * 2.0), (0, 1)), X3, X3),
    "integer input": (funcdiff.grad(lambda x, n: jnp.sum(x * n)), X3, 3),
    "matmul": (funcdiff.grad(lambda w: jnp.sum(jnp.tanh(X3 @ w) ** 2)), W),
    "mlp": (funcdiff.grad(_mlp, (0, 1)), W, W[0], W.T[:2]),
    "mlp f32": (funcdiff.grad(_mlp, (0, 1)), *(a.astype(np.float32) for a in (W, W[0], W.T[:2]))),
    "quotients": (funcdiff.grad(lambda x, y: jnp.sum(x / y + 2.0 / y + y / 3.0), (0, 1)), X3,
                  W[0, :3] + 2.0),
    "custom_jvp": (funcdiff.grad(lambda x: jnp.sum(_soft(x) * x)), X3),
    "custom_vjp": (funcdiff.grad(lambda x: jnp.sum(_clip(x * x))), X3),
    "grad of grad": (funcdiff.grad(funcdiff.grad(lambda x: jnp.sin(x) * x * x)), 0.7),
    "hessian": (funcdiff.hessian(lambda x: jnp.sum(jnp.sin(x) * x)), X3),
    "cond": (funcdiff.grad(lambda x: lax.cond(x > 0, jnp.sin, jnp.cos, x)), 0.3),
    "fori_loop": (funcdiff.grad(lambda x: lax.fori_loop(0, 3, lambda i, c: jnp.sin(c) * x, x)),
                  0.3),
    "scan": (funcdiff.grad(lambda x: lax.scan(lambda c, y: (c * y, jnp.sin(c)), x, X3)[0]), 0.4),
    "inner jit": (funcdiff.grad(lambda x: jnp.sum(funcdiff.jit(jnp.tanh)(x) * x)), X3),
    "inner vmap": (funcdiff.grad(lambda x: jnp.sum(funcdiff.vmap(jnp.sin)(x) @ W)), X3),
    "checkpoint": (funcdiff.grad(lambda x: funcdiff.checkpoint(lambda y: jnp.sin(jnp.sin(y)))(x)),
                   0.3),
    "stop_gradient": (funcdiff.grad(lambda x: jnp.sum(funcdiff.lax.stop_gradient(x) * x)), X3),
    "linearize": (lambda x: funcdiff.linearize(lambda y: jnp.sin(y) * y, x)[1](x), X3),
    "vjp pulled under vmap": (lambda x: funcdiff.vmap(funcdiff.vjp(jnp.sin, x)[1])(W[:, :3]), X3),
    "vjp pulled twice": (lambda x: [funcdiff.vjp(lambda y: jnp.sin(y) * y, x)[1](c)
                                    for c in (x, 2.0 * x)], X3),
    "debug print": (funcdiff.grad(lambda x: funcdiff.debug.print("{}", x) or jnp.sin(x) * x), 0.5),
    "vjp with aux": (lambda x: funcdiff.vjp(lambda y: (jnp.sin(y), y * 2.0), x, has_aux=True)[1](x),
                     X3),
}


@pytest.mark.parametrize("name", list(CASES))
def test_programs_match_the_general_path(name):
    f, *args = CASES[name]
    assert_same_programs(f, *args)


def test_errors_match_the_general_path():
    def f(x):
        return lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * 1.5), (0, x))[1]

    messages = []
    for on in (False, True):
        with _direct(on), pytest.raises(TypeError) as info:
            funcdiff.jit(funcdiff.grad(f))(0.2)
        messages.append(str(info.value))
    assert "while_loop" in messages[0] and messages[0] == messages[1]


def test_the_chain_takes_the_direct_rules():
    f, *args = CASES["chain"]
    assert _direct_rules_used(f, *args) >= 6 * 7
    assert _direct_rules_used(*CASES["broadcast add"]) >= 2
    transposed = staged_ad.direct_transpose_rules
    assert _direct_rules_used(f, *args, table=transposed) >= 6 * 7


def _taken(p: core.Primitive, f: Callable[..., Any], *args: Any) -> int:
    """How many equations of `p` its direct JVP rule handled while staging `f`."""
    rules, calls = staged_ad.direct_jvp_rules, []
    rule = rules[p]
    rules[p] = lambda *a, **k: calls.append(rule(*a, **k)) or calls[-1]
    try:
        funcdiff.make_jaxpr(f)(*args)
    finally:
        rules[p] = rule
    return sum(out is not NotImplemented for out in calls)


def test_an_mlp_takes_the_direct_rules_of_its_elementwise_operations():
    # tanh, logistic, exp, log, div and dot_general, each by its direct rule
    by_name = {p.name: p for p in staged_ad.direct_jvp_rules}
    for name in ("tanh", "logistic", "exp", "log", "div", "dot_general"):
        for case in ("mlp", "mlp f32"):
            assert _taken(by_name[name], *CASES[case]) >= 1, (name, case)
    assert _taken(by_name["div"], *CASES["quotients"]) == 3


def test_converting_a_differentiated_value_names_the_derivative():
    def f(x):
        return x * float(jnp.sin(x))

    def g(x):
        return x * float(jnp.sin(X3[0] * 2.0))

    for on in (False, True):
        with _direct(on):
            with pytest.raises(funcdiff.errors.ConcretizationTypeError, match="differentiated"):
                funcdiff.jit(funcdiff.grad(f))(0.5)
            with pytest.raises(funcdiff.errors.ConcretizationTypeError) as info:
                funcdiff.jit(funcdiff.grad(g))(0.5)
            assert "differentiated" not in str(info.value)


def test_switch_is_on_and_used_under_jit():
    assert ad.use_direct_linearize
    seen = []
    original = ad.staged_linearize

    def spy(*args):
        seen.append(1)
        return original(*args)

    ad.staged_linearize = spy
    try:
        funcdiff.jit(funcdiff.grad(_chain))(X3)
        funcdiff.grad(_chain)(X3)  # eager: the tape, not the staged path
        funcdiff.jit(funcdiff.vmap(funcdiff.grad(_chain)))(X3[:, None])  # under vmap: general
    finally:
        ad.staged_linearize = original
    assert seen == [1]


def test_module_stays_importable_in_isolation():
    assert "funcdiff._src.interpreters.ad" in sys.modules


def test_dot_general_transposes_directly_in_each_layout():
    # both cotangents of x @ w (w's contracted first, x's as it is), of w.T @ x, of a
    # contraction over a middle axis (permuted back), of a batched contraction and of a
    # mixed-precision product (`matmul` casts the f32 operand before it)
    cases = [
        (funcdiff.grad(lambda x, w: jnp.sum(jnp.tanh(x @ w)), (0, 1)), W.T[:2], W, 2),
        (funcdiff.grad(lambda x, w: jnp.sum(jnp.sin(w.T @ x)), (0, 1)), W[:, :2], W, 2),
        (funcdiff.grad(lambda x: jnp.sum(jnp.sin(jnp.einsum("bij,bjk->bik", x, x)))),
         np.stack([W[:, :3], W[:, 1:]]), 2),
        (funcdiff.grad(lambda x, w: jnp.sum(jnp.sin(lax.dot_general(x, w, (((1,), (0,)),
                                                                        ((), ()))))), (0, 1)),
         np.linspace(0.0, 1.0, 30).reshape(3, 2, 5), W[:2], 2),
        (funcdiff.grad(lambda x, w: jnp.sum(jnp.sin(x @ w)), (0, 1)), X3.astype(np.float32), W,
         2),
    ]
    rules = staged_ad.direct_transpose_rules
    (dot,) = [p for p in rules if p.name == "dot_general"]
    rule, calls = rules[dot], []
    for f, *args, expected in cases:
        assert_same_programs(f, *args)
        rules[dot] = lambda *a, **k: calls.append(rule(*a, **k)) or calls[-1]
        try:
            funcdiff.make_jaxpr(f)(*args)
        finally:
            rules[dot] = rule
        assert sum(c is not NotImplemented for c in calls) == expected, f
        calls.clear()
