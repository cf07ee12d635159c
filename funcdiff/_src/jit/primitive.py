"""The `jit` primitive: a call of a traced program, which keeps a jitted function one unit
under every transformation. Its rules make new jitted programs: the JVP of the program, its
split into known and unknown parts, its transpose and its batched form (from
`lax._jaxprs`); it runs as the compiled program (`cache.compiled`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from funcdiff._src.core import ClosedJaxpr, JaxprEqn, ShapedArray
from funcdiff._src.interpreters import ad
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.interpreters.ad import Zero, is_undefined_primal
from funcdiff._src.jit import cache, lowering
from funcdiff._src.lax import _jaxprs as jaxprs
from funcdiff._src.lax._define import define_primitive

# ---- the jit primitive ----------------------------------------------------------------------


_compiled = cache.compiled


def _jit_impl(*args: Any, jaxpr: ClosedJaxpr, name: str) -> list[Any]:
    return jaxprs.call(jaxpr, *args)


def _jit_abstract(*avals: ShapedArray, jaxpr: ClosedJaxpr, name: str) -> list[ShapedArray]:
    return jaxpr.out_avals


def _jit_jvp(primals: Sequence[Any], tangents: Sequence[Any], *, jaxpr: ClosedJaxpr, name: str):
    nonzeros = tuple(type(t) is not Zero for t in tangents)
    jvp_jaxpr, out_nonzero = jaxprs.jvp_jaxpr(jaxpr, nonzeros)
    outs = jit_p.bind(
        *primals,
        *[t for t in tangents if type(t) is not Zero],
        jaxpr=jvp_jaxpr,
        name=f"jvp({name})",
    )
    n = len(jaxpr.out_avals)
    it = iter(outs[n:])
    out_t = [
        next(it) if nz else Zero(ad.tangent_aval(a)) for nz, a in zip(out_nonzero, jaxpr.out_avals)
    ]
    return outs[:n], out_t


_split = jaxprs.split


def _jit_partial_eval_jaxpr(eqn: JaxprEqn, unknowns: list[bool]):
    """Split a nested jit equation inside a jaxpr being partially evaluated."""
    return pe.split_call_eqn(eqn, unknowns, _split(eqn.params["jaxpr"], tuple(unknowns)))


def _jit_transpose(cts: Sequence[Any], *args: Any, jaxpr: ClosedJaxpr, name: str) -> list[Any]:
    undefined = [is_undefined_primal(a) for a in args]
    ct_nonzero = [type(c) is not Zero for c in cts]
    t_jaxpr = jaxprs.transpose_jaxpr(jaxpr, undefined, ct_nonzero)
    outs = jit_p.bind(
        *[a for a, u in zip(args, undefined) if not u],
        *[c for c in cts if type(c) is not Zero],
        jaxpr=t_jaxpr,
        name=f"transpose({name})",
    )
    it = iter(outs)
    return [next(it) if u else None for u in undefined]


def _jit_batch(
    axis_size: int,
    vals: Sequence[Any],
    dims: Sequence[int | None],
    *,
    jaxpr: ClosedJaxpr,
    name: str,
) -> tuple[list[Any], list[int | None]]:
    batched, out_dims = jaxprs.batch_jaxpr(jaxpr, dims, axis_size)
    return jit_p.bind(*vals, jaxpr=batched, name=f"vmap({name})"), out_dims


def _jit_lower(ctx: lowering.LoweringContext, *args: str, jaxpr: ClosedJaxpr, name: str) -> str:
    # Nested jit calls are normally inlined by `passes.optimize`; this is the fallback.
    fn = ctx.const(_compiled(jaxpr), "j")
    return f"{fn}({', '.join(args)})"


jit_p = define_primitive(
    "jit",
    multiple_results=True,
    impl=_jit_impl,
    abstract_eval=_jit_abstract,
    jvp=_jit_jvp,
    transpose=_jit_transpose,
    batch=_jit_batch,
    partial_eval_jaxpr=_jit_partial_eval_jaxpr,
    lower=_jit_lower,
    # A call costs what its program runs (the call itself does no array work).
    cost=cost_mod.call_cost,
    # passes.inline_calls replaces the call by its program's equations.
    inline="jaxpr",
)
# Run through a vmap whose named axis its program's collectives name, on any operands.
jaxprs.carrier(jit_p)
