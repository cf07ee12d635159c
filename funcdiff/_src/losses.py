"""Loss functions with optax's names and conventions, numerically stable in value and gradient.

Each loss returns one value per example (or per element): reduce it yourself, e.g. with
``jnp.mean``. Cross-entropies work on logits, through `log_softmax` / `log_sigmoid`, so large
logits neither overflow nor give infinite gradients.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src import core
from funcdiff._src.nn import log_sigmoid, log_softmax, logsumexp
from funcdiff._src.numpy.shape import take_along_axis_in_bounds

Array = Any


def softmax_cross_entropy(logits: Array, labels: Array, axis: int = -1) -> Array:
    """Cross-entropy between ``softmax(logits)`` and target probabilities `labels`
    (e.g. one-hot rows): ``-sum(labels * log_softmax(logits), axis)``.

    **Arguments:**

    - `logits`: unnormalised log-probabilities.
    - `labels`: probabilities of the same shape (each row summing to one).
    - `axis`: the class axis.

    **Returns:**

    The loss per example: `logits`' shape without `axis`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import nn

        loss = nn.softmax_cross_entropy(np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]]))
        assert np.allclose(loss, np.log(2.0))
        ```
    """
    log_p = log_softmax(logits, axis=axis)
    labels = jnp.asarray(labels)
    # A zero label's term is 0 even where the logit is -inf (0 * -inf would be nan). Only those
    # entries are replaced: elsewhere the derivative in the labels is -log_p, zero labels too.
    safe_log_p = jnp.where(jnp.logical_and(jnp.equal(labels, 0), jnp.isinf(log_p)), 0.0, log_p)
    return jnp.negative(jnp.sum(jnp.multiply(labels, safe_log_p), axis=axis))


def softmax_cross_entropy_with_integer_labels(
    logits: Array, labels: Array, axis: int = -1
) -> Array:
    """Cross-entropy between ``softmax(logits)`` and integer class labels:
    ``logsumexp(logits) - logits[label]``.

    **Arguments:**

    - `logits`: unnormalised log-probabilities, with the classes along `axis`.
    - `labels`: integer labels in ``[0, num_classes)``, shaped like `logits` without `axis`.
    - `axis`: the class axis.

    **Returns:**

    The loss per example, shaped like `labels`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import nn

        logits = np.array([[2.0, 0.0, 0.0], [0.0, 5.0, 0.0]])
        loss = nn.softmax_cross_entropy_with_integer_labels(logits, np.array([0, 1]))
        assert loss.shape == (2,) and np.all(loss < 0.3)
        ```
    """
    logits = jnp.asarray(logits)
    labels = jnp.asarray(labels)
    label_dtype = core.get_aval(labels).dtype
    if label_dtype.kind not in "iu":
        raise TypeError(
            "softmax_cross_entropy_with_integer_labels: labels must be integers, got "
            f"{label_dtype}. For one-hot or probability labels use softmax_cross_entropy."
        )
    ndim = core.get_aval(logits).ndim
    axis = axis % ndim
    expected = core.get_aval(logits).shape[:axis] + core.get_aval(logits).shape[axis + 1 :]
    if core.get_aval(labels).shape != expected:
        raise ValueError(
            "softmax_cross_entropy_with_integer_labels: labels have shape "
            f"{core.get_aval(labels).shape}, expected {expected} (the logits' shape "
            f"{core.get_aval(logits).shape} without the class axis {axis})."
        )
    # (labels are class indices: NumPy's gather, unclamped; one out of range raises)
    picked = take_along_axis_in_bounds(logits, jnp.expand_dims(labels, axis), axis)
    label_logits = jnp.squeeze(picked, axis=axis)
    return jnp.subtract(logsumexp(logits, axis=axis), label_logits)


def sigmoid_binary_cross_entropy(logits: Array, labels: Array) -> Array:
    """Binary cross-entropy on logits, elementwise:
    ``-labels * log(sigmoid(logits)) - (1 - labels) * log(1 - sigmoid(logits))``, computed
    with `log_sigmoid` (stable for any logit).

    **Arguments:**

    - `logits`: logits of the probability of the positive class.
    - `labels`: targets in ``[0, 1]``, broadcastable against `logits`.

    **Returns:**

    The elementwise loss.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import nn

        loss = nn.sigmoid_binary_cross_entropy(np.array([0.0, 1000.0]), np.array([1.0, 1.0]))
        assert np.allclose(loss, [np.log(2.0), 0.0])
        ```
    """
    logits = jnp.asarray(logits)
    if core.get_aval(logits).dtype.kind != "f":
        logits = jnp.astype(logits, np.float64)
    labels = jnp.asarray(labels)
    positive = jnp.multiply(labels, log_sigmoid(logits))
    negative = jnp.multiply(jnp.subtract(1.0, labels), log_sigmoid(jnp.negative(logits)))
    return jnp.negative(jnp.add(positive, negative))


def _errors(predictions: Array, targets: Array | None) -> Array:
    predictions = jnp.asarray(predictions)
    return predictions if targets is None else jnp.subtract(predictions, targets)


def squared_error(predictions: Array, targets: Array | None = None) -> Array:
    """Elementwise ``(predictions - targets)**2`` (``predictions**2`` without targets).

    **Arguments:**

    - `predictions`: the predictions.
    - `targets`: the targets, broadcastable against `predictions`.

    **Returns:**

    The elementwise squared error.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import nn

        assert np.allclose(nn.squared_error(np.array([1.0, 3.0]), np.array([0.0, 1.0])), [1, 4])
        ```
    """
    return jnp.square(_errors(predictions, targets))


def l2_loss(predictions: Array, targets: Array | None = None) -> Array:
    """Half the squared error, ``0.5 * (predictions - targets)**2``, elementwise.

    **Arguments:**

    - `predictions`: the predictions.
    - `targets`: the targets, broadcastable against `predictions`.

    **Returns:**

    The elementwise loss.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import nn

        assert np.allclose(nn.l2_loss(np.array([2.0]), np.array([0.0])), 2.0)
        ```
    """
    return jnp.multiply(0.5, squared_error(predictions, targets))


def mean_squared_error(predictions: Array, targets: Array | None = None) -> Array:
    """The mean of the squared error over all elements, a scalar.

    **Arguments:**

    - `predictions`: the predictions.
    - `targets`: the targets, broadcastable against `predictions`.

    **Returns:**

    A 0-d array.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import nn

        assert np.isclose(nn.mean_squared_error(np.array([1.0, 3.0]), np.array([0.0, 1.0])), 2.5)
        ```
    """
    return jnp.mean(squared_error(predictions, targets))


def huber_loss(predictions: Array, targets: Array | None = None, delta: float = 1.0) -> Array:
    """Huber loss, elementwise: ``0.5 * e**2`` for ``|e| <= delta``, else
    ``delta * (|e| - 0.5 * delta)``, with ``e = predictions - targets``.

    **Arguments:**

    - `predictions`: the predictions.
    - `targets`: the targets, broadcastable against `predictions`.
    - `delta`: where the loss turns from quadratic to linear.

    **Returns:**

    The elementwise loss.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import nn

        loss = nn.huber_loss(np.array([0.5, 3.0]), np.array([0.0, 0.0]))
        assert np.allclose(loss, [0.125, 2.5])
        ```
    """
    abs_errors = jnp.abs(_errors(predictions, targets))
    quadratic = jnp.minimum(abs_errors, delta)
    linear = jnp.subtract(abs_errors, quadratic)
    return jnp.add(jnp.multiply(0.5, jnp.square(quadratic)), jnp.multiply(delta, linear))
