"""Contractions: `dot_general`, the one primitive behind dot, matmul, tensordot and einsum."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes
from funcdiff._src.core import ShapedArray
from funcdiff._src.errors import PrimitiveError
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters.ad import UndefinedPrimal, add_any_p, is_undefined_primal
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax._define import define_primitive, shift_axes
from funcdiff._src.lax.structural import moveaxis, transpose_p

Array = Any


def _free_dims(ndim: int, *used: Sequence[int]) -> list[int]:
    taken = set().union(*map(set, used))
    return [d for d in range(ndim) if d not in taken]


def _outer_layout(nx: int, ny: int, dimension_numbers) -> tuple[list[int], list[int], int, int]:
    """A `dot_general` that contracts nothing is a broadcast product: the axis orders that
    put each operand's batch dimensions first and free ones after (``perm_x``, ``perm_y``),
    and how many free dimensions each has, to pad the other with."""
    _, (xb, yb) = dimension_numbers
    xf, yf = _free_dims(nx, xb), _free_dims(ny, yb)
    return list(xb) + xf, list(yb) + yf, len(xf), len(yf)


def _dot_general_impl(x, y, *, dimension_numbers):
    (xc, yc), (xb, yb) = dimension_numbers
    x, y = np.asarray(x), np.asarray(y)
    if not xc and x.ndim and y.ndim:
        # No contraction: an elementwise product of broadcast views, not a matmul with k = 1.
        perm_x, perm_y, nxf, nyf = _outer_layout(x.ndim, y.ndim, dimension_numbers)
        nb = len(xb)
        xt, yt = x.transpose(perm_x), y.transpose(perm_y)
        xt = xt.reshape(xt.shape + (1,) * nyf)
        yt = yt.reshape(yt.shape[:nb] + (1,) * nxf + yt.shape[nb:])
        return np.multiply(xt, yt)
    if not xb and len(xc) == 1 and y.ndim <= 2:
        # One matmul on (transposed) views: no copies, no tensordot overhead.
        (i,), (j,) = xc, yc
        rhs = y if j == 0 else y.T
        if i == x.ndim - 1:
            return x @ rhs
        if x.ndim == 2:
            return x.T @ rhs
    if not xb:
        return np.tensordot(x, y, axes=(xc, yc))
    xf = _free_dims(x.ndim, xc, xb)
    yf = _free_dims(y.ndim, yc, yb)
    batch_shape = [x.shape[d] for d in xb]
    nb = int(np.prod(batch_shape, dtype=np.int64))
    k = int(np.prod([x.shape[d] for d in xc], dtype=np.int64))
    m_shape = [x.shape[d] for d in xf]
    n_shape = [y.shape[d] for d in yf]
    # Explicit sizes: a -1 cannot be inferred when a batch dimension has size 0.
    m = int(np.prod(m_shape, dtype=np.int64))
    n = int(np.prod(n_shape, dtype=np.int64))
    xt = x.transpose(list(xb) + xf + list(xc)).reshape(nb, m, k)
    yt = y.transpose(list(yb) + list(yc) + yf).reshape(nb, k, n)
    return np.matmul(xt, yt).reshape(batch_shape + m_shape + n_shape)


def _dot_general_aval(x: ShapedArray, y: ShapedArray, *, dimension_numbers) -> ShapedArray:
    (xc, yc), (xb, yb) = dimension_numbers
    if len(xc) != len(yc) or len(xb) != len(yb):
        raise PrimitiveError(f"mismatched dimension_numbers {dimension_numbers}")
    for dims, nd in ((xc, x.ndim), (xb, x.ndim), (yc, y.ndim), (yb, y.ndim)):
        if any(not 0 <= d < nd for d in dims):
            raise PrimitiveError(f"dimension_numbers {dimension_numbers} out of range")
    if len(set(xc) | set(xb)) != len(xc) + len(xb) or len(set(yc) | set(yb)) != len(yc) + len(yb):
        raise PrimitiveError(f"dimension_numbers {dimension_numbers} repeat a dimension")
    for a, b in zip(xc, yc):
        if x.shape[a] != y.shape[b]:
            raise PrimitiveError(
                f"contracting dimension {a} of lhs {x.shape} (size {x.shape[a]}) does not match "
                f"dimension {b} of rhs {y.shape} (size {y.shape[b]})"
            )
    for a, b in zip(xb, yb):
        if x.shape[a] != y.shape[b]:
            raise PrimitiveError(
                f"batch dimension {a} of lhs {x.shape} does not match dimension {b} of rhs "
                f"{y.shape}"
            )
    if x.dtype.kind not in "biufc" or y.dtype.kind not in "biufc":
        raise PrimitiveError(f"dot_general of {x.dtype} and {y.dtype}")
    dtype, weak = dtypes.result_type((x.dtype, x.weak_type), (y.dtype, y.weak_type))
    shape = (
        [x.shape[d] for d in xb]
        + [x.shape[d] for d in _free_dims(x.ndim, xc, xb)]
        + [y.shape[d] for d in _free_dims(y.ndim, yc, yb)]
    )
    return ShapedArray(shape, dtype, weak)


def _transpose_plan(other_ndim, aval: ShapedArray, mine, theirs, ct_free_offset, other_first):
    """How `_transpose_operand` contracts: ``(dn, ct_first, perm)``, the dimension numbers of
    ``dot_general(ct, other)`` (``ct_first``) or ``dot_general(other, ct)``, then the axis
    permutation restoring the operand's order (None if the result is in it).

    `mine`/`theirs` are ``(contracting, batch)`` of this operand and of the other one.
    """
    (my_c, my_b), (their_c, their_b) = mine, theirs
    their_free = _free_dims(other_ndim, their_c, their_b)
    my_free = _free_dims(aval.ndim, my_c, my_b)
    nb = len(my_b)
    # Positions in `ct` of the other operand's free dimensions.
    if other_first:
        ct_their_free = list(range(nb, nb + len(their_free)))
    else:
        ct_their_free = list(range(ct_free_offset, ct_free_offset + len(their_free)))
    contracted = [my_c[their_c.index(c)] for c in sorted(their_c)]
    if list(my_b) + contracted + my_free == list(range(aval.ndim)):
        # The operand lists its contracting dims before its free ones (a weight matrix in
        # x @ w): contract `other` with `ct` in that order, giving a C-ordered result.
        dn = ((tuple(their_free), tuple(ct_their_free)), (tuple(their_b), tuple(range(nb))))
        return dn, False, None
    dn = ((tuple(ct_their_free), tuple(their_free)), (tuple(range(nb)), tuple(their_b)))
    # The result's axes: batch, my free dims (ascending), then my contracting dims.
    src = list(my_b) + my_free + contracted
    return dn, True, tuple(np.argsort(src).tolist())


def _transpose_operand(ct, other, aval: ShapedArray, mine, theirs, ct_free_offset, other_first):
    """Cotangent of one operand of `dot_general`: contract `ct` with the other operand over
    the other operand's free dimensions, then restore the operand's axis order."""
    ndim = core.get_aval(other).ndim
    dn, ct_first, perm = _transpose_plan(ndim, aval, mine, theirs, ct_free_offset, other_first)
    if not ct_first:
        res = dot_general(other, ct, dn)
    else:
        res = sh.transpose(dot_general(ct, other, dn), perm)
    if core.get_aval(res).dtype != aval.dtype:
        res = ew.convert_element_type(res, aval.dtype)
    return res


def _dot_general_transpose_direct(tr, ct, x, y, *, dimension_numbers):
    """`_dot_general_transpose`'s equations, recorded directly (`staged_ad.
    direct_transpose_rules`): the contraction, and the permutation if it is not the identity;
    a cast of the result is left to that rule."""
    (xc, yc), (xb, yb) = dimension_numbers
    if (type(x) is UndefinedPrimal) == (type(y) is UndefinedPrimal):
        return NotImplemented
    if type(x) is UndefinedPrimal:
        aval, other, mine, theirs = x.aval, y, (xc, xb), (yc, yb)
        offset, other_first = len(xb) + len(_free_dims(x.aval.ndim, xc, xb)), False
    else:
        aval, other, mine, theirs = y.aval, x, (yc, yb), (xc, xb)
        offset, other_first = len(xb), True
    dn, ct_first, perm = _transpose_plan(other.aval.ndim, aval, mine, theirs, offset, other_first)
    params = {"dimension_numbers": dn}
    atoms = [ct, other] if ct_first else [other, ct]
    d_aval = dot_general_p.abstract_eval(*[a.aval for a in atoms], **params)
    if perm == tuple(range(len(aval.shape))):
        perm = None  # (`transpose` hands its operand back: no equation)
    if perm is not None:
        t_params = {"permutation": perm}
        r_aval = transpose_p.abstract_eval(d_aval, **t_params)
    if not tr.fits(d_aval if perm is None else r_aval, aval):
        return NotImplemented
    res = tr.emit(dot_general_p, atoms, d_aval, params)
    if perm is not None:
        res = tr.emit(transpose_p, [res], r_aval, t_params)
    return [res, None] if type(x) is UndefinedPrimal else [None, res]


def _dot_general_transpose(ct, x, y, *, dimension_numbers):
    (xc, yc), (xb, yb) = dimension_numbers
    if is_undefined_primal(x) and is_undefined_primal(y):
        raise NotImplementedError("dot_general is bilinear, not linear in both operands at once")
    if is_undefined_primal(x):
        x_free = _free_dims(x.aval.ndim, xc, xb)
        offset = len(xb) + len(x_free)  # y's free dims follow x's in the output
        return [_transpose_operand(ct, y, x.aval, (xc, xb), (yc, yb), offset, False), None]
    # y's cotangent: x's free dims come right after the batch dims of the output.
    return [None, _transpose_operand(ct, x, y.aval, (yc, yb), (xc, xb), len(xb), True)]


def _dot_general_lower(ctx, x, y, *, dimension_numbers):
    # One matmul (`@`) for every layout it covers, transposing operands as views; otherwise
    # the general implementation (tensordot or a batched matmul).
    (xc, yc), (xb, yb) = dimension_numbers
    nx, ny = ctx.in_avals[0].ndim, ctx.in_avals[1].ndim
    nb = len(xb)
    if not xc and nx and ny:
        return _outer_lower(x, y, nx, ny, dimension_numbers)
    if xb != tuple(range(nb)) or yb != tuple(range(nb)) or len(xc) != 1:
        return _general_dot_lower(ctx, x, y, dimension_numbers)
    (i,), (j,) = xc, yc
    if nb:
        if nx != nb + 2 or ny != nb + 2:
            return _general_dot_lower(ctx, x, y, dimension_numbers)
        lhs = x if i == nb + 1 else f"xp.swapaxes({x}, -1, -2)"
        rhs = y if j == nb else f"xp.swapaxes({y}, -1, -2)"
        return f"({lhs} @ {rhs})"
    if ny == 1 and i == nx - 1:
        return f"({x} @ {y})"
    if ny == 2 and i == nx - 1:
        return f"({x} @ {y})" if j == 0 else f"({x} @ {y}.T)"
    if nx == 2 and i == 0 and ny <= 2:
        return f"({x}.T @ {y})" if j == 0 else f"({x}.T @ {y}.T)"
    if nx == 1 and ny == 2:
        return f"({x} @ {y})" if j == 0 else f"({y} @ {x})"
    return _general_dot_lower(ctx, x, y, dimension_numbers)


def _outer_lower(x: str, y: str, nx: int, ny: int, dimension_numbers) -> str:
    """``x * y[:, None]`` and the like: a product that contracts nothing, as broadcast views."""
    perm_x, perm_y, nxf, nyf = _outer_layout(nx, ny, dimension_numbers)
    nb = len(dimension_numbers[1][0])

    def view(name: str, perm: list[int], leading: int, new_axes: int) -> str:
        # `leading` axes kept, then `new_axes` inserted; the rest follow (NumPy fills them).
        if perm != sorted(perm):
            name = f"{name}.transpose({tuple(perm)})"
        if not new_axes:
            return name
        if leading == len(perm):
            return f"{name}[{', '.join(['...'] + ['None'] * new_axes)}]"
        return f"{name}[{', '.join([':'] * leading + ['None'] * new_axes)}]"

    return f"({view(x, perm_x, nx, nyf)} * {view(y, perm_y, nb, nxf)})"


def _general_dot_lower(ctx, x, y, dimension_numbers):
    fn = ctx.const(_dot_general_impl, "f")
    return f"{fn}({x}, {y}, dimension_numbers={ctx.param(dimension_numbers)})"


def _dot_general_cost(avals_in, avals_out, *, dimension_numbers):
    # A multiply and an add per term: 2 * batch * free(x) * free(y) * contracting, which is
    # 2 m n k for a matmul (m, k) @ (k, n). The output size is batch * free(x) * free(y).
    (xc, _), _ = dimension_numbers
    x = avals_in[0]
    contracting = int(np.prod([x.shape[d] for d in xc], dtype=np.int64))
    moved = cost_mod.io_bytes(avals_in, avals_out)
    return cost_mod.Cost(
        2 * avals_out[0].size * contracting, 0, moved.bytes_read, moved.bytes_written
    )


def _dot_general_batch(axis_size, vals, dims, *, dimension_numbers):
    # The vmapped dimension becomes a batch dimension of the contraction (both operands
    # batched) or a free dimension of the batched operand: one dot_general either way.
    (x, y), (bx, by) = vals, dims
    (xc, yc), (xb, yb) = dimension_numbers
    if bx is not None and by is not None:
        x, y = moveaxis(x, bx, 0), moveaxis(y, by, 0)
        dn = ((shift_axes(xc), shift_axes(yc)), ((0, *shift_axes(xb)), (0, *shift_axes(yb))))
        return dot_general(x, y, dn), 0
    if bx is not None:

        def shift(ds):
            return tuple(d + (d >= bx) for d in ds)

        dn = ((shift(xc), yc), (shift(xb), yb))
        free_before = sum(1 for d in range(bx) if d not in shift(xc) and d not in shift(xb))
        return dot_general(x, y, dn), len(xb) + free_before

    def shift_y(ds):
        return tuple(d + (d >= by) for d in ds)

    dn = ((xc, shift_y(yc)), (xb, shift_y(yb)))
    x_free = core.get_aval(x).ndim - len(xc) - len(xb)
    free_before = sum(1 for d in range(by) if d not in shift_y(yc) and d not in shift_y(yb))
    return dot_general(x, y, dn), len(xb) + x_free + free_before


def _dot_general_direct(lin, ins, tangents, *, dimension_numbers):
    """The direct JVP (`staged_ad.direct_jvp_rules`) of dot_general: its partials'
    contractions, ``tx . y`` and ``x . ty`` with the same dimension numbers, summed by
    `add_any`."""
    (x, y), (tx, ty) = ins, tangents
    params = {"dimension_numbers": dimension_numbers}
    ax = None if tx is None else dot_general_p.abstract_eval(tx.aval, y.aval, **params)
    ay = None if ty is None else dot_general_p.abstract_eval(x.aval, ty.aval, **params)
    if (ax is not None and not lin.fits(ax)) or (ay is not None and not lin.fits(ay)):
        return NotImplemented
    lin.keep()
    cx = None if tx is None else lin.tangent(dot_general_p, [tx, lin.residual(y)], ax, params)
    cy = None if ty is None else lin.tangent(dot_general_p, [lin.residual(x), ty], ay, params)
    if cx is None or cy is None:
        return cy if cx is None else cx
    return lin.tangent(add_any_p, [cx, cy])


dot_general_p = define_primitive(
    "dot_general",
    linear_in_each=True,
    allocates=True,
    impl=_dot_general_impl,
    abstract_eval=_dot_general_aval,
    lower=_dot_general_lower,
    cost=_dot_general_cost,
    jvp_partials=[
        lambda g, ans, x, y, *, dimension_numbers: dot_general(g, y, dimension_numbers),
        lambda g, ans, x, y, *, dimension_numbers: dot_general(x, g, dimension_numbers),
    ],
    jvp_direct=_dot_general_direct,
    transpose=_dot_general_transpose,
    transpose_direct=_dot_general_transpose_direct,
    batch=_dot_general_batch,
)


def dot_general(x: Array, y: Array, dimension_numbers: Any) -> Array:
    """General tensor contraction.

    `dimension_numbers` is ``((lhs_contracting, rhs_contracting), (lhs_batch, rhs_batch))``.
    The result's axes are the batch axes, then the free axes of `x`, then those of `y`.
    """
    (xc, yc), (xb, yb) = dimension_numbers
    dn = ((tuple(map(int, xc)), tuple(map(int, yc))), (tuple(map(int, xb)), tuple(map(int, yb))))
    return dot_general_p.bind(x, y, dimension_numbers=dn)
