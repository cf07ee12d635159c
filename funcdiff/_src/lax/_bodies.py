"""What the control-flow primitives share: tracing a body (a branch, a loop body) to a
closed jaxpr whose first inputs are the values it closes over, rearranging the inputs and
outputs of such a jaxpr, checking the types of branches and loop carries, and the carry
rules (weak initial carries promoted as in JAX, run-time carries of the promised kind).
Used by `conditionals.py`, `loops.py` and `scans.py`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes
from funcdiff._src.core import ClosedJaxpr, Jaxpr, ShapedArray, Var
from funcdiff._src.errors import user_source_line
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.lax import _jaxprs as jaxprs
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.tree_util import keystr, tree_flatten, tree_flatten_with_path, tree_unflatten

# ---- tracing bodies -------------------------------------------------------------------------


def _trace_body(
    fun: Callable[..., Any], args_tree: Any, avals: Sequence[ShapedArray], carry: slice = slice(0)
) -> tuple[list[Any], ClosedJaxpr, Any]:
    """Trace ``fun(*tree_unflatten(args_tree, leaves))`` to a jaxpr whose first inputs are the
    traced values it closes over. Returns ``(closed_over_values, jaxpr, out_tree)``.

    `carry` selects a loop's carry among the inputs and, at the same positions, among the
    outputs: an output leaf there stays weakly typed only if its input is weak of its dtype,
    and otherwise becomes strong, keeping its dtype (`_as_carry`)."""
    store: list[Any] = [None]

    def flat(*leaves: Any) -> list[Any]:
        out_leaves, store[0] = tree_flatten(fun(*tree_unflatten(args_tree, leaves)))
        for leaf in out_leaves:
            if not core.is_valid_array(leaf):
                raise TypeError(
                    f"a control-flow body returned a {core.value_kind(leaf)}, which is not an array"
                )
        out_leaves[carry] = [
            _as_carry(x, a if core.get_aval(x).dtype == a.dtype else core.get_aval(x))
            for x, a in zip(out_leaves[carry], avals[carry])
        ]
        return out_leaves

    closed = pe.trace_to_jaxpr(flat, avals)
    consts, converted = jaxprs.closure_convert(closed)
    return consts, converted, store[0]


def _add_inputs(
    closed: ClosedJaxpr, before: Sequence[ShapedArray] = (), after: Sequence[ShapedArray] = ()
) -> ClosedJaxpr:
    """The same jaxpr with extra unused inputs."""
    j = closed.jaxpr
    invars = [Var(a) for a in before] + list(j.invars) + [Var(a) for a in after]
    return ClosedJaxpr(Jaxpr(list(j.constvars), invars, j.eqns, j.outvars), closed.consts)


def _permute_inputs(closed: ClosedJaxpr, order: Sequence[int]) -> ClosedJaxpr:
    """The jaxpr whose input ``k`` is the old input ``order[k]``."""
    j = closed.jaxpr
    return ClosedJaxpr(
        Jaxpr(list(j.constvars), [j.invars[i] for i in order], j.eqns, j.outvars), closed.consts
    )


def _permute_outputs(closed: ClosedJaxpr, order: Sequence[int]) -> ClosedJaxpr:
    j = closed.jaxpr
    return ClosedJaxpr(
        Jaxpr(list(j.constvars), list(j.invars), j.eqns, [j.outvars[i] for i in order]),
        closed.consts,
    )


def _avals(xs: Sequence[Any]) -> list[ShapedArray]:
    return [core.get_aval(x) for x in xs]


def _describe(avals: Sequence[ShapedArray]) -> str:
    return "(" + ", ".join(a.str_short() for a in avals) + ")"


def _check_same_types(
    what: str, tree1: Any, avals1: Sequence[ShapedArray], tree2: Any, avals2: Sequence[ShapedArray]
) -> None:
    if tree1 != tree2:
        raise TypeError(f"{what}: structures differ: {tree1} and {tree2}" + _where())
    for i, (a, b) in enumerate(zip(avals1, avals2)):
        if a.shape != b.shape or a.dtype != b.dtype:
            raise TypeError(
                f"{what}: leaf {i} is {a.str_short()} in one and {b.str_short()} in the other; "
                f"they must match (all: {_describe(avals1)} vs {_describe(avals2)})." + _where()
            )


def _where() -> str:
    line = user_source_line()
    return f" (at {line})" if line else ""


def _strip_weak(avals: Sequence[ShapedArray]) -> list[ShapedArray]:
    return [a.strip_weak_type() for a in avals]


def _as_carry(x: Any, aval: ShapedArray) -> Any:
    """Give a loop-carried value the carry's type: a weakly typed value stays weak (a Python
    scalar at run time) where the carry `aval` is weak of its dtype, and otherwise becomes
    strong, of the carry's dtype."""
    x_aval = core.get_aval(x)
    if not x_aval.weak_type or (aval.weak_type and x_aval.dtype == aval.dtype):
        return x
    return ew.convert_element_type(x, aval.dtype)


# ---- loop carries ---------------------------------------------------------------------------


def _promote_weak(x: Any, aval: ShapedArray, out: ShapedArray) -> Any:
    """A weakly typed initial carry leaf (a Python scalar) takes the dtype the body gives it,
    as in JAX: ``0`` carried through ``c + 1.5`` becomes a float, ``0.0`` through
    ``c + float32_array`` a float32, and ``1.0`` through ``c * float64_array`` a strong float64.
    A leaf the body returns weak of its dtype (``c + 1``), and a strong leaf, are returned as
    they are."""
    if not aval.weak_type or (aval.dtype == out.dtype and out.weak_type):
        return x
    dtype, _ = dtypes.result_type((aval.dtype, True), (out.dtype, out.weak_type))
    return ew.convert_element_type(x, dtype)


def _trace_loop_body(
    trace: Callable[[list[ShapedArray]], tuple[Any, Any, list[ShapedArray]]],
    init: Any,
    what: str,
    init_name: str,
) -> tuple[list[Any], Any, Any]:
    """Trace a loop body on the initial carry `init` (a pytree the user named `init_name`).

    ``trace(carry_avals)`` traces the body and returns ``(traced, carry_out_tree,
    carry_out_avals)``. As in JAX, a weakly typed leaf (a Python scalar) stays weak when the
    body returns it weak of the same dtype, so that the body sees a Python scalar on every
    iteration (``0`` through ``c + 1`` stays a weak int, and ``x * c`` keeps the dtype of
    ``x``); otherwise it takes the (strong) dtype the body gives it (`_promote_weak`). The body
    is traced again until the carry types settle (each round makes a weak leaf strong), and
    its output carry must match them. Returns ``(leaves, tree, traced)``.
    """
    leaves, tree = tree_flatten(init)
    avals = _avals(leaves)
    traced, out_tree, out_avals = trace(avals)
    while out_tree == tree and any(a.weak_type for a in avals):
        promoted = [_promote_weak(x, a, o) for x, a, o in zip(leaves, avals, out_avals)]
        if all(p is x for p, x in zip(promoted, leaves)):
            break
        leaves, avals = promoted, _avals(promoted)
        traced, out_tree, out_avals = trace(avals)
    if out_tree != tree:
        raise TypeError(
            f"{what} must return a carry with the structure of {init_name}, "
            f"{tree}, but it returned {out_tree}" + _where()
        )
    names = [init_name + keystr(path) for path, _ in tree_flatten_with_path(init)[0]]
    for name, a, b in zip(names, avals, out_avals):
        if a.shape != b.shape or a.dtype != b.dtype:
            raise TypeError(
                f"{what} returned the carry {name} as {b.str_short()}, but it enters the loop "
                f"as {a.str_short()}; a loop carry must keep its shapes and dtypes (carry in: "
                f"{_describe(avals)}, out: {_describe(out_avals)})." + _where()
            )
    return leaves, tree, traced


def _carry_values(values: Sequence[Any], avals: Sequence[ShapedArray]) -> list[Any]:
    """Run-time carries keep the kind their types promise: a strong carry that the body
    computed as a Python scalar (say, from a `fori_loop` index) becomes a NumPy scalar, and a
    weak scalar carry that a compiled body returned as a NumPy scalar becomes a Python scalar
    again, so that it cannot promote the other carries on the next iteration."""
    out = []
    for v, a in zip(values, avals):
        if a.weak_type:
            if isinstance(v, np.generic):
                v = v.item()
        elif type(v) in (bool, int, float, complex):
            v = a.dtype.type(v)
        out.append(v)
    return out


# ---- fixed points ------------------------------------------------------------------------


def _fixed_point(initial: list[bool], step: Callable[[list[bool]], list[bool]]) -> list[bool]:
    flags = list(initial)
    while True:
        new = [a or b for a, b in zip(flags, step(flags))]
        if new == flags:
            return flags
        flags = new
