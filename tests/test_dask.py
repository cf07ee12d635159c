"""funcdiff on Dask arrays, on a two-process `LocalCluster` started once for this module:
``jit(grad(loss))`` builds a lazy graph with one task per chunk per stage, `grad_over_chunks`
runs one compiled program per chunk and reduces with a tree, both give the NumPy gradient, and
a dataset larger than a worker's memory limit is never materialised on the client."""

from __future__ import annotations

import logging
import math
import tracemalloc

import dask
import dask.array as da
import distributed
import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff.dask import grad_over_chunks, value_and_grad_over_chunks

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

MEMORY_LIMIT = 350 * 2**20  # bytes per worker
TIMEOUT = 120  # seconds, for any one computation on the cluster


def logistic_loss(w, X, y):
    z = X @ w
    return jnp.mean(jnp.logaddexp(0.0, z) - y * z)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        memory_limit=MEMORY_LIMIT,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    with cluster, distributed.Client(cluster) as c:
        c.wait_for_workers(2, timeout=TIMEOUT)
        yield c


def _data(n=2000, d=5, chunk=250, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (rng.random(n) < 1 / (1 + np.exp(-X @ np.linspace(-1, 1, d)))).astype(np.float64)
    w = rng.normal(size=d) * 0.1
    return w, X, y, da.from_array(X, chunks=(chunk, d)), da.from_array(y, chunks=chunk)


def _tasks_per_layer(x) -> dict[str, int]:
    return {name: len(layer) for name, layer in x.__dask_graph__().layers.items()}


def test_jit_grad_on_dask_arrays_is_lazy_and_exact(client):
    w, X, y, Xd, yd = _data()
    g = funcdiff.jit(funcdiff.grad(logistic_loss))
    lazy = g(w, Xd, yd)
    assert isinstance(lazy, da.Array) and lazy.shape == w.shape
    # One task per chunk per stage: no layer has more tasks than there are chunks.
    per_layer = _tasks_per_layer(lazy)
    assert max(per_layer.values()) == Xd.numblocks[0] == 8
    got = client.compute(lazy).result(timeout=TIMEOUT)
    np.testing.assert_allclose(got, funcdiff.grad(logistic_loss)(w, X, y), rtol=1e-12, atol=1e-12)
    assert "out=" not in g.lower(w, Xd, yd).as_python()


def test_grad_over_chunks_on_the_cluster(client):
    w, X, y, Xd, yd = _data()
    helper = grad_over_chunks(logistic_loss, split_every=3)
    lazy = helper(w, Xd, yd)
    keys = [k for k in dict(lazy.__dask_graph__()) if isinstance(k, str)]
    n = Xd.numblocks[0]
    assert sum(k.startswith("funcdiff-chunk-grad-") for k in keys) == n
    # The tree: ceil(8 / 3) = 3 sums, then 1.
    assert sum(k.startswith("funcdiff-sum-") for k in keys) == math.ceil(n / 3) + 1
    got = client.compute(lazy).result(timeout=TIMEOUT)
    np.testing.assert_allclose(got, funcdiff.grad(logistic_loss)(w, X, y), rtol=1e-12, atol=1e-12)
    value, g = client.compute(value_and_grad_over_chunks(logistic_loss)(w, Xd, yd)).result(
        timeout=TIMEOUT
    )
    np.testing.assert_allclose(value, logistic_loss(w, X, y), rtol=1e-12)
    np.testing.assert_allclose(g, got, rtol=1e-12, atol=1e-15)


def test_grad_over_chunks_compiles_once_and_sums():
    w, X, y, Xd, yd = _data(n=600, chunk=100)
    loss_sum = lambda w, X, y: jnp.sum((X @ w - y) ** 2)
    helper = grad_over_chunks(loss_sum, reduction="sum")
    with dask.config.set(scheduler="sync"):
        got = helper(w, Xd, yd).compute()
    np.testing.assert_allclose(got, funcdiff.grad(loss_sum)(w, X, y), rtol=1e-12)
    assert helper.jitted.trace_count == 1  # six chunks, one program


def test_grad_over_chunks_rejects_bad_data():
    w, X, y, Xd, yd = _data(n=100, chunk=50)
    helper = grad_over_chunks(logistic_loss)
    with pytest.raises(TypeError, match="not a Dask array"):
        helper(w, X, yd)
    with pytest.raises(ValueError, match="chunked along axis 0 only"):
        helper(w, Xd.rechunk((50, 2)), yd)
    with pytest.raises(ValueError, match="row chunks"):
        helper(w, Xd, yd.rechunk(25))
    with pytest.raises(ValueError, match="reduction"):
        grad_over_chunks(logistic_loss, reduction="max")


def test_larger_than_a_worker_memory_limit_never_on_the_client(client):
    """A dataset larger than one worker's memory limit, generated on the workers: the
    gradient is computed chunk by chunk there, and the client never holds more than a
    small fraction of it."""
    d, chunk = 8, 250_000
    n = 24 * chunk
    nbytes = n * d * 8
    assert nbytes > MEMORY_LIMIT
    rs = da.random.RandomState(0)
    Xd = rs.normal(size=(n, d), chunks=(chunk, d))
    yd = (rs.random_sample(size=n, chunks=chunk) < 0.5).astype(np.float64)
    w = np.linspace(-0.5, 0.5, d)
    tracemalloc.start()
    try:
        lazy_jit = funcdiff.jit(funcdiff.grad(logistic_loss))(w, Xd, yd)
        lazy_chunks = grad_over_chunks(logistic_loss)(w, Xd, yd)
        assert max(_tasks_per_layer(lazy_jit).values()) == n // chunk
        g_jit, g_chunks = client.compute([lazy_jit, lazy_chunks], sync=False)
        g_jit, g_chunks = g_jit.result(timeout=TIMEOUT), g_chunks.result(timeout=TIMEOUT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < nbytes / 20, f"the client allocated {peak / 2**20:.0f} MiB"
    np.testing.assert_allclose(g_jit, g_chunks, rtol=1e-10, atol=1e-14)
    assert np.all(np.isfinite(g_jit)) and np.abs(g_jit).max() > 0
