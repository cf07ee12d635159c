# Over 600 lines: one optax factory per block, mostly docstring and example.
"""Building blocks of optimisers: scaling, momentum and adaptive rescaling.

Each function is a factory returning a `GradientTransformation`. The update rules, argument
names and defaults follow optax. Every rule is written with `funcdiff.numpy` operations on its
inputs (the step count in a state is an array, so bias correction uses array operations), so
`update` can be traced and differentiated.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import funcdiff.numpy as jnp
from funcdiff._src.optim.base import (
    NO_PARAMS_MSG,
    GradientTransformation,
    OptState,
    Params,
    ScalarOrSchedule,
    Schedule,
    Updates,
    identity,
    init_empty_state,
    is_schedule,
)
from funcdiff._src.optim.tree_math import (
    abs_sq,
    bias_correction,
    cast,
    cast_like,
    dtype_of,
    full_like,
    is_none,
    safe_increment,
    scalar_for,
    update_moment,
    update_moment_per_elem_norm,
    zero_count,
    zeros_like,
)
from funcdiff._src.tree_util import tree_map

Array = Any

# ---- scaling --------------------------------------------------------------------------------


def scale(step_size: Any) -> GradientTransformation:
    """Multiply every update by a constant: ``u -> step_size * u``.

    **Arguments:**

    - `step_size`: a number or array (use `scale_by_schedule` for a schedule).

    **Returns:**

    A stateless `GradientTransformation`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.scale(-0.5)
        assert np.allclose(opt.update(np.ones(2), opt.init(np.ones(2)))[0], -0.5)
        ```
    """

    def update_fn(updates: Updates, state: OptState, params: Params | None = None):
        del params
        return tree_map(lambda g: scalar_for(step_size, g) * g, updates), state

    return GradientTransformation(init_empty_state, update_fn)


class ScaleByScheduleState(NamedTuple):
    """State of `scale_by_schedule`: the number of updates so far (an int32 array)."""

    count: Array


def scale_by_schedule(step_size_fn: Schedule) -> GradientTransformation:
    """Multiply the updates by ``step_size_fn(count)``, where `count` is the number of
    updates made so far (0 at the first update).

    **Arguments:**

    - `step_size_fn`: a schedule, e.g. from `funcdiff.optim.linear_schedule`.

    **Returns:**

    A `GradientTransformation` with state `ScaleByScheduleState(count)`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.scale_by_schedule(lambda count: 1.0 / (1 + count))
        state = opt.init(np.zeros(1))
        u1, state = opt.update(np.ones(1), state)
        u2, state = opt.update(np.ones(1), state)
        assert np.allclose([u1[0], u2[0]], [1.0, 0.5])
        ```
    """

    def init_fn(params: Params) -> ScaleByScheduleState:
        del params
        return ScaleByScheduleState(count=zero_count())

    def update_fn(updates: Updates, state: ScaleByScheduleState, params: Params | None = None):
        del params
        step_size = step_size_fn(state.count)
        updates = tree_map(lambda g: scalar_for(step_size, g) * g, updates)
        return updates, ScaleByScheduleState(count=safe_increment(state.count))

    return GradientTransformation(init_fn, update_fn)


def scale_by_learning_rate(
    learning_rate: ScalarOrSchedule | None, *, flip_sign: bool = True
) -> GradientTransformation:
    """Multiply the updates by ``-learning_rate`` (by ``learning_rate`` if `flip_sign` is
    False), where the learning rate is a number or a schedule.

    **Arguments:**

    - `learning_rate`: a number, an array or a schedule; `None` gives `identity()`.
    - `flip_sign`: negate, so that adding the updates descends the loss.

    **Returns:**

    A `GradientTransformation` (stateless for a constant, counting steps for a schedule).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.scale_by_learning_rate(0.1)
        assert np.allclose(opt.update(np.ones(2), opt.init(np.ones(2)))[0], -0.1)
        ```
    """
    if learning_rate is None:
        return identity()
    sign = -1 if flip_sign else 1
    if is_schedule(learning_rate):
        schedule = learning_rate
        return scale_by_schedule(lambda count: sign * schedule(count))
    return scale(sign * learning_rate)


# ---- momentum -------------------------------------------------------------------------------


class TraceState(NamedTuple):
    """State of `trace`: the momentum buffer, shaped like the parameters."""

    trace: Any


def trace(
    decay: Any, nesterov: bool = False, accumulator_dtype: Any = None
) -> GradientTransformation:
    """Heavy-ball momentum: ``m = g + decay * m``; the update is `m`, or ``g + decay * m``
    with Nesterov momentum.

    **Arguments:**

    - `decay`: the momentum coefficient.
    - `nesterov`: use Nesterov's accelerated form.
    - `accumulator_dtype`: dtype of the buffer (default: that of the parameters).

    **Returns:**

    A `GradientTransformation` with state `TraceState(trace)`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.trace(0.9)
        state = opt.init(np.zeros(1))
        _, state = opt.update(np.ones(1), state)
        u, state = opt.update(np.ones(1), state)
        assert np.allclose(u, 1.9)
        ```
    """

    def init_fn(params: Params) -> TraceState:
        return TraceState(trace=zeros_like(params, accumulator_dtype))

    def update_fn(updates: Updates, state: TraceState, params: Params | None = None):
        del params

        def step(g: Array, t: Array) -> Array:
            return None if g is None else g + decay * t

        new_trace = tree_map(step, updates, state.trace, is_leaf=is_none)
        out = tree_map(step, updates, new_trace, is_leaf=is_none) if nesterov else new_trace
        return out, TraceState(trace=cast_like(new_trace, state.trace))

    return GradientTransformation(init_fn, update_fn)


# ---- adaptive methods -----------------------------------------------------------------------


class ScaleByAdamState(NamedTuple):
    """State of `scale_by_adam` and `scale_by_adamax`: the step count and the first and
    second moment estimates."""

    count: Array
    mu: Any
    nu: Any


def scale_by_adam(
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Any = None,
    *,
    nesterov: bool = False,
) -> GradientTransformation:
    """Adam's rescaling (Kingma and Ba, 2014).

    With ``t`` the step (1 at the first update): ``m = b1 m + (1 - b1) g``,
    ``v = b2 v + (1 - b2) g**2``, ``m_hat = m / (1 - b1**t)``, ``v_hat = v / (1 - b2**t)``
    and the update is ``m_hat / (sqrt(v_hat + eps_root) + eps)``. With `nesterov` (NAdam),
    ``m_hat = b1 m / (1 - b1**(t+1)) + (1 - b1) g / (1 - b1**t)``.

    **Arguments:**

    - `b1`, `b2`: decay rates of the first and second moments.
    - `eps`: added to the denominator outside the square root.
    - `eps_root`: added inside the square root.
    - `mu_dtype`: dtype of the first moment (default: that of the parameters).
    - `nesterov`: use Nesterov momentum (NAdam).

    **Returns:**

    A `GradientTransformation` with state `ScaleByAdamState(count, mu, nu)`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.scale_by_adam()
        u, _ = opt.update(np.array([2.0, -3.0]), opt.init(np.zeros(2)))
        assert np.allclose(u, [1.0, -1.0])   # the first step is sign(g), up to eps
        ```
    """

    def init_fn(params: Params) -> ScaleByAdamState:
        return ScaleByAdamState(
            count=zero_count(), mu=zeros_like(params, mu_dtype), nu=zeros_like(params)
        )

    def update_fn(updates: Updates, state: ScaleByAdamState, params: Params | None = None):
        del params
        mu = update_moment(updates, state.mu, b1, 1)
        nu = update_moment_per_elem_norm(updates, state.nu, b2, 2)
        count = safe_increment(state.count)
        if nesterov:
            mu_next = bias_correction(mu, b1, safe_increment(count))
            g_hat = bias_correction(updates, b1, count)
            mu_hat = tree_map(lambda m, g: b1 * m + (1 - b1) * g, mu_next, g_hat)
        else:
            mu_hat = bias_correction(mu, b1, count)
        nu_hat = bias_correction(nu, b2, count)
        new_updates = tree_map(
            lambda m, v: m / (jnp.sqrt(v + eps_root) + eps), mu_hat, nu_hat
        )
        new_state = ScaleByAdamState(
            count=count, mu=cast_like(mu, state.mu), nu=cast_like(nu, state.nu)
        )
        return new_updates, new_state

    return GradientTransformation(init_fn, update_fn)


def scale_by_adamax(
    b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> GradientTransformation:
    """AdaMax's rescaling (Adam with the infinity norm): ``m = b1 m + (1 - b1) g``,
    ``u = max(|g| + eps, b2 u)`` and the update is ``m / (1 - b1**t) / u``.

    **Arguments:**

    - `b1`: decay rate of the first moment.
    - `b2`: decay rate of the infinity norm.
    - `eps`: added to ``|g|`` so the denominator is never zero.

    **Returns:**

    A `GradientTransformation` with state `ScaleByAdamState(count, mu, nu)`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.scale_by_adamax()
        u, _ = opt.update(np.array([2.0]), opt.init(np.zeros(1)))
        assert np.allclose(u, 1.0)
        ```
    """

    def init_fn(params: Params) -> ScaleByAdamState:
        return ScaleByAdamState(count=zero_count(), mu=zeros_like(params), nu=zeros_like(params))

    def update_fn(updates: Updates, state: ScaleByAdamState, params: Params | None = None):
        del params
        count = safe_increment(state.count)
        mu = update_moment(updates, state.mu, b1, 1)
        nu = tree_map(lambda g, t: jnp.maximum(jnp.abs(g) + eps, b2 * t), updates, state.nu)
        mu_hat = bias_correction(mu, b1, count)
        new_updates = tree_map(lambda m, v: m / v, mu_hat, nu)
        new_state = ScaleByAdamState(
            count=count, mu=cast_like(mu, state.mu), nu=cast_like(nu, state.nu)
        )
        return new_updates, new_state

    return GradientTransformation(init_fn, update_fn)


class ScaleByRmsState(NamedTuple):
    """State of `scale_by_rms`: the running mean of squared gradients."""

    nu: Any


class ScaleByRmsWithCountState(NamedTuple):
    """State of `scale_by_rms(bias_correction=True)`: the step count and `nu`."""

    count: Array
    nu: Any


def scale_by_rms(
    decay: float = 0.9,
    eps: float = 1e-8,
    initial_scale: float = 0.0,
    eps_in_sqrt: bool = True,
    bias_correction: bool = False,
) -> GradientTransformation:
    """RMSProp's rescaling: ``v = decay v + (1 - decay) g**2`` and the update is
    ``g / sqrt(v + eps)`` (``g / (sqrt(v) + eps)`` if not `eps_in_sqrt`).

    **Arguments:**

    - `decay`: decay rate of the squared-gradient average.
    - `eps`: keeps the denominator away from zero.
    - `initial_scale`: initial value of `v`.
    - `eps_in_sqrt`: put `eps` inside the square root (optax's default) or outside.
    - `bias_correction`: divide `v` by ``1 - decay**t``, as Adam does.

    **Returns:**

    A `GradientTransformation` with state `ScaleByRmsState(nu)` (or
    `ScaleByRmsWithCountState(count, nu)` with bias correction).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.scale_by_rms(decay=0.75, eps=0.0)
        u, _ = opt.update(np.array([2.0]), opt.init(np.zeros(1)))
        assert np.allclose(u, 2.0 / np.sqrt(0.25 * 4.0))
        ```
    """

    def init_fn(params: Params) -> ScaleByRmsState | ScaleByRmsWithCountState:
        nu = full_like(params, initial_scale)
        if bias_correction:
            return ScaleByRmsWithCountState(count=zero_count(), nu=nu)
        return ScaleByRmsState(nu=nu)

    def update_fn(updates: Updates, state: Any, params: Params | None = None):
        del params
        nu = update_moment_per_elem_norm(updates, state.nu, decay, 2)
        if bias_correction:
            count = safe_increment(state.count)
            nu_hat = _correct(nu, decay, count)
        else:
            nu_hat = nu
        if eps_in_sqrt:
            new_updates = tree_map(lambda g, v: g / jnp.sqrt(v + eps), updates, nu_hat)
        else:
            new_updates = tree_map(lambda g, v: g / (jnp.sqrt(v) + eps), updates, nu_hat)
        nu = cast_like(nu, state.nu)
        if bias_correction:
            return new_updates, ScaleByRmsWithCountState(count=count, nu=nu)
        return new_updates, ScaleByRmsState(nu=nu)

    return GradientTransformation(init_fn, update_fn)


_correct = bias_correction  # `scale_by_rms` has an argument of the same name


class ScaleByRStdDevState(NamedTuple):
    """State of `scale_by_stddev`: running means of the gradient and its square."""

    mu: Any
    nu: Any


class ScaleByRStdDevWithCountState(NamedTuple):
    """State of `scale_by_stddev(bias_correction=True)`."""

    count: Array
    mu: Any
    nu: Any


def scale_by_stddev(
    decay: float = 0.9,
    eps: float = 1e-8,
    initial_scale: float = 0.0,
    eps_in_sqrt: bool = True,
    bias_correction: bool = False,
) -> GradientTransformation:
    """Centred RMSProp's rescaling: divide by the running standard deviation
    ``sqrt(v - m**2 + eps)``, with ``m`` and ``v`` the running means of ``g`` and ``g**2``
    (``v - m**2`` is clamped at 0, where rounding would otherwise give a NaN).

    **Arguments:**

    - `decay`, `eps`, `initial_scale`, `eps_in_sqrt`, `bias_correction`: as in
      `scale_by_rms`.

    **Returns:**

    A `GradientTransformation` with state `ScaleByRStdDevState(mu, nu)` (or the
    `...WithCountState` variant with bias correction).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.scale_by_stddev(decay=0.5, eps=0.0)
        u, _ = opt.update(np.array([2.0]), opt.init(np.zeros(1)))
        assert np.allclose(u, 2.0 / np.sqrt(0.5 * 4.0 - 1.0))
        ```
    """

    def init_fn(params: Params) -> Any:
        mu = zeros_like(params)
        nu = full_like(params, initial_scale)
        if bias_correction:
            return ScaleByRStdDevWithCountState(count=zero_count(), mu=mu, nu=nu)
        return ScaleByRStdDevState(mu=mu, nu=nu)

    def update_fn(updates: Updates, state: Any, params: Params | None = None):
        del params
        mu = update_moment(updates, state.mu, decay, 1)
        nu = update_moment_per_elem_norm(updates, state.nu, decay, 2)
        if bias_correction:
            count = safe_increment(state.count)
            mu_hat, nu_hat = _correct(mu, decay, count), _correct(nu, decay, count)
        else:
            mu_hat, nu_hat = mu, nu

        def variance(m: Array, n: Array) -> Array:
            # Clamped at 0: rounding can make ``n - m**2`` slightly negative (optax's NaN).
            return jnp.maximum(n - abs_sq(m), 0.0)

        if eps_in_sqrt:
            new_updates = tree_map(
                lambda g, m, n: g / jnp.sqrt(variance(m, n) + eps), updates, mu_hat, nu_hat
            )
        else:
            new_updates = tree_map(
                lambda g, m, n: g / (jnp.sqrt(variance(m, n)) + eps), updates, mu_hat, nu_hat
            )
        mu, nu = cast_like(mu, state.mu), cast_like(nu, state.nu)
        if bias_correction:
            return new_updates, ScaleByRStdDevWithCountState(count=count, mu=mu, nu=nu)
        return new_updates, ScaleByRStdDevState(mu=mu, nu=nu)

    return GradientTransformation(init_fn, update_fn)


class ScaleByRssState(NamedTuple):
    """State of `scale_by_rss`: the running sum of squared gradients."""

    sum_of_squares: Any


def scale_by_rss(
    initial_accumulator_value: float = 0.1, eps: float = 1e-7
) -> GradientTransformation:
    """AdaGrad's rescaling: ``s = s + g**2`` and the update is ``g / sqrt(s + eps)`` (zero
    where ``s`` is zero).

    **Arguments:**

    - `initial_accumulator_value`: initial value of the sum.
    - `eps`: added inside the square root.

    **Returns:**

    A `GradientTransformation` with state `ScaleByRssState(sum_of_squares)`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.scale_by_rss(initial_accumulator_value=0.0, eps=0.0)
        u, _ = opt.update(np.array([-3.0]), opt.init(np.zeros(1)))
        assert np.allclose(u, -1.0)
        ```
    """

    def init_fn(params: Params) -> ScaleByRssState:
        return ScaleByRssState(sum_of_squares=full_like(params, initial_accumulator_value))

    def update_fn(updates: Updates, state: ScaleByRssState, params: Params | None = None):
        del params
        sums = tree_map(lambda g, s: abs_sq(g) + s, updates, state.sum_of_squares)

        def rescale(g: Array, s: Array) -> Array:
            positive = s > 0
            safe = jnp.where(positive, s + eps, jnp.ones_like(s))
            return jnp.where(positive, g / jnp.sqrt(safe), jnp.zeros_like(g))

        new_updates = tree_map(rescale, updates, sums)
        return new_updates, ScaleByRssState(sum_of_squares=cast_like(sums, state.sum_of_squares))

    return GradientTransformation(init_fn, update_fn)


class ScaleByAdaDeltaState(NamedTuple):
    """State of `scale_by_adadelta`: running means of squared gradients and squared
    updates."""

    e_g: Any
    e_x: Any


def scale_by_adadelta(rho: float = 0.9, eps: float = 1e-6) -> GradientTransformation:
    """AdaDelta's rescaling (Zeiler, 2012): ``E[g²] = rho E[g²] + (1 - rho) g**2``,
    ``u = sqrt(E[x²] + eps) / sqrt(E[g²] + eps) * g`` (with the previous ``E[x²]``), then
    ``E[x²] = rho E[x²] + (1 - rho) u**2``.

    **Arguments:**

    - `rho`: decay rate of both running means.
    - `eps`: added inside both square roots.

    **Returns:**

    A `GradientTransformation` with state `ScaleByAdaDeltaState(e_g, e_x)`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.scale_by_adadelta(rho=0.5, eps=1.0)
        u, _ = opt.update(np.array([1.0]), opt.init(np.zeros(1)))
        assert np.allclose(u, 1.0 / np.sqrt(1.5))
        ```
    """

    def init_fn(params: Params) -> ScaleByAdaDeltaState:
        return ScaleByAdaDeltaState(e_g=zeros_like(params), e_x=zeros_like(params))

    def update_fn(updates: Updates, state: ScaleByAdaDeltaState, params: Params | None = None):
        del params
        e_g = update_moment(updates, state.e_g, rho, 2)
        new_updates = tree_map(
            lambda g, eg, ex: jnp.sqrt(ex + eps) / jnp.sqrt(eg + eps) * g,
            updates, e_g, state.e_x,
        )
        e_x = update_moment(new_updates, state.e_x, rho, 2)
        new_state = ScaleByAdaDeltaState(
            e_g=cast_like(e_g, state.e_g), e_x=cast_like(e_x, state.e_x)
        )
        return new_updates, new_state

    return GradientTransformation(init_fn, update_fn)


class ScaleByLionState(NamedTuple):
    """State of `scale_by_lion`: the step count and the momentum."""

    count: Array
    mu: Any


def scale_by_lion(
    b1: float = 0.9, b2: float = 0.99, mu_dtype: Any = None
) -> GradientTransformation:
    """Lion's rescaling (Chen et al., 2023): the update is
    ``sign((1 - b1) g + b1 m)``, then ``m = (1 - b2) g + b2 m``.

    **Arguments:**

    - `b1`: interpolation between gradient and momentum for the update.
    - `b2`: decay rate of the momentum.
    - `mu_dtype`: dtype of the momentum (default: that of the parameters).

    **Returns:**

    A `GradientTransformation` with state `ScaleByLionState(count, mu)`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.scale_by_lion()
        u, _ = opt.update(np.array([0.3, -2.0]), opt.init(np.zeros(2)))
        assert np.allclose(u, [1.0, -1.0])
        ```
    """

    def init_fn(params: Params) -> ScaleByLionState:
        return ScaleByLionState(count=zero_count(), mu=zeros_like(params, mu_dtype))

    def update_fn(updates: Updates, state: ScaleByLionState, params: Params | None = None):
        del params
        new_updates = tree_map(
            lambda g, m: jnp.sign((1.0 - b1) * g + b1 * m), updates, state.mu
        )
        mu = update_moment(updates, state.mu, b2, 1)
        new_state = ScaleByLionState(
            count=safe_increment(state.count), mu=cast_like(mu, state.mu)
        )
        return new_updates, new_state

    return GradientTransformation(init_fn, update_fn)


def scale_by_trust_ratio(
    min_norm: float = 0.0, trust_coefficient: float = 1.0, eps: float = 0.0
) -> GradientTransformation:
    """LARS/LAMB's layer-wise trust ratio: each leaf's update is multiplied by
    ``trust_coefficient * ||param|| / (||update|| + eps)`` (by 1 where either norm is zero;
    norms below `min_norm` count as `min_norm`).

    **Arguments:**

    - `min_norm`: lower bound of both norms.
    - `trust_coefficient`: a multiplier of the ratio.
    - `eps`: added to the update's norm.

    **Returns:**

    A stateless `GradientTransformation`; its `update` needs `params`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.scale_by_trust_ratio()
        params = np.array([3.0, 4.0])
        u, _ = opt.update(np.array([0.0, 1.0]), opt.init(params), params)
        assert np.allclose(u, [0.0, 5.0])
        ```
    """

    def update_fn(updates: Updates, state: OptState, params: Params | None = None):
        if params is None:
            raise ValueError("scale_by_trust_ratio: " + NO_PARAMS_MSG)

        def rescale(u: Array, p: Array) -> Array:
            p_norm = jnp.maximum(jnp.sqrt(jnp.sum(abs_sq(jnp.asarray(p)))), min_norm)
            u_norm = jnp.maximum(jnp.sqrt(jnp.sum(abs_sq(jnp.asarray(u)))), min_norm)
            degenerate = (p_norm == 0) | (u_norm == 0)
            safe_denominator = jnp.where(degenerate, 1.0, u_norm + eps)
            ratio = jnp.where(degenerate, 1.0, trust_coefficient * p_norm / safe_denominator)
            return u * cast(ratio, dtype_of(u))

        return tree_map(rescale, updates, params), state

    return GradientTransformation(init_empty_state, update_fn)
