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


# ---- value domains for the primitive table (tests/lax_table.py) -----------------------------
# Each takes ``(shape, dtype, ..., seed=...)`` like `arrays`, and handles every dtype kind, so a
# record's domain also serves its integer and boolean reference checks.


def _kind(dtype):
    return np.dtype(dtype).kind


def signed_arrays(shape, dtype=np.float64, domain=(0.25, 2.0), seed=None):
    """Values whose magnitude lies in `domain`, with random signs: away from zero (for abs,
    sign, division and negative powers). Complex values have both parts away from zero."""
    rng = np.random.default_rng(seed)
    lo, hi = domain
    kind = _kind(dtype)
    if kind == "b":
        return np.ones(shape, bool)
    if kind in "iu":
        mag = rng.integers(max(1, int(np.ceil(lo))), max(1, int(hi)) + 1, size=shape)
        sign = 1 if kind == "u" else rng.choice([-1, 1], size=shape)
        return (mag * sign).astype(dtype)

    def part():
        mag = rng.uniform(lo, hi, size=shape)
        return np.where(rng.integers(0, 2, size=shape) == 1, mag, -mag)

    if kind == "c":
        return (part() + 1j * part()).astype(dtype)
    return part().astype(dtype)


def away_from_grid_arrays(shape, dtype=np.float64, domain=(-2.5, 2.5), step=1.0, margin=0.15,
                          offset=0.0, seed=None):
    """Values in `domain` at least `margin` away from every point ``offset + k * step``: away
    from the jumps of floor/round and from the kinks and ties of max, min and clamp."""
    rng = np.random.default_rng(seed)
    kind = _kind(dtype)
    if kind in "biu":
        return arrays(shape, dtype, domain, seed)
    lo, hi = domain
    k_lo = int(np.floor((lo - offset) / step))
    k_hi = int(np.ceil((hi - offset) / step))

    def part():
        cell = rng.integers(k_lo, k_hi, size=shape)
        return offset + cell * step + rng.uniform(margin, step - margin, size=shape)

    if kind == "c":
        return (part() + 1j * part()).astype(dtype)
    return part().astype(dtype)


def distinct_arrays(shape, dtype=np.float64, domain=(-2.0, 2.0), seed=None):
    """Values with no ties, spread over `domain` (for max/min reductions and argmax): they
    differ pairwise by at least half of ``(hi - lo) / size``."""
    rng = np.random.default_rng(seed)
    kind = _kind(dtype)
    size = int(np.prod(shape, dtype=np.int64))
    if kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    order = rng.permutation(size).reshape(shape)
    if kind in "iu":
        return (order + (int(domain[0]) if kind == "i" else 0)).astype(dtype)
    lo, hi = domain
    width = (hi - lo) / max(size, 1)
    return (lo + (order + rng.uniform(0.0, 0.5, size=shape)) * width).astype(dtype)


def arrays_with_zeros(shape, dtype=np.float64, domain=(-2.0, 2.0), zero_fraction=0.3,
                      seed=None):
    """`arrays` with about `zero_fraction` of the entries exactly zero (products, division by
    a zero-safe rule)."""
    rng = np.random.default_rng(seed)
    x = arrays(shape, dtype, domain, seed)
    return np.where(rng.uniform(size=shape) < zero_fraction, np.zeros((), x.dtype), x)


def nonfinite_arrays(shape, dtype=np.float64, domain=(-2.0, 2.0), seed=None):
    """`arrays` where some float entries are inf, -inf or nan."""
    rng = np.random.default_rng(seed)
    x = arrays(shape, dtype, domain, seed)
    if _kind(dtype) not in "fc":
        return x
    special = np.array([np.inf, -np.inf, np.nan], x.dtype)
    pick = rng.integers(0, 6, size=shape)
    return np.where(pick < 3, special[np.minimum(pick, 2)], x)


@st.composite
def subsets(draw, n, min_size=0, max_size=None, ordered=False):
    """A tuple of distinct integers from ``range(n)``, sorted unless `ordered` (then in a drawn
    order)."""
    max_size = n if max_size is None else min(max_size, n)
    picked = draw(st.lists(st.integers(0, n - 1), min_size=min_size, max_size=max_size,
                           unique=True)) if n else []
    return tuple(picked) if ordered else tuple(sorted(picked))


@st.composite
def reduction_axes(draw, ndim, int_only=False, allow_none=True, allow_empty_tuple=True):
    """An `axis` argument for an array of rank `ndim`: None, an int, or a tuple of distinct
    axes (each possibly negative). With `int_only`, None or an int (argmax, cumsum)."""
    choices = ["none"] if allow_none else []
    if ndim:
        choices.append("int")
        if not int_only:
            choices.append("tuple")
    elif not int_only and allow_empty_tuple:
        choices.append("tuple")
    kind = draw(st.sampled_from(choices))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    axes = draw(st.lists(st.integers(0, max(ndim - 1, 0)), unique=True,
                         min_size=0 if allow_empty_tuple else 1, max_size=ndim))
    return tuple(a - ndim if draw(st.booleans()) else a for a in axes)
