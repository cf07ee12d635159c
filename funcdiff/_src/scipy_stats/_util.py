"""Argument handling shared by the distributions."""

from __future__ import annotations

from funcdiff._src.array import as_array
from funcdiff._src.numpy._util import Array, ArrayLike, promote_inexact


def promote(*args: ArrayLike) -> list[Array]:
    """The arguments as arrays of one inexact dtype (NumPy promotion, Python scalars weak),
    as read-only `Array` views: the distributions' operators then compute with funcdiff, so
    that their results are Arrays too (a NumPy 0-d array would make NumPy scalars)."""
    return [as_array(a) for a in promote_inexact(*args)]


def standardize(x: Array, loc: Array, scale: Array) -> Array:
    """``(x - loc) / scale``."""
    return (x - loc) / scale
