"""Data-parallel gradients over the chunks of Dask arrays (`funcdiff.dask`).

A loss that is a sum or a mean over examples has, as gradient, the sum (or the weighted mean)
of the gradients over any partition of the examples. `grad_over_chunks` builds one Dask task
per chunk, each running the same jitted NumPy program on that chunk where the chunk lives,
and sums the per-chunk gradients with a tree reduction. Only parameters and gradients (small)
travel; no chunk of the data is ever moved to the client.

This module imports Dask; `funcdiff` imports it only when `funcdiff.dask` is imported.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import dask
import dask.array as da
import numpy as np

from funcdiff._src.api import grad, value_and_grad
from funcdiff._src.array import Array
from funcdiff._src.jit.api import JitFunction, jit
from funcdiff._src.tree_util import tree_map

# Per process: the jitted per-chunk function of each helper, by the helper's token. A worker
# process receives the helper with every task; this table makes all of its tasks share one
# compiled program (one per chunk shape: the last chunk may be shorter).
_PROGRAMS: OrderedDict[str, JitFunction] = OrderedDict()
_PROGRAMS_LOCK = threading.Lock()
_MAX_PROGRAMS = 64


class _PerChunk:
    """The per-chunk work: pickles as the loss and a token, and finds (or builds) its jitted
    function in the process it runs in."""

    def __init__(self, loss: Callable[..., Any], with_value: bool):
        self.loss, self.with_value = loss, with_value
        self.token = uuid.uuid4().hex

    def __getstate__(self) -> dict[str, Any]:
        return {"loss": self.loss, "with_value": self.with_value, "token": self.token}

    @property
    def jitted(self) -> JitFunction:
        with _PROGRAMS_LOCK:
            f = _PROGRAMS.get(self.token)
            if f is None:
                transform = value_and_grad if self.with_value else grad
                f = _PROGRAMS[self.token] = jit(transform(self.loss))
                while len(_PROGRAMS) > _MAX_PROGRAMS:
                    _PROGRAMS.popitem(last=False)
            return f

    def __call__(self, weight: float, params: Any, *chunks: Any) -> Any:
        out = self.jitted(params, *chunks)
        return tree_map(lambda g: np.asarray(g) * weight, out)


def _add(*trees: Any) -> Any:
    return tree_map(lambda *xs: sum(xs[1:], xs[0]), *trees)


class ChunkedGrad:
    """The gradient of a loss summed (or averaged) over the chunks of Dask arrays; made by
    `grad_over_chunks` and `value_and_grad_over_chunks`. Calling it returns a
    `dask.delayed.Delayed`: ``.compute()`` gives the gradient (or ``(value, gradient)``)."""

    def __init__(
        self, loss: Callable[..., Any], reduction: str, split_every: int, with_value: bool
    ):
        if reduction not in ("sum", "mean"):
            raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")
        if type(split_every) is not int or split_every < 2:
            raise ValueError(f"split_every must be an int >= 2, got {split_every!r}")
        self.per_chunk = _PerChunk(loss, with_value)
        self.reduction, self.split_every = reduction, split_every

    @property
    def jitted(self) -> JitFunction:
        """The jitted per-chunk function in this process (its `trace_count` says how many
        programs were compiled here)."""
        return self.per_chunk.jitted

    def __call__(self, params: Any, *data: Any) -> Any:
        blocks, sizes = _row_blocks(data)
        # Plain NumPy leaves: Dask hashes and ships them (funcdiff Arrays are views of them).
        params = tree_map(lambda a: a.view(np.ndarray) if type(a) is Array else a, params)
        n = sum(sizes)
        call = dask.base.tokenize(self.per_chunk.token, params, *data)
        params_d = dask.delayed(params, traverse=False)
        parts = [
            dask.delayed(self.per_chunk, pure=True)(
                size / n if self.reduction == "mean" else 1.0,
                params_d,
                *chunk,
                dask_key_name=f"funcdiff-chunk-grad-{call}-{i}",
            )
            for i, (size, chunk) in enumerate(zip(sizes, zip(*blocks)))
        ]
        level = 0
        while len(parts) > 1:  # a tree reduction, `split_every` parts per task
            k = self.split_every
            parts = [
                dask.delayed(_add, pure=True)(
                    *parts[i : i + k], dask_key_name=f"funcdiff-sum-{call}-{level}-{i // k}"
                )
                for i in range(0, len(parts), k)
            ]
            level += 1
        return parts[0]


def _row_blocks(data: tuple[Any, ...]) -> tuple[list[list[Any]], list[int]]:
    """The blocks of each data array along axis 0, and the rows of each block."""
    if not data:
        raise TypeError("grad_over_chunks: pass the data arrays after the parameters")
    blocks, chunks = [], None
    for k, x in enumerate(data):
        if not isinstance(x, da.Array):
            raise TypeError(
                f"grad_over_chunks: data argument {k} is a {type(x).__name__}, not "
                "a Dask array; wrap it with dask.array.from_array(x, chunks=...)"
            )
        if x.ndim == 0 or any(len(c) != 1 for c in x.chunks[1:]):
            raise ValueError(
                f"grad_over_chunks: data argument {k} (chunks {x.chunks}) must be "
                "chunked along axis 0 only; use x.rechunk({i: -1 for i in "
                "range(1, x.ndim)})"
            )
        if chunks is not None and x.chunks[0] != chunks:
            raise ValueError(
                f"grad_over_chunks: data argument {k} has row chunks "
                f"{x.chunks[0]}, argument 0 has {chunks}; rechunk them alike"
            )
        chunks = x.chunks[0]
        blocks.append(list(x.to_delayed().reshape(-1)))
    return blocks, list(chunks)


def grad_over_chunks(
    loss: Callable[..., Any], *, reduction: str = "mean", split_every: int = 8
) -> ChunkedGrad:
    """The gradient of `loss(params, *data)` with respect to `params`, computed chunk by chunk
    over Dask arrays chunked along their first axis (the examples) and summed with a tree
    reduction.

    **Arguments:**

    - `loss`: ``loss(params, *data) -> scalar``, written for NumPy arrays; on one chunk it
      must be the sum (``reduction="sum"``) or the mean (``reduction="mean"``) of a per-example
      loss over the chunk's examples.
    - `reduction`: ``"mean"`` weights each chunk's gradient by its share of the examples;
      ``"sum"`` adds them.
    - `split_every`: how many partial gradients each task of the tree reduction adds.

    **Returns:** a `ChunkedGrad`: ``g(params, *data)`` (data: Dask arrays with the same row
    chunks) returns a `dask.delayed.Delayed` whose ``.compute()`` is the gradient, a pytree
    like `params`. Each chunk's gradient is one task running ``jit(grad(loss))`` on that chunk;
    all chunks of one shape share one compiled program per process.

    !!! Example
        ```python
        import dask
        import dask.array as da
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp
        from funcdiff.dask import grad_over_chunks

        def loss(w, X, y):
            return jnp.mean((X @ w - y) ** 2)

        rng = np.random.default_rng(0)
        X, y, w = rng.normal(size=(1000, 3)), rng.normal(size=1000), np.zeros(3)
        g = grad_over_chunks(loss)(w, da.from_array(X, chunks=250), da.from_array(y, chunks=250))
        with dask.config.set(scheduler="sync"):
            assert np.allclose(g.compute(), funcdiff.grad(loss)(w, X, y))
        ```
    """
    return ChunkedGrad(loss, reduction, split_every, with_value=False)


def value_and_grad_over_chunks(
    loss: Callable[..., Any], *, reduction: str = "mean", split_every: int = 8
) -> ChunkedGrad:
    """Like `grad_over_chunks`, and also the loss: ``.compute()`` gives ``(loss, gradient)``.

    !!! Example
        ```python
        import dask.array as da
        import numpy as np
        import funcdiff.numpy as jnp
        from funcdiff.dask import value_and_grad_over_chunks

        def loss(w, X, y):
            return jnp.sum((X @ w - y) ** 2)

        X, y = np.eye(4, 2), np.ones(4)
        vg = value_and_grad_over_chunks(loss, reduction="sum")
        lazy = vg(np.zeros(2), da.from_array(X, chunks=2), da.from_array(y, chunks=2))
        value, g = lazy.compute(scheduler="sync")
        assert np.isclose(value, 4.0) and np.allclose(g, [-2.0, -2.0])
        ```
    """
    return ChunkedGrad(loss, reduction, split_every, with_value=True)
