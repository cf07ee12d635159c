"""Memory held for the backward pass, with and without `funcdiff.checkpoint`.

`grad` of a 64-layer, 128-wide tanh MLP (batch 2048, float64), with `checkpoint` around every
block of 8 layers, against the same gradient without checkpointing and against hand-written
NumPy backpropagation that keeps only one input per block (recomputing each block during the
backward pass). Memory is the tracemalloc peak during the call, less the returned gradient.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/checkpoint_bench.py
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import tracemalloc

import numpy as np

import funcdiff
import funcdiff.numpy as jnp


def mlp(ws, x, block):
    def run(ws_block, h):
        for w in ws_block:
            h = jnp.tanh(h @ w)
        return h

    if block:
        step = funcdiff.checkpoint(run)
        for i in range(0, len(ws), block):
            x = step(ws[i:i + block], x)
    else:
        x = run(ws, x)
    return jnp.sum(x * x)


def grad_by_hand(ws, x, block):
    """Backpropagation keeping one input per block, recomputing each block backwards."""
    inputs = []
    h = x
    for i in range(0, len(ws), block):
        inputs.append(h)
        for w in ws[i:i + block]:
            h = np.tanh(h @ w)
    g = 2 * h
    grads = [None] * len(ws)
    for b in reversed(range(len(inputs))):
        acts = [inputs[b]]
        for w in ws[b * block:(b + 1) * block - 1]:
            acts.append(np.tanh(acts[-1] @ w))
        for k in reversed(range(len(acts))):
            i = b * block + k
            y = np.tanh(acts[k] @ ws[i])
            delta = g * (1 - y * y)
            grads[i] = acts[k].T @ delta
            g = delta @ ws[i].T
    return grads


def measure(fn, repeats):
    out = fn()
    out_bytes = sum(np.asarray(g).nbytes for g in funcdiff.tree_util.tree_leaves(out))
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] - out_bytes
    tracemalloc.stop()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return out, peak, statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=64)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--batch", type=int, default=2048)
    parser.add_argument("--block", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.layers, args.width, args.batch, args.block, args.repeats = 8, 16, 32, 2, 1
    rng = np.random.default_rng(0)
    ws = [rng.normal(size=(args.width, args.width)) / np.sqrt(args.width)
          for _ in range(args.layers)]
    x = rng.normal(size=(args.batch, args.width))
    plain = funcdiff.grad(lambda ws: mlp(ws, x, None))
    ckpt = funcdiff.grad(lambda ws: mlp(ws, x, args.block))
    g_plain, m_plain, t_plain = measure(lambda: plain(ws), args.repeats)
    g_ckpt, m_ckpt, t_ckpt = measure(lambda: ckpt(ws), args.repeats)
    g_hand, m_hand, t_hand = measure(lambda: grad_by_hand(ws, x, args.block), args.repeats)
    for a, b, c in zip(g_plain, g_ckpt, g_hand):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(a, c, rtol=1e-9, atol=1e-12)
    print(f"# checkpoint benchmark: {args.layers}-layer, {args.width}-wide tanh MLP, batch "
          f"{args.batch}, float64, a checkpoint every {args.block} layers\n")
    print(f"command: `{' '.join(['python'] + sys.argv)}`  ")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, NumPy {np.__version__}; "
          "same gradients checked (rtol 1e-9)\n")
    print("| gradient | memory held (MB) | ratio to no checkpoint | time (s) | time ratio |")
    print("|---|---:|---:|---:|---:|")
    for name, m, t in (("funcdiff grad, no checkpoint", m_plain, t_plain),
                       ("funcdiff grad, checkpoint", m_ckpt, t_ckpt),
                       ("hand-written, one input per block", m_hand, t_hand)):
        print(f"| {name} | {m / 1e6:.1f} | {m / m_plain:.2f} | {t:.3f} | {t / t_plain:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
