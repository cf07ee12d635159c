"""Direct-loop references for convolutions and window reductions: one output element at a
time, straight from the definitions, for the value checks of `lax_table.py` and
`test_convolution.py`. Slow on purpose (small shapes only); shares no code with funcdiff."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np


def spec_axes(specs: Sequence) -> tuple[tuple[int, ...], ...]:
    """(lhs, rhs, out) axis numbers as (batch/out-feature, feature/in-feature, spatial...),
    from int tuples or from strings like ("NHWC", "HWIO", "NHWC")."""
    if not isinstance(specs[0], str):
        return tuple(tuple(s) for s in specs)
    lhs, rhs, out = specs
    spatial = [c for c in rhs if c not in "OI"]
    return ((lhs.index("N"), lhs.index("C"), *[lhs.index(c) for c in spatial]),
            (rhs.index("O"), rhs.index("I"), *[rhs.index(c) for c in spatial]),
            (out.index("N"), out.index("C"), *[out.index(c) for c in spatial]))


def _read(x: np.ndarray, pos: Sequence[int], pads, dilation, fill):
    """x at position `pos` of its padded, dilated version (`fill` in padding and holes)."""
    index = []
    for p, (lo, _), d, n in zip(pos, pads, dilation, x.shape):
        q = p - lo
        if q < 0 or q % d or q // d >= n:
            return fill
        index.append(q // d)
    return x[tuple(index)]


def _out_size(n, pad, base, k, stride, wdil) -> int:
    padded = pad[0] + pad[1] + ((n - 1) * base + 1 if n else 0)
    span = (k - 1) * wdil + 1
    return 0 if padded < span else (padded - span) // stride + 1


def conv(lhs, rhs, *, window_strides, padding, lhs_dilation=None, rhs_dilation=None,
         dimension_numbers=None, feature_group_count=1, batch_group_count=1):
    """XLA's ConvGeneralDilated, by its definition. Batch groups split the batch with the
    group index major, as feature groups split the features."""
    lhs, rhs = np.asarray(lhs), np.asarray(rhs)
    nd = lhs.ndim
    ls, rs, os = spec_axes(dimension_numbers or (tuple(range(nd)),) * 3)
    x, w = np.transpose(lhs, ls), np.transpose(rhs, rs)
    n_sp = nd - 2
    lhs_dilation = lhs_dilation or (1,) * n_sp
    rhs_dilation = rhs_dilation or (1,) * n_sp
    n, c = x.shape[:2]
    o, i_size = w.shape[:2]
    groups = feature_group_count * batch_group_count
    out_sp = [_out_size(*a) for a in zip(x.shape[2:], padding, lhs_dilation, w.shape[2:],
                                          window_strides, rhs_dilation)]
    nb, og, cg = n // batch_group_count, o // groups, c // feature_group_count
    out = np.zeros((nb, o, *out_sp), np.result_type(lhs, rhs))
    for b, f, *pos in itertools.product(range(nb), range(o), *map(range, out_sp)):
        g = f // og
        acc = out.dtype.type(0)
        for taps in itertools.product(*map(range, w.shape[2:])):
            at = [p * s + t * d for p, t, s, d in zip(pos, taps, window_strides, rhs_dilation)]
            for i in range(i_size):
                src_n = g * nb + b if batch_group_count > 1 else b
                src_c = i if batch_group_count > 1 else g * cg + i
                v = _read(x[src_n, src_c], at, padding, lhs_dilation, 0)
                acc = acc + v * w[(f, i, *taps)]
        out[(b, f, *pos)] = acc
    return np.transpose(out, np.argsort(os))


_FILL = {"sum": lambda dt: np.zeros((), dt),
         "max": lambda dt: (np.asarray(False) if dt.kind == "b" else np.asarray(
             np.iinfo(dt).min if dt.kind in "iu" else -np.inf, dt)),
         "min": lambda dt: (np.asarray(True) if dt.kind == "b" else np.asarray(
             np.iinfo(dt).max if dt.kind in "iu" else np.inf, dt))}
_REDUCE = {"sum": np.sum, "max": np.max, "min": np.min}


def reduce_window(kind: str, x, *, window_dimensions, window_strides, padding,
                  base_dilation=None, window_dilation=None):
    """XLA's ReduceWindow with the identity of `kind` ("sum", "max", "min") as init value."""
    x = np.asarray(x)
    base_dilation = base_dilation or (1,) * x.ndim
    window_dilation = window_dilation or (1,) * x.ndim
    fill = _FILL[kind](x.dtype)
    out_shape = [_out_size(*a) for a in zip(x.shape, padding, base_dilation, window_dimensions,
                                             window_strides, window_dilation)]
    out = np.full(out_shape, fill, x.dtype)
    for pos in itertools.product(*map(range, out_shape)):
        values = [_read(x, [p * s + t * d for p, t, s, d in zip(pos, taps, window_strides,
                                                                window_dilation)],
                        padding, base_dilation, fill)
                  for taps in itertools.product(*map(range, window_dimensions))]
        out[pos] = _REDUCE[kind](np.array(values, x.dtype))
    return out
