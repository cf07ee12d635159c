"""`binomial` and `multinomial`, as `jax.random`'s. A binomial count is drawn for the
smaller of `p` and `1 - p` (and flipped back): by the waiting-time method (summing
geometric gaps between successes until they pass `n`) when the mean is below 10, and by
Hörmann's transformed rejection with squeeze ("BTRS": "The generation of binomial random
variates", 1993) from 10 on, each on the whole array in a `while_loop`. A multinomial draws
one binomial per category, each from what the earlier categories left."""

from __future__ import annotations

from typing import Any

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src import prng
from funcdiff._src.lax import special as lax_special
from funcdiff._src.random import Shape, _as, _float_dtype, uniform
from funcdiff._src.random_gamma import _shape
from funcdiff._src.random_poisson import _rounds

Array = Any
_INVERSION_BELOW = 10.0


def _waiting_time(key: Array, n: Array, q: Array) -> Array:
    """Successes among `n` trials of probability `q`: geometric gaps summed past `n`."""
    shape = jnp.shape(n)
    log_fail = jnp.log1p(-jnp.where(q > 0, q, 0.5))  # q == 0: no success, never reached

    def step(k: Array, done: Array, state: Array) -> tuple:
        position, count = state[0], state[1]
        u = uniform(k, shape, np.float64, minval=1e-300)
        gap = jnp.where(q > 0, jnp.floor(jnp.log(u) / log_fail) + 1, np.inf)
        position = position + gap
        finished = position > n
        count = jnp.where(done | finished, count, count + 1)
        return finished, jnp.stack([position, count])

    return _rounds(key, shape, step, jnp.zeros((2, *shape), np.float64))[1]


def _btrs(key: Array, n: Array, q: Array) -> Array:
    """Hörmann's BTRS, for ``n * q >= 10`` and ``q <= 1/2``."""
    shape = jnp.shape(n)
    spq = jnp.sqrt(n * q * (1 - q))
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * q
    c = n * q + 0.5
    v_r = 0.92 - 4.2 / b
    alpha = (2.83 + 5.1 / b) * spq
    log_odds = jnp.log(q / (1 - q))
    mode = jnp.floor((n + 1) * q)
    h = lax_special.lgamma(mode + 1) + lax_special.lgamma(n - mode + 1)

    def step(k: Array, done: Array, count: Array) -> tuple:
        k_u, k_v = prng.split(k)
        u = uniform(k_u, shape, np.float64) - 0.5
        v = uniform(k_v, shape, np.float64, minval=1e-300)
        us = 0.5 - jnp.abs(u)
        k_prop = jnp.floor((2 * a / us + b) * u + c)
        squeeze = (us >= 0.07) & (v <= v_r)
        inside = (k_prop >= 0) & (k_prop <= n)
        k_safe = jnp.clip(k_prop, 0, n)
        log_v = jnp.log(v * alpha / (a / (us * us) + b))
        target = (
            h
            - lax_special.lgamma(k_safe + 1)
            - lax_special.lgamma(n - k_safe + 1)
            + (k_safe - mode) * log_odds
        )
        accept = squeeze | (inside & (log_v <= target))
        return accept, jnp.where(accept & jnp.logical_not(done), k_prop, count)

    return _rounds(key, shape, step, jnp.zeros(shape, np.float64))


def binomial(key: Array, n: Any, p: Any, shape: Shape | None = None, dtype: Any = None) -> Array:
    """Binomial samples: the number of successes among `n` trials of probability `p`, as
    floats (JAX's convention). `n < 0` or a `p` outside `[0, 1]` (or nan) gives nan.

    **Arguments:**

    - `key`: a PRNG key.
    - `n`: the number of trials (a whole number); `p`: the probability of a success.
    - `shape`: the result's shape, to which `n` and `p` must broadcast (default: theirs).
    - `dtype`: float16, float32 or float64 (default float64).

    !!! Example
        ```python
        from funcdiff import random

        k = random.binomial(random.key(0), 40.0, 0.3, (10_000,))
        print(k.dtype, round(float(k.mean())), round(float(k.var()), 1))  # n p, n p (1 - p)
        ```
    """
    dtype = _float_dtype(np.float64 if dtype is None else dtype, "binomial")
    n, p = _as(n, np.float64), _as(p, np.float64)
    shape = _shape("binomial", np.broadcast_shapes(jnp.shape(n), jnp.shape(p)), shape)
    n, p = jnp.broadcast_to(n, shape), jnp.broadcast_to(p, shape)
    valid = (n >= 0) & (p >= 0) & (p <= 1)
    q = jnp.where(valid, jnp.minimum(p, 1 - p), 0.0)
    n_ok = jnp.where(valid, n, 0.0)
    small = n_ok * q < _INVERSION_BELOW
    key_w, key_b = prng.split(prng.check_key(key, "binomial"))
    # The loops run on 1-d arrays (see random_gamma._log_gamma_sample).
    flat = (-1,)
    waiting = _waiting_time(
        key_w, jnp.reshape(jnp.where(small, n_ok, 0.0), flat), jnp.reshape(q, flat)
    )
    rejection = _btrs(
        key_b,
        jnp.reshape(jnp.where(small, 100.0, n_ok), flat),
        jnp.reshape(jnp.where(small, 0.25, q), flat),
    )
    count = jnp.where(small, jnp.reshape(waiting, shape), jnp.reshape(rejection, shape))
    count = jnp.where(p > 0.5, n_ok - count, count)
    return jnp.astype(jnp.where(valid, count, np.nan), dtype)


def multinomial(
    key: Array,
    n: Any,
    p: Any,
    *,
    shape: Shape | None = None,
    dtype: Any = None,
    unroll: int | bool = 1,
) -> Array:
    """Multinomial counts: `n` trials spread over the categories of probabilities `p` (last
    axis), as floats. Each category's count is a binomial draw from the trials the earlier
    categories left, with its share of the remaining probability.

    **Arguments:**

    - `key`: a PRNG key.
    - `n`: the number of trials, broadcast to the batch shape `shape[:-1]`.
    - `p`: the probabilities, categories on the last axis.
    - `shape`: the result's shape, categories last, to which `p` must broadcast (default:
      `p`'s shape).
    - `dtype`: float16, float32 or float64 (default float64).
    - `unroll`: accepted for JAX's signature; the categories are drawn in a Python loop.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import random

        counts = random.multinomial(random.key(0), 10.0, np.array([0.2, 0.3, 0.5]),
                                    shape=(4, 3))
        print(counts.shape, counts.sum(axis=-1))
        ```
    """
    del unroll
    dtype = _float_dtype(np.float64 if dtype is None else dtype, "multinomial")
    p = _as(p, np.float64)
    shape = jnp.shape(p) if shape is None else prng.shape_tuple(shape, "multinomial")
    p = jnp.broadcast_to(p, shape)
    remaining = jnp.broadcast_to(_as(n, np.float64), shape[:-1])
    left_prob = jnp.flip(jnp.cumsum(jnp.flip(p, -1), axis=-1), -1)  # p_i + ... + p_k
    keys = prng.split(prng.check_key(key, "multinomial"), shape[-1])
    counts = []
    for i in range(shape[-1]):
        share = jnp.clip(
            p[..., i] / jnp.where(left_prob[..., i] == 0, 1.0, left_prob[..., i]), 0.0, 1.0
        )
        count = binomial(keys[i], remaining, share)
        counts.append(count)
        remaining = remaining - count
    return jnp.astype(jnp.stack(counts, axis=-1), dtype)
