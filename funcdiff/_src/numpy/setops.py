"""Set operations: the `unique` family, `isin`, `intersect1d`, `union1d`, `setdiff1d` and
`setxor1d`.

Their result sizes depend on the values. Without `size=` the input must be concrete (eager
evaluation, `grad`, `jvp`); with `size=` the result has that static length, padded with
`fill_value` (by default the smallest value, as in JAX) or truncated, which works under
`jit`, `make_jaxpr` and `vmap`. The values are gathered from the input, so they carry its
derivative.
"""

from __future__ import annotations

from typing import Any, NamedTuple

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
    asarray,
    aval,
    canonical_axis,
    constant,
    strict_promote,
)
from funcdiff._src.numpy.functions import lexsort

_SIZE_HINT = ("pass size= (a static result length, padded with fill_value) to use it under "
              "jit, make_jaxpr or vmap")


def _rows_differ(a: Array, b: Array, equal_nan: bool) -> Array:
    """Whether rows `a[i]` and `b[i]` (2-d, same shape) differ anywhere."""
    ne = ufuncs.not_equal(a, b)
    if equal_nan and aval(a).dtype.kind in "fc":
        ne = ufuncs.logical_and(ne, ufuncs.logical_not(
            ufuncs.logical_and(ufuncs.isnan(a), ufuncs.isnan(b))))
    return reductions.any(ne, axis=1)


def _sorted_groups(rows: Array, mask: Array | None, equal_nan: bool
                   ) -> tuple[Array, Array, Array]:
    """Sort the rows of the 2-d `rows` lexicographically (the rows where `mask` is false
    last) and mark the first row of each run of equal ones: (perm, sorted rows, is_first)."""
    n, m = aval(rows).shape
    keys = [sh.squeeze(sh.slice(rows, (0, j), (n, j + 1)), (1,)) for j in reversed(range(m))]
    if mask is not None:
        keys.append(ufuncs.logical_not(mask))
    if not keys:
        keys = [np.zeros(n, np.int64)]
    perm = lexsort(keys) if n else constant((0,), np.int64)
    srt = np_shape.take_in_bounds(rows, perm, axis=0)
    if n == 0:
        return perm, srt, np.zeros(0, bool)
    differ = _rows_differ(sh.slice(srt, (1, 0), (n, m)), sh.slice(srt, (0, 0), (n - 1, m)),
                          equal_nan) if m else np.zeros(n - 1, bool)
    first = np_shape.concatenate([np.ones(1, bool), asarray(differ)])
    if mask is not None:
        m_sorted = np_shape.take_in_bounds(mask, perm)
        prev_out = np_shape.concatenate([np.ones(1, bool), ufuncs.logical_not(
            sh.slice(m_sorted, (0,), (n - 1,)))])
        first = ufuncs.logical_and(m_sorted, ufuncs.logical_or(first, prev_out))
    return perm, srt, first


def _result_size(first: Array, size: int | None, what: str) -> int:
    if size is not None:
        return int(size)
    count = core.concrete_or_none(reductions.sum(first))
    if count is None:
        raise errors.ConcretizationTypeError(what, ": its result size depends on the data; "
                                             + _SIZE_HINT)
    return int(count)


class _Unique(NamedTuple):
    values: Array   # rows (size, m)
    index: Array
    inverse: Array
    counts: Array


def _unique_rows(rows: Array, mask: Array | None, equal_nan: bool, size: int | None,
                 fill_value: Any, what: str) -> _Unique:
    n = aval(rows).shape[0]
    perm, srt, first = _sorted_groups(rows, mask, equal_nan)
    k = _result_size(first, size, what)
    if n == 0:
        if k and fill_value is None:
            raise ValueError(f"{what}: for zero-sized input with nonzero size, fill_value "
                             "must be specified")
        vals = constant((k, aval(rows).shape[1]), aval(rows).dtype)
        if k:
            vals = np_creation.full((k, aval(rows).shape[1]), fill_value, aval(rows).dtype)
        zeros = constant((k,), np.int64)
        return _Unique(vals, zeros, constant((0,), np.int64), zeros)
    first_i = ew.convert_element_type(first, np.int64)
    # Positions (in sorted order) of the first row of each group, in order, padded with 0.
    order = sorting.argsort(ufuncs.subtract(1, first_i))
    slots = np.arange(k)
    pos = np_shape.take_in_bounds(order, np.minimum(slots, n - 1))
    count = reductions.sum(first_i)
    valid = ufuncs.less(slots, count)
    pos = ufuncs.where(valid, pos, 0)
    vals = np_shape.take_in_bounds(srt, pos, axis=0)
    if fill_value is not None:
        fill = ew.convert_element_type(asarray(fill_value), aval(rows).dtype)
        vals = ufuncs.where(sh.expand_dims(valid, (1,)), vals, fill)
    index = np_shape.take_in_bounds(perm, pos)
    group = ufuncs.subtract(reductions.cumsum(first_i), 1)
    inverse = np_shape.take_in_bounds(group, sorting.argsort(perm))
    counts = reductions.sum(ufuncs.equal(sh.expand_dims(group, (0,)),
                                         sh.expand_dims(slots, (1,))), axis=1)
    if mask is not None:
        in_group = np_shape.take_in_bounds(mask, perm)
        counts = reductions.sum(ufuncs.logical_and(
            ufuncs.equal(sh.expand_dims(group, (0,)), sh.expand_dims(slots, (1,))),
            sh.expand_dims(in_group, (0,))), axis=1)
    return _Unique(vals, index, inverse, ew.convert_element_type(counts, np.int64))


def unique(ar: ArrayLike, return_index: bool = False, return_inverse: bool = False,
           return_counts: bool = False, axis: int | None = None, *, equal_nan: bool = True,
           size: int | None = None, fill_value: ArrayLike | None = None,
           sorted: bool = True) -> Any:  # noqa: A002
    """The sorted unique elements of `ar` (flattened), or unique slices along `axis`; with
    the indices of their first occurrences (`return_index`), the indices that rebuild `ar`
    from them (`return_inverse`) and their counts (`return_counts`). NaNs count as equal
    with `equal_nan`.

    The result size depends on the values: `ar` must be concrete unless `size` is given, in
    which case the result has `size` entries, padded with `fill_value` (default: the smallest
    value) or truncated. The values are differentiable (each carries the derivative of its
    first occurrence).

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        x = np.array([3.0, 1.0, 3.0, 2.0])
        values, counts = jnp.unique(x, return_counts=True)
        assert values.tolist() == [1.0, 2.0, 3.0] and counts.tolist() == [1, 1, 2]
        f = funcdiff.jit(lambda x: jnp.unique(x, size=5, fill_value=0.0))
        assert f(x).tolist() == [1.0, 2.0, 3.0, 0.0, 0.0]
        ```
    """
    del sorted  # the result is always sorted
    a = asarray(ar)
    if axis is None:
        shape = aval(a).shape
        rows = sh.reshape(a, (aval(a).size, 1))
        u = _unique_rows(rows, None, equal_nan, size, fill_value, "unique")
        values = sh.reshape(u.values, (aval(u.values).shape[0],))
        inverse = sh.reshape(u.inverse, shape) if aval(u.inverse).size == int(
            np.prod(shape)) else u.inverse
    else:
        nd = aval(a).ndim
        ax = canonical_axis(axis, nd)
        moved = np_shape.moveaxis(a, ax, 0)
        rest = aval(moved).shape[1:]
        rows = sh.reshape(moved, (aval(moved).shape[0], int(np.prod(rest, dtype=np.int64))))
        u = _unique_rows(rows, None, equal_nan, size, fill_value, "unique")
        values = np_shape.moveaxis(sh.reshape(u.values, (aval(u.values).shape[0], *rest)), 0,
                                   ax)
        inverse = u.inverse
    out = [values]
    if return_index:
        out.append(u.index)
    if return_inverse:
        out.append(inverse)
    if return_counts:
        out.append(u.counts)
    return out[0] if len(out) == 1 else tuple(out)


class UniqueAllResult(NamedTuple):
    values: Array
    indices: Array
    inverse_indices: Array
    counts: Array


class UniqueCountsResult(NamedTuple):
    values: Array
    counts: Array


class UniqueInverseResult(NamedTuple):
    values: Array
    inverse_indices: Array


def unique_all(x: ArrayLike, /, *, size: int | None = None,
               fill_value: ArrayLike | None = None) -> UniqueAllResult:
    """The array-API form of `unique` with everything: (values, indices, inverse_indices,
    counts); NaNs are distinct and `inverse_indices` has the shape of `x`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        r = jnp.unique_all(np.array([2, 1, 2]))
        assert r.values.tolist() == [1, 2] and r.indices.tolist() == [1, 0]
        assert r.inverse_indices.tolist() == [1, 0, 1] and r.counts.tolist() == [1, 2]
        ```
    """
    v, i, inv, c = unique(x, True, True, True, equal_nan=False, size=size,
                          fill_value=fill_value)
    return UniqueAllResult(v, i, inv, c)


def unique_counts(x: ArrayLike, /, *, size: int | None = None,
                  fill_value: ArrayLike | None = None) -> UniqueCountsResult:
    """The unique values of `x` and their counts (NaNs distinct).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        r = jnp.unique_counts(np.array([2, 1, 2]))
        assert r.values.tolist() == [1, 2] and r.counts.tolist() == [1, 2]
        ```
    """
    v, c = unique(x, return_counts=True, equal_nan=False, size=size, fill_value=fill_value)
    return UniqueCountsResult(v, c)


def unique_inverse(x: ArrayLike, /, *, size: int | None = None,
                   fill_value: ArrayLike | None = None) -> UniqueInverseResult:
    """The unique values of `x` and the indices (shaped like `x`) that rebuild `x`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        r = jnp.unique_inverse(np.array([[2, 1], [2, 3]]))
        assert r.values.tolist() == [1, 2, 3] and r.inverse_indices.tolist() == [[1, 0], [1, 2]]
        ```
    """
    v, inv = unique(x, return_inverse=True, equal_nan=False, size=size, fill_value=fill_value)
    return UniqueInverseResult(v, inv)


def unique_values(x: ArrayLike, /, *, size: int | None = None,
                  fill_value: ArrayLike | None = None) -> Array:
    """The sorted unique values of `x` (NaNs distinct).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.unique_values(np.array([3, 1, 3])).tolist() == [1, 3]
        ```
    """
    return unique(x, equal_nan=False, size=size, fill_value=fill_value)


# ---- membership and set operations on 1-d arrays --------------------------------------------


def _isin_flat(x: Array, test: Array, equal_nan: bool = False) -> Array:
    """For each element of `x`: whether it equals some element of `test`."""
    t = np_shape.ravel(test)
    if aval(t).shape[0] == 0:
        return constant(aval(x).shape, bool)
    xe = sh.expand_dims(x, (aval(x).ndim,))
    eq = ufuncs.equal(xe, t)
    if equal_nan and aval(eq).dtype.kind == "b" and (aval(x).dtype.kind in "fc"
                                                      or aval(t).dtype.kind in "fc"):
        eq = ufuncs.logical_or(eq, ufuncs.logical_and(ufuncs.isnan(xe), ufuncs.isnan(t)))
    return reductions.any(eq, axis=-1)


def isin(element: ArrayLike, test_elements: ArrayLike, assume_unique: bool = False,
         invert: bool = False, *, method: str = "auto") -> Array:
    """Whether each element of `element` is in `test_elements` (shaped like `element`;
    negated with `invert`).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.isin(np.array([1, 2, 3]), [3, 1]).tolist() == [True, False, True]
        ```
    """
    del assume_unique, method
    e = asarray(element)
    out = _isin_flat(e, asarray(test_elements))
    return ufuncs.logical_not(out) if invert else out


def _set_result(x: Array, mask: Array | None, size: int | None, fill_value: Any,
                what: str) -> _Unique:
    rows = sh.reshape(x, (aval(x).shape[0], 1))
    u = _unique_rows(rows, mask, True, size, fill_value, what)
    return u._replace(values=sh.reshape(u.values, (aval(u.values).shape[0],)))


def intersect1d(ar1: ArrayLike, ar2: ArrayLike, assume_unique: bool = False,
                return_indices: bool = False, *, size: int | None = None,
                fill_value: ArrayLike | None = None) -> Any:
    """The sorted unique values present in both arrays (flattened); with `return_indices`,
    also the indices of their first occurrences in each.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.intersect1d(np.array([1, 3, 4, 3]), np.array([3, 1, 2, 1])).tolist() == [
            1, 3]
        ```
    """
    del assume_unique
    x1 = np_shape.ravel(asarray(ar1))
    x2 = np_shape.ravel(asarray(ar2))
    x1, x2 = strict_promote(x1, x2)
    u = _set_result(x1, _isin_flat(x1, x2), size, fill_value, "intersect1d")
    if not return_indices:
        return u.values
    n2 = aval(x2).shape[0]
    if n2 == 0 or aval(u.values).shape[0] == 0:
        ind2 = constant((aval(u.values).shape[0],), np.int64)
    else:
        hits = ufuncs.equal(sh.expand_dims(u.values, (1,)), sh.expand_dims(x2, (0,)))
        ind2 = reductions.argmax(hits, axis=1)
    return u.values, u.index, ind2


def union1d(ar1: ArrayLike, ar2: ArrayLike, *, size: int | None = None,
            fill_value: ArrayLike | None = None) -> Array:
    """The sorted unique values present in either array (flattened).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.union1d(np.array([-1, 0, 1]), np.array([-2, 0, 2])).tolist() == [-2, -1, 0,
                                                                                    1, 2]
        ```
    """
    x = np_shape.concatenate([np_shape.ravel(asarray(ar1)), np_shape.ravel(asarray(ar2))])
    return _set_result(x, None, size, fill_value, "union1d").values


def setdiff1d(ar1: ArrayLike, ar2: ArrayLike, assume_unique: bool = False, *,
              size: int | None = None, fill_value: ArrayLike | None = None) -> Array:
    """The sorted unique values of `ar1` that are not in `ar2`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.setdiff1d(np.array([1, 2, 3, 2, 4, 1]), np.array([3, 4, 5, 6])).tolist() == [
            1, 2]
        ```
    """
    del assume_unique
    x1 = np_shape.ravel(asarray(ar1))
    mask = ufuncs.logical_not(_isin_flat(x1, asarray(ar2)))
    return _set_result(x1, mask, size, fill_value, "setdiff1d").values


def setxor1d(ar1: ArrayLike, ar2: ArrayLike, assume_unique: bool = False, *,
             size: int | None = None, fill_value: ArrayLike | None = None) -> Array:
    """The sorted unique values in exactly one of the two arrays (NaN, which equals nothing,
    appears once if either array has one).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.setxor1d(np.array([1, 2, 3, 2, 4]), np.array([2, 3, 5, 7, 5])).tolist() == [
            1, 4, 5, 7]
        ```
    """
    del assume_unique
    x1, x2 = np_shape.ravel(asarray(ar1)), np_shape.ravel(asarray(ar2))
    x = np_shape.concatenate([x1, x2])
    mask = ufuncs.logical_xor(_isin_flat(x, x1), _isin_flat(x, x2))
    # NaN equals nothing, so it is never in both: one NaN in the result if either array has
    # one (NumPy returns one NaN per array that has some).
    mask = ufuncs.logical_or(mask, ufuncs.isnan(x)) if aval(x).dtype.kind in "fc" else mask
    return _set_result(x, mask, size, fill_value, "setxor1d").values
