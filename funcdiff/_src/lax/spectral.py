"""Orthogonal and spectral decompositions: `qr`, `eigh`, `svd` and `eig` (eigenvalues
differentiable only), on stacks of matrices. The derivative rules (Giles 2008 for `qr` and
`eigh`, Townsend 2016 for `svd`) use `triangular_solve` and `lu` from `decompositions.py`."""

from __future__ import annotations

from typing import Any

import numpy as np

from funcdiff._src import core, dtypes
from funcdiff._src.core import ShapedArray
from funcdiff._src.interpreters import ad
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax._define import define_primitive, per_primitive
from funcdiff._src.lax.decompositions import (
    _H,
    Array,
    _as,
    _batch_count,
    _batch_leading,
    _bind,
    _col,
    _complex_dtype,
    _cost,
    _diag_part,
    _dtype,
    _inexact_aval,
    _masked,
    _matrix_aval,
    _mm,
    _real_dtype,
    _row,
    _square_aval,
    _tril,
    lu,
    permutation_matrix,
    triangular_solve,
)

# ---- qr -------------------------------------------------------------------------------------


def _qr_impl(a, *, full_matrices):
    q, r = np.linalg.qr(np.asarray(a), mode="complete" if full_matrices else "reduced")
    return [q, r]


def _qr_aval(a: ShapedArray, *, full_matrices):
    _matrix_aval(a, "qr")
    *batch, m, n = a.shape
    k = m if full_matrices else min(m, n)
    return [ShapedArray((*batch, m, k), a.dtype), ShapedArray((*batch, k, n), a.dtype)]


def _qr_jvp(primals, tangents, *, full_matrices):
    # A = Q R: Q^H dA R^{-1} = Q^H dQ + dR R^{-1}, a skew-Hermitian plus an upper triangular
    # part (Giles 2008, for m >= n with the reduced factors).
    (a,), (da,) = primals, tangents
    q, r = qr_p.bind(a, full_matrices=full_matrices)
    m, n = core.get_aval(a).shape[-2:]
    if m < n or (full_matrices and m > n):
        raise NotImplementedError(
            f"the derivative of qr needs m >= n and reduced factors (full_matrices=False "
            f"unless square), got shape {(m, n)} with full_matrices={full_matrices}")
    da_rinv = triangular_solve(r, ad.instantiate(da), left_side=False, lower=False)
    c = _mm(_H(q), da_rinv)
    low = _tril(c, -1)
    omega = ew.sub(low, _H(low))
    if dtypes.is_complex(_dtype(a)):
        # Q^H dQ has an imaginary diagonal; R's real diagonal convention fixes it as Im(c).
        im_diag = ew.complex(np.zeros((), _real_dtype(_dtype(a))), ew.imag(c))
        omega = ew.add(omega, _masked(im_diag, np.eye(n)))
    dq = ew.add(_mm(q, ew.sub(omega, c)), da_rinv)
    dr = _mm(ew.sub(c, omega), r)
    return [q, r], [dq, dr]


def _qr_cost(avals_in, avals_out, *, full_matrices):
    m, n = avals_in[0].shape[-2:]
    big, k = max(m, n), min(m, n)
    # Householder R (2 M k^2 - 2 k^3 / 3) and forming Q (as much again).
    return _cost(_batch_count(avals_in[0].shape) * (4 * big * k * k - 4 * k**3 / 3),
                 avals_in, avals_out)


qr_p = define_primitive(
    "qr", impl=_qr_impl, abstract_eval=_qr_aval, jvp=_qr_jvp, multiple_results=True,
    allocates=True, cost=_qr_cost,
    lower=lambda ctx, a, *, full_matrices:
        f"xp.linalg.qr({a}, mode={'complete' if full_matrices else 'reduced'!r})",
    batch=per_primitive(_batch_leading),
)


def qr(x: Array, full_matrices: bool = True) -> tuple[Array, Array]:
    """QR decomposition ``x = q @ r``, as `jax.lax.linalg.qr` (`full_matrices` defaults to
    True, as there)."""
    q, r = _bind(qr_p, x, full_matrices=bool(full_matrices))
    return q, r


# ---- eigh -----------------------------------------------------------------------------------


def _eigh_impl(a, *, lower):
    w, v = np.linalg.eigh(np.asarray(a), UPLO="L" if lower else "U")
    return [v, w]


def _eigh_aval(a: ShapedArray, *, lower):
    _square_aval(a, "eigh")
    _inexact_aval(a, "eigh")
    return [ShapedArray(a.shape, a.dtype), ShapedArray(a.shape[:-1], _real_dtype(a.dtype))]


def _gap_inverse(w: Array) -> Array:
    """``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal and 0 on it: infinite (so NaN
    derivatives) where eigenvalues repeat, as JAX."""
    n = core.get_aval(w).shape[-1]
    dt = _dtype(w)
    gaps = ew.add(ew.sub(_row(w), _col(w)), np.eye(n, dtype=dt))  # 1 on the diagonal
    zero = ew.eq(gaps, np.zeros((), dt))
    inverse = ew.div(np.ones((), dt), ew.select(zero, ew.ones_like(gaps), gaps))
    inverse = ew.select(zero, ew.mul(ew.ones_like(gaps), np.asarray(np.inf, dt)), inverse)
    return ew.sub(inverse, np.eye(n, dtype=dt))


def _eigh_jvp(primals, tangents, *, lower):
    # A V = V diag(w): V^H dA V = diag(dw) + diag(w) C - C diag(w) with dV = V C, C
    # skew-Hermitian, so dw = Re diag(V^H dA V) and C = F * (V^H dA V) (Giles 2008).
    (a,), (da,) = primals, tangents
    v, w = eigh_p.bind(a, lower=lower)
    vdav = _mm(_H(v), _mm(ad.instantiate(da), v))
    dw = _diag_part(vdav)
    if dtypes.is_complex(_dtype(dw)):
        dw = ew.real(dw)
    dv = _mm(v, ew.mul(_as(_gap_inverse(w), vdav), vdav))
    return [v, w], [dv, dw]


def _eigh_cost(avals_in, avals_out, **_):
    n = avals_in[0].shape[-1]
    return _cost(_batch_count(avals_in[0].shape) * 9 * n**3, avals_in, avals_out)


eigh_p = define_primitive(
    "eigh", impl=_eigh_impl, abstract_eval=_eigh_aval, jvp=_eigh_jvp, multiple_results=True,
    allocates=True, cost=_eigh_cost,
    lower=lambda ctx, a, *, lower:
        f"xp.linalg.eigh({a}, UPLO={'L' if lower else 'U'!r})[::-1]",
    batch=per_primitive(_batch_leading),
)


def eigh(x: Array, lower: bool = True, symmetrize_input: bool = True) -> tuple[Array, Array]:
    """Eigenvectors and eigenvalues ``(v, w)`` of Hermitian matrices, as
    `jax.lax.linalg.eigh`: ``x @ v = v * w``, eigenvalues in ascending order. With
    `symmetrize_input` (the default, as JAX) ``(x + x^H) / 2`` is decomposed, so derivatives
    are symmetric; otherwise only the `lower` (or upper) triangle is read."""
    if symmetrize_input:
        x = ew.mul(ew.add(x, _H(x)), np.asarray(0.5, _real_dtype(_dtype(x))))
    v, w = _bind(eigh_p, x, lower=bool(lower))
    return v, w


# ---- svd ------------------------------------------------------------------------------------


def _svd_impl(a, *, full_matrices, compute_uv):
    a = np.asarray(a)
    if not compute_uv:
        return [np.linalg.svd(a, compute_uv=False)]
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    return [s, u, vh]


def _svd_aval(a: ShapedArray, *, full_matrices, compute_uv):
    _matrix_aval(a, "svd")
    *batch, m, n = a.shape
    k = min(m, n)
    s = ShapedArray((*batch, k), _real_dtype(a.dtype))
    if not compute_uv:
        return [s]
    mu, nv = (m, n) if full_matrices else (k, k)
    return [s, ShapedArray((*batch, m, mu), a.dtype), ShapedArray((*batch, nv, n), a.dtype)]


def _safe_reciprocal(x: Array) -> Array:
    """1/x where x != 0, else 0."""
    zero = ew.eq(x, np.zeros((), _dtype(x)))
    one = np.ones((), _dtype(x))
    return ew.select(zero, ew.zeros_like(x), ew.div(one, ew.select(zero, ew.ones_like(x), x)))


def _svd_jvp(primals, tangents, *, full_matrices, compute_uv):
    # Townsend (2016). With A = U S V^H and dP = U^H dA V: ds = Re diag(dP); the rotations of
    # U and V solve s_j^2 - s_i^2 divided systems; for m > n (n > m) the part of dA outside
    # U's (V's) span adds (I - U U^H) dA V S^{-1}.
    (a,), (da,) = primals, tangents
    m, n = core.get_aval(a).shape[-2:]
    if compute_uv and full_matrices and m != n:
        raise NotImplementedError(
            "the derivative of svd with full_matrices=True is not defined for non-square "
            f"matrices (shape {(m, n)}), as in JAX: use full_matrices=False")
    s, u, vh = svd_p.bind(a, full_matrices=False, compute_uv=True)
    da = ad.instantiate(da)
    v = _H(vh)
    dp = _mm(_H(u), _mm(da, v))
    ds = _diag_part(dp)
    if dtypes.is_complex(_dtype(ds)):
        ds = ew.real(ds)
    if not compute_uv:
        return [s], [ds]
    s_row, s_col = _row(s), _col(s)
    k = min(m, n)
    eye = np.eye(k, dtype=_dtype(s))
    diffs = ew.mul(ew.add(s_row, s_col), ew.sub(s_row, s_col))  # s_j^2 - s_i^2
    f = _as(_safe_reciprocal(diffs), dp)  # 0 on the diagonal and at repeated values, as JAX
    dps = ew.mul(dp, _as(s_row, dp))   # dP S
    sdp = ew.mul(_as(s_col, dp), dp)   # S dP
    s_inv = _safe_reciprocal(s)
    du_inner = ew.mul(f, ew.add(dps, _H(dps)))
    if dtypes.is_complex(_dtype(dp)):
        # The phase freedom of each singular pair: put Im diag(dP) / s into U.
        half = ew.mul(ew.sub(dp, _H(dp)), np.asarray(0.5, _real_dtype(_dtype(dp))))
        du_inner = ew.add(du_inner, ew.mul(half, _as(ew.mul(_row(s_inv), eye), dp)))
    du = _mm(u, du_inner)
    dv = _mm(v, ew.mul(f, ew.add(sdp, _H(sdp))))
    if m > n:
        dav = _mm(da, v)
        du = ew.add(du, ew.mul(ew.sub(dav, _mm(u, _mm(_H(u), dav))), _as(_row(s_inv), dav)))
    if n > m:
        dahu = _mm(_H(da), u)
        dv = ew.add(dv, ew.mul(ew.sub(dahu, _mm(v, _mm(vh, dahu))), _as(_row(s_inv), dahu)))
    outs = svd_p.bind(a, full_matrices=full_matrices, compute_uv=True)
    return outs, [ds, du, _H(dv)]


def _svd_cost(avals_in, avals_out, *, full_matrices, compute_uv):
    m, n = avals_in[0].shape[-2:]
    big, k = max(m, n), min(m, n)
    # Golub-Reinsch (Golub and Van Loan, table 8.6.1): 4 M k^2 - 4 k^3 / 3 for the values,
    # 14 M k^2 + 8 k^3 with thin singular vectors.
    flops = 14 * big * k * k + 8 * k**3 if compute_uv else 4 * big * k * k - 4 * k**3 / 3
    return _cost(_batch_count(avals_in[0].shape) * flops, avals_in, avals_out)


def _svd_lower(ctx, a, *, full_matrices, compute_uv):
    if not compute_uv:
        return f"[xp.linalg.svd({a}, compute_uv=False)]"
    # NumPy returns (u, s, vh); the primitive's order is (s, u, vh).
    return f"(lambda r: (r[1], r[0], r[2]))(xp.linalg.svd({a}, full_matrices={full_matrices}))"


svd_p = define_primitive(
    "svd", impl=_svd_impl, abstract_eval=_svd_aval, jvp=_svd_jvp, multiple_results=True,
    allocates=True, cost=_svd_cost, lower=_svd_lower,
    batch=per_primitive(_batch_leading),
)


def svd(x: Array, full_matrices: bool = True, compute_uv: bool = True
        ) -> Array | tuple[Array, Array, Array]:
    """Singular value decomposition, as `jax.lax.linalg.svd`: ``(u, s, vh)`` with
    ``x = u @ diag(s) @ vh`` and `s` descending, or `s` alone without `compute_uv`.
    Reverse mode through `u`/`vh` needs ``full_matrices=False`` (or square matrices)."""
    out = _bind(svd_p, x, full_matrices=bool(full_matrices), compute_uv=bool(compute_uv))
    if not compute_uv:
        return out[0]
    s, u, vh = out
    return u, s, vh


# ---- eig ------------------------------------------------------------------------------------


def _eig_impl(a, *, compute_right_eigenvectors):
    a = np.asarray(a)
    ct = _complex_dtype(a.dtype)
    if not compute_right_eigenvectors:
        return [np.linalg.eigvals(a).astype(ct)]
    w, v = np.linalg.eig(a)
    return [w.astype(ct), v.astype(ct)]


def _eig_aval(a: ShapedArray, *, compute_right_eigenvectors):
    _square_aval(a, "eig")
    _inexact_aval(a, "eig")
    ct = _complex_dtype(a.dtype)
    w = ShapedArray(a.shape[:-1], ct)
    return [w, ShapedArray(a.shape, ct)] if compute_right_eigenvectors else [w]


def _eig_jvp(primals, tangents, *, compute_right_eigenvectors):
    # Eigenvalues only (as JAX): A V = V diag(w) gives dw = diag(V^{-1} dA V).
    if compute_right_eigenvectors:
        raise NotImplementedError(
            "the derivatives of eig's eigenvectors are not implemented (as in JAX): "
            "differentiate eigvals, or use eigh for Hermitian matrices")
    (a,), (da,) = primals, tangents
    w, v = eig_p.bind(a, compute_right_eigenvectors=True)
    dav = _mm(_as(ad.instantiate(da), v), v)
    lu_, _, perm = lu(v)
    x = _mm(permutation_matrix(perm, _dtype(v)), dav)
    x = triangular_solve(lu_, x, left_side=True, lower=True, unit_diagonal=True)
    x = triangular_solve(lu_, x, left_side=True, lower=False)
    return [w], [_diag_part(x)]


def _eig_cost(avals_in, avals_out, *, compute_right_eigenvectors):
    n = avals_in[0].shape[-1]
    flops = (25 if compute_right_eigenvectors else 10) * n**3  # Golub and Van Loan, 7.5.6
    return _cost(_batch_count(avals_in[0].shape) * flops, avals_in, avals_out)


eig_p = define_primitive(
    "eig", impl=_eig_impl, abstract_eval=_eig_aval, jvp=_eig_jvp, multiple_results=True,
    allocates=True, cost=_eig_cost,
    batch=per_primitive(_batch_leading),
    lacks={"array_api": "the linalg extension has no non-symmetric eigendecomposition"},
)


def eig(x: Array, compute_right_eigenvectors: bool = True) -> Any:
    """Eigenvalues (and right eigenvectors) of general square matrices, always complex, as
    `jax.lax.linalg.eig` without left eigenvectors: ``[w, v]`` or ``[w]``. Only the
    eigenvalues are differentiable."""
    return _bind(eig_p, x, compute_right_eigenvectors=bool(compute_right_eigenvectors))
