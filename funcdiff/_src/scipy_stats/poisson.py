"""The Poisson distribution, as `jax.scipy.stats.poisson`."""

from __future__ import annotations

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
