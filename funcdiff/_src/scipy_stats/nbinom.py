"""The negative binomial distribution, as `jax.scipy.stats.nbinom`."""

from __future__ import annotations

import funcdiff.numpy as jnp
from funcdiff._src.numpy._util import Array, ArrayLike
from funcdiff._src.scipy_special import gammaln, xlog1py, xlogy
from funcdiff._src.scipy_stats._util import promote


def logpmf(k: ArrayLike, n: ArrayLike, p: ArrayLike, loc: ArrayLike = 0) -> Array:
    """Log of the probability of ``k - loc`` failures before the `n`-th success, successes
    having probability `p`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import nbinom

        assert np.isclose(nbinom.logpmf(0, 3, 0.5), 3 * np.log(0.5))
        ```
    """
    k, n, p, loc = promote(k, n, p, loc)
    y = k - loc
    below = y < 0
    y = jnp.where(below, 0, y)
    comb = gammaln(y + n) - gammaln(n) - gammaln(y + 1)
    return jnp.where(below, -jnp.inf, comb + xlogy(n, p) + xlog1py(y, -p))


def pmf(k: ArrayLike, n: ArrayLike, p: ArrayLike, loc: ArrayLike = 0) -> Array:
    """The negative binomial probability mass function.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import nbinom

        assert np.isclose(nbinom.pmf(1, 1, 0.5), 0.25)
        ```
    """
    return jnp.exp(logpmf(k, n, p, loc))
