"""`jit` on any Array API namespace: the lowering rules that write a primitive with the functions
of the Array API standard, and the `Backend` that `jit` compiles for when its arguments are not
NumPy arrays (or when it is asked to with ``backend=``).

NumPy keeps its own rules (`interpreters/lowering_rules.py`), which may call NumPy-only
functions and write into dead buffers with ``out=``. A `Backend` lowers the same optimised
jaxpr differently: every primitive goes through `api_rules` below (a primitive without a rule
is a compile-time `BackendError` naming it and the namespace); nothing is written in place
(Dask arrays are lazy, `array_api_strict` arrays need not support it); NumPy constants are
converted to the namespace once per compiled program; and Python scalars (weakly typed values)
stay Python scalars only between operations on Python scalars: an array function receives them
as 0-d arrays of the dtype they take on.

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
from funcdiff._src.jit import cache, lowering, passes
from funcdiff._src.lax import _jaxprs as jaxprs
from funcdiff._src.lax import fft as fft_lax

Rule = Callable[..., str]


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
            name, ins = eqn.primitive.name, eqn.invars
            if name == "broadcast_in_dim" and ins[0].aval.ndim == 0 and eqn.outvars[0].aval.ndim:
                compact.add(eqn.outvars[0])
            elif (
                name in ELEMENTWISE
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
        rule = api_rules.get(eqn.primitive.name)
        if rule is None:
            reason = UNSUPPORTED.get(eqn.primitive.name, "no Array API lowering rule is defined")
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
        if eqn.primitive.name in ELEMENTWISE:
            args = _same_kind(eqn, args, on_scalars)
        compact = ctx.compact
        if eqn.outvars and eqn.outvars[0] in compact:
            if eqn.primitive.name == "broadcast_in_dim":
                return f"xp.reshape({args[0]}, {(1,) * eqn.outvars[0].aval.ndim})"
        elif any(type(a) is Var and a in compact for a in eqn.invars):
            # Broadcast a compact operand to its full shape unless an elementwise operation
            # does it: one of its other operands already has the result's shape.
            shape = eqn.outvars[0].aval.shape if eqn.outvars else None
            implicit = eqn.primitive.name in ELEMENTWISE and any(
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
    skip = 1 if eqn.primitive.name == "select_n" else 0  # the selector stays an index
    dts = [a.aval.dtype for a, s in zip(eqn.invars[skip:], on_scalars[skip:]) if not s]
    if len({d.kind for d in dts}) < 2 or eqn.primitive.name in ("complex", "convert_element_type"):
        return args
    out = eqn.outvars[0].aval.dtype
    target = out if out.kind != "b" else np.result_type(*dts)
    return [
        f"xp.astype({n}, {dtype(target)})"
        if k >= skip and not s and a.aval.dtype.kind != target.kind
        else n
        for k, (n, a, s) in enumerate(zip(args, eqn.invars, on_scalars))
    ]


def own_rule_calls_program(rule: Rule) -> bool:
    return getattr(rule, "calls_program", False)


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


def dtype(d: Any) -> str:
    """The expression naming dtype `d` in the namespace (``xp.float64``...)."""
    name = np.dtype(d).name
    if name not in _API_DTYPES:
        raise BackendError(f"jit: dtype {name} is not an Array API dtype")
    return f"xp.{name}"


_API_DTYPES = {
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float32",
    "float64",
    "complex64",
    "complex128",
}


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


# ---- the lowering rules ---------------------------------------------------------------------
# Keyed by primitive name (this module is imported only when a backend is used, after every
# primitive exists). A rule is ``rule(ctx, *operand_names, **params) -> str`` as for NumPy.

api_rules: dict[str, Rule] = {}

# Primitives with no Array API equivalent, and why (docs/how-to/scaling-out.md lists them).
_SPECIAL = "a special function; the standard has none"
UNSUPPORTED: dict[str, str] = {
    **{
        name: _SPECIAL
        for name in (
            "lgamma",
            "digamma",
            "polygamma",
            "zeta",
            "erf",
            "erfc",
            "erf_inv",
            "erfcx",
            "ndtri",
            "bessel_i0e",
            "bessel_i1e",
            "expi",
            "igamma",
            "igammac",
            "igamma_grad_a",
            "regularized_incomplete_beta",
        )
    },
    "cbrt": "the standard has no cube root (x ** (1/3) is not exact and fails for x < 0)",
    "ldexp": "the standard has no ldexp (x * 2**n overflows where ldexp does not)",
    "frexp_exponent": "the standard has no frexp",
    "bitwise_count": "the standard has no population count",
    "gcd": "the standard has no gcd",
    "lcm": "the standard has no lcm",
    "gather": "JAX's gather needs NumPy advanced indexing with index arrays",
    **{
        name: "JAX's scatter needs NumPy advanced indexing with index arrays (and ufunc.at)"
        for name in ("scatter", "scatter_add", "scatter_mul", "scatter_min", "scatter_max")
    },
    "conv_general_dilated": "the standard has no convolution",
    **{
        name: "the standard has no windowed reduction"
        for name in ("reduce_window_sum", "reduce_window_max", "reduce_window_min")
    },
    "lu": "the linalg extension has no LU decomposition",
    "eig": "the linalg extension has no non-symmetric eigendecomposition",
}


def _op(symbol: str) -> Rule:
    binary = len(symbol) <= 2 and symbol != "u-"

    def rule(ctx: LoweringContext, *xs: str) -> str:
        return f"({xs[0]} {symbol} {xs[1]})" if binary else f"(-{xs[0]})"

    rule.python_operator = True  # type: ignore[attr-defined]  # takes Python scalars as is
    return rule


def _fn(name: str) -> Rule:
    def rule(ctx: LoweringContext, *xs: str) -> str:
        return f"xp.{name}({', '.join(xs)})"

    return rule


_ELEMENTWISE_RULES: list[Rule] = []
for _prim, _symbol in [
    ("add", "+"),
    ("add_any", "+"),
    ("sub", "-"),
    ("mul", "*"),
    ("div", "/"),
    ("floor_divide", "//"),
    ("neg", "u-"),
    ("eq", "=="),
    ("ne", "!="),
    ("lt", "<"),
    ("le", "<="),
    ("gt", ">"),
    ("ge", ">="),
]:
    api_rules[_prim] = _op(_symbol)
    _ELEMENTWISE_RULES.append(api_rules[_prim])
for _prim, _name in [
    ("max", "maximum"),
    ("min", "minimum"),
    ("sign", "sign"),
    ("floor", "floor"),
    ("ceil", "ceil"),
    ("is_finite", "isfinite"),
    ("abs", "abs"),
    ("exp", "exp"),
    ("log", "log"),
    ("log1p", "log1p"),
    ("expm1", "expm1"),
    ("sqrt", "sqrt"),
    ("sin", "sin"),
    ("cos", "cos"),
    ("tan", "tan"),
    ("asin", "asin"),
    ("acos", "acos"),
    ("atan", "atan"),
    ("sinh", "sinh"),
    ("cosh", "cosh"),
    ("tanh", "tanh"),
    ("asinh", "asinh"),
    ("acosh", "acosh"),
    ("atanh", "atanh"),
    ("atan2", "atan2"),
    ("pow", "pow"),
    ("conj", "conj"),
    ("and", "bitwise_and"),
    ("or", "bitwise_or"),
    ("xor", "bitwise_xor"),
    ("not", "bitwise_invert"),
    ("shift_left", "bitwise_left_shift"),
    ("shift_right", "bitwise_right_shift"),
    ("nextafter", "nextafter"),
    ("signbit", "signbit"),
]:
    api_rules[_prim] = _fn(_name)
    _ELEMENTWISE_RULES.append(api_rules[_prim])


def _rule(name: str) -> Callable[[Rule], Rule]:
    def register(rule: Rule) -> Rule:
        api_rules[name] = rule
        return rule

    return register


def _out_dtype(ctx: LoweringContext, k: int = 0) -> str:
    return dtype(ctx.out_avals[k].dtype)


@_rule("rem")
def _rem(ctx, x, y):
    # C's fmod: the remainder takes the sign of the dividend.
    return f"(xp.sign({x}) * xp.remainder(xp.abs({x}), xp.abs({y})))"


@_rule("round")
def _round(ctx, x, *, rounding_method=1):
    if int(rounding_method) == 1:  # to nearest even
        return f"xp.round({x})"
    # Half away from zero: x - trunc(x) is exact.
    return (
        f"(lambda t: t + xp.sign({x}) * xp.astype(xp.abs({x} - t) >= 0.5, "
        f"{_out_dtype(ctx)}))(xp.trunc({x}))"
    )


api_rules["real"] = lambda ctx, x: f"xp.real({x})" if ctx.in_avals[0].dtype.kind == "c" else x
api_rules["imag"] = lambda ctx, x: (
    f"xp.imag({x})" if ctx.in_avals[0].dtype.kind == "c" else f"xp.zeros_like({x})"
)
api_rules["rsqrt"] = lambda ctx, x: f"(1 / xp.sqrt({x}))"
api_rules["integer_pow"] = lambda ctx, x, *, y: f"({x} * {x})" if y == 2 else f"({x} ** {y})"
api_rules["stop_gradient"] = lambda ctx, x: x
api_rules["clamp"] = lambda ctx, lo, x, hi: f"xp.minimum(xp.maximum({x}, {lo}), {hi})"


@_rule("logistic")
def _logistic(ctx, x):
    if ctx.in_avals[0].dtype.kind == "f":  # no overflow for large |x|
        return f"xp.exp(-xp.logaddexp(xp.zeros_like({x}), -{x}))"
    return f"(1 / (1 + xp.exp(-{x})))"


@_rule("complex")
def _complex(ctx, x, y):
    c = _out_dtype(ctx)
    return f"(xp.astype({x}, {c}) + xp.astype({y}, {c}) * 1j)"


@_rule("convert_element_type")
def _convert(ctx, x, *, new_dtype, weak_type=False):
    if ctx.in_avals[0].dtype.kind == "c" and np.dtype(new_dtype).kind != "c":
        x = f"xp.real({x})"
    return f"xp.astype({x}, {dtype(new_dtype)})"


@_rule("select_n")
def _select_n(ctx, which, *cases):
    if ctx.in_avals[0].dtype.kind == "b":
        return f"xp.where({which}, {cases[1]}, {cases[0]})"
    expr = cases[-1]
    if len(cases) == 1:
        return f"xp.broadcast_to({expr}, {ctx.param(ctx.out_avals[0].shape)})"
    for k in range(len(cases) - 2, -1, -1):
        expr = f"xp.where({which} == {k}, {cases[k]}, {expr})"
    return expr


def _reduction(name: str, keep_dtype: bool = False) -> Rule:
    def rule(ctx, x, *, axes):
        kw = f", dtype={dtype(ctx.in_avals[0].dtype)}" if keep_dtype else ""
        return f"xp.{name}({x}, axis={ctx.param(tuple(axes))}{kw})"

    return rule


api_rules["reduce_sum"] = _reduction("sum", keep_dtype=True)
api_rules["reduce_prod"] = _reduction("prod", keep_dtype=True)
api_rules["reduce_max"] = _reduction("max")
api_rules["reduce_min"] = _reduction("min")


def _logical_reduction(name: str, prim: str) -> Rule:
    def rule(ctx, x, *, axes):
        if ctx.in_avals[0].dtype.kind != "b":
            raise BackendError(
                f"jit: primitive '{prim}' on integers (a bitwise reduction) has "
                "no Array API equivalent"
            )
        return f"xp.{name}({x}, axis={ctx.param(tuple(axes))})"

    return rule


api_rules["reduce_and"] = _logical_reduction("all", "reduce_and")
api_rules["reduce_or"] = _logical_reduction("any", "reduce_or")


def _arg_reduction(name: str) -> Rule:
    def rule(ctx, x, *, axis, index_dtype):
        return f"xp.astype(xp.{name}({x}, axis={axis}), {dtype(index_dtype)})"

    return rule


api_rules["argmax"] = _arg_reduction("argmax")
api_rules["argmin"] = _arg_reduction("argmin")


@_rule("argsort")
def _argsort(ctx, x, *, dimension, descending):
    return (
        f"xp.astype(xp.argsort({x}, axis={dimension}, descending={bool(descending)}, "
        f"stable=True), xp.int64)"
    )


@_rule("sort")
def _sort(ctx, x, *, dimension, descending):
    out = f"xp.sort({x}, axis={dimension}, stable=True)"
    return f"xp.flip({out}, axis={dimension})" if descending else out


@_rule("cumsum")
def _cumsum(ctx, x, *, axis, reverse):
    if reverse:
        x = f"xp.flip({x}, axis={axis})"
    out = f"xp.cumulative_sum({x}, axis={axis}, dtype={dtype(ctx.in_avals[0].dtype)})"
    return f"xp.flip({out}, axis={axis})" if reverse else out


# -- shapes --


def _to_out_shape(ctx, x, **_):
    return f"xp.reshape({x}, {ctx.param(ctx.out_avals[0].shape)})"


for _prim in ("reshape", "squeeze", "expand_dims"):
    api_rules[_prim] = _to_out_shape


@_rule("broadcast_in_dim")
def _broadcast_in_dim(ctx, x, *, shape, broadcast_dimensions):
    expanded = [1] * len(shape)
    for i, d in enumerate(broadcast_dimensions):
        expanded[d] = ctx.in_avals[0].shape[i]
    if tuple(expanded) != ctx.in_avals[0].shape:
        x = f"xp.reshape({x}, {ctx.param(tuple(expanded))})"
    return f"xp.broadcast_to({x}, {ctx.param(tuple(shape))})"


api_rules["transpose"] = lambda ctx, x, *, permutation: (
    f"xp.permute_dims({x}, {ctx.param(tuple(permutation))})"
)
api_rules["rev"] = lambda ctx, x, *, dimensions: (
    f"xp.flip({x}, axis={ctx.param(tuple(dimensions))})"
)
api_rules["concatenate"] = lambda ctx, *xs, dimension: (
    f"xp.concat([{', '.join(xs)}], axis={dimension})"
)


@_rule("slice")
def _slice(ctx, x, *, start_indices, limit_indices, strides):
    steps = strides or (1,) * len(start_indices)
    parts = [f"{a}:{b}:{s}" for a, b, s in zip(start_indices, limit_indices, steps)]
    if not parts:
        return x
    return f"{x}[{', '.join(parts)}{',' if len(parts) == 1 else ''}]"


def _pad(xp: Any, x: Any, value: Any, config: tuple) -> Any:
    pos_shape, inner = [], []
    for n, (lo, hi, interior) in zip(x.shape, config):
        dilated = n + (n - 1) * interior if n else 0
        lo_p = max(lo, 0)
        pos_shape.append(lo_p + dilated + max(hi, 0))
        inner.append(slice(lo_p, lo_p + dilated, interior + 1))
    out = xp.zeros(tuple(pos_shape), dtype=x.dtype) + value
    out[tuple(inner)] = x
    return out[
        tuple(slice(-min(lo, 0), size + min(hi, 0)) for size, (lo, hi, _) in zip(pos_shape, config))
    ]


api_rules["pad"] = lambda ctx, x, v, *, padding_config: (
    f"{ctx.const(_pad, 'f')}(xp, {x}, {v}, {ctx.param(tuple(map(tuple, padding_config)))})"
)


def _clamped(shape: tuple, starts: tuple, sizes: tuple) -> tuple:
    return tuple(
        slice(s, s + k)
        for s, k in ((min(max(int(s), 0), n - k), k) for s, n, k in zip(starts, shape, sizes))
    )


def _dynamic_slice(x: Any, *starts: Any, sizes: tuple) -> Any:
    return x[_clamped(x.shape, starts, sizes)]


def _dynamic_update_slice(xp: Any, x: Any, update: Any, *starts: Any) -> Any:
    out = xp.asarray(x, copy=True)
    out[_clamped(x.shape, starts, update.shape)] = update
    return out


api_rules["dynamic_slice"] = lambda ctx, x, *starts, slice_sizes: (
    f"{ctx.const(_dynamic_slice, 'f')}({', '.join([x, *starts])}, "
    f"sizes={ctx.param(tuple(slice_sizes))})"
)
api_rules["dynamic_update_slice"] = lambda ctx, x, u, *starts: (
    f"{ctx.const(_dynamic_update_slice, 'f')}({', '.join(['xp', x, u, *starts])})"
)


# -- products and linear algebra --


def _dot_general(xp: Any, x: Any, y: Any, dimension_numbers: tuple) -> Any:
    """dot_general with batch dimensions: (batch, free, contracted) @ (batch, contracted, free)
    as one matmul over flattened dimensions."""
    (xc, yc), (xb, yb) = dimension_numbers
    xf = [d for d in range(x.ndim) if d not in xc and d not in xb]
    yf = [d for d in range(y.ndim) if d not in yc and d not in yb]
    batch = [x.shape[d] for d in xb]
    k = math.prod(x.shape[d] for d in xc)
    xm = xp.reshape(
        xp.permute_dims(x, (*xb, *xf, *xc)), (*batch, math.prod(x.shape[d] for d in xf), k)
    )
    ym = xp.reshape(
        xp.permute_dims(y, (*yb, *yc, *yf)), (*batch, k, math.prod(y.shape[d] for d in yf))
    )
    return xp.reshape(
        xp.matmul(xm, ym), (*batch, *(x.shape[d] for d in xf), *(y.shape[d] for d in yf))
    )


@_rule("dot_general")
def _dot_general_rule(ctx, x, y, *, dimension_numbers):
    (xc, yc), (xb, _) = dimension_numbers
    if not xb:
        return f"xp.tensordot({x}, {y}, axes=({ctx.param(tuple(xc))}, {ctx.param(tuple(yc))}))"
    return f"{ctx.const(_dot_general, 'f')}(xp, {x}, {y}, {ctx.param(dimension_numbers)})"


api_rules["cholesky"] = lambda ctx, a: f"xp.linalg.cholesky({a})"
api_rules["qr"] = lambda ctx, a, *, full_matrices: (
    f"(lambda r: (r[0], r[1]))(xp.linalg.qr({a}, "
    f"mode={ctx.const('complete' if full_matrices else 'reduced')}))"
)


@_rule("eigh")
def _eigh(ctx, a, *, lower):
    if not lower:  # the upper triangle of a is the lower one of its conjugate transpose
        a = f"xp.conj(xp.matrix_transpose({a}))"
    return f"(lambda r: (r[1], r[0]))(xp.linalg.eigh({a}))"


@_rule("svd")
def _svd(ctx, a, *, full_matrices, compute_uv):
    if not compute_uv:
        return f"(xp.linalg.svdvals({a}),)"
    return f"(lambda r: (r[1], r[0], r[2]))(xp.linalg.svd({a}, full_matrices={full_matrices}))"


def _triangular_solve(
    xp: Any,
    a: Any,
    b: Any,
    left_side: bool,
    lower: bool,
    transpose_a: bool,
    conjugate_a: bool,
    unit_diagonal: bool,
) -> Any:
    a = xp.tril(a) if lower else xp.triu(a)
    if unit_diagonal:
        n = a.shape[-1]
        eye = xp.eye(n, dtype=a.dtype)
        a = a * (1 - eye) + eye
    if conjugate_a:
        a = xp.conj(a)
    if transpose_a:
        a = xp.matrix_transpose(a)
    if left_side:
        return xp.linalg.solve(a, b)
    # x a = b  <=>  a^T x^T = b^T
    return xp.matrix_transpose(xp.linalg.solve(xp.matrix_transpose(a), xp.matrix_transpose(b)))


api_rules["triangular_solve"] = lambda ctx, a, b, **p: (
    f"{ctx.const(_triangular_solve, 'f')}(xp, {a}, {b}, "
    + ", ".join(f"{k}={bool(v)}" for k, v in p.items())
    + ")"
)


@_rule("fft")
def _fft(ctx, x, *, fft_type, fft_lengths):
    name = fft_lax._NUMPY_FUNCTIONS[fft_type]
    axes = ctx.param(fft_lax._axes(ctx.in_avals[0].ndim, fft_lengths))
    s = f", s={ctx.param(tuple(fft_lengths))}" if fft_type is fft_lax.FftType.IRFFT else ""
    return f"xp.astype(xp.fft.{name}({x}{s}, axes={axes}), {_out_dtype(ctx)})"


# -- programs inside programs: compiled for the same backend --


def _program(ctx: LoweringContext, jaxpr: ClosedJaxpr) -> str:
    """The name of `jaxpr`'s compiled function, for the namespace being lowered to."""
    return ctx.const(compiled(jaxpr, ctx.target.backend, top=False).fn, "j")


def _calls_program(rule: Rule) -> Rule:
    rule.calls_program = True  # type: ignore[attr-defined]  # Python scalars: own dtype
    return rule


def _sub_program(param: str) -> Rule:
    def rule(ctx, *args, **params):
        return f"{_program(ctx, params[param])}({', '.join(args)})"

    return _calls_program(rule)


api_rules["jit"] = _sub_program("jaxpr")
api_rules["checkpoint"] = _sub_program("jaxpr")
api_rules["custom_jvp_call"] = _sub_program("call")
api_rules["custom_vjp_call"] = _sub_program("call")


@_rule("cond")
@_calls_program
def _cond(ctx, index, *args, branches):
    fns = ctx.const(tuple(compiled(b, ctx.target.backend, top=False).fn for b in branches), "b")
    return f"{fns}[int({index})]({', '.join(args)})"


def _while_loop(cond: Callable, body: Callable, nc: int, nb: int, *args: Any) -> list[Any]:
    """`while`: the predicate is read as a Python bool each time (Dask computes it)."""
    cc, bc, carry = args[:nc], args[nc : nc + nb], list(args[nc + nb :])
    while bool(cond(*cc, *carry)[0]):
        carry = list(body(*bc, *carry))
    return carry


@_rule("while")
@_calls_program
def _while(ctx, *args, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts, origin):
    loop = ctx.const(_while_loop, "f")
    cond, body = _program(ctx, cond_jaxpr), _program(ctx, body_jaxpr)
    return f"{loop}({', '.join([cond, body, str(cond_nconsts), str(body_nconsts), *args])})"


def _scan_loop(
    xp: Any,
    body: Callable,
    length: int,
    reverse: bool,
    nc: int,
    nk: int,
    y_avals: tuple,
    *args: Any,
) -> list[Any]:
    consts, carry, xs = args[:nc], list(args[nc : nc + nk]), args[nc + nk :]
    ys: list[list[Any]] = [[] for _ in y_avals]
    for i in range(length - 1, -1, -1) if reverse else range(length):
        outs = body(*consts, *carry, *[x[i, ...] for x in xs])
        carry = list(outs[:nk])
        for acc, y in zip(ys, outs[nk:]):
            acc.append(y)
    stacked = []
    for acc, (shape, dt) in zip(ys, y_avals):
        if reverse:
            acc.reverse()
        stacked.append(xp.stack(acc) if acc else xp.zeros((0, *shape), dtype=getattr(xp, dt)))
    return carry + stacked


@_rule("scan")
@_calls_program
def _scan(ctx, *args, jaxpr, length, reverse, num_consts, num_carry):
    y_avals = tuple((a.shape, a.dtype.name) for a in jaxpr.out_avals[num_carry:])
    head = [
        ctx.const(_scan_loop, "f"),
        "xp",
        _program(ctx, jaxpr),
        str(length),
        str(reverse),
        str(num_consts),
        str(num_carry),
        ctx.param(y_avals),
    ]
    return f"{head[0]}({', '.join([*head[1:], *args])})"


# Primitives computed element by element with broadcasting (see `Backend.begin`).
ELEMENTWISE = {
    *(name for name, rule in api_rules.items() if rule in _ELEMENTWISE_RULES),
    "rem",
    "round",
    "rsqrt",
    "integer_pow",
    "stop_gradient",
    "clamp",
    "logistic",
    "complex",
    "convert_element_type",
    "select_n",
    "real",
    "imag",
}
