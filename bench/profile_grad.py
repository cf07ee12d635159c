"""Where the time of eager `funcdiff.grad` goes on the MLP of `mlp_grad.py`.

Prints, for one dtype, as Markdown:

1. funcdiff `grad` against a *replay* of the NumPy kernels one `grad` call runs (same order,
   same operands, no interpreter) and against the hand-written backprop, in interleaved
   rounds: grad - replay is the interpretation overhead, replay - hand-written is extra NumPy
   work;
2. the phases of a call (linearize = forward pass + JVP + staging of the linear program;
   backward = transposing it; other = flattening, checks), with their NumPy time;
3. NumPy time per primitive and phase;
4. counts: binds per phase and primitive, staged equations, dead equations and residuals of
   the linear program, zeros materialized, dtype conversions, large broadcast views;
5. every NumPy call touching a large array, in order, with its output layout;
6. peak memory of one call, the layout of the gradient leaves and the cost of an SGD step on
   them;
7. cProfile listings, at full size and on a tiny model (the interpreter alone);
8. the cost of one unary op under each layer (eager, jvp, linearize, grad).

Nothing in the library is changed: wrappers are installed on its classes and modules for the
duration of this script. Run from the repository root (one BLAS thread and the CPU clock keep
the split steady on a shared machine)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \\
        python bench/profile_grad.py --clock cpu
"""

from __future__ import annotations

import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import argparse  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import tracemalloc  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from typing import Any  # noqa: E402

import mlp_grad  # noqa: E402
import numpy as np  # noqa: E402

import funcdiff  # noqa: E402
from funcdiff._src import core  # noqa: E402
from funcdiff._src.interpreters import ad  # noqa: E402

TINY_SIZES, TINY_BATCH = (6, 5, 5, 3), 4  # same program, negligible NumPy work
LARGE = 16384  # elements: 128 x 128 and up (the MLP's big arrays are 128 x 512 and up)


@contextmanager
def patched(obj: Any, name: str, make: Callable[[Any], Any]) -> Iterator[None]:
    """Replace ``obj.name`` by ``make(original)`` inside the block (skipped if missing)."""
    orig = getattr(obj, name, None)
    if orig is None:
        yield
        return
    setattr(obj, name, make(orig))
    try:
        yield
    finally:
        setattr(obj, name, orig)


class Recorder:
    """Counts and times what one `grad` call does, by phase."""

    def __init__(self, keep_kernels: bool = False) -> None:
        # Keeping every kernel's operands (for the replay) keeps its temporaries alive, which
        # slows the kernels of that call: only one call keeps them, and it is not timed.
        self.keep_kernels = keep_kernels
        self.phase = "other"
        self.phase_time: Counter[str] = Counter()
        self.binds: Counter[tuple[str, str]] = Counter()
        self.impls: Counter[tuple[str, str]] = Counter()
        self.impl_time: Counter[tuple[str, str]] = Counter()
        self.staged: Counter[str] = Counter()
        self.zeros: Counter[str] = Counter()
        self.large: list[tuple[str, str, str, str]] = []
        self.broadcast_inputs: Counter[tuple[str, str]] = Counter()
        self.converts: list[tuple[str, str, str]] = []
        self.linear: Any = None
        self.kernels: list[tuple[Callable[..., Any], tuple, dict]] = []

    @contextmanager
    def installed(self) -> Iterator[None]:
        rec = self

        def wrap_phase(phase: str):
            def make(orig):
                def wrapper(*args, **kwargs):
                    prev, rec.phase = rec.phase, phase
                    t0 = mlp_grad.CLOCK()
                    try:
                        return orig(*args, **kwargs)
                    finally:
                        rec.phase_time[phase] += mlp_grad.CLOCK() - t0
                        rec.phase = prev
                return wrapper
            return make

        def make_linearize(orig):
            inner = wrap_phase("linearize")(orig)

            def wrapper(*args, **kwargs):
                out = inner(*args, **kwargs)
                rec.linear = out[1]
                return out
            return wrapper

        def make_bind(orig):
            def bind(self, *args, **params):
                rec.binds[rec.phase, self.name] += 1
                return orig(self, *args, **params)
            return bind

        def make_run_impl(orig):
            def run_impl(self, args, params):
                t0 = mlp_grad.CLOCK()
                out = orig(self, args, params)
                dt = mlp_grad.CLOCK() - t0
                key = (rec.phase, self.name)
                rec.impls[key] += 1
                rec.impl_time[key] += dt
                rec.note_impl(self.name, args, out, params, dt)
                if rec.keep_kernels:
                    rec.kernels.append((self.impl, tuple(args), dict(params)))
                return out
            return run_impl

        def make_emit(orig):
            def emit(self, primitive, *rest, **kw):
                rec.staged[primitive.name] += 1
                return orig(self, primitive, *rest, **kw)
            return emit

        def make_zeros(where):
            def make(orig):
                def zeros(*args, **kwargs):
                    out = orig(*args, **kwargs)
                    rec.zeros[f"{where} {np.shape(out)}"] += 1
                    return out
                return zeros
            return make

        from funcdiff._src.interpreters import partial_eval as pe
        from funcdiff._src.lax import elementwise as ew

        with patched(ad, "linearize_flat", make_linearize), \
                patched(ad, "backward_pass", wrap_phase("backward")), \
                patched(core.Primitive, "bind", make_bind), \
                patched(core.Primitive, "run_impl", make_run_impl), \
                patched(pe.JaxprTrace, "emit", make_emit), \
                patched(ad, "zeros_like_aval", make_zeros("ad.zeros_like_aval")), \
                patched(ew, "zeros_like", make_zeros("lax zeros_like")):
            yield

    def note_impl(self, name: str, args: Any, out: Any, params: dict, dt: float) -> None:
        arrays = [a for a in args if isinstance(a, np.ndarray)]
        for a in arrays:
            if a.size >= LARGE and 0 in a.strides:
                self.broadcast_inputs[self.phase, name] += 1
        if name == "convert_element_type":
            src = arrays[0].dtype if arrays else type(args[0]).__name__
            self.converts.append((self.phase, f"{src} -> {params.get('new_dtype')}",
                                  str(np.shape(out))))
        size = getattr(out, "size", 1)
        big_in = any(a.size >= LARGE for a in arrays)
        if size >= LARGE or big_in:
            layout = "view" if isinstance(out, np.ndarray) and out.base is not None else "new"
            if isinstance(out, np.ndarray) and 0 in out.strides:
                layout = "broadcast view"
            self.large.append((self.phase, name, f"{np.shape(out)} {getattr(out, 'dtype', '')}",
                               layout, dt))


def dead_equations(linear: Any) -> tuple[int, Counter[str], int, int]:
    """Equations of the linear program that no output depends on, and the residuals."""
    closed = linear.jaxpr
    jaxpr = closed.jaxpr
    live = {v for v in jaxpr.outvars if isinstance(v, core.Var)}
    dead: Counter[str] = Counter()
    for eqn in reversed(jaxpr.eqns):
        if any(v in live for v in eqn.outvars):
            live.update(a for a in eqn.invars if isinstance(a, core.Var))
        else:
            dead[eqn.primitive.name] += 1
    n_res = len(closed.consts)
    res_bytes = sum(getattr(c, "nbytes", 0) for c in closed.consts)
    return len(jaxpr.eqns), dead, n_res, res_bytes


def fmt_counter(c: Counter, top: int = 12) -> str:
    return ", ".join(f"{k} {n}" for k, n in c.most_common(top))


def _med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else 0.0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dtype", choices=("float32", "float64"), default="float64")
    p.add_argument("--calls", type=int, default=50,
                   help="interleaved timing rounds and profiled calls (default 50)")
    p.add_argument("--instrumented", type=int, default=10,
                   help="instrumented calls whose medians are reported (default 10)")
    p.add_argument("--top", type=int, default=30, help="rows of the cProfile listings")
    p.add_argument("--clock", choices=tuple(mlp_grad.CLOCKS), default="wall",
                   help="clock of section 1 (see mlp_grad.py --help)")
    p.add_argument("--quick", action="store_true", help="a tiny run for smoke tests")
    args = p.parse_args(argv)
    if args.quick:
        args.calls, args.instrumented, args.top = 5, 1, 5
        mlp_grad.use_quick_sizes()
    mlp_grad.CLOCK = mlp_grad.CLOCKS[args.clock]
    mlp_grad.warn_blas_env()

    dtype = np.dtype(args.dtype)
    params = mlp_grad.init_params(dtype)
    x, y = mlp_grad.make_batch(dtype)
    mlp_grad.check_gradients(dtype, params, x, y)
    fd_grad = funcdiff.grad(mlp_grad.funcdiff_loss)

    def run_grad() -> Any:
        return fd_grad(params, x, y)

    # Instrumented calls (the first two warm up). Each one's records are kept.
    recs: list[tuple[Recorder, float]] = []
    for _ in range(args.instrumented + 2):
        rec = Recorder()
        with rec.installed():
            t0 = mlp_grad.CLOCK()
            run_grad()
            recs.append((rec, mlp_grad.CLOCK() - t0))
    recs = recs[2:]
    rec = recs[-1][0]
    # The interpreter's work does not depend on the array sizes; NumPy's does. So the same
    # model at a tiny size (same primitives, same binds) measures interpretation alone:
    # there, grad - replay of its kernels is (almost) pure Python.
    tparams = mlp_grad.init_params(dtype, sizes=TINY_SIZES)
    tx, ty = mlp_grad.make_batch(dtype, TINY_BATCH, sizes=TINY_SIZES)

    def recorded_replay(p_: Any, x_: Any, y_: Any) -> tuple[Callable[[], None], int]:
        keeper = Recorder(keep_kernels=True)
        with keeper.installed():
            fd_grad(p_, x_, y_)
        kernels = keeper.kernels

        def replay() -> None:
            """funcdiff's NumPy kernels, in its order, on its operands, no interpreter."""
            for impl, kargs, kparams in kernels:
                impl(*kargs, **kparams)

        return replay, sum(keeper.binds.values())

    replay, n_binds = recorded_replay(params, x, y)
    tiny_replay, tiny_binds = recorded_replay(tparams, tx, ty)
    times = mlp_grad.time_interleaved(
        {"grad": run_grad, "replay": replay,
         "hand": lambda: mlp_grad.numpy_grad(params, x, y),
         "tiny grad": lambda: fd_grad(tparams, tx, ty), "tiny replay": tiny_replay,
         "tiny hand": lambda: mlp_grad.numpy_grad(tparams, tx, ty)}, args.calls, 3)
    med = {k: _med(v) for k, v in times.items()}
    interp = med["tiny grad"] - med["tiny replay"]
    excess = med["grad"] - med["hand"]

    size = f"{'-'.join(map(str, mlp_grad.SIZES))}, batch {mlp_grad.BATCH}"
    tiny = f"{'-'.join(map(str, TINY_SIZES))}, batch {TINY_BATCH}"
    print(f"# Profile of eager funcdiff.grad: {dtype.name}, tanh MLP {size}\n")
    print("\n".join(mlp_grad.machine_lines()))
    print(f"\n## 1. Where the time above the hand-written floor goes\n\nMedians of "
          f"{args.calls} interleaved rounds ({args.clock} clock) of six variants: funcdiff "
          "`grad`, a *replay* of the NumPy kernels one `grad` call runs (same order, same "
          "operands, no interpreter) and the hand-written backprop, at the benchmark's size "
          f"and at a tiny size ({tiny}: the same {tiny_binds} binds, negligible NumPy work), "
          "where grad - replay is the interpreter's own time.\n")
    print("| model | funcdiff grad | replay of its kernels | hand-written | grad / hand "
          "| grad - hand | grad - replay |")
    print("|---|---|---|---|---|---|---|")
    for label, pre in ((size, ""), (tiny, "tiny ")):
        g_, r_, h_ = med[pre + "grad"], med[pre + "replay"], med[pre + "hand"]
        print(f"| {label} | {g_ * 1e3:.2f} ms | {r_ * 1e3:.2f} ms | {h_ * 1e3:.2f} ms | "
              f"{g_ / h_:.2f}x | {(g_ - h_) * 1e3:.2f} ms | {(g_ - r_) * 1e3:.2f} ms |")
    print(f"\nInterpretation: {interp * 1e3:.2f} ms per `grad` call "
          f"({interp / tiny_binds * 1e6:.1f} µs per bind, {tiny_binds} binds), i.e. "
          f"{interp / excess:.0%} of the {excess * 1e3:.2f} ms excess at full size; the rest, "
          f"{(excess - interp) * 1e3:.2f} ms, is NumPy work and memory traffic that the "
          "hand-written version does not have (the replay reuses its "
          "outputs' memory at once, so it understates that part).")

    print(f"\n## 2. Phases (medians of {len(recs)} instrumented calls, {args.clock} clock; "
          "the wrappers add time)\n")
    print("| phase | time (ms) | in NumPy kernels (ms) | Python around them (ms) | binds | "
          "NumPy calls |")
    print("|---|---|---|---|---|---|")
    phases = ["linearize", "backward"]
    for ph in [*phases, "other"]:
        if ph == "other":
            walls = [t - sum(r.phase_time[q] for q in phases) for r, t in recs]
        else:
            walls = [r.phase_time[ph] for r, _ in recs]
        ks = [sum(v for (q, _), v in r.impl_time.items() if q == ph) for r, _ in recs]
        nb = sum(n for (q, _), n in rec.binds.items() if q == ph)
        ni = sum(n for (q, _), n in rec.impls.items() if q == ph)
        print(f"| {ph} | {_med(walls) * 1e3:.2f} | {_med(ks) * 1e3:.2f} | "
              f"{(_med(walls) - _med(ks)) * 1e3:.2f} | {nb} | {ni} |")
    print(f"| total | {_med([t for _, t in recs]) * 1e3:.2f} | "
          f"{_med([sum(r.impl_time.values()) for r, _ in recs]) * 1e3:.2f} | | {n_binds} | "
          f"{sum(rec.impls.values())} |")

    print("\n## 3. NumPy time by primitive and phase (median per call)\n")
    print("| phase | primitive | calls | µs |")
    print("|---|---|---|---|")
    per_key = {k: _med([r.impl_time[k] for r, _ in recs]) for k in rec.impl_time}
    for (ph, name), t in sorted(per_key.items(), key=lambda kv: -kv[1]):
        print(f"| {ph} | {name} | {rec.impls[ph, name]} | {t * 1e6:.0f} |")

    print("\n## 4. Counts (one call)\n")
    for ph in [*phases, "other"]:
        c = Counter({n: k for (q, n), k in rec.binds.items() if q == ph})
        if c:
            print(f"- binds in {ph} ({sum(c.values())}): {fmt_counter(c, 40)}")
    print(f"- staged linear equations ({sum(rec.staged.values())}): "
          f"{fmt_counter(rec.staged, 40)}")
    if rec.linear is not None:
        n_eqns, dead, n_res, res_bytes = dead_equations(rec.linear)
        print(f"- linear program: {n_eqns} equations, {sum(dead.values())} dead (never reach an "
              f"output): {fmt_counter(dead) or '-'}; {n_res} residuals, "
              f"{res_bytes / 2**20:.2f} MiB")
    print(f"- zeros materialized: {fmt_counter(rec.zeros) or 'none'}")
    conv = Counter(f"{ph}: {d} {s}" for ph, d, s in rec.converts)
    print(f"- dtype conversions run: {sum(conv.values())} {fmt_counter(conv) or ''}")
    bcast = Counter({f"{ph} {n}": k for (ph, n), k in rec.broadcast_inputs.items()})
    print(f"- broadcast (stride-0) views of >= {LARGE} elements fed to kernels: "
          f"{fmt_counter(bcast) or 'none'}")

    print(f"\n## 5. NumPy calls touching arrays of >= {LARGE} elements, in order\n")
    print("| phase | primitive | output | layout | µs (median) |")
    print("|---|---|---|---|---|")
    for i, (ph, name, out, layout, _) in enumerate(rec.large):
        dts = [r.large[i][4] for r, _ in recs if len(r.large) == len(rec.large)]
        print(f"| {ph} | {name} | {out} | {layout} | {_med(dts) * 1e6:.0f} |")

    print("\n## 6. Memory, and the layout of the gradient leaves\n")
    peaks = {}
    for name, fn in (("funcdiff grad", run_grad),
                     ("hand-written", lambda: mlp_grad.numpy_grad(params, x, y))):
        tracemalloc.start()
        fn()
        peaks[name] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    print("Peak bytes allocated during one call (tracemalloc, inputs excluded): "
          + ", ".join(f"{k} {v / 2**20:.2f} MiB" for k, v in peaks.items()) + "\n")
    grads = run_grad()
    contiguous = {k: np.ascontiguousarray(v) for k, v in grads.items()}
    layouts = {k: "C" if v.flags.c_contiguous else "F" if v.flags.f_contiguous else "strided"
               for k, v in grads.items()}
    print("Leaves: " + ", ".join(f"{k} {v.shape} {layouts[k]}" for k, v in grads.items()))

    def sgd(g: dict) -> dict:
        return {k: params[k] - 0.1 * g[k] for k in params}

    step = mlp_grad.time_interleaved(
        {"as returned": lambda: sgd(grads), "C-contiguous": lambda: sgd(contiguous)},
        args.calls, 3)
    t_ret, t_c = _med(step["as returned"]), _med(step["C-contiguous"])
    print(f"\n`{{k: params[k] - 0.1 * grads[k]}}`: {t_ret * 1e3:.2f} ms on the gradients as "
          f"returned, {t_c * 1e3:.2f} ms on C-contiguous copies ({t_ret / t_c:.1f}x; "
          f"{(t_ret - t_c) / med['hand']:.0%} of the hand-written backprop's time)")

    print(f"\n## 7. cProfile of {args.calls} calls\n")
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(args.calls):
        run_grad()
    prof.disable()
    for key, title in (("tottime", "by own time"), ("cumulative", "by cumulative time")):
        s = io.StringIO()
        st = pstats.Stats(prof, stream=s).sort_stats(key)
        st.print_stats(args.top) if key == "tottime" else st.print_stats("funcdiff", args.top)
        text = s.getvalue().replace(_ROOT + os.sep, "").strip()
        print(f"{title}:\n\n```\n{text}\n```\n")

    # The interpreter alone: the tiny model, own time grouped by function and by file.
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(args.calls):
        fd_grad(tparams, tx, ty)
    prof.disable()
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in stats.values())
    calls = sum(v[1] for v in stats.values()) / args.calls
    by_file: Counter[str] = Counter()
    by_fn: Counter[str] = Counter()
    n_fn: Counter[str] = Counter()
    for (filename, line, name), (_, ncalls, tottime, _, _) in stats.items():
        short = _short(filename)
        by_file[short] += tottime
        by_fn[f"{short}:{line}({name})"] += tottime
        n_fn[f"{short}:{line}({name})"] += ncalls
    print(f"### The interpreter alone: cProfile of {args.calls} calls on the tiny model "
          f"({tiny})\n\n{calls:.0f} Python-level calls per `grad`. Share of own time (cProfile "
          "inflates each call's cost, so use the shares, not the times):\n")
    print("| file | share |\n|---|---|")
    for f, v in by_file.most_common(args.top // 2):
        print(f"| {f} | {v / total:.1%} |")
    print("\n| function | calls per grad | share |\n|---|---|---|")
    for f, v in by_fn.most_common(args.top):
        print(f"| {f} | {n_fn[f] / args.calls:.0f} | {v / total:.1%} |")

    print_op_costs(args.calls)
    return 0


def print_op_costs(repeats: int, n: int = 200) -> None:
    """Cost of one unary op (`sin` on a 1-element array) under each layer, from chains of
    `n` ops: each row adds one layer to the one above it."""
    import funcdiff.lax as lax
    import funcdiff.numpy as jnp

    x = np.full(1, 0.5)
    chain = mlp_grad._sin_chain(jnp.sin, jnp.sum, n)
    lax_chain = mlp_grad._sin_chain(lax.sin, jnp.sum, n)
    rows = {
        "NumPy `np.sin`": lambda: mlp_grad._sin_chain(np.sin, np.sum, n)(x),
        "`funcdiff.lax.sin` (bind + impl)": lambda: lax_chain(x),
        "`funcdiff.numpy.sin` (+ argument handling)": lambda: chain(x),
        "`jvp` (+ JVP rule, tangents computed eagerly)":
            lambda: funcdiff.jvp(chain, (x,), (np.ones(1),)),
        "`linearize` (+ staging the tangent equations)": lambda: funcdiff.linearize(chain, x),
        "`grad` (+ transposing them)": lambda: funcdiff.grad(chain)(x),
    }
    times = mlp_grad.time_interleaved(rows, max(5, repeats // 5), 2)
    print(f"\n## 8. One unary op under each layer (chains of {n} `sin`, per op, median)\n")
    print("| layer | µs per op | added by the layer |\n|---|---|---|")
    prev = None
    for name, ts in times.items():
        per = _med(ts) / n * 1e6
        added = "" if prev is None else f"{per - prev:+.1f}"
        print(f"| {name} | {per:.1f} | {added} |")
        prev = per


def _short(filename: str) -> str:
    for marker in ("funcdiff/_src/", "site-packages/", _ROOT + os.sep):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


if __name__ == "__main__":
    sys.exit(main())
