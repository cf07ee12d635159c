"""Exceptions raised for misuse of traced values, each explaining the cause and the fix.

Every message names what went wrong, where in the user's code (file and line), and what to
write instead. The class docstrings are the user guide for each error.
"""

from __future__ import annotations

import inspect
import os
import sys
import threading
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _is_internal(filename: str) -> bool:
    return filename.startswith(_PACKAGE_DIR) or filename.startswith("<frozen")


# Whether each code object seen is funcdiff's own, keyed by the code's id: hashing a code
# object hashes its bytecode and constants (0.3 us for a small function, more for a long one),
# and a traced operation looks its caller up once. The value keeps the code object alive, so
# that its id is not reused while the entry lives (`core.ir.SourceInfo` relies on it too).
_internal_code: dict[int, tuple[CodeType, bool]] = {}


def user_frame(start: FrameType | None = None, stop: FrameType | None = None) -> FrameType | None:
    """The innermost stack frame that belongs to user code (outside the funcdiff package),
    searching outwards from `start` (by default, the caller), and not beyond `stop`."""
    frame: FrameType | None = start if start is not None else sys._getframe(1)
    cache = _internal_code
    while frame is not None and frame is not stop:
        code = frame.f_code
        entry = cache.get(id(code))
        if entry is None:
            entry = cache[id(code)] = (code, _is_internal(code.co_filename))
        if not entry[1]:
            return frame
        frame = frame.f_back
    return None


class _RuleSite(threading.local):
    """Set while `staged_ad.linearize_staged` runs an operation's JVP rule after the user's function
    has returned: `frame` is the frame running the rule, `source` the operation's user line
    (a `SourceInfo`), which stands for the user frames that are no longer on the stack."""

    frame: FrameType | None = None
    source: Any = None


rule_site = _RuleSite()


def user_source_line() -> str:
    """``"file.py:12 (fn_name)"`` for the innermost user frame, or ``""`` if there is none."""
    site = rule_site
    frame = user_frame(sys._getframe(1), site.frame)
    if frame is None:
        return "" if site.frame is None or site.source is None else str(site.source)
    return f"{frame.f_code.co_filename}:{frame.f_lineno} ({frame.f_code.co_name})"


def _where() -> str:
    line = user_source_line()
    return f"\nThe problem arose at {line}." if line else ""


def check_callable(fun: Any, transformation: str) -> None:
    """A transformation of something that is not a function fails at once, not at its call."""
    if not callable(fun):
        raise TypeError(f"{transformation} expects a callable as its first argument, got "
                        f"{fun!r} of type {type(fun).__name__}.")


def positional_names(fun: Callable[..., Any]) -> list[str]:
    """The names of `fun`'s positional parameters (empty when it has no signature)."""
    try:
        return [p.name for p in inspect.signature(fun).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return []


def argument_names(fun: Callable[..., Any], n: int) -> list[str]:
    """A name for each of `n` positional arguments: the parameter's, else ``args[i]``."""
    params = positional_names(fun)
    return [params[i] if i < len(params) else f"args[{i}]" for i in range(n)]


class FuncdiffTypeError(TypeError):
    """Base class of funcdiff's type errors about traced values, exported as
    `funcdiff.errors.JAXTypeError` (JAX's name): `ConcretizationTypeError` and its
    subclasses, `TracerIntegerConversionError`, `TracerArrayConversionError` and
    `UnexpectedTracerError`, as in JAX."""


JAXTypeError = FuncdiffTypeError  # JAX's name for it (funcdiff.errors.JAXTypeError)


class ConcretizationTypeError(FuncdiffTypeError):
    """A concrete Python value was needed from an abstract traced value.

    Inside `make_jaxpr` or `jit`, arrays are abstract: only their shape and dtype are known.
    Python control flow (`if x > 0:`), `float(x)` or `int(x)` need an actual value. Use
    `funcdiff.lax.cond` / `funcdiff.lax.while_loop` / `funcdiff.numpy.where` for data-dependent
    control flow, or mark the argument static (`jit(f, static_argnums=...)`).

    Under `grad`, `jvp` and `vjp` alone, values are concrete and Python control flow works.
    """

    def __init__(self, what: str, detail: str = "", message: str | None = None):
        if message is not None:
            super().__init__(message + _where())
            return
        msg = (
            f"Attempted {what} on an abstract traced value{detail}. Its concrete value is "
            "not known while tracing (make_jaxpr / jit).\n" + _control_flow_advice() + _where()
        )
        super().__init__(msg)


def _control_flow_advice() -> str:
    lax = sys.modules.get("funcdiff.lax")
    structured = lax is not None and hasattr(lax, "cond")
    branch = (
        "use funcdiff.lax.cond (funcdiff.lax.while_loop for loops, funcdiff.numpy.where for "
        "elementwise choices)"
        if structured
        else "use funcdiff.numpy.where for an elementwise choice, or compute both branches and "
        "select"
    )
    return (
        f"For a branch on traced data, {branch}; if the value is really a constant, make it "
        "a static argument (static_argnums) or compute it with NumPy outside the function."
    )


class TracerBoolConversionError(ConcretizationTypeError):
    """`bool()` (a Python `if`, `while`, `and`, `or`) was applied to an abstract traced value."""


class JAXIndexError(IndexError):
    """Base class of the index errors funcdiff raises about traced values (as JAX's
    `jax.errors.JAXIndexError`): `NonConcreteBooleanIndexError`."""


class NonConcreteBooleanIndexError(ConcretizationTypeError, JAXIndexError):
    """A boolean mask that is only known at run time indexed an array (`x[x < 0]` under `jit`):
    the result's size would depend on the mask's values. Use `funcdiff.numpy.where` to keep
    a static shape, or `size=` with `funcdiff.numpy.nonzero`. Like JAX's, it is an `IndexError`.
    """


class TracerIntegerConversionError(FuncdiffTypeError):
    """A traced value was used where Python needs an `int` (`range(x)`, list indexing)."""


class TracerArrayConversionError(FuncdiffTypeError):
    """A traced value was passed to `numpy.asarray` or another NumPy function that needs data.

    Use the matching `funcdiff.numpy` function instead of `numpy`: it accepts traced values.
    """

    def __init__(self, tracer_repr: str):
        super().__init__(
            f"The traced value {tracer_repr} was converted to a NumPy array. Inside a "
            "transformed function use funcdiff.numpy (import funcdiff.numpy as jnp) instead "
            "of numpy, or funcdiff.stop_gradient if you need a constant. To index a NumPy "
            "array with a traced index, make it a funcdiff array first "
            "(funcdiff.numpy.asarray(array)[index]) or use funcdiff.numpy.take(array, index, "
            "axis=...)."
            + _where()
        )


class UnexpectedTracerError(FuncdiffTypeError):
    """A traced value escaped the transformation that created it and was used afterwards.

    This usually happens when a function stores an intermediate value in a global variable,
    a list outside the function, or an attribute of an object, and it is used after the
    transformation has returned. Return the value from the function instead.
    """


class PrimitiveError(TypeError, ValueError):
    """A primitive received operands of incompatible shapes or dtypes.

    It is both a `TypeError` (as JAX raises for mistyped operations) and a `ValueError` (as
    NumPy raises for shapes that do not broadcast), so either `except` clause catches it.
    """


class BackendError(NotImplementedError):
    """`jit` was asked to compile for an array namespace (Dask, CuPy, `array_api_strict`...)
    in which a primitive of the function has no equivalent. Raised when the program is
    compiled, before anything runs; the message names the primitive and the namespace.
    [Scaling out](../how-to/scaling-out.md) lists these primitives.

    ```python
    import numpy as np
    import funcdiff
    from funcdiff import lax

    f = funcdiff.jit(lambda x: lax.erf(x), backend="array_api_strict")
    try:
        f(np.ones(3))
    except funcdiff.BackendError as e:
        print(e)
    ```
    """
