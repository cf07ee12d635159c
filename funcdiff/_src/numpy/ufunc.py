"""`ufunc` objects from Python functions (`ufunc`, `frompyfunc`), as `jax.numpy` has them:
a call broadcasts its arguments and maps the function over their elements (with `vmap`), and
the methods `outer`, `reduce`, `accumulate`, `at` and `reduceat` work as NumPy's. Every
method is composed of funcdiff operations, so all transformations apply.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, errors
from funcdiff._src.lax import shape as sh
from funcdiff._src.numpy import shape as np_shape
from funcdiff._src.numpy._util import Array, ArrayLike, asarray, aval, canonical_axes
from funcdiff._src.numpy.indexing import _IndexUpdateRef, getitem
from funcdiff._src.numpy.vectorize import vectorize


class ufunc:  # noqa: N801 (NumPy's and JAX's name)
    """A universal function made from `func` of `nin` scalar arguments and `nout` results.
    Calling it broadcasts the arguments and applies `func` elementwise (vectorised with
    `vmap`; `call` replaces that with a function of whole arrays). For two arguments and one
    result it also has `outer`, `reduce` (starting from `identity` or `initial`),
    `accumulate`, `at` (with ``inplace=False``) and `reduceat`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        add = jnp.ufunc(lambda x, y: x + y, 2, 1, identity=0)
        x = np.array([[1.0, 2.0], [3.0, 4.0]])
        assert add(x, 1.0).tolist() == [[2.0, 3.0], [4.0, 5.0]]
        assert add.reduce(x, axis=0).tolist() == [4.0, 6.0]
        assert add.accumulate(np.array([1.0, 2.0, 3.0])).tolist() == [1.0, 3.0, 6.0]
        assert add.outer(np.array([1, 2]), np.array([10, 20])).tolist() == [[11, 21], [12, 22]]
        assert add.at(np.zeros(3), np.array([0, 0, 2]), 1.0, inplace=False).tolist() == [
            2.0, 0.0, 1.0]
        ```
    """

    def __init__(self, func: Callable[..., Any], /, nin: int, nout: int, *,
                 name: str | None = None, nargs: int | None = None, identity: Any = None,
                 call: Callable[..., Any] | None = None,
                 reduce: Callable[..., Any] | None = None,
                 accumulate: Callable[..., Any] | None = None,
                 at: Callable[..., Any] | None = None,
                 reduceat: Callable[..., Any] | None = None):
        self.func = func
        self.nin, self.nout = int(nin), int(nout)
        self.nargs = self.nin if nargs is None else int(nargs)
        self.identity = identity
        self.__name__ = name or getattr(func, "__name__", "ufunc")
        self._call, self._reduce, self._accumulate = call, reduce, accumulate
        self._at, self._reduceat = at, reduceat

    def __repr__(self) -> str:
        return f"<funcdiff.numpy.ufunc '{self.__name__}'>"

    def __call__(self, *args: ArrayLike) -> Any:
        if len(args) != self.nin:
            raise TypeError(f"{self.__name__}() takes {self.nin} positional arguments, got "
                            f"{len(args)}")
        if self._call is not None:
            return self._call(*args)
        return vectorize(self.func)(*args)

    def _binary(self, method: str) -> None:
        if self.nin != 2 or self.nout != 1:
            raise ValueError(f"{method} only supported for binary ufuncs with one output "
                             f"({self.__name__} has nin={self.nin}, nout={self.nout})")

    def outer(self, A: ArrayLike, B: ArrayLike, /) -> Array:  # noqa: N803
        """``self(A[..., None, ...], B)``: every pair of an element of `A` and one of `B`."""
        self._binary("outer")
        a, b = asarray(A), asarray(B)
        a = sh.reshape(a, aval(a).shape + (1,) * aval(b).ndim)
        return self(a, b)

    def reduce(self, a: ArrayLike, axis: int | Sequence[int] | None = 0, dtype: Any = None,
               out: None = None, keepdims: bool = False, initial: ArrayLike | None = None,
               where: ArrayLike | None = None) -> Array:
        """Fold the function over `axis` (several axes one after another; all with None),
        from `initial` or the ufunc's `identity` if given, else from the first element."""
        self._binary("reduce")
        if out is not None:
            raise NotImplementedError("reduce: out= is not supported; use the returned array")
        if where is not None:
            raise NotImplementedError("reduce: where= is not supported by funcdiff's ufunc")
        if self._reduce is not None:
            return self._reduce(a, axis, dtype, out, keepdims, initial, where)
        x = asarray(a) if dtype is None else asarray(a, dtype)
        nd = aval(x).ndim
        axes = canonical_axes(axis, nd)
        start = initial if initial is not None else self.identity
        acc = x
        for ax in sorted(axes, reverse=True):
            acc = self._fold(acc, ax, start)
        if keepdims:
            acc = sh.expand_dims(asarray(acc), tuple(sorted(axes)))
        return core.unchanged(acc)  # (`a` itself for axis=())

    def _fold(self, x: Array, axis: int, start: Any) -> Array:
        n = aval(x).shape[axis]
        rest = aval(x).shape[:axis] + aval(x).shape[axis + 1:]
        parts = [sh.squeeze(np_shape.take_in_bounds(x, np.array([i]), axis=axis), (axis,))
                 for i in range(n)]
        if start is None:
            if not parts:
                raise ValueError(f"zero-size array to reduction operation {self.__name__} "
                                 "which has no identity")
            acc, parts = parts[0], parts[1:]
        else:
            acc = np_shape.broadcast_to(asarray(start, aval(x).dtype), rest)
        for p in parts:
            acc = self(acc, p)
        return acc

    def accumulate(self, a: ArrayLike, axis: int = 0, dtype: Any = None,
                   out: None = None) -> Array:
        """The running `reduce` along `axis`: element ``i`` folds elements ``0..i``."""
        self._binary("accumulate")
        if out is not None:
            raise NotImplementedError("accumulate: out= is not supported")
        if self._accumulate is not None:
            return self._accumulate(a, axis, dtype, out)
        x = asarray(a) if dtype is None else asarray(a, dtype)
        (ax,) = canonical_axes(axis, aval(x).ndim)
        n = aval(x).shape[ax]
        if n == 0:
            return core.unchanged(x)
        parts = [sh.squeeze(np_shape.take_in_bounds(x, np.array([i]), axis=ax), (ax,))
                 for i in range(n)]
        outs = [parts[0]]
        for p in parts[1:]:
            outs.append(self(outs[-1], p))
        return np_shape.stack(outs, axis=ax)

    def at(self, a: ArrayLike, indices: Any, b: ArrayLike | None = None, /, *,
           inplace: bool = True) -> Array:
        """A copy of `a` with ``a[indices] = self(a[indices], b)`` (``self(a[indices])`` for
        one-argument ufuncs), applied once per occurrence of a repeated index, as NumPy's
        unbuffered ``ufunc.at``. Call with ``inplace=False``."""
        if inplace:
            raise ValueError("ufunc.at: funcdiff arrays are immutable; call it with "
                             "inplace=False and use the returned array")
        if self._at is not None:
            return self._at(a, indices, b, inplace=False)
        x = asarray(a)
        positions = np.arange(aval(x).size).reshape(aval(x).shape)
        concrete = core.concrete_or_none(asarray(indices)) if not isinstance(
            indices, tuple | slice) else indices
        if concrete is None:
            raise errors.ConcretizationTypeError(
                "ufunc.at", ": repeated indices are applied one after another, which needs "
                "concrete indices")
        places = np.asarray(positions[concrete]).ravel()
        flat = sh.reshape(x, (aval(x).size,))
        if b is not None:
            bb = np_shape.broadcast_to(asarray(b), np.shape(positions[concrete]))
            bb = sh.reshape(asarray(bb), (places.size,))
        for k, p in enumerate(places):
            cur = getitem(flat, int(p))
            new = self(cur) if b is None else self(cur, getitem(bb, k))
            flat = _IndexUpdateRef(flat, int(p)).set(new)
        return sh.reshape(flat, aval(x).shape)

    def reduceat(self, a: ArrayLike, indices: ArrayLike, axis: int = 0, dtype: Any = None,
                 out: None = None) -> Array:
        """`reduce` over the slices ``indices[i]:indices[i + 1]`` along `axis` (the last one
        to the end; a single element where ``indices[i] >= indices[i + 1]``), as NumPy."""
        self._binary("reduceat")
        if out is not None:
            raise NotImplementedError("reduceat: out= is not supported")
        if self._reduceat is not None:
            return self._reduceat(a, indices, axis, dtype, out)
        x = asarray(a) if dtype is None else asarray(a, dtype)
        (ax,) = canonical_axes(axis, aval(x).ndim)
        idx = core.concrete_or_none(asarray(indices))
        if idx is None:
            raise errors.ConcretizationTypeError("ufunc.reduceat",
                                                 ": the slices need concrete indices")
        idx = np.asarray(idx).ravel()
        n = aval(x).shape[ax]
        outs = []
        for i, lo in enumerate(idx):
            hi = int(idx[i + 1]) if i + 1 < len(idx) else n
            if not 0 <= lo < n:
                raise IndexError(f"index {lo} out-of-bounds in {self.__name__}.reduceat "
                                 f"[0, {n})")
            if lo < hi:
                piece = np_shape.take_in_bounds(x, np.arange(lo, hi), axis=ax)
                outs.append(self._fold(piece, ax, None))
            else:
                outs.append(sh.squeeze(np_shape.take_in_bounds(x, np.array([lo]), axis=ax), (ax,)))
        return np_shape.stack(outs, axis=ax)


def frompyfunc(func: Callable[..., Any], /, nin: int, nout: int, *,
               identity: Any = None) -> ufunc:
    """A `ufunc` from the Python function `func` of `nin` scalars and `nout` results.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp

        hyp = jnp.frompyfunc(lambda x, y: jnp.sqrt(x * x + y * y), 2, 1)
        assert hyp(np.array([3.0, 5.0]), np.array([4.0, 12.0])).tolist() == [5.0, 13.0]
        ```
    """
    return ufunc(func, nin, nout, identity=identity)
