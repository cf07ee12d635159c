# Over 600 lines: one primitive; its JVP, two transposes and batching are long.
"""Convolutions: `conv_general_dilated`, the one primitive behind `conv`,
`conv_with_general_padding`, `conv_transpose` and `funcdiff.numpy.convolve`, with JAX's shape
helpers (`ConvDimensionNumbers`, `conv_dimension_numbers`, `padtype_to_pads`,
`conv_general_shape_tuple`).

Inside the primitive every operand is brought to the canonical layout: lhs ``(N, C, *spatial)``,
rhs ``(O, I, *spatial)``, output ``(N, O, *spatial)``; `dimension_numbers` holds the axis of
each of these in the user's layout. The implementation dilates and pads the lhs, takes strided
windows of it (a view, `sliding_window_view`) and contracts them with the kernel in one
(batched) matrix product per feature group: the classic im2col convolution.

The convolution is bilinear. Its transpose in the lhs is a convolution of the cotangent with
the spatially reversed kernel (the strides become lhs dilation, the lhs dilation becomes
strides); its transpose in the rhs is a convolution of the lhs with the cotangent (the strides
become kernel dilation). Feature groups and batch groups exchange roles in the rhs transpose,
which is why the primitive supports both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from funcdiff._src import core, dtypes
from funcdiff._src.core import ShapedArray
from funcdiff._src.errors import PrimitiveError
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters.ad import is_undefined_primal
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax._define import define_primitive
from funcdiff._src.lax.structural import moveaxis

Array = Any
Padding = str | Sequence[tuple[int, int]]


class ConvDimensionNumbers(NamedTuple):
    """Where the batch, feature and spatial axes of a convolution's operands are.

    `lhs_spec` lists the lhs axes as (batch, feature, spatial...), `rhs_spec` the kernel axes
    as (output feature, input feature, spatial...), `out_spec` the output axes as (batch,
    feature, spatial...). The spatial axes are listed in the same order in all three.
    """

    lhs_spec: tuple[int, ...]
    rhs_spec: tuple[int, ...]
    out_spec: tuple[int, ...]


# ---- shape helpers --------------------------------------------------------------------------


def _spec_from_string(spec: str, pair: str, order: str, name: str) -> tuple[int, ...]:
    """The axis numbers of a string spec such as ``"NHWC"``: the two axes of `pair`
    (``"NC"`` or ``"OI"``), then the spatial ones in the order of `order` (the rhs spec)."""
    for c in pair:
        if spec.count(c) != 1:
            raise ValueError(
                f"conv dimension_numbers: the {name} spec {spec!r} must contain '{c}' exactly once"
            )
    spatial = sorted(
        (i for i, c in enumerate(spec) if c not in pair), key=lambda i: order.index(spec[i])
    )
    return (spec.index(pair[0]), spec.index(pair[1]), *spatial)


def conv_dimension_numbers(
    lhs_shape: Sequence[int], rhs_shape: Sequence[int], dimension_numbers: Any
) -> ConvDimensionNumbers:
    """`dimension_numbers` of a convolution as a `ConvDimensionNumbers`.

    **Arguments:**

    - `lhs_shape`, `rhs_shape`: the shapes of the input and of the kernel (same rank).
    - `dimension_numbers`: None (the layout ``NC...``, ``OI...``, ``NC...``), a
      `ConvDimensionNumbers`, or three strings such as ``("NHWC", "HWIO", "NHWC")``: ``N``
      batch, ``C`` feature, ``O``/``I`` the kernel's output/input features, any other letter
      a spatial axis (matched by letter across the three strings).

    !!! Example
        ```python
        from funcdiff import lax
        print(lax.conv_dimension_numbers((8, 32, 32, 3), (3, 3, 3, 16),
                                         ("NHWC", "HWIO", "NHWC")))
        ```
    """
    nd = len(lhs_shape)
    if len(rhs_shape) != nd:
        raise ValueError(
            f"conv: the lhs (shape {tuple(lhs_shape)}) and rhs (shape "
            f"{tuple(rhs_shape)}) must have the same rank"
        )
    if dimension_numbers is None:
        iota = tuple(range(nd))
        return ConvDimensionNumbers(iota, iota, iota)
    if len(dimension_numbers) != 3:
        raise ValueError(
            f"conv dimension_numbers must have three entries (lhs, rhs, out), "
            f"got {dimension_numbers!r}"
        )
    lhs, rhs, out = dimension_numbers
    if all(isinstance(s, str) for s in (lhs, rhs, out)):
        if not len(lhs) == len(rhs) == len(out) == nd:
            raise ValueError(
                f"conv dimension_numbers {dimension_numbers!r} must each have "
                f"{nd} letters, the rank of the operands"
            )
        spatial = [set(lhs) - set("NC"), set(rhs) - set("OI"), set(out) - set("NC")]
        if not spatial[0] == spatial[1] == spatial[2] or any(
            len(set(s)) != nd for s in (lhs, rhs, out)
        ):
            raise ValueError(
                f"conv dimension_numbers {dimension_numbers!r}: the spatial "
                "letters must be the same, each once, in all three specs"
            )
        return ConvDimensionNumbers(
            _spec_from_string(lhs, "NC", rhs, "lhs"),
            _spec_from_string(rhs, "OI", rhs, "rhs"),
            _spec_from_string(out, "NC", rhs, "out"),
        )
    dn = ConvDimensionNumbers(*(tuple(int(d) for d in s) for s in (lhs, rhs, out)))
    for s in dn:
        if sorted(s) != list(range(nd)):
            raise ValueError(
                f"conv dimension_numbers {dimension_numbers!r}: each spec must "
                f"be a permutation of range({nd})"
            )
    return dn


def padtype_to_pads(
    in_shape: Sequence[int],
    window_shape: Sequence[int],
    window_strides: Sequence[int],
    padding: str,
) -> list[tuple[int, int]]:
    """The explicit ``(low, high)`` padding of each spatial axis for a padding string.

    ``"VALID"`` pads nothing; ``"SAME"`` pads so that the output has
    ``ceil(in / stride)`` elements, the larger half of an odd total at the end;
    ``"SAME_LOWER"`` puts the larger half at the start.

    !!! Example
        ```python
        from funcdiff import lax
        print(lax.padtype_to_pads((7, 8), (3, 2), (2, 1), "SAME"))
        ```
    """
    if not isinstance(padding, str):
        raise TypeError(
            f"padtype_to_pads: padding must be 'SAME', 'SAME_LOWER' or 'VALID', got {padding!r}"
        )
    kind = padding.upper()
    if kind == "VALID":
        return [(0, 0)] * len(in_shape)
    if kind not in ("SAME", "SAME_LOWER"):
        raise ValueError(
            f"unknown padding {padding!r}: use 'SAME', 'SAME_LOWER', 'VALID' or "
            "a sequence of (low, high) pairs"
        )
    pads = []
    for n, w, s in zip(in_shape, window_shape, window_strides, strict=True):
        out = -(-n // s)
        total = max((out - 1) * s + w - n, 0)
        lo = total // 2 if kind == "SAME" else total - total // 2
        pads.append((lo, total - lo))
    return pads


def _dilated(n: int, d: int) -> int:
    return 0 if n == 0 else (n - 1) * d + 1


def _window_out_size(
    n: int, pad: tuple[int, int], base_dilation: int, window: int, stride: int, window_dilation: int
) -> int:
    padded = pad[0] + pad[1] + _dilated(n, base_dilation)
    if n < 0:  # a placeholder size (stax's -1 batch): plain arithmetic, as JAX
        return (padded - _dilated(window, window_dilation)) // stride + 1
    if padded < 0:
        raise ValueError(f"padding {pad} removes more than the {n} elements of an axis")
    span = _dilated(window, window_dilation)
    return 0 if padded < span else (padded - span) // stride + 1


def _explicit_pads(
    padding: Padding,
    in_shape: Sequence[int],
    window_shape: Sequence[int],
    strides: Sequence[int],
    what: str,
) -> tuple[tuple[int, int], ...]:
    if isinstance(padding, str):
        return tuple(padtype_to_pads(in_shape, window_shape, strides, padding))
    pads = tuple((int(lo), int(hi)) for lo, hi in padding)
    if len(pads) != len(in_shape):
        raise ValueError(
            f"{what}: padding needs one (low, high) pair per spatial axis "
            f"({len(in_shape)}), got {len(pads)}"
        )
    return pads


def _ones_or(values: Sequence[int] | None, n: int, name: str, what: str) -> tuple[int, ...]:
    if values is None:
        return (1,) * n
    out = tuple(int(v) for v in values)
    if len(out) != n or any(v < 1 for v in out):
        raise ValueError(
            f"{what}: {name} must have {n} positive entries (one per spatial "
            f"axis), got {tuple(values)}"
        )
    return out


def conv_shape_tuple(
    lhs_shape: Sequence[int],
    rhs_shape: Sequence[int],
    strides: Sequence[int],
    pads: Padding,
    batch_group_count: int = 1,
) -> tuple[int, ...]:
    """The output shape of a convolution in the layout ``NC...`` / ``OI...`` / ``NC...``.

    !!! Example
        ```python
        from funcdiff import lax
        print(lax.conv_shape_tuple((2, 3, 9, 9), (8, 3, 3, 3), (2, 2), "SAME"))
        ```
    """
    n_sp = len(lhs_shape) - 2
    strides = _ones_or(strides, n_sp, "window_strides", "conv_shape_tuple")
    pads = _explicit_pads(pads, lhs_shape[2:], rhs_shape[2:], strides, "conv_shape_tuple")
    spatial = [
        _window_out_size(n, p, 1, k, s, 1)
        for n, p, k, s in zip(lhs_shape[2:], pads, rhs_shape[2:], strides)
    ]
    return (lhs_shape[0] // batch_group_count, rhs_shape[0], *spatial)


def conv_general_shape_tuple(
    lhs_shape: Sequence[int],
    rhs_shape: Sequence[int],
    window_strides: Sequence[int],
    padding: Padding,
    dimension_numbers: Any,
) -> tuple[int, ...]:
    """The output shape of `conv_general_dilated` without dilation, in the layout of
    `dimension_numbers`.

    !!! Example
        ```python
        from funcdiff import lax
        print(lax.conv_general_shape_tuple((8, 32, 32, 3), (3, 3, 3, 16), (2, 2), "SAME",
                                           ("NHWC", "HWIO", "NHWC")))
        ```
    """
    dn = conv_dimension_numbers(lhs_shape, rhs_shape, dimension_numbers)
    lhs_t = tuple(lhs_shape[d] for d in dn.lhs_spec)
    rhs_t = tuple(rhs_shape[d] for d in dn.rhs_spec)
    out_t = conv_shape_tuple(lhs_t, rhs_t, window_strides, padding)
    return tuple(out_t[i] for i in np.argsort(dn.out_spec))


# ---- the primitive --------------------------------------------------------------------------


def _canonical(shape: Sequence[int], spec: Sequence[int]) -> tuple[int, ...]:
    return tuple(shape[d] for d in spec)


def _conv_out_canonical(
    lhs_c, rhs_c, *, window_strides, padding, lhs_dilation, rhs_dilation, batch_group_count
):
    spatial = tuple(
        _window_out_size(n, p, ld, k, s, rd)
        for n, p, ld, k, s, rd in zip(
            lhs_c[2:], padding, lhs_dilation, rhs_c[2:], window_strides, rhs_dilation
        )
    )
    return (lhs_c[0] // batch_group_count, rhs_c[0], *spatial)


def windows(
    x: np.ndarray, window: Sequence[int], strides: Sequence[int], dilation: Sequence[int]
) -> np.ndarray:
    """A view of the windows along the last ``len(window)`` axes of `x`: shape
    ``(*lead, *out_positions, *window)``. Needs every axis to hold at least one window."""
    n = len(window)
    spans = [_dilated(k, d) for k, d in zip(window, dilation)]
    view = np.lib.stride_tricks.sliding_window_view(x, spans, axis=tuple(range(x.ndim - n, x.ndim)))
    step = tuple(np.s_[::s] for s in strides) + tuple(np.s_[::d] for d in dilation)
    return view[(Ellipsis, *step)]


def _conv_impl(
    lhs,
    rhs,
    *,
    window_strides,
    padding,
    lhs_dilation,
    rhs_dilation,
    dimension_numbers,
    feature_group_count,
    batch_group_count,
):
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    dtype = np.result_type(lhs, rhs)
    x, w = np.asarray(lhs, dtype), np.transpose(np.asarray(rhs, dtype), rhs_spec)
    lhs_c = _canonical(x.shape, lhs_spec)
    out_c = _conv_out_canonical(
        lhs_c,
        w.shape,
        window_strides=window_strides,
        padding=padding,
        lhs_dilation=lhs_dilation,
        rhs_dilation=rhs_dilation,
        batch_group_count=batch_group_count,
    )
    inverse = tuple(np.argsort(out_spec).tolist())
    if math.prod(out_c) == 0 or math.prod(w.shape[1:]) == 0:
        return np.zeros(out_c, dtype).transpose(inverse)
    # Pad and dilate in the caller's layout (one copy, in memory order), then view it as
    # (N, C, *spatial).
    config = [(0, 0, 0)] * x.ndim
    for axis, (lo, hi), d in zip(lhs_spec[2:], padding, lhs_dilation):
        config[axis] = (lo, hi, d - 1)
    if any(c != (0, 0, 0) for c in config):
        x = sh.pad_p.impl(x, np.zeros((), dtype), padding_config=tuple(config))
    x = x.transpose(lhs_spec)
    win = windows(x, w.shape[2:], window_strides, rhs_dilation)  # (N, C, *P, *K)
    n_sp = x.ndim - 2
    p_axes = tuple(range(3, 3 + n_sp))
    k_axes = tuple(range(3 + n_sp, 3 + 2 * n_sp))
    groups = feature_group_count * batch_group_count
    n, c = x.shape[:2]
    o = w.shape[0]
    # The columns (G, M, *P, *K, C/G): features innermost, as they are in channels-last data.
    if batch_group_count > 1:  # (G, N/G, C, ...): groups of the batch, the group major
        win = win.reshape(groups, n // groups, *win.shape[1:])
        cols = win.transpose(0, 1, *p_axes, *k_axes, 2)
    else:  # (N, G, C/G, ...) -> (G, N, ...): groups of the features
        win = win.reshape(n, groups, c // groups, *win.shape[2:])
        cols = win.transpose(1, 0, *p_axes, *k_axes, 2)
    m, positions = cols.shape[1], cols.shape[2 : 2 + n_sp]
    cols = cols.reshape(groups, m * math.prod(positions), -1)
    kernel = w.reshape(groups, o // groups, *w.shape[1:])
    kernel = kernel.transpose(0, *range(3, 3 + n_sp), 2, 1).reshape(groups, -1, o // groups)
    out = np.matmul(cols, kernel)  # (G, M * P, O/G)
    out = out.reshape(groups, m, *positions, o // groups)
    if groups > 1:
        out = out.transpose(1, *range(2, 2 + n_sp), 0, n_sp + 2)
    out = out.reshape(m, *positions, o)
    return out.transpose(0, n_sp + 1, *range(1, n_sp + 1)).transpose(inverse)


def _conv_aval(
    lhs: ShapedArray,
    rhs: ShapedArray,
    *,
    window_strides,
    padding,
    lhs_dilation,
    rhs_dilation,
    dimension_numbers,
    feature_group_count,
    batch_group_count,
) -> ShapedArray:
    if lhs.ndim != rhs.ndim or lhs.ndim < 2:
        raise PrimitiveError(
            f"the lhs {lhs.shape} and rhs {rhs.shape} need the same rank, at "
            "least 2 (batch and feature axes)"
        )
    for spec in dimension_numbers:
        if sorted(spec) != list(range(lhs.ndim)):
            raise PrimitiveError(
                f"dimension_numbers {dimension_numbers} are not permutations of range({lhs.ndim})"
            )
    n_sp = lhs.ndim - 2
    for name, value in (
        ("window_strides", window_strides),
        ("padding", padding),
        ("lhs_dilation", lhs_dilation),
        ("rhs_dilation", rhs_dilation),
    ):
        if len(value) != n_sp:
            raise PrimitiveError(f"{name} {value} needs {n_sp} entries, one per spatial axis")
    lhs_c = _canonical(lhs.shape, dimension_numbers.lhs_spec)
    rhs_c = _canonical(rhs.shape, dimension_numbers.rhs_spec)
    fgc, bgc = feature_group_count, batch_group_count
    if fgc < 1 or bgc < 1 or (fgc > 1 and bgc > 1):
        raise PrimitiveError(
            f"feature_group_count={fgc} and batch_group_count={bgc}: both "
            "must be positive, and at most one above 1"
        )
    if lhs_c[1] != rhs_c[1] * fgc:
        raise PrimitiveError(
            f"the lhs has {lhs_c[1]} features (shape {lhs.shape}) but the kernel {rhs.shape} "
            f"expects {rhs_c[1]} input features x feature_group_count={fgc}"
        )
    if rhs_c[0] % (fgc * bgc):
        raise PrimitiveError(
            f"the kernel's {rhs_c[0]} output features are not divisible by "
            f"the group count {fgc * bgc}"
        )
    if lhs_c[0] % bgc:
        raise PrimitiveError(
            f"the lhs batch size {lhs_c[0]} is not divisible by batch_group_count={bgc}"
        )
    if any(k < 1 for k in rhs_c[2:]):
        raise PrimitiveError(f"the kernel {rhs.shape} has an empty spatial axis")
    if lhs.dtype.kind not in "iufc" or rhs.dtype.kind not in "iufc":
        raise PrimitiveError(
            f"conv_general_dilated of {lhs.dtype} and {rhs.dtype}: needs numeric operands"
        )
    try:
        out_c = _conv_out_canonical(
            lhs_c,
            rhs_c,
            window_strides=window_strides,
            padding=padding,
            lhs_dilation=lhs_dilation,
            rhs_dilation=rhs_dilation,
            batch_group_count=bgc,
        )
    except ValueError as e:
        raise PrimitiveError(f"{e} (lhs {lhs.shape})") from None
    shape = tuple(out_c[i] for i in np.argsort(dimension_numbers.out_spec))
    dtype, weak = dtypes.result_type((lhs.dtype, lhs.weak_type), (rhs.dtype, rhs.weak_type))
    return ShapedArray(shape, dtype, weak)


def _split_axis(x: Array, axis: int, groups: int) -> Array:
    """`x` with `axis` split in two, ``(groups, size // groups)``, the group axis first."""
    shape = list(core.get_aval(x).shape)
    shape[axis : axis + 1] = [groups, shape[axis] // groups]
    return sh.reshape(x, tuple(shape))


def _merge_axis(x: Array, src: int, dst: int) -> Array:
    """`x` with axis `src` merged into axis `dst` as its major part (one axis fewer)."""
    shape = list(core.get_aval(x).shape)
    perm = [d for d in range(len(shape)) if d != src]
    perm.insert(perm.index(dst), src)
    if perm != sorted(perm):
        x = sh.transpose(x, tuple(perm))
    new_shape = [shape[d] for d in range(len(shape)) if d != src]
    new_shape[dst - (src < dst)] *= shape[src]
    return sh.reshape(x, tuple(new_shape))


def _move_groups(x: Array, src: int, dst: int, groups: int) -> Array:
    """Split `groups` out of axis `src` (major) and merge them into axis `dst` (major)."""
    return _merge_axis(_split_axis(x, src, groups), src, dst + (dst > src))


def _zeros(aval: ShapedArray) -> Array:
    return sh.broadcast_in_dim(np.zeros((), aval.dtype), aval.shape, ())


def _cast(x: Array, dtype: np.dtype) -> Array:
    return x if core.get_aval(x).dtype == dtype else ew.convert_element_type(x, dtype)


def _swap(spec: Sequence[int]) -> tuple[int, ...]:
    return (spec[1], spec[0], *spec[2:])


def _conv_transpose_rule(
    ct,
    lhs,
    rhs,
    *,
    window_strides,
    padding,
    lhs_dilation,
    rhs_dilation,
    dimension_numbers,
    feature_group_count,
    batch_group_count,
):
    if is_undefined_primal(lhs) and is_undefined_primal(rhs):
        raise NotImplementedError(
            "conv_general_dilated is bilinear, not linear in both operands at once"
        )
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    lhs_aval = lhs.aval if is_undefined_primal(lhs) else core.get_aval(lhs)
    rhs_aval = rhs.aval if is_undefined_primal(rhs) else core.get_aval(rhs)
    ct_aval = core.get_aval(ct)
    target = lhs_aval if is_undefined_primal(lhs) else rhs_aval
    if ct_aval.size == 0:
        res = _zeros(target)
        return [res, None] if is_undefined_primal(lhs) else [None, res]
    lhs_sp = _canonical(lhs_aval.shape, lhs_spec)[2:]
    rhs_sp = _canonical(rhs_aval.shape, rhs_spec)[2:]
    out_sp = _canonical(ct_aval.shape, out_spec)[2:]
    geometry = list(
        zip(lhs_sp, rhs_sp, out_sp, window_strides, padding, lhs_dilation, rhs_dilation)
    )
    if is_undefined_primal(lhs):
        # d lhs: the cotangent, dilated by the strides, convolved with the reversed kernel.
        pads = []
        for n, k, p, s, (lo, _), ld, rd in geometry:
            before = _dilated(k, rd) - 1 - lo
            pads.append((before, _dilated(n, ld) + _dilated(k, rd) - 1 - _dilated(p, s) - before))
        groups = max(feature_group_count, batch_group_count)
        kernel = rhs
        if groups > 1:
            kernel = _move_groups(kernel, rhs_spec[0], rhs_spec[1], groups)
        kernel = sh.rev(kernel, tuple(rhs_spec[2:]))
        dn = ConvDimensionNumbers(out_spec, _swap(rhs_spec), lhs_spec)
        res = conv_general_dilated_p.bind(
            ct,
            kernel,
            window_strides=tuple(lhs_dilation),
            padding=tuple(pads),
            lhs_dilation=tuple(window_strides),
            rhs_dilation=tuple(rhs_dilation),
            dimension_numbers=dn,
            feature_group_count=groups,
            batch_group_count=1,
        )
        if batch_group_count > 1:
            res = _move_groups(res, lhs_spec[1], lhs_spec[0], batch_group_count)
        return [_cast(res, lhs_aval.dtype), None]
    # d rhs: the lhs convolved with the cotangent (the strides become its dilation).
    pads = tuple(
        (lo, _dilated(k, rd) - 1 + _dilated(p, s) - _dilated(n, ld) - lo)
        for n, k, p, s, (lo, _), ld, rd in geometry
    )
    dn = ConvDimensionNumbers(_swap(lhs_spec), _swap(out_spec), _swap(rhs_spec))
    res = conv_general_dilated_p.bind(
        lhs,
        ct,
        window_strides=tuple(rhs_dilation),
        padding=pads,
        lhs_dilation=tuple(lhs_dilation),
        rhs_dilation=tuple(window_strides),
        dimension_numbers=dn,
        feature_group_count=batch_group_count,
        batch_group_count=feature_group_count,
    )
    return [None, _cast(res, rhs_aval.dtype)]


def _conv_batch(axis_size, vals, dims, **params):
    """vmap: fold the mapped axis into the lhs batch (only the lhs mapped), into the kernel's
    output features (only the kernel mapped), or into the feature or batch groups (both)."""
    (lhs, rhs), (bl, br) = vals, dims
    lhs_spec, rhs_spec, out_spec = params["dimension_numbers"]
    fgc, bgc = params["feature_group_count"], params["batch_group_count"]

    def shifted(spec):  # the spec once a new axis 0 is in front
        return tuple(d + 1 for d in spec)

    if bl is not None and br is not None:
        lhs, rhs = moveaxis(lhs, bl, 0), moveaxis(rhs, br, 0)
        ls, rs = shifted(lhs_spec), shifted(rhs_spec)
        lhs_axis = ls[0] if bgc > 1 else ls[1]
        lhs = _merge_axis(lhs, 0, lhs_axis)
        rhs = _merge_axis(rhs, 0, rs[0])
        new = dict(params)
        if bgc > 1:
            new["batch_group_count"] = bgc * axis_size
        else:
            new["feature_group_count"] = fgc * axis_size
        out = conv_general_dilated_p.bind(lhs, rhs, **new)
        out = _split_axis(out, out_spec[1], axis_size)
        return moveaxis(out, out_spec[1], 0), 0
    if bl is not None:
        lhs = moveaxis(lhs, bl, 0)
        ls = shifted(lhs_spec)
        # The batch goes inside the batch groups: (G, axis_size, N/G) -> one axis.
        lhs = _split_axis(lhs, ls[0], bgc)
        lhs = _merge_axis(lhs, 0, ls[0] + 1)
        lhs = _merge_axis(lhs, ls[0] - 1, ls[0])
        out = conv_general_dilated_p.bind(lhs, rhs, **params)
        return moveaxis(_split_axis(out, out_spec[0], axis_size), out_spec[0], 0), 0
    rhs = moveaxis(rhs, br, 0)
    rs = shifted(rhs_spec)
    groups = fgc * bgc
    rhs = _split_axis(rhs, rs[0], groups)
    rhs = _merge_axis(rhs, 0, rs[0] + 1)
    rhs = _merge_axis(rhs, rs[0] - 1, rs[0])
    out = conv_general_dilated_p.bind(lhs, rhs, **params)
    # The features are (G, axis_size, O/G): move the batch to the front, the groups back in.
    f = out_spec[1]
    out = _split_axis(_split_axis(out, f, groups), f + 1, axis_size)
    out = moveaxis(out, f + 1, 0)
    return _merge_axis(out, f + 1, f + 2), 0


def _conv_cost(avals_in, avals_out, *, dimension_numbers, **params):
    # A multiply and an add per kernel tap of each output element.
    rhs = avals_in[1]
    taps = math.prod(rhs.shape[d] for d in dimension_numbers.rhs_spec[1:])
    moved = cost_mod.io_bytes(avals_in, avals_out)
    return cost_mod.Cost(2 * avals_out[0].size * taps, 0, moved.bytes_read, moved.bytes_written)


def _conv_jvp_lhs(g, ans, lhs, rhs, **params):
    return conv_general_dilated_p.bind(g, rhs, **params)


def _conv_jvp_rhs(g, ans, lhs, rhs, **params):
    return conv_general_dilated_p.bind(lhs, g, **params)


conv_general_dilated_p = define_primitive(
    "conv_general_dilated",
    linear_in_each=True,
    allocates=True,
    impl=_conv_impl,
    abstract_eval=_conv_aval,
    jvp_partials=[_conv_jvp_lhs, _conv_jvp_rhs],  # bilinear
    transpose=_conv_transpose_rule,
    batch=_conv_batch,
    cost=_conv_cost,
    lacks={"array_api": "the standard has no convolution"},
)


def conv_general_dilated(
    lhs: Array,
    rhs: Array,
    window_strides: Sequence[int],
    padding: Padding,
    lhs_dilation: Sequence[int] | None = None,
    rhs_dilation: Sequence[int] | None = None,
    dimension_numbers: Any = None,
    feature_group_count: int = 1,
    batch_group_count: int = 1,
    precision: Any = None,
    preferred_element_type: Any = None,
) -> Array:
    """General n-dimensional convolution (a cross-correlation, as in JAX and deep learning).

    **Arguments:**

    - `lhs`: the input, e.g. ``(N, C, H, W)``; `rhs`: the kernel, e.g. ``(O, I, KH, KW)``.
    - `window_strides`: the step of the window along each spatial axis.
    - `padding`: ``"SAME"``, ``"SAME_LOWER"``, ``"VALID"``, or one ``(low, high)`` pair per
      spatial axis (negative values crop).
    - `lhs_dilation`: the input is dilated by these factors (``d - 1`` zeros between
      elements) before the convolution: a transposed convolution.
    - `rhs_dilation`: the kernel is dilated (atrous convolution).
    - `dimension_numbers`: the layout, e.g. ``("NHWC", "HWIO", "NHWC")``; see
      `conv_dimension_numbers`. Default: ``NC...``, ``OI...``, ``NC...``.
    - `feature_group_count`: grouped (e.g. depthwise) convolution: the input features are
      split into this many groups, each convolved with its share of the kernel's outputs.
    - `batch_group_count`: the batch is split into this many groups (the group index
      major), each convolved with its share of the kernel's outputs.
    - `precision`: accepted for compatibility and ignored (NumPy computes at the operands'
      precision).
    - `preferred_element_type`: the result dtype, if given.

    **Returns:** the convolution in the `dimension_numbers` output layout, of the operands'
    promoted dtype.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        x = np.arange(16.0).reshape(1, 1, 4, 4)          # N C H W
        k = np.ones((1, 1, 2, 2))                         # O I KH KW
        print(lax.conv_general_dilated(x, k, (2, 2), "VALID")[0, 0])
        ```
    """
    del precision
    lhs_shape, rhs_shape = np.shape(lhs), np.shape(rhs)
    dn = conv_dimension_numbers(lhs_shape, rhs_shape, dimension_numbers)
    n_sp = len(lhs_shape) - 2
    what = "conv_general_dilated"
    strides = _ones_or(window_strides, n_sp, "window_strides", what)
    lhs_dilation = _ones_or(lhs_dilation, n_sp, "lhs_dilation", what)
    rhs_dilation = _ones_or(rhs_dilation, n_sp, "rhs_dilation", what)
    if isinstance(padding, str) and any(d != 1 for d in lhs_dilation):
        raise ValueError(
            f"{what}: a padding string with lhs_dilation={lhs_dilation} is "
            "ambiguous; give explicit (low, high) pairs or use conv_transpose"
        )
    lhs_sp = _canonical(lhs_shape, dn.lhs_spec)[2:]
    rhs_sp = _canonical(rhs_shape, dn.rhs_spec)[2:]
    spans = [_dilated(k, d) for k, d in zip(rhs_sp, rhs_dilation)]
    pads = _explicit_pads(padding, lhs_sp, spans, strides, what)
    out = conv_general_dilated_p.bind(
        lhs,
        rhs,
        window_strides=strides,
        padding=pads,
        lhs_dilation=lhs_dilation,
        rhs_dilation=rhs_dilation,
        dimension_numbers=dn,
        feature_group_count=int(feature_group_count),
        batch_group_count=int(batch_group_count),
    )
    if preferred_element_type is not None:
        out = _cast(out, np.dtype(preferred_element_type))
    return out


def conv(
    lhs: Array,
    rhs: Array,
    window_strides: Sequence[int],
    padding: Padding,
    precision: Any = None,
    preferred_element_type: Any = None,
) -> Array:
    """Convolution in the layout ``(N, C, spatial...)`` x ``(O, I, spatial...)``, without
    dilation: `conv_general_dilated` with default dimension numbers.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        x = np.arange(5.0).reshape(1, 1, 5)
        print(lax.conv(x, np.array([[[1.0, -1.0]]]), (1,), "VALID"))
        ```
    """
    return conv_general_dilated(
        lhs,
        rhs,
        window_strides,
        padding,
        precision=precision,
        preferred_element_type=preferred_element_type,
    )


def conv_with_general_padding(
    lhs: Array,
    rhs: Array,
    window_strides: Sequence[int],
    padding: Padding,
    lhs_dilation: Sequence[int] | None,
    rhs_dilation: Sequence[int] | None,
    precision: Any = None,
    preferred_element_type: Any = None,
) -> Array:
    """`conv` with explicit padding and dilations: `conv_general_dilated` with default
    dimension numbers.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        x = np.arange(4.0).reshape(1, 1, 4)
        print(lax.conv_with_general_padding(x, np.ones((1, 1, 2)), (1,), [(1, 0)], (2,), None))
        ```
    """
    return conv_general_dilated(
        lhs,
        rhs,
        window_strides,
        padding,
        lhs_dilation=lhs_dilation,
        rhs_dilation=rhs_dilation,
        precision=precision,
        preferred_element_type=preferred_element_type,
    )


def _conv_transpose_padding(k: int, s: int, padding: str) -> tuple[int, int]:
    """The padding of the dilated input that makes a transposed convolution the gradient of
    a `padding` convolution: output ``in * s`` for "SAME", ``in * s + max(k - s, 0)`` for
    "VALID"."""
    kind = padding.upper()
    if kind == "SAME":
        total = k + s - 2
        lo = k - 1 if s > k - 1 else -(-total // 2)
    elif kind == "VALID":
        total = k + s - 2 + max(k - s, 0)
        lo = k - 1
    else:
        raise ValueError(
            f"conv_transpose: padding must be 'SAME', 'VALID' or (low, high) pairs, got {padding!r}"
        )
    return lo, total - lo


_TRANSPOSE_LAYOUTS = {
    1: ("NC", "IO", "NC"),
    2: ("NHC", "HIO", "NHC"),
    3: ("NHWC", "HWIO", "NHWC"),
    4: ("NHWDC", "HWDIO", "NHWDC"),
}


def conv_transpose(
    lhs: Array,
    rhs: Array,
    strides: Sequence[int],
    padding: Padding,
    rhs_dilation: Sequence[int] | None = None,
    dimension_numbers: Any = None,
    transpose_kernel: bool = False,
    precision: Any = None,
    preferred_element_type: Any = None,
) -> Array:
    """Transposed convolution ("deconvolution"): the input is dilated by `strides` and
    convolved, so that the output is larger than the input.

    **Arguments:**

    - `lhs`, `rhs`: input and kernel; the default layout is channels-last, as in JAX:
      ``("NHWC", "HWIO", "NHWC")`` for two spatial axes (likewise for 1 to 3).
    - `strides`: the upsampling factors.
    - `padding`: ``"SAME"`` (output ``in * stride``), ``"VALID"`` (output
      ``in * stride + max(k - stride, 0)``), or explicit ``(low, high)`` pairs.
    - `rhs_dilation`, `dimension_numbers`, `precision`, `preferred_element_type`: as in
      `conv_general_dilated`.
    - `transpose_kernel`: flip the kernel spatially and swap its input and output axes, which
      makes the result the gradient of `conv_general_dilated` with this kernel.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        x = np.ones((1, 3, 1))                 # N W C
        k = np.array([[[1.0]], [[2.0]]])       # W I O
        print(lax.conv_transpose(x, k, (2,), "SAME")[0, :, 0])
        ```
    """
    ndim = np.ndim(lhs)
    if dimension_numbers is None:
        if ndim - 1 not in _TRANSPOSE_LAYOUTS:
            raise ValueError(f"conv_transpose: give dimension_numbers for a rank-{ndim} lhs")
        dimension_numbers = _TRANSPOSE_LAYOUTS[ndim - 1]
    dn = conv_dimension_numbers(np.shape(lhs), np.shape(rhs), dimension_numbers)
    n_sp = ndim - 2
    strides = _ones_or(strides, n_sp, "strides", "conv_transpose")
    rhs_dilation = _ones_or(rhs_dilation, n_sp, "rhs_dilation", "conv_transpose")
    k_sp = _canonical(np.shape(rhs), dn.rhs_spec)[2:]
    spans = [_dilated(k, d) for k, d in zip(k_sp, rhs_dilation)]
    if isinstance(padding, str):
        pads: Padding = [_conv_transpose_padding(k, s, padding) for k, s in zip(spans, strides)]
    else:
        pads = padding
    if transpose_kernel:
        rhs = sh.rev(rhs, tuple(dn.rhs_spec[2:]))
        dn = ConvDimensionNumbers(dn.lhs_spec, _swap(dn.rhs_spec), dn.out_spec)
    return conv_general_dilated(
        lhs,
        rhs,
        (1,) * n_sp,
        pads,
        lhs_dilation=strides,
        rhs_dilation=rhs_dilation,
        dimension_numbers=dn,
        precision=precision,
        preferred_element_type=preferred_element_type,
    )
