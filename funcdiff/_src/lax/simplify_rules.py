"""The simplification rules of jit's `simplify` pass that look at operands made by other op
families, given to their primitives after the blocks (`_define.add_simplify_rule`). The rules
that look only at their own equation are in the primitives' blocks (`define_primitive(...,
simplify=...)`): no-op reshapes, squeezes, expand_dims, broadcasts and casts and sums over no
or size-1 axes in `structural.py`, ``--x`` and ``integer_pow(x, 1)`` in `elementwise.py`.

Each rule here inspects the producer of an operand, and at least one of the producers it
inspects comes from a module that its primitive's module cannot import (defined above it), or
it shares its helper with such a rule:

- ``add``, ``add_any``, ``sub``, ``mul``, ``div`` (`_simplify_arithmetic`): besides ``x*1``,
  ``x+0`` and ``x*0``, arithmetic on broadcast scalars, scalar broadcasts narrowed back to
  scalars, ``c * -y`` and ``c * (d * y)``, and ``pad(a) + pad(b)`` as ``pad(a + b)``: ``pad``
  is defined in `shape.py`, above `elementwise.py` (and `add_any`'s block is in
  `structural.py`). The checks run in one order (the broadcast scalars first), which one rule
  per primitive keeps.
- ``max``, ``min``, ``pow``, ``atan2`` (`_simplify_broadcasting`): scalar broadcasts narrowed
  back to scalars, with `_unbroadcast_operands`, the helper the arithmetic rule uses too.
- ``transpose``: ``transpose(dot_general(x, y))`` as ``dot_general(y, x)``; ``dot_general`` is
  defined in `linalg.py`, above `structural.py` where ``transpose`` is.
- ``dot_general``: transposed operands absorbed into its dimension numbers, and (the late rule)
  ``(I * v) @ w`` as ``v[:, None] * w``, which looks at a ``mul`` and at the constants that are
  identity matrices.

The tables are in `funcdiff._src.interpreters.simplify_rules`; the pass itself
(`funcdiff._src.jit.passes`) only reads them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.core import Atom, JaxprEqn, Literal, Var
from funcdiff._src.interpreters.ad import add_any_p
from funcdiff._src.interpreters.simplify_rules import literal_number, same_type
from funcdiff._src.lax._define import add_simplify_rule
from funcdiff._src.lax.elementwise import (
    add_p,
    div_p,
    max_p,
    min_p,
    mul_p,
    neg_p,
    negated_literal,
    sub_p,
)
from funcdiff._src.lax.linalg import dot_general_p
from funcdiff._src.lax.shape import pad_p
from funcdiff._src.lax.structural import (
    broadcast_in_dim_p,
    expand_dims_p,
    transpose_p,
)
from funcdiff._src.lax.transcendental import atan2_p, pow_p

# ``rule(eqn, ins, producers, uses, out) -> Atom | JaxprEqn | list[JaxprEqn] | None``: an
# atom that replaces the equation's single output `out`, a cheaper equation (or several, the
# last computing `out`), or None.

# Identity elements of arithmetic, (left, right): ``e op y == y`` and ``x op e == x``.
_IDENTITIES = {add_p: (0, 0), add_any_p: (0, 0), sub_p: (None, 0), mul_p: (1, 1), div_p: (None, 1)}


def _simplify_arithmetic(eqn, ins, producers, uses, out):
    # Each rewrite below needs an operand made by a particular primitive: the producers are
    # looked up once, and a rewrite is tried only when its producer is there (this rule runs
    # for most equations of derivative code, and most have nothing to rewrite).
    x, y = ins
    px, py = producers.get(x), producers.get(y)
    kx = None if px is None else px.primitive
    ky = None if py is None else py.primitive
    if kx is broadcast_in_dim_p or ky is broadcast_in_dim_p:
        # (Without a broadcast operand, the broadcast scalars would be two literals, whose
        # result is a scalar: neither rewrite applies.)
        scalars = _broadcast_scalars(eqn, ins, producers, out)
        if scalars is not None:
            return scalars
        narrowed = _unbroadcast_operands(eqn, ins, producers, out)
        if narrowed is not None:
            return narrowed
        if eqn.primitive is add_any_p:
            kept = _without_broadcast_zero(ins, producers, out)
            if kept is not None:
                return kept
    if type(x) is not Literal and type(y) is not Literal:
        # Every rewrite below but the padded sum needs a literal operand (the common case
        # in derivative code: two arrays).
        if kx is pad_p and ky is pad_p and eqn.primitive in (add_p, add_any_p):
            return _sum_before_padding(eqn, ins, producers, out)
        return None
    xv = literal_number(x) if type(x) is Literal else None
    yv = literal_number(y) if type(y) is Literal else None
    left, right = _IDENTITIES[eqn.primitive]
    if yv is not None and yv == right and same_type(x, out):
        return x
    if xv is not None and xv == left and same_type(y, out):
        return y
    if (
        eqn.primitive is mul_p
        and (xv == 0 or yv == 0)
        and out.aval.size
        and out.aval.dtype.kind in "fc"
    ):
        return _zeros_literal_or_none(out)
    if eqn.primitive is mul_p:
        if (xv is not None and ky in _SCALINGS) or (yv is not None and kx in _SCALINGS):
            return _absorb_negation(eqn, ins, producers, out)
        return None
    if kx is pad_p and ky is pad_p and eqn.primitive in (add_p, add_any_p):
        return _sum_before_padding(eqn, ins, producers, out)
    return None


# The producers of the operand `_absorb_negation` folds a literal factor into.
_SCALINGS = (neg_p, mul_p)


def _simplify_broadcasting(eqn, ins, producers, uses, out):
    return _unbroadcast_operands(eqn, ins, producers, out)


def _absorb_negation(
    eqn: JaxprEqn, ins: list[Atom], producers: dict[Var, JaxprEqn], out: Var
) -> JaxprEqn | None:
    """``c * -y`` is ``(-c) * y``, exactly: no negated copy of `y`. Forward-over-reverse code
    negates and scales the same arrays over and over."""
    if out.aval.dtype.kind not in "fc":
        return None
    for k, c in enumerate(ins):
        y = ins[1 - k]
        if type(c) is not Literal or type(y) is not Var:
            continue
        prev = producers.get(y)
        if prev is None or prev.primitive not in (neg_p, mul_p) or c.aval.shape != ():
            continue
        if literal_number(c) is None:
            continue
        if prev.primitive is neg_p and same_type(prev.invars[0], out):
            return eqn.replace(invars=[negated_literal(c), prev.invars[0]])
        if prev.primitive is mul_p:
            scaled = _merge_scales(eqn, c, prev, out)
            if scaled is not None:
                return scaled
    return None


def _merge_scales(eqn: JaxprEqn, c: Literal, inner: JaxprEqn, out: Var) -> JaxprEqn | None:
    """``c * (d * y)`` is ``(c * d) * y`` when one of the factors is a power of two at least 1:
    scaling by it is exact (short of overflow, which both forms reach alike), so both round
    the same way."""
    first, second = inner.invars
    if type(first) is not Literal and type(second) is not Literal:
        return None  # (the common case in reverse mode: a product of two arrays, scaled)
    for k, d in enumerate(inner.invars):
        y = inner.invars[1 - k]
        dv = literal_number(d)
        if dv is None or d.aval.shape != () or not same_type(y, out):
            continue
        cv = literal_number(c)
        if not (_exact_scale(cv) or _exact_scale(dv)):
            return None
        with np.errstate(all="ignore"):
            value = np.asarray(cv, out.aval.dtype) * np.asarray(dv, out.aval.dtype)
        if not np.isfinite(value):  # c * d overflows where c * (d * y) may not
            return None
        weak = c.aval.weak_type and d.aval.weak_type  # Python scalars stay Python scalars
        literal = Literal(
            value.item() if weak else value[()], core.ShapedArray((), out.aval.dtype, weak)
        )
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
        if prev is None or prev.primitive is not broadcast_in_dim_p:
            return None
        a = prev.invars[0]
    return a if type(a) is Literal and a.aval.shape == () else None


def _broadcast_scalars(
    eqn: JaxprEqn, ins: list[Atom], producers: dict[Var, JaxprEqn], out: Var
) -> JaxprEqn | None:
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
    literal = Literal(
        value.item() if weak else value[()], core.ShapedArray((), out.aval.dtype, weak)
    )
    return JaxprEqn(
        broadcast_in_dim_p,
        [literal],
        [out],
        {"shape": out.aval.shape, "broadcast_dimensions": ()},
        eqn.source_info,
    )


def _without_broadcast_zero(
    ins: list[Atom], producers: dict[Var, JaxprEqn], out: Var
) -> Atom | None:
    """``add_any(x, broadcast(0))`` is `x`, as ``x + 0`` is (the other sums narrow a
    broadcast scalar operand to the scalar, then drop it; `add_any` keeps both operands of
    the result's shape). Reverse mode adds such zeros where a cotangent does not depend on an
    input (the derivative of ``x * 0.0``)."""
    for k, a in enumerate(ins):
        if type(a) is not Var:
            continue
        c = _scalar_literal(a, producers)
        other = ins[1 - k]
        if c is not None and literal_number(c) == 0 and same_type(other, out):
            return other
    return None


def _zero_signs(v: Any) -> tuple[bool, bool]:
    """The signs of a zero's real and imaginary parts (signbit takes no complex numbers)."""
    return bool(np.signbit(np.real(v))), bool(np.signbit(np.imag(v)))


def _sum_before_padding(
    eqn: JaxprEqn, ins: list[Atom], producers: dict[Var, JaxprEqn], out: Var
) -> list[JaxprEqn] | None:
    """``pad(a) + pad(b)``, both padded alike with zeros, is ``pad(a + b)``: one padded
    array instead of two (the transpose of slicing, as in ``x[1:] - x[:-1]``, pads)."""
    pads = []
    for a in ins:
        p = producers.get(a) if type(a) is Var else None
        if p is None or p.primitive is not pad_p:
            return None
        pads.append(p)
    (a, za), (b, zb) = pads[0].invars, pads[1].invars
    if (
        pads[0].params != pads[1].params
        or a.aval != b.aval
        or literal_number(za) != 0
        or literal_number(zb) != 0
        or za.aval.dtype != out.aval.dtype
        or _zero_signs(za.val) != _zero_signs(zb.val)
    ):  # -0.0 + 0.0 is 0.0
        return None
    total = Var(a.aval)
    return [
        eqn.replace(invars=[a, b], outvars=[total]),
        pads[0].replace(invars=[total, za], outvars=[out]),
    ]


def _simplify_dot_general(eqn, ins, producers, uses, out):
    return _absorb_transposes(eqn, ins, producers)


def _simplify_transpose(eqn, ins, producers, uses, out):
    (x,) = ins
    perm = eqn.params["permutation"]
    if perm == tuple(range(len(perm))):
        return x
    prev = producers.get(x) if type(x) is Var else None
    if prev is not None and prev.primitive is dot_general_p and uses.get(x) == 1:
        swapped = _swap_dot_general(prev, perm, out)
        if swapped is not None:
            return swapped
    if prev is not None and prev.primitive is transpose_p:
        inner = prev.params["permutation"]
        composed = tuple(inner[p] for p in perm)
        if composed == tuple(range(len(composed))):
            return prev.invars[0]
        return eqn.replace(invars=[prev.invars[0]], params={"permutation": composed})
    return None


def _unbroadcast_operands(
    eqn: JaxprEqn, ins: list[Atom], producers: dict[Var, JaxprEqn], out: Var
) -> JaxprEqn | None:
    """``x * broadcast(s)`` with `x` already of the result's shape is ``x * s``: NumPy
    broadcasts the scalar for free (no broadcast array, and a scalar multiply)."""
    if eqn.primitive is add_any_p:
        return None
    new = list(ins)
    for k, a in enumerate(ins):
        prev = producers.get(a)
        other = new[1 - k]  # as already rewritten: at most one operand may lose its shape
        if (
            prev is not None
            and prev.primitive is broadcast_in_dim_p
            and prev.invars[0].aval.shape == ()
            and other.aval.shape == out.aval.shape
            and prev.invars[0].aval.dtype == a.aval.dtype
        ):
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
    return dot.replace(
        invars=[y, x],
        outvars=[out],
        params={**dot.params, "dimension_numbers": ((yc, xc), ((), ()))},
    )


def _absorb_transposes(
    eqn: JaxprEqn, ins: list[Atom], producers: dict[Var, JaxprEqn]
) -> JaxprEqn | None:
    """``dot_general(transpose(x), y)`` contracts the original `x` with renumbered dimensions,
    when the transpose keeps the order of the free dimensions (so the result is unchanged)."""
    (xc, yc), (xb, yb) = eqn.params["dimension_numbers"]
    dims = [[xc, xb], [yc, yb]]
    new_ins = list(ins)
    changed = False
    for k, a in enumerate(ins):
        prev = producers.get(a) if type(a) is Var else None
        if prev is None or prev.primitive is not transpose_p:
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
    return eqn.replace(
        invars=new_ins, params={**eqn.params, "dimension_numbers": ((xc, yc), (xb, yb))}
    )


def _zeros_literal_or_none(out: Var) -> Atom | JaxprEqn | None:
    zero = Literal(np.zeros((), out.aval.dtype)[()], core.ShapedArray((), out.aval.dtype))
    if out.aval.shape == ():
        return zero
    # A broadcast zero: free, and `add`/`sub` consuming it then simplify away.
    return JaxprEqn(
        broadcast_in_dim_p, [zero], [out], {"shape": out.aval.shape, "broadcast_dimensions": ()}
    )


def _diagonal_matmul(
    eqn: JaxprEqn, producers: dict[Var, JaxprEqn], identities: set[Var], uses: Any
) -> list[JaxprEqn] | None:
    """``(I * v) @ w``, a diagonal matrix times a matrix (the Jacobian of an elementwise
    function after a linear map, in reverse mode), is ``v[:, None] * w``: no matrix product."""
    (xc, yc), (xb, yb) = eqn.params["dimension_numbers"]
    x, w = eqn.invars
    if xb or xc != (1,) or yc not in ((0,), (1,)) or type(x) is not Var or w.aval.ndim != 2:
        return None
    prev = producers.get(x)
    if prev is None or prev.primitive is not mul_p or uses.get(x) != 1:
        return None
    a, b = prev.invars
    eye, v = (a, b) if a in identities else (b, a) if b in identities else (None, None)
    if eye is None or v.aval.shape != (eye.aval.shape[1],) or v.aval.dtype != x.aval.dtype:
        return None
    column = Var(core.ShapedArray((v.aval.shape[0], 1), v.aval.dtype))
    new = [JaxprEqn(expand_dims_p, [v], [column], {"dimensions": (1,)}, eqn.source_info)]
    if yc == (1,):  # contracting w's second dimension: use the (free) transposed view
        w_t = Var(core.ShapedArray(w.aval.shape[::-1], w.aval.dtype, w.aval.weak_type))
        new.append(JaxprEqn(transpose_p, [w], [w_t], {"permutation": (1, 0)}, eqn.source_info))
        w = w_t
    new.append(JaxprEqn(prev.primitive, [column, w], eqn.outvars, {}, eqn.source_info))
    return new


add_simplify_rule(_simplify_arithmetic, *_IDENTITIES)
add_simplify_rule(_simplify_broadcasting, max_p, min_p, pow_p, atan2_p)
add_simplify_rule(_simplify_dot_general, dot_general_p)
add_simplify_rule(_simplify_transpose, transpose_p)
add_simplify_rule(_diagonal_matmul, dot_general_p, late=True)
