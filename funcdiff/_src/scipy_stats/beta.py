"""The beta distribution, as `jax.scipy.stats.beta`."""

from __future__ import annotations

import funcdiff.numpy as jnp
from funcdiff._src.numpy._util import Array, ArrayLike
from funcdiff._src.scipy_special import betainc, betaln, xlog1py, xlogy
from funcdiff._src.scipy_stats._util import promote, standardize


def logpdf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0,
           scale: ArrayLike = 1) -> Array:
    """Log of the beta density with shapes `a` and `b`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import beta

        assert np.isclose(beta.logpdf(0.5, 2.0, 2.0), np.log(1.5))
        ```
    """
    x, a, b, loc, scale = promote(x, a, b, loc, scale)
    y = standardize(x, loc, scale)
    outside = (y < 0) | (y > 1)
    y = jnp.where(outside, 0.5, y)  # no log of a negative number in the discarded branch
    value = xlogy(a - 1, y) + xlog1py(b - 1, -y) - betaln(a, b) - jnp.log(scale)
    return jnp.where(outside, -jnp.inf, value)


def pdf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0,
        scale: ArrayLike = 1) -> Array:
    """The beta density.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import beta

        assert np.isclose(beta.pdf(0.5, 2.0, 2.0), 1.5)
        ```
    """
    return jnp.exp(logpdf(x, a, b, loc, scale))


def _unit(x, a, b, loc, scale):
    x, a, b, loc, scale = promote(x, a, b, loc, scale)
    return jnp.clip(standardize(x, loc, scale), 0, 1), a, b


def cdf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0,
        scale: ArrayLike = 1) -> Array:
    """The beta cumulative distribution function, ``betainc(a, b, (x - loc) / scale)``
    (differentiable in `x`, `loc` and `scale`; not in `a` and `b`, as in JAX).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import beta

        assert np.isclose(beta.cdf(0.5, 1.0, 2.0), 0.75)
        ```
    """
    y, a, b = _unit(x, a, b, loc, scale)
    return betainc(a, b, y)


def logcdf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0,
           scale: ArrayLike = 1) -> Array:
    """Log of the beta cumulative distribution function.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import beta

        assert np.isclose(beta.logcdf(0.5, 1.0, 2.0), np.log(0.75))
        ```
    """
    return jnp.log(cdf(x, a, b, loc, scale))


def sf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0,
       scale: ArrayLike = 1) -> Array:
    """The beta survival function ``1 - cdf``, as ``betainc(b, a, 1 - y)``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import beta

        assert np.isclose(beta.sf(0.5, 1.0, 2.0), 0.25)
        ```
    """
    y, a, b = _unit(x, a, b, loc, scale)
    return betainc(b, a, 1 - y)


def logsf(x: ArrayLike, a: ArrayLike, b: ArrayLike, loc: ArrayLike = 0,
          scale: ArrayLike = 1) -> Array:
    """Log of the beta survival function.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import beta

        assert np.isclose(beta.logsf(0.5, 1.0, 2.0), np.log(0.25))
        ```
    """
    return jnp.log(sf(x, a, b, loc, scale))
