"""The primitives every rule uses: broadcasting, reshaping and transposing an array, summing
it over axes, casting it and taking its real part, and the rule helpers built on them (fitting a
tangent to an operand, unbroadcasting a cotangent, moving a batch dimension).

Each primitive is one whole block, as in the op families; the families (`elementwise.py`,
`reductions.py`, `shape.py`, ...) import this module and re-export its wrappers, and nothing in
it imports a family, so `lax/` has no import cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes
from funcdiff._src.array import as_weak_array
from funcdiff._src.core import ShapedArray, Tracer
from funcdiff._src.errors import PrimitiveError
from funcdiff._src.interpreters import ad
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters import lowering_rules as lowering
from funcdiff._src.interpreters.ad import Zero
from funcdiff._src.interpreters.simplify_rules import same_type
from funcdiff._src.lax._define import (
    PrimitiveRules,
    check_kinds,
    define_primitive,
    elementwise_primitive,
    per_primitive,
    register_rules,
    shift_axes,
)

Array = Any


def as_array(x: Any) -> np.ndarray:
    return x if isinstance(x, np.ndarray) else np.asarray(x)


# ---- broadcast_in_dim -----------------------------------------------------------------------


def _bid_impl(x, *, shape, broadcast_dimensions):
    x = as_array(x)
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
    out = reduce_sum(ct, tuple(sorted(summed))) if summed else ct
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


def _bid_batch(axis_size, vals, dims, *, shape, broadcast_dimensions):
    (x,), (d,) = vals, dims
    x = moveaxis(x, d, 0)
    return broadcast_in_dim(x, (axis_size, *shape), (0, *shift_axes(broadcast_dimensions))), 0


def _simplify_noop_reshape(eqn, ins, producers, uses, out):
    # The simplification rule of the primitives that only rearrange (or cast) their operand:
    # one that changes neither the shape nor the dtype is its operand (a broadcast only when
    # it keeps the dimensions in order).
    x = ins[0]
    if same_type(x, out) and (
        eqn.primitive is not broadcast_in_dim_p
        or eqn.params["broadcast_dimensions"] == tuple(range(out.aval.ndim))
    ):
        return x
    return None


broadcast_in_dim_p = define_primitive(
    "broadcast_in_dim",
    impl=_bid_impl,
    abstract_eval=_bid_aval,
    linear=True,
    transpose=_bid_transpose,
    batch=_bid_batch,
    lower=_bid_lower,
    cost=cost_mod.memory_cost,
    simplify=_simplify_noop_reshape,
    # A broadcast is a free view at run time; folded into a constant it would cost memory
    # and hide its scalar from the simplification rules.
    folded=False,
)


def broadcast_in_dim(x: Array, shape: Sequence[int], broadcast_dimensions: Sequence[int]) -> Array:
    """Broadcast `x` to `shape`, operand dimension ``i`` becoming result dimension
    ``broadcast_dimensions[i]``."""
    shape = tuple(int(n) for n in shape)
    bdims = tuple(int(d) for d in broadcast_dimensions)
    if core.get_aval(x).shape == shape and bdims == tuple(range(len(shape))):
        return core.unchanged(x)
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


def _reshape_batch(axis_size, vals, dims, *, new_sizes):
    (x,), (d,) = vals, dims
    x = moveaxis(x, d, 0)
    return reshape(x, (axis_size, *new_sizes)), 0


reshape_p = define_primitive(
    "reshape",
    impl=_reshape_impl,
    abstract_eval=_reshape_aval,
    linear=True,
    transpose=_reshape_transpose,
    batch=_reshape_batch,
    lower=lambda ctx, x, *, new_sizes: f"xp.reshape({x}, {ctx.param(new_sizes)})",
    cost=cost_mod.memory_cost,
    simplify=_simplify_noop_reshape,
)


def reshape(x: Array, new_sizes: Sequence[int]) -> Array:
    """Reshape to `new_sizes` (row-major order; no -1 here, see `funcdiff.numpy.reshape`)."""
    new_sizes = tuple(int(n) for n in new_sizes)
    if core.get_aval(x).shape == new_sizes:
        return core.unchanged(x)
    return reshape_p.bind(x, new_sizes=new_sizes)


def _squeeze_impl(x, *, dimensions):
    return np.squeeze(x, axis=dimensions)


def _squeeze_aval(x: ShapedArray, *, dimensions) -> ShapedArray:
    for d in dimensions:
        if not 0 <= d < x.ndim or x.shape[d] != 1:
            raise PrimitiveError(f"cannot squeeze dimension {d} of shape {x.shape}")
    shape = tuple(n for i, n in enumerate(x.shape) if i not in dimensions)
    return ShapedArray(shape, x.dtype, x.weak_type)


def dims_batch(p):
    def rule(axis_size, vals, dims, *, dimensions):
        (x,), (d,) = vals, dims
        return p.bind(moveaxis(x, d, 0), dimensions=shift_axes(dimensions)), 0

    return rule


squeeze_p = define_primitive(
    "squeeze",
    impl=_squeeze_impl,
    abstract_eval=_squeeze_aval,
    linear=True,
    transpose=_reshape_transpose,
    batch=per_primitive(dims_batch),
    lower=lambda ctx, x, *, dimensions: f"xp.squeeze({x}, axis={ctx.param(dimensions)})",
    cost=cost_mod.memory_cost,
    simplify=_simplify_noop_reshape,
)


def squeeze(x: Array, dimensions: Sequence[int]) -> Array:
    """Remove the given size-1 dimensions."""
    dims = tuple(sorted(int(d) for d in dimensions))
    return squeeze_p.bind(x, dimensions=dims) if dims else core.unchanged(x)


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
    "expand_dims",
    impl=_expand_dims_impl,
    abstract_eval=_expand_dims_aval,
    linear=True,
    transpose=_reshape_transpose,
    batch=per_primitive(dims_batch),
    lower=lambda ctx, x, *, dimensions: f"xp.expand_dims({x}, {ctx.param(dimensions)})",
    cost=cost_mod.memory_cost,
    simplify=_simplify_noop_reshape,
)


def expand_dims(x: Array, dimensions: Sequence[int]) -> Array:
    """Insert size-1 dimensions at the given positions of the result."""
    dims = tuple(sorted(int(d) for d in dimensions))
    return expand_dims_p.bind(x, dimensions=dims) if dims else core.unchanged(x)


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


def _transpose_batch(axis_size, vals, dims, *, permutation):
    (x,), (d,) = vals, dims
    return transpose(moveaxis(x, d, 0), (0, *shift_axes(permutation))), 0


transpose_p = define_primitive(
    "transpose",
    impl=_transpose_impl,
    abstract_eval=_transpose_aval,
    linear=True,
    transpose=_transpose_transpose,
    batch=_transpose_batch,
    lower=_transpose_lower,
    cost=cost_mod.memory_cost,
)


def transpose(x: Array, permutation: Sequence[int]) -> Array:
    """Permute the axes: result axis ``i`` is operand axis ``permutation[i]``."""
    perm = tuple(int(p) for p in permutation)
    if perm == tuple(range(len(perm))):
        return core.unchanged(x)
    return transpose_p.bind(x, permutation=perm)


# ---- reduce_sum -----------------------------------------------------------------------------


def check_axes(x: ShapedArray, axes: tuple[int, ...]) -> None:
    if len(set(axes)) != len(axes) or any(not 0 <= a < x.ndim for a in axes):
        raise PrimitiveError(f"invalid axes {axes} for an array of rank {x.ndim}")


def reduce_aval(kinds: str):
    def rule(x: ShapedArray, *, axes: tuple[int, ...]) -> ShapedArray:
        check_kinds([x], kinds)
        check_axes(x, axes)
        shape = tuple(n for i, n in enumerate(x.shape) if i not in axes)
        return ShapedArray(shape, x.dtype, x.weak_type)

    return rule


def reduce_batch(p: core.Primitive):
    def rule(axis_size, vals, dims, *, axes):
        (x,), (d,) = vals, dims
        return p.bind(moveaxis(x, d, 0), axes=shift_axes(axes)), 0

    return rule


def kept_dims(ndim: int, axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(i for i in range(ndim) if i not in axes)


def expand_back(y: Array, shape: tuple[int, ...], axes: tuple[int, ...]) -> Array:
    """Broadcast a reduced array back to the operand's shape."""
    return broadcast_in_dim(y, shape, kept_dims(len(shape), axes))


def _reduce_sum_impl(x, *, axes):
    return np.sum(x, axis=axes, dtype=np.asarray(x).dtype)


def _reduce_sum_transpose(ct, x, *, axes):
    return [expand_back(ct, x.aval.shape, axes)]


def _reduce_sum_transpose_direct(tr, ct, x, *, axes):
    """`_reduce_sum_transpose`'s equation, recorded directly
    (`staged_ad.direct_transpose_rules`): `broadcast_in_dim`'s, unless it leaves `ct` as is."""
    shape = x.aval.shape
    bdims = kept_dims(len(shape), axes)
    if ct.aval.shape == shape and bdims == tuple(range(len(shape))):
        return [ct]
    params = {"shape": shape, "broadcast_dimensions": bdims}
    return [tr.emit(broadcast_in_dim_p, [ct], None, params)]


def _reduce_sum_lower(ctx, x, *, axes):
    dtype = ctx.in_avals[0].dtype
    if dtype.kind in "fc" and not ctx.in_avals[0].weak_type:
        return f"xp.sum({x}, axis={ctx.param(axes)})"
    return f"{ctx.const(_reduce_sum_impl, 'f')}({x}, axes={ctx.param(axes)})"


def _simplify_reduce_sum(eqn, ins, producers, uses, out):
    # A sum over no axes is its operand; one over size-1 axes only drops them (a reshape).
    (x,) = ins
    axes = eqn.params["axes"]
    if not axes:
        return x
    if all(x.aval.shape[a] == 1 for a in axes):
        return eqn.replace(primitive=reshape_p, invars=[x], params={"new_sizes": out.aval.shape})
    return None


reduce_sum_p = define_primitive(
    "reduce_sum",
    allocates=True,
    impl=_reduce_sum_impl,
    abstract_eval=reduce_aval("iufc"),
    linear=True,
    transpose=_reduce_sum_transpose,
    transpose_direct=_reduce_sum_transpose_direct,
    batch=per_primitive(reduce_batch),
    lower=_reduce_sum_lower,
    cost=cost_mod.reduction_cost,
    simplify=_simplify_reduce_sum,
)


def reduce_sum(x: Array, axes: tuple[int, ...]) -> Array:
    """Sum over the given axes (the dtype is kept)."""
    return reduce_sum_p.bind(x, axes=tuple(axes))


# ---- real part and dtype conversion ---------------------------------------------------------


def to_real_aval(x: ShapedArray) -> ShapedArray:
    check_kinds([x], "iufc")
    return x.update(dtype=dtypes.real_dtype(x.dtype))


def _real_transpose(ct, x):
    # The cotangent of a real part, as the operand's (complex) dtype.
    return [convert_element_type(ct, x.aval.dtype)]


real_p = elementwise_primitive(
    "real", impl=np.real, abstract_eval=to_real_aval, linear=True, transpose=_real_transpose
)


def real(x: Array) -> Array:
    return real_p.bind(x)


def _convert_impl(x, *, new_dtype, weak_type=False):
    arr = np.asarray(x)
    if arr.dtype.kind == "c" and new_dtype.kind != "c":
        arr = arr.real
    out = arr.astype(new_dtype, copy=False)
    if weak_type:  # as `run_impl` types a weak result: a WeakArray, or a Python scalar
        if not isinstance(x, np.ndarray) and np.asarray(out.item()).dtype == out.dtype:
            return out.item()  # (a weak float32 stays an array: a float would be float64)
        return as_weak_array(out)
    return out if isinstance(x, np.ndarray) else out[()]


def _convert_aval(x: ShapedArray, *, new_dtype, weak_type=False) -> ShapedArray:
    return ShapedArray(x.shape, new_dtype, weak_type)


def _convert_jvp(primals, tangents, *, new_dtype, weak_type=False):
    (x,), (t,) = primals, tangents
    ans = convert_element_type(x, new_dtype, weak_type)
    if type(t) is Zero or not dtypes.is_inexact(np.dtype(new_dtype)):
        return ans, Zero(ad.tangent_aval(core.get_aval(ans)))
    if dtypes.is_complex(core.get_aval(t).dtype) and not dtypes.is_complex(np.dtype(new_dtype)):
        t = real(t)
    return ans, convert_element_type(t, new_dtype, weak_type)


def _convert_transpose(ct, x, *, new_dtype, weak_type=False):
    old = x.aval.dtype
    if dtypes.is_complex(core.get_aval(ct).dtype) and not dtypes.is_complex(old):
        ct = real(ct)
    return [convert_element_type(ct, old, x.aval.weak_type)]


convert_element_type_p = elementwise_primitive(
    "convert_element_type",
    impl=_convert_impl,
    abstract_eval=_convert_aval,
    jvp=_convert_jvp,
    transpose=_convert_transpose,
    simplify=_simplify_noop_reshape,  # a cast to the dtype it has
)


def convert_element_type(x: Array, new_dtype: Any, weak_type: bool = False) -> Array:
    """Cast to `new_dtype` (no-op if it already has it). Casting a float to an integer has a
    zero derivative."""
    new_dtype = np.dtype(new_dtype)
    aval = core.get_aval(x)
    if aval.dtype == new_dtype and aval.weak_type == weak_type:
        return core.unchanged(x)
    return convert_element_type_p.bind(x, new_dtype=new_dtype, weak_type=weak_type)


# ---- rule helpers ---------------------------------------------------------------------------


def fit_to_aval(t: Any, aval: ShapedArray) -> Any:
    """Broadcast a tangent to `aval`'s shape and cast it to its dtype (tangents of a broadcast
    or promoted operand)."""
    t_aval = t.aval if isinstance(t, Tracer) else core.get_aval(t)  # (a tracer: read directly)
    if t_aval is aval:  # (often: the shape rules share their results)
        return t
    if t_aval.dtype != aval.dtype and dtypes.is_inexact(aval.dtype):
        t = convert_element_type(t, aval.dtype)
    if t_aval.shape != aval.shape:
        t = broadcast_to(t, aval.shape)
    return t


def unbroadcast(ct: Any, aval: ShapedArray) -> Any:
    """Sum a cotangent over the dimensions along which an operand of abstract value `aval`
    was broadcast, and cast it back to the operand's dtype."""
    ct_aval = ct.aval if isinstance(ct, Tracer) else core.get_aval(ct)  # (as `fit_to_aval`)
    if ct_aval is aval:  # (often: the shape rules share their results)
        return ct
    if ct_aval.shape != aval.shape:
        lead = ct_aval.ndim - aval.ndim
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(aval.shape) if n == 1 and ct_aval.shape[lead + i] != 1
        )
        if axes:
            ct = reduce_sum(ct, axes)
        if core.get_aval(ct).shape != aval.shape:
            ct = reshape(ct, aval.shape)
    ct_dtype = ct_aval.dtype  # (summing and reshaping keep it)
    if ct_dtype != aval.dtype:
        if dtypes.is_complex(ct_dtype) and not dtypes.is_complex(aval.dtype):
            ct = real(ct)
        ct = convert_element_type(ct, aval.dtype)
    return ct


# ---- batching helpers -----------------------------------------------------------------------


def moveaxis(x: Any, src: int, dst: int) -> Any:
    ndim = core.get_aval(x).ndim
    if src == dst:
        return x
    perm = [d for d in range(ndim) if d != src]
    perm.insert(dst, src)
    return transpose(x, tuple(perm))


def move_to_front(x: Any, bdim: int | None, size: int) -> Any:
    """`x` with its batch dimension first, materialising it (a broadcast) if unbatched."""
    if bdim is None:
        aval = core.get_aval(x)
        return broadcast_in_dim(x, (size, *aval.shape), tuple(range(1, aval.ndim + 1)))
    return moveaxis(x, bdim, 0)


def align_for_broadcast(vals: Sequence[Any], dims: Sequence[int | None]) -> list[Any]:
    """Operands of a NumPy-broadcasting primitive with every batch dimension first and their
    rank padded (size-1 dimensions after the batch one) so that the batch lines up;
    unbatched operands broadcast as before."""
    out_ndim = max(core.get_aval(v).ndim - (d is not None) for v, d in zip(vals, dims))
    result = []
    for v, d in zip(vals, dims):
        if d is None:
            result.append(v)
            continue
        v = moveaxis(v, d, 0)
        missing = out_ndim - (core.get_aval(v).ndim - 1)
        if missing:
            v = expand_dims(v, tuple(range(1, 1 + missing)))
        result.append(v)
    return result


# ---- add_any: the sum of cotangents (the primitive is `ad.add_any_p`) ----------------------


def _add_any_jvp(primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    return ad.add_any_p.bind(*primals), ad.add_tangents(*tangents)


def _add_any_direct(lin: Any, ins: Sequence[Any], tangents: Sequence[Any]) -> Any:
    """`_add_any_jvp`'s equations, built directly (`staged_ad.direct_jvp_rules`)."""
    tx, ty = tangents
    lin.keep()
    if tx is None or ty is None:
        return ty if tx is None else tx
    return lin.tangent(ad.add_any_p, [tx, ty])


def _add_any_transpose(ct: Any, x: Any, y: Any) -> list[Any]:
    return [ct, ct]


def _add_any_batch(
    axis_size: int, vals: Sequence[Any], dims: Sequence[int | None]
) -> tuple[Any, int]:
    # add_any requires equal shapes: give both operands the batch dimension first.
    return ad.add_any_p.bind(*[move_to_front(v, d, axis_size) for v, d in zip(vals, dims)]), 0


register_rules(
    ad.add_any_p,
    PrimitiveRules(
        impl=np.add,
        # (weakly typed only when both are, as any sum)
        abstract_eval=lambda x, y: x if x.weak_type <= y.weak_type else x.strip_weak_type(),
        weak_results=True,
        jvp=_add_any_jvp,
        jvp_direct=_add_any_direct,
        transpose_direct=lambda tr, ct, x, y: [ct, ct],
        transpose=_add_any_transpose,
        batch=_add_any_batch,
        linear=True,
        lower=lowering.binary_operator("+"),
        array_api="+",
        ufunc="add",
        allocates=True,
        cost=cost_mod.elementwise_cost(),
    ),
)
