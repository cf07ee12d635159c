"""The logistic distribution, as `jax.scipy.stats.logistic`."""

from __future__ import annotations

import funcdiff.numpy as jnp
from funcdiff._src.numpy._util import Array, ArrayLike
from funcdiff._src.scipy_special import expit, logit
from funcdiff._src.scipy_stats._util import promote, standardize


def logpdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the logistic density ``e^-z / (scale (1 + e^-z)^2)``, ``z = (x - loc) / scale``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import logistic

        assert np.isclose(logistic.logpdf(0.0), np.log(0.25))
        ```
    """
    x, loc, scale = promote(x, loc, scale)
    z = jnp.abs(standardize(x, loc, scale))  # the density is even in z
    return -z - 2 * jnp.log1p(jnp.exp(-z)) - jnp.log(scale)


def pdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The logistic density.

    !!! Example
        ```python
        from funcdiff.scipy.stats import logistic

        assert logistic.pdf(0.0) == 0.25
        ```
    """
    return jnp.exp(logpdf(x, loc, scale))


def cdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The logistic cumulative distribution function, ``expit(z)``.

    !!! Example
        ```python
        from funcdiff.scipy.stats import logistic

        assert logistic.cdf(0.0) == 0.5
        ```
    """
    x, loc, scale = promote(x, loc, scale)
    return expit(standardize(x, loc, scale))


def sf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The logistic survival function, ``expit(-z)``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import logistic

        assert np.isclose(logistic.sf(40.0), np.exp(-40.0))
        ```
    """
    x, loc, scale = promote(x, loc, scale)
    return expit(-standardize(x, loc, scale))


def ppf(q: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The logistic quantile function ``loc + scale * logit(q)``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import logistic

        assert np.isclose(logistic.cdf(logistic.ppf(0.8)), 0.8)
        ```
    """
    q, loc, scale = promote(q, loc, scale)
    return loc + scale * logit(q)


def isf(q: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The logistic inverse survival function ``loc - scale * logit(q)``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import logistic

        assert np.isclose(logistic.sf(logistic.isf(0.8)), 0.8)
        ```
    """
    q, loc, scale = promote(q, loc, scale)
    return loc - scale * logit(q)
