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

from collections.abc import Callable, Sequence
from typing import Any

from funcdiff._src import core
from funcdiff._src.core import ShapedArray, Tracer

batch_rules: dict[core.Primitive, Callable[..., Any]] = {}

not_mapped = None


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

    def pure(self, val: Any) -> BatchTracer:
        return BatchTracer(self, val, None)

    lift = pure

    def process_primitive(
        self, primitive: core.Primitive, tracers: list[BatchTracer], params: dict
    ) -> Any:
        vals = [t.val for t in tracers]
        dims = [t.bdim for t in tracers]
        if all(d is None for d in dims):
            return primitive.bind(*vals, **params)
        rule = batch_rules.get(primitive)
        if rule is None:
            raise NotImplementedError(
                f"Batching rule (vmap) for primitive '{primitive.name}' is not implemented."
            )
        out, out_dim = rule(self.axis_size, vals, dims, **params)
        if primitive.multiple_results:
            return [BatchTracer(self, o, d) for o, d in zip(out, out_dim, strict=True)]
        return BatchTracer(self, out, out_dim)


def vmap_flat(
    fun: Callable[..., Sequence[Any]],
    args: Sequence[Any],
    in_dims: Sequence[int | None],
    axis_size: int,
) -> tuple[list[Any], list[int | None]]:
    """Run `fun` on batched flat arguments; returns the outputs and their batch dims."""
    with core.new_main(BatchTrace, axis_size) as main:
        trace = BatchTrace(main)
        ins = [BatchTracer(trace, a, d) if d is not None else a for a, d in zip(args, in_dims)]
        outs = fun(*ins)
        out_tracers = [trace.full_raise(o) for o in outs]
        return [t.val for t in out_tracers], [t.bdim for t in out_tracers]
