"""`cond` and `switch`: one primitive, `cond`, whose branches are traced to jaxprs (printed
nested in `make_jaxpr` output). Its rules transform those jaxprs: JVP, partial evaluation and
transpose (hence `grad`), and batching (a batched index computes every branch and selects per
element). Values a branch closes over become explicit operands, so every transformation sees
them."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes
from funcdiff._src.core import ClosedJaxpr, Jaxpr, ShapedArray, Var
from funcdiff._src.interpreters import ad
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters import lowering_rules as lowering
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.interpreters.ad import Zero, is_undefined_primal
from funcdiff._src.lax import _jaxprs as jaxprs
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax._bodies import _avals, _check_same_types, _strip_weak, _trace_body
from funcdiff._src.lax._define import define_primitive
from funcdiff._src.lax.structural import moveaxis
from funcdiff._src.tree_util import tree_flatten, tree_unflatten

Array = Any


# ---- cond / switch --------------------------------------------------------------------------


def _cond_impl(index: Any, *args: Any, branches: tuple[ClosedJaxpr, ...]) -> list[Any]:
    i = builtins.min(builtins.max(int(index), 0), len(branches) - 1)
    return jaxprs.call(branches[i], *args)


def _cond_abstract(index: ShapedArray, *avals: ShapedArray, branches) -> list[ShapedArray]:
    return branches[0].out_avals


def _cond_jvp(primals, tangents, *, branches):
    index, *args = primals
    nonzeros = [type(t) is not Zero for t in tangents[1:]]
    out_avals = branches[0].out_avals
    inst = [dtypes.is_inexact(a.dtype) for a in out_avals]
    jvps = [jaxprs.jvp_jaxpr(b, nonzeros, inst)[0] for b in branches]
    out_nz = jaxprs.jvp_jaxpr(branches[0], nonzeros, inst)[1]
    outs = cond_p.bind(
        index, *args, *[t for t in tangents[1:] if type(t) is not Zero], branches=tuple(jvps)
    )
    n = len(out_avals)
    it = iter(outs[n:])
    return outs[:n], [
        next(it) if nz else Zero(ad.tangent_aval(a)) for nz, a in zip(out_nz, out_avals)
    ]


def _split_branches(branches: Sequence[ClosedJaxpr], unknowns: Sequence[bool]):
    """Split every branch with one output pattern and one (union) residual signature.

    Returns ``(known_branches, unknown_branches, out_unknowns, num_residuals)``."""
    out_uk = [False] * len(branches[0].out_avals)
    for b in branches:
        out_uk = [u or v for u, v in zip(out_uk, jaxprs.split(b, unknowns)[2])]
    splits = [jaxprs.split(b, unknowns, out_uk) for b in branches]
    res_avals = [k.out_avals[len(k.out_avals) - n_res :] for k, _, _, n_res in splits]
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
            res, ins = xs[: len(all_res)], xs[len(all_res) :]
            return core.eval_jaxpr(unknown.jaxpr, unknown.consts, *res[lo:hi], *ins)

        known_branches.append(pe.trace_to_jaxpr(known_fun, known_in))
        unknown_branches.append(pe.trace_to_jaxpr(unknown_fun, all_res + unknown_in))
    return tuple(known_branches), tuple(unknown_branches), out_uk, len(all_res)


def _cond_partial_eval_jaxpr(eqn, unknowns):
    if unknowns[0]:
        raise TypeError("cond: the branch index cannot depend on a differentiated value")
    branches = eqn.params["branches"]
    arg_uk = unknowns[1:]
    known_b, unknown_b, out_uk, n_res = _split_branches(branches, arg_uk)
    res_vars = [Var(a) for a in known_b[0].out_avals[len(known_b[0].out_avals) - n_res :]]
    index, *args = eqn.invars
    known_eqn = eqn.replace(
        invars=[index, *[a for a, u in zip(args, arg_uk) if not u]],
        outvars=[v for v, u in zip(eqn.outvars, out_uk) if not u] + res_vars,
        params={"branches": known_b},
    )
    unknown_eqn = eqn.replace(
        invars=[index, *res_vars, *[a for a, u in zip(args, arg_uk) if u]],
        outvars=[v for v, u in zip(eqn.outvars, out_uk) if u],
        params={"branches": unknown_b},
    )
    return known_eqn, unknown_eqn, out_uk


def _cond_transpose(cts, index, *args, branches):
    undefined = [is_undefined_primal(a) for a in args]
    ct_nonzero = [type(c) is not Zero for c in cts]
    transposed = tuple(jaxprs.transpose_jaxpr(b, undefined, ct_nonzero) for b in branches)
    outs = cond_p.bind(
        index,
        *[a for a, u in zip(args, undefined) if not u],
        *[c for c in cts if type(c) is not Zero],
        branches=transposed,
    )
    it = iter(outs)
    return [None] + [next(it) if u else None for u in undefined]


def _cond_batch(axis_size, vals, dims, *, branches):
    index, *args = vals
    bi, *arg_dims = dims
    if bi is not None:
        # A batched index: compute every branch and select per batch element.
        outs_per_branch = []
        for b in branches:
            batched, _ = jaxprs.batch_jaxpr(b, arg_dims, axis_size, force_batched=True)
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
        _, out_dims = jaxprs.batch_jaxpr(b, arg_dims, axis_size)
        forced = [f or d is not None for f, d in zip(forced, out_dims)]
    batched = tuple(jaxprs.batch_jaxpr(b, arg_dims, axis_size, forced)[0] for b in branches)
    outs = cond_p.bind(index, *args, branches=batched)
    return outs, [0 if f else None for f in forced]


def _cond_lower(ctx: lowering.LoweringContext, index: str, *args: str, branches) -> str:
    # The index was clamped when the cond was built (switch clamps it).
    fns = ctx.const(tuple(jaxprs.compiled(b).fn for b in branches), "b")
    return f"{fns}[{index}]({', '.join(args)})"


def _cond_cost(avals_in, avals_out, *, branches):
    # Which branch runs is known only at run time: count the costliest one, field by field.
    costs = [cost_mod.jaxpr_cost(b) for b in branches]
    total = cost_mod.maximum(costs)
    if len(branches) > 1:
        total = total.with_note(
            "cond: the costliest branch is counted (the maximum over the branches, field by field)"
        )
    return total


cond_p = define_primitive(
    "cond",
    multiple_results=True,
    impl=_cond_impl,
    abstract_eval=_cond_abstract,
    jvp=_cond_jvp,
    transpose=_cond_transpose,
    batch=_cond_batch,
    partial_eval_jaxpr=_cond_partial_eval_jaxpr,
    lower=_cond_lower,
    cost=_cond_cost,
)
# Run through a vmap whose named axis its program's collectives name, on any operands.
jaxprs.carrier(cond_p)


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
        _check_same_types(
            "switch/cond branch outputs", out_tree, traced[0][1].out_avals, t, jaxpr.out_avals
        )
    const_avals = [_avals(c) for c, _, _ in traced]
    all_consts = [c for consts, _, _ in traced for c in consts]
    branch_jaxprs = []
    for i, (_, jaxpr, _) in enumerate(traced):
        before = [a for avals in const_avals[:i] for a in avals]
        after = [a for avals in const_avals[i + 1 :] for a in avals]
        j = jaxpr.jaxpr
        n_own = len(const_avals[i])
        own, rest = j.invars[:n_own], j.invars[n_own:]
        invars = [Var(a) for a in before] + own + [Var(a) for a in after] + rest
        branch_jaxprs.append(
            ClosedJaxpr(Jaxpr(list(j.constvars), invars, j.eqns, j.outvars), jaxpr.consts)
        )
    outs = cond_p.bind(index, *all_consts, *leaves, branches=tuple(branch_jaxprs))
    return tree_unflatten(out_tree, outs)


def cond(
    pred: Array, true_fun: Callable[..., Any], false_fun: Callable[..., Any], *operands: Any
) -> Any:
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
        raise TypeError(
            f"cond: the predicate must be a scalar, got shape {pred_aval.shape}; "
            "for elementwise choices use funcdiff.numpy.where."
        )
    index = ew.convert_element_type(ew.convert_element_type(pred, np.bool_), np.int32)
    return _switch(index, [false_fun, true_fun], operands)
