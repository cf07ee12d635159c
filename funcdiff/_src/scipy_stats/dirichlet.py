"""The Dirichlet distribution, as `jax.scipy.stats.dirichlet`."""

from __future__ import annotations

import funcdiff.numpy as jnp
from funcdiff._src.numpy._util import Array, ArrayLike, aval
from funcdiff._src.scipy_special import gammaln, xlogy
from funcdiff._src.scipy_stats._util import promote


def logpdf(x: ArrayLike, alpha: ArrayLike) -> Array:
    """Log of the Dirichlet density with concentrations `alpha` (shape ``(K,)``) at `x`,
    whose first axis has the `K` coordinates (or ``K - 1``: the last is then ``1 - sum``);
    ``-inf`` off the simplex.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import dirichlet

        assert np.isclose(dirichlet.logpdf(np.array([0.2, 0.8]), np.ones(2)), 0.0)
        ```
    """
    x, alpha = promote(x, alpha)
    a_shape, x_shape = aval(alpha).shape, aval(x).shape
    if len(a_shape) != 1:
        raise ValueError(f"dirichlet.logpdf: `alpha` must be 1-d, got shape {a_shape}")
    k = a_shape[0]
    if not x_shape or x_shape[0] not in (k, k - 1):
        raise ValueError(f"dirichlet.logpdf: the first axis of `x` must have {k} (or {k - 1}) "
                         f"entries, like `alpha` of shape {a_shape}; got shape {x_shape}")
    if x_shape[0] == k - 1:
        x = jnp.concatenate([x, 1 - jnp.sum(x, axis=0, keepdims=True)], axis=0)
    alpha = jnp.reshape(alpha, (k,) + (1,) * (len(x_shape) - 1))
    simplex = jnp.all(x > 0, axis=0) & (jnp.abs(jnp.sum(x, axis=0) - 1) < 1e-6)
    log_norm = jnp.sum(gammaln(alpha)) - gammaln(jnp.sum(alpha))
    value = jnp.sum(xlogy(alpha - 1, jnp.where(x > 0, x, 1)), axis=0) - log_norm
    return jnp.where(simplex, value, -jnp.inf)


def pdf(x: ArrayLike, alpha: ArrayLike) -> Array:
    """The Dirichlet density.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import dirichlet

        assert np.isclose(dirichlet.pdf(np.array([0.2, 0.3, 0.5]), np.ones(3)), 2.0)
        ```
    """
    return jnp.exp(logpdf(x, alpha))
