"""Data-parallel gradients on Dask arrays: ``from funcdiff.dask import grad_over_chunks``.

Importing this module imports Dask (install the ``scale`` extra: ``pip install
funcdiff[scale]``). `funcdiff.jit` alone also runs on Dask arrays (see the Scaling out guide).
"""

from funcdiff._src.dask import ChunkedGrad as ChunkedGrad
from funcdiff._src.dask import grad_over_chunks as grad_over_chunks
from funcdiff._src.dask import value_and_grad_over_chunks as value_and_grad_over_chunks

__all__ = ["ChunkedGrad", "grad_over_chunks", "value_and_grad_over_chunks"]
