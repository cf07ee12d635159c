"""The Array API lowering rules of the primitives that run sub-programs (`jit`,
`checkpoint`, the custom-derivative calls, `cond`, `while`, `scan`): each sub-program is
compiled for the same backend, which the rule asks for through ``ctx.target.sub_program``
(so that no rule imports the compiler). They join the table `array_api_rules.api_rules`
when `backends` imports this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from funcdiff._src import checkpoint, checkpoint_policies, custom_jvp, custom_vjp
from funcdiff._src.core import ClosedJaxpr
from funcdiff._src.interpreters.lowering_rules import LoweringContext
from funcdiff._src.jit import primitive
from funcdiff._src.jit.array_api_rules import Rule, _rule, api_rules
from funcdiff._src.lax import conditionals, loops, scans

# -- programs inside programs: compiled for the same backend --


def _program(ctx: LoweringContext, jaxpr: ClosedJaxpr) -> str:
    """The name of `jaxpr`'s compiled function, for the namespace being lowered to."""
    return ctx.const(ctx.target.sub_program(jaxpr).fn, "j")


def _calls_program(rule: Rule) -> Rule:
    rule.calls_program = True  # type: ignore[attr-defined]  # Python scalars: own dtype
    return rule


def _sub_program(param: str) -> Rule:
    def rule(ctx, *args, **params):
        return f"{_program(ctx, params[param])}({', '.join(args)})"

    return _calls_program(rule)


api_rules[primitive.jit_p] = _sub_program("jaxpr")
api_rules[checkpoint.checkpoint_p] = _sub_program("jaxpr")
api_rules[custom_jvp.custom_jvp_call_p] = _sub_program("call")
api_rules[custom_vjp.custom_vjp_call_p] = _sub_program("call")
# `checkpoint_name` is the identity wherever a checkpointed program runs.
api_rules[checkpoint_policies.name_p] = lambda ctx, x, *, name: x


@_rule(conditionals.cond_p)
@_calls_program
def _cond(ctx, index, *args, branches):
    fns = ctx.const(tuple(ctx.target.sub_program(b).fn for b in branches), "b")
    return f"{fns}[int({index})]({', '.join(args)})"


def _while_loop(cond: Callable, body: Callable, nc: int, nb: int, *args: Any) -> list[Any]:
    """`while`: the predicate is read as a Python bool each time (Dask computes it)."""
    cc, bc, carry = args[:nc], args[nc : nc + nb], list(args[nc + nb :])
    while bool(cond(*cc, *carry)[0]):
        carry = list(body(*bc, *carry))
    return carry


@_rule(loops.while_p)
@_calls_program
def _while(ctx, *args, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts, origin):
    loop = ctx.const(_while_loop, "f")
    cond, body = _program(ctx, cond_jaxpr), _program(ctx, body_jaxpr)
    return f"{loop}({', '.join([cond, body, str(cond_nconsts), str(body_nconsts), *args])})"


def _scan_loop(
    xp: Any,
    body: Callable,
    length: int,
    reverse: bool,
    nc: int,
    nk: int,
    y_avals: tuple,
    *args: Any,
) -> list[Any]:
    consts, carry, xs = args[:nc], list(args[nc : nc + nk]), args[nc + nk :]
    ys: list[list[Any]] = [[] for _ in y_avals]
    for i in range(length - 1, -1, -1) if reverse else range(length):
        outs = body(*consts, *carry, *[x[i, ...] for x in xs])
        carry = list(outs[:nk])
        for acc, y in zip(ys, outs[nk:]):
            acc.append(y)
    stacked = []
    for acc, (shape, dt) in zip(ys, y_avals):
        if reverse:
            acc.reverse()
        stacked.append(xp.stack(acc) if acc else xp.zeros((0, *shape), dtype=getattr(xp, dt)))
    return carry + stacked


@_rule(scans.scan_p)
@_calls_program
def _scan(ctx, *args, jaxpr, length, reverse, num_consts, num_carry):
    y_avals = tuple((a.shape, a.dtype.name) for a in jaxpr.out_avals[num_carry:])
    head = [
        ctx.const(_scan_loop, "f"),
        "xp",
        _program(ctx, jaxpr),
        str(length),
        str(reverse),
        str(num_consts),
        str(num_carry),
        ctx.param(y_avals),
    ]
    return f"{head[0]}({', '.join([*head[1:], *args])})"
