"""Optimisation passes on closed jaxprs, run by `jit` before lowering.

Each pass is a small function ``ClosedJaxpr -> ClosedJaxpr`` that keeps the program's meaning:
inlining of nested jit calls, constant folding, algebraic simplification (the identities that
derivative code is full of), common-subexpression elimination, dead-code elimination, and
`sink`, which reorders equations so that fewer arrays are alive at once. `optimize` runs them
in order.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.config import config
from funcdiff._src.core import ClosedJaxpr, Jaxpr, JaxprEqn, Literal, Var
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.interpreters.lowering_rules import inlinable_calls, ufunc_prims
from funcdiff._src.lax import structural

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
    jaxpr = closed.jaxpr
    if not any(_is_call(e) for e in jaxpr.eqns):
        return closed
    constvars, consts = list(jaxpr.constvars), list(closed.consts)
    eqns: list[JaxprEqn] = []
    env: dict[Var, Atom] = {}

    def read(a: Atom) -> Atom:
        return env.get(a, a) if type(a) is Var else a

    # Entries are (equation, depth, marker); depth > 0 for equations of an inlined callee.
    stack: list[tuple[JaxprEqn, int, Any]] = [(e, 0, None) for e in reversed(jaxpr.eqns)]
    while stack:
        eqn, depth, sub = stack.pop()
        if sub is not None:  # a marker: bind the inlined call's outputs
            outvars, inner_outs = sub
            for v, a in zip(outvars, inner_outs):
                env[v] = read(a)
            continue
        invars = [read(a) for a in eqn.invars]
        if _is_call(eqn):
            inner: ClosedJaxpr = _callee(eqn)
            ij = inner.jaxpr
            for v, c in zip(ij.constvars, inner.consts):
                fresh = Var(v.aval)
                constvars.append(fresh)
                consts.append(c)
                env[v] = fresh
            for v, a in zip(ij.invars, invars):
                env[v] = a
            # After the callee's equations, its outputs stand for the call's (a marker).
            stack.append((eqn, depth, (eqn.outvars, ij.outvars)))
            stack.extend((e, depth + 1, None) for e in reversed(ij.eqns))
            continue
        if depth:
            # A callee may be inlined more than once (a jitted function called twice): each
            # copy of its equations defines fresh variables.
            fresh_outs = [Var(v.aval) for v in eqn.outvars]
            for v, f in zip(eqn.outvars, fresh_outs):
                env[v] = f
            eqns.append(eqn.replace(invars=invars, outvars=fresh_outs))
        else:
            eqns.append(eqn.replace(invars=invars))
    outvars = [read(a) for a in jaxpr.outvars]
    return ClosedJaxpr(Jaxpr(constvars, list(jaxpr.invars), eqns, outvars), consts)


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
        if env:
            substituted = [env.get(a, a) if type(a) is Var else a for a in invars]
            if substituted != invars:
                invars = substituted
                eqn = eqn.replace(invars=invars)
        foldable = (
            all(type(a) is Literal or a in known for a in invars)
            and eqn.primitive not in pe.effectful
            and not _is_call(eqn)
            # A broadcast is a free view at run time; as a constant it would cost memory and
            # hide the scalar from `simplify`.
            and eqn.primitive.name != "broadcast_in_dim"
        )
        if foldable:
            in_size = max([np.size(_value(a, known)) for a in invars] or [1])
            out_size = sum(v.aval.size for v in eqn.outvars)
            if out_size <= max(in_size, _FOLD_MAX_ELEMENTS // 64) and out_size <= \
                    _FOLD_MAX_ELEMENTS:
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


def _number(a: Atom) -> Any:
    """The value of a scalar literal as a Python number; None for anything else."""
    if type(a) is not Literal:
        return None
    v = a.val
    if type(v) in (int, float, bool):
        return v
    try:
        return np.asarray(v).item()
    except (TypeError, ValueError):
        return None


def _same_type(a: Atom, out: Var) -> bool:
    return a.aval.shape == out.aval.shape and a.aval.dtype == out.aval.dtype


# ``rule(eqn, ins, producers, uses, out) -> Atom | JaxprEqn | list[JaxprEqn] | None``: an
# atom that replaces the equation's single output `out`, a cheaper equation (or several, the
# last computing `out`), or None.
Simplifier = Callable[[JaxprEqn, list[Atom], dict[Var, JaxprEqn], dict[Var, int], Var],
                      "Atom | JaxprEqn | None"]
_SIMPLIFIERS: dict[str, Simplifier] = {}


def _simplifies(*names: str) -> Callable[[Simplifier], Simplifier]:
    def register(rule: Simplifier) -> Simplifier:
        for name in names:
            _SIMPLIFIERS[name] = rule
        return rule

    return register


def _simplify_eqn(eqn: JaxprEqn, ins: list[Atom], producers: dict[Var, JaxprEqn],
                  uses: dict[Var, int]) -> Atom | JaxprEqn | None:
    """An atom that replaces the equation's single output, a cheaper equation, or None."""
    rule = _SIMPLIFIERS.get(eqn.primitive.name)
    if rule is None or len(eqn.outvars) != 1:
        return None
    return rule(eqn, ins, producers, uses, eqn.outvars[0])


# Identity elements of arithmetic, (left, right): ``e op y == y`` and ``x op e == x``.
_IDENTITIES = {"add": (0, 0), "add_any": (0, 0), "sub": (None, 0), "mul": (1, 1),
               "div": (None, 1)}


@_simplifies(*_IDENTITIES)
def _simplify_arithmetic(eqn, ins, producers, uses, out):
    scalars = _broadcast_scalars(eqn, ins, producers, out)
    if scalars is not None:
        return scalars
    narrowed = _unbroadcast_operands(eqn, ins, producers, out)
    if narrowed is not None:
        return narrowed
    x, y = ins
    xv, yv = _number(x), _number(y)
    left, right = _IDENTITIES[eqn.primitive.name]
    if yv is not None and yv == right and _same_type(x, out):
        return x
    if xv is not None and xv == left and _same_type(y, out):
        return y
    if (eqn.primitive.name == "mul" and (xv == 0 or yv == 0) and out.aval.size
            and out.aval.dtype.kind in "fc"):
        return _zeros_literal_or_none(out)
    if eqn.primitive.name == "mul":
        return _absorb_negation(eqn, ins, producers, out)
    if eqn.primitive.name in ("add", "add_any"):
        return _sum_before_padding(eqn, ins, producers, out)
    return None


@_simplifies("max", "min", "pow", "atan2")
def _simplify_broadcasting(eqn, ins, producers, uses, out):
    return _unbroadcast_operands(eqn, ins, producers, out)


@_simplifies("neg")
def _simplify_neg(eqn, ins, producers, uses, out):
    (x,) = ins
    prev = producers.get(x) if type(x) is Var else None
    if prev is not None and prev.primitive.name == "neg":
        return prev.invars[0]
    if prev is not None and prev.primitive.name == "mul" and out.aval.dtype.kind in "fc":
        # -(c * y) is (-c) * y, exactly (IEEE negation only flips the sign).
        for k, c in enumerate(prev.invars):
            other = prev.invars[1 - k]
            if _number(c) is not None and c.aval.shape == () and _same_type(other, out):
                return prev.replace(invars=[_negated(c), other], outvars=[out])
    return None


def _negated(c: Literal) -> Literal:
    return Literal(-c.val, c.aval)


def _absorb_negation(eqn: JaxprEqn, ins: list[Atom], producers: dict[Var, JaxprEqn],
                     out: Var) -> JaxprEqn | None:
    """``c * -y`` is ``(-c) * y``, exactly: no negated copy of `y`. Forward-over-reverse code
    negates and scales the same arrays over and over."""
    if out.aval.dtype.kind not in "fc":
        return None
    for k, c in enumerate(ins):
        y = ins[1 - k]
        if type(c) is not Literal or type(y) is not Var:
            continue
        prev = producers.get(y)
        if prev is None or prev.primitive.name not in ("neg", "mul") or c.aval.shape != ():
            continue
        if _number(c) is None:
            continue
        if prev.primitive.name == "neg" and _same_type(prev.invars[0], out):
            return eqn.replace(invars=[_negated(c), prev.invars[0]])
        if prev.primitive.name == "mul":
            scaled = _merge_scales(eqn, c, prev, out)
            if scaled is not None:
                return scaled
    return None


def _merge_scales(eqn: JaxprEqn, c: Literal, inner: JaxprEqn, out: Var) -> JaxprEqn | None:
    """``c * (d * y)`` is ``(c * d) * y`` when one of the factors is a power of two at least 1:
    scaling by it is exact (short of overflow, which both forms reach alike), so both round
    the same way."""
    for k, d in enumerate(inner.invars):
        y = inner.invars[1 - k]
        dv = _number(d)
        if dv is None or d.aval.shape != () or not _same_type(y, out):
            continue
        cv = _number(c)
        if not (_exact_scale(cv) or _exact_scale(dv)):
            return None
        with np.errstate(all="ignore"):
            value = np.asarray(cv, out.aval.dtype) * np.asarray(dv, out.aval.dtype)
        if not np.isfinite(value):  # c * d overflows where c * (d * y) may not
            return None
        weak = c.aval.weak_type and d.aval.weak_type  # Python scalars stay Python scalars
        literal = Literal(value.item() if weak else value[()],
                          core.ShapedArray((), out.aval.dtype, weak))
        return eqn.replace(invars=[literal, y])
    return None


def _exact_scale(v: Any) -> bool:
    if type(v) is complex or not math.isfinite(v) or abs(v) < 1:
        return False
    return math.frexp(v)[0] in (0.5, -0.5)


def _scalar_literal(a: Atom, producers: dict[Var, JaxprEqn]) -> Literal | None:
    """The scalar literal `a` is, or is a broadcast of; None otherwise."""
    if type(a) is Var:
        prev = producers.get(a)
        if prev is None or prev.primitive.name != "broadcast_in_dim":
            return None
        a = prev.invars[0]
    return a if type(a) is Literal and a.aval.shape == () else None


def _broadcast_scalars(eqn: JaxprEqn, ins: list[Atom], producers: dict[Var, JaxprEqn],
                       out: Var) -> JaxprEqn | None:
    """Arithmetic on broadcast scalars (``100.0 * broadcast(1.0)``, as reverse mode seeds and
    scales a cotangent) is the broadcast of one scalar, computed now."""
    if out.aval.shape == ():
        return None
    scalars = []
    for a in ins:
        c = _scalar_literal(a, producers)
        if c is None:
            return None
        scalars.append(c)
    vals = [np.asarray(c.val, c.aval.dtype) for c in scalars]
    with np.errstate(all="ignore"):  # 1 / 0 is inf here as at run time, without a warning
        value = np.asarray(eqn.primitive.impl(*vals), out.aval.dtype)  # type: ignore[misc]
    weak = out.aval.weak_type
    literal = Literal(value.item() if weak else value[()],
                      core.ShapedArray((), out.aval.dtype, weak))
    return JaxprEqn(structural.broadcast_in_dim_p, [literal], [out],
                    {"shape": out.aval.shape, "broadcast_dimensions": ()}, eqn.source_info)


def _zero_signs(v: Any) -> tuple[bool, bool]:
    """The signs of a zero's real and imaginary parts (signbit takes no complex numbers)."""
    return bool(np.signbit(np.real(v))), bool(np.signbit(np.imag(v)))


def _sum_before_padding(eqn: JaxprEqn, ins: list[Atom], producers: dict[Var, JaxprEqn],
                        out: Var) -> list[JaxprEqn] | None:
    """``pad(a) + pad(b)``, both padded alike with zeros, is ``pad(a + b)``: one padded
    array instead of two (the transpose of slicing, as in ``x[1:] - x[:-1]``, pads)."""
    pads = []
    for a in ins:
        p = producers.get(a) if type(a) is Var else None
        if p is None or p.primitive.name != "pad":
            return None
        pads.append(p)
    (a, za), (b, zb) = pads[0].invars, pads[1].invars
    if (pads[0].params != pads[1].params or a.aval != b.aval or _number(za) != 0
            or _number(zb) != 0 or za.aval.dtype != out.aval.dtype
            or _zero_signs(za.val) != _zero_signs(zb.val)):  # -0.0 + 0.0 is 0.0
        return None
    total = Var(a.aval)
    return [eqn.replace(invars=[a, b], outvars=[total]),
            pads[0].replace(invars=[total, za], outvars=[out])]


@_simplifies("reshape", "squeeze", "expand_dims", "convert_element_type", "broadcast_in_dim")
def _simplify_noop_reshape(eqn, ins, producers, uses, out):
    x = ins[0]
    if _same_type(x, out) and (eqn.primitive.name != "broadcast_in_dim" or eqn.params[
            "broadcast_dimensions"] == tuple(range(out.aval.ndim))):
        return x
    return None


@_simplifies("dot_general")
def _simplify_dot_general(eqn, ins, producers, uses, out):
    return _absorb_transposes(eqn, ins, producers)


@_simplifies("integer_pow")
def _simplify_integer_pow(eqn, ins, producers, uses, out):
    return ins[0] if eqn.params["y"] == 1 else None


@_simplifies("transpose")
def _simplify_transpose(eqn, ins, producers, uses, out):
    (x,) = ins
    perm = eqn.params["permutation"]
    if perm == tuple(range(len(perm))):
        return x
    prev = producers.get(x) if type(x) is Var else None
    if prev is not None and prev.primitive.name == "dot_general" and uses.get(x) == 1:
        swapped = _swap_dot_general(prev, perm, out)
        if swapped is not None:
            return swapped
    if prev is not None and prev.primitive.name == "transpose":
        inner = prev.params["permutation"]
        composed = tuple(inner[p] for p in perm)
        if composed == tuple(range(len(composed))):
            return prev.invars[0]
        return eqn.replace(invars=[prev.invars[0]], params={"permutation": composed})
    return None


@_simplifies("reduce_sum")
def _simplify_reduce_sum(eqn, ins, producers, uses, out):
    (x,) = ins
    axes = eqn.params["axes"]
    if not axes:
        return x
    if all(x.aval.shape[a] == 1 for a in axes):
        return eqn.replace(primitive=structural.reshape_p, invars=[x],
                           params={"new_sizes": out.aval.shape})
    return None


def _unbroadcast_operands(eqn: JaxprEqn, ins: list[Atom], producers: dict[Var, JaxprEqn],
                          out: Var) -> JaxprEqn | None:
    """``x * broadcast(s)`` with `x` already of the result's shape is ``x * s``: NumPy
    broadcasts the scalar for free (no broadcast array, and a scalar multiply)."""
    if eqn.primitive.name == "add_any":
        return None
    new = list(ins)
    for k, a in enumerate(ins):
        prev = producers.get(a)
        other = new[1 - k]  # as already rewritten: at most one operand may lose its shape
        if (prev is not None and prev.primitive.name == "broadcast_in_dim"
                and prev.invars[0].aval.shape == () and other.aval.shape == out.aval.shape
                and prev.invars[0].aval.dtype == a.aval.dtype):
            new[k] = prev.invars[0]
    if new == ins:
        return None
    return eqn.replace(invars=new)


def _swap_dot_general(dot: JaxprEqn, perm: tuple[int, ...], out: Var) -> JaxprEqn | None:
    """``transpose(dot_general(x, y))`` that only swaps the free dimensions of x and y is
    ``dot_general(y, x)``: one contraction, no transposed copy."""
    (xc, yc), (xb, yb) = dot.params["dimension_numbers"]
    if xb:
        return None
    x, y = dot.invars
    fx, fy = x.aval.ndim - len(xc), y.aval.ndim - len(yc)
    if perm != tuple(range(fx, fx + fy)) + tuple(range(fx)):
        return None
    return dot.replace(invars=[y, x], outvars=[out],
                       params={**dot.params, "dimension_numbers": ((yc, xc), ((), ()))})


def _absorb_transposes(eqn: JaxprEqn, ins: list[Atom], producers: dict[Var, JaxprEqn]
                       ) -> JaxprEqn | None:
    """``dot_general(transpose(x), y)`` contracts the original `x` with renumbered dimensions,
    when the transpose keeps the order of the free dimensions (so the result is unchanged)."""
    (xc, yc), (xb, yb) = eqn.params["dimension_numbers"]
    dims = [[xc, xb], [yc, yb]]
    new_ins = list(ins)
    changed = False
    for k, a in enumerate(ins):
        prev = producers.get(a) if type(a) is Var else None
        if prev is None or prev.primitive.name != "transpose":
            continue
        perm = prev.params["permutation"]
        c, b = dims[k]
        free = [d for d in range(len(perm)) if d not in c and d not in b]
        if [perm[d] for d in free] != sorted(perm[d] for d in free):
            continue
        dims[k] = [tuple(perm[d] for d in c), tuple(perm[d] for d in b)]
        new_ins[k] = prev.invars[0]
        changed = True
    if not changed:
        return None
    (xc, xb), (yc, yb) = dims
    return eqn.replace(invars=new_ins, params={**eqn.params,
                                               "dimension_numbers": ((xc, yc), (xb, yb))})


def _use_counts(jaxpr: Jaxpr) -> dict[Var, int]:
    uses: dict[Var, int] = {}
    for eqn in jaxpr.eqns:
        for a in eqn.invars:
            if type(a) is Var:
                uses[a] = uses.get(a, 0) + 1
    for a in jaxpr.outvars:
        if type(a) is Var:
            uses[a] = uses.get(a, 0) + 1
    return uses


def _zeros_literal_or_none(out: Var) -> Atom | JaxprEqn | None:
    zero = Literal(np.zeros((), out.aval.dtype)[()], core.ShapedArray((), out.aval.dtype))
    if out.aval.shape == ():
        return zero
    # A broadcast zero: free, and `add`/`sub` consuming it then simplify away.
    return JaxprEqn(structural.broadcast_in_dim_p, [zero], [out],
                    {"shape": out.aval.shape, "broadcast_dimensions": ()})


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
    uses = _use_counts(jaxpr)
    identities = {v for v, c in zip(jaxpr.constvars, closed.consts) if _is_identity(c)}
    eqns: list[JaxprEqn] = []
    for eqn in jaxpr.eqns:
        if env:
            ins = [env.get(a, a) if type(a) is Var else a for a in eqn.invars]
            if ins != eqn.invars:
                eqn = eqn.replace(invars=ins)
        else:
            ins = eqn.invars
        result = _simplify_eqn(eqn, ins, producers, uses)
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
        if candidate is not None and candidate.primitive.name == "dot_general":
            diagonal = _diagonal_matmul(candidate, producers, identities, uses)
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
    out = ClosedJaxpr(Jaxpr(list(jaxpr.constvars), list(jaxpr.invars), eqns, outvars),
                      closed.consts)
    return pe.dce_jaxpr(out) if dce else out


def _is_identity(c: Any) -> bool:
    if isinstance(c, core.Tracer) or np.ndim(c) != 2 or np.shape(c)[0] != np.shape(c)[1]:
        return False
    c = np.asarray(c)
    return bool(np.array_equal(c, np.eye(c.shape[0], dtype=c.dtype)))


def _diagonal_matmul(eqn: JaxprEqn, producers: dict[Var, JaxprEqn], identities: set[Var],
                     uses: dict[Var, int]) -> list[JaxprEqn] | None:
    """``(I * v) @ w``, a diagonal matrix times a matrix (the Jacobian of an elementwise
    function after a linear map, in reverse mode), is ``v[:, None] * w``: no matrix product."""
    (xc, yc), (xb, yb) = eqn.params["dimension_numbers"]
    x, w = eqn.invars
    if xb or xc != (1,) or yc not in ((0,), (1,)) or type(x) is not Var or w.aval.ndim != 2:
        return None
    prev = producers.get(x)
    if prev is None or prev.primitive.name != "mul" or uses.get(x) != 1:
        return None
    a, b = prev.invars
    eye, v = (a, b) if a in identities else (b, a) if b in identities else (None, None)
    if eye is None or v.aval.shape != (eye.aval.shape[1],) or v.aval.dtype != x.aval.dtype:
        return None
    column = Var(core.ShapedArray((v.aval.shape[0], 1), v.aval.dtype))
    new = [JaxprEqn(structural.expand_dims_p, [v], [column], {"dimensions": (1,)},
                    eqn.source_info)]
    if yc == (1,):  # contracting w's second dimension: use the (free) transposed view
        w_t = Var(core.ShapedArray(w.aval.shape[::-1], w.aval.dtype, w.aval.weak_type))
        new.append(JaxprEqn(structural.transpose_p, [w], [w_t], {"permutation": (1, 0)},
                            eqn.source_info))
        w = w_t
    new.append(JaxprEqn(prev.primitive, [column, w], eqn.outvars, {}, eqn.source_info))
    return new


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
        return ("lit", type(v), v if type(v) in (int, bool) else repr(v), a.aval.dtype,
                a.aval.weak_type)
    return a


def cse(closed: ClosedJaxpr) -> ClosedJaxpr:
    """Reuse the result of an identical earlier equation (same primitive, inputs, params)."""
    jaxpr = closed.jaxpr
    env: dict[Var, Atom] = {}
    seen: dict[Any, JaxprEqn] = {}
    eqns: list[JaxprEqn] = []
    for eqn in jaxpr.eqns:
        ins = eqn.invars
        if env:
            ins = [env.get(a, a) for a in ins]
            if ins != eqn.invars:
                eqn = eqn.replace(invars=ins)
        if eqn.primitive not in pe.effectful:
            params = eqn.params
            key = (eqn.primitive, tuple([a if type(a) is Var else _atom_key(a) for a in ins]),
                   tuple([(k, _hashable_param(params[k])) for k in sorted(params)])
                   if params else ())
            prev = seen.get(key)
            if prev is not None:
                for v, p in zip(eqn.outvars, prev.outvars):
                    env[v] = p
                continue
            seen[key] = eqn
        eqns.append(eqn)
    outvars = [env.get(a, a) if type(a) is Var else a for a in jaxpr.outvars]
    return ClosedJaxpr(Jaxpr(list(jaxpr.constvars), list(jaxpr.invars), eqns, outvars),
                       closed.consts)


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
    jaxpr = closed.jaxpr
    eqns = jaxpr.eqns
    end = len(eqns)
    first_read: dict[Var, int] = {}
    last_read: dict[Var, int] = {}
    for i, eqn in enumerate(eqns):
        for a in eqn.invars:
            if type(a) is Var:
                last_read[a] = i
                if a not in first_read:
                    first_read[a] = i
    # Variables that live to the end anyway: inputs, constants and outputs.
    permanent = set(jaxpr.invars) | set(jaxpr.constvars)
    permanent.update(v for v in jaxpr.outvars if type(v) is Var)
    for v in permanent:
        last_read[v] = end
    elementwise = ufunc_prims

    def far(eqn: JaxprEqn, i: int) -> bool:
        # Its result is read, and each input dies, only more than _SINK_DISTANCE later (an
        # input read here only may be a link of a chain that moves along).
        return first_read.get(eqn.outvars[0], end) > i + _SINK_DISTANCE and all(
            type(a) is not Var or last_read[a] > i + _SINK_DISTANCE or last_read[a] == i
            for a in eqn.invars)

    if not any(eqn.primitive in elementwise and len(eqn.outvars) == 1 and far(eqn, i)
               for i, eqn in enumerate(eqns)):
        return closed  # nothing to move far enough to matter
    deferred: dict[Var, JaxprEqn] = {}  # by output
    readers: dict[Var, list[Var]] = {}  # outputs of the deferred equations reading each var
    order: list[JaxprEqn] = []
    now = 0  # the position in the original order

    def emit(eqn: JaxprEqn) -> None:
        if deferred:
            for a in eqn.invars:  # deferred producers first
                if type(a) is Var and a in deferred:
                    emit(deferred.pop(a))
        order.append(eqn)
        if readers:
            # A variable read for the last time (in the original order) would die here but
            # for the deferred equations reading it: run them now.
            for v in (*eqn.invars, *eqn.outvars):
                if type(v) is Var and last_read.get(v, -1) <= now and v in readers:
                    for w in readers.pop(v):
                        if w in deferred:
                            emit(deferred.pop(w))

    def lives_on(a: Atom, i: int) -> bool:
        if type(a) is not Var:
            return True
        if a in deferred:  # a deferred chain: moves along with its one reader
            return last_read[a] == first_read[a] == i
        return last_read[a] > i

    for i, eqn in enumerate(eqns):
        now = i
        outs = eqn.outvars
        # Deferred: elementwise, inputs alive after it anyway, and read much later (or right
        # away by the next link of a chain that is deferred too).
        if (eqn.primitive in elementwise and len(outs) == 1 and outs[0] not in permanent
                and all(lives_on(a, i) for a in eqn.invars)
                and (far(eqn, i)
                     or (eqns[i + 1].primitive in elementwise and last_read[outs[0]] == i + 1
                         and all(a is outs[0] or lives_on(a, i + 1)
                                 for a in eqns[i + 1].invars)))):
            deferred[outs[0]] = eqn
            for a in eqn.invars:
                if type(a) is Var and a not in permanent:  # permanent: never die
                    readers.setdefault(a, []).append(outs[0])
        elif deferred or readers:
            emit(eqn)
        else:
            order.append(eqn)
    now = end
    for v in list(deferred):  # results read by nothing emitted (dead code): keep them
        if v in deferred:
            emit(deferred.pop(v))
    return ClosedJaxpr(Jaxpr(list(jaxpr.constvars), list(jaxpr.invars), order,
                             list(jaxpr.outvars)), closed.consts)


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
                raise AssertionError(f"the jit pass {name} produced an ill-formed program: "
                                     f"{e}\n{closed}") from None
    return closed
