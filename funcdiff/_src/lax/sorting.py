"""Sorting along one dimension: `sort` (differentiable) and `argsort` (no derivative).

Both follow NumPy's stable sort: equal elements keep their order and NaNs go last. With
`descending`, the order is reversed, NaNs first, and `argsort` still keeps equal elements in
their original order (as JAX does).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.core import ShapedArray
from funcdiff._src.errors import PrimitiveError
from funcdiff._src.interpreters import ad
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters.ad import Zero
from funcdiff._src.lax import indexing as ix
from funcdiff._src.lax import shape
from funcdiff._src.lax._define import check_kinds, define_primitive
from funcdiff._src.lax.structural import moveaxis

Array = Any


def _check_dimension(x: ShapedArray, dimension: int) -> None:
    check_kinds([x], "biufc")  # complex numbers sort lexicographically, as in NumPy and JAX
    if not 0 <= dimension < x.ndim:
        raise PrimitiveError(f"invalid dimension {dimension} for an array of rank {x.ndim}")


def _sort_cost(avals_in, avals_out, *, dimension, descending):
    # A comparison sort: about n log2(n) comparisons per sorted run of length n.
    (x,) = avals_in
    n = x.shape[dimension]
    runs = x.size // n if n else 0
    flops = runs * n * max(math.ceil(math.log2(n)), 1) if n > 1 else 0
    moved = cost_mod.io_bytes(avals_in, avals_out)
    return cost_mod.Cost(flops, 0, moved.bytes_read, moved.bytes_written)


def take_along(x: Array, indices: Array, dimension: int) -> Array:
    """``x`` gathered along `dimension` at `indices` (of `x`'s shape), as
    `numpy.take_along_axis`; differentiable and batchable as `gather` is."""
    shape = core.get_aval(x).shape
    index_arrays = []
    for d, n in enumerate(shape):
        if d == dimension:
            index_arrays.append(indices)
        else:
            index_arrays.append(
                np.arange(n).reshape([n if e == d else 1 for e in range(len(shape))])
            )
    return ix.gather(x, index_arrays, range(len(shape)))


# ---- argsort (no derivative) ----------------------------------------------------------------


def _argsort_impl(x, *, dimension, descending):
    x = np.asarray(x)
    if not descending:
        return np.argsort(x, axis=dimension, kind="stable").astype(np.int64)
    # The ascending order of the reversed array, read backwards and mapped back: equal elements
    # keep their original order.
    n = x.shape[dimension]
    rev = np.argsort(np.flip(x, dimension), axis=dimension, kind="stable")
    return (n - 1 - np.flip(rev, dimension)).astype(np.int64)


def _argsort_aval(x: ShapedArray, *, dimension, descending) -> ShapedArray:
    _check_dimension(x, dimension)
    return ShapedArray(x.shape, np.dtype(np.int64))


def _argsort_batch(axis_size, vals, dims, *, dimension, descending):
    (x,), (d,) = vals, dims
    return argsort(moveaxis(x, d, 0), dimension + 1, descending), 0


argsort_p = define_primitive(
    "argsort",
    allocates=True,
    impl=_argsort_impl,
    abstract_eval=_argsort_aval,
    batch=_argsort_batch,
    nondifferentiable=True,
    cost=_sort_cost,
)


def argsort(x: Array, dimension: int = -1, descending: bool = False) -> Array:
    """The int64 indices that sort `x` along `dimension` (stable; NaNs last, or first when
    `descending`)."""
    ndim = core.get_aval(x).ndim
    return argsort_p.bind(x, dimension=int(dimension) % max(ndim, 1), descending=bool(descending))


# ---- sort -----------------------------------------------------------------------------------


def _sort_impl(x, *, dimension, descending):
    out = np.sort(x, axis=dimension, kind="stable")
    return np.flip(out, dimension) if descending else out


def _sort_aval(x: ShapedArray, *, dimension, descending) -> ShapedArray:
    _check_dimension(x, dimension)
    return x


def _sort_jvp(primals, tangents, *, dimension, descending):
    # The tangent moves with its element: gather it by the sorting permutation.
    (x,), (t,) = primals, tangents
    ans = sort_p.bind(x, dimension=dimension, descending=descending)
    if type(t) is Zero:
        return ans, Zero(ad.tangent_aval(core.get_aval(ans)))
    # As JAX, a descending sort is the ascending one reversed, so equal elements arrive in
    # reverse order of position (argsort's descending order keeps them in order instead).
    perm = argsort(x, dimension)
    if descending:
        perm = shape.rev(perm, (dimension,))
    return ans, take_along(t, perm, dimension)


def _sort_batch(axis_size, vals, dims, *, dimension, descending):
    (x,), (d,) = vals, dims
    return sort(moveaxis(x, d, 0), dimension + 1, descending), 0


sort_p = define_primitive(
    "sort",
    allocates=True,
    impl=_sort_impl,
    abstract_eval=_sort_aval,
    jvp=_sort_jvp,
    batch=_sort_batch,
    cost=_sort_cost,
)


def sort(x: Array, dimension: int = -1, descending: bool = False) -> Array:
    """`x` sorted along `dimension` (NaNs last, or first when `descending`). The derivative
    follows each element to its sorted place."""
    ndim = core.get_aval(x).ndim
    return sort_p.bind(x, dimension=int(dimension) % max(ndim, 1), descending=bool(descending))
