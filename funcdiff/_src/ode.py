"""`odeint`: an adaptive Dormand–Prince 5(4) solver written with funcdiff operations, so that
it runs under `jit` and `vmap`, differentiated in reverse mode by the adjoint method.

The state is a pytree, flattened to one vector for the solver. Each output time is reached
by a `lax.while_loop` of adaptive steps (inside a `lax.scan` over the output times); the value
at an output time is read from the 4th-order dense-output polynomial of the step that
crossed it, so the step sizes never depend on where the outputs are asked for.

Derivatives: `odeint` is a `custom_jvp` function whose tangent is one linear primitive,
`odeint_tangent`. Forward mode evaluates it by differentiating through the solver; reverse
mode transposes it by the adjoint method, solving the adjoint system backwards between
consecutive output times with the same solver on the augmented state (state, adjoint,
parameter cotangents), as JAX's `custom_vjp` does; it stores only the outputs, never the steps.
The rule and the adjoint call the differentiable solve (`_odeint`), never the solver's loop,
so derivatives of any order in either mode go through these rules again.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src import core
from funcdiff._src.api import jvp, vjp
from funcdiff._src.custom_jvp import custom_jvp
from funcdiff._src.interpreters import ad
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.interpreters.ad import Zero, is_undefined_primal
from funcdiff._src.lax import _jaxprs as jaxprs
from funcdiff._src.lax._define import define_primitive
from funcdiff._src.lax.loops import while_loop
from funcdiff._src.lax.scans import scan
from funcdiff._src.lax.structural import move_to_front
from funcdiff._src.tree_util import tree_flatten, tree_map, tree_unflatten
from funcdiff._src.vmap import vmap

# ---- flattening a pytree state to one vector ------------------------------------------------


def _ravel(tree: Any) -> tuple[Any, Callable[[Any], Any]]:
    """The leaves of `tree` concatenated into one vector (of their common dtype), and the
    function rebuilding the tree from such a vector."""
    leaves, treedef = tree_flatten(tree)
    if not leaves:
        raise ValueError("odeint: y0 has no array leaves; give at least one array as the state")
    dtype = jnp.result_type(*leaves)
    shapes = [np.shape(x) for x in leaves]
    sizes = [math.prod(s) for s in shapes]
    dtypes = [core.get_aval(x).dtype for x in leaves]
    flat = jnp.concatenate([jnp.ravel(jnp.asarray(x, dtype)) for x in leaves])

    def unravel(v: Any) -> Any:
        parts, start = [], 0
        for shape, size, dt in zip(shapes, sizes, dtypes):
            parts.append(jnp.reshape(v[start:start + size], shape).astype(dt))
            start += size
        return tree_unflatten(treedef, parts)

    return flat, unravel


# ---- the Dormand–Prince 5(4) pair -----------------------------------------------------------

# Nodes, stage weights, the 5th-order solution weights, and the difference between the 5th
# and the embedded 4th-order weights (the error estimate), from Dormand & Prince (1980).
_DP_C = np.array([0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0])
_DP_A = [
    np.array([1 / 5]),
    np.array([3 / 40, 9 / 40]),
    np.array([44 / 45, -56 / 15, 32 / 9]),
    np.array([19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729]),
    np.array([9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656]),
    np.array([35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84]),
]
_DP_B = np.array([35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0])
_DP_E = _DP_B - np.array([5179 / 57600, 0.0, 7571 / 16695, 393 / 640, -92097 / 339200,
                          187 / 2100, 1 / 40])
# Weights giving the solution at the middle of a step (Shampine, 1986), for dense output.
_DP_MID = 0.5 * np.array([6025192743 / 30085553152, 0.0, 51252292925 / 65400821598,
                          -2691868925 / 45128329728, 187940372067 / 1594534317056,
                          -1776094331 / 19743644256, 11237099 / 235043384])


def _rk_step(fun: Callable[[Any, Any], Any], y0: Any, f0: Any, t0: Any, dt: Any):
    """One Dormand–Prince step: the new state, its derivative, the error estimate and the
    seven stage derivatives (rows of ``k``)."""
    dtype = y0.dtype
    ks = [f0]
    for i, a in enumerate(_DP_A):
        yi = y0 + dt * jnp.tensordot(a.astype(dtype), jnp.stack(ks), axes=1)
        ks.append(fun(yi, t0 + dt * _DP_C[i + 1]))
    k = jnp.stack(ks)
    y1 = y0 + dt * jnp.tensordot(_DP_B[:6].astype(dtype), k[:6], axes=1)
    # With the FSAL property the 7th stage is f(y1, t0 + dt).
    err = dt * jnp.tensordot(_DP_E.astype(dtype), k, axes=1)
    return y1, k[6], err, k


def _dense_coeffs(y0: Any, y1: Any, k: Any, dt: Any) -> Any:
    """Coefficients (highest power first) of the quartic p on [0, 1] with p(0) = y0,
    p(1) = y1, p(1/2) = the midpoint solution, p'(0) = dt f0 and p'(1) = dt f1."""
    ym = y0 + dt * jnp.tensordot(_DP_MID.astype(y0.dtype), k, axes=1)
    d0, d1 = dt * k[0], dt * k[6]
    a = 16 * ym - 8 * (y0 + y1) + 2 * (d1 - d0)
    b = -32 * ym + 18 * y0 + 14 * y1 + 5 * d0 - 3 * d1
    c = 16 * ym - 11 * y0 - 5 * y1 - 4 * d0 + d1
    return jnp.stack([a, b, c, d0, y0])


def _polyval(coeffs: Any, s: Any) -> Any:
    out = coeffs[0]
    for i in range(1, 5):
        out = out * s + coeffs[i]
    return out


def _rms(x: Any) -> Any:
    return jnp.sqrt(jnp.mean(x * x))


def _initial_step(fun, t0, y0, f0, rtol, atol, order=4):
    """A first step size from the size of the state and of its first two derivatives
    (Hairer, Nørsett & Wanner, Solving ODEs I, Sec. II.4)."""
    scale = atol + jnp.abs(y0) * rtol
    d0 = jnp.linalg.norm(y0 / scale)
    d1 = jnp.linalg.norm(f0 / scale)
    h0 = jnp.where((d0 < 1e-5) | (d1 < 1e-5), 1e-6, 0.01 * d0 / jnp.where(d1 == 0, 1, d1))
    f1 = fun(y0 + h0 * f0, t0 + h0)
    d2 = jnp.linalg.norm((f1 - f0) / scale) / h0
    dmax = jnp.maximum(d1, d2)
    h1 = jnp.where(dmax <= 1e-15, jnp.maximum(1e-6, h0 * 1e-3),
                   (0.01 / jnp.where(dmax == 0, 1, dmax)) ** (1.0 / (order + 1)))
    return jnp.minimum(100 * h0, h1).astype(y0.dtype)


def _next_step(dt, ratio, safety=0.9, ifactor=10.0, dfactor=0.2, order=5):
    """The next step size from the error ratio of the last one: grow by at most `ifactor`,
    shrink by at most `dfactor` (and never shrink after an accepted step)."""
    dfactor = jnp.where(ratio < 1, 1.0, dfactor)
    safe = jnp.where(ratio == 0, 1, ratio)
    factor = jnp.minimum(ifactor, jnp.maximum(safe ** (-1.0 / order) * safety, dfactor))
    return jnp.where(ratio == 0, dt * ifactor, dt * factor)


def _solve_flat(fun, y0, ts, rtol, atol, mxstep, hmax):
    """The solution of ``y' = fun(y, t)`` (flat `y0`) at the times `ts`, stacked."""
    dtype = y0.dtype
    ts = jnp.asarray(ts, dtype)
    f0 = fun(y0, ts[0])
    dt0 = _initial_step(fun, ts[0], y0, f0, rtol, atol)
    coeffs0 = jnp.stack([jnp.zeros_like(y0)] * 4 + [y0])
    # Carry: (state, its derivative, time, step size, time of the last step's start,
    # dense-output coefficients of the last step, number of steps tried for this output).
    init = (y0, f0, ts[0], dt0, ts[0], coeffs0, jnp.asarray(0, np.int64))
    mxstep = float(mxstep)

    def step(carry):
        y, f, t, dt, last_t, coeffs, n = carry
        y1, f1, err, k = _rk_step(fun, y, f, t, dt)
        tol = atol + rtol * jnp.maximum(jnp.abs(y), jnp.abs(y1))
        ratio = _rms(err / tol)
        ok = ratio <= 1
        new_dt = jnp.clip(_next_step(dt, ratio), 0, hmax).astype(dtype)
        new_coeffs = _dense_coeffs(y, y1, k, dt)
        return (jnp.where(ok, y1, y), jnp.where(ok, f1, f), jnp.where(ok, t + dt, t), new_dt,
                jnp.where(ok, t, last_t), jnp.where(ok, new_coeffs, coeffs), n + 1)

    def to_target(carry, target):
        def not_there(c):
            return (c[2] < target) & (c[6] < mxstep)

        # As JAX, at most `mxstep` steps are tried per output time.
        carry = while_loop(not_there, step, (*carry[:6], jnp.zeros_like(carry[6])))
        _, _, t, _, last_t, coeffs, _ = carry
        s = (target - last_t) / jnp.where(t == last_t, 1, t - last_t)
        return carry, _polyval(coeffs, s.astype(dtype))

    _, ys = scan(to_target, init, ts[1:])
    return jnp.concatenate([y0[None], ys])


def _as_inexact(x: Any) -> Any:
    """`x` as an array of a floating dtype (integers become the default float, as NumPy)."""
    dtype = core.get_aval(x).dtype
    if jnp.issubdtype(dtype, jnp.inexact):
        return jnp.asarray(x)
    return jnp.asarray(x, jnp.result_type(float))


def _check_times(t: Any) -> None:
    aval = core.get_aval(t)
    if len(aval.shape) != 1 or aval.shape[0] < 1:
        raise ValueError(f"odeint: t must be a 1-D array of increasing times (at least one), "
                         f"got shape {aval.shape}")
    if not isinstance(t, core.Tracer) and np.any(np.diff(np.asarray(t)) < 0):
        raise ValueError("odeint: the times t must be increasing (non-decreasing), got "
                         f"{np.asarray(t)}")


def _solve(func, rtol, atol, mxstep, hmax, y0, ts, *args):
    flat_y0, unravel = _ravel(y0)

    def flat_fun(y, t):
        out, _ = _ravel(func(unravel(y), t, *args))
        return out.astype(flat_y0.dtype)

    ys = _solve_flat(flat_fun, flat_y0, ts, rtol, atol, mxstep, hmax)
    return _unravel_rows(ys, y0)


def _unravel_rows(ys: Any, y0: Any) -> Any:
    """Rebuild the pytree of stacked states from the rows of `ys` (one per time)."""
    leaves, treedef = tree_flatten(y0)
    out, start = [], 0
    for x in leaves:
        shape = np.shape(x)
        size = math.prod(shape)
        out.append(jnp.reshape(ys[:, start:start + size], (ys.shape[0], *shape)).astype(
            core.get_aval(x).dtype))
        start += size
    return tree_unflatten(treedef, out)


def _closure_convert(func: Callable[..., Any], y0: Any, t0: Any, args: tuple
                     ) -> tuple[Callable[..., Any], list[Any]]:
    """`func` with the traced values it closes over (from an enclosing grad, jvp or jit)
    made leading extra arguments, so that they are differentiated like `args`, as JAX's
    ``closure_convert``; `func` itself when it closes over none."""
    leaves, in_tree = tree_flatten((y0, t0, tuple(args)))
    out_tree: list[Any] = [None]

    def flat(*xs: Any) -> list[Any]:
        y, t, a = tree_unflatten(in_tree, list(xs))
        out, out_tree[0] = tree_flatten(func(y, t, *a))
        return out

    consts, closed = jaxprs.closure_convert(
        pe.trace_to_jaxpr(flat, [core.get_aval(x) for x in leaves]))
    if not consts:
        return func, []
    n, t_dtype = len(consts), core.get_aval(t0).dtype

    def converted(y: Any, t: Any, *rest: Any) -> Any:
        xs = tree_flatten((y, jnp.asarray(t, t_dtype), tuple(rest[n:])))[0]
        return tree_unflatten(out_tree[0], jaxprs.call(closed, *rest[:n], *xs))

    return converted, consts


def _adjoint(func, rtol, atol, mxstep, hmax, ys, ts, args, g):
    """The cotangents of (y0, ts, *args) given the solution `ys` at `ts` and its cotangent
    `g`: the adjoint system solved backwards between consecutive output times."""
    n = ts.shape[0]

    def at(tree, i):
        return tree_map(lambda x: x[i], tree)

    def aug_dynamics(state, s, *args):
        # The adjoint system in reversed time s = -t: the state runs backwards, the adjoint
        # a and the parameter cotangents accumulate a^T df/dy and a^T df/dargs.
        y, a, _ = state
        f, pullback = vjp(lambda y_, *p: func(y_, -s, *p), y, *args)
        a_dot, *args_dot = pullback(a)
        return (tree_map(jnp.negative, f), a_dot, tuple(args_dot))

    def dot(u, v):
        return sum(jnp.sum(x * y) for x, y in zip(tree_flatten(u)[0], tree_flatten(v)[0]))

    a = at(g, n - 1)
    args_bar = tree_map(jnp.zeros_like, tuple(args))
    ts_bar = [jnp.zeros_like(ts[0])] * n
    for i in range(n - 1, 0, -1):
        yi = at(ys, i)
        ts_bar[i] = dot(func(yi, ts[i], *args), at(g, i))
        span = -jnp.stack([ts[i], ts[i - 1]])
        # Through `_odeint`, not `_solve`: differentiating the adjoint solve (grad of grad,
        # hessian) then runs the adjoint method again, on the augmented system.
        out = _odeint(aug_dynamics, rtol, atol, mxstep, hmax, (yi, a, args_bar), span, *args)
        _, a, args_bar = at(out, 1)
        if i == 1:
            # The initial time moves every later output by -J f(y0, t0): its cotangent is
            # the adjoint before the first output's own cotangent is added.
            ts_bar[0] = -dot(func(at(ys, 0), ts[0], *args), a)
        a = tree_map(jnp.add, a, at(g, i - 1))
    t_bar = jnp.stack([jnp.asarray(x, ts.dtype) for x in ts_bar])
    return (a, t_bar, *args_bar)


# ---- derivatives ----------------------------------------------------------------------------
# `odeint` is a custom_jvp function whose tangent is `odeint_tangent_p`, a primitive linear in
# the tangents of (y0, ts, *args). Evaluated (forward mode), it differentiates through the
# solver; transposed (reverse mode), it runs the adjoint method. Its operands are the primal
# inputs, the solution (both residuals) and the input tangents, flattened.


def _tangent_parts(operands, n_in, n_out, in_tree, out_tree):
    y0, ts, args = tree_unflatten(in_tree, list(operands[:n_in]))
    ys = tree_unflatten(out_tree, list(operands[n_in:n_in + n_out]))
    return y0, ts, args, ys, operands[n_in + n_out:]


def _tangent_impl(*operands, func, rtol, atol, mxstep, hmax, n_in, n_out, in_tree, out_tree,
                  out_avals):
    y0, ts, args, _, lin = _tangent_parts(operands, n_in, n_out, in_tree, out_tree)
    ty0, tts, targs = tree_unflatten(in_tree, list(lin))

    def solve(y0, ts, *args):
        return _solve(func, rtol, atol, mxstep, hmax, y0, ts, *args)

    _, out_t = jvp(solve, (y0, ts, *args), (ty0, tts, *targs))
    return tree_flatten(out_t)[0]


def _tangent_transpose(cts, *operands, func, rtol, atol, mxstep, hmax, n_in, n_out, in_tree,
                       out_tree, out_avals):
    y0, ts, args, ys, lin = _tangent_parts(operands, n_in, n_out, in_tree, out_tree)
    g = tree_unflatten(out_tree, [np.zeros(a.shape, a.dtype) if type(c) is Zero else c
                                  for c, a in zip(cts, out_avals)])
    y0_bar, ts_bar, *args_bar = _adjoint(func, rtol, atol, mxstep, hmax, ys, ts, args, g)
    bars = tree_flatten((y0_bar, ts_bar, tuple(args_bar)))[0]
    return [None] * (n_in + n_out) + [
        jnp.asarray(b, x.aval.dtype) if is_undefined_primal(x) else None
        for b, x in zip(bars, lin)]


def _tangent_jvp(primals, tangents, **params):
    # Forward over forward: differentiate the forward-mode evaluation itself.
    ts = [_zeros_like_tangent(p) if type(t) is Zero else t for p, t in zip(primals, tangents)]
    outs, out_ts = jvp(lambda *ops: _tangent_impl(*ops, **params), tuple(primals), tuple(ts))
    return list(outs), list(out_ts)


def _zeros_like_tangent(x):
    return np.zeros(core.get_aval(x).shape, ad.tangent_aval(core.get_aval(x)).dtype)


def _tangent_batch(axis_size, vals, dims, **params):
    vals = [move_to_front(v, d, axis_size) for v, d in zip(vals, dims)]
    outs = vmap(lambda *ops: _tangent_impl(*ops, **params))(*vals)
    return outs, [0] * len(outs)


def _tangent_lower(ctx, *args, **params):
    # Under jit the forward-mode evaluation runs eagerly on the arrays (it is traced and
    # compiled the first time, like any funcdiff code it calls).
    return f"{ctx.const(functools.partial(_tangent_impl, **params), 'o')}({', '.join(args)})"


def _tangent_cost(avals_in, avals_out, **params):
    return cost_mod.ZERO.with_note("odeint: the tangent solve's steps are known only at run "
                                   "time and are not counted")


odeint_tangent_p = define_primitive(
    "odeint_tangent", multiple_results=True, impl=_tangent_impl,
    abstract_eval=lambda *avals, out_avals, **_: list(out_avals), jvp=_tangent_jvp,
    transpose=_tangent_transpose, batch=_tangent_batch, lower=_tangent_lower,
    cost=_tangent_cost,
)


def _odeint_rule(func, rtol, atol, mxstep, hmax, primals, tangents):
    y0, ts, *args = primals
    ty0, tts, *targs = tangents
    # The primal through `_odeint` itself, so that an enclosing derivative of this rule
    # (grad of grad) differentiates the solution by this rule again, never the solver's loop.
    ys = _odeint(func, rtol, atol, mxstep, hmax, y0, ts, *args)
    in_leaves, in_tree = tree_flatten((y0, ts, tuple(args)))
    t_leaves = tree_flatten((ty0, tts, tuple(targs)))[0]
    out_leaves, out_tree = tree_flatten(ys)
    out_avals = tuple(ad.tangent_aval(core.get_aval(x)) for x in out_leaves)
    out_t = odeint_tangent_p.bind(
        *in_leaves, *out_leaves, *t_leaves, func=func, rtol=rtol, atol=atol, mxstep=mxstep,
        hmax=hmax, n_in=len(in_leaves), n_out=len(out_leaves), in_tree=in_tree,
        out_tree=out_tree, out_avals=out_avals)
    return ys, tree_unflatten(out_tree, out_t)


_odeint = custom_jvp(_solve, nondiff_argnums=(0, 1, 2, 3, 4))
_odeint.defjvp(_odeint_rule)


def odeint(func: Callable[..., Any], y0: Any, t: Any, *args: Any, rtol: float = 1.4e-8,
           atol: float = 1.4e-8, mxstep: float = float("inf"), hmax: float = float("inf")
           ) -> Any:
    """Solve the initial value problem ``dy/dt = func(y, t, *args)``, ``y(t[0]) = y0``, and
    return the solution at the times `t`, as `jax.experimental.ode.odeint`.

    An adaptive Dormand–Prince 5(4) method (the method of SciPy's ``RK45``) with a
    4th-order dense output, written with funcdiff operations: it runs under `jit` and
    `vmap`. Reverse-mode derivatives (`grad`, `vjp`) with respect to `y0`, `t` and `args`
    use the adjoint method: the adjoint system is solved backwards between the output times
    with the same tolerances, and no step of the forward solve is stored; derivatives of
    those (`grad` of `grad`, `hessian`) apply the adjoint method to the adjoint solve. Forward mode
    (`jvp`, `jacfwd`), which JAX's `odeint` refuses, differentiates through the solver.
    Values `func` closes over are differentiated like `args` (as JAX's ``closure_convert``).

    **Arguments:**

    - `func`: the vector field ``func(y, t, *args)``, returning a pytree like `y`.
    - `y0`: the initial state, a pytree of arrays.
    - `t`: a 1-D array of increasing times; `t[0]` is the initial time.
    - `*args`: extra arguments of `func` (pytrees of arrays), differentiable.
    - `rtol`, `atol`: relative and absolute local error tolerances.
    - `mxstep`: the most steps tried to reach each output time (the remaining outputs
      are then the last dense-output value reached, as in JAX).
    - `hmax`: the largest step size.

    **Returns:** the solution, a pytree like `y0` whose leaves have a leading axis of length
    ``len(t)``.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp
        from funcdiff.experimental.ode import odeint

        def decay(y, t, k):
            return -k * y

        t = np.array([0.0, 1.0, 2.0])
        ys = odeint(decay, 1.0, t, 0.5)
        assert np.allclose(ys, np.exp(-0.5 * t), rtol=1e-6)
        # d y(2) / dk = -2 exp(-2k), by the adjoint method
        dk = funcdiff.grad(lambda k: odeint(decay, 1.0, t, k)[-1])(0.5)
        assert np.allclose(dk, -2 * np.exp(-1.0), rtol=1e-6)
        ```
    """
    if not callable(func):
        raise TypeError(f"odeint: func must be callable as func(y, t, *args), got "
                        f"{type(func).__name__}")
    t = _as_inexact(t)
    _check_times(t)
    y0 = tree_map(_as_inexact, y0)
    func, consts = _closure_convert(func, y0, t[0], args)
    return _odeint(func, rtol, atol, mxstep, hmax, y0, t, *consts, *args)


__all__ = ["odeint"]
