"""Short aliases of the pytree utilities, mirroring `jax.tree`.

```python
>>> from funcdiff import tree
>>> tree.map(lambda x: x * 2, {"a": 1, "b": (2, 3)})
{'a': 2, 'b': (4, 6)}

```

`tree.map` is `funcdiff.tree_util.tree_map`, `tree.leaves` is `tree_leaves`, and so on;
see `funcdiff.tree_util` for the full documentation.
"""

from funcdiff._src.tree_util import tree_flatten as flatten
from funcdiff._src.tree_util import tree_flatten_with_path as flatten_with_path
from funcdiff._src.tree_util import tree_leaves as leaves
from funcdiff._src.tree_util import tree_leaves_with_path as leaves_with_path
from funcdiff._src.tree_util import tree_map as map
from funcdiff._src.tree_util import tree_map_with_path as map_with_path
from funcdiff._src.tree_util import tree_structure as structure
from funcdiff._src.tree_util import tree_unflatten as unflatten
from funcdiff._src.tree_util_extras import tree_all as all
from funcdiff._src.tree_util_extras import tree_broadcast as broadcast
from funcdiff._src.tree_util_extras import tree_reduce as reduce
from funcdiff._src.tree_util_extras import tree_reduce_associative as reduce_associative
from funcdiff._src.tree_util_extras import tree_transpose as transpose

__all__ = [
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
]
