"""The right- and left-skewed Gumbel distributions, as `jax.scipy.stats.gumbel_r` and
`gumbel_l`. With ``z = (x - loc) / scale``, gumbel_r's cdf is ``exp(-exp(-z))``; gumbel_l is
its mirror image, ``gumbel_l(x; loc) = gumbel_r(-x; -loc)``. Each function of gumbel_l is
the matching one of gumbel_r at the mirrored point (its cdf is gumbel_r's sf there)."""

from __future__ import annotations

import funcdiff.numpy as jnp
from funcdiff._src.numpy._util import Array, ArrayLike
from funcdiff._src.scipy_stats._util import promote, standardize

# ---- gumbel_r -------------------------------------------------------------------------------


def r_logpdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the density ``exp(-(z + exp(-z))) / scale``, ``z = (x - loc) / scale``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import gumbel_r

        assert np.isclose(gumbel_r.logpdf(0.0), -1.0)
        ```
    """
    x, loc, scale = promote(x, loc, scale)
    z = standardize(x, loc, scale)
    return -(z + jnp.exp(-z)) - jnp.log(scale)


def r_pdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The density.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import gumbel_r

        assert np.isclose(gumbel_r.pdf(0.0), np.exp(-1.0))
        ```
    """
    return jnp.exp(r_logpdf(x, loc, scale))


def r_logcdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the cumulative distribution function, ``-exp(-z)``.

    !!! Example
        ```python
        from funcdiff.scipy.stats import gumbel_r

        assert gumbel_r.logcdf(0.0) == -1.0
        ```
    """
    x, loc, scale = promote(x, loc, scale)
    return -jnp.exp(-standardize(x, loc, scale))


def r_cdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The cumulative distribution function, ``exp(-exp(-z))``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import gumbel_r

        assert np.isclose(gumbel_r.cdf(0.0), np.exp(-1.0))
        ```
    """
    return jnp.exp(r_logcdf(x, loc, scale))


def r_sf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The survival function ``1 - cdf``, as ``-expm1(-exp(-z))`` (accurate in the upper
    tail).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import gumbel_r

        assert np.isclose(gumbel_r.sf(40.0), np.exp(-40.0))
        ```
    """
    return -jnp.expm1(r_logcdf(x, loc, scale))


def r_logsf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the survival function.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import gumbel_r

        assert np.isclose(gumbel_r.logsf(40.0), -40.0)
        ```
    """
    return jnp.log(r_sf(x, loc, scale))


def r_ppf(q: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The quantile function (inverse of `cdf`), ``loc - scale * log(-log(q))``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import gumbel_r

        assert np.isclose(gumbel_r.ppf(np.exp(-1.0)), 0.0)
        ```
    """
    q, loc, scale = promote(q, loc, scale)
    return loc - scale * jnp.log(-jnp.log(q))


# ---- gumbel_l: gumbel_r mirrored ------------------------------------------------------------


def l_logpdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the density ``exp(z - exp(z)) / scale``, ``z = (x - loc) / scale``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import gumbel_l

        assert np.isclose(gumbel_l.logpdf(0.0), -1.0)
        ```
    """
    x, loc, scale = promote(x, loc, scale)
    return r_logpdf(-x, -loc, scale)


def l_pdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The density.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import gumbel_l

        assert np.isclose(gumbel_l.pdf(0.0), np.exp(-1.0))
        ```
    """
    return jnp.exp(l_logpdf(x, loc, scale))


def l_cdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The cumulative distribution function, ``1 - exp(-exp(z))``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import gumbel_l

        assert np.isclose(gumbel_l.cdf(0.0), 1 - np.exp(-1.0))
        ```
    """
    x, loc, scale = promote(x, loc, scale)
    return r_sf(-x, -loc, scale)


def l_logcdf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the cumulative distribution function.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import gumbel_l

        assert np.isclose(gumbel_l.logcdf(-40.0), -40.0)
        ```
    """
    x, loc, scale = promote(x, loc, scale)
    return r_logsf(-x, -loc, scale)


def l_sf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The survival function, ``exp(-exp(z))``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import gumbel_l

        assert np.isclose(gumbel_l.sf(0.0), np.exp(-1.0))
        ```
    """
    x, loc, scale = promote(x, loc, scale)
    return r_cdf(-x, -loc, scale)


def l_logsf(x: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """Log of the survival function, ``-exp(z)``.

    !!! Example
        ```python
        from funcdiff.scipy.stats import gumbel_l

        assert gumbel_l.logsf(0.0) == -1.0
        ```
    """
    x, loc, scale = promote(x, loc, scale)
    return r_logcdf(-x, -loc, scale)


def l_ppf(q: ArrayLike, loc: ArrayLike = 0, scale: ArrayLike = 1) -> Array:
    """The quantile function (inverse of `cdf`), ``loc + scale * log(-log1p(-q))``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import gumbel_l

        assert np.isclose(gumbel_l.ppf(1 - np.exp(-1.0)), 0.0)
        ```
    """
    q, loc, scale = promote(q, loc, scale)
    return loc + scale * jnp.log(-jnp.log1p(-q))
