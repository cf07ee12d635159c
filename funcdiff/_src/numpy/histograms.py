"""Binning and lookup: `searchsorted`, `digitize`, `bincount`, the `histogram` family and
`interp`.

Bin indices and counts are integers (no derivative). Weighted counts are differentiable in
the weights, `interp` in all of `x`, `xp` and `fp`, and histogram bin edges in `range` and
explicit edges.
"""

from __future__ import annotations

import builtins
import operator
from collections.abc import Sequence
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
    asarray,
    aval,
    constant,
    promote,
    promote_inexact,
)

# ---- searching sorted arrays ----------------------------------------------------------------


def searchsorted(a: ArrayLike, v: ArrayLike, side: str = "left", sorter: ArrayLike | None = None,
                 *, method: str = "compare_all") -> Array:
    """Where `v` would be inserted into the sorted 1-d `a` to keep it sorted: the number of
    elements of `a` less than (``side="left"``) or not greater than (``side="right"``) each
    value, as int64 (NaNs sort last). `sorter` sorts an unsorted `a`. `method` is accepted for
    JAX compatibility (every element is compared; no derivative).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        a = np.array([1.0, 2.0, 2.0, 5.0])
        assert jnp.searchsorted(a, np.array([2.0, 3.0, 9.0])).tolist() == [1, 3, 4]
        assert jnp.searchsorted(a, 2.0, side="right") == 3
        ```
    """
    del method
    a, v = asarray(a), asarray(v)
    if aval(a).ndim != 1:
        raise ValueError(f"searchsorted: a must be 1-d, got shape {aval(a).shape}")
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    if sorter is not None:
        a = np_shape.take_in_bounds(a, asarray(sorter))
    a, v = promote(a, v)
    a, v = asarray(a), asarray(v)
    ve = sh.expand_dims(v, (aval(v).ndim,))
    # NaN sorts last: it is "greater" than every number, and equal to other NaNs.
    if aval(a).dtype.kind in "fc" or aval(v).dtype.kind in "fc":
        a_nan, v_nan = ufuncs.isnan(a), ufuncs.isnan(ve)
        if side == "left":
            before = ufuncs.logical_or(ufuncs.less(a, ve), ufuncs.logical_and(
                ufuncs.logical_not(a_nan), v_nan))
        else:
            before = ufuncs.logical_or(ufuncs.less_equal(a, ve), v_nan)
    else:
        before = ufuncs.less(a, ve) if side == "left" else ufuncs.less_equal(a, ve)
    return reductions.sum(before, axis=-1, dtype=np.int64)


def digitize(x: ArrayLike, bins: ArrayLike, right: bool = False, *,
             method: str | None = None) -> Array:
    """The index of the bin of each value of `x`, for monotonically increasing or decreasing
    1-d `bins` (NumPy's convention: ``bins[i-1] <= x < bins[i]``, or ``<``/``<=`` swapped with
    `right`).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        bins = np.array([0.0, 1.0, 2.5])
        assert jnp.digitize(np.array([-1.0, 0.0, 2.0, 3.0]), bins).tolist() == [0, 1, 2, 3]
        ```
    """
    del method
    x, b = asarray(x), asarray(bins)
    if aval(b).ndim != 1:
        raise ValueError(f"digitize: bins must be 1-d, got shape {aval(b).shape}")
    n = aval(b).shape[0]
    if n == 0:
        return constant(aval(x).shape, np.int64)
    side = "left" if right else "right"
    bv = core.concrete_or_none(b)
    if bv is not None:
        bv = np.asarray(bv)
        d = np.diff(bv)
        if not (np.all(d >= 0) or np.all(d <= 0)):
            raise ValueError("bins must be monotonically increasing or decreasing")
        decreasing = n > 1 and bool(bv[0] > bv[-1])
    else:
        first, last = (sh.squeeze(sh.slice(b, (i,), (i + 1,)), (0,)) for i in (0, n - 1))
        decreasing = None
        dec = ufuncs.greater(first, last)
    if decreasing is None:
        inc_idx = searchsorted(b, x, side=side)
        dec_idx = ufuncs.subtract(n, searchsorted(np_shape.flip(b), x, side=side))
        return ufuncs.where(dec, dec_idx, inc_idx)
    if decreasing:
        return ufuncs.subtract(n, searchsorted(np_shape.flip(b), x, side=side))
    return searchsorted(b, x, side=side)


# ---- counting -------------------------------------------------------------------------------


def bincount(x: ArrayLike, weights: ArrayLike | None = None, minlength: int = 0, *,
             length: int | None = None) -> Array:
    """How many times each value ``0, 1, ...`` occurs in the non-negative integer 1-d `x`
    (or the sum of `weights` at those places). The result has ``max(x) + 1`` entries (at
    least `minlength`), which needs a concrete `x`, or exactly `length` (values beyond it are
    dropped), which works under `jit`. Differentiable in `weights`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        x = np.array([0, 1, 1, 3])
        assert jnp.bincount(x).tolist() == [1, 2, 0, 1]
        assert jnp.bincount(x, length=2).tolist() == [1, 2]
        w = np.array([0.5, 1.0, 2.0, 4.0])
        assert funcdiff.grad(lambda w: jnp.bincount(x, w)[1])(w).tolist() == [0, 1, 1, 0]
        ```
    """
    x = asarray(x)
    if aval(x).ndim != 1:
        raise ValueError(f"bincount: x must be 1-d, got shape {aval(x).shape}")
    if aval(x).dtype.kind not in "biu":
        raise TypeError(f"bincount: x must be an integer array, got {aval(x).dtype}")
    minlength = operator.index(minlength)
    if minlength < 0:
        raise ValueError("'minlength' must not be negative")
    xv = core.concrete_or_none(x)
    if xv is not None and np.size(xv) and np.min(xv) < 0:
        raise ValueError("'list' argument must have no negative elements")
    if length is None:
        if xv is None:
            raise errors.ConcretizationTypeError(
                "bincount", ": its result length depends on max(x); pass length= (static) to "
                "use it under jit, make_jaxpr or vmap")
        length = max(int(np.max(xv)) + 1 if np.size(xv) else 0, minlength)
    length = operator.index(length)
    hits = ufuncs.equal(sh.expand_dims(x, (1,)), np.arange(length))
    if weights is None:
        return reductions.sum(hits, axis=0, dtype=np.int64)
    w = asarray(weights)
    if aval(w).shape != aval(x).shape:
        raise ValueError(f"bincount: weights of shape {aval(w).shape} do not match x of shape "
                         f"{aval(x).shape}")
    (w,) = promote_inexact(w)
    if aval(w).dtype.kind == "f" and aval(w).dtype != np.float64:
        w = ew.convert_element_type(w, np.float64)
    return reductions.sum(ufuncs.where(hits, sh.expand_dims(w, (1,)), 0.0), axis=0)


# ---- histograms -----------------------------------------------------------------------------


def _range_of(a: Array, range_: Any) -> tuple[Any, Any]:
    if range_ is not None:
        lo, hi = range_
        lv, hv = core.concrete_or_none(asarray(lo)), core.concrete_or_none(asarray(hi))
        if lv is not None and hv is not None and lv > hv:
            raise ValueError("max must be larger than min in range parameter.")
        return lo, hi
    if aval(a).size == 0:
        return 0.0, 1.0
    return reductions.min(a), reductions.max(a)


def histogram_bin_edges(a: ArrayLike, bins: int | ArrayLike = 10, range: Any = None,  # noqa: A002
                        weights: ArrayLike | None = None) -> Array:
    """The edges of the bins `histogram` would use: `bins` equal-width bins over `range`
    (default: the data's minimum to maximum, widened by 0.5 either side when they are equal),
    or the given edges.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        edges = jnp.histogram_bin_edges(np.array([0.0, 1.0, 4.0]), bins=4)
        assert edges.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
        ```
    """
    del weights
    a = np_shape.ravel(asarray(a))
    if isinstance(bins, str):
        raise NotImplementedError(f"histogram: bins={bins!r} (an estimator name) is not "
                                  "supported; pass a number of bins or the edges")
    if np.ndim(bins) == 1 or isinstance(bins, core.Tracer):
        (edges,) = promote_inexact(asarray(bins))
        ev = core.concrete_or_none(edges)
        if ev is not None and np.any(np.diff(np.asarray(ev)) < 0):
            raise ValueError("`bins` must increase monotonically, when an array")
        return core.unchanged(edges)
    n = operator.index(bins)
    if n < 1:
        raise ValueError("`bins` must be positive, when an integer")
    (a,) = promote_inexact(a)
    lo, hi = _range_of(a, range)
    lo, hi = promote_inexact(asarray(lo), asarray(hi))
    same = ufuncs.equal(lo, hi)
    lo = ufuncs.where(same, ufuncs.subtract(lo, 0.5), lo)
    hi = ufuncs.where(same, ufuncs.add(hi, 0.5), hi)
    edges = np_creation.linspace(lo, hi, n + 1)
    dt = aval(a).dtype if aval(a).dtype.kind == "f" else np.dtype(np.float64)
    return ew.convert_element_type(edges, dt) if aval(edges).dtype != dt else edges


def _bin_index(a: Array, edges: Array) -> Array:
    """The bin (0 .. nbins-1) of each value for increasing `edges`; the last bin includes its
    right edge; values outside get -1."""
    nb = aval(edges).shape[0] - 1
    idx = ufuncs.subtract(searchsorted(edges, a, side="right"), 1)
    last = sh.squeeze(sh.slice(edges, (nb,), (nb + 1,)), (0,))
    idx = ufuncs.where(ufuncs.equal(a, last), nb - 1, idx)
    inside = ufuncs.logical_and(ufuncs.greater_equal(idx, 0), ufuncs.less(idx, nb))
    return ufuncs.where(inside, idx, -1)


def histogram(a: ArrayLike, bins: int | ArrayLike = 10, range: Any = None,  # noqa: A002
              weights: ArrayLike | None = None, density: bool | None = None
              ) -> tuple[Array, Array]:
    """The histogram of the flattened `a`: (counts, or summed `weights`, or densities with
    `density`; the bin edges). Each bin is half-open ``[left, right)`` except the last,
    which includes its right edge; values outside the edges are not counted. Differentiable
    in `weights` and, through the normalisation with `density`, in the edges.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        counts, edges = jnp.histogram(np.array([0.0, 0.5, 1.0, 4.0]), bins=4)
        assert counts.tolist() == [2, 1, 0, 1] and edges.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
        ```
    """
    a = np_shape.ravel(asarray(a))
    edges = histogram_bin_edges(a, bins, range)
    nb = aval(edges).shape[0] - 1
    idx = _bin_index(a, edges)
    hits = ufuncs.equal(sh.expand_dims(idx, (1,)), np.arange(nb))
    if weights is None:
        counts: Any = reductions.sum(hits, axis=0, dtype=np.int64)
    else:
        w = np_shape.ravel(asarray(weights))
        if aval(w).shape != aval(a).shape:
            raise ValueError("weights should have the same shape as a.")
        counts = reductions.sum(ufuncs.where(hits, sh.expand_dims(w, (1,)), 0), axis=0)
    if density:
        widths = np_shape.diff(edges)
        total = reductions.sum(counts)
        counts = ufuncs.divide(ufuncs.divide(counts, total), widths)
    return counts, edges


def histogram2d(x: ArrayLike, y: ArrayLike, bins: Any = 10, range: Any = None,  # noqa: A002
                density: bool | None = None, weights: ArrayLike | None = None
                ) -> tuple[Array, Array, Array]:
    """The 2-d histogram of the points ``(x[i], y[i])``: (counts, x edges, y edges). `bins`
    is a number or edges for both axes, or a pair of them.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        h, xe, ye = jnp.histogram2d(np.array([0.0, 1.0, 1.0]), np.array([0.0, 0.0, 1.0]),
                                    bins=2)
        assert h.tolist() == [[1, 0], [1, 1]]
        ```
    """
    x, y = asarray(x), asarray(y)
    if isinstance(bins, int) or np.ndim(bins) == 1 and not isinstance(bins, list | tuple):
        bins = [bins, bins]
    elif isinstance(bins, list | tuple) and len(bins) != 2:
        bins = [np.asarray(bins), np.asarray(bins)]
    h, edges = histogramdd(np_shape.stack([x, y], axis=-1), bins, range, density, weights)
    return h, edges[0], edges[1]


def histogramdd(sample: ArrayLike, bins: Any = 10, range: Any = None,  # noqa: A002
                density: bool | None = None, weights: ArrayLike | None = None
                ) -> tuple[Array, list[Array]]:
    """The D-dimensional histogram of the ``(N, D)`` points `sample`: (counts, list of the
    D edge arrays). `bins` is a number or edges for every axis, or one per axis; `range` one
    ``(min, max)`` pair per axis.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        h, edges = jnp.histogramdd(np.array([[0.0, 0.0], [1.0, 1.0]]), bins=2)
        assert h.tolist() == [[1, 0], [0, 1]] and len(edges) == 2
        ```
    """
    s = asarray(sample)
    if aval(s).ndim == 1:
        s = sh.expand_dims(s, (1,))
    if aval(s).ndim != 2:
        raise ValueError(f"histogramdd: sample must be (N, D), got shape {aval(s).shape}")
    n, d = aval(s).shape
    if isinstance(bins, int) or (np.ndim(bins) == 0 and not isinstance(bins, list | tuple)):
        per_axis: Sequence[Any] = [bins] * d
    else:
        per_axis = list(bins)
        if len(per_axis) != d:
            raise ValueError("The dimension of bins must be equal to the dimension of the "
                             "sample x.")
    ranges = [None] * d if range is None else list(range)
    if len(ranges) != d:
        raise ValueError("range argument must have one entry per dimension")
    edges, flat, sizes = [], None, []
    for k in builtins.range(d):
        col = sh.squeeze(sh.slice(s, (0, k), (n, k + 1)), (1,))
        e = histogram_bin_edges(col, per_axis[k], ranges[k])
        edges.append(e)
        nb = aval(e).shape[0] - 1
        sizes.append(nb)
        idx = _bin_index(col, e)
        flat = idx if flat is None else ufuncs.where(
            ufuncs.logical_or(ufuncs.less(flat, 0), ufuncs.less(idx, 0)), -1,
            ufuncs.add(ufuncs.multiply(flat, nb), idx))
    total = int(np.prod(sizes))
    hits = ufuncs.equal(sh.expand_dims(flat, (1,)), np.arange(total))
    if weights is None:
        counts: Any = reductions.sum(hits, axis=0, dtype=np.int64)
    else:
        w = asarray(weights)
        counts = reductions.sum(ufuncs.where(hits, sh.expand_dims(w, (1,)), 0), axis=0)
    counts = sh.reshape(counts, tuple(sizes))
    if density:
        total_count = reductions.sum(counts)
        vol: Any = 1.0
        for k, e in enumerate(edges):
            shape = [1] * d
            shape[k] = sizes[k]
            vol = ufuncs.multiply(vol, sh.reshape(np_shape.diff(e), tuple(shape)))
        counts = ufuncs.divide(ufuncs.divide(counts, total_count), vol)
    elif weights is None:
        counts = ew.convert_element_type(counts, np.float64)
    return counts, edges



# ---- interpolation --------------------------------------------------------------------------


def interp(x: ArrayLike, xp: ArrayLike, fp: ArrayLike, left: ArrayLike | None = None,
           right: ArrayLike | None = None, period: ArrayLike | None = None) -> Array:
    """Piecewise-linear interpolation of the points ``(xp, fp)`` (`xp` increasing) at `x`;
    `left`/`right` (default ``fp[0]``/``fp[-1]``) outside, or with `period` the data is
    periodic. Differentiable in `x`, `xp` and `fp`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        xp, fp = np.array([0.0, 1.0, 3.0]), np.array([0.0, 2.0, 3.0])
        assert jnp.interp(np.array([-1.0, 0.5, 2.0, 9.0]), xp, fp).tolist() == [0.0, 1.0, 2.5,
                                                                                 3.0]
        assert funcdiff.grad(jnp.interp)(2.0, xp, fp) == 0.5
        ```
    """
    x, xp, fp = asarray(x), asarray(xp), asarray(fp)
    if aval(xp).ndim != 1 or aval(fp).ndim != 1:
        raise ValueError("Data points must be 1-D sequences")
    if aval(xp).shape[0] != aval(fp).shape[0]:
        raise ValueError("fp and xp are not of the same length.")
    if aval(xp).shape[0] == 0:
        raise ValueError("array of sample points is empty")
    complex_fp = aval(fp).dtype.kind == "c"
    if aval(x).dtype.kind == "c" or aval(xp).dtype.kind == "c":
        raise TypeError("interp: x and xp must be real")
    (x, xp) = promote_inexact(x, xp)
    (fp,) = promote_inexact(fp)
    if period is not None:
        if core.concrete_or_none(asarray(period)) is not None and np.asarray(
                core.concrete_or_none(asarray(period))) == 0:
            raise ValueError("period must be a non-zero value")
        period = ufuncs.abs(asarray(period))
        left = right = None
        x = ufuncs.remainder(x, period)
        xp = ufuncs.remainder(xp, period)

        order = sorting.argsort(xp)
        xp, fp = np_shape.take_in_bounds(xp, order), np_shape.take_in_bounds(fp, order)
        m = aval(xp).shape[0]
        xp = np_shape.concatenate([ufuncs.subtract(sh.slice(xp, (m - 1,), (m,)), period), xp,
                                   ufuncs.add(sh.slice(xp, (0,), (1,)), period)])
        fp = np_shape.concatenate([sh.slice(fp, (m - 1,), (m,)), fp, sh.slice(fp, (0,), (1,))])
    m = aval(xp).shape[0]
    if m == 1:
        i = np.zeros(aval(x).shape, np.int64)
        inner = np_shape.broadcast_to(np_shape.take_in_bounds(fp, i), aval(x).shape)
    else:
        i = ufuncs.clip(ufuncs.subtract(searchsorted(xp, x, side="right"), 1), 0, m - 2)
        x0, x1 = np_shape.take_in_bounds(xp, i), np_shape.take_in_bounds(xp, ufuncs.add(i, 1))
        f0, f1 = np_shape.take_in_bounds(fp, i), np_shape.take_in_bounds(fp, ufuncs.add(i, 1))
        dx = ufuncs.subtract(x1, x0)
        safe = ufuncs.where(ufuncs.equal(dx, 0), 1.0, dx)
        t = ufuncs.divide(ufuncs.subtract(x, x0), safe)
        inner = ufuncs.add(f0, ufuncs.multiply(t, ufuncs.subtract(f1, f0)))
        # At a repeated sample point NumPy takes the right value.
        inner = ufuncs.where(ufuncs.equal(dx, 0), f1, inner)
        inner = ufuncs.where(ufuncs.equal(x, x1), f1, inner)
    first_x = sh.squeeze(sh.slice(xp, (0,), (1,)), (0,))
    last_x = sh.squeeze(sh.slice(xp, (m - 1,), (m,)), (0,))
    lo = sh.squeeze(sh.slice(fp, (0,), (1,)), (0,)) if left is None else asarray(left)
    hi = sh.squeeze(sh.slice(fp, (m - 1,), (m,)), (0,)) if right is None else asarray(right)
    out = ufuncs.where(ufuncs.less(x, first_x), lo, inner)
    out = ufuncs.where(ufuncs.greater(x, last_x), hi, out)
    dt = aval(fp).dtype if complex_fp or aval(fp).dtype.kind == "f" else np.dtype(np.float64)
    if aval(x).dtype == np.float32 and aval(fp).dtype == np.float32:
        dt = np.dtype(np.float32)
    out = asarray(out)
    return ew.convert_element_type(out, dt) if aval(out).dtype != dt else core.unchanged(out)
