"""The optimiser protocol: a gradient transformation is a pair of pure functions.

`init(params) -> state` builds the state, `update(updates, state, params=None) ->
(updates, state)` transforms gradients into parameter updates. States are pytrees (NamedTuples
of arrays), so they pass through funcdiff's transformations and can be saved with
`funcdiff.io`. The names, arguments and semantics follow optax.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src import core
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.tree_util import tree_map

Array = Any
Params = Any
"""A pytree of parameters."""
Updates = Any
"""A pytree of gradients or updates, shaped like the parameters."""
OptState = Any
"""A pytree of optimiser state."""
Schedule = Callable[[Array], Array]
"""A function from the step count (an integer array) to a value such as a learning rate."""
ScalarOrSchedule = float | Array | Schedule


NO_PARAMS_MSG = (
    "This transformation needs the current parameters: call "
    "`update(grads, state, params)` with `params` (not `update(grads, state)`)."
)


class TransformInitFn(Protocol):
    """`init(params) -> state`: the initial state for parameters shaped like `params`."""

    def __call__(self, params: Params) -> OptState: ...


class TransformUpdateFn(Protocol):
    """`update(updates, state, params=None) -> (updates, state)`."""

    def __call__(
        self, updates: Updates, state: OptState, params: Params | None = None
    ) -> tuple[Updates, OptState]: ...


class GradientTransformation(NamedTuple):
    """A pair of pure functions `(init, update)`; see the module documentation.

    **Arguments:**

    - `init`: `init(params) -> state`.
    - `update`: `update(updates, state, params=None) -> (new_updates, new_state)`. It never
      modifies its arguments.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.sgd(0.1)
        params = {"w": np.ones(3)}
        state = opt.init(params)
        updates, state = opt.update({"w": np.full(3, 2.0)}, state, params)
        params = optim.apply_updates(params, updates)   # w = 1 - 0.1 * 2
        assert np.allclose(params["w"], 0.8)
        ```
    """

    init: TransformInitFn
    update: TransformUpdateFn


class EmptyState(NamedTuple):
    """The state of a stateless transformation (an empty pytree)."""


def init_empty_state(params: Params) -> EmptyState:
    """An `init` function for stateless transformations: returns `EmptyState()`."""
    del params
    return EmptyState()


def identity() -> GradientTransformation:
    """The transformation that returns the updates unchanged.

    **Returns:**

    A `GradientTransformation` with an empty state.

    !!! Example
        ```python
        from funcdiff import optim

        opt = optim.identity()
        assert opt.update({"w": 1.0}, opt.init({"w": 0.0}))[0] == {"w": 1.0}
        ```
    """

    def update_fn(updates: Updates, state: OptState, params: Params | None = None):
        del params
        return updates, state

    return GradientTransformation(init_empty_state, update_fn)


def set_to_zero() -> GradientTransformation:
    """The transformation that replaces every update with zeros (freezes parameters; use it
    with `multi_transform`).

    **Returns:**

    A `GradientTransformation` with an empty state.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.set_to_zero()
        updates, _ = opt.update({"w": np.ones(2)}, opt.init({"w": np.ones(2)}))
        assert np.all(updates["w"] == 0)
        ```
    """

    def update_fn(updates: Updates, state: OptState, params: Params | None = None):
        del params
        return tree_map(jnp.zeros_like, updates), state

    return GradientTransformation(init_empty_state, update_fn)


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Compose transformations: each one's output updates are the next one's input.

    **Arguments:**

    - `*transforms`: `GradientTransformation`s, applied in order.

    **Returns:**

    A `GradientTransformation` whose state is the tuple of the inner states.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.chain(optim.clip_by_global_norm(1.0), optim.scale(-0.1))
        params = np.zeros(2)
        updates, _ = opt.update(np.array([3.0, 4.0]), opt.init(params), params)
        assert np.allclose(updates, [-0.06, -0.08])
        ```
    """
    for i, t in enumerate(transforms):
        if not (callable(getattr(t, "init", None)) and callable(getattr(t, "update", None))):
            raise TypeError(
                f"chain: argument {i} is {type(t).__name__}, not a GradientTransformation "
                "(an (init, update) pair). Did you pass an optimiser constructor without "
                "calling it, e.g. `optim.adam` instead of `optim.adam(1e-3)`?"
            )
    init_fns = [t.init for t in transforms]
    update_fns = [t.update for t in transforms]

    def init_fn(params: Params) -> tuple[OptState, ...]:
        return tuple(fn(params) for fn in init_fns)

    def update_fn(updates: Updates, state: OptState, params: Params | None = None):
        if not isinstance(state, tuple) or len(state) != len(update_fns):
            raise ValueError(
                f"chain of {len(update_fns)} transformations got a state that is not a tuple "
                f"of {len(update_fns)} states ({type(state).__name__}). Pass the state returned "
                "by this optimiser's `init` (or by its previous `update`)."
            )
        new_state = []
        for fn, s in zip(update_fns, state, strict=True):
            updates, s = fn(updates, s, params)
            new_state.append(s)
        return updates, tuple(new_state)

    return GradientTransformation(init_fn, update_fn)


def _apply_one(p: Array, u: Array) -> Array:
    if p is None:
        return None
    dtype = core.get_aval(p).dtype if not isinstance(p, float | int | complex) else None
    out = jnp.add(p, u)
    if dtype is not None:
        out = ew.convert_element_type(jnp.asarray(out), dtype)
    return out


def apply_updates(params: Params, updates: Updates) -> Params:
    """`params + updates`, leaf by leaf, keeping each parameter's dtype.

    **Arguments:**

    - `params`: a pytree of arrays.
    - `updates`: a pytree of the same structure (as returned by an optimiser's `update`).

    **Returns:**

    The new parameters (new arrays: the inputs are not modified).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        new = optim.apply_updates({"w": np.ones(2, np.float32)}, {"w": np.full(2, 0.5)})
        assert new["w"].dtype == np.float32 and np.allclose(new["w"], 1.5)
        ```
    """
    return tree_map(_apply_one, params, updates, is_leaf=lambda x: x is None)


def is_schedule(x: Any) -> bool:
    """True for a schedule (a callable), False for a number or an array."""
    return callable(x) and not isinstance(x, np.ndarray | np.generic | core.Tracer)
