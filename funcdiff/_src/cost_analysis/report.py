"""Report: choosing a mode, and the `CostReport` and `CostSweep` tables and plots."""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Any

import numpy as np

from funcdiff._src.cost_analysis.counting import MODES, ModeCost

# ---- recommendation -------------------------------------------------------------------------

_TIME_MARGIN = 1.25  # a measured difference smaller than this is taken as noise
_WORK_MARGIN = 1.1


def recommend(n: int, m: int, fwd: ModeCost, rev: ModeCost) -> tuple[str, str]:
    """Choose `jacfwd` or `jacrev` for an ``m x n`` Jacobian: by measured time when the two
    differ clearly, else by counted arithmetic, else by shape (forward when ``n <= m``).
    Returns ``(mode, one-sentence reason)``."""
    shape = "tall" if m > n else "wide" if n > m else "square"
    passes = (
        f"forward mode pushes {plural(n, 'tangent')} and reverse mode pulls back "
        f"{plural(m, 'cotangent')}"
    )
    work_ratio = _ratio(fwd.work, rev.work)  # below 1 favours forward mode
    time_ratio = _ratio(fwd.time_s, rev.time_s)
    timed = not math.isnan(time_ratio)
    by_time = timed and not 1 / _TIME_MARGIN < time_ratio < _TIME_MARGIN
    by_work = not 1 / _WORK_MARGIN < work_ratio < _WORK_MARGIN
    if by_time:
        mode = "jacfwd" if time_ratio < 1 else "jacrev"
        why = f"it ran {_factor(time_ratio, mode)}x faster (median of {plural(fwd.repeats, 'run')})"
        if not by_work:
            why += " with about as many FLOPs"
        elif (work_ratio < 1) == (mode == "jacfwd"):
            why += f" and {_counts(mode, fwd, rev, 'fewer')}"
        else:
            why += (
                f", although it {_counts(mode, fwd, rev, 'more')} "
                "(per-operation overhead outweighs arithmetic at this size)"
            )
    elif by_work:
        mode = "jacfwd" if work_ratio < 1 else "jacrev"
        why = f"it {_counts(mode, fwd, rev, 'fewer')}"
        if timed:
            why += " (the measured times are within noise of each other)"
    else:
        mode = "jacfwd" if n <= m else "jacrev"
        why = "the counts and times are close, so the shape decides"
    return mode, f"The Jacobian is {shape} ({m} x {n}): {passes}, and {mode} wins: {why}."


def choose(
    name: str, n: int, m: int, modes: dict[str, ModeCost], unavailable: dict[str, str]
) -> tuple[str, str]:
    """`recommend` when both Jacobian modes ran; else the one that ran, saying why the other
    failed (`unavailable` maps a mode to its error)."""
    if "jacfwd" in modes and "jacrev" in modes:
        return recommend(n, m, modes["jacfwd"], modes["jacrev"])
    if "jacfwd" in modes or "jacrev" in modes:
        choice = "jacfwd" if "jacfwd" in modes else "jacrev"
        other = "jacrev" if choice == "jacfwd" else "jacfwd"
        why = unavailable[other]
        return choice, f"Only {choice} can differentiate {name}, since {other} fails: " + (
            why[0].lower() + why[1:]
        )
    raise TypeError(
        f"cost_analysis: neither jacfwd nor jacrev works on {name}: {unavailable['jacfwd']}"
    )


def plural(k: int, word: str) -> str:
    return f"{k} {word}{'s' * (k != 1)}"


def _counts(mode: str, fwd: ModeCost, rev: ModeCost, comparison: str) -> str:
    """ "counts 3.0x fewer FLOPs", or the two counts when one of them is zero."""
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
                "ops": mc.ops,
                "flops": mc.flops,
                "transcendentals": mc.transcendentals,
                "bytes": mc.bytes,
                "residual_bytes": mc.residual_bytes,
                "peak_bytes": mc.peak_bytes,
                "time_s": mc.time_s,
                "repeats": mc.repeats,
                "ratios": {f: self.ratio(name, f) for f in ("ops", "work", "bytes", "time_s")},
            }
        out.update(
            recommendation=self.recommendation,
            reason=self.reason,
            n=self.n,
            m=self.m,
            timing=self.timing,
            notes=list(self.notes),
            unavailable=dict(self.unavailable),
        )
        return out

    def __str__(self) -> str:
        header = [
            "mode",
            "ops",
            "FLOPs",
            "transc.",
            "bytes",
            "residuals",
            "peak",
            "time",
            "work/f",
            "time/f",
        ]
        rows = [header]
        for name, mc in self.modes.items():
            rows.append(
                [
                    name,
                    _count(mc.ops),
                    _count(mc.flops),
                    _count(mc.transcendentals),
                    _bytes(mc.bytes),
                    _bytes(mc.residual_bytes) if mc.residual_bytes else "-",
                    _bytes(mc.peak_bytes),
                    _seconds(mc.time_s),
                    _times(self.ratio(name, "work")),
                    _times(self.ratio(name, "time_s")),
                ]
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines = [
            f"cost_analysis({self.name}): n = {self.n} input{'s' * (self.n != 1)}, "
            f"m = {self.m} output{'s' * (self.m != 1)} (a {self.m} x {self.n} Jacobian)",
            "",
        ]
        for r in rows:
            cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]
            lines.append("  ".join(cells).rstrip())
        lines += [
            f"{name:<{widths[0]}}  not available: {why}" for name, why in self.unavailable.items()
        ]
        lines += [
            "",
            f"recommendation: {self.recommendation}. {self.reason}",
            f"timing: {self.timing}",
        ]
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
        raise ImportError(
            f"{what} needs matplotlib, an optional dependency: pip install "
            "matplotlib (or funcdiff[examples])."
        ) from e
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
        return [
            (a, b) for a, b in zip(self.points, self.points[1:]) if a.winner(by) != b.winner(by)
        ]

    def to_dict(self) -> dict[str, Any]:
        """Plain data: one row per point, and the crossovers by counted work."""
        rows = [
            {
                "n": p.n,
                "m": p.m,
                "f_flops": p.f.work,
                "jacfwd_flops": p.jacfwd.work,
                "jacrev_flops": p.jacrev.work,
                "jacfwd_time_s": p.jacfwd.time_s,
                "jacrev_time_s": p.jacrev.time_s,
                "winner_by_flops": p.winner("work"),
                "winner_by_time": p.winner("time_s") if p.jacfwd.repeats else None,
            }
            for p in self.points
        ]
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
            row = [
                str(p.n),
                str(p.m),
                _count(p.jacfwd.work),
                _count(p.jacrev.work),
                _times(_ratio(p.jacfwd.work, p.jacrev.work)),
            ]
            if timed:
                row += [
                    _seconds(p.jacfwd.time_s),
                    _seconds(p.jacrev.time_s),
                    _times(_ratio(p.jacfwd.time_s, p.jacrev.time_s)),
                ]
            cheaper = p.winner("work")
            if timed and p.winner("time_s") != cheaper:
                cheaper += f" (by time: {p.winner('time_s')})"
            rows.append(row + [cheaper])
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines = [f"cost_sweep({self.name}): the Jacobian (m x n) by forward and reverse mode", ""]
        for r in rows:
            lines.append(
                "  ".join(
                    c.rjust(w) if i < len(r) - 1 else c for i, (c, w) in enumerate(zip(r, widths))
                ).rstrip()
            )
        cross = self.crossover()
        lines.append("")
        if cross:
            for a, b in cross:
                lines.append(
                    f"crossover: between (n={a.n}, m={a.m}) and (n={b.n}, m={b.m}) "
                    f"the cheaper mode changes from {a.winner()} to {b.winner()}."
                )
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
        panels = [("work", "FLOPs + transcendentals")] + ([("time_s", "time (s)")] if timed else [])
        for ax, (field, label) in zip(axes, panels):
            ax.loglog(
                aspect,
                [getattr(p.jacfwd, field) for p in self.points],
                "o-",
                color="tab:blue",
                label="jacfwd (forward)",
            )
            ax.loglog(
                aspect,
                [getattr(p.jacrev, field) for p in self.points],
                "s-",
                color="tab:red",
                label="jacrev (reverse)",
            )
            ax.axvline(1.0, color="0.7", linestyle=":")
            ax.set_xlabel("n / m (inputs per output)")
            ax.set_ylabel(label)
            ax.legend()
        fig.suptitle(f"{self.name}: forward versus reverse mode for the full Jacobian")
        if path is not None:
            fig.savefig(path, dpi=120)
        return fig
