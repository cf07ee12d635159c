"""Weak types agree everywhere: eager, `jit`, `vmap` and `eval_shape` give every result the
same dtype and the same weak type, on operands that mix Python scalars, weakly typed arrays
(`WeakArray`), float32, float64 and integer arrays. Over the whole primitive table
(tests/lax_table.py) and a list of `funcdiff.numpy` functions; the latter are also compared
with JAX's dtypes (float64 enabled) when JAX is installed (it is optional: those comparisons
are skipped without it)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lax_table import F32, F64, LAX_OPS, OpRecord, draw_case

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import lax
from funcdiff._src import core
from funcdiff._src.array import WeakArray, as_weak_array
from funcdiff.tree_util import tree_leaves

# Dtypes a weakly typed value may have (each kind's default: what a Python scalar gives).
_WEAK_DTYPES = {np.dtype(t) for t in (np.bool_, np.int64, np.float64, np.complex128)}


def _typing(x: Any) -> tuple[np.dtype, bool]:
    aval = core.get_aval(x)
    return aval.dtype, aval.weak_type


def _results(out: Any) -> list[tuple[np.dtype, bool]]:
    return [_typing(y) for y in tree_leaves(out) if core.is_valid_array(y)]


def _spec(out: Any) -> list[tuple[np.dtype, bool]]:
    return [(np.dtype(s.dtype), bool(s.weak_type)) for s in tree_leaves(out)]


def _vmapped(f: Callable[..., Any], args: list[Any]) -> list[tuple[np.dtype, bool]]:
    """`f` under `vmap` over a batch of one: array operands batched, Python scalars not."""
    axes = [0 if isinstance(a, np.ndarray) else None for a in args]
    batched = [a[None] if isinstance(a, np.ndarray) else a for a in args]
    out = funcdiff.vmap(f, in_axes=axes)(*batched)
    return _results(out)


def assert_weak_types_agree(f: Callable[..., Any], args: list[Any], what: str) -> None:
    eager = _results(f(*args))
    jitted = _results(funcdiff.jit(f)(*args))
    assert jitted == eager, f"{what}: jit {jitted} != eager {eager}"
    assert _spec(funcdiff.eval_shape(f, *args)) == eager, f"{what}: eval_shape != eager {eager}"
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    if arrays and all(a.ndim for a in arrays):
        assert _vmapped(f, args) == eager, f"{what}: vmap != eager {eager}"
    # What the weak type is for: the result meets a float32 array (the same float32 both ways).
    meet = lambda *a: [
        y * np.ones((), np.float32)
        for y in tree_leaves(f(*a))  # noqa: E731
        if core.get_aval(y).dtype.kind in "fc"
    ]
    eager_meet = _results(meet(*args))
    assert _results(funcdiff.jit(meet)(*args)) == eager_meet, f"{what}: x32 * result"


def _weaken(draw: Any, args: tuple[Any, ...], allow_scalars: bool) -> list[Any]:
    """Make some operands weakly typed: an array of a weak dtype becomes a WeakArray, or a
    Python scalar when 0-d."""
    out = []
    for a in args:
        if isinstance(a, np.ndarray) and a.dtype in _WEAK_DTYPES and draw(st.booleans()):
            a = a.item() if allow_scalars and a.ndim == 0 else as_weak_array(np.array(a))
        out.append(a)
    return out


def _fn(rec: OpRecord, static: dict[str, Any]) -> Callable[..., Any]:
    return functools.partial(rec.fn, **static) if static else rec.fn


@pytest.mark.parametrize("rec", LAX_OPS, ids=[r.name for r in LAX_OPS])
@given(data=st.data())
def test_every_primitive_types_weak_operands_alike_eagerly_and_transformed(rec, data):
    dtype = F64 if F64 in rec.dtypes else rec.dtypes[0]
    case = draw_case(data.draw, rec, dtype)
    args = _weaken(data.draw, case.args, allow_scalars=data.draw(st.booleans()))
    assert_weak_types_agree(_fn(rec, case.static), args, rec.name)


_BINARY = [
    r
    for r in LAX_OPS
    if r.elementwise
    and r.n_args == 2
    and F32 in r.dtypes
    and F64 in r.dtypes
    and hasattr(lax, r.name)
]


@pytest.mark.parametrize("rec", _BINARY, ids=[r.name for r in _BINARY])
@given(data=st.data())
def test_a_weak_float64_array_meeting_float32_takes_float32(rec, data):
    """`funcdiff.lax`'s functions (not only `funcdiff.numpy`'s promotion): a weakly typed
    float64 array operand next to a float32 one gives float32, as the abstract rule says."""
    case = draw_case(data.draw, rec, F32)
    k = data.draw(st.integers(0, 1))
    args = list(case.args)
    args[k] = as_weak_array(np.asarray(args[k], np.float64))
    f = functools.partial(getattr(lax, rec.name), **case.static)
    assert_weak_types_agree(f, args, rec.name)
    for y in tree_leaves(f(*args)):
        assert np.asarray(y).dtype in (F32, np.dtype(np.complex64), np.dtype(bool)), rec.name


# ---- funcdiff.numpy -------------------------------------------------------------------------

X32 = np.array([1.5, -2.0, 0.25], np.float32)
X64 = np.array([0.5, 3.0, -1.0])
I64 = np.array([1, 2, 3])
COND = np.array([True, False, True])

# name -> (function of the operands, operands)
NUMPY_CASES: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]] = {
    "broadcast_to scalar + x32": (lambda x: jnp.broadcast_to(1.0, (3,)) + x, (X32,)),
    "broadcast_to scalar": (lambda: jnp.broadcast_to(1.0, (3,)), ()),
    "reshape scalar": (lambda: jnp.reshape(2.0, (1, 1)), ()),
    "where array cond, scalars": (lambda c: jnp.where(c, 1.0, 2.0), (COND,)),
    "where array cond, scalars + x32": (lambda c, x: jnp.where(c, 1.0, 2.0) + x, (COND, X32)),
    "where array cond, int scalars * x32": (lambda c, x: jnp.where(c, 1, 2) * x, (COND, X32)),
    "where scalar/x32": (lambda c, x: jnp.where(c, 0.0, x), (COND, X32)),
    "sin of weak array + x32": (lambda x: jnp.sin(jnp.broadcast_to(0.5, (3,))) + x, (X32,)),
    "weak * weak + x32": (
        lambda x: jnp.broadcast_to(2.0, (3,)) * jnp.broadcast_to(3, (3,)) + x,
        (X32,),
    ),
    "weak int + weak float": (lambda: jnp.broadcast_to(2, (3,)) + jnp.broadcast_to(0.5, (3,)), ()),
    "weak float + int64": (lambda i: jnp.broadcast_to(0.5, (3,)) + i, (I64,)),
    "weak int + int64": (lambda i: jnp.broadcast_to(2, (3,)) + i, (I64,)),
    "weak < x32": (lambda x: jnp.broadcast_to(0.1, (3,)) < x, (X32,)),
    "weak indexed + x32": (lambda x: jnp.broadcast_to(1.0, (2, 3))[0] + x, (X32,)),
    "weak element + x32": (lambda x: jnp.broadcast_to(1.0, (3,))[1] + x, (X32,)),
    "weak transposed": (lambda x: jnp.broadcast_to(1.0, (3, 1)).T[0] + x, (X32,)),
    "concatenate weak + x32": (
        lambda x: jnp.concatenate([jnp.broadcast_to(1.0, (1,)), jnp.broadcast_to(2.0, (2,))]) + x,
        (X32,),
    ),
    "stack of scalars + x32": (lambda x: jnp.stack([1.0, 2.0, 3.0]) + x, (X32,)),
    "weak.astype": (lambda: jnp.broadcast_to(1.0, (3,)).astype(np.float32), ()),
    "maximum weak x32": (lambda x: jnp.maximum(jnp.broadcast_to(0.0, (3,)), x), (X32,)),
    "clip x32 by scalars": (lambda x: jnp.clip(x, 0.0, 1.0), (X32,)),
    "dot weak x32": (lambda x: jnp.dot(jnp.broadcast_to(1.0, (3,)), x), (X32,)),
    "matmul weak x64": (lambda x: jnp.broadcast_to(1.0, (2, 3)) @ x, (X64,)),
    "x32 ** weak": (lambda x: x ** jnp.broadcast_to(2.0, (3,)), (X32,)),
    "x32 / weak int": (lambda x: x / jnp.broadcast_to(2, (3,)), (X32,)),
    "scalar * x32": (lambda x: 2.0 * x, (X32,)),
    "sum weak": (lambda: jnp.sum(jnp.broadcast_to(1.0, (3,))), ()),
    "mean weak + x32": (lambda x: jnp.mean(jnp.broadcast_to(1.0, (3,))) + x, (X32,)),
    "pad x32 with scalar": (lambda x: jnp.pad(x, 1, constant_values=1.0), (X32,)),
    "roll weak + x32": (lambda x: jnp.roll(jnp.broadcast_to(1.0, (3,)), 1) + x, (X32,)),
    "cond of scalars + x32": (
        lambda x: (
            lax.cond(
                x[0] > 0, lambda: jnp.broadcast_to(1.0, (3,)), lambda: jnp.broadcast_to(2.0, (3,))
            )
            + x
        ),
        (X32,),
    ),
    "fori_loop weak carry + x32": (
        lambda x: lax.fori_loop(0, 2, lambda i, c: c * 2.0, jnp.broadcast_to(1.0, (3,))) + x,
        (X32,),
    ),
}


@pytest.mark.parametrize("name", list(NUMPY_CASES))
def test_numpy_functions_type_weak_values_alike(name):
    f, args = NUMPY_CASES[name]
    assert_weak_types_agree(f, list(args), name)


def _jax():
    jax = pytest.importorskip("jax", reason="JAX is optional: compared with when installed")
    jax.config.update("jax_enable_x64", True)
    return jax


@pytest.mark.parametrize("name", list(NUMPY_CASES))
def test_numpy_functions_give_jaxs_dtypes(name):
    jax = _jax()
    import jax.numpy as jjnp

    f, args = NUMPY_CASES[name]
    ours = [d for d, _ in _results(f(*args))]
    # The same function with JAX's modules: the cases name only jnp and lax.
    code = f.__code__
    glob = {**f.__globals__, "jnp": jjnp, "lax": jax.lax, "np": np}
    theirs_f = type(f)(code, glob, f.__name__, f.__defaults__, f.__closure__)
    theirs = [np.dtype(y.dtype) for y in jax.tree_util.tree_leaves(theirs_f(*args))]
    assert ours == theirs, f"{name}: funcdiff {ours}, JAX {theirs}"


# ---- weak arrays as values ------------------------------------------------------------------


def test_the_reported_divergence_is_gone():
    f = lambda x: jnp.broadcast_to(1.0, (2,)) + x  # noqa: E731
    x = np.ones(2, np.float32)
    assert f(x).dtype == funcdiff.jit(f)(x).dtype == np.float32
    assert funcdiff.vmap(f)(x[None]).dtype == np.float32
    assert funcdiff.grad(lambda x: f(x).sum())(x).dtype == np.float32
    assert funcdiff.jvp(f, (x,), (x,))[1].dtype == np.float32


def test_weak_arrays_are_immutable_arrays_that_print_their_weak_type():
    w = jnp.broadcast_to(1.0, (2,))
    assert type(w) is WeakArray and isinstance(w, funcdiff.Array) and w.weak_type
    assert not jnp.ones(2).weak_type
    assert repr(w) == "Array([1., 1.], weak_type=True)"
    with pytest.raises(TypeError, match="immutable"):
        w[0] = 2.0
    assert not np.asarray(w).flags.writeable
    assert type(w[0]) is float and type(w[:1]) is WeakArray and type(w.T) is WeakArray
    assert type(np.sin(w)) is np.ndarray  # NumPy's own functions compute as NumPy does
    assert (w.astype(np.float32) + np.float64(1)).dtype == np.float64  # astype: strong


def test_jit_keys_on_the_weak_type_of_an_array_argument():
    f = funcdiff.jit(lambda a, b: a + b)
    x32 = np.ones(2, np.float32)
    weak, strong = jnp.broadcast_to(1.0, (2,)), np.ones(2)
    for _ in range(2):  # traced, then from the cache
        assert f(weak, x32).dtype == np.float32
        assert f(strong, x32).dtype == np.float64
        assert f(weak, x32).dtype == np.float32
    assert f.trace_count == 2
    g = funcdiff.jit(lambda a: a * 2)
    assert g(weak).weak_type and not g(strong).weak_type
    # Results of a jitted function keep their weak type, also through the fast path.
    h = funcdiff.jit(lambda: jnp.broadcast_to(1.0, (2,)))
    assert h().weak_type and h().weak_type


def test_vmap_of_a_batched_weak_value_meeting_float32_under_jit():
    # A selection between Python scalars by a batched condition is a batched weak value:
    # its per-example dtype must not promote the float32 it meets, jitted or not.
    f = lambda c, x: jnp.where(c, 1.0, 2.0) * x  # noqa: E731
    c, x = np.array([True, False]), np.array([3.0, 4.0], np.float32)
    for g in (funcdiff.vmap(f), funcdiff.jit(funcdiff.vmap(f)), funcdiff.vmap(funcdiff.jit(f))):
        out = g(c, x)
        assert out.dtype == np.float32 and out.tolist() == [3.0, 8.0]


def test_grad_of_a_python_float_has_one_weak_type_eager_and_jitted():
    f = lambda x: x * x  # noqa: E731
    for g in (funcdiff.grad(f), funcdiff.jit(funcdiff.grad(f))):
        out = g(1.5)
        assert out.weak_type and out == 3.0  # as JAX's
        assert not g(np.float64(1.5)).weak_type
        assert (out * np.ones(1, np.float32)).dtype == np.float32


def test_a_weak_float32_scalar_stays_float32_eagerly_as_jitted():
    # Found by the thorough profile: a weakly typed 0-d float32 (convert_element_type with
    # weak_type=True) became a Python float (float64) eagerly, and stayed float32 under jit.
    from funcdiff._src.lax import structural

    f = lambda x: structural.convert_element_type(x, np.float32, True)  # noqa: E731
    for x in (1.0, np.array(1.0)):
        for g in (f, funcdiff.jit(f)):
            out = g(x)
            assert isinstance(out, WeakArray) and out.dtype == np.float32
            assert funcdiff.jit(lambda a: a * 2)(out).dtype == (out * 2).dtype == np.float32
