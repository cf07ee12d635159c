"""Dynamic slices: `dynamic_slice` and `dynamic_update_slice`, a window of static size at
start indices known only at run time (clamped so that the window fits, as in JAX).
Batched starts make a gather or scatter (`indexing.py`) of every window's elements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.core import ShapedArray
from funcdiff._src.errors import PrimitiveError
from funcdiff._src.interpreters import ad
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters.ad import Zero, is_undefined_primal
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax._define import define_primitive
from funcdiff._src.lax.indexing import gather, scatter
from funcdiff._src.lax.structural import move_to_front, moveaxis

Array = Any


# ---- batching rules -------------------------------------------------------------------------
# A batch of windows at batched starts is a gather (a scatter to update them) with index
# arrays that select every window's elements.


def _window_indices(starts, bstarts, shape, sizes, size):
    """Index arrays selecting the window ``[start, start + size)`` (clamped, as
    `dynamic_slice`) in every dimension, batched over the leading dimension."""
    nd = len(shape)
    out = []
    for d, (s, b, n, k) in enumerate(zip(starts, bstarts, shape, sizes)):
        s = moveaxis(s, b, 0) if b is not None else s
        s = ew.clamp(
            np.zeros((), core.get_aval(s).dtype), s, np.asarray(n - k, core.get_aval(s).dtype)
        )
        offsets = np.arange(k).reshape((1,) + (1,) * d + (k,) + (1,) * (nd - d - 1))
        s = sh.reshape(s, (core.get_aval(s).shape[0] if b is not None else 1,) + (1,) * nd)
        out.append(ew.add(s, offsets.astype(core.get_aval(s).dtype)))
    return out


def _dynamic_slice_batch(axis_size, vals, dims_in, *, slice_sizes):
    x, *starts = vals
    bx, *bstarts = dims_in
    if all(b is None for b in bstarts):
        x = moveaxis(x, bx, 0)
        zero = np.zeros((), core.get_aval(starts[0]).dtype if starts else np.int64)
        return _raw_dynamic_slice(x, [zero, *starts], (core.get_aval(x).shape[0], *slice_sizes)), 0
    shape = (
        core.get_aval(x).shape
        if bx is None
        else tuple(n for k, n in enumerate(core.get_aval(x).shape) if k != bx)
    )
    idx = _window_indices(starts, bstarts, shape, slice_sizes, axis_size)
    nd = len(shape)
    if bx is None:
        return gather(x, idx, tuple(range(nd))), 0
    x = moveaxis(x, bx, 0)
    batch_idx = np.arange(axis_size).reshape((axis_size,) + (1,) * nd)
    return gather(x, [batch_idx, *idx], tuple(range(nd + 1))), 0


def _dus_batch(axis_size, vals, dims_in):
    x, update, *starts = vals
    bx, bu, *bstarts = dims_in
    x = move_to_front(x, bx, axis_size)
    update = move_to_front(update, bu, axis_size)
    if all(b is None for b in bstarts):
        zero = np.zeros((), core.get_aval(starts[0]).dtype if starts else np.int64)
        return _raw_dus(x, update, [zero, *starts]), 0
    shape = core.get_aval(x).shape[1:]
    sizes = core.get_aval(update).shape[1:]
    idx = _window_indices(starts, bstarts, shape, sizes, axis_size)
    nd = len(shape)
    batch_idx = np.arange(axis_size).reshape((axis_size,) + (1,) * nd)
    return scatter(x, update, [batch_idx, *idx], tuple(range(nd + 1))), 0


# ---- dynamic_slice and dynamic_update_slice -------------------------------------------------


def _clamped_slices(shape, starts, sizes) -> tuple:
    # Start indices are clamped to [0, n - size] so that the slice fits, as in JAX
    # (negative indices are not wrapped at this level).
    out = []
    for n, s, size in zip(shape, starts, sizes):
        s = min(max(int(s), 0), n - size)
        out.append(np.s_[s : s + size])
    return tuple(out)


def _check_starts(x: ShapedArray, starts: Sequence[ShapedArray]) -> None:
    if len(starts) != x.ndim:
        raise PrimitiveError(f"need {x.ndim} start indices for shape {x.shape}, got {len(starts)}")
    for s in starts:
        if s.shape != () or s.dtype.kind not in "iu":
            raise PrimitiveError(f"start indices must be integer scalars, got {s.str_short()}")


def _dynamic_slice_impl(x, *starts, slice_sizes):
    x = np.asarray(x)
    return x[_clamped_slices(x.shape, starts, slice_sizes)]


def _dynamic_slice_aval(x: ShapedArray, *starts: ShapedArray, slice_sizes) -> ShapedArray:
    _check_starts(x, starts)
    if len(slice_sizes) != x.ndim or any(not 0 <= s <= n for s, n in zip(slice_sizes, x.shape)):
        raise PrimitiveError(f"slice_sizes {slice_sizes} do not fit in shape {x.shape}")
    return ShapedArray(slice_sizes, x.dtype, x.weak_type)


def _dynamic_slice_jvp(primals, tangents, *, slice_sizes):
    x, *starts = primals
    ans = _raw_dynamic_slice(x, starts, slice_sizes)
    t = tangents[0]
    if type(t) is Zero:
        return ans, Zero(ad.tangent_aval(core.get_aval(ans)))
    return ans, _raw_dynamic_slice(t, starts, slice_sizes)


def _dynamic_slice_transpose(ct, x, *starts, slice_sizes):
    zeros = np.zeros(x.aval.shape, x.aval.dtype)
    return [_raw_dus(zeros, ct, starts)] + [None] * len(starts)


def _dynamic_slice_cost(avals_in, avals_out, *, slice_sizes):
    # Only the window (and the start indices) is read.
    read = sum(map(cost_mod.nbytes, avals_in[1:])) + cost_mod.nbytes(avals_out[0])
    return cost_mod.Cost(0, 0, read, cost_mod.nbytes(avals_out[0]))


dynamic_slice_p = define_primitive(
    "dynamic_slice",
    linear_in_each=True,
    impl=_dynamic_slice_impl,
    abstract_eval=_dynamic_slice_aval,
    jvp=_dynamic_slice_jvp,
    transpose=_dynamic_slice_transpose,
    cost=_dynamic_slice_cost,
    batch=_dynamic_slice_batch,
)


def _wrap_negative(starts: Sequence[Array], shape: Sequence[int]) -> list[Array]:
    """Negative start indices count from the end (as in JAX's wrapper); the primitive then
    clamps them into range."""
    out = []
    for s, n in zip(starts, shape):
        if isinstance(s, int | np.integer) and not isinstance(s, bool):
            out.append(np.int64(s + n if s < 0 else s))
        else:
            dt = core.get_aval(s).dtype
            out.append(ew.select_n(ew.lt(s, np.zeros((), dt)), s, ew.add(s, np.asarray(n, dt))))
    return out


def _raw_dynamic_slice(x: Array, starts: Sequence[Array], slice_sizes: Sequence[int]) -> Array:
    # The primitive itself (starts already wrapped), for use inside rules.
    return dynamic_slice_p.bind(x, *starts, slice_sizes=tuple(int(s) for s in slice_sizes))


def _raw_dus(x: Array, update: Array, starts: Sequence[Array]) -> Array:
    return dynamic_update_slice_p.bind(x, update, *starts)


def dynamic_slice(x: Array, start_indices: Sequence[Array], slice_sizes: Sequence[int]) -> Array:
    """The slice of static size `slice_sizes` starting at traced `start_indices`. Negative
    starts count from the end; starts are then clamped so the slice stays in bounds, as in
    JAX."""
    starts = _wrap_negative(start_indices, core.get_aval(x).shape)
    return dynamic_slice_p.bind(x, *starts, slice_sizes=tuple(int(s) for s in slice_sizes))


def _dus_impl(x, update, *starts):
    out = np.array(x, copy=True)
    update = np.asarray(update)
    out[_clamped_slices(out.shape, starts, update.shape)] = update
    return out


def _dus_aval(x: ShapedArray, update: ShapedArray, *starts: ShapedArray) -> ShapedArray:
    _check_starts(x, starts)
    if update.ndim != x.ndim or any(u > n for u, n in zip(update.shape, x.shape)):
        raise PrimitiveError(f"update of shape {update.shape} does not fit in {x.shape}")
    if update.dtype != x.dtype:
        raise PrimitiveError(f"update dtype {update.dtype} differs from operand dtype {x.dtype}")
    return x


def _dus_jvp(primals, tangents):
    x, update, *starts = primals
    ans = _raw_dus(x, update, starts)
    tx, tu = tangents[0], tangents[1]
    if type(tx) is Zero and type(tu) is Zero:
        return ans, Zero(ad.tangent_aval(core.get_aval(ans)))
    return ans, _raw_dus(ad.instantiate(tx), ad.instantiate(tu), starts)


def _dus_transpose(ct, x, update, *starts):
    upd_aval = update.aval if is_undefined_primal(update) else core.get_aval(update)
    out: list[Any] = [None, None] + [None] * len(starts)
    if is_undefined_primal(x):
        out[0] = _raw_dus(ct, np.zeros(upd_aval.shape, upd_aval.dtype), starts)
    if is_undefined_primal(update):
        out[1] = _raw_dynamic_slice(ct, starts, upd_aval.shape)
    return out


dynamic_update_slice_p = define_primitive(
    "dynamic_update_slice",
    allocates=True,
    impl=_dus_impl,
    abstract_eval=_dus_aval,
    jvp=_dus_jvp,
    transpose=_dus_transpose,
    cost=cost_mod.memory_cost,  # a copy of the operand, updated
    batch=_dus_batch,
)


def dynamic_update_slice(x: Array, update: Array, start_indices: Sequence[Array]) -> Array:
    """A copy of `x` with `update` written at traced `start_indices` (negative ones count
    from the end; then clamped to fit, as in JAX)."""
    starts = _wrap_negative(start_indices, core.get_aval(x).shape)
    return dynamic_update_slice_p.bind(x, update, *starts)
