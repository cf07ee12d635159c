"""Applying a function over an array: `vectorize`, `apply_along_axis`, `apply_over_axes`,
`piecewise` and `fromfunction`, built on `vmap` and other `funcdiff.numpy` functions, so that
every transformation applies.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import shape as sh
from funcdiff._src.numpy import creation as np_creation
from funcdiff._src.numpy import shape as np_shape
from funcdiff._src.numpy import ufuncs
from funcdiff._src.numpy._util import (
    Array,
    ArrayLike,
    as_arrays,
    asarray,
    aval,
    canonical_axis,
)
from funcdiff._src.vmap import vmap

# ---- applying functions ---------------------------------------------------------------------


def apply_along_axis(
    func1d: Callable[..., Any], axis: int, arr: ArrayLike, *args: Any, **kwargs: Any
) -> Array:
    """``func1d`` applied to the 1-d slices of `arr` along `axis` (vectorised with `vmap`);
    the dimensions of its result replace `axis`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        a = np.arange(6.0).reshape(2, 3)
        assert jnp.apply_along_axis(jnp.sum, 1, a).tolist() == [3.0, 12.0]
        ```
    """
    arr = asarray(arr)
    nd = aval(arr).ndim
    ax = canonical_axis(axis, nd)
    fn = functools.partial(lambda x: func1d(x, *args, **kwargs))
    for _ in range(nd - 1 - ax):
        fn = vmap(fn, in_axes=-1, out_axes=-1)
    for _ in range(ax):
        fn = vmap(fn, in_axes=0, out_axes=0)
    return fn(arr)


def apply_over_axes(
    func: Callable[[Any, int], Any], a: ArrayLike, axes: int | Sequence[int]
) -> Array:
    """``func(a, axis)`` applied repeatedly over `axes`, keeping the reduced dimensions.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        a = np.arange(24.0).reshape(2, 3, 4)
        assert jnp.apply_over_axes(jnp.sum, a, [0, 2]).shape == (1, 3, 1)
        ```
    """
    a = asarray(a)
    for ax in (axes,) if np.ndim(axes) == 0 else axes:
        nd = aval(a).ndim
        out = asarray(func(a, ax))
        if aval(out).ndim == nd - 1:
            out = sh.expand_dims(out, (canonical_axis(ax, nd),))
        elif aval(out).ndim != nd:
            raise ValueError("function is not returning an array of the correct shape")
        a = out
    return core.unchanged(a)


class vectorize:  # noqa: N801 (NumPy's name)
    """``vectorize(pyfunc)``: a function that broadcasts its array arguments and maps
    `pyfunc` over their elements (with `vmap`, not a Python loop). `excluded` names the
    positional indices or keywords passed through unmapped; `signature` (``"(n),(n)->()"``)
    gives the core dimensions that `pyfunc` sees whole.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        f = jnp.vectorize(lambda x, y: x * y + 1.0)
        assert f(np.array([1.0, 2.0]), np.array([[3.0], [4.0]])).tolist() == [[4.0, 7.0],
                                                                              [5.0, 9.0]]
        dot = jnp.vectorize(jnp.dot, signature="(n),(n)->()")
        assert dot(np.ones((3, 2)), np.ones(2)).tolist() == [2.0, 2.0, 2.0]
        ```
    """

    def __init__(
        self,
        pyfunc: Callable[..., Any],
        *,
        excluded: Any = frozenset(),
        signature: str | None = None,
    ):
        self.pyfunc = pyfunc
        self.excluded = set(excluded)
        self.signature = signature
        functools.update_wrapper(self, pyfunc)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        excluded = self.excluded
        mapped_pos = [i for i in range(len(args)) if i not in excluded]
        static_kw = {k: v for k, v in kwargs.items() if k in excluded}
        mapped_kw = [k for k in kwargs if k not in excluded]
        values = [asarray(args[i]) for i in mapped_pos] + [asarray(kwargs[k]) for k in mapped_kw]
        if self.signature is None:
            cores = [0] * len(values)
        else:
            ins = self.signature.split("->")[0]
            groups = [g.strip("() ") for g in ins.replace(" ", "").split("),(")]
            cores = [len([d for d in g.split(",") if d]) for g in groups]
            if len(cores) != len(values):
                raise TypeError(
                    f"vectorize: signature {self.signature!r} has {len(cores)} "
                    f"inputs, got {len(values)} arguments"
                )
        lead = [aval(v).shape[: aval(v).ndim - c] for v, c in zip(values, cores)]
        batch = np.broadcast_shapes(*lead) if lead else ()
        values = [
            np_shape.broadcast_to(v, batch + aval(v).shape[aval(v).ndim - c :])
            for v, c in zip(values, cores)
        ]

        def call(*vals: Any) -> Any:
            full = list(args)
            for i, v in zip(mapped_pos, vals):
                full[i] = v
            kw = dict(static_kw)
            kw.update(zip(mapped_kw, vals[len(mapped_pos) :]))
            return self.pyfunc(*full, **kw)

        fn = call
        for _ in batch:
            fn = vmap(fn)
        return fn(*values)


def piecewise(x: ArrayLike, condlist: Any, funclist: Sequence[Any], *args: Any, **kw: Any) -> Array:
    """A function defined piecewise: where ``condlist[i]`` holds, ``funclist[i](x)`` (or the
    constant ``funclist[i]``); one extra function is the default where no condition holds.
    Each function is evaluated on all of `x` (as in JAX) and the results selected.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        x = np.array([-2.0, 0.5, 3.0])
        out = jnp.piecewise(x, [x < 0, x > 1], [lambda x: -x, lambda x: x * 10, 0.0])
        assert out.tolist() == [2.0, 0.0, 30.0]
        ```
    """
    x = asarray(x)
    if isinstance(condlist, list | tuple):
        conds = [asarray(c) for c in condlist]
    else:
        c = asarray(condlist)
        conds = (
            [c]
            if aval(c).ndim == aval(x).ndim or aval(c).ndim == 0
            else [
                sh.squeeze(np_shape.take_in_bounds(c, np.array([i]), axis=0), (0,))
                for i in range(aval(c).shape[0])
            ]
        )
    n = len(conds)
    if len(funclist) not in (n, n + 1):
        raise ValueError(
            f"with {n} condition(s), either {n} or {n + 1} functions are "
            f"expected, got {len(funclist)}"
        )
    out: Any = np_creation.zeros_like(x)
    if len(funclist) == n + 1:
        default = funclist[n]
        out = np_shape.broadcast_to(
            ew.convert_element_type(
                asarray(default(x, *args, **kw) if callable(default) else default), aval(x).dtype
            ),
            aval(x).shape,
        )
    for cond, f in reversed(list(zip(conds, funclist))):
        val = f(x, *args, **kw) if callable(f) else f
        val = ew.convert_element_type(asarray(val), aval(x).dtype)
        out = ufuncs.where(cond, val, out)
    return np_shape.broadcast_to(asarray(out), aval(x).shape)


def fromfunction(
    function: Callable[..., Any], shape: Sequence[int], *, dtype: Any = float, **kwargs: Any
) -> Any:
    """``function(*indices)`` where ``indices`` are the coordinate arrays of `shape` (in
    `dtype`).

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        out = jnp.fromfunction(lambda i, j: i + 10 * j, (2, 3), dtype=int)
        assert out.tolist() == [[0, 10, 20], [1, 11, 21]]
        ```
    """
    coords = as_arrays(np.indices(tuple(shape), dtype=dtype))  # (Arrays, as JAX's are)
    return function(*coords, **kwargs)
