"""Paired timing for the benchmarks of issue #20: every round runs each variant once (in a
rotating order), and the ratio to the floor is taken within the round, so that a change in the
machine's load moves both sides of a ratio alike."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def paired_ratios(
    calls: Sequence[tuple[str, Callable[[], Any]]], rounds: int, number: int = 1, warmup: int = 3
) -> dict[str, tuple[float, list[float]]]:
    """For each call after the first (the floor): (median time per call in seconds, the
    per-round ratios to the floor). The floor maps to its median time and ratios of 1."""
    for _ in range(warmup):
        for _, fn in calls:
            fn()
    times: list[list[float]] = [[] for _ in calls]
    for r in range(rounds):
        order = [(r + k) % len(calls) for k in range(len(calls))]
        for k in order:
            fn = calls[k][1]
            start = time.perf_counter()
            for _ in range(number):
                fn()
            times[k].append((time.perf_counter() - start) / number)
    floor = times[0]
    return {
        name: (statistics.median(t), [a / b for a, b in zip(t, floor)])
        for (name, _), t in zip(calls, times)
    }


def ratio_table(
    results: dict[str, tuple[float, list[float]]], unit: float = 1e-6, unit_name: str = "us"
) -> str:
    """Markdown: median time, median and quartiles of the per-round ratios to the floor."""
    lines = [
        f"| implementation | median ({unit_name}) | ratio to floor: median [quartiles] |",
        "|---|---:|---:|",
    ]
    for name, (t, ratios) in results.items():
        q1, med, q3 = np.percentile(ratios, [25, 50, 75])
        lines.append(f"| {name} | {t / unit:.2f} | {med:.2f}x [{q1:.2f}-{q3:.2f}] |")
    return "\n".join(lines)


def header(title: str) -> str:
    """The title, the command and the machine, as Markdown."""
    tainted = [v for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if v in os.environ]
    if tainted:
        print(
            f"warning: {', '.join(tainted)} set; run with `env -u OPENBLAS_CORETYPE "
            "-u OPENBLAS_L2_SIZE` (see bench/README.md)",
            file=sys.stderr,
        )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"# {title}\n\ncommand: `{' '.join(['python'] + sys.argv)}`  \n"
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, NumPy {np.__version__}; 1-minute load average "
        f"{load:.1f}\n"
    )
