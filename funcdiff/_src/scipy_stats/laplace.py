"""The Laplace distribution, as `jax.scipy.stats.laplace`."""

from __future__ import annotations

import math

import funcdiff.numpy as jnp
from funcdiff._src.numpy._util import Array, ArrayLike
from funcdiff._src.scipy_stats._util import promote, standardize


def logpdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the Laplace density ``exp(-|x - loc| / scale) / (2 scale)``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import laplace

        assert np.isclose(laplace.logpdf(-1.0), -np.log(2.0) - 1.0)
        ```
    """
    x, loc, scale = promote(x, loc, scale)
    return -jnp.abs(standardize(x, loc, scale)) - jnp.log(scale) - math.log(2.0)


def pdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The Laplace density.

    !!! Example
        ```python
        from funcdiff.scipy.stats import laplace

        assert laplace.pdf(0.0) == 0.5
        ```
    """
    return jnp.exp(logpdf(x, loc, scale))


def cdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The Laplace cumulative distribution function.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import laplace

        assert np.isclose(laplace.cdf(-1.0) + laplace.cdf(1.0), 1.0)
        ```
    """
    x, loc, scale = promote(x, loc, scale)
    z = standardize(x, loc, scale)
    half_tail = 0.5 * jnp.exp(-jnp.abs(z))
    return jnp.where(z < 0, half_tail, 1 - half_tail)
