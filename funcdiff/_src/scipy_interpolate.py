"""`funcdiff.scipy.interpolate.RegularGridInterpolator`: linear and nearest-neighbour
interpolation on a rectilinear grid, composed from `funcdiff.numpy` (a `searchsorted` per axis
and a weighted sum over the corners of each cell), so it is differentiable in the query points,
the values and the grid, and works under `jit` and `vmap`. The interpolator is a pytree."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src.numpy._util import Array, ArrayLike
from funcdiff._src.tree_util import register_pytree_node

__all__ = ["RegularGridInterpolator"]

_METHODS = ("linear", "nearest")


def _check_method(method: Any) -> str:
    if method not in _METHODS:
        raise ValueError(
            f"RegularGridInterpolator: method must be 'linear' or 'nearest' (JAX's methods), "
            f"got {method!r}"
        )
    return method


def _check_axis(k: int, g: Array, size: int) -> None:
    if g.ndim != 1 or g.shape[0] != size:
        raise ValueError(
            f"RegularGridInterpolator: points[{k}] must be 1-D of length {size} (values' axis "
            f"{k}), got shape {g.shape}"
        )
    if size < 2:
        raise ValueError(f"RegularGridInterpolator: points[{k}] needs at least 2 coordinates")
    if isinstance(g, np.ndarray) and not np.all(np.diff(np.asarray(g)) > 0):
        raise ValueError(
            f"RegularGridInterpolator: points[{k}] must be strictly increasing (reverse it and "
            "the matching axis of values)"
        )


class RegularGridInterpolator:
    """Interpolation on a rectilinear grid, as `jax.scipy.interpolate.RegularGridInterpolator`.

    - `points`: one strictly increasing 1-D array of coordinates per grid axis.
    - `values`: the values at the grid points, of shape ``(len(points[0]), ...,
      len(points[-1]), *rest)``; trailing axes `rest` are interpolated together.
    - `method`: ``"linear"`` or ``"nearest"`` (a point half-way goes to the lower neighbour).
    - `bounds_error`: must be False (as in JAX: a value-dependent error cannot be raised under
      `jit`).
    - `fill_value`: the result for query points outside the grid (NaN by default); None
      extrapolates from the nearest cell.

    Calling it with ``xi`` of shape ``(..., ndim)`` (or a tuple of ``ndim`` broadcastable
    arrays) gives an array of shape ``(..., *rest)``; `method` may be overridden per call.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff.scipy.interpolate import RegularGridInterpolator

        x, y = np.array([0.0, 1.0, 2.0]), np.array([0.0, 10.0])
        values = x[:, None] + y[None, :]            # f(x, y) = x + y
        interp = RegularGridInterpolator((x, y), values)
        print(interp(np.array([[0.5, 5.0], [1.5, 2.5], [3.0, 0.0]])))
        print(funcdiff.grad(lambda p: interp(p))(np.array([0.5, 5.0])))
        ```
        ```text
        [5.5 4.  nan]
        [1. 1.]
        ```
    """

    def __init__(self, points: Sequence[ArrayLike], values: ArrayLike, method: str = "linear",
                 bounds_error: bool = False, fill_value: ArrayLike | None = np.nan):
        self.method = _check_method(method)
        if bounds_error:
            raise NotImplementedError(
                "RegularGridInterpolator: bounds_error=True is not supported (as in JAX); "
                "use fill_value=np.nan and check the result with jnp.isnan"
            )
        self.bounds_error = False
        values = jnp.asarray(values)
        if not jnp.issubdtype(values.dtype, jnp.inexact):
            values = values.astype(np.float64)
        if len(points) > values.ndim:
            raise ValueError(
                f"RegularGridInterpolator: there are {len(points)} point arrays, but values has "
                f"{values.ndim} dimensions"
            )
        self.grid = tuple(jnp.asarray(p) for p in points)
        for k, g in enumerate(self.grid):
            _check_axis(k, g, values.shape[k])
        if fill_value is not None:
            fill_value = jnp.asarray(fill_value)
            fill_dtype = jnp.result_type(fill_value)
            if not np.can_cast(fill_dtype, values.dtype, casting="same_kind"):
                raise ValueError(
                    f"RegularGridInterpolator: fill_value of dtype {fill_dtype} cannot be "
                    f"cast to the values' dtype {values.dtype}; give None or a compatible value"
                )
        self.values, self.fill_value = values, fill_value

    def _query(self, xi: Any) -> Array:
        ndim = len(self.grid)
        if isinstance(xi, tuple):
            xi = jnp.stack(jnp.broadcast_arrays(*xi), axis=-1) if len(xi) > 1 else xi[0]
        xi = jnp.asarray(xi)
        if ndim == 1 and (xi.ndim == 0 or xi.shape[-1] != 1):
            xi = xi[..., None]
        if xi.ndim == 0 or xi.shape[-1] != ndim:
            raise ValueError(
                f"RegularGridInterpolator: the query points xi have dimension "
                f"{xi.shape[-1] if xi.ndim else 0} (shape {xi.shape}), but the grid has {ndim}"
            )
        return xi

    def _cells(self, xi: Array) -> tuple[list[Array], list[Array], Array]:
        """Per axis, each point's cell (its lower grid index) and its position in the cell
        (0 to 1 inside); and whether the point is outside the grid."""
        lower, frac = [], []
        outside = jnp.zeros(xi.shape[:-1], bool)
        for k, g in enumerate(self.grid):
            x = xi[..., k]
            i = jnp.clip(jnp.searchsorted(g, x) - 1, 0, g.shape[0] - 2)
            lo = g[i]
            lower.append(i)
            frac.append((x - lo) / (g[i + 1] - lo))
            outside = outside | (x < g[0]) | (x > g[-1])
        return lower, frac, outside

    def __call__(self, xi: Any, method: str | None = None) -> Array:
        method = _check_method(self.method if method is None else method)
        xi = self._query(xi)
        lower, frac, outside = self._cells(xi)
        rest = self.values.shape[len(self.grid):]
        expand = (...,) + (None,) * len(rest)
        if method == "nearest":
            result = self.values[tuple(jnp.where(t <= 0.5, i, i + 1)
                                       for i, t in zip(lower, frac))]
        else:
            result = 0
            for corner in itertools.product((0, 1), repeat=len(self.grid)):
                weight = 1
                for up, t in zip(corner, frac):
                    weight = weight * (t if up else 1 - t)
                index = tuple(i + up for i, up in zip(lower, corner))
                result = result + self.values[index] * weight[expand]
            result = jnp.asarray(result).astype(jnp.result_type(self.values, *frac))
        if self.fill_value is not None:
            result = jnp.where(outside[expand], self.fill_value, result).astype(result.dtype)
        return result

    def __repr__(self) -> str:
        shape = tuple(g.shape[0] for g in self.grid)
        return f"RegularGridInterpolator(grid of shape {shape}, method={self.method!r})"


def _flatten(obj: RegularGridInterpolator) -> tuple[tuple, tuple]:
    return (obj.grid, obj.values, obj.fill_value), (obj.method, obj.bounds_error)


def _unflatten(aux: tuple, children: tuple) -> RegularGridInterpolator:
    obj = object.__new__(RegularGridInterpolator)
    obj.grid, obj.values, obj.fill_value = children
    obj.method, obj.bounds_error = aux
    return obj


register_pytree_node(RegularGridInterpolator, _flatten, _unflatten)
