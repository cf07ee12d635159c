"""Directed tests of `bernoulli`, `spence`, `dawsn`, `sici`, `fresnel`, `expn`, `bessel_jn`
and `owens_t` (the generic table of `tests/scipy_table.py` checks them on moderate domains):
accuracy against SciPy over wide ranges and at the edges, derivatives at the special points,
errors for bad arguments."""

from __future__ import annotations

from fractions import Fraction
from functools import partial

import numpy as np
import pytest
import scipy.special as ss

import funcdiff
from funcdiff.scipy import special
from funcdiff.test_util import check_grads

RNG = np.random.default_rng(7)
EDGES = [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan]


def _close(ours, theirs, rtol, atol=0.0):
    np.testing.assert_allclose(np.asarray(ours), theirs, rtol=rtol, atol=atol)


def test_bernoulli_is_exact():
    b = [Fraction(1)]
    for m in range(1, 41):  # B_m from sum_{k<=m} C(m+1, k) B_k = 0, independently
        b.append(-sum(Fraction(ss.comb(m + 1, k, exact=True)) * b[k] for k in range(m)) / (m + 1))
    out = special.bernoulli(40)
    assert out.shape == (41,) and out.dtype == np.float64
    assert np.asarray(out).tolist() == [float(q) for q in b]
    _close(out, ss.bernoulli(40), rtol=1e-6)  # SciPy's own values are less accurate
    assert np.isinf(special.bernoulli(300)[-1])


@pytest.mark.parametrize("n", [-1, 2.0, True])
def test_bernoulli_needs_a_non_negative_int(n):
    with pytest.raises(ValueError, match="non-negative Python int"):
        special.bernoulli(n)


def test_spence_matches_scipy():
    x = np.concatenate([RNG.uniform(0, 4, 500), 10.0 ** RNG.uniform(-300, 300, 500),
                        [0.5, 2.0, 1 - 1e-12, 2 + 1e-12, 1e-20]])
    _close(special.spence(x), ss.spence(x), rtol=5e-15, atol=1e-300)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(special.spence(np.array(EDGES)), ss.spence(EDGES))


def test_dawsn_matches_scipy():
    x = np.concatenate([RNG.uniform(-15, 15, 2000), 10.0 ** RNG.uniform(-300, 300, 500),
                        [1.0, 10.0, -10.0]])
    _close(special.dawsn(x), ss.dawsn(x), rtol=3e-15)
    np.testing.assert_array_equal(special.dawsn(np.array(EDGES)), ss.dawsn(EDGES))


def test_sici_matches_scipy():
    x = np.concatenate([RNG.uniform(-60, 60, 2000), 10.0 ** RNG.uniform(-300, 15, 500),
                        [4.0, -4.0, 4 + 1e-12]])
    si, ci = special.sici(x)
    ref_si, ref_ci = ss.sici(x)
    _close(si, ref_si, rtol=1e-15)
    _close(ci, ref_ci, rtol=1e-14, atol=1e-15)  # absolute near the zeros of Ci
    with np.errstate(all="ignore"):
        for ours, theirs in zip(special.sici(np.array(EDGES)), ss.sici(EDGES)):
            _close(ours, theirs, rtol=1e-15)  # inf and nan in place


def test_fresnel_matches_scipy():
    x = np.concatenate([RNG.uniform(-3, 3, 2000), RNG.uniform(-100, 100, 2000), [1.6, -1.6]])
    for ours, theirs in zip(special.fresnel(x), ss.fresnel(x), strict=True):
        # Beyond 1.6 the rounding of the phase pi x^2 / 2 limits both libraries.
        assert np.all(np.abs(np.asarray(ours) - theirs) <= 2e-15 * np.maximum(1, np.abs(x)))
        small = np.abs(x) < 1.6
        _close(np.asarray(ours)[small], theirs[small], rtol=2e-15)
    x = 10.0 ** RNG.uniform(2, 7.9, 500)  # only the amplitude 1/(pi x) of the oscillation
    for ours, theirs in zip(special.fresnel(x), ss.fresnel(x), strict=True):
        assert np.all(np.abs(np.asarray(ours) - theirs) <= 1e-13 * x)
    for ours, theirs in zip(special.fresnel(np.array(EDGES)), ss.fresnel(EDGES), strict=True):
        _close(ours, theirs, rtol=1e-15)  # inf and nan in place
    for ours in special.fresnel(np.array([1e8, -1e300])):  # SciPy gives NaN at 1e300
        np.testing.assert_array_equal(ours, [0.5, -0.5])


def test_expn_matches_scipy():
    n = RNG.integers(0, 60, 3000)
    x = np.concatenate([RNG.uniform(0, 5, 2000), 10.0 ** RNG.uniform(-10, 2.5, 1000)])
    _close(special.expn(n, x), ss.expn(n, x), rtol=5e-14, atol=1e-300)
    n = np.array([0, 1, 2, 3, -1, 0, 2, 2, 2])
    x = np.array([0, 0, 0, 0, 1, np.inf, np.inf, -1, np.nan])
    np.testing.assert_array_equal(special.expn(n, x), ss.expn(n, x))
    assert np.isnan(special.expn(1.5, 1.0))


def test_owens_t_matches_scipy():
    h = np.concatenate([RNG.uniform(-10, 10, 3000), 10.0 ** RNG.uniform(-5, 1, 1000)])
    a = np.concatenate([RNG.uniform(-3, 3, 3000), 10.0 ** RNG.uniform(-3, 3, 1000)])
    _close(special.owens_t(h, a), ss.owens_t(h, a), rtol=3e-13)  # SciPy's own error ~2e-13
    h = RNG.uniform(-38, 38, 1000)  # down to 1e-300: the tails keep their relative accuracy
    _close(special.owens_t(h, a[:1000]), ss.owens_t(h, a[:1000]), rtol=5e-13, atol=1e-300)
    hh, aa = np.meshgrid(EDGES, EDGES)
    with np.errstate(all="ignore"):
        _close(special.owens_t(hh, aa), ss.owens_t(hh, aa), rtol=1e-15)


def _jv(v, z):
    with np.errstate(all="ignore"):
        ref = ss.jv(np.arange(v + 1)[:, None], z)
    ref[:, np.isinf(z)] = 0.0
    return ref


def test_bessel_jn_matches_scipy():
    z = np.concatenate([RNG.uniform(-20, 20, 2000), 10.0 ** RNG.uniform(-300, 0, 300),
                        [1.0, -1.0, 1 - 1e-15]])
    for v in (0, 1, 6, 30):
        _close(special.bessel_jn(z, v=v), _jv(v, z), rtol=2e-12, atol=2e-15)
    z = RNG.uniform(-55, 55, 1000)  # a longer recurrence reaches further
    _close(special.bessel_jn(z, v=4, n_iter=100), _jv(4, z), rtol=0, atol=2e-15)
    out = special.bessel_jn(np.array(EDGES), v=2)
    np.testing.assert_array_equal(out[:, [0, 1, 4, 5]], [[1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    assert np.isnan(out[:, 6]).all() and out.shape == (3, 7)
    assert special.bessel_jn(2.0, v=0).shape == (1,)


@pytest.mark.parametrize("kwargs", [dict(v=-1), dict(v=2.0), dict(v=1, n_iter=-3)])
def test_bessel_jn_needs_static_non_negative_ints(kwargs):
    with pytest.raises(ValueError, match="non-negative Python int"):
        special.bessel_jn(1.0, **kwargs)


def test_float32_stays_float32_and_is_accurate():
    x = np.linspace(0.05, 9.0, 60, dtype=np.float32)
    x64 = x.astype(np.float64)
    for ours, theirs in [(special.spence(x), ss.spence(x64)), (special.dawsn(x), ss.dawsn(x64)),
                         (special.sici(x)[0], ss.sici(x64)[0]),
                         (special.fresnel(x)[1], ss.fresnel(x64)[1]),
                         (special.expn(np.float32(2), x), ss.expn(2, x64))]:
        assert ours.dtype == np.float32
        _close(ours, theirs, rtol=2e-6)
    j = special.bessel_jn(x, v=2)
    assert j.dtype == np.float32
    _close(j, _jv(2, x64), rtol=0, atol=1e-6)


def test_derivatives():
    check_grads(special.spence, (np.array([0.05, 0.7, 1.5, 2.6, 30.0]),), order=3,
                modes=("fwd", "rev"))
    check_grads(special.dawsn, (np.array([-12.0, -3.0, 0.4, 1.5, 5.0]),), order=3,
                modes=("fwd", "rev"))
    for i in (0, 1):
        check_grads(lambda x, i=i: special.fresnel(x)[i], (np.array([-2.5, -1.0, 0.4, 1.7]),),
                    order=3, modes=("fwd", "rev"))
        check_grads(lambda x, i=i: special.sici(x)[i], (np.array([-6.0, -3, 0.4, 1.5, 5.0]),),
                    order=3, modes=("fwd", "rev"))
    n = np.array([0, 1, 2, 5, 3])
    check_grads(lambda x: special.expn(n, x), (np.array([0.5, 1.5, 2.5, 4.0, 0.1]),), order=3,
                modes=("fwd", "rev"))
    check_grads(special.owens_t, (np.array([0.3, -1.2, 2.0, 0.0]), np.array([0.5, 2.0, -0.7, 1.5])),
                order=3, modes=("fwd", "rev"))
    check_grads(lambda z: special.bessel_jn(z, v=3), (np.array([0.5, -2.0, 7.0, 0.0]),),
                order=3, modes=("fwd", "rev"))
    # Closed forms at the special points.
    np.testing.assert_array_equal(funcdiff.jacfwd(lambda z: special.bessel_jn(z, v=2))(0.0),
                                  [0.0, 0.5, 0.0])
    assert funcdiff.grad(special.spence)(1.0) == -1.0
    assert funcdiff.grad(lambda x: special.sici(x)[0])(0.0) == 1.0
    x = np.array([0.3, 2.0, 7.0])
    _close(funcdiff.vmap(funcdiff.grad(special.dawsn))(x), 1 - 2 * x * ss.dawsn(x), rtol=1e-14)
    _close(funcdiff.vmap(funcdiff.grad(special.expn, argnums=1))(np.array([1, 2, 3]), x),
           -ss.expn(np.array([0, 1, 2]), x), rtol=1e-13)


def test_expn_has_no_derivative_in_n():
    with pytest.raises(ValueError, match="derivative with respect to `n`"):
        funcdiff.grad(lambda n: special.expn(n, 1.0))(2.0)


@pytest.mark.parametrize("f", [special.spence, special.dawsn, special.sici, special.expn,
                               special.fresnel, partial(special.bessel_jn, v=3),
                               special.owens_t])
def test_jit_and_vmap_agree_with_eager(f):
    x = np.array([0.25, 1.7, 3.1, 12.5])
    args = ((np.array([0, 1, 2, 7]), x) if f is special.expn else
            (x, np.array([0.5, -2.0, 0.3, 7.0])) if f is special.owens_t else (x,))
    eager = funcdiff.tree_util.tree_leaves(f(*args))
    mapped = funcdiff.vmap(f, out_axes=1 if isinstance(f, partial) else 0)(*args)
    for transformed in (funcdiff.jit(f)(*args), mapped):
        for a, b in zip(funcdiff.tree_util.tree_leaves(transformed), eager, strict=True):
            _close(a, np.asarray(b), rtol=1e-14)


def test_python_scalars_take_every_branch():
    for x in (0.0, 0.2, 0.7, 2.0, 3.5, 40.0):
        _close(special.spence(x), ss.spence(x), rtol=5e-15)
        _close(special.dawsn(x), ss.dawsn(x), rtol=3e-15)
        _close(special.sici(x), ss.sici(x), rtol=1e-14)
        _close(special.expn(2, x), ss.expn(2, x), rtol=5e-14)
        _close(special.fresnel(x), ss.fresnel(x), rtol=1e-14)
        _close(special.owens_t(x, 0.7), ss.owens_t(x, 0.7), rtol=1e-13)
