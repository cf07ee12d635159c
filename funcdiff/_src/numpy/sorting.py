"""Sorting and order statistics of `funcdiff.numpy`: sort, argsort, median, quantile and
percentile.

The order statistics sort the reduced elements into one trailing axis and read (or linearly
interpolate) their values there, so their derivatives flow to the elements they read, through
`sort`'s derivative.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from funcdiff._src.core import Tracer
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import reductions as red
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax import sorting as lax_sorting
from funcdiff._src.numpy._util import (
    Array,
    ArrayLike,
    asarray,
    aval,
    canonical_axes,
    canonical_axis,
    promote_inexact,
)

Axis = int | Sequence[int] | None


def _along(a: Array, axis: int | None) -> tuple[Array, int]:
    """`a` and the axis to sort it along (the flattened array when `axis` is None)."""
    if axis is None:
        return sh.reshape(a, (aval(a).size,)), 0
    if aval(a).ndim == 0:  # unlike reductions, NumPy sorts no axis of a 0-d array
        raise np.exceptions.AxisError(f"axis {axis} is out of bounds for array of dimension 0")
    return a, canonical_axis(axis, aval(a).ndim)


def _check_out(name: str, out: Any) -> None:
    if out is not None:
        raise NotImplementedError(f"{name}: out= is not supported (funcdiff arrays are "
                                  "immutable); use the returned array")


def sort(a: ArrayLike, axis: int | None = -1, *, stable: bool = True,
         descending: bool = False) -> Array:
    """`a` sorted along `axis` (the flattened array when `axis` is None), NaNs last.

    The sort is always stable (`stable` is accepted for compatibility with `jax.numpy`);
    `descending` reverses the order (NaNs first). The derivative moves each element's
    tangent to the element's sorted place.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        x = np.array([3.0, 1.0, 2.0])
        assert jnp.sort(x).tolist() == [1.0, 2.0, 3.0]
        # d/dx of the largest element is one at its position.
        assert funcdiff.grad(lambda x: jnp.sort(x)[-1])(x).tolist() == [1.0, 0.0, 0.0]
        ```
    """
    del stable
    a, ax = _along(asarray(a), axis)
    return lax_sorting.sort(a, ax, descending)


def argsort(a: ArrayLike, axis: int | None = -1, *, stable: bool = True,
            descending: bool = False) -> Array:
    """The int64 indices that sort `a` along `axis` (the flattened array when `axis` is
    None), as NumPy's stable sort: equal elements keep their order and NaNs go last.

    `descending` reverses the order while keeping equal elements in their original order.
    The result is an integer array: it has no derivative.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        x = np.array([3.0, 1.0, 2.0, 1.0])
        assert jnp.argsort(x).tolist() == [1, 3, 2, 0]
        assert jnp.argsort(x, descending=True).tolist() == [0, 2, 1, 3]
        ```
    """
    del stable
    a = asarray(a)
    if aval(a).ndim == 0 and axis is not None:  # NumPy gives the indices of a 1-element array
        axis = canonical_axis(axis, 0)
        a = sh.reshape(a, (1,))
    a, ax = _along(a, axis)
    return lax_sorting.argsort(a, ax, descending)


# ---- order statistics -----------------------------------------------------------------------


def _sorted_last(a: Array, axes: tuple[int, ...]) -> Array:
    """`a` with the `axes` moved last, flattened into one axis, and sorted along it."""
    nd = aval(a).ndim
    kept = [d for d in range(nd) if d not in axes]
    moved = sh.transpose(a, kept + sorted(axes)) if nd else a
    shape = tuple(aval(a).shape[d] for d in kept)
    n = int(np.prod([aval(a).shape[d] for d in axes], dtype=np.int64))
    return lax_sorting.sort(sh.reshape(moved, shape + (n,)), len(shape))


def _nan_where_nan(values: Array, srt: Array) -> Array:
    """`values` (of shape ``rest + q_shape``), NaN where the sorted slice has a NaN (it sorts
    last), as NumPy's median and quantile give."""
    *rest, n = aval(srt).shape
    rest = tuple(rest)
    last = sh.slice(srt, (0,) * len(rest) + (n - 1,), rest + (n,))
    has_nan = ew.ne(last, last)  # shape rest + (1,)
    has_nan = sh.broadcast_in_dim(sh.reshape(has_nan, rest), aval(values).shape,
                                  tuple(range(len(rest))))
    return ew.select(has_nan, np.full((), np.nan, aval(values).dtype), values)


def _finish(out: Array, axes: tuple[int, ...], q_ndim: int, keepdims: bool) -> Array:
    """Move `q`'s dimensions (last in `out`) first, and keep the reduced ones if asked."""
    rest_ndim = aval(out).ndim - q_ndim
    if q_ndim:
        out = sh.transpose(out, list(range(rest_ndim, rest_ndim + q_ndim)) +
                           list(range(rest_ndim)))
    if keepdims and axes:
        out = sh.expand_dims(out, tuple(q_ndim + d for d in sorted(axes)))
    return out


def _empty_result(a: Array, axes: tuple[int, ...], q_shape: tuple[int, ...],
                  keepdims: bool) -> Array:
    rest = tuple(n for d, n in enumerate(aval(a).shape) if d not in axes)
    out = np.full(rest + q_shape, np.nan, aval(a).dtype)
    return _finish(out, axes, len(q_shape), keepdims)


def median(a: ArrayLike, axis: Axis = None, out: Any = None, overwrite_input: bool = False,
           keepdims: bool = False) -> Array:
    """The median over `axis` (all axes by default): the middle element of the sorted values,
    or the mean of the two middle ones. NaN where a reduced slice contains NaN; integers give
    float64.

    The derivative is one at the middle element, or one half at each of the two middle ones.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        x = np.array([4.0, 1.0, 3.0, 2.0])
        assert jnp.median(x) == 2.5
        assert funcdiff.grad(jnp.median)(x).tolist() == [0.0, 0.0, 0.5, 0.5]
        ```
    """
    del overwrite_input  # the input is never overwritten
    _check_out("median", out)
    (a,) = promote_inexact(asarray(a))
    a = asarray(a)
    nd = aval(a).ndim
    axes = canonical_axes(axis, nd)
    n = int(np.prod([aval(a).shape[d] for d in axes], dtype=np.int64))
    if n == 0:
        return _empty_result(a, axes, (), keepdims)
    srt = _sorted_last(a, axes)
    rest = aval(srt).shape[:-1]

    def element(i: int) -> Array:
        piece = sh.slice(srt, (0,) * len(rest) + (i,), rest + (i + 1,))
        return sh.reshape(piece, rest)

    lo, hi = (n - 1) // 2, n // 2
    result = element(lo) if lo == hi else ew.div(ew.add(element(lo), element(hi)),
                                              np.full((), 2, aval(a).dtype))
    return _finish(_nan_where_nan(result, srt), axes, 0, keepdims)


# NumPy's quantile methods. Discrete ones pick one sorted element; continuous ones
# interpolate between the two around a "virtual index" (Hyndman and Fan's alpha and beta).
_CONTINUOUS = {
    "linear": None, "interpolated_inverted_cdf": (0.0, 1.0), "hazen": (0.5, 0.5),
    "weibull": (0.0, 0.0), "median_unbiased": (1 / 3, 1 / 3),
    "normal_unbiased": (3 / 8, 3 / 8), "averaged_inverted_cdf": None, "midpoint": None,
}
_DISCRETE = ("inverted_cdf", "closest_observation", "lower", "higher", "nearest")
QUANTILE_METHODS = tuple(_CONTINUOUS) + _DISCRETE


def _virtual_index(method: str, n: Array, q: Array) -> tuple[Array, Array | None]:
    """The (possibly fractional) index into the sorted values for `q` with `n` values, and
    the interpolation weight (None for discrete methods, whose index is whole)."""
    floor, ceil = ew.floor, ew.ceil
    one = np.ones((), aval(q).dtype)
    if method in ("inverted_cdf", "closest_observation"):
        v = ew.sub(ew.mul(n, q), one if method == "inverted_cdf" else 1.5 * one)
        prev = floor(v)
        exact = ew.eq(v, prev)
        if method == "closest_observation":
            odd = ew.eq(ew.sub(prev, ew.mul(2.0 * one, floor(ew.mul(0.5 * one, prev)))), one)
            exact = ew.bitwise_and(exact, odd)
        return ew.select(exact, prev, ew.add(prev, one)), None
    lin = ew.mul(ew.sub(n, one), q)
    if method == "lower":
        return floor(lin), None
    if method == "higher":
        return ceil(lin), None
    if method == "nearest":
        return ew.round(lin), None
    if method == "midpoint":
        v = ew.mul(0.5 * one, ew.add(floor(lin), ceil(lin)))
        return v, ew.select(ew.eq(v, floor(v)), 0.0 * one, 0.5 * one)
    if method == "averaged_inverted_cdf":
        v = ew.sub(ew.mul(n, q), one)
        return v, ew.select(ew.eq(v, floor(v)), 0.5 * one, one)
    if method == "linear":
        return lin, ew.sub(lin, floor(lin))
    alpha, beta = _CONTINUOUS[method]
    v = ew.add(ew.mul(n, q), ew.sub(ew.add(alpha * one, ew.mul(q, (1 - alpha - beta) * one)),
                                    one))
    return v, ew.sub(v, floor(v))


def _read_quantile(srt: Array, q: Array, count: Array, method: str) -> Array:
    """The `method` quantiles `q` (shape ``q_shape``) of each row of the sorted `srt` (shape
    ``rest + (n,)``) whose first `count` values (shape ``rest`` or a scalar) are valid.
    Result shape ``rest + q_shape``."""
    *rest, n = aval(srt).shape
    rest = tuple(rest)
    dt = aval(srt).dtype
    q_shape = aval(q).shape
    qb = sh.broadcast_in_dim(q, rest + q_shape, tuple(range(len(rest), len(rest) + len(q_shape))))
    cnt = asarray(count)
    cb = sh.broadcast_in_dim(ew.convert_element_type(cnt, dt), rest + q_shape,
                             tuple(range(aval(cnt).ndim)))
    v, gamma = _virtual_index(method, cb, qb)
    zero, last = np.zeros((), dt), ew.sub(cb, np.ones((), dt))
    last = ew.max(last, zero)
    below_f = ew.clamp(zero, ew.floor(v), last) if gamma is not None else ew.max(
        ew.min(v, last), zero)
    flat = rest + (int(np.prod(q_shape, dtype=np.int64)),)

    def gather(index_f: Array) -> Array:
        idx = sh.reshape(ew.convert_element_type(index_f, np.int64), flat)
        return sh.reshape(lax_sorting.take_along(srt, idx, len(rest)), rest + q_shape)

    below = gather(below_f)
    if gamma is None:
        return below
    above_f = ew.min(ew.add(below_f, np.ones((), dt)), last)
    # Outside the valid range both neighbours are the end value (as NumPy's _get_indexes).
    above_f = ew.select(ew.bitwise_or(ew.ge(v, last), ew.lt(v, zero)), below_f, above_f)
    above = gather(above_f)
    diff = ew.sub(above, below)
    one = np.ones((), dt)
    near_below = ew.add(below, ew.mul(diff, gamma))
    near_above = ew.sub(above, ew.mul(diff, ew.sub(one, gamma)))
    return ew.select(ew.ge(gamma, np.full((), 0.5, dt)), near_above, near_below)


def _quantile(a: ArrayLike, q: ArrayLike, axis: Axis, keepdims: bool, method: str,
              name: str, scale: float, ignore_nan: bool = False) -> Array:
    if method not in QUANTILE_METHODS:
        raise ValueError(f"{name}: method={method!r} is not one of {', '.join(QUANTILE_METHODS)}")
    in_dtype = aval(asarray(a)).dtype
    if method in _DISCRETE and in_dtype.kind in "iu":
        # NumPy: the methods that pick one element keep an integer input's dtype.
        out = _quantile(ew.convert_element_type(asarray(a), np.float64), q, axis, keepdims,
                        method, name, scale, ignore_nan)
        return ew.convert_element_type(out, in_dtype)
    a, q = promote_inexact(asarray(a), asarray(q))
    a, q = asarray(a), asarray(q)
    q_shape = aval(q).shape
    if len(q_shape) > 1:
        raise ValueError(f"{name}: q must be a scalar or a 1-d array, got shape {q_shape}")
    if not isinstance(q, Tracer):
        q_values = np.asarray(q)
        if np.any((q_values < 0) | (q_values > scale)) or np.any(np.isnan(q_values)):
            what = "Percentiles" if "percentile" in name else "Quantiles"
            raise ValueError(f"{what} must be in the range [0, {scale:g}]")
    if scale != 1:
        q = ew.div(q, np.full((), scale, aval(q).dtype))
    nd = aval(a).ndim
    axes = canonical_axes(axis, nd)
    n = int(np.prod([aval(a).shape[d] for d in axes], dtype=np.int64))
    if n == 0:
        return _empty_result(a, axes, q_shape, keepdims)
    srt = _sorted_last(a, axes)
    if ignore_nan:
        # NaNs sort last: count the others in each row and read only those.
        valid = ew.bitwise_not(ew.ne(srt, srt))
        count = red.reduce_sum(ew.convert_element_type(valid, np.int64),
                               (aval(srt).ndim - 1,))
        out = _read_quantile(srt, q, count, method)
        empty = sh.broadcast_in_dim(ew.eq(count, np.int64(0)), aval(out).shape,
                                    tuple(range(aval(count).ndim)))
        out = ew.select(empty, np.full((), np.nan, aval(out).dtype), out)
        return _finish(out, axes, len(q_shape), keepdims)
    out = _read_quantile(srt, q, np.int64(n), method)
    return _finish(_nan_where_nan(out, srt), axes, len(q_shape), keepdims)


def quantile(a: ArrayLike, q: ArrayLike, axis: Axis = None, out: Any = None,
             overwrite_input: bool = False, method: str = "linear",
             keepdims: bool = False) -> Array:
    """The `q`-th quantiles (``0 <= q <= 1``, a scalar or 1-d array) over `axis` (all axes by
    default). `method` is any of NumPy's: the default ``"linear"`` reads index
    ``q * (n - 1)`` of the sorted values, linearly interpolated; ``"lower"``, ``"higher"``,
    ``"nearest"``, ``"inverted_cdf"`` and ``"closest_observation"`` pick one value;
    ``"midpoint"``, ``"averaged_inverted_cdf"``, ``"interpolated_inverted_cdf"``,
    ``"hazen"``, ``"weibull"``, ``"median_unbiased"`` and ``"normal_unbiased"``
    interpolate. The dimensions of `q` come first in the result. NaN where a reduced slice
    contains NaN.

    Differentiable in `a` (through the two neighbouring sorted values) and in `q`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        x = np.array([1.0, 4.0, 2.0, 3.0])
        assert np.allclose(jnp.quantile(x, np.array([0.0, 0.5, 0.75])), [1.0, 2.5, 3.25])
        assert np.allclose(funcdiff.grad(jnp.quantile)(x, 0.75), [0.0, 0.25, 0.0, 0.75])
        ```
    """
    del overwrite_input  # the input is never overwritten
    _check_out("quantile", out)
    return _quantile(a, q, axis, keepdims, method, "quantile", 1.0)


def percentile(a: ArrayLike, q: ArrayLike, axis: Axis = None, out: Any = None,
             overwrite_input: bool = False, method: str = "linear",
             keepdims: bool = False) -> Array:
    """`quantile` with `q` in percent (``0 <= q <= 100``).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        x = np.array([[1.0, 4.0], [2.0, 3.0]])
        assert np.allclose(jnp.percentile(x, 25.0, axis=1), [1.75, 2.25])
        ```
    """
    del overwrite_input  # the input is never overwritten
    _check_out("percentile", out)
    return _quantile(a, q, axis, keepdims, method, "percentile", 100.0)



def nanquantile(a: ArrayLike, q: ArrayLike, axis: Axis = None, out: Any = None,
                overwrite_input: bool = False, method: str = "linear",
                keepdims: bool = False) -> Array:
    """`quantile` ignoring NaNs: each slice's quantile of its values that are not NaN (NaN
    for a slice of NaNs only). Differentiable as `quantile`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        x = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]])
        assert jnp.nanquantile(x, 0.5, axis=1).tolist() == [2.0, 5.0]
        ```
    """
    del overwrite_input
    _check_out("nanquantile", out)
    return _quantile(a, q, axis, keepdims, method, "nanquantile", 1.0, ignore_nan=True)


def nanpercentile(a: ArrayLike, q: ArrayLike, axis: Axis = None, out: Any = None,
                  overwrite_input: bool = False, method: str = "linear",
                  keepdims: bool = False) -> Array:
    """`percentile` ignoring NaNs (`nanquantile` with `q` in percent).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.nanpercentile(np.array([1.0, np.nan, 3.0]), 50.0) == 2.0
        ```
    """
    del overwrite_input
    _check_out("nanpercentile", out)
    return _quantile(a, q, axis, keepdims, method, "nanpercentile", 100.0, ignore_nan=True)


def nanmedian(a: ArrayLike, axis: Axis = None, out: Any = None, overwrite_input: bool = False,
              keepdims: bool = False) -> Array:
    """`median` ignoring NaNs (NaN for a slice of NaNs only).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.nanmedian(np.array([4.0, np.nan, 1.0, 3.0])) == 3.0
        ```
    """
    del overwrite_input
    _check_out("nanmedian", out)
    return _quantile(a, 0.5, axis, keepdims, "linear", "nanmedian", 1.0, ignore_nan=True)
