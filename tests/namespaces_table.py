"""Records of `funcdiff.scipy.linalg`, `funcdiff.experimental.ode.odeint` and the
`funcdiff.lax` functions that are compositions rather than one primitive (`gather` and the
`scatter*` family with JAX's dimension numbers), joining `numpy_table.RECORDS` so that the
generic checks of `tests/test_numpy_ops.py` (values, derivatives in both modes, staging, vmap
against a loop, jit against eager) run on them. SciPy, or a NumPy loop, is the reference."""

from __future__ import annotations

from functools import partial

import conv_reference as cref
import linalg_cases as lc
import numpy as np
import scipy.linalg as sla
from gather_scatter_reference import gather_reference, scatter_reference
from hypothesis import strategies as st
from numpy_table import C128, F32, F64, FLOATS, POS, add, case, draw_array, unary_cases

import funcdiff.numpy as jnp
from funcdiff import lax
from funcdiff.experimental.ode import odeint
from funcdiff.scipy import linalg as fsl

# ---- scipy.linalg ---------------------------------------------------------------------------

LINALG = dict(dtypes=FLOATS + (C128,), grad_dtypes=(F64,), rtol={F32: 1e-4})


@st.composite
def _square(draw, dtype, n_rhs=False, **kwargs):
    n = draw(st.integers(1, 3))
    args = [draw_array(draw, (n, n), dtype)]
    if n_rhs:
        args.append(draw_array(draw, (n,) + draw(st.sampled_from([(), (2,)])), dtype))
    return case(*args, **{k: draw(v) for k, v in kwargs.items()})


def _in_dtype(ref):
    """SciPy's `ref` with inexact results in the operands' dtype: SciPy promotes some float32
    results (``det``, ``expm``...) to float64, JAX and funcdiff keep float32."""

    def wrapped(*args, **kwargs):
        dtype = np.result_type(*[a for a in args if isinstance(a, np.ndarray)])

        def cast(o):
            o = np.asarray(o)
            if o.dtype.kind not in "fc" or dtype.kind not in "fc":
                return o
            real = np.finfo(dtype).dtype  # the precision of the operands
            return o.astype(np.result_type(real, np.complex64) if o.dtype.kind == "c" else real)

        out = ref(*args, **kwargs)
        return tuple(map(cast, out)) if isinstance(out, tuple) else cast(out)

    return wrapped


def _pair(prep, name, **fixed):
    """The funcdiff function and SciPy's of ``name(prep(a), *rest)``."""
    return (
        lambda a, *r, **k: getattr(fsl, name)(prep(a), *r, **k, **fixed),
        _in_dtype(lambda a, *r, **k: getattr(sla, name)(prep(a), *r, **k, **fixed)),
    )


def _sign_fixed(u, *rest):
    """Eigen/singular vectors (columns of `u` and of each of `rest`) with the sign making
    each column of `u` start non-negative: LAPACK drivers may choose either sign."""
    xp = np if type(u) is np.ndarray else jnp
    s = xp.where(u[..., :1, :] < 0, -1.0, 1.0).astype(u.dtype)
    return (u * s, *[r * s for r in rest])


for _name, _prep in [("inv", lc.dominant), ("det", lc.dominant), ("expm", lambda a: 0.5 * a)]:
    _fn, _ref = _pair(_prep, _name)
    add("scipy.linalg." + _name, _square, fn=_fn, ref=_ref, **LINALG)

_fn, _ref = _pair(lc.dominant, "solve")
add("scipy.linalg.solve", partial(_square, n_rhs=True), fn=_fn, ref=_ref, **LINALG)
_fn, _ref = _pair(lc.spd, "solve", assume_a="pos")
add("scipy.linalg.solve", partial(_square, n_rhs=True), variant="pos", fn=_fn, ref=_ref, **LINALG)
_fn, _ref = _pair(lc.dominant, "solve_triangular")
add(
    "scipy.linalg.solve_triangular",
    partial(
        _square,
        n_rhs=True,
        lower=st.booleans(),
        trans=st.sampled_from([0, 1, 2, "T"]),
        unit_diagonal=st.booleans(),
    ),
    fn=_fn,
    ref=_ref,
    **LINALG,
)


def _cho_factor_ref(a, lower=False):
    c, low = sla.cho_factor(lc.spd(a), lower=lower)
    return (np.tril if low else np.triu)(c)  # funcdiff zeroes the unused triangle


add(
    "scipy.linalg.cho_factor",
    partial(_square, lower=st.booleans()),
    fn=lambda a, lower=False: fsl.cho_factor(lc.spd(a), lower=lower)[0],
    ref=_cho_factor_ref,
    **LINALG,
)
add(
    "scipy.linalg.cho_solve",
    partial(_square, n_rhs=True, lower=st.booleans()),
    fn=lambda a, b, lower=False: fsl.cho_solve(fsl.cho_factor(lc.spd(a), lower), b),
    ref=lambda a, b, lower=False: sla.cho_solve(sla.cho_factor(lc.spd(a), lower), b),
    **LINALG,
)


@st.composite
def _rect(draw, dtype, tall=False, **kwargs):
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    if tall:
        shape = (max(shape), min(shape))
    return case(draw_array(draw, shape, dtype), **{k: draw(v) for k, v in kwargs.items()})


add(
    "scipy.linalg.lu",
    partial(_rect, permute_l=st.booleans()),
    fn=lambda a, permute_l=False: fsl.lu(lc.spread(a), permute_l=permute_l),
    ref=lambda a, permute_l=False: sla.lu(lc.spread(a), permute_l=permute_l),
    **LINALG,
)
add(
    "scipy.linalg.lu_factor",
    _square,
    fn=lambda a: fsl.lu_factor(lc.spread(a))[0],
    ref=lambda a: sla.lu_factor(lc.spread(a))[0],
    **LINALG,
)
add(
    "scipy.linalg.lu_factor",
    _square,
    variant="pivots",
    fn=lambda a: fsl.lu_factor(lc.spread(a))[1],
    ref=lambda a: sla.lu_factor(lc.spread(a))[1],
    dtypes=FLOATS,
    grad_order=0,
    grad_note="integer pivots: no derivative",
)
add(
    "scipy.linalg.lu_solve",
    partial(_square, n_rhs=True, trans=st.sampled_from([0, 1, 2])),
    fn=lambda a, b, trans=0: fsl.lu_solve(fsl.lu_factor(lc.dominant(a)), b, trans=trans),
    ref=lambda a, b, trans=0: sla.lu_solve(sla.lu_factor(lc.dominant(a)), b, trans=trans),
    **LINALG,
)


def _sym(a):
    return lc.hermitian(lc.spread(a))


add(
    "scipy.linalg.eigh",
    _square,
    variant="values",
    fn=lambda a: fsl.eigh(_sym(a), eigvals_only=True),
    ref=lambda a: sla.eigh(_sym(a), eigvals_only=True),
    **LINALG,
)
add(
    "scipy.linalg.eigh",
    _square,
    fn=lambda a: _eigh_fixed(fsl.eigh(_sym(a))),
    ref=lambda a: _eigh_fixed(sla.eigh(_sym(a))),
    dtypes=FLOATS,
    rtol={F32: 1e-4},
)


def _eigh_fixed(wv):
    w, v = wv
    return (w, *_sign_fixed(v))


add(
    "scipy.linalg.svd",
    _rect,
    variant="values",
    fn=lambda a: fsl.svd(lc.spread(a), compute_uv=False),
    ref=lambda a: sla.svd(lc.spread(a), compute_uv=False),
    **LINALG,
)


def _svd_fixed(usv):
    u, s, vh = usv
    return (*_sign_fixed(u, vh.swapaxes(-1, -2)), s)


add(
    "scipy.linalg.svd",
    _rect,
    fn=lambda a: _svd_fixed(fsl.svd(lc.spread(a), full_matrices=False)),
    ref=lambda a: _svd_fixed(sla.svd(lc.spread(a), full_matrices=False)),
    dtypes=FLOATS,
    rtol={F32: 1e-4},
)
add(
    "scipy.linalg.qr",
    partial(_rect, mode=st.sampled_from(["full", "economic", "r"])),
    fn=lambda a, mode="full": fsl.qr(lc.spread(a), mode=mode),
    ref=lambda a, mode="full": sla.qr(lc.spread(a), mode=mode),
    **LINALG,
    grad_cases=partial(_rect, tall=True, mode=st.just("economic")),
)
# (The derivative of a full Q of a non-square matrix is not unique: refused, as in JAX.)


@st.composite
def _block_diag_cases(draw, dtype):
    shapes = draw(
        st.lists(
            st.sampled_from([(), (2,), (1, 3), (2, 2), (3, 1), (0, 2)]), min_size=1, max_size=3
        )
    )
    return case(*[draw_array(draw, s, dtype) for s in shapes])


add("scipy.linalg.block_diag", _block_diag_cases, ref=sla.block_diag, **LINALG)

add(
    "scipy.linalg.cholesky",
    partial(_square, lower=st.booleans()),
    fn=lambda a, lower=False: fsl.cholesky(lc.spd(a), lower=lower),
    ref=lambda a, lower=False: sla.cholesky(lc.spd(a), lower=lower),
    **LINALG,
)


@st.composite
def _vectors(draw, dtype, n):
    return case(*[draw_array(draw, (draw(st.integers(1, 4)),), dtype) for _ in range(n)])


add("scipy.linalg.toeplitz", partial(_vectors, n=2), ref=sla.toeplitz, **LINALG)
add("scipy.linalg.toeplitz", partial(_vectors, n=1), variant="hermitian", ref=sla.toeplitz,
    **LINALG)
add("scipy.linalg.hankel", partial(_vectors, n=2), ref=sla.hankel, **LINALG)
add("scipy.linalg.hankel", partial(_vectors, n=1), variant="zeros", ref=sla.hankel, **LINALG)
add("scipy.linalg.circulant", partial(_vectors, n=1), ref=sla.circulant, **LINALG)

# ---- lax.gather and lax.scatter* with dimension numbers -------------------------------------

_GATHERS = [
    (
        lax.GatherDimensionNumbers(
            offset_dims=(1,), collapsed_slice_dims=(0, 2), start_index_map=(0, 2)
        ),
        (1, 3, 1),
        (4, 2),
    ),
    (
        lax.GatherDimensionNumbers(
            offset_dims=(1, 2, 3), collapsed_slice_dims=(), start_index_map=(1,)
        ),
        (2, 2, 4),
        (3, 1),
    ),
    (
        lax.GatherDimensionNumbers(
            offset_dims=(0, 3), collapsed_slice_dims=(1,), start_index_map=(1, 0)
        ),
        (2, 1, 3),
        (2, 3, 2),
    ),
]
_SCATTERS = [
    (
        lax.ScatterDimensionNumbers(
            update_window_dims=(1,),
            inserted_window_dims=(0, 2),
            scatter_dims_to_operand_dims=(0, 2),
        ),
        (4, 2),
        (4, 3),
    ),
    (
        lax.ScatterDimensionNumbers(
            update_window_dims=(1, 2),
            inserted_window_dims=(0,),
            scatter_dims_to_operand_dims=(0, 1),
        ),
        (3, 2),
        (3, 2, 4),
    ),
    (
        lax.ScatterDimensionNumbers(
            update_window_dims=(),
            inserted_window_dims=(0, 1, 2),
            scatter_dims_to_operand_dims=(0, 1, 2),
        ),
        (6, 3),
        (6,),
    ),
]
_SHAPE = (5, 6, 4)


@st.composite
def _gather_cases(draw, dtype, modes=("clip", "fill")):
    dn, sizes, idx_shape = draw(st.sampled_from(_GATHERS))
    seed = draw(st.integers(0, 2**32 - 1))
    idx = np.random.default_rng(seed).integers(-2, 7, size=idx_shape)
    return case(
        draw_array(draw, _SHAPE, dtype),
        indices=idx,
        dimension_numbers=dn,
        slice_sizes=sizes,
        mode=draw(st.sampled_from(modes)),
    )


def _gather_ref(x, indices, dimension_numbers, slice_sizes, mode):
    return gather_reference(x, indices, dimension_numbers, slice_sizes, mode).astype(x.dtype)


add(
    "lax.gather",
    _gather_cases,
    fn=lambda x, indices, **kw: lax.gather(x, indices, **kw),
    ref=_gather_ref,
    dtypes=FLOATS,
    grad_cases=partial(_gather_cases, modes=("clip",)),
)


@st.composite
def _scatter_cases(draw, dtype, kind):
    dn, idx_shape, u_shape = draw(st.sampled_from(_SCATTERS))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "scatter":  # distinct windows: overlapping ones land in no defined order
        idx = np.stack([rng.permutation(6)[: idx_shape[0]] % 3] * idx_shape[1], axis=1)
        idx = np.unique(idx, axis=0)
        u_shape = (idx.shape[0],) + u_shape[1:]
    else:
        idx = rng.integers(-1, 6, size=idx_shape)
    return case(
        draw_array(draw, _SHAPE, dtype),
        draw_array(draw, u_shape, dtype),
        indices=idx,
        dimension_numbers=dn,
        mode=draw(st.sampled_from(["clip", "drop"])),
    )


def _scatter_fn(kind):
    return lambda x, u, indices, **kw: getattr(lax, kind)(x, indices, u, **kw)


def _scatter_ref(kind):
    def ref(x, u, indices, dimension_numbers, mode):
        if kind == "scatter_sub":
            return scatter_reference("scatter_add", x, indices, -u, dimension_numbers, mode)
        return scatter_reference(kind, x, indices, u, dimension_numbers, mode)

    return ref


for _kind in ("scatter", "scatter_add", "scatter_sub", "scatter_mul", "scatter_min", "scatter_max"):
    add(
        "lax." + _kind,
        partial(_scatter_cases, kind=_kind),
        fn=_scatter_fn(_kind),
        ref=_scatter_ref(_kind),
        dtypes=FLOATS,
        rtol={F32: 1e-5},
    )

# ---- odeint ---------------------------------------------------------------------------------

_TIGHT = {"rtol": 1e-12, "atol": 1e-12}


def _linear_field(y, t, a):
    return a @ y


def _times(steps, xp):
    """Increasing times 0, then the running sums of the (positive) steps."""
    return xp.concatenate([xp.zeros(1, steps.dtype), xp.cumsum(steps)])


@st.composite
def _odeint_cases(draw, dtype):
    n, k = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    a = draw_array(draw, (n, n), dtype) * dtype.type(0.5)
    return case(draw_array(draw, (n,), dtype), draw_array(draw, (k,), dtype, POS) * 0.5, a)


def _odeint_fn(y0, steps, a):
    return odeint(_linear_field, y0, _times(steps, jnp), a, **_TIGHT)


def _odeint_ref(y0, steps, a):
    ts = _times(steps.astype(np.float64), np)
    out = np.stack([sla.expm(a.astype(np.float64) * t) @ y0 for t in ts])
    return out.astype(y0.dtype)


add(
    "experimental.ode.odeint",
    _odeint_cases,
    fn=_odeint_fn,
    ref=_odeint_ref,
    dtypes=FLOATS,
    rtol={F64: 1e-8, F32: 1e-4},
    grad_tol=1e-4,
)

# ---- lax compositions: cumulative reductions, *_in_dim slicing, top_k ------------------------


@st.composite
def _axis_cases(draw, dtype, domain=None, **kwargs):
    shape = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    x = draw_array(draw, shape, dtype) if domain is None else draw_array(draw, shape, dtype, domain)
    return case(x, axis=axis, **{k: draw(v) for k, v in kwargs.items()})


def _cumulative_ref(ufunc):
    def ref(x, axis=0, reverse=False):
        if reverse:
            x = np.flip(x, axis)
        out = ufunc(x, axis=axis)
        return (np.flip(out, axis) if reverse else out).astype(x.dtype)

    return ref


_CUMULATIVE = {
    "cumprod": np.multiply.accumulate,
    "cummax": np.maximum.accumulate,
    "cummin": np.minimum.accumulate,
    "cumlogsumexp": np.logaddexp.accumulate,
}
for _name, _ufunc in _CUMULATIVE.items():
    _opts = dict(dtypes=FLOATS, rtol={F32: 1e-5})
    if _name in ("cummax", "cummin"):
        _opts.update(
            grad_order=1,
            grad_note="piecewise linear: first derivatives, away from "
            "ties (the drawn values are distinct)",
        )
    add(
        "lax." + _name,
        partial(_axis_cases, reverse=st.booleans()),
        ref=_cumulative_ref(_ufunc),
        **_opts,
    )


def _start(draw, n, size):
    """A start index, sometimes out of range (dynamic slices clamp it, as JAX)."""
    return np.int32(draw(st.integers(-1, n - size + 1)))


@st.composite
def _dynamic_in_dim_cases(draw, dtype, update=False, index=False):
    shape = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    axis = draw(st.integers(0, len(shape) - 1))
    size = 1 if index else draw(st.integers(0, shape[axis]))
    x = draw_array(draw, shape, dtype)
    start = _start(draw, shape[axis], size)
    if update:
        u_shape = list(shape)
        u_shape[axis] = size
        if index and draw(st.booleans()):
            del u_shape[axis]
        return case(x, draw_array(draw, u_shape, dtype), start, axis=axis)
    kwargs = {"keepdims": draw(st.booleans())} if index else {"slice_size": size}
    return case(x, start, axis=axis, **kwargs)


def _clamp(start, n, size):
    """JAX's start index: a negative one counts from the end once, then it is clamped so that
    the slice fits."""
    start = int(start) + n if int(start) < 0 else int(start)
    return min(max(start, 0), n - size)


def _dynamic_slice_in_dim_ref(x, start, slice_size, axis=0):
    s = _clamp(start, x.shape[axis], slice_size)
    return np.take(x, np.arange(s, s + slice_size), axis=axis)


def _dynamic_index_in_dim_ref(x, index, axis=0, keepdims=True):
    out = _dynamic_slice_in_dim_ref(x, index, 1, axis)
    return out if keepdims else np.squeeze(out, axis)


def _dynamic_update_in_dim_ref(x, u, start, axis):
    if u.ndim < x.ndim:
        u = np.expand_dims(u, axis)
    s = _clamp(start, x.shape[axis], u.shape[axis])
    out = x.copy()
    idx = [slice(None)] * x.ndim
    idx[axis] = slice(s, s + u.shape[axis])
    out[tuple(idx)] = u
    return out


add("lax.dynamic_slice_in_dim", _dynamic_in_dim_cases, ref=_dynamic_slice_in_dim_ref)
add(
    "lax.dynamic_index_in_dim",
    partial(_dynamic_in_dim_cases, index=True),
    ref=_dynamic_index_in_dim_ref,
)
add(
    "lax.dynamic_update_slice_in_dim",
    partial(_dynamic_in_dim_cases, update=True),
    ref=_dynamic_update_in_dim_ref,
)
add(
    "lax.dynamic_update_index_in_dim",
    partial(_dynamic_in_dim_cases, update=True, index=True),
    ref=_dynamic_update_in_dim_ref,
)


@st.composite
def _static_in_dim_cases(draw, dtype, index=False):
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    axis = draw(st.integers(0, len(shape) - 1))
    x = draw_array(draw, shape, dtype)
    n = shape[axis]
    if index:
        return case(x, index=draw(st.integers(-n, n - 1)), axis=axis, keepdims=draw(st.booleans()))
    return case(
        x,
        start_index=draw(st.sampled_from([None, 0, 1, -1])),
        limit_index=draw(st.sampled_from([None, n, n - 1, -1])),
        stride=draw(st.integers(1, 2)),
        axis=axis,
    )


def _index_in_dim_ref(x, index, axis=0, keepdims=True):
    out = np.take(x, [index], axis=axis)
    return out if keepdims else np.squeeze(out, axis)


def _slice_in_dim_ref(x, start_index, limit_index, stride=1, axis=0):
    idx = [slice(None)] * x.ndim
    idx[axis] = slice(start_index, limit_index, stride)
    return x[tuple(idx)]


add("lax.index_in_dim", partial(_static_in_dim_cases, index=True), ref=_index_in_dim_ref)
add("lax.slice_in_dim", _static_in_dim_cases, ref=_slice_in_dim_ref)


@st.composite
def _top_k_cases(draw, dtype):
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    seed = draw(st.integers(0, 2**32 - 1))
    # Distinct values (a permutation), so that the order and the derivative are unique.
    x = np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) / 3.0
    return case(x.astype(dtype), k=draw(st.integers(0, shape[axis])), axis=axis)


def _top_k_ref(x, k, axis):
    order = np.take(np.argsort(-x, axis=axis, kind="stable"), np.arange(k), axis=axis)
    return np.take_along_axis(x, order, axis), order.astype(np.int32)


add(
    "lax.top_k",
    _top_k_cases,
    fn=lambda x, k, axis: lax.top_k(x, k, axis=axis)[0],
    ref=lambda x, k, axis: _top_k_ref(x, k, axis)[0],
)
add(
    "lax.top_k",
    _top_k_cases,
    variant="indices",
    fn=lambda x, k, axis: lax.top_k(x, k, axis=axis)[1],
    ref=lambda x, k, axis: _top_k_ref(x, k, axis)[1],
    grad_order=0,
    grad_note="integer indices",
)

# ---- lax convolutions and reduce_window, against the loops of conv_reference ----------------


@st.composite
def _conv_cases(draw, dtype, general=False):
    """NCW/NCHW operands and OIW/OIHW kernels (the defaults of `conv`), small windows."""
    n_sp = draw(st.integers(1, 2))
    spatial = [draw(st.integers(2, 4)) for _ in range(n_sp)]
    window = [draw(st.integers(1, 2)) for _ in range(n_sp)]
    c, o, b = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    lhs = draw_array(draw, [b, c, *spatial], dtype)
    rhs = draw_array(draw, [o, c, *window], dtype)
    strides = tuple(draw(st.integers(1, 2)) for _ in range(n_sp))
    if not general:
        return case(
            lhs, rhs, window_strides=strides, padding=draw(st.sampled_from(["VALID", "SAME"]))
        )
    padding = tuple((draw(st.integers(0, 1)), draw(st.integers(0, 1))) for _ in range(n_sp))
    return case(
        lhs,
        rhs,
        window_strides=strides,
        padding=padding,
        lhs_dilation=tuple(draw(st.integers(1, 2)) for _ in range(n_sp)),
        rhs_dilation=tuple(draw(st.integers(1, 2)) for _ in range(n_sp)),
    )


def _conv_ref(lhs, rhs, window_strides, padding, lhs_dilation=None, rhs_dilation=None):
    if isinstance(padding, str):
        padding = lax.padtype_to_pads(lhs.shape[2:], rhs.shape[2:], window_strides, padding)
    return cref.conv(
        lhs,
        rhs,
        window_strides=window_strides,
        padding=padding,
        lhs_dilation=lhs_dilation,
        rhs_dilation=rhs_dilation,
    )


add("lax.conv", _conv_cases, ref=_conv_ref, rtol={F32: 1e-5})
add(
    "lax.conv_with_general_padding",
    partial(_conv_cases, general=True),
    ref=_conv_ref,
    rtol={F32: 1e-5},
)


@st.composite
def _conv_transpose_cases(draw, dtype):
    k, stride = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    x = draw_array(draw, (draw(st.integers(1, 2)), draw(st.integers(1, 4)), 2), dtype)  # NWC
    w = draw_array(draw, (k, 2, draw(st.integers(1, 2))), dtype)  # WIO
    padding = draw(st.sampled_from(["SAME", "VALID", ((1, 2),), ((0, 0),)]))
    return case(x, w, strides=(stride,), padding=padding)


def _conv_transpose_ref(x, w, strides, padding):
    """By definition: the input dilated by the stride, then a stride-1 convolution with the
    padding JAX derives from the padding string."""
    (stride,), k, n = strides, w.shape[0], x.shape[1]
    dilated = np.zeros((x.shape[0], (n - 1) * stride + 1, x.shape[2]), x.dtype)
    dilated[:, ::stride] = x
    if isinstance(padding, str):
        total = k + stride - 2 + (max(k - stride, 0) if padding == "VALID" else 0)
        lo = k - 1 if padding == "VALID" or stride > k - 1 else -(-total // 2)
        padding = [(lo, total - lo)]
    return cref.conv(
        dilated, w, window_strides=(1,), padding=padding, dimension_numbers=("NWC", "WIO", "NWC")
    )


add("lax.conv_transpose", _conv_transpose_cases, ref=_conv_transpose_ref, rtol={F32: 1e-5})

_COMPUTATIONS = {"sum": (0.0, lax.add), "max": (-np.inf, lax.max), "min": (np.inf, lax.min)}


@st.composite
def _reduce_window_cases(draw, dtype):
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    window = tuple(draw(st.integers(1, n)) for n in shape)
    strides = tuple(draw(st.integers(1, 2)) for _ in shape)
    seed = draw(st.integers(0, 2**32 - 1))
    x = np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) / 4.0
    return case(
        x.astype(dtype),
        kind=draw(st.sampled_from(sorted(_COMPUTATIONS))),
        window_dimensions=window,
        window_strides=strides,
        padding=draw(st.sampled_from(["VALID", "SAME"])),
    )


def _reduce_window_fn(x, kind, window_dimensions, window_strides, padding):
    init, computation = _COMPUTATIONS[kind]
    return lax.reduce_window(x, init, computation, window_dimensions, window_strides, padding)


def _reduce_window_ref(x, kind, window_dimensions, window_strides, padding):
    pads = lax.padtype_to_pads(x.shape, window_dimensions, window_strides, padding)
    return cref.reduce_window(
        kind, x, window_dimensions=window_dimensions, window_strides=window_strides, padding=pads
    )


add(
    "lax.reduce_window",
    _reduce_window_cases,
    fn=_reduce_window_fn,
    ref=_reduce_window_ref,
    rtol={F32: 1e-5},
)

add("lax.square", unary_cases, ref=np.square, dtypes=FLOATS + (C128,), grad_dtypes=(F64, C128))


@st.composite
def _sort_cases(draw, dtype, distinct=False):
    """One to three operands of one shape, sorted by the first `num_keys`; keys with ties
    (small integers) so that the later keys decide, or, `distinct`, without ties (for
    derivatives, which finite differences take across a tie otherwise)."""
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=2))
    n = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    size = int(np.prod(shape))
    ops = [
        (rng.integers(0, 3, size) + rng.permutation(size) / (10.0 * size)).reshape(shape)
        if i == n - 1
        else rng.integers(0, 3, size).reshape(shape).astype(float)
        for i in range(n)
    ]
    if n > 1 and draw(st.booleans()):
        ops[-1] = rng.permutation(size).reshape(shape) / 3.0  # a payload, not a key
    if distinct:
        ops = [rng.permutation(size).reshape(shape) / 3.0 for _ in ops]
    return case(
        *[o.astype(dtype) for o in ops],
        dimension=draw(st.integers(-len(shape), len(shape) - 1)),
        num_keys=draw(st.integers(1, n)),
    )


def _sort_fn(*operands, dimension, num_keys):
    out = lax.sort(operands if len(operands) > 1 else operands[0], dimension, num_keys=num_keys)
    return out


def _sort_ref(*operands, dimension, num_keys):
    keys = operands[:num_keys]
    order = np.lexsort(keys[::-1], axis=dimension)  # the last key given to lexsort is primary
    out = tuple(np.take_along_axis(x, order, dimension) for x in operands)
    return out if len(operands) > 1 else out[0]


add(
    "lax.sort",
    _sort_cases,
    fn=_sort_fn,
    ref=_sort_ref,
    grad_order=1,
    grad_cases=partial(_sort_cases, distinct=True),
    grad_note="a permutation of its operands: first derivatives, on keys without ties",
)
