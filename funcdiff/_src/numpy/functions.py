"""Composite NumPy functions: axis helpers (`rollaxis`), partial sorts (`partition`,
`argpartition`, `lexsort`, `sort_complex`), finite differences (`gradient`, `ediff1d`,
`unwrap`), statistics (`cov`, `corrcoef`), products (`matvec`, `vecmat`), `array_equiv` and
`einsum_path`. Applying functions (`vectorize`...) is in `vectorize.py`; `geomspace` and the
window functions are in `windows.py`.

All are built from other `funcdiff.numpy` functions, so every transformation applies.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import shape as sh
from funcdiff._src.numpy import linalg, reductions, sorting, ufuncs
from funcdiff._src.numpy import shape as np_shape
from funcdiff._src.numpy._util import (
    Array,
    ArrayLike,
    asarray,
    aval,
    canonical_axis,
    constant,
    promote_inexact,
)

# ---- axes and partial sorts -----------------------------------------------------------------


def rollaxis(a: ArrayLike, axis: int, start: int = 0) -> Array:
    """Move `axis` so that it comes before position `start` (NumPy's older form of
    `moveaxis`).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.rollaxis(np.ones((3, 4, 5)), 2).shape == (5, 3, 4)
        assert jnp.rollaxis(np.ones((3, 4, 5)), 0, 2).shape == (4, 3, 5)
        ```
    """
    a = asarray(a)
    nd = aval(a).ndim
    axis = canonical_axis(axis, nd)
    if not -nd <= start <= nd:
        raise np.exceptions.AxisError(f"rollaxis: start {start} is out of bounds for an array "
                                      f"of dimension {nd}")
    start = start + nd if start < 0 else start
    if axis < start:
        start -= 1
    if axis == start:
        return core.unchanged(a)
    return np_shape.moveaxis(a, axis, start)


def _kth_check(a: Array, kth: int, axis: int, name: str) -> int:
    n = aval(a).shape[canonical_axis(axis, aval(a).ndim)]
    kth = int(kth)
    if not -n <= kth < n:
        raise ValueError(f"{name}: kth(={kth}) out of bounds ({n})")
    return kth


def partition(a: ArrayLike, kth: int, axis: int = -1) -> Array:
    """`a` rearranged along `axis` so that the element at position `kth` is the one a sort
    would put there, with no larger element before it and no smaller one after. funcdiff
    returns the fully sorted array, which satisfies this (NumPy's order inside the two parts
    is unspecified, and JAX's differs too). Differentiable as `sort`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        out = jnp.partition(np.array([5.0, 1.0, 4.0, 2.0]), 1)
        assert out[1] == 2.0 and max(out[:1]) <= 2.0 <= min(out[2:])
        ```
    """
    a = asarray(a)
    if aval(a).ndim == 0:
        raise ValueError("partition: a 0-d array cannot be partitioned")
    _kth_check(a, kth, axis, "partition")
    return sorting.sort(a, axis)


def argpartition(a: ArrayLike, kth: int, axis: int = -1) -> Array:
    """Indices that partition `a` along `axis` around position `kth` (see `partition`:
    funcdiff returns the indices of a stable sort, which are such indices).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        x = np.array([5.0, 1.0, 4.0, 2.0])
        idx = jnp.argpartition(x, 1)
        assert x[idx[1]] == 2.0
        ```
    """
    a = asarray(a)
    if aval(a).ndim == 0:
        raise ValueError("argpartition: a 0-d array cannot be partitioned")
    _kth_check(a, kth, axis, "argpartition")
    return sorting.argsort(a, axis)


def lexsort(keys: Sequence[ArrayLike] | ArrayLike, axis: int = -1) -> Array:
    """The indices that sort by several keys: the last key is the primary one, ties are
    broken by the one before, and so on (stable).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        surname = np.array([2, 1, 2, 1])
        first = np.array([0, 1, 1, 0])
        assert jnp.lexsort((first, surname)).tolist() == [3, 1, 0, 2]
        ```
    """
    if not isinstance(keys, list | tuple):
        keys = asarray(keys)
        if aval(keys).ndim == 0:
            raise TypeError("lexsort: need a sequence of keys with len > 0")
        keys = [sh.squeeze(np_shape.take_in_bounds(keys, np.array([i]), axis=0), (0,))
                for i in range(aval(keys).shape[0])]
    keys = [asarray(k) for k in keys]
    if not keys:
        raise TypeError("lexsort: need a sequence of keys with len > 0")
    shapes = {aval(k).shape for k in keys}
    if len(shapes) != 1:
        raise ValueError(f"lexsort: all keys need to be the same shape, got {sorted(shapes)}")
    nd = aval(keys[0]).ndim
    if nd == 0:
        return constant((), np.int64)
    ax = canonical_axis(axis, nd)
    order = sorting.argsort(keys[0], ax)
    for k in keys[1:]:
        k_sorted = np_shape.take_along_axis_in_bounds(k, order, ax)
        order = np_shape.take_along_axis_in_bounds(order, sorting.argsort(k_sorted, ax), ax)
    return order


def sort_complex(a: ArrayLike) -> Array:
    """`a` sorted along its last axis by real part, then imaginary part, as complex numbers.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        out = jnp.sort_complex(np.array([1 + 2j, 1 - 1j, 0 + 5j]))
        assert out.tolist() == [5j, 1 - 1j, 1 + 2j]
        ```
    """
    a = asarray(a)
    dt = aval(a).dtype
    if dt.kind != "c":
        # NumPy: small integers sort as complex64, everything else as complex128.
        dt = np.dtype(np.complex64) if dt.kind in "iu" and dt.itemsize <= 2 \
            else np.dtype(np.complex128)
        a = ew.convert_element_type(a, dt)
    if aval(a).ndim == 0:
        return core.unchanged(a)
    order = lexsort((ufuncs.imag(a), ufuncs.real(a)), axis=-1)
    return np_shape.take_along_axis_in_bounds(a, order, -1)


# ---- finite differences ---------------------------------------------------------------------


def _slice_axis(a: Array, axis: int, lo: int, hi: int) -> Array:
    shape = aval(a).shape
    start = [0] * len(shape)
    limit = list(shape)
    start[axis], limit[axis] = lo, hi
    return sh.slice(a, start, limit)


def gradient(f: ArrayLike, *varargs: ArrayLike, axis: int | Sequence[int] | None = None,
             edge_order: int = 1) -> Array | list[Array]:
    """The gradient of the sampled function `f` by second-order central differences inside
    and first- or second-order (`edge_order`) one-sided differences at the edges, as NumPy.
    `varargs` gives the spacing: one scalar for all axes, or per axis a scalar or the sample
    coordinates. One array per axis (a list), or one array for a single axis.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.gradient(np.array([1.0, 2.0, 4.0, 7.0])).tolist() == [1.0, 1.5, 2.5, 3.0]
        gx, gy = jnp.gradient(np.array([[1.0, 2.0], [4.0, 8.0]]))
        assert gx.tolist() == [[3.0, 6.0], [3.0, 6.0]]
        ```
    """
    f = asarray(f)
    (f,) = promote_inexact(f)
    nd = aval(f).ndim
    axes = list(range(nd)) if axis is None else [
        canonical_axis(int(x), nd) for x in ((axis,) if np.ndim(axis) == 0 else axis)]
    if len(varargs) == 0:
        spacing: list[Any] = [1.0] * len(axes)
    elif len(varargs) == 1 and aval(asarray(varargs[0])).ndim == 0:
        spacing = [varargs[0]] * len(axes)
    elif len(varargs) == len(axes):
        spacing = list(varargs)
    else:
        raise TypeError(f"gradient: invalid number of spacing arguments ({len(varargs)}) for "
                        f"{len(axes)} axes")
    if edge_order not in (1, 2):
        raise ValueError("'edge_order' greater than 2 not supported")
    out = []
    for ax, d in zip(axes, spacing):
        out.append(_gradient_along(f, ax, asarray(d), edge_order))
    return out[0] if len(out) == 1 else out


def _bshape(v: Array, nd: int, ax: int) -> Array:
    shape = [1] * nd
    shape[ax] = aval(v).shape[0]
    return sh.reshape(v, tuple(shape))


def _gradient_along(f: Array, ax: int, d: Array, edge_order: int) -> Array:
    n = aval(f).shape[ax]
    nd = aval(f).ndim
    if n < edge_order + 1:
        raise ValueError("Shape of array too small to calculate a numerical gradient, at least "
                         "(edge_order + 1) elements are required.")
    (d,) = promote_inexact(d)
    part = functools.partial(_slice_axis, f, ax)
    if aval(d).ndim == 0:
        interior = ufuncs.divide(ufuncs.subtract(part(2, n), part(0, n - 2)),
                                 ufuncs.multiply(2.0, d))
        if edge_order == 1:
            first = ufuncs.divide(ufuncs.subtract(part(1, 2), part(0, 1)), d)
            last = ufuncs.divide(ufuncs.subtract(part(n - 1, n), part(n - 2, n - 1)), d)
        else:
            first = ufuncs.divide(ufuncs.add(ufuncs.add(ufuncs.multiply(-1.5, part(0, 1)),
                                                        ufuncs.multiply(2.0, part(1, 2))),
                                             ufuncs.multiply(-0.5, part(2, 3))), d)
            last = ufuncs.divide(ufuncs.add(ufuncs.add(ufuncs.multiply(0.5, part(n - 3, n - 2)),
                                                       ufuncs.multiply(-2.0, part(n - 2, n - 1))),
                                            ufuncs.multiply(1.5, part(n - 1, n))), d)
        return np_shape.concatenate([first, interior, last], axis=ax)
    if aval(d).ndim != 1 or aval(d).shape[0] != n:
        raise ValueError("when 1d, distances must match the length of the corresponding "
                         "dimension")
    dx = np_shape.diff(d)
    dx1 = _bshape(_slice_axis(dx, 0, 0, n - 2), nd, ax)
    dx2 = _bshape(_slice_axis(dx, 0, 1, n - 1), nd, ax)
    # Second-order accurate weights for uneven spacing.
    den = ufuncs.multiply(ufuncs.multiply(dx1, dx2), ufuncs.add(dx1, dx2))
    a = ufuncs.divide(ufuncs.negative(ufuncs.multiply(dx2, dx2)), den)
    b = ufuncs.divide(ufuncs.subtract(ufuncs.multiply(dx2, dx2), ufuncs.multiply(dx1, dx1)),
                      den)
    c = ufuncs.divide(ufuncs.multiply(dx1, dx1), den)
    interior = ufuncs.add(ufuncs.add(ufuncs.multiply(a, part(0, n - 2)),
                                     ufuncs.multiply(b, part(1, n - 1))),
                          ufuncs.multiply(c, part(2, n)))
    dxs = [_bshape(_slice_axis(dx, 0, i, i + 1), nd, ax) for i in (0, 1, n - 3, n - 2)
           if 0 <= i < n - 1]
    if edge_order == 1:
        first = ufuncs.divide(ufuncs.subtract(part(1, 2), part(0, 1)), dxs[0])
        last = ufuncs.divide(ufuncs.subtract(part(n - 1, n), part(n - 2, n - 1)), dxs[-1])
    else:
        d1, d2 = dxs[0], dxs[1]
        s = ufuncs.add(d1, d2)
        a0 = ufuncs.negative(ufuncs.divide(ufuncs.add(ufuncs.multiply(2.0, d1), d2),
                                           ufuncs.multiply(d1, s)))
        b0 = ufuncs.divide(s, ufuncs.multiply(d1, d2))
        c0 = ufuncs.negative(ufuncs.divide(d1, ufuncs.multiply(d2, s)))
        first = ufuncs.add(ufuncs.add(ufuncs.multiply(a0, part(0, 1)),
                                      ufuncs.multiply(b0, part(1, 2))),
                           ufuncs.multiply(c0, part(2, 3)))
        e1, e2 = dxs[-2], dxs[-1]
        s = ufuncs.add(e1, e2)
        a1 = ufuncs.divide(e2, ufuncs.multiply(e1, s))
        b1 = ufuncs.negative(ufuncs.divide(s, ufuncs.multiply(e1, e2)))
        c1 = ufuncs.divide(ufuncs.add(ufuncs.multiply(2.0, e2), e1), ufuncs.multiply(e2, s))
        last = ufuncs.add(ufuncs.add(ufuncs.multiply(a1, part(n - 3, n - 2)),
                                     ufuncs.multiply(b1, part(n - 2, n - 1))),
                          ufuncs.multiply(c1, part(n - 1, n)))
    return np_shape.concatenate([first, interior, last], axis=ax)


def ediff1d(ary: ArrayLike, to_end: ArrayLike | None = None,
            to_begin: ArrayLike | None = None) -> Array:
    """The differences between consecutive elements of the flattened `ary`, with optional
    values before (`to_begin`) and after (`to_end`).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.ediff1d(np.array([1, 2, 4, 7]), to_begin=-9).tolist() == [-9, 1, 2, 3]
        ```
    """
    a = np_shape.ravel(asarray(ary))
    out = np_shape.diff(a)
    dt = aval(out).dtype
    parts = []
    if to_begin is not None:
        parts.append(ew.convert_element_type(np_shape.ravel(asarray(to_begin)), dt))
    parts.append(out)
    if to_end is not None:
        parts.append(ew.convert_element_type(np_shape.ravel(asarray(to_end)), dt))
    return np_shape.concatenate(parts) if len(parts) > 1 else out


def unwrap(p: ArrayLike, discont: float | None = None, axis: int = -1, *,
           period: float = 2 * np.pi) -> Array:
    """`p` with jumps larger than `discont` (default ``period / 2``) along `axis` removed by
    adding multiples of `period`. Differentiable in `p` (the added multiples are constant).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        p = np.array([0.0, 3.0, -3.0, 0.0])
        assert np.allclose(jnp.unwrap(p), [0.0, 3.0, 2 * np.pi - 3.0, 2 * np.pi])
        ```
    """
    (p,) = promote_inexact(asarray(p))
    nd = aval(p).ndim
    ax = canonical_axis(axis, nd)
    n = aval(p).shape[ax]
    if n < 2:
        return core.unchanged(p)
    dd = np_shape.diff(p, axis=ax)
    if discont is None:
        discont = period / 2
    half = period / 2
    ddmod = ufuncs.subtract(ufuncs.remainder(ufuncs.add(dd, half), period), half)
    # NumPy keeps +half (not -half) where the difference is positive and lands on -half.
    ddmod = ufuncs.where(ufuncs.logical_and(ufuncs.equal(ddmod, -half), ufuncs.greater(dd, 0)),
                         half, ddmod)
    correction = ufuncs.subtract(ddmod, dd)
    correction = ufuncs.where(ufuncs.less(ufuncs.abs(dd), discont), 0.0, correction)
    cum = reductions.cumsum(correction, axis=ax)
    zero = _slice_axis(ufuncs.multiply(p, 0.0), ax, 0, 1)
    return ufuncs.add(p, np_shape.concatenate([zero, cum], axis=ax))


# ---- statistics -----------------------------------------------------------------------------


def cov(m: ArrayLike, y: ArrayLike | None = None, rowvar: bool = True, bias: bool = False,
        ddof: int | None = None, fweights: ArrayLike | None = None,
        aweights: ArrayLike | None = None) -> Array:
    """The covariance matrix of the variables in the rows of `m` (columns with
    ``rowvar=False``), optionally stacked with `y`, with NumPy's `ddof`, `bias` and
    frequency/analytic weights. Differentiable.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        x = np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]])
        assert np.allclose(jnp.cov(x), [[1.0, -1.0], [-1.0, 1.0]])
        ```
    """
    x = asarray(m)
    if aval(x).ndim > 2:
        raise ValueError("m has more than 2 dimensions")
    x = np_shape.atleast_2d(x)
    if not rowvar and aval(x).shape[0] != 1:
        x = np_shape.transpose(x)
    if y is not None:
        yy = np_shape.atleast_2d(asarray(y))
        if not rowvar and aval(yy).shape[0] != 1:
            yy = np_shape.transpose(yy)
        x = np_shape.concatenate([x, yy], axis=0)
    (x,) = promote_inexact(x)
    if ddof is None:
        ddof = 0 if bias else 1
    w: Any = None
    if fweights is not None:
        w = asarray(fweights)
    if aweights is not None:
        aw = asarray(aweights)
        w = aw if w is None else ufuncs.multiply(w, aw)
    if w is not None:
        w = ew.convert_element_type(asarray(w), aval(x).dtype)
    if w is None:
        avg = reductions.mean(x, axis=1)
        w_sum: Any = float(aval(x).shape[1])
        fact: Any = w_sum - ddof
    else:
        w_sum = reductions.sum(w)
        avg = ufuncs.divide(reductions.sum(ufuncs.multiply(x, w), axis=1), w_sum)
        if ddof == 0:
            fact = w_sum
        elif aweights is None:
            fact = ufuncs.subtract(w_sum, ddof)
        else:
            aw = ew.convert_element_type(asarray(aweights), aval(x).dtype)
            fact = ufuncs.subtract(w_sum, ufuncs.divide(
                ufuncs.multiply(ddof, reductions.sum(ufuncs.multiply(w, aw))), w_sum))
    xc = ufuncs.subtract(x, sh.expand_dims(avg, (1,)))
    xw = xc if w is None else ufuncs.multiply(xc, w)
    c = linalg.matmul(xw, ufuncs.conj(np_shape.transpose(xc)))
    out = ufuncs.divide(c, fact)
    return sh.squeeze(out, tuple(range(aval(out).ndim))) if aval(out).shape == (1, 1) else out


def corrcoef(x: ArrayLike, y: ArrayLike | None = None, rowvar: bool = True) -> Array:
    """Pearson correlation coefficients: `cov` normalised by the standard deviations (real
    results are clipped to [-1, 1] as NumPy does). Differentiable.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        x = np.array([[0.0, 1.0, 2.0], [0.0, 2.0, 4.1]])
        assert np.allclose(jnp.corrcoef(x)[0, 0], 1.0)
        ```
    """
    c = cov(x, y, rowvar)
    if aval(c).ndim == 0:
        return ufuncs.divide(c, c)
    d = np_shape.diagonal(c)
    s = ufuncs.sqrt(ufuncs.real(d) if aval(d).dtype.kind == "c" else d)
    c = ufuncs.divide(ufuncs.divide(c, sh.expand_dims(s, (1,))), sh.expand_dims(s, (0,)))
    return c if aval(c).dtype.kind == "c" else ufuncs.clip(c, -1, 1)


# ---- products -------------------------------------------------------------------------------


def matvec(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """Batched matrix-vector products ``x1 @ x2[..., None]`` over broadcast leading axes.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.matvec(np.eye(2) * 2.0, np.array([1.0, 3.0])).tolist() == [2.0, 6.0]
        ```
    """
    x1, x2 = asarray(x1), asarray(x2)
    if aval(x1).ndim < 2 or aval(x2).ndim < 1:
        raise ValueError("matvec: x1 must be at least 2-d and x2 at least 1-d")
    return _squeeze_last(linalg.matmul(x1, sh.expand_dims(x2, (aval(x2).ndim,))))


def vecmat(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """Batched vector-matrix products ``conj(x1)[..., None, :] @ x2`` (the vector is
    conjugated, as in NumPy).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.vecmat(np.array([1.0, 3.0]), np.eye(2) * 2.0).tolist() == [2.0, 6.0]
        ```
    """
    x1, x2 = asarray(x1), asarray(x2)
    if aval(x1).ndim < 1 or aval(x2).ndim < 2:
        raise ValueError("vecmat: x1 must be at least 1-d and x2 at least 2-d")
    x1 = ufuncs.conj(x1)
    out = linalg.matmul(sh.expand_dims(x1, (aval(x1).ndim - 1,)), x2)
    return sh.squeeze(out, (aval(out).ndim - 2,))


def _squeeze_last(x: Array) -> Array:
    return sh.squeeze(x, (aval(x).ndim - 1,))


# ---- comparisons and paths ------------------------------------------------------------------


def array_equiv(a1: ArrayLike, a2: ArrayLike) -> Array:
    """Whether `a1` and `a2` are equal everywhere after broadcasting (False if they cannot
    be broadcast together).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.array_equiv(np.array([1, 2]), np.array([[1, 2], [1, 2]]))
        assert not jnp.array_equiv(np.array([1, 2]), np.array([1, 2, 3]))
        ```
    """
    a1, a2 = asarray(a1), asarray(a2)
    try:
        np.broadcast_shapes(aval(a1).shape, aval(a2).shape)
    except ValueError:
        return constant((), bool)
    return reductions.all(ufuncs.equal(a1, a2))


def einsum_path(subscripts: str, *operands: ArrayLike, optimize: Any = "greedy"
                ) -> tuple[list[Any], str]:
    """NumPy's contraction order for an `einsum` (only the operands' shapes are used, so
    traced operands are fine).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        path, text = jnp.einsum_path("ij,jk,kl->il", np.ones((2, 3)), np.ones((3, 4)),
                                     np.ones((4, 5)))
        assert path[0] == "einsum_path"
        ```
    """
    stand_ins = [np.empty(aval(asarray(o)).shape, aval(asarray(o)).dtype) for o in operands]
    return np.einsum_path(subscripts, *stand_ins, optimize=optimize)
