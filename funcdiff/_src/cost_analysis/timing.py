"""Timing: the median wall time of a program, and the sentence saying how it was timed."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from funcdiff._src.cost_analysis.report import plural


def median_time(fn: Callable[..., Any], inputs: Sequence[Any], repeats: int) -> float:
    if repeats <= 0:
        return math.nan
    fn(*inputs)  # warm-up: compiles under jit
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*inputs)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def describe(repeats: int, use_jit: bool) -> str:
    if repeats <= 0:
        return "not timed (repeats=0)."
    how = "compiled with funcdiff.jit" if use_jit else "run eagerly (jit=False)"
    return f"each program {how}; median of {plural(repeats, 'call')} after a warm-up call."
