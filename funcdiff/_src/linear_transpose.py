"""`linear_transpose`: the transpose of a linear function, as `jax.linear_transpose`.

The function is staged once into a jaxpr on its arguments' shapes and dtypes, and reverse
mode's transposition (`ad.backward_pass`) is staged on top of it, on abstract cotangents:
a function that is not linear fails there, when the transpose is made, with the primitive
that is not linear named. Calling the transpose evaluates that second jaxpr; no forward pass
runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from funcdiff._src import core, errors
from funcdiff._src.api_extras import _aval_of
from funcdiff._src.interpreters import ad
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.lax import elementwise as lax_elementwise
from funcdiff._src.tree_util import tree_flatten, tree_unflatten
from funcdiff._src.tree_util_extras import Partial


def _stage(fun: Callable[..., Any], in_tree: Any, in_avals: list[core.ShapedArray]):
    out_tree: list[Any] = []

    def flat(*xs: Any) -> list[Any]:
        out, tree = tree_flatten(fun(*tree_unflatten(in_tree, list(xs))))
        out_tree.append(tree)
        return out

    return pe.dce_jaxpr(pe.trace_to_jaxpr(flat, in_avals)), out_tree[0]


def _check_dtypes(name: str, in_avals: list, out_avals: list) -> None:
    kinds = {a.dtype.kind for a in [*in_avals, *out_avals]}
    if kinds <= {"f", "c"} or kinds <= {"i", "u"}:
        return
    raise TypeError(
        f"linear_transpose of {name} supports (float or complex) -> (float or complex) and "
        f"integer -> integer functions, but got "
        f"{[str(a.dtype) for a in in_avals]} -> {[str(a.dtype) for a in out_avals]}."
    )


def _stage_transpose(name: str, linear: core.ClosedJaxpr, in_avals: list) -> core.ClosedJaxpr:
    """The jaxpr `cotangents -> input cotangents`, each input's cotangent in its dtype."""

    def transposed(*cts: Any) -> list[Any]:
        args = [ad.UndefinedPrimal(a) for a in in_avals]
        in_cts = ad.backward_pass(linear.jaxpr, linear.consts, args, list(cts))
        return [
            ad.zeros_like_aval(a)
            if type(c) is ad.Zero or c is None
            else lax_elementwise.convert_element_type(c, a.dtype)
            if core.get_aval(c).dtype != a.dtype
            else c
            for c, a in zip(in_cts, in_avals)
        ]

    try:
        return pe.trace_to_jaxpr(transposed, linear.out_avals)
    except NotImplementedError as e:  # a primitive with no transpose rule, or used nonlinearly
        raise TypeError(
            f"linear_transpose: {name} is not linear in its arguments, so it has no transpose: {e}"
        ) from e


def _check_cotangent(name: str, ct: Any, aval: core.ShapedArray, i: int) -> Any:
    ca = core.get_aval(ct)
    if ca.shape == aval.shape and ca.dtype == aval.dtype:
        return ct
    if ca.shape == aval.shape and ca.weak_type and np.can_cast(ca.dtype, aval.dtype, "same_kind"):
        return lax_elementwise.convert_element_type(ct, aval.dtype)  # a Python scalar
    raise TypeError(
        f"the transpose of {name}: cotangent {i} is {ca.str_short()}, but the function's "
        f"output {i} is {aval.str_short()}"
    )


def linear_transpose(fun: Callable[..., Any], *primals: Any, reduce_axes: tuple = ()) -> Callable:
    """The transpose of a linear function: for `fun` linear in its arguments, the function
    mapping a cotangent of `fun`'s output to the cotangents of its arguments. It is
    `vjp(fun, *primals)[1]` without running `fun` forward.

    Only the shapes and dtypes of `primals` are used. The transpose returns a tuple shaped
    like `primals`, each leaf in its primal's dtype, and is a pytree (a
    [`Partial`][funcdiff.tree_util.Partial]) that can be passed to `jit`. A function that is
    not linear in its arguments (for example `sin(x)` or `x * x`) raises a `TypeError` naming
    the primitive; an affine one (`x + 1.0`) is transposed as its linear part, as in JAX.

    **Arguments:**

    - `fun`: the linear function; arguments and result are pytrees of arrays, either all
      inexact (float or complex) or all integer.
    - `primals`: arrays or [`ShapeDtypeStruct`][funcdiff.ShapeDtypeStruct]s with the
      shapes and dtypes of `fun`'s arguments.
    - `reduce_axes`: deprecated in JAX; must be empty.

    **Returns:** the transpose, a function of one cotangent shaped like `fun`'s result.

    !!! Example
        ```python
        import numpy as np
        import funcdiff

        f = lambda x, y: 0.5 * x - 0.5 * y
        scalar = funcdiff.ShapeDtypeStruct((), np.float32)
        f_transpose = funcdiff.linear_transpose(f, scalar, scalar)
        print(f_transpose(np.float32(1.0)))
        ```
    """
    if reduce_axes:
        raise NotImplementedError(
            "linear_transpose: reduce_axes is deprecated in JAX and not supported"
        )
    errors.check_callable(fun, "linear_transpose")
    name = getattr(fun, "__name__", repr(fun))
    leaves, in_tree = tree_flatten(primals)
    in_avals = [_aval_of(x, "linear_transpose") for x in leaves]
    linear, out_tree = _stage(fun, in_tree, in_avals)
    out_avals = linear.out_avals
    _check_dtypes(name, in_avals, out_avals)
    staged = _stage_transpose(name, linear, in_avals)

    def transposed_fun(consts: list[Any], out_cotangent: Any) -> tuple[Any, ...]:
        cts, tree = tree_flatten(out_cotangent)
        if tree != out_tree:
            raise TypeError(
                f"the transpose of {name}: the cotangent's structure {tree} is not "
                f"the function output's {out_tree}"
            )
        cts = [_check_cotangent(name, c, a, i) for i, (c, a) in enumerate(zip(cts, out_avals))]
        outs = core.eval_jaxpr(staged.jaxpr, consts, *cts)
        outs = [
            np.asarray(x, a.dtype) if type(x) in (int, float, complex) else x
            for x, a in zip(outs, in_avals)
        ]  # a weak Python scalar, in its primal's dtype
        return tree_unflatten(in_tree, core.owned_results(outs, cts))

    return Partial(transposed_fun, list(staged.consts))
