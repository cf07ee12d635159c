"""Lowering: turn a jaxpr into straight-line Python source calling an array namespace (NumPy by
default), compile it once, and run it.

Each primitive may register a rule in `lower_rules`, ``rule(ctx, *operands, **params) -> str``,
returning a Python expression over its operands' names (one per result for multiple-result
primitives, as a tuple expression). Primitives without a rule call their NumPy implementation,
bound as a constant of the generated code, so every primitive lowers.

Safety: the generated source contains only names this module creates (variables ``a``, ``b``,
... and constants ``_k0``, ``_f1``, ...) and literals it renders itself (ints, finite floats,
tuples of those). Everything else, strings included, is bound in the function's namespace.
"""

from __future__ import annotations

import keyword
import linecache
import math
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.core import ClosedJaxpr, Jaxpr, JaxprEqn, Literal, Var

lower_rules: dict[core.Primitive, Callable[..., Any]] = {}

_RESERVED = {"xp", "np"}


class LoweringContext:
    """Collects constants for the generated source and renders static values safely."""

    def __init__(self, xp: Any):
        self.xp = xp
        self.namespace: dict[str, Any] = {"xp": xp, "__builtins__": {}}
        self._names: dict[int, str] = {}
        self.eqn: JaxprEqn | None = None

    def const(self, value: Any, hint: str = "k") -> str:
        """A generated name bound to `value` in the namespace of the generated code."""
        name = self._names.get(id(value))
        if name is None:
            name = f"_{hint}{len(self._names)}"
            self._names[id(value)] = name
            self.namespace[name] = value
            self.namespace.setdefault("__keepalive__", []).append(value)
        return name

    def literal(self, value: Any) -> str:
        """Render a scalar: Python ints/bools/finite floats inline, anything else by name."""
        t = type(value)
        if t is bool or t is int:
            return repr(value)
        if t is float and math.isfinite(value):
            return repr(value)
        return self.const(value)

    def param(self, value: Any) -> str:
        """Render a static parameter (ints, tuples, None inline; the rest by name)."""
        if value is None or type(value) in (bool, int):
            return repr(value)
        if type(value) is float and math.isfinite(value):
            return repr(value)
        if type(value) is tuple:
            parts = [self.param(v) for v in value]
            return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
        return self.const(value)

    @property
    def in_avals(self) -> list[core.ShapedArray]:
        assert self.eqn is not None
        return [a.aval for a in self.eqn.invars]

    @property
    def out_avals(self) -> list[core.ShapedArray]:
        assert self.eqn is not None
        return [v.aval for v in self.eqn.outvars]


class _Names:
    """Variable names of the generated code: a, b, ..., skipping keywords and reserved names."""

    def __init__(self) -> None:
        self.names: dict[Var, str] = {}
        self.fresh = core._var_names()

    def __call__(self, v: Var) -> str:
        name = self.names.get(v)
        if name is None:
            name = next(self.fresh)
            while keyword.iskeyword(name) or name in _RESERVED:
                name = next(self.fresh)
            self.names[v] = name
        return name


class CompiledProgram:
    """A jaxpr compiled to a Python function over arrays."""

    __slots__ = ("fn", "source", "filename", "line_info", "jaxpr", "num_consts")

    def __init__(self, fn, source, filename, line_info, jaxpr):
        self.fn = fn
        self.source = source
        self.filename = filename
        self.line_info = line_info
        self.jaxpr = jaxpr

    def __call__(self, *args: Any) -> Any:
        try:
            return self.fn(*args)
        except Exception as e:
            _annotate(e, self)
            raise

    def as_python(self) -> str:
        """The generated source, each line annotated with the user's line that produced it."""
        lines = self.source.splitlines()
        out = []
        for i, line in enumerate(lines, start=1):
            info = self.line_info.get(i)
            out.append(f"{line}  # {info[0]}" + (f" ({info[1]})" if info[1] else "") if info
                       else line)
        return "\n".join(out)


def _annotate(e: Exception, program: CompiledProgram) -> None:
    tb = e.__traceback__
    lineno = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == program.filename:
            lineno = tb.tb_lineno
        tb = tb.tb_next
    if lineno is None or lineno not in program.line_info:
        return
    prim, where = program.line_info[lineno]
    note = (f"(in jit-compiled code, line {lineno}: {program.source.splitlines()[lineno - 1]}"
            f" -- primitive '{prim}'" + (f", traced at {where})" if where else ")"))
    if sys.version_info >= (3, 11):
        e.add_note(note)


_counter = 0
_counter_lock = threading.Lock()


def _default_lower(ctx: LoweringContext, *args: str, **params: Any) -> str:
    assert ctx.eqn is not None
    prim = ctx.eqn.primitive
    fn = ctx.const(prim.impl, "f")
    kw = "".join(f", {k}={ctx.param(v)}" for k, v in params.items())
    return f"{fn}({', '.join(args)}{kw})" if args else f"{fn}({kw[2:]})"


def lower_jaxpr(closed: ClosedJaxpr, xp: Any = np) -> CompiledProgram:
    """Generate, compile and return the Python function computing `closed`."""
    global _counter
    jaxpr: Jaxpr = closed.jaxpr
    ctx = LoweringContext(xp)
    names = _Names()

    def atom(a: core.Atom) -> str:
        return ctx.literal(a.val) if type(a) is Literal else names(a)

    for v, c in zip(jaxpr.constvars, closed.consts):
        ctx.namespace[names(v)] = c
    params = ", ".join(names(v) for v in jaxpr.invars)
    lines = [f"def jitted({params}):"]
    line_info: dict[int, tuple[str, str]] = {}
    for eqn in jaxpr.eqns:
        ctx.eqn = eqn
        rule = lower_rules.get(eqn.primitive, _default_lower)
        expr = rule(ctx, *[atom(a) for a in eqn.invars], **eqn.params)
        outs = ", ".join(names(v) for v in eqn.outvars)
        if eqn.primitive.multiple_results and len(eqn.outvars) == 1:
            outs += ","
        if not eqn.outvars:
            outs = "_"
        lines.append(f"    {outs} = {expr}")
        where = str(eqn.source_info) if eqn.source_info is not None else ""
        line_info[len(lines)] = (eqn.primitive.name, where)
    outs = ", ".join(atom(a) for a in jaxpr.outvars)
    lines.append(f"    return ({outs}{',' if len(jaxpr.outvars) == 1 else ''})")
    source = "\n".join(lines) + "\n"
    with _counter_lock:
        _counter += 1
        filename = f"<funcdiff-jit-{_counter}>"
    code = compile(source, filename, "exec")
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(code, ctx.namespace)  # noqa: S102 - the source is generated here, see module doc
    return CompiledProgram(ctx.namespace["jitted"], source, filename, line_info, closed)


# ---- helpers for rules ----------------------------------------------------------------------


def binary_operator(op: str) -> Callable[..., str]:
    """A rule writing ``x <op> y`` (NumPy's operators broadcast and promote like the
    primitives)."""

    def rule(ctx: LoweringContext, x: str, y: str) -> str:
        return f"({x} {op} {y})"

    return rule


def unary_operator(op: str) -> Callable[..., str]:
    def rule(ctx: LoweringContext, x: str) -> str:
        return f"({op}{x})"

    return rule


def xp_function(name: str) -> Callable[..., str]:
    """A rule calling ``xp.<name>(*operands)``."""

    def rule(ctx: LoweringContext, *args: str) -> str:
        return f"xp.{name}({', '.join(args)})"

    return rule


def register(p: core.Primitive, rule: Callable[..., str] | None) -> None:
    if rule is not None:
        lower_rules[p] = rule


def inputs(args: Sequence[str]) -> str:
    return ", ".join(args)
