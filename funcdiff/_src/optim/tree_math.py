"""Tree arithmetic shared by the optimisers: moments, bias correction, norms, casts.

Everything is written with `funcdiff.numpy` operations, so it can be traced.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src import core
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.tree_util import tree_leaves, tree_map

Array = Any
Updates = Any


def is_none(x: Any) -> bool:
    """`is_leaf` predicate that keeps `None` leaves visible to `tree_map`."""
    return x is None


def dtype_of(x: Array) -> np.dtype:
    """The dtype of an array, a scalar or a traced value."""
    return core.get_aval(x).dtype


def cast(x: Array, dtype: Any) -> Array:
    """`x` converted to `dtype` (no-op when `dtype` is None or already `x`'s dtype)."""
    if dtype is None or x is None:
        return x
    return ew.convert_element_type(jnp.asarray(x), np.dtype(dtype))


def cast_like(new: Any, old: Any) -> Any:
    """Cast each leaf of `new` to the dtype of the matching leaf of `old` (state leaves keep
    the dtype chosen by `init`, so a state's type never changes from step to step)."""
    return tree_map(lambda o, n: cast(n, dtype_of(o)), old, new)


def scalar_for(s: Any, g: Array) -> Any:
    """A hyperparameter `s` ready to multiply `g`: Python numbers stay weakly typed, arrays are
    cast to `g`'s floating dtype so that float32 updates stay float32."""
    if type(s) in (int, float) or dtype_of(g).kind not in "fc":
        return s
    return cast(s, dtype_of(g))


def zeros_like(tree: Any, dtype: Any = None) -> Any:
    """A pytree of zeros shaped like `tree` (dtype: each leaf's own, or `dtype`)."""
    return tree_map(lambda x: jnp.zeros_like(x, dtype=dtype), tree)


def full_like(tree: Any, value: Any) -> Any:
    """A pytree of arrays filled with `value`, shaped like `tree`."""
    return tree_map(lambda x: jnp.full_like(x, value), tree)


def abs_sq(g: Array) -> Array:
    """``|g|**2`` elementwise (``g**2`` for real `g`)."""
    if dtype_of(g).kind == "c":
        return jnp.real(jnp.conj(g) * g)
    return jnp.square(g)


def update_moment(updates: Updates, moments: Any, decay: Any, order: int) -> Any:
    """The exponential moving average ``(1 - decay) * g**order + decay * moment``, per leaf."""

    def one(g: Array, t: Array) -> Array:
        if g is None:
            return None
        power = g if order == 1 else jnp.square(g) if order == 2 else jnp.power(g, order)
        return (1 - decay) * power + decay * t

    return tree_map(one, updates, moments, is_leaf=is_none)


def update_moment_per_elem_norm(updates: Updates, moments: Any, decay: Any, order: int) -> Any:
    """Like `update_moment` with ``|g|**order`` (``g**2`` for real `g`, ``|g|**2`` for
    complex `g` when `order` is 2)."""

    def one(g: Array, t: Array) -> Array:
        if g is None:
            return None
        if order == 2:
            norm = abs_sq(g)
        elif dtype_of(g).kind == "c":
            norm = jnp.power(abs_sq(g), order / 2)
        else:
            norm = jnp.power(g, order)
        return (1 - decay) * norm + decay * t

    return tree_map(one, updates, moments, is_leaf=is_none)


def bias_correction(moment: Any, decay: Any, count: Array) -> Any:
    """``moment / (1 - decay**count)`` per leaf, with `count` an integer array."""
    correction = 1 - jnp.power(decay, count)
    return tree_map(lambda t: t / cast(correction, dtype_of(t)), moment)


def safe_increment(count: Array) -> Array:
    """``count + 1``, saturating at the largest value of `count`'s integer dtype."""
    count = jnp.asarray(count)
    dtype = dtype_of(count)
    top = np.iinfo(dtype).max if dtype.kind in "iu" else np.finfo(dtype).max
    top = np.asarray(top, dtype)
    return jnp.where(count < top, count + np.asarray(1, dtype), top)


def global_norm(updates: Updates) -> Array:
    """The L2 norm of all leaves together, ``sqrt(sum_leaves sum(|u|**2))``.

    **Arguments:**

    - `updates`: a pytree of arrays.

    **Returns:**

    A 0-d array.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        assert np.isclose(optim.global_norm({"a": np.array([3.0]), "b": np.array(4.0)}), 5.0)
        ```
    """
    leaves = tree_leaves(updates)
    if not leaves:
        return np.asarray(0.0)
    total = None
    for x in leaves:
        s = jnp.sum(abs_sq(jnp.asarray(x)))
        total = s if total is None else total + s
    return jnp.sqrt(total)


def zero_count() -> np.ndarray:
    return np.zeros((), np.int32)
