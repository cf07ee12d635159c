"""More of `jax.scipy.linalg`'s decompositions and solvers, composed from funcdiff's existing
factorisations (`svd`, `qr`, `eigh`, `solve`, `expm`) and elementwise operations, so each is
differentiable (where its result is) and works under `jit` and `vmap`:

- `polar` from the SVD; `expm_frechet` as the forward derivative of `expm`;
- `qr_multiply` from the reduced QR; `eigh_tridiagonal` from `eigh` of the assembled matrix;
- `hessenberg` by Householder reflections, one per column, written as rank-one updates;
- `solve_sylvester` as one linear solve of the Kronecker-form system;
- `rsf2csf` by complex Givens rotations, each applied or not with `where`;
- `schur` from the primitive of `lax/schur.py`, and on its complex form `sqrtm` and `funm`
  (triangular recurrences filled one superdiagonal at a time).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src.api import jvp
from funcdiff._src.lax.schur import schur as lax_schur
from funcdiff._src.numpy._util import Array, ArrayLike
from funcdiff._src.scipy_linalg import expm

__all__ = ["eigh_tridiagonal", "expm_frechet", "hessenberg", "polar", "qr_multiply",
           "rsf2csf", "schur", "solve_sylvester", "sqrtm", "funm"]


def _inexact(x: ArrayLike) -> Array:
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.inexact) else x.astype(np.float64)


def _square(name: str, what: str, a: Array) -> None:
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{name}: {what} must be a square matrix (..., n, n), got shape "
                         f"{a.shape}")


def _mH(x: Array) -> Array:  # noqa: N802
    return jnp.conj(jnp.swapaxes(x, -1, -2))


def polar(a: ArrayLike, side: str = "right", *, method: str = "qdwh", eps: float | None = None,
          max_iterations: int | None = None) -> tuple[Array, Array]:
    """The polar decomposition ``a = u p`` (`side` ``"right"``) or ``a = p u`` (``"left"``),
    as `jax.scipy.linalg.polar`: `u` has orthonormal columns (rows when ``m < n``) and `p` is
    Hermitian positive semi-definite. Both are computed from the SVD ``a = w s vᴴ`` (``u = w
    vᴴ``), whatever `method` (``"qdwh"`` or ``"svd"``; `eps` and `max_iterations` belong to
    JAX's QDWH iteration and are not used). Leading axes are batch axes.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.linalg import polar

        a = np.array([[4.0, 1.0], [2.0, 3.0]])
        u, p = polar(a)
        print(np.round(u, 4))
        print(np.round(p, 4), np.allclose(u @ p, a))
        ```
        ```text
        [[ 0.9899 -0.1414]
         [ 0.1414  0.9899]]
        [[4.2426 1.4142]
         [1.4142 2.8284]] True
        ```
    """
    del eps, max_iterations
    if side not in ("right", "left"):
        raise ValueError(f"polar: side must be 'right' or 'left', got {side!r}")
    if method not in ("qdwh", "svd"):
        raise ValueError(f"polar: method must be 'qdwh' or 'svd', got {method!r}")
    a = _inexact(a)
    if a.ndim < 2:
        raise ValueError(f"polar: a must be a matrix (..., m, n), got shape {a.shape}")
    w, s, vh = jnp.linalg.svd(a, full_matrices=False)
    u = w @ vh
    if side == "right":
        p = _mH(vh) @ (s[..., :, None] * vh)
    else:
        p = (w * s[..., None, :]) @ _mH(w)
    return u, p


def expm_frechet(A: ArrayLike, E: ArrayLike, *, method: str | None = None,  # noqa: N803
                 compute_expm: bool = True) -> Array | tuple[Array, Array]:
    """The Fréchet derivative of the matrix exponential at `A` in the direction `E` (the
    forward-mode derivative of `expm`), as `jax.scipy.linalg.expm_frechet`; with
    `compute_expm` it returns ``(expm(A), derivative)``. `method` (SciPy's ``"SPS"`` or
    ``"blockEnlarge"``) is accepted; both give this derivative.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.linalg import expm_frechet

        a = np.array([[0.0, 1.0], [0.0, 0.0]])
        e = np.array([[1.0, 0.0], [0.0, 0.0]])
        print(expm_frechet(a, e, compute_expm=False))
        ```
        ```text
        [[1.  0.5]
         [0.  0. ]]
        ```
    """
    if method not in (None, "SPS", "blockEnlarge"):
        raise ValueError(f"expm_frechet: method must be None, 'SPS' or 'blockEnlarge', got "
                         f"{method!r}")
    a, e = _inexact(A), _inexact(E)
    _square("expm_frechet", "A", a)
    if a.shape != e.shape:
        raise ValueError(f"expm_frechet: A and E must have the same shape, got {a.shape} and "
                         f"{e.shape}")
    dtype = jnp.result_type(a, e)
    value, derivative = jvp(expm, (a.astype(dtype),), (e.astype(dtype),))
    return (value, derivative) if compute_expm else derivative


def qr_multiply(a: ArrayLike, c: ArrayLike, mode: str = "right", pivoting: bool = False,
                conjugate: bool = False, overwrite_a: bool = False, overwrite_c: bool = False
                ) -> tuple[Array, Array]:
    """The product of `c` with the ``Q`` of the reduced QR decomposition ``a = Q R``
    (``Q`` is ``(M, K)``, ``K = min(M, N)``), and ``R``, as `jax.scipy.linalg.qr_multiply`:
    mode ``"left"`` gives ``(Q @ c, R)`` (`c` is ``(K, P)``, or a length-K vector) and
    ``"right"`` gives ``(c @ Q, R)`` (`c` is ``(P, M)``, or a length-M vector); a 1-D `c`
    gives a 1-D result. `conjugate` uses ``conj(Q)``. Pivoting is not supported.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.linalg import qr_multiply, solve_triangular

        a = np.array([[1.0, 1.0], [1.0, 2.0], [1.0, 3.0], [1.0, 4.0]])
        b = np.array([2.0, 4.0, 5.0, 4.0])
        qtb, r = qr_multiply(a, b)                 # Qᵀ b and R: a least-squares fit
        fit = np.polyfit([1, 2, 3, 4], b, 1)[::-1]
        print(np.round(solve_triangular(r, qtb), 4), np.round(fit, 4))
        ```
        ```text
        [2.  0.7] [2.  0.7]
        ```
    """
    del overwrite_a, overwrite_c
    if pivoting:
        raise NotImplementedError("qr_multiply: pivoting=True is not supported (funcdiff's QR "
                                  "has no column pivoting)")
    if mode not in ("left", "right"):
        raise ValueError(f"qr_multiply: mode must be 'left' or 'right', got {mode!r}")
    a, c = _inexact(a), _inexact(c)
    if a.ndim < 2:
        raise ValueError(f"qr_multiply: a must be a matrix (..., M, N), got shape {a.shape}")
    q, r = jnp.linalg.qr(a, mode="reduced")
    q = jnp.conj(q) if conjugate else q
    m, k = q.shape[-2:]
    vector = c.ndim == 1
    need = k if mode == "left" else m
    if (c.shape[0] if vector else c.shape[-2 if mode == "left" else -1]) != need:
        raise ValueError(
            f"qr_multiply: with mode={mode!r}, c needs {need} "
            f"{'rows' if mode == 'left' else 'columns'} (Q is {m}x{k}), got shape {c.shape}"
        )
    if mode == "left":
        out = q @ (c[:, None] if vector else c)
        return (out[..., 0] if vector else out), r
    out = (c[None, :] if vector else c) @ q
    return (out[..., 0, :] if vector else out), r


def eigh_tridiagonal(d: ArrayLike, e: ArrayLike, *, eigvals_only: bool = False,
                     select: str = "a", select_range: tuple[float, float] | None = None,
                     tol: float | None = None, key: Any = None) -> Array | tuple[Array, Array]:
    """The eigenvalues (ascending) and, unless `eigvals_only`, eigenvectors of the real
    symmetric tridiagonal matrix with diagonal `d` and off-diagonal `e`, as
    `jax.scipy.linalg.eigh_tridiagonal`. `select` ``"a"`` gives all of them and ``"i"`` those
    of indices ``select_range = (lo, hi)`` (inclusive); ``"v"`` (a range of values) has a
    value-dependent size and is not supported, as in JAX. The matrix is assembled and passed
    to `eigh` (`tol` and `key`, for JAX's bisection, are not used), so the eigenvalues are
    differentiable in `d` and `e`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.linalg import eigh_tridiagonal

        d, e = np.array([2.0, 2.0, 2.0]), np.array([-1.0, -1.0])
        print(np.round(eigh_tridiagonal(d, e, eigvals_only=True), 6))
        print(np.round(2 - np.sqrt(2), 6), 2.0, np.round(2 + np.sqrt(2), 6))
        ```
        ```text
        [0.585786 2.       3.414214]
        0.585786 2.0 3.414214
        ```
    """
    del tol, key
    d, e = _inexact(d), _inexact(e)
    if d.ndim != 1 or e.shape != (max(d.shape[0] - 1, 0),):
        raise ValueError(f"eigh_tridiagonal: d must be 1-D and e one shorter, got shapes "
                         f"{d.shape} and {e.shape}")
    if jnp.iscomplexobj(d) or jnp.iscomplexobj(e):
        raise ValueError("eigh_tridiagonal: d and e must be real (a real symmetric matrix)")
    if select not in ("a", "i"):
        raise NotImplementedError(
            f"eigh_tridiagonal: select={select!r} is not supported; use 'a' or 'i' ('v' has a "
            "size that depends on the values, which JAX does not support either)"
        )
    dtype = jnp.result_type(d, e)
    n = d.shape[0]
    a = jnp.diag(d.astype(dtype)) + jnp.diag(e.astype(dtype), 1) + jnp.diag(e.astype(dtype), -1)
    w, v = jnp.linalg.eigh(a)
    if select == "i":
        if select_range is None or not 0 <= int(select_range[0]) <= int(select_range[1]) < n:
            raise ValueError(f"eigh_tridiagonal: select='i' needs select_range=(lo, hi) with "
                             f"0 <= lo <= hi < {n}, got {select_range!r}")
        lo, hi = int(select_range[0]), int(select_range[1]) + 1
        w, v = w[lo:hi], v[:, lo:hi]
    return w if eigvals_only else (w, v)


def _reflector(x: Array, k: int) -> tuple[Array, Array]:
    """LAPACK's elementary reflector ``H = I - tau v vᴴ`` (``v[k + 1] = 1``, zero in entries
    ``≤ k``) with ``Hᴴ x`` zero below entry ``k + 1``, where it is real: ``(v, tau)``, and
    ``tau = 0`` when there is nothing to do."""
    n = x.shape[-1]
    alpha = x[..., k + 1]
    rest = jnp.where(np.arange(n) > k + 1, x, 0)
    rest_sq = jnp.sum(jnp.abs(rest) ** 2, axis=-1)
    act = (rest_sq > 0) | (jnp.imag(alpha) != 0)
    norm = jnp.sqrt(jnp.abs(alpha) ** 2 + rest_sq)
    beta = jnp.where(jnp.real(alpha) >= 0, -norm, norm)
    safe_beta = jnp.where(act, beta, 1)
    tau = jnp.where(act, (safe_beta - alpha) / safe_beta, 0)
    scale = jnp.where(act, 1 / jnp.where(act, alpha - safe_beta, 1), 0)
    v = rest * scale[..., None] + (np.arange(n) == k + 1)
    return v.astype(x.dtype), tau.astype(x.dtype)


def hessenberg(a: ArrayLike, *, calc_q: bool = False, overwrite_a: bool = False,
               check_finite: bool = True) -> Array | tuple[Array, Array]:
    """The upper Hessenberg form ``h = qᴴ a q`` of a square matrix (zero below the first
    subdiagonal; ``q`` unitary), as `jax.scipy.linalg.hessenberg`; with `calc_q` it returns
    ``(h, q)``. LAPACK's Householder reflections (a real subdiagonal), so the result agrees
    with SciPy's. Leading axes are batch axes; `h` and `q` are differentiable in `a`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.linalg import hessenberg

        a = np.array([[2.0, 5.0, 8.0, 7.0], [5.0, 2.0, 2.0, 8.0],
                      [7.0, 5.0, 6.0, 6.0], [5.0, 4.0, 4.0, 8.0]])
        h, q = hessenberg(a, calc_q=True)
        print(np.round(h, 4))
        print(np.allclose(q @ h @ q.T, a))
        ```
        ```text
        [[  2.     -11.6584   1.4201   0.2535]
         [ -9.9499  14.5354  -5.3102   2.4308]
         [  0.      -1.833    0.3897  -0.5153]
         [  0.       0.      -3.8319   1.0749]]
        True
        ```
    """
    del overwrite_a, check_finite
    h = _inexact(a)
    _square("hessenberg", "a", h)
    n = h.shape[-1]
    # The last reflector only makes a complex subdiagonal entry real; a matrix of size 2 or
    # less is left as it is (both as SciPy).
    h, q, _, _ = householder_hessenberg(h, n - 1 if n > 2 else 0, calc_q)
    h = jnp.where(np.tril(np.ones((n, n), bool), -2), 0, h)
    return (h, q) if calc_q else h


def householder_hessenberg(h: Array, count: int, calc_q: bool
                           ) -> tuple[Array, Array | None, list[Array], list[Array]]:
    """The first `count` Householder reflections of the reduction of the square matrices `h`
    to Hessenberg form: ``(h', q, vs, taus)`` with ``h' = qᴴ h q`` (entries below the first
    subdiagonal left as computed, near zero), `q` (None unless `calc_q`) and each
    reflector's vector and scale (`_reflector`)."""
    n = h.shape[-1]
    q = jnp.broadcast_to(jnp.eye(n, dtype=h.dtype), h.shape) if calc_q else None
    vs, taus = [], []
    for k in range(count):
        v, tau = _reflector(h[..., :, k], k)
        col, row = v[..., :, None], jnp.conj(v)[..., None, :]
        t = tau[..., None, None]
        h = h - jnp.conj(t) * col * (row @ h)
        h = h - t * (h @ col) * row
        if calc_q:
            q = q - t * (q @ col) * row
        vs.append(v)
        taus.append(tau)
    return h, q, vs, taus


def solve_sylvester(A: ArrayLike, B: ArrayLike, C: ArrayLike, *,  # noqa: N803
                    method: str = "schur", tol: float = 1e-8) -> Array:
    """The solution ``X`` of the Sylvester equation ``A X + X B = C`` (``A`` m×m, ``B`` n×n,
    ``C`` m×n), as `jax.scipy.linalg.solve_sylvester`. funcdiff solves the equivalent
    mn×mn linear system ``(I ⊗ A + Bᵀ ⊗ I) vec(X) = vec(C)`` in one `solve`, whatever
    `method` (``"schur"`` or ``"eigen"``, JAX's choices): exact and differentiable in all
    three matrices, at a cost that grows as ``(mn)³``, so it suits small matrices (tens of
    rows). A singular system (``A`` and ``-B`` sharing an eigenvalue) gives non-finite values;
    `tol` is not used.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.linalg import solve_sylvester

        a = np.array([[3.0, 1.0], [0.0, 2.0]])
        b = np.array([[1.0, 0.0], [1.0, 4.0]])
        c = np.array([[1.0, 2.0], [3.0, 4.0]])
        x = solve_sylvester(a, b, c)
        print(np.allclose(a @ x + x @ b, c))
        ```
        ```text
        True
        ```
    """
    del tol
    if method not in ("schur", "eigen"):
        raise ValueError(f"solve_sylvester: method must be 'schur' or 'eigen', got {method!r}")
    a, b, c = _inexact(A), _inexact(B), _inexact(C)
    for what, x in (("A", a), ("B", b)):
        _square("solve_sylvester", what, x)
    if a.ndim != 2 or b.ndim != 2 or c.shape != (a.shape[0], b.shape[0]):
        raise ValueError(
            f"solve_sylvester: A (m, m), B (n, n) and C (m, n) are needed, got shapes "
            f"{a.shape}, {b.shape} and {c.shape}"
        )
    dtype = jnp.result_type(a, b, c)
    m, n = c.shape
    system = jnp.kron(jnp.eye(n, dtype=dtype), a.astype(dtype)) + \
        jnp.kron(b.astype(dtype).T, jnp.eye(m, dtype=dtype))
    x = jnp.linalg.solve(system, jnp.ravel(c.astype(dtype).T))  # vec: columns stacked
    return jnp.reshape(x, (n, m)).T


def _rotation(n: int, m: int, c: Array, s: Array, dtype: Any) -> Array:
    """The n×n identity with ``[[conj(c), s], [-s, c]]`` in rows and columns m-1, m."""
    g = jnp.eye(n, dtype=dtype)
    g = g.at[m - 1, m - 1].set(jnp.conj(c)).at[m - 1, m].set(s)
    return g.at[m, m - 1].set(-s).at[m, m].set(c)


def rsf2csf(T: ArrayLike, Z: ArrayLike, check_finite: bool = True  # noqa: N803
            ) -> tuple[Array, Array]:
    """Convert a real Schur form ``A = Z T Zᵀ`` (quasi-triangular ``T``, with 2×2 blocks for
    complex eigenvalue pairs) into the complex Schur form ``A = Z' T' Z'ᴴ`` (triangular
    ``T'``), as `jax.scipy.linalg.rsf2csf`: each 2×2 block is split by a complex Givens
    rotation, from the bottom up. The test for a block (a subdiagonal entry above rounding) is
    made with `where`, so the conversion stages under `jit`.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.linalg import rsf2csf

        t = np.array([[1.0, 2.0, 0.5], [-2.0, 1.0, 0.3], [0.0, 0.0, 3.0]])  # eigenvalues 1±2i, 3
        z = np.eye(3)
        t2, z2 = rsf2csf(t, z)
        print(np.round(np.diag(t2), 6), np.allclose(z2 @ t2 @ z2.conj().T, t))
        ```
        ```text
        [1.+2.j 1.-2.j 3.+0.j] True
        ```
    """
    del check_finite
    t, z = _inexact(T), _inexact(Z)
    for what, x in (("T", t), ("Z", z)):
        _square("rsf2csf", what, x)
    if t.ndim != 2 or t.shape != z.shape:
        raise ValueError(f"rsf2csf: T and Z must be square matrices of one shape, got "
                         f"{t.shape} and {z.shape}")
    dtype = jnp.result_type(t, z, np.complex64)
    t, z = t.astype(dtype), z.astype(dtype)
    n = t.shape[0]
    eps = np.finfo(dtype).eps
    for m in range(n - 1, 0, -1):
        a, b, c, d = t[m - 1, m - 1], t[m - 1, m], t[m, m - 1], t[m, m]
        block = jnp.abs(c) > eps * (jnp.abs(a) + jnp.abs(d))
        half = (a - d) / 2
        mu = half + jnp.sqrt(half * half + b * c)  # an eigenvalue of the block, minus d
        r = jnp.sqrt(jnp.abs(mu) ** 2 + jnp.abs(c) ** 2)
        safe_r = jnp.where(block, r, 1)
        g = _rotation(n, m, jnp.where(block, mu / safe_r, 1), jnp.where(block, c / safe_r, 0),
                      dtype)
        gh = jnp.conj(g).T
        t = (g @ t) @ gh
        z = z @ gh
        t = t.at[m, m - 1].set(0)
    return t, z


def schur(a: ArrayLike, output: str = "real") -> tuple[Array, Array]:
    """The Schur decomposition ``a = z t zᴴ`` (``z`` unitary), as `jax.scipy.linalg.schur`:
    ``(t, z)``. With ``output="real"`` and a real `a`, ``t`` is real quasi-upper-triangular
    (a 2×2 block, in standard form, for each complex eigenvalue pair); with ``"complex"`` it
    is upper triangular. Computed by QR iteration (`funcdiff.lax.linalg.schur`); leading axes
    are batch axes. The complex form is differentiable where the eigenvalues are distinct.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.linalg import schur

        a = np.array([[1.0, 2.0, 0.0], [-2.0, 1.0, 1.0], [0.0, 0.0, 3.0]])
        t, z = schur(a)
        print(np.allclose(z @ t @ z.T, a), np.round(np.linalg.eigvals(np.asarray(t)), 6))
        t, z = schur(a, output="complex")
        print(np.round(np.diag(t), 6))
        ```
        ```text
        True [1.+2.j 1.-2.j 3.+0.j]
        [1.+2.j 1.-2.j 3.+0.j]
        ```
    """
    if output not in ("real", "complex"):
        raise ValueError(f"schur: output must be 'real' or 'complex', got {output!r}")
    a = _inexact(a)
    _square("schur", "a", a)
    t, z = lax_schur(a, output=output)
    return t, z


def _by_superdiagonals(t: Array, diag: Array, step: Any) -> Array:
    """The upper triangular matrix with diagonal `diag` whose entries above it are filled one
    superdiagonal at a time, ``step(current)`` giving the new entries (read where due)."""
    n = t.shape[-1]
    out = jnp.where(np.eye(n, dtype=bool), diag[..., :, None], 0)
    offset = np.subtract.outer(np.arange(n), np.arange(n))  # i - j
    for d in range(1, n):
        out = out + jnp.where(offset == -d, step(out), 0)
    return out


def _complex_schur(name: str, a: ArrayLike) -> tuple[Array, Array]:
    a = _inexact(a)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"{name}: A must be a square matrix (N, N), got shape {a.shape}")
    return lax_schur(a, output="complex")


def sqrtm(A: ArrayLike, blocksize: int = 1) -> Array:  # noqa: N803
    """The principal square root ``X`` of a square matrix (``X @ X == A``), as
    `jax.scipy.linalg.sqrtm`: from the complex Schur form ``A = Z T Zᴴ``, the triangular
    root ``R`` of ``T`` is filled one superdiagonal at a time
    (``R_ij = (T - R R)_ij / (R_ii + R_jj)``) and ``X = Z R Zᴴ``. The result is complex, as in
    JAX (SciPy returns a real root when there is one); a singular `A` whose zero eigenvalue
    repeats gives non-finite values. `blocksize` is accepted and unused. Differentiable where
    the eigenvalues are distinct.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.linalg import sqrtm

        a = np.array([[4.0, 1.0], [0.0, 9.0]])
        x = sqrtm(a)
        print(np.round(x, 6), np.allclose(x @ x, a))
        ```
        ```text
        [[2. +0.j 0.2+0.j]
         [0. +0.j 3. +0.j]] True
        ```
    """
    del blocksize
    t, z = _complex_schur("sqrtm", A)
    diag = jnp.sqrt(jnp.diagonal(t))
    pair = diag[:, None] + diag[None, :]
    safe = jnp.where(pair == 0, 1, pair)
    root = _by_superdiagonals(t, diag, lambda r: jnp.where(pair == 0, jnp.inf, (t - r @ r) / safe))
    return z @ root @ jnp.conj(z.T)


def funm(A: ArrayLike, func: Any, disp: bool = True) -> Array | tuple[Array, Array]:  # noqa: N803
    """The matrix function ``f(A)`` for a scalar function `func` (applied to the eigenvalues;
    it receives the vector of them), as `jax.scipy.linalg.funm`: Parlett's recurrence on the
    complex Schur form, ``F_ij = (T F - F T)_ij / (T_jj - T_ii)`` one superdiagonal at a time.
    The result is complex (as in JAX). Eigenvalues that are equal or very close make the
    recurrence inaccurate (SciPy's limitation too); with ``disp=False`` the result comes with
    SciPy's error estimate, ``(F, errest)``. Differentiable where the eigenvalues are distinct.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp
        from funcdiff.scipy.linalg import expm, funm

        a = np.array([[1.0, 2.0], [3.0, 4.0]])
        print(np.allclose(funm(a, jnp.exp), expm(a)))
        ```
        ```text
        True
        ```
    """
    t, z = _complex_schur("funm", A)
    tdiag = jnp.diagonal(t)
    fdiag = jnp.asarray(func(tdiag)).astype(t.dtype)
    gap = tdiag[None, :] - tdiag[:, None]  # (i, j) -> T_jj - T_ii
    safe = jnp.where(gap == 0, 1, gap)
    f = _by_superdiagonals(t, fdiag, lambda f: (t @ f - f @ t) / safe)
    out = z @ f @ jnp.conj(z.T)
    if disp:
        return out
    n = t.shape[0]
    tol = np.finfo(t.dtype).eps
    upper = np.triu(np.ones((n, n), bool), 1)
    minden = jnp.min(jnp.where(upper, jnp.abs(gap), jnp.inf), initial=jnp.abs(t[0, 0]))
    minden = jnp.where(minden == 0, tol, minden)
    spread = jnp.max(jnp.sum(jnp.abs(jnp.where(upper, t, 0)), axis=0))  # 1-norm of triu(T, 1)
    return out, jnp.minimum(1.0, jnp.maximum(tol, tol / minden * spread))
