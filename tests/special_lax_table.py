"""`lax_table` records of the special-function primitives (`funcdiff._src.lax.special`), with
SciPy as the reference. Imported at the end of `lax_table`, whose `LAX_OPS` they join, so that
the generic primitive checks of `tests/test_lax_ops.py` run on them. Arguments without a
derivative (as in JAX) are static params here; their derivatives are refused by name in
`test_special_stats_nn.py`."""

from __future__ import annotations

import numpy as np
import scipy.special as ss
from domains import nonzero, uniform
from hypothesis import strategies as st
from lax_table import FLOATS, Case, _custom, _values, unary
from strategies import broadcastable_shapes

from funcdiff._src.lax import special as sp


def _scipy(fn):
    """A SciPy function as a reference, in the dtype of its (first) array operand."""

    def ref(*args, **static):
        dtype = np.result_type(*[a for a in args if isinstance(a, np.ndarray)])
        with np.errstate(all="ignore"):
            return np.asarray(fn(*args, **static)).astype(dtype)

    return ref


def _with_static(name: str, domain, static_values):
    """A draw of one array operand in `domain` and a static float param `name`."""

    def draw(data_draw, dtype):
        shape = data_draw(broadcastable_shapes(1, allow_empty=True))[0]
        return Case((_values(data_draw, domain, shape, dtype),),
                    {name: data_draw(st.sampled_from(static_values))})

    return draw


def _draw_betainc(data_draw, dtype):
    shape = data_draw(broadcastable_shapes(1, allow_empty=True))[0]
    return Case((_values(data_draw, uniform(0.05, 0.95), shape, dtype),),
                {"a": data_draw(st.sampled_from([0.5, 1.0, 2.5])),
                 "b": data_draw(st.sampled_from([0.7, 3.0]))})


_SHAPE_PARAMS = [0.5, 1.0, 2.5, 7.0]


def _d_gammainc_da(a, x, h=1e-3):
    """d/da of SciPy's gammainc by Richardson-extrapolated central differences (error
    O(h^4))."""
    d1 = ss.gammainc(a + h, x) - ss.gammainc(a - h, x)
    d2 = ss.gammainc(a + 2 * h, x) - ss.gammainc(a - 2 * h, x)
    return (8 * d1 - d2) / (12 * h)

SPECIAL_OPS = (
    unary("lgamma", sp.lgamma_p, sp.lgamma, _scipy(ss.gammaln), uniform(0.2, 5.0)),
    unary("digamma", sp.digamma_p, sp.digamma, _scipy(ss.digamma), uniform(0.2, 5.0)),
    unary("erf_inv", sp.erf_inv_p, sp.erf_inv, _scipy(ss.erfinv), uniform(-0.9, 0.9)),
    unary("ndtri", sp.ndtri_p, sp.ndtri, _scipy(ss.ndtri), uniform(0.15, 0.85)),
    unary("erfcx", sp.erfcx_p, sp.erfcx, _scipy(ss.erfcx), uniform(-2.0, 6.0)),
    unary("bessel_i0e", sp.bessel_i0e_p, sp.bessel_i0e, _scipy(ss.i0e), nonzero(0.1, 4.0)),
    unary("bessel_i1e", sp.bessel_i1e_p, sp.bessel_i1e, _scipy(ss.i1e), nonzero(0.1, 4.0)),
    unary("expi", sp.expi_p, sp.expi, _scipy(ss.expi), nonzero(0.3, 3.0)),
    _custom("zeta", sp.zeta_p, lambda q, *, s: sp.zeta(s, q),
            lambda q, *, s: _scipy(ss.zeta)(q * 0 + s, q),
            _with_static("s", uniform(0.3, 3.0), [1.5, 2.0, 4.0]), 1, dtypes=FLOATS,
            elementwise=False),
    _custom("polygamma", sp.polygamma_p, lambda x, *, n: sp.polygamma(n, x),
            lambda x, *, n: _scipy(lambda v: ss.polygamma(n, v))(x),
            _with_static("n", uniform(0.3, 4.0), [0.0, 1.0, 3.0]), 1),
    _custom("igamma", sp.igamma_p, lambda x, *, a: sp.igamma(a, x),
            lambda x, *, a: _scipy(lambda v: ss.gammainc(a, v))(x),
            _with_static("a", uniform(0.2, 6.0), _SHAPE_PARAMS), 1),
    _custom("igammac", sp.igammac_p, lambda x, *, a: sp.igammac(a, x),
            lambda x, *, a: _scipy(lambda v: ss.gammaincc(a, v))(x),
            _with_static("a", uniform(0.2, 6.0), _SHAPE_PARAMS), 1),
    _custom("igamma_grad_a", sp.igamma_grad_a_p, lambda x, *, a: sp.igamma_grad_a_p.bind(a, x),
            lambda x, *, a: _scipy(lambda v: _d_gammainc_da(a, v))(x),
            _with_static("a", uniform(0.2, 6.0), _SHAPE_PARAMS), 1),
    _custom("regularized_incomplete_beta", sp.betainc_p,
            lambda x, *, a, b: sp.betainc(a, b, x),
            lambda x, *, a, b: _scipy(lambda v: ss.betainc(a, b, v))(x), _draw_betainc, 1),
)
