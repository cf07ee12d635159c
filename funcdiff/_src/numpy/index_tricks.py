# Over 600 lines: one block per index helper, mostly docstring and checks.
"""Index helpers and functional versions of NumPy's in-place edits: `r_`, `c_`, `ix_`,
`ravel_multi_index`, `unravel_index`, `mask_indices`, `diagflat`, `fill_diagonal`, `choose`,
`compress`, `extract`, `place`, `put`, `put_along_axis`, `delete`, `insert`, `block`,
`resize` and `trim_zeros`.

Every edit returns a new array (funcdiff arrays are immutable): the functions that edit in
place in NumPy take ``inplace=False``, as in JAX.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, errors
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import shape as sh
from funcdiff._src.numpy import creation as np_creation
from funcdiff._src.numpy import reductions, sorting, ufuncs
from funcdiff._src.numpy import shape as np_shape
from funcdiff._src.numpy._util import (
    Array,
    ArrayLike,
    as_arrays,
    asarray,
    aval,
    canonical_axis,
    constant,
    strict_promote,
)
from funcdiff._src.numpy.indexing import _IndexUpdateRef as _At

# ---- r_ and c_ ------------------------------------------------------------------------------


class _AxisConcatenator:
    """``r_[...]`` / ``c_[...]``: concatenate slices (as `arange`, or `linspace` with a
    complex step), scalars and arrays along an axis, as NumPy's index tricks do."""

    def __init__(self, axis: int, ndmin: int, trans1d: int, name: str):
        self.axis, self.ndmin, self.trans1d, self.name = axis, ndmin, trans1d, name

    def __getitem__(self, key: Any) -> Array:
        items = key if isinstance(key, tuple) else (key,)
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        if items and isinstance(items[0], str):
            directive, items = items[0], items[1:]
            if directive in ("r", "c"):
                raise NotImplementedError(f"{self.name}: the matrix directives 'r' and 'c' "
                                          "are not supported (funcdiff has no matrix class)")
            try:
                vec = [int(p) for p in directive.split(",")]
            except ValueError:
                raise ValueError(f"{self.name}: unknown special directive {directive!r}; "
                                 "use 'axis', 'axis,ndmin' or 'axis,ndmin,trans1d'") from None
            axis = vec[0]
            if len(vec) > 1:
                ndmin = vec[1]
            if len(vec) > 2:
                trans1d = vec[2]
            if len(vec) > 3:
                raise ValueError(f"{self.name}: too many values in directive {directive!r}")
        arrays = [self._item(x, ndmin, trans1d) for x in items]
        if not arrays:
            return constant((0,), np.float64)
        arrays = strict_promote(*arrays)
        return np_shape.concatenate(arrays, axis=axis)

    def _item(self, x: Any, ndmin: int, trans1d: int) -> Array:
        if isinstance(x, slice):
            start = 0 if x.start is None else x.start
            step = 1 if x.step is None else x.step
            if isinstance(step, complex):
                out = np_creation.linspace(start, x.stop, int(abs(step)))
            else:
                out = np_creation.arange(start, x.stop, step)
        else:
            out = asarray(x)
            if aval(out).ndim == 0:
                out = sh.reshape(out, (1,))
                return out if ndmin <= 1 else sh.reshape(out, (1,) * ndmin)
        nd = aval(out).ndim
        if ndmin > nd:
            # NumPy's trans1d: where the original dimensions go among the new ones.
            lead = ndmin - nd
            out = sh.reshape(out, (1,) * lead + aval(out).shape)
            if trans1d != -1:
                t = trans1d % ndmin
                order = list(range(lead, ndmin))
                order = list(range(lead))[:t] + order + list(range(lead))[t:]
                out = sh.transpose(out, tuple(order))
        return out

    def __len__(self) -> int:
        return 0


r_ = _AxisConcatenator(0, 1, -1, "r_")
c_ = _AxisConcatenator(-1, 2, 0, "c_")


# ---- index arithmetic -----------------------------------------------------------------------


def ix_(*args: ArrayLike) -> tuple[Array, ...]:
    """Open meshes from 1-d sequences, for cross-product indexing ``a[ix_(rows, cols)]``.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        a = np.arange(12).reshape(3, 4)
        assert a[jnp.ix_(np.array([0, 2]), np.array([1, 3]))].tolist() == [[1, 3], [9, 11]]
        ```
    """
    out = []
    n = len(args)
    for k, a in enumerate(args):
        a = asarray(a)
        if aval(a).ndim != 1:
            raise ValueError(f"ix_: cross index must be 1 dimensional, got shape {aval(a).shape}")
        if aval(a).dtype.kind == "b":
            a = np.nonzero(np.asarray(_concrete(a, "ix_ with a boolean mask")))[0]
        shape = [1] * n
        shape[k] = aval(asarray(a)).shape[0]
        out.append(sh.reshape(asarray(a), tuple(shape)))
    return tuple(out)


def _concrete(x: Any, what: str) -> Any:
    value = core.concrete_or_none(x)
    if value is None:
        raise errors.ConcretizationTypeError(what, ": the result size depends on the data")
    return value


def ravel_multi_index(multi_index: Sequence[ArrayLike], dims: Sequence[int],
                      mode: str = "raise", order: str = "C") -> Array:
    """The flat indices of the index tuple `multi_index` into an array of shape `dims`;
    `mode` ``"wrap"`` or ``"clip"`` brings out-of-range indices back, ``"raise"`` (concrete
    indices only) rejects them.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.ravel_multi_index((np.array([0, 1, 2]), np.array([3, 0, 1])), (3, 4)
                                     ).tolist() == [3, 4, 9]
        ```
    """
    dims = tuple(operator.index(d) for d in dims)
    if len(multi_index) != len(dims):
        raise ValueError(f"ravel_multi_index: {len(multi_index)} index arrays for "
                         f"{len(dims)} dimensions")
    if order not in ("C", "F"):
        raise ValueError(f"ravel_multi_index: order must be 'C' or 'F', got {order!r}")
    idx = [asarray(i) for i in multi_index]
    for i in idx:
        if aval(i).dtype.kind not in "iu":
            raise TypeError(f"ravel_multi_index: only int indices permitted, got "
                            f"{aval(i).dtype}")
    fixed = [ew.convert_element_type(asarray(_in_range(
        i, n, mode, "ravel_multi_index", "invalid entry in coordinates array")), np.int64)
        for i, n in zip(idx, dims)]
    strides = np.ones(len(dims), np.int64)
    order_dims = range(len(dims) - 2, -1, -1) if order == "C" else range(1, len(dims))
    for d in order_dims:
        strides[d] = strides[d + 1] * dims[d + 1] if order == "C" else (
            strides[d - 1] * dims[d - 1])
    out: Any = np.int64(0)
    for i, s in zip(fixed, strides):
        out = ufuncs.add(out, ufuncs.multiply(i, s))
    return core.unchanged(out)


def _in_range(i: Array, n: int, mode: str, name: str, message: str) -> Array:
    """Indices `i` into a length `n`, brought into range (``mode="wrap"`` or ``"clip"``) or
    checked (``"raise"``, which needs concrete indices)."""
    if mode == "wrap":
        return ufuncs.remainder(i, n)
    if mode == "clip":
        return ufuncs.clip(i, 0, n - 1)
    if mode != "raise":
        raise ValueError(f"{name}: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    value = core.concrete_or_none(i)
    if value is None:
        raise errors.ConcretizationTypeError(
            f"{name} with mode='raise'",
            ": checking the bounds needs concrete indices; use mode='wrap' or 'clip'")
    if np.any((np.asarray(value) < 0) | (np.asarray(value) >= n)):
        raise ValueError(message)
    return i


def unravel_index(indices: ArrayLike, shape: Sequence[int]) -> tuple[Array, ...]:
    """The index tuple of each flat index into an array of `shape` (row-major). As in JAX,
    out-of-range indices are clipped (NumPy raises).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        rows, cols = jnp.unravel_index(np.array([3, 4, 9]), (3, 4))
        assert rows.tolist() == [0, 1, 2] and cols.tolist() == [3, 0, 1]
        ```
    """
    idx = asarray(indices)
    if aval(idx).dtype.kind not in "iu":
        raise TypeError(f"unravel_index: only int indices permitted, got {aval(idx).dtype}")
    shape = tuple(operator.index(d) for d in shape)
    size = int(np.prod(shape, dtype=np.int64))
    idx = ew.convert_element_type(idx, np.int64)
    idx = ufuncs.clip(idx, -size, max(size - 1, 0))
    idx = ufuncs.where(ufuncs.less(idx, 0), ufuncs.add(idx, size), idx)
    out = []
    for n in reversed(shape):
        out.append(ufuncs.remainder(idx, n) if n else idx)
        idx = ufuncs.floor_divide(idx, n) if n else idx
    return tuple(reversed(out))


def mask_indices(n: int, mask_func: Callable[..., Any], k: int = 0) -> tuple[Array, Array]:
    """The indices of the nonzero entries of ``mask_func(ones((n, n)), k)`` (such as `triu`).

    !!! Example
        ```python
        import funcdiff.numpy as jnp

        rows, cols = jnp.mask_indices(3, jnp.triu, 1)
        assert rows.tolist() == [0, 0, 1] and cols.tolist() == [1, 2, 2]
        ```
    """
    m = np.asarray(_concrete(asarray(mask_func(np.ones((n, n), np.int64), k)), "mask_indices"))
    return as_arrays(np.nonzero(m))


# ---- diagonals ------------------------------------------------------------------------------


def diagflat(v: ArrayLike, k: int = 0) -> Array:
    """A 2-d array with the flattened `v` on its `k`-th diagonal.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.diagflat(np.array([[1, 2]]), 1).tolist() == [[0, 1, 0], [0, 0, 2], [0, 0, 0]]
        ```
    """
    return np_shape.diag(np_shape.ravel(asarray(v)), k)


def fill_diagonal(a: ArrayLike, val: ArrayLike, wrap: bool = False, *,
                  inplace: bool = True) -> Array:
    """A copy of `a` with its main diagonal set to `val` (repeated as needed). Call with
    ``inplace=False`` (as in JAX): funcdiff arrays cannot be edited in place.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        out = jnp.fill_diagonal(np.zeros((2, 3)), np.array([5.0, 6.0]), inplace=False)
        assert out.tolist() == [[5.0, 0.0, 0.0], [0.0, 6.0, 0.0]]
        ```
    """
    _no_inplace("fill_diagonal", inplace)
    a = asarray(a)
    shape = aval(a).shape
    if len(shape) < 2:
        raise ValueError("array must be at least 2-d")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise ValueError("All dimensions of input must be of equal length")
    if len(shape) == 2:
        n_rows, n_cols = shape
        step = n_cols + 1
        end = n_cols * n_rows if wrap else n_cols * min(n_rows, n_cols)
    else:
        step = 1 + int(np.sum(np.cumprod(shape[:-1])))
        end = int(np.prod(shape))
    flat_idx = np.arange(0, end, step, dtype=np.int64)
    flat = np_shape.ravel(a)
    values = np_shape.ravel(asarray(val))
    m, nv = flat_idx.shape[0], aval(values).shape[0]
    if nv == 0 or m == 0:
        return core.unchanged(a)
    values = np_shape.take_in_bounds(values, np.arange(m) % nv)
    values = ew.convert_element_type(values, aval(a).dtype)
    return sh.reshape(_At(flat, flat_idx).set(values), shape)


def _no_inplace(name: str, inplace: bool) -> None:
    if inplace:
        raise ValueError(f"{name}: funcdiff arrays are immutable; call it with inplace=False "
                         "and use the returned array")


# ---- choosing, compressing, placing ---------------------------------------------------------


def choose(a: ArrayLike, choices: Sequence[ArrayLike], out: None = None,
           mode: str = "raise") -> Array:
    """``choices[a[i]][i]`` elementwise (all broadcast together). `mode` ``"wrap"`` or
    ``"clip"`` brings out-of-range indices back; ``"raise"`` checks concrete indices.
    Differentiable in the choices.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        out = jnp.choose(np.array([0, 1, 1]), [np.array([1.0, 2.0, 3.0]), 10.0])
        assert out.tolist() == [1.0, 10.0, 10.0]
        ```
    """
    if out is not None:
        raise NotImplementedError("choose: out= is not supported; use the returned array")
    a = asarray(a)
    if aval(a).dtype.kind not in "iub":
        raise TypeError(f"choose: a must be an integer array, got {aval(a).dtype}")
    n = len(choices)
    a = _in_range(a, n, mode, "choose", "invalid entry in choice array")
    choices = strict_promote(*choices)
    shape = np.broadcast_shapes(aval(a).shape, *(aval(asarray(c)).shape for c in choices))
    stacked = np_shape.stack([np_shape.broadcast_to(c, shape) for c in choices])
    idx = np_shape.broadcast_to(a, shape)
    picked = np_shape.take_along_axis_in_bounds(stacked, sh.expand_dims(idx, (0,)), 0)
    return sh.squeeze(picked, (0,))


def compress(condition: ArrayLike, a: ArrayLike, axis: int | None = None, *,
             size: int | None = None, fill_value: Any = 0) -> Array:
    """The slices of `a` along `axis` (the flattened array by default) where `condition` is
    true. The result size depends on `condition`, which must be concrete unless `size` is
    given (the result is then padded with `fill_value` or truncated to `size`).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        a = np.array([[1, 2], [3, 4], [5, 6]])
        assert jnp.compress(np.array([False, True, True]), a, axis=0).tolist() == [[3, 4],
                                                                                    [5, 6]]
        ```
    """
    a = asarray(a)
    cond = np_shape.ravel(asarray(condition))
    if axis is None:
        a, axis = np_shape.ravel(a), 0
    ax = canonical_axis(axis, aval(a).ndim)
    n = aval(a).shape[ax]
    if aval(cond).shape[0] > n:
        raise ValueError(f"compress: condition of length {aval(cond).shape[0]} is longer than "
                         f"axis {ax} of length {n}")
    if size is None:
        c = np.asarray(_concrete(cond, "compress"), bool)
        return np_shape.take_in_bounds(a, np.nonzero(c)[0], axis=ax)
    # Traced condition: stable-sort the true positions first, keep `size` of them.
    cond = ew.convert_element_type(ufuncs.not_equal(cond, 0), np.int64)
    m = aval(cond).shape[0]
    if m == 0 or n == 0:
        shape = list(aval(a).shape)
        shape[ax] = size
        return np_creation.full(tuple(shape), fill_value, aval(a).dtype)

    order = sorting.argsort(ufuncs.subtract(1, cond))
    count = reductions.sum(cond)
    pos = np.arange(size)
    take = ufuncs.minimum(np_shape.take_in_bounds(order, np.minimum(pos, max(m - 1, 0))),
                          max(n - 1, 0))
    picked = np_shape.take_in_bounds(a, take, axis=ax)
    valid = ufuncs.less(pos, count)
    shape = [1] * aval(picked).ndim
    shape[ax] = size
    return ufuncs.where(sh.reshape(valid, tuple(shape)), picked, fill_value)


def extract(condition: ArrayLike, arr: ArrayLike, *, size: int | None = None,
            fill_value: Any = 0) -> Array:
    """The elements of the flattened `arr` where the flattened `condition` is nonzero
    (`compress` on flattened arrays).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        a = np.arange(6).reshape(2, 3)
        assert jnp.extract(a % 2 == 0, a).tolist() == [0, 2, 4]
        ```
    """
    return compress(np_shape.ravel(asarray(condition)), np_shape.ravel(asarray(arr)),
                    size=size, fill_value=fill_value)


def place(arr: ArrayLike, mask: ArrayLike, vals: ArrayLike, *, inplace: bool = True) -> Array:
    """A copy of `arr` whose entries where `mask` is true take the values `vals` in order
    (repeated as needed). The mask must be concrete; call with ``inplace=False``.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        out = jnp.place(np.zeros(4), np.array([1, 0, 1, 1]), np.array([7.0, 8.0]),
                        inplace=False)
        assert out.tolist() == [7.0, 0.0, 8.0, 7.0]
        ```
    """
    _no_inplace("place", inplace)
    arr = asarray(arr)
    m = np.asarray(_concrete(asarray(mask), "place"), bool).ravel()
    where = np.nonzero(m)[0]
    vals = np_shape.ravel(asarray(vals))
    if where.size == 0:
        return core.unchanged(arr)
    if aval(vals).shape[0] == 0:
        raise ValueError("Cannot insert from an empty array!")
    vals = np_shape.take_in_bounds(vals, np.arange(where.size) % aval(vals).shape[0])
    flat = _At(np_shape.ravel(arr), where).set(vals)
    return sh.reshape(flat, aval(arr).shape)


def put(a: ArrayLike, ind: ArrayLike, v: ArrayLike, mode: str | None = None, *,
        inplace: bool = True) -> Array:
    """A copy of `a` with the flat positions `ind` set to `v` (repeated as needed); `mode`
    ``"clip"`` or ``"wrap"`` for out-of-range indices. Call with ``inplace=False``.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        out = jnp.put(np.zeros(5), np.array([0, 2]), np.array([-1.0, -2.0]), inplace=False)
        assert out.tolist() == [-1.0, 0.0, -2.0, 0.0, 0.0]
        ```
    """
    _no_inplace("put", inplace)
    a = asarray(a)
    size = aval(a).size
    ind = np_shape.ravel(asarray(ind))
    if aval(ind).dtype.kind not in "iu":
        raise TypeError(f"put: indices must be integers, got {aval(ind).dtype}")
    if mode == "clip":
        ind = ufuncs.clip(ind, 0, size - 1)
    elif mode == "wrap":
        ind = ufuncs.remainder(ind, size)
    elif mode not in (None, "raise"):
        raise ValueError(f"put: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    v = np_shape.ravel(asarray(v))
    k = aval(ind).shape[0]
    if k == 0:
        return core.unchanged(a)
    v = np_shape.take_in_bounds(v, np.arange(k) % aval(v).shape[0])
    flat = _At(np_shape.ravel(a), ind).set(v)
    return sh.reshape(flat, aval(a).shape)


def put_along_axis(arr: ArrayLike, indices: ArrayLike, values: ArrayLike, axis: int | None,
                   inplace: bool = True, *, mode: str | None = None) -> Array:
    """A copy of `arr` with ``out[..., indices[..., j], ...] = values`` along `axis` (the
    inverse of `take_along_axis`). Call with ``inplace=False``. Differentiable in `arr` and
    `values`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        a = np.zeros((2, 3))
        out = jnp.put_along_axis(a, np.array([[2], [0]]), 1.0, axis=1, inplace=False)
        assert out.tolist() == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
        ```
    """
    del mode
    _no_inplace("put_along_axis", inplace)
    a = asarray(arr)
    idx = asarray(indices)
    if axis is None:
        flat = np_shape.ravel(a)
        return sh.reshape(put(flat, idx, values, inplace=False), aval(a).shape)
    nd = aval(a).ndim
    ax = canonical_axis(axis, nd)
    if aval(idx).ndim != nd:
        raise ValueError("put_along_axis: indices and arr must have the same number of "
                         "dimensions")
    full = np.broadcast_shapes(aval(idx).shape, tuple(
        1 if d == ax else n for d, n in enumerate(aval(a).shape)))
    idx = np_shape.broadcast_to(idx, full)
    idx = ufuncs.where(ufuncs.less(idx, 0), ufuncs.add(idx, aval(a).shape[ax]), idx)
    index = tuple(idx if d == ax else np.arange(n).reshape([n if e == d else 1
                                                            for e in range(nd)])
                  for d, n in enumerate(full))
    vals = np_shape.broadcast_to(ew.convert_element_type(asarray(values), aval(a).dtype), full)
    return _At(a, index).set(vals)


# ---- inserting and deleting -----------------------------------------------------------------


def _static_indices(obj: Any, n: int, name: str) -> np.ndarray:
    if isinstance(obj, slice):
        return np.arange(n)[obj]
    value = core.concrete_or_none(asarray(obj))
    if value is None:
        raise errors.ConcretizationTypeError(f"{name} with traced indices",
                                             ": the result size depends on them")
    value = np.asarray(value)
    return value.astype(np.int64) if value.size == 0 else value


def delete(arr: ArrayLike, obj: Any, axis: int | None = None, *,
           assume_unique_indices: bool = False) -> Array:
    """`arr` without the entries `obj` (an index, a slice, a list of indices or a boolean
    mask, concrete) along `axis` (the flattened array by default).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.delete(np.arange(5), [0, 3]).tolist() == [1, 2, 4]
        ```
    """
    del assume_unique_indices
    a = asarray(arr)
    if axis is None:
        a, axis = np_shape.ravel(a), 0
    ax = canonical_axis(axis, aval(a).ndim)
    n = aval(a).shape[ax]
    idx = _static_indices(obj, n, "delete")
    keep = np.delete(np.arange(n), idx)
    return np_shape.take_in_bounds(a, keep, axis=ax)


def insert(arr: ArrayLike, obj: Any, values: ArrayLike, axis: int | None = None) -> Array:
    """`arr` with `values` inserted before the (concrete) indices `obj` along `axis` (the
    flattened array by default), as NumPy's ``insert``. Differentiable in `arr` and `values`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.insert(np.array([1.0, 2.0, 3.0]), 1, 9.0).tolist() == [1.0, 9.0, 2.0, 3.0]
        ```
    """
    a = asarray(arr)
    if axis is None:
        a, axis = np_shape.ravel(a), 0
    nd = aval(a).ndim
    ax = canonical_axis(axis, nd)
    n = aval(a).shape[ax]
    scalar = not isinstance(obj, slice) and np.ndim(core.concrete_or_none(asarray(obj))) == 0
    idx = _static_indices(obj, n, "insert")
    if idx.dtype.kind == "b":
        raise TypeError("insert: obj must be integer indices or a slice, not a boolean mask")
    idx = np.where(idx < 0, idx + n, idx).astype(np.int64)
    if np.any((idx < 0) | (idx > n)):
        raise IndexError(f"index {obj} is out of bounds for axis {ax} with size {n}")
    v = ew.convert_element_type(asarray(values), aval(a).dtype)
    # NumPy's rule: one index inserts `values` as a block (its first axis moved to `axis`
    # for a scalar index); several indices take one slot each, `values` broadcast to them.
    slot = list(aval(a).shape)
    if idx.size == 1:
        vnd = aval(v).ndim
        v = sh.reshape(v, (1,) * (nd - vnd) + aval(v).shape) if vnd < nd else v
        if scalar:
            v = np_shape.moveaxis(v, 0, ax)
        slot[ax] = aval(v).shape[ax]
        idx = np.full(slot[ax], idx.item(), np.int64)
    else:
        idx = idx.ravel()
        slot[ax] = idx.shape[0]
    v = np_shape.broadcast_to(v, tuple(slot))
    k = idx.shape[0]
    order = np.argsort(idx, kind="stable")
    new_pos = idx[order] + np.arange(k)
    v = np_shape.take_in_bounds(v, order, axis=ax)
    old_pos = np.delete(np.arange(n + k), new_pos)
    together = np_shape.concatenate([a, v], axis=ax)
    source = np.empty(n + k, np.int64)
    source[old_pos] = np.arange(n)
    source[new_pos] = n + np.arange(k)
    return np_shape.take_in_bounds(together, source, axis=ax)


def block(arrays: Any) -> Array:
    """Assemble an array from nested lists of blocks: the innermost lists are concatenated
    along the last axis, the next ones along the second-to-last, and so on.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        out = jnp.block([[np.eye(2), np.zeros((2, 1))], [np.ones((1, 2)), np.full((1, 1), 5.0)]])
        assert out.shape == (3, 3) and out[2, 2] == 5.0
        ```
    """
    if isinstance(arrays, tuple):
        raise TypeError("block: arrays is a tuple; only lists can be used to arrange blocks")
    depth, max_nd = _block_depth(arrays)
    return _block(arrays, depth, max(max_nd, depth), 0)


def _block_depth(x: Any) -> tuple[int, int]:
    if isinstance(x, list):
        if not x:
            raise ValueError("block: lists cannot be empty")
        parts = [_block_depth(e) for e in x]
        depths = {p[0] for p in parts}
        if len(depths) != 1:
            raise ValueError("block: list depths are mismatched")
        return parts[0][0] + 1, max(p[1] for p in parts)
    if isinstance(x, tuple):
        raise TypeError("block: tuples are not allowed inside the nested lists")
    return 0, aval(asarray(x)).ndim


def _block(x: Any, depth: int, nd: int, level: int) -> Array:
    if level == depth:
        a = asarray(x)
        return sh.reshape(a, (1,) * (nd - aval(a).ndim) + aval(a).shape)
    parts = [_block(e, depth, nd, level + 1) for e in x]
    return np_shape.concatenate(parts, axis=-(depth - level))


def resize(a: ArrayLike, new_shape: int | Sequence[int]) -> Array:
    """An array of `new_shape` filled with the flattened `a`, repeated as needed.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.resize(np.array([1, 2, 3]), (2, 4)).tolist() == [[1, 2, 3, 1], [2, 3, 1, 2]]
        ```
    """
    a = np_shape.ravel(asarray(a))
    shape = (new_shape,) if isinstance(new_shape, int) else tuple(new_shape)
    if any(d < 0 for d in shape):
        raise ValueError("all elements of `new_shape` must be non-negative")
    total = int(np.prod(shape, dtype=np.int64))
    n = aval(a).shape[0]
    if n == 0 or total == 0:
        return constant(shape, aval(a).dtype)
    return sh.reshape(np_shape.take_in_bounds(a, np.arange(total) % n), shape)


def trim_zeros(filt: ArrayLike, trim: str = "fb") -> Array:
    """The 1-d `filt` without its leading (``"f"`` in `trim`) and trailing (``"b"``) zeros.
    The result size depends on the values, which must be concrete.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.trim_zeros(np.array([0, 0, 1, 2, 0])).tolist() == [1, 2]
        assert jnp.trim_zeros(np.array([0, 1, 0]), "b").tolist() == [0, 1]
        ```
    """
    f = asarray(filt)
    if aval(f).ndim != 1:
        raise ValueError(f"trim_zeros: filt must be 1-d, got shape {aval(f).shape}")
    nz = np.nonzero(np.asarray(_concrete(ufuncs.not_equal(f, 0), "trim_zeros")))[0]
    n = aval(f).shape[0]
    if nz.size == 0:
        return np_shape.take_in_bounds(f, np.arange(0))
    lo = int(nz[0]) if "f" in trim.lower() else 0
    hi = int(nz[-1]) + 1 if "b" in trim.lower() else n
    return np_shape.take_in_bounds(f, np.arange(lo, hi))

