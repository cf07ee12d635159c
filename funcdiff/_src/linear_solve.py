"""`lax.custom_linear_solve`: the solution of a linear system ``A x = b`` found by the user's
solver, differentiated without differentiating the solver (JAX's design).

The matrix is given as a function, `matvec` (``x ↦ A x``), which may close over traced values
(the entries of ``A``). The call is one primitive, `custom_linear_solve`, whose operands are
those closed-over values and ``b``, and whose parameter (`_Problem`) holds four staged
programs: `matvec`, its transpose `vecmat` (``y ↦ Aᵀ y``), `solve` and `transpose_solve`.
Its rules:

- JVP: ``x = A⁻¹ b`` gives ``dx = A⁻¹ (db - dA x)``: the same solve applied to a new
  right-hand side, with ``dA x`` the derivative of `matvec` in its closed-over values.
- Transpose (in ``b``, in which it is linear): ``Aᵀ`` is solved by `transpose_solve` with
  `vecmat`; it is the same primitive on the transposed problem.
- Batching: each program is batched on its own, and the batched call is the same primitive.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.api import jvp
from funcdiff._src.core import ClosedJaxpr, ShapedArray
from funcdiff._src.errors import PrimitiveError
from funcdiff._src.implicit import _flat_jaxpr
from funcdiff._src.interpreters import ad, batching
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.interpreters.ad import Zero, is_undefined_primal
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax._define import define_primitive
from funcdiff._src.lax.structural import move_to_front
from funcdiff._src.linear_transpose import linear_transpose
from funcdiff._src.tree_util import tree_flatten, tree_unflatten


@dataclasses.dataclass(frozen=True, eq=False)
class _Problem:
    """The staged programs of one linear solve and how many closed-over values each takes
    (the operands of the primitive are those values, program by program, then ``b``)."""

    matvec: ClosedJaxpr
    vecmat: ClosedJaxpr | None
    solve: ClosedJaxpr
    transpose_solve: ClosedJaxpr | None
    counts: tuple[int, int, int, int]
    n_b: int  # the solution's leaves; the solve's other outputs are its aux data

    def split(self, operands: Sequence[Any]) -> list[list[Any]]:
        """The operands as [matvec's, vecmat's, solve's, transpose_solve's, b]."""
        out, start = [], 0
        for n in self.counts:
            out.append(list(operands[start : start + n]))
            start += n
        return [*out, list(operands[start:])]

    def transposed(self) -> _Problem:
        mv, vm, s, ts = self.counts
        return _Problem(
            self.vecmat,
            self.matvec,
            self.transpose_solve,
            self.solve,  # type: ignore[arg-type]
            (vm, mv, ts, s),
            self.n_b,
        )

    def __repr__(self) -> str:
        return f"<linear solve of {self.n_b} arrays>"


def _run(j: ClosedJaxpr, consts: Sequence[Any], args: Sequence[Any]) -> list[Any]:
    return core.eval_jaxpr(j.jaxpr, j.consts, *consts, *args)


def _solve_impl(*operands: Any, problem: _Problem) -> list[Any]:
    _, _, c_s, _, b = problem.split(operands)
    return _run(problem.solve, c_s, b)


def _solve_aval(*avals: ShapedArray, problem: _Problem) -> list[ShapedArray]:
    b = avals[sum(problem.counts) :]
    x = problem.solve.out_avals[: problem.n_b]
    if [(a.shape, a.dtype) for a in b] != [(a.shape, a.dtype) for a in x]:
        raise PrimitiveError(
            "custom_linear_solve: the solve must return arrays shaped like b, "
            f"{[a.str_short() for a in b]}, got {[a.str_short() for a in x]}"
        )
    return [ShapedArray(a.shape, a.dtype) for a in problem.solve.out_avals]


def _zeros(x: Any) -> Any:
    aval = core.get_aval(x)
    return np.zeros(aval.shape, ad.tangent_aval(aval).dtype)


def _solve_jvp(primals: Sequence[Any], tangents: Sequence[Any], *, problem: _Problem):
    c_mv, c_vm, c_s, c_ts, b = problem.split(primals)
    t_mv, _, _, _, t_b = problem.split(tangents)
    outs = custom_linear_solve_p.bind(*primals, problem=problem)
    x, aux = outs[: problem.n_b], outs[problem.n_b :]
    rhs = [_zeros(p) if type(t) is Zero else t for p, t in zip(b, t_b)]
    if any(type(t) is not Zero for t in t_mv):
        # d(A x) in A's closed-over values, at the solution: dx = A⁻¹ (db - dA x)
        t_mv = [_zeros(p) if type(t) is Zero else t for p, t in zip(c_mv, t_mv)]
        _, dax = jvp(lambda *c: _run(problem.matvec, c, x), tuple(c_mv), tuple(t_mv))
        rhs = [ew.sub(r, d) for r, d in zip(rhs, dax)]
    dx = custom_linear_solve_p.bind(*c_mv, *c_vm, *c_s, *c_ts, *rhs, problem=problem)
    return outs, [*dx[: problem.n_b], *[_zeros(a) for a in aux]]


def _solve_transpose(cts: Sequence[Any], *operands: Any, problem: _Problem) -> list[Any]:
    c_mv, c_vm, c_s, c_ts, b = problem.split(operands)
    if any(is_undefined_primal(c) for c in (*c_mv, *c_vm, *c_s, *c_ts)):
        raise NotImplementedError(
            "custom_linear_solve is linear in b only, not in the values matvec closes over"
        )
    if problem.transpose_solve is None:
        raise NotImplementedError(
            "custom_linear_solve: reverse mode (grad, vjp) needs the transposed solve: pass "
            "transpose_solve=..., or symmetric=True when the matrix is symmetric"
        )
    if all(type(c) is Zero for c in cts[: problem.n_b]):
        return [None] * len(operands)
    ct_x = [
        np.zeros(a.shape, a.dtype) if type(c) is Zero else c
        for c, a in zip(cts[: problem.n_b], problem.solve.out_avals)
    ]
    ct_b = custom_linear_solve_p.bind(
        *c_vm, *c_mv, *c_ts, *c_s, *ct_x, problem=problem.transposed()
    )
    # a known part of b is a constant term: it gets no cotangent
    ct_b = [c if is_undefined_primal(x) else None for c, x in zip(ct_b[: problem.n_b], b)]
    return [None] * sum(problem.counts) + ct_b


def _batch_program(j: ClosedJaxpr | None, const_dims: Sequence[Any], size: int):
    """`j` (closed-over values, then inputs) mapped over a batch: the values batched along
    `const_dims` (None: shared), the inputs along their first axis."""
    if j is None:
        return None
    n_in = len(j.in_avals) - len(const_dims)
    avals = [
        ShapedArray((*a.shape[:d], size, *a.shape[d:]), a.dtype) if d is not None else a
        for a, d in zip(j.in_avals, (*const_dims, *[0] * n_in))
    ]
    run = lambda *args: core.eval_jaxpr(j.jaxpr, j.consts, *args)
    in_dims = [*const_dims, *[0] * n_in]

    def mapped(*args: Any) -> list[Any]:
        # on the axis of the rule running now, so that collectives in the solver see it
        outs, dims = batching.vmap_flat(run, args, in_dims, size)
        return [move_to_front(o, d, size) for o, d in zip(outs, dims)]

    return pe.trace_to_jaxpr(mapped, avals)


def _solve_batch(axis_size: int, vals: Sequence[Any], dims: Sequence[Any], *, problem: _Problem):
    consts = problem.split(list(zip(vals, dims)))
    jaxprs = (problem.matvec, problem.vecmat, problem.solve, problem.transpose_solve)
    batched = [_batch_program(j, [d for _, d in c], axis_size) for j, c in zip(jaxprs, consts)]
    new = _Problem(*batched, problem.counts, problem.n_b)
    b = [move_to_front(v, d, axis_size) for v, d in consts[4]]
    outs = custom_linear_solve_p.bind(*vals[: sum(problem.counts)], *b, problem=new)
    return outs, [0] * len(outs)


def _solve_lower(ctx: Any, *args: str, problem: _Problem) -> str:
    # Under jit the user's solve runs as it was staged (its own primitives, evaluated).
    return f"{ctx.const(functools.partial(_solve_impl, problem=problem), 'o')}({', '.join(args)})"


def _solve_cost(avals_in, avals_out, *, problem: _Problem) -> cost_mod.Cost:
    return cost_mod.jaxpr_cost(problem.solve)


custom_linear_solve_p = define_primitive(
    "custom_linear_solve",
    multiple_results=True,
    impl=_solve_impl,
    abstract_eval=_solve_aval,
    jvp=_solve_jvp,
    transpose=_solve_transpose,
    batch=_solve_batch,
    lower=_solve_lower,
    cost=_solve_cost,
)


def _check_like_b(what: str, b_tree: Any, b_avals: list, tree: Any, avals: Sequence) -> None:
    if tree != b_tree or [(a.shape, a.dtype) for a in avals] != [
        (a.shape, a.dtype) for a in b_avals
    ]:
        raise TypeError(
            f"custom_linear_solve: {what} must return arrays shaped like b ({b_tree}, "
            f"{[a.str_short() for a in b_avals]}), got {tree}, "
            f"{[a.str_short() for a in avals]}"
        )


def custom_linear_solve(
    matvec: Callable[[Any], Any],
    b: Any,
    solve: Callable[[Callable, Any], Any],
    transpose_solve: Callable[[Callable, Any], Any] | None = None,
    symmetric: bool = False,
    has_aux: bool = False,
) -> Any:
    """The solution ``x`` of ``matvec(x) = b`` computed by ``solve(matvec, b)``, differentiated
    implicitly: the derivative goes through further linear solves, never through the solver's
    iterations (which may be a `while_loop`). `matvec` is linear and may close over traced
    values (the matrix); derivatives flow to them and to `b`.

    - Forward mode: ``dx = solve(matvec, db - dmatvec(x))``.
    - Reverse mode needs ``transpose_solve(vecmat, b)``, which solves the transposed system
      with ``vecmat``, the transpose of `matvec` (made with `linear_transpose`); with
      `symmetric=True`, `solve` serves for both.
    - With `has_aux`, `solve` (and `transpose_solve`) return ``(x, aux)``; `aux` gets no
      derivative.

    `b` and ``x`` are pytrees of arrays of one structure. Under `vmap`, each program is
    batched, and the result is the same linear solve on the batch.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp
        from funcdiff import lax

        def solve_with(a, b):
            matvec = lambda x: a @ x
            dense = lambda mv, rhs: jnp.linalg.solve(funcdiff.jacfwd(mv)(rhs), rhs)
            return lax.custom_linear_solve(matvec, b, dense, symmetric=True)

        a = np.array([[4.0, 1.0], [1.0, 3.0]])
        b = np.array([1.0, 2.0])
        print(solve_with(a, b), np.linalg.solve(a, b))
        loss = lambda a, b: jnp.sum(solve_with(a, b) ** 2)
        print(funcdiff.grad(loss, argnums=1)(a, b))
        ```
    """
    b_leaves, b_tree = tree_flatten(b)
    b_avals = [core.get_aval(x) for x in b_leaves]
    c_mv, mv, _, mv_tree = _flat_jaxpr(matvec, (b,), "custom_linear_solve")
    _check_like_b("matvec", b_tree, b_avals, mv_tree, mv.out_avals)

    def staged_solve(fn: Callable, mat: Callable, what: str):
        def call(rhs: Any) -> Any:
            out = fn(mat, rhs)
            if has_aux and not (isinstance(out, tuple) and len(out) == 2):
                raise TypeError(f"custom_linear_solve: with has_aux, {what} must return (x, aux)")
            return out

        c, j, _, tree = _flat_jaxpr(call, (b,), "custom_linear_solve")
        x_tree = tree.children()[0] if has_aux else tree
        _check_like_b(what, b_tree, b_avals, x_tree, j.out_avals[: len(b_leaves)])
        return c, j, tree

    c_s, sj, out_tree = staged_solve(solve, matvec, "solve")
    if symmetric:
        c_vm, vm, c_ts, tsj = c_mv, mv, c_s, sj
    elif transpose_solve is not None:
        transposed = linear_transpose(matvec, b)
        vecmat = lambda y: transposed(y)[0]
        c_vm, vm, _, _ = _flat_jaxpr(vecmat, (b,), "custom_linear_solve")
        c_ts, tsj, _ = staged_solve(transpose_solve, vecmat, "transpose_solve")
    else:
        c_vm, vm, c_ts, tsj = [], None, [], None
    problem = _Problem(mv, vm, sj, tsj, (len(c_mv), len(c_vm), len(c_s), len(c_ts)), len(b_leaves))
    outs = custom_linear_solve_p.bind(*c_mv, *c_vm, *c_s, *c_ts, *b_leaves, problem=problem)
    return tree_unflatten(out_tree, outs)
