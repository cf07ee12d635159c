"""Hypothesis strategies shared by the table-driven tests: shapes (0-d, broadcasting,
size-0), seeds, subsets and reduction axes. The values of arrays come from `domains.py`."""

from __future__ import annotations

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


seeds = st.integers(0, 2**32 - 1)


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
