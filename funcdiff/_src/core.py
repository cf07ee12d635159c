"""The core of funcdiff: abstract values, the IR, primitives and the trace stack.

Everything here is independent of any particular primitive or transformation:

* `ShapedArray` is the abstract value (shape, dtype, weak type) of an array.
* `Var`, `Literal`, `JaxprEqn`, `Jaxpr` and `ClosedJaxpr` form the IR. A jaxpr is a flat list of
  equations, so evaluating, printing and transforming it is a loop, never recursion.
* `Primitive.bind` dispatches an operation to the innermost active transformation
  (a `Trace`), which interprets it. Transformations are stacked (`new_main`), so they nest.

The trace state lives in one thread-local object, `_state`, changed only through `new_main`.
"""

from __future__ import annotations

import itertools
import math
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from funcdiff._src import dtypes
from funcdiff._src.array import Array, as_array
from funcdiff._src.errors import (
    ConcretizationTypeError,
    FuncdiffTypeError,
    PrimitiveError,
    TracerArrayConversionError,
    TracerBoolConversionError,
    TracerIntegerConversionError,
    UnexpectedTracerError,
    user_frame,
    user_source_line,
)

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


def get_aval(x: Any) -> ShapedArray:
    """The abstract value of a concrete value or a tracer."""
    aval = _SCALAR_AVALS.get(type(x))
    if aval is not None:
        return aval
    if isinstance(x, Tracer):
        return x.aval
    if isinstance(x, _NUMPY_VALUES):
        return _shaped(x.shape, x.dtype)
    raise TypeError(
        f"Value {x!r} of type {type(x).__name__} is not a valid array: expected a NumPy array, "
        "a Python or NumPy scalar, or a traced value." + _at_user_line()
    )


def owned_results(xs: Sequence[Any], inputs: Sequence[Any]) -> list[Any]:
    """`xs` as results to hand to the user: funcdiff Arrays that share no memory with the
    NumPy arrays the user passed (`inputs`), nor with each other. One that may overlap an
    input or an earlier result (the same cotangent for two arguments, a view) is copied."""
    # Compared as plain arrays: NumPy functions given Arrays go through their (slow, Python)
    # `__array_function__`.
    seen = [i.view(np.ndarray) if type(i) is Array else i
            for i in inputs if isinstance(i, np.ndarray)]
    out = []
    for x in xs:
        if isinstance(x, np.ndarray):
            if type(x) is Array:
                x = x.view(np.ndarray)
            for i in seen:
                if np.may_share_memory(x, i):
                    x = x.copy()
                    break
            seen.append(x)
        out.append(as_array(x))
    return out


def is_valid_array(x: Any) -> bool:
    return type(x) in _PY_SCALARS or isinstance(x, _VALID_ARRAYS)


def _at_user_line() -> str:
    line = user_source_line()
    return f"\n(at {line})" if line else ""


# ---- the IR ---------------------------------------------------------------------------------


class Var:
    """A variable of the IR, bound exactly once (by an equation or as an input)."""

    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self) -> str:
        return f"Var({self.aval.str_short()})"


class Literal:
    """A scalar constant written inline in the IR (``2.0:f64[]``)."""

    __slots__ = ("val", "aval")

    def __init__(self, val: Any, aval: ShapedArray):
        self.val = val
        self.aval = aval

    def __repr__(self) -> str:
        return f"Literal({self.val!r})"


Atom = Var | Literal


class SourceInfo:
    """Where in the user's code an equation was traced: file, line and function."""

    __slots__ = ("filename", "lineno", "function")

    def __init__(self, filename: str, lineno: int, function: str):
        self.filename = filename
        self.lineno = lineno
        self.function = function

    def __str__(self) -> str:
        return f"{self.filename}:{self.lineno} ({self.function})"

    @staticmethod
    def current() -> SourceInfo | None:
        state = _state
        override = state.source_override
        if override is not None:
            return override
        start = state.bind_frame
        if start is not None:
            cached = state.bind_source
            if cached is None:
                cached = state.bind_source = SourceInfo._from(user_frame(start))
            return cached
        return SourceInfo._from(user_frame(sys._getframe(1)))

    @staticmethod
    def _from(frame: Any) -> SourceInfo | None:
        if frame is None:
            return None
        return SourceInfo(frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)


class JaxprEqn:
    """One equation: ``outvars = primitive[params] invars``."""

    __slots__ = ("primitive", "invars", "outvars", "params", "source_info")

    def __init__(
        self,
        primitive: Primitive,
        invars: list[Atom],
        outvars: list[Var],
        params: dict[str, Any],
        source_info: SourceInfo | None = None,
    ):
        self.primitive = primitive
        self.invars = invars
        self.outvars = outvars
        self.params = params
        self.source_info = source_info

    def replace(self, primitive: Primitive | None = None, invars: list[Atom] | None = None,
                outvars: list[Var] | None = None, params: dict[str, Any] | None = None,
                source_info: SourceInfo | None = None) -> JaxprEqn:
        return JaxprEqn(
            self.primitive if primitive is None else primitive,
            self.invars if invars is None else invars,
            self.outvars if outvars is None else outvars,
            self.params if params is None else params,
            self.source_info if source_info is None else source_info,
        )


class Jaxpr:
    """A program: constant variables, input variables, equations and outputs."""

    __slots__ = ("constvars", "invars", "eqns", "outvars")

    def __init__(
        self, constvars: list[Var], invars: list[Var], eqns: list[JaxprEqn], outvars: list[Atom]
    ):
        self.constvars = constvars
        self.invars = invars
        self.eqns = eqns
        self.outvars = outvars

    @property
    def in_avals(self) -> list[ShapedArray]:
        return [v.aval for v in self.invars]

    @property
    def out_avals(self) -> list[ShapedArray]:
        return [v.aval for v in self.outvars]

    def __str__(self) -> str:
        return pp_jaxpr(self)

    __repr__ = __str__


class ClosedJaxpr:
    """A jaxpr together with the values of its constant variables.

    This is what `funcdiff.make_jaxpr` returns; `str()` gives a JAX-like listing.
    """

    __slots__ = ("jaxpr", "consts", "__weakref__")

    def __init__(self, jaxpr: Jaxpr, consts: Sequence[Any]):
        if len(jaxpr.constvars) != len(consts):
            raise ValueError("ClosedJaxpr: number of constants does not match constvars")
        self.jaxpr = jaxpr
        self.consts = list(consts)

    @property
    def in_avals(self) -> list[ShapedArray]:
        return self.jaxpr.in_avals

    @property
    def out_avals(self) -> list[ShapedArray]:
        return self.jaxpr.out_avals

    @property
    def eqns(self) -> list[JaxprEqn]:
        return self.jaxpr.eqns

    def __call__(self, *args: Any) -> list[Any]:
        return eval_jaxpr(self.jaxpr, self.consts, *args)

    def __str__(self) -> str:
        return pp_jaxpr(self.jaxpr)

    __repr__ = __str__

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))


class _Flags:
    """Process-wide switches set through `funcdiff.config` (read on hot paths).
    `check_nans` is on when any result check is (`debug_nans` or `debug_infs`): primitives
    then run one by one and each result is checked for what those two ask."""

    check_nans = False
    debug_nans = False
    debug_infs = False


flags = _Flags()


def eval_jaxpr(jaxpr: Jaxpr, consts: Sequence[Any], *args: Any) -> list[Any]:
    """Evaluate a jaxpr by binding each equation's primitive in order.

    Because it uses `bind`, evaluating under an active transformation transforms the program.
    """
    env: dict[Var, Any] = {}
    for v, x in zip(jaxpr.constvars, consts, strict=True):
        env[v] = x
    if len(args) != len(jaxpr.invars):
        raise TypeError(f"jaxpr takes {len(jaxpr.invars)} arguments, got {len(args)}")
    for v, x in zip(jaxpr.invars, args):
        env[v] = x
    check = flags.check_nans
    dead = _dead_after(jaxpr)
    state = _state
    previous, previous_info = state.source_override, state.source_info
    try:
        for i, eqn in enumerate(jaxpr.eqns):
            invals = [a.val if type(a) is Literal else env[a] for a in eqn.invars]
            if check:
                state.source_info = eqn.source_info
            if eqn.source_info is not None:  # equations traced again keep their user line
                state.source_override = eqn.source_info
            out = eqn.primitive.bind(*invals, **eqn.params)
            if eqn.primitive.multiple_results:
                for v, x in zip(eqn.outvars, out, strict=True):
                    env[v] = x
            else:
                env[eqn.outvars[0]] = out
            for v in dead.get(i, ()):
                del env[v]  # free intermediates as soon as they are no longer needed
    finally:
        # Restored, so that a NaN found later outside this program names its own line.
        state.source_override, state.source_info = previous, previous_info
    return [a.val if type(a) is Literal else env[a] for a in jaxpr.outvars]


def variable_uses(
    jaxpr: Jaxpr, first_use: dict[Var, int] | None = None
) -> tuple[dict[Var, int], dict[Var, int]]:
    """The liveness of the variables of `jaxpr`: ``(last_use, count)``, where ``last_use[v]``
    is the index of the last equation that reads `v` (``len(jaxpr.eqns)`` for an output, which
    lives to the end) and ``count[v]`` how many times it is read (an output counts as a read).
    Variables never read appear in neither. A `first_use` dict, if given, is filled with the
    index of the first equation reading each variable (``len(jaxpr.eqns)`` for an output read
    by none). The one liveness analysis: evaluation frees by it, jit's simplifier asks whether
    a result has one reader, its code generator plans buffers, its `sink` pass schedules."""
    n = len(jaxpr.eqns)
    last: dict[Var, int] = {}
    count: dict[Var, int] = {}
    for i, eqn in enumerate(jaxpr.eqns):
        for a in eqn.invars:
            if type(a) is Var:
                last[a] = i
                c = count.get(a)
                if c is None:
                    count[a] = 1
                    if first_use is not None:
                        first_use[a] = i
                else:
                    count[a] = c + 1
    for a in jaxpr.outvars:
        if type(a) is Var:
            last[a] = n
            count[a] = count.get(a, 0) + 1
            if first_use is not None and a not in first_use:
                first_use[a] = n
    return last, count


def _dead_after(jaxpr: Jaxpr) -> dict[int, list[Var]]:
    """For each equation, the variables whose last use it is (outputs never die)."""
    n = len(jaxpr.eqns)
    dead: dict[int, list[Var]] = {}
    for v, i in variable_uses(jaxpr)[0].items():
        if i < n:
            dead.setdefault(i, []).append(v)
    return dead


def typecheck_jaxpr(jaxpr: Jaxpr) -> None:
    """Check that every variable is bound once before use and every equation's output
    avals match its primitive's shape/dtype rule. Raises `TypeError` describing the first
    problem found."""
    defined: set[Var] = set()

    def bind_var(v: Var, where: str) -> None:
        if v in defined:
            raise TypeError(f"variable {v} is bound twice ({where})")
        defined.add(v)

    def read(a: Atom, where: str) -> ShapedArray:
        if isinstance(a, Literal):
            return a.aval
        if a not in defined:
            raise TypeError(f"variable {a} used before it is bound ({where})")
        return a.aval

    for v in jaxpr.constvars:
        bind_var(v, "constvar")
    for v in jaxpr.invars:
        bind_var(v, "invar")
    for i, eqn in enumerate(jaxpr.eqns):
        where = f"equation {i}: {eqn.primitive.name}"
        avals = [read(a, where) for a in eqn.invars]
        expected = eqn.primitive.abstract(avals, eqn.params)
        expected = expected if eqn.primitive.multiple_results else [expected]
        got = [v.aval for v in eqn.outvars]
        if len(expected) != len(got) or any(
            e.shape != g.shape or e.dtype != g.dtype for e, g in zip(expected, got)
        ):
            raise TypeError(
                f"{where}: outputs are typed {[g.str_short() for g in got]} but the rule "
                f"gives {[e.str_short() for e in expected]}"
            )
        for v in eqn.outvars:
            bind_var(v, where)
    for a in jaxpr.outvars:
        read(a, "outputs")


# ---- pretty-printing ------------------------------------------------------------------------


def _var_names() -> Iterator[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    for n in itertools.count(1):
        for chars in itertools.product(letters, repeat=n):
            yield "".join(chars)


class _Namer:
    def __init__(self) -> None:
        self.names: dict[Var, str] = {}
        self.fresh = _var_names()

    def __call__(self, v: Atom) -> str:
        if isinstance(v, Literal):
            return _pp_literal(v)
        name = self.names.get(v)
        if name is None:
            name = self.names[v] = next(self.fresh)
        return name


def _pp_literal(lit: Literal) -> str:
    val = lit.val
    if isinstance(val, np.generic | np.ndarray):
        val = val.item()
    return f"{val!r}:{lit.aval.str_short()}"


def _pp_param(value: Any, indent: str) -> str:
    if isinstance(value, ClosedJaxpr):
        value = value.jaxpr
    if isinstance(value, Jaxpr):
        inner = pp_jaxpr(value, indent + "    ")
        return "\n" + indent + "    " + inner
    if isinstance(value, np.dtype):
        return dtypes.short_name(value)
    if callable(value) and not isinstance(value, type):
        return getattr(value, "__name__", type(value).__name__)  # no memory addresses
    if isinstance(value, type) and issubclass(value, np.generic):
        return dtypes.short_name(np.dtype(value))
    if isinstance(value, tuple):
        parts = [_pp_param(x, indent) for x in value]
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
    return repr(value) if isinstance(value, str) else str(value)


def pp_eqn(eqn: JaxprEqn, name: Callable[[Atom], str], indent: str = "") -> str:
    outs = " ".join(f"{name(v)}:{v.aval.str_short()}" for v in eqn.outvars)
    params = ""
    if eqn.params:
        params = "[" + " ".join(
            f"{k}={_pp_param(v, indent)}" for k, v in sorted(eqn.params.items())
        ) + "]"
    ins = " ".join(name(a) for a in eqn.invars)
    return f"{outs} = {eqn.primitive.name}{params} {ins}".rstrip()


def pp_jaxpr(jaxpr: Jaxpr, indent: str = "") -> str:
    """A JAX-like listing: ``{ lambda consts ; inputs. let eqns in (outputs,) }``."""
    name = _Namer()
    consts = " ".join(f"{name(v)}:{v.aval.str_short()}" for v in jaxpr.constvars)
    ins = " ".join(f"{name(v)}:{v.aval.str_short()}" for v in jaxpr.invars)
    lines = [f"{{ lambda {consts}; {ins}. let"]
    for eqn in jaxpr.eqns:
        lines.append(f"{indent}    {pp_eqn(eqn, name, indent + '    ')}")
    outs = ", ".join(name(a) for a in jaxpr.outvars)
    if len(jaxpr.outvars) == 1:
        outs += ","
    lines.append(f"{indent}  in ({outs}) }}")
    return "\n".join(lines)


# ---- primitives -----------------------------------------------------------------------------


class Primitive:
    """A named operation. Its rules live in tables owned by each transformation; the NumPy
    implementation and the shape/dtype rule live here.

    Array operands are passed positionally; static metadata is passed as keyword params.
    """

    __slots__ = ("name", "multiple_results", "impl", "abstract_eval", "__weakref__")

    def __init__(self, name: str, multiple_results: bool = False):
        self.name = name
        self.multiple_results = multiple_results
        self.impl: Callable[..., Any] | None = None
        self.abstract_eval: Callable[..., Any] | None = None

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
            # Outside any transformation: the user gets funcdiff Arrays.
            out = self.run_impl(args, params)
            if self.multiple_results:
                return [as_array(o) for o in out]
            return as_array(out)
        trace = top.trace
        if trace is None:
            trace = top.trace = top.trace_type(top)
        # The trace's own tracers pass as they are; anything else is raised into it.
        tracers = [a if isinstance(a, Tracer) and a._trace.main is top else trace.full_raise(a)
                   for a in args]
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
        for a in args:  # (a loop is cheaper than `Array in map(type, args)` for few operands)
            if type(a) is Array:  # implementations compute on plain NumPy arrays
                args = [x.view(np.ndarray) if type(x) is Array else x for x in args]
                break
        try:
            if flags.check_nans:  # NumPy's warning would precede the clearer error below
                with np.errstate(all="ignore"):
                    out = self.impl(*args, **params)  # type: ignore[misc]
                _check_nans(self, out)
                return out
            return self.impl(*args, **params)  # type: ignore[misc]
        except FuncdiffTypeError:
            raise
        except (ValueError, TypeError, IndexError) as e:
            raise self._impl_error(args, params, e) from e

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
            raise ConcretizationTypeError(what, message=(
                f"Attempted {what} on the traced value {self.aval.str_short()}, which is being "
                "differentiated: converting it to a Python number would silently drop its "
                "derivative. Keep it an array (use funcdiff.numpy operations), or wrap it in "
                "funcdiff.stop_gradient if the derivative should be dropped."))
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
