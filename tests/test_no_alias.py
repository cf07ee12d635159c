"""Eager results never alias the caller's writable NumPy arrays.

funcdiff's results are immutable `Array`s (docs/reference/jax-differences.md). An operation
that hands back its operand unchanged (a reshape to its own shape, a cast to its own dtype),
or whose NumPy implementation returns a view of it (a reshape, a transpose), would otherwise
give the user their own writable array back, or a read-only view that changes when they next
write the array. JAX copies its inputs; funcdiff copies such a result (only when the operand is
a writable plain NumPy array: views of funcdiff's immutable Arrays stay free). Checked on a
table of the known shortcuts, then on every record of the numpy and lax test tables.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st
from lax_table import LAX_OPS, draw_case
from numpy_table import RECORDS

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import lax
from funcdiff._src.array import Array, WeakArray
from funcdiff._src.tree_util import tree_leaves

_PY_SCALARS = (bool, int, float, complex)


def _writable_copies(values: Any) -> tuple[Any, list[np.ndarray]]:
    """`values` (a tuple or dict) with each NumPy array replaced by a writable plain copy,
    and those copies."""
    made: list[np.ndarray] = []

    def fresh(v: Any) -> Any:
        if isinstance(v, np.ndarray):
            v = np.array(v)  # (a plain, writable copy, also of a funcdiff Array)
            made.append(v)
        return v

    if isinstance(values, dict):
        return {k: fresh(v) for k, v in values.items()}, made
    return tuple(fresh(v) for v in values), made


def _assert_owned(out: Any, inputs: list[np.ndarray], what: str) -> None:
    """Every array of `out` is a funcdiff Array (or WeakArray) sharing no memory with `inputs`,
    and writing every input afterwards leaves it as it was."""
    leaves = [x for x in tree_leaves(out) if isinstance(x, np.ndarray | np.generic)]
    for x in leaves:
        assert type(x) in (Array, WeakArray), f"{what}: a {type(x).__name__}, not an Array"
        for i in inputs:
            assert not np.shares_memory(x, i), f"{what}: the result shares the caller's memory"
    before = [np.array(x) for x in leaves]
    for i in inputs:
        if i.size:
            i[...] = np.ones((), bool) if i.dtype.kind == "b" else 7
            i[...] = ~i if i.dtype.kind == "b" else i + 1  # (differs from any earlier value)
    for x, b in zip(leaves, before):
        np.testing.assert_array_equal(np.asarray(x), b, err_msg=f"{what}: changed by a write")


# ---- the known no-op shortcuts and view-returning primitives --------------------------------

_SHORTCUTS: dict[str, Callable[[np.ndarray], Any]] = {
    "ravel": jnp.ravel,
    "reshape same shape": lambda x: jnp.reshape(x, x.shape),
    "reshape (a view)": lambda x: jnp.reshape(x, (2, 3)),
    "transpose 1-D": jnp.transpose,
    "transpose 2-D (a view)": lambda x: jnp.transpose(jnp.reshape(x, (2, 3))),
    "real": jnp.real,
    "conj of real": jnp.conj,
    "astype same dtype": lambda x: jnp.astype(x, x.dtype),
    "squeeze nothing": jnp.squeeze,
    "expand_dims (a view)": lambda x: jnp.expand_dims(x, 0),
    "broadcast_to same shape": lambda x: jnp.broadcast_to(x, x.shape),
    "positive": jnp.positive,
    "copy": jnp.copy,
    "clip no bounds": lambda x: jnp.clip(x),
    "round of integers": lambda x: jnp.round(x.astype(np.int64)),
    "floor of integers": lambda x: jnp.floor(x.astype(np.int64)),
    "nan_to_num of integers": lambda x: jnp.nan_to_num(x.astype(np.int64)),
    "rot90 k=4": lambda x: jnp.rot90(jnp.reshape(x, (2, 3)), 4),
    "roll by 0": lambda x: jnp.roll(x, 0),
    "diff n=0": lambda x: jnp.diff(x, n=0),
    "rollaxis to itself": lambda x: jnp.rollaxis(x, 0),
    "basic index [:]": lambda x: jnp.asarray(x)[:],
    "lax.reshape same shape": lambda x: lax.reshape(x, x.shape),
    "lax.transpose identity": lambda x: lax.transpose(x, (0,)),
    "lax.convert_element_type same dtype": lambda x: lax.convert_element_type(x, x.dtype),
    "lax.broadcast_in_dim same shape": lambda x: lax.broadcast_in_dim(x, x.shape, (0,)),
    "lax.squeeze nothing": lambda x: lax.squeeze(x, ()),
    "lax.expand_dims nothing": lambda x: lax.expand_dims(x, ()),
    "lax.rev nothing": lambda x: lax.rev(x, ()),
    "lax.slice whole (a view)": lambda x: lax.slice(x, (0,), (6,)),
    "lax.broadcast_to_rank": lambda x: lax.broadcast_to_rank(x, 1),
    "jit identity": funcdiff.jit(lambda x: x),
    "vmap identity": funcdiff.vmap(lambda x: x),
    "jvp identity": lambda x: funcdiff.jvp(lambda y: y, (x,), (x,)),
}


@pytest.mark.parametrize("name", list(_SHORTCUTS))
def test_shortcut_results_are_owned_arrays(name: str) -> None:
    x = np.arange(6.0)
    out = _SHORTCUTS[name](x)
    _assert_owned(out, [x], name)


def test_views_of_funcdiff_arrays_stay_views() -> None:
    # A funcdiff Array is immutable: its views need no copy (they keep reshapes cheap).
    a = jnp.arange(6.0)
    assert np.shares_memory(jnp.reshape(a, (2, 3)), a)
    assert np.shares_memory(jnp.ravel(a), a)


# ---- every record of the test tables --------------------------------------------------------


def _call(fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


_NP_BY_LABEL = {r.label: r for r in RECORDS}


def _check_table_call(fn: Callable[..., Any], args: tuple, kwargs: dict, what: str) -> None:
    """`fn` called on writable copies of the drawn arrays: its results are the caller's own."""
    args, made = _writable_copies(args)
    kwargs, made_kw = _writable_copies(kwargs)
    try:
        out = _call(fn, args, kwargs)
    except (ValueError, TypeError, IndexError, NotImplementedError) as e:
        note(f"rejected: {e!r}")  # (the arguments' validity is checked by the table's tests)
        return
    _assert_owned(out, made + made_kw, what)


@pytest.mark.parametrize("label", sorted(_NP_BY_LABEL))
@settings(max_examples=3)
@given(data=st.data())
def test_numpy_results_own_their_memory(label: str, data: st.DataObject) -> None:
    rec = _NP_BY_LABEL[label]
    dtype = data.draw(st.sampled_from(rec.dtypes), label="dtype")
    c = data.draw(rec.cases(dtype), label="case")
    _check_table_call(rec.fn, c.args, c.kwargs, label)


_LAX_BY_NAME = {r.name: r for r in LAX_OPS}


@pytest.mark.parametrize("name", sorted(_LAX_BY_NAME))
@settings(max_examples=3)
@given(data=st.data())
def test_lax_results_own_their_memory(name: str, data: st.DataObject) -> None:
    rec = _LAX_BY_NAME[name]
    dtype = data.draw(st.sampled_from(rec.dtypes), label="dtype")
    c = draw_case(data.draw, rec, dtype)
    _check_table_call(rec.fn, c.args, c.static, name)
