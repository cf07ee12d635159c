# Over 600 lines: 41 public functions of one namespace, half of the lines docstrings.
"""Special functions of `funcdiff.scipy.special`, differentiable and numerically stable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from funcdiff._src.custom_jvp import custom_jvp
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import reductions as red
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax import special as sp
from funcdiff._src.lax import transcendental as tr
from funcdiff._src.numpy import ufuncs
from funcdiff._src.numpy._util import Array, ArrayLike, aval, canonical_axes, promote_inexact


def logsumexp(a: ArrayLike, axis: int | Sequence[int] | None = None, b: ArrayLike | None = None,
              keepdims: bool = False, return_sign: bool = False,
              where: ArrayLike | None = None) -> Any:
    """``log(sum(b * exp(a), axis))``, stable for large values of `a`.

    **Arguments:**

    - `a`: the exponents.
    - `axis`: axes to reduce (all by default).
    - `b`: optional scale factors, broadcast against `a` (may be negative); a term with
      ``b == 0`` is left out, whatever its exponent.
    - `keepdims`: keep the reduced axes with size one.
    - `return_sign`: also return the sign of the sum; otherwise a negative sum gives NaN.
    - `where`: a boolean mask broadcast against `a`: only those elements enter the sum (an
      empty sum gives ``-inf``, sign 0), and the others get no derivative.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import logsumexp

        assert np.isclose(logsumexp(np.array([1000.0, 1000.0])), 1000.0 + np.log(2.0))
        x = np.array([1.0, 5.0, 2.0])
        assert np.isclose(logsumexp(x, where=np.array([True, False, True])),
                          np.log(np.exp(1.0) + np.exp(2.0)))
        ```
    """
    if b is not None:
        a, b = promote_inexact(a, b)
        shape = np.broadcast_shapes(aval(a).shape, aval(b).shape)
        a, b = sh.broadcast_to(a, shape), sh.broadcast_to(b, shape)
        # A term scaled by 0 is left out (as in SciPy and JAX), even where its exponent is
        # inf (0 * inf) or larger than every kept one (which would set the shift).
        a = ufuncs.where(ew.ne(b, 0), a, -np.inf)
    else:
        (a,) = promote_inexact(a)
    if where is not None:
        a, mask = masked_to_neg_inf(a, where)
    nd = aval(a).ndim
    axes = canonical_axes(axis, nd)
    kept = tuple(i for i in range(nd) if i not in axes)
    empty = any(aval(a).shape[i] == 0 for i in axes)  # an empty sum: log(0) = -inf
    if empty:  # no shift (the max of no elements would raise)
        hi = np.zeros([aval(a).shape[i] for i in kept], aval(a).dtype)
    else:  # The shift is a constant (no derivative): stop the gradient before the max.
        hi = red.reduce_max(ew.stop_gradient(a), axes) if axes else ew.stop_gradient(a)
        hi = ufuncs.where(ufuncs.isfinite(hi), hi, 0.0)
    hi_b = sh.broadcast_in_dim(hi, aval(a).shape, kept)
    e = tr.exp(ew.sub(a, hi_b))
    if b is not None:
        e = ew.mul(e, b)
        if where is not None:  # an infinite scale outside the mask must not give NaN
            e = ufuncs.where(mask, e, 0.0)
    total = red.reduce_sum(e, axes) if axes else e
    if return_sign:
        sign = ew.sign(total)
        out = ew.add(_log_of_sum(ew.abs(total), where is not None or empty), hi)
    else:
        out = ew.add(_log_of_sum(total, where is not None or empty), hi)
    if keepdims and axes:
        out = sh.expand_dims(out, axes)
        if return_sign:
            sign = sh.expand_dims(sign, axes)
    return (out, sign) if return_sign else out


def _log_of_sum(total: Array, masked: bool) -> Array:
    """``log(total)``; with a mask, a sum left empty gives ``-inf`` without a division by
    zero, in the value or in the derivative."""
    if not masked:
        return tr.log(total)
    empty = ew.eq(total, 0)
    return ufuncs.where(empty, -np.inf, tr.log(ufuncs.where(empty, 1.0, total)))


def masked_to_neg_inf(x: Array, where: ArrayLike) -> tuple[Array, Array]:
    """`x` (inexact) with ``-inf`` where the mask `where` (broadcast to it) is false, so that
    those elements vanish from sums of ``exp(x)`` and get no derivative; and the mask."""
    mask = ufuncs._to_bool(where)
    try:
        ok = np.broadcast_shapes(aval(mask).shape, aval(x).shape) == aval(x).shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"where of shape {aval(mask).shape} does not broadcast to the "
                         f"input's shape {aval(x).shape}")
    return ufuncs.where(mask, x, -np.inf), mask


def expit(x: ArrayLike) -> Array:
    """The logistic sigmoid ``1 / (1 + exp(-x))``."""
    return tr.logistic(promote_inexact(x)[0])


def logit(x: ArrayLike) -> Array:
    """The inverse of `expit`: ``log(x / (1 - x))``. Its derivative ``1 / (x (1 - x))`` is
    ``inf`` at 0 and 1, as in JAX."""
    return _logit(promote_inexact(x)[0])


@custom_jvp
def _logit(x: Array) -> Array:
    return tr.log(ew.div(x, ew.sub(1, x)))


_logit.defjvps(lambda t, ans, x: ew.div(t, ew.mul(x, ew.sub(1, x))))


def erf(x: ArrayLike) -> Array:
    """The error function."""
    return tr.erf(promote_inexact(x)[0])


def erfc(x: ArrayLike) -> Array:
    """The complementary error function ``1 - erf(x)``."""
    return tr.erfc(promote_inexact(x)[0])


def xlogy(x: ArrayLike, y: ArrayLike) -> Array:
    """``x * log(y)``, defined as 0 where ``x == 0`` (whatever `y`).

    Its derivatives are JAX's: ``log(y)`` in `x` and ``x / y`` in `y`, also at ``x == 0``
    (so at ``(0, 0)`` they are ``-inf`` and NaN)."""
    return _xlogy(*promote_inexact(x, y))


def xlog1py(x: ArrayLike, y: ArrayLike) -> Array:
    """``x * log1p(y)``, defined as 0 where ``x == 0`` (whatever `y`); its derivatives are
    ``log1p(y)`` and ``x / (1 + y)``, as JAX's."""
    return _xlog1py(*promote_inexact(x, y))


def _x_times(log: Any, y_ok: Any, neutral: float) -> Any:
    """``x * log(y)`` with `neutral` for `y` where ``x == 0`` and `y` is outside the domain
    `y_ok`, so that 0 comes out without a NaN or a warning."""

    def f(x: Array, y: Array) -> Array:
        bad = ew.bitwise_and(ew.eq(x, 0), ufuncs.logical_not(
            ew.bitwise_and(y_ok(y), ew.is_finite(y))))
        return ew.mul(x, log(ufuncs.where(bad, neutral, y)))

    return f


_xlogy = custom_jvp(_x_times(tr.log, lambda y: ew.gt(y, 0), 1.0))
_xlogy.defjvps(lambda t, ans, x, y: ew.mul(t, tr.log(y)),
               lambda t, ans, x, y: ew.mul(t, ew.div(x, y)))
_xlog1py = custom_jvp(_x_times(tr.log1p, lambda y: ew.gt(y, -1), 0.0))
_xlog1py.defjvps(lambda t, ans, x, y: ew.mul(t, tr.log1p(y)),
                 lambda t, ans, x, y: ew.mul(t, ew.div(x, ew.add(1, y))))


def entr(x: ArrayLike) -> Array:
    """``-x log x`` for ``x > 0``, 0 at 0 and ``-inf`` below. Its derivative
    ``-(log x + 1)`` is ``inf`` at 0, as in JAX."""
    (x,) = promote_inexact(x)
    negative = ew.lt(x, 0)
    safe = ufuncs.where(negative, 1.0, x)  # no log of a negative number (nor its warning)
    return ufuncs.where(negative, -np.inf, ew.neg(_xlogx(safe)))


@custom_jvp
def _xlogx(x: Array) -> Array:
    return _xlogy(x, x)


_xlogx.defjvps(lambda t, ans, x: ew.mul(t, ew.add(tr.log(x), 1)))



# ---- gamma and beta families ----------------------------------------------------------------


def _unary(prim_fn, x: ArrayLike) -> Array:
    return prim_fn(promote_inexact(x)[0])


def gammaln(x: ArrayLike) -> Array:
    """``log|Gamma(x)|``; its derivative is `digamma`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import gammaln

        assert np.isclose(gammaln(5.0), np.log(24.0))
        ```
    """
    return _unary(sp.lgamma, x)


def digamma(x: ArrayLike) -> Array:
    """The digamma function ``d/dx log Gamma(x)``; its derivative is ``polygamma(1, x)``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import digamma

        assert np.isclose(digamma(1.0), -np.euler_gamma)
        ```
    """
    return _unary(sp.digamma, x)


def polygamma(n: ArrayLike, x: ArrayLike) -> Array:
    """The `n`-th derivative of `digamma` (`n` a non-negative integer; no derivative in `n`).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import polygamma

        assert np.isclose(polygamma(1, 1.0), np.pi**2 / 6)
        ```
    """
    n, x = promote_inexact(n, x)
    return sp.polygamma(n, x)


def zeta(x: ArrayLike, q: ArrayLike | None = None) -> Array:
    """The Hurwitz zeta function ``sum_k (k + q)^-x`` (Riemann's for ``q = None``);
    differentiable in `q` only, and defined for ``x > 1``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import zeta

        assert np.isclose(zeta(2.0), np.pi**2 / 6)
        ```
    """
    x, q = promote_inexact(x, 1.0 if q is None else q)
    return sp.zeta(x, q)


def loggamma(x: ArrayLike) -> Array:
    """The logarithm of the gamma function for real `x`: `gammaln` for ``x > 0``, NaN below
    (where the real logarithm of a negative gamma does not exist), as JAX and SciPy on real
    input. Complex input is not supported.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import loggamma

        assert np.isclose(loggamma(4.0), np.log(6.0)) and np.isnan(loggamma(-0.5))
        ```
    """
    (x,) = promote_inexact(x)
    if aval(x).dtype.kind == "c":
        raise NotImplementedError("loggamma: complex arguments are not supported; use a real "
                                  "array (for x > 0 it equals gammaln)")
    positive = ew.gt(x, 0)
    return ufuncs.where(positive, sp.lgamma(ufuncs.where(positive, x, 1.0)), np.nan)


def gammasgn(x: ArrayLike) -> Array:
    """The sign of the gamma function (NaN at the poles ``0, -1, -2, ...`` below zero).

    !!! Example
        ```python
        from funcdiff.scipy.special import gammasgn

        assert gammasgn(-0.5) == -1.0 and gammasgn(-1.5) == 1.0
        ```
    """
    (x,) = promote_inexact(x)
    odd = ew.ne(ufuncs.remainder(ew.floor(x), 2.0), 0.0)
    one = ew.ones_like(x)
    sign = ufuncs.where(ew.bitwise_or(ew.gt(x, 0), ew.bitwise_not(odd)), one, ew.neg(one))
    sign = ufuncs.where(ew.eq(x, 0), ufuncs.copysign(one, x), sign)  # -1 at -0.0, as SciPy
    pole = ew.bitwise_and(ew.lt(x, 0), ew.eq(x, ew.floor(x)))
    return ew.stop_gradient(ufuncs.where(pole, np.nan, sign))


def gamma(x: ArrayLike) -> Array:
    """The gamma function, ``gammasgn(x) * exp(gammaln(x))``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import gamma

        assert np.isclose(gamma(5.0), 24.0) and np.isclose(gamma(0.5), np.sqrt(np.pi))
        ```
    """
    (x,) = promote_inexact(x)
    return ew.mul(gammasgn(x), tr.exp(sp.lgamma(x)))


def betaln(a: ArrayLike, b: ArrayLike) -> Array:
    """``log|B(a, b)|`` with ``B(a, b) = Gamma(a) Gamma(b) / Gamma(a + b)``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import betaln

        assert np.isclose(betaln(2.0, 3.0), np.log(1 / 12))
        ```
    """
    a, b = promote_inexact(a, b)
    return ew.sub(ew.add(sp.lgamma(a), sp.lgamma(b)), sp.lgamma(ew.add(a, b)))


def beta(a: ArrayLike, b: ArrayLike) -> Array:
    """The beta function ``Gamma(a) Gamma(b) / Gamma(a + b)``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import beta

        assert np.isclose(beta(2.0, 3.0), 1 / 12)
        ```
    """
    a, b = promote_inexact(a, b)
    sign = ew.mul(ew.mul(gammasgn(a), gammasgn(b)), gammasgn(ew.add(a, b)))
    return ew.mul(sign, tr.exp(betaln(a, b)))


def betainc(a: ArrayLike, b: ArrayLike, x: ArrayLike) -> Array:
    """The regularized incomplete beta function ``I_x(a, b)``; differentiable in `x` only
    (as in JAX).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import betainc

        assert np.isclose(betainc(1.0, 2.0, 0.5), 0.75)
        ```
    """
    a, b, x = promote_inexact(a, b, x)
    return sp.betainc(a, b, x)


def gammainc(a: ArrayLike, x: ArrayLike) -> Array:
    """The regularized lower incomplete gamma function ``P(a, x)``, differentiable in both
    arguments (the derivative in `a` once only, as in JAX).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import gammainc

        assert np.isclose(gammainc(1.0, 2.0), 1 - np.exp(-2.0))
        ```
    """
    a, x = promote_inexact(a, x)
    return sp.igamma(a, x)


def gammaincc(a: ArrayLike, x: ArrayLike) -> Array:
    """The regularized upper incomplete gamma function ``Q(a, x) = 1 - P(a, x)``, accurate
    where it is small.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import gammaincc

        assert np.isclose(gammaincc(1.0, 50.0), np.exp(-50.0))
        ```
    """
    a, x = promote_inexact(a, x)
    return sp.igammac(a, x)


def multigammaln(a: ArrayLike, d: int) -> Array:
    """The log of the multivariate gamma function of dimension `d` (a Python int).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import gammaln, multigammaln

        assert np.isclose(multigammaln(3.0, 1), gammaln(3.0))
        ```
    """
    if not isinstance(d, int | np.integer) or d < 1:
        raise ValueError(f"multigammaln: `d` must be a positive Python int, got {d!r}")
    (a,) = promote_inexact(a)
    total = d * (d - 1) / 4 * math.log(math.pi)
    out = sp.lgamma(a)
    for j in range(1, int(d)):
        out = ew.add(out, sp.lgamma(ew.sub(a, j / 2)))
    return ew.add(out, total)


def poch(z: ArrayLike, m: ArrayLike) -> Array:
    """The rising factorial ``Gamma(z + m) / Gamma(z)``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import poch

        assert np.isclose(poch(3.0, 2.0), 12.0)
        ```
    """
    z, m = promote_inexact(z, m)
    zm = ew.add(z, m)
    sign = ew.mul(gammasgn(zm), gammasgn(z))
    value = ew.mul(sign, tr.exp(ew.sub(sp.lgamma(zm), sp.lgamma(z))))
    # Gamma(z + m) at a pole over a finite Gamma(z): infinite, as SciPy.
    pole = ew.bitwise_and(ew.le(zm, 0), ew.eq(zm, ew.floor(zm)))
    z_pole = ew.bitwise_and(ew.le(z, 0), ew.eq(z, ew.floor(z)))
    return ufuncs.where(ew.bitwise_and(pole, ew.bitwise_not(z_pole)), np.inf, value)


def factorial(n: ArrayLike, exact: bool = False) -> Array:
    """``n!`` as ``Gamma(n + 1)``, 0 for negative `n`; ``exact=True`` is not supported (as in
    JAX).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import factorial

        assert np.allclose(factorial(np.array([0, 3, 5])), [1.0, 6.0, 120.0])
        ```
    """
    if exact:
        raise NotImplementedError("factorial: exact=True is not supported (as in JAX); use "
                                  "exact=False, or math.factorial on Python ints")
    (n,) = promote_inexact(n)
    negative = ew.lt(n, 0)
    value = tr.exp(sp.lgamma(ew.add(ufuncs.where(negative, 0.0, n), 1.0)))
    return ufuncs.where(negative, 0.0, value)


def comb(N: ArrayLike, k: ArrayLike, exact: bool = False, repetition: bool = False) -> Array:  # noqa: N803
    """The number of combinations of `N` things taken `k` at a time, as
    ``exp(gammaln(N + 1) - gammaln(k + 1) - gammaln(N - k + 1))`` (0 outside ``0 <= k <= N``);
    ``exact=True`` is not supported.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import comb

        assert np.isclose(comb(5, 2), 10.0) and np.isclose(comb(3, 2, repetition=True), 6.0)
        ```
    """
    if exact:
        raise NotImplementedError("comb: exact=True is not supported; use math.comb on ints")
    N, k = promote_inexact(N, k)  # noqa: N806
    if repetition:
        N = ew.sub(ew.add(N, k), 1.0)  # noqa: N806
    valid = ew.bitwise_and(ew.ge(k, 0), ew.le(k, N))
    k_ = ufuncs.where(valid, k, 0.0)
    log_c = ew.sub(sp.lgamma(ew.add(N, 1.0)),
                   ew.add(sp.lgamma(ew.add(k_, 1.0)), sp.lgamma(ew.add(ew.sub(N, k_), 1.0))))
    return ufuncs.where(valid, tr.exp(log_c), 0.0)


# ---- error function family and the normal distribution --------------------------------------


def erfinv(x: ArrayLike) -> Array:
    """The inverse error function on ``[-1, 1]``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import erf, erfinv

        assert np.isclose(erf(erfinv(0.3)), 0.3)
        ```
    """
    return _unary(sp.erf_inv, x)


def erfcx(x: ArrayLike) -> Array:
    """The scaled complementary error function ``exp(x^2) erfc(x)``, finite for large `x`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import erfcx

        assert np.isclose(erfcx(1e4) * 1e4 * np.sqrt(np.pi), 1.0)
        ```
    """
    return _unary(sp.erfcx, x)


_SQRT_HALF = math.sqrt(0.5)


def ndtr(x: ArrayLike) -> Array:
    """The standard normal cumulative distribution function.

    !!! Example
        ```python
        from funcdiff.scipy.special import ndtr

        assert ndtr(0.0) == 0.5
        ```
    """
    (x,) = promote_inexact(x)
    return ew.mul(0.5, tr.erfc(ew.mul(-_SQRT_HALF, x)))


def ndtri(p: ArrayLike) -> Array:
    """The inverse of `ndtr`: the standard normal quantile function.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import ndtri

        assert np.isclose(ndtri(0.975), 1.959963984540054)
        ```
    """
    return _unary(sp.ndtri, p)


def log_ndtr(x: ArrayLike) -> Array:
    """``log(ndtr(x))``, accurate in both tails (through `erfcx` below -1).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import log_ndtr

        assert np.isclose(log_ndtr(-40.0), -804.6084420137538)
        ```
    """
    (x,) = promote_inexact(x)
    low = ew.lt(x, -1.0)
    minus_inf = ew.eq(x, -np.inf)
    # Each branch sees only the inputs it is used for, so neither overflows in a derivative.
    x_lo = ufuncs.where(ew.bitwise_and(low, ew.bitwise_not(minus_inf)), x, -1.0)
    x_hi = ufuncs.where(low, -1.0, x)
    lo = ew.sub(tr.log(ew.mul(0.5, sp.erfcx(ew.mul(-_SQRT_HALF, x_lo)))),
                ew.mul(0.5, ew.mul(x_lo, x_lo)))
    hi = tr.log1p(ew.mul(-0.5, tr.erfc(ew.mul(_SQRT_HALF, x_hi))))
    return ufuncs.where(minus_inf, -np.inf, ufuncs.where(low, lo, hi))


# ---- Bessel functions -----------------------------------------------------------------------


def i0e(x: ArrayLike) -> Array:
    """The exponentially scaled modified Bessel function of order 0, ``exp(-|x|) I0(x)``.

    !!! Example
        ```python
        from funcdiff.scipy.special import i0e

        assert i0e(0.0) == 1.0
        ```
    """
    return _unary(sp.bessel_i0e, x)


def i1e(x: ArrayLike) -> Array:
    """The exponentially scaled modified Bessel function of order 1, ``exp(-|x|) I1(x)``.

    !!! Example
        ```python
        from funcdiff.scipy.special import i1e

        assert i1e(0.0) == 0.0
        ```
    """
    return _unary(sp.bessel_i1e, x)


def _unscale(x: Array, scaled: Array) -> Array:
    # exp(|x|) written as exp(x sign(x)): its derivative at 0 is 0, matching the rule of
    # the scaled functions.
    return ew.mul(scaled, tr.exp(ew.mul(x, ew.sign(x))))


def i0(x: ArrayLike) -> Array:
    """The modified Bessel function of the first kind of order 0.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import i0

        assert np.isclose(i0(1.0), 1.2660658777520082)
        ```
    """
    (x,) = promote_inexact(x)
    return _unscale(x, sp.bessel_i0e(x))


def i1(x: ArrayLike) -> Array:
    """The modified Bessel function of the first kind of order 1.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import i1

        assert np.isclose(i1(1.0), 0.5651591039924851)
        ```
    """
    (x,) = promote_inexact(x)
    return _unscale(x, sp.bessel_i1e(x))


# ---- exponential integrals ------------------------------------------------------------------


def expi(x: ArrayLike) -> Array:
    """The exponential integral ``Ei(x)``; its derivative is ``exp(x) / x``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import expi

        assert np.isclose(expi(1.0), 1.8951178163559368)
        ```
    """
    return _unary(sp.expi, x)


def exp1(x: ArrayLike) -> Array:
    """The exponential integral ``E1(x) = -Ei(-x)`` for ``x >= 0`` (NaN below, as SciPy's real
    version).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import exp1

        assert np.isclose(exp1(1.0), 0.21938393439552029)
        ```
    """
    (x,) = promote_inexact(x)
    negative = ew.lt(x, 0)
    return ufuncs.where(negative, np.nan, ew.neg(sp.expi(ew.neg(ufuncs.where(negative, 1.0, x)))))


# ---- entropies and softmax ------------------------------------------------------------------


def rel_entr(x: ArrayLike, y: ArrayLike) -> Array:
    """``x log(x / y)`` for positive `x` and `y`, 0 where ``x == 0 <= y``, inf elsewhere.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import rel_entr

        assert np.isclose(rel_entr(2.0, 1.0), 2 * np.log(2.0)) and rel_entr(0.0, 3.0) == 0.0
        ```
    """
    x, y = promote_inexact(x, y)
    both_pos = ew.bitwise_and(ew.gt(x, 0), ew.gt(y, 0))
    x_zero = ew.bitwise_and(ew.eq(x, 0), ew.ge(y, 0))
    xs, ys = ufuncs.where(both_pos, x, 1.0), ufuncs.where(both_pos, y, 1.0)
    value = ew.mul(xs, tr.log(ew.div(xs, ys)))
    return ufuncs.where(x_zero, 0.0, ufuncs.where(both_pos, value, np.inf))


def kl_div(x: ArrayLike, y: ArrayLike) -> Array:
    """``x log(x / y) - x + y`` for positive `x` and `y`, `y` where ``x == 0 <= y``, inf
    elsewhere.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import kl_div

        assert np.isclose(kl_div(2.0, 1.0), 2 * np.log(2.0) - 1.0)
        ```
    """
    x, y = promote_inexact(x, y)
    x_zero = ew.bitwise_and(ew.eq(x, 0), ew.ge(y, 0))
    both_pos = ew.bitwise_and(ew.gt(x, 0), ew.gt(y, 0))
    value = ew.add(ew.sub(rel_entr(x, y), x), y)
    return ufuncs.where(ew.bitwise_or(both_pos, x_zero), value, np.inf)


def softmax(x: ArrayLike, axis: int | Sequence[int] | None = None) -> Array:
    """``exp(x) / sum(exp(x))`` over `axis` (all axes by default, as in SciPy).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import softmax

        assert np.isclose(np.sum(softmax(np.array([1.0, 2.0, 3.0]))), 1.0)
        ```
    """
    return tr.exp(log_softmax(x, axis))


def log_softmax(x: ArrayLike, axis: int | Sequence[int] | None = None) -> Array:
    """``x - logsumexp(x)`` over `axis` (all axes by default, as in SciPy).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import log_softmax

        assert np.isclose(log_softmax(np.array([0.0, 0.0]))[0], -np.log(2.0))
        ```
    """
    (x,) = promote_inexact(x)
    return ew.sub(x, logsumexp(x, axis, keepdims=True))


def boxcox(x: ArrayLike, lmbda: ArrayLike) -> Array:
    """The Box-Cox transform ``(x^lmbda - 1) / lmbda``, ``log(x)`` at ``lmbda == 0``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import boxcox

        assert np.isclose(boxcox(4.0, 0.5), 2.0) and np.isclose(boxcox(4.0, 0.0), np.log(4.0))
        ```
    """
    x, lmbda = promote_inexact(x, lmbda)
    return _boxcox(tr.log(x), lmbda)


def boxcox1p(x: ArrayLike, lmbda: ArrayLike) -> Array:
    """The Box-Cox transform of ``1 + x``, accurate for small `x`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import boxcox1p

        assert np.isclose(boxcox1p(3.0, 0.5), 2.0)
        ```
    """
    x, lmbda = promote_inexact(x, lmbda)
    return _boxcox(tr.log1p(x), lmbda)


def _boxcox(log_x: Array, lmbda: Array) -> Array:
    zero = ew.eq(lmbda, 0)
    safe = ufuncs.where(zero, 1.0, lmbda)
    return ufuncs.where(zero, log_x, ew.div(tr.expm1(ew.mul(safe, log_x)), safe))
