# Over 600 lines: `define_primitive` with the factories of the rules it derives for a block.
"""Defining primitives: one call registers every rule of a primitive. This module is the leaf
of `lax/`: it imports no primitive (`structural.py`, the primitives every rule uses, is defined
with it; two rule factories below import structural inside the rule, when it runs).

`define_primitive` takes the NumPy implementation, the shape/dtype rule and every other rule
(derivatives, batching, partial evaluation, lowering, cost, simplification, and the facts
passes rely on: aliasing, effects, weak-typed results, constant folding), files each in the
table of the transformation that owns it, and keeps them together in a `PrimitiveRules` record
(`rules_of[p]`). The helpers below build the common rule shapes (per-argument JVPs, linear
primitives, broadcasting) so that most rules are one short named function.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes
from funcdiff._src.core import ShapedArray, Tracer
from funcdiff._src.errors import PrimitiveError
from funcdiff._src.interpreters import ad, batching, staged_ad, tape
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters import lowering_rules as lowering
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.interpreters import simplify_rules as simplify_mod
from funcdiff._src.interpreters.ad import Zero

Rule = Callable[..., Any]


class per_primitive:  # noqa: N801 (used like a function: ``batch=per_primitive(make)``)
    """A rule that needs its own primitive object (to `bind` it): ``make(p) -> rule`` is called
    by `define_primitive` once the primitive exists, e.g. ``batch=per_primitive(dims_batch)``.
    """

    __slots__ = ("make",)

    def __init__(self, make: Callable[[core.Primitive], Rule]):
        self.make = make


# The rule names a `PrimitiveRules` record may declare absent (`lacks`), with a reason.
RULE_NAMES = ("jvp", "transpose", "batch", "cost", "lower", "array_api")

# The Python operators an `array_api` declaration may name (``"u-"`` is unary minus); any
# other declaration is the name of a function of the Array API standard (``"sin"``).
ARRAY_API_OPERATORS = ("+", "-", "*", "/", "//", "u-", "==", "!=", "<", "<=", ">", ">=")

# The operators whose Python float arithmetic is exactly NumPy's (`Primitive.float_operator`;
# not `/`, which raises on a zero divisor).
_FLOAT_OPERATORS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "u-": operator.neg}

# The reason the special functions (erf, lgamma...) lack an Array API lowering.
NO_ARRAY_API_SPECIAL = "a special function; the standard has none"


@dataclasses.dataclass(frozen=True)
class PrimitiveRules:
    """Every rule of one primitive, as `define_primitive` registered them (see its arguments).

    `lower` is None when generated code calls `impl` (a NumPy ufunc gets ``xp.<ufunc>``);
    `array_api` is the Array API function (or operator) computing the primitive, when `jit`
    on another namespace writes it as one call with its operands (else None: its rule, if
    any, is in `jit/array_api_rules.py`); `lacks` maps a rule name of `RULE_NAMES` to the
    reason the primitive has no such rule.
    `simplify` and `late_simplify` come from the block, or, for the rules that look at operands
    made by other op families, from `add_simplify_rule` (the record is then replaced).
    """

    impl: Rule
    abstract_eval: Rule
    jvp: Rule | None = None
    jvp_direct: Rule | None = None
    transpose_direct: Rule | None = None
    transpose: Rule | None = None
    batch: Rule | None = None
    partial_eval: Rule | None = None
    partial_eval_jaxpr: Rule | None = None
    lower: Rule | None = None
    ufunc: str | None = None
    array_api: str | None = None
    cost: Rule | None = None
    simplify: Rule | None = None
    late_simplify: Rule | None = None
    linear: bool = False
    linear_in_each: bool = False
    nondifferentiable: bool = False
    allocates: bool = False
    effectful: bool = False
    weak_results: bool = False
    folded: bool = True
    inline: str | None = None
    lacks: Mapping[str, str] = dataclasses.field(default_factory=dict)


# Every primitive `define_primitive` made, with its rules.
rules_of: dict[core.Primitive, PrimitiveRules] = {}


class _WeakResultPrimitive(core.Primitive):
    """A primitive whose result is weakly typed exactly when every operand is, so that on
    Python scalars alone it is a Python scalar (as when staged, and as in JAX):
    `weak_results=True` in `define_primitive`. (`run_impl` makes the conversion, in the loop
    over the operands it runs anyway, and asks the abstract rule only for a `WeakArray`
    operand.)"""

    __slots__ = ()
    weak_results = True


def define_primitive(
    name: str,
    *,
    impl: Rule,
    abstract_eval: Rule,
    jvp: Rule | per_primitive | None = None,
    jvp_partials: Sequence[Rule | None] | None = None,
    jvp_direct: Rule | None = None,
    transpose_direct: Rule | None = None,
    linear: bool = False,
    linear_in_each: bool = False,
    transpose: Rule | per_primitive | None = None,
    batch: Rule | per_primitive | None = None,
    elementwise: bool = False,
    partial_eval: Rule | per_primitive | None = None,
    partial_eval_jaxpr: Rule | None = None,
    lower: Rule | None = None,
    array_api: str | None = None,
    allocates: bool = False,
    nondifferentiable: bool = False,
    multiple_results: bool = False,
    cost: Rule | None = None,
    transcendental: bool = False,
    effectful: bool = False,
    weak_results: bool = False,
    simplify: Rule | None = None,
    late_simplify: Rule | None = None,
    folded: bool = True,
    inline: str | None = None,
    lacks: Mapping[str, str] | None = None,
) -> core.Primitive:
    """Create a primitive and register its rules.

    **Arguments:**

    - `impl(*arrays, **params)`: the NumPy implementation.
    - `abstract_eval(*avals, **params)`: the shape/dtype rule; raises `PrimitiveError`.
    - `jvp(primals, tangents, **params) -> (primal_out, tangent_out)`: forward mode. Tangents
      may be `Zero`.
    - `jvp_partials`: instead of `jvp`, one function per operand,
      ``partial(g, ans, *primals, **params)``, giving that operand's contribution to the output
      tangent for its tangent `g` (`ans` is the primal output); `None` for no derivative.
    - `jvp_direct`, `transpose_direct`: the JVP's and transpose's equations built without
      tracers, for `jit(grad)` (`staged_ad.direct_jvp_rules`); `linear` gives a `jvp_direct`.
    - `linear`: the primitive is linear in every operand (its transpose rule takes any of them
      undefined), so its JVP applies it to the tangents; a `jvp` given as well replaces that
      JVP (one that skips symbolic-zero tangents, as `add` does).
    - `linear_in_each`: the primitive is linear in each operand with the others fixed (a
      product such as `dot_general`, a selection, indexing): its transpose rule takes any one
      operand undefined, which is how eager reverse mode pulls a cotangent back through it
      (`tape.pullback_rules`).
    - `transpose(ct, *args, **params) -> list`: for primitives linear in some operands; the
      linear operands arrive as `UndefinedPrimal`, and the result has one cotangent per operand
      (None for operands that are not linear).
    - `batch(axis_size, values, dims, **params) -> (out, out_dim)`: the `vmap` rule; `dims`
      holds each operand's batch dimension or None (at least one is not None), and `axis_size`
      is the size of the batch, as `vmap` knows it (use it to give an unbatched operand the
      batch dimension, e.g. ``move_to_front(x, None, axis_size)``); `out_dim` is the result's
      batch dimension (a list of them for `multiple_results`), or None.
    - `elementwise`: instead of `batch`, the primitive works elementwise with NumPy
      broadcasting, so batching aligns the batch dimensions and applies it once.
    - `partial_eval(trace, tracers, **params)` and `partial_eval_jaxpr(eqn, unknowns)`: for
      primitives carrying a sub-program, how partial evaluation (reverse mode) splits one
      application into a known part, run now, and an unknown part, recorded; online (on
      tracers, under `linearize`) and offline (on an equation of a jaxpr). Given only the
      offline rule, the online one is derived from it (`pe.online_from_offline`).
    - `lower(ctx, *operand_names, **params) -> str`: the Python expression `jit` generates
      for it (see `funcdiff._src.interpreters.lowering_rules`). NumPy ufuncs get
      ``xp.<ufunc name>(...)`` by default; other primitives call `impl`.
    - `array_api`: for `jit` on other Array API namespaces (`array_api_strict`, Dask...), the
      standard's function computing the primitive on its operands (``"sin"`` gives
      ``xp.sin(a)``), or a Python operator of `ARRAY_API_OPERATORS` (``"+"``; ``"u-"``: unary
      minus). A primitive it does not fit has a rule in `jit/array_api_rules.py`, or declares
      ``lacks={"array_api": why}`` (docs/how-to/scaling-out.md lists those).
    - `allocates`: aliasing: the result is always a new array, never a view of an operand
      (lets `jit` plan buffer reuse around it); NumPy ufuncs are known to allocate. Without
      it, the result may be a view of an operand: run eagerly, a result viewing a writable
      NumPy array of the caller is then copied (`array.unshared`).
    - `nondifferentiable`: the output has no derivative (comparisons, argmax...): its tangent is
      zero and reverse mode treats it as a constant.
    - `cost(avals_in, avals_out, **params) -> Cost`: FLOPs, transcendentals and bytes read and
      written (see `funcdiff._src.interpreters.cost`). `elementwise` primitives default to one
      flop per output element, or with `transcendental` (exp, log, sin...) one transcendental.
    - `effectful`: the primitive has a side effect (printing), so no pass may remove it.
    - `weak_results`: on Python scalars alone, its result is a Python scalar (weakly typed).
    - `simplify(eqn, ins, producers, uses, out)`: an algebraic identity `jit`'s `simplify`
      pass applies to an equation of this primitive (``x * 1``, ``--x``, a reshape to the same
      shape): it returns an atom that replaces the output, a cheaper equation (or several),
      or None (see `funcdiff._src.interpreters.simplify_rules`). Give here the rules that look
      only at the equation and at producers from this primitive's own module; the rules that
      look at operands made by other op families are added in `lax/simplify_rules.py`.
      `late_simplify(eqn, producers, identities, uses)`: one run once the others are done.
    - `folded`: `False` keeps `jit`'s constant folding from evaluating the primitive on
      constant operands (a broadcast is a free view at run time, and its scalar operand
      stays visible to the simplification rules).
    - `inline`: for a primitive that calls a jaxpr, the parameter holding it: jit's passes
      inline the call once no transformation needs its boundary.
    - `lacks`: rules this primitive deliberately has not (keys of `RULE_NAMES`), each with the
      reason; `tests/test_primitive_rules.py` requires every other rule.

    A rule that needs the primitive object itself is given as `per_primitive(make)`.
    """
    p = (_WeakResultPrimitive if weak_results else core.Primitive)(name, multiple_results)

    def made(rule: Any) -> Any:
        return rule.make(p) if isinstance(rule, per_primitive) else rule

    jvp, transpose, batch, partial_eval = map(made, (jvp, transpose, batch, partial_eval))
    if jvp_partials is not None:
        jvp = _jvp_from_partials(p, jvp_partials)
        if elementwise:
            tape.pullback_rules[p] = (_pullback_from_partials(p, jvp_partials), True)
    elif linear and jvp is None:
        jvp = _linear_jvp(p)
        jvp_direct = jvp_direct or staged_ad.linear_jvp_direct(p)
    if elementwise:
        batch = broadcasting_batch(p)
    if partial_eval is None and partial_eval_jaxpr is not None:
        partial_eval = pe.online_from_offline(p, partial_eval_jaxpr)
    ufunc = impl.__name__ if isinstance(impl, np.ufunc) and impl.nout == 1 else None
    if lower is None and ufunc is not None:
        lower = lowering.xp_function(ufunc)
    if cost is None and elementwise:
        cost = cost_mod.elementwise_cost(transcendental)
    rules = PrimitiveRules(
        impl=impl,
        abstract_eval=abstract_eval,
        jvp=jvp,
        jvp_direct=jvp_direct, transpose_direct=transpose_direct,
        transpose=transpose,
        batch=batch,
        partial_eval=partial_eval,
        partial_eval_jaxpr=partial_eval_jaxpr,
        lower=lower,
        ufunc=ufunc,
        array_api=array_api,
        cost=cost,
        linear=linear,
        linear_in_each=linear_in_each,
        nondifferentiable=nondifferentiable,
        allocates=allocates,
        effectful=effectful,
        weak_results=weak_results,
        simplify=simplify,
        late_simplify=late_simplify,
        folded=folded,
        inline=inline,
        lacks=dict(lacks or {}),
    )
    register_rules(p, rules)
    return p


def register_rules(p: core.Primitive, rules: PrimitiveRules) -> None:
    """File each rule of `rules` in the table of the transformation that owns it (for a
    primitive made elsewhere, such as `ad.add_any_p`; `define_primitive` calls it)."""
    unknown = set(rules.lacks) - set(RULE_NAMES)
    if unknown:
        raise ValueError(
            f"{p.name}: lacks names unknown rules {sorted(unknown)}; rules are {RULE_NAMES}"
        )
    api = rules.array_api
    if api is not None and not (api.isidentifier() or api in ARRAY_API_OPERATORS):
        raise ValueError(
            f"{p.name}: array_api={api!r} is neither a function name of the Array API "
            f"standard nor one of the operators {ARRAY_API_OPERATORS}"
        )
    if rules.weak_results != p.weak_results:
        raise ValueError(
            f"{p.name}: weak_results must be chosen when the primitive is made "
            "(define_primitive(..., weak_results=True))"
        )
    if rules.weak_results and isinstance(rules.impl, np.ufunc):
        p.float_operator = _FLOAT_OPERATORS.get(api)
    p.def_impl(rules.impl)
    p.def_abstract_eval(rules.abstract_eval)
    # Eager results of the others may view an operand (a caller's array is then copied;
    # `define_primitive`'s `allocates` says which allocate).
    p.may_view = not (rules.allocates or rules.ufunc is not None)
    if rules.nondifferentiable:
        ad.nondifferentiable.add(p)
    if rules.jvp is not None:
        ad.jvp_rules[p] = rules.jvp
    if rules.jvp_direct is not None:
        staged_ad.direct_jvp_rules[p] = rules.jvp_direct
    if rules.transpose_direct is not None:
        staged_ad.direct_transpose_rules[p] = rules.transpose_direct
    if rules.transpose is not None:
        ad.transpose_rules[p] = rules.transpose
        if rules.linear:
            tape.pullback_rules[p] = (_pullback_from_transpose(rules.transpose), False)
        elif rules.linear_in_each:
            tape.pullback_rules[p] = (_pullback_one_at_a_time(rules.transpose), False)
    if rules.batch is not None:
        batching.batch_rules[p] = rules.batch
    if rules.partial_eval is not None:
        pe.partial_eval_rules[p] = rules.partial_eval
    if rules.partial_eval_jaxpr is not None:
        pe.partial_eval_jaxpr_rules[p] = rules.partial_eval_jaxpr
    if rules.effectful:
        pe.effectful.add(p)
    lowering.register(p, rules.lower, ufunc=rules.ufunc, allocates=rules.allocates)
    if rules.inline is not None:
        lowering.inlinable_calls[p] = rules.inline
    if rules.cost is not None:
        cost_mod.cost_rules[p] = rules.cost
    _register_simplify(p, rules)
    rules_of[p] = rules


def _register_simplify(p: core.Primitive, rules: PrimitiveRules) -> None:
    if rules.simplify is not None:
        simplify_mod.simplify_rules[p] = rules.simplify
    if rules.late_simplify is not None:
        simplify_mod.late_simplify_rules[p] = rules.late_simplify
    if not rules.folded:
        simplify_mod.not_folded.add(p)


def add_simplify_rule(rule: Rule, *prims: core.Primitive, late: bool = False) -> Rule:
    """Give each of `prims` the simplification rule `rule` (its `late_simplify` rule with
    `late`), after its block: for `lax/simplify_rules.py`, whose rules look at operands made by
    other op families, defined after the primitive (``add`` of two ``pad``s). The primitive's
    record is replaced by one with the rule, so that it still holds all its rules; a primitive
    whose block gave that rule already is an error."""
    field = "late_simplify" if late else "simplify"
    for p in prims:
        old = rules_of[p]
        if getattr(old, field) is not None:
            raise ValueError(f"{p.name}: its block already gives a {field} rule")
        rules_of[p] = dataclasses.replace(old, **{field: rule})
        _register_simplify(p, rules_of[p])
    return rule


# ---- shape and dtype rules ------------------------------------------------------------------


def broadcast_shapes(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    if len(shapes) == 2 and shapes[0] == shapes[1]:
        return shapes[0]
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise PrimitiveError(
            "shapes " + ", ".join(str(s) for s in shapes) + " cannot be broadcast together"
        ) from None


_KIND_NAMES = {
    "f": "floating",
    "c": "complex",
    "i": "signed integer",
    "u": "unsigned integer",
    "b": "boolean",
}


def check_kinds(avals: Sequence[ShapedArray], kinds: str) -> None:
    for a in avals:
        if a.dtype.kind not in kinds:
            allowed = " or ".join(_KIND_NAMES[k] for k in kinds)
            raise PrimitiveError(f"operand of dtype {a.dtype} is not {allowed}")


_elementwise_cache: dict[tuple, ShapedArray] = {}


def elementwise_aval(*avals: ShapedArray, kinds: str = "biufc") -> ShapedArray:
    """Broadcast shape and NumPy (NEP 50) promoted dtype of elementwise operands."""
    if len(avals) == 2:  # the common case
        return binary_elementwise_aval(kinds)(*avals)
    key = (kinds, *((a.shape, a.dtype, a.weak_type) for a in avals))
    out = _elementwise_cache.get(key)
    if out is None:
        out = _cache_elementwise_aval(key, avals, kinds)
    return out


def _binary_elementwise_aval(kinds: str) -> Rule:
    cache = _elementwise_cache

    def rule(x: ShapedArray, y: ShapedArray) -> ShapedArray:
        # (One flat tuple: the key of every staged binary operation.)
        key = (kinds, x.shape, x.dtype, x.weak_type, y.shape, y.dtype, y.weak_type)
        out = cache.get(key)
        if out is None:
            out = _cache_elementwise_aval(key, (x, y), kinds)
        return out

    rule.__name__ = f"binary_elementwise_aval_{kinds}"
    return rule


_binary_rules: dict[str, Rule] = {}


def binary_elementwise_aval(kinds: str) -> Rule:
    """`elementwise_aval` of two operands of the dtype kinds `kinds` as one function (the
    shape/dtype rule of a binary elementwise primitive, called once per staged operation)."""
    rule = _binary_rules.get(kinds)
    if rule is None:
        rule = _binary_rules[kinds] = _binary_elementwise_aval(kinds)
    return rule


def _cache_elementwise_aval(key: tuple, avals: Sequence[ShapedArray], kinds: str) -> ShapedArray:
    out = _elementwise_aval(avals, kinds)
    if len(_elementwise_cache) > 4096:
        _elementwise_cache.clear()
    _elementwise_cache[key] = out
    return out


def _elementwise_aval(avals: Sequence[ShapedArray], kinds: str) -> ShapedArray:
    # Weakly typed operands (Python scalars) adopt the result dtype, so only the strong
    # operands and the result must be of an allowed kind.
    check_kinds([a for a in avals if not a.weak_type], kinds)
    shape = broadcast_shapes(*(a.shape for a in avals))
    dtype, weak = dtypes.result_type(*((a.dtype, a.weak_type) for a in avals))
    check_kinds([ShapedArray((), dtype)], kinds)
    return ShapedArray(shape, dtype, weak)


# ---- derivative helpers ---------------------------------------------------------------------


_fit_to_aval: Rule | None = None


def _load_fit_to_aval() -> Rule:
    # fit_to_aval uses structural's primitives, which are defined with this module's
    # define_primitive; the rules run with every module loaded. (Imported once: an import
    # statement in the rule cost a lookup on every call.)
    global _fit_to_aval
    from funcdiff._src.lax.structural import fit_to_aval

    _fit_to_aval = fit_to_aval
    return fit_to_aval


def _jvp_from_partials(p: core.Primitive, partials: Sequence[Rule | None]) -> Rule:
    def rule(primals: Sequence[Any], tangents: Sequence[Any], **params: Any) -> tuple[Any, Any]:
        fit_to_aval = _fit_to_aval or _load_fit_to_aval()
        ans = p.bind(*primals, **params)
        # (`core.get_aval` and `fit_to_aval`'s test of a tracer's own aval, inlined: this
        # runs for every staged elementwise operation.)
        out_aval = ans.aval if isinstance(ans, Tracer) else core.get_aval(ans)
        total: Any = None
        for partial, t in zip(partials, tangents, strict=True):
            if type(t) is Zero or partial is None:
                continue
            contribution = partial(t, ans, *primals, **params)
            if not isinstance(contribution, Tracer) or contribution.aval is not out_aval:
                contribution = fit_to_aval(contribution, out_aval)
            total = contribution if total is None else ad.add_tangents(total, contribution)
        return ans, Zero(ad.tangent_aval(out_aval)) if total is None else total

    rule.__name__ = f"_{p.name}_jvp"
    return rule


_unbroadcast: Rule | None = None


def _load_unbroadcast() -> Rule:
    global _unbroadcast  # (as `_load_fit_to_aval`)
    from funcdiff._src.lax.structural import unbroadcast

    _unbroadcast = unbroadcast
    return unbroadcast


def _pullback_from_partials(p: core.Primitive, partials: Sequence[Rule | None]) -> Rule:
    """The eager tape's pullback of an elementwise primitive, from its partial derivatives:
    on real operands each partial is a product with the cotangent, its own transpose, so an
    operand's cotangent is the partial applied to the output's cotangent, summed over the
    dimensions the operand was broadcast along (`tape.pullback_rules`)."""

    def pullback(ct: Any, ans: Any, primals: Sequence[Any], slots: Sequence[int], params):
        unbroadcast = _unbroadcast or _load_unbroadcast()
        cts = []
        for partial, x, s in zip(partials, primals, slots):
            if s < 0 or partial is None:
                cts.append(None)
                continue
            c = partial(ct, ans, *primals, **params)
            # (Python floats, the common scalar case, need no fitting.)
            cts.append(
                c if type(c) is float and type(x) is float else unbroadcast(c, core.get_aval(x))
            )
        return cts

    pullback.__name__ = f"_{p.name}_pullback"
    return pullback


def _pullback_from_transpose(transpose: Rule) -> Rule:
    """The eager tape's pullback of a primitive linear in every operand: its transpose
    rule, with the traced operands undefined (`tape.pullback_rules`)."""

    def pullback(ct: Any, ans: Any, primals: Sequence[Any], slots: Sequence[int], params):
        args = [
            ad.UndefinedPrimal(core.get_aval(x)) if s >= 0 else x for x, s in zip(primals, slots)
        ]
        return transpose(ct, *args, **params)

    return pullback


def _pullback_one_at_a_time(transpose: Rule) -> Rule:
    """The eager tape's pullback of a primitive linear in each operand with the others fixed:
    its transpose rule, once per traced operand, that operand undefined and the others known
    (`tape.pullback_rules`)."""

    def pullback(ct: Any, ans: Any, primals: Sequence[Any], slots: Sequence[int], params):
        cts: list[Any] = [None] * len(primals)
        for i, s in enumerate(slots):
            if s >= 0:
                args = list(primals)
                args[i] = ad.UndefinedPrimal(core.get_aval(primals[i]))
                cts[i] = transpose(ct, *args, **params)[i]
        return cts

    return pullback


def _linear_jvp(p: core.Primitive) -> Rule:
    def rule(primals: Sequence[Any], tangents: Sequence[Any], **params: Any) -> tuple[Any, Any]:
        ans = p.bind(*primals, **params)
        return ans, p.bind(*map(ad.instantiate, tangents), **params)

    rule.__name__ = f"_{p.name}_jvp"
    return rule


# ---- batching helpers -----------------------------------------------------------------------


def broadcasting_batch(p: core.Primitive) -> Rule:
    """The batching rule of an elementwise primitive that broadcasts like NumPy."""

    def rule(
        axis_size: int, vals: Sequence[Any], dims: Sequence[int | None], **params: Any
    ) -> tuple[Any, Any]:
        if len(vals) == 1:
            return p.bind(*vals, **params), dims[0]
        # structural's primitives are themselves defined here; this runs with every module
        # loaded (see the allow-list in tests/test_layering.py).
        from funcdiff._src.lax.structural import align_for_broadcast

        vals = align_for_broadcast(vals, dims)
        if p.name != "select_n":  # (its selector takes no part in the promotion)
            vals = _cast_batched_weak(vals, dims)
        return p.bind(*vals, **params), 0

    rule.__name__ = f"_{p.name}_batch"
    return rule


def _cast_batched_weak(vals: list[Any], dims: Sequence[int | None]) -> list[Any]:
    """A batched weakly typed scalar is an array of its own dtype, which NumPy would let
    promote (weak float64 times float32 is float64): cast it to the operands' common dtype
    first, as an unbatched one (a Python scalar) adopts it."""
    avals = [core.get_aval(v) for v in vals]
    if not any(a.weak_type and d is not None for a, d in zip(avals, dims)):
        return vals
    dtype, weak = dtypes.result_type(*((a.dtype, a.weak_type) for a in avals))
    if weak:
        return vals
    from funcdiff._src.lax.structural import convert_element_type

    return [convert_element_type(v, dtype) if a.weak_type and d is not None and a.dtype != dtype
            else v for v, a, d in zip(vals, avals, dims)]


def shift_axes(axes: Sequence[int]) -> tuple[int, ...]:
    return tuple(a + 1 for a in axes)


# Elementwise primitives whose result is not "weakly typed exactly when every operand is":
# casts and comparisons (strong results), and `select_n`, whose selector's type does not count.
_STRONG_RESULTS = {"convert_element_type", "eq", "ne", "lt", "le", "gt", "ge", "is_finite",
                   "select_n"}


def elementwise_primitive(name: str, **rules: Any) -> core.Primitive:
    """`define_primitive` for this module's primitives: all work elementwise with NumPy
    broadcasting, which also gives their batching rule. On Python scalars alone their result
    is weakly typed (a Python scalar), except for casts, comparisons and `select_n` (which
    `run_impl` types with their abstract rules)."""
    return define_primitive(
        name, elementwise=True, weak_results=name not in _STRONG_RESULTS, **rules
    )
