"""Lowering: turn a jaxpr into straight-line Python source calling an array namespace (NumPy by
default), compile it once, and run it.

Each primitive may register a rule in `lower_rules` (the registry lives in
`funcdiff._src.interpreters.lowering_rules`, which the op modules fill). Primitives without a
rule call their NumPy implementation, bound as a constant of the generated code, so every
primitive lowers.

Safety: the generated source contains only names this module creates (variables ``a``, ``b``,
... and constants ``_k0``, ``_f1``, ...) and literals it renders itself (ints, finite floats,
tuples of those). Everything else, strings included, is bound in the function's namespace.
"""

from __future__ import annotations

import keyword
import linecache
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.array import Array
from funcdiff._src.core import ClosedJaxpr, Jaxpr, JaxprEqn, Literal, Var
from funcdiff._src.interpreters.lowering_rules import (
    LoweringContext,
    allocating,
    binary_operator,
    is_fresh,
    lower_rules,
    register,
    ufunc_prims,
    unary_operator,
    xp_function,
)
from funcdiff._src.jit.buffers import BufferPlan, plan_buffers

_RESERVED = {"xp", "np", "int", "float", "complex", "bool"}

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
    """A jaxpr compiled to a Python function over arrays. `line_info` maps each line of the
    source that ends an equation to that equation (its primitive and the user's line that
    traced it): the equation itself, not a record made for each, so that compiling leaves few
    objects for the garbage collector to walk; a line that computes two equations (an
    operator's result written into the statement that reads it) maps to both, in order."""

    __slots__ = ("fn", "source", "filename", "line_info", "jaxpr", "plan", "__weakref__")

    def __init__(self, fn, source, filename, line_info, jaxpr):
        self.fn = fn
        self.source = source
        self.filename = filename
        self.line_info: dict[int, JaxprEqn | tuple[JaxprEqn, JaxprEqn]] = line_info
        self.jaxpr = jaxpr

    def __call__(self, *args: Any) -> Any:
        if Array in map(type, args):  # generated code computes on plain NumPy arrays
            args = tuple(a.view(np.ndarray) if type(a) is Array else a for a in args)
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
            eqns = self.line_info.get(i)
            if eqns is None:
                out.append(line)
                continue
            notes = []
            for eqn in eqns if type(eqns) is tuple else (eqns,):
                where = eqn.source_info
                notes.append(eqn.primitive.name + (f" ({where})" if where else ""))
            out.append(f"{line}  # {', '.join(notes)}")
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
    eqns = program.line_info[lineno]
    whats = []
    for eqn in eqns if type(eqns) is tuple else (eqns,):
        where = eqn.source_info
        whats.append(
            f"primitive '{eqn.primitive.name}'" + (f", traced at {where}" if where else "")
        )
    note = (
        f"(in jit-compiled code, line {lineno}: {program.source.splitlines()[lineno - 1]}"
        f" -- {'; '.join(whats)})"
    )
    if sys.version_info >= (3, 11):
        e.add_note(note)


_counter = 0
_counter_lock = threading.Lock()


def _plain_impl(prim: core.Primitive) -> Callable[..., Any]:
    """`prim`'s implementation, for generated code: results that are funcdiff Arrays (control
    flow runs its bodies with funcdiff) come back as plain NumPy views, as every value of
    generated code is. (An Array's operators are funcdiff's: an elementwise result computed
    from one would be an immutable Array, which an in-place ``out=`` cannot write.)"""
    raw = prim.impl
    known = _plain_impls.get(prim)
    if known is not None and known[0] is raw:
        return known[1]

    def plain(x: Any) -> Any:
        return x.view(np.ndarray) if isinstance(x, Array) else x

    if prim.multiple_results:
        def impl(*args: Any, **params: Any) -> Any:
            return [plain(x) for x in raw(*args, **params)]
    else:
        def impl(*args: Any, **params: Any) -> Any:
            return plain(raw(*args, **params))
    _plain_impls[prim] = (raw, impl)
    return impl


_plain_impls: dict[core.Primitive, tuple[Callable[..., Any], Callable[..., Any]]] = {}


def _default_lower(ctx: LoweringContext, *args: str, **params: Any) -> str:
    assert ctx.eqn is not None
    prim = ctx.eqn.primitive
    fn = ctx.const(_plain_impl(prim), "f")
    kw = "".join(f", {k}={ctx.param(v)}" for k, v in params.items())
    return f"{fn}({', '.join(args)}{kw})" if args else f"{fn}({kw[2:]})"


_default_lower.numpy_call = True  # type: ignore[attr-defined]  # what eager runs


def lower_jaxpr(
    closed: ClosedJaxpr, xp: Any = np, reuse_buffers: bool = True, target: Any = None
) -> CompiledProgram:
    """Generate, compile and return the Python function computing `closed`.

    With `reuse_buffers`, an elementwise operation writes its result into the buffer of an
    input that dies there (``out=``), when shapes and dtypes match and nothing else (a view,
    an output, the caller's arrays or a constant) can see that buffer.

    Guarantees of the generated function: it never writes into its arguments or constants,
    and its results share no memory with them or with each other (a result that could is
    copied on the way out). Weakly typed scalars are Python scalars while it runs, as in eager
    evaluation, and get NumPy's arithmetic (``1.0 / 0.0`` is ``inf``, not an exception).

    With a `target` (a `backends.Backend`, for an Array API namespace other than NumPy), each
    equation is written by the target's rules and nothing is computed in place.
    """
    jaxpr: Jaxpr = closed.jaxpr
    ctx = LoweringContext(xp, target)
    if target is not None:
        reuse_buffers = False
        target.begin(ctx, closed)
    names = _Registers()
    for v, c in zip(jaxpr.constvars, closed.consts):
        names.bind(v, ctx.const(c, "c"))
    lines = [f"def jitted({', '.join(names.assign(v) for v in jaxpr.invars)}):"]
    plan = plan_buffers(jaxpr, reuse=reuse_buffers)
    line_info = _write_equations(ctx, jaxpr, plan, names, lines)
    # Only code generation reads when each variable dies and how often it is read: the
    # program keeps its plan without them (fewer objects for the garbage collector to walk).
    plan.dies_at, plan.reads = {}, {}
    lines.append(_return_line(ctx, jaxpr, plan, names))
    return _compile(ctx, closed, "\n".join(lines) + "\n", line_info, plan)


def _write_equations(
    ctx: LoweringContext, jaxpr: Jaxpr, plan: BufferPlan, names: _Registers, lines: list[str]
) -> dict[int, JaxprEqn]:
    """Append one statement (or a few) per equation to `lines`; return the equation that
    each line ending one computes (or the two it computes, see `CompiledProgram`)."""
    line_info: dict[int, JaxprEqn | tuple[JaxprEqn, JaxprEqn]] = {}
    unused, reuse, dies_at, reads = plan.results_unused, plan.reuse, plan.dies_at, plan.reads
    local, free, used, literal = names.names, names.free, names.used, ctx.literal
    # The text of each literal, by identity: tracing shares one literal between equations
    # (every `* 0.9` of a loop), rendered once.
    texts: dict[int, str] = {}
    eqns = jaxpr.eqns
    # The previous equation's result, written into this equation's statement, and its equation.
    folded: Var | None = None
    inner: JaxprEqn | None = None
    for i, eqn in enumerate(eqns):
        reused = reuse.get(i)
        args = []  # (a loop: a comprehension is a frame of its own, for one or two operands)
        for a in eqn.invars:
            args.append(
                local[a] if type(a) is Var else texts.get(id(a)) or _text(texts, literal, a)
            )
        if reused is None:
            ctx.eqn = eqn  # (the rules read it; an in-place statement calls none)
            expr, weak_outs, operator = _expression(ctx, eqn, args)
        # Names of variables that die here are free for this equation's results; a result
        # written into a dead input's buffer takes that input's name.
        # (A variable that dies here is read here: never one of the unused results.)
        dead = dies_at.get(i)
        big = _release_dead(names, dead, reused) if dead else None
        if folded is not None:
            del local[folded]  # (its expression stood in for its name in `args`)
            folded = None
        if reused is None and operator and big is None:
            out = eqn.outvars[0]
            into = reuse.get(i + 1)
            if (
                into is not None
                and into is not out
                and reads.get(out) == 1
                and out in eqns[i + 1].invars
            ):
                # An operator's result read once, by the next statement, which computes in
                # place: written into that statement (``g += e * 0.5``, not ``t = e * 0.5``
                # then ``g += t``), one line fewer to compile and run; the same operations.
                local[out] = expr
                folded, inner = out, eqn
                continue
        if reused is not None:
            buffer = local[reused]
            out = eqn.outvars[0]
            # `names.assign(out, prefer=buffer)`, inlined (it runs for most equations): the
            # buffer's name is free, as its variable died here (a KeyError if not).
            del free[buffer]
            local[out] = buffer
            used.add(buffer)
            lines.append(f"    {_in_place(ufunc_prims[eqn.primitive], args, buffer, out)}")
        else:
            _assign_results(eqn, expr, weak_outs, names, lines)
        line_info[len(lines)] = eqn if inner is None else (inner, eqn)
        inner = None
        if unused:
            for v in eqn.outvars:
                if v in unused:
                    names.release(v)
        # Large arrays whose name is not taken over right away are dropped now, so that NumPy
        # frees their memory; small ones wait until their name is reused.
        if big:
            freed = [n for n in big if not names.in_use(n)]
            if freed:
                lines.append(f"    del {', '.join(freed)}")
    return line_info


def _text(texts: dict[int, str], literal: Callable[[Any], str], a: Literal) -> str:
    text = texts[id(a)] = literal(a.val)
    return text


def _expression(
    ctx: LoweringContext, eqn: JaxprEqn, args: list[str]
) -> tuple[str, list[Var], bool]:
    """The expression computing `eqn` from its operands' names, its weakly typed scalar
    results (none when a target writes the expression), and whether it is a Python operator
    on arrays (which another statement may take as an operand, see `_write_equations`)."""
    weak_outs = [v for v in eqn.outvars if v.aval.weak_type and not v.aval.shape]
    if ctx.target is not None:
        return ctx.target.expression(ctx, eqn, args), [], False
    rule = lower_rules.get(eqn.primitive, _default_lower)
    weak = bool(weak_outs) and not eqn.primitive.multiple_results
    expr = _weak_scalar_expr(ctx, rule, eqn, args) if weak else rule(ctx, *args, **eqn.params)
    if expr[0] == "(" and hasattr(rule, "python_operator"):
        # A whole statement's operator on names and literals needs no parentheses, which
        # cost Python's parser more than the rest of the line (`a = b * c`, not `(b * c)`).
        return expr[1:-1], weak_outs, not weak
    return expr, weak_outs, False


def _release_dead(names: _Registers, dead: list[Var], reused: Var | None) -> list[str] | None:
    """Free the names of the variables `dead` (their last use is this equation); return the
    names of the large local arrays among them, which the caller may `del`."""
    local, used, free = names.names, names.used, names.free
    big = None
    for v in dead:  # (the body of `names.release`, inlined: this runs for every equation)
        name = local[v]
        if name in used:  # a local (constants are globals: never deleted)
            if v is not reused and v.aval.size * v.aval.dtype.itemsize >= _DEL_BYTES:
                if big is None:
                    big = [name]
                else:
                    big.append(name)
            used.discard(name)
            free[name] = None
    return big


def _assign_results(
    eqn: JaxprEqn, expr: str, weak_outs: list[Var], names: _Registers, lines: list[str]
) -> None:
    """Append the statement binding `eqn`'s results to `expr`."""
    outs = ", ".join([names.assign(v) for v in eqn.outvars])
    multiple = eqn.primitive.multiple_results
    if multiple and len(eqn.outvars) == 1:
        outs += ","
    if not eqn.outvars:
        outs = "_"
    lines.append(f"    {outs} = {expr}")
    if weak_outs and multiple:
        # A sub-program hands weak scalars back as NumPy scalars: make them Python scalars
        # again, so that they do not promote the arrays they meet.
        local = names.names
        for v in weak_outs:
            lines.append(f"    {local[v]} = {_PY_TYPE[v.aval.dtype.kind]}({local[v]})")


def _return_line(ctx: LoweringContext, jaxpr: Jaxpr, plan: BufferPlan, names: _Registers) -> str:
    result = _result_expr if ctx.target is None else ctx.target.result
    local, literal = names.names, ctx.literal
    outs = ", ".join(
        result(ctx, literal(a.val) if type(a) is Literal else local[a], a, plan.copy_results[k])
        for k, a in enumerate(jaxpr.outvars)
    )
    return f"    return ({outs}{',' if len(jaxpr.outvars) == 1 else ''})"


def _compile(
    ctx: LoweringContext,
    closed: ClosedJaxpr,
    source: str,
    line_info: dict[int, JaxprEqn | tuple[JaxprEqn, JaxprEqn]],
    plan: BufferPlan,
) -> CompiledProgram:
    """Compile the generated `source` into a program, under a file name of its own."""
    global _counter
    with _counter_lock:
        _counter += 1
        filename = f"<funcdiff-jit-{_counter}>"
    code = compile(source, filename, "exec")
    exec(code, ctx.namespace)  # noqa: S102 - the source is generated here, see module doc
    program = CompiledProgram(ctx.namespace["jitted"], source, filename, line_info, closed)
    program.plan = plan
    # Tracebacks show the generated lines for as long as the program lives.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    weakref.finalize(program, linecache.cache.pop, filename, None)
    return program


# Python's scalar type for each dtype kind: weakly typed scalars are Python scalars at run time.
_PY_TYPE = {"b": "bool", "i": "int", "u": "int", "f": "float", "c": "complex"}
# Operators whose Python semantics on Python floats and complex numbers are NumPy's (IEEE
# arithmetic, comparisons); `/`, `**`, `//` and `%` raise where NumPy returns inf or NaN, and
# Python ints never overflow where NumPy's wrap.
_SAME_ON_PYTHON_FLOATS = {"+", "-", "*", "unary-", "<", "<=", ">", ">=", "==", "!="}


def _weak_scalar_expr(
    ctx: LoweringContext, rule: Callable[..., str], eqn: JaxprEqn, args: list[str]
) -> str:
    """The expression for an equation on weakly typed scalars, with eager's semantics:
    NumPy's arithmetic, and a Python scalar result (see `Primitive.run_impl`)."""
    kind = eqn.outvars[0].aval.dtype.kind
    op = getattr(rule, "python_operator", None)
    if op in _SAME_ON_PYTHON_FLOATS and kind in "fc":
        return rule(ctx, *args, **eqn.params)
    if op is not None or not getattr(rule, "numpy_call", False):
        # Compute on a NumPy scalar, which has NumPy's semantics for every operator.
        first = eqn.invars[0].aval if eqn.invars else None
        if first is not None:
            args = [f"{_scalar_type(ctx, first.dtype)}({args[0]})", *args[1:]]
    return f"{_PY_TYPE[kind]}({rule(ctx, *args, **eqn.params)})"


def _scalar_type(ctx: LoweringContext, dtype: Any) -> str:
    """The expression naming NumPy's scalar type of `dtype` (``xp.float64``...)."""
    name = np.dtype(dtype).name
    return f"xp.{name}" if name != "bool" else ctx.const(np.bool_, "t")


def _result_expr(ctx: LoweringContext, name: str, a: core.Atom, copy: bool) -> str:
    """How a result leaves the program: scalars as NumPy scalars (as from eager funcdiff),
    arrays that may share memory with an argument, a constant or another result copied."""
    if type(a) is Literal or a.aval.ndim == 0:
        if type(a) is Var and not a.aval.weak_type and not copy:
            return name
        return f"{_scalar_type(ctx, a.aval.dtype)}({name})"
    return f"{name}.copy()" if copy else name


# ---- in-place statements --------------------------------------------------------------------

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


__all__ = [
    "BufferPlan",
    "CompiledProgram",
    "LoweringContext",
    "allocating",
    "binary_operator",
    "is_fresh",
    "lower_jaxpr",
    "lower_rules",
    "plan_buffers",
    "register",
    "ufunc_prims",
    "unary_operator",
    "xp_function",
]
