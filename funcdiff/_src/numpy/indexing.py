"""NumPy indexing of traced arrays (``x[i]``, ``x[1:3]``, ``x[..., None]``, integer arrays,
boolean masks) and immutable updates (``x.at[idx].set(v)``).

Basic indices (ints, slices, `None`, `...`) become static slice/squeeze/expand_dims/rev
primitives; integer-array indices become one `gather`, with NumPy's rules for where the
broadcast index dimensions go.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from funcdiff._src import core, dtypes, errors
from funcdiff._src.core import Tracer
from funcdiff._src.lax import dynamic_slicing as ds
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import indexing as lax_indexing
from funcdiff._src.lax import scans
from funcdiff._src.lax import shape as sh
from funcdiff._src.numpy import ufuncs
from funcdiff._src.numpy._util import Array, ArrayLike, asarray, aval

_FULL = slice(None)


class _BoolScalar:
    """A scalar boolean index: a new axis of length 1, selected (True) or not (False); it
    takes part in advanced indexing as an index array of shape (1,) or (0,)."""

    __slots__ = ("value",)

    def __init__(self, value: bool):
        self.value = value

    def index_array(self) -> np.ndarray:
        return np.zeros(1 if self.value else 0, np.int64)


def _is_advanced(i: Any) -> bool:
    if isinstance(i, Tracer):
        return True
    if isinstance(i, np.ndarray):
        return True
    return isinstance(i, list | tuple)


def _contains_tracer(idx: Any) -> bool:
    if isinstance(idx, Tracer):
        return True
    if isinstance(idx, list | tuple):
        return any(_contains_tracer(i) for i in idx)
    return False


def _check_bounds(i: Any, n: int, axis: int) -> None:
    """NumPy's IndexError for a concrete integer index array out of range."""
    if isinstance(i, np.ndarray) and i.size:
        # A plain view: an Array's methods would be staged under jit.
        i = np.asarray(i)
        lo, hi = int(i.min()), int(i.max())
        if lo < -n or hi >= n:
            bad = lo if lo < -n else hi
            raise IndexError(f"index {bad} is out of bounds for axis {axis} with size {n}")


def _normalize(idx: Any, ndim: int) -> list[Any]:
    """A list of index entries with `...` expanded and boolean masks turned into integer
    arrays (which needs concrete masks)."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    out: list[Any] = []
    for i in idx:
        if isinstance(i, list | tuple) and not isinstance(i, Tracer):
            i = asarray(i)
        if (isinstance(i, np.ndarray | Tracer) and aval(i).dtype.kind == "b") or isinstance(
            i, bool | np.bool_
        ):
            value = core.concrete_or_none(i)
            if value is None:
                raise errors.NonConcreteBooleanIndexError(
                    "boolean-mask indexing",
                    f" {aval(i).str_short()}: the result's size depends on the mask. Use "
                    "funcdiff.numpy.where(mask, x, 0) to keep a static shape",
                )
            value = np.asarray(value)
            if value.ndim == 0:
                out.append(_BoolScalar(bool(value)))  # a new axis, kept or emptied
                continue
            out.extend(np.nonzero(value))
            continue
        if isinstance(i, np.ndarray | Tracer) and not dtypes.is_integer(aval(i).dtype):
            raise IndexError(
                f"arrays used as indices must be of integer (or boolean) type, got "
                f"{aval(i).dtype}"
            )
        out.append(i)
    n_ellipsis = sum(1 for i in out if i is Ellipsis)
    if n_ellipsis > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(1 for i in out
                   if i is not None and i is not Ellipsis and not isinstance(i, _BoolScalar))
    if consumed > ndim:
        raise IndexError(
            f"too many indices for array: array is {ndim}-dimensional, but {consumed} were "
            "indexed"
        )
    if n_ellipsis:
        k = out.index(Ellipsis)
        out[k : k + 1] = [_FULL] * (ndim - consumed)
    else:
        out += [_FULL] * (ndim - consumed)
    return out


def getitem(x: Array, idx: Any) -> Array:
    """``x[idx]`` with NumPy semantics."""
    x = asarray(x)
    entries = _normalize(idx, aval(x).ndim)
    # 1. Insert the new axes, turning `None` into a full slice over a length-1 axis (and a
    #    scalar boolean into an index array over it).
    new_axes = tuple(k for k, i in enumerate(entries) if i is None or isinstance(i, _BoolScalar))
    if new_axes:
        x = sh.expand_dims(x, new_axes)
        entries = [_FULL if i is None else i.index_array() if isinstance(i, _BoolScalar) else i
                   for i in entries]
    advanced = any(_is_advanced(i) for i in entries)
    shape = aval(x).shape
    for k, (i, n) in enumerate(zip(entries, shape)):
        if isinstance(i, list | tuple):
            i = entries[k] = np.asarray(i)
        _check_bounds(i, n, k)
    if advanced:
        # Integers join the advanced indices (NumPy broadcasts them together).
        entries = [np.asarray(i, np.int64) if isinstance(i, int | np.integer) else i
                   for i in entries]
    # 2. Static slices, and static integers when there is no advanced index.
    starts, limits, strides, flips, squeeze_dims = [], [], [], [], []
    for k, (i, n) in enumerate(zip(entries, shape)):
        if isinstance(i, slice):
            start, stop, step = i.indices(n)
            if step > 0:
                starts.append(start)
                limits.append(max(start, stop))
                strides.append(step)
            else:
                # Reverse, then slice forwards.
                count = len(range(start, stop, step))
                first = n - 1 - start
                starts.append(first)
                limits.append(first + (count - 1) * (-step) + 1 if count else first)
                strides.append(-step)
                flips.append(k)
        elif isinstance(i, int | np.integer) and not advanced:
            j = int(i)
            if not -n <= j < n:
                raise IndexError(f"index {j} is out of bounds for axis {k} with size {n}")
            j %= n
            starts.append(j)
            limits.append(j + 1)
            strides.append(1)
            squeeze_dims.append(k)
        else:
            starts.append(0)
            limits.append(n)
            strides.append(1)
    if flips:
        x = sh.rev(x, flips)
    if starts != [0] * len(shape) or limits != list(shape) or any(s != 1 for s in strides):
        x = sh.slice(x, starts, limits, None if all(s == 1 for s in strides) else strides)
    if squeeze_dims:
        x = sh.squeeze(x, squeeze_dims)
    if not advanced:
        return core.unchanged(x)
    # 3. One gather for the integer-array indices.
    index_arrays, dims = [], []
    for i in entries:
        if isinstance(i, slice):
            dims.append(-1)
        else:
            arr = asarray(i)
            if not dtypes.is_integer(aval(arr).dtype):
                raise IndexError(f"index arrays must be integers, got {aval(arr).dtype}")
            dims.append(len(index_arrays))
            index_arrays.append(arr)
    return lax_indexing.gather(x, index_arrays, dims)


# ---- x.at[idx] ------------------------------------------------------------------------------


class _IndexUpdateHelper:
    """``x.at``: indexable, giving an object whose methods return updated copies of `x`."""

    __slots__ = ("array",)

    def __init__(self, array: Array):
        self.array = array

    def __getitem__(self, idx: Any) -> _IndexUpdateRef:
        return _IndexUpdateRef(self.array, idx)

    def __repr__(self) -> str:
        return f"_IndexUpdateHelper({self.array!r})"


_MODES = (None, "promise_in_bounds", "clip", "fill", "drop")


def _default_fill(dtype: np.dtype) -> Any:
    """JAX's fill value for out-of-bounds reads: NaN, the most negative signed integer, the
    largest unsigned one, or True."""
    if dtype.kind in "fc":
        return np.nan
    if dtype.kind == "i":
        return np.iinfo(dtype).min
    if dtype.kind == "u":
        return np.iinfo(dtype).max
    return True


class _IndexUpdateRef:
    """``x.at[idx]``: `get`, `set`, `add`, `subtract`, `multiply`, `divide`, `power`, `min`,
    `max` and `apply` return a new array; `x` itself is never modified.

    Every method takes JAX's keywords: `mode` (``None`` or ``"promise_in_bounds"``: an
    out-of-bounds index raises `IndexError`, as in NumPy; ``"clip"``: indices are clamped
    into range; ``"fill"`` for `get`: out-of-bounds places read `fill_value`, by default NaN
    for inexact dtypes; ``"drop"`` (or ``"fill"``) for updates: out-of-bounds updates are
    ignored), and `indices_are_sorted` and `unique_indices`, hints that are accepted and not
    needed."""

    __slots__ = ("array", "index")

    def __init__(self, array: Array, index: Any):
        self.array = array
        self.index = index

    def get(self, *, indices_are_sorted: bool = False, unique_indices: bool = False,
            mode: str | None = None, fill_value: Any = None) -> Array:
        """The indexed elements, ``x[idx]``."""
        if mode in ("fill", "drop"):
            dtype = aval(asarray(self.array)).dtype
            fill = _default_fill(dtype) if fill_value is None else fill_value
            padded, index, _ = self._out_of_bounds(mode, fill)
            return getitem(padded, index)
        if mode == "clip":
            return getitem(asarray(self.array), self._out_of_bounds(mode, 0)[1])
        self._check_mode(mode)
        return getitem(self.array, self.index)

    def _check_mode(self, mode: Any) -> None:
        if mode not in _MODES:
            raise ValueError(f"x.at[...]: mode must be one of {_MODES[1:]} or None, got "
                             f"{mode!r}")

    def _out_of_bounds(self, mode: str, fill: Any) -> tuple[Array, Any, list[int]]:
        """``(array, index, padded_axes)`` for `mode`: with ``"clip"`` the integer indices
        clamped into range; with ``"fill"``/``"drop"`` every axis indexed by integers padded
        by one trailing slot holding `fill`, where out-of-bounds indices now point."""
        self._check_mode(mode)
        x = asarray(self.array)
        v = aval(x)
        entries = _normalize(self.index, v.ndim)
        axis, padded, index = 0, [], []
        for i in entries:
            if i is None or isinstance(i, _BoolScalar):
                index.append(i if i is None else i.index_array())
                continue
            if isinstance(i, slice) or i is Ellipsis:
                index.append(i)
                axis += 1
                continue
            n = v.shape[axis]
            k = asarray(i)
            wrapped = ufuncs.where(ufuncs.less(k, 0), ufuncs.add(k, n), k)
            if mode == "clip":
                index.append(ufuncs.clip(wrapped, 0, max(n - 1, 0)))
            else:
                inside = ufuncs.logical_and(ufuncs.greater_equal(k, -n), ufuncs.less(k, n))
                index.append(ufuncs.where(inside, wrapped, n))
                padded.append(axis)
            axis += 1
        if padded:
            config = [(0, 1 if a in padded else 0, 0) for a in range(v.ndim)]
            x = sh.pad(x, ew.convert_element_type(asarray(fill), v.dtype), config)
        return x, tuple(index), padded

    def _positions(self) -> tuple[Array, Array]:
        """The flat positions selected by the index, and `x` flattened."""
        x = asarray(self.array)
        v = aval(x)
        flat_positions = np.arange(v.size, dtype=np.int64).reshape(v.shape)
        if _contains_tracer(self.index):
            positions = getitem(flat_positions, self.index)
        else:
            # A concrete index gives concrete positions (also while staging), which lets
            # `min`/`max` see repeated places. NumPy's own indexing has the same rules.
            positions = flat_positions[self.index]
        return positions, sh.reshape(x, (v.size,))

    def _updates(self, values: ArrayLike, positions: Array) -> Array:
        x_dtype = aval(asarray(self.array)).dtype
        values = ew.convert_element_type(asarray(values), x_dtype)
        target = aval(positions).shape
        try:
            np.broadcast_shapes(aval(values).shape, target)
        except ValueError:
            raise ValueError(
                f"cannot broadcast update values of shape {aval(values).shape} to the indexed "
                f"shape {target}"
            ) from None
        return sh.broadcast_to(values, target)

    def _update(self, name: str, values: Any, mode: Any) -> Array:
        """Method `name` applied with `mode`: out-of-bounds places clamped or dropped."""
        if mode in (None, "promise_in_bounds"):
            return getattr(self, "_" + name)(values)
        x, index, padded = self._out_of_bounds(mode, 0)
        out = getattr(_IndexUpdateRef(x, index), "_" + name)(values)
        if not padded:
            return out
        shape = aval(asarray(self.array)).shape
        return sh.slice(out, (0,) * len(shape), shape)

    def _scatter(self, fn, values: ArrayLike) -> Array:
        positions, flat = self._positions()
        updates = self._updates(values, positions)
        out = fn(flat, updates, [positions], [0])
        return sh.reshape(out, aval(asarray(self.array)).shape)

    def set(self, values: ArrayLike, *, indices_are_sorted: bool = False,
            unique_indices: bool = False, mode: str | None = None) -> Array:
        """A copy with the indexed elements set to `values`."""
        return self._update("set", values, mode)

    def add(self, values: ArrayLike, *, indices_are_sorted: bool = False,
            unique_indices: bool = False, mode: str | None = None) -> Array:
        """A copy with `values` added at the indexed places (repeated indices accumulate)."""
        return self._update("add", values, mode)

    def subtract(self, values: ArrayLike, *, indices_are_sorted: bool = False,
                 unique_indices: bool = False, mode: str | None = None) -> Array:
        return self._update("add", ew.neg(asarray(values)), mode)

    def multiply(self, values: ArrayLike, *, indices_are_sorted: bool = False,
                 unique_indices: bool = False, mode: str | None = None) -> Array:
        """A copy with the indexed places multiplied by `values` (repeated indices multiply
        by all their updates; the derivative in `values` holds at zero updates too)."""
        return self._update("multiply", values, mode)

    mul = multiply  # JAX's alias

    def divide(self, values: ArrayLike, *, indices_are_sorted: bool = False,
               unique_indices: bool = False, mode: str | None = None) -> Array:
        values = asarray(values)
        one = np.ones((), aval(asarray(self.array)).dtype)
        return self._update("multiply", ew.div(one, ew.convert_element_type(
            values, aval(asarray(self.array)).dtype)), mode)

    def power(self, values: ArrayLike, *, indices_are_sorted: bool = False,
              unique_indices: bool = False, mode: str | None = None) -> Array:
        """A copy with the indexed places raised to `values` (a repeated index raises to all
        its updates in turn, as JAX: ``(x ** a) ** b``)."""
        return self._update("power", values, mode)

    def min(self, values: ArrayLike, *, indices_are_sorted: bool = False,  # noqa: A003
            unique_indices: bool = False, mode: str | None = None) -> Array:
        """A copy with each indexed element replaced by its minimum with `values` (repeated
        indices, also traced ones, take the minimum of all their updates)."""
        return self._update("min", values, mode)

    def max(self, values: ArrayLike, *, indices_are_sorted: bool = False,  # noqa: A003
            unique_indices: bool = False, mode: str | None = None) -> Array:
        """A copy with each indexed element replaced by its maximum with `values` (repeated
        indices take the maximum of all their updates)."""
        return self._update("max", values, mode)

    def apply(self, func: Any, *, indices_are_sorted: bool = False,
              unique_indices: bool = False, mode: str | None = None) -> Array:
        """A copy with `func` (elementwise) applied to the indexed elements; a place indexed
        k times gets `func` applied k times, as NumPy's ``ufunc.at`` and JAX do (with
        `unique_indices` the caller promises k <= 1)."""
        if unique_indices:
            return self.set(func(self.get(mode=mode if mode != "drop" else "clip")), mode=mode)
        return self._update("apply", func, mode)

    # ---- the updates, for in-bounds indices ---------------------------------------------

    def _set(self, values: ArrayLike) -> Array:
        return self._scatter(lax_indexing.scatter, values)

    def _add(self, values: ArrayLike) -> Array:
        return self._scatter(lax_indexing.scatter_add, values)

    def _multiply(self, values: ArrayLike) -> Array:
        return self._scatter(lax_indexing.scatter_mul, values)

    def _power(self, values: ArrayLike) -> Array:
        positions, flat = self._positions()
        v = aval(flat)
        exponents = lax_indexing.scatter_mul(sh.broadcast_to(np.ones((), v.dtype), v.shape),
                                             self._updates(values, positions), [positions], [0])
        return sh.reshape(ufuncs.power(flat, exponents), aval(asarray(self.array)).shape)

    def _apply(self, func: Any) -> Array:
        positions, flat = self._positions()
        size = aval(flat).shape[0]
        dtype = aval(flat).dtype
        if isinstance(positions, Tracer):
            # Traced places: one place after the other, in order, as ``ufunc.at`` does (a
            # scan, so that reverse mode works too).
            def body(values: Array, at: Array) -> tuple[Array, None]:
                value = ds.dynamic_slice(values, (at,), (1,))
                applied = ew.convert_element_type(asarray(func(value)), dtype)
                return ds.dynamic_update_slice(values, applied, (at,)), None

            order = sh.reshape(positions, (aval(positions).size,))
            flat = scans.scan(body, flat, order)[0]
        else:
            # Concrete places: round k applies `func` to the places indexed more than k times.
            counts = np.bincount(np.asarray(positions).ravel(), minlength=size)
            for k in range(int(counts.max(initial=0))):
                at = np.flatnonzero(counts > k)
                applied = asarray(func(getitem(flat, at)))
                flat = lax_indexing.scatter(flat, ew.convert_element_type(applied, dtype), [at],
                                            [0])
        return sh.reshape(flat, aval(asarray(self.array)).shape)

    def _min(self, values: ArrayLike) -> Array:
        return self._scatter(lax_indexing.scatter_min, values)

    def _max(self, values: ArrayLike) -> Array:
        return self._scatter(lax_indexing.scatter_max, values)


