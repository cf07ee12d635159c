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
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src import core
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import sorting as lax_sorting

Array = Any
Shape = int | Sequence[int]

# ---- Threefry-2x32 --------------------------------------------------------------------------

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_KEY_PARITY = np.uint32(0x1BD11BDA)
_U32 = np.dtype(np.uint32)
_U64 = np.dtype(np.uint64)


def _u32(value: int) -> np.uint32:
    return np.uint32(value)


def _rotate_left(x: Array, r: int) -> Array:
    return ew.bitwise_or(ew.shift_left(x, _u32(r)), ew.shift_right(x, _u32(32 - r)))


def threefry_2x32(key: Array, x0: Array, x1: Array) -> tuple[Array, Array]:
    """Encrypt the counter pairs ``(x0, x1)`` with Threefry-2x32 (20 rounds) under `key`.

    **Arguments:**

    - `key`: a uint32 array of shape ``(2,)``.
    - `x0`, `x1`: uint32 arrays of one shape, the two words of each counter.

    **Returns:**

    The two uint32 output words, shaped like `x0`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import random

        y0, y1 = random.threefry_2x32(
            np.array([0x13198A2E, 0x03707344], np.uint32),
            np.array([0x243F6A88], np.uint32), np.array([0x85A308D3], np.uint32),
        )
        assert (int(y0[0]), int(y1[0])) == (0xC4923A9C, 0x483DF7A0)   # the published test
        ```
    """
    k0, k1 = key[0], key[1]
    schedule = (k0, k1, ew.bitwise_xor(ew.bitwise_xor(k0, k1), _KEY_PARITY))
    x0 = ew.add(x0, schedule[0])
    x1 = ew.add(x1, schedule[1])
    for group in range(5):
        for r in _ROTATIONS[group % 2]:
            x0 = ew.add(x0, x1)
            x1 = ew.bitwise_xor(_rotate_left(x1, r), x0)
        x0 = ew.add(x0, schedule[(group + 1) % 3])
        x1 = ew.add(ew.add(x1, schedule[(group + 2) % 3]), _u32(group + 1))
    return x0, x1


def _hash_indices(key: Array, shape: tuple[int, ...]) -> tuple[Array, Array]:
    """Threefry of the row-major index of every position of `shape`, each index a 64-bit
    counter split into its high and low words (JAX's partitionable layout)."""
    index = np.arange(math.prod(shape), dtype=np.uint64).reshape(shape)
    high = (index >> np.uint64(32)).astype(_U32)
    low = (index & np.uint64(0xFFFFFFFF)).astype(_U32)
    return threefry_2x32(key, high, low)


# ---- keys -----------------------------------------------------------------------------------


def _check_key(key: Any, where: str) -> Array:
    if not isinstance(key, core.Tracer):
        key = np.asarray(key)
    aval = core.get_aval(key)
    if aval.shape != (2,) or aval.dtype != _U32:
        hint = (
            " It looks like a seed: make a key with `funcdiff.random.key(seed)`."
            if aval.shape == () and aval.dtype.kind in "iu"
            else ""
        )
        if aval.ndim == 2 and aval.shape[-1] == 2 and aval.dtype == _U32:
            hint = " It looks like several keys (from `split`): pass one of them, e.g. `keys[0]`."
        raise TypeError(
            f"random.{where}: `key` must be a PRNG key, a uint32 array of shape (2,) made by "
            f"`funcdiff.random.key(seed)`; got {aval.str_short()}.{hint}"
        )
    return key


def key(seed: int | Array) -> Array:
    """A PRNG key from an integer seed: the 64-bit two's complement of the seed as two uint32
    words ``[high, low]`` (so ``key(s) == [0, s]`` for ``0 <= s < 2**32``, as JAX).

    **Arguments:**

    - `seed`: a Python int in ``[-2**63, 2**64)`` or a 0-d integer array (possibly traced).

    **Returns:**

    A uint32 array of shape ``(2,)``.

    !!! Example
        ```python
        from funcdiff import random

        k = random.key(0)
        assert k.dtype == "uint32" and list(k) == [0, 0]
        ```
    """
    if isinstance(seed, bool | np.bool_):
        raise TypeError("random.key: the seed must be an integer, not a boolean.")
    if isinstance(seed, int | np.integer):
        s = int(seed)
        if not -(2**63) <= s < 2**64:
            raise OverflowError(f"random.key: seed {s} does not fit in 64 bits.")
        s &= 2**64 - 1
        return np.array([s >> 32, s & 0xFFFFFFFF], _U32)
    aval = core.get_aval(seed)
    if aval.shape != () or aval.dtype.kind not in "iu":
        raise TypeError(
            f"random.key: the seed must be a Python int or a 0-d integer array, got "
            f"{aval.str_short()}."
        )
    if aval.dtype.kind == "i":
        seed = ew.convert_element_type(seed, np.int64)
    bits = ew.convert_element_type(seed, _U64)
    high = ew.convert_element_type(ew.shift_right(bits, np.uint64(32)), _U32)
    low = ew.convert_element_type(ew.bitwise_and(bits, np.uint64(0xFFFFFFFF)), _U32)
    return jnp.stack([high, low])


PRNGKey = key


def _shape_tuple(shape: Shape | None, where: str) -> tuple[int, ...]:
    if shape is None:
        return ()
    if isinstance(shape, int | np.integer):
        shape = (int(shape),)
    try:
        out = tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(
            f"random.{where}: `shape` must be an int or a sequence of ints, got {shape!r}."
        ) from None
    if any(d < 0 for d in out):
        raise ValueError(f"random.{where}: negative dimension in shape {out}.")
    return out


def split(key: Array, num: Shape = 2) -> Array:
    """New, independent keys derived from `key` (which should not be used again).

    **Arguments:**

    - `key`: a PRNG key.
    - `num`: the number of keys, or a shape.

    **Returns:**

    A uint32 array of shape ``(num, 2)`` (``(*num, 2)`` for a shape).

    !!! Example
        ```python
        from funcdiff import random

        key, subkey = random.split(random.key(0))
        assert key.shape == subkey.shape == (2,)
        ```
    """
    key = _check_key(key, "split")
    y0, y1 = _hash_indices(key, _shape_tuple(num, "split"))
    return jnp.stack([y0, y1], axis=-1)


def fold_in(key: Array, data: int | Array) -> Array:
    """A new key derived from `key` and an integer, e.g. a step number or a device index.

    **Arguments:**

    - `key`: a PRNG key.
    - `data`: an integer (taken modulo ``2**32``), or a 0-d integer array.

    **Returns:**

    A PRNG key.

    !!! Example
        ```python
        from funcdiff import random

        base = random.key(42)
        keys = [random.fold_in(base, step) for step in range(3)]
        assert len({tuple(int(v) for v in k) for k in keys}) == 3
        ```
    """
    key = _check_key(key, "fold_in")
    if isinstance(data, int | np.integer) and not isinstance(data, bool):
        word: Array = np.array([int(data) & 0xFFFFFFFF], _U32)
    else:
        aval = core.get_aval(data)
        if aval.shape != () or aval.dtype.kind not in "iu":
            raise TypeError(
                f"random.fold_in: `data` must be an int or a 0-d integer array, got "
                f"{aval.str_short()}."
            )
        word = jnp.reshape(ew.convert_element_type(data, _U32), (1,))
    y0, y1 = threefry_2x32(key, np.zeros(1, _U32), word)
    return jnp.concatenate([y0, y1])


def bits(key: Array, shape: Shape = (), dtype: Any = np.uint32) -> Array:
    """Uniformly distributed random bits.

    **Arguments:**

    - `key`: a PRNG key.
    - `shape`: the shape of the result.
    - `dtype`: `uint32` or `uint64`.

    **Returns:**

    An unsigned integer array of shape `shape`.

    !!! Example
        ```python
        from funcdiff import random

        b = random.bits(random.key(0), (4,))
        assert b.dtype == "uint32" and b.shape == (4,)
        ```
    """
    key = _check_key(key, "bits")
    dtype = np.dtype(dtype)
    if dtype not in (_U32, _U64):
        raise TypeError(f"random.bits: dtype must be uint32 or uint64, got {dtype}.")
    return _random_bits(key, 64 if dtype == _U64 else 32, _shape_tuple(shape, "bits"))


def _random_bits(key: Array, width: int, shape: tuple[int, ...]) -> Array:
    """One word per position: the two Threefry output words of the position's index,
    xor-ed (32 bits) or concatenated (64 bits)."""
    if math.prod(shape) == 0:
        return np.zeros(shape, _U32 if width == 32 else _U64)
    y0, y1 = _hash_indices(key, shape)
    if width == 32:
        return ew.bitwise_xor(y0, y1)
    high = ew.convert_element_type(y0, _U64)
    return ew.bitwise_or(ew.shift_left(high, np.uint64(32)), ew.convert_element_type(y1, _U64))


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
    raw = _random_bits(key, width, shape)
    word = _U64 if width == 64 else _U32
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
    key = _check_key(key, "uniform")
    dtype = _float_dtype(dtype, "uniform")
    shape = _shape_tuple(shape, "uniform")
    lo, hi = _as(minval, dtype), _as(maxval, dtype)
    out = ew.max(lo, ew.add(ew.mul(_unit_floats(key, shape, dtype), ew.sub(hi, lo)), lo))
    if core.get_aval(out).shape != shape:
        raise ValueError(
            f"random.uniform: minval and maxval (shapes {jnp.shape(lo)}, {jnp.shape(hi)}) "
            f"must broadcast to shape {shape}."
        )
    return out


_ACKLAM_A = (-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.3577518672690,
             -30.66479806614716, 2.506628277459239)
_ACKLAM_B = (-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972,
             -13.28068155288572)
_ACKLAM_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838,
             -2.549732539343734, 4.374664141464968, 2.938163982698783)
_ACKLAM_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996,
             3.754408661907416)
_ACKLAM_SPLIT = 0.02425
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
# Halley's method triples the number of correct digits: one step takes Acklam's 1.2e-9 to
# float64 precision. Float32 and float16 results need no refinement.
_HALLEY_STEPS = 1


def _horner(coefficients: Sequence[float], x: Array, last: float | None = None) -> Array:
    acc: Array = coefficients[0]
    for c in coefficients[1:]:
        acc = acc * x + c
    return acc if last is None else acc * x + last


def _normal_quantile_lower(p: Array) -> Array:
    """Acklam's rational approximation (relative error < 1.2e-9) of the standard normal
    quantile, for ``0 < p <= 0.5``."""
    t = p - 0.5
    r = t * t
    central = _horner(_ACKLAM_A, r) * t / _horner(_ACKLAM_B, r, 1.0)
    s = jnp.sqrt(-2.0 * jnp.log(p))
    tail = _horner(_ACKLAM_C, s) / _horner(_ACKLAM_D, s, 1.0)
    return jnp.where(p < _ACKLAM_SPLIT, tail, central)


def erf_inv(x: Array) -> Array:
    """The inverse error function, within a few ulps (float64) or one ulp (float32).

    Acklam's normal-quantile approximation (``erfinv(a) = -Phi^-1((1 - a) / 2) / sqrt(2)``,
    relative error below 1.2e-9) is computed in float64; for float64 it is refined by a step
    of Halley's method on ``erf(y) = a`` (on ``erfc(y) = 1 - a`` in the tails, where that is
    exact). The result has the dtype of `x` (float64 for integers); ``erf_inv(±1) = ±inf``
    and ``nan`` outside ``[-1, 1]``.

    **Arguments:**

    - `x`: a floating array.

    **Returns:**

    An array like `x`.

    !!! Example
        ```python
        import math
        from funcdiff import random

        assert abs(math.erf(random.erf_inv(0.5)) - 0.5) < 1e-15
        ```
    """
    x = jnp.asarray(x)
    dtype = core.get_aval(x).dtype
    if dtype.kind != "f":
        dtype = np.dtype(np.float64)
    x64 = ew.convert_element_type(x, np.float64)
    a = jnp.abs(x64)
    q = 1.0 - a  # exact for a >= 0.5
    interior = q > 0
    q_safe = jnp.where(interior, q, 0.5)
    a_safe = jnp.where(interior, a, 0.5)
    y = -_normal_quantile_lower(0.5 * q_safe) * (1.0 / math.sqrt(2.0))
    in_tail = a_safe >= 0.5
    for _ in range(_HALLEY_STEPS if dtype == np.float64 else 0):
        residual = jnp.where(in_tail, q_safe - ew.erfc(y), ew.erf(y) - a_safe)
        step = residual / (_TWO_OVER_SQRT_PI * jnp.exp(-y * y))
        y = y - step / (1.0 + y * step)
    y = jnp.where(interior, y, jnp.where(q == 0, np.inf, np.nan))
    return ew.convert_element_type(jnp.copysign(y, x64), dtype)


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
    key = _check_key(key, "normal")
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
    key = _check_key(key, "truncated_normal")
    dtype = _float_dtype(dtype, "truncated_normal")
    lo, hi = _as(lower, dtype), _as(upper, dtype)
    if shape is None:
        shape = np.broadcast_shapes(core.get_aval(lo).shape, core.get_aval(hi).shape)
    root2 = np.array(math.sqrt(2.0), dtype)
    u = uniform(key, shape, dtype, ew.erf(ew.div(lo, root2)), ew.erf(ew.div(hi, root2)))
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
    key = _check_key(key, "gumbel")
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
    key = _check_key(key, "bernoulli")
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
    key = _check_key(key, "categorical")
    logits = jnp.asarray(logits)
    aval = core.get_aval(logits)
    if aval.dtype.kind != "f":
        logits = ew.convert_element_type(logits, np.float64)
        aval = core.get_aval(logits)
    if aval.ndim == 0:
        raise ValueError("random.categorical: logits must have at least one dimension.")
    axis = axis % aval.ndim
    batch = aval.shape[:axis] + aval.shape[axis + 1 :]
    shape = batch if shape is None else _shape_tuple(shape, "categorical")
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
    key = _check_key(key, "randint")
    dtype = np.dtype(dtype)
    if dtype.kind not in "iu":
        raise TypeError(f"random.randint: dtype must be an integer dtype, got {dtype}.")
    shape = _shape_tuple(shape, "randint")
    info = np.iinfo(dtype)
    if _is_int(minval) and _is_int(maxval):
        # Static bounds: clip to the dtype, with `maxval` up to ``max + 1`` (so the whole range
        # of the dtype can be drawn), and reduce modulo the span computed exactly.
        lo_int = min(max(int(minval), info.min), info.max)
        hi_int = min(max(int(maxval), info.min), info.max + 1)
        span_int = max(hi_int - lo_int, 1)
        words = _random_bits(key, 64, shape)
        offset = words if span_int == 2**64 else ew.rem(words, np.uint64(span_int))
        start: Array = np.uint64(lo_int % 2**64)
    else:
        lo, hi = _as(minval, dtype), _as(maxval, dtype)
        start = ew.convert_element_type(lo, _U64)
        span = ew.sub(ew.convert_element_type(hi, _U64), start)
        span = jnp.where(jnp.less_equal(hi, lo), np.uint64(1), span)
        offset = ew.rem(_random_bits(key, 64, shape), span)
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
    key = _check_key(key, "permutation")
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
        order = lax_sorting.argsort(_random_bits(key, 64, aval.shape), axis)
        return jnp.take_along_axis(x, order, axis)
    order = lax_sorting.argsort(_random_bits(key, 64, (aval.shape[axis],)))
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
    key = _check_key(key, "choice")
    shape = _shape_tuple(shape, "choice")
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
    if aval.ndim == 0 or aval.shape[-1] != 2 or aval.dtype != _U32:
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
    key = _check_key(key, "exponential")
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
    key = _check_key(key, "laplace")
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
    key = _check_key(key, "logistic")
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
    key = _check_key(key, "cauchy")
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
    key = _check_key(key, "rademacher")
    b = bernoulli(key, 0.5, shape).astype(dtype)
    return 2 * b - 1


def _param_shape(param: Array, shape: Shape | None, where: str) -> tuple[int, ...]:
    return jnp.shape(param) if shape is None else _shape_tuple(shape, where)


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
    key = _check_key(key, "rayleigh")
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
    key = _check_key(key, "maxwell")
    dtype = _float_dtype(dtype, "maxwell")
    z = normal(key, (*_shape_tuple(shape, "maxwell"), 3), dtype)
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
    key = _check_key(key, "lognormal")
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
    key = _check_key(key, "pareto")
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
    key = _check_key(key, "weibull_min")
    dtype = _float_dtype(dtype, "weibull_min")
    u = uniform(key, shape, dtype)
    e = jnp.negative(jnp.log1p(jnp.negative(u)))
    return jnp.power(e, 1 / _as(concentration, dtype)) * _as(scale, dtype)
