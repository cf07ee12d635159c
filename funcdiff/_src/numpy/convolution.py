"""`convolve` and `correlate` of 1-D arrays, as one `lax.conv_general_dilated` each."""

from __future__ import annotations

from typing import Any

from funcdiff._src import dtypes
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax.convolution import conv_general_dilated
from funcdiff._src.numpy._util import Array, ArrayLike, aval, promote

_MODES = ("full", "same", "valid")


def _operands(name: str, a: ArrayLike, v: ArrayLike, mode: str) -> tuple[Array, Array]:
    if mode not in _MODES:
        raise ValueError(f"{name}: mode must be one of {_MODES}, got {mode!r}")
    a, v = promote(a, v)
    for arg, x in (("a", a), ("v", v)):
        shape = aval(x).shape
        if len(shape) != 1:
            raise ValueError(f"{name}: {arg} must be one-dimensional, got shape {shape}")
        if shape[0] == 0:
            raise ValueError(f"{name}: {arg} cannot be empty")
    return a, v


def _slide(a: Array, v: Array, mode: str, preferred_element_type: Any) -> Array:
    """``sum_j a[k + j] v[j]`` for `a` at least as long as `v`, over the positions `mode`
    keeps: every overlap ("full"), ``len(a)`` centred ones ("same"), or complete ones."""
    n, m = aval(a).shape[0], aval(v).shape[0]
    pads = {"full": (m - 1, m - 1), "same": (m // 2, m - 1 - m // 2), "valid": (0, 0)}[mode]
    out = conv_general_dilated(sh.reshape(a, (1, 1, n)), sh.reshape(v, (1, 1, m)), (1,),
                               [pads], preferred_element_type=preferred_element_type)
    return sh.reshape(out, (aval(out).shape[2],))


def convolve(a: ArrayLike, v: ArrayLike, mode: str = "full", *, precision: Any = None,
             preferred_element_type: Any = None) -> Array:
    """NumPy's `convolve`: the discrete linear convolution of two 1-D arrays.

    `mode` is ``"full"`` (every overlap, ``len(a) + len(v) - 1`` values), ``"same"`` (the
    ``max(len(a), len(v))`` central values) or ``"valid"`` (complete overlaps only).
    `precision` is accepted for JAX compatibility and ignored; `preferred_element_type` is
    the result dtype.

    !!! Example
        ```python
        import funcdiff.numpy as jnp
        print(jnp.convolve(jnp.array([1.0, 2.0, 3.0]), jnp.array([0.0, 1.0, 0.5])))
        print(jnp.convolve(jnp.array([1.0, 2.0, 3.0]), jnp.array([0.0, 1.0, 0.5]), "same"))
        ```
    """
    del precision
    a, v = _operands("convolve", a, v, mode)
    if aval(v).shape[0] > aval(a).shape[0]:
        a, v = v, a
    return _slide(a, sh.rev(v, (0,)), mode, preferred_element_type)


def correlate(a: ArrayLike, v: ArrayLike, mode: str = "valid", *, precision: Any = None,
              preferred_element_type: Any = None) -> Array:
    """NumPy's `correlate`: ``c[k] = sum_n a[n + k] * conj(v[n])``, with the modes of
    `convolve` (default ``"valid"``).

    !!! Example
        ```python
        import funcdiff.numpy as jnp
        print(jnp.correlate(jnp.array([1.0, 2.0, 3.0]), jnp.array([0.0, 1.0, 0.5]), "full"))
        ```
    """
    del precision
    a, v = _operands("correlate", a, v, mode)
    complex_ = dtypes.is_complex(aval(a).dtype) or dtypes.is_complex(aval(v).dtype)
    if aval(v).shape[0] > aval(a).shape[0]:
        # numpy slides the shorter array: the result reversed (and conjugated).
        out = sh.rev(_slide(v, ew.conj(a) if complex_ else a, mode, preferred_element_type),
                     (0,))
        return ew.conj(out) if complex_ else out
    return _slide(a, ew.conj(v) if complex_ else v, mode, preferred_element_type)
