"""Reverse mode: `vjp`, `grad`, `value_and_grad`, and `stop_gradient`, which cuts a value out
of differentiation."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes, errors
from funcdiff._src.api.flatten import (
    _PLAIN_LEAVES,
    _argnums_tuple,
    _as_array_leaf,
    _check_output,
    _flatten_args,
    _flatten_output,
    _fun_name,
    _linearize_leaves,
    _named_like,
    _unflatten,
    _zeros_or,
)
from funcdiff._src.array import Array
from funcdiff._src.interpreters import ad, tape
from funcdiff._src.lax import elementwise as lax_elementwise
from funcdiff._src.tree_util import (
    keystr,
    tree_flatten,
    tree_flatten_with_path,
    tree_map,
)

# ---- reverse mode ---------------------------------------------------------------------------


def vjp(fun: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """Reverse mode: evaluate `fun` at `primals` and return a function that pulls output
    cotangents back to the inputs (a vector-Jacobian product).

    **Returns:** ``(primals_out, vjp_fn)`` (plus ``aux`` when `has_aux`); ``vjp_fn(ct)`` takes a
    cotangent with the structure, shapes and dtypes of ``primals_out`` and returns a tuple with
    one cotangent per primal (integer inputs get `float0` zeros, as in JAX).

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        y, vjp_fn = funcdiff.vjp(lambda x: x * x, np.array([1.0, 2.0]))
        (ct,) = vjp_fn(np.ones(2))
        assert np.allclose(ct, [2.0, 4.0])
        ```
    """
    errors.check_callable(fun, "vjp")
    primal_out, pull, out_tree, out_avals, aux = _vjp(fun, primals, has_aux)

    def vjp_fn(ct: Any) -> tuple[Any, ...]:
        ct_leaves, ct_tree = tree_flatten(ct)
        if ct_tree != out_tree:
            raise TypeError(
                "vjp_fn: the cotangent must have the structure of the primal output; got "
                f"cotangent structure {ct_tree} and primal output structure {out_tree}."
            )
        return pull(
            [
                _check_cotangent(c, a, i, primal_out)
                for i, (c, a) in enumerate(zip(ct_leaves, out_avals))
            ]
        )

    if has_aux:
        return primal_out, vjp_fn, aux
    return primal_out, vjp_fn


def _vjp(
    fun: Callable[..., Any],
    primals: Sequence[Any],
    has_aux: bool,
    linearize: Callable[..., tuple[list[Any], Any]] = ad.linearize_flat,
) -> tuple[Any, ...]:
    """The work of `vjp`: ``(primal_out, pull, out_tree, out_avals, aux)``, where
    ``pull(ct_leaves)`` takes one cotangent per output leaf, already checked against
    `out_avals`, and returns the tuple of input cotangents (`grad` calls it directly).

    `vjp` linearizes with `ad.linearize_flat`: its `vjp_fn` may be called many times, traced
    or printed, and the linear program's residuals, computed once by the forward pass, serve
    every call. `grad` pulls once, at once, and passes `tape.reverse_linearize`, which runs
    eagerly on the tape when it can (its pullbacks compute their partial derivatives when
    pulled)."""
    p_leaves, in_tree = _flatten_args(primals)
    out_all, linear, diff, n, out_tree, aux_tree = _linearize_leaves(
        fun, primals, p_leaves, in_tree, has_aux, linearize
    )
    out_p = out_all[:n]
    out_avals = [core.get_aval(x) for x in out_p]
    primal_out = _unflatten(
        out_tree, core.owned_results([_as_array_leaf(x) for x in out_p], p_leaves)
    )

    def pull(ct_leaves: list[Any]) -> tuple[Any, ...]:
        cts = ct_leaves + [ad.Zero(core.get_aval(x)) for x in out_all[n:]]
        in_cts = linear.transpose([_ct_for_output(c, z) for c, z in zip(cts, linear.out_zero)])
        results = core.owned_results(
            [
                _zeros_or(c) if d else np.zeros(core.get_aval(p).shape, dtypes.float0)
                for c, p, d in zip(in_cts, p_leaves, diff)
            ],
            [*p_leaves, *ct_leaves],
        )
        return tuple(_unflatten(in_tree, results))

    aux = aux_tree.rebuild(out_all[n:]) if has_aux else None
    return primal_out, pull, out_tree, out_avals, aux


def _check_cotangent(ct: Any, out: core.ShapedArray, i: int, primal_out: Any) -> Any:
    """`ct` as the cotangent of an output `out`: the same shape and dtype (a Python scalar
    takes the output's dtype), else an error naming the output leaf."""
    ca = core.get_aval(ct)
    problem = None
    if ca.shape != out.shape:
        problem = f"has shape {ca.shape} but the primal output has shape {out.shape}"
    elif out.dtype.kind in "fc" and ca.dtype != out.dtype:
        if ca.weak_type and (ca.dtype.kind != "c" or out.dtype.kind == "c"):
            return lax_elementwise.convert_element_type(ct, out.dtype)
        problem = (
            f"has dtype {ca.dtype} but the primal output is {out.str_short()}; pass a "
            f"cotangent of dtype {out.dtype} (for example ct.astype(np.{out.dtype}))"
        )
    if problem is None:
        return ct
    path = keystr(tree_flatten_with_path(primal_out)[0][i][0])
    raise ValueError(f"vjp_fn: the cotangent{f' for output {path}' if path else ''} {problem}.")


def _ct_for_output(ct: Any, out_is_zero: bool) -> Any:
    # Outputs whose tangent is identically zero receive no cotangent.
    if out_is_zero or type(ct) is ad.Zero:
        return None
    return ct


def _check_grad_input(
    fun: Callable,
    args: Sequence[Any],
    argnums: tuple,
    holomorphic: bool,
    allow_int: bool,
    what: str,
) -> None:
    # Fast path: every leaf a float (or, with holomorphic, complex) array; names only for errors.
    ok = True
    for a in argnums:
        arg = args[a]
        for leaf in (arg,) if type(arg) in _PLAIN_LEAVES else tree_flatten(arg)[0]:
            if not core.is_valid_array(leaf):
                ok = False
                break
            kind = core.get_aval(leaf).dtype.kind
            if (holomorphic and kind != "c") or (not holomorphic and kind not in "fc"):
                ok = False
                break
        if not ok:
            break
    if ok:
        return
    names = errors.argument_names(fun, len(args))
    for a in argnums:
        for path, leaf in tree_flatten_with_path(args[a])[0]:
            dt = core.get_aval(leaf).dtype if core.is_valid_array(leaf) else None
            where = names[a] + keystr(path)
            if dt is None:
                raise TypeError(
                    f"{what}: argument {where} is a {core.value_kind(leaf)}, not an array."
                )
            if holomorphic and not dtypes.is_complex(dt):
                raise TypeError(
                    f"{what} with holomorphic=True requires complex inputs, but argument "
                    f"{where} has dtype {dt}."
                )
            if not dtypes.is_inexact(dt) and not allow_int:
                raise TypeError(
                    f"{what} requires real- or complex-valued inputs (a float or complex dtype), "
                    f"but argument {where} has dtype {dt}. Differentiate with respect to float "
                    "arguments only (convert it with .astype(float), or leave it out of "
                    "argnums)."
                )


def value_and_grad(
    fun: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
    allow_int: bool = False,
) -> Callable[..., Any]:
    """Like `grad`, but the returned function gives ``(value, gradient)`` (with `has_aux`:
    ``((value, aux), gradient)``), evaluating `fun` once.

    **Arguments:** `fun`, `argnums`, `has_aux`, `holomorphic` and `allow_int`, as for `grad`.

    !!! Example
        ```python
        import funcdiff
        import funcdiff.numpy as jnp

        value, g = funcdiff.value_and_grad(lambda x: x ** 3)(2.0)
        assert (value, g) == (8.0, 12.0)
        ```
    """
    errors.check_callable(fun, "value_and_grad")
    # The common call, one real array or Python float differentiated outside any
    # transformation, takes `_leaf_value_and_grad` (decided here once, and per call by the
    # argument's type); the rest, the general path below.
    leaf_argnum = argnums if type(argnums) is int and argnums >= 0 and not has_aux else -1
    real_leaf = not holomorphic

    @functools.wraps(fun, updated=())
    def value_and_grad_f(*args: Any, **kwargs: Any) -> Any:
        if 0 <= leaf_argnum < len(args) and real_leaf and _real_leaf(args[leaf_argnum]):
            return _leaf_value_and_grad(fun, args, kwargs, leaf_argnum)
        nums = _argnums_tuple(argnums, len(args), fun)
        _check_grad_input(fun, args, nums, holomorphic, allow_int, "grad")

        def partial_fun(*diff_args: Any) -> Any:
            full = list(args)
            for i, a in zip(nums, diff_args):
                full[i] = a
            return fun(*full, **kwargs)

        _named_like(fun, partial_fun)
        diff_args = (args[nums[0]],) if len(nums) == 1 else tuple(args[i] for i in nums)
        out, pull, _, _, aux = _vjp(partial_fun, diff_args, has_aux, tape.reverse_linearize)
        _check_scalar_output(out, fun, holomorphic)
        # The seed: a one of the output's type (np.ones is Python code); weakly typed for a
        # weakly typed output, as in JAX, so that the gradient keeps the weak type.
        out_aval = core.get_aval(out)
        grads = pull([1.0 if out_aval.weak_type and out_aval.dtype == np.float64
                      else np.array(1, out_aval.dtype)])
        g = grads[0] if isinstance(argnums, int) else tuple(grads)
        return ((out, aux) if has_aux else out), g

    return value_and_grad_f


def _real_leaf(x: Any) -> bool:
    """Whether `x`, a differentiated argument, takes `_leaf_value_and_grad`: a real array or
    Python float, outside any transformation."""
    t = type(x)
    return (t is float or (t is np.ndarray or t is Array) and x.dtype.kind == "f") and (
        tape.usable()
    )


def _leaf_value_and_grad(
    fun: Callable[..., Any], args: tuple, kwargs: dict[str, Any], argnum: int
) -> tuple[Any, Any]:
    """`value_and_grad` of `fun` in its argument `argnum`, a real array or Python float, on
    the eager tape: what the general path computes, with the same checks and messages, without
    its pytree and argument handling."""
    x = args[argnum]
    trees = []

    def flat_fun(x: Any) -> list[Any]:
        full = list(args)
        full[argnum] = x
        out = fun(*full, **kwargs)
        if type(out) is tape.TapeTracer or type(out) is float:  # (a leaf, as the checks find)
            return [out]
        out_leaves, out_tree = _flatten_output(out)
        for leaf in out_leaves:
            _check_output(leaf, fun)
        trees.append(out_tree)
        return out_leaves

    outs, linear = tape.tape_linearize(flat_fun, (x,), (True,))
    o = outs[0]
    if type(o) is float and not trees:
        # A Python float output: a real scalar, weakly typed. Its cotangent is a Python float
        # too, so that the backward pass computes on Python floats, as the forward pass did;
        # the results are new weakly typed arrays, as the general path hands them out.
        out = _as_array_leaf(o)
        ct: Any = 1.0
    else:
        tree = trees[0] if trees else _flatten_output(o)[1]
        out = _unflatten(tree, core.owned_results([_as_array_leaf(o) for o in outs], (x,)))
        _check_scalar_output(out, fun, False)
        ct = np.array(1, core.get_aval(o).dtype)
    (g,) = linear.transpose((ct,))  # (an output that carries no derivative takes none)
    if type(g) is float:
        return out, _as_array_leaf(g)
    if type(g) is Array and type(x) is float and type(ct) is float:
        return out, g  # (no array among the inputs: a funcdiff result is already owned)
    return out, core.owned_results((_zeros_or(g),), (x, ct))[0]


def _check_scalar_output(out: Any, fun: Callable[..., Any], holomorphic: bool) -> None:
    if not core.is_valid_array(out):
        raise TypeError(
            f"grad requires {_fun_name(fun)} to return a scalar array, but it returned a "
            f"{type(out).__name__}; for pytree outputs use vjp or jacrev."
        )
    aval = core.get_aval(out)
    if aval.shape != ():
        raise TypeError(
            f"grad requires a scalar output, but {_fun_name(fun)} returned an array of shape "
            f"{aval.shape} ({aval.str_short()}). Use funcdiff.jacrev for the full Jacobian, "
            "funcdiff.vjp for a vector-Jacobian product, or reduce the output (e.g. .sum())."
        )
    if dtypes.is_complex(aval.dtype) and not holomorphic:
        raise TypeError(
            f"grad requires a real-valued output, but {_fun_name(fun)} returned dtype "
            f"{aval.dtype}. For holomorphic functions pass holomorphic=True; otherwise take "
            "the real part, abs or a norm of the output."
        )
    if not dtypes.is_inexact(aval.dtype):
        raise TypeError(
            f"grad requires a float output, but {_fun_name(fun)} returned dtype {aval.dtype}."
        )
    if holomorphic and not dtypes.is_complex(aval.dtype):
        raise TypeError(f"grad with holomorphic=True requires a complex output, got {aval.dtype}.")


def grad(
    fun: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
    allow_int: bool = False,
) -> Callable[..., Any]:
    """The gradient of a scalar-valued function, computed in reverse mode.

    **Arguments:**

    - `fun`: returns a scalar (a real float; complex with `holomorphic=True`).
    - `argnums`: which positional argument(s) to differentiate; an int gives that argument's
      gradient, a tuple gives a tuple of gradients.
    - `has_aux`: `fun` returns ``(value, aux)``; the gradient function returns
      ``(gradient, aux)``.
    - `holomorphic`: differentiate a complex function of complex inputs holomorphically.
    - `allow_int`: allow integer and boolean arguments (their gradient is `float0` zeros)
      instead of raising.

    **Returns:** a function with `fun`'s signature returning gradients shaped like the
    arguments (pytrees are kept).

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        def loss(params, x):
            return jnp.sum(jnp.tanh(x @ params["w"] + params["b"]) ** 2)

        params = {"w": np.ones((3, 2)), "b": np.zeros(2)}
        grads = funcdiff.grad(loss)(params, np.ones((4, 3)))
        assert grads["w"].shape == (3, 2)
        ```
    """
    errors.check_callable(fun, "grad")
    vg = value_and_grad(fun, argnums, has_aux, holomorphic, allow_int)
    leaf_argnum = argnums if type(argnums) is int and argnums >= 0 and not has_aux else -1
    real_leaf = not holomorphic

    @functools.wraps(fun, updated=())
    def grad_f(*args: Any, **kwargs: Any) -> Any:
        if 0 <= leaf_argnum < len(args) and real_leaf:
            x = args[leaf_argnum]  # (`_real_leaf`, inlined for the common Python float)
            if (type(x) is float and tape.usable()) or _real_leaf(x):
                return _leaf_value_and_grad(fun, args, kwargs, leaf_argnum)[1]
        if has_aux:
            (_, aux), g = vg(*args, **kwargs)
            return g, aux
        return vg(*args, **kwargs)[1]

    return grad_f


def stop_gradient(x: Any) -> Any:
    """Treat `x` (an array or a pytree of arrays) as a constant for differentiation: the
    identity with zero derivative.

    !!! Example
        ```python
        import funcdiff

        assert funcdiff.grad(lambda x: x * funcdiff.stop_gradient(x))(3.0) == 3.0
        f = lambda x: funcdiff.stop_gradient({"a": x})["a"] * x
        assert funcdiff.grad(f)(3.0) == 3.0
        ```
    """
    return tree_map(lax_elementwise.stop_gradient, x)
