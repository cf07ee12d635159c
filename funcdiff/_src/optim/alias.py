"""Named optimisers: thin chains of the building blocks, with optax's names, arguments and
defaults (learning rate first). The learning rate may be a number or a schedule.

In the formulas below, ``g`` is the gradient, ``t`` the step (1 at the first update) and
``lr`` the learning rate; each optimiser returns the update added by `apply_updates`.
"""

from __future__ import annotations

from typing import Any

from funcdiff._src.optim.base import GradientTransformation, ScalarOrSchedule, chain, identity
from funcdiff._src.optim.transforms import (
    scale_by_adadelta,
    scale_by_adam,
    scale_by_adamax,
    scale_by_learning_rate,
    scale_by_lion,
    scale_by_rms,
    scale_by_rss,
    scale_by_stddev,
    scale_by_trust_ratio,
    trace,
)
from funcdiff._src.optim.wrappers import add_decayed_weights


def sgd(
    learning_rate: ScalarOrSchedule,
    momentum: float | None = None,
    nesterov: bool = False,
    accumulator_dtype: Any = None,
) -> GradientTransformation:
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    ``u = -lr * g``; with momentum, ``m = g + momentum * m`` and ``u = -lr * m``
    (``u = -lr * (g + momentum * m)`` with Nesterov).

    **Arguments:**

    - `learning_rate`: a number or a schedule.
    - `momentum`: the momentum coefficient, or None for none.
    - `nesterov`: use Nesterov momentum.
    - `accumulator_dtype`: dtype of the momentum buffer (default: that of the parameters).

    **Returns:**

    A `GradientTransformation`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp
        from funcdiff import optim

        loss = lambda p: jnp.sum((p["w"] - 3.0) ** 2)
        params = {"w": np.zeros(2)}
        opt = optim.sgd(0.1, momentum=0.9)
        state = opt.init(params)
        for _ in range(200):
            updates, state = opt.update(funcdiff.grad(loss)(params), state, params)
            params = optim.apply_updates(params, updates)
        assert np.allclose(params["w"], 3.0, atol=1e-4)
        ```
    """
    momentum_tx = (
        trace(momentum, nesterov, accumulator_dtype) if momentum is not None else identity()
    )
    return chain(momentum_tx, scale_by_learning_rate(learning_rate))


def adam(
    learning_rate: ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Any = None,
    *,
    nesterov: bool = False,
) -> GradientTransformation:
    """Adam (Kingma and Ba, 2014).

    ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g**2``,
    ``u = -lr * (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t) + eps_root) + eps)``.

    **Arguments:**

    - `learning_rate`: a number or a schedule.
    - `b1`, `b2`: decay rates of the first and second moments.
    - `eps`: added to the denominator, outside the square root.
    - `eps_root`: added inside the square root.
    - `mu_dtype`: dtype of the first moment.
    - `nesterov`: use Nesterov momentum (this is `nadam`).

    **Returns:**

    A `GradientTransformation` (state: `(ScaleByAdamState, EmptyState)`).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.adam(1e-3)
        params = np.zeros(2)
        updates, state = opt.update(np.array([0.5, -2.0]), opt.init(params), params)
        assert np.allclose(updates, [-1e-3, 1e-3])
        ```
    """
    return chain(
        scale_by_adam(b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov),
        scale_by_learning_rate(learning_rate),
    )


def nadam(
    learning_rate: ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Any = None,
    *,
    nesterov: bool = True,
) -> GradientTransformation:
    """NAdam (Dozat, 2016): Adam with Nesterov momentum, ``adam(..., nesterov=True)``.

    The first moment estimate is
    ``b1 m / (1 - b1**(t+1)) + (1 - b1) g / (1 - b1**t)``.

    **Arguments:**

    - As for `adam`.

    **Returns:**

    A `GradientTransformation`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.nadam(1e-3)
        updates, _ = opt.update(np.array([0.5]), opt.init(np.zeros(1)), np.zeros(1))
        assert updates.shape == (1,) and updates[0] < 0
        ```
    """
    return adam(learning_rate, b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov)


def adamw(
    learning_rate: ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Any = None,
    weight_decay: ScalarOrSchedule = 1e-4,
    mask: Any = None,
    *,
    nesterov: bool = False,
) -> GradientTransformation:
    """AdamW (Loshchilov and Hutter, 2019): Adam with decoupled weight decay.

    ``u = -lr * (adam_direction + weight_decay * param)``: the decay is added after Adam's
    rescaling and is multiplied by the learning rate, not by the adaptive scale.

    **Arguments:**

    - `learning_rate`, `b1`, `b2`, `eps`, `eps_root`, `mu_dtype`, `nesterov`: as for `adam`.
    - `weight_decay`: the decay coefficient (a number or a schedule).
    - `mask`: a pytree of booleans (or a function of the parameters returning one): decay
      only where True (e.g. not the biases).

    **Returns:**

    A `GradientTransformation`; its `update` needs `params`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.adamw(1e-3, weight_decay=0.1)
        params = np.array([2.0])
        updates, _ = opt.update(np.array([1.0]), opt.init(params), params)
        assert np.allclose(updates, -1e-3 * (1.0 + 0.1 * 2.0))
        ```
    """
    return chain(
        scale_by_adam(b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov),
        add_decayed_weights(weight_decay, mask),
        scale_by_learning_rate(learning_rate),
    )


def adamax(
    learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> GradientTransformation:
    """AdaMax (Kingma and Ba, 2014): Adam with the infinity norm.

    ``m = b1 m + (1 - b1) g``, ``v = max(|g| + eps, b2 v)``,
    ``u = -lr * m / (1 - b1**t) / v``.

    **Arguments:**

    - `learning_rate`: a number or a schedule.
    - `b1`: decay rate of the first moment.
    - `b2`: decay rate of the infinity norm.
    - `eps`: added to ``|g|``.

    **Returns:**

    A `GradientTransformation`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.adamax(0.01)
        updates, _ = opt.update(np.array([-4.0]), opt.init(np.zeros(1)), np.zeros(1))
        assert np.allclose(updates, 0.01)
        ```
    """
    return chain(scale_by_adamax(b1, b2, eps), scale_by_learning_rate(learning_rate))


def rmsprop(
    learning_rate: ScalarOrSchedule,
    decay: float = 0.9,
    eps: float = 1e-8,
    initial_scale: float = 0.0,
    eps_in_sqrt: bool = True,
    centered: bool = False,
    momentum: float | None = None,
    nesterov: bool = False,
    bias_correction: bool = False,
) -> GradientTransformation:
    """RMSProp (Hinton, 2012).

    ``v = decay v + (1 - decay) g**2`` and ``u = -lr * g / sqrt(v + eps)``; `centered`
    divides by ``sqrt(v - m**2 + eps)`` with ``m`` the running mean of ``g``; `momentum`
    then accumulates the scaled updates as in `sgd`.

    **Arguments:**

    - `learning_rate`: a number or a schedule.
    - `decay`: decay rate of the running averages.
    - `eps`: keeps the denominator away from zero.
    - `initial_scale`: initial value of ``v``.
    - `eps_in_sqrt`: put `eps` inside the square root (else outside).
    - `centered`: divide by the running standard deviation instead.
    - `momentum`: momentum coefficient applied after the scaling, or None.
    - `nesterov`: use Nesterov momentum.
    - `bias_correction`: correct the running averages for their zero initialisation.

    **Returns:**

    A `GradientTransformation`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.rmsprop(0.01, decay=0.75, eps=0.0)
        updates, _ = opt.update(np.array([2.0]), opt.init(np.zeros(1)), np.zeros(1))
        assert np.allclose(updates, -0.01 * 2.0 / np.sqrt(0.25 * 4.0))
        ```
    """
    rescale = scale_by_stddev if centered else scale_by_rms
    return chain(
        rescale(decay, eps, initial_scale, eps_in_sqrt, bias_correction),
        scale_by_learning_rate(learning_rate),
        trace(momentum, nesterov) if momentum is not None else identity(),
    )


def adagrad(
    learning_rate: ScalarOrSchedule,
    initial_accumulator_value: float = 0.1,
    eps: float = 1e-7,
) -> GradientTransformation:
    """AdaGrad (Duchi et al., 2011): ``s = s + g**2`` and ``u = -lr * g / sqrt(s + eps)``.

    **Arguments:**

    - `learning_rate`: a number or a schedule.
    - `initial_accumulator_value`: initial value of the sum of squares.
    - `eps`: added inside the square root.

    **Returns:**

    A `GradientTransformation`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.adagrad(0.1, initial_accumulator_value=0.0, eps=0.0)
        updates, _ = opt.update(np.array([3.0]), opt.init(np.zeros(1)), np.zeros(1))
        assert np.allclose(updates, -0.1)
        ```
    """
    return chain(
        scale_by_rss(initial_accumulator_value, eps), scale_by_learning_rate(learning_rate)
    )


def adadelta(
    learning_rate: ScalarOrSchedule | None = None,
    rho: float = 0.9,
    eps: float = 1e-6,
    weight_decay: ScalarOrSchedule = 0.0,
    weight_decay_mask: Any = None,
) -> GradientTransformation:
    """AdaDelta (Zeiler, 2012), with optional weight decay added to the gradient first.

    ``E[g²] = rho E[g²] + (1 - rho) g**2``,
    ``d = sqrt(E[x²] + eps) / sqrt(E[g²] + eps) * g``, ``E[x²] = rho E[x²] + (1 - rho) d**2``
    and ``u = -lr * d``. AdaDelta's original rule is ``learning_rate=1.0``.

    **Arguments:**

    - `learning_rate`: a number or a schedule; None applies no scaling and no sign flip (as
      optax), so the updates then point up the gradient.
    - `rho`: decay rate of both running averages.
    - `eps`: added inside both square roots.
    - `weight_decay`: coefficient of ``weight_decay * param`` added to the gradient.
    - `weight_decay_mask`: where to apply the weight decay (as `mask` in `adamw`).

    **Returns:**

    A `GradientTransformation`; its `update` needs `params` when `weight_decay` is used.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.adadelta(1.0, rho=0.5, eps=1.0)
        updates, _ = opt.update(np.array([1.0]), opt.init(np.zeros(1)), np.zeros(1))
        assert np.allclose(updates, -1.0 / np.sqrt(1.5))
        ```
    """
    return chain(
        add_decayed_weights(weight_decay, weight_decay_mask),
        scale_by_adadelta(rho, eps),
        scale_by_learning_rate(learning_rate),
    )


def lion(
    learning_rate: ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.99,
    mu_dtype: Any = None,
    weight_decay: ScalarOrSchedule = 1e-3,
    mask: Any = None,
) -> GradientTransformation:
    """Lion (Chen et al., 2023): the sign of an interpolated momentum, with decoupled weight
    decay.

    ``u = -lr * (sign((1 - b1) g + b1 m) + weight_decay * param)``, then
    ``m = (1 - b2) g + b2 m``.

    **Arguments:**

    - `learning_rate`: a number or a schedule (typically 3-10x smaller than Adam's).
    - `b1`: interpolation factor for the update.
    - `b2`: decay rate of the momentum.
    - `mu_dtype`: dtype of the momentum.
    - `weight_decay`: decoupled weight decay coefficient.
    - `mask`: where to apply the weight decay (as in `adamw`).

    **Returns:**

    A `GradientTransformation`; its `update` needs `params`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.lion(1e-4, weight_decay=0.0)
        params = np.zeros(2)
        updates, _ = opt.update(np.array([0.2, -5.0]), opt.init(params), params)
        assert np.allclose(updates, [-1e-4, 1e-4])
        ```
    """
    return chain(
        scale_by_lion(b1, b2, mu_dtype),
        add_decayed_weights(weight_decay, mask),
        scale_by_learning_rate(learning_rate),
    )


def lamb(
    learning_rate: ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-6,
    eps_root: float = 0.0,
    weight_decay: ScalarOrSchedule = 0.0,
    mask: Any = None,
) -> GradientTransformation:
    """LAMB (You et al., 2019): Adam's direction plus decoupled weight decay, rescaled leaf
    by leaf by the trust ratio ``||param|| / ||direction||``.

    ``d = adam_direction + weight_decay * param`` and
    ``u = -lr * ||param|| / ||d|| * d`` (the ratio is 1 where either norm is zero).

    **Arguments:**

    - `learning_rate`: a number or a schedule.
    - `b1`, `b2`, `eps`, `eps_root`: as for `adam` (note `eps` defaults to 1e-6).
    - `weight_decay`: decoupled weight decay coefficient.
    - `mask`: where to apply the weight decay (as in `adamw`).

    **Returns:**

    A `GradientTransformation`; its `update` needs `params`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import optim

        opt = optim.lamb(0.1)
        params = np.array([3.0, 4.0])
        updates, _ = opt.update(np.array([1.0, 1.0]), opt.init(params), params)
        assert np.isclose(np.linalg.norm(updates), 0.1 * 5.0)
        ```
    """
    return chain(
        scale_by_adam(b1, b2, eps, eps_root),
        add_decayed_weights(weight_decay, mask),
        scale_by_trust_ratio(),
        scale_by_learning_rate(learning_rate),
    )
