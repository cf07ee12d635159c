"""Cost counting: FLOPs, transcendental functions and bytes moved by a jaxpr, statically.

Each primitive registers a rule in `cost_rules` through `define_primitive(..., cost=...)`:

    rule(avals_in, avals_out, **params) -> Cost(flops, transcendentals, bytes_read,
                                                bytes_written)

The conventions follow XLA's cost analysis:

* an elementwise operation costs one flop per output element, or one *transcendental* (and no
  flop) for exponentials, logarithms, roots, powers and trigonometric, hyperbolic and error
  functions;
* a contraction costs ``2 * batch * free_lhs * free_rhs * contracting`` flops (a multiply and
  an add per term), so a matmul ``(m, k) @ (k, n)`` costs ``2 m n k``;
* a reduction costs one flop per element it folds in (``in.size - out.size``);
* shape operations cost no flop and move their operands' and results' bytes;
* bytes read and written are the sizes of the operands and results (scalar literals
  included), as if every operation went through memory: views and fused loops are not
  modelled.

Higher-order primitives (`jit`, `cond`, `while`, `scan`, `checkpoint`, custom derivative
calls) recurse into their jaxprs with `jaxpr_cost`; a `Cost` carries notes for the
approximations they make (the branch a `cond` takes, the trip count of a `while`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

from funcdiff._src import core
from funcdiff._src.core import ShapedArray

Rule = Callable[..., "Cost"]

cost_rules: dict[core.Primitive, Rule] = {}


@dataclasses.dataclass(frozen=True)
class Cost:
    """What running some operations costs.

    `ops` is the number of primitive operations covered: 1 for a first-order primitive (the
    default), the operations run inside for a higher-order one (a `scan` of length 10 over a
    body of 3 operations counts 30). `notes` record approximations.
    """

    flops: int = 0
    transcendentals: int = 0
    bytes_read: int = 0
    bytes_written: int = 0
    ops: int = 1
    notes: tuple[str, ...] = ()

    @property
    def bytes(self) -> int:
        """Bytes read plus bytes written."""
        return self.bytes_read + self.bytes_written

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            self.flops + other.flops,
            self.transcendentals + other.transcendentals,
            self.bytes_read + other.bytes_read,
            self.bytes_written + other.bytes_written,
            self.ops + other.ops,
            _merge_notes(self.notes, other.notes),
        )

    def scale(self, k: int) -> Cost:
        """The cost of running the same operations `k` times (a loop body)."""
        return Cost(self.flops * k, self.transcendentals * k, self.bytes_read * k,
                    self.bytes_written * k, self.ops * k, self.notes)

    def with_note(self, note: str) -> Cost:
        return dataclasses.replace(self, notes=_merge_notes(self.notes, (note,)))


ZERO = Cost(ops=0)


def _merge_notes(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    return a + tuple(n for n in b if n not in a)


def maximum(costs: Sequence[Cost]) -> Cost:
    """Field by field maximum (an upper bound for one of several alternatives)."""
    if not costs:
        return ZERO
    notes: tuple[str, ...] = ()
    for c in costs:
        notes = _merge_notes(notes, c.notes)
    return Cost(*(max(getattr(c, f) for c in costs) for f in
                  ("flops", "transcendentals", "bytes_read", "bytes_written", "ops")), notes)


# ---- counting a jaxpr -----------------------------------------------------------------------


def eqn_cost(eqn: core.JaxprEqn) -> Cost:
    """The cost of one equation, by its primitive's rule."""
    rule = cost_rules.get(eqn.primitive)
    if rule is None:
        raise NotImplementedError(
            f"Cost rule for primitive '{eqn.primitive.name}' is not implemented: pass cost= to "
            "define_primitive, or register one in funcdiff._src.interpreters.cost.cost_rules."
        )
    return rule([a.aval for a in eqn.invars], [v.aval for v in eqn.outvars], **eqn.params)


def jaxpr_cost(jaxpr: core.Jaxpr | core.ClosedJaxpr) -> Cost:
    """The total cost of a jaxpr's equations (nested jaxprs included)."""
    if isinstance(jaxpr, core.ClosedJaxpr):
        jaxpr = jaxpr.jaxpr
    total = ZERO
    for eqn in jaxpr.eqns:
        total = total + eqn_cost(eqn)
    return total


# ---- rules for the common shapes ------------------------------------------------------------


def nbytes(aval: ShapedArray) -> int:
    return math.prod(aval.shape) * aval.dtype.itemsize


def io_bytes(avals_in: Sequence[ShapedArray], avals_out: Sequence[ShapedArray]) -> Cost:
    """No arithmetic; read every operand, write every result."""
    return Cost(0, 0, sum(map(nbytes, avals_in)), sum(map(nbytes, avals_out)))


def memory_cost(avals_in: Sequence[ShapedArray], avals_out: Sequence[ShapedArray],
                **params: Any) -> Cost:
    """The rule of data movement (shape operations): no flop, operands and results moved."""
    return io_bytes(avals_in, avals_out)


def free_cost(avals_in: Sequence[ShapedArray], avals_out: Sequence[ShapedArray],
              **params: Any) -> Cost:
    """The rule of an operation that does no work on arrays (an identity, an effect)."""
    return Cost(0, 0, 0, 0)


def elementwise_cost(transcendental: bool = False, per_element: int = 1) -> Rule:
    """The rule of an elementwise primitive: `per_element` flops (or transcendentals) per
    output element, operands and results moved once."""

    def rule(avals_in: Sequence[ShapedArray], avals_out: Sequence[ShapedArray],
             **params: Any) -> Cost:
        n = sum(a.size for a in avals_out) * per_element
        moved = io_bytes(avals_in, avals_out)
        if transcendental:
            return dataclasses.replace(moved, transcendentals=n)
        return dataclasses.replace(moved, flops=n)

    rule.__name__ = "_transcendental_cost" if transcendental else "_elementwise_cost"
    return rule


def reduction_cost(avals_in: Sequence[ShapedArray], avals_out: Sequence[ShapedArray],
                   **params: Any) -> Cost:
    """A reduction folds each input element into a result: ``in.size - out.size`` flops."""
    folded = max(avals_in[0].size - avals_out[0].size, 0)
    return dataclasses.replace(io_bytes(avals_in, avals_out), flops=folded)


def call_cost(avals_in: Sequence[ShapedArray], avals_out: Sequence[ShapedArray], *,
              jaxpr: core.ClosedJaxpr, **params: Any) -> Cost:
    """The rule of a call-like primitive: the cost of the jaxpr it runs."""
    return jaxpr_cost(jaxpr)


__all__ = [
    "Cost", "ZERO", "call_cost", "cost_rules", "elementwise_cost", "eqn_cost", "free_cost",
    "io_bytes", "jaxpr_cost", "maximum", "memory_cost", "nbytes", "reduction_cost",
]
