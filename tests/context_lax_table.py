"""`lax_table` records of the primitives that only run inside a context: the collectives
(`psum`, `pmax`, `pmin`, `all_gather`, `axis_index`, `ppermute`), which need a `vmap` that
binds their axis name, and `custom_linear_solve`, which takes functions. Imported at the end of
`lax_table`, whose `LAX_OPS` they join, so that every generic check runs on them. A record
also drives the collectives composed of its primitive (`pmean` and `psum_scatter` of psum,
`all_to_all` and `pswapaxes` of all_gather, `pshuffle` of ppermute), by a ``via`` param.

A collective's record calls it (`per_element`) inside its `context`, ``vmap(...,
axis_name="i")`` (for some examples, a second vmap ``"j"`` over the next axis, the collective
naming either axis or both; or a vmap over an operand that is the same for every element of
the batch), so `fn` is an ordinary function of arrays. Its NumPy reference is a loop over the
elements of the batch. The vmap replaces the collective by batch operations, so neither `fn`'s
staged program nor its derivatives taken from outside reach the collective's own rules: the
generic tests also stage and transform `per_element` inside the context.
`custom_linear_solve`'s record closes a matrix-vector product and a dense solver over its
operands (the matrix, then ``b``)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import linalg_cases as lc
import numpy as np
from domains import DEFAULT, DISTINCT
from hypothesis import strategies as st
from lax_table import _NONDIFF, FLOATS, NUMERIC, Case, OpRecord, _values
from strategies import shapes

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import lax
from funcdiff._src import linear_solve
from funcdiff._src.lax import parallel

NAMES = ("i", "j")

# ---- collectives ----------------------------------------------------------------------------


def _in_vmaps(
    g: Callable[..., Any], operands: int = 1, *, depth: int, shared: int, **_: Any
) -> Callable[..., Any]:
    """A collective's context: `g` run per element over the `depth` leading axes of its
    arguments, named "i" (then "j"). With `shared`, over a batch of that many elements that
    all see the whole of the first `operands` arguments (the others are mapped)."""
    if shared:
        each = lambda _, *xs: g(*xs)  # noqa: E731
        return lambda *xs: funcdiff.vmap(
            each, in_axes=(0, *[None] * operands, *[0] * (len(xs) - operands)), axis_name="i"
        )(np.zeros(shared), *xs)
    for name in reversed(NAMES[:depth]):
        g = funcdiff.vmap(g, axis_name=name)
    return g


def _collective_record(name, prim, inner, combine, draw, public=None, **kwargs) -> OpRecord:
    """A record of the collective `prim`, called per element by ``inner(x, names, **params)``;
    ``combine(group, index, **params)`` is NumPy's result for one element, from `group`, the
    values of the elements that differ from it along the named axes only (those axes first),
    and `index`, its position along them."""

    def per_element(r, *, depth, shared, names, **params):
        return inner(r, names, **params)

    def fn(x, **static):
        return _in_vmaps(functools.partial(per_element, **static), **static)(x)

    def reference(x, *, depth, shared, names, **params):
        x = np.asarray(x)
        if shared:
            x = np.broadcast_to(x, (shared, *x.shape))
        named = [NAMES.index(n) for n in names]
        results = {}
        for idx in np.ndindex(x.shape[:depth]):
            rest = tuple(slice(None) if k in named else i for k, i in enumerate(idx))
            results[idx] = np.asarray(combine(x[rest], tuple(idx[k] for k in named), **params))
        first = next(iter(results.values()))
        out = np.empty(x.shape[:depth] + first.shape, first.dtype)
        for idx, r in results.items():
            out[idx] = r
        return out

    kwargs.setdefault("dtypes", NUMERIC)
    return OpRecord(
        name,
        prim,
        fn,
        reference,
        1,
        "custom",
        draw=draw,
        per_element=per_element,
        context=_in_vmaps,
        public=public or (name,),
        **kwargs,
    )


@st.composite
def _batch(draw, dtype, domain=DEFAULT, min_elem_dims=0, one_name=False, elem=None):
    """An operand with one or two batch axes (or one shared by the batch) and the names the
    collective takes; ``elem(n)``, if given, is a strategy of an element's shape and more
    params, from the size `n` of the (one) named axis."""
    depth = draw(st.integers(1, 2))
    shared = draw(st.sampled_from([0, 0, 2]))
    if shared:
        depth, lead = 1, ()
    else:
        lead = tuple(draw(st.integers(1, 3)) for _ in range(depth))
    if one_name or elem is not None or depth == 1:
        names = (draw(st.sampled_from(NAMES[:depth])),)
    else:
        names = draw(st.sampled_from([("i",), ("j",), ("i", "j"), ("j", "i")]))
    if elem is None:
        shape, params = draw(shapes(min_dims=min_elem_dims, max_dims=2, allow_empty=True)), {}
    else:
        shape, params = draw(elem(shared or lead[NAMES.index(names[0])]))
    x = _values(draw, domain, lead + shape, dtype)
    return x, {"depth": depth, "shared": shared, "names": names, **params}


def _draw_reducer(domain):
    def draw_case(draw, dtype):
        x, static = draw(_batch(dtype, domain))
        return Case((x,), static)

    return draw_case


# psum's record also drives the functions built on it: pmean and psum_scatter.
@st.composite
def _scattered(draw, n):
    """An element's shape for psum_scatter over an axis of size `n`, and its params."""
    rest = draw(shapes(max_dims=2, allow_empty=True))
    d = draw(st.integers(0, len(rest)))
    tiled = draw(st.booleans())
    side = n * draw(st.integers(1, 2)) if tiled else n
    return (*rest[:d], side, *rest[d:]), {"scatter_dimension": d, "tiled": tiled}


def _draw_psum(draw, dtype):
    vias = ["psum", "psum_scatter"] + (["pmean"] if dtype.kind in "fc" else [])
    via = draw(st.sampled_from(vias))
    x, static = draw(_batch(dtype, elem=_scattered if via == "psum_scatter" else None))
    return Case((x,), {**static, "via": via})


def _psum(r, names, *, via, **params):
    if via == "psum":
        return lax.psum(r, names)
    if via == "pmean":
        return lax.pmean(r, names)
    return lax.psum_scatter(r, names[0], **params)


def _sum(group, index, *, via, scatter_dimension=0, tiled=False):
    total = np.sum(group, axis=tuple(range(len(index))), dtype=group.dtype)
    if via == "pmean":
        return total / np.asarray(math.prod(group.shape[: len(index)]), group.dtype)
    if via == "psum":
        return total
    piece = total.shape[scatter_dimension] // group.shape[0]
    out = np.take(total, range(index[0] * piece, (index[0] + 1) * piece), scatter_dimension)
    return out if tiled else np.squeeze(out, scatter_dimension)


def _max(group, index):
    return np.max(group, axis=tuple(range(len(index))))


def _min(group, index):
    return np.min(group, axis=tuple(range(len(index))))


# all_gather's record also drives the collectives composed of it: all_to_all and pswapaxes.
def _exchanged(via):
    """An element's shape for all_to_all (or pswapaxes) over an axis of size `n`, and its
    params: the split axis has the axis' size (a multiple of it, tiled)."""

    @st.composite
    def elem(draw, n):
        rest = list(draw(shapes(max_dims=2, allow_empty=True)))
        split = draw(st.integers(0, len(rest)))
        tiled = via == "all_to_all" and draw(st.booleans())
        shape = (*rest[:split], n * draw(st.integers(1, 2)) if tiled else n, *rest[split:])
        rank = len(shape)
        if via == "pswapaxes":
            return shape, {"axis": split - rank * draw(st.booleans())}  # (or counted from the end)
        concat = draw(st.integers(0, rank - 1))
        return shape, {"split_axis": split, "concat_axis": concat, "tiled": tiled}

    return elem


def _draw_all_gather(draw, dtype):
    via = draw(st.sampled_from(["all_gather", "all_to_all", "pswapaxes"]))
    if via != "all_gather":
        x, static = draw(_batch(dtype, elem=_exchanged(via)))
        return Case((x,), {**static, "via": via})
    tiled = draw(st.booleans())
    x, static = draw(_batch(dtype, min_elem_dims=int(tiled), one_name=True))
    elem_ndim = x.ndim - (0 if static["shared"] else static["depth"])
    top = elem_ndim - 1 if tiled else elem_ndim
    axis = draw(st.integers(-top - 1, top))
    return Case((x,), {**static, "via": via, "axis": axis, "tiled": tiled})


def _all_gather(r, names, *, via, **params):
    if via == "all_gather":
        return lax.all_gather(r, names, **params)
    if via == "pswapaxes":
        return lax.pswapaxes(r, names[0], params["axis"])
    return lax.all_to_all(r, names[0], **params)


def _gather(group, index, *, via, axis=0, tiled=False, split_axis=0, concat_axis=0):
    if via == "pswapaxes":
        split_axis = concat_axis = axis % (group.ndim - 1)
    if via != "all_gather":
        # element j joins chunk j of every sender s, in the order of the senders
        n, (j,) = group.shape[0], index
        piece = group.shape[split_axis + 1] // n
        chunks = [np.take(g, range(j * piece, (j + 1) * piece), split_axis) for g in group]
        if tiled:
            return np.concatenate(chunks, axis=concat_axis)
        return np.stack([np.squeeze(c, split_axis) for c in chunks], axis=concat_axis)
    elem_ndim = group.ndim - 1
    top = elem_ndim - 1 if tiled else elem_ndim
    axis %= top + 1
    if tiled:
        return np.concatenate(list(group), axis=axis)
    return np.moveaxis(group, 0, axis)


# ppermute's record also drives pshuffle, a ppermute of a whole permutation.
def _draw_ppermute(draw, dtype):
    x, static = draw(_batch(dtype, one_name=True))
    (name,) = static["names"]
    n = static["shared"] or x.shape[NAMES.index(name)]
    via = draw(st.sampled_from(["ppermute", "pshuffle"]))
    dests = draw(st.permutations(range(n)))
    keep = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    perm = tuple((s, d) for s, d, k in zip(range(n), dests, keep) if k or via == "pshuffle")
    return Case((x,), {**static, "perm": perm, "via": via})


def _ppermute(r, names, *, perm, via):
    if via == "ppermute":
        return lax.ppermute(r, names, perm)
    source = dict((d, s) for s, d in perm)  # element i gets the x of element source[i]
    return lax.pshuffle(r, names[0], [source[i] for i in range(len(perm))])


def _permuted(group, index, *, perm, via):
    (i,) = index
    sources = [s for s, d in perm if d == i]
    return group[sources[0]] if sources else np.zeros_like(group[0])


def _draw_axis_index(draw, dtype):
    x, static = draw(_batch(dtype, one_name=True))
    return Case((x,), static)


COLLECTIVE_OPS = (
    _collective_record(
        "psum",
        parallel.psum_p,
        _psum,
        _sum,
        _draw_psum,
        linear=True,
        public=("psum", "pmean", "psum_scatter"),
        complex=True,
    ),
    # distinct values: the derivative of the maximum at a tie is shared among the tied
    # elements, which finite differences do not see
    _collective_record("pmax", parallel.pmax_p, lax.pmax, _max, _draw_reducer(DISTINCT)),
    _collective_record("pmin", parallel.pmin_p, lax.pmin, _min, _draw_reducer(DISTINCT)),
    _collective_record(
        "all_gather",
        parallel.all_gather_p,
        _all_gather,
        _gather,
        _draw_all_gather,
        linear=True,
        public=("all_gather", "all_to_all", "pswapaxes"),
        complex=True,
    ),
    _collective_record(
        "ppermute",
        parallel.ppermute_p,
        _ppermute,
        _permuted,
        _draw_ppermute,
        linear=True,
        public=("ppermute", "pshuffle"),
        complex=True,
    ),
    # the operand only gives the batch its size: the result is each element's position
    _collective_record(
        "axis_index",
        parallel.axis_index_p,
        lambda r, names: lax.axis_index(names[0]),
        lambda group, index: np.int32(index[0]),
        _draw_axis_index,
        dtypes=FLOATS,
        **_NONDIFF,
    ),
)

# ---- custom_linear_solve --------------------------------------------------------------------


def _dense(matvec: Callable[[Any], Any], b: Any) -> Any:
    """A direct solver from the matrix that `matvec` applies (its Jacobian, on `b`'s
    flattened shape)."""
    n = b.size
    flat = lambda v: jnp.reshape(matvec(jnp.reshape(v, b.shape)), (n,))  # noqa: E731
    return jnp.reshape(
        jnp.linalg.solve(funcdiff.jacfwd(flat)(jnp.reshape(b, (n,))), jnp.reshape(b, (n,))), b.shape
    )


def _system(a: Any, symmetric: bool) -> Any:
    """A well-conditioned matrix from `a`: symmetric positive definite, or diagonally
    dominant."""
    return lc.spd(a) if symmetric else lc.spread(a)


def _dense_with_aux(matvec: Callable[[Any], Any], b: Any) -> Any:
    return _dense(matvec, b), jnp.sum(b)


def _solve_fn(a, b, *, symmetric, has_aux):
    m = _system(a, symmetric)
    matvec = lambda x: jnp.matmul(m, x)  # noqa: E731
    solve = _dense_with_aux if has_aux else _dense
    x = lax.custom_linear_solve(
        matvec, b, solve, None if symmetric else solve, symmetric=symmetric, has_aux=has_aux
    )
    return x[0] if has_aux else x  # (aux, which gets no derivative, is not checked)


def _solve_reference(a, b, *, symmetric, has_aux):
    return np.linalg.solve(_system(np.asarray(a), symmetric), b)


def _draw_solve(draw, dtype):
    n = draw(st.integers(1, 3))
    a = _values(draw, DEFAULT, (n, n), dtype)
    b = _values(draw, DEFAULT, (n,) + tuple(draw(st.lists(st.integers(1, 2), max_size=1))), dtype)
    return Case((a, b), {"symmetric": draw(st.booleans()), "has_aux": draw(st.booleans())})


SOLVE_OPS = (
    OpRecord(
        "custom_linear_solve",
        linear_solve.custom_linear_solve_p,
        _solve_fn,
        _solve_reference,
        2,
        "custom",
        draw=_draw_solve,
        linear=True,
        dtypes=FLOATS,
        public=("custom_linear_solve",),
    ),
)

CONTEXT_OPS = COLLECTIVE_OPS + SOLVE_OPS
