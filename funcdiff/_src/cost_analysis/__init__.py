"""Forward versus reverse mode, measured: `cost_analysis` and `cost_sweep`.

For one function and one set of inputs, `cost_analysis` stages five programs with
`make_jaxpr` (the function, one `jvp`, one `vjp`, the full Jacobian by `jacfwd` and by
`jacrev`), counts their operations, FLOPs and bytes with the cost rules of
`funcdiff._src.interpreters.cost`, takes the residuals reverse mode stores from `linearize`
and the peak live bytes from `jit`'s buffer plan, times each program, and recommends a mode
for the Jacobian. `cost_sweep` does the Jacobian part for a family of functions of growing
input and output sizes, to show where forward and reverse mode cross over.

The work is split in three modules: `counting.py` (the programs and their counts),
`timing.py` (wall times) and `report.py` (the recommendation, the tables and the plots);
this module runs them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from funcdiff._src.cost_analysis.counting import (
    MODES,
    FlatFunction,
    ModeCost,
    count,
    leaf_names,
    programs,
    residual_bytes,
)
from funcdiff._src.cost_analysis.report import (
    CostReport,
    CostSweep,
    SweepPoint,
    choose,
    recommend,
)
from funcdiff._src.cost_analysis.timing import describe, median_time
from funcdiff._src.jit.api import jit as jit_fn


def _measure(
    mode: str,
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    residuals: int,
    repeats: int,
    use_jit: bool,
) -> ModeCost:
    """Counts and times one program."""
    c = count(fn, inputs, optimised=use_jit)
    seconds = median_time(jit_fn(fn) if use_jit else fn, inputs, repeats)
    return ModeCost(
        mode,
        c.ops,
        c.flops,
        c.transcendentals,
        c.bytes,
        residuals,
        c.peak_bytes,
        seconds,
        repeats,
        c.notes,
    )


def cost_analysis(
    fun: Callable[..., Any], *, repeats: int = 5, jit: bool = True, seed: int = 0
) -> Callable[..., CostReport]:
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
            residuals = residual_bytes(ff)
        except (TypeError, NotImplementedError):
            residuals = 0  # no reverse mode: said below
        modes: dict[str, ModeCost] = {}
        unavailable: dict[str, str] = {}
        for mode, (prog, inputs) in programs(ff, seed).items():
            held = residuals if mode in ("vjp", "jacrev") else 0
            try:
                modes[mode] = _measure(mode, prog, inputs, held, repeats, jit)
            except (TypeError, NotImplementedError) as e:
                if mode == "f":
                    raise
                unavailable[mode] = str(e).split(". ")[0].splitlines()[0].rstrip(".") + "."
        choice, reason = choose(ff.name, ff.n, ff.m, modes, unavailable)
        notes: tuple[str, ...] = ()
        for mc in modes.values():
            notes += tuple(n for n in mc.notes if n not in notes)
        return CostReport(
            ff.name, ff.n, ff.m, modes, choice, reason, describe(repeats, jit), notes, unavailable
        )

    return analyse


def cost_sweep(
    family: Callable[[int, int], tuple[Callable[..., Any], tuple[Any, ...]]],
    sizes: Sequence[tuple[int, int]] = ((1, 32), (2, 16), (4, 8), (8, 4), (16, 2), (32, 1)),
    *,
    repeats: int = 3,
    jit: bool = True,
    seed: int = 0,
    name: str | None = None,
) -> CostSweep:
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
        progs = programs(ff, seed)
        residuals = residual_bytes(ff)
        measured = {
            mode: _measure(mode, *progs[mode], residuals if mode == "jacrev" else 0, repeats, jit)
            for mode in ("f", "jacfwd", "jacrev")
        }
        points.append(SweepPoint(ff.n, ff.m, measured["f"], measured["jacfwd"], measured["jacrev"]))
    title = name or getattr(family, "__name__", "family")
    return CostSweep(title, tuple(points), describe(repeats, jit))


__all__ = [
    "CostReport",
    "CostSweep",
    "FlatFunction",
    "MODES",
    "ModeCost",
    "SweepPoint",
    "cost_analysis",
    "cost_sweep",
    "leaf_names",
    "recommend",
]
