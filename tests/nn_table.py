"""Records of the `funcdiff.nn` functions added for `jax.nn` coverage (activations,
`logmeanexp`, `log1mexp`, `dot_product_attention`), each against a NumPy formula. Imported
at the end of `numpy_table`, whose `RECORDS` they join, so that the generic checks of
`tests/test_numpy_ops.py` run on them."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
from hypothesis import strategies as st
from numpy_table import (
    F64,
    FLOATS,
    NONZERO,
    PIECEWISE,
    REAL,
    D,
    Domain,
    _inexact,
    _softmax_cases,
    add,
    case,
    draw_array,
    unary_cases,
)
from strategies import shapes


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softplus(x):
    return np.logaddexp(x, 0.0)


def _elementwise(formula):
    """A NumPy formula evaluated in float64 and returned in funcdiff's result dtype."""

    def ref(x, *params):
        x = _inexact(x)
        return np.asarray(formula(x.astype(np.float64), *params)).astype(x.dtype)

    return ref


_ALPHA, _SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
# Away from the joins (-1, 1, 0, 3, 6...) where finite differences cross a kink.
KINKED = Domain(0.1, 8.0, signed=True, ilo=-8, ihi=8)

for _name, _formula, _dom in [
    ("selu", lambda x: _SCALE * np.where(x > 0, x, _ALPHA * np.expm1(np.minimum(x, 0))), NONZERO),
    ("soft_sign", lambda x: x / (np.abs(x) + 1), NONZERO),
    ("squareplus", lambda x: (x + np.sqrt(x * x + 4)) / 2, D),
    ("mish", lambda x: x * np.tanh(_softplus(x)), D),
    ("tanh", np.tanh, D),
    ("log1mexp", lambda x: np.log(-np.expm1(-x)), Domain(0.05, 4.0, ilo=1, ihi=4)),
]:
    add("nn." + _name, partial(unary_cases, domain=_dom), ref=_elementwise(_formula),
        dtypes=REAL, rtol={np.dtype(np.float32): 1e-5})

for _name, _formula in [
    ("relu6", lambda x: np.clip(x, 0, 6)),
    ("hard_sigmoid", lambda x: np.clip(x + 3, 0, 6) / 6),
    ("hard_silu", lambda x: x * np.clip(x + 3, 0, 6) / 6),
    ("hard_swish", lambda x: x * np.clip(x + 3, 0, 6) / 6),
    ("hard_tanh", lambda x: np.clip(x, -1, 1)),
    ("sparse_plus", lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4))),
    ("sparse_sigmoid", lambda x: np.clip(x + 1, 0, 2) / 2),
]:
    add("nn." + _name, partial(unary_cases, domain=Domain(-8.0, 8.0, step=0.25)),
        ref=_elementwise(_formula), dtypes=REAL,
        grad_cases=partial(unary_cases, domain=KINKED), grad_order=1,
        grad_note="piecewise: first derivatives away from the joins")
add("nn.relu6", partial(unary_cases, domain=Domain(-1.0, 7.0, step=1.0)), variant="joins",
    ref=_elementwise(lambda x: np.clip(x, 0, 6)), dtypes=(F64,), **PIECEWISE | dict(
        zero_grad=False, grad_note="values at the joins (their derivative: a directed test)"))
add("nn.identity", partial(unary_cases, domain=D), ref=np.asarray, dtypes=REAL)


def _ref_celu(x, alpha=1.0):
    x = _inexact(x)
    x64 = x.astype(np.float64)
    return (np.maximum(x64, 0) + alpha * np.expm1(np.minimum(x64, 0) / alpha)).astype(x.dtype)


add("nn.celu", partial(unary_cases, domain=NONZERO, alpha=st.sampled_from([1.0, 0.5, 2.0])),
    ref=_ref_celu, dtypes=FLOATS)


@st.composite
def _glu_cases(draw, dtype):
    shp = list(draw(shapes(1, 3)))
    axis = draw(st.integers(-len(shp), len(shp) - 1))
    shp[axis] *= 2
    return case(draw_array(draw, shp, dtype), axis=axis)


def _ref_glu(x, axis=-1):
    x = _inexact(x)
    a, b = np.split(x.astype(np.float64), 2, axis=axis)
    return (a * _sigmoid(b)).astype(x.dtype)


add("nn.glu", _glu_cases, ref=_ref_glu, dtypes=REAL, rtol={np.dtype(np.float32): 1e-5})


def _ref_logmeanexp(x, axis=None, keepdims=False):
    x = _inexact(x)
    x64 = x.astype(np.float64)
    hi = np.max(x64, axis=axis, keepdims=True)
    out = np.log(np.mean(np.exp(x64 - hi), axis=axis, keepdims=True)) + hi
    if not keepdims:
        out = np.squeeze(out, axis=axis if axis is not None else None)
    return np.asarray(out).astype(x.dtype)


add("nn.logmeanexp", _softmax_cases, ref=_ref_logmeanexp, dtypes=REAL,
    rtol={np.dtype(np.float32): 1e-5})


# ---- attention ------------------------------------------------------------------------------


def _ref_attention(q, k, v, bias=None, mask=None, scale=None, is_causal=False):
    """Attention written out head by head, in float64."""
    unbatched = q.ndim == 3
    if unbatched:
        q, k, v = q[None], k[None], v[None]
    b, t, n, h = q.shape
    s, kh = k.shape[1], k.shape[2]
    scale = 1 / math.sqrt(h) if scale is None else scale
    out = np.zeros((b, t, n, h))
    for bi in range(b):
        for ni in range(n):
            kv = ni // (n // kh)
            logits = q[bi, :, ni] @ k[bi, :, kv].T * scale
            if bias is not None:
                logits = logits + np.broadcast_to(bias, (b, n, t, s))[bi, ni]
            keep = np.ones((t, s), bool)
            if mask is not None:
                keep &= np.broadcast_to(mask, (b, n, t, s))[bi, ni]
            if is_causal:
                keep &= np.tril(np.ones((t, s), bool))
            logits = np.where(keep, logits, -0.7 * np.finfo(q.dtype).max)
            p = np.exp(logits - logits.max(-1, keepdims=True))
            out[bi, :, ni] = (p / p.sum(-1, keepdims=True)) @ v[bi, :, kv]
    out = out.astype(q.dtype)
    return out[0] if unbatched else out


@st.composite
def _attention_cases(draw, dtype, masked=True):
    batch = draw(st.sampled_from([(), (2,)]))
    t, s, h = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh = draw(st.integers(1, 2))
    n = kh * draw(st.integers(1, 2))
    q = draw_array(draw, batch + (t, n, h), dtype)
    k = draw_array(draw, batch + (s, kh, h), dtype)
    v = draw_array(draw, batch + (s, kh, h), dtype)
    args = [q, k, v]
    kwargs = {"scale": draw(st.sampled_from([None, 0.5])),
              "is_causal": masked and draw(st.booleans())}
    if draw(st.booleans()):
        args.append(draw_array(draw, (1, n, t, s) if batch else (n, t, s), dtype))
    if masked and draw(st.booleans()):
        mask = draw_array(draw, (1, 1, t, s), np.dtype(bool))
        kwargs["mask"] = mask if batch else mask[0]
    return case(*args, **kwargs)


def _attention(q, k, v, bias=None, **kw):
    from funcdiff import nn

    return nn.dot_product_attention(q, k, v, bias, **kw)


add("nn.dot_product_attention", _attention_cases, fn=_attention, ref=_ref_attention,
    dtypes=FLOATS, rtol={np.dtype(np.float32): 1e-5},
    grad_cases=partial(_attention_cases, masked=False),
    grad_note="derivatives without masks (a masked logit is a large negative constant, whose "
              "exponential underflows, which the derivative checks treat as an error)")


# ---- block-scaled products ------------------------------------------------------------------


@st.composite
def _scaled_matmul_cases(draw, dtype):
    b, m, n = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    blocks, block = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k = blocks * block
    args = [draw_array(draw, s, dtype) for s in ((b, m, k), (b, n, k), (b, m, blocks),
                                                  (b, n, blocks))]
    return case(*args, preferred_element_type=draw(st.sampled_from([None, dtype])))


def _ref_scaled_matmul(a, b, a_scales, b_scales, preferred_element_type=np.float32):
    block = a.shape[-1] // a_scales.shape[-1]
    out = np.einsum("bmk,bnk->bmn", a * np.repeat(a_scales, block, -1),
                    b * np.repeat(b_scales, block, -1))
    return out.astype(preferred_element_type or np.result_type(a, b, a_scales, b_scales))


add("nn.scaled_matmul", _scaled_matmul_cases, ref=_ref_scaled_matmul, dtypes=FLOATS)


@st.composite
def _scaled_dot_general_cases(draw, dtype, mode=None, preferred=(None, np.float32)):
    """Batch, contracting and free axes at drawn positions of each operand; with a `mode`,
    contracting sizes whose product is a multiple of the block size."""
    size = st.integers(1, 3)
    batch = draw(st.lists(size, max_size=2 if mode is None else 1))
    if mode is None:
        contract = draw(st.lists(size, min_size=1, max_size=2))
    else:
        block = 32 if mode == "mxfp8" else 16
        contract = draw(st.sampled_from([[block], [2 * block], [2, block], [block // 2, 4]]))
    x_free = draw(st.lists(size, max_size=2))
    y_free = draw(st.lists(size, max_size=2))
    roles = [("b", i) for i in range(len(batch))] + [("c", i) for i in range(len(contract))]
    x_roles = draw(st.permutations(roles + [("f", i) for i in range(len(x_free))]))
    y_roles = draw(st.permutations(roles + [("g", i) for i in range(len(y_free))]))
    sizes = {"b": batch, "c": contract, "f": x_free, "g": y_free}
    scale = np.exp(draw(st.floats(-6, 6)))  # the block scales follow any magnitude
    x = draw_array(draw, [sizes[r][i] for r, i in x_roles], dtype) * dtype.type(scale)
    y = draw_array(draw, [sizes[r][i] for r, i in y_roles], dtype)
    dn = tuple(tuple(tuple(roles_.index((r, i)) for i in range(len(sizes[r])))
                     for roles_ in (x_roles, y_roles)) for r in ("c", "b"))
    kwargs = {"dimension_numbers": dn,
              "preferred_element_type": draw(st.sampled_from(preferred))}
    if mode is not None:
        from funcdiff import nn

        gs = None if mode == "mxfp8" else np.array([draw(st.sampled_from([1.0, 0.5]))],
                                                    np.float32)
        kwargs["configs"] = [nn.get_scaled_dot_general_config(mode, gs)] * 3
    return case(x, y, **kwargs)


def _format_grid(mantissa_bits, min_exponent, top):
    """Every non-negative number of a small float format, in increasing order: the
    subnormals, then each binade's normal numbers, up to `top`."""
    step = 2.0 ** (min_exponent - mantissa_bits)
    grid = [k * step for k in range(2**mantissa_bits)]
    e = min_exponent
    while grid[-1] < top:
        grid += [(1 + k / 2**mantissa_bits) * 2.0**e for k in range(2**mantissa_bits)]
        e += 1
    return np.array([v for v in grid if v <= top])


_GRIDS = {"float8_e4m3fn": _format_grid(3, -6, 448.0), "float4_e2m1fn": _format_grid(1, 0, 6.0)}


def _nearest_on_grid(x, fmt):
    """Round to the nearest number of `fmt` by searching its table of numbers; a tie goes
    to the even neighbour (an even index: an even last mantissa bit)."""
    grid = _GRIDS[fmt]
    a = np.abs(x.astype(np.float64))
    hi = np.clip(np.searchsorted(grid, a), 1, len(grid) - 1)
    lo = hi - 1
    d_lo, d_hi = a - grid[lo], grid[hi] - a
    pick = np.where((d_hi < d_lo) | ((d_hi == d_lo) & (hi % 2 == 0)), hi, lo)
    return (np.sign(x) * grid[pick]).astype(x.dtype)


def _ref_quantize(x3, mode, global_scale):
    """(B, M, K) -> quantized values and per-block scales, in x's dtype."""
    b, m, k = x3.shape
    block = 32 if mode == "mxfp8" else 16
    blocks = x3.reshape(b, m, k // block, block)
    top = x3.dtype.type(448.0 if mode == "mxfp8" else 6.0)
    if mode == "nvfp4":
        blocks = blocks / global_scale.astype(x3.dtype)
    amax = np.max(np.abs(blocks), axis=-1, keepdims=True)
    if mode == "mxfp8":
        with np.errstate(divide="ignore"):
            exponent = np.ceil(np.log2((amax / top).astype(np.float64)))
        scales = 2.0 ** np.clip(np.nan_to_num(exponent, neginf=-127), -127, 127)
        scales = scales.astype(x3.dtype)
        scaled = blocks / scales
    else:
        scales = _nearest_on_grid(np.clip(amax / top, 0, 448.0).astype(x3.dtype),
                                  "float8_e4m3fn")
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = np.where(scales == 0, 0, blocks / scales)
    values = _nearest_on_grid(np.clip(scaled, -top, top),
                              "float8_e4m3fn" if mode == "mxfp8" else "float4_e2m1fn")
    return values.reshape(b, m, k), scales[..., 0]


def _ref_to_3d(x, contract, batch):
    free = [d for d in range(x.ndim) if d not in contract and d not in batch]
    t = np.transpose(x, (*batch, *free, *contract))
    return t.reshape([int(np.prod([x.shape[d] for d in g], dtype=int))
                      for g in (batch, free, contract)]), free


def _ref_scaled_dot_general(x, y, dimension_numbers, preferred_element_type=np.float32,
                            configs=None):
    from lax_table import _dot_general_reference

    if configs is None:
        out = _dot_general_reference(x, y, dimension_numbers=dimension_numbers)
        return out.astype(preferred_element_type or out.dtype)
    (xc, yc), (xb, yb) = dimension_numbers
    mode, gs = configs[0].mode, configs[0].global_scale
    (x3, x_free), (y3, y_free) = _ref_to_3d(x, xc, xb), _ref_to_3d(y, yc, yb)
    xq, xs = _ref_quantize(x3, mode, gs)
    yq, ys = _ref_quantize(y3, mode, gs)
    out = _ref_scaled_matmul(xq, yq, xs, ys, None)
    if mode == "nvfp4":
        out = out * (gs * gs).astype(out.dtype)
    shape = [x.shape[d] for d in xb] + [x.shape[d] for d in x_free] + [y.shape[d]
                                                                       for d in y_free]
    return out.reshape(shape).astype(preferred_element_type or out.dtype)


add("nn.scaled_dot_general", _scaled_dot_general_cases, ref=_ref_scaled_dot_general,
    dtypes=FLOATS, grad_cases=partial(_scaled_dot_general_cases, preferred=(None,)))
for _mode in ("mxfp8", "nvfp4"):
    add("nn.scaled_dot_general", partial(_scaled_dot_general_cases, mode=_mode),
        variant=_mode, ref=_ref_scaled_dot_general, dtypes=FLOATS,
        rtol={np.dtype(np.float32): 1e-5}, grad_order=0,
        grad_note="quantization is piecewise constant; the derivative is JAX's "
                  "straight-through estimator, checked in test_special_stats_nn.py")
