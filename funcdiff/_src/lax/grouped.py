"""Two `jax.lax` products composed from funcdiff's primitives: `ragged_dot`, a matrix
product whose rows use one of several right-hand matrices by consecutive groups (the layer
of a mixture of experts), and `conv_general_dilated_patches`, the patches a convolution
would multiply, laid out along the feature dimension (a convolution with a one-hot kernel).

Being compositions, both are differentiable, batchable and jittable as their parts are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes
from funcdiff._src.lax import convolution as cv
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import indexing as ix
from funcdiff._src.lax import linalg
from funcdiff._src.lax import reductions as red
from funcdiff._src.lax import shape as sh

Array = Any


def ragged_dot(
    lhs: Array,
    rhs: Array,
    group_sizes: Array,
    precision: Any = None,
    preferred_element_type: Any = None,
    group_offset: Array | None = None,
) -> Array:
    """The product of `lhs` (``(m, k)``) with one of the matrices of `rhs` (``(g, k, n)``)
    per row: the first ``group_sizes[0]`` rows of `lhs` use ``rhs[0]``, the next
    ``group_sizes[1]`` rows ``rhs[1]``, and so on; rows past ``sum(group_sizes)`` are zero,
    as in JAX's `lax.ragged_dot`. The result is ``(m, n)``, of the operands' promoted dtype
    (or `preferred_element_type`). Differentiable in `lhs` and `rhs`; `group_sizes` is
    integer data. `precision` is accepted for compatibility and ignored.

    Each row reads its matrix by a gather, so the work is that of ``m`` matrix-vector
    products, whatever the number of groups.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        lhs = np.ones((4, 2))
        rhs = np.stack([np.eye(2), 2 * np.eye(2)])      # two groups
        print(lax.ragged_dot(lhs, rhs, np.array([1, 2], np.int32)))  # rows 1-2 doubled
        ```
    """
    del precision
    if group_offset is not None:
        raise NotImplementedError(
            "lax.ragged_dot: group_offset is not supported (JAX's own ragged_dot does not "
            "accept it outside sharded programs); slice `rhs` and `group_sizes` instead"
        )
    la, ra, ga = (core.get_aval(v) for v in (lhs, rhs, group_sizes))
    if la.ndim != 2 or ra.ndim != 3 or ga.shape != ra.shape[:1] or la.shape[1] != ra.shape[1]:
        raise TypeError(
            f"lax.ragged_dot: expected lhs (m, k), rhs (g, k, n) and group_sizes (g,), got "
            f"{la.str_short()}, {ra.str_short()} and {ga.str_short()}"
        )
    if ga.dtype.kind not in "iu":
        raise TypeError(f"lax.ragged_dot: group_sizes must be integers, got {ga.dtype}")
    dtype, _ = dtypes.result_type((la.dtype, la.weak_type), (ra.dtype, ra.weak_type))
    dtype = np.dtype(dtype)
    m, g = la.shape[0], ra.shape[0]
    ends = red.cumsum(ew.convert_element_type(group_sizes, np.int64))
    rows = np.arange(m, dtype=np.int64)
    # The group of each row: how many groups end at or before it.
    past = ew.ge(sh.broadcast_in_dim(rows, (m, g), (0,)), sh.broadcast_in_dim(ends, (m, g), (1,)))
    group = red.reduce_sum(ew.convert_element_type(past, np.int64), (1,))
    inside = ew.lt(group, np.int64(g))
    if g == 0:
        return ew.convert_element_type(np.zeros((m, ra.shape[2])), preferred_element_type or dtype)
    per_row = ix.gather(rhs, [ew.min(group, np.int64(g - 1))], (0, -1, -1))  # (m, k, n)
    out = linalg.dot_general(
        ew.convert_element_type(lhs, dtype),
        ew.convert_element_type(per_row, dtype),
        (((1,), (1,)), ((0,), (0,))),
    )
    mask = sh.broadcast_in_dim(inside, core.get_aval(out).shape, (0,))
    out = ew.select(mask, out, ew.zeros_like(out))
    if preferred_element_type is not None:
        out = ew.convert_element_type(out, np.dtype(preferred_element_type))
    return out


def conv_general_dilated_patches(
    lhs: Array,
    filter_shape: Sequence[int],
    window_strides: Sequence[int],
    padding: Any,
    lhs_dilation: Sequence[int] | None = None,
    rhs_dilation: Sequence[int] | None = None,
    dimension_numbers: Any = None,
    precision: Any = None,
    preferred_element_type: Any = None,
) -> Array:
    """The patches of `lhs` that `conv_general_dilated` with a kernel of spatial shape
    `filter_shape` (and the same strides, padding and dilations) would multiply, flattened
    into the feature dimension of the result, as JAX's `lax.conv_general_dilated_patches`:
    output feature ``c * prod(filter_shape) + p`` holds input feature ``c`` at position ``p``
    (row-major) of the window. The layout follows `dimension_numbers`, as in
    `conv_general_dilated` (its kernel spec places `filter_shape`'s axes). Linear in `lhs`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        x = np.arange(9.0).reshape(1, 1, 3, 3)                   # N C H W
        patches = lax.conv_general_dilated_patches(x, (2, 2), (1, 1), "VALID")
        print(patches.shape)
        print(patches[0, :, 0, 0])                                # the top-left 2x2 window
        ```
    """
    filter_shape = tuple(int(k) for k in filter_shape)
    shape = core.get_aval(lhs).shape
    dn = cv.conv_dimension_numbers(shape, (1, 1, *filter_shape), dimension_numbers)
    channels, size = shape[dn.lhs_spec[1]], math.prod(filter_shape)
    # One one-hot kernel per (feature, window position), each reading its own feature.
    kernel = np.eye(size, dtype=core.get_aval(lhs).dtype).reshape(size, 1, *filter_shape)
    kernel = np.tile(kernel, (channels,) + (1,) * (kernel.ndim - 1))
    kernel = np.transpose(kernel, np.argsort(dn.rhs_spec))  # into the kernel spec's layout
    return cv.conv_general_dilated(
        lhs,
        kernel,
        window_strides,
        padding,
        lhs_dilation=lhs_dilation,
        rhs_dilation=rhs_dilation,
        dimension_numbers=dn,
        feature_group_count=channels,
        precision=precision,
        preferred_element_type=preferred_element_type,
    )
