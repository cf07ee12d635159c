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

import ast
import collections
import hashlib
import json
import math
import os
import re
import secrets
import struct
import sys
import zipfile
import zlib
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
    kind = desc["type"]  # (the description has been checked by _check_structure)
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
                "sha256": _digest(arr),
            }
        )
    meta = {
        "format": _FORMAT,
        "version": _VERSION,
        "structure": _describe(treedef),
        "leaves": leaves_meta,
    }
    try:
        _check_structure(meta["structure"])
    except _Malformed as e:
        raise ValueError(f"funcdiff.io.save: {e}; `load` could not read the file.") from None
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


# ---- load: checking an untrusted file before trusting any of it ----------------------------
#
# Nothing in the file is used before it has been checked: the JSON description against a
# schema (types, field names, key kinds, nesting depth, dtypes, shapes), then for each member
# its .npy header against the description and the archive's recorded size, and only then its
# data, decompressed a chunk at a time and never past the declared size. The total declared
# size is compared with `max_bytes` before any array data is read.

_DEFAULT_MAX_BYTES = 2**30
_MAX_DEPTH = 100  # nesting of the structure description (keeps the rebuild well inside
#                   Python's recursion limit)
_MAX_NDIM = 64  # NumPy's own limit
_MAX_NPY_HEADER = 10_000  # bytes, NumPy's own default limit for a .npy header
_CHUNK = 1 << 20  # bytes decompressed at a time
_DTYPE_RE = re.compile(r"[<>|][biufc][0-9]{1,2}")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_LEAF_FIELDS = frozenset({"path", "shape", "dtype", "kind", "sha256"})
_LEAF_KINDS = ("array", "numpy_scalar", "python")
_DICT_KINDS = ("dict", "OrderedDict", "defaultdict")
_NODE_FIELDS = {
    "None": {"type"},
    "tuple": {"type", "children"},
    "list": {"type", "children"},
    **{kind: {"type", "keys", "children"} for kind in _DICT_KINDS},
    "namedtuple": {"type", "name", "fields", "children"},
    "custom": {"type", "name", "children"},
}
_KEY_TYPES = {"str": str, "int": int, "float": float, "bool": bool, "NoneType": type(None)}
# What the standard library and NumPy raise for a damaged archive or .npy header.
_READ_ERRORS = (
    zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, KeyError,
    NotImplementedError, RuntimeError, OverflowError, zlib.error, struct.error, SyntaxError,
)


class _Malformed(Exception):
    """A reason the file cannot be loaded; `load` turns it into a `CheckpointError` naming the
    file (and the member, when there is one)."""


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_int(value: Any) -> bool:
    return type(value) is int


def _check_key(entry: Any, at: str) -> Any:
    if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)
            and entry[0] in _KEY_TYPES):
        raise _Malformed(
            f"the dict key {_short(entry)} at {at} is not a [type, value] pair with a type in "
            f"{sorted(_KEY_TYPES)}"
        )
    kind, value = entry
    if type(value) is not _KEY_TYPES[kind]:
        raise _Malformed(f"the dict key {_short(entry)} at {at} is not a {kind}")
    return value


def _check_structure(root: Any) -> int:
    """Check a structure description against the schema (without recursion, so any nesting
    is reported, not crashed on); return its number of leaves."""
    leaves = 0
    stack = [(root, "", 0)]
    while stack:
        desc, where, depth = stack.pop()
        if isinstance(desc, str) and desc == "*":
            leaves += 1
            continue
        at = where or "the root"
        kind = desc.get("type") if isinstance(desc, dict) else None
        if not isinstance(kind, str) or kind not in _NODE_FIELDS:
            raise _Malformed(
                f"the structure description at {at} is {_short(desc)}: neither a leaf (\"*\") "
                f"nor a node with a type in {sorted(_NODE_FIELDS)}"
            )
        if set(desc) != _NODE_FIELDS[kind]:
            raise _Malformed(
                f"the {kind} node at {at} has the fields {_short(sorted(desc))}; a {kind} "
                f"node has exactly {sorted(_NODE_FIELDS[kind])}"
            )
        if depth >= _MAX_DEPTH:
            raise _Malformed(f"the structure is nested more than {_MAX_DEPTH} deep at {at}")
        children = desc.get("children", [])
        if not isinstance(children, list):
            raise _Malformed(f"the children of the {kind} node at {at} are not a list")
        labels = [f"[{i}]" for i in range(len(children))]
        if kind in _DICT_KINDS:
            keys = desc["keys"]
            if not isinstance(keys, list) or len(keys) != len(children):
                raise _Malformed(
                    f"the {kind} node at {at} does not have one key per child"
                )
            decoded = [_check_key(k, at) for k in keys]
            if len(set(decoded)) != len(decoded):
                raise _Malformed(f"the {kind} node at {at} has a repeated key")
            labels = [f"[{_short(k, 40)}]" for k in decoded]
        elif kind == "namedtuple":
            fields = desc["fields"]
            if not (
                isinstance(desc["name"], str)
                and isinstance(fields, list)
                and all(isinstance(f, str) for f in fields)
                and len(fields) == len(children)
            ):
                raise _Malformed(
                    f"invalid namedtuple at {at}: it needs a str name and one str field per child"
                )
            labels = [f".{_short(f, 40)}" for f in fields]
        elif kind == "custom" and not isinstance(desc["name"], str):
            raise _Malformed(f"the custom node at {at} has no str name")
        stack.extend((c, where + label, depth + 1) for label, c in zip(labels, children))
    return leaves


def _check_leaf(info: Any, i: int) -> tuple[tuple[int, ...], np.dtype]:
    """Check one leaf's description; return its declared shape and dtype."""
    if not isinstance(info, dict) or set(info) != _LEAF_FIELDS:
        raise _Malformed(
            f"the description of leaf {i} is {_short(info)}; it must be an object with exactly "
            f"the fields {sorted(_LEAF_FIELDS)}"
        )
    shape, dtype, kind = info["shape"], info["dtype"], info["kind"]
    if not isinstance(info["path"], str):
        raise _Malformed(f"the path of leaf {i} is not a string")
    if not (
        isinstance(shape, list)
        and len(shape) <= _MAX_NDIM
        and all(_is_int(d) and d >= 0 for d in shape)
    ):
        raise _Malformed(
            f"the shape of leaf {i} is {_short(shape)}, not a list of at most {_MAX_NDIM} "
            "non-negative ints"
        )
    if not (isinstance(dtype, str) and _DTYPE_RE.fullmatch(dtype) and _valid_dtype(dtype)):
        raise _Malformed(
            f"the dtype of leaf {i} is {_short(dtype)}, not a boolean or numeric NumPy dtype"
        )
    if kind not in _LEAF_KINDS or (kind != "array" and shape):
        raise _Malformed(
            f"the kind of leaf {i} is {_short(kind)}: expected one of {list(_LEAF_KINDS)} "
            "(scalars with shape [])"
        )
    if not (isinstance(info["sha256"], str) and _SHA256_RE.fullmatch(info["sha256"])):
        raise _Malformed(f"the SHA-256 of leaf {i} is not 64 hexadecimal digits")
    return tuple(shape), np.dtype(dtype)


def _valid_dtype(text: str) -> bool:
    try:
        return np.dtype(text).str == text
    except TypeError:
        return False


def _check_meta(meta: Any) -> list[tuple[tuple[int, ...], np.dtype]]:
    """Check the whole description; return each leaf's declared shape and dtype."""
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        raise _Malformed("it is not a funcdiff checkpoint (wrong format tag)")
    if meta.get("version") != _VERSION:
        raise _Malformed(
            f"it has checkpoint format version {_short(meta.get('version'))}; this funcdiff "
            f"reads version {_VERSION}"
        )
    fields = {"format", "version", "structure", "leaves"}
    if set(meta) != fields or not isinstance(meta["leaves"], list):
        raise _Malformed(
            f"the description has the fields {_short(sorted(meta))}; expected {sorted(fields)} "
            "with a list of leaves"
        )
    declared = [_check_leaf(info, i) for i, info in enumerate(meta["leaves"])]
    if _check_structure(meta["structure"]) != len(declared):
        raise _Malformed("the structure and the leaf list disagree on the number of leaves")
    return declared


def _nbytes(shape: tuple[int, ...], dtype: np.dtype) -> int:
    return math.prod(shape) * dtype.itemsize


def _read_exact(stream: Any, n: int, what: str) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise _Malformed(f"it ends inside its {what} (truncated)")
    return data


def _npy_header(stream: Any) -> tuple[tuple[int, ...], str, int]:
    """Parse a .npy header without reading any data: (shape, dtype string, header length)."""
    magic = _read_exact(stream, 8, ".npy header")
    if magic[:6] != b"\x93NUMPY" or magic[6] not in (1, 2, 3):
        raise _Malformed("it is not a .npy array (bad magic bytes)")
    size_len = 2 if magic[6] == 1 else 4
    length = int.from_bytes(_read_exact(stream, size_len, ".npy header"), "little")
    if length > _MAX_NPY_HEADER:
        raise _Malformed(f"its .npy header is {length} bytes long (at most {_MAX_NPY_HEADER})")
    text = _read_exact(stream, length, ".npy header").decode(
        "utf-8" if magic[6] == 3 else "latin1"
    )
    try:
        header = ast.literal_eval(text)  # literals only: evaluates no code
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        header = None
    if not (
        isinstance(header, dict)
        and set(header) == {"descr", "fortran_order", "shape"}
        and isinstance(header["descr"], str)
        and header["fortran_order"] is False
        and isinstance(header["shape"], tuple)
        and all(_is_int(d) and d >= 0 for d in header["shape"])
    ):
        raise _Malformed(f"its .npy header {_short(text.strip())} is malformed")
    return header["shape"], header["descr"], 8 + size_len + length


def _read_data(stream: Any, nbytes: int) -> bytearray:
    """Exactly `nbytes` of data, decompressed a chunk at a time, never more."""
    buffer = bytearray()
    while len(buffer) < nbytes:
        chunk = stream.read(min(_CHUNK, nbytes - len(buffer)))
        if not chunk:
            raise _Malformed(f"its data ends after {len(buffer)} of {nbytes} bytes (truncated)")
        buffer += chunk
    if stream.read(1):  # also makes zipfile check the member's CRC-32
        raise _Malformed("it holds more data than its header declares")
    return buffer


def _read_member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    expected: tuple[tuple[int, ...], np.dtype] | None,
    budget: int | None,
) -> np.ndarray:
    """One member's array, its header checked against `expected` (shape, dtype) and the
    archive's recorded size before any data is read. `expected=None` is the description:
    a 1-d uint8 array of at most `budget` bytes."""
    with archive.open(info) as stream:
        shape, descr, header_len = _npy_header(stream)
        if expected is None:
            if descr != "|u1" or len(shape) != 1:
                raise _Malformed(f"it holds {descr}{list(shape)}, not a 1-d uint8 array")
            dtype = np.dtype(np.uint8)
            if budget is not None and shape[0] > budget:
                raise _Malformed(
                    f"it declares {shape[0]} bytes, more than max_bytes={budget}"
                )
        else:
            if shape != expected[0] or descr != expected[1].str:
                raise _Malformed(
                    f"its header declares {descr}{list(shape)} but the description records "
                    f"{expected[1].str}{list(expected[0])}; the file has been modified"
                )
            dtype = expected[1]
        nbytes = _nbytes(shape, dtype)
        if info.file_size != header_len + nbytes:
            raise _Malformed(
                f"the archive records {info.file_size} bytes for it, but its header declares "
                f"{header_len + nbytes}; the file has been modified"
            )
        data = _read_data(stream, nbytes)
    if nbytes == 0:
        return np.zeros(shape, dtype)
    return np.frombuffer(data, dtype).reshape(shape)


def _parse_meta(raw: np.ndarray) -> Any:
    try:
        return json.loads(raw.tobytes().decode("utf-8"))
    except RecursionError:
        raise _Malformed("the structure description is nested too deeply to parse") from None
    except ValueError as e:  # also UnicodeDecodeError and JSONDecodeError
        raise _Malformed(f"the structure description is not valid JSON ({e})") from None


def _checked_entries(archive: zipfile.ZipFile, n_leaves: int) -> dict[str, zipfile.ZipInfo]:
    names = archive.namelist()
    if len(set(names)) != len(names):
        raise _Malformed("the archive holds two entries with the same name")
    expected = {f"leaf_{i}" for i in range(n_leaves)} | {_META}
    found = {n.removesuffix(".npy"): n for n in names}
    extra = sorted(n for s, n in found.items() if s not in expected or not n.endswith(".npy"))
    missing = sorted(expected - set(found))
    if extra or missing:
        raise _Malformed(
            f"the archive's entries do not match its description (missing {missing}, "
            f"unexpected {[n.removesuffix('.npy') for n in extra]}); the file has been modified"
        )
    return {s: archive.getinfo(n) for s, n in found.items()}


def _read_archive(
    archive: zipfile.ZipFile, name: str, max_bytes: int | None
) -> tuple[dict[str, Any], list[Any]]:
    member = f"member {_META!r}"

    def failure(reason: str) -> CheckpointError:
        return CheckpointError(f"{name}, {member}: {reason}.")

    if f"{_META}.npy" not in archive.namelist():
        raise CheckpointError(
            f"{name} has no {_META!r} entry: it was not written by funcdiff.io.save."
        )
    try:
        raw = _read_member(archive, archive.getinfo(f"{_META}.npy"), None, max_bytes)
        meta = _parse_meta(raw)
        declared = _check_meta(meta)
        total = raw.size + sum(_nbytes(s, d) for s, d in declared)
        if max_bytes is not None and total > max_bytes:
            raise _Malformed(
                f"the checkpoint declares {total} bytes of data, more than max_bytes="
                f"{max_bytes}; if you trust this file, pass a larger max_bytes (or None)"
            )
        entries = _checked_entries(archive, len(declared))
        leaves = []
        for i, ((shape, dtype), info) in enumerate(zip(declared, meta["leaves"], strict=True)):
            where = info["path"][:120] or "the root"
            member = f"member 'leaf_{i}' (the leaf at {where})"
            arr = _read_member(archive, entries[f"leaf_{i}"], (shape, dtype), None)
            if _digest(arr) != info["sha256"]:
                raise _Malformed(
                    f"the data of the leaf at {where} does not match its recorded SHA-256; "
                    "the file is corrupted or has been modified"
                )
            leaves.append(_restore_leaf(arr, info["kind"]))
        return meta, leaves
    except _Malformed as e:
        raise failure(str(e)) from None
    except _READ_ERRORS as e:
        raise failure(
            f"cannot be read (truncated or corrupted?): {type(e).__name__}: {e}"
        ) from None


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
    path: _PathLike | Any, like: Any = None, *, max_bytes: int | None = _DEFAULT_MAX_BYTES
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
    except _READ_ERRORS as e:
        if magic == b"\x93NUMPY":
            raise CheckpointError(
                f"{name} is a plain .npy array, not a funcdiff checkpoint."
            ) from None
        raise CheckpointError(
            f"{name} cannot be read as a funcdiff checkpoint (truncated or corrupted?): "
            f"{type(e).__name__}: {e}"
        ) from None
    with archive:
        return _read_archive(archive, name, max_bytes)
