"""funcdiff.io: pytrees of arrays saved as .npz with a JSON structure, never pickled."""

import collections
import io as stdio
import json
import os
import zipfile
from typing import NamedTuple

import numpy as np
import pytest

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
    tree = {"lr": 0.1, "step": 7, "on": True, "np": np.float32(2.5), 3: [], "t": (), "d": {},
            "none": None}
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
