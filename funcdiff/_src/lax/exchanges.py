"""The collectives of `vmap`'s named axes that move values between the elements of an axis
(`parallel.py` has the reducing ones, `all_gather` and `ppermute`, from which these are
composed): `pshuffle`, `all_to_all` and `pswapaxes`, with JAX's semantics. Being
compositions, they are differentiable, batchable and jittable as their parts are.
"""

from __future__ import annotations

from typing import Any

from funcdiff._src import core
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax.parallel import (
    _my_chunk,
    _one_axis,
    _piece_size,
    _size,
    all_gather,
    ppermute,
)
from funcdiff._src.lax.structural import moveaxis
from funcdiff._src.tree_util import tree_map


def pshuffle(x: Any, axis_name: Any, perm: Any) -> Any:
    """Element ``i`` of the named axis gets `x` of element ``perm[i]``; `perm` must be a
    permutation of ``range(axis_size)``. A `ppermute` with the pairs ``(perm[i], i)``.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff import lax

        rotate = lambda v: lax.pshuffle(v, "i", [1, 2, 0])  # element 0 gets element 1's x
        print(funcdiff.vmap(rotate, axis_name="i")(np.array([10.0, 20.0, 30.0])))
        ```
    """
    perm = [int(i) for i in perm]
    n = _size(_one_axis("pshuffle", axis_name, None))
    if sorted(perm) != list(range(n)):
        raise ValueError(f"lax.pshuffle: perm {perm} is not a permutation of range({n})")
    return ppermute(x, axis_name, [(src, dst) for dst, src in enumerate(perm)])


def all_to_all(
    x: Any,
    axis_name: Any,
    split_axis: int,
    concat_axis: int,
    *,
    axis_index_groups: Any = None,
    tiled: bool = False,
) -> Any:
    """Each element of the named axis cuts `x` along `split_axis` into one chunk per element
    and sends chunk ``j`` to element ``j``, which joins the chunks it receives, in the order
    of their senders, along `concat_axis`, as JAX's `lax.all_to_all`. Without `tiled`,
    `split_axis` must have the axis' size and is removed, and the senders make a new axis at
    `concat_axis`; with `tiled`, `split_axis` must be a multiple of the axis' size and the
    chunks are concatenated along the existing `concat_axis`. Its transpose is the
    all_to_all back (linear; differentiable in both modes).

    Composed from `all_gather`: each element sees every element's `x`, so memory grows with
    the square of the axis' size.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff import lax

        x = np.arange(9.0).reshape(3, 3)  # element i holds row i
        # element j gets column j: a transpose across the batch
        print(funcdiff.vmap(lambda r: lax.all_to_all(r, "i", 0, 0), axis_name="i")(x))
        ```
    """
    names = _one_axis("all_to_all", axis_name, axis_index_groups)
    (name,) = names
    n = _size(names)

    def exchange(leaf: Any) -> Any:
        shape = core.get_aval(leaf).shape
        rank = len(shape)
        # (without tiled, the result has x's rank too: the split axis goes, the senders' comes)
        if not -rank <= split_axis < rank or not -rank <= concat_axis < rank:
            raise ValueError(
                f"lax.all_to_all: split_axis {split_axis} or concat_axis {concat_axis} is out "
                f"of range for an operand of shape {shape}"
            )
        split = split_axis % rank
        piece = _piece_size("all_to_all", split_axis, shape, n, tiled)
        senders = all_gather(leaf, name)  # (n, *shape): senders first
        mine = _my_chunk(senders, name, split + 1, piece)  # my chunk of every sender's x
        if not tiled:
            mine = sh.squeeze(mine, (split + 1,))
            return moveaxis(mine, 0, concat_axis % rank)
        concat = concat_axis % rank
        mine = moveaxis(mine, 0, concat)  # senders just before the concatenated dimension
        out_shape = core.get_aval(mine).shape
        return sh.reshape(
            mine, (*out_shape[:concat], n * out_shape[concat + 1], *out_shape[concat + 2 :])
        )

    return tree_map(exchange, x)


def pswapaxes(x: Any, axis_name: Any, axis: int, *, axis_index_groups: Any = None) -> Any:
    """Swap the named axis with the positional axis `axis` of `x`, whose size must be the
    named axis' size: element ``i`` gets ``[x_j[i] for j in range(n)]`` along `axis`. The
    `all_to_all` with ``split_axis = concat_axis = axis``.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        from funcdiff import lax

        x = np.arange(9.0).reshape(3, 3)
        print(funcdiff.vmap(lambda r: lax.pswapaxes(r, "i", 0), axis_name="i")(x))
        ```
    """
    return all_to_all(x, axis_name, axis, axis, axis_index_groups=axis_index_groups)
