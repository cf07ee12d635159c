"""JAX's one-dimension conveniences over the slicing primitives (`dynamic_slice_in_dim`,
`index_in_dim`...), `top_k`, and the `Precision` enum that contractions accept and ignore.
Compositions of existing primitives: no rules of their own."""

from __future__ import annotations

import enum
import operator
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.lax import dynamic_slicing as ds
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax import sorting
from funcdiff._src.lax.elementwise import convert_element_type

Array = Any


class Precision(enum.Enum):
    """The precision of a contraction on an accelerator (`jax.lax.Precision`). funcdiff
    computes in the operands' dtype with NumPy, so every value is accepted and has no effect.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        a = np.ones((2, 2))
        out = lax.dot_general(a, a, (((1,), (0,)), ((), ())), precision=lax.Precision.HIGHEST)
        assert np.array_equal(out, a @ a) and lax.Precision("bfloat16") is lax.Precision.DEFAULT
        ```
    """

    DEFAULT = 0
    HIGH = 1
    HIGHEST = 2

    @classmethod
    def _missing_(cls, value: object) -> Precision | None:
        # JAX also accepts the names and their aliases as strings.
        names = {"default": cls.DEFAULT, "fastest": cls.DEFAULT, "bfloat16": cls.DEFAULT,
                 "high": cls.HIGH, "bfloat16_3x": cls.HIGH, "tensorfloat32": cls.HIGH,
                 "highest": cls.HIGHEST, "float32": cls.HIGHEST}
        return names.get(value.lower()) if isinstance(value, str) else None


def _axis(x: Array, axis: int, what: str) -> tuple[tuple[int, ...], int]:
    shape = core.get_aval(x).shape
    if not -len(shape) <= axis < len(shape):
        raise ValueError(f"{what}: axis {axis} is out of range for an operand of shape {shape}")
    return shape, axis % len(shape)


def slice_in_dim(operand: Array, start_index: int | None, limit_index: int | None,
                 stride: int = 1, axis: int = 0) -> Array:
    """``operand[start:limit:stride]`` along `axis` (static bounds; negative ones count from
    the end, None means the end).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        assert lax.slice_in_dim(np.arange(6), 1, -1, stride=2).tolist() == [1, 3]
        ```
    """
    shape, axis = _axis(operand, axis, "slice_in_dim")
    start, limit, _ = slice(start_index, limit_index).indices(shape[axis])
    starts, limits, strides = [0] * len(shape), list(shape), [1] * len(shape)
    starts[axis], limits[axis], strides[axis] = start, max(start, limit), stride
    return sh.slice(operand, starts, limits, strides)



def index_in_dim(operand: Array, index: int, axis: int = 0, keepdims: bool = True) -> Array:
    """The entry at static `index` along `axis` (negative counts from the end), keeping that
    axis with size one unless ``keepdims=False``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        x = np.arange(6).reshape(2, 3)
        assert lax.index_in_dim(x, -1, axis=1, keepdims=False).tolist() == [2, 5]
        ```
    """
    shape, axis = _axis(operand, axis, "index_in_dim")
    n = shape[axis]
    if not -n <= index < n:
        raise IndexError(f"index_in_dim: index {index} is out of bounds for axis {axis} of "
                         f"size {n}")
    index = index % n
    out = slice_in_dim(operand, index, index + 1, 1, axis)
    return out if keepdims else sh.squeeze(out, (axis,))


def _starts(operand: Array, index: Array, axis: int) -> list[Any]:
    starts: list[Any] = [np.zeros((), np.int64)] * core.get_aval(operand).ndim
    starts[axis] = index
    return starts


def dynamic_slice_in_dim(operand: Array, start_index: Array, slice_size: int,
                         axis: int = 0) -> Array:
    """The slice of static size `slice_size` starting at a (possibly traced) `start_index`
    along `axis`, clamped to stay in bounds as `dynamic_slice`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        assert lax.dynamic_slice_in_dim(np.arange(5), 3, 3).tolist() == [2, 3, 4]  # clamped
        ```
    """
    shape, axis = _axis(operand, axis, "dynamic_slice_in_dim")
    sizes = list(shape)
    sizes[axis] = slice_size
    return ds.dynamic_slice(operand, _starts(operand, start_index, axis), sizes)


def dynamic_index_in_dim(operand: Array, index: Array, axis: int = 0,
                         keepdims: bool = True) -> Array:
    """The entry at a (possibly traced) `index` along `axis`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        x = np.arange(6.0).reshape(3, 2)
        assert lax.dynamic_index_in_dim(x, 1, keepdims=False).tolist() == [2.0, 3.0]
        ```
    """
    _, axis = _axis(operand, axis, "dynamic_index_in_dim")
    out = dynamic_slice_in_dim(operand, index, 1, axis)
    return out if keepdims else sh.squeeze(out, (axis,))


def dynamic_update_slice_in_dim(operand: Array, update: Array, start_index: Array,
                                axis: int) -> Array:
    """`operand` with `update` written from a (possibly traced) `start_index` along `axis`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        out = lax.dynamic_update_slice_in_dim(np.zeros(4), np.ones(2), 1, axis=0)
        assert out.tolist() == [0.0, 1.0, 1.0, 0.0]
        ```
    """
    _, axis = _axis(operand, axis, "dynamic_update_slice_in_dim")
    return ds.dynamic_update_slice(operand, update, _starts(operand, start_index, axis))


def dynamic_update_index_in_dim(operand: Array, update: Array, index: Array,
                                axis: int) -> Array:
    """`operand` with the entry at `index` along `axis` replaced by `update` (which may lack
    that axis).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        out = lax.dynamic_update_index_in_dim(np.zeros((2, 2)), np.ones(2), 1, axis=0)
        assert out.tolist() == [[0.0, 0.0], [1.0, 1.0]]
        ```
    """
    _, axis = _axis(operand, axis, "dynamic_update_index_in_dim")
    if core.get_aval(update).ndim == core.get_aval(operand).ndim - 1:
        update = sh.expand_dims(update, (axis,))
    return dynamic_update_slice_in_dim(operand, update, index, axis)


def top_k(operand: Array, k: int, *, axis: int = -1) -> tuple[Array, Array]:
    """The `k` largest entries along `axis` (the last by default), in decreasing order, and
    their int32 indices (the lower index first among equal entries); differentiable in the
    values.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        values, indices = lax.top_k(np.array([1.0, 5.0, 3.0, 5.0]), 2)
        assert values.tolist() == [5.0, 5.0] and indices.tolist() == [1, 3]
        values, _ = lax.top_k(np.array([[1.0, 4.0], [3.0, 2.0]]), 1, axis=0)
        assert values.tolist() == [[3.0, 4.0]]
        ```
    """
    shape = core.get_aval(operand).shape
    if not shape:
        raise ValueError("top_k: the operand must have at least one axis, got a scalar")
    if not isinstance(axis, int | np.integer) or not -len(shape) <= axis < len(shape):
        raise ValueError(f"top_k: axis {axis!r} is out of range for the operand of shape "
                         f"{shape}")
    axis = int(axis) % len(shape)
    if not isinstance(k, int | np.integer) or not 0 <= k <= shape[axis]:
        raise ValueError(f"top_k: k must be an int in [0, {shape[axis]}] (the size of axis "
                         f"{axis} of the operand of shape {shape}), got {k!r}")
    order = sorting.argsort(operand, axis, descending=True)
    limit = list(shape)
    limit[axis] = int(k)
    indices = sh.slice(order, [0] * len(shape), limit)
    values = sorting.take_along(operand, indices, axis)
    return values, convert_element_type(indices, np.int32)


# ---- approx_max_k, approx_min_k: exact ------------------------------------------------------

def _top(operand: Any, k: int, dimension: int, descending: bool, fn: str) -> tuple:
    aval = core.get_aval(operand)
    if not -aval.ndim <= dimension < max(aval.ndim, 1):
        raise ValueError(f"lax.{fn}: reduction_dimension {dimension} is out of range for "
                         f"shape {aval.shape}")
    d = dimension % max(aval.ndim, 1)
    k = operator.index(k)
    if not 0 <= k <= aval.shape[d]:
        raise ValueError(f"lax.{fn}: k={k} is out of range for an axis of size {aval.shape[d]}")
    order = sorting.argsort(operand, d, descending)
    lo, hi = [0] * aval.ndim, list(aval.shape)
    hi[d] = k
    first = sh.slice(order, lo, hi)
    return sorting.take_along(operand, first, d), convert_element_type(first, np.int32)


def approx_max_k(
    operand: Any,
    k: int,
    reduction_dimension: int = -1,
    recall_target: float = 0.95,
    reduction_input_size_override: int = -1,
    aggregate_to_topk: bool = True,
) -> tuple[Array, Array]:
    """The `k` largest values along `reduction_dimension` and their int32 indices. JAX's TPU
    algorithm is approximate (it may miss some with probability ``1 - recall_target``);
    funcdiff computes the exact answer, which meets any recall target, so the tuning
    arguments are accepted and ignored. Ties keep their order; NaNs come first.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        print(lax.approx_max_k(np.array([[3.0, 1.0, 4.0, 1.5]]), 2))
        ```
    """
    return _top(operand, k, reduction_dimension, True, "approx_max_k")


def approx_min_k(
    operand: Any,
    k: int,
    reduction_dimension: int = -1,
    recall_target: float = 0.95,
    reduction_input_size_override: int = -1,
    aggregate_to_topk: bool = True,
) -> tuple[Array, Array]:
    """The `k` smallest values along `reduction_dimension` and their int32 indices, exactly
    (see `approx_max_k`).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        print(lax.approx_min_k(np.array([3.0, 1.0, 4.0, 1.5]), 2))
        ```
    """
    return _top(operand, k, reduction_dimension, False, "approx_min_k")
