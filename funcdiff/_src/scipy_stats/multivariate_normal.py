"""The multivariate normal distribution, as `jax.scipy.stats.multivariate_normal`."""

from __future__ import annotations

import math

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src.lax import decompositions as dec
from funcdiff._src.numpy._util import Array, ArrayLike, aval
from funcdiff._src.scipy_stats._util import promote

_LOG_2PI = math.log(2 * math.pi)


def logpdf(x: ArrayLike, mean: ArrayLike, cov: ArrayLike, allow_singular: None = None) -> Array:
    """Log of the multivariate normal density at `x` (shape ``(..., n)``) with `mean`
    (``(..., n)``) and covariance `cov` (``(..., n, n)``, or a scalar for ``cov * I``; with a
    scalar `mean`, the univariate density). Leading dimensions broadcast. Computed through the
    Cholesky factor of `cov`, as in JAX (`allow_singular` is not supported, as in JAX).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import multivariate_normal

        value = multivariate_normal.logpdf(np.zeros(2), np.zeros(2), np.eye(2))
        assert np.isclose(value, -np.log(2 * np.pi))
        ```
    """
    if allow_singular is not None:
        raise NotImplementedError("multivariate_normal.logpdf: allow_singular is not supported "
                                  "(as in JAX); pass a positive-definite cov")
    x, mean, cov = promote(x, mean, cov)
    if not aval(mean).shape:
        return -0.5 * jnp.square(x - mean) / cov - 0.5 * (_LOG_2PI + jnp.log(cov))
    n = aval(mean).shape[-1]
    y = x - mean
    if not aval(cov).shape:
        return (-0.5 * jnp.sum(y * y, axis=-1) / cov
                - 0.5 * n * (_LOG_2PI + jnp.log(cov)))
    cov_shape = aval(cov).shape
    if len(cov_shape) < 2 or cov_shape[-2:] != (n, n):
        raise ValueError(f"multivariate_normal.logpdf: cov must have shape (..., {n}, {n}) to "
                         f"match mean of shape {aval(mean).shape}; got {cov_shape}")
    factor = dec.cholesky(cov)
    batch = np.broadcast_shapes(aval(y).shape[:-1], cov_shape[:-2])
    factor = jnp.broadcast_to(factor, batch + (n, n))
    y = jnp.broadcast_to(y, batch + (n,))[..., None]
    z = dec.triangular_solve(factor, y, left_side=True, lower=True)[..., 0]
    log_det = jnp.sum(jnp.log(jnp.diagonal(factor, axis1=-2, axis2=-1)), axis=-1)
    return -0.5 * jnp.sum(z * z, axis=-1) - 0.5 * n * _LOG_2PI - log_det


def pdf(x: ArrayLike, mean: ArrayLike, cov: ArrayLike) -> Array:
    """The multivariate normal density.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import multivariate_normal

        value = multivariate_normal.pdf(np.zeros(2), np.zeros(2), 4 * np.eye(2))
        assert np.isclose(value, 1 / (8 * np.pi))
        ```
    """
    return jnp.exp(logpdf(x, mean, cov))
