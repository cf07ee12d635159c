"""`funcdiff.scipy.sparse.linalg`: the Krylov solvers `cg`, `bicgstab` and `gmres` of
`jax.scipy.sparse.linalg`.

Each solver runs its iterations in a `lax.while_loop` on the flattened right-hand side (a pytree
of arrays is raveled into one vector, so ``A`` may act on any pytree) and is wrapped in
`lax.custom_linear_solve`: derivatives go through further solves of the same kind (implicit
differentiation), never through the iterations. The transposed solve runs the same solver
with the transposed operator, which `custom_linear_solve` derives from ``A``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src.flatten_util import ravel_pytree
from funcdiff._src.lax.loops import while_loop
from funcdiff._src.linear_solve import custom_linear_solve
from funcdiff._src.numpy._util import Array
from funcdiff._src.tree_util import tree_flatten, tree_map

__all__ = ["bicgstab", "cg", "gmres"]


def _operator(what: str, name: str, op: Any) -> Callable[[Any], Any]:
    """`op` as a function: a callable is kept, a matrix ``m`` becomes ``x ↦ m @ x``."""
    if op is None:
        return lambda x: x
    if callable(op):
        return op
    if getattr(op, "ndim", None) == 2:
        return lambda x: jnp.dot(op, x)
    raise ValueError(
        f"{what}: {name} must be a function (a linear operator) or a 2-D array, got "
        f"{type(op).__name__}{'' if not hasattr(op, 'shape') else ' of shape ' + str(op.shape)}"
    )


def _check_x0(what: str, b: Any, x0: Any) -> Any:
    if x0 is None:
        return tree_map(jnp.zeros_like, b)
    b_leaves, b_tree = tree_flatten(b)
    x_leaves, x_tree = tree_flatten(x0)
    if b_tree != x_tree or [jnp.shape(v) for v in b_leaves] != [jnp.shape(v) for v in x_leaves]:
        raise ValueError(
            f"{what}: x0 must have the structure and shapes of b ({b_tree}, "
            f"{[jnp.shape(v) for v in b_leaves]}), got {x_tree}, "
            f"{[jnp.shape(v) for v in x_leaves]}"
        )
    return x0


def _vdot(a: Array, b: Array) -> Array:
    return jnp.sum(jnp.conj(a) * b)


def _sqnorm(a: Array) -> Array:
    return jnp.real(_vdot(a, a))


def _flat(fun: Callable[[Any], Any], unravel: Callable[[Array], Any]) -> Callable[[Array], Array]:
    """`fun` (pytree to pytree) as a function of the raveled vector."""
    return lambda v: ravel_pytree(fun(unravel(v)))[0]


def _cg_iterate(A, M, b, x0, tol, atol, maxiter):  # noqa: N803
    """Preconditioned conjugate gradients on vectors, stopping at ``|r|² ≤ max(tol²|b|², atol²)``
    (SciPy's criterion)."""
    bound = jnp.maximum(tol**2 * _sqnorm(b), atol**2)
    r0 = b - A(x0)
    z0 = M(r0)
    gamma0 = _vdot(r0, z0)

    def cond(state):
        _, r, gamma, _, k = state
        return (_sqnorm(r) > bound) & (k < maxiter)

    def body(state):
        x, r, gamma, p, k = state
        ap = A(p)
        alpha = gamma / _vdot(p, ap)
        x, r = x + alpha * p, r - alpha * ap
        z = M(r)
        gamma_new = _vdot(r, z)
        return x, r, gamma_new, z + (gamma_new / gamma) * p, k + 1

    return while_loop(cond, body, (x0, r0, gamma0, z0, jnp.asarray(0)))[0]


def _bicgstab_iterate(A, M, b, x0, tol, atol, maxiter):  # noqa: N803
    """Preconditioned BiCGSTAB on vectors; a breakdown (``ρ``, ``α`` or ``ω`` zero) stops it."""
    bound = jnp.maximum(tol**2 * _sqnorm(b), atol**2)
    r0 = b - A(x0)
    one = jnp.ones((), r0.dtype)

    def cond(state):
        r, k = state[1], state[-1]
        return (_sqnorm(r) > bound) & (k < maxiter) & (k >= 0)

    def body(state):
        x, r, rhat, alpha, omega, rho, p, q, k = state
        rho_new = _vdot(rhat, r)
        beta = (rho_new / rho) * (alpha / omega)
        p = r + beta * (p - omega * q)
        phat = M(p)
        q = A(phat)
        alpha = rho_new / _vdot(rhat, q)
        s = r - alpha * q
        done = _sqnorm(s) < bound
        shat = M(s)
        t = A(shat)
        tt = _vdot(t, t)
        omega = jnp.where(tt != 0, _vdot(t, s) / jnp.where(tt != 0, tt, 1), 0)
        x = jnp.where(done, x + alpha * phat, x + alpha * phat + omega * shat)
        r = jnp.where(done, s, s - omega * t)
        k = jnp.where((omega == 0) | (alpha == 0), -11, k + 1)
        k = jnp.where(rho_new == 0, -10, k)
        return x, r, rhat, alpha, omega, rho_new, p, q, k

    init = (x0, r0, r0, one, one, one, r0, r0, jnp.asarray(0))
    return while_loop(cond, body, init)[0]


def _safe_normalize(v: Array) -> tuple[Array, Array]:
    norm = jnp.sqrt(_sqnorm(v))
    tiny = np.finfo(np.dtype(v.dtype)).tiny
    small = norm <= tiny  # (False for NaN, which then propagates)
    return jnp.where(small, 0, v / jnp.where(small, 1, norm)), jnp.where(small, 0, norm)


def _arnoldi_cycle(A, M, b, x, unit, rnorm, restart):  # noqa: N803
    """One GMRES cycle: `restart` Arnoldi steps (Gram-Schmidt done twice) from the unit
    preconditioned residual, then the least-squares update of `x`."""
    n = unit.shape[0]
    basis = jnp.zeros((restart + 1, n), unit.dtype).at[0].set(unit)
    # Columns not reached (after a breakdown) stay unit columns, so the problem stays regular.
    hess = jnp.eye(restart + 1, restart, dtype=unit.dtype)
    eps = np.finfo(np.dtype(unit.dtype)).eps

    def cond(state):
        return (state[3] < restart) & ~state[2]

    def body(state):
        basis, hess, _, k = state
        w = M(A(basis[k]))
        start = jnp.sqrt(_sqnorm(w))
        h1 = jnp.conj(basis) @ w
        w = w - h1 @ basis
        h2 = jnp.conj(basis) @ w
        w = w - h2 @ basis
        w, norm = _safe_normalize(w)
        broke = norm <= 10 * eps * start
        basis = basis.at[k + 1].set(jnp.where(broke, 0, w))
        column = (h1 + h2).at[k + 1].set(norm)
        return basis, hess.at[:, k].set(column), broke, k + 1

    basis, hess, _, _ = while_loop(cond, body, (basis, hess, jnp.asarray(False), jnp.asarray(0)))
    rhs = jnp.zeros(restart + 1, unit.dtype).at[0].set(rnorm.astype(unit.dtype))
    q, r = jnp.linalg.qr(hess)
    y = jnp.linalg.solve(r, jnp.conj(q).T @ rhs)
    x = x + y @ basis[:-1]
    unit, rnorm = _safe_normalize(M(b - A(x)))
    return x, unit, rnorm


def _gmres_iterate(A, M, b, x0, tol, atol, maxiter, restart):  # noqa: N803
    bnorm = jnp.sqrt(_sqnorm(b))
    bound = jnp.maximum(tol * bnorm, atol)
    mbnorm = jnp.sqrt(_sqnorm(M(b)))
    ptol = jnp.where(bnorm > 0, mbnorm * jnp.minimum(1.0, bound / jnp.where(bnorm > 0, bnorm, 1)),
                     0)
    unit, rnorm = _safe_normalize(M(b - A(x0)))

    def cond(state):
        return (state[1] < maxiter) & ~(state[3] <= ptol)  # (NaN runs a cycle: info -1)

    def body(state):
        x, k, unit, rnorm = state
        x, unit, rnorm = _arnoldi_cycle(A, M, b, x, unit, rnorm, restart)
        return x, k + 1, unit, rnorm

    return while_loop(cond, body, (x0, jnp.asarray(0), unit, rnorm))[0]


def _isolve(what: str, iterate: Callable, A: Any, b: Any, x0: Any, M: Any,  # noqa: N803
            symmetric: bool, **options: Any) -> Any:
    """`iterate` (a solver on vectors) wrapped in `custom_linear_solve` for pytrees."""
    matvec = _operator(what, "A", A)
    precond = _operator(what, "M", M)
    x0 = _check_x0(what, b, x0)

    def solve(mv: Callable[[Any], Any], rhs: Any) -> Any:
        flat_b, unravel = ravel_pytree(rhs)
        flat_x0 = ravel_pytree(x0)[0].astype(flat_b.dtype)
        x = iterate(_flat(mv, unravel), _flat(precond, unravel), flat_b, flat_x0, **options)
        return unravel(x)

    return custom_linear_solve(matvec, b, solve=solve, transpose_solve=solve, symmetric=symmetric)


def _size(b: Any) -> int:
    return sum(int(np.prod(jnp.shape(v))) for v in tree_flatten(b)[0])


def _real(b: Any) -> bool:
    return not any(jnp.iscomplexobj(v) for v in tree_flatten(b)[0])


def cg(A: Any, b: Any, x0: Any = None, *, tol: float = 1e-5, atol: float = 0.0,  # noqa: N803
       maxiter: int | None = None, M: Any = None) -> tuple[Any, None]:  # noqa: N803
    """Solve ``A x = b`` by conjugate gradients, as `jax.scipy.sparse.linalg.cg`. ``A`` must be
    Hermitian positive definite.

    - `A`: a 2-D array, or a linear function taking and returning pytrees shaped like `b`.
    - `b`: the right-hand side, an array or a pytree of arrays; `x0` the start (zeros).
    - `tol`, `atol`: stop when ``‖b - A x‖ ≤ max(tol·‖b‖, atol)`` (SciPy's rule);
      `maxiter` caps the iterations (10 times the size of `b` by default).
    - `M`: a preconditioner approximating ``A⁻¹``, a matrix or a function like `A`.

    **Returns:** ``(x, None)``: like JAX, no convergence information (check the residual).
    Derivatives with respect to `b` and to what `A` closes over are exact for the solution
    and go through further CG solves, not through the iterations.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff.scipy.sparse.linalg import cg

        a = np.array([[4.0, 1.0], [1.0, 3.0]])
        b = np.array([1.0, 2.0])
        x, _ = cg(a, b, tol=1e-10)
        print(np.round(x, 6), np.round(np.linalg.solve(a, b), 6))
        print(np.round(funcdiff.grad(lambda b: cg(a, b)[0].sum())(b), 4))
        ```
        ```text
        [0.090909 0.636364] [0.090909 0.636364]
        [0.1818 0.2727]
        ```
    """
    maxiter = 10 * _size(b) if maxiter is None else maxiter
    x = _isolve("cg", _cg_iterate, A, b, x0, M, _real(b), tol=tol, atol=atol, maxiter=maxiter)
    return x, None


def bicgstab(A: Any, b: Any, x0: Any = None, *, tol: float = 1e-5, atol: float = 0.0,  # noqa: N803
             maxiter: int | None = None, M: Any = None) -> tuple[Any, None]:  # noqa: N803
    """Solve ``A x = b`` by the biconjugate gradient stabilised method, as
    `jax.scipy.sparse.linalg.bicgstab`: for a general (non-symmetric) square ``A``. The
    arguments are those of `cg`; the iteration also stops on a breakdown.

    **Returns:** ``(x, None)``. Derivatives go through further BiCGSTAB solves (with the
    transposed operator in reverse mode).

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.sparse.linalg import bicgstab

        a = np.array([[3.0, 1.0, 0.0], [-1.0, 4.0, 1.0], [0.0, 2.0, 5.0]])
        b = np.array([1.0, 0.0, 2.0])
        x, _ = bicgstab(lambda v: a @ v, b, tol=1e-10)
        print(np.allclose(a @ x, b))
        ```
        ```text
        True
        ```
    """
    maxiter = 10 * _size(b) if maxiter is None else maxiter
    x = _isolve("bicgstab", _bicgstab_iterate, A, b, x0, M, False, tol=tol, atol=atol,
                maxiter=maxiter)
    return x, None


def gmres(A: Any, b: Any, x0: Any = None, *, tol: float = 1e-5, atol: float = 0.0,  # noqa: N803
          restart: int = 20, maxiter: int | None = None, M: Any = None,  # noqa: N803
          solve_method: str = "batched") -> tuple[Any, Array]:
    """Solve ``A x = b`` by restarted GMRES, as `jax.scipy.sparse.linalg.gmres`: for a general
    square ``A``. Each cycle builds a Krylov basis of `restart` vectors (Gram-Schmidt done
    twice) and takes the least-squares solution in it; `maxiter` caps the cycles (10 times the
    size of `b` by default). Convergence is judged on the left-preconditioned residual
    ``M(b - A x)``, as in JAX. `solve_method` is ``"batched"`` or ``"incremental"``: JAX's two
    ways to solve the small least-squares problem; funcdiff solves it the same way for both.
    The other arguments are those of `cg`.

    **Returns:** ``(x, info)``, `info` being ``-1`` when ``x`` holds NaN and ``0`` otherwise
    (JAX's convention). Derivatives go through further GMRES solves.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.sparse.linalg import gmres

        a = np.array([[3.0, 1.0, 0.0], [-1.0, 4.0, 1.0], [0.0, 2.0, 5.0]])
        b = np.array([1.0, 0.0, 2.0])
        x, info = gmres(a, b, tol=1e-10)
        print(np.allclose(a @ x, b), info)
        ```
        ```text
        True 0
        ```
    """
    if solve_method not in ("batched", "incremental"):
        raise ValueError(
            f"gmres: solve_method must be 'batched' or 'incremental', got {solve_method!r}"
        )
    size = _size(b)
    maxiter = 10 * size if maxiter is None else maxiter
    restart = min(int(restart), size)
    if restart < 1:
        raise ValueError(f"gmres: restart must be at least 1 (and b non-empty), got {restart}")
    iterate = functools.partial(_gmres_iterate, restart=restart)
    x = _isolve("gmres", iterate, A, b, x0, M, False, tol=tol, atol=atol, maxiter=maxiter)
    failed = jnp.isnan(jnp.sqrt(sum(_sqnorm(v) for v in tree_flatten(x)[0])))
    return x, jnp.where(failed, -1, 0)
