"""`custom_gradient`: a function that returns its value together with its VJP, as
TensorFlow's `tf.custom_gradient` and JAX's `jax.custom_gradient`, built on `custom_vjp`.

The VJP function the user returns is a Python closure over the forward pass's intermediate
values. To carry it through `vmap`, `jit` and higher-order derivatives, the forward rule
traces it once on the output's cotangent shapes into a jaxpr: the values it closes over
become the residuals (arrays, which every transformation can carry), and the jaxpr and the
tree structures ride along as static data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from funcdiff._src import core
from funcdiff._src.custom_calls import resolve_kwargs
from funcdiff._src.custom_vjp import custom_vjp
from funcdiff._src.interpreters import ad
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.tree_util import register_pytree_node, tree_flatten, tree_unflatten


class _TracedVjp:
    """The user's VJP function, traced: `consts` (the values it closed over) are the pytree
    children, so that they travel as custom_vjp residuals; the jaxpr is static."""

    __slots__ = ("consts", "jaxpr", "ct_tree", "in_tree", "num_args")

    def __init__(
        self, consts: list[Any], jaxpr: core.Jaxpr, ct_tree: Any, in_tree: Any, num_args: int
    ):
        self.consts, self.jaxpr = consts, jaxpr
        self.ct_tree, self.in_tree, self.num_args = ct_tree, in_tree, num_args


register_pytree_node(
    _TracedVjp,
    lambda r: (r.consts, (r.jaxpr, r.ct_tree, r.in_tree, r.num_args)),
    lambda aux, consts: _TracedVjp(list(consts), *aux),
)


def _trace_vjp(name: str, rule: Callable[..., Any], out: Any, num_args: int) -> _TracedVjp:
    if not callable(rule):
        raise TypeError(
            f"custom_gradient function {name} must return a pair (value, vjp "
            f"function); its second element is a {type(rule).__name__}"
        )
    out_leaves, ct_tree = tree_flatten(out)
    in_tree: list[Any] = [None]

    def flat_rule(*cts: Any) -> list[Any]:
        leaves, in_tree[0] = tree_flatten(
            rule(tree_unflatten(ct_tree, list(cts))), is_leaf=lambda x: x is None
        )
        return leaves

    avals = [ad.tangent_aval(core.get_aval(x)) for x in out_leaves]
    closed = pe.trace_to_jaxpr(flat_rule, avals)
    j = closed.jaxpr
    # Every closed-over value becomes a leading input: a residual.
    jaxpr = core.Jaxpr([], list(j.constvars) + list(j.invars), j.eqns, j.outvars)
    return _TracedVjp(list(closed.consts), jaxpr, ct_tree, in_tree[0], num_args)


def _apply_vjp(name: str, traced: _TracedVjp, cts: Any) -> tuple[Any, ...]:
    ct_leaves, tree = tree_flatten(cts)
    if tree != traced.ct_tree:
        raise TypeError(
            f"custom_gradient function {name}: cotangent structure {tree} differs "
            f"from the output's {traced.ct_tree}"
        )
    out = core.eval_jaxpr(traced.jaxpr, [], *traced.consts, *ct_leaves)
    in_cts = tree_unflatten(traced.in_tree, out)
    num_args = traced.num_args
    if traced.in_tree.num_nodes == 1 and num_args == 1:  # a bare cotangent for one argument
        in_cts = (in_cts,)
    if not isinstance(in_cts, tuple) or len(in_cts) != num_args:
        got = type(in_cts).__name__ if not isinstance(in_cts, tuple) else f"{len(in_cts)} items"
        raise TypeError(
            f"custom_gradient function {name}: its VJP function must return a "
            f"tuple with one cotangent per argument ({num_args}), got {got}"
        )
    return in_cts


def custom_gradient(fun: Callable[..., tuple[Any, Callable[..., Any]]]) -> Callable[..., Any]:
    """Define a function's gradient together with its value, as `tf.custom_gradient`.

    `fun(*args)` returns a pair `(value, vjp)`, where `vjp(cotangent)` maps a cotangent of
    `value` to a tuple with one cotangent per argument (a single cotangent may be returned
    bare for a function of one argument). `vjp` may close over values computed on the way
    to `value`, which are saved for the backward pass; it must not branch in Python on them
    or on the cotangent, since it is traced on abstract values. The result is a
    [`custom_vjp`][funcdiff.custom_vjp] function that returns `value`, and works under
    `grad`, `vjp`, `jit`, `vmap` and higher-order reverse mode (if `vjp` is itself
    differentiable). Forward mode (`jvp`, `jacfwd`) is not defined for it, as in JAX.

    **Arguments:**

    - `fun`: a function returning `(value, vjp)`; its arguments are positional pytrees of
      arrays (keyword arguments are bound to their positions).

    **Returns:** a function with `fun`'s arguments that returns `value`.

    !!! Example
        ```python
        import funcdiff
        import funcdiff.numpy as jnp

        @funcdiff.custom_gradient
        def log1pexp(x):
            e = jnp.exp(x)
            return jnp.log1p(e), lambda g: (g * (1.0 - 1.0 / (1.0 + e)),)

        print(log1pexp(2.0), funcdiff.grad(log1pexp)(2.0))
        ```
    """
    name = getattr(fun, "__name__", "<function>")

    def value(*args: Any) -> Any:
        return _pair(fun(*args))[0]

    def fwd(*args: Any) -> tuple[Any, _TracedVjp]:
        out, rule = _pair(fun(*args))
        return out, _trace_vjp(name, rule, out, len(args))

    def bwd(traced: _TracedVjp, cts: Any) -> tuple[Any, ...]:
        return _apply_vjp(name, traced, cts)

    def _pair(result: Any) -> tuple[Any, Any]:
        if not isinstance(result, tuple) or len(result) != 2:
            raise TypeError(
                f"custom_gradient function {name} must return a pair (value, vjp "
                f"function), got {type(result).__name__}"
            )
        return result

    wrapped = custom_vjp(value)
    wrapped.__name__ = wrapped.__qualname__ = name
    wrapped.defvjp(fwd, bwd)

    def call(*args: Any, **kwargs: Any) -> Any:
        return wrapped(*resolve_kwargs(fun, args, kwargs, "custom_gradient"))

    call.__name__ = call.__qualname__ = name
    call.__doc__ = fun.__doc__
    call.__wrapped__ = fun  # type: ignore[attr-defined]
    return call
