"""`ravel_pytree`: a pytree of arrays as one flat vector, and the function that undoes it."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src import dtypes
from funcdiff._src.array import Array
from funcdiff._src.numpy._util import aval
from funcdiff._src.tree_util import tree_flatten, tree_unflatten

__all__ = ["ravel_pytree"]


class _Unravel:
    """Rebuilds the pytree from a flat vector: its chunks, reshaped and cast back."""

    def __init__(
        self,
        tree: Any,
        shapes: list[tuple[int, ...]],
        from_dtypes: list[np.dtype],
        to_dtype: np.dtype,
    ):
        self.tree, self.shapes, self.from_dtypes, self.to_dtype = (
            tree,
            shapes,
            from_dtypes,
            to_dtype,
        )
        self.size = sum(math.prod(s) for s in shapes)

    def __call__(self, flat: Any) -> Any:
        v = aval(jnp.asarray(flat))
        if v.shape != (self.size,):
            raise ValueError(
                f"unravel: expected a flat array of shape ({self.size},), got shape {v.shape}"
            )
        if v.dtype != self.to_dtype:
            raise TypeError(
                f"unravel: given an array of dtype {v.dtype}, but ravel_pytree produced dtype "
                f"{self.to_dtype}; cast it with .astype({self.to_dtype.name!r}) first"
            )
        leaves, start = [], 0
        for shape, dtype in zip(self.shapes, self.from_dtypes):
            n = math.prod(shape)
            chunk = jnp.reshape(flat[start : start + n], shape)
            with warnings.catch_warnings():  # a complex vector cast back to a real leaf
                warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
                leaves.append(chunk if dtype == self.to_dtype else chunk.astype(dtype))
            start += n
        return tree_unflatten(self.tree, leaves)


def ravel_pytree(pytree: Any) -> tuple[Array, Callable[[Array], Any]]:
    """Flatten a pytree of arrays into one 1-D array, and return the function undoing it.

    The leaves are raveled in `tree_leaves` order and concatenated, promoted to their common
    dtype; `unravel(flat)` splits a vector of that shape and dtype back into the original
    structure, shapes and dtypes. It is differentiable both ways, so an optimiser written for
    vectors works on any parameter pytree.

    **Returns:** `(flat, unravel)`. An empty pytree gives a `float64` vector of length 0.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.flatten_util import ravel_pytree

        params = {"w": np.ones((2, 2)), "b": np.zeros(3, np.float32)}
        flat, unravel = ravel_pytree(params)
        print(flat.shape, flat.dtype, unravel(flat)["b"].dtype)
        ```
    """
    leaves, tree = tree_flatten(pytree)
    arrays = [jnp.asarray(x) for x in leaves]
    avals = [aval(a) for a in arrays]
    if arrays:
        to_dtype = dtypes.result_type(*[(v.dtype, v.weak_type) for v in avals])[0]
        flat = jnp.concatenate([jnp.ravel(a).astype(to_dtype) for a in arrays])
    else:
        to_dtype = np.dtype(np.float64)
        flat = jnp.zeros((0,), to_dtype)
    unravel = _Unravel(tree, [v.shape for v in avals], [v.dtype for v in avals], to_dtype)
    return flat, unravel
