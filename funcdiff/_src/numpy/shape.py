# Over 600 lines: one short function per NumPy shape routine (59 of them).
"""Shape manipulation of `funcdiff.numpy`: reshaping, joining, splitting, flipping, padding,
gathering along axes, and the index helpers; array creation is in `creation.py`.
"""

from __future__ import annotations

import builtins
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes, errors
from funcdiff._src.array import as_array
from funcdiff._src.lax import dynamic_slicing as ds
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import indexing as lax_indexing
from funcdiff._src.lax import shape as sh
from funcdiff._src.numpy import creation, reductions, ufuncs
from funcdiff._src.numpy._util import (
    Array,
    ArrayLike,
    as_arrays,
    asarray,
    aval,
    canonical_axes,
    canonical_axis,
    constant,
    stack_same,
    strict_promote,
)

# ---- shape queries --------------------------------------------------------------------------


def shape(a: ArrayLike) -> tuple[int, ...]:
    return aval(asarray(a)).shape


def ndim(a: ArrayLike) -> int:
    return aval(asarray(a)).ndim


def size(a: ArrayLike, axis: int | None = None) -> int:
    v = aval(asarray(a))
    return v.size if axis is None else v.shape[axis]


def astype(x: ArrayLike, dtype: Any) -> Array:
    return ew.convert_element_type(asarray(x), dtype)


def copy(a: ArrayLike) -> Array:
    a = asarray(a)
    return core.unchanged(a.copy()) if isinstance(a, np.ndarray) else a


# ---- reshaping ------------------------------------------------------------------------------


def _resolve_shape(total: int, newshape: Any) -> tuple[int, ...]:
    if isinstance(newshape, int | np.integer):
        newshape = (int(newshape),)
    newshape = [operator.index(n) for n in newshape]
    if newshape.count(-1) > 1:
        raise ValueError("can only specify one unknown dimension (-1)")
    if -1 in newshape:
        known = int(np.prod([n for n in newshape if n != -1], dtype=np.int64))
        if known == 0 or total % known:
            raise ValueError(f"cannot reshape array of size {total} into shape {tuple(newshape)}")
        newshape[newshape.index(-1)] = total // known
    if int(np.prod(newshape, dtype=np.int64)) != total:
        raise ValueError(f"cannot reshape array of size {total} into shape {tuple(newshape)}")
    return tuple(newshape)


def reshape(a: ArrayLike, shape: Any = None, order: str = "C", *, newshape: Any = None) -> Array:
    """Reshape; one dimension may be -1. With ``order="C"`` (the default) elements are read
    and written in row-major order, with ``order="F"`` in column-major order (the first index
    varies fastest); ``order="A"`` is "C" (funcdiff arrays are row-major).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        x = np.arange(6)
        assert jnp.reshape(x, (2, 3), order="F").tolist() == [[0, 2, 4], [1, 3, 5]]
        assert jnp.ravel(np.array([[0, 1], [2, 3]]), order="F").tolist() == [0, 2, 1, 3]
        ```
    """
    if order not in ("C", "F", "A"):
        raise ValueError(f"reshape: order must be 'C', 'F' or 'A', got {order!r}")
    a = asarray(a)
    target = shape if shape is not None else newshape
    new_shape = _resolve_shape(aval(a).size, target)
    if order != "F":
        return sh.reshape(a, new_shape)
    # Column-major: reverse the axes, reshape row-major to the reversed shape, reverse back.
    nd = aval(a).ndim
    rev = sh.transpose(a, tuple(range(nd))[::-1]) if nd > 1 else a
    out = sh.reshape(rev, new_shape[::-1])
    return sh.transpose(out, tuple(range(len(new_shape)))[::-1]) if len(new_shape) > 1 else out


def ravel(a: ArrayLike, order: str = "C") -> Array:
    """The elements of `a` as a 1-d array, in row-major (``order="C"``) or column-major
    (``order="F"``) order."""
    a = asarray(a)
    return reshape(a, (aval(a).size,), order)


def transpose(a: ArrayLike, axes: Sequence[int] | None = None) -> Array:
    a = asarray(a)
    nd = aval(a).ndim
    perm = tuple(range(nd))[::-1] if axes is None else tuple(canonical_axis(x, nd) for x in axes)
    if sorted(perm) != list(range(nd)):
        raise ValueError(f"axes {axes} don't match array of rank {nd}")
    return sh.transpose(a, perm)


def permute_dims(a: ArrayLike, axes: Sequence[int]) -> Array:
    return transpose(a, axes)


def swapaxes(a: ArrayLike, axis1: int, axis2: int) -> Array:
    a = asarray(a)
    nd = aval(a).ndim
    perm = list(range(nd))
    i, j = canonical_axis(axis1, nd), canonical_axis(axis2, nd)
    perm[i], perm[j] = perm[j], perm[i]
    return sh.transpose(a, perm)


def moveaxis(a: ArrayLike, source: int | Sequence[int], destination: int | Sequence[int]) -> Array:
    a = asarray(a)
    nd = aval(a).ndim
    src = canonical_axes(source, nd)
    dst = canonical_axes(destination, nd)
    if len(src) != len(dst):
        raise ValueError("source and destination must have the same number of elements")
    order = [i for i in range(nd) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return sh.transpose(a, order)


def expand_dims(a: ArrayLike, axis: int | Sequence[int]) -> Array:
    a = asarray(a)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    nd = aval(a).ndim + len(axes)
    return sh.expand_dims(a, tuple(canonical_axis(x, nd) for x in axes))


def squeeze(a: ArrayLike, axis: int | Sequence[int] | None = None) -> Array:
    a = asarray(a)
    v = aval(a)
    if axis is None:
        axes = tuple(i for i, n in enumerate(v.shape) if n == 1)
    elif v.ndim == 0:
        canonical_axes(axis, 0)  # NumPy accepts axis 0 or -1 of a 0-d array
        axes = ()
    else:
        axes = canonical_axes(axis, v.ndim)
        for ax in axes:
            if v.shape[ax] != 1:
                raise ValueError(f"cannot select an axis to squeeze out which has size not "
                                 f"equal to one (axis {ax} of shape {v.shape})")
    return sh.squeeze(a, axes)


def atleast_1d(*arys: ArrayLike) -> Any:
    out = [reshape(a, (1,)) if ndim(a) == 0 else core.unchanged(asarray(a)) for a in arys]
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys: ArrayLike) -> Any:
    out = []
    for a in arys:
        a = asarray(a)
        while aval(a).ndim < 2:
            a = sh.expand_dims(a, (0,))
        out.append(core.unchanged(a))
    return out[0] if len(out) == 1 else out


def atleast_3d(*arys: ArrayLike) -> Any:
    out = []
    for a in arys:
        a = asarray(a)
        nd = aval(a).ndim
        if nd == 0:
            a = sh.reshape(a, (1, 1, 1))
        elif nd == 1:
            a = sh.expand_dims(a, (0, 2))
        elif nd == 2:
            a = sh.expand_dims(a, (2,))
        out.append(core.unchanged(a))
    return out[0] if len(out) == 1 else out


def broadcast_to(array: ArrayLike, shape: Sequence[int]) -> Array:
    array = asarray(array)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    try:
        np.broadcast_shapes(aval(array).shape, shape)
    except ValueError:
        raise ValueError(f"cannot broadcast an array of shape {aval(array).shape} to "
                         f"{shape}") from None
    if np.broadcast_shapes(aval(array).shape, shape) != shape:
        raise ValueError(f"cannot broadcast an array of shape {aval(array).shape} to {shape}")
    return sh.broadcast_to(array, shape)


def broadcast_arrays(*args: ArrayLike) -> list[Array]:
    arrays = [asarray(a) for a in args]
    common = np.broadcast_shapes(*(aval(a).shape for a in arrays))
    return [sh.broadcast_to(a, common) for a in arrays]


def broadcast_shapes(*shapes: Sequence[int]) -> tuple[int, ...]:
    return np.broadcast_shapes(*shapes)


# ---- joining and splitting ------------------------------------------------------------------


def concatenate(arrays: Sequence[ArrayLike], axis: int | None = 0) -> Array:
    """Join arrays along an existing axis (flattened first when `axis` is None)."""
    if not len(arrays):
        raise ValueError("need at least one array to concatenate")
    arrays = strict_promote(*arrays)
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    nd = aval(arrays[0]).ndim
    if nd == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    if len(arrays) == 1:
        return core.unchanged(arrays[0])
    return sh.concatenate(arrays, canonical_axis(axis, nd))


def stack(arrays: Sequence[ArrayLike], axis: int = 0) -> Array:
    """Join arrays of one shape along a new axis."""
    if not len(arrays):
        raise ValueError("need at least one array to stack")
    return stack_same(list(arrays), axis)


def hstack(tup: Sequence[ArrayLike]) -> Array:
    arrs = [atleast_1d(a) for a in tup]
    return concatenate(arrs, 0 if ndim(arrs[0]) == 1 else 1)


def vstack(tup: Sequence[ArrayLike]) -> Array:
    return concatenate([atleast_2d(a) for a in tup], 0)


row_stack = vstack


def dstack(tup: Sequence[ArrayLike]) -> Array:
    return concatenate([atleast_3d(a) for a in tup], 2)


def column_stack(tup: Sequence[ArrayLike]) -> Array:
    arrs = []
    for a in tup:
        a = asarray(a)
        arrs.append(sh.reshape(a, (aval(a).size, 1)) if aval(a).ndim < 2 else a)
    return concatenate(arrs, 1)


def append(arr: ArrayLike, values: ArrayLike, axis: int | None = None) -> Array:
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], 0)
    return concatenate([arr, values], axis)


def _split_points(n: int, indices_or_sections: Any, even: bool) -> list[int]:
    if isinstance(indices_or_sections, int | np.integer):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0")
        if even and n % sections:
            raise ValueError("array split does not result in an equal division")
        base, extra = divmod(n, sections)
        sizes = [base + 1] * extra + [base] * (sections - extra)
        return list(np.cumsum([0] + sizes))
    points = [builtins.min(builtins.max(int(i) if i >= 0 else n + int(i), 0), n)
              for i in indices_or_sections]
    return [0] + points + [n]


def split(ary: ArrayLike, indices_or_sections: Any, axis: int = 0) -> list[Array]:
    return _split(ary, indices_or_sections, axis, even=True)


def array_split(ary: ArrayLike, indices_or_sections: Any, axis: int = 0) -> list[Array]:
    return _split(ary, indices_or_sections, axis, even=False)


def _split(ary: ArrayLike, indices_or_sections: Any, axis: int, even: bool) -> list[Array]:
    a = asarray(ary)
    v = aval(a)
    ax = canonical_axis(axis, v.ndim)
    pts = _split_points(v.shape[ax], indices_or_sections, even)
    out = []
    for lo, hi in zip(pts[:-1], pts[1:]):
        hi = builtins.max(lo, hi)
        starts = [0] * v.ndim
        limits = list(v.shape)
        starts[ax], limits[ax] = lo, hi
        out.append(sh.slice(a, starts, limits))
    return out


def hsplit(ary: ArrayLike, indices_or_sections: Any) -> list[Array]:
    return split(ary, indices_or_sections, 1 if ndim(ary) > 1 else 0)


def vsplit(ary: ArrayLike, indices_or_sections: Any) -> list[Array]:
    return split(ary, indices_or_sections, 0)


def tile(A: ArrayLike, reps: int | Sequence[int]) -> Array:  # noqa: N803
    a = asarray(A)
    reps = (int(reps),) if np.ndim(reps) == 0 else tuple(int(r) for r in reps)
    nd = builtins.max(aval(a).ndim, len(reps))
    reps = (1,) * (nd - len(reps)) + reps
    a = sh.reshape(a, (1,) * (nd - aval(a).ndim) + aval(a).shape)
    shape = aval(a).shape
    # Broadcast to (r0, n0, r1, n1, ...) and merge each pair.
    big = []
    bdims = []
    for i, (r, n) in enumerate(zip(reps, shape)):
        big += [r, n]
        bdims.append(2 * i + 1)
    out = sh.broadcast_in_dim(a, big, bdims)
    return sh.reshape(out, [r * n for r, n in zip(reps, shape)])


def repeat(a: ArrayLike, repeats: Any, axis: int | None = None, *,
           total_repeat_length: int | None = None) -> Array:
    """Repeat each element of `a` (flattened when `axis` is None) `repeats` times (an int,
    or one count per element along `axis`).

    The output length is the sum of the counts, so the counts must be concrete unless
    `total_repeat_length` fixes it: then the counts may be traced (under `jit` or `vmap`),
    extra elements are dropped and missing ones repeat the last element, as in JAX.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        x = np.array([1.0, 2.0, 3.0])
        assert jnp.repeat(x, [2, 0, 1]).tolist() == [1.0, 1.0, 3.0]
        f = funcdiff.jit(lambda r: jnp.repeat(x, r, total_repeat_length=4))
        assert f(np.array([1, 2, 0])).tolist() == [1.0, 2.0, 2.0, 3.0]
        ```
    """
    a = asarray(a)
    if axis is None:
        a = ravel(a)
        axis = 0
    ax = canonical_axis(axis, aval(a).ndim)
    n = aval(a).shape[ax]
    reps = core.concrete_or_none(repeats)
    if total_repeat_length is not None:
        return _repeat_to_length(a, repeats, reps, ax, operator.index(total_repeat_length))
    if reps is None:
        raise errors.ConcretizationTypeError(
            "repeat", ": the output size is the sum of the traced repeats; pass "
            "total_repeat_length= (a static output length) to use traced repeats")
    if np.ndim(reps) == 0:
        r = int(reps)
        shape = list(aval(a).shape)
        expanded = sh.broadcast_in_dim(
            a, shape[: ax + 1] + [r] + shape[ax + 1 :],
            tuple(range(ax + 1)) + tuple(range(ax + 2, len(shape) + 1)))
        shape[ax] = n * r
        return sh.reshape(expanded, shape)
    idx = np.repeat(np.arange(n), np.asarray(reps, dtype=np.int64))
    return take_in_bounds(a, idx, axis=ax)


def _repeat_to_length(a: Array, repeats: Any, reps: Any, ax: int, total: int) -> Array:
    """`repeat` with a static output length `total` (`reps`: the concrete counts or None)."""
    n = aval(a).shape[ax]
    if total < 0:
        raise ValueError(f"repeat: total_repeat_length must be >= 0, got {total}")
    if n == 0 or total == 0:
        if total:
            raise ValueError("repeat: total_repeat_length > 0 needs a nonempty axis")
        return _take_range(a, ax, 0, 0)
    if reps is not None:
        idx = np.repeat(np.arange(n), np.broadcast_to(np.asarray(reps, np.int64), (n,)))
        idx = np.concatenate([idx[:total], np.full(max(total - idx.size, 0), n - 1)])
        return take_in_bounds(a, idx, axis=ax)
    counts = asarray(repeats)
    if not dtypes.is_integer(aval(counts).dtype) or aval(counts).ndim > 1:
        raise TypeError("repeat: repeats must be an integer or a 1-d integer array, got "
                        f"{aval(counts).dtype}{list(aval(counts).shape)}")
    ends = reductions.cumsum(sh.broadcast_to(counts, (n,)))
    # Output position j comes from the first element whose running count exceeds j.
    before = ufuncs.less_equal(sh.expand_dims(ends, (0,)), np.arange(total)[:, None])
    src = reductions.sum(ew.convert_element_type(before, np.int64), axis=1)
    return take_in_bounds(a, ufuncs.minimum(src, n - 1), axis=ax)


def flip(m: ArrayLike, axis: int | Sequence[int] | None = None) -> Array:
    m = asarray(m)
    return sh.rev(m, canonical_axes(axis, aval(m).ndim))


def fliplr(m: ArrayLike) -> Array:
    return flip(m, 1)


def flipud(m: ArrayLike) -> Array:
    return flip(m, 0)


def roll(a: ArrayLike, shift: int | Sequence[int], axis: int | Sequence[int] | None = None
         ) -> Array:
    """Roll elements along axes; a shift may be traced (then the roll is a dynamic slice)."""
    a = asarray(a)
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), aval(a).shape)
    # A shift may be a NumPy integer or a 0-d array (concrete or traced), as in JAX.
    shifts = tuple(shift) if isinstance(shift, list | tuple) or ndim(shift) else (shift,)
    axes = tuple(axis) if isinstance(axis, list | tuple) or ndim(axis) else (axis,)
    if len(shifts) == 1 and len(axes) > 1:
        shifts = shifts * len(axes)
    for s, ax in zip(shifts, axes):
        ax = canonical_axis(ax, aval(a).ndim)
        n = aval(a).shape[ax]
        if n == 0:
            continue
        if core.concrete_or_none(s) is None:
            a = _roll_traced(a, s, ax, n)
            continue
        s = int(core.concrete_or_none(s)) % n
        if s:
            lo = _take_range(a, ax, n - s, n)
            hi = _take_range(a, ax, 0, n - s)
            a = sh.concatenate([lo, hi], ax)
    return core.unchanged(a)


def _roll_traced(a: Array, shift: Any, axis: int, n: int) -> Array:
    """`a` rolled by a traced `shift` along `axis` (of length `n`): the window of ``[a, a]``
    that starts at ``n - shift % n``."""
    start = ufuncs.subtract(n, ufuncs.remainder(asarray(shift), n))
    starts = [np.int64(0)] * aval(a).ndim
    starts[axis] = start
    return ds.dynamic_slice(sh.concatenate([a, a], axis), starts, aval(a).shape)


def _take_range(a: Array, axis: int, lo: int, hi: int) -> Array:
    starts = [0] * aval(a).ndim
    limits = list(aval(a).shape)
    starts[axis], limits[axis] = lo, hi
    return sh.slice(a, starts, limits)


def rot90(m: ArrayLike, k: int = 1, axes: tuple[int, int] = (0, 1)) -> Array:
    m = asarray(m)
    k %= 4
    a0, a1 = axes
    if k == 0:
        return core.unchanged(m)
    if k == 2:
        return flip(flip(m, a0), a1)
    perm = list(range(aval(m).ndim))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return transpose(flip(m, a1), perm)
    return flip(transpose(m, perm), a1)


def pad(array: ArrayLike, pad_width: Any, mode: str = "constant", constant_values: Any = 0
        ) -> Array:
    """Pad with a constant (``mode="constant"``), or by edge/reflect/wrap (static widths)."""
    a = asarray(array)
    v = aval(a)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (v.ndim, 2)).tolist()
    if mode == "constant":
        cv = ew.convert_element_type(asarray(constant_values), v.dtype)
        if aval(cv).shape != ():
            raise NotImplementedError("constant_values must be a scalar")
        return sh.pad(a, cv, [(lo, hi, 0) for lo, hi in widths])
    if mode not in ("edge", "reflect", "symmetric", "wrap"):
        raise NotImplementedError(f"pad mode {mode!r} is not supported")
    for ax, (lo, hi) in enumerate(widths):
        n = aval(a).shape[ax]
        idx = np.pad(np.arange(n), (lo, hi), mode=mode)
        a = take_in_bounds(a, idx, axis=ax)
    return core.unchanged(a)


# ---- gathering ------------------------------------------------------------------------------


_TAKE_MODES = ("fill", "clip", "wrap", "promise_in_bounds")
# The mode of funcdiff's own callers, whose indices are in bounds: NumPy's gather as it is,
# with no clamping (an index out of bounds raises).
_TRUSTED = object()


def _default_fill(dtype: np.dtype) -> Any:
    """JAX's fill value for out-of-bounds gathers: NaN for inexact types, the smallest
    signed and largest unsigned integer, and True."""
    if dtype.kind in "fc":
        return np.nan
    if dtype.kind in "iu":
        return np.iinfo(dtype).min if dtype.kind == "i" else np.iinfo(dtype).max
    return True


def _bound_indices(idx: Array, n: int, mode: str, wrap_negative: bool, what: str
                   ) -> tuple[Array, Array | None]:
    """Indices into an axis of length `n` made safe for `gather` by `mode`, and for
    ``mode="fill"`` the mask of the valid ones (None when all are known to be valid).
    `wrap_negative`: indices in ``[-n, 0)`` count from the end."""
    if mode is _TRUSTED:
        return idx, None
    if mode not in _TAKE_MODES:
        raise ValueError(f"{what}: mode must be one of {_TAKE_MODES} or None, got {mode!r}")
    if mode == "promise_in_bounds":
        if n == 0:  # (NumPy's gather: only no index at all is in bounds)
            return idx, None
        # The result of an index out of bounds is unspecified, as in JAX (whose gather
        # clamps it under jit): clamped into the axis, never an error.
        mode = "clip"
    if n == 0 and mode in ("clip", "wrap"):
        raise IndexError(f"{what}: cannot take from an empty axis with mode={mode!r}")
    if mode == "wrap":
        return ufuncs.remainder(idx, n), None
    if mode == "clip":
        if wrap_negative:
            idx = ufuncs.where(ufuncs.less(idx, 0), ufuncs.add(idx, n), idx)
        return ufuncs.clip(idx, 0, n - 1), None
    lo = -n if wrap_negative else 0
    value = core.concrete_or_none(idx)
    if value is not None and n and np.all((value >= lo) & (value < n)):
        return idx, None
    valid = ufuncs.logical_and(ufuncs.greater_equal(idx, lo), ufuncs.less(idx, n))
    return ufuncs.where(valid, idx, 0), valid


def _fill_invalid(out: Array, valid: Array | None, fill_value: Any) -> Array:
    if valid is None:
        return out
    dtype = aval(out).dtype
    fill = ew.convert_element_type(
        asarray(_default_fill(dtype) if fill_value is None else fill_value), dtype)
    return ufuncs.where(valid, out, fill)


def take(a: ArrayLike, indices: ArrayLike, axis: int | None = None, out: None = None,
         mode: str | None = None, unique_indices: bool = False,
         indices_are_sorted: bool = False, fill_value: Any = None) -> Array:
    """Elements of `a` at integer `indices` along `axis` (the flattened array by default).

    Out-of-bounds indices follow `mode`, as in JAX: ``"fill"`` (the default) gives
    `fill_value` (by default NaN for inexact types, the smallest signed or largest unsigned
    integer, True), with negative indices down to ``-n`` counting from the end;
    ``"clip"`` clamps into ``[0, n - 1]``; ``"wrap"`` takes indices modulo ``n``;
    ``"promise_in_bounds"`` promises valid indices (negative ones down to ``-n`` count from
    the end): the result for an index out of bounds is unspecified, as in JAX, and never an
    error (funcdiff clamps it, as ``"clip"`` does). `unique_indices` and
    `indices_are_sorted` are hints, accepted and unused.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        x = np.array([1.0, 2.0, 3.0])
        assert jnp.take(x, [0, -1]).tolist() == [1.0, 3.0]
        assert np.isnan(jnp.take(x, [5])[0])
        assert jnp.take(x, [5, -5], mode="clip").tolist() == [3.0, 1.0]
        assert jnp.take(x, [4], mode="wrap").tolist() == [2.0]
        assert jnp.take(x, [4], fill_value=0.0).tolist() == [0.0]
        ```
    """
    del unique_indices, indices_are_sorted
    if out is not None:
        raise NotImplementedError("take: the out argument is not supported (arrays are "
                                  "immutable); use the return value")
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    ax = canonical_axis(axis, aval(a).ndim)
    idx = asarray(indices)
    if not dtypes.is_integer(aval(idx).dtype):
        raise TypeError(f"take: indices must be integers, got {aval(idx).dtype}")
    mode = "fill" if mode is None else mode
    n = aval(a).shape[ax]
    idx, valid = _bound_indices(idx, n, mode, mode != "clip", "take")
    dims = [-1] * aval(a).ndim
    dims[ax] = 0
    if valid is not None:
        if n == 0:
            shape = lax_indexing.gather_shape(aval(a).shape, [aval(idx).shape], dims)
            return _fill_invalid(creation.zeros(shape, aval(a).dtype),
                                 constant(shape, bool), fill_value)
        nd_after = aval(a).ndim - ax - 1
        valid = sh.reshape(valid, (1,) * ax + aval(valid).shape + (1,) * nd_after)
    return _fill_invalid(lax_indexing.gather(a, [idx], dims), valid, fill_value)


def take_along_axis(arr: ArrayLike, indices: ArrayLike, axis: int | None = -1,
                    mode: str | None = None, fill_value: Any = None, *,
                    wrap_negative_indices: bool = True) -> Array:
    """``arr[..., indices, ...]`` with `indices` shaped like `arr` (or broadcasting
    against it) along `axis`, pairing every other dimension (the flattened arrays when
    `axis` is None).

    Out-of-bounds indices follow `mode` (``"fill"``, the default, ``"clip"`` or
    ``"promise_in_bounds"``), as in `take`, except that with `wrap_negative_indices`
    negative indices count from the end in every mode.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        x = np.array([[10.0, 30.0, 20.0], [5.0, 4.0, 6.0]])
        assert jnp.take_along_axis(x, np.argsort(x), axis=1).tolist() == [
            [10.0, 20.0, 30.0], [4.0, 5.0, 6.0]]
        idx = np.array([[0, 3], [-1, 1]])
        assert jnp.take_along_axis(x, idx, axis=1, fill_value=0.0).tolist() == [
            [10.0, 0.0], [6.0, 4.0]]
        assert jnp.take_along_axis(x, idx, axis=1, mode="clip").tolist() == [
            [10.0, 20.0], [6.0, 4.0]]
        ```
    """
    a = asarray(arr)
    idx = asarray(indices)
    if axis is None:
        a, idx, axis = ravel(a), ravel(idx), 0
    if not dtypes.is_integer(aval(idx).dtype):
        raise TypeError(f"take_along_axis: indices must be integers, got {aval(idx).dtype}")
    nd = aval(a).ndim
    ax = canonical_axis(axis, nd)
    if aval(idx).ndim != nd:
        raise ValueError("take_along_axis: indices and arr must have the same number of "
                         f"dimensions, got {aval(idx).ndim} and {nd}")
    mode = "fill" if mode is None else mode
    if mode == "wrap":
        raise ValueError("take_along_axis: mode must be 'fill', 'clip' or "
                         "'promise_in_bounds', got 'wrap'")
    n = aval(a).shape[ax]
    idx, valid = _bound_indices(idx, n, mode, wrap_negative_indices, "take_along_axis")
    index_arrays = []
    for d in range(nd):
        if d == ax:
            index_arrays.append(idx)
        else:
            shape = [1] * nd
            shape[d] = aval(a).shape[d]
            index_arrays.append(np.arange(aval(a).shape[d]).reshape(shape))
    if valid is not None and n == 0:
        shape = np.broadcast_shapes(*(aval(asarray(i)).shape for i in index_arrays))
        return _fill_invalid(creation.zeros(shape, aval(a).dtype), constant(shape, bool),
                             fill_value)
    return _fill_invalid(lax_indexing.gather(a, index_arrays, list(range(nd))), valid,
                         fill_value)


def take_in_bounds(a: ArrayLike, indices: ArrayLike, axis: int | None = None) -> Array:
    """`take` of indices known to be in bounds (funcdiff's own callers): NumPy's gather,
    without the masking of ``mode="fill"`` or the clamping of ``"promise_in_bounds"`` (an
    index out of bounds raises)."""
    return take(a, indices, axis, mode=_TRUSTED)


def take_along_axis_in_bounds(arr: ArrayLike, indices: ArrayLike, axis: int | None) -> Array:
    """`take_along_axis` of indices known to be in bounds (see `take_in_bounds`)."""
    return take_along_axis(arr, indices, axis, mode=_TRUSTED)


def diagonal(a: ArrayLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Array:
    a = asarray(a)
    nd = aval(a).ndim
    ax1, ax2 = canonical_axis(axis1, nd), canonical_axis(axis2, nd)
    n1, n2 = aval(a).shape[ax1], aval(a).shape[ax2]
    rows = np.arange(builtins.max(0, -offset), n1)
    cols = rows + offset
    keep = (cols >= 0) & (cols < n2)
    rows, cols = rows[keep], cols[keep]
    # Move the two axes last, gather the diagonal into one trailing axis.
    rest = [i for i in range(nd) if i not in (ax1, ax2)]
    moved = sh.transpose(a, rest + [ax1, ax2])
    dims = [-1] * len(rest) + [0, 1]
    return lax_indexing.gather(moved, [rows, cols], dims)


def diag(v: ArrayLike, k: int = 0) -> Array:
    """The k-th diagonal of a matrix, or a matrix with `v` on its k-th diagonal."""
    v = asarray(v)
    if aval(v).ndim == 2:
        return diagonal(v, k)
    if aval(v).ndim != 1:
        raise ValueError("diag input must be 1-d or 2-d")
    n = aval(v).size + builtins.abs(k)
    rows = np.arange(aval(v).size) + builtins.max(-k, 0)
    cols = np.arange(aval(v).size) + builtins.max(k, 0)
    zeros_ = np.zeros((n, n), aval(v).dtype)
    return lax_indexing.scatter(zeros_, v, [rows, cols], [0, 1])


def trace(a: ArrayLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Array:
    return reductions.sum(diagonal(a, offset, axis1, axis2), axis=-1)


# ---- NumPy 2 names, differences, selection --------------------------------------------------

concat = concatenate


def matrix_transpose(x: ArrayLike, /) -> Array:
    """Swap the last two axes (NumPy 2's `matrix_transpose`)."""
    x = asarray(x)
    if aval(x).ndim < 2:
        raise ValueError("matrix_transpose needs an array of at least two dimensions")
    return swapaxes(x, -1, -2)


def unstack(x: ArrayLike, /, *, axis: int = 0) -> tuple[Array, ...]:
    """The slices of `x` along `axis`, as a tuple (the inverse of `stack`)."""
    x = asarray(x)
    ax = canonical_axis(axis, aval(x).ndim)
    return tuple(sh.squeeze(_take_range(x, ax, i, i + 1), (ax,))
                 for i in range(aval(x).shape[ax]))


def dsplit(ary: ArrayLike, indices_or_sections: Any) -> list[Array]:
    """`split` along the third axis."""
    if ndim(ary) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(ary, indices_or_sections, 2)


def diff(a: ArrayLike, n: int = 1, axis: int = -1, prepend: Any = None, append: Any = None
         ) -> Array:
    """The `n`-th discrete difference along `axis` (booleans: ``!=``), as `numpy.diff`."""
    a = asarray(a)
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n}")
    if n == 0:
        return core.unchanged(a)
    nd = aval(a).ndim
    if nd == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    ax = canonical_axis(axis, nd)
    parts = []
    for extra in (prepend, a, append):
        if extra is None:
            continue
        extra = asarray(extra)
        if aval(extra).ndim == 0:
            shape = list(aval(a).shape)
            shape[ax] = 1
            extra = sh.broadcast_to(extra, tuple(shape))
        parts.append(extra)
    if len(parts) > 1:
        a = concatenate(parts, ax)
    for _ in range(n):
        m = aval(a).shape[ax]
        hi, lo = _take_range(a, ax, min(1, m), m), _take_range(a, ax, 0, max(m - 1, 0))
        a = ufuncs.not_equal(hi, lo) if aval(a).dtype.kind == "b" else ufuncs.subtract(hi, lo)
    return a


def trapezoid(y: ArrayLike, x: ArrayLike | None = None, dx: float = 1.0, axis: int = -1
              ) -> Array:
    """Integral of `y` by the trapezoidal rule along `axis`, at sample points `x` (1-D, or
    shaped like `y`) or spacing `dx`."""
    y = asarray(y)
    nd = aval(y).ndim
    ax = canonical_axis(axis, nd)
    n = aval(y).shape[ax]
    if x is None:
        d: Any = dx
    else:
        x = asarray(x)
        d = diff(x, axis=-1 if aval(x).ndim == 1 else ax)
        if aval(x).ndim == 1 and nd > 1:
            shape = [1] * nd
            shape[ax] = aval(d).shape[0]
            d = sh.reshape(d, shape)
    pair_sum = ufuncs.add(_take_range(y, ax, min(1, n), n), _take_range(y, ax, 0, max(n - 1, 0)))
    return reductions.sum(ufuncs.divide(ufuncs.multiply(d, pair_sum), 2.0), axis=ax)


def select(condlist: Sequence[ArrayLike], choicelist: Sequence[ArrayLike], default: Any = 0
           ) -> Array:
    """The first choice whose condition holds, elementwise (`default` where none does)."""
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if not len(condlist):
        raise ValueError("select with an empty condition list is not possible")
    for c in condlist:
        if aval(asarray(c)).dtype.kind != "b":
            raise TypeError("invalid entry in condlist: should be boolean ndarray")
    out = asarray(default)
    for cond, choice in reversed(list(zip(condlist, choicelist))):
        out = ufuncs.where(cond, choice, out)
    shape = np.broadcast_shapes(*(aval(asarray(a)).shape
                                  for a in (*condlist, *choicelist, default)))
    return sh.broadcast_to(asarray(out), shape) if aval(asarray(out)).shape != shape else out


def polyval(p: ArrayLike, x: ArrayLike) -> Array:
    """The polynomial with coefficients `p` (highest power first) at `x` (Horner's rule)."""
    p = asarray(p)
    x = asarray(x)
    y: Any = creation.zeros_like(x)
    for i in range(aval(p).shape[0]):
        y = ufuncs.add(ufuncs.multiply(y, x), sh.squeeze(_take_range(p, 0, i, i + 1), (0,)))
    return y


# ---- index helpers (static: they depend on shapes only) -------------------------------------


def indices(dimensions: Sequence[int], dtype: Any = int, sparse: bool = False) -> Any:
    out = np.indices(dimensions, dtype, sparse)
    return as_arrays(out) if sparse else as_array(out)


def tril_indices(n: int, k: int = 0, m: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    return as_arrays(np.tril_indices(n, k, m))


def triu_indices(n: int, k: int = 0, m: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    return as_arrays(np.triu_indices(n, k, m))


def diag_indices(n: int, ndim: int = 2) -> tuple[np.ndarray, ...]:
    return as_arrays(np.diag_indices(n, ndim))


def tril_indices_from(arr: ArrayLike, k: int = 0) -> tuple[np.ndarray, np.ndarray]:
    s = shape(arr)
    if len(s) != 2:
        raise ValueError("input array must be 2-d")
    return as_arrays(np.tril_indices(s[-2], k, s[-1]))


def triu_indices_from(arr: ArrayLike, k: int = 0) -> tuple[np.ndarray, np.ndarray]:
    s = shape(arr)
    if len(s) != 2:
        raise ValueError("input array must be 2-d")
    return as_arrays(np.triu_indices(s[-2], k, s[-1]))


def diag_indices_from(arr: ArrayLike) -> tuple[np.ndarray, ...]:
    s = shape(arr)
    if len(s) < 2 or len(set(s)) != 1:
        raise ValueError("All dimensions of input must be of equal length")
    return as_arrays(np.diag_indices(s[0], len(s)))


def argwhere(a: ArrayLike, *, size: int | None = None, fill_value: Any = None) -> Array:
    """The indices of the nonzero elements, one row each (shape ``(count, a.ndim)``).

    Without `size`, `a` must be concrete; with it the result has `size` rows, padded with
    `fill_value` (0 by default, or one value per column), and works under `jit`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        x = np.array([[0, 3], [4, 0]])
        assert jnp.argwhere(x).tolist() == [[0, 1], [1, 0]]
        f = funcdiff.jit(lambda x: jnp.argwhere(x, size=3, fill_value=-1))
        assert f(x).tolist() == [[0, 1], [1, 0], [-1, -1]]
        ```
    """
    a = asarray(a)
    if aval(a).ndim == 0:
        found = ufuncs.nonzero(sh.reshape(a, (1,)), size=size)[0]
        return constant((aval(found).shape[0], 0), np.int64)
    return stack(ufuncs.nonzero(a, size=size, fill_value=fill_value), axis=1)


def flatnonzero(a: ArrayLike, *, size: int | None = None, fill_value: Any = None) -> Array:
    """The indices of the nonzero elements of the flattened array; `size` and `fill_value`
    as in `nonzero` (needed under `jit`).

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        x = np.array([[0, 3, 0], [4, 0, 5]])
        assert jnp.flatnonzero(x).tolist() == [1, 3, 5]
        f = funcdiff.jit(lambda x: jnp.flatnonzero(x, size=4, fill_value=9))
        assert f(x).tolist() == [1, 3, 5, 9]
        ```
    """
    return ufuncs.nonzero(ravel(a), size=size, fill_value=fill_value)[0]
