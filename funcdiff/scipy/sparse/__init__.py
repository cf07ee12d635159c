"""Sparse linear algebra with `scipy.sparse`'s names: `funcdiff.scipy.sparse.linalg`."""

from funcdiff.scipy.sparse import linalg as linalg
