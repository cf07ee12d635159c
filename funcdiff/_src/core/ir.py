"""The IR: `Var`, `Literal`, `JaxprEqn`, `Jaxpr` and `ClosedJaxpr`, with the functions over a
whole program: its evaluator `eval_jaxpr`, its liveness `variable_uses`, its checker
`typecheck_jaxpr` and its printer `pp_jaxpr`.

A jaxpr is a flat list of equations, so evaluating, printing and transforming it is a loop,
never recursion. Evaluating binds each equation's primitive (`funcdiff._src.core.trace`), so
evaluating under an active transformation transforms the program.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from funcdiff._src import dtypes
from funcdiff._src.core.avals import ShapedArray
from funcdiff._src.core.trace import Primitive, _state, flags
from funcdiff._src.errors import rule_site, user_frame

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
                cached = state.bind_source = SourceInfo._first_user(start)
            return cached
        return SourceInfo._first_user(sys._getframe(1))

    @staticmethod
    def _first_user(start: Any) -> SourceInfo | None:
        """Where the first user frame outwards from `start` is (its call site)."""
        # Call sites are looked up first: a frame's line number is decoded from its code's
        # line table on every read. Only user frames' sites are recorded (by `_from`), so a
        # known site is `start`'s own, and needs no walk (an operator called by user code).
        # The codes of the sites recorded stay alive in `user_frame`'s cache, so no other
        # code can have the id of one of them.
        info = _SITE_INFOS.get((id(start.f_code), start.f_lasti))
        if info is not None:
            return info
        site = rule_site
        if site.frame is not None:  # (a rule run by `staged_ad.linearize_staged`: see `rule_site`)
            frame = user_frame(start, site.frame)
            return site.source if frame is None else SourceInfo._from(frame)
        return SourceInfo._from(user_frame(start))

    @staticmethod
    def _from(frame: Any) -> SourceInfo | None:
        if frame is None:
            return None
        code = frame.f_code
        site = (id(code), frame.f_lasti)
        info = _SITE_INFOS.get(site)
        if info is None:
            if len(_SITE_INFOS) >= 4096:  # (never fewer sites than lines)
                _SITE_INFOS.clear()
                _SOURCE_INFOS.clear()
            key = (code.co_filename, frame.f_lineno, code.co_name)
            info = _SOURCE_INFOS.get(key)
            if info is None:
                info = _SOURCE_INFOS[key] = SourceInfo(*key)
            _SITE_INFOS[site] = info
        return info


# SourceInfos are never changed: the equations of one line share one (a loop of thousands of
# operations on a few lines leaves a few objects, not one per equation, for the garbage
# collector to walk while the program lives).
_SOURCE_INFOS: dict[tuple[str, int, str], SourceInfo] = {}
_SITE_INFOS: dict[tuple[int, int], SourceInfo] = {}  # by (id of the code, bytecode offset)


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

    def replace(
        self,
        primitive: Primitive | None = None,
        invars: list[Atom] | None = None,
        outvars: list[Var] | None = None,
        params: dict[str, Any] | None = None,
        source_info: SourceInfo | None = None,
    ) -> JaxprEqn:
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
        params = (
            "["
            + " ".join(f"{k}={_pp_param(v, indent)}" for k, v in sorted(eqn.params.items()))
            + "]"
        )
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
