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
BETWEEN_POLES = Domain(-0.85, -0.15, ilo=-1, ihi=-1)  # (-1, 0): between two poles

for _name, _ref, _dom in [
    ("gammaln", ss.gammaln, GAMMA_DOM),
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
]:
    add("scipy.special." + _name, partial(unary_cases, domain=_dom), ref=_scipy(_ref),
        dtypes=REAL, domains=(_dom,), rtol={np.dtype(np.float32): 1e-5})

for _name, _ref in [("gammaln", ss.gammaln), ("digamma", ss.digamma), ("gamma", ss.gamma)]:
    add("scipy.special." + _name, partial(unary_cases, domain=BETWEEN_POLES),
        variant="negative", ref=_scipy(_ref), dtypes=(F64,))
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
_binary("poch", ss.poch, POS, Domain(0.2, 2.0), dtypes=REAL, weak=True)
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
