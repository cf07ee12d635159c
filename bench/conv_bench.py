"""funcdiff's convolution against a hand-written NumPy im2col convolution, side by side.

One convnet layer, channels last (NHWC input, HWIO kernel, stride 1, "SAME" padding):

- forward: ``lax.conv_general_dilated`` against im2col (padded input, strided windows as a
  view, one matrix product);
- forward + backward: ``funcdiff.vjp`` and its pullback (the gradients of input and kernel,
  each a convolution, from the primitive's transpose rules) against the hand-written
  backward pass (the kernel gradient as one matrix product with the im2col columns, the input
  gradient as col2im: one matrix product, then one strided add per kernel tap);
- the same under ``funcdiff.jit``.

Every variant is timed once per round, in rotating order, so that all see the same machine;
the table gives medians and their ratio to the NumPy floor (target: within 3x).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/conv_bench.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/conv_bench.py --quick
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

import funcdiff
from funcdiff import lax

DN = ("NHWC", "HWIO", "NHWC")


def im2col_forward(x, w):
    """SAME, stride-1 convolution: returns the output and the columns (kept for backward)."""
    kh, kw, c, o = w.shape
    n, h, wd, _ = x.shape
    ph, pw = (kh - 1) // 2, (kw - 1) // 2
    xp = np.pad(x, ((0, 0), (ph, kh - 1 - ph), (pw, kw - 1 - pw), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(1, 2))  # n h w c kh kw
    cols = win.transpose(0, 1, 2, 4, 5, 3).reshape(n * h * wd, kh * kw * c)
    return (cols @ w.reshape(kh * kw * c, o)).reshape(n, h, wd, o), cols


def im2col_backward(g, x, w, cols):
    kh, kw, c, o = w.shape
    n, h, wd, _ = x.shape
    ph, pw = (kh - 1) // 2, (kw - 1) // 2
    g2 = g.reshape(-1, o)
    dw = (cols.T @ g2).reshape(kh, kw, c, o)
    dcols = (g2 @ w.reshape(kh * kw * c, o).T).reshape(n, h, wd, kh, kw, c)
    dxp = np.zeros((n, h + kh - 1, wd + kw - 1, c), x.dtype)
    for i in range(kh):
        for j in range(kw):
            dxp[:, i:i + h, j:j + wd] += dcols[:, :, :, i, j]
    return dxp[:, ph:ph + h, pw:pw + wd], dw


def numpy_forward(x, w):
    return im2col_forward(x, w)[0]


def numpy_forward_backward(x, w, g):
    out, cols = im2col_forward(x, w)
    return out, im2col_backward(g, x, w, cols)


def conv(x, w):
    return lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=DN)


def funcdiff_forward_backward(x, w, g):
    out, pullback = funcdiff.vjp(conv, x, w)
    return out, pullback(g)


def rounds(variants: dict, repeats: int) -> dict[str, list[float]]:
    names = list(variants)
    times: dict[str, list[float]] = {name: [] for name in names}
    for fn in variants.values():  # warm up (and compile the jitted ones)
        fn()
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            start = time.perf_counter()
            variants[name]()
            times[name].append(time.perf_counter() - start)
    return times


def report(title: str, times: dict[str, list[float]], base: str) -> dict[str, float]:
    base_median = statistics.median(times[base])
    print(f"## {title}\n")
    print(f"| implementation | median (ms) | quartiles (ms) | ratio to {base} |")
    print("|---|---:|---:|---:|")
    ratios = {}
    for name, ts in times.items():
        q1, med, q3 = statistics.quantiles(ts, n=4) if len(ts) > 1 else (ts[0],) * 3
        ratios[name] = med / base_median
        print(f"| {name} | {med * 1e3:.2f} | {q1 * 1e3:.2f}-{q3 * 1e3:.2f} | "
              f"{ratios[name]:.2f}x |")
    print()
    return ratios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=28, help="height and width")
    parser.add_argument("--channels", type=int, nargs=2, default=(16, 32),
                        metavar=("IN", "OUT"))
    parser.add_argument("--kernel", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for smoke tests")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.batch, args.size, args.channels = 3, 2, 6, (3, 4)
    n, s, (c, o), k = args.batch, args.size, args.channels, args.kernel
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, s, s, c))
    w = rng.standard_normal((k, k, c, o)) / np.sqrt(k * k * c)
    g = rng.standard_normal((n, s, s, o))

    print("# Convolution: funcdiff against hand-written NumPy im2col\n")
    print(f"command: `{' '.join(['python'] + sys.argv)}`  ")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, NumPy {np.__version__}  ")
    blas_env = [v for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if v in os.environ]
    if blas_env:
        print(f"warning: {', '.join(blas_env)} set; unset them for the benchmark",
              file=sys.stderr)
    print(f"load average: {os.getloadavg()[0]:.2f}  ")
    print(f"layer: input {n}x{s}x{s}x{c} (NHWC), kernel {k}x{k}x{c}x{o} (HWIO), stride 1, "
          f"SAME, float64; medians of {args.repeats} interleaved rounds\n")

    # The two implementations agree before anything is timed.
    out, (dx, dw) = numpy_forward_backward(x, w, g)
    f_out, (f_dx, f_dw) = funcdiff_forward_backward(x, w, g)
    for got, expected in ((f_out, out), (f_dx, dx), (f_dw, dw)):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)

    jit_conv = funcdiff.jit(conv)
    jit_fb = funcdiff.jit(funcdiff_forward_backward)
    np.testing.assert_allclose(jit_fb(x, w, g)[1][1], dw, rtol=1e-10, atol=1e-10)
    forward = rounds({
        "NumPy im2col": lambda: numpy_forward(x, w),
        "funcdiff conv_general_dilated": lambda: conv(x, w),
        "funcdiff jit": lambda: jit_conv(x, w),
    }, args.repeats)
    fwd = report("Forward", forward, "NumPy im2col")
    both = rounds({
        "NumPy im2col + col2im": lambda: numpy_forward_backward(x, w, g),
        "funcdiff vjp + pullback": lambda: funcdiff_forward_backward(x, w, g),
        "funcdiff jit": lambda: jit_fb(x, w, g),
    }, args.repeats)
    bwd = report("Forward and backward (gradients of input and kernel)", both,
                 "NumPy im2col + col2im")
    worst = max(fwd["funcdiff conv_general_dilated"], bwd["funcdiff vjp + pullback"])
    print(f"worst eager ratio: {worst:.2f}x (target: within 3x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
