"""Counting: the programs `cost_analysis` compares, and what each one costs.

`FlatFunction` puts a user's function on flat floating-point inputs; `programs` stages the
five programs of `MODES` from it; `count` counts one program's operations, FLOPs,
transcendentals and bytes with the cost rules of `funcdiff._src.interpreters.cost`, and its
peak live bytes from `jit`'s buffer plan; `residual_bytes` is what reverse mode stores.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes
from funcdiff._src.api import jacfwd, jacrev, jvp, make_jaxpr, vjp
from funcdiff._src.interpreters import ad
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.jit import passes
from funcdiff._src.jit.lowering import plan_buffers
from funcdiff._src.tree_util import keystr, tree_flatten, tree_flatten_with_path, tree_unflatten

MODES = ("f", "jvp", "vjp", "jacfwd", "jacrev")


class FlatFunction:
    """`fun` as a function of its floating-point input leaves, returning its output leaves.

    Other input leaves (integers, booleans) are held fixed at their values.
    """

    def __init__(self, fun: Callable[..., Any], args: Sequence[Any], what: str):
        self.fun = fun
        self.name = getattr(fun, "__name__", type(fun).__name__)
        self.args = tuple(args)
        leaves, self.in_tree = tree_flatten(self.args)
        for i, leaf in enumerate(leaves):
            if not core.is_valid_array(leaf):
                raise TypeError(
                    f"{what}: argument leaf {i} of {self.name} is a "
                    f"{core.value_kind(leaf)}, not an array."
                )
        self.leaves = [np.asarray(x) for x in leaves]
        self.diff = [dtypes.is_float(x.dtype) for x in self.leaves]
        if not any(self.diff):
            raise TypeError(f"{what}: {self.name} has no floating-point input to differentiate.")
        self.inputs = [x for x, d in zip(self.leaves, self.diff) if d]
        self.outputs = [np.asarray(y) for y in self(*self.inputs)]
        for i, y in enumerate(self.outputs):
            if not dtypes.is_float(y.dtype):
                raise TypeError(
                    f"{what}: output leaf {i} of {self.name} has dtype {y.dtype}; "
                    "Jacobians need floating-point outputs."
                )

    def __call__(self, *inputs: Any) -> list[Any]:
        it = iter(inputs)
        leaves = [next(it) if d else x for x, d in zip(self.leaves, self.diff)]
        out, _ = tree_flatten(self.fun(*tree_unflatten(self.in_tree, leaves)))
        return out

    @property
    def n(self) -> int:
        """The number of inputs: the Jacobian's columns."""
        return sum(x.size for x in self.inputs)

    @property
    def m(self) -> int:
        """The number of outputs: the Jacobian's rows."""
        return sum(y.size for y in self.outputs)


def leaf_names(fun: Callable[..., Any], args: Sequence[Any]) -> list[str]:
    """Each leaf of `args` named as the user wrote it: ``w``, ``params['b']``."""
    try:
        params = [
            p.name
            for p in inspect.signature(fun).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        params = []
    names = []
    for i, arg in enumerate(args):
        base = params[i] if i < len(params) else f"args[{i}]"
        names += [base + keystr(path) for path, _ in tree_flatten_with_path(arg)[0]]
    return names


# ---- the five programs ----------------------------------------------------------------------


def programs(ff: FlatFunction, seed: int) -> dict[str, tuple[Callable[..., Any], list[Any]]]:
    """Each mode as a flat function and the arrays it runs on."""
    rng = np.random.default_rng(seed)
    tangents = [rng.standard_normal(x.shape).astype(x.dtype) for x in ff.inputs]
    cotangents = [rng.standard_normal(y.shape).astype(y.dtype) for y in ff.outputs]
    k = len(ff.inputs)
    argnums = tuple(range(k))

    def f_prog(*xs: Any) -> list[Any]:
        return ff(*xs)

    def jvp_prog(*xs_ts: Any) -> list[Any]:
        outs, touts = jvp(ff, list(xs_ts[:k]), list(xs_ts[k:]))
        return list(outs) + list(touts)

    def vjp_prog(*xs_cts: Any) -> list[Any]:
        outs, pull = vjp(ff, *xs_cts[:k])
        return list(outs) + list(pull(list(xs_cts[k:])))

    def jacfwd_prog(*xs: Any) -> list[Any]:
        return tree_flatten(jacfwd(ff, argnums=argnums)(*xs))[0]

    def jacrev_prog(*xs: Any) -> list[Any]:
        return tree_flatten(jacrev(ff, argnums=argnums)(*xs))[0]

    return {
        "f": (f_prog, ff.inputs),
        "jvp": (jvp_prog, ff.inputs + tangents),
        "vjp": (vjp_prog, ff.inputs + cotangents),
        "jacfwd": (jacfwd_prog, ff.inputs),
        "jacrev": (jacrev_prog, ff.inputs),
    }


@dataclasses.dataclass(frozen=True)
class ModeCost:
    """The counted and measured cost of one program (`mode` is one of ``MODES``).

    `bytes` is read plus written; `residual_bytes` is what reverse mode stores from the forward
    pass for the backward one (zero for the forward modes); `peak_bytes` is the peak of the
    arrays the program allocates, by `jit`'s buffer plan (of the optimised program `jit` runs,
    unless ``jit=False``); `time_s` is the median wall time of
    `repeats` calls (NaN when not timed).
    """

    mode: str
    ops: int
    flops: int
    transcendentals: int
    bytes: int
    residual_bytes: int
    peak_bytes: int
    time_s: float
    repeats: int
    notes: tuple[str, ...] = ()

    @property
    def work(self) -> int:
        """FLOPs plus transcendental functions: the arithmetic the program does."""
        return self.flops + self.transcendentals


@dataclasses.dataclass(frozen=True)
class Count:
    """What `count` finds in one program; `ModeCost` adds the measured time to it."""

    ops: int
    flops: int
    transcendentals: int
    bytes: int
    peak_bytes: int
    notes: tuple[str, ...]


def count(fn: Callable[..., Any], inputs: Sequence[Any], optimised: bool = True) -> Count:
    """Counts the program `fn` stages on `inputs`; `peak_bytes` is that of the program `jit`
    runs (optimised) unless `optimised` is false."""
    # Without dead code: jacfwd's staged program keeps primal values it never uses, which
    # jit (and so the measured time) drops.
    closed = passes.dce(make_jaxpr(fn)(*inputs))
    c = cost_mod.jaxpr_cost(closed)
    # The peak of the program jit runs: optimised, its equations scheduled to keep few arrays
    # alive (`passes.sink`).
    peak = plan_buffers((passes.optimize(closed) if optimised else closed).jaxpr).peak_bytes
    return Count(c.ops, c.flops, c.transcendentals, c.bytes, peak, c.notes)


def residual_bytes(ff: FlatFunction) -> int:
    _, linear = ad.linearize_flat(ff, ff.inputs, [True] * len(ff.inputs))
    return sum(np.asarray(r).nbytes for r in linear.residuals())
