"""Matrix factorisations and triangular solves: `cholesky`, `triangular_solve` and `lu`, the
primitives behind the solves of `funcdiff.numpy.linalg` and `funcdiff.scipy.linalg` (`qr`,
`eigh`, `svd` and `eig` are in `spectral.py`), with the helpers both modules' rules share.

Every primitive works on stacks of matrices (the last two axes; leading axes are batch axes)
and its derivative rules are written with funcdiff operations, so that they differentiate
again. The rules follow the matrix-calculus literature: Giles, "An extended collection of
matrix derivative results" (2008) for `lu`, `qr`, `eigh` and solves; Murray, "Differentiation
of the Cholesky decomposition" (2016) for `cholesky`; Townsend, "Differentiating the singular
value decomposition" (2016) for `svd`. Solves never form an inverse: a derivative needing
``A^{-1} B`` calls `triangular_solve` on the factors.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes
from funcdiff._src.core import ShapedArray
from funcdiff._src.errors import PrimitiveError
from funcdiff._src.interpreters import ad
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import reductions as red
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax._define import define_primitive, per_primitive
from funcdiff._src.lax.linalg import dot_general
from funcdiff._src.lax.structural import move_to_front

Array = Any


# ---- helpers for the rules (funcdiff operations on stacks of matrices) ----------------------


def _ndim(x: Array) -> int:
    return core.get_aval(x).ndim


def _dtype(x: Array) -> np.dtype:
    return core.get_aval(x).dtype


def _T(x: Array) -> Array:
    """Swap the last two axes."""
    nd = _ndim(x)
    return sh.transpose(x, (*range(nd - 2), nd - 1, nd - 2))


def _H(x: Array) -> Array:
    """Conjugate transpose of the last two axes."""
    x = _T(x)
    return ew.conj(x) if dtypes.is_complex(_dtype(x)) else x


def _mm(a: Array, b: Array) -> Array:
    """Matrix product of two stacks with the same batch shape."""
    nd = _ndim(a)
    batch = tuple(range(nd - 2))
    return dot_general(a, b, (((nd - 1,), (nd - 2,)), (batch, batch)))


def _masked(x: Array, mask: np.ndarray) -> Array:
    """`x` times a constant 0/1 mask over its last two axes (a triangle, the diagonal)."""
    return ew.mul(x, np.asarray(mask, _dtype(x)))


def _tril(x: Array, k: int = 0) -> Array:
    m, n = core.get_aval(x).shape[-2:]
    return _masked(x, np.tri(m, n, k, dtype=bool))


def _triu(x: Array, k: int = 0) -> Array:
    m, n = core.get_aval(x).shape[-2:]
    return _masked(x, ~np.tri(m, n, k - 1, dtype=bool))


def _diag_part(x: Array) -> Array:
    """The diagonal of each matrix of a stack of square matrices, as a stack of vectors."""
    return red.reduce_sum(_masked(x, np.eye(core.get_aval(x).shape[-1])), (_ndim(x) - 1,))


def _as(x: Array, like: Array) -> Array:
    """`x` converted to the dtype of `like` (real factors joining complex matrices)."""
    dt = _dtype(like)
    return x if _dtype(x) == dt else ew.convert_element_type(x, dt)


def _row(v: Array) -> Array:
    """A stack of vectors as a stack of 1-row matrices (to scale columns)."""
    return sh.expand_dims(v, (_ndim(v) - 1,))


def _col(v: Array) -> Array:
    """A stack of vectors as a stack of 1-column matrices (to scale rows)."""
    return sh.expand_dims(v, (_ndim(v),))


def _square_aval(a: ShapedArray, what: str) -> None:
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise PrimitiveError(
            f"{what} needs square matrices in the last two axes, got shape {a.shape}"
        )


def _inexact_aval(a: ShapedArray, what: str) -> None:
    if not dtypes.is_inexact(a.dtype):
        raise PrimitiveError(
            f"{what} needs a floating-point or complex operand, got {a.dtype}; "
            "convert it with .astype(float) first"
        )


def _matrix_aval(a: ShapedArray, what: str) -> None:
    if a.ndim < 2:
        raise PrimitiveError(f"{what} needs matrices (at least 2 dimensions), got shape {a.shape}")
    _inexact_aval(a, what)


def _real_dtype(dtype: np.dtype) -> np.dtype:
    return np.dtype(np.float32) if dtype in (np.complex64, np.float32) else np.dtype(np.float64)


def _complex_dtype(dtype: np.dtype) -> np.dtype:
    return (
        np.dtype(np.complex64) if dtype in (np.complex64, np.float32) else np.dtype(np.complex128)
    )


def _batch_count(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape[:-2], dtype=np.int64))


def _cost(flops: float, avals_in, avals_out) -> cost_mod.Cost:
    moved = cost_mod.io_bytes(avals_in, avals_out)
    return cost_mod.Cost(int(round(flops)), 0, moved.bytes_read, moved.bytes_written)


def _batch_leading(p: core.Primitive):
    """The vmap rule of a primitive acting on the last two axes of every operand: batch axes
    first (unbatched operands broadcast), then one call."""

    def rule(axis_size, vals, dims, **params):
        out = p.bind(*[move_to_front(v, d, axis_size) for v, d in zip(vals, dims)], **params)
        return out, [0] * len(out) if p.multiple_results else 0

    rule.__name__ = f"_{p.name}_batch"
    return rule


def _bind(p: core.Primitive, *args: Array, **params: Any) -> Any:
    """`p.bind`, checking the operands with the shape rule first: eager evaluation calls the
    NumPy implementation directly, which would accept (and convert) integers or mixed
    dtypes."""
    p.abstract([core.get_aval(x) for x in args], params)
    return p.bind(*args, **params)


def _per_matrix(f, a: np.ndarray, n_out: int, fill) -> list[np.ndarray]:
    """Apply `f` to each matrix of a stack, giving NaN results (`fill`) where it fails."""
    batch = a.shape[:-2]
    flat = a.reshape((-1, *a.shape[-2:]))
    results = []
    for m in flat:
        try:
            results.append(f(m))
        except np.linalg.LinAlgError:
            results.append(fill(m))
    return [
        np.stack([r[i] for r in results]).reshape(batch + results[0][i].shape)
        if results
        else np.empty(batch + (0,))
        for i in range(n_out)
    ]


# ---- cholesky -------------------------------------------------------------------------------


def _cholesky_impl(a):
    a = np.asarray(a)
    try:
        return np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        # As JAX: a matrix that is not positive definite gives NaNs, not an exception.
        (out,) = _per_matrix(
            lambda m: (np.linalg.cholesky(m),), a, 1, lambda m: (np.full(m.shape, np.nan, m.dtype),)
        )
        return out


def _cholesky_aval(a: ShapedArray) -> ShapedArray:
    _square_aval(a, "cholesky")
    _inexact_aval(a, "cholesky")
    return ShapedArray(a.shape, a.dtype, a.weak_type)


def _phi(x: Array) -> Array:
    """The lower triangle with half the diagonal."""
    n = core.get_aval(x).shape[-1]
    return _masked(x, np.tri(n) - 0.5 * np.eye(n))


def _cholesky_jvp(primals, tangents):
    # A = L L^H, dA = dL L^H + L dL^H, so L^{-1} dA L^{-H} = L^{-1} dL + (L^{-1} dL)^H where
    # L^{-1} dL is lower triangular: dL = L phi(L^{-1} dA L^{-H}).
    (a,), (da,) = primals, tangents
    chol = cholesky(a)
    left = triangular_solve(chol, ad.instantiate(da), left_side=True, lower=True)
    middle = _H(triangular_solve(chol, _H(left), left_side=True, lower=True))
    return chol, _mm(chol, _phi(middle))


def _cholesky_cost(avals_in, avals_out):
    n = avals_in[0].shape[-1]
    return _cost(_batch_count(avals_in[0].shape) * n**3 / 3, avals_in, avals_out)


cholesky_p = define_primitive(
    "cholesky",
    impl=_cholesky_impl,
    abstract_eval=_cholesky_aval,
    jvp=_cholesky_jvp,
    allocates=True,
    cost=_cholesky_cost,
    batch=per_primitive(_batch_leading),
)


def cholesky(x: Array, *, symmetrize_input: bool = False) -> Array:
    """The lower Cholesky factor ``L`` of Hermitian positive-definite matrices, ``x = L L^H``
    (the lower triangle of `x` is read). A matrix that is not positive definite gives NaNs,
    as in JAX. With `symmetrize_input`, ``(x + x^H) / 2`` is factorised instead."""
    if symmetrize_input:
        x = ew.mul(ew.add(x, _H(x)), np.asarray(0.5, _real_dtype(_dtype(x))))
    return _bind(cholesky_p, x)


# ---- triangular_solve -----------------------------------------------------------------------


def _substitute(a: np.ndarray, b: np.ndarray, lower: bool) -> np.ndarray:
    """Forward (or back) substitution, for singular triangles: IEEE infinities and NaNs
    instead of an exception, as LAPACK's trsm gives."""
    n = a.shape[-1]
    x = np.zeros(
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:], np.result_type(a, b)
    )
    order = range(n) if lower else range(n - 1, -1, -1)
    with np.errstate(all="ignore"):
        for i in order:
            known = np.einsum("...k,...kj->...j", a[..., i, :], x)
            x[..., i, :] = (b[..., i, :] - known) / a[..., i, i, None]
    return x


def _triangular_solve_impl(a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    a, b = np.asarray(a), np.asarray(b)
    n = a.shape[-1]
    a = np.tril(a) if lower else np.triu(a)
    if unit_diagonal:
        a = np.where(np.eye(n, dtype=bool), np.ones((), a.dtype), a)
    if conjugate_a:
        a = a.conj()
    is_lower = lower
    if transpose_a:
        a = np.swapaxes(a, -1, -2)
        is_lower = not lower
    if not left_side:
        # x op(a) = b  <=>  op(a)^T x^T = b^T
        a, b = np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2)
        is_lower = not is_lower
    if n == 0 or b.shape[-1] == 0:
        x = np.zeros(
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:], np.result_type(a, b)
        )
    else:
        try:
            x = np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            x = _substitute(a, b, is_lower)
    return x if left_side else np.swapaxes(x, -1, -2)


def _triangular_solve_aval(a: ShapedArray, b: ShapedArray, *, left_side, **_) -> ShapedArray:
    _square_aval(a, "triangular_solve (operand a)")
    _matrix_aval(b, "triangular_solve (operand b)")
    if a.dtype != b.dtype:
        raise PrimitiveError(
            f"triangular_solve needs a and b of one dtype, got {a.dtype} and "
            f"{b.dtype}; convert one of them"
        )
    k = b.shape[-2] if left_side else b.shape[-1]
    if a.shape[:-2] != b.shape[:-2] or k != a.shape[-1]:
        side = "rows" if left_side else "columns"
        raise PrimitiveError(
            f"triangular_solve with left_side={left_side} needs b with {a.shape[-1]} {side} and "
            f"the batch shape of a {a.shape[:-2]}, got a {a.shape} and b {b.shape}"
        )
    return ShapedArray(b.shape, b.dtype, a.weak_type and b.weak_type)


def _op_tangent(
    da: Array, lower: bool, transpose_a: bool, conjugate_a: bool, unit_diagonal: bool
) -> Array:
    """op(da) for the triangle of `da` the primitive reads."""
    da = _tril(da, -1 if unit_diagonal else 0) if lower else _triu(da, 1 if unit_diagonal else 0)
    if conjugate_a and dtypes.is_complex(_dtype(da)):
        da = ew.conj(da)
    return _T(da) if transpose_a else da


def _triangular_solve_jvp(primals, tangents, **params):
    # op(a) x = b: d x = op(a)^{-1} (db - op(da) x); and x op(a) = b: dx = (db - x op(da))
    # op(a)^{-1}.
    (a, b), (da, db) = primals, tangents
    x = triangular_solve_p.bind(a, b, **params)
    rhs = ad.instantiate(db) if type(db) is not ad.Zero else None
    if type(da) is not ad.Zero:
        opda = _op_tangent(
            da,
            params["lower"],
            params["transpose_a"],
            params["conjugate_a"],
            params["unit_diagonal"],
        )
        term = _mm(opda, x) if params["left_side"] else _mm(x, opda)
        rhs = ew.neg(term) if rhs is None else ew.sub(rhs, term)
    return x, triangular_solve_p.bind(a, rhs, **params)


def _triangular_solve_transpose(ct, a, b, **params):
    # b -> op(a)^{-1} b is linear with transpose ct -> op(a)^{-T} ct (no conjugation: the
    # linear transpose, as JAX).
    if ad.is_undefined_primal(a):
        raise NotImplementedError("triangular_solve is not linear in its matrix operand a")
    if type(ct) is ad.Zero:
        return [None, ad.Zero(b.aval)]
    flipped = dict(params, transpose_a=not params["transpose_a"])
    return [None, triangular_solve_p.bind(a, ct, **flipped)]


def _triangular_solve_cost(avals_in, avals_out, **params):
    a, b = avals_in
    n = a.shape[-1]
    rhs = b.shape[-1] if params["left_side"] else b.shape[-2]
    return _cost(_batch_count(b.shape) * n * n * rhs, avals_in, avals_out)


triangular_solve_p = define_primitive(
    "triangular_solve",
    impl=_triangular_solve_impl,
    abstract_eval=_triangular_solve_aval,
    jvp=_triangular_solve_jvp,
    transpose=_triangular_solve_transpose,
    allocates=True,
    cost=_triangular_solve_cost,
    batch=per_primitive(_batch_leading),
)


def triangular_solve(
    a: Array,
    b: Array,
    left_side: bool = False,
    lower: bool = False,
    transpose_a: bool = False,
    conjugate_a: bool = False,
    unit_diagonal: bool = False,
) -> Array:
    """Solve ``op(a) @ x = b`` (`left_side`) or ``x @ op(a) = b`` for `x`, where `a` is
    triangular (only its `lower` or upper triangle is read; with `unit_diagonal` its diagonal
    is taken as ones) and ``op`` transposes and/or conjugates it. As `jax.lax.linalg`."""
    return _bind(
        triangular_solve_p,
        a,
        b,
        left_side=bool(left_side),
        lower=bool(lower),
        transpose_a=bool(transpose_a),
        conjugate_a=bool(conjugate_a),
        unit_diagonal=bool(unit_diagonal),
    )


# ---- lu -------------------------------------------------------------------------------------


def _lu_impl(a):
    """LU with partial pivoting, ``a[perm] = L U``, vectorised over the batch."""
    a = np.asarray(a)
    *batch, m, n = a.shape
    k = min(m, n)
    lu = np.array(a.reshape((math.prod(batch), m, n)), copy=True)  # (-1 fails when m n = 0)
    count = lu.shape[0]
    perm = np.tile(np.arange(m, dtype=np.int32), (count, 1))
    pivots = np.zeros((count, k), np.int32)
    rows = np.arange(count)
    for j in range(k):
        p = j + np.argmax(np.abs(lu[:, j:, j]), axis=1)
        pivots[:, j] = p
        lu[rows, j], lu[rows, p] = lu[rows, p].copy(), lu[rows, j].copy()
        perm[rows, j], perm[rows, p] = perm[rows, p], perm[rows, j].copy()
        pivot = lu[:, j, j]
        # A zero pivot leaves a zero column below it (LAPACK skips the scaling).
        safe = np.where(pivot == 0, np.ones((), lu.dtype), pivot)
        lu[:, j + 1 :, j] /= safe[:, None]
        lu[:, j + 1 :, j + 1 :] -= lu[:, j + 1 :, j, None] * lu[:, j, None, j + 1 :]
    return [lu.reshape(a.shape), pivots.reshape((*batch, k)), perm.reshape((*batch, m))]


def _lu_aval(a: ShapedArray):
    _matrix_aval(a, "lu")
    *batch, m, n = a.shape
    return [
        ShapedArray(a.shape, a.dtype),
        ShapedArray((*batch, min(m, n)), np.int32),
        ShapedArray((*batch, m), np.int32),
    ]


def permutation_matrix(perm: Array, dtype: Any) -> Array:
    """The one-hot matrices ``P`` of a stack of permutations, ``(P @ a) = a[perm]``."""
    m = core.get_aval(perm).shape[-1]
    hits = ew.eq(_col(perm), np.arange(m, dtype=np.int32))
    return ew.convert_element_type(hits, dtype)


def _block(x: Array, rows: tuple[int, int], cols: tuple[int, int]) -> Array:
    """``x[..., rows[0]:rows[1], cols[0]:cols[1]]``."""
    shape = core.get_aval(x).shape
    lead = len(shape) - 2
    return sh.slice(x, (0,) * lead + (rows[0], cols[0]), shape[:lead] + (rows[1], cols[1]))


def _lu_jvp(primals, tangents):
    # P A = L U with L m x k unit lower trapezoidal and U k x n upper trapezoidal. On the
    # leading k x k blocks, L1^{-1} (P dA)_11 U1^{-1} = L1^{-1} dL1 + dU1 U1^{-1}: a strictly
    # lower plus an upper triangular part, giving dL1 and dU1. The rows below (m > n) and the
    # columns to the right (n > m) then follow from (P dA)_21 = dL2 U1 + L2 dU1 and
    # (P dA)_12 = dL1 U2 + L1 dU2.
    (a,), (da,) = primals, tangents
    lu, pivots, perm = lu_p.bind(a)
    m, n = core.get_aval(a).shape[-2:]
    k = min(m, n)
    dt = _dtype(a)
    pda = _mm(permutation_matrix(perm, dt), ad.instantiate(da))
    lu11 = _block(lu, (0, k), (0, k))
    x = triangular_solve(
        lu11, _block(pda, (0, k), (0, k)), left_side=True, lower=True, unit_diagonal=True
    )
    x = triangular_solve(lu11, x, left_side=False, lower=False)
    l11 = ew.add(_tril(lu11, -1), np.eye(k, dtype=dt))
    dl11 = _mm(l11, _tril(x, -1))
    du11 = _mm(_triu(x), _triu(lu11))
    d_lu = ew.add(dl11, du11)  # strictly lower + upper
    if m > n:
        l21 = _block(lu, (k, m), (0, k))
        rhs = ew.sub(_block(pda, (k, m), (0, k)), _mm(l21, du11))
        dl21 = triangular_solve(lu11, rhs, left_side=False, lower=False)
        d_lu = sh.concatenate([d_lu, dl21], _ndim(a) - 2)
    elif n > m:
        u12 = _block(lu, (0, k), (k, n))
        rhs = ew.sub(_block(pda, (0, k), (k, n)), _mm(dl11, u12))
        du12 = triangular_solve(lu11, rhs, left_side=True, lower=True, unit_diagonal=True)
        d_lu = sh.concatenate([d_lu, du12], _ndim(a) - 1)
    int_zero = [ad.Zero(ad.tangent_aval(core.get_aval(v))) for v in (pivots, perm)]
    return [lu, pivots, perm], [d_lu, *int_zero]


def _lu_cost(avals_in, avals_out):
    m, n = avals_in[0].shape[-2:]
    k = min(m, n)
    flops = 2 * m * n * k - (m + n) * k * k + 2 * k**3 / 3
    return _cost(_batch_count(avals_in[0].shape) * flops, avals_in, avals_out)


lu_p = define_primitive(
    "lu",
    impl=_lu_impl,
    abstract_eval=_lu_aval,
    jvp=_lu_jvp,
    multiple_results=True,
    allocates=True,
    cost=_lu_cost,
    batch=per_primitive(_batch_leading),
    lacks={"array_api": "the linalg extension has no LU decomposition"},
)


def lu(x: Array) -> tuple[Array, Array, Array]:
    """LU decomposition with partial pivoting, as `jax.lax.linalg.lu`: ``(lu, pivots,
    permutation)`` with ``x[..., permutation, :] = L @ U``, `L` unit lower triangular (below
    the diagonal of `lu`) and `U` upper triangular (the rest); `pivots` are LAPACK's row
    swaps (int32)."""
    out = _bind(lu_p, x)
    return out[0], out[1], out[2]
