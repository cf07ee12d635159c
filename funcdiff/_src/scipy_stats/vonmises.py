"""The von Mises distribution on the circle, as `jax.scipy.stats.vonmises`."""

from __future__ import annotations

import math

import funcdiff.numpy as jnp
from funcdiff._src.numpy._util import Array, ArrayLike
from funcdiff._src.scipy_special import i0e
from funcdiff._src.scipy_stats._util import promote


def logpdf(x: ArrayLike, kappa: ArrayLike) -> Array:
    """Log of the von Mises density ``exp(kappa cos x) / (2 pi I0(kappa))`` (NaN for
    ``kappa <= 0``, as in JAX), computed with the scaled Bessel function so that large
    `kappa` does not overflow.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import vonmises

        assert np.isclose(vonmises.logpdf(0.0, 1e4), 0.5 * np.log(1e4 / (2 * np.pi)), rtol=1e-4)
        ```
    """
    x, kappa = promote(x, kappa)
    positive = kappa > 0
    k = jnp.where(positive, kappa, 1)
    value = k * (jnp.cos(x) - 1) - math.log(2 * math.pi) - jnp.log(i0e(k))
    return jnp.where(positive, value, jnp.nan)


def pdf(x: ArrayLike, kappa: ArrayLike) -> Array:
    """The von Mises density.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import vonmises

        assert np.isclose(vonmises.pdf(1.0, 1e-12), 1 / (2 * np.pi))
        ```
    """
    return jnp.exp(logpdf(x, kappa))
