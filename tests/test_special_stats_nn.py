"""Directed tests of `funcdiff.scipy.special`, `funcdiff.scipy.stats` and the `jax.nn`
additions to `funcdiff.nn`: accuracy against SciPy far into the tails, the derivatives JAX
refuses, and behaviours the generic tables do not reach (attention masks, the `initializers`
submodule)."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import scipy.special as ss
import scipy.stats as sst

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import nn
from funcdiff.scipy import special, stats
from funcdiff.test_util import check_grads

RNG = np.random.default_rng(0)


def _close(ours, theirs, rtol=1e-13, atol=0.0):
    np.testing.assert_allclose(np.asarray(ours), theirs, rtol=rtol, atol=atol)


# ---- special functions, far from the table's domains ----------------------------------------


@pytest.mark.parametrize("name, x", [
    ("gammaln", np.concatenate([RNG.uniform(-30, 30, 200), [1e-300, 1e5, 1e200]])),
    ("digamma", np.concatenate([RNG.uniform(-30, 30, 200), RNG.uniform(1e3, 1e6, 10)])),
    ("erfinv", np.concatenate([RNG.uniform(-1, 1, 200), [1e-300, 1e-12, 1 - 1e-15, -1 + 1e-12]])),
    ("ndtri", np.concatenate([10.0 ** -RNG.uniform(0, 300, 100),
                              1 - 10.0 ** -RNG.uniform(0, 15, 100), [0.5 + 1e-12]])),
    ("log_ndtr", np.concatenate([RNG.uniform(-1e3, 40, 200), [-1e5, -38.0, 8.5]])),
    ("erfcx", np.concatenate([RNG.uniform(-26, 1e4, 200), [1e8, 5.0, 5.000001]])),
    ("i0e", RNG.uniform(-800, 800, 200)),
    ("i1e", np.concatenate([RNG.uniform(-800, 800, 200), RNG.uniform(29, 31, 50)])),
    ("expi", np.concatenate([RNG.uniform(-700, 700, 200), RNG.uniform(39, 41, 50)])),
    ("exp1", np.concatenate([RNG.uniform(0, 700, 200), RNG.uniform(0.9, 1.1, 50)])),
])
def test_special_functions_match_scipy_in_the_tails(name, x):
    with np.errstate(all="ignore"):
        _close(getattr(special, name)(x), getattr(ss, name)(x), rtol=5e-13, atol=1e-300)


def test_two_argument_special_functions_match_scipy():
    a, x = RNG.uniform(0.01, 60, 400), RNG.uniform(0, 120, 400)
    _close(special.gammainc(a, x), ss.gammainc(a, x), rtol=1e-12, atol=1e-300)
    _close(special.gammaincc(a, x), ss.gammaincc(a, x), rtol=1e-12, atol=1e-300)
    p, q, y = RNG.uniform(0.05, 30, 400), RNG.uniform(0.05, 30, 400), RNG.uniform(0, 1, 400)
    _close(special.betainc(p, q, y), ss.betainc(p, q, y), rtol=1e-11, atol=1e-300)
    s, v = RNG.uniform(1.01, 40, 200), RNG.uniform(0.01, 50, 200)
    _close(special.zeta(s, v), ss.zeta(s, v), rtol=1e-13)
    # Negative q for integer s, as SciPy; polygamma through the reflection-free recurrence.
    s, v = np.array([2.0, 3.0, 4.0]), np.array([-1.5, -2.4, -7.3])
    _close(special.zeta(s, v), ss.zeta(s, v), rtol=1e-12)
    n, z = RNG.integers(0, 8, 100), RNG.uniform(-5, 10, 100)
    _close(special.polygamma(n, z), ss.polygamma(n, z), rtol=1e-11)


def test_special_values_at_poles_and_ends():
    with np.errstate(all="ignore"):
        assert np.asarray(special.gammaln(np.array([0.0, -1.0, -2.0]))).tolist() == [np.inf] * 3
        np.testing.assert_array_equal(special.digamma(np.array([0.0, -0.0, -1.0])),
                                      ss.digamma(np.array([0.0, -0.0, -1.0])))
        np.testing.assert_array_equal(special.erfinv(np.array([-1.0, 1.0, 2.0])),
                                      [-np.inf, np.inf, np.nan])
        np.testing.assert_array_equal(special.ndtri(np.array([0.0, 1.0])), [-np.inf, np.inf])
        np.testing.assert_array_equal(special.gammainc(1.0, np.array([0.0, np.inf])), [0, 1])
        np.testing.assert_array_equal(special.betainc(2.0, 3.0, np.array([0.0, 1.0])), [0, 1])
        np.testing.assert_array_equal(special.gammasgn(np.array([-0.5, -1.5, -1.0, 2.0])),
                                      [-1.0, 1.0, np.nan, 1.0])
    assert special.factorial(-1.0) == 0.0
    with pytest.raises(NotImplementedError, match="exact=True"):
        special.factorial(3, exact=True)
    with pytest.raises(ValueError, match="positive Python int"):
        special.multigammaln(3.0, 0)


def test_float32_stays_float32():
    x = np.array([0.3, 0.7], np.float32)
    for f in (special.gammaln, special.digamma, special.erfinv, special.ndtri, special.i0e,
              special.expi, stats.norm.logpdf, nn.selu):
        assert np.asarray(f(x)).dtype == np.float32, f
    assert np.asarray(special.gammainc(x, x)).dtype == np.float32


def test_derivative_of_gammainc_in_a_matches_scipy_finite_differences():
    a, x = np.array([0.3, 2.0, 7.5, 40.0]), np.array([0.1, 3.0, 6.0, 45.0])
    h = 1e-6
    numeric = (ss.gammainc(a + h, x) - ss.gammainc(a - h, x)) / (2 * h)
    g = funcdiff.grad(lambda a: jnp.sum(special.gammainc(a, x)))(a)
    _close(g, numeric, rtol=1e-6, atol=1e-10)
    g = funcdiff.grad(lambda a: jnp.sum(special.gammaincc(a, x)))(a)
    _close(g, -numeric, rtol=1e-6, atol=1e-10)
    check_grads(special.gammainc, (a, x), order=1, modes=("fwd", "rev"))


@pytest.mark.parametrize("call, argument", [
    (lambda a: special.betainc(a, 2.0, 0.3), "`a`"),
    (lambda b: special.betainc(2.0, b, 0.3), "`b`"),
    (lambda s: special.zeta(s, 2.0), "`s`"),
    (lambda n: special.polygamma(n, 2.0), "`n`"),
    (lambda a: stats.beta.cdf(0.3, a, 2.0), "`a`"),
])
def test_derivatives_jax_does_not_have_are_refused_by_name(call, argument):
    for transform in (funcdiff.grad, lambda f: (lambda v: funcdiff.jvp(f, (v,), (1.0,)))):
        with pytest.raises(ValueError, match=f"derivative with respect to {argument}"):
            transform(call)(1.5)


def test_second_derivative_of_gammainc_in_a_is_refused():
    with pytest.raises(ValueError, match="igamma_grad_a"):
        funcdiff.grad(funcdiff.grad(special.gammainc))(2.0, 1.0)


def test_special_functions_under_jit_and_vmap():
    x = np.array([0.2, 0.5, 0.9])
    for f in (special.gammaln, special.erfinv, special.ndtri, special.i1e, special.log_ndtr):
        np.testing.assert_array_equal(funcdiff.jit(f)(x), f(x))
        np.testing.assert_array_equal(funcdiff.vmap(f)(x), f(x))
    grad_digamma = funcdiff.jit(funcdiff.grad(lambda v: jnp.sum(special.digamma(v))))
    np.testing.assert_allclose(grad_digamma(x), ss.polygamma(1, x), rtol=1e-12)


def test_bessel_derivatives_at_zero():
    assert float(funcdiff.grad(special.i0)(0.0)) == 0.0
    assert float(funcdiff.grad(special.i1)(0.0)) == 0.5
    assert float(funcdiff.grad(special.i1e)(0.0)) == 0.5


# ---- stats ----------------------------------------------------------------------------------


def test_norm_tails_and_quantiles_match_scipy():
    x = np.array([-1e3, -40.0, -8.0, 0.0, 8.0, 40.0])
    _close(stats.norm.logcdf(x), sst.norm.logcdf(x), rtol=1e-13)
    _close(stats.norm.logsf(x), sst.norm.logsf(x), rtol=1e-13)
    q = np.array([1e-300, 1e-20, 0.3, 1 - 1e-12])
    _close(stats.norm.ppf(q, 1.0, 2.0), sst.norm.ppf(q, 1.0, 2.0), rtol=1e-13)
    _close(stats.norm.isf(q), sst.norm.isf(q), rtol=1e-12)


def test_truncnorm_far_in_the_tails_matches_scipy():
    for lo, hi in [(5.0, 8.0), (-9.0, -6.0), (-30.0, -29.0), (20.0, np.inf)]:
        x = np.linspace(lo + 0.01, min(hi, lo + 3) - 0.01, 5)
        for fn in ("logpdf", "logcdf", "logsf"):
            _close(getattr(stats.truncnorm, fn)(x, lo, hi), getattr(sst.truncnorm, fn)(x, lo, hi),
                   rtol=1e-9)


def test_stats_follow_jax_where_scipy_differs():
    x = np.array([[0.2], [0.3], [0.5]])
    assert stats.dirichlet.logpdf(x, np.ones(3)).shape == (1,)  # SciPy squeezes it away
    assert stats.bernoulli.ppf(0.0, 0.3) == 0.0  # SciPy: -1
    assert np.isnan(stats.vonmises.logpdf(0.0, 0.0))


def test_dirichlet_checks_shapes():
    with pytest.raises(ValueError, match="first axis of `x`"):
        stats.dirichlet.logpdf(np.ones((4, 2)) / 4, np.ones(2))
    with pytest.raises(ValueError, match="`alpha` must be 1-d"):
        stats.dirichlet.logpdf(np.ones(2) / 2, np.ones((2, 1)))


def test_gaussian_maximum_likelihood_by_gradient_descent():
    data = RNG.normal(2.0, 0.5, 200)

    def nll(params):
        mu, log_sigma = params
        return -jnp.mean(stats.norm.logpdf(data, mu, jnp.exp(log_sigma)))

    params = np.array([0.0, 0.0])
    step = funcdiff.jit(lambda p: p - 0.2 * funcdiff.grad(nll)(p))
    for _ in range(400):
        params = step(params)
    _close(params, [np.mean(data), np.log(np.std(data))], rtol=1e-4)


def test_multivariate_normal_forms_and_errors():
    a = RNG.normal(size=(2, 3, 3))
    covs = a @ np.swapaxes(a, -1, -2) + 3 * np.eye(3)
    mean, x = RNG.normal(size=3), RNG.normal(size=(4, 1, 3))
    out = stats.multivariate_normal.logpdf(x, mean, covs)  # (4, 1) against (2,): (4, 2)
    expected = [[sst.multivariate_normal.logpdf(x[i, 0], mean, covs[j]) for j in range(2)]
                for i in range(4)]
    _close(out, expected, rtol=1e-12)
    _close(stats.multivariate_normal.logpdf(x[:, 0], mean, 2.0),
           sst.multivariate_normal.logpdf(x[:, 0], mean, 2.0 * np.eye(3)), rtol=1e-13)
    _close(stats.multivariate_normal.logpdf(0.5, 0.25, 2.0), sst.norm.logpdf(0.5, 0.25,
                                                                             np.sqrt(2.0)))
    with pytest.raises(ValueError, match=r"cov must have shape \(\.\.\., 3, 3\)"):
        stats.multivariate_normal.logpdf(x, mean, np.eye(2))
    with pytest.raises(NotImplementedError, match="allow_singular"):
        stats.multivariate_normal.logpdf(x, mean, covs[0], allow_singular=True)


def test_stats_modules_are_importable_by_path():
    functions = []
    for name in dir(stats):
        if name.startswith("_"):
            continue
        if callable(getattr(stats, name)):  # a summary statistic (stats.sem), not a module
            functions.append(name)
            continue
        assert importlib.import_module(f"funcdiff.scipy.stats.{name}") is getattr(stats, name)
    assert functions == ["ModeResult", "gaussian_kde", "mode", "rankdata", "sem"]


# ---- nn -------------------------------------------------------------------------------------


def test_initializers_is_a_submodule():
    module = importlib.import_module("funcdiff.nn.initializers")
    assert nn.initializers is module
    from funcdiff.nn.initializers import glorot_normal, zeros

    assert glorot_normal is funcdiff.nn_initializers.glorot_normal
    assert zeros(funcdiff.random.key(0), (2, 3)).shape == (2, 3)
    public = {n for n in dir(funcdiff.nn_initializers) if not n.startswith("_")}
    assert public <= set(dir(module))


def test_piecewise_activations_have_jaxs_derivative_at_the_joins():
    # relu6 has flat ends (JAX's custom rule); hard_tanh is JAX's nested where (1 at the
    # joins), sparse_sigmoid JAX's 0.5 * clip (half of clip's tie share, 1/2).
    for f, joins, slope in [(nn.relu6, [0.0, 6.0], 0.0), (nn.hard_tanh, [-1.0, 1.0], 1.0),
                            (nn.sparse_sigmoid, [-1.0, 1.0], 0.25)]:
        for x in joins:
            assert float(funcdiff.grad(f)(x)) == slope, (f, x)
    assert float(funcdiff.grad(nn.sparse_plus)(1.0)) == 1.0  # continuous derivative
    assert float(funcdiff.grad(nn.sparse_plus)(-1.0)) == 0.0


def test_selu_constants_and_glu_errors():
    _close(nn.selu(np.array([-50.0])), [-1.0507009873554805 * 1.6732632423543772], rtol=1e-15)
    with pytest.raises(ValueError, match="even size"):
        nn.glu(np.ones(3))


def _attention_reference(q, k, v, keep):
    logits = np.einsum("btnh,bsnh->bnts", q, k) / np.sqrt(q.shape[-1])
    logits = np.where(keep, logits, -0.7 * np.finfo(np.float64).max)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    return np.einsum("bnts,bsnh->btnh", p / p.sum(-1, keepdims=True), v)


def test_attention_sequence_lengths_window_and_residual():
    b, t, s, n, h = 2, 4, 5, 2, 3
    q, k, v = (RNG.normal(size=shape) for shape in [(b, t, n, h), (b, s, n, h), (b, s, n, h)])
    q_len, kv_len = np.array([4, 2]), np.array([5, 3])
    rows, cols = np.arange(t)[:, None], np.arange(s)[None, :]
    keep = ((cols >= rows - 1) & (cols <= rows + 2))[None, None]
    keep = keep & (np.arange(t)[None, None, :, None] < q_len[:, None, None, None])
    keep = keep & (np.arange(s)[None, None, None, :] < kv_len[:, None, None, None])
    expected = _attention_reference(q, k, v, keep)
    expected = expected * (np.arange(t)[None, :, None, None] < q_len[:, None, None, None])
    out, lse = nn.dot_product_attention(q, k, v, query_seq_lengths=q_len,
                                        key_value_seq_lengths=kv_len, local_window_size=(1, 2),
                                        return_residual=True)
    _close(out, expected, rtol=1e-12, atol=1e-14)
    assert lse.shape == (b, t, n)
    with pytest.raises(ValueError, match="implementation='cudnn'"):
        nn.dot_product_attention(q, k, v, implementation="cudnn")
    with pytest.raises(ValueError, match="K dividing N"):
        nn.dot_product_attention(q, k[:, :, :1].repeat(3, axis=2), v[:, :, :1].repeat(3, axis=2))


def test_attention_gradients_in_both_modes():
    q, k, v = (RNG.normal(size=shape) for shape in [(3, 2, 2), (4, 1, 2), (4, 1, 2)])
    check_grads(lambda q, k, v: nn.dot_product_attention(q, k, v), (q, k, v), order=2,
                modes=("fwd", "rev"))


# ---- block-scaled products ------------------------------------------------------------------


def test_scaled_dot_general_gradient_is_jaxs_straight_through_estimator():
    from nn_table import _ref_quantize, _ref_scaled_matmul

    rng = np.random.default_rng(3)
    x, y, w = (rng.standard_normal(s) for s in ((32, 64), (32, 64), (32, 32)))
    dn = (((1,), (1,)), ((), ()))

    def quantized_product(a, b):  # a (M, K) @ b (N, K)^T, both quantized along K
        (aq, a_s), (bq, b_s) = _ref_quantize(a[None], "mxfp8", None), _ref_quantize(
            b[None], "mxfp8", None)
        return _ref_scaled_matmul(aq, bq, a_s, b_s, None)[0]

    configs = [nn.get_scaled_dot_general_config("mxfp8")] * 3
    gx, gy = funcdiff.grad(lambda x, y: jnp.sum(w * nn.scaled_dot_general(
        x, y, dn, configs=configs)), argnums=(0, 1))(x, y)
    # The cotangent w, quantized, times the other operand quantized along the other axis.
    np.testing.assert_allclose(gx, quantized_product(w, y.T), rtol=1e-12)
    np.testing.assert_allclose(gy, quantized_product(w.T, x.T), rtol=1e-12)
    assert not np.allclose(gx, w @ y, rtol=1e-6)  # quantized, not the exact gradient
    jitted = funcdiff.jit(funcdiff.grad(lambda x: jnp.sum(w * nn.scaled_dot_general(
        x, y, dn, configs=configs))))(x)
    np.testing.assert_allclose(jitted, gx, rtol=1e-12)

    # NVFP4: the exact product, zero where quantization clipped (|x| > global_scale * 6 * 448).
    gs = np.array([0.5], np.float32)
    configs = [nn.get_scaled_dot_general_config("nvfp4", gs)] * 3
    x[3, 5], y[7, 1] = 2000.0, -1500.0
    gx, gy = funcdiff.grad(lambda x, y: jnp.sum(w * nn.scaled_dot_general(
        x, y, dn, preferred_element_type=None, configs=configs)), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, np.where(np.abs(x) <= 1344.0, w @ y, 0.0), rtol=1e-12)
    np.testing.assert_allclose(gy, np.where(np.abs(y) <= 1344.0, w.T @ x, 0.0), rtol=1e-12)
    assert gx[3, 5] == 0 and gy[7, 1] == 0


def test_scaled_products_check_their_arguments():
    a = np.ones((1, 2, 6))
    assert nn.scaled_matmul(a, a, np.ones((1, 2, 3)), np.ones((1, 2, 3))).dtype == np.float32
    with pytest.raises(ValueError, match="must be 3-D"):
        nn.scaled_matmul(a[0], a[0], np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="divide the contracting axis"):
        nn.scaled_matmul(a, a, np.ones((1, 2, 4)), np.ones((1, 2, 4)))
    config = nn.get_scaled_dot_general_config("nvfp4")
    assert (config.mode, config.block_size, config.data_type, config.scale_type) == (
        "nvfp4", 16, "float4_e2m1fn", "float8_e4m3fn")
    assert config.global_scale.tolist() == [1.0] and config.global_scale.dtype == np.float32
    with pytest.raises(ValueError, match="unsupported mode 'fp8'"):
        nn.get_scaled_dot_general_config("fp8")
    configs = [nn.get_scaled_dot_general_config("mxfp8")] * 3
    dn = (((1,), (1,)), ((), ()))
    with pytest.raises(ValueError, match="multiple of the mxfp8 block size 32"):
        nn.scaled_dot_general(np.ones((2, 48)), np.ones((3, 48)), dn, configs=configs)
    with pytest.raises(ValueError, match="do not pair up"):
        nn.scaled_dot_general(np.ones((2, 64)), np.ones((3, 32)), dn, configs=configs)
    # The derivative contracts over the other operand's free axis (3): JAX needs 32 too.
    with pytest.raises(ValueError, match="derivative with respect to lhs"):
        funcdiff.grad(lambda x: jnp.sum(nn.scaled_dot_general(
            x, np.ones((3, 64)), dn, configs=configs)))(np.ones((2, 64)))
    # Without configs: lax.dot_general, in preferred_element_type.
    out = nn.scaled_dot_general(np.ones((2, 5)), np.ones((3, 5)), dn)
    assert out.dtype == np.float32 and out.tolist() == [[5.0] * 3] * 2
