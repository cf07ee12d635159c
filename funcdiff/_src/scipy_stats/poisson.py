"""The Poisson distribution, as `jax.scipy.stats.poisson`."""

from __future__ import annotations

import math

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src.numpy._util import Array, ArrayLike
from funcdiff._src.scipy_special import gammaincc, gammaln, xlogy
from funcdiff._src.scipy_stats._util import promote


def logpmf(k: ArrayLike, mu: ArrayLike, loc: ArrayLike = 0) -> Array:
    """Log of the Poisson probability ``mu^k e^-mu / k!`` of ``k - loc`` (``-inf`` unless a
    non-negative integer).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import poisson

        assert np.isclose(poisson.logpmf(2, 3.0), np.log(4.5) - 3.0)
        ```
    """
    k, mu, loc = promote(k, mu, loc)
    y = k - loc
    outside = (y < 0) | (y != jnp.round(y))
    y = jnp.where(outside, 0, y)
    return jnp.where(outside, -jnp.inf, xlogy(y, mu) - gammaln(y + 1) - mu)


def pmf(k: ArrayLike, mu: ArrayLike, loc: ArrayLike = 0) -> Array:
    """The Poisson probability mass function.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import poisson

        assert np.isclose(poisson.pmf(0, 3.0), np.exp(-3.0))
        ```
    """
    return jnp.exp(logpmf(k, mu, loc))


def cdf(k: ArrayLike, mu: ArrayLike, loc: ArrayLike = 0) -> Array:
    """The Poisson cumulative distribution function ``gammaincc(floor(k - loc) + 1, mu)``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import poisson

        assert np.isclose(poisson.cdf(1.5, 3.0), 4 * np.exp(-3.0))
        ```
    """
    k, mu, loc = promote(k, mu, loc)
    y = k - loc
    below = y < 0
    return jnp.where(below, 0.0, gammaincc(jnp.floor(jnp.where(below, 0, y)) + 1, mu))


# Up to this mean the entropy is summed over the _TERMS counts around the mean (13 standard
# deviations either side at the threshold: the rest of the mass is below 1e-37); above it, the
# asymptotic series is exact to about 1e-13.
_SUMMED_BELOW = 1000.0
_TERMS = 2 * math.ceil(13 * math.sqrt(_SUMMED_BELOW))


def entropy(mu: ArrayLike, loc: ArrayLike = 0) -> Array:
    """The Shannon entropy ``-sum_k p(k) log p(k)`` of the Poisson distribution of mean `mu`
    (`loc` shifts the counts and leaves it unchanged; `mu = 0` gives 0, `mu < 0` NaN).

    Below a mean of 1000 the sum runs over the counts that carry the mass; above, the
    asymptotic expansion ``log(2 pi e mu) / 2 - 1 / (12 mu) - 1 / (24 mu^2) - 19 / (360
    mu^3)`` is used. Differentiable in `mu`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import poisson

        k = np.arange(60.0)  # the mass of mu = 5 beyond 60 is negligible
        log_p = k * np.log(5.0) - 5.0 - np.cumsum(np.log(np.maximum(k, 1)))
        assert np.isclose(poisson.entropy(5.0), -np.sum(np.exp(log_p) * log_p), rtol=1e-12)
        ```
    """
    mu, loc = promote(mu, loc)
    shape = jnp.broadcast_shapes(jnp.shape(mu), jnp.shape(loc))
    mu = jnp.broadcast_to(mu, shape)
    small = mu < _SUMMED_BELOW
    safe_small = jnp.where(small & (mu > 0), mu, 1.0)
    first = jnp.maximum(jnp.floor(safe_small) - _TERMS // 2, 0)
    dtype = jnp.result_type(mu)
    k = first + jnp.arange(_TERMS, dtype=dtype).reshape((_TERMS,) + (1,) * len(shape))
    # Counts whose probability is far below the dtype's range (and their derivatives, which
    # would underflow) contribute nothing: masked, with a safe value inside the mask.
    log_p = logpmf(k, safe_small)
    keep = log_p > 0.7 * float(np.log(np.finfo(dtype).tiny))
    log_p = jnp.where(keep, log_p, 0.0)
    summed = -jnp.sum(jnp.where(keep, jnp.exp(log_p) * log_p, 0.0), axis=0)
    large = jnp.where(small, _SUMMED_BELOW, mu)
    series = (0.5 * jnp.log(2 * math.pi * math.e * large) - 1 / (12 * large)
              - 1 / (24 * large**2) - 19 / (360 * large**3))
    out = jnp.where(small, summed, series)
    zero_or_nan = jnp.astype(jnp.where(mu == 0, 0.0, jnp.nan), out.dtype)
    return jnp.where(mu > 0, out, zero_or_nan)
