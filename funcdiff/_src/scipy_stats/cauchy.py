"""The Cauchy distribution, as `jax.scipy.stats.cauchy`."""

from __future__ import annotations

import math

import funcdiff.numpy as jnp
from funcdiff._src.numpy._util import Array, ArrayLike
from funcdiff._src.scipy_stats._util import promote, standardize


def _z(x: ArrayLike, loc: ArrayLike, scale: ArrayLike) -> tuple[Array, Array]:
    x, loc, scale = promote(x, loc, scale)
    return standardize(x, loc, scale), scale


def logpdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the Cauchy density ``1 / (pi scale (1 + z^2))``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import cauchy

        assert np.isclose(cauchy.logpdf(0.0), -np.log(np.pi))
        ```
    """
    z, scale = _z(x, loc, scale)
    return -math.log(math.pi) - jnp.log(scale) - jnp.log1p(z * z)


def pdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The Cauchy density.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import cauchy

        assert np.isclose(cauchy.pdf(1.0), 1 / (2 * np.pi))
        ```
    """
    return jnp.exp(logpdf(x, loc, scale))


def cdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The Cauchy cumulative distribution function ``1/2 + arctan(z) / pi``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import cauchy

        assert np.isclose(cauchy.cdf(1.0), 0.75)
        ```
    """
    z, _ = _z(x, loc, scale)
    return 0.5 + jnp.arctan(z) / math.pi


def logcdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the Cauchy cumulative distribution function.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import cauchy

        assert np.isclose(cauchy.logcdf(1.0), np.log(0.75))
        ```
    """
    return jnp.log(cdf(x, loc, scale))


def sf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The Cauchy survival function ``1/2 - arctan(z) / pi``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import cauchy

        assert np.isclose(cauchy.sf(1.0), 0.25)
        ```
    """
    z, _ = _z(x, loc, scale)
    return 0.5 - jnp.arctan(z) / math.pi


def logsf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the Cauchy survival function.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import cauchy

        assert np.isclose(cauchy.logsf(1.0), np.log(0.25))
        ```
    """
    return jnp.log(sf(x, loc, scale))


def ppf(q: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The Cauchy quantile function ``loc + scale * tan(pi (q - 1/2))``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import cauchy

        assert np.isclose(cauchy.ppf(0.75), 1.0)
        ```
    """
    q, loc, scale = promote(q, loc, scale)
    return loc + scale * jnp.tan(math.pi * (q - 0.5))


def isf(q: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The Cauchy inverse survival function ``loc + scale * tan(pi (1/2 - q))``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import cauchy

        assert np.isclose(cauchy.isf(0.25), 1.0)
        ```
    """
    q, loc, scale = promote(q, loc, scale)
    return loc + scale * jnp.tan(math.pi * (0.5 - q))
