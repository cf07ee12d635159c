"""The combinators and structural layers of `jax.example_libraries.stax` (`serial`,
`parallel`, `FanOut`, `FanInSum`, `FanInConcat`, `Flatten`, `Identity`, `Dropout`,
`shape_dependent`); the layers with parameters are in `example_stax.py`."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import funcdiff.numpy as jnp
from funcdiff._src import prng, random
from funcdiff._src.example_stax import Layer


def _identity_init(rng: Any, input_shape: Any) -> tuple[Any, Any]:
    return input_shape, ()


def _identity_apply(params: Any, inputs: Any, **kwargs: Any) -> Any:
    return inputs


Identity = (_identity_init, _identity_apply)


def _flatten_init(rng: Any, input_shape: Sequence[int]) -> tuple[Any, Any]:
    return (input_shape[0], math.prod(input_shape[1:])), ()


def _flatten_apply(params: Any, inputs: Any, **kwargs: Any) -> Any:
    return jnp.reshape(inputs, (inputs.shape[0], -1))


Flatten = (_flatten_init, _flatten_apply)


def FanOut(num: int) -> Layer:
    """A layer that passes its input on as a list of `num` copies (to a `parallel`).

    !!! Example
        ```python
        from funcdiff.example_libraries import stax

        print(stax.FanOut(2)[0](None, (3,))[0])
        ```
    """

    def init_fun(rng: Any, input_shape: Any) -> tuple[Any, Any]:
        return [input_shape] * num, ()

    def apply_fun(params: Any, inputs: Any, **kwargs: Any) -> Any:
        return [inputs] * num

    return init_fun, apply_fun


def _fan_in_sum_init(rng: Any, input_shape: Any) -> tuple[Any, Any]:
    return input_shape[0], ()


def _fan_in_sum_apply(params: Any, inputs: Any, **kwargs: Any) -> Any:
    return sum(inputs[1:], inputs[0])


FanInSum = (_fan_in_sum_init, _fan_in_sum_apply)


def FanInConcat(axis: int = -1) -> Layer:
    """A layer that concatenates a list of inputs along `axis`.

    !!! Example
        ```python
        from funcdiff.example_libraries import stax

        print(stax.FanInConcat()[0](None, [(2, 3), (2, 4)])[0])
        ```
    """

    def init_fun(rng: Any, input_shape: Any) -> tuple[Any, Any]:
        first = tuple(input_shape[0])
        ax = axis % len(first)
        size = sum(shape[ax] for shape in input_shape)
        return first[:ax] + (size,) + first[ax + 1 :], ()

    def apply_fun(params: Any, inputs: Any, **kwargs: Any) -> Any:
        return jnp.concatenate(inputs, axis)

    return init_fun, apply_fun


def Dropout(rate: float, mode: str = "train") -> Layer:
    """Dropout, as JAX's stax: in `"train"` mode, each element is kept with probability
    `rate` (JAX's meaning: `rate` is the probability to *keep*) and divided by `rate`; in any
    other mode the layer is the identity. `apply_fun` needs the key as `rng=`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff.example_libraries import stax

        _, apply_fun = stax.Dropout(0.5)
        y = apply_fun((), np.ones(1000), rng=funcdiff.random.PRNGKey(0))
        print(sorted(set(np.asarray(y).tolist())), abs(float(y.mean()) - 1.0) < 0.1)
        ```
    """

    def apply_fun(params: Any, inputs: Any, **kwargs: Any) -> Any:
        rng = kwargs.get("rng")
        if rng is None:
            raise ValueError(
                "the Dropout layer needs a PRNG key: call "
                "apply_fun(params, inputs, rng=key), with a key from "
                "funcdiff.random.PRNGKey (serial passes one to each layer)"
            )
        if mode != "train":
            return inputs
        keep = random.bernoulli(rng, rate, jnp.shape(inputs))
        return jnp.where(keep, inputs / rate, 0)

    return _identity_init, apply_fun


def _layer_keys(kwargs: dict[str, Any], n: int) -> Sequence[Any]:
    rng = kwargs.pop("rng", None)
    return prng.split(rng, n) if rng is not None else (None,) * n


def serial(*layers: Layer) -> Layer:
    """Compose layers in sequence: each layer's output is the next one's input. Its
    parameters are the list of the layers' parameters; a key given as `rng=` is split into
    one per layer.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp
        from funcdiff.example_libraries import stax

        init_fun, apply_fun = stax.serial(stax.Dense(16), stax.Relu, stax.Dense(2),
                                          stax.LogSoftmax)
        out_shape, params = init_fun(funcdiff.random.PRNGKey(0), (-1, 4))
        x = np.random.default_rng(0).standard_normal((8, 4))
        labels = np.eye(2)[np.arange(8) % 2]
        loss = lambda p: -jnp.mean(jnp.sum(apply_fun(p, x) * labels, axis=1))
        grads = funcdiff.grad(loss)(params)
        print(out_shape, [tuple(np.shape(w) for w in layer) for layer in grads])
        ```
    """
    init_funs, apply_funs = zip(*layers) if layers else ((), ())

    def init_fun(rng: Any, input_shape: Any) -> tuple[Any, Any]:
        params = []
        for init in init_funs:
            rng, layer_rng = prng.split(rng)
            input_shape, param = init(layer_rng, input_shape)
            params.append(param)
        return input_shape, params

    def apply_fun(params: Any, inputs: Any, **kwargs: Any) -> Any:
        keys = _layer_keys(kwargs, len(apply_funs))
        for fun, param, key in zip(apply_funs, params, keys, strict=True):
            inputs = fun(param, inputs, rng=key, **kwargs)
        return inputs

    return init_fun, apply_fun


def parallel(*layers: Layer) -> Layer:
    """Apply layers side by side: the input is a sequence with one input per layer, and so
    is the output (often between `FanOut` and `FanInSum` or `FanInConcat`).

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff.example_libraries import stax

        init_fun, apply_fun = stax.serial(
            stax.FanOut(2), stax.parallel(stax.Dense(3), stax.Identity), stax.FanInConcat())
        out_shape, params = init_fun(funcdiff.random.PRNGKey(0), (-1, 2))
        print(out_shape, apply_fun(params, np.ones((5, 2))).shape)
        ```
    """
    init_funs, apply_funs = zip(*layers) if layers else ((), ())

    def init_fun(rng: Any, input_shape: Any) -> tuple[Any, Any]:
        keys = prng.split(rng, len(init_funs))
        pairs = [init(k, s) for init, k, s in zip(init_funs, keys, input_shape, strict=True)]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    def apply_fun(params: Any, inputs: Any, **kwargs: Any) -> Any:
        keys = _layer_keys(kwargs, len(apply_funs))
        return [
            f(p, x, rng=k, **kwargs)
            for f, p, x, k in zip(apply_funs, params, inputs, keys, strict=True)
        ]

    return init_fun, apply_fun


def shape_dependent(make_layer: Callable[[Any], Layer]) -> Layer:
    """A layer made by `make_layer(input_shape)` once the input shape is known (at `init_fun`
    from the given shape, at `apply_fun` from the inputs' shape).

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff.example_libraries import stax

        square = stax.shape_dependent(lambda shape: stax.Dense(shape[-1]))
        out_shape, params = square[0](funcdiff.random.PRNGKey(0), (2, 5))
        print(out_shape, square[1](params, np.ones((2, 5))).shape)
        ```
    """

    def init_fun(rng: Any, input_shape: Any) -> tuple[Any, Any]:
        return make_layer(input_shape)[0](rng, input_shape)

    def apply_fun(params: Any, inputs: Any, **kwargs: Any) -> Any:
        return make_layer(jnp.shape(inputs))[1](params, inputs, **kwargs)

    return init_fun, apply_fun
