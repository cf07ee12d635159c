"""`scan` and `map`: the `scan` primitive, whose body is traced to a jaxpr (printed nested in
`make_jaxpr` output) and whose rules transform it: JVP, partial evaluation and transpose
(hence `grad`; reverse mode stores only the residuals the transposed body needs), and
batching. `map` is a scan without carry; `scan(unroll=k)` runs `k` steps per iteration."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes
from funcdiff._src.core import ClosedJaxpr, ShapedArray, Var
from funcdiff._src.interpreters import ad
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.interpreters.ad import Zero, is_undefined_primal
from funcdiff._src.lax import _jaxprs as jaxprs
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax._bodies import (
    _as_carry,
    _avals,
    _carry_values,
    _fixed_point,
    _permute_inputs,
    _permute_outputs,
    _trace_body,
    _trace_loop_body,
    _where,
)
from funcdiff._src.lax._define import define_primitive
from funcdiff._src.lax.structural import move_to_front, moveaxis
from funcdiff._src.tree_util import tree_flatten, tree_structure, tree_unflatten

Array = Any


# ---- scan -----------------------------------------------------------------------------------


def _scan_impl(*args: Any, jaxpr, length, reverse, num_consts, num_carry) -> list[Any]:
    consts = list(args[:num_consts])
    carry = list(args[num_consts : num_consts + num_carry])
    xs = args[num_consts + num_carry :]
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
        stacked.append(
            np.stack([np.asarray(y, a.dtype) for y in acc])
            if acc
            else np.zeros((0, *a.shape), a.dtype)
        )
    return carry + stacked


def _scan_abstract(*avals, jaxpr, length, reverse, num_consts, num_carry):
    outs = jaxpr.out_avals
    return outs[:num_carry] + [ShapedArray((length, *a.shape), a.dtype) for a in outs[num_carry:]]


def _scan_jvp(primals, tangents, *, jaxpr, length, reverse, num_consts, num_carry):
    nc, nk = num_consts, num_carry
    nz_in = [type(t) is not Zero for t in tangents]
    const_nz, carry_nz0, xs_nz = nz_in[:nc], nz_in[nc : nc + nk], nz_in[nc + nk :]
    carry_avals = jaxpr.out_avals[:nk]
    inexact = [dtypes.is_inexact(a.dtype) for a in carry_avals]
    carry_nz = _fixed_point(
        carry_nz0, lambda nz: jaxprs.jvp_jaxpr(jaxpr, const_nz + nz + xs_nz)[1][:nk]
    )
    carry_nz = [nz and i for nz, i in zip(carry_nz, inexact)]
    n_y = len(jaxpr.out_avals) - nk
    inst = carry_nz + [False] * n_y
    jvp, out_nz = jaxprs.jvp_jaxpr(jaxpr, const_nz + carry_nz + xs_nz, inst)
    # inputs (consts, carry, xs, consts_t, carry_t, xs_t) -> (consts, consts_t, carry, carry_t,
    # xs, xs_t); outputs (carry, ys, carry_t, ys_t) -> (carry, carry_t, ys, ys_t).
    n_x = len(primals) - nc - nk
    n_ct, n_kt, n_xt = sum(const_nz), sum(carry_nz), sum(xs_nz)
    base = nc + nk + n_x
    order = (
        list(range(nc))
        + list(range(base, base + n_ct))
        + list(range(nc, nc + nk))
        + list(range(base + n_ct, base + n_ct + n_kt))
        + list(range(nc + nk, base))
        + list(range(base + n_ct + n_kt, base + n_ct + n_kt + n_xt))
    )
    jvp = _permute_inputs(jvp, order)
    y_nz = out_nz[nk:]
    n_yt = sum(y_nz)
    total = nk + n_y
    out_order = (
        list(range(nk))
        + list(range(total, total + n_kt))
        + list(range(nk, total))
        + list(range(total + n_kt, total + n_kt + n_yt))
    )
    jvp = _permute_outputs(jvp, out_order)
    consts, carry, xs = primals[:nc], primals[nc : nc + nk], primals[nc + nk :]
    ct = [t for t in tangents[:nc] if type(t) is not Zero]
    kt = [ad.instantiate(t) for t, nz in zip(tangents[nc : nc + nk], carry_nz) if nz]
    xt = [t for t in tangents[nc + nk :] if type(t) is not Zero]
    outs = scan_p.bind(
        *consts,
        *ct,
        *carry,
        *kt,
        *xs,
        *xt,
        jaxpr=jvp,
        length=length,
        reverse=reverse,
        num_consts=nc + n_ct,
        num_carry=nk + n_kt,
    )
    carry_out, carry_t_out = outs[:nk], outs[nk : nk + n_kt]
    ys, ys_t = outs[nk + n_kt : nk + n_kt + n_y], outs[nk + n_kt + n_y :]
    y_avals = _scan_abstract(
        jaxpr=jaxpr, length=length, reverse=reverse, num_consts=nc, num_carry=nk
    )[nk:]
    it_k, it_y = iter(carry_t_out), iter(ys_t)
    t_carry = [
        next(it_k) if nz else Zero(ad.tangent_aval(a)) for nz, a in zip(carry_nz, carry_avals)
    ]
    t_ys = [next(it_y) if nz else Zero(ad.tangent_aval(a)) for nz, a in zip(y_nz, y_avals)]
    return list(carry_out) + list(ys), t_carry + t_ys


def _split_scan(jaxpr: ClosedJaxpr, unknowns: list[bool], nc: int, nk: int):
    """Split a scan body. Carry unknowns reach a fixed point; residuals that are known
    consts of the body are passed as consts of the unknown scan, the rest are stacked."""
    const_uk, xs_uk = unknowns[:nc], unknowns[nc + nk :]
    carry_uk = _fixed_point(
        unknowns[nc : nc + nk], lambda uk: jaxprs.split(jaxpr, const_uk + uk + xs_uk)[2][:nk]
    )
    full_uk = const_uk + carry_uk + xs_uk
    n_y = len(jaxpr.out_avals) - nk
    known, unknown, out_uk, n_res = jaxprs.split(jaxpr, full_uk, carry_uk + [False] * n_y)
    return full_uk, known, unknown, out_uk, n_res


def _scan_partial_eval_jaxpr(eqn, unknowns):
    p = eqn.params
    nc, nk = p["num_consts"], p["num_carry"]
    full_uk, known, unknown, out_uk, n_res = _split_scan(p["jaxpr"], list(unknowns), nc, nk)
    ins = eqn.invars
    res_vars = [
        Var(ShapedArray((p["length"], *a.shape), a.dtype))
        for a in known.out_avals[len(known.out_avals) - n_res :]
    ]
    k_ins = [a for a, u in zip(ins, full_uk) if not u]
    n_kc = sum(1 for u in full_uk[:nc] if not u)
    n_kk = sum(1 for u in full_uk[nc : nc + nk] if not u)
    known_eqn = eqn.replace(
        invars=k_ins,
        outvars=[v for v, u in zip(eqn.outvars, out_uk) if not u] + res_vars,
        params={**p, "jaxpr": known, "num_consts": n_kc, "num_carry": n_kk},
    )
    n_uc, n_uk = sum(full_uk[:nc]), sum(full_uk[nc : nc + nk])
    n_ux = sum(full_uk[nc + nk :])
    order = (
        list(range(n_res, n_res + n_uc))
        + list(range(n_res + n_uc, n_res + n_uc + n_uk))
        + list(range(n_res))
        + list(range(n_res + n_uc + n_uk, n_res + n_uc + n_uk + n_ux))
    )
    u_ins = [a for a, u in zip(ins, full_uk) if u]
    unknown_eqn = eqn.replace(
        invars=u_ins[: n_uc + n_uk] + res_vars + u_ins[n_uc + n_uk :],
        outvars=[v for v, u in zip(eqn.outvars, out_uk) if u],
        params={
            **p,
            "jaxpr": _permute_inputs(unknown, order),
            "num_consts": n_uc,
            "num_carry": n_uk,
        },
    )
    return known_eqn, unknown_eqn, out_uk


def _scan_transpose(cts, *args, jaxpr, length, reverse, num_consts, num_carry):
    nc, nk = num_consts, num_carry
    consts, carry, xs = args[:nc], args[nc : nc + nk], args[nc + nk :]
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
        acc = vals[n_kc : n_kc + n_lc]
        ck = vals[n_kc + n_lc : n_kc + n_lc + nk]
        kx = vals[n_kc + n_lc + nk : n_kc + n_lc + nk + n_kx]
        cy = vals[n_kc + n_lc + nk + n_kx :]
        outs = core.eval_jaxpr(t_body.jaxpr, t_body.consts, *kc, *kx, *ck, *cy)
        ct_lin_consts, ct_carry_in, ct_lin_xs = (
            outs[:n_lc],
            outs[n_lc : n_lc + nk],
            outs[n_lc + nk :],
        )
        new_acc = [ad.add_tangents(a, c) for a, c in zip(acc, ct_lin_consts)]
        return list(new_acc) + list(ct_carry_in) + list(ct_lin_xs)

    in_avals = (
        _avals(k_consts)
        + lin_const_avals
        + list(carry_avals)
        + [ShapedArray(a.shape[1:], a.dtype) for a in _avals(k_xs)]
        + [a for a, nz in zip(y_avals, ys_nz) if nz]
    )
    t_jaxpr = pe.trace_to_jaxpr(body, in_avals)
    acc0 = [np.zeros(a.shape, a.dtype) for a in lin_const_avals]
    outs = scan_p.bind(
        *k_consts,
        *acc0,
        *ct_carry,
        *k_xs,
        *[c for c in ct_ys if type(c) is not Zero],
        jaxpr=t_jaxpr,
        length=length,
        reverse=not reverse,
        num_consts=n_kc,
        num_carry=n_lc + nk,
    )
    ct_consts_lin = iter(outs[:n_lc])
    ct_carry_init = outs[n_lc : n_lc + nk]
    ct_xs_lin = iter(outs[n_lc + nk :])
    return (
        [next(ct_consts_lin) if u else None for u in c_undef]
        + [c if u else None for c, u in zip(ct_carry_init, carry_undef)]
        + [next(ct_xs_lin) if u else None for u in x_undef]
    )


def _scan_batch(axis_size, vals, dims, *, jaxpr, length, reverse, num_consts, num_carry):
    nc, nk = num_consts, num_carry
    cdims, kdims, xdims = dims[:nc], dims[nc : nc + nk], dims[nc + nk :]
    # Per-iteration slices of xs: the scan axis is 0, so the batch axis goes to 1.
    xs = [moveaxis(v, d, 1) if d is not None else v for v, d in zip(vals[nc + nk :], xdims)]
    x_in = [0 if d is not None else None for d in xdims]
    carry_b = _fixed_point(
        [d is not None for d in kdims],
        lambda b: [
            d is not None
            for d in jaxprs.batch_jaxpr(
                jaxpr, list(cdims) + [0 if x else None for x in b] + x_in, axis_size
            )[1][:nk]
        ],
    )
    carry = [
        move_to_front(v, d, axis_size) if b else v
        for v, d, b in zip(vals[nc : nc + nk], kdims, carry_b)
    ]
    in_dims = list(cdims) + [0 if b else None for b in carry_b] + x_in
    n_y = len(jaxpr.out_avals) - nk
    batched, out_dims = jaxprs.batch_jaxpr(jaxpr, in_dims, axis_size, carry_b + [False] * n_y)
    outs = scan_p.bind(
        *vals[:nc],
        *carry,
        *xs,
        jaxpr=batched,
        length=length,
        reverse=reverse,
        num_consts=nc,
        num_carry=nk,
    )
    y_dims = [1 if d is not None else None for d in out_dims[nk:]]
    return outs, [0 if b else None for b in carry_b] + y_dims


def _scan_cost(avals_in, avals_out, *, jaxpr, length, reverse, num_consts, num_carry):
    return cost_mod.jaxpr_cost(jaxpr).scale(length)


scan_p = define_primitive(
    "scan",
    multiple_results=True,
    impl=_scan_impl,
    abstract_eval=_scan_abstract,
    jvp=_scan_jvp,
    transpose=_scan_transpose,
    batch=_scan_batch,
    partial_eval_jaxpr=_scan_partial_eval_jaxpr,
    cost=_scan_cost,
)
# Run through a vmap whose named axis its program's collectives name, on any operands.
jaxprs.carrier(scan_p)


def scan(
    f: Callable[[Any, Any], tuple[Any, Any]],
    init: Any,
    xs: Any = None,
    length: int | None = None,
    reverse: bool = False,
    unroll: int | bool = 1,
    _split_transpose: bool = False,
) -> tuple[Any, Any]:
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
        consts, body, out_tree = _trace_body(
            lambda c, x: f(c, x), args_tree, carry_avals + x_avals, slice(len(carry_avals))
        )
        if out_tree.num_leaves < 1 or len(out_tree.children()) != 2:
            raise TypeError("scan: f must return a pair (carry, y)" + _where())
        new_carry_tree, y_tree = out_tree.children()
        return (consts, body, y_tree), new_carry_tree, body.out_avals[: len(carry_avals)]

    carry_leaves, carry_tree, (consts, body, y_tree) = _trace_loop_body(
        trace, init, "scan: f", "init"
    )
    outs = scan_p.bind(
        *consts,
        *carry_leaves,
        *x_leaves,
        jaxpr=body,
        length=n,
        reverse=bool(reverse),
        num_consts=len(consts),
        num_carry=len(carry_leaves),
    )
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
        raise ValueError(
            f"scan: inconsistent lengths {sorted(lengths)} of the leading axes of xs (and length)"
        )
    if not lengths:
        raise ValueError("scan: give xs or length")
    return lengths.pop()


def _unroll_steps(unroll: Any, n: int) -> int:
    """The number of steps one loop iteration of an unrolled scan runs (1: not unrolled)."""
    if isinstance(unroll, (bool, np.bool_)):
        return builtins.max(n, 1) if unroll else 1
    if not isinstance(unroll, (int, np.integer)) or unroll < 1:
        raise ValueError(
            f"scan: unroll must be a positive int or a bool, got {unroll!r}" + _where()
        )
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
    return sh.concatenate(
        [sh.expand_dims(ew.convert_element_type(x, dtype, weak_type=weak), (0,)) for x in xs], 0
    )


def _scan_unrolled(
    f: Callable[[Any, Any], tuple[Any, Any]], init: Any, xs: Any, n: int, reverse: bool, k: int
) -> tuple[Any, Any]:
    """`scan` with `k` steps of `f` per loop iteration: a scan over ``n // k`` chunks of `k`
    slices, then (in loop order) a plain scan over the ``n % k`` slices left over."""
    m, r = divmod(n, k)
    x_leaves, x_tree = tree_flatten(xs)
    # The chunked steps come first in loop order: xs[:m*k] forward, xs[r:] in reverse.
    lo, hi = (r, n) if reverse else (0, m * k)
    chunks = [sh.reshape(_rows(x, lo, hi), (m, k) + core.get_aval(x).shape[1:]) for x in x_leaves]

    def body(carry, chunk):
        leaves = tree_flatten(chunk)[0]
        in_leaves, in_tree = tree_flatten(carry)
        in_avals = _avals(in_leaves)
        ys: list[Any] = [None] * k
        for j in range(k - 1, -1, -1) if reverse else range(k):
            x = tree_unflatten(x_tree, [sh.squeeze(_rows(c, j, j + 1), (0,)) for c in leaves])
            out = f(carry, x)
            if not isinstance(out, tuple) or len(out) != 2:
                raise TypeError("scan: f must return a pair (carry, y)" + _where())
            carry, ys[j] = out
            # Between steps the carry takes the loop's carry types, as the loop gives them.
            out_leaves, out_tree = tree_flatten(carry)
            if out_tree == in_tree:
                carry = tree_unflatten(
                    in_tree,
                    [
                        _as_carry(c, a) if core.get_aval(c).shape == a.shape else c
                        for c, a in zip(out_leaves, in_avals)
                    ],
                )
        y_leaves = [tree_flatten(y)[0] for y in ys]
        return carry, tree_unflatten(tree_structure(ys[0]), [_stack(col) for col in zip(*y_leaves)])

    carry, chunk_ys = scan(body, init, tree_unflatten(x_tree, chunks), length=m, reverse=reverse)
    y_leaves, y_tree = tree_flatten(chunk_ys)
    y_leaves = [sh.reshape(y, (m * k,) + core.get_aval(y).shape[2:]) for y in y_leaves]
    if r:
        rest = tree_unflatten(
            x_tree, [_rows(x, 0, r) if reverse else _rows(x, m * k, n) for x in x_leaves]
        )
        carry, rest_ys = scan(f, carry, rest, length=r, reverse=reverse)
        rest_leaves = tree_flatten(rest_ys)[0]
        y_leaves = [
            sh.concatenate([b, a] if reverse else [a, b], 0) for a, b in zip(y_leaves, rest_leaves)
        ]
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
    if (
        isinstance(batch_size, (bool, np.bool_))
        or not isinstance(batch_size, (int, np.integer))
        or batch_size < 1
    ):
        raise ValueError(
            f"map: batch_size must be a positive int or None, got {batch_size!r}" + _where()
        )
    from funcdiff._src.vmap import vmap  # vmap's module imports the lax package

    n = _scan_length(xs, None)
    x_leaves, x_tree = tree_flatten(xs)
    m, r = divmod(n, int(batch_size))
    b = int(batch_size)
    batched = vmap(f)
    ys = None
    if m:
        chunks = tree_unflatten(
            x_tree,
            [sh.reshape(_rows(x, 0, m * b), (m, b) + core.get_aval(x).shape[1:]) for x in x_leaves],
        )
        chunk_ys = scan(lambda _, x: ((), batched(x)), (), chunks)[1]
        y_leaves, y_tree = tree_flatten(chunk_ys)
        ys = [sh.reshape(y, (m * b,) + core.get_aval(y).shape[2:]) for y in y_leaves]
    if r:
        rest = batched(tree_unflatten(x_tree, [_rows(x, m * b, n) for x in x_leaves]))
        rest_leaves, y_tree = tree_flatten(rest)
        ys = (
            rest_leaves
            if ys is None
            else [sh.concatenate([a, c], 0) for a, c in zip(ys, rest_leaves)]
        )
    if ys is None:  # no slices at all
        return scan(lambda _, x: ((), f(x)), (), xs)[1]
    return tree_unflatten(y_tree, ys)
