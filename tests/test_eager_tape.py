"""Differential tests of eager reverse mode on the tape (`interpreters/tape.py`) against the
general path (`ad.linearize_flat` + `backward_pass`, chosen with `tape.switch.enabled =
False`), `jit(grad)` and finite differences: every primitive of the table, random programs
(the generator of `test_jit_fuzz.py`), nested transformations with the tape outermost
(`grad(grad)`, `grad(jvp)`, `grad(vmap)`, `grad(jit)`) and innermost (`jvp(grad)`,
`vmap(grad)`, `jit(grad)`), pytrees, `argnums`, `has_aux`, complex and integer inputs,
custom rules, `checkpoint` and control flow; arguments must be left unchanged and results
must share no memory with them."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lax_table import C128, F64, LAX_OPS, OpRecord, draw_case
from test_jit_fuzz import NOT_REVERSE, OPS, SHAPE, _loss, _private, make, programs

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import grad, jit, jvp, lax, test_util, vjp, vmap
from funcdiff._src import dtypes
from funcdiff._src.interpreters import tape
from funcdiff._src.lax import elementwise as ew
from funcdiff.tree_util import tree_leaves, tree_map

# ---- helpers --------------------------------------------------------------------------------


@contextlib.contextmanager
def general_path() -> Iterator[None]:
    """Run `vjp`/`grad` through the general path instead of the tape."""
    tape.switch.enabled = False
    try:
        yield
    finally:
        tape.switch.enabled = True


@contextlib.contextmanager
def counting_tapes() -> Iterator[list[int]]:
    """Count the functions run on the tape (so that a test knows the tape was used)."""
    count = [0]
    original = tape.tape_linearize

    def counted(*args: Any) -> Any:
        count[0] += 1
        return original(*args)

    tape.tape_linearize = counted
    try:
        yield count
    finally:
        tape.tape_linearize = original


def both_paths(compute: Callable[[], Any], uses_tape: bool = True) -> tuple[Any, Any]:
    """``compute()`` on the tape (checked to have used it when `uses_tape`) and on the
    general path."""
    with counting_tapes() as count:
        on_tape = compute()
    assert (count[0] > 0) == uses_tape, f"the tape ran {count[0]} times"
    with general_path():
        general = compute()
    return on_tape, general


def assert_same(got: Any, expected: Any, what: str, tol: float = 1e-12) -> None:
    """Same structure, types (funcdiff Arrays), shapes, dtypes and values."""
    got_leaves, expected_leaves = tree_leaves(got), tree_leaves(expected)
    structure = funcdiff.tree_util.tree_structure
    assert structure(got) == structure(expected), what
    for g, e in zip(got_leaves, expected_leaves, strict=True):
        assert type(g) is type(e), f"{what}: {type(g).__name__} != {type(e).__name__}"
        if isinstance(g, str):
            assert g == e, what
            continue
        g, e = np.asarray(g), np.asarray(e)
        assert g.shape == e.shape and g.dtype == e.dtype, f"{what}: {g.dtype}{g.shape} != " + (
            f"{e.dtype}{e.shape}"
        )
        if g.dtype != dtypes.float0:
            np.testing.assert_allclose(g, e, rtol=tol, atol=tol, equal_nan=True, err_msg=what)


def _random_like(x: Any, rng: np.random.Generator) -> np.ndarray:
    # (An ndarray, also for 0-d: a NumPy scalar cotangent passed through to two results
    # gives two read-only Arrays on the scalar's memory, on either path.)
    x = np.asarray(x)
    if x.dtype.kind == "c":
        ct = rng.standard_normal(x.shape) + 1j * rng.standard_normal(x.shape)
    elif x.dtype.kind == "f":
        ct = rng.standard_normal(x.shape)
    else:
        return np.zeros(x.shape, dtypes.float0)
    return np.asarray(ct, dtype=x.dtype)


def _snapshot(args: Sequence[Any]) -> list[Any]:
    return [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]


def _unchanged(args: Sequence[Any], snapshots: Sequence[Any], what: str) -> None:
    for a, s in zip(args, snapshots):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, s, err_msg=f"{what}: an argument was changed")


# ---- every primitive of the table -----------------------------------------------------------


def _check_primitive(rec: OpRecord, args: Sequence[Any], static: dict[str, Any]) -> None:
    f = functools.partial(rec.fn, **static) if static else rec.fn
    positions = [i for i, a in enumerate(args) if np.asarray(a).dtype.kind in "fc"]
    if not rec.differentiable or not positions:
        return
    out = f(*args)
    rng = np.random.default_rng(0)
    weights = tree_map(lambda o: _random_like(o, rng), out)

    def loss(*chosen: Any) -> Any:
        # A real scalar of every output leaf, weighted (its gradient pulls `weights` back).
        full = list(args)
        for i, x in zip(positions, chosen):
            full[i] = x
        leaves = tree_leaves(f(*full))
        total = 0.0
        for o, w in zip(leaves, tree_leaves(weights)):
            if np.asarray(w).dtype != dtypes.float0:
                total = total + jnp.sum(jnp.real(o * w))
        return total

    chosen = [args[i] for i in positions]
    snapshots = _snapshot(args)
    argnums = tuple(range(len(chosen)))
    (out_t, cts_t), (out_g, cts_g) = both_paths(
        lambda: funcdiff.value_and_grad(loss, argnums)(*chosen)
    )
    assert_same(out_t, out_g, f"{rec.name}: primal output")
    single = any(np.asarray(o).dtype in (np.float32, np.complex64) for o in tree_leaves(out))
    tol = 1e-5 if single else 1e-12
    assert_same(cts_t, cts_g, f"{rec.name}: cotangents", tol)
    _unchanged(args, snapshots, rec.name)
    _private(cts_t, [a for a in args if isinstance(a, np.ndarray)], rec.name)


DIFFERENTIABLE = [r for r in LAX_OPS if r.differentiable]
COMPLEX = [r for r in DIFFERENTIABLE if r.complex]


@pytest.mark.parametrize("rec", DIFFERENTIABLE, ids=[r.name for r in DIFFERENTIABLE])
@given(data=st.data())
@settings(max_examples=5)
def test_every_primitive_pulls_back_as_the_general_path(rec, data):
    dtype = F64 if F64 in rec.dtypes else rec.dtypes[0]
    case = draw_case(data.draw, rec, dtype)
    _check_primitive(rec, case.args, case.static)


@pytest.mark.parametrize("rec", COMPLEX, ids=[r.name for r in COMPLEX])
@given(data=st.data())
@settings(max_examples=5)
def test_every_complex_primitive_pulls_back_as_the_general_path(rec, data):
    case = draw_case(data.draw, rec, C128)
    _check_primitive(rec, case.args, case.static)


def test_a_wrong_pullback_is_caught():
    """The comparison above can fail: a pullback rule that drops a factor is found."""
    rule, real_only = tape.pullback_rules[ew.mul_p]

    def wrong(ct, ans, primals, slots, params):
        return [c if c is None else c * 2.0 for c in rule(ct, ans, primals, slots, params)]

    tape.pullback_rules[ew.mul_p] = (wrong, real_only)
    try:
        with pytest.raises(AssertionError, match="mul: cotangents"):
            _check_primitive(
                next(r for r in LAX_OPS if r.name == "mul"), (np.ones(3), np.arange(3.0)), {}
            )
    finally:
        tape.pullback_rules[ew.mul_p] = (rule, real_only)


# ---- random programs ------------------------------------------------------------------------


@settings(max_examples=4 * settings.default.max_examples)  # ci: 40, thorough: 800
@given(prog=programs(), seed=st.integers(0, 2**32 - 1), index=st.integers(0, 2))
def test_random_programs_give_the_general_paths_gradients(prog, seed, index):
    instructions, outputs = prog
    if any(OPS[op][0] in NOT_REVERSE for op, _, _ in instructions):
        return
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-1, 1, SHAPE), rng.uniform(-1, 1, SHAPE)
    snapshots = _snapshot([x, y])
    program = make(instructions, outputs)
    what = "program " + ", ".join(OPS[op][0] for op, _, _ in instructions)
    weights = [rng.uniform(-1, 1, SHAPE) for _ in outputs]
    loss = _loss(program, weights)

    g_tape, g_general = both_paths(lambda: funcdiff.value_and_grad(loss, (0, 1))(x, y, index))
    assert_same(g_tape, g_general, what, tol=1e-10)
    assert_same(jit(grad(loss, (0, 1)))(x, y, index), g_tape[1], "jit(grad): " + what, 1e-10)
    _unchanged([x, y], snapshots, what)
    _private(g_tape[1], [x, y], what)

    # The tape outermost, the general path inside: second derivatives along a direction.
    def along(s):
        return loss(x + s * y, y, index)

    def second() -> Any:
        return grad(grad(along))(0.3)

    h_tape, h_general = both_paths(second)
    assert_same(h_tape, h_general, "grad(grad): " + what, tol=1e-9)
    hvp_tape, hvp_general = both_paths(lambda: grad(lambda s: jvp(along, (s,), (1.0,))[1])(0.3))
    assert_same(hvp_tape, hvp_general, "grad(jvp): " + what, tol=1e-9)
    # (second derivatives taken in two orders round differently where the program computes
    # in float32, which the fuzzer's table draws)
    cross = 1e-5 if "float32" in what else 1e-9
    np.testing.assert_allclose(hvp_tape, h_tape, rtol=cross, atol=cross, err_msg=what)
    # The tape inside other transformations is not used: they see the general path.
    first = grad(along)(0.3)
    for name, compute, expected_value in [
        ("jvp(grad)", lambda: jvp(grad(along), (0.3,), (1.0,))[1], h_tape),
        ("vmap(grad)", lambda: vmap(grad(along))(np.array([0.3, -0.2]))[0], first),
        ("jit(grad)", lambda: jit(grad(along))(0.3), first),
    ]:
        got, expected = both_paths(compute, uses_tape=False)
        assert_same(got, expected, f"{name}: {what}", tol=1e-9)
        np.testing.assert_allclose(
            got, expected_value, rtol=max(cross, 1e-8), atol=max(cross, 1e-8),
            err_msg=f"{name}: {what}",
        )
    _unchanged([x, y], snapshots, what)


# ---- the scalar path and the API around it --------------------------------------------------


def _w2(x):
    return jnp.sin(x) * x + 1.0


@pytest.mark.parametrize(
    "x", [0.5, np.float64(0.5), np.array(0.5), np.array(0.5, np.float32), jnp.asarray(0.5)]
)
def test_scalar_function_of_one_argument(x):
    snapshot = _snapshot([x])
    (v_t, g_t), (v_g, g_g) = both_paths(lambda: funcdiff.value_and_grad(_w2)(x))
    assert_same((v_t, g_t), (v_g, g_g), "value_and_grad")
    x64 = float(x)
    tol = 1e-6 if np.asarray(x).dtype == np.float32 else 1e-15
    np.testing.assert_allclose(g_t, np.cos(x64) * x64 + np.sin(x64), rtol=tol)
    _unchanged([x], snapshot, "w2")
    test_util.check_grads(_w2, (0.5,), order=2, modes=("rev",))


def test_results_are_new_arrays():
    x = np.linspace(0.1, 1.0, 4)
    for f in [lambda x: jnp.sum(x), lambda x: jnp.sum(x * 1.0), lambda x: x[0] + 0.0]:
        (g,) = vjp(lambda x: x, x)[1](x)
        assert not np.shares_memory(g, x)
        g = grad(f)(x)
        assert type(g) is funcdiff.Array and not np.shares_memory(g, x)
    out, vjp_fn = vjp(lambda a, b: (a, a), x, x)
    ga, gb = vjp_fn((x, x))
    assert not np.shares_memory(ga, x) and not np.shares_memory(out[0], out[1])
    assert not np.shares_memory(out[0], x)


def test_pytrees_argnums_and_aux():
    params = {"w": np.linspace(-1, 1, 6).reshape(3, 2), "b": (np.ones(2), 0.5)}
    x = np.linspace(0, 1, 6).reshape(2, 3)

    def loss(p, x, k):
        h = jnp.tanh(x @ p["w"] + p["b"][0]) * p["b"][1]
        return jnp.sum(h**2) * k, {"h": h, "k": k, "note": "aux"}

    for argnums in [0, (0,), (0, 1), (1, 0)]:
        for has_aux in [False, True]:
            f = loss if has_aux else (lambda p, x, k: loss(p, x, k)[0])

            def compute(f=f, argnums=argnums, has_aux=has_aux):
                return (
                    funcdiff.grad(f, argnums, has_aux=has_aux)(params, x, 2.0),
                    funcdiff.value_and_grad(f, argnums, has_aux=has_aux)(params, x, 2.0),
                )

            got, expected = both_paths(compute)
            assert_same(got, expected, f"argnums={argnums}, has_aux={has_aux}")


def test_holomorphic_and_complex_inputs():
    z = np.array([0.3 + 0.4j, -1.0 + 0.2j])

    def f(z):
        return jnp.sum(jnp.sin(z) * z)

    got, expected = both_paths(lambda: grad(f, holomorphic=True)(z))
    assert_same(got, expected, "holomorphic")
    np.testing.assert_allclose(got, np.cos(z) * z + np.sin(z), rtol=1e-12)
    # A real function of complex inputs, and a complex scalar.
    for g in [lambda z: jnp.sum(jnp.abs(z) ** 2), lambda z: jnp.real(z[0] * jnp.conj(z[1]))]:
        got, expected = both_paths(lambda g=g: grad(g)(z))
        assert_same(got, expected, "complex input")
    got, expected = both_paths(lambda: grad(lambda c: jnp.abs(c * c), holomorphic=False)(1j + 0.5))
    assert_same(got, expected, "complex Python scalar")


def test_integer_inputs_keep_their_errors_and_float0():
    def f(x, n):
        return jnp.sum(x * n)

    x, n = np.ones(3), np.arange(3)
    messages = []
    for path in [contextlib.nullcontext(), general_path()]:
        with path:
            with pytest.raises(TypeError) as info:
                grad(f, argnums=1)(x, n)
            messages.append(str(info.value))
            with pytest.raises(TypeError) as info:
                grad(lambda i: i * 2)(3)
            messages.append(str(info.value))
    assert messages[:2] == messages[2:] and "dtype int64" in messages[0]
    got, expected = both_paths(lambda: grad(f, argnums=(0, 1), allow_int=True)(x, n))
    assert_same(got, expected, "allow_int")
    assert got[1].dtype == dtypes.float0


def test_output_errors_are_the_general_paths():
    cases = [
        lambda x: (x, x),
        lambda x: x * np.ones(2),
        lambda x: 3,
        lambda x: "no",
        lambda x: x * 1j,
    ]
    for f in cases:
        messages = []
        for path in [contextlib.nullcontext(), general_path()]:
            with path, pytest.raises(TypeError) as info:
                grad(f)(0.5)
            messages.append(str(info.value))
        assert messages[0] == messages[1]


def test_custom_rules_checkpoint_and_control_flow():
    @funcdiff.custom_jvp
    def softplus(x):
        return jnp.log1p(jnp.exp(x))

    @softplus.defjvp
    def softplus_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return softplus(x), t * 0.5  # a deliberately different rule: it must be used

    @funcdiff.custom_vjp
    def clip_gradient(x):
        return x

    clip_gradient.defvjp(lambda x: (x, None), lambda _, g: (jnp.clip(g, -0.1, 0.1),))

    def f(x):
        y = softplus(x) + clip_gradient(x * 3.0)
        y = funcdiff.checkpoint(lambda u: jnp.sin(u) * u)(y)
        y = lax.cond(x > 0, lambda u: u * 2.0, lambda u: -u, y)
        y = lax.fori_loop(0, 3, lambda k, c: c * 0.5 + jnp.tanh(c), y)
        y = lax.scan(lambda c, r: (c * r, c), y, jnp.array([1.0, 0.5]))[0]
        return y

    for x in [0.7, -0.4, np.array(0.7)]:
        got, expected = both_paths(lambda x=x: grad(f)(x))
        assert_same(got, expected, f"x={x}")
        got, expected = both_paths(lambda x=x: grad(grad(f))(x))
        assert_same(got, expected, f"grad(grad), x={x}", tol=1e-10)
    assert grad(softplus)(0.3) == 0.5
    assert grad(clip_gradient)(2.0) == 0.1
    messages = []
    for path in [contextlib.nullcontext(), general_path()]:  # refused in reverse mode
        with path, pytest.raises(TypeError, match="while_loop") as info:
            grad(lambda x: lax.while_loop(lambda c: c < 2.0, lambda c: c * 2.0, x))(0.5)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_python_control_flow_and_leaked_tracers():
    def f(x):
        return x * 2.0 if x > 0 else jnp.sin(x)

    assert grad(f)(1.0) == 2.0 and np.isclose(grad(f)(-1.0), np.cos(-1.0))
    kept = []

    def leaks(x):
        kept.append(x * 2.0)
        return x * x

    grad(leaks)(1.0)
    with pytest.raises(funcdiff.UnexpectedTracerError):
        jnp.sin(kept[0])
    with pytest.raises(funcdiff.ConcretizationTypeError):
        grad(lambda x: float(x) * x)(1.0)


def test_vjp_keeps_the_general_path():
    """`vjp`'s backward function is the transposed linear program, its residuals computed
    once by the forward pass: for tanh, one product with the saved 1 - y**2."""
    x = np.linspace(-1.0, 1.0, 5)
    with counting_tapes() as count:
        y, tanh_vjp = vjp(jnp.tanh, x)
        (ct,) = tanh_vjp(np.ones(5))
    assert count[0] == 0
    np.testing.assert_allclose(ct, 1 - np.tanh(x) ** 2, rtol=1e-14)
    assert [e.primitive.name for e in funcdiff.make_jaxpr(tanh_vjp)(np.ones(5)).eqns] == ["mul"]


def test_debug_nans_names_the_operations_line():
    def norm(v):
        return jnp.sqrt(jnp.sum(v**2))

    messages = []
    for path in [contextlib.nullcontext(), general_path()]:
        with path, np.errstate(all="ignore"), funcdiff.debug_nans():
            with pytest.raises(FloatingPointError) as info:
                grad(norm)(np.zeros(3))
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert "(norm)" in messages[0]


_SPECIAL_FLOATS = [0.0, -0.0, 1.5, -2.25, 1e308, -1e308, 5e-324, np.inf, -np.inf, np.nan]


@given(
    a=st.one_of(st.floats(allow_nan=True), st.sampled_from(_SPECIAL_FLOATS)),
    b=st.one_of(st.floats(allow_nan=True), st.sampled_from(_SPECIAL_FLOATS)),
)
def test_python_float_operators_give_numpys_results(a, b):
    """`Primitive.float_operator`: on Python floats, `add`, `sub`, `mul` and `neg` use
    Python's arithmetic, which must give NumPy's float64 results bit for bit."""
    cases = [
        (ew.add, np.add, (a, b)),
        (ew.sub, np.subtract, (a, b)),
        (ew.mul, np.multiply, (a, b)),
        (ew.neg, np.negative, (a,)),
    ]
    with np.errstate(all="ignore"):
        for fn, ufunc, args in cases:
            got, expected = fn(*args), ufunc(*args)
            assert type(got) is float, fn
            assert np.array_equal(
                np.float64(got).view(np.int64), np.float64(expected).view(np.int64)
            ) or (np.isnan(got) and np.isnan(expected)), (fn, args, got, expected)


def test_python_float_operators_still_check_nans():
    with np.errstate(all="ignore"), funcdiff.debug_nans():
        with pytest.raises(FloatingPointError, match="'sub'"):
            ew.sub(np.inf, np.inf)
        with pytest.raises(FloatingPointError, match="'mul'"):
            ew.mul(0.0, np.inf)
