"""Iterative solvers of ``A x = b`` with `scipy.sparse.linalg`'s names, for matrices and
matrix-free linear operators, differentiated implicitly."""

from funcdiff._src.scipy_sparse_linalg import bicgstab as bicgstab
from funcdiff._src.scipy_sparse_linalg import cg as cg
from funcdiff._src.scipy_sparse_linalg import gmres as gmres

__all__ = ["bicgstab", "cg", "gmres"]
