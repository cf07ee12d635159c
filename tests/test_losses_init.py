"""funcdiff.nn losses (values and gradients, stable for extreme inputs) and initializers."""

import math

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import nn, random
from funcdiff.test_util import check_grads

LOGITS = np.array([[2.0, -1.0, 0.5, 0.0], [0.1, 0.2, -3.0, 1.5], [-2.0, 4.0, 1.0, 0.3]])
LABELS = np.array([0, 3, 1])
ONE_HOT = np.eye(4)[LABELS]


def np_log_softmax(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def np_softmax(x):
    return np.exp(np_log_softmax(x))


# ---- values ---------------------------------------------------------------------------------


def test_softmax_cross_entropy_values():
    want = -np.sum(ONE_HOT * np_log_softmax(LOGITS), axis=-1)
    np.testing.assert_allclose(nn.softmax_cross_entropy(LOGITS, ONE_HOT), want, rtol=1e-14)
    np.testing.assert_allclose(
        nn.softmax_cross_entropy_with_integer_labels(LOGITS, LABELS), want, rtol=1e-14
    )
    soft = np.full((3, 4), 0.25)
    np.testing.assert_allclose(
        nn.softmax_cross_entropy(LOGITS, soft), -np.sum(0.25 * np_log_softmax(LOGITS), axis=-1),
        rtol=1e-14,
    )
    along_0 = nn.softmax_cross_entropy_with_integer_labels(LOGITS.T, LABELS, axis=0)
    np.testing.assert_allclose(along_0, want, rtol=1e-14)


def test_binary_cross_entropy_and_regression_losses():
    x = np.array([-3.0, -0.5, 0.0, 0.7, 5.0])
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.3])
    p = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(
        nn.sigmoid_binary_cross_entropy(x, y), -y * np.log(p) - (1 - y) * np.log(1 - p),
        rtol=1e-13,
    )
    pred, target = np.array([0.5, -2.0, 3.0]), np.array([0.0, 0.0, 1.0])
    np.testing.assert_allclose(nn.squared_error(pred, target), (pred - target) ** 2)
    np.testing.assert_allclose(nn.l2_loss(pred, target), 0.5 * (pred - target) ** 2)
    np.testing.assert_allclose(nn.mean_squared_error(pred, target), np.mean((pred - target) ** 2))
    np.testing.assert_allclose(nn.squared_error(pred), pred**2)
    err = np.abs(pred - target)
    huber = np.where(err <= 1.5, 0.5 * err**2, 1.5 * (err - 0.75))
    np.testing.assert_allclose(nn.huber_loss(pred, target, delta=1.5), huber)


def test_losses_keep_float32():
    logits = LOGITS.astype(np.float32)
    assert nn.softmax_cross_entropy_with_integer_labels(logits, LABELS).dtype == np.float32
    assert nn.softmax_cross_entropy(logits, ONE_HOT.astype(np.float32)).dtype == np.float32
    x32 = np.array([1.0, -1.0], np.float32)
    assert nn.sigmoid_binary_cross_entropy(x32, np.array([1.0, 0.0], np.float32)).dtype == (
        np.float32
    )
    assert nn.huber_loss(x32, np.zeros(2, np.float32)).dtype == np.float32


# ---- gradients --------------------------------------------------------------------------------


def test_cross_entropy_gradients_are_softmax_minus_labels():
    want = (np_softmax(LOGITS) - ONE_HOT) / 3

    def mean_loss_int(logits):
        return jnp.mean(nn.softmax_cross_entropy_with_integer_labels(logits, LABELS))

    def mean_loss_one_hot(logits):
        return jnp.mean(nn.softmax_cross_entropy(logits, ONE_HOT))

    np.testing.assert_allclose(funcdiff.grad(mean_loss_int)(LOGITS), want, atol=1e-15)
    np.testing.assert_allclose(funcdiff.grad(mean_loss_one_hot)(LOGITS), want, atol=1e-15)
    check_grads(mean_loss_int, (LOGITS,), order=2)
    check_grads(mean_loss_one_hot, (LOGITS,), order=2)


def test_cross_entropy_gradient_in_the_labels_is_minus_log_softmax():
    # Soft targets (distillation, learned smoothing) are differentiated too, zero labels included.
    want = -np_log_softmax(LOGITS)
    for labels in (ONE_HOT, np.full((3, 4), 0.25)):
        g = funcdiff.grad(lambda t: jnp.sum(nn.softmax_cross_entropy(LOGITS, t)))(labels)
        np.testing.assert_allclose(g, want, rtol=1e-14)
    # A zero label at a -inf logit contributes nothing, to the value or to the gradients.
    masked = np.array([[0.0, -np.inf, 1.0]])
    labels = np.array([[0.3, 0.0, 0.7]])
    g_labels, g_logits = funcdiff.grad(
        lambda t, z: jnp.sum(nn.softmax_cross_entropy(z, t)), argnums=(0, 1))(labels, masked)
    finite = np_log_softmax(np.array([[0.0, 1.0]]))[0]
    np.testing.assert_allclose(g_labels, [[-finite[0], 0.0, -finite[1]]], rtol=1e-14)
    np.testing.assert_allclose(g_logits[0, [0, 2]], np.exp(finite) - [0.3, 0.7], rtol=1e-14)
    assert g_logits[0, 1] == 0.0


def test_binary_cross_entropy_and_huber_gradients():
    x = np.array([-3.0, -0.5, 0.2, 0.7, 5.0])
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.3])
    grad = funcdiff.grad(lambda x: jnp.sum(nn.sigmoid_binary_cross_entropy(x, y)))(x)
    np.testing.assert_allclose(grad, 1 / (1 + np.exp(-x)) - y, rtol=1e-13)
    check_grads(lambda x: jnp.sum(nn.sigmoid_binary_cross_entropy(x, y)), (x,), order=2)
    e = np.array([-3.0, -0.4, 0.0, 0.5, 2.0])
    huber_grad = funcdiff.grad(lambda e: jnp.sum(nn.huber_loss(e, delta=1.0)))(e)
    np.testing.assert_allclose(huber_grad, np.clip(e, -1.0, 1.0))
    check_grads(lambda p: jnp.sum(nn.l2_loss(p, e)), (e + 0.3,), order=2)


def test_extreme_logits_give_finite_values_and_gradients():
    big = np.array([[1000.0, -1000.0, 0.0], [-800.0, 900.0, 900.0]])
    labels = np.array([1, 2])
    loss = nn.softmax_cross_entropy_with_integer_labels(big, labels)
    np.testing.assert_allclose(loss, [2000.0, math.log(2.0)])
    grad = funcdiff.grad(lambda z: jnp.sum(nn.softmax_cross_entropy_with_integer_labels(z, labels)))
    g = grad(big)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, [[1.0, -1.0, 0.0], [0.0, 0.5, -0.5]], atol=1e-12)
    one_hot = np.eye(3)[labels]
    g_one_hot = funcdiff.grad(lambda z: jnp.sum(nn.softmax_cross_entropy(z, one_hot)))(big)
    np.testing.assert_allclose(g_one_hot, g, atol=1e-12)
    masked = np.array([[0.0, -np.inf, 1.0]])
    assert np.isfinite(nn.softmax_cross_entropy(masked, np.array([[0.0, 0.0, 1.0]]))).all()
    x = np.array([-1000.0, 1000.0, -50.0, 50.0])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    np.testing.assert_allclose(nn.sigmoid_binary_cross_entropy(x, y), [1000.0, 1000.0, 0.0, 0.0],
                               atol=1e-20)
    g_bce = funcdiff.grad(lambda x: jnp.sum(nn.sigmoid_binary_cross_entropy(x, y)))(x)
    np.testing.assert_allclose(g_bce, [-1.0, 1.0, 0.0, 0.0], atol=1e-20)


def test_loss_errors():
    with pytest.raises(TypeError, match="integers"):
        nn.softmax_cross_entropy_with_integer_labels(LOGITS, ONE_HOT)
    with pytest.raises(ValueError, match="expected \\(3,\\)"):
        nn.softmax_cross_entropy_with_integer_labels(LOGITS, np.array([0, 1]))


# ---- initializers ---------------------------------------------------------------------------

KEY = random.key(0)


def test_zeros_ones_constant():
    assert nn.initializers.zeros(KEY, (2, 3)).tolist() == [[0.0] * 3] * 2
    assert nn.initializers.ones(KEY, 2, np.float32).dtype == np.float32
    assert nn.initializers.constant(-0.5, np.float32)(KEY, (2,)).tolist() == [-0.5, -0.5]


def test_compute_fans():
    fans = nn.initializers.compute_fans
    assert fans((20, 30)) == (20.0, 30.0)
    assert fans((3, 3, 16, 32)) == (144.0, 288.0)
    assert fans((4, 5, 6), in_axis=0, out_axis=2) == (20.0, 30.0)
    assert fans((8, 20, 30), batch_axis=0) == (20.0, 30.0)
    with pytest.raises(ValueError, match="zeros"):
        fans((5,))


VARIANCE = {
    "glorot_uniform": (nn.initializers.glorot_uniform, lambda fi, fo: 2 / (fi + fo)),
    "glorot_normal": (nn.initializers.glorot_normal, lambda fi, fo: 2 / (fi + fo)),
    "xavier_uniform": (nn.initializers.xavier_uniform, lambda fi, fo: 2 / (fi + fo)),
    "he_uniform": (nn.initializers.he_uniform, lambda fi, fo: 2 / fi),
    "he_normal": (nn.initializers.he_normal, lambda fi, fo: 2 / fi),
    "kaiming_normal": (nn.initializers.kaiming_normal, lambda fi, fo: 2 / fi),
    "lecun_uniform": (nn.initializers.lecun_uniform, lambda fi, fo: 1 / fi),
    "lecun_normal": (nn.initializers.lecun_normal, lambda fi, fo: 1 / fi),
}


@pytest.mark.parametrize("name", sorted(VARIANCE))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_variance_scaling_family(name, dtype):
    factory, variance = VARIANCE[name]
    shape = (3, 3, 40, 60)
    w = factory()(random.key(1), shape, dtype)
    assert w.shape == shape and w.dtype == dtype
    fan_in, fan_out = 9 * 40, 9 * 60
    n = w.size
    # the sample variance of n draws is within 5 standard errors of the target
    assert abs(w.astype(np.float64).var() - variance(fan_in, fan_out)) < 5 * variance(
        fan_in, fan_out
    ) * math.sqrt(2 / n)
    if "uniform" in name:
        assert np.abs(w).max() <= math.sqrt(3 * variance(fan_in, fan_out))
    else:  # truncated at two standard deviations of the untruncated normal
        limit = 2 * math.sqrt(variance(fan_in, fan_out)) / 0.8796256610342398
        assert np.abs(w).max() <= limit * (1 + 1e-6)


def test_variance_scaling_modes_and_distributions():
    init = nn.initializers.variance_scaling(3.0, "fan_geo_avg", "normal", dtype=np.float32)
    w = init(random.key(2), (100, 400))
    assert w.dtype == np.float32
    assert abs(w.var() - 3.0 / 200.0) < 5 * 3.0 / 200.0 * math.sqrt(2 / w.size)
    fan_out = nn.initializers.variance_scaling(1.0, "fan_out", "uniform")(random.key(3), (50, 80))
    assert abs(fan_out.var() - 1 / 80) < 5 / 80 * math.sqrt(2 / fan_out.size)
    with pytest.raises(ValueError, match="invalid mode"):
        nn.initializers.variance_scaling(1.0, "fan_sum", "normal")
    with pytest.raises(ValueError, match="invalid distribution"):
        nn.initializers.variance_scaling(1.0, "fan_in", "cauchy")


def test_normal_uniform_truncated_normal_initializers():
    w = nn.initializers.normal(0.5)(random.key(4), (20_000,))
    assert abs(w.std() - 0.5) < 0.02
    u = nn.initializers.uniform(2.0)(random.key(5), (1000,), np.float32)
    assert u.dtype == np.float32 and u.min() >= 0 and u.max() < 2.0
    t = nn.initializers.truncated_normal(0.1)(random.key(6), (1000,))
    assert np.abs(t).max() <= 0.2


@pytest.mark.parametrize(
    "shape,column_axis", [((6, 4), -1), ((4, 6), -1), ((3, 3, 4, 8), -1), ((5, 2, 3), 0)]
)
def test_orthogonal(shape, column_axis):
    w = nn.initializers.orthogonal(scale=2.0, column_axis=column_axis)(random.key(7), shape)
    assert w.shape == shape
    m = np.moveaxis(w, column_axis, -1).reshape(-1, shape[column_axis]) / 2.0
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(gram, np.eye(gram.shape[0]), atol=1e-12)
    w32 = nn.initializers.orthogonal(dtype=np.float32)(random.key(7), (4, 4))
    assert w32.dtype == np.float32
    np.testing.assert_allclose(w32.T @ w32, np.eye(4), atol=1e-6)


def test_orthogonal_is_haar_distributed_in_sign():
    # the sign normalisation makes the first entry symmetric around zero
    firsts = [float(nn.initializers.orthogonal()(random.key(i), (3, 3))[0, 0]) for i in range(200)]
    assert 60 < sum(f > 0 for f in firsts) < 140


def test_initializers_are_deterministic_and_reject_vectors():
    init = nn.initializers.he_normal()
    np.testing.assert_array_equal(init(random.key(8), (5, 5)), init(random.key(8), (5, 5)))
    assert not np.array_equal(init(random.key(8), (5, 5)), init(random.key(9), (5, 5)))
    with pytest.raises(ValueError, match="2 dimensions"):
        nn.initializers.orthogonal()(KEY, (5,))
    with pytest.raises(ValueError):
        nn.initializers.glorot_uniform()(KEY, (5,))
