"""The rest of `jax.nn`: more activations (`selu`, `celu`, `glu`, `mish`, the hard and sparse
variants...), `logmeanexp`, `log1mexp` and a reference `dot_product_attention`, composed from
`funcdiff.numpy` so that every transformation applies."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src import nn as _nn
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.numpy._util import Array, ArrayLike, aval, promote_inexact

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _float(x: ArrayLike) -> Array:
    return promote_inexact(x)[0]


def _clip_flat(x: Array, lo: float, hi: float) -> Array:
    """`x` clipped to ``[lo, hi]`` with a zero derivative at the ends (as JAX's `relu6`)."""
    return jnp.where(x <= lo, lo, jnp.where(x >= hi, hi, x))


def identity(x: ArrayLike) -> Array:
    """The identity function, ``x``.

    !!! Example
        ```python
        from funcdiff import nn

        assert nn.identity(2.5) == 2.5
        ```
    """
    return jnp.asarray(x)


def tanh(x: ArrayLike) -> Array:
    """The hyperbolic tangent (`funcdiff.numpy.tanh`).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import nn

        assert np.isclose(nn.tanh(0.5), np.tanh(0.5))
        ```
    """
    return jnp.tanh(x)


def relu6(x: ArrayLike) -> Array:
    """``min(max(x, 0), 6)``, with derivative 0 at 0 and at 6 (as in JAX).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import nn

        assert np.array_equal(nn.relu6(np.array([-1.0, 3.0, 7.0])), [0.0, 3.0, 6.0])
        ```
    """
    return _clip_flat(_float(x), 0.0, 6.0)


def hard_sigmoid(x: ArrayLike) -> Array:
    """``relu6(x + 3) / 6``, a piecewise-linear sigmoid.

    !!! Example
        ```python
        from funcdiff import nn

        assert nn.hard_sigmoid(0.0) == 0.5
        ```
    """
    return relu6(_float(x) + 3.0) / 6.0


def hard_silu(x: ArrayLike) -> Array:
    """``x * hard_sigmoid(x)`` (also called hard swish).

    !!! Example
        ```python
        from funcdiff import nn

        assert nn.hard_silu(3.0) == 3.0 and nn.hard_silu(-3.0) == 0.0
        ```
    """
    x = _float(x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def hard_tanh(x: ArrayLike) -> Array:
    """`x` clipped to ``[-1, 1]``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import nn

        assert np.array_equal(nn.hard_tanh(np.array([-2.0, 0.5, 2.0])), [-1.0, 0.5, 1.0])
        ```
    """
    x = _float(x)  # derivative 1 at the ends, as JAX's (not relu6's flat ends)
    return jnp.where(x > 1.0, 1.0, jnp.where(x < -1.0, -1.0, x))


def celu(x: ArrayLike, alpha: ArrayLike = 1.0) -> Array:
    """Continuously differentiable ELU: ``max(x, 0) + alpha * expm1(min(x, 0) / alpha)``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import nn

        assert np.isclose(nn.celu(-1.0, alpha=2.0), 2.0 * np.expm1(-0.5))
        ```
    """
    x, alpha = promote_inexact(x, alpha)
    return jnp.maximum(x, 0.0) + alpha * jnp.expm1(jnp.minimum(x, 0.0) / alpha)


def selu(x: ArrayLike) -> Array:
    """Scaled ELU, ``scale * elu(x, alpha)`` with the self-normalising constants of
    Klambauer et al. (``alpha ~ 1.6733``, ``scale ~ 1.0507``).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import nn

        assert np.isclose(nn.selu(1.0), 1.0507009873554805)
        ```
    """
    return _SELU_SCALE * _nn.elu(x, _SELU_ALPHA)


def glu(x: ArrayLike, axis: int = -1) -> Array:
    """Gated linear unit: the first half of `x` along `axis` times the sigmoid of the second.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import nn

        assert np.isclose(nn.glu(np.array([2.0, 0.0])), 1.0)
        ```
    """
    x = _float(x)
    size = aval(x).shape[axis]
    if size % 2:
        raise ValueError(f"glu: the axis {axis} of `x` (shape {aval(x).shape}) must have an even "
                         "size, to split it in two halves")
    first, second = jnp.split(x, 2, axis=axis)
    return first * _nn.sigmoid(second)


def soft_sign(x: ArrayLike) -> Array:
    """``x / (|x| + 1)``.

    !!! Example
        ```python
        from funcdiff import nn

        assert nn.soft_sign(1.0) == 0.5
        ```
    """
    x = _float(x)
    return x / (jnp.abs(x) + 1.0)


def sparse_plus(x: ArrayLike) -> Array:
    """0 below -1, ``(x + 1)^2 / 4`` on ``[-1, 1]``, `x` above: a smooth-at-the-joins ReLU.

    !!! Example
        ```python
        from funcdiff import nn

        assert nn.sparse_plus(0.0) == 0.25 and nn.sparse_plus(2.0) == 2.0
        ```
    """
    x = _float(x)
    inner = jnp.square(x + 1.0) / 4.0
    return jnp.where(x <= -1.0, 0.0, jnp.where(x >= 1.0, x, inner))


def sparse_sigmoid(x: ArrayLike) -> Array:
    """0 below -1, ``(x + 1) / 2`` on ``[-1, 1]``, 1 above (the derivative of `sparse_plus`).

    !!! Example
        ```python
        from funcdiff import nn

        assert nn.sparse_sigmoid(0.0) == 0.5
        ```
    """
    # `clip`'s derivative at the ends (half of 1/2, the tie's share), as JAX's
    return 0.5 * jnp.clip(_float(x) + 1.0, 0.0, 2.0)


def squareplus(x: ArrayLike, b: ArrayLike = 4) -> Array:
    """``(x + sqrt(x^2 + b)) / 2``, a smooth ReLU without exponentials.

    !!! Example
        ```python
        from funcdiff import nn

        assert nn.squareplus(0.0) == 1.0
        ```
    """
    x, b = promote_inexact(x, b)
    return (x + jnp.sqrt(jnp.square(x) + b)) / 2.0


def mish(x: ArrayLike) -> Array:
    """``x * tanh(softplus(x))``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import nn

        assert np.isclose(nn.mish(1.0), np.tanh(np.log1p(np.e)))
        ```
    """
    x = _float(x)
    return x * jnp.tanh(_nn.softplus(x))


def log1mexp(x: ArrayLike) -> Array:
    """``log(1 - exp(-x))`` for ``x > 0``, accurate both near 0 and for large `x`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import nn

        assert np.isclose(nn.log1mexp(1e-10), np.log(1e-10))
        ```
    """
    x = _float(x)
    # Maechler's switch at log 2: log(-expm1(-x)) near 0, log1p(-exp(-x)) beyond.
    small = x <= math.log(2.0)
    x_small = jnp.where(small, x, 1.0)
    x_large = jnp.where(small, 1.0, x)
    return jnp.where(small, jnp.log(-jnp.expm1(-x_small)), jnp.log1p(-jnp.exp(-x_large)))


def logmeanexp(x: ArrayLike, axis: int | Sequence[int] | None = None,
               where: ArrayLike | None = None, keepdims: bool = False) -> Array:
    """``log(mean(exp(x)))`` over `axis`, computed stably; `where` selects the elements to
    average.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import nn

        assert np.isclose(nn.logmeanexp(np.array([1000.0, 1000.0])), 1000.0)
        ```
    """
    x = _float(x)
    if where is None:
        count = jnp.sum(jnp.ones_like(x), axis=axis, keepdims=keepdims)
        lse = _nn.logsumexp(x, axis=axis, keepdims=keepdims)
    else:
        where = jnp.broadcast_to(jnp.asarray(where, dtype=bool), aval(x).shape)
        count = jnp.sum(jnp.where(where, 1.0, 0.0).astype(aval(x).dtype), axis=axis,
                        keepdims=keepdims)
        lse = _nn.logsumexp(jnp.where(where, x, -jnp.inf), axis=axis, keepdims=keepdims)
    return lse - jnp.log(count)


# ---- attention ------------------------------------------------------------------------------


def _attention_mask(shape: tuple[int, ...], mask: Any, is_causal: bool,
                    query_seq_lengths: Any, key_value_seq_lengths: Any,
                    local_window_size: int | tuple[int, int] | None) -> Any:
    """The combined boolean mask, broadcastable to the logits' shape ``(B, N, T, S)``, or
    None when nothing is masked."""
    t, s = shape[2], shape[3]
    masks = [] if mask is None else [jnp.asarray(mask, dtype=bool)]
    rows, cols = np.arange(t)[:, None], np.arange(s)[None, :]
    if is_causal:
        masks.append(cols <= rows)
    if local_window_size is not None:
        left, right = ((local_window_size, local_window_size)
                       if isinstance(local_window_size, int) else local_window_size)
        masks.append((cols >= rows - left) & (cols <= rows + right))
    if query_seq_lengths is not None:
        lengths = jnp.asarray(query_seq_lengths)[:, None, None, None]
        masks.append(np.arange(t)[None, None, :, None] < lengths)
    if key_value_seq_lengths is not None:
        lengths = jnp.asarray(key_value_seq_lengths)[:, None, None, None]
        masks.append(np.arange(s)[None, None, None, :] < lengths)
    if not masks:
        return None
    out = masks[0]
    for m in masks[1:]:
        out = jnp.logical_and(out, m)
    return out


def dot_product_attention(query: ArrayLike, key: ArrayLike, value: ArrayLike,
                          bias: ArrayLike | None = None, mask: ArrayLike | None = None, *,
                          scale: float | None = None, is_causal: bool = False,
                          query_seq_lengths: ArrayLike | None = None,
                          key_value_seq_lengths: ArrayLike | None = None,
                          local_window_size: int | tuple[int, int] | None = None,
                          implementation: str | None = None,
                          return_residual: bool = False) -> Any:
    """Scaled dot-product attention, ``softmax(Q K^T * scale + bias) V`` for each head (JAX's
    reference implementation).

    Shapes, as in JAX: `query` ``(B, T, N, H)`` or ``(T, N, H)``; `key` and `value`
    ``(B, S, K, H)`` or ``(S, K, H)``, where the number of key/value heads `K` divides the
    number of query heads `N` (grouped-query attention; ``K == N`` is multi-head attention).
    `bias` and the boolean `mask` (True: attend) broadcast to ``(B, N, T, S)``. `scale`
    defaults to ``1 / sqrt(H)``. `is_causal`, `local_window_size` (``(left, right)`` or one
    int for both) and the per-example sequence lengths add masks; a masked logit is a large
    negative number, so a fully masked row attends uniformly. `implementation` may be None or
    ``"xla"``; with `return_residual`, the log-sum-exp of the logits, ``(B, T, N)``, is also
    returned (without derivative).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import nn

        q = np.ones((2, 1, 4))  # T=2, N=1, H=4
        kv = np.arange(12.0).reshape(3, 1, 4)  # S=3, K=1
        out = nn.dot_product_attention(q, kv, kv, is_causal=True)
        assert out.shape == (2, 1, 4) and np.allclose(out[0], kv[0])
        ```
    """
    if implementation not in (None, "xla"):
        raise ValueError(f"dot_product_attention: implementation={implementation!r} is not "
                         "available in funcdiff; use None or 'xla' (the reference "
                         "implementation)")
    query, key, value = promote_inexact(query, key, value)
    unbatched = aval(query).ndim == 3
    if unbatched:
        query, key, value = query[None], key[None], value[None]
    qs, ks, vs = aval(query).shape, aval(key).shape, aval(value).shape
    if len(qs) != 4 or len(ks) != 4 or ks != vs or qs[0] != ks[0] or qs[3] != ks[3] or (
            qs[2] % ks[2]):
        raise ValueError(
            "dot_product_attention: expected query (B, T, N, H) and key = value shapes "
            f"(B, S, K, H) with K dividing N (or all without B); got query {qs}, key {ks}, "
            f"value {vs}")
    b, t, n, h = qs
    s, k = ks[1], ks[2]
    groups = n // k
    if groups > 1:  # each key/value head serves `groups` query heads
        key = jnp.repeat(key, groups, axis=2)
        value = jnp.repeat(value, groups, axis=2)
    scale = 1.0 / math.sqrt(h) if scale is None else scale
    logits = jnp.einsum("btnh,bsnh->bnts", query, key) * scale
    if bias is not None:
        logits = logits + bias
    combined = _attention_mask((b, n, t, s), mask, is_causal, query_seq_lengths,
                               key_value_seq_lengths, local_window_size)
    if combined is not None:
        large_negative = -0.7 * float(np.finfo(aval(logits).dtype).max)
        logits = jnp.where(combined, logits, large_negative)
    probs = _nn.softmax(logits, axis=-1)
    out = jnp.einsum("bnts,bsnh->btnh", probs, value)
    if query_seq_lengths is not None:  # padded query rows give zeros
        keep = np.arange(t)[None, :, None, None] < jnp.asarray(query_seq_lengths)[:, None,
                                                                                    None, None]
        out = jnp.where(keep, out, 0.0)
    if unbatched:
        out = out[0]
    if not return_residual:
        return out
    lse = ew.stop_gradient(jnp.transpose(_nn.logsumexp(logits, axis=-1), (0, 2, 1)))
    return out, lse[0] if unbatched else lse

