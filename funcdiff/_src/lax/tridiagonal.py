"""`tridiagonal_solve`: solve ``A X = B`` for tridiagonal ``A`` given by its three diagonals,
as `jax.lax.linalg.tridiagonal_solve`.

The NumPy implementation is LAPACK's gtsv algorithm (Gaussian elimination with partial
pivoting between neighbouring rows), run once along the rows for the whole batch; a singular
system gives NaNs, as JAX on the CPU. The derivative rules are JAX's: the solve is linear in
``B`` (its transpose solves with ``A^T``, whose diagonals are shifted copies of ``A``'s), and
the JVP in the diagonals is ``A^{-1} (dB - dA X)``. ``dl[0]`` and ``du[-1]`` are not read,
and get zero derivatives.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from funcdiff._src import core, dtypes
from funcdiff._src.core import ShapedArray
from funcdiff._src.errors import PrimitiveError
from funcdiff._src.interpreters import ad
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax._define import define_primitive
from funcdiff._src.lax.structural import expand_dims, move_to_front

Array = Any


def _eliminate(dl: np.ndarray, d: np.ndarray, du: np.ndarray, b: np.ndarray) -> np.ndarray:
    """gtsv on a batch (leading axes) of systems; `b` is ``(..., m, n)``; arrays are copies
    the function may overwrite. Rows are swapped where the subdiagonal entry is the larger
    pivot, which fills a second superdiagonal `du2`."""
    m = d.shape[-1]
    du2 = np.zeros_like(du)
    for i in range(m - 1):
        swap = np.abs(dl[..., i + 1]) > np.abs(d[..., i])
        piv = np.where(swap, dl[..., i + 1], d[..., i])
        other = np.where(swap, d[..., i], dl[..., i + 1])
        fact = other / piv
        # rows i and i+1 (after the swap): (piv, top1, top2 | bi), (other, bot1, bot2 | bi1)
        top1 = np.where(swap, d[..., i + 1], du[..., i])
        bot1 = np.where(swap, du[..., i], d[..., i + 1])
        nxt = du[..., i + 1] if i + 1 < m - 1 else np.zeros_like(piv)
        top2 = np.where(swap, nxt, 0)
        bot2 = np.where(swap, 0, nxt)
        bi, bi1 = b[..., i, :], b[..., i + 1, :]
        top_b = np.where(swap[..., None], bi1, bi)
        bot_b = np.where(swap[..., None], bi, bi1)
        d[..., i], du[..., i], du2[..., i] = piv, top1, top2
        d[..., i + 1] = bot1 - fact * top1
        if i + 1 < m - 1:
            du[..., i + 1] = bot2 - fact * top2
        b[..., i, :] = top_b
        b[..., i + 1, :] = bot_b - fact[..., None] * top_b
    x = np.empty_like(b)
    for i in range(m - 1, -1, -1):
        r = b[..., i, :]
        if i + 1 < m:
            r = r - du[..., i, None] * x[..., i + 1, :]
        if i + 2 < m:
            r = r - du2[..., i, None] * x[..., i + 2, :]
        x[..., i, :] = r / d[..., i, None]
    singular = np.any(d == 0, axis=-1)
    return np.where(singular[..., None, None], np.nan, x)


def _tridiagonal_solve_impl(dl, d, du, b, *, perturb_singular):
    dl, d, du, b = (np.array(v) for v in (dl, d, du, b))  # (copies: overwritten below)
    if d.shape[-1] == 0 or b.shape[-1] == 0:
        return np.zeros(b.shape, b.dtype)
    with np.errstate(all="ignore"):
        return _eliminate(dl, d, du, b).astype(b.dtype, copy=False)


def _tridiagonal_solve_aval(dl, d, du, b, *, perturb_singular) -> ShapedArray:
    if b.ndim < 2:
        raise PrimitiveError(
            f"tridiagonal_solve needs b of shape (..., m, n), got {b.shape}; add a trailing "
            "axis of length 1 (b[..., None]) for one right-hand side"
        )
    for name, v in (("dl", dl), ("d", d), ("du", du)):
        if v.shape != b.shape[:-1]:
            raise PrimitiveError(
                f"tridiagonal_solve needs {name} of shape b.shape[:-1] = {b.shape[:-1]} "
                f"(the diagonals of the batch of m x m matrices), got {v.shape}"
            )
        if v.dtype != b.dtype:
            raise PrimitiveError(
                f"tridiagonal_solve needs dl, d, du and b of one dtype, got {name} {v.dtype} "
                f"and b {b.dtype}; convert them"
            )
    if not dtypes.is_inexact(b.dtype):
        raise PrimitiveError(
            f"tridiagonal_solve needs floating or complex operands, got {b.dtype}; convert "
            "them (x.astype(float))"
        )
    if perturb_singular:
        raise NotImplementedError(
            "tridiagonal_solve: perturb_singular=True is not supported; a singular system "
            "gives NaNs")
    weak = all(v.weak_type for v in (dl, d, du, b))
    return ShapedArray(b.shape, b.dtype, weak)


def _shifted(x: Array, left: bool, axis: int = -1) -> Array:
    """`x` moved one place along `axis` (left: ``x[1:]`` then a zero; else a zero then
    ``x[:-1]``)."""
    aval = core.get_aval(x)
    axis %= aval.ndim
    start, limit = [0] * aval.ndim, list(aval.shape)
    pad = [(0, 0, 0)] * aval.ndim
    if left:
        start[axis], pad[axis] = 1, (0, 1, 0)
    else:
        limit[axis], pad[axis] = aval.shape[axis] - 1, (1, 0, 0)
    return sh.pad(sh.slice(x, start, limit), np.zeros((), aval.dtype), pad)


def _product(dl: Array, d: Array, du: Array, x: Array) -> Array:
    """``A x`` for the tridiagonal ``A`` with these diagonals (``dl[0]``, ``du[-1]`` unread):
    ``(A x)_i = dl_i x_{i-1} + d_i x_i + du_i x_{i+1}``."""
    nd = core.get_aval(x).ndim
    dl, d, du = (expand_dims(_masked(v, k), (nd - 1,)) for v, k in ((dl, 0), (d, None),
                                                                       (du, -1)))
    lower = ew.mul(dl, _shifted(x, left=False, axis=-2))
    upper = ew.mul(du, _shifted(x, left=True, axis=-2))
    return ew.add(ew.add(ew.mul(d, x), lower), upper)


def _masked(v: Array, unread: int | None) -> Array:
    """`v` with its entry `unread` (which the primitive does not read) zeroed."""
    if unread is None:
        return v
    aval = core.get_aval(v)
    keep = np.ones(aval.shape[-1], bool)
    keep[unread] = False
    return ew.select(np.broadcast_to(keep, aval.shape), v, np.zeros(aval.shape, aval.dtype))


def _tridiagonal_solve_jvp(primals, tangents, *, perturb_singular):
    dl, d, du, b = primals
    x = tridiagonal_solve_p.bind(dl, d, du, b, perturb_singular=perturb_singular)
    diag_tangents = tangents[:3]
    rhs = ad.instantiate(tangents[3]) if type(tangents[3]) is not ad.Zero else None
    if any(type(t) is not ad.Zero for t in diag_tangents):
        ddl, dd, ddu = (ad.instantiate(t) for t in diag_tangents)
        term = _product(ddl, dd, ddu, x)
        rhs = ew.neg(term) if rhs is None else ew.sub(rhs, term)
    return x, tridiagonal_solve_p.bind(dl, d, du, rhs, perturb_singular=perturb_singular)


def _tridiagonal_solve_transpose(ct, dl, d, du, b, *, perturb_singular):
    if any(ad.is_undefined_primal(v) for v in (dl, d, du)):
        raise NotImplementedError("tridiagonal_solve is not linear in the diagonals dl, d, du")
    if type(ct) is ad.Zero:
        return [None, None, None, ad.Zero(b.aval)]
    # A^T has subdiagonal du shifted down one place and superdiagonal dl shifted up.
    dl_t, du_t = _shifted(du, left=False), _shifted(dl, left=True)
    return [None, None, None,
            tridiagonal_solve_p.bind(dl_t, d, du_t, ct, perturb_singular=perturb_singular)]


def _tridiagonal_solve_batch(axis_size, vals, dims, *, perturb_singular):
    moved = [move_to_front(v, dim, axis_size) for v, dim in zip(vals, dims)]
    return tridiagonal_solve_p.bind(*moved, perturb_singular=perturb_singular), 0


def _tridiagonal_solve_cost(avals_in, avals_out, **params):
    b = avals_in[3]
    flops = 8 * int(np.prod(b.shape, dtype=np.int64))
    moved = cost_mod.io_bytes(avals_in, avals_out)
    return cost_mod.Cost(flops, 0, moved.bytes_read, moved.bytes_written)


tridiagonal_solve_p = define_primitive(
    "tridiagonal_solve",
    impl=_tridiagonal_solve_impl,
    abstract_eval=_tridiagonal_solve_aval,
    jvp=_tridiagonal_solve_jvp,
    transpose=_tridiagonal_solve_transpose,
    allocates=True,
    cost=_tridiagonal_solve_cost,
    batch=_tridiagonal_solve_batch,
)


def tridiagonal_solve(dl: Array, d: Array, du: Array, b: Array, *,
                      perturb_singular: bool = False) -> Array:
    """Solve ``A @ x = b`` for the tridiagonal matrices ``A`` with subdiagonal `dl`
    (``dl[i] = A[i, i-1]``; ``dl[0]`` is not read), diagonal `d` and superdiagonal `du`
    (``du[i] = A[i, i+1]``; ``du[-1]`` is not read), each of shape ``(..., m)``, and `b` of
    shape ``(..., m, n)``, as `jax.lax.linalg.tridiagonal_solve`: Gaussian elimination with
    partial pivoting; a singular system gives NaNs. Differentiable in all four operands
    (linear in `b`). `perturb_singular=True` is not supported.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.lax import linalg

        dl, d, du = np.array([0.0, 1.0, 1.0]), np.array([4.0, 4.0, 4.0]), np.array([1.0, 1.0, 0.0])
        print(linalg.tridiagonal_solve(dl, d, du, np.array([[5.0], [6.0], [5.0]])))
        ```
        ```text
        [[1.]
         [1.]
         [1.]]
        ```
    """
    params = {"perturb_singular": bool(perturb_singular)}
    tridiagonal_solve_p.abstract([core.get_aval(v) for v in (dl, d, du, b)], params)
    return tridiagonal_solve_p.bind(dl, d, du, b, **params)


__all__ = ["tridiagonal_solve", "tridiagonal_solve_p"]
