"""Every public name of `funcdiff.nn`, `funcdiff.scipy.special`, `funcdiff.scipy.stats`,
`funcdiff.scipy.linalg`, `funcdiff.scipy.fft`/`signal`/`ndimage`/`integrate`, `funcdiff.lax`
(with `lax.linalg`) and `funcdiff.experimental.ode`
is driven by a generic table (`numpy_table.RECORDS`, run by test_numpy_ops.py, or
`lax_table.LAX_OPS`, run by test_lax_ops.py), is a thin wrapper of one primitive that has a
record (checked by staging it), or is exempt here with the reason and where it is tested."""

from __future__ import annotations

import inspect
import types

import numpy as np
import pytest
from lax_table import LAX_OPS
from numpy_table import EXCLUDED, RECORDS

import funcdiff
from funcdiff import lax, nn
from funcdiff.experimental import ode
from funcdiff.lax import linalg as lax_linalg
from funcdiff.scipy import fft as scipy_fft
from funcdiff.scipy import integrate, ndimage, signal, special, stats
from funcdiff.scipy import linalg as scipy_linalg


def public_names() -> dict[str, object]:
    """Dotted name -> object, for every public name of the namespaces above (sub-modules
    excluded; a stats distribution contributes its functions)."""
    out = {}
    for prefix, module in [
        ("nn.", nn),
        ("scipy.special.", special),
        ("scipy.linalg.", scipy_linalg),
        ("scipy.fft.", scipy_fft),
        ("scipy.signal.", signal),
        ("scipy.ndimage.", ndimage),
        ("scipy.integrate.", integrate),
        ("lax.", lax),
        ("lax.linalg.", lax_linalg),
        ("experimental.ode.", ode),
    ]:
        for name in dir(module):
            obj = getattr(module, name)
            if not name.startswith("_") and not isinstance(obj, types.ModuleType):
                out[prefix + name] = obj
    for dist in (d for d in dir(stats) if not d.startswith("_")):
        for name in (n for n in dir(getattr(stats, dist)) if not n.startswith("_")):
            out[f"scipy.stats.{dist}.{name}"] = getattr(getattr(stats, dist), name)
    return out


# A `lax` function that only calls one primitive: (the primitive's record name, arguments
# to stage it with). The test stages each and finds the primitive in its program.
_M = np.arange(1.0, 5.0).reshape(2, 2) + 3 * np.eye(2)
WRAPPERS = {
    "lax.div": ("div", (np.ones(2), np.ones(2))),
    "lax.round": ("round", (np.ones(2),)),
    "lax.conj": ("conj", (np.ones(2),)),
    "lax.select": ("select_n", (np.ones(2, bool), np.ones(2), np.zeros(2))),
    "lax.concatenate": ("concatenate", ([np.ones(2), np.ones(3)], 0)),
    "lax.broadcast_to": ("broadcast_in_dim", (np.ones(2), (3, 2))),
    "lax.dynamic_slice": ("dynamic_slice", (np.ones(4), (1,), (2,))),
    "lax.dynamic_update_slice": ("dynamic_update_slice", (np.ones(4), np.ones(2), (1,))),
    "lax.dot_general": ("dot_general", (_M, _M, (((1,), (0,)), ((), ())))),
    "lax.stop_gradient": ("stop_gradient", (np.ones(2),)),
    "lax.igamma": ("igamma", (np.ones(2), np.ones(2))),
    "lax.igammac": ("igammac", (np.ones(2), np.ones(2))),
    "lax.polygamma": ("polygamma", (np.ones(2), np.ones(2))),
    "lax.zeta": ("zeta", (np.full(2, 2.0), np.ones(2))),
    "lax.betainc": ("regularized_incomplete_beta", (np.ones(2), np.ones(2), np.full(2, 0.5))),
    "lax.linalg.cholesky": ("cholesky", (_M @ _M.T,)),
    "lax.linalg.eig": ("eig", (_M,)),
    "lax.linalg.eigh": ("eigh", (_M + _M.T,)),
    "lax.linalg.lu": ("lu", (_M,)),
    "lax.linalg.qr": ("qr", (_M,)),
    "lax.linalg.schur": ("schur", (_M,)),
    "lax.linalg.svd": ("svd", (_M,)),
    "lax.linalg.triangular_solve": ("triangular_solve", (_M, _M)),
    "lax.linalg.tridiagonal_solve": ("tridiagonal_solve", (_M[0], _M[0], _M[0], _M)),
}

_CONTROL_FLOW = "higher-order (takes functions): tests/test_control_flow.py"
_TYPES = "a class or enum of parameters, no arrays: used by the records of the functions taking it"
_SHAPES = "shape arithmetic on Python ints, no arrays: tests/test_convolution.py"
_PRIMITIVE = "a primitive object (JAX exports it): its record is in lax_table.py"
EXEMPT = {
    **{
        f"lax.{n}": _CONTROL_FLOW
        for n in ("cond", "switch", "fori_loop", "while_loop", "scan", "map")
    },
    **{
        f"lax.{n}": _TYPES
        for n in (
            "ConvDimensionNumbers",
            "FftType",
            "RandomAlgorithm",
            "GatherDimensionNumbers",
            "GatherScatterMode",
            "Precision",
            "RoundingMethod",
            "ScatterDimensionNumbers",
        )
    },
    **{
        f"lax.{n}": _SHAPES
        for n in (
            "conv_dimension_numbers",
            "conv_general_shape_tuple",
            "conv_shape_tuple",
            "padtype_to_pads",
            "reduce_window_shape_tuple",
        )
    },
    **{
        f"lax.{n}": _PRIMITIVE
        for n in (
            "conv_general_dilated_p",
            "reduce_window_max_p",
            "reduce_window_min_p",
            "reduce_window_sum_p",
        )
    },
}
_COMPOSED = "composed from primitives that have records: tests/test_lax_composed.py"
EXEMPT.update(
    {
        f"lax.{n}": _COMPOSED
        for n in (
            "approx_max_k",
            "approx_min_k",
            "batch_matmul",
            "broadcast",
            "broadcast_like",
            "broadcast_shapes",
            "broadcast_to_rank",
            "broadcasted_iota",
            "clz",
            "collapse",
            "dot",
            "empty",
            "exp2",
            "full",
            "full_like",
            "index_take",
            "iota",
            "optimization_barrier",
            "population_count",
            "reciprocal",
            "reduce_xor",
            "shift_right_arithmetic",
            "shift_right_logical",
            "sort_key_val",
            "split",
            "stack",
            "tile",
            "unstack",
            "with_sharding_constraint",
        )
    }
)
EXEMPT.update(
    {
        "lax.associative_scan": "higher-order (takes functions): tests/test_lax_associative.py",
        "lax.reduce": "higher-order (takes functions): tests/test_lax_associative.py",
        "lax.custom_root": "higher-order (takes functions): tests/test_lax_solvers.py",
        "lax.axis_size": "a Python int from the enclosing vmaps' scope, no array or primitive: "
        "tests/test_collectives.py",
    }
)
_BREADTH = "composed from primitives that have records: tests/test_lax_breadth.py"
EXEMPT.update(
    {
        f"lax.{n}": _BREADTH
        for n in ("conv_general_dilated_patches", "mulhi", "ragged_dot", "rng_bit_generator")
    }
)
_SCIPY_COMPOSED = "composed from funcdiff.numpy and primitives that have records: "
EXEMPT.update(
    {
        **{f"scipy.fft.{n}": _SCIPY_COMPOSED + "tests/test_scipy_fft_ndimage.py"
           for n in ("dct", "idct", "dctn", "idctn")},
        **{f"scipy.signal.{n}": _SCIPY_COMPOSED + "tests/test_scipy_signal.py"
           for n in ("convolve", "correlate", "convolve2d", "correlate2d", "fftconvolve",
                     "detrend", "stft", "istft", "csd", "welch")},
        "scipy.ndimage.map_coordinates": _SCIPY_COMPOSED + "tests/test_scipy_fft_ndimage.py",
        "scipy.integrate.trapezoid": "funcdiff.numpy.trapezoid, whose record is in "
        "numpy_table.py: tests/test_scipy_fft_ndimage.py compares it with SciPy",
        "scipy.special.bernoulli": "takes a static Python int, returns constants (no array "
        "argument to differentiate or map): tests/test_special_more.py",
    }
)
_SCIPY_SPECIAL = "composed from primitives that have records: tests/test_scipy_linalg_special.py"
_SCIPY_DECOMP = "composed from primitives that have records: tests/test_scipy_linalg_decomp.py"
EXEMPT.update(
    {
        **{
            f"scipy.linalg.{n}": _SCIPY_SPECIAL
            for n in ("companion", "convolution_matrix", "dft", "fiedler", "fiedler_companion",
                      "hadamard", "helmert", "hilbert", "invhilbert", "invpascal", "leslie",
                      "pascal")
        },
        **{
            f"scipy.linalg.{n}": _SCIPY_DECOMP
            for n in ("eigh_tridiagonal", "expm_frechet", "funm", "hessenberg", "polar",
                      "qr_multiply", "rsf2csf", "schur", "solve_sylvester", "sqrtm")
        },
    }
)
_LAX_LINALG = "composed from funcdiff.numpy and primitives that have records: "
EXEMPT.update(
    {
        **{
            f"lax.linalg.{n}": _LAX_LINALG + "tests/test_lax_linalg_extras.py"
            for n in ("cholesky_update", "hessenberg", "householder_product",
                      "lu_pivots_to_permutation", "ormqr", "qdwh", "symmetric_product",
                      "tridiagonal")
        },
    }
)
for _name, _reason in EXCLUDED.items():
    if "." in _name:
        EXEMPT[_name] = _reason


def _covered() -> set[str]:
    names = public_names()
    by_record = {r.name for r in RECORDS}
    # A public lax function is its primitive's wrapper, or that wrapper behind the dtype
    # checks of lax/checked.py (functools.wraps records what it wraps).
    fns = {id(r.fn) for r in LAX_OPS}
    by_primitive = {
        n for n, obj in names.items() if n.startswith("lax.") and id(inspect.unwrap(obj)) in fns
    }
    # A record whose fn calls the public function in a context (a collective in a vmap)
    by_context = {f"lax.{n}" for r in LAX_OPS for n in r.public}
    return by_record | by_primitive | by_context | set(WRAPPERS)


def test_every_public_name_has_a_table_record_or_a_reason():
    names = public_names()
    missing = sorted(n for n in names if n not in _covered() and n not in EXEMPT)
    assert not missing, f"public names with neither a table record nor an exemption: {missing}"
    stale = sorted(n for n in list(EXEMPT) + list(WRAPPERS) if n not in names)
    assert not stale, f"exempt or wrapper names that do not exist: {stale}"
    both = sorted(set(EXEMPT) & _covered())
    assert not both, f"names both exempt and covered: {both}"
    assert all(len(reason) > 20 for reason in EXEMPT.values())


@pytest.mark.parametrize("name", sorted(WRAPPERS))
def test_wrappers_stage_their_primitive(name):
    prim, args = WRAPPERS[name]
    assert prim in {r.name for r in LAX_OPS}, f"{prim} has no record in lax_table.py"
    fn = public_names()[name]
    arrays = [i for i, a in enumerate(args) if isinstance(a, np.ndarray)]

    def staged(*xs):
        full = list(args)
        for i, x in zip(arrays, xs):
            full[i] = x
        return fn(*full)

    jaxpr = funcdiff.make_jaxpr(staged)(*[args[i] for i in arrays])
    prims = {eqn.primitive.name for eqn in jaxpr.jaxpr.eqns}
    assert prim in prims, f"{name} stages {sorted(prims)}, not {prim}"
