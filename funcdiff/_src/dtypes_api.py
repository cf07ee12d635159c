"""The public dtype helpers of `jax.dtypes` and the type aliases of `jax.typing`, with
funcdiff's rules: NumPy dtypes and promotion (NEP 50), 64-bit types always kept."""

from __future__ import annotations

from typing import Any, Protocol, TypeAlias

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src import dtypes
from funcdiff._src.array import Array
from funcdiff._src.numpy._util import aval

__all__ = [
    "ArrayLike",
    "DTypeLike",
    "canonicalize_dtype",
    "itemsize_bits",
    "result_type",
    "scalar_type_of",
]

#: Anything funcdiff accepts as an array argument: an Array, a NumPy array or scalar, or a
#: Python scalar. It works with ``isinstance``.
ArrayLike: TypeAlias = Array | np.ndarray | np.bool_ | np.number | bool | int | float | complex


class _SupportsDType(Protocol):
    @property
    def dtype(self) -> np.dtype: ...


#: Anything that names a dtype: a string (``"float32"``), a scalar type (``np.float32``,
#: ``float``), a ``numpy.dtype``, or an object with a ``dtype`` attribute.
DTypeLike: TypeAlias = str | type[Any] | np.dtype | _SupportsDType


def canonicalize_dtype(dtype: DTypeLike, allow_extended_dtype: bool = False) -> np.dtype:
    """The dtype funcdiff computes `dtype` as.

    In JAX with 64-bit types off this narrows `float64` to `float32`; funcdiff always keeps
    64-bit types (as JAX with ``jax_enable_x64``), so the result is `numpy.dtype(dtype)`.
    A name that is not a dtype raises `TypeError`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import dtypes

        print(dtypes.canonicalize_dtype(float), dtypes.canonicalize_dtype("int32"))
        ```
    """
    if not isinstance(dtype, str | type | np.dtype) and hasattr(dtype, "dtype"):
        dtype = dtype.dtype
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"canonicalize_dtype: {dtype!r} is not a dtype") from None


def result_type(*args: Any, return_weak_type_flag: bool = False) -> Any:
    """The dtype of an operation on `args` (dtypes, arrays or scalars), by funcdiff's promotion.

    Python scalars are weakly typed: they take the dtype of the arrays they meet. With
    `return_weak_type_flag`, returns ``(dtype, weak)``, where `weak` says the result is itself
    weakly typed (every argument was a Python scalar).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import dtypes

        print(dtypes.result_type(np.float32, 2.0))
        print(dtypes.result_type(2.0, 3, return_weak_type_flag=True))
        ```
    """
    if not args:
        raise ValueError("result_type: at least one argument is required")
    pairs = []
    for a in args:
        if isinstance(a, str | np.dtype | type) and not isinstance(a, Array):
            pairs.append((canonicalize_dtype(a), False))
        else:
            v = aval(jnp.asarray(a))
            pairs.append((v.dtype, v.weak_type))
    dtype, weak = dtypes.result_type(*pairs)
    return (dtype, weak) if return_weak_type_flag else dtype


def scalar_type_of(x: Any) -> type:
    """The Python scalar type (`bool`, `int`, `float` or `complex`) matching `x`'s dtype.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import dtypes

        print(dtypes.scalar_type_of(np.float32(1)), dtypes.scalar_type_of(np.arange(3)))
        ```
    """
    kind = np.result_type(x).kind
    for kinds, scalar in (("b", bool), ("iu", int), ("f", float), ("c", complex)):
        if kind in kinds:
            return scalar
    raise TypeError(f"scalar_type_of: {x!r} has dtype {np.result_type(x)}, which is not numeric")


def itemsize_bits(dtype: DTypeLike) -> int:
    """The number of bits of one element of `dtype`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import dtypes

        print(dtypes.itemsize_bits(np.float32), dtypes.itemsize_bits("bool"))
        ```
    """
    return canonicalize_dtype(dtype).itemsize * 8
