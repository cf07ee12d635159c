"""Reverse mode over a staged program: `linearize_staged`, which `ad.linearize_flat` takes
under `jit` and `make_jaxpr` (where `ad._staged_top` says it applies).

The general path (`ad.linearize_flat`) runs the function on `JVPTracer`s whose primals are
tracers of the program being staged and whose tangents are tracers of the linear program:
every operation goes through two traces and a JVP rule written with funcdiff's operations.
Here the function is staged once, as `make_jaxpr` stages it, and its equations are walked:
each is moved into the program below, and its tangent equations are written into the linear
program by the primitive's direct rule (`ad.direct_jvp_rules`, filed by `define_primitive`),
which builds `Var`s and equations without tracers or `bind`. An equation without a direct
rule, or with operands its rule leaves to the general one, is differentiated by its general
JVP rule on tracers, exactly as the general path applies it. The programs are the general
path's, equation for equation, with the same source lines (tests/test_linearize_staged.py).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from funcdiff._src import core, dtypes, errors
from funcdiff._src.core import Literal, ShapedArray, Tracer, Var
from funcdiff._src.interpreters import ad
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.interpreters.ad import (
    JVPTrace,
    LinearFunction,
    UndefinedPrimal,
    Zero,
    jvp_rules,
    nondifferentiable,
    tangent_aval,
    zeros_like_aval,
)

# Direct JVP rules: ``rule(lin, ins, tangents, **params) -> tangent atom, or NotImplemented``,
# for `linearize_staged`. `ins` are the primal operands (atoms of the program being staged),
# `tangents` the tangent atoms (None for a zero). A rule builds the equations of the general
# JVP rule (`jvp_rules`) itself, without tracers: it first calls ``lin.keep()`` (the primal
# equation), then ``lin.primal(...)`` for the further primal equations its tangent reads and
# ``lin.tangent(...)`` for the tangent equations, and ``lin.residual(atom)`` to read a primal
# value from the tangent program. It returns NotImplemented, before `keep`, for operands it
# does not handle (the general rule then runs for this equation). Filed by `define_primitive`.
direct_jvp_rules: dict[core.Primitive, Callable[..., Any]] = {}
# Direct transpose rules: ``rule(tr, ct, *args, **params) -> cotangent atoms, or
# NotImplemented``, for `StagedLinearFunction.transpose`: `ct` is the cotangent's atom in the
# program being staged, `args` holds an `UndefinedPrimal` for each linear operand and the
# atom of each other. A rule records (``tr.emit``) the equations the primitive's transpose
# rule (`ad.transpose_rules`) stages, and returns NotImplemented, before recording anything,
# for what it leaves to that rule. Filed by `define_primitive`.
direct_transpose_rules: dict[core.Primitive, Callable[..., Any]] = {}
# Primitives whose JVP rule runs the user's code (custom_jvp, custom_vjp): `ad.linearize_flat`
# calls them outside any `bind` (`custom_calls._call_custom`), and so does `linearize_staged`.
user_rules: set[core.Primitive] = set()


def linear_jvp_direct(p: core.Primitive) -> Callable[..., Any]:
    """The direct JVP rule of a linear primitive `p` (`define_primitive` gives it to those
    whose JVP is `p` applied to the tangents); a zero tangent is left to the general rule,
    which instantiates it."""

    def rule(lin: Any, ins: Sequence[Any], tangents: Sequence[Any], **params: Any) -> Any:
        if None in tangents or lin.eqn.outvars[0].aval.dtype.kind != "f":
            return NotImplemented
        lin.keep()
        return lin.tangent(p, list(tangents), None, params)

    rule.__name__ = f"_{p.name}_jvp_direct"
    return rule


class _StagingBuilder(pe.JaxprBuilder):
    """The builder of `fun`'s primal program in `linearize_staged`: its constants are those of
    the program staged below (`outer`), whose atoms it uses, so that its equations can be moved
    there unchanged; its tracers know which of them depend on a differentiated input."""

    def __init__(self, outer: pe.JaxprTrace):
        super().__init__()
        self.outer = outer
        self.known: dict[Var, Any] = {}  # a constant's (or closed-over tracer's) own value
        self.differentiated: set[Var] = set()
        self.deferred: dict[Var, _Deferred] = {}

    def const_var(self, val: Any, aval: ShapedArray, snapshot: bool = False) -> Any:
        # A tracer of the program below stands for itself; a constant gets its variable
        # there when the walk first reads it (`_Deferred`), in the order the general path
        # makes them.
        if isinstance(val, Tracer) and val._trace.main is self.outer.main:
            self.known[val.atom] = val
            return val.atom
        var = self._const_ids.get(id(val))
        if var is None:
            var = self._const_ids[id(val)] = Var(aval)
            self.deferred[var] = _Deferred(val)  # (keeps `val` alive: its id stays unique)
        return var

    def depends(self, atom: Any) -> bool:
        """Whether `atom` (a value staged so far) carries the derivative of an input."""
        live = set(self.differentiated)
        for eqn in self.eqns:
            if eqn.primitive not in nondifferentiable and not live.isdisjoint(eqn.invars):
                live.update(v for v in eqn.outvars if dtypes.is_inexact(v.aval.dtype))
        return atom in live


_FRAME = sys._getframe()  # (a frame for `state.bind_frame`; only `bind_source` is read)


class _Deferred:
    """A constant input of `linearize_staged`, given its variable when first read."""

    __slots__ = ("val",)

    def __init__(self, val: Any):
        self.val = val


_NO_PARAMS: dict[str, Any] = {}


class _Linearizer:
    """The state of `linearize_staged`'s walk over the staged equations: `lin` of the direct
    rules (see `direct_jvp_rules`)."""

    __slots__ = ("outer", "eqns", "tbuilder", "ttrace", "env", "tenv", "tracers", "eqn", "ins")

    def __init__(self, outer: pe.JaxprTrace, ttrace: pe.JaxprTrace, known: dict[Var, Any]):
        self.outer = outer
        self.eqns: list[core.JaxprEqn] = outer.main.payload.eqns
        self.ttrace = ttrace
        self.tbuilder: pe.JaxprBuilder = ttrace.main.payload
        self.env: dict[Var, Any] = {}  # a staged variable -> its atom in the outer program
        self.tenv: dict[Var, Any] = {}  # a staged variable -> its tangent atom (if not zero)
        self.tracers: dict[Var, Any] = dict(known)  # an outer variable -> its value, one each
        self.eqn: core.JaxprEqn | None = None
        self.ins: list[Any] = []

    def keep(self) -> None:
        """Record the primal equation being differentiated (its operands moved below)."""
        eqn = self.eqn
        self.eqns.append(eqn if self.ins is eqn.invars else eqn.replace(invars=self.ins))

    def primal(self, prim: core.Primitive, atoms: list[Any], aval: Any = None,
               params: dict = _NO_PARAMS) -> Var:
        """Record a further primal equation (of the result type `bind` would give, `aval` if
        the rule computed it already)."""
        var = Var(aval or prim.abstract_eval(*[a.aval for a in atoms], **params))
        self.eqns.append(core.JaxprEqn(prim, atoms, [var], params, self.eqn.source_info))
        return var

    def tangent(self, prim: core.Primitive, atoms: list[Any], aval: Any = None,
                params: dict = _NO_PARAMS) -> Var:
        """Record a tangent equation in the linear program."""
        var = Var(aval or prim.abstract_eval(*[a.aval for a in atoms], **params))
        self.tbuilder.eqns.append(core.JaxprEqn(prim, atoms, [var], params, self.eqn.source_info))
        return var

    def fits(self, aval: Any) -> bool:
        """Whether a tangent of abstract value `aval` has the result's shape and dtype, so
        that the general rule's `fit_to_aval` would leave it as it is (a rule checks this of
        its tangent before it records anything, and returns NotImplemented if not)."""
        out = self.eqn.outvars[0].aval
        return aval is out or (
            aval.shape == out.shape and aval.dtype == out.dtype and out.dtype.kind == "f"
        )

    def value(self, atom: Any) -> Any:
        """The value an outer atom stands for: its tracer (one per variable), or a literal's."""
        if type(atom) is Literal:
            return atom.val
        t = self.tracers.get(atom)
        if t is None:
            t = self.tracers[atom] = pe.JaxprTracer(self.outer, atom.aval, atom)
        return t

    def residual(self, atom: Any) -> Any:
        """An outer atom read by the tangent program: a literal, or a constant of it."""
        if type(atom) is Literal:
            return atom
        return self.tbuilder.const_var(self.value(atom), atom.aval)

    def general(self, eqn: core.JaxprEqn, ins: list[Any], tins: list[Any]) -> None:
        """Differentiate `eqn` by its general JVP rule, on tracers, as `JVPTrace` does."""
        prim = eqn.primitive
        rule = jvp_rules.get(prim)
        if rule is None:
            raise NotImplementedError(
                f"Differentiation rule for primitive '{prim.name}' is not implemented."
            )
        ttrace = self.ttrace
        primals = [self.value(a) for a in ins]
        tangents = [
            Zero(tangent_aval(a.aval)) if t is None
            else pe.JaxprTracer(ttrace, t.aval, t) if type(t) is Var else t
            for a, t in zip(ins, tins)
        ]
        # (as inside the user's `bind` of the operation: its equations take its line; a
        # user's rule is called outside any `bind`, so that its own lines are found)
        # Errors name that line too (`errors.rule_site`).
        state, site = core._state, errors.rule_site
        saved = state.bind_frame, state.bind_source, site.frame, site.source
        state.bind_frame = state.bind_source = None
        if prim not in user_rules:
            state.bind_frame, state.bind_source = _FRAME, eqn.source_info
        site.frame, site.source = sys._getframe(), eqn.source_info
        try:
            p_out, t_out = rule(primals, tangents, **eqn.params)
        finally:
            state.bind_frame, state.bind_source, site.frame, site.source = saved
        if not prim.multiple_results:
            p_out, t_out = [p_out], [t_out]
        outer = self.outer
        for v, p, t in zip(eqn.outvars, p_out, t_out, strict=True):
            if isinstance(p, Tracer) and p._trace is outer:
                atom = p.atom
                if type(atom) is Var:
                    self.tracers.setdefault(atom, p)
            else:
                atom = outer.full_raise(p).atom
                if type(atom) is Var:
                    self.tracers.setdefault(atom, p)
            self.env[v] = atom
            if type(t) is pe.JaxprTracer and t._trace is ttrace and t.known is pe._UNKNOWN:
                self.tenv[v] = t._atom
            elif type(t) is not Zero:  # a known tangent: only the general rules take it
                self.tenv[v] = t

    def resolve(self, deferred: _Deferred) -> Any:
        val = deferred.val
        atom = self.outer.full_raise(val).atom
        if type(atom) is Var:
            self.tracers.setdefault(atom, val)
        return atom

    def walk(self, eqns: list[core.JaxprEqn]) -> None:
        env, tenv, eqns_out = self.env, self.tenv, self.eqns
        for eqn in eqns:
            invars = eqn.invars
            ins, tins, differentiated, direct = invars, [], False, True
            for a in invars:
                if type(a) is Var:
                    if a in env:
                        if ins is invars:
                            ins = list(invars)
                        x = env[a]
                        if type(x) is _Deferred:
                            x = env[a] = self.resolve(x)
                        ins[len(tins)] = x
                    t = tenv.get(a)
                    if t is not None:
                        differentiated = True
                        direct = direct and type(t) is Var
                    tins.append(t)
                else:
                    tins.append(None)
            prim = eqn.primitive
            if not differentiated or prim in nondifferentiable:
                eqns_out.append(eqn if ins is invars else eqn.replace(invars=ins))
                continue
            rule = direct_jvp_rules.get(prim) if direct else None
            if rule is not None:
                self.eqn, self.ins = eqn, ins
                t = rule(self, ins, tins, **eqn.params)
                if t is not NotImplemented:
                    if t is not None:
                        tenv[eqn.outvars[0]] = t
                    continue
            self.general(eqn, ins, tins)


def linearize_staged(
    fun: Callable[..., Sequence[Any]],
    primals: Sequence[Any],
    differentiable: Sequence[bool],
    top: core.MainTrace,
) -> tuple[list[Any], LinearFunction]:
    """`linearize_flat` under `jit` or `make_jaxpr` (`top`, the innermost transformation; see
    `_staged_top`): stage `fun` once, then walk its equations, moving each into `top`'s program
    and writing its tangent equations into the linear program, with the primitive's direct
    rule (no tracers) or, for the others, its general JVP rule on tracers. The programs are
    those `linearize_flat` makes (tests/test_linearize_staged.py compares them)."""
    outer = top.trace
    if outer is None:
        outer = top.trace = pe.JaxprTrace(top)
    builder = _StagingBuilder(outer)
    in_atoms = []
    with core.new_main(pe.JaxprTrace, builder, dynamic=True) as smain:
        strace = smain.trace = pe.JaxprTrace(smain)
        args = []
        for p, d in zip(primals, differentiable):
            t = strace.new_arg(core.get_aval(p))
            args.append(t)
            if d:
                builder.differentiated.add(t._atom)
            # (a constant gets its variable below when an equation reads it, as it would)
            in_atoms.append(p.atom if isinstance(p, Tracer) else _Deferred(p))
            if isinstance(p, Tracer):
                builder.known.setdefault(p.atom, p)
        outs = [strace.full_raise(x).atom for x in fun(*args)]
    with core.new_main(pe.JaxprTrace, pe.JaxprBuilder()) as tmain:
        ttrace = tmain.trace = pe.JaxprTrace(tmain)
        lin = _Linearizer(outer, ttrace, builder.known)
        lin.env.update(builder.deferred)
        in_avals = []
        for v, a, d in zip(builder.invars, in_atoms, differentiable):
            aval = tangent_aval(v.aval)
            in_avals.append(aval)
            tvar = ttrace.new_arg(aval)._atom
            lin.env[v] = a
            if d:
                lin.tenv[v] = tvar
        with core.new_main(JVPTrace) as jmain:  # (for the general rules, as `jvp_flat`)
            jmain.trace = JVPTrace(jmain)
            lin.walk(builder.eqns)
        out_primals, out_zero, out_atoms = [], [], []
        for a in outs:
            t = lin.tenv.get(a) if type(a) is Var else None
            a = lin.env.get(a, a) if type(a) is Var else a
            if type(a) is _Deferred:
                out_primals.append(a.val)  # (an input returned as it is)
                out_zero.append(t is None)
                if t is None:
                    t = zeros_like_aval(tangent_aval(core.get_aval(a.val)))
                out_atoms.append(t if type(t) is Var else ttrace.full_raise(t).atom)
                continue
            out_primals.append(a.val if type(a) is Literal else lin.value(a))
            out_zero.append(t is None)
            if t is None:
                t = zeros_like_aval(tangent_aval(a.aval))
            out_atoms.append(t if type(t) is Var else ttrace.full_raise(t).atom)
        linear = StagedLinearFunction(tmain.payload.build(out_atoms), in_avals, out_zero)
        linear.top = top
    return out_primals, linear


ad.staged_linearize = linearize_staged


class StagedLinearFunction(LinearFunction):
    """The linear program `linearize_staged` makes: transposed, while the program it was
    staged under (`top`) is still the innermost transformation, equation by equation with the
    primitives' direct transpose rules (`direct_transpose_rules`), the others as
    `ad.backward_pass` transposes them; elsewhere by `ad.backward_pass` itself."""

    __slots__ = ("top",)

    def transpose(self, cotangents: Sequence[Any]) -> list[Any]:
        top = self.top
        state = core._state
        if state.stack[-1] is not top or not top.alive or core.flags.check_nans:
            return super().transpose(cotangents)
        return backward_pass_staged(self, cotangents)


class _Transposer:
    """`tr` of the direct transpose rules: records equations in the staged program."""

    __slots__ = ("trace", "eqns", "info")

    def __init__(self, trace: pe.JaxprTrace):
        self.trace = trace
        self.eqns: list[core.JaxprEqn] = trace.main.payload.eqns
        self.info: Any = None

    def emit(self, prim: core.Primitive, atoms: list[Any], aval: Any = None,
             params: dict = _NO_PARAMS) -> Var:
        var = Var(aval or prim.abstract_eval(*[a.aval for a in atoms], **params))
        self.eqns.append(core.JaxprEqn(prim, atoms, [var], params, self.info))
        return var

    @staticmethod
    def fits(aval: Any, operand: Any) -> bool:
        """Whether a cotangent of abstract value `aval` has the shape and dtype of `operand`'s
        (`unbroadcast` then leaves it as it is; a rule checks this before recording)."""
        return aval is operand or (aval.shape == operand.shape and aval.dtype == operand.dtype)


def _atom_of(x: Any, trace: pe.JaxprTrace) -> Any:
    """The atom of a cotangent or residual `x` in `trace`'s program, if `x` has one already
    (a tracer of it with its variable, or a Python float); else None."""
    if type(x) is pe.JaxprTracer:
        return x._atom if x._trace is trace or x._trace.main is trace.main else None
    if type(x) is float:
        return trace.pure(x)._atom
    return None


def backward_pass_staged(linear: StagedLinearFunction, cotangents: Sequence[Any]) -> list[Any]:
    """`ad.backward_pass` of `linear` (every input undefined), recording the equations of the
    primitives with a direct transpose rule itself (see `direct_transpose_rules`). A cotangent
    those rules made is held as its variable; `ad.transpose_equations` transposes the other
    equations, on tracers."""
    jaxpr, consts = linear.jaxpr.jaxpr, linear.jaxpr.consts
    args = [UndefinedPrimal(a) for a in linear.in_avals]
    primal_env: dict[Var, Any] = dict(zip(jaxpr.constvars, consts, strict=True))
    linear_eqns = ad._run_known_equations(jaxpr, args, primal_env)
    ct_env: dict[Var, Any] = {}
    for v, ct in zip(jaxpr.outvars, cotangents, strict=True):
        if type(v) is Literal or ct is None or type(ct) is Zero or v in primal_env:
            continue
        prev = ct_env.get(v)
        ct_env[v] = ct if prev is None else ad.add_tangents(prev, ct)
    trace = linear.top.trace
    tr = _Transposer(trace)
    undefined: dict[int, UndefinedPrimal] = {}
    for eqn in reversed(linear_eqns):
        rule = direct_transpose_rules.get(eqn.primitive)
        out = eqn.outvars[0]
        ct = ct_env.pop(out, None) if rule is not None else None
        if ct is None:
            if rule is None:
                _transpose_general(eqn, ct_env, primal_env, trace)
            continue
        ct_atom = ct if type(ct) is Var else _atom_of(ct, trace)
        ins: list[Any] = []
        for a in eqn.invars:
            if type(a) is Literal:
                ins.append(a)
                continue
            val = primal_env.get(a, _MISSING)
            if val is _MISSING:
                val = undefined.get(id(a.aval))
                if val is None:
                    val = undefined[id(a.aval)] = UndefinedPrimal(a.aval)
                ins.append(val)
            else:
                ins.append(_atom_of(val, trace))
        cts = NotImplemented
        if ct_atom is not None and eqn.source_info is not None and None not in ins:
            tr.info = eqn.source_info
            cts = rule(tr, ct_atom, *ins, **eqn.params)
        if cts is NotImplemented:
            ct_env[out] = ct
            _transpose_general(eqn, ct_env, primal_env, trace)
            continue
        for a, x, c in zip(eqn.invars, ins, cts, strict=True):
            if type(x) is not UndefinedPrimal or c is None:
                continue
            prev = ct_env.get(a)
            if prev is None:  # (the cotangent passed on as it is stays what it was: a float)
                ct_env[a] = ct if c is ct_atom else c
                continue
            p = prev if type(prev) is Var else _atom_of(prev, trace)
            if p is None:
                ct_env[a] = prev
                ct_env[out] = ct if c is ct_atom else _value(c, trace)
                tr.info = eqn.source_info
                _sum_general(a, out, ct_env, eqn)
            else:
                ct_env[a] = tr.emit(ad.add_any_p, [p, c])
    result = []
    for v, a in zip(jaxpr.invars, args):
        ct = ct_env.get(v)
        result.append(Zero(a.aval) if ct is None else _value(ct, trace))
    return result


def _value(ct: Any, trace: pe.JaxprTrace) -> Any:
    """A cotangent as `ad.transpose_equations` holds it: a variable becomes its tracer."""
    return pe.JaxprTracer(trace, ct.aval, ct) if type(ct) is Var else ct


def _transpose_general(eqn: core.JaxprEqn, ct_env: dict, primal_env: dict, trace: Any) -> None:
    """Transpose `eqn` by `ad.transpose_equations`, its cotangents as that holds them."""
    for v in (*eqn.outvars, *eqn.invars):
        ct = ct_env.get(v) if type(v) is Var else None
        if type(ct) is Var:
            ct_env[v] = _value(ct, trace)
    ad.transpose_equations((eqn,), ct_env, primal_env)


def _sum_general(a: Var, out: Var, ct_env: dict, eqn: core.JaxprEqn) -> None:
    """``ct_env[a] + ct_env[out]`` (the latter popped) by `ad.add_tangents`, on the line of
    `eqn`, for a cotangent with no variable yet."""
    state = core._state
    previous = state.source_override
    state.source_override = eqn.source_info
    try:
        ct_env[a] = ad.add_tangents(ct_env[a], ct_env.pop(out))
    finally:
        state.source_override = previous


_MISSING = object()
