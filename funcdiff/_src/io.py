"""Saving and loading pytrees of arrays (parameters, optimiser states) without pickle.

A checkpoint is a NumPy ``.npz`` archive: one entry per leaf (``leaf_0``, ``leaf_1``, ...)
and one entry, ``__funcdiff_tree__``, holding a JSON description of the tree's structure and
of every leaf (key path, shape, dtype, SHA-256 of its bytes). Loading never unpickles
(``allow_pickle=False``) and never imports anything named in the file, so opening a file from
someone else cannot run code. A truncated or modified file, or one whose structure, shapes or
dtypes differ from the tree expected (`like=`), raises `CheckpointError` naming the
difference.
"""

from __future__ import annotations

import collections
import hashlib
import io
import json
import os
import secrets
import sys
import zipfile
from collections.abc import Iterator
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.tree_util import (
    PyTreeDef,
    keystr,
    tree_flatten_with_path,
    tree_unflatten,
)

_FORMAT = "funcdiff.io"
_VERSION = 1
_META = "__funcdiff_tree__"
_PathLike = str | os.PathLike


class CheckpointError(ValueError):
    """A checkpoint file cannot be read, or does not match the tree it should hold.

    Raised by `funcdiff.io.load` for a file that is not a funcdiff checkpoint, is truncated
    or has been modified (a leaf's bytes, shape or dtype disagree with the recorded
    description), and when `like=` is given and the file's structure, shapes or dtypes
    differ from it. The message names the file and the key path of the first difference.
    """


# ---- describing a structure as JSON ---------------------------------------------------------


def _encode_key(key: Any, where: str) -> list[Any]:
    if isinstance(key, bool):
        return ["bool", key]
    if isinstance(key, str | int | float) or key is None:
        return [type(key).__name__, key]
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


def _count_leaves(desc: Any) -> int:
    if desc == "*":
        return 1
    return sum(_count_leaves(c) for c in desc.get("children", []))


def _build(desc: Any, leaves: Iterator[Any], where: str = "") -> Any:
    """Rebuild a tree from its description, consuming `leaves` in order."""
    if desc == "*":
        return next(leaves)
    if not isinstance(desc, dict) or "type" not in desc:
        raise CheckpointError(f"malformed structure description at {where or 'the root'}")
    kind = desc["type"]
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
    return _contiguous(arr)


def _contiguous(arr: np.ndarray) -> np.ndarray:
    # (not np.ascontiguousarray, which turns 0-d arrays into 1-d ones)
    return arr if arr.flags.c_contiguous else arr.copy(order="C")


def _digest(arr: np.ndarray) -> str:
    return hashlib.sha256(_contiguous(arr).reshape(-1).view(np.uint8)).hexdigest()


def _restore_leaf(arr: np.ndarray, kind: str) -> Any:
    if kind == "python":
        return arr.item()
    if kind == "numpy_scalar":
        return arr[()]
    return arr


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
                "sha256": _digest(arr),
            }
        )
    meta = {
        "format": _FORMAT,
        "version": _VERSION,
        "structure": _describe(treedef),
        "leaves": leaves_meta,
    }
    arrays[_META] = np.frombuffer(json.dumps(meta).encode("utf-8"), np.uint8)
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


# ---- load -----------------------------------------------------------------------------------


def _read_meta(archive: Any, name: str) -> dict[str, Any]:
    if _META not in archive.files:
        raise CheckpointError(
            f"{name} has no {_META!r} entry: it was not written by funcdiff.io.save."
        )
    raw = archive[_META]
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise CheckpointError(f"{name}: the {_META!r} entry is malformed.")
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(
            f"{name}: the structure description is not valid JSON ({e})."
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        raise CheckpointError(f"{name} is not a funcdiff checkpoint (wrong format tag).")
    if meta.get("version") != _VERSION:
        raise CheckpointError(
            f"{name} has checkpoint format version {meta.get('version')!r}; this funcdiff "
            f"reads version {_VERSION}."
        )
    if not isinstance(meta.get("leaves"), list) or "structure" not in meta:
        raise CheckpointError(f"{name}: the structure description is incomplete.")
    return meta


def _read_leaves(archive: Any, meta: dict[str, Any], name: str) -> list[np.ndarray]:
    leaves_meta = meta["leaves"]
    expected_entries = {f"leaf_{i}" for i in range(len(leaves_meta))} | {_META}
    extra = sorted(set(archive.files) - expected_entries)
    missing = sorted(expected_entries - set(archive.files))
    if extra or missing:
        raise CheckpointError(
            f"{name}: the archive's entries do not match its description "
            f"(missing {missing}, unexpected {extra}); the file has been modified."
        )
    if _count_leaves(meta["structure"]) != len(leaves_meta):
        raise CheckpointError(f"{name}: the structure and the leaf list disagree.")
    out = []
    for i, info in enumerate(leaves_meta):
        where = info.get("path", f"leaf {i}") or "the root"
        arr = archive[f"leaf_{i}"]
        if list(arr.shape) != info.get("shape") or arr.dtype.str != info.get("dtype"):
            raise CheckpointError(
                f"{name}: the leaf at {where} is {arr.dtype}{list(arr.shape)} but the "
                f"description records {info.get('dtype')}{info.get('shape')}; the file has been "
                "modified."
            )
        if _digest(arr) != info.get("sha256"):
            raise CheckpointError(
                f"{name}: the data of the leaf at {where} does not match its recorded SHA-256; "
                "the file is corrupted or has been modified."
            )
        out.append(_restore_leaf(arr, str(info.get("kind", "array"))))
    return out


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


def load(path: _PathLike | Any, like: Any = None) -> Any:
    """Load a pytree saved by `save`, checking the file's integrity.

    **Arguments:**

    - `path`: the file name, or a binary file object.
    - `like`: optionally, a tree with the expected structure, shapes and dtypes (arrays, or
      objects with `shape` and `dtype`). The result then has exactly `like`'s node types
      (e.g. your own namedtuple or registered classes); a difference raises
      `CheckpointError`. Without it, funcdiff's own state classes (optimiser states) come
      back as themselves, other namedtuples as equivalent namedtuples with the same fields,
      and trees holding custom pytree nodes cannot be loaded.

    **Returns:**

    The tree, with NumPy arrays as leaves (Python and NumPy scalars come back as such).

    **Raises:**

    `CheckpointError` for a file that is missing its description, truncated, corrupted or
    modified, or that does not match `like`.

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
        ```
    """
    if isinstance(path, str | os.PathLike):
        with open(path, "rb") as f:
            meta, leaves = _read_file(f, repr(os.fspath(path)))
        name = repr(os.fspath(path))
    else:
        name = "the checkpoint"
        meta, leaves = _read_file(path, name)
    if like is not None:
        return _match_like(like, meta, leaves, name)
    return _build(meta["structure"], iter(leaves))


def _read_file(f: Any, name: str) -> tuple[dict[str, Any], list[Any]]:
    try:
        archive = np.load(f, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise CheckpointError(f"{name} is a plain .npy array, not a funcdiff checkpoint.")
        with archive:
            meta = _read_meta(archive, name)
            return meta, _read_leaves(archive, meta, name)
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, KeyError,
            io.UnsupportedOperation) as e:
        raise CheckpointError(
            f"{name} cannot be read as a funcdiff checkpoint (truncated or corrupted?): "
            f"{type(e).__name__}: {e}"
        ) from None
