"""`qdwh`, JAX's polar decomposition by the QR-based dynamically weighted Halley iteration
(Nakatsukasa, Bai and Gygi, SIAM J. Matrix Anal. Appl. 31 (2010) 2700-2720), composed from
funcdiff's `qr`, `cholesky`, `triangular_solve` and `while_loop`.

The weights of the iterations are fixed in advance from the lower bound ``eps`` on the
smallest singular value (a Python loop, as JAX): the first iterations, with large weights,
go through a QR factorisation, the later ones through a Cholesky factorisation, and when
the planned ones have not converged, a `while_loop` continues with Halley's weights
``(3, 1, 3)`` up to `max_iterations`. Each iterate is a function of the previous one only,
so the result differentiates in forward mode; reverse mode stops at the `while_loop`, and
JAX's `qdwh` has no derivative at all.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src.lax.decompositions import cholesky, triangular_solve
from funcdiff._src.lax.loops import while_loop
from funcdiff._src.lax.spectral import qr
from funcdiff._src.numpy._util import Array, ArrayLike

__all__ = ["qdwh"]

_CHOLESKY_CUTOFF = 100  # iterations with a larger weight c use the (stabler) QR form


def _mH(x: Array) -> Array:  # noqa: N802
    return jnp.conj(jnp.swapaxes(x, -1, -2))


def _qr_step(u: Array, params: tuple[float, float, float]) -> Array:
    a_minus_e_by_sqrt_c, sqrt_c, e = params
    n = u.shape[-1]
    y = jnp.concatenate([sqrt_c * u, jnp.eye(n, dtype=u.dtype)], axis=0)
    q, _ = qr(y, full_matrices=False)
    q1, q2 = q[: u.shape[0]], q[u.shape[0]:]
    return e * u + a_minus_e_by_sqrt_c * (q1 @ _mH(q2))


def _cholesky_step(u: Array, params: tuple[Any, Any, Any]) -> Array:
    a_minus_e, c, e = params
    n = u.shape[-1]
    x = c * (_mH(u) @ u) + jnp.eye(n, dtype=u.dtype)
    y = cholesky(x, symmetrize_input=False)
    z = jnp.conj(triangular_solve(y, jnp.swapaxes(u, -1, -2), left_side=True, lower=True,
                                  conjugate_a=True))
    z = _mH(triangular_solve(y, z, left_side=True, lower=True, transpose_a=True,
                             conjugate_a=True))
    return e * u + a_minus_e * z


def _weights(eps: float, max_iterations: int) -> list[tuple[float, float, float]]:
    """The planned ``(a, b, c)`` of each iteration, from the lower bound `eps` of the
    smallest singular value (updated by each iteration), until it passes ``1 - 5 eps``."""
    out = []
    low, tol = eps, 10.0 * eps / 2.0
    while low + tol < 1 and len(out) < max_iterations:
        l2 = low * low
        dd = (4 * (1 / l2 - 1) / l2) ** (1 / 3)
        sqd = (1.0 + dd) ** (1 / 2)
        a = sqd + (2 - dd + 2 * (2 - l2) / (l2 * sqd)) ** (1 / 2)
        b = (a - 1) ** 2 / 4
        c = a + b - 1
        low = low * (a + b * l2) / (1 + c * l2)
        out.append((a, b, c))
    return out


def _qdwh(x: Array, max_iterations: int, eps: float) -> tuple[Array, Array, Array, Array]:
    one_norm = jnp.linalg.norm(x, ord=1)
    inf_norm = jnp.linalg.norm(x, ord=np.inf)
    scale = jnp.where(one_norm == 0, 1, 1 / jnp.sqrt(jnp.where(one_norm == 0, 1,
                                                               one_norm * inf_norm)))
    u = x * scale.astype(x.dtype)
    tol_norm = np.cbrt(10.0 * eps / 2.0)
    not_converged = jnp.asarray(True)
    planned = _weights(eps, max_iterations)
    for a, b, c in planned:
        e = b / c
        if c > _CHOLESKY_CUTOFF:
            u = _qr_step(u, ((a - e) / c ** 0.5, c ** 0.5, e))
        else:
            previous = u
            u = _cholesky_step(u, (a - e, c, e))
            not_converged = jnp.linalg.norm(u - previous) > tol_norm

    def cond(state: tuple[Array, Array, Array]) -> Array:
        k, _, going = state
        return going & (k < max_iterations)

    def body(state: tuple[Array, Array, Array]) -> tuple[Array, Array, Array]:
        k, u, _ = state
        new = _cholesky_step(u, (3.0 - 1.0 / 3.0, 3.0, 1.0 / 3.0))  # Halley: (a, b, c) = (3, 1, 3)
        return k + 1, new, jnp.linalg.norm(new - u) > tol_norm

    k0 = jnp.asarray(len(planned))
    num_iters, u, not_converged = while_loop(cond, body, (k0, u, not_converged))
    u = 1.5 * u - 0.5 * u @ (_mH(u) @ u)
    h = _mH(u) @ x
    return u, (h + _mH(h)) / 2, num_iters, ~not_converged


def qdwh(x: ArrayLike, *, is_hermitian: bool = False, max_iterations: int | None = None,
         eps: float | None = None, dynamic_shape: tuple[int, int] | None = None
         ) -> tuple[Array, Array, Array, Array]:
    """The polar decomposition ``x = u @ h`` of a full-rank ``M x N`` matrix (``M >= N``;
    `u` with orthonormal columns, `h` Hermitian positive semi-definite) by the QR-based
    dynamically weighted Halley iteration, as `jax.lax.linalg.qdwh`: ``(u, h, num_iters,
    is_converged)``. It stops when an iterate moves less than ``(5 eps)^(1/3)`` (`eps`: the
    dtype's epsilon by default) or after `max_iterations` (10 by default). With
    `dynamic_shape` ``(m, n)`` only ``x[:m, :n]`` is decomposed, the rest of `u` and `h` is
    zero. `is_hermitian` is unused (as in JAX).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.lax import linalg

        x = np.array([[3.0, 1.0], [1.0, 2.0], [0.0, 1.0]])
        u, h, num_iters, converged = linalg.qdwh(x)
        print(np.allclose(u @ h, x), np.allclose(u.T @ u, np.eye(2)), bool(converged))
        ```
        ```text
        True True True
        ```
    """
    del is_hermitian
    x = jnp.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"qdwh: expected a matrix (M, N), got shape {x.shape}; vmap over "
                         "batch axes")
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(jnp.result_type(x, 1.0))
    big_m, big_n = x.shape
    if big_m < big_n:
        raise ValueError(f"qdwh: the input matrix of shape M x N must have M >= N, got "
                         f"{x.shape}")
    max_iterations = 10 if max_iterations is None else int(max_iterations)
    eps = float(jnp.finfo(x.dtype).eps) if eps is None else float(eps)
    if dynamic_shape is None:
        return _qdwh(x, max_iterations, eps)
    m, n = (int(v) for v in dynamic_shape)
    u, h, num_iters, converged = _qdwh(x[:m, :n], max_iterations, eps)
    u = jnp.pad(u, ((0, big_m - m), (0, big_n - n)))
    h = jnp.pad(h, ((0, big_n - n), (0, big_n - n)))
    return u, h, num_iters, converged
