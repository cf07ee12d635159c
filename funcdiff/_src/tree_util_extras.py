# Over 600 lines: the rest of jax.tree_util, one block per function, half docstrings.
"""The rest of `jax.tree_util`, built on the pytree core (`tree_util.py`).

Conveniences that the library itself does not use: `register_dataclass` and
`register_static` (two ways of registering a node type), `tree_reduce`, `tree_all`,
`tree_transpose`, `all_leaves`, the `treedef_*` functions, and `Partial` (a
`functools.partial` that is a pytree). They are public through `funcdiff.tree_util`.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final, TypeVar

from funcdiff._src.tree_util import (
    _KINDS,
    _SMALL,
    _TUPLE,
    _TUPLE_RECORDS,
    GetAttrKey,
    KeyLeafPairs,
    PyTreeDef,
    _classify,
    _NodeSpec,
    _Record,
    _register,
    _short_repr,
    _unflatten,
    is_tree_node,
    register_pytree_node,
    register_pytree_with_keys,
    tree_flatten,
    tree_flatten_with_path,
    tree_leaves,
    tree_map,
    tree_structure,
)

T = TypeVar("T")
_TypeT = TypeVar("_TypeT", bound=type)

# ---------------------------------------------------------------------------------------
# More ways to register a node type
# ---------------------------------------------------------------------------------------


def _attr_tuple_getter(names: Sequence[str]) -> Callable[[Any], tuple[Any, ...]]:
    """A fast function returning the tuple of the given attributes of an object."""
    if not names:
        return lambda obj: ()
    if len(names) == 1:
        get_one = operator.attrgetter(names[0])
        return lambda obj: (get_one(obj),)
    return operator.attrgetter(*names)


def _dataclass_fields(
    nodetype: type,
    data_fields: Sequence[str] | None,
    meta_fields: Sequence[str] | None,
    drop_fields: Sequence[str],
) -> tuple[list[str], list[str]]:
    """`register_dataclass`'s data and meta field names, checked against the dataclass."""
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

    return data, meta


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
    data, meta = _dataclass_fields(nodetype, data_fields, meta_fields, drop_fields)
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


# ---------------------------------------------------------------------------------------
# Reductions and structure helpers
# ---------------------------------------------------------------------------------------

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
    leaves = tree_leaves(tree, is_leaf)
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
    return all(tree_leaves(tree, is_leaf))


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
    level = tree_leaves(tree, is_leaf)
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


def flatten_one_level(tree: Any) -> tuple[tuple[Any, ...], Any]:
    """The immediate children of the root of `tree` (not flattened further), and the root's
    auxiliary data (a dict's keys, a registered class's static data; None for tuples and
    lists, the class for a namedtuple). A leaf has no children to give: a `ValueError`.

    !!! Example
        ```python
        from funcdiff import tree_util

        print(tree_util.flatten_one_level({"a": 1, "b": (2, 3)}))
        print(tree_util.flatten_one_level([None, 4]))
        ```
    """
    if tree is not None and not is_tree_node(type(tree)):
        raise ValueError(f"can't tree-flatten type: {type(tree)}")
    children, treedef = tree_flatten(tree, is_leaf=lambda x: x is not tree)
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return tuple(children), type(tree)
    return tuple(children), treedef.node_data()[1]


def flatten_one_level_with_keys(tree: Any) -> tuple[tuple[tuple[Any, Any], ...], Any]:
    """`flatten_one_level` with the key of each child: the pairs ``(key, child)`` (a
    `DictKey`, `SequenceKey`, `GetAttrKey`... as in `tree_flatten_with_path`'s paths), and
    the root's auxiliary data. A leaf has no children to give: a `ValueError`.

    !!! Example
        ```python
        from funcdiff import tree_util

        pairs, aux = tree_util.flatten_one_level_with_keys({"a": 1, "b": (2, 3)})
        print(pairs, aux)
        ```
    """
    _, aux = flatten_one_level(tree)  # (a ValueError for a leaf)
    pairs, _ = tree_flatten_with_path(tree, is_leaf=lambda x: x is not tree)
    return tuple((path[0], child) for path, child in pairs), aux
