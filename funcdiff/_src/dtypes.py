"""Dtype helpers: NumPy dtypes, JAX-style weak types for Python scalars, and short names.

funcdiff follows NumPy 2 (NEP 50) for promotion. A Python scalar (``2.0``, ``3``) is
*weakly typed*: it adapts to the dtype of the array it meets, so ``x32 * 2.0`` stays float32.
Abstract values carry a ``weak_type`` flag so that traced code promotes exactly as eager code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "float0",
    "is_float",
    "is_complex",
    "is_inexact",
    "is_integer",
    "is_bool",
    "short_name",
    "result_type",
    "dtype_of_python_scalar",
    "real_dtype",
]

# The tangent dtype of integer and boolean values (as in JAX): an empty structured dtype.
float0 = np.dtype([("float0", np.void, 0)])

_PY_SCALAR_DTYPES: dict[type, np.dtype] = {
    bool: np.dtype(np.bool_),
    int: np.dtype(np.int64),
    float: np.dtype(np.float64),
    complex: np.dtype(np.complex128),
}
# A representative Python value of each weak kind, for np.result_type (NEP 50 treats Python
# scalars as weak).
_WEAK_REPRESENTATIVE: dict[str, Any] = {"b": False, "i": 0, "u": 0, "f": 0.0, "c": 0j}

_SHORT = {
    "float64": "f64",
    "float32": "f32",
    "float16": "f16",
    "complex128": "c128",
    "complex64": "c64",
    "int64": "i64",
    "int32": "i32",
    "int16": "i16",
    "int8": "i8",
    "uint64": "u64",
    "uint32": "u32",
    "uint16": "u16",
    "uint8": "u8",
    "bool": "bool",
}


_short_cache: dict[np.dtype, str] = {}


def short_name(dtype: np.dtype) -> str:
    """Short printable name of a dtype, as in a jaxpr listing (``f64``, ``i32``, ``bool``)."""
    name = _short_cache.get(dtype)
    if name is None:
        name = "float0" if dtype == float0 else _SHORT.get(dtype.name, dtype.name)
        _short_cache[dtype] = name
    return name


def dtype_of_python_scalar(x: Any) -> np.dtype:
    return _PY_SCALAR_DTYPES[type(x)]


def is_float(dtype: np.dtype) -> bool:
    return dtype.kind == "f"


def is_complex(dtype: np.dtype) -> bool:
    return dtype.kind == "c"


def is_inexact(dtype: np.dtype) -> bool:
    return dtype.kind in "fc"


def is_integer(dtype: np.dtype) -> bool:
    return dtype.kind in "iu"


def is_bool(dtype: np.dtype) -> bool:
    return dtype.kind == "b"


def real_dtype(dtype: np.dtype) -> np.dtype:
    """The real dtype underlying a complex one (``c64 -> f32``); other dtypes are returned."""
    if dtype.kind == "c":
        return np.dtype(np.float32) if dtype == np.complex64 else np.dtype(np.float64)
    return dtype


_result_cache: dict[tuple, tuple[np.dtype, bool]] = {}


def result_type(*dtypes_and_weak: tuple[np.dtype, bool]) -> tuple[np.dtype, bool]:
    """NumPy (NEP 50) promotion of ``(dtype, weak_type)`` pairs.

    Returns the result dtype and whether the result is itself weak (only when every
    operand is weak, as in JAX).
    """
    key = dtypes_and_weak
    hit = _result_cache.get(key)
    if hit is not None:
        return hit
    strong = [d for d, w in dtypes_and_weak if not w]
    weak = [_WEAK_REPRESENTATIVE[d.kind] for d, w in dtypes_and_weak if w]
    if strong:
        out = (np.result_type(*strong, *weak), False)
    else:
        # All weak: the widest kind wins, at its default precision.
        dt = max((d for d, _ in dtypes_and_weak), key=lambda d: "biufc".index(d.kind))
        out = (dt, True)
    _result_cache[key] = out
    return out
