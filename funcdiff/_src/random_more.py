"""More samplers of `jax.random`, composed from the basic ones: `multivariate_normal`,
`orthogonal`, `geometric`, `triangular`, `wald`, `double_sided_maxwell`,
`generalized_normal` and `ball`."""

from __future__ import annotations

from typing import Any

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src import prng
from funcdiff._src.random import (
    Shape,
    _as,
    _float_dtype,
    exponential,
    maxwell,
    normal,
    rademacher,
    uniform,
)
from funcdiff._src.random_gamma import _shape, gamma

Array = Any


def _dtype(dtype: Any, where: str) -> np.dtype:
    return _float_dtype(np.float64 if dtype is None else dtype, where)


def multivariate_normal(
    key: Array,
    mean: Any,
    cov: Any,
    shape: Shape | None = None,
    dtype: Any = None,
    method: str = "cholesky",
) -> Array:
    """Samples of the normal distribution with mean `mean` and covariance `cov`:
    ``mean + A z`` with `z` standard normal and ``A A^T = cov``.

    **Arguments:**

    - `key`: a PRNG key.
    - `mean`: the means, shape `(..., n)`; `cov`: the covariances, shape `(..., n, n)`.
    - `shape`: the batch shape, to which `mean.shape[:-1]` and `cov.shape[:-2]` must
      broadcast (default: their broadcast shape); the result has shape `shape + (n,)`.
    - `dtype`: float16, float32 or float64 (default float64).
    - `method`: how `A` is found: `"cholesky"` (default, `cov` positive definite),
      `"eigh"` or `"svd"` (also for a semi-definite `cov`).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import random

        cov = np.array([[2.0, 0.6], [0.6, 1.0]])
        x = random.multivariate_normal(random.key(0), np.zeros(2), cov, (20_000,))
        print(x.shape, np.round(np.cov(x.T), 1))
        ```
    """
    dtype = _dtype(dtype, "multivariate_normal")
    mean, cov = _as(mean, dtype), _as(cov, dtype)
    if jnp.ndim(mean) < 1 or jnp.ndim(cov) < 2:
        raise ValueError(
            f"random.multivariate_normal: mean needs at least 1 axis and cov 2, "
            f"got shapes {jnp.shape(mean)} and {jnp.shape(cov)}"
        )
    n = jnp.shape(mean)[-1]
    if jnp.shape(cov)[-2:] != (n, n):
        raise ValueError(
            f"random.multivariate_normal: cov must have shape (..., {n}, {n}) "
            f"for a mean of {n} components, got {jnp.shape(cov)}"
        )
    batch = np.broadcast_shapes(jnp.shape(mean)[:-1], jnp.shape(cov)[:-2])
    shape = _shape("multivariate_normal", batch, shape)
    if method == "cholesky":
        factor = jnp.linalg.cholesky(cov)
    elif method == "eigh":
        w, v = jnp.linalg.eigh(cov)
        factor = v * jnp.sqrt(w)[..., None, :]
    elif method == "svd":
        u, s, _ = jnp.linalg.svd(cov)
        factor = u * jnp.sqrt(s)[..., None, :]
    else:
        raise ValueError(
            f"random.multivariate_normal: method must be 'cholesky', 'eigh' or "
            f"'svd', got {method!r}"
        )
    z = normal(prng.check_key(key, "multivariate_normal"), (*shape, n), dtype)
    return mean + jnp.matmul(factor, z[..., None])[..., 0]


def orthogonal(
    key: Array, n: int, shape: Shape = (), dtype: Any = None, m: int | None = None
) -> Array:
    """Uniformly distributed (Haar) matrices with orthonormal columns or rows, of shape
    `shape + (n, m)` (`m` defaults to `n`: orthogonal matrices): the Q of the QR
    decomposition of a standard normal matrix, with the signs that make R's diagonal
    positive.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import random

        q = random.orthogonal(random.key(0), 3)
        print(q.shape, np.allclose(q @ q.T, np.eye(3)))
        ```
    """
    dtype = _dtype(dtype, "orthogonal")
    m = n if m is None else m
    shape = prng.shape_tuple(shape, "orthogonal")
    z = normal(prng.check_key(key, "orthogonal"), (*shape, max(n, m), min(n, m)), dtype)
    q, r = jnp.linalg.qr(z)
    signs = jnp.sign(jnp.diagonal(r, axis1=-2, axis2=-1))
    q = q * signs[..., None, :]
    return jnp.swapaxes(q, -1, -2) if n < m else q


def geometric(key: Array, p: Any, shape: Shape | None = None, dtype: Any = None) -> Array:
    """Geometric samples: the number of Bernoulli(`p`) trials up to the first success
    (1, 2, ...), ``1 + floor(log(1 - u) / log(1 - p))`` for `u` uniform.

    **Arguments:** `key`; `p`, the success probability; `shape`, to which `p` must
    broadcast (default: `p`'s shape); `dtype`, an integer dtype (default int64).

    !!! Example
        ```python
        from funcdiff import random

        k = random.geometric(random.key(0), 0.25, (10_000,))
        print(k.dtype, int(k.min()), round(float(k.mean())))  # mean 1 / p
        ```
    """
    dtype = np.dtype(np.int64 if dtype is None else dtype)
    if dtype.kind not in "iu":
        raise TypeError(f"random.geometric: dtype must be an integer dtype, got {dtype}")
    p = jnp.asarray(p, dtype=np.result_type(jnp.result_type(p), np.float32))
    shape = _shape("geometric", jnp.shape(p), shape)
    u = uniform(prng.check_key(key, "geometric"), shape, jnp.result_type(p))
    trials = jnp.floor(jnp.log1p(-u) / jnp.log1p(-p)) + 1
    return jnp.astype(trials, dtype)


def triangular(
    key: Array, left: Any, mode: Any, right: Any, shape: Shape | None = None, dtype: Any = None
) -> Array:
    """Triangular samples on `[left, right]` with peak at `mode`, by inverting the CDF.

    `shape` defaults to the broadcast shape of the three parameters, which must broadcast
    to it.

    !!! Example
        ```python
        from funcdiff import random

        x = random.triangular(random.key(0), 0.0, 1.0, 4.0, (10_000,))
        print(float(x.min()) >= 0.0, float(x.max()) <= 4.0, round(float(x.mean()), 1))
        ```
    """
    dtype = _dtype(dtype, "triangular")
    left, mode, right = (_as(v, dtype) for v in (left, mode, right))
    params = np.broadcast_shapes(jnp.shape(left), jnp.shape(mode), jnp.shape(right))
    shape = _shape("triangular", params, shape)
    u = uniform(prng.check_key(key, "triangular"), shape, dtype)
    width = right - left
    rising = left + jnp.sqrt(u * width * (mode - left))
    falling = right - jnp.sqrt((1 - u) * width * (right - mode))
    return jnp.where(u < (mode - left) / width, rising, falling)


def wald(key: Array, mean: Any, shape: Shape | None = None, dtype: Any = None) -> Array:
    """Wald (inverse Gaussian) samples with mean `mean` and shape parameter 1, by Michael,
    Schucany and Haas's transformation of a normal and a uniform sample.

    `shape` defaults to `mean`'s shape, which must broadcast to it.

    !!! Example
        ```python
        from funcdiff import random

        x = random.wald(random.key(0), 2.0, (20_000,))
        print(round(float(x.mean()), 1), round(float(x.var())))  # mean, mean ** 3
        ```
    """
    dtype = _dtype(dtype, "wald")
    mean = _as(mean, dtype)
    shape = _shape("wald", jnp.shape(mean), shape)
    key_v, key_u = prng.split(prng.check_key(key, "wald"))
    y = normal(key_v, shape, dtype) ** 2
    root = jnp.sqrt(4 * mean * y + (mean * y) ** 2)
    x = mean + mean * (mean * y - root) / 2
    u = uniform(key_u, shape, dtype)
    return jnp.where(u <= mean / (mean + x), x, mean * mean / x)


def double_sided_maxwell(
    key: Array, loc: Any, scale: Any, shape: Shape = (), dtype: Any = None
) -> Array:
    """Double-sided Maxwell samples: a Maxwell sample with a random sign, times `scale`, plus
    `loc`.

    As in JAX, the result's shape is `shape` (or, if `shape` is empty, the parameters'
    broadcast shape) followed by the parameters' broadcast shape.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import random

        x = random.double_sided_maxwell(random.key(0), 1.0, 2.0, (10_000,))
        print(round(float(np.median(x))), round(float(x.var())))  # loc, 3 * scale ** 2
        ```
    """
    dtype = _dtype(dtype, "double_sided_maxwell")
    loc, scale = _as(loc, dtype), _as(scale, dtype)
    params = np.broadcast_shapes(jnp.shape(loc), jnp.shape(scale))
    shape = (prng.shape_tuple(shape, "double_sided_maxwell") or params) + params
    key_m, key_s = prng.split(prng.check_key(key, "double_sided_maxwell"))
    return rademacher(key_s, shape, dtype) * maxwell(key_m, shape, dtype) * scale + loc


def generalized_normal(key: Array, p: float, shape: Shape = (), dtype: Any = None) -> Array:
    """Generalized normal samples, with density proportional to ``exp(-|x| ** p)``: a
    gamma sample of shape `1 / p` to the power `1 / p`, with a random sign (`p = 2` is a
    normal of variance 1/2, `p = 1` a Laplace).

    !!! Example
        ```python
        from funcdiff import random

        x = random.generalized_normal(random.key(0), 2.0, (20_000,))
        print(round(float(x.var()), 1))  # 1 / 2
        ```
    """
    dtype = _dtype(dtype, "generalized_normal")
    shape = prng.shape_tuple(shape, "generalized_normal")
    key_g, key_s = prng.split(prng.check_key(key, "generalized_normal"))
    g = gamma(key_g, 1 / _as(p, dtype), shape, dtype)
    return rademacher(key_s, shape, dtype) * g ** (1 / _as(p, dtype))


def ball(key: Array, d: int, p: float = 2, shape: Shape = (), dtype: Any = None) -> Array:
    """Points uniformly distributed in the `d`-dimensional unit ball of the `p`-norm, shape
    `shape + (d,)` (Barthe, Guédon, Mendelson and Naor's construction: generalized normal
    coordinates divided by the `p`-norm of them and an exponential sample).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import random

        x = random.ball(random.key(0), 3, shape=(10_000,))
        r = np.linalg.norm(x, axis=-1)
        print(x.shape, float(r.max()) <= 1.0, round(float(np.mean(r ** 3)), 1))  # 1/2
        ```
    """
    dtype = _dtype(dtype, "ball")
    shape = prng.shape_tuple(shape, "ball")
    key_g, key_e = prng.split(prng.check_key(key, "ball"))
    g = generalized_normal(key_g, p, (*shape, d), dtype)
    e = exponential(key_e, shape, dtype)
    norm = (jnp.sum(jnp.abs(g) ** p, axis=-1) + e) ** (1 / p)
    return g / norm[..., None]
