"""Eager reverse mode: a tape, for `grad` and `value_and_grad` called on concrete values
outside any transformation. (`vjp` keeps the general path: its `vjp_fn` may be called many
times or traced, and the residuals of a linear program, computed once by the forward pass,
serve every call, where the tape's pullbacks compute their partial derivatives when pulled.)

`ad.linearize_flat` stages the tangent half of every operation as a jaxpr (two trace levels,
a tracer, a variable and an equation per tangent product) and `ad.backward_pass` then
interprets that jaxpr; on a few scalar operations that machinery is most of the time. The
tape does the same work with less: one trace level whose tracers (`TapeTracer`) hold the
primal value and the slot of their cotangent; each primitive computes its primal at once and
appends a `_Node` saying how to pull a cotangent back through it. The pullbacks come from
the primitive's own block, derived once per primitive (`pullback_rules`, filled by
`lax/_define.py`): an elementwise primitive with per-operand partial derivatives multiplies
the cotangent by them (real dtypes), a linear primitive applies its transpose rule. Any other
primitive, or a case those do not cover (complex operands), is linearized on its own by the
general machinery (`ad.linearize_flat` on that one operation) and its linear program
transposed, so every primitive works, with the same rules.

The backward pass uses `bind` throughout, so it is itself differentiable, and any active
transformation sees its operations. Transformations nested inside the function
(`grad(grad(f))`) run the general path on the tape's tracers, which the tape records like
any other operation.

`reverse_linearize` is the one place that chooses between the tape and the general path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from funcdiff._src import core
from funcdiff._src.array import as_array
from funcdiff._src.core import ShapedArray, Tracer
from funcdiff._src.core.avals import _PY_SCALAR_TYPES, _SCALAR_AVALS
from funcdiff._src.interpreters import ad
from funcdiff._src.interpreters.ad import Zero

# primitive -> (pullback, real_only). ``pullback(ct, ans, primals, slots, params)`` returns
# one cotangent per operand (None for an operand that is not traced, that is whose slot is
# negative, or that has no derivative);
# `ct` is the output's cotangent (a list, with `Zero`s, for a multiple-results primitive).
# With `real_only`, the rule holds for real floating operands and results only; other dtypes
# take the general path.
pullback_rules: dict[core.Primitive, tuple[Callable[..., list[Any]], bool]] = {}


class _Switch:
    """`enabled = False` sends every `grad` through the general path (the differential
    tests compare the two)."""

    enabled = True


switch = _Switch()


# ---- the tape -------------------------------------------------------------------------------


class _Tape:
    """The recorded operations, in order: each node is a tuple ``(rule, params, primals, ans,
    parents, slot, n_out, source)``: its pullback rule, its parameters, operands and
    result(s), the cotangent slots of its operands (-1 for an operand that carries no
    derivative), the slot of its first output (its outputs take consecutive slots), its
    number of outputs (0 for a primitive with a single result, not a list), and its source
    line (kept when checking for NaNs)."""

    __slots__ = ("nodes", "nslots")

    def __init__(self) -> None:
        self.nodes: list[tuple] = []
        self.nslots = 0


class TapeTracer(Tracer):
    """A value computed on the tape: its primal, and the slot of its cotangent (-1: a
    constant, which carries no derivative)."""

    # `aval` is an attribute here, not `Tracer`'s property: the NumPy layer reads it several
    # times per operation.
    __slots__ = ("primal", "slot", "aval")

    def __init__(self, trace: TapeTrace, primal: Any, slot: int):
        self._trace = trace
        self.primal = primal
        self.slot = slot
        aval = _SCALAR_AVALS.get(type(primal))
        self.aval = core.get_aval(primal) if aval is None else aval

    def to_concrete_value(self) -> Any:
        return self.primal

    def carries_derivative(self) -> bool:
        return self.slot >= 0


def _eval(primitive: core.Primitive, primals: list[Any], params: dict) -> Any:
    # `primitive.bind` on concrete values outside any transformation (the tape is the only
    # trace on the stack, and operands' primals are never tracers), without its dispatch.
    out = primitive.run_impl(primals, params)
    if primitive.multiple_results:
        return [as_array(o) for o in out]
    return out if type(out) in _PY_SCALAR_TYPES else as_array(out)


class TapeTrace(core.Trace):
    __slots__ = ()

    def pure(self, val: Any) -> TapeTracer:
        return TapeTracer(self, val, -1)

    lift = pure

    def process_primitive(
        self, primitive: core.Primitive, tracers: list[TapeTracer], params: dict
    ) -> Any:
        # (One loop and no helper calls in the common case: this runs for every operation.)
        primals, parents, traced, real = [], [], False, True
        for t in tracers:
            p = t.primal
            primals.append(p)
            s = t.slot
            parents.append(s)
            if s >= 0:
                traced = True
                if real and type(p) is not float:
                    real = t.aval.dtype.kind == "f"
        if not traced or primitive in ad.nondifferentiable:
            return _eval(primitive, primals, params)
        entry = pullback_rules.get(primitive)
        if entry is not None and (real or not entry[1]):
            rule, real_only = entry
            out = primitive.run_impl(primals, params)  # (`_eval`, inlined)
            if primitive.multiple_results:
                out = [as_array(o) for o in out]
            elif type(out) not in _PY_SCALAR_TYPES:
                out = as_array(out)
            tape = self.main.payload
            slot = tape.nslots
            source = core.SourceInfo.current() if core.flags.check_nans else None
            if not primitive.multiple_results:
                if type(out) is float or (
                    core.get_aval(out).dtype.kind in ("f" if real_only else "fc")
                ):
                    tape.nslots = slot + 1
                    tape.nodes.append((rule, params, primals, out, parents, slot, 0, source))
                    return TapeTracer(self, out, slot)
                if not real_only:  # an integer or boolean result carries no derivative
                    return TapeTracer(self, out, -1)  # (but stays traced, as under jvp)
            elif not real_only:
                tape.nslots = slot + len(out)
                tape.nodes.append((rule, params, primals, out, parents, slot, len(out), source))
                return [
                    TapeTracer(self, o, slot + i if _inexact(core.get_aval(o)) else -1)
                    for i, o in enumerate(out)
                ]
        return self._general(primitive, primals, parents, params)

    def _general(self, primitive, primals, parents, params) -> Any:
        """Linearize this one operation with the general machinery (its JVP rule, partial
        evaluation), and record the transposition of its linear program."""

        def one(*xs: Any) -> list[Any]:
            out = primitive.bind(*xs, **params)
            return out if primitive.multiple_results else [out]

        tracers = self._linearized(one, primals, parents, params)
        return tracers if primitive.multiple_results else tracers[0]

    def process_call(
        self, fun: Callable[..., list[Any]], args: Sequence[Any], closure_error: Callable
    ) -> list[Any]:
        """Apply `fun` (flat: a list of results) to `args`, some of them this trace's tracers,
        linearized as one operation by the general machinery: for a function that has its
        own derivative rule (`custom_jvp`, `custom_vjp`). A result that is still one of the
        tape's tracers was computed from a value the function closes over: `closure_error`
        (given that value) is raised."""
        primals, parents = [], []
        for a in args:
            t = self.full_raise(a)
            primals.append(t.primal)
            parents.append(t.slot)
        return self._linearized(fun, primals, parents, {}, closure_error)

    def _linearized(self, fun, primals, parents, params, closure_error=None) -> list[Any]:
        outs, linear = ad.linearize_flat(fun, primals, [s >= 0 for s in parents])
        for o in outs:
            if isinstance(o, Tracer):  # computed from a tracer `fun` closes over
                if closure_error is None:
                    raise AssertionError(f"internal error: {o} escaped a primitive's JVP rule")
                raise closure_error(o)
        if not outs:
            return outs

        def rule(ct, ans, primals, slots, params):
            return linear.transpose(
                [None if z or type(c) is Zero else c for c, z in zip(ct, linear.out_zero)]
            )

        tape = self.main.payload
        slot = tape.nslots
        tape.nslots = slot + len(outs)
        source = core.SourceInfo.current() if core.flags.check_nans else None
        tape.nodes.append((rule, params, primals, outs, parents, slot, len(outs), source))
        return [
            TapeTracer(self, o, -1 if zero else slot + i)
            for i, (o, zero) in enumerate(zip(outs, linear.out_zero))
        ]


def _inexact(aval: ShapedArray) -> bool:
    return aval.dtype.kind in "fc"


class TapeLinear:
    """The pullback of a function run on the tape, with the interface of
    `ad.LinearFunction` that reverse mode uses (`out_zero`, `transpose`)."""

    __slots__ = ("tape", "out_slots", "in_slots", "primals")

    def __init__(self, tape: _Tape, out_slots: list[int], in_slots: list[int], primals):
        self.tape = tape
        self.out_slots = out_slots
        self.in_slots = in_slots
        self.primals = primals  # (for the avals of zero cotangents, found only when needed)

    @property
    def out_zero(self) -> list[bool]:
        return [s < 0 for s in self.out_slots]

    def transpose(self, cotangents: Sequence[Any]) -> list[Any]:
        """The cotangent of every input (`Zero` where nothing flowed) for the output
        cotangents (None or `Zero` for none)."""
        env: list[Any] = [None] * self.tape.nslots
        add = ad.add_tangents
        for slot, ct in zip(self.out_slots, cotangents):
            if slot < 0 or ct is None or type(ct) is Zero:
                continue
            prev = env[slot]
            env[slot] = ct if prev is None else add(prev, ct)
        state = core._state
        check = core.flags.check_nans
        previous_info, previous_override = state.source_info, state.source_override
        try:
            for rule, params, primals, ans, parents, first, n, source in reversed(self.tape.nodes):
                if n == 0:  # a primitive with one result
                    ct = env[first]
                    if ct is None:
                        continue
                    ct_arg: Any = ct
                else:
                    cts = env[first : first + n]
                    if all(c is None for c in cts):
                        continue
                    ct_arg = [
                        Zero(ad.tangent_aval(core.get_aval(a))) if c is None else c
                        for c, a in zip(cts, ans)
                    ]
                if check:
                    state.source_info = state.source_override = source
                cts_in = rule(ct_arg, ans, primals, parents, params)
                for s, c in zip(parents, cts_in):
                    if s < 0 or c is None or type(c) is Zero:
                        continue
                    prev = env[s]
                    env[s] = c if prev is None else add(prev, c)
        finally:
            state.source_info = previous_info
            state.source_override = previous_override
        out = []
        for s, p in zip(self.in_slots, self.primals):
            ct = env[s] if s >= 0 else None
            out.append(Zero(ad.tangent_aval(core.get_aval(p))) if ct is None else ct)
        return out


def tape_linearize(
    fun: Callable[..., Sequence[Any]], primals: Sequence[Any], differentiable: Sequence[bool]
) -> tuple[list[Any], TapeLinear]:
    """Run `fun` once on the tape: its outputs, and its pullback."""
    with core.new_main(TapeTrace, _Tape()) as main:
        trace = main.trace = TapeTrace(main)
        tape = main.payload
        ins, in_slots = [], []
        for p, d in zip(primals, differentiable):
            slot = -1
            if d:
                slot = tape.nslots
                tape.nslots += 1
            in_slots.append(slot)
            ins.append(TapeTracer(trace, p, slot))
        outs = fun(*ins)
        out_primals, out_slots = [], []
        for o in outs:
            t = o if type(o) is TapeTracer and o._trace is trace else trace.full_raise(o)
            out_primals.append(t.primal)
            out_slots.append(t.slot)
    return out_primals, TapeLinear(tape, out_slots, in_slots, primals)


def usable() -> bool:
    """Whether `grad` may run on the tape now: outside any transformation (their
    arguments must be concrete values too; see `reverse_linearize`)."""
    return switch.enabled and len(core._state.stack) == 1


def reverse_linearize(
    fun: Callable[..., Sequence[Any]], primals: Sequence[Any], differentiable: Sequence[bool]
) -> tuple[list[Any], Any]:
    """Run `fun` forward once for reverse mode: ``(outputs, linear)``, where
    ``linear.transpose(cts)`` pulls output cotangents back to the inputs and
    ``linear.out_zero`` marks the outputs that carry no derivative.

    The one place that chooses: the tape on concrete values outside any transformation, the
    general path (`ad.linearize_flat`) otherwise."""
    if usable():
        for p in primals:
            if isinstance(p, Tracer):
                break
        else:
            return tape_linearize(fun, primals, differentiable)
    return ad.linearize_flat(fun, primals, differentiable)
