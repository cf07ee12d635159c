"""Indexing primitives: integer-array gather and scatter, and dynamic slices.

`gather` and the scatters follow NumPy's advanced indexing: ``dims[i]`` says what indexes
operand dimension ``i``, either ``-1`` (the whole dimension, ``:``) or ``k`` (the k-th index
array). The index arrays broadcast together; out-of-bounds indices raise, negative ones wrap,
as in NumPy. Static slicing, integers and `None` are handled by the shape primitives.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.core import ShapedArray
from funcdiff._src.errors import PrimitiveError
from funcdiff._src.interpreters import ad
from funcdiff._src.interpreters.ad import Zero, is_undefined_primal
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax._base import broadcast_shapes, define_primitive

Array = Any

_FULL = np.s_[:]


def _index_tuple(indices: Sequence[Any], dims: tuple[int, ...]) -> tuple:
    return tuple(_FULL if d < 0 else indices[d] for d in dims)


def gather_shape(x_shape: tuple[int, ...], idx_shapes: Sequence[tuple[int, ...]],
                 dims: tuple[int, ...]) -> tuple[int, ...]:
    """The result shape of NumPy advanced indexing (see the module docstring)."""
    batch = broadcast_shapes(*idx_shapes) if idx_shapes else ()
    advanced = [i for i, d in enumerate(dims) if d >= 0]
    rest = [n for n, d in zip(x_shape, dims) if d < 0]
    if not advanced:
        return tuple(x_shape)
    contiguous = advanced == list(range(advanced[0], advanced[-1] + 1))
    if contiguous:
        before = [n for i, n in enumerate(x_shape[: advanced[0]])]
        after = list(x_shape[advanced[-1] + 1 :])
        return tuple(before) + tuple(batch) + tuple(after)
    return tuple(batch) + tuple(rest)


def _check_indices(x: ShapedArray, idx: Sequence[ShapedArray], dims: tuple[int, ...]) -> None:
    if len(dims) != x.ndim:
        raise PrimitiveError(f"dims {dims} must have one entry per dimension of {x.shape}")
    for i in idx:
        if i.dtype.kind not in "iu":
            raise PrimitiveError(f"index arrays must be integers, got {i.dtype}")
    if sorted(d for d in dims if d >= 0) != list(range(len(idx))):
        raise PrimitiveError(f"dims {dims} must use each of the {len(idx)} index arrays once")


# ---- gather ---------------------------------------------------------------------------------


def _gather_impl(x, *indices, dims):
    return np.asarray(x)[_index_tuple(indices, dims)]


def _gather_aval(x: ShapedArray, *idx: ShapedArray, dims) -> ShapedArray:
    _check_indices(x, idx, dims)
    return ShapedArray(gather_shape(x.shape, [i.shape for i in idx], dims), x.dtype, x.weak_type)


def _gather_jvp(primals, tangents, *, dims):
    x, *indices = primals
    ans = gather(x, indices, dims)
    t = tangents[0]
    if type(t) is Zero:
        return ans, Zero(ad.tangent_aval(core.get_aval(ans)))
    return ans, gather(t, indices, dims)


def _gather_transpose(ct, x, *indices, dims):
    zeros = np.zeros(x.aval.shape, x.aval.dtype)
    return [scatter_add(zeros, ct, indices, dims)] + [None] * len(indices)


gather_p = define_primitive(
    "gather", allocates=True, impl=_gather_impl, abstract_eval=_gather_aval, jvp=_gather_jvp,
    transpose=_gather_transpose,
)


def gather(x: Array, indices: Sequence[Array], dims: Sequence[int]) -> Array:
    """NumPy advanced indexing ``x[..., idx_k, ...]`` (see the module docstring)."""
    return gather_p.bind(x, *indices, dims=tuple(int(d) for d in dims))


# ---- scatters -------------------------------------------------------------------------------


def _scatter_aval(x: ShapedArray, updates: ShapedArray, *idx: ShapedArray, dims) -> ShapedArray:
    _check_indices(x, idx, dims)
    expected = gather_shape(x.shape, [i.shape for i in idx], dims)
    if updates.shape != expected:
        raise PrimitiveError(f"updates of shape {updates.shape} where {expected} is indexed")
    return x


def _scatter_add_impl(x, updates, *indices, dims):
    out = np.array(x, copy=True)
    np.add.at(out, _index_tuple(indices, dims), updates)
    return out


def _scatter_linear_jvp(p):
    def rule(primals, tangents, *, dims):
        x, updates, *indices = primals
        ans = p.bind(x, updates, *indices, dims=dims)
        tx, tu = tangents[0], tangents[1]
        if type(tx) is Zero and type(tu) is Zero:
            return ans, Zero(ad.tangent_aval(core.get_aval(ans)))
        return ans, p.bind(ad.instantiate(tx), ad.instantiate(tu), *indices, dims=dims)

    return rule


def _scatter_add_transpose(ct, x, updates, *indices, dims):
    return [
        ct if is_undefined_primal(x) else None,
        gather(ct, indices, dims) if is_undefined_primal(updates) else None,
    ] + [None] * len(indices)


scatter_add_p = define_primitive(
    "scatter_add", allocates=True, impl=_scatter_add_impl, abstract_eval=_scatter_aval,
    transpose=_scatter_add_transpose,
)
ad.jvp_rules[scatter_add_p] = _scatter_linear_jvp(scatter_add_p)


def scatter_add(x: Array, updates: Array, indices: Sequence[Array], dims: Sequence[int]) -> Array:
    """A copy of `x` with `updates` added at the indexed places (repeated indices add up)."""
    return scatter_add_p.bind(x, updates, *indices, dims=tuple(int(d) for d in dims))


def _scatter_impl(x, updates, *indices, dims):
    out = np.array(x, copy=True)
    out[_index_tuple(indices, dims)] = updates
    return out


def _scatter_transpose(ct, x, updates, *indices, dims):
    out: list[Any] = [None, None] + [None] * len(indices)
    upd_aval = updates.aval if is_undefined_primal(updates) else core.get_aval(updates)
    if is_undefined_primal(x):
        out[0] = scatter(ct, np.zeros(upd_aval.shape, upd_aval.dtype), indices, dims)
    if is_undefined_primal(updates):
        # With repeated indices only the last write to a place lands (as in NumPy and JAX), and
        # only it gets the place's cotangent: scatter each update's id, read back the winners.
        ids = np.arange(upd_aval.size).reshape(upd_aval.shape)
        written = scatter(np.full(core.get_aval(ct).shape, -1), ids, indices, dims)
        landed = ew.eq(gather(written, indices, dims), ids)
        picked = gather(ct, indices, dims)
        out[1] = ew.select_n(landed, ew.zeros_like(picked), picked)
    return out


scatter_p = define_primitive(
    "scatter", allocates=True,
    impl=_scatter_impl, abstract_eval=_scatter_aval, transpose=_scatter_transpose
)
ad.jvp_rules[scatter_p] = _scatter_linear_jvp(scatter_p)


def scatter(x: Array, updates: Array, indices: Sequence[Array], dims: Sequence[int]) -> Array:
    """A copy of `x` with the indexed places set to `updates`."""
    return scatter_p.bind(x, updates, *indices, dims=tuple(int(d) for d in dims))


def _scatter_mul_impl(x, updates, *indices, dims):
    out = np.array(x, copy=True)
    np.multiply.at(out, _index_tuple(indices, dims), updates)
    return out


def _scatter_mul_jvp(primals, tangents, *, dims):
    x, updates, *indices = primals
    ans = scatter_mul(x, updates, indices, dims)
    tx, tu = tangents[0], tangents[1]
    out = Zero(ad.tangent_aval(core.get_aval(ans)))
    if type(tx) is not Zero:
        out = ad.add_tangents(out, scatter_mul(tx, updates, indices, dims))
    if type(tu) is not Zero:
        # d(x * prod v) = (x * prod v) * sum(dv / v) at each indexed place.
        zeros = ew.zeros_like(ans)
        out = ad.add_tangents(out, ew.mul(ans, scatter_add(zeros, ew.div(tu, updates), indices,
                                                           dims)))
    return ans, out


def _scatter_mul_transpose(ct, x, updates, *indices, dims):
    # Linear in `x` only: each place is multiplied by a constant, so the transpose is the same.
    if is_undefined_primal(updates):
        raise NotImplementedError("scatter_mul is not linear in its updates")
    return [scatter_mul(ct, updates, indices, dims), None] + [None] * len(indices)


scatter_mul_p = define_primitive(
    "scatter_mul", allocates=True,
    impl=_scatter_mul_impl, abstract_eval=_scatter_aval, jvp=_scatter_mul_jvp,
    transpose=_scatter_mul_transpose,
)


def scatter_mul(x: Array, updates: Array, indices: Sequence[Array], dims: Sequence[int]) -> Array:
    """A copy of `x` multiplied by `updates` at the indexed places."""
    return scatter_mul_p.bind(x, updates, *indices, dims=tuple(int(d) for d in dims))


# ---- dynamic slices -------------------------------------------------------------------------


def _clamped_slices(shape, starts, sizes) -> tuple:
    # Start indices are clamped so that the slice fits, as in JAX.
    out = []
    for n, s, size in zip(shape, starts, sizes):
        s = int(s)
        s = n + s if s < 0 else s
        s = min(max(s, 0), n - size)
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
    ans = dynamic_slice(x, starts, slice_sizes)
    t = tangents[0]
    if type(t) is Zero:
        return ans, Zero(ad.tangent_aval(core.get_aval(ans)))
    return ans, dynamic_slice(t, starts, slice_sizes)


def _dynamic_slice_transpose(ct, x, *starts, slice_sizes):
    zeros = np.zeros(x.aval.shape, x.aval.dtype)
    return [dynamic_update_slice(zeros, ct, starts)] + [None] * len(starts)


dynamic_slice_p = define_primitive(
    "dynamic_slice", impl=_dynamic_slice_impl, abstract_eval=_dynamic_slice_aval,
    jvp=_dynamic_slice_jvp, transpose=_dynamic_slice_transpose,
)


def dynamic_slice(x: Array, start_indices: Sequence[Array], slice_sizes: Sequence[int]) -> Array:
    """The slice of static size `slice_sizes` starting at traced `start_indices` (clamped to
    stay in bounds)."""
    return dynamic_slice_p.bind(x, *start_indices, slice_sizes=tuple(int(s) for s in slice_sizes))


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
    ans = dynamic_update_slice(x, update, starts)
    tx, tu = tangents[0], tangents[1]
    if type(tx) is Zero and type(tu) is Zero:
        return ans, Zero(ad.tangent_aval(core.get_aval(ans)))
    return ans, dynamic_update_slice(ad.instantiate(tx), ad.instantiate(tu), starts)


def _dus_transpose(ct, x, update, *starts):
    upd_aval = update.aval if is_undefined_primal(update) else core.get_aval(update)
    out: list[Any] = [None, None] + [None] * len(starts)
    if is_undefined_primal(x):
        out[0] = dynamic_update_slice(ct, np.zeros(upd_aval.shape, upd_aval.dtype), starts)
    if is_undefined_primal(update):
        out[1] = dynamic_slice(ct, starts, upd_aval.shape)
    return out


dynamic_update_slice_p = define_primitive(
    "dynamic_update_slice", allocates=True, impl=_dus_impl, abstract_eval=_dus_aval, jvp=_dus_jvp,
    transpose=_dus_transpose,
)


def dynamic_update_slice(x: Array, update: Array, start_indices: Sequence[Array]) -> Array:
    """A copy of `x` with `update` written at traced `start_indices` (clamped to fit)."""
    return dynamic_update_slice_p.bind(x, update, *start_indices)
