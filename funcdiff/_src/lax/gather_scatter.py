"""JAX's general `lax.gather` and `lax.scatter*`, with dimension numbers, composed from the
`gather` and `scatter_*` primitives of `indexing.py`.

Each output element of a gather (each update of a scatter) has one position in the operand: the
slice's start, taken from the index array through `start_index_map` (or
`scatter_dims_to_operand_dims`), plus its offset within the window. These functions compute
those positions as flat indices into the flattened operand, with funcdiff operations (so the
start indices may be traced), and apply one flat gather or scatter. Every transformation then
works through the primitives' own rules: the derivative of a gather is a scatter-add, and so on.

Out-of-bounds windows follow JAX: `lax.gather` clamps them by default (``mode="clip"``), or
fills the whole slice with `fill_value` (``"fill"``); `lax.scatter*` drops an update whose
window does not fit (``"fill"``/``"drop"``, the default) or clamps it (``"clip"``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from funcdiff._src import core
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import indexing as ix
from funcdiff._src.lax import shape as sh

Array = Any


class GatherDimensionNumbers(NamedTuple):
    """How the dimensions of `lax.gather`'s operand, indices and output relate (as JAX's).

    - `offset_dims`: the output dimensions that index within a slice.
    - `collapsed_slice_dims`: operand dimensions whose slice size is 1 and that the output
      drops.
    - `start_index_map`: for each entry of an index vector (the last axis of the indices),
      the operand dimension it starts.
    - `operand_batching_dims` / `start_indices_batching_dims`: operand dimensions indexed by
      the position along these dimensions of the indices (dropped from the output).
    """

    offset_dims: tuple[int, ...]
    collapsed_slice_dims: tuple[int, ...]
    start_index_map: tuple[int, ...]
    operand_batching_dims: tuple[int, ...] = ()
    start_indices_batching_dims: tuple[int, ...] = ()


class ScatterDimensionNumbers(NamedTuple):
    """How the dimensions of `lax.scatter`'s operand, indices and updates relate (as JAX's).

    - `update_window_dims`: the dimensions of `updates` that index within a window.
    - `inserted_window_dims`: operand dimensions of window size 1 absent from `updates`.
    - `scatter_dims_to_operand_dims`: for each entry of an index vector, the operand
      dimension it starts.
    - `operand_batching_dims` / `scatter_indices_batching_dims`: as for gather.
    """

    update_window_dims: tuple[int, ...]
    inserted_window_dims: tuple[int, ...]
    scatter_dims_to_operand_dims: tuple[int, ...]
    operand_batching_dims: tuple[int, ...] = ()
    scatter_indices_batching_dims: tuple[int, ...] = ()


class GatherScatterMode(enum.Enum):
    """What to do with a window that does not fit in the operand."""

    CLIP = "clip"
    FILL_OR_DROP = "fill"
    PROMISE_IN_BOUNDS = "promise_in_bounds"

    @staticmethod
    def from_any(mode: Any, default: GatherScatterMode) -> GatherScatterMode:
        if mode is None:
            return default
        if isinstance(mode, GatherScatterMode):
            return mode
        names = {"clip": GatherScatterMode.CLIP, "fill": GatherScatterMode.FILL_OR_DROP,
                 "drop": GatherScatterMode.FILL_OR_DROP,
                 "promise_in_bounds": GatherScatterMode.PROMISE_IN_BOUNDS}
        if mode not in names:
            raise ValueError(f"mode must be one of {sorted(names)} or a GatherScatterMode, "
                             f"got {mode!r}")
        return names[mode]


def _strides(shape: Sequence[int]) -> list[int]:
    out, step = [], 1
    for n in reversed(shape):
        out.append(step)
        step *= n
    return out[::-1]


def _index_column(indices: Array, k: int) -> Array:
    """Entry `k` of every index vector (the indices' last axis), as int64."""
    a = core.get_aval(indices)
    lo = [0] * a.ndim
    hi = list(a.shape)
    lo[-1], hi[-1] = k, k + 1
    column = sh.reshape(sh.slice(indices, lo, hi), a.shape[:-1])
    return ew.convert_element_type(column, np.int64)


def _positions(operand_shape: tuple[int, ...], full_shape: tuple[int, ...],
               batch_axes: Sequence[int], starts: list[Any], window: Sequence[int],
               window_axes: Sequence[int | None], clip: bool) -> tuple[Array, Array | None]:
    """Flat operand positions, of shape `full_shape`, of ``starts[d] + offset`` for every
    operand dimension `d`, where the offset runs along ``window_axes[d]`` of the result (None:
    a window of size 1). `starts[d]` has the shape of the batch (placed on `batch_axes`), or
    is 0. With `clip` the starts are clamped so that the window fits; otherwise also returns
    where it fits (a boolean of the batch's shape)."""
    pos: Any = np.zeros((), np.int64)
    fits: Any = None
    for n, s, w, axis, stride in zip(operand_shape, starts, window, window_axes,
                                     _strides(operand_shape)):
        hi = n - w
        if isinstance(s, int):
            s = np.asarray(min(max(s, 0), max(hi, 0)) if clip else s, np.int64)
        else:
            if not clip:
                ok = ew.bitwise_and(ew.ge(s, np.int64(0)), ew.le(s, np.int64(hi)))
                fits = ok if fits is None else ew.bitwise_and(fits, ok)
            s = ew.clamp(np.int64(0), s, np.int64(max(hi, 0)))
        coord = sh.broadcast_in_dim(s, full_shape, tuple(batch_axes) if np.ndim(s) else ())
        if axis is not None and w > 1:
            offsets = sh.broadcast_in_dim(np.arange(w, dtype=np.int64), full_shape, (axis,))
            coord = ew.add(coord, offsets)
        pos = ew.add(pos, ew.mul(coord, np.int64(stride)))
    return sh.broadcast_in_dim(pos, full_shape, ()) if np.ndim(pos) == 0 else pos, fits


def gather(operand: Array, start_indices: Array, dimension_numbers: GatherDimensionNumbers,
           slice_sizes: Sequence[int], *, unique_indices: bool = False,
           indices_are_sorted: bool = False, mode: Any = None, fill_value: Any = None) -> Array:
    """XLA's gather, with JAX's signature: for each index vector (the last axis of
    `start_indices`), the slice of `operand` of size `slice_sizes` that starts there.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        dn = lax.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(),
                                        start_index_map=(0,))
        out = lax.gather(np.arange(10.0), np.array([[1], [8]]), dn, (3,))
        assert out.tolist() == [[1.0, 2.0, 3.0], [7.0, 8.0, 9.0]]  # clamped into range
        ```
    """
    del unique_indices, indices_are_sorted  # hints
    dn = GatherDimensionNumbers(*dimension_numbers)
    mode = GatherScatterMode.from_any(mode, GatherScatterMode.CLIP)
    x, idx = operand, start_indices
    xa, ia = core.get_aval(x), core.get_aval(idx)
    window = tuple(int(s) for s in slice_sizes)
    if len(window) != xa.ndim or len(dn.start_index_map) != ia.shape[-1]:
        raise ValueError(
            f"lax.gather: slice_sizes {window} must have one entry per operand dimension "
            f"({xa.ndim}), and the indices' last axis ({ia.shape[-1]}) one per entry of "
            f"start_index_map {dn.start_index_map}")
    batch_shape = ia.shape[:-1]
    nb = len(batch_shape)
    full_shape = batch_shape + window
    starts: list[Any] = [0] * xa.ndim
    for k, d in enumerate(dn.start_index_map):
        starts[d] = _index_column(idx, k)
    for d, b in zip(dn.operand_batching_dims, dn.start_indices_batching_dims):
        starts[d] = sh.broadcast_in_dim(np.arange(batch_shape[b], dtype=np.int64),
                                        batch_shape, (b,))
    pos, fits = _positions(xa.shape, full_shape, range(nb), starts, window,
                           [nb + d for d in range(xa.ndim)],
                           clip=mode is not GatherScatterMode.FILL_OR_DROP)
    out = ix.gather(sh.reshape(x, (xa.size,)), [pos], [0]) if xa.size else \
        sh.broadcast_in_dim(np.zeros((), xa.dtype), full_shape, ())
    if fits is not None:
        if fill_value is None:
            fill_value = np.nan if xa.dtype.kind in "fc" else (
                np.iinfo(xa.dtype).min if xa.dtype.kind == "i" else
                np.iinfo(xa.dtype).max if xa.dtype.kind == "u" else True)
        fill = sh.broadcast_in_dim(ew.convert_element_type(np.asarray(fill_value), xa.dtype),
                                   full_shape, ())
        out = ew.select(sh.broadcast_in_dim(fits, full_shape, tuple(range(nb))), out, fill)
    dropped = set(dn.collapsed_slice_dims) | set(dn.operand_batching_dims)
    kept = [window[d] for d in range(xa.ndim) if d not in dropped]
    out = sh.reshape(out, batch_shape + tuple(kept))
    rank = nb + len(kept)
    offset_dims = sorted(dn.offset_dims)
    batch_iter, offset_iter = iter(range(nb)), iter(range(nb, rank))
    perm = [next(offset_iter) if p in offset_dims else next(batch_iter) for p in range(rank)]
    return sh.transpose(out, perm)


def _scatter(combine: Callable[..., Array], operand: Array, scatter_indices: Array,
             updates: Array, dimension_numbers: ScatterDimensionNumbers, mode: Any) -> Array:
    dn = ScatterDimensionNumbers(*dimension_numbers)
    mode = GatherScatterMode.from_any(mode, GatherScatterMode.FILL_OR_DROP)
    xa, ia, ua = core.get_aval(operand), core.get_aval(scatter_indices), core.get_aval(updates)
    scatter_axes = [a for a in range(ua.ndim) if a not in dn.update_window_dims]
    window_operand_dims = [d for d in range(xa.ndim)
                           if d not in dn.inserted_window_dims and d not in
                           dn.operand_batching_dims]
    if len(window_operand_dims) != len(dn.update_window_dims) or \
            len(dn.scatter_dims_to_operand_dims) != ia.shape[-1] or \
            any(not 0 <= a < ua.ndim for a in dn.update_window_dims) or \
            [ua.shape[a] for a in scatter_axes] != list(ia.shape[:-1]):
        raise ValueError(
            f"lax.scatter: update_window_dims {dn.update_window_dims} must name one dimension "
            f"of updates {ua.shape} per operand dimension not in inserted_window_dims "
            f"{dn.inserted_window_dims}, its other dimensions must be the indices' batch "
            f"shape {ia.shape[:-1]}, and the indices' last axis ({ia.shape[-1]}) must have "
            f"one entry per entry of scatter_dims_to_operand_dims "
            f"{dn.scatter_dims_to_operand_dims}")
    window = [1] * xa.ndim
    window_axes: list[int | None] = [None] * xa.ndim
    for d, a in zip(window_operand_dims, sorted(dn.update_window_dims)):
        window[d], window_axes[d] = ua.shape[a], a
    starts: list[Any] = [0] * xa.ndim
    for k, d in enumerate(dn.scatter_dims_to_operand_dims):
        starts[d] = _index_column(scatter_indices, k)
    batch_shape = ia.shape[:-1]
    for d, b in zip(dn.operand_batching_dims, dn.scatter_indices_batching_dims):
        starts[d] = sh.broadcast_in_dim(np.arange(batch_shape[b], dtype=np.int64),
                                        batch_shape, (b,))
    pos, fits = _positions(xa.shape, ua.shape, scatter_axes, starts, window, window_axes,
                           clip=mode is GatherScatterMode.CLIP)
    flat = sh.reshape(operand, (xa.size,))
    if fits is not None:  # dropped updates go to a padded slot, cut off afterwards
        pos = ew.select(sh.broadcast_in_dim(fits, ua.shape, tuple(scatter_axes)), pos,
                        sh.broadcast_in_dim(np.int64(xa.size), ua.shape, ()))
        flat = sh.pad(flat, np.zeros((), xa.dtype), [(0, 1, 0)])
    out = combine(flat, ew.convert_element_type(updates, xa.dtype), [pos], [0])
    if fits is not None:
        out = sh.slice(out, (0,), (xa.size,))
    return sh.reshape(out, xa.shape)


def _scatter_function(name: str, combine: Callable[..., Array], what: str) -> Callable:
    def scatter_fn(operand: Array, scatter_indices: Array, updates: Array,
                   dimension_numbers: ScatterDimensionNumbers, *,
                   indices_are_sorted: bool = False, unique_indices: bool = False,
                   mode: Any = None) -> Array:
        del indices_are_sorted, unique_indices  # hints
        return _scatter(combine, operand, scatter_indices, updates, dimension_numbers, mode)

    scatter_fn.__name__ = scatter_fn.__qualname__ = name
    scatter_fn.__doc__ = (
        f"XLA's scatter with JAX's signature: a copy of `operand` where each window of "
        f"`updates` {what} the window that its index vector (the last axis of "
        f"`scatter_indices`) starts. Windows that do not fit are dropped (``mode='clip'`` "
        f"clamps them instead).")
    return scatter_fn


def _scatter_sub_combine(flat: Array, updates: Array, indices: Any, dims: Any) -> Array:
    return ix.scatter_add(flat, ew.neg(updates), indices, dims)


scatter = _scatter_function("scatter", ix.scatter, "replaces")
scatter_add = _scatter_function("scatter_add", ix.scatter_add, "is added to")
scatter_sub = _scatter_function("scatter_sub", _scatter_sub_combine, "is subtracted from")
scatter_mul = _scatter_function("scatter_mul", ix.scatter_mul, "multiplies")
scatter_min = _scatter_function("scatter_min", ix.scatter_min, "takes the minimum with")
scatter_max = _scatter_function("scatter_max", ix.scatter_max, "takes the maximum with")
