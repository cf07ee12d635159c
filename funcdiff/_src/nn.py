"""Activation functions and other neural-network helpers, numerically stable in value and
gradient."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from funcdiff._src import scipy_special
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax import transcendental as tr
from funcdiff._src.numpy import reductions, ufuncs
from funcdiff._src.numpy._util import (
    Array,
    ArrayLike,
    asarray,
    aval,
    canonical_axes,
    promote_inexact,
)


def relu(x: ArrayLike) -> Array:
    """``max(x, 0)``; its derivative at 0 is taken as 0, and NaN stays NaN, as in JAX.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff import nn

        assert funcdiff.grad(nn.relu)(2.0) == 1.0 and funcdiff.grad(nn.relu)(0.0) == 0.0
        assert np.isnan(nn.relu(np.nan))
        ```
    """
    x = asarray(x)
    zero, a = ew.zeros_like(x), aval(x)
    if a.weak_type:  # a weakly typed x (a Python float) gives a weakly typed result, as in JAX
        zero = ew.convert_element_type(zero, a.dtype, weak_type=True)
    return ew.select_n(ew.le(x, 0), x, zero)


def sigmoid(x: ArrayLike) -> Array:
    """The logistic function ``1 / (1 + exp(-x))``."""
    return tr.logistic(promote_inexact(x)[0])


def softplus(x: ArrayLike) -> Array:
    """``log(1 + exp(x))`` without overflow."""
    return ufuncs.logaddexp(x, 0.0)


def silu(x: ArrayLike) -> Array:
    """``x * sigmoid(x)`` (also called swish)."""
    x = promote_inexact(x)[0]
    return ew.mul(x, tr.logistic(x))


swish = silu


def gelu(x: ArrayLike, approximate: bool = True) -> Array:
    """Gaussian error linear unit; the tanh approximation by default, as in JAX."""
    x = promote_inexact(x)[0]
    if approximate:
        c = math.sqrt(2.0 / math.pi)
        inner = ew.mul(c, ew.add(x, ew.mul(0.044715, ew.integer_pow(x, 3))))
        return ew.mul(ew.mul(0.5, x), ew.add(1.0, tr.tanh(inner)))
    return ew.mul(ew.mul(0.5, x), tr.erfc(ew.mul(-1.0 / math.sqrt(2.0), x)))


def elu(x: ArrayLike, alpha: float = 1.0) -> Array:
    x = promote_inexact(x)[0]
    safe = ew.select_n(ew.gt(x, 0), x, ew.zeros_like(x))
    return ew.select_n(ew.gt(x, 0), ew.mul(alpha, tr.expm1(safe)), x)


def leaky_relu(x: ArrayLike, negative_slope: float = 0.01) -> Array:
    x = promote_inexact(x)[0]
    return ew.select_n(ew.ge(x, 0), ew.mul(negative_slope, x), x)


def log_sigmoid(x: ArrayLike) -> Array:
    return ew.neg(softplus(ew.neg(promote_inexact(x)[0])))


def logsumexp(a: ArrayLike, axis: int | Sequence[int] | None = None, b: ArrayLike | None = None,
              keepdims: bool = False, return_sign: bool = False,
              where: ArrayLike | None = None) -> Any:
    """``log(sum(b * exp(a)))`` over `axis` (of the elements where `where` holds), stable for
    large values (see `funcdiff.scipy.special.logsumexp`)."""
    return scipy_special.logsumexp(a, axis, b, keepdims, return_sign, where)


def _shifted(x: ArrayLike, axis: int | Sequence[int] | None, where: ArrayLike | None
             ) -> tuple[Array, tuple[int, ...]]:
    """`x` minus its (constant) maximum over `axis`, ``-inf`` outside `where`, and the axes."""
    x = promote_inexact(x)[0]
    if where is not None:
        x = scipy_special.masked_to_neg_inf(x, where)[0]
    axes = canonical_axes(axis, aval(x).ndim)
    if any(aval(x).shape[a] == 0 for a in axes):  # no elements: no shift (max would raise)
        return x, axes
    hi = reductions.max(ew.stop_gradient(x), axes, keepdims=True)  # a constant shift
    if where is not None:  # a row with nothing selected has the maximum -inf
        hi = ufuncs.where(ufuncs.isfinite(hi), hi, 0.0)
    return ew.sub(x, hi), axes


def _masked_total(e: Array, axes: tuple[int, ...], where: ArrayLike | None) -> Array:
    """The sum of `e` over `axes`; 1 instead of 0 for a row that `where` leaves empty, so
    that it gives zeros (not NaN) and a zero derivative."""
    total = reductions.sum(e, axes, keepdims=True)
    if where is None and aval(e).size:  # (an empty `e` gives no result: no log(0) warning)
        return total
    return ufuncs.where(ew.eq(total, 0), 1.0, total)


def softmax(x: ArrayLike, axis: int | Sequence[int] | None = -1,
            where: ArrayLike | None = None) -> Array:
    """``exp(x) / sum(exp(x))`` along `axis`, computed stably. With `where` (a boolean mask
    broadcast against `x`) only those elements take part and the others are 0.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.nn as nn

        x = np.array([1.0, 2.0, 3.0])
        assert np.isclose(nn.softmax(x).sum(), 1.0)
        p = nn.softmax(x, where=np.array([True, False, True]))
        assert np.allclose(p, [1 / (1 + np.e**2), 0.0, np.e**2 / (1 + np.e**2)])
        ```
    """
    shifted, axes = _shifted(x, axis, where)
    unnormalized = tr.exp(shifted)
    return ew.div(unnormalized, _masked_total(unnormalized, axes, where))


def log_softmax(x: ArrayLike, axis: int | Sequence[int] | None = -1,
                where: ArrayLike | None = None) -> Array:
    """``x - logsumexp(x)`` along `axis`, computed stably. With `where` (a boolean mask
    broadcast against `x`) only those elements take part and the others are ``-inf``.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.nn as nn

        x = np.array([0.0, 5.0, 0.0])
        assert np.allclose(nn.log_softmax(x, where=x == 0), [-np.log(2), -np.inf, -np.log(2)])
        ```
    """
    shifted, axes = _shifted(x, axis, where)
    out = ew.sub(shifted, tr.log(_masked_total(tr.exp(shifted), axes, where)))
    # A left-out element is the constant -inf: no derivative (not minus the log-sum's).
    return out if where is None else ufuncs.where(where, out, -np.inf)


def one_hot(x: ArrayLike, num_classes: int, dtype: Any = np.float64, axis: int = -1) -> Array:
    """One-hot encoding of integer labels; out-of-range labels give all-zero rows."""
    x = asarray(x)
    nd = aval(x).ndim + 1
    ax = axis % nd
    classes_shape = [1] * nd
    classes_shape[ax] = num_classes
    classes = np.arange(num_classes).reshape(classes_shape)
    expanded = sh.expand_dims(x, (ax,))
    return ew.convert_element_type(ufuncs.equal(expanded, classes), dtype)


def standardize(x: ArrayLike, axis: int | Sequence[int] | None = -1,
                mean: ArrayLike | None = None, variance: ArrayLike | None = None,
                epsilon: ArrayLike = 1e-5, where: ArrayLike | None = None) -> Array:
    """``(x - mean) / sqrt(variance + epsilon)`` along `axis`, as JAX's.

    **Arguments:**

    - `x`: the array.
    - `axis`: the axes the statistics are taken over.
    - `mean`, `variance`: the statistics to use (broadcastable to `x`); by default computed
      from `x` over `axis`. As in JAX, a given `mean` with no `variance` gives the variance
      ``mean(x**2) - mean**2``.
    - `epsilon`: added to the variance.
    - `where`: the elements included in the statistics.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import nn

        x = np.array([1.0, 2.0, 4.0])
        assert np.allclose(nn.standardize(x, mean=1.0, variance=3.0, epsilon=1.0),
                           [0.0, 0.5, 1.5])
        ```
    """
    x = promote_inexact(x)[0]
    masked = {} if where is None else {"where": where}
    if mean is None:
        mean = reductions.mean(x, axis, keepdims=True, **masked)
        if variance is None:
            variance = reductions.var(x, axis, keepdims=True, **masked)
    elif variance is None:
        variance = ew.sub(reductions.mean(ew.mul(x, x), axis, keepdims=True, **masked),
                          ufuncs.square(mean))
    return ew.mul(ufuncs.subtract(x, mean),
                  tr.rsqrt(promote_inexact(ufuncs.add(variance, epsilon))[0]))

