"""Special functions of `funcdiff.scipy.special`, differentiable and numerically stable."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import reductions as red
from funcdiff._src.lax import shape as sh
from funcdiff._src.numpy import ufuncs
from funcdiff._src.numpy._util import Array, ArrayLike, aval, canonical_axes, promote_inexact


def logsumexp(a: ArrayLike, axis: int | Sequence[int] | None = None, b: ArrayLike | None = None,
              keepdims: bool = False, return_sign: bool = False) -> Any:
    """``log(sum(b * exp(a), axis))``, stable for large values of `a`.

    **Arguments:**

    - `a`: the exponents.
    - `axis`: axes to reduce (all by default).
    - `b`: optional scale factors, broadcast against `a` (may be negative).
    - `keepdims`: keep the reduced axes with size one.
    - `return_sign`: also return the sign of the sum; otherwise a negative sum gives NaN.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.special import logsumexp

        assert np.isclose(logsumexp(np.array([1000.0, 1000.0])), 1000.0 + np.log(2.0))
        ```
    """
    if b is not None:
        a, b = promote_inexact(a, b)
        shape = np.broadcast_shapes(aval(a).shape, aval(b).shape)
        a, b = sh.broadcast_to(a, shape), sh.broadcast_to(b, shape)
    else:
        (a,) = promote_inexact(a)
    nd = aval(a).ndim
    axes = canonical_axes(axis, nd)
    kept = tuple(i for i in range(nd) if i not in axes)
    # The shift is a constant (no derivative): stop the gradient before the max.
    hi = red.reduce_max(ew.stop_gradient(a), axes) if axes else ew.stop_gradient(a)
    hi = ufuncs.where(ufuncs.isfinite(hi), hi, 0.0)
    hi_b = sh.broadcast_in_dim(hi, aval(a).shape, kept)
    e = ew.exp(ew.sub(a, hi_b))
    if b is not None:
        e = ew.mul(e, b)
    total = red.reduce_sum(e, axes) if axes else e
    if return_sign:
        sign = ew.sign(total)
        out = ew.add(ew.log(ew.abs(total)), hi)
    else:
        out = ew.add(ew.log(total), hi)
    if keepdims and axes:
        out = sh.expand_dims(out, axes)
        if return_sign:
            sign = sh.expand_dims(sign, axes)
    return (out, sign) if return_sign else out


def expit(x: ArrayLike) -> Array:
    """The logistic sigmoid ``1 / (1 + exp(-x))``."""
    return ew.logistic(promote_inexact(x)[0])


def logit(x: ArrayLike) -> Array:
    """The inverse of `expit`: ``log(x / (1 - x))``."""
    (x,) = promote_inexact(x)
    return ew.log(ew.div(x, ew.sub(1, x)))


def erf(x: ArrayLike) -> Array:
    """The error function."""
    return ew.erf(promote_inexact(x)[0])


def erfc(x: ArrayLike) -> Array:
    """The complementary error function ``1 - erf(x)``."""
    return ew.erfc(promote_inexact(x)[0])


def xlogy(x: ArrayLike, y: ArrayLike) -> Array:
    """``x * log(y)``, defined as 0 where ``x == 0`` (whatever `y`).

    The derivative in `x` is ``log(y)`` also at ``x == 0`` (the function is linear in `x`);
    where ``x == 0`` and ``log(y)`` is not finite, both derivatives are 0."""
    x, y = promote_inexact(x, y)
    # Where x == 0, x * log(y) is already 0 with the right derivatives unless log(y) is not
    # finite: only there is y replaced (by 1).
    bad = ew.bitwise_and(ew.eq(x, 0), ufuncs.logical_not(
        ew.bitwise_and(ew.gt(y, 0), ew.is_finite(y))))
    return ew.mul(x, ew.log(ufuncs.where(bad, 1.0, y)))


def xlog1py(x: ArrayLike, y: ArrayLike) -> Array:
    """``x * log1p(y)``, defined as 0 where ``x == 0`` (derivatives as in `xlogy`)."""
    x, y = promote_inexact(x, y)
    bad = ew.bitwise_and(ew.eq(x, 0), ufuncs.logical_not(
        ew.bitwise_and(ew.gt(y, -1), ew.is_finite(y))))
    return ew.mul(x, ew.log1p(ufuncs.where(bad, 0.0, y)))


def entr(x: ArrayLike) -> Array:
    """``-x log x`` for ``x > 0``, 0 at 0 and ``-inf`` below."""
    (x,) = promote_inexact(x)
    negative = ew.lt(x, 0)
    safe = ufuncs.where(negative, 1.0, x)  # no log of a negative number (nor its warning)
    return ufuncs.where(negative, -np.inf, ew.neg(xlogy(safe, safe)))

