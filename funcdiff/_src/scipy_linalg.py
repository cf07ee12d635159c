"""`funcdiff.scipy.linalg`: `scipy.linalg`'s names on funcdiff's factorisations.

Composed from the primitives of `funcdiff._src.lax.decompositions` and `funcdiff.numpy`, so
every transformation applies. `expm` is scaling and squaring with a degree-13 Padé
approximant (Higham 2005), written with funcdiff operations: it differentiates automatically.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from funcdiff._src import core, dtypes
from funcdiff._src.lax import decompositions as dec
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import spectral as spec
from funcdiff._src.numpy import creation as np_creation
from funcdiff._src.numpy import linear_algebra as la
from funcdiff._src.numpy import reductions, ufuncs
from funcdiff._src.numpy import shape as shp
from funcdiff._src.numpy._util import Array, ArrayLike, asarray, aval, promote
from funcdiff._src.numpy.linalg import matmul
from funcdiff._src.numpy.ufuncs import promote_inexact


def _trans_flags(trans: Any) -> tuple[bool, bool]:
    codes = {0: (False, False), "N": (False, False), 1: (True, False), "T": (True, False),
             2: (True, True), "C": (True, True)}
    if trans not in codes:
        raise ValueError(f"trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}")
    return codes[trans]


def _rhs(b: Array, a: Array, name: str) -> tuple[Array, bool]:
    """`b` as a stack of matrices with `a`'s batch shape, and whether it was a vector."""
    vector = aval(b).ndim == aval(a).ndim - 1
    if vector:
        b = shp.expand_dims(b, -1)
    if aval(b).shape[-2] != aval(a).shape[-1]:
        raise ValueError(f"{name}: a is {aval(a).shape} but b has {aval(b).shape[-2]} rows "
                         f"(b {aval(b).shape}); b needs shape (n,) or (n, k)")
    return b, vector


def solve_triangular(a: ArrayLike, b: ArrayLike, trans: Any = 0, lower: bool = False,
                     unit_diagonal: bool = False, overwrite_b: bool = False,
                     check_finite: bool = True) -> Array:
    """Solve ``a x = b`` for triangular `a` (only its `lower` or upper triangle is read), with
    ``a^T`` (``trans=1``) or ``a^H`` (2), as `scipy.linalg.solve_triangular`; `b` is
    ``(n,)`` or ``(n, k)`` (with `a`'s batch axes, if any).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.linalg import solve_triangular

        a = np.array([[2.0, 0.0], [1.0, 4.0]])
        print(solve_triangular(a, np.array([2.0, 9.0]), lower=True))
        ```
        ```text
        [1. 2.]
        ```
    """
    del overwrite_b, check_finite
    a, b = promote_inexact(asarray(a), asarray(b))
    b, vector = _rhs(b, a, "solve_triangular")
    a, b = la._batch_broadcast(a, b)
    transpose_a, conjugate_a = _trans_flags(trans)
    x = dec.triangular_solve(a, b, left_side=True, lower=lower, transpose_a=transpose_a,
                             conjugate_a=conjugate_a, unit_diagonal=unit_diagonal)
    return shp.squeeze(x, -1) if vector else x


def cho_factor(a: ArrayLike, lower: bool = False, overwrite_a: bool = False,
               check_finite: bool = True) -> tuple[Array, bool]:
    """The Cholesky factor of a Hermitian positive-definite matrix and `lower`, as
    `scipy.linalg.cho_factor`, for `cho_solve`. The factor is upper (``a = U^H U``) unless
    `lower`; the other triangle of the result is zero (SciPy leaves arbitrary values there).
    Only the `lower` (or upper) triangle of `a` is read."""
    del overwrite_a, check_finite
    (a,) = promote_inexact(asarray(a))
    la._square(a, "cho_factor")
    if lower:
        return dec.cholesky(a), lower
    return la._mH(dec.cholesky(la._mH(a))), lower


def cho_solve(c_and_lower: tuple[ArrayLike, bool], b: ArrayLike, overwrite_b: bool = False,
              check_finite: bool = True) -> Array:
    """Solve ``a x = b`` given ``cho_factor(a)``, by two triangular solves, as
    `scipy.linalg.cho_solve`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.linalg import cho_factor, cho_solve

        a = np.array([[4.0, 2.0], [2.0, 5.0]])
        print(cho_solve(cho_factor(a), np.array([8.0, 9.0])))
        ```
        ```text
        [1.375 1.25 ]
        ```
    """
    del overwrite_b, check_finite
    c, lower = c_and_lower
    c, b = promote_inexact(asarray(c), asarray(b))
    b, vector = _rhs(b, c, "cho_solve")
    c, b = la._batch_broadcast(c, b)
    if lower:  # a = L L^H
        y = dec.triangular_solve(c, b, left_side=True, lower=True)
        x = dec.triangular_solve(c, y, left_side=True, lower=True, transpose_a=True,
                                 conjugate_a=True)
    else:  # a = U^H U
        y = dec.triangular_solve(c, b, left_side=True, lower=False, transpose_a=True,
                                 conjugate_a=True)
        x = dec.triangular_solve(c, y, left_side=True, lower=False)
    return shp.squeeze(x, -1) if vector else x


def _unpack_lu(lu: Array) -> tuple[Array, Array]:
    m, n = aval(lu).shape[-2:]
    k = min(m, n)
    lower = np_creation.tril(lu[..., :, :k], -1) + np.eye(m, k, dtype=aval(lu).dtype)
    upper = np_creation.triu(lu[..., :k, :])
    return lower, upper


def lu(a: ArrayLike, permute_l: bool = False, overwrite_a: bool = False,
       check_finite: bool = True) -> tuple[Array, ...]:
    """LU decomposition with partial pivoting ``a = p @ l @ u``, as `scipy.linalg.lu`:
    ``(p, l, u)``, or ``(p @ l, u)`` with `permute_l`, for matrices of any shape."""
    del overwrite_a, check_finite
    (a,) = promote_inexact(asarray(a))
    if aval(a).ndim < 2:
        raise ValueError(f"lu: expected a matrix (at least 2-D), got shape {aval(a).shape}")
    packed, _, perm = dec.lu(a)
    lower, upper = _unpack_lu(packed)
    p = la._mT(dec.permutation_matrix(perm, aval(a).dtype))
    if permute_l:
        return matmul(p, lower), upper
    return p, lower, upper


def lu_factor(a: ArrayLike, overwrite_a: bool = False, check_finite: bool = True
              ) -> tuple[Array, Array]:
    """``(lu, piv)``, as `scipy.linalg.lu_factor`: `L` (unit diagonal implied) and `U`
    packed in `lu`; `piv` the row swaps (row ``i`` was swapped with ``piv[i]``), int32."""
    del overwrite_a, check_finite
    (a,) = promote_inexact(asarray(a))
    la._square(a, "lu_factor")
    packed, pivots, _ = dec.lu(a)
    return packed, pivots


def _pivots_to_permutation(pivots: Array, m: int) -> Array:
    """The permutation that applies LAPACK's row swaps in turn (integer operations, so it
    works on traced pivots too)."""
    batch = aval(pivots).shape[:-1]
    idx = np.arange(m, dtype=np.int32)
    perm = shp.broadcast_to(idx, batch + (m,))
    for j in range(aval(pivots).shape[-1]):
        pj = shp.expand_dims(pivots[..., j], -1)
        at_j = shp.expand_dims(perm[..., j], -1)
        at_pj = shp.take_along_axis_in_bounds(perm, pj, axis=-1)
        perm = ufuncs.where(idx == j, at_pj, ufuncs.where(ufuncs.equal(idx, pj), at_j, perm))
    return perm


def lu_solve(lu_and_piv: tuple[ArrayLike, ArrayLike], b: ArrayLike, trans: int = 0,
             overwrite_b: bool = False, check_finite: bool = True) -> Array:
    """Solve ``a x = b`` (``trans`` 0), ``a^T x = b`` (1) or ``a^H x = b`` (2) given
    ``lu_factor(a)``, as `scipy.linalg.lu_solve`."""
    del overwrite_b, check_finite
    packed, pivots = lu_and_piv
    packed, b = promote_inexact(asarray(packed), asarray(b))
    b, vector = _rhs(b, packed, "lu_solve")
    if trans not in (0, 1, 2):
        raise ValueError(f"lu_solve: trans must be 0, 1 or 2, got {trans!r}")
    perm = _pivots_to_permutation(asarray(pivots), aval(packed).shape[-1])
    x = la.lu_solve_factored(packed, perm, b, trans)
    return shp.squeeze(x, -1) if vector else x


# ---- expm -----------------------------------------------------------------------------------

# Higham (2005), "The scaling and squaring method for the matrix exponential revisited":
# the Padé coefficients b_0..b_13 and the 1-norm bound up to which degree 13 is accurate.
_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
           129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
           40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


_MAX_SQUARINGS = 16  # in a traced program (jit, vmap): norms up to 5.4 * 2**16, as JAX


def _concrete_squarings(value: np.ndarray) -> int:
    """How many times to halve a concrete matrix (the largest over a stack) so that its
    1-norm is at most `_THETA13`."""
    norm1 = float(np.max(np.sum(np.abs(value), axis=-2), initial=0.0))
    if not np.isfinite(norm1) or norm1 <= _THETA13:
        return 0
    return int(np.ceil(np.log2(norm1 / _THETA13)))


def _pade13(a: Array) -> Array:
    n = aval(a).shape[-1]
    dt = aval(a).dtype
    eye = np.eye(n, dtype=dt)
    b = [np.asarray(c, dt) for c in _PADE13]
    a2 = matmul(a, a)
    a4 = matmul(a2, a2)
    a6 = matmul(a4, a2)
    u_inner = matmul(a6, b[13] * a6 + b[11] * a4 + b[9] * a2)
    u = matmul(a, u_inner + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye)
    v = matmul(a6, b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 \
        + b[0] * eye
    return la.solve(ufuncs.subtract(v, u), ufuncs.add(v, u))


def expm(A: ArrayLike) -> Array:  # noqa: N803
    """The matrix exponential, as `scipy.linalg.expm`, by scaling and squaring with a
    degree-13 Padé approximant (Higham 2005); its derivatives come from differentiating those
    operations. On a concrete matrix the number of squarings is read from its 1-norm; in a
    traced program (`jit`, `vmap`) it is computed in the program and applied by up to 16
    selected squarings, as JAX does.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff.scipy.linalg import expm

        a = np.array([[0.0, 1.0], [0.0, 0.0]])
        print(expm(a))
        print(funcdiff.grad(lambda t: expm(t * a)[0, 1])(2.0))
        ```
        ```text
        [[1. 1.]
         [0. 1.]]
        1.0
        ```
    """
    (a,) = promote_inexact(asarray(A))
    la._square(a, "expm")
    real = np.finfo(aval(a).dtype).dtype
    value = core.concrete_or_none(a)
    if value is not None:
        s = _concrete_squarings(np.asarray(value))
        if s:
            a = ufuncs.multiply(a, np.asarray(2.0 ** -s, real))
        r = _pade13(a)
        for _ in range(s):
            r = matmul(r, r)
        return r
    # Traced: per matrix, s = clip(ceil(log2(|a|_1 / theta)), 0, 16), then 16 squarings of
    # which the first s are kept.
    norm1 = reductions.max(reductions.sum(ufuncs.absolute(a), axis=-2), axis=-1)
    s = ufuncs.clip(ufuncs.ceil(ufuncs.log2(ufuncs.divide(norm1, np.asarray(_THETA13, real)))),
                    0, _MAX_SQUARINGS)
    s = ufuncs.where(ufuncs.isfinite(s), s, 0)
    s = ew.stop_gradient(shp.expand_dims(shp.expand_dims(s, -1), -1))
    scale = ew.convert_element_type(ufuncs.exp2(ufuncs.negative(s)), aval(a).dtype)
    r = _pade13(ufuncs.multiply(a, scale))
    for i in range(_MAX_SQUARINGS):
        r = ufuncs.where(ufuncs.less(i, s), matmul(r, r), r)
    return r


# ---- others ---------------------------------------------------------------------------------


def block_diag(*arrs: ArrayLike) -> Array:
    """The block-diagonal matrix of the arguments (0-d and 1-d ones are rows), as
    `scipy.linalg.block_diag`."""
    if not arrs:
        return np.zeros((1, 0))
    blocks = [asarray(a) for a in arrs]
    blocks = [shp.reshape(b, (1, -1)) if aval(b).ndim < 2 else b for b in blocks]
    if any(aval(b).ndim != 2 for b in blocks):
        raise ValueError("block_diag: arguments must have at most 2 dimensions, got shapes "
                         + ", ".join(str(aval(b).shape) for b in blocks))
    dt = dtypes.result_type(*((aval(b).dtype, False) for b in blocks))[0]
    total = sum(aval(b).shape[1] for b in blocks)
    rows, start = [], 0
    for blk in blocks:
        r, c = aval(blk).shape
        blk = blk if aval(blk).dtype == dt else shp.astype(blk, dt)
        rows.append(shp.concatenate([np.zeros((r, start), dt), blk,
                                     np.zeros((r, total - start - c), dt)], axis=1))
        start += c
    return shp.concatenate(rows, axis=0)


def _hermitian_from(a: Array, lower: bool) -> Array:
    """The Hermitian matrix whose `lower` (or upper) triangle is that of `a`."""
    strict = np_creation.tril(a, -1) if lower else np_creation.triu(a, 1)
    return ufuncs.add(np_creation.tril(a) if lower else np_creation.triu(a), la._mH(strict))


def eigh(a: ArrayLike, b: ArrayLike | None = None, lower: bool = True,
         eigvals_only: bool = False, **kwargs: Any) -> Any:
    """Eigenvalues (ascending) and eigenvectors ``(w, v)`` of a Hermitian matrix, or `w`
    alone with `eigvals_only`, as `scipy.linalg.eigh`; only the `lower` (or upper) triangle
    is read. With a positive-definite `b`, the generalized problem ``a v = w b v``: with
    ``b = L L^H`` it is the ordinary one of ``L^{-1} a L^{-H}``, whose eigenvectors ``y``
    give ``v = L^{-H} y`` (normalised so that ``v^H b v = I``, as SciPy's)."""
    if b is None:
        (a,) = promote_inexact(asarray(a))
        la._square(a, "eigh")
        v, w = spec.eigh(a, lower=lower, symmetrize_input=False)
        return w if eigvals_only else (w, v)
    a, b = promote_inexact(asarray(a), asarray(b))
    la._square(a, "eigh")
    la._square(b, "eigh (b)")
    chol = dec.cholesky(b if lower else la._mH(b))
    c = dec.triangular_solve(chol, _hermitian_from(a, lower), left_side=True, lower=True)
    c = dec.triangular_solve(chol, c, left_side=False, lower=True, transpose_a=True,
                             conjugate_a=True)
    y, w = spec.eigh(c)
    if eigvals_only:
        return w
    v = dec.triangular_solve(chol, y, left_side=True, lower=True, transpose_a=True,
                             conjugate_a=True)
    return w, v


def svd(a: ArrayLike, full_matrices: bool = True, compute_uv: bool = True,
        **kwargs: Any) -> Any:
    """Singular value decomposition ``(u, s, vh)`` or `s`, as `scipy.linalg.svd`."""
    return la.svd(a, full_matrices=full_matrices, compute_uv=compute_uv) if compute_uv else \
        la.svdvals(a)


def qr(a: ArrayLike, overwrite_a: bool = False, lwork: Any = None, mode: str = "full",
       pivoting: bool = False, check_finite: bool = True) -> Any:
    """QR decomposition, as `scipy.linalg.qr`: ``(q, r)`` for modes ``"full"`` and
    ``"economic"``, ``(r,)`` for ``"r"``. Pivoting and ``"raw"`` are not supported."""
    del overwrite_a, lwork, check_finite
    if pivoting:
        raise NotImplementedError("qr: pivoting=True is not supported")
    if mode not in ("full", "economic", "r"):
        raise ValueError(f"qr: mode must be 'full', 'economic' or 'r', got {mode!r} ('raw' "
                         "is not supported)")
    q, r = la.qr(a, "reduced" if mode == "economic" else "complete")
    return (r,) if mode == "r" else (q, r)


def det(a: ArrayLike, overwrite_a: bool = False, check_finite: bool = True) -> Array:
    """The determinant, as `scipy.linalg.det`."""
    return la.det(a)


def inv(a: ArrayLike, overwrite_a: bool = False, check_finite: bool = True) -> Array:
    """The inverse, as `scipy.linalg.inv`."""
    return la.inv(a)


def solve(a: ArrayLike, b: ArrayLike, lower: bool = False, overwrite_a: bool = False,
          overwrite_b: bool = False, check_finite: bool = True, assume_a: str = "gen",
          transposed: bool = False) -> Array:
    """Solve ``a x = b``, as `scipy.linalg.solve`: by Cholesky when ``assume_a="pos"``
    (reading the `lower` or upper triangle), else by LU; `b` is ``(n,)`` or ``(n, k)``."""
    (a, b) = promote_inexact(asarray(a), asarray(b))
    la._square(a, "solve")
    if transposed:
        a = la._mT(a)
    if assume_a in ("pos", "positive definite"):
        return cho_solve(cho_factor(a, lower=lower), b)
    if assume_a not in ("gen", "general", "sym", "symmetric", "her", "hermitian"):
        raise ValueError(f"solve: unknown assume_a {assume_a!r}")
    b2, vector = _rhs(b, a, "solve")
    x = la.solve(a, b2)
    return shp.squeeze(x, -1) if vector else x


__all__ = ["block_diag", "cho_factor", "cho_solve", "det", "eigh", "expm", "inv", "lu",
           "lu_factor", "lu_solve", "qr", "solve", "solve_triangular", "svd"]


def cholesky(a: ArrayLike, lower: bool = False, overwrite_a: bool = False,
             check_finite: bool = True) -> Array:
    """The Cholesky factor of a Hermitian positive-definite matrix, upper (``a = U^H U``)
    unless `lower` (``a = L L^H``), as `scipy.linalg.cholesky`; the other triangle is zero.
    Only the `lower` (or upper) triangle of `a` is read.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.linalg import cholesky

        print(cholesky(np.array([[4.0, 2.0], [2.0, 5.0]])))
        ```
        ```text
        [[2. 1.]
         [0. 2.]]
        ```
    """
    return cho_factor(a, lower, overwrite_a, check_finite)[0]


def _structured(values: Array, index: np.ndarray) -> Array:
    """The matrix whose entry (i, j) is ``values[..., index[i, j]]``, for each leading index."""
    batch = aval(values).shape[:-1]
    flat = shp.take_in_bounds(values, index.ravel(), axis=-1)
    return shp.reshape(flat, (*batch, *index.shape))


def _vectors(name: str, *vs: ArrayLike) -> list[Array]:
    out = [asarray(v) for v in vs]
    for v in out:
        if aval(v).ndim == 0:
            raise ValueError(f"{name}: expected arrays of at least one dimension, got a scalar")
    return out


def _broadcast_pair(c: Array, r: Array) -> tuple[Array, Array]:
    """The vectors `c` and `r` (of lengths m and n) promoted to one dtype, with their leading
    (batch) axes broadcast together."""
    c, r = promote(c, r)
    batch = np.broadcast_shapes(aval(c).shape[:-1], aval(r).shape[:-1])
    return (
        shp.broadcast_to(c, (*batch, aval(c).shape[-1])),
        shp.broadcast_to(r, (*batch, aval(r).shape[-1])),
    )


def toeplitz(c: ArrayLike, r: ArrayLike | None = None) -> Array:
    """The Toeplitz matrix with first column `c` and first row `r` (``r[0]`` is ignored;
    default ``conj(c)``, a Hermitian matrix), as JAX's `jax.scipy.linalg.toeplitz`: leading
    axes of `c` and `r` are batch axes. Entry ``(i, j)`` is ``c[i - j]`` below the diagonal
    and ``r[j - i]`` above it.

    !!! Example
        ```python
        from funcdiff.scipy.linalg import toeplitz

        print(toeplitz([1.0, 2.0, 3.0], [1.0, 4.0]))
        ```
        ```text
        [[1. 4.]
         [2. 1.]
         [3. 2.]]
        ```
    """
    (c,) = _vectors("toeplitz", c)
    r = ufuncs.conjugate(c) if r is None else _vectors("toeplitz", r)[0]
    c, r = _broadcast_pair(c, r)
    m, n = aval(c).shape[-1], aval(r).shape[-1]
    # values: r[n-1], ..., r[1], c[0], ..., c[m-1]; entry (i, j) is values[i - j + n - 1]
    values = shp.concatenate([shp.flip(r[..., 1:], -1), c], axis=-1)
    return _structured(values, np.subtract.outer(np.arange(m), np.arange(n)) + n - 1)


def hankel(c: ArrayLike, r: ArrayLike | None = None) -> Array:
    """The Hankel matrix with first column `c` and last row `r` (``r[0]`` is ignored; default
    zeros), as JAX's `jax.scipy.linalg.hankel` (leading axes are batch axes): entry
    ``(i, j)`` is ``c[i + j]`` while ``i + j < len(c)``, then ``r[i + j - len(c) + 1]``.

    !!! Example
        ```python
        from funcdiff.scipy.linalg import hankel

        print(hankel([1.0, 2.0, 3.0], [9.0, 4.0, 5.0]))
        ```
        ```text
        [[1. 2. 3.]
         [2. 3. 4.]
         [3. 4. 5.]]
        ```
    """
    (c,) = _vectors("hankel", c)
    r = np_creation.zeros_like(c) if r is None else _vectors("hankel", r)[0]
    c, r = _broadcast_pair(c, r)
    m, n = aval(c).shape[-1], aval(r).shape[-1]
    values = shp.concatenate([c, r[..., 1:]], axis=-1)
    return _structured(values, np.add.outer(np.arange(m), np.arange(n)))


def circulant(c: ArrayLike) -> Array:
    """The circulant matrix with first column `c`, as JAX's `jax.scipy.linalg.circulant`
    (leading axes are batch axes): entry ``(i, j)`` is ``c[(i - j) % n]``.

    !!! Example
        ```python
        from funcdiff.scipy.linalg import circulant

        print(circulant([1.0, 2.0, 3.0]))
        ```
        ```text
        [[1. 3. 2.]
         [2. 1. 3.]
         [3. 2. 1.]]
        ```
    """
    (c,) = _vectors("circulant", c)
    n = aval(c).shape[-1]
    return _structured(c, np.subtract.outer(np.arange(n), np.arange(n)) % max(n, 1))
