"""`custom_vjp`: a function with a user-defined VJP (a forward function saving residuals and
a backward function), its primitive `custom_vjp_call`, and `custom_lin`, the linear tangent
map that reverse mode transposes into the user's backward function."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.custom_calls import (
    _CALL_RULES,
    _call_batch,
    _call_custom,
    _closure_error,
    _CustomFunction,
    _Kind,
    _merge,
    _zeros_tangent,
)
from funcdiff._src.errors import FuncdiffTypeError
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.interpreters import staged_ad
from funcdiff._src.interpreters.ad import Zero, is_undefined_primal
from funcdiff._src.lax import _jaxprs as jaxprs
from funcdiff._src.lax._define import define_primitive
from funcdiff._src.tree_util import tree_flatten, tree_structure, tree_unflatten
from funcdiff._src.vmap import vmap

# ---- custom_vjp -----------------------------------------------------------------------------


# The tangent map of a custom_vjp function: linear in its tangent operands, transposed by the
# user's bwd. It has no forward evaluation (jvp of a custom_vjp function is not defined).


def _custom_lin_impl(*args: Any, num_res, bwd, out_avals, name):
    raise FuncdiffTypeError(
        f"can't apply forward-mode differentiation (jvp) to the custom_vjp function {name}; "
        "use reverse mode (grad, vjp), or define it with custom_jvp instead."
    )


def _custom_lin_transpose(cts, *args, num_res, bwd, out_avals, name):
    res = args[:num_res]
    cts = [np.zeros(a.shape, a.dtype) if type(c) is Zero else c for c, a in zip(cts, out_avals)]
    in_cts = bwd(res, cts)
    lin = args[num_res:]
    if len(in_cts) != len(lin):
        raise TypeError(
            f"custom_vjp bwd of {name} returned {len(in_cts)} cotangents for "
            f"{len(lin)} differentiable inputs"
        )
    out = [None] * num_res
    for i, (c, x) in enumerate(zip(in_cts, lin)):
        aval = x.aval if is_undefined_primal(x) else core.get_aval(x)
        if c is not None and core.get_aval(c).shape != aval.shape:
            raise TypeError(
                f"custom_vjp bwd of {name}: cotangent {i} has shape "
                f"{core.get_aval(c).shape}, the input has shape {aval.shape}"
            )
        out.append(c)
    return out


def _custom_lin_cost(avals_in, avals_out, *, num_res, bwd, out_avals, name):
    # What its transpose runs: the user's bwd, traced on the residuals and output cotangents.
    def run_bwd(*xs: Any) -> list[Any]:
        return [c for c in bwd(xs[:num_res], xs[num_res:]) if c is not None]

    try:
        traced = pe.trace_to_jaxpr(run_bwd, list(avals_in[:num_res]) + list(out_avals))
    except Exception:  # a bwd that cannot be traced is not counted
        return cost_mod.ZERO.with_note(
            f"custom_vjp {name}: its bwd rule could not be traced and is not counted"
        )
    return cost_mod.jaxpr_cost(traced)


# The tangent map of a custom_vjp function: linear in its tangent operands, transposed by the
# user's bwd. It has no forward evaluation (jvp of a custom_vjp function is not defined).
custom_lin_p = define_primitive(
    "custom_lin",
    multiple_results=True,
    impl=_custom_lin_impl,
    abstract_eval=lambda *avals, out_avals, **_: list(out_avals),
    transpose=_custom_lin_transpose,
    cost=_custom_lin_cost,
    lacks={
        "jvp": "it is only ever transposed (to the user's bwd), never differentiated: it is "
        "the linear half of a custom_vjp function in reverse mode",
        "batch": "reverse mode transposes it at once into the user's bwd, which vmap batches; "
        "evaluating it (forward mode of a custom_vjp function) is an error",
    },
)


def _custom_vjp_jvp(primals, tangents, *, call, fwd, bwd, num_consts, name):
    if any(type(t) is not Zero for t in tangents[:num_consts]):
        # The function closes over a value being differentiated (the staged form).
        raise _closure_error(
            name, "custom_vjp", next(p for p, t in zip(primals, tangents) if type(t) is not Zero)
        )
    args = primals[num_consts:]
    outs, res = fwd(args)
    ts = [_zeros_tangent(p) if type(t) is Zero else t for p, t in zip(args, tangents[num_consts:])]
    out_avals = tuple(core.get_aval(o) for o in outs)
    t_out = custom_lin_p.bind(*res, *ts, num_res=len(res), bwd=bwd, out_avals=out_avals, name=name)
    return list(outs), list(t_out)


def _batched_vjp_rules(fwd: Callable[..., Any], bwd: Callable[..., Any]):
    def batched_fwd(args):
        return vmap(lambda a: tuple(map(list, fwd(a))))(list(args))

    def batched_bwd(res, cts):
        return vmap(lambda r, c: list(bwd(r, c)))(list(res), list(cts))

    return batched_fwd, batched_bwd


def _batched_rules(fwd: Callable[..., Any], bwd: Callable[..., Any]) -> dict[str, Any]:
    return dict(zip(("fwd", "bwd"), _batched_vjp_rules(fwd, bwd)))


custom_vjp_call_p = define_primitive(
    "custom_vjp_call",
    **_CALL_RULES,
    jvp=_custom_vjp_jvp,
    batch=_call_batch(_batched_rules),
    lacks={
        "transpose": "its JVP emits custom_lin, whose transpose is the user's bwd; the "
        "call itself never appears in a linear program"
    },
)
# Run through a vmap whose named axis its program's collectives name, on any operands.
jaxprs.carrier(custom_vjp_call_p)
staged_ad.user_rules.add(custom_vjp_call_p)  # (its JVP rule runs the user's)


_VJP = _Kind("custom_vjp", custom_vjp_call_p, _batched_rules)


class custom_vjp(_CustomFunction):  # noqa: N801 - JAX's name
    """A function with a user-defined VJP, given by a forward function saving residuals and a
    backward function mapping output cotangents to input cotangents.

    As in JAX, calling it on plain values runs `fun` itself, and under `grad`/`vjp` its `fwd`
    runs on the primal values; `fun` is traced only when staged by `jit` or `make_jaxpr`.

    **Arguments:**

    - `fun`: the function.
    - `nondiff_argnums`: arguments that are not differentiated; they are passed first to
      ``bwd``.
    - `nondiff_argnames`: the same, by parameter name (combined with `nondiff_argnums`).
      Keyword arguments of a call are bound to their positions first, as in JAX.

    !!! Example
        ```python
        import funcdiff
        import funcdiff.numpy as jnp

        @funcdiff.custom_vjp
        def clip_gradient(x):
            return x

        def fwd(x):
            return x, None

        def bwd(res, g):
            return (jnp.clip(g, -1.0, 1.0),)

        clip_gradient.defvjp(fwd, bwd)
        assert funcdiff.grad(lambda x: 5.0 * clip_gradient(x))(2.0) == 1.0
        ```
    """

    kind = "custom_vjp"

    def __init__(
        self,
        fun: Callable[..., Any],
        nondiff_argnums: Sequence[int] = (),
        nondiff_argnames: Sequence[str] = (),
    ):
        super().__init__(fun, nondiff_argnums, nondiff_argnames)
        self.fwd: Callable[..., Any] | None = None
        self.bwd: Callable[..., Any] | None = None

    def defvjp(self, fwd: Callable[..., Any], bwd: Callable[..., Any]) -> None:
        """``fwd(*args) -> (out, residuals)``; ``bwd(*nondiff_args, residuals, cotangent)
        -> tuple`` with one cotangent per differentiable argument."""
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.fwd is None or self.bwd is None:
            raise AttributeError(
                f"No VJP defined for custom_vjp function {self.__name__}; use defvjp."
            )
        nondiff = self.nondiff_argnums
        static, dyn, leaves, in_tree, out_tree, flat_fun = self._flatten_call(args, kwargs)
        fwd_fn, bwd_fn, name = self.fwd, self.bwd, self.__name__
        res_tree: list[Any] = [None]

        def flat_fwd(primals: Sequence[Any]):
            fwd_out = fwd_fn(*_merge(static, tree_unflatten(in_tree, list(primals)), nondiff))
            if not isinstance(fwd_out, tuple) or len(fwd_out) != 2:
                raise TypeError(
                    f"custom_vjp fwd of {name} must return a pair (output, "
                    f"residuals), got {type(fwd_out).__name__}"
                )
            out_leaves, tree = tree_flatten(fwd_out[0])
            out_tree.set(tree, "fwd")
            res_leaves, res_tree[0] = tree_flatten(fwd_out[1])
            return out_leaves, res_leaves

        def flat_bwd(res: Sequence[Any], cts: Sequence[Any]):
            in_cts = bwd_fn(
                *static,
                tree_unflatten(res_tree[0], list(res)),
                tree_unflatten(out_tree.tree, list(cts)),
            )
            if isinstance(in_cts, list) and len(in_cts) == len(dyn):
                in_cts = tuple(in_cts)  # a list of one cotangent per argument, as JAX allows
            if not isinstance(in_cts, tuple):
                raise TypeError(
                    f"custom_vjp bwd of {name} must return a tuple with one "
                    f"cotangent per differentiable argument, got "
                    f"{type(in_cts).__name__}"
                )
            ct_leaves, tree = tree_flatten(in_cts, is_leaf=lambda x: x is None)
            expected = tree_structure(tuple(dyn))
            if len(ct_leaves) != expected.num_leaves:
                raise TypeError(
                    f"custom_vjp bwd of {name} returned cotangents of structure "
                    f"{tree}; the differentiable arguments have structure {expected}"
                )
            return ct_leaves

        outs = _call_custom(_VJP, flat_fun, {"fwd": flat_fwd, "bwd": flat_bwd}, leaves, name)
        return tree_unflatten(out_tree.tree, outs)


__all__ = ["custom_vjp"]
