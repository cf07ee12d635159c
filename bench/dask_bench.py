"""W8: the gradient of a logistic-regression loss over a chunked dataset, on a Dask cluster of
one and of two worker processes, against single-process NumPy, side by side in one run.

The same data (float64, generated once here) is held by the single process as NumPy arrays
and by each cluster as persisted Dask arrays (chunked along the examples). Per round, in turn:
``jit(grad(loss))`` on the NumPy arrays; `funcdiff.dask.grad_over_chunks` on each cluster
(one task per chunk, tree reduction); and ``jit(grad(loss))`` called on the Dask arrays
(funcdiff lowering to Dask's namespace) on each cluster. Reported: medians over the rounds and
each one's ratio to NumPy (below 1 is faster than NumPy). With 2 cores shared with other work,
the 2-worker figures say how far the parallel part can go on this machine, not in general.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/dask_bench.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/dask_bench.py --quick
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import funcdiff  # noqa: E402
import funcdiff.numpy as jnp  # noqa: E402
from funcdiff.dask import grad_over_chunks  # noqa: E402


def loss(w, X, y):
    z = X @ w
    return jnp.mean(jnp.logaddexp(0.0, z) - y * z)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _on(client, fn, *args):
    """A run: build the graph of `fn(*args)` and compute it on `client`'s cluster."""
    return lambda: client.compute(fn(*args)).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run of a few seconds: 4,000 rows in 4 chunks, 1 round, worker threads "
        "instead of processes",
    )
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--features", type=int, default=16)
    parser.add_argument("--chunks", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    if args.quick:
        args.rows, args.chunks, args.rounds = 4_000, 4, 1
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if var in os.environ:
            print(f"warning: {var} is set; run with env -u {var}", file=sys.stderr)
    n, d = args.rows, args.features
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d))
    y = (rng.random(n) < 1 / (1 + np.exp(-X @ np.linspace(-1, 1, d)))).astype(np.float64)
    w = rng.normal(size=d) * 0.1
    chunk = -(-n // args.chunks)
    print(
        f"W8: logistic-regression gradient, {n} x {d} float64 ({X.nbytes / 2**20:.0f} MiB), "
        f"{args.chunks} chunks of {chunk} rows; {args.rounds} rounds"
    )

    numpy_grad = funcdiff.jit(funcdiff.grad(loss))
    expected = np.asarray(numpy_grad(w, X, y))
    times: dict[str, list[float]] = {"numpy": []}
    clusters = []
    # LocalCluster's silence_logs lasts only while the cluster is open, so the shutdown's INFO
    # lines (with a traceback of a comm closed mid-send, which is harmless) would print.
    logging.getLogger("distributed").setLevel(logging.ERROR)
    try:
        for workers in (1, 2):
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=not args.quick,  # worker processes take seconds to start
                dashboard_address=":0",
                silence_logs=logging.ERROR,
            )
            client = Client(cluster, set_as_default=False)
            Xd = client.persist(da.from_array(X, chunks=(chunk, d)))
            yd = client.persist(da.from_array(y, chunks=chunk))
            helper = grad_over_chunks(loss)
            jitted = funcdiff.jit(funcdiff.grad(loss))
            runs = {
                f"grad_over_chunks, {workers} worker(s)": _on(client, helper, w, Xd, yd),
                f"jit(grad) on Dask arrays, {workers} worker(s)": _on(client, jitted, w, Xd, yd),
            }
            for name, run in runs.items():
                np.testing.assert_allclose(run(), expected, rtol=1e-10, atol=1e-13)  # warm-up
                times[name] = []
            clusters.append((cluster, client, runs))
        for _ in range(args.rounds):  # interleaved: every variant once per round
            times["numpy"].append(timed(lambda: numpy_grad(w, X, y)))
            for _, _, runs in clusters:
                for name, run in runs.items():
                    times[name].append(timed(run))
    finally:
        for cluster, client, _ in clusters:
            client.close()
            cluster.close()
    base = statistics.median(times["numpy"])
    print(f"{'variant':<40} {'median':>10} {'range':>21} {'/ NumPy':>8}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(
            f"{name:<40} {med * 1e3:8.1f} ms {min(ts) * 1e3:8.1f}-{max(ts) * 1e3:8.1f} ms "
            f"{med / base:7.2f}x"
        )


if __name__ == "__main__":
    main()
