"""The geometric distribution (trials up to the first success), as `jax.scipy.stats.geom`."""

from __future__ import annotations

import funcdiff.numpy as jnp
from funcdiff._src.numpy._util import Array, ArrayLike
from funcdiff._src.scipy_special import xlog1py
from funcdiff._src.scipy_stats._util import promote


def logpmf(k: ArrayLike, p: ArrayLike, loc: ArrayLike = 0) -> Array:
    """Log of the probability that the first success is trial ``k - loc >= 1``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import geom

        assert np.isclose(geom.logpmf(3, 0.5), 3 * np.log(0.5))
        ```
    """
    k, p, loc = promote(k, p, loc)
    y = k - loc
    below = y <= 0
    y = jnp.where(below, 1, y)
    return jnp.where(below, -jnp.inf, xlog1py(y - 1, -p) + jnp.log(p))


def pmf(k: ArrayLike, p: ArrayLike, loc: ArrayLike = 0) -> Array:
    """The geometric probability mass function.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import geom

        assert np.isclose(geom.pmf(2, 0.25), 0.1875)
        ```
    """
    return jnp.exp(logpmf(k, p, loc))
