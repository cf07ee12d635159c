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
    hi = red.reduce_max(a, axes) if axes else a
    hi = ufuncs.where(ufuncs.isfinite(hi), hi, 0.0)
    hi = ew.stop_gradient(hi)
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
    """``x * log(y)``, defined as 0 where ``x == 0`` (also in its gradient)."""
    x, y = promote_inexact(x, y)
    x_zero = ew.eq(x, 0)
    safe_y = ufuncs.where(x_zero, 1.0, y)
    return ufuncs.where(x_zero, 0.0, ew.mul(x, ew.log(safe_y)))


def xlog1py(x: ArrayLike, y: ArrayLike) -> Array:
    """``x * log1p(y)``, defined as 0 where ``x == 0``."""
    x, y = promote_inexact(x, y)
    x_zero = ew.eq(x, 0)
    safe_y = ufuncs.where(x_zero, 0.0, y)
    return ufuncs.where(x_zero, 0.0, ew.mul(x, ew.log1p(safe_y)))


def entr(x: ArrayLike) -> Array:
    """``-x log x`` for ``x > 0``, 0 at 0 and ``-inf`` below."""
    (x,) = promote_inexact(x)
    return ufuncs.where(ew.lt(x, 0), -np.inf, ew.neg(xlogy(x, x)))

