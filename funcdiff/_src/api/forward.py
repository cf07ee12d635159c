"""Forward mode: `jvp` and `linearize`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes, errors
from funcdiff._src.api.flatten import (
    _as_array_leaf,
    _aux_flat_fun,
    _check_args,
    _zeros_or,
)
from funcdiff._src.interpreters import ad
from funcdiff._src.tree_util import (
    keystr,
    tree_flatten,
    tree_flatten_with_path,
    tree_structure,
    tree_unflatten,
)

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
        if (
            expected.dtype != dtypes.float0
            and ta.dtype != pa.dtype
            and not (dtypes.is_inexact(ta.dtype) and (ta.weak_type or pa.weak_type))
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
        ad.Zero(ad.tangent_aval(core.get_aval(p)))
        if not dtypes.is_inexact(core.get_aval(p).dtype)
        else t
        for p, t in zip(p_leaves, t_leaves)
    ]
    flat_fun, out_store, n_out = _aux_flat_fun(fun, in_tree, has_aux)
    out_p, out_t = ad.jvp_flat(flat_fun, p_leaves, t_in)
    n = n_out.value
    outs = core.owned_results(
        [*[_as_array_leaf(x) for x in out_p[:n]], *[_zeros_or(t) for t in out_t[:n]]],
        [*p_leaves, *t_leaves],
    )
    out_tree, aux_tree = out_store.value
    primal_out = tree_unflatten(out_tree, outs[:n])
    out_t = outs[n:]
    tangent_out = tree_unflatten(out_tree, out_t)
    if has_aux:
        return primal_out, tangent_out, aux_tree.rebuild(out_p[n:])
    return primal_out, tangent_out


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
        return tree_unflatten(
            out_tree, core.owned_results([_as_array_leaf(o) for o in outs], [*p_leaves, *t_leaves])
        )

    primal_out = tree_unflatten(
        out_tree, core.owned_results([_as_array_leaf(x) for x in out_all[:n]], p_leaves)
    )
    if has_aux:
        return primal_out, f_jvp, aux_tree.rebuild(out_all[n:])
    return primal_out, f_jvp
