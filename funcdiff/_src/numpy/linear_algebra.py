# Over 600 lines: all of funcdiff.numpy.linalg, one block per function.
"""`funcdiff.numpy.linalg`: solves, determinants, decompositions, inverses and norms.

Everything here is composed from the factorisation primitives of
`funcdiff._src.lax.decompositions` and ordinary operations, so that every transformation works
on it: `solve` is an LU factorisation and two triangular solves (never an inverse), `inv` is
`solve` against the identity, `det` and `slogdet` read the diagonal of the LU factor, `pinv`,
`lstsq`, `matrix_rank`, `cond` and the spectral norms use the SVD.

One module, just over 600 lines: the composed part of one namespace (38 public functions).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from funcdiff._src import core, dtypes
from funcdiff._src.lax import decompositions as dec
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import spectral as spec
from funcdiff._src.numpy import creation as np_creation
from funcdiff._src.numpy import linalg as products
from funcdiff._src.numpy import reductions, sorting, ufuncs
from funcdiff._src.numpy import shape as shp
from funcdiff._src.numpy._util import Array, ArrayLike, asarray, aval
from funcdiff._src.numpy.ufuncs import promote_inexact


class EighResult(NamedTuple):
    eigenvalues: Array
    eigenvectors: Array


class SlogdetResult(NamedTuple):
    sign: Array
    logabsdet: Array


class SVDResult(NamedTuple):
    U: Array
    S: Array
    Vh: Array


class QRResult(NamedTuple):
    Q: Array
    R: Array


class EigResult(NamedTuple):
    eigenvalues: Array
    eigenvectors: Array


class LstsqResult(NamedTuple):
    x: Array
    residuals: Array
    rank: Array
    s: Array


def _inexact(*xs: ArrayLike) -> list[Array]:
    return promote_inexact(*[asarray(x) for x in xs])


def _square(a: Array, name: str) -> None:
    shape = aval(a).shape
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(f"{name}: expected square matrices in the last two axes (..., n, n), "
                         f"got an array of shape {shape}")


def _mT(x: Array) -> Array:
    return shp.swapaxes(x, -1, -2)


def _mH(x: Array) -> Array:
    return ufuncs.conjugate(_mT(x)) if dtypes.is_complex(aval(x).dtype) else _mT(x)


def _batch_broadcast(a: Array, b: Array) -> tuple[Array, Array]:
    """`a` and `b` with the same leading (batch) shape, by NumPy broadcasting."""
    sa, sb = aval(a).shape, aval(b).shape
    batch = np.broadcast_shapes(sa[:-2], sb[:-2])
    if sa[:-2] != batch:
        a = shp.broadcast_to(a, batch + sa[-2:])
    if sb[:-2] != batch:
        b = shp.broadcast_to(b, batch + sb[-2:])
    return a, b


def _strong_cast(x: Array, like: Array) -> Array:
    dt = aval(like).dtype
    return x if aval(x).dtype == dt and not aval(x).weak_type else ew.convert_element_type(x, dt)


# ---- LU-based: solve, inv, det, slogdet -----------------------------------------------------


def lu_solve_factored(lu: Array, perm: Array, b: Array, trans: int = 0) -> Array:
    """Solve ``a x = b`` (``trans`` 0), ``a^T x = b`` (1) or ``a^H x = b`` (2) for stacks of
    right-hand-side matrices `b`, given ``a[perm] = L U`` packed in `lu`."""
    b = _strong_cast(b, lu)
    lu, b = _batch_broadcast(lu, b)
    if trans == 0:
        x = products.matmul(dec.permutation_matrix(perm, aval(lu).dtype), b)
        x = dec.triangular_solve(lu, x, left_side=True, lower=True, unit_diagonal=True)
        return dec.triangular_solve(lu, x, left_side=True, lower=False)
    conj = trans == 2
    # a^T = U^T L^T P: solve U^T y = b, then L^T z = y, then x = P^T z.
    y = dec.triangular_solve(lu, b, left_side=True, lower=False, transpose_a=True,
                             conjugate_a=conj)
    z = dec.triangular_solve(lu, y, left_side=True, lower=True, transpose_a=True,
                             conjugate_a=conj, unit_diagonal=True)
    return products.matmul(_mT(dec.permutation_matrix(perm, aval(lu).dtype)), z)


def solve(a: ArrayLike, b: ArrayLike) -> Array:
    """Solve ``a @ x = b``, as `numpy.linalg.solve`: `b` is a vector when it is 1-D, else a
    stack of matrices; batch axes broadcast. Computed by an LU factorisation with partial
    pivoting and two triangular solves; a singular `a` gives infinities or NaNs.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        a = np.array([[3.0, 1.0], [1.0, 2.0]])
        b = np.array([9.0, 8.0])
        print(jnp.linalg.solve(a, b))
        print(funcdiff.grad(lambda a: jnp.sum(jnp.linalg.solve(a, b)))(a).round(4))
        ```
        ```text
        [2. 3.]
        [[-0.4 -0.6]
         [-0.8 -1.2]]
        ```
    """
    a, b = _inexact(a, b)
    _square(a, "solve")
    vector = aval(b).ndim == 1
    if vector:
        b = shp.expand_dims(b, -1)
    if aval(b).shape[-2] != aval(a).shape[-1]:
        raise ValueError(f"solve: b has {aval(b).shape[-2]} rows but a is "
                         f"{aval(a).shape[-1]} x {aval(a).shape[-1]} (a {aval(a).shape}, "
                         f"b {aval(b).shape})")
    lu, _, perm = dec.lu(a)
    x = lu_solve_factored(lu, perm, b)
    return shp.squeeze(x, -1) if vector else x


def inv(a: ArrayLike) -> Array:
    """The inverse of square matrices, as `numpy.linalg.inv` (computed as ``solve(a, I)``)."""
    (a,) = _inexact(a)
    _square(a, "inv")
    n = aval(a).shape[-1]
    eye = shp.broadcast_to(np.eye(n, dtype=aval(a).dtype), aval(a).shape)
    return solve(a, eye)


def _lu_parity_and_diag(a: Array) -> tuple[Array, Array]:
    lu, pivots, _ = dec.lu(a)
    n = aval(a).shape[-1]
    swaps = reductions.sum(ufuncs.not_equal(pivots, np.arange(n, dtype=np.int32)), axis=-1)
    parity = ufuncs.subtract(1, ufuncs.multiply(2, ufuncs.remainder(swaps, 2)))  # (-1)**swaps
    return parity, shp.diagonal(lu, axis1=-2, axis2=-1)


def det(a: ArrayLike) -> Array:
    """The determinant, as `numpy.linalg.det`: the product of the LU pivots."""
    (a,) = _inexact(a)
    _square(a, "det")
    parity, diag = _lu_parity_and_diag(a)
    return ufuncs.multiply(reductions.prod(diag, axis=-1), _as_dtype(parity, a))


def slogdet(a: ArrayLike) -> SlogdetResult:
    """Sign (a unit complex number for complex input) and natural log of the absolute value
    of the determinant, as `numpy.linalg.slogdet`: the stable route to log-determinants."""
    (a,) = _inexact(a)
    _square(a, "slogdet")
    parity, diag = _lu_parity_and_diag(a)
    absdiag = ufuncs.absolute(diag)
    logabsdet = reductions.sum(ufuncs.log(absdiag), axis=-1)
    dt = aval(a).dtype
    parity = _as_dtype(parity, a)
    if dtypes.is_complex(dt):
        phases = ufuncs.divide(diag, ew.convert_element_type(absdiag, dt))
        sign = ufuncs.multiply(reductions.prod(phases, axis=-1), parity)
    else:
        sign = ufuncs.multiply(reductions.prod(ufuncs.sign(diag), axis=-1), parity)
    zero = ufuncs.equal(reductions.min(absdiag, axis=-1) if aval(a).shape[-1] else
                        np.ones(aval(a).shape[:-2]), 0)
    sign = ufuncs.where(zero, np.zeros((), dt), sign)
    return SlogdetResult(sign, logabsdet)


def cholesky(a: ArrayLike, *, upper: bool = False, symmetrize_input: bool = True) -> Array:
    """The Cholesky factor of Hermitian positive-definite matrices, as
    `numpy.linalg.cholesky`: lower ``L`` with ``a = L L^H``, or upper ``U = L^H``. As JAX,
    ``(a + a^H) / 2`` is factorised (`symmetrize_input`) and a matrix that is not positive
    definite gives NaNs instead of an error.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        print(jnp.linalg.cholesky(np.array([[4.0, 2.0], [2.0, 5.0]])))
        ```
        ```text
        [[2. 0.]
         [1. 2.]]
        ```
    """
    (a,) = _inexact(a)
    _square(a, "cholesky")
    chol = dec.cholesky(a, symmetrize_input=symmetrize_input)
    return _mH(chol) if upper else chol


# ---- eigen- and singular-value decompositions -----------------------------------------------


def eigh(a: ArrayLike, UPLO: str | None = None, symmetrize_input: bool = True  # noqa: N803
         ) -> EighResult:
    """Eigenvalues (ascending) and eigenvectors of Hermitian matrices, as
    `numpy.linalg.eigh`. As JAX, ``(a + a^H) / 2`` is decomposed by default. The derivative
    divides by eigenvalue gaps: at repeated eigenvalues the eigenvector derivatives are
    infinite or NaN (the eigenvalues' own derivatives stay finite).

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        a = np.array([[2.0, 1.0], [1.0, 2.0]])
        print(jnp.linalg.eigh(a).eigenvalues)
        print(funcdiff.grad(lambda a: jnp.linalg.eigvalsh(a)[-1])(a))
        ```
        ```text
        [1. 3.]
        [[0.5 0.5]
         [0.5 0.5]]
        ```
    """
    (a,) = _inexact(a)
    _square(a, "eigh")
    lower = UPLO is None or UPLO == "L"
    if UPLO not in (None, "L", "U"):
        raise ValueError(f"eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    v, w = spec.eigh(a, lower=lower, symmetrize_input=symmetrize_input)
    return EighResult(w, v)


def eigvalsh(a: ArrayLike, UPLO: str | None = "L") -> Array:  # noqa: N803
    """Eigenvalues of Hermitian matrices (ascending), as `numpy.linalg.eigvalsh`."""
    return eigh(a, UPLO).eigenvalues


def eig(a: ArrayLike) -> EigResult:
    """Eigenvalues and right eigenvectors of general square matrices, as JAX: always complex
    (NumPy returns real arrays when every eigenvalue is real). Not differentiable (the
    eigenvectors' derivative is not implemented, as in JAX); `eigvals` is."""
    (a,) = _inexact(a)
    _square(a, "eig")
    w, v = spec.eig(a)
    return EigResult(w, v)


def eigvals(a: ArrayLike) -> Array:
    """Eigenvalues of general square matrices, always complex (as JAX); differentiable to
    first order, ``dw = diag(V^{-1} dA V)``."""
    (a,) = _inexact(a)
    _square(a, "eigvals")
    return spec.eig(a, compute_right_eigenvectors=False)[0]


def _hermitian_svd(a: Array, compute_uv: bool):
    # a = V diag(w) V^H = (V sign(w)) diag(|w|) V^H, ordered by decreasing |w|.
    w, v = eigh(a)
    order = shp.flip(sorting.argsort(ufuncs.absolute(w), axis=-1), axis=-1)
    w = shp.take_along_axis_in_bounds(w, order, axis=-1)
    s = ufuncs.absolute(w)
    if not compute_uv:
        return s
    v = shp.take_along_axis_in_bounds(
        v, shp.broadcast_to(shp.expand_dims(order, -2), aval(v).shape), axis=-1)
    u = ufuncs.multiply(v, shp.expand_dims(_as_dtype(ufuncs.sign(w), v), -2))
    return u, s, _mH(v)


def _as_dtype(x: Array, like: Array) -> Array:
    return ew.convert_element_type(asarray(x), aval(like).dtype)


def svd(a: ArrayLike, full_matrices: bool = True, compute_uv: bool = True,
        hermitian: bool = False) -> Any:
    """Singular value decomposition ``a = U @ diag(S) @ Vh``, singular values descending, as
    `numpy.linalg.svd`. Reverse-mode derivatives of `U`/`Vh` need ``full_matrices=False``
    for non-square matrices (as JAX); at repeated singular values the derivative terms that
    divide by their gaps are set to zero (as JAX).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        print(jnp.linalg.svd(np.array([[3.0, 0.0], [0.0, -4.0]]), compute_uv=False))
        ```
        ```text
        [4. 3.]
        ```
    """
    (a,) = _inexact(a)
    if aval(a).ndim < 2:
        raise ValueError(f"svd: expected matrices (at least 2-D), got shape {aval(a).shape}")
    if hermitian:
        out = _hermitian_svd(a, compute_uv)
        return SVDResult(*out) if compute_uv else out
    if not compute_uv:
        return spec.svd(a, full_matrices=False, compute_uv=False)
    u, s, vh = spec.svd(a, full_matrices=full_matrices)
    return SVDResult(u, s, vh)


def svdvals(x: ArrayLike, /) -> Array:
    """Singular values, descending, as `numpy.linalg.svdvals`."""
    return svd(x, compute_uv=False)


def qr(a: ArrayLike, mode: str = "reduced") -> Any:
    """QR decomposition, as `numpy.linalg.qr` (modes ``"reduced"``, ``"complete"``, ``"r"``;
    ``"raw"`` is not supported). Differentiable for ``m >= n`` with the reduced factors."""
    (a,) = _inexact(a)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"qr: mode must be 'reduced', 'complete' or 'r', got {mode!r} "
                         "('raw' is not supported)")
    if aval(a).ndim < 2:
        raise ValueError(f"qr: expected matrices (at least 2-D), got shape {aval(a).shape}")
    q, r = spec.qr(a, full_matrices=mode == "complete")
    return r if mode == "r" else QRResult(q, r)


# ---- SVD-based: pinv, lstsq, matrix_rank, cond ----------------------------------------------


def _default_rtol(a: Array) -> float:
    m, n = aval(a).shape[-2:]
    return max(m, n) * float(np.finfo(aval(a).dtype).eps)


def pinv(a: ArrayLike, rtol: ArrayLike | None = None, hermitian: bool = False) -> Array:
    """The Moore-Penrose pseudo-inverse from the SVD; singular values below ``rtol *
    max(s)`` (default ``max(m, n) * eps``, as JAX) are treated as zero."""
    (a,) = _inexact(a)
    if aval(a).ndim < 2:
        raise ValueError(f"pinv: expected matrices (at least 2-D), got shape {aval(a).shape}")
    m, n = aval(a).shape[-2:]
    if m == 0 or n == 0:
        return np_creation.zeros(aval(a).shape[:-2] + (n, m), aval(a).dtype)
    u, s, vh = svd(a, full_matrices=False, hermitian=hermitian)
    rtol = _default_rtol(a) if rtol is None else rtol
    cutoff = ufuncs.multiply(asarray(rtol), reductions.max(s, axis=-1, keepdims=True))
    keep = ufuncs.greater(s, cutoff)
    s_inv = ufuncs.where(keep, ufuncs.divide(1.0, ufuncs.where(keep, s, 1.0)), 0.0)
    s_inv = ew.convert_element_type(s_inv, aval(a).dtype)
    return products.matmul(ufuncs.multiply(_mH(vh), shp.expand_dims(s_inv, -2)), _mH(u))


def lstsq(a: ArrayLike, b: ArrayLike, rcond: float | None = None) -> LstsqResult:
    """Least-squares solution of ``a @ x = b`` from the SVD, as `numpy.linalg.lstsq`:
    ``(x, residuals, rank, s)``. `residuals` holds the squared residual norms when
    ``m > n`` (as JAX, whatever the rank; NumPy leaves it empty for rank-deficient `a`), an
    empty array otherwise."""
    a, b = _inexact(a, b)
    if aval(a).ndim != 2 or aval(b).ndim not in (1, 2):
        raise ValueError(f"lstsq: a must be 2-D and b 1-D or 2-D, got {aval(a).shape} and "
                         f"{aval(b).shape}")
    m, n = aval(a).shape
    if aval(b).shape[0] != m:
        raise ValueError(f"lstsq: a has {m} rows but b has {aval(b).shape[0]}")
    vector = aval(b).ndim == 1
    b2 = shp.expand_dims(b, -1) if vector else b
    u, s, vh = svd(a, full_matrices=False)
    rcond = _default_rtol(a) if rcond is None or rcond < 0 else rcond
    cutoff = ufuncs.multiply(asarray(rcond), reductions.max(s)) if s.shape[-1] else 0.0
    keep = ufuncs.greater(s, cutoff)
    rank = reductions.sum(ew.convert_element_type(asarray(keep), np.int32), dtype=np.int32)
    s_inv = ufuncs.where(keep, ufuncs.divide(1.0, ufuncs.where(keep, s, 1.0)), 0.0)
    uhb = products.matmul(_mH(u), b2)
    x = products.matmul(_mH(vh), ufuncs.multiply(shp.expand_dims(s_inv, -1), uhb))
    if m > n:
        r = ufuncs.subtract(b2, products.matmul(a, x))
        resid = reductions.sum(ufuncs.real(ufuncs.multiply(ufuncs.conjugate(r), r)), axis=0)
    else:
        resid = np_creation.zeros((0,), aval(s).dtype)
    if vector:
        x = shp.squeeze(x, -1)
    return LstsqResult(x, resid, rank, s)


def matrix_rank(M: ArrayLike, rtol: ArrayLike | None = None, *,  # noqa: N803
                tol: ArrayLike | None = None) -> Array:
    """The number of singular values above the tolerance (`tol` absolute; else ``rtol *
    max(s)``, `rtol` defaulting to ``max(m, n) * eps``), as `numpy.linalg.matrix_rank`."""
    (M,) = _inexact(M)
    if aval(M).ndim < 2:
        return ew.convert_element_type(asarray(reductions.any(ufuncs.not_equal(M, 0))),
                                       np.int64)
    s = svdvals(M)
    if tol is None:
        rtol = _default_rtol(M) if rtol is None else rtol
        tol = ufuncs.multiply(asarray(rtol), reductions.max(s, axis=-1, keepdims=True))
    elif aval(asarray(tol)).ndim:
        tol = shp.expand_dims(asarray(tol), -1)
    return reductions.sum(ew.convert_element_type(ufuncs.greater(s, tol), np.int64), axis=-1)


def cond(x: ArrayLike, p: Any = None) -> Array:
    """The condition number in the norm `p` (``None``/2/-2 from the singular values, else
    ``norm(x, p) * norm(inv(x), p)``), as `numpy.linalg.cond`."""
    (x,) = _inexact(x)
    if p is None or p in (2, -2):
        s = svdvals(x)
        big, small = s[..., 0], s[..., -1]
        return ufuncs.divide(small, big) if p == -2 else ufuncs.divide(big, small)
    _square(x, "cond")
    return ufuncs.multiply(norm(x, p, axis=(-2, -1)), norm(inv(x), p, axis=(-2, -1)))


# ---- norms ----------------------------------------------------------------------------------


def norm(x: ArrayLike, ord: Any = None, axis: Any = None, keepdims: bool = False  # noqa: A002
         ) -> Array:
    """Vector and matrix norms, as `numpy.linalg.norm`: for vectors ``None``, 2, 1, inf,
    -inf, 0 or any real p; for matrices ``None``, 'fro', 'nuc', 1, -1, 2, -2, inf, -inf (2,
    -2 and 'nuc' from the singular values)."""
    (x,) = _inexact(x)
    nd = aval(x).ndim
    spectral = ord in (2, -2, "nuc")
    if spectral and (axis is None and nd == 2 or isinstance(axis, tuple | list) and
                     len(axis) == 2):
        axes = (0, 1) if axis is None else tuple(a % nd for a in axis)
        if axes[0] == axes[1]:
            raise ValueError("norm: duplicate axes given")
        moved = shp.moveaxis(x, axes, (-2, -1))
        s = svdvals(moved)
        if ord == "nuc":
            out = reductions.sum(s, axis=-1)
        else:
            out = s[..., 0] if ord == 2 else s[..., -1]
        if keepdims:
            for a in sorted(axes):
                out = shp.expand_dims(out, a)
        return out
    return products.norm(x, ord, axis, keepdims)


def matrix_norm(x: ArrayLike, /, *, keepdims: bool = False, ord: Any = "fro") -> Array:  # noqa: A002
    """The norm of each matrix (the last two axes), as `numpy.linalg.matrix_norm`."""
    return norm(x, ord, (-2, -1), keepdims)


def vector_norm(x: ArrayLike, /, *, axis: Any = None, keepdims: bool = False,
                ord: Any = 2) -> Array:  # noqa: A002
    """The vector norm over `axis` (every axis by default, as if flattened), as
    `numpy.linalg.vector_norm`."""
    (x,) = _inexact(x)
    if axis is None:
        out = norm(shp.ravel(x), ord, 0)
        return shp.reshape(out, (1,) * aval(x).ndim) if keepdims else out
    if isinstance(axis, tuple | list) and len(axis) != 1:
        axes = tuple(a % aval(x).ndim for a in axis)
        rest = [i for i in range(aval(x).ndim) if i not in axes]
        moved = shp.transpose(x, rest + list(axes))
        flat = shp.reshape(moved, tuple(aval(x).shape[i] for i in rest) + (-1,))
        out = norm(flat, ord, -1)
        if keepdims:
            for a in sorted(axes):
                out = shp.expand_dims(out, a)
        return out
    return norm(x, ord, axis if not isinstance(axis, tuple | list) else axis[0], keepdims)


# ---- products and powers --------------------------------------------------------------------


def matrix_power(a: ArrayLike, n: int) -> Array:
    """``a`` to the integer power `n` by repeated squaring (``n < 0`` inverts first), as
    `numpy.linalg.matrix_power`."""
    a = asarray(a)
    _square(a, "matrix_power")
    if not isinstance(n, int | np.integer):
        raise TypeError(f"matrix_power: exponent must be an integer, got {n!r}")
    if n == 0:
        return shp.broadcast_to(np.eye(aval(a).shape[-1], dtype=aval(a).dtype), aval(a).shape)
    if n < 0:
        a, n = inv(a), -n
    result = None
    base = a
    while n:
        if n & 1:
            result = base if result is None else products.matmul(result, base)
        n >>= 1
        if n:
            base = products.matmul(base, base)
    return core.unchanged(result)  # (for n == 1, `a` itself)


def multi_dot(arrays: Sequence[ArrayLike], *, out: None = None, precision: Any = None
              ) -> Array:
    """The chained matrix product of `arrays` (the first may be 1-D, a row; the last 1-D, a
    column), as `numpy.linalg.multi_dot`, multiplied left to right (`precision` is accepted and
    ignored, as in JAX)."""
    if out is not None:
        raise NotImplementedError("multi_dot: out= is not supported (arrays are immutable)")
    if len(arrays) < 2:
        raise ValueError("multi_dot: expecting at least two arrays")
    result = asarray(arrays[0])
    for b in arrays[1:]:
        result = products.dot(result, asarray(b))
    return result


def tensorinv(a: ArrayLike, ind: int = 2) -> Array:
    """The inverse of an N-d array for `tensordot` over its first `ind` axes, as
    `numpy.linalg.tensorinv`."""
    (a,) = _inexact(a)
    shape = aval(a).shape
    if ind <= 0:
        raise ValueError(f"tensorinv: ind must be a positive integer, got {ind}")
    out_shape, in_shape = shape[ind:], shape[:ind]
    rows = int(np.prod(in_shape, dtype=np.int64))
    return shp.reshape(inv(shp.reshape(a, (rows, -1))), out_shape + in_shape)


def tensorsolve(a: ArrayLike, b: ArrayLike, axes: Sequence[int] | None = None) -> Array:
    """Solve ``tensordot(a, x, x.ndim) = b`` for `x`, as `numpy.linalg.tensorsolve`."""
    a, b = _inexact(a, b)
    if axes is not None:
        nd = aval(a).ndim
        axes = [ax % nd for ax in axes]
        a = shp.transpose(a, [i for i in range(nd) if i not in axes] + axes)
    b_shape = aval(b).shape
    x_shape = aval(a).shape[aval(b).ndim:]
    rows = int(np.prod(b_shape, dtype=np.int64))
    cols = int(np.prod(x_shape, dtype=np.int64))
    if rows != cols:
        raise ValueError(f"tensorsolve: a's shape {aval(a).shape} does not make a square "
                         f"system for b's shape {b_shape}")
    x = solve(shp.reshape(a, (rows, cols)), shp.reshape(b, (rows,)))
    return shp.reshape(x, x_shape)


def outer(x1: ArrayLike, x2: ArrayLike, /) -> Array:
    """The outer product of two vectors, as `numpy.linalg.outer` (1-D inputs only)."""
    x1, x2 = asarray(x1), asarray(x2)
    if aval(x1).ndim != 1 or aval(x2).ndim != 1:
        raise ValueError(f"outer: input arrays must be one-dimensional, got shapes "
                         f"{aval(x1).shape} and {aval(x2).shape}")
    return products.outer(x1, x2)


def cross(x1: ArrayLike, x2: ArrayLike, /, *, axis: int = -1) -> Array:
    """Cross product of 3-element vectors along `axis`, as `numpy.linalg.cross`."""
    x1, x2 = asarray(x1), asarray(x2)
    if aval(x1).shape[axis] != 3 or aval(x2).shape[axis] != 3:
        raise ValueError(f"cross: both inputs must have 3 elements along axis {axis}, got "
                         f"shapes {aval(x1).shape} and {aval(x2).shape}")
    return products.cross(x1, x2, axis=axis)


def diagonal(x: ArrayLike, /, *, offset: int = 0) -> Array:
    """The diagonals of the matrices in the last two axes, as `numpy.linalg.diagonal`."""
    return shp.diagonal(x, offset, axis1=-2, axis2=-1)


def trace(x: ArrayLike, /, *, offset: int = 0, dtype: Any = None) -> Array:
    """The sums of the diagonals of the matrices in the last two axes, as
    `numpy.linalg.trace`."""
    return reductions.sum(diagonal(x, offset=offset), axis=-1, dtype=dtype)


def matmul(x1: ArrayLike, x2: ArrayLike, /, *, precision: Any = None,
           preferred_element_type: Any = None) -> Array:
    """The matrix product, as `numpy.linalg.matmul` (`precision` is accepted and ignored and
    `preferred_element_type` casts the result, as in JAX)."""
    return products.matmul(x1, x2, precision=precision,
                           preferred_element_type=preferred_element_type)


def tensordot(x1: ArrayLike, x2: ArrayLike, /, *, axes: int | Sequence[Any] = 2) -> Array:
    """The sum of products over the last `axes` axes of `x1` and the first of `x2` (or the
    axes listed in a pair of sequences), as `numpy.linalg.tensordot`."""
    return products.tensordot(x1, x2, axes)


def vecdot(x1: ArrayLike, x2: ArrayLike, /, *, axis: int = -1) -> Array:
    """``sum(conj(x1) * x2, axis)``, as `numpy.linalg.vecdot`."""
    return products.vecdot(x1, x2, axis=axis)


def matrix_transpose(x: ArrayLike, /) -> Array:
    """Swap the last two axes, as `numpy.linalg.matrix_transpose`."""
    return shp.matrix_transpose(x)
