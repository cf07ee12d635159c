"""What a trace sees: `make_jaxpr`, the IR of a function, and `typeof`, the abstract value of
a value."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from funcdiff._src import core, errors
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.shape_dtype import placeholders
from funcdiff._src.tree_util import (
    keystr,
    tree_flatten,
    tree_flatten_with_path,
    tree_unflatten,
)

# ---- make_jaxpr -----------------------------------------------------------------------------


def make_jaxpr(
    fun: Callable[..., Any], static_argnums: int | Sequence[int] = ()
) -> Callable[..., core.ClosedJaxpr]:
    """Trace `fun` and return its IR (a `ClosedJaxpr`), printable as a JAX-like listing.

    **Arguments:**

    - `fun`: the function to trace.
    - `static_argnums`: positions of arguments that are used as Python values, not traced.

    **Returns:** a function taking example arguments (only their shapes and dtypes matter;
    a `ShapeDtypeStruct` may stand for an array)
    and returning the `ClosedJaxpr`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp

        jaxpr = funcdiff.make_jaxpr(lambda x: jnp.sum(jnp.sin(x)))(np.ones(3))
        print(jaxpr)
        ```
    """
    errors.check_callable(fun, "make_jaxpr")
    static = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)

    @functools.wraps(fun, updated=())
    def make(*args: Any, **kwargs: Any) -> core.ClosedJaxpr:
        args, kwargs = placeholders((args, kwargs))
        dyn = [a for i, a in enumerate(args) if i not in static]
        leaves, in_tree = tree_flatten((dyn, kwargs))
        if not all(core.is_valid_array(leaf) for leaf in leaves):
            names = errors.argument_names(fun, len(args))
            named = [(names[i], a) for i, a in enumerate(args) if i not in static]
            for name, arg in named + list(kwargs.items()):
                for path, leaf in tree_flatten_with_path(arg)[0]:
                    if not core.is_valid_array(leaf):
                        raise TypeError(
                            f"make_jaxpr: argument {name}{keystr(path)} of type "
                            f"{core.value_kind(leaf)} is not an array; pass arrays, or mark it "
                            "with static_argnums."
                        )

        def call(*flat: Any) -> list[Any]:
            dyn_args, kw = tree_unflatten(in_tree, flat)
            it = iter(dyn_args)
            full = [args[i] if i in static else next(it) for i in range(len(args))]
            out, _ = tree_flatten(fun(*full, **kw))
            return out

        avals = [core.get_aval(x) for x in leaves]
        return pe.trace_to_jaxpr(call, avals)

    return make


def typeof(x: Any) -> core.ShapedArray:
    """The abstract value of `x`: its shape, dtype and weak type, as a `jit` trace sees it.

    `x` may be an array, a Python or NumPy scalar, or a traced value. It prints as JAX's does:
    `float64[3]`, with a `~` before a weakly typed value's dtype (a Python scalar).

    !!! Example
        ```python
        import numpy as np
        import funcdiff

        assert str(funcdiff.typeof(np.zeros((2, 3), np.float32))) == "float32[2,3]"
        assert str(funcdiff.typeof(1.0)) == "~float64[]"
        seen = []
        funcdiff.vmap(lambda x: seen.append(str(funcdiff.typeof(x))) or x)(np.arange(3))
        assert seen == ["int64[]"]
        ```
    """
    return core.get_aval(x)
