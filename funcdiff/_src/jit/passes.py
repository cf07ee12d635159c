"""Optimisation passes on closed jaxprs, run by `jit` before lowering.

Each pass is a small function ``ClosedJaxpr -> ClosedJaxpr`` that keeps the program's meaning:
inlining of nested jit calls, constant folding, algebraic simplification (the identities that
derivative code is full of), common-subexpression elimination, dead-code elimination, and
`sink`, which reorders equations so that fewer arrays are alive at once. `optimize` runs them
in order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.config import config
from funcdiff._src.core import ClosedJaxpr, Jaxpr, JaxprEqn, Literal, Var
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.interpreters import simplify_rules
from funcdiff._src.interpreters.lowering_rules import inlinable_calls, ufunc_prims

Atom = core.Atom


# The calls inlined before lowering: `lowering_rules.inlinable_calls`, keyed by primitive and
# filled where each call primitive is defined.


def _is_call(eqn: JaxprEqn) -> bool:
    param = inlinable_calls.get(eqn.primitive)
    return param is not None and param in eqn.params


def _callee(eqn: JaxprEqn) -> ClosedJaxpr:
    return eqn.params[inlinable_calls[eqn.primitive]]


# ---- inlining -------------------------------------------------------------------------------


def inline_calls(closed: ClosedJaxpr) -> ClosedJaxpr:
    """Replace nested calls (`jit`, `checkpoint`, custom-derivative functions) by the
    equations of their jaxprs."""
    if inlinable_calls.keys().isdisjoint([e.primitive for e in closed.jaxpr.eqns]) or not any(
        _is_call(e) for e in closed.jaxpr.eqns
    ):
        return closed
    return flatten_calls(closed, _is_call)[0]


def flatten_calls(
    closed: ClosedJaxpr, is_call: Callable[[JaxprEqn], bool]
) -> tuple[ClosedJaxpr, list[tuple[int, ...]], list[JaxprEqn]]:
    """Inline the calls for which `is_call` holds (their primitive must be in
    `inlinable_calls`), recursively. Returns the flat program, and where each of its equations
    came from: ``origins[i]`` is the path of call instances equation ``i`` was inlined from,
    outermost first, a call instance being an index into ``calls``, the inlined call equations
    in the order they were met (a function called twice is two instances)."""
    jaxpr = closed.jaxpr
    constvars, consts = list(jaxpr.constvars), list(closed.consts)
    eqns: list[JaxprEqn] = []
    origins: list[tuple[int, ...]] = []
    calls: list[JaxprEqn] = []
    env: dict[Var, Atom] = {}

    def read(a: Atom) -> Atom:
        return env.get(a, a) if type(a) is Var else a

    # Entries are (equation, path, marker); the path is non-empty inside an inlined callee.
    stack: list[tuple[JaxprEqn, tuple[int, ...], Any]] = [
        (e, (), None) for e in reversed(jaxpr.eqns)
    ]
    while stack:
        eqn, path, sub = stack.pop()
        if sub is not None:  # a marker: bind the inlined call's outputs
            outvars, inner_outs = sub
            for v, a in zip(outvars, inner_outs):
                env[v] = read(a)
            continue
        invars = [read(a) for a in eqn.invars]
        if is_call(eqn):
            inner: ClosedJaxpr = _callee(eqn)
            ij = inner.jaxpr
            for v, c in zip(ij.constvars, inner.consts):
                fresh = Var(v.aval)
                constvars.append(fresh)
                consts.append(c)
                env[v] = fresh
            for v, a in zip(ij.invars, invars):
                env[v] = a
            inner_path = (*path, len(calls))
            calls.append(eqn)
            # After the callee's equations, its outputs stand for the call's (a marker).
            stack.append((eqn, path, (eqn.outvars, ij.outvars)))
            stack.extend((e, inner_path, None) for e in reversed(ij.eqns))
            continue
        if path:
            # A callee may be inlined more than once (a jitted function called twice): each
            # copy of its equations defines fresh variables.
            fresh_outs = [Var(v.aval) for v in eqn.outvars]
            for v, f in zip(eqn.outvars, fresh_outs):
                env[v] = f
            eqns.append(eqn.replace(invars=invars, outvars=fresh_outs))
        else:
            eqns.append(eqn.replace(invars=invars))
        origins.append(path)
    outvars = [read(a) for a in jaxpr.outvars]
    flat = ClosedJaxpr(Jaxpr(constvars, list(jaxpr.invars), eqns, outvars), consts)
    return flat, origins, calls


# ---- constant folding -----------------------------------------------------------------------

_FOLD_MAX_ELEMENTS = 1 << 16


def fold_constants(closed: ClosedJaxpr, dce: bool = True) -> ClosedJaxpr:
    """Evaluate equations whose inputs are all constants, when the result is not much larger
    than its inputs (folding a broadcast into a huge constant would only cost memory)."""
    jaxpr = closed.jaxpr
    known: dict[Var, Any] = {
        v: c for v, c in zip(jaxpr.constvars, closed.consts) if not isinstance(c, core.Tracer)
    }
    constvars, consts = list(jaxpr.constvars), list(closed.consts)
    env: dict[Var, Atom] = {}
    eqns = []
    for eqn in jaxpr.eqns:
        invars = eqn.invars
        if env and not env.keys().isdisjoint(invars):  # (a set test first: runs per equation)
            invars = [env.get(a, a) if type(a) is Var else a for a in invars]
            eqn = eqn.replace(invars=invars)
        for a in invars:  # (a loop, not `all(...)`: this runs for every equation)
            if type(a) is not Literal and a not in known:
                foldable = False
                break
        else:
            foldable = True
        foldable = (
            foldable
            and eqn.primitive not in pe.effectful
            and not _is_call(eqn)
            # A broadcast is a free view at run time; as a constant it would cost memory and
            # hide the scalar from `simplify`.
            and eqn.primitive not in simplify_rules.not_folded
        )
        if foldable:
            in_size = max([np.size(_value(a, known)) for a in invars] or [1])
            out_size = sum(v.aval.size for v in eqn.outvars)
            if (
                out_size <= max(in_size, _FOLD_MAX_ELEMENTS // 64)
                and out_size <= _FOLD_MAX_ELEMENTS
            ):
                vals = [_value(a, known) for a in invars]
                out = eqn.primitive.impl(*vals, **eqn.params)  # type: ignore[misc]
                outs = out if eqn.primitive.multiple_results else [out]
                for v, val in zip(eqn.outvars, outs):
                    if np.ndim(val) == 0:
                        # A weakly typed scalar stays a Python scalar: as a NumPy value it
                        # would promote the arrays it meets at run time (f32 % f64 is f64).
                        val = np.asarray(val, v.aval.dtype)[()]
                        env[v] = Literal(val.item() if v.aval.weak_type else val, v.aval)
                    else:
                        fresh = Var(v.aval)
                        constvars.append(fresh)
                        consts.append(np.asarray(val, v.aval.dtype))
                        known[fresh] = consts[-1]
                        env[v] = fresh
                continue
        eqns.append(eqn)
    outvars = [env.get(a, a) if type(a) is Var else a for a in jaxpr.outvars]
    out = ClosedJaxpr(Jaxpr(constvars, list(jaxpr.invars), eqns, outvars), consts)
    return pe.dce_jaxpr(out) if dce else out


def _value(a: Atom, known: dict[Var, Any]) -> Any:
    return a.val if type(a) is Literal else known[a]


# ---- algebraic simplification ---------------------------------------------------------------


def _simplify_eqn(
    eqn: JaxprEqn, ins: list[Atom], producers: dict[Var, JaxprEqn], uses: _ReadCounts
) -> Atom | JaxprEqn | list[JaxprEqn] | None:
    """An atom that replaces the equation's single output, a cheaper equation, or None."""
    rule = simplify_rules.simplify_rules.get(eqn.primitive)
    if rule is None or len(eqn.outvars) != 1:
        return None
    return rule(eqn, ins, producers, uses, eqn.outvars[0])


def simplify(closed: ClosedJaxpr, dce: bool = True) -> ClosedJaxpr:
    """Apply algebraic identities: ``x*1``, ``x+0``, ``x*0``, ``--x``, transposes of
    transposes, no-op broadcasts, reshapes and casts, sums over size-1 axes, scalars
    broadcast into elementwise operations, and diagonal matrix products.

    ``x * 0`` becomes ``0`` as for finite `x` (IEEE arithmetic would give NaN for an infinite
    or NaN `x`, and ``-0.0`` for a negative one); derivative code multiplies by literal zeros
    where a value does not depend on an input."""
    jaxpr = closed.jaxpr
    env: dict[Var, Atom] = {}
    producers: dict[Var, JaxprEqn] = {}
    uses = _ReadCounts(jaxpr)
    identities = {v for v, c in zip(jaxpr.constvars, closed.consts) if _is_identity(c)}
    eqns: list[JaxprEqn] = []
    late_rules = simplify_rules.late_simplify_rules
    rules = simplify_rules.simplify_rules
    for eqn in jaxpr.eqns:
        ins = eqn.invars
        if env and not env.keys().isdisjoint(ins):  # (a set test first: this runs per equation)
            ins = [env.get(a, a) if type(a) is Var else a for a in ins]
            eqn = eqn.replace(invars=ins)
        rule = rules.get(eqn.primitive)  # `_simplify_eqn`, inlined
        result = (
            None
            if rule is None or len(eqn.outvars) != 1
            else rule(eqn, ins, producers, uses, eqn.outvars[0])
        )
        if result is None and eqn.primitive not in late_rules:  # the common case
            eqns.append(eqn)
            for v in eqn.outvars:
                producers[v] = eqn
            continue
        for _ in range(3):  # a rewritten equation may simplify further
            if isinstance(result, list):  # new equations, the last of which gives the result
                for new in result[:-1]:
                    eqns.append(new)
                    producers[new.outvars[0]] = new
                result = result[-1]
            if not isinstance(result, JaxprEqn):
                break
            again = _simplify_eqn(result, result.invars, producers, uses)
            if again is None:
                break
            result = again
        candidate = result if isinstance(result, JaxprEqn) else eqn if result is None else None
        late = (
            None
            if candidate is None
            else simplify_rules.late_simplify_rules.get(candidate.primitive)
        )
        if late is not None:
            diagonal = late(candidate, producers, identities, uses)
            if diagonal is not None:
                eqns.extend(diagonal[:-1])
                result = diagonal[-1]
        if isinstance(result, JaxprEqn):
            eqn, result = result, None
        if result is not None:
            env[eqn.outvars[0]] = result
            continue
        eqns.append(eqn)
        for v in eqn.outvars:
            producers[v] = eqn
    outvars = [env.get(a, a) if type(a) is Var else a for a in jaxpr.outvars]
    out = ClosedJaxpr(
        Jaxpr(list(jaxpr.constvars), list(jaxpr.invars), eqns, outvars), closed.consts
    )
    return pe.dce_jaxpr(out) if dce else out


class _ReadCounts:
    """How many times each variable of the program as given is read (the counts of
    `core.variable_uses`), counted on the first question: few rules ask (a transpose of a
    product read once), and most programs have no equation whose rule does."""

    __slots__ = ("_jaxpr", "_counts")

    def __init__(self, jaxpr: Jaxpr) -> None:
        self._jaxpr = jaxpr
        self._counts: dict[Var, int] | None = None

    def get(self, v: Var, default: int | None = None) -> int | None:
        counts = self._counts
        if counts is None:
            counts = self._counts = core.variable_uses(self._jaxpr)[1]
        return counts.get(v, default)


def _is_identity(c: Any) -> bool:
    if isinstance(c, core.Tracer) or np.ndim(c) != 2 or np.shape(c)[0] != np.shape(c)[1]:
        return False
    c = np.asarray(c)
    return bool(np.array_equal(c, np.eye(c.shape[0], dtype=c.dtype)))


# ---- common-subexpression elimination -------------------------------------------------------


def _hashable_param(v: Any) -> Any:
    try:
        hash(v)
        return v
    except TypeError:
        return ("id", id(v))


def _atom_key(a: Atom) -> Any:
    if type(a) is Literal:
        v = a.val
        # Floats by their text: 0.0 == -0.0, yet copysign and atan2 tell them apart.
        return (
            "lit",
            type(v),
            v if type(v) in (int, bool) else repr(v),
            a.aval.dtype,
            a.aval.weak_type,
        )
    return a


def cse(closed: ClosedJaxpr) -> ClosedJaxpr:
    """Reuse the result of an identical earlier equation (same primitive, inputs, params)."""
    jaxpr = closed.jaxpr
    env: dict[Var, Atom] = {}
    seen: dict[Any, JaxprEqn] = {}
    eqns: list[JaxprEqn] = []
    # Keys of literals, by identity: tracing shares one literal between equations (every
    # `* 0.9` of a loop), and the pass keeps them all alive while it runs.
    literal_keys: dict[int, Any] = {}

    def literal_key(a: Literal) -> Any:
        key = literal_keys[id(a)] = _atom_key(a)
        return key

    effectful = pe.effectful
    for eqn in jaxpr.eqns:
        ins = eqn.invars
        if env and not env.keys().isdisjoint(ins):  # (a set test first: this runs per equation)
            ins = [env.get(a, a) for a in ins]
            eqn = eqn.replace(invars=ins)
        if eqn.primitive not in effectful:
            params = eqn.params
            pkey = (
                tuple([(k, _hashable_param(params[k])) for k in sorted(params)]) if params else ()
            )
            # The key: (primitive, *operand keys, params); one or two operands (the common
            # cases) without building a list.
            if len(ins) == 2:
                x, y = ins
                key = (
                    eqn.primitive,
                    x if type(x) is Var else literal_keys.get(id(x)) or literal_key(x),
                    y if type(y) is Var else literal_keys.get(id(y)) or literal_key(y),
                    pkey,
                )
            elif len(ins) == 1 and type(ins[0]) is Var:
                key = (eqn.primitive, ins[0], pkey)
            else:
                atoms = [
                    a if type(a) is Var else literal_keys.get(id(a)) or literal_key(a) for a in ins
                ]
                key = (eqn.primitive, *atoms, pkey)
            prev = seen.setdefault(key, eqn)  # (one lookup of the key, not two)
            if prev is not eqn:
                for v, p in zip(eqn.outvars, prev.outvars):
                    env[v] = p
                continue
        eqns.append(eqn)
    outvars = [env.get(a, a) if type(a) is Var else a for a in jaxpr.outvars]
    return ClosedJaxpr(
        Jaxpr(list(jaxpr.constvars), list(jaxpr.invars), eqns, outvars), closed.consts
    )


def dce(closed: ClosedJaxpr) -> ClosedJaxpr:
    """Drop equations whose results are unused."""
    return pe.dce_jaxpr(closed)


# ---- scheduling -----------------------------------------------------------------------------


# Results read within this many equations stay where they are: moving them would save little
# memory, and the pass (which runs on every program jit compiles) nothing to do.
_SINK_DISTANCE = 16


def sink(closed: ClosedJaxpr) -> ClosedJaxpr:
    """Compute each elementwise result as late as it can be without keeping any other array
    alive longer: an elementwise equation whose inputs stay alive after it anyway (read again
    later, or the program's inputs) is deferred until the first equation that reads its
    result, or until one of its inputs is read for the last time, whichever comes first.
    Results read within `_SINK_DISTANCE` equations stay where they are.

    Reverse mode computes the derivative of each layer's activation (``1 - tanh(z)**2``) in
    the forward pass and keeps it until the backward pass reaches that layer, next to the
    activation itself, which the weight gradient reads too: two arrays per layer. Deferred, the
    derivative is computed from the activation when the activation is read for the last time,
    right before it is needed: one array per layer, as in backpropagation written by hand.
    Only the order changes; no equation is added, removed or recomputed."""
    schedule = _Schedule(closed.jaxpr)
    if not schedule.worth_it():
        return closed  # nothing to move far enough to matter
    jaxpr = closed.jaxpr
    return ClosedJaxpr(
        Jaxpr(list(jaxpr.constvars), list(jaxpr.invars), schedule.run(), list(jaxpr.outvars)),
        closed.consts,
    )


class _Schedule:
    """`sink`'s walk: the equations in their new order, built in `order`, with the deferred
    ones waiting in `deferred` (by output) and `readers` (the deferred equations' outputs, by
    each input that may die)."""

    def __init__(self, jaxpr: Jaxpr) -> None:
        self.eqns = jaxpr.eqns
        self.end = len(self.eqns)
        self.first_read: dict[Var, int] = {}
        self.last_read = core.variable_uses(jaxpr, self.first_read)[0]
        # Variables that live to the end anyway: inputs, constants and outputs.
        permanent = set(jaxpr.invars) | set(jaxpr.constvars)
        permanent.update(v for v in jaxpr.outvars if type(v) is Var)
        for v in permanent:
            self.last_read[v] = self.end
        self.permanent = permanent
        self.deferred: dict[Var, JaxprEqn] = {}
        self.readers: dict[Var, list[Var]] = {}
        self.order: list[JaxprEqn] = []
        self.now = 0  # the position in the original order

    def far(self, eqn: JaxprEqn, i: int) -> bool:
        """Its result is read, and each input dies, only more than _SINK_DISTANCE later (an
        input read here only may be a link of a chain that moves along)."""
        last_read, limit = self.last_read, i + _SINK_DISTANCE
        if self.first_read.get(eqn.outvars[0], self.end) <= limit:
            return False
        for a in eqn.invars:  # (a loop, not `all(...)`: this runs for most equations)
            if type(a) is Var and last_read[a] <= limit and last_read[a] != i:
                return False
        return True

    def worth_it(self) -> bool:
        return any(
            eqn.primitive in ufunc_prims and len(eqn.outvars) == 1 and self.far(eqn, i)
            for i, eqn in enumerate(self.eqns)
        )

    def lives_on(self, a: Atom, i: int) -> bool:
        if type(a) is not Var:
            return True
        if a in self.deferred:  # a deferred chain: moves along with its one reader
            return self.last_read[a] == self.first_read[a] == i
        return self.last_read[a] > i

    def deferrable(self, eqn: JaxprEqn, i: int) -> bool:
        """Elementwise, inputs alive after it anyway, and read much later (or right away by
        the next link of a chain that is deferred too)."""
        out = eqn.outvars
        if eqn.primitive not in ufunc_prims or len(out) != 1 or out[0] in self.permanent:
            return False
        deferred, last_read = self.deferred, self.last_read
        for a in eqn.invars:  # `lives_on`, inlined: this runs for every elementwise equation
            if type(a) is Var:
                if a in deferred:
                    if not last_read[a] == self.first_read[a] == i:
                        return False
                elif last_read[a] <= i:
                    return False
        if self.far(eqn, i):
            return True
        following = self.eqns[i + 1] if i + 1 < self.end else None
        if (
            following is None
            or following.primitive not in ufunc_prims
            or last_read.get(out[0]) != i + 1
        ):
            return False
        for a in following.invars:  # (a loop, not `all(...)`: a generator per equation)
            if a is not out[0] and not self.lives_on(a, i + 1):
                return False
        return True

    def emit(self, eqn: JaxprEqn) -> None:
        deferred, readers = self.deferred, self.readers
        if deferred and not deferred.keys().isdisjoint(eqn.invars):
            for a in eqn.invars:  # deferred producers first
                if type(a) is Var and a in deferred:
                    self.emit(deferred.pop(a))
        self.order.append(eqn)
        if readers and not (
            readers.keys().isdisjoint(eqn.invars) and readers.keys().isdisjoint(eqn.outvars)
        ):
            # A variable read for the last time (in the original order) would die here but
            # for the deferred equations reading it: run them now.
            for vs in (eqn.invars, eqn.outvars):
                for v in vs:
                    if type(v) is Var and v in readers and self.last_read.get(v, -1) <= self.now:
                        for w in readers.pop(v):
                            if w in deferred:
                                self.emit(deferred.pop(w))

    def run(self) -> list[JaxprEqn]:
        deferred, readers, order, last_read = (
            self.deferred,
            self.readers,
            self.order,
            self.last_read,
        )
        for i, eqn in enumerate(self.eqns):
            self.now = i
            candidate = eqn.primitive in ufunc_prims
            if candidate:
                # `deferrable`'s first test without the call: most equations are the last
                # reader of an input (an input that dies here keeps it where it is).
                for a in eqn.invars:
                    if type(a) is Var and last_read[a] <= i and a not in deferred:
                        candidate = False
                        break
            if candidate and self.deferrable(eqn, i):
                out = eqn.outvars[0]
                deferred[out] = eqn
                for a in eqn.invars:
                    if type(a) is Var and a not in self.permanent:  # permanent: never die
                        readers.setdefault(a, []).append(out)
            elif (deferred and not deferred.keys().isdisjoint(eqn.invars)) or (
                readers
                and not (
                    readers.keys().isdisjoint(eqn.invars) and readers.keys().isdisjoint(eqn.outvars)
                )
            ):
                self.emit(eqn)  # it runs deferred equations first, or after
            else:
                order.append(eqn)  # (`emit`'s common case, inlined: it runs per equation)
        self.now = self.end
        for v in list(deferred):  # results read by nothing emitted (dead code): keep them
            if v in deferred:
                self.emit(deferred.pop(v))
        return self.order


_PASSES: list[tuple[str, Callable[[ClosedJaxpr], ClosedJaxpr]]] = [
    ("inline_calls", inline_calls),
    ("fold_constants", lambda c: fold_constants(c, dce=False)),
    ("simplify", lambda c: simplify(c, dce=False)),
    ("cse", cse),
    ("dce", dce),
    ("sink", sink),
]


def optimize(closed: ClosedJaxpr) -> ClosedJaxpr:
    """All passes, in order: inline, fold, simplify, CSE, DCE, sink. With the `check_passes`
    setting, the program is type-checked after each pass."""
    check = config.read("check_passes")
    for name, run in _PASSES:
        closed = run(closed)
        if check:
            try:
                core.typecheck_jaxpr(closed.jaxpr)
            except TypeError as e:
                raise AssertionError(
                    f"the jit pass {name} produced an ill-formed program: {e}\n{closed}"
                ) from None
    return closed
