# Over 600 lines: 40 one-block primitives, from arithmetic to selection, that all rules use.
"""Elementwise primitives: arithmetic, rounding, complex parts, comparisons, logic, selection.

The transcendental functions (exp, log, pow, trigonometric, hyperbolic, erf) are in
`transcendental.py`, built on these.

Binary primitives broadcast like NumPy and promote dtypes by NEP 50 (Python scalars are weak).
Each primitive is one block: the NumPy implementation, the shape/dtype rule, the derivative
rules (written with these same operations, so they differentiate again), then its wrapper.
"""

from __future__ import annotations

import enum
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes
from funcdiff._src.array import as_weak_array
from funcdiff._src.core import Literal, ShapedArray, Var
from funcdiff._src.errors import PrimitiveError
from funcdiff._src.interpreters import ad
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters import lowering_rules as lowering
from funcdiff._src.interpreters.ad import UndefinedPrimal, Zero, is_undefined_primal
from funcdiff._src.interpreters.simplify_rules import literal_number, same_type
from funcdiff._src.lax._define import (
    binary_elementwise_aval,
    broadcast_shapes,
    check_kinds,
    elementwise_aval,
    elementwise_primitive,
)

# Defined in structural.py (the rules of every family use them); re-exported in their family.
from funcdiff._src.lax.structural import convert_element_type as convert_element_type
from funcdiff._src.lax.structural import convert_element_type_p as convert_element_type_p
from funcdiff._src.lax.structural import fit_to_aval, to_real_aval, unbroadcast
from funcdiff._src.lax.structural import real as real
from funcdiff._src.lax.structural import real_p as real_p

Array = Any


INEXACT = "fc"
FLOAT = "f"
NUMERIC = "iufc"
ANY = "biufc"


def unary_aval(kinds: str):
    def rule(x: ShapedArray) -> ShapedArray:
        if x.dtype.kind not in kinds:  # (the common case without a list and a call)
            check_kinds([x], kinds)
        return x

    return rule


def binary_aval(kinds: str):
    return binary_elementwise_aval(kinds)


def _compare_aval(x: ShapedArray, y: ShapedArray) -> ShapedArray:
    out = elementwise_aval(x, y)
    return ShapedArray(out.shape, np.bool_)


def _bool_aval(x: ShapedArray) -> ShapedArray:
    return ShapedArray(x.shape, np.bool_)


def checked_impl(ufunc: np.ufunc, kinds: str):
    """`ufunc` refusing operands of other dtype kinds than `kinds`, so that eager evaluation
    applies the dtype rule that staging (jit) applies, as in JAX (NumPy would cast)."""

    def impl(*args: Any) -> Any:
        for a in args:
            if np.asarray(a).dtype.kind not in kinds:
                avals = [core.get_aval(x) for x in args]
                elementwise_aval(*avals, kinds=kinds)  # raises the message staging gives
        return ufunc(*args)

    return impl


# ---- arithmetic -----------------------------------------------------------------------------


def _add_jvp(primals, tangents):
    ans = add(*primals)
    aval = core.get_aval(ans)
    tx, ty = tangents
    if type(tx) is Zero and type(ty) is Zero:
        return ans, Zero(aval)
    if type(tx) is Zero:
        return ans, fit_to_aval(ty, aval)
    if type(ty) is Zero:
        return ans, fit_to_aval(tx, aval)
    return ans, fit_to_aval(add(tx, ty), aval)


def _add_transpose(ct, x, y):
    return [
        unbroadcast(ct, x.aval) if is_undefined_primal(x) else None,
        unbroadcast(ct, y.aval) if is_undefined_primal(y) else None,
    ]


def _add_sub_direct(subtract: bool):
    """The direct JVP (`staged_ad.direct_jvp_rules`) of add or sub: `_add_jvp`'s or
    `_sub_jvp`'s equations (none when one tangent is zero and the other has the result's
    type)."""

    def rule(lin, ins, tangents):
        tx, ty = tangents
        p = sub_p if subtract else add_p
        if tx is not None and ty is not None:
            aval = p.abstract_eval(tx.aval, ty.aval)
            if not lin.fits(aval):
                return NotImplemented
            lin.keep()
            return lin.tangent(p, [tx, ty], aval)
        t = ty if tx is None else tx
        if not lin.fits(t.aval):
            return NotImplemented
        lin.keep()
        return lin.tangent(neg_p, [t], t.aval) if tx is None and subtract else t

    return rule


def _add_sub_transpose_direct(subtract: bool):
    """`_add_transpose`'s or `_sub_transpose`'s equations, recorded directly
    (`staged_ad.direct_transpose_rules`): none, or a negation for sub's second operand."""

    def rule(tr, ct, x, y):
        for a in (x, y):
            if type(a) is UndefinedPrimal and not tr.fits(ct.aval, a.aval):
                return NotImplemented
        cy = None
        if type(y) is UndefinedPrimal:
            cy = tr.emit(neg_p, [ct], ct.aval) if subtract else ct
        return [ct if type(x) is UndefinedPrimal else None, cy]

    return rule


add_p = elementwise_primitive(
    "add", impl=np.add, abstract_eval=binary_aval(NUMERIC), linear=True, jvp=_add_jvp,
    jvp_direct=_add_sub_direct(False), transpose=_add_transpose,
    transpose_direct=_add_sub_transpose_direct(False),
    lower=lowering.binary_operator("+"), array_api="+",
)


def add(x: Array, y: Array) -> Array:
    """Elementwise ``x + y`` with NumPy broadcasting."""
    return add_p.bind(x, y)


def _sub_jvp(primals, tangents):
    ans = sub(*primals)
    aval = core.get_aval(ans)
    tx, ty = tangents
    if type(tx) is Zero and type(ty) is Zero:
        return ans, Zero(aval)
    if type(tx) is Zero:
        return ans, fit_to_aval(neg(ty), aval)
    if type(ty) is Zero:
        return ans, fit_to_aval(tx, aval)
    return ans, fit_to_aval(sub(tx, ty), aval)


def _sub_transpose(ct, x, y):
    # (`type(...) is UndefinedPrimal`: `is_undefined_primal` inlined, here and in `mul`'s
    # rule, which reverse mode runs for most equations; `add`'s is shown in the docs as it is.)
    return [
        unbroadcast(ct, x.aval) if type(x) is UndefinedPrimal else None,
        unbroadcast(neg(ct), y.aval) if type(y) is UndefinedPrimal else None,
    ]


sub_p = elementwise_primitive(
    "sub", impl=np.subtract, abstract_eval=binary_aval(NUMERIC), linear=True, jvp=_sub_jvp,
    jvp_direct=_add_sub_direct(True), transpose=_sub_transpose,
    transpose_direct=_add_sub_transpose_direct(True), lower=lowering.binary_operator("-"),
    array_api="-",
)


def sub(x: Array, y: Array) -> Array:
    """Elementwise ``x - y``."""
    return sub_p.bind(x, y)


def _mul_transpose_direct(tr, ct, x, y):
    """`_mul_transpose`'s equation, recorded directly (`staged_ad.direct_transpose_rules`)."""
    if type(x) is UndefinedPrimal:
        if type(y) is UndefinedPrimal:
            return NotImplemented
        aval = mul_p.abstract_eval(ct.aval, y.aval)
        return [tr.emit(mul_p, [ct, y], aval), None] if tr.fits(aval, x.aval) else NotImplemented
    aval = mul_p.abstract_eval(x.aval, ct.aval)
    return [None, tr.emit(mul_p, [x, ct], aval)] if tr.fits(aval, y.aval) else NotImplemented


def _mul_transpose(ct, x, y):
    x_linear = type(x) is UndefinedPrimal
    if x_linear and type(y) is UndefinedPrimal:
        raise NotImplementedError(
            "mul of two tangents is not linear, so reverse mode cannot transpose it. A JVP "
            "rule must be linear in the tangents (check custom_jvp rules for a product of "
            "tangents).")
    if x_linear:
        return [unbroadcast(mul_p.bind(ct, y), x.aval), None]
    return [None, unbroadcast(mul_p.bind(x, ct), y.aval)]


def _mul_direct(lin, ins, tangents):
    """The direct JVP (`staged_ad.direct_jvp_rules`) of mul: its partials' products,
    ``tx * y`` and ``x * ty``, summed by `add_any`."""
    (x, y), (tx, ty) = ins, tangents
    ax = None if tx is None else mul_p.abstract_eval(tx.aval, y.aval)
    ay = None if ty is None else mul_p.abstract_eval(x.aval, ty.aval)
    if (ax is not None and not lin.fits(ax)) or (ay is not None and not lin.fits(ay)):
        return NotImplemented
    lin.keep()
    cx = None if tx is None else lin.tangent(mul_p, [tx, lin.residual(y)], ax)
    cy = None if ty is None else lin.tangent(mul_p, [lin.residual(x), ty], ay)
    if cx is None or cy is None:
        return cy if cx is None else cx
    return lin.tangent(ad.add_any_p, [cx, cy])


mul_p = elementwise_primitive(
    "mul", impl=np.multiply, abstract_eval=binary_aval(NUMERIC),
    # (`mul_p.bind`, not `mul`: one call fewer for the most common tangent product)
    jvp_partials=[lambda g, ans, x, y: mul_p.bind(g, y), lambda g, ans, x, y: mul_p.bind(x, g)],
    jvp_direct=_mul_direct, transpose_direct=_mul_transpose_direct,
    transpose=_mul_transpose, lower=lowering.binary_operator("*"),
    array_api="*",
)


def mul(x: Array, y: Array) -> Array:
    """Elementwise ``x * y``."""
    return mul_p.bind(x, y)


def _div_transpose(ct, x, y):
    if is_undefined_primal(y):
        raise NotImplementedError("div is not linear in its denominator")
    return [unbroadcast(div(ct, y), x.aval), None]


def _div_direct(lin, ins, tangents):
    """The direct JVP (`staged_ad.direct_jvp_rules`) of div, its partials' equations in their
    order: ``tx / y``, then ``-(ty * (ans / y))`` with ``ans / y`` staged with the primal, summed
    by `add_any`."""
    (_, y), (tx, ty) = ins, tangents
    ans = lin.eqn.outvars[0]
    ax = None if tx is None else div_p.abstract_eval(tx.aval, y.aval)
    if ty is not None:
        q_aval = div_p.abstract_eval(ans.aval, y.aval)
        ay = mul_p.abstract_eval(ty.aval, q_aval)
        if not lin.fits(ay):
            return NotImplemented
    if ax is not None and not lin.fits(ax):
        return NotImplemented
    lin.keep()
    cx = None if tx is None else lin.tangent(div_p, [tx, lin.residual(y)], ax)
    if ty is None:
        return cx
    q = lin.primal(div_p, [ans, y], q_aval)
    cy = lin.tangent(neg_p, [lin.tangent(mul_p, [ty, lin.residual(q)], ay)], ay)
    return cy if cx is None else lin.tangent(ad.add_any_p, [cx, cy])


div_p = elementwise_primitive(
    "div", impl=np.true_divide, abstract_eval=binary_aval(INEXACT),
    jvp_partials=[
        lambda g, ans, x, y: div(g, y),
        lambda g, ans, x, y: neg(mul(g, div(ans, y))),
    ],
    jvp_direct=_div_direct, transpose=_div_transpose, lower=lowering.binary_operator("/"),
    array_api="/",
)


def div(x: Array, y: Array) -> Array:
    """Elementwise true division of inexact (float or complex) arrays."""
    return div_p.bind(x, y)


def _neg_transpose(ct, x):
    return [neg(ct)]


def negated_literal(c: Literal) -> Literal:
    return Literal(-c.val, c.aval)


def _simplify_neg(eqn, ins, producers, uses, out):
    # --x is x; -(c * y) is (-c) * y, exactly (IEEE negation only flips the sign).
    (x,) = ins
    prev = producers.get(x) if type(x) is Var else None
    if prev is not None and prev.primitive is neg_p:
        return prev.invars[0]
    if prev is not None and prev.primitive is mul_p and out.aval.dtype.kind in "fc":
        for k, c in enumerate(prev.invars):
            other = prev.invars[1 - k]
            if literal_number(c) is not None and c.aval.shape == () and same_type(other, out):
                return prev.replace(invars=[negated_literal(c), other], outvars=[out])
    return None


neg_p = elementwise_primitive(
    "neg", impl=np.negative, abstract_eval=unary_aval(NUMERIC), linear=True,
    transpose=_neg_transpose, transpose_direct=lambda tr, ct, x: [tr.emit(neg_p, [ct])],
    lower=lowering.unary_operator("-"), simplify=_simplify_neg,
    array_api="u-",
)


def neg(x: Array) -> Array:
    """Elementwise ``-x``."""
    return neg_p.bind(x)


def _rem_aval(x, y):
    return elementwise_aval(x, y, kinds="iuf")


rem_p = elementwise_primitive(
    "rem", impl=np.fmod, abstract_eval=_rem_aval,
    jvp_partials=[
        lambda g, ans, x, y: g,
        lambda g, ans, x, y: mul(neg(g), trunc(div(x, y))),
    ],
)


def rem(x: Array, y: Array) -> Array:
    """Remainder of truncated division (C ``fmod``): the result has the sign of `x`."""
    return rem_p.bind(x, y)


floor_divide_p = elementwise_primitive(
    "floor_divide", impl=np.floor_divide, abstract_eval=binary_aval("iu"), nondifferentiable=True,
    array_api="//",
)


def floor_divide(x: Array, y: Array) -> Array:
    """Integer floor division (`numpy.floor_divide` on integers)."""
    return floor_divide_p.bind(x, y)


def lax_div(x: Array, y: Array) -> Array:
    """``x / y`` as JAX's `lax.div`: true division of floats, and of integers the quotient
    rounded toward zero (``lax.div(-7, 2)`` is -3), eagerly and under `jit` alike.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        assert lax.div(np.array([-7, 7]), np.array([2, 2])).tolist() == [-3, 3]
        assert lax.div(7.0, 2.0) == 3.5
        ```
    """
    if all(core.get_aval(a).dtype.kind in "iu" for a in (x, y)):
        # x - rem(x, y) is an exact multiple of y (rem truncates toward zero, as C's fmod).
        return floor_divide(sub(x, rem(x, y)), y)
    return div(x, y)


def trunc(x: Array) -> Array:
    return mul(sign(x), floor(abs(x)))


def _integer_pow_impl(x, *, y):
    if y == 2:
        return np.multiply(x, x)
    if y < 0 and np.asarray(x).dtype.kind in "iub":
        raise PrimitiveError("integers to negative integer powers are not allowed")
    return np.power(x, y)


def _integer_pow_jvp_partial(g, ans, x, *, y):
    if y == 0:
        return mul(g, zeros_like(x))
    if y == 1:
        return g
    if y == 2:
        return mul(g, mul(2, x))
    return mul(g, mul(y, integer_pow(x, y - 1)))


def _integer_pow_lower(ctx, x, *, y):
    if y == 2:
        return f"({x} * {x})"
    if y == 1:
        return x
    return f"xp.power({x}, {y})" if y >= 0 or ctx.in_avals[0].dtype.kind in "fc" else \
        f"{ctx.const(_integer_pow_impl, 'f')}({x}, y={y})"


def _integer_pow_cost(avals_in, avals_out, *, y):
    # Multiplications of exponentiation by squaring (x**2 is one), plus one division for y < 0.
    k = y if y >= 0 else -y
    per_element = (k.bit_length() - 1 + k.bit_count() - 1 if k > 1 else 0) + (y < 0)
    return cost_mod.elementwise_cost(per_element=per_element)(avals_in, avals_out)


integer_pow_p = elementwise_primitive(
    "integer_pow", allocates=True,
    impl=_integer_pow_impl, abstract_eval=lambda x, *, y: unary_aval(NUMERIC)(x),
    jvp_partials=[_integer_pow_jvp_partial], lower=_integer_pow_lower, cost=_integer_pow_cost,
    simplify=lambda eqn, ins, producers, uses, out: ins[0] if eqn.params["y"] == 1 else None,
)


def integer_pow(x: Array, y: int) -> Array:
    """Elementwise ``x ** y`` for a static Python integer `y`."""
    return integer_pow_p.bind(x, y=int(y))


def square(x: Array) -> Array:
    return integer_pow(x, 2)


def _minmax_partial(pick_x_when):
    # Ties share the derivative equally, as in JAX.
    def partial_x(g, ans, x, y):
        return mul(g, _tie_weights(pick_x_when(x, y), eq(x, y), g))

    def partial_y(g, ans, x, y):
        return mul(g, _tie_weights(pick_x_when(y, x), eq(x, y), g))

    return [partial_x, partial_y]


def _tie_weights(strict: Array, tie: Array, like: Array) -> Array:
    dt = core.get_aval(like).dtype
    one = np.ones((), dt)
    half = np.full((), 0.5, dt)
    zero = np.zeros((), dt)
    return select_n(strict, select_n(tie, zero, half), one)


max_p = elementwise_primitive(
    "max", impl=np.maximum, abstract_eval=binary_aval("biufc"),
    jvp_partials=_minmax_partial(lambda a, b: gt(a, b)),
)  # (its Array API rule, in jit/array_api_rules.py, orders complex operands too)
min_p = elementwise_primitive(
    "min", impl=np.minimum, abstract_eval=binary_aval("biufc"),
    jvp_partials=_minmax_partial(lambda a, b: lt(a, b)),
)


def max(x: Array, y: Array) -> Array:  # noqa: A001
    """Elementwise maximum (propagates NaN, like `numpy.maximum`).

    Complex numbers are ordered lexicographically: by real part, then by imaginary part, as
    in NumPy and JAX (a NaN operand still propagates, as in NumPy).
    """
    return max_p.bind(x, y)


def min(x: Array, y: Array) -> Array:  # noqa: A001
    """Elementwise minimum (propagates NaN, like `numpy.minimum`); complex numbers are ordered
    lexicographically, as in `max`."""
    return min_p.bind(x, y)


# ---- sign, rounding, absolute value ---------------------------------------------------------

sign_p = elementwise_primitive(
    "sign", impl=np.sign, abstract_eval=unary_aval(NUMERIC), nondifferentiable=True,
    array_api="sign",
)
floor_p = elementwise_primitive(
    "floor", impl=np.floor, abstract_eval=unary_aval(FLOAT), nondifferentiable=True,
    array_api="floor",
)
ceil_p = elementwise_primitive(
    "ceil", impl=np.ceil, abstract_eval=unary_aval(FLOAT), nondifferentiable=True,
    array_api="ceil",
)
class RoundingMethod(enum.IntEnum):
    """How `funcdiff.lax.round` breaks ties (JAX's names and values)."""

    AWAY_FROM_ZERO = 0
    TO_NEAREST_EVEN = 1


def _round_impl(x: Any, rounding_method: int = RoundingMethod.TO_NEAREST_EVEN) -> Any:
    if rounding_method == RoundingMethod.TO_NEAREST_EVEN:
        return np.round(x)
    # Half away from zero. x - trunc(x) is exact, so no tie is created by rounding error.
    whole = np.trunc(x)
    return whole + np.where(np.abs(x - whole) >= 0.5, np.sign(x), 0).astype(whole.dtype)


def _round_aval(x: ShapedArray, rounding_method: int = RoundingMethod.TO_NEAREST_EVEN
                ) -> ShapedArray:
    check_kinds([x], FLOAT)
    return x


round_p = elementwise_primitive(
    "round", impl=_round_impl, abstract_eval=_round_aval, nondifferentiable=True
)
is_finite_p = elementwise_primitive(
    "is_finite", impl=np.isfinite, abstract_eval=_bool_aval, nondifferentiable=True,
    array_api="isfinite",
)


def sign(x: Array) -> Array:
    """Elementwise sign (-1, 0 or 1); its derivative is zero."""
    return sign_p.bind(x)


def floor(x: Array) -> Array:
    return floor_p.bind(x)


def ceil(x: Array) -> Array:
    return ceil_p.bind(x)


def round(x: Array) -> Array:  # noqa: A001
    """Round half to even, like `numpy.round` (the internal helper; `lax_round` is
    `funcdiff.lax.round`)."""
    return round_p.bind(x)


def lax_round(x: Array, rounding_method: RoundingMethod | int = RoundingMethod.AWAY_FROM_ZERO
              ) -> Array:
    """Round floats to integral values, ties away from zero by default, as JAX's `lax.round`.

    **Arguments:**

    - `x`: a float array.
    - `rounding_method`: `RoundingMethod.AWAY_FROM_ZERO` (0, the default) or
      `RoundingMethod.TO_NEAREST_EVEN` (1, as `numpy.round`).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        x = np.array([0.5, 1.5, 2.5, -2.5])
        assert np.array_equal(lax.round(x), [1.0, 2.0, 3.0, -3.0])
        assert np.array_equal(lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN),
                              [0.0, 2.0, 2.0, -2.0])
        ```
    """
    try:
        method = RoundingMethod(rounding_method)
    except ValueError:
        raise ValueError(
            f"lax.round: rounding_method must be RoundingMethod.AWAY_FROM_ZERO (0) or "
            f"RoundingMethod.TO_NEAREST_EVEN (1), got {rounding_method!r}") from None
    if method == RoundingMethod.TO_NEAREST_EVEN:
        return round_p.bind(x)
    return round_p.bind(x, rounding_method=int(method))


def is_finite(x: Array) -> Array:
    return is_finite_p.bind(x)


def _abs_aval(x: ShapedArray) -> ShapedArray:
    check_kinds([x], NUMERIC)
    return x.update(dtype=dtypes.real_dtype(x.dtype))


def _abs_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    ans = abs(x)
    if dtypes.is_complex(core.get_aval(x).dtype):
        # d|z| = Re(conj(z) dz) / |z|, taken as 0 at z = 0.
        safe = select_n(eq(ans, 0), ans, ones_like(ans))
        return ans, div(real(mul(conj(x), t)), safe)
    # As in JAX, the derivative at 0 (and -0.0) is taken as 1, the right-hand one:
    # t * (2 * (x >= 0) - 1), one multiplication in the linear part.
    dtype = core.get_aval(x).dtype
    slope = sub(mul(convert_element_type(ge(x, np.zeros((), dtype)), dtype),
                    np.asarray(2, dtype)), np.ones((), dtype))
    return ans, mul(t, slope)


abs_p = elementwise_primitive(
    "abs", impl=np.abs, abstract_eval=_abs_aval, jvp=_abs_jvp, array_api="abs"
)


def abs(x: Array) -> Array:  # noqa: A001
    """Elementwise absolute value (the modulus for complex numbers)."""
    return abs_p.bind(x)


# ---- complex numbers ------------------------------------------------------------------------


def _imag_transpose(ct, x):
    if not dtypes.is_complex(x.aval.dtype):
        return [Zero(x.aval)]  # the imaginary part of a real array is the constant 0
    return [mul(neg(ct), np.full((), 1j, x.aval.dtype))]


imag_p = elementwise_primitive(
    "imag", impl=np.imag, abstract_eval=to_real_aval, linear=True, transpose=_imag_transpose
)


def _conj_transpose(ct, x):
    return [conj(ct)]


conj_p = elementwise_primitive(
    "conj", impl=np.conjugate, abstract_eval=unary_aval(NUMERIC), linear=True,
    transpose=_conj_transpose,
    array_api="conj",
)


def _complex_impl(x, y):
    # `1j * y` keeps a Python float weak (a Python complex), so float32 gives complex64.
    return np.add(x, 1j * y)


def _complex_aval(x: ShapedArray, y: ShapedArray) -> ShapedArray:
    out = elementwise_aval(x, y, kinds=FLOAT)
    return out.update(dtype=np.complex64 if out.dtype == np.float32 else np.complex128)


def _complex_transpose(ct, x, y):
    return [
        unbroadcast(real(ct), x.aval) if is_undefined_primal(x) else None,
        unbroadcast(neg(imag(ct)), y.aval) if is_undefined_primal(y) else None,
    ]


complex_p = elementwise_primitive(
    "complex", allocates=True, impl=_complex_impl, abstract_eval=_complex_aval, linear=True,
    transpose=_complex_transpose,
)


def imag(x: Array) -> Array:
    return imag_p.bind(x)


def conj(x: Array) -> Array:
    return conj_p.bind(x)


def lax_conj(x: Array) -> Array:
    """The complex conjugate; a real float array is first made complex, so the result is
    always complex, as JAX's `lax.conj` (`funcdiff.numpy.conjugate` keeps real arrays real).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        assert lax.conj(np.array([1.0, 2.0], np.float32)).dtype == np.complex64
        assert lax.conj(np.array([1 + 2j])) == 1 - 2j
        ```
    """
    aval = core.get_aval(x)
    if aval.dtype.kind not in INEXACT:
        raise TypeError(f"lax.conj: the operand has dtype {aval.dtype}; it must be a float or "
                        "complex array (convert integers with lax.convert_element_type), as "
                        "in JAX.")
    if aval.dtype.kind == "f":
        x = convert_element_type(x, np.result_type(aval.dtype, np.complex64))
    return conj_p.bind(x)


def complex(x: Array, y: Array) -> Array:  # noqa: A001
    """``x + 1j * y`` from real arrays."""
    return complex_p.bind(x, y)


# ---- comparisons and logic (no derivative) --------------------------------------------------

eq_p = elementwise_primitive(
    "eq", impl=np.equal, abstract_eval=_compare_aval, nondifferentiable=True,
    array_api="==",
)
ne_p = elementwise_primitive(
    "ne", impl=np.not_equal, abstract_eval=_compare_aval, nondifferentiable=True,
    array_api="!=",
)
lt_p = elementwise_primitive(
    "lt", impl=np.less, abstract_eval=_compare_aval, nondifferentiable=True,
    array_api="<",
)
le_p = elementwise_primitive(
    "le", impl=np.less_equal, abstract_eval=_compare_aval, nondifferentiable=True,
    array_api="<=",
)
gt_p = elementwise_primitive(
    "gt", impl=np.greater, abstract_eval=_compare_aval, nondifferentiable=True,
    array_api=">",
)
ge_p = elementwise_primitive(
    "ge", impl=np.greater_equal, abstract_eval=_compare_aval, nondifferentiable=True,
    array_api=">=",
)


def eq(x: Array, y: Array) -> Array:
    return eq_p.bind(x, y)


def ne(x: Array, y: Array) -> Array:
    return ne_p.bind(x, y)


def lt(x: Array, y: Array) -> Array:
    return lt_p.bind(x, y)


def le(x: Array, y: Array) -> Array:
    return le_p.bind(x, y)


def gt(x: Array, y: Array) -> Array:
    return gt_p.bind(x, y)


def ge(x: Array, y: Array) -> Array:
    return ge_p.bind(x, y)


def _bitwise_aval(x: ShapedArray, y: ShapedArray) -> ShapedArray:
    return elementwise_aval(x, y, kinds="biu")


and_p = elementwise_primitive(
    "and", impl=np.bitwise_and, abstract_eval=_bitwise_aval, nondifferentiable=True,
    array_api="bitwise_and",
)
or_p = elementwise_primitive(
    "or", impl=np.bitwise_or, abstract_eval=_bitwise_aval, nondifferentiable=True,
    array_api="bitwise_or",
)
xor_p = elementwise_primitive(
    "xor", impl=np.bitwise_xor, abstract_eval=_bitwise_aval, nondifferentiable=True,
    array_api="bitwise_xor",
)
not_p = elementwise_primitive(
    "not", impl=np.invert, abstract_eval=unary_aval("biu"), nondifferentiable=True,
    array_api="bitwise_invert",
)
shift_left_p = elementwise_primitive(
    "shift_left", impl=checked_impl(np.left_shift, "iu"),
    abstract_eval=lambda x, y: elementwise_aval(x, y, kinds="iu"), nondifferentiable=True,
    lower=lowering.xp_function("left_shift"),
    array_api="bitwise_left_shift",
)
shift_right_p = elementwise_primitive(
    "shift_right", impl=checked_impl(np.right_shift, "iu"),
    abstract_eval=lambda x, y: elementwise_aval(x, y, kinds="iu"), nondifferentiable=True,
    lower=lowering.xp_function("right_shift"),
    array_api="bitwise_right_shift",
)


def bitwise_and(x: Array, y: Array) -> Array:
    """Logical AND of booleans, bitwise AND of integers."""
    return and_p.bind(x, y)


def bitwise_or(x: Array, y: Array) -> Array:
    return or_p.bind(x, y)


def bitwise_xor(x: Array, y: Array) -> Array:
    return xor_p.bind(x, y)


def bitwise_not(x: Array) -> Array:
    return not_p.bind(x)


def shift_left(x: Array, y: Array) -> Array:
    return shift_left_p.bind(x, y)


def shift_right(x: Array, y: Array) -> Array:
    """Right shift: logical for unsigned integers, arithmetic for signed ones (as NumPy)."""
    return shift_right_p.bind(x, y)


# ---- selection ------------------------------------------------------------------------------


def _select_n_impl(which, *cases):
    if len(cases) == 2:
        out = np.where(which, cases[1], cases[0])
    else:
        out = np.choose(np.asarray(which, np.int64), np.broadcast_arrays(*cases))
    if type(which) in core._PY_SCALAR_TYPES and all(
            type(c) in core._PY_SCALAR_TYPES for c in cases):
        return out.item()  # weakly typed, as its abstract value says (and jit computes)
    return out


def _select_n_aval(which: ShapedArray, *cases: ShapedArray) -> ShapedArray:
    if not cases:
        raise PrimitiveError("select_n needs at least one case")
    if which.dtype.kind not in "biu":
        raise PrimitiveError(f"the selector must be boolean or integer, got {which.dtype}")
    if which.dtype.kind == "b" and len(cases) > 2:
        raise PrimitiveError("a boolean selector chooses between exactly two cases")
    out = elementwise_aval(*cases)
    dtypes_seen = {c.dtype for c in cases if not c.weak_type}
    if len(dtypes_seen) > 1:
        raise PrimitiveError(f"cases must have one dtype, got {sorted(map(str, dtypes_seen))}")
    # Weakly typed when the cases are, whatever the selector (as in JAX): a selection
    # between Python scalars by an array is a `WeakArray`, which takes the dtype of the
    # arrays it meets.
    return out.update(shape=broadcast_shapes(which.shape, out.shape))


def _select_n_jvp(primals, tangents):
    which, *cases = primals
    ans = select_n(which, *cases)
    aval = core.get_aval(ans)
    if all(type(t) is Zero for t in tangents[1:]):
        return ans, Zero(ad.tangent_aval(aval))
    # A case with no tangent (a constant, or a Python int) contributes zeros of the output's
    # tangent dtype.
    ts = [ad.zeros_like_aval(ShapedArray(t.aval.shape, ad.tangent_aval(aval).dtype))
          if type(t) is Zero else t for t in tangents[1:]]
    return ans, fit_to_aval(select_n(which, *ts), aval)


def _select_n_transpose(ct, which, *cases):
    if is_undefined_primal(which):
        raise NotImplementedError("select_n is not linear in its selector")
    zeros = zeros_like(ct)
    out: list[Any] = [None]
    for i, c in enumerate(cases):
        if not is_undefined_primal(c):
            out.append(None)
            continue
        if len(cases) == 2:
            picked = select_n(which, ct, zeros) if i == 0 else select_n(which, zeros, ct)
        else:
            picked = select_n(eq(which, i), zeros, ct)
        out.append(unbroadcast(picked, c.aval))
    return out


def _select_n_lower(ctx, which, *cases):
    if len(cases) == 2:
        return f"xp.where({which}, {cases[1]}, {cases[0]})"
    return f"{ctx.const(_select_n_impl, 'f')}({which}, {', '.join(cases)})"


select_n_p = elementwise_primitive(
    "select_n", allocates=True, linear_in_each=True,
    impl=_select_n_impl, abstract_eval=_select_n_aval, jvp=_select_n_jvp,
    transpose=_select_n_transpose, lower=_select_n_lower,
)


def select_n(which: Array, *cases: Array) -> Array:
    """Pick ``cases[which]`` elementwise; a boolean `which` picks ``cases[1]`` where True
    (note the order: ``select_n(pred, on_false, on_true)``, as in JAX)."""
    return select_n_p.bind(which, *cases)


def select(pred: Array, on_true: Array, on_false: Array) -> Array:
    """``on_true`` where `pred` is True, else ``on_false``."""
    return select_n_p.bind(pred, on_false, on_true)


def _clamp_aval(lo: ShapedArray, x: ShapedArray, hi: ShapedArray) -> ShapedArray:
    return elementwise_aval(lo, x, hi, kinds="iuf")


def _clamp_partials():
    def partial_lo(g, ans, lo, x, hi):
        return select_n(lt(x, lo), zeros_like(g), g)

    def partial_x(g, ans, lo, x, hi):
        return select_n(bitwise_and(ge(x, lo), le(x, hi)), zeros_like(g), g)

    def partial_hi(g, ans, lo, x, hi):
        return select_n(gt(x, hi), zeros_like(g), g)

    return [partial_lo, partial_x, partial_hi]


def _clamp_impl(lo, x, hi):
    return np.minimum(np.maximum(x, lo), hi)


clamp_p = elementwise_primitive(
    "clamp", allocates=True,
    impl=_clamp_impl, abstract_eval=_clamp_aval, jvp_partials=_clamp_partials(),
    cost=cost_mod.elementwise_cost(per_element=2),  # a max and a min
)


def clamp(lo: Array, x: Array, hi: Array) -> Array:
    """Clip `x` to ``[lo, hi]`` elementwise (argument order as in JAX's `lax.clamp`)."""
    return clamp_p.bind(lo, x, hi)


# ---- dtype conversion and gradient stopping -------------------------------------------------


stop_gradient_p = elementwise_primitive(
    "stop_gradient", impl=lambda x: x, abstract_eval=lambda x: x, nondifferentiable=True,
    lower=lambda ctx, x: x, cost=cost_mod.free_cost,
)


def stop_gradient(x: Array) -> Array:
    """The identity, with a zero derivative: gradients do not flow through `x`."""
    return stop_gradient_p.bind(x)


# ---- helpers used by rules ------------------------------------------------------------------


def zeros_like(x: Array) -> np.ndarray:
    """Zeros of `x`'s shape and dtype (a read-only broadcast of one zero), weakly typed when
    `x` is (so that a select between `x` and them keeps `x`'s weak type, as in JAX)."""
    aval = core.get_aval(x)
    zeros = ad.zeros_like_aval(aval)
    return as_weak_array(zeros) if aval.weak_type else zeros


def ones_like(x: Array) -> np.ndarray:
    aval = core.get_aval(x)
    return np.ones(aval.shape, aval.dtype)

