"""`funcdiff.scipy.stats.gaussian_kde` against SciPy's (JAX 0.10.2's API: the same values, a
pytree of neff, dataset, weights, covariance and inv_cov), under jit, vmap and grad."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

import funcdiff
from funcdiff.scipy.stats import gaussian_kde
from funcdiff.test_util import check_grads

RNG = np.random.default_rng(3)
ONE_D = RNG.normal(size=20)
TWO_D = RNG.normal(size=(2, 30))
WEIGHTS = RNG.uniform(0.2, 1.0, size=30)

CASES = [
    (ONE_D, None, None),
    (ONE_D, "silverman", None),
    (ONE_D, 0.4, RNG.uniform(0.2, 1.0, size=20)),
    (TWO_D, None, WEIGHTS),
    (TWO_D, "silverman", None),
    (TWO_D, lambda kde: kde.neff ** -0.2, WEIGHTS),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_values_match_scipy(case):
    data, bw, weights = CASES[case]
    ours, ref = gaussian_kde(data, bw, weights), scipy.stats.gaussian_kde(data, bw, weights)
    assert (ours.d, ours.n) == (ref.d, ref.n)
    np.testing.assert_allclose(ours.neff, ref.neff, rtol=1e-12)
    np.testing.assert_allclose(ours.covariance, ref.covariance, rtol=1e-12)
    np.testing.assert_allclose(ours.inv_cov, ref.inv_cov, rtol=1e-10)
    points = RNG.normal(size=(ref.d, 6)) * 2
    np.testing.assert_allclose(ours.evaluate(points), ref.evaluate(points), rtol=1e-12)
    np.testing.assert_allclose(ours(points), ref(points), rtol=1e-12)
    np.testing.assert_allclose(ours.pdf(points), ref.pdf(points), rtol=1e-12)
    np.testing.assert_allclose(ours.logpdf(points), ref.logpdf(points), rtol=1e-12)
    mean, cov = RNG.normal(size=ref.d), np.eye(ref.d) * 0.7
    np.testing.assert_allclose(ours.integrate_gaussian(mean, cov),
                               ref.integrate_gaussian(mean, cov), rtol=1e-12)
    other = RNG.normal(size=(ref.d, 7))
    np.testing.assert_allclose(ours.integrate_kde(gaussian_kde(other)),
                               ref.integrate_kde(scipy.stats.gaussian_kde(other)), rtol=1e-12)
    if ref.d == 1:
        np.testing.assert_allclose(ours.integrate_box_1d(-0.3, 1.2),
                                   ref.integrate_box_1d(-0.3, 1.2), rtol=1e-12)


def test_logpdf_is_finite_far_in_the_tails():
    kde = gaussian_kde(ONE_D)
    far = np.array([60.0])
    assert np.asarray(kde.evaluate(far))[0] == 0.0
    np.testing.assert_allclose(kde.logpdf(far), scipy.stats.gaussian_kde(ONE_D).logpdf(far),
                               rtol=1e-10)


def test_bad_arguments():
    with pytest.raises(ValueError, match="multiple elements"):
        gaussian_kde(np.array([1.0]))
    with pytest.raises(ValueError, match="length n"):
        gaussian_kde(TWO_D, weights=WEIGHTS[:3])
    with pytest.raises(ValueError, match="bw_method"):
        gaussian_kde(ONE_D, bw_method="nope")
    with pytest.raises(NotImplementedError, match="complex"):
        gaussian_kde(ONE_D + 1j)
    kde = gaussian_kde(TWO_D)
    with pytest.raises(ValueError, match="dimension 3"):
        kde.evaluate(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="1D"):
        kde.integrate_box_1d(0.0, 1.0)
    with pytest.raises(NotImplementedError):
        kde.integrate_box(np.zeros(2), np.ones(2))
    with pytest.raises(NotImplementedError):
        kde.set_bandwidth("scott")
    with pytest.raises(AttributeError):
        kde.dataset = TWO_D


def test_pytree_jit_vmap_grad():
    kde = gaussian_kde(TWO_D, weights=WEIGHTS)
    leaves, tree = funcdiff.tree_util.tree_flatten(kde)
    assert len(leaves) == 5
    back = funcdiff.tree_util.tree_unflatten(tree, leaves)
    points = TWO_D[:, :4] + 0.1
    np.testing.assert_allclose(back.logpdf(points), kde.logpdf(points))
    jitted = funcdiff.jit(lambda k, p: k.logpdf(p))(kde, points)
    np.testing.assert_allclose(jitted, kde.logpdf(points), rtol=1e-13)
    # vmap over datasets, and over the estimator itself
    datasets = RNG.normal(size=(3, 10))
    mapped = funcdiff.vmap(lambda d: gaussian_kde(d).evaluate(np.array([0.3])))(datasets)
    for m, d in zip(np.asarray(mapped), datasets):
        np.testing.assert_allclose(m, scipy.stats.gaussian_kde(d)([0.3]), rtol=1e-12)
    # derivatives in the points and in the data, against finite differences
    check_grads(lambda p: kde.logpdf(p), (points,), 2)
    check_grads(lambda d: gaussian_kde(d).evaluate(np.array([0.2, -0.5])), (ONE_D[:8],), 1)
    check_grads(lambda lo: gaussian_kde(ONE_D).integrate_box_1d(lo, 1.0), (-0.3,), 2)


def test_resample_shape_and_moments():
    kde = gaussian_kde(TWO_D, weights=WEIGHTS)
    key = funcdiff.random.key(0)
    draws = np.asarray(kde.resample(key, (4000,)))
    assert draws.shape == (2, 4000) and kde.resample(key).shape == (2,)
    assert kde.resample(key, (3, 2)).shape == (2, 3, 2)
    mean = np.average(TWO_D, axis=1, weights=WEIGHTS)
    # the mixture's covariance: the data's (weighted, biased) plus the kernel's
    cov = np.cov(TWO_D, aweights=WEIGHTS, bias=True) + np.asarray(kde.covariance)
    np.testing.assert_allclose(draws.mean(axis=1), mean, atol=4 * np.sqrt(cov.max() / 4000))
    np.testing.assert_allclose(np.cov(draws), cov, atol=0.15)
    np.testing.assert_array_equal(kde.resample(key, (5,)), kde.resample(key, (5,)))
