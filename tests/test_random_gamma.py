"""The rejection samplers of funcdiff.random (the gamma family and poisson), checked
statistically with fixed keys: a Kolmogorov-Smirnov distance to SciPy's CDF below the 1%
critical value ``1.63 / sqrt(n)`` (for integer samples the distance on the integers, which
only makes the test conservative), and moments within a few standard errors. Their implicit
gradients are checked against finite differences of the inverse CDF (SciPy's gammaincinv),
and through the pathwise identity ``d E[x] / da = E[dx / da]``."""

from __future__ import annotations

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import random

st = pytest.importorskip("scipy.stats")
special = pytest.importorskip("scipy.special")

N = 20_000
KS_1_PERCENT = 1.63 / np.sqrt(N)
KEY = random.key(42)


def _ks(samples, cdf):
    x = np.sort(np.asarray(samples, np.float64))
    n = len(x)
    c = cdf(x)
    return max(np.max(np.arange(1, n + 1) / n - c), np.max(c - np.arange(n) / n))


@pytest.mark.parametrize("a", [0.05, 0.4, 1.0, 3.0, 50.0])
def test_gamma_matches_its_distribution(a):
    x = random.gamma(KEY, a, (N,))
    assert x.shape == (N,) and x.dtype == np.float64
    assert _ks(x, st.gamma(a).cdf) < KS_1_PERCENT
    # mean a, variance a: the standard error of the mean is sqrt(a / N)
    assert abs(float(x.mean()) - a) < 4 * np.sqrt(a / N)


def test_loggamma_is_log_of_gamma_and_finite_for_tiny_shapes():
    np.testing.assert_allclose(
        np.exp(random.loggamma(KEY, 2.5, (100,))), random.gamma(KEY, 2.5, (100,)), rtol=1e-12
    )
    log_x = random.loggamma(KEY, 1e-3, (N,))
    assert np.isfinite(log_x).all() and (np.exp(log_x) == 0).any()
    # X ~ Gamma(a) small: a * log X is about -Exponential(1) (P(X < x) ~ x^a / Gamma(a + 1))
    assert _ks(-1e-3 * np.asarray(log_x), st.expon().cdf) < KS_1_PERCENT + 2e-3


@pytest.mark.parametrize(("a", "b"), [(2.0, 6.0), (0.3, 0.5), (40.0, 3.0)])
def test_beta_matches_its_distribution(a, b):
    x = random.beta(KEY, a, b, (N,))
    assert _ks(x, st.beta(a, b).cdf) < KS_1_PERCENT
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0


def test_dirichlet_is_on_the_simplex_with_beta_marginals():
    alpha = np.array([0.5, 2.0, 7.5])
    p = random.dirichlet(KEY, alpha, (N,))
    assert p.shape == (N, 3)
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-12)
    for i, a in enumerate(alpha):
        assert _ks(p[:, i], st.beta(a, alpha.sum() - a).cdf) < KS_1_PERCENT
    batched = random.dirichlet(KEY, np.ones((4, 2, 3)))
    assert batched.shape == (4, 2, 3)
    assert random.dirichlet(KEY, np.ones((2, 3)), (5, 2)).shape == (5, 2, 3)


@pytest.mark.parametrize(
    ("sampler", "dist"),
    [
        (lambda k: random.chisquare(k, 3.0, (N,)), st.chi2(3.0)),
        (lambda k: random.t(k, 4.0, (N,)), st.t(4.0)),
        (lambda k: random.f(k, 5.0, 12.0, (N,)), st.f(5.0, 12.0)),
    ],
    ids=["chisquare", "t", "f"],
)
def test_gamma_compositions_match_their_distributions(sampler, dist):
    assert _ks(sampler(KEY), dist.cdf) < KS_1_PERCENT


@pytest.mark.parametrize("lam", [0.2, 4.0, 9.5, 10.0, 35.0, 2000.0])
def test_poisson_matches_its_distribution(lam):
    k = random.poisson(KEY, lam, (N,))
    assert k.dtype == np.int64
    grid = np.arange(int(k.min()), int(k.max()) + 1)
    ecdf = np.searchsorted(np.sort(np.asarray(k)), grid, side="right") / N
    assert np.max(np.abs(ecdf - st.poisson(lam).cdf(grid))) < KS_1_PERCENT
    assert abs(float(k.mean()) - lam) < 4 * np.sqrt(lam / N)


def test_poisson_edge_rates_and_dtype():
    k = random.poisson(KEY, np.array([-1.0, 0.0, np.nan, np.inf, 3.0]), dtype=np.int32)
    assert k.dtype == np.int32
    np.testing.assert_array_equal(k[:4], [-1, 0, -1, 0])  # JAX's conventions
    with pytest.raises(TypeError, match="integer dtype"):
        random.poisson(KEY, 1.0, dtype=np.float64)


def test_gamma_edge_shapes_and_dtypes():
    x = random.gamma(KEY, np.array([-1.0, 0.0, np.nan, 1.0]))
    assert np.isnan(x[0]) and x[1] == 0.0 and np.isnan(x[2]) and x[3] > 0
    for sampler in (
        lambda d: random.gamma(KEY, 2.0, (3,), d),
        lambda d: random.loggamma(KEY, 0.5, (3,), d),
        lambda d: random.beta(KEY, 2.0, 3.0, (3,), d),
        lambda d: random.dirichlet(KEY, np.ones(2), (3,), d),
        lambda d: random.chisquare(KEY, 2.0, (3,), d),
        lambda d: random.t(KEY, 2.0, (3,), d),
        lambda d: random.f(KEY, 2.0, 3.0, (3,), d),
    ):
        assert sampler(np.float32).dtype == np.float32
        assert funcdiff.jit(lambda: sampler(np.float32))().dtype == np.float32
    assert random.gamma(KEY, np.ones(3), (2, 3)).shape == (2, 3)
    with pytest.raises(ValueError, match=r"does not broadcast to shape=\(2,\)"):
        random.gamma(KEY, np.ones(3), (2,))


def test_samplers_agree_eagerly_under_jit_and_vmap():
    a = np.array([0.5, 1.0, 7.0])
    eager = random.gamma(KEY, a)
    np.testing.assert_allclose(funcdiff.jit(random.gamma)(KEY, a), eager, rtol=1e-12)
    keys = random.split(KEY, 3)
    mapped = funcdiff.vmap(lambda k: random.poisson(k, 20.0, (4,)))(keys)
    for i in range(3):
        np.testing.assert_array_equal(mapped[i], random.poisson(keys[i], 20.0, (4,)))


@pytest.mark.parametrize("a", [0.3, 2.0, 25.0])
def test_gamma_gradient_is_the_inverse_cdf_derivative(a):
    """dx/da at fixed u = P(a, x), against central differences of x = P^-1(a, u)."""
    shape_params = np.full(50, a)
    x, dx = funcdiff.jvp(lambda s: random.gamma(KEY, s), (shape_params,), (np.ones(50),))
    u = special.gammainc(a, np.asarray(x))
    h = 1e-5 * a
    fd = (special.gammaincinv(a + h, u) - special.gammaincinv(a - h, u)) / (2 * h)
    np.testing.assert_allclose(dx, fd, rtol=1e-5, atol=1e-12)
    grad_one = funcdiff.grad(lambda s: random.gamma(KEY, s))(a)
    assert np.isfinite(grad_one)


def test_pathwise_gradients_of_means():
    # d E[Gamma(a)] / da = 1; d E[Beta(a, b)] / da = b / (a + b)^2. The sample mean of the
    # pathwise gradients has a standard error well under 0.01 here.
    g = funcdiff.grad(lambda a: jnp.mean(random.gamma(KEY, a, (N,))))(3.0)
    assert abs(float(g) - 1.0) < 0.03
    gb = funcdiff.grad(lambda a: jnp.mean(random.beta(KEY, a, 6.0, (N,))))(2.0)
    assert abs(float(gb) - 6.0 / 64.0) < 0.01
    gl = funcdiff.grad(lambda a: jnp.mean(random.loggamma(KEY, a, (N,))))(3.0)
    assert abs(float(gl) - special.polygamma(1, 3.0)) < 0.02  # E[log X] = digamma(a)


# ---- the compositions of random_more.py -----------------------------------------------------


@pytest.mark.parametrize("method", ["cholesky", "eigh", "svd"])
def test_multivariate_normal_moments(method):
    mean, cov = np.array([1.0, -1.0]), np.array([[2.0, 0.6], [0.6, 1.0]])
    x = np.asarray(random.multivariate_normal(KEY, mean, cov, (N,), method=method))
    assert x.shape == (N, 2)
    # standard errors: sqrt(2 / N) = 0.01 for the means, about 0.02 for the covariances
    np.testing.assert_allclose(x.mean(0), mean, atol=0.05)
    np.testing.assert_allclose(np.cov(x.T), cov, atol=0.08)
    # the first coordinate alone is N(1, 2)
    assert _ks(x[:, 0], st.norm(1.0, np.sqrt(2.0)).cdf) < KS_1_PERCENT
    batched = random.multivariate_normal(KEY, np.zeros((4, 3)), np.eye(3))
    assert batched.shape == (4, 3)
    with pytest.raises(ValueError, match=r"cov must have shape \(\.\.\., 2, 2\)"):
        random.multivariate_normal(KEY, np.zeros(2), np.eye(3))


def test_orthogonal_matrices():
    q = random.orthogonal(KEY, 3, (2,), m=5)
    assert q.shape == (2, 3, 5)
    np.testing.assert_allclose(
        q @ np.swapaxes(q, -1, -2), np.broadcast_to(np.eye(3), (2, 3, 3)), atol=1e-12
    )
    tall = random.orthogonal(KEY, 5, m=3)
    np.testing.assert_allclose(tall.T @ tall, np.eye(3), atol=1e-12)
    # Haar: a fixed entry of a random 2x2 rotation/reflection is cos(theta), theta uniform
    entries = np.asarray(random.orthogonal(KEY, 2, (N,)))[:, 0, 0]
    assert _ks(np.arccos(entries) / np.pi, st.uniform().cdf) < KS_1_PERCENT


@pytest.mark.parametrize(
    ("sampler", "dist"),
    [
        (lambda k: random.triangular(k, 0.0, 1.0, 4.0, (N,)), st.triang(0.25, 0.0, 4.0)),
        (lambda k: random.wald(k, 2.0, (N,)), st.invgauss(2.0)),
        (lambda k: random.generalized_normal(k, 1.5, (N,)), st.gennorm(1.5)),
        (lambda k: (random.double_sided_maxwell(k, 1.0, 2.0, (N,)) - 1.0) / 2.0, st.dgamma(1.5)),
    ],
    ids=["triangular", "wald", "generalized_normal", "double_sided_maxwell"],
)
def test_compositions_match_their_distributions(sampler, dist):
    x = sampler(KEY)
    if dist.dist.name == "dgamma":  # a Maxwell |x| has |x|^2 / 2 ~ Gamma(3/2): compare that
        x = np.asarray(x) ** 2 / 2 * np.sign(x)
    assert _ks(x, dist.cdf) < KS_1_PERCENT


def test_geometric_counts_trials():
    k = random.geometric(KEY, 0.25, (N,))
    assert k.dtype == np.int64 and int(k.min()) == 1
    grid = np.arange(1, int(k.max()) + 1)
    ecdf = np.searchsorted(np.sort(np.asarray(k)), grid, side="right") / N
    assert np.max(np.abs(ecdf - st.geom(0.25).cdf(grid))) < KS_1_PERCENT
    assert random.geometric(KEY, 0.5, (3,), dtype=np.int32).dtype == np.int32


def test_ball_is_uniform_in_the_ball():
    x = np.asarray(random.ball(KEY, 3, shape=(N,)))
    r = np.linalg.norm(x, axis=-1)
    assert x.shape == (N, 3) and r.max() <= 1.0
    assert _ks(r**3, st.uniform().cdf) < KS_1_PERCENT  # P(r < s) = s^3 in three dimensions
    l1 = np.abs(np.asarray(random.ball(KEY, 2, p=1, shape=(N,)))).sum(-1)
    assert l1.max() <= 1.0 and _ks(l1**2, st.uniform().cdf) < KS_1_PERCENT


def test_double_sided_maxwell_shape_follows_jax():
    assert random.double_sided_maxwell(KEY, np.zeros(3), 1.0).shape == (3, 3)
    assert random.double_sided_maxwell(KEY, np.zeros(3), 1.0, (2,)).shape == (2, 3)
    assert random.double_sided_maxwell(KEY, 0.0, 1.0, (2,)).shape == (2,)


# ---- binomial and multinomial ----------------------------------------------------------------


@pytest.mark.parametrize(("n", "p"), [(5, 0.3), (40, 0.3), (40, 0.9), (1000, 0.5), (200, 0.02)])
def test_binomial_matches_its_distribution(n, p):
    k = random.binomial(KEY, float(n), p, (N,))
    assert k.dtype == np.float64  # JAX's convention: counts as floats
    grid = np.arange(int(k.min()), int(k.max()) + 1)
    ecdf = np.searchsorted(np.sort(np.asarray(k)), grid, side="right") / N
    assert np.max(np.abs(ecdf - st.binom(n, p).cdf(grid))) < KS_1_PERCENT


def test_binomial_edge_parameters():
    k = random.binomial(
        KEY, np.array([5.0, 0.0, 10.0, 3.0, -1.0, 4.0]), np.array([0.3, 0.5, 0.0, 1.0, 0.5, np.nan])
    )
    np.testing.assert_array_equal(k[1:4], [0.0, 0.0, 3.0])
    assert np.isnan(k[4]) and np.isnan(k[5])
    assert random.binomial(KEY, 5.0, 0.3, (2,), np.float32).dtype == np.float32


def test_multinomial_counts_sum_to_n():
    c = np.asarray(random.multinomial(KEY, 10.0, np.array([0.2, 0.3, 0.5]), shape=(N, 3)))
    np.testing.assert_array_equal(c.sum(-1), 10.0)
    # each count is Binomial(10, p_i): mean 10 p_i, standard error sqrt(10 p q / N) < 0.02
    np.testing.assert_allclose(c.mean(0), [2.0, 3.0, 5.0], atol=0.08)
    batched = random.multinomial(KEY, np.array([10.0, 20.0]), np.array([[0.2, 0.8], [0.5, 0.5]]))
    np.testing.assert_array_equal(batched.sum(-1), [10.0, 20.0])


def test_scalar_samplers_under_jit_do_not_warn():
    """jit's code for 0-d uint32 arithmetic made NumPy scalars, which warned (an error here,
    with filterwarnings = error) on the wrap-around the key's cipher relies on."""
    for seed in range(4):
        key = random.key(seed)
        assert np.isfinite(funcdiff.jit(lambda k: random.normal(k, ()))(key))
        assert funcdiff.jit(lambda k: random.gamma(k, 2.0))(key) > 0
        assert funcdiff.jit(lambda k: random.poisson(k, 3.0))(key) >= 0
        assert np.isfinite(random.binomial(key, 5.0, 0.3))
