"""The normal distribution truncated to ``[a, b]`` (in standard deviations from `loc`), as
`jax.scipy.stats.truncnorm`."""

from __future__ import annotations

import math

import funcdiff.numpy as jnp
from funcdiff._src.numpy._util import Array, ArrayLike
from funcdiff._src.scipy_special import log_ndtr, ndtr
from funcdiff._src.scipy_stats import norm
from funcdiff._src.scipy_stats._util import promote, standardize


def _log_diff_exp(big: Array, small: Array) -> Array:
    """``log(exp(big) - exp(small))`` for ``big >= small``."""
    return big + jnp.log(-jnp.expm1(small - big))


def _log_mass(lo: Array, hi: Array) -> Array:
    """``log(ndtr(hi) - ndtr(lo))``: in the tails, from the tail on the left of 0 (mirroring
    an interval right of 0), where `log_ndtr` keeps its accuracy; across 0, by ``log1p``."""
    right = lo > 0
    central = ~right & (hi > 0)
    t_lo = jnp.where(right, -hi, lo)
    t_hi = jnp.where(right, -lo, hi)
    tail = _log_diff_exp(log_ndtr(jnp.where(central, 0, t_hi)),
                         log_ndtr(jnp.where(central, -1, t_lo)))
    middle = jnp.log1p(-ndtr(jnp.where(central, lo, -1)) - ndtr(-jnp.where(central, hi, 1)))
    return jnp.where(central, middle, tail)


def _args(x, a, b, loc, scale):
    x, a, b, loc, scale = promote(x, a, b, loc, scale)
    return x, a, b, loc, scale, standardize(x, loc, scale)


def _log_tail(x, a, b, loc, scale, upper: bool) -> Array:
    """Log of the truncated mass below `x` (or above it, with `upper`)."""
    x, a, b, loc, scale, z = _args(x, a, b, loc, scale)
    zc = jnp.where((z > a) & (z < b), z, (a + b) / 2)
    total = _log_mass(a, b)
    wanted, other = _log_mass(zc, b) - total, _log_mass(a, zc) - total
    if not upper:
        wanted, other = other, wanted
    # Near 1 the wanted probability is computed as 1 - the other one, which is then small
    # and accurate (a log close to 0 would lose its digits to cancellation).
    near_one = wanted > -math.log(2.0)
    complement = jnp.log1p(-jnp.exp(jnp.where(near_one, other, -1.0)))
    mass = jnp.where(near_one, complement, wanted)
    below, above = (0.0, -jnp.inf) if upper else (-jnp.inf, 0.0)
    value = jnp.where(z <= a, below, jnp.where(z >= b, above, mass))
    return jnp.where(a >= b, jnp.nan, value)


def logpdf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0,
           scale: ArrayLike = 1) -> Array:
    """Log of the truncated normal density (``-inf`` outside ``[a, b]``, NaN if ``a >= b``).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import norm, truncnorm

        assert np.isclose(truncnorm.logpdf(0.5, 0.0, np.inf), np.log(2) + norm.logpdf(0.5))
        ```
    """
    x, a, b, loc, scale, z = _args(x, a, b, loc, scale)
    value = norm.logpdf(x, loc, scale) - _log_mass(a, b)
    value = jnp.where((z < a) | (z > b), -jnp.inf, value)
    return jnp.where(a >= b, jnp.nan, value)


def pdf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0,
        scale: ArrayLike = 1) -> Array:
    """The truncated normal density.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import norm, truncnorm

        assert np.isclose(truncnorm.pdf(0.5, -np.inf, np.inf), norm.pdf(0.5))
        ```
    """
    return jnp.exp(logpdf(x, a, b, loc, scale))


def logcdf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0,
           scale: ArrayLike = 1) -> Array:
    """Log of the truncated normal cumulative distribution function.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import truncnorm

        assert np.isclose(truncnorm.logcdf(0.0, -1.0, 1.0), np.log(0.5))
        ```
    """
    return _log_tail(x, a, b, loc, scale, upper=False)


def cdf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0,
        scale: ArrayLike = 1) -> Array:
    """The truncated normal cumulative distribution function.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import truncnorm

        assert np.isclose(truncnorm.cdf(0.0, -1.0, 1.0), 0.5)
        ```
    """
    return jnp.exp(logcdf(x, a, b, loc, scale))


def logsf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0,
          scale: ArrayLike = 1) -> Array:
    """Log of the truncated normal survival function.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import truncnorm

        assert np.isclose(truncnorm.logsf(0.0, -1.0, 1.0), np.log(0.5))
        ```
    """
    return _log_tail(x, a, b, loc, scale, upper=True)


def sf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0,
       scale: ArrayLike = 1) -> Array:
    """The truncated normal survival function.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import truncnorm

        assert np.isclose(truncnorm.sf(0.0, -1.0, 1.0), 0.5)
        ```
    """
    return jnp.exp(logsf(x, a, b, loc, scale))
