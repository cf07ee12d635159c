"""The program behind a `funcdiff.graph`: the traced function with its `jit` calls inlined,
one operation per equation with its group, evaluated, and differentiated variable by
variable (the adjoint of every variable by AD's backward pass, or its tangent by forward
mode), so that `graph.py` can label every node and edge."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes
from funcdiff._src.api import jvp, make_jaxpr, vjp
from funcdiff._src.core import JaxprEqn, Literal, Var
from funcdiff._src.cost_analysis import leaf_names
from funcdiff._src.custom_vjp import custom_lin_p, custom_vjp_call_p
from funcdiff._src.interpreters import ad
from funcdiff._src.jit import passes
from funcdiff._src.jit.primitive import jit_p
from funcdiff._src.lax.loops import while_p
from funcdiff._src.tree_util import keystr, tree_flatten, tree_flatten_with_path, tree_unflatten


@dataclasses.dataclass
class Op:
    """An equation of the flattened program (jit calls inlined) and its group path."""

    eqn: JaxprEqn
    group: tuple[str, ...]
    backward: bool = False


def _flatten(closed: core.ClosedJaxpr, group_by: str | None) -> tuple[core.ClosedJaxpr, list[Op]]:
    """The program with its `jit` calls inlined (jit's own inliner: a function called twice
    appears twice), each equation with its group path: with ``group_by="jit"``, the instances
    of the jitted functions it was inlined from."""
    flat, origins, calls = passes.flatten_calls(closed, lambda e: e.primitive is jit_p)
    counter: dict[str, int] = {}
    names = [_instance(f"jit({c.params['name']})", counter) for c in calls]
    ops = [
        Op(eqn, tuple(names[k] for k in path) if group_by == "jit" else ())
        for eqn, path in zip(flat.jaxpr.eqns, origins, strict=True)
    ]
    return flat, ops


def _instance(name: str, counter: dict[str, int]) -> str:
    counter[name] = counter.get(name, 0) + 1
    return name if counter[name] == 1 else f"{name} #{counter[name]}"


def _group_by_function(ops: list[Op], top: str) -> None:
    """Group each run of consecutive forward operations traced in one user function (other
    than the top-level one) under that function's name."""
    counter: dict[str, int] = {}
    previous = None
    for op in ops:
        info = op.eqn.source_info
        fn = info.function if info is not None else None
        if op.backward or fn is None or fn == top:
            previous = None
            continue
        if fn != previous:
            name = _instance(fn, counter)
            previous = fn
        op.group = op.group + (name,)


def _depends_on(ops: list[Op], seeds: set[Var]) -> None:
    """Mark as backward the operations that depend on the output cotangent."""
    tainted = set(seeds)
    for op in ops:
        if any(type(a) is Var and a in tainted for a in op.eqn.invars):
            op.backward = True
            tainted.update(op.eqn.outvars)


def evaluate(ops: list[Op], env: dict[Var, Any]) -> None:
    for op in ops:
        eqn = op.eqn
        invals = [a.val if type(a) is Literal else env[a] for a in eqn.invars]
        out = eqn.primitive.bind(*invals, **eqn.params)
        outs = out if eqn.primitive.multiple_results else [out]
        env.update(zip(eqn.outvars, outs))


def is_float(x: Any) -> bool:
    return dtypes.is_float(core.get_aval(x).dtype)


def _linear_eqn(linear: ad.LinearFunction, ins: list[Var], outs: list[Var]) -> JaxprEqn:
    """One equation of the linear program `adjoints` transposes: the linear map of one forward
    operation, from the tangents of its differentiated inputs. It is a `custom_lin`, the
    primitive of a linear map known by its transpose (custom_vjp's, here AD's own)."""

    def bwd(res: Sequence[Any], cts: Sequence[Any]) -> list[Any]:
        return [ad.instantiate(ct) for ct in linear.transpose(cts)]

    params = {"num_res": 0, "bwd": bwd, "out_avals": [v.aval for v in outs], "name": "graph"}
    return JaxprEqn(custom_lin_p, ins, outs, params)


# Primitives that have a derivative in one direction only: a `while_loop` has no reverse mode
# (its trip count is known at run time only), a `custom_vjp` function no forward mode. An
# operation that is or contains one gets no gradient (or tangent) in that direction.
_NO_REVERSE_MODE = frozenset({while_p})
_NO_FORWARD_MODE = frozenset({custom_vjp_call_p})


def _uses(eqn: JaxprEqn, prims: frozenset[core.Primitive]) -> bool:
    """Whether `eqn` is, or carries in a sub-program, one of `prims`."""
    if eqn.primitive in prims:
        return True
    for value in eqn.params.values():
        subs = value if isinstance(value, (tuple, list)) else (value,)
        for sub in subs:
            if isinstance(sub, core.ClosedJaxpr) and any(_uses(e, prims) for e in sub.eqns):
                return True
    return False


def _differentiable(eqn: JaxprEqn, without: frozenset[core.Primitive]) -> bool:
    """Whether the primitive has a derivative rule (or a zero derivative), and no part of
    the operation lacks the mode of differentiation that `without` rules out."""
    has_rule = eqn.primitive in ad.jvp_rules or eqn.primitive in ad.nondifferentiable
    return has_rule and not _uses(eqn, without)


def _transposable(linear: ad.LinearFunction) -> bool:
    """Whether every equation of `linear` that its inputs reach has a transpose rule (a
    `while_loop` has none: it has no reverse mode)."""
    jaxpr = linear.jaxpr.jaxpr
    reached = set(jaxpr.invars)
    for eqn in jaxpr.eqns:
        if not reached.isdisjoint(eqn.invars):
            if eqn.primitive not in ad.transpose_rules:
                return False
            reached.update(eqn.outvars)
    return True


def adjoints(
    ops: list[Op], env: dict[Var, Any], out: Var
) -> tuple[dict[Var, Any], dict[tuple[Var, int], Any]]:
    """Reverse mode over the flattened forward program: the adjoint of every variable and the
    contribution of each (variable, consumer) edge. Each forward operation is linearized on
    its own and becomes one equation of a linear program, which AD's `backward_pass`
    transposes; its `on_transpose` hook reports what flows through each equation.

    Operations that cannot carry a gradient are left out (their inputs get none from them):
    non-float values, the backward half of a ``backward=True`` graph, primitives without
    reverse mode."""
    tangent: dict[Var, Var] = {}  # forward variable -> its tangent in the linear program
    sources: list[Var] = []  # forward variables whose tangents are the linear program's inputs

    def tangent_of(v: Var) -> Var:
        if v not in tangent:
            tangent[v] = Var(v.aval)
            sources.append(v)
        return tangent[v]

    eqns: list[JaxprEqn] = []
    origin: dict[JaxprEqn, tuple[int, tuple[int, ...]]] = {}  # forward op, its inputs
    for i, op in enumerate(ops):
        eqn = op.eqn
        if op.backward or not _differentiable(eqn, _NO_REVERSE_MODE):
            continue
        invals = [a.val if type(a) is Literal else env[a] for a in eqn.invars]
        wrt = tuple(
            k for k, (a, x) in enumerate(zip(eqn.invars, invals)) if type(a) is Var and is_float(x)
        )
        if not wrt or not all(is_float(env[v]) for v in eqn.outvars):
            continue

        def apply(
            *xs: Any, eqn: JaxprEqn = eqn, invals: list[Any] = invals, wrt: tuple[int, ...] = wrt
        ) -> list[Any]:
            full = list(invals)
            for k, x in zip(wrt, xs):
                full[k] = x
            out = eqn.primitive.bind(*full, **eqn.params)
            return out if eqn.primitive.multiple_results else [out]

        _, linear = ad.linearize_flat(apply, [invals[k] for k in wrt], [True] * len(wrt))
        if not _transposable(linear):
            continue
        ins = [tangent_of(eqn.invars[k]) for k in wrt]
        outs = [Var(v.aval) for v in eqn.outvars]
        tangent.update(zip(eqn.outvars, outs))
        eqns.append(_linear_eqn(linear, ins, outs))
        origin[eqns[-1]] = (i, wrt)
    seed = tangent_of(out)
    adjoint: dict[Var, Any] = {}
    along: dict[tuple[Var, int], Any] = {}

    def record(eqn: JaxprEqn, cts_out: list[Any], cts_in: list[Any]) -> None:
        i, wrt = origin[eqn]
        forward = ops[i].eqn
        for v, ct in zip(forward.outvars, cts_out):
            if type(ct) is not ad.Zero:
                adjoint[v] = ct
        for k, ct in zip(wrt, cts_in):
            v = forward.invars[k]
            along[(v, i)] = along[(v, i)] + ct if (v, i) in along else ct

    linear_program = core.Jaxpr([], [tangent[v] for v in sources], eqns, [seed])
    cts = ad.backward_pass(
        linear_program,
        [],
        [ad.UndefinedPrimal(v.aval) for v in sources],
        [np.ones_like(env[out])],
        on_transpose=record,
    )
    for v, ct in zip(sources, cts):
        if ct is not None and type(ct) is not ad.Zero:
            adjoint[v] = ct
    return adjoint, along


def tangents(
    ops: list[Op], env: dict[Var, Any], seed: Var
) -> tuple[dict[Var, Any], dict[tuple[Var, int], Any]]:
    """Forward mode over the flattened program, one equation at a time, from a tangent of ones
    on `seed`: the tangent of every variable it reaches and the contribution that flows along
    each (variable, consumer) edge."""
    tangent: dict[Var, Any] = {seed: np.ones_like(env[seed])}
    along: dict[tuple[Var, int], Any] = {}
    for i, op in enumerate(ops):
        eqn = op.eqn
        invals = [a.val if type(a) is Literal else env[a] for a in eqn.invars]
        if not _differentiable(eqn, _NO_FORWARD_MODE):
            continue
        for k, a in enumerate(eqn.invars):
            if type(a) is not Var or a not in tangent:
                continue

            def apply(x: Any, eqn: JaxprEqn = eqn, invals: list[Any] = invals, k: int = k) -> Any:
                return eqn.primitive.bind(*invals[:k], x, *invals[k + 1 :], **eqn.params)

            _, t_out = jvp(apply, (invals[k],), (tangent[a],))
            outs = t_out if eqn.primitive.multiple_results else [t_out]
            along[(a, i)] = outs[0]
            for v, t in zip(eqn.outvars, outs):
                tangent[v] = tangent[v] + t if v in tangent else t
    return tangent, along


@dataclasses.dataclass
class Program:
    """The traced program, flattened: its inputs (the argument leaves, then with ``backward``
    the output cotangents), constants, operations and outputs, and their names."""

    name: str
    jaxpr: core.Jaxpr
    inputs: list[Any]
    consts: dict[Var, Any]
    ops: list[Op]
    outvars: list[core.Atom]
    in_names: list[str]
    out_names: list[str]
    n_args: int  # inputs that are argument leaves (the rest are output cotangents)
    n_out: int  # outputs of the function (the rest are input cotangents)


def trace(
    fun: Callable[..., Any], args: Sequence[Any], backward: bool, group_by: str | None
) -> Program:
    name = getattr(fun, "__name__", type(fun).__name__)
    leaves, in_tree = tree_flatten(tuple(args))
    for i, leaf in enumerate(leaves):
        if not core.is_valid_array(leaf):
            raise TypeError(
                f"graph: argument leaf {i} of {name} is a {core.value_kind(leaf)}, not an array."
            )
    store: list[Any] = [None]

    def flat(*xs: Any) -> list[Any]:
        out, store[0] = tree_flatten(fun(*tree_unflatten(in_tree, list(xs))))
        return out

    outs = flat(*leaves)
    in_names = leaf_names(fun, args)
    out_names = [
        "out" + keystr(path)
        for path, _ in tree_flatten_with_path(tree_unflatten(store[0], outs))[0]
    ]
    program, inputs = flat, list(leaves)
    if backward:
        diff = [is_float(x) for x in leaves]
        if not any(diff):
            raise TypeError(f"graph: {name} has no floating-point input to differentiate.")
        program, inputs = vjp_program(flat, leaves, diff, outs)
        out_names += [f"grad {n}" for n, d in zip(in_names, diff) if d]
        in_names += [f"ct {n}" for n in out_names[: len(outs)]]
    closed, ops = _flatten(make_jaxpr(program)(*inputs), group_by)
    jaxpr = closed.jaxpr
    consts: dict[Var, Any] = dict(zip(jaxpr.constvars, closed.consts, strict=True))
    if backward:
        _depends_on(ops, set(jaxpr.invars[len(leaves) :]))
    if group_by == "function":
        _group_by_function(ops, name)
    return Program(
        name,
        jaxpr,
        inputs,
        consts,
        ops,
        list(jaxpr.outvars),
        in_names,
        out_names,
        len(leaves),
        len(outs),
    )


def vjp_program(
    flat: Callable[..., list[Any]], leaves: list[Any], diff: list[bool], outs: list[Any]
) -> tuple[Callable[..., list[Any]], list[Any]]:
    """``(inputs, ct) -> (outputs, input cotangents)``: the program `vjp` runs, with the
    output cotangent as an input so that the backward pass can be told apart."""
    k = len(leaves)

    def program(*xs_ct: Any) -> list[Any]:
        xs, ct = list(xs_ct[:k]), list(xs_ct[k:])

        def of_diff(*dxs: Any) -> list[Any]:
            it = iter(dxs)
            return flat(*[next(it) if d else x for x, d in zip(xs, diff)])

        out, pull = vjp(of_diff, *[x for x, d in zip(xs, diff) if d])
        return list(out) + list(pull(ct))

    cts = [np.ones_like(np.asarray(o)) for o in outs]
    return program, list(leaves) + cts
