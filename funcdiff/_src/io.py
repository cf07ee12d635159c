"""Saving and loading pytrees of arrays (parameters, optimiser states) without pickle.

A checkpoint is a NumPy ``.npz`` archive: one entry per leaf (``leaf_0``, ``leaf_1``, ...)
and one entry, ``__funcdiff_tree__``, holding a JSON description of the tree's structure and
of every leaf (key path, shape, dtype, SHA-256 of its bytes). Loading treats the file as
hostile: it never unpickles, imports or evaluates anything from it; it checks the JSON against
a schema, and each member's .npy header against the JSON, before reading any array data; it
decompresses a chunk at a time up to the declared size, within a total `max_bytes`; and any
malformed, truncated, modified or oversized file, or one whose structure, shapes or dtypes
differ from the tree expected (`like=`), raises `CheckpointError` naming the member and the
difference.
"""

from __future__ import annotations

import collections
import json
import os
import secrets
import sys
import zipfile
from collections.abc import Iterator
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.io_checks import (
    DEFAULT_MAX_BYTES,
    FORMAT,
    META,
    READ_ERRORS,
    VERSION,
    CheckpointError,
    Malformed,
    check_structure,
    contiguous,
    digest,
    read_archive,
)
from funcdiff._src.tree_util import (
    PyTreeDef,
    keystr,
    tree_flatten_with_path,
    tree_unflatten,
)

_PathLike = str | os.PathLike


# ---- describing a structure as JSON ---------------------------------------------------------


_KEY_KINDS = (
    (bool, (bool, np.bool_)),
    (int, (int, np.integer)),
    (float, (float, np.floating)),
    (str, (str,)),
)


def _encode_key(key: Any, where: str) -> list[Any]:
    # (NumPy scalar keys are saved as the Python scalars they hash and compare equal to)
    for kind, types in _KEY_KINDS:
        if isinstance(key, types):
            return [kind.__name__, kind(key)]
    if key is None:
        return ["NoneType", None]
    raise TypeError(
        f"funcdiff.io.save: the dict key {key!r} at {where or 'the root'} has type "
        f"{type(key).__name__}; only str, int, float, bool and None keys can be saved."
    )


def _decode_key(entry: Any) -> Any:
    kind, value = entry
    if kind == "bool":
        return bool(value)
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "NoneType":
        return None
    if kind == "str":
        return str(value)
    raise CheckpointError(f"unknown dict key type {kind!r} in the structure description")


def _type_name(t: type) -> str:
    return f"{t.__module__}.{t.__qualname__}"


def _describe(treedef: PyTreeDef, where: str = "") -> Any:
    """A JSON-able description of a treedef: ``"*"`` for a leaf, else a dict with the node
    type, its aux data (keys, field names) and its children."""
    data = treedef.node_data()
    if data is None:
        return "*"
    t, aux = data
    children = treedef.children()
    if t is type(None):
        return {"type": "None"}
    if t is tuple or t is list:
        return {"type": t.__name__, "children": [_describe(c, where) for c in children]}
    if t in (dict, collections.OrderedDict, collections.defaultdict):
        keys = aux[1] if t is collections.defaultdict else aux
        return {
            "type": t.__name__,
            "keys": [_encode_key(k, where) for k in keys],
            "children": [
                _describe(c, f"{where}[{k!r}]") for k, c in zip(keys, children, strict=True)
            ],
        }
    if issubclass(t, tuple) and hasattr(t, "_fields"):
        return {
            "type": "namedtuple",
            "name": _type_name(t),
            "fields": list(t._fields),
            "children": [
                _describe(c, f"{where}.{f}") for f, c in zip(t._fields, children, strict=True)
            ],
        }
    return {
        "type": "custom",
        "name": _type_name(t),
        "children": [_describe(c, where) for c in children],
    }


def _build(desc: Any, leaves: Iterator[Any], where: str = "") -> Any:
    """Rebuild a tree from its description, consuming `leaves` in order."""
    if desc == "*":
        return next(leaves)
    kind = desc["type"]  # (the description has been checked by check_structure)
    children = desc.get("children", [])
    if kind == "None":
        return None
    if kind in ("tuple", "list"):
        built = [_build(c, leaves, f"{where}[{i}]") for i, c in enumerate(children)]
        return tuple(built) if kind == "tuple" else built
    if kind in ("dict", "OrderedDict", "defaultdict"):
        keys = [_decode_key(k) for k in desc["keys"]]
        values = [
            _build(c, leaves, f"{where}[{k!r}]") for k, c in zip(keys, children, strict=True)
        ]
        pairs = zip(keys, values, strict=True)
        if kind == "OrderedDict":
            return collections.OrderedDict(pairs)
        return dict(pairs)
    if kind == "namedtuple":
        fields = [str(f) for f in desc["fields"]]
        cls = _known_namedtuple(str(desc["name"]), fields)
        try:
            if cls is None:
                cls = collections.namedtuple(str(desc["name"]).rsplit(".", 1)[-1], fields)
        except ValueError as e:
            raise CheckpointError(
                f"invalid namedtuple {desc['name']!r} at {where or 'the root'}: {e}"
            ) from None
        return cls(
            *(_build(c, leaves, f"{where}.{f}") for f, c in zip(fields, children, strict=True))
        )
    if kind == "custom":
        raise CheckpointError(
            f"the tree holds a custom pytree node {desc.get('name')!r} at {where or 'the root'}; "
            "it cannot be rebuilt from the file alone. Pass the expected tree: "
            "`load(path, like=tree)`."
        )
    raise CheckpointError(f"unknown node type {kind!r} at {where or 'the root'}")


def _known_namedtuple(name: str, fields: list[str]) -> type | None:
    """funcdiff's own namedtuple class of that name (an optimiser state), if its module is
    already imported and its fields match; nothing is imported and no other class is used."""
    module_name, _, qualname = name.rpartition(".")
    while module_name and module_name not in sys.modules:
        module_name, _, outer = module_name.rpartition(".")
        qualname = f"{outer}.{qualname}"
    if not (module_name == "funcdiff" or module_name.startswith("funcdiff.")):
        return None
    obj: Any = sys.modules[module_name]
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    is_namedtuple = isinstance(obj, type) and issubclass(obj, tuple) and (
        getattr(obj, "_fields", None) == tuple(fields)
    )
    return obj if is_namedtuple else None


def _node_summary(desc: Any) -> str:
    if desc == "*":
        return "a leaf"
    kind = desc.get("type")
    if kind in ("dict", "OrderedDict", "defaultdict"):
        return f"a {kind} with keys {[_decode_key(k) for k in desc['keys']]}"
    if kind == "namedtuple":
        return f"a namedtuple {desc['name']} with fields {desc['fields']}"
    if kind in ("tuple", "list"):
        return f"a {kind} of length {len(desc.get('children', []))}"
    if kind == "None":
        return "None"
    return f"a {desc.get('name', kind)} node with {len(desc.get('children', []))} children"


def _child_labels(desc: Any) -> list[str]:
    kind = desc.get("type")
    n = len(desc.get("children", []))
    if kind in ("dict", "OrderedDict", "defaultdict"):
        return [f"[{_decode_key(k)!r}]" for k in desc["keys"]]
    if kind == "namedtuple":
        return [f".{f}" for f in desc["fields"]]
    return [f"[{i}]" for i in range(n)]


def _first_difference(found: Any, expected: Any, where: str = "") -> str | None:
    """Where and how two structure descriptions first differ, or None if they are equal."""
    if found == expected:
        return None
    same_kind = (
        found != "*"
        and expected != "*"
        and found.get("type") == expected.get("type")
        and found.get("name") == expected.get("name")
        and found.get("keys") == expected.get("keys")
        and found.get("fields") == expected.get("fields")
        and len(found.get("children", [])) == len(expected.get("children", []))
    )
    if not same_kind:
        return (
            f"at {where or 'the root'} the file has {_node_summary(found)}, but the expected "
            f"tree has {_node_summary(expected)}"
        )
    for label, f, e in zip(
        _child_labels(found), found["children"], expected["children"], strict=True
    ):
        diff = _first_difference(f, e, where + label)
        if diff is not None:
            return diff
    return f"at {where or 'the root'} the node descriptions differ"


# ---- leaves ---------------------------------------------------------------------------------


def _leaf_kind(leaf: Any) -> str:
    if type(leaf) in (bool, int, float, complex):
        return "python"
    if isinstance(leaf, np.generic):
        return "numpy_scalar"
    return "array"


def _to_array(leaf: Any, where: str) -> np.ndarray:
    if isinstance(leaf, core.Tracer):
        raise TypeError(
            f"funcdiff.io.save: the leaf at {where or 'the root'} is a traced value "
            f"({leaf.aval.str_short()}); save concrete arrays, outside grad/vjp/make_jaxpr."
        )
    try:
        arr = np.asarray(leaf)
    except Exception as e:
        raise TypeError(
            f"funcdiff.io.save: the leaf at {where or 'the root'} ({type(leaf).__name__}) is "
            f"not an array: {e}"
        ) from None
    if arr.dtype.kind not in "biufc":
        raise TypeError(
            f"funcdiff.io.save: the leaf at {where or 'the root'} has dtype {arr.dtype} "
            f"({type(leaf).__name__}); only boolean and numeric arrays can be saved (no pickle)."
        )
    return contiguous(arr)


# ---- save -----------------------------------------------------------------------------------


def save(path: _PathLike | Any, tree: Any) -> None:
    """Save a pytree of arrays to a ``.npz`` file, with its structure as JSON (no pickle).

    The file is written to a temporary name and then renamed, so an interrupted save never
    leaves a truncated checkpoint behind.

    **Arguments:**

    - `path`: the file name (used as given: no suffix is added), or a binary file object.
    - `tree`: a pytree (dicts with str/int/float/bool/None keys, lists, tuples, namedtuples,
      None, registered nodes) whose leaves are boolean or numeric arrays or scalars.

    **Returns:**

    None.

    **Raises:**

    `TypeError` for a leaf that is not a boolean or numeric array, a traced value or a dict
    key of another type; `ValueError` for a tree nested more than 100 levels deep (the most
    `load` accepts).

    !!! Example
        ```python
        import os, tempfile
        import numpy as np
        from funcdiff import io, optim

        params = {"w": np.ones((2, 3)), "b": np.zeros(3)}
        state = optim.adam(1e-3).init(params)
        path = os.path.join(tempfile.mkdtemp(), "checkpoint.npz")
        io.save(path, {"params": params, "opt_state": state})
        restored = io.load(path, like={"params": params, "opt_state": state})
        assert np.array_equal(restored["params"]["w"], params["w"])
        ```
    """
    flat, treedef = tree_flatten_with_path(tree)
    arrays: dict[str, np.ndarray] = {}
    leaves_meta = []
    for i, (key_path, leaf) in enumerate(flat):
        where = keystr(key_path)
        arr = _to_array(leaf, where)
        arrays[f"leaf_{i}"] = arr
        leaves_meta.append(
            {
                "path": where,
                "shape": list(arr.shape),
                "dtype": arr.dtype.str,
                "kind": _leaf_kind(leaf),
                "sha256": digest(arr),
            }
        )
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "structure": _describe(treedef),
        "leaves": leaves_meta,
    }
    try:
        check_structure(meta["structure"])
    except Malformed as e:
        raise ValueError(f"funcdiff.io.save: {e}; `load` could not read the file.") from None
    arrays[META] = np.frombuffer(json.dumps(meta).encode("utf-8"), np.uint8)
    if hasattr(path, "write"):
        np.savez(path, **arrays)
        return
    path = os.fspath(path)
    directory, name = os.path.split(os.path.abspath(path))
    # A fresh name beside the target (so the rename stays on one file system), created with
    # the usual permissions (unlike tempfile's private 0600 files).
    tmp = os.path.join(directory, f".{name}.{secrets.token_hex(8)}.tmp")
    try:
        with open(tmp, "xb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _expected_leaf(leaf: Any) -> tuple[tuple[int, ...], np.dtype | None]:
    if hasattr(leaf, "shape") and hasattr(leaf, "dtype"):
        return tuple(leaf.shape), np.dtype(leaf.dtype)
    if type(leaf) in (bool, int, float, complex):
        return (), None  # Python scalars are weakly typed: any dtype of the same kind
    arr = np.asarray(leaf)
    return arr.shape, arr.dtype


def _match_like(
    like: Any, meta: dict[str, Any], leaves: list[Any], name: str
) -> Any:
    flat, treedef = tree_flatten_with_path(like)
    diff = _first_difference(meta["structure"], _describe(treedef))
    if diff is not None:
        raise CheckpointError(f"{name} does not match the expected tree: {diff}.")
    for (key_path, expected), got in zip(flat, leaves, strict=True):
        shape, dtype = _expected_leaf(expected)
        got_arr = np.asarray(got)
        where = keystr(key_path) or "the root"
        if got_arr.shape != shape:
            raise CheckpointError(
                f"{name} does not match the expected tree: the leaf at {where} has shape "
                f"{got_arr.shape} in the file but {shape} in the expected tree."
            )
        if dtype is not None and got_arr.dtype != dtype:
            raise CheckpointError(
                f"{name} does not match the expected tree: the leaf at {where} has dtype "
                f"{got_arr.dtype} in the file but {dtype} in the expected tree (load without "
                "`like` and cast if the conversion is intended)."
            )
    return tree_unflatten(treedef, leaves)


def load(
    path: _PathLike | Any, like: Any = None, *, max_bytes: int | None = DEFAULT_MAX_BYTES
) -> Any:
    """Load a pytree saved by `save`, checking the file before using any of it.

    A checkpoint from someone else is safe to open: loading runs no code from the file (no
    pickle, no import, no `eval`), its memory is bounded (each array's size is checked
    against the file's description before its data is read, decompression stops at the
    declared size, and the total is limited by `max_bytes`), and every malformed, truncated,
    modified or oversized file raises `CheckpointError`, never another exception.

    **Arguments:**

    - `path`: the file name, or a seekable binary file object.
    - `like`: optionally, a tree with the expected structure, shapes and dtypes (arrays, or
      objects with `shape` and `dtype`). The result then has exactly `like`'s node types
      (e.g. your own namedtuple or registered classes); a difference raises
      `CheckpointError`. Without it, funcdiff's own state classes (optimiser states) come
      back as themselves, other namedtuples as equivalent namedtuples with the same fields,
      and trees holding custom pytree nodes cannot be loaded.
    - `max_bytes`: the most bytes of data (arrays and description, after decompression) the
      file may declare; by default 1 GiB (`2**30`). `None` removes the limit, for files
      you trust.

    **Returns:**

    The tree, with NumPy arrays as leaves (Python and NumPy scalars come back as such).

    **Raises:**

    `CheckpointError` for a file that is not a funcdiff checkpoint, is truncated, corrupted
    or modified, declares more than `max_bytes`, or does not match `like`; the message names
    the file, the archive member and the reason. `FileNotFoundError` (and the other
    `OSError`s of `open`) when `path` cannot be opened.

    !!! Example
        ```python
        import os, tempfile
        import numpy as np
        from funcdiff import io

        path = os.path.join(tempfile.mkdtemp(), "weights.npz")
        io.save(path, {"w": np.arange(3.0)})
        try:
            io.load(path, like={"w": np.zeros(4)})
        except io.CheckpointError as e:
            assert "shape" in str(e)
        try:
            io.load(path, max_bytes=16)  # the file declares 24 bytes of data and more
        except io.CheckpointError as e:
            assert "max_bytes" in str(e)
        ```
    """
    if max_bytes is not None and (not isinstance(max_bytes, int | np.integer)
                                  or isinstance(max_bytes, bool) or max_bytes < 0):
        raise ValueError(
            f"funcdiff.io.load: max_bytes must be a non-negative int or None, got "
            f"{max_bytes!r}."
        )
    max_bytes = None if max_bytes is None else int(max_bytes)
    if isinstance(path, str | os.PathLike):
        name = repr(os.fspath(path))
        with open(path, "rb") as f:
            meta, leaves = _read_file(f, name, max_bytes)
    else:
        name = "the checkpoint"
        meta, leaves = _read_file(path, name, max_bytes)
    if like is not None:
        return _match_like(like, meta, leaves, name)
    return _build(meta["structure"], iter(leaves))


def _read_file(f: Any, name: str, max_bytes: int | None) -> tuple[dict[str, Any], list[Any]]:
    magic = b""
    try:
        start = f.tell()
        magic = f.read(6)
        f.seek(start)
        archive = zipfile.ZipFile(f)
    except READ_ERRORS as e:
        if magic == b"\x93NUMPY":
            raise CheckpointError(
                f"{name} is a plain .npy array, not a funcdiff checkpoint."
            ) from None
        raise CheckpointError(
            f"{name} cannot be read as a funcdiff checkpoint (truncated or corrupted?): "
            f"{type(e).__name__}: {e}"
        ) from None
    with archive:
        return read_archive(archive, name, max_bytes)
