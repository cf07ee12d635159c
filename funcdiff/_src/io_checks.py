"""The checkpoint format of `funcdiff.io` and the checks that reading an untrusted file
makes before trusting any of it (`io.py` holds `save` and `load`): the error class, the names
and version of the format, the digest of a leaf, the schema of the JSON description, and the
bounded reading of each member's .npy header and data.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import re
import struct
import zipfile
import zlib
from typing import Any

import numpy as np

_FORMAT = "funcdiff.io"
_VERSION = 1
_META = "__funcdiff_tree__"

FORMAT = "funcdiff.io"
VERSION = 1
META = "__funcdiff_tree__"


class CheckpointError(ValueError):
    """A checkpoint file cannot be read, or does not match the tree it should hold.

    Raised by `funcdiff.io.load` for a file that is not a funcdiff checkpoint, is truncated
    or has been modified (a leaf's bytes, shape or dtype disagree with the recorded
    description), and when `like=` is given and the file's structure, shapes or dtypes
    differ from it. The message names the file and the key path of the first difference.
    """


def contiguous(arr: np.ndarray) -> np.ndarray:
    # (not np.ascontiguousarray, which turns 0-d arrays into 1-d ones)
    return arr if arr.flags.c_contiguous else arr.copy(order="C")


def digest(arr: np.ndarray) -> str:
    return hashlib.sha256(contiguous(arr).reshape(-1).view(np.uint8)).hexdigest()


def restore_leaf(arr: np.ndarray, kind: str) -> Any:
    if kind == "python":
        return arr.item()
    if kind == "numpy_scalar":
        return arr[()]
    return arr


# ---- load: checking an untrusted file before trusting any of it ----------------------------
#
# Nothing in the file is used before it has been checked: the JSON description against a
# schema (types, field names, key kinds, nesting depth, dtypes, shapes), then for each member
# its .npy header against the description and the archive's recorded size, and only then its
# data, decompressed a chunk at a time and never past the declared size. The total declared
# size is compared with `max_bytes` before any array data is read.

DEFAULT_MAX_BYTES = 2**30
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
READ_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    OSError,
    ValueError,
    KeyError,
    NotImplementedError,
    RuntimeError,
    OverflowError,
    zlib.error,
    struct.error,
    SyntaxError,
)


class Malformed(Exception):
    """A reason the file cannot be loaded; `load` turns it into a `CheckpointError` naming the
    file (and the member, when there is one)."""


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_int(value: Any) -> bool:
    return type(value) is int


def _check_key(entry: Any, at: str) -> Any:
    if not (
        isinstance(entry, list)
        and len(entry) == 2
        and isinstance(entry[0], str)
        and entry[0] in _KEY_TYPES
    ):
        raise Malformed(
            f"the dict key {_short(entry)} at {at} is not a [type, value] pair with a type in "
            f"{sorted(_KEY_TYPES)}"
        )
    kind, value = entry
    if type(value) is not _KEY_TYPES[kind]:
        raise Malformed(f"the dict key {_short(entry)} at {at} is not a {kind}")
    return value


def check_structure(root: Any) -> int:
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
            raise Malformed(
                f'the structure description at {at} is {_short(desc)}: neither a leaf ("*") '
                f"nor a node with a type in {sorted(_NODE_FIELDS)}"
            )
        if set(desc) != _NODE_FIELDS[kind]:
            raise Malformed(
                f"the {kind} node at {at} has the fields {_short(sorted(desc))}; a {kind} "
                f"node has exactly {sorted(_NODE_FIELDS[kind])}"
            )
        if depth >= _MAX_DEPTH:
            raise Malformed(f"the structure is nested more than {_MAX_DEPTH} deep at {at}")
        children = desc.get("children", [])
        if not isinstance(children, list):
            raise Malformed(f"the children of the {kind} node at {at} are not a list")
        labels = [f"[{i}]" for i in range(len(children))]
        if kind in _DICT_KINDS:
            keys = desc["keys"]
            if not isinstance(keys, list) or len(keys) != len(children):
                raise Malformed(f"the {kind} node at {at} does not have one key per child")
            decoded = [_check_key(k, at) for k in keys]
            if len(set(decoded)) != len(decoded):
                raise Malformed(f"the {kind} node at {at} has a repeated key")
            labels = [f"[{_short(k, 40)}]" for k in decoded]
        elif kind == "namedtuple":
            fields = desc["fields"]
            if not (
                isinstance(desc["name"], str)
                and isinstance(fields, list)
                and all(isinstance(f, str) for f in fields)
                and len(fields) == len(children)
            ):
                raise Malformed(
                    f"invalid namedtuple at {at}: it needs a str name and one str field per child"
                )
            labels = [f".{_short(f, 40)}" for f in fields]
        elif kind == "custom" and not isinstance(desc["name"], str):
            raise Malformed(f"the custom node at {at} has no str name")
        stack.extend((c, where + label, depth + 1) for label, c in zip(labels, children))
    return leaves


def _check_leaf(info: Any, i: int) -> tuple[tuple[int, ...], np.dtype]:
    """Check one leaf's description; return its declared shape and dtype."""
    if not isinstance(info, dict) or set(info) != _LEAF_FIELDS:
        raise Malformed(
            f"the description of leaf {i} is {_short(info)}; it must be an object with exactly "
            f"the fields {sorted(_LEAF_FIELDS)}"
        )
    shape, dtype, kind = info["shape"], info["dtype"], info["kind"]
    if not isinstance(info["path"], str):
        raise Malformed(f"the path of leaf {i} is not a string")
    if not (
        isinstance(shape, list)
        and len(shape) <= _MAX_NDIM
        and all(_is_int(d) and d >= 0 for d in shape)
    ):
        raise Malformed(
            f"the shape of leaf {i} is {_short(shape)}, not a list of at most {_MAX_NDIM} "
            "non-negative ints"
        )
    if not (isinstance(dtype, str) and _DTYPE_RE.fullmatch(dtype) and _valid_dtype(dtype)):
        raise Malformed(
            f"the dtype of leaf {i} is {_short(dtype)}, not a boolean or numeric NumPy dtype"
        )
    if kind not in _LEAF_KINDS or (kind != "array" and shape):
        raise Malformed(
            f"the kind of leaf {i} is {_short(kind)}: expected one of {list(_LEAF_KINDS)} "
            "(scalars with shape [])"
        )
    if not (isinstance(info["sha256"], str) and _SHA256_RE.fullmatch(info["sha256"])):
        raise Malformed(f"the SHA-256 of leaf {i} is not 64 hexadecimal digits")
    return tuple(shape), np.dtype(dtype)


def _valid_dtype(text: str) -> bool:
    try:
        return np.dtype(text).str == text
    except TypeError:
        return False


def _check_meta(meta: Any) -> list[tuple[tuple[int, ...], np.dtype]]:
    """Check the whole description; return each leaf's declared shape and dtype."""
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise Malformed("it is not a funcdiff checkpoint (wrong format tag)")
    if meta.get("version") != VERSION:
        raise Malformed(
            f"it has checkpoint format version {_short(meta.get('version'))}; this funcdiff "
            f"reads version {VERSION}"
        )
    fields = {"format", "version", "structure", "leaves"}
    if set(meta) != fields or not isinstance(meta["leaves"], list):
        raise Malformed(
            f"the description has the fields {_short(sorted(meta))}; expected {sorted(fields)} "
            "with a list of leaves"
        )
    declared = [_check_leaf(info, i) for i, info in enumerate(meta["leaves"])]
    if check_structure(meta["structure"]) != len(declared):
        raise Malformed("the structure and the leaf list disagree on the number of leaves")
    return declared


def _nbytes(shape: tuple[int, ...], dtype: np.dtype) -> int:
    return math.prod(shape) * dtype.itemsize


def _read_exact(stream: Any, n: int, what: str) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise Malformed(f"it ends inside its {what} (truncated)")
    return data


def _npy_header(stream: Any) -> tuple[tuple[int, ...], str, int]:
    """Parse a .npy header without reading any data: (shape, dtype string, header length)."""
    magic = _read_exact(stream, 8, ".npy header")
    if magic[:6] != b"\x93NUMPY" or magic[6] not in (1, 2, 3):
        raise Malformed("it is not a .npy array (bad magic bytes)")
    size_len = 2 if magic[6] == 1 else 4
    length = int.from_bytes(_read_exact(stream, size_len, ".npy header"), "little")
    if length > _MAX_NPY_HEADER:
        raise Malformed(f"its .npy header is {length} bytes long (at most {_MAX_NPY_HEADER})")
    text = _read_exact(stream, length, ".npy header").decode("utf-8" if magic[6] == 3 else "latin1")
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
        raise Malformed(f"its .npy header {_short(text.strip())} is malformed")
    return header["shape"], header["descr"], 8 + size_len + length


def _read_data(stream: Any, nbytes: int) -> bytearray:
    """Exactly `nbytes` of data, decompressed a chunk at a time, never more."""
    buffer = bytearray()
    while len(buffer) < nbytes:
        chunk = stream.read(min(_CHUNK, nbytes - len(buffer)))
        if not chunk:
            raise Malformed(f"its data ends after {len(buffer)} of {nbytes} bytes (truncated)")
        buffer += chunk
    if stream.read(1):  # also makes zipfile check the member's CRC-32
        raise Malformed("it holds more data than its header declares")
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
                raise Malformed(f"it holds {descr}{list(shape)}, not a 1-d uint8 array")
            dtype = np.dtype(np.uint8)
            if budget is not None and shape[0] > budget:
                raise Malformed(f"it declares {shape[0]} bytes, more than max_bytes={budget}")
        else:
            if shape != expected[0] or descr != expected[1].str:
                raise Malformed(
                    f"its header declares {descr}{list(shape)} but the description records "
                    f"{expected[1].str}{list(expected[0])}; the file has been modified"
                )
            dtype = expected[1]
        nbytes = _nbytes(shape, dtype)
        if info.file_size != header_len + nbytes:
            raise Malformed(
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
        raise Malformed("the structure description is nested too deeply to parse") from None
    except ValueError as e:  # also UnicodeDecodeError and JSONDecodeError
        raise Malformed(f"the structure description is not valid JSON ({e})") from None


def _checked_entries(archive: zipfile.ZipFile, n_leaves: int) -> dict[str, zipfile.ZipInfo]:
    names = archive.namelist()
    if len(set(names)) != len(names):
        raise Malformed("the archive holds two entries with the same name")
    expected = {f"leaf_{i}" for i in range(n_leaves)} | {META}
    found = {n.removesuffix(".npy"): n for n in names}
    extra = sorted(n for s, n in found.items() if s not in expected or not n.endswith(".npy"))
    missing = sorted(expected - set(found))
    if extra or missing:
        raise Malformed(
            f"the archive's entries do not match its description (missing {missing}, "
            f"unexpected {[n.removesuffix('.npy') for n in extra]}); the file has been modified"
        )
    return {s: archive.getinfo(n) for s, n in found.items()}


def read_archive(
    archive: zipfile.ZipFile, name: str, max_bytes: int | None
) -> tuple[dict[str, Any], list[Any]]:
    member = f"member {META!r}"

    def failure(reason: str) -> CheckpointError:
        return CheckpointError(f"{name}, {member}: {reason}.")

    if f"{META}.npy" not in archive.namelist():
        raise CheckpointError(
            f"{name} has no {META!r} entry: it was not written by funcdiff.io.save."
        )
    try:
        raw = _read_member(archive, archive.getinfo(f"{META}.npy"), None, max_bytes)
        meta = _parse_meta(raw)
        declared = _check_meta(meta)
        total = raw.size + sum(_nbytes(s, d) for s, d in declared)
        if max_bytes is not None and total > max_bytes:
            raise Malformed(
                f"the checkpoint declares {total} bytes of data, more than max_bytes="
                f"{max_bytes}; if you trust this file, pass a larger max_bytes (or None)"
            )
        entries = _checked_entries(archive, len(declared))
        leaves = []
        for i, ((shape, dtype), info) in enumerate(zip(declared, meta["leaves"], strict=True)):
            where = info["path"][:120] or "the root"
            member = f"member 'leaf_{i}' (the leaf at {where})"
            arr = _read_member(archive, entries[f"leaf_{i}"], (shape, dtype), None)
            if digest(arr) != info["sha256"]:
                raise Malformed(
                    f"the data of the leaf at {where} does not match its recorded SHA-256; "
                    "the file is corrupted or has been modified"
                )
            leaves.append(restore_leaf(arr, info["kind"]))
        return meta, leaves
    except Malformed as e:
        raise failure(str(e)) from None
    except READ_ERRORS as e:
        raise failure(
            f"cannot be read (truncated or corrupted?): {type(e).__name__}: {e}"
        ) from None
