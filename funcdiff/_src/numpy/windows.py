"""Sequences and window functions: `geomspace`, `bartlett`, `blackman`, `hamming`,
`hanning`, `kaiser` and the Bessel function `i0` that `kaiser` needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.array import as_array
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import shape as sh
from funcdiff._src.numpy import creation as np_creation
from funcdiff._src.numpy import shape as np_shape
from funcdiff._src.numpy import ufuncs
from funcdiff._src.numpy._util import (
    Array,
    ArrayLike,
    asarray,
    aval,
    canonical_axis,
    constant,
    promote_inexact,
)

# ---- sequences and windows ------------------------------------------------------------------


def geomspace(
    start: ArrayLike,
    stop: ArrayLike,
    num: int = 50,
    endpoint: bool = True,
    dtype: Any = None,
    axis: int = 0,
) -> Array:
    """`num` samples evenly spaced on a log scale from `start` to `stop` (same sign,
    nonzero); the ends are exact. Differentiable in `start` and `stop`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert np.allclose(jnp.geomspace(1.0, 1000.0, 4), [1.0, 10.0, 100.0, 1000.0])
        assert np.allclose(jnp.geomspace(-1.0, -100.0, 3), [-1.0, -10.0, -100.0])
        ```
    """
    start, stop = promote_inexact(asarray(start), asarray(stop))
    cs, cp = core.concrete_or_none(start), core.concrete_or_none(stop)
    if (
        cs is not None
        and cp is not None
        and (np.any(np.asarray(cs) == 0) or np.any(np.asarray(cp) == 0))
    ):
        raise ValueError("Geometric sequence cannot include zero")
    sign = ufuncs.sign(start)
    lo, hi = ufuncs.divide(start, sign), ufuncs.divide(stop, sign)
    out = np_creation.logspace(ufuncs.log10(lo), ufuncs.log10(hi), num, endpoint, axis=axis)
    nd = aval(out).ndim
    ax = canonical_axis(axis, nd)
    exp_shape = aval(out).shape
    sign_b = sh.expand_dims(
        np_shape.broadcast_to(sign, exp_shape[:ax] + exp_shape[ax + 1 :]), (ax,)
    )
    out = ufuncs.multiply(out, sign_b)
    # Exact ends, as NumPy.
    if num > 0:
        idx = np.arange(num).reshape([num if d == ax else 1 for d in range(nd)])
        s_b = sh.expand_dims(
            np_shape.broadcast_to(start, exp_shape[:ax] + exp_shape[ax + 1 :]), (ax,)
        )
        out = ufuncs.where(idx == 0, s_b, out)
        if endpoint and num > 1:
            e_b = sh.expand_dims(
                np_shape.broadcast_to(stop, exp_shape[:ax] + exp_shape[ax + 1 :]), (ax,)
            )
            out = ufuncs.where(idx == num - 1, e_b, out)
    return out if dtype is None else ew.convert_element_type(out, dtype)


def _window(fn: Callable[[int], np.ndarray], M: int) -> np.ndarray:  # noqa: N803
    return as_array(fn(int(M)))


def bartlett(M: int) -> np.ndarray:  # noqa: N803
    """The Bartlett (triangular) window of `M` points (a constant array).

    !!! Example
        ```python
        import funcdiff.numpy as jnp

        assert jnp.bartlett(5).tolist() == [0.0, 0.5, 1.0, 0.5, 0.0]
        ```
    """
    return _window(np.bartlett, M)


def blackman(M: int) -> np.ndarray:  # noqa: N803
    """The Blackman window of `M` points (a constant array).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert np.allclose(jnp.blackman(3), [0.0, 1.0, 0.0])
        ```
    """
    return _window(np.blackman, M)


def hamming(M: int) -> np.ndarray:  # noqa: N803
    """The Hamming window of `M` points (a constant array).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert np.allclose(jnp.hamming(3), [0.08, 1.0, 0.08])
        ```
    """
    return _window(np.hamming, M)


def hanning(M: int) -> np.ndarray:  # noqa: N803
    """The Hann window of `M` points (a constant array).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert np.allclose(jnp.hanning(3), [0.0, 1.0, 0.0])
        ```
    """
    return _window(np.hanning, M)


def i0(x: ArrayLike) -> Array:
    """The modified Bessel function of the first kind of order 0, ``sum_k (x²/4)^k / k!²``,
    summed as a power series for ``|x| <= 15`` and from the asymptotic expansion beyond;
    differentiable (its derivative is I1). Real input.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        x = np.array([0.0, 1.0, -3.0, 20.0])
        assert np.allclose(jnp.i0(x), np.i0(x), rtol=1e-12)
        ```
    """
    (x,) = promote_inexact(asarray(x))
    if aval(x).dtype.kind == "c":
        raise TypeError("i0 is not defined for complex input")
    ax = ufuncs.abs(x)
    small = ufuncs.less_equal(ax, 15.0)
    xs = ufuncs.where(small, ax, 0.0)
    q = ufuncs.multiply(ufuncs.multiply(xs, xs), 0.25)
    # Nested (Horner) form 1 + q/1²(1 + q/2²(1 + ...)), 30 terms (exact to rounding for
    # q <= 56.25). Beyond the 8th term a tiny q is raised to 1e-3 (those terms are below
    # 1e-38 then), so that no value or derivative underflows through thirty factors of q.
    q_deep = ufuncs.maximum(q, 1e-3)
    total: Any = ufuncs.add(ufuncs.multiply(q, 0.0), 1.0)
    for k in range(30, 0, -1):
        factor = q if k <= 8 else q_deep
        total = ufuncs.add(1.0, ufuncs.divide(ufuncs.multiply(total, factor), float(k * k)))
    # Asymptotic: e^x / sqrt(2 pi x) * sum_k prod_{j<=k} (2j - 1)^2 / (8 x j).
    xl = ufuncs.where(small, 16.0, ax)
    asum: Any = ufuncs.add(ufuncs.multiply(xl, 0.0), 1.0)
    for k in range(24, 0, -1):
        asum = ufuncs.add(
            1.0,
            ufuncs.divide(
                ufuncs.multiply(asum, float((2 * k - 1) ** 2)), ufuncs.multiply(xl, 8.0 * k)
            ),
        )
    large = ufuncs.multiply(
        ufuncs.divide(ufuncs.exp(xl), ufuncs.sqrt(ufuncs.multiply(xl, 2 * np.pi))), asum
    )
    return ufuncs.where(small, total, large)


def kaiser(M: int, beta: ArrayLike) -> Array:  # noqa: N803
    """The Kaiser window of `M` points with shape parameter `beta` (differentiable in
    `beta`).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert np.allclose(jnp.kaiser(4, 5.0), np.kaiser(4, 5.0))
        ```
    """
    M = int(M)  # noqa: N806
    if M <= 0:
        return constant((0,), np.float64)
    if M == 1:
        return constant((1,), np.float64, 1)
    (beta,) = promote_inexact(asarray(beta))
    n = np.arange(M, dtype=np.float64)
    alpha = (M - 1) / 2.0
    r = np.sqrt(np.clip(1 - ((n - alpha) / alpha) ** 2, 0.0, None))
    return ufuncs.divide(i0(ufuncs.multiply(beta, r)), i0(beta))
