"""Donated arguments of `jit` (JAX's ``donate_argnums``/``donate_argnames``).

Donating an argument tells JAX that the caller is done with it, so the compiled program may
write its results into the argument's buffer. funcdiff follows JAX's visible semantics:

- the numbers and names are checked against the function's signature when `jit` is called
  (out of range, unknown names, an argument both static and donated: a `ValueError`), and
  completed from each other as JAX does (a donated positional parameter is donated when
  passed by keyword too, and a donated name when passed by position, unless both
  ``donate_argnums`` and ``donate_argnames`` are given);
- after a call outside every transformation, each donated funcdiff `Array` that a result
  of the same shape and dtype (or, failing that, of the same size in bytes) could take over
  is deleted (`Array.delete`); one no result can take over is left alone, with a warning
  once per signature, as JAX leaves (and warns about) the donations it cannot use;
- a donated NumPy array or Python scalar is never changed (JAX copies such values to the
  device and donates the copy), and nothing is donated while a transformation traces the
  call (inside another `jit`, `grad`, `vmap`...), nor under `disable_jit` or `check_nans`;
- the same Array may not be donated and passed again in the same call (JAX's runtime refuses
  this too).

The generated program itself is the same as without donation: its results never share
memory with its arguments, so a deleted Array's memory is freed when its last reference
(that of the deleted Array, or of a view taken before) goes.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, errors
from funcdiff._src.array import Array, WeakArray
from funcdiff._src.tree_util import (
    keystr,
    tree_flatten,
    tree_flatten_with_path,
    tree_leaves,
    tree_map,
    tree_unflatten,
)


def _as_tuple(value: Any, kind: type, what: str) -> tuple:
    """`value` (one `kind` or an iterable of them) as a tuple; a clear `TypeError` else."""
    if isinstance(value, kind) and not isinstance(value, bool):
        return (value,)
    try:
        items = tuple(value)
    except TypeError:
        items = None
    if items is None or not all(isinstance(v, kind) and not isinstance(v, bool) for v in items):
        noun = "an int or a sequence of ints" if kind is int else "a str or a sequence of strs"
        raise TypeError(f"jit: {what} must be {noun}, got {value!r}")
    return items


def resolve_donation(
    fun: Callable[..., Any],
    donate_argnums: int | Sequence[int] | None,
    donate_argnames: str | Iterable[str] | None,
    static_argnums: tuple[int, ...],
    static_argnames: tuple[str, ...],
) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Check `donate_argnums`/`donate_argnames` against `fun`'s signature and the static
    arguments, and complete each from the other when only one is given (as JAX does)."""
    nums = () if donate_argnums is None else _as_tuple(donate_argnums, int, "donate_argnums")
    names = () if donate_argnames is None else _as_tuple(donate_argnames, str, "donate_argnames")
    name = getattr(fun, "__name__", "the function")
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):
        if names:
            raise ValueError(
                f"jit: donate_argnames={names} given, but the signature of {name} cannot be "
                "read; pass donate_argnums instead"
            ) from None
        params = None
    if params is not None:
        positional = [
            p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        by_either = [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
        has_varargs = any(p.kind is p.VAR_POSITIONAL for p in params)
        has_varkw = any(p.kind is p.VAR_KEYWORD for p in params)
        if not has_varargs:
            for n in nums:
                if not -len(positional) <= n < len(positional):
                    raise ValueError(
                        f"jit: donate_argnums={n} is out of range: {name} takes "
                        f"{len(positional)} positional argument(s) "
                        f"({', '.join(positional) or 'none'})"
                    )
        keyword_ok = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        positional_only = {p.name for p in params if p.kind is p.POSITIONAL_ONLY}
        for n in names:
            if n in positional_only or (n not in keyword_ok and not has_varkw):
                raise ValueError(
                    f"jit: donate_argnames={n!r} names no parameter of {name} that can be "
                    f"passed by keyword (its parameters: "
                    f"{', '.join(p.name for p in params) or 'none'})"
                )
        if donate_argnames is None:
            names = tuple(
                positional[n]
                for n in nums
                if 0 <= n < len(positional) and positional[n] in by_either
            )
        elif donate_argnums is None:
            nums = tuple(positional.index(n) for n in names if n in by_either)
    negative = [n for n in nums if n < 0]
    if negative:
        warnings.warn(
            f"jit: donate_argnums={negative} donate nothing: JAX accepts negative "
            "donate_argnums but never donates them, and funcdiff does the same (the "
            "argument is not deleted); count positions from 0 to donate it",
            stacklevel=3,
        )
    both = [_name_of(fun, n) for n in sorted(set(nums) & set(static_argnums))]
    both += [repr(n) for n in names if n in static_argnames]
    if both:
        raise ValueError(
            f"jit: argument {both[0]} is both static (static_argnums/static_argnames) and "
            "donated (donate_argnums/donate_argnames): a static argument is a Python value, "
            "with no buffer to donate"
        )
    return tuple(sorted(set(nums))), tuple(dict.fromkeys(names))


def _name_of(fun: Callable[..., Any], i: int) -> str:
    params = errors.positional_names(fun)
    return f"{params[i]!r} (position {i})" if 0 <= i < len(params) else f"at position {i}"


_LEAF_TYPES = frozenset((Array, WeakArray, np.ndarray, *core._PY_SCALARS))


def split_leaves(
    args: tuple,
    kwargs: dict,
    positions: frozenset[int],
    names: tuple[str, ...],
    static_positions: frozenset[int],
    static_names: tuple[str, ...],
) -> tuple[list[tuple[Any, int, Any]], list[tuple[Any, int, Any]]]:
    """The donated and the other dynamic argument leaves of a call, each as ``(argument,
    k, leaf)``: the argument's position or keyword, and the leaf's index in it."""
    donated: list[tuple[Any, int, Any]] = []
    others: list[tuple[Any, int, Any]] = []
    for i, a in enumerate(args):
        if i not in static_positions:
            dest = donated if i in positions else others
            if type(a) in _LEAF_TYPES:  # (the common case: an array, no pytree to flatten)
                dest.append((i, 0, a))
            else:
                dest.extend((i, k, x) for k, x in enumerate(tree_leaves(a)))
    for key, v in kwargs.items():
        if key not in static_names:
            dest = donated if key in names else others
            dest.extend((key, k, x) for k, x in enumerate(tree_leaves(v)))
    return donated, others


def describe(arg: Any, k: int, args: tuple, kwargs: dict, param_names: list[str]) -> str:
    """The readable name of leaf `k` of argument `arg` (a position or a keyword):
    ``params['w']``."""
    if isinstance(arg, str):
        head, value = arg, kwargs[arg]
    else:
        head = param_names[arg] if arg < len(param_names) else f"args[{arg}]"
        value = args[arg]
    return head + keystr(tree_flatten_with_path(value)[0][k][0])


def check_distinct(
    donated: list[tuple[Any, int, Any]],
    others: list[tuple[Any, int, Any]],
    name: Callable[[Any, int], str],
) -> None:
    """A donated Array may be passed once only: its buffer is handed over. `name(arg, k)`
    names a leaf in the messages."""
    seen: dict[int, tuple[Any, int]] = {}
    for arg, k, x in donated:
        if isinstance(x, Array):
            if id(x) in seen:
                raise ValueError(
                    f"jit: the same Array is donated twice, as argument {name(*seen[id(x)])} "
                    f"and as argument {name(arg, k)}: a buffer can be donated once; pass a "
                    "copy (jnp.array(x)) as one of them"
                )
            seen[id(x)] = (arg, k)
    for arg, k, x in others:
        if id(x) in seen and isinstance(x, Array):
            raise ValueError(
                f"jit: the Array donated as argument {name(*seen[id(x)])} is also passed as "
                f"argument {name(arg, k)}, which is not donated: a donated buffer cannot be "
                "read by the same call; pass a copy (jnp.array(x)) as one of them, or do not "
                "donate it"
            )


def _shape_dtype(x: Any) -> tuple[tuple[int, ...], np.dtype] | None:
    if isinstance(x, np.ndarray):
        return x.shape, x.dtype
    if isinstance(x, np.generic) or type(x) in core._PY_SCALARS:
        aval = core.get_aval(x)
        return aval.shape, aval.dtype
    shape, dtype = getattr(x, "shape", None), getattr(x, "dtype", None)
    if shape is None or dtype is None:
        return None
    try:
        shape, dtype = tuple(shape), np.dtype(dtype)
    except TypeError:
        return None
    # (a lazy array of another library may not know its shape yet)
    return (shape, dtype) if all(isinstance(d, int | np.integer) for d in shape) else None


def _nbytes(shape_dtype: tuple[tuple[int, ...], np.dtype]) -> int:
    shape, dtype = shape_dtype
    return math.prod(shape) * dtype.itemsize


def consume(
    donated: list[tuple[Any, int, Any]], outs: list[Any], name: Callable[[Any, int], str]
) -> list[str]:
    """Delete the donated Arrays whose buffers a result could take over, pairing each donated
    leaf in order with a result not yet taken: first one of the same shape and dtype, then
    one of the same size in bytes (as JAX pairs donations on the CPU). Returns the donated
    leaves no result could take, as ``name (dtype[shape])``, which are left alone (`name`
    as for `check_distinct`)."""
    free: dict[Any, list[int]] = {}  # the results not taken yet, by shape and dtype
    for j, o in enumerate(outs):
        sd = _shape_dtype(o)
        if sd is not None:
            free.setdefault(sd, []).append(j)
    pending = []
    for arg, k, x in donated:
        sd = _shape_dtype(x)
        if sd is None:
            continue
        same = free.get(sd)
        if same:
            same.pop(0)
            if isinstance(x, Array):
                x.delete()
        else:
            pending.append((arg, k, x, sd))
    unusable = []
    for arg, k, x, sd in pending:
        nbytes = _nbytes(sd)
        taken = min((js[0] for o, js in free.items() if js and _nbytes(o) == nbytes), default=None)
        if taken is None:
            unusable.append(f"{name(arg, k)} ({core.ShapedArray(*sd).str_short()})")
            continue
        for js in free.values():
            if js and js[0] == taken:
                js.pop(0)
        if isinstance(x, Array):
            x.delete()
    return unusable


class ArgInfo:
    """One array argument of a lowered call, as `jax.stages.ArgInfo`: its `shape`, `dtype`
    and whether it is `donated`. `jit(f).lower(*args).args_info` holds one per argument
    leaf.

    !!! Example
        ```python
        import numpy as np
        import funcdiff

        f = funcdiff.jit(lambda x, n, y: x * n + y, static_argnums=1, donate_argnums=0)
        (x,), kwargs = f.lower(np.ones(3), 2, y=np.float32(1.0)).args_info
        print(x.shape, x.dtype, x.donated, kwargs["y"].dtype, kwargs["y"].donated)
        ```
        ```text
        (3,) float64 True float32 False
        ```
    """

    __slots__ = ("_aval", "donated")

    def __init__(self, aval: core.ShapedArray, donated: bool):
        self._aval = aval
        self.donated = donated

    @property
    def shape(self) -> tuple[int, ...]:
        return self._aval.shape

    @property
    def dtype(self) -> np.dtype:
        return self._aval.dtype

    def __repr__(self) -> str:
        return f"ArgInfo(_aval={self._aval!r}, donated={self.donated})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, ArgInfo) and self._aval == other._aval
                and self.donated == other.donated)

    def __hash__(self) -> int:
        return hash((self._aval, self.donated))


def args_info(
    args: tuple,
    kwargs: dict,
    avals: Sequence[core.ShapedArray],
    static: tuple[frozenset[int], tuple[str, ...]],
    donated: tuple[frozenset[int], tuple[str, ...]],
) -> tuple[tuple, dict]:
    """JAX's ``args_info`` of a call: the pytree ``(args, kwargs)`` without the static
    arguments, each leaf an `ArgInfo`. `avals` are the traced program's inputs, in the order
    of the leaves of that pytree."""
    flags = (
        tuple(tree_map(lambda _, d=i in donated[0]: d, a)
              for i, a in enumerate(args) if i not in static[0]),
        {k: tree_map(lambda _, d=k in donated[1]: d, v)
         for k, v in kwargs.items() if k not in static[1]},
    )
    leaves, tree = tree_flatten(flags)
    if len(leaves) != len(avals):  # (an internal invariant: one traced input per leaf)
        raise AssertionError(f"args_info: {len(leaves)} leaves for {len(avals)} inputs")
    return tree_unflatten(tree, [ArgInfo(a, d) for a, d in zip(avals, leaves)])


__all__ = [
    "ArgInfo",
    "args_info",
    "check_distinct",
    "consume",
    "describe",
    "resolve_donation",
    "split_leaves",
]
