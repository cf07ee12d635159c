"""Eager reverse mode's fast forward pass: the JVP of an elementwise operation, replayed.

Under `grad` and `vjp` called outside any transformation, every operation of the user's
function runs its JVP rule on concrete primals and staged tangents (`ad.linearize_flat`): the
rule computes the primal and the partial derivatives eagerly and records the tangent products
as equations of the linear program. For the same primitive, parameters, operand types and
shapes and the same tangent pattern, the rule does the same thing every time, only on other
values. So the first time, its work is staged once (`_stage`) and split (by
`partial_eval.partial_eval_jaxpr`) into

* a *known* program: the primal output and the residuals (partial derivatives...), from the
  primals only; run on each call by calling the primitives' implementations in turn, with no
  `bind` and no rule;
* the *linear* equations: replayed on each call into the linear program being built, reading
  the operands' tangents and the residuals of this call.

The linear program is then the one the rule would have recorded, equation for equation (the
same primitives, parameters, operands, constants as literals or constant variables, in the
same order), so its transposition, and hence the gradient, is unchanged. Only the user's
function is not cached: it runs on every call, and only its elementwise operations (those whose
implementation is a NumPy ufunc) take this route; any other primitive, or any rule that looks
at a concrete value (`to_concrete_value`) or fails on abstract operands, runs its JVP rule as
before. The rules stay the one source of derivatives: nothing here knows a derivative.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.array import Array, as_array
from funcdiff._src.core import Literal, Var
from funcdiff._src.interpreters import ad
from funcdiff._src.interpreters import partial_eval as pe

# Primitives whose JVP may be replayed: elementwise, a NumPy ufunc as implementation, one
# result (filled by `lax._define.register_rules`).
replayable: set[core.Primitive] = set()


class _Recipe:
    """The staged JVP of one primitive application (see the module docstring)."""

    __slots__ = ("known", "consts", "eqns", "tangent_vars", "res_vars", "out")

    def __init__(self, known, consts, eqns, tangent_vars, res_vars, out):
        self.known = known  # equations computing [primal_out, *residuals] from the primals
        self.consts = consts  # [(var, value)] of the known program's constants
        self.eqns = eqns  # the linear equations, reading tangent_vars, res_vars and literals
        self.tangent_vars = tangent_vars  # one per differentiated operand
        self.res_vars = res_vars
        self.out = out  # the tangent output: a Var, or a `Zero`


_UNSUPPORTED = object()  # cached for a key whose rule cannot be replayed
_recipes: dict[tuple, Any] = {}
_MAX_RECIPES = 4096


class _NeedsValue(Exception):
    """A JVP rule looked at a concrete value while being staged: it cannot be replayed."""


def linearize_trace_type() -> type[ad.JVPTrace]:
    """The JVP trace `linearize_flat` uses for eager reverse mode: this module's, when no
    transformation is active and NaN checks are off (they need each rule's source line)."""
    if len(core._state.stack) == 1 and not core.flags.check_nans:
        return ReplayingJVPTrace
    return ad.JVPTrace


class ReplayingJVPTrace(ad.JVPTrace):
    """`ad.JVPTrace` that replays the JVP of the `replayable` primitives."""

    __slots__ = ()

    def process_primitive(
        self, primitive: core.Primitive, tracers: list[ad.JVPTracer], params: dict
    ) -> Any:
        if primitive in replayable:
            out = _replay(self, primitive, tracers, params)
            if out is not None:
                return out
        return ad.JVPTrace.process_primitive(self, primitive, tracers, params)


def _replay(trace: ad.JVPTrace, primitive: core.Primitive, tracers: list, params: dict) -> Any:
    """The JVP tracer of ``primitive(*tracers)`` from its recipe, or None to run the rule."""
    key: list[Any] = [primitive]
    primals, tangents = [], []
    ttrace = None
    for t in tracers:
        x, dx = t.primal, t.tangent
        kind = type(x)
        if kind is Array or kind is np.ndarray or isinstance(x, np.generic):
            key.append((kind is np.ndarray or kind is Array, x.shape, x.dtype))
        elif kind not in core._PY_SCALAR_TYPES:
            return None  # (a tracer of a transformation below this one: not eager)
        else:
            key.append(kind)
        dx_type = type(dx)
        if dx_type is pe.JaxprTracer and (ttrace is None or dx._trace is ttrace):
            ttrace = dx._trace
            tangents.append(dx)
        elif dx_type is not ad.Zero:
            return None
        a = dx.aval  # (a zero's too: a rule may instantiate it)
        key.append((dx_type is ad.Zero, a.shape, a.dtype, a.weak_type))
        primals.append(x)
    if ttrace is None:
        return None  # no tangent: the general path binds the primitive below
    if params:
        key.append(tuple(sorted(params.items())))
    try:
        key_t = tuple(key)
        recipe = _recipes.get(key_t)
    except TypeError:  # an unhashable parameter
        return None
    if recipe is None:
        recipe = _stage(primitive, tracers, params)
        if len(_recipes) >= _MAX_RECIPES:
            _recipes.clear()
        _recipes[key_t] = recipe
    if recipe is _UNSUPPORTED:
        return None
    outs = _run_known(recipe, primals)
    primal_out = outs[0]
    out = recipe.out
    if type(out) is ad.Zero:
        return ad.JVPTracer(trace, primal_out, out)
    return ad.JVPTracer(trace, primal_out, _replay_linear(ttrace, recipe, tangents, outs))


def _run_known(recipe: _Recipe, primals: list[Any]) -> list[Any]:
    """[primal_out, *residuals]: the known equations, each by its implementation; results
    made Arrays as `bind` makes them outside transformations."""
    env: dict[Var, Any] = dict(recipe.consts)
    jaxpr = recipe.known
    for v, x in zip(jaxpr.invars, primals):
        env[v] = x
    for eqn in jaxpr.eqns:
        invals = []  # (loops rather than comprehensions: one or two operands)
        for a in eqn.invars:
            invals.append(a.val if type(a) is Literal else env[a])
        out = eqn.primitive.run_impl(invals, eqn.params)
        if eqn.primitive.multiple_results:
            for v, o in zip(eqn.outvars, out):
                env[v] = o if type(o) in core._PY_SCALAR_TYPES else as_array(o)
        else:
            env[eqn.outvars[0]] = out if type(out) in core._PY_SCALAR_TYPES else as_array(out)
    outs = []
    for a in jaxpr.outvars:
        outs.append(a.val if type(a) is Literal else env[a])
    return outs


def _replay_linear(
    ttrace: pe.JaxprTrace, recipe: _Recipe, tangents: list[Any], outs: list[Any]
) -> Any:
    """Record the recipe's linear equations on this call's tangents and residuals, as the
    rule's binds would (constants raised by the trace's `pure`), and return the tangent."""
    atoms: dict[Var, Any] = {}
    for v, t in zip(recipe.tangent_vars, tangents):
        atoms[v] = t
    for v, r in zip(recipe.res_vars, outs[1:]):
        atoms[v] = r
    eqns = ttrace.main.payload.eqns
    for eqn in recipe.eqns:
        ins = []
        for a in eqn.invars:
            x = a.val if type(a) is Literal else atoms[a]
            if type(x) is not pe.JaxprTracer:
                x = ttrace.pure(x)
            ins.append(x._atom or x.atom)
        outvars = []
        for v in eqn.outvars:
            new = Var(v.aval)
            outvars.append(new)
            atoms[v] = pe.JaxprTracer(ttrace, new.aval, new)
        eqns.append(core.JaxprEqn(eqn.primitive, ins, outvars, eqn.params, None))
    return atoms[recipe.out]


def _stage(primitive: core.Primitive, tracers: list, params: dict) -> Any:
    """The recipe of ``primitive``'s JVP for operands like `tracers`, or `_UNSUPPORTED`."""
    rule = ad.jvp_rules.get(primitive)
    if rule is None:
        return _UNSUPPORTED
    primal_avals = [core.get_aval(t.primal) for t in tracers]
    mask = [type(t.tangent) is not ad.Zero for t in tracers]
    tangent_avals = [t.tangent.aval for t, m in zip(tracers, mask) if m]
    zero_out: list[Any] = []
    n = len(tracers)

    def jvp(*args: Any) -> list[Any]:
        it = iter(args[n:])
        tangents = [next(it) if m else ad.Zero(t.tangent.aval) for t, m in zip(tracers, mask)]
        primal_out, tangent_out = rule(list(args[:n]), tangents, **params)
        if type(tangent_out) is ad.Zero:
            zero_out.append(tangent_out)
            return [primal_out]
        return [primal_out, tangent_out]

    builder = pe.JaxprBuilder()
    builder.probing = True
    try:
        with core.new_main(pe.JaxprTrace, builder, dynamic=True) as main:
            trace = main.trace = pe.JaxprTrace(main)
            ins = [trace.new_arg(a) for a in primal_avals + tangent_avals]
            outs = [trace.full_raise(x) for x in jvp(*ins)]
            closed = builder.build([t.atom for t in outs])
    except Exception:  # a rule that needs values (or fails on abstract operands): not replayed
        return _UNSUPPORTED
    unknowns = [False] * n + [True] * len(tangent_avals)
    known, unknown, out_unknowns, n_res = pe.partial_eval_jaxpr(closed, unknowns)
    if out_unknowns[0] or (not zero_out and not out_unknowns[1]):
        return _UNSUPPORTED  # a primal depending on a tangent, or a known tangent
    consts = list(zip(known.jaxpr.constvars, known.consts))
    ujaxpr = unknown.jaxpr
    out: Any = zero_out[0] if zero_out else ujaxpr.outvars[0]
    if type(out) is Literal:
        return _UNSUPPORTED
    return _Recipe(
        known.jaxpr, consts, ujaxpr.eqns, ujaxpr.invars[n_res:], ujaxpr.invars[:n_res], out
    )
