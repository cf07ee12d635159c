"""`funcdiff.scipy.ndimage.map_coordinates`: nearest-neighbour and linear interpolation of an
array at given coordinates, as JAX's version of `scipy.ndimage.map_coordinates`.

Each output point is a weighted sum of the input at the ``2**ndim`` (linear) or one (nearest)
integer neighbours of its coordinates, read with NumPy indexing (a gather), so the result is
differentiable in the input and, for ``order=1``, in the coordinates.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src import dtypes
from funcdiff._src.numpy._util import Array, ArrayLike, aval


def _mirror(index: Array, size: int) -> Array:
    """Reflection about the end samples (..., 2, 1, 0, 1, 2, ..., n-1, n-2, ...)."""
    if size == 1:
        return jnp.zeros_like(index)
    period = 2 * (size - 1)
    return (size - 1) - jnp.abs(jnp.mod(index, period) - (size - 1))


def _reflect(index: Array, size: int) -> Array:
    """Reflection about the edges (..., 1, 0, 0, 1, ..., n-1, n-1, n-2, ...)."""
    folded = jnp.mod(index, 2 * size)
    return jnp.where(folded < size, folded, 2 * size - 1 - folded)


_INDEX_FIXERS: dict[str, Callable[[Array, int], Array]] = {
    "constant": lambda index, size: jnp.clip(index, 0, size - 1),
    "nearest": lambda index, size: jnp.clip(index, 0, size - 1),
    "wrap": lambda index, size: jnp.mod(index, size),
    "mirror": _mirror,
    "reflect": _reflect,
}


def _round_half_away(x: Array) -> Array:
    return jnp.sign(x) * jnp.floor(jnp.abs(x) + 0.5)


def _neighbours(coordinate: Array, order: int) -> list[tuple[Array, Any]]:
    """The integer positions a coordinate reads and their weights."""
    if order == 0:
        # Halves round away from zero, as in JAX (SciPy rounds -0.5 up to 0).
        return [(_round_half_away(coordinate).astype(np.int64), None)]
    lower = jnp.floor(coordinate)
    upper_weight = coordinate - lower
    index = lower.astype(np.int64)
    return [(index, 1 - upper_weight), (index + 1, upper_weight)]


def _check(image: Array, coordinates: Sequence[Array], order: Any, mode: Any) -> None:
    if order not in (0, 1):
        raise NotImplementedError(f"map_coordinates: order must be 0 or 1 (nearest or linear "
                                  f"interpolation), got {order!r}")
    if mode not in _INDEX_FIXERS:
        raise NotImplementedError(f"map_coordinates: mode must be one of "
                                  f"{sorted(_INDEX_FIXERS)}, got {mode!r}")
    if aval(image).ndim == 0:
        raise ValueError("map_coordinates: input must have at least one dimension")
    if len(coordinates) != aval(image).ndim:
        raise ValueError(f"map_coordinates: coordinates must hold one array per dimension of "
                         f"input ({aval(image).ndim}), got {len(coordinates)}")
    for c in coordinates:
        if dtypes.is_complex(aval(c).dtype):
            raise TypeError("map_coordinates: coordinates must be real, got "
                            f"{aval(c).dtype}")


def map_coordinates(input: ArrayLike, coordinates: Sequence[ArrayLike], order: int,  # noqa: A002
                    mode: str = "constant", cval: ArrayLike = 0.0) -> Array:
    """`input` interpolated at `coordinates` (a sequence of ``input.ndim`` arrays of one
    shape, the result's), as `jax.scipy.ndimage.map_coordinates`.

    `order` is 0 (nearest sample, halves rounded away from zero) or 1 (linear). `mode`
    extends the input past its edges: ``"constant"`` (a neighbour outside reads `cval`),
    ``"nearest"`` (the edge repeats), ``"wrap"`` (periodic, SciPy's ``"grid-wrap"``),
    ``"mirror"`` (reflected about the end samples) or ``"reflect"`` (reflected about the
    edges). As in JAX, ``"constant"`` is SciPy's ``"grid-constant"``. An integer input gives
    rounded integers.

    !!! Example
        ```python
        import funcdiff.numpy as jnp
        from funcdiff.scipy.ndimage import map_coordinates

        image = jnp.arange(12.0).reshape(3, 4)
        print(map_coordinates(image, [jnp.array([0.5, 2.0]), jnp.array([1.5, 3.5])], order=1))
        ```
    """
    image = jnp.asarray(input)
    coordinates = [jnp.asarray(c) for c in coordinates]
    _check(image, coordinates, order, mode)
    coordinates = list(jnp.broadcast_arrays(*coordinates))
    real = (dtypes.real_dtype(aval(image).dtype) if dtypes.is_inexact(aval(image).dtype)
            else np.dtype(np.float64))
    coordinates = [c if dtypes.is_inexact(aval(c).dtype) else c.astype(real)
                   for c in coordinates]
    fixer = _INDEX_FIXERS[mode]
    per_axis = []
    for c, size in zip(coordinates, aval(image).shape):
        nodes = []
        for index, weight in _neighbours(c, order):
            inside = ((index >= 0) & (index < size)) if mode == "constant" else None
            nodes.append((fixer(index, size), inside, weight))
        per_axis.append(nodes)
    result = None
    for corner in itertools.product(*per_axis):
        value = image[tuple(index for index, _, _ in corner)]
        masks = [m for _, m, _ in corner if m is not None]
        if masks:
            fill = jnp.array(cval, dtype=aval(value).dtype)
            value = jnp.where(functools.reduce(jnp.logical_and, masks), value, fill)
        for _, _, weight in corner:
            if weight is not None:
                value = value * weight
        result = value if result is None else result + value
    if dtypes.is_integer(aval(image).dtype) or dtypes.is_bool(aval(image).dtype):
        result = _round_half_away(result)
    return result.astype(aval(image).dtype)
