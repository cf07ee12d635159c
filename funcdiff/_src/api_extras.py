# Over 600 lines: many small top-level functions of jax, one block each, half docstrings.
"""The smaller top-level functions of `jax` that mean something on one CPU: `eval_shape`,
`pure_callback`, the naming and device contexts, the process queries and `clear_caches`.

They sit beside `api.py` (same layer) so that the hot paths of the transformations stay apart.
"""

from __future__ import annotations

import contextlib
import functools
import platform
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import numpy as np

from funcdiff._src import core, errors
from funcdiff._src.array import CPU, Device, device_count
from funcdiff._src.config import config
from funcdiff._src.debugging import _take
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.jit import api as jit_api
from funcdiff._src.lax import shape as lax_shape
from funcdiff._src.lax import structural
from funcdiff._src.lax._define import define_primitive
from funcdiff._src.shape_dtype import ShapeDtypeStruct
from funcdiff._src.tree_util import tree_flatten, tree_unflatten

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "clear_caches",
    "default_device",
    "ensure_compile_time_eval",
    "eval_shape",
    "local_device_count",
    "named_call",
    "named_scope",
    "process_count",
    "process_index",
    "pure_callback",
]


# ---- eval_shape -----------------------------------------------------------------------------


def _aval_of(x: Any, where: str) -> core.ShapedArray:
    if isinstance(x, ShapeDtypeStruct):
        return core.ShapedArray(x.shape, x.dtype, x.weak_type)
    if core.is_valid_array(x):
        return core.get_aval(x)
    if hasattr(x, "shape") and hasattr(x, "dtype"):  # any array-like with a shape and dtype
        return core.ShapedArray(x.shape, x.dtype)
    raise TypeError(
        f"{where}: argument of type {type(x).__name__} is neither an array nor a "
        "ShapeDtypeStruct; close over Python values with functools.partial instead."
    )


def eval_shape(fun: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The shapes and dtypes of `fun(*args, **kwargs)`, found by tracing without computing.

    **Arguments:**

    - `fun`: the function; its arguments and results may be pytrees of arrays.
    - `args`, `kwargs`: arrays, or anything with `.shape` and `.dtype` (such as
      `ShapeDtypeStruct`): only their shapes and dtypes are used.

    **Returns:** a pytree shaped like `fun`'s result, with a `ShapeDtypeStruct` per array.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        x = funcdiff.ShapeDtypeStruct((1000, 1000), np.float32)
        out = funcdiff.eval_shape(lambda a: {"gram": a.T @ a, "n": jnp.sum(a > 0)}, x)
        print(out["gram"], out["n"])
        ```
    """
    errors.check_callable(fun, "eval_shape")
    leaves, in_tree = tree_flatten((args, kwargs))
    avals = [_aval_of(x, "eval_shape") for x in leaves]
    out_tree: list[Any] = []

    def flat(*xs: Any) -> list[Any]:
        a, kw = tree_unflatten(in_tree, list(xs))
        out_leaves, tree = tree_flatten(fun(*a, **kw))
        out_tree.append(tree)
        return out_leaves

    jaxpr = pe.trace_to_jaxpr(flat, avals)
    outs = [ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type) for a in jaxpr.out_avals]
    return tree_unflatten(out_tree[0], outs)


# ---- pure_callback --------------------------------------------------------------------------

_VMAP_METHODS = (None, "sequential", "expand_dims", "broadcast_all")


class _Callback:
    """The user's callback on flat NumPy arrays, checking its results against the declared
    shapes and dtypes. Compared by identity, as jit's cache compares parameters."""

    def __init__(
        self,
        fun: Callable[..., Any],
        in_tree: Any,
        result_avals: tuple[core.ShapedArray, ...],
        out_tree: Any,
    ):
        self.fun, self.in_tree, self.result_avals, self.out_tree = (
            fun,
            in_tree,
            result_avals,
            out_tree,
        )
        self.name = getattr(fun, "__name__", type(fun).__name__)

    def __call__(self, *arrays: Any) -> list[np.ndarray]:
        args, kwargs = tree_unflatten(self.in_tree, [np.asarray(a) for a in arrays])
        result = self.fun(*args, **kwargs)
        leaves, tree = tree_flatten(result)
        if tree != self.out_tree:
            raise TypeError(
                f"pure_callback: {self.name} returned a value of structure {tree}, but "
                f"result_shape_dtypes declares {self.out_tree}"
            )
        outs = []
        for i, (leaf, aval) in enumerate(zip(leaves, self.result_avals)):
            arr = np.asarray(leaf)
            if arr.shape != aval.shape or arr.dtype != aval.dtype:
                raise TypeError(
                    f"pure_callback: result {i} of {self.name} has shape {arr.shape} and dtype "
                    f"{arr.dtype}, but result_shape_dtypes declares shape {aval.shape} and "
                    f"dtype {aval.dtype}"
                )
            outs.append(arr)
        return outs

    def __repr__(self) -> str:
        return self.name


def _pure_callback_impl(
    *arrays: Any,
    callback: _Callback,
    vmap_method: str | None,
) -> list[np.ndarray]:
    return callback(*arrays)




def _pure_callback_jvp(primals, tangents, *, callback, vmap_method):
    raise ValueError(
        f"pure_callback: cannot differentiate through {callback.name}: a callback is opaque to "
        "funcdiff. Wrap the function calling pure_callback in funcdiff.custom_jvp or "
        "funcdiff.custom_vjp and give its derivative rule."
    )




def _move_to_front(v: Any, d: int | None, size: int, broadcast: bool) -> Any:
    aval = core.get_aval(v)
    if d is None:
        v = structural.expand_dims(v, (0,))
        if broadcast:
            v = structural.broadcast_to(v, (size, *aval.shape))
        return v
    if d == 0:
        return v
    perm = (d, *[i for i in range(aval.ndim) if i != d])
    return structural.transpose(v, perm)


def _one_call_per_element(p: core.Primitive, vals, dims, size: int, **params):
    """A callback primitive batched by binding it once per batch element and stacking."""
    rows = [
        p.bind(*[v if d is None else _take(v, d, b) for v, d in zip(vals, dims)], **params)
        for b in range(size)
    ]
    outs = [
        lax_shape.concatenate([structural.expand_dims(r[i], (0,)) for r in rows], 0)
        for i in range(len(params["callback"].result_avals))
    ]
    return outs, [0] * len(outs)


def _pure_callback_batch(axis_size, vals, dims, *, callback, vmap_method):
    if vmap_method is None:
        raise NotImplementedError(
            f"pure_callback: {callback.name} is called under vmap, but vmap_method was not "
            "given. Pass vmap_method='sequential' (one call per batch element), 'expand_dims' "
            "or 'broadcast_all' (one call on the whole batch; see the docstring)."
        )
    if vmap_method == "sequential":
        return _one_call_per_element(
            pure_callback_p, vals, dims, axis_size, callback=callback, vmap_method=None
        )
    broadcast = vmap_method == "broadcast_all"
    moved = [_move_to_front(v, d, axis_size, broadcast) for v, d in zip(vals, dims)]
    batched_avals = tuple(
        core.ShapedArray((axis_size, *a.shape), a.dtype) for a in callback.result_avals
    )
    inner = _Callback(callback.fun, callback.in_tree, batched_avals, callback.out_tree)
    outs = pure_callback_p.bind(*moved, callback=inner, vmap_method=vmap_method)
    return outs, [0] * len(outs)


pure_callback_p = define_primitive(
    "pure_callback", multiple_results=True, impl=_pure_callback_impl,
    abstract_eval=lambda *avals, callback, vmap_method: list(callback.result_avals),
    jvp=_pure_callback_jvp, batch=_pure_callback_batch,
    cost=cost_mod.free_cost,  # the work is done outside funcdiff
    lacks={"transpose": "its JVP rule raises, so it never appears in a linear program"},
)


def pure_callback(
    callback: Callable[..., Any],
    result_shape_dtypes: Any,
    *args: Any,
    sharding: Any = None,
    vmap_method: str | None = None,
    **kwargs: Any,
) -> Any:
    """Call a Python function on concrete NumPy arrays from inside traced code.

    The callback runs when the program runs (at call time under `jit`, not at trace time) and
    must be pure: funcdiff may drop a call whose results are unused. Its results must match
    `result_shape_dtypes` exactly (shapes, dtypes and pytree structure) or a `TypeError`
    names the mismatch. It cannot be differentiated (wrap it in `custom_jvp`/`custom_vjp`).

    **Arguments:**

    - `callback`: a Python function taking NumPy arrays (`args`, `kwargs`) and returning a
      pytree of arrays.
    - `result_shape_dtypes`: a pytree of objects with `.shape` and `.dtype` (such as
      `ShapeDtypeStruct`) describing the result.
    - `sharding`: accepted for JAX compatibility; only `None` is meaningful on one CPU.
    - `vmap_method`: how `vmap` calls it: `"sequential"` (once per batch element),
      `"expand_dims"` (once, batch axis first, unbatched arguments with a size-1 axis) or
      `"broadcast_all"` (once, every argument broadcast to the batch). With `None`,
      `vmap` raises.

    **Returns:** the callback's result, as arrays (tracers when traced).

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        def host_sort(x):
            return np.sort(x)  # any NumPy code

        @funcdiff.jit
        def f(x):
            spec = funcdiff.ShapeDtypeStruct(x.shape, x.dtype)
            return funcdiff.pure_callback(host_sort, spec, x * 2, vmap_method="sequential")

        print(f(np.array([3.0, 1.0, 2.0])))
        ```
    """
    errors.check_callable(callback, "pure_callback")
    if vmap_method not in _VMAP_METHODS:
        raise ValueError(
            f"pure_callback: vmap_method must be one of {_VMAP_METHODS}, got {vmap_method!r}"
        )
    wrapped, leaves = _wrap_callback(callback, result_shape_dtypes, args, kwargs, "pure_callback")
    outs = pure_callback_p.bind(*leaves, callback=wrapped, vmap_method=vmap_method)
    return tree_unflatten(wrapped.out_tree, outs)


def _wrap_callback(
    callback: Callable[..., Any], result_shape_dtypes: Any, args: tuple, kwargs: dict, where: str
) -> tuple[_Callback, list[Any]]:
    """The checked callback on flat arrays, and the flat array arguments."""
    spec_leaves, out_tree = tree_flatten(result_shape_dtypes)
    result_avals = tuple(_aval_of(s, f"{where} result_shape_dtypes") for s in spec_leaves)
    leaves, in_tree = tree_flatten((args, kwargs))
    for x in leaves:
        _aval_of(x, where)
    return _Callback(callback, in_tree, result_avals, out_tree), leaves


# ---- naming, devices and compile-time evaluation --------------------------------------------


@contextlib.contextmanager
def named_scope(name: str) -> Iterator[None]:
    """A name for the operations traced inside the block (JAX's `jax.named_scope`).

    JAX writes the name into the compiled program's metadata for profilers; funcdiff's
    generated NumPy code has no such metadata, so the block runs unchanged. The name must be a
    string, as in JAX.

    !!! Example
        ```python
        import funcdiff
        import funcdiff.numpy as jnp

        def layer(x):
            with funcdiff.named_scope("dense"):
                return jnp.tanh(2.0 * x)

        print(funcdiff.grad(layer)(0.0))
        ```
    """
    if not isinstance(name, str):
        raise TypeError(f"named_scope: name must be a string, got {type(name).__name__}")
    yield


def named_call(fun: F, *, name: str | None = None) -> F:
    """`fun`, with a name for the operations it traces (JAX's `jax.named_call`).

    As for `named_scope`, the name only labels the program in JAX; funcdiff returns a function
    computing exactly what `fun` computes, named `name`.

    !!! Example
        ```python
        import funcdiff
        import funcdiff.numpy as jnp

        square = funcdiff.named_call(lambda x: x * x, name="square")
        print(square.__name__, funcdiff.grad(square)(3.0))
        ```
    """
    errors.check_callable(fun, "named_call")
    if name is not None and not isinstance(name, str):
        raise TypeError(f"named_call: name must be a string, got {type(name).__name__}")

    @functools.wraps(fun)
    def named(*args: Any, **kwargs: Any) -> Any:
        return fun(*args, **kwargs)

    if name is not None:
        named.__name__ = named.__qualname__ = name
    return named  # type: ignore[return-value]


@contextlib.contextmanager
def ensure_compile_time_eval() -> Iterator[None]:
    """Compute operations on concrete values at once, even while `jit` or `make_jaxpr` trace.

    Normally everything inside a traced function is staged into the program, constants
    included. Inside this block, an operation whose inputs are all concrete (not traced) is
    evaluated immediately and gives a concrete Array, usable in Python control flow; operations
    on traced values are still traced.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        @funcdiff.jit
        def f(x):
            with funcdiff.ensure_compile_time_eval():
                n = jnp.sum(jnp.arange(4))  # concrete: 6
            return x * int(n)

        print(f(np.float64(2.0)))
        ```
    """
    state = core._state
    saved = state.dynamic
    state.dynamic = state.stack[0]
    try:
        yield
    finally:
        state.dynamic = saved


@contextlib.contextmanager
def default_device(device: Device | str | None) -> Iterator[None]:
    """Place new arrays on `device` inside the block (JAX's `jax.default_device`).

    funcdiff has one device, the CPU, so `None`, `"cpu"` and `funcdiff.devices()[0]` are
    accepted and change nothing; any other device raises `ValueError`.

    !!! Example
        ```python
        import funcdiff
        import funcdiff.numpy as jnp

        with funcdiff.default_device(funcdiff.devices("cpu")[0]):
            x = jnp.ones(3)
        print(x.devices())
        ```
    """
    if device is not None and device != "cpu" and not isinstance(device, Device):
        raise ValueError(
            f"default_device: unknown device {device!r}; funcdiff computes on one CPU ({CPU!r})"
        )
    yield


def local_device_count(backend: str | None = None) -> int:
    """The number of devices this process computes on: 1 (the CPU).

    !!! Example
        ```python
        import funcdiff

        assert funcdiff.local_device_count() == funcdiff.device_count() == 1
        ```
    """
    return device_count(backend)


def process_count(backend: str | None = None) -> int:
    """The number of processes of the computation: 1 (funcdiff runs in one process).

    !!! Example
        ```python
        import funcdiff

        assert funcdiff.process_count() == 1 and funcdiff.process_index() == 0
        ```
    """
    local_device_count(backend)  # validates the backend
    return 1


def process_index(backend: str | None = None) -> int:
    """The index of this process among `process_count()`: 0."""
    local_device_count(backend)
    return 0


def clear_caches() -> None:
    """Forget every program `jit` compiled, so the next call of each jitted function traces
    and compiles again (JAX's `jax.clear_caches`).

    !!! Example
        ```python
        import numpy as np
        import funcdiff

        f = funcdiff.jit(lambda x: x + 1)
        f(np.ones(2))
        funcdiff.clear_caches()
        assert f._cache_size() == 0
        ```
    """
    for fun in list(jit_api.live_jit_functions):
        fun.clear_cache()


# ---- configuration context managers ---------------------------------------------------------


def enable_x64(new_val: bool = True) -> contextlib.AbstractContextManager[None]:
    """A block with 64-bit types enabled (JAX's `jax.enable_x64`, for `jax_enable_x64`).

    funcdiff always keeps 64-bit types, so `True` changes nothing and `False` raises, as
    `funcdiff.config.update("jax_enable_x64", False)` does.

    !!! Example
        ```python
        import funcdiff
        import funcdiff.numpy as jnp

        with funcdiff.enable_x64():
            print(jnp.ones(2).dtype)
        ```
    """
    return config.override("jax_enable_x64", new_val)


def explain_cache_misses(new_val: bool = True) -> contextlib.AbstractContextManager[None]:
    """A block in which `jit` warns why each call traced again (which argument changed, and
    how), as the option `explain_cache_misses`.

    !!! Example
        ```python
        import warnings
        import numpy as np
        import funcdiff

        f = funcdiff.jit(lambda x: x + 1)
        f(np.ones(2))
        with funcdiff.explain_cache_misses(), warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            f(np.ones(3))
        print("changed from" in str(w[0].message))
        ```
    """
    return config.override("explain_cache_misses", new_val)


def log_compiles(new_val: bool = True) -> contextlib.AbstractContextManager[None]:
    """A block with the option `jax_log_compiles` set; accepted for JAX programs, it logs
    nothing (see `explain_cache_misses` for why a function traced again).

    !!! Example
        ```python
        import funcdiff

        with funcdiff.log_compiles():
            print(funcdiff.config.jax_log_compiles)
        ```
    """
    return config.override("jax_log_compiles", new_val)


def check_tracer_leaks(new_val: bool = True) -> contextlib.AbstractContextManager[None]:
    """A block with the option `jax_check_tracer_leaks` set. funcdiff always detects a
    leaked tracer when it is used (`UnexpectedTracerError`), so this changes nothing.

    !!! Example
        ```python
        import funcdiff

        with funcdiff.check_tracer_leaks():
            print(funcdiff.grad(lambda x: x * x)(3.0))
        ```
    """
    return config.override("jax_check_tracer_leaks", new_val)


checking_leaks = check_tracer_leaks


def default_matmul_precision(new_val: str | None) -> contextlib.AbstractContextManager[None]:
    """A block with the option `jax_default_matmul_precision` set: accepted and without
    effect, since NumPy computes products in the operands' dtype.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp
        import funcdiff

        with funcdiff.default_matmul_precision("float32"):
            print(jnp.ones((2, 2)) @ np.ones(2))
        ```
    """
    return config.override("jax_default_matmul_precision", new_val)


def numpy_rank_promotion(new_val: str) -> contextlib.AbstractContextManager[None]:
    """A block with the option `jax_numpy_rank_promotion` set. Only `"allow"` (NumPy's
    broadcasting, which funcdiff always follows) is accepted; `"warn"` and `"raise"` raise.

    !!! Example
        ```python
        import numpy as np
        import funcdiff

        with funcdiff.numpy_rank_promotion("allow"):
            print((funcdiff.numpy.ones(2) + np.ones((2, 2))).shape)
        ```
    """
    return config.override("jax_numpy_rank_promotion", new_val)


def numpy_dtype_promotion(new_val: str) -> contextlib.AbstractContextManager[None]:
    """A block with the option `jax_numpy_dtype_promotion` set. Only `"standard"` (NumPy's
    promotion, which funcdiff always follows) is accepted; `"strict"` raises.

    !!! Example
        ```python
        import numpy as np
        import funcdiff

        with funcdiff.numpy_dtype_promotion("standard"):
            print((funcdiff.numpy.ones(2, np.float32) + np.ones(2)).dtype)
        ```
    """
    return config.override("jax_numpy_dtype_promotion", new_val)


# ---- io_callback ----------------------------------------------------------------------------



def _io_callback_jvp(primals, tangents, *, callback, ordered):
    raise ValueError(
        f"io_callback: cannot differentiate through {callback.name}; wrap the function calling "
        "io_callback in funcdiff.custom_jvp or funcdiff.custom_vjp."
    )


def _io_callback_batch(axis_size, vals, dims, *, callback, ordered):
    if ordered:
        raise ValueError(
            f"io_callback: cannot vmap the ordered callback {callback.name} (as in JAX); pass "
            "ordered=False to call it once per batch element."
        )
    return _one_call_per_element(
        io_callback_p, vals, dims, axis_size, callback=callback, ordered=ordered
    )


io_callback_p = define_primitive(
    "io_callback", multiple_results=True,
    impl=lambda *arrays, callback, ordered: callback(*arrays),
    abstract_eval=lambda *avals, callback, ordered: list(callback.result_avals),
    jvp=_io_callback_jvp, batch=_io_callback_batch,
    effectful=True,  # a side effect: never removed, even with unused results
    cost=cost_mod.free_cost,
    lacks={"transpose": "its JVP rule raises, so it never appears in a linear program"},
)


def io_callback(
    callback: Callable[..., Any],
    result_shape_dtypes: Any,
    *args: Any,
    sharding: Any = None,
    ordered: bool = False,
    **kwargs: Any,
) -> Any:
    """Call a Python function with side effects on concrete NumPy arrays from traced code, as
    `jax.experimental.io_callback`.

    Unlike `pure_callback`, the call is never removed, even when its results are unused.
    Calls run in program order on funcdiff's one CPU; with `ordered=True`, `vmap` refuses the
    callback (as in JAX), otherwise `vmap` calls it once per batch element. Results must match
    `result_shape_dtypes` (a pytree of `ShapeDtypeStruct`s, or `None` for no result).

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff.experimental import io_callback

        log = []

        @funcdiff.jit
        def f(x):
            io_callback(lambda v: log.append(v.tolist()), None, x)
            return x + 1

        f(np.arange(2.0))
        print(log)
        ```
    """
    errors.check_callable(callback, "io_callback")

    def call(*a: Any, **kw: Any) -> Any:
        result = callback(*a, **kw)
        return result if result_shape_dtypes is not None else None

    wrapped, leaves = _wrap_callback(call, result_shape_dtypes, args, kwargs, "io_callback")
    wrapped.name = getattr(callback, "__name__", type(callback).__name__)
    outs = io_callback_p.bind(*leaves, callback=wrapped, ordered=bool(ordered))
    return tree_unflatten(wrapped.out_tree, outs)


def print_environment_info(return_string: bool = False) -> str | None:
    """Print (or, with `return_string`, return) the versions of funcdiff, NumPy and Python, the
    device and the platform: what a bug report needs, as `jax.print_environment_info`.

    !!! Example
        ```python
        import funcdiff

        info = funcdiff.print_environment_info(return_string=True)
        print(info.splitlines()[0].split(":")[0], "numpy" in info)
        ```
    """
    version = sys.modules["funcdiff"].__version__  # the package this module is part of
    info = "\n".join(
        [
            f"funcdiff: {version}",
            f"numpy:    {np.__version__}",
            f"python:   {sys.version}",
            f"device info: cpu-{device_count()}, {device_count()} local devices",
            "process_count: 1",
            f"platform: {platform.uname()}",
        ]
    )
    if return_string:
        return info
    print(info)
    return None
