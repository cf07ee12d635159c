"""Indexing primitives: integer-array gather and scatter (dynamic slices are in
`dynamic_slicing.py`).

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
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters.ad import Zero, is_undefined_primal
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax._define import broadcast_shapes, define_primitive, per_primitive
from funcdiff._src.lax.structural import move_to_front, moveaxis

Array = Any

_FULL = np.s_[:]


def _index_tuple(indices: Sequence[Any], dims: tuple[int, ...]) -> tuple:
    return tuple(_FULL if d < 0 else indices[d] for d in dims)


def gather_shape(
    x_shape: tuple[int, ...], idx_shapes: Sequence[tuple[int, ...]], dims: tuple[int, ...]
) -> tuple[int, ...]:
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


# ---- batching rules -------------------------------------------------------------------------
# NumPy's advanced indexing places the broadcast index dimensions either where the indexed
# dimensions were (when they are adjacent) or first. To batch an indexing operation we add the
# batch dimension to the operand (as a full slice, or as an `arange` index when the indices are
# batched too) and work out, with labelled dimensions, where every dimension ends up.


def _layout(x_labels: list, dims: Sequence[int], block: list) -> list:
    """Labels of the dimensions of ``x[...]`` for labelled operand dims and index block."""
    advanced = [i for i, d in enumerate(dims) if d >= 0]
    rest = [lab for lab, d in zip(x_labels, dims) if d < 0]
    if not advanced:
        return list(x_labels)
    if advanced == list(range(advanced[0], advanced[-1] + 1)):
        before = [lab for lab, d in zip(x_labels[: advanced[0]], dims) if d < 0]
        after = [
            lab for lab, d in zip(x_labels[advanced[-1] + 1 :], dims[advanced[-1] + 1 :]) if d < 0
        ]
        return before + block + after
    return block + rest


def _batch_indexing(x, bx, indices, bidx, dims, size, batch_operand):
    """The batched operand, indices and dims, and the labels of the original and batched
    result layouts. With `batch_operand`, the operand is given the batch dimension even
    when unbatched (scatters write a batch of results)."""
    nx = core.get_aval(x).ndim - (bx is not None)
    idx_ndim = (
        len(
            broadcast_shapes(
                *[
                    tuple(n for k, n in enumerate(core.get_aval(i).shape) if k != b)
                    for i, b in zip(indices, bidx)
                ]
            )
        )
        if indices
        else 0
    )
    x_labels = [("x", d) for d in range(nx)]
    block = [("i", j) for j in range(idx_ndim)]
    original = _layout(x_labels, dims, block)
    if bx is not None or batch_operand:
        x = move_to_front(x, bx, size)
    if all(b is None for b in bidx):
        if bx is None and not batch_operand:
            raise AssertionError("nothing batched")
        new_dims = (-1, *dims)
        return x, list(indices), new_dims, original, _layout(["B", *x_labels], new_dims, block)
    # Batched indices: every index array gets a leading batch dimension (size 1 if unbatched).
    new_idx = []
    for i, b in zip(indices, bidx):
        i = moveaxis(i, b, 0) if b is not None else sh.expand_dims(i, (0,))
        pad_rank = idx_ndim + 1 - core.get_aval(i).ndim
        if pad_rank:
            i = sh.expand_dims(i, tuple(range(1, 1 + pad_rank)))
        new_idx.append(i)
    new_block = ["B", *block]
    if bx is None and not batch_operand:
        return x, new_idx, tuple(dims), original, _layout(x_labels, dims, new_block)
    new_idx.append(np.arange(size).reshape((size,) + (1,) * idx_ndim))
    new_dims = (len(indices), *dims)
    return x, new_idx, new_dims, original, _layout(["B", *x_labels], new_dims, new_block)


def _gather_batch(axis_size, vals, dims_in, *, dims):
    x, *indices = vals
    bx, *bidx = dims_in
    x, idx, new_dims, original, layout = _batch_indexing(
        x, bx, indices, bidx, dims, axis_size, False
    )
    out = gather(x, idx, new_dims)
    # The other dimensions must keep their unbatched order; the batch one may go anywhere.
    rest = [lab for lab in layout if lab != "B"]
    if rest == original:
        return out, layout.index("B")
    return sh.transpose(out, tuple(layout.index(lab) for lab in ["B", *original])), 0


def _scatter_batch(p):
    def rule(axis_size, vals, dims_in, *, dims):
        x, updates, *indices = vals
        bx, bu, *bidx = dims_in
        x, idx, new_dims, original, layout = _batch_indexing(
            x, bx, indices, bidx, dims, axis_size, True
        )
        # Updates come in the unbatched result layout; put them in the batched one.
        updates = move_to_front(updates, bu, axis_size)
        labels = ["B", *original]
        updates = sh.transpose(updates, tuple(labels.index(lab) for lab in layout))
        return p.bind(x, updates, *idx, dims=new_dims), 0

    return rule


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


def _gather_cost(avals_in, avals_out, *, dims):
    # Only the gathered elements (and the indices) are read.
    read = sum(map(cost_mod.nbytes, avals_in[1:])) + cost_mod.nbytes(avals_out[0])
    return cost_mod.Cost(0, 0, read, cost_mod.nbytes(avals_out[0]))


gather_p = define_primitive(
    "gather",
    linear_in_each=True,
    impl=_gather_impl,
    abstract_eval=_gather_aval,
    jvp=_gather_jvp,
    transpose=_gather_transpose,
    cost=_gather_cost,
    batch=_gather_batch,
    lacks={"array_api": "JAX's gather needs NumPy advanced indexing with index arrays"},
)


def gather(x: Array, indices: Sequence[Array], dims: Sequence[int]) -> Array:
    """NumPy advanced indexing ``x[..., idx_k, ...]`` (see the module docstring)."""
    return gather_p.bind(x, *indices, dims=tuple(int(d) for d in dims))


# ---- scatters -------------------------------------------------------------------------------

# Why jit has no Array API lowering for any scatter.
_SCATTER_NO_ARRAY_API = (
    "JAX's scatter needs NumPy advanced indexing with index arrays (and ufunc.at)"
)


def _scatter_aval(x: ShapedArray, updates: ShapedArray, *idx: ShapedArray, dims) -> ShapedArray:
    _check_indices(x, idx, dims)
    expected = gather_shape(x.shape, [i.shape for i in idx], dims)
    if updates.shape != expected:
        raise PrimitiveError(f"updates of shape {updates.shape} where {expected} is indexed")
    return x


def _scatter_cost(per_update: int):
    # A copy of the operand, with `per_update` flops (an add or a multiply) per update.
    def rule(avals_in, avals_out, *, dims):
        moved = cost_mod.io_bytes(avals_in, avals_out)
        return cost_mod.Cost(
            avals_in[1].size * per_update, 0, moved.bytes_read, moved.bytes_written
        )

    return rule


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
    "scatter_add",
    allocates=True,
    impl=_scatter_add_impl,
    abstract_eval=_scatter_aval,
    transpose=_scatter_add_transpose,
    cost=_scatter_cost(1),
    jvp=per_primitive(_scatter_linear_jvp),
    batch=per_primitive(_scatter_batch),
    lacks={"array_api": _SCATTER_NO_ARRAY_API},
)


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
    "scatter",
    allocates=True,
    impl=_scatter_impl,
    abstract_eval=_scatter_aval,
    transpose=_scatter_transpose,
    cost=_scatter_cost(0),
    jvp=per_primitive(_scatter_linear_jvp),
    batch=per_primitive(_scatter_batch),
    lacks={"array_api": _SCATTER_NO_ARRAY_API},
)


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
        out = ad.add_tangents(out, _scatter_mul_updates_jvp(x, updates, tu, indices, dims))
    return ans, out


def _scatter_mul_updates_jvp(x, updates, tu, indices, dims):
    # At a place p hit by updates v_1..v_n: d(x_p v_1 ... v_n) = sum_k dv_k x_p prod_{j!=k} v_j.
    # With known indices, multiply in rounds that hit each place at most once (round r takes the
    # r-th update of every place) and carry the tangent by the product rule: multiplications
    # only, so this is exact at zero updates, and so are its own derivatives.
    zeros = ew.zeros_like(x)
    concrete = [core.concrete_or_none(i) for i in indices]
    if any(i is None for i in concrete):
        exclusive = _other_factors(x, updates, indices, dims)
        return scatter_add(zeros, ew.mul(tu, exclusive), indices, dims)
    rounds = _update_rounds(core.get_aval(x).shape, [np.asarray(i) for i in concrete], dims)
    if not rounds:  # no place is hit twice
        return scatter_add(zeros, ew.mul(tu, gather(x, indices, dims)), indices, dims)
    ones, nothing = ew.ones_like(updates), ew.zeros_like(updates)
    acc, tangent = x, None
    for r, mask in enumerate(rounds):
        factors = ew.select(mask, updates, ones)
        term = scatter_add(
            zeros, ew.mul(ew.select(mask, tu, nothing), gather(acc, indices, dims)), indices, dims
        )
        tangent = (
            term if tangent is None else ew.add(scatter_mul(tangent, factors, indices, dims), term)
        )
        if r + 1 < len(rounds):
            acc = scatter_mul(acc, factors, indices, dims)
    return tangent


def _update_rounds(shape, indices, dims) -> list[np.ndarray]:
    """Boolean masks over the updates, the r-th selecting each place's r-th update; [] when no
    place is hit twice."""
    targets = np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)
    targets = targets[_index_tuple(indices, dims)]
    flat = targets.ravel()
    if flat.size == 0:
        return []
    order = np.argsort(flat, kind="stable")
    ranked = flat[order]
    position = np.arange(flat.size)
    starts = np.maximum.accumulate(np.where(np.r_[True, ranked[1:] != ranked[:-1]], position, 0))
    rank = np.empty_like(position)
    rank[order] = position - starts
    n_rounds = int(rank.max()) + 1
    if n_rounds == 1:
        return []
    rank = rank.reshape(targets.shape)
    return [rank == r for r in range(n_rounds)]


def _other_factors(x, updates, indices, dims):
    """For each update v_k landing on place p: x_p times the other updates landing on p, for
    indices known only at run time.

    Exact for every value, zeros included; its own derivatives are exact except at a zero
    update that shares its place with another update (the zero-count branches below are
    constant there)."""
    is_zero = ew.eq(updates, ew.zeros_like(updates))
    nonzero = ew.select(is_zero, ew.ones_like(updates), updates)
    # The product of each place's nonzero factors, and how many zero updates land there.
    product = gather(scatter_mul(x, nonzero, indices, dims), indices, dims)
    count = scatter_add(
        np.zeros(core.get_aval(x).shape, np.int32),
        ew.convert_element_type(is_zero, np.int32),
        indices,
        dims,
    )
    zeros_here = gather(count, indices, dims)
    none, one = ew.eq(zeros_here, np.int32(0)), ew.eq(zeros_here, np.int32(1))
    nothing = ew.zeros_like(updates)
    # v_k nonzero: the others are product / v_k if none of them is zero, else 0.
    # v_k zero: the others are product if v_k is the place's only zero, else 0.
    return ew.select(
        is_zero,
        ew.select(one, product, nothing),
        ew.select(none, ew.div(product, nonzero), nothing),
    )


def _scatter_mul_transpose(ct, x, updates, *indices, dims):
    # Linear in `x` only: each place is multiplied by a constant, so the transpose is the same.
    if is_undefined_primal(updates):
        raise NotImplementedError("scatter_mul is not linear in its updates")
    return [scatter_mul(ct, updates, indices, dims), None] + [None] * len(indices)


scatter_mul_p = define_primitive(
    "scatter_mul",
    allocates=True,
    impl=_scatter_mul_impl,
    abstract_eval=_scatter_aval,
    jvp=_scatter_mul_jvp,
    transpose=_scatter_mul_transpose,
    cost=_scatter_cost(1),
    batch=per_primitive(_scatter_batch),
    lacks={"array_api": _SCATTER_NO_ARRAY_API},
)


def scatter_mul(x: Array, updates: Array, indices: Sequence[Array], dims: Sequence[int]) -> Array:
    """A copy of `x` multiplied by `updates` at the indexed places."""
    return scatter_mul_p.bind(x, updates, *indices, dims=tuple(int(d) for d in dims))


# scatter_min / scatter_max: each place keeps the extreme of its value and of all its updates
# (repeated indices included), as JAX's.


def _scatter_extreme_impl(ufunc: np.ufunc):
    def impl(x, updates, *indices, dims):
        out = np.array(x, copy=True)
        ufunc.at(out, _index_tuple(indices, dims), updates)
        return out

    return impl


def _scatter_extreme_jvp(p: core.Primitive):
    # The tangent of a place is the mean of the tangents of the values equal to its result
    # (its own value and its updates): ties share it, as in JAX. Linear in the tangents.
    def rule(primals, tangents, *, dims):
        x, updates, *indices = primals
        ans = p.bind(x, updates, *indices, dims=dims)
        tx, tu = tangents[0], tangents[1]
        aval = core.get_aval(ans)
        if type(tx) is Zero and type(tu) is Zero:
            return ans, Zero(ad.tangent_aval(aval))
        x_hit = ew.convert_element_type(ew.eq(x, ans), aval.dtype)
        u_hit = ew.convert_element_type(ew.eq(updates, gather(ans, indices, dims)), aval.dtype)
        count = scatter_add(x_hit, u_hit, indices, dims)
        count = ew.select(ew.eq(count, 0), np.ones((), aval.dtype), count)  # NaN results
        total = scatter_add(
            ew.mul(x_hit, ad.instantiate(tx)), ew.mul(u_hit, ad.instantiate(tu)), indices, dims
        )
        return ans, ew.div(total, count)

    return rule


scatter_min_p = define_primitive(
    "scatter_min",
    allocates=True,
    impl=_scatter_extreme_impl(np.minimum),
    abstract_eval=_scatter_aval,
    cost=_scatter_cost(1),
    jvp=per_primitive(_scatter_extreme_jvp),
    batch=per_primitive(_scatter_batch),
    lacks={"array_api": _SCATTER_NO_ARRAY_API},
)
scatter_max_p = define_primitive(
    "scatter_max",
    allocates=True,
    impl=_scatter_extreme_impl(np.maximum),
    abstract_eval=_scatter_aval,
    cost=_scatter_cost(1),
    jvp=per_primitive(_scatter_extreme_jvp),
    batch=per_primitive(_scatter_batch),
    lacks={"array_api": _SCATTER_NO_ARRAY_API},
)


def scatter_min(x: Array, updates: Array, indices: Sequence[Array], dims: Sequence[int]) -> Array:
    """A copy of `x` where each indexed place holds the minimum of its value and its updates
    (all of them, when an index repeats)."""
    return scatter_min_p.bind(x, updates, *indices, dims=tuple(int(d) for d in dims))


def scatter_max(x: Array, updates: Array, indices: Sequence[Array], dims: Sequence[int]) -> Array:
    """A copy of `x` where each indexed place holds the maximum of its value and its
    updates."""
    return scatter_max_p.bind(x, updates, *indices, dims=tuple(int(d) for d in dims))
