"""`poisson`, as `jax.random.poisson`: Knuth's multiplication method below a rate of 10, and
Hörmann's transformed rejection with squeeze ("PTRS": "The transformed rejection method for
generating Poisson random variables", 1993) from 10 on. Both run on the whole array in a
`while_loop` until every element is done: Knuth's takes about `lam + 1` rounds, PTRS
accepts most proposals at once."""

from __future__ import annotations

from typing import Any

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src import core, prng
from funcdiff._src.lax import special as lax_special
from funcdiff._src.lax.loops import while_loop
from funcdiff._src.random import Shape, _as, uniform
from funcdiff._src.random_gamma import _shape

Array = Any
_KNUTH_BELOW = 10.0


def _rounds(key: Array, shape: tuple[int, ...], step: Any, init: Array) -> Array:
    """Run ``step(key_i, done, value) -> (newly_done, value)`` until every element is done."""

    def more(state: tuple) -> Any:
        return jnp.logical_not(jnp.all(state[1]))

    def round_(state: tuple) -> tuple:
        i, done, value = state
        finished, value = step(prng.fold_in(key, i), done, value)
        return i + 1, done | finished, value

    return while_loop(more, round_, (np.int64(0), jnp.zeros(shape, bool), init))[2]


def _knuth(key: Array, lam: Array) -> Array:
    """The number of uniforms whose running product stays above ``exp(-lam)``."""
    shape = jnp.shape(lam)

    def step(k: Array, done: Array, state: Array) -> tuple:
        count, log_prod = state[0], state[1]
        log_prod = log_prod + jnp.log(uniform(k, shape, np.float64, minval=1e-300))
        finished = log_prod < -lam
        count = jnp.where(done | finished, count, count + 1)
        return finished, jnp.stack([count, log_prod])

    init = jnp.zeros((2, *shape), np.float64)
    return _rounds(key, shape, step, init)[0]


def _ptrs(key: Array, lam: Array) -> Array:
    """Hörmann's PTRS, for `lam >= 10`."""
    shape = jnp.shape(lam)
    log_lam = jnp.log(lam)
    b = 0.931 + 2.53 * jnp.sqrt(lam)
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    v_r = 0.9277 - 3.6224 / (b - 2)

    def step(k: Array, done: Array, count: Array) -> tuple:
        k_u, k_v = prng.split(k)
        u = uniform(k_u, shape, np.float64) - 0.5
        v = uniform(k_v, shape, np.float64, minval=1e-300)
        us = 0.5 - jnp.abs(u)
        k_prop = jnp.floor((2 * a / us + b) * u + lam + 0.43)
        squeeze = (us >= 0.07) & (v <= v_r)
        reject = (k_prop < 0) | ((us < 0.013) & (v > us))
        log_ratio = jnp.log(v) + jnp.log(inv_alpha) - jnp.log(a / (us * us) + b)
        target = -lam + k_prop * log_lam - lax_special.lgamma(k_prop + 1)
        accept = squeeze | (jnp.logical_not(reject) & (log_ratio <= target))
        return accept, jnp.where(accept & jnp.logical_not(done), k_prop, count)

    return _rounds(key, shape, step, jnp.zeros(shape, np.float64))


def poisson(key: Array, lam: Any, shape: Shape | None = None, dtype: Any = None) -> Array:
    """Poisson samples with rate `lam`: integers `k` with probability
    ``lam**k e**-lam / k!``. As in JAX, a negative or nan rate gives -1, and an infinite one
    0. Not differentiable (the samples are integers).

    **Arguments:**

    - `key`: a PRNG key.
    - `lam`: the rate, non-negative.
    - `shape`: the result's shape, to which `lam` must broadcast (default: `lam`'s shape).
    - `dtype`: an integer dtype (default int64).

    !!! Example
        ```python
        from funcdiff import random

        k = random.poisson(random.key(0), 3.5, (10_000,))
        print(k.dtype, round(float(k.mean()), 1), round(float(k.var()), 1))
        ```
    """
    key = prng.check_key(key, "poisson")
    dtype = np.dtype(np.int64 if dtype is None else dtype)
    if dtype.kind not in "iu":
        raise TypeError(f"random.poisson: dtype must be an integer dtype, got {dtype}")
    lam = _as(lam, np.float64)
    shape = _shape("poisson", jnp.shape(lam), shape)
    lam = jnp.broadcast_to(lam, shape)
    valid = (lam >= 0) & jnp.isfinite(lam)
    small = lam < _KNUTH_BELOW
    key_knuth, key_ptrs = prng.split(key)
    # The loops run on 1-d arrays (see random_gamma._log_gamma_sample).
    flat = (-1,)
    knuth = _knuth(key_knuth, jnp.reshape(jnp.where(valid & small, lam, 0.0), flat))
    big = jnp.where(valid & jnp.logical_not(small), lam, _KNUTH_BELOW)
    ptrs = _ptrs(key_ptrs, jnp.reshape(big, flat))
    counts = jnp.where(small, jnp.reshape(knuth, shape), jnp.reshape(ptrs, shape))
    out = jnp.where(valid, counts, jnp.where(jnp.isinf(lam) & (lam > 0), 0.0, -1.0))
    if core.get_aval(out).dtype != dtype:
        out = out.astype(dtype)
    return out
