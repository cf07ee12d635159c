"""The user-facing transformations: make_jaxpr, jvp, linearize, vjp, grad, value_and_grad,
jacfwd, jacrev and hessian.

Each takes and returns pytrees. Internally a transformation flattens the arguments, runs a
flat interpreter from `funcdiff._src.interpreters`, and rebuilds the output structure.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from funcdiff._src import core, dtypes, errors
from funcdiff._src.array import Array
from funcdiff._src.interpreters import ad
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.lax import elementwise as lax_elementwise
from funcdiff._src.lax import shape as lax_shape
from funcdiff._src.shape_dtype import placeholders
from funcdiff._src.tree_util import (
    PyTreeDef,
    keystr,
    tree_flatten,
    tree_flatten_with_path,
    tree_map,
    tree_structure,
    tree_unflatten,
)
from funcdiff._src.vmap import vmap

F = TypeVar("F", bound=Callable[..., Any])


# ---- flattening helpers ---------------------------------------------------------------------


class _Store:
    """Receives the output tree structure of a function called through `flatten_fun`."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: Any = None


# Pytree shortcuts for the common call, whose arguments and output are arrays or scalars
# (leaves): a general flatten or unflatten costs about a microsecond each, and reverse mode
# does several per call. A treedef made here stands for a leaf or a tuple of leaves; the
# shortcuts return what `tree_flatten`/`tree_unflatten` return for them.
_PLAIN_LEAVES = frozenset((bool, int, float, complex, np.ndarray, Array))
_LEAF_TREE = tree_structure(0)
_LEAF_TUPLE_TREES: dict[int, PyTreeDef] = {}


def _flatten_args(args: tuple) -> tuple[list[Any], PyTreeDef]:
    """`tree_flatten(args)` for a tuple of arguments."""
    for a in args:
        if type(a) not in _PLAIN_LEAVES:
            return tree_flatten(args)
    tree = _LEAF_TUPLE_TREES.get(len(args))
    if tree is None:
        tree = _LEAF_TUPLE_TREES[len(args)] = tree_structure((0,) * len(args))
    return list(args), tree


def _flatten_output(out: Any) -> tuple[list[Any], PyTreeDef]:
    """`tree_flatten(out)` for a function's output."""
    if type(out) in _PLAIN_LEAVES or isinstance(out, core.Tracer):
        return [out], _LEAF_TREE
    return tree_flatten(out)


def _unflatten(tree: PyTreeDef, leaves: Sequence[Any]) -> Any:
    """`tree_unflatten(tree, leaves)`, at once for the treedefs made above."""
    if tree is _LEAF_TREE:
        return leaves[0]
    if tree is _LEAF_TUPLE_TREES.get(len(leaves)):
        return tuple(leaves)
    return tree_unflatten(tree, leaves)


def flatten_fun(fun: Callable[..., Any], in_tree: PyTreeDef) -> tuple[Callable[..., list], _Store]:
    store = _Store()

    def flat_fun(*leaves: Any) -> list[Any]:
        args = tree_unflatten(in_tree, leaves)
        out = fun(*args)
        out_leaves, store.value = tree_flatten(out)
        for leaf in out_leaves:
            _check_output(leaf, fun)
        return out_leaves

    return flat_fun, store


def _check_output(x: Any, fun: Callable[..., Any]) -> None:
    if not core.is_valid_array(x):
        raise TypeError(
            f"{_fun_name(fun)} returned a value of type {type(x).__name__}, which is not an "
            "array; transformed functions must return (pytrees of) arrays or scalars."
        )


def _fun_name(fun: Callable[..., Any]) -> str:
    return getattr(fun, "__name__", repr(fun))


def _describe(value: Any) -> str:
    """What a user's function returned, in the user's terms (no tracer class names)."""
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of length {len(value)}"
    if core.is_valid_array(value):
        return f"an array {core.get_aval(value).str_short()}"
    return f"a {type(value).__name__}"


def _named_like(fun: Callable[..., Any], wrapper: Callable[..., Any]) -> Callable[..., Any]:
    """`wrapper` under `fun`'s name, for error messages (its signature stays its own)."""
    wrapper.__name__ = wrapper.__qualname__ = _fun_name(fun)
    return wrapper


def _leaf_paths(fun: Callable[..., Any], args: Sequence[Any]) -> list[str]:
    """A readable name for every leaf of `args`: the parameter name plus its key path."""
    names = errors.argument_names(fun, len(args))
    out = []
    for name, arg in zip(names, args):
        for path, _ in tree_flatten_with_path(arg)[0]:
            out.append(name + keystr(path))
    return out


def _check_args(fun: Callable[..., Any], args: Sequence[Any], leaves: Sequence[Any]) -> None:
    for i, leaf in enumerate(leaves):
        if not core.is_valid_array(leaf):
            path = _leaf_paths(fun, args)[i]
            raise TypeError(
                f"Argument {path} of {_fun_name(fun)} is a {type(leaf).__name__}, which is not "
                "a valid array type; pass NumPy arrays or scalars (or mark it static under jit)."
            )


def _as_array_leaf(x: Any) -> Any:
    """A result leaf as an array: a Python scalar (a weakly typed result) becomes a NumPy
    value, which `core.owned_results` then hands out as a funcdiff Array."""
    return np.asarray(x) if type(x) in core._PY_SCALARS else x


def _argnums_tuple(argnums: int | Sequence[int], nargs: int, fun: Callable[..., Any]) -> tuple:
    if type(argnums) is int and 0 <= argnums < nargs:  # the common case, checked at once
        return (argnums,)
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for a in nums:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"argnums must be an int or a sequence of ints, got {argnums!r}.")
        if not -nargs <= a < nargs:
            raise ValueError(
                f"argnums={argnums!r} is out of range: {_fun_name(fun)} was called with {nargs} "
                "positional arguments."
            )
    normal = tuple(int(a) % nargs for a in nums)
    if len(set(normal)) < len(normal):
        repeated = sorted({a for a in normal if normal.count(a) > 1})
        raise ValueError(
            f"argnums={argnums!r} names positional argument(s) {repeated} of {_fun_name(fun)} "
            "more than once; name each argument once (the derivative for a repeated entry "
            "would be the same)."
        )
    return normal


# ---- make_jaxpr -----------------------------------------------------------------------------


def make_jaxpr(
    fun: Callable[..., Any], static_argnums: int | Sequence[int] = ()
) -> Callable[..., core.ClosedJaxpr]:
    """Trace `fun` and return its IR (a `ClosedJaxpr`), printable as a JAX-like listing.

    **Arguments:**

    - `fun`: the function to trace.
    - `static_argnums`: positions of arguments that are used as Python values, not traced.

    **Returns:** a function taking example arguments (only their shapes and dtypes matter;
    a `ShapeDtypeStruct` may stand for an array)
    and returning the `ClosedJaxpr`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        jaxpr = funcdiff.make_jaxpr(lambda x: jnp.sum(jnp.sin(x)))(np.ones(3))
        print(jaxpr)
        ```
    """
    errors.check_callable(fun, "make_jaxpr")
    static = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)

    @functools.wraps(fun, updated=())
    def make(*args: Any, **kwargs: Any) -> core.ClosedJaxpr:
        args, kwargs = placeholders((args, kwargs))
        dyn = [a for i, a in enumerate(args) if i not in static]
        leaves, in_tree = tree_flatten((dyn, kwargs))
        if not all(core.is_valid_array(leaf) for leaf in leaves):
            names = errors.argument_names(fun, len(args))
            named = [(names[i], a) for i, a in enumerate(args) if i not in static]
            for name, arg in named + list(kwargs.items()):
                for path, leaf in tree_flatten_with_path(arg)[0]:
                    if not core.is_valid_array(leaf):
                        raise TypeError(
                            f"make_jaxpr: argument {name}{keystr(path)} of type "
                            f"{type(leaf).__name__} is not an array; pass arrays, or mark it "
                            "with static_argnums.")

        def call(*flat: Any) -> list[Any]:
            dyn_args, kw = tree_unflatten(in_tree, flat)
            it = iter(dyn_args)
            full = [args[i] if i in static else next(it) for i in range(len(args))]
            out, _ = tree_flatten(fun(*full, **kw))
            return out

        avals = [core.get_aval(x) for x in leaves]
        return pe.trace_to_jaxpr(call, avals)

    return make


# ---- forward mode ---------------------------------------------------------------------------


def _check_tangents(primals: Sequence[Any], tangents: Sequence[Any], what: str) -> None:
    p_tree, t_tree = tree_structure(primals), tree_structure(tangents)
    if p_tree != t_tree:
        raise TypeError(
            f"{what}: primal and tangent arguments must have the same tree structure; got "
            f"primal structure {p_tree} and tangent structure {t_tree}."
        )
    paths = [f"primals{keystr(path)}" for path, _ in tree_flatten_with_path(tuple(primals))[0]]
    for i, (p, t) in enumerate(zip(tree_flatten(primals)[0], tree_flatten(tangents)[0])):
        pa, ta = core.get_aval(p), core.get_aval(t)
        expected = ad.tangent_aval(pa)
        if pa.shape != ta.shape:
            raise ValueError(
                f"{what}: the tangent for {paths[i]} has shape {ta.shape}, but the primal "
                f"has shape {pa.shape}; they must be equal."
            )
        if expected.dtype == dtypes.float0 and ta.dtype != dtypes.float0:
            # As JAX: an integer or boolean primal has no tangent space, only float0 zeros.
            raise TypeError(
                f"{what}: the tangent for {paths[i]} has dtype {ta.dtype}, but the primal has "
                f"the non-differentiable dtype {pa.dtype}, whose tangent dtype is float0 (as "
                "in JAX); pass a float0 zero, np.zeros(shape, [('float0', 'V')]), or make the "
                "primal a float array."
            )
        if expected.dtype != dtypes.float0 and ta.dtype != pa.dtype and not (
            dtypes.is_inexact(ta.dtype) and (ta.weak_type or pa.weak_type)
        ):
            raise TypeError(
                f"{what}: the tangent for {paths[i]} has dtype {ta.dtype}, but the primal "
                f"has dtype {pa.dtype}; they must be equal."
            )


def jvp(
    fun: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any], has_aux: bool = False
) -> tuple[Any, ...]:
    """Forward mode: evaluate `fun` and its directional derivative at `primals` along
    `tangents`.

    **Arguments:**

    - `fun`: a function of ``len(primals)`` positional arguments.
    - `primals`: a tuple or list of arguments (pytrees of arrays).
    - `tangents`: matching tangents, same structure, shapes and dtypes.
    - `has_aux`: `fun` returns ``(output, aux)``; `aux` is returned without differentiation.

    **Returns:** ``(primals_out, tangents_out)`` (plus ``aux`` when `has_aux`).

    !!! Example
        ```python
        import funcdiff
        import funcdiff.numpy as jnp

        y, dy = funcdiff.jvp(jnp.sin, (0.5,), (1.0,))
        assert abs(dy - jnp.cos(0.5)) < 1e-12
        ```
    """
    errors.check_callable(fun, "jvp")
    if not isinstance(primals, tuple | list) or not isinstance(tangents, tuple | list):
        raise TypeError(
            "jvp: primals and tangents must be tuples or lists of arguments, got "
            f"{type(primals).__name__} and {type(tangents).__name__}; for one argument "
            "write jvp(f, (x,), (t,))."
        )
    _check_tangents(primals, tangents, "jvp")
    p_leaves, in_tree = tree_flatten(tuple(primals))
    t_leaves = tree_flatten(tuple(tangents))[0]
    _check_args(fun, primals, p_leaves)
    t_in = [
        ad.Zero(ad.tangent_aval(core.get_aval(p))) if not dtypes.is_inexact(core.get_aval(p).dtype)
        else t
        for p, t in zip(p_leaves, t_leaves)
    ]
    flat_fun, out_store, n_out = _aux_flat_fun(fun, in_tree, has_aux)
    out_p, out_t = ad.jvp_flat(flat_fun, p_leaves, t_in)
    n = n_out.value
    outs = core.owned_results([*[_as_array_leaf(x) for x in out_p[:n]],
                               *[_zeros_or(t) for t in out_t[:n]]], [*p_leaves, *t_leaves])
    out_tree, aux_tree = out_store.value
    primal_out = tree_unflatten(out_tree, outs[:n])
    out_t = outs[n:]
    tangent_out = tree_unflatten(out_tree, out_t)
    if has_aux:
        return primal_out, tangent_out, aux_tree.rebuild(out_p[n:])
    return primal_out, tangent_out


def _zeros_or(t: Any) -> Any:
    if type(t) is ad.Zero:
        return _as_array_leaf(np.zeros(t.aval.shape, t.aval.dtype))
    return _as_array_leaf(t)


def _aux_flat_fun(
    fun: Callable[..., Any], in_tree: PyTreeDef, has_aux: bool
) -> tuple[Callable[..., list], _Store, _Store]:
    """Flatten `fun`; with `has_aux`, its aux output is appended after the main outputs."""
    store, n_out = _Store(), _Store()

    def flat_fun(*leaves: Any) -> list[Any]:
        args = _unflatten(in_tree, leaves)
        result = fun(*args)
        if has_aux:
            if not isinstance(result, tuple | list) or len(result) != 2:
                raise TypeError(
                    f"{_fun_name(fun)} was transformed with has_aux=True, so it must return a "
                    f"pair (output, aux); it returned {_describe(result)}."
                )
            out, aux = result
        else:
            out, aux = result, None
        out_leaves, out_tree = _flatten_output(out)
        for leaf in out_leaves:
            _check_output(leaf, fun)
        n_out.value = len(out_leaves)
        if not has_aux:
            store.value = (out_tree, None)
            return out_leaves
        # Array-valued aux leaves are returned as (undifferentiated) outputs, so that traced
        # values come back as plain values; other aux leaves are passed through.
        aux_leaves, aux_tree = tree_flatten(aux)
        aux_arrays = [x for x in aux_leaves if core.is_valid_array(x)]
        store.value = (out_tree, _AuxTree(aux_tree, aux_leaves))
        return out_leaves + aux_arrays

    return flat_fun, store, n_out


class _AuxTree:
    """The structure of an aux output, and its non-array leaves."""

    __slots__ = ("treedef", "leaves")

    def __init__(self, treedef: PyTreeDef, leaves: list[Any]):
        self.treedef = treedef
        self.leaves = leaves

    def rebuild(self, array_values: Sequence[Any]) -> Any:
        it = iter(array_values)
        leaves = [next(it) if core.is_valid_array(x) else x for x in self.leaves]
        return tree_unflatten(self.treedef, leaves)


def linearize(fun: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """Evaluate `fun` at `primals` and return its linear approximation (the JVP at that point)
    as a function of tangents, evaluated without re-running `fun`.

    **Returns:** ``(primals_out, f_jvp)``, plus ``aux`` when `has_aux` (then `fun` returns a
    pair ``(output, aux)`` and only ``output`` is linearized).

    !!! Example
        ```python
        import funcdiff
        import funcdiff.numpy as jnp

        y, f_jvp = funcdiff.linearize(jnp.exp, 0.0)
        assert f_jvp(2.0) == 2.0
        ```
    """
    errors.check_callable(fun, "linearize")
    p_leaves, in_tree = tree_flatten(primals)
    _check_args(fun, primals, p_leaves)
    flat_fun, store, n_out = _aux_flat_fun(fun, in_tree, has_aux)
    diff = [dtypes.is_inexact(core.get_aval(p).dtype) for p in p_leaves]
    out_all, linear = ad.linearize_flat(flat_fun, p_leaves, diff)
    n = n_out.value
    out_tree, aux_tree = store.value

    def f_jvp(*tangents: Any) -> Any:
        if len(tangents) != len(primals):
            raise TypeError(f"f_jvp takes {len(primals)} tangent arguments, got {len(tangents)}")
        _check_tangents(primals, tangents, "linearize")
        t_leaves = [
            t if d else np.zeros(core.get_aval(p).shape, dtypes.float0)
            for p, t, d in zip(p_leaves, tree_flatten(tangents)[0], diff)
        ]
        outs = linear.apply(t_leaves)[:n]
        return tree_unflatten(out_tree, core.owned_results([_as_array_leaf(o) for o in outs],
                                                           [*p_leaves, *t_leaves]))

    primal_out = tree_unflatten(out_tree, core.owned_results(
        [_as_array_leaf(x) for x in out_all[:n]], p_leaves))
    if has_aux:
        return primal_out, f_jvp, aux_tree.rebuild(out_all[n:])
    return primal_out, f_jvp


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
        return pull([_check_cotangent(c, a, i, primal_out)
                     for i, (c, a) in enumerate(zip(ct_leaves, out_avals))])

    if has_aux:
        return primal_out, vjp_fn, aux
    return primal_out, vjp_fn


def _vjp(fun: Callable[..., Any], primals: Sequence[Any], has_aux: bool) -> tuple[Any, ...]:
    """The work of `vjp`: ``(primal_out, pull, out_tree, out_avals, aux)``, where
    ``pull(ct_leaves)`` takes one cotangent per output leaf, already checked against
    `out_avals`, and returns the tuple of input cotangents (`grad` calls it directly)."""
    p_leaves, in_tree = _flatten_args(primals)
    _check_args(fun, primals, p_leaves)
    flat_fun, store, n_out = _aux_flat_fun(fun, in_tree, has_aux)
    diff = [dtypes.is_inexact(core.get_aval(p).dtype) for p in p_leaves]
    out_all, linear = ad.linearize_flat(flat_fun, p_leaves, diff)
    n = n_out.value
    out_tree, aux_tree = store.value
    out_p = out_all[:n]
    out_avals = [core.get_aval(x) for x in out_p]
    primal_out = _unflatten(out_tree, core.owned_results(
        [_as_array_leaf(x) for x in out_p], p_leaves))

    def pull(ct_leaves: list[Any]) -> tuple[Any, ...]:
        cts = ct_leaves + [ad.Zero(core.get_aval(x)) for x in out_all[n:]]
        in_cts = linear.transpose([_ct_for_output(c, z) for c, z in zip(cts, linear.out_zero)])
        results = core.owned_results([
            _zeros_or(c) if d else np.zeros(core.get_aval(p).shape, dtypes.float0)
            for c, p, d in zip(in_cts, p_leaves, diff)
        ], [*p_leaves, *ct_leaves])
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
        problem = (f"has dtype {ca.dtype} but the primal output is {out.str_short()}; pass a "
                   f"cotangent of dtype {out.dtype} (for example ct.astype(np.{out.dtype}))")
    if problem is None:
        return ct
    path = keystr(tree_flatten_with_path(primal_out)[0][i][0])
    raise ValueError(f"vjp_fn: the cotangent{f' for output {path}' if path else ''} {problem}.")


def _ct_for_output(ct: Any, out_is_zero: bool) -> Any:
    # Outputs whose tangent is identically zero receive no cotangent.
    if out_is_zero or type(ct) is ad.Zero:
        return None
    return ct


def _check_grad_input(fun: Callable, args: Sequence[Any], argnums: tuple, holomorphic: bool,
                      allow_int: bool, what: str) -> None:
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
                    f"{what}: argument {where} is a {type(leaf).__name__}, not an array."
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

    @functools.wraps(fun, updated=())
    def value_and_grad_f(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums_tuple(argnums, len(args), fun)
        _check_grad_input(fun, args, nums, holomorphic, allow_int, "grad")

        def partial_fun(*diff_args: Any) -> Any:
            full = list(args)
            for i, a in zip(nums, diff_args):
                full[i] = a
            return fun(*full, **kwargs)

        _named_like(fun, partial_fun)
        diff_args = (args[nums[0]],) if len(nums) == 1 else tuple(args[i] for i in nums)
        out, pull, _, _, aux = _vjp(partial_fun, diff_args, has_aux)
        _check_scalar_output(out, fun, holomorphic)
        grads = pull([np.array(1, core.get_aval(out).dtype)])  # (np.ones is Python code)
        g = grads[0] if isinstance(argnums, int) else tuple(grads)
        return ((out, aux) if has_aux else out), g

    return value_and_grad_f


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
        raise TypeError("grad with holomorphic=True requires a complex output, got "
                        f"{aval.dtype}.")


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

    @functools.wraps(fun, updated=())
    def grad_f(*args: Any, **kwargs: Any) -> Any:
        if has_aux:
            (_, aux), g = vg(*args, **kwargs)
            return g, aux
        return vg(*args, **kwargs)[1]

    return grad_f


# ---- Jacobians ------------------------------------------------------------------------------


def _check_jac_dtypes(leaves: Sequence[Any], holomorphic: bool, what: str, role: str) -> None:
    # As in JAX: without `holomorphic`, jacfwd takes real inputs and any outputs (complex
    # tangents, float0 for integers), jacrev real or complex inputs and real outputs.
    for x in leaves:
        dt = core.get_aval(x).dtype
        if holomorphic and not dtypes.is_complex(dt):
            raise TypeError(f"{what} with holomorphic=True requires complex {role}, got {dt}.")
        if holomorphic or (what, role) == ("jacfwd", "outputs"):
            continue
        if (what, role) == ("jacrev", "inputs") and dtypes.is_complex(dt):
            continue
        if not dtypes.is_float(dt):
            hint = " For holomorphic differentiation, pass holomorphic=True." if \
                dtypes.is_complex(dt) else ""
            raise TypeError(f"{what} requires real-valued {role} (a float dtype), got {dt}.{hint}")


def _partial_args(fun, args, kwargs, nums):
    def partial_fun(*diff_args: Any) -> Any:
        full = list(args)
        for i, a in zip(nums, diff_args):
            full[i] = a
        return fun(*full, **kwargs)

    return _named_like(fun, partial_fun)


def _map_over_basis(fun: Callable[[Any], Any], aval: core.ShapedArray,
                    chunk_size: int | None) -> Any:
    """`fun` mapped over the unit vectors of shape ``aval.shape`` (the rows of the identity).
    Unchunked, the identity is one constant. With `chunk_size`, each chunk builds its own unit
    vectors from their indices, so the whole ``size x size`` basis never exists at once."""
    if chunk_size is None:
        return vmap(fun)(np.eye(aval.size, dtype=aval.dtype).reshape((aval.size, *aval.shape)))
    positions = np.arange(aval.size).reshape(aval.shape)

    def from_index(k: Any) -> Any:
        return fun(lax_elementwise.convert_element_type(lax_elementwise.eq(positions, k),
                                                        aval.dtype))

    return vmap(from_index, chunk_size=chunk_size)(np.arange(aval.size))


def _dense(x: Any, aval: core.ShapedArray) -> Any:
    if x is None or type(x) is ad.Zero:
        return np.zeros(aval.shape, ad.tangent_aval(aval).dtype)
    return x


def _linearize_for_jacobian(fun, argnums, has_aux, holomorphic, what, args, kwargs,
                            allow_int=False):
    nums = _argnums_tuple(argnums, len(args), fun)
    diff_args = tuple(args[i] for i in nums)
    in_leaves, in_tree = tree_flatten(diff_args)
    _check_args(fun, diff_args, in_leaves)
    inexact = [dtypes.is_inexact(core.get_aval(x).dtype) for x in in_leaves]
    _check_jac_dtypes([x for x, i in zip(in_leaves, inexact) if i or not allow_int],
                      holomorphic, what, "inputs")
    flat_fun, store, n_out = _aux_flat_fun(_partial_args(fun, args, kwargs, nums), in_tree,
                                           has_aux)
    out_all, linear = ad.linearize_flat(flat_fun, in_leaves, inexact)
    _check_jac_dtypes(out_all[: n_out.value], holomorphic, what, "outputs")
    return in_leaves, in_tree, store, n_out.value, out_all, linear


def jacfwd(
    fun: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
    chunk_size: int | None = None,
) -> Callable[..., Any]:
    """The Jacobian of `fun` by forward mode: the JVPs along all input directions run as one
    vectorised (`vmap`) pass of `jvp`. Output leaves have shape
    ``out.shape + in.shape``, as in JAX.

    **Arguments:** as `grad`, plus `chunk_size`: push this many input directions at a time,
    bounding memory for large Jacobians (same result).

    !!! Example
        ```python
        import numpy as np
        import funcdiff

        J = funcdiff.jacfwd(lambda x: x ** 2)(np.array([1.0, 2.0]))
        assert np.allclose(J, np.diag([2.0, 4.0]))
        ```
    """
    errors.check_callable(fun, "jacfwd")

    @functools.wraps(fun, updated=())
    def jacfwd_f(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums_tuple(argnums, len(args), fun)
        diff_args = tuple(args[i] for i in nums)
        in_leaves, in_tree = tree_flatten(diff_args)
        _check_args(fun, diff_args, in_leaves)
        _check_jac_dtypes(in_leaves, holomorphic, "jacfwd", "inputs")
        flat_fun, store, n_out = _aux_flat_fun(_partial_args(fun, args, kwargs, nums), in_tree,
                                               has_aux)
        in_avals = [core.get_aval(x) for x in in_leaves]
        zeros = [np.zeros(a.shape, a.dtype) for a in in_avals]
        columns = []  # columns[i][k]: output k's JVPs along every unit direction of input i

        def push(t: Any, i: int) -> list[Any]:
            tangents = zeros[:i] + [t] + zeros[i + 1 :]
            primals_out, tangents_out = ad.jvp_flat(flat_fun, in_leaves, tangents)
            return [_dense(x, core.get_aval(p)) for x, p in zip(tangents_out, primals_out)]

        # Forward mode is jvp vectorised over the input directions: the primal computation
        # runs once, the tangents as one batch.
        out_all, _ = ad.jvp_flat(flat_fun, in_leaves, [ad.Zero(ad.tangent_aval(a))
                                                        for a in in_avals])
        n = n_out.value
        out_avals = [core.get_aval(x) for x in out_all[:n]]
        _check_jac_dtypes(out_all[:n], holomorphic, "jacfwd", "outputs")
        for i, ia in enumerate(in_avals):
            if ia.size:
                cols = _map_over_basis(lambda t, i=i: push(t, i)[:n], ia, chunk_size)
            else:
                cols = [np.zeros((0, *oa.shape), oa.dtype) for oa in out_avals]
            columns.append(cols)
        jac = []
        for k, oa in enumerate(out_avals):
            row = []
            for i, ia in enumerate(in_avals):
                block = lax_shape.reshape(columns[i][k], (*ia.shape, *oa.shape))
                perm = tuple(range(ia.ndim, ia.ndim + oa.ndim)) + tuple(range(ia.ndim))
                row.append(lax_shape.transpose(block, perm))
            jac.append(row)
        return _finish_jac(jac, store, n, out_all, in_tree, argnums, has_aux)

    return jacfwd_f


def jacrev(
    fun: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
    allow_int: bool = False,
    chunk_size: int | None = None,
) -> Callable[..., Any]:
    """The Jacobian of `fun` by reverse mode: `fun` is linearized once, then the VJPs of all
    output directions run as one vectorised (`vmap`) backward pass. Output leaves have shape
    ``out.shape + in.shape``, as in JAX.

    **Arguments:** as `grad` (`allow_int` lets integer inputs through, giving `float0`
    zeros), plus `chunk_size`: pull back this many output directions at a time, bounding
    memory for large Jacobians (same result).

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        J = funcdiff.jacrev(lambda x: jnp.sum(x ** 2))(np.array([1.0, 2.0]))
        assert np.allclose(J, [2.0, 4.0])
        ```
    """
    errors.check_callable(fun, "jacrev")

    @functools.wraps(fun, updated=())
    def jacrev_f(*args: Any, **kwargs: Any) -> Any:
        in_leaves, in_tree, store, n, out_all, linear = _linearize_for_jacobian(
            fun, argnums, has_aux, holomorphic, "jacrev", args, kwargs, allow_int)
        in_avals = [core.get_aval(x) for x in in_leaves]
        out_avals = [core.get_aval(x) for x in out_all[:n]]
        no_ct = [None] * len(out_all)
        jac = []
        for k, oa in enumerate(out_avals):
            def pull(c: Any, k: int = k) -> list[Any]:
                cts = linear.transpose(no_ct[:k] + [c] + no_ct[k + 1 :])
                return [_dense(ct, ia) for ct, ia in zip(cts, in_avals)]

            if linear.out_zero[k] or not oa.size:
                rows = [np.zeros((oa.size, *ia.shape), ia.dtype) for ia in in_avals]
            else:
                rows = _map_over_basis(pull, oa, chunk_size)
            jac.append([lax_shape.reshape(r, (*oa.shape, *ia.shape))
                        for r, ia in zip(rows, in_avals)])
        return _finish_jac(jac, store, n, out_all, in_tree, argnums, has_aux)

    return jacrev_f


def _finish_jac(jac, store, n, out_all, in_tree, argnums, has_aux):
    out_tree, aux_tree = store.value
    per_out = [tree_unflatten(in_tree, core.owned_results([_as_array_leaf(x) for x in row], ()))
               for row in jac]
    per_out = [r[0] if isinstance(argnums, int) else r for r in per_out]
    result = tree_unflatten(out_tree, per_out)
    if has_aux:
        return result, aux_tree.rebuild(out_all[n:])
    return result


def hessian(
    fun: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable[..., Any]:
    """The Hessian of a scalar function: ``jacfwd(jacrev(fun))`` (forward-over-reverse).

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        H = funcdiff.hessian(lambda x: jnp.sum(x ** 3))(np.array([1.0, 2.0]))
        assert np.allclose(H, np.diag([6.0, 12.0]))
        ```
    """
    errors.check_callable(fun, "hessian")
    return jacfwd(jacrev(fun, argnums, has_aux, holomorphic), argnums, has_aux, holomorphic)



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


def typeof(x: Any) -> core.ShapedArray:
    """The abstract value of `x`: its shape, dtype and weak type, as a `jit` trace sees it.

    `x` may be an array, a Python or NumPy scalar, or a traced value. It prints as JAX's does:
    `float64[3]`, with a `~` before a weakly typed value's dtype (a Python scalar).

    !!! Example
        ```python
        import numpy as np
        import funcdiff

        assert str(funcdiff.typeof(np.zeros((2, 3), np.float32))) == "float32[2,3]"
        assert str(funcdiff.typeof(1.0)) == "~float64[]"
        seen = []
        funcdiff.vmap(lambda x: seen.append(str(funcdiff.typeof(x))) or x)(np.arange(3))
        assert seen == ["int64[]"]
        ```
    """
    return core.get_aval(x)
