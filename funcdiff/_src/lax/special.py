# Over 600 lines: one vectorised series/fraction per primitive, sharing helpers.
"""Special-function primitives: gamma family, incomplete gamma and beta, inverse error
function, Bessel functions of order 0 and 1, exponential integrals, Hurwitz zeta.

The implementations are vectorised NumPy (series, continued fractions, asymptotic expansions,
Newton/Halley refinement), computed in float64 and rounded to the operand dtype; SciPy is not
used. Each primitive is one block with its derivative rules, written with funcdiff operations
so that they differentiate again. Where JAX has no derivative in an argument, asking for one
raises a `ValueError` naming the primitive and the argument.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from funcdiff._src.core import ShapedArray
from funcdiff._src.lax._define import NO_ARRAY_API_SPECIAL, elementwise_aval
from funcdiff._src.lax.elementwise import (
    add,
    div,
    elementwise_primitive,
    eq,
    mul,
    neg,
    select,
    sign,
    sub,
)
from funcdiff._src.lax.transcendental import exp, log

Array = Any

_EULER = 0.57721566490153286061
_SQRT_PI = math.sqrt(math.pi)
_math_erf = np.frompyfunc(math.erf, 1, 1)
_math_erfc = np.frompyfunc(math.erfc, 1, 1)


def _float_aval(*avals: ShapedArray) -> ShapedArray:
    return elementwise_aval(*avals, kinds="f")


def _in_float64(fn: Callable[..., np.ndarray]) -> Callable[..., Any]:
    """An implementation computed on broadcast float64 arrays and returned in the operands'
    (promoted) dtype; scalars in, scalar out."""

    def impl(*args: Any) -> Any:
        dtype = np.result_type(*args)
        arrays = np.broadcast_arrays(*(np.asarray(a, np.float64) for a in args))
        with np.errstate(all="ignore"):
            out = np.asarray(fn(*arrays)).astype(dtype)
        return out if any(isinstance(a, np.ndarray) for a in args) else out[()]

    impl.__name__ = fn.__name__
    return impl


def _erf64(x: np.ndarray) -> np.ndarray:
    return np.asarray(_math_erf(x), np.float64)


def _erfc64(x: np.ndarray) -> np.ndarray:
    return np.asarray(_math_erfc(x), np.float64)


def _no_derivative(primitive: str, argument: str) -> Callable[..., Any]:
    def partial(*args: Any, **params: Any) -> Any:
        raise ValueError(
            f"{primitive}: the derivative with respect to `{argument}` is not implemented (as in "
            f"JAX); pass `{argument}` as a constant, e.g. wrapped in `funcdiff.lax.stop_gradient`."
        )

    return partial


# ---- log-gamma and digamma ------------------------------------------------------------------


def _lgamma_scalar(x: float) -> float:
    if math.isinf(x) or math.isnan(x):
        return abs(x)
    if x <= 0 and x == math.floor(x):
        return math.inf
    return math.lgamma(x)


_math_lgamma = np.frompyfunc(_lgamma_scalar, 1, 1)


def _lgamma64(x: np.ndarray) -> np.ndarray:
    return np.asarray(_math_lgamma(x), np.float64)


# Bernoulli numbers B_2, B_4, ..., B_24.
_BERNOULLI = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510,
              43867 / 798, -174611 / 330, 854513 / 138, -236364091 / 2730]


def _shift_up(y: np.ndarray, bound: float, step: Callable[[np.ndarray], np.ndarray]):
    """Raise `y` by ones until it reaches `bound`, summing ``step(y)`` over the values
    passed (the recurrences of digamma and zeta)."""
    acc = np.zeros_like(y)
    n = int(np.max(np.ceil(bound - y[np.isfinite(y)]), initial=0))
    for _ in range(max(n, 0)):
        low = y < bound
        acc = acc + np.where(low, step(np.where(low, y, bound)), 0.0)
        y = np.where(low, y + 1, y)
    return y, acc


def _digamma64(x: np.ndarray) -> np.ndarray:
    pole = (x <= 0) & (x == np.floor(x))
    reflect = (x < 0.5) & ~pole
    y = np.where(pole, 1.0, np.where(reflect, 1 - x, x))
    y, acc = _shift_up(y, 10.0, lambda v: -1 / v)
    inv2 = 1 / (y * y)
    series = np.zeros_like(y)
    for k in range(7, 0, -1):  # sum of B_2k / (2k y^2k)
        series = (series + _BERNOULLI[k - 1] / (2 * k)) * inv2
    out = np.log(y) - 0.5 / y - series + acc
    # psi(x) = psi(1 - x) - pi / tan(pi x), with the tangent of the reduced argument.
    r = x - np.round(x)
    out = np.where(reflect, out - math.pi / np.tan(math.pi * np.where(reflect, r, 0.5)), out)
    at_zero = np.where(np.signbit(x), np.inf, -np.inf)  # as SciPy: -inf at +0, inf at -0
    return np.where(pole, np.where(x == 0, at_zero, np.nan), out)


def _digamma_jvp(g, ans, x):
    return mul(g, polygamma(1.0, x))


lgamma_p = elementwise_primitive(
    "lgamma", transcendental=True, allocates=True, impl=_in_float64(_lgamma64),
    abstract_eval=_float_aval, jvp_partials=[lambda g, ans, x: mul(g, digamma(x))],
    lacks={"array_api": NO_ARRAY_API_SPECIAL},
)
digamma_p = elementwise_primitive(
    "digamma", transcendental=True, allocates=True, impl=_in_float64(_digamma64),
    abstract_eval=_float_aval, jvp_partials=[_digamma_jvp],
    lacks={"array_api": NO_ARRAY_API_SPECIAL},
)


def lgamma(x: Array) -> Array:
    """``log|Gamma(x)|``."""
    return lgamma_p.bind(x)


def digamma(x: Array) -> Array:
    """The logarithmic derivative of the gamma function."""
    return digamma_p.bind(x)


# ---- Hurwitz zeta ---------------------------------------------------------------------------


def _zeta64(s: np.ndarray, q: np.ndarray) -> np.ndarray:
    # Negative q: the recurrence below sums (q + k)^-s, real only for integer s (as SciPy).
    pole = (q <= 0) & (q == np.floor(q))
    bad = ~(s > 1) | pole | ~(q > -1e4) | ((q < 0) & (s != np.floor(s)))
    s_ = np.where(bad, 2.0, s)
    # Shifting q past s keeps the Euler-Maclaurin terms decreasing fast.
    bound = 10.0 + float(np.max(s_[np.isfinite(s_)], initial=0.0))
    y, acc = _shift_up(np.where(bad, 1.0, q), bound, lambda v: v ** -s_)
    # Euler-Maclaurin tail: y^(1-s)/(s-1) + y^-s/2 + sum_j B_2j/(2j)! s(s+1)...(s+2j-2) y^(-s-2j+1)
    tail = y ** (1 - s_) / (s_ - 1) + 0.5 * y ** -s_
    factor = s_ * y ** (-s_ - 1)
    fact = 1.0
    for j in range(1, len(_BERNOULLI) + 1):
        fact *= (2 * j) * (2 * j - 1) if j > 1 else 2
        tail = tail + _BERNOULLI[j - 1] / fact * factor
        factor = factor * (s_ + 2 * j - 1) * (s_ + 2 * j) / (y * y)
    out = np.where(bad, np.nan, acc + tail)
    out = np.where((s == 1) & (q > 0), np.inf, out)
    return np.where(pole & (s > 1), np.inf, out)


zeta_p = elementwise_primitive(
    "zeta", transcendental=True, allocates=True, impl=_in_float64(_zeta64),
    abstract_eval=_float_aval,
    jvp_partials=[_no_derivative("zeta", "s"),
                  lambda g, ans, s, q: mul(g, neg(mul(s, zeta(add(s, 1.0), q))))],
    lacks={"array_api": NO_ARRAY_API_SPECIAL},
)


def zeta(x: Array, q: Array) -> Array:
    """The Hurwitz zeta function ``sum_k (k + q)^-x`` for ``x > 1`` (and negative `q` only
    with integer `x`)."""
    return zeta_p.bind(x, q)


def _polygamma64(n: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``psi^(n)(x) = (-1)^(n+1) n! zeta(n + 1, x)`` for integers ``n >= 1``; digamma at 0."""
    integer = (n >= 0) & (n == np.floor(n))
    n_ = np.where(integer & (n > 0), n, 1.0)
    scale = np.where(n_ % 2 == 1, 1.0, -1.0) * np.exp(_lgamma64(n_ + 1))
    out = np.where(n == 0, _digamma64(x), scale * _zeta64(n_ + 1, x))
    return np.where(integer, out, np.nan)


polygamma_p = elementwise_primitive(
    "polygamma", transcendental=True, allocates=True, impl=_in_float64(_polygamma64),
    abstract_eval=_float_aval,
    jvp_partials=[_no_derivative("polygamma", "n"),
                  lambda g, ans, n, x: mul(g, polygamma(add(n, 1.0), x))],
    lacks={"array_api": NO_ARRAY_API_SPECIAL},
)


def polygamma(m: Array, x: Array) -> Array:
    """The `m`-th derivative of digamma (`m` a non-negative integer, as a float array)."""
    return polygamma_p.bind(m, x)


# ---- regularized incomplete gamma -----------------------------------------------------------

_MAX_ITER = 5000
_TINY = 1e-300


def _gamma_prefactor(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``x^a e^-x / Gamma(a)``, in log space."""
    return np.exp(a * np.log(x) - x - _lgamma64(a))


def _lower_series(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``P(a, x)`` by its power series (for ``x < a + 1``)."""
    term = 1 / a
    total = term.copy()
    n = 0
    active = np.ones(a.shape, bool)
    while active.any() and n < _MAX_ITER:
        n += 1
        term = term * x / (a + n)
        total = total + np.where(active, term, 0.0)
        active = active & (np.abs(term) > np.abs(total) * 1e-17)
    return total * _gamma_prefactor(a, x)


def _upper_fraction(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``Q(a, x)`` by its continued fraction (for ``x >= a + 1``), modified Lentz."""
    b = x + 1 - a
    c = np.full_like(x, 1 / _TINY)
    d = 1 / np.where(b == 0, _TINY, b)
    h = d.copy()
    active = np.ones(a.shape, bool)
    n = 0
    while active.any() and n < _MAX_ITER:
        n += 1
        an = -n * (n - a)
        b = b + 2
        d = an * d + b
        d = 1 / np.where(d == 0, _TINY, d)
        c = b + an / np.where(c == 0, _TINY, c)
        delta = c * d
        h = np.where(active, h * delta, h)
        active = active & (np.abs(delta - 1) > 1e-16)
    return h * _gamma_prefactor(a, x)


def _igamma_both(a: np.ndarray, x: np.ndarray, upper: bool) -> np.ndarray:
    bad = ~(a > 0) | ~(x >= 0)
    a_ = np.where(bad, 1.0, a)
    x_ = np.where(bad | (x == 0), 1.0, x)
    series = x_ < a_ + 1
    p_series = _lower_series(np.where(series, a_, 1.0), np.where(series, x_, 0.5))
    q_frac = _upper_fraction(np.where(series, 1.0, a_), np.where(series, 3.0, x_))
    if upper:
        out = np.where(series, 1 - p_series, q_frac)
        out = np.where(np.isinf(x) & ~bad, 0.0, out)
        out = np.where((x == 0) & ~bad, 1.0, out)
    else:
        out = np.where(series, p_series, 1 - q_frac)
        out = np.where(np.isinf(x) & ~bad, 1.0, out)
        out = np.where((x == 0) & ~bad, 0.0, out)
    return np.where(bad, np.nan, out)


def _igamma64(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    return _igamma_both(a, x, upper=False)


def _igammac64(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    return _igamma_both(a, x, upper=True)


def _igamma_grad_a64(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``dP(a, x)/da`` from the series ``P = sum_k exp((a+k) log x - x - lgamma(a+k+1))``,
    differentiated term by term (``d/da lgamma(a+k+1) = digamma(a+k+1)``)."""
    bad = ~(a > 0) | ~(x > 0) | np.isinf(x)
    a_ = np.where(bad, 1.0, a)
    x_ = np.where(bad, 1.0, x)
    log_x = np.log(x_)
    log_t = a_ * log_x - x_ - _lgamma64(a_ + 1)
    psi = _digamma64(a_ + 1)
    total = np.exp(log_t) * (log_x - psi)
    active = np.ones(a_.shape, bool)
    k = 0
    while active.any() and k < 20 * _MAX_ITER:
        k += 1
        log_t = log_t + log_x - np.log(a_ + k)
        psi = psi + 1 / (a_ + k)
        term = np.exp(log_t) * (log_x - psi)
        total = total + np.where(active, term, 0.0)
        active = active & ((k < x_ - a_) | (np.abs(term) > 1e-17 * np.maximum(np.abs(total),
                                                                                1e-300)))
    return np.where(bad, np.where(np.isinf(x) | (x == 0), 0.0, np.nan), total)


def _igamma_density(a: Array, x: Array) -> Array:
    """``x^(a-1) e^-x / Gamma(a)``, the derivative of ``P(a, x)`` in `x`."""
    return exp(sub(sub(mul(sub(a, 1.0), log(x)), x), lgamma(a)))


def _igamma_grad_a_dx(g, ans, a, x):
    # d/dx dP/da = d/da (x^(a-1) e^-x / Gamma(a)) = density * (log x - digamma(a)).
    return mul(g, mul(_igamma_density(a, x), sub(log(x), digamma(a))))


igamma_grad_a_p = elementwise_primitive(
    "igamma_grad_a", transcendental=True, allocates=True, impl=_in_float64(_igamma_grad_a64),
    abstract_eval=_float_aval,
    jvp_partials=[_no_derivative("igamma_grad_a", "a"), _igamma_grad_a_dx],
    lacks={"array_api": NO_ARRAY_API_SPECIAL},
)
igamma_p = elementwise_primitive(
    "igamma", transcendental=True, allocates=True, impl=_in_float64(_igamma64),
    abstract_eval=_float_aval,
    jvp_partials=[lambda g, ans, a, x: mul(g, igamma_grad_a_p.bind(a, x)),
                  lambda g, ans, a, x: mul(g, _igamma_density(a, x))],
    lacks={"array_api": NO_ARRAY_API_SPECIAL},
)
igammac_p = elementwise_primitive(
    "igammac", transcendental=True, allocates=True, impl=_in_float64(_igammac64),
    abstract_eval=_float_aval,
    jvp_partials=[lambda g, ans, a, x: mul(g, neg(igamma_grad_a_p.bind(a, x))),
                  lambda g, ans, a, x: mul(g, neg(_igamma_density(a, x)))],
    lacks={"array_api": NO_ARRAY_API_SPECIAL},
)


def igamma(a: Array, x: Array) -> Array:
    """The regularized lower incomplete gamma function ``P(a, x)``."""
    return igamma_p.bind(a, x)


def igammac(a: Array, x: Array) -> Array:
    """The regularized upper incomplete gamma function ``Q(a, x) = 1 - P(a, x)``."""
    return igammac_p.bind(a, x)


# ---- regularized incomplete beta ------------------------------------------------------------


def _beta_fraction(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The continued fraction of ``I_x(a, b)`` (converging for ``x < (a+1)/(a+b+2)``)."""
    c = np.ones_like(x)
    d = 1 - (a + b) * x / (a + 1)
    d = 1 / np.where(np.abs(d) < _TINY, _TINY, d)
    h = d.copy()
    active = np.ones(x.shape, bool)
    m = 0
    while active.any() and m < _MAX_ITER:
        m += 1
        for coef in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                     -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1 + coef * d
            d = 1 / np.where(np.abs(d) < _TINY, _TINY, d)
            c = 1 + coef / np.where(np.abs(c) < _TINY, _TINY, c)
            delta = c * d
            h = np.where(active, h * delta, h)
        active = active & (np.abs(delta - 1) > 1e-16)
    return h


def _lbeta64(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _lgamma64(a) + _lgamma64(b) - _lgamma64(a + b)


def _betainc64(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    bad = ~(a > 0) | ~(b > 0) | ~((x >= 0) & (x <= 1))
    inner = ~bad & (x > 0) & (x < 1)
    a_, b_ = np.where(inner, a, 1.0), np.where(inner, b, 1.0)
    x_ = np.where(inner, x, 0.5)
    flip = x_ > (a_ + 1) / (a_ + b_ + 2)
    pa, pb = np.where(flip, b_, a_), np.where(flip, a_, b_)
    px = np.where(flip, 1 - x_, x_)
    front = np.exp(pa * np.log(px) + pb * np.log1p(-px) - _lbeta64(pa, pb)) / pa
    part = front * _beta_fraction(pa, pb, px)
    out = np.where(flip, 1 - part, part)
    out = np.where(x == 0, 0.0, np.where(x == 1, 1.0, out))
    return np.where(bad, np.nan, out)


def _betainc_dx(g, ans, a, b, x):
    log_density = sub(add(mul(sub(a, 1.0), log(x)), mul(sub(b, 1.0), log(sub(1.0, x)))),
                      sub(add(lgamma(a), lgamma(b)), lgamma(add(a, b))))
    return mul(g, exp(log_density))


betainc_p = elementwise_primitive(
    "regularized_incomplete_beta", transcendental=True, allocates=True,
    impl=_in_float64(_betainc64), abstract_eval=_float_aval,
    jvp_partials=[_no_derivative("betainc", "a"), _no_derivative("betainc", "b"), _betainc_dx],
    lacks={"array_api": NO_ARRAY_API_SPECIAL},
)


def betainc(a: Array, b: Array, x: Array) -> Array:
    """The regularized incomplete beta function ``I_x(a, b)``."""
    return betainc_p.bind(a, b, x)


# ---- inverse error function and normal quantile ---------------------------------------------


def _tail_guess(r: np.ndarray) -> np.ndarray:
    """A rough ``y`` with ``erfc(y) = r`` for ``0 < r <= 1``, from the rational approximation
    of the normal quantile in Abramowitz and Stegun 26.2.23 (error below 5e-4)."""
    t = np.sqrt(-2 * np.log(r / 2))
    z = t - (2.515517 + t * (0.802853 + t * 0.010328)) / (
        1 + t * (1.432788 + t * (0.189269 + t * 0.001308)))
    return z / math.sqrt(2)


def _halley(y: np.ndarray, residual: Callable[[np.ndarray], np.ndarray], slope_sign: float):
    """Refine ``y`` so that ``residual(y) = 0`` where ``residual' = slope_sign * 2/sqrt(pi)
    exp(-y^2)`` (erf or erfc minus a target): Halley's method, cubic convergence."""
    for _ in range(4):
        deriv = slope_sign * (2 / _SQRT_PI) * np.exp(-y * y)
        step = residual(y) / np.where(deriv == 0, 1.0, deriv)
        y = y - step / (1 + y * step)
    return y


def _erfcinv64(q: np.ndarray) -> np.ndarray:
    """``y`` with ``erfc(y) = q`` for ``0 < q < 2`` (the small side solved, then mirrored)."""
    mirror = q > 1
    r = np.where(mirror, 2 - q, q)
    r_ = np.where((r > 0) & (r <= 1), r, 0.5)
    y = _halley(_tail_guess(r_), lambda v: _erfc64(v) - r_, -1.0)
    return np.where(mirror, -y, y)


def _erfinv_small(x: np.ndarray) -> np.ndarray:
    """``erfinv(x)`` for ``|x| < 0.5``, by Halley's method on ``erf(y) - x``."""
    y = np.sign(x) * _tail_guess(1 - np.abs(x))
    return _halley(y, lambda v: _erf64(v) - x, 1.0)


# Acklam's rational approximation of the standard normal quantile (relative error below
# 1.2e-9): a central part for 0.02425 <= p <= 0.97575 and a tail part below it.
_ACKLAM_A = (-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.3577518672690,
             -30.66479806614716, 2.506628277459239)
_ACKLAM_B = (-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972,
             -13.28068155288572, 1.0)
_ACKLAM_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838,
             -2.549732539343734, 4.374664141464968, 2.938163982698783)
_ACKLAM_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996,
             3.754408661907416, 1.0)
_ACKLAM_SPLIT = 0.02425


def _erf_inv_guess(a: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``erfinv(a)`` for ``0 <= a < 1`` with ``q = 1 - a``, to Acklam's 1.2e-9, from
    ``erfinv(a) = -Phi^-1(q / 2) / sqrt(2)``. The central part takes ``t = q/2 - 1/2`` as
    ``-a/2``, exactly, so that it keeps relative accuracy for tiny `a`."""
    t = -0.5 * a
    r = t * t
    central = np.polyval(_ACKLAM_A, r) * t / np.polyval(_ACKLAM_B, r)
    p = np.where(0.5 * q < _ACKLAM_SPLIT, 0.5 * q, _ACKLAM_SPLIT)
    s = np.sqrt(-2.0 * np.log(p))
    tail = np.polyval(_ACKLAM_C, s) / np.polyval(_ACKLAM_D, s)
    return np.where(0.5 * q < _ACKLAM_SPLIT, tail, central) * (-1 / math.sqrt(2))


def _erf_inv_impl(x: Any) -> Any:
    """``erfinv(x)``: Acklam's guess, then for float64 one step of Halley's method (which
    triples the correct digits, 1.2e-9 to full precision) on ``erf(y) = |x|``, or on
    ``erfc(y) = 1 - |x|`` for ``|x| >= 0.5``, where that difference is exact. Float32 and
    float16 results need no refinement. ``erfinv(±1) = ±inf``; ``nan`` outside [-1, 1]."""
    dtype = np.result_type(x)
    x64 = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        a = np.abs(x64)
        q = 1.0 - a
        inside = q > 0
        a_in, q_in = np.where(inside, a, 0.0), np.where(inside, q, 1.0)
        y = _erf_inv_guess(a_in, q_in)
        if dtype == np.float64:
            tail = a_in >= 0.5
            residual = np.empty_like(y)
            # Each element needs erf or erfc, not both: they are evaluated per element.
            residual[tail] = q_in[tail] - _erfc64(y[tail])
            residual[~tail] = _erf64(y[~tail]) - a_in[~tail]
            step = residual / ((2 / _SQRT_PI) * np.exp(-y * y))
            y = y - step / (1.0 + y * step)
        y = np.where(inside, y, np.where(q == 0, np.inf, np.nan))
        out = np.asarray(np.copysign(y, x64)).astype(dtype)
    return out if isinstance(x, np.ndarray) else out[()]


def _ndtri64(p: np.ndarray) -> np.ndarray:
    # Near the median 2p - 1 is exact and erfinv keeps relative accuracy; in the tails
    # erfcinv(2p) does.
    centre = np.abs(2 * p - 1) < 0.5
    y_centre = math.sqrt(2) * _erfinv_small(np.where(centre, 2 * p - 1, 0.0))
    y_tail = -math.sqrt(2) * _erfcinv64(np.where(centre, 1.0, 2 * p))
    out = np.where(centre, y_centre, y_tail)
    out = np.where(p == 0, -np.inf, np.where(p == 1, np.inf, out))
    return np.where((p >= 0) & (p <= 1), out, np.nan)


erf_inv_p = elementwise_primitive(
    "erf_inv", transcendental=True, allocates=True, impl=_erf_inv_impl,
    abstract_eval=_float_aval,
    jvp_partials=[lambda g, ans, x: mul(g, mul(_SQRT_PI / 2, exp(mul(ans, ans))))],
    lacks={"array_api": NO_ARRAY_API_SPECIAL},
)
ndtri_p = elementwise_primitive(
    "ndtri", transcendental=True, allocates=True, impl=_in_float64(_ndtri64),
    abstract_eval=_float_aval,
    jvp_partials=[lambda g, ans, p: mul(g, mul(math.sqrt(2 * math.pi),
                                               exp(mul(0.5, mul(ans, ans)))))],
    lacks={"array_api": NO_ARRAY_API_SPECIAL},
)


def erf_inv(x: Array) -> Array:
    """The inverse of the error function on ``[-1, 1]``, within a few ulps in float64 and
    one ulp in float32.

    `scipy.special.erfinv` and the normal samplers of `funcdiff.random` use it. Acklam's
    approximation of the normal quantile (``erfinv(a) = -Phi^-1((1 - a) / 2) / sqrt(2)``,
    relative error below 1.2e-9) is refined for float64 by one step of Halley's method.
    ``erf_inv(±1) = ±inf`` and ``nan`` outside ``[-1, 1]``; the derivative is
    ``sqrt(pi) / 2 * exp(erf_inv(x)**2)``.

    **Arguments:**

    - `x`: a floating-point array.

    **Returns:**

    An array of the shape and dtype of `x`.

    !!! Example
        ```python
        import math
        from funcdiff import lax

        assert abs(math.erf(lax.erf_inv(0.5)) - 0.5) < 1e-15
        ```
    """
    return erf_inv_p.bind(x)


def ndtri(p: Array) -> Array:
    """The quantile function of the standard normal distribution."""
    return ndtri_p.bind(p)


# ---- scaled complementary error function ----------------------------------------------------


def _erfcx64(x: np.ndarray) -> np.ndarray:
    big = x > 5
    xs = np.where(big, 5.0, x)
    direct = np.exp(xs * xs) * _erfc64(xs)
    # For x > 5: erfcx(x) = 1/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))),
    # evaluated from the bottom with 60 levels.
    xb = np.where(big, x, 6.0)
    frac = xb.copy()
    for k in range(60, 0, -1):
        frac = xb + (k / 2) / frac
    cf = 1 / (_SQRT_PI * frac)
    cf = np.where(np.isinf(x), 0.0, cf)
    return np.where(big, cf, direct)


erfcx_p = elementwise_primitive(
    "erfcx", transcendental=True, allocates=True, impl=_in_float64(_erfcx64),
    abstract_eval=_float_aval,
    jvp_partials=[lambda g, ans, x: mul(g, sub(mul(mul(2.0, x), ans), 2 / _SQRT_PI))],
    lacks={"array_api": NO_ARRAY_API_SPECIAL},
)


def erfcx(x: Array) -> Array:
    """``exp(x^2) erfc(x)``, without overflow or underflow for large `x`."""
    return erfcx_p.bind(x)


# ---- modified Bessel functions of orders 0 and 1, exponentially scaled ----------------------


def _bessel_ie64(order: int, x: np.ndarray) -> np.ndarray:
    """``exp(-|x|) I_order(x)``: the power series for ``|x| <= 30``, the asymptotic
    expansion ``e^{-x} I_v(x) ~ (2 pi x)^-1/2 sum_k (-1)^k prod_j (4v^2 - (2j-1)^2) /
    (k! (8x)^k)`` beyond."""
    ax = np.abs(x)
    small = ax <= 30
    xs = np.where(small, ax, 0.0)
    quarter = xs * xs / 4
    term = (xs / 2) ** order
    total = term.copy()
    for k in range(1, 90):
        term = term * quarter / (k * (k + order))
        total = total + term
    series = total * np.exp(-xs)
    xl = np.where(small, 31.0, ax)
    mu = 4.0 * order * order
    term = np.ones_like(xl)
    total = term.copy()
    for k in range(1, 40):
        term = -term * (mu - (2 * k - 1) ** 2) / (k * 8 * xl)
        total = total + term
    asym = total / np.sqrt(2 * math.pi * xl)
    asym = np.where(np.isinf(x), 0.0, asym)
    out = np.where(small, series, asym)
    return np.where(x < 0, -out, out) if order % 2 else out


def _i0e64(x: np.ndarray) -> np.ndarray:
    return _bessel_ie64(0, x)


def _i1e64(x: np.ndarray) -> np.ndarray:
    return _bessel_ie64(1, x)


def _i1e_over_x(x: Array, ans: Array) -> Array:
    """``i1e(x) / x``, which is 1/2 at 0."""
    zero = eq(x, 0)
    return select(zero, 0.5, div(ans, select(zero, 1.0, x)))


bessel_i0e_p = elementwise_primitive(
    "bessel_i0e", transcendental=True, allocates=True, impl=_in_float64(_i0e64),
    abstract_eval=_float_aval,
    jvp_partials=[lambda g, ans, x: mul(g, sub(bessel_i1e(x), mul(sign(x), ans)))],
    lacks={"array_api": NO_ARRAY_API_SPECIAL},
)
bessel_i1e_p = elementwise_primitive(
    "bessel_i1e", transcendental=True, allocates=True, impl=_in_float64(_i1e64),
    abstract_eval=_float_aval,
    jvp_partials=[lambda g, ans, x: mul(g, sub(sub(bessel_i0e(x), mul(sign(x), ans)),
                                               _i1e_over_x(x, ans)))],
    lacks={"array_api": NO_ARRAY_API_SPECIAL},
)


def bessel_i0e(x: Array) -> Array:
    """``exp(-|x|) I0(x)``, the exponentially scaled modified Bessel function of order 0."""
    return bessel_i0e_p.bind(x)


def bessel_i1e(x: Array) -> Array:
    """``exp(-|x|) I1(x)``, the exponentially scaled modified Bessel function of order 1."""
    return bessel_i1e_p.bind(x)


# ---- exponential integral -------------------------------------------------------------------


def _exp_integral_sum(x: np.ndarray, terms: int) -> np.ndarray:
    """``sum_{k >= 1} x^k / (k k!)``, the series part of ``Ei(x) = gamma + log|x| + ...``."""
    term = np.ones_like(x)
    total = np.zeros_like(x)
    for k in range(1, terms):
        term = term * x / k
        total = total + term / k
    return total


def _e1_positive(x: np.ndarray) -> np.ndarray:
    """``E1(x)`` for ``x > 0``: the power series up to 1, a continued fraction beyond."""
    small = x <= 1
    xs = np.where(small, x, 0.5)
    series = -(_EULER + np.log(xs) + _exp_integral_sum(-xs, 30))
    # E1(x) = e^-x / (x + 1 - 1^2/(x + 3 - 2^2/(x + 5 - ...))), from the bottom.
    xl = np.where(small, 2.0, x)
    frac = xl + 2 * 120 + 1
    for k in range(120, 0, -1):
        frac = xl + 2 * k - 1 - k * k / frac
    cf = np.exp(-xl) / frac
    return np.where(small, series, cf)


def _ei_positive(x: np.ndarray) -> np.ndarray:
    """``Ei(x)`` for ``x > 0``: the power series up to 40, the asymptotic series beyond."""
    small = x <= 40
    xs = np.where(small, x, 1.0)
    series = _EULER + np.log(xs) + _exp_integral_sum(xs, 140)
    xl = np.where(small, 41.0, x)
    term = np.ones_like(xl)
    total = term.copy()
    for k in range(1, 40):
        term = term * k / xl
        total = total + term
    asym = np.exp(xl) / xl * total
    return np.where(small, series, asym)


def _expi64(x: np.ndarray) -> np.ndarray:
    pos = x > 0
    out = np.where(pos, _ei_positive(np.where(pos, x, 1.0)),
                   -_e1_positive(np.where(x < 0, -x, 1.0)))
    out = np.where(x == 0, -np.inf, out)
    out = np.where(np.isposinf(x), np.inf, np.where(np.isneginf(x), 0.0, out))
    return np.where(np.isnan(x), np.nan, out)


expi_p = elementwise_primitive(
    "expi", transcendental=True, allocates=True, impl=_in_float64(_expi64),
    abstract_eval=_float_aval, jvp_partials=[lambda g, ans, x: mul(g, div(exp(x), x))],
    lacks={"array_api": NO_ARRAY_API_SPECIAL},
)


def expi(x: Array) -> Array:
    """The exponential integral ``Ei(x)``."""
    return expi_p.bind(x)


