"""Reductions and prefix scans with a user's combining function: `associative_scan` (a parallel
prefix scan, in O(log n) vectorised steps) and `reduce` (JAX's general reduction, with a
computation and initial values).

Both are compositions: slices, concatenations and the user's function, so that every
transformation goes through them with the rules of the primitives they are made of. `reduce`
recognises the monoids with a primitive of their own (add, mul, max, min, and, or with their
identity as initial value) and binds that primitive, as JAX does.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.interpreters import batching
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import reductions as red
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax.structural import move_to_front
from funcdiff._src.tree_util import tree_flatten, tree_unflatten

Array = Any


def _take(x: Any, axis: int, start: int, stop: int, step: int = 1) -> Any:
    """``x[start:stop:step]`` along `axis`."""
    shape = core.get_aval(x).shape
    lo, hi, strides = [0] * len(shape), list(shape), [1] * len(shape)
    lo[axis], hi[axis], strides[axis] = start, builtins.max(start, stop), step
    return sh.slice(x, lo, hi, strides)


def _interleave(a: Any, b: Any, axis: int) -> Any:
    """``a[0], b[0], a[1], b[1], ...`` along `axis`; `a` has as many elements as `b` or one
    more."""
    na, nb = core.get_aval(a).shape[axis], core.get_aval(b).shape[axis]
    head = _take(a, axis, 0, nb) if na > nb else a
    pairs = sh.concatenate(
        [sh.expand_dims(head, (axis + 1,)), sh.expand_dims(b, (axis + 1,))], axis + 1
    )
    shape = core.get_aval(pairs).shape
    out = sh.reshape(pairs, (*shape[:axis], 2 * nb, *shape[axis + 2 :]))
    return sh.concatenate([out, _take(a, axis, nb, na)], axis) if na > nb else out


def _combine(fn: Callable, tree: Any, a: list[Any], b: list[Any], what: str) -> list[Any]:
    out, out_tree = tree_flatten(fn(tree_unflatten(tree, a), tree_unflatten(tree, b)))
    if out_tree != tree:
        raise TypeError(
            f"{what}: the combining function must return the structure of its arguments, "
            f"{tree}, got {out_tree}"
        )
    for x, y in zip(a, out):
        if core.get_aval(y).shape != core.get_aval(x).shape:
            raise TypeError(
                f"{what}: the combining function must work elementwise on arrays: given "
                f"shape {core.get_aval(x).shape} it returned shape {core.get_aval(y).shape}"
            )
    return out


def _prefix(fn: Callable, tree: Any, xs: list[Any], axis: int) -> list[Any]:
    """Inclusive prefix combination of the flat leaves `xs` along `axis`: combine neighbours,
    scan the half as long sequence of pairs, then fill in the elements between."""
    n = core.get_aval(xs[0]).shape[axis]
    if n < 2:
        return xs
    pairs = _combine(
        fn,
        tree,
        [_take(x, axis, 0, n - 1, 2) for x in xs],
        [_take(x, axis, 1, n, 2) for x in xs],
        "associative_scan",
    )
    odd = _prefix(fn, tree, pairs, axis)  # the prefixes ending at positions 1, 3, 5...
    # the prefixes ending at positions 2, 4...: an odd prefix and the next element
    m = (n - 1) // 2
    rest = _combine(
        fn,
        tree,
        [_take(o, axis, 0, m) for o in odd],
        [_take(x, axis, 2, n, 2) for x in xs],
        "associative_scan",
    )
    even = [sh.concatenate([_take(x, axis, 0, 1), r], axis) for x, r in zip(xs, rest)]
    return [_interleave(e, o, axis) for e, o in zip(even, odd)]


def associative_scan(fn: Callable, elems: Any, reverse: bool = False, axis: int = 0) -> Any:
    """The inclusive prefix combination of `elems` along `axis` with an associative `fn`:
    ``out[i] = fn(...fn(fn(elems[0], elems[1]), elems[2])..., elems[i])``, computed in
    O(log n) vectorised rounds (each calls `fn` once on whole arrays, so `fn` must act
    elementwise on its arguments). `elems` may be a pytree of arrays of one length along
    `axis`; `fn` takes and returns pytrees of that structure. With `reverse`, the scan runs
    from the end (``out[i]`` combines ``elems[i:]``).

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp
        from funcdiff import lax

        print(lax.associative_scan(jnp.add, np.arange(1.0, 6.0)))
        print(lax.associative_scan(jnp.maximum, np.array([1, 3, 2, 5, 4]), reverse=True))
        # an affine recurrence h[t] = a[t] * h[t-1] + b[t], as pairs (a, b)
        compose = lambda p, q: (q[0] * p[0], q[0] * p[1] + q[1])
        print(lax.associative_scan(compose, (np.full(4, 0.5), np.ones(4)))[1])
        product = lambda x: lax.associative_scan(jnp.multiply, x)[-1]
        print(funcdiff.grad(product)(np.arange(1.0, 4.0)))
        ```
    """
    xs, tree = tree_flatten(elems)
    if not xs:
        raise ValueError("associative_scan needs at least one array in elems")
    avals = [core.get_aval(x) for x in xs]
    ndim = avals[0].ndim
    if ndim == 0 or not -ndim <= axis < ndim:
        raise ValueError(f"associative_scan: axis {axis} is not an axis of shape {avals[0].shape}")
    axis %= ndim
    lengths = {a.shape[axis] if a.ndim > axis else None for a in avals}
    if len(lengths) != 1:
        raise ValueError(
            "associative_scan: every array of elems must have one length along axis "
            f"{axis}, got shapes {[a.shape for a in avals]}"
        )
    if reverse:
        xs = [sh.rev(x, (axis,)) for x in xs]
    out = _prefix(fn, tree, xs, axis)
    if reverse:
        out = [sh.rev(x, (axis,)) for x in out]
    return tree_unflatten(tree, out)


# ---- reduce ---------------------------------------------------------------------------------

_MONOIDS = {
    ew.add_p: (red.reduce_sum, lambda v: v == 0),
    ew.mul_p: (red.reduce_prod, lambda v: v == 1),
    ew.max_p: (red.reduce_max, lambda v: v == (-np.inf if v.dtype.kind == "f" else _lowest(v))),
    ew.min_p: (red.reduce_min, lambda v: v == (np.inf if v.dtype.kind == "f" else _highest(v))),
    ew.and_p: (red.reduce_and, lambda v: v == (True if v.dtype.kind == "b" else -1)),
    ew.or_p: (red.reduce_or, lambda v: v == 0),
}


def _lowest(v: np.ndarray) -> Any:
    return False if v.dtype.kind == "b" else np.iinfo(v.dtype).min


def _highest(v: np.ndarray) -> Any:
    return True if v.dtype.kind == "b" else np.iinfo(v.dtype).max


def _monoid(computation: Callable, x: Any, init: Any) -> Callable | None:
    """The reduction primitive's function when `computation` is one of the monoids with a
    primitive and the (concrete) `init` is its identity, else None."""
    if isinstance(init, core.Tracer):
        return None
    scalar = core.ShapedArray((), core.get_aval(x).dtype)
    try:
        jaxpr = pe.trace_to_jaxpr(lambda a, b: [computation(a, b)], [scalar, scalar]).jaxpr
    except Exception:  # noqa: BLE001 (not a plain function of two scalars: the general path)
        return None
    if len(jaxpr.eqns) != 1:
        return None
    (eqn,) = jaxpr.eqns
    if eqn.primitive not in _MONOIDS or list(eqn.outvars) != list(jaxpr.outvars):
        return None
    if {id(v) for v in eqn.invars} != {id(v) for v in jaxpr.invars}:
        return None
    reducer, is_identity = _MONOIDS[eqn.primitive]
    value = np.asarray(init)
    return reducer if value.shape == () and bool(is_identity(value)) else None


def _elementwise(computation: Callable, tree: Any, a: list[Any], b: list[Any]) -> list[Any]:
    """`computation` on each pair of elements of the flat leaves `a` and `b` (arrays of one
    shape), by batching over the elements: the computation sees scalars, as in JAX."""
    shape = core.get_aval(a[0]).shape
    size = int(np.prod(shape, dtype=np.int64))
    flat = [sh.reshape(x, (size,)) for x in (*a, *b)]
    k = len(a)

    def per_element(*scalars: Any) -> list[Any]:
        x, y = tree_unflatten(tree, list(scalars[:k])), tree_unflatten(tree, list(scalars[k:]))
        out, out_tree = tree_flatten(computation(x, y))
        if out_tree != tree:
            raise TypeError(
                f"lax.reduce: the computation must return the structure of the operands, "
                f"{tree}, got {out_tree}"
            )
        return out

    outs, dims = batching.vmap_flat(per_element, flat, [0] * len(flat), size, axis_name=None)
    outs = [sh.reshape(move_to_front(o, d, size), shape) for o, d in zip(outs, dims)]
    for x, o in zip(a, outs):
        if core.get_aval(o).dtype != core.get_aval(x).dtype:
            raise TypeError(
                f"lax.reduce: the computation must keep the operands' dtypes, got "
                f"{core.get_aval(o).dtype} for {core.get_aval(x).dtype}"
            )
    return outs


def _check_reduce(xs: list[Any], inits: list[Any], dimensions: Sequence[int]) -> tuple:
    if not xs or len(xs) != len(inits):
        raise TypeError(
            f"lax.reduce needs as many initial values as operands, got {len(inits)} for "
            f"{len(xs)} operands"
        )
    shapes = {core.get_aval(x).shape for x in xs}
    if len(shapes) != 1:
        raise TypeError(f"lax.reduce: the operands must have one shape, got {sorted(shapes)}")
    shape = shapes.pop()
    dims = tuple(int(d) for d in dimensions)
    if len(set(dims)) != len(dims) or any(not 0 <= d < len(shape) for d in dims):
        raise ValueError(f"lax.reduce: dimensions {dims} are not distinct axes of shape {shape}")
    for x, i in zip(xs, inits):
        xa, ia = core.get_aval(x), core.get_aval(i)
        if ia.shape != () or (ia.dtype != xa.dtype and not ia.weak_type):
            raise TypeError(
                f"lax.reduce: each initial value must be a scalar of its operand's dtype, got "
                f"{ia.str_short()} for an operand of dtype {xa.dtype}"
            )
    return shape, dims


def reduce(
    operands: Any,
    init_values: Any,
    computation: Callable[[Any, Any], Any],
    dimensions: Sequence[int],
    out_sharding: Any = None,
) -> Any:
    """Reduce `operands` (an array, or a pytree of arrays of one shape) over `dimensions` with
    `computation`, a function of two scalars (or two pytrees of scalars, like `operands`)
    returning one, starting from `init_values` (scalars, like `operands`). The computation
    must be associative; `init_values` are combined with the result once. When the
    computation is ``add``, ``mul``, ``max``, ``min``, ``and`` or ``or`` and the initial
    value is its identity, the matching reduction primitive is used (`reduce_sum`...). Other
    computations are applied pairwise in O(log n) rounds and differentiated through.
    `out_sharding` is accepted and ignored.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp
        from funcdiff import lax

        x = np.array([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])
        print(lax.reduce(x, 0.0, lax.add, (1,)))
        print(funcdiff.make_jaxpr(lambda x: lax.reduce(x, -np.inf, lax.max, (0,)))(x))
        # an argmax as a reduction over (value, index) pairs
        def pick(a, b):
            take_b = b[0] > a[0]
            return jnp.where(take_b, b[0], a[0]), jnp.where(take_b, b[1], a[1])
        idx = lax.broadcasted_iota(np.int64, x.shape, 1)
        print(lax.reduce((x, idx), (-np.inf, np.int64(0)), pick, (1,)))
        ```
    """
    xs, tree = tree_flatten(operands)
    inits, init_tree = tree_flatten(init_values)
    if init_tree != tree:
        raise TypeError(f"lax.reduce: init_values {init_tree} must match the operands {tree}")
    shape, dims = _check_reduce(xs, inits, dimensions)
    if len(xs) == 1 and (reducer := _monoid(computation, xs[0], inits[0])) is not None:
        return tree_unflatten(tree, [reducer(xs[0], dims)])
    kept = [d for d in range(len(shape)) if d not in dims]
    kept_shape = tuple(shape[d] for d in kept)
    n = int(np.prod([shape[d] for d in dims], dtype=np.int64))
    xs = [sh.reshape(sh.transpose(x, (*kept, *dims)), (*kept_shape, n)) for x in xs]
    inits = [ew.convert_element_type(i, core.get_aval(x).dtype) for i, x in zip(inits, xs)]
    acc = [sh.broadcast_in_dim(i, kept_shape, ()) for i in inits]
    if n == 0 or 0 in kept_shape:
        return tree_unflatten(tree, acc)
    last = len(kept_shape)
    while n > 1:
        half = _elementwise(
            computation,
            tree,
            [_take(x, last, 0, n - 1, 2) for x in xs],
            [_take(x, last, 1, n, 2) for x in xs],
        )
        if n % 2:
            half = [sh.concatenate([h, _take(x, last, n - 1, n)], last) for h, x in zip(half, xs)]
        xs, n = half, (n + 1) // 2
    total = [sh.reshape(x, kept_shape) for x in xs]
    out = _elementwise(computation, tree, acc, total)
    return tree_unflatten(tree, [sh.reshape(o, kept_shape) for o in out])
