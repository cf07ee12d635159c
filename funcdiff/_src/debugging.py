"""`funcdiff.debug.print`: print concrete values from inside jit, grad and vmap."""

from __future__ import annotations

import builtins
import logging
import os
import pdb
import sys
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.lax import indexing
from funcdiff._src.lax._define import define_primitive
from funcdiff._src.tree_util import tree_flatten, tree_unflatten


def _print_impl(*arrays: Any, fmt: str, tree: Any, static: tuple) -> list[Any]:
    it = iter(arrays)
    leaves = [next(it) if s is _ARRAY else s for s in static]
    args, kwargs = tree_unflatten(tree, leaves)
    builtins.print(fmt.format(*args, **kwargs))
    return []


class _ArrayMarker:
    def __repr__(self) -> str:
        return "<array>"


_ARRAY = _ArrayMarker()


def _print_jvp(primals, tangents, *, fmt, tree, static):
    debug_print_p.bind(*primals, fmt=fmt, tree=tree, static=static)  # the primal values
    return [], []


def _print_batch(axis_size, vals, dims, *, fmt, tree, static):
    # One line per batch element, as the unbatched function would print.
    for b in range(axis_size):
        sliced = [v if d is None else _take(v, d, b) for v, d in zip(vals, dims)]
        debug_print_p.bind(*sliced, fmt=fmt, tree=tree, static=static)
    return [], []


def _take(v: Any, d: int, b: int) -> Any:
    ndim = core.get_aval(v).ndim
    dims = [-1] * ndim
    dims[d] = 0
    return indexing.gather(v, [np.asarray(b)], dims)


debug_print_p = define_primitive(
    "debug_print", multiple_results=True, impl=_print_impl,
    abstract_eval=lambda *avals, fmt, tree, static: [], jvp=_print_jvp, batch=_print_batch,
    effectful=True,  # no pass may remove it
    cost=cost_mod.free_cost,  # printing moves no array data
    lacks={"transpose": "it has no outputs, so it never appears in a linear program"},
)


def print(fmt: str, *args: Any, **kwargs: Any) -> None:  # noqa: A001
    """Print ``fmt.format(*args, **kwargs)`` with the concrete values of `args`, also inside
    `jit` (at run time, not at trace time), `grad` (the primal values) and `vmap` (one line
    per batch element).

    !!! Example
        ```python
        import funcdiff
        import funcdiff.numpy as jnp

        @funcdiff.jit
        def f(x):
            y = jnp.sin(x)
            funcdiff.debug.print("y = {y:.3f}", y=y)
            return y * 2

        f(1.0)  # prints y = 0.841
        ```
    """
    leaves, tree = tree_flatten((args, kwargs))
    arrays = [x for x in leaves if core.is_valid_array(x)]
    static = tuple(_ARRAY if core.is_valid_array(x) else x for x in leaves)
    debug_print_p.bind(*arrays, fmt=fmt, tree=tree, static=static)


# ---- debug.callback -------------------------------------------------------------------------



def _callback_impl(*arrays: Any, callback: Any, tree: Any, static: tuple) -> list[Any]:
    it = iter(arrays)
    leaves = [np.asarray(next(it)) if s is _ARRAY else s for s in static]
    args, kwargs = tree_unflatten(tree, leaves)
    callback(*args, **kwargs)
    return []


def _callback_jvp(primals, tangents, **params):
    debug_callback_p.bind(*primals, **params)  # the primal values
    return [], []


def _callback_batch(axis_size, vals, dims, **params):
    for b in range(axis_size):
        debug_callback_p.bind(
            *[v if d is None else _take(v, d, b) for v, d in zip(vals, dims)], **params
        )
    return [], []


debug_callback_p = define_primitive(
    "debug_callback", multiple_results=True, impl=_callback_impl,
    abstract_eval=lambda *avals, callback, tree, static: [], jvp=_callback_jvp,
    batch=_callback_batch, effectful=True, cost=cost_mod.free_cost,
    lacks={"transpose": "it has no outputs, so it never appears in a linear program"},
)


def callback(
    callback: Any, *args: Any, ordered: bool = False, partitioned: bool = False, **kwargs: Any
) -> None:
    """Call `callback(*args, **kwargs)` for its side effect, with the concrete values of the
    array arguments as NumPy arrays, also inside `jit` (at run time), `grad` (the primal
    values) and `vmap` (once per batch element), as `jax.debug.callback`.

    The call is never removed, even though it returns nothing. Calls run in program order on
    funcdiff's one CPU, so `ordered` changes nothing; `partitioned` is accepted for JAX
    compatibility.

    !!! Example
        ```python
        import numpy as np
        import funcdiff

        seen = []

        @funcdiff.jit
        def f(x):
            funcdiff.debug.callback(lambda v: seen.append(float(v.sum())), x)
            return x * 2

        f(np.arange(3.0))
        print(seen)
        ```
    """
    if not callable(callback):
        raise TypeError(f"debug.callback: callback must be callable, got {type(callback).__name__}")
    leaves, tree = tree_flatten((args, kwargs))
    arrays = [x for x in leaves if core.is_valid_array(x)]
    static = tuple(_ARRAY if core.is_valid_array(x) else x for x in leaves)
    debug_callback_p.bind(*arrays, callback=callback, tree=tree, static=static)


# ---- debug.breakpoint -----------------------------------------------------------------------


def breakpoint(  # noqa: A001
    *,
    backend: str | None = None,
    filter_frames: bool = True,
    num_frames: int | None = None,
    ordered: bool = False,
    token: Any = None,
    **kwargs: Any,
) -> None:
    """Stop in Python's debugger (`pdb`) at the caller's line, in eager code: the caller's
    arrays are concrete there. Under `jit`, `grad` or `vmap` the values are being traced, and
    JAX's debugger that shows them at run time does not exist in funcdiff: it raises a
    `NotImplementedError` there (use `debug.print` or `debug.callback`, which run inside
    transformations). As `builtins.breakpoint`, it does nothing when the environment variable
    ``PYTHONBREAKPOINT`` is ``0``. The other arguments are accepted for JAX compatibility.

    !!! Example
        ```python
        import funcdiff

        def f(x):
            funcdiff.debug.breakpoint()
            return x * 2

        try:
            funcdiff.jit(f)(1.0)
        except NotImplementedError as e:
            print(str(e).splitlines()[0])
        ```
    """
    if len(core._state.stack) > 1 or core._state.dynamic.level:
        raise NotImplementedError(
            "debug.breakpoint works in eager code only: under jit, grad or vmap the values are "
            "traced. Print them with funcdiff.debug.print, or inspect them with "
            "funcdiff.debug.callback, which run inside transformations; or call the function "
            "eagerly (funcdiff.disable_jit())." + core._at_user_line()
        )
    if os.environ.get("PYTHONBREAKPOINT") == "0":
        return
    pdb.Pdb().set_trace(sys._getframe(1))


# ---- debug.log ------------------------------------------------------------------------------

logger = logging.getLogger("funcdiff.debug")


class _LogFormatted:
    """The callback of one `debug.log` call: formats and logs its values (hashable by its
    format string, so that equal calls stage equal programs)."""

    __slots__ = ("fmt",)

    def __init__(self, fmt: str):
        self.fmt = fmt

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        logger.info(self.fmt.format(*args, **kwargs))

    def __eq__(self, other: object) -> bool:
        return type(other) is _LogFormatted and other.fmt == self.fmt

    def __hash__(self) -> int:
        return hash((_LogFormatted, self.fmt))


def log(
    fmt: str, *args: Any, ordered: bool = False, partitioned: bool = False, **kwargs: Any
) -> None:
    """`debug.print` through Python's `logging`: ``fmt.format(*args, **kwargs)`` with the
    concrete values of `args`, logged at level INFO on the logger ``"funcdiff.debug"``
    (also inside `jit` at run time, under `grad` with the primal values and under `vmap`
    once per batch element), as `jax.debug.log` does on JAX's logger. `ordered` and
    `partitioned` are accepted for JAX compatibility (calls run in program order).

    !!! Example
        ```python
        import logging
        import funcdiff
        import funcdiff.numpy as jnp

        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
        funcdiff.jit(lambda x: funcdiff.debug.log("sum = {s}", s=jnp.sum(x)))(jnp.ones(3))
        ```
    """
    callback(_LogFormatted(fmt), *args, **kwargs)
