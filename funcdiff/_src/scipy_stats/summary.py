"""Summary statistics of `jax.scipy.stats` (functions of a sample, not of a distribution)."""

from __future__ import annotations

import funcdiff.numpy as jnp
from funcdiff._src.numpy._util import Array, ArrayLike


def sem(
    a: ArrayLike,
    axis: int | None = 0,
    ddof: int = 1,
    nan_policy: str = "propagate",
    *,
    keepdims: bool = False,
) -> Array:
    """The standard error of the mean, ``std(a, ddof=ddof) / sqrt(n)`` along `axis` (all of
    `a` when None), as `jax.scipy.stats.sem`. `nan_policy` is ``"propagate"`` (a NaN gives
    NaN) or ``"omit"`` (NaNs are left out, and ``n`` counts the others); JAX and funcdiff do
    not support ``"raise"``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy import stats

        print(stats.sem(np.array([4.0, 5.0, 7.0])))
        print(stats.sem(np.array([[1.0, np.nan], [3.0, 5.0]]), axis=1, nan_policy="omit"))
        ```
        ```text
        0.8819171036881969
        [nan  1.]
        ```
    """
    if nan_policy not in ("propagate", "omit"):
        raise ValueError(
            f"stats.sem: nan_policy must be 'propagate' or 'omit', got {nan_policy!r} (JAX "
            "does not support 'raise' either)"
        )
    a = jnp.asarray(a)
    if nan_policy == "omit":
        n = jnp.sum(~jnp.isnan(a), axis=axis, keepdims=keepdims)
        std = jnp.nanstd(a, axis=axis, ddof=ddof, keepdims=keepdims)
    else:
        n = a.size if axis is None else a.shape[axis]
        std = jnp.std(a, axis=axis, ddof=ddof, keepdims=keepdims)
    return std / jnp.sqrt(n)
