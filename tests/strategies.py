"""Hypothesis strategies shared by the table-driven tests: shapes (0-d, broadcasting,
size-0) and arrays drawn from a domain."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

MAX_DIM = 4


@st.composite
def shapes(draw, min_dims=0, max_dims=3, min_side=1, max_side=MAX_DIM, allow_empty=False):
    """A shape; with `allow_empty`, a side may be 0."""
    lo = 0 if allow_empty else min_side
    ndim = draw(st.integers(min_dims, max_dims))
    return tuple(draw(st.integers(lo, max_side)) for _ in range(ndim))


@st.composite
def broadcastable_shapes(draw, n=2, min_dims=0, max_dims=3, allow_empty=False):
    """`n` shapes that broadcast together under NumPy's rules: some operands drop leading
    dimensions or have size-1 sides."""
    base = draw(shapes(min_dims, max_dims, allow_empty=allow_empty))
    out = []
    for _ in range(n):
        drop = draw(st.integers(0, len(base)))
        shape = list(base[drop:])
        for i in range(len(shape)):
            if draw(st.booleans()) and draw(st.booleans()):
                shape[i] = 1
        out.append(tuple(shape))
    return out


def arrays(shape, dtype=np.float64, domain=(-2.0, 2.0), seed=None):
    """A deterministic array from a seed (hypothesis draws the seed and the shape)."""
    rng = np.random.default_rng(seed)
    lo, hi = domain
    if np.dtype(dtype).kind == "c":
        re = rng.uniform(lo, hi, size=shape)
        im = rng.uniform(lo, hi, size=shape)
        return (re + 1j * im).astype(dtype)
    if np.dtype(dtype).kind in "iu":
        return rng.integers(int(lo), int(hi) + 1, size=shape).astype(dtype)
    if np.dtype(dtype).kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    return rng.uniform(lo, hi, size=shape).astype(dtype)


seeds = st.integers(0, 2**32 - 1)
