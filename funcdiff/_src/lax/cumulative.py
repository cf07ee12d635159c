"""`cumprod`, `cummax`, `cummin` and `cumlogsumexp` along an axis, as JAX's `lax` functions.

Each is an associative scan written with existing primitives (Hillis-Steele: ``log2(n)``
rounds, each combining every entry with the one ``2^r`` places before it), so values,
derivatives of every order, batching and `jit` come from the primitives used; as in JAX, the
derivative of `cummax`/`cummin` is that of the scan of `max`/`min`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from funcdiff._src import core
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax import transcendental as tr

Array = Any


def _scan(name: str, combine: Callable[[Array, Array], Array], x: Array,
          axis: int, reverse: bool, kinds: str) -> Array:
    aval = core.get_aval(x)
    if aval.dtype.kind not in kinds:
        raise TypeError(f"{name}: operand dtype {aval.dtype} is not supported (expected "
                        f"{'floating point' if kinds == 'f' else 'a numeric dtype'})")
    if not -aval.ndim <= axis < max(aval.ndim, 1) or aval.ndim == 0:
        raise ValueError(f"{name}: axis {axis} is out of range for an operand of shape "
                         f"{aval.shape}")
    axis %= aval.ndim
    n = aval.shape[axis]
    if reverse:
        x = sh.rev(x, (axis,))
    step = 1
    while step < n:
        # Each entry from `step` on combined with the one `step` places before it; the first
        # `step` entries stay as they are. (Combining them with a padded identity instead
        # would change their derivatives: max(-inf, -inf) splits the tangent between the two,
        # logaddexp of two -infs has none, inf * 1 has a NaN one.)
        x = sh.concatenate([_part(x, axis, 0, step),
                            combine(_part(x, axis, 0, n - step), _part(x, axis, step, n))], axis)
        step *= 2
    return sh.rev(x, (axis,)) if reverse else core.unchanged(x)


def _part(x: Array, axis: int, start: int, stop: int) -> Array:
    aval = core.get_aval(x)
    return sh.slice(x, [start if d == axis else 0 for d in range(aval.ndim)],
                    [stop if d == axis else aval.shape[d] for d in range(aval.ndim)])


def _logaddexp(a: Array, b: Array) -> Array:
    # Shifted by the larger operand, held constant for the derivative: the weights are then
    # exactly softmax's, smooth at ties. An infinite larger operand is the result, and then
    # so are max's weights (softmax's limits): all to +inf, shared by two -infs.
    top = ew.max(a, b)
    hi = ew.stop_gradient(top)
    finite = ew.is_finite(hi)
    shift = ew.select(finite, hi, ew.zeros_like(hi))
    a, b = (ew.select(finite, v, shift) for v in (a, b))  # no exp(inf) even in derivatives
    total = ew.add(tr.exp(ew.sub(a, shift)), tr.exp(ew.sub(b, shift)))
    return ew.select(finite, ew.add(tr.log(total), shift), top)


def cumprod(operand: Array, axis: int = 0, reverse: bool = False) -> Array:
    """Cumulative product along `axis` (from the end when `reverse`); exact derivatives also
    where some entries are zero.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        assert lax.cumprod(np.array([1.0, 2.0, 3.0])).tolist() == [1.0, 2.0, 6.0]
        ```
    """
    return _scan("cumprod", ew.mul, operand, axis, reverse, "iufc")


def cummax(operand: Array, axis: int = 0, reverse: bool = False) -> Array:
    """Running maximum along `axis` (from the end when `reverse`).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        assert lax.cummax(np.array([1, 3, 2, 5])).tolist() == [1, 3, 3, 5]
        ```
    """
    return _scan("cummax", ew.max, operand, axis, reverse, "iufc")


def cummin(operand: Array, axis: int = 0, reverse: bool = False) -> Array:
    """Running minimum along `axis` (from the end when `reverse`).

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        assert lax.cummin(np.array([4, 3, 5, 1]), reverse=True).tolist() == [1, 1, 1, 1]
        ```
    """
    return _scan("cummin", ew.min, operand, axis, reverse, "iufc")


def cumlogsumexp(operand: Array, axis: int = 0, reverse: bool = False) -> Array:
    """Running ``log(sum(exp(x)))`` along `axis`, stable for large and very different values.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        out = lax.cumlogsumexp(np.array([-1000.0, 0.0, 1000.0]))
        assert np.allclose(out, [-1000.0, 0.0, 1000.0])
        ```
    """
    return _scan("cumlogsumexp", _logaddexp, operand, axis, reverse, "f")
