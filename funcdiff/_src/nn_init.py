"""Weight initialisers with the names and conventions of `jax.nn.initializers`.

An initializer is a function ``init(key, shape, dtype=None) -> array``; the factories
(`glorot_uniform()`, `he_normal()`, ...) return one. The variance-scaling family sets the
variance of the weights to ``scale / fan``, where the fans are computed from `shape` with the
input dimension at `in_axis` (default -2) and the output dimension at `out_axis` (default -1),
as for a ``(fan_in, fan_out)`` dense kernel; the other dimensions form the receptive field.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal, Protocol

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src import random

Array = Any
DTypeLike = Any


class Initializer(Protocol):
    """``init(key, shape, dtype=None) -> array``."""

    def __call__(
        self, key: Array, shape: Sequence[int], dtype: DTypeLike | None = None
    ) -> Array: ...


def _shape(shape: int | Sequence[int]) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, int | np.integer) else tuple(int(d) for d in shape)


def _float(dtype: DTypeLike | None) -> np.dtype:
    return np.dtype(np.float64 if dtype is None else dtype)


def zeros(key: Array, shape: int | Sequence[int], dtype: DTypeLike | None = None) -> Array:
    """An initializer that returns zeros (the key is ignored).

    **Arguments:**

    - `key`: a PRNG key (unused).
    - `shape`: the shape of the result.
    - `dtype`: the dtype (default float64).

    **Returns:**

    An array of zeros.

    !!! Example
        ```python
        from funcdiff import nn, random

        b = nn.initializers.zeros(random.key(0), (3,))
        assert b.tolist() == [0.0, 0.0, 0.0]
        ```
    """
    del key
    return np.zeros(_shape(shape), _float(dtype))


def ones(key: Array, shape: int | Sequence[int], dtype: DTypeLike | None = None) -> Array:
    """An initializer that returns ones (the key is ignored).

    **Arguments:**

    - `key`: a PRNG key (unused).
    - `shape`: the shape of the result.
    - `dtype`: the dtype (default float64).

    **Returns:**

    An array of ones.

    !!! Example
        ```python
        from funcdiff import nn, random

        assert nn.initializers.ones(random.key(0), (2,)).tolist() == [1.0, 1.0]
        ```
    """
    del key
    return np.ones(_shape(shape), _float(dtype))


def constant(value: Any, dtype: DTypeLike | None = None) -> Initializer:
    """An initializer that fills the array with `value`.

    **Arguments:**

    - `value`: the fill value.
    - `dtype`: the default dtype.

    **Returns:**

    An initializer.

    !!! Example
        ```python
        from funcdiff import nn, random

        init = nn.initializers.constant(0.1)
        assert init(random.key(0), (2,)).tolist() == [0.1, 0.1]
        ```
    """

    def init(key: Array, shape: Sequence[int], dtype: DTypeLike | None = dtype) -> Array:
        del key
        return jnp.full(_shape(shape), value, _float(dtype))

    return init


def uniform(scale: float = 1e-2, dtype: DTypeLike | None = None) -> Initializer:
    """An initializer drawing uniformly from ``[0, scale)``.

    **Arguments:**

    - `scale`: the upper bound.
    - `dtype`: the default dtype.

    **Returns:**

    An initializer.

    !!! Example
        ```python
        from funcdiff import nn, random

        w = nn.initializers.uniform(0.5)(random.key(0), (100,))
        assert 0.0 <= w.min() and w.max() < 0.5
        ```
    """

    def init(key: Array, shape: Sequence[int], dtype: DTypeLike | None = dtype) -> Array:
        dt = _float(dtype)
        return jnp.multiply(random.uniform(key, _shape(shape), dt), np.asarray(scale, dt))

    return init


def normal(stddev: float = 1e-2, dtype: DTypeLike | None = None) -> Initializer:
    """An initializer drawing from a normal distribution with mean 0 and `stddev`.

    **Arguments:**

    - `stddev`: the standard deviation.
    - `dtype`: the default dtype.

    **Returns:**

    An initializer.

    !!! Example
        ```python
        from funcdiff import nn, random

        w = nn.initializers.normal(2.0)(random.key(0), (10_000,))
        assert abs(w.std() - 2.0) < 0.1
        ```
    """

    def init(key: Array, shape: Sequence[int], dtype: DTypeLike | None = dtype) -> Array:
        dt = _float(dtype)
        return jnp.multiply(random.normal(key, _shape(shape), dt), np.asarray(stddev, dt))

    return init


def truncated_normal(
    stddev: float = 1e-2, dtype: DTypeLike | None = None, lower: float = -2.0, upper: float = 2.0
) -> Initializer:
    """An initializer drawing ``stddev * z`` with `z` a standard normal truncated to
    ``[lower, upper]`` (so the actual standard deviation is smaller than `stddev`).

    **Arguments:**

    - `stddev`: the scale.
    - `dtype`: the default dtype.
    - `lower`, `upper`: the truncation bounds, in units of `stddev`.

    **Returns:**

    An initializer.

    !!! Example
        ```python
        from funcdiff import nn, random

        w = nn.initializers.truncated_normal(1.0)(random.key(0), (1000,))
        assert w.min() >= -2.0 and w.max() <= 2.0
        ```
    """

    def init(key: Array, shape: Sequence[int], dtype: DTypeLike | None = dtype) -> Array:
        dt = _float(dtype)
        z = random.truncated_normal(key, lower, upper, _shape(shape), dt)
        return jnp.multiply(z, np.asarray(stddev, dt))

    return init


def _axes_size(shape: tuple[int, ...], axes: int | Sequence[int]) -> int:
    if isinstance(axes, int):
        return shape[axes]
    return math.prod(shape[a] for a in axes)


def compute_fans(
    shape: Sequence[int],
    in_axis: int | Sequence[int] = -2,
    out_axis: int | Sequence[int] = -1,
    batch_axis: int | Sequence[int] = (),
) -> tuple[float, float]:
    """``(fan_in, fan_out)`` of a weight of the given shape: the input and output sizes
    times the receptive field (the product of the remaining, non-batch dimensions).

    **Arguments:**

    - `shape`: the weight's shape (at least 2-D unless `in_axis` is given).
    - `in_axis`, `out_axis`: the input and output dimension(s).
    - `batch_axis`: dimension(s) excluded from both fans.

    **Returns:**

    The two fans, as floats.

    !!! Example
        ```python
        from funcdiff import nn

        # a 3x3 convolution from 16 to 32 channels, HWIO layout
        assert nn.initializers.compute_fans((3, 3, 16, 32)) == (144.0, 288.0)
        ```
    """
    shape = _shape(shape)
    if isinstance(in_axis, int) and in_axis == -2 and len(shape) < 2:
        raise ValueError(
            f"Cannot compute the fans of a {len(shape)}-D weight with the default in_axis=-2: "
            "initialise biases with `zeros`, or give in_axis and out_axis explicitly."
        )
    in_size = _axes_size(shape, in_axis)
    out_size = _axes_size(shape, out_axis)
    batch_size = _axes_size(shape, batch_axis)
    receptive_field = math.prod(shape) / in_size / out_size / batch_size
    return in_size * receptive_field, out_size * receptive_field


def _truncated_std(bound: float) -> float:
    """Standard deviation of a standard normal truncated to ``[-bound, bound]``."""
    mass = math.erf(bound / math.sqrt(2.0))
    density = math.exp(-0.5 * bound * bound) / math.sqrt(2.0 * math.pi)
    return math.sqrt(1.0 - 2.0 * bound * density / mass)


_STD_OF_NORMAL_TRUNCATED_AT_2 = _truncated_std(2.0)


def variance_scaling(
    scale: float,
    mode: Literal["fan_in", "fan_out", "fan_avg", "fan_geo_avg"],
    distribution: Literal["truncated_normal", "normal", "uniform"],
    in_axis: int | Sequence[int] = -2,
    out_axis: int | Sequence[int] = -1,
    batch_axis: int | Sequence[int] = (),
    dtype: DTypeLike | None = None,
) -> Initializer:
    """An initializer whose samples have variance ``scale / n``, with `n` chosen by `mode`
    (``fan_in``, ``fan_out``, their mean ``fan_avg`` or geometric mean ``fan_geo_avg``).

    `distribution` is ``"truncated_normal"`` (a normal truncated at two standard deviations,
    rescaled to the target variance), ``"normal"`` or ``"uniform"`` (on
    ``[-sqrt(3 scale / n), sqrt(3 scale / n))``).

    **Arguments:**

    - `scale`: the variance numerator.
    - `mode`: how the fans give `n`.
    - `distribution`: the distribution of the samples.
    - `in_axis`, `out_axis`, `batch_axis`: as in `compute_fans`.
    - `dtype`: the default dtype.

    **Returns:**

    An initializer.

    !!! Example
        ```python
        from funcdiff import nn, random

        init = nn.initializers.variance_scaling(2.0, "fan_in", "normal")
        w = init(random.key(0), (500, 200))
        assert abs(w.var() - 2.0 / 500) < 2e-4
        ```
    """
    if mode not in ("fan_in", "fan_out", "fan_avg", "fan_geo_avg"):
        raise ValueError(
            f"variance_scaling: invalid mode {mode!r}; use 'fan_in', 'fan_out', 'fan_avg' or "
            "'fan_geo_avg'."
        )
    if distribution not in ("truncated_normal", "normal", "uniform"):
        raise ValueError(
            f"variance_scaling: invalid distribution {distribution!r}; use 'truncated_normal', "
            "'normal' or 'uniform'."
        )

    def init(key: Array, shape: Sequence[int], dtype: DTypeLike | None = dtype) -> Array:
        shape = _shape(shape)
        dt = _float(dtype)
        fan_in, fan_out = compute_fans(shape, in_axis, out_axis, batch_axis)
        n = {
            "fan_in": fan_in,
            "fan_out": fan_out,
            "fan_avg": (fan_in + fan_out) / 2,
            "fan_geo_avg": math.sqrt(fan_in * fan_out),
        }[mode]
        std = math.sqrt(scale / n)
        if distribution == "truncated_normal":
            z = random.truncated_normal(key, -2.0, 2.0, shape, dt)
            return jnp.multiply(z, np.asarray(std / _STD_OF_NORMAL_TRUNCATED_AT_2, dt))
        if distribution == "normal":
            return jnp.multiply(random.normal(key, shape, dt), np.asarray(std, dt))
        u = random.uniform(key, shape, dt, -1.0, 1.0)
        return jnp.multiply(u, np.asarray(math.sqrt(3.0) * std, dt))

    return init


def glorot_uniform(
    in_axis: int | Sequence[int] = -2,
    out_axis: int | Sequence[int] = -1,
    batch_axis: int | Sequence[int] = (),
    dtype: DTypeLike | None = None,
) -> Initializer:
    """Glorot (Xavier) uniform: `variance_scaling(1.0, "fan_avg", "uniform")`.

    **Arguments:**

    - `in_axis`, `out_axis`, `batch_axis`: as in `compute_fans`.
    - `dtype`: the default dtype.

    **Returns:**

    An initializer.

    !!! Example
        ```python
        import math
        from funcdiff import nn, random

        w = nn.initializers.glorot_uniform()(random.key(0), (300, 100))
        assert abs(w).max() < math.sqrt(6 / 400)
        ```
    """
    return variance_scaling(1.0, "fan_avg", "uniform", in_axis, out_axis, batch_axis, dtype)


def glorot_normal(
    in_axis: int | Sequence[int] = -2,
    out_axis: int | Sequence[int] = -1,
    batch_axis: int | Sequence[int] = (),
    dtype: DTypeLike | None = None,
) -> Initializer:
    """Glorot (Xavier) normal: `variance_scaling(1.0, "fan_avg", "truncated_normal")`.

    **Arguments:**

    - `in_axis`, `out_axis`, `batch_axis`: as in `compute_fans`.
    - `dtype`: the default dtype.

    **Returns:**

    An initializer.

    !!! Example
        ```python
        from funcdiff import nn, random

        w = nn.initializers.glorot_normal()(random.key(0), (300, 100))
        assert abs(w.var() - 1 / 200) < 5e-4
        ```
    """
    return variance_scaling(
        1.0, "fan_avg", "truncated_normal", in_axis, out_axis, batch_axis, dtype
    )


def lecun_uniform(
    in_axis: int | Sequence[int] = -2,
    out_axis: int | Sequence[int] = -1,
    batch_axis: int | Sequence[int] = (),
    dtype: DTypeLike | None = None,
) -> Initializer:
    """LeCun uniform: `variance_scaling(1.0, "fan_in", "uniform")`.

    **Arguments:**

    - `in_axis`, `out_axis`, `batch_axis`: as in `compute_fans`.
    - `dtype`: the default dtype.

    **Returns:**

    An initializer.

    !!! Example
        ```python
        import math
        from funcdiff import nn, random

        w = nn.initializers.lecun_uniform()(random.key(0), (300, 100))
        assert abs(w).max() < math.sqrt(3 / 300)
        ```
    """
    return variance_scaling(1.0, "fan_in", "uniform", in_axis, out_axis, batch_axis, dtype)


def lecun_normal(
    in_axis: int | Sequence[int] = -2,
    out_axis: int | Sequence[int] = -1,
    batch_axis: int | Sequence[int] = (),
    dtype: DTypeLike | None = None,
) -> Initializer:
    """LeCun normal: `variance_scaling(1.0, "fan_in", "truncated_normal")`.

    **Arguments:**

    - `in_axis`, `out_axis`, `batch_axis`: as in `compute_fans`.
    - `dtype`: the default dtype.

    **Returns:**

    An initializer.

    !!! Example
        ```python
        from funcdiff import nn, random

        w = nn.initializers.lecun_normal()(random.key(0), (300, 100))
        assert abs(w.var() - 1 / 300) < 3e-4
        ```
    """
    return variance_scaling(1.0, "fan_in", "truncated_normal", in_axis, out_axis, batch_axis, dtype)


def he_uniform(
    in_axis: int | Sequence[int] = -2,
    out_axis: int | Sequence[int] = -1,
    batch_axis: int | Sequence[int] = (),
    dtype: DTypeLike | None = None,
) -> Initializer:
    """He (Kaiming) uniform, for ReLU networks: `variance_scaling(2.0, "fan_in", "uniform")`.

    **Arguments:**

    - `in_axis`, `out_axis`, `batch_axis`: as in `compute_fans`.
    - `dtype`: the default dtype.

    **Returns:**

    An initializer.

    !!! Example
        ```python
        import math
        from funcdiff import nn, random

        w = nn.initializers.he_uniform()(random.key(0), (300, 100))
        assert abs(w).max() < math.sqrt(6 / 300)
        ```
    """
    return variance_scaling(2.0, "fan_in", "uniform", in_axis, out_axis, batch_axis, dtype)


def he_normal(
    in_axis: int | Sequence[int] = -2,
    out_axis: int | Sequence[int] = -1,
    batch_axis: int | Sequence[int] = (),
    dtype: DTypeLike | None = None,
) -> Initializer:
    """He (Kaiming) normal, for ReLU networks:
    `variance_scaling(2.0, "fan_in", "truncated_normal")`.

    **Arguments:**

    - `in_axis`, `out_axis`, `batch_axis`: as in `compute_fans`.
    - `dtype`: the default dtype.

    **Returns:**

    An initializer.

    !!! Example
        ```python
        from funcdiff import nn, random

        w = nn.initializers.he_normal()(random.key(0), (300, 100))
        assert abs(w.var() - 2 / 300) < 6e-4
        ```
    """
    return variance_scaling(2.0, "fan_in", "truncated_normal", in_axis, out_axis, batch_axis, dtype)


xavier_uniform = glorot_uniform
xavier_normal = glorot_normal
kaiming_uniform = he_uniform
kaiming_normal = he_normal


def _orthonormalize(a: Array) -> Array:
    """Orthonormal columns spanning those of the tall matrix `a`, by Gram-Schmidt with
    re-orthogonalisation ("twice is enough"). The implied triangular factor has a positive
    diagonal, so this is the Q of a QR decomposition normalised to make R's diagonal
    positive."""
    columns: list[Array] = []
    basis = None
    for j in range(jnp.shape(a)[1]):
        v = a[:, j]
        for _ in range(2):
            if basis is not None:
                v = v - jnp.matmul(basis, jnp.matmul(v, basis))
        v = v / jnp.sqrt(jnp.sum(v * v))
        columns.append(v)
        basis = jnp.stack(columns, axis=1)
    return basis


def orthogonal(
    scale: float = 1.0, column_axis: int = -1, dtype: DTypeLike | None = None
) -> Initializer:
    """An initializer of (semi-)orthogonal matrices, uniformly distributed (Haar measure):
    the Q factor of a Gaussian matrix, normalised so that R has a positive diagonal.

    The weight is viewed as a matrix with ``shape[column_axis]`` columns; its rows or its
    columns (whichever are fewer) are orthonormal, times `scale`.

    **Arguments:**

    - `scale`: a multiplier.
    - `column_axis`: the dimension of the columns.
    - `dtype`: the default dtype.

    **Returns:**

    An initializer (for shapes of at least two dimensions).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import nn, random

        w = nn.initializers.orthogonal()(random.key(0), (5, 3))
        assert np.allclose(w.T @ w, np.eye(3))
        ```
    """

    def init(key: Array, shape: Sequence[int], dtype: DTypeLike | None = dtype) -> Array:
        shape = _shape(shape)
        dt = _float(dtype)
        if len(shape) < 2:
            raise ValueError(
                f"orthogonal: needs a shape of at least 2 dimensions, got {shape}."
            )
        if 0 in shape:
            return np.zeros(shape, dt)
        n_cols = shape[column_axis]
        n_rows = math.prod(shape) // n_cols
        tall = (max(n_rows, n_cols), min(n_rows, n_cols))
        q = _orthonormalize(random.normal(key, tall, np.float64))
        if n_rows < n_cols:
            q = jnp.transpose(q)
        rest = tuple(d for i, d in enumerate(shape) if i != column_axis % len(shape))
        q = jnp.moveaxis(jnp.reshape(q, (*rest, n_cols)), -1, column_axis)
        return jnp.astype(jnp.multiply(q, scale), dt)

    return init
