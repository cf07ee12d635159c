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
