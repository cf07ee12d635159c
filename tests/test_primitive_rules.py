"""Every primitive is defined by one `define_primitive` call that covers every rule it needs.

`funcdiff._src.lax._define.rules_of` holds the `PrimitiveRules` record of each primitive. The
tests check that every primitive of the package has a record (none is registered by hand),
that the rule tables of the transformations hold exactly the record's rules (no rule is
written into a table after the block), and that each record has every rule it needs or
declares, with a reason, that it lacks it. A primitive without a transpose rule is declared
nonlinear by that absence; the last test backs the declaration: the linear program that
reverse mode transposes uses only primitives with a transpose rule.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lax_table import F64, LAX_OPS, draw_case
from registry import registered_primitives

import funcdiff
from funcdiff._src import core, dtypes
from funcdiff._src.interpreters import ad, batching, cost, lowering_rules, simplify_rules
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.lax import simplify_rules as cross
from funcdiff._src.lax._define import RULE_NAMES, PrimitiveRules, add_simplify_rule, rules_of
from funcdiff._src.lax.elementwise import neg_p
from funcdiff._src.lax.structural import reshape_p

PRIMITIVES = sorted(registered_primitives(), key=lambda p: p.name)


def _ids(prims: list[core.Primitive]) -> list[str]:
    return [p.name for p in prims]


def test_every_primitive_has_a_record():
    assert len(PRIMITIVES) > 120
    assert ad.add_any_p in PRIMITIVES
    missing = [p.name for p in PRIMITIVES if p not in rules_of]
    assert not missing, (
        f"primitives made without define_primitive (or register_rules): {missing}; define "
        "each with one define_primitive call that lists all its rules"
    )
    names = [p.name for p in PRIMITIVES]
    assert len(set(names)) == len(names), "two primitives share a name"


def _table_rules(p: core.Primitive) -> dict[str, object]:
    return {
        "impl": p.impl,
        "abstract_eval": p.abstract_eval,
        "jvp": ad.jvp_rules.get(p),
        "transpose": ad.transpose_rules.get(p),
        "batch": batching.batch_rules.get(p),
        "partial_eval": pe.partial_eval_rules.get(p),
        "partial_eval_jaxpr": pe.partial_eval_jaxpr_rules.get(p),
        "lower": lowering_rules.lower_rules.get(p),
        "ufunc": lowering_rules.ufunc_prims.get(p),
        "cost": cost.cost_rules.get(p),
        "nondifferentiable": p in ad.nondifferentiable,
        "allocates": p in lowering_rules.allocating,
        "effectful": p in pe.effectful,
        "inline": lowering_rules.inlinable_calls.get(p),
        "simplify": simplify_rules.simplify_rules.get(p),
        "late_simplify": simplify_rules.late_simplify_rules.get(p),
        "folded": p not in simplify_rules.not_folded,
    }


@pytest.mark.parametrize("p", PRIMITIVES, ids=_ids(PRIMITIVES))
def test_tables_hold_exactly_the_records_rules(p):
    rules = rules_of[p]
    for field, in_table in _table_rules(p).items():
        assert in_table is getattr(rules, field) or in_table == getattr(rules, field), (
            f"{p.name}: the {field} rule in its table is not the one its define_primitive "
            "call gave: a rule was registered outside the primitive's block"
        )


@pytest.mark.parametrize("p", PRIMITIVES, ids=_ids(PRIMITIVES))
def test_every_primitive_has_every_rule_it_needs(p):
    rules: PrimitiveRules = rules_of[p]
    assert callable(rules.impl) and callable(rules.abstract_eval)
    needed = {
        "jvp": not rules.nondifferentiable,
        # Linear primitives are transposed by reverse mode; the others are declared nonlinear
        # by having no transpose rule (see the last test).
        "transpose": rules.linear,
        "batch": True,
        "cost": True,
        # Without a rule, generated code calls `impl` (ufuncs get ``xp.<ufunc>``): always a
        # lowering, the rule only makes it faster.
        "lower": False,
        # jit on other Array API namespaces: declared in the block (array_api="sin"), written
        # in jit/array_api_rules.py, or lacked; tests/test_array_api.py requires one of them.
        "array_api": False,
    }
    assert set(needed) == set(RULE_NAMES)
    for rule, is_needed in needed.items():
        present = getattr(rules, rule) is not None
        reason = rules.lacks.get(rule, "")
        assert not (present and reason), f"{p.name} declares it lacks {rule}, but has one"
        if is_needed and not present:
            assert reason.strip(), (
                f"{p.name} has no {rule} rule: give one to define_primitive, or declare "
                f"lacks={{'{rule}': 'why'}}"
            )
    if rules.lower is None and rules.ufunc is None:
        assert "lower" not in rules.lacks or rules.lacks["lower"].strip()
    if rules.nondifferentiable:
        assert rules.jvp is None, f"{p.name} is nondifferentiable and has a JVP rule"


@pytest.mark.parametrize("p", PRIMITIVES, ids=_ids(PRIMITIVES))
def test_records_are_consistent(p):
    rules = rules_of[p]
    if rules.weak_results:
        assert not p.multiple_results
    if rules.inline is not None:
        assert p.multiple_results, f"{p.name}: only calls (multiple results) are inlined"
    if rules.partial_eval_jaxpr is not None:
        # Partial evaluation splits a primitive online (under linearize) and offline (a
        # nested equation): given one, it has both (the online one may be derived).
        assert rules.partial_eval is not None


_DIFFERENTIABLE = [r for r in LAX_OPS if r.differentiable and F64 in r.dtypes]


def _linear_program_primitives(jaxpr: core.Jaxpr) -> set[core.Primitive]:
    prims = set()
    for eqn in jaxpr.eqns:
        prims.add(eqn.primitive)
        for param in eqn.params.values():
            if isinstance(param, core.ClosedJaxpr):
                prims |= _linear_program_primitives(param.jaxpr)
    return prims


@pytest.mark.parametrize("rec", _DIFFERENTIABLE, ids=[r.name for r in _DIFFERENTIABLE])
@settings(max_examples=3)
@given(data=st.data())
def test_linear_programs_use_only_transposable_primitives(rec, data):
    case = draw_case(data.draw, rec, F64)
    args = list(case.args)
    positions = [i for i, a in enumerate(args) if dtypes.is_inexact(np.asarray(a).dtype)]
    if not positions:
        return

    def f(*xs):
        full = list(args)
        for i, x in zip(positions, xs, strict=True):
            full[i] = x
        return rec.fn(*full, **case.static)

    primals = [args[i] for i in positions]
    _, f_jvp = funcdiff.linearize(f, *primals)
    linear = funcdiff.make_jaxpr(f_jvp)(*primals).jaxpr
    untransposable = sorted(
        p.name for p in _linear_program_primitives(linear) if p not in ad.transpose_rules
    )
    assert not untransposable, (
        f"the linear program of {rec.name} uses {untransposable}, which have no transpose "
        "rule: reverse mode cannot run it"
    )


def test_simplification_rules_outside_the_blocks_are_the_cross_family_ones():
    # A rule that looks only at its own equation is in its primitive's block; the module of
    # cross-family rules names each primitive it gives a rule to, and says why there.
    added = {
        p.name
        for p, r in rules_of.items()
        for rule in (r.simplify, r.late_simplify)
        if rule is not None and rule.__module__ == cross.__name__
    }
    assert added == {
        "add",
        "add_any",
        "sub",
        "mul",
        "div",
        "max",
        "min",
        "pow",
        "atan2",
        "transpose",
        "dot_general",
    }
    for name in added:
        assert f"``{name}``" in cross.__doc__, f"lax/simplify_rules.py does not say why {name}"
    assert rules_of[neg_p].simplify.__module__.endswith("lax.elementwise")
    assert rules_of[reshape_p].simplify.__module__.endswith("lax.structural")
    with pytest.raises(ValueError, match="already gives a simplify rule"):
        add_simplify_rule(lambda eqn, ins, producers, uses, out: None, neg_p)
    assert simplify_rules.simplify_rules[neg_p] is rules_of[neg_p].simplify
