"""The trace machinery: `Primitive` and its `bind`, the stack of active transformations
(`new_main`, `MainTrace`, `Trace`, `EvalTrace`) and `Tracer`, the value a transformation
traces; with the functions that look at any value the same way, traced or not (`get_aval`,
`is_valid_array`, `concrete_or_none`).

`Primitive.bind` dispatches an operation to the innermost active transformation (a `Trace`),
which interprets it. Transformations are stacked (`new_main`), so they nest. The trace state
lives in one thread-local object, `_state`, changed only through `new_main`. This module knows
no particular primitive or transformation, and nothing of the IR (`funcdiff._src.core.ir`
builds on it).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from funcdiff._src import dtypes
from funcdiff._src.array import _WEAK_OR_DEL, Array, WeakArray, as_array, as_weak_array, unshared
from funcdiff._src.array import owned_results as owned_results  # (re-exported by `core`)
from funcdiff._src.array import unchanged as unchanged  # (re-exported by `core`)
from funcdiff._src.core.avals import (
    _NUMPY_VALUES,
    _PY_SCALAR_TYPES,
    _PY_SCALARS,
    _SCALAR_AVALS,
    ShapedArray,
    _shaped,
)
from funcdiff._src.errors import (
    ConcretizationTypeError,
    FuncdiffTypeError,
    PrimitiveError,
    TracerArrayConversionError,
    TracerBoolConversionError,
    TracerIntegerConversionError,
    UnexpectedTracerError,
    user_source_line,
)

if TYPE_CHECKING:
    from funcdiff._src.core.ir import SourceInfo


class _Flags:
    """Process-wide switches set through `funcdiff.config` (read on hot paths).
    `check_nans` is on when any result check is (`debug_nans` or `debug_infs`): primitives
    then run one by one and each result is checked for what those two ask."""

    check_nans = False
    debug_nans = False
    debug_infs = False


flags = _Flags()

# The Python scalar type of each NumPy scalar type that Python scalars compute in: calling it
# is several times cheaper than `.item()`.
_TO_PYTHON_SCALAR = {np.bool_: bool, np.int64: int, np.float64: float, np.complex128: complex}


# ---- primitives -----------------------------------------------------------------------------


class Primitive:
    """A named operation. Its rules live in tables owned by each transformation; the NumPy
    implementation and the shape/dtype rule live here.

    Array operands are passed positionally; static metadata is passed as keyword params.
    """

    __slots__ = ("name", "multiple_results", "impl", "abstract_eval", "float_operator",
                 "may_view", "__weakref__")
    # The result is weakly typed exactly when every operand is, so on Python scalars alone
    # it is a Python scalar (as when staged, and as in JAX); set by
    # `define_primitive(..., weak_results=True)` on a subclass. Other primitives given a
    # weakly typed operand have their results typed by their abstract rule (`_run_weak`).
    weak_results = False

    def __init__(self, name: str, multiple_results: bool = False):
        self.name = name
        self.multiple_results = multiple_results
        self.impl: Callable[..., Any] | None = None
        self.abstract_eval: Callable[..., Any] | None = None
        # The Python operator that computes `impl` exactly on Python floats (IEEE double
        # arithmetic, as NumPy's), for `+`, `-`, `*` and negation: `run_impl` applies it to
        # Python float operands, where a NumPy ufunc call costs ten times more.
        self.float_operator: Callable[..., Any] | None = None
        self.may_view = True  # `impl` may return a view of an operand (see `unshared`)

    def __repr__(self) -> str:
        return self.name

    def def_impl(self, impl: Callable[..., Any]) -> Callable[..., Any]:
        self.impl = impl
        return impl

    def def_abstract_eval(self, rule: Callable[..., Any]) -> Callable[..., Any]:
        self.abstract_eval = rule
        return rule

    def bind(self, *args: Any, **params: Any) -> Any:
        """Apply the primitive under the innermost transformation that owns an argument
        (or the dynamic trace, when staging)."""
        state = _state
        top = state.dynamic
        for a in args:
            if isinstance(a, Tracer):
                main = a._trace.main
                if main.level >= top.level:
                    if not main.alive:
                        raise _leaked_tracer_error(a)
                    top = main
        if top.level == 0:
            # Outside any transformation: the user gets funcdiff Arrays (a Python scalar, the
            # weakly typed result of Python scalars, stays one, as `as_array` would leave it).
            out = self.run_impl(args, params)
            if self.multiple_results:  # (weak results: from sub-programs, whatever the operands)
                out = unshared(out, args, True) if self.may_view else out
                return [as_array(o) for o in self._weak_results(args, params, out)]
            if type(out) in _PY_SCALAR_TYPES:  # (before `may_view`: Python floats go fastest)
                return out
            return as_array(unshared(out, args, False) if self.may_view else out)
        trace = top.trace
        if trace is None:
            trace = top.trace = top.trace_type(top)
        # The trace's own tracers pass as they are; anything else is raised into it. (A loop:
        # cheaper than a comprehension for the one or two operands of most primitives.)
        tracers = []
        for a in args:
            if not isinstance(a, Tracer):
                tracers.append(trace.pure(a))
            elif a._trace.main is top:
                tracers.append(a)
            else:
                tracers.append(trace.full_raise(a))
        if state.bind_frame is not None:
            return trace.process_primitive(self, tracers, params)
        # The outermost bind under a transformation: every equation it stages (JVP rules,
        # residuals, nested calls) comes from the same line of user code, found once.
        state.bind_frame = sys._getframe(1)
        try:
            return trace.process_primitive(self, tracers, params)
        finally:
            state.bind_frame = None
            state.bind_source = None

    def run_impl(self, args: Sequence[Any], params: dict[str, Any]) -> Any:
        # Whether every operand is a Python scalar (then a primitive with `weak_results` gives
        # one too), found in the loop that looks for Arrays (cheaper than a comprehension for
        # few operands). A weakly typed operand (a `WeakArray`, or a Python scalar given to a
        # primitive without `weak_results`) may make a weak result: see `_run_weak`.
        weak = weak_results = self.weak_results
        for a in args:
            t = type(a)
            if t is Array:  # implementations compute on plain NumPy arrays
                plain = []
                for x in args:
                    t = type(x)
                    if t is Array:
                        x = x.view(np.ndarray)
                    elif t in _WEAK_OR_DEL or (not weak_results and t in _PY_SCALAR_TYPES):
                        return self._run_weak(args, params)  # (which refuses a deleted Array)
                    plain.append(x)
                args = plain
                weak = False
                break
            if t in _PY_SCALAR_TYPES:
                if not weak_results:
                    return self._run_weak(args, params)
            else:
                if t in _WEAK_OR_DEL:
                    return self._run_weak(args, params)
                weak = False
        if weak and self.float_operator is not None and not flags.check_nans:
            for a in args:  # (Python floats alone: `float_operator` computes them)
                if type(a) is not float:
                    break
            else:
                return self.float_operator(*args)
        if flags.check_nans:
            out = self._call_impl(args, params)
        else:  # (`_call_impl`'s body, inlined: a call costs scalar code a few percent)
            try:
                out = self.impl(*args, **params)  # type: ignore[misc]
            except FuncdiffTypeError:
                raise
            except (ValueError, TypeError, IndexError) as e:
                raise self._impl_error(args, params, e) from e
        if weak:
            to_python = _TO_PYTHON_SCALAR.get(type(out))
            if to_python is not None:
                return to_python(out)
            if isinstance(out, np.generic):
                return out.item()
        return out

    def _run_weak(self, args: Sequence[Any], params: dict[str, Any]) -> Any:
        """`run_impl` with a weakly typed operand: the results are weak, and of the dtype,
        that the abstract rule (the one `jit` stages with) gives. An elementwise primitive's
        weak operand of another precision is cast to the result's dtype first (``w + x32``
        computes in float32, as under `jit`)."""
        out_aval = None
        if not self.multiple_results:
            out_aval = self.abstract([get_aval(a) for a in args], params)
        plain = []
        for x in args:
            if isinstance(x, Array):
                x = x.view(np.ndarray)
                if (out_aval is not None and self.weak_results
                        and x.dtype != out_aval.dtype and x.dtype.kind == out_aval.dtype.kind):
                    x = x.astype(out_aval.dtype)
            plain.append(x)
        out = self._call_impl(plain, params)
        return out if out_aval is None else _fit_aval(out, out_aval, _all_scalars(args))

    def _weak_results(self, args: Sequence[Any], params: dict[str, Any], outs: Any) -> Any:
        """The results of a primitive with several (cond, while, scan, a jitted call...) as
        its abstract rule types them: a sub-program may make weak results from any operands."""
        avals = self.abstract([get_aval(a) for a in args], params)
        scalars = _all_scalars(args)
        return [_fit_aval(o, a, scalars) for o, a in zip(outs, avals)]

    def _call_impl(self, args: Sequence[Any], params: dict[str, Any]) -> Any:
        try:
            if flags.check_nans:  # NumPy's warning would precede the clearer error below
                with np.errstate(all="ignore"):
                    out = self.impl(*args, **params)  # type: ignore[misc]
                _check_nans(self, out)
            else:
                out = self.impl(*args, **params)  # type: ignore[misc]
        except FuncdiffTypeError:
            raise
        except (ValueError, TypeError, IndexError) as e:
            raise self._impl_error(args, params, e) from e
        return out

    def _impl_error(self, args: Sequence[Any], params: dict[str, Any], e: Exception) -> Exception:
        # Re-check with the shape rule for a precise message; otherwise wrap NumPy's.
        avals = [get_aval(a) for a in args]
        self.abstract(avals, params)
        message = f"{self.name} failed on operands {_fmt_avals(avals)}: {e}" + _at_user_line()
        if isinstance(e, IndexError):  # out-of-bounds indices stay IndexErrors, as in NumPy
            return IndexError(message)
        return PrimitiveError(message)

    def abstract(self, avals: Sequence[ShapedArray], params: dict[str, Any]) -> Any:
        """Output aval(s) from the shape/dtype rule, with a user-facing error on mismatch."""
        try:
            return self.abstract_eval(*avals, **params)  # type: ignore[misc]
        except PrimitiveError as e:
            raise PrimitiveError(
                f"{self.name}: {e} (operands {_fmt_avals(avals)})" + _at_user_line()
            ) from None


# The dtype of the Python scalars of each kind: a weak 0-d value of another is kept an array.
_PY_SCALAR_DTYPE = {"b": np.dtype(bool), "i": np.dtype(np.int64), "f": np.dtype(np.float64),
                    "c": np.dtype(np.complex128)}


def _all_scalars(args: Sequence[Any]) -> bool:
    for a in args:
        if type(a) not in _PY_SCALAR_TYPES:
            return False
    return True


def _fit_aval(x: Any, aval: ShapedArray, scalars: bool) -> Any:
    """An eager result as its abstract value types it, in its dtype: a weakly typed one is a
    `WeakArray`, or a Python scalar when computed from Python scalars alone (`scalars`)."""
    if not isinstance(x, _NUMPY_VALUES):
        if type(x) not in _PY_SCALAR_TYPES or (aval.weak_type and scalars):
            return x
        x = np.asarray(x)
    if x.dtype != aval.dtype and x.dtype.kind in "biufc":
        x = x.astype(aval.dtype)
    if not aval.weak_type:
        return x
    if scalars and not aval.shape and _PY_SCALAR_DTYPE.get(x.dtype.kind) == x.dtype:
        return x.item()  # (a weak float32 stays a 0-d WeakArray: a float would be float64)
    return as_weak_array(x)


def _check_nans(p: Primitive, out: Any) -> None:
    for x in out if p.multiple_results else (out,):
        if not (isinstance(x, _NUMPY_VALUES) and x.dtype.kind in "fc"):
            continue
        if flags.debug_nans and np.isnan(x).any():
            found, setting = "NaN", "debug_nans"
        elif flags.debug_infs and np.isinf(x).any():
            found, setting = "inf", "debug_infs"
        else:
            continue
        where = getattr(_state, "source_info", None) or user_source_line()
        raise FloatingPointError(
            f"{found} produced by primitive '{p.name}' (output {get_aval(x).str_short()}); "
            f"the equation comes from {where} (funcdiff {setting} is on)."
        )


def _fmt_avals(avals: Sequence[ShapedArray]) -> str:
    return ", ".join(a.str_short() for a in avals)


# ---- the trace stack ------------------------------------------------------------------------


class MainTrace:
    """One active transformation: its level in the stack, its `Trace` class and its data."""

    __slots__ = ("level", "trace_type", "payload", "dynamic", "alive", "trace")

    def __init__(
        self, level: int, trace_type: type[Trace], payload: Any = None, dynamic: bool = False
    ):
        self.level = level
        self.trace_type = trace_type
        self.payload = payload
        self.dynamic = dynamic
        self.alive = True
        self.trace: Trace | None = None  # a Trace on it, made by the first bind

    def __repr__(self) -> str:
        return f"MainTrace({self.level}, {self.trace_type.__name__})"


class Trace:
    """Interprets primitives applied to its tracers. Subclasses implement `pure`, `lift` and
    `process_primitive`."""

    __slots__ = ("main",)

    def __init__(self, main: MainTrace):
        self.main = main

    def pure(self, val: Any) -> Tracer:
        raise NotImplementedError(f"{type(self).__name__}.pure must be implemented")

    def lift(self, tracer: Tracer) -> Tracer:
        raise NotImplementedError(f"{type(self).__name__}.lift must be implemented")

    def full_raise(self, val: Any) -> Tracer:
        if not isinstance(val, Tracer):
            return self.pure(val)
        main = val._trace.main
        if main is self.main:
            return val
        if not main.alive:
            raise _leaked_tracer_error(val)
        if main.level < self.main.level:
            return self.lift(val)
        raise _leaked_tracer_error(val)

    def process_primitive(self, primitive: Primitive, tracers: list[Tracer], params: dict) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.process_primitive must be implemented")


class EvalTrace(Trace):
    """The bottom of the stack: primitives run their NumPy implementation."""

    __slots__ = ()

    def pure(self, val: Any) -> Any:
        return val

    lift = pure

    def process_primitive(self, primitive: Primitive, tracers: list[Any], params: dict) -> Any:
        return primitive.run_impl(tracers, params)


class _TraceState(threading.local):
    def __init__(self) -> None:
        base = MainTrace(0, EvalTrace)
        self.stack: list[MainTrace] = [base]
        self.dynamic: MainTrace = base
        self.source_info: SourceInfo | None = None  # set while checking for NaNs
        # While transposing, new equations are attributed to the forward equation's line.
        self.source_override: SourceInfo | None = None
        # The caller of the outermost bind under a transformation, and its user line.
        self.bind_frame: Any = None
        self.bind_source: SourceInfo | None = None


_state = _TraceState()


class new_main:  # noqa: N801 - used as a function: ``with new_main(...) as main``
    """Push a transformation onto this thread's trace stack for the duration of a block.

    A *dynamic* main (used when staging a whole program, as `make_jaxpr` does) also receives
    primitives applied to plain constants, so that they are recorded too.

    (A class rather than a generator-based context manager: every `grad` enters two, and
    `contextmanager` costs several microseconds per block.)
    """

    __slots__ = ("args", "main", "prev_dynamic")

    def __init__(self, trace_type: type[Trace], payload: Any = None, dynamic: bool = False):
        self.args = (trace_type, payload, dynamic)

    def __enter__(self) -> MainTrace:
        state = _state
        main = self.main = MainTrace(len(state.stack), *self.args)
        state.stack.append(main)
        self.prev_dynamic = state.dynamic
        if main.dynamic:
            state.dynamic = main
        return main

    def __exit__(self, *exc: Any) -> None:
        state, main = _state, self.main
        state.dynamic = self.prev_dynamic
        state.stack.pop()
        main.alive = False
        main.trace = None  # no cycle: the builder and residuals are freed without the GC


def _leaked_tracer_error(tracer: Tracer) -> UnexpectedTracerError:
    return UnexpectedTracerError(
        f"Encountered a traced value {tracer.aval.str_short()} from a transformation that has "
        "already finished (a leaked tracer). This happens when a function under grad/jvp/vjp/"
        "make_jaxpr saves an intermediate value outside itself (a global, a list, an object "
        "attribute) and that value is used later. Return the value from the function instead."
        + _at_user_line()
    )


# ---- tracers --------------------------------------------------------------------------------


class Tracer:
    """A value being traced by a transformation. Behaves like an array: arithmetic operators,
    indexing and array methods are attached by `funcdiff._src.numpy.array_methods`."""

    __slots__ = ("_trace",)
    __array_priority__ = 1000

    @property
    def aval(self) -> ShapedArray:
        raise NotImplementedError(f"{type(self).__name__}.aval must be implemented")

    @property
    def shape(self) -> tuple[int, ...]:
        return self.aval.shape

    @property
    def dtype(self) -> np.dtype:
        return self.aval.dtype

    @property
    def ndim(self) -> int:
        return self.aval.ndim

    @property
    def size(self) -> int:
        return self.aval.size

    def __len__(self) -> int:
        if not self.aval.shape:
            raise TypeError("len() of unsized object (a 0-d traced array)")
        return self.aval.shape[0]

    def to_concrete_value(self) -> Any:
        """The concrete value behind this tracer if there is one (eager transformations),
        else None."""
        return None

    def _concrete(self, what: str, error: type[ConcretizationTypeError]) -> Any:
        val = self.to_concrete_value()
        if val is None:
            raise error(what, f" {self.aval.str_short()}")
        return val

    def __bool__(self) -> bool:
        return bool(self._concrete("bool() (a Python if/while/and/or)", TracerBoolConversionError))

    def __float__(self) -> float:
        return float(self._convertible("float()"))

    def __complex__(self) -> complex:
        return complex(self._convertible("complex()"))

    def __int__(self) -> int:
        return int(self._convertible("int()"))

    def carries_derivative(self) -> bool:
        """True when converting to a Python number would silently drop a derivative."""
        return False

    def _convertible(self, what: str) -> Any:
        if self.carries_derivative():
            raise ConcretizationTypeError(
                what,
                message=(
                    f"Attempted {what} on the traced value {self.aval.str_short()}, which is being "
                    "differentiated: converting it to a Python number would silently drop its "
                    "derivative. Keep it an array (use funcdiff.numpy operations), or wrap it in "
                    "funcdiff.stop_gradient if the derivative should be dropped."
                ),
            )
        return self._concrete(what, ConcretizationTypeError)

    def __index__(self) -> int:
        val = self.to_concrete_value()
        if val is None or not dtypes.is_integer(self.aval.dtype):
            raise TracerIntegerConversionError(
                f"The traced value {self.aval.str_short()} was used as a Python integer "
                "(an index, a size or range()); only concrete integers can be used there. "
                "Use funcdiff.lax.dynamic_slice or funcdiff.lax.fori_loop for traced indices, "
                "or mark the argument static." + _at_user_line()
            )
        return int(val)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TracerArrayConversionError(f"{type(self).__name__}<{self.aval.str_short()}>")

    def __iter__(self) -> Iterator[Any]:
        if not self.aval.shape:
            raise TypeError("iteration over a 0-d traced array")
        return (self[i] for i in range(self.aval.shape[0]))  # type: ignore[index]

    def __hash__(self) -> int:
        raise TypeError(
            f"unhashable type: traced array {self.aval.str_short()} (use it as a value, "
            "not as a dict key or static argument)"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}<{self.aval.str_short()}>"


_VALID_ARRAYS = (Tracer, np.ndarray, np.generic)  # what `is_valid_array` accepts, besides scalars


def concrete_or_none(x: Any) -> Any:
    """The concrete value of `x` (a plain value, or an eager tracer's primal), else None."""
    if isinstance(x, Tracer):
        return x.to_concrete_value()
    return x


# ---- any value, traced or not --------------------------------------------------------------


def get_aval(x: Any) -> ShapedArray:
    """The abstract value of a concrete value or a tracer."""
    aval = _SCALAR_AVALS.get(type(x))
    if aval is not None:
        return aval
    if isinstance(x, Tracer):
        return x.aval
    if isinstance(x, _NUMPY_VALUES):
        return _shaped(x.shape, x.dtype, type(x) is WeakArray)
    raise TypeError(
        f"Value {x!r} of type {type(x).__name__} is not a valid array: expected a NumPy array, "
        "a Python or NumPy scalar, or a traced value." + _at_user_line()
    )


def is_valid_array(x: Any) -> bool:
    return type(x) in _PY_SCALARS or isinstance(x, _VALID_ARRAYS)


def _at_user_line() -> str:
    line = user_source_line()
    return f"\n(at {line})" if line else ""
