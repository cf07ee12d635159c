"""`funcdiff.scipy.fft` (the DCTs), `funcdiff.scipy.ndimage.map_coordinates` and
`funcdiff.scipy.integrate.trapezoid`: composed functions, so each gets its own checks here:
values and dtypes against SciPy, derivatives against finite differences (`check_grads`) in
both modes, and `jit` and `vmap` agreeing with eager evaluation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft as sfft
import scipy.integrate as sint
import scipy.ndimage as snd

import funcdiff
import funcdiff.numpy as jnp
from funcdiff.scipy import fft, integrate, ndimage
from funcdiff.test_util import check_grads

RNG = np.random.default_rng(11)


def _sample(shape, dtype=np.float64):
    x = RNG.standard_normal(shape)
    if np.issubdtype(dtype, np.complexfloating):
        x = x + 1j * RNG.standard_normal(shape)
    if np.issubdtype(dtype, np.integer):
        x = np.round(4 * x)
    return x.astype(dtype)


def _close(got, want, dtype=np.float64):
    got = np.asarray(got)
    assert got.dtype == np.asarray(want).dtype, (got.dtype, np.asarray(want).dtype)
    tol = 2e-5 if dtype in (np.float32, np.complex64) else 1e-10
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def _agree(f, *args):
    """`jit(f)` and `vmap(f)` over a batch of 3 shifted copies agree with eager `f`."""
    out = f(*args)
    np.testing.assert_allclose(funcdiff.jit(f)(*args), out, rtol=1e-12, atol=1e-12)
    assert funcdiff.jit(f)(*args).dtype == out.dtype
    batch = [np.stack([np.asarray(a) + 0.25 * k for k in range(3)]) for a in args]
    batched = funcdiff.vmap(f)(*batch)
    for k in range(3):
        np.testing.assert_allclose(batched[k], f(*[b[k] for b in batch]), rtol=1e-12,
                                   atol=1e-12)


# ---- dct, idct, dctn, idctn -----------------------------------------------------------------


@pytest.mark.parametrize("kind", [1, 2, 3, 4])
@pytest.mark.parametrize("name", ["dct", "idct"])
def test_dct_matches_scipy(kind, name):
    ours, ref = getattr(fft, name), getattr(sfft, name)
    for norm in (None, "backward", "ortho", "forward"):
        for n in (None, 2, 3, 9):
            for length in (2, 3, 5, 8):
                for dtype in (np.float64, np.float32, np.complex128, np.int32):
                    x = _sample((3, length), dtype)
                    want = ref(x, type=kind, n=n, axis=1, norm=norm)
                    _close(ours(x, type=kind, n=n, axis=1, norm=norm), want, dtype)
                x = _sample((length, 2))
                _close(ours(x, kind, n, 0, norm), ref(x, kind, n, 0, norm))


@pytest.mark.parametrize("kind", [2, 3, 4])
def test_dct_of_one_point(kind):
    for norm in (None, "ortho", "forward"):
        _close(fft.dct(np.array([1.5]), kind, norm=norm), sfft.dct(np.array([1.5]), kind,
                                                                    norm=norm))
        _close(fft.idct(np.array([1.5]), kind, norm=norm), sfft.idct(np.array([1.5]), kind,
                                                                      norm=norm))


@pytest.mark.parametrize("kind", [1, 2, 3, 4])
@pytest.mark.parametrize("name", ["dctn", "idctn"])
def test_dctn_matches_scipy(kind, name):
    ours, ref = getattr(fft, name), getattr(sfft, name)
    x = _sample((4, 5, 3))
    for s, axes in [(None, None), ((3, 6), None), (None, (0, 2)), ((2,), (1,)), (4, 0),
                    (None, -1), ((5, 2, 3), None)]:
        for norm in (None, "ortho", "forward"):
            _close(ours(x, kind, s, axes, norm), ref(x, kind, s, axes, norm))
    _close(ours(x.astype(np.float32), kind), ref(x.astype(np.float32), kind), np.float32)


@pytest.mark.parametrize("kind", [1, 2, 3, 4])
def test_inverse_undoes_the_transform(kind):
    x = _sample((3, 6))
    for norm in (None, "ortho", "forward"):
        np.testing.assert_allclose(fft.idct(fft.dct(x, kind, norm=norm), kind, norm=norm), x,
                                   atol=1e-12)
        np.testing.assert_allclose(fft.idctn(fft.dctn(x, kind, norm=norm), kind, norm=norm),
                                   x, atol=1e-12)


def test_orthonormal_transforms_keep_the_norm():
    x = _sample((7,))
    for kind in (1, 2, 3, 4):
        assert np.isclose(np.linalg.norm(fft.dct(x, kind, norm="ortho")), np.linalg.norm(x))


@pytest.mark.parametrize("kind", [1, 2, 3, 4])
def test_dct_derivatives(kind):
    x = _sample((2, 5))
    for norm in (None, "ortho"):
        check_grads(lambda v: fft.dct(v, kind, norm=norm), (x,), order=2)
        check_grads(lambda v: fft.idct(v, kind, n=7, norm=norm), (x,), order=1)
    check_grads(lambda v: fft.dctn(v, kind, s=(3, 4)), (x,), order=1)
    check_grads(lambda v: fft.idctn(v, kind, norm="forward"), (x,), order=1)


def test_dct_gradient_is_the_transpose():
    # dct is linear: its gradient against a cotangent w is the transposed matrix times w.
    n = 6
    for kind in (1, 2, 3, 4):
        matrix = sfft.dct(np.eye(n), kind, axis=0)
        w = _sample((n,))
        grad = funcdiff.grad(lambda v, kind=kind: jnp.sum(fft.dct(v, kind) * w))(_sample((n,)))
        np.testing.assert_allclose(grad, matrix.T @ w, atol=1e-12)


def test_dct_under_jit_and_vmap():
    x = _sample((3, 5))
    for kind in (1, 2, 3, 4):
        _agree(lambda v, kind=kind: fft.dct(v, kind, norm="ortho"), x)
        _agree(lambda v, kind=kind: fft.idctn(v, kind, s=(4, 4)), x)


def test_dct_errors():
    with pytest.raises(ValueError, match="type must be 1, 2, 3 or 4"):
        fft.dct(np.ones(3), type=5)
    with pytest.raises(ValueError, match="norm must be one of"):
        fft.idct(np.ones(3), norm="unitary")
    with pytest.raises(ValueError, match="type-1 DCT needs at least 2 points"):
        fft.dct(np.ones(1), type=1)
    with pytest.raises(ValueError, match="transform length n must be at least 1"):
        fft.dct(np.ones(3), n=0)
    with pytest.raises(ValueError, match="at least one dimension"):
        fft.dct(1.0)
    with pytest.raises(ValueError, match="s has 3 entries but x has only 2"):
        fft.dctn(np.ones((2, 2)), s=(1, 2, 3))
    with pytest.raises(ValueError, match="axes must be distinct"):
        fft.dctn(np.ones((2, 2)), axes=(0, -2))


# ---- map_coordinates ------------------------------------------------------------------------

# JAX's modes and SciPy's names for the same extension.
_SCIPY_MODE = {"constant": "grid-constant", "nearest": "nearest", "wrap": "grid-wrap",
               "mirror": "mirror", "reflect": "reflect"}


@pytest.mark.parametrize("mode", list(_SCIPY_MODE))
@pytest.mark.parametrize("order", [0, 1])
def test_map_coordinates_matches_scipy(mode, order):
    for shape in [(1,), (2,), (5,), (4, 3), (3, 1, 4)]:
        for dtype in (np.float64, np.float32):
            image = _sample(shape, dtype) * 5
            coords = [RNG.uniform(-2 * s - 1, 2 * s + 1, size=(2, 4)) for s in shape]
            want = snd.map_coordinates(image, np.array(coords), order=order,
                                       mode=_SCIPY_MODE[mode], cval=-1.25)
            _close(ndimage.map_coordinates(image, coords, order, mode, cval=-1.25), want,
                   dtype)


def test_map_coordinates_rounds_halves_away_from_zero_as_jax():
    image = np.array([10.0, 20.0, 30.0])
    got = ndimage.map_coordinates(image, [np.array([-0.5, 0.5, 1.5, 2.5])], 0)
    np.testing.assert_array_equal(got, [0.0, 20.0, 30.0, 0.0])
    # An integer image gives the rounded interpolation, halves away from zero.
    ints = ndimage.map_coordinates(np.array([1, 2, -3]), [np.array([0.5, 1.5, 1.25])], 1)
    assert ints.dtype == np.array([1, 2, -3]).dtype
    np.testing.assert_array_equal(ints, [2, -1, 1])


def test_map_coordinates_linear_by_hand():
    image = np.arange(12.0).reshape(3, 4)
    got = ndimage.map_coordinates(image, [np.array([0.5, 2.0]), np.array([1.5, 3.5])], 1,
                                  mode="nearest")
    np.testing.assert_allclose(got, [(1 + 2 + 5 + 6) / 4, 11.0])


def test_map_coordinates_derivatives():
    image = _sample((4, 5))
    rows = np.array([0.3, 1.7, 2.2, -0.6])
    cols = np.array([0.4, 3.9, 1.1, 4.3])
    for mode in _SCIPY_MODE:
        check_grads(lambda im, r, c, mode=mode: ndimage.map_coordinates(im, [r, c], 1, mode),
                    (image, rows, cols), order=1)
        check_grads(lambda im, mode=mode: ndimage.map_coordinates(im, [rows, cols], 0, mode),
                    (image,), order=1)


def test_map_coordinates_under_jit_and_vmap():
    image = _sample((4, 5))
    coords = np.array([[0.3, 1.7, 2.2], [0.4, 3.9, 1.1]])
    _agree(lambda im, c: ndimage.map_coordinates(im, [c[0], c[1]], 1, "reflect"), image,
           coords)
    _agree(lambda c: ndimage.map_coordinates(image, list(c), 0, "wrap"), coords)


def test_map_coordinates_errors():
    with pytest.raises(NotImplementedError, match="order must be 0 or 1"):
        ndimage.map_coordinates(np.ones(3), [np.ones(2)], 3)
    with pytest.raises(NotImplementedError, match="mode must be one of"):
        ndimage.map_coordinates(np.ones(3), [np.ones(2)], 1, mode="grid-mirror")
    with pytest.raises(ValueError, match="one array per dimension of input \\(2\\)"):
        ndimage.map_coordinates(np.ones((3, 3)), [np.ones(2)], 1)


# ---- trapezoid ------------------------------------------------------------------------------


def test_trapezoid_matches_scipy_and_differentiates():
    y = _sample((3, 6))
    x = np.sort(_sample((6,)))
    _close(integrate.trapezoid(y), sint.trapezoid(y))
    _close(integrate.trapezoid(y, x), sint.trapezoid(y, x))
    _close(integrate.trapezoid(y, dx=0.5, axis=0), sint.trapezoid(y, dx=0.5, axis=0))
    _close(integrate.trapezoid(y.astype(np.float32)), sint.trapezoid(y.astype(np.float32)),
           np.float32)
    check_grads(lambda a, b: integrate.trapezoid(a, b), (y, x), order=2)
    _agree(lambda a: integrate.trapezoid(a, x), y)


def test_float32_stays_float32_through_gradients():
    x = _sample((8,), np.float32)
    for f in (lambda v: fft.dct(v, 1), lambda v: fft.idct(v, 4, norm="ortho"),
              lambda v: fft.dctn(v.reshape(2, 4), 3),
              lambda v: ndimage.map_coordinates(v, [v * 3 + 3], 1, "mirror")):
        assert f(x).dtype == np.float32
        assert funcdiff.grad(lambda v, f=f: jnp.sum(f(v)))(x).dtype == np.float32
