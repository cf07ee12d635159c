"""Summary statistics of `jax.scipy.stats` (functions of a sample, not of a distribution)."""

from __future__ import annotations

from typing import NamedTuple

import funcdiff.numpy as jnp
from funcdiff._src.lax.checked import cummax as lax_cummax
from funcdiff._src.lax.checked import cummin as lax_cummin
from funcdiff._src.numpy._util import Array, ArrayLike


def sem(
    a: ArrayLike,
    axis: int | None = 0,
    ddof: int = 1,
    nan_policy: str = "propagate",
    *,
    keepdims: bool = False,
) -> Array:
    """The standard error of the mean, ``std(a, ddof=ddof) / sqrt(n)`` along `axis` (all of
    `a` when None), as `jax.scipy.stats.sem`. `nan_policy` is ``"propagate"`` (a NaN gives
    NaN) or ``"omit"`` (NaNs are left out, and ``n`` counts the others); JAX and funcdiff do
    not support ``"raise"``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy import stats

        print(stats.sem(np.array([4.0, 5.0, 7.0])))
        print(stats.sem(np.array([[1.0, np.nan], [3.0, 5.0]]), axis=1, nan_policy="omit"))
        ```
        ```text
        0.8819171036881969
        [nan  1.]
        ```
    """
    if nan_policy not in ("propagate", "omit"):
        raise ValueError(
            f"stats.sem: nan_policy must be 'propagate' or 'omit', got {nan_policy!r} (JAX "
            "does not support 'raise' either)"
        )
    a = jnp.asarray(a)
    if nan_policy == "omit":
        n = jnp.sum(~jnp.isnan(a), axis=axis, keepdims=keepdims)
        std = jnp.nanstd(a, axis=axis, ddof=ddof, keepdims=keepdims)
    else:
        n = a.size if axis is None else a.shape[axis]
        std = jnp.std(a, axis=axis, ddof=ddof, keepdims=keepdims)
    return std / jnp.sqrt(n)


class ModeResult(NamedTuple):
    """The result of `mode`: the modal values and how often each occurs."""

    mode: Array
    count: Array


def _along_last(a: ArrayLike, axis: int | None, name: str) -> tuple[Array, int | None]:
    """`a` with `axis` moved last (flattened when None), and `axis` normalised."""
    a = jnp.asarray(a)
    if axis is None:
        return jnp.ravel(a), None
    if not -a.ndim <= axis < max(a.ndim, 1):
        raise ValueError(f"stats.{name}: axis {axis} is out of range for an array of "
                         f"{a.ndim} dimensions")
    axis = axis % max(a.ndim, 1)
    return (jnp.moveaxis(a, axis, -1) if a.ndim else jnp.reshape(a, (1,))), axis


def _runs(s: Array) -> tuple[Array, Array]:
    """For values `s` sorted along the last axis (NaNs last, and equal to each other): whether
    each element starts a run of equal values, and whether it ends one."""
    same = (s[..., 1:] == s[..., :-1]) | (jnp.isnan(s[..., 1:]) & jnp.isnan(s[..., :-1])) \
        if jnp.issubdtype(s.dtype, jnp.inexact) else s[..., 1:] == s[..., :-1]
    edge = jnp.ones((*s.shape[:-1], 1), bool)
    return jnp.concatenate([edge, ~same], -1), jnp.concatenate([~same, edge], -1)


def _check_nan_policy(name: str, nan_policy: str) -> None:
    if nan_policy != "propagate":
        raise NotImplementedError(
            f"stats.{name}: only nan_policy='propagate' is supported (as in JAX), got "
            f"{nan_policy!r}"
        )


def mode(a: ArrayLike, axis: int | None = 0, nan_policy: str = "propagate",
         keepdims: bool = False) -> ModeResult:
    """The most common value along `axis` (all of `a` when None) and its count, as
    `jax.scipy.stats.mode`: among equally common values the smallest is taken, and NaNs count
    as one value, larger than the others (SciPy's rule). Works under `jit` and `vmap` (a sort
    and cumulative maxima); the result has no derivative.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy import stats

        print(stats.mode(np.array([2, 4, 1, 1, 3, 4, 4, 2, 3])))
        print(stats.mode(np.array([[1, 2, 2], [3, 3, 1]]), axis=1))
        ```
        ```text
        ModeResult(mode=Array(4), count=Array(3))
        ModeResult(mode=Array([2, 3]), count=Array([2, 2]))
        ```
    """
    _check_nan_policy("mode", nan_policy)
    x, axis_n = _along_last(a, axis, "mode")
    n = x.shape[-1]
    if n == 0:
        raise ValueError("stats.mode: the axis is empty; a mode needs at least one value")
    s = jnp.sort(x, axis=-1)
    starts, _ = _runs(s)
    position = jnp.broadcast_to(jnp.arange(n), s.shape)
    run_start = lax_cummax(jnp.where(starts, position, 0), axis=s.ndim - 1)
    running = position - run_start + 1  # length of the run so far
    best = jnp.argmax(running, axis=-1)[..., None]  # the end of the first longest run
    value = jnp.take_along_axis(s, best, axis=-1)[..., 0]
    count = jnp.take_along_axis(running, best, axis=-1)[..., 0]
    if keepdims:
        shape = (1,) * jnp.ndim(a) if axis_n is None else \
            jnp.shape(jnp.expand_dims(value, axis_n))
        value, count = jnp.reshape(value, shape), jnp.reshape(count, shape)
    return ModeResult(value, count)


def rankdata(a: ArrayLike, method: str = "average", *, axis: int | None = None,
             nan_policy: str = "propagate") -> Array:
    """The ranks (from 1) of the values of `a` along `axis` (of the flattened array when None),
    as `jax.scipy.stats.rankdata`. `method` sets the rank of tied values: ``"average"`` (the
    mean of their positions), ``"min"``, ``"max"``, ``"dense"`` (ranks of the distinct values)
    or ``"ordinal"`` (in order of appearance). A slice holding NaN gets NaN ranks. The ranks are
    floats for every method, as in JAX (float32 for float32 input, else float64).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy import stats

        x = np.array([10, 30, 20, 30])
        for method in ("average", "min", "max", "dense", "ordinal"):
            print(method, stats.rankdata(x, method))
        ```
        ```text
        average [1.  3.5 2.  3.5]
        min [1. 3. 2. 3.]
        max [1. 4. 2. 4.]
        dense [1. 3. 2. 3.]
        ordinal [1. 3. 2. 4.]
        ```
    """
    if method not in ("average", "min", "max", "dense", "ordinal"):
        raise ValueError(f"stats.rankdata: method must be 'average', 'min', 'max', 'dense' or "
                         f"'ordinal', got {method!r}")
    _check_nan_policy("rankdata", nan_policy)
    x, axis_n = _along_last(a, axis, "rankdata")
    dtype = x.dtype if x.dtype in (jnp.float32, jnp.float16) else jnp.float64
    n = x.shape[-1]
    order = jnp.argsort(x, axis=-1, stable=True)
    inverse = jnp.argsort(order, axis=-1, stable=True)  # each element's place in sorted order
    starts, ends = _runs(jnp.take_along_axis(x, order, axis=-1))
    position = jnp.broadcast_to(jnp.arange(n), x.shape)
    low = lax_cummax(jnp.where(starts, position, 0), axis=x.ndim - 1) + 1
    high = lax_cummin(jnp.where(ends, position, n), axis=x.ndim - 1, reverse=True) + 1
    by_method = {"min": low, "max": high, "ordinal": position + 1,
                 "dense": jnp.cumsum(starts, axis=-1), "average": (low + high) / 2}
    ranks = jnp.take_along_axis(by_method[method].astype(dtype), inverse, axis=-1)
    if jnp.issubdtype(x.dtype, jnp.inexact):
        ranks = jnp.where(jnp.any(jnp.isnan(x), axis=-1, keepdims=True), jnp.nan, ranks)
    if axis_n is None:
        return ranks
    return jnp.moveaxis(ranks, -1, axis_n) if jnp.ndim(a) else jnp.reshape(ranks, ())
