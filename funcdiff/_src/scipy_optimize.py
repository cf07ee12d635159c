"""`funcdiff.scipy.optimize`: `minimize` by BFGS (and JAX's experimental L-BFGS), with a
strong-Wolfe line search, every loop a `lax.while_loop` so that the whole minimisation stages
under `jit` and batches under `vmap`.

The line search (Nocedal & Wright, algorithms 3.5 and 3.6) is two loops run one after the
other: the first grows the step until it finds an acceptable step or an interval that holds
one; the second (skipped when the first found the step) shrinks the interval by safeguarded
cubic interpolation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src.api import value_and_grad
from funcdiff._src.lax.loops import while_loop
from funcdiff._src.numpy._util import Array, ArrayLike

__all__ = ["OptimizeResults", "minimize"]


class OptimizeResults(NamedTuple):
    """The result of `minimize`, with the fields of `jax.scipy.optimize.OptimizeResults`.

    - `x`: the final point; `fun`: the objective there; `jac`: its gradient there.
    - `success`: whether the gradient's norm fell below `gtol` (and no line search failed).
    - `status` for BFGS: 0 converged, 1 `maxiter` reached, 2 + the line search's code when a
      line search failed (code 1: no acceptable interval within its iterations, 2: the
      interval did not shrink to an acceptable step, 3: not a descent direction). For L-BFGS
      (JAX's codes): 0 converged, 1 `maxiter`, 2 `maxfun`, 3 `maxgrad` reached, 4 the
      objective decreased by less than `ftol`, 5 a line search failed.
    - `hess_inv`: BFGS's approximation of the inverse Hessian (None for L-BFGS).
    - `nfev`, `njev`: evaluations of the objective and its gradient; `nit`: iterations.
    """

    x: Array
    success: bool | Array
    status: int | Array
    fun: Array
    jac: Array
    hess_inv: Array | None
    nfev: int | Array
    njev: int | Array
    nit: int | Array


class _Point(NamedTuple):
    a: Array  # step length
    phi: Array  # objective at x + a p
    dphi: Array  # its derivative along p
    g: Array  # gradient at x + a p


def _cubic_step(lo: _Point, hi: _Point) -> Array:
    """The minimiser of the cubic matching values and slopes at both ends, kept in the middle
    80% of the interval (its midpoint when the cubic gives nothing usable there)."""
    width = hi.a - lo.a
    safe_width = jnp.where(width == 0, 1, width)
    d1 = lo.dphi + hi.dphi - 3 * (lo.phi - hi.phi) / -safe_width
    disc = d1 * d1 - lo.dphi * hi.dphi
    d2 = jnp.sign(width) * jnp.sqrt(jnp.maximum(disc, 0))
    denom = hi.dphi - lo.dphi + 2 * d2
    ok = (disc >= 0) & (denom != 0)
    a = hi.a - width * (hi.dphi + d2 - d1) / jnp.where(ok, denom, 1)
    low, high = jnp.minimum(lo.a, hi.a), jnp.maximum(lo.a, hi.a)
    margin = 0.1 * jnp.abs(width)
    inside = ok & jnp.isfinite(a) & (a >= low + margin) & (a <= high - margin)
    return jnp.where(inside, a, lo.a + 0.5 * width)


def _line_search(fun, x, p, f0, g0, start, maxiter: int, c1: float = 1e-4, c2: float = 0.9):
    """A step satisfying the strong Wolfe conditions along `p` from `x`: returns the point, a
    failure code (0 found, 1 no interval, 2 interval not shrunk, 3 not a descent direction)
    and the number of evaluations."""
    dphi0 = jnp.vdot(g0, p)
    origin = _Point(jnp.zeros_like(start), f0, dphi0, g0)

    def at(a):
        f, g = value_and_grad(fun)(x + a * p)
        return _Point(a, f, jnp.vdot(g, p), g)

    def armijo_fails(q: _Point):
        return (q.phi > f0 + c1 * q.a * dphi0) | ~jnp.isfinite(q.phi)

    def curvature_holds(q: _Point):
        return jnp.abs(q.dphi) <= -c2 * dphi0

    def pick(c, u, v):
        return type(u)(*(jnp.where(c, a, b) for a, b in zip(u, v)))

    # Phase 1: grow the step. State: i, previous point, trial step, stage (0 running, 1 found,
    # 2 interval found), the found point, the interval's ends (lo, hi).
    def grow_cond(s):
        return (s[3] == 0) & (s[0] < maxiter)

    def grow_body(s):
        i, prev, a, _, star, lo, hi = s
        q = at(a)
        up = armijo_fails(q) | ((i > 0) & (q.phi >= prev.phi))
        good = ~up & curvature_holds(q)
        down = ~up & ~good & (q.dphi >= 0)
        stage = jnp.where(up | down, 2, jnp.where(good, 1, 0))
        lo = pick(up, prev, pick(down, q, lo))
        hi = pick(up, q, pick(down, prev, hi))
        return i + 1, q, 2 * a, stage, pick(good, q, star), lo, hi

    descent = dphi0 < 0
    init = (jnp.asarray(0), origin, start, jnp.where(descent, 0, 3), origin, origin, origin)
    n1, _, _, stage, star, lo, hi = while_loop(grow_cond, grow_body, init)

    # Phase 2: shrink [lo, hi] (lo: the end with the lower value satisfying Armijo).
    def zoom_cond(s):
        return (s[1] == 2) & (s[0] < maxiter)

    def zoom_body(s):
        j, stage, star, lo, hi = s
        q = at(_cubic_step(lo, hi))
        up = armijo_fails(q) | (q.phi >= lo.phi)
        good = ~up & curvature_holds(q)
        flip = ~up & ~good & (q.dphi * (hi.a - lo.a) >= 0)
        hi = pick(up, q, pick(flip, lo, hi))
        lo = pick(up | good, lo, q)
        return j + 1, jnp.where(good, 1, stage), pick(good, q, star), lo, hi

    n2, stage, star, lo, _ = while_loop(zoom_cond, zoom_body, (jnp.asarray(0), stage, star, lo, hi))
    code = jnp.where(stage == 1, 0, jnp.where(stage == 3, 3, jnp.where(n1 >= maxiter, 1, 2)))
    return star, code, n1 + n2


def _initial_step(f0, f_before, dphi0):
    """SciPy's first trial step: the one a quadratic would take to repeat the last decrease."""
    guess = 1.01 * 2 * (f0 - f_before) / jnp.where(dphi0 == 0, 1, dphi0)
    return jnp.where((guess > 0) & (guess < 1) & jnp.isfinite(guess), guess, 1.0).astype(f0.dtype)


def _norm(g: Array, ord: Any) -> Array:  # noqa: A002
    return jnp.linalg.norm(g, ord=ord)


class _BFGS(NamedTuple):
    k: Array
    nfev: Array
    x: Array
    f: Array
    g: Array
    h: Array
    f_before: Array
    converged: Array
    failed: Array
    ls_code: Array


def _bfgs(fun, x0, maxiter=None, norm=np.inf, gtol=1e-5, line_search_maxiter=10):
    maxiter = 200 * x0.size if maxiter is None else maxiter
    f0, g0 = value_and_grad(fun)(x0)

    def body(s: _BFGS) -> _BFGS:
        p = -(s.h @ s.g)
        start = _initial_step(s.f, s.f_before, jnp.vdot(s.g, p))
        q, code, n = _line_search(fun, s.x, p, s.f, s.g, start, line_search_maxiter)
        failed = code != 0
        step, dg = q.a * p, q.g - s.g
        sy = jnp.vdot(dg, step)
        usable = (sy != 0) & jnp.isfinite(sy) & ~failed
        rho = 1 / jnp.where(usable, sy, 1)
        w = jnp.eye(x0.size, dtype=s.h.dtype) - rho * jnp.outer(step, dg)
        h = jnp.where(usable, w @ s.h @ w.T + rho * jnp.outer(step, step), s.h)
        x, f, g = (jnp.where(failed, old, new) for old, new in ((s.x, s.x + step), (s.f, q.phi),
                                                                  (s.g, q.g)))
        return _BFGS(s.k + 1, s.nfev + n, x, f, g, h, s.f, _norm(g, norm) < gtol, failed, code)

    def cond(s: _BFGS) -> Array:
        return ~s.converged & ~s.failed & (s.k < maxiter)

    init = _BFGS(jnp.asarray(0), jnp.asarray(1), x0, f0, g0, jnp.eye(x0.size, dtype=x0.dtype),
                 f0 + jnp.linalg.norm(g0) / 2, _norm(g0, norm) < gtol, jnp.asarray(False),
                 jnp.asarray(0))
    s = while_loop(cond, body, init)
    status = jnp.where(s.converged, 0, jnp.where(s.failed, 2 + s.ls_code,
                                                 jnp.where(s.k >= maxiter, 1, -1)))
    return OptimizeResults(s.x, s.converged & ~s.failed, status, s.f, s.g, s.h, s.nfev, s.nfev,
                           s.k)


def _two_loop(g: Array, ss: Array, ys: Array, rhos: Array, gamma: Array) -> Array:
    """L-BFGS's product of the inverse-Hessian approximation with `g` (the history's rows,
    newest last; unused rows have zero `rho` and change nothing)."""
    alphas = []
    q = g
    for i in reversed(range(ss.shape[0])):
        alphas.append(rhos[i] * jnp.vdot(ss[i], q))
        q = q - alphas[-1] * ys[i]
    r = gamma * q
    for i, alpha in zip(range(ss.shape[0]), reversed(alphas)):
        r = r + ss[i] * (alpha - rhos[i] * jnp.vdot(ys[i], r))
    return r


class _LBFGS(NamedTuple):
    k: Array
    nfev: Array
    x: Array
    f: Array
    g: Array
    ss: Array
    ys: Array
    rhos: Array
    gamma: Array
    f_before: Array
    status: Array


def _lbfgs(fun, x0, maxiter=None, norm=np.inf, maxcor=10, ftol=2.220446049250313e-09,
           gtol=1e-5, maxfun=None, maxgrad=None, maxls=20):
    if maxiter is None and maxfun is None and maxgrad is None:
        maxiter = 200 * x0.size
    maxiter = np.inf if maxiter is None else maxiter
    maxfun = np.inf if maxfun is None else maxfun
    maxgrad = np.inf if maxgrad is None else maxgrad
    f0, g0 = value_and_grad(fun)(x0)
    n, dtype = x0.size, x0.dtype

    def body(s: _LBFGS) -> _LBFGS:
        p = -_two_loop(s.g, s.ss, s.ys, s.rhos, s.gamma)
        start = jnp.where(s.k == 0, _initial_step(s.f, s.f_before, jnp.vdot(s.g, p)), 1.0)
        q, code, nls = _line_search(fun, s.x, p, s.f, s.g, start.astype(dtype), maxls)
        failed = code != 0
        step, dg = q.a * p, q.g - s.g
        sy = jnp.vdot(dg, step)
        usable = (sy > 0) & jnp.isfinite(sy) & ~failed
        ss = jnp.where(usable, jnp.concatenate([s.ss[1:], step[None]]), s.ss)
        ys = jnp.where(usable, jnp.concatenate([s.ys[1:], dg[None]]), s.ys)
        rho = 1 / jnp.where(usable, sy, 1)
        rhos = jnp.where(usable, jnp.concatenate([s.rhos[1:], rho[None]]), s.rhos)
        gamma = jnp.where(usable, sy / jnp.where(usable, jnp.vdot(dg, dg), 1), s.gamma)
        x, f, g = (jnp.where(failed, old, new) for old, new in ((s.x, s.x + step), (s.f, q.phi),
                                                                  (s.g, q.g)))
        nfev = s.nfev + nls
        status = jnp.where(failed, 5, jnp.where(s.k + 1 >= maxiter, 1, jnp.where(
            nfev >= maxfun, 2, jnp.where(nfev >= maxgrad, 3, jnp.where(s.f - f < ftol, 4, -1)))))
        status = jnp.where(_norm(g, norm) < gtol, 0, status)
        return _LBFGS(s.k + 1, nfev, x, f, g, ss, ys, rhos, gamma, s.f, status)

    def cond(s: _LBFGS) -> Array:
        return s.status == -1

    zeros = jnp.zeros((maxcor, n), dtype)
    init = _LBFGS(jnp.asarray(0), jnp.asarray(1), x0, f0, g0, zeros, zeros,
                  jnp.zeros(maxcor, dtype), jnp.ones((), dtype), f0 + jnp.linalg.norm(g0) / 2,
                  jnp.where(_norm(g0, norm) < gtol, 0, -1))
    s = while_loop(cond, body, init)
    return OptimizeResults(s.x, s.status == 0, s.status, s.f, s.g, None, s.nfev, s.nfev, s.k)


_METHODS = {"bfgs": _bfgs, "l-bfgs-experimental-do-not-rely-on-this": _lbfgs}


def minimize(fun: Callable[..., Any], x0: ArrayLike, args: tuple = (), *, method: str,
             tol: float | None = None, options: dict[str, Any] | None = None) -> OptimizeResults:
    """Minimise ``fun(x, *args)`` over a 1-D array ``x`` from `x0`, as
    `jax.scipy.optimize.minimize`: the gradient comes from `grad`, and the whole search is
    one `lax.while_loop`, so `minimize` works under `jit` and `vmap`.

    - `method`: ``"BFGS"``, or ``"l-bfgs-experimental-do-not-rely-on-this"`` (JAX's name for
      its experimental limited-memory BFGS).
    - `tol`: accepted and unused, as in JAX (give `gtol` in `options`).
    - `options` for BFGS: `maxiter` (200 times the size of `x0`), `norm` (``np.inf``; the
      norm of the gradient tested), `gtol` (``1e-5``: stop when that norm is below it),
      `line_search_maxiter` (10). For L-BFGS: `maxiter`, `norm`, `maxcor` (10 pairs kept),
      `ftol`, `gtol`, `maxfun`, `maxgrad`, `maxls` (20).

    **Returns:** an `OptimizeResults`. Like JAX, `minimize` has no derivative rule for the
    optimum (reverse mode through the loop is refused); differentiate the objective at
    ``result.x`` or use `lax.custom_root` for implicit derivatives.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp
        from funcdiff.scipy.optimize import minimize

        def rosenbrock(x):
            return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

        res = minimize(rosenbrock, np.array([-1.2, 1.0]), method="BFGS")
        print(np.round(res.x, 5), bool(res.success), int(res.status))
        ```
        ```text
        [1. 1.] True 0
        ```
    """
    if not isinstance(args, tuple):
        raise TypeError(f"minimize: args must be a tuple, got {type(args).__name__}: {args!r}")
    solver = _METHODS.get(method.lower()) if isinstance(method, str) else None
    if solver is None:
        raise ValueError(
            f"minimize: method {method!r} is not recognised; use 'BFGS' or "
            "'l-bfgs-experimental-do-not-rely-on-this' (JAX's two methods)"
        )
    x0 = jnp.asarray(x0)
    if x0.ndim != 1:
        raise ValueError(
            f"minimize: x0 must be a 1-D array, got shape {x0.shape}; ravel it (for a pytree, "
            "use funcdiff.flatten_util.ravel_pytree)"
        )
    if not jnp.issubdtype(x0.dtype, jnp.inexact):
        x0 = x0.astype(jnp.result_type(float))
    return solver(lambda x: fun(x, *args), x0, **(options or {}))
