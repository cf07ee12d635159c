"""Linear algebra with `scipy.linalg`'s names, differentiable in forward and reverse mode."""

from funcdiff._src.scipy_linalg import block_diag as block_diag
from funcdiff._src.scipy_linalg import cho_factor as cho_factor
from funcdiff._src.scipy_linalg import cho_solve as cho_solve
from funcdiff._src.scipy_linalg import cholesky as cholesky
from funcdiff._src.scipy_linalg import circulant as circulant
from funcdiff._src.scipy_linalg import det as det
from funcdiff._src.scipy_linalg import eigh as eigh
from funcdiff._src.scipy_linalg import expm as expm
from funcdiff._src.scipy_linalg import hankel as hankel
from funcdiff._src.scipy_linalg import inv as inv
from funcdiff._src.scipy_linalg import lu as lu
from funcdiff._src.scipy_linalg import lu_factor as lu_factor
from funcdiff._src.scipy_linalg import lu_solve as lu_solve
from funcdiff._src.scipy_linalg import qr as qr
from funcdiff._src.scipy_linalg import solve as solve
from funcdiff._src.scipy_linalg import solve_triangular as solve_triangular
from funcdiff._src.scipy_linalg import svd as svd
from funcdiff._src.scipy_linalg import toeplitz as toeplitz
from funcdiff._src.scipy_linalg_decomp import eigh_tridiagonal as eigh_tridiagonal
from funcdiff._src.scipy_linalg_decomp import expm_frechet as expm_frechet
from funcdiff._src.scipy_linalg_decomp import funm as funm
from funcdiff._src.scipy_linalg_decomp import hessenberg as hessenberg
from funcdiff._src.scipy_linalg_decomp import polar as polar
from funcdiff._src.scipy_linalg_decomp import qr_multiply as qr_multiply
from funcdiff._src.scipy_linalg_decomp import rsf2csf as rsf2csf
from funcdiff._src.scipy_linalg_decomp import schur as schur
from funcdiff._src.scipy_linalg_decomp import solve_sylvester as solve_sylvester
from funcdiff._src.scipy_linalg_decomp import sqrtm as sqrtm
from funcdiff._src.scipy_linalg_special import companion as companion
from funcdiff._src.scipy_linalg_special import convolution_matrix as convolution_matrix
from funcdiff._src.scipy_linalg_special import dft as dft
from funcdiff._src.scipy_linalg_special import fiedler as fiedler
from funcdiff._src.scipy_linalg_special import fiedler_companion as fiedler_companion
from funcdiff._src.scipy_linalg_special import hadamard as hadamard
from funcdiff._src.scipy_linalg_special import helmert as helmert
from funcdiff._src.scipy_linalg_special import hilbert as hilbert
from funcdiff._src.scipy_linalg_special import invhilbert as invhilbert
from funcdiff._src.scipy_linalg_special import invpascal as invpascal
from funcdiff._src.scipy_linalg_special import leslie as leslie
from funcdiff._src.scipy_linalg_special import pascal as pascal

__all__ = ["block_diag", "cho_factor", "cho_solve", "cholesky", "circulant", "companion",
           "convolution_matrix", "det", "dft", "eigh", "eigh_tridiagonal", "expm", "expm_frechet",
           "fiedler", "fiedler_companion", "funm", "hadamard", "hankel", "helmert", "hessenberg",
           "hilbert", "inv", "invhilbert", "invpascal", "leslie", "lu", "lu_factor", "lu_solve",
           "pascal", "polar", "qr", "qr_multiply", "rsf2csf", "schur", "solve", "solve_sylvester",
           "solve_triangular", "sqrtm", "svd", "toeplitz"]
