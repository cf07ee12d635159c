"""Structured control flow: `cond`/`switch`, `while_loop`/`fori_loop`, `scan`/`map`.

Each is a primitive whose bodies are traced to jaxprs (printed nested in `make_jaxpr`
output) and whose rules transform those jaxprs: JVP for all; partial evaluation and transpose
(hence `grad`) for `cond` and `scan` (and `fori_loop` with static bounds, which is a scan);
batching for all. Values a body closes over become explicit operands, so every
transformation sees them.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes
from funcdiff._src.core import ClosedJaxpr, Jaxpr, ShapedArray, Tracer, Var
from funcdiff._src.errors import user_source_line
from funcdiff._src.interpreters import ad, batching
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters import lowering_rules as lowering
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.interpreters.ad import Zero, is_undefined_primal
from funcdiff._src.lax import _jaxprs as jaxprs
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import reductions as red
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax.structural import move_to_front, moveaxis
from funcdiff._src.tree_util import (
    keystr,
    tree_flatten,
    tree_flatten_with_path,
    tree_structure,
    tree_unflatten,
)

Array = Any

# ---- tracing bodies -------------------------------------------------------------------------


def _trace_body(fun: Callable[..., Any], args_tree: Any, avals: Sequence[ShapedArray],
                strong: slice = slice(0)) -> tuple[list[Any], ClosedJaxpr, Any]:
    """Trace ``fun(*tree_unflatten(args_tree, leaves))`` to a jaxpr whose first inputs are the
    traced values it closes over. Returns ``(closed_over_values, jaxpr, out_tree)``.

    The output leaves in `strong` (a loop's carry) lose any weak type: carries are strong."""
    store: list[Any] = [None]

    def flat(*leaves: Any) -> list[Any]:
        out_leaves, store[0] = tree_flatten(fun(*tree_unflatten(args_tree, leaves)))
        for leaf in out_leaves:
            if not core.is_valid_array(leaf):
                raise TypeError(f"a control-flow body returned a {type(leaf).__name__}, "
                                "which is not an array")
        out_leaves[strong] = [_as_carry(x, core.get_aval(x)) for x in out_leaves[strong]]
        return out_leaves

    closed = pe.trace_to_jaxpr(flat, avals)
    consts, converted = jaxprs.closure_convert(closed)
    return consts, converted, store[0]


def _add_inputs(closed: ClosedJaxpr, before: Sequence[ShapedArray] = (),
                after: Sequence[ShapedArray] = ()) -> ClosedJaxpr:
    """The same jaxpr with extra unused inputs."""
    j = closed.jaxpr
    invars = [Var(a) for a in before] + list(j.invars) + [Var(a) for a in after]
    return ClosedJaxpr(Jaxpr(list(j.constvars), invars, j.eqns, j.outvars), closed.consts)


def _permute_inputs(closed: ClosedJaxpr, order: Sequence[int]) -> ClosedJaxpr:
    """The jaxpr whose input ``k`` is the old input ``order[k]``."""
    j = closed.jaxpr
    return ClosedJaxpr(Jaxpr(list(j.constvars), [j.invars[i] for i in order], j.eqns,
                             j.outvars), closed.consts)


def _permute_outputs(closed: ClosedJaxpr, order: Sequence[int]) -> ClosedJaxpr:
    j = closed.jaxpr
    return ClosedJaxpr(Jaxpr(list(j.constvars), list(j.invars), j.eqns,
                             [j.outvars[i] for i in order]), closed.consts)


def _avals(xs: Sequence[Any]) -> list[ShapedArray]:
    return [core.get_aval(x) for x in xs]


def _describe(avals: Sequence[ShapedArray]) -> str:
    return "(" + ", ".join(a.str_short() for a in avals) + ")"


def _check_same_types(what: str, tree1: Any, avals1: Sequence[ShapedArray], tree2: Any,
                      avals2: Sequence[ShapedArray]) -> None:
    if tree1 != tree2:
        raise TypeError(f"{what}: structures differ: {tree1} and {tree2}"
                        + _where())
    for i, (a, b) in enumerate(zip(avals1, avals2)):
        if a.shape != b.shape or a.dtype != b.dtype:
            raise TypeError(
                f"{what}: leaf {i} is {a.str_short()} in one and {b.str_short()} in the other; "
                f"they must match (all: {_describe(avals1)} vs {_describe(avals2)})." + _where()
            )


def _where() -> str:
    line = user_source_line()
    return f" (at {line})" if line else ""


def _strip_weak(avals: Sequence[ShapedArray]) -> list[ShapedArray]:
    return [a.strip_weak_type() for a in avals]


def _as_carry(x: Any, aval: ShapedArray) -> Any:
    """Give a loop-carried value the carry's (strong) dtype."""
    return ew.convert_element_type(x, aval.dtype) if core.get_aval(x).weak_type else x


# ---- loop carries ---------------------------------------------------------------------------


def _promote_weak(x: Any, aval: ShapedArray, out: ShapedArray) -> Any:
    """A weakly typed initial carry leaf (a Python scalar) takes the dtype the body gives it,
    as in JAX: ``0`` carried through ``c + 1.5`` becomes a float, ``0.0`` through
    ``c + float32_array`` a float32. Strong leaves are returned as they are."""
    if not aval.weak_type or aval.dtype == out.dtype:
        return x
    dtype, _ = dtypes.result_type((aval.dtype, True), (out.dtype, out.weak_type))
    return ew.convert_element_type(x, dtype)


def _trace_loop_body(trace: Callable[[list[ShapedArray]], tuple[Any, Any, list[ShapedArray]]],
                     init: Any, what: str, init_name: str) -> tuple[list[Any], Any, Any]:
    """Trace a loop body on the initial carry `init` (a pytree the user named `init_name`).

    ``trace(carry_avals)`` traces the body and returns ``(traced, carry_out_tree,
    carry_out_avals)``. Weakly typed leaves are first promoted to the dtypes the body gives them
    (from a look at the body traced on the weak types), then the body is traced on the strong
    carry types, and its output carry must match them. Returns ``(leaves, tree, traced)``.
    """
    leaves, tree = tree_flatten(init)
    avals = _avals(leaves)
    if any(a.weak_type for a in avals):
        _, out_tree, out_avals = trace(avals)
        if out_tree == tree:
            leaves = [_promote_weak(x, a, o) for x, a, o in zip(leaves, avals, out_avals)]
            avals = _avals(leaves)
    avals = _strip_weak(avals)
    leaves = [_as_carry(x, a) for x, a in zip(leaves, avals)]
    traced, out_tree, out_avals = trace(avals)
    if out_tree != tree:
        raise TypeError(f"{what} must return a carry with the structure of {init_name}, "
                        f"{tree}, but it returned {out_tree}" + _where())
    names = [init_name + keystr(path) for path, _ in tree_flatten_with_path(init)[0]]
    for name, a, b in zip(names, avals, out_avals):
        if a.shape != b.shape or a.dtype != b.dtype:
            raise TypeError(
                f"{what} returned the carry {name} as {b.str_short()}, but it enters the loop "
                f"as {a.str_short()}; a loop carry must keep its shapes and dtypes (carry in: "
                f"{_describe(avals)}, out: {_describe(out_avals)})." + _where()
            )
    return leaves, tree, traced


def _carry_values(values: Sequence[Any], avals: Sequence[ShapedArray]) -> list[Any]:
    """Run-time carries keep the kind their types promise: a strong carry that the body
    computed as a Python scalar (say, from a `fori_loop` index) becomes a NumPy scalar, and a
    weak scalar carry that a compiled body returned as a NumPy scalar becomes a Python scalar
    again, so that it cannot promote the other carries on the next iteration."""
    out = []
    for v, a in zip(values, avals):
        if a.weak_type:
            if isinstance(v, np.generic):
                v = v.item()
        elif type(v) in (bool, int, float, complex):
            v = a.dtype.type(v)
        out.append(v)
    return out


# ---- cond / switch --------------------------------------------------------------------------

cond_p = core.Primitive("cond", multiple_results=True)


def _cond_impl(index: Any, *args: Any, branches: tuple[ClosedJaxpr, ...]) -> list[Any]:
    i = builtins.min(builtins.max(int(index), 0), len(branches) - 1)
    return jaxprs.call(branches[i], *args)


def _cond_abstract(index: ShapedArray, *avals: ShapedArray, branches) -> list[ShapedArray]:
    return branches[0].out_avals


cond_p.def_impl(_cond_impl)
cond_p.def_abstract_eval(_cond_abstract)


def _cond_jvp(primals, tangents, *, branches):
    index, *args = primals
    nonzeros = [type(t) is not Zero for t in tangents[1:]]
    out_avals = branches[0].out_avals
    inst = [dtypes.is_inexact(a.dtype) for a in out_avals]
    jvps = [jaxprs.jvp_jaxpr(b, nonzeros, inst)[0] for b in branches]
    out_nz = jaxprs.jvp_jaxpr(branches[0], nonzeros, inst)[1]
    outs = cond_p.bind(index, *args, *[t for t in tangents[1:] if type(t) is not Zero],
                       branches=tuple(jvps))
    n = len(out_avals)
    it = iter(outs[n:])
    return outs[:n], [next(it) if nz else Zero(ad.tangent_aval(a))
                      for nz, a in zip(out_nz, out_avals)]


ad.jvp_rules[cond_p] = _cond_jvp


def _split_branches(branches: Sequence[ClosedJaxpr], unknowns: Sequence[bool]):
    """Split every branch with one output pattern and one (union) residual signature.

    Returns ``(known_branches, unknown_branches, out_unknowns, num_residuals)``."""
    out_uk = [False] * len(branches[0].out_avals)
    for b in branches:
        out_uk = [u or v for u, v in zip(out_uk, jaxprs.split(b, unknowns)[2])]
    splits = [jaxprs.split(b, unknowns, out_uk) for b in branches]
    res_avals = [k.out_avals[len(k.out_avals) - n_res:] for k, _, _, n_res in splits]
    all_res = [a for avals in res_avals for a in avals]
    known_in = [a for a, u in zip(branches[0].in_avals, unknowns) if not u]
    unknown_in = [a for a, u in zip(branches[0].in_avals, unknowns) if u]
    known_branches, unknown_branches = [], []
    offset = 0
    for known, unknown, _, n_res in splits:
        lo, hi = offset, offset + n_res
        offset = hi

        def known_fun(*ks, known=known, n_res=n_res, lo=lo, hi=hi):
            outs = core.eval_jaxpr(known.jaxpr, known.consts, *ks)
            n_out = len(outs) - n_res
            zeros = [np.zeros(a.shape, a.dtype) for a in all_res]
            return list(outs[:n_out]) + zeros[:lo] + list(outs[n_out:]) + zeros[hi:]

        def unknown_fun(*xs, unknown=unknown, lo=lo, hi=hi):
            res, ins = xs[: len(all_res)], xs[len(all_res):]
            return core.eval_jaxpr(unknown.jaxpr, unknown.consts, *res[lo:hi], *ins)

        known_branches.append(pe.trace_to_jaxpr(known_fun, known_in))
        unknown_branches.append(pe.trace_to_jaxpr(unknown_fun, all_res + unknown_in))
    return tuple(known_branches), tuple(unknown_branches), out_uk, len(all_res)


def _cond_partial_eval(trace: pe.JaxprTrace, tracers: list[pe.JaxprTracer], *, branches):
    index, *args = tracers
    if not index.is_known:
        raise TypeError("cond: the branch index cannot depend on a differentiated value")
    unknowns = [not t.is_known for t in args]
    known_b, unknown_b, out_uk, n_res = _split_branches(branches, unknowns)
    known_outs = cond_p.bind(index.known, *[t.known for t in args if t.is_known],
                             branches=known_b)
    n_known = len(known_outs) - n_res
    residuals = [trace.pure(r) for r in known_outs[n_known:]]
    unknown_outs = trace.emit(cond_p, [index, *residuals, *[t for t in args if not t.is_known]],
                              {"branches": unknown_b}, unknown_b[0].out_avals)
    k, u = iter(known_outs[:n_known]), iter(unknown_outs)
    return [next(u) if is_u else next(k) for is_u in out_uk]


pe.partial_eval_rules[cond_p] = _cond_partial_eval


def _cond_partial_eval_jaxpr(eqn, unknowns):
    if unknowns[0]:
        raise TypeError("cond: the branch index cannot depend on a differentiated value")
    branches = eqn.params["branches"]
    arg_uk = unknowns[1:]
    known_b, unknown_b, out_uk, n_res = _split_branches(branches, arg_uk)
    res_vars = [Var(a) for a in known_b[0].out_avals[len(known_b[0].out_avals) - n_res:]]
    index, *args = eqn.invars
    known_eqn = eqn.replace(
        invars=[index, *[a for a, u in zip(args, arg_uk) if not u]],
        outvars=[v for v, u in zip(eqn.outvars, out_uk) if not u] + res_vars,
        params={"branches": known_b})
    unknown_eqn = eqn.replace(
        invars=[index, *res_vars, *[a for a, u in zip(args, arg_uk) if u]],
        outvars=[v for v, u in zip(eqn.outvars, out_uk) if u],
        params={"branches": unknown_b})
    return known_eqn, unknown_eqn, out_uk


pe.partial_eval_jaxpr_rules[cond_p] = _cond_partial_eval_jaxpr


def _cond_transpose(cts, index, *args, branches):
    undefined = [is_undefined_primal(a) for a in args]
    ct_nonzero = [type(c) is not Zero for c in cts]
    transposed = tuple(jaxprs.transpose_jaxpr(b, undefined, ct_nonzero) for b in branches)
    outs = cond_p.bind(index, *[a for a, u in zip(args, undefined) if not u],
                       *[c for c in cts if type(c) is not Zero], branches=transposed)
    it = iter(outs)
    return [None] + [next(it) if u else None for u in undefined]


ad.transpose_rules[cond_p] = _cond_transpose


def _cond_batch(vals, dims, *, branches):
    index, *args = vals
    bi, *arg_dims = dims
    size = next(core.get_aval(v).shape[d] for v, d in zip(vals, dims) if d is not None)
    if bi is not None:
        # A batched index: compute every branch and select per batch element.
        outs_per_branch = []
        for b in branches:
            batched, _ = jaxprs.batch_jaxpr(b, arg_dims, size, force_batched=True)
            outs_per_branch.append(jaxprs.call(batched, *args))
        index = moveaxis(index, bi, 0)
        results = []
        for k in range(len(branches[0].out_avals)):
            cases = [outs[k] for outs in outs_per_branch]
            shape = core.get_aval(cases[0]).shape
            which = sh.broadcast_in_dim(index, shape, (0,))
            results.append(ew.select_n(which, *cases))
        return results, [0] * len(results)
    forced = [False] * len(branches[0].out_avals)
    for b in branches:
        _, out_dims = jaxprs.batch_jaxpr(b, arg_dims, size)
        forced = [f or d is not None for f, d in zip(forced, out_dims)]
    batched = tuple(jaxprs.batch_jaxpr(b, arg_dims, size, forced)[0] for b in branches)
    outs = cond_p.bind(index, *args, branches=batched)
    return outs, [0 if f else None for f in forced]


batching.batch_rules[cond_p] = _cond_batch


def _cond_lower(ctx: lowering.LoweringContext, index: str, *args: str, branches) -> str:
    # The index was clamped when the cond was built (switch clamps it).
    fns = ctx.const(tuple(jaxprs.compiled(b).fn for b in branches), "b")
    return f"{fns}[{index}]({', '.join(args)})"


lowering.register(cond_p, _cond_lower)


def _cond_cost(avals_in, avals_out, *, branches):
    # Which branch runs is known only at run time: count the costliest one, field by field.
    costs = [cost_mod.jaxpr_cost(b) for b in branches]
    total = cost_mod.maximum(costs)
    if len(branches) > 1:
        total = total.with_note("cond: the costliest branch is counted (the maximum over the "
                                "branches, field by field)")
    return total


cost_mod.cost_rules[cond_p] = _cond_cost


def switch(index: Array, branches: Sequence[Callable[..., Any]], *operands: Any) -> Any:
    """Apply ``branches[index](*operands)``; `index` is clamped to the valid range, as in JAX.

    Every branch is traced (to a sub-jaxpr) and must return the same structure, shapes and
    dtypes. Differentiable in both modes and batchable (a batched index selects per element).

    !!! Example
        ```python
        import funcdiff
        from funcdiff import lax

        f = lambda i, x: lax.switch(i, [lambda x: x * 2, lambda x: x ** 2], x)
        assert f(1, 3.0) == 9.0 and funcdiff.grad(f, argnums=1)(1, 3.0) == 6.0
        ```
    """
    if not branches:
        raise ValueError("switch needs at least one branch")
    if core.get_aval(index).shape != ():
        raise TypeError(f"switch: the index must be a scalar, got {core.get_aval(index)}")
    index = ew.convert_element_type(index, np.int32)
    index = ew.clamp(np.int32(0), index, np.int32(len(branches) - 1))
    return _switch(index, branches, operands)


def _switch(index: Array, branches: Sequence[Callable[..., Any]], operands: tuple) -> Any:
    leaves, tree = tree_flatten(operands)
    avals = _strip_weak(_avals(leaves))
    traced = [_trace_body(b, tree, avals) for b in branches]
    out_tree = traced[0][2]
    for _, jaxpr, t in traced[1:]:
        _check_same_types("switch/cond branch outputs", out_tree, traced[0][1].out_avals, t,
                          jaxpr.out_avals)
    const_avals = [_avals(c) for c, _, _ in traced]
    all_consts = [c for consts, _, _ in traced for c in consts]
    branch_jaxprs = []
    for i, (_, jaxpr, _) in enumerate(traced):
        before = [a for avals in const_avals[:i] for a in avals]
        after = [a for avals in const_avals[i + 1:] for a in avals]
        j = jaxpr.jaxpr
        n_own = len(const_avals[i])
        own, rest = j.invars[:n_own], j.invars[n_own:]
        invars = [Var(a) for a in before] + own + [Var(a) for a in after] + rest
        branch_jaxprs.append(ClosedJaxpr(Jaxpr(list(j.constvars), invars, j.eqns, j.outvars),
                                         jaxpr.consts))
    outs = cond_p.bind(index, *all_consts, *leaves, branches=tuple(branch_jaxprs))
    return tree_unflatten(out_tree, outs)


def cond(pred: Array, true_fun: Callable[..., Any], false_fun: Callable[..., Any],
         *operands: Any) -> Any:
    """``true_fun(*operands)`` if `pred` else ``false_fun(*operands)``, staged as one
    primitive (use it instead of a Python ``if`` on a traced value).

    !!! Example
        ```python
        import funcdiff
        from funcdiff import lax

        relu = lambda x: lax.cond(x > 0, lambda x: x, lambda x: 0.0 * x, x)
        assert funcdiff.jit(relu)(-2.0) == 0.0 and funcdiff.grad(relu)(3.0) == 1.0
        ```
    """
    pred_aval = core.get_aval(pred)
    if pred_aval.shape != ():
        raise TypeError(f"cond: the predicate must be a scalar, got shape {pred_aval.shape}; "
                        "for elementwise choices use funcdiff.numpy.where.")
    index = ew.convert_element_type(ew.convert_element_type(pred, np.bool_), np.int32)
    return _switch(index, [false_fun, true_fun], operands)


# ---- while_loop -----------------------------------------------------------------------------

while_p = core.Primitive("while", multiple_results=True)


def _while_impl(*args: Any, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts, origin
                ) -> list[Any]:
    cc = list(args[:cond_nconsts])
    bc = list(args[cond_nconsts:cond_nconsts + body_nconsts])
    carry = list(args[cond_nconsts + body_nconsts:])
    while bool(jaxprs.call(cond_jaxpr, *cc, *carry)[0]):
        carry = _carry_values(jaxprs.call(body_jaxpr, *bc, *carry), body_jaxpr.out_avals)
    return carry


def _while_abstract(*avals, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts, origin):
    return body_jaxpr.out_avals


while_p.def_impl(_while_impl)
while_p.def_abstract_eval(_while_abstract)


def _fixed_point(initial: list[bool], step: Callable[[list[bool]], list[bool]]) -> list[bool]:
    flags = list(initial)
    while True:
        new = [a or b for a, b in zip(flags, step(flags))]
        if new == flags:
            return flags
        flags = new


def _while_jvp(primals, tangents, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts,
               origin):
    nc, nb = cond_nconsts, body_nconsts
    bconst_nz = [type(t) is not Zero for t in tangents[nc:nc + nb]]
    carry_t = tangents[nc + nb:]
    carry_avals = body_jaxpr.out_avals
    inexact = [dtypes.is_inexact(a.dtype) for a in carry_avals]
    carry_nz = _fixed_point(
        [type(t) is not Zero for t in carry_t],
        lambda nz: jaxprs.jvp_jaxpr(body_jaxpr, bconst_nz + nz, False)[1])
    carry_nz = [nz and i for nz, i in zip(carry_nz, inexact)]
    body_jvp, _ = jaxprs.jvp_jaxpr(body_jaxpr, bconst_nz + carry_nz, carry_nz)
    # Inputs (bconsts, carry, bconsts_t, carry_t) -> (bconsts, bconsts_t, carry, carry_t).
    n_bt, n_ct = sum(bconst_nz), sum(carry_nz)
    n_carry = len(carry_avals)
    order = (list(range(nb)) + list(range(nb + n_carry, nb + n_carry + n_bt))
             + list(range(nb, nb + n_carry))
             + list(range(nb + n_carry + n_bt, nb + n_carry + n_bt + n_ct)))
    body_jvp = _permute_inputs(body_jvp, order)
    t_avals = [ad.tangent_aval(a) for a, nz in zip(carry_avals, carry_nz) if nz]
    cond_jvp = _add_inputs(cond_jaxpr, after=t_avals)
    primal_c, primal_b, primal_carry = primals[:nc], primals[nc:nc + nb], primals[nc + nb:]
    bt = [t for t in tangents[nc:nc + nb] if type(t) is not Zero]
    ct = [ad.instantiate(t) for t, nz in zip(carry_t, carry_nz) if nz]
    outs = while_p.bind(*primal_c, *primal_b, *bt, *primal_carry, *ct, cond_jaxpr=cond_jvp,
                        body_jaxpr=body_jvp, cond_nconsts=nc, body_nconsts=nb + n_bt,
                        origin=origin)
    it = iter(outs[n_carry:])
    return outs[:n_carry], [next(it) if nz else Zero(ad.tangent_aval(a))
                            for nz, a in zip(carry_nz, carry_avals)]


ad.jvp_rules[while_p] = _while_jvp

# `origin` says which function made the loop, for the error below.
_WHILE_REVERSE_ERRORS = {
    "while_loop": (
        "Reverse-mode differentiation does not work for lax.while_loop: its number of "
        "iterations is only known at run time, so the values needed by the backward pass "
        "cannot be stored. Use lax.fori_loop with static (Python int) bounds, or lax.scan, "
        "which are reverse-mode differentiable; forward mode (jvp, jacfwd) works with "
        "while_loop."),
    "fori_loop": (
        "Reverse-mode differentiation does not work for lax.fori_loop with traced bounds: its "
        "number of iterations is then only known at run time (it runs as a while_loop), so the "
        "values needed by the backward pass cannot be stored. Give fori_loop static (Python or "
        "NumPy int) bounds, which make it a scan, or use lax.scan: both are reverse-mode "
        "differentiable; forward mode (jvp, jacfwd) works with traced bounds."),
}


def _while_partial_eval(trace, tracers, *, origin, **params):
    raise TypeError(_WHILE_REVERSE_ERRORS[origin] + _where())


def _while_partial_eval_jaxpr(eqn, unknowns):
    raise TypeError(_WHILE_REVERSE_ERRORS[eqn.params["origin"]])


pe.partial_eval_rules[while_p] = _while_partial_eval
pe.partial_eval_jaxpr_rules[while_p] = _while_partial_eval_jaxpr


def _while_batch(vals, dims, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts, origin):
    nc, nb = cond_nconsts, body_nconsts
    size = next(core.get_aval(v).shape[d] for v, d in zip(vals, dims) if d is not None)
    cdims, bdims, carry_dims = dims[:nc], dims[nc:nc + nb], dims[nc + nb:]
    carry_b = _fixed_point(
        [d is not None for d in carry_dims],
        lambda b: [d is not None for d in jaxprs.batch_jaxpr(
            body_jaxpr, list(bdims) + [0 if x else None for x in b], size)[1]])
    _, pred_dims = jaxprs.batch_jaxpr(cond_jaxpr, list(cdims) + [0 if x else None
                                                                 for x in carry_b], size)
    pred_batched = pred_dims[0] is not None
    if pred_batched:
        carry_b = [True] * len(carry_b)
    cvals, bvals = vals[:nc], vals[nc:nc + nb]
    carry = [move_to_front(v, d, size) if b else v
             for v, d, b in zip(vals[nc + nb:], carry_dims, carry_b)]
    cin = list(cdims) + [0 if b else None for b in carry_b]
    bin_ = list(bdims) + [0 if b else None for b in carry_b]
    bcond, _ = jaxprs.batch_jaxpr(cond_jaxpr, cin, size, force_batched=pred_batched)
    bbody, _ = jaxprs.batch_jaxpr(body_jaxpr, bin_, size, force_batched=carry_b)
    if not pred_batched:
        outs = while_p.bind(*cvals, *bvals, *carry, cond_jaxpr=bcond, body_jaxpr=bbody,
                            cond_nconsts=nc, body_nconsts=nb, origin=origin)
        return outs, [0 if b else None for b in carry_b]
    # A batched predicate: loop while any element continues; finished ones keep their carry.
    carry_avals = _avals(carry)

    def cond_any(*xs):
        return [red.reduce_or(jaxprs.call(bcond, *xs)[0], (0,))]

    def body_masked(*xs):
        c_consts, b_consts, c = xs[:nc], xs[nc:nc + nb], xs[nc + nb:]
        pred = jaxprs.call(bcond, *c_consts, *c)[0]
        new = jaxprs.call(bbody, *b_consts, *c)
        return [ew.select_n(sh.broadcast_in_dim(pred, core.get_aval(o).shape, (0,)), o, n)
                for o, n in zip(c, new)]

    all_avals = _avals(cvals) + _avals(bvals) + carry_avals
    new_cond = pe.trace_to_jaxpr(cond_any, _avals(cvals) + carry_avals)
    new_body = pe.trace_to_jaxpr(body_masked, all_avals)
    outs = while_p.bind(*cvals, *cvals, *bvals, *carry, cond_jaxpr=new_cond,
                        body_jaxpr=new_body, cond_nconsts=nc, body_nconsts=nc + nb,
                        origin=origin)
    return outs, [0] * len(outs)


batching.batch_rules[while_p] = _while_batch


def _while_cost(avals_in, avals_out, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts,
                origin):
    one = cost_mod.jaxpr_cost(cond_jaxpr) + cost_mod.jaxpr_cost(body_jaxpr)
    return one.with_note(f"{origin}: one iteration is counted (the trip count is known only "
                         "at run time)")


cost_mod.cost_rules[while_p] = _while_cost


def while_loop(cond_fun: Callable[[Any], Any], body_fun: Callable[[Any], Any],
               init_val: Any) -> Any:
    """``while cond_fun(val): val = body_fun(val)``, staged as one primitive.

    The carry (a pytree) must keep its structure, shapes and dtypes; as in JAX, a leaf given
    as a Python scalar first takes the dtype the body gives it (``0`` becomes a float if the
    body adds ``1.5``). Forward-mode differentiable and batchable; for reverse mode use
    `fori_loop` with static bounds or `scan`.

    !!! Example
        ```python
        from funcdiff import lax

        assert lax.while_loop(lambda x: x < 100, lambda x: x * 2, 1) == 128
        ```
    """
    return _while_loop(cond_fun, body_fun, init_val, "while_loop", "init_val")


def _while_loop(cond_fun: Callable[[Any], Any], body_fun: Callable[[Any], Any], init_val: Any,
                origin: str, init_name: str) -> Any:
    args_tree = tree_structure((init_val,))

    def trace(avals):
        consts, jaxpr, out_tree = _trace_body(body_fun, args_tree, avals, slice(None))
        return (consts, jaxpr), out_tree, jaxpr.out_avals

    leaves, tree, (b_consts, b_jaxpr) = _trace_loop_body(trace, init_val,
                                                         f"{origin}: body_fun", init_name)
    c_consts, c_jaxpr, _ = _trace_body(cond_fun, args_tree, _avals(leaves))
    pred = c_jaxpr.out_avals
    if len(pred) != 1 or pred[0].shape != () or pred[0].dtype != np.bool_:
        raise TypeError(f"{origin}: cond_fun must return a boolean scalar, got "
                        f"{_describe(pred)}" + _where())
    outs = while_p.bind(*c_consts, *b_consts, *leaves, cond_jaxpr=c_jaxpr, body_jaxpr=b_jaxpr,
                        cond_nconsts=len(c_consts), body_nconsts=len(b_consts), origin=origin)
    return tree_unflatten(tree, outs)


# ---- scan -----------------------------------------------------------------------------------

scan_p = core.Primitive("scan", multiple_results=True)


def _scan_impl(*args: Any, jaxpr, length, reverse, num_consts, num_carry) -> list[Any]:
    consts = list(args[:num_consts])
    carry = list(args[num_consts:num_consts + num_carry])
    xs = args[num_consts + num_carry:]
    carry_avals, y_avals = jaxpr.out_avals[:num_carry], jaxpr.out_avals[num_carry:]
    ys: list[list[Any]] = [[] for _ in y_avals]
    order = range(length - 1, -1, -1) if reverse else range(length)
    for i in order:
        outs = jaxprs.call(jaxpr, *consts, *carry, *[x[i] for x in xs])
        carry = _carry_values(outs[:num_carry], carry_avals)
        for acc, y in zip(ys, outs[num_carry:]):
            acc.append(y)
    stacked = []
    for acc, a in zip(ys, y_avals):
        if reverse:
            acc.reverse()
        stacked.append(np.stack([np.asarray(y, a.dtype) for y in acc]) if acc
                       else np.zeros((0, *a.shape), a.dtype))
    return carry + stacked


def _scan_abstract(*avals, jaxpr, length, reverse, num_consts, num_carry):
    outs = jaxpr.out_avals
    return outs[:num_carry] + [ShapedArray((length, *a.shape), a.dtype) for a in
                               outs[num_carry:]]


scan_p.def_impl(_scan_impl)
scan_p.def_abstract_eval(_scan_abstract)


def _scan_jvp(primals, tangents, *, jaxpr, length, reverse, num_consts, num_carry):
    nc, nk = num_consts, num_carry
    nz_in = [type(t) is not Zero for t in tangents]
    const_nz, carry_nz0, xs_nz = nz_in[:nc], nz_in[nc:nc + nk], nz_in[nc + nk:]
    carry_avals = jaxpr.out_avals[:nk]
    inexact = [dtypes.is_inexact(a.dtype) for a in carry_avals]
    carry_nz = _fixed_point(
        carry_nz0, lambda nz: jaxprs.jvp_jaxpr(jaxpr, const_nz + nz + xs_nz)[1][:nk])
    carry_nz = [nz and i for nz, i in zip(carry_nz, inexact)]
    n_y = len(jaxpr.out_avals) - nk
    inst = carry_nz + [False] * n_y
    jvp, out_nz = jaxprs.jvp_jaxpr(jaxpr, const_nz + carry_nz + xs_nz, inst)
    # inputs (consts, carry, xs, consts_t, carry_t, xs_t) -> (consts, consts_t, carry, carry_t,
    # xs, xs_t); outputs (carry, ys, carry_t, ys_t) -> (carry, carry_t, ys, ys_t).
    n_x = len(primals) - nc - nk
    n_ct, n_kt, n_xt = sum(const_nz), sum(carry_nz), sum(xs_nz)
    base = nc + nk + n_x
    order = (list(range(nc)) + list(range(base, base + n_ct))
             + list(range(nc, nc + nk)) + list(range(base + n_ct, base + n_ct + n_kt))
             + list(range(nc + nk, base)) + list(range(base + n_ct + n_kt, base + n_ct + n_kt
                                                       + n_xt)))
    jvp = _permute_inputs(jvp, order)
    y_nz = out_nz[nk:]
    n_yt = sum(y_nz)
    total = nk + n_y
    out_order = (list(range(nk)) + list(range(total, total + n_kt)) + list(range(nk, total))
                 + list(range(total + n_kt, total + n_kt + n_yt)))
    jvp = _permute_outputs(jvp, out_order)
    consts, carry, xs = primals[:nc], primals[nc:nc + nk], primals[nc + nk:]
    ct = [t for t in tangents[:nc] if type(t) is not Zero]
    kt = [ad.instantiate(t) for t, nz in zip(tangents[nc:nc + nk], carry_nz) if nz]
    xt = [t for t in tangents[nc + nk:] if type(t) is not Zero]
    outs = scan_p.bind(*consts, *ct, *carry, *kt, *xs, *xt, jaxpr=jvp, length=length,
                       reverse=reverse, num_consts=nc + n_ct, num_carry=nk + n_kt)
    carry_out, carry_t_out = outs[:nk], outs[nk:nk + n_kt]
    ys, ys_t = outs[nk + n_kt:nk + n_kt + n_y], outs[nk + n_kt + n_y:]
    y_avals = _scan_abstract(jaxpr=jaxpr, length=length, reverse=reverse, num_consts=nc,
                             num_carry=nk)[nk:]
    it_k, it_y = iter(carry_t_out), iter(ys_t)
    t_carry = [next(it_k) if nz else Zero(ad.tangent_aval(a))
               for nz, a in zip(carry_nz, carry_avals)]
    t_ys = [next(it_y) if nz else Zero(ad.tangent_aval(a)) for nz, a in zip(y_nz, y_avals)]
    return list(carry_out) + list(ys), t_carry + t_ys


ad.jvp_rules[scan_p] = _scan_jvp


def _split_scan(jaxpr: ClosedJaxpr, unknowns: list[bool], nc: int, nk: int):
    """Split a scan body. Carry unknowns reach a fixed point; residuals that are known
    consts of the body are passed as consts of the unknown scan, the rest are stacked."""
    const_uk, xs_uk = unknowns[:nc], unknowns[nc + nk:]
    carry_uk = _fixed_point(
        unknowns[nc:nc + nk],
        lambda uk: jaxprs.split(jaxpr, const_uk + uk + xs_uk)[2][:nk])
    full_uk = const_uk + carry_uk + xs_uk
    n_y = len(jaxpr.out_avals) - nk
    known, unknown, out_uk, n_res = jaxprs.split(jaxpr, full_uk, carry_uk + [False] * n_y)
    return full_uk, known, unknown, out_uk, n_res


def _scan_partial_eval(trace, tracers, *, jaxpr, length, reverse, num_consts, num_carry):
    nc, nk = num_consts, num_carry
    unknowns = [not t.is_known for t in tracers]
    full_uk, known, unknown, out_uk, n_res = _split_scan(jaxpr, unknowns, nc, nk)
    carry_uk = full_uk[nc:nc + nk]
    # Known scan: known consts, known carry, known xs -> known carry, known ys, residuals.
    k_consts = [t.known for t, u in zip(tracers[:nc], full_uk[:nc]) if not u]
    k_carry = [t.known for t, u in zip(tracers[nc:nc + nk], carry_uk) if not u]
    k_xs = [t.known for t, u in zip(tracers[nc + nk:], full_uk[nc + nk:]) if not u]
    n_kcarry = len(k_carry)
    known_outs = scan_p.bind(*k_consts, *k_carry, *k_xs, jaxpr=known, length=length,
                             reverse=reverse, num_consts=len(k_consts), num_carry=n_kcarry)
    n_known_out = len(known_outs) - n_res
    stacked_res = known_outs[n_known_out:]
    # Unknown scan: consts = unknown consts; carry = unknown carry; xs = residuals + xs.
    # `unknown` takes (residuals, unknown consts, unknown carry, unknown xs).
    n_uc, n_uk = sum(full_uk[:nc]), sum(carry_uk)
    n_ux = sum(full_uk[nc + nk:])
    order = (list(range(n_res, n_res + n_uc)) + list(range(n_res + n_uc, n_res + n_uc + n_uk))
             + list(range(n_res)) + list(range(n_res + n_uc + n_uk, n_res + n_uc + n_uk
                                                + n_ux)))
    body_u = _permute_inputs(unknown, order)
    # (a carry that becomes unknown only inside the loop enters as a known value)
    u_tracers = [t for t, u in zip(tracers, full_uk) if u]
    u_consts = u_tracers[:n_uc]
    u_carry = u_tracers[n_uc:n_uc + n_uk]
    u_xs = u_tracers[n_uc + n_uk:]
    res_tracers = [trace.pure(r) for r in stacked_res]
    out_avals = _scan_abstract(jaxpr=body_u, length=length, reverse=reverse,
                               num_consts=n_uc, num_carry=n_uk)
    unknown_outs = trace.emit(scan_p, [*u_consts, *u_carry, *res_tracers, *u_xs],
                              {"jaxpr": body_u, "length": length, "reverse": reverse,
                               "num_consts": n_uc, "num_carry": n_uk}, out_avals)
    k, u = iter(known_outs[:n_known_out]), iter(unknown_outs)
    return [next(u) if is_u else next(k) for is_u in out_uk]


pe.partial_eval_rules[scan_p] = _scan_partial_eval


def _scan_partial_eval_jaxpr(eqn, unknowns):
    p = eqn.params
    nc, nk = p["num_consts"], p["num_carry"]
    full_uk, known, unknown, out_uk, n_res = _split_scan(p["jaxpr"], list(unknowns), nc, nk)
    ins = eqn.invars
    res_vars = [Var(ShapedArray((p["length"], *a.shape), a.dtype))
                for a in known.out_avals[len(known.out_avals) - n_res:]]
    k_ins = [a for a, u in zip(ins, full_uk) if not u]
    n_kc = sum(1 for u in full_uk[:nc] if not u)
    n_kk = sum(1 for u in full_uk[nc:nc + nk] if not u)
    known_eqn = eqn.replace(
        invars=k_ins, outvars=[v for v, u in zip(eqn.outvars, out_uk) if not u] + res_vars,
        params={**p, "jaxpr": known, "num_consts": n_kc, "num_carry": n_kk})
    n_uc, n_uk = sum(full_uk[:nc]), sum(full_uk[nc:nc + nk])
    n_ux = sum(full_uk[nc + nk:])
    order = (list(range(n_res, n_res + n_uc)) + list(range(n_res + n_uc, n_res + n_uc + n_uk))
             + list(range(n_res)) + list(range(n_res + n_uc + n_uk, n_res + n_uc + n_uk
                                                + n_ux)))
    u_ins = [a for a, u in zip(ins, full_uk) if u]
    unknown_eqn = eqn.replace(
        invars=u_ins[:n_uc + n_uk] + res_vars + u_ins[n_uc + n_uk:],
        outvars=[v for v, u in zip(eqn.outvars, out_uk) if u],
        params={**p, "jaxpr": _permute_inputs(unknown, order), "num_consts": n_uc,
                "num_carry": n_uk})
    return known_eqn, unknown_eqn, out_uk


pe.partial_eval_jaxpr_rules[scan_p] = _scan_partial_eval_jaxpr


def _scan_transpose(cts, *args, jaxpr, length, reverse, num_consts, num_carry):
    nc, nk = num_consts, num_carry
    consts, carry, xs = args[:nc], args[nc:nc + nk], args[nc + nk:]
    c_undef = [is_undefined_primal(a) for a in consts]
    x_undef = [is_undefined_primal(a) for a in xs]
    # A carry may enter as a known value (a tangent instantiated to zeros): the body is still
    # linear in it, and its cotangent is simply not needed.
    carry_undef = [is_undefined_primal(a) for a in carry]
    ct_carry, ct_ys = cts[:nk], cts[nk:]
    carry_avals = jaxpr.out_avals[:nk]
    y_avals = jaxpr.out_avals[nk:]
    ct_carry = [ad.instantiate(c) if type(c) is Zero else c for c in ct_carry]
    ys_nz = [type(c) is not Zero for c in ct_ys]
    undefined = c_undef + [True] * nk + x_undef
    t_body = jaxprs.transpose_jaxpr(jaxpr, undefined, [True] * nk + ys_nz)
    # t_body: (known consts, known xs, ct_carry, ct_y) -> (ct lin consts, ct carry, ct lin xs)
    k_consts = [a for a, u in zip(consts, c_undef) if not u]
    k_xs = [a for a, u in zip(xs, x_undef) if not u]
    lin_const_avals = [a.aval for a, u in zip(consts, c_undef) if u]
    n_kc, n_kx, n_lc = len(k_consts), len(k_xs), len(lin_const_avals)

    def body(*vals):
        kc = vals[:n_kc]
        acc = vals[n_kc:n_kc + n_lc]
        ck = vals[n_kc + n_lc:n_kc + n_lc + nk]
        kx = vals[n_kc + n_lc + nk:n_kc + n_lc + nk + n_kx]
        cy = vals[n_kc + n_lc + nk + n_kx:]
        outs = core.eval_jaxpr(t_body.jaxpr, t_body.consts, *kc, *kx, *ck, *cy)
        ct_lin_consts, ct_carry_in, ct_lin_xs = outs[:n_lc], outs[n_lc:n_lc + nk], outs[n_lc
                                                                                        + nk:]
        new_acc = [ad.add_tangents(a, c) for a, c in zip(acc, ct_lin_consts)]
        return list(new_acc) + list(ct_carry_in) + list(ct_lin_xs)

    in_avals = (_avals(k_consts) + lin_const_avals + list(carry_avals)
                + [ShapedArray(a.shape[1:], a.dtype) for a in _avals(k_xs)]
                + [a for a, nz in zip(y_avals, ys_nz) if nz])
    t_jaxpr = pe.trace_to_jaxpr(body, in_avals)
    acc0 = [np.zeros(a.shape, a.dtype) for a in lin_const_avals]
    outs = scan_p.bind(*k_consts, *acc0, *ct_carry, *k_xs,
                       *[c for c in ct_ys if type(c) is not Zero], jaxpr=t_jaxpr,
                       length=length, reverse=not reverse, num_consts=n_kc,
                       num_carry=n_lc + nk)
    ct_consts_lin = iter(outs[:n_lc])
    ct_carry_init = outs[n_lc:n_lc + nk]
    ct_xs_lin = iter(outs[n_lc + nk:])
    return ([next(ct_consts_lin) if u else None for u in c_undef]
            + [c if u else None for c, u in zip(ct_carry_init, carry_undef)]
            + [next(ct_xs_lin) if u else None for u in x_undef])


ad.transpose_rules[scan_p] = _scan_transpose


def _scan_batch(vals, dims, *, jaxpr, length, reverse, num_consts, num_carry):
    nc, nk = num_consts, num_carry
    size = next(core.get_aval(v).shape[d] for v, d in zip(vals, dims) if d is not None)
    cdims, kdims, xdims = dims[:nc], dims[nc:nc + nk], dims[nc + nk:]
    # Per-iteration slices of xs: the scan axis is 0, so the batch axis goes to 1.
    xs = [moveaxis(v, d, 1) if d is not None else v for v, d in zip(vals[nc + nk:], xdims)]
    x_in = [0 if d is not None else None for d in xdims]
    carry_b = _fixed_point(
        [d is not None for d in kdims],
        lambda b: [d is not None for d in jaxprs.batch_jaxpr(
            jaxpr, list(cdims) + [0 if x else None for x in b] + x_in, size)[1][:nk]])
    carry = [move_to_front(v, d, size) if b else v
             for v, d, b in zip(vals[nc:nc + nk], kdims, carry_b)]
    in_dims = list(cdims) + [0 if b else None for b in carry_b] + x_in
    n_y = len(jaxpr.out_avals) - nk
    batched, out_dims = jaxprs.batch_jaxpr(jaxpr, in_dims, size, carry_b + [False] * n_y)
    outs = scan_p.bind(*vals[:nc], *carry, *xs, jaxpr=batched, length=length, reverse=reverse,
                       num_consts=nc, num_carry=nk)
    y_dims = [1 if d is not None else None for d in out_dims[nk:]]
    return outs, [0 if b else None for b in carry_b] + y_dims


batching.batch_rules[scan_p] = _scan_batch


def _scan_cost(avals_in, avals_out, *, jaxpr, length, reverse, num_consts, num_carry):
    return cost_mod.jaxpr_cost(jaxpr).scale(length)


cost_mod.cost_rules[scan_p] = _scan_cost


def scan(f: Callable[[Any, Any], tuple[Any, Any]], init: Any, xs: Any = None,
         length: int | None = None, reverse: bool = False, unroll: int | bool = 1,
         _split_transpose: bool = False) -> tuple[Any, Any]:
    """Loop ``carry, y = f(carry, x)`` over the leading axis of `xs`, returning the final
    carry and the stacked ``y``s, as one primitive (differentiable in both modes; reverse mode
    stores only the residuals the transposed body needs). The carry follows the rules of
    `while_loop`.

    **Arguments:**

    - `f`, `init`, `xs`: the body, the initial carry and the pytree of arrays to loop over.
    - `length`: the number of steps, needed only when `xs` is `None`.
    - `reverse`: loop from the last slice of `xs` to the first (``ys`` stay in `xs`'s order).
    - `unroll`: how many steps each iteration of the loop runs (`True`: all of them, `False`:
      one). The body is traced `unroll` times in a row, with fewer loop iterations; a final
      shorter loop runs the steps left over. The results are the same for every value.
    - `_split_transpose`: accepted for compatibility with JAX's experimental flag; ignored.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        total, partial = lax.scan(lambda c, x: (c + x, c + x), 0.0, np.arange(4.0))
        assert total == 6.0 and list(partial) == [0.0, 1.0, 3.0, 6.0]
        # Two steps per loop iteration (and one left over): the same results.
        total3, partial3 = lax.scan(lambda c, x: (c + x, c + x), 0.0, np.arange(5.0),
                                    unroll=2)
        assert total3 == 10.0 and list(partial3) == [0.0, 1.0, 3.0, 6.0, 10.0]
        ```
    """
    del _split_transpose
    n = _scan_length(xs, length)
    k = _unroll_steps(unroll, n)
    if k > 1:
        return _scan_unrolled(f, init, xs, n, bool(reverse), k)
    x_leaves, x_tree = tree_flatten(xs)
    x_avals = [ShapedArray(a.shape[1:], a.dtype) for a in _avals(x_leaves)]
    args_tree = tree_structure((init, xs))

    def trace(carry_avals):
        consts, body, out_tree = _trace_body(lambda c, x: f(c, x), args_tree,
                                             carry_avals + x_avals, slice(len(carry_avals)))
        if out_tree.num_leaves < 1 or len(out_tree.children()) != 2:
            raise TypeError("scan: f must return a pair (carry, y)" + _where())
        new_carry_tree, y_tree = out_tree.children()
        return (consts, body, y_tree), new_carry_tree, body.out_avals[:len(carry_avals)]

    carry_leaves, carry_tree, (consts, body, y_tree) = _trace_loop_body(trace, init, "scan: f",
                                                                        "init")
    outs = scan_p.bind(*consts, *carry_leaves, *x_leaves, jaxpr=body, length=n,
                       reverse=bool(reverse), num_consts=len(consts),
                       num_carry=len(carry_leaves))
    nk = len(carry_leaves)
    return tree_unflatten(carry_tree, outs[:nk]), tree_unflatten(y_tree, outs[nk:])


def _scan_length(xs: Any, length: Any) -> int:
    """The number of steps of a scan over `xs` (and `length`), checked to agree."""
    x_leaves = tree_flatten(xs)[0]
    lengths = {core.get_aval(x).shape[0] if core.get_aval(x).ndim else None for x in x_leaves}
    if None in lengths:
        raise ValueError("scan: every leaf of xs needs a leading axis to scan over")
    if length is not None:
        lengths.add(int(length))
    if len(lengths) > 1:
        raise ValueError(f"scan: inconsistent lengths {sorted(lengths)} of the leading axes of "
                         "xs (and length)")
    if not lengths:
        raise ValueError("scan: give xs or length")
    return lengths.pop()


def _unroll_steps(unroll: Any, n: int) -> int:
    """The number of steps one loop iteration of an unrolled scan runs (1: not unrolled)."""
    if isinstance(unroll, (bool, np.bool_)):
        return builtins.max(n, 1) if unroll else 1
    if not isinstance(unroll, (int, np.integer)) or unroll < 1:
        raise ValueError(f"scan: unroll must be a positive int or a bool, got {unroll!r}"
                         + _where())
    return builtins.max(builtins.min(int(unroll), n), 1)


def _rows(x: Array, start: int, stop: int) -> Array:
    """``x[start:stop]`` along the leading axis."""
    shape = core.get_aval(x).shape
    if (start, stop) == (0, shape[0]):
        return x
    return sh.slice(x, (start,) + (0,) * (len(shape) - 1), (stop,) + shape[1:])


def _stack(xs: Sequence[Array]) -> Array:
    """Stack the ``y``s of the steps of an unrolled scan. They differ in dtype only while a weak
    initial carry is being promoted (a trace whose results are discarded)."""
    avals = _avals(xs)
    dtype, weak = dtypes.result_type(*[(a.dtype, a.weak_type) for a in avals])
    return sh.concatenate([sh.expand_dims(ew.convert_element_type(x, dtype, weak_type=weak),
                                          (0,)) for x in xs], 0)


def _scan_unrolled(f: Callable[[Any, Any], tuple[Any, Any]], init: Any, xs: Any, n: int,
                   reverse: bool, k: int) -> tuple[Any, Any]:
    """`scan` with `k` steps of `f` per loop iteration: a scan over ``n // k`` chunks of `k`
    slices, then (in loop order) a plain scan over the ``n % k`` slices left over."""
    m, r = divmod(n, k)
    x_leaves, x_tree = tree_flatten(xs)
    # The chunked steps come first in loop order: xs[:m*k] forward, xs[r:] in reverse.
    lo, hi = (r, n) if reverse else (0, m * k)
    chunks = [sh.reshape(_rows(x, lo, hi), (m, k) + core.get_aval(x).shape[1:])
              for x in x_leaves]

    def body(carry, chunk):
        leaves = tree_flatten(chunk)[0]
        in_leaves, in_tree = tree_flatten(carry)
        in_avals = _avals(in_leaves)
        ys: list[Any] = [None] * k
        for j in (range(k - 1, -1, -1) if reverse else range(k)):
            x = tree_unflatten(x_tree, [sh.squeeze(_rows(c, j, j + 1), (0,)) for c in leaves])
            out = f(carry, x)
            if not isinstance(out, tuple) or len(out) != 2:
                raise TypeError("scan: f must return a pair (carry, y)" + _where())
            carry, ys[j] = out
            # Between steps the carry takes the loop's carry types, as the loop gives them.
            out_leaves, out_tree = tree_flatten(carry)
            if out_tree == in_tree:
                carry = tree_unflatten(in_tree, [
                    _as_carry(c, a) if core.get_aval(c).shape == a.shape else c
                    for c, a in zip(out_leaves, in_avals)])
        y_leaves = [tree_flatten(y)[0] for y in ys]
        return carry, tree_unflatten(tree_structure(ys[0]),
                                     [_stack(col) for col in zip(*y_leaves)])

    carry, chunk_ys = scan(body, init, tree_unflatten(x_tree, chunks), length=m,
                           reverse=reverse)
    y_leaves, y_tree = tree_flatten(chunk_ys)
    y_leaves = [sh.reshape(y, (m * k,) + core.get_aval(y).shape[2:]) for y in y_leaves]
    if r:
        rest = tree_unflatten(x_tree, [_rows(x, 0, r) if reverse else _rows(x, m * k, n)
                                       for x in x_leaves])
        carry, rest_ys = scan(f, carry, rest, length=r, reverse=reverse)
        rest_leaves = tree_flatten(rest_ys)[0]
        y_leaves = [sh.concatenate([b, a] if reverse else [a, b], 0)
                    for a, b in zip(y_leaves, rest_leaves)]
    return carry, tree_unflatten(y_tree, y_leaves)


def map(f: Callable[[Any], Any], xs: Any, *, batch_size: int | None = None) -> Any:  # noqa: A001
    """``stack([f(x) for x in xs])`` over the leading axis, as a `scan` without carry.

    With `batch_size`, `f` is vectorised with `vmap` and applied to `batch_size` slices per
    loop iteration (the slices left over, fewer than `batch_size`, form a last smaller batch),
    trading memory for speed; the results are the same. `f` must then be `vmap`-able.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        xs = np.arange(5.0)
        assert np.allclose(lax.map(lambda x: x**2, xs), xs**2)
        # Two slices per step, vectorised; the fifth slice is a batch of one.
        assert np.allclose(lax.map(lambda x: x**2, xs, batch_size=2), xs**2)
        ```
    """
    if batch_size is None:
        return scan(lambda _, x: ((), f(x)), (), xs)[1]
    if isinstance(batch_size, (bool, np.bool_)) or not isinstance(
            batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"map: batch_size must be a positive int or None, got {batch_size!r}"
                         + _where())
    from funcdiff._src.vmap import vmap  # vmap's module imports the lax package

    n = _scan_length(xs, None)
    x_leaves, x_tree = tree_flatten(xs)
    m, r = divmod(n, int(batch_size))
    b = int(batch_size)
    batched = vmap(f)
    ys = None
    if m:
        chunks = tree_unflatten(x_tree, [
            sh.reshape(_rows(x, 0, m * b), (m, b) + core.get_aval(x).shape[1:])
            for x in x_leaves])
        chunk_ys = scan(lambda _, x: ((), batched(x)), (), chunks)[1]
        y_leaves, y_tree = tree_flatten(chunk_ys)
        ys = [sh.reshape(y, (m * b,) + core.get_aval(y).shape[2:]) for y in y_leaves]
    if r:
        rest = batched(tree_unflatten(x_tree, [_rows(x, m * b, n) for x in x_leaves]))
        rest_leaves, y_tree = tree_flatten(rest)
        ys = rest_leaves if ys is None else [sh.concatenate([a, c], 0)
                                             for a, c in zip(ys, rest_leaves)]
    if ys is None:  # no slices at all
        return scan(lambda _, x: ((), f(x)), (), xs)[1]
    return tree_unflatten(y_tree, ys)


def fori_loop(lower: Any, upper: Any, body_fun: Callable[[Any, Any], Any], init_val: Any,
              *, unroll: int | bool | None = None) -> Any:
    """``for i in range(lower, upper): val = body_fun(i, val)``.

    With concrete (Python or NumPy) integer bounds this is a `scan`, differentiable in both
    modes; with traced bounds it is a `while_loop` (forward mode only). As in JAX, the index
    `i` has the dtype of the bounds and is weakly typed when they are Python ints, so
    ``val + i`` keeps the dtype of `val`; the carry follows the rules of `while_loop`.
    `unroll` (concrete bounds only, as in JAX) runs that many steps per loop iteration, as
    `scan`'s (`True`: all of them).

    !!! Example
        ```python
        import funcdiff
        from funcdiff import lax

        power = lambda x: lax.fori_loop(0, 3, lambda i, acc: acc * x, 1.0)
        assert power(2.0) == 8.0 and funcdiff.grad(power)(2.0) == 12.0
        ```
    """
    # The index has the dtype of the bounds, and is weakly typed (a Python int while the loop
    # runs) when they are, as in JAX: `val + i` keeps the dtype of `val`.
    (lo_dtype, lo_weak), (hi_dtype, hi_weak) = [
        (a.dtype, a.weak_type) for a in _avals((lower, upper))]
    if not (dtypes.is_integer(lo_dtype) and dtypes.is_integer(hi_dtype)):
        raise TypeError(f"fori_loop: lower and upper must be integers, got "
                        f"{dtypes.short_name(lo_dtype)} and {dtypes.short_name(hi_dtype)}"
                        + _where())
    index_dtype, index_weak = dtypes.result_type((lo_dtype, lo_weak), (hi_dtype, hi_weak))
    lo, hi = core.concrete_or_none(lower), core.concrete_or_none(upper)
    static = lo is not None and hi is not None and not isinstance(lower, Tracer) and not \
        isinstance(upper, Tracer)
    if static:
        start = int(lo) if index_weak else index_dtype.type(lo)
    else:
        start = ew.convert_element_type(lower, index_dtype, weak_type=index_weak)
    if unroll is not None and not static:
        raise ValueError("fori_loop: unroll needs loop bounds known at trace time (Python or "
                         "NumPy ints), as in JAX; the bounds here are traced" + _where())
    length = builtins.max(int(hi) - int(lo), 0) if static else 0
    k = 1 if unroll is None else _unroll_steps(unroll, length)
    # One body for both loops: (i, *carry) -> (i + 1, *body_fun(i, carry)); unrolled, a body
    # of `steps` such steps.
    args_tree = tree_structure((start, init_val))

    def steps_of(steps):
        def body(i, val):
            for _ in range(steps):
                i, val = ew.add(i, 1), body_fun(i, val)
            return i, val

        return body

    def trace(avals, steps=1):
        consts, body, out_tree = _trace_body(steps_of(steps), args_tree,
                                             [core.get_aval(start), *avals], slice(1, None))
        return (consts, body), out_tree.children()[1], body.out_avals[1:]

    leaves, tree, (consts, body) = _trace_loop_body(trace, init_val, "fori_loop: body_fun",
                                                    "init_val")
    if static:
        outs = [start, *leaves]
        plan = [(1, length)] if k == 1 else [(k, length // k)] + (
            [(1, length % k)] if length % k else [])
        for steps, count in plan:
            c, b = (consts, body) if steps == 1 else trace(_avals(leaves), steps)[0]
            outs = scan_p.bind(*c, *outs, jaxpr=b, length=count, reverse=False,
                               num_consts=len(c), num_carry=1 + len(leaves))
    else:
        c_consts, cond, _ = _trace_body(lambda i, val: ew.lt(i, upper), args_tree,
                                        _avals([start, *leaves]))
        outs = while_p.bind(*c_consts, *consts, start, *leaves, cond_jaxpr=cond, body_jaxpr=body,
                            cond_nconsts=len(c_consts), body_nconsts=len(consts),
                            origin="fori_loop")
    return tree_unflatten(tree, outs[1:])
