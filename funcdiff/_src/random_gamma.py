"""The gamma family of `jax.random`: `gamma`, `loggamma`, `beta`, `dirichlet`, `chisquare`,
`t` and `f`.

Gamma variates come from Marsaglia and Tsang's rejection method ("A simple method for
generating gamma variables", 2000), run on the whole array in a `while_loop` until every
element has accepted a proposal (each round draws fresh normals and uniforms from the key
folded with the round number; well over 95% of proposals are accepted, so a few rounds
suffice). A shape `a < 1` is boosted: a sample of `Gamma(a + 1)` times `U ** (1 / a)`,
combined in log space so that `loggamma` stays finite where `gamma` underflows.

The samples are differentiable in `a` by implicit reparameterization, as in JAX: holding the
sample's CDF value `P(a, x)` fixed, ``dx/da = -(dP/da) / p(x)`` with `p` the gamma density;
`beta`, `dirichlet`, `chisquare`, `t` and `f` inherit it through their composition.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src import core, prng
from funcdiff._src.custom_jvp import custom_jvp
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import special as lax_special
from funcdiff._src.lax.loops import while_loop
from funcdiff._src.random import Shape, _as, _float_dtype, normal, uniform

Array = Any


def _shape(where: str, param_shape: tuple[int, ...], shape: Shape | None) -> tuple[int, ...]:
    """The result's shape: `shape`, which the parameter must broadcast to, or by default the
    parameter's shape."""
    if shape is None:
        return param_shape
    shape = prng.shape_tuple(shape, where)
    try:
        if np.broadcast_shapes(param_shape, shape) == shape:
            return shape
    except ValueError:
        pass
    raise ValueError(
        f"random.{where}: the parameter's shape {param_shape} does not broadcast to shape={shape}"
    )


def _marsaglia_tsang_log(key: Array, alpha: Array) -> Array:
    """``log`` of one `Gamma(alpha)` sample per element, for `alpha >= 1`."""
    dtype = core.get_aval(alpha).dtype
    shape = jnp.shape(alpha)
    d = alpha - 1.0 / 3.0
    c = 1.0 / jnp.sqrt(9.0 * d)

    def more(state: tuple) -> Any:
        return jnp.logical_not(jnp.all(state[1]))

    def round_(state: tuple) -> tuple:
        i, done, log_x = state
        k_normal, k_uniform = prng.split(prng.fold_in(key, i))
        z = normal(k_normal, shape, dtype)
        log_u = jnp.log(uniform(k_uniform, shape, dtype, minval=np.finfo(dtype).tiny))
        v = (1.0 + c * z) ** 3
        positive = v > 0
        log_v = jnp.log(jnp.where(positive, v, 1.0))
        accept = positive & (log_u < 0.5 * z * z + d - d * v + d * log_v)
        new = accept & jnp.logical_not(done)
        return i + 1, done | accept, jnp.where(new, jnp.log(d) + log_v, log_x)

    init = (np.int64(0), jnp.zeros(shape, bool), jnp.zeros(shape, dtype))
    return while_loop(more, round_, init)[2]


def _log_gamma_sample(key: Array, a: Array) -> Array:
    """``log`` of `Gamma(a)` samples (no derivative): nan for `a < 0` or nan, `-inf` for 0."""
    k_main, k_boost = prng.split(key)
    valid = a > 0
    boost = a < 1
    a_safe = jnp.where(valid, a, 1.0)
    # The loop runs on a 1-d array: jit's code for 0-d uint32 arithmetic (the key's cipher)
    # makes NumPy scalars, which warn on the wrap-around the cipher relies on.
    alpha = jnp.where(boost, a_safe + 1.0, a_safe)
    log_g = jnp.reshape(_marsaglia_tsang_log(k_main, jnp.reshape(alpha, (-1,))), jnp.shape(a))
    dtype = core.get_aval(a).dtype
    u = uniform(k_boost, jnp.shape(a), dtype, minval=np.finfo(dtype).tiny)
    log_x = log_g + jnp.where(boost, jnp.log(u) / a_safe, 0.0)
    invalid = jnp.where(a == 0, np.array(-np.inf, dtype), np.array(np.nan, dtype))
    return jnp.where(valid, log_x, invalid)


def _dlogx_da(a: Array, log_x: Array) -> Array:
    """``d log(x) / da`` at a `Gamma(a)` sample `x` with CDF value held fixed:
    ``-(dP(a, x)/da) / (x p(x))``, the density term ``x p(x)`` computed in log space."""
    x = jnp.exp(log_x)
    dp_da = lax_special.igamma_grad_a_p.bind(a, x)
    log_xp = a * log_x - x - lax_special.lgamma(a)
    return jnp.where(x > 0, -dp_da * jnp.exp(-log_xp), 0.0)


@custom_jvp
def _implicit_log_gamma(a: Array, log_x: Array) -> Array:
    """`log_x` (a sample drawn for `a`), with the implicit derivative in `a`."""
    return log_x


@_implicit_log_gamma.defjvp
def _implicit_log_gamma_jvp(primals: tuple, tangents: tuple) -> tuple:
    (a, log_x), (t_a, _) = primals, tangents
    return log_x, t_a * _dlogx_da(a, log_x)


def _loggamma(key: Array, a: Any, shape: Shape | None, dtype: Any, where: str) -> Array:
    key = prng.check_key(key, where)
    dtype = _float_dtype(np.float64 if dtype is None else dtype, where)
    a = _as(a, dtype)
    shape = _shape(where, jnp.shape(a), shape)
    a = jnp.broadcast_to(a, shape)
    return _implicit_log_gamma(a, _log_gamma_sample(key, ew.stop_gradient(a)))


def gamma(key: Array, a: Any, shape: Shape | None = None, dtype: Any = None) -> Array:
    """Gamma samples of shape parameter `a` (scale 1): density ``x**(a-1) e**-x / Gamma(a)``.

    Differentiable in `a` (implicit reparameterization, as JAX). `a <= 0` gives nan, except
    `a == 0`, which gives 0.

    **Arguments:**

    - `key`: a PRNG key.
    - `a`: the shape parameter, positive.
    - `shape`: the result's shape, to which `a` must broadcast (default: `a`'s shape).
    - `dtype`: float16, float32 or float64 (default float64).

    !!! Example
        ```python
        import funcdiff
        from funcdiff import random

        x = random.gamma(random.key(0), 3.0, (10_000,))
        print(round(float(x.mean()), 1), round(float(x.var()), 1))
        mean_grad = funcdiff.grad(lambda a: random.gamma(random.key(0), a, (10_000,)).mean())
        print(round(float(mean_grad(3.0)), 2))  # d E[x] / da = 1
        ```
    """
    return jnp.exp(_loggamma(key, a, shape, dtype, "gamma"))


def loggamma(key: Array, a: Any, shape: Shape | None = None, dtype: Any = None) -> Array:
    """The logarithm of `gamma` samples, computed in log space: accurate (and finite) for
    small `a`, where the samples themselves underflow to 0. Arguments as `gamma`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import random

        log_x = random.loggamma(random.key(0), 0.001, (5,))
        print(np.isfinite(log_x).all(), (np.exp(log_x) == 0).any())
        ```
    """
    return _loggamma(key, a, shape, dtype, "loggamma")


def beta(key: Array, a: Any, b: Any, shape: Shape | None = None, dtype: Any = None) -> Array:
    """Beta(`a`, `b`) samples: ``X / (X + Y)`` for independent `X ~ Gamma(a)`,
    `Y ~ Gamma(b)` (formed from their logarithms, so small parameters do not give 0/0).

    **Arguments:**

    - `key`: a PRNG key.
    - `a`, `b`: the positive parameters, broadcast together.
    - `shape`: the result's shape, to which `a` and `b` must broadcast (default: theirs).
    - `dtype`: float16, float32 or float64 (default float64).

    !!! Example
        ```python
        from funcdiff import random

        x = random.beta(random.key(0), 2.0, 6.0, (10_000,))
        print(round(float(x.mean()), 2))  # a / (a + b) = 0.25
        ```
    """
    param_shape = np.broadcast_shapes(jnp.shape(a), jnp.shape(b))
    shape = _shape("beta", param_shape, shape)
    key_a, key_b = prng.split(prng.check_key(key, "beta"))
    log_x = _loggamma(key_a, a, shape, dtype, "beta")
    log_y = _loggamma(key_b, b, shape, dtype, "beta")
    top = jnp.maximum(log_x, log_y)
    x, y = jnp.exp(log_x - top), jnp.exp(log_y - top)
    return x / (x + y)


def dirichlet(key: Array, alpha: Any, shape: Shape | None = None, dtype: Any = None) -> Array:
    """Dirichlet samples: vectors on the simplex, with concentrations `alpha` along the last
    axis (normalized gamma samples, formed in log space).

    **Arguments:**

    - `key`: a PRNG key.
    - `alpha`: the concentrations, shape `(..., k)`, positive.
    - `shape`: the batch shape, to which `alpha.shape[:-1]` must broadcast; the result has
      shape `shape + (k,)` (default: `alpha`'s shape).
    - `dtype`: float16, float32 or float64 (default float64).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import random

        p = random.dirichlet(random.key(0), np.array([1.0, 2.0, 7.0]), (10_000,))
        print(p.shape, np.allclose(p.sum(-1), 1.0), np.round(p.mean(0), 1))
        ```
    """
    alpha_shape = jnp.shape(alpha)
    if len(alpha_shape) < 1:
        raise ValueError(
            "random.dirichlet: alpha must have at least one axis (the categories), got a scalar"
        )
    batch = _shape("dirichlet", alpha_shape[:-1], shape)
    log_g = _loggamma(key, alpha, batch + alpha_shape[-1:], dtype, "dirichlet")
    g = jnp.exp(log_g - jnp.max(log_g, axis=-1, keepdims=True))
    return g / jnp.sum(g, axis=-1, keepdims=True)


def chisquare(key: Array, df: Any, shape: Shape | None = None, dtype: Any = None) -> Array:
    """Chi-square samples with `df` degrees of freedom: ``2 * Gamma(df / 2)``. Arguments as
    `gamma`, with `df` for `a`.

    !!! Example
        ```python
        from funcdiff import random

        x = random.chisquare(random.key(0), 4.0, (10_000,))
        print(round(float(x.mean())))  # df
        ```
    """
    half = _as(df, _float_dtype(np.float64 if dtype is None else dtype, "chisquare")) / 2
    return 2.0 * jnp.exp(_loggamma(key, half, shape, dtype, "chisquare"))


def t(key: Array, df: Any, shape: Shape | None = None, dtype: Any = None) -> Array:
    """Student's t samples with `df` degrees of freedom: ``z / sqrt(V / df)`` for a standard
    normal `z` and a chi-square `V`. Arguments as `gamma`, with `df` for `a`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import random

        x = random.t(random.key(0), 5.0, (20_000,))
        print(round(float(np.median(x)), 1), round(float(x.var()), 1))  # 0, df / (df - 2)
        ```
    """
    dtype = _float_dtype(np.float64 if dtype is None else dtype, "t")
    df = _as(df, dtype)
    shape = _shape("t", jnp.shape(df), shape)
    key_z, key_v = prng.split(prng.check_key(key, "t"))
    z = normal(key_z, shape, dtype)
    log_g = _loggamma(key_v, df / 2, shape, dtype, "t")  # V / df = Gamma(df / 2) / (df / 2)
    return z * jnp.exp(0.5 * (jnp.log(df / 2) - log_g))


def f(key: Array, dfnum: Any, dfden: Any, shape: Shape | None = None, dtype: Any = None) -> Array:
    """F samples: ``(U / dfnum) / (V / dfden)`` for independent chi-square `U`, `V` with
    `dfnum` and `dfden` degrees of freedom. Arguments as `beta`.

    !!! Example
        ```python
        from funcdiff import random

        x = random.f(random.key(0), 5.0, 10.0, (20_000,))
        print(round(float(x.mean()), 1))  # dfden / (dfden - 2) = 1.25
        ```
    """
    dtype = _float_dtype(np.float64 if dtype is None else dtype, "f")
    dfnum, dfden = _as(dfnum, dtype), _as(dfden, dtype)
    param_shape = np.broadcast_shapes(jnp.shape(dfnum), jnp.shape(dfden))
    shape = _shape("f", param_shape, shape)
    key_u, key_v = prng.split(prng.check_key(key, "f"))
    log_u = _loggamma(key_u, dfnum / 2, shape, dtype, "f")
    log_v = _loggamma(key_v, dfden / 2, shape, dtype, "f")
    return jnp.exp(log_u - log_v) * (dfden / dfnum)
