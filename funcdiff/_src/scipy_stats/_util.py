"""Argument handling shared by the distributions."""

from __future__ import annotations

from funcdiff._src.numpy._util import Array, ArrayLike, promote_inexact


def promote(*args: ArrayLike) -> list[Array]:
    """The arguments as arrays of one inexact dtype (NumPy promotion, Python scalars weak)."""
    return promote_inexact(*args)


def standardize(x: Array, loc: Array, scale: Array) -> Array:
    """``(x - loc) / scale``."""
    return (x - loc) / scale
