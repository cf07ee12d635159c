"""Operators and array methods of traced values.

`core.Tracer` knows no operations; this module attaches them, so that inside a transformed
function ``x + y``, ``x @ w``, ``x[1:3]``, ``x.sum()`` or ``x.at[i].set(v)`` work exactly as
on NumPy arrays. NumPy functions applied to tracers (``np.sin(x)``, ``ndarray * x``) are
forwarded to the `funcdiff.numpy` function of the same name.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.array import Array, set_at_helper
from funcdiff._src.core import Tracer
from funcdiff._src.core.avals import _NUMPY_VALUES, _PY_SCALARS
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.numpy import indexing, linalg, reductions, shape, ufuncs

# What an operator on a tracer accepts besides Python scalars: tracers, NumPy values, lists
# and tuples (a NumPy array of non-numbers is refused by the function it reaches, by dtype).
_OPERANDS = (Tracer, *_NUMPY_VALUES, list, tuple)


def _swap(fn):
    def reflected(self: Any, other: Any) -> Any:
        return fn(other, self)

    return reflected


def _defer(fn, traced: bool = False):
    # Let other array types that know about tracers (none yet) handle the operation.
    def op(self: Any, other: Any) -> Any:
        if not core.is_valid_array(other) and not isinstance(other, list | tuple):
            if isinstance(other, _NUMPY_VALUES):
                # A NumPy array of non-numbers (str, object...): funcdiff's error, which
                # names the operation and the operands, not NumPy's raw one that its
                # reflected operator would raise.
                return fn(self, other)
            return NotImplemented
        return fn(self, other)

    def traced_op(self: Any, other: Any) -> Any:
        # (`core.is_valid_array`, inlined: every operator on a tracer comes here.)
        if type(other) not in _PY_SCALARS and not isinstance(other, _OPERANDS):
            return NotImplemented
        state = core._state
        if state.bind_frame is not None:  # inside a primitive's rules: attributed already
            return fn(self, other)
        # Every equation the operator stages comes from its caller's line (or, when funcdiff
        # calls it, from the first user frame outside): the search for it starts here, not
        # from `bind` below the operator's implementation (a stack walk per operation).
        state.bind_frame = sys._getframe(1)
        try:
            return fn(self, other)
        finally:
            state.bind_frame = state.bind_source = None

    return traced_op if traced else op


_BINARY = {
    "add": ufuncs.add,
    "sub": ufuncs.subtract,
    "mul": ufuncs.multiply,
    "truediv": ufuncs.divide,
    "floordiv": ufuncs.floor_divide,
    "mod": ufuncs.remainder,
    "pow": ufuncs.power,
    "matmul": linalg.matmul,
    "and": ufuncs.bitwise_and,
    "or": ufuncs.bitwise_or,
    "xor": ufuncs.bitwise_xor,
    "lshift": ufuncs.left_shift,
    "rshift": ufuncs.right_shift,
}

_COMPARISONS = {
    "eq": ufuncs.equal,
    "ne": ufuncs.not_equal,
    "lt": ufuncs.less,
    "le": ufuncs.less_equal,
    "gt": ufuncs.greater,
    "ge": ufuncs.greater_equal,
}


def _divmod(x: Any, y: Any) -> tuple[Any, Any]:
    return ufuncs.floor_divide(x, y), ufuncs.remainder(x, y)


def _astype(self: Any, dtype: Any, copy: bool = False) -> Any:
    return ew.convert_element_type(self, dtype)


def _reshape(self: Any, *shape_args: Any, order: str = "C") -> Any:
    target = shape_args[0] if len(shape_args) == 1 else shape_args
    return shape.reshape(self, target, order)


def _transpose(self: Any, *axes: Any) -> Any:
    if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], tuple | list)):
        axes = axes[0]
    return shape.transpose(self, axes or None)


def _item(self: Any) -> Any:
    return np.asarray(self._convertible("item()")).item()


def _tolist(self: Any) -> Any:
    return np.asarray(self._convertible("tolist()")).tolist()


def _round(self: Any, ndigits: int | None = None) -> Any:
    """``round(x)`` of a traced value: `jnp.round` (as JAX's tracers), an array, not an int."""
    return ufuncs.round(self, 0 if ndigits is None else ndigits)


_METHODS = {
    "sum": reductions.sum,
    "prod": reductions.prod,
    "mean": reductions.mean,
    "var": reductions.var,
    "std": reductions.std,
    "max": reductions.max,
    "min": reductions.min,
    "ptp": reductions.ptp,
    "all": reductions.all,
    "any": reductions.any,
    "argmax": reductions.argmax,
    "argmin": reductions.argmin,
    "cumsum": reductions.cumsum,
    "ravel": shape.ravel,
    "flatten": shape.ravel,
    "squeeze": shape.squeeze,
    "swapaxes": shape.swapaxes,
    "repeat": shape.repeat,
    "take": shape.take,
    "nonzero": ufuncs.nonzero,
    "diagonal": shape.diagonal,
    "trace": shape.trace,
    "clip": ufuncs.clip,
    "round": ufuncs.round,
    "conj": ufuncs.conjugate,
    "conjugate": ufuncs.conjugate,
    "dot": linalg.dot,
    "astype": _astype,
    "reshape": _reshape,
    "transpose": _transpose,
    "item": _item,
}


def _array_ufunc(self: Any, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
    fn = _NUMPY_NAMESPACE.get(ufunc.__name__)
    if method != "__call__" or fn is None or kwargs.get("out") is not None:
        raise TypeError(
            f"numpy.{ufunc.__name__}{'' if method == '__call__' else '.' + method} cannot be "
            "applied to a traced value; use the funcdiff.numpy function of the same name "
            "(import funcdiff.numpy as jnp)."
        )
    kwargs.pop("out", None)
    return fn(*inputs, **kwargs)


def _array_function(self: Any, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
    fn = _NUMPY_NAMESPACE.get(func.__name__)
    if fn is None:
        raise TypeError(
            f"numpy.{func.__name__} cannot be applied to a traced value; use the funcdiff.numpy "
            "equivalent (import funcdiff.numpy as jnp)."
        )
    return fn(*args, **kwargs)


_NUMPY_NAMESPACE: dict[str, Any] = {}


def register_numpy_namespace(namespace: dict[str, Any]) -> None:
    """Record the public `funcdiff.numpy` functions for forwarding NumPy calls on tracers.
    NumPy's own objects that `funcdiff.numpy` re-exports (`save`, `array_repr`...) are left
    out: forwarding a NumPy function to itself would recurse; it gets the error instead."""
    _NUMPY_NAMESPACE.update(
        {k: v for k, v in namespace.items() if callable(v) and getattr(np, k, None) is not v}
    )


def _attach_operators(cls: type) -> None:
    """Arithmetic, comparison and unary operators, and the array methods, of `cls`."""
    traced = issubclass(cls, Tracer)
    for name, fn in _BINARY.items():
        setattr(cls, f"__{name}__", _defer(fn, traced))
        setattr(cls, f"__r{name}__", _defer(_swap(fn), traced))
    for name, fn in _COMPARISONS.items():
        setattr(cls, f"__{name}__", _defer(fn, traced))
    cls.__divmod__ = _defer(_divmod, traced)
    cls.__rdivmod__ = _defer(_swap(_divmod), traced)
    cls.__neg__ = ufuncs.negative
    cls.__pos__ = ufuncs.positive
    cls.__abs__ = ufuncs.absolute
    cls.__invert__ = ufuncs.invert
    for name, fn in _METHODS.items():
        setattr(cls, name, fn)


def _attach() -> None:
    """Traced values get NumPy's operators, indexing, methods and NumPy forwarding. funcdiff
    Arrays compute with funcdiff too, as JAX's do (``x + 1``, ``x.sum()`` and ``x += 1`` give
    new Arrays), but keep NumPy's indexing (a read-only Array view or copy; an index holding
    a traced value goes to funcdiff's indexing, as on a tracer), `item` and NumPy functions
    (``np.sin(x)`` is NumPy's)."""
    _attach_operators(Tracer)
    Tracer.__getitem__ = indexing.getitem
    Tracer.__array_ufunc__ = _array_ufunc
    Tracer.__array_function__ = _array_function
    Tracer.T = property(lambda self: shape.transpose(self))
    Tracer.mT = property(lambda self: shape.swapaxes(self, -1, -2))
    Tracer.real = property(ufuncs.real)
    Tracer.imag = property(ufuncs.imag)
    Tracer.at = property(indexing._IndexUpdateHelper)
    Tracer.tolist = _tolist
    Tracer.__round__ = _round
    _attach_operators(Array)
    Array.item = np.ndarray.item
    Array.__hash__ = None  # type: ignore[assignment]  # __eq__ is elementwise
    for name, fn in _BINARY.items():  # a new array: the name on the left is rebound
        setattr(Array, f"__i{name}__", fn)
    set_at_helper(indexing._IndexUpdateHelper, indexing.getitem)


_attach()
