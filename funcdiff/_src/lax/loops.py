"""`while_loop` and `fori_loop`: the `while` primitive, whose condition and body are traced
to jaxprs, with JVP and batching rules (a batched predicate loops while any element
continues) and partial evaluation (so `linearize` works, as in JAX: the linear program re-runs
the whole loop); reverse mode is an error, at transposition, that names the alternatives.
`fori_loop` with static bounds is a `scan` (differentiable in both modes), with traced bounds
a `while`."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes
from funcdiff._src.core import ClosedJaxpr, Jaxpr, Tracer, Var
from funcdiff._src.interpreters import ad
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.interpreters.ad import Zero
from funcdiff._src.lax import _jaxprs as jaxprs
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import reductions as red
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax._bodies import (
    _add_inputs,
    _avals,
    _carry_values,
    _describe,
    _fixed_point,
    _permute_inputs,
    _trace_body,
    _trace_loop_body,
    _where,
)
from funcdiff._src.lax._define import define_primitive
from funcdiff._src.lax.scans import _unroll_steps, scan_p
from funcdiff._src.lax.structural import move_to_front
from funcdiff._src.tree_util import tree_structure, tree_unflatten

# ---- while_loop -----------------------------------------------------------------------------


def _while_impl(
    *args: Any, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts, origin
) -> list[Any]:
    cc = list(args[:cond_nconsts])
    bc = list(args[cond_nconsts : cond_nconsts + body_nconsts])
    carry = list(args[cond_nconsts + body_nconsts :])
    while bool(jaxprs.call(cond_jaxpr, *cc, *carry)[0]):
        carry = _carry_values(jaxprs.call(body_jaxpr, *bc, *carry), body_jaxpr.out_avals)
    return carry


def _while_abstract(*avals, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts, origin):
    return body_jaxpr.out_avals


def _while_jvp(primals, tangents, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts, origin):
    nc, nb = cond_nconsts, body_nconsts
    bconst_nz = [type(t) is not Zero for t in tangents[nc : nc + nb]]
    carry_t = tangents[nc + nb :]
    carry_avals = body_jaxpr.out_avals
    inexact = [dtypes.is_inexact(a.dtype) for a in carry_avals]
    carry_nz = _fixed_point(
        [type(t) is not Zero for t in carry_t],
        lambda nz: jaxprs.jvp_jaxpr(body_jaxpr, bconst_nz + nz, False)[1],
    )
    carry_nz = [nz and i for nz, i in zip(carry_nz, inexact)]
    body_jvp, _ = jaxprs.jvp_jaxpr(body_jaxpr, bconst_nz + carry_nz, carry_nz)
    # Inputs (bconsts, carry, bconsts_t, carry_t) -> (bconsts, bconsts_t, carry, carry_t).
    n_bt, n_ct = sum(bconst_nz), sum(carry_nz)
    n_carry = len(carry_avals)
    order = (
        list(range(nb))
        + list(range(nb + n_carry, nb + n_carry + n_bt))
        + list(range(nb, nb + n_carry))
        + list(range(nb + n_carry + n_bt, nb + n_carry + n_bt + n_ct))
    )
    body_jvp = _permute_inputs(body_jvp, order)
    t_avals = [ad.tangent_aval(a) for a, nz in zip(carry_avals, carry_nz) if nz]
    cond_jvp = _add_inputs(cond_jaxpr, after=t_avals)
    primal_c, primal_b, primal_carry = primals[:nc], primals[nc : nc + nb], primals[nc + nb :]
    bt = [t for t in tangents[nc : nc + nb] if type(t) is not Zero]
    ct = [ad.instantiate(t) for t, nz in zip(carry_t, carry_nz) if nz]
    outs = while_p.bind(
        *primal_c,
        *primal_b,
        *bt,
        *primal_carry,
        *ct,
        cond_jaxpr=cond_jvp,
        body_jaxpr=body_jvp,
        cond_nconsts=nc,
        body_nconsts=nb + n_bt,
        origin=origin,
    )
    it = iter(outs[n_carry:])
    return outs[:n_carry], [
        next(it) if nz else Zero(ad.tangent_aval(a)) for nz, a in zip(carry_nz, carry_avals)
    ]


# `origin` says which function made the loop, for the error below.
_WHILE_REVERSE_ERRORS = {
    "while_loop": (
        "Reverse-mode differentiation does not work for lax.while_loop: its number of "
        "iterations is only known at run time, so the values needed by the backward pass "
        "cannot be stored. Use lax.fori_loop with static (Python int) bounds, or lax.scan, "
        "which are reverse-mode differentiable; forward mode (jvp, jacfwd) works with "
        "while_loop."
    ),
    "fori_loop": (
        "Reverse-mode differentiation does not work for lax.fori_loop with traced bounds: its "
        "number of iterations is then only known at run time (it runs as a while_loop), so the "
        "values needed by the backward pass cannot be stored. Give fori_loop static (Python or "
        "NumPy int) bounds, which make it a scan, or use lax.scan: both are reverse-mode "
        "differentiable; forward mode (jvp, jacfwd) works with traced bounds."
    ),
}


def _while_split(params, unknowns):
    """Which carries of a while loop whose inputs are `unknowns` (cond consts, body consts,
    carries) are unknown, and the loop's known half: ``(carry_uk, known_params)``, with
    `known_params` None when no carry is known, or the predicate reads an unknown value (then
    every carry is unknown and nothing runs now). As in JAX, the unknown half is the whole
    loop, which recomputes the known carries (the trip count is known only at run time, so
    they cannot be saved per iteration); its known inputs are the residuals."""
    nc, nb = params["cond_nconsts"], params["body_nconsts"]
    cond, body = params["cond_jaxpr"], params["body_jaxpr"]
    c_uk, b_uk = list(unknowns[:nc]), list(unknowns[nc : nc + nb])
    carry_uk = _fixed_point(
        list(unknowns[nc + nb :]), lambda uk: jaxprs.split(body, b_uk + uk)[2]
    )
    if all(carry_uk) or jaxprs.split(cond, c_uk + carry_uk)[2][0]:
        return [True] * len(carry_uk), None
    n_known = carry_uk.count(False)
    known_params = {
        **params,
        "cond_jaxpr": _leading_outputs(jaxprs.split(cond, c_uk + carry_uk)[0], 1),
        "body_jaxpr": _leading_outputs(
            jaxprs.split(body, b_uk + carry_uk, carry_uk)[0], n_known
        ),
        "cond_nconsts": c_uk.count(False),
        "body_nconsts": b_uk.count(False),
    }
    return carry_uk, known_params


def _leading_outputs(closed: ClosedJaxpr, n: int) -> ClosedJaxpr:
    """`closed` returning only its first `n` outputs (a known half without its residuals)."""
    j = closed.jaxpr
    return pe.dce_jaxpr(
        ClosedJaxpr(Jaxpr(list(j.constvars), list(j.invars), j.eqns, j.outvars[:n]), closed.consts)
    )


def _while_partial_eval(trace, tracers, **params):
    unknowns = [not t.is_known for t in tracers]
    carry_uk, known_params = _while_split(params, unknowns)
    ins_uk = unknowns[: len(tracers) - len(carry_uk)] + carry_uk
    known_outs = []
    if known_params is not None:
        known_outs = while_p.bind(
            *[t.known for t, u in zip(tracers, ins_uk) if not u], **known_params
        )
    unknown_outs = [None] * len(carry_uk)
    if any(carry_uk):
        # (recorded with the loop's line even eagerly: reverse mode's error names it)
        outvars = [Var(a) for a in params["body_jaxpr"].out_avals]
        info = pe._source_info(trace.main) or core.SourceInfo.current()
        atoms = [t._atom or t.atom for t in tracers]
        trace.main.payload.eqns.append(core.JaxprEqn(while_p, atoms, outvars, params, info))
        unknown_outs = [pe.JaxprTracer(trace, v.aval, v) for v in outvars]
    known_iter = iter(known_outs)
    return [u if uk else next(known_iter) for u, uk in zip(unknown_outs, carry_uk)]


def _while_partial_eval_jaxpr(eqn, unknowns):
    carry_uk, known_params = _while_split(eqn.params, unknowns)
    n_consts = len(eqn.invars) - len(carry_uk)
    known_eqn = None
    if known_params is not None:
        ins_uk = list(unknowns[:n_consts]) + carry_uk
        known_eqn = eqn.replace(
            invars=[a for a, u in zip(eqn.invars, ins_uk) if not u],
            outvars=[v for v, u in zip(eqn.outvars, carry_uk) if not u],
            params=known_params,
        )
    # The whole loop, reading the known inputs as residuals; its known carries are unused.
    unknown_eqn = eqn.replace(
        outvars=[v if u else Var(v.aval) for v, u in zip(eqn.outvars, carry_uk)]
    )
    return known_eqn, unknown_eqn, carry_uk


def _while_transpose(cts, *args, origin, **params):
    # Partial evaluation staged the whole loop (its known carries recomputed) into the linear
    # program: fine for forward use of `linearize`, but reverse mode would need every
    # iteration's values, which are not stored.
    info = core._state.source_override  # the loop's line, when the program recorded it
    raise TypeError(_WHILE_REVERSE_ERRORS[origin] + (f" (at {info})" if info else _where()))


def _while_batch(
    axis_size, vals, dims, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts, origin
):
    nc, nb = cond_nconsts, body_nconsts
    cdims, bdims, carry_dims = dims[:nc], dims[nc : nc + nb], dims[nc + nb :]
    carry_b = _fixed_point(
        [d is not None for d in carry_dims],
        lambda b: [
            d is not None
            for d in jaxprs.batch_jaxpr(
                body_jaxpr, list(bdims) + [0 if x else None for x in b], axis_size
            )[1]
        ],
    )
    _, pred_dims = jaxprs.batch_jaxpr(
        cond_jaxpr, list(cdims) + [0 if x else None for x in carry_b], axis_size
    )
    pred_batched = pred_dims[0] is not None
    if pred_batched:
        carry_b = [True] * len(carry_b)
    cvals, bvals = vals[:nc], vals[nc : nc + nb]
    carry = [
        move_to_front(v, d, axis_size) if b else v
        for v, d, b in zip(vals[nc + nb :], carry_dims, carry_b)
    ]
    cin = list(cdims) + [0 if b else None for b in carry_b]
    bin_ = list(bdims) + [0 if b else None for b in carry_b]
    bcond, _ = jaxprs.batch_jaxpr(cond_jaxpr, cin, axis_size, force_batched=pred_batched)
    bbody, _ = jaxprs.batch_jaxpr(body_jaxpr, bin_, axis_size, force_batched=carry_b)
    if not pred_batched:
        outs = while_p.bind(
            *cvals,
            *bvals,
            *carry,
            cond_jaxpr=bcond,
            body_jaxpr=bbody,
            cond_nconsts=nc,
            body_nconsts=nb,
            origin=origin,
        )
        return outs, [0 if b else None for b in carry_b]
    # A batched predicate: loop while any element continues; finished ones keep their carry.
    carry_avals = _avals(carry)

    def cond_any(*xs):
        return [red.reduce_or(jaxprs.call(bcond, *xs)[0], (0,))]

    def body_masked(*xs):
        c_consts, b_consts, c = xs[:nc], xs[nc : nc + nb], xs[nc + nb :]
        pred = jaxprs.call(bcond, *c_consts, *c)[0]
        new = jaxprs.call(bbody, *b_consts, *c)
        return [
            ew.select_n(sh.broadcast_in_dim(pred, core.get_aval(o).shape, (0,)), o, n)
            for o, n in zip(c, new)
        ]

    all_avals = _avals(cvals) + _avals(bvals) + carry_avals
    new_cond = pe.trace_to_jaxpr(cond_any, _avals(cvals) + carry_avals)
    new_body = pe.trace_to_jaxpr(body_masked, all_avals)
    outs = while_p.bind(
        *cvals,
        *cvals,
        *bvals,
        *carry,
        cond_jaxpr=new_cond,
        body_jaxpr=new_body,
        cond_nconsts=nc,
        body_nconsts=nc + nb,
        origin=origin,
    )
    return outs, [0] * len(outs)


def _while_cost(avals_in, avals_out, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts, origin):
    one = cost_mod.jaxpr_cost(cond_jaxpr) + cost_mod.jaxpr_cost(body_jaxpr)
    return one.with_note(
        f"{origin}: one iteration is counted (the trip count is known only at run time)"
    )


while_p = define_primitive(
    "while",
    multiple_results=True,
    impl=_while_impl,
    abstract_eval=_while_abstract,
    jvp=_while_jvp,
    batch=_while_batch,
    partial_eval=_while_partial_eval,
    partial_eval_jaxpr=_while_partial_eval_jaxpr,
    transpose=_while_transpose,
    cost=_while_cost,
)
# Run through a vmap whose named axis its program's collectives name, on any operands.
jaxprs.carrier(while_p)


def while_loop(
    cond_fun: Callable[[Any], Any], body_fun: Callable[[Any], Any], init_val: Any
) -> Any:
    """``while cond_fun(val): val = body_fun(val)``, staged as one primitive.

    The carry (a pytree) must keep its structure, shapes and dtypes; as in JAX, a leaf given
    as a Python scalar first takes the dtype the body gives it (``0`` becomes a float if the
    body adds ``1.5``), and one whose dtype the body keeps stays weakly typed, a Python scalar
    on every iteration (``0`` through ``c + 1`` stays a weak int, which ``x * c`` does not
    promote). Forward-mode differentiable (`jvp`, `jacfwd`, `linearize`) and batchable;
    for reverse mode use `fori_loop` with static bounds or `scan`.

    !!! Example
        ```python
        from funcdiff import lax

        assert lax.while_loop(lambda x: x < 100, lambda x: x * 2, 1) == 128
        ```
    """
    return _while_loop(cond_fun, body_fun, init_val, "while_loop", "init_val")


def _while_loop(
    cond_fun: Callable[[Any], Any],
    body_fun: Callable[[Any], Any],
    init_val: Any,
    origin: str,
    init_name: str,
) -> Any:
    args_tree = tree_structure((init_val,))

    def trace(avals):
        consts, jaxpr, out_tree = _trace_body(body_fun, args_tree, avals, slice(None))
        return (consts, jaxpr), out_tree, jaxpr.out_avals

    leaves, tree, (b_consts, b_jaxpr) = _trace_loop_body(
        trace, init_val, f"{origin}: body_fun", init_name
    )
    c_consts, c_jaxpr, _ = _trace_body(cond_fun, args_tree, _avals(leaves))
    pred = c_jaxpr.out_avals
    if len(pred) != 1 or pred[0].shape != () or pred[0].dtype != np.bool_:
        raise TypeError(
            f"{origin}: cond_fun must return a boolean scalar, got {_describe(pred)}" + _where()
        )
    outs = while_p.bind(
        *c_consts,
        *b_consts,
        *leaves,
        cond_jaxpr=c_jaxpr,
        body_jaxpr=b_jaxpr,
        cond_nconsts=len(c_consts),
        body_nconsts=len(b_consts),
        origin=origin,
    )
    return tree_unflatten(tree, outs)


def _fori_start(lower: Any, upper: Any) -> tuple[Any, bool, int]:
    """The first index of a `fori_loop`, whether its bounds are static, and its length (0 when
    they are traced)."""
    # The index has the dtype of the bounds, and is weakly typed (a Python int while the loop
    # runs) when they are, as in JAX: `val + i` keeps the dtype of `val`.
    (lo_dtype, lo_weak), (hi_dtype, hi_weak) = [
        (a.dtype, a.weak_type) for a in _avals((lower, upper))
    ]
    if not (dtypes.is_integer(lo_dtype) and dtypes.is_integer(hi_dtype)):
        raise TypeError(
            f"fori_loop: lower and upper must be integers, got "
            f"{dtypes.short_name(lo_dtype)} and {dtypes.short_name(hi_dtype)}" + _where()
        )
    index_dtype, index_weak = dtypes.result_type((lo_dtype, lo_weak), (hi_dtype, hi_weak))
    lo, hi = core.concrete_or_none(lower), core.concrete_or_none(upper)
    static = (
        lo is not None
        and hi is not None
        and not isinstance(lower, Tracer)
        and not isinstance(upper, Tracer)
    )
    if static:
        start = int(lo) if index_weak else index_dtype.type(lo)
    else:
        start = ew.convert_element_type(lower, index_dtype, weak_type=index_weak)
    length = builtins.max(int(hi) - int(lo), 0) if static else 0
    return start, static, length


def fori_loop(
    lower: Any,
    upper: Any,
    body_fun: Callable[[Any, Any], Any],
    init_val: Any,
    *,
    unroll: int | bool | None = None,
) -> Any:
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
    start, static, length = _fori_start(lower, upper)
    if unroll is not None and not static:
        raise ValueError(
            "fori_loop: unroll needs loop bounds known at trace time (Python or "
            "NumPy ints), as in JAX; the bounds here are traced" + _where()
        )
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
        consts, body, out_tree = _trace_body(
            steps_of(steps), args_tree, [core.get_aval(start), *avals], slice(1, None)
        )
        return (consts, body), out_tree.children()[1], body.out_avals[1:]

    leaves, tree, (consts, body) = _trace_loop_body(
        trace, init_val, "fori_loop: body_fun", "init_val"
    )
    if static:
        outs = [start, *leaves]
        plan = (
            [(1, length)]
            if k == 1
            else [(k, length // k)] + ([(1, length % k)] if length % k else [])
        )
        for steps, count in plan:
            c, b = (consts, body) if steps == 1 else trace(_avals(leaves), steps)[0]
            outs = scan_p.bind(
                *c,
                *outs,
                jaxpr=b,
                length=count,
                reverse=False,
                num_consts=len(c),
                num_carry=1 + len(leaves),
            )
    else:
        c_consts, cond, _ = _trace_body(
            lambda i, val: ew.lt(i, upper), args_tree, _avals([start, *leaves])
        )
        outs = while_p.bind(
            *c_consts,
            *consts,
            start,
            *leaves,
            cond_jaxpr=cond,
            body_jaxpr=body,
            cond_nconsts=len(c_consts),
            body_nconsts=len(consts),
            origin="fori_loop",
        )
    return tree_unflatten(tree, outs[1:])
