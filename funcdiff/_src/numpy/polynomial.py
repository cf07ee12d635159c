"""Polynomials as 1-d coefficient arrays, highest power first: `poly`, `polyadd`, `polysub`,
`polymul`, `polydiv`, `polyder`, `polyint`, `polyfit`, `vander` and `roots` (`polyval` is in
`shape.py`). All compose differentiable operations, except `roots`, which has its own
derivative rule.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from funcdiff._src import core, errors
from funcdiff._src.custom_jvp import custom_jvp
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import shape as sh
from funcdiff._src.numpy import linalg, reductions, ufuncs
from funcdiff._src.numpy import shape as np_shape
from funcdiff._src.numpy._util import Array, ArrayLike, asarray, aval, promote_inexact


def _coeffs(p: ArrayLike, name: str) -> Array:
    p = asarray(p)
    if aval(p).ndim == 0:
        p = sh.reshape(p, (1,))
    if aval(p).ndim != 1:
        raise ValueError(f"{name}: coefficients must be a 1-d array, got shape {aval(p).shape}")
    return p


def _pad_front(p: Array, n: int) -> Array:
    k = aval(p).shape[0]
    if k >= n:
        return p
    return np_shape.concatenate([np.zeros(n - k, aval(p).dtype), p])


def polyadd(a1: ArrayLike, a2: ArrayLike) -> Array:
    """The sum of two polynomials (the shorter one padded with leading zeros).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.polyadd(np.array([1.0, 2.0]), np.array([9.0, 5.0, 4.0])).tolist() == [
            9.0, 6.0, 6.0]
        ```
    """
    a1, a2 = _coeffs(a1, "polyadd"), _coeffs(a2, "polyadd")
    n = max(aval(a1).shape[0], aval(a2).shape[0])
    return ufuncs.add(_pad_front(a1, n), _pad_front(a2, n))


def polysub(a1: ArrayLike, a2: ArrayLike) -> Array:
    """The difference of two polynomials.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.polysub(np.array([2.0, 10.0, -2.0]), np.array([3.0, 10.0])).tolist() == [
            2.0, 7.0, -12.0]
        ```
    """
    a1, a2 = _coeffs(a1, "polysub"), _coeffs(a2, "polysub")
    n = max(aval(a1).shape[0], aval(a2).shape[0])
    return ufuncs.subtract(_pad_front(a1, n), _pad_front(a2, n))


def polymul(a1: ArrayLike, a2: ArrayLike, *, trim_leading_zeros: bool = False) -> Array:
    """The product of two polynomials (the full convolution of their coefficients).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.polymul(np.array([1.0, 2.0]), np.array([1.0, -2.0])).tolist() == [
            1.0, 0.0, -4.0]
        ```
    """
    a1, a2 = _coeffs(a1, "polymul"), _coeffs(a2, "polymul")
    if trim_leading_zeros:
        a1, a2 = _trim(a1, "polymul"), _trim(a2, "polymul")
    if aval(a1).shape[0] == 0 or aval(a2).shape[0] == 0:
        raise ValueError("polymul: empty coefficient arrays")
    return _convolve_full(a1, a2)


def _convolve_full(a: Array, b: Array) -> Array:
    """The full convolution of two short 1-d coefficient arrays: shifted copies of `b`
    scaled by each coefficient of `a`, summed."""
    a, b = promote_inexact(a, b) if aval(a).dtype != aval(b).dtype else (a, b)
    n, m = aval(a).shape[0], aval(b).shape[0]
    out: Any = None
    for i in range(n):
        term = ufuncs.multiply(sh.squeeze(sh.slice(a, (i,), (i + 1,)), (0,)), b)
        term = sh.pad(term, np.zeros((), aval(term).dtype), [(i, n - 1 - i, 0)])
        out = term if out is None else ufuncs.add(out, term)
    return out if out is not None else np.zeros(max(n + m - 1, 0), aval(a).dtype)


def _trim(p: Array, name: str) -> Array:
    value = core.concrete_or_none(p)
    if value is None:
        raise errors.ConcretizationTypeError(f"{name} with trim_leading_zeros=True",
                                             ": the result size depends on the values")
    nz = np.flatnonzero(np.asarray(value))
    start = int(nz[0]) if nz.size else max(aval(p).shape[0] - 1, 0)
    return sh.slice(p, (start,), (aval(p).shape[0],))


def polydiv(u: ArrayLike, v: ArrayLike, *, trim_leading_zeros: bool = False
            ) -> tuple[Array, Array]:
    """Quotient and remainder of the polynomial division ``u / v``. The remainder has the
    length of `u` (as in JAX); with ``trim_leading_zeros=True`` (concrete values only) its
    leading (near-)zeros are dropped, as NumPy does. Differentiable.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        q, r = jnp.polydiv(np.array([3.0, 5.0, 2.0]), np.array([2.0, 1.0]),
                           trim_leading_zeros=True)
        assert q.tolist() == [1.5, 1.75] and r.tolist() == [0.25]
        ```
    """
    u, v = _coeffs(u, "polydiv"), _coeffs(v, "polydiv")
    (u, v) = promote_inexact(u, v)
    m, n = aval(u).shape[0] - 1, aval(v).shape[0] - 1
    if n < 0:
        raise ValueError("polydiv: the divisor is empty")
    scale = ufuncs.divide(1.0, sh.squeeze(sh.slice(v, (0,), (1,)), (0,)))
    rem: Array = u
    q_parts = []
    for k in range(max(m - n + 1, 0)):
        d = ufuncs.multiply(scale, sh.squeeze(sh.slice(rem, (k,), (k + 1,)), (0,)))
        q_parts.append(d)
        sub = np_shape.concatenate([np.zeros(k, aval(u).dtype), ufuncs.multiply(d, v),
                                    np.zeros(m - n - k, aval(u).dtype)])
        rem = ufuncs.subtract(rem, sub)
    q = np_shape.stack(q_parts) if q_parts else np.zeros(1, aval(u).dtype)
    if trim_leading_zeros:
        value = core.concrete_or_none(rem)
        if value is None:
            raise errors.ConcretizationTypeError("polydiv with trim_leading_zeros=True",
                                                 ": the remainder size depends on the values")
        value = np.asarray(value)
        start = 0
        while start < value.shape[0] - 1 and np.allclose(value[start], 0, rtol=1e-14):
            start += 1
        rem = sh.slice(rem, (start,), (aval(rem).shape[0],))
    return q, core.unchanged(rem)


def polyder(p: ArrayLike, m: int = 1) -> Array:
    """The `m`-th derivative of the polynomial `p`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.polyder(np.array([1.0, 1.0, 1.0, 1.0])).tolist() == [3.0, 2.0, 1.0]
        ```
    """
    p = _coeffs(p, "polyder")
    m = operator.index(m)
    if m < 0:
        raise ValueError("Order of derivative must be positive (see polyint)")
    for _ in range(m):
        n = max(aval(p).shape[0] - 1, 0)
        powers = np.arange(n, 0, -1)
        if aval(p).dtype.kind in "fc":  # float32 stays float32
            powers = powers.astype(aval(p).dtype)
        p = ufuncs.multiply(sh.slice(p, (0,), (n,)), powers)
    return core.unchanged(p)


def polyint(p: ArrayLike, m: int = 1, k: ArrayLike | None = None) -> Array:
    """The `m`-th antiderivative of `p`, with integration constants `k` (one per
    integration, the first one used first; zeros by default).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.polyint(np.array([3.0, 2.0, 1.0]), k=5.0).tolist() == [1.0, 1.0, 1.0, 5.0]
        ```
    """
    p = _coeffs(p, "polyint")
    m = operator.index(m)
    if m < 0:
        raise ValueError("Order of integral must be positive (see polyder)")
    (p,) = promote_inexact(p)
    if k is None:
        ks: Any = np.zeros(m, aval(p).dtype)
    else:
        ks = np_shape.ravel(asarray(k))
        if aval(ks).shape[0] == 1 and m > 1:
            ks = np_shape.broadcast_to(ks, (m,))
        if aval(ks).shape[0] < m:
            raise ValueError("k must be a scalar or a rank-1 array of length 1 or >m.")
    for i in range(m):
        n = aval(p).shape[0]
        integrated = ufuncs.divide(p, np.arange(n, 0, -1).astype(aval(p).dtype))
        const = ew.convert_element_type(sh.slice(asarray(ks), (i,), (i + 1,)),
                                        aval(integrated).dtype)
        p = np_shape.concatenate([integrated, const])
    return core.unchanged(p)


def vander(x: ArrayLike, N: int | None = None, increasing: bool = False) -> Array:  # noqa: N803
    """The Vandermonde matrix of the 1-d `x`: columns ``x**(N-1), ..., x, 1`` (reversed with
    `increasing`).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.vander(np.array([1, 2, 3]), 3).tolist() == [[1, 1, 1], [4, 2, 1], [9, 3, 1]]
        ```
    """
    x = asarray(x)
    if aval(x).ndim != 1:
        raise ValueError("x must be a one-dimensional array or sequence.")
    if aval(x).dtype.kind in "biu":  # NumPy computes integer powers in the default int
        x = ew.convert_element_type(x, np.promote_types(aval(x).dtype, np.int64))
    n = aval(x).shape[0] if N is None else operator.index(N)
    if n < 0:
        raise ValueError("N must be nonnegative")
    cols = []
    col: Any = ufuncs.power(x, 0)
    for _ in range(n):
        cols.append(col)
        col = ufuncs.multiply(col, x)
    if not cols:
        return np.zeros((aval(x).shape[0], 0), aval(asarray(ufuncs.multiply(x, x))).dtype)
    out = np_shape.stack(cols, axis=1)
    return out if increasing else np_shape.flip(out, 1)


def _qr_solve(a: Array, b: Array) -> Array:
    """Least-squares solution of ``a @ c ≈ b`` for a tall `a` of full column rank, by
    modified Gram-Schmidt QR and back substitution (a few columns: a polynomial degree)."""
    n, k = aval(a).shape
    cols = [sh.squeeze(sh.slice(a, (0, j), (n, j + 1)), (1,)) for j in range(k)]
    qs: list[Array] = []
    r = [[None] * k for _ in range(k)]
    for j in range(k):
        v = cols[j]
        for i, qi in enumerate(qs):
            r[i][j] = reductions.sum(ufuncs.multiply(qi, v))
            v = ufuncs.subtract(v, ufuncs.multiply(r[i][j], qi))
        r[j][j] = ufuncs.sqrt(reductions.sum(ufuncs.multiply(v, v)))
        qs.append(ufuncs.divide(v, r[j][j]))
    q = np_shape.stack(qs, axis=1)
    qtb = linalg.matmul(np_shape.transpose(q), b)
    bnd = aval(b).ndim
    rows = [sh.squeeze(sh.slice(qtb, (j,) + (0,) * (bnd - 1), (j + 1,) + aval(qtb).shape[1:]),
                       (0,)) for j in range(k)]
    c: list[Any] = [None] * k
    for j in reversed(range(k)):
        acc = rows[j]
        for i in range(j + 1, k):
            acc = ufuncs.subtract(acc, ufuncs.multiply(r[j][i], c[i]))
        c[j] = ufuncs.divide(acc, r[j][j])
    return np_shape.stack(c, axis=0)


def polyfit(x: ArrayLike, y: ArrayLike, deg: int, rcond: float | None = None,
            full: bool = False, w: ArrayLike | None = None, cov: bool = False) -> Array:
    """The least-squares polynomial of degree `deg` through the points ``(x, y)`` (`y` may
    hold several data sets as columns), with optional weights `w` applied to the residuals.
    Solved by a QR factorisation of the column-scaled Vandermonde matrix; differentiable in
    `x`, `y` and `w`. `full` and `cov` are not supported.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        x = np.array([0.0, 1.0, 2.0, 3.0])
        assert np.allclose(jnp.polyfit(x, 2 * x**2 - x + 1, 2), [2.0, -1.0, 1.0])
        ```
    """
    del rcond
    if full or cov:
        raise NotImplementedError("polyfit: full=True and cov=True are not supported; the "
                                  "coefficients are returned")
    deg = operator.index(deg)
    if deg < 0:
        raise ValueError("expected deg >= 0")
    x, y = promote_inexact(asarray(x), asarray(y))
    if aval(x).ndim != 1:
        raise TypeError("expected 1D vector for x")
    if aval(x).shape[0] == 0:
        raise TypeError("expected non-empty vector for x")
    if aval(y).ndim not in (1, 2):
        raise TypeError("expected 1D or 2D array for y")
    if aval(y).shape[0] != aval(x).shape[0]:
        raise TypeError("expected x and y to have same length")
    lhs = vander(x, deg + 1)
    rhs = y
    if w is not None:
        (w,) = promote_inexact(asarray(w))
        if aval(w).ndim != 1 or aval(w).shape[0] != aval(x).shape[0]:
            raise TypeError("expected a 1-d w of the length of x")
        lhs = ufuncs.multiply(lhs, sh.expand_dims(w, (1,)))
        rhs = ufuncs.multiply(rhs, w if aval(y).ndim == 1 else sh.expand_dims(w, (1,)))
    scale = ufuncs.sqrt(reductions.sum(ufuncs.multiply(lhs, lhs), axis=0))
    scale = ufuncs.where(ufuncs.equal(scale, 0), 1.0, scale)
    c = _qr_solve(ufuncs.divide(lhs, scale), rhs)
    return ufuncs.divide(c, scale if aval(y).ndim == 1 else sh.expand_dims(scale, (1,)))


def poly(seq_of_zeros: ArrayLike) -> Array:
    """The coefficients of the monic polynomial with the given roots (a 1-d array), or the
    characteristic polynomial of a square matrix. Real when the roots come in conjugate
    pairs, as in NumPy.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        assert jnp.poly(np.array([1.0, 2.0])).tolist() == [1.0, -3.0, 2.0]
        ```
    """
    z = asarray(seq_of_zeros)
    if aval(z).ndim == 2 and aval(z).shape[0] == aval(z).shape[1] and aval(z).shape[0] > 0:
        from funcdiff import numpy as fnp

        eigvals = getattr(fnp.linalg, "eigvals", None)
        if eigvals is None:
            raise NotImplementedError("poly of a matrix needs funcdiff.numpy.linalg.eigvals")
        z = eigvals(z)
    elif aval(z).ndim != 1:
        raise ValueError("input must be 1d or non-empty square 2d array.")
    (z,) = promote_inexact(z)
    n = aval(z).shape[0]
    if n == 0:
        return np.ones((), aval(z).dtype)[()]
    out: Any = np.ones(1, aval(z).dtype)
    for i in range(n):
        r = sh.slice(z, (i,), (i + 1,))
        out = _convolve_full(out, np_shape.concatenate([np.ones(1, aval(z).dtype),
                                                         ufuncs.negative(r)]))
    if aval(z).dtype.kind == "c":
        value = core.concrete_or_none(z)
        if value is not None:
            roots_ = np.asarray(value)
            pos = np.sort_complex(roots_[roots_.imag > 0])
            neg = np.sort_complex(np.conjugate(roots_[roots_.imag < 0]))
            if len(pos) == len(neg) and np.all(pos == neg):
                out = ufuncs.real(out)
    return asarray(out)


@custom_jvp
def _roots_nonzero_lead(p: Array) -> Array:
    value = core.concrete_or_none(p)
    if value is None:
        raise errors.ConcretizationTypeError(
            "roots", ": the roots are computed from concrete coefficients")
    # As NumPy: real when every root is real, else complex.
    return np.roots(np.asarray(value))


@_roots_nonzero_lead.defjvp
def _roots_jvp(primals: tuple, tangents: tuple) -> tuple[Array, Array]:
    # Implicit differentiation of p(r) = 0: dr = -dp(r) / p'(r), for simple roots.
    (p,), (dp,) = primals, tangents
    r = _roots_nonzero_lead(p)
    rc = ew.convert_element_type(r, np.complex128)
    num = _polyval_at(ew.convert_element_type(dp, np.complex128), rc)
    den = _polyval_at(ew.convert_element_type(polyder(p), np.complex128), rc)
    dr = ufuncs.negative(ufuncs.divide(num, den))
    return r, dr if aval(r).dtype.kind == "c" else ufuncs.real(dr)


def _polyval_at(p: Array, x: Array) -> Array:
    y: Any = ufuncs.multiply(x, 0)
    for i in range(aval(p).shape[0]):
        y = ufuncs.add(ufuncs.multiply(y, x), sh.squeeze(sh.slice(p, (i,), (i + 1,)), (0,)))
    return y


def roots(p: ArrayLike, *, strip_zeros: bool = True) -> Array:
    """The roots of the polynomial `p`, as NumPy computes them (the eigenvalues of the
    companion matrix: real if all are real, else complex). Leading zeros are stripped and
    trailing zeros give zero roots; `p` must be concrete. Differentiable at simple roots
    (``dr = -dp(r) / p'(r)``).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        r = jnp.roots(np.array([1.0, -3.0, 2.0]))
        assert np.allclose(np.sort(r.real), [1.0, 2.0])
        ```
    """
    del strip_zeros
    p = _coeffs(p, "roots")
    (p,) = promote_inexact(p)
    value = core.concrete_or_none(p)
    if value is None:
        raise errors.ConcretizationTypeError(
            "roots", ": the number of roots depends on the zero coefficients")
    value = np.asarray(value)
    nz = np.flatnonzero(value)
    if nz.size == 0:
        return np.zeros(0, np.float64)
    lead, trail = int(nz[0]), int(nz[-1])
    core_p = sh.slice(p, (lead,), (trail + 1,))
    n_zero = aval(p).shape[0] - trail - 1
    if aval(core_p).shape[0] <= 1:
        r: Any = np.zeros(0, np.float64)
    else:
        r = _roots_nonzero_lead(core_p)
    if n_zero:
        r = np_shape.concatenate([r, np.zeros(n_zero, aval(r).dtype)])
    return r
