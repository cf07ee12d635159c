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
from collections.abc import Callable
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


_DEL_BYTES = 1 << 16


class _Registers:
    """Local names of the generated code (a, b, ..., skipping keywords): a name is reused once
    its variable is dead, which keeps functions small to compile and frees arrays early."""

    def __init__(self) -> None:
        self.names: dict[Var, str] = {}
        self.free: dict[str, None] = {}  # an ordered set: the most recently freed comes last
        self.used: set[str] = set()
        self.fresh = core._var_names()

    def __getitem__(self, v: Var) -> str:
        return self.names[v]

    def bind(self, v: Var, name: str) -> None:
        self.names[v] = name

    def assign(self, v: Var, prefer: str | None = None) -> str:
        free = self.free
        if prefer is not None and prefer in free:
            del free[prefer]
            name = prefer
        elif free:
            name = free.popitem()[0]
        else:
            name = next(self.fresh)
            while keyword.iskeyword(name) or name in _RESERVED:
                name = next(self.fresh)
        self.names[v] = name
        self.used.add(name)
        return name

    def release(self, v: Var) -> None:
        name = self.names.get(v)
        if name is not None and name in self.used:
            self.used.discard(name)
            self.free[name] = None

    def in_use(self, name: str) -> bool:
        return name in self.used


class CompiledProgram:
    """A jaxpr compiled to a Python function over arrays."""

    __slots__ = ("fn", "source", "filename", "line_info", "jaxpr", "plan")

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

    @property
    def peak_bytes(self) -> int:
        """Peak bytes of the arrays this program allocates (inputs and constants excluded)."""
        return self.plan.peak_bytes

    @property
    def peak_bytes_without_reuse(self) -> int:
        """The same peak if no buffer were reused: what writing in place saves."""
        return self.plan.peak_bytes_without_reuse

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


def lower_jaxpr(closed: ClosedJaxpr, xp: Any = np, reuse_buffers: bool = True
                ) -> CompiledProgram:
    """Generate, compile and return the Python function computing `closed`.

    With `reuse_buffers`, an elementwise operation writes its result into the buffer of an
    input that dies there (``out=``), when shapes and dtypes match and nothing else (a view,
    an output, the caller's arrays or a constant) can see that buffer.
    """
    global _counter
    jaxpr: Jaxpr = closed.jaxpr
    ctx = LoweringContext(xp)
    names = _Registers()

    def atom(a: core.Atom) -> str:
        return ctx.literal(a.val) if type(a) is Literal else names[a]

    for v, c in zip(jaxpr.constvars, closed.consts):
        names.bind(v, ctx.const(c, "c"))
    params = ", ".join(names.assign(v) for v in jaxpr.invars)
    lines = [f"def jitted({params}):"]
    line_info: dict[int, tuple[str, core.SourceInfo | None]] = {}
    plan = plan_buffers(jaxpr, reuse=reuse_buffers)
    unused, reuse, dies_at = plan.results_unused, plan.reuse, plan.dies_at
    local = names.names
    literal = ctx.literal
    for i, eqn in enumerate(jaxpr.eqns):
        ctx.eqn = eqn
        reused = reuse.get(i)
        args = [local[a] if type(a) is Var else literal(a.val) for a in eqn.invars]
        if reused is None:
            rule = lower_rules.get(eqn.primitive, _default_lower)
            expr = rule(ctx, *args, **eqn.params)
        # Names of variables that die here are free for this equation's results; a result
        # written into a dead input's buffer takes that input's name.
        dead = dies_at.get(i, ())
        big = [local[v] for v in dead
               if v.aval.size * v.aval.dtype.itemsize >= _DEL_BYTES and v is not reused
               and v not in unused
               and names.in_use(local[v])]  # a local (constants are globals: never deleted)
        for v in dead:
            if v not in unused:
                names.release(v)
        if reused is not None:
            buffer = local[reused]
            out = eqn.outvars[0]
            taken = names.assign(out, prefer=buffer)  # free: its variable died here
            assert taken == buffer
            lines.append(f"    {_in_place(ufunc_prims[eqn.primitive], args, buffer, out)}")
        else:
            outs = ", ".join([names.assign(v) for v in eqn.outvars])
            if eqn.primitive.multiple_results and len(eqn.outvars) == 1:
                outs += ","
            if not eqn.outvars:
                outs = "_"
            lines.append(f"    {outs} = {expr}")
        line_info[len(lines)] = (eqn.primitive.name, eqn.source_info)
        for v in eqn.outvars:
            if v in unused:
                names.release(v)
        # Large arrays whose name is not taken over right away are dropped now, so that NumPy
        # frees their memory; small ones wait until their name is reused.
        if big:
            freed = [n for n in big if not names.in_use(n)]
            if freed:
                lines.append(f"    del {', '.join(freed)}")
    def result(a: core.Atom) -> str:
        # A literal, or a weakly typed scalar (Python scalar arithmetic stays Python), may be a
        # Python scalar at run time: callers get a NumPy scalar, as from eager funcdiff.
        if type(a) is Literal or (a.aval.ndim == 0 and a.aval.weak_type):
            name = np.dtype(a.aval.dtype).name
            scalar = f"xp.{name}" if name != "bool" else ctx.const(np.bool_, "t")
            return f"{scalar}({atom(a)})"
        return atom(a)

    outs = ", ".join(result(a) for a in jaxpr.outvars)
    lines.append(f"    return ({outs}{',' if len(jaxpr.outvars) == 1 else ''})")
    source = "\n".join(lines) + "\n"
    with _counter_lock:
        _counter += 1
        filename = f"<funcdiff-jit-{_counter}>"
    code = compile(source, filename, "exec")
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(code, ctx.namespace)  # noqa: S102 - the source is generated here, see module doc
    program = CompiledProgram(ctx.namespace["jitted"], source, filename, line_info, closed)
    program.plan = plan
    return program


# ---- buffer planning ------------------------------------------------------------------------

# Primitives computed by a NumPy ufunc (name of the ufunc): their result can be written into a
# dead input's buffer with ``out=``. Filled by `define_primitive`.
ufunc_prims: dict[core.Primitive, str] = {}
# Primitives whose result is always a fresh array, never a view of an input.
allocating: set[core.Primitive] = set()


class BufferPlan:
    """`reuse[i]`: the input whose buffer equation `i` writes into; `dies_at[i]`: variables
    last used by equation `i` (deleted right after it). Peak bytes are computed on demand."""

    __slots__ = ("reuse", "dies_at", "results_unused", "_jaxpr", "_owned", "_end")

    def __init__(self, reuse, dies_at, results_unused, jaxpr, owned, end):
        self.reuse = reuse
        self.dies_at = dies_at
        self.results_unused = results_unused
        self._jaxpr, self._owned, self._end = jaxpr, owned, end

    @property
    def peak_bytes(self) -> int:
        return _peak(self._jaxpr, self._owned, self._end, self.reuse)

    @property
    def peak_bytes_without_reuse(self) -> int:
        return _peak(self._jaxpr, self._owned, self._end, {})


def _nbytes(v: Var) -> int:
    return v.aval.size * v.aval.dtype.itemsize


def plan_buffers(jaxpr: Jaxpr, reuse: bool = True) -> BufferPlan:
    """Decide which elementwise equations write into a dying input (in place) and count the
    peak bytes of the arrays the program allocates (inputs and constants excluded)."""
    n = len(jaxpr.eqns)
    last_use: dict[Var, int] = {}
    for i, eqn in enumerate(jaxpr.eqns):
        for a in eqn.invars:
            if type(a) is Var:
                last_use[a] = i
    for a in jaxpr.outvars:
        if type(a) is Var:
            last_use[a] = n
    # Owned buffers: results this program allocates. Every other result may be a view, of
    # the owned buffers (roots) its operands may see.
    owned: set[Var] = set()
    views: dict[Var, frozenset[Var]] = {}
    no_roots: frozenset[Var] = frozenset()
    for eqn in jaxpr.eqns:
        prim = eqn.primitive
        fresh = prim in allocating or prim in ufunc_prims
        for v in eqn.outvars:
            if fresh and v.aval.shape != ():
                owned.add(v)
                continue
            roots = no_roots
            for a in eqn.invars:
                if type(a) is Var:
                    if a in owned:
                        roots = roots | {a}
                    else:
                        r = views.get(a)
                        if r:
                            roots = roots | r
            views[v] = roots
    # A buffer lives until the last use of itself or of any view of it.
    end: dict[Var, int] = {v: last_use.get(v, -1) for v in owned}
    for v, roots in views.items():
        used = last_use.get(v, -1)
        for r in roots:
            if used > end[r]:
                end[r] = used
    chosen: dict[int, Var] = {}
    if reuse:
        for i, eqn in enumerate(jaxpr.eqns):
            if eqn.primitive not in ufunc_prims or len(eqn.outvars) != 1:
                continue
            out = eqn.outvars[0]
            if out not in owned:
                continue
            shape, dtype = out.aval.shape, out.aval.dtype
            for a in eqn.invars:
                if (a in owned and end[a] == i and a.aval.shape == shape
                        and a.aval.dtype == dtype):
                    chosen[i] = a
                    break
    dies_at: dict[int, list[Var]] = {}
    for v, i in last_use.items():
        if i < n:
            dies_at.setdefault(i, []).append(v)
    unused = {v for eqn in jaxpr.eqns for v in eqn.outvars if v not in last_use}
    return BufferPlan(chosen, dies_at, unused, jaxpr, owned, end)


def _peak(jaxpr: Jaxpr, owned: set[Var], end: dict[Var, int], reuse: dict[int, Var]) -> int:
    live = peak = 0
    dying: dict[int, list[Var]] = {}
    handed_over: set[Var] = set()  # inputs whose buffer a result took over
    for i, eqn in enumerate(jaxpr.eqns):
        for v in eqn.outvars:
            if v not in owned:
                continue
            dying.setdefault(end.get(v, i), []).append(v)
            if i in reuse:
                handed_over.add(reuse[i])  # same buffer, nothing new allocated
            else:
                live += _nbytes(v)
        peak = max(peak, live)
        for v in dying.pop(i, []):
            if v not in handed_over:
                live -= _nbytes(v)
    return peak


# ---- helpers for rules ----------------------------------------------------------------------


# Ufuncs with an in-place operator (``a += b`` is ``add(a, b, out=a)``); the commutative ones
# also take the buffer from their second operand.
_IN_PLACE_OPERATORS = {"add": "+=", "subtract": "-=", "multiply": "*=", "divide": "/="}
_COMMUTATIVE = {"add", "multiply"}


def _in_place(ufunc: str, args: list[str], buffer: str, out: Var) -> str:
    """The statement computing ``ufunc(*args)`` into `buffer`: an augmented assignment when
    one exists (cheapest to compile and to run), else the ufunc with ``out=``."""
    op = _IN_PLACE_OPERATORS.get(ufunc)
    if op is not None and len(args) == 2 and (ufunc != "divide" or out.aval.dtype.kind in "fc"):
        x, y = args
        if x == buffer:
            return f"{buffer} {op} {y}"
        if ufunc in _COMMUTATIVE:
            return f"{buffer} {op} {x}"
    return f"xp.{ufunc}({', '.join(args)}, out={buffer})"


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


def register(p: core.Primitive, rule: Callable[..., str] | None, ufunc: str | None = None,
             allocates: bool = False) -> None:
    """Register `p`'s lowering rule; `ufunc` names the NumPy ufunc computing it (enabling
    ``out=`` buffer reuse), `allocates` says its result is never a view of an input."""
    if rule is not None:
        lower_rules[p] = rule
    if ufunc is not None:
        ufunc_prims[p] = ufunc
    if allocates:
        allocating.add(p)

