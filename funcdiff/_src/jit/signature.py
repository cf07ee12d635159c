"""The cache key of a `jit` call: the signature of each argument leaf (shape, dtype, weak
type, the type of a funcdiff Array or another library's array), the keys of static arguments
(typed, so that ``1`` and ``1.0`` trace different programs), the checks of `static_argnums`
and `static_argnames` against the function's signature, and the readable names of leaves in
the messages about them.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from funcdiff._src import core, errors
from funcdiff._src.array import _SCALAR_DTYPES, Array, WeakArray, _DeletedArray, deleted_error
from funcdiff._src.core import Tracer
from funcdiff._src.jit import backends
from funcdiff._src.tree_util import keystr

_PY_SCALAR_SIG = {t: ("py", t) for t in core._PY_SCALARS}
# Scalar types whose type alone fixes the signature (not datetimes, whose unit is in the dtype).
_SCALAR_TYPES = frozenset([*core._PY_SCALARS, *_SCALAR_DTYPES])


def _signature(x: Any) -> Any:
    """The cache key of any leaf: arrays, scalars, tracers and ndarray subclasses."""
    sig = _fast_signature(x)
    if sig is not None:
        return sig
    if isinstance(x, Tracer):
        aval = x.aval
        return (aval.shape, aval.dtype, aval.weak_type, "traced")
    if isinstance(x, np.ndarray):
        if type(x) is _DeletedArray:
            raise deleted_error(x)
        return (x.shape, x.dtype)
    return None


def _fast_signature(x: Any) -> Any:
    """The cache key of a leaf passed directly as a positional argument (not a container)."""
    t = type(x)
    if t is np.ndarray:
        return (x.shape, x.dtype)
    if t is Array:  # unwrapped to a plain view before the generated code runs
        return (x.shape, x.dtype, Array)
    if t is WeakArray:  # traced as weakly typed: a program of its own (0-d: see `_key`)
        return (x.shape, x.dtype, WeakArray) if x.ndim else None
    sig = _PY_SCALAR_SIG.get(t)
    if sig is not None:
        return sig
    if isinstance(x, np.generic):
        return ((), x.dtype)
    return None


def _foreign_signature(x: Any) -> Any:
    """The cache key of an array of another library (Dask, CuPy, array_api_strict...); its
    namespace is imported only when such an array is seen."""
    if not (hasattr(x, "shape") and hasattr(x, "dtype")) or isinstance(x, Tracer):
        return None
    return backends.signature(x) if backends.is_foreign(x) else None


def _describe(sig: Any) -> str:
    if sig[0] == "py":
        return f"a Python {sig[1].__name__} (weakly typed)"
    shape, dtype = sig[0], sig[1]
    weak = len(sig) == 3 and sig[2] is WeakArray
    return f"{core.ShapedArray(shape, dtype).str_short()}" + (" (weakly typed)" if weak else "")


def _readable_path(path: tuple, names: list[str], static: tuple[int, ...]) -> str:
    # path = (SequenceKey(0 args / 1 kwargs), key, ...)
    if not path:
        return "?"
    first = getattr(path[0], "idx", None)
    rest = path[1:]
    if first == 0 and rest:
        pos = getattr(rest[0], "idx", 0)
        dyn_positions = [i for i in range(len(names) + 64) if i not in static]
        arg_index = dyn_positions[pos]
        head = names[arg_index] if arg_index < len(names) else f"args[{arg_index}]"
        return head + keystr(rest[1:])
    if first == 1 and rest:
        return str(getattr(rest[0], "key", "?")) + keystr(rest[1:])
    return keystr(path)


def _hashable(value: Any, what: str) -> tuple[Any, Any]:
    """``(cache key, value)`` of a static argument. The key holds the types of the value and
    of everything inside it: ``1``, ``1.0`` and ``True`` are equal and hash alike, yet trace
    different programs (as do ``2.0`` and ``np.float64(2.0)``)."""
    try:
        hash(value)
    except TypeError:
        raise TypeError(
            f"jit: static {what} must be hashable, got a {type(value).__name__}; pass a tuple "
            "instead of a list, or make it a regular (traced) argument."
        ) from None
    return _typed_key(value), value


def _typed_key(value: Any) -> Any:
    t = type(value)
    if t is tuple or t is frozenset:
        return (t, tuple(_typed_key(v) for v in value))
    if isinstance(value, dict):  # a hashable mapping (e.g. a frozen dict type)
        return (t, tuple((_typed_key(k), _typed_key(v)) for k, v in value.items()))
    if isinstance(value, tuple):  # a named tuple
        return (t, tuple(_typed_key(v) for v in value))
    return (t, value)


def _resolve_static(
    fun: Callable[..., Any], nums: tuple[int, ...], names: tuple[str, ...]
) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Check `static_argnums`/`static_argnames` against `fun`'s signature and complete each
    from the other, as JAX does: a static positional parameter is static when passed by
    keyword too, and a static name is static when passed by position."""
    for n in nums:
        if type(n) is not int:
            raise TypeError(f"jit: static_argnums must be ints, got {n!r}")
    try:
        sig = inspect.signature(fun)
    except (TypeError, ValueError):
        return tuple(sorted(set(nums))), names
    ps = list(sig.parameters.values())
    positional = errors.positional_names(fun)
    has_varargs = any(p.kind is p.VAR_POSITIONAL for p in ps)
    has_varkw = any(p.kind is p.VAR_KEYWORD for p in ps)
    if not has_varargs:
        bad = [n for n in nums if not -len(positional) <= n < len(positional)]
        if bad:
            raise ValueError(
                f"jit: static_argnums={bad[0]} is out of range: "
                f"{getattr(fun, '__name__', 'the function')} takes {len(positional)} "
                f"positional argument(s) ({', '.join(positional) or 'none'})"
            )
        nums = tuple(n % len(positional) if n < 0 else n for n in nums)
    keyword_ok = {
        p.name
        for p in ps
        if p.kind is not p.POSITIONAL_ONLY and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }
    unknown = [n for n in names if n not in keyword_ok]
    if unknown and not has_varkw:
        warnings.warn(
            f"jit: static_argnames {unknown} name no parameter of "
            f"{getattr(fun, '__name__', 'the function')} (its parameters: "
            f"{', '.join(p.name for p in ps) or 'none'}); they have no effect",
            stacklevel=3,
        )
    nums = set(nums) | {positional.index(n) for n in names if n in positional}
    names = tuple(
        dict.fromkeys([*names, *(positional[n] for n in nums if 0 <= n < len(positional))])
    )
    return tuple(sorted(nums)), names
