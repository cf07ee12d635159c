"""The exponential distribution, as `jax.scipy.stats.expon`."""

from __future__ import annotations

import funcdiff.numpy as jnp
from funcdiff._src.numpy._util import Array, ArrayLike
from funcdiff._src.scipy_stats._util import promote, standardize


def _y(x: ArrayLike, loc: ArrayLike, scale: ArrayLike) -> tuple[Array, Array, Array]:
    """The standardized value clipped at 0, whether it was negative, and the scale."""
    x, loc, scale = promote(x, loc, scale)
    y = standardize(x, loc, scale)
    return jnp.maximum(y, 0), y < 0, scale


def logpdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the exponential density ``exp(-(x - loc) / scale) / scale`` for ``x >= loc``.

    !!! Example
        ```python
        from funcdiff.scipy.stats import expon

        assert expon.logpdf(2.0) == -2.0
        ```
    """
    y, below, scale = _y(x, loc, scale)
    return jnp.where(below, -jnp.inf, -y - jnp.log(scale))


def pdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The exponential density.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import expon

        assert np.isclose(expon.pdf(1.0, scale=2.0), 0.5 * np.exp(-0.5))
        ```
    """
    return jnp.exp(logpdf(x, loc, scale))


def cdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The exponential cumulative distribution function ``1 - exp(-y)``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import expon

        assert np.isclose(expon.cdf(1e-20), 1e-20)
        ```
    """
    y, _, _ = _y(x, loc, scale)
    return -jnp.expm1(-y)


def logcdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the exponential cumulative distribution function.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import expon

        assert np.isclose(expon.logcdf(1.0), np.log1p(-np.exp(-1.0)))
        ```
    """
    y, below, _ = _y(x, loc, scale)
    safe = jnp.where(below | (y == 0), 1, y)
    return jnp.where(below | (y == 0), -jnp.inf, jnp.log(-jnp.expm1(-safe)))


def sf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The exponential survival function ``exp(-y)``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import expon

        assert np.isclose(expon.sf(3.0), np.exp(-3.0))
        ```
    """
    return jnp.exp(logsf(x, loc, scale))


def logsf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the exponential survival function, ``-y``.

    !!! Example
        ```python
        from funcdiff.scipy.stats import expon

        assert expon.logsf(3.0) == -3.0
        ```
    """
    y, _, _ = _y(x, loc, scale)
    return -y


def ppf(q: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The exponential quantile function ``loc - scale * log(1 - q)``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import expon

        assert np.isclose(expon.cdf(expon.ppf(0.3)), 0.3)
        ```
    """
    q, loc, scale = promote(q, loc, scale)
    inside = (q >= 0) & (q <= 1)
    return jnp.where(inside, loc - scale * jnp.log1p(-jnp.where(inside, q, 0)), jnp.nan)
