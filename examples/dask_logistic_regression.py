"""Train a logistic regression on a Dask array larger than a worker's memory, with funcdiff.

The script starts its own Dask cluster (a `LocalCluster` of two worker processes with a memory
limit each), generates the dataset on the workers chunk by chunk (it never exists on this
process), and trains with `funcdiff.optim.adam`. Each epoch is one full-batch step: the loss and
its gradient are computed where the chunks live, one task per chunk running the same jitted
NumPy program (`funcdiff.dask.value_and_grad_over_chunks`), and summed with a tree reduction;
only the parameters and the gradient travel. It then trains the same model with plain NumPy on
a subsample that fits in memory and checks that both reach the same loss.

    python -m pip install ".[scale]"            # Dask and distributed (tqdm optional)
    python examples/dask_logistic_regression.py            # 1.6 GB of data, 4x a worker's limit
    python examples/dask_logistic_regression.py --quick    # a small run, for tests
"""

from __future__ import annotations

import argparse
import logging
import time

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import optim
from funcdiff.dask import value_and_grad_over_chunks


def loss(params, X, y):
    """Mean logistic loss of the examples (X, y): a mean over examples, so the gradient over
    the whole dataset is the size-weighted mean of the per-chunk gradients."""
    z = X @ params["w"] + params["b"]
    return jnp.mean(jnp.logaddexp(0.0, z) - y * z)


def make_data(n: int, d: int, chunk: int, seed: int = 0) -> tuple[da.Array, da.Array]:
    """A lazy dataset: Gaussian features and labels drawn from a logistic model."""
    rs = da.random.RandomState(seed)
    X = rs.normal(size=(n, d), chunks=(chunk, d))
    true_w = np.linspace(-2.0, 2.0, d)
    p = 1.0 / (1.0 + da.exp(-(X @ true_w + 0.5)))
    y = (rs.random_sample(size=n, chunks=chunk) < p).astype(np.float64)
    return X, y


def progress(epochs: int):
    """tqdm's progress bar if it is installed, else a plain range (losses are printed)."""
    try:
        from tqdm import tqdm
    except ImportError:
        return range(epochs), print
    bar = tqdm(range(epochs), desc="epochs", unit="epoch")
    return bar, bar.write


def train(step, params, epochs: int, label: str):
    """Run `epochs` steps of Adam; `step(params) -> (loss, grads)`."""
    opt = optim.adam(0.1)
    state = opt.init(params)
    epochs_iter, say = progress(epochs)
    value = float("nan")
    for epoch in epochs_iter:
        value, grads = step(params)
        updates, state = opt.update(grads, state, params)
        params = optim.apply_updates(params, updates)
        say(f"{label} epoch {epoch + 1:3d}: loss {float(value):.6f}")
    return params, float(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small dataset and few epochs")
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args()
    if args.quick:
        n, d, chunk, epochs, limit, sample = 120_000, 8, 15_000, 10, "300MiB", 40_000
    else:
        n, d, chunk, epochs, limit, sample = 20_000_000, 10, 500_000, 40, "400MiB", 400_000
    epochs = args.epochs or epochs
    X, y = make_data(n, d, chunk)
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit=limit,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        worker_limit = next(iter(client.scheduler_info()["workers"].values()))["memory_limit"]
        print(
            f"Dataset: {n} x {d} float64 = {X.nbytes / 2**20:.0f} MiB in {X.numblocks[0]} "
            f"chunks, {X.nbytes / worker_limit:.1f}x a worker's memory limit "
            f"({worker_limit / 2**20:.0f} MiB); 2 worker processes"
        )
        vg = value_and_grad_over_chunks(loss)
        params = {"w": np.zeros(d), "b": np.zeros(())}
        start = time.perf_counter()
        params, dask_loss = train(
            lambda p: client.compute(vg(p, X, y)).result(), params, epochs, "dask "
        )
        print(f"Dask: final loss {dask_loss:.6f} in {time.perf_counter() - start:.1f} s")
        Xs, ys = client.compute([X[:sample], y[:sample]], sync=True)  # fits in memory
    step = funcdiff.jit(funcdiff.value_and_grad(loss))
    _, numpy_loss = train(
        lambda p: step(p, Xs, ys), {"w": np.zeros(d), "b": np.zeros(())}, epochs, "numpy"
    )
    print(f"NumPy on a subsample of {sample} rows: final loss {numpy_loss:.6f}")
    close = abs(dask_loss - numpy_loss) < 0.02
    print(f"Same loss (within 0.02, the sampling noise of the subsample): {close}")


if __name__ == "__main__":
    main()
