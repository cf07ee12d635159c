"""Table-driven correctness tests of `funcdiff.numpy`, `funcdiff.nn`, `funcdiff.scipy`
(special, stats, linalg), `odeint` and the `funcdiff.lax` compositions (the table is
`numpy_table.RECORDS`).

For every record: values, shapes and dtypes equal NumPy's (or SciPy's; float32 stays float32,
Python scalars are weak); derivatives pass `check_grads` in both modes; the staged program
(`make_jaxpr`) evaluates to the eager value; `jit` gives the eager results; `vmap` equals a
loop.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from numpy_more_table import NOT_ARRAY_FUNCTIONS
from numpy_table import EXCLUDED, F64, RECORDS, Record, public, sample
from test_table_completeness import public_names

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import nn
from funcdiff._src import core
from funcdiff._src.tree_util import tree_flatten
from funcdiff.scipy import special, stats
from funcdiff.test_util import check_grads

_BY_LABEL = {r.label: r for r in RECORDS}


def _labels(records: list[Record]) -> list[str]:
    return [r.label for r in records]
_ERRORS = (ValueError, TypeError, IndexError)


def _leaves(x: Any) -> list[Any]:
    if isinstance(x, list | tuple):
        return [leaf for e in x for leaf in _leaves(e)]
    return [x]


def _quiet(f, *args, **kwargs):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*args, **kwargs)


def _assert_same(out: Any, expected: Any, rec: Record, dtype: np.dtype, what: str) -> None:
    out_l, exp_l = _leaves(out), _leaves(expected)
    assert len(out_l) == len(exp_l), f"{what}: {len(out_l)} outputs, expected {len(exp_l)}"
    rtol, atol = rec.tolerance(dtype)
    for i, (o, e) in enumerate(zip(out_l, exp_l)):
        assert not isinstance(o, core.Tracer), f"{what}: output {i} is a tracer"
        if isinstance(e, np.dtype | type) or e is None:
            assert o == e, f"{what}: output {i} is {o!r}, expected {e!r}"
            continue
        if isinstance(e, bool | int) and not isinstance(e, np.generic):
            assert o == e and type(o) is type(e), f"{what}: output {i} is {o!r}, expected {e!r}"
            continue
        o_a, e_a = np.asarray(o), np.asarray(e)
        assert o_a.shape == e_a.shape, f"{what}: output {i} shape {o_a.shape} != {e_a.shape}"
        assert o_a.dtype == e_a.dtype, f"{what}: output {i} dtype {o_a.dtype} != {e_a.dtype}"
        if not rec.values:
            continue
        if o_a.dtype.kind in "fc":
            np.testing.assert_allclose(o_a, e_a, rtol=rtol, atol=atol, equal_nan=True,
                                       err_msg=f"{what}: output {i}")
        else:
            np.testing.assert_array_equal(o_a, e_a, err_msg=f"{what}: output {i}")


# ---- completeness ---------------------------------------------------------------------------


def _public_names() -> list[str]:
    names = [n for n in dir(jnp) if not n.startswith("_")]
    names += ["linalg." + n for n in jnp.linalg.__all__]
    names += ["fft." + n for n in jnp.fft.__all__]
    names += ["nn." + n for n in dir(nn) if not n.startswith("_") and callable(getattr(nn, n))]
    names += ["scipy.special." + n for n in dir(special)
              if not n.startswith("_") and callable(getattr(special, n))]
    names += [f"scipy.stats.{d}.{n}" for d in dir(stats) if not d.startswith("_")
              for n in dir(getattr(stats, d)) if not n.startswith("_")]
    return names


def test_every_public_function_has_a_record_or_a_reason():
    covered = {r.name for r in RECORDS}
    missing = [n for n in _public_names() if n not in covered and n not in EXCLUDED]
    assert not missing, f"public names with neither a record nor an exclusion: {missing}"
    stale = [n for n in EXCLUDED if n not in _public_names()]
    assert not stale, f"excluded names that funcdiff.numpy does not have: {stale}"
    overlap = covered & set(EXCLUDED)
    assert not overlap, f"names both excluded and covered: {overlap}"


def test_every_record_names_a_public_function():
    # (The records of funcdiff.lax, scipy.linalg and odeint: test_table_completeness.py
    # checks those namespaces.)
    names = set(_public_names()) | set(public_names())
    for r in RECORDS:
        assert r.name in names, r.name
        assert callable(public(r.name))


def test_records_explain_missing_derivatives():
    for r in RECORDS:
        if r.grad_order < 2:
            assert r.grad_note, f"{r.label}: grad_order {r.grad_order} without a reason"
        assert r.jaxpr in ("eval", "concrete", "static"), r.label
        assert len({x.label for x in RECORDS if x.label == r.label}) == 1


def test_labels_are_unique():
    labels = [r.label for r in RECORDS]
    assert len(labels) == len(set(labels))


def test_excluded_reexports_are_numpys():
    for name in EXCLUDED:
        if name in ("linalg", "fft", "ndarray") or name in NOT_ARRAY_FUNCTIONS or "." in name:
            continue
        ours = getattr(jnp, name)
        theirs = getattr(np, name) if hasattr(np, name) else getattr(np.exceptions, name)
        if isinstance(theirs, float):
            assert ours == theirs or (math.isnan(ours) and math.isnan(theirs)), name
        else:
            assert ours is theirs, name
    assert jnp.linalg.norm is public("linalg.norm")


# ---- values ---------------------------------------------------------------------------------


@pytest.mark.parametrize("label", _labels(RECORDS))
@given(data=st.data())
def test_values_match_numpy(label: str, data: st.DataObject) -> None:
    rec = _BY_LABEL[label]
    dtype = data.draw(st.sampled_from(rec.dtypes), label="dtype")
    c = data.draw(rec.cases(dtype), label="case")
    try:
        expected = _quiet(rec.ref, *c.args, **c.kwargs)
    except _ERRORS as e:
        # NumPy rejects the arguments: funcdiff must reject them too.
        with pytest.raises(_ERRORS):
            _quiet(rec.fn, *c.args, **c.kwargs)
        note(f"NumPy raised {e!r}")
        return
    out = _quiet(rec.fn, *c.args, **c.kwargs)
    _assert_same(out, expected, rec, dtype, rec.label)


# ---- Python scalars are weakly typed --------------------------------------------------------

_WEAK = [r for r in RECORDS if r.weak]


def _python_scalar(data: st.DataObject, kind: str, domain) -> Any:
    seed = data.draw(st.integers(0, 2**32 - 1))
    if kind == "f":
        return float(sample(seed, (), F64, domain))
    if kind == "i":
        return int(sample(seed, (), np.dtype(np.int64), domain))
    if kind == "c":
        return complex(sample(seed, (), np.dtype(np.complex128), domain))
    return bool(sample(seed, (), np.dtype(bool), domain))


@pytest.mark.parametrize("label", _labels(_WEAK))
@given(data=st.data())
def test_python_scalars_are_weak(label: str, data: st.DataObject) -> None:
    rec = _BY_LABEL[label]
    narrow = [d for d in rec.dtypes if d not in (F64, np.dtype(np.int64))] or list(rec.dtypes)
    dtype = data.draw(st.sampled_from(narrow), label="array dtype")
    kinds = [dtype.kind] + (["i"] if dtype.kind in "fc" else []) + (
        ["f"] if dtype.kind in "iu" and rec.dtypes[0].kind == "f" else [])
    kind = data.draw(st.sampled_from(kinds), label="scalar kind")
    pos = data.draw(st.integers(0, len(rec.domains) - 1), label="scalar position")
    c = data.draw(rec.cases(dtype), label="case")
    args = list(c.args)
    args[pos] = _python_scalar(data, kind, rec.domains[pos])
    try:
        expected = _quiet(rec.ref, *args, **c.kwargs)
    except _ERRORS:
        with pytest.raises(_ERRORS):
            _quiet(rec.fn, *args, **c.kwargs)
        return
    out = _quiet(rec.fn, *args, **c.kwargs)
    _assert_same(out, expected, rec, dtype, f"{rec.label} with a Python scalar")
    # The staged program agrees on the dtype (the scalar is a weakly typed input).
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    if arrays:
        def staged(*xs):
            it = iter(xs)
            return rec.fn(*[next(it) if isinstance(a, np.ndarray) else a for a in args],
                          **c.kwargs)

        j = funcdiff.make_jaxpr(staged)(*arrays)
        for aval, e in zip(j.out_avals, _leaves(expected)):
            assert aval.dtype == np.asarray(e).dtype, (aval, np.asarray(e).dtype)


def test_weak_scalar_examples():
    x32 = np.ones(3, np.float32)
    assert (jnp.multiply(x32, 2.0)).dtype == np.float32
    assert jnp.add(2, np.ones(2, np.int32)).dtype == np.int32
    assert jnp.divide(np.ones(2, np.int32), 2).dtype == np.float64
    assert jnp.power(x32, 2.5).dtype == np.float32
    f = lambda x: (x * 2.0 + 1) / 3 - x**2
    assert funcdiff.make_jaxpr(f)(x32).out_avals[0].dtype == np.float32
    assert funcdiff.grad(lambda x: jnp.sum(f(x)))(x32).dtype == np.float32


# A selection between Python scalars is weakly typed, as in JAX (whose `where(True, 0.0, nan)`
# and `where(x > 0, 0.0, 1.0)` have weak_type=True): it takes the float32 of the array it
# meets, eagerly as under jit, whatever the condition (a Python bool, or an array, even 0-d,
# even traced: then a WeakArray).
_WEAK_SELECTIONS = {
    "where Python condition": (lambda x: jnp.where(True, 0.0, jnp.nan) + x, np.float32),
    "where Python ints": (lambda x: jnp.where(False, 1, 2) * x, np.float32),
    "select Python condition": (lambda x: jnp.select([True], [0.0], 1.0) + x, np.float32),
    "lax.select Python condition": (lambda x: funcdiff.lax.select(True, 0.0, 1.0) + x,
                                    np.float32),
    "where 0-d traced condition": (lambda x: jnp.where(x[0] > 0, 0.0, 1) + x, np.float32),
    "where 0-d NumPy condition": (lambda x: jnp.where(np.array(True), 0.0, 1.0) + x, np.float32),
    "lax.select 0-d condition": (lambda x: funcdiff.lax.select(x[0] > 0, 0.0, 1.0) + x,
                                 np.float32),
    "where shaped condition": (lambda x: jnp.where(x > 0, 0.0, 1.0) + x, np.float32),
    "select shaped condition": (lambda x: jnp.select([x > 0], [0.0], 1.0) + x, np.float32),
}


@pytest.mark.parametrize("name", list(_WEAK_SELECTIONS))
def test_selection_of_python_scalars_has_one_dtype_eager_and_jit(name):
    f, dtype = _WEAK_SELECTIONS[name]
    x = np.array([1.0, -2.0], np.float32)
    eager = f(x)
    assert eager.dtype == dtype
    assert funcdiff.jit(f)(x).dtype == dtype
    assert funcdiff.make_jaxpr(f)(x).out_avals[0].dtype == dtype
    np.testing.assert_array_equal(funcdiff.jit(f)(x), eager)


def test_selection_of_python_scalars_is_a_python_scalar_only_by_a_python_condition():
    assert type(jnp.where(True, 0.0, jnp.nan)) is float
    assert type(jnp.where(False, 1, 2)) is int
    assert funcdiff.make_jaxpr(lambda: jnp.where(True, 0.0, 1.0))().out_avals[0].weak_type
    assert funcdiff.jit(lambda b: jnp.where(b, 0.0, 1.0) + np.float32(1))(True).dtype == np.float32
    # an array condition gives a weakly typed Array, with its methods
    assert jnp.where(np.bool_(False), 1.0, 2.0).astype(np.float32).dtype == np.float32
    picked = jnp.where(np.array([True, False]), 0.0, 1.0)
    assert isinstance(picked, funcdiff.Array) and picked.weak_type and picked.dtype == np.float64
    assert not jnp.where(np.array([True, False]), np.float64(0.0), 1.0).weak_type


# ---- derivatives ----------------------------------------------------------------------------

_DIFF = [r for r in RECORDS if r.grad_order > 0]


def _inexact(a: Any) -> bool:
    return isinstance(a, np.ndarray | np.generic) and np.asarray(a).dtype.kind in "fc"


def _closing_over_non_inexact(rec: Record, args: tuple, kwargs: dict):
    """The function of the inexact arguments only (index arrays and booleans are fixed)."""
    idx = [i for i, a in enumerate(args) if _inexact(a) and i not in rec.fixed_args]

    def f(*diff: Any) -> Any:
        full = list(args)
        for i, v in zip(idx, diff):
            full[i] = v
        return rec.fn(*full, **kwargs)

    return f, [args[i] for i in idx]


@pytest.mark.parametrize("label", _labels(_DIFF))
@given(data=st.data())
def test_derivatives(label: str, data: st.DataObject) -> None:
    rec = _BY_LABEL[label]
    dtype = data.draw(st.sampled_from(rec.grad_dtypes), label="dtype")
    c = data.draw((rec.grad_cases or rec.cases)(dtype), label="case")
    f, diff_args = _closing_over_non_inexact(rec, c.args, c.kwargs)
    assert diff_args, f"{rec.label}: no inexact argument to differentiate"
    with np.errstate(all="raise"):
        check_grads(f, diff_args, order=rec.grad_order, modes=("fwd", "rev"),
                    atol=rec.grad_tol, rtol=rec.grad_tol)


_ZERO = [r for r in RECORDS if r.zero_grad]


@pytest.mark.parametrize("label", _labels(_ZERO))
@given(data=st.data())
def test_piecewise_constant_derivatives_are_zero(label: str, data: st.DataObject) -> None:
    rec = _BY_LABEL[label]
    c = data.draw(rec.cases(F64), label="case")
    f, diff_args = _closing_over_non_inexact(rec, c.args, c.kwargs)
    rng = np.random.default_rng(0)
    tangents = [rng.standard_normal(np.shape(a)) for a in diff_args]
    out, t_out = funcdiff.jvp(f, tuple(diff_args), tuple(tangents))
    for t in tree_flatten(t_out)[0]:
        assert np.all(np.asarray(t, np.float64) == 0), t
    out, vjp_fn = funcdiff.vjp(f, *diff_args)
    cts = vjp_fn(np.ones_like(out))
    for ct in tree_flatten(cts)[0]:
        assert np.all(np.asarray(ct) == 0), ct


# ---- staging --------------------------------------------------------------------------------

_STAGED = [r for r in RECORDS if r.jaxpr != "static"]


@pytest.mark.parametrize("label", _labels(_STAGED))
@given(data=st.data())
def test_staged_program_evaluates_to_the_eager_value(label: str, data: st.DataObject) -> None:
    rec = _BY_LABEL[label]
    dtype = data.draw(st.sampled_from(rec.dtypes), label="dtype")
    c = data.draw(rec.cases(dtype), label="case")
    fn = lambda *a: rec.fn(*a, **c.kwargs)
    try:
        eager = _quiet(fn, *c.args)
    except _ERRORS:
        with pytest.raises(_ERRORS):
            funcdiff.make_jaxpr(fn)(*c.args)
        return
    if rec.jaxpr == "concrete":
        with pytest.raises(funcdiff.ConcretizationTypeError):
            funcdiff.make_jaxpr(fn)(*c.args)
        return
    j = funcdiff.make_jaxpr(fn)(*c.args)
    flat_args, _ = tree_flatten(c.args)
    staged = _quiet(core.eval_jaxpr, j.jaxpr, j.consts, *flat_args)
    eager_leaves = _leaves(eager)
    assert len(staged) == len(eager_leaves) == len(j.out_avals)
    for i, (s, e, aval) in enumerate(zip(staged, eager_leaves, j.out_avals)):
        e_a, s_a = np.asarray(e), np.asarray(s)
        assert aval.shape == e_a.shape, (i, aval, e_a.shape)
        assert aval.dtype == e_a.dtype, (i, aval, e_a.dtype)
        assert s_a.shape == e_a.shape and s_a.dtype == e_a.dtype, (i, s_a, e_a)
        if rec.values:
            np.testing.assert_array_equal(s_a, e_a, err_msg=f"staged output {i}")


@pytest.mark.parametrize("label", _labels(_STAGED))
@given(data=st.data())
def test_jit_matches_eager(label: str, data: st.DataObject) -> None:
    """`jit` of the function (traced, optimised, lowered to NumPy code) gives the eager
    results: the same structure, shapes, dtypes and values."""
    rec = _BY_LABEL[label]
    dtype = data.draw(st.sampled_from(rec.dtypes), label="dtype")
    c = data.draw(rec.cases(dtype), label="case")
    fn = lambda *a: rec.fn(*a, **c.kwargs)  # noqa: E731
    try:
        eager = _quiet(fn, *c.args)
    except _ERRORS:
        return  # rejected arguments: the value test checks the error
    if rec.jaxpr == "concrete":
        return  # needs concrete values: staging must refuse (the staging test checks it)
    jitted = _quiet(funcdiff.jit(fn), *c.args)
    eager_leaves, jit_leaves = _leaves(eager), _leaves(jitted)
    assert len(jit_leaves) == len(eager_leaves)
    rtol, atol = rec.tolerance(dtype)
    for i, (j, e) in enumerate(zip(jit_leaves, eager_leaves)):
        j_a, e_a = np.asarray(j), np.asarray(e)
        assert j_a.shape == e_a.shape and j_a.dtype == e_a.dtype, (i, j_a, e_a)
        if rec.values:
            np.testing.assert_allclose(j_a, e_a, rtol=rtol, atol=atol, equal_nan=True,
                                       err_msg=f"jit output {i}")


# ---- directed checks of fixed behaviours ----------------------------------------------------


@pytest.mark.parametrize("name", ["sum", "prod", "mean", "var", "std", "max", "min", "ptp",
                                  "all", "any", "count_nonzero", "argmax", "argmin", "cumsum"])
@pytest.mark.parametrize("axis", [0, -1, (0,), (), None])
def test_reductions_of_0d_arrays_take_numpys_axes(name, axis):
    # NumPy's ufunc reductions (and argmax, cumsum) accept axis 0 or -1 of a 0-d array;
    # mean/var/std do not, and no reduction accepts a tuple naming an axis.
    x = np.array(1.5)
    try:
        expected = getattr(np, name)(x, axis=axis)
    except _ERRORS:
        with pytest.raises(_ERRORS):
            getattr(jnp, name)(x, axis=axis)
        return
    out = getattr(jnp, name)(x, axis=axis)
    assert np.shape(out) == np.shape(expected)
    assert np.asarray(out).dtype == np.asarray(expected).dtype
    np.testing.assert_array_equal(out, expected)


def test_sinc_derivatives_at_zero():
    assert float(funcdiff.grad(jnp.sinc)(0.0)) == 0.0
    np.testing.assert_allclose(funcdiff.grad(funcdiff.grad(jnp.sinc))(0.0), -np.pi**2 / 3,
                               rtol=1e-12)
    check_grads(jnp.sinc, (np.array([0.0, 1e-3, -2e-3, 0.5]),), order=3)
    x = np.array([0.0, 1e-9, 1e-3, 3e-3, 0.25, -1.5])
    np.testing.assert_allclose(jnp.sinc(x), np.sinc(x), rtol=1e-15, atol=0)


def test_abs_derivative_at_zero_is_one_as_in_jax():
    # JAX takes the right-hand derivative at 0 (and at -0.0): a JAX user's L1 terms and
    # gradients at exact zeros come out the same.
    x = np.array([0.0, -0.0, -1.5, 2.0])
    want = [1.0, 1.0, -1.0, 1.0]
    for grad in (funcdiff.grad, lambda f: funcdiff.jit(funcdiff.grad(f))):
        np.testing.assert_array_equal(grad(lambda v: jnp.sum(jnp.abs(v)))(x), want)
    np.testing.assert_array_equal(funcdiff.vmap(funcdiff.grad(jnp.abs))(x), want)
    np.testing.assert_array_equal(funcdiff.jvp(jnp.abs, (x,), (np.ones(4),))[1], want)
    assert funcdiff.grad(jnp.abs)(np.float32(0.0)).dtype == np.float32


def test_logaddexp_is_smooth_at_ties():
    x = np.array([-1.0, 0.0, 2.5])
    check_grads(jnp.logaddexp, (x, x.copy()), order=3)
    check_grads(jnp.logaddexp2, (x, x.copy()), order=2)
    assert float(funcdiff.grad(funcdiff.grad(nn.softplus))(0.0)) == 0.25
    big = np.array([-np.inf, np.inf, np.inf, 1000.0, -1e20, 0.0])
    other = np.array([3.0, 3.0, np.inf, -1000.0, 1.0, -40.0])
    np.testing.assert_array_equal(jnp.logaddexp(big, other), np.logaddexp(big, other))
    g = funcdiff.grad(lambda a: jnp.sum(jnp.logaddexp(a, -a)))(np.array([800.0, -800.0]))
    np.testing.assert_array_equal(g, [1.0, -1.0])


def test_float_floor_divide_is_consistent_with_remainder():
    x = np.array([1.0, -1.0, 0.7, 7.0, -7.5, 0.0, 3.0])
    y = np.array([0.1, 0.1, 0.1, -2.0, 2.5, 3.0, 0.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_array_equal(jnp.floor_divide(x, y), np.floor_divide(x, y))
        assert float(jnp.floor_divide(1.0, 0.1)) == 9.0
    q, r = jnp.floor_divide(x[:-1], y[:-1]), jnp.remainder(x[:-1], y[:-1])
    np.testing.assert_allclose(q * y[:-1] + r, x[:-1], atol=1e-12)


def test_integer_power_with_array_exponents():
    x = np.array([-3, 2, 5, 0, 1, 7], np.int32)
    y = np.array([2, 3, 0, 4, 7, 11], np.int32)
    np.testing.assert_array_equal(jnp.power(x, y), np.power(x, y))
    assert jnp.power(x, y).dtype == np.int32
    out = jnp.power(2, np.arange(5, dtype=np.int16))
    assert out.dtype == np.int16 and out.tolist() == [1, 2, 4, 8, 16]
    with pytest.raises(ValueError):
        jnp.power(x, -y)
    j = funcdiff.make_jaxpr(jnp.power)(x, y)
    np.testing.assert_array_equal(core.eval_jaxpr(j.jaxpr, j.consts, x, y)[0], np.power(x, y))
    with pytest.raises(TypeError):
        jnp.power(np.array([True]), np.array([True]))


def test_integer_rounding_follows_numpy():
    i = np.array([-3, 2, 5, 15, 25, -15, 28], np.int32)
    for d in (-2, -1, 0, 1):
        np.testing.assert_array_equal(jnp.round(i, d), np.round(i, d))
        assert jnp.round(i, d).dtype == np.int32
    assert jnp.rint(i).dtype == np.float64
    np.testing.assert_array_equal(jnp.reciprocal(np.array([0, 1, -1, 2, -5], np.int8)),
                                  [0, 1, -1, 0, 0])
    assert jnp.float_power(np.float32(2.0), 3).dtype == np.float64


def test_xlogy_and_entr_at_zero():
    assert float(special.xlogy(0.0, 0.0)) == 0.0
    gx, gy = funcdiff.grad(special.xlogy, argnums=(0, 1))(0.0, 2.0)
    np.testing.assert_allclose([gx, gy], [np.log(2.0), 0.0])
    with np.errstate(divide="ignore", invalid="ignore"):  # log(0) and 0 / 0
        gx, gy = funcdiff.grad(special.xlogy, argnums=(0, 1))(0.0, 0.0)
    assert gx == -np.inf and np.isnan(gy)  # JAX's derivatives: log(y) and x / y
    np.testing.assert_array_equal(special.entr(np.array([0.0, -1.0])), [0.0, -np.inf])


def test_linspace_single_sample_and_complex_isinf():
    out, step = jnp.linspace(np.array(1.5), np.array(4.0), 1, retstep=True)
    np.testing.assert_array_equal(out, [1.5])
    assert np.isnan(step)
    g = funcdiff.grad(lambda a: jnp.sum(jnp.linspace(a, 4.0, 1)))(1.5)
    assert float(g) == 1.0
    z = np.array([np.nan - 1j * np.inf, np.inf + 0j, np.nan + 0j, 1 + 1j])
    np.testing.assert_array_equal(jnp.isinf(z), np.isinf(z))
    np.testing.assert_array_equal(jnp.isnan(z), np.isnan(z))
    np.testing.assert_array_equal(jnp.isfinite(z), np.isfinite(z))


def test_nan_reductions_differentiate_around_nans():
    x = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, -2.0]])
    finite = ~np.isnan(x)
    g = funcdiff.grad(lambda a: jnp.nansum(a) ** 2)(x)
    np.testing.assert_array_equal(g, np.where(finite, 2 * np.nansum(x), 0.0))
    g = funcdiff.grad(lambda a: jnp.sum(jnp.nanmean(a, axis=1)))(x)
    np.testing.assert_allclose(g, np.where(finite, 1.0 / finite.sum(1, keepdims=True), 0.0))
    g = funcdiff.grad(lambda a: jnp.sum(jnp.nanmax(a, axis=1)))(x)
    np.testing.assert_array_equal(g, [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    g = funcdiff.grad(lambda a: jnp.sum(jnp.nanmin(a, axis=0)))(x)
    np.testing.assert_array_equal(g, [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    g = funcdiff.grad(lambda a: jnp.nanprod(a))(x)
    np.testing.assert_allclose(g, np.where(finite, np.nanprod(x) / np.where(finite, x, 1), 0.0))
    out = jnp.nanmax(np.array([[np.nan, np.nan], [1.0, np.nan]]), axis=1)
    np.testing.assert_array_equal(out, [np.nan, 1.0])


def test_cumprod_with_zeros_has_exact_derivatives():
    x = np.array([2.0, 0.0, 3.0, 0.0, 5.0])
    jac = funcdiff.jacfwd(jnp.cumprod)(x)
    expected = np.zeros((5, 5))
    for i in range(5):
        for j in range(i + 1):
            expected[i, j] = np.prod(np.delete(x[: i + 1], j))
    np.testing.assert_array_equal(jac, expected)


def _median_grad_expected(x: np.ndarray) -> np.ndarray:
    """NumPy's analytical derivative of the median of distinct values: one at the middle
    element, or one half at each of the two middle ones."""
    order = np.argsort(x)
    n = x.size
    g = np.zeros_like(x)
    for i in {(n - 1) // 2, n // 2}:
        g[order[i]] += 1.0 if n % 2 else 0.5
    return g


@pytest.mark.parametrize("n", [1, 2, 5, 6])
def test_median_gradient_is_numpys_analytical_one(n):
    x = np.random.default_rng(n).permutation(n) + 0.25
    g = funcdiff.grad(jnp.median)(x)
    np.testing.assert_array_equal(g, _median_grad_expected(x))
    np.testing.assert_array_equal(funcdiff.jit(funcdiff.grad(jnp.median))(x), g)


def test_order_statistics_jit_grad_equals_grad():
    x = np.random.default_rng(0).permutation(12).reshape(3, 4) / 3.0
    for f in (lambda a: jnp.sum(jnp.sort(a, axis=0) * np.arange(12.0).reshape(3, 4)),
              lambda a: jnp.sum(jnp.median(a, axis=1)),
              lambda a: jnp.sum(jnp.quantile(a, np.array([0.1, 0.7]), axis=(0, 1))),
              lambda a: jnp.percentile(a, 42.0)):
        g = funcdiff.grad(f)(x)
        np.testing.assert_allclose(funcdiff.jit(funcdiff.grad(f))(x), g, rtol=1e-14)


def test_quantile_derivative_in_q_is_the_slope_between_neighbours():
    x = np.array([1.0, 4.0, 2.0, 8.0])
    # q * (n - 1) = 1.5 lies between the sorted values 2 and 4.
    assert funcdiff.grad(jnp.quantile, argnums=1)(x, 0.5) == (4.0 - 2.0) * 3
    assert funcdiff.grad(jnp.percentile, argnums=1)(x, 50.0) == (4.0 - 2.0) * 3 / 100


def test_order_statistics_keep_float32():
    x = np.array([3.0, 1.0, 2.0, 5.0], np.float32)
    for out in (jnp.sort(x), jnp.median(x), jnp.quantile(x, 0.3),
                jnp.percentile(x, np.array([10.0, 90.0], np.float32)),
                funcdiff.grad(jnp.median)(x), funcdiff.grad(lambda a: jnp.quantile(a, 0.3))(x)):
        assert np.asarray(out).dtype == np.float32
    assert jnp.argsort(x).dtype == np.int64
    assert jnp.median(np.arange(4)).dtype == np.float64


def test_quantile_errors_name_the_problem():
    x = np.arange(5.0)
    with pytest.raises(ValueError, match="method='closest'.*inverted_cdf"):
        jnp.quantile(x, 0.5, method="closest")
    with pytest.raises(ValueError, match="method='low'"):
        jnp.percentile(x, 50.0, method="low")
    with pytest.raises(ValueError, match="range"):
        jnp.quantile(x, 1.5)
    with pytest.raises(ValueError, match="range"):
        jnp.percentile(x, -1.0)
    with pytest.raises(ValueError, match="1-d"):
        jnp.quantile(x, np.full((2, 2), 0.5))


def test_sort_derivatives_at_ties_follow_the_stable_order():
    # With ties the derivative is one-sided; the stable permutation picks one side.
    x = np.array([1.0, 1.0, 0.0])
    jac = funcdiff.jacfwd(jnp.sort)(x)
    np.testing.assert_array_equal(jac, np.eye(3)[[2, 0, 1]])


# ---- vmap -----------------------------------------------------------------------------------

_BATCHED = [r for r in RECORDS if r.jaxpr == "eval"]


def _stack_variants(x: Any, axis: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """`size` variants of `x` stacked along `axis`: `x`, then permutations of its entries,
    which stay in the record's domain (valid indices stay valid)."""
    x = np.asarray(x)
    variants = [x] + [rng.permutation(x.ravel()).reshape(x.shape) for _ in range(size - 1)]
    return np.stack(variants, axis=axis)


@pytest.mark.parametrize("label", _labels(_BATCHED))
@given(data=st.data())
def test_vmap_matches_a_loop(label: str, data: st.DataObject) -> None:
    """vmap over drawn axes (negative ones and None included) equals a loop over the batch."""
    rec = _BY_LABEL[label]
    c = data.draw(rec.cases(F64 if F64 in rec.dtypes else rec.dtypes[0]), label="case")
    arrays = [i for i, a in enumerate(c.args) if isinstance(a, np.ndarray)]
    if not arrays:
        return  # nothing array-valued to map over (static arguments only)
    mapped = {i for i in arrays if data.draw(st.booleans(), label=f"map {i}")}
    mapped.add(data.draw(st.sampled_from(arrays), label="mapped"))
    size = data.draw(st.integers(1, 3), label="size")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    in_axes, args = [], []
    for i, a in enumerate(c.args):
        if i in mapped:
            nd = np.ndim(a) + 1
            axis = data.draw(st.integers(-nd, nd - 1), label=f"axis {i}")
            in_axes.append(axis)
            args.append(_stack_variants(a, axis % nd, size, rng))
        else:
            in_axes.append(None)
            args.append(a)

    def f(*xs: Any) -> Any:
        return rec.fn(*xs, **c.kwargs)

    try:
        _quiet(f, *c.args)
    except _ERRORS:
        return  # the unbatched case is an error; covered by the value tests
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with np.errstate(all="ignore"):
            funcdiff.test_util.check_vmap(f, args, in_axes=tuple(in_axes))
