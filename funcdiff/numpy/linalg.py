"""Linear algebra with `numpy.linalg`'s names, differentiable in forward and reverse mode and
batched over leading axes (see the how-to "Linear algebra and FFT")."""
from funcdiff._src.numpy.linear_algebra import cholesky as cholesky
from funcdiff._src.numpy.linear_algebra import cond as cond
from funcdiff._src.numpy.linear_algebra import cross as cross
from funcdiff._src.numpy.linear_algebra import det as det
from funcdiff._src.numpy.linear_algebra import diagonal as diagonal
from funcdiff._src.numpy.linear_algebra import eig as eig
from funcdiff._src.numpy.linear_algebra import eigh as eigh
from funcdiff._src.numpy.linear_algebra import eigvals as eigvals
from funcdiff._src.numpy.linear_algebra import eigvalsh as eigvalsh
from funcdiff._src.numpy.linear_algebra import inv as inv
from funcdiff._src.numpy.linear_algebra import lstsq as lstsq
from funcdiff._src.numpy.linear_algebra import matmul as matmul
from funcdiff._src.numpy.linear_algebra import matrix_norm as matrix_norm
from funcdiff._src.numpy.linear_algebra import matrix_power as matrix_power
from funcdiff._src.numpy.linear_algebra import matrix_rank as matrix_rank
from funcdiff._src.numpy.linear_algebra import matrix_transpose as matrix_transpose
from funcdiff._src.numpy.linear_algebra import multi_dot as multi_dot
from funcdiff._src.numpy.linear_algebra import norm as norm
from funcdiff._src.numpy.linear_algebra import outer as outer
from funcdiff._src.numpy.linear_algebra import pinv as pinv
from funcdiff._src.numpy.linear_algebra import qr as qr
from funcdiff._src.numpy.linear_algebra import slogdet as slogdet
from funcdiff._src.numpy.linear_algebra import solve as solve
from funcdiff._src.numpy.linear_algebra import svd as svd
from funcdiff._src.numpy.linear_algebra import svdvals as svdvals
from funcdiff._src.numpy.linear_algebra import tensordot as tensordot
from funcdiff._src.numpy.linear_algebra import tensorinv as tensorinv
from funcdiff._src.numpy.linear_algebra import tensorsolve as tensorsolve
from funcdiff._src.numpy.linear_algebra import trace as trace
from funcdiff._src.numpy.linear_algebra import vecdot as vecdot
from funcdiff._src.numpy.linear_algebra import vector_norm as vector_norm

__all__ = [
    "cholesky",
    "cond",
    "cross",
    "det",
    "diagonal",
    "eig",
    "eigh",
    "eigvals",
    "eigvalsh",
    "inv",
    "lstsq",
    "matmul",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "matrix_transpose",
    "multi_dot",
    "norm",
    "outer",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "svd",
    "svdvals",
    "tensordot",
    "tensorinv",
    "tensorsolve",
    "trace",
    "vecdot",
    "vector_norm",
]
