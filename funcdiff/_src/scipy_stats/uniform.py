"""The uniform distribution on ``[loc, loc + scale]``, as `jax.scipy.stats.uniform`."""

from __future__ import annotations

import funcdiff.numpy as jnp
from funcdiff._src.numpy._util import Array, ArrayLike
from funcdiff._src.scipy_stats._util import promote


def logpdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the uniform density: ``-log(scale)`` inside the support, ``-inf`` outside.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import uniform

        assert np.isclose(uniform.logpdf(1.0, 0.0, 4.0), -np.log(4.0))
        ```
    """
    x, loc, scale = promote(x, loc, scale)
    inside = (x >= loc) & (x <= loc + scale)
    return jnp.where(inside, -jnp.log(scale), -jnp.inf)


def pdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The uniform density.

    !!! Example
        ```python
        from funcdiff.scipy.stats import uniform

        assert uniform.pdf(1.0, 0.0, 4.0) == 0.25 and uniform.pdf(5.0, 0.0, 4.0) == 0.0
        ```
    """
    return jnp.exp(logpdf(x, loc, scale))


def cdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The uniform cumulative distribution function.

    !!! Example
        ```python
        from funcdiff.scipy.stats import uniform

        assert uniform.cdf(1.0, 0.0, 4.0) == 0.25
        ```
    """
    x, loc, scale = promote(x, loc, scale)
    return jnp.clip((x - loc) / scale, 0, 1)


def ppf(q: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The uniform quantile function ``loc + q * scale`` (NaN outside ``[0, 1]``).

    !!! Example
        ```python
        from funcdiff.scipy.stats import uniform

        assert uniform.ppf(0.25, 0.0, 4.0) == 1.0
        ```
    """
    q, loc, scale = promote(q, loc, scale)
    return jnp.where((q >= 0) & (q <= 1), loc + q * scale, jnp.nan)
