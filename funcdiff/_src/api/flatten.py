"""The helpers every transformation of `funcdiff._src.api` shares: flattening a function of
pytrees into a function of flat lists of leaves (with or without an aux output), checking the
arguments and outputs a user's function takes and returns, and turning result leaves into the
arrays handed back to the user."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes, errors
from funcdiff._src.array import Array, as_weak_array, unchanged
from funcdiff._src.interpreters import ad
from funcdiff._src.tree_util import (
    PyTreeDef,
    keystr,
    tree_flatten,
    tree_flatten_with_path,
    tree_structure,
    tree_unflatten,
)

# ---- flattening helpers ---------------------------------------------------------------------


class _Store:
    """Receives the output tree structure of a function called through `flatten_fun`."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: Any = None


# Pytree shortcuts for the common call, whose arguments and output are arrays or scalars
# (leaves): a general flatten or unflatten costs about a microsecond each, and reverse mode
# does several per call. A treedef made here stands for a leaf or a tuple of leaves; the
# shortcuts return what `tree_flatten`/`tree_unflatten` return for them.
_PLAIN_LEAVES = frozenset((bool, int, float, complex, np.ndarray, Array))
_LEAF_TREE = tree_structure(0)
_LEAF_TUPLE_TREES: dict[int, PyTreeDef] = {}


def _flatten_args(args: tuple) -> tuple[list[Any], PyTreeDef]:
    """`tree_flatten(args)` for a tuple of arguments."""
    for a in args:
        if type(a) not in _PLAIN_LEAVES:
            return tree_flatten(args)
    tree = _LEAF_TUPLE_TREES.get(len(args))
    if tree is None:
        tree = _LEAF_TUPLE_TREES[len(args)] = tree_structure((0,) * len(args))
    return list(args), tree


def _flatten_output(out: Any) -> tuple[list[Any], PyTreeDef]:
    """`tree_flatten(out)` for a function's output."""
    if type(out) in _PLAIN_LEAVES or isinstance(out, core.Tracer):
        return [out], _LEAF_TREE
    return tree_flatten(out)


def _unflatten(tree: PyTreeDef, leaves: Sequence[Any]) -> Any:
    """`tree_unflatten(tree, leaves)`, at once for the treedefs made above."""
    if tree is _LEAF_TREE:
        return leaves[0]
    if tree is _LEAF_TUPLE_TREES.get(len(leaves)):
        return tuple(leaves)
    return tree_unflatten(tree, leaves)


def flatten_fun(fun: Callable[..., Any], in_tree: PyTreeDef) -> tuple[Callable[..., list], _Store]:
    store = _Store()

    def flat_fun(*leaves: Any) -> list[Any]:
        args = tree_unflatten(in_tree, leaves)
        out = fun(*args)
        out_leaves, store.value = tree_flatten(out)
        for leaf in out_leaves:
            _check_output(leaf, fun)
        return out_leaves

    return flat_fun, store


def _check_output(x: Any, fun: Callable[..., Any]) -> None:
    if not core.is_valid_array(x):
        raise TypeError(
            f"{_fun_name(fun)} returned a value of type {core.value_kind(x)}, which is not an "
            "array; transformed functions must return (pytrees of) arrays or scalars."
        )


def _fun_name(fun: Callable[..., Any]) -> str:
    name = getattr(fun, "__name__", None)  # (`repr(fun)` only when needed: it runs per call)
    return repr(fun) if name is None else name


def _describe(value: Any) -> str:
    """What a user's function returned, in the user's terms (no tracer class names)."""
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of length {len(value)}"
    if core.is_valid_array(value):
        return f"an array {core.get_aval(value).str_short()}"
    return f"a {type(value).__name__}"


def _named_like(fun: Callable[..., Any], wrapper: Callable[..., Any]) -> Callable[..., Any]:
    """`wrapper` under `fun`'s name, for error messages (its signature stays its own)."""
    wrapper.__name__ = wrapper.__qualname__ = _fun_name(fun)
    return wrapper


def _leaf_paths(fun: Callable[..., Any], args: Sequence[Any]) -> list[str]:
    """A readable name for every leaf of `args`: the parameter name plus its key path."""
    names = errors.argument_names(fun, len(args))
    out = []
    for name, arg in zip(names, args):
        for path, _ in tree_flatten_with_path(arg)[0]:
            out.append(name + keystr(path))
    return out


def _check_args(fun: Callable[..., Any], args: Sequence[Any], leaves: Sequence[Any]) -> None:
    for i, leaf in enumerate(leaves):
        if not core.is_valid_array(leaf):
            path = _leaf_paths(fun, args)[i]
            raise TypeError(
                f"Argument {path} of {_fun_name(fun)} is a {core.value_kind(leaf)}, which is not "
                "a valid array type; pass NumPy arrays or scalars (or mark it static under jit)."
            )


def _as_array_leaf(x: Any) -> Any:
    """A result leaf as an array: a Python scalar (a weakly typed result) becomes a 0-d
    `WeakArray`, as `jit` hands it out, which `core.owned_results` keeps."""
    return as_weak_array(np.asarray(x)) if type(x) in core._PY_SCALARS else x


def _argnums_tuple(argnums: int | Sequence[int], nargs: int, fun: Callable[..., Any]) -> tuple:
    if type(argnums) is int and 0 <= argnums < nargs:  # the common case, checked at once
        return (argnums,)
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for a in nums:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"argnums must be an int or a sequence of ints, got {argnums!r}.")
        if not -nargs <= a < nargs:
            raise ValueError(
                f"argnums={argnums!r} is out of range: {_fun_name(fun)} was called with {nargs} "
                "positional arguments."
            )
    normal = tuple(int(a) % nargs for a in nums)
    if len(set(normal)) < len(normal):
        repeated = sorted({a for a in normal if normal.count(a) > 1})
        raise ValueError(
            f"argnums={argnums!r} names positional argument(s) {repeated} of {_fun_name(fun)} "
            "more than once; name each argument once (the derivative for a repeated entry "
            "would be the same)."
        )
    return normal


def _zeros_or(t: Any) -> Any:
    if type(t) is ad.Zero:
        return _as_array_leaf(np.zeros(t.aval.shape, t.aval.dtype))
    return _as_array_leaf(t)


def _linearize_leaves(
    fun: Callable[..., Any],
    primals: Sequence[Any],
    p_leaves: list[Any],
    in_tree: PyTreeDef,
    has_aux: bool,
    linearize: Callable[..., tuple[list[Any], Any]] = ad.linearize_flat,
) -> tuple[list[Any], Any, list[bool], int, PyTreeDef, Any]:
    """The forward half that `linearize` and `vjp` share: check the flattened `primals`, run
    `fun` under `ad.linearize_flat` (floating leaves differentiated), and return
    ``(out_all, linear, diff, n_out, out_tree, aux_tree)``: every output leaf (the `n_out`
    outputs, then the array leaves of aux), the linear program, which leaves were
    differentiated, and the output and aux structures. `linearize` runs the flat function
    (reverse mode passes `tape.reverse_linearize`)."""
    _check_args(fun, primals, p_leaves)
    flat_fun, store, n_out = _aux_flat_fun(fun, in_tree, has_aux)
    diff = [dtypes.is_inexact(core.get_aval(p).dtype) for p in p_leaves]
    out_all, linear = linearize(flat_fun, p_leaves, diff)
    out_tree, aux_tree = store.value
    return out_all, linear, diff, n_out.value, out_tree, aux_tree


def _aux_flat_fun(
    fun: Callable[..., Any], in_tree: PyTreeDef, has_aux: bool
) -> tuple[Callable[..., list], _Store, _Store]:
    """Flatten `fun`; with `has_aux`, its aux output is appended after the main outputs."""
    store, n_out = _Store(), _Store()

    def flat_fun(*leaves: Any) -> list[Any]:
        args = _unflatten(in_tree, leaves)
        result = fun(*args)
        if has_aux:
            if not isinstance(result, tuple | list) or len(result) != 2:
                raise TypeError(
                    f"{_fun_name(fun)} was transformed with has_aux=True, so it must return a "
                    f"pair (output, aux); it returned {_describe(result)}."
                )
            out, aux = result
        else:
            out, aux = result, None
        out_leaves, out_tree = _flatten_output(out)
        for leaf in out_leaves:
            _check_output(leaf, fun)
        n_out.value = len(out_leaves)
        if not has_aux:
            store.value = (out_tree, None)
            return out_leaves
        # Array-valued aux leaves are returned as (undifferentiated) outputs, so that traced
        # values come back as plain values; other aux leaves are passed through.
        aux_leaves, aux_tree = tree_flatten(aux)
        aux_arrays = [x for x in aux_leaves if core.is_valid_array(x)]
        store.value = (out_tree, _AuxTree(aux_tree, aux_leaves))
        return out_leaves + aux_arrays

    return flat_fun, store, n_out


class _AuxTree:
    """The structure of an aux output, and its non-array leaves."""

    __slots__ = ("treedef", "leaves")

    def __init__(self, treedef: PyTreeDef, leaves: list[Any]):
        self.treedef = treedef
        self.leaves = leaves

    def rebuild(self, array_values: Sequence[Any]) -> Any:
        # (a leaf handed back as it was, such as an argument, is a NumPy array the caller can
        # still write: it becomes an Array of its own, as every other result)
        it = iter(array_values)
        leaves = [unchanged(next(it)) if core.is_valid_array(x) else x for x in self.leaves]
        return tree_unflatten(self.treedef, leaves)
