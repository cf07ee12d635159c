"""Where the first call of ``jit(grad(f))`` spends its time, stage by stage (issue #20, W4).

`f` is the 2000-operation elementwise chain of `jit_bench.py`. Each round makes a fresh
function, so that its first call traces, differentiates, optimises and lowers from scratch,
and times the stages by wrapping the functions that run them:

- trace + JVP + partial eval: `linearize_flat` (the forward pass staged with its tangents);
- transpose: `backward_pass` (and `staged_ad.backward_pass_staged`, which transposes the
  linear program of `jit(grad(f))` since 2026-12-08);
- trace (rest): staging the outer program around them;
- each jit pass (`inline_calls`, `fold_constants`, `simplify`, `cse`, `dce`, ...);
- buffer plan, code generation, and Python's `compile()` of the generated source;
- run: the rest of the first call (running the program and the call's own bookkeeping).

Times are the process's CPU time (`time.process_time`): compiling is single-threaded Python,
and CPU time stays steady when other processes share the machine.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/compile_bench.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/compile_bench.py --quick
"""

from __future__ import annotations

import os
import sys

# Benchmark this checkout, whatever funcdiff may be installed.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse  # noqa: E402
import builtins  # noqa: E402
import contextlib  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402

import numpy as np  # noqa: E402
from _paired import header  # noqa: E402
from jit_bench import make_chain  # noqa: E402

import funcdiff  # noqa: E402
import funcdiff.numpy as jnp  # noqa: E402
from funcdiff._src.interpreters import ad  # noqa: E402

try:  # (a checkout before 2026-12-08 has no staged_ad)
    from funcdiff._src.interpreters import staged_ad  # noqa: E402
except ImportError:
    staged_ad = None
from funcdiff._src.jit import lowering, passes  # noqa: E402

_spent: dict[str, float] = defaultdict(float)


def _timed(name: str, fn):
    def wrapper(*args, **kwargs):
        start = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            _spent[name] += time.process_time() - start

    return wrapper


@contextlib.contextmanager
def instrumented():
    """Wrap each stage's entry point with a timer, and restore them afterwards."""
    saved = [
        (ad, "linearize_flat", ad.linearize_flat),
        (ad, "backward_pass", ad.backward_pass),
        (lowering, "plan_buffers", lowering.plan_buffers),
        (lowering, "lower_jaxpr", lowering.lower_jaxpr),
    ]
    saved_passes = list(passes._PASSES)
    ad.linearize_flat = _timed("trace + JVP + partial eval", ad.linearize_flat)
    ad.backward_pass = _timed("transpose", ad.backward_pass)
    if staged_ad is not None:
        saved.append((staged_ad, "backward_pass_staged", staged_ad.backward_pass_staged))
        staged_ad.backward_pass_staged = _timed("transpose", staged_ad.backward_pass_staged)
    lowering.plan_buffers = _timed("buffer plan", lowering.plan_buffers)
    lowering.lower_jaxpr = _timed("lowering (all)", lowering.lower_jaxpr)
    lowering.compile = _timed("Python compile()", builtins.compile)
    passes._PASSES[:] = [(name, _timed(f"pass {name}", run)) for name, run in saved_passes]
    try:
        yield
    finally:
        for module, name, fn in saved:
            setattr(module, name, fn)
        del lowering.compile
        passes._PASSES[:] = saved_passes


def one_round(x) -> dict[str, float]:
    _spent.clear()
    f = funcdiff.jit(funcdiff.grad(make_chain(jnp)))
    start = time.process_time()
    f(x)
    total = time.process_time() - start
    stages = dict(_spent)
    lower_all = stages.pop("lowering (all)")
    stages["code generation"] = lower_all - stages["buffer plan"] - stages["Python compile()"]
    staged = [k for k in stages if k.startswith("pass ")] + [
        "buffer plan",
        "code generation",
        "Python compile()",
    ]
    other = total - sum(stages.values())
    stages["trace (rest) + run"] = other
    stages["total"] = total
    return {
        k: stages[k]
        for k in ["trace + JVP + partial eval", "transpose", *staged, "trace (rest) + run", "total"]
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="a few seconds, for smoke tests")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else args.rounds
    x = np.linspace(-1.0, 1.0, 1000)
    funcdiff.jit(funcdiff.grad(make_chain(jnp)))(x)  # imports and caches settle
    with instrumented():
        samples = [one_round(x) for _ in range(rounds)]
    plain = []
    for _ in range(rounds):  # the same first call without the timers' own cost
        f = funcdiff.jit(funcdiff.grad(make_chain(jnp)))
        start = time.process_time()
        f(x)
        plain.append(time.process_time() - start)
    print(header("First call of jit(grad(f)), f a 2000-operation chain, by stage"))
    print(
        f"{rounds} fresh functions; median per stage over the rounds (ms), and its share of "
        "the median total\n"
    )
    total = statistics.median(s["total"] for s in samples)
    print("| stage | median (ms) | share |\n|---|---:|---:|")
    for stage in samples[0]:
        t = statistics.median(s[stage] for s in samples)
        print(f"| {stage} | {t * 1e3:.1f} | {t / total:.0%} |")
    print(
        f"\nfirst call without the stage timers: median {statistics.median(plain) * 1e3:.1f} "
        f"ms, fastest {min(plain) * 1e3:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
