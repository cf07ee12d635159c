"""Forward versus reverse mode, measured: `cost_analysis` and `cost_sweep`.

For one function and one set of inputs, `cost_analysis` stages five programs with
`make_jaxpr` (the function, one `jvp`, one `vjp`, the full Jacobian by `jacfwd` and by
`jacrev`), counts their operations, FLOPs and bytes with the cost rules of
`funcdiff._src.interpreters.cost`, takes the residuals reverse mode stores from `linearize`
and the peak live bytes from `jit`'s buffer plan, times each program, and recommends a mode
for the Jacobian. `cost_sweep` does the Jacobian part for a family of functions of growing
input and output sizes, to show where forward and reverse mode cross over.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes
from funcdiff._src.api import jacfwd, jacrev, jvp, make_jaxpr, vjp
from funcdiff._src.interpreters import ad
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.jit import passes
from funcdiff._src.jit.api import jit as jit_fn
from funcdiff._src.jit.lowering import plan_buffers
from funcdiff._src.tree_util import keystr, tree_flatten, tree_flatten_with_path, tree_unflatten

MODES = ("f", "jvp", "vjp", "jacfwd", "jacrev")


# ---- the function on flat inputs ------------------------------------------------------------


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
                raise TypeError(f"{what}: argument leaf {i} of {self.name} is a "
                                f"{type(leaf).__name__}, not an array.")
        self.leaves = [np.asarray(x) for x in leaves]
        self.diff = [dtypes.is_float(x.dtype) for x in self.leaves]
        if not any(self.diff):
            raise TypeError(f"{what}: {self.name} has no floating-point input to differentiate.")
        self.inputs = [x for x, d in zip(self.leaves, self.diff) if d]
        self.outputs = [np.asarray(y) for y in self(*self.inputs)]
        for i, y in enumerate(self.outputs):
            if not dtypes.is_float(y.dtype):
                raise TypeError(f"{what}: output leaf {i} of {self.name} has dtype {y.dtype}; "
                                "Jacobians need floating-point outputs.")

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
        params = [p.name for p in inspect.signature(fun).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = []
    for i, arg in enumerate(args):
        base = params[i] if i < len(params) else f"args[{i}]"
        names += [base + keystr(path) for path, _ in tree_flatten_with_path(arg)[0]]
    return names


# ---- the five programs ----------------------------------------------------------------------


def _programs(ff: FlatFunction, seed: int) -> dict[str, tuple[Callable[..., Any], list[Any]]]:
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


def _measure(mode: str, fn: Callable[..., Any], inputs: Sequence[Any], residual_bytes: int,
             repeats: int, use_jit: bool) -> ModeCost:
    # Without dead code: jacfwd's staged program keeps primal values it never uses, which
    # jit (and so the measured time) drops.
    closed = passes.dce(make_jaxpr(fn)(*inputs))
    c = cost_mod.jaxpr_cost(closed)
    # The peak of the program jit runs: optimised, its equations scheduled to keep few arrays
    # alive (`passes.sink`).
    peak = plan_buffers((passes.optimize(closed) if use_jit else closed).jaxpr).peak_bytes
    seconds = _median_time(jit_fn(fn) if use_jit else fn, inputs, repeats)
    return ModeCost(mode, c.ops, c.flops, c.transcendentals, c.bytes, residual_bytes, peak,
                    seconds, repeats, c.notes)


def _median_time(fn: Callable[..., Any], inputs: Sequence[Any], repeats: int) -> float:
    if repeats <= 0:
        return math.nan
    fn(*inputs)  # warm-up: compiles under jit
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*inputs)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _residual_bytes(ff: FlatFunction) -> int:
    _, linear = ad.linearize_flat(ff, ff.inputs, [True] * len(ff.inputs))
    return sum(np.asarray(r).nbytes for r in linear.residuals())


# ---- recommendation -------------------------------------------------------------------------

_TIME_MARGIN = 1.25  # a measured difference smaller than this is taken as noise
_WORK_MARGIN = 1.1


def recommend(n: int, m: int, fwd: ModeCost, rev: ModeCost) -> tuple[str, str]:
    """Choose `jacfwd` or `jacrev` for an ``m x n`` Jacobian: by measured time when the two
    differ clearly, else by counted arithmetic, else by shape (forward when ``n <= m``).
    Returns ``(mode, one-sentence reason)``."""
    shape = "tall" if m > n else "wide" if n > m else "square"
    passes = (f"forward mode pushes {_plural(n, 'tangent')} and reverse mode pulls back "
              f"{_plural(m, 'cotangent')}")
    work_ratio = _ratio(fwd.work, rev.work)  # below 1 favours forward mode
    time_ratio = _ratio(fwd.time_s, rev.time_s)
    timed = not math.isnan(time_ratio)
    by_time = timed and not 1 / _TIME_MARGIN < time_ratio < _TIME_MARGIN
    by_work = not 1 / _WORK_MARGIN < work_ratio < _WORK_MARGIN
    if by_time:
        mode = "jacfwd" if time_ratio < 1 else "jacrev"
        why = (f"it ran {_factor(time_ratio, mode)}x faster (median of "
               f"{_plural(fwd.repeats, 'run')})")
        if not by_work:
            why += " with about as many FLOPs"
        elif (work_ratio < 1) == (mode == "jacfwd"):
            why += f" and {_counts(mode, fwd, rev, 'fewer')}"
        else:
            why += (f", although it {_counts(mode, fwd, rev, 'more')} "
                    "(per-operation overhead outweighs arithmetic at this size)")
    elif by_work:
        mode = "jacfwd" if work_ratio < 1 else "jacrev"
        why = f"it {_counts(mode, fwd, rev, 'fewer')}"
        if timed:
            why += " (the measured times are within noise of each other)"
    else:
        mode = "jacfwd" if n <= m else "jacrev"
        why = "the counts and times are close, so the shape decides"
    return mode, f"The Jacobian is {shape} ({m} x {n}): {passes}, and {mode} wins: {why}."


def _plural(k: int, word: str) -> str:
    return f"{k} {word}{'s' * (k != 1)}"


def _counts(mode: str, fwd: ModeCost, rev: ModeCost, comparison: str) -> str:
    """"counts 3.0x fewer FLOPs", or the two counts when one of them is zero."""
    ours, theirs = (fwd.work, rev.work) if mode == "jacfwd" else (rev.work, fwd.work)
    if min(ours, theirs) == 0:
        return f"counts {ours:,} FLOPs against {theirs:,}"
    factor = max(ours, theirs) / min(ours, theirs)
    return f"counts {factor:.1f}x {comparison} FLOPs"


def _factor(ratio: float, mode: str) -> str:
    """How many times cheaper `mode` is, for a forward/reverse `ratio`."""
    r = _inverse(ratio) if mode == "jacfwd" else ratio
    return f"{r:.1f}" if math.isfinite(r) else "inf"


def _inverse(ratio: float) -> float:
    return math.inf if ratio == 0 else 1 / ratio  # 1 / inf is 0.0


def _ratio(a: float, b: float) -> float:
    if math.isnan(a) or math.isnan(b):
        return math.nan
    if b == 0:
        return math.inf if a > 0 else 1.0
    return a / b


# ---- the report -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CostReport:
    """Forward versus reverse mode for one function on one set of inputs.

    `modes` maps each of ``"f"``, ``"jvp"``, ``"vjp"``, ``"jacfwd"``, ``"jacrev"`` to its
    `ModeCost`; `n` and `m` are the numbers of inputs and outputs; `recommendation` is
    ``"jacfwd"`` or ``"jacrev"`` with a one-sentence `reason`; `timing` says how the times
    were measured. `str(report)` is an aligned table, `to_dict()` plain data, `plot()` a
    matplotlib figure. A mode that cannot run (reverse mode through a `while_loop`) is left
    out of `modes`, and `unavailable` says why.
    """

    name: str
    n: int
    m: int
    modes: dict[str, ModeCost]
    recommendation: str
    reason: str
    timing: str
    notes: tuple[str, ...] = ()
    unavailable: dict[str, str] = dataclasses.field(default_factory=dict)

    def ratio(self, mode: str, field: str = "work") -> float:
        """``modes[mode].<field> / modes["f"].<field>`` (`field`: ops, flops, work, bytes,
        time_s...); NaN for an unavailable mode."""
        if mode not in self.modes:
            return math.nan
        return _ratio(getattr(self.modes[mode], field), getattr(self.modes["f"], field))

    def to_dict(self) -> dict[str, Any]:
        """Plain data: one dict per mode (ops, flops, transcendentals, bytes, residual_bytes,
        peak_bytes, time_s, repeats and ratios to f), then the recommendation and its
        reason, n, m, timing and notes. An unavailable mode's entry is None (see
        ``"unavailable"``)."""
        out: dict[str, Any] = {}
        for name in MODES:
            mc = self.modes.get(name)
            if mc is None:
                out[name] = None
                continue
            out[name] = {
                "ops": mc.ops, "flops": mc.flops, "transcendentals": mc.transcendentals,
                "bytes": mc.bytes, "residual_bytes": mc.residual_bytes,
                "peak_bytes": mc.peak_bytes, "time_s": mc.time_s, "repeats": mc.repeats,
                "ratios": {f: self.ratio(name, f) for f in ("ops", "work", "bytes", "time_s")},
            }
        out.update(recommendation=self.recommendation, reason=self.reason, n=self.n, m=self.m,
                   timing=self.timing, notes=list(self.notes),
                   unavailable=dict(self.unavailable))
        return out

    def __str__(self) -> str:
        header = ["mode", "ops", "FLOPs", "transc.", "bytes", "residuals", "peak", "time",
                  "work/f", "time/f"]
        rows = [header]
        for name, mc in self.modes.items():
            rows.append([
                name, _count(mc.ops), _count(mc.flops), _count(mc.transcendentals),
                _bytes(mc.bytes), _bytes(mc.residual_bytes) if mc.residual_bytes else "-",
                _bytes(mc.peak_bytes), _seconds(mc.time_s), _times(self.ratio(name, "work")),
                _times(self.ratio(name, "time_s")),
            ])
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines = [f"cost_analysis({self.name}): n = {self.n} input{'s' * (self.n != 1)}, "
                 f"m = {self.m} output{'s' * (self.m != 1)} (a {self.m} x {self.n} Jacobian)",
                 ""]
        for r in rows:
            cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]
            lines.append("  ".join(cells).rstrip())
        lines += [f"{name:<{widths[0]}}  not available: {why}"
                  for name, why in self.unavailable.items()]
        lines += ["", f"recommendation: {self.recommendation}. {self.reason}",
                  f"timing: {self.timing}"]
        if self.notes:
            lines.append("notes:")
            lines += [f"  - {note}" for note in self.notes]
        return "\n".join(lines)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))

    def _get(self, mode: str, field: str) -> float:
        return getattr(self.modes[mode], field) if mode in self.modes else math.nan

    def plot(self, path: str | os.PathLike | None = None) -> Any:
        """Bar charts of arithmetic, memory and time per mode (relative to f), as a matplotlib
        `Figure`; saved to `path` when given. Needs matplotlib (the ``examples`` extra)."""
        Figure = _matplotlib_figure("CostReport.plot")
        fig = Figure(figsize=(11, 3.6), layout="constrained")
        axes = fig.subplots(1, 3)
        names = list(MODES)
        x = np.arange(len(names))
        panels = [
            ("arithmetic (FLOPs + transcendentals)", [self._get(k, "work") for k in names]),
            ("bytes moved", [self._get(k, "bytes") for k in names]),
            ("time (s)", [self._get(k, "time_s") for k in names]),
        ]
        for ax, (title, values) in zip(axes, panels):
            ax.set_title(title)
            ax.set_xticks(x, names)
            if all(math.isnan(v) or v <= 0 for v in values):
                ax.text(0.5, 0.5, "not measured", ha="center", transform=ax.transAxes)
                continue
            colors = ["0.6", "tab:blue", "tab:red", "tab:blue", "tab:red"]
            ax.bar(x, [0 if math.isnan(v) else v for v in values], color=colors)
            ax.set_yscale("log")
        axes[0].set_ylabel(f"{self.name}: n = {self.n}, m = {self.m}")
        fig.suptitle(f"recommendation: {self.recommendation}")
        if path is not None:
            fig.savefig(path)
        return fig


def _matplotlib_figure(what: str) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError(f"{what} needs matplotlib, an optional dependency: pip install "
                          "matplotlib (or funcdiff[examples]).") from e
    return Figure


def _count(x: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.1f}{unit}"
    return str(int(x))


def _bytes(x: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.1f} {unit}"
    return f"{int(x)} B"


def _seconds(t: float) -> str:
    if math.isnan(t):
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if t >= scale:
            return f"{t / scale:.1f} {unit}"
    return f"{t / 1e-9:.0f} ns"


def _times(r: float) -> str:
    return "-" if math.isnan(r) else f"{r:.1f}x" if math.isfinite(r) else "inf"


# ---- the public entry points ----------------------------------------------------------------


def cost_analysis(fun: Callable[..., Any], *, repeats: int = 5, jit: bool = True,
                  seed: int = 0) -> Callable[..., CostReport]:
    """Compare the cost of a function with that of its derivatives in forward and reverse mode.

    For the same inputs it counts and times five programs: `fun` itself, one `jvp` (forward
    mode, one tangent), one `vjp` (reverse mode: the forward pass and one cotangent pulled
    back), and the full Jacobian by `jacfwd` (one tangent per input) and by `jacrev` (one
    cotangent per output). Counts come from the staged programs (`make_jaxpr`) and each
    primitive's cost rule: primitive operations, FLOPs (a matmul ``(m, k) @ (k, n)`` is
    ``2 m n k``), transcendental functions (exp, log, sin... counted apart), bytes read and
    written, the residuals reverse mode stores for the backward pass, and the peak bytes
    live at once. Then it recommends `jacfwd` or `jacrev` for the Jacobian.

    **Arguments:**

    - `fun`: a function of arrays (pytrees allowed) returning floating-point arrays. Its
      floating-point input leaves are differentiated; other leaves are held fixed.
    - `repeats`: timed calls per program (the median is reported, after one warm-up call);
      0 skips timing, and the recommendation then rests on the counts.
    - `jit`: time the programs compiled by `funcdiff.jit` (the fair comparison: no tracing
      overhead in any mode), or eagerly with `jit=False`.
    - `seed`: for the random tangent and cotangent.

    **Returns:** a function taking `fun`'s arguments and returning a `CostReport`: print it
    for a table, call ``to_dict()`` for plain data, ``plot()`` for a figure.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        def loss(w, x):
            return jnp.sum(jnp.tanh(x @ w) ** 2)

        report = funcdiff.cost_analysis(loss, repeats=0)(np.ones((10, 3)), np.ones((4, 10)))
        assert report.modes["f"].flops > 0 and report.recommendation == "jacrev"
        print(report)
        ```
    """

    def analyse(*args: Any) -> CostReport:
        ff = FlatFunction(fun, args, "cost_analysis")
        try:
            residuals = _residual_bytes(ff)
        except (TypeError, NotImplementedError):
            residuals = 0  # no reverse mode: said below
        modes: dict[str, ModeCost] = {}
        unavailable: dict[str, str] = {}
        for mode, (prog, inputs) in _programs(ff, seed).items():
            held = residuals if mode in ("vjp", "jacrev") else 0
            try:
                modes[mode] = _measure(mode, prog, inputs, held, repeats, jit)
            except (TypeError, NotImplementedError) as e:
                if mode == "f":
                    raise
                unavailable[mode] = str(e).split(". ")[0].splitlines()[0].rstrip(".") + "."
        if "jacfwd" in modes and "jacrev" in modes:
            choice, reason = recommend(ff.n, ff.m, modes["jacfwd"], modes["jacrev"])
        elif "jacfwd" in modes or "jacrev" in modes:
            choice = "jacfwd" if "jacfwd" in modes else "jacrev"
            other = "jacrev" if choice == "jacfwd" else "jacfwd"
            reason = f"Only {choice} can differentiate {ff.name}, since {other} fails: " + \
                unavailable[other][0].lower() + unavailable[other][1:]
        else:
            raise TypeError(f"cost_analysis: neither jacfwd nor jacrev works on {ff.name}: "
                            f"{unavailable['jacfwd']}")
        notes: tuple[str, ...] = ()
        for mc in modes.values():
            notes += tuple(n for n in mc.notes if n not in notes)
        return CostReport(ff.name, ff.n, ff.m, modes, choice, reason, _timing(repeats, jit),
                          notes, unavailable)

    return analyse


def _timing(repeats: int, use_jit: bool) -> str:
    if repeats <= 0:
        return "not timed (repeats=0)."
    how = "compiled with funcdiff.jit" if use_jit else "run eagerly (jit=False)"
    return f"each program {how}; median of {_plural(repeats, 'call')} after a warm-up call."


@dataclasses.dataclass(frozen=True)
class SweepPoint:
    """One function of a sweep: its Jacobian is ``m x n``; `f`, `jacfwd` and `jacrev` are
    their `ModeCost`s."""

    n: int
    m: int
    f: ModeCost
    jacfwd: ModeCost
    jacrev: ModeCost

    def winner(self, by: str = "work") -> str:
        """``"jacfwd"`` or ``"jacrev"``, whichever is cheaper by `by` (``"work"`` for counted
        FLOPs plus transcendentals, ``"time_s"`` for measured time)."""
        return "jacfwd" if getattr(self.jacfwd, by) <= getattr(self.jacrev, by) else "jacrev"


@dataclasses.dataclass(frozen=True)
class CostSweep:
    """The cost of both Jacobian modes across a family of functions (see `cost_sweep`)."""

    name: str
    points: tuple[SweepPoint, ...]
    timing: str

    def crossover(self, by: str = "work") -> list[tuple[SweepPoint, SweepPoint]]:
        """Consecutive points between which the cheaper mode changes."""
        return [(a, b) for a, b in zip(self.points, self.points[1:])
                if a.winner(by) != b.winner(by)]

    def to_dict(self) -> dict[str, Any]:
        """Plain data: one row per point, and the crossovers by counted work."""
        rows = [{"n": p.n, "m": p.m, "f_flops": p.f.work, "jacfwd_flops": p.jacfwd.work,
                 "jacrev_flops": p.jacrev.work, "jacfwd_time_s": p.jacfwd.time_s,
                 "jacrev_time_s": p.jacrev.time_s, "winner_by_flops": p.winner("work"),
                 "winner_by_time": p.winner("time_s") if p.jacfwd.repeats else None}
                for p in self.points]
        cross = [{"from": (a.n, a.m), "to": (b.n, b.m)} for a, b in self.crossover()]
        return {"name": self.name, "points": rows, "crossover": cross, "timing": self.timing}

    def __str__(self) -> str:
        timed = any(p.jacfwd.repeats for p in self.points)
        header = ["n", "m", "jacfwd FLOPs", "jacrev FLOPs", "fwd/rev"]
        if timed:
            header += ["jacfwd time", "jacrev time", "fwd/rev"]
        header += ["cheaper"]
        rows = [header]
        for p in self.points:
            row = [str(p.n), str(p.m), _count(p.jacfwd.work), _count(p.jacrev.work),
                   _times(_ratio(p.jacfwd.work, p.jacrev.work))]
            if timed:
                row += [_seconds(p.jacfwd.time_s), _seconds(p.jacrev.time_s),
                        _times(_ratio(p.jacfwd.time_s, p.jacrev.time_s))]
            cheaper = p.winner("work")
            if timed and p.winner("time_s") != cheaper:
                cheaper += f" (by time: {p.winner('time_s')})"
            rows.append(row + [cheaper])
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines = [f"cost_sweep({self.name}): the Jacobian (m x n) by forward and reverse mode", ""]
        for r in rows:
            lines.append("  ".join(c.rjust(w) if i < len(r) - 1 else c
                                   for i, (c, w) in enumerate(zip(r, widths))).rstrip())
        cross = self.crossover()
        lines.append("")
        if cross:
            for a, b in cross:
                lines.append(f"crossover: between (n={a.n}, m={a.m}) and (n={b.n}, m={b.m}) "
                             f"the cheaper mode changes from {a.winner()} to {b.winner()}.")
        else:
            lines.append("no crossover in this range.")
        lines.append(f"timing: {self.timing}")
        return "\n".join(lines)

    def plot(self, path: str | os.PathLike | None = None) -> Any:
        """FLOPs (and times, when measured) of both modes against n/m on log axes, as a
        matplotlib `Figure`; saved to `path` when given. Needs matplotlib."""
        Figure = _matplotlib_figure("CostSweep.plot")
        timed = any(p.jacfwd.repeats for p in self.points)
        fig = Figure(figsize=(10 if timed else 5.5, 3.8), layout="constrained")
        axes = fig.subplots(1, 2 if timed else 1, squeeze=False)[0]
        aspect = [p.n / p.m for p in self.points]
        panels = [("work", "FLOPs + transcendentals")] + ([("time_s", "time (s)")] if timed
                                                          else [])
        for ax, (field, label) in zip(axes, panels):
            ax.loglog(aspect, [getattr(p.jacfwd, field) for p in self.points], "o-",
                      color="tab:blue", label="jacfwd (forward)")
            ax.loglog(aspect, [getattr(p.jacrev, field) for p in self.points], "s-",
                      color="tab:red", label="jacrev (reverse)")
            ax.axvline(1.0, color="0.7", linestyle=":")
            ax.set_xlabel("n / m (inputs per output)")
            ax.set_ylabel(label)
            ax.legend()
        fig.suptitle(f"{self.name}: forward versus reverse mode for the full Jacobian")
        if path is not None:
            fig.savefig(path, dpi=120)
        return fig


def cost_sweep(family: Callable[[int, int], tuple[Callable[..., Any], tuple[Any, ...]]],
               sizes: Sequence[tuple[int, int]] = ((1, 32), (2, 16), (4, 8), (8, 4), (16, 2),
                                                   (32, 1)),
               *, repeats: int = 3, jit: bool = True, seed: int = 0,
               name: str | None = None) -> CostSweep:
    """Measure forward and reverse mode for the full Jacobian across a family of functions,
    to find where one overtakes the other.

    **Arguments:**

    - `family(n, m) -> (fun, args)`: a function with (about) `n` inputs and `m` outputs, and
      arguments to evaluate it at. The reported `n` and `m` are counted from them.
    - `sizes`: the ``(n, m)`` pairs, in the order to report them.
    - `repeats`, `jit`, `seed`: as for `cost_analysis` (``repeats=0`` counts only).
    - `name`: a title (default: the family's name).

    **Returns:** a `CostSweep`: print it for the table and the crossover, ``plot()`` it, or
    read ``points`` and ``crossover()``.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        def family(n, m):
            w = np.ones((m, n)) / n
            return (lambda x: jnp.tanh(w @ x)), (np.linspace(-1, 1, n),)

        sweep = funcdiff.cost_sweep(family, [(1, 8), (8, 1)], repeats=0)
        assert [p.winner() for p in sweep.points] == ["jacfwd", "jacrev"]
        print(sweep)
        ```
    """
    points = []
    for n, m in sizes:
        fun, args = family(n, m)
        ff = FlatFunction(fun, args, "cost_sweep")
        progs = _programs(ff, seed)
        residuals = _residual_bytes(ff)
        measured = {mode: _measure(mode, *progs[mode], residuals if mode == "jacrev" else 0,
                                   repeats, jit) for mode in ("f", "jacfwd", "jacrev")}
        points.append(SweepPoint(ff.n, ff.m, measured["f"], measured["jacfwd"],
                                 measured["jacrev"]))
    title = name or getattr(family, "__name__", "family")
    return CostSweep(title, tuple(points), _timing(repeats, jit))


__all__ = ["CostReport", "CostSweep", "FlatFunction", "MODES", "ModeCost", "SweepPoint",
           "cost_analysis", "cost_sweep", "recommend"]
