"""funcdiff.io: pytrees of arrays saved as .npz with a JSON structure, never pickled."""

import collections
import io as stdio
import json
import os
import tracemalloc
import zipfile
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff
from funcdiff import io, optim
from funcdiff.tree_util import register_pytree_node_class, tree_leaves, tree_structure

PARAMS = {
    "dense": {"w": np.arange(6.0).reshape(2, 3), "b": np.zeros(3, np.float32)},
    "embed": [np.ones((4, 2)), np.array([1, 2, 3], np.int32)],
    "flags": (np.array([True, False]), None),
    "z": np.array([1 + 2j, -1j]),
    "big": np.array([2**63 + 5], np.uint64),
}


def assert_trees_equal(a, b):
    assert tree_structure(a) == tree_structure(b)
    for x, y in zip(tree_leaves(a), tree_leaves(b), strict=True):
        assert type(x) is type(y) or (isinstance(x, np.ndarray) and isinstance(y, np.ndarray))
        assert np.asarray(x).dtype == np.asarray(y).dtype
        np.testing.assert_array_equal(x, y)


def test_round_trip_with_and_without_like(tmp_path):
    path = tmp_path / "params.npz"
    io.save(path, PARAMS)
    assert_trees_equal(io.load(path), PARAMS)
    assert_trees_equal(io.load(path, like=PARAMS), PARAMS)
    assert_trees_equal(io.load(str(path)), PARAMS)


def test_scalars_empty_containers_and_key_types(tmp_path):
    # (a dict's keys are sorted when flattened, so mixed key types go in an OrderedDict)
    tree = {"lr": 0.1, "step": 7, "on": True, "np": np.float32(2.5), "l": [], "t": (),
            "d": {}, "none": None, "numbers": {3: [], 1.5: 2.0, True: 1.0},
            "mixed": collections.OrderedDict([("a", 1.0), (2, ()), (None, 3.0), (False, 4.0)])}
    path = tmp_path / "misc.npz"
    io.save(path, tree)
    back = io.load(path)
    assert back == tree
    assert type(back["lr"]) is float and type(back["step"]) is int and type(back["on"]) is bool
    assert type(back["np"]) is np.float32


class Pair(NamedTuple):
    left: object
    right: object


def test_namedtuples_come_back_as_namedtuples(tmp_path):
    path = tmp_path / "pair.npz"
    io.save(path, Pair(np.ones(2), {"x": np.zeros(1)}))
    plain = io.load(path)
    assert plain._fields == ("left", "right") and type(plain).__name__ == "Pair"
    typed = io.load(path, like=Pair(np.ones(2), {"x": np.zeros(1)}))
    assert type(typed) is Pair


OPTIMIZERS = {
    "adam": lambda: optim.adam(1e-2),
    "adamw_masked": lambda: optim.adamw(1e-2, mask=lambda p: {k: k == "dense" for k in p}),
    "multi": lambda: optim.multi_transform(
        {"a": optim.lamb(1e-2), "b": optim.sgd(1e-2, momentum=0.9)},
        {"dense": "a", "embed": "b"},
    ),
    "rmsprop": lambda: optim.rmsprop(optim.cosine_decay_schedule(0.1, 10), momentum=0.5),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_states_round_trip_and_training_resumes_identically(tmp_path, name):
    params = {"dense": {"w": np.ones((2, 3)), "b": np.zeros(3)}, "embed": np.full((2, 2), 0.5)}
    grads = {"dense": {"w": np.full((2, 3), 0.3), "b": np.ones(3)}, "embed": np.ones((2, 2))}
    opt = OPTIMIZERS[name]()
    state = opt.init(params)
    updates, state = opt.update(grads, state, params)
    params = optim.apply_updates(params, updates)
    path = tmp_path / "ckpt.npz"
    io.save(path, {"params": params, "state": state})
    restored = io.load(path, like={"params": params, "state": state})
    assert_trees_equal(restored, {"params": params, "state": state})
    plain = io.load(path)  # namedtuples rebuilt from their field names still work
    for resumed in (restored, plain):
        a, _ = opt.update(grads, state, params)
        b, _ = opt.update(grads, resumed["state"], resumed["params"])
        for x, y in zip(tree_leaves(a), tree_leaves(b), strict=True):
            np.testing.assert_array_equal(x, y)


def test_file_objects_and_paths_without_suffix(tmp_path):
    buffer = stdio.BytesIO()
    io.save(buffer, PARAMS)
    buffer.seek(0)
    assert_trees_equal(io.load(buffer), PARAMS)
    path = tmp_path / "checkpoint"
    io.save(path, PARAMS)
    assert os.listdir(tmp_path) == ["checkpoint"]  # no suffix added, no temporary file left


def test_the_file_holds_no_pickle(tmp_path):
    path = tmp_path / "p.npz"
    io.save(path, PARAMS)
    with np.load(path, allow_pickle=False) as archive:
        for name in archive.files:
            assert archive[name].dtype != object
        meta = json.loads(archive["__funcdiff_tree__"].tobytes())
    assert meta["format"] == "funcdiff.io" and len(meta["leaves"]) == len(tree_leaves(PARAMS))
    with zipfile.ZipFile(path) as z:
        assert all(b"pickle" not in z.read(n) for n in z.namelist())


# ---- damaged and foreign files ----------------------------------------------------------------


def rewrite(src, dst, edit):
    """Copy a zip archive, passing each member's bytes through `edit(name, data)`."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = edit(item.filename, zin.read(item.filename))
            if data is not None:
                zout.writestr(item.filename, data)


def npy_bytes(array):
    buffer = stdio.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def edit_meta(edit):
    def fn(name, data):
        if name != "__funcdiff_tree__.npy":
            return data
        meta = json.loads(np.load(stdio.BytesIO(data)).tobytes())
        edit(meta)
        return npy_bytes(np.frombuffer(json.dumps(meta).encode(), np.uint8))

    return fn


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "good.npz"
    io.save(path, PARAMS)
    return path


def test_truncated_file(saved, tmp_path):
    data = saved.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 5):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        with pytest.raises(io.CheckpointError, match="truncated or corrupted"):
            io.load(bad)


def test_flipped_byte_in_array_data(saved, tmp_path):
    data = bytearray(saved.read_bytes())
    marker = np.arange(6.0).reshape(2, 3).tobytes()
    at = bytes(data).index(marker) + 20
    data[at] ^= 0x01
    bad = tmp_path / "flipped.npz"
    bad.write_bytes(bytes(data))
    with pytest.raises(io.CheckpointError):
        io.load(bad)


def test_consistently_replaced_array_is_detected(saved, tmp_path):
    bad = tmp_path / "replaced.npz"
    meta = json.loads(np.load(saved)["__funcdiff_tree__"].tobytes())
    index = [m["path"] for m in meta["leaves"]].index("['dense']['w']")

    def swap(name, data):
        if name == f"leaf_{index}.npy":
            return npy_bytes(np.full((2, 3), 9.0))
        return data

    rewrite(saved, bad, swap)
    with pytest.raises(io.CheckpointError, match=r"\['dense'\]\['w'\].*SHA-256"):
        io.load(bad)
    reshaped = tmp_path / "reshaped.npz"
    rewrite(saved, reshaped, lambda n, d: npy_bytes(np.zeros(2)) if n == f"leaf_{index}.npy" else d)
    with pytest.raises(io.CheckpointError, match="records"):
        io.load(reshaped)


def test_extra_or_missing_entries(saved, tmp_path):
    extra = tmp_path / "extra.npz"
    rewrite(saved, extra, lambda n, d: d)
    with zipfile.ZipFile(extra, "a") as z:
        z.writestr("payload.npy", npy_bytes(np.zeros(1)))
    with pytest.raises(io.CheckpointError, match="unexpected \\['payload'\\]"):
        io.load(extra)
    missing = tmp_path / "missing.npz"
    rewrite(saved, missing, lambda n, d: None if n == "leaf_0.npy" else d)
    with pytest.raises(io.CheckpointError, match="missing \\['leaf_0'\\]"):
        io.load(missing)


def test_foreign_files(tmp_path):
    plain = tmp_path / "plain.npz"
    np.savez(plain, a=np.zeros(2))
    with pytest.raises(io.CheckpointError, match="not written by funcdiff.io.save"):
        io.load(plain)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, __funcdiff_tree__=np.zeros(1, np.uint8), leaf_0=np.array([{}], object))
    with pytest.raises(io.CheckpointError):
        io.load(pickled)
    npy = tmp_path / "array.npy"
    np.save(npy, np.zeros(3))
    with pytest.raises(io.CheckpointError, match="plain .npy"):
        io.load(npy)
    text = tmp_path / "text.npz"
    text.write_bytes(b"not a checkpoint at all")
    with pytest.raises(io.CheckpointError):
        io.load(text)
    with pytest.raises(FileNotFoundError):
        io.load(tmp_path / "nowhere.npz")


def test_tampered_structure_cannot_run_or_import_anything(saved, tmp_path):
    def to_custom(meta):
        meta["structure"]["children"][1] = {"type": "custom", "name": "os.system",
                                            "children": meta["structure"]["children"][1]
                                            ["children"]}

    bad = tmp_path / "custom.npz"
    rewrite(saved, bad, edit_meta(to_custom))
    with pytest.raises(io.CheckpointError, match="custom pytree node 'os.system'"):
        io.load(bad)

    def bad_fields(meta):
        meta["structure"]["children"][1] = {
            "type": "namedtuple", "name": "x.T", "fields": ["__import__('os')", "b"],
            "children": meta["structure"]["children"][1]["children"],
        }

    rewrite(saved, tmp_path / "fields.npz", edit_meta(bad_fields))
    with pytest.raises(io.CheckpointError, match="invalid namedtuple"):
        io.load(tmp_path / "fields.npz")

    def wrong_version(meta):
        meta["version"] = 99

    rewrite(saved, tmp_path / "version.npz", edit_meta(wrong_version))
    with pytest.raises(io.CheckpointError, match="version 99"):
        io.load(tmp_path / "version.npz")


# ---- mismatches with the expected tree ----------------------------------------------------------


def test_mismatches_with_like_name_what_differs(saved):
    def variant(**changes):
        tree = {k: v for k, v in PARAMS.items()}
        tree["dense"] = dict(PARAMS["dense"])
        for k, v in changes.items():
            tree["dense"][k] = v
        return tree

    with pytest.raises(io.CheckpointError, match=r"\['dense'\]\['w'\] has shape \(2, 3\) in "
                                                 r"the file but \(3, 2\)"):
        io.load(saved, like=variant(w=np.zeros((3, 2))))
    with pytest.raises(io.CheckpointError, match=r"\['dense'\]\['b'\] has dtype float32"):
        io.load(saved, like=variant(b=np.zeros(3)))
    with pytest.raises(io.CheckpointError, match=r"at \['dense'\].*keys \['b', 'w'\].*"
                                                 r"keys \['b', 'bias', 'w'\]"):
        io.load(saved, like=variant(bias=np.zeros(3)))
    with pytest.raises(io.CheckpointError, match=r"at \['embed'\]\[1\] the file has a leaf"):
        io.load(saved, like={**PARAMS, "embed": [np.ones((4, 2)), [np.zeros(3)]]})
    shapes_only = {**PARAMS, "z": type("Spec", (), {"shape": (2,), "dtype": np.complex128})()}
    io.load(saved, like=shapes_only)


@register_pytree_node_class
class Linear:
    def __init__(self, w, b):
        self.w, self.b = w, b

    def tree_flatten(self):
        return (self.w, self.b), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        return cls(*children)


def test_custom_nodes_need_like(tmp_path):
    layer = Linear(np.ones((2, 2)), np.zeros(2))
    path = tmp_path / "layer.npz"
    io.save(path, {"layer": layer})
    with pytest.raises(io.CheckpointError, match="like=tree"):
        io.load(path)
    back = io.load(path, like={"layer": Linear(np.zeros((2, 2)), np.zeros(2))})
    assert isinstance(back["layer"], Linear)
    np.testing.assert_array_equal(back["layer"].w, layer.w)


def test_save_rejects_what_it_cannot_store(tmp_path):
    with pytest.raises(TypeError, match="only boolean and numeric"):
        io.save(tmp_path / "x.npz", {"a": "text"})
    with pytest.raises(TypeError, match="dict key"):
        io.save(tmp_path / "x.npz", {(1, 2): np.zeros(1)})

    def inside_grad(x):
        io.save(tmp_path / "t.npz", {"x": x})
        return x

    with pytest.raises(TypeError, match="traced value"):
        funcdiff.grad(inside_grad)(1.0)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_ordered_dicts_keep_their_order(tmp_path):
    tree = collections.OrderedDict([("z", np.zeros(1)), ("a", np.ones(1))])
    io.save(tmp_path / "o.npz", tree)
    back = io.load(tmp_path / "o.npz")
    assert isinstance(back, collections.OrderedDict) and list(back) == ["z", "a"]


# ---- hostile files: bounded memory, one exception type ------------------------------------------


def npy_with_header(header, data=b""):
    """A .npy member with a hand-written header (version 1.0), followed by `data`."""
    text = repr(header).encode("latin1") if not isinstance(header, bytes) else header
    text += b" " * (-(10 + len(text) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + data


def archive(members, compression=zipfile.ZIP_STORED):
    """The bytes of a zip archive holding `members` ({name: bytes})."""
    out = stdio.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def members_of(data):
    with zipfile.ZipFile(stdio.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def saved_bytes(tree):
    buffer = stdio.BytesIO()
    io.save(buffer, tree)
    return buffer.getvalue()


def meta_member(meta):
    text = meta if isinstance(meta, str) else json.dumps(meta)
    return npy_bytes(np.frombuffer(text.encode(), np.uint8))


SMALL = {"w": np.zeros(2)}


def load_measured(data, **kwargs):
    """`io.load` of the bytes `data`, and the peak memory it traced."""
    tracemalloc.start()
    try:
        return io.load(stdio.BytesIO(data), **kwargs), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_decompression_bomb_is_refused_before_its_data_is_read():
    # 80 MB of zeros deflate to ~80 KB; the description says the leaf is float64[2].
    members = members_of(saved_bytes(SMALL))
    members["leaf_0.npy"] = npy_bytes(np.zeros(10_000_000))
    data = archive(members, zipfile.ZIP_DEFLATED)
    tracemalloc.start()
    with pytest.raises(io.CheckpointError, match=r"'leaf_0' \(the leaf at \['w'\]\): its header "
                                                 r"declares <f8\[10000000\].*records <f8\[2\]"):
        io.load(stdio.BytesIO(data))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 4 * len(data)


def test_a_consistent_bomb_is_limited_by_max_bytes():
    n = 10_000_000
    big = np.zeros(n)
    members = members_of(saved_bytes({"w": big}))
    data = archive(members, zipfile.ZIP_DEFLATED)
    with pytest.raises(io.CheckpointError, match=r"declares \d+ bytes of data, more than "
                                                 r"max_bytes=1000000"):
        load_measured(data, max_bytes=1_000_000)
    # Within the limit it loads, and decompression never goes past the declared size.
    back, peak = load_measured(data, max_bytes=None)
    np.testing.assert_array_equal(back["w"], big)
    assert peak < 1.5 * big.nbytes
    with pytest.raises(ValueError, match="max_bytes must be a non-negative int or None"):
        io.load(stdio.BytesIO(data), max_bytes=-1)


def test_huge_declared_shapes_allocate_nothing():
    petabytes = {"descr": "<f8", "fortran_order": False, "shape": (2**50,)}
    with pytest.raises(io.CheckpointError, match="plain .npy"):
        load_measured(npy_with_header(petabytes))
    # The description agrees with the header: the archive's recorded size gives it away, and
    # max_bytes before that.
    members = members_of(saved_bytes(SMALL))
    meta = json.loads(np.load(stdio.BytesIO(members["__funcdiff_tree__.npy"])).tobytes())
    for shape in ([2**50], [2**29]):
        meta["leaves"][0]["shape"] = shape
        members["__funcdiff_tree__.npy"] = meta_member(meta)
        header = {"descr": "<f8", "fortran_order": False, "shape": tuple(shape)}
        members["leaf_0.npy"] = npy_with_header(header, b"\0" * 16)
        for limit, reason in ((None, "the archive records"), (2**30, "max_bytes")):
            with pytest.raises(io.CheckpointError, match=reason):
                _, peak = load_measured(archive(members), max_bytes=limit)
    members["__funcdiff_tree__.npy"] = npy_with_header(
        {"descr": "|u1", "fortran_order": False, "shape": (2**40,)})
    with pytest.raises(io.CheckpointError, match=r"'__funcdiff_tree__': it declares \d+ bytes, "
                                                 "more than max_bytes"):
        io.load(stdio.BytesIO(archive(members)))


MALFORMED_META = [
    # (edit of the description, or its replacement text; a fragment of the message)
    (lambda m: m.update(structure=[1]), r"at the root is \[1\]: neither a leaf"),
    (lambda m: m.update(structure=7), "at the root is 7"),
    (lambda m: m["structure"].pop("keys") and None, r"has the fields \['children', 'type'\]"),
    (lambda m: m["structure"].update(keys=["w"]), "not a \\[type, value\\] pair"),
    (lambda m: m["structure"].update(keys=[["int", "w"]]), "is not a int"),
    (lambda m: m["structure"].update(keys=[["str", "w"], ["str", "v"]]), "one key per child"),
    (lambda m: m.update(leaves=[1]), "the description of leaf 0 is 1"),
    (lambda m: m["leaves"][0].update(shape=[-2]), "not a list of at most 64 non-negative"),
    (lambda m: m["leaves"][0].update(shape=[True, 1]), "non-negative ints"),
    (lambda m: m["leaves"][0].update(dtype="|O"), "not a boolean or numeric NumPy dtype"),
    (lambda m: m["leaves"][0].update(dtype="<U3"), "not a boolean or numeric"),
    (lambda m: m["leaves"][0].update(kind="python"), "the kind of leaf 0"),
    (lambda m: m["leaves"][0].update(sha256=None), "SHA-256 of leaf 0"),
    (lambda m: m["leaves"][0].pop("path") and None, "exactly the fields"),
    (lambda m: m.update(extra=1), "the description has the fields"),
    (lambda m: m.update(leaves={}), "with a list of leaves"),
    (lambda m: m.update(leaves=m["leaves"] * 2), "disagree on the number of leaves"),
    (lambda m: m.update(structure={"type": "tuple", "children": ["*", "*"]}),
     "disagree on the number of leaves"),
    (lambda m: m.update(structure={"type": "list", "children": "*"}), "are not a list"),
    (lambda m: m.update(structure={"type": "namedtuple", "name": 3, "fields": ["a"],
                                   "children": ["*"]}), "invalid namedtuple"),
    (lambda m: m.update(structure={"type": "custom", "name": None, "children": ["*"]}),
     "no str name"),
    (lambda m: m.update(structure={"type": "dict", "keys": [["int", 1], ["float", 1.0]],
                                   "children": ["*", "*"]}), "repeated key"),
    (lambda m: m["structure"].update(children=[json.loads(
        '{"type": "list", "children": [' * 120 + '"*"' + "]}" * 120)]),
     r"nested more than 100 deep at \['w'\](\[0\]){99}\.$"),
    (lambda m: '{"a": ' * 100_000 + "1" + "}" * 100_000, "nested too deeply to parse"),
    (lambda m: "[" * 100_000, "nested too deeply|not valid JSON"),
    (lambda m: '{"format": 1', "not valid JSON"),
    (lambda m: json.dumps(m).replace("version\": 1", "version\": " + "9" * 5000),
     "not valid JSON"),
    (lambda m: "\udcff", "not valid JSON"),
]


@pytest.mark.parametrize("edit, message", MALFORMED_META)
def test_malformed_descriptions_raise_checkpoint_error(edit, message):
    members = members_of(saved_bytes(SMALL))
    meta = json.loads(np.load(stdio.BytesIO(members["__funcdiff_tree__.npy"])).tobytes())
    replaced = edit(meta)
    text = replaced if replaced is not None else json.dumps(meta)
    members["__funcdiff_tree__.npy"] = npy_bytes(
        np.frombuffer(text.encode("utf-8", "surrogatepass"), np.uint8))
    with pytest.raises(io.CheckpointError, match=r"'__funcdiff_tree__': .*" + message):
        io.load(stdio.BytesIO(archive(members)))


def test_deep_structures_are_described_and_refused_at_save(tmp_path):
    tree = np.zeros(1)
    for _ in range(99):
        tree = [tree]
    io.save(tmp_path / "deep.npz", tree)
    back = io.load(tmp_path / "deep.npz")
    for _ in range(99):
        (back,) = back
    np.testing.assert_array_equal(back, np.zeros(1))
    with pytest.raises(ValueError, match="nested more than 100 deep"):
        io.save(tmp_path / "deeper.npz", [[tree]])


def test_numpy_scalar_dict_keys_round_trip(tmp_path):
    tree = {np.float64(0.5): np.ones(1), np.int64(3): np.zeros(1)}
    io.save(tmp_path / "k.npz", tree)
    assert_trees_equal(io.load(tmp_path / "k.npz"), {0.5: np.ones(1), 3: np.zeros(1)})


# The fuzz test: whatever is done to a saved file, `load` returns the saved tree exactly or
# raises CheckpointError, and its memory stays within a small multiple of the file's size plus
# the tree's.

FUZZ_TREE = {"w": np.arange(6.0).reshape(2, 3), "s": (np.int32(7), 2.5, True),
             "b": np.array([True, False]), "c": collections.OrderedDict(z=np.ones(2, np.float32))}
FUZZ_FILES = {
    "stored": saved_bytes(FUZZ_TREE),
    "deflated": archive(members_of(saved_bytes(FUZZ_TREE)), zipfile.ZIP_DEFLATED),
}
FUZZ_MEMBERS = sorted(members_of(FUZZ_FILES["stored"]))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 2**64) | st.text(max_size=4)
    | st.sampled_from(["*", "dict", "list", "tuple", "None", "namedtuple", "<f8", "|b1"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["type", "children", "keys", "shape", "dtype", "kind", "x"]), inner,
        max_size=3),
    max_leaves=6,
)
npy_headers = st.one_of(
    st.fixed_dictionaries({
        "descr": st.sampled_from(["<f8", ">f8", "<i4", "|b1", "|u1", "|O", "<U2", "V8", 3]),
        "fortran_order": st.sampled_from([False, True, 0]),
        "shape": st.lists(st.sampled_from([0, 1, 2, 3, 6, 2**31, 2**62, -1]), max_size=3)
        .map(tuple),
    }),
    st.binary(max_size=40),
)


def _flip(data, draw):
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        data[draw(st.integers(0, len(data) - 1))] ^= draw(st.integers(1, 255))
    return bytes(data)


def _in_dict_or_list(container, draw, value):
    """Replace or insert `value` somewhere inside the JSON `container`."""
    while True:
        keys = list(container) if isinstance(container, dict) else list(range(len(container)))
        if not keys or draw(st.booleans()):
            if isinstance(container, dict):
                container[draw(st.sampled_from(keys + ["type", "extra"]))] = value
            elif keys:
                container[draw(st.sampled_from(keys))] = value
            else:
                container.append(value)
            return
        child = container[draw(st.sampled_from(keys))]
        if not isinstance(child, dict | list):
            container[draw(st.sampled_from(keys))] = value
            return
        container = child


@st.composite
def damaged_files(draw):
    """(bytes, exact): a damaged checkpoint, and whether a successful load must give back
    FUZZ_TREE exactly (a rewritten description may legitimately describe another tree)."""
    data = FUZZ_FILES[draw(st.sampled_from(sorted(FUZZ_FILES)))]
    how = draw(st.sampled_from(["flip", "truncate", "header", "description"]))
    if how == "flip":
        return _flip(data, draw), True
    if how == "truncate":
        return data[: draw(st.integers(0, len(data) - 1))], True
    members = members_of(data)
    if how == "header":
        name = draw(st.sampled_from(FUZZ_MEMBERS))
        body = members[name][128:] if draw(st.booleans()) else b""
        members[name] = npy_with_header(draw(npy_headers), body)
        return archive(members), True
    meta = json.loads(np.load(stdio.BytesIO(members["__funcdiff_tree__.npy"])).tobytes())
    _in_dict_or_list(meta, draw, draw(json_values))
    members["__funcdiff_tree__.npy"] = meta_member(meta)
    return archive(members), False


@settings(max_examples=150, deadline=None)
@given(damaged_files())
def test_fuzz_damaged_files_load_exactly_or_raise_checkpoint_error(damaged):
    data, exact = damaged
    tree_bytes = sum(np.asarray(x).nbytes for x in tree_leaves(FUZZ_TREE))
    tracemalloc.start()
    try:
        back = io.load(stdio.BytesIO(data))
    except io.CheckpointError:
        back = None
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    # (plus a fixed allowance for zlib's window and the parsers' working memory)
    assert peak < 8 * len(data) + 8 * tree_bytes + 256 * 1024
    if back is not None and exact:
        assert_trees_equal(back, FUZZ_TREE)
    elif back is not None:
        assert len(tree_leaves(back)) == len(tree_leaves(FUZZ_TREE))
