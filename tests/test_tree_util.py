"""Tests of the pytree utilities (`funcdiff.tree_util` and `funcdiff.tree`)."""

from __future__ import annotations

import copy
import dataclasses
import doctest
import functools
import math
import operator
import pickle
import sys
import time
from collections import OrderedDict, defaultdict, namedtuple
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff._src.tree_util as tree_util_impl
import funcdiff._src.tree_util_extras as tree_util_extras
from funcdiff import tree, tree_util
from funcdiff.tree_util import (
    DictKey,
    FlattenedIndexKey,
    GetAttrKey,
    Partial,
    PyTreeDef,
    SequenceKey,
    all_leaves,
    is_tree_node,
    keystr,
    register_dataclass,
    register_pytree_node,
    register_pytree_node_class,
    register_pytree_with_keys,
    register_pytree_with_keys_class,
    register_static,
    tree_all,
    tree_flatten,
    tree_flatten_with_path,
    tree_leaves,
    tree_leaves_with_path,
    tree_map,
    tree_map_with_path,
    tree_reduce,
    tree_structure,
    tree_transpose,
    tree_unflatten,
    treedef_children,
    treedef_is_leaf,
    treedef_is_strict_leaf,
    treedef_tuple,
)

# ---------------------------------------------------------------------------------------
# Test node types
# ---------------------------------------------------------------------------------------

Point = namedtuple("Point", ["x", "y"])


class Box:
    """Custom node registered with `register_pytree_node` (no keys); `tag` is aux data."""

    def __init__(self, a: Any, b: Any, tag: str) -> None:
        self.a, self.b, self.tag = a, b, tag

    def __repr__(self) -> str:
        return f"Box({self.a!r}, {self.b!r}, {self.tag!r})"


def _box_unflatten(tag: str, children: Any) -> Box:
    a, b = children
    return Box(a, b, tag)


register_pytree_node(Box, lambda box: ((box.a, box.b), box.tag), _box_unflatten)


@register_pytree_node_class
class Pair:
    """Custom node registered with `register_pytree_node_class`."""

    def __init__(self, first: Any, second: Any) -> None:
        self.first, self.second = first, second

    def tree_flatten(self) -> tuple[tuple[Any, Any], None]:
        return (self.first, self.second), None

    @classmethod
    def tree_unflatten(cls, aux: None, children: Any) -> Pair:
        return cls(*children)


@register_dataclass
@dataclasses.dataclass
class Params:
    """Dataclass node: `w` and `b` are data, `act` is static."""

    w: Any
    b: Any
    act: str = dataclasses.field(default="relu", metadata={"static": True})


@register_pytree_with_keys_class
class Keyed:
    """Custom node with keyed children."""

    def __init__(self, u: Any, v: Any) -> None:
        self.u, self.v = u, v

    def tree_flatten_with_keys(self) -> tuple[tuple[tuple[GetAttrKey, Any], ...], None]:
        return ((GetAttrKey("u"), self.u), (GetAttrKey("v"), self.v)), None

    @classmethod
    def tree_unflatten(cls, aux: None, children: Any) -> Keyed:
        return cls(*children)


class Tracer:
    """Unregistered class: its instances are leaves, whatever its name."""


def custom_children(node: Any) -> list[Any]:
    """Children of the custom test nodes, for following `FlattenedIndexKey`s."""
    if isinstance(node, Box):
        return [node.a, node.b]
    if isinstance(node, Pair):
        return [node.first, node.second]
    if isinstance(node, Partial):
        return [node.args, node.keywords]
    raise TypeError(type(node))


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def same(a: Any, b: Any) -> bool:
    """Deep equality that checks exact types, dict key order where it matters, and arrays."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        if isinstance(a, OrderedDict) and list(a) != list(b):
            return False
        if isinstance(a, defaultdict) and a.default_factory is not b.default_factory:
            return False
        return set(a) == set(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (Box, Pair, Keyed, Params)):
        return same(vars(a), vars(b))
    return bool(a == b)


def ref_structure(t: Any) -> Any:
    """A simple recursive reference for what a treedef must capture."""
    if isinstance(t, Box):
        return ("Box", t.tag, ref_structure(t.a), ref_structure(t.b))
    if isinstance(t, Pair):
        return ("Pair", ref_structure(t.first), ref_structure(t.second))
    if isinstance(t, Keyed):
        return ("Keyed", ref_structure(t.u), ref_structure(t.v))
    if isinstance(t, Params):
        return ("Params", t.act, ref_structure(t.w), ref_structure(t.b))
    if t is None:
        return ("None",)
    if type(t) is Point:
        return ("Point", ref_structure(t.x), ref_structure(t.y))
    if type(t) in (tuple, list):
        return (type(t).__name__, tuple(ref_structure(c) for c in t))
    if type(t) is OrderedDict:
        return ("OrderedDict", tuple((k, ref_structure(v)) for k, v in t.items()))
    if type(t) is defaultdict:
        return (
            "defaultdict",
            t.default_factory,
            tuple((k, ref_structure(t[k])) for k in sorted(t)),
        )
    if type(t) is dict:
        return ("dict", tuple((k, ref_structure(t[k])) for k in sorted(t)))
    return "*"


def ref_children(t: Any) -> list[Any]:
    """Immediate children of a test tree node, in flattening order."""
    if isinstance(t, (Box, Pair)):
        return custom_children(t)
    if isinstance(t, Keyed):
        return [t.u, t.v]
    if isinstance(t, Params):
        return [t.w, t.b]
    if t is None:
        return []
    if isinstance(t, dict) and not isinstance(t, OrderedDict):
        return [t[k] for k in sorted(t)]
    if isinstance(t, dict):
        return list(t.values())
    return list(t)


def get_by_path(t: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        if isinstance(key, SequenceKey):
            t = t[key.idx]
        elif isinstance(key, DictKey):
            t = t[key.key]
        elif isinstance(key, GetAttrKey):
            t = getattr(t, key.name)
        elif isinstance(key, FlattenedIndexKey):
            t = custom_children(t)[key.key]
        else:  # pragma: no cover
            raise TypeError(key)
    return t


# ---------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------

small_arrays = st.lists(st.floats(-10, 10, allow_nan=False), max_size=3).map(np.array)
leaf_values = st.one_of(
    st.integers(-5, 5), st.floats(allow_nan=False, allow_infinity=False), small_arrays
)
keys = st.text(alphabet="abcd", min_size=1, max_size=2)
tags = st.sampled_from(["p", "q"])


def extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=3).map(tuple),
        st.lists(children, max_size=3),
        st.dictionaries(keys, children, max_size=3),
        st.builds(Point, children, children),
        st.builds(Box, children, children, tags),
        st.builds(Pair, children, children),
        st.builds(Keyed, children, children),
        st.builds(Params, children, children, st.sampled_from(["relu", "tanh"])),
        st.dictionaries(keys, children, max_size=3).map(OrderedDict),
        st.dictionaries(keys, children, max_size=3).map(lambda d: defaultdict(list, d)),
    )


trees = st.recursive(st.one_of(leaf_values, st.none()), extend, max_leaves=10)
fast = settings(max_examples=40, deadline=None, database=None)


# ---------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------


@fast
@given(trees)
def test_flatten_unflatten_roundtrip(t: Any) -> None:
    leaves, treedef = tree_flatten(t)
    rebuilt = tree_unflatten(treedef, leaves)
    assert same(rebuilt, t)
    leaves2, treedef2 = tree_flatten(rebuilt)
    assert treedef2 == treedef
    assert len(leaves2) == len(leaves) == treedef.num_leaves
    assert all(x is y for x, y in zip(leaves, leaves2))
    assert tree_leaves(t) == leaves or all(x is y for x, y in zip(tree_leaves(t), leaves))
    assert tree_structure(t) == treedef
    assert treedef.num_nodes >= treedef.num_leaves


@fast
@given(trees, trees)
def test_treedef_equality_and_hash(t1: Any, t2: Any) -> None:
    td1, td2 = tree_structure(t1), tree_structure(t2)
    assert td1 == tree_structure(t1)
    assert hash(td1) == hash(tree_structure(t1))
    assert (td1 == td2) == (ref_structure(t1) == ref_structure(t2))
    assert (td1 != td2) == (ref_structure(t1) != ref_structure(t2))
    if td1 == td2:
        assert hash(td1) == hash(td2)
        assert str(td1) == str(td2)
    assert {td1: 1}[tree_structure(t1)] == 1


@fast
@given(trees)
def test_tree_map_identity_and_paths(t: Any) -> None:
    assert same(tree_map(lambda x: x, t), t)
    leaves, treedef = tree_flatten(t)
    pairs, treedef_p = tree_flatten_with_path(t)
    assert treedef_p == treedef
    assert len(pairs) == len(leaves)
    for (path, leaf), expected in zip(pairs, leaves):
        assert leaf is expected
        assert get_by_path(t, path) is leaf
    assert [p for p, _ in tree_leaves_with_path(t)] == [p for p, _ in pairs]
    mapped = tree_map_with_path(lambda p, x: keystr(p), t)
    assert tree_leaves(mapped) == [keystr(p) for p, _ in pairs]


@fast
@given(trees)
def test_the_three_walks_agree(t: Any) -> None:
    # `_flatten`, `flatten_up_to`'s record loop and `_flatten_with_path` (which, guided by a
    # treedef, finds where a tree does not match it) are separate loops for speed.
    leaves, nodes = tree_util_impl._flatten(t, None)
    pairs, keyed_nodes = tree_util_impl._flatten_with_path(t, None)
    guided, guided_nodes = tree_util_impl._flatten_with_path(t, None, guide=tuple(nodes))
    assert keyed_nodes == guided_nodes == nodes
    assert [p for p, _ in guided] == [p for p, _ in pairs]
    assert all(a is b and c is b for (_, a), b, (_, c) in zip(pairs, leaves, guided))
    assert len(pairs) == len(leaves) == len(guided)


@fast
@given(trees)
def test_flatten_up_to_and_children(t: Any) -> None:
    leaves, treedef = tree_flatten(t)
    assert all(x is y for x, y in zip(treedef.flatten_up_to(t), leaves))
    expanded = tree_map(lambda x: [x, (x,)], t)
    subtrees = treedef.flatten_up_to(expanded)
    assert len(subtrees) == treedef.num_leaves
    assert all(s[0] is x and s[1][0] is x for s, x in zip(subtrees, leaves))
    children = treedef.children()
    if treedef_is_strict_leaf(treedef):
        assert children == []
    else:
        assert sum(c.num_leaves for c in children) == treedef.num_leaves
        assert sum(c.num_nodes for c in children) == treedef.num_nodes - 1
        assert children == [tree_structure(c) for c in ref_children(t)]


@fast
@given(trees)
def test_transpose_roundtrip(t: Any) -> None:
    outer = tree_structure(t)
    inner = tree_structure({"a": 0, "b": (0, None)})
    nested = tree_map(lambda x: {"a": x, "b": (x, None)}, t)
    transposed = tree_transpose(outer, inner, nested)
    assert same(transposed["a"], t) and same(transposed["b"][0], t)
    assert transposed["b"][1] is None
    assert same(tree_transpose(inner, outer, transposed), nested)
    composed = outer.compose(inner)
    assert composed == tree_structure(nested)
    assert composed.num_leaves == outer.num_leaves * inner.num_leaves


# ---------------------------------------------------------------------------------------
# Containers and leaves
# ---------------------------------------------------------------------------------------


def test_builtin_containers() -> None:
    t = {"b": [1, (2, None)], "a": Point(3, 4)}
    leaves, treedef = tree_flatten(t)
    assert leaves == [3, 4, 1, 2]
    assert str(treedef) == "PyTreeDef({'a': Point(x=*, y=*), 'b': [*, (*, None)]})"
    rebuilt = tree_unflatten(treedef, leaves)
    assert rebuilt == t and list(rebuilt) == ["a", "b"]
    assert type(rebuilt["a"]) is Point


def test_none_is_an_empty_node_not_a_leaf() -> None:
    assert tree_leaves([None, 1, None]) == [1]
    treedef = tree_structure(None)
    assert treedef.num_leaves == 0 and treedef.num_nodes == 1
    assert repr(treedef) == "PyTreeDef(None)"
    assert tree_unflatten(treedef, []) is None
    assert tree_leaves([None, 1], is_leaf=lambda x: x is None) == [None, 1]
    assert tree_map(lambda x: x + 1, {"a": None, "b": 1}) == {"a": None, "b": 2}


def test_leaves_are_anything_unregistered() -> None:
    tracer, arr, obj = Tracer(), np.ones(3), object()
    leaves = tree_leaves([tracer, arr, obj, 1, 2.0, "s", b"b", 1j, np.float32(1)])
    assert leaves[0] is tracer and leaves[1] is arr and leaves[2] is obj
    assert len(leaves) == 9

    class MyDict(dict):  # subclasses of registered types are leaves
        pass

    class MyList(list):
        pass

    md, ml = MyDict(a=1), MyList([1])
    assert tree_leaves([md, ml]) == [md, ml]
    assert not is_tree_node(MyDict) and is_tree_node(Point) and is_tree_node(Box)


def test_namedtuple_subclass_and_fields() -> None:
    class Sub(Point):
        pass

    t = Sub(1, [2])
    leaves, treedef = tree_flatten(t)
    assert leaves == [1, 2]
    assert type(tree_unflatten(treedef, leaves)) is Sub
    assert treedef != tree_structure(Point(1, [2]))
    assert [keystr(p) for p, _ in tree_leaves_with_path(t)] == [".x", ".y[0]"]


def test_dict_ordering() -> None:
    d1 = {"b": 1, "a": 2}
    d2 = {"a": 2, "b": 1}
    assert tree_leaves(d1) == [2, 1]
    assert tree_structure(d1) == tree_structure(d2)
    assert hash(tree_structure(d1)) == hash(tree_structure(d2))
    assert tree_structure({"a": 1}) != tree_structure({"b": 1})
    assert tree_structure({"a": 1}) != tree_structure(OrderedDict(a=1))
    # Keys that cannot be sorted raise, as in JAX (the order would be arbitrary); an
    # OrderedDict keeps its insertion order.
    m1 = {1: 1.0, "a": 2.0}
    for f in [tree_leaves, tree_structure, lambda t: tree_map(lambda x: x, t)]:
        with pytest.raises(ValueError, match=r"sorting pytree dictionary keys.*\['int', 'str'\]"):
            f(m1)
    assert tree_leaves(OrderedDict([(1, 1.0), ("a", 2.0)])) == [1.0, 2.0]
    assert tree_leaves({(1, "a"): 1.0, (2, 3): 2.0}) == [1.0, 2.0]  # comparable: as JAX


def test_ordered_dict_and_defaultdict() -> None:
    od = OrderedDict([("b", 1), ("a", 2)])
    leaves, treedef = tree_flatten(od)
    assert leaves == [1, 2]
    rebuilt = tree_unflatten(treedef, [10, 20])
    assert type(rebuilt) is OrderedDict and list(rebuilt.items()) == [("b", 10), ("a", 20)]
    assert treedef != tree_structure(OrderedDict([("a", 2), ("b", 1)]))
    assert str(treedef) == "PyTreeDef(OrderedDict({'b': *, 'a': *}))"

    dd: defaultdict[str, Any] = defaultdict(list, {"y": 1, "x": 2})
    leaves, treedef = tree_flatten(dd)
    assert leaves == [2, 1]
    rebuilt = tree_unflatten(treedef, leaves)
    assert type(rebuilt) is defaultdict and rebuilt.default_factory is list
    assert rebuilt == {"x": 2, "y": 1}
    assert treedef != tree_structure(defaultdict(int, {"y": 1, "x": 2}))
    assert treedef != tree_structure({"x": 1, "y": 2})
    assert str(treedef) == "PyTreeDef(defaultdict(<class 'list'>, {'x': *, 'y': *}))"
    assert [keystr(p) for p, _ in tree_leaves_with_path(dd)] == ["['x']", "['y']"]


def test_is_leaf() -> None:
    t = {"a": (1, 2), "b": [3, (4, 5)]}

    def is_tuple(x: Any) -> bool:
        return isinstance(x, tuple)

    leaves, treedef = tree_flatten(t, is_leaf=is_tuple)
    assert leaves == [(1, 2), 3, (4, 5)]
    assert tree_unflatten(treedef, leaves) == t
    sizes = tree_map(lambda x: len(x) if isinstance(x, tuple) else x, t, is_leaf=is_tuple)
    assert sizes == {"a": 2, "b": [3, 2]}
    pairs = tree_leaves_with_path(
        t, is_leaf=lambda p, x: p == (DictKey("b"),), is_leaf_takes_path=True
    )
    assert pairs[-1] == ((DictKey("b"),), [3, (4, 5)])
    assert tree_structure(t, is_leaf=lambda x: x is t) == tree_structure(0)


def test_deep_nesting_does_not_recurse() -> None:
    depth = 5000
    assert sys.getrecursionlimit() < 2 * depth  # the test is meaningful
    deep: list[Any] = []
    cur = deep
    for _ in range(depth):
        nxt: list[Any] = []
        cur.append(nxt)
        cur = nxt
    cur.append(1.0)
    leaves, treedef = tree_flatten(deep)
    assert leaves == [1.0]
    assert treedef.num_nodes == depth + 2
    rebuilt = tree_unflatten(treedef, [2.0])
    assert tree_leaves(rebuilt) == [2.0]
    assert tree_structure(rebuilt) == treedef
    assert hash(tree_structure(rebuilt)) == hash(treedef)
    assert treedef.flatten_up_to(deep) == [1.0]
    assert tree_leaves(tree_map(lambda x: x + 1, deep)) == [2.0]
    assert str(treedef).endswith("[*]" + "]" * depth + ")")
    assert len(treedef.children()) == 1
    assert len(tree_leaves_with_path(deep)[0][0]) == depth + 1
    wrong = tree_map(lambda x: x, deep)
    cur = wrong
    for _ in range(depth - 1):
        cur = cur[0]
    cur[0] = (1.0,)
    with pytest.raises(ValueError, match="Custom node type mismatch"):
        treedef.flatten_up_to(wrong)


def test_reference_cycle_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tree_util_impl, "_MAX_NODES", 1000)
    cyclic: list[Any] = [1]
    cyclic.append(cyclic)
    with pytest.raises(ValueError, match="reference cycle"):
        tree_flatten(cyclic)
    with pytest.raises(ValueError, match="reference cycle"):
        tree_flatten_with_path(cyclic)


# ---------------------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------------------


def test_custom_nodes() -> None:
    t = [Box(1, (2, 3), "p"), Pair(4, None), Keyed(5, [6])]
    leaves, treedef = tree_flatten(t)
    assert leaves == [1, 2, 3, 4, 5, 6]
    assert str(treedef) == (
        "PyTreeDef([CustomNode(Box['p'], [*, (*, *)]), CustomNode(Pair[None], [*, None]), "
        "CustomNode(Keyed[None], [*, [*]])])"
    )
    assert same(tree_unflatten(treedef, leaves), t)
    assert treedef != tree_structure([Box(1, (2, 3), "q"), Pair(4, None), Keyed(5, [6])])
    paths = [keystr(p) for p, _ in tree_leaves_with_path(t)]
    assert paths == ["[0][0]", "[0][1][0]", "[0][1][1]", "[1][0]", "[2].u", "[2].v[0]"]


def test_register_pytree_node_with_keys_func_and_register_with_keys() -> None:
    class A:
        def __init__(self, x: Any) -> None:
            self.x = x

    register_pytree_node(
        A,
        lambda a: ((a.x,), None),
        lambda _, ch: A(*ch),
        lambda a: (((GetAttrKey("x"), a.x),), None),
    )
    assert tree_leaves_with_path(A(1)) == [((GetAttrKey("x"),), 1)]

    class B:
        def __init__(self, x: Any, y: Any) -> None:
            self.x, self.y = x, y

    register_pytree_with_keys(
        B, lambda b: (((DictKey("x"), b.x), (DictKey("y"), b.y)), "aux"), lambda _, ch: B(*ch)
    )
    leaves, treedef = tree_flatten(B(1, 2))
    assert leaves == [1, 2] and treedef.node_data() == (B, "aux")
    assert [keystr(p) for p, _ in tree_leaves_with_path(B(1, 2))] == ["['x']", "['y']"]


def test_register_twice_raises() -> None:
    with pytest.raises(ValueError, match=r"Duplicate custom PyTreeDef type registration for .*Box"):
        register_pytree_node(Box, lambda b: ((), None), lambda a, c: Box(1, 2, "p"))
    with pytest.raises(ValueError, match="registration for <class 'list'>"):
        register_pytree_node(list, lambda x: (x, None), lambda a, c: list(c))
    with pytest.raises(ValueError, match="Params"):
        register_dataclass(Params)
    with pytest.raises(ValueError, match="Pair"):
        register_pytree_node_class(Pair)
    with pytest.raises(TypeError, match="must be classes"):
        register_pytree_node(1, lambda x: ((), None), lambda a, c: 1)  # type: ignore[arg-type]


def test_register_after_first_seen_as_leaf() -> None:
    class Late:
        def __init__(self, v: Any) -> None:
            self.v = v

    late = Late(1)
    assert tree_leaves([late]) == [late]  # cached as a leaf type
    register_pytree_node(Late, lambda x: ((x.v,), None), lambda _, ch: Late(*ch))
    assert tree_leaves([late]) == [1]


def test_register_dataclass() -> None:
    p = Params(w=np.ones(2), b=0.5, act="tanh")
    leaves, treedef = tree_flatten(p)
    assert leaves[1] == 0.5 and leaves[0] is p.w
    assert str(treedef) == "PyTreeDef(CustomNode(Params[('tanh',)], [*, *]))"
    assert treedef != tree_structure(Params(1, 2))
    rebuilt = tree_unflatten(treedef, [1, 2])
    assert rebuilt == Params(1, 2, "tanh")
    assert [keystr(p) for p, _ in tree_leaves_with_path(p)] == [".w", ".b"]

    @dataclasses.dataclass(frozen=True)
    class Explicit:
        x: Any
        y: Any
        z: int = 0
        cache: Any = dataclasses.field(default=None, init=False)

    register_dataclass(Explicit, data_fields=["x"], meta_fields=["y"], drop_fields=["z"])
    leaves, treedef = tree_flatten(Explicit(1, "meta", z=5))
    assert leaves == [1] and treedef.node_data() == (Explicit, ("meta",))
    assert tree_unflatten(treedef, [2]) == Explicit(2, "meta")

    class NotADataclass:
        def __init__(self, p: Any, q: Any) -> None:
            self.p, self.q = p, q

    assert register_dataclass(NotADataclass, ["p"], ["q"]) is NotADataclass
    assert tree_leaves(NotADataclass(1, 2)) == [1]

    @dataclasses.dataclass
    class Bad:
        x: Any
        y: Any

    with pytest.raises(TypeError, match="both be given"):
        register_dataclass(Bad, data_fields=["x"])
    with pytest.raises(ValueError, match=r"missing: \['y'\]"):
        register_dataclass(Bad, data_fields=["x"], meta_fields=[])
    with pytest.raises(ValueError, match=r"unexpected: \['q'\]"):
        register_dataclass(Bad, data_fields=["x", "y"], meta_fields=["q"])
    with pytest.raises(ValueError, match="both as data_fields and meta_fields"):
        register_dataclass(Bad, data_fields=["x", "y"], meta_fields=["x"])
    with pytest.raises(TypeError, match="not a dataclass"):
        register_dataclass(type("Plain", (), {}))


def test_register_static() -> None:
    @register_static
    @dataclasses.dataclass(frozen=True)
    class Config:
        name: str

    t = {"cfg": Config("a"), "x": 1.0}
    leaves, treedef = tree_flatten(t)
    assert leaves == [1.0]
    assert tree_unflatten(treedef, [2.0]) == {"cfg": Config("a"), "x": 2.0}
    assert treedef != tree_structure({"cfg": Config("b"), "x": 1.0})


# ---------------------------------------------------------------------------------------
# PyTreeDef
# ---------------------------------------------------------------------------------------


def test_treedef_properties_and_repr() -> None:
    treedef = tree_structure({"a": 1, "b": (2, 3)})
    assert repr(treedef) == str(treedef) == "PyTreeDef({'a': *, 'b': (*, *)})"
    assert treedef.num_leaves == 3 and treedef.num_nodes == 5
    assert str(tree_structure((1,))) == "PyTreeDef((*,))"
    assert str(tree_structure(())) == "PyTreeDef(())"
    assert str(tree_structure([])) == "PyTreeDef([])"
    assert str(tree_structure({})) == "PyTreeDef({})"
    assert str(tree_structure(5)) == "PyTreeDef(*)"
    assert treedef.node_data() == (dict, ("a", "b"))
    assert tree_structure(5).node_data() is None
    assert tree_structure((1, 2)).node_data() == (tuple, None)
    assert treedef.children() == [tree_structure(1), tree_structure((1, 2))]
    assert treedef_children(treedef) == treedef.children()
    assert tree_structure(None).children() == [] and tree_structure(1).children() == []
    assert treedef != {"a": 1}  # comparison with other types
    assert treedef != tree_structure([1, 2, 3])
    assert tree_structure((1, 2)) != tree_structure([1, 2])


def test_treedef_pickle_copy_and_immutability() -> None:
    treedef = tree_structure({"a": (1, None), "b": [Point(1, 2)], "c": Params(1, 2)})
    assert pickle.loads(pickle.dumps(treedef)) == treedef
    assert copy.copy(treedef) is treedef and copy.deepcopy(treedef) is treedef
    assert not hasattr(treedef, "__dict__")
    with pytest.raises(AttributeError):
        treedef.num_leaves = 3  # type: ignore[misc]


def test_treedef_unflatten_accepts_iterables() -> None:
    treedef = tree_structure([0, (0, 0)])
    assert treedef.unflatten(iter("abc")) == ["a", ("b", "c")]
    assert treedef.unflatten(x for x in range(3)) == [0, (1, 2)]


def test_unflatten_wrong_leaf_count() -> None:
    treedef = tree_structure({"a": 1, "b": (2, 3)})
    with pytest.raises(ValueError, match=r"Too few leaves for PyTreeDef\(.*\); expected 3, got 2"):
        tree_unflatten(treedef, [1, 2])
    with pytest.raises(ValueError, match=r"Too many leaves .*expected 3, got 4"):
        tree_unflatten(treedef, [1, 2, 3, 4])
    with pytest.raises(ValueError, match="expected 0, got 1"):
        tree_unflatten(tree_structure(None), [1])


def test_treedef_tuple_compose_and_leaf_predicates() -> None:
    td = treedef_tuple([tree_structure([1, 2]), tree_structure(3)])
    assert td == tree_structure(([1, 2], 3))
    assert td.unflatten([1, 2, 3]) == ([1, 2], 3)
    assert treedef_tuple([]) == tree_structure(())
    composed = tree_structure([0, 0]).compose(tree_structure((0, 0)))
    assert composed == tree_structure([(1, 2), (3, 4)])
    assert treedef_is_leaf(tree_structure(1.0))
    assert treedef_is_leaf(tree_structure(None))  # a single node, as in JAX
    assert not treedef_is_leaf(tree_structure([1.0]))
    assert treedef_is_strict_leaf(tree_structure(1.0))
    assert not treedef_is_strict_leaf(tree_structure(None))
    assert not treedef_is_strict_leaf(tree_structure(()))


def test_treedef_equality_uses_aux_data_and_types() -> None:
    assert tree_structure(Box(1, 2, "p")) != tree_structure(Box(1, 2, "q"))
    assert tree_structure(Box(1, 2, "p")) == tree_structure(Box(3, 4, "p"))
    assert tree_structure(Point(1, 2)) != tree_structure((1, 2))
    assert tree_structure({1: 0}) == tree_structure({1: 5})
    assert tree_structure([None]) != tree_structure([1])


# ---------------------------------------------------------------------------------------
# Mismatch errors
# ---------------------------------------------------------------------------------------


def test_tree_map_mismatch_names_structures_and_path() -> None:
    a = {"a": 1, "b": [1, [2, 3]]}
    b = {"a": 1, "b": [1, (2, 3)]}
    with pytest.raises(ValueError) as info:
        tree_map(operator.add, a, b)
    message = str(info.value)
    assert (
        "Custom node type mismatch; expected type: <class 'list'>; value: (2, 3) "
        "at key path ['b'][1]"
    ) in message
    assert "PyTreeDef({'a': *, 'b': [*, [*, *]]})" in message
    assert "PyTreeDef({'a': *, 'b': [*, (*, *)]})" in message


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ((1, 2), (1, 2, 3), "Tuple arity mismatch: 3 != 2; tuple: (1, 2, 3) at the tree root"),
        ([[1, 2]], [[1]], "List arity mismatch: 1 != 2; list: [1] at key path [0]"),
        (
            {"a": 1, "b": 2},
            {"a": 1, "c": 2},
            "Dict key mismatch; expected keys: ['a', 'b']; got keys: ['a', 'c']",
        ),
        ([None], [1], "Custom node type mismatch; expected type: <class 'NoneType'>; value: 1"),
        (
            [Box(1, 2, "p")],
            [Box(1, 2, "q")],
            "Mismatch custom node data: 'p' != 'q'; value: Box(1, 2, 'q') at key path [0]",
        ),
        (Point(1, 2), (1, 2), "expected type: <class 'test_tree_util.Point'>"),
        (
            {"p": Params(1, 2)},
            {"p": Params(1, 2, "tanh")},
            "Mismatch custom node data: ('relu',) != ('tanh',)",
        ),
        (OrderedDict(a=1), OrderedDict(b=1), "Dict key mismatch"),
    ],
)
def test_flatten_up_to_errors(first: Any, second: Any, expected: str) -> None:
    treedef = tree_structure(first)
    with pytest.raises(ValueError) as info:
        treedef.flatten_up_to(second)
    message = str(info.value)
    assert expected in message
    assert str(treedef) in message
    assert str(tree_structure(second)) in message
    with pytest.raises(ValueError):
        tree_map(lambda x, y: x, first, second)


def test_custom_arity_mismatch() -> None:
    class Var:
        def __init__(self, *items: Any) -> None:
            self.items = items

    register_pytree_node(Var, lambda v: (v.items, None), lambda _, ch: Var(*ch))
    with pytest.raises(ValueError, match=r"Custom type arity mismatch: 3 != 2; value: .* at key"):
        tree_structure({"v": Var(1, 2)}).flatten_up_to({"v": Var(1, 2, 3)})


def test_flatten_up_to_is_prefix_match() -> None:
    treedef = tree_structure({"a": 0, "b": 0})
    assert treedef.flatten_up_to({"a": [1, 2], "b": {"c": 3}}) == [[1, 2], {"c": 3}]
    assert tree_map(lambda x, y: (x, y), [1, 2], [(3, 4), None]) == [(1, (3, 4)), (2, None)]


# ---------------------------------------------------------------------------------------
# Other public functions
# ---------------------------------------------------------------------------------------


def test_tree_map_multiple_trees_and_with_path() -> None:
    assert tree_map(lambda x, y, z: x + y + z, (1, [2]), (10, [20]), (100, [200])) == (
        111,
        [222],
    )
    result = tree_map_with_path(lambda p, x, y: (keystr(p), x + y), {"a": [1]}, {"a": [2]})
    assert result == {"a": [("['a'][0]", 3)]}
    leaves = tree_map(lambda x: x * 2, Params(np.ones(2), 3.0))
    assert isinstance(leaves, Params) and leaves.b == 6.0 and np.array_equal(leaves.w, [2, 2])


def test_keys_and_keystr() -> None:
    assert str(SequenceKey(0)) == "[0]"
    assert str(DictKey("a")) == "['a']" and str(DictKey(1)) == "[1]"
    assert str(GetAttrKey("name")) == ".name"
    assert str(FlattenedIndexKey(2)) == "[2]"
    assert repr(SequenceKey(0)) == "SequenceKey(idx=0)"
    assert repr(DictKey("a")) == "DictKey(key='a')"
    assert len({SequenceKey(0), SequenceKey(0), DictKey(0), FlattenedIndexKey(0)}) == 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        SequenceKey(0).idx = 1  # type: ignore[misc]
    path = (DictKey("params"), SequenceKey(1), GetAttrKey("w"), FlattenedIndexKey(0))
    assert keystr(path) == "['params'][1].w[0]"
    assert keystr(path, simple=True, separator="/") == "params/1/w/0"
    assert keystr(()) == ""


def test_tree_reduce_all_and_all_leaves() -> None:
    assert tree_reduce(operator.add, {"a": 1, "b": (2, 3)}) == 6
    assert tree_reduce(operator.add, {"a": 1}, 10) == 11
    assert tree_reduce(operator.add, [], 0) == 0
    with pytest.raises(TypeError):
        tree_reduce(operator.add, [])
    lengths = {"a": (1, 2), "b": (3,)}
    assert tree_reduce(lambda acc, x: acc + len(x), lengths, 0, is_leaf=lambda x: x != lengths) == 3
    assert tree_all([True, (1, {"a": 2.0})])
    assert not tree_all([True, (0,)])
    assert tree_all([])
    assert tree_all([(), None])
    assert not tree_all([[0]], is_leaf=lambda x: False)
    assert not tree_all([[]], is_leaf=lambda x: x == [])
    assert all_leaves([1, "a", np.zeros(2), Tracer()])
    assert not all_leaves([1, [2]])
    assert not all_leaves([None])
    assert all_leaves([None, (1,)], is_leaf=lambda x: x is None or isinstance(x, tuple))
    assert all_leaves(tree_leaves({"a": [1, 2, 3]}))


def test_tree_transpose() -> None:
    outer = tree_structure([0, 0, 0])
    inner = tree_structure((0, 0))
    assert tree_transpose(outer, inner, [(1, 2), (3, 4), (5, 6)]) == ([1, 3, 5], [2, 4, 6])
    assert tree_transpose(outer, None, [(1, 2), (3, 4), (5, 6)]) == ([1, 3, 5], [2, 4, 6])
    with pytest.raises(TypeError, match="tree_transpose"):
        tree_transpose(outer, inner, [(1, 2), (3, 4), (5, 6, 7)])
    with pytest.raises(TypeError, match="tree_transpose"):
        tree_transpose(outer, inner, [(1, 2), (3, 4)])
    empty = tree_structure(())
    assert tree_transpose(empty, inner, ()) == ((), ())


def test_partial() -> None:
    p = Partial(operator.add, np.float64(1.0))
    leaves, treedef = tree_flatten(p)
    assert leaves == [1.0]
    assert treedef == tree_structure(Partial(operator.add, 5.0))
    assert treedef != tree_structure(Partial(operator.mul, 5.0))
    q = tree_map(lambda x: x * 10, p)
    assert isinstance(q, Partial) and q(1) == 11.0
    kw = Partial(lambda x, y=0: x - y, y=3)
    assert tree_leaves(kw) == [3] and tree_map(lambda v: v + 1, kw)(10) == 6
    assert [keystr(path) for path, _ in tree_leaves_with_path(Partial(max, 1, k=2))] == [
        ".args[0]",
        ".keywords['k']",
    ]
    inner = functools.partial(operator.sub, 10)
    nested = Partial(inner, 3)
    assert nested() == 7
    assert tree_leaves(nested) == [3]  # the inner partial's argument stays static
    assert tree_map(lambda v: v * 2, nested)() == 4
    assert tree_structure(Partial(inner, 1)) == tree_structure(Partial(inner, 2))
    assert isinstance(p, functools.partial)


def test_short_aliases() -> None:
    assert tree.map is tree_map and tree.leaves is tree_leaves
    assert tree.structure is tree_structure and tree.flatten is tree_flatten
    assert tree.unflatten is tree_unflatten and tree.reduce is tree_reduce
    assert tree.all is tree_all and tree.transpose is tree_transpose
    assert tree.map_with_path is tree_map_with_path
    assert tree.flatten_with_path is tree_flatten_with_path
    assert tree.leaves_with_path is tree_leaves_with_path
    assert set(tree.__all__) == {
        "all",
        "broadcast",
        "flatten",
        "flatten_with_path",
        "leaves",
        "leaves_with_path",
        "map",
        "map_with_path",
        "reduce",
        "reduce_associative",
        "structure",
        "transpose",
        "unflatten",
    }


def test_public_module_reexports() -> None:
    public = [name for name in dir(tree_util) if not name.startswith("_")]
    for name in public:
        impl = tree_util_impl if hasattr(tree_util_impl, name) else tree_util_extras
        assert getattr(tree_util, name) is getattr(impl, name)
    assert PyTreeDef is tree_util_impl.PyTreeDef


@pytest.mark.parametrize("module", [tree_util_impl, tree_util_extras, tree])
def test_docstring_examples(module: Any) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_flatten_unflatten_speed() -> None:
    """Loose smoke check that the hot path stays in the microsecond range."""
    d = {k: np.zeros(3) for k in "abcdef"}
    n = 2000
    start = time.perf_counter()
    for _ in range(n):
        leaves, treedef = tree_flatten(d)
        tree_unflatten(treedef, leaves)
    per_call = (time.perf_counter() - start) / n
    assert per_call < 100e-6
