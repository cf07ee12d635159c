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
    ],
    ids=["jit-weak", "jit-f32", "vmap", "grad", "eager", "where"],
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
