"""Window reductions (pooling): `reduce_window_sum`, `reduce_window_max` and
`reduce_window_min`, one primitive each, and JAX's generic `reduce_window` over them.

Every axis of the operand has a window: its size, its stride, a ``(low, high)`` padding
(negative crops), a base dilation (``d - 1`` holes between the operand's elements) and a window
dilation. Padding and holes hold the reduction's identity (0, -inf, +inf). The implementation
pads and dilates the operand, takes the strided windows as a view (`sliding_window_view`) and
reduces over the window axes.

The sum is linear: its transpose is again a window sum, of the cotangent dilated by the strides,
as for a convolution with a kernel of ones. The derivative of a max (min) flows to the places
of the extremum of each window, shared equally among ties as for `reduce_max`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.core import ShapedArray
from funcdiff._src.errors import PrimitiveError
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import indexing as ix
from funcdiff._src.lax import reductions as red
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax._define import check_kinds, define_primitive
from funcdiff._src.lax.convolution import (
    Padding,
    _dilated,
    _explicit_pads,
    _window_out_size,
    windows,
)
from funcdiff._src.tree_util import tree_flatten, tree_leaves, tree_unflatten

Array = Any


def reduce_window_shape_tuple(
    operand_shape: Sequence[int],
    window_dimensions: Sequence[int],
    window_strides: Sequence[int],
    padding: Sequence[tuple[int, int]],
    base_dilation: Sequence[int] | None = None,
    window_dilation: Sequence[int] | None = None,
) -> tuple[int, ...]:
    """The shape of a `reduce_window` result (explicit ``(low, high)`` padding).

    !!! Example
        ```python
        from funcdiff import lax
        print(lax.reduce_window_shape_tuple((8, 32, 32, 3), (1, 2, 2, 1), (1, 2, 2, 1),
                                            [(0, 0)] * 4))
        ```
    """
    n = len(operand_shape)
    base_dilation = (1,) * n if base_dilation is None else base_dilation
    window_dilation = (1,) * n if window_dilation is None else window_dilation
    return tuple(
        _window_out_size(*args)
        for args in zip(
            operand_shape,
            padding,
            base_dilation,
            window_dimensions,
            window_strides,
            window_dilation,
            strict=True,
        )
    )


def _identity(kind: str, dtype: np.dtype) -> Any:
    dtype = np.dtype(dtype)
    if kind == "sum":
        return np.zeros((), dtype)
    big = kind == "min"
    if dtype.kind == "b":
        return np.asarray(big)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return np.asarray(info.max if big else info.min, dtype)
    return np.asarray(np.inf if big else -np.inf, dtype)


def _padded(x: np.ndarray, fill: Any, padding, base_dilation) -> np.ndarray:
    config = tuple((lo, hi, d - 1) for (lo, hi), d in zip(padding, base_dilation))
    if all(c == (0, 0, 0) for c in config):
        return x
    return sh.pad_p.impl(x, fill, padding_config=config)


def _reduce_window_impl(kind: str, reducer: Callable[..., Any]):
    def impl(x, *, window_dimensions, window_strides, padding, base_dilation, window_dilation):
        x = np.asarray(x)
        out_shape = reduce_window_shape_tuple(
            x.shape, window_dimensions, window_strides, padding, base_dilation, window_dilation
        )
        fill = _identity(kind, x.dtype)
        if math.prod(out_shape) == 0:
            return np.full(out_shape, fill, x.dtype)
        x = _padded(x, fill, padding, base_dilation)
        win = windows(x, window_dimensions, window_strides, window_dilation)
        return reducer(win, axis=tuple(range(x.ndim, 2 * x.ndim))).astype(x.dtype, copy=False)

    impl.__name__ = f"_reduce_window_{kind}_impl"
    return impl


def _reduce_window_aval(kinds: str):
    def rule(
        x: ShapedArray,
        *,
        window_dimensions,
        window_strides,
        padding,
        base_dilation,
        window_dilation,
    ) -> ShapedArray:
        check_kinds([x], kinds)
        for name, value in (
            ("window_dimensions", window_dimensions),
            ("window_strides", window_strides),
            ("padding", padding),
            ("base_dilation", base_dilation),
            ("window_dilation", window_dilation),
        ):
            if len(value) != x.ndim:
                raise PrimitiveError(
                    f"{name} {value} needs {x.ndim} entries, one per axis of the operand {x.shape}"
                )
            if name != "padding" and any(v < 1 for v in value):
                raise PrimitiveError(f"{name} {value} must be positive")
        try:
            shape = reduce_window_shape_tuple(
                x.shape, window_dimensions, window_strides, padding, base_dilation, window_dilation
            )
        except ValueError as e:
            raise PrimitiveError(f"{e} (operand {x.shape})") from None
        return ShapedArray(shape, x.dtype, x.weak_type)

    return rule


def _batch(
    p: core.Primitive,
    vals,
    dims,
    *,
    window_dimensions,
    window_strides,
    padding,
    base_dilation,
    window_dilation,
):
    # The mapped axis gets a window of one element.
    (x,), (d,) = vals, dims

    def ins(values, v):
        return (*values[:d], v, *values[d:])

    out = p.bind(
        x,
        window_dimensions=ins(window_dimensions, 1),
        window_strides=ins(window_strides, 1),
        padding=ins(padding, (0, 0)),
        base_dilation=ins(base_dilation, 1),
        window_dilation=ins(window_dilation, 1),
    )
    return out, d


def _reduce_window_cost(avals_in, avals_out, *, window_dimensions, **params):
    # One operation per window element of each output element.
    moved = cost_mod.io_bytes(avals_in, avals_out)
    return cost_mod.Cost(
        avals_out[0].size * math.prod(window_dimensions), 0, moved.bytes_read, moved.bytes_written
    )


def _params(window_dimensions, window_strides, padding, base_dilation, window_dilation):
    return dict(
        window_dimensions=tuple(window_dimensions),
        window_strides=tuple(window_strides),
        padding=tuple(padding),
        base_dilation=tuple(base_dilation),
        window_dilation=tuple(window_dilation),
    )


# The Array API standard has none of these primitives, for one reason.
_NO_ARRAY_API = "the standard has no windowed reduction"


# ---- sum ------------------------------------------------------------------------------------


def _reduce_window_sum_transpose(
    ct, x, *, window_dimensions, window_strides, padding, base_dilation, window_dilation
):
    # As the lhs transpose of a convolution with a kernel of ones (its reversal changes
    # nothing): the cotangent, dilated by the strides and padded, summed over windows whose
    # stride is the base dilation.
    aval = x.aval
    ct_aval = core.get_aval(ct)
    if ct_aval.size == 0:
        return [sh.broadcast_in_dim(np.zeros((), aval.dtype), aval.shape, ())]
    pads = []
    for n, k, p, s, (lo, _), bd, wd in zip(
        aval.shape,
        window_dimensions,
        ct_aval.shape,
        window_strides,
        padding,
        base_dilation,
        window_dilation,
    ):
        before = _dilated(k, wd) - 1 - lo
        pads.append((before, _dilated(n, bd) + _dilated(k, wd) - 1 - _dilated(p, s) - before))
    res = reduce_window_sum_p.bind(
        ct, **_params(window_dimensions, base_dilation, pads, window_strides, window_dilation)
    )
    return [res]


def _reduce_window_sum_batch(axis_size, vals, dims, **params):
    return _batch(reduce_window_sum_p, vals, dims, **params)


reduce_window_sum_p = define_primitive(
    "reduce_window_sum",
    allocates=True,
    impl=_reduce_window_impl("sum", np.sum),
    abstract_eval=_reduce_window_aval("iufc"),
    linear=True,
    transpose=_reduce_window_sum_transpose,
    batch=_reduce_window_sum_batch,
    cost=_reduce_window_cost,
    lacks={"array_api": _NO_ARRAY_API},
)


# ---- max and min ----------------------------------------------------------------------------


def _window_gather(x: Array, fill: Any, params: dict[str, Any]) -> Array:
    """The windows of `x` (padded with `fill`), ``(*out_shape, *window)``, as one gather with
    static indices: what the JVP of max and min differentiates through."""
    aval = core.get_aval(x)
    out_shape = reduce_window_shape_tuple(
        aval.shape,
        params["window_dimensions"],
        params["window_strides"],
        params["padding"],
        params["base_dilation"],
        params["window_dilation"],
    )
    config = [(lo, hi, d - 1) for (lo, hi), d in zip(params["padding"], params["base_dilation"])]
    padded = sh.pad(x, fill, config)
    n = aval.ndim
    indices = []
    for d, (m, k, s, wd) in enumerate(
        zip(
            out_shape,
            params["window_dimensions"],
            params["window_strides"],
            params["window_dilation"],
        )
    ):
        idx = np.arange(m)[:, None] * s + np.arange(k)[None, :] * wd
        shape = [1] * (2 * n)
        shape[d], shape[n + d] = m, k
        indices.append(idx.reshape(shape))
    return ix.gather(padded, indices, tuple(range(n)))


def _chooser_jvp(p: core.Primitive, kind: str, primals, tangents, **params):
    (x,), (t,) = primals, tangents
    ans = p.bind(x, **params)
    n = core.get_aval(x).ndim
    dt = core.get_aval(t).dtype
    xw = _window_gather(x, _identity(kind, core.get_aval(x).dtype), params)
    tw = _window_gather(t, np.zeros((), dt), params)
    shape = core.get_aval(xw).shape
    axes = tuple(range(n, 2 * n))
    location = ew.eq(xw, sh.broadcast_in_dim(ans, shape, tuple(range(n))))
    mask = ew.convert_element_type(location, dt)
    counts = red.reduce_sum(mask, axes)
    return ans, ew.div(red.reduce_sum(ew.mul(tw, mask), axes), counts)


def _define_chooser(kind: str, reducer: Callable[..., Any]) -> core.Primitive:
    """The primitive of a max or min over windows (the same rules, another reduction)."""

    def jvp(primals, tangents, **params):
        return _chooser_jvp(p, kind, primals, tangents, **params)

    def batch(axis_size, vals, dims, **params):
        return _batch(p, vals, dims, **params)

    jvp.__name__, batch.__name__ = f"_reduce_window_{kind}_jvp", f"_reduce_window_{kind}_batch"
    p = define_primitive(
        f"reduce_window_{kind}",
        allocates=True,
        impl=_reduce_window_impl(kind, reducer),
        abstract_eval=_reduce_window_aval("biuf"),
        jvp=jvp,
        batch=batch,
        cost=_reduce_window_cost,
        lacks={"array_api": _NO_ARRAY_API},
    )
    return p


reduce_window_max_p = _define_chooser("max", np.max)
reduce_window_min_p = _define_chooser("min", np.min)


# ---- wrappers -------------------------------------------------------------------------------


def _window_params(
    shape: Sequence[int],
    window_dimensions,
    window_strides,
    padding: Padding,
    base_dilation,
    window_dilation,
) -> dict[str, Any]:
    n = len(shape)
    what = "reduce_window"

    def positive(values, name):
        out = (1,) * n if values is None else tuple(int(v) for v in values)
        if len(out) != n or any(v < 1 for v in out):
            raise ValueError(
                f"{what}: {name} must have {n} positive entries (one per axis of "
                f"the operand, shape {tuple(shape)}), got {values}"
            )
        return out

    dims = positive(window_dimensions, "window_dimensions")
    strides = positive(window_strides, "window_strides")
    base = positive(base_dilation, "base_dilation")
    wdil = positive(window_dilation, "window_dilation")
    spans = [_dilated(k, d) for k, d in zip(dims, wdil)]
    pads = _explicit_pads(padding, shape, spans, strides, what)  # as JAX: the undilated shape
    return _params(dims, strides, pads, base, wdil)


def _window_reducer(p: core.Primitive, what: str) -> Callable[..., Array]:
    def reduce(
        operand: Array,
        window_dimensions: Sequence[int],
        window_strides: Sequence[int],
        padding: Padding,
        base_dilation: Sequence[int] | None = None,
        window_dilation: Sequence[int] | None = None,
    ) -> Array:
        params = _window_params(
            np.shape(operand),
            window_dimensions,
            window_strides,
            padding,
            base_dilation,
            window_dilation,
        )
        return p.bind(operand, **params)

    reduce.__name__ = p.name
    reduce.__doc__ = f"{what} over sliding windows; see `reduce_window`."
    return reduce


reduce_window_sum = _window_reducer(reduce_window_sum_p, "Sums (sum pooling)")
reduce_window_max = _window_reducer(reduce_window_max_p, "Maxima (max pooling)")
reduce_window_min = _window_reducer(reduce_window_min_p, "Minima (min pooling)")


_MONOIDS = {ew.add_p: "sum", ew.max_p: "max", ew.min_p: "min"}


def _monoid(computation: Callable[[Any, Any], Any], dtype: np.dtype) -> str | None:
    """Which of add, max and min `computation` is (the one equation of its program on two
    scalars), or None."""
    try:
        closed = pe.trace_to_jaxpr(lambda a, b: [computation(a, b)], [ShapedArray((), dtype)] * 2)
    except Exception:  # noqa: BLE001 - not a function of two scalars: the general path
        return None
    jaxpr = closed.jaxpr
    if len(jaxpr.eqns) == 1 and list(jaxpr.eqns[0].invars) == list(jaxpr.invars):
        return _MONOIDS.get(jaxpr.eqns[0].primitive)
    return None


def _is_identity(init_value: Any, kind: str, dtype: np.dtype) -> bool:
    if isinstance(init_value, core.Tracer):
        return False
    with np.errstate(invalid="ignore"):
        return bool(np.asarray(init_value) == _identity(kind, dtype))


def _fold_windows(
    operands: list[Array], inits: list[Array], computation, treedef, params: dict[str, Any]
) -> list[Array]:
    """The general reduction: `computation` folded over the window's places, one strided
    slice of the padded operands per place (a loop over the window, not over the output)."""
    shape = core.get_aval(operands[0]).shape
    out_shape = reduce_window_shape_tuple(
        shape,
        params["window_dimensions"],
        params["window_strides"],
        params["padding"],
        params["base_dilation"],
        params["window_dilation"],
    )
    config = [(lo, hi, d - 1) for (lo, hi), d in zip(params["padding"], params["base_dilation"])]
    acc = [sh.broadcast_in_dim(i, out_shape, ()) for i in inits]
    if math.prod(out_shape) == 0:
        return acc
    padded = [sh.pad(x, i, config) for x, i in zip(operands, inits)]
    strides = params["window_strides"]
    for place in itertools.product(*map(range, params["window_dimensions"])):
        starts = [k * d for k, d in zip(place, params["window_dilation"])]
        limits = [b + (m - 1) * s + 1 for b, m, s in zip(starts, out_shape, strides)]
        pieces = [sh.slice(p, starts, limits, strides) for p in padded]
        result = computation(tree_unflatten(treedef, acc), tree_unflatten(treedef, pieces))
        acc = tree_leaves(result)
        if len(acc) != len(operands):
            raise ValueError(
                f"reduce_window: computation returned {len(acc)} values for "
                f"{len(operands)} operands"
            )
    return acc


_PRIMITIVES = {"sum": reduce_window_sum_p, "max": reduce_window_max_p, "min": reduce_window_min_p}


def reduce_window(
    operand: Array,
    init_value: Any,
    computation: Callable[[Any, Any], Any],
    window_dimensions: Sequence[int],
    window_strides: Sequence[int],
    padding: Padding,
    base_dilation: Sequence[int] | None = None,
    window_dilation: Sequence[int] | None = None,
) -> Array:
    """Reduce sliding windows of `operand` with `computation` (pooling).

    **Arguments:**

    - `operand`: the array, or a pytree of arrays of one shape reduced together; every axis
      has a window (use size 1 to leave an axis alone).
    - `init_value`: the starting value of each reduction (a pytree like `operand`), also the
      value of padding and of the holes of `base_dilation`; usually the identity (0 for
      `lax.add`, ``-inf`` for `lax.max`, ``inf`` for `lax.min`).
    - `computation`: the binary reduction, on arrays (pytrees like `operand`). `lax.add`,
      `lax.max` and `lax.min` (or equivalents such as `funcdiff.numpy.maximum`) with their
      identity as `init_value` are one primitive each (`reduce_window_sum_p`...); any other
      is folded over the places of the window, one strided slice of the operand per place.
    - `window_dimensions`, `window_strides`: the window size and step along each axis.
    - `padding`: ``"SAME"``, ``"SAME_LOWER"``, ``"VALID"`` or ``(low, high)`` pairs.
    - `base_dilation`, `window_dilation`: dilation of the operand and of the window.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        x = np.arange(16.0).reshape(4, 4)
        print(lax.reduce_window(x, -np.inf, lax.max, (2, 2), (2, 2), "VALID"))
        print(lax.reduce_window(x, 0.0, lax.add, (3, 3), (1, 1), "SAME"))
        ```
    """
    operands, treedef = tree_flatten(operand)
    inits, init_tree = tree_flatten(init_value)
    if init_tree != treedef or not operands:
        raise ValueError(
            "reduce_window: operand and init_value must be arrays, or pytrees of "
            f"the same structure (got {treedef} and {init_tree})"
        )
    shape = np.shape(operands[0])
    params = _window_params(
        shape, window_dimensions, window_strides, padding, base_dilation, window_dilation
    )
    dtypes_ = [core.get_aval(x).dtype for x in operands]
    if len(operands) == 1:
        kind = _monoid(computation, dtypes_[0])
        if kind is not None and _is_identity(inits[0], kind, dtypes_[0]):
            return _PRIMITIVES[kind].bind(operands[0], **params)
    for x in operands[1:]:
        if np.shape(x) != shape:
            raise ValueError(
                f"reduce_window: operands of shapes {shape} and {np.shape(x)}; "
                "they must have the same shape"
            )
    inits = [
        i
        if isinstance(i, core.Tracer) and i.aval.dtype == d
        else ew.convert_element_type(i, d)
        if isinstance(i, core.Tracer)
        else np.asarray(i, d)
        for i, d in zip(inits, dtypes_)
    ]
    return tree_unflatten(treedef, _fold_windows(operands, inits, computation, treedef, params))
