"""Implicit differentiation: `closure_convert`, which makes a function's traced closure explicit
arguments, and `custom_root`, whose derivative comes from the implicit function theorem
instead of from differentiating the solver's iterations (JAX's `lax.custom_root`).
`custom_linear_solve` is in `linear_solve.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from funcdiff._src import core, errors
from funcdiff._src.api import jvp
from funcdiff._src.custom_calls import _zeros_tangent
from funcdiff._src.custom_jvp import custom_jvp
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.lax import _jaxprs as jaxprs
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.tree_util import tree_flatten, tree_unflatten


def _flat_jaxpr(fun: Callable[..., Any], args: tuple, what: str):
    """`fun` staged on the shapes of `args` (a tuple of pytrees), its traced constants moved to
    leading inputs: returns (those constants, the jaxpr, the input and output structures)."""
    leaves, in_tree = tree_flatten(args)
    store: list[Any] = [None]

    def flat(*xs: Any) -> list[Any]:
        out, store[0] = tree_flatten(fun(*tree_unflatten(in_tree, list(xs))))
        return out

    avals = [core.get_aval(x) for x in leaves]
    consts, closed = jaxprs.closure_convert(pe.trace_to_jaxpr(flat, avals))
    return consts, closed, in_tree, store[0]


def closure_convert(fun: Callable[..., Any], *example_args: Any) -> tuple[Callable, list]:
    """`fun` with the traced values it closes over (values of an enclosing `jit`, `grad`,
    `vmap`...) turned into explicit trailing arguments: returns ``(converted, consts)`` with
    ``converted(*args, *consts) == fun(*args)``. Functions with custom derivative rules
    (`custom_vjp`) cannot close over values being differentiated; this makes them arguments
    that the rule sees. Only the shapes and dtypes of `example_args` are used.

    !!! Example
        ```python
        import funcdiff

        def outer(w):
            f = lambda x: w * x ** 2  # closes over w, traced by grad
            converted, consts = funcdiff.closure_convert(f, 1.0)
            return converted(3.0, *consts)

        print(outer(2.0), funcdiff.grad(outer)(2.0))
        ```
    """
    errors.check_callable(fun, "closure_convert")
    consts, closed, in_tree, out_tree = _flat_jaxpr(fun, example_args, "closure_convert")
    n = len(example_args)

    def converted(*args: Any) -> Any:
        leaves, tree = tree_flatten(args[:n])
        if tree != in_tree or len(args) != n + len(consts):
            raise TypeError(
                f"closure_convert: the converted function takes arguments like {in_tree} "
                f"followed by {len(consts)} constants, got {len(args)} arguments "
                f"structured {tree}"
            )
        outs = core.eval_jaxpr(closed.jaxpr, closed.consts, *args[n:], *leaves)
        return tree_unflatten(out_tree, outs)

    return converted, list(consts)


# ---- custom_root ----------------------------------------------------------------------------


def _same_structure(what: str, expected: Any, got: Any) -> None:
    if expected != got:
        raise TypeError(
            f"custom_root: {what} must have the structure of initial_guess, {expected}, got {got}"
        )


def custom_root(
    f: Callable[[Any], Any],
    initial_guess: Any,
    solve: Callable[[Callable, Any], Any],
    tangent_solve: Callable[[Callable, Any], Any],
    has_aux: bool = False,
) -> Any:
    """The root ``x`` of ``f(x) = 0`` that ``solve(f, initial_guess)`` finds, differentiated
    implicitly: with ``f(x*, θ) = 0``, the derivative of ``x*`` with respect to the values
    ``θ`` that `f` closes over is ``-(∂f/∂x)⁻¹ ∂f/∂θ``, found by
    ``tangent_solve(g, y)``, which solves the linear system ``g(t) = y`` where `g` is
    ``t ↦ ∂f/∂x · t`` at the root. The solver's iterations are never differentiated (they
    may be a `while_loop`), and the root does not depend on `initial_guess`. For reverse mode
    `tangent_solve` must be linear in `y` with a transpose (a division by a known value, a
    `jnp.linalg.solve` with a known matrix, `lax.custom_linear_solve`...).

    `initial_guess` and the root are pytrees of one structure; `f` maps such a pytree to one.
    With `has_aux`, `solve` returns ``(root, aux)``, and `aux` gets no derivative.

    !!! Example
        ```python
        import funcdiff
        from funcdiff import lax

        def sqrt_newton(a):
            f = lambda x: x * x - a
            def newton(f, x0):
                step = lambda x: x - f(x) / (2 * x)
                return lax.fori_loop(0, 30, lambda i, x: step(x), x0)
            scalar_solve = lambda g, y: y / g(1.0)
            return lax.custom_root(f, 1.0, newton, scalar_solve)

        print(sqrt_newton(2.0), funcdiff.grad(sqrt_newton)(2.0))  # d sqrt(a)/da = 0.5/sqrt(a)
        ```
    """
    guess, guess_tree = tree_flatten(initial_guess)
    theta, f_jaxpr, _, f_out_tree = _flat_jaxpr(f, (initial_guess,), "custom_root")
    _same_structure("f's output", guess_tree, f_out_tree)

    def f_flat(theta: Sequence[Any], x: Sequence[Any]) -> list[Any]:
        return core.eval_jaxpr(f_jaxpr.jaxpr, f_jaxpr.consts, *theta, *x)

    def run_solve(x0: Any) -> Any:
        out = solve(f, x0)
        root, aux = out if has_aux else (out, None)
        _same_structure("the root solve returns", guess_tree, tree_flatten(root)[1])
        return root, aux

    def linear_solve(theta: list[Any], x: Any, y: Any) -> Any:
        """tangent_solve with the linearization of f at x, in x."""
        x = tree_flatten(x)[0]
        g = lambda t: tree_unflatten(
            guess_tree, jvp(lambda x_: f_flat(theta, x_), (x,), (tree_flatten(t)[0],))[1]
        )
        out = tangent_solve(g, y)
        _same_structure("tangent_solve's result", guess_tree, tree_flatten(out)[1])
        return out

    # The solvers may close over traced values too (f's among them): they become arguments
    # of `root`, which gives them no derivative (the root depends on them only through f).
    c_s, s_jaxpr, _, out_tree = _flat_jaxpr(run_solve, (initial_guess,), "custom_root")
    c_l, l_jaxpr, _, _ = _flat_jaxpr(
        linear_solve, (list(theta), initial_guess, initial_guess), "custom_root"
    )
    n = len(guess)

    @custom_jvp
    def root(theta: list[Any], c_s: list[Any], c_l: list[Any], x0: list[Any]) -> list[Any]:
        return core.eval_jaxpr(s_jaxpr.jaxpr, s_jaxpr.consts, *c_s, *x0)

    @root.defjvp
    def root_jvp(primals: tuple, tangents: tuple) -> tuple[Any, Any]:
        theta, c_s, c_l, x0 = primals
        outs = root(theta, c_s, c_l, x0)
        x = outs[:n]
        # f(x*(θ), θ) = 0, so ∂f/∂x · dx = -∂f/∂θ · dθ
        _, rhs = jvp(lambda th: f_flat(th, x), (theta,), (tangents[0],))
        dx = core.eval_jaxpr(l_jaxpr.jaxpr, l_jaxpr.consts, *c_l, *theta, *x, *rhs)
        return outs, [ew.neg(d) for d in dx] + [_zeros_tangent(a) for a in outs[n:]]

    outs = root(list(theta), list(c_s), list(c_l), guess)
    solution, aux = tree_unflatten(out_tree, outs)
    return (solution, aux) if has_aux else solution
