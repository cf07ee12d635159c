"""Convolutions and window reductions (`funcdiff.lax.conv_general_dilated` and friends,
`funcdiff.lax.reduce_window`), beyond the generic table checks of `test_lax_ops.py`: values of
named configurations against the direct-loop reference (`conv_reference.py`) and SciPy, the
shape helpers, the transpose rules through the identity <v, J t> = <J^T v, t>, derivatives to
second order, vmap over every operand, jit, and the error messages."""

from __future__ import annotations

import conv_reference as cref
import numpy as np
import pytest
import scipy.signal

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import lax, test_util

RNG = np.random.default_rng(0)

# (lhs shape, rhs shape, params): every feature of the primitive, alone and together.
CONFIGS = {
    "1d-valid": ((2, 3, 7), (4, 3, 3), dict(window_strides=(1,), padding="VALID")),
    "1d-same-stride": ((2, 3, 7), (4, 3, 2), dict(window_strides=(2,), padding="SAME")),
    "1d-same-lower": ((1, 2, 6), (3, 2, 4), dict(window_strides=(1,), padding="SAME_LOWER")),
    "2d-pairs": ((2, 2, 5, 6), (3, 2, 3, 2),
                 dict(window_strides=(2, 1), padding=((1, 2), (0, 1)))),
    "2d-negative-pad": ((1, 2, 6, 5), (2, 2, 2, 2),
                        dict(window_strides=(1, 1), padding=((-1, 1), (2, -2)))),
    "2d-lhs-dilation": ((1, 2, 4, 3), (3, 2, 3, 2),
                        dict(window_strides=(1, 2), padding=((2, 2), (1, 0)),
                             lhs_dilation=(2, 3))),
    "2d-rhs-dilation": ((2, 1, 7, 7), (2, 1, 3, 2),
                        dict(window_strides=(2, 1), padding="SAME", rhs_dilation=(2, 3))),
    "2d-nhwc": ((2, 6, 5, 3), (3, 2, 3, 4),
                dict(window_strides=(1, 2), padding="SAME",
                     dimension_numbers=("NHWC", "HWIO", "NHWC"))),
    "2d-mixed-layouts": ((5, 2, 6, 3), (4, 3, 2, 2),
                         dict(window_strides=(2, 1), padding=((0, 1), (1, 1)),
                              rhs_dilation=(1, 2),
                              dimension_numbers=("HNWC", "OIHW", "CHWN"))),
    "2d-feature-groups": ((2, 4, 5, 5), (6, 2, 2, 3),
                          dict(window_strides=(1, 1), padding="SAME", feature_group_count=2)),
    "2d-depthwise": ((1, 5, 5, 3), (3, 3, 1, 6),
                     dict(window_strides=(2, 2), padding="SAME", feature_group_count=3,
                          dimension_numbers=("NHWC", "HWIO", "NHWC"))),
    "1d-batch-groups": ((4, 3, 7), (6, 3, 3),
                        dict(window_strides=(2,), padding=((1, 2),), lhs_dilation=(2,),
                             batch_group_count=2)),
    "3d": ((1, 2, 4, 3, 4), (2, 2, 2, 2, 3),
           dict(window_strides=(1, 2, 1), padding="SAME", rhs_dilation=(1, 1, 2))),
    "everything": ((3, 5, 2, 4), (3, 2, 2, 6),
                   dict(window_strides=(2, 1), padding=((1, -1), (2, 1)), lhs_dilation=(2, 1),
                        rhs_dilation=(1, 2), dimension_numbers=("NHWC", "HWIO", "NCHW"),
                        feature_group_count=2)),
}


def _operands(lhs_shape, rhs_shape, dtype=np.float64):
    return RNG.standard_normal(lhs_shape).astype(dtype), RNG.standard_normal(rhs_shape).astype(
        dtype)


def _conv(params):
    def f(lhs, rhs):
        return lax.conv_general_dilated(lhs, rhs, **params)

    return f


def _reference(lhs, rhs, params):
    """The reference with string padding resolved by hand (SAME: output ceil(n / stride))."""
    params = dict(params)
    padding = params.pop("padding")
    dn = cref.spec_axes(params.get("dimension_numbers") or (tuple(range(lhs.ndim)),) * 3)
    if isinstance(padding, str):
        pads = []
        rhs_dil = params.get("rhs_dilation") or (1,) * (lhs.ndim - 2)
        for i, s in enumerate(params["window_strides"]):
            n, k = lhs.shape[dn[0][2 + i]], rhs.shape[dn[1][2 + i]]
            span = (k - 1) * rhs_dil[i] + 1
            total = 0 if padding == "VALID" else max((-(-n // s) - 1) * s + span - n, 0)
            small, large = total // 2, total - total // 2
            pads.append((large, small) if padding == "SAME_LOWER" else (small, large))
        padding = tuple(pads)
    return cref.conv(lhs, rhs, padding=padding, **params)


@pytest.mark.parametrize("name", CONFIGS)
def test_values_match_the_direct_loop(name):
    lhs_shape, rhs_shape, params = CONFIGS[name]
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        lhs, rhs = _operands(lhs_shape, rhs_shape, dtype)
        out = lax.conv_general_dilated(lhs, rhs, **params)
        assert out.dtype == dtype
        np.testing.assert_allclose(out, _reference(lhs, rhs, params), rtol=tol, atol=tol)


def test_integer_and_complex_operands():
    lhs, rhs = RNG.integers(-5, 5, (2, 3, 6)), RNG.integers(-5, 5, (2, 3, 2))
    out = lax.conv(lhs, rhs, (1,), "VALID")
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, cref.conv(lhs, rhs, window_strides=(1,),
                                                 padding=((0, 0),)))
    z = lhs + 1j * RNG.standard_normal(lhs.shape)
    np.testing.assert_allclose(lax.conv(z, rhs, (2,), "SAME"),
                               _reference(z, rhs, dict(window_strides=(2,), padding="SAME")))


def test_matches_scipy_correlate():
    # A single-channel 2-D convolution is SciPy's cross-correlation ("valid" and "same").
    x, k = RNG.standard_normal((9, 8)), RNG.standard_normal((3, 3))
    out = lax.conv(x[None, None], k[None, None], (1, 1), "VALID")[0, 0]
    np.testing.assert_allclose(out, scipy.signal.correlate(x, k, mode="valid"), atol=1e-12)
    out = lax.conv(x[None, None], k[None, None], (1, 1), "SAME")[0, 0]
    np.testing.assert_allclose(out, scipy.signal.correlate(x, k, mode="same"), atol=1e-12)


def test_string_specs_equal_transposed_operands():
    lhs, rhs = _operands((2, 3, 7, 6), (4, 3, 3, 2))
    nchw = lax.conv_general_dilated(lhs, rhs, (2, 1), "SAME", rhs_dilation=(1, 2))
    nhwc = lax.conv_general_dilated(lhs.transpose(0, 2, 3, 1), rhs.transpose(2, 3, 1, 0), (2, 1),
                                    "SAME", rhs_dilation=(1, 2),
                                    dimension_numbers=("NHWC", "HWIO", "NHWC"))
    np.testing.assert_allclose(nhwc, nchw.transpose(0, 2, 3, 1), atol=1e-12)
    dn = lax.conv_dimension_numbers(lhs.shape, rhs.shape, ("NHWC", "HWIO", "NHWC"))
    assert dn == lax.ConvDimensionNumbers((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))
    again = lax.conv_general_dilated(lhs.transpose(0, 2, 3, 1), rhs.transpose(2, 3, 1, 0),
                                     (2, 1), "SAME", rhs_dilation=(1, 2), dimension_numbers=dn)
    np.testing.assert_array_equal(again, nhwc)


def test_wrappers_are_conv_general_dilated():
    lhs, rhs = _operands((2, 3, 6, 5), (4, 3, 2, 2))
    np.testing.assert_array_equal(lax.conv(lhs, rhs, (2, 1), "SAME"),
                                  lax.conv_general_dilated(lhs, rhs, (2, 1), "SAME"))
    np.testing.assert_array_equal(
        lax.conv_with_general_padding(lhs, rhs, (1, 2), [(1, 0), (2, 2)], (2, 1), (1, 2)),
        lax.conv_general_dilated(lhs, rhs, (1, 2), [(1, 0), (2, 2)], (2, 1), (1, 2)))
    out = lax.conv(lhs, rhs, (1, 1), "VALID", preferred_element_type=np.float32)
    assert out.dtype == np.float32


# ---- shape helpers --------------------------------------------------------------------------


@pytest.mark.parametrize("n,k,s", [(7, 3, 1), (7, 3, 2), (8, 2, 3), (5, 6, 2), (1, 1, 1)])
def test_padtype_to_pads(n, k, s):
    (lo, hi), = lax.padtype_to_pads((n,), (k,), (s,), "SAME")
    assert (n + lo + hi - k) // s + 1 == -(-n // s)  # SAME: ceil(n / s) outputs
    assert 0 <= hi - lo <= 1  # the larger half at the end
    (lo2, hi2), = lax.padtype_to_pads((n,), (k,), (s,), "SAME_LOWER")
    assert (lo2, hi2) == (hi, lo)
    assert lax.padtype_to_pads((n,), (k,), (s,), "VALID") == [(0, 0)]
    with pytest.raises(ValueError, match="unknown padding 'FULL'"):
        lax.padtype_to_pads((n,), (k,), (s,), "FULL")


@pytest.mark.parametrize("name", CONFIGS)
def test_shape_helpers_agree_with_the_result(name):
    lhs_shape, rhs_shape, params = CONFIGS[name]
    if any(params.get(k) for k in ("lhs_dilation", "rhs_dilation", "feature_group_count",
                                    "batch_group_count")):
        return  # conv_general_shape_tuple knows no dilation or groups (as in JAX)
    lhs, rhs = _operands(lhs_shape, rhs_shape)
    expected = lax.conv_general_dilated(lhs, rhs, **params).shape
    got = lax.conv_general_shape_tuple(lhs_shape, rhs_shape, params["window_strides"],
                                       params["padding"], params.get("dimension_numbers"))
    assert got == expected


def test_reduce_window_shape_tuple():
    x = RNG.standard_normal((3, 7, 6))
    params = dict(window_dimensions=(1, 3, 2), window_strides=(1, 2, 2),
                  padding=((0, 0), (1, 1), (0, -1)), base_dilation=(1, 1, 2),
                  window_dilation=(1, 2, 1))
    shape = lax.reduce_window_shape_tuple(x.shape, **params)
    assert shape == lax.reduce_window(x, 0.0, lax.add, **params).shape == (3, 3, 5)


# ---- derivatives ----------------------------------------------------------------------------


def _inner(a, b):
    return float(np.sum(np.asarray(a) * np.asarray(b)))


@pytest.mark.parametrize("name", CONFIGS)
def test_transposes_satisfy_the_adjoint_identity(name):
    # <v, J t> = <J^T v, t> for each operand: J t is the convolution with t in place of that
    # operand (bilinear), J^T v what reverse mode computes.
    lhs_shape, rhs_shape, params = CONFIGS[name]
    f = _conv(params)
    lhs, rhs = _operands(lhs_shape, rhs_shape)
    t_lhs, t_rhs = _operands(lhs_shape, rhs_shape)
    v = RNG.standard_normal(np.shape(f(lhs, rhs)))
    _, vjp_lhs = funcdiff.vjp(lambda x: f(x, rhs), lhs)
    _, vjp_rhs = funcdiff.vjp(lambda w: f(lhs, w), rhs)
    np.testing.assert_allclose(_inner(v, f(t_lhs, rhs)), _inner(vjp_lhs(v)[0], t_lhs),
                               rtol=1e-10)
    np.testing.assert_allclose(_inner(v, f(lhs, t_rhs)), _inner(vjp_rhs(v)[0], t_rhs),
                               rtol=1e-10)


@pytest.mark.parametrize("name", ["2d-pairs", "2d-lhs-dilation", "2d-mixed-layouts",
                                  "2d-feature-groups", "1d-batch-groups", "everything"])
def test_second_order_derivatives(name):
    lhs_shape, rhs_shape, params = CONFIGS[name]
    lhs, rhs = _operands(lhs_shape, rhs_shape)
    test_util.check_grads(_conv(params), (lhs, rhs), order=2, modes=("fwd", "rev"))


def test_gradient_of_a_small_convnet():
    # conv -> relu -> max pool -> mean: the derivatives every convnet takes.
    def loss(w, x):
        y = lax.conv_general_dilated(x, w, (1, 1), "SAME",
                                     dimension_numbers=("NHWC", "HWIO", "NHWC"))
        y = jnp.tanh(y)
        y = lax.reduce_window(y, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
        return jnp.mean(y ** 2)

    w, x = RNG.standard_normal((3, 3, 2, 4)), RNG.standard_normal((2, 6, 6, 2))
    test_util.check_grads(loss, (w, x), order=2, modes=("fwd", "rev"))
    g_eager = funcdiff.grad(loss)(w, x)
    np.testing.assert_allclose(funcdiff.jit(funcdiff.grad(loss))(w, x), g_eager, rtol=1e-12)


# ---- vmap and jit ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["2d-mixed-layouts", "2d-feature-groups", "1d-batch-groups",
                                  "everything"])
@pytest.mark.parametrize("in_axes", [(0, None), (None, 1), (2, 0), (-1, -1)])
def test_vmap_matches_a_loop(name, in_axes):
    lhs_shape, rhs_shape, params = CONFIGS[name]
    lhs, rhs = _operands(lhs_shape, rhs_shape)
    args = [x if ax is None else np.stack([x, 2 * x + 1, -x], axis=ax)
            for x, ax in zip((lhs, rhs), in_axes)]
    test_util.check_vmap(_conv(params), args, in_axes=in_axes, out_axes=1)


@pytest.mark.parametrize("name", ["2d-lhs-dilation", "2d-depthwise", "1d-batch-groups"])
def test_jit_matches_eager(name):
    lhs_shape, rhs_shape, params = CONFIGS[name]
    lhs, rhs = _operands(lhs_shape, rhs_shape)
    f = _conv(params)
    np.testing.assert_array_equal(funcdiff.jit(f)(lhs, rhs), f(lhs, rhs))
    loss = funcdiff.grad(lambda x, w: jnp.sum(jnp.sin(f(x, w))), (0, 1))
    for got, expected in zip(funcdiff.jit(loss)(lhs, rhs), loss(lhs, rhs)):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


# ---- conv_transpose ---------------------------------------------------------------------------


@pytest.mark.parametrize("padding", ["SAME", "VALID", [(1, 2)]])
@pytest.mark.parametrize("stride,k", [(2, 3), (3, 2), (1, 3), (2, 2)])
def test_conv_transpose(padding, stride, k):
    x, w = RNG.standard_normal((2, 5, 3)), RNG.standard_normal((k, 3, 4))  # NWC, WIO
    out = lax.conv_transpose(x, w, (stride,), padding)
    if padding == "SAME":
        assert out.shape == (2, 5 * stride, 4)
    elif padding == "VALID":
        assert out.shape == (2, 5 * stride + max(k - stride, 0), 4)
    # By definition: the input dilated by the stride, then a stride-1 convolution.
    dil = np.zeros((2, 4 * stride + 1, 3))
    dil[:, ::stride] = x
    ref_pads = padding if not isinstance(padding, str) else None
    if ref_pads is None:
        total = k + stride - 2 + (max(k - stride, 0) if padding == "VALID" else 0)
        lo = k - 1 if padding == "VALID" or stride > k - 1 else -(-total // 2)
        ref_pads = [(lo, total - lo)]
    expected = cref.conv(dil, w, window_strides=(1,), padding=ref_pads,
                         dimension_numbers=("NWC", "WIO", "NWC"))
    np.testing.assert_allclose(out, expected, atol=1e-12)


def test_conv_transpose_with_transposed_kernel_is_the_gradient():
    # With transpose_kernel, conv_transpose is the VJP of the strided SAME convolution.
    x, w = RNG.standard_normal((2, 8, 6, 3)), RNG.standard_normal((3, 3, 3, 5))
    dn = ("NHWC", "HWIO", "NHWC")

    def f(x):
        return lax.conv_general_dilated(x, w, (2, 2), "SAME", dimension_numbers=dn)

    ct = RNG.standard_normal(f(x).shape)
    (expected,) = funcdiff.vjp(f, x)[1](ct)
    got = lax.conv_transpose(ct, w, (2, 2), "SAME", dimension_numbers=dn, transpose_kernel=True)
    np.testing.assert_allclose(got, expected, atol=1e-12)


# ---- reduce_window ----------------------------------------------------------------------------


def test_reduce_window_computations_and_init_values():
    x = RNG.standard_normal((5, 6))
    window = dict(window_dimensions=(2, 3), window_strides=(1, 2), padding="SAME")
    pads = lax.padtype_to_pads(x.shape, (2, 3), (1, 2), "SAME")
    params = dict(window, padding=pads)
    for computation in (lax.add, jnp.add, lambda a, b: a + b):
        np.testing.assert_allclose(lax.reduce_window(x, 0.0, computation, **window),
                                   cref.reduce_window("sum", x, **params), atol=1e-12)
    for computation in (lax.max, jnp.maximum):
        np.testing.assert_array_equal(lax.reduce_window(x, -np.inf, computation, **window),
                                      cref.reduce_window("max", x, **params))
    np.testing.assert_array_equal(lax.reduce_window(x, np.inf, jnp.minimum, **window),
                                  cref.reduce_window("min", x, **params))
    # A non-identity init value is in every reduction, and in every padded place.
    counts = cref.reduce_window("sum", np.ones_like(x), **params)
    np.testing.assert_allclose(lax.reduce_window(x, 1.5, lax.add, **window),
                               cref.reduce_window("sum", x, **params) + 1.5 * (7 - counts),
                               atol=1e-12)
    np.testing.assert_array_equal(lax.reduce_window(x, 0.25, lax.max, **window),
                                  np.maximum(cref.reduce_window("max", x, **params), 0.25))
    # Other computations fold over the window: a product pool.
    y = 1.0 + RNG.random((5, 6))
    padded = np.pad(y, pads, constant_values=1.0)
    expected = np.array([[padded[i:i + 2, j:j + 3].prod() for j in range(0, 6, 2)]
                         for i in range(5)])
    np.testing.assert_allclose(lax.reduce_window(y, 1.0, lax.mul, **window), expected,
                               rtol=1e-12)


def test_reduce_window_of_a_pytree_with_any_computation():
    # Max pooling that also returns where the maximum is: (value, index) pairs.
    x = RNG.standard_normal((4, 6))
    index = np.arange(x.size, dtype=np.float64).reshape(x.shape)

    def pick(a, b):
        (va, ia), (vb, ib) = a, b
        take_a = va >= vb
        return jnp.where(take_a, va, vb), jnp.where(take_a, ia, ib)

    values, where = lax.reduce_window((x, index), (-np.inf, -1.0), pick, (2, 3), (2, 3),
                                      "VALID")
    blocks = x.reshape(2, 2, 2, 3).transpose(0, 2, 1, 3).reshape(2, 2, 6)
    np.testing.assert_array_equal(values, blocks.max(-1))
    np.testing.assert_array_equal(x.ravel()[where.astype(int)], blocks.max(-1))
    with pytest.raises(ValueError, match="same structure"):
        lax.reduce_window((x, index), -np.inf, pick, (2, 3), (2, 3), "VALID")


def test_folded_reduce_window_derivatives_vmap_jit():
    x = 1.0 + RNG.random((3, 5, 4))

    def prod_pool(x):
        return lax.reduce_window(x, 1.0, lax.mul, (2, 2), (1, 2), ((1, 0), (0, 1)),
                                 window_dilation=(2, 1))

    test_util.check_grads(prod_pool, (x[0],), order=2, modes=("fwd", "rev"))
    test_util.check_vmap(prod_pool, [x], in_axes=(0,), out_axes=1)
    np.testing.assert_allclose(funcdiff.jit(prod_pool)(x[0]), prod_pool(x[0]), rtol=1e-14)


def test_max_pool_gradient_goes_to_the_maximum_and_splits_ties():
    x = np.array([[1.0, 5.0, 2.0, 2.0], [0.0, 3.0, 2.0, 1.0]])

    def pool(x):
        return lax.reduce_window(x, -np.inf, lax.max, (2, 2), (2, 2), "VALID")

    np.testing.assert_array_equal(pool(x), [[5.0, 2.0]])
    g = funcdiff.grad(lambda x: jnp.sum(pool(x) * np.array([[1.0, 10.0]])))(x)
    third = 10.0 / 3  # three tied maxima share the 10
    np.testing.assert_allclose(g, [[0.0, 1.0, third, third], [0.0, 0.0, third, 0.0]])


def test_avg_pool_gradient_and_vmap():
    x = RNG.standard_normal((3, 6, 5))

    def avg_pool(x):
        total = lax.reduce_window(x, 0.0, lax.add, (2, 2), (2, 1), ((0, 1), (1, 1)))
        return total / 4.0

    test_util.check_grads(avg_pool, (x[0],), order=2, modes=("fwd", "rev"))
    test_util.check_vmap(avg_pool, [x], in_axes=(0,), out_axes=2)
    test_util.check_vmap(lambda x: lax.reduce_window(x, -np.inf, lax.max, (3, 2), (1, 2),
                                                     "SAME"), [x], in_axes=(1,), out_axes=0)


# ---- errors ---------------------------------------------------------------------------------


def test_errors_name_the_problem():
    lhs, rhs = _operands((2, 4, 6), (3, 3, 2))
    with pytest.raises(TypeError, match="4 features .* 3 input features x feature_group_count=1"):
        funcdiff.make_jaxpr(lambda x, w: lax.conv(x, w, (1,), "VALID"))(lhs, rhs)
    with pytest.raises(ValueError, match="padding string with lhs_dilation"):
        lax.conv_general_dilated(lhs, rhs, (1,), "SAME", lhs_dilation=(2,))
    with pytest.raises(ValueError, match="window_strides must have 1 positive entries"):
        lax.conv_general_dilated(lhs, rhs, (1, 1), "SAME")
    with pytest.raises(ValueError, match="spatial letters"):
        lax.conv_dimension_numbers((1, 2, 3, 4), (1, 2, 3, 4), ("NCHW", "OIHX", "NCHW"))
    with pytest.raises(ValueError, match="window_dimensions must have 2 positive entries"):
        lax.reduce_window(np.ones((3, 3)), 0.0, lax.add, (2,), (1, 1), "VALID")


def test_stax_style_convnet():
    # What jax.example_libraries.stax does with the shape helpers: shapes with a -1 batch at
    # init, then conv, max pool and average pool (its window sums divided by a window count
    # that reduce_window computes too).
    in_shape, dn = (-1, 6, 6, 2), ("NHWC", "HWIO", "NHWC")
    conv_shape = lax.conv_general_shape_tuple(in_shape, (3, 3, 2, 4), (1, 1), "SAME", dn)
    assert conv_shape == (-1, 6, 6, 4)
    window, strides = (1, 2, 2, 1), (1, 2, 2, 1)
    pads = lax.padtype_to_pads(conv_shape, window, strides, "VALID")
    assert lax.reduce_window_shape_tuple(conv_shape, window, strides, pads, (1,) * 4,
                                         (1,) * 4) == (-1, 3, 3, 4)

    def net(w, x):
        y = jnp.maximum(lax.conv_general_dilated(x, w, (1, 1), "SAME", (1, 1), (1, 1), dn), 0.0)
        y = lax.reduce_window(y, -jnp.inf, lax.max, window, strides, "VALID")
        ones = jnp.ones(y.shape[1:-1])
        counts = lax.reduce_window(ones, 0.0, lax.add, (2, 2), (1, 1), "SAME")
        return lax.reduce_window(y, 0.0, lax.add, (1, 2, 2, 1), (1, 1, 1, 1), "SAME") / (
            counts[None, :, :, None])

    w, x = RNG.standard_normal((3, 3, 2, 4)), RNG.standard_normal((2, 6, 6, 2))
    out = net(w, x)
    assert out.shape == (2, 3, 3, 4)
    # The average pool of the last row and column covers fewer elements ("SAME" padding).
    y = np.maximum(_reference(x, w, dict(window_strides=(1, 1), padding="SAME",
                                         dimension_numbers=dn)), 0.0)
    pooled = y.reshape(2, 3, 2, 3, 2, 4).max(axis=(2, 4))
    padded = np.pad(pooled, ((0, 0), (0, 1), (0, 1), (0, 0)), constant_values=np.nan)
    means = np.nanmean(np.stack([padded[:, i:i + 3, j:j + 3] for i in (0, 1) for j in (0, 1)]),
                       axis=0)
    np.testing.assert_allclose(out, means, rtol=1e-12)
    test_util.check_grads(lambda w: jnp.sum(jnp.tanh(net(w, x))), (w,), order=1,
                          modes=("fwd", "rev"))


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_numpy_convolve_and_correlate(mode):
    # Longer than the generic table's arrays, both orders of lengths, real and complex.
    for n, m in ((40, 7), (6, 31), (8, 8)):
        a = RNG.standard_normal(n) + 1j * RNG.standard_normal(n)
        v = RNG.standard_normal(m) + 1j * RNG.standard_normal(m)
        for x, y in ((a.real, v.real), (a, v)):
            np.testing.assert_allclose(jnp.convolve(x, y, mode), np.convolve(x, y, mode),
                                       atol=1e-12)
            np.testing.assert_allclose(jnp.correlate(x, y, mode), np.correlate(x, y, mode),
                                       atol=1e-12)
    ints = jnp.convolve(np.arange(5), np.arange(3), mode, preferred_element_type=np.float32)
    assert ints.dtype == np.float32
    np.testing.assert_array_equal(ints, np.convolve(np.arange(5), np.arange(3), mode))
    test_util.check_grads(lambda x, y: jnp.correlate(x, y, mode), (a, v[:5]), order=2)
    with pytest.raises(ValueError, match="a must be one-dimensional, got shape"):
        jnp.convolve(np.ones((2, 2)), np.ones(2), mode)
    with pytest.raises(ValueError, match="mode must be one of"):
        jnp.convolve(np.ones(3), np.ones(2), "circular")
