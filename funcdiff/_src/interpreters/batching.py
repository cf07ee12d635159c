"""Vectorisation (`vmap`): run a function on a batch by moving the batch dimension through
each primitive, never by looping over the batch.

A `BatchTracer` holds a value of the trace below and the position of its batch dimension
(`None` when the value is the same for every batch element). Each primitive has a rule in
`batch_rules`, ``rule(axis_size, values, dims, **params) -> (out, out_dim)``, that computes the
batched result with the primitive itself (a batched `dot_general` is one `dot_general`, a batched
reduction one reduction). Helpers for the common rule shapes are in `funcdiff._src.lax._define`
and `funcdiff._src.lax.structural`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from funcdiff._src import core
from funcdiff._src.core import ShapedArray, Tracer

batch_rules: dict[core.Primitive, Callable[..., Any]] = {}

not_mapped = None

# ---- named axes (vmap's axis_name), for the collectives (lax.psum...) ----------------------

# The named axes in scope, innermost last: (name, size, main trace).
axis_env: list[tuple[Any, int, core.MainTrace]] = []
# The primitives whose batching rule runs even on operands that are not batched, when they
# name the trace's axis (a psum of a value shared by the batch sums it over the batch).
collectives: set[core.Primitive] = set()
# The primitives that carry sub-programs (jit, cond, scan...), with the axis names their
# sub-programs' collectives name, from the params (see `Carrier`).
carriers: dict[core.Primitive, Callable[[dict], frozenset]] = {}
_names: dict[int, Any] = {}  # id(main) -> its axis name, for the BatchTraces of named axes
_rule_axis: list[Any] = [None]  # the axis name of the BatchTrace whose rule runs now
_INHERIT = object()


def axis_frame(name: Any) -> tuple[Any, int, core.MainTrace]:
    """The innermost named axis `name`, or a `NameError` saying how to bind it."""
    for frame in reversed(axis_env):
        if frame[0] == name:
            return frame
    bound = [f[0] for f in axis_env]
    raise NameError(
        f"unbound axis name: {name!r}. Collectives (lax.psum, lax.axis_index...) refer to "
        f"the axis_name of an enclosing vmap, e.g. vmap(f, axis_name={name!r}); the names "
        f"bound here are {bound}" + core._at_user_line()
    )


def current_axis_name() -> Any:
    """The axis name of the BatchTrace whose batching rule is running (None: unnamed)."""
    return _rule_axis[0]


@contextlib.contextmanager
def rule_of(main: core.MainTrace) -> Iterator[None]:
    """Run a batching rule of `main`'s BatchTrace written outside `process_primitive` (the
    custom-derivative calls): the programs it batches are on `main`'s named axis."""
    outer, _rule_axis[0] = _rule_axis[0], _names.get(id(main))
    try:
        yield
    finally:
        _rule_axis[0] = outer


def trace_of(main: core.MainTrace) -> BatchTrace:
    if main.trace is None:
        main.trace = main.trace_type(main)
    return main.trace


def into(main: core.MainTrace, x: Any) -> Any:
    """`x` as a value of `main`'s BatchTrace (unbatched, unless it already is one, or of a
    trace above it)."""
    if isinstance(x, Tracer) and x._trace.main.level >= main.level:
        return x
    return BatchTracer(trace_of(main), x, None)


class Carrier(core.Primitive):
    """A primitive that carries sub-programs (`carriers`). When those hold collectives over the
    named axis of an enclosing vmap, its operands go through that vmap's BatchTrace, even
    those the vmap does not map (a jitted function, or a loop, on an operand the batch shares):
    the trace's rule batches the sub-programs on its axis, where the collectives are batch
    operations. Otherwise they would run outside the vmap, where such a collective has no
    axis. As `parallel._Collective` does for the collectives themselves."""

    __slots__ = ()

    def bind(self, *args: Any, **params: Any) -> Any:
        if axis_env:
            names = carriers[self](params)
            mains = [f[2] for f in axis_env if f[0] in names]
            if mains:
                main = max(mains, key=lambda m: m.level)
                # (not from that trace's own rule, which has batched what it could: a
                # program it left naming its axis would come back to it forever)
                if main.level > core._state.dynamic.level and _rule_axis[0] != _names[id(main)]:
                    args = tuple(into(main, x) for x in args)
        return super().bind(*args, **params)


def carrier(p: core.Primitive, names_of: Callable[[dict], frozenset]) -> core.Primitive:
    """Make `p` (made by `define_primitive`) a `Carrier`, whose sub-programs' collectives
    name the axes ``names_of(params)``."""
    p.__class__ = Carrier  # same layout (no new slots)
    carriers[p] = names_of
    return p


def _names_axis(primitive: core.Primitive, params: dict, name: Any) -> bool:
    if primitive in collectives:
        return name in params["axis_name"]
    names_of = carriers.get(primitive)
    return names_of is not None and name is not None and name in names_of(params)


class BatchTracer(Tracer):
    __slots__ = ("val", "bdim")

    def __init__(self, trace: BatchTrace, val: Any, bdim: int | None):
        self._trace = trace
        self.val = val
        self.bdim = bdim

    @property
    def aval(self) -> ShapedArray:
        aval = core.get_aval(self.val)
        if self.bdim is None:
            return aval
        shape = aval.shape[: self.bdim] + aval.shape[self.bdim + 1 :]
        return ShapedArray(shape, aval.dtype, aval.weak_type)

    def to_concrete_value(self) -> Any:
        return None  # one traced value stands for a whole batch: no single concrete value


class BatchTrace(core.Trace):
    __slots__ = ()

    @property
    def axis_size(self) -> int:
        return self.main.payload

    @property
    def axis_name(self) -> Any:
        return _names.get(id(self.main))

    def pure(self, val: Any) -> BatchTracer:
        return BatchTracer(self, val, None)

    lift = pure

    def process_primitive(
        self, primitive: core.Primitive, tracers: list[BatchTracer], params: dict
    ) -> Any:
        vals = [t.val for t in tracers]
        dims = [t.bdim for t in tracers]
        if all(d is None for d in dims) and not _names_axis(primitive, params, self.axis_name):
            return primitive.bind(*vals, **params)
        rule = batch_rules.get(primitive)
        if rule is None:
            raise NotImplementedError(
                f"Batching rule (vmap) for primitive '{primitive.name}' is not implemented."
            )
        outer, _rule_axis[0] = _rule_axis[0], self.axis_name
        try:  # sub-programs the rule batches (cond's branches...) are on this named axis too
            out, out_dim = rule(self.axis_size, vals, dims, **params)
        finally:
            _rule_axis[0] = outer
        if primitive.multiple_results:
            return [BatchTracer(self, o, d) for o, d in zip(out, out_dim, strict=True)]
        return BatchTracer(self, out, out_dim)


def vmap_flat(
    fun: Callable[..., Sequence[Any]],
    args: Sequence[Any],
    in_dims: Sequence[int | None],
    axis_size: int,
    axis_name: Any = _INHERIT,
) -> tuple[list[Any], list[int | None]]:
    """Run `fun` on batched flat arguments; returns the outputs and their batch dims. The
    batch axis is named `axis_name` (None: unnamed); by default it takes the name of the
    batching rule running now, if any: a rule batching a sub-program does so on its axis."""
    name = _rule_axis[0] if axis_name is _INHERIT else axis_name
    outer, _rule_axis[0] = _rule_axis[0], None  # `fun` runs outside any rule
    with core.new_main(BatchTrace, axis_size) as main:
        if name is not None:
            _names[id(main)] = name
            axis_env.append((name, axis_size, main))
        try:
            trace = BatchTrace(main)
            ins = [BatchTracer(trace, a, d) if d is not None else a for a, d in zip(args, in_dims)]
            outs = fun(*ins)
            out_tracers = [trace.full_raise(o) for o in outs]
            return [t.val for t in out_tracers], [t.bdim for t in out_tracers]
        finally:
            _rule_axis[0] = outer
            if name is not None:
                axis_env.pop()
                del _names[id(main)]
