"""Defining primitives: one call registers every rule of a primitive. This module is the leaf
of `lax/`: it imports no primitive (`structural.py`, the primitives every rule uses, is defined
with it; two rule factories below import structural inside the rule, when it runs).

`define_primitive` takes the NumPy implementation, the shape/dtype rule and the derivative
rules, and files each rule in the table of the transformation that owns it. The helpers below
build the common rule shapes (per-argument JVPs, linear primitives, broadcasting) so that most
rules are one short named function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes
from funcdiff._src.core import ShapedArray
from funcdiff._src.errors import PrimitiveError
from funcdiff._src.interpreters import ad, batching
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters import lowering_rules as lowering
from funcdiff._src.interpreters.ad import Zero

Rule = Callable[..., Any]


def define_primitive(
    name: str,
    *,
    impl: Rule,
    abstract_eval: Rule,
    jvp: Rule | None = None,
    jvp_partials: Sequence[Rule | None] | None = None,
    linear: bool = False,
    transpose: Rule | None = None,
    batch: Rule | None = None,
    elementwise: bool = False,
    lower: Rule | None = None,
    allocates: bool = False,
    nondifferentiable: bool = False,
    multiple_results: bool = False,
    cost: Rule | None = None,
    transcendental: bool = False,
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
    - `linear`: instead of `jvp`, the primitive is linear in every operand, so its JVP applies
      it to the tangents.
    - `transpose(ct, *args, **params) -> list`: for primitives linear in some operands; the
      linear operands arrive as `UndefinedPrimal`, and the result has one cotangent per operand
      (None for operands that are not linear).
    - `batch(values, dims, **params) -> (out, out_dim)`: the `vmap` rule; `dims` holds each
      operand's batch dimension or None.
    - `elementwise`: instead of `batch`, the primitive works elementwise with NumPy
      broadcasting, so batching aligns the batch dimensions and applies it once.
    - `lower(ctx, *operand_names, **params) -> str`: the Python expression `jit` generates
      for it (see `funcdiff._src.interpreters.lowering_rules`). NumPy ufuncs get
      ``xp.<ufunc name>(...)`` by default; other primitives call `impl`.
    - `allocates`: the result is always a new array, never a view of an operand (lets `jit`
      plan buffer reuse around it); NumPy ufuncs are known to allocate.
    - `nondifferentiable`: the output has no derivative (comparisons, argmax...): its tangent is
      zero and reverse mode treats it as a constant.
    - `cost(avals_in, avals_out, **params) -> Cost`: FLOPs, transcendentals and bytes read and
      written (see `funcdiff._src.interpreters.cost`). `elementwise` primitives default to one
      flop per output element, or with `transcendental` (exp, log, sin...) one transcendental.
    """
    p = core.Primitive(name, multiple_results)
    p.def_impl(impl)
    p.def_abstract_eval(abstract_eval)
    if nondifferentiable:
        ad.nondifferentiable.add(p)
    if jvp_partials is not None:
        jvp = _jvp_from_partials(p, jvp_partials)
    elif linear:
        jvp = _linear_jvp(p)
    if jvp is not None:
        ad.jvp_rules[p] = jvp
    if transpose is not None:
        ad.transpose_rules[p] = transpose
    if elementwise:
        batch = broadcasting_batch(p)
    if batch is not None:
        batching.batch_rules[p] = batch
    ufunc = impl.__name__ if isinstance(impl, np.ufunc) and impl.nout == 1 else None
    if lower is None and ufunc is not None:
        lower = lowering.xp_function(ufunc)
    lowering.register(p, lower, ufunc=ufunc, allocates=allocates)
    if cost is None and elementwise:
        cost = cost_mod.elementwise_cost(transcendental)
    if cost is not None:
        cost_mod.cost_rules[p] = cost
    return p


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
    if len(avals) == 2:  # the common case, without a generator
        x, y = avals
        key = (kinds, (x.shape, x.dtype, x.weak_type), (y.shape, y.dtype, y.weak_type))
    else:
        key = (kinds, *((a.shape, a.dtype, a.weak_type) for a in avals))
    out = _elementwise_cache.get(key)
    if out is None:
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


def _jvp_from_partials(p: core.Primitive, partials: Sequence[Rule | None]) -> Rule:
    def rule(primals: Sequence[Any], tangents: Sequence[Any], **params: Any) -> tuple[Any, Any]:
        # fit_to_aval uses structural's primitives, which are defined with this module's
        # define_primitive; the rule runs with every module loaded.
        from funcdiff._src.lax.structural import fit_to_aval

        ans = p.bind(*primals, **params)
        out_aval = core.get_aval(ans)
        total: Any = None
        for partial, t in zip(partials, tangents, strict=True):
            if type(t) is Zero or partial is None:
                continue
            contribution = fit_to_aval(partial(t, ans, *primals, **params), out_aval)
            total = contribution if total is None else ad.add_tangents(total, contribution)
        return ans, Zero(ad.tangent_aval(out_aval)) if total is None else total

    rule.__name__ = f"_{p.name}_jvp"
    return rule


def _linear_jvp(p: core.Primitive) -> Rule:
    def rule(primals: Sequence[Any], tangents: Sequence[Any], **params: Any) -> tuple[Any, Any]:
        ans = p.bind(*primals, **params)
        return ans, p.bind(*map(ad.instantiate, tangents), **params)

    rule.__name__ = f"_{p.name}_jvp"
    return rule


# ---- batching helpers -----------------------------------------------------------------------


def broadcasting_batch(p: core.Primitive) -> Rule:
    """The batching rule of an elementwise primitive that broadcasts like NumPy."""

    def rule(vals: Sequence[Any], dims: Sequence[int | None], **params: Any) -> tuple[Any, Any]:
        if len(vals) == 1:
            return p.bind(*vals, **params), dims[0]
        # structural's primitives are themselves defined here; this runs with every module
        # loaded (see the allow-list in tests/test_layering.py).
        from funcdiff._src.lax.structural import align_for_broadcast

        return p.bind(*align_for_broadcast(vals, dims), **params), 0

    rule.__name__ = f"_{p.name}_batch"
    return rule


def shift_axes(axes: Sequence[int]) -> tuple[int, ...]:
    return tuple(a + 1 for a in axes)


_STRONG_RESULTS = {"convert_element_type", "eq", "ne", "lt", "le", "gt", "ge", "is_finite"}


def elementwise_primitive(name: str, **rules: Any) -> core.Primitive:
    """`define_primitive` for this module's primitives: all work elementwise with NumPy
    broadcasting, which also gives their batching rule. On Python scalars alone their result
    is weakly typed (a Python scalar), except for casts and comparisons."""
    p = define_primitive(name, elementwise=True, **rules)
    p.weak_results = name not in _STRONG_RESULTS
    return p
