"""Collectives over the named axes of `vmap` (``vmap(f, axis_name="i")``): `psum`, `pmean`,
`pmax`, `pmin`, `all_gather`, `axis_index` and `axis_size`, with JAX's semantics.

Inside ``vmap(f, axis_name="i")``, `f` sees one element of the batch; ``psum(x, "i")`` is the
sum of `x` over all of them, the same for each. Each collective is a primitive with the names
of its axes in its params. The `BatchTrace` of a named axis reduces over its batch dimension
when a collective names it, and passes the collective on (the batch dimension is one more
array axis) when it names another axis, so nested vmaps with different names compose. A
value that does not vary along the named axis meets the collective at that axis' trace, or,
if it was never batched there, in the implementation, which reads the axis' size from the
scope of the enclosing vmaps (`batching.axis_env`).

Derivatives follow JAX: `psum` is linear and its own transpose; `all_gather`'s transpose
sums the cotangents over the axis and keeps this element's slice; `pmax`/`pmin` route the
derivative to the elements equal to the result, shared equally among ties.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.core import ShapedArray
from funcdiff._src.errors import PrimitiveError
from funcdiff._src.interpreters import batching
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters.ad import Zero
from funcdiff._src.lax import dynamic_slicing as ds
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import indexing
from funcdiff._src.lax import reductions as red
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax._define import define_primitive
from funcdiff._src.lax.structural import move_to_front, moveaxis
from funcdiff._src.tree_util import tree_map

Array = Any


def _names(axis_name: Any) -> tuple[Any, ...]:
    names = tuple(axis_name) if isinstance(axis_name, tuple | list) else (axis_name,)
    for n in names:
        batching.axis_frame(n)  # a NameError for an unbound name
    return names


def _one_axis(fn: str, axis_name: Any, groups: Any) -> tuple[Any]:
    """The one bound axis name a collective over a single axis takes."""
    _no_groups(fn, groups)
    names = _names(axis_name)
    if len(names) != 1:
        raise NotImplementedError(f"lax.{fn} works over one named axis, got {names}")
    return names  # type: ignore[return-value]


def _no_groups(fn: str, groups: Any) -> None:
    if groups is not None:
        raise NotImplementedError(
            f"lax.{fn}: axis_index_groups is not supported over the named axes of vmap (JAX "
            "refuses it there too); split the batch into its groups instead, e.g. vmap over "
            "an axis of groups and within it over the members of a group, and name the inner "
            "axis"
        )


def _size(names: Sequence[Any]) -> int:
    return math.prod(batching.axis_frame(n)[1] for n in names)


class _Collective(core.Primitive):
    """A collective's primitive: its operand goes through the BatchTrace of each axis it names,
    even when not batched there (a psum of a value shared by the batch sums it over the batch)
    or when not traced at all: a constant operand is wrapped as that trace's unbatched value,
    and `axis_index`, with no operand, goes to that trace directly. While a program is being
    staged above that trace (a sub-program's derivative, say), the collective is staged as
    it is: the program meets the trace when the vmap evaluates it."""

    __slots__ = ()

    def bind(self, *args: Any, **params: Any) -> Any:
        mains = [f[2] for f in batching.axis_env if f[0] in params["axis_name"]]
        if mains:
            main = max(mains, key=lambda m: m.level)
            if main.level > core._state.dynamic.level:
                if not args:
                    return batching.trace_of(main).process_primitive(self, [], params)
                args = tuple(batching.into(main, x) for x in args)
        return super().bind(*args, **params)


def _collective(p: core.Primitive) -> core.Primitive:
    p.__class__ = _Collective  # made by define_primitive; same layout (no new slots)
    batching.collectives.add(p)
    return p


def _same_aval(x: ShapedArray, **_: Any) -> ShapedArray:
    return x


def _cost(avals_in, avals_out, **_: Any) -> cost_mod.Cost:
    n = math.prod(avals_in[0].shape)
    return cost_mod.Cost(n, 0, cost_mod.nbytes(avals_in[0]), cost_mod.nbytes(avals_out[0]))


# ---- psum, pmax, pmin ------------------------------------------------------------------------


def _reducer_batch(reduce, p_of):
    """The batching rule of a reducing collective: over this trace's axis, a reduction of the
    batch dimension (then the collective over the other named axes); over another axis, the
    collective applied to the batched value, whose batch dimension is one more array axis."""

    def rule(axis_size, vals, dims, *, axis_name):
        (x,), (d,) = vals, dims
        name = batching.current_axis_name()
        if name not in axis_name:
            return p_of().bind(x, axis_name=axis_name), d
        rest = tuple(n for n in axis_name if n != name)
        out = reduce(x, d, axis_size)
        return (p_of().bind(out, axis_name=rest) if rest else out), None

    return rule


def _sum_over(x: Any, d: int | None, size: int) -> Any:
    if d is None:  # the same value for every element of the batch
        return ew.mul(x, np.asarray(size, core.get_aval(x).dtype))
    return red.reduce_sum(x, (d,))


def _extremum_over(reduce):
    return lambda x, d, size: x if d is None else reduce(x, (d,))


def _psum_impl(x: Any, *, axis_name: tuple) -> Any:
    # reached when x is the same along the named axes: each element sums `size` copies
    return np.multiply(x, np.asarray(_size(axis_name), np.asarray(x).dtype))


psum_p = define_primitive(
    "psum",
    impl=_psum_impl,
    abstract_eval=_same_aval,
    linear=True,
    transpose=lambda ct, x, *, axis_name: [psum_p.bind(ct, axis_name=axis_name)],
    batch=_reducer_batch(_sum_over, lambda: psum_p),
    cost=_cost,
)


def _extremum_jvp(p_of):
    def jvp(primals, tangents, *, axis_name):
        (x,), (t,) = primals, tangents
        out = p_of().bind(x, axis_name=axis_name)
        if type(t) is Zero:
            return out, t
        hit = ew.eq(x, out)
        dtype = core.get_aval(t).dtype
        count = psum_p.bind(ew.convert_element_type(hit, dtype), axis_name=axis_name)
        chosen = psum_p.bind(ew.select(hit, t, ew.zeros_like(t)), axis_name=axis_name)
        return out, ew.div(chosen, count)

    return jvp


pmax_p = define_primitive(
    "pmax",
    impl=lambda x, *, axis_name: x,
    abstract_eval=_same_aval,
    jvp=_extremum_jvp(lambda: pmax_p),
    cost=_cost,
    batch=_reducer_batch(_extremum_over(red.reduce_max), lambda: pmax_p),
)
pmin_p = define_primitive(
    "pmin",
    impl=lambda x, *, axis_name: x,
    abstract_eval=_same_aval,
    jvp=_extremum_jvp(lambda: pmin_p),
    cost=_cost,
    batch=_reducer_batch(_extremum_over(red.reduce_min), lambda: pmin_p),
)
for _p in (psum_p, pmax_p, pmin_p):
    _collective(_p)


def psum(x: Any, axis_name: Any, *, axis_index_groups: Any = None) -> Any:
    """The sum of `x` (a pytree of arrays) over the named axis (or axes, a tuple) of the
    enclosing `vmap`: each element of the batch gets the total.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff import lax

        normalise = funcdiff.vmap(lambda x: x / lax.psum(x, "i"), axis_name="i")
        print(normalise(np.array([1.0, 3.0, 4.0])))
        ```
    """
    return _reduce("psum", psum_p, x, axis_name, axis_index_groups)


def pmax(x: Any, axis_name: Any, *, axis_index_groups: Any = None) -> Any:
    """The maximum of `x` (a pytree of arrays) over the named axis (or axes) of the enclosing
    `vmap`. Its derivative goes to the elements equal to the maximum, shared among ties.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff import lax

        print(funcdiff.vmap(lambda x: x - lax.pmax(x, "i"), axis_name="i")(np.arange(3.0)))
        ```
    """
    return _reduce("pmax", pmax_p, x, axis_name, axis_index_groups)


def pmin(x: Any, axis_name: Any, *, axis_index_groups: Any = None) -> Any:
    """The minimum of `x` (a pytree of arrays) over the named axis (or axes) of the enclosing
    `vmap`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff import lax

        print(funcdiff.vmap(lambda x: lax.pmin(x, "i"), axis_name="i")(np.array([3, 1, 2])))
        ```
    """
    return _reduce("pmin", pmin_p, x, axis_name, axis_index_groups)


def pmean(x: Any, axis_name: Any, *, axis_index_groups: Any = None) -> Any:
    """The mean of `x` (a pytree of inexact arrays) over the named axis (or axes) of the
    enclosing `vmap`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff import lax

        center = funcdiff.vmap(lambda x: x - lax.pmean(x, "i"), axis_name="i")
        print(center(np.array([1.0, 2.0, 6.0])))
        ```
    """
    names = _names(axis_name)
    n = _size(names)
    total = psum(x, names, axis_index_groups=axis_index_groups)

    def mean(s: Any) -> Any:
        aval = core.get_aval(s)
        if aval.dtype.kind not in "fc":
            raise TypeError(f"lax.pmean takes inexact arrays, got {aval.dtype}")
        return ew.div(s, np.asarray(n, aval.dtype))

    return tree_map(mean, total)


def _reduce(fn: str, p: core.Primitive, x: Any, axis_name: Any, groups: Any) -> Any:
    _no_groups(fn, groups)
    names = _names(axis_name)
    return tree_map(lambda leaf: p.bind(leaf, axis_name=names), x)


# ---- axis_index, axis_size ------------------------------------------------------------------


def _axis_index_impl(*, axis_name: tuple) -> Any:
    raise NameError(
        f"lax.axis_index({axis_name[0]!r}) ran outside the vmap that binds it: a program that "
        "uses it runs only inside that vmap"
    )


def _axis_index_batch(axis_size, vals, dims, *, axis_name):
    return np.arange(axis_size, dtype=np.int32), 0


axis_index_p = _collective(
    define_primitive(
        "axis_index",
        impl=_axis_index_impl,
        abstract_eval=lambda *, axis_name: ShapedArray((), np.dtype(np.int32)),
        nondifferentiable=True,
        batch=_axis_index_batch,
        cost=cost_mod.free_cost,
    )
)


def axis_index(axis_name: Any) -> Array:
    """The position of the current element in the named axis of the enclosing `vmap`, an
    int32 scalar (0, 1, ... across the batch).

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff import lax

        print(funcdiff.vmap(lambda x: x * lax.axis_index("i"), axis_name="i")(np.ones(4)))
        ```
    """
    batching.axis_frame(axis_name)  # a NameError for an unbound name
    return axis_index_p.bind(axis_name=(axis_name,))


def axis_size(axis_name: Any) -> int:
    """The size of the named axis (or the product of the sizes of a tuple of names) of the
    enclosing `vmap`s, a Python int.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff import lax

        print(funcdiff.vmap(lambda x: x / lax.axis_size("i"), axis_name="i")(np.ones(4)))
        ```
    """
    return _size(_names(axis_name))


# ---- all_gather -----------------------------------------------------------------------------


def _gather_shape(shape: tuple[int, ...], axis: int, size: int, tiled: bool) -> tuple:
    if tiled:
        return (*shape[:axis], size * shape[axis], *shape[axis + 1 :])
    return (*shape[:axis], size, *shape[axis:])


def _all_gather_aval(x: ShapedArray, *, axis_name, axis_size, axis, tiled) -> ShapedArray:
    if not 0 <= axis <= x.ndim - (1 if tiled else 0):
        raise PrimitiveError(f"all_gather: axis {axis} is out of range for shape {x.shape}")
    return ShapedArray(_gather_shape(x.shape, axis, axis_size, tiled), x.dtype, x.weak_type)


def _gathered(x: Any, axis: int, size: int, tiled: bool) -> Any:
    """`x` (batched along its first axis, of `size`) laid out as all_gather's result."""
    x = moveaxis(x, 0, axis)
    if not tiled:
        return x
    shape = core.get_aval(x).shape
    return sh.reshape(x, (*shape[:axis], shape[axis] * shape[axis + 1], *shape[axis + 2 :]))


def _all_gather_impl(x: Any, *, axis_name, axis_size, axis, tiled) -> Any:
    # reached when x is the same along the axis: every element contributes a copy
    x = np.asarray(x)
    stacked = np.broadcast_to(x, (axis_size, *x.shape))
    return np.asarray(_gathered(stacked, axis, axis_size, tiled))


def _all_gather_batch(size, vals, dims, *, axis_name, axis_size, axis, tiled):
    (x,), (d,) = vals, dims
    name = batching.current_axis_name()
    if name not in axis_name:  # another axis: its batch dimension goes first, after ours
        x = move_to_front(x, d, size)
        out = all_gather_p.bind(
            x, axis_name=axis_name, axis_size=axis_size, axis=axis + 1, tiled=tiled
        )
        return out, 0
    return _gathered(move_to_front(x, d, size), axis, size, tiled), None


def _all_gather_transpose(ct, x, *, axis_name, axis_size, axis, tiled):
    # each element's cotangent is the sum over the axis of its slice of every cotangent
    total = psum_p.bind(ct, axis_name=axis_name)
    (name,) = axis_name
    index = axis_index(name)
    n = x.aval.shape[axis] if tiled else 1
    start = ew.mul(index, np.int32(n))
    piece = ds.dynamic_slice(
        total,
        [start if k == axis else np.int32(0) for k in range(core.get_aval(total).ndim)],
        [n if k == axis else s for k, s in enumerate(core.get_aval(total).shape)],
    )
    return [piece if tiled else sh.squeeze(piece, (axis,))]


all_gather_p = define_primitive(
    "all_gather",
    impl=_all_gather_impl,
    abstract_eval=_all_gather_aval,
    linear=True,
    transpose=_all_gather_transpose,
    batch=_all_gather_batch,
    cost=cost_mod.memory_cost,
)
_collective(all_gather_p)


def all_gather(
    x: Any,
    axis_name: Any,
    *,
    axis_index_groups: Any = None,
    axis: int = 0,
    tiled: bool = False,
    to: str = "varying",
) -> Any:
    """The values of `x` (a pytree of arrays) at every element of the named axis of the
    enclosing `vmap`, stacked along a new axis `axis` (with `tiled`, concatenated along the
    existing axis `axis`); each element gets the whole stack. `to` is accepted for JAX
    compatibility.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff import lax

        print(funcdiff.vmap(lambda x: lax.all_gather(x, "i"), axis_name="i")(np.arange(3.0)))
        ```
    """
    names = _one_axis("all_gather", axis_name, axis_index_groups)
    size = _size(names)

    def gather(leaf: Any) -> Any:
        ndim = core.get_aval(leaf).ndim
        top = ndim - 1 if tiled else ndim
        if not -top - 1 <= axis <= top:
            raise ValueError(f"lax.all_gather: axis {axis} is out of range for rank {ndim}")
        return all_gather_p.bind(
            leaf, axis_name=names, axis_size=size, axis=axis % (top + 1), tiled=bool(tiled)
        )

    return tree_map(gather, x)


# ---- psum_scatter, ppermute -----------------------------------------------------------------


def psum_scatter(
    x: Any,
    axis_name: Any,
    *,
    scatter_dimension: int = 0,
    axis_index_groups: Any = None,
    tiled: bool = False,
) -> Any:
    """The sum of `x` over the named axis, cut along `scatter_dimension` into one piece per
    element of the axis: element ``i`` gets piece ``i``. Without `tiled`, the dimension's
    size must equal the axis' size and is removed; with `tiled`, it must be a multiple of it
    and is divided by it. The transpose of `all_gather`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff import lax

        x = np.arange(9.0).reshape(3, 3)  # element i holds row i
        print(funcdiff.vmap(lambda r: lax.psum_scatter(r, "i"), axis_name="i")(x))
        ```
    """
    names = _one_axis("psum_scatter", axis_name, axis_index_groups)
    (name,) = names
    n = _size(names)

    def scatter(leaf: Any) -> Any:
        shape = core.get_aval(leaf).shape
        d = scatter_dimension % max(len(shape), 1)
        piece = _piece_size("psum_scatter", scatter_dimension, shape, n, tiled)
        out = _my_chunk(psum_p.bind(leaf, axis_name=(name,)), name, d, piece)
        return out if tiled else sh.squeeze(out, (d,))

    return tree_map(scatter, x)


def _piece_size(fn: str, dimension: int, shape: tuple[int, ...], n: int, tiled: bool) -> int:
    """The size of each element's piece of `dimension` when it is cut into `n` pieces: 1,
    and the dimension must have size `n`, unless `tiled` (then a multiple of `n`)."""
    size = shape[dimension % len(shape)] if shape else None
    if size is None or (size != n if not tiled else size % n):
        raise ValueError(
            f"lax.{fn}: dimension {dimension} of shape {shape} must be "
            + (f"a multiple of the axis size {n}" if tiled else f"the axis size {n}")
        )
    return size // n


def _my_chunk(x: Any, name: Any, axis: int, piece: int) -> Any:
    """This element's piece of `x` along `axis`: the i-th of size `piece` at index i of the
    named axis."""
    shape = core.get_aval(x).shape
    start = ew.mul(axis_index(name), np.int32(piece))
    starts = [start if k == axis else np.int32(0) for k in range(len(shape))]
    return ds.dynamic_slice(x, starts, [piece if k == axis else s for k, s in enumerate(shape)])


def _ppermute_table(perm: tuple, size: int) -> np.ndarray:
    """For each destination index, its source index (-1: none, the result is zero)."""
    table = np.full(size, -1, np.int64)
    for src, dst in perm:
        table[dst] = src
    return table


def _ppermute_batch(axis_size, vals, dims, *, axis_name, perm):
    (x,), (d,) = vals, dims
    if batching.current_axis_name() not in axis_name:
        return ppermute_p.bind(x, axis_name=axis_name, perm=perm), d
    x = move_to_front(x, d, axis_size)
    table = _ppermute_table(perm, axis_size)
    ndim = core.get_aval(x).ndim
    moved = indexing.gather(x, [np.maximum(table, 0)], (0,) + (-1,) * (ndim - 1))
    mask = (table >= 0).reshape((axis_size,) + (1,) * (ndim - 1))
    return ew.select(np.broadcast_to(mask, core.get_aval(x).shape), moved, ew.zeros_like(moved)), 0


def _ppermute_impl(x: Any, *, axis_name, perm) -> Any:
    raise NameError(
        f"lax.ppermute over {axis_name} ran outside the vmap that binds it: a program that uses "
        "it runs only inside that vmap"
    )


ppermute_p = _collective(
    define_primitive(
        "ppermute",
        impl=_ppermute_impl,
        abstract_eval=lambda x, **_: x,
        linear=True,
        transpose=lambda ct, x, *, axis_name, perm: [
            ppermute_p.bind(ct, axis_name=axis_name, perm=tuple((d, s) for s, d in perm))
        ],
        batch=_ppermute_batch,
        cost=cost_mod.memory_cost,
    )
)


def ppermute(x: Any, axis_name: Any, perm: Any) -> Any:
    """Move values between the elements of the named axis: for each pair ``(source,
    destination)`` of `perm`, element `destination` gets `x` of element `source`; an element
    that is no destination gets zeros. No two pairs may share a source or a destination.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff import lax

        shift = lambda v: lax.ppermute(v, "i", [(0, 1), (1, 2), (2, 0)])  # a rotation
        print(funcdiff.vmap(shift, axis_name="i")(np.array([10.0, 20.0, 30.0])))
        ```
    """
    names = _one_axis("ppermute", axis_name, None)
    n = _size(names)
    pairs = tuple((int(s), int(d)) for s, d in perm)
    sources, dests = [s for s, _ in pairs], [d for _, d in pairs]
    if (
        len(set(sources)) != len(sources)
        or len(set(dests)) != len(dests)
        or any(not 0 <= i < n for i in sources + dests)
    ):
        raise ValueError(
            f"lax.ppermute: perm {list(pairs)} must pair distinct sources with distinct "
            f"destinations, all in [0, {n})"
        )
    return tree_map(lambda leaf: ppermute_p.bind(leaf, axis_name=names, perm=pairs), x)

