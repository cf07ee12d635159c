"""Staging: record primitives applied to tracers as equations of a jaxpr.

`JaxprTrace` is used in two ways:

* **dynamic** (by `make_jaxpr` and `jit`): every primitive is recorded, even on constants.
* **partial evaluation** (by `linearize`, hence `vjp` and `grad`): only primitives that touch
  one of this trace's tracers are recorded; everything else is *known* and computed at once
  by the traces below. Known values used by recorded equations become the jaxpr's constants
  (the residuals of reverse mode).
"""

from __future__ import annotations

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
)

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

    def const_var(self, val: Any, aval: ShapedArray) -> Var:
        var = self._const_ids.get(id(val))
        if var is None:
            var = self._const_ids[id(val)] = Var(aval)
            self.constvars.append(var)
            self.consts.append(val)  # keeps `val` alive, so its id stays unique
        return var

    def build(self, out_atoms: Sequence[core.Atom]) -> ClosedJaxpr:
        jaxpr = Jaxpr(list(self.constvars), list(self.invars), self.eqns, list(out_atoms))
        return ClosedJaxpr(jaxpr, list(self.consts))


class JaxprTracer(Tracer):
    __slots__ = ("_aval", "atom")

    def __init__(self, trace: JaxprTrace, aval: ShapedArray, atom: core.Atom):
        self._trace = trace
        self._aval = aval
        self.atom = atom

    @property
    def aval(self) -> ShapedArray:
        return self._aval


def _is_literal_value(val: Any) -> bool:
    return type(val) in core._PY_SCALARS or isinstance(val, np.generic) or (
        isinstance(val, np.ndarray) and val.ndim == 0
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
        aval = core.get_aval(val)
        if _is_literal_value(val):
            return JaxprTracer(self, aval, Literal(val, aval))
        return JaxprTracer(self, aval, self.builder.const_var(val, aval))

    lift = pure

    def process_primitive(
        self, primitive: core.Primitive, tracers: list[JaxprTracer], params: dict
    ) -> Any:
        rule = partial_eval_rules.get(primitive)
        if rule is not None and not self.main.dynamic:
            return rule(self, tracers, **params)
        out_avals = primitive.abstract([t._aval for t in tracers], params)
        return self.emit(primitive, tracers, params, out_avals)

    def emit(
        self, primitive: core.Primitive, tracers: Sequence[JaxprTracer], params: dict, out_avals
    ) -> Any:
        """Record one equation and return tracers for its outputs."""
        multiple = primitive.multiple_results
        avals = out_avals if multiple else [out_avals]
        outvars = [Var(a) for a in avals]
        self.builder.eqns.append(
            JaxprEqn(primitive, [t.atom for t in tracers], outvars, params, SourceInfo.current())
        )
        outs = [JaxprTracer(self, v.aval, v) for v in outvars]
        return outs if multiple else outs[0]


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
