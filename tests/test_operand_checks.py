"""Operands funcdiff cannot compute with give a clear error that names the operation, the
operand and the user's line, the same eagerly and under the transformations: NumPy arrays of
strings, bytes, datetimes or objects, and a float exponent for `ldexp`."""

from __future__ import annotations

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff._src.errors import PrimitiveError

HERE = "test_operand_checks.py:"

_NOT_NUMBERS = [
    np.array(["a"]),
    np.array([b"x"]),
    np.array(["2020-01-01"], "datetime64[D]"),
    np.array([object()]),
]


@pytest.mark.parametrize("other", _NOT_NUMBERS, ids=lambda a: str(a.dtype))
@pytest.mark.parametrize(
    "call, x, op",
    [
        (lambda x, o: funcdiff.jit(lambda x: x + o)(x), 1.0, "add"),
        (lambda x, o: funcdiff.jit(lambda x: o * x)(x), np.float32(2.0), "multiply"),
        (lambda x, o: funcdiff.vmap(lambda x: x - o)(x), np.ones(2), "subtract"),
        (lambda x, o: funcdiff.grad(lambda x: jnp.sum(x * o))(x), 1.0, "multiply"),
        (lambda x, o: jnp.add(x, o), np.ones(2), "add"),
        (lambda x, o: funcdiff.jit(lambda x: jnp.where(x > 0, o, x))(x), 1.0, "where"),
        # eager operators on funcdiff Arrays, either side (NumPy's reflected operator raised
        # its bare error), and the functions that promote strictly (floats became strings)
        (lambda x, o: jnp.asarray(x) + o, np.ones(2), "add"),
        (lambda x, o: o * jnp.asarray(x), np.ones(2), "multiply"),
        (lambda x, o: jnp.concatenate([x, o]), np.ones(2), "concatenate"),
        (lambda x, o: jnp.stack([x, o]), np.ones(1), "stack"),
    ],
    ids=["jit-weak", "jit-f32", "vmap", "grad", "eager", "where", "operator", "reflected",
         "concatenate", "stack"],
)
def test_non_number_operand_names_its_dtype_and_the_operation(call, x, op, other):
    # NumPy's own promotion raises a bare DTypePromotionError (or makes a float64 and a
    # string array a <U32 array, which a primitive then rejects under a dtype the user never
    # wrote); the error names the operation, the operand's dtype and the user's line.
    with pytest.raises(PrimitiveError) as info:
        call(x, other)
    message = str(info.value)
    assert message.startswith(f"{op}: an operand of type ndarray of dtype {other.dtype} ")
    assert "not an array of numbers" in message and HERE in message


_FLOAT_EXPONENTS = [2.0, np.float64(2.0), np.float32(2.0), np.array([2.0, 1.0]), jnp.array(2.0)]


@pytest.mark.parametrize("n", _FLOAT_EXPONENTS, ids=lambda n: type(n).__name__)
@pytest.mark.parametrize("x", [1.5, np.ones(2), jnp.array([0.5, 3.0])], ids=["py", "np", "Array"])
def test_ldexp_refuses_a_float_exponent_eagerly_as_under_jit(x, n):
    # NumPy refuses it too (no float exponent loop); eagerly funcdiff used to cast it to int.
    messages = []
    calls = [jnp.ldexp, funcdiff.jit(jnp.ldexp)]
    if np.ndim(x):
        calls.append(funcdiff.vmap(jnp.ldexp, in_axes=(0, None)))
    for f in calls:
        with pytest.raises(PrimitiveError) as info:  # (a TypeError and a ValueError, as JAX's)
            f(x, n)
        message = str(info.value)
        assert message.startswith("ldexp: the exponent must be an integer array, got float")
        assert "astype(int)" in message
        messages.append(message.split(" (operands")[0])
    assert len(set(messages)) == 1  # eagerly the same error as under jit
    with pytest.raises(TypeError):
        np.ldexp(np.asarray(x), np.asarray(n))


def test_ldexp_integer_exponents_still_compute_exactly():
    x = np.array([0.75, 3.0, 1e-300])
    n = np.array([2, -1, 700])
    expected = np.ldexp(x, n)
    np.testing.assert_array_equal(jnp.ldexp(x, n), expected)
    np.testing.assert_array_equal(funcdiff.jit(jnp.ldexp)(x, n), expected)
    assert float(jnp.ldexp(1.5, 2)) == 6.0 and float(jnp.ldexp(np.float32(1.5), np.int8(3))) == 12.0
    np.testing.assert_array_equal(
        jnp.ldexp(x, np.array([True, False, True])), np.ldexp(x, [1, 0, 1])
    )
    assert funcdiff.grad(lambda v: jnp.ldexp(v, 3))(1.0) == 8.0
