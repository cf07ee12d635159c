"""Records of `funcdiff.scipy.special` (beyond the few in `numpy_table`) and of
`funcdiff.scipy.stats`, with SciPy as the reference. Imported at the end of `numpy_table`,
whose `RECORDS` they join, so that the generic checks of `tests/test_numpy_ops.py` (values,
derivatives of both modes, staging, vmap) run on them.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import scipy.special as ss
from hypothesis import strategies as st
from numpy_table import (
    F64,
    FLOATS,
    I32,
    PIECEWISE,
    POS,
    REAL,
    UNIT,
    Domain,
    _softmax_cases,
    add,
    case,
    draw_array,
    nary_cases,
    unary_cases,
)
from strategies import broadcastable_shapes

import funcdiff.numpy as jnp
from funcdiff.scipy import stats


def _result_dtype(*args) -> np.dtype:
    """funcdiff's result dtype: NumPy's promotion of the arguments, at least floating."""
    return np.result_type(*[np.asarray(a).dtype if isinstance(a, np.ndarray | np.generic)
                            else a for a in args], np.float32 if _all_f32(args) else 1.0)


def _all_f32(args) -> bool:
    return all(np.asarray(a).dtype == np.float32 for a in args if isinstance(a, np.ndarray))


def _scipy(fn, n_arrays=None):
    """A SciPy function as a reference, its result cast to funcdiff's dtype."""

    def ref(*args, **kwargs):
        arrays = args if n_arrays is None else args[:n_arrays]
        with np.errstate(all="ignore"):
            out = fn(*args, **kwargs)
        return np.asarray(out).astype(_result_dtype(*arrays))

    return ref


# ---- scipy.special --------------------------------------------------------------------------

GAMMA_DOM = Domain(0.2, 6.0, ilo=1, ihi=6)
BETWEEN_POLES = Domain(-0.8, -0.2, ilo=-1, ihi=-1)  # (-1, 0): between two poles

for _name, _ref, _dom in [
    ("gammaln", ss.gammaln, GAMMA_DOM),
    ("loggamma", ss.loggamma, GAMMA_DOM),
    ("digamma", ss.digamma, GAMMA_DOM),
    ("gamma", ss.gamma, Domain(0.2, 5.0, ilo=1, ihi=5)),
    ("erfinv", ss.erfinv, UNIT),
    ("erfcx", ss.erfcx, Domain(-2.0, 6.0)),
    ("ndtr", ss.ndtr, Domain(-4.0, 4.0)),
    ("ndtri", ss.ndtri, Domain(0.05, 0.95, ilo=0, ihi=1)),
    ("log_ndtr", ss.log_ndtr, Domain(-30.0, 8.0)),
    ("i0", ss.i0, Domain(0.1, 3.0, signed=True)),
    ("i0e", ss.i0e, Domain(0.1, 3.0, signed=True)),
    ("i1", ss.i1, Domain(0.1, 3.0, signed=True)),
    ("i1e", ss.i1e, Domain(0.1, 3.0, signed=True)),
    ("expi", ss.expi, Domain(0.3, 3.0, signed=True)),
    ("exp1", ss.exp1, Domain(0.2, 4.0, ilo=1, ihi=4)),
    ("spence", ss.spence, Domain(0.1, 5.0, ilo=1, ihi=5)),
    ("dawsn", ss.dawsn, Domain(-12.0, 12.0)),
]:
    add("scipy.special." + _name, partial(unary_cases, domain=_dom), ref=_scipy(_ref),
        dtypes=REAL, domains=(_dom,), rtol={np.dtype(np.float32): 1e-5})

_SICI_DOM = Domain(0.3, 8.0, signed=True, ilo=1, ihi=8)
add("scipy.special.sici", partial(unary_cases, domain=_SICI_DOM), dtypes=REAL,
    ref=lambda x: tuple(_scipy(lambda v, i=i: ss.sici(v)[i])(x) for i in (0, 1)),
    domains=(_SICI_DOM,), rtol={np.dtype(np.float32): 1e-5})
_FRESNEL_DOM = Domain(0.2, 3.0, signed=True, ilo=1, ihi=3)
add("scipy.special.fresnel", partial(unary_cases, domain=_FRESNEL_DOM), dtypes=REAL,
    ref=lambda x: tuple(_scipy(lambda v, i=i: ss.fresnel(v)[i])(x) for i in (0, 1)),
    domains=(_FRESNEL_DOM,), rtol={np.dtype(np.float32): 1e-5})
_JN_DOM = Domain(0.3, 15.0, signed=True, ilo=1, ihi=15)
add("scipy.special.bessel_jn", partial(unary_cases, domain=_JN_DOM, v=st.integers(0, 3)),
    ref=_scipy(lambda z, v: ss.jv(np.arange(v + 1).reshape((-1,) + (1,) * np.ndim(z)), z),
               n_arrays=1),
    dtypes=REAL, domains=(_JN_DOM,), rtol={np.dtype(np.float32): 1e-4})
add("scipy.special.loggamma", partial(unary_cases, domain=BETWEEN_POLES), variant="negative",
    ref=_scipy(ss.loggamma), dtypes=(F64,), grad_order=0, grad_note="NaN for x <= 0")
for _name, _ref in [("gammaln", ss.gammaln), ("digamma", ss.digamma), ("gamma", ss.gamma)]:
    add("scipy.special." + _name, partial(unary_cases, domain=BETWEEN_POLES),
        variant="negative", ref=_scipy(_ref), dtypes=(F64,), grad_tol=1e-4)
add("scipy.special.gammasgn", partial(unary_cases, domain=Domain(-3.75, 3.75, step=0.5)),
    ref=_scipy(ss.gammasgn), dtypes=FLOATS, **PIECEWISE)
add("scipy.special.factorial", partial(unary_cases, domain=Domain(-1.5, 6.0, ilo=-2, ihi=6)),
    ref=_scipy(ss.factorial), dtypes=REAL, rtol={np.dtype(np.float32): 1e-5},
    grad_cases=partial(unary_cases, domain=POS))
add("scipy.special.multigammaln",
    partial(unary_cases, domain=Domain(3.0, 6.0, ilo=3, ihi=6), d=st.integers(1, 3)),
    ref=_scipy(lambda a, d: ss.multigammaln(a, d) if np.size(a) else np.zeros(np.shape(a))),
    dtypes=REAL, rtol={np.dtype(np.float32): 1e-5})
for _name, _ref in [("softmax", ss.softmax), ("log_softmax", ss.log_softmax)]:
    add("scipy.special." + _name, _softmax_cases, ref=_scipy(_ref), dtypes=REAL,
        rtol={np.dtype(np.float32): 1e-5})


def _binary(name, ref, d1, d2, **opts):
    opts.setdefault("rtol", {np.dtype(np.float32): 1e-5})
    add("scipy.special." + name, partial(nary_cases, domains=(d1, d2)), ref=_scipy(ref),
        domains=(d1, d2), **opts)


_binary("betaln", ss.betaln, POS, POS, dtypes=REAL, weak=True)
_binary("beta", ss.beta, POS, POS, dtypes=REAL, weak=True)
_binary("poch", ss.poch, POS, Domain(0.2, 2.0, ilo=-6, ihi=3), dtypes=REAL, weak=True)
_binary("rel_entr", ss.rel_entr, POS, POS, dtypes=REAL, weak=True)
_binary("kl_div", ss.kl_div, POS, POS, dtypes=REAL, weak=True)
for _name, _ref in [("rel_entr", ss.rel_entr), ("kl_div", ss.kl_div)]:
    _binary(_name, _ref, Domain(-1.0, 1.0, step=0.5), Domain(-1.0, 1.0, step=0.5),
            variant="edges", dtypes=(F64,), grad_order=0,
            grad_note="value check at zero and negative arguments only")
_binary("boxcox", ss.boxcox, POS, Domain(-1.0, 1.0), dtypes=FLOATS)
_binary("boxcox1p", ss.boxcox1p, Domain(-0.5, 2.0), Domain(-1.0, 1.0), dtypes=FLOATS)
_binary("comb", lambda n, k: ss.comb(n, k), Domain(2.0, 8.0), Domain(0.0, 2.0), dtypes=(F64,))
_binary("zeta", ss.zeta, Domain(1.5, 5.0), POS, dtypes=FLOATS, fixed_args=(0,),
        grad_note="derivatives in q (JAX has none in x)")
_binary("owens_t", ss.owens_t, Domain(-3.0, 3.0), Domain(-3.0, 3.0), dtypes=FLOATS, weak=True)
_binary("gammainc", ss.gammainc, POS, POS, dtypes=FLOATS, weak=True, grad_order=1,
        grad_note="the derivative in a is first order only (as in JAX)")
_binary("gammaincc", ss.gammaincc, POS, POS, dtypes=FLOATS, weak=True, grad_order=1,
        grad_note="the derivative in a is first order only (as in JAX)")
for _name, _ref in [("gammainc", ss.gammainc), ("gammaincc", ss.gammaincc)]:
    _binary(_name, _ref, POS, POS, variant="x", dtypes=(F64,), fixed_args=(0,),
            grad_note="second derivatives in x")


@st.composite
def _polygamma_cases(draw, dtype):
    s1, s2 = draw(broadcastable_shapes(2, allow_empty=True))
    n = draw_array(draw, s1, I32, Domain(ilo=0, ihi=3))
    return case(n, draw_array(draw, s2, dtype, GAMMA_DOM))


@st.composite
def _expn_cases(draw, dtype):
    s1, s2 = draw(broadcastable_shapes(2, allow_empty=True))
    n = draw_array(draw, s1, I32, Domain(ilo=0, ihi=4))
    return case(n, draw_array(draw, s2, dtype, Domain(0.2, 5.0, ilo=1, ihi=5)))


add("scipy.special.expn", _expn_cases, ref=_scipy(ss.expn, n_arrays=2), dtypes=REAL,
    rtol={np.dtype(np.float32): 1e-5})
add("scipy.special.polygamma", _polygamma_cases, ref=_scipy(ss.polygamma), dtypes=FLOATS,
    rtol={np.dtype(np.float32): 1e-5})


@st.composite
def _betainc_cases(draw, dtype):
    shp = draw(broadcastable_shapes(3, allow_empty=True))
    doms = (POS, POS, Domain(0.05, 0.95))
    return case(*(draw_array(draw, s, dtype, d) for s, d in zip(shp, doms)))


add("scipy.special.betainc", _betainc_cases, ref=_scipy(ss.betainc), dtypes=FLOATS,
    fixed_args=(0, 1), grad_note="derivatives in x (JAX has none in a and b)",
    rtol={np.dtype(np.float32): 1e-5})


# ---- scipy.stats ----------------------------------------------------------------------------

X = Domain(-2.0, 2.0)
LOC = Domain(-0.2, 0.2)
SCALE = Domain(0.8, 1.6)
PROB = Domain(0.2, 0.8)  # third derivatives of log p stay moderate for finite differences
QUANTILE = Domain(0.05, 0.95)
SHAPE = Domain(0.5, 4.0)
AWAY = Domain(0.5, 2.0, signed=True)  # |x - loc| >= 0.3: clear of the kink of |x - loc|
STAT_TOL = {np.dtype(np.float32): 1e-4}


def _counts(lo, hi):
    return Domain(float(lo), float(hi), step=1.0)


def stat(dist: str, fn: str, *domains: Domain, variant: str = "", **opts) -> None:
    """A record of ``funcdiff.scipy.stats.<dist>.<fn>`` against ``scipy.stats``."""
    import scipy.stats as sst

    opts.setdefault("rtol", STAT_TOL)
    opts.setdefault("dtypes", FLOATS)
    opts.setdefault("cases", partial(nary_cases, domains=domains, allow_empty=False))
    ref = getattr(getattr(sst, dist), fn)
    add(f"scipy.stats.{dist}.{fn}", opts.pop("cases"), ref=_scipy(ref), variant=variant, **opts)


for _fn in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"):
    stat("norm", _fn, X, LOC, SCALE)
    stat("cauchy", _fn, X, LOC, SCALE)
for _fn in ("ppf", "isf"):
    stat("norm", _fn, QUANTILE, LOC, SCALE)
    stat("cauchy", _fn, Domain(0.2, 0.8), LOC, SCALE, grad_tol=1e-4)  # tan grows fast
    stat("logistic", _fn, QUANTILE, LOC, SCALE)
for _fn in ("logpdf", "pdf"):
    stat("t", _fn, X, SHAPE, LOC, SCALE)
    stat("vonmises", _fn, Domain(-3.0, 3.0), SHAPE)
    stat("laplace", _fn, AWAY, LOC, SCALE)
stat("laplace", "cdf", AWAY, LOC, SCALE)
for _fn in ("logpdf", "pdf", "cdf", "sf"):
    stat("logistic", _fn, AWAY, LOC, SCALE)
for _fn in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"):
    stat("gumbel_r", _fn, X, LOC, SCALE)
    stat("gumbel_l", _fn, X, LOC, SCALE)
stat("gumbel_r", "ppf", QUANTILE, LOC, SCALE)
stat("gumbel_l", "ppf", QUANTILE, LOC, SCALE)
for _fn in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"):
    stat("expon", _fn, Domain(0.5, 3.0), LOC, SCALE)
    stat("pareto", _fn, Domain(2.5, 4.0), SHAPE, LOC, SCALE)
    stat("beta", _fn, Domain(0.2, 0.8), SHAPE, SHAPE, Domain(-0.1, 0.05), Domain(1.0, 1.3),
         **({} if _fn in ("logpdf", "pdf") else dict(
             fixed_args=(1, 2), grad_note="derivatives in x, loc and scale (JAX has none in "
                                          "a and b)")))
    stat("truncnorm", _fn, Domain(-0.5, 0.5), Domain(-2.0, -1.0), Domain(1.0, 2.0), LOC, SCALE)
    stat("truncnorm", _fn, Domain(4.1, 4.9), Domain(3.5, 4.0), Domain(5.0, 6.0),
         variant="tail")
    for _dist in ("gamma", "chi2"):
        stat(_dist, _fn, Domain(0.5, 3.0), SHAPE, LOC, SCALE,
             **({} if _fn in ("logpdf", "pdf") else dict(
                 fixed_args=(1,), grad_note="derivatives in x, loc and scale (in the shape, "
                                            "JAX has first derivatives only)")))
for _dist in ("gamma", "chi2"):
    stat(_dist, "cdf", Domain(0.5, 3.0), SHAPE, LOC, SCALE, variant="shape", grad_order=1,
         grad_note="the derivative in the shape is first order only (as in JAX)")
stat("expon", "ppf", QUANTILE, LOC, SCALE)
stat("pareto", "ppf", Domain(0.05, 0.8), Domain(1.0, 4.0), LOC, SCALE)
for _fn in ("logpdf", "pdf", "cdf"):
    stat("uniform", _fn, Domain(0.3, 0.7), Domain(-0.1, 0.1), Domain(1.0, 1.5))
stat("uniform", "ppf", QUANTILE, LOC, SCALE)

_K = dict(fixed_args=(0,), grad_note="derivatives in the parameters (the counts are integers)")
_KLOC = dict(_K, fixed_args=(0, 2))
for _fn in ("logpmf", "pmf"):
    stat("poisson", _fn, _counts(0, 6), SHAPE, **_K)
    stat("poisson", _fn, _counts(2, 6), SHAPE, _counts(-1, 1), variant="loc", **_KLOC)
    stat("bernoulli", _fn, _counts(0, 1), PROB, **_K)
    stat("binom", _fn, _counts(0, 6), _counts(7, 9), PROB, **_K)
    stat("nbinom", _fn, _counts(0, 6), SHAPE, PROB, **_K)
    stat("geom", _fn, _counts(1, 6), PROB, **_K)
    stat("geom", _fn, _counts(2, 6), PROB, _counts(-1, 1), variant="loc", **_KLOC)
stat("poisson", "cdf", Domain(-1.0, 6.0, step=0.5), SHAPE, **_K)
stat("poisson", "entropy", SHAPE)
stat("poisson", "entropy", Domain(300.0, 3000.0), variant="large")  # the sum and the series
stat("bernoulli", "cdf", Domain(-1.0, 2.0, step=0.5), PROB, **_K)
stat("bernoulli", "ppf", QUANTILE, PROB, **PIECEWISE)


@st.composite
def _dirichlet_cases(draw, dtype, drop_last=False):
    k = draw(st.integers(2, 4))
    n = draw(st.sampled_from([(), (1,), (3,)]))
    alpha = draw_array(draw, (k,), dtype, SHAPE)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.dirichlet(np.ones(k), size=n).astype(dtype)
    x = np.moveaxis(x, -1, 0)
    return case(x[:-1] if drop_last else x, alpha)


def _ref_dirichlet(fn):
    import scipy.stats as sst

    def ref(x, alpha):
        if x.shape[0] == alpha.shape[0] - 1:
            x = np.concatenate([x, 1 - x.sum(0, keepdims=True)])
        out = _scipy(getattr(sst.dirichlet, fn))(x.astype(np.float64), alpha)
        return out.astype(_result_dtype(x, alpha)).reshape(x.shape[1:])  # JAX keeps the axes

    return ref


for _fn in ("logpdf", "pdf"):
    for _drop in (False, True):
        add(f"scipy.stats.dirichlet.{_fn}", partial(_dirichlet_cases, drop_last=_drop),
            variant="k-1" if _drop else "", ref=_ref_dirichlet(_fn), dtypes=(F64,),
            fixed_args=(0,), grad_note="derivatives in alpha (x stays on the simplex)")


@st.composite
def _mvn_cases(draw, dtype):
    n = draw(st.integers(1, 3))
    batch = draw(st.sampled_from([(), (2,)]))
    return case(draw_array(draw, batch + (n,), dtype), draw_array(draw, (n,), dtype),
                draw_array(draw, (n, n), dtype))


def _spd(a):
    """A covariance matrix from any square matrix: ``a a^T + n I``."""
    return a @ np.swapaxes(a, -1, -2) + a.shape[-1] * np.eye(a.shape[-1], dtype=a.dtype)


def _ref_mvn(fn):
    import scipy.stats as sst

    def ref(x, mean, a):
        out = getattr(sst.multivariate_normal, fn)(x.astype(np.float64), mean, _spd(
            a.astype(np.float64)))
        return np.asarray(out).astype(_result_dtype(x, mean, a)).reshape(x.shape[:-1])

    return ref


def _mvn(fn):
    def f(x, mean, a):
        cov = a @ jnp.swapaxes(a, -1, -2) + a.shape[-1] * np.eye(a.shape[-1], dtype=a.dtype)
        return getattr(stats.multivariate_normal, fn)(x, mean, cov)

    return f


for _fn in ("logpdf", "pdf"):
    add(f"scipy.stats.multivariate_normal.{_fn}", _mvn_cases, fn=_mvn(_fn), ref=_ref_mvn(_fn),
        dtypes=FLOATS, rtol=STAT_TOL,
        grad_note="derivatives through cov = a a^T + n I (so that it stays positive definite)")
