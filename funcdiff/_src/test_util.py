"""Numerical checking of derivatives: ``check_grads`` and its pieces.

Forward mode is compared with central finite differences along a random direction; reverse
mode is checked through the transpose identity ``<v, J t> = <J^T v, t>`` against forward mode;
higher orders recurse on the derivative functions. On failure the analytic and numerical
values are printed side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import api, dtypes
from funcdiff._src.tree_util import tree_flatten, tree_map
from funcdiff._src.vmap import broadcast_prefix, vmap

_EPS = {np.dtype(np.float64): 1e-4, np.dtype(np.float32): 1e-2, np.dtype(np.complex128): 1e-4,
        np.dtype(np.complex64): 1e-2}
_TOL = {np.dtype(np.float64): 1e-5, np.dtype(np.float32): 2e-2, np.dtype(np.complex128): 1e-5,
        np.dtype(np.complex64): 2e-2}


def _leaves_dtype(tree: Any) -> np.dtype:
    leaves = [np.asarray(x) for x in tree_flatten(tree)[0]]
    inexact = [x.dtype for x in leaves if dtypes.is_inexact(x.dtype)]
    if not inexact:
        return np.dtype(np.float64)
    # The least precise dtype decides the step and the tolerance.
    return min(inexact, key=lambda d: d.itemsize)


def _add_scaled(tree: Any, direction: Any, scale: float) -> Any:
    def step(x: Any, t: Any) -> Any:
        x = np.asarray(x)
        if not dtypes.is_inexact(x.dtype):
            return x
        return (x + scale * np.asarray(t)).astype(x.dtype)

    return tree_map(step, tree, direction)


def _sub_trees(a: Any, b: Any, scale: float) -> Any:
    return tree_map(lambda x, y: (np.asarray(x) - np.asarray(y)) * scale, a, b)


def numerical_jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any],
                  eps: float | None = None) -> Any:
    """Central-difference approximation ``(f(x + eps t) - f(x - eps t)) / (2 eps)``.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.test_util import numerical_jvp

        d = numerical_jvp(np.sin, (0.0,), (1.0,))
        assert abs(d - 1.0) < 1e-8
        ```
    """
    eps = eps if eps is not None else _EPS[_leaves_dtype(primals)]
    plus = f(*_add_scaled(tuple(primals), tuple(tangents), eps))
    minus = f(*_add_scaled(tuple(primals), tuple(tangents), -eps))
    return _sub_trees(plus, minus, 0.5 / eps)


def _random_like(tree: Any, rng: np.random.Generator) -> Any:
    def draw(x: Any) -> Any:
        x = np.asarray(x)
        if dtypes.is_complex(x.dtype):
            return (rng.standard_normal(x.shape) + 1j * rng.standard_normal(x.shape)).astype(
                x.dtype)
        if dtypes.is_float(x.dtype):
            return rng.standard_normal(x.shape).astype(x.dtype)
        return np.zeros(x.shape, dtypes.float0)

    return tree_map(draw, tree)


def _inner(a: Any, b: Any) -> float:
    """The real pairing ``Re(sum(a * b))`` that funcdiff's transposes are adjoint under."""
    total = 0.0
    for x, y in zip(tree_flatten(a)[0], tree_flatten(b)[0]):
        x, y = np.asarray(x), np.asarray(y)
        if x.dtype == dtypes.float0 or y.dtype == dtypes.float0:
            continue
        total += float(np.real(np.sum(x.astype(np.complex128) * y.astype(np.complex128))))
    return total


def _assert_close(what: str, analytic: Any, numeric: Any, atol: float, rtol: float) -> None:
    a_leaves, a_tree = tree_flatten(analytic)
    n_leaves, n_tree = tree_flatten(numeric)
    if a_tree != n_tree:
        raise AssertionError(f"{what}: structures differ: {a_tree} vs {n_tree}")
    for i, (a, n) in enumerate(zip(a_leaves, n_leaves)):
        a, n = np.asarray(a), np.asarray(n)
        if a.shape != n.shape:
            raise AssertionError(f"{what}: leaf {i} has shape {a.shape}, expected {n.shape}")
        if a.dtype == dtypes.float0 or n.dtype == dtypes.float0:
            continue
        if not np.allclose(a, n, atol=atol, rtol=rtol, equal_nan=True):
            raise AssertionError(
                f"{what}: leaf {i} differs (atol={atol}, rtol={rtol}).\n"
                f"  analytic:  {np.array2string(a, precision=8)}\n"
                f"  numerical: {np.array2string(n, precision=8)}\n"
                f"  max abs difference: {np.max(np.abs(a - n)) if a.size else 0.0}"
            )


def check_jvp(f: Callable[..., Any], args: Sequence[Any], atol: float | None = None,
              rtol: float | None = None, eps: float | None = None,
              rng: np.random.Generator | None = None) -> None:
    """Check forward mode of `f` at `args` against central differences along a random
    direction."""
    rng = rng if rng is not None else np.random.default_rng(0)
    dt = _leaves_dtype(args)
    atol = _TOL[dt] if atol is None else atol
    rtol = _TOL[dt] if rtol is None else rtol
    tangents = _random_like(tuple(args), rng)
    _, t_out = api.jvp(f, tuple(args), tangents)
    numeric = numerical_jvp(f, args, tangents, eps)
    _assert_close("JVP vs finite differences", t_out, numeric, atol, rtol)


def check_vjp(f: Callable[..., Any], args: Sequence[Any], atol: float | None = None,
              rtol: float | None = None, eps: float | None = None,
              rng: np.random.Generator | None = None, against_jvp: bool = False) -> None:
    """Check reverse mode of `f` at `args`: ``<v, J t> = <J^T v, t>`` for random `t`, `v`,
    with ``J t`` from central differences (and, with `against_jvp`, from forward mode)."""
    rng = rng if rng is not None else np.random.default_rng(1)
    dt = _leaves_dtype(args)
    atol = _TOL[dt] if atol is None else atol
    rtol = _TOL[dt] if rtol is None else rtol
    out, vjp_fn = api.vjp(f, *args)
    tangents = _random_like(tuple(args), rng)
    cotangent = _random_like(out, rng)
    ct_in = vjp_fn(cotangent)
    lhs_numeric = _inner(cotangent, numerical_jvp(f, args, tangents, eps))
    rhs = _inner(ct_in, tangents)
    scale = max(1.0, abs(lhs_numeric))
    _assert_close("<v, J t> (finite differences) vs <J^T v, t> (VJP)", rhs, lhs_numeric,
                  atol * scale, rtol)
    if against_jvp:
        lhs_forward = _inner(cotangent, api.jvp(f, tuple(args), tangents)[1])
        _assert_close("<v, J t> (JVP) vs <J^T v, t> (VJP)", rhs, lhs_forward, atol * scale,
                      rtol)


def check_grads(f: Callable[..., Any], args: Sequence[Any], order: int,
                modes: Sequence[str] = ("fwd", "rev"), atol: float | None = None,
                rtol: float | None = None, eps: float | None = None) -> None:
    """Check derivatives of `f` at `args` up to `order` in forward (``"fwd"``) and reverse
    (``"rev"``) mode against finite differences. Raises `AssertionError` showing the analytic
    and numerical values on failure.

    **Arguments:**

    - `f`: a function of ``len(args)`` arguments (pytrees of arrays).
    - `args`: the point to check at; use float64 for tight tolerances.
    - `order`: 1 checks first derivatives, 2 also checks derivatives of those, and so on.
    - `modes`: which modes to check.
    - `atol`, `rtol`, `eps`: tolerances and finite-difference step (by dtype if omitted).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp
        from funcdiff.test_util import check_grads

        check_grads(lambda x: jnp.sum(jnp.tanh(x) ** 2), (np.array([0.3, -1.2]),), order=2)
        ```
    """
    args = tuple(args)
    rng = np.random.default_rng(0)
    for mode in modes:
        if mode not in ("fwd", "rev"):
            raise ValueError(f"unknown mode {mode!r}; use 'fwd' and/or 'rev'")
    if "fwd" in modes:
        check_jvp(f, args, atol, rtol, eps, rng)
        if order > 1:
            tangents = _random_like(args, rng)

            def f_jvp(*primals: Any) -> Any:
                return api.jvp(f, primals, tangents)[1]

            check_grads(f_jvp, args, order - 1, ("fwd",), atol, rtol, eps)
    if "rev" in modes:
        # With both modes, reverse mode is also checked against forward mode (the transpose
        # identity with J t from the JVP).
        check_vjp(f, args, atol, rtol, eps, rng, against_jvp="fwd" in modes)
        if order > 1:
            cotangent = _random_like(f(*args), rng)

            def f_vjp(*primals: Any) -> Any:
                return api.vjp(f, *primals)[1](cotangent)

            check_grads(f_vjp, args, order - 1, ("rev",), atol, rtol, eps)


def check_vmap(f: Callable[..., Any], args: Sequence[Any], in_axes: Any = 0,
               out_axes: Any = 0, atol: float = 1e-12, rtol: float = 1e-10) -> None:
    """Check that ``vmap(f, in_axes, out_axes)(*args)`` equals applying `f` to each slice of
    the batch in a Python loop and stacking the results (along `out_axes`).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp
        from funcdiff.test_util import check_vmap

        check_vmap(lambda x, w: jnp.tanh(x @ w), (np.ones((5, 3)), np.ones((3, 2))),
                   in_axes=(0, None))
        ```
    """
    args = tuple(args)
    spec = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
    leaves, treedef = tree_flatten(args)
    axes = broadcast_prefix(spec, args, "in_axes")
    sizes = {np.shape(x)[a] for x, a in zip(leaves, axes) if a is not None}
    if len(sizes) != 1:
        raise ValueError(f"check_vmap needs one batch size, got {sorted(sizes)}")
    size = sizes.pop()
    batched = vmap(f, in_axes=in_axes, out_axes=out_axes)(*args)
    slices = []
    for b in range(size):
        sliced = [np.take(x, b, axis=a) if a is not None else x for x, a in zip(leaves, axes)]
        slices.append(f(*treedef.unflatten(sliced)))
    out_leaves, out_tree = tree_flatten(batched)
    per_slice = [tree_flatten(s)[0] for s in slices]
    out_spec = broadcast_prefix(out_axes, batched, "out_axes")
    for k, (got, axis) in enumerate(zip(out_leaves, out_spec)):
        expected = [np.asarray(p[k]) for p in per_slice]
        if axis is None:
            want = expected[0]
        else:
            want = np.stack(expected, axis=axis % (np.ndim(expected[0]) + 1)) if expected \
                else np.zeros(np.shape(got))
        if np.shape(got) != np.shape(want):
            raise AssertionError(f"vmap output {k} has shape {np.shape(got)}, the loop gives "
                                 f"{np.shape(want)}")
        if np.asarray(got).dtype != np.asarray(want).dtype:
            raise AssertionError(f"vmap output {k} has dtype {np.asarray(got).dtype}, the loop "
                                 f"gives {np.asarray(want).dtype}")
        if not np.allclose(got, want, atol=atol, rtol=rtol, equal_nan=True):
            raise AssertionError(
                f"vmap output {k} differs from the loop over the batch:\n"
                f"  vmap: {np.array2string(np.asarray(got), precision=8)}\n"
                f"  loop: {np.array2string(want, precision=8)}"
            )


__all__ = ["check_grads", "check_jvp", "check_vjp", "check_vmap", "numerical_jvp"]
