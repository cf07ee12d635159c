"""The normal distribution, as `jax.scipy.stats.norm`."""

from __future__ import annotations

import math

import funcdiff.numpy as jnp
from funcdiff._src.numpy._util import Array, ArrayLike
from funcdiff._src.scipy_special import log_ndtr, ndtr, ndtri
from funcdiff._src.scipy_stats._util import promote, standardize

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def logpdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the normal density with mean `loc` and standard deviation `scale`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import norm

        assert np.isclose(norm.logpdf(0.0), -0.5 * np.log(2 * np.pi))
        ```
    """
    x, loc, scale = promote(x, loc, scale)
    z = standardize(x, loc, scale)
    return -0.5 * z * z - jnp.log(scale) - _LOG_SQRT_2PI


def pdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The normal density.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import norm

        assert np.isclose(norm.pdf(1.0, loc=1.0, scale=2.0), 1 / (2 * np.sqrt(2 * np.pi)))
        ```
    """
    return jnp.exp(logpdf(x, loc, scale))


def cdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The normal cumulative distribution function.

    !!! Example
        ```python
        from funcdiff.scipy.stats import norm

        assert norm.cdf(3.0, loc=3.0) == 0.5
        ```
    """
    x, loc, scale = promote(x, loc, scale)
    return ndtr(standardize(x, loc, scale))


def logcdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the normal cumulative distribution function, accurate in the lower tail.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import norm

        assert np.isfinite(norm.logcdf(-50.0))
        ```
    """
    x, loc, scale = promote(x, loc, scale)
    return log_ndtr(standardize(x, loc, scale))


def sf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The survival function ``1 - cdf``, accurate in the upper tail.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import norm

        assert np.isclose(norm.sf(1.0), 1 - norm.cdf(1.0))
        ```
    """
    x, loc, scale = promote(x, loc, scale)
    return ndtr(-standardize(x, loc, scale))


def logsf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the survival function.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import norm

        assert np.isclose(norm.logsf(-1.0), norm.logcdf(1.0))
        ```
    """
    x, loc, scale = promote(x, loc, scale)
    return log_ndtr(-standardize(x, loc, scale))


def ppf(q: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The quantile function, the inverse of `cdf`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import norm

        assert np.isclose(norm.ppf(norm.cdf(0.7)), 0.7)
        ```
    """
    q, loc, scale = promote(q, loc, scale)
    return ndtri(q) * scale + loc


def isf(q: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The inverse survival function, the inverse of `sf`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import norm

        assert np.isclose(norm.isf(0.025), 1.959963984540054)
        ```
    """
    q, loc, scale = promote(q, loc, scale)
    return loc - ndtri(q) * scale
