"""`funcdiff.example_libraries.optimizers` against `jax.example_libraries.optimizers`: six
jitted steps of each optimizer (with each schedule) give JAX's parameters to rounding, and the
state passes through `jit`, `unpack_optimizer_state`/`pack_optimizer_state` and pickle."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff.example_libraries import optimizers as O

# Parameters (b, then w) after six jitted steps, from jax.example_libraries.optimizers
# (JAX 0.10.2, 64-bit mode), on the loss and schedules of `_run` below.
JAX_AFTER_SIX_STEPS = {
    "sgd": [0.3990298715953239, 0.9855878534527851, 1.8906298229467349, 2.014412146547215],
    "momentum": [-0.11494540408335073, 2.5703369526370414, 1.696144702710304, 0.429663047362959],
    "nesterov": [-0.14030809270186867, 2.21481178444497, 1.6870374409183877, 0.7851882155550299],
    "adagrad": [0.5795287921432307, 0.11913210874073592, 1.886227578285941, 2.8808678912592645],
    "rmsprop": [0.5815522712547493, 0.11602093764520084, 1.8942722646357404, 2.883979062354799],
    "rmsprop_momentum": [
        0.3177964182529577,
        0.37111992826491924,
        1.6812400245208026,
        2.62888007173508,
    ],
    "adam": [0.2719944682193139, 0.42176670459556803, 1.6361900047862747, 2.578233295404432],
    "adamax": [0.3953690829680089, 0.2888334693991303, 1.7646250968175707, 2.71116653060087],
    # JAX's sm3 fails under jit (its state holds the shape as integers): its numbers are from
    # an eager run. On a vector or a scalar SM3 is adagrad.
    "sm3": [0.5795287921432307, 0.1191321087407359, 1.886227578285941, 2.8808678912592645],
    "sgd_pw": [0.31288998938263246, 1.3540595786522773, 1.8614557880522242, 1.6459404213477227],
    "sgd_itd": [0.2997386467573652, 1.3543466347347226, 1.857542475916485, 1.6456533652652774],
}

OPTIMIZERS = {
    "sgd": lambda: O.sgd(0.05),
    "momentum": lambda: O.momentum(0.05, 0.9),
    "nesterov": lambda: O.nesterov(0.05, 0.9),
    "adagrad": lambda: O.adagrad(0.1),
    "rmsprop": lambda: O.rmsprop(0.01),
    "rmsprop_momentum": lambda: O.rmsprop_momentum(0.01),
    "adam": lambda: O.adam(O.exponential_decay(0.1, 5, 0.5)),
    "adamax": lambda: O.adamax(O.polynomial_decay(0.1, 5, 0.01)),
    "sm3": lambda: O.sm3(0.1),
    "sgd_pw": lambda: O.sgd(O.piecewise_constant([2, 4], [0.1, 0.05, 0.01])),
    "sgd_itd": lambda: O.sgd(O.inverse_time_decay(0.1, 2, 0.5, True)),
}


def _loss(p):
    return jnp.sum((p["w"] - 1.5) ** 4) + jnp.sum(jnp.sin(p["b"]) * p["b"])


def _run(opt, steps=6):
    init, update, get_params = opt
    state = init({"w": np.array([0.0, 2.0, 3.0]), "b": np.array(0.7)})
    step = funcdiff.jit(lambda i, s: update(i, funcdiff.grad(_loss)(get_params(s)), s))
    for i in range(steps):
        state = step(i, state)
    return state, get_params(state)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizers_match_jax(name):
    _, p = _run(OPTIMIZERS[name]())
    got = np.concatenate([np.ravel(p["b"]), np.ravel(p["w"])])
    np.testing.assert_allclose(got, JAX_AFTER_SIX_STEPS[name], rtol=1e-12, atol=1e-14)


def test_sm3_two_steps_by_hand():
    """SM3 on a 2x3 matrix: one accumulator per row and one per column; each element's is the
    smaller of its row's and column's plus its squared gradient (worked out in NumPy)."""
    lr, beta = 0.5, 0.8
    init, update, get_params = O.sm3(lr, momentum=beta)
    grads = [
        np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]]),
        np.array([[2.0, 1.0, -1.0], [1.0, -1.0, 0.25]]),
    ]
    state = init(np.zeros((2, 3)))
    x, m, rows, cols = np.zeros((2, 3)), np.zeros((2, 3)), np.zeros(2), np.zeros(3)
    for i, g in enumerate(grads):
        state = update(i, g, state)
        accum = np.minimum(rows[:, None], cols[None, :]) + g**2
        m = (1 - beta) * np.where(accum > 0, g / np.sqrt(np.where(accum > 0, accum, 1)), 0) + (
            beta * m
        )
        x = x - lr * m
        rows, cols = accum.max(axis=1), accum.max(axis=0)
    np.testing.assert_allclose(get_params(state), x, rtol=1e-14)
    # JAX's result (0.10.2, 64-bit mode, eager)
    np.testing.assert_allclose(
        x,
        [[-0.26944272, 0.13527864, -0.10928932], [-0.07071068, -0.14837722, 0.15574644]],
        atol=1e-8,
    )
    # after step 1 rows = [4, 9], cols = [1, 9, 1]; step 2's accumulators are
    # min(row, col) + g2**2 = [[5, 5, 2], [2, 10, 1.0625]]
    _, _, row_acc, col_acc = state.packed_state[0]
    np.testing.assert_allclose(row_acc, [5.0, 10.0])
    np.testing.assert_allclose(col_acc, [5.0, 10.0, 2.0])
    assert get_params(O.sm3(0.1)[1](0, np.ones(()), O.sm3(0.1)[0](np.array(2.0)))).shape == ()


def test_state_round_trips_through_pickle():
    opt = O.adam(0.1)
    state, _ = _run(opt, steps=3)
    marked = O.unpack_optimizer_state(state)
    assert isinstance(marked["w"], O.JoinPoint)
    restored = O.pack_optimizer_state(pickle.loads(pickle.dumps(marked)))
    _, update, get_params = opt
    g = {"w": np.ones(3), "b": np.array(1.0)}
    a, b = get_params(update(3, g, state)), get_params(update(3, g, restored))
    np.testing.assert_array_equal(a["w"], b["w"])
    with pytest.raises(TypeError, match="JoinPoint"):
        O.pack_optimizer_state({"w": 1.0})


def test_schedules_and_utilities():
    assert O.constant(0.3)(1000) == 0.3
    np.testing.assert_allclose(O.exponential_decay(1.0, 10, 0.5)(20), 0.25)
    np.testing.assert_allclose(O.inverse_time_decay(1.0, 10, 1.0)(15), 0.4)
    np.testing.assert_allclose(O.inverse_time_decay(1.0, 10, 1.0, staircase=True)(15), 0.5)
    s = O.polynomial_decay(1.0, 10, 0.1, power=2.0)
    np.testing.assert_allclose([s(0), s(5), s(10), s(50)], [1.0, 0.325, 0.1, 0.1])
    pw = O.piecewise_constant([10, 20], [1.0, 0.1, 0.01])
    assert [float(pw(i)) for i in (0, 10, 11, 20, 21)] == [1.0, 1.0, 0.1, 0.1, 0.01]
    with pytest.raises(ValueError, match="one element fewer"):
        O.piecewise_constant([1, 2], [1.0, 2.0])
    assert O.make_schedule(0.2)(5) == 0.2 and O.make_schedule(pw) is pw
    with pytest.raises(TypeError, match="make_schedule"):
        O.make_schedule([0.1, 0.2])
    tree = {"a": np.array([3.0]), "b": np.array([4.0])}
    assert float(O.l2_norm(tree)) == 5.0
    clipped = O.clip_grads(tree, 1.0)
    np.testing.assert_allclose(clipped["a"], [0.6])
    np.testing.assert_array_equal(O.clip_grads(tree, 10.0)["b"], [4.0])


def test_update_checks_the_gradient_structure():
    init, update, _ = O.sgd(0.1)
    state = init({"w": np.zeros(2)})
    with pytest.raises(TypeError, match="gradient tree does not match"):
        update(0, {"v": np.zeros(2)}, state)
    bad = O.optimizer(lambda: (lambda x: (x, x), lambda i, g, s: s[0], lambda s: s[0]))()
    with pytest.raises(TypeError, match="produced a state of structure"):
        bad.update_fn(0, np.zeros(2), bad.init_fn(np.zeros(2)))


def test_state_is_a_pytree_of_the_arrays():
    init, _, _ = O.momentum(0.1, 0.9)
    state = init({"w": np.ones(2), "b": np.zeros(())})
    leaves = funcdiff.tree_util.tree_leaves(state)
    assert len(leaves) == 4 and all(isinstance(x, np.ndarray) for x in leaves)
