"""The classic worked examples of backpropagation, with their published numbers."""

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp


def sigmoid_neuron(w, x):
    return 1.0 / (1.0 + jnp.exp(-(w[0] * x[0] + w[1] * x[1] + w[2])))


def test_sigmoid_neuron_gradients():
    w = np.array([2.0, -3.0, -3.0])
    x = np.array([-1.0, -2.0])
    dw, dx = funcdiff.grad(sigmoid_neuron, argnums=(0, 1))(w, x)
    np.testing.assert_allclose(dw, [-0.20, -0.39, 0.20], atol=0.005)
    np.testing.assert_allclose(dx, [0.39, -0.59], atol=0.005)
    # The exact values: sigma(1) (1 - sigma(1)) times the other input.
    s = 1.0 / (1.0 + np.exp(-1.0))
    np.testing.assert_allclose(dw, s * (1 - s) * np.array([-1.0, -2.0, 1.0]), rtol=1e-12)


def test_sum_times_z():
    # f(x, y, z) = (x + y) z at x=-2, y=5, z=-4: df/dx = df/dy = -4, df/dz = 3.
    f = lambda x, y, z: (x + y) * z
    assert f(-2.0, 5.0, -4.0) == -12.0
    grads = funcdiff.grad(f, argnums=(0, 1, 2))(-2.0, 5.0, -4.0)
    assert tuple(map(float, grads)) == (-4.0, -4.0, 3.0)


def test_gradients_add_at_branches():
    # f = (a + b)(b + c): b feeds both factors, so its gradient is the sum of both paths.
    f = lambda a, b, c: (a + b) * (b + c)
    a, b, c = 2.0, 1.0, 0.0
    da, db, dc = funcdiff.grad(f, argnums=(0, 1, 2))(a, b, c)
    assert (float(da), float(db), float(dc)) == (b + c, (a + b) + (b + c), a + b)
    assert float(db) == 4.0


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_modes_agree_on_sigmoid_neuron(mode):
    w = np.array([2.0, -3.0, -3.0])
    x = np.array([-1.0, -2.0])
    jac = (funcdiff.jacfwd if mode == "fwd" else funcdiff.jacrev)(sigmoid_neuron)(w, x)
    np.testing.assert_allclose(jac, funcdiff.grad(sigmoid_neuron)(w, x), rtol=1e-12)
