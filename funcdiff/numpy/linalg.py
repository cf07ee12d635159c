"""Linear algebra of `funcdiff.numpy`."""

from funcdiff._src.numpy.linalg import norm as norm

__all__ = ["norm"]
