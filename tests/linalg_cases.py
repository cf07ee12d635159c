"""Well-conditioned matrices for the linear-algebra records of `lax_table.py` and
`numpy_table.py`.

The generic tests draw arbitrary entries and, for `vmap`, stack *permutations* of them, so a
record cannot rely on the drawn matrix being positive definite or having separated
eigenvalues. Instead each record's function maps any matrix to one in its domain, with the
same formula in funcdiff (the function under test) and NumPy (the reference):

- `spd(x)`: ``x x^H + n I``, Hermitian positive definite;
- `dominant(x)`: ``x + (2 n + 1) I``, strictly diagonally dominant for entries in [-2, 2]
  (nonsingular, and LU needs no pivoting, so finite differences never cross a pivot change);
- `spread(x)`: ``x + diag(5 n, 10 n, ...)``, whose eigenvalues (symmetric part) or singular
  values are separated by more than the perturbation can close (Weyl's inequality).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from domains import DEFAULT
from hypothesis import strategies as st
from strategies import seeds

import funcdiff.numpy as jnp


def _xp(x: Any):
    return np if type(x) is np.ndarray else jnp  # (an Array is an ndarray too: funcdiff)


def _eye(x: Any, scale: Any = 1.0, k: int = 0) -> np.ndarray:
    """`scale` times the identity of the shape of the last two axes, in `x`'s dtype."""
    m, n = x.shape[-2:]
    return (np.eye(m, n, k) * np.asarray(scale)).astype(x.dtype)


def _mH(x: Any) -> Any:
    xp = _xp(x)
    return xp.conj(xp.swapaxes(x, -1, -2))


def spd(x: Any) -> Any:
    return _xp(x).matmul(x, _mH(x)) + _eye(x, x.shape[-1])


def dominant(x: Any) -> Any:
    return x + _eye(x, 2 * x.shape[-1] + 1)


def spread(x: Any) -> Any:
    m, n = x.shape[-2:]
    k = min(m, n)
    d = np.zeros((m, n))
    d[np.arange(k), np.arange(k)] = 5.0 * max(m, n) * np.arange(1, k + 1)
    return x + d.astype(x.dtype)


def hermitian(x: Any) -> Any:
    return (x + _mH(x)) * np.asarray(0.5, np.finfo(x.dtype).dtype)


def matrix_function(v: Any, w: Any, vh: Any) -> Any:
    """``v diag(sin w) vh``: a single array from a decomposition that does not depend on the
    signs (phases) chosen for the singular or eigen-vectors."""
    xp = _xp(v)
    return xp.matmul(v * xp.sin(w)[..., None, :].astype(v.dtype), vh)


@st.composite
def square(draw, dtype, max_n: int = 3, min_n: int = 1, batch: bool = True):
    n = draw(st.integers(min_n, max_n))
    lead = tuple(draw(st.lists(st.integers(1, 2), max_size=1))) if batch else ()
    return DEFAULT(lead + (n, n), dtype, seed=draw(seeds))


@st.composite
def rectangular(draw, dtype, tall: bool | None = None, batch: bool = True):
    m, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    if tall is True and m < n or tall is False and m > n:
        m, n = n, m
    lead = tuple(draw(st.lists(st.integers(1, 2), max_size=1))) if batch else ()
    return DEFAULT(lead + (m, n), dtype, seed=draw(seeds))
