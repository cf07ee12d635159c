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
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters.ad import is_undefined_primal
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax._define import define_primitive, per_primitive
from funcdiff._src.lax.structural import as_array, dims_batch, move_to_front, moveaxis, reduce_sum

# Defined in structural.py (the rules of every family use them); re-exported in their family.
from funcdiff._src.lax.structural import broadcast_in_dim as broadcast_in_dim
from funcdiff._src.lax.structural import broadcast_in_dim_p as broadcast_in_dim_p
from funcdiff._src.lax.structural import broadcast_to as broadcast_to
from funcdiff._src.lax.structural import expand_dims as expand_dims
from funcdiff._src.lax.structural import expand_dims_p as expand_dims_p
from funcdiff._src.lax.structural import reshape as reshape
from funcdiff._src.lax.structural import reshape_p as reshape_p
from funcdiff._src.lax.structural import squeeze as squeeze
from funcdiff._src.lax.structural import squeeze_p as squeeze_p
from funcdiff._src.lax.structural import transpose as transpose
from funcdiff._src.lax.structural import transpose_p as transpose_p

Array = Any


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
    "rev",
    impl=_rev_impl,
    abstract_eval=_rev_aval,
    linear=True,
    transpose=_rev_transpose,
    cost=cost_mod.memory_cost,
    batch=per_primitive(dims_batch),
)


def rev(x: Array, dimensions: Sequence[int]) -> Array:
    """Reverse the order of elements along the given dimensions."""
    dims = tuple(int(d) for d in dimensions)
    return rev_p.bind(x, dimensions=dims) if dims else core.unchanged(x)


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


def _concatenate_batch(axis_size, vals, dims, *, dimension):
    return concatenate(
        [move_to_front(v, d, axis_size) for v, d in zip(vals, dims)], dimension + 1
    ), 0


concatenate_p = define_primitive(
    "concatenate",
    allocates=True,
    impl=_concatenate_impl,
    abstract_eval=_concatenate_aval,
    linear=True,
    transpose=_concatenate_transpose,
    lower=_concatenate_lower,
    cost=cost_mod.memory_cost,
    batch=_concatenate_batch,
)


def concatenate(operands: Sequence[Array], dimension: int) -> Array:
    """Join arrays of one dtype along an existing dimension."""
    return concatenate_p.bind(*operands, dimension=int(dimension))


# ---- pad ------------------------------------------------------------------------------------


def _pad_impl(x, padding_value, *, padding_config):
    x = as_array(x)
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
    undo = tuple((-builtins.min(lo, 0), -builtins.min(hi, 0), 0) for lo, hi, _ in padding_config)
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
        total = reduce_sum(ct, tuple(range(core.get_aval(ct).ndim)))
        inner = reduce_sum(ct_x, tuple(range(x_aval.ndim)))
        out[1] = ew.sub(total, inner)
    return out


def _pad_batch(axis_size, vals, dims, *, padding_config):
    (x, pv), (dx, dpv) = vals, dims
    x = move_to_front(x, dx, axis_size)
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
    return ew.add(
        padded,
        ew.mul(mask, broadcast_in_dim(pv, core.get_aval(padded).shape, (0,)))
        if ndim
        else ew.mul(mask, pv),
    ), 0


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
    if ctx.in_avals[0].ndim and all(
        lo >= 0 and hi >= 0 and interior == 0 for lo, hi, interior in padding_config
    ):
        fn = ctx.const(_pad_edges, "f")
        pv = ctx.eqn.invars[1]
        if (
            type(pv) is core.Literal
            and pv.val == 0
            and not np.signbit(np.real(pv.val))
            and not np.signbit(np.imag(pv.val))
        ):  # signbit takes no complex numbers
            padding_value = "None"
        shape = ctx.param(tuple(ctx.out_avals[0].shape))
        at = tuple(
            builtins.slice(lo, lo + n)
            for (lo, _, _), n in zip(padding_config, ctx.in_avals[0].shape)
        )
        return f"{fn}({x}, {padding_value}, shape={shape}, at={ctx.const(at, 's')})"
    fn = ctx.const(_pad_impl, "f")
    return f"{fn}({x}, {padding_value}, padding_config={ctx.param(padding_config)})"


pad_p = define_primitive(
    "pad",
    allocates=True,
    impl=_pad_impl,
    abstract_eval=_pad_aval,
    linear=True,
    transpose=_pad_transpose,
    cost=cost_mod.memory_cost,
    lower=_pad_lower,
    batch=_pad_batch,
)


def pad(x: Array, padding_value: Array, padding_config: Sequence[tuple[int, int, int]]) -> Array:
    """Pad with `padding_value`: ``(low, high, interior)`` per dimension; negative low/high
    crop."""
    config = tuple((int(lo), int(hi), int(i)) for lo, hi, i in padding_config)
    return pad_p.bind(x, padding_value, padding_config=config)


# ---- static slice ---------------------------------------------------------------------------


def _slice_impl(x, *, start_indices, limit_indices, strides):
    strides = strides or (1,) * len(start_indices)
    return as_array(x)[
        tuple(np.s_[a:b:s] for a, b, s in zip(start_indices, limit_indices, strides))
    ]


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
    parts = [
        f"{a}:{b}" + (f":{s}" if s != 1 else "")
        for a, b, s in zip(start_indices, limit_indices, strides)
    ]
    if not parts or ctx.in_avals[0].weak_type:
        return _default_slice(ctx, x, start_indices, limit_indices, strides)
    return f"{x}[{', '.join(parts)}]"


def _default_slice(ctx, x, start_indices, limit_indices, strides):
    fn = ctx.const(_slice_impl, "f")
    return (
        f"{fn}({x}, start_indices={ctx.param(start_indices)}, "
        f"limit_indices={ctx.param(limit_indices)}, strides={ctx.param(strides)})"
    )


def _slice_batch(axis_size, vals, dims, *, start_indices, limit_indices, strides):
    (x,), (d,) = vals, dims
    x = moveaxis(x, d, 0)
    size = core.get_aval(x).shape[0]
    return slice(
        x, (0, *start_indices), (size, *limit_indices), None if strides is None else (1, *strides)
    ), 0


slice_p = define_primitive(
    "slice",
    impl=_slice_impl,
    abstract_eval=_slice_aval,
    linear=True,
    transpose=_slice_transpose,
    lower=_slice_lower,
    cost=cost_mod.memory_cost,
    batch=_slice_batch,
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
