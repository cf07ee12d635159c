"""Abstract values: `ShapedArray`, the shape, dtype and weak type of an array, which is all a
transformation knows of a traced value, and the shared abstract values of Python scalars.

The lowest module of `funcdiff._src.core`: it knows no tracer, no primitive and no IR.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from funcdiff._src import dtypes

# ---- abstract values ------------------------------------------------------------------------


class ShapedArray:
    """The abstract value of an array: its shape, dtype and whether it is weakly typed.

    A weakly typed value comes from a Python scalar; it takes the dtype of the arrays it
    meets (``x32 * 2.0`` is float32), following NumPy's NEP 50 and JAX.
    """

    __slots__ = ("shape", "dtype", "weak_type")

    def __init__(self, shape: Sequence[int], dtype: Any, weak_type: bool = False):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.weak_type = weak_type

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def str_short(self) -> str:
        return f"{dtypes.short_name(self.dtype)}[{','.join(map(str, self.shape))}]"

    def update(self, shape=None, dtype=None, weak_type=None) -> ShapedArray:
        return ShapedArray(
            self.shape if shape is None else shape,
            self.dtype if dtype is None else dtype,
            self.weak_type if weak_type is None else weak_type,
        )

    def strip_weak_type(self) -> ShapedArray:
        return ShapedArray(self.shape, self.dtype) if self.weak_type else self

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ShapedArray)
            and self.shape == other.shape
            and self.dtype == other.dtype
            and self.weak_type == other.weak_type
        )

    def __hash__(self) -> int:
        return hash((self.shape, self.dtype, self.weak_type))

    def __repr__(self) -> str:
        weak = ", weak_type=True" if self.weak_type else ""
        return f"ShapedArray({self.str_short()}{weak})"

    def __str__(self) -> str:  # JAX's form: float32[2,3], ~ marking a weak type
        return f"{'~' if self.weak_type else ''}{self.dtype.name}[{','.join(map(str, self.shape))}]"


_PY_SCALARS = (bool, int, float, complex)
_PY_SCALAR_TYPES = frozenset(_PY_SCALARS)
# Tuples, not ``X | Y`` unions: the operator builds a new union object on every call.
_NUMPY_VALUES = (np.ndarray, np.generic)


def value_kind(x: Any) -> str:
    """What `x` is, for a message about a value that is not an array: its type, and its dtype
    for a NumPy array or scalar (a string, object or datetime array)."""
    if isinstance(x, _NUMPY_VALUES):
        return f"{type(x).__name__} of dtype {x.dtype}"
    return type(x).__name__


def _shaped(shape: tuple[int, ...], dtype: np.dtype, weak_type: bool = False) -> ShapedArray:
    """Build a ShapedArray from an already-canonical shape tuple and dtype (the hot path)."""
    aval = object.__new__(ShapedArray)
    aval.shape = shape
    aval.dtype = dtype
    aval.weak_type = weak_type
    return aval


# Abstract values are immutable, so Python scalars share one each.
_SCALAR_AVALS = {
    t: ShapedArray((), dtypes.dtype_of_python_scalar(t()), weak_type=True) for t in _PY_SCALARS
}
