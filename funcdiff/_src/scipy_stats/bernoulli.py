"""The Bernoulli distribution, as `jax.scipy.stats.bernoulli`."""

from __future__ import annotations

import funcdiff.numpy as jnp
from funcdiff._src.numpy._util import Array, ArrayLike
from funcdiff._src.scipy_special import xlog1py, xlogy
from funcdiff._src.scipy_stats._util import promote


def logpmf(k: ArrayLike, p: ArrayLike, loc: ArrayLike = 0) -> Array:
    """Log of the probability of ``k - loc`` (1 with probability `p`, 0 otherwise).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import bernoulli

        assert np.isclose(bernoulli.logpmf(1, 0.3), np.log(0.3))
        ```
    """
    k, p, loc = promote(k, p, loc)
    y = k - loc
    outside = (y != 0) & (y != 1)
    y = jnp.where(outside, 0, y)
    return jnp.where(outside, -jnp.inf, xlogy(y, p) + xlog1py(1 - y, -p))


def pmf(k: ArrayLike, p: ArrayLike, loc: ArrayLike = 0) -> Array:
    """The Bernoulli probability mass function.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import bernoulli

        assert np.isclose(bernoulli.pmf(0, 0.3), 0.7)
        ```
    """
    return jnp.exp(logpmf(k, p, loc))


def cdf(k: ArrayLike, p: ArrayLike) -> Array:
    """The Bernoulli cumulative distribution function: 0 below 0, ``1 - p`` on ``[0, 1)``, 1
    from 1 on (NaN for `p` outside ``[0, 1]``).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import bernoulli

        assert np.isclose(bernoulli.cdf(0.5, 0.3), 0.7)
        ```
    """
    k, p = promote(k, p)
    value = jnp.where(k < 0, 0.0, jnp.where(k < 1, 1 - p, 1.0))
    return jnp.where((p < 0) | (p > 1), jnp.nan, value)


def ppf(q: ArrayLike, p: ArrayLike) -> Array:
    """The Bernoulli quantile function: 0 for ``q <= 1 - p``, 1 above (NaN outside
    ``[0, 1]``).

    !!! Example
        ```python
        from funcdiff.scipy.stats import bernoulli

        assert bernoulli.ppf(0.5, 0.3) == 0.0 and bernoulli.ppf(0.8, 0.3) == 1.0
        ```
    """
    q, p = promote(q, p)
    value = jnp.where(q <= 1 - p, jnp.zeros_like(q), jnp.ones_like(q))
    return jnp.where((q < 0) | (q > 1) | (p < 0) | (p > 1), jnp.nan, value)
