"""Pytree utilities: flatten, unflatten and map over nested containers.

A *pytree* is a nested structure of containers (tuples, lists, dicts, `None`,
namedtuples, `OrderedDict`, `defaultdict` and any registered custom type) whose
non-container elements are *leaves*. Anything that is not a registered node type is a
leaf: numpy arrays, Python scalars, tracers, arbitrary objects. Subclasses of registered
types are leaves unless they are registered themselves (namedtuples are the exception:
every tuple subclass with `_fields` is a namedtuple node).

The names and semantics mirror `jax.tree_util`.

Implementation notes:

- A `PyTreeDef` stores its nodes as a flat tuple in pre-order (a node comes before its
  children). A leaf is the record `None`; a container is the record
  `(kind, arity, node_type, aux_data)`. Equality and hashing therefore compare one flat
  tuple: they never recurse, are fast, and include node types, aux data and dict keys.
- Flattening, unflattening, `flatten_up_to` and string conversion use explicit stacks,
  never Python recursion, so arbitrarily deep trees (e.g. a list nested 5000 levels deep)
  never raise `RecursionError`.
- Node kinds are dispatched through a dict keyed by the exact type, with fast inline
  paths for tuples, lists and dicts.
"""

from __future__ import annotations

import dataclasses
import functools
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


def _attr_tuple_getter(names: Sequence[str]) -> Callable[[Any], tuple[Any, ...]]:
    """A fast function returning the tuple of the given attributes of an object."""
    if not names:
        return lambda obj: ()
    if len(names) == 1:
        get_one = operator.attrgetter(names[0])
        return lambda obj: (get_one(obj),)
    return operator.attrgetter(*names)


def register_dataclass(
    nodetype: _TypeT,
    data_fields: Sequence[str] | None = None,
    meta_fields: Sequence[str] | None = None,
    drop_fields: Sequence[str] = (),
) -> _TypeT:
    """Registers a dataclass-like type as a pytree node; usable as a class decorator.

    Data fields are the node's children (traced, differentiated, mapped over); meta
    fields are static and stored in the `PyTreeDef` (they must be hashable). Nodes are
    rebuilt by calling `nodetype(**fields)`.

    **Arguments**

    - `nodetype`: the class. If `data_fields` and `meta_fields` are both omitted it must
      be a `dataclasses.dataclass`: fields declared with
      `dataclasses.field(metadata=dict(static=True))` are meta fields, the other fields
      with `init=True` are data fields.
    - `data_fields`: names of the data (child) attributes.
    - `meta_fields`: names of the static attributes.
    - `drop_fields`: names of dataclass fields that are neither (they are not stored and
      not passed back to the constructor, so they need defaults).

    **Returns**

    `nodetype` itself, so this can be used as a decorator.

    **Raises**

    `TypeError` if only one of `data_fields`/`meta_fields` is given, or both are omitted
    for a class that is not a dataclass; `ValueError` if the fields given for a dataclass
    do not cover exactly its `init=True` fields, or if the type is already registered.

    **Example**

    ```python
    >>> import dataclasses
    >>> from funcdiff import tree_util
    >>> @tree_util.register_dataclass
    ... @dataclasses.dataclass
    ... class Layer:
    ...     w: float
    ...     b: float
    ...     act: str = dataclasses.field(default="relu", metadata=dict(static=True))
    >>> leaves, treedef = tree_util.tree_flatten(Layer(1.0, 2.0))
    >>> leaves, treedef
    ([1.0, 2.0], PyTreeDef(CustomNode(Layer[('relu',)], [*, *])))

    ```
    """
    drop = list(drop_fields)
    if data_fields is None and meta_fields is None:
        if not dataclasses.is_dataclass(nodetype):
            raise TypeError(
                "register_dataclass: data_fields and meta_fields are required when "
                f"nodetype is not a dataclass; got nodetype={nodetype!r}."
            )
        data: list[str] = []
        meta: list[str] = []
        for field in dataclasses.fields(nodetype):
            if not field.init or field.name in drop:
                continue
            (meta if field.metadata.get("static", False) else data).append(field.name)
    elif data_fields is None or meta_fields is None:
        raise TypeError(
            "register_dataclass: data_fields and meta_fields must both be given or both "
            f"omitted; got data_fields={data_fields!r}, meta_fields={meta_fields!r}."
        )
    else:
        data = list(data_fields)
        meta = list(meta_fields)
        overlap = set(data) & set(meta)
        if overlap:
            raise ValueError(
                f"register_dataclass: fields {sorted(overlap)} of {nodetype!r} are listed "
                "both as data_fields and meta_fields."
            )
        if dataclasses.is_dataclass(nodetype):
            init_fields = {f.name for f in dataclasses.fields(nodetype) if f.init}
            init_fields.difference_update(drop)
            given = set(data) | set(meta)
            if given != init_fields:
                raise ValueError(
                    "register_dataclass: data_fields and meta_fields must list exactly the "
                    f"init=True fields of {nodetype!r} (minus drop_fields); missing: "
                    f"{sorted(init_fields - given)}, unexpected: {sorted(given - init_fields)}."
                )

    get_data = _attr_tuple_getter(data)
    get_meta = _attr_tuple_getter(meta)
    data_keys = tuple(GetAttrKey(name) for name in data)
    data_names = tuple(data)
    meta_names = tuple(meta)

    def flatten(node: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        return get_data(node), get_meta(node)

    def flatten_with_keys(node: Any) -> tuple[KeyLeafPairs, tuple[Any, ...]]:
        return tuple(zip(data_keys, get_data(node))), get_meta(node)

    def unflatten(meta_values: tuple[Any, ...], children: Iterable[Any]) -> Any:
        kwargs = dict(zip(meta_names, meta_values))
        kwargs.update(zip(data_names, children))
        return nodetype(**kwargs)

    _register(_NodeSpec(nodetype, flatten, unflatten, flatten_with_keys))
    return nodetype


def register_static(cls: _TypeT) -> _TypeT:
    """Registers a type whose instances are pytree nodes with no children.

    The whole instance is stored as static aux data in the `PyTreeDef`, so instances must
    be hashable and comparable with `==`. Usable as a class decorator.

    **Arguments**

    - `cls`: the class to register.

    **Returns**

    `cls` itself.

    **Example**

    ```python
    >>> from funcdiff import tree_util
    >>> @tree_util.register_static
    ... class Config(str):
    ...     pass
    >>> tree_util.tree_leaves([Config("fast"), 1.0])
    [1.0]

    ```
    """
    register_pytree_node(cls, lambda obj: ((), obj), lambda obj, _: obj)
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
    """Record, child keys and children of a container node."""
    keys: Sequence[KeyEntry]
    if kind == _CUSTOM:
        spec = _CUSTOM_NODES[t]
        if spec.flatten_with_keys is not None:
            keyed, aux = spec.flatten_with_keys(x)
            pairs = list(keyed)
            keys = [k for k, _ in pairs]
            return (_CUSTOM, len(pairs), t, aux), keys, [c for _, c in pairs]
        record, children = _node_children(x, kind, t)
        return record, [FlattenedIndexKey(i) for i in range(len(children))], children
    record, children = _node_children(x, kind, t)
    if kind in (_TUPLE, _LIST):
        keys = [SequenceKey(i) for i in range(len(children))]
    elif kind == _NAMEDTUPLE:
        keys = [GetAttrKey(name) for name in t._fields]  # type: ignore[attr-defined]
    elif kind == _DEFAULTDICT:
        keys = [DictKey(k) for k in record[3][1]]
    elif kind == _NONE:
        keys = ()
    else:  # dict, OrderedDict
        keys = [DictKey(k) for k in record[3]]
    return record, keys, children


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


# ---------------------------------------------------------------------------------------
# Flatten / unflatten cores
# ---------------------------------------------------------------------------------------


def _raise_too_many_nodes() -> NoReturn:
    raise ValueError(f"Pytree has more than {_MAX_NODES} nodes; does it contain a reference cycle?")


def _flatten(tree: Any, is_leaf: Callable[[Any], bool] | None) -> tuple[list[Any], list[_Record]]:
    """Pre-order iterative flatten: returns (leaves, node records)."""
    leaves: list[Any] = []
    nodes: list[_Record] = []
    add_leaf = leaves.append
    add_node = nodes.append
    stack = [tree]
    pop = stack.pop
    extend = stack.extend
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
            # Fast path: a container whose children are all (already classified) leaves.
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
    tree: Any, is_leaf: Callable[..., bool] | None, is_leaf_takes_path: bool
) -> tuple[list[tuple[KeyPath, Any]], list[_Record]]:
    """Like `_flatten`, also computing the key path of each leaf."""
    leaves: list[tuple[KeyPath, Any]] = []
    nodes: list[_Record] = []
    stack: list[tuple[Any, KeyPath]] = [(tree, ())]
    pop = stack.pop
    push = stack.append
    while stack:
        x, path = pop()
        if is_leaf is not None and (is_leaf(path, x) if is_leaf_takes_path else is_leaf(x)):
            leaves.append((path, x))
            nodes.append(None)
            continue
        t = type(x)
        kind = _kind_of(t)
        if not kind:
            leaves.append((path, x))
            nodes.append(None)
            continue
        record, keys, children = _node_keyed_children(x, kind, t)
        nodes.append(record)
        if len(nodes) > _MAX_NODES:
            _raise_too_many_nodes()
        for i in range(len(children) - 1, -1, -1):
            push((children[i], (*path, keys[i])))
    return leaves, nodes


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


class _MismatchError(Exception):
    """Internal: raised by `_match_children` when a tree does not match a record."""


def _match_children(record: tuple[int, int, type, Any], x: Any) -> Sequence[Any]:
    """Children of `x` if it matches the container `record`, else raises `_MismatchError`."""
    kind, n, t, aux = record
    actual_type: type = type(x)
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
    if kind in (_TUPLE, _LIST):
        return [SequenceKey(i) for i in range(n)]
    if kind == _NAMEDTUPLE:
        return [GetAttrKey(name) for name in t._fields]  # type: ignore[attr-defined]
    if kind in (_DICT, _ORDEREDDICT):
        return [DictKey(k) for k in aux]
    if kind == _DEFAULTDICT:
        return [DictKey(k) for k in aux[1]]
    if kind == _NONE:
        return ()
    spec = _CUSTOM_NODES[t]
    if spec.flatten_with_keys is not None:
        return [k for k, _ in spec.flatten_with_keys(x)[0]]
    return [FlattenedIndexKey(i) for i in range(n)]


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
            h = self._hash = hash(self._nodes)
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
        pop = stack.pop
        extend = stack.extend
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
                    children = _match_children(record, x)
                    extend(children[::-1])
        except _MismatchError:
            self._raise_mismatch(tree)
        return out

    def _raise_mismatch(self, tree: Any) -> NoReturn:
        """Re-walks `tree` tracking key paths and raises a descriptive ValueError."""
        stack: list[tuple[Any, KeyPath]] = [(tree, ())]
        for record in self._nodes:
            x, path = stack.pop()
            if record is None:
                continue
            try:
                children = _match_children(record, x)
            except _MismatchError as e:
                where = f"at key path {keystr(path)}" if path else "at the tree root"
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
            keys = _child_keys(record, x)
            for i in range(len(children) - 1, -1, -1):
                stack.append((children[i], (*path, keys[i])))
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


_MISSING: Final = object()


def tree_reduce(
    function: Callable[[Any, Any], Any],
    tree: Any,
    initializer: Any = _MISSING,
    is_leaf: Callable[[Any], bool] | None = None,
) -> Any:
    """Reduces the leaves of a pytree with a binary function, like `functools.reduce`.

    **Arguments**

    - `function`: binary function `function(accumulated, leaf)`.
    - `tree`: the pytree.
    - `initializer`: optional starting value.
    - `is_leaf`: optional predicate marking subtrees to treat as leaves.

    **Returns**

    The reduced value.

    **Raises**

    `TypeError` if the tree has no leaves and no `initializer` is given.

    **Example**

    ```python
    >>> import operator
    >>> from funcdiff.tree_util import tree_reduce
    >>> tree_reduce(operator.add, [1, (2, 3), {"a": 4}])
    10
    >>> tree_reduce(operator.add, (), 0)
    0

    ```
    """
    leaves = _flatten(tree, is_leaf)[0]
    if initializer is _MISSING:
        return functools.reduce(function, leaves)
    return functools.reduce(function, leaves, initializer)


def tree_all(tree: Any, *, is_leaf: Callable[[Any], bool] | None = None) -> bool:
    """Whether all leaves of a pytree are truthy.

    **Arguments**

    - `tree`: the pytree.
    - `is_leaf`: optional predicate marking subtrees to treat as leaves.

    **Returns**

    `all(tree_leaves(tree))`: `True` for a tree without leaves.

    **Example**

    ```python
    >>> from funcdiff.tree_util import tree_all
    >>> tree_all([True, {"a": 1}]), tree_all([True, (0,)]), tree_all([])
    (True, False, True)

    ```
    """
    return all(_flatten(tree, is_leaf)[0])


def tree_transpose(
    outer_treedef: PyTreeDef, inner_treedef: PyTreeDef | None, pytree_to_transpose: Any
) -> Any:
    """Turns a tree of trees inside out: an outer structure of inner structures becomes an
    inner structure of outer structures.

    **Arguments**

    - `outer_treedef`: the structure of the outer tree.
    - `inner_treedef`: the structure of each inner tree, or `None` to use the structure
      of the first inner tree.
    - `pytree_to_transpose`: a tree of structure `outer_treedef` whose leaves are trees
      of structure `inner_treedef`.

    **Returns**

    A tree of structure `inner_treedef` whose leaves are trees of structure
    `outer_treedef`. Structures are matched like `PyTreeDef.flatten_up_to`, so a leaf of
    `inner_treedef` may stand for a whole subtree, which is moved as one piece.

    **Raises**

    `TypeError` if `pytree_to_transpose` does not have the structure
    `outer_treedef.compose(inner_treedef)`.

    **Example**

    ```python
    >>> from funcdiff.tree_util import tree_structure, tree_transpose
    >>> outer = tree_structure([0, 0])
    >>> inner = tree_structure({"a": 0, "b": 0})
    >>> tree_transpose(outer, inner, [{"a": 1, "b": 2}, {"a": 3, "b": 4}])
    {'a': [1, 3], 'b': [2, 4]}

    ```
    """
    try:
        inner_trees = outer_treedef.flatten_up_to(pytree_to_transpose)
        if inner_treedef is None:
            if not inner_trees:
                raise ValueError(
                    "tree_transpose: inner_treedef=None needs an outer tree with at least "
                    "one leaf to infer the inner structure from."
                )
            inner_treedef = tree_structure(inner_trees[0])
        columns = [inner_treedef.flatten_up_to(sub) for sub in inner_trees]
    except ValueError as e:
        expected = (
            outer_treedef.compose(inner_treedef) if inner_treedef is not None else outer_treedef
        )
        raise TypeError(
            f"tree_transpose: the tree does not have the structure {_short_repr(expected)}: {e}"
        ) from None
    n_inner = inner_treedef.num_leaves
    if not columns:
        return _unflatten(
            inner_treedef._nodes, [outer_treedef.unflatten(()) for _ in range(n_inner)]
        )
    outer_nodes = outer_treedef._nodes
    return _unflatten(inner_treedef._nodes, [_unflatten(outer_nodes, row) for row in zip(*columns)])


def all_leaves(iterable: Iterable[Any], is_leaf: Callable[[Any], bool] | None = None) -> bool:
    """Whether every element of an iterable is a leaf (not a pytree node).

    **Arguments**

    - `iterable`: the elements to test.
    - `is_leaf`: optional predicate marking values to treat as leaves.

    **Returns**

    `True` if no element is a container (note that `None` is a container).

    **Example**

    ```python
    >>> from funcdiff.tree_util import all_leaves
    >>> all_leaves([1.0, "a", object()]), all_leaves([1.0, (2.0,)]), all_leaves([None])
    (True, False, False)

    ```
    """
    kinds_get = _KINDS.get
    for x in iterable:
        if is_leaf is not None and is_leaf(x):
            continue
        t = type(x)
        kind = kinds_get(t)
        if kind is None:
            kind = _classify(t)
        if kind:
            return False
    return True


def treedef_is_leaf(treedef: PyTreeDef) -> bool:
    """Whether a treedef has a single node (a leaf, `None`, or an empty container).

    **Arguments**

    - `treedef`: the structure.

    **Returns**

    `treedef.num_nodes == 1`.

    **Example**

    ```python
    >>> from funcdiff.tree_util import tree_structure, treedef_is_leaf
    >>> treedef_is_leaf(tree_structure(1.0)), treedef_is_leaf(tree_structure([1.0]))
    (True, False)

    ```
    """
    return len(treedef._nodes) == 1


def treedef_is_strict_leaf(treedef: PyTreeDef) -> bool:
    """Whether a treedef is exactly one leaf (unlike `treedef_is_leaf`, `None` and empty
    containers are not).

    **Arguments**

    - `treedef`: the structure.

    **Returns**

    `True` if `treedef` is the structure of a single leaf.

    **Example**

    ```python
    >>> from funcdiff.tree_util import tree_structure, treedef_is_strict_leaf
    >>> treedef_is_strict_leaf(tree_structure(1.0)), treedef_is_strict_leaf(tree_structure(None))
    (True, False)

    ```
    """
    return treedef._nodes == (None,)


def treedef_children(treedef: PyTreeDef) -> list[PyTreeDef]:
    """Treedefs of the immediate children of a treedef's root.

    **Arguments**

    - `treedef`: the structure.

    **Returns**

    `treedef.children()`.

    **Example**

    ```python
    >>> from funcdiff.tree_util import tree_structure, treedef_children
    >>> treedef_children(tree_structure({"a": (1, 2), "b": 3}))
    [PyTreeDef((*, *)), PyTreeDef(*)]

    ```
    """
    return treedef.children()


def treedef_tuple(treedefs: Iterable[PyTreeDef]) -> PyTreeDef:
    """The treedef of a tuple whose elements have the given structures.

    **Arguments**

    - `treedefs`: the structures of the tuple's elements.

    **Returns**

    The tuple's `PyTreeDef`.

    **Example**

    ```python
    >>> from funcdiff.tree_util import tree_structure, treedef_tuple
    >>> treedef_tuple([tree_structure([1, 2]), tree_structure(3)])
    PyTreeDef(([*, *], *))

    ```
    """
    treedefs = list(treedefs)
    n = len(treedefs)
    nodes: list[_Record] = [_TUPLE_RECORDS[n] if n < _SMALL else (_TUPLE, n, tuple, None)]
    for td in treedefs:
        nodes.extend(td._nodes)
    return PyTreeDef(tuple(nodes), sum(td._num_leaves for td in treedefs))


# ---------------------------------------------------------------------------------------
# Partial
# ---------------------------------------------------------------------------------------


class _OpaqueCallable:
    """Wraps a `functools.partial` used as the function of a `Partial`.

    `functools.partial` merges a partial passed as its function into the new object,
    which would turn the inner partial's arguments into pytree children of the `Partial`.
    Wrapping keeps the inner partial whole, as static data.
    """

    __slots__ = ("__wrapped__",)

    def __init__(self, func: Callable[..., Any]) -> None:
        self.__wrapped__ = func

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.__wrapped__(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _OpaqueCallable):
            return bool(self.__wrapped__ == other.__wrapped__)
        return bool(self.__wrapped__ == other)

    def __hash__(self) -> int:
        return hash(self.__wrapped__)

    def __repr__(self) -> str:
        return repr(self.__wrapped__)


class Partial(functools.partial[T]):
    """A `functools.partial` that is a pytree: its positional and keyword arguments are
    its children and its function is static aux data.

    Use it to pass a function with bound array arguments through transformations: the
    arguments are traced and differentiated, the function is part of the structure. If
    the function is itself a `functools.partial`, it is kept whole as static data.

    **Arguments**

    - `func`: the function (static).
    - `*args`, `**kwargs`: arguments to bind (pytree children).

    **Example**

    ```python
    >>> import operator
    >>> from funcdiff.tree_util import Partial, tree_leaves, tree_map
    >>> add_one = Partial(operator.add, 1)
    >>> tree_leaves(add_one)
    [1]
    >>> add_ten = tree_map(lambda x: x * 10, add_one)
    >>> add_ten(5)
    15

    ```
    """

    def __new__(cls, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> Partial[T]:
        if isinstance(func, functools.partial):
            func = _OpaqueCallable(func)
        return super().__new__(cls, func, *args, **kwargs)


def _partial_flatten_with_keys(
    p: Partial[Any],
) -> tuple[tuple[tuple[GetAttrKey, Any], ...], Callable[..., Any]]:
    return ((_ARGS_KEY, p.args), (_KEYWORDS_KEY, p.keywords)), p.func


def _partial_unflatten(func: Callable[..., Any], children: Iterable[Any]) -> Partial[Any]:
    args, keywords = children
    return Partial(func, *args, **keywords)


_ARGS_KEY: Final = GetAttrKey("args")
_KEYWORDS_KEY: Final = GetAttrKey("keywords")

register_pytree_with_keys(
    Partial,
    _partial_flatten_with_keys,
    _partial_unflatten,
    lambda p: ((p.args, p.keywords), p.func),
)


def tree_broadcast(
    prefix_tree: Any, full_tree: Any, is_leaf: Callable[[Any], bool] | None = None
) -> Any:
    """Broadcasts a prefix of `full_tree` to the whole of its structure: each leaf of
    `prefix_tree` is repeated at every leaf of the matching subtree of `full_tree`.

    **Example**

    ```python
    >>> from funcdiff.tree_util import tree_broadcast
    >>> tree_broadcast((1, 2, 3), (0, {"a": 0, "b": 0}, (0, 0)))
    (1, {'a': 2, 'b': 2}, (3, 3))

    ```
    """
    return tree_map(
        lambda p, sub: tree_map(lambda _: p, sub, is_leaf=is_leaf),
        prefix_tree,
        full_tree,
        is_leaf=is_leaf,
    )


def tree_reduce_associative(
    operation: Callable[[Any, Any], Any],
    tree: Any,
    *,
    identity: Any = _MISSING,
    is_leaf: Callable[[Any], bool] | None = None,
) -> Any:
    """Reduces the leaves of a pytree with an associative binary operation, pairing
    neighbours level by level (depth logarithmic in the number of leaves, as JAX's).

    `identity` is returned for a tree without leaves; without it, such a tree raises.

    **Example**

    ```python
    >>> import operator
    >>> from funcdiff.tree_util import tree_reduce_associative
    >>> tree_reduce_associative(operator.add, [1, (2, 3), {"a": 4}])
    10
    >>> tree_reduce_associative(operator.add, [], identity=0)
    0

    ```
    """
    level = _flatten(tree, is_leaf)[0]
    if not level:
        if identity is _MISSING:
            raise TypeError(
                "tree_reduce_associative: the tree has no leaves; pass identity= to reduce "
                "an empty tree."
            )
        return identity
    while len(level) > 1:
        paired = [operation(a, b) for a, b in zip(level[::2], level[1::2])]
        level = paired + level[len(paired) * 2 :]
    return level[0]
