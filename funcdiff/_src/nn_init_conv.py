"""`nn.initializers.delta_orthogonal`: convolution kernels that start as an orthogonal map at
the centre of the window and zero elsewhere (the other initializers are in `nn_init.py`)."""

from __future__ import annotations

from typing import Any

import funcdiff.numpy as jnp
from funcdiff._src.nn_init import Initializer, _float, _shape, orthogonal

Array = Any


def delta_orthogonal(scale: float = 1.0, column_axis: int = -1, dtype: Any = None) -> Initializer:
    """An initializer of convolution kernels (3-, 4- or 5-d, spatial dimensions first, then
    input and output features, as ``HWIO``) that are zero except at the centre of the window,
    where they hold an orthogonal ``(in, out)`` matrix from `orthogonal` (its columns along
    `column_axis`), as JAX's `delta_orthogonal`: the convolution then preserves norms at
    initialisation (Xiao et al., 2018). Needs ``in <= out``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import nn, random

        w = nn.initializers.delta_orthogonal()(random.key(0), (3, 3, 4, 4))
        centre = w[1, 1]
        assert np.allclose(centre.T @ centre, np.eye(4)) and np.abs(w).sum(axis=(2, 3))[0, 0] == 0
        ```
    """

    def init(key: Array, shape: Any, dtype: Any = dtype) -> Array:
        shape = _shape(shape)
        if len(shape) not in (3, 4, 5):
            raise ValueError(f"delta_orthogonal: needs a 3-, 4- or 5-d kernel shape, got {shape}")
        if shape[-1] < shape[-2]:
            raise ValueError(
                f"delta_orthogonal: the input features ({shape[-2]}) must be at most the "
                f"output features ({shape[-1]}), got shape {shape}"
            )
        dt = _float(dtype)
        centre = tuple((k - 1) // 2 for k in shape[:-2])
        matrix = orthogonal(scale=scale, column_axis=column_axis, dtype=dt)(key, shape[-2:])
        return jnp.zeros(shape, dt).at[centre].set(matrix)

    return init
