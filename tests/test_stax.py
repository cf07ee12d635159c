"""`funcdiff.example_libraries.stax`: every layer's output has the shape its init_fun reports;
layer values against direct NumPy computations; a tiny model trains (the loss decreases) with
gradients that match finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff.example_libraries import optimizers, stax
from funcdiff.test_util import check_grads

KEY = funcdiff.random.PRNGKey(0)
rng = np.random.default_rng(0)

LAYERS = {
    "Dense": (stax.Dense(3), (-1, 5)),
    "Dense 3-d": (stax.Dense(2), (2, 4, 5)),
    "Conv SAME strided": (stax.Conv(4, (3, 3), strides=(2, 2), padding="SAME"), (-1, 9, 9, 2)),
    "GeneralConv NCHW": (stax.GeneralConv(("NCHW", "OIHW", "NCHW"), 4, (3, 2)), (2, 3, 8, 7)),
    "ConvTranspose": (stax.ConvTranspose(2, (3, 3), strides=(2, 2)), (1, 4, 4, 3)),
    "Conv1DTranspose": (stax.Conv1DTranspose(2, (3,)), (1, 5, 1)),
    "MaxPool": (stax.MaxPool((2, 2), strides=(2, 2)), (2, 5, 5, 3)),
    "SumPool SAME": (stax.SumPool((3, 3), padding="SAME"), (2, 5, 4, 3)),
    "AvgPool NCHW": (stax.AvgPool((2, 2), spec="NCHW"), (2, 3, 5, 5)),
    "BatchNorm": (stax.BatchNorm(), (2, 4, 4, 3)),
    "Flatten": (stax.Flatten, (2, 3, 4)),
    "Identity": (stax.Identity, (2, 3)),
    "LogSoftmax": (stax.LogSoftmax, (2, 3)),
    "Gelu": (stax.Gelu, (2, 3)),
    "FanOut": (stax.FanOut(3), (2, 3)),
    "serial": (stax.serial(stax.Dense(4), stax.Tanh, stax.Dense(2)), (-1, 3)),
    "parallel": (
        stax.serial(stax.FanOut(2), stax.parallel(stax.Dense(3), stax.Sigmoid), stax.FanInConcat()),
        (-1, 2),
    ),
    "FanInSum": (
        stax.serial(stax.FanOut(2), stax.parallel(stax.Relu, stax.Softplus), stax.FanInSum),
        (2, 3),
    ),
    "shape_dependent": (stax.shape_dependent(lambda s: stax.Dense(s[-1] * 2)), (2, 3)),
}


def _concrete(shape):
    return tuple(2 if d == -1 else d for d in shape)


def _shapes(x):
    if isinstance(x, list):
        return [_shapes(v) for v in x]
    return tuple(np.shape(x))


@pytest.mark.parametrize("name", list(LAYERS))
def test_output_shape_is_the_one_init_reports(name):
    (init_fun, apply_fun), in_shape = LAYERS[name]
    out_shape, params = init_fun(KEY, in_shape)
    y = apply_fun(params, rng.standard_normal(_concrete(in_shape)))
    expected = (
        [_concrete(s) for s in out_shape] if isinstance(out_shape, list) else _concrete(out_shape)
    )
    assert _shapes(y) == expected
    if -1 in in_shape:
        assert out_shape[0] == -1  # an unknown batch size stays unknown


def test_dense_and_conv_compute_what_they_say():
    (W, b) = stax.Dense(3)[0](KEY, (4,))[1]
    x = rng.standard_normal((2, 4))
    np.testing.assert_allclose(stax.Dense(3)[1]((W, b), x), x @ W + b, rtol=1e-13)
    init_fun, apply_fun = stax.Conv(2, (2, 2))
    _, (k, bias) = init_fun(KEY, (1, 3, 3, 1))
    x = rng.standard_normal((1, 3, 3, 1))
    direct = (
        np.array(
            [
                [
                    [
                        np.sum(x[0, i : i + 2, j : j + 2, :, None] * k, axis=(0, 1, 2))
                        for j in range(2)
                    ]
                    for i in range(2)
                ]
            ]
        )
        + bias
    )
    np.testing.assert_allclose(apply_fun((k, bias), x), direct, rtol=1e-12)


def test_pooling_values():
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    # 2x2 windows, SAME: the bottom and right windows hang over the edge and are averaged
    # over the elements inside only.
    avg = stax.AvgPool((2, 2), padding="SAME")[1]((), x)[0, :, :, 0]
    np.testing.assert_allclose(avg, [[2.0, 3.0, 3.5], [5.0, 6.0, 6.5], [6.5, 7.5, 8.0]])
    mx = stax.MaxPool((2, 2))[1]((), x)[0, :, :, 0]
    np.testing.assert_array_equal(mx, [[4.0, 5.0], [7.0, 8.0]])
    sm = stax.SumPool((2, 2), strides=(1, 1))[1]((), x)[0, :, :, 0]
    np.testing.assert_array_equal(sm, [[8.0, 12.0], [20.0, 24.0]])


def test_batchnorm_normalizes_each_channel():
    init_fun, apply_fun = stax.BatchNorm(axis=(0, 1))
    _, (beta, gamma) = init_fun(KEY, (8, 5, 3))
    assert beta.shape == gamma.shape == (3,)
    x = rng.standard_normal((8, 5, 3)) * [1.0, 10.0, 0.1] + [0.0, 5.0, -2.0]
    y = apply_fun((beta + 1.0, gamma * 2.0), x)
    np.testing.assert_allclose(y.mean(axis=(0, 1)), [1.0, 1.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(y.std(axis=(0, 1)), [2.0, 2.0, 2.0], rtol=1e-3)
    _, params = stax.BatchNorm(axis=0, center=False, scale=False)[0](KEY, (4, 2))
    assert params == ((), ())


def test_dropout_keeps_with_probability_rate_and_needs_a_key():
    _, apply_fun = stax.Dropout(0.8)
    x = np.ones(20000)
    y = np.asarray(apply_fun((), x, rng=KEY))
    kept = y != 0
    # a binomial(20000, 0.8) fraction: standard deviation 0.0028, so 0.01 is over 3.5 sigma
    assert abs(kept.mean() - 0.8) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.8)
    with pytest.raises(ValueError, match="PRNG key"):
        apply_fun((), x)
    np.testing.assert_array_equal(stax.Dropout(0.5, mode="test")[1]((), x, rng=KEY), x)
    # serial hands each layer its own key
    init_fun, apply_serial = stax.serial(stax.Dense(4), stax.Dropout(0.5))
    _, params = init_fun(KEY, (3, 2))
    a = apply_serial(params, np.ones((3, 2)), rng=funcdiff.random.PRNGKey(1))
    b = apply_serial(params, np.ones((3, 2)), rng=funcdiff.random.PRNGKey(2))
    assert not np.array_equal(a, b)


def _mlp_problem():
    init_fun, apply_fun = stax.serial(stax.Dense(8), stax.Tanh, stax.Dense(3), stax.LogSoftmax)
    out_shape, params = init_fun(KEY, (-1, 4))
    assert out_shape == (-1, 3)
    x = rng.standard_normal((30, 4))
    labels = np.eye(3)[np.argmax(x[:, :3], axis=1)]  # a learnable rule

    def loss(p):
        return -jnp.mean(jnp.sum(apply_fun(p, x) * labels, axis=1))

    return params, loss


def test_a_tiny_model_trains_with_correct_gradients():
    params, loss = _mlp_problem()
    check_grads(loss, (params,), order=1, modes=["rev"])
    opt_init, opt_update, get_params = optimizers.adam(0.05)
    step = funcdiff.jit(lambda i, s: opt_update(i, funcdiff.grad(loss)(get_params(s)), s))
    state = opt_init(params)
    losses = [float(loss(params))]
    for i in range(60):
        state = step(i, state)
        losses.append(float(loss(get_params(state))))
    assert losses[-1] < 0.5 * losses[0]
    assert losses[20] < losses[0]


def test_a_conv_model_has_correct_gradients():
    init_fun, apply_fun = stax.serial(
        stax.Conv(2, (2, 2), padding="SAME"),
        stax.BatchNorm(),
        stax.Relu,
        stax.AvgPool((2, 2)),
        stax.Flatten,
        stax.Dense(1),
    )
    _, params = init_fun(KEY, (3, 4, 4, 1))
    x = rng.standard_normal((3, 4, 4, 1))
    check_grads(lambda p: jnp.sum(apply_fun(p, x) ** 2), (params,), order=1, modes=["rev"])
