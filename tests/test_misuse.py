"""A catalogue of API misuse: one entry per error the documentation promises (the classes in
funcdiff's errors module, the checks of the transformations, `CheckpointError`), each asserting
the exact exception type, the fragments of its message that explain the cause and the fix,
and, where the docs promise it, that the message points at the user's line (this file)."""

import io as stdio

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import io, lax
from funcdiff._src.errors import FuncdiffTypeError, PrimitiveError

HERE = "test_misuse.py:"

_saved = []


def _leak(x):
    _saved.append(x)  # the tracer escapes
    return x * 2


def use_leaked_tracer():
    funcdiff.grad(_leak)(1.0)
    return jnp.sin(_saved[-1])


@funcdiff.custom_vjp
def _custom(x):
    return x


_custom.defvjp(lambda x: (x, None), lambda _, g: (g,))


def nan_under_debug_nans():
    with np.errstate(invalid="ignore", divide="ignore"), funcdiff.debug_nans():
        funcdiff.grad(lambda v: jnp.sqrt(jnp.sum(v ** 2)))(np.zeros(3))


def inf_under_debug_infs():
    with np.errstate(divide="ignore"), funcdiff.debug_infs():
        assert np.isnan(jnp.log(np.array(-1.0)))  # a NaN is not an infinity
        funcdiff.jit(lambda x: jnp.log(x) * 2.0)(np.array([1.0, 0.0]))


def grad_of_while_loop():
    return funcdiff.grad(lambda x: lax.while_loop(lambda c: c < 10, lambda c: c * 2, x))(1.0)


# (name, the misuse, exception type (exactly), message fragments, points at the user's line)
CATALOGUE = [
    ("float() of a value being differentiated",
     lambda: funcdiff.grad(lambda x: float(x) * x)(3.0),
     funcdiff.ConcretizationTypeError, ["float()", "silently drop its derivative",
                                        "stop_gradient"], True),
    ("boolean mask under jit", lambda: funcdiff.jit(lambda x: x[x > 0])(np.ones(3)),
     funcdiff.NonConcreteBooleanIndexError, ["boolean-mask indexing",
                                        "funcdiff.numpy.where(mask, x, 0)"], True),
    ("traced shape under jit", lambda: funcdiff.jit(lambda n: jnp.zeros(n))(3),
     funcdiff.ConcretizationTypeError, ["funcdiff.numpy.zeros", "`shape`", "i64[]",
                                        "static_argnums"], True),
    ("Python if under jit", lambda: funcdiff.jit(lambda x: x if x > 0 else -x)(1.0),
     funcdiff.TracerBoolConversionError, ["bool()", "funcdiff.lax.cond", "static_argnums"],
     True),
    ("range() of a traced value", lambda: funcdiff.jit(lambda n: sum(1 for _ in range(n)))(3),
     funcdiff.TracerIntegerConversionError, ["used as a Python integer", "fori_loop",
                                             "static"], True),
    ("numpy.asarray of a tracer", lambda: funcdiff.grad(lambda x: np.asarray(x).sum())(
        np.ones(3)),
     funcdiff.TracerArrayConversionError, ["converted to a NumPy array", "funcdiff.numpy"],
     True),
    ("a leaked tracer", use_leaked_tracer, funcdiff.UnexpectedTracerError,
     ["leaked tracer", "Return the value"], True),
    ("operands of mismatched shapes", lambda: funcdiff.grad(
        lambda x: jnp.sum(x @ np.ones((2, 3))))(np.ones(3)),
     PrimitiveError, ["dot_general", "(3,)", "(2, 3)"], True),
    ("custom_vjp in forward mode", lambda: funcdiff.jvp(_custom, (1.0,), (1.0,)),
     FuncdiffTypeError, ["forward-mode", "custom_vjp", "custom_jvp"], False),
    ("grad of a while_loop", grad_of_while_loop, TypeError,
     ["while_loop", "lax.fori_loop", "lax.scan"], True),
    ("a NaN under debug_nans", nan_under_debug_nans, FloatingPointError,
     ["NaN produced by primitive", "debug_nans"], True),
    ("an infinity under debug_infs", inf_under_debug_infs, FloatingPointError,
     ["inf produced by primitive 'log'", "debug_infs"], True),
    ("grad of a non-scalar", lambda: funcdiff.grad(lambda w: w * np.ones(3))(0.5),
     TypeError, ["requires a scalar output", "jacrev"], False),
    ("grad with integer inputs", lambda: funcdiff.grad(lambda w: jnp.sum(w ** 2))(
        np.array([1, 2])),
     TypeError, ["real- or complex-valued inputs", "int64", "argnums"], False),
    ("a NumPy function with no funcdiff.numpy counterpart", lambda: funcdiff.grad(
        lambda x: np.shares_memory(x, x))(np.ones(3)),
     TypeError, ["numpy.shares_memory cannot be applied to a traced value",
                 "funcdiff.numpy"], False),
    ("transforming a non-callable", lambda: funcdiff.grad(3),
     TypeError, ["grad expects a callable", "int"], False),
    ("vmap in_axes=True", lambda: funcdiff.vmap(lambda x: x, in_axes=True),
     TypeError, ["in_axes must be ints or None", "True", "a bool is not an axis"], False),
    ("vmap out_axes=True", lambda: funcdiff.vmap(lambda x: x, out_axes=True),
     TypeError, ["out_axes must be ints or None", "a bool is not an axis"], False),
    ("vmap in_axes nested bool", lambda: funcdiff.vmap(lambda x, y: x, in_axes=(0, False)),
     TypeError, ["in_axes must be ints or None", "False"], False),
    ("vmap axis out of range", lambda: funcdiff.vmap(lambda x: x, in_axes=2)(np.ones(3)),
     ValueError, ["in_axes=2 is out of range", "rank 1"], False),
    ("vmap in_axes of the wrong length", lambda: funcdiff.vmap(
        lambda x, y: x, in_axes=(0,))(np.ones(3), np.ones(3)),
     ValueError, ["in_axes has 1 entries", "2 positional arguments"], False),
    ("vmap with inconsistent sizes", lambda: funcdiff.vmap(lambda x, y: x + y)(
        np.ones(3), np.ones(4)),
     ValueError, ["inconsistent sizes", "[3, 4]"], False),
    ("cond with a non-scalar predicate", lambda: lax.cond(
        np.array([True, False]), lambda x: x, lambda x: -x, 1.0),
     TypeError, ["predicate must be a scalar", "funcdiff.numpy.where"], False),
    ("jit static_argnums out of range", lambda: funcdiff.jit(lambda x: x, static_argnums=3)(1.0),
     ValueError, ["static_argnums=3 is out of range"], False),
    ("jvp tangents of another structure", lambda: funcdiff.jvp(
        lambda x: x, (1.0,), ((1.0, 2.0),)),
     TypeError, ["same tree structure"], False),
    ("loading a file that is not a checkpoint", lambda: io.load(
        stdio.BytesIO(b"PK\x05\x06" + b"\0" * 18)),
     io.CheckpointError, ["no '__funcdiff_tree__' entry", "not written by funcdiff.io.save"],
     False),
    ("loading a truncated checkpoint", lambda: io.load(stdio.BytesIO(b"PK\x03\x04")),
     io.CheckpointError, ["truncated or corrupted"], False),
]


@pytest.mark.parametrize("name, misuse, error, fragments, at_user_line", CATALOGUE,
                         ids=[entry[0] for entry in CATALOGUE])
def test_misuse_raises_the_documented_error(name, misuse, error, fragments, at_user_line):
    with pytest.raises(BaseException) as info:
        misuse()
    assert type(info.value) is error, f"{name}: {type(info.value).__name__}: {info.value}"
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{name}: {fragment!r} is not in {message!r}"
    assert (HERE in message) == at_user_line, message


def test_every_documented_error_class_is_in_the_catalogue():
    documented = {funcdiff.ConcretizationTypeError, funcdiff.TracerBoolConversionError,
                  funcdiff.TracerIntegerConversionError, funcdiff.TracerArrayConversionError,
                  funcdiff.UnexpectedTracerError, PrimitiveError, io.CheckpointError,
                  FloatingPointError}
    assert documented <= {entry[2] for entry in CATALOGUE}


CREATION = [
    ("zeros", lambda n: jnp.zeros(n), "`shape`"),
    ("ones", lambda n: jnp.ones((2, n)), "`shape[1]`"),
    ("empty", lambda n: jnp.empty(n), "`shape`"),
    ("empty_like", lambda n: jnp.empty_like(np.ones(2), shape=(n,)), "`shape[0]`"),
    ("full", lambda n: jnp.full((n,), 1.0), "`shape[0]`"),
    ("zeros_like", lambda n: jnp.zeros_like(np.ones(2), shape=(n,)), "`shape[0]`"),
    ("ones_like", lambda n: jnp.ones_like(np.ones(2), shape=n), "`shape`"),
    ("full_like", lambda n: jnp.full_like(np.ones(2), 3.0, shape=(n, 1)), "`shape[0]`"),
    ("eye", lambda n: jnp.eye(3, n), "`M`"),
    ("identity", lambda n: jnp.identity(n), "`n`"),
    ("tri", lambda n: jnp.tri(n), "`N`"),
    ("arange", lambda n: jnp.arange(0, n), "`stop`"),
    ("linspace", lambda n: jnp.linspace(0.0, 1.0, n), "`num`"),
]


@pytest.mark.parametrize("fn, make, argument", CREATION, ids=[c[0] for c in CREATION])
def test_creation_with_a_traced_size_names_the_argument_and_the_fix(fn, make, argument):
    with pytest.raises(funcdiff.ConcretizationTypeError) as info:
        funcdiff.jit(make)(3)
    message = str(info.value)
    assert f"funcdiff.numpy.{fn}" in message and argument in message
    assert "static_argnums" in message and HERE in message
    # Static, the same function works, and under grad alone the size is concrete.
    assert np.shape(funcdiff.jit(make, static_argnums=0)(3)) == np.shape(make(3))
    assert np.shape(funcdiff.grad(lambda x, n: x * jnp.sum(make(n)))(1.0, 3)) == ()
