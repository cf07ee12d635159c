"""Products and norms of `funcdiff.numpy`: dot, matmul, tensordot, einsum, linalg.norm.

Every contraction becomes `dot_general` primitives, so the reverse-mode rules and (under jit)
the choice of NumPy call live in one place.
"""

from __future__ import annotations

import operator
import string
from collections.abc import Sequence
from typing import Any

import numpy as np

from funcdiff._src import dtypes
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import indexing as lax_indexing
from funcdiff._src.lax import linalg as lax_linalg
from funcdiff._src.lax import reductions as red
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax import transcendental as tr
from funcdiff._src.numpy import reductions, ufuncs
from funcdiff._src.numpy import shape as np_shape
from funcdiff._src.numpy._util import Array, ArrayLike, aval, canonical_axes, canonical_axis
from funcdiff._src.numpy._util import strict_promote as _promote
from funcdiff._src.numpy.indexing import getitem


def _dot_general(a: Array, b: Array, contract, batch=((), ())) -> Array:
    return lax_linalg.dot_general(a, b, (contract, batch))


def _as_preferred(out: Array, preferred_element_type: Any) -> Array:
    """A contraction's result cast to JAX's `preferred_element_type` (None: unchanged)."""
    if preferred_element_type is None:
        return out
    return ew.convert_element_type(out, np.dtype(preferred_element_type))


def dot(a: ArrayLike, b: ArrayLike, *, precision: Any = None,
        preferred_element_type: Any = None) -> Array:
    """NumPy's `dot`: the inner product of vectors, the matrix product of matrices, and for
    N-D arrays a sum over the last axis of `a` and the second-to-last of `b`. As in JAX,
    `precision` is accepted and ignored (NumPy computes in the operands' dtype) and
    `preferred_element_type` casts the result."""
    return _as_preferred(_dot(a, b), preferred_element_type)


def _dot(a: ArrayLike, b: ArrayLike) -> Array:
    a, b = _promote(a, b)
    na, nb = aval(a).ndim, aval(b).ndim
    if na == 0 or nb == 0:
        return ew.mul(a, b)
    return _dot_general(a, b, ((na - 1,), (max(nb - 2, 0),)))


def matmul(a: ArrayLike, b: ArrayLike, *, precision: Any = None,
           preferred_element_type: Any = None) -> Array:
    """The matrix product ``a @ b`` with NumPy's rules: 1-D operands are promoted to matrices
    and leading (batch) dimensions broadcast. As in JAX, `precision` is accepted and ignored
    and `preferred_element_type` casts the result."""
    return _as_preferred(_matmul(a, b), preferred_element_type)


def _matmul(a: ArrayLike, b: ArrayLike) -> Array:
    a, b = _promote(a, b)
    na, nb = aval(a).ndim, aval(b).ndim
    if na == 0 or nb == 0:
        raise ValueError("matmul: input operand does not have enough dimensions (a scalar)")
    if na <= 2 and nb <= 2 or nb <= 2:
        # (..., m, k) @ (k, n) or (k,): contract directly; no batch dimensions needed.
        return _dot_general(a, b, ((na - 1,), (0,)))
    if na == 1:
        # (k,) @ (..., k, n) -> (..., n)
        return _dot_general(a, b, ((0,), (nb - 2,)))
    batch_a, batch_b = aval(a).shape[:-2], aval(b).shape[:-2]
    batch = np.broadcast_shapes(batch_a, batch_b)
    if na == 2:
        out = _dot_general(a, b, ((1,), (nb - 2,)))  # (m, *batch, n)
        nbatch = nb - 2
        return sh.transpose(out, tuple(range(1, nbatch + 1)) + (0, nbatch + 1))
    a = sh.broadcast_to(a, batch + aval(a).shape[-2:])
    b = sh.broadcast_to(b, batch + aval(b).shape[-2:])
    nd = len(batch)
    return _dot_general(a, b, ((nd + 1,), (nd,)), (tuple(range(nd)), tuple(range(nd))))


def vdot(a: ArrayLike, b: ArrayLike) -> Array:
    """Dot product of the flattened arrays, conjugating the first."""
    a, b = _promote(a, b)
    a = sh.reshape(ufuncs.conjugate(a), (aval(a).size,))
    b = sh.reshape(b, (aval(b).size,))
    return _dot_general(a, b, ((0,), (0,)))


def inner(a: ArrayLike, b: ArrayLike) -> Array:
    a, b = _promote(a, b)
    na, nb = aval(a).ndim, aval(b).ndim
    if na == 0 or nb == 0:
        return ew.mul(a, b)
    return _dot_general(a, b, ((na - 1,), (nb - 1,)))


def outer(a: ArrayLike, b: ArrayLike) -> Array:
    a, b = _promote(a, b)
    a = sh.reshape(a, (aval(a).size, 1))
    b = sh.reshape(b, (1, aval(b).size))
    return ufuncs.multiply(a, b)  # (booleans: logical and, as NumPy)


def tensordot(a: ArrayLike, b: ArrayLike, axes: int | Sequence[Any] = 2) -> Array:
    a, b = _promote(a, b)
    na, nb = aval(a).ndim, aval(b).ndim
    if isinstance(axes, int):
        ax_a = tuple(range(na - axes, na))
        ax_b = tuple(range(axes))
    else:
        ax_a_raw, ax_b_raw = axes
        ax_a = canonical_axes(ax_a_raw, na)
        ax_b = canonical_axes(ax_b_raw, nb)
    return _dot_general(a, b, (ax_a, ax_b))


def kron(a: ArrayLike, b: ArrayLike) -> Array:
    a, b = _promote(a, b)
    nd = max(aval(a).ndim, aval(b).ndim)
    a = sh.reshape(a, (1,) * (nd - aval(a).ndim) + aval(a).shape)
    b = sh.reshape(b, (1,) * (nd - aval(b).ndim) + aval(b).shape)
    sa, sb = aval(a).shape, aval(b).shape
    a_big = sh.broadcast_in_dim(a, [x for pair in zip(sa, sb) for x in pair],
                                tuple(range(0, 2 * nd, 2)))
    b_big = sh.broadcast_in_dim(b, [x for pair in zip(sa, sb) for x in pair],
                                tuple(range(1, 2 * nd, 2)))
    return sh.reshape(ufuncs.multiply(a_big, b_big), [x * y for x, y in zip(sa, sb)])


def cross(a: ArrayLike, b: ArrayLike, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: int | None = None) -> Array:
    """Cross product of 3-vectors (or 2-vectors, taken with a zero third component) along
    `axisa` of `a` and `axisb` of `b`, broadcast over the other axes; the result's vector
    axis is `axisc`. `axis`, if given, sets all three. Two 2-vectors give the scalar
    z-component.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        x, y = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
        assert jnp.cross(x, y).tolist() == [0.0, 0.0, 1.0]
        assert jnp.cross(np.array([1.0, 2.0]), np.array([3.0, 4.0])) == -2.0
        cols = jnp.cross(np.eye(3), np.eye(3)[:, [1, 2, 0]], axisa=0, axisb=0, axisc=0)
        assert cols.shape == (3, 3)
        ```
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = _promote(a, b)
    a = sh.transpose(a, _last(aval(a).ndim, axisa))
    b = sh.transpose(b, _last(aval(b).ndim, axisb))
    na, nb = aval(a).shape[-1], aval(b).shape[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product\n(dimension must be 2 or "
                         f"3, got {na} and {nb})")
    a_parts = [getitem(a, (Ellipsis, i)) for i in range(na)]
    b_parts = [getitem(b, (Ellipsis, i)) for i in range(nb)]
    if na == nb == 2:
        return ew.sub(ew.mul(a_parts[0], b_parts[1]), ew.mul(a_parts[1], b_parts[0]))
    a0, a1 = a_parts[0], a_parts[1]
    b0, b1 = b_parts[0], b_parts[1]
    a2 = a_parts[2] if na == 3 else None
    b2 = b_parts[2] if nb == 3 else None

    def times(x: Any, y: Any) -> Any:
        return None if x is None or y is None else ew.mul(x, y)

    def minus(x: Any, y: Any) -> Any:
        if x is None:
            return ew.neg(y)
        return x if y is None else ew.sub(x, y)

    c0, c1 = minus(times(a1, b2), times(a2, b1)), minus(times(a2, b0), times(a0, b2))
    c2 = ew.sub(ew.mul(a0, b1), ew.mul(a1, b0))
    shape = np.broadcast_shapes(*(aval(c).shape for c in (c0, c1, c2)))
    out = np_shape.stack([sh.broadcast_to(c, shape) for c in (c0, c1, c2)], axis=-1)
    # As NumPy: the result's vector axis is `axisc` (counted in the broadcast result).
    return np_shape.moveaxis(out, -1, axisc)


def _last(ndim: int, axis: int) -> list[int]:
    ax = canonical_axis(axis, ndim)
    return [i for i in range(ndim) if i != ax] + [ax]


# ---- einsum ---------------------------------------------------------------------------------


def _sublist_subscripts(args: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    """NumPy's other form, ``einsum(op0, sublist0, op1, sublist1, ..., [sublist_out])``
    (axis labels as ints, ``...`` as Ellipsis), as a subscripts string and the operands."""
    def spec(sublist: Any) -> str:
        try:
            return "".join("..." if k is Ellipsis else string.ascii_letters[operator.index(k)]
                           for k in sublist)
        except (TypeError, IndexError):
            raise ValueError(
                f"einsum: a sublist holds axis labels (ints in [0, 52)) or Ellipsis, got "
                f"{sublist!r}"
            ) from None

    operands, specs = args[0::2], [spec(sub) for sub in args[1::2]]
    out = ""
    if len(args) % 2:  # a trailing output sublist
        operands, out = operands[:-1], "->" + spec(args[-1])
    return ",".join(specs) + out, operands


def einsum(subscripts: str, *operands: ArrayLike, optimize: Any = "optimal",
           precision: Any = None) -> Array:
    """Einstein summation, as `numpy.einsum` (explicit and implicit modes, ``...``).

    The contraction order is NumPy's `einsum_path`; each pairwise contraction is one
    `dot_general`.
    """
    del precision
    if not isinstance(subscripts, str):
        subscripts, operands = _sublist_subscripts((subscripts, *operands))
    ops = _promote(*operands)
    inputs, output = _parse_einsum(subscripts, [aval(o).ndim for o in ops])
    # Sizes per letter; size-1 dimensions broadcast against larger ones.
    sizes: dict[str, int] = {}
    for spec, op in zip(inputs, ops):
        for ch, n in zip(spec, aval(op).shape):
            if ch not in sizes or sizes[ch] == 1:
                sizes[ch] = n
            elif n not in (1, sizes[ch]):
                raise ValueError(f"einsum: size of label {ch!r} differs: {sizes[ch]} and {n}")
    terms = []
    for spec, op in zip(inputs, ops):
        target = tuple(sizes[ch] for ch in spec)
        if aval(op).shape != target:
            op = sh.broadcast_to(op, target)
        terms.append(_einsum_diagonal(op, spec))
    # Each step of the path takes some operands out of the list (by position) and appends
    # their contraction, done pairwise, at the end (NumPy's einsum_path convention).
    for step in _contraction_order(inputs, output, sizes, optimize):
        group = [terms[k] for k in sorted(step)]
        rest = [t for k, t in enumerate(terms) if k not in step]
        others = set(output).union(*(set(s) for _, s in rest))
        op, spec = group[0]
        for m, (op2, spec2) in enumerate(group[1:], 1):
            needed = others.union(*(set(s) for _, s in group[m + 1 :]))
            op, spec = _contract_pair(op, spec, op2, spec2, needed)
        if len(group) == 1:
            op, spec = _sum_out(op, spec, others)
        terms = rest + [(op, spec)]
    (op, spec), = terms
    op, spec = _sum_out(op, spec, set(output))
    return sh.transpose(op, tuple(spec.index(ch) for ch in output))


def _parse_einsum(subscripts: str, ndims: list[int]) -> tuple[list[str], str]:
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        lhs, output = subscripts.split("->")
    else:
        lhs, output = subscripts, None
    inputs = lhs.split(",")
    if len(inputs) != len(ndims):
        raise ValueError(f"einsum: {len(inputs)} operand specs for {len(ndims)} operands")
    used = set(subscripts)
    spare = [c for c in string.ascii_letters if c not in used]
    n_ellipsis = max((nd - len(s.replace("...", "")) for s, nd in zip(inputs, ndims)
                      if "..." in s), default=0)
    ell = "".join(spare[:n_ellipsis])
    resolved = []
    for s, nd in zip(inputs, ndims):
        if "..." in s:
            k = nd - len(s.replace("...", ""))
            s = s.replace("...", ell[n_ellipsis - k :])
        if len(s) != nd:
            raise ValueError(f"einsum: spec {s!r} does not match an operand of rank {nd}")
        resolved.append(s)
    if output is None:
        counts: dict[str, int] = {}
        for s in resolved:
            for ch in s:
                counts[ch] = counts.get(ch, 0) + 1
        output = ell + "".join(sorted(ch for ch, c in counts.items() if c == 1 and ch not in ell))
    else:
        output = output.replace("...", ell)
    for ch in output:
        if not any(ch in s for s in resolved):
            raise ValueError(f"einsum: output label {ch!r} is not in any input")
    return resolved, output


def _einsum_diagonal(op: Array, spec: str) -> tuple[Array, str]:
    """Take the diagonal over labels repeated within one operand."""
    while len(set(spec)) != len(spec):
        ch = next(c for c in spec if spec.count(c) > 1)
        first = spec.index(ch)
        second = spec.index(ch, first + 1)
        n = aval(op).shape[first]
        idx = np.arange(n)
        dims = [-1] * len(spec)
        dims[first], dims[second] = 0, 1
        op = lax_indexing.gather(op, [idx, idx], dims)
        # Advanced indices at non-adjacent positions move to the front; adjacent stay put.
        if second == first + 1:
            spec = spec[:first] + ch + spec[second + 1 :]
        else:
            spec = ch + spec[:first] + spec[first + 1 : second] + spec[second + 1 :]
    return op, spec


def _sum_out(op: Array, spec: str, keep: set[str]) -> tuple[Array, str]:
    axes = tuple(i for i, ch in enumerate(spec) if ch not in keep)
    if not axes:
        return op, spec
    return red.reduce_sum(op, axes), "".join(ch for ch in spec if ch in keep)


def _contract_pair(a: Array, sa: str, b: Array, sb: str, needed: set[str]) -> tuple[Array, str]:
    a, sa = _sum_out(a, sa, needed | set(sb))
    b, sb = _sum_out(b, sb, needed | set(sa))
    shared = [ch for ch in sa if ch in sb]
    batch = [ch for ch in shared if ch in needed]
    contract = [ch for ch in shared if ch not in needed]
    out = _dot_general(
        a, b,
        (tuple(sa.index(c) for c in contract), tuple(sb.index(c) for c in contract)),
        (tuple(sa.index(c) for c in batch), tuple(sb.index(c) for c in batch)),
    )
    spec = "".join(batch) + "".join(c for c in sa if c not in shared) + "".join(
        c for c in sb if c not in shared)
    return out, spec


def _contraction_order(inputs: list[str], output: str, sizes: dict[str, int], optimize: Any
                       ) -> list[tuple[int, ...]]:
    n = len(inputs)
    if n < 2:
        return []
    if n == 2 or optimize is False or optimize is None:
        order, count = [], n
        while count > 1:
            order.append((0, 1))
            count -= 1
        return order
    dummies = [np.broadcast_to(np.empty((), np.float64), tuple(sizes[c] for c in s))
               for s in inputs]
    path, _ = np.einsum_path(",".join(inputs) + "->" + output, *dummies,
                             optimize="greedy" if optimize is True else optimize)
    return [tuple(step) for step in path[1:]]


# ---- norms ----------------------------------------------------------------------------------


def _abs_sq(x: Array) -> Array:
    if dtypes.is_complex(aval(x).dtype):
        return ew.add(ew.square(ew.real(x)), ew.square(ew.imag(x)))
    return ew.square(x)


def norm(x: ArrayLike, ord: Any = None, axis: int | tuple[int, int] | None = None,  # noqa: A002
         keepdims: bool = False) -> Array:
    """Vector and matrix norms, as `numpy.linalg.norm`: for vectors ``ord`` in ``None, 2,
    1, inf, -inf, 0`` or any real p; for matrices ``None, 'fro', 1, -1, inf, -inf``."""
    (x,) = ufuncs.promote_inexact(x)
    nd = aval(x).ndim
    if axis is None:
        if ord is None or (ord == "fro" and nd == 2):
            out = tr.sqrt(red.reduce_sum(_abs_sq(x), tuple(range(nd))))
            return sh.reshape(out, (1,) * nd) if keepdims else out
        axes = tuple(range(nd))
    else:
        axes = canonical_axes(axis, nd)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes, keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError("improper number of dimensions to norm")


def _vector_norm(x: Array, ord: Any, axes: tuple[int, ...], keepdims: bool) -> Array:  # noqa: A002
    if ord is None or ord == 2:
        return tr.sqrt(reductions.sum(_abs_sq(x), axes, keepdims=keepdims))
    a = ew.abs(x)
    if ord == np.inf:
        return reductions.max(a, axes, keepdims)
    if ord == -np.inf:
        return reductions.min(a, axes, keepdims)
    if ord == 0:
        return reductions.sum(ew.convert_element_type(ew.ne(a, 0), aval(a).dtype), axes,
                              keepdims=keepdims)
    if ord == 1:
        return reductions.sum(a, axes, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"invalid norm order {ord!r} for vectors")
    p = float(ord)
    return ufuncs.power(reductions.sum(ufuncs.power(a, p), axes, keepdims=keepdims), 1.0 / p)


def _matrix_norm(x: Array, ord: Any, axes: tuple[int, ...], keepdims: bool) -> Array:  # noqa: A002
    row, col = axes
    if ord is None or ord == "fro":
        return tr.sqrt(reductions.sum(_abs_sq(x), axes, keepdims=keepdims))
    a = ew.abs(x)
    if ord in (1, -1):
        sums = reductions.sum(a, row, keepdims=True)
        pick = reductions.max if ord == 1 else reductions.min
        out = pick(sums, col, keepdims=True)
    elif ord in (np.inf, -np.inf):
        sums = reductions.sum(a, col, keepdims=True)
        pick = reductions.max if ord == np.inf else reductions.min
        out = pick(sums, row, keepdims=True)
    else:
        raise NotImplementedError(
            f"matrix norm ord={ord!r} needs singular values, which funcdiff.numpy.linalg does "
            "not compute; use ord=None/'fro', 1, -1, inf or -inf."
        )
    return out if keepdims else sh.squeeze(out, tuple(sorted(axes)))


# ---- NumPy 2 vecdot, convolution ------------------------------------------------------------


def vecdot(x1: ArrayLike, x2: ArrayLike, /, *, axis: int = -1) -> Array:
    """``sum(conj(x1) * x2, axis)`` with broadcasting (NumPy 2's `vecdot`)."""
    x1, x2 = _promote(x1, x2)
    n1, n2 = aval(x1).ndim, aval(x2).ndim
    if n1 == 0 or n2 == 0:
        raise ValueError("vecdot: input operands must have at least one dimension")
    a1, a2 = canonical_axis(axis, n1), canonical_axis(axis, n2)
    if aval(x1).shape[a1] != aval(x2).shape[a2]:
        raise ValueError(f"vecdot: mismatch in the contracted dimension "
                         f"({aval(x1).shape[a1]} != {aval(x2).shape[a2]})")
    x1 = np_shape.moveaxis(ufuncs.conjugate(x1), a1, -1)
    x2 = np_shape.moveaxis(x2, a2, -1)
    return reductions.sum(ufuncs.multiply(x1, x2), axis=-1, dtype=aval(x1).dtype)
