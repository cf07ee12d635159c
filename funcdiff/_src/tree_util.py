# Over 600 lines: half docstrings; the registry, the walk and PyTreeDef share private node records.
"""Pytree core: the node registry, the traversals, `PyTreeDef`, flatten/unflatten/map.

A *pytree* is a nested structure of containers (tuples, lists, dicts, `None`,
namedtuples, `OrderedDict`, `defaultdict` and any registered custom type) whose
non-container elements are *leaves*. Anything that is not a registered node type is a
leaf: numpy arrays, Python scalars, tracers, arbitrary objects. Subclasses of registered
types are leaves unless they are registered themselves (namedtuples are the exception:
every tuple subclass with `_fields` is a namedtuple node).

The names and semantics mirror `jax.tree_util`; the parts of it that the library does not
use itself (`register_dataclass`, `tree_transpose`, `Partial`...) are in
`tree_util_extras.py`.

Implementation notes:

- A `PyTreeDef` stores its nodes as a flat tuple in pre-order (a node comes before its
  children). A leaf is the record `None`; a container is the record
  `(kind, arity, node_type, aux_data)`. Equality and hashing therefore compare one flat
  tuple: they never recurse, are fast, and include node types, aux data and dict keys.
- Three loops walk trees: `_flatten` (the hot one), `PyTreeDef.flatten_up_to` (which
  follows a given structure) and `_flatten_with_path` (key paths, and where a tree does
  not match a structure); kept apart for speed (see "The traversals" below). Unflattening
  and string conversion scan the records backwards. None of them uses Python recursion, so
  arbitrarily deep trees (e.g. a list nested 5000 levels deep) never raise
  `RecursionError`.
- Node kinds are dispatched through a dict keyed by the exact type, with fast inline
  paths for tuples, lists and dicts.
"""

from __future__ import annotations

import dataclasses
import operator
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, Final, NoReturn, TypeAlias, TypeVar, cast

T = TypeVar("T")
_TypeT = TypeVar("_TypeT", bound=type)

# ---------------------------------------------------------------------------------------
# Key path entries
# ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class SequenceKey:
    """Key of an element of a tuple or list: `str(SequenceKey(0)) == "[0]"`.

    **Example**

    ```python
    >>> from funcdiff.tree_util import SequenceKey
    >>> str(SequenceKey(2))
    '[2]'

    ```
    """

    idx: int

    def __str__(self) -> str:
        return f"[{self.idx!r}]"


@dataclasses.dataclass(frozen=True, slots=True)
class DictKey:
    """Key of a dict entry: `str(DictKey("a")) == "['a']"` (the key's repr in brackets).

    **Example**

    ```python
    >>> from funcdiff.tree_util import DictKey
    >>> str(DictKey("w")), str(DictKey(3))
    ("['w']", '[3]')

    ```
    """

    key: Hashable

    def __str__(self) -> str:
        return f"[{self.key!r}]"


@dataclasses.dataclass(frozen=True, slots=True)
class GetAttrKey:
    """Key of an attribute (namedtuple and dataclass fields): `str(GetAttrKey("x")) == ".x"`.

    **Example**

    ```python
    >>> from funcdiff.tree_util import GetAttrKey
    >>> str(GetAttrKey("weight"))
    '.weight'

    ```
    """

    name: str

    def __str__(self) -> str:
        return f".{self.name}"


@dataclasses.dataclass(frozen=True, slots=True)
class FlattenedIndexKey:
    """Key of a child of a custom node registered without keys: its index among the children.

    **Example**

    ```python
    >>> from funcdiff.tree_util import FlattenedIndexKey
    >>> str(FlattenedIndexKey(1))
    '[1]'

    ```
    """

    key: int

    def __str__(self) -> str:
        return f"[{self.key!r}]"


KeyEntry: TypeAlias = Any
"""One entry of a key path: usually a `SequenceKey`, `DictKey`, `GetAttrKey` or
`FlattenedIndexKey`, but custom nodes registered with keys may use any hashable object."""

KeyPath: TypeAlias = tuple[KeyEntry, ...]
"""A path from the root of a pytree to one of its subtrees: a tuple of key entries."""

KeyLeafPairs: TypeAlias = Iterable[tuple[KeyEntry, Any]]


def _simple_key_str(key: KeyEntry) -> str:
    if isinstance(key, SequenceKey):
        return str(key.idx)
    if isinstance(key, DictKey):
        return str(key.key)
    if isinstance(key, GetAttrKey):
        return key.name
    if isinstance(key, FlattenedIndexKey):
        return str(key.key)
    return str(key)


def keystr(keys: KeyPath, *, simple: bool = False, separator: str = "") -> str:
    """Renders a key path as a string.

    **Arguments**

    - `keys`: a key path, as produced by `tree_flatten_with_path`.
    - `simple`: if `True`, render each entry bare (`0`, `a`, `name`) instead of in its
      Python-accessor form (`[0]`, `['a']`, `.name`).
    - `separator`: string placed between entries (mostly useful with `simple=True`).

    **Returns**

    The string form of the path; the empty string for the root path `()`.

    **Example**

    ```python
    >>> from funcdiff.tree_util import DictKey, SequenceKey, keystr, tree_leaves_with_path
    >>> [keystr(p) for p, _ in tree_leaves_with_path({"a": [1, 2]})]
    ["['a'][0]", "['a'][1]"]
    >>> keystr((DictKey("a"), SequenceKey(1)), simple=True, separator="/")
    'a/1'

    ```
    """
    if simple:
        return separator.join([_simple_key_str(k) for k in keys])
    return separator.join([str(k) for k in keys])


# ---------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------

# Node kinds. `_LEAF` must be falsy: the hot loops test `if not kind`.
_LEAF: Final = 0
_TUPLE: Final = 1
_LIST: Final = 2
_DICT: Final = 3
_NONE: Final = 4
_NAMEDTUPLE: Final = 5
_ORDEREDDICT: Final = 6
_DEFAULTDICT: Final = 7
_CUSTOM: Final = 8

_NoneType: Final = type(None)

# A node record: `None` for a leaf, else `(kind, arity, node_type, aux_data)`.
_Record: TypeAlias = tuple[int, int, type, Any] | None


class _NodeSpec:
    """Flatten/unflatten functions of a registered custom node type."""

    __slots__ = ("flatten", "flatten_with_keys", "nodetype", "unflatten")

    def __init__(
        self,
        nodetype: type,
        flatten: Callable[[Any], tuple[Iterable[Any], Any]],
        unflatten: Callable[[Any, Iterable[Any]], Any],
        flatten_with_keys: Callable[[Any], tuple[KeyLeafPairs, Any]] | None,
    ) -> None:
        self.nodetype = nodetype
        self.flatten = flatten
        self.unflatten = unflatten
        self.flatten_with_keys = flatten_with_keys


_BUILTIN_KINDS: Final[dict[type, int]] = {
    tuple: _TUPLE,
    list: _LIST,
    dict: _DICT,
    _NoneType: _NONE,
    OrderedDict: _ORDEREDDICT,
    defaultdict: _DEFAULTDICT,
}

# Registered custom node types.
_CUSTOM_NODES: dict[type, _NodeSpec] = {}

# Exact type -> kind. Holds the built-in and registered node types, plus a bounded cache
# of the types seen so far that are leaves or namedtuples.
_KINDS: dict[type, int] = dict(_BUILTIN_KINDS)
_KINDS_CACHE_LIMIT: Final = 4096

# Guard against reference cycles, which would otherwise make the iterative flatten loop
# run until memory is exhausted.
_MAX_NODES: Final = 10_000_000


def _classify(t: type) -> int:
    """Kind of a type that is not in `_KINDS` yet (a namedtuple or a leaf)."""
    is_namedtuple = issubclass(t, tuple) and isinstance(getattr(t, "_fields", None), tuple)
    kind = _NAMEDTUPLE if is_namedtuple else _LEAF
    if len(_KINDS) < _KINDS_CACHE_LIMIT:
        _KINDS[t] = kind
    return kind


def _kind_of(t: type) -> int:
    kind = _KINDS.get(t)
    return _classify(t) if kind is None else kind


def _register(spec: _NodeSpec) -> None:
    nodetype = spec.nodetype
    if not isinstance(nodetype, type):
        raise TypeError(f"Pytree node types must be classes, got {nodetype!r}.")
    if nodetype in _BUILTIN_KINDS or nodetype in _CUSTOM_NODES:
        raise ValueError(f"Duplicate custom PyTreeDef type registration for {nodetype}.")
    _CUSTOM_NODES[nodetype] = spec
    _KINDS[nodetype] = _CUSTOM  # overrides a cached leaf/namedtuple classification


def register_pytree_node(
    nodetype: type[T],
    flatten_func: Callable[[T], tuple[Iterable[Any], Any]],
    unflatten_func: Callable[[Any, Iterable[Any]], T],
    flatten_with_keys_func: Callable[[T], tuple[KeyLeafPairs, Any]] | None = None,
) -> None:
    """Registers a type as a pytree node (a container) rather than a leaf.

    Only the exact type is registered: subclasses stay leaves unless registered too.

    **Arguments**

    - `nodetype`: the class to register.
    - `flatten_func`: `flatten_func(node) -> (children, aux_data)`. `children` is an
      iterable of subtrees to flatten further; `aux_data` is static data that is stored
      in the `PyTreeDef` and must be hashable and comparable with `==`.
    - `unflatten_func`: `unflatten_func(aux_data, children) -> node`, the inverse;
      `children` is passed as a tuple.
    - `flatten_with_keys_func`: optional `f(node) -> (((key, child), ...), aux_data)`
      giving a key for each child, used by the `*_with_path` functions. Without it the
      children get `FlattenedIndexKey(i)` keys.

    **Returns**

    `None`.

    **Raises**

    `ValueError` if the type is already registered (or is a built-in node type).

    **Example**

    ```python
    >>> from funcdiff import tree_util
    >>> class Pair:
    ...     def __init__(self, a, b):
    ...         self.a, self.b = a, b
    >>> tree_util.register_pytree_node(
    ...     Pair, lambda p: ((p.a, p.b), None), lambda aux, ch: Pair(*ch)
    ... )
    >>> tree_util.tree_leaves([Pair(1, 2), 3])
    [1, 2, 3]

    ```
    """
    _register(_NodeSpec(nodetype, flatten_func, unflatten_func, flatten_with_keys_func))


def register_pytree_with_keys(
    nodetype: type[T],
    flatten_with_keys: Callable[[T], tuple[KeyLeafPairs, Any]],
    unflatten_func: Callable[[Any, Iterable[Any]], T],
    flatten_func: Callable[[T], tuple[Iterable[Any], Any]] | None = None,
) -> None:
    """Registers a pytree node type whose children have keys (for key paths).

    **Arguments**

    - `nodetype`: the class to register.
    - `flatten_with_keys`: `f(node) -> (((key, child), ...), aux_data)`.
    - `unflatten_func`: `unflatten_func(aux_data, children) -> node`.
    - `flatten_func`: optional `f(node) -> (children, aux_data)`, a faster flatten
      without keys. Derived from `flatten_with_keys` when omitted.

    **Returns**

    `None`.

    **Raises**

    `ValueError` if the type is already registered.

    **Example**

    ```python
    >>> from funcdiff import tree_util
    >>> class Named:
    ...     def __init__(self, w, b):
    ...         self.w, self.b = w, b
    >>> tree_util.register_pytree_with_keys(
    ...     Named,
    ...     lambda n: (((tree_util.GetAttrKey("w"), n.w), (tree_util.GetAttrKey("b"), n.b)), None),
    ...     lambda aux, ch: Named(*ch),
    ... )
    >>> [tree_util.keystr(p) for p, _ in tree_util.tree_leaves_with_path(Named(1, 2))]
    ['.w', '.b']

    ```
    """
    if flatten_func is None:

        def drop_keys(node: T) -> tuple[list[Any], Any]:
            pairs, aux = flatten_with_keys(node)
            return [child for _, child in pairs], aux

        flatten_func = drop_keys
    _register(_NodeSpec(nodetype, flatten_func, unflatten_func, flatten_with_keys))


def register_pytree_node_class(cls: _TypeT) -> _TypeT:
    """Class decorator registering a class as a pytree node through its own methods.

    The class must define a method `tree_flatten(self) -> (children, aux_data)` and a
    classmethod `tree_unflatten(cls, aux_data, children) -> instance`.

    **Arguments**

    - `cls`: the class to register.

    **Returns**

    `cls` itself, so this can be used as a decorator.

    **Example**

    ```python
    >>> from funcdiff import tree_util
    >>> @tree_util.register_pytree_node_class
    ... class Scaled:
    ...     def __init__(self, value, scale):
    ...         self.value, self.scale = value, scale
    ...     def tree_flatten(self):
    ...         return (self.value,), self.scale
    ...     @classmethod
    ...     def tree_unflatten(cls, scale, children):
    ...         return cls(children[0], scale)
    >>> tree_util.tree_structure(Scaled(1.0, scale=2))
    PyTreeDef(CustomNode(Scaled[2], [*]))

    ```
    """
    unflatten = cast(Any, cls).tree_unflatten
    register_pytree_node(cls, operator.methodcaller("tree_flatten"), unflatten)
    return cls


def register_pytree_with_keys_class(cls: _TypeT) -> _TypeT:
    """Class decorator like `register_pytree_node_class`, with keyed children.

    The class must define `tree_flatten_with_keys(self) -> (((key, child), ...), aux)`
    and the classmethod `tree_unflatten(cls, aux_data, children)`. It may also define
    `tree_flatten(self)`, used as a faster flatten that skips the keys.

    **Arguments**

    - `cls`: the class to register.

    **Returns**

    `cls` itself, so this can be used as a decorator.

    **Example**

    ```python
    >>> from funcdiff import tree_util
    >>> @tree_util.register_pytree_with_keys_class
    ... class Weights:
    ...     def __init__(self, w):
    ...         self.w = w
    ...     def tree_flatten_with_keys(self):
    ...         return ((tree_util.GetAttrKey("w"), self.w),), None
    ...     @classmethod
    ...     def tree_unflatten(cls, aux, children):
    ...         return cls(*children)
    >>> tree_util.tree_flatten_with_path(Weights(3))[0]
    [((GetAttrKey(name='w'),), 3)]

    ```
    """
    flatten = operator.methodcaller("tree_flatten") if hasattr(cls, "tree_flatten") else None
    unflatten = cast(Any, cls).tree_unflatten
    register_pytree_with_keys(
        cls, operator.methodcaller("tree_flatten_with_keys"), unflatten, flatten
    )
    return cls


def is_tree_node(typ: type) -> bool:
    """Tells whether instances of a type are pytree nodes (containers) rather than leaves.

    **Arguments**

    - `typ`: a class.

    **Returns**

    `True` for the built-in node types, namedtuple classes and registered types.

    **Example**

    ```python
    >>> from funcdiff.tree_util import is_tree_node
    >>> is_tree_node(dict), is_tree_node(type(None)), is_tree_node(float)
    (True, True, False)

    ```
    """
    return _kind_of(typ) != _LEAF


# ---------------------------------------------------------------------------------------
# Node helpers
# ---------------------------------------------------------------------------------------

_SMALL: Final = 64
_TUPLE_RECORDS: Final = [(_TUPLE, n, tuple, None) for n in range(_SMALL)]
_LIST_RECORDS: Final = [(_LIST, n, list, None) for n in range(_SMALL)]
_NONE_RECORD: Final = (_NONE, 0, _NoneType, None)
_LEAF_RUNS: Final = [(None,) * n for n in range(_SMALL)]


def _sorted_keys(d: dict[Any, Any]) -> tuple[Any, ...]:
    try:
        return tuple(sorted(d))
    except TypeError as e:
        # As JAX: a dict is flattened in sorted key order, so its keys must be comparable.
        kinds = sorted({type(k).__name__ for k in d})
        raise ValueError(
            f"Comparator raised exception while sorting pytree dictionary keys ({e}): a dict "
            f"node is flattened in sorted key order, and these keys, of types {kinds}, cannot "
            "be compared. Use keys of one type, or an OrderedDict (flattened in insertion "
            "order)."
        ) from e


def _node_children(x: Any, kind: int, t: type) -> tuple[tuple[int, int, type, Any], Sequence[Any]]:
    """Record and children of a container node (generic, slower path)."""
    if kind in (_TUPLE, _LIST):
        n = len(x)
        if n < _SMALL:
            return (_TUPLE_RECORDS if kind == _TUPLE else _LIST_RECORDS)[n], x
        return (kind, n, t, None), x
    if kind == _DICT:
        keys = _sorted_keys(x)
        return (_DICT, len(keys), dict, keys), [x[k] for k in keys]
    if kind == _NONE:
        return _NONE_RECORD, ()
    if kind == _NAMEDTUPLE:
        return (_NAMEDTUPLE, len(x), t, None), x
    if kind == _ORDEREDDICT:
        keys = tuple(x)
        return (_ORDEREDDICT, len(keys), OrderedDict, keys), list(x.values())
    if kind == _DEFAULTDICT:
        keys = _sorted_keys(x)
        return (_DEFAULTDICT, len(keys), defaultdict, (x.default_factory, keys)), [
            x[k] for k in keys
        ]
    children, aux = _CUSTOM_NODES[t].flatten(x)
    if type(children) is not tuple and type(children) is not list:
        children = tuple(children)
    return (_CUSTOM, len(children), t, aux), children


def _node_keyed_children(
    x: Any, kind: int, t: type
) -> tuple[tuple[int, int, type, Any], Sequence[KeyEntry], Sequence[Any]]:
    """Record, child keys and children of a container node (one call of a custom node's
    flatten function: its keyed one when it has one)."""
    if kind == _CUSTOM:
        spec = _CUSTOM_NODES[t]
        if spec.flatten_with_keys is not None:
            keyed, aux = spec.flatten_with_keys(x)
            pairs = list(keyed)
            return (_CUSTOM, len(pairs), t, aux), [k for k, _ in pairs], [c for _, c in pairs]
    record, children = _node_children(x, kind, t)
    return record, _child_keys(record, x), children


def _build_node(record: tuple[int, int, type, Any], children: list[Any]) -> Any:
    """Rebuilds a container from its record and (freshly allocated) list of children."""
    kind, _, t, aux = record
    if kind == _DICT:
        return dict(zip(aux, children))
    if kind == _TUPLE:
        return tuple(children)
    if kind == _LIST:
        return children
    if kind == _NONE:
        return None
    if kind == _NAMEDTUPLE:
        return t(*children)
    if kind == _ORDEREDDICT:
        return OrderedDict(zip(aux, children))
    if kind == _DEFAULTDICT:
        return defaultdict(aux[0], zip(aux[1], children))
    return _CUSTOM_NODES[t].unflatten(aux, tuple(children))


def _short_repr(x: Any, limit: int = 1000) -> str:
    text = repr(x)
    return text if len(text) <= limit else text[:limit] + "..."


class _MismatchError(Exception):
    """Internal: raised by `_match_children` when a tree does not match a record."""


def _match_children(record: tuple[int, int, type, Any], x: Any) -> Sequence[Any]:
    """Children of `x` if it matches the container `record`, else raises `_MismatchError`."""
    kind, n, t, aux = record
    actual_type: type = type(x)
    if actual_type is t:  # fast paths for the common containers
        if kind == _TUPLE or kind == _LIST:
            if len(x) == n:
                return cast(Sequence[Any], x)
        elif kind == _DICT and len(x) == n:
            try:
                return list(map(x.__getitem__, aux))
            except KeyError:
                pass
    if actual_type is not t:
        raise _MismatchError(
            f"Custom node type mismatch; expected type: {t}; value: {_short_repr(x)}"
        )
    if kind in (_TUPLE, _LIST, _NAMEDTUPLE):
        if len(x) != n:
            what = {_TUPLE: "Tuple", _LIST: "List", _NAMEDTUPLE: "Named tuple"}[kind]
            raise _MismatchError(
                f"{what} arity mismatch: {len(x)} != {n}; "
                f"{'list' if kind == _LIST else 'tuple'}: {_short_repr(x)}"
            )
        return cast(Sequence[Any], x)
    if kind == _NONE:
        return ()
    if kind in (_DICT, _ORDEREDDICT, _DEFAULTDICT):
        keys = aux[1] if kind == _DEFAULTDICT else aux
        if len(x) != len(keys) or any(k not in x for k in keys):
            expected = list(keys)
            got = list(_sorted_keys(x)) if kind != _ORDEREDDICT else list(x)
            raise _MismatchError(
                f"Dict key mismatch; expected keys: {_short_repr(expected)}; "
                f"got keys: {_short_repr(got)}; dict: {_short_repr(x)}"
            )
        return [x[k] for k in keys]
    children, other_aux = _CUSTOM_NODES[t].flatten(x)
    if not (other_aux is aux or other_aux == aux):
        raise _MismatchError(
            f"Mismatch custom node data: {_short_repr(aux)} != {_short_repr(other_aux)}; "
            f"value: {_short_repr(x)}"
        )
    children = list(children)
    if len(children) != n:
        raise _MismatchError(
            f"Custom type arity mismatch: {len(children)} != {n}; value: {_short_repr(x)}"
        )
    return children


def _child_keys(record: tuple[int, int, type, Any], x: Any) -> Sequence[KeyEntry]:
    """Keys of the children of `x`, which matches `record`."""
    kind, n, t, aux = record
    if kind == _DICT or kind == _ORDEREDDICT:
        return [DictKey(k) for k in aux]
    if kind == _TUPLE or kind == _LIST:
        return [SequenceKey(i) for i in range(n)]
    if kind == _NAMEDTUPLE:
        return [GetAttrKey(name) for name in t._fields]  # type: ignore[attr-defined]
    if kind == _DEFAULTDICT:
        return [DictKey(k) for k in aux[1]]
    if kind == _NONE:
        return ()
    spec = _CUSTOM_NODES[t]
    if spec.flatten_with_keys is not None:
        return [k for k, _ in spec.flatten_with_keys(x)[0]]
    return [FlattenedIndexKey(i) for i in range(n)]


# ---------------------------------------------------------------------------------------
# The traversals
# ---------------------------------------------------------------------------------------
# Three loops, each over a pre-order explicit stack: `_flatten`, the hot one (every
# transformation flattens its arguments and results with it), `PyTreeDef.flatten_up_to`,
# which walks a treedef's records (the second and later trees of `tree_map`), and
# `_flatten_with_path`, which also builds key paths and, guided by a treedef, finds where a
# tree does not match it. One general loop doing all three with flags was 5-90% slower on
# small trees (bench/tree_bench.py), so the two hot cases keep their own loops; the tests
# check all three against one reference.


def _hashable(x: Any) -> bool:
    try:
        hash(x)
    except TypeError:
        return False
    return True


def _raise_too_many_nodes() -> NoReturn:
    raise ValueError(f"Pytree has more than {_MAX_NODES} nodes; does it contain a reference cycle?")


def _flatten(tree: Any, is_leaf: Callable[[Any], bool] | None) -> tuple[list[Any], list[_Record]]:
    """Pre-order walk: `(leaves, records)`. Tuples, lists and dicts are inlined, and a
    container whose children are all leaves is taken in one step."""
    leaves: list[Any] = []
    nodes: list[_Record] = []
    add_leaf, add_node = leaves.append, nodes.append
    stack = [tree]
    pop, extend = stack.pop, stack.extend
    kinds_get = _KINDS.get
    children: Sequence[Any]
    while stack:
        x = pop()
        if is_leaf is not None and is_leaf(x):
            add_leaf(x)
            add_node(None)
            continue
        t = type(x)
        kind = kinds_get(t)
        if kind is None:
            kind = _classify(t)
        if not kind:
            add_leaf(x)
            add_node(None)
            continue
        if kind == _DICT:
            try:
                keys = tuple(sorted(x))
            except TypeError:
                keys = _sorted_keys(x)
            n = len(keys)
            add_node((_DICT, n, dict, keys))
            children = list(map(x.__getitem__, keys))
        elif kind == _TUPLE:
            n = len(x)
            add_node(_TUPLE_RECORDS[n] if n < _SMALL else (_TUPLE, n, tuple, None))
            children = x
        elif kind == _LIST:
            n = len(x)
            add_node(_LIST_RECORDS[n] if n < _SMALL else (_LIST, n, list, None))
            children = x
        else:
            record, children = _node_children(x, kind, t)
            add_node(record)
            n = record[1]
        if is_leaf is None and n < _SMALL:
            # A container whose children are all (already classified) leaves.
            for child in children:
                if kinds_get(type(child)) != _LEAF:
                    break
            else:
                leaves.extend(children)
                nodes.extend(_LEAF_RUNS[n])
                continue
        extend(children[::-1])
        if len(nodes) > _MAX_NODES:
            _raise_too_many_nodes()
    return leaves, nodes


def _flatten_with_path(
    tree: Any,
    is_leaf: Callable[..., bool] | None,
    is_leaf_takes_path: bool = False,
    guide: tuple[_Record, ...] | None = None,
) -> tuple[list[tuple[KeyPath, Any]], list[_Record]]:
    """`_flatten` that also gives the key path of each leaf: `((path, leaf) pairs, records)`.

    `is_leaf` is called as `is_leaf(path, x)` if `is_leaf_takes_path`. With a treedef's
    records as `guide`, the walk follows that structure instead of the tree's own, takes the
    whole subtree at each leaf position, and raises `_MismatchError(message, key path)` where
    `tree` does not match (for the message of `PyTreeDef.flatten_up_to`).
    """
    pairs: list[tuple[KeyPath, Any]] = []
    nodes: list[_Record] = []
    stack: list[tuple[KeyPath, Any]] = [((), tree)]
    path: KeyPath = ()
    record: _Record
    keys: Sequence[KeyEntry]
    children: Sequence[Any]
    pop, push = stack.pop, stack.append
    try:
        while stack:
            path, x = pop()
            if guide is not None:
                record = guide[len(nodes)]
                if record is not None:
                    children = _match_children(record, x)
                    keys = _child_keys(record, x)
            elif is_leaf is not None and (is_leaf(path, x) if is_leaf_takes_path else is_leaf(x)):
                record = None
            else:
                t = type(x)
                kind = _kind_of(t)
                record = None
                if kind:
                    record, keys, children = _node_keyed_children(x, kind, t)
            nodes.append(record)
            if record is None:
                pairs.append((path, x))
                continue
            for i in range(len(children) - 1, -1, -1):
                push(((*path, keys[i]), children[i]))
            if len(nodes) > _MAX_NODES:
                _raise_too_many_nodes()
    except _MismatchError as e:
        raise _MismatchError(e.args[0], path) from None
    return pairs, nodes


def _unflatten(nodes: tuple[_Record, ...], leaves: Sequence[Any]) -> Any:
    """Rebuilds a tree from pre-order records by scanning them backwards."""
    root = nodes[0]
    if root is None:
        return leaves[0]
    if root[1] == len(leaves) and len(nodes) == root[1] + 1:
        # Fast path: a single container whose children are all leaves.
        if root[0] == _DICT:
            return dict(zip(root[3], leaves))
        if root[0] == _TUPLE:
            return tuple(leaves)
        return _build_node(root, list(leaves))
    stack: list[Any] = []
    push = stack.append
    i = len(leaves)
    for record in reversed(nodes):
        if record is None:
            i -= 1
            push(leaves[i])
            continue
        kind, n, _, aux = record
        if n:
            children = stack[-n:]
            del stack[-n:]
            children.reverse()
        else:
            children = []
        if kind == _DICT:
            push(dict(zip(aux, children)))
        elif kind == _TUPLE:
            push(tuple(children))
        elif kind == _LIST:
            push(children)
        else:
            push(_build_node(record, children))
    return stack[0]


# ---------------------------------------------------------------------------------------
# PyTreeDef
# ---------------------------------------------------------------------------------------


class PyTreeDef:
    """The structure of a pytree: its containers, their aux data and leaf positions.

    Immutable and hashable; two treedefs are `==` when they have the same node types,
    aux data (including dict keys) and shape. Obtain one with `tree_flatten` or
    `tree_structure`; do not construct it directly.

    **Example**

    ```python
    >>> from funcdiff.tree_util import tree_structure
    >>> treedef = tree_structure({"a": 1.0, "b": (2.0, 3.0)})
    >>> treedef
    PyTreeDef({'a': *, 'b': (*, *)})
    >>> treedef.num_leaves, treedef.num_nodes
    (3, 5)
    >>> treedef.unflatten([10, 20, 30])
    {'a': 10, 'b': (20, 30)}

    ```
    """

    __slots__ = ("__weakref__", "_hash", "_nodes", "_num_leaves")

    _nodes: tuple[_Record, ...]
    _num_leaves: int
    _hash: int | None

    def __init__(self, nodes: tuple[_Record, ...], num_leaves: int) -> None:
        # Private constructor: `nodes` are the pre-order node records.
        self._nodes = nodes
        self._num_leaves = num_leaves
        self._hash = None

    # -- basic properties ---------------------------------------------------------------

    @property
    def num_leaves(self) -> int:
        """Number of leaves of the structure."""
        return self._num_leaves

    @property
    def num_nodes(self) -> int:
        """Number of nodes (containers and leaves) of the structure."""
        return len(self._nodes)

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(other) is not PyTreeDef:
            return NotImplemented
        return self._nodes == other._nodes

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            try:
                h = hash(self._nodes)
            except TypeError:
                # A custom node's auxiliary data that cannot be hashed (a dict, as in JAX's
                # docs): the hash leaves it out, equality still compares it, as in JAX.
                h = hash(tuple(r if r is None or _hashable(r[3]) else r[:3] for r in self._nodes))
            self._hash = h
        return h

    def __reduce__(self) -> tuple[Any, ...]:
        return (PyTreeDef, (self._nodes, self._num_leaves))

    def __copy__(self) -> PyTreeDef:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> PyTreeDef:
        return self

    def __repr__(self) -> str:
        return f"PyTreeDef({self._body_str()})"

    __str__ = __repr__

    def _body_str(self) -> str:
        stack: list[str] = []
        push = stack.append
        for record in reversed(self._nodes):
            if record is None:
                push("*")
                continue
            kind, n, t, aux = record
            if n:
                children = stack[-n:]
                del stack[-n:]
                children.reverse()
            else:
                children = []
            if kind == _TUPLE:
                push("(" + ", ".join(children) + ("," if n == 1 else "") + ")")
            elif kind == _LIST:
                push("[" + ", ".join(children) + "]")
            elif kind == _DICT:
                push("{" + ", ".join(f"{k!r}: {c}" for k, c in zip(aux, children)) + "}")
            elif kind == _NONE:
                push("None")
            elif kind == _NAMEDTUPLE:
                fields = t._fields  # type: ignore[attr-defined]
                items = ", ".join(f"{f}={c}" for f, c in zip(fields, children))
                push(f"{t.__name__}({items})")
            elif kind == _ORDEREDDICT:
                items = ", ".join(f"{k!r}: {c}" for k, c in zip(aux, children))
                push(f"OrderedDict({{{items}}})")
            elif kind == _DEFAULTDICT:
                items = ", ".join(f"{k!r}: {c}" for k, c in zip(aux[1], children))
                push(f"defaultdict({aux[0]!r}, {{{items}}})")
            else:
                push(f"CustomNode({t.__name__}[{aux!r}], [{', '.join(children)}])")
        return stack[0]

    # -- conversions --------------------------------------------------------------------

    def unflatten(self, leaves: Iterable[Any]) -> Any:
        """Builds a pytree of this structure from its leaves (in flattening order).

        **Arguments**

        - `leaves`: an iterable of exactly `num_leaves` leaves.

        **Returns**

        The pytree.

        **Raises**

        `ValueError` if the number of leaves is wrong.

        **Example**

        ```python
        >>> from funcdiff.tree_util import tree_structure
        >>> tree_structure([0, (0, 0)]).unflatten("abc")
        ['a', ('b', 'c')]

        ```
        """
        seq = leaves if isinstance(leaves, (list, tuple)) else list(leaves)
        if len(seq) != self._num_leaves:
            self._raise_leaf_count(len(seq))
        return _unflatten(self._nodes, seq)

    def _raise_leaf_count(self, given: int) -> NoReturn:
        expected = self._num_leaves
        raise ValueError(
            f"Too {'few' if given < expected else 'many'} leaves for "
            f"{_short_repr(self)}; expected {expected}, got {given}."
        )

    def flatten_up_to(self, tree: Any) -> list[Any]:
        """Flattens `tree` up to this structure, which must be a prefix of its structure.

        Each leaf position of this treedef takes the whole corresponding subtree of
        `tree`, whatever it is.

        **Arguments**

        - `tree`: a pytree whose structure has this treedef as a prefix.

        **Returns**

        A list of `num_leaves` subtrees of `tree`.

        **Raises**

        `ValueError` naming the mismatch, its key path and both structures if `tree`
        does not match.

        **Example**

        ```python
        >>> from funcdiff.tree_util import tree_structure
        >>> tree_structure((0, 0)).flatten_up_to(([1, 2], {"x": 3}))
        [[1, 2], {'x': 3}]

        ```
        """
        out: list[Any] = []
        add = out.append
        stack = [tree]
        pop, extend = stack.pop, stack.extend
        try:
            for record in self._nodes:
                x = pop()
                if record is None:
                    add(x)
                    continue
                kind = record[0]
                t = type(x)
                same_sequence_type = (kind == _TUPLE and t is tuple) or (
                    kind == _LIST and t is list
                )
                if same_sequence_type and len(x) == record[1]:
                    extend(x[::-1])
                elif kind == _DICT and t is dict and len(x) == record[1]:
                    try:
                        extend(map(x.__getitem__, reversed(record[3])))
                    except KeyError:
                        extend(_match_children(record, x)[::-1])
                else:
                    extend(_match_children(record, x)[::-1])
        except _MismatchError:
            self._raise_mismatch(tree)
        return out

    def _raise_mismatch(self, tree: Any) -> NoReturn:
        """Walks `tree` again tracking key paths and raises a descriptive ValueError."""
        try:
            _flatten_with_path(tree, None, guide=self._nodes)
        except _MismatchError as e:
            # The walk stopped at the mismatching node; its path is the one popped last.
            where = f"at key path {keystr(e.args[1])}" if e.args[1] else "at the tree root"
            try:
                actual = _short_repr(tree_structure(tree))
            except (TypeError, ValueError, AttributeError, KeyError, IndexError):
                # A custom flatten function that cannot handle some subtree.
                actual = f"<cannot be flattened: {_short_repr(tree)}>"
            raise ValueError(
                f"{e.args[0]} {where}.\n"
                f"Expected a pytree matching (a prefix of) {_short_repr(self)},\n"
                f"got a pytree with structure {actual}."
            ) from None
        raise AssertionError("no mismatch found")  # pragma: no cover

    # -- structure queries ---------------------------------------------------------------

    def children(self) -> list[PyTreeDef]:
        """Treedefs of the immediate children of the root node.

        **Returns**

        A list of `PyTreeDef`s (empty for a leaf or for `None`).

        **Example**

        ```python
        >>> from funcdiff.tree_util import tree_structure
        >>> tree_structure([(1, 2), 3, {"a": 4}]).children()
        [PyTreeDef((*, *)), PyTreeDef(*), PyTreeDef({'a': *})]

        ```
        """
        nodes = self._nodes
        root = nodes[0]
        if root is None:
            return []
        out: list[PyTreeDef] = []
        start = 1
        for _ in range(root[1]):
            end = start
            pending = 1
            leaves = 0
            while pending:
                record = nodes[end]
                end += 1
                if record is None:
                    pending -= 1
                    leaves += 1
                else:
                    pending += record[1] - 1
            out.append(PyTreeDef(nodes[start:end], leaves))
            start = end
        return out

    def node_data(self) -> tuple[type, Any] | None:
        """The root node's type and aux data.

        **Returns**

        `None` for a leaf, else `(node_type, aux_data)`: `aux_data` is `None` for tuples,
        lists, `None` and namedtuples, the tuple of keys for dicts and `OrderedDict`s,
        `(default_factory, keys)` for `defaultdict`s, and the flatten function's aux data
        for custom nodes.

        **Example**

        ```python
        >>> from funcdiff.tree_util import tree_structure
        >>> tree_structure({"b": 1, "a": 2}).node_data()
        (<class 'dict'>, ('a', 'b'))

        ```
        """
        root = self._nodes[0]
        if root is None:
            return None
        return root[2], root[3]

    def compose(self, inner: PyTreeDef) -> PyTreeDef:
        """The structure obtained by replacing every leaf of `self` with `inner`.

        **Arguments**

        - `inner`: the treedef to put at each leaf.

        **Returns**

        The composed `PyTreeDef`.

        **Example**

        ```python
        >>> from funcdiff.tree_util import tree_structure
        >>> tree_structure([0, 0]).compose(tree_structure((0, 0)))
        PyTreeDef([(*, *), (*, *)])

        ```
        """
        nodes: list[_Record] = []
        for record in self._nodes:
            if record is None:
                nodes.extend(inner._nodes)
            else:
                nodes.append(record)
        return PyTreeDef(tuple(nodes), self._num_leaves * inner._num_leaves)


# ---------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------


def tree_flatten(
    tree: Any, is_leaf: Callable[[Any], bool] | None = None
) -> tuple[list[Any], PyTreeDef]:
    """Flattens a pytree into its leaves and its structure.

    Leaves are listed in depth-first, left-to-right order; dict children are ordered by
    sorted keys.

    **Arguments**

    - `tree`: the pytree to flatten.
    - `is_leaf`: optional predicate called on every subtree before it is flattened; when
      it returns `True` the subtree is treated as a leaf.

    **Returns**

    A pair `(leaves, treedef)`.

    **Example**

    ```python
    >>> from funcdiff.tree_util import tree_flatten
    >>> leaves, treedef = tree_flatten({"b": [1, 2], "a": None, "c": 3})
    >>> leaves
    [1, 2, 3]
    >>> treedef
    PyTreeDef({'a': None, 'b': [*, *], 'c': *})

    ```
    """
    leaves, nodes = _flatten(tree, is_leaf)
    return leaves, PyTreeDef(tuple(nodes), len(leaves))


def tree_unflatten(treedef: PyTreeDef, leaves: Iterable[Any]) -> Any:
    """Builds a pytree from a structure and leaves; the inverse of `tree_flatten`.

    **Arguments**

    - `treedef`: the structure, as returned by `tree_flatten` or `tree_structure`.
    - `leaves`: an iterable of exactly `treedef.num_leaves` leaves.

    **Returns**

    The pytree.

    **Raises**

    `ValueError` saying how many leaves were expected and given if the count is wrong.

    **Example**

    ```python
    >>> from funcdiff.tree_util import tree_flatten, tree_unflatten
    >>> leaves, treedef = tree_flatten({"a": 1, "b": (2, 3)})
    >>> tree_unflatten(treedef, [x * 10 for x in leaves])
    {'a': 10, 'b': (20, 30)}

    ```
    """
    return treedef.unflatten(leaves)


def tree_leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list[Any]:
    """The leaves of a pytree, in flattening order.

    **Arguments**

    - `tree`: the pytree.
    - `is_leaf`: optional predicate marking subtrees to treat as leaves.

    **Returns**

    The list of leaves.

    **Example**

    ```python
    >>> from funcdiff.tree_util import tree_leaves
    >>> tree_leaves([1, (2, None), {"x": 3}])
    [1, 2, 3]

    ```
    """
    return _flatten(tree, is_leaf)[0]


def tree_structure(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> PyTreeDef:
    """The structure (`PyTreeDef`) of a pytree.

    **Arguments**

    - `tree`: the pytree.
    - `is_leaf`: optional predicate marking subtrees to treat as leaves.

    **Returns**

    Its `PyTreeDef`.

    **Example**

    ```python
    >>> from funcdiff.tree_util import tree_structure
    >>> tree_structure([1, (2, 3), [4, 5]])
    PyTreeDef([*, (*, *), [*, *]])

    ```
    """
    leaves, nodes = _flatten(tree, is_leaf)
    return PyTreeDef(tuple(nodes), len(leaves))


def tree_map(
    f: Callable[..., Any],
    tree: Any,
    *rest: Any,
    is_leaf: Callable[[Any], bool] | None = None,
) -> Any:
    """Applies a function to the leaves of one or more pytrees of the same structure.

    **Arguments**

    - `f`: function called as `f(x, *xs)` for each leaf `x` of `tree` and the
      corresponding subtrees `xs` of `rest`.
    - `tree`: the pytree giving the structure of the result.
    - `*rest`: more pytrees, each with the structure of `tree` or with `tree`'s
      structure as a prefix (a subtree of them stands in for a leaf of `tree`).
    - `is_leaf`: optional predicate marking subtrees of `tree` to treat as leaves.

    **Returns**

    A pytree of the structure of `tree` holding the results of `f`.

    **Raises**

    `ValueError` naming both structures and the key path of the first difference when
    a tree of `rest` does not match.

    **Example**

    ```python
    >>> from funcdiff.tree_util import tree_map
    >>> tree_map(lambda x, y: x + y, {"a": 1, "b": (2, 3)}, {"a": 10, "b": (20, 30)})
    {'a': 11, 'b': (22, 33)}

    ```
    """
    leaves, nodes = _flatten(tree, is_leaf)
    if not rest:
        return _unflatten(tuple(nodes), [f(x) for x in leaves])
    treedef = PyTreeDef(tuple(nodes), len(leaves))
    others = [treedef.flatten_up_to(r) for r in rest]
    return _unflatten(treedef._nodes, [f(*xs) for xs in zip(leaves, *others)])


def tree_flatten_with_path(
    tree: Any,
    is_leaf: Callable[..., bool] | None = None,
    is_leaf_takes_path: bool = False,
) -> tuple[list[tuple[KeyPath, Any]], PyTreeDef]:
    """Flattens a pytree, also giving the key path of each leaf.

    **Arguments**

    - `tree`: the pytree.
    - `is_leaf`: optional predicate marking subtrees to treat as leaves, called as
      `is_leaf(x)`, or as `is_leaf(path, x)` if `is_leaf_takes_path` is true.
    - `is_leaf_takes_path`: whether `is_leaf` takes the key path as first argument.

    **Returns**

    A pair `(path_leaf_pairs, treedef)`; the treedef equals `tree_structure(tree)`.

    **Example**

    ```python
    >>> from funcdiff.tree_util import keystr, tree_flatten_with_path
    >>> pairs, treedef = tree_flatten_with_path({"a": [1, 2]})
    >>> [(keystr(path), leaf) for path, leaf in pairs]
    [("['a'][0]", 1), ("['a'][1]", 2)]

    ```
    """
    pairs, nodes = _flatten_with_path(tree, is_leaf, is_leaf_takes_path)
    return pairs, PyTreeDef(tuple(nodes), len(pairs))


def tree_leaves_with_path(
    tree: Any,
    is_leaf: Callable[..., bool] | None = None,
    is_leaf_takes_path: bool = False,
) -> list[tuple[KeyPath, Any]]:
    """The `(key_path, leaf)` pairs of a pytree, in flattening order.

    **Arguments**

    - `tree`: the pytree.
    - `is_leaf`: optional predicate marking subtrees to treat as leaves.
    - `is_leaf_takes_path`: whether `is_leaf` is called as `is_leaf(path, x)`.

    **Returns**

    The list of `(key_path, leaf)` pairs.

    **Example**

    ```python
    >>> from funcdiff.tree_util import tree_leaves_with_path
    >>> tree_leaves_with_path((5, [6]))
    [((SequenceKey(idx=0),), 5), ((SequenceKey(idx=1), SequenceKey(idx=0)), 6)]

    ```
    """
    return _flatten_with_path(tree, is_leaf, is_leaf_takes_path)[0]


def tree_map_with_path(
    f: Callable[..., Any],
    tree: Any,
    *rest: Any,
    is_leaf: Callable[..., bool] | None = None,
    is_leaf_takes_path: bool = False,
) -> Any:
    """Like `tree_map`, passing each leaf's key path to `f` as first argument.

    **Arguments**

    - `f`: function called as `f(path, x, *xs)`.
    - `tree`: the pytree giving the structure of the result.
    - `*rest`: more pytrees with `tree`'s structure as a prefix.
    - `is_leaf`: optional predicate marking subtrees of `tree` to treat as leaves.
    - `is_leaf_takes_path`: whether `is_leaf` is called as `is_leaf(path, x)`.

    **Returns**

    A pytree of the structure of `tree` holding the results of `f`.

    **Example**

    ```python
    >>> from funcdiff.tree_util import keystr, tree_map_with_path
    >>> tree_map_with_path(lambda p, x: f"{keystr(p)}={x}", {"a": 1, "b": [2]})
    {'a': "['a']=1", 'b': ["['b'][0]=2"]}

    ```
    """
    pairs, nodes = _flatten_with_path(tree, is_leaf, is_leaf_takes_path)
    treedef = PyTreeDef(tuple(nodes), len(pairs))
    if not rest:
        return _unflatten(treedef._nodes, [f(p, x) for p, x in pairs])
    others = [treedef.flatten_up_to(r) for r in rest]
    return _unflatten(treedef._nodes, [f(p, x, *xs) for (p, x), *xs in zip(pairs, *others)])
