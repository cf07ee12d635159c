"""Utilities for pytrees: nested tuples, lists, dicts, `None`, namedtuples and registered types.

Mirrors `jax.tree_util`. See also `funcdiff.tree` for the short aliases (`tree.map`,
`tree.flatten`, ...).
"""

from funcdiff._src.tree_util import DictKey as DictKey
from funcdiff._src.tree_util import FlattenedIndexKey as FlattenedIndexKey
from funcdiff._src.tree_util import GetAttrKey as GetAttrKey
from funcdiff._src.tree_util import KeyEntry as KeyEntry
from funcdiff._src.tree_util import KeyPath as KeyPath
from funcdiff._src.tree_util import PyTreeDef as PyTreeDef
from funcdiff._src.tree_util import SequenceKey as SequenceKey
from funcdiff._src.tree_util import is_tree_node as is_tree_node
from funcdiff._src.tree_util import keystr as keystr
from funcdiff._src.tree_util import register_pytree_node as register_pytree_node
from funcdiff._src.tree_util import register_pytree_node_class as register_pytree_node_class
from funcdiff._src.tree_util import register_pytree_with_keys as register_pytree_with_keys
from funcdiff._src.tree_util import (
    register_pytree_with_keys_class as register_pytree_with_keys_class,
)
from funcdiff._src.tree_util import tree_flatten as tree_flatten
from funcdiff._src.tree_util import tree_flatten_with_path as tree_flatten_with_path
from funcdiff._src.tree_util import tree_leaves as tree_leaves
from funcdiff._src.tree_util import tree_leaves_with_path as tree_leaves_with_path
from funcdiff._src.tree_util import tree_map as tree_map
from funcdiff._src.tree_util import tree_map_with_path as tree_map_with_path
from funcdiff._src.tree_util import tree_structure as tree_structure
from funcdiff._src.tree_util import tree_unflatten as tree_unflatten
from funcdiff._src.tree_util_extras import Partial as Partial
from funcdiff._src.tree_util_extras import all_leaves as all_leaves
from funcdiff._src.tree_util_extras import flatten_one_level as flatten_one_level
from funcdiff._src.tree_util_extras import (
    flatten_one_level_with_keys as flatten_one_level_with_keys,
)
from funcdiff._src.tree_util_extras import register_dataclass as register_dataclass
from funcdiff._src.tree_util_extras import register_static as register_static
from funcdiff._src.tree_util_extras import tree_all as tree_all
from funcdiff._src.tree_util_extras import tree_broadcast as tree_broadcast
from funcdiff._src.tree_util_extras import tree_reduce as tree_reduce
from funcdiff._src.tree_util_extras import tree_reduce_associative as tree_reduce_associative
from funcdiff._src.tree_util_extras import tree_transpose as tree_transpose
from funcdiff._src.tree_util_extras import treedef_children as treedef_children
from funcdiff._src.tree_util_extras import treedef_is_leaf as treedef_is_leaf
from funcdiff._src.tree_util_extras import treedef_is_strict_leaf as treedef_is_strict_leaf
from funcdiff._src.tree_util_extras import treedef_tuple as treedef_tuple
