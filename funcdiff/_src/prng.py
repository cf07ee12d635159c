"""Keys and random bits of `funcdiff.random`: the Threefry-2x32 block cipher, key derivation
(`key`, `split`, `fold_in`) and raw bits (`bits`), with JAX's counter layout (see
`random.py`, whose samplers turn these bits into numbers).
"""

from __future__ import annotations

import enum
import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src import core
from funcdiff._src.lax import elementwise as ew

Array = Any
Shape = int | Sequence[int]

# ---- Threefry-2x32 --------------------------------------------------------------------------

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_KEY_PARITY = np.uint32(0x1BD11BDA)
U32 = np.dtype(np.uint32)
U64 = np.dtype(np.uint64)


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
    high = (index >> np.uint64(32)).astype(U32)
    low = (index & np.uint64(0xFFFFFFFF)).astype(U32)
    return threefry_2x32(key, high, low)


# ---- keys -----------------------------------------------------------------------------------


def check_key(key: Any, where: str) -> Array:
    if not isinstance(key, core.Tracer):
        key = np.asarray(key)
    aval = core.get_aval(key)
    if aval.shape != (2,) or aval.dtype != U32:
        hint = (
            " It looks like a seed: make a key with `funcdiff.random.key(seed)`."
            if aval.shape == () and aval.dtype.kind in "iu"
            else ""
        )
        if aval.ndim == 2 and aval.shape[-1] == 2 and aval.dtype == U32:
            hint = " It looks like several keys (from `split`): pass one of them, e.g. `keys[0]`."
        raise TypeError(
            f"random.{where}: `key` must be a PRNG key, a uint32 array of shape (2,) made by "
            f"`funcdiff.random.key(seed)`; got {aval.str_short()}.{hint}"
        )
    return key


def key(seed: int | Array) -> Array:
    """A PRNG key from an integer seed: the 64-bit two's complement of the seed as two uint32
    words ``[high, low]`` (so ``key(s) == [0, s]`` for ``0 <= s < 2**32``, as JAX). A seed of
    a type of 32 bits or fewer gives ``[0, seed mod 2**32]``, as in JAX.

    **Arguments:**

    - `seed`: a Python int in ``[-2**63, 2**63)`` (an int64; out of that range, an
      `OverflowError`, as in JAX) or a 0-d integer array (possibly traced).

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
    if isinstance(seed, np.integer) and seed.dtype.itemsize <= 4:
        return np.array([0, int(seed) & 0xFFFFFFFF], U32)
    if isinstance(seed, int | np.integer):
        s = int(seed)
        # A Python int is an int64, as in JAX (2**63 and -2**63 would give one key); a
        # NumPy uint64 may use all 64 bits.
        top = 2**64 if isinstance(seed, np.integer) else 2**63
        if not -(2**63) <= s < top:
            raise OverflowError(
                f"random.key: seed {s} is out of range: a Python int seed must be in "
                f"[-2**63, 2**63) (an int64, as in JAX); a NumPy uint64 may be up to 2**64 - 1."
            )
        s &= 2**64 - 1
        return np.array([s >> 32, s & 0xFFFFFFFF], U32)
    aval = core.get_aval(seed)
    if aval.shape != () or aval.dtype.kind not in "iu":
        raise TypeError(
            f"random.key: the seed must be a Python int or a 0-d integer array, got "
            f"{aval.str_short()}."
        )
    if aval.dtype.itemsize <= 4:
        low = ew.convert_element_type(seed, U32)
        return jnp.stack([ew.mul(low, np.uint32(0)), low])
    if aval.dtype.kind == "i":
        seed = ew.convert_element_type(seed, np.int64)
    bits = ew.convert_element_type(seed, U64)
    high = ew.convert_element_type(ew.shift_right(bits, np.uint64(32)), U32)
    low = ew.convert_element_type(ew.bitwise_and(bits, np.uint64(0xFFFFFFFF)), U32)
    return jnp.stack([high, low])


PRNGKey = key


def shape_tuple(shape: Shape | None, where: str) -> tuple[int, ...]:
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
    key = check_key(key, "split")
    y0, y1 = _hash_indices(key, shape_tuple(num, "split"))
    return jnp.stack([y0, y1], axis=-1)


def fold_in(key: Array, data: int | Array) -> Array:
    """A new key derived from `key` and an integer, e.g. a step number or a device index.

    **Arguments:**

    - `key`: a PRNG key.
    - `data`: a Python int in ``[0, 2**32)`` (another raises `OverflowError`, as in JAX,
      rather than give the key of a smaller number), or a 0-d integer array (taken modulo
      ``2**32``).

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
    key = check_key(key, "fold_in")
    if isinstance(data, int | np.integer) and not isinstance(data, bool):
        if isinstance(data, int) and not 0 <= data <= 0xFFFFFFFF:
            raise OverflowError(f"random.fold_in: Python integer {data} out of bounds for "
                                "uint32 (wrapping it would give the key of another number)")
        word: Array = np.array([int(data) & 0xFFFFFFFF], U32)
    else:
        aval = core.get_aval(data)
        if aval.shape != () or aval.dtype.kind not in "iu":
            raise TypeError(
                f"random.fold_in: `data` must be an int or a 0-d integer array, got "
                f"{aval.str_short()}."
            )
        word = jnp.reshape(ew.convert_element_type(data, U32), (1,))
    y0, y1 = threefry_2x32(key, np.zeros(1, U32), word)
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
    key = check_key(key, "bits")
    dtype = np.dtype(dtype)
    if dtype not in (U32, U64):
        raise TypeError(f"random.bits: dtype must be uint32 or uint64, got {dtype}.")
    return random_bits(key, 64 if dtype == U64 else 32, shape_tuple(shape, "bits"))


def random_bits(key: Array, width: int, shape: tuple[int, ...]) -> Array:
    """One word per position: the two Threefry output words of the position's index,
    xor-ed (32 bits) or concatenated (64 bits)."""
    if math.prod(shape) == 0:
        return np.zeros(shape, U32 if width == 32 else U64)
    if shape == ():
        # Hashed as one element of a 1-d array: jit's code for 0-d uint32 arithmetic makes
        # NumPy scalars, which warn on the wrap-around the cipher relies on.
        return jnp.reshape(random_bits(key, width, (1,)), ())
    y0, y1 = _hash_indices(key, shape)
    if width == 32:
        return ew.bitwise_xor(y0, y1)
    high = ew.convert_element_type(y0, U64)
    return ew.bitwise_or(ew.shift_left(high, np.uint64(32)), ew.convert_element_type(y1, U64))


# ---- lax.rng_bit_generator ------------------------------------------------------------------


class RandomAlgorithm(enum.IntEnum):
    """The algorithms `funcdiff.lax.rng_bit_generator` accepts (JAX's names and values)."""

    RNG_DEFAULT = 0
    RNG_THREE_FRY = 1
    RNG_PHILOX = 2


_RNG_DTYPES = tuple(np.dtype(d) for d in (np.uint8, np.uint16, np.uint32, np.uint64))


def rng_bit_generator(
    key: Array,
    shape: Shape,
    dtype: Any = np.uint32,
    algorithm: RandomAlgorithm | int = RandomAlgorithm.RNG_DEFAULT,
    *,
    out_sharding: Any = None,
) -> tuple[Array, Array]:
    """Random bits from a raw uint32 state of shape ``(4,)``, as JAX's
    `lax.rng_bit_generator`: returns ``(new_key, bits)``, `bits` of `shape` and the
    unsigned `dtype` (uint8, uint16, uint32 or uint64), and the state to pass to the next
    call. Deterministic in `key`, and jittable, batchable (over keys) and free of derivative.

    The bits are funcdiff's own: the state's last two words are hashed with Threefry-2x32
    under its first two into a key for `funcdiff.random.bits`, whatever the `algorithm`
    (JAX documents this function's bits as backend-specific; XLA's differ), and `new_key`
    is `key` with its 64-bit counter (words 2 and 3) advanced by one. Prefer
    `funcdiff.random` for a stable stream.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        state = np.array([0, 42, 0, 0], np.uint32)
        state, bits = lax.rng_bit_generator(state, (2, 3))
        print(state, bits.dtype, bits.shape)
        ```
    """
    del out_sharding
    if not isinstance(key, core.Tracer):
        key = np.asarray(key)
    aval = core.get_aval(key)
    if aval.shape != (4,) or aval.dtype != U32:
        raise TypeError(
            f"lax.rng_bit_generator: `key` must be a uint32 array of shape (4,), got "
            f"{aval.str_short()} (a `funcdiff.random` key has shape (2,): use "
            "funcdiff.random.bits for it)"
        )
    dtype = np.dtype(dtype)
    if dtype not in _RNG_DTYPES:
        raise TypeError(
            f"lax.rng_bit_generator: dtype must be uint8, uint16, uint32 or uint64, got {dtype}"
        )
    RandomAlgorithm(int(algorithm))  # a ValueError for an unknown algorithm
    shape = shape_tuple(shape, "rng_bit_generator")
    y0, y1 = threefry_2x32(key[:2], key[2:3], key[3:4])
    words = random_bits(jnp.concatenate([y0, y1]), 64 if dtype == U64 else 32, shape)
    bits_ = words if dtype in (U32, U64) else ew.convert_element_type(words, dtype)
    low = ew.add(key[2:3], np.ones(1, U32))
    carry = ew.convert_element_type(ew.eq(low, np.zeros(1, U32)), U32)
    new_key = jnp.concatenate([key[:2], low, ew.add(key[3:4], carry)])
    return new_key, bits_
