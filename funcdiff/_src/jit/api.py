"""`jit`: trace once per abstract signature, optimise the IR, generate NumPy code, cache it.

A call whose arguments are plain arrays looks up the compiled program for their signature and
runs it. A call on traced values (inside `grad`, `jvp`, `vmap` or another `jit`) binds the
`jit` primitive instead, which keeps the function one unit under every transformation: its
JVP, partial-evaluation and transpose rules (`primitive.py`) produce new jitted programs.
The cache key of a call is made in `signature.py`.
"""

from __future__ import annotations

import functools
import threading
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, errors
from funcdiff._src.array import Array, WeakArray, as_array, as_weak_array
from funcdiff._src.config import config, jit_flags
from funcdiff._src.core import ClosedJaxpr, Tracer
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.jit import backends, cache, donation, lowering
from funcdiff._src.jit.primitive import jit_p
from funcdiff._src.jit.signature import (
    _SCALAR_TYPES,
    _describe,
    _fast_signature,
    _foreign_signature,
    _hashable,
    _readable_path,
    _resolve_static,
    _signature,
)
from funcdiff._src.lax import _jaxprs as jaxprs
from funcdiff._src.lax import simplify_rules as _simplify_rules  # noqa: F401  (fills passes' tables)
from funcdiff._src.shape_dtype import placeholders
from funcdiff._src.tree_util import tree_flatten, tree_flatten_with_path, tree_unflatten

_compiled = cache.compiled

# Read on every call (both objects live as long as the process).
_flags, _trace_state = core.flags, core._state
_LEAF = tree_flatten(0)[1]


class _FastCall:
    """The fast path of one signature of plain positional arguments: the compiled program
    (which, when funcdiff Arrays are among the arguments, first unwraps them to the plain
    NumPy views that the generated code computes on) and how to hand out its results."""

    __slots__ = ("fn", "program", "single_output", "out_tree", "scalar_type", "dtype", "array")

    def __init__(self, entry: _Entry, unwrap: bool):
        fn = entry.fn
        if unwrap:

            def unwrapping(*args: Any) -> Any:
                return fn(*[a.view(np.ndarray) if isinstance(a, Array) else a for a in args])

        self.fn = unwrapping if unwrap else fn
        self.program, self.single_output, self.out_tree = (
            entry.program,
            entry.single_output,
            entry.out_tree,
        )
        # A single 0-d numeric result comes back as a NumPy scalar of this type: it is made a
        # 0-d Array on the spot, without `as_array`'s dispatch on types (a scalar function
        # called in a loop pays for every step of its call).
        aval = entry.jaxpr.out_avals[0] if entry.single_output else None
        numeric = aval is not None and aval.ndim == 0 and aval.dtype.kind in "biufc"
        self.scalar_type = aval.dtype.type if numeric else None
        self.dtype = aval.dtype if numeric else None
        # The 0-d Array made of it: a WeakArray when the result is weakly typed.
        self.array = WeakArray if numeric and aval.weak_type else Array
        if entry.weak_outs and not numeric:
            self.fn = _weak_outputs(self.fn, entry.weak_outs)


class _Entry:
    """One traced signature: the jaxpr, its form for binding the jit primitive (closed-over
    traced values as leading inputs, converted once), and the compiled program."""

    __slots__ = (
        "jaxpr",
        "call_jaxpr",
        "closed_over",
        "program",
        "fn",
        "out_tree",
        "single_output",
        "backend",
        "weak_outs",
    )

    def __init__(self, jaxpr: ClosedJaxpr, program: lowering.CompiledProgram | None, out_tree):
        self.jaxpr = jaxpr
        self.closed_over, self.call_jaxpr = jaxprs.closure_convert(jaxpr)
        self.program = program
        self.fn = None
        self.out_tree = out_tree
        self.single_output = out_tree.num_leaves == 1 and out_tree == _LEAF
        self.backend: Any = None  # a `backends.Backend`, or None for NumPy
        # The weakly typed results: handed out as WeakArrays, as eager funcdiff would.
        self.weak_outs = tuple(i for i, a in enumerate(jaxpr.out_avals) if a.weak_type)


def _weak_outputs(fn: Callable[..., Any], weak: tuple[int, ...]) -> Callable[..., Any]:
    """`fn` (a compiled program) with its results at the positions `weak` as WeakArrays."""

    def weak_results(*args: Any) -> Any:
        outs = list(fn(*args))
        for i in weak:
            outs[i] = as_weak_array(outs[i])
        return outs

    return weak_results


class Lowered:
    """The result of `jit(f).lower(*args)`: the optimised IR and the generated code.
    `args_info` is JAX's pytree ``(args, kwargs)`` of the call's arguments, static ones
    left out, each array leaf an `ArgInfo` (``.shape``, ``.dtype``, ``.donated``)."""

    def __init__(
        self, jaxpr: ClosedJaxpr, optimized: ClosedJaxpr, program: lowering.CompiledProgram,
        args_info: Any = None,
    ):
        self.jaxpr = jaxpr
        self.optimized = optimized
        self.program = program
        self.args_info = args_info

    def as_text(self) -> str:
        """The optimised IR, as a jaxpr listing."""
        return str(self.optimized)

    def as_python(self) -> str:
        """The generated NumPy source, one line per operation."""
        return self.program.as_python()

    def compile(self) -> lowering.CompiledProgram:
        return self.program


class Traced:
    """The result of `jit(f).trace(*args)`: the program traced for these arguments (JAX's
    ahead-of-time stage before lowering). `jaxpr` is the IR as traced, before optimisation;
    `lower()` optimises and compiles it; `args_info` is as `Lowered.args_info`."""

    def __init__(self, fun: JitFunction, args: tuple, kwargs: dict, jaxpr: ClosedJaxpr):
        self.jaxpr = jaxpr
        self.args_info = fun._args_info(args, kwargs, jaxpr)
        self._fun, self._args, self._kwargs = fun, args, kwargs

    def lower(self) -> Lowered:
        return self._fun.lower(*self._args, **self._kwargs)


# Every live jitted function, for `clear_caches`.
live_jit_functions: weakref.WeakSet[JitFunction] = weakref.WeakSet()


class JitFunction:
    """A function compiled by `jit`. Call it like the original function."""

    def __init__(
        self,
        fun: Callable[..., Any],
        static_argnums: tuple[int, ...],
        static_argnames: tuple[str, ...],
        cache_size: int,
        backend: Any = None,
    ):
        live_jit_functions.add(self)
        self.fun = fun
        self.backend = backend  # a `backends.Backend` named with `jit(..., backend=)`
        self.static_argnums = static_argnums
        self.static_argnames = static_argnames
        self._static_set = frozenset(static_argnums)
        self._negative_static = any(n < 0 for n in static_argnums)
        self._cache: OrderedDict[Any, _Entry] = OrderedDict()
        # Compiled entries by the signatures of plain positional array arguments, and for
        # calls with one scalar argument (whose type fixes its signature) by its type.
        self._fast: dict[tuple, _FastCall] = {}
        self._fast_by_type: dict[type, _FastCall] = {}
        self._cache_limit = cache_size
        self._lock = threading.Lock()
        self.trace_count = 0
        self._last_key: Any = None
        self._param_names = errors.positional_names(fun)
        # Copy the name and docs only: `update_wrapper` would also copy `fun.__dict__`, which
        # for another JitFunction (or a function wrapping one) holds its cache and `fun`.
        functools.update_wrapper(self, fun, updated=())
        if not hasattr(self, "__name__"):  # a functools.partial or a callable object
            self.__name__ = getattr(getattr(fun, "func", fun), "__name__", type(fun).__name__)
        self.fun = fun

    def _static_positions(self, nargs: int) -> frozenset[int]:
        """`static_argnums` for a call with `nargs` positional arguments (negative numbers
        count from the end of the call's arguments, as in JAX)."""
        if self._negative_static:
            return frozenset(n + nargs if n < 0 else n for n in self.static_argnums)
        return self._static_set

    def _split_args(self, args: tuple, kwargs: dict) -> tuple[list, dict, tuple]:
        static = []
        dyn_args = []
        positions = self._static_positions(len(args))
        for i, a in enumerate(args):
            if i in positions:
                static.append((i, _hashable(a, f"argument {i}")))
            else:
                dyn_args.append(a)
        dyn_kwargs = {}
        for k, v in kwargs.items():
            if k in self.static_argnames:
                static.append((k, _hashable(v, f"argument {k!r}")))
            else:
                dyn_kwargs[k] = v
        return dyn_args, dyn_kwargs, tuple(static)

    def _key(self, args: tuple, kwargs: dict) -> tuple[Any, list[Any], Any]:
        dyn_args, dyn_kwargs, static = self._split_args(args, kwargs)
        leaves, in_tree = tree_flatten((dyn_args, dyn_kwargs))
        sig = []
        for k, x in enumerate(leaves):
            if type(x) is WeakArray:  # traced as weakly typed, computed on as a plain array
                item = x.item() if not x.ndim else None
                if type(item) in core._PY_SCALAR_TYPES and np.asarray(item).dtype == x.dtype:
                    # a weak scalar is a Python scalar in the generated code
                    leaves[k] = item
                    sig.append(_signature(item))
                    continue
                leaves[k] = x.view(np.ndarray)
                sig.append((x.shape, x.dtype, WeakArray))
                continue
            if type(x) is not np.ndarray and isinstance(x, np.ndarray):
                # A subclass (np.matrix, a masked array) computes as a plain array: `*` of
                # matrices would otherwise be a matrix product in the generated code.
                x = leaves[k] = x.view(np.ndarray)
            s = _signature(x)
            if s is None:
                s = _foreign_signature(x)
            if s is None:
                self._bad_leaf(dyn_args, dyn_kwargs, x)
            sig.append(s)
        return (in_tree, tuple(sig), static), leaves, in_tree

    def _bad_leaf(self, dyn_args, dyn_kwargs, leaf) -> None:
        for path, x in tree_flatten_with_path((dyn_args, dyn_kwargs))[0]:
            if x is leaf:
                where = _readable_path(path, self._param_names, self.static_argnums)
                raise TypeError(
                    f"jit: argument {where} of type {core.value_kind(leaf)} is not an array of "
                    "numbers; pass NumPy arrays or scalars (of a bool, integer, float or complex "
                    "dtype), or mark it with static_argnums/static_argnames."
                )
        raise TypeError(f"jit: invalid argument of type {type(leaf).__name__}")

    def _trace(self, key: Any, args: tuple, kwargs: dict, leaves: list, in_tree) -> _Entry:
        static = {k: v for k, (_, v) in key[2]}

        def flat_fun(*flat: Any) -> list[Any]:
            dyn_args, dyn_kwargs = tree_unflatten(in_tree, flat)
            it = iter(dyn_args)
            full = [static[i] if i in static else next(it) for i in range(len(args))]
            kw = {**dyn_kwargs, **{k: v for k, v in static.items() if isinstance(k, str)}}
            out = self.fun(*full, **kw)
            out_leaves, store[0] = tree_flatten(out)
            for leaf in out_leaves:
                if not core.is_valid_array(leaf):
                    raise TypeError(
                        f"jit: {getattr(self.fun, '__name__', 'the function')} returned a "
                        f"{core.value_kind(leaf)}, which is not an array."
                    )
            return out_leaves

        for x in leaves:  # (a string, object or datetime array: not traced, as in JAX)
            if isinstance(x, np.ndarray | np.generic) and not core.is_valid_array(x):
                self._bad_leaf(*self._split_args(args, kwargs)[:2], x)
        store: list[Any] = [None]
        foreign = any(len(s) == 3 and s[2] is not Array and s[2] is not WeakArray
                      for s in key[1])
        avals = [
            backends.aval_of(x) if foreign and backends.is_foreign(x)
            else core.get_aval(x).update(weak_type=True) if len(s) == 3 and s[2] is WeakArray
            else core.get_aval(x)
            for x, s in zip(leaves, key[1])
        ]
        with cache.gc_paused():
            jaxpr = pe.trace_to_jaxpr(flat_fun, avals)
        # Closed-over traced values (from an outer transformation) become explicit inputs.
        self.trace_count += 1
        entry = _Entry(jaxpr, None, store[0])
        entry.backend = self.backend or (backends.detect(leaves) if foreign else None)
        return entry

    def _lookup(self, args: tuple, kwargs: dict) -> tuple[_Entry, list[Any]]:
        key, leaves, in_tree = self._key(args, kwargs)
        entry = self._cache.get(key)
        if entry is not None:
            return entry, leaves
        with self._lock:
            entry = self._cache.get(key)
            if entry is None:
                if config.read("explain_cache_misses") and self._cache:
                    self._explain_miss(key)
                entry = self._trace(key, args, kwargs, leaves, in_tree)
                if entry.closed_over:
                    # The function closed over values traced by an outer transformation: this
                    # program belongs to that one call, and is traced again next time.
                    return entry, leaves
                self._cache[key] = entry
                while len(self._cache) > self._cache_limit:
                    self._cache.popitem(last=False)
                    self._fast.clear()
                    self._fast_by_type.clear()
        return entry, leaves

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Fast path: positional array arguments, nothing being traced. (With static arguments
        # the fast tables stay empty.)
        if not (kwargs or jit_flags.disable_jit or _flags.check_nans or _trace_state.dynamic.level):
            fast = self._fast_by_type.get(type(args[0])) if len(args) == 1 else None
            if fast is None:
                fast = self._fast.get(tuple(map(_fast_signature, args)))
            if fast is not None:
                try:
                    outs = fast.fn(*args)
                except Exception as e:
                    lowering._annotate(e, fast.program)
                    raise
                if fast.single_output:
                    out = outs[0]
                    if type(out) is fast.scalar_type:  # as `as_array` does, more directly
                        return fast.array((), fast.dtype, out)
                    return as_array(out)
                return tree_unflatten(fast.out_tree, [as_array(o) for o in outs])
        if jit_flags.disable_jit:
            return self.fun(*args, **kwargs)
        entry, leaves = self._lookup(args, kwargs)
        jaxpr = entry.jaxpr
        if (
            entry.closed_over
            or core._state.dynamic.level
            or any(isinstance(x, Tracer) for x in leaves)
            or jaxprs.in_named_vmap(jaxpr)  # (runs equation by equation: `jaxprs.call`)
        ):
            outs = jit_p.bind(
                *entry.closed_over, *leaves, jaxpr=entry.call_jaxpr, name=self.__name__
            )
            return tree_unflatten(entry.out_tree, outs)
        if entry.backend is not None:
            return _call_on_backend(entry, leaves)
        if _flags.check_nans:  # run equation by equation, checking every result
            outs = core.eval_jaxpr(jaxpr.jaxpr, jaxpr.consts, *leaves)
            return tree_unflatten(entry.out_tree, core.owned_results(outs, leaves))
        if entry.program is None:
            entry.program = _compiled(jaxpr)
            entry.fn = entry.program.fn
        # (A program with collectives never takes the fast path, which runs it compiled:
        # called again inside a vmap naming their axes, it must run there.)
        if (not kwargs and not self.static_argnums and len(leaves) == len(args)
                and not jaxprs.axis_names(jaxpr)):
            sig = tuple(map(_fast_signature, args))
            if None not in sig and sig not in self._fast:
                fast = self._fast[sig] = _FastCall(entry, any(len(s) == 3 for s in sig))
                if len(args) == 1 and type(args[0]) in _SCALAR_TYPES:
                    self._fast_by_type[type(args[0])] = fast
        if entry.weak_outs:
            outs = _weak_outputs(entry.program, entry.weak_outs)(*leaves)
        else:
            outs = entry.program(*leaves)
        return tree_unflatten(entry.out_tree, [as_array(o) for o in outs])

    def trace(self, *args: Any, **kwargs: Any) -> Traced:
        """Trace for these arguments without running: `.jaxpr` is the traced program.
        `ShapeDtypeStruct`s may stand for array arguments."""
        args, kwargs = placeholders((args, kwargs))
        entry, _ = self._lookup(args, kwargs)
        return Traced(self, args, kwargs, entry.jaxpr)

    def lower(self, *args: Any, **kwargs: Any) -> Lowered:
        """Trace and compile for these arguments; inspect the IR and the generated code.
        `ShapeDtypeStruct`s may stand for array arguments."""
        args, kwargs = placeholders((args, kwargs))
        entry, _ = self._lookup(args, kwargs)
        if entry.backend is not None:
            program = backends.compiled(entry.jaxpr, entry.backend)
        else:
            program = _compiled(entry.jaxpr)
        return Lowered(entry.jaxpr, program.jaxpr, program,
                       self._args_info(args, kwargs, entry.jaxpr))

    def _args_info(self, args: tuple, kwargs: dict, jaxpr: ClosedJaxpr) -> Any:
        static = (self._static_positions(len(args)), self.static_argnames)
        donated = getattr(self, "_donated_positions", frozenset())
        names = getattr(self, "donate_argnames", ())
        return donation.args_info(args, kwargs, jaxpr.in_avals, static, (donated, names))

    def _cache_size(self) -> int:
        return len(self._cache)

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()
            self._fast.clear()
            self._fast_by_type.clear()

    def _explain_miss(self, key: Any) -> None:
        in_tree, sig, static = key
        best = next(reversed(self._cache))
        o_tree, o_sig, o_static = best
        reasons = []
        if o_tree != in_tree:
            reasons.append(f"the argument structure changed from {o_tree} to {in_tree}")
        elif o_static != static:
            for (k, (old_key, old)), (_, (new_key, new)) in zip(o_static, static):
                if old_key != new_key:
                    reasons.append(
                        f"static argument {self._name_of(k)} changed from {old!r} to {new!r}"
                    )
        else:
            for i, (old, new) in enumerate(zip(o_sig, sig)):
                if old != new:
                    reasons.append(
                        f"argument leaf {self._leaf_name(in_tree, i)} changed from "
                        f"{_describe(old)} to {_describe(new)}"
                    )
        warnings.warn(
            f"jit of {self.__name__}: cache miss ({self._cache_size()} compiled version(s) "
            "exist) because " + "; ".join(reasons or ["of a new argument signature"]),
            stacklevel=4,
        )

    def _name_of(self, k: Any) -> str:
        if isinstance(k, str):
            return repr(k)
        names = self._param_names
        return repr(names[k]) if k < len(names) else f"#{k}"

    def _leaf_name(self, in_tree, i: int) -> str:
        dummy = tree_unflatten(in_tree, list(range(in_tree.num_leaves)))
        for path, leaf in tree_flatten_with_path(dummy)[0]:
            if leaf == i:
                return _readable_path(path, self._param_names, self.static_argnums)
        return f"#{i}"

    def __repr__(self) -> str:
        return f"<jit-compiled {getattr(self.fun, '__qualname__', self.fun)!s}>"

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return self
        return functools.partial(self, obj)


def _call_on_backend(entry: _Entry, leaves: list[Any]) -> Any:
    """Run `entry` compiled for its Array API namespace; results stay that namespace's arrays
    (lazy ones for Dask)."""
    if entry.fn is None:
        entry.program = backends.compiled(entry.jaxpr, entry.backend)
        entry.fn = backends.caller(entry.program, entry.backend)
    try:
        outs = entry.fn(*leaves)
    except Exception as e:
        lowering._annotate(e, entry.program)
        raise
    return tree_unflatten(entry.out_tree, list(outs))


class _DonatingJitFunction(JitFunction):
    """A `JitFunction` with donated arguments (``donate_argnums``/``donate_argnames``): a call
    outside every transformation deletes the donated funcdiff Arrays a result could take
    over (see `donation.py`)."""

    def __init__(self, *args: Any, donate: tuple[tuple[int, ...], tuple[str, ...]]):
        super().__init__(*args)  # (JitFunction's arguments)
        self.donate_argnums, self.donate_argnames = donate
        self._donated_positions = frozenset(n for n in donate[0] if n >= 0)
        self._warned: set[tuple] = set()  # signatures already warned about unusable donations

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if jit_flags.disable_jit or _flags.check_nans or len(core._state.stack) > 1:
            return super().__call__(*args, **kwargs)  # (JAX donates nothing here either)
        donated, others = donation.split_leaves(
            args,
            kwargs,
            self._donated_positions,
            self.donate_argnames,
            self._static_positions(len(args)),
            self.static_argnames,
        )
        if not donated:
            return super().__call__(*args, **kwargs)
        for leaves in (donated, others):
            for _, _, x in leaves:
                if isinstance(x, Tracer):  # (under a transformation: nothing is donated)
                    return super().__call__(*args, **kwargs)

        def name(arg: Any, k: int) -> str:
            return donation.describe(arg, k, args, kwargs, self._param_names)

        donation.check_distinct(donated, others, name)
        out = super().__call__(*args, **kwargs)
        outs, _ = tree_flatten(out)
        unusable = donation.consume(donated, outs, name)
        if unusable:
            key = (tuple(unusable), tuple(map(donation._shape_dtype, outs)))
            if key not in self._warned:
                self._warned.add(key)
                warnings.warn(
                    f"jit of {self.__name__}: some donated buffers were not usable, as no "
                    "result of the same shape and dtype (or size in bytes) could take them "
                    f"over: {', '.join(unusable)}; these arguments are not deleted",
                    stacklevel=2,
                )
        return out


def jit(
    fun: Callable[..., Any] | None = None,
    *,
    static_argnums: int | Sequence[int] = (),
    static_argnames: str | Sequence[str] = (),
    donate_argnums: int | Sequence[int] | None = None,
    donate_argnames: str | Iterable[str] | None = None,
    cache_size: int = 256,
    backend: Any = None,
) -> Any:
    """Compile `fun`: trace it once per argument signature, optimise the IR and run it as
    generated NumPy code.

    **Arguments:**

    - `fun`: the function; its arguments are pytrees of arrays (or static values).
    - `static_argnums`, `static_argnames`: arguments used as Python values (hashable); each
      new value traces again.
    - `donate_argnums`, `donate_argnames`: arguments (positions, names) the caller hands over,
      as in JAX: after a call outside every transformation, each donated funcdiff `Array`
      that a result of its shape and dtype (or size in bytes) can take over is deleted
      (`Array.is_deleted`; any later use raises a `RuntimeError`); one no result can take
      over warns and is kept. NumPy arrays and Python scalars are never changed. A static
      argument cannot be donated, nor the same Array passed twice when donated. See
      [Donated arguments](../how-to/jit.md#donated-arguments).
    - `cache_size`: how many compiled signatures to keep (least recently traced dropped).
    - `backend`: the array namespace the generated code calls: None (the default) for the
      namespace of the arguments (NumPy, or the Array API namespace of any other arrays among
      them, found with `array_api_compat.array_namespace`), or one named explicitly:
      ``"numpy"``, ``"array_api_strict"``, ``"dask"``, ``"cupy"``, ``"torch"`` or a namespace
      module. NumPy arguments are converted to that namespace; results are its arrays. See
      [Scaling out](../how-to/scaling-out.md).

    **Returns:** a `JitFunction`; ``.lower(*args)`` shows the optimised IR (``.as_text()``)
    and the generated code (``.as_python()``).

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        f = funcdiff.jit(lambda x: jnp.sin(x) * x + 1.0)
        assert np.isclose(f(0.5), np.sin(0.5) * 0.5 + 1.0)
        print(f.lower(0.5).as_python())

        step = funcdiff.jit(lambda p, g: p - 0.1 * g, donate_argnums=0)
        p = jnp.ones(3)
        new = step(p, jnp.ones(3))
        assert p.is_deleted() and new.tolist() == [0.9, 0.9, 0.9]
        ```
    """
    if fun is None:
        return functools.partial(
            jit,
            static_argnums=static_argnums,
            static_argnames=static_argnames,
            donate_argnums=donate_argnums,
            donate_argnames=donate_argnames,
            cache_size=cache_size,
            backend=backend,
        )
    errors.check_callable(fun, "jit")
    nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    names = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
    nums, names = _resolve_static(fun, nums, names)
    if backend is not None:
        backend = backends.resolve(backend)
    if donate_argnums is None and donate_argnames is None:
        return JitFunction(fun, nums, names, cache_size, backend)
    donate = donation.resolve_donation(fun, donate_argnums, donate_argnames, nums, names)
    return _DonatingJitFunction(fun, nums, names, cache_size, backend, donate=donate)
