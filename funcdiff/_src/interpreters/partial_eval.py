"""Staging: record primitives applied to tracers as equations of a jaxpr.

`JaxprTrace` is used in two ways:

* **dynamic** (by `make_jaxpr` and `jit`): every primitive is recorded, even on constants.
* **partial evaluation** (by `linearize`, hence `vjp` and `grad`): only primitives that touch
  one of this trace's tracers are recorded; everything else is *known* and computed at once
  by the traces below. Known values used by recorded equations become the jaxpr's constants
  (the residuals of reverse mode).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.core import (
    ClosedJaxpr,
    Jaxpr,
    JaxprEqn,
    Literal,
    ShapedArray,
    SourceInfo,
    Tracer,
    Var,
    _state,
    flags,
)
from funcdiff._src.errors import PrimitiveError

# Rules for higher-order primitives (jit, control flow) under partial evaluation: they split
# the primitive into a known part, run now, and an unknown part, recorded.
partial_eval_rules: dict[core.Primitive, Callable[..., Any]] = {}


class JaxprBuilder:
    """Collects the equations, inputs and constants of the jaxpr being traced."""

    def __init__(self) -> None:
        self.eqns: list[JaxprEqn] = []
        self.invars: list[Var] = []
        self.constvars: list[Var] = []
        self.consts: list[Any] = []
        self._const_ids: dict[int, Var] = {}
        self.originals: list[Any] = []  # arrays whose consts are copies
        # Tracers of Python scalars, shared by equal scalars (a constant such as 0.9 is raised
        # into the trace by the forward, tangent and transposed equations alike).
        self.scalar_tracers: dict[tuple, JaxprTracer] = {}

    def const_var(self, val: Any, aval: ShapedArray, snapshot: bool = False) -> Var:
        """The variable of the constant `val`; with `snapshot`, the jaxpr holds a copy of a
        NumPy array, so that it keeps the value the array had when it was traced (as JAX)."""
        var = self._const_ids.get(id(val))
        if var is None:
            var = self._const_ids[id(val)] = Var(aval)
            self.constvars.append(var)
            if snapshot and type(val) is np.ndarray:
                self.originals.append(val)  # keeps `val` alive, so its id stays unique
                val = _snapshot(val)
            self.consts.append(val)  # keeps `val` alive, so its id stays unique
        return var

    def build(self, out_atoms: Sequence[core.Atom]) -> ClosedJaxpr:
        # The shared scalar tracers point back to this builder through their trace: dropped
        # here, the jaxpr is freed as soon as it is unused, not by a later garbage collection
        # (which must first walk all of it).
        self.scalar_tracers = {}
        jaxpr = Jaxpr(list(self.constvars), list(self.invars), self.eqns, list(out_atoms))
        return ClosedJaxpr(jaxpr, list(self.consts))


def _snapshot(val: np.ndarray) -> np.ndarray:
    """A copy of `val`; a broadcast (zero strides, such as `zeros_like`'s) stays one: only its
    distinct elements are copied, so a program traced on a large batch holds no array of it."""
    if val.size > 1 and 0 in val.strides:
        distinct = tuple(slice(0, 1) if s == 0 else slice(None) for s in val.strides)
        return np.broadcast_to(val[distinct].copy(), val.shape)
    return val.copy()


_UNKNOWN = object()


class JaxprTracer(Tracer):
    """A value of the jaxpr being built. `known` holds the value of a constant lifted into
    the trace (its variable is created only when an equation uses it); it is `_UNKNOWN` for
    the trace's own values."""

    __slots__ = ("aval", "_atom", "known")  # a plain attribute: read on every operation

    def __init__(
        self, trace: JaxprTrace, aval: ShapedArray, atom: core.Atom | None, known: Any = _UNKNOWN
    ):
        self._trace = trace
        self.aval = aval
        self._atom = atom
        self.known = known

    @property
    def is_known(self) -> bool:
        return self.known is not _UNKNOWN

    def carries_derivative(self) -> bool:
        # (the tracers of `staged_ad.linearize_staged`'s staging know what depends on its inputs)
        depends = getattr(self._trace.main.payload, "depends", None)
        return depends is not None and self._atom is not None and depends(self._atom)

    @property
    def atom(self) -> core.Atom:
        if self._atom is None:
            val = self.known
            if _is_literal_value(val):
                self._atom = Literal(val, self.aval)
            else:
                main = self._trace.main
                self._atom = main.payload.const_var(val, self.aval, main.dynamic)
        return self._atom


def _is_literal_value(val: Any) -> bool:
    return (
        type(val) in core._PY_SCALARS
        or isinstance(val, np.generic)
        or (isinstance(val, np.ndarray) and val.ndim == 0)
    )


class JaxprTrace(core.Trace):
    __slots__ = ()

    @property
    def builder(self) -> JaxprBuilder:
        return self.main.payload

    def new_arg(self, aval: ShapedArray) -> JaxprTracer:
        var = Var(aval)
        self.builder.invars.append(var)
        return JaxprTracer(self, aval, var)

    def pure(self, val: Any) -> JaxprTracer:
        t = type(val)
        if t is float or t is int or t is bool:
            # The sign distinguishes 0.0 from -0.0, which compare equal (only zeros need it).
            key = (t, val, math.copysign(1.0, val)) if t is float and not val else (t, val)
            cache = self.main.payload.scalar_tracers
            tracer = cache.get(key)
            if tracer is None:
                aval = core.get_aval(val)
                tracer = cache[key] = JaxprTracer(self, aval, Literal(val, aval), val)
            return tracer
        aval = core.get_aval(val)
        if not _is_literal_value(val):
            return JaxprTracer(self, aval, None, val)
        if type(val) is np.ndarray and self.main.dynamic:
            val = val.copy()  # a staged program keeps a 0-d array's value at trace time
        return JaxprTracer(self, aval, Literal(val, aval), val)

    def lift(self, tracer: Tracer) -> JaxprTracer:
        # A tracer of a trace below (a residual, under linearize) is a known value, never a
        # literal: `pure`'s tests of a constant's type would all fail.
        return JaxprTracer(self, tracer.aval, None, tracer)

    def process_primitive(
        self, primitive: core.Primitive, tracers: list[JaxprTracer], params: dict
    ) -> Any:
        main = self.main
        if not main.dynamic:
            rule = partial_eval_rules.get(primitive)
            if rule is not None:
                return rule(self, tracers, **params)
        # (Every staged operation comes here: the shape rule is called directly, and
        # `Primitive.abstract` only re-runs it to word the error. A single result, the common
        # case, is recorded here: `emit`'s body inlined, one call fewer per equation.)
        avals = []
        atoms = []
        for t in tracers:
            avals.append(t.aval)
            atoms.append(t._atom or t.atom)
        try:
            out_avals = primitive.abstract_eval(*avals, **params)  # type: ignore[misc]
        except PrimitiveError:
            primitive.abstract(avals, params)
            raise
        if primitive.multiple_results:
            return self.emit(primitive, tracers, params, out_avals)
        state = _state  # (`_source_info`, inlined)
        if main.dynamic or state.dynamic.level or flags.check_nans:
            info = state.source_override or state.bind_source or SourceInfo.current()
        else:
            info = None
        var = Var(out_avals)
        main.payload.eqns.append(JaxprEqn(primitive, atoms, [var], params, info))
        return JaxprTracer(self, out_avals, var)

    def emit(
        self, primitive: core.Primitive, tracers: Sequence[JaxprTracer], params: dict, out_avals
    ) -> Any:
        """Record one equation and return tracers for its outputs."""
        main = self.main
        info = _source_info(main)
        atoms = []
        for t in tracers:
            atoms.append(t._atom or t.atom)
        if primitive.multiple_results:
            outvars = [Var(a) for a in out_avals]
            main.payload.eqns.append(JaxprEqn(primitive, atoms, outvars, params, info))
            return [JaxprTracer(self, v.aval, v) for v in outvars]
        var = Var(out_avals)
        main.payload.eqns.append(JaxprEqn(primitive, atoms, [var], params, info))
        return JaxprTracer(self, out_avals, var)


def _source_info(main: core.MainTrace) -> SourceInfo | None:
    """The user line of an equation recorded now on `main`. Source lines cost a stack walk:
    recorded when staging a program (make_jaxpr, jit; also the linear program of reverse mode
    under them, so that the transposed equations keep the user's line) or when NaN checks will
    need them, not for eager reverse mode."""
    state = _state
    if main.dynamic or state.dynamic.level or flags.check_nans:
        # `SourceInfo.current()`, with its common outcomes first.
        return state.source_override or state.bind_source or SourceInfo.current()
    return None


def trace_to_jaxpr(
    fun: Callable[..., Sequence[Any]], in_avals: Sequence[ShapedArray]
) -> ClosedJaxpr:
    """Stage `fun` (taking and returning flat lists of arrays) into a closed jaxpr."""
    with core.new_main(JaxprTrace, JaxprBuilder(), dynamic=True) as main:
        trace = JaxprTrace(main)
        in_tracers = [trace.new_arg(a) for a in in_avals]
        outs = fun(*in_tracers)
        out_tracers = [trace.full_raise(x) for x in outs]
        return main.payload.build([t.atom for t in out_tracers])


# ---- transformations of whole jaxprs --------------------------------------------------------

# For higher-order primitives (a jit call, control flow): split one equation with some unknown
# inputs into a known equation and an unknown one. ``rule(eqn, unknowns) -> (known_eqn or None,
# unknown_eqn, out_unknowns, residual_vars)``; see `partial_eval_jaxpr`.
partial_eval_jaxpr_rules: dict[core.Primitive, Callable[..., Any]] = {}


def online_from_offline(
    primitive: core.Primitive, offline: Callable[..., Any]
) -> Callable[..., Any]:
    """The online partial-evaluation rule of `primitive` (on tracers, under `linearize`)
    derived from its offline one (``offline(eqn, unknowns)``, on an equation): the split of an
    equation built from the tracers, whose known half runs now on the known values and whose
    unknown half is recorded, reading the known half's residuals as constants."""

    def rule(trace: JaxprTrace, tracers: list[JaxprTracer], **params: Any) -> list[Any]:
        invars = [Var(t.aval) for t in tracers]
        out_avals = primitive.abstract([t.aval for t in tracers], params)
        eqn = JaxprEqn(primitive, invars, [Var(a) for a in out_avals], params, None)
        known_eqn, unknown_eqn, out_unknowns = offline(eqn, [not t.is_known for t in tracers])
        tracer_of = dict(zip(invars, tracers))
        known_outs = known_eqn.primitive.bind(
            *[tracer_of[v].known for v in known_eqn.invars], **known_eqn.params
        )
        residual_of = dict(zip(known_eqn.outvars, known_outs))
        unknown_outs = trace.emit(
            unknown_eqn.primitive,
            [
                tracer_of[v] if v in tracer_of else trace.pure(residual_of[v])
                for v in unknown_eqn.invars
            ],
            unknown_eqn.params,
            [v.aval for v in unknown_eqn.outvars],
        )
        known_iter, unknown_iter = iter(known_outs), iter(unknown_outs)
        return [next(unknown_iter) if u else next(known_iter) for u in out_unknowns]

    rule.__name__ = f"_{primitive.name}_partial_eval"
    return rule


def split_call_eqn(
    eqn: JaxprEqn,
    unknowns: Sequence[bool],
    split: tuple[ClosedJaxpr, ClosedJaxpr, list[bool], int],
) -> tuple[JaxprEqn, JaxprEqn, list[bool]]:
    """The offline partial-evaluation rule of a call primitive (one sub-program in its
    `jaxpr` parameter, run on its operands): `eqn` split in two equations of the same
    primitive, given ``split = (known, unknown, out_unknowns, n_res)`` of its sub-program (as
    `partial_eval_jaxpr` returns). The known one also returns the residuals, which the unknown
    one takes first."""
    known, unknown, out_uk, n_res = split
    res_vars = [Var(a) for a in known.out_avals[len(known.out_avals) - n_res :]]
    known_eqn = eqn.replace(
        invars=[a for a, u in zip(eqn.invars, unknowns) if not u],
        outvars=[v for v, u in zip(eqn.outvars, out_uk) if not u] + res_vars,
        params={**eqn.params, "jaxpr": known},
    )
    unknown_eqn = eqn.replace(
        invars=res_vars + [a for a, u in zip(eqn.invars, unknowns) if u],
        outvars=[v for v, u in zip(eqn.outvars, out_uk) if u],
        params={**eqn.params, "jaxpr": unknown},
    )
    return known_eqn, unknown_eqn, out_uk


def partial_eval_jaxpr(
    closed: ClosedJaxpr, unknowns: Sequence[bool], instantiate: Sequence[bool] | None = None
) -> tuple[ClosedJaxpr, ClosedJaxpr, list[bool], int]:
    """Split a jaxpr into the part computable from its known inputs and the rest.

    Returns ``(known, unknown, out_unknowns, num_residuals)``: `known` takes the known inputs
    and returns the known outputs followed by the residuals; `unknown` takes the residuals
    followed by the unknown inputs and returns the unknown outputs. Outputs flagged in
    `instantiate` are made unknown even when computable (passed through as residuals), so
    that several jaxprs (the branches of a `cond`) can agree on one signature.
    """
    jaxpr = closed.jaxpr
    unknown_vars: set[Var] = {v for v, u in zip(jaxpr.invars, unknowns, strict=True) if u}
    known_eqns: list[JaxprEqn] = []
    unknown_eqns: list[JaxprEqn] = []
    for eqn in jaxpr.eqns:
        ins_unknown = [type(a) is Var and a in unknown_vars for a in eqn.invars]
        if not any(ins_unknown):
            known_eqns.append(eqn)
            continue
        rule = partial_eval_jaxpr_rules.get(eqn.primitive)
        if rule is not None:
            known_eqn, unknown_eqn, out_unknowns = rule(eqn, ins_unknown)
            if known_eqn is not None:
                known_eqns.append(known_eqn)
            unknown_eqns.append(unknown_eqn)
            unknown_vars.update(v for v, u in zip(eqn.outvars, out_unknowns) if u)
        else:
            unknown_eqns.append(eqn)
            unknown_vars.update(eqn.outvars)
    out_unknowns = [type(a) is Var and a in unknown_vars for a in jaxpr.outvars]
    forced = [False] * len(out_unknowns)
    if instantiate is not None:
        forced = [inst and not u for inst, u in zip(instantiate, out_unknowns)]
        out_unknowns = [u or f for u, f in zip(out_unknowns, forced)]
    # Residuals: known variables that the unknown part reads (or outputs, when forced).
    residuals: list[Var] = []
    seen: set[Var] = set()
    needed = [a for eqn in unknown_eqns for a in eqn.invars]
    needed += [a for a, f in zip(jaxpr.outvars, forced) if f]
    for a in needed:
        if type(a) is Var and a not in unknown_vars and a not in seen:
            seen.add(a)
            residuals.append(a)
    known_outs = [a for a, u in zip(jaxpr.outvars, out_unknowns) if not u]
    known = Jaxpr(
        list(jaxpr.constvars),
        [v for v, u in zip(jaxpr.invars, unknowns) if not u],
        known_eqns,
        known_outs + residuals,
    )
    unknown = Jaxpr(
        [],
        residuals + [v for v, u in zip(jaxpr.invars, unknowns) if u],
        unknown_eqns,
        [a for a, u in zip(jaxpr.outvars, out_unknowns) if u],
    )
    return (
        dce_jaxpr(ClosedJaxpr(known, closed.consts)),
        ClosedJaxpr(unknown, []),
        out_unknowns,
        len(residuals),
    )


# Primitives with effects that dead-code elimination must keep (debug printing).
effectful: set[core.Primitive] = set()


def dce_jaxpr(closed: ClosedJaxpr) -> ClosedJaxpr:
    """Drop equations whose outputs are unused (and unused constants); inputs stay."""
    jaxpr = closed.jaxpr
    live: set[Var] = {a for a in jaxpr.outvars if type(a) is Var}
    kept: list[JaxprEqn] = []
    for eqn in reversed(jaxpr.eqns):
        outs = eqn.outvars
        if (
            (len(outs) == 1 and outs[0] in live)
            or eqn.primitive in effectful
            or any(v in live for v in outs)
        ):
            kept.append(eqn)
            live.update(eqn.invars)  # literals too: harmless, and cheaper than filtering
    kept.reverse()
    if len(kept) == len(jaxpr.eqns) and all(v in live for v in jaxpr.constvars):
        return closed
    pairs = [(v, c) for v, c in zip(jaxpr.constvars, closed.consts) if v in live]
    new = Jaxpr([v for v, _ in pairs], list(jaxpr.invars), kept, list(jaxpr.outvars))
    return ClosedJaxpr(new, [c for _, c in pairs])
