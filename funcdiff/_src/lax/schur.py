"""The Schur decomposition ``A = Z T Zᴴ`` as a primitive, `schur`, computed by QR iteration in
NumPy (NumPy has no Schur routine and funcdiff depends on nothing else):

- a Householder reduction to Hessenberg form, then
- for ``output="complex"``: single-shift QR sweeps (Wilkinson shifts) by Givens rotations,
  giving an upper triangular ``T``;
- for ``output="real"`` (real matrices): Francis double-shift sweeps by 3×3 reflectors,
  giving a quasi-triangular ``T`` whose 2×2 blocks (complex eigenvalue pairs) are put in
  LAPACK's standard form (equal diagonal entries, off-diagonal entries of opposite signs).

Deflation is tested as LAPACK does (a subdiagonal entry below ``eps`` times its diagonal
neighbours), and every eleventh sweep on a block uses an exceptional shift. The loops run in
Python over matrix slices: fine for the small and moderate sizes this is for. The complex
form is differentiable (JAX's `schur` is not); the real form is not.
"""

from __future__ import annotations

import numpy as np

from funcdiff._src import core, dtypes
from funcdiff._src.core import ShapedArray
from funcdiff._src.errors import PrimitiveError
from funcdiff._src.interpreters import ad
from funcdiff._src.lax import decompositions as dec
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax._define import define_primitive, per_primitive


def _hessenberg(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(h, q)`` with ``a = q h qᴴ`` and ``h`` zero below the first subdiagonal."""
    h = a.copy()
    n = h.shape[0]
    q = np.eye(n, dtype=h.dtype)
    for k in range(n - 2):
        x = h[k + 1 :, k]
        norm = np.linalg.norm(x)
        if norm == 0:
            continue
        v = x.copy()
        v[0] += (x[0] / abs(x[0]) if x[0] != 0 else 1) * norm
        v /= np.linalg.norm(v)
        h[k + 1 :, :] -= 2 * np.outer(v, v.conj() @ h[k + 1 :, :])
        h[:, k + 1 :] -= 2 * np.outer(h[:, k + 1 :] @ v, v.conj())
        q[:, k + 1 :] -= 2 * np.outer(q[:, k + 1 :] @ v, v.conj())
    return np.triu(h, -1), q


def _negligible(h: np.ndarray, k: int) -> bool:
    return bool(abs(h[k, k - 1]) <= np.finfo(h.dtype).eps * (abs(h[k - 1, k - 1]) + abs(h[k, k])))


def _active_block(h: np.ndarray, hi: int) -> int:
    """The first row of the unreduced block ending at `hi` (zeroing the entry above it)."""
    lo = hi
    while lo > 0 and not _negligible(h, lo):
        lo -= 1
    if lo > 0:
        h[lo, lo - 1] = 0
    return lo


def _givens(x: complex, y: complex) -> np.ndarray:
    """The unitary ``[[c, s], [-conj(s), c]]`` (real `c`) mapping ``(x, y)`` to ``(r, 0)``."""
    r = np.hypot(abs(x), abs(y))
    if r == 0:
        c, s = 1.0, 0.0
    elif x == 0:
        c, s = 0.0, np.conj(y) / abs(y)
    else:
        c, s = abs(x) / r, (x / abs(x)) * np.conj(y) / r
    return np.array([[c, s], [-np.conj(s), c]])


def _wilkinson(h: np.ndarray, hi: int, sweep: int) -> complex:
    a, b, c, d = h[hi - 1, hi - 1], h[hi - 1, hi], h[hi, hi - 1], h[hi, hi]
    if sweep % 11 == 0:  # exceptional shift, to break a cycle
        return d + abs(c)
    half = (a - d) / 2
    disc = np.sqrt(half * half + b * c)
    m1, m2 = (a + d) / 2 + disc, (a + d) / 2 - disc
    return m1 if abs(m1 - d) < abs(m2 - d) else m2


def _complex_schur(a: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    h, q = _hessenberg(a)
    hi, sweep, total = h.shape[0] - 1, 0, 0
    while hi > 0:
        lo = _active_block(h, hi)
        if lo == hi:
            hi, sweep = hi - 1, 0
            continue
        total, sweep = total + 1, sweep + 1
        if total > limit:
            return np.full_like(h, np.nan), np.full_like(q, np.nan)
        mu = _wilkinson(h, hi, sweep)
        x, y = h[lo, lo] - mu, h[lo + 1, lo]
        for k in range(lo, hi):  # chase the bulge down the block
            g = _givens(x, y).astype(h.dtype)
            h[k : k + 2, max(lo, k - 1) :] = g @ h[k : k + 2, max(lo, k - 1) :]
            rows = min(k + 3, hi + 1)
            h[:rows, k : k + 2] = h[:rows, k : k + 2] @ g.conj().T
            q[:, k : k + 2] = q[:, k : k + 2] @ g.conj().T
            if k < hi - 1:
                x, y = h[k + 1, k], h[k + 2, k]
    return np.triu(h), q


def _reflector(x: np.ndarray) -> tuple[np.ndarray, float]:
    """``(v, beta)`` (``v[0] = 1``) with ``(I - beta v vᵀ) x`` a multiple of ``e1``."""
    sigma = x[1:] @ x[1:]
    v = x.copy()
    v[0] = 1
    if sigma == 0:
        return v, 0.0
    mu = np.sqrt(x[0] ** 2 + sigma)
    v0 = x[0] - mu if x[0] <= 0 else -sigma / (x[0] + mu)
    v[1:] = x[1:] / v0
    return v, 2 * v0**2 / (sigma + v0**2)


def _reflect(h: np.ndarray, q: np.ndarray, x: np.ndarray, k: int, col0: int, rows: int) -> None:
    """Apply the reflector of `x` to rows and columns ``k : k + len(x)`` of `h` (row update
    from column `col0`, column update down to row `rows`) and to the columns of `q`."""
    v, beta = _reflector(x)
    span = slice(k, k + len(x))
    h[span, col0:] -= beta * np.outer(v, v @ h[span, col0:])
    h[:rows, span] -= beta * np.outer(h[:rows, span] @ v, v)
    q[:, span] -= beta * np.outer(q[:, span] @ v, v)


def _standardize(h: np.ndarray, q: np.ndarray, k: int) -> None:
    """Rotate the 2×2 block at ``(k, k)``: to upper triangular when its eigenvalues are real,
    else to equal diagonal entries and off-diagonal entries of opposite signs."""
    a, b, c, d = h[k, k], h[k, k + 1], h[k + 1, k], h[k + 1, k + 1]
    p = 0.5 * (a - d)
    disc = p * p + b * c
    if disc >= 0:  # real eigenvalues
        z = p + np.copysign(np.sqrt(disc), p)
        tau = np.hypot(c, z)
        cs, sn = z / tau, c / tau
    else:
        sigma = b + c
        tau = np.hypot(sigma, 2 * p)
        if tau == 0:  # already standard
            cs, sn = 1.0, 0.0
        else:
            cs = np.sqrt(0.5 * (1 + abs(sigma) / tau))
            sn = -(p / (tau * cs)) * np.copysign(1.0, sigma)
    g = np.array([[cs, sn], [-sn, cs]], dtype=h.dtype)
    h[k : k + 2, k:] = g @ h[k : k + 2, k:]
    h[: k + 2, k : k + 2] = h[: k + 2, k : k + 2] @ g.T
    q[:, k : k + 2] = q[:, k : k + 2] @ g.T
    if disc >= 0 or _negligible(h, k + 1):
        h[k + 1, k] = 0
    else:
        h[k, k] = h[k + 1, k + 1] = 0.5 * (h[k, k] + h[k + 1, k + 1])


def _double_shift(h: np.ndarray, hi: int, sweep: int) -> tuple[float, float]:
    """The trace and determinant of the shifts (the trailing 2×2 block's eigenvalues)."""
    if sweep % 11 == 0:
        s = abs(h[hi, hi - 1]) + abs(h[hi - 1, hi - 2])
        return 1.5 * s, s * s
    a, b, c, d = h[hi - 1, hi - 1], h[hi - 1, hi], h[hi, hi - 1], h[hi, hi]
    return a + d, a * d - b * c


def _francis_sweep(h: np.ndarray, q: np.ndarray, lo: int, hi: int, sweep: int) -> None:
    tr, det = _double_shift(h, hi, sweep)
    x = h[lo, lo] * h[lo, lo] + h[lo, lo + 1] * h[lo + 1, lo] - tr * h[lo, lo] + det
    y = h[lo + 1, lo] * (h[lo, lo] + h[lo + 1, lo + 1] - tr)
    z = h[lo + 1, lo] * h[lo + 2, lo + 1]
    for k in range(lo, hi - 1):  # chase the bulge down the block
        _reflect(h, q, np.array([x, y, z]), k, max(lo, k - 1), min(k + 4, hi + 1))
        x, y = h[k + 1, k], h[k + 2, k]
        if k < hi - 2:
            z = h[k + 3, k]
    _reflect(h, q, np.array([x, y]), hi - 1, hi - 2, hi + 1)


def _real_schur(a: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    h, q = _hessenberg(a)
    hi, sweep, total = h.shape[0] - 1, 0, 0
    while hi > 0:
        lo = _active_block(h, hi)
        if lo >= hi - 1:  # a 1×1 block, or a 2×2 one to split or standardise
            if lo == hi - 1:
                _standardize(h, q, lo)
            hi, sweep = lo - 1, 0
            continue
        total, sweep = total + 1, sweep + 1
        if total > limit:
            return np.full_like(h, np.nan), np.full_like(q, np.nan)
        _francis_sweep(h, q, lo, hi, sweep)
    return np.triu(h, -1), q


def _schur_one(a: np.ndarray, output: str) -> tuple[np.ndarray, np.ndarray]:
    limit = 100 * max(a.shape[0], 1)
    if output == "complex" or np.iscomplexobj(a):
        return _complex_schur(a.astype(dec._complex_dtype(a.dtype)), limit)
    return _real_schur(a.copy(), limit)


def _schur_impl(a, *, output, compute_schur_vectors):
    a = np.asarray(a)
    t_dtype = dec._complex_dtype(a.dtype) if output == "complex" else a.dtype
    t = np.empty(a.shape, t_dtype)
    z = np.empty(a.shape, t_dtype)
    for idx in np.ndindex(a.shape[:-2]):
        t[idx], z[idx] = _schur_one(a[idx], output)
    return [t, z] if compute_schur_vectors else [t]


def _schur_aval(a: ShapedArray, *, output, compute_schur_vectors):
    dec._square_aval(a, "schur")
    dec._inexact_aval(a, "schur")
    if output not in ("real", "complex"):
        raise PrimitiveError(f"schur: output must be 'real' or 'complex', got {output!r}")
    out = ShapedArray(a.shape, dec._complex_dtype(a.dtype) if output == "complex" else a.dtype)
    return [out, out] if compute_schur_vectors else [out]


def _schur_jvp(primals, tangents, *, output, compute_schur_vectors):
    # A = Z T Zᴴ with K = Zᴴ dZ skew-Hermitian gives C = Zᴴ dA Z = dT + K T - T K. The strictly
    # lower part of dT is zero, which fixes the strictly lower part L of K: entry (i, j) needs
    # only entries of L to its left and below it, so L is filled one anti-diagonal at a time,
    # L_ij = (C - (L T - T L))_ij / (T_jj - T_ii); K = L - Lᴴ (zero diagonal: each Schur
    # vector's phase is kept), dT = C - (K T - T K), dZ = Z K. Distinct eigenvalues needed.
    (a,), (da,) = primals, tangents
    if output != "complex" and not dtypes.is_complex(core.get_aval(a).dtype):
        raise NotImplementedError(
            "the derivative of schur is implemented for output='complex' only (JAX has none): "
            "the 2x2 blocks of the real form are not differentiated; use output='complex'"
        )
    t, z = schur_p.bind(a, output=output, compute_schur_vectors=True)
    c = dec._mm(dec._mm(dec._H(z), dec._as(ad.instantiate(da), t)), z)
    n = core.get_aval(t).shape[-1]
    lower = np.tri(n, n, -1, dtype=bool)
    diag = dec._diag_part(t)
    gap = ew.sub(dec._row(diag), dec._col(diag))  # (i, j) -> T_jj - T_ii, 1 off the lower part
    gap = ew.add(dec._masked(gap, lower), np.asarray(~lower, dec._dtype(t)))
    key = np.add.outer(n - 1 - np.arange(n), np.arange(n))  # (i, j) -> j + n - 1 - i
    low = dec._masked(c, np.zeros((n, n), bool))
    for step in range(n - 1):
        rest = ew.sub(c, ew.sub(dec._mm(low, t), dec._mm(t, low)))
        low = ew.add(low, dec._masked(ew.div(rest, gap), lower & (key == step)))
    k = ew.sub(low, dec._H(low))
    dt = dec._triu(ew.sub(c, ew.sub(dec._mm(k, t), dec._mm(t, k))))
    if compute_schur_vectors:
        return [t, z], [dt, dec._mm(z, k)]
    return [t], [dt]


def _schur_cost(avals_in, avals_out, **params):
    n = avals_in[0].shape[-1]
    flops = dec._batch_count(avals_in[0].shape) * 25 * n**3  # Golub and Van Loan, 7.5.6
    return dec._cost(flops, avals_in, avals_out)


schur_p = define_primitive(
    "schur", impl=_schur_impl, abstract_eval=_schur_aval, jvp=_schur_jvp, multiple_results=True,
    allocates=True, cost=_schur_cost, batch=per_primitive(dec._batch_leading),
    lacks={"array_api": "the linalg extension has no Schur decomposition"},
)


def schur(x, *, compute_schur_vectors: bool = True, sort_eig_vals: bool = False,
          select_callable=None, output: str = "real"):
    """The Schur decomposition ``x = z t zᴴ`` of square matrices (leading axes are batch axes),
    as `jax.lax.linalg.schur`: ``[t, z]`` (``[t]`` without `compute_schur_vectors`). With
    ``output="real"`` (real input) ``t`` is quasi-upper-triangular, with 2×2 blocks in standard
    form for complex eigenvalue pairs; with ``"complex"`` it is upper triangular and complex.
    Sorting eigenvalues is not supported. The complex form is differentiable where the
    eigenvalues are distinct (JAX's `schur` has no derivative); the real form is not. A
    matrix on which the QR iteration does not converge gives NaN."""
    if sort_eig_vals or select_callable is not None:
        raise NotImplementedError("schur: sorting the eigenvalues (sort_eig_vals, "
                                  "select_callable) is not supported")
    return list(dec._bind(schur_p, x, output=output,
                      compute_schur_vectors=bool(compute_schur_vectors)))
