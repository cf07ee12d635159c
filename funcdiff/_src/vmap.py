"""`vmap`: vectorise a function over a batch axis, with pytree `in_axes`/`out_axes` and
memory-bounded chunking."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from funcdiff._src import core, errors
from funcdiff._src.array import WeakArray, as_weak_array
from funcdiff._src.interpreters import batching
from funcdiff._src.lax import shape as lax_shape
from funcdiff._src.lax import structural
from funcdiff._src.tree_util import (
    keystr,
    tree_flatten,
    tree_flatten_with_path,
    tree_structure,
    tree_unflatten,
)

AxisSpec = Any


def broadcast_prefix(prefix: Any, tree: Any, what: str) -> list[Any]:
    """One entry of `prefix` per leaf of `tree`, where `prefix` is a tree prefix of `tree`
    whose leaves are ints or None (as `in_axes`/`out_axes`)."""
    leaves, treedef = tree_flatten(prefix, is_leaf=lambda x: x is None)
    try:
        subtrees = treedef.flatten_up_to(tree)
    except (ValueError, TypeError) as e:
        raise ValueError(
            f"vmap {what} specification must be a tree prefix of the corresponding value: got "
            f"specification {prefix!r} for a value of structure {tree_structure(tree)} ({e})"
        ) from None
    out: list[Any] = []
    for axis, sub in zip(leaves, subtrees):
        out.extend([axis] * len(tree_flatten(sub)[0]))
    return out


def _check_axis(axis: Any, what: str) -> None:
    if axis is not None and (not isinstance(axis, int) or isinstance(axis, bool)):
        kind = " (a bool is not an axis)" if isinstance(axis, bool) else ""
        raise TypeError(f"vmap {what} must be ints or None, got {axis!r}{kind}")


def vmap(
    fun: Callable[..., Any],
    in_axes: AxisSpec = 0,
    out_axes: AxisSpec = 0,
    axis_name: Any = None,
    axis_size: int | None = None,
    chunk_size: int | None = None,
) -> Callable[..., Any]:
    """Vectorise `fun` over an axis of its arguments: one batched pass, no Python loop.

    **Arguments:**

    - `fun`: the function to map.
    - `in_axes`: for each positional argument, the axis to map over (an int, negative
      allowed), `None` to broadcast it, or a pytree of those matching the argument. A single
      int or None applies to all arguments. Keyword arguments are mapped over axis 0.
    - `out_axes`: where the mapped axis goes in each output (int, None, or a pytree prefix).
    - `axis_name`: a name (any hashable, usually a string) for the mapped axis, which the
      collectives inside `fun` refer to: `lax.psum(x, name)` sums `x` over the batch,
      `lax.axis_index(name)` is each element's position in it (see
      [the collectives](lax.md#collectives-over-named-axes)).
    - `axis_size`: the batch size, needed only when no argument is mapped.
    - `chunk_size`: process the batch this many elements at a time (bounded memory; the
      same result).

    **Returns:** the vectorised function.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        per_row_norm = funcdiff.vmap(lambda v: jnp.sqrt(jnp.sum(v * v)))
        assert np.allclose(per_row_norm(np.array([[3.0, 4.0], [6.0, 8.0]])), [5.0, 10.0])

        # each row divided by the sum of all rows' norms: a collective over the named axis
        share = funcdiff.vmap(lambda v: per_row_norm(v[None])[0] / funcdiff.lax.psum(
            per_row_norm(v[None])[0], "rows"), axis_name="rows")
        assert np.allclose(share(np.array([[3.0, 4.0], [6.0, 8.0]])), [1 / 3, 2 / 3])
        ```
    """
    errors.check_callable(fun, "vmap")
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)
    for spec, what in ((in_axes, "in_axes"), (out_axes, "out_axes")):
        for axis in tree_flatten(spec, is_leaf=lambda x: x is None)[0]:
            _check_axis(axis, what)
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"vmap chunk_size must be a positive int, got {chunk_size}")
    if axis_name is not None:
        hash(axis_name)  # a TypeError for an unhashable name, as in JAX

    @functools.wraps(fun, updated=())
    def vmapped(*args: Any, **kwargs: Any) -> Any:
        if isinstance(in_axes, tuple) and len(in_axes) != len(args):
            raise ValueError(
                f"vmap in_axes has {len(in_axes)} entries but {_name(fun)} was called with "
                f"{len(args)} positional arguments; in_axes must have one entry per argument."
            )
        spec = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
        leaves, in_tree = tree_flatten((args, kwargs))
        axes = broadcast_prefix((spec, {k: 0 for k in kwargs}), (args, kwargs), "in_axes")
        for a in axes:
            _check_axis(a, "in_axes")
        axes = [_normalize(a, leaf, i) for i, (a, leaf) in enumerate(zip(axes, leaves))]
        size = _batch_size(fun, args, kwargs, leaves, axes, axis_size)
        out_store: list[Any] = [None]

        def flat_fun(*flat: Any) -> list[Any]:
            a, kw = tree_unflatten(in_tree, flat)
            out_leaves, out_store[0] = tree_flatten(fun(*a, **kw))
            return out_leaves

        if chunk_size is None or chunk_size >= size:
            # unnamed: the axis of the batching rule running now, if any (a rule that vmaps a
            # sub-computation); a user's function never runs inside a rule
            name = batching._INHERIT if axis_name is None else axis_name
            outs, dims = batching.vmap_flat(flat_fun, leaves, axes, size, name)
            outs = [structural.move_to_front(o, d, size) if d is not None else o
                    for o, d in zip(outs, dims)]
            dims = [0 if d is not None else None for d in dims]
        elif axis_name is not None:
            raise ValueError(
                f"vmap of {_name(fun)}: chunk_size={chunk_size} cannot be combined with "
                f"axis_name={axis_name!r}: a collective over the axis needs the whole batch "
                "at once"
            )
        else:
            outs, dims = _chunked(flat_fun, leaves, axes, size, chunk_size)
        out_tree = out_store[0]
        out_spec = broadcast_prefix(out_axes, tree_unflatten(out_tree, [0] * len(outs)),
                                    "out_axes")
        results = _place_outputs(fun, outs, dims, out_spec, size)
        # Results share no memory with the caller's arrays (vmap of the identity, a moved axis).
        return tree_unflatten(out_tree, core.owned_results(results, leaves))

    return vmapped


def _place_outputs(fun: Callable[..., Any], outs: list[Any], dims: list[int | None],
                   out_spec: list[Any], size: int) -> list[Any]:
    """Move each output's batch axis to where its `out_axes` entry says."""
    results = []
    for o, d, target in zip(outs, dims, out_spec):
        _check_axis(target, "out_axes")
        if d is None and isinstance(o, np.ndarray):
            # An output that does not depend on the mapped inputs may be an array the function
            # closed over (or a view of one): the result must not show later writes into it.
            # (A weakly typed one stays weak, as under jit.)
            copy = np.array(o.view(np.ndarray))
            o = as_weak_array(copy) if type(o) is WeakArray else copy
        if target is None:
            if d is not None:
                raise ValueError(
                    f"vmap of {_name(fun)}: an output is mapped, but its out_axes is None; "
                    "give it an axis, or return a value that does not depend on the mapped "
                    "inputs."
                )
            results.append(o)
            continue
        o = structural.move_to_front(o, d, size)
        ndim = core.get_aval(o).ndim
        if not -ndim <= target < ndim:
            raise ValueError(f"vmap out_axes {target} is out of range for an output of "
                             f"rank {ndim - 1}")
        results.append(structural.moveaxis(o, 0, target % ndim))
    return results


def _name(fun: Callable[..., Any]) -> str:
    return getattr(fun, "__name__", repr(fun))


def _normalize(axis: int | None, leaf: Any, index: int) -> int | None:
    if axis is None:
        return None
    if not core.is_valid_array(leaf):
        raise TypeError(f"vmap: mapped argument leaf {index} of type {type(leaf).__name__} is "
                        "not an array")
    ndim = core.get_aval(leaf).ndim
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"vmap in_axes={axis} is out of range for an argument of rank {ndim} (shape "
            f"{core.get_aval(leaf).shape})"
        )
    return axis % ndim


def _batch_size(fun, args, kwargs, leaves, axes, axis_size) -> int:
    sizes = {core.get_aval(leaf).shape[a] for leaf, a in zip(leaves, axes) if a is not None}
    if axis_size is not None:
        sizes.add(axis_size)
    if not sizes:
        raise ValueError(
            f"vmap of {_name(fun)} must have at least one argument mapped (in_axes not None) "
            "or be given axis_size."
        )
    if len(sizes) > 1:
        details = _leaf_sizes(fun, args, kwargs, axes)
        raise ValueError(
            f"vmap got inconsistent sizes for the mapped axis: {sorted(sizes)}"
            + (f" (axis_size={axis_size})" if axis_size is not None else "") + ". Arguments: "
            + "; ".join(details)
        )
    return sizes.pop()


def _leaf_sizes(fun, args, kwargs, axes) -> list[str]:
    """``"name[path]: axis 0 of shape (3,) has size 3"`` for every leaf of the positional and
    keyword arguments, in the order of `axes`."""
    names = errors.argument_names(fun, len(args))
    out = []
    for (path, leaf), axis in zip(tree_flatten_with_path((tuple(args), kwargs))[0], axes):
        group, key, *rest = path  # (args or kwargs, which one, the path inside it)
        name = names[key.idx] if group.idx == 0 else key.key
        shape = core.get_aval(leaf).shape if core.is_valid_array(leaf) else "?"
        size = "not mapped" if axis is None else f"axis {axis} of shape {shape} has size " \
            f"{shape[axis]}"
        out.append(f"{name}{keystr(tuple(rest))}: {size}")
    return out


def _chunked(flat_fun, leaves, axes, size, chunk_size):
    """Map over the batch `chunk_size` elements at a time and join the results. Eager results
    are copied into their final array as each chunk finishes, so that memory holds the result
    and one chunk, not every chunk and then their concatenation."""
    joined: list[Any] = []  # per output: the result array, a list of traced pieces, or None
    out_dims: list[int | None] = []
    for start in range(0, size, chunk_size):
        stop = min(start + chunk_size, size)
        chunk = [_take(leaf, a, start, stop) if a is not None else leaf
                 for leaf, a in zip(leaves, axes)]
        outs, dims = batching.vmap_flat(flat_fun, chunk, axes, stop - start, None)
        if not start:
            out_dims = [0 if d is not None else None for d in dims]
        for k, (o, d) in enumerate(zip(outs, dims)):
            if d is None:
                if not start:
                    joined.append(o)
                continue
            o = structural.move_to_front(o, d, stop - start)
            if not start:
                joined.append(np.empty((size, *o.shape[1:]), o.dtype)
                              if isinstance(o, np.ndarray) else [])
            if isinstance(joined[k], np.ndarray):
                joined[k][start:stop] = o
            else:
                joined[k].append(o)
        outs = o = None  # this chunk is in the result now
    return [lax_shape.concatenate(j, 0) if isinstance(j, list) else j for j in joined], out_dims


def _take(x: Any, axis: int, start: int, stop: int) -> Any:
    aval = core.get_aval(x)
    starts = [0] * aval.ndim
    limits = list(aval.shape)
    starts[axis], limits[axis] = start, stop
    return lax_shape.slice(x, starts, limits)
