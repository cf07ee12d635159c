"""User-defined derivative rules (`custom_jvp`, `custom_vjp`) and rematerialisation
(`checkpoint`), each a primitive carrying the traced function so that every transformation
can see it."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from funcdiff._src import core
from funcdiff._src.core import ClosedJaxpr, Jaxpr, JaxprEqn, ShapedArray, Var
from funcdiff._src.errors import FuncdiffTypeError, UnexpectedTracerError
from funcdiff._src.interpreters import ad, batching
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters import lowering_rules as lowering
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.interpreters.ad import Zero, is_undefined_primal
from funcdiff._src.lax import _jaxprs as jaxprs
from funcdiff._src.lax.structural import move_to_front
from funcdiff._src.tree_util import tree_flatten, tree_map, tree_structure, tree_unflatten
from funcdiff._src.vmap import vmap

# ---- shared helpers -------------------------------------------------------------------------


def _split_nondiff(args: tuple, nondiff: tuple[int, ...]) -> tuple[list[Any], list[Any]]:
    static = [args[i] for i in nondiff]
    dyn = [a for i, a in enumerate(args) if i not in nondiff]
    return static, dyn


def _merge(static: Sequence[Any], dyn: Sequence[Any], nondiff: tuple[int, ...]) -> list[Any]:
    out, s, d = [], iter(static), iter(dyn)
    for i in range(len(static) + len(dyn)):
        out.append(next(s) if i in nondiff else next(d))
    return out


def _trace(fun: Callable[..., Any], in_tree: Any, avals: Sequence[ShapedArray]):
    store: list[Any] = [None]

    def flat(*leaves: Any) -> list[Any]:
        out, store[0] = tree_flatten(fun(*tree_unflatten(in_tree, leaves)))
        return out

    consts, closed = jaxprs.closure_convert(pe.trace_to_jaxpr(flat, avals))
    return consts, closed, store[0]


def _zeros_tangent(x: Any) -> Any:
    aval = core.get_aval(x)
    return np.zeros(aval.shape, ad.tangent_aval(aval).dtype)


def _innermost(args: Sequence[Any]) -> core.MainTrace:
    """The transformation that owns the call, chosen as `Primitive.bind` chooses: the
    innermost one among the arguments' tracers and the staging trace."""
    top = core._state.dynamic
    for a in args:
        if isinstance(a, core.Tracer):
            main = a._trace.main
            if main.level >= top.level:
                if not main.alive:
                    raise core._leaked_tracer_error(a)
                top = main
    return top


def _trace_of(main: core.MainTrace) -> core.Trace:
    if main.trace is None:
        main.trace = main.trace_type(main)
    return main.trace


def _own(main: core.MainTrace, x: Any) -> bool:
    return isinstance(x, core.Tracer) and x._trace.main is main


def _closure_error(name: str, kind: str, x: Any) -> UnexpectedTracerError:
    return UnexpectedTracerError(
        f"The {kind} function {name} closes over the value {core.get_aval(x).str_short()} "
        "that an enclosing jvp/grad is differentiating (a leaked tracer, as in JAX): its rule "
        "cannot account for that value's derivative. Pass the value as an argument of the "
        f"{kind} function (listing it in nondiff_argnums if it is not differentiated)."
        + core._at_user_line()
    )


def _check_no_closure(name: str, kind: str, outs: Sequence[Any], main: Any = None) -> None:
    """Outputs computed from plain values must not carry a derivative of an enclosing
    transformation (`main`'s, or any jvp's when None): the function closed over it."""
    for x in outs:
        if main is None and isinstance(x, ad.JVPTracer) or main is not None and _own(main, x):
            raise _closure_error(name, kind, x)


def _unpack_jvp(main: core.MainTrace, args: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    primals = [a.primal if _own(main, a) else a for a in args]
    tangents = [a.tangent if _own(main, a) else Zero(ad.tangent_aval(core.get_aval(a)))
                for a in args]
    return primals, tangents


def _unpack_batch(main: core.MainTrace, args: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    return ([a.val if _own(main, a) else a for a in args],
            [a.bdim if _own(main, a) else None for a in args])


def _batch_outputs(main: core.MainTrace, outs: list[Any], fun: Callable[..., list[Any]],
                   args: Sequence[Any]) -> list[Any]:
    """The outputs of a custom function vmapped on its own (batch-first) as tracers of the
    vmap `main`. A function that closes over a value batched by this same vmap is instead
    evaluated on it directly (its result is right, but derivatives taken outside the vmap
    then go through the function, not its rule)."""
    if any(_own(main, o) for o in outs):
        return fun(*args)
    trace = _trace_of(main)
    return [batching.BatchTracer(trace, o, 0) for o in outs]


def _check_tangents_out(name: str, outs: Sequence[Any], out_ts: Sequence[Any]) -> None:
    """As JAX: each tangent output has the shape and tangent dtype of its primal output."""
    for i, (p, t) in enumerate(zip(outs, out_ts)):
        pa = core.get_aval(p).strip_weak_type()
        expected = ad.tangent_aval(pa)
        ta = core.get_aval(t).strip_weak_type()
        if ta.shape != expected.shape or ta.dtype != expected.dtype:
            raise TypeError(
                f"custom_jvp rule of {name}: tangent output {i} is {ta.str_short()}, but the "
                f"primal output is {pa.str_short()}, whose tangent type is "
                f"{expected.str_short()}; a rule must return tangents of the primal outputs' "
                "shapes and tangent dtypes (a float0 zero for an integer output)."
            )


def _call_impl(*args: Any, call: ClosedJaxpr, **_: Any) -> list[Any]:
    return jaxprs.call(call, *args)


def _call_abstract(*avals: ShapedArray, call: ClosedJaxpr, **_: Any) -> list[ShapedArray]:
    return call.out_avals


def _call_lower(ctx: lowering.LoweringContext, *args: str, call: ClosedJaxpr, **_: Any) -> str:
    return f"{ctx.const(jaxprs.compiled(call).fn, 'j')}({', '.join(args)})"


def _call_cost(avals_in: Any, avals_out: Any, *, call: ClosedJaxpr, **_: Any) -> cost_mod.Cost:
    # Evaluating a function with custom derivatives runs the function itself.
    return cost_mod.jaxpr_cost(call)


# ---- custom_jvp -----------------------------------------------------------------------------
# A custom_jvp function is processed by the transformation that owns its arguments, as in JAX:
# called on plain values it runs the Python function; under jvp/grad its rule runs on the
# primals (concrete ones when the primals are); under vmap the function and its rule are
# vmapped; only when staged (jit, make_jaxpr) is it traced, into a `custom_jvp_call` equation
# that carries the jaxpr of the function and the rule for later transformations.

custom_jvp_call_p = core.Primitive("custom_jvp_call", multiple_results=True)
custom_jvp_call_p.def_impl(_call_impl)
custom_jvp_call_p.def_abstract_eval(_call_abstract)
lowering.register(custom_jvp_call_p, _call_lower)
lowering.inlinable_calls[custom_jvp_call_p] = "call"
cost_mod.cost_rules[custom_jvp_call_p] = _call_cost


def _custom_jvp_rule(primals, tangents, *, call, jvp, num_consts, name):
    if any(type(t) is not Zero for t in tangents[:num_consts]):
        # The function closes over a value being differentiated (the staged form).
        raise _closure_error(name, "custom_jvp",
                             next(p for p, t in zip(primals, tangents) if type(t) is not Zero))
    args = primals[num_consts:]
    ts = [_zeros_tangent(p) if type(t) is Zero else t
          for p, t in zip(args, tangents[num_consts:])]
    outs, out_ts = jvp(args, ts)
    if call is not None and len(outs) != len(call.out_avals):
        raise TypeError(f"custom_jvp rule of {name} returned {len(outs)} primal outputs; the "
                        f"function has {len(call.out_avals)}")
    _check_tangents_out(name, outs, out_ts)
    return list(outs), list(out_ts)


ad.jvp_rules[custom_jvp_call_p] = _custom_jvp_rule


def _batched_jvp(jvp: Callable[..., Any]) -> Callable[..., Any]:
    return vmap(lambda p, t: tuple(map(list, jvp(p, t))))


def _custom_jvp_batch(vals, dims, *, call, jvp, num_consts, name):
    # Give every operand the batch dimension first; the rule is then vmapped as a whole.
    size = batching_size(vals, dims)
    vals = [move_to_front(v, d, size) for v, d in zip(vals, dims)]
    batched, out_dims = jaxprs.batch_jaxpr(call, [0] * len(vals), size, force_batched=True)
    outs = custom_jvp_call_p.bind(*vals, call=batched, jvp=_batched_jvp(jvp),
                                  num_consts=num_consts, name=name)
    return outs, out_dims


def batching_size(vals: Sequence[Any], dims: Sequence[int | None]) -> int:
    return next(core.get_aval(v).shape[d] for v, d in zip(vals, dims) if d is not None)


batching.batch_rules[custom_jvp_call_p] = _custom_jvp_batch


class _OutTree:
    """The output structure of a custom function, from whichever of the function and its
    rules runs first; later ones must agree."""

    def __init__(self, name: str, kind: str):
        self.name, self.kind, self.tree = name, kind, None

    def set(self, tree: Any, what: str) -> None:
        if self.tree is None:
            self.tree = tree
        elif tree != self.tree:
            raise TypeError(f"{self.kind} {what} of {self.name} must return outputs with the "
                            f"function's structure {self.tree}; got {tree}")


class custom_jvp:  # noqa: N801 - JAX's name
    """A function with a user-defined JVP rule, used by every transformation (reverse mode
    transposes the rule, so it must be linear in the tangents).

    As in JAX, calling it on plain values runs `fun` itself (so Python control flow on the
    values works), and under `jvp`/`grad` the rule runs on the primal values; `fun` is traced
    only when staged by `jit` or `make_jaxpr`.

    **Arguments:**

    - `fun`: the function.
    - `nondiff_argnums`: arguments that are not differentiated (passed first to the rule).

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

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: Sequence[int] = ()):
        functools.update_wrapper(self, fun, updated=())
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
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
                total = contribution if total is None else tree_map(
                    lambda a, b: a + b, total, contribution)
            if total is None:
                total = tree_map(lambda o: _zeros_tangent(o), out)
            return out, total

        self.defjvp(jvp)

    def __call__(self, *args: Any) -> Any:
        if self.jvp is None:
            raise AttributeError(
                f"No JVP defined for custom_jvp function {self.__name__}; use defjvp.")
        nondiff, name, rule = self.nondiff_argnums, self.__name__, self.jvp
        static, dyn = _split_nondiff(args, nondiff)
        leaves, in_tree = tree_flatten(tuple(dyn))
        out_tree = _OutTree(name, "custom_jvp")

        def flat_fun(*xs: Any) -> list[Any]:
            out, tree = tree_flatten(self.fun(*_merge(static, tree_unflatten(in_tree, xs),
                                                      nondiff)))
            out_tree.set(tree, "function")
            return out

        def flat_jvp(primals: Sequence[Any], tangents: Sequence[Any]):
            p = tree_unflatten(in_tree, list(primals))
            t = tree_unflatten(in_tree, list(tangents))
            out, out_t = rule(*static, p, t) if static else rule(p, t)
            out_leaves, tree1 = tree_flatten(out)
            t_leaves, tree2 = tree_flatten(out_t)
            if tree1 != tree2:
                raise TypeError(
                    f"custom_jvp rule of {name} must return (primal_out, tangent_out) of the "
                    f"same structure; got {tree1} and {tree2}")
            out_tree.set(tree1, "rule")
            return out_leaves, t_leaves

        outs = _call_custom(_JVP, flat_fun, {"jvp": flat_jvp}, leaves, name)
        return tree_unflatten(out_tree.tree, outs)


# ---- custom_vjp -----------------------------------------------------------------------------

custom_vjp_call_p = core.Primitive("custom_vjp_call", multiple_results=True)
custom_vjp_call_p.def_impl(_call_impl)
custom_vjp_call_p.def_abstract_eval(_call_abstract)
lowering.register(custom_vjp_call_p, _call_lower)
lowering.inlinable_calls[custom_vjp_call_p] = "call"
cost_mod.cost_rules[custom_vjp_call_p] = _call_cost

# The tangent map of a custom_vjp function: linear in its tangent operands, transposed by the
# user's bwd. It has no forward evaluation (jvp of a custom_vjp function is not defined).
custom_lin_p = core.Primitive("custom_lin", multiple_results=True)


def _custom_lin_impl(*args: Any, num_res, bwd, out_avals, name):
    raise FuncdiffTypeError(
        f"can't apply forward-mode differentiation (jvp) to the custom_vjp function {name}; "
        "use reverse mode (grad, vjp), or define it with custom_jvp instead."
    )


custom_lin_p.def_impl(_custom_lin_impl)
custom_lin_p.def_abstract_eval(lambda *avals, out_avals, **_: list(out_avals))


def _custom_lin_transpose(cts, *args, num_res, bwd, out_avals, name):
    res = args[:num_res]
    cts = [np.zeros(a.shape, a.dtype) if type(c) is Zero else c for c, a in zip(cts, out_avals)]
    in_cts = bwd(res, cts)
    lin = args[num_res:]
    if len(in_cts) != len(lin):
        raise TypeError(f"custom_vjp bwd of {name} returned {len(in_cts)} cotangents for "
                        f"{len(lin)} differentiable inputs")
    out = [None] * num_res
    for i, (c, x) in enumerate(zip(in_cts, lin)):
        aval = x.aval if is_undefined_primal(x) else core.get_aval(x)
        if c is not None and core.get_aval(c).shape != aval.shape:
            raise TypeError(f"custom_vjp bwd of {name}: cotangent {i} has shape "
                            f"{core.get_aval(c).shape}, the input has shape {aval.shape}")
        out.append(c)
    return out


ad.transpose_rules[custom_lin_p] = _custom_lin_transpose


def _custom_lin_cost(avals_in, avals_out, *, num_res, bwd, out_avals, name):
    # What its transpose runs: the user's bwd, traced on the residuals and output cotangents.
    def run_bwd(*xs: Any) -> list[Any]:
        return [c for c in bwd(xs[:num_res], xs[num_res:]) if c is not None]

    try:
        traced = pe.trace_to_jaxpr(run_bwd, list(avals_in[:num_res]) + list(out_avals))
    except Exception:  # a bwd that cannot be traced is not counted
        return cost_mod.ZERO.with_note(f"custom_vjp {name}: its bwd rule could not be traced "
                                       "and is not counted")
    return cost_mod.jaxpr_cost(traced)


cost_mod.cost_rules[custom_lin_p] = _custom_lin_cost


def _custom_vjp_jvp(primals, tangents, *, call, fwd, bwd, num_consts, name):
    if any(type(t) is not Zero for t in tangents[:num_consts]):
        # The function closes over a value being differentiated (the staged form).
        raise _closure_error(name, "custom_vjp",
                             next(p for p, t in zip(primals, tangents) if type(t) is not Zero))
    args = primals[num_consts:]
    outs, res = fwd(args)
    ts = [_zeros_tangent(p) if type(t) is Zero else t
          for p, t in zip(args, tangents[num_consts:])]
    out_avals = tuple(core.get_aval(o) for o in outs)
    t_out = custom_lin_p.bind(*res, *ts, num_res=len(res), bwd=bwd, out_avals=out_avals,
                              name=name)
    return list(outs), list(t_out)


ad.jvp_rules[custom_vjp_call_p] = _custom_vjp_jvp


def _batched_vjp_rules(fwd: Callable[..., Any], bwd: Callable[..., Any]):
    def batched_fwd(args):
        return vmap(lambda a: tuple(map(list, fwd(a))))(list(args))

    def batched_bwd(res, cts):
        return vmap(lambda r, c: list(bwd(r, c)))(list(res), list(cts))

    return batched_fwd, batched_bwd


def _custom_vjp_batch(vals, dims, *, call, fwd, bwd, num_consts, name):
    # Give every operand the batch dimension first; fwd and bwd are then vmapped as wholes.
    size = batching_size(vals, dims)
    vals = [move_to_front(v, d, size) for v, d in zip(vals, dims)]
    batched, out_dims = jaxprs.batch_jaxpr(call, [0] * len(vals), size, force_batched=True)
    outs = custom_vjp_call_p.bind(*vals, call=batched, num_consts=num_consts, name=name,
                                  **_VJP.batched_rules(fwd, bwd))
    return outs, out_dims


batching.batch_rules[custom_vjp_call_p] = _custom_vjp_batch


class _Kind(NamedTuple):
    """What differs between custom_jvp and custom_vjp when a call is processed."""

    name: str
    primitive: core.Primitive
    batched_rules: Callable[..., dict[str, Any]]  # the user's rules, vmapped as wholes


_JVP = _Kind("custom_jvp", custom_jvp_call_p, lambda jvp: {"jvp": _batched_jvp(jvp)})
_VJP = _Kind("custom_vjp", custom_vjp_call_p,
             lambda fwd, bwd: dict(zip(("fwd", "bwd"), _batched_vjp_rules(fwd, bwd))))


def _call_custom(kind: _Kind, fun: Callable[..., list[Any]], rules: dict[str, Any],
                 args: list[Any], name: str) -> list[Any]:
    """Apply the flat custom function `fun` with its `rules` under the transformation that
    owns `args` (see the comment above `custom_jvp_call_p`)."""
    main = _innermost(args)
    if main.level == 0:  # plain values: run the function itself
        outs = fun(*args)
        _check_no_closure(name, kind.name, outs)
        return outs
    if main.trace_type is ad.JVPTrace:
        primals, tangents = _unpack_jvp(main, args)
        if all(type(t) is Zero for t in tangents):
            return _call_custom(kind, fun, rules, primals, name)
        outs, out_ts = ad.jvp_rules[kind.primitive](primals, tangents, call=None, num_consts=0,
                                                    name=name, **rules)
        _check_no_closure(name, kind.name, [*outs, *out_ts], main)
        trace = _trace_of(main)
        return [ad.JVPTracer(trace, p, t) for p, t in zip(outs, out_ts)]
    if main.trace_type is batching.BatchTrace:
        vals, dims = _unpack_batch(main, args)
        if all(d is None for d in dims):
            return _call_custom(kind, fun, rules, vals, name)
        vals = [move_to_front(v, d, main.payload) for v, d in zip(vals, dims)]
        outs = _call_custom(kind, vmap(fun), kind.batched_rules(**rules), vals, name)
        return _batch_outputs(main, outs, fun, args)
    # Staged (jit, make_jaxpr, or the linear part of reverse mode): one equation.
    consts, closed = jaxprs.closure_convert(
        pe.trace_to_jaxpr(fun, [core.get_aval(x) for x in args]))
    return kind.primitive.bind(*consts, *args, call=closed, num_consts=len(consts), name=name,
                               **rules)


class custom_vjp:  # noqa: N801 - JAX's name
    """A function with a user-defined VJP, given by a forward function saving residuals and a
    backward function mapping output cotangents to input cotangents.

    As in JAX, calling it on plain values runs `fun` itself, and under `grad`/`vjp` its `fwd`
    runs on the primal values; `fun` is traced only when staged by `jit` or `make_jaxpr`.

    **Arguments:**

    - `fun`: the function.
    - `nondiff_argnums`: arguments that are not differentiated; they are passed first to
      ``bwd``.

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

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: Sequence[int] = ()):
        functools.update_wrapper(self, fun, updated=())
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.fwd: Callable[..., Any] | None = None
        self.bwd: Callable[..., Any] | None = None

    def defvjp(self, fwd: Callable[..., Any], bwd: Callable[..., Any]) -> None:
        """``fwd(*args) -> (out, residuals)``; ``bwd(*nondiff_args, residuals, cotangent)
        -> tuple`` with one cotangent per differentiable argument."""
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args: Any) -> Any:
        if self.fwd is None or self.bwd is None:
            raise AttributeError(
                f"No VJP defined for custom_vjp function {self.__name__}; use defvjp.")
        nondiff = self.nondiff_argnums
        static, dyn = _split_nondiff(args, nondiff)
        leaves, in_tree = tree_flatten(tuple(dyn))
        fwd_fn, bwd_fn, name = self.fwd, self.bwd, self.__name__
        out_tree = _OutTree(name, "custom_vjp")
        res_tree: list[Any] = [None]

        def flat_fun(*xs: Any) -> list[Any]:
            out, tree = tree_flatten(self.fun(*_merge(static, tree_unflatten(in_tree, xs),
                                                      nondiff)))
            out_tree.set(tree, "function")
            return out

        def flat_fwd(primals: Sequence[Any]):
            fwd_out = fwd_fn(*_merge(static, tree_unflatten(in_tree, list(primals)), nondiff))
            if not isinstance(fwd_out, tuple) or len(fwd_out) != 2:
                raise TypeError(f"custom_vjp fwd of {name} must return a pair (output, "
                                f"residuals), got {type(fwd_out).__name__}")
            out_leaves, tree = tree_flatten(fwd_out[0])
            out_tree.set(tree, "fwd")
            res_leaves, res_tree[0] = tree_flatten(fwd_out[1])
            return out_leaves, res_leaves

        def flat_bwd(res: Sequence[Any], cts: Sequence[Any]):
            in_cts = bwd_fn(*static, tree_unflatten(res_tree[0], list(res)),
                            tree_unflatten(out_tree.tree, list(cts)))
            if not isinstance(in_cts, tuple):
                raise TypeError(f"custom_vjp bwd of {name} must return a tuple with one "
                                f"cotangent per differentiable argument, got "
                                f"{type(in_cts).__name__}")
            ct_leaves, tree = tree_flatten(in_cts, is_leaf=lambda x: x is None)
            expected = tree_structure(tuple(dyn))
            if len(ct_leaves) != expected.num_leaves:
                raise TypeError(f"custom_vjp bwd of {name} returned cotangents of structure "
                                f"{tree}; the differentiable arguments have structure {expected}")
            return ct_leaves

        outs = _call_custom(_VJP, flat_fun, {"fwd": flat_fwd, "bwd": flat_bwd}, leaves,
                            name)
        return tree_unflatten(out_tree.tree, outs)


# ---- checkpoint -----------------------------------------------------------------------------

checkpoint_p = core.Primitive("checkpoint", multiple_results=True)
checkpoint_p.def_impl(lambda *args, jaxpr, policy: jaxprs.call(jaxpr, *args))
checkpoint_p.def_abstract_eval(lambda *avals, jaxpr, policy: jaxpr.out_avals)
lowering.register(
    checkpoint_p,
    lambda ctx, *args, jaxpr, policy: f"{ctx.const(jaxprs.compiled(jaxpr).fn, 'j')}"
                                      f"({', '.join(args)})")
# Rematerialisation shows in the backward program, which runs the checkpointed jaxpr again.
cost_mod.cost_rules[checkpoint_p] = cost_mod.call_cost


class checkpoint_policies:  # noqa: N801 - JAX's name
    """Which intermediate values `checkpoint` may save instead of recomputing them."""

    @staticmethod
    def nothing_saveable(prim: core.Primitive, *avals: ShapedArray, **params: Any) -> bool:
        """Recompute everything from the block's inputs (the least memory)."""
        return False

    @staticmethod
    def everything_saveable(prim: core.Primitive, *avals: ShapedArray, **params: Any) -> bool:
        """Save everything (no recomputation: the same as no checkpoint)."""
        return True

    @staticmethod
    def dots_saveable(prim: core.Primitive, *avals: ShapedArray, **params: Any) -> bool:
        """Save the results of matrix products; recompute the cheap elementwise work."""
        return prim.name == "dot_general"

    @staticmethod
    def dots_with_no_batch_dims_saveable(prim: core.Primitive, *avals: ShapedArray,
                                         **params: Any) -> bool:
        return prim.name == "dot_general" and not params["dimension_numbers"][1][0]


def _remat_split(jaxpr: ClosedJaxpr, unknowns: Sequence[bool], policy: Any):
    """Like `partial_eval_jaxpr`, but the unknown part recomputes the known values it needs
    from the block's known inputs, except those the policy saves."""
    key = ("remat", tuple(unknowns), policy)

    def make():
        j = jaxpr.jaxpr
        saveable = policy or checkpoint_policies.nothing_saveable
        unknown_vars = {v for v, u in zip(j.invars, unknowns) if u}
        producer: dict[Var, JaxprEqn] = {}
        known_eqns, unknown_eqns = [], []
        for eqn in j.eqns:
            ins_unknown = [type(a) is Var and a in unknown_vars for a in eqn.invars]
            rule = pe.partial_eval_jaxpr_rules.get(eqn.primitive)
            if not any(ins_unknown):
                known_eqn, unknown_eqn = eqn, None
            elif rule is None:
                known_eqn, unknown_eqn = None, eqn
                unknown_vars.update(eqn.outvars)
            else:
                # A higher-order equation (the JVP of a cond, scan, jit or checkpoint) has
                # primal outputs next to its tangent ones: split it as partial evaluation
                # does, so that the primal outputs stay known. Its known half is recomputed
                # like any other equation unless the policy saves its results.
                known_eqn, unknown_eqn, eqn_out_uk = rule(eqn, ins_unknown)
                unknown_vars.update(v for v, u in zip(eqn.outvars, eqn_out_uk) if u)
            if known_eqn is not None:
                known_eqns.append(known_eqn)
                for v in known_eqn.outvars:
                    producer[v] = known_eqn
            if unknown_eqn is not None:
                unknown_eqns.append(unknown_eqn)
        out_uk = [type(a) is Var and a in unknown_vars for a in j.outvars]
        # Walk back from what the unknown part reads: save inputs and policy-saveable
        # results, recompute the rest.
        residuals: list[Var] = []
        recompute: set[int] = set()
        seen: set[Var] = set()
        stack = [a for e in unknown_eqns for a in e.invars if type(a) is Var and
                 a not in unknown_vars]
        while stack:
            v = stack.pop()
            if v in seen:
                continue
            seen.add(v)
            eqn = producer.get(v)
            if eqn is None or saveable(eqn.primitive, *[a.aval for a in eqn.invars],
                                       **eqn.params):
                residuals.append(v)
                continue
            recompute.add(id(eqn))
            stack.extend(a for a in eqn.invars if type(a) is Var)
        recompute_eqns = [e for e in known_eqns if id(e) in recompute]
        known_outs = [a for a, u in zip(j.outvars, out_uk) if not u]
        known = pe.dce_jaxpr(ClosedJaxpr(
            Jaxpr(list(j.constvars), [v for v, u in zip(j.invars, unknowns) if not u],
                  known_eqns, known_outs + residuals), jaxpr.consts))
        unknown = ClosedJaxpr(
            Jaxpr([], residuals + [v for v, u in zip(j.invars, unknowns) if u],
                  recompute_eqns + unknown_eqns, [a for a, u in zip(j.outvars, out_uk) if u]),
            [])
        return known, unknown, out_uk, len(residuals)

    return jaxprs.derived(jaxpr, key, make)


def _checkpoint_jvp(primals, tangents, *, jaxpr, policy):
    nonzeros = [type(t) is not Zero for t in tangents]
    jvp, out_nz = jaxprs.jvp_jaxpr(jaxpr, nonzeros)
    outs = checkpoint_p.bind(*primals, *[t for t in tangents if type(t) is not Zero],
                             jaxpr=jvp, policy=policy)
    n = len(jaxpr.out_avals)
    it = iter(outs[n:])
    return outs[:n], [next(it) if nz else Zero(ad.tangent_aval(a))
                      for nz, a in zip(out_nz, jaxpr.out_avals)]


ad.jvp_rules[checkpoint_p] = _checkpoint_jvp


def _checkpoint_partial_eval(trace, tracers, *, jaxpr, policy):
    unknowns = [not t.is_known for t in tracers]
    known, unknown, out_uk, n_res = _remat_split(jaxpr, unknowns, policy)
    known_outs = jaxprs.call(known, *[t.known for t in tracers if t.is_known]) if not any(
        isinstance(t.known, core.Tracer) for t in tracers if t.is_known) else \
        core.eval_jaxpr(known.jaxpr, known.consts, *[t.known for t in tracers if t.is_known])
    n_known = len(known_outs) - n_res
    residuals = [trace.pure(r) for r in known_outs[n_known:]]
    unknown_outs = trace.emit(checkpoint_p, residuals + [t for t in tracers if not t.is_known],
                              {"jaxpr": unknown, "policy": policy}, unknown.out_avals)
    k, u = iter(known_outs[:n_known]), iter(unknown_outs)
    return [next(u) if is_u else next(k) for is_u in out_uk]


pe.partial_eval_rules[checkpoint_p] = _checkpoint_partial_eval


def _checkpoint_partial_eval_jaxpr(eqn, unknowns):
    known, unknown, out_uk, n_res = _remat_split(eqn.params["jaxpr"], unknowns,
                                                 eqn.params["policy"])
    res_vars = [Var(a) for a in known.out_avals[len(known.out_avals) - n_res:]]
    known_eqn = eqn.replace(
        invars=[a for a, u in zip(eqn.invars, unknowns) if not u],
        outvars=[v for v, u in zip(eqn.outvars, out_uk) if not u] + res_vars,
        params={**eqn.params, "jaxpr": known})
    unknown_eqn = eqn.replace(
        invars=res_vars + [a for a, u in zip(eqn.invars, unknowns) if u],
        outvars=[v for v, u in zip(eqn.outvars, out_uk) if u],
        params={**eqn.params, "jaxpr": unknown})
    return known_eqn, unknown_eqn, out_uk


pe.partial_eval_jaxpr_rules[checkpoint_p] = _checkpoint_partial_eval_jaxpr


def _checkpoint_transpose(cts, *args, jaxpr, policy):
    undefined = [is_undefined_primal(a) for a in args]
    ct_nonzero = [type(c) is not Zero for c in cts]
    t_jaxpr = jaxprs.transpose_jaxpr(jaxpr, undefined, ct_nonzero)
    outs = checkpoint_p.bind(*[a for a, u in zip(args, undefined) if not u],
                             *[c for c in cts if type(c) is not Zero], jaxpr=t_jaxpr,
                             policy=policy)
    it = iter(outs)
    return [next(it) if u else None for u in undefined]


ad.transpose_rules[checkpoint_p] = _checkpoint_transpose


def _checkpoint_batch(vals, dims, *, jaxpr, policy):
    batched, out_dims = jaxprs.batch_jaxpr(jaxpr, dims, batching_size(vals, dims))
    return checkpoint_p.bind(*vals, jaxpr=batched, policy=policy), out_dims


batching.batch_rules[checkpoint_p] = _checkpoint_batch


def checkpoint(fun: Callable[..., Any], *, prevent_cse: bool = True, policy: Any = None,
               static_argnums: int | Sequence[int] = (),
               static_argnames: str | Sequence[str] = ()) -> Callable[..., Any]:
    """Rematerialise `fun` under reverse mode: the backward pass recomputes the values it
    needs from `fun`'s inputs instead of storing them, trading compute for memory.

    **Arguments:**

    - `fun`: the block to checkpoint.
    - `policy`: which values may still be saved, e.g.
      `checkpoint_policies.dots_saveable` (keep matrix products, recompute elementwise work);
      the default saves nothing but the block's inputs.
    - `prevent_cse`: accepted for JAX compatibility (funcdiff never merges the recomputation
      with the forward pass).
    - `static_argnums`: the positions (an int or a sequence of ints, negative counting from
      the end) of arguments passed to `fun` as the Python values they are, not traced, so
      `fun` may branch or loop on them; each call traces `fun` with the values it is given.
    - `static_argnames`: the same for keyword arguments, by name (a str or a sequence of
      them); the other keyword arguments are traced.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        block = funcdiff.checkpoint(lambda x: jnp.tanh(jnp.tanh(x)))
        g = funcdiff.grad(lambda x: jnp.sum(block(x)))(np.ones(3))
        assert np.allclose(g, funcdiff.grad(lambda x: jnp.sum(jnp.tanh(jnp.tanh(x))))(np.ones(3)))

        # As a decorator with keywords; `depth` stays a Python int.
        from functools import partial

        @partial(funcdiff.checkpoint, static_argnums=(1,),
                 policy=funcdiff.checkpoint_policies.dots_saveable)
        def layers(x, depth):
            for _ in range(depth):
                x = jnp.tanh(x)
            return x

        assert np.allclose(funcdiff.grad(lambda x: jnp.sum(layers(x, 2)))(np.ones(3)), g)
        ```
    """
    del prevent_cse
    nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    if not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in nums):
        raise TypeError(f"checkpoint: static_argnums must be an int or a sequence of ints, got "
                        f"{static_argnums!r}")

    names = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
    if not all(isinstance(n, str) for n in names):
        raise TypeError(f"checkpoint: static_argnames must be a str or a sequence of str, got "
                        f"{static_argnames!r}")

    @functools.wraps(fun, updated=())
    def checkpointed(*args: Any, **kwargs: Any) -> Any:
        static_kw = {n: kwargs.pop(n) for n in names if n in kwargs}
        if not all(-len(args) <= i < len(args) for i in nums):
            name = getattr(fun, "__name__", "fun")
            raise ValueError(f"checkpoint: static_argnums={static_argnums!r} names an argument "
                             f"that {name} was not given: it was called with {len(args)} "
                             "positional arguments (static arguments must be passed by "
                             "position)")
        positions = tuple(sorted({int(i) % len(args) for i in nums}))
        static, dyn = _split_nondiff(args, positions)
        leaves, in_tree = tree_flatten((tuple(dyn), kwargs))
        avals = [core.get_aval(x) for x in leaves]
        consts, closed, out_tree = _trace(
            lambda d, kw: fun(*_merge(static, d, positions), **kw, **static_kw), in_tree, avals)
        outs = checkpoint_p.bind(*consts, *leaves, jaxpr=closed, policy=policy)
        return tree_unflatten(out_tree, outs)

    return checkpointed


remat = checkpoint

__all__ = ["checkpoint", "checkpoint_policies", "custom_jvp", "custom_vjp", "remat"]
