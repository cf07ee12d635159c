"""`funcdiff.Array`: the array type funcdiff returns, with JAX's semantics on NumPy memory.

An `Array` is a NumPy array (a subclass of `np.ndarray`), so every NumPy and SciPy function
accepts it without a copy, and it is immutable as JAX's arrays are:

- item assignment raises a `TypeError` that names ``x.at[idx].set(value)``;
- in-place operators (``x += 1``, ``g *= 0.1``) compute a new array and rebind the name;
- its memory is flagged read-only, so ``np.asarray(x)`` cannot be written either.

Indexing is NumPy's (a read-only view or copy), except that an index holding a traced value
(``t[i]`` under `jit`, `vmap` or in a loop body) is staged by funcdiff's indexing, as JAX's
arrays allow. NumPy functions and ufuncs given Arrays compute on plain arrays and return
plain NumPy results (``np.sin(x)`` is an `np.ndarray`), so NumPy code keeps NumPy's
semantics. Device methods (`block_until_ready`, `devices`, `sharding`, ...) answer as for
JAX's one CPU device.

This module imports only NumPy, the error classes and the pytree utilities;
`funcdiff._src.numpy.array_methods` gives `Array` its operators, methods, `.at` and the
indexing by traced values, as it does for traced values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src.errors import TracerArrayConversionError, TracerIntegerConversionError
from funcdiff._src.tree_util import tree_map


class Device:
    """The one device funcdiff computes on: this machine's CPU (JAX's ``CpuDevice(id=0)``)."""

    id = 0
    platform = "cpu"
    device_kind = "cpu"
    process_index = 0
    client = None

    def __repr__(self) -> str:
        return "CpuDevice(id=0)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Device)

    def __hash__(self) -> int:
        return hash("funcdiff-cpu-0")


CPU = Device()


class SingleDeviceSharding:
    """Where an array lives: all of it on the CPU (JAX's ``SingleDeviceSharding``)."""

    def __init__(self, device: Device = CPU):
        self._device = device

    @property
    def device_set(self) -> set[Device]:
        return {self._device}

    def __repr__(self) -> str:
        return f"SingleDeviceSharding(device={self._device!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SingleDeviceSharding) and other._device == self._device

    def __hash__(self) -> int:
        return hash(("SingleDeviceSharding", self._device))


_IMMUTABLE = (
    "funcdiff arrays are immutable, as JAX's: instead of x[idx] = y, write "
    "x = x.at[idx].set(y) (or .add, .multiply, .min, .max ...), which returns an "
    "updated copy"
)


# The metadata NumPy would let one assign in place, and what to write instead.
_METADATA = {"shape": "x.reshape(shape)", "dtype": "x.view(dtype) or x.astype(dtype)",
             "strides": "numpy.lib.stride_tricks.as_strided(x, ...)", "data": "a new array"}
_setflags = np.ndarray.setflags
_ndarray_copy = np.ndarray.copy


def _plain(x: Any) -> Any:
    return x.view(np.ndarray) if isinstance(x, Array) else x


def _plain_tree(x: Any) -> Any:
    if isinstance(x, Array):
        return x.view(np.ndarray)
    if type(x) in (list, tuple):
        return type(x)(_plain_tree(v) for v in x)
    if type(x) is dict:
        return {k: _plain_tree(v) for k, v in x.items()}
    return x


class Array(np.ndarray):
    """An immutable NumPy array, as returned by funcdiff (JAX's ``jax.Array``).

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        x = jnp.zeros(3)
        assert isinstance(x, funcdiff.Array) and isinstance(x, np.ndarray)
        y = x.at[0].set(1.0)              # an updated copy
        assert y.tolist() == [1.0, 0.0, 0.0] and x.tolist() == [0.0, 0.0, 0.0]
        try:
            x[0] = 1.0
        except TypeError as e:
            print(e)
        x += 1.0                          # a new array, bound to the name x
        assert float(x.sum().block_until_ready()) == 3.0
        ```
    """

    # ---- immutability ----------------------------------------------------------------------

    def __setitem__(self, index: Any, value: Any) -> None:
        raise TypeError(_IMMUTABLE)

    def __setattr__(self, name: str, value: Any) -> None:
        # NumPy lets `x.shape = s`, `x.dtype = t` and `x.strides = s` change an array in place
        # (JAX's arrays have no such setters): every holder of this Array would see it.
        if name in _METADATA:
            raise AttributeError(f"cannot set {name} of a funcdiff Array, which is immutable "
                                 f"as JAX's: write x = {_METADATA[name]} instead")
        object.__setattr__(self, name, value)

    def setflags(self, write: Any = None, align: Any = None, uic: Any = None) -> None:
        """NumPy's `setflags`, except that an Array cannot be made writable."""
        if write:
            raise ValueError(f"cannot make a funcdiff Array writable. {_IMMUTABLE}")
        _setflags(self, write, align, uic)

    def copy(self, order: str = "C") -> Array:
        """A copy of the array: a new Array, immutable too (NumPy's would be writable)."""
        out = _ndarray_copy(self.view(np.ndarray), order)
        return as_weak_array(out) if type(self) is WeakArray else as_array(out)

    def __copy__(self) -> Array:
        return self.copy()

    def __deepcopy__(self, memo: Any) -> Array:
        return self.copy()

    # ---- indexing ------------------------------------------------------------------------------

    def __getitem__(self, index: Any) -> Any:
        # NumPy's C indexing first: an index with no traced value costs one Python call more
        # than NumPy's. A traced index (``t[i]`` under jit, vmap or a loop body, as JAX
        # allows on its arrays) makes NumPy convert the tracer, which raises; the index then
        # goes to funcdiff's indexing, which stages the gather or dynamic slice.
        try:
            return _ndarray_getitem(self, index)
        except (TracerArrayConversionError, TracerIntegerConversionError):
            return _traced_getitem(self, index)

    # Operators, in-place operators (which rebind the name to a new Array), reductions and
    # shape methods compute with funcdiff: `funcdiff._src.numpy.array_methods` attaches them.

    # ---- NumPy code computes on plain arrays ------------------------------------------------

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        out = kwargs.get("out")
        if out is not None and any(isinstance(o, Array) for o in out):
            raise TypeError(_IMMUTABLE)
        return getattr(ufunc, method)(*[_plain(x) for x in inputs], **kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return func(*_plain_tree(args), **_plain_tree(kwargs))

    def __reduce__(self) -> Any:  # pickles (and copies) as a plain array
        return np.asarray(self.view(np.ndarray)).__reduce__()

    def __repr__(self) -> str:
        return "Array(" + repr(self.view(np.ndarray))[len("array(") :]

    # ---- JAX's device API, for the one CPU ----------------------------------------------------

    def block_until_ready(self) -> Array:
        """Return the array: funcdiff computes synchronously, so it is always ready."""
        return self

    def copy_to_host_async(self) -> None:
        """Nothing to do: the array is in host memory."""

    @property
    def device(self) -> Device:
        return CPU

    def devices(self) -> set[Device]:
        return {CPU}

    @property
    def sharding(self) -> SingleDeviceSharding:
        return SingleDeviceSharding(CPU)

    @property
    def is_fully_addressable(self) -> bool:
        return True

    @property
    def is_fully_replicated(self) -> bool:
        return True

    @property
    def addressable_shards(self) -> list[Any]:
        return [_Shard(self)]

    def addressable_data(self, index: int) -> Array:
        if index != 0:
            raise IndexError(f"an array on one device has one shard, not {index + 1}")
        return self

    @property
    def weak_type(self) -> bool:
        """Whether the array is weakly typed (see `WeakArray`): False for an Array."""
        return False

    @property
    def at(self) -> Any:
        """``x.at[idx].set/add/multiply/divide/power/min/max/apply/get``: functional updates,
        as in JAX (see `funcdiff.numpy.ndarray.at`)."""
        return _at_helper(self)

    # ---- deletion (JAX's `delete`, and what donating an argument to `jit` does) --------------

    def delete(self) -> None:
        """Delete the array: any later use of it raises a `RuntimeError` (its shape, dtype and
        `is_deleted` still answer). A donated argument of a jitted function
        (``jit(f, donate_argnums=...)``) is deleted this way once the call has run.

        Views of the array taken before (slices, reshapes) are other arrays and stay valid.
        One gap, which funcdiff cannot close: NumPy's own conversions of an array
        (`np.asarray`, `np.array`, `np.ascontiguousarray`, `memoryview`) read a NumPy
        subclass's buffer in C, calling none of its Python methods, so they still see the old
        values (``x.__array__()``, `np.asanyarray` and every funcdiff function raise).

        !!! Example
            ```python
            import funcdiff.numpy as jnp

            x = jnp.ones(3)
            x.delete()
            assert x.is_deleted() and x.shape == (3,)
            try:
                x + 1.0
            except RuntimeError as e:
                print(e)
            ```
        """
        if type(self) is not _DeletedArray:
            weak = type(self) is WeakArray
            self.__class__ = _DeletedArray
            self.__dict__["_weak_type"] = weak

    def is_deleted(self) -> bool:
        """Whether the array was deleted (with `delete`, or by donating it to `jit`)."""
        return False


class WeakArray(Array):
    """A weakly typed `Array`: one made from Python scalars alone (``jnp.broadcast_to(1.0,
    (2,))``, ``jnp.where(c, 1.0, 2.0)``, a jitted function's weakly typed result). As a
    Python scalar does, it takes the dtype of the arrays it meets (``w + x32`` is float32),
    exactly as its abstract value says under `jit`, `vmap` and `grad` (JAX's
    ``weak_type=True`` arrays). Made by the primitives' eager evaluation, never directly.

    Its indexing keeps it weak (a 0-d element is a Python scalar, the weakly typed scalar of
    funcdiff's eager code); NumPy functions and ufuncs compute on it as on any NumPy array.
    """

    @property
    def weak_type(self) -> bool:
        return True

    def __getitem__(self, index: Any) -> Any:
        try:
            out = _ndarray_getitem(self.view(np.ndarray), index)
        except (TracerArrayConversionError, TracerIntegerConversionError):
            return _traced_getitem(self, index)
        if isinstance(out, np.ndarray):
            return as_weak_array(out)
        return out.item() if isinstance(out, np.generic) else out

    def __repr__(self) -> str:
        return Array.__repr__(self)[:-1] + ", weak_type=True)"


# What a deleted array still answers (JAX's deleted arrays keep their shape and dtype).
_DELETED_ANSWERS = frozenset(
    "shape dtype ndim size itemsize nbytes weak_type is_deleted delete __class__ __dict__ "
    "device devices sharding".split()
)


class _DeletedArray(Array):
    """The class a deleted `Array` takes: it keeps its shape and dtype, and every other use
    (arithmetic, indexing, NumPy functions, conversion, printing, `jit`) raises a
    `RuntimeError`. Its memory is not written to by funcdiff afterwards. (`np.asarray` and
    `np.array` of it are the exception: for an ndarray subclass, NumPy makes the plain array
    in C without calling any Python method (NumPy 2.4), so they see the old values.)"""

    def __getattribute__(self, name: str) -> Any:
        if name in _DELETED_ANSWERS:
            return object.__getattribute__(self, name)
        raise deleted_error(self)

    @property
    def weak_type(self) -> bool:
        return bool(self.__dict__.get("_weak_type", False))

    def is_deleted(self) -> bool:
        return True

    def delete(self) -> None:
        """Already deleted: nothing to do (as in JAX)."""

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise deleted_error(self)

    __repr__ = __str__ = __format__ = __getitem__ = __iter__ = __reversed__ = _fail
    __float__ = __int__ = __complex__ = __bool__ = __index__ = __contains__ = _fail
    __array__ = __array_ufunc__ = __array_function__ = __array_wrap__ = _fail
    __reduce__ = __reduce_ex__ = __copy__ = __deepcopy__ = __setstate__ = _fail
    __dlpack__ = __dlpack_device__ = _fail


# The Array types a primitive's eager evaluation does not unwrap on its fast path.
_WEAK_OR_DEL = frozenset((WeakArray, _DeletedArray))


def deleted_error(x: Any) -> RuntimeError:
    """The error for using the deleted array `x`."""
    shape = ",".join(map(str, object.__getattribute__(x, "shape")))
    dtype = object.__getattribute__(x, "dtype")
    return RuntimeError(
        f"Array has been deleted with shape={dtype}[{shape}]: it was donated to a jitted "
        "function (donate_argnums/donate_argnames), or deleted with .delete(), and can no "
        "longer be used; use the jitted function's result instead, or do not donate it."
    )


def as_weak_array(x: Any) -> WeakArray:
    """`x` (a NumPy array) as a read-only `WeakArray` sharing its memory."""
    if type(x) is not np.ndarray:
        x = np.asarray(x)  # (a plain array: NumPy drops the subclass)
    a = x.view(WeakArray)
    _setflags(a, False)
    return a


class _Shard:
    def __init__(self, data: Array):
        self.data = data
        self.device = CPU
        self.index = tuple(slice(None) for _ in range(data.ndim))
        self.replica_id = 0


def _missing_at(x: Array) -> Any:  # replaced when funcdiff.numpy is imported
    raise RuntimeError("import funcdiff.numpy to use .at")


def _missing_traced_getitem(x: Array, index: Any) -> Any:  # replaced with funcdiff.numpy
    raise RuntimeError("import funcdiff.numpy to index an Array with a traced value")


_at_helper: Callable[[Array], Any] = _missing_at
_traced_getitem: Callable[[Array, Any], Any] = _missing_traced_getitem
_ndarray_getitem = np.ndarray.__getitem__


def set_at_helper(helper: Callable[[Array], Any], getitem: Callable[[Array, Any], Any]) -> None:
    """Install what ``Array.at`` returns, and the indexing of an Array by an index that holds
    a traced value (done by `funcdiff._src.numpy`)."""
    global _at_helper, _traced_getitem
    _at_helper = helper
    _traced_getitem = getitem


def as_array(x: Any) -> Any:
    """`x` as an `Array` handed to the user: NumPy arrays and scalars become read-only Arrays
    (sharing the memory of `x`, which the caller must not keep writing); Python scalars and
    anything else are returned as they are.

    This runs on every result of every eager operation, so it takes the cheapest route for
    each type: a view flagged read-only for arrays, and for NumPy scalars a 0-d Array built
    directly on the scalar's (immutable, hence read-only) memory."""
    t = type(x)
    if t is np.ndarray:
        a = x.view(Array)
    elif t is Array or t in _PY_SCALAR_TYPES or t is WeakArray:
        return x
    elif (dtype := _SCALAR_DTYPES.get(t)) is not None:
        return Array((), dtype, x)
    elif isinstance(x, np.ndarray):
        a = x.view(np.ndarray).view(Array)
    elif isinstance(x, np.generic):  # other scalars (datetimes, structured) have no buffer
        a = np.asarray(x).view(Array)
    else:
        return x
    _setflags(a, False)  # NumPy's own (Array.setflags refuses write=True in Python), positional
    return a


# ---- aliasing: no later write shows in a result ---------------------------------------------
#
# JAX's results are fresh buffers: no later write to an input changes one. funcdiff hands out
# NumPy memory, and a NumPy implementation may return a view of (or the very) array it was
# given, so results are copied where that could show. Two policies, one per place they run,
# both defined here:
#
# | helper          | runs on                                 | copies a result that may share |
# |                 |                                         | memory with                    |
# |-----------------|-----------------------------------------|--------------------------------|
# | `unshared`      | each eager call of a primitive that may | a writable plain NumPy array   |
# |                 | return a view (the bind hot path)       | among the operands             |
# | `owned_results` | the results of a transformation (jit,   | any array among the inputs,    |
# |                 | grad, vjp, jvp, vmap...), once per call | Arrays too, or an earlier      |
# |                 |                                         | result                         |
#
# The eager policy is the narrow one because it runs on every operation: an Array is
# immutable, so a view of one (a reshape of an Array) is safe to keep, and is kept. A
# transformation's results are handed out as arrays that own their memory: a jitted identity
# does not return its argument, and two results (the same cotangent for two arguments) are
# distinct arrays. `unchanged` is the eager policy for the early ``return x`` of an
# operation that leaves its operand as it is.


def unshared(out: Any, args: Sequence[Any], multiple: bool) -> Any:
    """The eager result(s) `out` of a primitive that may return a view of an operand, copied
    where they may share memory with a writable NumPy array of the caller: in JAX, no later
    write to an input changes a result. (A funcdiff Array is immutable, and so are the plain
    views of it that implementations compute on: a view of one is kept.)"""
    for a in args:  # (a loop: most operands are Arrays or Python scalars, and pass at once)
        if type(a) is np.ndarray and a.flags.writeable:
            if multiple:
                return [unshared(o, args, False) for o in out]
            if isinstance(out, np.ndarray) and np.may_share_memory(out, a):
                return out.copy()
    return out


def owned_results(xs: Sequence[Any], inputs: Sequence[Any]) -> list[Any]:
    """`xs` as results to hand to the user: funcdiff Arrays that share no memory with the
    NumPy arrays the user passed (`inputs`), nor with each other. One that may overlap an
    input or an earlier result (the same cotangent for two arguments, a view) is copied."""
    # Compared as plain arrays: NumPy functions given Arrays go through their (slow, Python)
    # `__array_function__`.
    seen = []  # (a loop: often no input is an array, as for grad of a Python float)
    for i in inputs:
        if isinstance(i, np.ndarray):
            seen.append(i.view(np.ndarray) if type(i) is Array else i)
    out = []
    for x in xs:
        if isinstance(x, np.ndarray):
            t = type(x)  # (an Array or WeakArray that needs no copy is handed out as it is)
            plain = x.view(np.ndarray) if t is Array or t is WeakArray else x
            for i in seen:
                if np.may_share_memory(plain, i):
                    plain = plain.copy()
                    x = as_weak_array(plain) if t is WeakArray else plain
                    break
            seen.append(plain)
        elif isinstance(x, np.generic):  # (`as_array` shares its memory with every result)
            x = np.array(x)
        out.append(as_array(x))
    return out


def unchanged(x: Any) -> Any:
    """`x`, handed back by an operation that leaves it as it is (a reshape to its own shape, a
    cast to its own dtype), as that operation's eager result: a NumPy array or scalar becomes
    a funcdiff `Array`, copied if it is writable (the caller's, see `unshared`); an Array, a
    tracer or a Python scalar is returned as it is. The early ``return x`` of `funcdiff.numpy`
    and `funcdiff.lax` go through it, so that such a result is immutable as a primitive's is,
    and no later write of the caller changes it."""
    t = type(x)
    if t is np.ndarray:
        return as_array(x.copy() if x.flags.writeable else x)
    if isinstance(x, np.generic):
        return as_array(x)
    return x


# The numeric NumPy scalar types (whose memory can back a 0-d array directly), with their dtype.
_SCALAR_DTYPES = {np.dtype(c).type: np.dtype(c) for c in "?bhilqBHILQefdgFDG"}
_PY_SCALAR_TYPES = frozenset((bool, int, float, complex))


def block_until_ready(x: Any) -> Any:
    """Return `x` (any pytree): funcdiff computes synchronously, so every result is ready.

    !!! Example
        ```python
        import funcdiff
        import funcdiff.numpy as jnp

        out = funcdiff.block_until_ready({"w": jnp.ones(2)})
        assert out["w"].tolist() == [1.0, 1.0]
        ```
    """
    return x


def device_put(x: Any, device: Any = None, **kwargs: Any) -> Any:
    """`x` (a pytree of arrays) as funcdiff Arrays on the CPU, each a private copy.

    !!! Example
        ```python
        import numpy as np
        import funcdiff

        a = np.zeros(2)
        x = funcdiff.device_put(a, funcdiff.devices()[0])
        a[0] = 1.0
        assert isinstance(x, funcdiff.Array) and x[0] == 0.0
        ```
    """
    return tree_map(lambda v: as_array(np.array(_plain(v), copy=True)), x)


def device_get(x: Any) -> Any:
    """`x` (a pytree) with every array as a plain, writable NumPy array (a copy).

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        host = funcdiff.device_get({"w": jnp.ones(2)})
        host["w"][0] = 5.0
        assert type(host["w"]) is np.ndarray
        ```
    """
    return tree_map(lambda v: np.array(_plain(v), copy=True) if isinstance(v, np.ndarray) else v, x)


def devices(backend: str | None = None) -> list[Device]:
    """The devices funcdiff computes on: one CPU (``backend`` may be None or ``"cpu"``).

    !!! Example
        ```python
        import funcdiff

        assert funcdiff.devices()[0].platform == "cpu" and funcdiff.device_count() == 1
        ```
    """
    if backend not in (None, "cpu"):
        raise RuntimeError(f"Unknown backend {backend!r}: funcdiff computes on the CPU only")
    return [CPU]


local_devices = devices


def device_count(backend: str | None = None) -> int:
    """The number of devices: 1."""
    return len(devices(backend))


def default_backend() -> str:
    """The platform funcdiff computes on: ``"cpu"``."""
    return "cpu"
