"""Creating arrays from data: `funcdiff.numpy.array` and `funcdiff.numpy.asarray`.

Both return funcdiff `Array`s outside transformations (a private copy of a NumPy array, as
JAX copies to its device) and traced values inside them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.array import Array, as_array
from funcdiff._src.lax import shape as sh
from funcdiff._src.numpy._util import asarray as util_asarray
from funcdiff._src.numpy._util import aval


def array(object: Any, dtype: Any = None, copy: bool = True, ndmin: int = 0) -> Array:  # noqa: A002
    """Create an array (a funcdiff `Array`, or a traced value inside a transformation); nested
    lists may contain traced values. NumPy arrays are copied, so that the result does not
    change when the caller later writes into the original."""
    out = util_asarray(object, dtype)
    if type(out) in core._PY_SCALARS:
        out = np.asarray(out)
    elif isinstance(out, np.ndarray) and type(out) is not Array and (
            copy or out is object or np.shares_memory(out, object)):
        out = out.copy()
    while aval(out).ndim < ndmin:
        out = sh.expand_dims(out, (0,))
    return as_array(out)


def asarray(a: Any, dtype: Any = None, order: str | None = None, *,
            copy: bool | None = None) -> Array:
    """`a` as an array: a funcdiff `Array` (a private copy of a NumPy array, as JAX copies it
    to its device; an `Array` itself when no conversion is needed), a traced value inside a
    transformation, or a Python scalar as it is (it stays weakly typed, so that it takes the
    dtype of the arrays it meets).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        x = np.arange(3.0)
        y = jnp.asarray(x)
        x[0] = 5.0
        assert y[0] == 0.0 and jnp.asarray(y) is y
        ```
    """
    if type(a) is Array and (dtype is None or a.dtype == dtype) and not copy:
        return a
    out = util_asarray(a, dtype)
    if type(out) in core._PY_SCALARS or isinstance(out, core.Tracer):
        return out
    if type(out) is not Array and (out is a or np.may_share_memory(out, a)):
        out = np.array(out, copy=True)
    return as_array(out)
