"""`jit` on any Array API namespace: the `Backend` that `jit` compiles for when its arguments
are not NumPy arrays (or when it is asked to with ``backend=``), how one is found and named,
and how a program is compiled for it and called. The lowering rules it uses, which write a
primitive with the functions of the Array API standard, are in `array_api_rules.py` and
`array_api_calls.py`.

NumPy keeps its own rules (`interpreters/lowering_rules.py`), which may call NumPy-only
functions and write into dead buffers with ``out=``. A `Backend` lowers the same optimised
jaxpr differently: every primitive goes through `array_api_rules.api_rules` (a primitive
without a rule is a compile-time `BackendError` naming it and the namespace); nothing is
written in place (Dask arrays are lazy, `array_api_strict` arrays need not support it); NumPy
constants are converted to the namespace once per compiled program; and Python scalars
(weakly typed values) stay Python scalars only between operations on Python scalars: an array
function receives them as 0-d arrays of the dtype they take on.

Nothing here imports a third-party array library until a backend is asked for: NumPy-only use
of funcdiff imports neither `array_api_compat` nor Dask.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.array import Array
from funcdiff._src.core import ClosedJaxpr, JaxprEqn, Literal, Var
from funcdiff._src.errors import BackendError
from funcdiff._src.interpreters.lowering_rules import LoweringContext
from funcdiff._src.jit import array_api_calls as _array_api_calls  # noqa: F401  (fills api_rules)
from funcdiff._src.jit import cache, lowering, passes
from funcdiff._src.jit.array_api_rules import (
    ELEMENTWISE,
    UNSUPPORTED,
    api_rules,
    dtype,
    own_rule_calls_program,
)
from funcdiff._src.lax import _jaxprs as jaxprs
from funcdiff._src.lax.elementwise import complex_p, convert_element_type_p, select_n_p
from funcdiff._src.lax.shape import broadcast_in_dim_p

# ---- the backend ----------------------------------------------------------------------------


class Backend:
    """An Array API namespace `jit` compiles for. `lazy`: its arrays are lazy graphs (Dask), so
    results are never copied (nothing can write into them)."""

    def __init__(self, name: str, xp: Any, lazy: bool = False):
        self.name, self.xp, self.lazy = name, xp, lazy

    def __repr__(self) -> str:
        return f"Backend({self.name!r})"

    # -- hooks called by `lowering.lower_jaxpr` --

    def begin(self, ctx: LoweringContext, closed: ClosedJaxpr) -> None:
        jaxpr = closed.jaxpr
        # Variables known to hold Python scalars when the program runs: weakly typed scalar
        # arguments (a Python scalar's signature) and results of operations on those only.
        # A sub-program (a loop body, a branch) gets arrays only: its caller converts them.
        ctx.py_scalars = {v for v in jaxpr.invars if _is_weak_scalar(v)} if ctx.top else set()
        # Broadcasts (constants with zero strides, such as the zeros of derivative rules,
        # broadcasts of a scalar, and elementwise results of those) are kept with size-1
        # dimensions while elementwise operations broadcast them against full-size arrays: a
        # lazy namespace then builds no array of the batch's size, and Dask needs no rechunk.
        compact: set[Any] = set()
        ctx.compact_consts = {}
        for v, c in zip(jaxpr.constvars, closed.consts):
            if type(c) is np.ndarray and c.size > 1 and 0 in c.strides:
                compact.add(v)
                distinct = tuple(slice(0, 1) if s == 0 else slice(None) for s in c.strides)
                ctx.compact_consts[id(c)] = c[distinct]
        for eqn in jaxpr.eqns:
            prim, ins = eqn.primitive, eqn.invars
            if prim is broadcast_in_dim_p and ins[0].aval.ndim == 0 and eqn.outvars[0].aval.ndim:
                compact.add(eqn.outvars[0])
            elif (
                prim in ELEMENTWISE
                and any(type(a) is Var and a in compact for a in ins)
                and all(a.aval.ndim == 0 or a in compact for a in ins if type(a) is Var)
            ):
                compact.add(eqn.outvars[0])
        ctx.compact = compact

    def convert_constant(self, ctx: LoweringContext, value: Any) -> Any:
        if isinstance(value, np.ndarray | np.generic):
            value = ctx.compact_consts.get(id(value), value)
            return self.xp.asarray(value.view(np.ndarray) if type(value) is Array else value)
        return value

    def expression(self, ctx: LoweringContext, eqn: JaxprEqn, args: list[str]) -> str:
        py = ctx.py_scalars
        on_scalars = [
            type(a) is Literal and type(a.val) in core._PY_SCALARS or a in py for a in eqn.invars
        ]
        if (
            eqn.invars
            and all(on_scalars)
            and not eqn.primitive.multiple_results
            and _is_weak_scalar(eqn.outvars[0])
        ):
            # Scalar arithmetic on Python scalars (static values): NumPy's semantics, as eager.
            py.add(eqn.outvars[0])
            fn = ctx.const(eqn.primitive.impl, "f")
            kw = "".join(f", {k}={ctx.param(v)}" for k, v in eqn.params.items())
            kind = eqn.outvars[0].aval.dtype.kind
            return f"{lowering._PY_TYPE[kind]}({fn}({', '.join(args)}{kw}))"
        rule = api_rules.get(eqn.primitive)
        if rule is None:
            reason = UNSUPPORTED.get(eqn.primitive, "no Array API lowering rule is defined")
            raise BackendError(
                f"jit: primitive '{eqn.primitive.name}' has no equivalent in the array namespace "
                f"'{self.name}' ({reason}). Run this function on NumPy arrays (convert with "
                "np.asarray), or without jit."
            )
        if not getattr(rule, "python_operator", False) and any(on_scalars):
            own = own_rule_calls_program(rule)
            args = [
                (
                    _scalar_operand(ctx, eqn, name, a)
                    if not own
                    else f"xp.asarray({name}, dtype={dtype(a.aval.dtype)})"
                )
                if s
                else name
                for name, a, s in zip(args, eqn.invars, on_scalars)
            ]
        if not own_rule_calls_program(rule):
            # Weakly typed 0-d arrays (a loop counter in a loop body) take the dtype of the
            # arrays they meet, as weak Python scalars do.
            args = [
                _scalar_operand(ctx, eqn, name, a)
                if type(a) is Var and _is_weak_scalar(a) and a not in py and not s
                else name
                for name, a, s in zip(args, eqn.invars, on_scalars)
            ]
        if eqn.primitive in ELEMENTWISE:
            args = _same_kind(eqn, args, on_scalars)
        compact = ctx.compact
        if eqn.outvars and eqn.outvars[0] in compact:
            if eqn.primitive is broadcast_in_dim_p:
                return f"xp.reshape({args[0]}, {(1,) * eqn.outvars[0].aval.ndim})"
        elif any(type(a) is Var and a in compact for a in eqn.invars):
            # Broadcast a compact operand to its full shape unless an elementwise operation
            # does it: one of its other operands already has the result's shape.
            shape = eqn.outvars[0].aval.shape if eqn.outvars else None
            implicit = eqn.primitive in ELEMENTWISE and any(
                type(a) is Var and a not in compact and a.aval.shape == shape for a in eqn.invars
            )
            if not implicit:
                args = [
                    f"xp.broadcast_to({n}, {a.aval.shape})"
                    if type(a) is Var and a in compact
                    else n
                    for n, a in zip(args, eqn.invars)
                ]
        return rule(ctx, *args, **eqn.params)

    def result(self, ctx: LoweringContext, name: str, a: core.Atom, copy: bool) -> str:
        if type(a) is Literal or a in ctx.py_scalars:
            return f"xp.asarray({name}, dtype={dtype(a.aval.dtype)})"
        if a in ctx.compact:
            return f"xp.broadcast_to({name}, {a.aval.shape})"
        return f"xp.asarray({name}, copy=True)" if copy and not self.lazy else name


def _same_kind(eqn: JaxprEqn, args: list[str], on_scalars: list[bool]) -> list[str]:
    """Operands of mixed kinds (a float array times an int array), which NumPy promotes and the
    Array API leaves undefined, cast to the result's dtype (to the promoted one for a
    comparison)."""
    skip = 1 if eqn.primitive is select_n_p else 0  # the selector stays an index
    dts = [a.aval.dtype for a, s in zip(eqn.invars[skip:], on_scalars[skip:]) if not s]
    if len({d.kind for d in dts}) < 2 or eqn.primitive in (complex_p, convert_element_type_p):
        return args
    out = eqn.outvars[0].aval.dtype
    target = out if out.kind != "b" else np.result_type(*dts)
    return [
        f"xp.astype({n}, {dtype(target)})"
        if k >= skip and not s and a.aval.dtype.kind != target.kind
        else n
        for k, (n, a, s) in enumerate(zip(args, eqn.invars, on_scalars))
    ]


def _is_weak_scalar(v: core.Atom) -> bool:
    return v.aval.weak_type and v.aval.ndim == 0


def _scalar_operand(ctx: LoweringContext, eqn: JaxprEqn, name: str, a: core.Atom) -> str:
    """A Python scalar operand of an array function, as the 0-d array it acts as: the dtype
    of an array operand of the same or a wider kind (a weak scalar takes the array's dtype),
    else its own."""
    rank = "biufc".index
    own = a.aval.dtype
    for b in eqn.invars:
        if not _is_weak_scalar(b) and rank(b.aval.dtype.kind) >= rank(own.kind):
            own = b.aval.dtype
            break
    return f"xp.asarray({name}, dtype={dtype(own)})"


# ---- finding and naming backends ------------------------------------------------------------

_backends: dict[Any, Backend] = {}


def _make(name: str, xp: Any) -> Backend:
    key = (name, id(xp))
    b = _backends.get(key)
    if b is None:
        b = _backends[key] = Backend(name, xp, lazy=name == "dask")
    return b


def resolve(spec: Any) -> Backend | None:
    """The backend named by `spec` (``jit(..., backend=spec)``): None or ``"numpy"`` for NumPy,
    a module name (``"array_api_strict"``, ``"dask"``, ``"cupy"``, ``"torch"``) or an Array API
    namespace module."""
    if spec is None or spec == "numpy" or spec is np:
        return None
    if isinstance(spec, str):
        try:
            xp = importlib.import_module(f"array_api_compat.{spec}")
            if spec == "dask":
                xp = importlib.import_module("array_api_compat.dask.array")
        except ImportError:
            try:
                xp = importlib.import_module(spec)
            except ImportError:
                raise ValueError(
                    f"jit: backend={spec!r}: no module named {spec!r} is installed"
                ) from None
        if not hasattr(xp, "asarray"):
            raise ValueError(f"jit: backend={spec!r} is not an array namespace")
        return _make(spec, xp)
    if hasattr(spec, "asarray"):
        return _make(_namespace_name(spec), spec)
    raise TypeError(
        f"jit: backend must be None, a module name or an array namespace, got {type(spec).__name__}"
    )


def _namespace_name(xp: Any) -> str:
    name = xp.__name__
    if name.startswith("array_api_compat."):
        name = name.split(".")[1]
    return name


def is_foreign(x: Any) -> bool:
    """Whether `x` is an array of another library (not NumPy, not a funcdiff tracer)."""
    return (
        not isinstance(x, np.ndarray | np.generic | core.Tracer)
        and type(x) not in core._PY_SCALARS
        and hasattr(x, "shape")
        and hasattr(x, "dtype")
    )


def detect(leaves: list[Any]) -> Backend | None:
    """The backend of the arguments' arrays (NumPy arrays and Python scalars are taken by any
    namespace); None when all of them are NumPy's."""
    foreign = [x for x in leaves if is_foreign(x)]
    if not foreign:
        return None
    import array_api_compat

    xp = array_api_compat.array_namespace(*foreign)
    if array_api_compat.is_numpy_namespace(xp):
        return None
    return _make(_namespace_name(xp), xp)


def aval_of(x: Any) -> core.ShapedArray:
    """The abstract value of an array of any namespace."""
    shape = tuple(x.shape)
    if any(n is None or (isinstance(n, float) and math.isnan(n)) for n in shape):
        raise ValueError(
            f"jit: an argument of shape {shape} has unknown dimensions; compute "
            "its chunk sizes first (Dask: x.compute_chunk_sizes())"
        )
    return core.ShapedArray(tuple(int(n) for n in shape), np.dtype(str(x.dtype).split(".")[-1]))


def signature(x: Any) -> tuple:
    aval = aval_of(x)
    return (aval.shape, aval.dtype, type(x))


# ---- compiling and calling ------------------------------------------------------------------


def compiled(jaxpr: ClosedJaxpr, backend: Backend, top: bool = True) -> lowering.CompiledProgram:
    """The optimised program computing `jaxpr` with `backend`'s namespace (cached per jaxpr).
    A sub-program (`top` false) receives arrays only, never Python scalars."""

    def make() -> lowering.CompiledProgram:
        with cache.gc_paused():
            closed = passes.optimize(jaxpr)
            return lowering.lower_jaxpr(closed, xp=backend.xp, target=_Sub(backend, top))

    return jaxprs.derived(jaxpr, ("compiled", backend.name, id(backend.xp), top), make)


class _Sub:
    """`backend`, lowering a top-level program or a sub-program."""

    def __init__(self, backend: Backend, top: bool):
        self.backend, self.top = backend, top

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)

    def begin(self, ctx: LoweringContext, closed: ClosedJaxpr) -> None:
        ctx.top = self.top
        self.backend.begin(ctx, closed)

    def sub_program(self, jaxpr: ClosedJaxpr) -> lowering.CompiledProgram:
        """`jaxpr` compiled for the same backend, as a sub-program (a loop body, a branch)."""
        return compiled(jaxpr, self.backend, top=False)


def caller(program: lowering.CompiledProgram, backend: Backend) -> Callable[..., Any]:
    """Call `program` with NumPy arguments converted to the namespace (Python scalars stay)."""
    fn, asarray = program.fn, backend.xp.asarray

    def call(*args: Any) -> Any:
        return fn(
            *[
                asarray(a.view(np.ndarray) if type(a) is Array else a)
                if isinstance(a, np.ndarray | np.generic)
                else a
                for a in args
            ]
        )

    return call
