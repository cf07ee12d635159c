"""`ShapeDtypeStruct`: the shape and dtype of an array, without its values.

It stands for an argument wherever only shapes and dtypes matter (`eval_shape`,
`make_jaxpr`, `jit(f).trace`/`lower`), and `eval_shape` returns its results as these.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from funcdiff._src.array import as_weak_array
from funcdiff._src.tree_util import tree_map

__all__ = ["ShapeDtypeStruct", "placeholders"]


class ShapeDtypeStruct:
    """The shape and dtype of an array, with no values: JAX's `jax.ShapeDtypeStruct`.

    **Arguments:**

    - `shape`: a sequence of non-negative integers.
    - `dtype`: anything `numpy.dtype` accepts.
    - `weak_type`: whether it stands for a weakly typed value (a Python scalar's type).
    - `sharding`: accepted for JAX compatibility; only `None` (one CPU) is meaningful.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        x = funcdiff.ShapeDtypeStruct((3, 4), np.float32)
        print(funcdiff.eval_shape(lambda a: jnp.sum(a, axis=0), x))
        ```
    """

    __slots__ = ("shape", "dtype", "weak_type", "sharding")

    def __init__(
        self, shape: Any, dtype: Any, *, weak_type: bool = False, sharding: Any = None
    ) -> None:
        try:
            dims = tuple(operator.index(d) for d in shape)
        except TypeError:
            raise TypeError(
                f"ShapeDtypeStruct: shape must be a sequence of integers, got {shape!r}"
            ) from None
        if any(d < 0 for d in dims):
            raise ValueError(f"ShapeDtypeStruct: shape {dims} has a negative dimension")
        if dtype is None:
            raise TypeError("ShapeDtypeStruct: dtype must be given (e.g. numpy.float32)")
        self.shape = dims
        self.dtype = np.dtype(dtype)
        self.weak_type = bool(weak_type)
        self.sharding = sharding

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ShapeDtypeStruct)
            and self.shape == other.shape
            and self.dtype == other.dtype
            and self.weak_type == other.weak_type
        )

    def __hash__(self) -> int:
        return hash((self.shape, self.dtype, self.weak_type))

    def __repr__(self) -> str:
        weak = ", weak_type=True" if self.weak_type else ""
        return f"ShapeDtypeStruct(shape={self.shape}, dtype={self.dtype.name}{weak})"


_WEAK_SCALARS = {"b": False, "i": 0, "f": 0.0, "c": 0j}  # Python scalars are funcdiff's weak types


def _placeholder(x: Any) -> Any:
    if not isinstance(x, ShapeDtypeStruct):
        return x
    # A read-only zero-stride view: the right shape and dtype without allocating the array.
    empty = np.broadcast_to(np.zeros((), x.dtype), x.shape)
    if x.weak_type:
        if x.shape:
            return as_weak_array(empty)
        scalar = _WEAK_SCALARS.get(x.dtype.kind)
        if scalar is None or np.asarray(scalar).dtype != x.dtype:
            raise TypeError(
                f"{x!r}: funcdiff traces a weakly typed 0-d value only as a Python scalar, "
                f"of its kind's default dtype (float64, int64, complex128 or bool); drop "
                f"weak_type=True to trace a {x.dtype.name}[] array"
            )
        return scalar
    return empty


def placeholders(tree: Any) -> Any:
    """`tree` with each `ShapeDtypeStruct` leaf replaced by an array of its shape and dtype
    that costs no memory, for tracing (which reads only shapes and dtypes)."""
    return tree_map(_placeholder, tree)
