"""Shape primitives: broadcasting, reshaping, transposition, concatenation, padding, slicing.

All of them are linear, so each has a transpose rule and its JVP applies it to the tangents.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.core import ShapedArray
from funcdiff._src.errors import PrimitiveError
from funcdiff._src.interpreters import batching
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters.ad import is_undefined_primal
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import reductions as red
from funcdiff._src.lax._base import (
    batch_size,
    define_primitive,
    move_to_front,
    moveaxis,
    shift_axes,
)

Array = Any


def _as_array(x: Any) -> np.ndarray:
    return x if isinstance(x, np.ndarray) else np.asarray(x)


# ---- broadcast_in_dim -----------------------------------------------------------------------


def _bid_impl(x, *, shape, broadcast_dimensions):
    x = _as_array(x)
    expanded = [1] * len(shape)
    for i, d in enumerate(broadcast_dimensions):
        expanded[d] = x.shape[i]
    return np.broadcast_to(x.reshape(expanded), shape)


def _bid_aval(x: ShapedArray, *, shape, broadcast_dimensions) -> ShapedArray:
    if len(broadcast_dimensions) != x.ndim:
        raise PrimitiveError(
            f"broadcast_dimensions {broadcast_dimensions} must have one entry per operand "
            f"dimension ({x.ndim})"
        )
    if list(broadcast_dimensions) != sorted(set(broadcast_dimensions)) or any(
        not 0 <= d < len(shape) for d in broadcast_dimensions
    ):
        raise PrimitiveError(
            f"broadcast_dimensions {broadcast_dimensions} must be strictly increasing and "
            f"within the rank of the result shape {shape}"
        )
    for i, d in enumerate(broadcast_dimensions):
        if x.shape[i] not in (1, shape[d]):
            raise PrimitiveError(f"cannot broadcast shape {x.shape} to {shape}")
    return ShapedArray(shape, x.dtype, x.weak_type)


def _bid_transpose(ct, x, *, shape, broadcast_dimensions):
    bdims = broadcast_dimensions
    summed = tuple(d for d in range(len(shape)) if d not in bdims)
    summed += tuple(d for i, d in enumerate(bdims) if x.aval.shape[i] == 1 and shape[d] != 1)
    out = red.reduce_sum(ct, tuple(sorted(summed))) if summed else ct
    if core.get_aval(out).shape != x.aval.shape:
        out = reshape(out, x.aval.shape)
    return [out]


def _bid_lower(ctx, x, *, shape, broadcast_dimensions):
    ndim_in = len(broadcast_dimensions)
    if broadcast_dimensions == tuple(range(len(shape) - ndim_in, len(shape))):
        return f"xp.broadcast_to({x}, {ctx.param(shape)})"
    expanded = [1] * len(shape)
    for i, d in enumerate(broadcast_dimensions):
        expanded[d] = ctx.in_avals[0].shape[i]
    return f"xp.broadcast_to(xp.reshape({x}, {ctx.param(tuple(expanded))}), {ctx.param(shape)})"


broadcast_in_dim_p = define_primitive(
    "broadcast_in_dim", impl=_bid_impl, abstract_eval=_bid_aval, linear=True,
    transpose=_bid_transpose, lower=_bid_lower,
    cost=cost_mod.memory_cost,
)


def broadcast_in_dim(x: Array, shape: Sequence[int], broadcast_dimensions: Sequence[int]) -> Array:
    """Broadcast `x` to `shape`, operand dimension ``i`` becoming result dimension
    ``broadcast_dimensions[i]``."""
    shape = tuple(int(n) for n in shape)
    bdims = tuple(int(d) for d in broadcast_dimensions)
    if core.get_aval(x).shape == shape and bdims == tuple(range(len(shape))):
        return x
    return broadcast_in_dim_p.bind(x, shape=shape, broadcast_dimensions=bdims)


def broadcast_to(x: Array, shape: Sequence[int]) -> Array:
    """NumPy-style broadcast of `x` to `shape` (trailing dimensions aligned)."""
    shape = tuple(int(n) for n in shape)
    ndim = core.get_aval(x).ndim
    return broadcast_in_dim(x, shape, tuple(range(len(shape) - ndim, len(shape))))


# ---- reshape, squeeze, expand_dims ----------------------------------------------------------


def _reshape_impl(x, *, new_sizes):
    return np.reshape(x, new_sizes)


def _reshape_aval(x: ShapedArray, *, new_sizes) -> ShapedArray:
    if int(np.prod(new_sizes, dtype=np.int64)) != x.size or any(n < 0 for n in new_sizes):
        raise PrimitiveError(f"cannot reshape an array of shape {x.shape} into {new_sizes}")
    return ShapedArray(new_sizes, x.dtype, x.weak_type)


def _reshape_transpose(ct, x, **params):
    return [reshape(ct, x.aval.shape)]


reshape_p = define_primitive(
    "reshape", impl=_reshape_impl, abstract_eval=_reshape_aval, linear=True,
    transpose=_reshape_transpose,
    lower=lambda ctx, x, *, new_sizes: f"xp.reshape({x}, {ctx.param(new_sizes)})",
    cost=cost_mod.memory_cost,
)


def reshape(x: Array, new_sizes: Sequence[int]) -> Array:
    """Reshape to `new_sizes` (row-major order; no -1 here, see `funcdiff.numpy.reshape`)."""
    new_sizes = tuple(int(n) for n in new_sizes)
    if core.get_aval(x).shape == new_sizes:
        return x
    return reshape_p.bind(x, new_sizes=new_sizes)


def _squeeze_impl(x, *, dimensions):
    return np.squeeze(x, axis=dimensions)


def _squeeze_aval(x: ShapedArray, *, dimensions) -> ShapedArray:
    for d in dimensions:
        if not 0 <= d < x.ndim or x.shape[d] != 1:
            raise PrimitiveError(f"cannot squeeze dimension {d} of shape {x.shape}")
    shape = tuple(n for i, n in enumerate(x.shape) if i not in dimensions)
    return ShapedArray(shape, x.dtype, x.weak_type)


squeeze_p = define_primitive(
    "squeeze", impl=_squeeze_impl, abstract_eval=_squeeze_aval, linear=True,
    transpose=_reshape_transpose,
    lower=lambda ctx, x, *, dimensions: f"xp.squeeze({x}, axis={ctx.param(dimensions)})",
    cost=cost_mod.memory_cost,
)


def squeeze(x: Array, dimensions: Sequence[int]) -> Array:
    """Remove the given size-1 dimensions."""
    dims = tuple(sorted(int(d) for d in dimensions))
    return squeeze_p.bind(x, dimensions=dims) if dims else x


def _expand_dims_impl(x, *, dimensions):
    return np.expand_dims(x, dimensions)


def _expand_dims_aval(x: ShapedArray, *, dimensions) -> ShapedArray:
    ndim = x.ndim + len(dimensions)
    if any(not 0 <= d < ndim for d in dimensions) or len(set(dimensions)) != len(dimensions):
        raise PrimitiveError(f"invalid dimensions {dimensions} for expand_dims of {x.shape}")
    shape, it = [], iter(x.shape)
    for i in range(ndim):
        shape.append(1 if i in dimensions else next(it))
    return ShapedArray(shape, x.dtype, x.weak_type)


expand_dims_p = define_primitive(
    "expand_dims", impl=_expand_dims_impl, abstract_eval=_expand_dims_aval, linear=True,
    transpose=_reshape_transpose,
    lower=lambda ctx, x, *, dimensions: f"xp.expand_dims({x}, {ctx.param(dimensions)})",
    cost=cost_mod.memory_cost,
)


def expand_dims(x: Array, dimensions: Sequence[int]) -> Array:
    """Insert size-1 dimensions at the given positions of the result."""
    dims = tuple(sorted(int(d) for d in dimensions))
    return expand_dims_p.bind(x, dimensions=dims) if dims else x


# ---- transpose ------------------------------------------------------------------------------


def _transpose_impl(x, *, permutation):
    return np.transpose(x, permutation)


def _transpose_aval(x: ShapedArray, *, permutation) -> ShapedArray:
    if sorted(permutation) != list(range(x.ndim)):
        raise PrimitiveError(f"{permutation} is not a permutation of the axes of {x.shape}")
    return ShapedArray(tuple(x.shape[p] for p in permutation), x.dtype, x.weak_type)


def _transpose_transpose(ct, x, *, permutation):
    return [transpose(ct, tuple(np.argsort(permutation).tolist()))]


def _transpose_lower(ctx, x, *, permutation):
    if permutation == (1, 0):
        return f"{x}.T" if not ctx.in_avals[0].weak_type else f"xp.transpose({x})"
    return f"xp.transpose({x}, {ctx.param(permutation)})"


transpose_p = define_primitive(
    "transpose", impl=_transpose_impl, abstract_eval=_transpose_aval, linear=True,
    transpose=_transpose_transpose, lower=_transpose_lower,
    cost=cost_mod.memory_cost,
)


def transpose(x: Array, permutation: Sequence[int]) -> Array:
    """Permute the axes: result axis ``i`` is operand axis ``permutation[i]``."""
    perm = tuple(int(p) for p in permutation)
    if perm == tuple(range(len(perm))):
        return x
    return transpose_p.bind(x, permutation=perm)


# ---- rev ------------------------------------------------------------------------------------


def _rev_impl(x, *, dimensions):
    return np.flip(x, dimensions)


def _rev_aval(x: ShapedArray, *, dimensions) -> ShapedArray:
    if any(not 0 <= d < x.ndim for d in dimensions):
        raise PrimitiveError(f"invalid dimensions {dimensions} for rev of {x.shape}")
    return x


def _rev_transpose(ct, x, *, dimensions):
    return [rev(ct, dimensions)]


rev_p = define_primitive(
    "rev", impl=_rev_impl, abstract_eval=_rev_aval, linear=True, transpose=_rev_transpose,
    cost=cost_mod.memory_cost,
)


def rev(x: Array, dimensions: Sequence[int]) -> Array:
    """Reverse the order of elements along the given dimensions."""
    dims = tuple(int(d) for d in dimensions)
    return rev_p.bind(x, dimensions=dims) if dims else x


# ---- concatenate ----------------------------------------------------------------------------


def _concatenate_impl(*xs, dimension):
    return np.concatenate(xs, axis=dimension)


def _concatenate_aval(*xs: ShapedArray, dimension: int) -> ShapedArray:
    if not xs:
        raise PrimitiveError("concatenate needs at least one operand")
    first = xs[0]
    if not 0 <= dimension < first.ndim:
        raise PrimitiveError(f"dimension {dimension} out of range for rank {first.ndim}")
    for x in xs[1:]:
        if x.ndim != first.ndim or any(
            a != b for i, (a, b) in enumerate(zip(x.shape, first.shape)) if i != dimension
        ):
            raise PrimitiveError(
                f"shapes {[y.shape for y in xs]} differ outside dimension {dimension}"
            )
        if x.dtype != first.dtype:
            raise PrimitiveError(f"dtypes {[str(y.dtype) for y in xs]} differ")
    shape = list(first.shape)
    shape[dimension] = sum(x.shape[dimension] for x in xs)
    return ShapedArray(shape, first.dtype, all(x.weak_type for x in xs))


def _concatenate_transpose(ct, *xs, dimension):
    out, start = [], 0
    ndim = core.get_aval(ct).ndim
    for x in xs:
        aval = x.aval if is_undefined_primal(x) else core.get_aval(x)
        stop = start + aval.shape[dimension]
        if is_undefined_primal(x):
            starts = [0] * ndim
            limits = list(core.get_aval(ct).shape)
            starts[dimension], limits[dimension] = start, stop
            out.append(slice(ct, starts, limits))
        else:
            out.append(None)
        start = stop
    return out


def _concatenate_lower(ctx, *xs, dimension):
    return f"xp.concatenate(({', '.join(xs)},), axis={dimension})"


concatenate_p = define_primitive(
    "concatenate", allocates=True,
    impl=_concatenate_impl, abstract_eval=_concatenate_aval, linear=True,
    transpose=_concatenate_transpose, lower=_concatenate_lower,
    cost=cost_mod.memory_cost,
)


def concatenate(operands: Sequence[Array], dimension: int) -> Array:
    """Join arrays of one dtype along an existing dimension."""
    return concatenate_p.bind(*operands, dimension=int(dimension))


# ---- pad ------------------------------------------------------------------------------------


def _pad_impl(x, padding_value, *, padding_config):
    x = _as_array(x)
    pos_shape, inner = [], []
    for n, (lo, hi, interior) in zip(x.shape, padding_config):
        dilated = n + (n - 1) * interior if n else 0
        lo_p, hi_p = builtins.max(lo, 0), builtins.max(hi, 0)
        pos_shape.append(lo_p + dilated + hi_p)
        inner.append(np.s_[lo_p : lo_p + dilated : interior + 1])
    out = np.full(pos_shape, padding_value, dtype=x.dtype)
    out[tuple(inner)] = x
    crop = tuple(
        np.s_[-builtins.min(lo, 0) : size + builtins.min(hi, 0)]
        for size, (lo, hi, _) in zip(pos_shape, padding_config)
    )
    return out[crop]


def _pad_aval(x: ShapedArray, pv: ShapedArray, *, padding_config) -> ShapedArray:
    if pv.shape != ():
        raise PrimitiveError(f"the padding value must be a scalar, got shape {pv.shape}")
    if len(padding_config) != x.ndim:
        raise PrimitiveError(f"padding_config needs {x.ndim} entries, got {len(padding_config)}")
    shape = []
    for n, (lo, hi, interior) in zip(x.shape, padding_config):
        if interior < 0:
            raise PrimitiveError("interior padding must be non-negative")
        size = lo + hi + (n + (n - 1) * interior if n else 0)
        if size < 0:
            raise PrimitiveError(f"padding {padding_config} gives a negative size for {x.shape}")
        shape.append(size)
    return ShapedArray(shape, x.dtype, x.weak_type)


def _pad_transpose(ct, x, padding_value, *, padding_config):
    # The operand's cotangent: undo the cropping of negative padding, then take the strided
    # interior. The padding value's is the rest of the sum, whether or not `x` is linear.
    x_aval = x.aval if is_undefined_primal(x) else core.get_aval(x)
    undo = tuple((-builtins.min(lo, 0), -builtins.min(hi, 0), 0) for lo, hi, _ in
                 padding_config)
    full = pad(ct, np.zeros((), core.get_aval(ct).dtype), undo)
    starts, limits, strides = [], [], []
    for n, (lo, _, interior) in zip(x_aval.shape, padding_config):
        lo_p = builtins.max(lo, 0)
        starts.append(lo_p)
        limits.append(lo_p + (n + (n - 1) * interior if n else 0))
        strides.append(interior + 1)
    ct_x = slice(full, starts, limits, strides)
    out: list[Any] = [ct_x if is_undefined_primal(x) else None, None]
    if is_undefined_primal(padding_value):
        total = red.reduce_sum(ct, tuple(range(core.get_aval(ct).ndim)))
        inner = red.reduce_sum(ct_x, tuple(range(x_aval.ndim)))
        out[1] = ew.sub(total, inner)
    return out


def _pad_edges(x, padding_value, shape, at):
    """`pad` with only non-negative edge padding: `x` written at `at` (a tuple of slices) into
    a new array of `shape` filled with `padding_value` (None for zeros)."""
    if padding_value is None:
        out = np.zeros(shape, x.dtype)
    else:
        out = np.full(shape, padding_value, dtype=x.dtype)
    out[at] = x
    return out


def _pad_lower(ctx, x, padding_value, *, padding_config):
    # The common case (the transpose of a slice) skips the general path's cropping and
    # dilation: one new array and one assignment.
    if ctx.in_avals[0].ndim and all(lo >= 0 and hi >= 0 and interior == 0
                                    for lo, hi, interior in padding_config):
        fn = ctx.const(_pad_edges, "f")
        pv = ctx.eqn.invars[1]
        if type(pv) is core.Literal and pv.val == 0 and not np.signbit(pv.val):
            padding_value = "None"
        shape = ctx.param(tuple(ctx.out_avals[0].shape))
        at = tuple(builtins.slice(lo, lo + n)
                   for (lo, _, _), n in zip(padding_config, ctx.in_avals[0].shape))
        return f"{fn}({x}, {padding_value}, shape={shape}, at={ctx.const(at, 's')})"
    fn = ctx.const(_pad_impl, "f")
    return f"{fn}({x}, {padding_value}, padding_config={ctx.param(padding_config)})"


pad_p = define_primitive(
    "pad", allocates=True,
    impl=_pad_impl, abstract_eval=_pad_aval, linear=True, transpose=_pad_transpose,
    cost=cost_mod.memory_cost, lower=_pad_lower,
)


def pad(x: Array, padding_value: Array, padding_config: Sequence[tuple[int, int, int]]) -> Array:
    """Pad with `padding_value`: ``(low, high, interior)`` per dimension; negative low/high
    crop."""
    config = tuple((int(lo), int(hi), int(i)) for lo, hi, i in padding_config)
    return pad_p.bind(x, padding_value, padding_config=config)


# ---- static slice ---------------------------------------------------------------------------


def _slice_impl(x, *, start_indices, limit_indices, strides):
    strides = strides or (1,) * len(start_indices)
    return _as_array(x)[tuple(np.s_[a:b:s] for a, b, s in zip(start_indices, limit_indices,
                                                            strides))]


def _slice_aval(x: ShapedArray, *, start_indices, limit_indices, strides) -> ShapedArray:
    strides = strides or (1,) * x.ndim
    if not len(start_indices) == len(limit_indices) == len(strides) == x.ndim:
        raise PrimitiveError(f"slice indices must have one entry per dimension of {x.shape}")
    shape = []
    for n, a, b, s in zip(x.shape, start_indices, limit_indices, strides):
        if not 0 <= a <= b <= n or s < 1:
            raise PrimitiveError(
                f"invalid slice start={start_indices} limit={limit_indices} strides={strides} "
                f"for shape {x.shape}"
            )
        shape.append(-(-(b - a) // s))
    return ShapedArray(shape, x.dtype, x.weak_type)


def _slice_transpose(ct, x, *, start_indices, limit_indices, strides):
    strides = strides or (1,) * x.aval.ndim
    config = []
    for n, a, m, s in zip(x.aval.shape, start_indices, core.get_aval(ct).shape, strides):
        used = a + (m - 1) * s + 1 if m else a
        config.append((a, n - used, s - 1))
    return [pad(ct, np.zeros((), core.get_aval(ct).dtype), config)]


def _slice_lower(ctx, x, *, start_indices, limit_indices, strides):
    strides = strides or (1,) * len(start_indices)
    parts = [f"{a}:{b}" + (f":{s}" if s != 1 else "")
             for a, b, s in zip(start_indices, limit_indices, strides)]
    if not parts or ctx.in_avals[0].weak_type:
        return _default_slice(ctx, x, start_indices, limit_indices, strides)
    return f"{x}[{', '.join(parts)}]"


def _default_slice(ctx, x, start_indices, limit_indices, strides):
    fn = ctx.const(_slice_impl, "f")
    return (f"{fn}({x}, start_indices={ctx.param(start_indices)}, "
            f"limit_indices={ctx.param(limit_indices)}, strides={ctx.param(strides)})")


slice_p = define_primitive(
    "slice", impl=_slice_impl, abstract_eval=_slice_aval, linear=True,
    transpose=_slice_transpose, lower=_slice_lower,
    cost=cost_mod.memory_cost,
)


def slice(  # noqa: A001
    x: Array,
    start_indices: Sequence[int],
    limit_indices: Sequence[int],
    strides: Sequence[int] | None = None,
) -> Array:
    """The static slice ``x[start:limit:stride]`` in every dimension."""
    return slice_p.bind(
        x,
        start_indices=tuple(int(i) for i in start_indices),
        limit_indices=tuple(int(i) for i in limit_indices),
        strides=None if strides is None else tuple(int(s) for s in strides),
    )


# ---- batching rules -------------------------------------------------------------------------


def _bid_batch(vals, dims, *, shape, broadcast_dimensions):
    (x,), (d,) = vals, dims
    x = moveaxis(x, d, 0)
    size = core.get_aval(x).shape[0]
    return broadcast_in_dim(x, (size, *shape), (0, *shift_axes(broadcast_dimensions))), 0


def _reshape_batch(vals, dims, *, new_sizes):
    (x,), (d,) = vals, dims
    x = moveaxis(x, d, 0)
    return reshape(x, (core.get_aval(x).shape[0], *new_sizes)), 0


def _dims_batch(p):
    def rule(vals, dims, *, dimensions):
        (x,), (d,) = vals, dims
        return p.bind(moveaxis(x, d, 0), dimensions=shift_axes(dimensions)), 0

    return rule


def _transpose_batch(vals, dims, *, permutation):
    (x,), (d,) = vals, dims
    return transpose(moveaxis(x, d, 0), (0, *shift_axes(permutation))), 0


def _concatenate_batch(vals, dims, *, dimension):
    size = batch_size(vals, dims)
    return concatenate([move_to_front(v, d, size) for v, d in zip(vals, dims)],
                       dimension + 1), 0


def _pad_batch(vals, dims, *, padding_config):
    (x, pv), (dx, dpv) = vals, dims
    size = batch_size(vals, dims)
    x = move_to_front(x, dx, size)
    config = ((0, 0, 0), *padding_config)
    if dpv is None:
        return pad(x, pv, config), 0
    # A batched padding value: pad with zeros, then add the value where the padding is.
    dt = core.get_aval(x).dtype
    zero, one = np.zeros((), dt), np.ones((), dt)
    padded = pad(x, zero, config)
    mask = pad(np.zeros(core.get_aval(x).shape, dt), one, config)
    pv = moveaxis(pv, dpv, 0)
    ndim = core.get_aval(padded).ndim
    return ew.add(padded, ew.mul(mask, broadcast_in_dim(pv, core.get_aval(padded).shape, (0,)))
                  if ndim else ew.mul(mask, pv)), 0


def _slice_batch(vals, dims, *, start_indices, limit_indices, strides):
    (x,), (d,) = vals, dims
    x = moveaxis(x, d, 0)
    size = core.get_aval(x).shape[0]
    return slice(x, (0, *start_indices), (size, *limit_indices),
                 None if strides is None else (1, *strides)), 0


batching.batch_rules[broadcast_in_dim_p] = _bid_batch
batching.batch_rules[reshape_p] = _reshape_batch
batching.batch_rules[squeeze_p] = _dims_batch(squeeze_p)
batching.batch_rules[expand_dims_p] = _dims_batch(expand_dims_p)
batching.batch_rules[rev_p] = _dims_batch(rev_p)
batching.batch_rules[transpose_p] = _transpose_batch
batching.batch_rules[concatenate_p] = _concatenate_batch
batching.batch_rules[pad_p] = _pad_batch
batching.batch_rules[slice_p] = _slice_batch
