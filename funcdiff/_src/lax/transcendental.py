"""Transcendental elementwise primitives: exponentials, logarithms, powers, trigonometric and
hyperbolic functions, and the error function.

They follow the conventions of `elementwise.py` (NumPy broadcasting, NEP 50 promotion), whose
arithmetic their derivative rules are written with, so that they differentiate again.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from funcdiff._src.interpreters import lowering_rules as lowering
from funcdiff._src.lax._define import NO_ARRAY_API_SPECIAL, elementwise_primitive
from funcdiff._src.lax.elementwise import (
    FLOAT,
    INEXACT,
    add,
    binary_aval,
    checked_impl,
    div,
    div_p,
    eq,
    mul,
    mul_p,
    neg,
    neg_p,
    ones_like,
    select_n,
    sub,
    sub_p,
    unary_aval,
)

Array = Any


# ---- exponentials, logarithms, powers -------------------------------------------------------


def _safe_log_base(x: Array) -> Array:
    # d/dy x**y = log(x) x**y; at x == 0 that term is 0 (the power is 0 or not differentiable).
    return log(select_n(eq(x, 0), x, ones_like(x)))


pow_p = elementwise_primitive(
    "pow",
    transcendental=True,
    impl=np.power,
    abstract_eval=binary_aval(INEXACT),
    jvp_partials=[
        lambda g, ans, x, y: mul(g, mul(y, pow(x, sub(y, 1)))),
        lambda g, ans, x, y: mul(g, mul(_safe_log_base(x), ans)),
    ],
    array_api="pow",
)


def pow(x: Array, y: Array) -> Array:  # noqa: A001
    """Elementwise ``x ** y`` for inexact arrays (see `integer_pow` for integer exponents)."""
    return pow_p.bind(x, y)


def _scaled_direct(factor: Any):
    """The direct JVP (`staged_ad.direct_jvp_rules`) of a unary primitive whose tangent is
    ``t * factor`` (exp, tanh, logistic): ``factor(lin, ans)`` records the primal equations
    of its partial below (from the result `ans`, in the partial's order) and returns their
    last atom, which the tangent reads as a residual. `fits` is checked first on the avals
    the equations will have: the factor has the result's shape and dtype here."""

    def rule(lin, ins, tangents):
        (t,) = tangents
        ans = lin.eqn.outvars[0]
        m_aval = mul_p.abstract_eval(t.aval, ans.aval)
        if not lin.fits(m_aval):
            return NotImplemented
        lin.keep()
        return lin.tangent(mul_p, [t, lin.residual(factor(lin, ans))], m_aval)

    return rule


def _one_minus(lin, a):
    return lin.primal(sub_p, [lin.outer.pure(1).atom, a])


def _log_direct(lin, ins, tangents):
    """The direct JVP of log, ``t / x`` (its partial below)."""
    (x,), (t,) = ins, tangents
    aval = div_p.abstract_eval(t.aval, x.aval)
    if not lin.fits(aval):
        return NotImplemented
    lin.keep()
    return lin.tangent(div_p, [t, lin.residual(x)], aval)


exp_p = elementwise_primitive(
    "exp",
    transcendental=True,
    impl=np.exp,
    abstract_eval=unary_aval(INEXACT),
    jvp_partials=[lambda g, ans, x: mul(g, ans)],
    jvp_direct=_scaled_direct(lambda lin, ans: ans),
    array_api="exp",
)
log_p = elementwise_primitive(
    "log",
    transcendental=True,
    impl=np.log,
    abstract_eval=unary_aval(INEXACT),
    jvp_partials=[lambda g, ans, x: div(g, x)],
    jvp_direct=_log_direct,
    array_api="log",
)
log1p_p = elementwise_primitive(
    "log1p",
    transcendental=True,
    impl=np.log1p,
    abstract_eval=unary_aval(INEXACT),
    jvp_partials=[lambda g, ans, x: div(g, add(x, 1))],
    array_api="log1p",
)
expm1_p = elementwise_primitive(
    "expm1",
    transcendental=True,
    impl=np.expm1,
    abstract_eval=unary_aval(INEXACT),
    jvp_partials=[lambda g, ans, x: mul(g, add(ans, 1))],
    array_api="expm1",
)
sqrt_p = elementwise_primitive(
    "sqrt",
    transcendental=True,
    impl=np.sqrt,
    abstract_eval=unary_aval(INEXACT),
    jvp_partials=[lambda g, ans, x: div(g, mul(ans, 2))],
    array_api="sqrt",
)


def _rsqrt_impl(x):
    return 1 / np.sqrt(x)


rsqrt_p = elementwise_primitive(
    "rsqrt",
    transcendental=True,
    allocates=True,
    impl=_rsqrt_impl,
    abstract_eval=unary_aval(INEXACT),
    jvp_partials=[lambda g, ans, x: mul(g, mul(-0.5, div(ans, x)))],
)
cbrt_p = elementwise_primitive(
    "cbrt",
    transcendental=True,
    impl=np.cbrt,
    abstract_eval=unary_aval(FLOAT),
    jvp_partials=[lambda g, ans, x: div(g, mul(3, mul(ans, ans)))],
    lacks={
        "array_api": "the standard has no cube root (x ** (1/3) is not exact and fails for x < 0)"
    },
)


def _logistic_impl(x):
    # 1 / (1 + exp(-x)) without overflow for large |x|.
    return np.exp(-np.logaddexp(0, -x)) if np.asarray(x).dtype.kind == "f" else 1 / (1 + np.exp(-x))


logistic_p = elementwise_primitive(
    "logistic",
    transcendental=True,
    allocates=True,
    impl=_logistic_impl,
    abstract_eval=unary_aval(INEXACT),
    jvp_partials=[lambda g, ans, x: mul(g, mul(ans, sub(1, ans)))],
    jvp_direct=_scaled_direct(lambda lin, ans: lin.primal(mul_p, [ans, _one_minus(lin, ans)])),
)


def exp(x: Array) -> Array:
    return exp_p.bind(x)


def log(x: Array) -> Array:
    return log_p.bind(x)


def log1p(x: Array) -> Array:
    """``log(1 + x)``, accurate for small `x`."""
    return log1p_p.bind(x)


def expm1(x: Array) -> Array:
    """``exp(x) - 1``, accurate for small `x`."""
    return expm1_p.bind(x)


def sqrt(x: Array) -> Array:
    return sqrt_p.bind(x)


def rsqrt(x: Array) -> Array:
    """``1 / sqrt(x)``."""
    return rsqrt_p.bind(x)


def cbrt(x: Array) -> Array:
    return cbrt_p.bind(x)


def logistic(x: Array) -> Array:
    """The logistic sigmoid ``1 / (1 + exp(-x))``, stable for large ``|x|``."""
    return logistic_p.bind(x)


# ---- trigonometric and hyperbolic functions -------------------------------------------------



def _sin_cos_direct(other: Any, negated: bool):
    """The direct JVP (`staged_ad.direct_jvp_rules`) of sin (``t * cos x``) or cos
    (``-(t * sin x)``), the equations of their partials below: `other` (cos or sin of `x`) is
    staged with the primal, and read by the tangent as a residual."""

    def rule(lin, ins, tangents):
        (x,), (t,) = ins, tangents
        o_aval = other().abstract_eval(x.aval)
        m_aval = mul_p.abstract_eval(t.aval, o_aval)
        if not lin.fits(m_aval):
            return NotImplemented
        lin.keep()
        o = lin.primal(other(), [x], o_aval)
        m = lin.tangent(mul_p, [t, lin.residual(o)], m_aval)
        return lin.tangent(neg_p, [m], m_aval) if negated else m

    return rule


sin_p = elementwise_primitive(
    "sin",
    transcendental=True,
    impl=np.sin,
    abstract_eval=unary_aval(INEXACT),
    jvp_partials=[lambda g, ans, x: mul(g, cos(x))],
    jvp_direct=_sin_cos_direct(lambda: cos_p, False),
    array_api="sin",
)
cos_p = elementwise_primitive(
    "cos",
    transcendental=True,
    impl=np.cos,
    abstract_eval=unary_aval(INEXACT),
    jvp_partials=[lambda g, ans, x: neg(mul(g, sin(x)))],
    jvp_direct=_sin_cos_direct(lambda: sin_p, True),
    array_api="cos",
)
tan_p = elementwise_primitive(
    "tan",
    transcendental=True,
    impl=np.tan,
    abstract_eval=unary_aval(INEXACT),
    jvp_partials=[lambda g, ans, x: mul(g, add(1, mul(ans, ans)))],
    array_api="tan",
)
asin_p = elementwise_primitive(
    "asin",
    transcendental=True,
    impl=np.arcsin,
    abstract_eval=unary_aval(INEXACT),
    jvp_partials=[lambda g, ans, x: mul(g, rsqrt(sub(1, mul(x, x))))],
    array_api="asin",
)
acos_p = elementwise_primitive(
    "acos",
    transcendental=True,
    impl=np.arccos,
    abstract_eval=unary_aval(INEXACT),
    jvp_partials=[lambda g, ans, x: neg(mul(g, rsqrt(sub(1, mul(x, x)))))],
    array_api="acos",
)
atan_p = elementwise_primitive(
    "atan",
    transcendental=True,
    impl=np.arctan,
    abstract_eval=unary_aval(INEXACT),
    jvp_partials=[lambda g, ans, x: div(g, add(1, mul(x, x)))],
    array_api="atan",
)
tanh_p = elementwise_primitive(
    "tanh",
    transcendental=True,
    impl=np.tanh,
    abstract_eval=unary_aval(INEXACT),
    jvp_partials=[lambda g, ans, x: mul(g, sub(1, mul(ans, ans)))],
    jvp_direct=_scaled_direct(lambda lin, ans: _one_minus(lin, lin.primal(mul_p, [ans, ans]))),
    array_api="tanh",
)
sinh_p = elementwise_primitive(
    "sinh",
    transcendental=True,
    impl=np.sinh,
    abstract_eval=unary_aval(INEXACT),
    jvp_partials=[lambda g, ans, x: mul(g, cosh(x))],
    array_api="sinh",
)
cosh_p = elementwise_primitive(
    "cosh",
    transcendental=True,
    impl=np.cosh,
    abstract_eval=unary_aval(INEXACT),
    jvp_partials=[lambda g, ans, x: mul(g, sinh(x))],
    array_api="cosh",
)
asinh_p = elementwise_primitive(
    "asinh",
    transcendental=True,
    impl=np.arcsinh,
    abstract_eval=unary_aval(INEXACT),
    jvp_partials=[lambda g, ans, x: mul(g, rsqrt(add(mul(x, x), 1)))],
    array_api="asinh",
)
acosh_p = elementwise_primitive(
    "acosh",
    transcendental=True,
    impl=np.arccosh,
    abstract_eval=unary_aval(INEXACT),
    jvp_partials=[lambda g, ans, x: mul(g, rsqrt(mul(sub(x, 1), add(x, 1))))],
    array_api="acosh",
)
atanh_p = elementwise_primitive(
    "atanh",
    transcendental=True,
    impl=np.arctanh,
    abstract_eval=unary_aval(INEXACT),
    jvp_partials=[lambda g, ans, x: div(g, sub(1, mul(x, x)))],
    array_api="atanh",
)


def _atan2_partials():
    def partial_x(g, ans, x, y):
        return mul(g, div(y, add(mul(x, x), mul(y, y))))

    def partial_y(g, ans, x, y):
        return mul(g, div(neg(x), add(mul(x, x), mul(y, y))))

    return [partial_x, partial_y]


atan2_p = elementwise_primitive(
    "atan2",
    transcendental=True,
    impl=checked_impl(np.arctan2, FLOAT),
    abstract_eval=binary_aval(FLOAT),
    jvp_partials=_atan2_partials(),
    lower=lowering.xp_function("arctan2"),
    array_api="atan2",
)


def sin(x: Array) -> Array:
    return sin_p.bind(x)


def cos(x: Array) -> Array:
    return cos_p.bind(x)


def tan(x: Array) -> Array:
    return tan_p.bind(x)


def asin(x: Array) -> Array:
    return asin_p.bind(x)


def acos(x: Array) -> Array:
    return acos_p.bind(x)


def atan(x: Array) -> Array:
    return atan_p.bind(x)


def tanh(x: Array) -> Array:
    return tanh_p.bind(x)


def sinh(x: Array) -> Array:
    return sinh_p.bind(x)


def cosh(x: Array) -> Array:
    return cosh_p.bind(x)


def asinh(x: Array) -> Array:
    return asinh_p.bind(x)


def acosh(x: Array) -> Array:
    return acosh_p.bind(x)


def atanh(x: Array) -> Array:
    return atanh_p.bind(x)


def atan2(x: Array, y: Array) -> Array:
    """Elementwise arc tangent of ``x / y`` choosing the quadrant (`numpy.arctan2(x, y)`)."""
    return atan2_p.bind(x, y)


# ---- error function -------------------------------------------------------------------------

_math_erf = np.frompyfunc(math.erf, 1, 1)
_math_erfc = np.frompyfunc(math.erfc, 1, 1)


def _special_impl(fn):
    def impl(x):
        arr = np.asarray(x)
        # (on a 0-d array, a `frompyfunc` ufunc returns a Python float, not an array)
        out = np.asarray(fn(arr)).astype(arr.dtype)
        return out if isinstance(x, np.ndarray) else out[()]

    return impl


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

erf_p = elementwise_primitive(
    "erf",
    transcendental=True,
    allocates=True,
    impl=_special_impl(_math_erf),
    abstract_eval=unary_aval(FLOAT),
    jvp_partials=[lambda g, ans, x: mul(g, mul(_TWO_OVER_SQRT_PI, exp(neg(mul(x, x)))))],
    lacks={"array_api": NO_ARRAY_API_SPECIAL},
)
erfc_p = elementwise_primitive(
    "erfc",
    transcendental=True,
    allocates=True,
    impl=_special_impl(_math_erfc),
    abstract_eval=unary_aval(FLOAT),
    jvp_partials=[lambda g, ans, x: mul(g, mul(-_TWO_OVER_SQRT_PI, exp(neg(mul(x, x)))))],
    lacks={"array_api": NO_ARRAY_API_SPECIAL},
)


def erf(x: Array) -> Array:
    """The error function."""
    return erf_p.bind(x)


def erfc(x: Array) -> Array:
    """The complementary error function ``1 - erf(x)``, accurate for large `x`."""
    return erfc_p.bind(x)
