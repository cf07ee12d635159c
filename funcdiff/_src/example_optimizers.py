"""`jax.example_libraries.optimizers`: the small optimizer library of JAX's examples, as
`(init_fn, update_fn, params_fn)` triples over pytrees. Written from its documented behaviour;
new code may prefer `funcdiff.optim` (optax's interface)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src.tree_util import (
    PyTreeDef,
    register_pytree_node,
    tree_flatten,
    tree_leaves,
    tree_map,
    tree_unflatten,
)

Schedule = Callable[[Any], Any]


class OptimizerState(NamedTuple):
    """The state of an optimizer over a pytree of parameters: the flat list of per-leaf
    states (`packed_state`), the parameters' tree structure and each leaf state's structure.
    It is a pytree whose leaves are the arrays of the states, so it passes through `jit`."""

    packed_state: list
    tree_def: PyTreeDef
    subtree_defs: tuple


register_pytree_node(
    OptimizerState,
    lambda s: ((s.packed_state,), (s.tree_def, s.subtree_defs)),
    lambda aux, children: OptimizerState(children[0], aux[0], aux[1]),
)


class Optimizer(NamedTuple):
    """An optimizer over pytrees: `init_fn(params) -> state`,
    `update_fn(step, grads, state) -> state`, `params_fn(state) -> params`."""

    init_fn: Callable[[Any], OptimizerState]
    update_fn: Callable[[int, Any, OptimizerState], OptimizerState]
    params_fn: Callable[[OptimizerState], Any]


def _flatten_states(states: list[Any]) -> tuple[list[list[Any]], tuple[PyTreeDef, ...]]:
    flat = [tree_flatten(s) for s in states]
    return [f[0] for f in flat], tuple(f[1] for f in flat)


def optimizer(
    opt_maker: Callable[..., tuple[Callable, Callable, Callable]],
) -> Callable[..., Optimizer]:
    """Turn a maker of `(init, update, get_params)` for one array into a maker of an
    `Optimizer` over pytrees: each leaf of the parameters gets its own state.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.example_libraries import optimizers

        @optimizers.optimizer
        def halve():
            return (lambda x0: x0, lambda i, g, x: x - 0.5 * g, lambda x: x)

        init, update, get_params = halve()
        state = update(0, {"w": np.ones(2)}, init({"w": np.zeros(2)}))
        print(get_params(state))
        ```
    """

    def make(*args: Any, **kwargs: Any) -> Optimizer:
        init, update, get_params = opt_maker(*args, **kwargs)

        def init_fn(params: Any) -> OptimizerState:
            leaves, tree = tree_flatten(params)
            states_flat, subtrees = _flatten_states([init(x) for x in leaves])
            return OptimizerState(states_flat, tree, subtrees)

        def update_fn(i: Any, grads: Any, state: OptimizerState) -> OptimizerState:
            states_flat, tree, subtrees = state
            grad_leaves, grad_tree = tree_flatten(grads)
            if grad_tree != tree:
                raise TypeError(
                    "optimizer update: the gradient tree does not match the parameter tree the "
                    f"optimizer was initialized with: parameters {tree}, gradients {grad_tree}."
                )
            states = [tree_unflatten(d, s) for d, s in zip(subtrees, states_flat)]
            new_flat, new_subtrees = _flatten_states(
                [update(i, g, s) for g, s in zip(grad_leaves, states)]
            )
            for old, new in zip(subtrees, new_subtrees):
                if old != new:
                    raise TypeError(
                        "optimizer update: the update produced a state of structure "
                        f"{new}, but its input had structure {old}."
                    )
            return OptimizerState(new_flat, tree, subtrees)

        def params_fn(state: OptimizerState) -> Any:
            states_flat, tree, subtrees = state
            states = [tree_unflatten(d, s) for d, s in zip(subtrees, states_flat)]
            return tree_unflatten(tree, [get_params(s) for s in states])

        return Optimizer(init_fn, update_fn, params_fn)

    make.__name__ = getattr(opt_maker, "__name__", "optimizer")
    make.__doc__ = opt_maker.__doc__
    return make


# ---- step-size schedules ---------------------------------------------------------------------


def constant(step_size: float) -> Schedule:
    """The schedule `step_size` at every step.

    !!! Example
        ```python
        from funcdiff.example_libraries import optimizers

        print(optimizers.constant(0.1)(100))
        ```
    """
    return lambda i: step_size


def exponential_decay(step_size: float, decay_steps: float, decay_rate: float) -> Schedule:
    """``step_size * decay_rate ** (i / decay_steps)``.

    !!! Example
        ```python
        from funcdiff.example_libraries import optimizers

        print(optimizers.exponential_decay(1.0, 10, 0.5)(20))
        ```
    """
    return lambda i: step_size * decay_rate ** (i / decay_steps)


def inverse_time_decay(
    step_size: float, decay_steps: float, decay_rate: float, staircase: bool = False
) -> Schedule:
    """``step_size / (1 + decay_rate * i / decay_steps)``; with `staircase`, the ratio
    ``i / decay_steps`` is rounded down.

    !!! Example
        ```python
        from funcdiff.example_libraries import optimizers

        print(optimizers.inverse_time_decay(1.0, 10, 1.0, staircase=True)(15))
        ```
    """
    if staircase:
        return lambda i: step_size / (1 + decay_rate * jnp.floor(i / decay_steps))
    return lambda i: step_size / (1 + decay_rate * i / decay_steps)


def polynomial_decay(
    step_size: float, decay_steps: int, final_step_size: float, power: float = 1.0
) -> Schedule:
    """From `step_size` down to `final_step_size` over `decay_steps` steps along
    ``(1 - i / decay_steps) ** power``, then constant.

    !!! Example
        ```python
        from funcdiff.example_libraries import optimizers

        s = optimizers.polynomial_decay(1.0, 10, 0.0)
        print(s(5), s(20))
        ```
    """

    def schedule(i: Any) -> Any:
        i = jnp.minimum(i, decay_steps)
        return (1 - i / decay_steps) ** power * (step_size - final_step_size) + final_step_size

    return schedule


def piecewise_constant(boundaries: Any, values: Any) -> Schedule:
    """``values[k]`` for the steps after the first `k` boundaries: `values` has one more
    element than `boundaries`.

    !!! Example
        ```python
        from funcdiff.example_libraries import optimizers

        s = optimizers.piecewise_constant([10, 20], [1.0, 0.1, 0.01])
        print(s(5), s(15), s(25))
        ```
    """
    boundaries, values = np.asarray(boundaries), np.asarray(values)
    if not boundaries.ndim == values.ndim == 1:
        raise ValueError("piecewise_constant: boundaries and values must be sequences")
    if boundaries.shape[0] != values.shape[0] - 1:
        raise ValueError(
            "piecewise_constant: boundaries must have one element fewer than values, got "
            f"{boundaries.shape[0]} and {values.shape[0]}"
        )
    return lambda i: jnp.take(values, jnp.sum(i > boundaries))


def make_schedule(scalar_or_schedule: float | Schedule) -> Schedule:
    """A schedule from a number (constant) or a schedule (returned as is).

    !!! Example
        ```python
        from funcdiff.example_libraries import optimizers

        print(optimizers.make_schedule(0.1)(7))
        ```
    """
    if callable(scalar_or_schedule):
        return scalar_or_schedule
    if np.ndim(scalar_or_schedule) == 0:
        return constant(scalar_or_schedule)
    raise TypeError(
        f"make_schedule: expected a number or a schedule, got {type(scalar_or_schedule).__name__}"
    )


# ---- the optimizers --------------------------------------------------------------------------


def _init_one_slot(x0: Any) -> tuple[Any, Any]:
    return x0, jnp.zeros_like(x0)


def _init_two_slots(x0: Any) -> tuple[Any, Any, Any]:
    return x0, jnp.zeros_like(x0), jnp.zeros_like(x0)


def _params_of(state: tuple) -> Any:
    return state[0]


@optimizer
def sgd(step_size: float | Schedule) -> tuple[Callable, Callable, Callable]:
    """Stochastic gradient descent: ``x - step_size(i) * g``.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff.example_libraries import optimizers

        init, update, get_params = optimizers.sgd(0.1)
        state = init({"w": np.array([1.0, -2.0])})
        for i in range(100):
            g = funcdiff.grad(lambda p: (p["w"] ** 2).sum())(get_params(state))
            state = update(i, g, state)
        print(get_params(state)["w"].round(6))
        ```
    """
    step_size = make_schedule(step_size)
    return (lambda x0: x0, lambda i, g, x: x - step_size(i) * g, lambda x: x)


@optimizer
def momentum(step_size: float | Schedule, mass: float) -> tuple[Callable, Callable, Callable]:
    """Heavy-ball momentum: ``v = mass * v + g``, ``x - step_size(i) * v``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.example_libraries import optimizers

        init, update, get_params = optimizers.momentum(0.1, mass=0.9)
        state = update(1, np.ones(2), update(0, np.ones(2), init(np.zeros(2))))
        print(get_params(state))
        ```
    """
    step_size = make_schedule(step_size)

    def update(i, g, state):
        x, velocity = state
        velocity = mass * velocity + g
        return x - step_size(i) * velocity, velocity

    return (_init_one_slot, update, _params_of)


@optimizer
def nesterov(step_size: float | Schedule, mass: float) -> tuple[Callable, Callable, Callable]:
    """Nesterov momentum: ``v = mass * v + g``, ``x - step_size(i) * (mass * v + g)``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.example_libraries import optimizers

        init, update, get_params = optimizers.nesterov(0.1, mass=0.9)
        print(get_params(update(0, np.ones(2), init(np.zeros(2)))))
        ```
    """
    step_size = make_schedule(step_size)

    def update(i, g, state):
        x, velocity = state
        velocity = mass * velocity + g
        return x - step_size(i) * (mass * velocity + g), velocity

    return (_init_one_slot, update, _params_of)


@optimizer
def adagrad(step_size: float | Schedule, momentum: float = 0.9) -> tuple[Callable, ...]:
    """Adagrad with momentum: steps scaled by the inverse root of the summed squared
    gradients, averaged with weight `momentum`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.example_libraries import optimizers

        init, update, get_params = optimizers.adagrad(1.0)
        print(get_params(update(0, np.array([2.0, -4.0]), init(np.zeros(2)))))
        ```
    """
    step_size = make_schedule(step_size)

    def update(i, g, state):
        x, g_sq, m = state
        g_sq = g_sq + jnp.square(g)
        inv_sqrt = jnp.where(g_sq > 0, 1.0 / jnp.sqrt(jnp.where(g_sq > 0, g_sq, 1.0)), 0.0)
        m = (1.0 - momentum) * (g * inv_sqrt) + momentum * m
        return x - step_size(i) * m, g_sq, m

    return _init_two_slots, update, _params_of


@optimizer
def rmsprop(
    step_size: float | Schedule, gamma: float = 0.9, eps: float = 1e-8
) -> tuple[Callable, Callable, Callable]:
    """RMSProp: steps scaled by the inverse root of a moving average of squared gradients.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.example_libraries import optimizers

        init, update, get_params = optimizers.rmsprop(0.1)
        print(get_params(update(0, np.array([1.0, -1.0]), init(np.zeros(2)))))
        ```
    """
    step_size = make_schedule(step_size)

    def update(i, g, state):
        x, avg_sq = state
        avg_sq = avg_sq * gamma + jnp.square(g) * (1.0 - gamma)
        return x - step_size(i) * g / jnp.sqrt(avg_sq + eps), avg_sq

    return (_init_one_slot, update, _params_of)


@optimizer
def rmsprop_momentum(
    step_size: float | Schedule, gamma: float = 0.9, eps: float = 1e-8, momentum: float = 0.9
) -> tuple[Callable, Callable, Callable]:
    """RMSProp with momentum on the scaled steps.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.example_libraries import optimizers

        init, update, get_params = optimizers.rmsprop_momentum(0.1)
        print(get_params(update(0, np.array([1.0, -1.0]), init(np.zeros(2)))))
        ```
    """
    step_size = make_schedule(step_size)

    def update(i, g, state):
        x, avg_sq, mom = state
        avg_sq = avg_sq * gamma + jnp.square(g) * (1.0 - gamma)
        mom = momentum * mom + step_size(i) * g / jnp.sqrt(avg_sq + eps)
        return x - mom, avg_sq, mom

    return _init_two_slots, update, _params_of


@optimizer
def adam(
    step_size: float | Schedule, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> tuple[Callable, Callable, Callable]:
    """Adam, with bias-corrected first and second moment estimates.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.example_libraries import optimizers

        init, update, get_params = optimizers.adam(0.1)
        print(get_params(update(0, np.array([3.0, -0.5]), init(np.zeros(2)))))
        ```
    """
    step_size = make_schedule(step_size)

    def update(i, g, state):
        x, m, v = state
        m = (1 - b1) * g + b1 * m
        v = (1 - b2) * jnp.square(g) + b2 * v
        dtype = jnp.result_type(m)
        mhat = m / (1 - jnp.asarray(b1, dtype) ** (i + 1))
        vhat = v / (1 - jnp.asarray(b2, dtype) ** (i + 1))
        return x - step_size(i) * mhat / (jnp.sqrt(vhat) + eps), m, v

    return _init_two_slots, update, _params_of


@optimizer
def adamax(
    step_size: float | Schedule, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> tuple[Callable, Callable, Callable]:
    """Adamax, Adam's variant with an infinity-norm second moment.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.example_libraries import optimizers

        init, update, get_params = optimizers.adamax(0.1)
        print(get_params(update(0, np.array([3.0, -0.5]), init(np.zeros(2)))))
        ```
    """
    step_size = make_schedule(step_size)

    def update(i, g, state):
        x, m, u = state
        m = (1 - b1) * g + b1 * m
        u = jnp.maximum(b2 * u, jnp.abs(g))
        return x - (step_size(i) / (1 - b1 ** (i + 1))) * m / (u + eps), m, u

    return _init_two_slots, update, _params_of


# ---- utilities -------------------------------------------------------------------------------


@optimizer
def sm3(step_size: float | Schedule, momentum: float = 0.9) -> tuple[Callable, ...]:
    """SM3 (Anil et al., "Memory-efficient adaptive optimization", 2019): Adagrad whose sum of
    squared gradients is kept per index of each axis (one vector per axis) instead of per
    element; each element's accumulator is the minimum over its indices' entries plus its
    squared gradient. Steps are averaged with weight `momentum`. For a vector it is `adagrad`.

    Unlike JAX's, whose state holds the parameter's shape as integers (so that `get_params`
    fails under `jit`), the state keeps the parameter in its own shape.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.example_libraries import optimizers

        init, update, get_params = optimizers.sm3(0.5, momentum=0.0)
        state = update(0, np.array([[3.0, -4.0], [0.0, 1.0]]), init(np.zeros((2, 2))))
        print(get_params(state))
        ```
    """
    step_size = make_schedule(step_size)

    def init(x0: Any) -> tuple[Any, Any, list[Any]]:
        shape = jnp.shape(jnp.atleast_1d(x0))
        return x0, jnp.zeros_like(x0), [jnp.zeros(n, jnp.result_type(x0)) for n in shape]

    def update(i: Any, g: Any, state: tuple) -> tuple:
        x, m, vs = state
        g1 = jnp.atleast_1d(g)
        ndim = g1.ndim
        per_axis = [
            jnp.expand_dims(v, [a for a in range(ndim) if a != k]) for k, v in enumerate(vs)
        ]
        accum = functools.reduce(jnp.minimum, per_axis) + jnp.square(g1)
        safe = jnp.where(accum > 0, accum, 1.0)
        step = jnp.where(accum > 0, g1 / jnp.sqrt(safe), 0.0)
        m = (1.0 - momentum) * jnp.reshape(step, jnp.shape(x)) + momentum * m
        vs = [jnp.max(accum, axis=tuple(a for a in range(ndim) if a != k)) for k in range(ndim)]
        return x - step_size(i) * m, m, vs

    return init, update, _params_of


def l2_norm(tree: Any) -> Any:
    """The Euclidean norm of all the leaves of a pytree together.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.example_libraries import optimizers

        print(optimizers.l2_norm({"a": np.array([3.0]), "b": np.array([4.0])}))
        ```
    """
    return jnp.sqrt(sum(jnp.vdot(x, x) for x in tree_leaves(tree)))


def clip_grads(grad_tree: Any, max_norm: float) -> Any:
    """`grad_tree` scaled so that its `l2_norm` is at most `max_norm`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.example_libraries import optimizers

        print(optimizers.clip_grads({"a": np.array([3.0]), "b": np.array([4.0])}, 1.0))
        ```
    """
    norm = l2_norm(grad_tree)
    return tree_map(lambda g: jnp.where(norm < max_norm, g, g * (max_norm / norm)), grad_tree)


class JoinPoint:
    """Marks, in the pytree made by `unpack_optimizer_state`, where a parameter's own state
    (`subtree`) begins."""

    def __init__(self, subtree: Any) -> None:
        self.subtree = subtree

    def __iter__(self):
        yield self.subtree


def unpack_optimizer_state(opt_state: OptimizerState) -> Any:
    """The optimizer state as a pytree shaped like the parameters, each leaf a `JoinPoint`
    holding that parameter's state (for saving with pickle).

    !!! Example
        ```python
        import pickle
        import numpy as np
        from funcdiff.example_libraries import optimizers

        init, update, get_params = optimizers.adam(0.1)
        state = init({"w": np.ones(2)})
        saved = pickle.dumps(optimizers.unpack_optimizer_state(state))
        restored = optimizers.pack_optimizer_state(pickle.loads(saved))
        print(get_params(restored))
        ```
    """
    states_flat, tree, subtrees = opt_state
    return tree_unflatten(
        tree, [JoinPoint(tree_unflatten(d, s)) for d, s in zip(subtrees, states_flat)]
    )


def pack_optimizer_state(marked_pytree: Any) -> OptimizerState:
    """The inverse of `unpack_optimizer_state`."""
    joins, tree = tree_flatten(marked_pytree)
    if not all(isinstance(j, JoinPoint) for j in joins):
        raise TypeError(
            "pack_optimizer_state: expected a pytree of JoinPoints, as made by "
            "unpack_optimizer_state"
        )
    states_flat, subtrees = _flatten_states([j.subtree for j in joins])
    return OptimizerState(states_flat, tree, subtrees)
