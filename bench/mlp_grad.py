"""Eager `funcdiff.grad` against hand-written NumPy backpropagation, side by side in one run.

The model is a 784-512-512-10 tanh MLP with softmax cross-entropy (mean over the batch,
integer labels turned one-hot) at batch 128. Four variants are timed in interleaved rounds
(each round runs every variant once, in a rotating order), so that all of them see the same
machine conditions:

1. hand-written NumPy forward pass (loss only);
2. funcdiff eager loss (the same function as 4, called outside any transformation);
3. hand-written NumPy backpropagation (forward + backward by hand: the floor);
4. ``funcdiff.grad(loss)(params, x, y)`` with ``params`` a dict.

Before timing, funcdiff's gradient is checked against the hand-written one. The script also
measures the per-primitive eager overhead (one call on a 1-element array, and a chain of
cheap operations under ``grad``) and prints everything as Markdown.

Run from the repository root (see bench/README.md for why the OpenBLAS variables are unset)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/mlp_grad.py
"""

from __future__ import annotations

import os
import sys

# Benchmark this checkout, whatever funcdiff may be installed.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _ROOT)

import argparse  # noqa: E402
import ctypes  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import timeit  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

try:
    import resource  # noqa: E402
except ImportError:  # not on Windows
    resource = None  # type: ignore[assignment]

import funcdiff  # noqa: E402
import funcdiff.numpy as jnp  # noqa: E402
from funcdiff import nn  # noqa: E402

SIZES = (784, 512, 512, 10)
BATCH = 128
# `--quick`: the same program (same primitives and binds) at sizes that take no time.
QUICK_SIZES, QUICK_BATCH = (32, 16, 16, 10), 8
# Variables that change how NumPy's OpenBLAS runs; the command line shown names them.
BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
# NumPy calls made by `numpy_value_and_grad`, counted in its source (views like `.T` excluded).
NUMPY_OPS_IN_HAND_BACKPROP = 38
# Gradient check tolerances (relative; the absolute part is scaled by the largest entry).
TOLERANCES = {"float64": 1e-8, "float32": 2e-4}

Params = dict[str, np.ndarray]


# ---- the model --------------------------------------------------------------------------------


def init_params(dtype: np.dtype, seed: int = 0, sizes: tuple[int, ...] | None = None) -> Params:
    """Glorot-uniform weights, small random biases (so that their gradients are not trivial)."""
    sizes = SIZES if sizes is None else sizes
    rng = np.random.default_rng(seed)
    params: Params = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        limit = np.sqrt(6.0 / (n_in + n_out))
        params[f"w{i}"] = rng.uniform(-limit, limit, (n_in, n_out)).astype(dtype)
        params[f"b{i}"] = rng.normal(0.0, 0.1, n_out).astype(dtype)
    return params


def make_batch(dtype: np.dtype, batch: int | None = None, seed: int = 1,
               sizes: tuple[int, ...] | None = None) -> tuple[np.ndarray, ...]:
    batch = BATCH if batch is None else batch
    sizes = SIZES if sizes is None else sizes
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, sizes[0])).astype(dtype)
    y = rng.integers(0, sizes[-1], batch)
    return x, y


def funcdiff_loss(params: Params, x: Any, y: Any) -> Any:
    """The loss as a funcdiff user writes it (the README's style: operators and jnp)."""
    h = jnp.tanh(x @ params["w1"] + params["b1"])
    h = jnp.tanh(h @ params["w2"] + params["b2"])
    logits = h @ params["w3"] + params["b3"]
    onehot = nn.one_hot(y, logits.shape[-1], dtype=logits.dtype)
    return -jnp.mean(jnp.sum(onehot * nn.log_softmax(logits), axis=-1))


def numpy_loss(params: Params, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Hand-written NumPy forward pass: the same loss, stable log-softmax."""
    h = np.tanh(x @ params["w1"] + params["b1"])
    h = np.tanh(h @ params["w2"] + params["b2"])
    logits = h @ params["w3"] + params["b3"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    onehot = (y[:, None] == np.arange(logits.shape[1])).astype(logits.dtype)
    return -(onehot * logp).sum() / x.shape[0]


def numpy_value_and_grad(params: Params, x: np.ndarray, y: np.ndarray) -> tuple[Any, Params]:
    """Hand-written backpropagation, written well: activations reused, ``@`` matmuls,
    in-place updates of fresh temporaries, stable log-softmax (softmax from its exponentials).
    """
    n = x.shape[0]
    w1, w2, w3 = params["w1"], params["w2"], params["w3"]
    h1 = np.tanh(x @ w1 + params["b1"])
    h2 = np.tanh(h1 @ w2 + params["b2"])
    logits = h2 @ w3 + params["b3"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=1, keepdims=True)
    onehot = (y[:, None] == np.arange(logits.shape[1])).astype(logits.dtype)
    loss = -(onehot * (shifted - np.log(total))).sum() / n
    # d loss / d logits = (softmax - onehot) / n
    d3 = e / total
    d3 -= onehot
    d3 /= n
    d2 = d3 @ w3.T
    d2 *= 1 - h2 * h2
    d1 = d2 @ w2.T
    d1 *= 1 - h1 * h1
    grads = {
        "w1": x.T @ d1, "b1": d1.sum(axis=0),
        "w2": h1.T @ d2, "b2": d2.sum(axis=0),
        "w3": h2.T @ d3, "b3": d3.sum(axis=0),
    }
    return loss, grads


def numpy_grad(params: Params, x: np.ndarray, y: np.ndarray) -> Params:
    return numpy_value_and_grad(params, x, y)[1]


def check_gradients(dtype: np.dtype, params: Params, x: np.ndarray, y: np.ndarray) -> float:
    """Assert that funcdiff's loss and gradient equal the hand-written ones; return the worst
    relative error (max |difference| / max |reference| over the leaves)."""
    rtol = TOLERANCES[np.dtype(dtype).name]
    ref_loss, ref = numpy_value_and_grad(params, x, y)
    got_loss = funcdiff_loss(params, x, y)
    np.testing.assert_allclose(got_loss, ref_loss, rtol=rtol, err_msg="eager loss")
    got = funcdiff.grad(funcdiff_loss)(params, x, y)
    assert isinstance(got, dict) and sorted(got) == sorted(ref), sorted(got)
    worst = 0.0
    for k in sorted(ref):
        g, r = np.asarray(got[k]), ref[k]
        assert g.shape == r.shape, (k, g.shape, r.shape)
        assert g.dtype == r.dtype, f"grad[{k!r}] has dtype {g.dtype}, expected {r.dtype}"
        scale = float(np.max(np.abs(r)))
        np.testing.assert_allclose(g, r, rtol=rtol, atol=rtol * scale, err_msg=f"grad[{k!r}]")
        worst = max(worst, float(np.max(np.abs(g - r))) / scale)
    return worst


# ---- timing -----------------------------------------------------------------------------------


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
# The clock of all timings; `--clock cpu` selects the process's CPU time, which ignores time
# spent waiting for a core on a shared machine (meaningful with OPENBLAS_NUM_THREADS=1 only:
# with more threads it adds theirs up).
CLOCK = CLOCKS["wall"]


def minor_faults() -> int:
    """Minor page faults of this process so far (0 where `resource` is missing)."""
    if resource is None:
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def time_interleaved(
    fns: dict[str, Callable[[], Any]], repeats: int, warmup: int,
    faults: dict[str, float] | None = None,
) -> dict[str, list[float]]:
    """Seconds per call of each function: `repeats` rounds, each calling every function once,
    starting from a different one each round. If `faults` is given, it receives the mean
    number of minor page faults per call of each function (counted outside the timing)."""
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            fns[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    n_faults = dict.fromkeys(names, 0)
    clock = CLOCK
    for r in range(repeats):
        for i in range(len(names)):
            name = names[(r + i) % len(names)]
            fn = fns[name]
            f0 = minor_faults()
            t0 = clock()
            fn()
            t1 = clock()
            n_faults[name] += minor_faults() - f0
            times[name].append(t1 - t0)
    if faults is not None:
        faults.update({name: n / repeats for name, n in n_faults.items()})
    return times


def time_per_call(fns: dict[str, Callable[[], Any]], number: int, repeats: int) -> dict:
    """Seconds per call for fast functions: `repeats` interleaved samples of `number` calls
    (timeit's loop, garbage collector off during a sample)."""
    timers = {name: timeit.Timer(fn, timer=CLOCK) for name, fn in fns.items()}
    for t in timers.values():
        t.timeit(max(1, number // 10))
    names = list(timers)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for i in range(len(names)):
            name = names[(r + i) % len(names)]
            samples[name].append(timers[name].timeit(number) / number)
    return samples


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def quartiles(xs: list[float]) -> tuple[float, float]:
    if len(xs) < 2:
        return xs[0], xs[0]
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], q[2]


# ---- counting primitive binds -----------------------------------------------------------------


def count_binds(fn: Callable[[], Any]) -> dict[str, Any]:
    """Run `fn` once with `Primitive.bind`, `Primitive.run_impl` and the staging trace's
    `emit` counted (patched on the classes for this call only)."""
    from funcdiff._src import core
    from funcdiff._src.interpreters import partial_eval as pe

    binds: Counter[str] = Counter()
    impls: Counter[str] = Counter()
    staged: Counter[str] = Counter()
    orig_bind, orig_impl = core.Primitive.bind, core.Primitive.run_impl
    orig_emit = getattr(pe.JaxprTrace, "emit", None)

    def bind(self, *args, **params):
        binds[self.name] += 1
        return orig_bind(self, *args, **params)

    def run_impl(self, args, params):
        impls[self.name] += 1
        return orig_impl(self, args, params)

    def emit(self, primitive, *rest, **kw):
        staged[primitive.name] += 1
        return orig_emit(self, primitive, *rest, **kw)

    core.Primitive.bind = bind
    core.Primitive.run_impl = run_impl
    if orig_emit is not None:
        pe.JaxprTrace.emit = emit
    try:
        fn()
    finally:
        core.Primitive.bind = orig_bind
        core.Primitive.run_impl = orig_impl
        if orig_emit is not None:
            pe.JaxprTrace.emit = orig_emit
    return {"binds": binds, "impls": impls, "staged": staged}


# ---- the benchmarks ---------------------------------------------------------------------------


def bench_mlp(dtype: np.dtype, repeats: int, warmup: int, with_jit: bool) -> dict[str, Any]:
    params = init_params(dtype)
    x, y = make_batch(dtype)
    worst = check_gradients(dtype, params, x, y)
    fd_grad = funcdiff.grad(funcdiff_loss)
    fns = {
        "numpy_loss": lambda: numpy_loss(params, x, y),
        "funcdiff_loss": lambda: funcdiff_loss(params, x, y),
        "numpy_grad": lambda: numpy_grad(params, x, y),
        "funcdiff_grad": lambda: fd_grad(params, x, y),
    }
    if with_jit:
        # For reference only: the target is eager grad.
        jit_grad = funcdiff.jit(funcdiff.grad(funcdiff_loss))
        ref = numpy_grad(params, x, y)
        got = jit_grad(params, x, y)
        rtol = TOLERANCES[np.dtype(dtype).name]
        for k in ref:
            np.testing.assert_allclose(got[k], ref[k], rtol=rtol,
                                       atol=rtol * float(np.max(np.abs(ref[k]))))
        fns["funcdiff_jit_grad"] = lambda: jit_grad(params, x, y)
    faults: dict[str, float] = {}
    times = time_interleaved(fns, repeats, warmup, faults)
    counts = count_binds(lambda: fd_grad(params, x, y))
    return {"times": times, "worst_rel_err": worst, "counts": counts, "faults": faults}


def _sin_chain(sin: Callable[[Any], Any], sum_: Callable[[Any], Any], n: int):
    def chain(x: Any) -> Any:
        for _ in range(n):
            x = sin(x)
        return sum_(x)

    return chain


def _numpy_sin_chain_grad(n: int):
    def value_and_grad(x: np.ndarray) -> tuple[Any, np.ndarray]:
        inputs = []
        for _ in range(n):
            inputs.append(x)
            x = np.sin(x)
        g = np.ones_like(x)
        for xi in reversed(inputs):
            g = g * np.cos(xi)
        return x.sum(), g

    return value_and_grad


def bench_overhead(dtype: np.dtype, chain_n: int, number: int, repeats: int) -> dict[str, Any]:
    """Per-call overhead on a 1-element array, outside transformations and under grad."""
    x = np.full(1, 0.5, dtype)
    jsin, jadd, nsin, nadd = jnp.sin, jnp.add, np.sin, np.add
    eager = time_per_call(
        {
            "numpy_sin": lambda: nsin(x),
            "funcdiff_sin": lambda: jsin(x),
            "numpy_add": lambda: nadd(x, x),
            "funcdiff_add": lambda: jadd(x, x),
        },
        number,
        repeats,
    )
    fd_chain_grad = funcdiff.grad(_sin_chain(jnp.sin, jnp.sum, chain_n))
    np_chain = _sin_chain(np.sin, np.sum, chain_n)
    np_chain_grad = _numpy_sin_chain_grad(chain_n)
    np.testing.assert_allclose(fd_chain_grad(x), np_chain_grad(x)[1], rtol=TOLERANCES[x.dtype.name])
    chain_number = max(1, number // (10 * chain_n))
    chain = time_per_call(
        {
            "numpy_fwd": lambda: np_chain(x),
            "numpy_fwd_bwd": lambda: np_chain_grad(x),
            "funcdiff_grad": lambda: fd_chain_grad(x),
        },
        chain_number,
        repeats,
    )
    counts = count_binds(lambda: fd_chain_grad(x))
    return {"eager": eager, "chain": chain, "chain_n": chain_n, "counts": counts}


# ---- machine and command description --------------------------------------------------------


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _openblas_info() -> str:
    """Name, version, core type and thread count of the OpenBLAS NumPy loaded, if it is one."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        desc = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 - any failure just means less detail
        desc = "BLAS unknown"
    try:
        with open("/proc/self/maps") as f:
            paths = {ln.split()[-1] for ln in f if "openblas" in ln.lower() and "/" in ln}
        lib = ctypes.CDLL(sorted(paths)[0])
        for prefix, suffix in (("scipy_openblas_", "64_"), ("openblas_", "")):
            core_fn = getattr(lib, f"{prefix}get_corename{suffix}", None)
            threads_fn = getattr(lib, f"{prefix}get_num_threads{suffix}", None)
            if core_fn is not None and threads_fn is not None:
                core_fn.restype = ctypes.c_char_p
                threads_fn.restype = ctypes.c_int
                core = core_fn().decode()
                desc += f", core {core}, {threads_fn()} threads"
                break
    except Exception:  # noqa: BLE001
        pass
    return desc


def _git_revision() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=_ROOT,
                             capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "funcdiff"], cwd=_ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return rev + (" + uncommitted changes in funcdiff/" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def command_line() -> str:
    """The command that reproduces this run, with the environment variables that matter."""
    env = []
    unset = [v for v in BLAS_ENV if v not in os.environ]
    if unset:
        env += ["env"] + [f"-u {v}" for v in unset]
    env += [f"{v}={shlex.quote(os.environ[v])}" for v in BLAS_ENV + THREAD_ENV if v in os.environ]
    script = os.path.relpath(os.path.abspath(sys.argv[0]), _ROOT)
    argv = " ".join(shlex.quote(a) for a in sys.argv[1:])
    return " ".join(env + ["python", script] + ([argv] if argv else []))


def machine_lines() -> list[str]:
    return [
        f"- command (from the repository root): `{command_line()}`",
        f"- machine: {platform.platform()}, {_cpu_model()}, os.cpu_count() = {os.cpu_count()}",
        f"- Python {platform.python_version()}, NumPy {np.__version__} ({_openblas_info()})",
        f"- funcdiff {funcdiff.__version__}, git {_git_revision()}",
    ]


# ---- report -----------------------------------------------------------------------------------


def _ms(xs: list[float]) -> str:
    lo, hi = quartiles(xs)
    return f"{median(xs) * 1e3:.2f} [{lo * 1e3:.2f}–{hi * 1e3:.2f}]"


def _us(xs: list[float]) -> str:
    return f"{median(xs) * 1e6:.2f}"


def _busy_warning(args: argparse.Namespace) -> list[str]:
    cpus = os.cpu_count() or 1
    limit = 0.5 + 0.75 * cpus
    if not max(args.load) > limit:
        return []
    advice = ("" if args.clock == "cpu" else "; on a shared machine, "
              "`OPENBLAS_NUM_THREADS=1 ... --clock cpu` gives steadier ratios")
    return [f"- **warning: the machine was busy (load average above {limit:g}); "
            f"wall-clock figures, multithreaded BLAS ones above all, are unreliable{advice}**"]


def report(args: argparse.Namespace, mlp: dict[str, dict], over: dict[str, dict]) -> str:
    out = [f"## funcdiff eager `grad` vs hand-written NumPy: {'-'.join(map(str, SIZES))} tanh "
           f"MLP, softmax cross-entropy, batch {BATCH}", ""]
    out += machine_lines()
    out += [
        f"- {args.repeats} interleaved rounds per dtype (each round runs the four variants "
        f"once, rotating the order) after {args.warmup} warm-up rounds; median time per call "
        f"in ms, [quartiles]; clock: {args.clock} ({CLOCK.__name__})",
        f"- 1-minute load average {args.load[0]:.2f} before and {args.load[1]:.2f} after the run "
        f"(the benchmark itself adds about 1; more means other processes shared the "
        f"{os.cpu_count()} CPUs)",
        "- ratio = funcdiff median / hand-written NumPy median, from this one run",
        *_busy_warning(args),
        "",
        "| dtype | NumPy loss | funcdiff loss | loss ratio | NumPy backprop | funcdiff `grad` "
        "| grad ratio | grad ≤ 1.5x? | max rel. grad diff |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in mlp.items():
        t = r["times"]
        loss_ratio = median(t["funcdiff_loss"]) / median(t["numpy_loss"])
        grad_ratio = median(t["funcdiff_grad"]) / median(t["numpy_grad"])
        out.append(
            f"| {name} | {_ms(t['numpy_loss'])} | {_ms(t['funcdiff_loss'])} | "
            f"{loss_ratio:.2f}x | {_ms(t['numpy_grad'])} | {_ms(t['funcdiff_grad'])} | "
            f"**{grad_ratio:.2f}x** | {'yes' if grad_ratio <= 1.5 else 'no'} | "
            f"{r['worst_rel_err']:.1e} |"
        )
    for name, r in mlp.items():
        t = r["times"]
        if "funcdiff_jit_grad" in t:
            out.append(
                f"\nFor reference, `funcdiff.jit(funcdiff.grad(loss))` ({name}, same rounds, "
                f"compiled in the warm-up): {_ms(t['funcdiff_jit_grad'])} ms, "
                f"{median(t['funcdiff_jit_grad']) / median(t['numpy_grad']):.2f}x the "
                "hand-written backprop."
            )
    labels = {"numpy_loss": "NumPy loss", "funcdiff_loss": "funcdiff loss",
              "numpy_grad": "NumPy backprop", "funcdiff_grad": "funcdiff grad",
              "funcdiff_jit_grad": "jit(grad)"}
    out.append("")
    for name, r in mlp.items():
        f = r["faults"]
        many = max(f.values()) > 100
        out.append(
            f"- minor page faults per call, {name}: "
            + ", ".join(f"{labels.get(k, k)} {v:.0f}" for k, v in f.items())
            + (" (**many**: the allocator returned freed buffers to the OS between calls, "
               "and the timings include refaulting them; see bench/README.md)" if many else "")
        )
    first = next(iter(mlp.values()))["counts"]
    n_binds, n_impls = sum(first["binds"].values()), sum(first["impls"].values())
    out += [
        "",
        f"One `grad` call binds {n_binds} primitives, runs {n_impls} NumPy implementations and "
        f"stages {sum(first['staged'].values())} linear equations (the hand-written backprop "
        f"makes {NUMPY_OPS_IN_HAND_BACKPROP} NumPy calls).",
        "",
        "### Per-primitive overhead (1-element arrays)",
        "",
        f"- eager: one call, {args.number} calls per sample; under `grad`: `grad` of a chain of "
        f"N = {args.chain} `sin` then `sum`, time / N, against the same chain in NumPy (forward "
        "only, and forward + hand-written backward); median of "
        f"{args.overhead_repeats} interleaved samples, µs",
        "",
        "| dtype | measure | NumPy (µs) | funcdiff (µs) | overhead (µs) | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in over.items():
        e, c, n = r["eager"], r["chain"], r["chain_n"]
        for op in ("sin", "add"):
            np_t, fd_t = median(e[f"numpy_{op}"]), median(e[f"funcdiff_{op}"])
            call = "sin(x)" if op == "sin" else "add(x, x)"
            out.append(f"| {name} | `{call}` outside transformations | {np_t * 1e6:.2f} | "
                       f"{fd_t * 1e6:.2f} | {(fd_t - np_t) * 1e6:.2f} | {fd_t / np_t:.1f}x |")
        fd_t = median(c["funcdiff_grad"]) / n
        for key, label in (("numpy_fwd", "forward"), ("numpy_fwd_bwd", "forward + backward")):
            np_t = median(c[key]) / n
            out.append(f"| {name} | `sin` under `grad`, per op (NumPy: {label}) | "
                       f"{np_t * 1e6:.2f} | {fd_t * 1e6:.2f} | {(fd_t - np_t) * 1e6:.2f} | "
                       f"{fd_t / np_t:.1f}x |")
    counts = next(iter(over.values()))["counts"]
    n = next(iter(over.values()))["chain_n"]
    out += [
        "",
        f"`grad` of the {n}-op chain binds {sum(counts['binds'].values())} primitives "
        f"({sum(counts['binds'].values()) / n:.1f} per `sin`) and runs "
        f"{sum(counts['impls'].values())} NumPy implementations.",
    ]
    return "\n".join(out)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=100,
                   help="timed rounds of the MLP benchmark per dtype (default 100)")
    p.add_argument("--warmup", type=int, default=5, help="untimed rounds first (default 5)")
    p.add_argument("--dtype", choices=("float32", "float64", "both"), default="both")
    p.add_argument("--chain", type=int, default=100,
                   help="length N of the op chain timed under grad (default 100)")
    p.add_argument("--number", type=int, default=20000,
                   help="calls per sample of the eager per-op timing (default 20000)")
    p.add_argument("--overhead-repeats", type=int, default=15,
                   help="samples of each per-op timing (default 15)")
    p.add_argument("--clock", choices=tuple(CLOCKS), default="wall",
                   help="wall-clock time (default) or process CPU time (robust to other "
                   "processes, with OPENBLAS_NUM_THREADS=1 only)")
    p.add_argument("--no-jit", action="store_true",
                   help="leave out the reference timing of jit(grad)")
    p.add_argument("--quick", action="store_true",
                   help="a tiny run for smoke tests (a 32-16-16-10 model at batch 8, 2 rounds, "
                   "short chain, few calls)")
    args = p.parse_args(argv)
    if args.quick:
        args.repeats, args.warmup, args.chain = 2, 1, 5
        args.number, args.overhead_repeats = 200, 2
        use_quick_sizes()
    if min(args.repeats, args.chain, args.number, args.overhead_repeats) < 1 or args.warmup < 0:
        p.error("counts must be positive")
    return args


def use_quick_sizes() -> None:
    """Makes the model tiny, for `--quick` smoke runs (here and in profile_grad.py)."""
    global SIZES, BATCH
    SIZES, BATCH = QUICK_SIZES, QUICK_BATCH


def warn_blas_env() -> None:
    for v in BLAS_ENV:
        if v in os.environ:
            print(f"warning: {v}={os.environ[v]} is set; it slows NumPy's OpenBLAS here. Run "
                  f"with `env -u {' -u '.join(BLAS_ENV)} python ...`.", file=sys.stderr)


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def main(argv: list[str] | None = None) -> int:
    global CLOCK
    args = parse_args(argv)
    CLOCK = CLOCKS[args.clock]
    names = ("float32", "float64") if args.dtype == "both" else (args.dtype,)
    warn_blas_env()
    mlp, over = {}, {}
    load_start = _load()
    for name in names:
        dtype = np.dtype(name)
        mlp[name] = bench_mlp(dtype, args.repeats, args.warmup,
                              hasattr(funcdiff, "jit") and not args.no_jit)
        over[name] = bench_overhead(dtype, args.chain, args.number, args.overhead_repeats)
    args.load = (load_start, _load())
    print(report(args, mlp, over))
    return 0


if __name__ == "__main__":
    sys.exit(main())
