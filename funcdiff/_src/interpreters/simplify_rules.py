"""The simplification-rule registry: the algebraic identities `jit`'s `simplify` pass applies,
keyed by primitive.

`funcdiff._src.lax._define` fills these tables from the primitives' records: a rule that looks
only at its own equation (``x*1``, ``--x``, a no-op reshape) is given in its primitive's
`define_primitive(..., simplify=...)` block; the rules that look at operands made by other op
families are added by `funcdiff._src.lax.simplify_rules` (through `_define.add_simplify_rule`).
The pass in `funcdiff._src.jit.passes` only reads the tables, so it names no primitive and
imports no op module (see docs/developer/layout.md). The helpers below are for rule authors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.core import Atom, JaxprEqn, Literal, Var

# ``rule(eqn, ins, producers, uses, out) -> Atom | JaxprEqn | list[JaxprEqn] | None``: an
# atom that replaces the equation's single output `out`, a cheaper equation (or several, the
# last computing `out`), or None. `ins` are the equation's operands after earlier rewrites,
# `producers` maps each variable to the equation that defined it, `uses.get(v)` counts the
# reads of `v` (a mapping with dict's `get`, which counts on the first question).
Simplifier = Callable[
    [JaxprEqn, list[Atom], dict[Var, JaxprEqn], Any, Var],
    "Atom | JaxprEqn | list[JaxprEqn] | None",
]
simplify_rules: dict[core.Primitive, Simplifier] = {}

# ``rule(eqn, producers, identities, uses) -> list[JaxprEqn] | None``: run on an equation once
# the rules above are done with it, also given the constants that are identity matrices; the
# equations returned replace it (the last computes its result).
LateSimplifier = Callable[[JaxprEqn, dict[Var, JaxprEqn], set[Var], Any], "list[JaxprEqn] | None"]
late_simplify_rules: dict[core.Primitive, LateSimplifier] = {}

# Primitives that constant folding leaves alone even on constant operands (a broadcast is a
# free view at run time; as a folded constant it would cost memory and hide the scalar from
# the simplification rules).
not_folded: set[core.Primitive] = set()


def literal_number(a: Atom) -> Any:
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


def same_type(a: Atom, out: Var) -> bool:
    """Whether `a` can stand for `out`: the same shape and dtype."""
    return a.aval.shape == out.aval.shape and a.aval.dtype == out.aval.dtype
