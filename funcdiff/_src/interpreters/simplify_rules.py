"""The simplification-rule registry: the algebraic identities `jit`'s `simplify` pass applies,
keyed by primitive.

`funcdiff._src.lax.simplify_rules` fills these tables for the lax primitives; the pass in
`funcdiff._src.jit.passes` only reads them, so it names no primitive and imports no op module
(see docs/developer/layout.md).
"""

from __future__ import annotations

from collections.abc import Callable

from funcdiff._src import core
from funcdiff._src.core import Atom, JaxprEqn, Var

# ``rule(eqn, ins, producers, uses, out) -> Atom | JaxprEqn | list[JaxprEqn] | None``: an
# atom that replaces the equation's single output `out`, a cheaper equation (or several, the
# last computing `out`), or None. `ins` are the equation's operands after earlier rewrites,
# `producers` maps each variable to the equation that defined it, `uses` counts its uses.
Simplifier = Callable[
    [JaxprEqn, list[Atom], dict[Var, JaxprEqn], dict[Var, int], Var],
    "Atom | JaxprEqn | list[JaxprEqn] | None",
]
simplify_rules: dict[core.Primitive, Simplifier] = {}

# ``rule(eqn, producers, identities, uses) -> list[JaxprEqn] | None``: run on an equation once
# the rules above are done with it, also given the constants that are identity matrices; the
# equations returned replace it (the last computes its result).
LateSimplifier = Callable[
    [JaxprEqn, dict[Var, JaxprEqn], set[Var], dict[Var, int]], "list[JaxprEqn] | None"
]
late_simplify_rules: dict[core.Primitive, LateSimplifier] = {}

# Primitives that constant folding leaves alone even on constant operands (a broadcast is a
# free view at run time; as a folded constant it would cost memory and hide the scalar from
# the simplification rules).
not_folded: set[core.Primitive] = set()


def register(rule: Simplifier, *prims: core.Primitive) -> Simplifier:
    """Make `rule` the simplification rule of each of `prims`."""
    for p in prims:
        simplify_rules[p] = rule
    return rule
