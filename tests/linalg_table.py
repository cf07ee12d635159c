"""The records of `funcdiff.numpy.linalg` (joining `numpy_table.RECORDS`): NumPy is the
reference. Each function maps any drawn matrix into its domain (`linalg_cases`: positive
definite, diagonally dominant, or with separated spectra), since the vmap test stacks
permutations of the drawn entries."""

from __future__ import annotations

from functools import partial

import linalg_cases as lc
import numpy as np
from hypothesis import strategies as st
from numpy_table import (
    C128,
    F32,
    F64,
    FLOATS,
    NO_GRAD,
    NONZERO,
    PRODUCT_DTYPES,
    _matmul_cases,
    _tensordot_cases,
    _vecdot_cases,
    add,
    case,
    draw_array,
)
from strategies import broadcastable_shapes, shapes

import funcdiff.numpy as jnp

LINALG_DTYPES = FLOATS + (C128,)


def _add(name: str, cases, ref=None, **opts) -> None:
    """`add`, with `numpy.linalg`'s function as the default reference."""
    add(name, cases, ref=ref or getattr(np.linalg, name.split(".")[1]), **opts)

F32_TOL = {F32: 1e-4}
LINALG = dict(dtypes=LINALG_DTYPES, grad_dtypes=(F64, C128), rtol=F32_TOL)


@st.composite
def _linalg_square(draw, dtype, batch=True, max_n=3):
    n = draw(st.integers(1, max_n))
    lead = tuple(draw(st.lists(st.integers(1, 2), max_size=1))) if batch else ()
    return draw_array(draw, lead + (n, n), dtype)


@st.composite
def _linalg_rect(draw, dtype, tall=None, batch=True):
    m, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    if tall is True and m < n or tall is False and m > n:
        m, n = n, m
    lead = tuple(draw(st.lists(st.integers(1, 2), max_size=1))) if batch else ()
    return draw_array(draw, lead + (m, n), dtype)


def _sq_cases(dtype, **kw):
    return _linalg_square(dtype).map(lambda x: case(x, **kw))


def _both(f, prep):
    """The funcdiff function (on `jnp.linalg`) and its NumPy reference of ``f(prep(x), ...)``."""
    return (lambda x, *a, **k: getattr(jnp.linalg, f)(prep(x), *a, **k),
            lambda x, *a, **k: getattr(np.linalg, f)(prep(x), *a, **k))


def _sym(x):
    return lc.hermitian(lc.spread(x))


for _name, _prep in [("cholesky", lc.spd), ("inv", lc.dominant), ("det", lc.dominant),
                     ("slogdet", lc.dominant), ("eigvalsh", _sym), ("eigh", _sym),
                     ("svdvals", lc.spread)]:
    _fn, _ref = _both(_name, _prep)
    _add("linalg." + _name, _sq_cases, fn=_fn, ref=_ref, **dict(
        LINALG, grad_dtypes=(F64,) if _name == "eigh" else (F64, C128)))
# The phases of complex eigen- and singular vectors are arbitrary (LAPACK normalises them, the
# derivative rules fix them as JAX does): complex derivatives are checked on functions that do
# not depend on the phases.
_add("linalg.eigh", _sq_cases, variant="phase-invariant",
     fn=lambda x: lc.matrix_function(*(lambda w, v: (v, w, lc._mH(v)))(*jnp.linalg.eigh(_sym(x)))),
     ref=lambda x: lc.matrix_function(
         *(lambda w, v: (v, w, lc._mH(v)))(*np.linalg.eigh(_sym(x)))), **LINALG)
_add("linalg.svd", lambda dt: _linalg_rect(dt).map(case), variant="phase-invariant",
     fn=lambda x: lc.matrix_function(*jnp.linalg.svd(lc.spread(x), full_matrices=False)),
     ref=lambda x: lc.matrix_function(*np.linalg.svd(lc.spread(x), full_matrices=False)),
     **LINALG)
_fn, _ref = _both("cholesky", lc.spd)
_add("linalg.cholesky", lambda dt: _sq_cases(dt, upper=True), fn=_fn, ref=_ref, variant="upper",
    **LINALG)
_add("linalg.det", _sq_cases, variant="pivoting", dtypes=LINALG_DTYPES, grad_dtypes=(F64,),
    grad_tol=1e-4, rtol=F32_TOL)


@st.composite
def _solve_cases(draw, dtype):
    a = draw(_linalg_square(dtype))
    n = a.shape[-1]
    kind = draw(st.sampled_from(["vector", "matrix", "broadcast"]))
    if kind == "vector":
        return case(a, draw_array(draw, (n,), dtype))
    lead = a.shape[:-2] if kind == "matrix" else (2,) + (1,) * (a.ndim - 2)
    return case(a, draw_array(draw, lead + (n, draw(st.integers(1, 2))), dtype))


_add("linalg.solve", _solve_cases, fn=lambda a, b: jnp.linalg.solve(lc.dominant(a), b),
    ref=lambda a, b: np.linalg.solve(lc.dominant(a), b), **LINALG)


def _eig_ref(name):
    def ref(x):
        out = getattr(np.linalg, name)(lc.spread(x))
        ct = np.complex64 if x.dtype == F32 else np.complex128
        return tuple(o.astype(ct) for o in out) if isinstance(out, tuple) else out.astype(ct)
    return ref


_add("linalg.eig", _sq_cases, fn=lambda x: jnp.linalg.eig(lc.spread(x)), ref=_eig_ref("eig"),
    dtypes=LINALG_DTYPES, grad_order=0, rtol=F32_TOL,
    grad_note="eigenvectors of general matrices have no derivative rule (as in JAX)")
_add("linalg.eigvals", _sq_cases, fn=lambda x: jnp.linalg.eigvals(lc.spread(x)),
    ref=_eig_ref("eigvals"), grad_order=1, **LINALG,
    grad_note="the second derivative needs the eigenvectors' derivative (as in JAX)")


@st.composite
def _svd_cases(draw, dtype, for_grad=False):
    x = draw(_linalg_rect(dtype))
    square = x.shape[-1] == x.shape[-2]
    full = draw(st.booleans()) and (square or not for_grad)
    return case(x, full_matrices=full, compute_uv=draw(st.booleans()))


_fn, _ref = _both("svd", lc.spread)
_add("linalg.svd", _svd_cases, fn=_fn, ref=_ref, grad_cases=partial(_svd_cases, for_grad=True),
     **dict(LINALG, grad_dtypes=(F64,)))
_add("linalg.svd", lambda dt: _sq_cases(dt, hermitian=True), variant="hermitian",
    fn=lambda x, **k: jnp.linalg.svd(lc.hermitian(lc.spread(x)), compute_uv=False, **k),
    ref=lambda x, **k: np.linalg.svd(lc.hermitian(lc.spread(x)), compute_uv=False, **k),
    **LINALG)


@st.composite
def _qr_cases(draw, dtype, for_grad=False):
    x = draw(_linalg_rect(dtype, tall=True if for_grad else None))
    square = x.shape[-1] == x.shape[-2]
    modes = ["reduced", "r"] + (["complete"] if square or not for_grad else [])
    return case(x, mode=draw(st.sampled_from(modes)))


_fn, _ref = _both("qr", lc.spread)
_add("linalg.qr", _qr_cases, fn=_fn, ref=_ref, grad_cases=partial(_qr_cases, for_grad=True),
    **LINALG)
_fn, _ref = _both("pinv", lc.spread)
_add("linalg.pinv", lambda dt: _linalg_rect(dt).map(case), fn=_fn, ref=_ref, **LINALG)


@st.composite
def _lstsq_cases(draw, dtype):
    a = draw(_linalg_rect(dtype, batch=False))
    m = a.shape[0]
    b = draw_array(draw, (m,) if draw(st.booleans()) else (m, draw(st.integers(1, 2))), dtype)
    return case(a, b)


_add("linalg.lstsq", _lstsq_cases, fn=lambda a, b: jnp.linalg.lstsq(lc.spread(a), b),
    ref=lambda a, b: np.linalg.lstsq(lc.spread(a), b), dtypes=LINALG_DTYPES, grad_order=0,
    rtol=F32_TOL,
    grad_note="the rank is an integer: derivatives in the record lstsq[solution]")
_add("linalg.lstsq", _lstsq_cases, variant="solution",
    fn=lambda a, b: jnp.linalg.lstsq(lc.spread(a), b)[::3],
    ref=lambda a, b: np.linalg.lstsq(lc.spread(a), b)[::3], **LINALG)


@st.composite
def _rank_cases(draw, dtype):
    m, n, r = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(0, 3))
    x = draw_array(draw, (m, r), dtype) @ draw_array(draw, (r, n), dtype)
    return case(x.astype(dtype))


_add("linalg.matrix_rank", _rank_cases, dtypes=LINALG_DTYPES, **NO_GRAD)


@st.composite
def _cond_cases(draw, dtype):
    p = draw(st.sampled_from([None, 2, -2, 1, -1, np.inf, -np.inf, "fro", "nuc"]))
    return case(draw(_linalg_square(dtype)), p=p)


_add("linalg.cond", _cond_cases, fn=lambda x, p: jnp.linalg.cond(lc.spread(x), p),
    ref=lambda x, p: np.linalg.cond(lc.spread(x), p), **LINALG)


@st.composite
def _spectral_norm_cases(draw, dtype):
    x = draw(_linalg_rect(dtype))
    ord_ = draw(st.sampled_from([2, -2, "nuc"]))
    axis = draw(st.sampled_from([None, (-2, -1), (-1, -2)])) if x.ndim == 2 else (-2, -1)
    return case(x, ord=ord_, axis=axis, keepdims=draw(st.booleans()))


_fn, _ref = _both("norm", lc.spread)
_add("linalg.norm", _spectral_norm_cases, fn=_fn, ref=_ref, variant="spectral", **LINALG)


@st.composite
def _matrix_norm_cases(draw, dtype):
    ord_ = draw(st.sampled_from(["fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]))
    return case(draw(_linalg_rect(dtype)), ord=ord_, keepdims=draw(st.booleans()))


_add("linalg.matrix_norm", _matrix_norm_cases,
    fn=lambda x, **k: jnp.linalg.matrix_norm(lc.spread(x), **k),
    ref=lambda x, **k: np.linalg.matrix_norm(lc.spread(x), **k), **LINALG)


@st.composite
def _vector_norm_cases(draw, dtype):
    shp = draw(shapes(1, 3))
    nd = len(shp)
    axis = draw(st.sampled_from([None, -1, 0, tuple(range(nd))] + ([(0, nd - 1)] if nd > 1
                                                                    else [])))
    ord_ = draw(st.sampled_from([2, 1, np.inf, -np.inf, 3, 0.5]))
    return case(draw_array(draw, shp, dtype, NONZERO), axis=axis, ord=ord_,
                keepdims=draw(st.booleans()))


_add("linalg.vector_norm", _vector_norm_cases, **LINALG)


@st.composite
def _matrix_power_cases(draw, dtype):
    return case(draw(_linalg_square(dtype)), n=draw(st.integers(-2, 4)))


_add("linalg.matrix_power", _matrix_power_cases,
    fn=lambda x, n: jnp.linalg.matrix_power(lc.dominant(x), n),
    ref=lambda x, n: np.linalg.matrix_power(lc.dominant(x), n), **LINALG)


@st.composite
def _multi_dot_cases(draw, dtype):
    k = draw(st.integers(2, 4))
    sizes = [draw(st.integers(1, 3)) for _ in range(k + 1)]
    shps = [(sizes[i], sizes[i + 1]) for i in range(k)]
    if draw(st.booleans()):
        shps[0] = shps[0][1:]
    if draw(st.booleans()):
        shps[-1] = shps[-1][:1]
    return case(*(draw_array(draw, s, dtype) for s in shps))


_add("linalg.multi_dot", _multi_dot_cases, fn=lambda *a: jnp.linalg.multi_dot(a),
    ref=lambda *a: np.linalg.multi_dot(a), **LINALG)


@st.composite
def _tensor_cases(draw, dtype):
    outer = draw(st.sampled_from([(2, 3), (6,), (3, 2)]))
    inner = draw(st.sampled_from([(6,), (2, 3)]))
    return case(draw_array(draw, (6, 6), dtype), outer=outer, inner=inner)


def _tensor_a(x, outer, inner):
    return lc.dominant(x).reshape(outer + inner)


_add("linalg.tensorinv", _tensor_cases,
    fn=lambda x, outer, inner: jnp.linalg.tensorinv(_tensor_a(x, outer, inner), len(outer)),
    ref=lambda x, outer, inner: np.linalg.tensorinv(_tensor_a(x, outer, inner), len(outer)),
    **LINALG)


@st.composite
def _tensorsolve_cases(draw, dtype):
    c = draw(_tensor_cases(dtype))
    return case(c.args[0], draw_array(draw, c.kwargs["outer"], dtype), **c.kwargs)


_add("linalg.tensorsolve", _tensorsolve_cases,
    fn=lambda x, b, outer, inner: jnp.linalg.tensorsolve(_tensor_a(x, outer, inner), b),
    ref=lambda x, b, outer, inner: np.linalg.tensorsolve(_tensor_a(x, outer, inner), b),
    **LINALG)


@st.composite
def _linalg_outer_cases(draw, dtype):
    return case(draw_array(draw, (draw(st.integers(0, 3)),), dtype),
                draw_array(draw, (draw(st.integers(0, 3)),), dtype))


@st.composite
def _linalg_cross_cases(draw, dtype):
    s1, s2 = draw(broadcastable_shapes(2, max_dims=2))
    return case(draw_array(draw, tuple(s1) + (3,), dtype), draw_array(draw, tuple(s2) + (3,),
                                                                        dtype))


@st.composite
def _linalg_diag_cases(draw, dtype):
    return case(draw(_linalg_rect(dtype)), offset=draw(st.integers(-2, 2)))


_add("linalg.outer", _linalg_outer_cases, dtypes=PRODUCT_DTYPES, grad_dtypes=(F64, C128))
_add("linalg.cross", _linalg_cross_cases, dtypes=PRODUCT_DTYPES, grad_dtypes=(F64, C128))
_add("linalg.diagonal", _linalg_diag_cases, dtypes=PRODUCT_DTYPES, grad_dtypes=(F64, C128))
_add("linalg.trace", _linalg_diag_cases, dtypes=PRODUCT_DTYPES, grad_dtypes=(F64, C128))
_add("linalg.matmul", _matmul_cases, dtypes=PRODUCT_DTYPES, grad_dtypes=(F64, C128))
_add("linalg.tensordot", _tensordot_cases, dtypes=PRODUCT_DTYPES, grad_dtypes=(F64, C128))
_add("linalg.vecdot", _vecdot_cases, dtypes=PRODUCT_DTYPES, grad_dtypes=(F64, C128))
_add("linalg.matrix_transpose", lambda dt: _linalg_rect(dt).map(case), dtypes=PRODUCT_DTYPES,
    grad_dtypes=(F64, C128))
