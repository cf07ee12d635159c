"""The special matrices of `scipy.linalg` that `jax.scipy.linalg` has beyond Toeplitz, Hankel
and circulant matrices (those are in `scipy_linalg`).

Matrices built from arrays (`companion`, `convolution_matrix`, `fiedler`, `fiedler_companion`,
`leslie`) gather their entries from the arguments (`_structured`), so they are differentiable
and take leading batch axes. Matrices of a size alone (`dft`, `hadamard`, `helmert`, `hilbert`,
`invhilbert`, `pascal`, `invpascal`) are computed in NumPy, the integer ones exactly with
Python integers, and handed out as new arrays.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src.numpy._util import Array, ArrayLike
from funcdiff._src.scipy_linalg import _broadcast_pair, _structured, _vectors

__all__ = ["companion", "convolution_matrix", "dft", "fiedler", "fiedler_companion", "hadamard",
           "helmert", "hilbert", "invhilbert", "invpascal", "leslie", "pascal"]


def _size(name: str, n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"{name}: n must be a non-negative integer, got {n!r}")
    return int(n)


def _floats(*vs: Array) -> list[Array]:
    """The arrays as inexact: integers become float64, float32 and complex are kept."""
    return [v if jnp.issubdtype(v.dtype, jnp.inexact) else v.astype(np.float64) for v in vs]


def _with_zero_one(v: Array) -> Array:
    """`v` (..., k) with a 0 and a 1 put in front: (..., k + 2), for `_structured` indices."""
    zero = jnp.zeros_like(v[..., :1]) if v.shape[-1] else jnp.zeros((*v.shape[:-1], 1), v.dtype)
    return jnp.concatenate([zero, zero + 1, v], axis=-1)


def companion(a: ArrayLike) -> Array:
    """The companion matrix of the polynomial with coefficients `a` (highest degree first), as
    `jax.scipy.linalg.companion`: its eigenvalues are the polynomial's roots. `a` has shape
    (..., N) with N ≥ 2 (leading axes are batch axes); the result is (..., N-1, N-1), with
    first row ``-a[1:] / a[0]`` and ones below the diagonal. Like JAX, ``a[0] == 0`` gives
    infinities rather than SciPy's error.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.linalg import companion

        c = companion([1.0, -6.0, 11.0, -6.0])       # (x - 1)(x - 2)(x - 3)
        print(c)
        print(np.sort(np.linalg.eigvals(np.asarray(c)).real).round(6))
        ```
        ```text
        [[  6. -11.   6.]
         [  1.   0.   0.]
         [  0.   1.   0.]]
        [1. 2. 3.]
        ```
    """
    (a,) = _floats(*_vectors("companion", a))
    n = a.shape[-1]
    if n < 2:
        raise ValueError(f"companion: a needs at least 2 coefficients, got shape {a.shape}")
    values = _with_zero_one(-a[..., 1:] / a[..., :1])
    index = np.zeros((n - 1, n - 1), dtype=np.intp)
    index[0] = np.arange(2, n + 1)
    index[np.arange(1, n - 1), np.arange(n - 2)] = 1
    return _structured(values, index)


def convolution_matrix(a: ArrayLike, n: int, mode: str = "full") -> Array:
    """The matrix ``T`` with ``T @ v == convolve(a, v, mode)`` for every `v` of length `n`, as
    `jax.scipy.linalg.convolution_matrix` (`a` is 1-D, or has leading batch axes). `mode`
    ``"full"`` gives ``len(a) + n - 1`` rows, ``"same"`` ``max(len(a), n)`` and ``"valid"``
    ``max(len(a), n) - min(len(a), n) + 1``, as `numpy.convolve`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.linalg import convolution_matrix

        t = convolution_matrix([1.0, 2.0, 3.0], 4, mode="same")
        print(t)
        print(np.allclose(t @ np.arange(4.0), np.convolve([1, 2, 3], np.arange(4.0), "same")))
        ```
        ```text
        [[2. 1. 0. 0.]
         [3. 2. 1. 0.]
         [0. 3. 2. 1.]
         [0. 0. 3. 2.]]
        True
        ```
    """
    (a,) = _vectors("convolution_matrix", a)
    n = _size("convolution_matrix", n)
    m = a.shape[-1]
    if n == 0 or m == 0:
        raise ValueError(f"convolution_matrix: a and n must be non-empty, got len(a)={m}, n={n}")
    if mode not in ("full", "same", "valid"):
        raise ValueError(f"convolution_matrix: mode must be 'full', 'same' or 'valid', got "
                         f"{mode!r}")
    lag = np.subtract.outer(np.arange(m + n - 1), np.arange(n))  # T[i, j] = a[i - j]
    index = np.where((lag >= 0) & (lag < m), lag + 1, 0)
    trim = min(m, n) - 1
    start = {"full": 0, "same": trim // 2, "valid": trim}[mode]
    stop = m + n - 1 - {"full": 0, "same": trim - trim // 2, "valid": trim}[mode]
    zero = jnp.zeros_like(a[..., :1])
    return _structured(jnp.concatenate([zero, a], axis=-1), index[start:stop])


def fiedler(a: ArrayLike) -> Array:
    """The symmetric Fiedler matrix ``|a[i] - a[j]|`` of `a` (shape (..., N); leading axes are
    batch axes), as `jax.scipy.linalg.fiedler`.

    !!! Example
        ```python
        from funcdiff.scipy.linalg import fiedler

        print(fiedler([1.0, 4.0, 2.0]))
        ```
        ```text
        [[0. 3. 1.]
         [3. 0. 2.]
         [1. 2. 0.]]
        ```
    """
    (a,) = _vectors("fiedler", a)
    return jnp.abs(a[..., :, None] - a[..., None, :])


def fiedler_companion(a: ArrayLike) -> Array:
    """The Fiedler companion matrix of the polynomial with coefficients `a` (highest degree
    first; shape (..., N)), as `jax.scipy.linalg.fiedler_companion`: a pentadiagonal matrix of
    size N-1 with the polynomial's roots as eigenvalues (made monic by ``a[0]``).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.linalg import fiedler_companion

        f = fiedler_companion([1.0, -6.0, 11.0, -6.0])
        print(f)
        print(np.sort(np.linalg.eigvals(np.asarray(f)).real).round(6))
        ```
        ```text
        [[  6. -11.   1.]
         [  1.   0.   0.]
         [  0.   6.   0.]]
        [1. 2. 3.]
        ```
    """
    (a,) = _floats(*_vectors("fiedler_companion", a))
    n = a.shape[-1] - 1
    if n < 0:
        raise ValueError("fiedler_companion: a must have at least one coefficient")
    values = _with_zero_one(-a[..., 1:] / a[..., :1])  # values[k + 1] = -a[k] / a[0]
    index = np.zeros((n, n), dtype=np.intp)
    if n:
        index[0, 0] = 2
        index[1:2, 0] = 1
    for i in range(n - 1):  # -a[i + 2] / a[0] beside the diagonal, ones two away from it
        if i % 2 == 0:
            index[i, i + 1] = i + 3
            index[i, i + 2 : i + 3] = 1
        else:
            index[i + 1, i] = i + 3
            index[i + 2 : i + 3, i] = 1
    return _structured(values, index)


def leslie(f: ArrayLike, s: ArrayLike) -> Array:
    """The Leslie matrix (an age-structured population model) with fecundities `f` (length N)
    in the first row and survival rates `s` (length N-1) below the diagonal, as
    `jax.scipy.linalg.leslie`; leading axes of `f` and `s` are broadcast batch axes.

    !!! Example
        ```python
        from funcdiff.scipy.linalg import leslie

        print(leslie([0.1, 2.0, 1.0], [0.2, 0.8]))
        ```
        ```text
        [[0.1 2.  1. ]
         [0.2 0.  0. ]
         [0.  0.8 0. ]]
        ```
    """
    f, s = _vectors("leslie", f, s)
    n = f.shape[-1]
    if n < 1 or s.shape[-1] != n - 1:
        raise ValueError(
            f"leslie: f must be non-empty and s one shorter, got f of shape {f.shape} and s of "
            f"shape {s.shape}"
        )
    f, s = _broadcast_pair(f, s)
    values = _with_zero_one(jnp.concatenate([f, s], axis=-1))  # f[j] at j + 2, s[j] at n + j + 2
    index = np.zeros((n, n), dtype=np.intp)
    index[0] = np.arange(2, n + 2)
    index[np.arange(1, n), np.arange(n - 1)] = np.arange(n + 2, 2 * n + 1)
    return _structured(values, index)


def dft(n: int, scale: str | None = None, *, dtype: Any = None) -> Array:
    """The n-by-n discrete Fourier transform matrix (``dft(n) @ x == fft(x)``), as
    `jax.scipy.linalg.dft`. `scale`: None, ``"sqrtn"`` (divide by ``√n``: unitary) or ``"n"``;
    `dtype` a complex dtype (complex128 by default).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.linalg import dft

        x = np.array([1.0, 2.0, 0.0, -1.0])
        print(np.allclose(dft(4) @ x, np.fft.fft(x)))
        ```
        ```text
        True
        ```
    """
    n = _size("dft", n)
    if scale not in (None, "sqrtn", "n"):
        raise ValueError(f"dft: scale must be None, 'sqrtn' or 'n', got {scale!r}")
    dtype = np.dtype(np.complex128 if dtype is None else dtype)
    if dtype.kind != "c":
        raise ValueError(f"dft: dtype must be complex, got {dtype}")
    power = np.multiply.outer(np.arange(n), np.arange(n)) % max(n, 1)  # exact angles
    w = np.exp(-2j * np.pi * power / max(n, 1))
    w = w / {None: 1, "sqrtn": math.sqrt(max(n, 1)), "n": max(n, 1)}[scale]
    return jnp.asarray(w.astype(dtype))


def hadamard(n: int, dtype: Any = int) -> Array:
    """The n-by-n Hadamard matrix (Sylvester's construction; n a power of 2), as
    `jax.scipy.linalg.hadamard`.

    !!! Example
        ```python
        from funcdiff.scipy.linalg import hadamard

        print(hadamard(4))
        ```
        ```text
        [[ 1  1  1  1]
         [ 1 -1  1 -1]
         [ 1  1 -1 -1]
         [ 1 -1 -1  1]]
        ```
    """
    n = _size("hadamard", n)
    if n < 1 or n & (n - 1):
        raise ValueError(f"hadamard: n must be a positive power of 2, got {n}")
    h = np.ones((1, 1), dtype=np.int64)
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return jnp.asarray(h.astype(dtype))


def helmert(n: int, full: bool = False) -> Array:
    """The Helmert matrix of order n, as `jax.scipy.linalg.helmert`: an orthogonal matrix whose
    first row is constant; without `full`, that row is left out (shape (n-1, n)).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.linalg import helmert

        h = helmert(3, full=True)
        print(np.round(h, 4))
        print(np.allclose(h @ h.T, np.eye(3)))
        ```
        ```text
        [[ 0.5774  0.5774  0.5774]
         [ 0.7071 -0.7071  0.    ]
         [ 0.4082  0.4082 -0.8165]]
        True
        ```
    """
    n = _size("helmert", n)
    h = np.tril(np.ones((n, n)), -1) - np.diag(np.arange(n))
    h[:1] = 1
    norms = np.arange(n) * np.arange(1, n + 1)
    norms[:1] = n
    h = h / np.sqrt(norms)[:, None]
    return jnp.asarray(h if full else h[1:])


def hilbert(n: int) -> Array:
    """The n-by-n Hilbert matrix ``1 / (i + j + 1)``, as `jax.scipy.linalg.hilbert`.

    !!! Example
        ```python
        from funcdiff.scipy.linalg import hilbert

        print(hilbert(3))
        ```
        ```text
        [[1.         0.5        0.33333333]
         [0.5        0.33333333 0.25      ]
         [0.33333333 0.25       0.2       ]]
        ```
    """
    n = _size("hilbert", n)
    return jnp.asarray(1.0 / (np.add.outer(np.arange(n), np.arange(n)) + 1.0))


def _exact(rows: list[list[int]]) -> Array:
    """Python integers as a float64 matrix (rounded once, from the exact values)."""
    n = len(rows)
    return jnp.asarray(np.array([[float(v) for v in row] for row in rows]).reshape(n, n))


def invhilbert(n: int) -> Array:
    """The inverse of the n-by-n Hilbert matrix, from its closed form in binomial coefficients
    (computed exactly, then rounded to float64), as `jax.scipy.linalg.invhilbert`.

    !!! Example
        ```python
        from funcdiff.scipy.linalg import invhilbert

        print(invhilbert(3))
        ```
        ```text
        [[   9.  -36.   30.]
         [ -36.  192. -180.]
         [  30. -180.  180.]]
        ```
    """
    n = _size("invhilbert", n)
    c = math.comb
    return _exact([[(-1) ** (i + j) * (i + j + 1) * c(n + i, n - j - 1) * c(n + j, n - i - 1)
                    * c(i + j, i) ** 2 for j in range(n)] for i in range(n)])


def _pascal_lower(n: int, sign: int) -> list[list[int]]:
    return [[sign ** (i - j) * math.comb(i, j) if j <= i else 0 for j in range(n)]
            for i in range(n)]


def _pascal(name: str, n: Any, kind: str | None, inverse: bool) -> Array:
    n = _size(name, n)
    kind = "symmetric" if kind is None else kind
    if kind not in ("symmetric", "lower", "upper"):
        raise ValueError(f"{name}: kind must be 'symmetric', 'lower' or 'upper', got {kind!r}")
    low = _pascal_lower(n, -1 if inverse else 1)
    up = [list(col) for col in zip(*low)] if n else []
    if kind == "lower":
        return _exact(low)
    if kind == "upper":
        return _exact(up)
    first, second = (up, low) if inverse else (low, up)  # P = L Lᵀ, P⁻¹ = L⁻ᵀ L⁻¹
    return _exact([[sum(first[i][k] * second[k][j] for k in range(n)) for j in range(n)]
                   for i in range(n)])


def pascal(n: int, kind: str | None = None) -> Array:
    """The n-by-n Pascal matrix of binomial coefficients, as `jax.scipy.linalg.pascal`: `kind`
    ``"symmetric"`` (the default; entry ``C(i + j, i)``), ``"lower"`` (``C(i, j)``) or
    ``"upper"``. Computed exactly, returned as float64 (JAX returns floats too; SciPy
    integers).

    !!! Example
        ```python
        from funcdiff.scipy.linalg import pascal

        print(pascal(4))
        ```
        ```text
        [[ 1.  1.  1.  1.]
         [ 1.  2.  3.  4.]
         [ 1.  3.  6. 10.]
         [ 1.  4. 10. 20.]]
        ```
    """
    return _pascal("pascal", n, kind, inverse=False)


def invpascal(n: int, kind: str | None = None) -> Array:
    """The inverse of `pascal(n, kind)`, computed exactly in integers and returned as float64,
    as `jax.scipy.linalg.invpascal`.

    !!! Example
        ```python
        from funcdiff.scipy.linalg import invpascal

        print(invpascal(3))
        ```
        ```text
        [[ 3. -3.  1.]
         [-3.  5. -2.]
         [ 1. -2.  1.]]
        ```
    """
    return _pascal("invpascal", n, kind, inverse=True)
