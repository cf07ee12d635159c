"""Argument handling shared by the `funcdiff.numpy` functions: conversion and promotion."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes, errors
from funcdiff._src.array import Array as _Array
from funcdiff._src.array import WeakArray as _WeakArray
from funcdiff._src.array import _DeletedArray, as_array, deleted_error
from funcdiff._src.core import Tracer
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import shape as sh

Array = Any
ArrayLike = Any

# Tuples, not ``X | Y`` unions, on hot paths: the operator builds a union on every call.
_SEQUENCES = (list, tuple)
_NUMPY_VALUES = (np.ndarray, np.generic)
_PY_SCALARS = core._PY_SCALARS


def asarray(x: ArrayLike, dtype: Any = None) -> Array:
    """Convert to an array (keeping tracers, and Python scalars as weakly typed scalars).
    A funcdiff `Array` becomes a plain NumPy view of itself (read-only, no copy): the
    NumPy calls of the function that follows run at NumPy's speed, and its result becomes an
    `Array` again when it leaves `bind`."""
    if type(x) is _Array:
        x = x.view(np.ndarray)
    if isinstance(x, Tracer):
        return x if dtype is None else ew.convert_element_type(x, dtype)
    if type(x) in core._PY_SCALARS and dtype is None:
        return x
    if isinstance(x, _SEQUENCES) and _contains_tracer(x):
        out = stack_same([asarray(e) for e in x])
        return out if dtype is None else ew.convert_element_type(out, dtype)
    if isinstance(x, _NUMPY_VALUES):
        if type(x) is _DeletedArray:
            raise deleted_error(x)
        if dtype is None or x.dtype == dtype:
            return x
    out = np.asarray(x, dtype=dtype)
    if out.dtype.kind not in "biufc" and out.dtype != dtypes.float0:
        raise TypeError(
            f"{_describe_value(x)} is not a valid array: NumPy made it an array of dtype "
            f"{out.dtype}, but funcdiff arrays hold numbers (bool, integer, float or complex), "
            "as JAX's do. Pass the numbers, or a pytree of arrays to a function that takes one."
        )
    return out


def _describe_value(x: Any) -> str:
    text = repr(x)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"Value {text} of type {type(x).__name__}"


def _contains_tracer(x: Any) -> bool:
    if isinstance(x, Tracer):
        return True
    if isinstance(x, _SEQUENCES):
        return any(_contains_tracer(e) for e in x)
    return False


def aval(x: Array) -> core.ShapedArray:
    return core.get_aval(x)


def ndim(x: Array) -> int:
    return aval(x).ndim


def shape(x: Array) -> tuple[int, ...]:
    return aval(x).shape


_FLOAT_SCALARS = (int, float)


def array_dtype(x: Any) -> np.dtype | None:
    """The dtype of an ndarray, a funcdiff Array or a tracer (None for anything else)."""
    t = type(x)
    if t is np.ndarray or t is _Array:
        return x.dtype
    if isinstance(x, Tracer):
        return x.aval.dtype
    return None


def promote(*args: ArrayLike) -> list[Array]:
    """Convert arguments and cast them to their common NumPy (NEP 50) dtype. Weakly typed
    Python scalars are left as they are: they adopt the dtype of the arrays they meet, as a
    0-d weakly typed value does (a Python scalar when jitted code runs; `vmap`'s batching
    rules cast one that is batched). Weakly typed arrays (a `WeakArray`, a weak tracer with a
    shape) are cast when the result is strong, as in JAX: NumPy would let their own dtype
    promote (weak float64 + float32 is float64)."""
    if len(args) == 2:
        x, y, _ = promote_pair(*args)
        return [x, y]
    # Fast path: arrays of one dtype, or an inexact array with Python numbers.
    dt = array_dtype(args[0])
    if dt is not None:
        for a in args[1:]:
            other = array_dtype(a)
            if other is None:
                if type(a) not in _FLOAT_SCALARS or dt.kind not in "fc":
                    break
            elif other != dt:
                break
        else:
            return list(args)
    return _promote_general(args)[0]


def _promote_general(args: Sequence[ArrayLike]) -> tuple[list[Array], np.dtype, list[bool]]:
    """`promote`'s rule: the promoted operands, the result dtype, and which operands it
    cast."""
    arrays = [asarray(a) for a in args]
    avals = [aval(a) for a in arrays]
    try:
        dtype, weak = dtypes.result_type(*((a.dtype, a.weak_type) for a in avals))
    except TypeError:  # (NumPy's DTypePromotionError: a string, bytes or datetime array)
        raise _not_numbers(arrays, avals) from None
    if dtype.kind not in "biufc" and dtype != dtypes.float0:  # (float64 and <U1 give <U32)
        raise _not_numbers(arrays, avals)
    cast = [not (v.dtype == dtype or (v.weak_type and (weak or not v.shape))) for v in avals]
    out = [ew.convert_element_type(a, dtype) if c else a for a, c in zip(arrays, cast)]
    return out, dtype, cast


def _not_numbers(arrays: list[Array], avals: list[core.ShapedArray]) -> TypeError:
    """The error for operands that have no common dtype: it names the operation (the
    `funcdiff.numpy` function that promotes), the operand that is not an array of numbers, and
    the other operands."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back
    what = frame.f_code.co_name if frame is not None else "an operation"
    bad = next(
        x for x, a in zip(arrays, avals) if a.dtype.kind not in "biufc" and a.dtype != dtypes.float0
    )
    operands = ", ".join(a.str_short() for a in avals)
    line = errors.user_source_line()
    return errors.PrimitiveError(
        f"{what}: an operand of type {core.value_kind(bad)} is not an array of numbers; "
        "funcdiff computes on bool, integer, float and complex arrays, as JAX does "
        f"(operands {operands})." + (f"\n(at {line})" if line else "")
    )


def _promotion_key(x: Any) -> Any:
    """What `promote` looks at in a concrete operand: its dtype, and whether it is weak (a
    Python scalar type; a `WeakArray`'s dtype and whether it is 0-d). None for anything else
    (tracers, lists...), which take the general path."""
    t = type(x)
    if t is np.ndarray or t is _Array:
        return x.dtype
    if t in _PY_SCALARS:
        return t
    if t is _WeakArray:
        return (x.dtype, not x.shape)
    if isinstance(x, Tracer):  # (as staged by `jit`: the same rule on its aval)
        a = x.aval
        return (a.dtype, not a.shape) if a.weak_type else a.dtype
    if isinstance(x, np.generic):
        return x.dtype
    return None


# `_promote_general`'s outcome (result dtype, and the dtype each operand is cast to or None)
# for each pair of operand kinds met so far: a dict look-up in front of the rule, for the
# eager hot path (the rule costs a few microseconds of Python per call).
_PAIR_PROMOTIONS: dict[tuple[Any, Any], tuple[np.dtype, Any, Any]] = {}


def promote_pair(x: ArrayLike, y: ArrayLike) -> tuple[Array, Array, np.dtype]:
    """`promote(x, y)`, and the dtype of the result."""
    key = (_promotion_key(x), _promotion_key(y))
    hit = _PAIR_PROMOTIONS.get(key)
    if hit is None:
        (x, y), dtype, (cx, cy) = _promote_general((x, y))
        if key[0] is not None and key[1] is not None:
            _PAIR_PROMOTIONS[key] = (dtype, dtype if cx else None, dtype if cy else None)
        return x, y, dtype
    dtype, cx, cy = hit
    if cx is not None:
        x = ew.convert_element_type(x, cx)
    if cy is not None:
        y = ew.convert_element_type(y, cy)
    return x, y, dtype


def promote_inexact(*args: ArrayLike) -> list[Array]:
    """Like `promote`, then convert integers and booleans to float64 (NumPy's true division
    and transcendental functions).

    When some operand is strongly typed, Python scalars are converted to the result dtype
    here: the functions built on this one combine their operands in several steps, and an
    intermediate computed from Python scalars alone would be a (strong) NumPy scalar, which
    would then promote ``float32`` to ``float64``."""
    if len(args) == 1:
        x = args[0]
        t = type(x)
        if t is float or t is complex:  # a weakly typed inexact scalar stays as it is
            return [x]
        dt = array_dtype(x)
        if dt is not None and dt.kind in "fc":
            return [x]
    if len(args) == 2:
        # The promotion's own result dtype; the result is weak when both operands still are
        # (none was cast: a cast operand is strong).
        x, y, dtype = promote_pair(*args)
        arrays = [x, y]
        avals = [aval(x), aval(y)]
        weak = avals[0].weak_type and avals[1].weak_type
    else:
        arrays = promote(*args)
        avals = [aval(a) for a in arrays]
        dtype, weak = dtypes.result_type(*((a.dtype, a.weak_type) for a in avals))
    if not dtypes.is_inexact(dtype):
        dtype = np.dtype(np.float64)
    if weak:
        return [
            a if v.dtype == dtype else ew.convert_element_type(a, dtype, True)
            for a, v in zip(arrays, avals)
        ]
    return [
        np.asarray(a, dtype)[()]
        if type(a) in core._PY_SCALARS
        else a
        if v.dtype == dtype and not v.weak_type
        else ew.convert_element_type(a, dtype)
        for a, v in zip(arrays, avals)
    ]


def canonical_axis(axis: int, ndim: int, name: str = "axis") -> int:
    """`axis` in ``[0, ndim)``. A 0-d array accepts 0 and -1 (as NumPy's argmax, cumsum and
    ufunc reductions do)."""
    if ndim == 0 and axis in (0, -1):
        return 0
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(
            f"{name} {axis} is out of bounds for array of dimension {ndim}"
        )
    return axis % ndim if ndim else 0


def canonical_axes(axis: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if ndim == 0 and not isinstance(axis, int | np.integer) and len(axis):
        raise np.exceptions.AxisError(f"axis {axis} is out of bounds for array of dimension 0")
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    out = tuple(canonical_axis(int(a), ndim) for a in axes)
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis}")
    return out


def strict_promote(*args: ArrayLike) -> list[Array]:
    """Promote to one dtype, converting weakly typed scalars too (for concatenation)."""
    arrays = [asarray(a) for a in args]
    avals = [aval(a) for a in arrays]
    try:
        dtype, weak = dtypes.result_type(*((a.dtype, a.weak_type) for a in avals))
    except TypeError:  # (as in `_promote_general`)
        raise _not_numbers(arrays, avals) from None
    if dtype.kind not in "biufc" and dtype != dtypes.float0:  # (floats would become strings)
        raise _not_numbers(arrays, avals)
    return [
        a if v.dtype == dtype and v.weak_type == weak else ew.convert_element_type(a, dtype, weak)
        for a, v in zip(arrays, avals)
    ]


def stack_same(arrays: Sequence[ArrayLike], axis: int = 0) -> Array:
    """Stack arrays of one shape along a new axis."""
    arrays = strict_promote(*arrays)
    shapes = {shape(a) for a in arrays}
    if len(shapes) > 1:
        raise ValueError(f"all input arrays must have the same shape, got {sorted(shapes)}")
    axis = canonical_axis(axis, ndim(arrays[0]) + 1)
    return sh.concatenate([sh.expand_dims(a, (axis,)) for a in arrays], axis)


def constant(shape: Sequence[int], dtype: Any, value: Any = 0) -> Array:
    """An eager result known from the shapes and dtypes alone (`isnan` of integers, `imag` of
    a real array): an immutable `Array` filled with `value`, as every result is."""
    return as_array(np.full(shape, value, dtype))


def as_arrays(xs: Sequence[Any]) -> tuple[Array, ...]:
    """A tuple of NumPy results (`tril_indices`, `nonzero`) as immutable `Array`s."""
    return tuple(as_array(x) for x in xs)
