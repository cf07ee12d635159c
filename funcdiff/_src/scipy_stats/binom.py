"""The binomial distribution, as `jax.scipy.stats.binom`."""

from __future__ import annotations

import funcdiff.numpy as jnp
from funcdiff._src.numpy._util import Array, ArrayLike
from funcdiff._src.scipy_special import gammaln, xlog1py, xlogy
from funcdiff._src.scipy_stats._util import promote


def logpmf(k: ArrayLike, n: ArrayLike, p: ArrayLike, loc: ArrayLike = 0) -> Array:
    """Log of the probability of ``k - loc`` successes in `n` trials of probability `p`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import binom

        assert np.isclose(binom.logpmf(1, 2, 0.5), np.log(0.5))
        ```
    """
    k, n, p, loc = promote(k, n, p, loc)
    y = k - loc
    outside = (y < 0) | (y > n)
    y = jnp.where(outside, 0, y)
    comb = gammaln(n + 1) - gammaln(y + 1) - gammaln(n - y + 1)
    return jnp.where(outside, -jnp.inf, comb + xlogy(y, p) + xlog1py(n - y, -p))


def pmf(k: ArrayLike, n: ArrayLike, p: ArrayLike, loc: ArrayLike = 0) -> Array:
    """The binomial probability mass function.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import binom

        assert np.isclose(binom.pmf(2, 4, 0.5), 6 / 16)
        ```
    """
    return jnp.exp(logpmf(k, n, p, loc))
