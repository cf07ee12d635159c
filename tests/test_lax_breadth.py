"""`jax.lax` names composed from existing primitives: `mulhi`, `ragged_dot`,
`conv_general_dilated_patches`, `rng_bit_generator`, and examples and errors of the collectives
`all_to_all`, `pswapaxes` and `pshuffle` (whose values and derivatives the records of
all_gather and ppermute in context_lax_table.py check; `bitcast_convert_type`, a primitive, is
in bits_lax_table.py).

Values are checked against references written here (Python integers, loops over groups and
windows); the last tests compare with JAX when it is installed."""

import numpy as np
import pytest

import funcdiff
from funcdiff import grad, jit, lax, vmap
from funcdiff.test_util import check_grads

RNG = np.random.default_rng(0)
INT_DTYPES = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64]


# ---- mulhi ----------------------------------------------------------------------------------


def _mulhi_reference(x, y, dtype):
    width = 8 * np.dtype(dtype).itemsize
    high = [(int(a) * int(b)) >> width for a, b in zip(np.ravel(x), np.ravel(y))]
    return np.array(high, dtype=object).astype(dtype).reshape(np.shape(x))


@pytest.mark.parametrize("dtype", INT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_mulhi_is_the_high_half_of_the_product(dtype):
    info = np.iinfo(dtype)
    x = RNG.integers(info.min, info.max, 40, dtype=dtype, endpoint=True)
    y = RNG.integers(info.min, info.max, 40, dtype=dtype, endpoint=True)
    x[:4] = [info.min, info.max, info.max, 0]
    y[:4] = [info.min, info.max, info.min, info.max]
    expected = _mulhi_reference(x, y, dtype)
    for fn in (lax.mulhi, jit(lax.mulhi), vmap(lax.mulhi)):
        out = fn(x, y)
        assert out.dtype == dtype
        np.testing.assert_array_equal(out, expected)
    # 0-d operands (jit's code must not wrap around NumPy scalars, which warn)
    with np.errstate(all="raise"):
        assert jit(lax.mulhi)(x[1], y[1]) == expected[1]
        assert lax.mulhi(x[2], y[2]) == expected[2]


def test_mulhi_checks_its_operands():
    assert lax.mulhi(np.array([-5, 7], np.int32), 3).tolist() == [-1, 0]  # a weak scalar
    with pytest.raises(TypeError, match="one dtype"):
        lax.mulhi(np.ones(2, np.int32), np.ones(2, np.int64))
    with pytest.raises(TypeError, match="integer operands"):
        lax.mulhi(np.ones(2), np.ones(2))


# ---- ragged_dot -----------------------------------------------------------------------------


def _ragged_reference(lhs, rhs, sizes):
    out = np.zeros((lhs.shape[0], rhs.shape[2]), np.result_type(lhs, rhs))
    start = 0
    for g, size in enumerate(sizes):
        stop = min(start + int(size), lhs.shape[0])
        out[start:stop] = lhs[start:stop] @ rhs[g]
        start = stop
    return out


@pytest.mark.parametrize("sizes", [[2, 0, 3], [2, 3, 3], [0, 0, 0], [6, 0, 0], [1, 1, 1]])
def test_ragged_dot_multiplies_each_group_by_its_matrix(sizes):
    lhs, rhs = RNG.normal(size=(6, 4)), RNG.normal(size=(3, 4, 2))
    sizes = np.array(sizes, np.int32)
    expected = _ragged_reference(lhs, rhs, sizes)
    for fn in (lax.ragged_dot, jit(lax.ragged_dot)):
        np.testing.assert_allclose(fn(lhs, rhs, sizes), expected, atol=1e-12)
    check_grads(lambda a, b: lax.ragged_dot(a, b, sizes), (lhs, rhs), order=2)


def test_ragged_dot_batches_over_operands_and_group_sizes():
    lhs, rhs = RNG.normal(size=(2, 5, 3)), RNG.normal(size=(2, 3, 2))
    sizes = np.array([[2, 3], [4, 0]], np.int32)
    out = vmap(lax.ragged_dot)(lhs, np.stack([rhs, 2 * rhs]), sizes)
    for i, r in enumerate([rhs, 2 * rhs]):
        np.testing.assert_allclose(out[i], _ragged_reference(lhs[i], r, sizes[i]))


def test_ragged_dot_dtypes_and_errors():
    lhs, rhs = np.ones((3, 2), np.float32), np.ones((1, 2, 2), np.float32)
    sizes = np.array([3], np.int32)
    assert lax.ragged_dot(lhs, rhs, sizes).dtype == np.float32
    assert lax.ragged_dot(lhs, rhs, sizes, preferred_element_type=np.float64).dtype == np.float64
    with pytest.raises(TypeError, match=r"rhs \(g, k, n\)"):
        lax.ragged_dot(lhs, np.ones((2, 2)), sizes)
    with pytest.raises(TypeError, match="integers"):
        lax.ragged_dot(lhs, rhs, np.array([3.0]))
    with pytest.raises(NotImplementedError, match="group_offset"):
        lax.ragged_dot(lhs, rhs, sizes, group_offset=np.array([0]))


# ---- conv_general_dilated_patches -----------------------------------------------------------


def _patches_reference(x, filter_shape):
    """NCHW, stride 1, VALID: output feature c * kh * kw + (i * kw + j)."""
    n, c, h, w = x.shape
    kh, kw = filter_shape
    out = np.empty((n, c * kh * kw, h - kh + 1, w - kw + 1), x.dtype)
    for y in range(h - kh + 1):
        for z in range(w - kw + 1):
            out[:, :, y, z] = x[:, :, y : y + kh, z : z + kw].reshape(n, -1)
    return out


def test_conv_general_dilated_patches_lays_windows_along_features():
    x = RNG.normal(size=(2, 3, 5, 4))
    expected = _patches_reference(x, (2, 3))
    fn = lambda v: lax.conv_general_dilated_patches(v, (2, 3), (1, 1), "VALID")  # noqa: E731
    for f in (fn, jit(fn)):
        np.testing.assert_array_equal(f(x), expected)
    np.testing.assert_array_equal(vmap(fn)(np.stack([x, -x])), np.stack([expected, -expected]))
    check_grads(fn, (x,), order=1)
    # NHWC in and out: the same patches, with the features last
    nhwc = lax.conv_general_dilated_patches(
        x.transpose(0, 2, 3, 1), (2, 3), (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
    np.testing.assert_array_equal(nhwc, expected.transpose(0, 2, 3, 1))


def test_conv_general_dilated_patches_strides_and_padding():
    x = RNG.normal(size=(1, 2, 5, 5))
    out = lax.conv_general_dilated_patches(x, (3, 3), (2, 2), "SAME")
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    np.testing.assert_array_equal(out, _patches_reference(padded, (3, 3))[:, :, ::2, ::2])


# ---- collectives ----------------------------------------------------------------------------


def test_all_to_all_transposes_across_the_batch():
    x = np.arange(9.0).reshape(3, 3)  # element i holds row i; element j gets column j
    out = vmap(lambda r: lax.all_to_all(r, "i", 0, 0), axis_name="i")(x)
    np.testing.assert_array_equal(out, x.T)
    np.testing.assert_array_equal(
        jit(vmap(lambda r: lax.pswapaxes(r, "i", 0), axis_name="i"))(x), x.T
    )


def test_pshuffle_and_errors():
    x = np.array([10.0, 20.0, 30.0, 40.0])
    out = vmap(lambda v: lax.pshuffle(v, "i", [2, 0, 3, 1]), axis_name="i")(x)
    np.testing.assert_array_equal(out, x[[2, 0, 3, 1]])
    g = grad(
        lambda v: (
            vmap(lambda e: lax.pshuffle(e, "i", [2, 0, 3, 1]), axis_name="i")(v) * np.arange(4.0)
        ).sum()
    )(x)
    np.testing.assert_array_equal(g, [1.0, 3.0, 0.0, 2.0])  # element s went to position p
    with pytest.raises(ValueError, match="permutation"):
        vmap(lambda v: lax.pshuffle(v, "i", [0, 0, 1, 2]), axis_name="i")(x)
    with pytest.raises(ValueError, match="axis size 4"):
        vmap(lambda v: lax.all_to_all(np.ones(3) * v, "i", 0, 0), axis_name="i")(x)
    # the result has the operand's rank: concat_axis 1 is out of range for a vector (it
    # used to be taken modulo the rank, as 0)
    with pytest.raises(ValueError, match="out of range"):
        vmap(lambda v: lax.all_to_all(np.ones(4) * v, "i", 0, 1), axis_name="i")(x)
    with pytest.raises(NotImplementedError, match="axis_index_groups.*JAX refuses"):
        vmap(lambda v: lax.psum(v, "i", axis_index_groups=[[0, 1], [2, 3]]), axis_name="i")(x)


# ---- rng_bit_generator ----------------------------------------------------------------------


def test_rng_bit_generator_is_deterministic_and_advances_its_state():
    key = np.array([1, 2, 3, 4], np.uint32)
    new_key, bits = lax.rng_bit_generator(key, (2, 3))
    assert bits.dtype == np.uint32 and bits.shape == (2, 3)
    np.testing.assert_array_equal(new_key, [1, 2, 4, 4])
    again_key, again = jit(lambda k: lax.rng_bit_generator(k, (2, 3)))(key)
    np.testing.assert_array_equal(again, bits)
    np.testing.assert_array_equal(again_key, new_key)
    assert not np.array_equal(lax.rng_bit_generator(new_key, (2, 3))[1], bits)
    # a carry into the high word of the counter
    np.testing.assert_array_equal(
        lax.rng_bit_generator(np.array([0, 0, 2**32 - 1, 7], np.uint32), (1,))[0], [0, 0, 0, 8]
    )
    batched = vmap(lambda k: lax.rng_bit_generator(k, (3,))[1])(np.stack([key, new_key]))
    np.testing.assert_array_equal(batched[0], lax.rng_bit_generator(key, (3,))[1])
    for dtype in (np.uint8, np.uint16, np.uint64):
        assert lax.rng_bit_generator(key, (5,), dtype)[1].dtype == dtype
    # roughly uniform: the mean of many uint8 draws is near 127.5
    many = lax.rng_bit_generator(key, (20000,), np.uint8)[1]
    assert abs(float(many.mean()) - 127.5) < 2.0


def test_rng_bit_generator_errors():
    with pytest.raises(TypeError, match=r"shape \(4,\)"):
        lax.rng_bit_generator(funcdiff.random.key(0), (2,))
    with pytest.raises(TypeError, match="uint8, uint16"):
        lax.rng_bit_generator(np.zeros(4, np.uint32), (2,), np.int32)
    with pytest.raises(ValueError):
        lax.rng_bit_generator(np.zeros(4, np.uint32), (2,), algorithm=7)


# ---- against JAX ----------------------------------------------------------------------------


def test_agrees_with_jax_when_installed():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    x, y = RNG.integers(-(2**62), 2**62, (2, 10))
    assert np.array_equal(lax.mulhi(x, y), jax.lax.mulhi(x, y))
    lhs, rhs, sizes = RNG.normal(size=(6, 3)), RNG.normal(size=(3, 3, 2)), np.array([2, 0, 3])
    np.testing.assert_allclose(
        lax.ragged_dot(lhs, rhs, sizes), jax.lax.ragged_dot(lhs, rhs, sizes.astype(np.int32))
    )
    img = RNG.normal(size=(2, 5, 6, 3))
    kw = dict(
        filter_shape=(2, 3),
        window_strides=(2, 1),
        padding="SAME",
        rhs_dilation=(1, 2),
        dimension_numbers=("NHWC", "OIHW", "NCHW"),
    )
    np.testing.assert_allclose(
        lax.conv_general_dilated_patches(img, **kw), jax.lax.conv_general_dilated_patches(img, **kw)
    )
    v = RNG.normal(size=(3, 6, 2))
    ours = vmap(lambda e: lax.all_to_all(e, "i", 0, 1, tiled=True), axis_name="i")(v)
    theirs = jax.vmap(lambda e: jax.lax.all_to_all(e, "i", 0, 1, tiled=True), axis_name="i")(v)
    np.testing.assert_allclose(ours, theirs)
    f = np.array([1.0, -2.5, np.inf], np.float32)
    for dtype in (np.int32, np.uint8, np.uint16):
        np.testing.assert_array_equal(
            lax.bitcast_convert_type(f, dtype), jax.lax.bitcast_convert_type(f, dtype)
        )
