"""The chi-squared distribution, as `jax.scipy.stats.chi2`: a gamma distribution with shape
``df / 2`` and scale ``2 * scale``."""

from __future__ import annotations

from funcdiff._src.numpy._util import Array, ArrayLike
from funcdiff._src.scipy_stats import gamma
from funcdiff._src.scipy_stats._util import promote


def _as_gamma(x: ArrayLike, df: ArrayLike, loc: ArrayLike, scale: ArrayLike):
    x, df, loc, scale = promote(x, df, loc, scale)
    return x, df / 2, loc, 2 * scale


def logpdf(x: ArrayLike, df: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the chi-squared density with `df` degrees of freedom.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import chi2

        assert np.isclose(chi2.logpdf(2.0, 2.0), np.log(0.5) - 1.0)
        ```
    """
    return gamma.logpdf(*_as_gamma(x, df, loc, scale))


def pdf(x: ArrayLike, df: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The chi-squared density.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import chi2

        assert np.isclose(chi2.pdf(2.0, 2.0), 0.5 * np.exp(-1.0))
        ```
    """
    return gamma.pdf(*_as_gamma(x, df, loc, scale))


def cdf(x: ArrayLike, df: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The chi-squared cumulative distribution function.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import chi2

        assert np.isclose(chi2.cdf(2.0, 2.0), 1 - np.exp(-1.0))
        ```
    """
    return gamma.cdf(*_as_gamma(x, df, loc, scale))


def logcdf(x: ArrayLike, df: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the chi-squared cumulative distribution function.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import chi2

        assert np.isclose(chi2.logcdf(2.0, 2.0), np.log1p(-np.exp(-1.0)))
        ```
    """
    return gamma.logcdf(*_as_gamma(x, df, loc, scale))


def sf(x: ArrayLike, df: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The chi-squared survival function.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import chi2

        assert np.isclose(chi2.sf(2.0, 2.0), np.exp(-1.0))
        ```
    """
    return gamma.sf(*_as_gamma(x, df, loc, scale))


def logsf(x: ArrayLike, df: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the chi-squared survival function.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import chi2

        assert np.isclose(chi2.logsf(2.0, 2.0), -1.0)
        ```
    """
    return gamma.logsf(*_as_gamma(x, df, loc, scale))
