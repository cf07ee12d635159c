# Over 600 lines: the samplers of one namespace (jax.random), one block each, half docstrings.
"""Functional, splittable pseudo-random numbers: counter-based Threefry-2x32 keys.

A key is a uint32 array of shape ``(2,)``, as JAX's `PRNGKey`. Nothing here touches NumPy's
global random state: the same key always gives the same numbers. Random bits come from the
Threefry-2x32 block cipher (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
SC 2011; 20 rounds) applied to a counter, and every transform from bits to samples is written
here with funcdiff operations, so sampling can be traced and does not depend on NumPy's own
samplers. Keys, bits, uniform floats, integers and permutations are bit-for-bit identical on
every platform; samplers that call `exp`/`log`/`erf` (normal, truncated normal, gumbel,
categorical) may differ in the last bit where the platform's maths library does.

Key derivation (`key`, `split`, `fold_in`), random bits and the uniform, normal, truncated
normal, gumbel, bernoulli and categorical samplers use the same counter layout and formulas as
JAX's default implementation ("threefry2x32" with ``jax_threefry_partitionable``, the default
since JAX 0.5), so in float32 and float64 they give JAX's numbers to rounding (float64
ones with JAX's 64-bit mode); float16 samples are drawn differently.

The keys and the cipher (`key`, `split`, `fold_in`, `bits`, `threefry_2x32`) are in `prng.py`;
this module holds the samplers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src import core
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import sorting as lax_sorting
from funcdiff._src.lax import special as lax_special
from funcdiff._src.lax import transcendental as tr
from funcdiff._src.numpy._util import promote_inexact
from funcdiff._src.prng import U32, U64, check_key, random_bits, shape_tuple

Array = Any
Shape = int | Sequence[int]

# ---- floats ---------------------------------------------------------------------------------


def _float_dtype(dtype: Any, where: str) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(
            f"random.{where}: dtype must be float16, float32 or float64, got {dtype}."
        )
    return dtype


def _as(x: Any, dtype: np.dtype) -> Array:
    return ew.convert_element_type(jnp.asarray(x), dtype)


def _unit_floats(key: Array, shape: tuple[int, ...], dtype: np.dtype) -> Array:
    """Floats in [0, 1) on a grid of ``2**-nmant``: the top `nmant` bits of a random word,
    scaled exactly (the same numbers as setting the mantissa of 1.0 and subtracting 1)."""
    nmant = int(np.finfo(dtype).nmant)
    width = 64 if dtype == np.float64 else 32
    raw = random_bits(key, width, shape)
    word = U64 if width == 64 else U32
    mantissa = ew.shift_right(raw, np.array(width - nmant, word))
    return ew.mul(ew.convert_element_type(mantissa, dtype), np.array(2.0**-nmant, dtype))


def uniform(
    key: Array,
    shape: Shape = (),
    dtype: Any = np.float64,
    minval: Any = 0.0,
    maxval: Any = 1.0,
) -> Array:
    """Uniform samples in ``[minval, maxval)``.

    **Arguments:**

    - `key`: a PRNG key.
    - `shape`: the shape of the result.
    - `dtype`: float16, float32 or float64.
    - `minval`, `maxval`: bounds, broadcastable to `shape`.

    **Returns:**

    An array of shape `shape` and dtype `dtype`.

    !!! Example
        ```python
        from funcdiff import random

        u = random.uniform(random.key(0), (1000,), minval=-1.0, maxval=1.0)
        assert u.min() >= -1.0 and u.max() < 1.0
        ```
    """
    key = check_key(key, "uniform")
    dtype = _float_dtype(dtype, "uniform")
    shape = shape_tuple(shape, "uniform")
    lo, hi = _as(minval, dtype), _as(maxval, dtype)
    out = ew.max(lo, ew.add(ew.mul(_unit_floats(key, shape, dtype), ew.sub(hi, lo)), lo))
    if core.get_aval(out).shape != shape:
        raise ValueError(
            f"random.uniform: minval and maxval (shapes {jnp.shape(lo)}, {jnp.shape(hi)}) "
            f"must broadcast to shape {shape}."
        )
    return out


def erf_inv(x: Array) -> Array:
    """The inverse error function: `funcdiff.lax.erf_inv` of `x` promoted to floating point
    (float64 for integers), as `funcdiff.scipy.special.erfinv`. The normal samplers below
    use it; it is within a few ulps in float64 and one ulp in float32, ``erf_inv(±1) = ±inf``
    and ``nan`` outside ``[-1, 1]``.

    **Arguments:**

    - `x`: an array.

    **Returns:**

    An array like `x`, of floating-point dtype.

    !!! Example
        ```python
        import math
        from funcdiff import random

        assert abs(math.erf(random.erf_inv(0.5)) - 0.5) < 1e-15
        ```
    """
    return lax_special.erf_inv(promote_inexact(x)[0])


def normal(key: Array, shape: Shape = (), dtype: Any = np.float64) -> Array:
    """Standard normal samples: ``sqrt(2) * erf_inv(u)`` with `u` uniform in (-1, 1).

    **Arguments:**

    - `key`: a PRNG key.
    - `shape`: the shape of the result.
    - `dtype`: float16, float32 or float64.

    **Returns:**

    An array of shape `shape` and dtype `dtype`.

    !!! Example
        ```python
        from funcdiff import random

        z = random.normal(random.key(0), (10_000,))
        assert abs(z.mean()) < 0.05 and abs(z.std() - 1.0) < 0.05
        ```
    """
    key = check_key(key, "normal")
    dtype = _float_dtype(dtype, "normal")
    lo = np.nextafter(np.array(-1.0, dtype), np.array(0.0, dtype))
    u = uniform(key, shape, dtype, lo, 1.0)
    return ew.mul(np.array(math.sqrt(2.0), dtype), erf_inv(u))


def truncated_normal(
    key: Array,
    lower: Any,
    upper: Any,
    shape: Shape | None = None,
    dtype: Any = np.float64,
) -> Array:
    """Standard normal samples conditioned on ``lower <= x <= upper`` (by the inverse CDF).

    **Arguments:**

    - `key`: a PRNG key.
    - `lower`, `upper`: the bounds (may be ``±inf``), broadcastable to `shape`.
    - `shape`: the shape of the result (default: the broadcast shape of the bounds).
    - `dtype`: float16, float32 or float64.

    **Returns:**

    An array of shape `shape` and dtype `dtype`, within ``[lower, upper]``.

    !!! Example
        ```python
        from funcdiff import random

        z = random.truncated_normal(random.key(0), -2.0, 2.0, (1000,))
        assert z.min() >= -2.0 and z.max() <= 2.0
        ```
    """
    key = check_key(key, "truncated_normal")
    dtype = _float_dtype(dtype, "truncated_normal")
    lo, hi = _as(lower, dtype), _as(upper, dtype)
    if shape is None:
        shape = np.broadcast_shapes(core.get_aval(lo).shape, core.get_aval(hi).shape)
    root2 = np.array(math.sqrt(2.0), dtype)
    u = uniform(key, shape, dtype, tr.erf(ew.div(lo, root2)), tr.erf(ew.div(hi, root2)))
    return jnp.clip(ew.mul(root2, erf_inv(u)), lo, hi)


def gumbel(key: Array, shape: Shape = (), dtype: Any = np.float64) -> Array:
    """Standard Gumbel samples, ``-log(-log(u))`` with `u` uniform in ``[tiny, 1)``.

    **Arguments:**

    - `key`: a PRNG key.
    - `shape`: the shape of the result.
    - `dtype`: float16, float32 or float64.

    **Returns:**

    An array of shape `shape` and dtype `dtype`.

    !!! Example
        ```python
        from funcdiff import random

        g = random.gumbel(random.key(0), (10_000,))
        assert abs(g.mean() - 0.5772) < 0.05   # the Euler-Mascheroni constant
        ```
    """
    key = check_key(key, "gumbel")
    dtype = _float_dtype(dtype, "gumbel")
    u = uniform(key, shape, dtype, np.finfo(dtype).tiny, 1.0)
    return jnp.negative(jnp.log(jnp.negative(jnp.log(u))))


# ---- discrete samplers ----------------------------------------------------------------------


def bernoulli(key: Array, p: Any = 0.5, shape: Shape | None = None) -> Array:
    """Booleans that are True with probability `p`.

    **Arguments:**

    - `key`: a PRNG key.
    - `p`: the probability, broadcastable to `shape`.
    - `shape`: the shape of the result (default: the shape of `p`).

    **Returns:**

    A boolean array.

    !!! Example
        ```python
        from funcdiff import random

        b = random.bernoulli(random.key(0), 0.3, (10_000,))
        assert b.dtype == bool and abs(b.mean() - 0.3) < 0.02
        ```
    """
    key = check_key(key, "bernoulli")
    p = jnp.asarray(p)
    p_dtype = core.get_aval(p).dtype
    dtype = p_dtype if p_dtype.kind == "f" else np.dtype(np.float64)
    if shape is None:
        shape = core.get_aval(p).shape
    return jnp.less(uniform(key, shape, dtype), _as(p, dtype))


def categorical(
    key: Array, logits: Any, axis: int = -1, shape: Shape | None = None
) -> Array:
    """Samples of the categorical distribution ``softmax(logits)`` along `axis` (by the
    Gumbel-max trick).

    **Arguments:**

    - `key`: a PRNG key.
    - `logits`: unnormalised log-probabilities (``-inf`` for impossible categories).
    - `axis`: the axis of the categories.
    - `shape`: the shape of the result: a batch shape ending with the shape of `logits`
      without `axis` (default: exactly that).

    **Returns:**

    An int64 array of category indices.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import random

        draws = random.categorical(random.key(0), np.log([0.2, 0.8]), shape=(10_000,))
        assert abs(draws.mean() - 0.8) < 0.02
        ```
    """
    key = check_key(key, "categorical")
    logits = jnp.asarray(logits)
    aval = core.get_aval(logits)
    if aval.dtype.kind != "f":
        logits = ew.convert_element_type(logits, np.float64)
        aval = core.get_aval(logits)
    if aval.ndim == 0:
        raise ValueError("random.categorical: logits must have at least one dimension.")
    axis = axis % aval.ndim
    batch = aval.shape[:axis] + aval.shape[axis + 1 :]
    shape = batch if shape is None else shape_tuple(shape, "categorical")
    if len(shape) < len(batch) or shape[len(shape) - len(batch) :] != batch:
        raise ValueError(
            f"random.categorical: shape {shape} must end with the batch shape of the logits "
            f"{batch} (their shape without axis {axis})."
        )
    prefix = shape[: len(shape) - len(batch)]
    noise_shape = prefix + aval.shape
    noisy = jnp.add(gumbel(key, noise_shape, aval.dtype), logits)
    return jnp.argmax(noisy, axis=len(prefix) + axis)


def randint(
    key: Array, shape: Shape, minval: Any, maxval: Any, dtype: Any = np.int64
) -> Array:
    """Integers uniform in ``[minval, maxval)`` (`minval` where ``maxval <= minval``).

    Each sample is a 64-bit random word reduced modulo the range, so the bias is below
    ``range / 2**64``.

    **Arguments:**

    - `key`: a PRNG key.
    - `shape`: the shape of the result.
    - `minval`, `maxval`: bounds, broadcastable to `shape`. Integer bounds are clipped to
      the range of `dtype`, with `maxval` up to ``iinfo(dtype).max + 1`` (so
      ``randint(key, s, 0, 256, uint8)`` covers all bytes); array bounds must lie in it.
    - `dtype`: an integer dtype.

    **Returns:**

    An array of shape `shape` and dtype `dtype`.

    !!! Example
        ```python
        from funcdiff import random

        dice = random.randint(random.key(0), (1000,), 1, 7)
        assert dice.min() == 1 and dice.max() == 6
        ```
    """
    key = check_key(key, "randint")
    dtype = np.dtype(dtype)
    if dtype.kind not in "iu":
        raise TypeError(f"random.randint: dtype must be an integer dtype, got {dtype}.")
    shape = shape_tuple(shape, "randint")
    info = np.iinfo(dtype)
    if _is_int(minval) and _is_int(maxval):
        # Static bounds: clip to the dtype, with `maxval` up to ``max + 1`` (so the whole range
        # of the dtype can be drawn), and reduce modulo the span computed exactly.
        lo_int = min(max(int(minval), info.min), info.max)
        hi_int = min(max(int(maxval), info.min), info.max + 1)
        span_int = max(hi_int - lo_int, 1)
        words = random_bits(key, 64, shape)
        offset = words if span_int == 2**64 else ew.rem(words, np.uint64(span_int))
        start: Array = np.uint64(lo_int % 2**64)
    else:
        lo, hi = _as(minval, dtype), _as(maxval, dtype)
        start = ew.convert_element_type(lo, U64)
        span = ew.sub(ew.convert_element_type(hi, U64), start)
        span = jnp.where(jnp.less_equal(hi, lo), np.uint64(1), span)
        offset = ew.rem(random_bits(key, 64, shape), span)
    out = ew.convert_element_type(ew.add(start, offset), dtype)
    if core.get_aval(out).shape != shape:
        raise ValueError(f"random.randint: minval and maxval must broadcast to shape {shape}.")
    return out


def _is_int(x: Any) -> bool:
    return isinstance(x, int | np.integer) and not isinstance(x, bool | np.bool_)


def permutation(key: Array, x: int | Array, axis: int = 0, independent: bool = False) -> Array:
    """A random permutation of ``range(x)``, or of `x`'s entries along `axis`.

    Each position gets a 64-bit random sort key; a stable sort by these keys gives the
    permutation (uniform up to key collisions, which have probability below ``n**2 / 2**65``).

    **Arguments:**

    - `key`: a PRNG key.
    - `x`: an int `n` (permute ``arange(n)``) or an array.
    - `axis`: the axis to shuffle.
    - `independent`: shuffle each slice along `axis` independently (else all slices are
      permuted the same way).

    **Returns:**

    The permuted array.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import random

        p = random.permutation(random.key(0), 10)
        assert sorted(p.tolist()) == list(range(10))
        ```
    """
    key = check_key(key, "permutation")
    if isinstance(x, int | np.integer) and not isinstance(x, bool):
        if x < 0:
            raise ValueError(f"random.permutation: n must be non-negative, got {x}.")
        x = np.arange(int(x))
    x = jnp.asarray(x)
    aval = core.get_aval(x)
    if aval.ndim == 0:
        raise ValueError("random.permutation: x must be an int or an array with a dimension.")
    axis = axis % aval.ndim
    if independent:
        order = lax_sorting.argsort(random_bits(key, 64, aval.shape), axis)
        return jnp.take_along_axis(x, order, axis)
    order = lax_sorting.argsort(random_bits(key, 64, (aval.shape[axis],)))
    return jnp.take(x, order, axis)


def choice(
    key: Array,
    a: int | Array,
    shape: Shape = (),
    replace: bool = True,
    p: Any = None,
    axis: int = 0,
) -> Array:
    """Random entries of `a` along `axis` (of ``arange(a)`` for an int).

    **Arguments:**

    - `key`: a PRNG key.
    - `a`: an int `n` or an array.
    - `shape`: the shape of the draws.
    - `replace`: draw with replacement.
    - `p`: probabilities of the entries (need not be normalised); uniform by default.
    - `axis`: the axis of `a` to draw along.

    **Returns:**

    An array of shape ``a.shape[:axis] + shape + a.shape[axis+1:]``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import random

        draws = random.choice(random.key(0), 5, (3,), replace=False)
        assert len(set(draws.tolist())) == 3
        ```
    """
    key = check_key(key, "choice")
    shape = shape_tuple(shape, "choice")
    if isinstance(a, int | np.integer) and not isinstance(a, bool):
        population: Array = np.arange(int(a))
    else:
        population = jnp.asarray(a)
    aval = core.get_aval(population)
    if aval.ndim == 0:
        raise ValueError("random.choice: `a` must be an int or an array with a dimension.")
    axis = axis % aval.ndim
    n = aval.shape[axis]
    draws = math.prod(shape)
    if n == 0 and draws:
        raise ValueError("random.choice: cannot draw from an empty population.")
    if not replace and draws > n:
        raise ValueError(
            f"random.choice: cannot draw {draws} samples from {n} entries without replacement; "
            "pass replace=True or a smaller shape."
        )
    log_p = None
    if p is not None:
        p = jnp.asarray(p)
        if core.get_aval(p).shape != (n,):
            raise ValueError(
                f"random.choice: p must have shape ({n},) to match `a`, got {jnp.shape(p)}."
            )
        positive = jnp.greater(p, 0)
        log_p = jnp.where(positive, jnp.log(jnp.where(positive, p, 1.0)), -np.inf)
    if replace:
        if log_p is None:
            index = randint(key, shape, 0, n)
        else:
            index = categorical(key, log_p, shape=shape)
    elif log_p is None:
        index = jnp.reshape(permutation(key, n)[:draws], shape)
    else:
        scores = jnp.add(gumbel(key, (n,), core.get_aval(log_p).dtype), log_p)
        index = jnp.reshape(lax_sorting.argsort(jnp.negative(scores))[:draws], shape)
    return jnp.take(population, index, axis)


# ---- key data -------------------------------------------------------------------------------


def key_data(keys: Array) -> Array:
    """The uint32 words of a key or of an array of keys (shape ``(..., 2)``).

    funcdiff's keys are raw uint32 arrays, like JAX's legacy `PRNGKey`s, so this returns
    `keys` itself after checking that it is one.

    !!! Example
        ```python
        from funcdiff import random

        print(random.key_data(random.split(random.key(0), 2)).shape)
        ```
    """
    if not isinstance(keys, core.Tracer):
        keys = jnp.asarray(keys)
    aval = core.get_aval(keys)
    if aval.ndim == 0 or aval.shape[-1] != 2 or aval.dtype != U32:
        raise TypeError(
            f"random.key_data: expected keys, a uint32 array of shape (..., 2), got "
            f"{aval.str_short()}."
        )
    return keys


def wrap_key_data(key_bits_array: Array, *, impl: str | None = None) -> Array:
    """Keys from their uint32 words (shape ``(..., 2)``), as made by `key_data`.

    Only JAX's default generator, ``impl="threefry2x32"`` (or `None`), exists. The keys are
    returned as raw uint32 arrays, funcdiff's form of keys.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import random

        k = random.wrap_key_data(np.array([0, 42], np.uint32))
        assert (random.uniform(k) == random.uniform(random.key(42))).all()
        ```
    """
    if impl not in (None, "threefry2x32"):
        raise ValueError(
            f"random.wrap_key_data: impl {impl!r} is not available; funcdiff implements only "
            "'threefry2x32'."
        )
    return key_data(key_bits_array)


# ---- more continuous samplers, each a transform of `uniform` or `normal` ---------------------


def exponential(key: Array, shape: Shape = (), dtype: Any = np.float64) -> Array:
    """Standard exponential samples (rate 1): ``-log1p(-u)`` with `u` uniform in ``[0, 1)``.

    !!! Example
        ```python
        from funcdiff import random

        e = random.exponential(random.key(0), (10_000,))
        assert e.min() >= 0 and abs(e.mean() - 1.0) < 0.05
        ```
    """
    key = check_key(key, "exponential")
    u = uniform(key, shape, _float_dtype(dtype, "exponential"))
    return jnp.negative(jnp.log1p(jnp.negative(u)))


def laplace(key: Array, shape: Shape = (), dtype: Any = np.float64) -> Array:
    """Standard Laplace samples (density ``exp(-|x|) / 2``).

    !!! Example
        ```python
        from funcdiff import random

        x = random.laplace(random.key(0), (10_000,))
        assert abs(x.mean()) < 0.05 and abs(x.var() - 2.0) < 0.2
        ```
    """
    key = check_key(key, "laplace")
    dtype = _float_dtype(dtype, "laplace")
    u = uniform(key, shape, dtype, -1.0 + np.finfo(dtype).epsneg, 1.0)
    return jnp.sign(u) * jnp.log1p(jnp.negative(jnp.abs(u)))


def logistic(key: Array, shape: Shape = (), dtype: Any = np.float64) -> Array:
    """Standard logistic samples: ``log(u / (1 - u))`` with `u` uniform in ``[tiny, 1)``.

    !!! Example
        ```python
        from funcdiff import random

        x = random.logistic(random.key(0), (10_000,))
        assert abs(x.mean()) < 0.1
        ```
    """
    key = check_key(key, "logistic")
    dtype = _float_dtype(dtype, "logistic")
    u = uniform(key, shape, dtype, np.finfo(dtype).tiny, 1.0)
    return jnp.log(u / (1 - u))


def cauchy(key: Array, shape: Shape = (), dtype: Any = np.float64) -> Array:
    """Standard Cauchy samples: ``tan(pi * (u - 1/2))`` with `u` uniform in ``[eps, 1)``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import random

        x = random.cauchy(random.key(0), (10_000,))
        assert abs(np.median(x)) < 0.1
        ```
    """
    key = check_key(key, "cauchy")
    dtype = _float_dtype(dtype, "cauchy")
    u = uniform(key, shape, dtype, np.finfo(dtype).eps, 1.0)
    return jnp.tan(np.array(np.pi, dtype) * (u - 0.5))


def rademacher(key: Array, shape: Shape = (), dtype: Any = np.int64) -> Array:
    """Random signs: -1 or 1 with equal probability.

    !!! Example
        ```python
        from funcdiff import random

        s = random.rademacher(random.key(0), (10_000,))
        assert set(s.tolist()) == {-1, 1} and abs(s.mean()) < 0.05
        ```
    """
    key = check_key(key, "rademacher")
    b = bernoulli(key, 0.5, shape).astype(dtype)
    return 2 * b - 1


def _param_shape(param: Array, shape: Shape | None, where: str) -> tuple[int, ...]:
    return jnp.shape(param) if shape is None else shape_tuple(shape, where)


def rayleigh(key: Array, scale: Any, shape: Shape | None = None,
             dtype: Any = np.float64) -> Array:
    """Rayleigh samples of scale `scale`: ``scale * sqrt(-2 log u)``, `u` uniform.

    `shape` defaults to the shape of `scale`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import random

        x = random.rayleigh(random.key(0), 2.0, (10_000,))
        assert abs(x.mean() - 2.0 * np.sqrt(np.pi / 2)) < 0.1
        ```
    """
    key = check_key(key, "rayleigh")
    dtype = _float_dtype(dtype, "rayleigh")
    u = uniform(key, _param_shape(scale, shape, "rayleigh"), dtype)
    return jnp.sqrt(-2 * jnp.log(u)) * _as(scale, dtype)


def maxwell(key: Array, shape: Shape = (), dtype: Any = np.float64) -> Array:
    """Maxwell samples: the length of a standard normal vector in three dimensions.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import random

        x = random.maxwell(random.key(0), (10_000,))
        assert abs(x.mean() - 2 * np.sqrt(2 / np.pi)) < 0.05
        ```
    """
    key = check_key(key, "maxwell")
    dtype = _float_dtype(dtype, "maxwell")
    z = normal(key, (*shape_tuple(shape, "maxwell"), 3), dtype)
    return jnp.linalg.norm(z, axis=-1)


def lognormal(key: Array, sigma: Any = 1.0, shape: Shape | None = None,
              dtype: Any = np.float64) -> Array:
    """Log-normal samples: ``exp(sigma * z)`` with `z` standard normal.

    `shape` defaults to the shape of `sigma`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import random

        x = random.lognormal(random.key(0), 0.5, (10_000,))
        assert abs(np.log(x).std() - 0.5) < 0.02
        ```
    """
    key = check_key(key, "lognormal")
    dtype = _float_dtype(dtype, "lognormal")
    z = normal(key, _param_shape(sigma, shape, "lognormal"), dtype)
    return jnp.exp(z * _as(sigma, dtype))


def pareto(key: Array, b: Any, shape: Shape | None = None, dtype: Any = np.float64) -> Array:
    """Pareto samples of shape parameter `b` (support ``[1, inf)``): ``exp(e / b)`` with `e`
    standard exponential. `shape` defaults to the shape of `b`.

    !!! Example
        ```python
        from funcdiff import random

        x = random.pareto(random.key(0), 3.0, (10_000,))
        assert x.min() >= 1.0 and abs(x.mean() - 1.5) < 0.05
        ```
    """
    key = check_key(key, "pareto")
    dtype = _float_dtype(dtype, "pareto")
    e = exponential(key, _param_shape(b, shape, "pareto"), dtype)
    return jnp.exp(e / _as(b, dtype))


def weibull_min(key: Array, scale: Any, concentration: Any, shape: Shape = (),
                dtype: Any = np.float64) -> Array:
    """Weibull samples: ``scale * (-log1p(-u)) ** (1 / concentration)``, `u` uniform.

    !!! Example
        ```python
        import math
        from funcdiff import random

        x = random.weibull_min(random.key(0), 2.0, 1.5, (10_000,))
        assert abs(x.mean() - 2.0 * math.gamma(1 + 1 / 1.5)) < 0.05
        ```
    """
    key = check_key(key, "weibull_min")
    dtype = _float_dtype(dtype, "weibull_min")
    u = uniform(key, shape, dtype)
    e = jnp.negative(jnp.log1p(jnp.negative(u)))
    return jnp.power(e, 1 / _as(concentration, dtype)) * _as(scale, dtype)


def clone(key: Array) -> Array:
    """A copy of `key`. JAX uses it to reuse a key without its key-reuse checker objecting;
    funcdiff has no such checker, so it checks that `key` is a key and returns it.

    !!! Example
        ```python
        from funcdiff import random

        k = random.key(0)
        assert (random.clone(k) == k).all()
        ```
    """
    return key_data(key)


def key_impl(keys: Array) -> str:
    """The name of the generator of `keys`: ``"threefry2x32"``, the only one funcdiff has
    (its keys are raw uint32 arrays of shape ``(..., 2)``).

    !!! Example
        ```python
        from funcdiff import random

        print(random.key_impl(random.split(random.key(0))))
        ```
    """
    key_data(keys)
    return "threefry2x32"
