"""Student's t distribution, as `jax.scipy.stats.t`."""

from __future__ import annotations

import math

import funcdiff.numpy as jnp
from funcdiff._src.numpy._util import Array, ArrayLike
from funcdiff._src.scipy_special import gammaln
from funcdiff._src.scipy_stats._util import promote, standardize


def logpdf(x: ArrayLike, df: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the density of Student's t distribution with `df` degrees of freedom.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import t

        assert np.isclose(t.logpdf(0.0, 1.0), -np.log(np.pi))  # the Cauchy distribution
        ```
    """
    x, df, loc, scale = promote(x, df, loc, scale)
    z = standardize(x, loc, scale)
    half = 0.5 * (df + 1)
    norm = gammaln(half) - gammaln(0.5 * df) - 0.5 * jnp.log(df * math.pi) - jnp.log(scale)
    return norm - half * jnp.log1p(z * z / df)


def pdf(x: ArrayLike, df: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The density of Student's t distribution.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import t

        assert np.isclose(t.pdf(0.0, 1.0), 1 / np.pi)
        ```
    """
    return jnp.exp(logpdf(x, df, loc, scale))
