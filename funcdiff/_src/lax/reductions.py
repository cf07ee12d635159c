"""Reductions over static axes, index reductions and cumulative sums."""

from __future__ import annotations

from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.core import ShapedArray
from funcdiff._src.errors import PrimitiveError
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax._define import check_kinds, define_primitive, per_primitive
from funcdiff._src.lax.structural import (
    check_axes,
    expand_back,
    kept_dims,
    moveaxis,
    reduce_aval,
    reduce_batch,
)

# Defined in structural.py (the rules of every family use them); re-exported in their family.
from funcdiff._src.lax.structural import reduce_sum as reduce_sum
from funcdiff._src.lax.structural import reduce_sum_p as reduce_sum_p

Array = Any


def _axis_batch(p: core.Primitive):
    def rule(axis_size, vals, dims, *, axis, **params):
        (x,), (d,) = vals, dims
        return p.bind(moveaxis(x, d, 0), axis=axis + 1, **params), 0

    return rule


# ---- max and min ----------------------------------------------------------------------------


def _reduce_chooser_jvp(p: core.Primitive):
    # The derivative flows to the locations of the extremum, shared equally among ties.
    def rule(primals, tangents, *, axes):
        (x,), (t,) = primals, tangents
        ans = p.bind(x, axes=axes)
        shape = core.get_aval(x).shape
        location = ew.eq(x, expand_back(ans, shape, axes))
        dt = core.get_aval(t).dtype
        mask = ew.convert_element_type(location, dt)
        counts = reduce_sum(mask, axes)
        return ans, ew.div(reduce_sum(ew.mul(t, mask), axes), counts)

    return rule


def _reduce_max_impl(x, *, axes):
    return np.max(x, axis=axes)


def _reduce_min_impl(x, *, axes):
    return np.min(x, axis=axes)


reduce_max_p = define_primitive(
    "reduce_max",
    allocates=True,
    impl=_reduce_max_impl,
    abstract_eval=reduce_aval("biufc"),
    lower=lambda ctx, x, *, axes: f"xp.max({x}, axis={ctx.param(axes)})",
    cost=cost_mod.reduction_cost,
    jvp=per_primitive(_reduce_chooser_jvp),
    batch=per_primitive(reduce_batch),
)
reduce_min_p = define_primitive(
    "reduce_min",
    allocates=True,
    impl=_reduce_min_impl,
    abstract_eval=reduce_aval("biufc"),
    lower=lambda ctx, x, *, axes: f"xp.min({x}, axis={ctx.param(axes)})",
    cost=cost_mod.reduction_cost,
    jvp=per_primitive(_reduce_chooser_jvp),
    batch=per_primitive(reduce_batch),
)


def reduce_max(x: Array, axes: tuple[int, ...]) -> Array:
    """Maximum over the given axes (not defined for size-0 axes, as in NumPy)."""
    return reduce_max_p.bind(x, axes=tuple(axes))


def reduce_min(x: Array, axes: tuple[int, ...]) -> Array:
    return reduce_min_p.bind(x, axes=tuple(axes))


# ---- product --------------------------------------------------------------------------------


def _reduce_prod_impl(x, *, axes):
    return np.prod(x, axis=axes, dtype=np.asarray(x).dtype)


def _reduce_prod_jvp(primals, tangents, *, axes):
    # Multiply the reduced elements pairwise, halving their number at each step, and carry the
    # tangent by the product rule. Unlike ``prod * sum(t / x)`` this is exact where some
    # elements are zero, and so are its own derivatives (as in JAX).
    (x,), (t,) = primals, tangents
    ans = reduce_prod(x, axes)
    aval = core.get_aval(x)
    kept = kept_dims(aval.ndim, axes)
    n = int(np.prod([aval.shape[a] for a in axes], dtype=np.int64))
    if n == 0:
        return ans, ew.zeros_like(ans)
    rest = tuple(aval.shape[d] for d in kept)
    xs = sh.reshape(sh.transpose(x, tuple(axes) + kept), (n,) + rest)
    ts = sh.reshape(sh.transpose(t, tuple(axes) + kept), (n,) + rest)
    while n > 1:
        half = (n + 1) // 2
        x1, t1 = (sh.slice(v, (0,) * (len(rest) + 1), (half,) + rest) for v in (xs, ts))
        x2, t2 = (sh.slice(v, (half,) + (0,) * len(rest), (n,) + rest) for v in (xs, ts))
        if n % 2:  # the second half is one short: pad it with a factor of one
            config = [(0, 1, 0)] + [(0, 0, 0)] * len(rest)
            x2 = sh.pad(x2, np.ones((), aval.dtype), config)
            t2 = sh.pad(t2, np.zeros((), aval.dtype), config)
        xs, ts = ew.mul(x1, x2), ew.add(ew.mul(t1, x2), ew.mul(x1, t2))
        n = half
    return ans, sh.reshape(ts, rest)


reduce_prod_p = define_primitive(
    "reduce_prod",
    allocates=True,
    impl=_reduce_prod_impl,
    abstract_eval=reduce_aval("iufc"),
    jvp=_reduce_prod_jvp,
    cost=cost_mod.reduction_cost,
    batch=per_primitive(reduce_batch),
)


def reduce_prod(x: Array, axes: tuple[int, ...]) -> Array:
    return reduce_prod_p.bind(x, axes=tuple(axes))


# ---- logical reductions (no derivative) -----------------------------------------------------


# Logical on booleans, bitwise on integers (as JAX's).


def _reduce_and_impl(x, *, axes):
    x = np.asarray(x)
    return np.all(x, axis=axes) if x.dtype == np.bool_ else np.bitwise_and.reduce(x, axes)


def _reduce_or_impl(x, *, axes):
    x = np.asarray(x)
    return np.any(x, axis=axes) if x.dtype == np.bool_ else np.bitwise_or.reduce(x, axes)


reduce_and_p = define_primitive(
    "reduce_and",
    allocates=True,
    impl=_reduce_and_impl,
    abstract_eval=reduce_aval("biu"),
    nondifferentiable=True,
    cost=cost_mod.reduction_cost,
    batch=per_primitive(reduce_batch),
)
reduce_or_p = define_primitive(
    "reduce_or",
    allocates=True,
    impl=_reduce_or_impl,
    abstract_eval=reduce_aval("biu"),
    nondifferentiable=True,
    cost=cost_mod.reduction_cost,
    batch=per_primitive(reduce_batch),
)


def reduce_and(x: Array, axes: tuple[int, ...]) -> Array:
    return reduce_and_p.bind(x, axes=tuple(axes))


def reduce_or(x: Array, axes: tuple[int, ...]) -> Array:
    return reduce_or_p.bind(x, axes=tuple(axes))


# ---- argmax / argmin (no derivative) --------------------------------------------------------


def _arg_aval(x: ShapedArray, *, axis: int, index_dtype: np.dtype) -> ShapedArray:
    check_kinds([x], "biufc")  # complex: lexicographic, as NumPy (JAX refuses complex)
    check_axes(x, (axis,))
    if x.shape[axis] == 0:
        raise PrimitiveError(f"argmax/argmin over the size-0 axis {axis}")
    return ShapedArray(x.shape[:axis] + x.shape[axis + 1 :], index_dtype)


def _argmax_impl(x, *, axis, index_dtype):
    return np.argmax(x, axis=axis).astype(index_dtype)


def _argmin_impl(x, *, axis, index_dtype):
    return np.argmin(x, axis=axis).astype(index_dtype)


argmax_p = define_primitive(
    "argmax",
    allocates=True,
    impl=_argmax_impl,
    abstract_eval=_arg_aval,
    nondifferentiable=True,
    cost=cost_mod.reduction_cost,  # one comparison per element folded in
    batch=per_primitive(_axis_batch),
)
argmin_p = define_primitive(
    "argmin",
    allocates=True,
    impl=_argmin_impl,
    abstract_eval=_arg_aval,
    nondifferentiable=True,
    cost=cost_mod.reduction_cost,
    batch=per_primitive(_axis_batch),
)


def argmax(x: Array, axis: int, index_dtype: Any = np.int64) -> Array:
    """Index of the first maximum along `axis`."""
    return argmax_p.bind(x, axis=int(axis), index_dtype=np.dtype(index_dtype))


def argmin(x: Array, axis: int, index_dtype: Any = np.int64) -> Array:
    """Index of the first minimum along `axis`."""
    return argmin_p.bind(x, axis=int(axis), index_dtype=np.dtype(index_dtype))


# ---- cumulative sum -------------------------------------------------------------------------


def _cumsum_impl(x, *, axis, reverse):
    x = np.asarray(x)
    if reverse:
        return np.flip(np.cumsum(np.flip(x, axis), axis=axis, dtype=x.dtype), axis)
    return np.cumsum(x, axis=axis, dtype=x.dtype)


def _cumsum_aval(x: ShapedArray, *, axis: int, reverse: bool) -> ShapedArray:
    check_kinds([x], "iufc")
    check_axes(x, (axis,))
    return x


def _cumsum_transpose(ct, x, *, axis, reverse):
    return [cumsum(ct, axis, not reverse)]


def _cumsum_cost(avals_in, avals_out, *, axis, reverse):
    # One addition per element, except the first of each run along `axis`.
    (x,) = avals_in
    runs = x.size // x.shape[axis] if x.shape[axis] else 0
    return cost_mod.Cost(x.size - runs, 0, cost_mod.nbytes(x), cost_mod.nbytes(avals_out[0]))


cumsum_p = define_primitive(
    "cumsum",
    allocates=True,
    impl=_cumsum_impl,
    abstract_eval=_cumsum_aval,
    linear=True,
    transpose=_cumsum_transpose,
    cost=_cumsum_cost,
    batch=per_primitive(_axis_batch),
)


def cumsum(x: Array, axis: int = 0, reverse: bool = False) -> Array:
    """Cumulative sum along `axis` (from the end when `reverse`; a negative axis counts from
    the last, as in JAX)."""
    ndim = core.get_aval(x).ndim
    axis = int(axis) + ndim if -ndim <= int(axis) < 0 else int(axis)
    return cumsum_p.bind(x, axis=axis, reverse=bool(reverse))
