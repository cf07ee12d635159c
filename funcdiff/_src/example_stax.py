"""`jax.example_libraries.stax`: the small neural-network library of JAX's examples. A layer
is a pair `(init_fun, apply_fun)`: `init_fun(rng, input_shape) -> (output_shape, params)` and
`apply_fun(params, inputs, **kwargs) -> outputs`; combinators (`serial`, `parallel`...) make
layers of layers. Written from its documented behaviour, on `funcdiff.nn`, `funcdiff.lax`
and `funcdiff.random`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src import prng
from funcdiff._src.api_extras import eval_shape
from funcdiff._src.lax import convolution, windowed
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.nn import (
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    softplus,
    standardize,
)
from funcdiff._src.nn_functions import selu
from funcdiff._src.nn_init import glorot_normal, normal, ones, zeros
from funcdiff._src.shape_dtype import ShapeDtypeStruct

InitFun = Callable[[Any, Any], tuple[Any, Any]]
ApplyFun = Callable[..., Any]
Layer = tuple[InitFun, ApplyFun]

_GLOROT = glorot_normal()
_NORMAL = normal()
_SMALL_NORMAL = normal(1e-6)


def Dense(out_dim: int, W_init: Callable = _GLOROT, b_init: Callable = _NORMAL) -> Layer:
    """A fully connected layer: `inputs @ W + b` on the last axis.

    **Arguments:**

    - `out_dim`: the number of outputs.
    - `W_init`, `b_init`: initializers `(key, shape) -> array` of the weights, of shape
      `(input_shape[-1], out_dim)`, and of the bias, of shape `(out_dim,)`.

    **Returns:** the layer `(init_fun, apply_fun)`; its parameters are `(W, b)`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff.example_libraries import stax

        init_fun, apply_fun = stax.Dense(3)
        out_shape, (W, b) = init_fun(funcdiff.random.PRNGKey(0), (-1, 5))
        print(out_shape, W.shape, b.shape, apply_fun((W, b), np.ones((2, 5))).shape)
        ```
    """

    def init_fun(rng: Any, input_shape: Sequence[int]) -> tuple[Any, Any]:
        k1, k2 = prng.split(rng)
        params = W_init(k1, (input_shape[-1], out_dim)), b_init(k2, (out_dim,))
        return tuple(input_shape[:-1]) + (out_dim,), params

    def apply_fun(params: Any, inputs: Any, **kwargs: Any) -> Any:
        W, b = params
        return jnp.dot(inputs, W) + b

    return init_fun, apply_fun


def _kernel_shape(
    specs: tuple[str, str, str],
    out_chan: int,
    filter_shape: Sequence[int],
    input_shape: Sequence[int],
) -> tuple[int, ...]:
    lhs_spec, rhs_spec, _ = specs
    sizes = iter(filter_shape)
    in_chan = input_shape[lhs_spec.index("C")]
    return tuple(out_chan if c == "O" else in_chan if c == "I" else next(sizes) for c in rhs_spec)


def _conv_layer(
    dimension_numbers: tuple[str, str, str],
    out_chan: int,
    filter_shape: Sequence[int],
    W_init: Callable | None,
    b_init: Callable,
    apply: Callable[[Any, Any], Any],
) -> Layer:
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    W_init = W_init or glorot_normal(rhs_spec.index("I"), rhs_spec.index("O"))

    def init_fun(rng: Any, input_shape: Sequence[int]) -> tuple[Any, Any]:
        kernel_shape = _kernel_shape(dimension_numbers, out_chan, filter_shape, input_shape)
        # The output shape, by tracing the convolution (batch size -1 traced as 1).
        known = tuple(1 if d == -1 else d for d in input_shape)
        traced = eval_shape(
            apply, ShapeDtypeStruct(known, np.float64), ShapeDtypeStruct(kernel_shape, np.float64)
        )
        out = [int(d) for d in traced.shape]
        if input_shape[lhs_spec.index("N")] == -1:
            out[out_spec.index("N")] = -1
        bias_shape = tuple(out_chan if c == "C" else 1 for c in out_spec)
        k1, k2 = prng.split(rng)
        return tuple(out), (W_init(k1, kernel_shape), b_init(k2, bias_shape))

    def apply_fun(params: Any, inputs: Any, **kwargs: Any) -> Any:
        W, b = params
        return apply(inputs, W) + b

    return init_fun, apply_fun


def GeneralConv(
    dimension_numbers: tuple[str, str, str],
    out_chan: int,
    filter_shape: Sequence[int],
    strides: Sequence[int] | None = None,
    padding: Any = "VALID",
    W_init: Callable | None = None,
    b_init: Callable = _SMALL_NORMAL,
) -> Layer:
    """A convolution layer with the given layout, as `convolution.conv_general_dilated`.

    **Arguments:**

    - `dimension_numbers`: the layouts `(lhs_spec, rhs_spec, out_spec)` of the input, the
      kernel and the output, such as `("NHWC", "HWIO", "NHWC")`.
    - `out_chan`: the number of output channels.
    - `filter_shape`: the kernel's spatial sizes.
    - `strides`: the window strides (default 1); `padding`: `"VALID"`, `"SAME"` or pairs.
    - `W_init`: the kernel's initializer (default Glorot normal over its I and O axes);
      `b_init`: the bias's, of shape 1 except `out_chan` on the output's C axis.

    **Returns:** the layer `(init_fun, apply_fun)`; its parameters are `(W, b)`.

    !!! Example
        ```python
        import funcdiff
        from funcdiff.example_libraries import stax

        init_fun, apply_fun = stax.GeneralConv(("NCHW", "OIHW", "NCHW"), 4, (3, 3))
        out_shape, (W, b) = init_fun(funcdiff.random.PRNGKey(0), (2, 3, 8, 8))
        print(out_shape, W.shape, b.shape)
        ```
    """
    one = (1,) * len(filter_shape)
    strides = tuple(strides or one)

    def apply(x: Any, w: Any) -> Any:
        return convolution.conv_general_dilated(
            x, w, strides, padding, one, one, dimension_numbers=dimension_numbers
        )

    return _conv_layer(dimension_numbers, out_chan, filter_shape, W_init, b_init, apply)


def GeneralConvTranspose(
    dimension_numbers: tuple[str, str, str],
    out_chan: int,
    filter_shape: Sequence[int],
    strides: Sequence[int] | None = None,
    padding: Any = "VALID",
    W_init: Callable | None = None,
    b_init: Callable = _SMALL_NORMAL,
) -> Layer:
    """A transposed-convolution layer with the given layout, as `lax.conv_transpose`; its
    arguments are `GeneralConv`'s.

    !!! Example
        ```python
        import funcdiff
        from funcdiff.example_libraries import stax

        layer = stax.GeneralConvTranspose(("NHWC", "HWIO", "NHWC"), 2, (3, 3), strides=(2, 2))
        out_shape, (W, b) = layer[0](funcdiff.random.PRNGKey(0), (1, 4, 4, 3))
        print(out_shape, W.shape)
        ```
    """
    strides = tuple(strides or (1,) * len(filter_shape))

    def apply(x: Any, w: Any) -> Any:
        return convolution.conv_transpose(
            x, w, strides, padding, dimension_numbers=dimension_numbers
        )

    return _conv_layer(dimension_numbers, out_chan, filter_shape, W_init, b_init, apply)


def _fixed_layout(
    general: Callable[..., Layer], dimension_numbers: tuple[str, str, str], name: str, doc: str
) -> Callable[..., Layer]:
    """`general` (GeneralConv or GeneralConvTranspose) with its layout fixed, as JAX's
    `functools.partial(general, dimension_numbers)`, but a function with its own name."""

    def layer(
        out_chan: int,
        filter_shape: Sequence[int],
        strides: Sequence[int] | None = None,
        padding: Any = "VALID",
        W_init: Callable | None = None,
        b_init: Callable = _SMALL_NORMAL,
    ) -> Layer:
        return general(dimension_numbers, out_chan, filter_shape, strides, padding, W_init, b_init)

    layer.__name__ = layer.__qualname__ = name
    layer.__doc__ = doc
    return layer


Conv = _fixed_layout(
    GeneralConv,
    ("NHWC", "HWIO", "NHWC"),
    "Conv",
    """A 2-D convolution
layer on NHWC inputs with an HWIO kernel: `GeneralConv` with `("NHWC", "HWIO", "NHWC")`.

!!! Example
    ```python
    import numpy as np
    import funcdiff
    from funcdiff.example_libraries import stax

    init_fun, apply_fun = stax.Conv(8, (3, 3), padding="SAME")
    out_shape, params = init_fun(funcdiff.random.PRNGKey(0), (-1, 6, 6, 1))
    print(out_shape, apply_fun(params, np.ones((2, 6, 6, 1))).shape)
    ```
""",
)
ConvTranspose = _fixed_layout(
    GeneralConvTranspose,
    ("NHWC", "HWIO", "NHWC"),
    "ConvTranspose",
    """A 2-D transposed convolution on NHWC inputs:
`GeneralConvTranspose` with `("NHWC", "HWIO", "NHWC")`.

!!! Example
    ```python
    import funcdiff
    from funcdiff.example_libraries import stax

    out_shape, _ = stax.ConvTranspose(2, (2, 2))[0](funcdiff.random.PRNGKey(0), (1, 3, 3, 1))
    print(out_shape)
    ```
""",
)
Conv1DTranspose = _fixed_layout(
    GeneralConvTranspose,
    ("NHC", "HIO", "NHC"),
    "Conv1DTranspose",
    """A 1-D transposed convolution on NHC inputs:
`GeneralConvTranspose` with `("NHC", "HIO", "NHC")`.

!!! Example
    ```python
    import funcdiff
    from funcdiff.example_libraries import stax

    out_shape, _ = stax.Conv1DTranspose(2, (3,))[0](funcdiff.random.PRNGKey(0), (1, 5, 1))
    print(out_shape)
    ```
""",
)


def BatchNorm(
    axis: int | Sequence[int] = (0, 1, 2),
    epsilon: float = 1e-5,
    center: bool = True,
    scale: bool = True,
    beta_init: Callable = zeros,
    gamma_init: Callable = ones,
) -> Layer:
    """Batch normalization: standardize over `axis` (the batch statistics), then scale by
    `gamma` and shift by `beta`, which have the shape of the other axes.

    **Arguments:**

    - `axis`: the axes to normalize over (by default the batch and spatial axes of NHWC).
    - `epsilon`: added to the variance.
    - `center`, `scale`: whether to learn `beta`, `gamma` (else that parameter is `()`).
    - `beta_init`, `gamma_init`: their initializers.

    **Returns:** the layer `(init_fun, apply_fun)`; its parameters are `(beta, gamma)`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff.example_libraries import stax

        init_fun, apply_fun = stax.BatchNorm(axis=0)
        _, params = init_fun(funcdiff.random.PRNGKey(0), (4, 3))
        y = apply_fun(params, np.arange(12.0).reshape(4, 3))
        print(np.round(y.mean(axis=0), 6), np.round(y.std(axis=0), 3))
        ```
    """
    axes = (axis,) if np.isscalar(axis) else tuple(axis)

    def init_fun(rng: Any, input_shape: Sequence[int]) -> tuple[Any, Any]:
        shape = tuple(d for i, d in enumerate(input_shape) if i not in axes)
        k1, k2 = prng.split(rng)
        beta = beta_init(k1, shape) if center else ()
        gamma = gamma_init(k2, shape) if scale else ()
        return input_shape, (beta, gamma)

    def apply_fun(params: Any, x: Any, **kwargs: Any) -> Any:
        beta, gamma = params
        expand = tuple(None if i in axes else slice(None) for i in range(jnp.ndim(x)))
        z = standardize(x, axes, epsilon=epsilon)
        if scale:
            z = gamma[expand] * z
        if center:
            z = z + beta[expand]
        return z

    return init_fun, apply_fun


def elementwise(fun: Callable[..., Any], **fun_kwargs: Any) -> Layer:
    """A layer without parameters applying `fun(inputs, **fun_kwargs)`; its output shape is
    its input shape.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff.example_libraries import stax

        init_fun, apply_fun = stax.elementwise(funcdiff.nn.leaky_relu, negative_slope=0.1)
        print(init_fun(None, (3,)), apply_fun((), np.array([-1.0, 0.5, 2.0])))
        ```
    """

    def init_fun(rng: Any, input_shape: Any) -> tuple[Any, Any]:
        return input_shape, ()

    def apply_fun(params: Any, inputs: Any, **kwargs: Any) -> Any:
        return fun(inputs, **fun_kwargs)

    return init_fun, apply_fun


Tanh = elementwise(jnp.tanh)
Relu = elementwise(relu)
Exp = elementwise(jnp.exp)
LogSoftmax = elementwise(log_softmax, axis=-1)
Softmax = elementwise(softmax, axis=-1)
Softplus = elementwise(softplus)
Sigmoid = elementwise(sigmoid)
Elu = elementwise(elu)
LeakyRelu = elementwise(leaky_relu)
Selu = elementwise(selu)
Gelu = elementwise(gelu)


def _pooling_layer(reducer: Callable, init_val: float, name: str, mean: bool = False):
    def PoolingLayer(
        window_shape: Sequence[int],
        strides: Sequence[int] | None = None,
        padding: str = "VALID",
        spec: str | None = None,
    ) -> Layer:
        strides = tuple(strides or (1,) * len(window_shape))
        window = tuple(window_shape)
        non_spatial = (0, len(window) + 1) if spec is None else (spec.index("N"), spec.index("C"))
        for i in sorted(non_spatial):
            window, strides = window[:i] + (1,) + window[i:], strides[:i] + (1,) + strides[i:]

        def init_fun(rng: Any, input_shape: Sequence[int]) -> tuple[Any, Any]:
            pads = convolution.padtype_to_pads(input_shape, window, strides, padding)
            return windowed.reduce_window_shape_tuple(input_shape, window, strides, pads), ()

        def apply_fun(params: Any, inputs: Any, **kwargs: Any) -> Any:
            out = windowed.reduce_window(inputs, init_val, reducer, window, strides, padding)
            if not mean:
                return out
            # Divide by the number of input elements in each window (fewer at a padded edge).
            spatial = tuple(1 if i in non_spatial else d for i, d in enumerate(inputs.shape))
            counts = windowed.reduce_window(
                jnp.ones(spatial, inputs.dtype), 0.0, ew.add, window, strides, padding
            )
            return out / counts

        return init_fun, apply_fun

    PoolingLayer.__name__ = PoolingLayer.__qualname__ = name
    return PoolingLayer


MaxPool = _pooling_layer(ew.max, -np.inf, "MaxPool")
SumPool = _pooling_layer(ew.add, 0.0, "SumPool")
AvgPool = _pooling_layer(ew.add, 0.0, "AvgPool", mean=True)
MaxPool.__doc__ = """A max-pooling layer: the maximum over each window.

**Arguments:**

- `window_shape`: the window's spatial sizes.
- `strides`: its strides (default 1); `padding`: `"VALID"` or `"SAME"`.
- `spec`: the input's layout, such as `"NCHW"` (default: batch first, channels last).

**Returns:** the layer `(init_fun, apply_fun)`, without parameters.

!!! Example
    ```python
    import numpy as np
    import funcdiff
    from funcdiff.example_libraries import stax

    init_fun, apply_fun = stax.MaxPool((2, 2), strides=(2, 2))
    x = np.arange(16.0).reshape(1, 4, 4, 1)
    print(init_fun(None, x.shape)[0], apply_fun((), x)[0, :, :, 0])
    ```
"""
SumPool.__doc__ = """A sum-pooling layer: the sum over each window; arguments as `MaxPool`.

!!! Example
    ```python
    import numpy as np
    from funcdiff.example_libraries import stax

    print(stax.SumPool((2, 2))[1]((), np.ones((1, 3, 3, 1)))[0, :, :, 0])
    ```
"""
AvgPool.__doc__ = """An average-pooling layer: the mean over each window, counting at a
padded edge only the elements inside the input; arguments as `MaxPool`.

!!! Example
    ```python
    import numpy as np
    from funcdiff.example_libraries import stax

    x = np.arange(9.0).reshape(1, 3, 3, 1)
    print(stax.AvgPool((2, 2), padding="SAME")[1]((), x)[0, :, :, 0])
    ```
"""
