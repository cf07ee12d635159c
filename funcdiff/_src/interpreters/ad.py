"""Automatic differentiation: forward mode by JVP, reverse mode by linearize + transpose.

One set of rules per primitive serves both modes:

* `jvp_rules[p](primals, tangents, **params) -> (primal_out, tangent_out)` gives forward mode.
  Rules are written with funcdiff's own operations, so they can themselves be differentiated.
* Reverse mode runs the JVP with *known* primals and *unknown* (staged) tangents
  (`linearize`): the tangent computation is recorded as a jaxpr that is linear in the input
  tangents, its constants being the residuals. `backward_pass` then transposes that jaxpr
  equation by equation, in reverse, with `transpose_rules[p](ct, *args, **params)` defined for
  the linear primitives only.

Tangents may be the symbolic `Zero`, which rules skip, so unused inputs cost nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes
from funcdiff._src.core import Literal, ShapedArray, Tracer, Var
from funcdiff._src.core.avals import _SCALAR_AVALS
from funcdiff._src.interpreters import partial_eval as pe

jvp_rules: dict[core.Primitive, Callable[..., Any]] = {}
transpose_rules: dict[core.Primitive, Callable[..., Any]] = {}
# Primitives with no derivative at all (argmax, comparisons...): their tangent is zero.
nondifferentiable: set[core.Primitive] = set()


# ---- symbolic zeros and undefined primals ---------------------------------------------------


class Zero:
    """A tangent or cotangent known to be zero, of the given abstract value."""

    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self) -> str:
        return f"Zero({self.aval.str_short()})"


def tangent_aval(aval: ShapedArray) -> ShapedArray:
    if dtypes.is_inexact(aval.dtype):
        return aval
    return ShapedArray(aval.shape, dtypes.float0)


def zeros_like_aval(aval: ShapedArray) -> np.ndarray:
    """Zeros of `aval`, as a read-only broadcast of one zero: a program traced on a large batch
    holds them as a constant of one element, and a lazy namespace gets no array of the batch's
    size (see `backends.Backend.begin`)."""
    return np.broadcast_to(np.zeros((), aval.dtype), aval.shape)


def instantiate(t: Any) -> Any:
    return zeros_like_aval(t.aval) if type(t) is Zero else t


# The zero tangent of each Python scalar type, shared (a `Zero` is never changed).
_SCALAR_ZEROS = {t: Zero(tangent_aval(a)) for t, a in _SCALAR_AVALS.items()}


class UndefinedPrimal:
    """Marks the linear input of a primitive during transposition."""

    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self) -> str:
        return f"UndefinedPrimal({self.aval.str_short()})"


def is_undefined_primal(x: Any) -> bool:
    return type(x) is UndefinedPrimal


class _Sum(core.Primitive):
    """`add_any`: its sum is weakly typed exactly when both operands are, so on Python
    scalars alone it is one (what `weak_results=True` declares for the primitives
    `lax._define.define_primitive` makes; the eager tape sums Python float cotangents)."""

    __slots__ = ()
    weak_results = True


# Adding cotangents of identical shape: a primitive of its own, so the accumulation is itself
# traceable (needed for higher-order derivatives).
add_any_p = _Sum("add_any")  # its rules: `funcdiff._src.lax.structural`


def add_tangents(x: Any, y: Any) -> Any:
    if type(x) is Zero:
        return y
    if type(y) is Zero:
        return x
    return add_any_p.bind(x, y)


# ---- forward mode ---------------------------------------------------------------------------


class JVPTracer(Tracer):
    __slots__ = ("primal", "tangent", "_aval")

    def __init__(self, trace: JVPTrace, primal: Any, tangent: Any):
        self._trace = trace
        self.primal = primal
        self.tangent = tangent
        self._aval = None

    @property
    def aval(self) -> ShapedArray:
        aval = self._aval
        if aval is None:
            primal = self.primal  # (a tracer of the trace below, when staging: read directly)
            aval = primal.aval if isinstance(primal, Tracer) else core.get_aval(primal)
            self._aval = aval
        return aval

    def to_concrete_value(self) -> Any:
        return core.concrete_or_none(self.primal)

    def carries_derivative(self) -> bool:
        return type(self.tangent) is not Zero or (
            isinstance(self.primal, Tracer) and self.primal.carries_derivative()
        )


class JVPTrace(core.Trace):
    __slots__ = ()

    def pure(self, val: Any) -> JVPTracer:
        zero = _SCALAR_ZEROS.get(type(val))  # (a Python scalar constant: the common case)
        if zero is None:
            zero = Zero(tangent_aval(core.get_aval(val)))
        return JVPTracer(self, val, zero)

    lift = pure

    def process_primitive(
        self, primitive: core.Primitive, tracers: list[JVPTracer], params: dict
    ) -> Any:
        primals, tangents, all_zero = [], [], True  # (one loop: this runs for every op)
        for t in tracers:
            primals.append(t.primal)
            tangents.append(t.tangent)
            all_zero = all_zero and type(t.tangent) is Zero
        if all_zero or primitive in nondifferentiable:
            # Nothing to differentiate: the result is a plain value of the trace below.
            return primitive.bind(*primals, **params)
        rule = jvp_rules.get(primitive)
        if rule is None:
            raise NotImplementedError(
                f"Differentiation rule for primitive '{primitive.name}' is not implemented."
            )
        primal_out, tangent_out = rule(primals, tangents, **params)
        if primitive.multiple_results:
            return [JVPTracer(self, p, t) for p, t in zip(primal_out, tangent_out, strict=True)]
        return JVPTracer(self, primal_out, tangent_out)


def jvp_flat(
    fun: Callable[..., Sequence[Any]], primals: Sequence[Any], tangents: Sequence[Any]
) -> tuple[list[Any], list[Any]]:
    """Forward mode on flat lists. Tangents may be `Zero`; output tangents may be too."""
    with core.new_main(JVPTrace) as main:
        trace = main.trace = JVPTrace(main)  # (the trace `bind` uses: made once)
        outs = fun(*[JVPTracer(trace, p, t) for p, t in zip(primals, tangents, strict=True)])
        out_primals, out_tangents = [], []
        for o in outs:
            t = trace.full_raise(o)
            out_primals.append(t.primal)
            out_tangents.append(t.tangent)
        return out_primals, out_tangents


# ---- reverse mode: linearize, then transpose ------------------------------------------------


class LinearFunction:
    """The linear map ``tangents_in -> tangents_out`` of a linearized function, as a jaxpr whose
    constants are the residuals saved from the forward pass."""

    __slots__ = ("jaxpr", "in_avals", "out_zero")

    def __init__(self, jaxpr: core.ClosedJaxpr, in_avals: list[ShapedArray], out_zero: list[bool]):
        self.jaxpr = jaxpr
        self.in_avals = in_avals
        self.out_zero = out_zero

    def residuals(self) -> list[Any]:
        return self.jaxpr.consts

    def apply(self, tangents: Sequence[Any]) -> list[Any]:
        """Forward: evaluate the linear map on input tangents."""
        return core.eval_jaxpr(self.jaxpr.jaxpr, self.jaxpr.consts, *tangents)

    def transpose(self, cotangents: Sequence[Any]) -> list[Any]:
        """Reverse: the cotangent of every input for the given output cotangents."""
        args = [UndefinedPrimal(a) for a in self.in_avals]
        return backward_pass(self.jaxpr.jaxpr, self.jaxpr.consts, args, cotangents)


def linearize_flat(
    fun: Callable[..., Sequence[Any]], primals: Sequence[Any], differentiable: Sequence[bool]
) -> tuple[list[Any], LinearFunction]:
    """Run `fun` forward once, recording its tangent map as a linear jaxpr.

    Inputs whose `differentiable` flag is False get a symbolic zero tangent. Under `jit` or
    `make_jaxpr`, `linearize_staged` builds the same programs faster, where it applies.
    """
    if core._state.dynamic.level:  # (eager reverse mode skips the test at once)
        top = _staged_top(primals)
        if top is not None and staged_linearize is not None:
            return staged_linearize(fun, primals, differentiable, top)
    with core.new_main(pe.JaxprTrace, pe.JaxprBuilder()) as tmain:
        ttrace = tmain.trace = pe.JaxprTrace(tmain)
        in_avals, tangents = [], []  # (loops: this runs on every eager grad)
        for p, d in zip(primals, differentiable):
            aval = tangent_aval(core.get_aval(p))
            in_avals.append(aval)
            t = ttrace.new_arg(aval)
            tangents.append(t if d else Zero(aval))
        out_primals, out_tangents = jvp_flat(fun, primals, tangents)
        out_zero, out_atoms = [], []
        for t in out_tangents:
            zero = type(t) is Zero
            out_zero.append(zero)
            out_atoms.append(ttrace.full_raise(zeros_like_aval(t.aval) if zero else t).atom)
        for p in out_primals:
            if isinstance(p, Tracer) and p._trace.main is tmain:
                raise AssertionError("internal error: a primal output depends on a tangent")
        linear = LinearFunction(tmain.payload.build(out_atoms), in_avals, out_zero)
    return out_primals, linear


def backward_pass(
    jaxpr: core.Jaxpr,
    consts: Sequence[Any],
    args: Sequence[Any],
    cotangents: Sequence[Any],
    on_transpose: Callable[[core.JaxprEqn, Any, list[Any]], None] | None = None,
) -> list[Any]:
    """Transpose a linear jaxpr: propagate output cotangents back to its undefined inputs.

    `args` holds a value for each known input and an `UndefinedPrimal` for each linear one.
    Returns the cotangent of every input (`Zero` where nothing flowed). `on_transpose`, if
    given, is called after each equation is transposed with the equation, the cotangent of its
    output(s) (a list for a multiple-results primitive) and the cotangents it sends to its
    inputs, so that a caller can watch every variable's cotangent (`funcdiff.graph` does).
    """
    primal_env: dict[Var, Any] = dict(zip(jaxpr.constvars, consts, strict=True))
    for v, a in zip(jaxpr.invars, args, strict=True):
        if type(a) is not UndefinedPrimal:
            primal_env[v] = a
    ct_env: dict[Var, Any] = {}
    linear_eqns = _run_known_equations(jaxpr, args, primal_env)
    for v, ct in zip(jaxpr.outvars, cotangents, strict=True):
        if type(v) is Literal or ct is None or type(ct) is Zero or v in primal_env:
            continue
        prev = ct_env.get(v)
        ct_env[v] = ct if prev is None else add_tangents(prev, ct)
    transpose_equations(reversed(linear_eqns), ct_env, primal_env, on_transpose)
    out = []
    for v, a in zip(jaxpr.invars, args):
        ct = ct_env.get(v)
        out.append(Zero(a.aval) if ct is None and type(a) is UndefinedPrimal else ct)
    return out


def transpose_equations(
    eqns: Any,
    ct_env: dict[Var, Any],
    primal_env: dict[Var, Any],
    on_transpose: Callable[[core.JaxprEqn, Any, list[Any]], None] | None = None,
) -> None:
    """`backward_pass`'s loop: transpose `eqns` (in the order given, the last equation first),
    reading and accumulating the cotangents of `ct_env` (`staged_ad` calls it for the
    equations it does not transpose itself)."""
    undefined: dict[int, UndefinedPrimal] = {}  # by the id of an aval the jaxpr keeps alive
    check = core.flags.check_nans
    state = core._state
    previous_info, previous_override = state.source_info, state.source_override
    # (The loop below runs for every linear equation: closures and helper calls inlined. New
    # equations, the sums of cotangents too, are attributed to the line of the equation being
    # transposed: the override is set for each and restored once, at the end.)
    try:
        for eqn in eqns:
            prim = eqn.primitive
            if prim.multiple_results:
                cts_out = [ct_env.pop(v, None) for v in eqn.outvars]
                if all(ct is None for ct in cts_out):
                    continue
                ct_arg: Any = [
                    Zero(v.aval) if ct is None else ct for v, ct in zip(eqn.outvars, cts_out)
                ]
            else:
                ct_arg = ct_env.pop(eqn.outvars[0], None)
                if ct_arg is None:
                    continue
            if check:
                state.source_info = eqn.source_info
            invals = []
            for a in eqn.invars:
                if type(a) is Literal:
                    invals.append(a.val)
                else:
                    val = primal_env.get(a, _MISSING)
                    if val is _MISSING:  # (one `UndefinedPrimal` per aval object: rules
                        val = undefined.get(id(a.aval))  # only read its type and aval)
                        if val is None:
                            val = undefined[id(a.aval)] = UndefinedPrimal(a.aval)
                    invals.append(val)
            rule = transpose_rules.get(prim)
            if rule is None:
                raise NotImplementedError(
                    f"Transpose rule (reverse mode) for primitive '{prim.name}' is not "
                    "implemented: it is not linear, or its rule is missing."
                )
            state.source_override = eqn.source_info
            cts_in = rule(ct_arg, *invals, **eqn.params)
            if on_transpose is not None:
                on_transpose(eqn, ct_arg, cts_in)
            for a, x, ct in zip(eqn.invars, invals, cts_in, strict=True):
                # (`write_ct`, inlined; an undefined input is a variable, not in primal_env)
                if type(x) is UndefinedPrimal and ct is not None and type(ct) is not Zero:
                    prev = ct_env.get(a)
                    ct_env[a] = ct if prev is None else add_tangents(prev, ct)
    finally:  # a NaN found later outside this program must name its own line
        state.source_info = previous_info
        state.source_override = previous_override


def _run_known_equations(
    jaxpr: core.Jaxpr, args: Sequence[Any], primal_env: dict[Var, Any]
) -> list[core.JaxprEqn]:
    """Evaluate into `primal_env` the equations that read only known values (recomputation,
    as `checkpoint` produces); return the others, linear in the undefined inputs, in order."""
    linear_vars = {v for v, a in zip(jaxpr.invars, args) if type(a) is UndefinedPrimal}
    linear_eqns = []
    for eqn in jaxpr.eqns:
        if not linear_vars.isdisjoint(eqn.invars):  # literals are never in the set
            linear_eqns.append(eqn)
            linear_vars.update(eqn.outvars)
            continue
        invals = [a.val if type(a) is Literal else primal_env[a] for a in eqn.invars]
        out = eqn.primitive.bind(*invals, **eqn.params)
        outs = out if eqn.primitive.multiple_results else [out]
        for v, x in zip(eqn.outvars, outs):
            primal_env[v] = x
    return linear_eqns


_MISSING = object()


# ---- reverse mode over a staged program -----------------------------------------------------

# `linearize_flat` takes `linearize_staged` where it applies (a switch for tests that compare).
use_direct_linearize = True


def _staged_top(primals: Sequence[Any]) -> Any:
    """The dynamic main of `jit`/`make_jaxpr` when it is the innermost transformation and
    every primal is a tracer of it or a constant (then `linearize_staged` applies); else None."""
    state = core._state
    top = state.dynamic
    if top.level == 0 or state.stack[-1] is not top or top.trace_type is not pe.JaxprTrace:
        return None
    if core.flags.check_nans or not use_direct_linearize:
        return None
    for p in primals:
        if isinstance(p, Tracer) and p._trace.main is not top:
            return None
    return top


# `linearize_staged` (`staged_ad.py`, which installs it on import: it builds on this module).
staged_linearize: Callable[..., Any] | None = None
