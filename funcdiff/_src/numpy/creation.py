"""Creating arrays: from data (`array`, `asarray`), from shapes (`zeros`, `ones`, `full`,
`eye`, the `*_like` functions...) and from ranges (`arange`, `linspace`, `logspace`,
`meshgrid`).

They return funcdiff `Array`s outside transformations (a private copy of a NumPy array, as
JAX copies to its device) and traced values inside them: a constant made inside `jit`,
`grad` or `vmap` becomes a value of the innermost transformation, so that
``jnp.zeros(n).at[i].set(v)`` works there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, errors
from funcdiff._src.array import Array, WeakArray, as_array, as_weak_array
from funcdiff._src.lax import dynamic_slicing
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import shape as sh
from funcdiff._src.numpy import ufuncs
from funcdiff._src.numpy._util import ArrayLike, aval, canonical_axis, promote_inexact
from funcdiff._src.numpy._util import asarray as util_asarray


def array(object: Any, dtype: Any = None, copy: bool = True, ndmin: int = 0) -> Array:  # noqa: A002
    """Create an array (a funcdiff `Array`, or a traced value inside a transformation); nested
    lists may contain traced values. NumPy arrays are copied, so that the result does not
    change when the caller later writes into the original."""
    out = util_asarray(object, dtype)
    if type(out) in core._PY_SCALARS:
        out = _scalar_array(out)
    elif (
        isinstance(out, np.ndarray)
        and type(out) is not Array
        and (copy or out is object or np.shares_memory(out, object))
    ):
        out = out.copy()
    while aval(out).ndim < ndmin:
        out = sh.expand_dims(out, (0,))
    return as_array(out)


def _scalar_array(x: Any) -> Array:
    """The 0-d Array of the Python scalar `x`: weakly typed as in JAX (it takes the dtype of the
    arrays it meets, so ``jnp.array(2.0) * x32`` stays float32), except a bool, which JAX
    types strongly."""
    if type(x) is bool:
        return as_array(np.asarray(x))
    if type(x) is int and not -(2**63) <= x < 2**63:
        raise OverflowError(f"Python int {x} too large to convert to int64")
    return as_weak_array(np.asarray(x))


def asarray(
    a: Any, dtype: Any = None, order: str | None = None, *, copy: bool | None = None
) -> Array:
    """`a` as an array: a funcdiff `Array` (a private copy of a NumPy array, as JAX copies it
    to its device; an `Array` itself when no conversion is needed), a traced value inside a
    transformation. A Python scalar gives a weakly typed 0-d Array, as in JAX: it takes the
    dtype of the arrays it meets (a bool gives a strongly typed one).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        x = np.arange(3.0)
        y = jnp.asarray(x)
        x[0] = 5.0
        assert y[0] == 0.0 and jnp.asarray(y) is y
        assert (jnp.asarray(2.0) * np.ones(2, np.float32)).dtype == np.float32
        ```
    """
    if not copy and (
        (type(a) is Array and (dtype is None or a.dtype == dtype))
        or (type(a) is WeakArray and dtype is None)  # stays weakly typed, as in JAX
    ):
        return a
    out = util_asarray(a, dtype)
    if type(out) in core._PY_SCALARS:
        return _scalar_array(out)
    if isinstance(out, core.Tracer):
        return out
    if type(out) is not Array and (out is a or np.may_share_memory(out, a)):
        out = np.array(out, copy=True)
    return as_array(out)


# ---- from shapes and ranges ---------------------------------------------------------------


def _in_current_trace(x: np.ndarray) -> Array:
    """A new constant array as a value of the innermost active transformation, if any, so that
    JAX's idiom ``jnp.zeros(n).at[i].set(v)`` works inside `jit`, `grad` and `vmap`. Outside
    transformations it is a funcdiff `Array`."""
    stack = core._state.stack
    if len(stack) == 1:
        return as_array(x)
    main = stack[-1]
    trace = main.trace
    if trace is None:
        trace = main.trace = main.trace_type(main)
    return trace.pure(x)


def _static(value: Any, fn: str, *names: str) -> Any:
    """`value` (a shape, a size or bounds: an entry or a tuple/list of them, named `names`,
    or entries of the one argument `names[0]`) with its traced entries replaced by their
    concrete values, which must be known while tracing; else the concretization error, at the
    user's line, with the fix."""
    is_seq = isinstance(value, list | tuple)
    entries = value if is_seq else [value]
    if not any(isinstance(d, core.Tracer) for d in entries):
        return value
    out = []
    for i, d in enumerate(entries):
        arg = names[i] if len(names) > 1 else f"{names[0]}[{i}]" if is_seq else names[0]
        if not isinstance(d, core.Tracer):
            out.append(d)
            continue
        concrete = core.concrete_or_none(d)
        if concrete is None:
            raise errors.ConcretizationTypeError(
                fn,
                message=(
                    f"funcdiff.numpy.{fn}: `{arg}` is the abstract traced value "
                    f"{d.aval.str_short()}, but array shapes must be known while tracing (jit, "
                    "make_jaxpr). If it is a constant, make the argument it comes from static "
                    "(jit(f, static_argnums=...)) or compute it with NumPy outside the function; "
                    "a size that depends on traced data is not possible (use a fixed maximum size "
                    "and a mask)."
                ),
            )
        out.append(np.asarray(concrete).tolist())
    return tuple(out) if is_seq else out[0]


def zeros(shape: int | Sequence[int], dtype: Any = None) -> np.ndarray:
    return _in_current_trace(np.zeros(_static(shape, "zeros", "shape"), dtype or np.float64))


def ones(shape: int | Sequence[int], dtype: Any = None) -> np.ndarray:
    return _in_current_trace(np.ones(_static(shape, "ones", "shape"), dtype or np.float64))


def empty(shape: int | Sequence[int], dtype: Any = None) -> np.ndarray:
    """Like `zeros` (funcdiff arrays are never uninitialised)."""
    return zeros(_static(shape, "empty", "shape"), dtype)


def full(shape: int | Sequence[int], fill_value: ArrayLike, dtype: Any = None) -> Array:
    shape = _static(shape, "full", "shape")
    fill = util_asarray(fill_value, dtype)
    if isinstance(fill, core.Tracer):
        return sh.broadcast_to(fill, (shape,) if isinstance(shape, int) else tuple(shape))
    return _in_current_trace(np.full(shape, fill, dtype))


def _like_dtype(a: ArrayLike, dtype: Any) -> np.dtype:
    return np.dtype(dtype) if dtype is not None else aval(util_asarray(a)).dtype


def _like_shape(a: ArrayLike, shape: Any, fn: str) -> tuple[int, ...]:
    if shape is None:
        return aval(util_asarray(a)).shape
    return tuple(np.atleast_1d(_static(shape, fn, "shape")))


def _filled_like(a: ArrayLike, fill: Any, dtype: Any, shape: Any, fn: str) -> Array:
    """`fill` in the shape and dtype of `a` (or the given ones): weakly typed when `a` is and
    no dtype is given, as in JAX, so ``jnp.zeros_like(1.0) + x32`` stays float32."""
    av = aval(util_asarray(a))
    shape = av.shape if shape is None else _like_shape(a, shape, fn)
    x = np.full(shape, fill, _like_dtype(a, dtype))
    return _in_current_trace(as_weak_array(x) if dtype is None and av.weak_type else x)


def zeros_like(a: ArrayLike, dtype: Any = None, shape: Any = None) -> np.ndarray:
    return _filled_like(a, 0, dtype, shape, "zeros_like")


def ones_like(a: ArrayLike, dtype: Any = None, shape: Any = None) -> np.ndarray:
    return _filled_like(a, 1, dtype, shape, "ones_like")


def empty_like(a: ArrayLike, dtype: Any = None, shape: Any = None) -> np.ndarray:
    return zeros_like(a, dtype, _static(shape, "empty_like", "shape"))


def full_like(a: ArrayLike, fill_value: ArrayLike, dtype: Any = None, shape: Any = None) -> Array:
    fill = util_asarray(fill_value)
    if not isinstance(fill, core.Tracer) and dtype is None and aval(util_asarray(a)).weak_type:
        return _filled_like(a, fill, dtype, shape, "full_like")
    return full(_like_shape(a, shape, "full_like"), fill_value, _like_dtype(a, dtype))


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> np.ndarray:  # noqa: N803
    N, M, k = _static((N, M, k), "eye", "N", "M", "k")  # noqa: N806
    return as_array(np.eye(N, M, k, dtype=dtype or np.float64))


def identity(n: int, dtype: Any = None) -> np.ndarray:
    return as_array(np.identity(_static(n, "identity", "n"), dtype=dtype or np.float64))


def arange(start: Any, stop: Any = None, step: Any = None, dtype: Any = None) -> np.ndarray:
    """Evenly spaced values (the bounds must be concrete: the size is static)."""
    start, stop, step = _static((start, stop, step), "arange", "start", "stop", "step")
    if stop is None:
        return as_array(np.arange(start, dtype=dtype))
    return as_array(np.arange(start, stop, step if step is not None else 1, dtype=dtype))


def linspace(
    start: ArrayLike,
    stop: ArrayLike,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: Any = None,
    axis: int = 0,
) -> Any:
    """`num` evenly spaced samples from `start` to `stop`; the bounds may be traced."""
    num = _static(num, "linspace", "num")
    start, stop = promote_inexact(start, stop)
    div = (num - 1) if endpoint else num
    steps = np.arange(num, dtype=np.float64)
    shape_out = np.broadcast_shapes(aval(start).shape, aval(stop).shape)
    start_b = sh.broadcast_to(start, shape_out)
    stop_b = sh.broadcast_to(stop, shape_out)
    delta = ew.sub(stop_b, start_b)
    step = ew.div(delta, float(div)) if div > 0 else ew.mul(delta, np.nan)
    # With one sample and the end point (div == 0) the value is `start`; the step is NaN.
    value_step = step if div > 0 else ew.mul(delta, 0.0)
    ax = canonical_axis(axis, len(shape_out) + 1)
    t = np.expand_dims(steps, tuple(i for i in range(len(shape_out) + 1) if i != ax))
    out_shape = list(shape_out)
    out_shape.insert(ax, num)
    bdims = tuple(i for i in range(len(out_shape)) if i != ax)
    base = sh.broadcast_in_dim(start_b, out_shape, bdims)
    stp = sh.broadcast_in_dim(value_step, out_shape, bdims)
    out = ew.add(base, ew.mul(stp, t.astype(aval(stp).dtype)))
    if endpoint and num > 1:
        out = _set_last(out, stop_b, ax, num)
    if dtype is not None:
        out = ew.convert_element_type(out, dtype)
    if retstep and div <= 0:
        step = np.nan  # NumPy: the step of 0 samples, or of 1 with the end point, is nan
    return (out, step) if retstep else out


def _set_last(out: Array, value: Array, axis: int, num: int) -> Array:
    # Make the end point exact, as NumPy does.
    starts = [np.int64(0)] * aval(out).ndim
    starts[axis] = np.int64(num - 1)
    update = sh.expand_dims(ew.convert_element_type(value, aval(out).dtype), (axis,))
    return dynamic_slicing.dynamic_update_slice(out, update, starts)


def logspace(
    start: ArrayLike,
    stop: ArrayLike,
    num: int = 50,
    endpoint: bool = True,
    base: float = 10.0,
    dtype: Any = None,
    axis: int = 0,
) -> Array:
    exps = linspace(start, stop, num, endpoint, axis=axis)
    out = ufuncs.power(base, exps) if not isinstance(base, int) else ufuncs.power(float(base), exps)
    return out if dtype is None else ew.convert_element_type(out, dtype)


def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> np.ndarray:  # noqa: N803
    N, M, k = _static((N, M, k), "tri", "N", "M", "k")  # noqa: N806
    return as_array(np.tri(N, M, k, dtype=dtype or np.float64))


def tril(m: ArrayLike, k: int = 0) -> Array:
    m = util_asarray(m)
    n_rows, n_cols = aval(m).shape[-2:]
    mask = np.tri(n_rows, n_cols, k, dtype=bool)
    return ufuncs.where(mask, m, np.zeros((), aval(m).dtype))


def triu(m: ArrayLike, k: int = 0) -> Array:
    m = util_asarray(m)
    n_rows, n_cols = aval(m).shape[-2:]
    mask = ~np.tri(n_rows, n_cols, k - 1, dtype=bool)
    return ufuncs.where(mask, m, np.zeros((), aval(m).dtype))


def meshgrid(*xi: ArrayLike, indexing: str = "xy", sparse: bool = False) -> list[Array]:
    arrays = [util_asarray(x) for x in xi]
    arrays = [sh.reshape(a, (aval(a).size,)) for a in arrays]
    n = len(arrays)
    sizes = [aval(a).size for a in arrays]
    if indexing == "xy" and n >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, a in enumerate(arrays):
        dim = i
        if indexing == "xy" and n >= 2 and i < 2:
            dim = 1 - i
        if sparse:
            shape = [1] * n
            shape[dim] = aval(a).size
            out.append(sh.reshape(a, shape))
        else:
            out.append(sh.broadcast_in_dim(a, sizes, (dim,)))
    return out
