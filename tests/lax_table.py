"""The table of funcdiff's primitives that drives the generic tests in `test_lax_ops.py`.

One `OpRecord` per primitive says how to call it (`fn`, the `funcdiff.lax`-level wrapper, with
static params drawn per example), what NumPy computes instead (`reference`), where its operands
are drawn so that the function is smooth there (`domain`), which dtypes it accepts, and how far
its derivatives are checked. Ops whose operands are more than "an array per argument" (axes,
index arrays, dimension numbers, padding configs...) draw a whole `Case` with `draw`.

Every primitive defined in `funcdiff._src` has a record (`ad.add_any_p`
included), except the higher-order ones listed in `test_lax_ops.HIGHER_ORDER`. The records of
the primitives that run only in a context (the collectives of a named `vmap`,
`custom_linear_solve`) are in `context_lax_table.py`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import conv_reference as cref
import linalg_cases as lc
import numpy as np
from domains import (
    DEFAULT,
    DISTINCT,
    NONFINITE,
    Domain,
    nonzero,
    off_grid,
    uniform,
    with_zeros,
)
from hypothesis import strategies as st
from strategies import (
    broadcastable_shapes,
    seeds,
    shapes,
    subsets,
)

from funcdiff._src import checkpoint_policies as cpol
from funcdiff._src import core
from funcdiff._src.interpreters import ad
from funcdiff._src.lax import convolution as cv
from funcdiff._src.lax import decompositions as dec
from funcdiff._src.lax import dynamic_slicing as ds
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import fft as fft_lax
from funcdiff._src.lax import indexing as ix
from funcdiff._src.lax import linalg as la
from funcdiff._src.lax import reductions as red
from funcdiff._src.lax import schur as schur_lax
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax import sorting as so
from funcdiff._src.lax import spectral as spec
from funcdiff._src.lax import transcendental as tr
from funcdiff._src.lax import tridiagonal as tri
from funcdiff._src.lax import windowed as wi

F64, F32 = np.dtype(np.float64), np.dtype(np.float32)
C128, C64 = np.dtype(np.complex128), np.dtype(np.complex64)
I64, I32, U8 = np.dtype(np.int64), np.dtype(np.int32), np.dtype(np.uint8)
BOOL = np.dtype(np.bool_)

FLOATS = (F64, F32)
NUMERIC = (F64, F32, I64, I32)
ORDERED = (F64, F32, I64, I32, BOOL)

class Case(NamedTuple):
    """One drawn example: the array operands and the static params of `fn`/`reference`."""

    args: tuple[Any, ...]
    static: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class OpRecord:
    """How to test one primitive.

    - `name`: the primitive's name; `prim`: the primitive itself.
    - `fn(*operands, **static)`: its wrapper; `reference(*operands, **static)`: NumPy's answer.
    - `n_args`: the number of operands (-1: variable, drawn by `draw`).
    - `shapes_kind`: ``"unary"``, ``"broadcast"`` (NumPy-broadcasting shapes), ``"same"``
      (one shape for all operands) or ``"custom"`` (`draw` builds the whole case).
    - `domain`: one value domain per operand (for ``"custom"``, `draw` uses its own);
      `complex_domain`: the same for complex operands, when they need a smaller one (away
      from complex poles and branch points, where finite differences lose accuracy).
    - `dtypes`: the dtypes of the reference check; the inexact operands of derivative checks
      are float64 (and complex128 when `complex`).
    - `order`: the derivative order checked; `order_note` says why it is below 2.
    - `tol`: atol = rtol of `check_grads` (None: by dtype).
    - `linear`: linear in at least one operand, so reverse mode needs its transpose rule.
    - `differentiable`: False for primitives in `ad.nondifferentiable` (zero tangent).
    - `complex`: also accepts complex operands; checked in complex128 too.
    - `elementwise`: operands broadcast NumPy-style, so any of them may be a Python scalar.
    - `allow_empty`: drawn shapes may have size-0 dimensions.
    - `draw(draw, dtype) -> Case`: a whole example with its static params, for ``"custom"``.
    - `per_element(*operands, **static)` and `context(g, operands, **static) -> Callable`:
      for a primitive that only runs inside a context (a collective, inside the `vmap`s that
      bind its axis names), `fn` is ``context(per_element, n_args)``; the arguments after
      the first `operands` are per-element values shaped like `fn`'s results (cotangents).
      The context turns the primitive into other operations (the vmap, into batch
      operations), so `fn`'s program and its derivatives taken from outside do not reach the
      primitive's own rules: the tests also stage, jit and differentiate `per_element`
      inside the context.
    - `public`: the `funcdiff.lax` functions the record drives when `fn` is not one of them
      but calls them (inside a vmap, or with functions closed over).
    """

    name: str
    prim: core.Primitive
    fn: Callable[..., Any]
    reference: Callable[..., Any]
    n_args: int
    shapes_kind: str
    domain: tuple[Domain, ...] = ()
    complex_domain: tuple[Domain, ...] = ()
    dtypes: tuple[np.dtype, ...] = FLOATS
    order: int = 2
    order_note: str = ""
    tol: float | None = None
    linear: bool = False
    differentiable: bool = True
    complex: bool = False
    elementwise: bool = False
    allow_empty: bool = True
    draw: Callable[..., Case] | None = None
    per_element: Callable[..., Any] | None = None
    context: Callable[..., Callable[..., Any]] | None = None
    public: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"OpRecord({self.name})"


def draw_case(data_draw: Callable[..., Any], rec: OpRecord, dtype: np.dtype) -> Case:
    """Draw one example of `rec` whose inexact operands have `dtype` (as far as `rec`
    accepts it)."""
    if rec.draw is not None:
        return rec.draw(data_draw, np.dtype(dtype))
    if rec.shapes_kind == "unary":
        in_shapes = [data_draw(shapes(allow_empty=rec.allow_empty))]
    elif rec.shapes_kind == "broadcast":
        in_shapes = data_draw(broadcastable_shapes(rec.n_args, allow_empty=rec.allow_empty))
    elif rec.shapes_kind == "same":
        in_shapes = [data_draw(shapes(allow_empty=rec.allow_empty))] * rec.n_args
    else:
        raise ValueError(f"{rec.name}: unknown shapes_kind {rec.shapes_kind!r}")
    seed = data_draw(seeds)
    domains = rec.complex_domain if np.dtype(dtype).kind == "c" and rec.complex_domain else \
        rec.domain
    args = tuple(dom(s, dtype, seed=seed + i) for i, (dom, s) in enumerate(zip(domains,
                                                                                in_shapes)))
    return Case(args, {})


def _record(name: str, prim: core.Primitive, fn: Callable[..., Any], reference: Callable[..., Any],
            n_args: int, shapes_kind: str,
            domain: Domain | Sequence[Domain] = DEFAULT,
            complex_domain: Domain | Sequence[Domain] = (), **kwargs: Any) -> OpRecord:
    if callable(domain):
        domain = (domain,) * max(n_args, 1)
    if callable(complex_domain):
        complex_domain = (complex_domain,) * max(n_args, 1)
    return OpRecord(name, prim, fn, reference, n_args, shapes_kind, tuple(domain),
                    tuple(complex_domain), **kwargs)


def unary(name, prim, fn, reference, domain=DEFAULT, **kwargs) -> OpRecord:
    return _record(name, prim, fn, reference, 1, "unary", domain, elementwise=True, **kwargs)


def binary(name, prim, fn, reference, domain=DEFAULT, **kwargs) -> OpRecord:
    return _record(name, prim, fn, reference, 2, "broadcast", domain, elementwise=True, **kwargs)


def _values(draw: Callable[..., Any], domain: Domain, shape: Sequence[int], dtype: Any) -> Any:
    return domain(tuple(shape), np.dtype(dtype), seed=draw(seeds))


# ---- references that NumPy has no single function for ---------------------------------------


def _erf_reference(x):
    return np.vectorize(math.erf, otypes=[np.asarray(x).dtype])(x)


def _erfc_reference(x):
    return np.vectorize(math.erfc, otypes=[np.asarray(x).dtype])(x)


def _logistic_reference(x):
    return 1 / (1 + np.exp(-x))


def _rsqrt_reference(x):
    return 1 / np.sqrt(x)


def _complex_reference(x, y):
    return x + 1j * y


def _select_n_reference(which, *cases):
    which = np.asarray(which)
    if which.dtype == bool:
        which = which.astype(np.int64)
    out = np.select([which == i for i in range(len(cases))], cases)
    return out.astype(np.result_type(*cases))


def _convert_reference(x, *, new_dtype, weak_type):
    x = np.asarray(x)
    if x.dtype.kind == "c" and np.dtype(new_dtype).kind != "c":
        x = x.real
    return x.astype(new_dtype)


def _reduce_sum_reference(x, *, axes):
    return np.sum(x, axis=axes, dtype=np.asarray(x).dtype)


def _reduce_prod_reference(x, *, axes):
    return np.prod(x, axis=axes, dtype=np.asarray(x).dtype)


def _argmax_reference(x, *, axis, index_dtype):
    return np.argmax(x, axis=axis).astype(index_dtype)


def _argmin_reference(x, *, axis, index_dtype):
    return np.argmin(x, axis=axis).astype(index_dtype)


def _cumsum_reference(x, *, axis, reverse):
    x = np.asarray(x)
    if reverse:
        return np.flip(np.cumsum(np.flip(x, axis), axis=axis, dtype=x.dtype), axis)
    return np.cumsum(x, axis=axis, dtype=x.dtype)


def _broadcast_in_dim_reference(x, *, shape, broadcast_dimensions):
    missing = tuple(d for d in range(len(shape)) if d not in broadcast_dimensions)
    return np.broadcast_to(np.expand_dims(x, missing), shape)


def _pad_reference(x, padding_value, *, padding_config):
    """Pad by index arithmetic: output position ``o`` of a dimension reads operand element
    ``(o - lo) / (interior + 1)`` when that is a whole number in range, else the pad value."""
    x = np.asarray(x)
    out_shape = [lo + hi + (n + (n - 1) * i if n else 0)
                 for n, (lo, hi, i) in zip(x.shape, padding_config)]
    out = np.full(out_shape, padding_value, x.dtype)
    sources = []
    for n, size, (lo, _, interior) in zip(x.shape, out_shape, padding_config):
        pos = np.arange(size) - lo
        keep = (pos >= 0) & (pos % (interior + 1) == 0) & (pos // (interior + 1) < n)
        sources.append((np.nonzero(keep)[0], pos[keep] // (interior + 1)))
    dst = np.ix_(*[d for d, _ in sources]) if sources else ()
    src = np.ix_(*[s for _, s in sources]) if sources else ()
    out[dst] = x[src]
    return out


def _slice_reference(x, *, start_indices, limit_indices, strides):
    strides = strides or (1,) * len(start_indices)
    return np.asarray(x)[tuple(slice(a, b, s) for a, b, s in zip(start_indices, limit_indices,
                                                                 strides))]


def _advanced_index(indices, dims):
    return tuple(slice(None) if d < 0 else indices[d] for d in dims)


def _gather_reference(x, *indices, dims):
    return np.asarray(x)[_advanced_index(indices, dims)]


def _target_positions(shape, indices, dims):
    """For every element of the updates of a scatter, the flat operand position it goes to."""
    flat = np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)
    return flat[_advanced_index(indices, dims)].ravel()


def _scatter_reference(combine):
    def reference(x, updates, *indices, dims):
        x = np.asarray(x)
        out = x.copy().ravel()
        for pos, u in zip(_target_positions(x.shape, indices, dims), np.ravel(updates)):
            out[pos] = combine(out[pos], u)
        return out.reshape(x.shape)

    return reference


def _clamped_start(s, n, size):
    # Negative starts count from the end (JAX's wrapper), then starts are clamped into
    # [0, n - size] (XLA's semantics).
    s = int(s)
    s = s + n if s < 0 else s
    return min(max(s, 0), n - size)


def _dynamic_slice_reference(x, *starts, slice_sizes):
    x = np.asarray(x)
    idx = tuple(slice(_clamped_start(s, n, k), _clamped_start(s, n, k) + k)
                for s, n, k in zip(starts, x.shape, slice_sizes))
    return x[idx]


def _dynamic_update_slice_reference(x, update, *starts):
    out = np.array(x, copy=True)
    update = np.asarray(update)
    idx = tuple(slice(_clamped_start(s, n, k), _clamped_start(s, n, k) + k)
                for s, n, k in zip(starts, out.shape, update.shape))
    out[idx] = update
    return out


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _dot_general_reference(x, y, *, dimension_numbers):
    """`numpy.einsum` with one letter per dimension: shared letters for batch and contracting
    pairs; the output lists batch, then x's free, then y's free dimensions."""
    (xc, yc), (xb, yb) = dimension_numbers
    x, y = np.asarray(x), np.asarray(y)
    letters = iter(_LETTERS)
    x_sub = [next(letters) for _ in range(x.ndim)]
    y_sub = [next(letters) for _ in range(y.ndim)]
    for a, b in zip(xc + xb, yc + yb):
        y_sub[b] = x_sub[a]
    out = ([x_sub[d] for d in xb] + [x_sub[d] for d in range(x.ndim) if d not in xc + xb]
           + [y_sub[d] for d in range(y.ndim) if d not in yc + yb])
    spec = f"{''.join(x_sub)},{''.join(y_sub)}->{''.join(out)}"
    return np.einsum(spec, x, y).astype(np.result_type(x, y))


def add_any(x, y):
    """`ad.add_any_p`, the primitive that accumulates cotangents (no public wrapper)."""
    return ad.add_any_p.bind(x, y)


# ---- static params and custom cases ---------------------------------------------------------


def _draw_integer_pow(draw, dtype):
    # Negative exponents need operands away from zero; integer operands nonnegative powers.
    y = draw(st.sampled_from([0, 1, 2, 3, 5] if dtype.kind in "iu" else [-3, -2, -1, 0, 1, 2,
                                                                          3, 5]))
    x = _values(draw, nonzero(0.3, 2.0), draw(shapes(allow_empty=True)), dtype)
    return Case((x,), {"y": y})


def _draw_rem(draw, dtype):
    # fmod(x, y) jumps where x / y is an integer: build x = (k + r) * y with r away from 0, 1,
    # one operand having the full broadcast shape.
    sx, sy = draw(broadcastable_shapes(2, allow_empty=True))
    full = np.broadcast_shapes(sx, sy)
    rng = np.random.default_rng(draw(seeds))
    if dtype.kind in "iu":
        return Case((_values(draw, uniform(-9, 9), sx, dtype),
                     _values(draw, nonzero(1, 4), sy, dtype)), {})
    q = rng.integers(-2, 2, size=full) + rng.uniform(0.2, 0.8, size=full)
    if draw(st.booleans()):
        y = nonzero(0.5, 2.0)(sy, dtype, seed=draw(seeds))
        x = (q * y).astype(dtype)
    else:
        x = nonzero(0.5, 2.0)(sx, dtype, seed=draw(seeds))
        y = (x / q).astype(dtype)
    return Case((x, y), {})


def _draw_floor_divide(draw, dtype):
    sx, sy = draw(broadcastable_shapes(2, allow_empty=True))
    return Case((_values(draw, uniform(-9, 9), sx, dtype), _values(draw, nonzero(1, 4), sy, dtype)),
                {})


def _draw_shift(draw, dtype):
    sx, sy = draw(broadcastable_shapes(2, allow_empty=True))
    lo = 0 if dtype.kind == "u" else -50
    x = _values(draw, uniform(lo, 50), sx, dtype)
    return Case((x, _values(draw, uniform(0, 5), sy, dtype)), {})


def _draw_select_n(draw, dtype):
    n = draw(st.integers(1, 3))
    all_shapes = draw(broadcastable_shapes(n + 1, allow_empty=True))
    which_shape, case_shapes = all_shapes[0], all_shapes[1:]
    if n == 2 and draw(st.booleans()):
        which = _values(draw, uniform(0, 1), which_shape, BOOL)
    else:
        which = _values(draw, uniform(0, n - 1), which_shape, draw(st.sampled_from([I32, I64])))
    cases = tuple(_values(draw, DEFAULT, s, dtype) for s in case_shapes)
    return Case((which, *cases), {})


def _draw_clamp(draw, dtype):
    s_lo, s_x, s_hi = draw(broadcastable_shapes(3, allow_empty=True))
    if dtype.kind in "iu":
        return Case((_values(draw, uniform(-3, -1), s_lo, dtype),
                     _values(draw, uniform(-5, 5), s_x, dtype),
                     _values(draw, uniform(1, 3), s_hi, dtype)), {})
    # lo near -1, hi near +1, x at least 0.15 away from both (and sometimes outside).
    return Case((_values(draw, uniform(-1.1, -0.9), s_lo, dtype),
                 _values(draw, off_grid(1.0, 0.25), s_x, dtype),
                 _values(draw, uniform(0.9, 1.1), s_hi, dtype)), {})


def _draw_convert(draw, dtype):
    x = _values(draw, DEFAULT, draw(shapes(allow_empty=True)), dtype)
    choices = [d for d in (F64, F32, C128, C64, I32, I64, BOOL)
               if d != dtype and not (dtype.kind == "c" and d.kind == "b")]
    new_dtype = draw(st.sampled_from(choices))
    weak = bool(draw(st.booleans())) and new_dtype.kind in "fc"
    return Case((x,), {"new_dtype": new_dtype, "weak_type": weak})


def _draw_axes_case(draw, dtype, domain, nonempty_axes=False):
    shape = draw(shapes(allow_empty=True))
    axes = draw(subsets(len(shape), ordered=True))
    if nonempty_axes:  # max/min have no identity: reduced dimensions need elements
        shape = tuple(max(n, 1) if i in axes else n for i, n in enumerate(shape))
    return Case((_values(draw, domain, shape, dtype),), {"axes": axes})


def _draw_reduce_sum(draw, dtype):
    return _draw_axes_case(draw, dtype, DEFAULT)


def _draw_reduce_chooser(draw, dtype):
    return _draw_axes_case(draw, dtype, DISTINCT, nonempty_axes=True)


def _draw_reduce_prod(draw, dtype):
    # Factors near 1 in magnitude keep long products (and their finite differences) tame.
    bound = 1.2 if dtype.kind == "c" else 1.6
    domain = uniform(-2, 2) if dtype.kind in "iu" else with_zeros(uniform(-bound, bound), 0.3)
    return _draw_axes_case(draw, dtype, domain)


def _draw_reduce_logical(draw, dtype):
    return _draw_axes_case(draw, dtype, uniform(0, 1))


def _draw_arg_reduction(draw, dtype):
    shape = list(draw(shapes(min_dims=1, allow_empty=True)))
    axis = draw(st.integers(0, len(shape) - 1))
    shape[axis] = max(shape[axis], 1)
    # Integer operands from a small range have ties: the first index must win.
    domain = uniform(-2, 2) if dtype.kind in "iub" else DISTINCT
    x = _values(draw, domain, shape, dtype)
    return Case((x,), {"axis": axis, "index_dtype": draw(st.sampled_from([I32, I64]))})


def _draw_sorting(draw, dtype):
    # (0-d operands are left out: there is no dimension to sort along.)
    shape = draw(shapes(min_dims=1, allow_empty=True))
    # Integer operands from a small range have ties, which a stable sort keeps in order;
    # float operands have none, so that the sorting permutation, and the derivative, is the
    # same at all the points finite differences evaluate.
    domain = uniform(-2, 2) if dtype.kind in "iub" else DISTINCT
    return Case((_values(draw, domain, shape, dtype),),
                {"dimension": draw(st.integers(-len(shape), len(shape) - 1)),
                 "descending": draw(st.booleans())})


def _argsort_reference(x, *, dimension, descending):
    x = np.asarray(x)
    if not descending:
        return np.argsort(x, axis=dimension, kind="stable").astype(np.int64)
    # Stable descending: equal elements keep their original order.
    n = x.shape[dimension]
    rev = np.argsort(np.flip(x, dimension), axis=dimension, kind="stable")
    return (n - 1 - np.flip(rev, dimension)).astype(np.int64)


def _sort_reference(x, *, dimension, descending):
    out = np.sort(x, axis=dimension)
    return np.flip(out, dimension) if descending else out


def _draw_cumsum(draw, dtype):
    shape = draw(shapes(min_dims=1, allow_empty=True))
    return Case((_values(draw, DEFAULT, shape, dtype),),
                {"axis": draw(st.integers(0, len(shape) - 1)), "reverse": draw(st.booleans())})


def _draw_broadcast_in_dim(draw, dtype):
    out_shape = draw(shapes(min_dims=1, max_dims=4, allow_empty=True))
    bdims = draw(subsets(len(out_shape), max_size=len(out_shape)))
    in_shape = tuple(out_shape[d] if draw(st.booleans()) else 1 for d in bdims)
    if in_shape == out_shape:  # not the identity: the wrapper would skip the primitive
        bdims, in_shape = bdims[1:], in_shape[1:]
    x = _values(draw, DEFAULT, in_shape, dtype)
    return Case((x,), {"shape": out_shape, "broadcast_dimensions": bdims})


def _prime_factors(n):
    out, p = [], 2
    while n > 1:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out


def _draw_reshape(draw, dtype):
    shape = draw(shapes(allow_empty=True))
    size = int(np.prod(shape, dtype=np.int64))
    factors = draw(st.permutations(_prime_factors(size))) if size else [0]
    if not size:
        factors = factors + draw(st.lists(st.integers(0, 3), max_size=2))
    ndim = draw(st.integers(min(len(factors), 1), 4))
    new = [1] * ndim
    for f in factors:
        new[draw(st.integers(0, ndim - 1))] *= f
    new_sizes = tuple(new)
    if new_sizes == shape:
        new_sizes = new_sizes + (1,)
    return Case((_values(draw, DEFAULT, shape, dtype),), {"new_sizes": new_sizes})


def _draw_squeeze(draw, dtype):
    shape = list(draw(shapes(min_dims=1, max_dims=4, allow_empty=True)))
    ones = draw(subsets(len(shape), min_size=1))
    for d in ones:
        shape[d] = 1
    dims = tuple(ones[i] for i in draw(subsets(len(ones), min_size=1)))
    return Case((_values(draw, DEFAULT, shape, dtype),), {"dimensions": dims})


def _draw_expand_dims(draw, dtype):
    shape = draw(shapes(allow_empty=True))
    k = draw(st.integers(1, 2))
    dims = draw(subsets(len(shape) + k, min_size=k, max_size=k))
    return Case((_values(draw, DEFAULT, shape, dtype),), {"dimensions": dims})


def _draw_transpose(draw, dtype):
    shape = draw(shapes(min_dims=2, max_dims=4, allow_empty=True))
    perm = tuple(draw(st.permutations(range(len(shape))).filter(
        lambda p: list(p) != sorted(p))))
    return Case((_values(draw, DEFAULT, shape, dtype),), {"permutation": perm})


def _draw_rev(draw, dtype):
    shape = draw(shapes(min_dims=1, allow_empty=True))
    dims = draw(subsets(len(shape), min_size=1))
    return Case((_values(draw, DEFAULT, shape, dtype),), {"dimensions": dims})


def _draw_concatenate(draw, dtype):
    base = list(draw(shapes(min_dims=1, allow_empty=True)))
    dim = draw(st.integers(0, len(base) - 1))
    xs = []
    for _ in range(draw(st.integers(1, 3))):
        base[dim] = draw(st.integers(0, 3))
        xs.append(_values(draw, DEFAULT, base, dtype))
    return Case(tuple(xs), {"dimension": dim})


def _draw_pad(draw, dtype):
    shape = draw(shapes(allow_empty=True))
    config = []
    for n in shape:
        lo, hi, interior = draw(st.integers(-3, 3)), draw(st.integers(-3, 3)), draw(
            st.integers(0, 2))
        size = lo + hi + (n + (n - 1) * interior if n else 0)
        config.append((lo, hi - min(size, 0), interior))  # crop at most everything
    x = _values(draw, DEFAULT, shape, dtype)
    padding_value = np.asarray(_values(draw, DEFAULT, (), dtype))
    return Case((x, padding_value), {"padding_config": tuple(config)})


def _draw_slice(draw, dtype):
    shape = draw(shapes(allow_empty=True))
    starts, limits, strides = [], [], []
    for n in shape:
        a = draw(st.integers(0, n))
        starts.append(a)
        limits.append(draw(st.integers(a, n)))
        strides.append(draw(st.integers(1, 3)))
    use_strides = draw(st.booleans())
    return Case((_values(draw, DEFAULT, shape, dtype),),
                {"start_indices": tuple(starts), "limit_indices": tuple(limits),
                 "strides": tuple(strides) if use_strides else None})


def _draw_indices(draw, shape, few_targets=False):
    """`dims` and index arrays for NumPy advanced indexing of `shape`: one to three index
    arrays (broadcasting together, negative entries wrap) at drawn, possibly non-adjacent,
    dimensions. With `few_targets`, the indices take few values, so they repeat."""
    shape = list(shape)
    k = draw(st.integers(1, min(3, len(shape))))
    positions = draw(subsets(len(shape), min_size=k, max_size=k))
    order = draw(st.permutations(range(k)))
    dims = [-1] * len(shape)
    for pos, which in zip(positions, order):
        dims[pos] = which
        shape[pos] = max(shape[pos], 1)
    idx_shapes = draw(broadcastable_shapes(k, max_dims=2, allow_empty=True))
    indices = []
    for which in range(k):
        n = shape[dims.index(which)]
        lo, hi = (0, min(n, 2) - 1) if few_targets else (-n, n - 1)
        idx_dtype = draw(st.sampled_from([I32, I64]))
        indices.append(_values(draw, uniform(lo, hi), idx_shapes[which], idx_dtype))
    return tuple(shape), tuple(indices), tuple(dims)


def _draw_gather(draw, dtype):
    shape, indices, dims = _draw_indices(draw, draw(shapes(min_dims=1, max_dims=4,
                                                           allow_empty=True)))
    return Case((_values(draw, DEFAULT, shape, dtype), *indices), {"dims": dims})


# Operand and update values on disjoint grids, never tied (scatter_min/max have kinks there).
_APART_X, _APART = off_grid(1.0, 0.3), off_grid(1.0, 0.3, 0.5)


def _draw_scatter(update_domain, operand_domain=DEFAULT):
    def draw_case(draw, dtype):
        few = draw(st.booleans())
        shape, indices, dims = _draw_indices(draw, draw(shapes(min_dims=1, allow_empty=True)),
                                             few_targets=few)
        upd_shape = ix.gather_shape(shape, [np.shape(i) for i in indices], dims)
        x = _values(draw, operand_domain, shape, dtype)
        updates = _values(draw, update_domain, upd_shape, dtype)
        return Case((x, updates, *indices), {"dims": dims})

    return draw_case


def _draw_starts(draw, shape):
    # Out-of-range starts, negative ones included, are clamped.
    idx_dtype = draw(st.sampled_from([I32, I64]))
    return tuple(np.asarray(draw(st.integers(-n - 2, n + 2)), idx_dtype) for n in shape)


def _draw_dynamic_slice(draw, dtype):
    shape = draw(shapes(allow_empty=True))
    sizes = tuple(draw(st.integers(0, n)) for n in shape)
    x = _values(draw, DEFAULT, shape, dtype)
    return Case((x, *_draw_starts(draw, shape)), {"slice_sizes": sizes})


def _draw_dynamic_update_slice(draw, dtype):
    shape = draw(shapes(allow_empty=True))
    sizes = tuple(draw(st.integers(0, n)) for n in shape)
    x = _values(draw, DEFAULT, shape, dtype)
    update = _values(draw, DEFAULT, sizes, dtype)
    return Case((x, update, *_draw_starts(draw, shape)), {})


def _draw_dot_general(draw, dtype):
    """Batch, contracting and free dimensions in drawn numbers and sizes, placed at drawn
    positions of each operand."""
    size = st.integers(0, 3)
    batch = draw(st.lists(size, max_size=2))
    contract = draw(st.lists(size, max_size=2))
    x_free = draw(st.lists(size, max_size=2))
    y_free = draw(st.lists(size, max_size=2))
    x_roles = ([("b", i) for i in range(len(batch))] + [("c", i) for i in range(len(contract))]
               + [("f", i) for i in range(len(x_free))])
    y_roles = ([("b", i) for i in range(len(batch))] + [("c", i) for i in range(len(contract))]
               + [("g", i) for i in range(len(y_free))])
    x_roles = draw(st.permutations(x_roles))
    y_roles = draw(st.permutations(y_roles))
    sizes = {"b": batch, "c": contract, "f": x_free, "g": y_free}
    x_shape = [sizes[r][i] for r, i in x_roles]
    y_shape = [sizes[r][i] for r, i in y_roles]
    xc = tuple(x_roles.index(("c", i)) for i in range(len(contract)))
    yc = tuple(y_roles.index(("c", i)) for i in range(len(contract)))
    xb = tuple(x_roles.index(("b", i)) for i in range(len(batch)))
    yb = tuple(y_roles.index(("b", i)) for i in range(len(batch)))
    x = _values(draw, DEFAULT, x_shape, dtype)
    y = _values(draw, DEFAULT, y_shape, dtype)
    return Case((x, y), {"dimension_numbers": ((xc, yc), (xb, yb))})


def _draw_fft(draw, dtype):
    """An FFT of 1 to 3 trailing dimensions (lengths 1 to 5, so both parities of the half
    spectrum) below 0 to 2 batch dimensions. Complex operands take the complex transforms;
    real ones any (the wrapper converts them for FFT, IFFT and IRFFT)."""
    types = [fft_lax.FftType.FFT, fft_lax.FftType.IFFT, fft_lax.FftType.IRFFT]
    if dtype.kind != "c":
        types.append(fft_lax.FftType.RFFT)
    fft_type = draw(st.sampled_from(types))
    lengths = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    trailing = lengths
    if fft_type is fft_lax.FftType.IRFFT:
        trailing = lengths[:-1] + (lengths[-1] // 2 + 1,)
    batch = draw(shapes(max_dims=2, max_side=3, allow_empty=True))
    x = _values(draw, DEFAULT, tuple(batch) + trailing, dtype)
    return Case((x,), {"fft_type": fft_type, "fft_lengths": lengths})


def _fft_reference(x, *, fft_type, fft_lengths):
    x = np.asarray(x)
    axes = tuple(range(x.ndim - len(fft_lengths), x.ndim))
    fn = getattr(np.fft, fft_type.name.lower() + "n")
    if fft_type is fft_lax.FftType.IRFFT:
        return fn(x, s=fft_lengths, axes=axes)
    return fn(x, axes=axes)


def _concatenate(*xs, dimension):
    return sh.concatenate(xs, dimension)


def _concatenate_reference(*xs, dimension):
    return np.concatenate(xs, axis=dimension)


def _gather(x, *indices, dims):
    return ix.gather(x, indices, dims)


def _scatter_fn(wrapper):
    def fn(x, updates, *indices, dims):
        return wrapper(x, updates, indices, dims)

    fn.__name__ = wrapper.__name__
    return fn


def _dynamic_slice(x, *starts, slice_sizes):
    return ds.dynamic_slice(x, starts, slice_sizes)


def _dynamic_update_slice(x, update, *starts):
    return ds.dynamic_update_slice(x, update, starts)


# ---- convolutions and window reductions -------------------------------------------------------


def _draw_window_geometry(draw, sizes, window):
    """Strides, base (lhs) dilation, window (rhs) dilation and a (low, high) padding per
    axis (negative ones crop) that leaves at least one window."""
    strides, base, wdil = (tuple(draw(st.integers(1, 2)) for _ in sizes) for _ in range(3))
    pads = []
    for n, k, b, d in zip(sizes, window, base, wdil):
        lo, hi = draw(st.integers(-1, 2)), draw(st.integers(-1, 2))
        dilated, span = (n - 1) * b + 1, (k - 1) * d + 1
        pads.append((lo, max(hi, span - dilated - lo)))
    return strides, base, wdil, tuple(pads)


_CONV_LAYOUTS = {1: [None, ("NWC", "WIO", "NWC"), ("NCW", "OIW", "NWC"), ("WNC", "IWO", "CWN")],
                 2: [None, ("NHWC", "HWIO", "NHWC"), ("NCHW", "HWIO", "NHWC"),
                     ("HNWC", "OHWI", "CHWN")]}


def _draw_conv(draw, dtype):
    """A convolution with 1 or 2 spatial axes, drawn strides, padding (negative included),
    lhs and rhs dilation, feature or batch groups and layout (string specs or axis
    numbers)."""
    n_sp = draw(st.integers(1, 2))
    groups = draw(st.integers(1, 2))
    by_batch = groups > 1 and draw(st.booleans())
    n = draw(st.integers(1, 2)) * (groups if by_batch else 1)
    c_per, o_per = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    c = c_per * (1 if by_batch else groups)
    o = o_per * groups
    kernel = [draw(st.integers(1, 3)) for _ in range(n_sp)]
    sizes = [draw(st.integers(1, 4)) for _ in range(n_sp)]
    strides, lhs_dil, rhs_dil, pads = _draw_window_geometry(draw, sizes, kernel)
    layout = draw(st.sampled_from(_CONV_LAYOUTS[n_sp]))
    if layout is not None and draw(st.booleans()):
        layout = cref.spec_axes(layout)  # the same layout as axis numbers
    ls, rs, _ = cref.spec_axes(layout or (tuple(range(n_sp + 2)),) * 3)
    lhs_shape, rhs_shape = [0] * (n_sp + 2), [0] * (n_sp + 2)
    for axis, size in zip(ls, (n, c, *sizes)):
        lhs_shape[axis] = size
    for axis, size in zip(rs, (o, c_per, *kernel)):
        rhs_shape[axis] = size
    lhs = _values(draw, DEFAULT, lhs_shape, dtype)
    rhs = _values(draw, DEFAULT, rhs_shape, dtype)
    return Case((lhs, rhs), {
        "window_strides": strides, "padding": pads, "lhs_dilation": lhs_dil,
        "rhs_dilation": rhs_dil, "dimension_numbers": layout,
        "feature_group_count": 1 if by_batch else groups,
        "batch_group_count": groups if by_batch else 1})


def _draw_reduce_window(chooser):
    """A window reduction over 1 to 3 axes with drawn window, strides, padding, base and
    window dilation. For max and min every window holds an element of the operand (a
    window of padding alone would give an infinite result)."""

    def draw_case(draw, dtype):
        shape = draw(shapes(min_dims=1, max_dims=3, max_side=4))
        n = len(shape)
        window = tuple(draw(st.integers(1, 3)) for _ in range(n))
        strides, base, wdil, pads = _draw_window_geometry(draw, shape, window)
        params = {"window_dimensions": window, "window_strides": strides, "padding": pads,
                  "base_dilation": base, "window_dilation": wdil}
        if chooser:
            counts = cref.reduce_window("sum", np.ones(shape), **params)
            if not np.all(counts > 0):  # fall back to windows within the operand
                params.update(window_dimensions=tuple(min(k, m) for k, m in zip(window, shape)),
                              padding=((0, 0),) * n, base_dilation=(1,) * n,
                              window_dilation=(1,) * n)
        return Case((_values(draw, DEFAULT, shape, dtype),), params)

    return draw_case


def _reduce_window_reference(kind):
    def reference(x, **params):
        return cref.reduce_window(kind, x, **params)

    return reference


# ---- the table ------------------------------------------------------------------------------

_NONDIFF = {"differentiable": False, "order": 0}


def _nondiff_unary(name, prim, fn, reference, domain=DEFAULT, dtypes=FLOATS):
    return unary(name, prim, fn, reference, domain, dtypes=dtypes, **_NONDIFF)


def _nondiff_binary(name, prim, fn, reference, domain=DEFAULT, dtypes=ORDERED, **kwargs):
    return binary(name, prim, fn, reference, domain, dtypes=dtypes, **_NONDIFF, **kwargs)


# ---- factorisations (each function maps any matrix into its domain: see linalg_cases) --------


def _draw_square(draw, dtype):
    return Case((draw(lc.square(dtype)),), {})


def _draw_triangular_solve(draw, dtype):
    a = draw(lc.square(dtype, batch=False))
    n = a.shape[0]
    left = draw(st.booleans())
    k = draw(st.integers(1, 2))
    b = DEFAULT((n, k) if left else (k, n), dtype, seed=draw(seeds))
    flags = {name: draw(st.booleans()) for name in ("lower", "transpose_a", "conjugate_a",
                                                    "unit_diagonal")}
    return Case((a, b), dict(flags, left_side=left))


def _triangular_solve_fn(a, b, **flags):
    return dec.triangular_solve(lc.dominant(a), b, **flags)


def _triangular_solve_reference(a, b, *, left_side, lower, transpose_a, conjugate_a,
                                unit_diagonal):
    a = lc.dominant(a)
    t = np.tril(a) if lower else np.triu(a)
    if unit_diagonal:
        t = t - np.diag(np.diag(t)) + np.eye(len(t), dtype=t.dtype)
    t = t.conj() if conjugate_a else t
    t = t.T if transpose_a else t
    return np.linalg.solve(t, b) if left_side else np.linalg.solve(t.T, b.T).T


def _draw_tridiagonal_solve(draw, dtype):
    m = draw(st.integers(1, 4))
    lead = tuple(draw(st.lists(st.integers(1, 2), max_size=1)))
    seed = draw(seeds)
    dl, d, du = (DEFAULT(lead + (m,), dtype, seed=seed + k) for k in range(3))
    b = DEFAULT(lead + (m, draw(st.integers(1, 2))), dtype, seed=seed + 3)
    return Case((dl, d, du, b), {})


def _tridiagonal_solve_fn(dl, d, du, b):
    """Diagonally dominant systems: `d` moved away from the off-diagonals' sizes."""
    return tri.tridiagonal_solve(dl, d + np.asarray(4.0, d.dtype), du, b)


def _tridiagonal_solve_reference(dl, d, du, b):
    m = d.shape[-1]
    a = np.zeros(d.shape + (m,), d.dtype)
    i = np.arange(m)
    a[..., i, i] = d + 4.0
    a[..., i[1:], i[:-1]] = dl[..., 1:]
    a[..., i[:-1], i[1:]] = du[..., :-1]
    return np.linalg.solve(a, b)


def _lu_reference(x):
    """The packed LU factor from SciPy's ``(p, l, u)``, matrix by matrix."""
    import scipy.linalg
    x = lc.spread(x)
    m, n = x.shape[-2:]
    k = min(m, n)
    out = []
    for a in x.reshape((-1, m, n)):
        _, lower, upper = scipy.linalg.lu(a)
        packed = np.zeros((m, n), x.dtype)
        packed[:, :k] += np.tril(lower, -1)
        packed[:k, :] += upper
        out.append(packed)
    return np.stack(out).reshape(x.shape)


def _draw_rectangular(draw, dtype):
    return Case((draw(lc.rectangular(dtype)),), {})


def _draw_qr(draw, dtype):
    x = draw(lc.rectangular(dtype, tall=True))
    square = x.shape[-1] == x.shape[-2]
    return Case((x,), {"full_matrices": square and draw(st.booleans())})


def _qr_fn(x, full_matrices):
    q, r = spec.qr(lc.spread(x), full_matrices=full_matrices)
    return lc.jnp.concatenate([q, r], axis=-2)


def _qr_reference(x, full_matrices):
    q, r = np.linalg.qr(lc.spread(x), mode="complete" if full_matrices else "reduced")
    return np.concatenate([q, r], axis=-2)


def _eigh_fn(x):
    v, w = spec.eigh(lc.spread(x))
    return lc.matrix_function(v, w, lc._mH(v))


def _eigh_reference(x):
    w, v = np.linalg.eigh(lc.hermitian(lc.spread(x)))
    return lc.matrix_function(v, w, lc._mH(v))


def _draw_svd(draw, dtype):
    return Case((draw(lc.rectangular(dtype)),), {"compute_uv": draw(st.booleans())})


def _svd_fn(x, compute_uv):
    out = spec.svd(lc.spread(x), full_matrices=False, compute_uv=compute_uv)
    return lc.matrix_function(*out) if compute_uv else out


def _svd_reference(x, compute_uv):
    if not compute_uv:
        return np.linalg.svd(lc.spread(x), compute_uv=False)
    return lc.matrix_function(*np.linalg.svd(lc.spread(x), full_matrices=False))


def _eig_reference(x):
    w = np.linalg.eigvals(lc.spread(x))
    return w.astype(np.result_type(w.dtype, np.complex64 if x.dtype in (np.float32,
                                                                        np.complex64)
                                   else np.complex128))


_LINALG = dict(complex=True, allow_empty=False)


def _schur_invariants(x):
    """Two functions of the complex Schur form ``T`` that do not depend on the order of the
    eigenvalues or the phases of the Schur vectors (``T`` is unitarily similar to ``x``): the
    squared Frobenius norm of ``T`` (every entry's derivative counts) and the real part of
    the sum of ``T_ii²`` (the trace of ``x²``)."""
    t = schur_lax.schur(lc.spread(x), output="complex")[0]
    diag = lc.jnp.diagonal(t, axis1=-2, axis2=-1)
    return lc.jnp.stack([lc.jnp.sum(lc.jnp.abs(t) ** 2, axis=(-2, -1)),
                         lc.jnp.real(lc.jnp.sum(diag**2, axis=-1))], -1)


def _schur_reference(x):
    x = lc.spread(x)
    out = np.stack([np.sum(np.abs(x) ** 2, axis=(-2, -1)),
                    np.real(np.trace(x @ x, axis1=-2, axis2=-1))], -1)
    return out.astype(np.float32 if x.dtype in (np.float32, np.complex64) else np.float64)


def _custom(name, prim, fn, reference, draw, n_args=-1, **kwargs) -> OpRecord:
    return OpRecord(name, prim, fn, reference, n_args, "custom", draw=draw, **kwargs)


def _named(x):
    """`checkpoint_name`, the identity that names its operand for checkpoint's policies."""
    return cpol.checkpoint_name(x, "n")


LAX_OPS: tuple[OpRecord, ...] = (
    # -- arithmetic
    binary("add", ew.add_p, ew.add, np.add, dtypes=NUMERIC, linear=True, complex=True),
    binary("sub", ew.sub_p, ew.sub, np.subtract, dtypes=NUMERIC, linear=True, complex=True),
    binary("mul", ew.mul_p, ew.mul, np.multiply, dtypes=NUMERIC, linear=True, complex=True),
    binary("div", ew.div_p, ew.div, np.true_divide, (DEFAULT, nonzero(0.5, 2.0)), linear=True,
           complex=True),
    unary("neg", ew.neg_p, ew.neg, np.negative, dtypes=NUMERIC, linear=True, complex=True),
    _custom("rem", ew.rem_p, ew.rem, np.fmod, _draw_rem, 2, dtypes=NUMERIC, elementwise=True),
    _custom("floor_divide", ew.floor_divide_p, ew.floor_divide, np.floor_divide,
            _draw_floor_divide, 2, dtypes=(I64, I32, U8), **_NONDIFF, elementwise=True),
    binary("pow", tr.pow_p, tr.pow, np.power, (uniform(0.5, 2.0), uniform(-2.0, 2.0)),
           complex=True),
    _custom("integer_pow", ew.integer_pow_p, ew.integer_pow, lambda x, *, y: np.power(x, y),
            _draw_integer_pow, 1, dtypes=NUMERIC, complex=True, elementwise=True),
    binary("max", ew.max_p, ew.max, np.maximum, (off_grid(1.0, 0.3), off_grid(1.0, 0.3, 0.5)),
           dtypes=ORDERED, complex=True),
    binary("min", ew.min_p, ew.min, np.minimum, (off_grid(1.0, 0.3), off_grid(1.0, 0.3, 0.5)),
           dtypes=ORDERED, complex=True),
    # -- sign, rounding, absolute value
    _nondiff_unary("sign", ew.sign_p, ew.sign, np.sign, nonzero(), dtypes=NUMERIC),
    _nondiff_unary("floor", ew.floor_p, ew.floor, np.floor, off_grid()),
    _nondiff_unary("ceil", ew.ceil_p, ew.ceil, np.ceil, off_grid()),
    _nondiff_unary("round", ew.round_p, ew.round, np.round, off_grid(0.5, 0.1)),
    _nondiff_unary("is_finite", ew.is_finite_p, ew.is_finite, np.isfinite, NONFINITE),
    unary("abs", ew.abs_p, ew.abs, np.abs, nonzero(), dtypes=NUMERIC, complex=True),
    # -- exponentials, logarithms, powers
    unary("exp", tr.exp_p, tr.exp, np.exp, complex=True),
    unary("log", tr.log_p, tr.log, np.log, uniform(0.2, 3.0), complex=True),
    unary("log1p", tr.log1p_p, tr.log1p, np.log1p, uniform(-0.5, 2.0), complex=True),
    unary("expm1", tr.expm1_p, tr.expm1, np.expm1, complex=True),
    unary("sqrt", tr.sqrt_p, tr.sqrt, np.sqrt, uniform(0.2, 3.0), complex=True),
    unary("rsqrt", tr.rsqrt_p, tr.rsqrt, _rsqrt_reference, uniform(0.3, 3.0), complex=True),
    unary("cbrt", tr.cbrt_p, tr.cbrt, np.cbrt, nonzero(0.3, 3.0)),
    unary("logistic", tr.logistic_p, tr.logistic, _logistic_reference, uniform(-3.0, 3.0),
          complex=True, complex_domain=uniform(-2.0, 2.0)),  # poles at odd multiples of i pi
    # -- trigonometric and hyperbolic
    unary("sin", tr.sin_p, tr.sin, np.sin, complex=True),
    unary("cos", tr.cos_p, tr.cos, np.cos, complex=True),
    unary("tan", tr.tan_p, tr.tan, np.tan, uniform(-1.2, 1.2), complex=True,
          complex_domain=uniform(-1.0, 1.0)),
    unary("asin", tr.asin_p, tr.asin, np.arcsin, uniform(-0.9, 0.9), complex=True,
          complex_domain=uniform(-0.7, 0.7)),  # branch points at +-1
    unary("acos", tr.acos_p, tr.acos, np.arccos, uniform(-0.9, 0.9), complex=True,
          complex_domain=uniform(-0.7, 0.7)),
    unary("atan", tr.atan_p, tr.atan, np.arctan, uniform(-0.9, 0.9), complex=True,
          complex_domain=uniform(-0.7, 0.7)),  # branch points at +-i
    unary("tanh", tr.tanh_p, tr.tanh, np.tanh, complex=True,
          complex_domain=uniform(-1.0, 1.0)),  # poles at odd multiples of i pi / 2
    unary("sinh", tr.sinh_p, tr.sinh, np.sinh, complex=True),
    unary("cosh", tr.cosh_p, tr.cosh, np.cosh, complex=True),
    unary("asinh", tr.asinh_p, tr.asinh, np.arcsinh, uniform(-0.9, 0.9), complex=True,
          complex_domain=uniform(-0.7, 0.7)),
    unary("acosh", tr.acosh_p, tr.acosh, np.arccosh, uniform(1.2, 3.0)),
    unary("atanh", tr.atanh_p, tr.atanh, np.arctanh, uniform(-0.9, 0.9), complex=True,
          complex_domain=uniform(-0.7, 0.7)),
    binary("atan2", tr.atan2_p, tr.atan2, np.arctan2, (DEFAULT, uniform(0.3, 2.0))),
    unary("erf", tr.erf_p, tr.erf, _erf_reference),
    unary("erfc", tr.erfc_p, tr.erfc, _erfc_reference),
    # -- complex numbers
    unary("real", ew.real_p, ew.real, np.real, linear=True, complex=True),
    unary("imag", ew.imag_p, ew.imag, np.imag, linear=True, complex=True),
    unary("conj", ew.conj_p, ew.conj, np.conjugate, linear=True, complex=True),
    binary("complex", ew.complex_p, ew.complex, _complex_reference, linear=True),
    # -- comparisons and logic
    _nondiff_binary("eq", ew.eq_p, ew.eq, np.equal, uniform(-1, 1), complex=True),
    _nondiff_binary("ne", ew.ne_p, ew.ne, np.not_equal, uniform(-1, 1), complex=True),
    _nondiff_binary("lt", ew.lt_p, ew.lt, np.less, uniform(-1, 1)),
    _nondiff_binary("le", ew.le_p, ew.le, np.less_equal, uniform(-1, 1)),
    _nondiff_binary("gt", ew.gt_p, ew.gt, np.greater, uniform(-1, 1)),
    _nondiff_binary("ge", ew.ge_p, ew.ge, np.greater_equal, uniform(-1, 1)),
    _nondiff_binary("and", ew.and_p, ew.bitwise_and, np.bitwise_and, uniform(-9, 9),
                    dtypes=(BOOL, I64, I32, U8)),
    _nondiff_binary("or", ew.or_p, ew.bitwise_or, np.bitwise_or, uniform(-9, 9),
                    dtypes=(BOOL, I64, I32, U8)),
    _nondiff_binary("xor", ew.xor_p, ew.bitwise_xor, np.bitwise_xor, uniform(-9, 9),
                    dtypes=(BOOL, I64, I32, U8)),
    _nondiff_unary("not", ew.not_p, ew.bitwise_not, np.invert, uniform(-9, 9),
                   dtypes=(BOOL, I64, I32, U8)),
    _custom("shift_left", ew.shift_left_p, ew.shift_left, np.left_shift, _draw_shift, 2,
            dtypes=(I64, I32, U8), **_NONDIFF, elementwise=True),
    _custom("shift_right", ew.shift_right_p, ew.shift_right, np.right_shift, _draw_shift, 2,
            dtypes=(I64, I32, U8), **_NONDIFF, elementwise=True),
    # -- selection, conversion
    _custom("select_n", ew.select_n_p, ew.select_n, _select_n_reference, _draw_select_n,
            dtypes=NUMERIC, linear=True, complex=True, elementwise=True),
    _custom("clamp", ew.clamp_p, ew.clamp, lambda lo, x, hi: np.clip(x, lo, hi), _draw_clamp, 3,
            dtypes=NUMERIC, elementwise=True),
    _custom("convert_element_type", ew.convert_element_type_p, ew.convert_element_type,
            _convert_reference, _draw_convert, 1, dtypes=(F64, F32, I32, BOOL), linear=True,
            complex=True, elementwise=True),
    _nondiff_unary("stop_gradient", ew.stop_gradient_p, ew.stop_gradient, np.asarray),
    _record("add_any", ad.add_any_p, add_any, np.add, 2, "same", linear=True, complex=True),
    _record("name", cpol.name_p, _named, np.asarray, 1, "unary", dtypes=NUMERIC, linear=True,
            complex=True),
    # -- reductions
    _custom("reduce_sum", red.reduce_sum_p, red.reduce_sum, _reduce_sum_reference,
            _draw_reduce_sum, 1, dtypes=NUMERIC, linear=True, complex=True),
    _custom("reduce_max", red.reduce_max_p, red.reduce_max,
            lambda x, *, axes: np.max(x, axis=axes), _draw_reduce_chooser, 1, dtypes=ORDERED,
            complex=True),
    _custom("reduce_min", red.reduce_min_p, red.reduce_min,
            lambda x, *, axes: np.min(x, axis=axes), _draw_reduce_chooser, 1, dtypes=ORDERED,
            complex=True),
    # Some operands exactly zero: the derivatives of a product there are the delicate case.
    _custom("reduce_prod", red.reduce_prod_p, red.reduce_prod, _reduce_prod_reference,
            _draw_reduce_prod, 1, dtypes=NUMERIC, complex=True),
    _custom("reduce_and", red.reduce_and_p, red.reduce_and,
            lambda x, *, axes: np.all(x, axis=axes), _draw_reduce_logical, 1, dtypes=(BOOL,),
            **_NONDIFF),
    _custom("reduce_or", red.reduce_or_p, red.reduce_or,
            lambda x, *, axes: np.any(x, axis=axes), _draw_reduce_logical, 1, dtypes=(BOOL,),
            **_NONDIFF),
    _custom("argmax", red.argmax_p, red.argmax, _argmax_reference, _draw_arg_reduction, 1,
            dtypes=ORDERED, complex=True, **_NONDIFF),
    _custom("argmin", red.argmin_p, red.argmin, _argmin_reference, _draw_arg_reduction, 1,
            dtypes=ORDERED, complex=True, **_NONDIFF),
    _custom("argsort", so.argsort_p, so.argsort, _argsort_reference, _draw_sorting, 1,
            dtypes=ORDERED, **_NONDIFF),
    _custom("sort", so.sort_p, so.sort, _sort_reference, _draw_sorting, 1, dtypes=ORDERED),
    _custom("cumsum", red.cumsum_p, red.cumsum, _cumsum_reference, _draw_cumsum, 1,
            dtypes=NUMERIC, linear=True, complex=True),
    # -- shapes
    _custom("broadcast_in_dim", sh.broadcast_in_dim_p, sh.broadcast_in_dim,
            _broadcast_in_dim_reference, _draw_broadcast_in_dim, 1, dtypes=ORDERED, linear=True,
            complex=True),
    _custom("reshape", sh.reshape_p, sh.reshape, lambda x, *, new_sizes: np.reshape(x, new_sizes),
            _draw_reshape, 1, dtypes=ORDERED, linear=True, complex=True),
    _custom("squeeze", sh.squeeze_p, sh.squeeze,
            lambda x, *, dimensions: np.squeeze(x, axis=dimensions), _draw_squeeze, 1,
            dtypes=ORDERED, linear=True, complex=True),
    _custom("expand_dims", sh.expand_dims_p, sh.expand_dims,
            lambda x, *, dimensions: np.expand_dims(x, dimensions), _draw_expand_dims, 1,
            dtypes=ORDERED, linear=True, complex=True),
    _custom("transpose", sh.transpose_p, sh.transpose,
            lambda x, *, permutation: np.transpose(x, permutation), _draw_transpose, 1,
            dtypes=ORDERED, linear=True, complex=True),
    _custom("rev", sh.rev_p, sh.rev, lambda x, *, dimensions: np.flip(x, dimensions), _draw_rev,
            1, dtypes=ORDERED, linear=True, complex=True),
    _custom("concatenate", sh.concatenate_p, _concatenate, _concatenate_reference,
            _draw_concatenate, dtypes=ORDERED, linear=True, complex=True),
    _custom("pad", sh.pad_p, sh.pad, _pad_reference, _draw_pad, 2, dtypes=ORDERED, linear=True,
            complex=True),
    _custom("slice", sh.slice_p, sh.slice, _slice_reference, _draw_slice, 1, dtypes=ORDERED,
            linear=True, complex=True),
    # -- indexing
    _custom("gather", ix.gather_p, _gather, _gather_reference, _draw_gather, dtypes=ORDERED,
            linear=True, complex=True),
    _custom("scatter_add", ix.scatter_add_p, _scatter_fn(ix.scatter_add),
            _scatter_reference(lambda a, b: a + b), _draw_scatter(DEFAULT), dtypes=NUMERIC,
            linear=True, complex=True),
    _custom("scatter", ix.scatter_p, _scatter_fn(ix.scatter), _scatter_reference(lambda a, b: b),
            _draw_scatter(DEFAULT), dtypes=ORDERED, linear=True, complex=True),
    # Zero updates, repeated places too: the JVP in the updates must not divide by them.
    _custom("scatter_mul", ix.scatter_mul_p, _scatter_fn(ix.scatter_mul),
            _scatter_reference(lambda a, b: a * b), _draw_scatter(with_zeros(DEFAULT)),
            dtypes=NUMERIC, linear=True, complex=True),
    # Repeated places keep the extreme of all their updates; ties (kinks, whose derivative is
    # shared) are kept out of the draws and tested in tests/test_jax_agreement.py.
    _custom("scatter_min", ix.scatter_min_p, _scatter_fn(ix.scatter_min),
            _scatter_reference(min), _draw_scatter(_APART, _APART_X), dtypes=ORDERED),
    _custom("scatter_max", ix.scatter_max_p, _scatter_fn(ix.scatter_max),
            _scatter_reference(max), _draw_scatter(_APART, _APART_X), dtypes=ORDERED),
    _custom("dynamic_slice", ds.dynamic_slice_p, _dynamic_slice, _dynamic_slice_reference,
            _draw_dynamic_slice, dtypes=ORDERED, linear=True, complex=True),
    _custom("dynamic_update_slice", ds.dynamic_update_slice_p, _dynamic_update_slice,
            _dynamic_update_slice_reference, _draw_dynamic_update_slice, dtypes=ORDERED,
            linear=True, complex=True),
    # -- contractions
    _custom("dot_general", la.dot_general_p, la.dot_general, _dot_general_reference,
            _draw_dot_general, 2, dtypes=NUMERIC, linear=True, complex=True),
    # -- convolutions and window reductions (pooling)
    _custom("conv_general_dilated", cv.conv_general_dilated_p, cv.conv_general_dilated,
            cref.conv, _draw_conv, 2, dtypes=NUMERIC, linear=True, complex=True),
    _custom("reduce_window_sum", wi.reduce_window_sum_p, wi.reduce_window_sum,
            _reduce_window_reference("sum"), _draw_reduce_window(False), 1, dtypes=NUMERIC,
            linear=True, complex=True),
    _custom("reduce_window_max", wi.reduce_window_max_p, wi.reduce_window_max,
            _reduce_window_reference("max"), _draw_reduce_window(True), 1, dtypes=ORDERED),
    _custom("reduce_window_min", wi.reduce_window_min_p, wi.reduce_window_min,
            _reduce_window_reference("min"), _draw_reduce_window(True), 1, dtypes=ORDERED),
    # -- factorisations
    _custom("cholesky", dec.cholesky_p, lambda x: dec.cholesky(lc.spd(x)),
            lambda x: np.linalg.cholesky(lc.spd(x)), _draw_square, 1, **_LINALG),
    _custom("triangular_solve", dec.triangular_solve_p, _triangular_solve_fn,
            _triangular_solve_reference, _draw_triangular_solve, 2, linear=True, **_LINALG),
    _custom("tridiagonal_solve", tri.tridiagonal_solve_p, _tridiagonal_solve_fn,
            _tridiagonal_solve_reference, _draw_tridiagonal_solve, 4, linear=True, **_LINALG),
    _custom("lu", dec.lu_p, lambda x: dec.lu(lc.spread(x))[0], _lu_reference,
            _draw_rectangular, 1, **_LINALG),
    _custom("qr", spec.qr_p, _qr_fn, _qr_reference, _draw_qr, 1, **_LINALG),
    _custom("eigh", spec.eigh_p, _eigh_fn, _eigh_reference, _draw_square, 1, **_LINALG),
    _custom("svd", spec.svd_p, _svd_fn, _svd_reference, _draw_svd, 1, **_LINALG),
    _custom("eig", spec.eig_p, lambda x: spec.eig(lc.spread(x), False)[0], _eig_reference,
            _draw_square, 1, order=1, order_note="eigenvalues only: their second derivative "
            "needs the eigenvectors' derivative, which is not implemented (as in JAX)",
            **_LINALG),
    _custom("schur", schur_lax.schur_p, _schur_invariants, _schur_reference, _draw_square, 1,
            **_LINALG),
    # -- Fourier transforms
    _custom("fft", fft_lax.fft_p, fft_lax.fft, _fft_reference, _draw_fft, 1, linear=True,
            complex=True),
)

# The special-function primitives, with SciPy as the reference, from their own table.
from special_lax_table import SPECIAL_OPS  # noqa: E402

LAX_OPS = LAX_OPS + SPECIAL_OPS

# The primitives on the binary representation of numbers (ldexp, frexp, gcd...), from their own
# table.
from bits_lax_table import BITS_OPS  # noqa: E402

LAX_OPS = LAX_OPS + BITS_OPS

# The primitives that run only in a context (collectives in a named vmap, custom_linear_solve
# with its functions closed over), from their own table.
from context_lax_table import CONTEXT_OPS  # noqa: E402

LAX_OPS = LAX_OPS + CONTEXT_OPS
