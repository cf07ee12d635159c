"""`custom_jvp`: a function with a user-defined JVP rule, and its primitive
`custom_jvp_call`, which carries the traced function and the rule so that every
transformation can see them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from funcdiff._src.custom_calls import (
    _CALL_RULES,
    _call_batch,
    _call_custom,
    _check_tangents_out,
    _closure_error,
    _CustomFunction,
    _Kind,
    _zeros_tangent,
)
from funcdiff._src.interpreters import staged_ad
from funcdiff._src.interpreters.ad import Zero
from funcdiff._src.lax import _jaxprs as jaxprs
from funcdiff._src.lax._define import define_primitive
from funcdiff._src.tree_util import tree_flatten, tree_map, tree_unflatten
from funcdiff._src.vmap import vmap

# ---- custom_jvp -----------------------------------------------------------------------------


def _custom_jvp_rule(primals, tangents, *, call, jvp, num_consts, name):
    if any(type(t) is not Zero for t in tangents[:num_consts]):
        # The function closes over a value being differentiated (the staged form).
        raise _closure_error(
            name, "custom_jvp", next(p for p, t in zip(primals, tangents) if type(t) is not Zero)
        )
    args = primals[num_consts:]
    ts = [_zeros_tangent(p) if type(t) is Zero else t for p, t in zip(args, tangents[num_consts:])]
    outs, out_ts = jvp(args, ts)
    if call is not None and len(outs) != len(call.out_avals):
        raise TypeError(
            f"custom_jvp rule of {name} returned {len(outs)} primal outputs; the "
            f"function has {len(call.out_avals)}"
        )
    _check_tangents_out(name, outs, out_ts)
    return list(outs), list(out_ts)


def _batched_jvp(jvp: Callable[..., Any]) -> Callable[..., Any]:
    return vmap(lambda p, t: tuple(map(list, jvp(p, t))))


def _batched_rules(jvp: Callable[..., Any]) -> dict[str, Any]:
    return {"jvp": _batched_jvp(jvp)}


custom_jvp_call_p = define_primitive(
    "custom_jvp_call",
    **_CALL_RULES,
    jvp=_custom_jvp_rule,
    batch=_call_batch(_batched_rules),
    lacks={
        "transpose": "its JVP rule (the user's) gives the tangents with other primitives, "
        "so it never appears in a linear program"
    },
)
# Run through a vmap whose named axis its program's collectives name, on any operands.
jaxprs.carrier(custom_jvp_call_p)
staged_ad.user_rules.add(custom_jvp_call_p)  # (its JVP rule runs the user's)


_JVP = _Kind("custom_jvp", custom_jvp_call_p, _batched_rules)


class custom_jvp(_CustomFunction):  # noqa: N801 - JAX's name
    """A function with a user-defined JVP rule, used by every transformation (reverse mode
    transposes the rule, so it must be linear in the tangents).

    As in JAX, calling it on plain values runs `fun` itself (so Python control flow on the
    values works), and under `jvp`/`grad` the rule runs on the primal values; `fun` is traced
    only when staged by `jit` or `make_jaxpr`.

    **Arguments:**

    - `fun`: the function.
    - `nondiff_argnums`: arguments that are not differentiated (passed first to the rule).
    - `nondiff_argnames`: the same, by parameter name (combined with `nondiff_argnums`).
      Keyword arguments of a call are bound to their positions first, as in JAX.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        @funcdiff.custom_jvp
        def log1pexp(x):
            return jnp.log1p(jnp.exp(x))

        @log1pexp.defjvp
        def log1pexp_jvp(primals, tangents):
            (x,), (t,) = primals, tangents
            return log1pexp(x), t * funcdiff.nn.sigmoid(x)

        with np.errstate(over="ignore"):  # exp(1000.0) overflows in the primal
            assert funcdiff.grad(log1pexp)(1000.0) == 1.0  # the naive gradient is nan
        ```
    """

    kind = "custom_jvp"

    def __init__(
        self,
        fun: Callable[..., Any],
        nondiff_argnums: Sequence[int] = (),
        nondiff_argnames: Sequence[str] = (),
    ):
        super().__init__(fun, nondiff_argnums, nondiff_argnames)
        self.jvp: Callable[..., Any] | None = None

    def defjvp(self, jvp: Callable[..., Any]) -> Callable[..., Any]:
        """Set the rule ``jvp(primals, tangents) -> (primal_out, tangent_out)`` (with
        `nondiff_argnums`, ``jvp(*nondiff_args, primals, tangents)``)."""
        self.jvp = jvp
        return jvp

    def defjvps(self, *jvps: Callable[..., Any] | None) -> None:
        """Set one rule per argument, ``jvp_i(t_i, primal_out, *primals)``, giving that
        argument's contribution to the output tangent (None: no dependence)."""

        def jvp(primals: tuple, tangents: tuple) -> tuple[Any, Any]:
            out = self(*primals)
            total = None
            for rule, t in zip(jvps, tangents):
                if rule is None:
                    continue
                contribution = rule(t, out, *primals)
                total = (
                    contribution
                    if total is None
                    else tree_map(lambda a, b: a + b, total, contribution)
                )
            if total is None:
                total = tree_map(lambda o: _zeros_tangent(o), out)
            return out, total

        self.defjvp(jvp)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.jvp is None:
            raise AttributeError(
                f"No JVP defined for custom_jvp function {self.__name__}; use defjvp."
            )
        name, rule = self.__name__, self.jvp
        static, _, leaves, in_tree, out_tree, flat_fun = self._flatten_call(args, kwargs)

        def flat_jvp(primals: Sequence[Any], tangents: Sequence[Any]):
            p = tree_unflatten(in_tree, list(primals))
            t = tree_unflatten(in_tree, list(tangents))
            pair = rule(*static, p, t) if static else rule(p, t)
            if not (isinstance(pair, tuple | list) and len(pair) == 2):
                got = f"a {type(pair).__name__}" + (
                    f" of length {len(pair)}" if isinstance(pair, tuple | list) else "")
                raise TypeError(
                    f"custom_jvp rule of {name} must return a pair (primal_out, tangent_out), "
                    f"got {got}"
                )
            out, out_t = pair
            out_leaves, tree1 = tree_flatten(out)
            t_leaves, tree2 = tree_flatten(out_t)
            if tree1 != tree2:
                raise TypeError(
                    f"custom_jvp rule of {name} must return (primal_out, tangent_out) of the "
                    f"same structure; got {tree1} and {tree2}"
                )
            out_tree.set(tree1, "rule")
            return out_leaves, t_leaves

        outs = _call_custom(_JVP, flat_fun, {"jvp": flat_jvp}, leaves, name)
        return tree_unflatten(out_tree.tree, outs)


__all__ = ["custom_jvp"]
