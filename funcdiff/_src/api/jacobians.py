"""Jacobians: `jacfwd` (forward mode, JVPs along every input direction as one `vmap`),
`jacrev` (reverse mode, VJPs of every output direction as one `vmap`) and `hessian`."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes, errors
from funcdiff._src.api.flatten import (
    _argnums_tuple,
    _as_array_leaf,
    _aux_flat_fun,
    _check_args,
    _named_like,
)
from funcdiff._src.interpreters import ad
from funcdiff._src.lax import elementwise as lax_elementwise
from funcdiff._src.lax import shape as lax_shape
from funcdiff._src.tree_util import (
    tree_flatten,
    tree_unflatten,
)
from funcdiff._src.vmap import vmap

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
            hint = (
                " For holomorphic differentiation, pass holomorphic=True."
                if dtypes.is_complex(dt)
                else ""
            )
            raise TypeError(f"{what} requires real-valued {role} (a float dtype), got {dt}.{hint}")


def _partial_args(fun, args, kwargs, nums):
    def partial_fun(*diff_args: Any) -> Any:
        full = list(args)
        for i, a in zip(nums, diff_args):
            full[i] = a
        return fun(*full, **kwargs)

    return _named_like(fun, partial_fun)


def _map_over_basis(
    fun: Callable[[Any], Any], aval: core.ShapedArray, chunk_size: int | None
) -> Any:
    """`fun` mapped over the unit vectors of shape ``aval.shape`` (the rows of the identity).
    Unchunked, the identity is one constant. With `chunk_size`, each chunk builds its own unit
    vectors from their indices, so the whole ``size x size`` basis never exists at once."""
    if chunk_size is None:
        return vmap(fun)(np.eye(aval.size, dtype=aval.dtype).reshape((aval.size, *aval.shape)))
    positions = np.arange(aval.size).reshape(aval.shape)

    def from_index(k: Any) -> Any:
        return fun(
            lax_elementwise.convert_element_type(lax_elementwise.eq(positions, k), aval.dtype)
        )

    return vmap(from_index, chunk_size=chunk_size)(np.arange(aval.size))


def _dense(x: Any, aval: core.ShapedArray) -> Any:
    if x is None or type(x) is ad.Zero:
        return np.zeros(aval.shape, ad.tangent_aval(aval).dtype)
    return x


def _linearize_for_jacobian(
    fun, argnums, has_aux, holomorphic, what, args, kwargs, allow_int=False
):
    nums = _argnums_tuple(argnums, len(args), fun)
    diff_args = tuple(args[i] for i in nums)
    in_leaves, in_tree = tree_flatten(diff_args)
    _check_args(fun, diff_args, in_leaves)
    inexact = [dtypes.is_inexact(core.get_aval(x).dtype) for x in in_leaves]
    _check_jac_dtypes(
        [x for x, i in zip(in_leaves, inexact) if i or not allow_int], holomorphic, what, "inputs"
    )
    flat_fun, store, n_out = _aux_flat_fun(_partial_args(fun, args, kwargs, nums), in_tree, has_aux)
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
        flat_fun, store, n_out = _aux_flat_fun(
            _partial_args(fun, args, kwargs, nums), in_tree, has_aux
        )
        in_avals = [core.get_aval(x) for x in in_leaves]
        zeros = [np.zeros(a.shape, a.dtype) for a in in_avals]
        columns = []  # columns[i][k]: output k's JVPs along every unit direction of input i

        def push(t: Any, i: int) -> list[Any]:
            tangents = zeros[:i] + [t] + zeros[i + 1 :]
            primals_out, tangents_out = ad.jvp_flat(flat_fun, in_leaves, tangents)
            return [_dense(x, core.get_aval(p)) for x, p in zip(tangents_out, primals_out)]

        # Forward mode is jvp vectorised over the input directions: the primal computation
        # runs once, the tangents as one batch.
        out_all, _ = ad.jvp_flat(
            flat_fun, in_leaves, [ad.Zero(ad.tangent_aval(a)) for a in in_avals]
        )
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
            fun, argnums, has_aux, holomorphic, "jacrev", args, kwargs, allow_int
        )
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
            jac.append(
                [lax_shape.reshape(r, (*oa.shape, *ia.shape)) for r, ia in zip(rows, in_avals)]
            )
        return _finish_jac(jac, store, n, out_all, in_tree, argnums, has_aux)

    return jacrev_f


def _finish_jac(jac, store, n, out_all, in_tree, argnums, has_aux):
    out_tree, aux_tree = store.value
    per_out = [
        tree_unflatten(in_tree, core.owned_results([_as_array_leaf(x) for x in row], ()))
        for row in jac
    ]
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
