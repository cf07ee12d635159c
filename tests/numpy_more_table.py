"""The records of the rest of `jax.numpy` (issue 18), joining `numpy_table.RECORDS`: bit and
float-representation functions, index tricks, set operations, histograms, polynomials,
NaN-ignoring reductions, quantile methods, `where=`/`initial=` on reductions, `order="F"`
reshapes, `cross` with `axisa`/`axisb`/`axisc`, and the composite functions (`gradient`,
`cov`, `vectorize`...). NumPy is the reference for values and dtypes, except that float32
input stays float32 (NumPy computes some of these in float64): `keep32` casts such
references back.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
from hypothesis import strategies as st
from numpy_table import (
    ALL,
    BOOL,
    C128,
    DISCRETE,
    EXCLUDED,
    F32,
    F64,
    FLOATS,
    I32,
    I64,
    NANS,
    NO_GRAD,
    NONZERO,
    POS,
    REAL,
    SMALL_INT,
    SPECIAL,
    STATIC,
    U8,
    D,
    Domain,
    _creation_cases,
    _distinct,
    add,
    binary,
    case,
    draw_array,
    nary_cases,
    unary,
    unary_cases,
)
from strategies import broadcastable_shapes, reduction_axes, seeds, shapes

import funcdiff.numpy as jnp
from funcdiff._src.numpy.sorting import QUANTILE_METHODS


def keep32(ref):
    """`ref` with its float64 (complex128) results cast to float32 (complex64) when the
    inexact array arguments are all float32: funcdiff keeps float32 where NumPy widens."""

    def f(*args: Any, **kwargs: Any) -> Any:
        out = ref(*args, **kwargs)
        kinds = {np.asarray(a).dtype for a in args if isinstance(a, np.ndarray)
                 and np.asarray(a).dtype.kind in "fc"}
        if kinds and kinds <= {np.dtype(np.float32), np.dtype(np.complex64)}:
            return _cast32(out)
        return out

    return f


def _cast32(out: Any) -> Any:
    if isinstance(out, tuple | list):
        return type(out)(_cast32(o) for o in out)
    a = np.asarray(out)
    if a.dtype == np.float64:
        return a.astype(np.float32)
    if a.dtype == np.complex128:
        return a.astype(np.complex64)
    return out


def distinct_1d(seed: int, dtype) -> np.ndarray:
    """Five values without ties."""
    return (np.random.default_rng(seed).permutation(5) * 0.5 - 1.0).astype(dtype)


NOTE_TUPLE = "a tuple with an integer part: the differentiable part has its own record"

# ---- float representation and bits ----------------------------------------------------------

unary("frexp", D, dtypes=FLOATS, grad_order=0, grad_note=NOTE_TUPLE)
unary("frexp", Domain(1.1, 1.9, signed=True), variant="mantissa", dtypes=FLOATS,
      fn=lambda x: jnp.frexp(x)[0], ref=lambda x: np.frexp(x)[0],
      grad_note="the mantissa, between powers of two (where it jumps)")


@st.composite
def _ldexp_cases(draw, dtype):
    s1, s2 = draw(broadcastable_shapes(2, allow_empty=True))
    return case(draw_array(draw, s1, dtype), draw_array(draw, s2, I32, Domain(ilo=-4, ihi=4)))


add("ldexp", _ldexp_cases, dtypes=FLOATS, grad_note="linear in x; the exponent is an integer")
add("modf", partial(unary_cases, domain=Domain(0.1, 0.9, signed=True)), dtypes=FLOATS,
    grad_note="away from integers (the fraction jumps there)")
add("modf", partial(unary_cases, domain=SPECIAL), variant="special", dtypes=FLOATS,
    grad_order=0, grad_note="value check at infinities and NaN only")
binary("nextafter", D, D, dtypes=FLOATS, weak=False, grad_order=0,
       grad_note="no derivative (as in JAX): a step to the neighbouring float")
unary("spacing", SPECIAL, dtypes=FLOATS, grad_order=0,
      grad_note="no derivative: the gap between neighbouring floats")
unary("signbit", Domain(-2.0, 2.0, step=1.0, specials=True), dtypes=REAL, **NO_GRAD)
for _name in ("isposinf", "isneginf"):
    unary(_name, SPECIAL, dtypes=REAL, **NO_GRAD)
for _name in ("gcd", "lcm"):
    binary(_name, Domain(ilo=-12, ihi=12), Domain(ilo=-12, ihi=12), dtypes=(I32, I64, U8),
           weak=False, **NO_GRAD)
unary("bitwise_count", Domain(ilo=-300, ihi=300), dtypes=(I32, I64, U8), **NO_GRAD)


@st.composite
def _packbits_cases(draw, dtype):
    shape = draw(shapes(0, 3, max_side=10, allow_empty=True))
    axis = draw(st.sampled_from([None] + list(range(-len(shape), len(shape)))))
    return case(draw_array(draw, shape, dtype, SMALL_INT), axis=axis,
                bitorder=draw(st.sampled_from(["big", "little"])))


add("packbits", _packbits_cases, dtypes=(BOOL, I32, U8), **NO_GRAD)


@st.composite
def _unpackbits_cases(draw, dtype):
    # (Non-empty: NumPy pads an empty input with uninitialised bits when count is large.)
    shape = draw(shapes(0, 2))
    axis = draw(st.sampled_from([None] + list(range(-len(shape), len(shape)))))
    return case(draw_array(draw, shape, U8, Domain(ilo=0, ihi=255)), axis=axis,
                count=draw(st.sampled_from([None, 0, 3, -2, 9, 20])),
                bitorder=draw(st.sampled_from(["big", "little"])))


add("unpackbits", _unpackbits_cases, dtypes=(U8,), **NO_GRAD)

# ---- axes, partial sorts --------------------------------------------------------------------


@st.composite
def _rollaxis_cases(draw, dtype):
    shape = draw(shapes(1, 4, allow_empty=True))
    nd = len(shape)
    return case(draw_array(draw, shape, dtype), axis=draw(st.integers(-nd, nd - 1)),
                start=draw(st.integers(-nd, nd)))


add("rollaxis", _rollaxis_cases, dtypes=ALL)


@st.composite
def _partition_cases(draw, dtype, distinct=False):
    shape = draw(shapes(1, 3))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[axis]
    x = _distinct(draw, shape, dtype) if distinct else draw_array(draw, shape, dtype, DISCRETE)
    return case(x, kth=draw(st.integers(-n, n - 1)), axis=axis)


def _partition_ref(x, kth, axis):
    # funcdiff's partition is the sorted array, which is a partition: check NumPy's element
    # at kth (and NumPy's errors) before comparing with the sort.
    part = np.partition(x, kth, axis)
    out = np.sort(x, axis)
    assert np.array_equal(np.take(part, [kth], axis), np.take(out, [kth], axis), equal_nan=True)
    return out


add("partition", _partition_cases, ref=_partition_ref, dtypes=REAL,
    grad_cases=partial(_partition_cases, distinct=True),
    grad_note="derivatives without ties, as for sort")
add("argpartition", _partition_cases, dtypes=REAL,
    ref=lambda x, kth, axis: (np.argpartition(x, kth, axis),
                              np.argsort(x, axis, kind="stable"))[1], **NO_GRAD)


@st.composite
def _lexsort_cases(draw, dtype):
    shape = draw(shapes(1, 2))
    k = draw(st.integers(1, 3))
    keys = [draw_array(draw, shape, dtype, DISCRETE) for _ in range(k)]
    return case(*keys, axis=draw(st.integers(-len(shape), len(shape) - 1)))


add("lexsort", _lexsort_cases, fn=lambda *k, axis: jnp.lexsort(k, axis),
    ref=lambda *k, axis: np.lexsort(k, axis), dtypes=REAL, **NO_GRAD)


@st.composite
def _sort_complex_cases(draw, dtype):
    shape = draw(shapes(1, 2))
    if dtype == C128:
        z = np.empty(shape, C128)
        z.real = draw_array(draw, shape, F64, DISCRETE)
        z.imag = _distinct(draw, shape, F64)
        return case(z)
    return case(draw_array(draw, shape, dtype, DISCRETE))


add("sort_complex", _sort_complex_cases, dtypes=(C128, F64, F32, I32), grad_dtypes=(C128,),
    grad_note="derivatives with distinct imaginary parts (ties of real parts broken by them)",
    grad_cases=lambda dt: st.builds(lambda s: case(
        (np.random.default_rng(s).permutation(5) + 1j * np.arange(5)).astype(C128)), seeds))

# ---- finite differences ---------------------------------------------------------------------


@st.composite
def _gradient_cases(draw, dtype):
    shape = draw(shapes(1, 3, min_side=3))
    edge = draw(st.sampled_from([1, 2]))
    kind = draw(st.sampled_from(["none", "scalar", "axis"]))
    f = draw_array(draw, shape, dtype)
    if kind == "scalar":
        return case(f, draw(st.sampled_from([0.5, 2.0])), edge_order=edge)
    if kind == "axis":
        return case(f, axis=draw(st.integers(-len(shape), len(shape) - 1)), edge_order=edge)
    return case(f, edge_order=edge)


add("gradient", _gradient_cases, fn=lambda f, *h, **kw: jnp.gradient(f, *h, **kw),
    ref=keep32(lambda f, *h, **kw: np.gradient(f, *h, **kw)), dtypes=FLOATS + (I32,),
    rtol={F32: 1e-5})


@st.composite
def _gradient_coord_cases(draw, dtype):
    n = draw(st.integers(3, 6))
    x = np.cumsum(draw_array(draw, (n,), dtype, Domain(0.3, 1.5)))
    return case(draw_array(draw, (n,), dtype), np.asarray(x, dtype),
                edge_order=draw(st.sampled_from([1, 2])))


add("gradient", _gradient_coord_cases, variant="coordinates", dtypes=FLOATS,
    ref=keep32(np.gradient), rtol={F32: 1e-4},
    grad_note="derivatives in the values and in the sample coordinates")


@st.composite
def _ediff1d_cases(draw, dtype):
    shape = draw(shapes(0, 2, allow_empty=True))
    kw = {}
    if draw(st.booleans()):
        kw["to_begin"] = draw(st.sampled_from([-1.0, [1.0, 2.0]]))
    if draw(st.booleans()):
        kw["to_end"] = draw(st.sampled_from([3.0, [0.5]]))
    return case(draw_array(draw, shape, dtype), **kw)


add("ediff1d", _ediff1d_cases, dtypes=FLOATS)


@st.composite
def _unwrap_cases(draw, dtype):
    shape = draw(shapes(1, 2))
    kw: dict = {"axis": draw(st.integers(-len(shape), len(shape) - 1))}
    if draw(st.booleans()):
        kw["period"] = draw(st.sampled_from([2.0, 5.0]))
    if draw(st.booleans()):
        kw["discont"] = draw(st.sampled_from([1.0, 4.0]))
    return case(draw_array(draw, shape, dtype, Domain(-6.0, 6.0)), **kw)


add("unwrap", _unwrap_cases, dtypes=FLOATS, rtol={F32: 1e-5},
    grad_note="the added multiples of the period are constant between jumps")

# ---- statistics -----------------------------------------------------------------------------


@st.composite
def _cov_cases(draw, dtype):
    k, n = draw(st.integers(1, 3)), draw(st.integers(3, 5))
    rowvar = draw(st.booleans())
    m = draw_array(draw, (k, n) if rowvar else (n, k), dtype)
    kw: dict = {"rowvar": rowvar, "ddof": draw(st.sampled_from([None, 0, 1])),
                "bias": draw(st.booleans())}
    args = [m]
    if draw(st.booleans()):
        args.append(draw_array(draw, (1, n) if rowvar else (n, 1), dtype))
    return case(*args, **kw)


add("cov", _cov_cases, fn=lambda *a, **kw: jnp.cov(*a, **kw),
    ref=keep32(lambda *a, **kw: np.cov(*a, **kw)), dtypes=FLOATS, rtol={F32: 1e-4})


@st.composite
def _cov_weight_cases(draw, dtype):
    k, n = draw(st.integers(1, 3)), draw(st.integers(3, 5))
    fw = draw_array(draw, (n,), I32, Domain(ilo=1, ihi=3))
    return case(draw_array(draw, (k, n), dtype), fw, draw_array(draw, (n,), dtype, POS),
                ddof=draw(st.sampled_from([None, 0, 1])))


add("cov", _cov_weight_cases, variant="weights", dtypes=FLOATS, rtol={F32: 1e-4},
    fn=lambda m, fw, aw, **kw: jnp.cov(m, fweights=fw, aweights=aw, **kw),
    ref=keep32(lambda m, fw, aw, **kw: np.cov(m, fweights=fw, aweights=aw, **kw)))


@st.composite
def _corrcoef_cases(draw, dtype):
    k, n = draw(st.integers(2, 3)), draw(st.integers(3, 5))
    return case(_distinct(draw, (k, n), dtype), rowvar=True)


add("corrcoef", _corrcoef_cases, ref=keep32(np.corrcoef), dtypes=FLOATS, rtol={F32: 1e-4})

# ---- products -------------------------------------------------------------------------------


@st.composite
def _matvec_cases(draw, dtype, vec_first=False):
    b1, b2 = draw(broadcastable_shapes(2, max_dims=2, allow_empty=True))
    m, n = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    mat = draw_array(draw, tuple(b1) + (m, n), dtype)
    vec = draw_array(draw, tuple(b2) + ((m,) if vec_first else (n,)), dtype)
    return case(vec, mat) if vec_first else case(mat, vec)


add("matvec", _matvec_cases, ref=lambda a, b: np.matvec(a, b), dtypes=FLOATS + (I32, C128),
    grad_dtypes=(F64, C128))
add("vecmat", partial(_matvec_cases, vec_first=True), ref=lambda a, b: np.vecmat(a, b),
    dtypes=FLOATS + (I32, C128), grad_dtypes=(F64, C128))

# ---- applying functions ---------------------------------------------------------------------


@st.composite
def _along_axis_cases(draw, dtype):
    shape = draw(shapes(1, 3))
    return case(draw_array(draw, shape, dtype), axis=draw(st.integers(-len(shape),
                                                                        len(shape) - 1)))


add("apply_along_axis", _along_axis_cases, dtypes=FLOATS,
    fn=lambda a, axis: jnp.apply_along_axis(lambda v: v * jnp.sum(v), axis, a),
    ref=lambda a, axis: np.apply_along_axis(lambda v: v * np.sum(v), axis, a))


@st.composite
def _over_axes_cases(draw, dtype):
    shape = draw(shapes(1, 3))
    axes = draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=2, unique=True))
    return case(draw_array(draw, shape, dtype), axes=axes)


add("apply_over_axes", _over_axes_cases, dtypes=FLOATS,
    fn=lambda a, axes: jnp.apply_over_axes(jnp.sum, a, axes),
    ref=lambda a, axes: np.apply_over_axes(np.sum, a, axes))
add("vectorize", partial(nary_cases, domains=(D, D)), dtypes=FLOATS,
    fn=lambda x, y: jnp.vectorize(lambda a, b: a * b + jnp.sin(a))(x, y),
    ref=lambda x, y: x * y + np.sin(x))


@st.composite
def _vectorize_sig_cases(draw, dtype):
    b1, b2 = draw(broadcastable_shapes(2, max_dims=2))
    n = draw(st.integers(1, 3))
    return case(draw_array(draw, tuple(b1) + (n,), dtype),
                draw_array(draw, tuple(b2) + (n,), dtype))


add("vectorize", _vectorize_sig_cases, variant="signature", dtypes=FLOATS,
    fn=lambda x, y: jnp.vectorize(jnp.dot, signature="(n),(n)->()")(x, y),
    ref=lambda x, y: np.einsum("...n,...n->...", *np.broadcast_arrays(x, y)))
add("piecewise", partial(unary_cases, domain=Domain(-3.0, 3.0)), dtypes=FLOATS,
    fn=lambda x: jnp.piecewise(x, [x < 0, x > 1], [lambda v: -v, lambda v: v * v, 0.5]),
    ref=lambda x: np.piecewise(x, [x < 0, x > 1], [lambda v: -v, lambda v: v * v, 0.5]),
    grad_cases=partial(unary_cases, domain=Domain(1.2, 3.0, signed=True)),
    grad_note="derivatives away from the pieces' boundaries (0 and 1)")
add("fromfunction", partial(_creation_cases, shape=shapes(2, 2, allow_empty=True)),
    fn=lambda shape: jnp.fromfunction(lambda i, j: i * 2 + j, shape, dtype=int),
    ref=lambda shape: np.fromfunction(lambda i, j: i * 2 + j, shape, dtype=int),
    dtypes=(F64,), **STATIC)

add("frompyfunc", partial(nary_cases, domains=(D, D)), dtypes=FLOATS,
    fn=lambda x, y: jnp.frompyfunc(lambda a, b: a * jnp.cos(b), 2, 1)(x, y),
    ref=lambda x, y: x * np.cos(y))


@st.composite
def _ufunc_reduce_cases(draw, dtype):
    shape = draw(shapes(1, 3))
    return case(draw_array(draw, shape, dtype), axis=draw(reduction_axes(len(shape))),
                keepdims=draw(st.booleans()))


add("ufunc", _ufunc_reduce_cases, dtypes=FLOATS,
    fn=lambda x, **kw: jnp.ufunc(lambda a, b: a * b, 2, 1).reduce(x, **kw),
    ref=lambda x, **kw: np.multiply.reduce(x, **kw),
    grad_note="reduce of a product ufunc (its other methods: test_numpy_completeness)")


# ---- sequences and windows ------------------------------------------------------------------


@st.composite
def _geomspace_cases(draw, dtype):
    sign = draw(st.sampled_from([1.0, -1.0]))
    return case(np.asarray(sign * draw_array(draw, (), dtype, POS), dtype),
                np.asarray(sign * draw_array(draw, (), dtype, POS), dtype),
                num=draw(st.integers(0, 5)), endpoint=draw(st.booleans()))


add("geomspace", _geomspace_cases, ref=keep32(np.geomspace), dtypes=FLOATS,
    rtol={F32: 1e-5})
for _name in ("bartlett", "blackman", "hamming", "hanning"):
    add(_name, partial(_creation_cases, M=st.integers(0, 6)), dtypes=(F64,), **STATIC)
add("kaiser", lambda dt: st.builds(lambda m, b: case(np.float64(b), M=m), st.integers(0, 6),
                                   st.floats(0.5, 8.0)),
    fn=lambda beta, M: jnp.kaiser(M, beta), ref=lambda beta, M: np.kaiser(M, beta),
    dtypes=(F64,), rtol={F64: 1e-12}, grad_order=1,
    grad_note="first order here: i0, which kaiser is made of, is checked to second order")
unary("i0", Domain(-30.0, 30.0), ref=keep32(np.i0), dtypes=FLOATS, rtol={F64: 1e-12})


@st.composite
def _equiv_cases(draw, dtype):
    a = draw_array(draw, draw(shapes(0, 2)), dtype, DISCRETE)
    b = np.broadcast_to(a, (2,) + a.shape).copy() if draw(st.booleans()) else draw_array(
        draw, draw(shapes(0, 2)), dtype, DISCRETE)
    return case(a, b)


add("array_equiv", _equiv_cases, ref=lambda a, b: np.bool_(np.array_equiv(a, b)),
    dtypes=FLOATS + (I32,), **NO_GRAD)

# ---- index tricks ---------------------------------------------------------------------------


@st.composite
def _ix_cases(draw, dtype):
    k = draw(st.integers(1, 3))
    return case(*(draw_array(draw, (draw(st.integers(0, 3)),), dtype, SMALL_INT)
                  for _ in range(k)))


add("ix_", _ix_cases, dtypes=(I32, I64), **NO_GRAD)


@st.composite
def _ravel_multi_cases(draw, dtype, modes=("raise", "wrap", "clip")):
    dims = draw(shapes(1, 3))
    mode = draw(st.sampled_from(modes))
    n = draw(st.integers(0, 4))
    idx = []
    for d in dims:
        hi = d - 1 if mode == "raise" else d + 3
        lo = 0 if mode == "raise" else -3
        idx.append(draw_array(draw, (n,), dtype, Domain(ilo=lo, ihi=hi)))
    return case(*idx, dims=dims, mode=mode, order=draw(st.sampled_from(["C", "F"])))


add("ravel_multi_index", partial(_ravel_multi_cases, modes=("raise",)),
    fn=lambda *i, **kw: jnp.ravel_multi_index(i, **kw),
    ref=lambda *i, **kw: np.ravel_multi_index(i, **kw), dtypes=(I64,), jaxpr="concrete",
    **NO_GRAD)
add("ravel_multi_index", partial(_ravel_multi_cases, modes=("wrap", "clip")),
    variant="traced",
    fn=lambda *i, **kw: jnp.ravel_multi_index(i, **kw),
    ref=lambda *i, **kw: np.ravel_multi_index(i, **kw), dtypes=(I64,), **NO_GRAD)


@st.composite
def _unravel_cases(draw, dtype):
    shape = draw(shapes(1, 3))
    size = int(np.prod(shape))
    return case(draw_array(draw, draw(shapes(0, 2)), dtype, Domain(ilo=0, ihi=size - 1)),
                shape=shape)


add("unravel_index", _unravel_cases, dtypes=(I32, I64), **NO_GRAD)
add("mask_indices", partial(_creation_cases, n=st.integers(0, 4), k=st.integers(-2, 2),
                            which=st.sampled_from(["triu", "tril"])),
    fn=lambda n, k, which: jnp.mask_indices(n, getattr(jnp, which), k),
    ref=lambda n, k, which: np.mask_indices(n, getattr(np, which), k), dtypes=(F64,),
    **STATIC)
add("diagflat", partial(unary_cases, max_dims=2, k=st.integers(-2, 2)), dtypes=ALL)


@st.composite
def _fill_diagonal_cases(draw, dtype):
    if draw(st.booleans()):
        shape = (draw(st.integers(1, 5)), draw(st.integers(1, 4)))
    else:
        shape = (draw(st.integers(1, 3)),) * 3
    val = draw_array(draw, draw(st.sampled_from([(), (1,), (2,), (3,)])), dtype)
    return case(draw_array(draw, shape, dtype), val, wrap=draw(st.booleans()))


def _fill_diagonal_ref(a, val, wrap):
    out = a.copy()
    np.fill_diagonal(out, val, wrap)
    return out


add("fill_diagonal", _fill_diagonal_cases, ref=_fill_diagonal_ref, dtypes=FLOATS + (I32,),
    fn=lambda a, val, wrap: jnp.fill_diagonal(a, val, wrap, inplace=False))


@st.composite
def _choose_cases(draw, dtype, modes=("raise",)):
    n = draw(st.integers(1, 3))
    s = draw(broadcastable_shapes(n + 1))
    mode = draw(st.sampled_from(modes))
    hi = n - 1 if mode == "raise" else n + 2
    a = draw_array(draw, s[0], I32, Domain(ilo=0 if mode == "raise" else -2, ihi=hi))
    return case(a, *(draw_array(draw, sh_, dtype) for sh_ in s[1:]), mode=mode)


add("choose", _choose_cases, fn=lambda a, *c, mode: jnp.choose(a, c, mode=mode),
    ref=lambda a, *c, mode: np.choose(a, c, mode=mode), dtypes=FLOATS + (I32,),
    jaxpr="concrete", grad_note="derivatives in the choices")
add("choose", partial(_choose_cases, modes=("wrap", "clip")), variant="traced",
    fn=lambda a, *c, mode: jnp.choose(a, c, mode=mode),
    ref=lambda a, *c, mode: np.choose(a, c, mode=mode), dtypes=FLOATS + (I32,),
    grad_note="derivatives in the choices")


@st.composite
def _compress_cases(draw, dtype, sized=False):
    shape = draw(shapes(1, 2, allow_empty=True))
    axis = draw(st.sampled_from([None] + list(range(len(shape)))))
    n = int(np.prod(shape)) if axis is None else shape[axis]
    cond = draw_array(draw, (draw(st.integers(0, n)),), BOOL)
    kw: dict = {"axis": axis}
    if sized:
        kw.update(size=draw(st.integers(0, 4)), fill_value=-7)
    return case(cond, draw_array(draw, shape, dtype), **kw)


def _compress_sized_ref(cond, a, axis, size, fill_value):
    out = np.compress(cond, a, axis)
    ax = 0 if axis is None else axis
    k = out.shape[ax]
    if k >= size:
        return np.take(out, np.arange(size), ax)
    pad = [(0, 0)] * out.ndim
    pad[ax] = (0, size - k)
    return np.pad(out, pad, constant_values=fill_value)


add("compress", _compress_cases, dtypes=FLOATS + (I32,), jaxpr="concrete",
    grad_note="derivatives in the kept elements")
add("compress", partial(_compress_cases, sized=True), variant="size", ref=_compress_sized_ref,
    dtypes=FLOATS + (I32,), grad_note="derivatives in the kept elements")


@st.composite
def _extract_cases(draw, dtype):
    shape = draw(shapes(0, 2, allow_empty=True))
    return case(draw_array(draw, shape, BOOL), draw_array(draw, shape, dtype))


add("extract", _extract_cases, dtypes=FLOATS + (I32,), jaxpr="concrete",
    grad_note="derivatives in the extracted elements")


@st.composite
def _place_cases(draw, dtype):
    shape = draw(shapes(0, 2, allow_empty=True))
    return case(draw_array(draw, shape, dtype), draw_array(draw, shape, BOOL),
                draw_array(draw, (draw(st.integers(1, 3)),), dtype))


def _place_ref(arr, mask, vals):
    out = arr.copy()
    np.place(out, mask, vals)
    return out


add("place", _place_cases, ref=_place_ref, dtypes=FLOATS + (I32,), jaxpr="concrete",
    fn=lambda arr, mask, vals: jnp.place(arr, mask, vals, inplace=False))


@st.composite
def _put_cases(draw, dtype):
    shape = draw(shapes(1, 2))
    size = int(np.prod(shape))
    rng = np.random.default_rng(draw(seeds))
    ind = rng.permutation(size)[:draw(st.integers(0, size))]
    mode = draw(st.sampled_from([None, "clip", "wrap"]))
    return case(draw_array(draw, shape, dtype), ind,
                draw_array(draw, (draw(st.integers(1, 3)),), dtype), mode=mode)


def _put_ref(a, ind, v, mode):
    out = a.copy()
    np.put(out, ind, v, mode=mode or "raise")
    return out


add("put", _put_cases, ref=_put_ref, dtypes=FLOATS + (I32,),
    fn=lambda a, ind, v, mode: jnp.put(a, ind, v, mode, inplace=False),
    grad_note="distinct places: derivatives in a and in the values")


@st.composite
def _put_along_cases(draw, dtype):
    shape = draw(shapes(1, 3))
    axis = draw(st.integers(0, len(shape) - 1))
    rng = np.random.default_rng(draw(seeds))
    k = draw(st.integers(1, shape[axis]))
    order = np.argsort(rng.random(shape), axis=axis)
    idx = np.take(order, np.arange(k), axis=axis)
    vshape = list(shape)
    vshape[axis] = k
    return case(draw_array(draw, shape, dtype), idx, draw_array(draw, vshape, dtype), axis=axis)


def _put_along_ref(a, idx, v, axis):
    out = a.copy()
    np.put_along_axis(out, idx, v, axis)
    return out


add("put_along_axis", _put_along_cases, ref=_put_along_ref, dtypes=FLOATS + (I32,),
    fn=lambda a, idx, v, axis: jnp.put_along_axis(a, idx, v, axis, inplace=False))


@st.composite
def _delete_cases(draw, dtype):
    shape = draw(shapes(1, 2))
    axis = draw(st.sampled_from([None] + list(range(len(shape)))))
    n = int(np.prod(shape)) if axis is None else shape[axis]
    obj = draw(st.one_of(st.integers(-n, n - 1), st.lists(st.integers(0, n - 1), max_size=3),
                         st.just(slice(0, None, 2))))
    return case(draw_array(draw, shape, dtype), obj=obj, axis=axis)


add("delete", _delete_cases, dtypes=ALL)


@st.composite
def _insert_cases(draw, dtype):
    shape = draw(shapes(1, 2))
    axis = draw(st.sampled_from([None] + list(range(len(shape)))))
    n = int(np.prod(shape)) if axis is None else shape[axis]
    obj = draw(st.one_of(st.integers(-n, n), st.lists(st.integers(0, n), min_size=1,
                                                       max_size=3)))
    vshape = draw(st.sampled_from([(), (1,)]))
    return case(draw_array(draw, shape, dtype), draw_array(draw, vshape, dtype), obj=obj,
                axis=axis)


add("insert", _insert_cases, fn=lambda a, v, obj, axis: jnp.insert(a, obj, v, axis),
    ref=lambda a, v, obj, axis: np.insert(a, obj, v, axis), dtypes=FLOATS + (I32,))


@st.composite
def _block_cases(draw, dtype):
    r1, r2, c1, c2 = (draw(st.integers(1, 3)) for _ in range(4))
    return case(draw_array(draw, (r1, c1), dtype), draw_array(draw, (r1, c2), dtype),
                draw_array(draw, (r2, c1), dtype), draw_array(draw, (r2, c2), dtype))


add("block", _block_cases, fn=lambda a, b, c, d: jnp.block([[a, b], [c, d]]),
    ref=lambda a, b, c, d: np.block([[a, b], [c, d]]), dtypes=ALL)
add("resize", partial(unary_cases, new_shape=st.one_of(st.integers(0, 5),
                                                        shapes(0, 2, allow_empty=True))),
    dtypes=ALL)
add("trim_zeros", partial(unary_cases, domain=Domain(-1.0, 1.0, step=1.0, ilo=-1, ihi=1),
                          min_dims=1, max_dims=1, trim=st.sampled_from(["fb", "f", "b"])),
    dtypes=FLOATS + (I32,), jaxpr="concrete",
    grad_cases=partial(unary_cases, domain=NONZERO, min_dims=1, max_dims=1),
    grad_note="derivatives on nonzero values (zeros move the ends)")

# ---- searching, counting, histograms --------------------------------------------------------


@st.composite
def _searchsorted_cases(draw, dtype, domain=DISCRETE):
    a = np.sort(draw_array(draw, (draw(st.integers(0, 5)),), dtype, domain))
    v = draw_array(draw, draw(shapes(0, 2, allow_empty=True)), dtype, domain)
    return case(a, v, side=draw(st.sampled_from(["left", "right"])))


add("searchsorted", _searchsorted_cases, dtypes=REAL, **NO_GRAD)
add("searchsorted", partial(_searchsorted_cases, domain=Domain(-2.0, 2.0, step=0.5,
                                                               specials=True)),
    variant="nan", dtypes=FLOATS, **NO_GRAD)


@st.composite
def _digitize_cases(draw, dtype):
    bins = np.unique(draw_array(draw, (draw(st.integers(0, 5)),), dtype, DISCRETE))
    if draw(st.booleans()):
        bins = bins[::-1].copy()
    return case(draw_array(draw, draw(shapes(0, 2, allow_empty=True)), dtype, DISCRETE), bins,
                right=draw(st.booleans()))


add("digitize", _digitize_cases, dtypes=REAL, **NO_GRAD)


@st.composite
def _bincount_cases(draw, dtype, weights=False, length=False):
    x = draw_array(draw, (draw(st.integers(1, 6)),), I32, Domain(ilo=0, ihi=5))
    args = [x] + ([draw_array(draw, x.shape, dtype)] if weights else [])
    if length:
        return case(*args, length=draw(st.integers(0, 7)))
    return case(*args, minlength=draw(st.integers(0, 8)))


add("bincount", _bincount_cases, dtypes=(F64,), jaxpr="concrete", **NO_GRAD)
add("bincount", partial(_bincount_cases, weights=True), variant="weights", dtypes=(F64,),
    jaxpr="concrete", grad_note="derivatives in the weights",
    ref=lambda x, w, minlength: np.bincount(x, w, minlength))
add("bincount", partial(_bincount_cases, weights=True, length=True), variant="length",
    fn=lambda x, w, length: jnp.bincount(x, w, length=length),
    ref=lambda x, w, length: np.bincount(x, w, minlength=length)[:length], dtypes=(F64,),
    grad_note="derivatives in the weights")


@st.composite
def _histogram_cases(draw, dtype, weights=False):
    a = draw_array(draw, draw(shapes(1, 2)), dtype)
    bins = draw(st.one_of(st.integers(1, 5), st.just(np.array([-1.0, 0.0, 0.5, 2.0]))))
    kw: dict = {"bins": bins, "density": draw(st.sampled_from([None, True]))}
    if draw(st.booleans()):
        kw["range"] = (-1.0, 1.5)
    if weights:
        return case(a, draw_array(draw, a.shape, dtype, POS), **kw)
    return case(a, **kw)


add("histogram", _histogram_cases, ref=np.histogram, dtypes=FLOATS, rtol={F32: 1e-5},
    grad_note="derivatives of densities in the data (through the edges from its minimum "
              "and maximum)",
    grad_cases=lambda dt: st.builds(lambda s: case(np.random.default_rng(s).permutation(
        np.array([-1.0, -0.8, -0.3, 0.2, 0.6, 1.3, 2.0], dt)), bins=3, density=True), seeds))
add("histogram", partial(_histogram_cases, weights=True), variant="weights",
    fn=lambda a, w, **kw: jnp.histogram(a, weights=w, **kw),
    ref=lambda a, w, **kw: np.histogram(a, weights=w, **kw), dtypes=FLOATS,
    rtol={F32: 1e-5}, fixed_args=(0,),
    grad_note="derivatives in the weights (the counts are piecewise constant in the data)")
add("histogram_bin_edges", _histogram_cases,
    fn=lambda a, bins, density=None, **kw: jnp.histogram_bin_edges(a, bins, **kw),
    ref=lambda a, bins, density=None, **kw: np.histogram_bin_edges(a, bins, **kw),
    dtypes=FLOATS, rtol={F32: 1e-5},
    grad_cases=lambda dt: st.builds(lambda s: case(
        np.random.default_rng(s).permutation(7).astype(dt) * 0.5 - 1.0, bins=3), seeds),
    grad_note="derivatives through the data's minimum and maximum (no ties there)")


@st.composite
def _histogram2d_cases(draw, dtype):
    n = draw(st.integers(1, 6))
    return case(draw_array(draw, (n,), dtype), draw_array(draw, (n,), dtype),
                bins=draw(st.sampled_from([2, 3, (2, 3)])),
                density=draw(st.sampled_from([None, True])))


add("histogram2d", _histogram2d_cases, ref=np.histogram2d, dtypes=FLOATS,
    rtol={F32: 1e-5}, grad_order=0, grad_note="counts: piecewise constant in the data")


@st.composite
def _histogramdd_cases(draw, dtype):
    n, d = draw(st.integers(1, 6)), draw(st.integers(1, 3))
    return case(draw_array(draw, (n, d), dtype), bins=draw(st.integers(1, 3)),
                density=draw(st.sampled_from([None, True])))


add("histogramdd", _histogramdd_cases, ref=np.histogramdd, dtypes=FLOATS,
    rtol={F32: 1e-5}, grad_order=0, grad_note="counts: piecewise constant in the data")


@st.composite
def _interp_cases(draw, dtype, mode="plain"):
    m = draw(st.integers(1, 5))
    xp = np.sort(_distinct(draw, (m,), dtype))
    kw: dict = {}
    if mode == "bounds":
        kw = {"left": -5.0, "right": 7.0}
    elif mode == "period":
        kw = {"period": 3.0}
    return case(draw_array(draw, draw(shapes(0, 2)), dtype, Domain(-3.0, 3.0)), xp,
                draw_array(draw, (m,), dtype), **kw)


add("interp", _interp_cases, ref=keep32(np.interp), dtypes=FLOATS, rtol={F32: 1e-5},
    grad_note="derivatives in x, xp and fp (away from the sample points)")
add("interp", partial(_interp_cases, mode="bounds"), variant="bounds", ref=keep32(np.interp),
    dtypes=FLOATS, rtol={F32: 1e-5})
add("interp", partial(_interp_cases, mode="period"), variant="period", ref=keep32(np.interp),
    dtypes=FLOATS, rtol={F32: 1e-5})

# ---- polynomials ----------------------------------------------------------------------------


@st.composite
def _poly_pair(draw, dtype, d2=D):
    return case(draw_array(draw, (draw(st.integers(1, 4)),), dtype),
                draw_array(draw, (draw(st.integers(1, 4)),), dtype, d2))


for _name in ("polyadd", "polysub", "polymul"):
    add(_name, _poly_pair, dtypes=FLOATS + (I32,))
add("polydiv", partial(_poly_pair, d2=NONZERO), dtypes=FLOATS, jaxpr="concrete",
    fn=lambda u, v: jnp.polydiv(u, v, trim_leading_zeros=True), ref=keep32(np.polydiv),
    rtol={F32: 1e-4}, grad_note="derivatives of the untrimmed remainder: polydiv[untrimmed]",
    grad_order=0)


def _polydiv_full(u, v):
    q, _ = np.polydiv(u, v)
    r = u - np.convolve(q, v)[-len(u):] if len(q) and len(u) >= len(v) else u
    return q, np.asarray(r)


add("polydiv", partial(_poly_pair, d2=NONZERO), variant="untrimmed", dtypes=(F64,),
    ref=_polydiv_full, rtol={F64: 1e-9})
add("polyder", partial(unary_cases, min_dims=1, max_dims=1, m=st.integers(0, 3)),
    ref=keep32(np.polyder), dtypes=FLOATS + (I32,))
add("polyint", partial(unary_cases, min_dims=1, max_dims=1, m=st.integers(0, 3),
                       k=st.sampled_from([None, 2.0])),
    ref=keep32(np.polyint), dtypes=FLOATS)


@st.composite
def _polyfit_cases(draw, dtype):
    deg = draw(st.integers(0, 3))
    n = draw(st.integers(deg + 1, 7))
    x = _distinct(draw, (n,), dtype)
    y = draw_array(draw, (n,) if draw(st.booleans()) else (n, 2), dtype)
    if draw(st.booleans()):
        return case(x, y, draw_array(draw, (n,), dtype, POS), deg=deg)
    return case(x, y, deg=deg)


add("polyfit", _polyfit_cases, dtypes=(F64,), rtol={F64: 1e-8},
    fn=lambda x, y, w=None, deg=1: jnp.polyfit(x, y, deg, w=w),
    ref=lambda x, y, w=None, deg=1: np.polyfit(x, y, deg, w=w))
add("vander", partial(unary_cases, min_dims=1, max_dims=1, N=st.sampled_from([None, 0, 2, 4]),
                      increasing=st.booleans()), ref=keep32(np.vander),
    dtypes=FLOATS + (I32,))
add("poly", partial(unary_cases, min_dims=1, max_dims=1), ref=keep32(np.poly),
    dtypes=FLOATS, rtol={F32: 1e-4})


@st.composite
def _roots_cases(draw, dtype):
    p = draw_array(draw, (draw(st.integers(1, 5)),), dtype, NONZERO)
    zeros = np.zeros(draw(st.integers(0, 2)), dtype)
    return case(np.concatenate([zeros, p, zeros[:1]]))


add("roots", _roots_cases, dtypes=(F64,), jaxpr="concrete", rtol={F64: 1e-9},
    grad_order=0, grad_note="complex result; derivatives of the real parts: roots[real]")
add("roots", lambda dt: st.builds(lambda s: case(np.poly(
    np.random.default_rng(s).permutation(4)[:3] * 0.7 + 0.3)), seeds), variant="real",
    fn=lambda p: jnp.roots(p).real, ref=lambda p: np.roots(p).real, dtypes=(F64,),
    jaxpr="concrete", rtol={F64: 1e-8}, grad_order=1,
    grad_note="first derivatives at simple real roots (-dp(r) / p'(r))")

# ---- set operations -------------------------------------------------------------------------


@st.composite
def _unique_cases(draw, dtype, domain=DISCRETE, sized=False, axis=False):
    shape = draw(shapes(0 if not axis else 1, 2, allow_empty=True))
    kw: dict = {name: draw(st.booleans()) for name in
                ("return_index", "return_inverse", "return_counts")}
    if axis:
        kw["axis"] = draw(st.integers(-len(shape), len(shape) - 1))
    else:
        kw["equal_nan"] = draw(st.booleans())
    if sized:
        kw["size"] = draw(st.integers(1, 6))
        kw["fill_value"] = draw(st.sampled_from([None, -9]))
    x = draw_array(draw, shape, dtype, domain)
    if sized and kw["fill_value"] is None and x.size == 0:
        kw["fill_value"] = -9
    return case(x, **kw)


def _unique_sized_ref(x, size, fill_value, **kw):
    out = np.unique(x, **kw)
    out = out if isinstance(out, tuple) else (out,)
    vals = out[0]
    k = vals.shape[0]
    fill = fill_value if fill_value is not None or k == 0 else vals[0]
    padded = [np.concatenate([vals, np.full(max(size - k, 0), fill, vals.dtype)])[:size]]
    names = [n for n in ("return_index", "return_inverse", "return_counts") if kw.get(n)]
    for name, extra in zip(names, out[1:]):
        if name == "return_inverse":
            padded.append(extra)
        else:
            pad = extra[0] if name == "return_index" and k else 0
            padded.append(np.concatenate([extra, np.full(max(size - k, 0), pad,
                                                        extra.dtype)])[:size])
    return padded[0] if len(padded) == 1 else tuple(padded)


_UNIQUE_NOTE = ("derivatives on values without ties: each unique value is its first "
                "occurrence")
add("unique", _unique_cases, dtypes=REAL, jaxpr="concrete", grad_note=_UNIQUE_NOTE,
    grad_cases=lambda dt: st.builds(lambda s: case(distinct_1d(s, dt)), seeds))
add("unique", partial(_unique_cases, domain=Domain(-2.0, 2.0, step=1.0, specials=True)),
    variant="nan", dtypes=FLOATS, jaxpr="concrete", grad_order=0,
    grad_note="value check with NaN and infinities")
add("unique", partial(_unique_cases, axis=True), variant="axis", dtypes=REAL,
    jaxpr="concrete", grad_order=0, grad_note="ties are the point of this record")
add("unique", partial(_unique_cases, sized=True), variant="size", dtypes=REAL,
    ref=_unique_sized_ref, grad_note=_UNIQUE_NOTE,
    grad_cases=lambda dt: st.builds(lambda s: case(distinct_1d(s, dt), size=7), seeds))


_SAME_AS_UNIQUE = dict(grad_order=0, grad_note="the computation of unique (derivatives there)")
# The array-API forms, against np.unique (NumPy's own may return them unsorted).
_UNIQUE_FLAGS = {"unique_all": (True, True, True), "unique_counts": (False, False, True),
                 "unique_inverse": (False, True, False), "unique_values": (False, False, False)}
for _name, _flags in _UNIQUE_FLAGS.items():
    add(_name, partial(unary_cases, domain=DISCRETE, max_dims=2), dtypes=REAL,
        jaxpr="concrete", ref=lambda x, _f=_flags: np.unique(x, *_f, equal_nan=False),
        fn=lambda x, _n=_name: (lambda r: r if _n == "unique_values" else tuple(r))(
            getattr(jnp, _n)(x)), **_SAME_AS_UNIQUE)


@st.composite
def _two_sets(draw, dtype):
    return case(draw_array(draw, draw(shapes(0, 2, allow_empty=True)), dtype, DISCRETE),
                draw_array(draw, draw(shapes(0, 2, allow_empty=True)), dtype, DISCRETE))


add("isin", _two_sets, dtypes=REAL, **NO_GRAD)
add("isin", _two_sets, variant="invert", fn=lambda a, b: jnp.isin(a, b, invert=True),
    ref=lambda a, b: np.isin(a, b, invert=True), dtypes=REAL, **NO_GRAD)
for _name in ("intersect1d", "union1d", "setdiff1d", "setxor1d"):
    add(_name, _two_sets, dtypes=REAL, jaxpr="concrete", grad_order=0,
        grad_note="ties between the sets are the point; values gathered as in unique")
add("intersect1d", _two_sets, variant="indices", dtypes=REAL, jaxpr="concrete",
    fn=lambda a, b: jnp.intersect1d(a, b, return_indices=True),
    ref=lambda a, b: np.intersect1d(a, b, return_indices=True), **NO_GRAD)

# ---- NaN-ignoring reductions ----------------------------------------------------------------


@st.composite
def _nan_reduction_cases(draw, dtype, int_axis=False, ddof=False, keepdims=True,
                         finite_first=False):
    shape = draw(shapes(1, 3))
    nd = len(shape)
    axis = draw(st.sampled_from([None] + list(range(-nd, nd)))) if int_axis else draw(
        reduction_axes(nd))
    x = draw_array(draw, shape, dtype, NANS)
    if finite_first and dtype.kind == "f":
        # One finite value in every reduced slice (NumPy raises on all-NaN slices).
        ax = 0 if axis is None else axis % nd
        idx = [slice(None)] * nd
        idx[ax] = 0
        if axis is None:
            x.flat[0] = 0.25
        else:
            x[tuple(idx)] = draw_array(draw, x[tuple(idx)].shape, dtype)
    kw: dict = {"axis": axis}
    if keepdims:
        kw["keepdims"] = draw(st.booleans())
    if ddof:
        kw["ddof"] = draw(st.integers(0, 1))
    return case(x, **kw)


_NAN_GRAD = "derivatives without NaN here (the NaN places have zero derivative)"
for _name in ("nanargmax", "nanargmin"):
    add(_name, partial(_nan_reduction_cases, int_axis=True, finite_first=True),
        dtypes=FLOATS + (I32,), **NO_GRAD)
for _name in ("nancumsum", "nancumprod"):
    add(_name, partial(_nan_reduction_cases, int_axis=True, keepdims=False),
        dtypes=FLOATS + (I32,), grad_note=_NAN_GRAD,
        grad_cases=lambda dt: st.builds(lambda s: case(
            np.random.default_rng(s).uniform(0.5, 1.5, (2, 3)), axis=1), seeds))
for _name in ("nanvar", "nanstd"):
    add(_name, partial(_nan_reduction_cases, ddof=True), dtypes=FLOATS + (I32,),
        grad_note=_NAN_GRAD, rtol={F32: 1e-5},
        grad_cases=lambda dt: st.builds(lambda s: case(
            np.random.default_rng(s).uniform(-2, 2, (3, 4)), axis=1, ddof=1), seeds))
add("nanmedian", _nan_reduction_cases, dtypes=FLOATS + (I32,), grad_note=_NAN_GRAD,
    grad_cases=lambda dt: st.builds(lambda s: case(distinct_1d(s, dt)), seeds))


@st.composite
def _nanquantile_cases(draw, dtype, scale=1.0, methods=("linear",), domain=NANS):
    shape = draw(shapes(1, 3))
    axis = draw(reduction_axes(len(shape)))
    q = np.asarray(draw_array(draw, draw(st.sampled_from([(), (3,)])), F64,
                              Domain(0.0, 1.0)) * scale)
    q_dt = dtype if dtype.kind == "f" else F64
    return case(draw_array(draw, shape, dtype, domain), q.astype(q_dt), axis=axis,
                method=draw(st.sampled_from(methods)), keepdims=draw(st.booleans()))


def _quantile_grad_cases(dtype, scale=1.0, methods=("linear",)):
    return st.builds(lambda s, m: case(distinct_1d(s, dtype), np.asarray(0.37 * scale, dtype),
                                       method=m), seeds, st.sampled_from(methods))


for _name, _scale in (("nanquantile", 1.0), ("nanpercentile", 100.0)):
    add(_name, partial(_nanquantile_cases, scale=_scale, methods=QUANTILE_METHODS),
        dtypes=FLOATS + (I32,), fixed_args=(1,), grad_note=_NAN_GRAD + "; q fixed",
        grad_cases=partial(_quantile_grad_cases, scale=_scale, methods=QUANTILE_METHODS))
for _name, _scale in (("quantile", 1.0), ("percentile", 100.0)):
    add(_name, partial(_nanquantile_cases, scale=_scale, methods=QUANTILE_METHODS,
                       domain=DISCRETE), variant="methods", dtypes=FLOATS + (I32,),
        fixed_args=(1,), grad_note="every method, derivatives in a without ties (q fixed)",
        grad_cases=partial(_quantile_grad_cases, scale=_scale, methods=QUANTILE_METHODS))

# ---- where= and initial= on reductions, order="F", cross(axisa=...) ------------------------


@st.composite
def _masked_reduction_cases(draw, dtype, initial=None, ddof=False):
    shape = draw(shapes(1, 3))
    s_where = list(shape)
    for i in range(len(s_where)):
        if draw(st.booleans()):
            s_where[i] = 1
    kw: dict = {"axis": draw(reduction_axes(len(shape))), "keepdims": draw(st.booleans())}
    if initial is not None:
        kw["initial"] = initial
    if ddof:
        kw["ddof"] = draw(st.integers(0, 1))
    return case(draw_array(draw, shape, dtype), draw_array(draw, tuple(s_where), BOOL), **kw)


def _where_record(name: str, initial=None, ddof=False, **opts) -> None:
    add(name, partial(_masked_reduction_cases, initial=initial, ddof=ddof), variant="where",
        fn=lambda a, w, **kw: getattr(jnp, name)(a, where=w, **kw),
        ref=lambda a, w, **kw: getattr(np, name)(a, where=w, **kw), **opts)


_where_record("sum", initial=1.5, dtypes=FLOATS + (I32,))
_where_record("prod", initial=2.0, dtypes=FLOATS + (I32,))
_where_record("max", initial=-1.0, dtypes=FLOATS + (I32,))
_where_record("min", initial=1.0, dtypes=FLOATS + (I32,))
for _name in ("mean", "var", "std"):
    _where_record(_name, ddof=_name != "mean", dtypes=FLOATS, rtol={F32: 1e-5},
                  grad_cases=lambda dt: st.builds(lambda s: case(
                      np.random.default_rng(s).uniform(-2, 2, (3, 4)),
                      np.array([[True, True, False, True]]), axis=1), seeds),
                  grad_note="derivatives where every slice keeps several values")
for _name in ("all", "any"):
    _where_record(_name, dtypes=(F64, BOOL), **NO_GRAD)
for _name in ("nansum", "nanmean"):
    _where_record(_name, dtypes=FLOATS, grad_cases=lambda dt: st.builds(lambda s: case(
        np.random.default_rng(s).uniform(-2, 2, (3, 4)), np.array([[True, False, True, True]]),
        axis=1), seeds), grad_note="derivatives where every slice keeps several values")
for _name, _init in (("sum", 0.5), ("prod", 2.0), ("max", 0.25), ("min", -0.25)):
    add(_name, partial(_masked_reduction_cases), variant="initial",
        fn=lambda a, w, _n=_name, _i=_init, **kw: getattr(jnp, _n)(a, initial=_i, **kw),
        ref=lambda a, w, _n=_name, _i=_init, **kw: getattr(np, _n)(a, initial=_i, **kw),
        dtypes=FLOATS + (I32,))


@st.composite
def _reshape_f_cases(draw, dtype):
    shape = draw(shapes(0, 3, allow_empty=True))
    size = int(np.prod(shape))
    target = draw(st.sampled_from([(size,), (1, size), (size, 1), (-1,)]))
    if size and size % 2 == 0:
        target = draw(st.sampled_from([target, (2, size // 2), (size // 2, -1, 1)]))
    return case(draw_array(draw, shape, dtype), shape=target)


add("reshape", _reshape_f_cases, variant="F", dtypes=ALL,
    fn=lambda a, shape: jnp.reshape(a, shape, order="F"),
    ref=lambda a, shape: np.reshape(a, shape, order="F"))
add("ravel", partial(unary_cases), variant="F", dtypes=ALL,
    fn=lambda a: jnp.ravel(a, order="F"), ref=lambda a: np.ravel(a, order="F"))


@st.composite
def _cross_axes_cases(draw, dtype):
    na, nb = draw(st.sampled_from([2, 3])), draw(st.sampled_from([2, 3]))
    b1, b2 = draw(broadcastable_shapes(2, max_dims=2))
    pa = draw(st.integers(0, len(b1)))
    pb = draw(st.integers(0, len(b2)))
    sa = list(b1)
    sa.insert(pa, na)
    sb = list(b2)
    sb.insert(pb, nb)
    kw: dict = {"axisa": pa, "axisb": pb}
    if not (na == 2 and nb == 2):
        nd_out = max(len(b1), len(b2)) + 1
        kw["axisc"] = draw(st.integers(-nd_out, nd_out - 1))
    return case(draw_array(draw, sa, dtype), draw_array(draw, sb, dtype), **kw)


add("cross", _cross_axes_cases, variant="axes", dtypes=FLOATS + (I32,))

# ---- the names that are not functions checked by the table ----------------------------------

EXCLUDED.update({
    **{n: "NumPy scalar type, re-exported from numpy" for n in (
        "bool", "cdouble", "character", "csingle", "double", "flexible", "generic", "int_",
        "object_", "signedinteger", "single", "uint", "unsignedinteger")},
    "ComplexWarning": "numpy.exceptions.ComplexWarning, re-exported",
    "can_cast": "numpy.can_cast, re-exported (dtype query)",
    "promote_types": "numpy.promote_types, re-exported (dtype query)",
    "isdtype": "numpy.isdtype, re-exported (dtype query)",
    "iterable": "numpy.iterable, re-exported (a Python-object query)",
    "euler_gamma": "constant",
    **{n: "NumPy's index-expression object, re-exported (builds plain indices or constant "
          "grids)" for n in ("s_", "index_exp", "mgrid", "ogrid")},
    **{n: "NumPy's printing, re-exported (funcdiff's arrays are NumPy arrays)" for n in (
        "array_repr", "array_str", "get_printoptions", "printoptions", "set_printoptions")},
    **{n: "NumPy's file and buffer input/output, re-exported (concrete arrays only)"
       for n in ("load", "save", "savez", "frombuffer", "fromfile", "fromiter", "fromstring",
                 "from_dlpack")},
})

# Objects of funcdiff's own that are not functions of arrays; each has directed tests in
# tests/test_numpy_completeness.py.
NOT_ARRAY_FUNCTIONS = {
    "r_": "index-expression object: r_[...] concatenates (test_numpy_completeness)",
    "c_": "index-expression object: c_[...] stacks columns (test_numpy_completeness)",
    "einsum_path": "returns NumPy's contraction path (a list and a text), not arrays "
                   "(test_numpy_completeness)",
}
EXCLUDED.update(NOT_ARRAY_FUNCTIONS)
