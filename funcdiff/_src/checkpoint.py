"""Rematerialisation: `checkpoint` (`remat`), a primitive carrying the traced block, whose
partial evaluation recomputes in the backward pass the values the `checkpoint_policies`
policy does not save."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.checkpoint_policies import (
    name_p,
    nothing_saveable,
    saves,
    unsaved_names,
)
from funcdiff._src.core import ClosedJaxpr, Jaxpr, JaxprEqn, Var
from funcdiff._src.custom_calls import _merge, _split_nondiff, _trace
from funcdiff._src.interpreters import ad
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.interpreters.ad import Zero, is_undefined_primal
from funcdiff._src.lax import _jaxprs as jaxprs
from funcdiff._src.lax._define import define_primitive
from funcdiff._src.tree_util import tree_flatten, tree_unflatten

# ---- checkpoint -----------------------------------------------------------------------------


def _choose_residuals(unknown_eqns, unknown_vars, producer, saveable, unsaved):
    """Walk back from what the unknown part reads: save inputs and policy-saveable results,
    recompute the rest. A value named with one of the `unsaved` names is recomputed with its
    producer, whose result would otherwise be saved instead. Returns the residuals and the
    ids of the equations to recompute."""
    residuals: list[Var] = []
    recompute: set[int] = set()
    seen: set[Var] = set()
    stack = [
        (a, False)
        for e in unknown_eqns
        for a in e.invars
        if type(a) is Var and a not in unknown_vars
    ]
    while stack:
        v, forced = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        eqn = producer.get(v)
        if eqn is None or (
            not forced and saves(saveable, eqn.primitive, [a.aval for a in eqn.invars], eqn.params)
        ):
            residuals.append(v)
            continue
        recompute.add(id(eqn))
        named_unsaved = eqn.primitive is name_p and eqn.params["name"] in unsaved
        stack.extend((a, named_unsaved) for a in eqn.invars if type(a) is Var)
    return residuals, recompute


def _names_values(jaxpr: Jaxpr) -> bool:
    """Whether `jaxpr` or a program inside it names a value (`checkpoint_name`)."""
    for eqn in jaxpr.eqns:
        if eqn.primitive is name_p:
            return True
        for param in eqn.params.values():
            if isinstance(param, ClosedJaxpr) and _names_values(param.jaxpr):
                return True
    return False


def _is_naming_jit(eqn: JaxprEqn) -> bool:
    return eqn.primitive.name == "jit" and _names_values(eqn.params["jaxpr"].jaxpr)


def _inline_naming_jits(closed: ClosedJaxpr) -> ClosedJaxpr:
    """`closed` with the calls of jitted functions that name values replaced by their
    equations, so that the policy sees the names inside them, as JAX's does (other programs
    are left as they are)."""
    j = closed.jaxpr
    if not any(_is_naming_jit(e) for e in j.eqns):
        return closed
    constvars, consts = list(j.constvars), list(closed.consts)
    env: dict[Var, Any] = {}  # the outputs of inlined calls, by what computes them now

    def read(sub: dict[Var, Any], a: Any) -> Any:
        return sub.get(a, a) if type(a) is Var else a

    eqns: list[JaxprEqn] = []
    for eqn in j.eqns:
        invars = [read(env, a) for a in eqn.invars]
        if not _is_naming_jit(eqn):
            eqns.append(eqn.replace(invars=invars))
            continue
        callee = _inline_naming_jits(eqn.params["jaxpr"])
        sub: dict[Var, Any] = dict(zip(callee.jaxpr.invars, invars))
        for v, c in zip(callee.jaxpr.constvars, callee.consts):
            sub[v] = Var(v.aval)
            constvars.append(sub[v])
            consts.append(c)
        for inner in callee.jaxpr.eqns:
            outs = [Var(v.aval) for v in inner.outvars]
            eqns.append(inner.replace(invars=[read(sub, a) for a in inner.invars], outvars=outs))
            sub.update(zip(inner.outvars, outs))
        env.update((v, read(sub, a)) for v, a in zip(eqn.outvars, callee.jaxpr.outvars))
    outvars = [read(env, a) for a in j.outvars]
    return ClosedJaxpr(Jaxpr(constvars, list(j.invars), eqns, outvars), consts)


def _remat_split(jaxpr: ClosedJaxpr, unknowns: Sequence[bool], policy: Any):
    """Like `partial_eval_jaxpr`, but the unknown part recomputes the known values it needs
    from the block's known inputs, except those the policy saves."""
    key = ("remat", tuple(unknowns), policy)

    def make():
        closed = _inline_naming_jits(jaxpr)
        j = closed.jaxpr
        saveable = policy or nothing_saveable
        unknown_vars = {v for v, u in zip(j.invars, unknowns) if u}
        producer: dict[Var, JaxprEqn] = {}
        known_eqns, unknown_eqns = [], []
        for eqn in j.eqns:
            ins_unknown = [type(a) is Var and a in unknown_vars for a in eqn.invars]
            rule = pe.partial_eval_jaxpr_rules.get(eqn.primitive)
            if not any(ins_unknown):
                known_eqn, unknown_eqn = eqn, None
            elif rule is None:
                known_eqn, unknown_eqn = None, eqn
                unknown_vars.update(eqn.outvars)
            else:
                # A higher-order equation (the JVP of a cond, scan, jit or checkpoint) has
                # primal outputs next to its tangent ones: split it as partial evaluation
                # does, so that the primal outputs stay known. Its known half is recomputed
                # like any other equation unless the policy saves its results.
                known_eqn, unknown_eqn, eqn_out_uk = rule(eqn, ins_unknown)
                unknown_vars.update(v for v, u in zip(eqn.outvars, eqn_out_uk) if u)
            if known_eqn is not None:
                known_eqns.append(known_eqn)
                for v in known_eqn.outvars:
                    producer[v] = known_eqn
            if unknown_eqn is not None:
                unknown_eqns.append(unknown_eqn)
        out_uk = [type(a) is Var and a in unknown_vars for a in j.outvars]
        residuals, recompute = _choose_residuals(
            unknown_eqns, unknown_vars, producer, saveable, unsaved_names(policy)
        )
        recompute_eqns = [e for e in known_eqns if id(e) in recompute]
        known_outs = [a for a, u in zip(j.outvars, out_uk) if not u]
        known = pe.dce_jaxpr(
            ClosedJaxpr(
                Jaxpr(
                    list(j.constvars),
                    [v for v, u in zip(j.invars, unknowns) if not u],
                    known_eqns,
                    known_outs + residuals,
                ),
                closed.consts,
            )
        )
        unknown = ClosedJaxpr(
            Jaxpr(
                [],
                residuals + [v for v, u in zip(j.invars, unknowns) if u],
                recompute_eqns + unknown_eqns,
                [a for a, u in zip(j.outvars, out_uk) if u],
            ),
            [],
        )
        return known, unknown, out_uk, len(residuals)

    return jaxprs.derived(jaxpr, key, make)


def _checkpoint_jvp(primals, tangents, *, jaxpr, policy):
    nonzeros = [type(t) is not Zero for t in tangents]
    jvp, out_nz = jaxprs.jvp_jaxpr(jaxpr, nonzeros)
    outs = checkpoint_p.bind(
        *primals, *[t for t in tangents if type(t) is not Zero], jaxpr=jvp, policy=policy
    )
    n = len(jaxpr.out_avals)
    it = iter(outs[n:])
    return outs[:n], [
        next(it) if nz else Zero(ad.tangent_aval(a)) for nz, a in zip(out_nz, jaxpr.out_avals)
    ]


def _checkpoint_partial_eval(trace, tracers, *, jaxpr, policy):
    unknowns = [not t.is_known for t in tracers]
    known, unknown, out_uk, n_res = _remat_split(jaxpr, unknowns, policy)
    known_outs = (
        jaxprs.call(known, *[t.known for t in tracers if t.is_known])
        if not any(isinstance(t.known, core.Tracer) for t in tracers if t.is_known)
        else core.eval_jaxpr(known.jaxpr, known.consts, *[t.known for t in tracers if t.is_known])
    )
    n_known = len(known_outs) - n_res
    residuals = [trace.pure(r) for r in known_outs[n_known:]]
    unknown_outs = trace.emit(
        checkpoint_p,
        residuals + [t for t in tracers if not t.is_known],
        {"jaxpr": unknown, "policy": policy},
        unknown.out_avals,
    )
    k, u = iter(known_outs[:n_known]), iter(unknown_outs)
    return [next(u) if is_u else next(k) for is_u in out_uk]


def _checkpoint_partial_eval_jaxpr(eqn, unknowns):
    split = _remat_split(eqn.params["jaxpr"], unknowns, eqn.params["policy"])
    return pe.split_call_eqn(eqn, unknowns, split)


def _checkpoint_transpose(cts, *args, jaxpr, policy):
    undefined = [is_undefined_primal(a) for a in args]
    ct_nonzero = [type(c) is not Zero for c in cts]
    t_jaxpr = jaxprs.transpose_jaxpr(jaxpr, undefined, ct_nonzero)
    outs = checkpoint_p.bind(
        *[a for a, u in zip(args, undefined) if not u],
        *[c for c in cts if type(c) is not Zero],
        jaxpr=t_jaxpr,
        policy=policy,
    )
    it = iter(outs)
    return [next(it) if u else None for u in undefined]


def _checkpoint_batch(axis_size, vals, dims, *, jaxpr, policy):
    batched, out_dims = jaxprs.batch_jaxpr(jaxpr, dims, axis_size)
    return checkpoint_p.bind(*vals, jaxpr=batched, policy=policy), out_dims


checkpoint_p = define_primitive(
    "checkpoint",
    multiple_results=True,
    impl=lambda *args, jaxpr, policy: jaxprs.call(jaxpr, *args),
    abstract_eval=lambda *avals, jaxpr, policy: jaxpr.out_avals,
    jvp=_checkpoint_jvp,
    transpose=_checkpoint_transpose,
    batch=_checkpoint_batch,
    # Not the mirror of the offline rule: the known half runs inline, not as a checkpoint.
    partial_eval=_checkpoint_partial_eval,
    partial_eval_jaxpr=_checkpoint_partial_eval_jaxpr,
    lower=lambda ctx, *args, jaxpr, policy: (
        f"{ctx.const(jaxprs.compiled(jaxpr).fn, 'j')}({', '.join(args)})"
    ),
    # Rematerialisation shows in the backward program, which runs the checkpointed jaxpr
    # again.
    cost=cost_mod.call_cost,
)
# Run through a vmap whose named axis its program's collectives name, on any operands.
jaxprs.carrier(checkpoint_p)


def checkpoint(
    fun: Callable[..., Any],
    *,
    prevent_cse: bool = True,
    policy: Any = None,
    static_argnums: int | Sequence[int] = (),
    static_argnames: str | Sequence[str] = (),
) -> Callable[..., Any]:
    """Rematerialise `fun` under reverse mode: the backward pass recomputes the values it
    needs from `fun`'s inputs instead of storing them, trading compute for memory.

    **Arguments:**

    - `fun`: the block to checkpoint.
    - `policy`: which values may still be saved, e.g.
      `checkpoint_policies.dots_saveable` (keep matrix products, recompute elementwise work)
      or `checkpoint_policies.save_only_these_names("h")` (keep the values named ``"h"``
      with `funcdiff.ad_checkpoint.checkpoint_name`); the default saves nothing but the
      block's inputs. `funcdiff.ad_checkpoint.print_saved_residuals` shows what is saved.
    - `prevent_cse`: accepted for JAX compatibility (funcdiff never merges the recomputation
      with the forward pass).
    - `static_argnums`: the positions (an int or a sequence of ints, negative counting from
      the end) of arguments passed to `fun` as the Python values they are, not traced, so
      `fun` may branch or loop on them; each call traces `fun` with the values it is given.
    - `static_argnames`: the same for keyword arguments, by name (a str or a sequence of
      them); the other keyword arguments are traced.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        block = funcdiff.checkpoint(lambda x: jnp.tanh(jnp.tanh(x)))
        g = funcdiff.grad(lambda x: jnp.sum(block(x)))(np.ones(3))
        assert np.allclose(g, funcdiff.grad(lambda x: jnp.sum(jnp.tanh(jnp.tanh(x))))(np.ones(3)))

        # As a decorator with keywords; `depth` stays a Python int.
        from functools import partial

        @partial(funcdiff.checkpoint, static_argnums=(1,),
                 policy=funcdiff.checkpoint_policies.dots_saveable)
        def layers(x, depth):
            for _ in range(depth):
                x = jnp.tanh(x)
            return x

        assert np.allclose(funcdiff.grad(lambda x: jnp.sum(layers(x, 2)))(np.ones(3)), g)
        ```
    """
    del prevent_cse
    nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    if not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in nums):
        raise TypeError(
            f"checkpoint: static_argnums must be an int or a sequence of ints, got "
            f"{static_argnums!r}"
        )

    names = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
    if not all(isinstance(n, str) for n in names):
        raise TypeError(
            f"checkpoint: static_argnames must be a str or a sequence of str, got "
            f"{static_argnames!r}"
        )

    @functools.wraps(fun, updated=())
    def checkpointed(*args: Any, **kwargs: Any) -> Any:
        static_kw = {n: kwargs.pop(n) for n in names if n in kwargs}
        if not all(-len(args) <= i < len(args) for i in nums):
            name = getattr(fun, "__name__", "fun")
            raise ValueError(
                f"checkpoint: static_argnums={static_argnums!r} names an argument "
                f"that {name} was not given: it was called with {len(args)} "
                "positional arguments (static arguments must be passed by "
                "position)"
            )
        positions = tuple(sorted({int(i) % len(args) for i in nums}))
        static, dyn = _split_nondiff(args, positions)
        leaves, in_tree = tree_flatten((tuple(dyn), kwargs))
        avals = [core.get_aval(x) for x in leaves]
        consts, closed, out_tree = _trace(
            lambda d, kw: fun(*_merge(static, d, positions), **kw, **static_kw), in_tree, avals
        )
        outs = checkpoint_p.bind(*consts, *leaves, jaxpr=closed, policy=policy)
        return tree_unflatten(out_tree, outs)

    return checkpointed


remat = checkpoint

__all__ = ["checkpoint", "remat"]
