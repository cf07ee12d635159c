"""What `custom_jvp` and `custom_vjp` share: calling a function with user-defined derivative
rules under the transformation that owns its arguments (`_call_custom`), the rules of their
call primitives that do not depend on the kind of rule (evaluation, abstract evaluation,
lowering, cost), and the checks of the outputs and of values closed over. `checkpoint` uses
its argument handling too."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from funcdiff._src import core
from funcdiff._src.core import ClosedJaxpr, ShapedArray
from funcdiff._src.errors import UnexpectedTracerError
from funcdiff._src.interpreters import ad, batching, tape
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.interpreters import lowering_rules as lowering
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.interpreters.ad import Zero
from funcdiff._src.lax import _jaxprs as jaxprs
from funcdiff._src.lax._define import per_primitive
from funcdiff._src.lax.structural import move_to_front
from funcdiff._src.tree_util import tree_flatten, tree_unflatten
from funcdiff._src.vmap import vmap

# ---- shared helpers -------------------------------------------------------------------------


def nondiff_positions(
    fun: Callable[..., Any], argnums: Sequence[int], argnames: Sequence[str], kind: str
) -> tuple[int, ...]:
    """`nondiff_argnums` together with the positions of the parameters named in
    `nondiff_argnames`, sorted, as JAX's custom_jvp and custom_vjp combine them."""
    positions = {int(i) for i in argnums}
    if isinstance(argnames, str):
        argnames = (argnames,)
    if argnames:
        params = list(inspect.signature(fun).parameters.values())
        positional = [
            p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        for name in argnames:
            if name not in positional:
                raise ValueError(
                    f"{kind}: nondiff_argnames names {name!r}, which is not a "
                    f"positional parameter of {getattr(fun, '__name__', fun)} "
                    f"(its positional parameters are {positional})"
                )
            positions.add(positional.index(name))
    return tuple(sorted(positions))


def resolve_kwargs(
    fun: Callable[..., Any],
    args: tuple,
    kwargs: dict[str, Any],
    kind: str,
    nondiff: tuple[int, ...] = (),
) -> tuple:
    """`args` and `kwargs` as positional arguments of `fun`, its defaults filled in, as JAX
    does before calling a custom_jvp or custom_vjp function (a functools.partial is opaque:
    it takes no keywords). Positional arguments alone are returned as they are, unless a
    non-differentiated position is left to its default."""
    if not kwargs and (not nondiff or nondiff[-1] < len(args)):
        return args
    if isinstance(fun, functools.partial):

        def fun(*args: Any) -> None:  # an opaque signature: positional arguments only
            return None

    try:
        bound = inspect.signature(fun).bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(
            f"the arguments of the {kind} function "
            f"{getattr(fun, '__name__', fun)} could not be bound to its "
            f"parameters: {e}"
        ) from e
    bound.apply_defaults()
    passed = [k for k in bound.kwargs if k in kwargs]
    if passed:
        raise TypeError(
            f"{kind}: keyword-only arguments {passed} cannot be passed to "
            f"{getattr(fun, '__name__', fun)}: its arguments must resolve to "
            "positions"
        )
    return bound.args


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


_DIFFERENTIATING = (ad.JVPTracer, tape.TapeTracer)  # the tracers of jvp and of grad/vjp


def _check_no_closure(name: str, kind: str, outs: Sequence[Any], main: Any = None) -> None:
    """Outputs computed from plain values must not carry a derivative of an enclosing
    transformation (`main`'s, or any jvp's when None): the function closed over it."""
    for x in outs:
        if main is None and isinstance(x, _DIFFERENTIATING) or main is not None and _own(main, x):
            raise _closure_error(name, kind, x)


def _unpack_jvp(main: core.MainTrace, args: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    primals = [a.primal if _own(main, a) else a for a in args]
    tangents = [
        a.tangent if _own(main, a) else Zero(ad.tangent_aval(core.get_aval(a))) for a in args
    ]
    return primals, tangents


def _unpack_batch(main: core.MainTrace, args: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    return (
        [a.val if _own(main, a) else a for a in args],
        [a.bdim if _own(main, a) else None for a in args],
    )


def _batch_outputs(
    main: core.MainTrace, outs: list[Any], fun: Callable[..., list[Any]], args: Sequence[Any]
) -> list[Any]:
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


# The rules custom_jvp_call and custom_vjp_call share: each calls the jaxpr of the function
# (its parameter `call`), which jit's passes inline once no transformation needs the call.
_CALL_RULES: dict[str, Any] = dict(
    multiple_results=True,
    impl=_call_impl,
    abstract_eval=_call_abstract,
    lower=_call_lower,
    cost=_call_cost,
    inline="call",
)


class _OutTree:
    """The output structure of a custom function, from whichever of the function and its
    rules runs first; later ones must agree."""

    def __init__(self, name: str, kind: str):
        self.name, self.kind, self.tree = name, kind, None

    def set(self, tree: Any, what: str) -> None:
        if self.tree is None:
            self.tree = tree
        elif tree != self.tree:
            raise TypeError(
                f"{self.kind} {what} of {self.name} must return outputs with the "
                f"function's structure {self.tree}; got {tree}"
            )


class _CustomFunction:
    """What `custom_jvp` and `custom_vjp` share: the wrapped function with its
    non-differentiable positions, and the flattening of one call into the leaves of its
    differentiable arguments and a flat function over them."""

    kind = ""  # "custom_jvp" or "custom_vjp", for messages

    def __init__(
        self,
        fun: Callable[..., Any],
        nondiff_argnums: Sequence[int] = (),
        nondiff_argnames: Sequence[str] = (),
    ):
        functools.update_wrapper(self, fun, updated=())
        self.fun = fun
        self.nondiff_argnums = nondiff_positions(fun, nondiff_argnums, nondiff_argnames, self.kind)

    def _flatten_call(self, args: tuple, kwargs: dict[str, Any]):
        """``(static, dyn, leaves, in_tree, out_tree, flat_fun)`` for a call: the
        non-differentiable and differentiable arguments, the leaves of the latter and their
        structure, the output structure to be filled, and `fun` on the leaves."""
        nondiff = self.nondiff_argnums
        args = resolve_kwargs(self.fun, args, kwargs, self.kind, nondiff)
        static, dyn = _split_nondiff(args, nondiff)
        leaves, in_tree = tree_flatten(tuple(dyn))
        out_tree = _OutTree(self.__name__, self.kind)

        def flat_fun(*xs: Any) -> list[Any]:
            out, tree = tree_flatten(
                self.fun(*_merge(static, tree_unflatten(in_tree, xs), nondiff))
            )
            out_tree.set(tree, "function")
            return out

        return static, dyn, leaves, in_tree, out_tree, flat_fun


def _call_batch(batched_rules: Callable[..., dict[str, Any]]) -> per_primitive:
    """The batching rule of a custom call primitive: every operand gets the batch dimension
    first, and the user's rules (`batched_rules` of them) are vmapped as wholes."""

    def make(p: core.Primitive) -> Callable[..., Any]:
        def rule(axis_size, vals, dims, *, call, num_consts, name, **rules):
            vals = [move_to_front(v, d, axis_size) for v, d in zip(vals, dims)]
            batched, out_dims = jaxprs.batch_jaxpr(
                call, [0] * len(vals), axis_size, force_batched=True
            )
            outs = p.bind(
                *vals, call=batched, num_consts=num_consts, name=name, **batched_rules(**rules)
            )
            return outs, out_dims

        rule.__name__ = f"_{p.name}_batch"
        return rule

    return per_primitive(make)


class _Kind(NamedTuple):
    """What differs between custom_jvp and custom_vjp when a call is processed."""

    name: str
    primitive: core.Primitive
    batched_rules: Callable[..., dict[str, Any]]  # the user's rules, vmapped as wholes


# A custom_jvp function is processed by the transformation that owns its arguments, as in JAX:
# called on plain values it runs the Python function; under jvp/grad its rule runs on the
# primals (concrete ones when the primals are); under vmap the function and its rule are
# vmapped; only when staged (jit, make_jaxpr) is it traced, into a `custom_jvp_call` equation
# that carries the jaxpr of the function and the rule for later transformations.


def _call_custom(
    kind: _Kind, fun: Callable[..., list[Any]], rules: dict[str, Any], args: list[Any], name: str
) -> list[Any]:
    """Apply the flat custom function `fun` with its `rules` under the transformation that
    owns `args` (see the comment above)."""
    main = _innermost(args)
    if main.level == 0:  # plain values: run the function itself
        outs = fun(*args)
        _check_no_closure(name, kind.name, outs)
        return outs
    if main.trace_type is ad.JVPTrace:
        primals, tangents = _unpack_jvp(main, args)
        if all(type(t) is Zero for t in tangents):
            return _call_custom(kind, fun, rules, primals, name)
        outs, out_ts = ad.jvp_rules[kind.primitive](
            primals, tangents, call=None, num_consts=0, name=name, **rules
        )
        _check_no_closure(name, kind.name, [*outs, *out_ts], main)
        trace = _trace_of(main)
        return [ad.JVPTracer(trace, p, t) for p, t in zip(outs, out_ts)]
    if main.trace_type is tape.TapeTrace:  # eager reverse mode: the JVP branch above, run
        # on the primals by the general machinery as one operation of the tape
        return _trace_of(main).process_call(
            lambda *xs: _call_custom(kind, fun, rules, list(xs), name),
            args,
            lambda x: _closure_error(name, kind.name, x),
        )
    if main.trace_type is batching.BatchTrace:
        vals, dims = _unpack_batch(main, args)
        if all(d is None for d in dims):
            return _call_custom(kind, fun, rules, vals, name)
        vals = [move_to_front(v, d, main.payload) for v, d in zip(vals, dims)]
        with batching.rule_of(main):  # collectives in the function see the vmap's axis name
            outs = _call_custom(kind, vmap(fun), kind.batched_rules(**rules), vals, name)
        return _batch_outputs(main, outs, fun, args)
    # Staged (jit, make_jaxpr, or the linear part of reverse mode): one equation.
    consts, closed = jaxprs.closure_convert(
        pe.trace_to_jaxpr(fun, [core.get_aval(x) for x in args])
    )
    return kind.primitive.bind(
        *consts, *args, call=closed, num_consts=len(consts), name=name, **rules
    )
