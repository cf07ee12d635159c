"""The cached promotion of two operands (`promote_pair`, the eager hot path of the binary
ufuncs) against the general rule it caches (`_promote_general`), over a grid of operand kinds:
Python scalars, NumPy scalars, arrays of several dtypes, funcdiff Arrays and WeakArrays."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import jit
from funcdiff._src import core
from funcdiff._src.array import WeakArray, as_weak_array
from funcdiff._src.numpy import _util

OPERANDS = [
    True,
    3,
    2.5,
    1.5 + 2j,
    np.bool_(True),
    np.int8(3),
    np.int64(2),
    np.float32(1.5),
    np.float64(2.0),
    np.complex64(1 - 1j),
    np.array([True, False]),
    np.array([1, 2], np.int16),
    np.array([3, 4]),
    np.array([1.5, 2.5], np.float32),
    np.array([1.5, 2.5]),
    np.array([1 + 1j, 2], np.complex64),
    np.array(1.5, np.float32),
    jnp.asarray([0.5, 1.5]),
    jnp.asarray([1, 2], jnp.int8),
    as_weak_array(np.array([0.5, 1.5])),  # a weakly typed array: cast when the result is strong
    as_weak_array(np.array(2.0)),  # ... but a 0-d one is left alone, as a Python scalar
    as_weak_array(np.array([1, 2])),
    as_weak_array(np.array(3)),
]

UFUNCS = [jnp.add, jnp.subtract, jnp.multiply, jnp.maximum, jnp.minimum]


def _describe(x):
    """Type, aval and value of an operand or result: what must not depend on the cache."""
    aval = core.get_aval(x)
    return type(x), aval.dtype, aval.weak_type, aval.shape, np.asarray(x).tolist()


def _outcome(fn, *args):
    try:
        return fn(*args)
    except Exception as e:  # noqa: BLE001 (the error itself is compared)
        return type(e), str(e)


@pytest.mark.parametrize("order", [1, -1], ids=["forward", "reversed"])
def test_promote_pair_agrees_with_the_general_rule(order):
    # Filled in both orders, so that a key that merged two kinds (a 0-d and a shaped
    # WeakArray, a NumPy scalar and a Python one) would hand one kind the other's casts.
    _util._PAIR_PROMOTIONS.clear()
    pairs = list(itertools.product(OPERANDS, repeat=2))[::order]
    for rnd in range(2):  # the first round fills the cache, the second reads it
        for x, y in pairs:
            fast = _outcome(_util.promote_pair, x, y)
            general = _outcome(_util._promote_general, (x, y))
            if isinstance(general[0], type):  # an error: the same one
                assert fast == general, (x, y)
                continue
            (gx, gy), dtype, _ = general
            assert fast[2] == dtype, (x, y, rnd)
            for a, b in ((fast[0], gx), (fast[1], gy)):
                fa, fb = _describe(a), _describe(b)
                # (the general rule views a funcdiff Array as a plain ndarray; both are strong)
                assert fa[1:] == fb[1:], (x, y, rnd)
                assert (fa[0] is WeakArray) == (fb[0] is WeakArray), (x, y, rnd)
    # One entry per pair of kinds: 4 Python scalar types, 7 strong dtypes (a NumPy scalar, a
    # NumPy array and a funcdiff Array of one dtype share theirs), 4 weak arrays.
    assert len(_util._PAIR_PROMOTIONS) == 15**2


@pytest.mark.parametrize("fn", UFUNCS, ids=lambda f: f.__name__)
def test_binary_ufuncs_give_the_same_result_from_a_cold_and_a_warm_cache(fn):
    for x, y in itertools.product(OPERANDS, repeat=2):
        _util._PAIR_PROMOTIONS.clear()
        cold = _outcome(fn, x, y)
        warm = _outcome(fn, x, y)
        staged = _outcome(jit(fn), x, y)
        if isinstance(cold, tuple):
            assert warm == cold, (fn.__name__, x, y)
            assert isinstance(staged, tuple), (fn.__name__, x, y)
            continue
        assert _describe(warm) == _describe(cold), (fn.__name__, x, y)
        assert not isinstance(staged, tuple), (fn.__name__, x, y, staged)
        # ... and as staged by jit (weakly typed results included; jit hands out Arrays)
        d_warm, d_staged = _describe(warm), _describe(staged)
        assert d_warm[1:4] == d_staged[1:4], (fn.__name__, x, y)
        np.testing.assert_allclose(np.asarray(staged), np.asarray(warm))


def test_a_tracer_takes_the_cached_rule_of_its_aval():
    # Under jit the operands are tracers; their keys are their avals' dtype and weakness.
    def f(x, w):
        return jnp.multiply(x, w), jnp.add(w, 1.0)

    out, weak = jit(f)(np.ones(2, np.float32), as_weak_array(np.array([1.0, 2.0])))
    assert out.dtype == np.float32 and not out.weak_type
    assert weak.dtype == np.float64 and weak.weak_type
    assert isinstance(out, funcdiff.Array)
