"""Block-scaled matrix products, as `jax.nn.scaled_matmul`, `scaled_dot_general` and
`get_scaled_dot_general_config`, with their reference semantics on a CPU.

JAX runs these on Blackwell GPUs with 8-bit and 4-bit float formats (MXFP8, NVFP4). NumPy
has no such dtypes, so the quantized values are emulated: each is rounded to the nearest
number of its format (round half to even, as a cast) and kept in the operand's float dtype.
The products are then the reference formula of JAX's documentation, composed from
`funcdiff.numpy`, so that `grad`, `vmap` and `jit` apply.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src.custom_vjp import custom_vjp
from funcdiff._src.lax.linalg import dot_general
from funcdiff._src.numpy._util import Array, ArrayLike, aval, promote_inexact

# The emulated formats: (mantissa bits, exponent of the smallest normal number, largest value).
_FORMATS = {
    "float8_e4m3fn": (3, -6, 448.0),
    "float4_e2m1fn": (1, 0, 6.0),
}
# float8_e8m0fnu: powers of two from 2**-127 to 2**127 (the MXFP8 block scales).
_E8M0 = "float8_e8m0fnu"


@dataclasses.dataclass
class BlockScaleConfig:
    """How `scaled_dot_general` quantizes one operand (JAX's ``BlockScaleConfig``).

    `data_type` and `scale_type` name the emulated formats (``"float8_e4m3fn"``,
    ``"float4_e2m1fn"``, ``"float8_e8m0fnu"``): NumPy has no such dtypes."""

    mode: str
    block_size: int
    data_type: str
    scale_type: str
    global_scale: Any
    infer_only: bool


def get_scaled_dot_general_config(
    mode: str, global_scale: ArrayLike | None = None
) -> BlockScaleConfig:
    """The quantization config of one operand of `scaled_dot_general`, as JAX's.

    - ``"mxfp8"``: blocks of 32 values in float8 E4M3 with a power-of-two scale per block
      (E8M0, rounded up from the block's largest magnitude over 448).
    - ``"nvfp4"``: blocks of 16 values in float4 E2M1 with a float8 E4M3 scale per block,
      after dividing by `global_scale` (a float32 array of shape ``(1,)``; default 1).

    !!! Example
        ```python
        from funcdiff import nn

        config = nn.get_scaled_dot_general_config("mxfp8")
        assert (config.block_size, config.data_type) == (32, "float8_e4m3fn")
        ```
    """
    if mode == "nvfp4":
        scale = jnp.ones((1,), np.float32) if global_scale is None else global_scale
        return BlockScaleConfig("nvfp4", 16, "float4_e2m1fn", "float8_e4m3fn", scale, False)
    if mode == "mxfp8":
        return BlockScaleConfig("mxfp8", 32, "float8_e4m3fn", _E8M0, None, False)
    raise ValueError(
        f"get_scaled_dot_general_config: unsupported mode {mode!r}; use 'mxfp8' or 'nvfp4'"
    )


def scaled_matmul(
    lhs: ArrayLike,
    rhs: ArrayLike,
    lhs_scales: ArrayLike,
    rhs_scales: ArrayLike,
    preferred_element_type: Any = np.float32,
) -> Array:
    """Block-scaled batched matrix product, as `jax.nn.scaled_matmul`:
    ``einsum('bmk,bnk->bmn', lhs * repeat(lhs_scales), rhs * repeat(rhs_scales))``.

    `lhs` is ``(B, M, K)`` and `rhs` ``(B, N, K)``; the scales ``(B, M, K_s)`` and
    ``(B, N, K_s)`` hold one factor per block of ``K // K_s`` consecutive values along the
    contracting (last) axis. The product is computed in the operands' promoted dtype and
    returned in `preferred_element_type` (float32 by default, as in JAX; None keeps the
    computed dtype). Differentiable in all four arguments.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import nn

        a = np.array([1.0, 2.0, 3.0]).reshape(1, 1, 3)
        b = np.array([4.0, 5.0, 6.0]).reshape(1, 1, 3)
        half = np.full((1, 1, 1), 0.5)
        assert nn.scaled_matmul(a, b, half, half).tolist() == [[[8.0]]]
        ```
    """
    lhs, rhs, lhs_scales, rhs_scales = promote_inexact(lhs, rhs, lhs_scales, rhs_scales)
    shapes = [aval(x).shape for x in (lhs, rhs, lhs_scales, rhs_scales)]
    if any(len(s) != 3 for s in shapes):
        raise ValueError(
            "scaled_matmul: lhs, rhs and both scales must be 3-D, (B, M, K), "
            f"(B, N, K), (B, M, K_s), (B, N, K_s); got shapes {shapes}"
        )
    (b, m, k), (b2, n, k2), (bs, ms, ks), (bs2, ns, ks2) = shapes
    if (b, k) != (b2, k2) or (bs, ks) != (bs2, ks2) or (ms, ns, bs) != (m, n, b):
        raise ValueError(
            "scaled_matmul: expected lhs (B, M, K), rhs (B, N, K), lhs_scales "
            f"(B, M, K_s), rhs_scales (B, N, K_s); got shapes {shapes}"
        )
    if ks == 0 or k % ks:
        raise ValueError(
            f"scaled_matmul: the scales' last axis ({ks}) must divide the "
            f"contracting axis K = {k} into equal blocks"
        )
    block = k // ks
    scaled_lhs = lhs * jnp.repeat(lhs_scales, block, axis=-1)
    scaled_rhs = rhs * jnp.repeat(rhs_scales, block, axis=-1)
    out = jnp.einsum("bmk,bnk->bmn", scaled_lhs, scaled_rhs)
    return out if preferred_element_type is None else out.astype(preferred_element_type)


# ---- quantization ---------------------------------------------------------------------------


def _round_to_format(x: Array, fmt: str) -> Array:
    """`x` (within the format's range) rounded to the nearest number of `fmt`, ties to
    even, as a cast to that dtype would round it."""
    mantissa_bits, min_exponent, _ = _FORMATS[fmt]
    magnitude = jnp.abs(x)
    _, exponent = jnp.frexp(magnitude)  # magnitude = m * 2**exponent, 0.5 <= m < 1
    # The spacing of the format's numbers near `magnitude` (fixed below the normal range).
    lead = jnp.maximum(exponent - 1, min_exponent)
    spacing = jnp.ldexp(jnp.ones_like(magnitude), lead - mantissa_bits)
    return jnp.sign(x) * jnp.round(magnitude / spacing) * spacing


def _e8m0_round_up(v: Array) -> Array:
    """The power of two at or above `v` (at least 2**-127, at most 2**127): an E8M0 scale
    rounded up, as JAX's MXFP8 quantization."""
    mantissa, exponent = jnp.frexp(v)
    exponent = jnp.where(mantissa == 0.5, exponent - 1, exponent)  # exact powers stay
    exponent = jnp.clip(exponent, -127, 127)
    return jnp.ldexp(jnp.ones_like(v), exponent)


def _quantize(x: Array, config: BlockScaleConfig) -> tuple[Array, Array]:
    """`x` ``(B, M, K)`` in blocks of `config.block_size` along K: the emulated quantized
    values ``(B, M, K)`` and the block scales ``(B, M, K // block_size)``."""
    b, m, k = aval(x).shape
    size = config.block_size
    if k < size or k % size:
        raise ValueError(
            f"scaled_dot_general: the contracting size {k} must be a multiple of "
            f"the {config.mode} block size {size}"
        )
    blocks = jnp.reshape(x, (b, m, k // size, size))
    top = _FORMATS[config.data_type][2]
    if config.mode == "mxfp8":
        scales = _e8m0_round_up(jnp.max(jnp.abs(blocks), axis=-1, keepdims=True) / top)
        scaled = blocks / scales
    elif config.mode == "nvfp4":
        blocks = blocks / jnp.asarray(config.global_scale, aval(x).dtype)
        scale_top = _FORMATS[config.scale_type][2]
        scales = _round_to_format(
            jnp.clip(jnp.max(jnp.abs(blocks), axis=-1, keepdims=True) / top, 0, scale_top),
            config.scale_type,
        )
        # A block whose scale rounds to zero quantizes to zeros.
        scaled = jnp.where(scales == 0, 0.0, blocks / jnp.where(scales == 0, 1.0, scales))
    else:
        raise ValueError(
            f"scaled_dot_general: unsupported config mode {config.mode!r}; use "
            "get_scaled_dot_general_config('mxfp8') or ('nvfp4')"
        )
    values = _round_to_format(jnp.clip(scaled, -top, top), config.data_type)
    return jnp.reshape(values, (b, m, k)), scales[..., 0]


def _to_3d(x: Array, contract: Sequence[int], batch: Sequence[int]) -> Array:
    """`x` as ``(B, M, K)``: its batch axes, its free axes, its contracting axes (each group
    in the order given, so that the contracting axes of both operands pair up)."""
    shape = aval(x).shape
    free = [d for d in range(len(shape)) if d not in contract and d not in batch]
    t = jnp.transpose(x, (*batch, *free, *contract))
    sizes = [
        int(np.prod([shape[d] for d in group], dtype=int)) for group in (batch, free, contract)
    ]
    return jnp.reshape(t, sizes)


def _free(ndim: int, contract: Sequence[int], batch: Sequence[int]) -> list[int]:
    return [d for d in range(ndim) if d not in contract and d not in batch]


def _quantized_dot(x, y, dimension_numbers, configs, dtype):
    """The dot_general of `x` and `y` with both quantized along their contracting axes."""
    (xc, yc), (xb, yb) = dimension_numbers
    xq, xs = _quantize(_to_3d(x, xc, xb), configs[0])
    yq, ys = _quantize(_to_3d(y, yc, yb), configs[1])
    out = scaled_matmul(xq, yq, xs, ys, preferred_element_type=None)
    if configs[0].mode == "nvfp4":
        out = out * jnp.asarray(configs[0].global_scale * configs[1].global_scale, dtype)
    sx, sy = aval(x).shape, aval(y).shape
    shape = (
        [sx[d] for d in xb]
        + [sx[d] for d in _free(len(sx), xc, xb)]
        + [sy[d] for d in _free(len(sy), yc, yb)]
    )
    return jnp.reshape(out, shape)


def _operand_cotangent(
    g, other, own_ndim, own_c, other_c, own_b, other_b, own_is_rhs, configs, dtype
):
    """The cotangent of one operand of a dot_general (contracting axes `own_c`, batch axes
    `own_b`), from the output cotangent `g` and the other operand, quantized as JAX's
    backward pass (NVFP4: not quantized)."""
    own_free = _free(own_ndim, own_c, own_b)
    other_free = _free(aval(other).ndim, other_c, other_b)
    # The output's axes: batch, then lhs's free axes, then rhs's.
    first = len(own_b) + (0 if own_is_rhs else len(own_free))
    g_other = tuple(range(first, first + len(other_free)))
    dn = ((g_other, tuple(other_free)), (tuple(range(len(own_b))), tuple(other_b)))
    size = int(np.prod([aval(other).shape[d] for d in other_free], dtype=int))
    block = configs[0].block_size
    if configs[0].mode != "nvfp4" and (size < block or size % block):
        raise ValueError(
            f"scaled_dot_general: the derivative with respect to "
            f"{'rhs' if own_is_rhs else 'lhs'} contracts over the free axes of the other "
            f"operand, of total size {size}, which must be a multiple of the "
            f"{configs[0].mode} block size {block} (as in JAX)"
        )
    if configs[0].mode == "nvfp4":
        product = dot_general(g, other, dn)
    else:
        product = _quantized_dot(g, other, dn, configs, dtype)
    # product: batch, own free axes, then other's contracting axes in increasing order,
    # which pair with own_c sorted by other_c.
    own_c_sorted = [own_c[i] for i in np.argsort(other_c)]
    order = [*own_b, *own_free, *own_c_sorted]
    return jnp.transpose(product, tuple(int(i) for i in np.argsort(order)))


def _scaled_dot(dimension_numbers, dtype, configs, lhs, rhs):
    return _quantized_dot(lhs, rhs, dimension_numbers, configs, dtype)


def _scaled_dot_fwd(dimension_numbers, dtype, configs, lhs, rhs):
    return _scaled_dot(dimension_numbers, dtype, configs, lhs, rhs), (lhs, rhs)


def _scaled_dot_bwd(dimension_numbers, dtype, configs, residuals, g):
    lhs, rhs = residuals
    (lc, rc), (lb, rb) = dimension_numbers
    g_lhs = _operand_cotangent(
        g, rhs, aval(lhs).ndim, lc, rc, lb, rb, False, [configs[2], configs[1]], dtype
    )
    g_rhs = _operand_cotangent(
        g, lhs, aval(rhs).ndim, rc, lc, rb, lb, True, [configs[2], configs[0]], dtype
    )
    if configs[2].mode == "nvfp4":
        # JAX's straight-through estimator: no gradient where quantization clipped.
        top = _FORMATS[configs[0].data_type][2] * _FORMATS[configs[0].scale_type][2]
        g_lhs = jnp.where(jnp.abs(lhs) <= configs[0].global_scale * top, g_lhs, 0.0)
        g_rhs = jnp.where(jnp.abs(rhs) <= configs[1].global_scale * top, g_rhs, 0.0)
    return g_lhs.astype(aval(lhs).dtype), g_rhs.astype(aval(rhs).dtype)


_scaled_dot_vjp = custom_vjp(_scaled_dot, nondiff_argnums=(0, 1, 2))
_scaled_dot_vjp.defvjp(_scaled_dot_fwd, _scaled_dot_bwd)


def scaled_dot_general(
    lhs: ArrayLike,
    rhs: ArrayLike,
    dimension_numbers: Any,
    preferred_element_type: Any = np.float32,
    configs: Sequence[BlockScaleConfig] | None = None,
    implementation: str | None = None,
) -> Array:
    """`lax.dot_general` with block-scaled quantization of both operands, as
    `jax.nn.scaled_dot_general`.

    Each operand is quantized along its contracting axes (whose total size must be a multiple
    of the block size) with ``configs[0]`` and ``configs[1]`` (from
    `get_scaled_dot_general_config`), the quantized values are multiplied by
    `scaled_matmul`, and the result, laid out as `lax.dot_general`'s, is returned in
    `preferred_element_type` (float32 by default). The quantized formats are emulated:
    each value is rounded to the nearest number of its 8- or 4-bit format and kept in the
    operand's dtype. With ``configs=None`` this is `lax.dot_general`.

    Derivatives (reverse mode, as JAX's, which is a `custom_vjp`): the straight-through
    estimator. The cotangent of each operand is the product of the output cotangent,
    quantized with ``configs[2]``, and the other operand, quantized again (for NVFP4, an
    unquantized product, zero where quantization clipped the operand). `implementation` is
    accepted and ignored, as in JAX.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import nn

        rng = np.random.default_rng(0)
        x, y = rng.standard_normal((2, 64)), rng.standard_normal((3, 64))
        configs = [nn.get_scaled_dot_general_config("mxfp8")] * 3
        out = nn.scaled_dot_general(x, y, (((1,), (1,)), ((), ())), configs=configs)
        assert out.shape == (2, 3) and out.dtype == np.float32
        assert np.allclose(out, x @ y.T, atol=0.5)  # within the 8-bit rounding
        ```
    """
    del implementation
    if configs is None:
        out = dot_general(lhs, rhs, dimension_numbers)
        return out if preferred_element_type is None else out.astype(preferred_element_type)
    lhs, rhs = promote_inexact(lhs, rhs)
    try:
        (lc, rc), (lb, rb) = dimension_numbers
        dn = (
            (tuple(int(d) for d in lc), tuple(int(d) for d in rc)),
            (tuple(int(d) for d in lb), tuple(int(d) for d in rb)),
        )
    except (TypeError, ValueError):
        raise TypeError(
            "scaled_dot_general: dimension_numbers must be ((lhs_contracting, "
            "rhs_contracting), (lhs_batch, rhs_batch)), got "
            f"{dimension_numbers!r}"
        ) from None
    if len(configs) != 3:
        raise ValueError(
            "scaled_dot_general: configs must hold three BlockScaleConfigs (lhs, "
            f"rhs, and the output cotangent), got {len(configs)}"
        )
    (lc, rc), (lb, rb) = dn
    ls, rs = aval(lhs).shape, aval(rhs).shape
    if (
        len(lc) != len(rc)
        or len(lb) != len(rb)
        or any(ls[a] != rs[b] for a, b in zip(lc + lb, rc + rb))
    ):
        raise ValueError(
            f"scaled_dot_general: dimension_numbers {dimension_numbers!r} do not "
            f"pair up axes of equal sizes of lhs {ls} and rhs {rs}"
        )
    dtype = jnp.result_type(lhs, rhs)
    out = _scaled_dot_vjp(dn, dtype, tuple(configs), lhs, rhs)
    return out if preferred_element_type is None else out.astype(preferred_element_type)
