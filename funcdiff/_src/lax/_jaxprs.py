"""Transformations of whole closed jaxprs, for primitives that carry jaxprs (jit, cond,
while_loop, scan, checkpoint): their JVP, partial evaluation, transposition and batching
build new jaxprs with these functions. Results are cached per jaxpr object. Compiling a jaxpr
is jit's business (`funcdiff._src.jit.cache`); it installs itself here with `set_compiler`."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from funcdiff._src import core, dtypes
from funcdiff._src.core import ClosedJaxpr
from funcdiff._src.interpreters import ad, batching
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.interpreters.ad import Zero
from funcdiff._src.lax.structural import move_to_front

_lock = threading.RLock()
# Per jaxpr object (by id, with a weak reference that removes the entry when the jaxpr dies):
# values derived from it, by key.
_cache: dict[int, tuple[weakref.ref, dict[Hashable, Any]]] = {}
_CACHE_LIMIT = 4096


def closure_convert(closed: ClosedJaxpr) -> tuple[list[Any], ClosedJaxpr]:
    """Move traced constants (values closed over from an outer transformation) to leading
    inputs, so that every transformation sees them; returns them and the new jaxpr."""
    j = closed.jaxpr
    traced = [(v, c) for v, c in zip(j.constvars, closed.consts) if isinstance(c, core.Tracer)]
    if not traced:
        return [], closed
    kept = [(v, c) for v, c in zip(j.constvars, closed.consts)
            if not isinstance(c, core.Tracer)]
    new = core.Jaxpr([v for v, _ in kept], [v for v, _ in traced] + list(j.invars), j.eqns,
                     j.outvars)
    return [c for _, c in traced], ClosedJaxpr(new, [c for _, c in kept])


def _forget(ident: int) -> Any:
    def callback(ref: weakref.ref) -> None:
        if _cache is None:  # interpreter shutdown: the module's globals are gone
            return
        entry = _cache.get(ident)
        if entry is not None and entry[0] is ref:
            _cache.pop(ident, None)

    return callback


def derived(jaxpr: ClosedJaxpr, key: Hashable, make: Any) -> Any:
    """``make()``, cached per (jaxpr object, key) for as long as the jaxpr lives: a jitted
    function's programs are freed with it."""
    ident = id(jaxpr)
    with _lock:
        entry = _cache.get(ident)
        if entry is None or entry[0]() is not jaxpr:
            if len(_cache) >= _CACHE_LIMIT:
                _cache.clear()
            entry = _cache[ident] = (weakref.ref(jaxpr, _forget(ident)), {})
        if key in entry[1]:
            return entry[1][key]
    value = make()
    with _lock:
        entry[1][key] = value
    return value


# jit's compiler, installed by `funcdiff._src.jit.cache` when it is imported (importing
# `funcdiff` does so): ``jaxpr -> CompiledProgram``, cached per jaxpr. The primitives that carry
# sub-programs run them (`call`) and lower them (``compiled(b).fn`` in their lowering rules)
# through this hook, so nothing in lax imports the code generator that sits above it.
_compiler: Callable[[ClosedJaxpr], Any] | None = None


def set_compiler(compile_jaxpr: Callable[[ClosedJaxpr], Any]) -> None:
    """Install jit's compiler (called once, by `funcdiff._src.jit.cache`)."""
    global _compiler
    _compiler = compile_jaxpr


def compiled(jaxpr: ClosedJaxpr) -> Any:
    """The optimised, generated NumPy program (a `CompiledProgram`) computing `jaxpr`."""
    if _compiler is None:
        raise RuntimeError("funcdiff._src.jit.cache was not imported: no compiler installed "
                           "for the sub-programs of control-flow primitives; import funcdiff.")
    return _compiler(jaxpr)


class _Counter:
    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0


def _named_in(jaxpr: core.Jaxpr, names: set[Any]) -> None:
    for eqn in jaxpr.eqns:
        if eqn.primitive in batching.collectives:
            names.update(eqn.params["axis_name"])
        for value in eqn.params.values():
            for sub in value if isinstance(value, tuple | list) else (value,):
                if isinstance(sub, ClosedJaxpr):
                    sub = sub.jaxpr
                if isinstance(sub, core.Jaxpr):
                    _named_in(sub, names)


def axis_names(jaxpr: ClosedJaxpr) -> frozenset[Any]:
    """The axis names of `vmap` that the collectives of `jaxpr` (and of its sub-programs)
    name."""

    def make() -> frozenset[Any]:
        names: set[Any] = set()
        _named_in(jaxpr.jaxpr, names)
        return frozenset(names)

    return derived(jaxpr, "axis_names", make)


def _named_by_params(params: dict) -> frozenset[Any]:
    names: set[Any] = set()
    for value in params.values():
        for sub in value if isinstance(value, tuple | list) else (value,):
            if isinstance(sub, ClosedJaxpr):
                names |= axis_names(sub)
    return frozenset(names)


def carrier(p: core.Primitive) -> core.Primitive:
    """Make `p`, a primitive whose params carry sub-programs (closed jaxprs), a
    `batching.Carrier`: called inside a vmap whose axis those programs' collectives name, it
    runs through that vmap, even on operands the vmap does not map."""
    return batching.carrier(p, _named_by_params)


def in_named_vmap(jaxpr: ClosedJaxpr) -> bool:
    """Whether `jaxpr` has a collective over a named axis of an enclosing vmap: it must then
    run through that vmap (see `carrier`), never as a compiled program, which runs outside
    every vmap."""
    return bool(batching.axis_env) and not axis_names(jaxpr).isdisjoint(
        f[0] for f in batching.axis_env)


def call(jaxpr: ClosedJaxpr, *args: Any) -> list[Any]:
    """Evaluate `jaxpr` on concrete arrays or on tracers. A program evaluated on arrays more
    than once (a loop body, a jitted function) is compiled; the first evaluation runs
    equation by equation, so one-off calls do not pay for compilation."""
    if (any(isinstance(a, core.Tracer) for a in args) or core._state.dynamic.level
            or core.flags.check_nans):
        return core.eval_jaxpr(jaxpr.jaxpr, jaxpr.consts, *args)
    counter = derived(jaxpr, "calls", _Counter)
    counter.n += 1
    if counter.n == 1:
        return core.eval_jaxpr(jaxpr.jaxpr, jaxpr.consts, *args)
    return list(compiled(jaxpr)(*args))


def jvp_jaxpr(jaxpr: ClosedJaxpr, nonzeros: Sequence[bool],
              instantiate: Sequence[bool] | bool = False) -> tuple[ClosedJaxpr, list[bool]]:
    """A jaxpr ``(primals, nonzero tangents) -> (primal outs, nonzero tangent outs)``, and
    which output tangents are nonzero (`instantiate` forces them)."""
    nonzeros = tuple(nonzeros)
    n_out = len(jaxpr.out_avals)
    inst = (instantiate,) * n_out if isinstance(instantiate, bool) else tuple(instantiate)

    def make() -> tuple[ClosedJaxpr, list[bool]]:
        in_avals = jaxpr.in_avals
        n = len(in_avals)
        out_nonzero: list[bool] = []

        def fun(*args: Any) -> list[Any]:
            primals, it = args[:n], iter(args[n:])
            tangents = [next(it) if nz else Zero(ad.tangent_aval(a))
                        for nz, a in zip(nonzeros, in_avals)]
            outs_p, outs_t = ad.jvp_flat(
                lambda *xs: core.eval_jaxpr(jaxpr.jaxpr, jaxpr.consts, *xs), primals, tangents)
            outs_t = [ad.instantiate(t) if i and dtypes.is_inexact(core.get_aval(p).dtype)
                      else t for t, i, p in zip(outs_t, inst, outs_p)]
            out_nonzero[:] = [type(t) is not Zero for t in outs_t]
            return list(outs_p) + [t for t in outs_t if type(t) is not Zero]

        t_avals = [ad.tangent_aval(a) for a, nz in zip(in_avals, nonzeros) if nz]
        return pe.trace_to_jaxpr(fun, list(in_avals) + t_avals), list(out_nonzero)

    return derived(jaxpr, ("jvp", nonzeros, inst), make)


def split(jaxpr: ClosedJaxpr, unknowns: Sequence[bool],
          instantiate: Sequence[bool] | None = None):
    """`partial_eval_jaxpr`, cached."""
    unknowns = tuple(unknowns)
    inst = None if instantiate is None else tuple(instantiate)
    return derived(jaxpr, ("split", unknowns, inst),
                   lambda: pe.partial_eval_jaxpr(jaxpr, unknowns, inst))


def transpose_jaxpr(jaxpr: ClosedJaxpr, undefined: Sequence[bool], ct_nonzero: Sequence[bool]
                    ) -> ClosedJaxpr:
    """A jaxpr ``(known inputs, nonzero output cotangents) -> cotangents of the linear
    inputs`` (zeros instantiated) for a jaxpr linear in its `undefined` inputs."""
    undefined, ct_nonzero = tuple(undefined), tuple(ct_nonzero)

    def make() -> ClosedJaxpr:
        known_avals = [a for a, u in zip(jaxpr.in_avals, undefined) if not u]
        ct_avals = [a for a, nz in zip(jaxpr.out_avals, ct_nonzero) if nz]
        n_known = len(known_avals)

        def fun(*xs: Any) -> list[Any]:
            known, it = iter(xs[:n_known]), iter(xs[n_known:])
            full = [ad.UndefinedPrimal(a) if u else next(known)
                    for a, u in zip(jaxpr.in_avals, undefined)]
            cts = [next(it) if nz else None for nz in ct_nonzero]
            res = ad.backward_pass(jaxpr.jaxpr, jaxpr.consts, full, cts)
            return [ad.instantiate(r) for r, u in zip(res, undefined) if u]

        return pe.trace_to_jaxpr(fun, known_avals + ct_avals)

    return derived(jaxpr, ("transpose", undefined, ct_nonzero), make)


def batch_jaxpr(jaxpr: ClosedJaxpr, in_dims: Sequence[int | None], size: int,
                force_batched: Sequence[bool] | bool = False
                ) -> tuple[ClosedJaxpr, list[int | None]]:
    """A jaxpr computing `jaxpr` on inputs batched along `in_dims`; its batched outputs have
    the batch dimension first (outputs in `force_batched` are batched even if unchanged)."""
    in_dims = tuple(in_dims)
    n_out = len(jaxpr.out_avals)
    force = (force_batched,) * n_out if isinstance(force_batched, bool) else tuple(force_batched)

    def make() -> tuple[ClosedJaxpr, list[int | None]]:
        out_batched: list[bool] = []

        def fun(*args: Any) -> list[Any]:
            outs, dims = batching.vmap_flat(
                lambda *xs: core.eval_jaxpr(jaxpr.jaxpr, jaxpr.consts, *xs), args, in_dims, size)
            outs = [move_to_front(o, d, size) if d is not None or f else o
                    for o, d, f in zip(outs, dims, force)]
            out_batched[:] = [d is not None or f for d, f in zip(dims, force)]
            return outs

        avals = []
        for a, d in zip(jaxpr.in_avals, in_dims):
            shape = list(a.shape)
            if d is not None:
                shape.insert(d, size)
            avals.append(core.ShapedArray(shape, a.dtype, a.weak_type))
        closed = pe.trace_to_jaxpr(fun, avals)
        return closed, [0 if b else None for b in out_batched]

    # the axis name is part of the key: a psum over it is a reduction only on that axis
    return derived(jaxpr, ("vmap", in_dims, size, force, batching.current_axis_name()), make)


__all__ = ["axis_names", "batch_jaxpr", "call", "carrier", "closure_convert", "compiled", "derived",
           "in_named_vmap", "jvp_jaxpr", "set_compiler", "split", "transpose_jaxpr"]
