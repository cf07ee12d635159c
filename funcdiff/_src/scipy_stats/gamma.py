"""The gamma distribution, as `jax.scipy.stats.gamma`."""

from __future__ import annotations

import funcdiff.numpy as jnp
from funcdiff._src.numpy._util import Array, ArrayLike
from funcdiff._src.scipy_special import gammainc, gammaincc, gammaln, xlogy
from funcdiff._src.scipy_stats._util import promote, standardize


def logpdf(x: ArrayLike, a: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the gamma density with shape `a`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import gamma

        assert np.isclose(gamma.logpdf(2.0, 1.0), -2.0)  # a = 1: the exponential distribution
        ```
    """
    x, a, loc, scale = promote(x, a, loc, scale)
    y = standardize(x, loc, scale)
    outside = y < 0
    y = jnp.where(outside, 1, y)  # no log of a negative number in the discarded branch
    value = xlogy(a - 1, y) - y - gammaln(a) - jnp.log(scale)
    return jnp.where(outside, -jnp.inf, value)


def pdf(x: ArrayLike, a: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The gamma density.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import gamma

        assert np.isclose(gamma.pdf(2.0, 1.0), np.exp(-2.0))
        ```
    """
    return jnp.exp(logpdf(x, a, loc, scale))


def _clipped(x: ArrayLike, loc: ArrayLike, scale: ArrayLike, *rest: ArrayLike):
    x, loc, scale, *rest = promote(x, loc, scale, *rest)
    return jnp.maximum(standardize(x, loc, scale), 0), *rest


def cdf(x: ArrayLike, a: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The gamma cumulative distribution function, ``gammainc(a, (x - loc) / scale)``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import gamma

        assert np.isclose(gamma.cdf(2.0, 1.0), 1 - np.exp(-2.0))
        ```
    """
    y, a = _clipped(x, loc, scale, a)
    return gammainc(a, y)


def logcdf(x: ArrayLike, a: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the gamma cumulative distribution function.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import gamma

        assert np.isclose(gamma.logcdf(2.0, 1.0), np.log1p(-np.exp(-2.0)))
        ```
    """
    return jnp.log(cdf(x, a, loc, scale))


def sf(x: ArrayLike, a: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The gamma survival function, ``gammaincc(a, (x - loc) / scale)``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import gamma

        assert np.isclose(gamma.sf(30.0, 1.0), np.exp(-30.0))
        ```
    """
    y, a = _clipped(x, loc, scale, a)
    return gammaincc(a, y)


def logsf(x: ArrayLike, a: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the gamma survival function.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import gamma

        assert np.isclose(gamma.logsf(30.0, 1.0), -30.0)
        ```
    """
    return jnp.log(sf(x, a, loc, scale))
