"""Reductions of `funcdiff.numpy`: sum, mean, var, max, argmax, cumsum... with `axis` and
`keepdims`, following NumPy's dtype rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import reductions as red
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax import transcendental as tr
from funcdiff._src.numpy import ufuncs
from funcdiff._src.numpy._util import (
    Array,
    ArrayLike,
    asarray,
    aval,
    canonical_axes,
    canonical_axis,
    constant,
    promote_inexact,
)

Axis = int | Sequence[int] | None


def _ufunc_axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    """The axes of a ufunc-style reduction; like NumPy, an int axis 0 or -1 of a 0-d array
    reduces nothing."""
    if ndim == 0 and isinstance(axis, int | np.integer) and int(axis) in (0, -1):
        return ()
    return canonical_axes(axis, ndim)


def _strict_axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    """The axes of mean/var/std, which (as in NumPy) accept no axis of a 0-d array."""
    if ndim == 0 and axis is not None and (isinstance(axis, int | np.integer) or len(axis)):
        raise np.exceptions.AxisError(f"axis {axis} is out of bounds for array of dimension 0")
    return canonical_axes(axis, ndim)


def _keep(y: Array, ndim: int, axes: tuple[int, ...], keepdims: bool) -> Array:
    return sh.expand_dims(y, axes) if keepdims and axes else y


def _sum_dtype(dt: np.dtype) -> np.dtype:
    # NumPy sums booleans and small integers in the default integer type.
    if dt.kind == "b" or (dt.kind == "i" and dt.itemsize < 8):
        return np.dtype(np.int64)
    if dt.kind == "u" and dt.itemsize < 8:
        return np.dtype(np.uint64)
    return dt


def _check_out(name: str, out: Any) -> None:
    if out is not None:
        raise NotImplementedError(f"{name}: out= is not supported (funcdiff arrays are "
                                  "immutable); use the returned array")


def _masked(a: Array, where: ArrayLike | None, neutral: Any) -> Array:
    """`a` with `neutral` where the mask `where` (broadcast to `a`) is false."""
    if where is None:
        return a
    mask = sh.broadcast_to(ufuncs._to_bool(where), aval(a).shape)
    return ew.select(mask, a, np.full((), neutral, aval(a).dtype))


def _with_initial(out: Array, initial: ArrayLike | None, combine) -> Array:
    if initial is None:
        return out
    init = ew.convert_element_type(asarray(initial), aval(out).dtype)
    return combine(out, init)


def sum(  # noqa: A001
    a: ArrayLike, axis: Axis = None, dtype: Any = None, keepdims: bool = False, *,
    out: None = None, initial: ArrayLike | None = None, where: ArrayLike | None = None,
) -> Array:
    """Sum over `axis` (all axes by default), of the elements where `where` is true (if
    given), plus `initial`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        x = np.array([[1.0, 2.0], [3.0, 4.0]])
        assert jnp.sum(x, axis=0).tolist() == [4.0, 6.0]
        assert jnp.sum(x, where=x > 1.5, initial=10.0) == 19.0
        ```
    """
    _check_out("sum", out)
    a = asarray(a)
    v = aval(a)
    a = ew.convert_element_type(a, np.dtype(dtype) if dtype is not None else _sum_dtype(v.dtype))
    axes = _ufunc_axes(axis, v.ndim)
    y = red.reduce_sum(_masked(a, where, 0), axes)
    return _keep(_with_initial(y, initial, ew.add), v.ndim, axes, keepdims)


def prod(a: ArrayLike, axis: Axis = None, dtype: Any = None, keepdims: bool = False, *,
         out: None = None, initial: ArrayLike | None = None,
         where: ArrayLike | None = None) -> Array:
    """Product over `axis`, of the elements where `where` is true (if given), times
    `initial`."""
    _check_out("prod", out)
    a = asarray(a)
    v = aval(a)
    a = ew.convert_element_type(a, np.dtype(dtype) if dtype is not None else _sum_dtype(v.dtype))
    axes = _ufunc_axes(axis, v.ndim)
    y = red.reduce_prod(_masked(a, where, 1), axes)
    return _keep(_with_initial(y, initial, ew.mul), v.ndim, axes, keepdims)


def _count(v: core.ShapedArray, axes: tuple[int, ...], where: ArrayLike | None,
           dt: np.dtype) -> Any:
    """How many elements each reduction over `axes` takes: a Python number, or an array
    when a `where` mask selects them."""
    if where is None:
        return float(np.prod([v.shape[i] for i in axes], dtype=np.int64))
    mask = sh.broadcast_to(ufuncs._to_bool(where), v.shape)
    return red.reduce_sum(ew.convert_element_type(mask, dt), axes)


def mean(a: ArrayLike, axis: Axis = None, dtype: Any = None, keepdims: bool = False, *,
         out: None = None, where: ArrayLike | None = None) -> Array:
    """Arithmetic mean (integers are averaged in float64), of the elements where `where`
    is true if given."""
    _check_out("mean", out)
    a = asarray(a)
    v = aval(a)
    if dtype is not None:
        a = ew.convert_element_type(a, dtype)
    elif not dtypes.is_inexact(v.dtype):
        a = ew.convert_element_type(a, np.float64)
    elif v.weak_type and v.shape:  # a mean is strongly typed, as jnp.sum's and JAX's
        a = ew.convert_element_type(a, v.dtype)
    axes = _strict_axes(axis, v.ndim)
    n = _count(v, axes, where, aval(a).dtype)
    total = red.reduce_sum(_masked(a, where, 0), axes)
    if isinstance(n, float):
        return _keep(ew.div(total, n if n else np.nan), v.ndim, axes, keepdims)
    return _keep(ufuncs.divide(total, n), v.ndim, axes, keepdims)


def var(a: ArrayLike, axis: Axis = None, dtype: Any = None, ddof: int = 0,
        keepdims: bool = False, *, out: None = None, where: ArrayLike | None = None) -> Array:
    """Variance, ``mean(abs(a - mean(a))**2)`` with `ddof` degrees of freedom removed, of
    the elements where `where` is true if given."""
    _check_out("var", out)
    a = promote_inexact(asarray(a) if dtype is None else asarray(a, dtype))[0]
    v = aval(a)
    axes = _strict_axes(axis, v.ndim)
    centered = ew.sub(a, mean(a, axes, keepdims=True, where=where))
    if dtypes.is_complex(v.dtype):
        sq = ew.add(ew.square(ew.real(centered)), ew.square(ew.imag(centered)))
    else:
        sq = ew.square(centered)
    real_dt = aval(sq).dtype
    n = _count(v, axes, where, real_dt)
    total = red.reduce_sum(_masked(sq, where, 0), axes)
    if isinstance(n, float):
        n -= ddof
        return _keep(ew.div(total, n if n > 0 else np.nan), v.ndim, axes, keepdims)
    n = ufuncs.subtract(n, ddof)
    n = ufuncs.where(ufuncs.greater(n, 0), n, np.nan)
    return _keep(ufuncs.divide(total, n), v.ndim, axes, keepdims)


def std(a: ArrayLike, axis: Axis = None, dtype: Any = None, ddof: int = 0,
        keepdims: bool = False, *, out: None = None, where: ArrayLike | None = None) -> Array:
    """Standard deviation, the square root of `var`."""
    return tr.sqrt(var(a, axis, dtype, ddof, keepdims, out=out, where=where))


def _extremum(name: str, reduce, combine, a: ArrayLike, axis: Axis, keepdims: bool,
              out: Any, initial: ArrayLike | None, where: ArrayLike | None) -> Array:
    _check_out(name, out)
    a = asarray(a)
    v = aval(a)
    axes = _ufunc_axes(axis, v.ndim)
    if where is not None:
        if initial is None:
            raise ValueError(f"reduction operation '{name}imum' does not have an identity, so "
                             "to use a where mask one has to specify 'initial'")
        init = ew.convert_element_type(asarray(initial), v.dtype)
        a = ew.select(sh.broadcast_to(ufuncs._to_bool(where), v.shape), a,
                      sh.broadcast_to(init, v.shape))
    if initial is not None and 0 in [v.shape[i] for i in axes]:
        shape = tuple(n for i, n in enumerate(v.shape) if i not in axes)
        y = sh.broadcast_to(ew.convert_element_type(asarray(initial), v.dtype), shape)
        return _keep(y, v.ndim, axes, keepdims)
    y = reduce(a, axes)
    return _keep(_with_initial(y, initial, combine), v.ndim, axes, keepdims)


def max(a: ArrayLike, axis: Axis = None, keepdims: bool = False, *,  # noqa: A001
        out: None = None, initial: ArrayLike | None = None,
        where: ArrayLike | None = None) -> Array:
    """Maximum over `axis` (of the elements where `where` is true, which needs `initial`;
    at least `initial`); the gradient is shared equally among tied maxima."""
    return _extremum("max", red.reduce_max, ew.max, a, axis, keepdims, out, initial, where)


def min(a: ArrayLike, axis: Axis = None, keepdims: bool = False, *,  # noqa: A001
        out: None = None, initial: ArrayLike | None = None,
        where: ArrayLike | None = None) -> Array:
    """Minimum over `axis` (of the elements where `where` is true, which needs `initial`;
    at most `initial`)."""
    return _extremum("min", red.reduce_min, ew.min, a, axis, keepdims, out, initial, where)


amax = max
amin = min


def ptp(a: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Array:
    """Range of values, ``max - min``."""
    return ufuncs.subtract(max(a, axis, keepdims), min(a, axis, keepdims))


def all(a: ArrayLike, axis: Axis = None, keepdims: bool = False, *,  # noqa: A001
        out: None = None, where: ArrayLike | None = None) -> Array:
    """Whether every element (where `where` is true, if given) is nonzero."""
    _check_out("all", out)
    a = ufuncs._to_bool(a)
    axes = _ufunc_axes(axis, aval(a).ndim)
    return _keep(red.reduce_and(_masked(a, where, True), axes), aval(a).ndim, axes, keepdims)


def any(a: ArrayLike, axis: Axis = None, keepdims: bool = False, *,  # noqa: A001
        out: None = None, where: ArrayLike | None = None) -> Array:
    """Whether some element (where `where` is true, if given) is nonzero."""
    _check_out("any", out)
    a = ufuncs._to_bool(a)
    axes = _ufunc_axes(axis, aval(a).ndim)
    return _keep(red.reduce_or(_masked(a, where, False), axes), aval(a).ndim, axes, keepdims)


def count_nonzero(a: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Array:
    return sum(ufuncs._to_bool(a), axis, np.int64, keepdims)


def _arg_reduction(lax_fn, a: ArrayLike, axis: int | None, keepdims: bool) -> Array:
    a = asarray(a)
    if axis is None:
        flat = sh.reshape(a, (aval(a).size,))
        out = lax_fn(flat, 0)
        return sh.reshape(out, (1,) * aval(a).ndim) if keepdims else out
    ax = canonical_axis(axis, aval(a).ndim)
    out = lax_fn(a, ax)
    return sh.expand_dims(out, (ax,)) if keepdims else out


def argmax(a: ArrayLike, axis: int | None = None, keepdims: bool = False) -> Array:
    """Index of the first maximum (over the flattened array when `axis` is None)."""
    return _arg_reduction(red.argmax, a, axis, keepdims)


def argmin(a: ArrayLike, axis: int | None = None, keepdims: bool = False) -> Array:
    return _arg_reduction(red.argmin, a, axis, keepdims)


def cumsum(a: ArrayLike, axis: int | None = None, dtype: Any = None) -> Array:
    """Cumulative sum (over the flattened array when `axis` is None)."""
    a = asarray(a)
    a = ew.convert_element_type(a, np.dtype(dtype) if dtype is not None else
                                _sum_dtype(aval(a).dtype))
    if axis is None or aval(a).ndim == 0:
        ax = 0 if axis is None else canonical_axis(axis, aval(a).ndim)
        a = sh.reshape(a, (aval(a).size,))
        axis = ax
    return red.cumsum(a, canonical_axis(axis, aval(a).ndim))


def average(a: ArrayLike, axis: Axis = None, weights: ArrayLike | None = None,
            returned: bool = False, keepdims: bool = False) -> Any:
    """Weighted mean; `weights` broadcast against `a` (1-D weights need an int `axis`)."""
    if weights is None:
        avg = mean(a, axis, keepdims=keepdims)
        if not returned:
            return avg
        count = aval(asarray(a)).size // np.prod(aval(avg).shape or (1,)) if axis is not None \
            else aval(asarray(a)).size
        return avg, constant(aval(avg).shape, aval(avg).dtype, float(count))
    a, w = promote_inexact(a, weights)
    if aval(w).ndim == 1 and aval(a).ndim > 1:
        if not isinstance(axis, int):
            raise TypeError("1-D weights for an N-D array need an integer axis")
        ax = canonical_axis(axis, aval(a).ndim)
        w = sh.broadcast_in_dim(w, aval(a).shape, (ax,))
    w = sh.broadcast_to(w, aval(a).shape) if aval(w).shape != aval(a).shape else w
    total_w = sum(w, axis, keepdims=keepdims)
    avg = ew.div(sum(ew.mul(a, w), axis, keepdims=keepdims), total_w)
    return (avg, total_w) if returned else avg


# ---- comparisons of whole arrays ------------------------------------------------------------


def allclose(a: ArrayLike, b: ArrayLike, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> Array:
    """Whether every element is `isclose`: a 0-d boolean array (NumPy returns a Python bool,
    which a traced value cannot be)."""
    return all(ufuncs.isclose(a, b, rtol, atol, equal_nan))


def array_equal(a1: ArrayLike, a2: ArrayLike, equal_nan: bool = False) -> Array:
    """Same shape and equal elements (NaNs equal with `equal_nan`): a 0-d boolean array."""
    a1, a2 = asarray(a1), asarray(a2)
    if aval(a1).shape != aval(a2).shape:
        return constant((), bool)
    eq = ufuncs.equal(a1, a2)
    if equal_nan:
        eq = ufuncs.logical_or(eq, ufuncs.logical_and(ufuncs.isnan(a1), ufuncs.isnan(a2)))
    return all(eq)


# ---- cumulative products and NaN-ignoring reductions ----------------------------------------


def cumprod(a: ArrayLike, axis: int | None = None, dtype: Any = None) -> Array:
    """Cumulative product (over the flattened array when `axis` is None).

    Computed as products of masked copies, ``out[i] = prod(where(j <= i, a[j], 1))``, so
    zeros in `a` get exact derivatives (O(n^2) work along `axis`)."""
    a = asarray(a)
    a = ew.convert_element_type(a, np.dtype(dtype) if dtype is not None else
                                _sum_dtype(aval(a).dtype))
    if axis is None or aval(a).ndim == 0:
        ax = 0 if axis is None else canonical_axis(axis, aval(a).ndim)
        a, axis = sh.reshape(a, (aval(a).size,)), ax
    nd = aval(a).ndim
    ax = canonical_axis(axis, nd)
    n = aval(a).shape[ax]
    moved = sh.transpose(a, [i for i in range(nd) if i != ax] + [ax])
    batch = aval(moved).shape[:-1]
    square = sh.broadcast_in_dim(moved, batch + (n, n), tuple(range(nd - 1)) + (nd,))
    keep = np.broadcast_to(np.tri(n, dtype=bool), batch + (n, n))
    one = np.ones((), aval(a).dtype)
    out = red.reduce_prod(ew.select(keep, square, one), (nd,))
    back = list(range(nd - 1))
    back.insert(ax, nd - 1)
    return sh.transpose(out, back)


def _cumulative(fn, identity, x: ArrayLike, axis: int | None, dtype: Any,
                include_initial: bool) -> Array:
    x = asarray(x)
    if axis is None:
        if aval(x).ndim > 1:
            raise ValueError("axis must be given for arrays of more than one dimension")
        axis = 0
    out = fn(x, axis=axis, dtype=dtype)
    if not include_initial:
        return out
    ax = canonical_axis(axis, aval(out).ndim)
    shape = list(aval(out).shape)
    shape[ax] = 1
    first = np.full(shape, identity, aval(out).dtype)
    return sh.concatenate([first, out], ax)


def cumulative_sum(x: ArrayLike, /, *, axis: int | None = None, dtype: Any = None,
                   include_initial: bool = False) -> Array:
    """NumPy 2's `cumulative_sum`: `cumsum`, optionally starting with 0."""
    return _cumulative(cumsum, 0, x, axis, dtype, include_initial)


def cumulative_prod(x: ArrayLike, /, *, axis: int | None = None, dtype: Any = None,
                    include_initial: bool = False) -> Array:
    """NumPy 2's `cumulative_prod`: `cumprod`, optionally starting with 1."""
    return _cumulative(cumprod, 1, x, axis, dtype, include_initial)


def _replace_nan(a: Array, value: float) -> Array:
    return ufuncs.where(ufuncs.isnan(a), value, a) if dtypes.is_inexact(aval(a).dtype) else a


def nansum(a: ArrayLike, axis: Axis = None, dtype: Any = None, keepdims: bool = False, *,
           out: None = None, initial: ArrayLike | None = None,
           where: ArrayLike | None = None) -> Array:
    """`sum` treating NaN as 0."""
    return sum(_replace_nan(asarray(a), 0.0), axis, dtype, keepdims, out=out, initial=initial,
               where=where)


def nanprod(a: ArrayLike, axis: Axis = None, dtype: Any = None, keepdims: bool = False, *,
            out: None = None, initial: ArrayLike | None = None,
            where: ArrayLike | None = None) -> Array:
    """`prod` treating NaN as 1."""
    return prod(_replace_nan(asarray(a), 1.0), axis, dtype, keepdims, out=out, initial=initial,
                where=where)


def _not_nan(a: Array, where: ArrayLike | None) -> Array:
    ok = ufuncs.logical_not(ufuncs.isnan(a))
    return ok if where is None else ufuncs.logical_and(ok, where)


def nanmean(a: ArrayLike, axis: Axis = None, dtype: Any = None, keepdims: bool = False, *,
            out: None = None, where: ArrayLike | None = None) -> Array:
    """`mean` of the values that are not NaN (NaN where there are none)."""
    a = asarray(a)
    if not dtypes.is_inexact(aval(a).dtype):
        return mean(a, axis, dtype, keepdims, out=out, where=where)
    if dtype is not None:
        a = ew.convert_element_type(a, dtype)
    return mean(_replace_nan(a, 0.0), axis, None, keepdims, out=out, where=_not_nan(a, where))


def nanvar(a: ArrayLike, axis: Axis = None, dtype: Any = None, out: None = None,
           ddof: int = 0, keepdims: bool = False, *, where: ArrayLike | None = None) -> Array:
    """`var` of the values that are not NaN (NaN where fewer than ``ddof + 1`` remain).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.nanvar(np.array([1.0, np.nan, 3.0])) == 1.0
        ```
    """
    a = asarray(a)
    if not dtypes.is_inexact(aval(a).dtype):
        return var(a, axis, dtype, ddof, keepdims, out=out, where=where)
    if dtype is not None:
        a = ew.convert_element_type(a, dtype)
    return var(_replace_nan(a, 0.0), axis, None, ddof, keepdims, out=out,
               where=_not_nan(a, where))


def nanstd(a: ArrayLike, axis: Axis = None, dtype: Any = None, out: None = None,
           ddof: int = 0, keepdims: bool = False, *, where: ArrayLike | None = None) -> Array:
    """`std` of the values that are not NaN, the square root of `nanvar`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.nanstd(np.array([1.0, np.nan, 3.0])) == 1.0
        ```
    """
    return tr.sqrt(nanvar(a, axis, dtype, out, ddof, keepdims, where=where))


def nancumsum(a: ArrayLike, axis: int | None = None, dtype: Any = None,
              out: None = None) -> Array:
    """`cumsum` treating NaN as 0.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.nancumsum(np.array([1.0, np.nan, 3.0])).tolist() == [1.0, 1.0, 4.0]
        ```
    """
    _check_out("nancumsum", out)
    return cumsum(_replace_nan(asarray(a), 0.0), axis, dtype)


def nancumprod(a: ArrayLike, axis: int | None = None, dtype: Any = None,
               out: None = None) -> Array:
    """`cumprod` treating NaN as 1.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.nancumprod(np.array([2.0, np.nan, 3.0])).tolist() == [2.0, 2.0, 6.0]
        ```
    """
    _check_out("nancumprod", out)
    return cumprod(_replace_nan(asarray(a), 1.0), axis, dtype)


def _nan_arg(name: str, fn, fill: float, a: ArrayLike, axis: int | None, out: Any,
             keepdims: bool) -> Array:
    _check_out(name, out)
    a = asarray(a)
    if not dtypes.is_inexact(aval(a).dtype):
        return fn(a, axis, keepdims=keepdims)
    nan = ufuncs.isnan(a)
    all_nan = all(nan, axis, keepdims=keepdims)
    value = core.concrete_or_none(all_nan)
    if value is not None and np.any(value):
        raise ValueError("All-NaN slice encountered")
    idx = fn(ufuncs.where(nan, fill, a), axis, keepdims=keepdims)
    # Traced all-NaN slices give -1, as in JAX.
    return ufuncs.where(all_nan, -1, idx)


def nanargmax(a: ArrayLike, axis: int | None = None, out: None = None,
              keepdims: bool = False) -> Array:
    """The index of the first maximum ignoring NaNs (an all-NaN slice raises ValueError for
    concrete input and gives -1 when traced, as in JAX).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.nanargmax(np.array([1.0, np.nan, 3.0])) == 2
        ```
    """
    return _nan_arg("nanargmax", argmax, -np.inf, a, axis, out, keepdims)


def nanargmin(a: ArrayLike, axis: int | None = None, out: None = None,
              keepdims: bool = False) -> Array:
    """The index of the first minimum ignoring NaNs (see `nanargmax` for all-NaN slices).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.nanargmin(np.array([np.nan, 2.0, 1.0])) == 2
        ```
    """
    return _nan_arg("nanargmin", argmin, np.inf, a, axis, out, keepdims)


def _nan_extremum(reduce, fill: float, a: ArrayLike, axis: Axis, keepdims: bool, out: Any,
                  initial: ArrayLike | None, where: ArrayLike | None) -> Array:
    a = asarray(a)
    if not dtypes.is_inexact(aval(a).dtype):
        return reduce(a, axis, keepdims, out=out, initial=initial, where=where)
    nan = ufuncs.isnan(a)
    result = reduce(ufuncs.where(nan, fill, a), axis, keepdims, out=out, initial=initial,
                    where=where)
    if initial is not None:
        return result
    return ufuncs.where(all(nan, axis, keepdims), np.nan, result)


def nanmax(a: ArrayLike, axis: Axis = None, keepdims: bool = False, *, out: None = None,
           initial: ArrayLike | None = None, where: ArrayLike | None = None) -> Array:
    """`max` ignoring NaN (NaN where all values are NaN)."""
    return _nan_extremum(max, -np.inf, a, axis, keepdims, out, initial, where)


def nanmin(a: ArrayLike, axis: Axis = None, keepdims: bool = False, *, out: None = None,
           initial: ArrayLike | None = None, where: ArrayLike | None = None) -> Array:
    """`min` ignoring NaN (NaN where all values are NaN)."""
    return _nan_extremum(min, np.inf, a, axis, keepdims, out, initial, where)
