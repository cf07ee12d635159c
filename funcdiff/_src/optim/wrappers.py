"""Weight decay, clipping, and applying transformations to parts of a pytree.

Each function is a factory returning a `GradientTransformation`, with optax's names, arguments
and semantics.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any, NamedTuple

import funcdiff.numpy as jnp
from funcdiff._src import core
from funcdiff._src.optim.base import (
    NO_PARAMS_MSG,
    EmptyState,
    GradientTransformation,
    OptState,
    Params,
    ScalarOrSchedule,
    Updates,
    init_empty_state,
    is_schedule,
)
from funcdiff._src.optim.tree_math import (
    cast,
    dtype_of,
    global_norm,
    is_none,
    safe_increment,
    scalar_for,
    zero_count,
)
from funcdiff._src.tree_util import tree_leaves, tree_map

Array = Any

# ---- weight decay and clipping --------------------------------------------------------------


class AddDecayedWeightsState(NamedTuple):
    """State of `add_decayed_weights` with a scheduled weight decay: the step count."""

    count: Array


def add_decayed_weights(
    weight_decay: ScalarOrSchedule = 0.0, mask: Any = None
) -> GradientTransformation:
    """Add ``weight_decay * param`` to each update: decoupled weight decay (AdamW) when it
    comes after the adaptive rescaling in a chain.

    **Arguments:**

    - `weight_decay`: a number or a schedule.
    - `mask`: a pytree of booleans shaped like the parameters (or a function from the
      parameters to one): decay only where True.

    **Returns:**

    A `GradientTransformation`; its `update` needs `params`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.add_decayed_weights(0.1)
        params = np.array([10.0])
        u, _ = opt.update(np.array([1.0]), opt.init(params), params)
        assert np.allclose(u, 2.0)
        ```
    """
    scheduled = is_schedule(weight_decay)

    def init_fn(params: Params) -> Any:
        del params
        return AddDecayedWeightsState(count=zero_count()) if scheduled else EmptyState()

    def update_fn(updates: Updates, state: Any, params: Params | None = None):
        if params is None:
            raise ValueError("add_decayed_weights: " + NO_PARAMS_MSG)
        if scheduled:
            rate = weight_decay(state.count)  # type: ignore[operator]
            new_state: Any = AddDecayedWeightsState(count=safe_increment(state.count))
        else:
            if isinstance(weight_decay, int | float) and weight_decay == 0.0:
                return updates, state
            rate, new_state = weight_decay, state
        new_updates = tree_map(
            lambda g, p: None if g is None else g + scalar_for(rate, g) * p,
            updates, params, is_leaf=is_none,
        )
        return new_updates, new_state

    inner = GradientTransformation(init_fn, update_fn)
    return inner if mask is None else masked(inner, mask)


def clip(max_delta: Any) -> GradientTransformation:
    """Clip every update elementwise to ``[-max_delta, max_delta]``.

    **Arguments:**

    - `max_delta`: the largest magnitude allowed.

    **Returns:**

    A stateless `GradientTransformation`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.clip(1.0)
        u, _ = opt.update(np.array([-3.0, 0.5]), opt.init(np.zeros(2)))
        assert np.allclose(u, [-1.0, 0.5])
        ```
    """

    def update_fn(updates: Updates, state: OptState, params: Params | None = None):
        del params
        return tree_map(lambda g: jnp.clip(g, -max_delta, max_delta), updates), state

    return GradientTransformation(init_empty_state, update_fn)


def clip_by_global_norm(max_norm: Any) -> GradientTransformation:
    """Rescale all updates together so that their global L2 norm is at most `max_norm`:
    ``u -> u * max_norm / global_norm(u)`` when the norm exceeds `max_norm`.

    **Arguments:**

    - `max_norm`: the largest global norm allowed.

    **Returns:**

    A stateless `GradientTransformation`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.clip_by_global_norm(1.0)
        u, _ = opt.update({"a": np.array([3.0]), "b": np.array([4.0])}, opt.init(None))
        assert np.allclose([u["a"][0], u["b"][0]], [0.6, 0.8])
        ```
    """

    def update_fn(updates: Updates, state: OptState, params: Params | None = None):
        del params
        norm = global_norm(updates)
        keep = norm < max_norm
        safe_norm = jnp.where(keep, 1.0, norm)

        def rescale(g: Array) -> Array:
            clipped = g / cast(safe_norm, dtype_of(g)) * max_norm
            return jnp.where(keep, g, clipped)

        return tree_map(rescale, updates), state

    return GradientTransformation(init_empty_state, update_fn)


# ---- applying transformations to parts of a pytree ------------------------------------------


class MaskedNode(NamedTuple):
    """Stands in for the leaves a `masked` transformation does not see: an empty pytree
    node, so the inner transformation neither updates nor stores anything for them."""


class MaskedState(NamedTuple):
    """State of `masked`: the inner transformation's state."""

    inner_state: Any


def _mask_tree(tree: Any, mask_tree: Any) -> Any:
    return tree_map(lambda m, x: x if m else MaskedNode(), mask_tree, tree)


def _check_mask_leaf(m: Any) -> bool:
    if isinstance(m, core.Tracer):
        raise TypeError(
            "masked: the mask must hold Python or NumPy booleans, not traced values (the mask "
            "decides the structure of the state, which must be known when tracing)."
        )
    return bool(m)


def masked(inner: GradientTransformation, mask: Any) -> GradientTransformation:
    """Apply `inner` only to the leaves where `mask` is True; the other updates pass through
    unchanged (and `inner` keeps no state for them).

    **Arguments:**

    - `inner`: the transformation to apply.
    - `mask`: a pytree of booleans with the structure of the parameters (or a prefix of it),
      or a function from the parameters (or updates) to such a pytree.

    **Returns:**

    A `GradientTransformation` with state `MaskedState(inner_state)`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.masked(optim.scale(0.0), {"w": True, "b": False})
        params = {"w": np.ones(2), "b": np.ones(2)}
        u, _ = opt.update(params, opt.init(params))
        assert np.all(u["w"] == 0) and np.all(u["b"] == 1)
        ```
    """

    def resolve(tree: Any) -> Any:
        mask_tree = mask(tree) if callable(mask) else mask
        return tree_map(_check_mask_leaf, mask_tree)

    def init_fn(params: Params) -> MaskedState:
        return MaskedState(inner_state=inner.init(_mask_tree(params, resolve(params))))

    def update_fn(updates: Updates, state: MaskedState, params: Params | None = None):
        mask_tree = resolve(updates)
        masked_params = None if params is None else _mask_tree(params, mask_tree)
        new_masked, inner_state = inner.update(
            _mask_tree(updates, mask_tree), state.inner_state, masked_params
        )
        new_updates = tree_map(
            lambda m, new, old: new if m else old, mask_tree, new_masked, updates
        )
        return new_updates, MaskedState(inner_state=inner_state)

    return GradientTransformation(init_fn, update_fn)


class MultiTransformState(NamedTuple):
    """State of `multi_transform`: a dict from label to that group's (masked) state."""

    inner_states: dict[Hashable, Any]


PartitionState = MultiTransformState


def multi_transform(
    transforms: Mapping[Hashable, GradientTransformation],
    param_labels: Any | Callable[[Params], Any],
) -> GradientTransformation:
    """Use a different transformation for each group of parameters.

    **Arguments:**

    - `transforms`: a mapping from label to `GradientTransformation`.
    - `param_labels`: a pytree of labels with the structure of the parameters (or a prefix
      of it), or a function from the parameters to one.

    **Returns:**

    A `GradientTransformation` with state `MultiTransformState(inner_states)`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.multi_transform(
            {"train": optim.sgd(0.1), "frozen": optim.set_to_zero()},
            {"w": "train", "b": "frozen"},
        )
        params = {"w": np.ones(2), "b": np.ones(2)}
        u, _ = opt.update({"w": np.ones(2), "b": np.ones(2)}, opt.init(params), params)
        assert np.allclose(u["w"], -0.1) and np.all(u["b"] == 0)
        ```
    """
    transforms = dict(transforms)

    def labels_of(tree: Any) -> Any:
        labels = param_labels(tree) if callable(param_labels) else param_labels
        missing = set(tree_leaves(labels)) - set(transforms)
        if missing:
            raise ValueError(
                f"multi_transform: labels {sorted(map(repr, missing))} have no transformation; "
                f"the transformations are labelled {sorted(map(repr, transforms))}. Add them to "
                "`transforms` or change `param_labels`."
            )
        return labels

    def group(tx: GradientTransformation, labels: Any, label: Hashable) -> GradientTransformation:
        return masked(tx, tree_map(lambda lab: lab == label, labels))

    def init_fn(params: Params) -> MultiTransformState:
        labels = labels_of(params)
        return MultiTransformState(
            {label: group(tx, labels, label).init(params) for label, tx in transforms.items()}
        )

    def update_fn(updates: Updates, state: MultiTransformState, params: Params | None = None):
        labels = labels_of(updates)
        new_states = {}
        for label, tx in transforms.items():
            updates, new_states[label] = group(tx, labels, label).update(
                updates, state.inner_states[label], params
            )
        return updates, MultiTransformState(new_states)

    return GradientTransformation(init_fn, update_fn)


partition = multi_transform
