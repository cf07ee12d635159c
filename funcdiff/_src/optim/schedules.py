"""Schedules: functions from the step count to a value (a learning rate, a weight decay...).

A schedule takes the number of updates made so far (0 at the first update; a Python int or an
integer array, possibly traced) and returns a number. Names, arguments and formulas follow
optax's schedules.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import funcdiff.numpy as jnp
from funcdiff._src.optim.base import Schedule

Array = Any


def constant_schedule(value: Any) -> Schedule:
    """The schedule that always returns `value`.

    **Arguments:**

    - `value`: the value.

    **Returns:**

    A schedule.

    !!! Example
        ```python
        from funcdiff import optim

        assert optim.constant_schedule(0.1)(1000) == 0.1
        ```
    """

    def schedule(count: Array) -> Any:
        del count
        return value

    return schedule


def polynomial_schedule(
    init_value: Any,
    end_value: Any,
    power: Any,
    transition_steps: int,
    transition_begin: int = 0,
) -> Schedule:
    """Polynomial decay from `init_value` to `end_value` over `transition_steps` steps,
    starting at step `transition_begin`:
    ``(init - end) * (1 - k / transition_steps)**power + end`` with
    ``k = clip(count - transition_begin, 0, transition_steps)``.

    **Arguments:**

    - `init_value`: the value up to step `transition_begin`.
    - `end_value`: the value from step ``transition_begin + transition_steps`` on.
    - `power`: the exponent of the decay.
    - `transition_steps`: the length of the transition; if not positive, the schedule is
      constant at `init_value`.
    - `transition_begin`: the first step of the transition (negative values count as 0).

    **Returns:**

    A schedule.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        schedule = optim.polynomial_schedule(1.0, 0.0, power=2, transition_steps=10)
        assert np.isclose(schedule(5), 0.25)
        ```
    """
    if transition_steps <= 0:
        return constant_schedule(init_value)
    begin = max(transition_begin, 0)

    def schedule(count: Array) -> Any:
        k = jnp.clip(count - begin, 0, transition_steps)
        fraction = 1 - k / transition_steps
        return (init_value - end_value) * jnp.power(fraction, power) + end_value

    return schedule


def linear_schedule(
    init_value: Any, end_value: Any, transition_steps: int, transition_begin: int = 0
) -> Schedule:
    """Linear interpolation from `init_value` to `end_value` over `transition_steps` steps
    starting at `transition_begin` (`polynomial_schedule` with ``power=1``).

    **Arguments:**

    - `init_value`, `end_value`: the values before and after the transition.
    - `transition_steps`: the length of the transition.
    - `transition_begin`: the first step of the transition.

    **Returns:**

    A schedule.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        warmup = optim.linear_schedule(0.0, 1.0, transition_steps=100)
        assert np.isclose(warmup(25), 0.25) and np.isclose(warmup(500), 1.0)
        ```
    """
    return polynomial_schedule(init_value, end_value, 1, transition_steps, transition_begin)


def exponential_decay(
    init_value: Any,
    transition_steps: int,
    decay_rate: float,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value: Any = None,
) -> Schedule:
    """Exponential decay: ``init_value * decay_rate**((count - transition_begin) /
    transition_steps)`` after `transition_begin` (`init_value` before it).

    **Arguments:**

    - `init_value`: the initial value.
    - `transition_steps`: the number of steps over which the value is multiplied by
      `decay_rate`; if not positive, the schedule is constant.
    - `decay_rate`: the decay factor; 0 gives a constant schedule.
    - `transition_begin`: the step where the decay starts (negative values count as 0).
    - `staircase`: decay in discrete steps (round the exponent down).
    - `end_value`: a bound the value never passes (a lower bound when decaying, an upper
      bound when `decay_rate > 1`).

    **Returns:**

    A schedule.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        schedule = optim.exponential_decay(1.0, transition_steps=10, decay_rate=0.5)
        assert np.isclose(schedule(20), 0.25)
        ```
    """
    if transition_steps <= 0 or decay_rate == 0:
        return constant_schedule(init_value)
    begin = max(transition_begin, 0)

    def schedule(count: Array) -> Any:
        elapsed = count - begin
        exponent = elapsed / transition_steps
        if staircase:
            exponent = jnp.floor(exponent)
        value = jnp.where(
            elapsed <= 0, init_value, init_value * jnp.power(decay_rate, exponent)
        )
        if end_value is not None:
            bound = jnp.maximum if decay_rate < 1.0 else jnp.minimum
            value = bound(value, end_value)
        return value

    return schedule


def cosine_decay_schedule(
    init_value: Any, decay_steps: int, alpha: Any = 0.0, exponent: Any = 1.0
) -> Schedule:
    """Cosine decay (Loshchilov and Hutter, 2016) from `init_value` to
    ``alpha * init_value`` over `decay_steps` steps:
    ``init_value * ((1 - alpha) * c**exponent + alpha)`` with
    ``c = (1 + cos(pi * min(count, decay_steps) / decay_steps)) / 2``.

    **Arguments:**

    - `init_value`: the initial value.
    - `decay_steps`: the number of steps of the decay (positive).
    - `alpha`: the final value as a fraction of `init_value`.
    - `exponent`: the power of the cosine factor.

    **Returns:**

    A schedule.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        schedule = optim.cosine_decay_schedule(1.0, decay_steps=100)
        assert np.isclose(schedule(50), 0.5) and np.isclose(schedule(100), 0.0)
        ```
    """
    if not decay_steps > 0:
        raise ValueError(
            f"cosine_decay_schedule: decay_steps must be positive, got {decay_steps!r}."
        )

    def schedule(count: Array) -> Any:
        k = jnp.minimum(count, decay_steps)
        cosine = 0.5 * (1 + jnp.cos(math.pi * k / decay_steps))
        return init_value * ((1 - alpha) * jnp.power(cosine, exponent) + alpha)

    return schedule


def join_schedules(schedules: Sequence[Schedule], boundaries: Sequence[int]) -> Schedule:
    """Run `schedules[0]` until `boundaries[0]`, then `schedules[1]` (with its count starting
    again from 0) until `boundaries[1]`, and so on.

    **Arguments:**

    - `schedules`: the schedules, in order.
    - `boundaries`: the steps at which to switch, increasing; one fewer than `schedules`.

    **Returns:**

    A schedule.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        schedule = optim.join_schedules(
            [optim.constant_schedule(1.0), optim.linear_schedule(1.0, 0.0, 10)], [5]
        )
        assert schedule(4) == 1.0 and np.isclose(schedule(10), 0.5)
        ```
    """
    if len(boundaries) != len(schedules) - 1:
        raise ValueError(
            f"join_schedules: {len(schedules)} schedules need {len(schedules) - 1} boundaries, "
            f"got {len(boundaries)}."
        )

    def schedule(count: Array) -> Any:
        value = schedules[0](count)
        for boundary, later in zip(boundaries, schedules[1:], strict=True):
            value = jnp.where(count < boundary, value, later(count - boundary))
        return value

    return schedule


def warmup_cosine_decay_schedule(
    init_value: Any,
    peak_value: Any,
    warmup_steps: int,
    decay_steps: int,
    end_value: Any = 0.0,
    exponent: Any = 1.0,
) -> Schedule:
    """Linear warm-up from `init_value` to `peak_value` over `warmup_steps` steps, then
    cosine decay to `end_value`, reached at step `decay_steps` (which counts the warm-up).

    **Arguments:**

    - `init_value`: the value at step 0.
    - `peak_value`: the value at the end of the warm-up.
    - `warmup_steps`: the length of the warm-up.
    - `decay_steps`: the total length of the schedule, warm-up included.
    - `end_value`: the final value.
    - `exponent`: the power of the cosine factor.

    **Returns:**

    A schedule.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        schedule = optim.warmup_cosine_decay_schedule(0.0, 1.0, 10, 110)
        assert np.isclose(schedule(5), 0.5) and np.isclose(schedule(60), 0.5)
        ```
    """
    alpha = 0.0 if peak_value == 0.0 else end_value / peak_value
    return join_schedules(
        [
            linear_schedule(init_value, peak_value, warmup_steps),
            cosine_decay_schedule(peak_value, decay_steps - warmup_steps, alpha, exponent),
        ],
        [warmup_steps],
    )


def piecewise_constant_schedule(
    init_value: Any, boundaries_and_scales: Mapping[int, float] | None = None
) -> Schedule:
    """A value multiplied by ``scale`` at each boundary: from step `boundary` on, the value
    is `init_value` times the product of the scales of the boundaries passed.

    **Arguments:**

    - `init_value`: the value before the first boundary.
    - `boundaries_and_scales`: a mapping from step to (non-negative) scale factor.

    **Returns:**

    A schedule.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        schedule = optim.piecewise_constant_schedule(1.0, {10: 0.1, 20: 0.1})
        assert schedule(9) == 1.0 and np.isclose(schedule(10), 0.1)
        assert np.isclose(schedule(25), 0.01)
        ```
    """
    items = sorted((boundaries_and_scales or {}).items())
    if any(s < 0 for _, s in items):
        raise ValueError("piecewise_constant_schedule: scale factors must be non-negative.")

    def schedule(count: Array) -> Any:
        value = init_value
        for boundary, factor in items:
            passed = boundary <= count
            value = jnp.where(passed, value * factor, value)
        return value

    return schedule
