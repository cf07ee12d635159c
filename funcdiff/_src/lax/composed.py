"""The functions of `jax.lax` that funcdiff composes from its primitives instead of giving them
primitives of their own: constants of a shape (`iota`, `full`, `empty`...), shape changes
(`broadcast`, `collapse`, `stack`, `split`, `tile`...), `dot`, `reciprocal` and `exp2`, the
identities that only steer XLA (`optimization_barrier`, `with_sharding_constraint`),
`sort_key_val` and `index_take`.

Composing them means their derivatives, batching and lowering are those of the primitives
they are made of: nothing here has a rule to keep in step. `checked.py` wraps them with the
dtype rules of `jit` for eager calls; `funcdiff.lax` exports the wrappers.
"""

from __future__ import annotations

import builtins
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.array import as_array, as_weak_array
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import indexing as ix
from funcdiff._src.lax import linalg
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax import sorting as so
from funcdiff._src.lax import transcendental as tr
from funcdiff._src.lax._define import broadcast_shapes as _broadcast_shapes
from funcdiff._src.tree_util import tree_map

Array = Any
Shape = Sequence[int]


def _shape(shape: Any, fn: str, what: str = "shape") -> tuple[int, ...]:
    """`shape` as a tuple of Python ints (a single int is a 1-d shape), or a clear error."""
    if isinstance(shape, core.Tracer):
        raise TypeError(f"lax.{fn}: the {what} must be static (Python ints), got a traced value")
    entries = (shape,) if np.ndim(shape) == 0 else tuple(shape)
    try:
        out = tuple(operator.index(n) for n in entries)
    except TypeError:
        raise TypeError(f"lax.{fn}: the {what} must be a sequence of ints, got {shape!r}") from None
    if any(n < 0 for n in out):
        raise ValueError(f"lax.{fn}: the {what} {out} has a negative entry")
    return out


def _axis(axis: int, ndim: int, fn: str, what: str = "axis") -> int:
    axis = operator.index(axis)
    if not -ndim <= axis < builtins.max(ndim, 1):
        raise ValueError(f"lax.{fn}: {what} {axis} is out of bounds for an array of rank {ndim}")
    return axis % builtins.max(ndim, 1)


# ---- constants of a shape -------------------------------------------------------------------


def iota(dtype: Any, size: int) -> Array:
    """The integers ``0, 1, ..., size - 1`` as a 1-d array of `dtype`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        print(lax.iota(np.float32, 4))
        ```
    """
    (n,) = _shape(size, "iota", "size")
    return as_array(np.arange(n, dtype=np.dtype(dtype)))


def broadcasted_iota(
    dtype: Any, shape: Shape, dimension: int, *, out_sharding: Any = None
) -> Array:
    """An array of `shape` whose entries count ``0, 1, ...`` along `dimension` (`out_sharding`
    is accepted for JAX compatibility and ignored: funcdiff runs on one CPU).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        print(lax.broadcasted_iota(np.int32, (2, 3), 1))
        ```
    """
    shape = _shape(shape, "broadcasted_iota")
    d = _axis(dimension, len(shape), "broadcasted_iota", "dimension")
    return sh.broadcast_in_dim(iota(dtype, shape[d]), shape, (d,))


def full(shape: Shape, fill_value: Any, dtype: Any = None, *, sharding: Any = None) -> Array:
    """An array of `shape` filled with the scalar `fill_value` (which may be traced), of
    `dtype` or else of `fill_value`'s dtype (a Python scalar stays weakly typed). `sharding`
    is accepted and ignored.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff import lax

        print(lax.full((2, 3), 1.5, np.float32))
        print(funcdiff.grad(lambda v: lax.full((3,), v).sum())(2.0))
        ```
    """
    shape = _shape(shape, "full")
    if np.ndim(fill_value) != 0:
        raise TypeError(
            f"lax.full: fill_value must be a scalar, got an array of shape {np.shape(fill_value)}"
            "; use lax.broadcast_in_dim or jnp.broadcast_to to broadcast an array"
        )
    if dtype is not None:
        fill_value = ew.convert_element_type(fill_value, np.dtype(dtype))
    return sh.broadcast_in_dim(fill_value, shape, ())


def full_like(
    x: Any, fill_value: Any, dtype: Any = None, shape: Shape | None = None, sharding: Any = None
) -> Array:
    """An array like `x` (its shape and dtype, unless `shape` or `dtype` are given) filled with
    `fill_value`. `sharding` is accepted and ignored.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        print(lax.full_like(np.zeros(3, np.float32), 7))
        ```
    """
    aval = core.get_aval(x)
    out_dtype = aval.dtype if dtype is None else np.dtype(dtype)
    return full(aval.shape if shape is None else shape, fill_value, out_dtype)


def empty(shape: Shape, dtype: Any, *, out_sharding: Any = None) -> Array:
    """An array of `shape` and `dtype` whose contents are unspecified in JAX; funcdiff fills it
    with zeros (it never hands out uninitialised memory).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        print(lax.empty((2,), np.float32).shape)
        ```
    """
    return full(shape, np.zeros((), np.dtype(dtype)))


# ---- shapes ---------------------------------------------------------------------------------


def broadcast(operand: Any, sizes: Shape, *, out_sharding: Any = None) -> Array:
    """`operand` with new leading axes of the given `sizes`: the result's shape is
    ``(*sizes, *operand.shape)``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        print(lax.broadcast(np.array([1.0, 2.0]), (3,)))
        ```
    """
    sizes = _shape(sizes, "broadcast", "sizes")
    shape = (*sizes, *core.get_aval(operand).shape)
    return sh.broadcast_in_dim(operand, shape, tuple(range(len(sizes), len(shape))))


def broadcast_to_rank(x: Any, rank: int) -> Array:
    """`x` with leading axes of size 1 added until it has `rank` axes (unchanged if it has
    that many or more).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        print(lax.broadcast_to_rank(np.ones(3), 3).shape)
        ```
    """
    ndim = core.get_aval(x).ndim
    rank = operator.index(rank)
    if ndim >= rank:
        return core.unchanged(x)
    return broadcast(x, (1,) * (rank - ndim))


def broadcast_shapes(*shapes: Shape) -> tuple[int, ...]:
    """The shape NumPy's broadcasting gives arrays of these shapes, or a `ValueError`.

    !!! Example
        ```python
        from funcdiff import lax

        print(lax.broadcast_shapes((2, 1), (1, 4)), lax.broadcast_shapes((2, 3), (3,)))
        ```
    """
    normal = [_shape(s, "broadcast_shapes") for s in shapes]
    if not normal:
        return ()
    try:
        return tuple(_broadcast_shapes(*normal))
    except TypeError as e:
        raise ValueError(f"lax.broadcast_shapes: incompatible shapes: {e}") from None


def collapse(operand: Any, start_dimension: int, stop_dimension: int | None = None) -> Array:
    """`operand` with its axes ``start_dimension`` up to (not including) `stop_dimension`
    (default: to the end) merged into one.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        x = np.ones((2, 3, 4))
        print(lax.collapse(x, 0, 2).shape, lax.collapse(x, 1).shape)
        ```
    """
    shape = core.get_aval(operand).shape
    start, stop = builtins.slice(start_dimension, stop_dimension).indices(len(shape))[:2]
    if start > stop:
        raise ValueError(
            f"lax.collapse: start_dimension {start_dimension} is after stop_dimension "
            f"{stop_dimension} for an array of shape {shape}"
        )
    size = int(np.prod(shape[start:stop], dtype=np.int64))
    return sh.reshape(operand, (*shape[:start], size, *shape[stop:]))


def stack(operands: Sequence[Any], axis: int = 0) -> Array:
    """Stack arrays of one shape along a new axis.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        print(lax.stack([np.array([1.0, 2.0]), np.array([3.0, 4.0])], axis=1))
        ```
    """
    operands = list(operands)
    if not operands:
        raise ValueError("lax.stack needs at least one array")
    ndim = core.get_aval(operands[0]).ndim
    a = _axis(axis, ndim + 1, "stack")
    return sh.concatenate([sh.expand_dims(x, (a,)) for x in operands], a)


def unstack(x: Any, axis: int = 0) -> tuple[Array, ...]:
    """The slices of `x` along `axis`, as a tuple of arrays of one rank less.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        print(lax.unstack(np.arange(6).reshape(2, 3), axis=1))
        ```
    """
    shape = core.get_aval(x).shape
    a = _axis(axis, len(shape), "unstack")
    return tuple(sh.squeeze(p, (a,)) for p in split(x, (1,) * shape[a], a))


def split(operand: Any, sizes: Sequence[int], axis: int = 0) -> list[Array]:
    """`operand` cut along `axis` into consecutive pieces of the given `sizes` (which must add
    up to the axis' length).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        print(lax.split(np.arange(6), (2, 4)))
        ```
    """
    shape = core.get_aval(operand).shape
    a = _axis(axis, len(shape), "split")
    sizes = _shape(sizes, "split", "sizes")
    if sum(sizes) != shape[a]:
        raise ValueError(
            f"lax.split: sizes {sizes} add up to {sum(sizes)}, but axis {a} of the operand "
            f"(shape {shape}) has length {shape[a]}"
        )
    pieces, start = [], 0
    for n in sizes:
        lo, hi = [0] * len(shape), list(shape)
        lo[a], hi[a] = start, start + n
        pieces.append(sh.slice(operand, lo, hi))
        start += n
    return pieces


def tile(operand: Any, reps: Sequence[int]) -> Array:
    """`operand` repeated `reps[i]` times along each axis `i` (one entry per axis).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        print(lax.tile(np.array([[1, 2]]), (2, 3)))
        ```
    """
    shape = core.get_aval(operand).shape
    reps = _shape(reps, "tile", "reps")
    if len(reps) != len(shape):
        raise ValueError(
            f"lax.tile: reps must have one entry per axis of the operand, got len(reps)="
            f"{len(reps)} for an operand of shape {shape}"
        )
    # broadcast to (r0, n0, r1, n1, ...) and merge each pair
    inter = tuple(v for pair in zip(reps, shape) for v in pair)
    dims = tuple(range(1, 2 * len(shape), 2))
    out = sh.broadcast_in_dim(operand, inter, dims)
    return sh.reshape(out, tuple(r * n for r, n in zip(reps, shape)))


# ---- arithmetic -----------------------------------------------------------------------------


def dot(
    lhs: Any,
    rhs: Any,
    *,
    dimension_numbers: Any = None,
    precision: Any = None,
    preferred_element_type: Any = None,
    out_sharding: Any = None,
) -> Array:
    """Vector and matrix products: `lhs` (rank 1 or 2) contracted over its last axis with the
    first axis of `rhs` (rank 1 or 2); with `dimension_numbers`, any `dot_general`.
    `precision` and `out_sharding` are accepted and ignored (NumPy computes in the operands'
    precision); `preferred_element_type` sets the result's dtype.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        print(lax.dot(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0])))
        ```
    """
    if dimension_numbers is None:
        ls, rs = core.get_aval(lhs).shape, core.get_aval(rhs).shape
        if not (1 <= len(ls) <= 2 and 1 <= len(rs) <= 2 and ls[-1] == rs[0]):
            raise TypeError(
                f"lax.dot takes vector/matrix operands whose inner sizes agree, got shapes {ls} "
                f"and {rs}; give dimension_numbers for other contractions (lax.dot_general)"
            )
        dimension_numbers = (((len(ls) - 1,), (0,)), ((), ()))
    out = linalg.dot_general(lhs, rhs, dimension_numbers)
    if preferred_element_type is not None:
        out = ew.convert_element_type(out, np.dtype(preferred_element_type))
    return out


def _inexact(x: Any, fn: str) -> None:
    dt = core.get_aval(x).dtype
    if dt.kind not in "fc":
        raise TypeError(
            f"lax.{fn} takes floating-point or complex operands, got {dt}; convert first with "
            "lax.convert_element_type"
        )


def reciprocal(x: Any) -> Array:
    """``1 / x``, elementwise, for floating-point and complex `x`.

    !!! Example
        ```python
        import funcdiff
        from funcdiff import lax

        print(lax.reciprocal(4.0), funcdiff.grad(lax.reciprocal)(2.0))
        ```
    """
    _inexact(x, "reciprocal")
    return ew.integer_pow(x, -1)


def exp2(x: Any, *, accuracy: Any = None) -> Array:
    """``2 ** x``, elementwise, exact at integers, for floating-point and complex `x`
    (`accuracy` is accepted for JAX compatibility and ignored).

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff import lax

        print(lax.exp2(np.array([-1.0, 0.0, 10.0])), funcdiff.grad(lax.exp2)(1.0))
        ```
    """
    _inexact(x, "exp2")
    aval = core.get_aval(x)
    two = 2.0 if aval.weak_type else np.asarray(2.0, aval.dtype)
    return tr.pow(two, x)


# ---- identities that steer XLA --------------------------------------------------------------


def _as_value(x: Any) -> Any:
    # An Array as it is; a writable NumPy array of the caller as an Array copy (later writes
    # to it must not show in the result).
    if isinstance(x, core.Tracer | np.ndarray):
        return core.unchanged(x)
    if type(x) in (int, float, complex):  # a weakly typed Array, as JAX's result
        return as_weak_array(np.asarray(x))
    return as_array(np.asarray(x))


def optimization_barrier(operand: Any, /) -> Any:
    """`operand`, a pytree of arrays, unchanged. In JAX it stops XLA from moving computations
    across it; funcdiff's `jit` does not reorder across function boundaries in a way this could
    steer, so it is the identity for every transformation (its derivative is the identity).

    !!! Example
        ```python
        import funcdiff
        from funcdiff import lax

        print(funcdiff.grad(lambda x: lax.optimization_barrier((x, 2.0))[0] ** 2)(3.0))
        ```
    """
    return tree_map(_as_value, operand)


def with_sharding_constraint(x: Any, shardings: Any) -> Any:
    """`x`, a pytree of arrays, unchanged: funcdiff runs on one CPU, so the sharding is
    accepted and ignored.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        print(lax.with_sharding_constraint(np.arange(3.0), None))
        ```
    """
    return tree_map(_as_value, x)


# ---- sorting and indexing -------------------------------------------------------------------


def sort_key_val(
    keys: Any, values: Any, dimension: int = -1, is_stable: bool = True
) -> tuple[Array, Array]:
    """`keys` sorted along `dimension`, and `values` (of the same shape) permuted alongside.
    The sort is always stable (`is_stable` is accepted for JAX compatibility).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        print(lax.sort_key_val(np.array([3, 1, 2]), np.array([10.0, 20.0, 30.0])))
        ```
    """
    ka, va = core.get_aval(keys), core.get_aval(values)
    if ka.shape != va.shape:
        raise TypeError(f"lax.sort_key_val: keys {ka.shape} and values {va.shape} differ in shape")
    dim = _axis(dimension, ka.ndim, "sort_key_val", "dimension")
    order = so.argsort(keys, dim, False)
    return so.take_along(keys, order, dim), so.take_along(values, order, dim)


def index_take(src: Any, idxs: Sequence[Any], axes: Sequence[int]) -> Array:
    """The elements of `src` at the index arrays `idxs` (one 1-d integer array of length N
    per axis in `axes`; negative indices and indices past the end wrap around, modulo the
    axis' size): the result's shape is ``(N, *the other axes of src)``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        src = np.arange(24).reshape(2, 3, 4)
        print(lax.index_take(src, (np.array([0, 1]), np.array([2, -1])), (0, 2)))
        ```
    """
    shape = core.get_aval(src).shape
    axes = tuple(_axis(a, len(shape), "index_take") for a in axes)
    idxs = list(idxs)
    if len(idxs) != len(axes) or len(set(axes)) != len(axes):
        raise ValueError(
            f"lax.index_take needs one index array per axis and distinct axes, got {len(idxs)} "
            f"index arrays for axes {axes}"
        )
    wrapped = []
    for i, a in zip(idxs, axes):
        ia = core.get_aval(i)
        if ia.dtype.kind not in "iu" or ia.ndim != 1:
            raise TypeError(
                f"lax.index_take: index arrays must be 1-d integers, got {ia.str_short()}"
            )
        r = ew.rem(i, np.asarray(shape[a], ia.dtype))
        wrapped.append(
            ew.select(ew.lt(r, 0), ew.add(r, np.asarray(shape[a], ia.dtype)), r)
            if ia.dtype.kind == "i"
            else r
        )
    others = [d for d in range(len(shape)) if d not in axes]
    moved = (
        sh.transpose(src, (*axes, *others))
        if axes + tuple(others) != tuple(range(len(shape)))
        else src
    )
    return ix.gather(moved, wrapped, tuple(range(len(axes))) + (-1,) * len(others))


# ---- more shapes and products ---------------------------------------------------------------


def broadcast_like(arr: Any, like_arr: Any) -> Array:
    """`arr` broadcast (NumPy-style, trailing axes aligned) to the shape of `like_arr`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        print(lax.broadcast_like(np.array([1, 2, 3]), np.zeros((2, 3))))
        ```
    """
    shape = core.get_aval(like_arr).shape
    try:
        fits = tuple(_broadcast_shapes(core.get_aval(arr).shape, shape)) == tuple(shape)
    except TypeError:
        fits = False
    if not fits:
        raise ValueError(
            f"lax.broadcast_like: shape {core.get_aval(arr).shape} cannot be broadcast to {shape}"
        )
    return sh.broadcast_to(arr, shape)


def batch_matmul(lhs: Any, rhs: Any, precision: Any = None) -> Array:
    """Matrix products over matching leading batch axes: ``lhs[..., i, j] @ rhs[..., j, k]``,
    both of one rank, at least 2 (`precision` is accepted and ignored).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        a, b = np.ones((4, 2, 3)), np.ones((4, 3, 5))
        print(lax.batch_matmul(a, b).shape)
        ```
    """
    ln, rn = core.get_aval(lhs).ndim, core.get_aval(rhs).ndim
    if min(ln, rn) < 2 or ln != rn:
        raise ValueError(
            f"lax.batch_matmul takes arrays of one rank, at least 2, got ranks {ln} and {rn}"
        )
    batch = tuple(range(ln - 2))
    return linalg.dot_general(lhs, rhs, (((ln - 1,), (rn - 2,)), (batch, batch)))
