"""Shared machinery for defining primitives: one call registers every rule of a primitive.

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
from funcdiff._src.interpreters import ad, lowering
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
    lower: Rule | None = None,
    allocates: bool = False,
    nondifferentiable: bool = False,
    multiple_results: bool = False,
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
    - `lower(ctx, *operand_names, **params) -> str`: the Python expression `jit` generates
      for it (see `funcdiff._src.interpreters.lowering`). NumPy ufuncs get
      ``xp.<ufunc name>(...)`` by default; other primitives call `impl`.
    - `allocates`: the result is always a new array, never a view of an operand (lets `jit`
      plan buffer reuse around it); NumPy ufuncs are known to allocate.
    - `nondifferentiable`: the output has no derivative (comparisons, argmax...): its tangent is
      zero and reverse mode treats it as a constant.
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
    ufunc = impl.__name__ if isinstance(impl, np.ufunc) and impl.nout == 1 else None
    if lower is None and ufunc is not None:
        lower = lowering.xp_function(ufunc)
    lowering.register(p, lower, ufunc=ufunc, allocates=allocates)
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


def fit_to_aval(t: Any, aval: ShapedArray) -> Any:
    """Broadcast a tangent to `aval`'s shape and cast it to its dtype (tangents of a broadcast
    or promoted operand)."""
    t_aval = core.get_aval(t)
    if t_aval.dtype != aval.dtype and dtypes.is_inexact(aval.dtype):
        t = _ew.convert_element_type(t, aval.dtype)
    if t_aval.shape != aval.shape:
        t = _shape.broadcast_to(t, aval.shape)
    return t


def unbroadcast(ct: Any, aval: ShapedArray) -> Any:
    """Sum a cotangent over the dimensions along which an operand of abstract value `aval`
    was broadcast, and cast it back to the operand's dtype."""
    ct_aval = core.get_aval(ct)
    if ct_aval.shape != aval.shape:
        lead = ct_aval.ndim - aval.ndim
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(aval.shape) if n == 1 and ct_aval.shape[lead + i] != 1
        )
        if axes:
            ct = _red.reduce_sum(ct, axes)
        if core.get_aval(ct).shape != aval.shape:
            ct = _shape.reshape(ct, aval.shape)
    ct_dtype = core.get_aval(ct).dtype
    if ct_dtype != aval.dtype:
        if dtypes.is_complex(ct_dtype) and not dtypes.is_complex(aval.dtype):
            ct = _ew.real(ct)
        ct = _ew.convert_element_type(ct, aval.dtype)
    return ct


# The op modules import this one; the helpers above use them only inside rules, at call time.
from funcdiff._src.lax import elementwise as _ew  # noqa: E402
from funcdiff._src.lax import reductions as _red  # noqa: E402
from funcdiff._src.lax import shape as _shape  # noqa: E402
