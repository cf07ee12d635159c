"""More of `jax.lax.linalg`, composed from `funcdiff.numpy` (so each works under `jit` and
`vmap`, and differentiates where its result is smooth, where JAX's primitives have no
derivative rules):

- `symmetric_product` as one matrix product;
- `lu_pivots_to_permutation` by applying the row swaps to ``arange`` one at a time (each a
  `where` on a one-hot mask);
- `householder_product` by applying LAPACK's elementary reflectors to the identity's first
  columns, last reflector first;
- `hessenberg` and `tridiagonal` from the Householder reduction behind
  `funcdiff.scipy.linalg.hessenberg`, in LAPACK's packed output (reflectors below the first
  subdiagonal, their scales in ``taus``);
- `ormqr` by applying those reflectors to a matrix, and `cholesky_update` by JAX's Givens
  rotations, one row of the factor at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src.numpy._util import Array, ArrayLike
from funcdiff._src.scipy_linalg_decomp import householder_hessenberg

__all__ = ["cholesky_update", "hessenberg", "householder_product", "lu_pivots_to_permutation",
           "ormqr", "symmetric_product", "tridiagonal"]


def _matrices(name: str, a: Array, square: bool) -> None:
    if a.ndim < 2 or square and a.shape[-1] != a.shape[-2]:
        what = "square matrices" if square else "matrices"
        raise ValueError(f"{name}: expected a batch of {what} (..., m, {'m' if square else 'n'}), "
                         f"got shape {a.shape}")
    if not jnp.issubdtype(a.dtype, jnp.inexact):
        raise TypeError(f"{name}: expected a floating or complex array, got {a.dtype}; "
                        "convert it (a.astype(float))")


def _mT(x: Array) -> Array:  # noqa: N802
    return jnp.swapaxes(x, -1, -2)


def _reflector_vector(a: Array, i: int, dtype: Any) -> Array:
    """LAPACK's reflector vector ``i`` as a column ``(..., m, 1)``: 1 at row `i`, zero above,
    ``a[i+1:, i]`` below."""
    rows = np.arange(a.shape[-2])[:, None]
    return jnp.where(rows > i, a[..., :, i, None], (rows == i).astype(dtype))


def symmetric_product(a_matrix: ArrayLike, c_matrix: ArrayLike, *, alpha: float = 1.0,
                      beta: float = 0.0, symmetrize_output: bool = False) -> Array:
    """``alpha * A @ A.T + beta * C`` for a batch of matrices ``A`` (``(..., m, n)``) and
    symmetric ``C`` (``(..., m, m)``), as `jax.lax.linalg.symmetric_product` (no conjugation);
    with `symmetrize_output` the upper triangle is the transpose of the lower one.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.lax import linalg

        a = np.array([[1.0, 2.0], [3.0, 4.0]])
        print(linalg.symmetric_product(a, np.eye(2), alpha=2.0, beta=1.0))
        ```
        ```text
        [[11. 22.]
         [22. 51.]]
        ```
    """
    a, c = jnp.asarray(a_matrix), jnp.asarray(c_matrix)
    _matrices("symmetric_product", a, False)
    _matrices("symmetric_product", c, True)
    if c.shape[-1] != a.shape[-2]:
        raise ValueError(f"symmetric_product: c_matrix must be (..., m, m) for a_matrix "
                         f"(..., m, n) = {a.shape}, got {c.shape}")
    out = alpha * (a @ _mT(a)) + beta * c
    if symmetrize_output:
        out = jnp.tril(out) + _mT(jnp.tril(out, -1))
    return out.astype(jnp.result_type(a, c))


def lu_pivots_to_permutation(pivots: ArrayLike, permutation_size: int) -> Array:
    """The permutation (int32, ``(..., permutation_size)``) made by applying the row swaps
    `pivots` (``(..., k)``, ``k <= permutation_size``: row ``i`` swapped with row
    ``pivots[i]``, in order, as `lu` returns) to ``arange(permutation_size)``, as
    `jax.lax.linalg.lu_pivots_to_permutation`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.lax import linalg

        print(linalg.lu_pivots_to_permutation(np.array([2, 2, 2], np.int32), 4))
        ```
        ```text
        [2 0 1 3]
        ```
    """
    swaps = jnp.asarray(pivots)
    m = int(permutation_size)
    if swaps.ndim < 1 or not jnp.issubdtype(swaps.dtype, jnp.integer):
        raise TypeError(f"lu_pivots_to_permutation: pivots must be an integer array of shape "
                        f"(..., k), got {swaps.dtype} of shape {swaps.shape}")
    k = swaps.shape[-1]
    if k > m:
        raise ValueError(f"lu_pivots_to_permutation: permutation_size={m} must be at least the "
                         f"number of pivots {k}")
    iota = np.arange(m, dtype=np.int32)
    perm = jnp.broadcast_to(jnp.asarray(iota), swaps.shape[:-1] + (m,))
    swaps = swaps.astype(np.int32)
    for i in range(k):
        j = swaps[..., i, None]
        here = perm[..., i, None]
        there = jnp.take_along_axis(perm, j, axis=-1)
        perm = jnp.where(iota == i, there, perm)
        perm = jnp.where(iota == j, here, perm)
    return perm


def householder_product(a: ArrayLike, taus: ArrayLike) -> Array:
    """The first ``n`` columns of ``H_0 H_1 ... H_{k-1}`` for the elementary reflectors
    ``H_i = I - taus[i] v_i v_iᴴ`` stored in the lower triangle of `a` (``(..., m, n)``;
    ``v_i`` is 1 at ``i``, zero above, ``a[i+1:, i]`` below), as
    `jax.lax.linalg.householder_product` (LAPACK's orgqr/ungqr): with the output of a
    Householder QR, the reduced ``Q``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.lax import linalg

        a = np.array([[0.0, 0.0], [1.0, 0.0]])  # v_0 = (1, 1)
        print(linalg.householder_product(a, np.array([1.0, 0.0])))
        ```
        ```text
        [[ 0. -1.]
         [-1.  0.]]
        ```
    """
    a, taus = jnp.asarray(a), jnp.asarray(taus)
    _matrices("householder_product", a, False)
    m, n = a.shape[-2:]
    k = taus.shape[-1] if taus.ndim else -1
    if taus.ndim != a.ndim - 1 or k > min(m, n) or taus.shape[:-1] != a.shape[:-2]:
        raise ValueError(f"householder_product: taus must be (..., k) with k <= min(m, n) and "
                         f"the batch shape of a {a.shape}, got {taus.shape}")
    dtype = jnp.result_type(a, taus)
    y = jnp.broadcast_to(jnp.eye(m, n, dtype=dtype), a.shape)
    for i in reversed(range(k)):
        v = _reflector_vector(a, i, dtype)
        t = taus[..., i, None, None]
        y = y - t * v * (jnp.conj(_mT(v)) @ y)
    return y.astype(dtype)


def _packed(h: Array, vs: list[Array], taus: list[Array]) -> tuple[Array, Array]:
    """LAPACK's packed Householder output: `h` with each reflector's vector below the first
    subdiagonal of its column, and the scales stacked."""
    n = h.shape[-1]
    cols = [*vs, *[jnp.zeros(h.shape[:-1], h.dtype)] * (n - len(vs))]
    below = np.tril(np.ones((n, n), bool), -2)
    packed = jnp.where(below, jnp.stack(cols, axis=-1) if cols else h, h)
    tau = jnp.stack(taus, axis=-1) if taus else jnp.zeros(h.shape[:-2] + (0,), h.dtype)
    return packed, tau


def hessenberg(a: ArrayLike) -> tuple[Array, Array]:
    """The upper Hessenberg reduction of square matrices, as `jax.lax.linalg.hessenberg`
    (LAPACK's gehrd): ``(a, taus)``, the Hessenberg matrix in the upper triangle and first
    subdiagonal of ``a``, the ``n - 1`` Householder reflectors below it (scales in `taus`).
    `funcdiff.scipy.linalg.hessenberg` gives the matrix and its ``Q`` unpacked.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.lax import linalg

        h, taus = linalg.hessenberg(np.array([[1.0, 2.0, 0.0], [3.0, 4.0, 1.0],
                                              [4.0, 0.0, 1.0]]))
        print(np.round(h, 4))
        print(taus)
        ```
        ```text
        [[ 1.   -1.2  -1.6 ]
         [-5.    2.56  1.08]
         [ 0.5   2.08  2.44]]
        [1.6 0. ]
        ```
    """
    h = jnp.asarray(a)
    _matrices("hessenberg", h, True)
    n = h.shape[-1]
    h, _, vs, taus = householder_hessenberg(h, max(n - 1, 0), False)
    return _packed(h, vs, taus)


def tridiagonal(a: ArrayLike, *, lower: bool = True) -> tuple[Array, Array, Array, Array]:
    """The tridiagonal reduction ``Qᴴ A Q`` of symmetric (Hermitian) matrices, reading the
    `lower` (or upper) triangle only, as `jax.lax.linalg.tridiagonal` (LAPACK's sytrd/hetrd):
    ``(a, d, e, taus)`` with the real diagonal `d`, the real sub- (super-) diagonal `e`, and
    ``a`` holding them and the ``n - 1`` Householder reflectors below (above) them, their
    scales in `taus`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.lax import linalg

        _, d, e, taus = linalg.tridiagonal(np.array([[2.0, 0.0, 0.0], [3.0, 1.0, 0.0],
                                                     [4.0, 5.0, 0.0]]))
        print(np.round(d, 4), np.round(e, 4), np.round(taus, 4))
        ```
        ```text
        [ 2.    5.16 -4.16] [-5.    1.88] [1.6 0. ]
        ```
    """
    x = jnp.asarray(a)
    _matrices("tridiagonal", x, True)
    n = x.shape[-1]
    if not lower:  # the upper triangle is the lower one of the matrix reversed
        x = x[..., ::-1, ::-1]
    lo = jnp.tril(x, -1)
    diag = jnp.real(jnp.diagonal(x, axis1=-2, axis2=-1)).astype(x.dtype)  # (read as real)
    herm = lo + jnp.conj(_mT(lo)) + diag[..., None] * np.eye(n, dtype=bool)
    h, _, vs, taus = householder_hessenberg(herm, max(n - 1, 0), False)
    d = jnp.real(jnp.diagonal(h, axis1=-2, axis2=-1))
    e = jnp.real(jnp.diagonal(h, offset=-1, axis1=-2, axis2=-1))
    out = jnp.tril(h) + jnp.triu(x, 1)
    packed, tau = _packed(out, vs, taus)
    if not lower:
        packed = packed[..., ::-1, ::-1]
        e = e[..., ::-1]
        tau = tau[..., ::-1]
    return packed, d[..., ::-1] if not lower else d, e, tau


def _givens(x: Array, y: Array) -> tuple[Array, Array]:
    """BLAS's rotg coefficients ``(c, s)`` zeroing `y` against `x`, as JAX: ``(1, 0)`` when
    `y` is zero. (For ``x > 0`` the general formula gives that too, with its derivatives;
    elsewhere the inputs are replaced, so that no division by zero reaches a derivative.)"""
    fixed = (y == 0) & ~(x > 0)
    x, y = jnp.where(fixed, 1, x), jnp.where(fixed, 0, y)
    big = jnp.maximum(jnp.abs(x), jnp.abs(y))
    xs, ys = x / big, y / big
    inv = 1 / jnp.sqrt(xs**2 + ys**2)
    return xs * inv, -ys * inv


def cholesky_update(r_matrix: ArrayLike, w_vector: ArrayLike) -> Array:
    """The upper Cholesky factor of ``R.T @ R + w w.T`` from the upper factor `r_matrix` of
    ``R.T @ R`` (``(n, n)``, real) and `w_vector` (``(n,)``), in ``O(n²)`` by Givens
    rotations, as `jax.lax.linalg.cholesky_update` (leading batch axes allowed here).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.lax import linalg

        r = np.array([[2.0, 1.0], [0.0, 1.0]])
        w = np.array([1.0, 1.0])
        new = linalg.cholesky_update(r, w)
        print(np.allclose(new.T @ new, r.T @ r + np.outer(w, w)), np.round(np.diag(new), 4))
        ```
        ```text
        True [2.2361 1.0954]
        ```
    """
    r, z = jnp.asarray(r_matrix), jnp.asarray(w_vector)
    _matrices("cholesky_update", r, True)
    if z.shape != r.shape[:-1]:
        raise ValueError(f"cholesky_update: takes a square matrix and a vector of its size, "
                         f"got shapes {r.shape} and {z.shape}")
    if jnp.iscomplexobj(r) or jnp.iscomplexobj(z):
        raise NotImplementedError("cholesky_update: complex matrices are not supported (as JAX)")
    dtype = jnp.result_type(r, z)
    r, z = r.astype(dtype), z.astype(dtype)
    n = r.shape[-1]
    rows = np.arange(n)[:, None]
    for k in range(n):
        c, s = _givens(r[..., k, k], z[..., k])
        c, s = c[..., None], s[..., None]
        row = r[..., k, :]
        r = jnp.where(rows == k, (c * row - s * z)[..., None, :], r)
        z = c * z + s * row
    return r


def ormqr(a: ArrayLike, taus: ArrayLike, c: ArrayLike, *, left: bool = True,
          transpose: bool = False) -> Array:
    """``Q @ c`` (`left`), ``c @ Q``, or with ``Qᴴ`` (`transpose`), for the ``Q`` of a
    Householder QR given as its reflectors (the lower triangle of `a`, ``(..., m, n)``) and
    scales `taus` (``(..., k)``), without forming ``Q`` (``m x m``), as
    `jax.lax.linalg.ormqr` (LAPACK's ormqr/unmqr).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.lax import linalg

        a = np.array([[0.0, 0.0], [1.0, 0.0]])  # v_0 = (1, 1), Q = I - v vᵀ
        print(linalg.ormqr(a, np.array([1.0]), np.array([[1.0], [2.0]])))
        ```
        ```text
        [[-2.]
         [-1.]]
        ```
    """
    a, taus, c = jnp.asarray(a), jnp.asarray(taus), jnp.asarray(c)
    _matrices("ormqr", a, False)
    _matrices("ormqr", c, False)
    m = a.shape[-2]
    k = taus.shape[-1] if taus.ndim else -1
    if taus.ndim != a.ndim - 1 or k > min(a.shape[-2:]):
        raise ValueError(f"ormqr: taus must be (..., k) with k <= min(m, n) for a of shape "
                         f"{a.shape}, got {taus.shape}")
    if (c.shape[-2] if left else c.shape[-1]) != m:
        side = "rows" if left else "columns"
        raise ValueError(f"ormqr with left={left} expects c with {m} {side} (the rows of a), "
                         f"got a {a.shape} and c {c.shape}")
    dtype = jnp.result_type(a, taus, c)
    # Q = H_0 ... H_{k-1}; Qᴴ = H_{k-1}ᴴ ... H_0ᴴ, with H_iᴴ = I - conj(tau_i) v_i v_iᴴ.
    order = range(k) if left == transpose else reversed(range(k))
    out = c.astype(dtype)
    for i in order:
        v = _reflector_vector(a, i, dtype)
        t = taus[..., i, None, None]
        t = jnp.conj(t) if transpose else t
        if left:
            out = out - t * v * (jnp.conj(_mT(v)) @ out)
        else:
            out = out - t * (out @ v) * jnp.conj(_mT(v))
    return out
