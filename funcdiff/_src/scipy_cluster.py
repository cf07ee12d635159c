"""`funcdiff.scipy.cluster.vq.vq`: the nearest code of each observation."""

from __future__ import annotations

import funcdiff.numpy as jnp
from funcdiff._src.numpy._util import Array, ArrayLike

__all__ = ["vq"]


def vq(obs: ArrayLike, code_book: ArrayLike, check_finite: bool = True) -> tuple[Array, Array]:
    """Assign each observation to its nearest code (Euclidean distance), as
    `jax.scipy.cluster.vq.vq`.

    - `obs`: ``(M, N)`` observations, or ``(M,)`` for one feature.
    - `code_book`: ``(K, N)`` codes, or ``(K,)`` for one feature.
    - `check_finite`: accepted and unused, as in JAX.

    **Returns:** ``(code, dist)``: the index of each observation's nearest code (the first
    one on a tie) and its distance to it. `dist` is differentiable in both arguments (except
    where an observation sits on its code); all of it works under `jit` and `vmap`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.cluster.vq import vq

        obs = np.array([[1.1, 2.1], [5.9, 4.8], [0.0, 0.2]])
        code_book = np.array([[1.0, 2.0], [6.0, 5.0], [0.0, 0.0]])
        code, dist = vq(obs, code_book)
        print(code, np.round(dist, 4))
        ```
        ```text
        [0 1 2] [0.1414 0.2236 0.2   ]
        ```
    """
    obs, code_book = jnp.asarray(obs), jnp.asarray(code_book)
    if obs.ndim not in (1, 2) or code_book.ndim != obs.ndim:
        raise ValueError(
            f"vq: obs and code_book must both be 1-D or both 2-D, got shapes {obs.shape} and "
            f"{code_book.shape}"
        )
    if obs.ndim == 1:
        obs, code_book = obs[:, None], code_book[:, None]
    if obs.shape[1] != code_book.shape[1]:
        raise ValueError(
            f"vq: obs has {obs.shape[1]} features but code_book has {code_book.shape[1]} "
            f"(shapes {obs.shape} and {code_book.shape})"
        )
    sq = jnp.sum((obs[:, None, :] - code_book[None, :, :]) ** 2, axis=-1)
    code = jnp.argmin(sq, axis=1)
    return code, jnp.sqrt(jnp.take_along_axis(sq, code[:, None], axis=1)[:, 0])
