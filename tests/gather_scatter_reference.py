"""NumPy references of `lax.gather` and `lax.scatter*` with JAX's dimension numbers: a loop
over the index vectors (shared by tests/test_gather_scatter.py and the generic table)."""

from __future__ import annotations

import itertools

import numpy as np


def _place(b, rank, window_positions):
    """An index into a result of rank `rank`: the batch index `b` on the positions not in
    `window_positions`, full slices on those."""
    it = iter(b)
    return tuple(slice(None) if p in window_positions else next(it) for p in range(rank))


def gather_reference(x, idx, dn, sizes, mode):
    batch_shape = idx.shape[:-1]
    kept = [d for d in range(x.ndim) if d not in dn.collapsed_slice_dims]
    rank = len(batch_shape) + len(kept)
    result = np.empty(
        tuple(
            sizes[kept[sorted(dn.offset_dims).index(p)]]
            if p in dn.offset_dims
            else batch_shape[[q for q in range(rank) if q not in dn.offset_dims].index(p)]
            for p in range(rank)
        )
    )
    for b in itertools.product(*map(range, batch_shape)):
        starts = [0] * x.ndim
        for k, d in enumerate(dn.start_index_map):
            starts[d] = int(idx[b][k])
        fits = all(0 <= s <= x.shape[d] - sizes[d] for d, s in enumerate(starts))
        starts = [min(max(s, 0), x.shape[d] - sizes[d]) for d, s in enumerate(starts)]
        piece = x[tuple(slice(s, s + n) for s, n in zip(starts, sizes))]
        piece = piece.reshape([sizes[d] for d in kept])
        if mode == "fill" and not fits:
            piece = np.full_like(piece, np.nan)
        result[_place(b, rank, set(dn.offset_dims))] = piece
    return result


def scatter_reference(kind, x, idx, u, dn, mode):
    out = x.copy()
    window_dims = sorted(dn.update_window_dims)
    scatter_axes = [a for a in range(u.ndim) if a not in window_dims]
    operand_window = [d for d in range(x.ndim) if d not in dn.inserted_window_dims]
    sizes = [1] * x.ndim
    for d, a in zip(operand_window, window_dims):
        sizes[d] = u.shape[a]
    for b in itertools.product(*[range(u.shape[a]) for a in scatter_axes]):
        starts = [0] * x.ndim
        for k, d in enumerate(dn.scatter_dims_to_operand_dims):
            starts[d] = int(idx[b][k])
        fits = all(0 <= s <= x.shape[d] - sizes[d] for d, s in enumerate(starts))
        if mode != "clip" and not fits:
            continue
        starts = [min(max(s, 0), x.shape[d] - sizes[d]) for d, s in enumerate(starts)]
        window = u[_place(b, u.ndim, set(window_dims))].reshape(sizes)
        where = tuple(slice(s, s + n) for s, n in zip(starts, sizes))
        if kind == "scatter":
            out[where] = window
        elif kind == "scatter_add":
            out[where] += window
        elif kind == "scatter_mul":
            out[where] *= window
        elif kind == "scatter_min":
            out[where] = np.minimum(out[where], window)
        elif kind == "scatter_max":
            out[where] = np.maximum(out[where], window)
    return out
