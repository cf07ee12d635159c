"""Matrix factorisations as primitives, with `jax.lax.linalg`'s names and signatures.

Each works on stacks of matrices (leading axes are batch axes) and is differentiable in
forward and reverse mode (see the how-to "Linear algebra and FFT" for the conventions at
degenerate points)."""

from typing import Any as _Any

from funcdiff._src.lax import decompositions as _dec
from funcdiff._src.lax import spectral as _spec
from funcdiff._src.lax.decompositions import lu as lu
from funcdiff._src.lax.decompositions import triangular_solve as triangular_solve
from funcdiff._src.lax.schur import schur as schur
from funcdiff._src.lax.spectral import eigh as eigh
from funcdiff._src.lax.spectral import qr as qr
from funcdiff._src.lax.spectral import svd as svd
from funcdiff._src.lax.tridiagonal import tridiagonal_solve as tridiagonal_solve
from funcdiff._src.lax_linalg_extras import cholesky_update as cholesky_update
from funcdiff._src.lax_linalg_extras import hessenberg as hessenberg
from funcdiff._src.lax_linalg_extras import householder_product as householder_product
from funcdiff._src.lax_linalg_extras import lu_pivots_to_permutation as lu_pivots_to_permutation
from funcdiff._src.lax_linalg_extras import ormqr as ormqr
from funcdiff._src.lax_linalg_extras import symmetric_product as symmetric_product
from funcdiff._src.lax_linalg_extras import tridiagonal as tridiagonal
from funcdiff._src.lax_qdwh import qdwh as qdwh


def cholesky(x: _Any, symmetrize_input: bool = True) -> _Any:
    """The lower Cholesky factor of Hermitian positive-definite matrices, as
    `jax.lax.linalg.cholesky`: ``(x + x^H) / 2`` is factorised unless `symmetrize_input` is
    False (then the lower triangle is read); a matrix that is not positive definite gives
    NaNs.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.lax import linalg

        print(linalg.cholesky(np.array([[4.0, 2.0], [2.0, 5.0]])))
        ```
        ```text
        [[2. 0.]
         [1. 2.]]
        ```
    """
    return _dec.cholesky(x, symmetrize_input=symmetrize_input)


def eig(x: _Any, *, compute_left_eigenvectors: bool = False,
        compute_right_eigenvectors: bool = True) -> list[_Any]:
    """Eigenvalues and right eigenvectors of general square matrices, always complex, as
    `jax.lax.linalg.eig`: ``[w, v]`` or ``[w]``. Left eigenvectors are not supported; only
    the eigenvalues are differentiable (first order, as JAX)."""
    if compute_left_eigenvectors:
        raise NotImplementedError("eig: compute_left_eigenvectors=True is not supported; "
                                  "take the right eigenvectors of the conjugate transpose")
    return list(_spec.eig(x, compute_right_eigenvectors=compute_right_eigenvectors))


__all__ = ["cholesky", "cholesky_update", "eig", "eigh", "hessenberg", "householder_product",
           "lu", "lu_pivots_to_permutation", "ormqr", "qdwh", "qr", "schur", "svd",
           "symmetric_product", "triangular_solve", "tridiagonal", "tridiagonal_solve"]
