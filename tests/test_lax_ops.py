"""Generic, table-driven tests of every primitive, at the `funcdiff.lax` level.

`lax_table.LAX_OPS` holds one record per primitive. For each, hypothesis draws shapes (0-d,
broadcasting, size 0) and values in the record's domain, and the tests check:

* the table is complete, and agrees with the rule tables of `ad`;
* derivatives, forward and reverse, to second order, against finite differences
  (`funcdiff.test_util.check_grads`), in float64 and, for complex-capable ops, complex128;
  nondifferentiable primitives have a zero tangent and a zero cotangent;
* eager results match NumPy in value, shape and dtype (float32 stays float32, Python scalars
  are weak, mixed dtypes promote as in NumPy), and the shape rule agrees with the
  implementation;
* `vmap` of the op, over drawn axes of some of its operands, equals a loop over the batch;
* the jaxprs of the op and of its JVP, VJP and gradient type-check and evaluate to the eager
  results.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lax_table import BOOL, C64, C128, F32, F64, I32, LAX_OPS, U8, OpRecord, draw_case
from registry import registered_primitives
from strategies import broadcastable_shapes

import funcdiff
from funcdiff import test_util
from funcdiff._src import core, dtypes
from funcdiff._src.interpreters import ad, batching
from funcdiff._src.jit import lowering
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import reductions as red
from funcdiff.tree_util import tree_leaves

COMPLEX = [r for r in LAX_OPS if r.complex]


def _ids(records: Sequence[OpRecord]) -> list[str]:
    return [r.name for r in records]


# ---- completeness ---------------------------------------------------------------------------


# Higher-order primitives (a jaxpr or a function in their params) have no record: they are
# tested with the transformation or feature they implement.
HIGHER_ORDER = {
    "jit": "tests/test_jit.py",
    "cond": "tests/test_control_flow.py",
    "scan": "tests/test_control_flow.py",
    "while": "tests/test_control_flow.py",
    "custom_jvp_call": "tests/test_custom_derivatives.py",
    "custom_vjp_call": "tests/test_custom_derivatives.py",
    "odeint_tangent": "tests/test_ode.py",
    "custom_lin": "tests/test_custom_derivatives.py",
    "checkpoint": "tests/test_custom_derivatives.py",
    "debug_print": "tests/test_custom_derivatives.py",
    "debug_callback": "tests/test_api_extras.py",
    "pure_callback": "tests/test_api_extras.py",
    "io_callback": "tests/test_api_extras.py",
}
# Primitives that are only ever transposed, never differentiated: custom_lin is the linear
# half of a custom_vjp function, which reverse mode runs as the user's backward function.
NO_JVP_BY_DESIGN = {"custom_lin"}


def test_table_covers_every_primitive():
    primitives = registered_primitives()
    names = {p.name for p in primitives}
    assert not set(HIGHER_ORDER) - names, "HIGHER_ORDER lists primitives that do not exist"
    registered = {p for p in primitives if p.name not in HIGHER_ORDER}
    assert ad.add_any_p in registered and len(registered) > 80
    tabled = [r.prim for r in LAX_OPS]
    assert len(set(tabled)) == len(tabled), "a primitive has two records"
    missing = sorted(p.name for p in registered - set(tabled))
    assert not missing, f"primitives without a record in tests/lax_table.py: {missing}"
    unknown = sorted(p.name for p in set(tabled) - registered)
    assert not unknown, f"records of primitives that are not registered: {unknown}"
    for rec in LAX_OPS:
        assert rec.name == rec.prim.name


def test_every_primitive_is_differentiable_or_marked_not():
    for p in registered_primitives():
        if p.name in NO_JVP_BY_DESIGN:
            assert p not in ad.jvp_rules and p in ad.transpose_rules
            continue
        has_jvp = p in ad.jvp_rules
        nondiff = p in ad.nondifferentiable
        assert has_jvp != nondiff, (
            f"{p.name}: needs exactly one of a JVP rule (jvp={has_jvp}) or a place in "
            f"ad.nondifferentiable (nondifferentiable={nondiff})"
        )


@pytest.mark.parametrize("rec", LAX_OPS, ids=_ids(LAX_OPS))
def test_record_agrees_with_rule_tables(rec):
    assert rec.differentiable == (rec.prim not in ad.nondifferentiable)
    assert rec.linear == (rec.prim in ad.transpose_rules), (
        f"{rec.name}: marked linear={rec.linear} in the table, but a transpose rule is "
        f"{'' if rec.prim in ad.transpose_rules else 'not '}registered"
    )
    assert rec.prim in batching.batch_rules, f"{rec.name} has no batching (vmap) rule"
    if rec.differentiable:
        assert rec.order >= 1
        assert rec.order >= 2 or rec.order_note, f"{rec.name}: say why order < 2"
    assert rec.shapes_kind == "custom" or len(rec.domain) == rec.n_args
    assert not rec.complex_domain or len(rec.complex_domain) == rec.n_args


# ---- helpers --------------------------------------------------------------------------------


def _fn(rec: OpRecord, static: dict[str, Any]) -> Callable[..., Any]:
    return functools.partial(rec.fn, **static) if static else rec.fn


def _is_inexact(x: Any) -> bool:
    return dtypes.is_inexact(np.asarray(x).dtype)


def _inexact_positions(args: Sequence[Any]) -> list[int]:
    return [i for i, a in enumerate(args) if _is_inexact(a)]


def _only(f: Callable[..., Any], args: Sequence[Any], positions: Sequence[int]):
    """`f` as a function of the operands at `positions`, the others fixed at `args`."""

    def restricted(*chosen: Any) -> Any:
        full = list(args)
        for i, x in zip(positions, chosen, strict=True):
            full[i] = x
        return f(*full)

    return restricted


def _random_like(x: Any, rng: np.random.Generator) -> np.ndarray:
    """A random tangent or cotangent for `x` (float0 zeros for integer and boolean values)."""
    x = np.asarray(x)
    if dtypes.is_complex(x.dtype):
        return (rng.standard_normal(x.shape) + 1j * rng.standard_normal(x.shape)).astype(x.dtype)
    if dtypes.is_float(x.dtype):
        return rng.standard_normal(x.shape).astype(x.dtype)
    return np.zeros(x.shape, dtypes.float0)


def _grad_tol(f: Callable[..., Any], args: Sequence[Any], rec: OpRecord) -> float | None:
    """The record's tolerance; else, when an output is less precise than the float64 or
    complex128 inputs (a cast to float32), the float32 tolerance, since the finite
    differences are then only that precise."""
    if rec.tol is not None:
        return rec.tol
    for leaf in tree_leaves(f(*args)):
        if np.asarray(leaf).dtype in (F32, C64):
            return 2e-2
    return None


def _assert_identical(got: Any, expected: Any, what: str) -> None:
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    assert got.dtype == expected.dtype, f"{what}: dtype {got.dtype} != {expected.dtype}"
    if got.dtype != dtypes.float0:
        np.testing.assert_array_equal(got, expected, err_msg=what)


def _assert_matches(got: Any, expected: Any, dtype: np.dtype, what: str) -> None:
    """Same shape and dtype, and values equal (exactly for integers and booleans)."""
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    assert got.dtype == expected.dtype, f"{what}: dtype {got.dtype} != {expected.dtype}"
    if dtypes.is_inexact(got.dtype):
        tol = 1e-5 if np.dtype(dtype) in (F32, C64) or got.dtype in (F32, C64) else 1e-12
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol, equal_nan=True,
                                   err_msg=what)
    else:
        np.testing.assert_array_equal(got, expected, err_msg=what)


def _check_zero_derivatives(f: Callable[..., Any], args: Sequence[Any]) -> None:
    """A nondifferentiable primitive: its JVP has a zero tangent (float0 for integer and
    boolean outputs) and its VJP gives zero cotangents."""
    rng = np.random.default_rng(0)
    out = f(*args)
    tangents = tuple(_random_like(a, rng) for a in args)
    primal_out, tangent_out = funcdiff.jvp(f, tuple(args), tangents)
    _assert_identical(primal_out, out, "jvp primal output")
    expected_dtype = ad.tangent_aval(core.get_aval(out)).dtype
    tangent_out = np.asarray(tangent_out)
    assert tangent_out.shape == np.shape(out)
    assert tangent_out.dtype == expected_dtype
    if expected_dtype != dtypes.float0:
        assert not np.any(tangent_out), "the tangent of a nondifferentiable op is not zero"
    positions = _inexact_positions(args)
    if positions:
        g = _only(f, args, positions)
        _, vjp_fn = funcdiff.vjp(g, *[args[i] for i in positions])
        cotangents = vjp_fn(_random_like(out, rng) if _is_inexact(out) else
                            np.zeros(np.shape(out), dtypes.float0))
        for ct, i in zip(cotangents, positions):
            assert np.shape(ct) == np.shape(args[i])
            assert not np.any(ct), "the cotangent of a nondifferentiable op is not zero"


def _check_derivatives(rec: OpRecord, args: Sequence[Any], static: dict[str, Any]) -> None:
    f = _fn(rec, static)
    if not rec.differentiable or not _is_inexact(f(*args)):
        # No derivative at all, or an integer/boolean result (a cast) whose tangent is float0.
        _check_zero_derivatives(f, args)
        return
    positions = _inexact_positions(args)
    assert positions, f"{rec.name}: nothing to differentiate in {args}"
    g = _only(f, args, positions)
    chosen = [args[i] for i in positions]
    tol = _grad_tol(g, chosen, rec)
    test_util.check_grads(g, chosen, order=rec.order, modes=("fwd", "rev"), atol=tol, rtol=tol)
    if len(positions) > 1:
        # One operand at a time: the others are then constants of the linearized program,
        # which the transpose rules must handle too.
        for i in positions:
            test_util.check_grads(_only(f, args, [i]), [args[i]], order=1, modes=("fwd", "rev"),
                                  atol=tol, rtol=tol)


# ---- derivatives ----------------------------------------------------------------------------


@pytest.mark.parametrize("rec", LAX_OPS, ids=_ids(LAX_OPS))
@given(data=st.data())
def test_derivatives(rec, data):
    dtype = F64 if F64 in rec.dtypes else rec.dtypes[0]
    case = draw_case(data.draw, rec, dtype)
    _check_derivatives(rec, case.args, case.static)


@pytest.mark.parametrize("rec", COMPLEX, ids=_ids(COMPLEX))
@given(data=st.data())
def test_derivatives_complex(rec, data):
    case = draw_case(data.draw, rec, C128)
    assert any(np.asarray(a).dtype == C128 for a in case.args)
    _check_derivatives(rec, case.args, case.static)


# ---- values against NumPy -------------------------------------------------------------------


def _reference_dtypes(rec: OpRecord) -> list[np.dtype]:
    return list(rec.dtypes) + ([C128, C64] if rec.complex else [])


# Primitives whose result dtype is a param, not the operands'.
_CASTS = {"convert_element_type"}
_DTYPE_CASES = [(r, d) for r in LAX_OPS for d in _reference_dtypes(r)]


@pytest.mark.parametrize("rec,dtype", _DTYPE_CASES, ids=[f"{r.name}-{d}" for r, d in _DTYPE_CASES])
@given(data=st.data())
def test_matches_numpy(rec, dtype, data):
    case = draw_case(data.draw, rec, dtype)
    f = _fn(rec, case.static)
    out = f(*case.args)
    expected = rec.reference(*case.args, **case.static)
    _assert_matches(out, expected, dtype, f"{rec.name} vs NumPy")
    if dtype in (F32, C64) and rec.name not in _CASTS:  # single precision stays single
        assert np.asarray(out).dtype not in (F64, C128)
    # The shape/dtype rule agrees with what the implementation returns.
    (aval,) = funcdiff.make_jaxpr(f)(*case.args).out_avals
    assert aval.shape == np.shape(out)
    assert aval.dtype == np.asarray(out).dtype


def _weak_scalar_dtype(rec: OpRecord) -> np.dtype | None:
    for d in (F32, I32, U8, BOOL):
        if d in rec.dtypes:
            return d
    return None


_WEAK_CASES = [(r, pos) for r in LAX_OPS
               if r.elementwise and r.n_args == 2 and _weak_scalar_dtype(r) is not None
               for pos in (0, 1)]


@pytest.mark.parametrize("rec,pos", _WEAK_CASES, ids=[f"{r.name}-{p}" for r, p in _WEAK_CASES])
@given(data=st.data())
def test_weak_python_scalar_does_not_promote(rec, pos, data):
    dtype = _weak_scalar_dtype(rec)
    case = draw_case(data.draw, rec, dtype)
    operand = np.asarray(case.args[pos])
    scalar = operand.ravel()[0].item() if operand.size else np.ones((), operand.dtype).item()
    args = list(case.args)
    args[pos] = scalar
    f = _fn(rec, case.static)
    out = f(*args)
    expected = rec.reference(*args, **case.static)  # NumPy 2 treats Python scalars as weak
    _assert_matches(out, expected, dtype, f"{rec.name} with a Python scalar")
    # Not wider than the array operand (a complex result of real operands has two parts).
    other, got = np.asarray(case.args[1 - pos]).dtype, np.asarray(out).dtype
    assert got.itemsize <= other.itemsize * (2 if got.kind == "c" and other.kind != "c" else 1)

    def with_scalar(x):
        return f(x, scalar) if pos == 1 else f(scalar, x)

    closed = funcdiff.make_jaxpr(with_scalar)(case.args[1 - pos])
    core.typecheck_jaxpr(closed.jaxpr)
    (aval,) = closed.out_avals
    assert aval.dtype == np.asarray(out).dtype and not aval.weak_type


_MIXED = [r for r in LAX_OPS if r.shapes_kind == "broadcast" and r.elementwise]


@pytest.mark.parametrize("rec", _MIXED, ids=_ids(_MIXED))
@given(data=st.data())
def test_mixed_dtypes_promote_like_numpy(rec, data):
    choices = _reference_dtypes(rec)
    dtype_pair = [data.draw(st.sampled_from(choices)) for _ in range(rec.n_args)]
    in_shapes = data.draw(broadcastable_shapes(rec.n_args, allow_empty=True))
    seed = data.draw(st.integers(0, 2**32 - 1))
    args = [dom(s, d, seed=seed + i)
            for i, (dom, s, d) in enumerate(zip(rec.domain, in_shapes, dtype_pair))]
    out = rec.fn(*args)
    _assert_matches(out, rec.reference(*args), min(dtype_pair, key=lambda d: d.itemsize),
                    f"{rec.name} of {dtype_pair}")
    (aval,) = funcdiff.make_jaxpr(rec.fn)(*args).out_avals
    assert aval.dtype == np.asarray(out).dtype


# ---- vmap -----------------------------------------------------------------------------------


def _stack_variants(x: Any, axis: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """`size` variants of `x` stacked along `axis`: `x`, then permutations of its entries,
    which stay in the record's domain (valid indices stay valid)."""
    x = np.asarray(x)
    variants = [x] + [rng.permutation(x.ravel()).reshape(x.shape) for _ in range(size - 1)]
    return np.stack(variants, axis=axis)


@pytest.mark.parametrize("rec", LAX_OPS, ids=_ids(LAX_OPS))
@given(data=st.data())
def test_vmap_matches_a_loop(rec, data):
    dtype = F64 if F64 in rec.dtypes else rec.dtypes[0]
    if rec.complex and data.draw(st.booleans()):
        dtype = C128
    case = draw_case(data.draw, rec, dtype)
    f = _fn(rec, case.static)
    n = len(case.args)
    mapped = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    mapped[data.draw(st.integers(0, n - 1))] = True
    in_axes = tuple(data.draw(st.integers(0, np.ndim(a))) if m else None
                    for a, m in zip(case.args, mapped))
    out_ndim = np.ndim(f(*case.args)) + 1
    out_axes = data.draw(st.integers(-out_ndim, out_ndim - 1))
    size = data.draw(st.integers(1, 3))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    args = [a if ax is None else _stack_variants(a, ax, size, rng)
            for a, ax in zip(case.args, in_axes)]
    test_util.check_vmap(f, args, in_axes=in_axes, out_axes=out_axes)


# ---- jaxprs ---------------------------------------------------------------------------------


def _check_jaxpr(f: Callable[..., Any], args: Sequence[Any], expected: Any, what: str):
    closed = funcdiff.make_jaxpr(f)(*args)
    core.typecheck_jaxpr(closed.jaxpr)
    outs = core.eval_jaxpr(closed.jaxpr, closed.consts, *tree_leaves(list(args)))
    expected_leaves = tree_leaves(expected)
    assert len(outs) == len(expected_leaves), what
    for got, exp in zip(outs, expected_leaves):
        got, exp = np.asarray(got), np.asarray(exp)
        assert got.shape == exp.shape and got.dtype == exp.dtype, what
        if got.dtype != dtypes.float0:
            np.testing.assert_allclose(got, exp, rtol=1e-12, atol=1e-12, err_msg=what)
    return closed


def _real_sum(y: Any, weights: np.ndarray) -> Any:
    """A real scalar from an output: ``sum(real(y * weights))``."""
    prod = ew.mul(y, weights)
    prod = ew.real(prod) if dtypes.is_complex(core.get_aval(prod).dtype) else prod
    return red.reduce_sum(prod, tuple(range(np.ndim(weights))))


@pytest.mark.parametrize("rec", LAX_OPS, ids=_ids(LAX_OPS))
@given(data=st.data())
def test_jaxprs_typecheck_and_evaluate(rec, data):
    dtype = F64 if F64 in rec.dtypes else rec.dtypes[0]
    if rec.complex and data.draw(st.booleans()):
        dtype = C128
    case = draw_case(data.draw, rec, dtype)
    f = _fn(rec, case.static)
    out = f(*case.args)
    closed = _check_jaxpr(f, case.args, out, f"jaxpr of {rec.name}")
    if rec.context is not None:  # fn's context removes the primitive from its program
        closed = _staged_in_context(rec, case.args, case.static)
        core.typecheck_jaxpr(closed.jaxpr)
    assert any(eqn.primitive is rec.prim for eqn in closed.eqns), (
        f"the drawn case does not exercise {rec.name}:\n{closed}")
    positions = _inexact_positions(case.args)
    if not positions:
        return
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    g = _only(f, case.args, positions)
    primals = [case.args[i] for i in positions]
    tangents = [_random_like(p, rng) for p in primals]
    expected = funcdiff.jvp(g, primals, tangents)
    _check_jaxpr(lambda p, t: funcdiff.jvp(g, p, t), (primals, tangents), expected,
                 f"jaxpr of the JVP of {rec.name}")
    if not (rec.differentiable and _is_inexact(out)):
        return
    ct = _random_like(out, rng)
    expected = funcdiff.vjp(g, *primals)[1](ct)
    _check_jaxpr(lambda p, c: funcdiff.vjp(g, *p)[1](c), (primals, ct), expected,
                 f"jaxpr of the VJP of {rec.name}")
    weights = np.asarray(_random_like(out, rng))
    loss = lambda *p: _real_sum(g(*p), weights)
    argnums = tuple(range(len(primals)))
    expected = funcdiff.grad(loss, argnums)(*primals)
    _check_jaxpr(funcdiff.grad(loss, argnums), primals, expected,
                 f"jaxpr of the gradient of {rec.name}")


# ---- inside a context -----------------------------------------------------------------------

IN_CONTEXT = [r for r in LAX_OPS if r.context is not None]


def _staged_in_context(rec: OpRecord, args: Sequence[Any], static: dict[str, Any]):
    """The program of `rec.per_element`, staged inside its context (where the primitive
    stays: a collective inside the vmap that binds its axis)."""
    inner = functools.partial(rec.per_element, **static)
    staged = []

    def capture(*rows: Any) -> Any:
        staged.append(funcdiff.make_jaxpr(inner)(*rows))
        return inner(*rows)

    rec.context(capture, len(args), **static)(*args)
    return staged[0]


def _assert_close_trees(got: Any, expected: Any, what: str) -> None:
    got, expected = tree_leaves(got), tree_leaves(expected)
    assert len(got) == len(expected), what
    for y, e in zip(got, expected):
        y, e = np.asarray(y), np.asarray(e)
        if y.ndim == e.ndim + 1:
            # an operand the context hands whole to every element (one not mapped by its
            # vmap) gets the sum of the elements' cotangents
            y = y.sum(axis=0, dtype=y.dtype)
        assert y.shape == e.shape and y.dtype == e.dtype, f"{what}: {y.shape} {y.dtype} != " \
            f"{e.shape} {e.dtype}"
        if y.dtype != dtypes.float0:
            np.testing.assert_allclose(y, e, rtol=1e-10, atol=1e-10, err_msg=what)


@pytest.mark.parametrize("rec", IN_CONTEXT, ids=_ids(IN_CONTEXT))
@given(data=st.data())
def test_transformations_inside_the_context_match_outside(rec, data):
    """jit, JVPs (to second order) and VJPs of the per-element function, taken inside the
    context (where the primitive's own rules run: a collective's JVP and transpose rules run
    only under a transformation inside the vmap binding its axis), agree with those of `fn`
    taken from outside, which the other tests compare with finite differences."""
    dtype = F64 if F64 in rec.dtypes else rec.dtypes[0]
    if rec.complex and data.draw(st.booleans()):
        dtype = C128
    case = draw_case(data.draw, rec, dtype)
    f, inner = _fn(rec, case.static), functools.partial(rec.per_element, **case.static)
    args = list(case.args)
    n = len(args)
    ctx = lambda g, operands=n: rec.context(g, operands, **case.static)  # noqa: E731
    _assert_close_trees(ctx(funcdiff.jit(inner))(*args), f(*args), f"jit of {rec.name} inside")
    if not (rec.differentiable and all(_is_inexact(a) for a in args)):
        return
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    ts = [_random_like(a, rng) for a in args]
    jvp_in = lambda *xt: funcdiff.jvp(inner, xt[:n], xt[n:])  # noqa: E731
    _assert_close_trees(ctx(jvp_in, 2 * n)(*args, *ts), funcdiff.jvp(f, args, ts),
                        f"JVP of {rec.name} inside")
    second = lambda g: lambda *xt: funcdiff.jvp(  # noqa: E731
        lambda *x: funcdiff.jvp(g, x, xt[n:])[1], xt[:n], xt[n:])[1]
    _assert_close_trees(ctx(second(inner), 2 * n)(*args, *ts), second(f)(*args, *ts),
                        f"second-order JVP of {rec.name} inside")
    ct = _random_like(f(*args), rng)
    vjp_in = lambda *xc: funcdiff.vjp(inner, *xc[:n])[1](xc[n])  # noqa: E731
    _assert_close_trees(ctx(vjp_in)(*args, ct), funcdiff.vjp(f, *args)[1](ct),
                        f"VJP of {rec.name} inside")


# ---- jit ------------------------------------------------------------------------------------


def _leaves_of(out: Any) -> list[Any]:
    return [x for x in tree_leaves(out) if isinstance(x, np.ndarray | np.generic)]


def _then_negate(f: Callable[..., Any]) -> Callable[..., Any]:
    """`f` followed by an elementwise ufunc on each numeric result: the op jit is most tempted
    to compute in place, into the buffer of `f`'s result."""

    def g(*args: Any) -> Any:
        out = f(*args)
        return [ew.neg(y) if core.get_aval(y).dtype.kind in "ifc" else y
                for y in tree_leaves(out)]

    return g


def draw_jit_case(rec: OpRecord, data: Any) -> tuple[Callable[..., Any], list[Any], np.dtype]:
    """One example of `rec` for the jit tests: the function, fresh operands, and the dtype
    drawn (float64 where accepted, sometimes complex128)."""
    dtype = F64 if F64 in rec.dtypes else rec.dtypes[0]
    if rec.complex and data.draw(st.booleans()):
        dtype = C128
    case = draw_case(data.draw, rec, dtype)
    args = [np.array(a) if isinstance(a, np.ndarray) else a for a in case.args]
    return _fn(rec, case.static), args, dtype


@pytest.mark.parametrize("rec", LAX_OPS, ids=_ids(LAX_OPS))
@given(data=st.data())
def test_jit_matches_eager_and_never_aliases(rec, data):
    """jit of the op (and of the op followed by an elementwise op that may run in place) gives
    eager's results, leaves its operands unchanged, and returns funcdiff Arrays that share
    memory with no operand and no other result. A primitive declared to allocate
    (`allocates`, or a NumPy ufunc) really returns fresh arrays."""
    f, args, dtype = draw_jit_case(rec, data)
    originals = [np.copy(a) for a in args]
    arrays_in = [a for a in args if isinstance(a, np.ndarray)]
    eager = f(*args)
    if lowering.is_fresh(rec.prim):
        for y in _leaves_of(eager):
            assert not any(np.shares_memory(y, a) for a in arrays_in), (
                f"{rec.name} is declared to allocate, but its result is a view of an operand")
    for g in (f, _then_negate(f)):
        expected = g(*args)
        for _ in range(2):  # the second call runs the cached program
            got = funcdiff.jit(g)(*args)
            got_leaves, exp_leaves = _leaves_of(got), _leaves_of(expected)
            assert len(got_leaves) == len(exp_leaves)
            for y, e in zip(got_leaves, exp_leaves):
                _assert_matches(y, e, dtype, f"jit of {rec.name}")
                assert core.get_aval(y).weak_type == core.get_aval(e).weak_type, (
                    f"jit of {rec.name}: weak type {core.get_aval(y)} != eager's "
                    f"{core.get_aval(e)}")
            for k, y in enumerate(got_leaves):
                if isinstance(y, np.ndarray):
                    assert isinstance(y, funcdiff.Array), f"jit of {rec.name}: not an Array"
                    others = arrays_in + [z for j, z in enumerate(got_leaves)
                                          if j != k and isinstance(z, np.ndarray)]
                    assert not any(np.shares_memory(y, o) for o in others), (
                        f"jit of {rec.name}: a result shares memory with an operand or result")
            for a, before in zip(args, originals):
                np.testing.assert_array_equal(a, before, err_msg=f"jit of {rec.name} wrote "
                                              "into an operand")
