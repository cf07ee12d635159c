"""The Pareto distribution, as `jax.scipy.stats.pareto`."""

from __future__ import annotations

import funcdiff.numpy as jnp
from funcdiff._src.numpy._util import Array, ArrayLike
from funcdiff._src.scipy_stats._util import promote, standardize


def _log_y(x: ArrayLike, b: ArrayLike, loc: ArrayLike, scale: ArrayLike):
    """``log((x - loc) / scale)`` (0 below the support), whether below, `b` and `scale`."""
    x, b, loc, scale = promote(x, b, loc, scale)
    y = standardize(x, loc, scale)
    below = y < 1
    return jnp.log(jnp.where(below, 1, y)), below, b, scale


def logpdf(x: ArrayLike, b: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the Pareto density ``b / (scale y^(b + 1))`` for ``y = (x - loc) / scale >= 1``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import pareto

        assert np.isclose(pareto.logpdf(2.0, 3.0), np.log(3.0 / 16))
        ```
    """
    log_y, below, b, scale = _log_y(x, b, loc, scale)
    return jnp.where(below, -jnp.inf, jnp.log(b) - jnp.log(scale) - (b + 1) * log_y)


def pdf(x: ArrayLike, b: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The Pareto density.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import pareto

        assert np.isclose(pareto.pdf(2.0, 3.0), 3.0 / 16)
        ```
    """
    return jnp.exp(logpdf(x, b, loc, scale))


def logsf(x: ArrayLike, b: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the Pareto survival function, ``-b log(y)`` (0 below the support).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import pareto

        assert np.isclose(pareto.logsf(2.0, 3.0), -3 * np.log(2.0))
        ```
    """
    log_y, _, b, _ = _log_y(x, b, loc, scale)
    return -b * log_y


def sf(x: ArrayLike, b: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The Pareto survival function ``y^-b``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import pareto

        assert np.isclose(pareto.sf(2.0, 3.0), 0.125)
        ```
    """
    return jnp.exp(logsf(x, b, loc, scale))


def cdf(x: ArrayLike, b: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The Pareto cumulative distribution function ``1 - y^-b``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import pareto

        assert np.isclose(pareto.cdf(2.0, 3.0), 0.875)
        ```
    """
    return -jnp.expm1(logsf(x, b, loc, scale))


def logcdf(x: ArrayLike, b: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the Pareto cumulative distribution function (``-inf`` below the support).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import pareto

        assert np.isclose(pareto.logcdf(2.0, 3.0), np.log(0.875))
        ```
    """
    log_y, below, b, _ = _log_y(x, b, loc, scale)
    inside = ~below & (log_y > 0)
    safe = jnp.where(inside, log_y, 1)
    return jnp.where(inside, jnp.log(-jnp.expm1(-b * safe)), -jnp.inf)


def ppf(q: ArrayLike, b: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The Pareto quantile function ``loc + scale (1 - q)^(-1/b)``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import pareto

        assert np.isclose(pareto.ppf(0.875, 3.0), 2.0)
        ```
    """
    q, b, loc, scale = promote(q, b, loc, scale)
    return loc + scale * jnp.exp(-jnp.log1p(-q) / b)
