"""`saved_residuals` and `print_saved_residuals`: which values reverse mode keeps from the
forward pass of a function for its backward pass, and where each comes from."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from funcdiff._src import core, errors
from funcdiff._src.api.flatten import _flatten_args, _linearize_leaves
from funcdiff._src.checkpoint_policies import name_p
from funcdiff._src.core import Literal, ShapedArray
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.tree_util import DictKey, SequenceKey, keystr, tree_flatten_with_path


def _argument_names(fun: Callable[..., Any], paths: list[tuple[Any, ...]]) -> list[str]:
    """``x``, ``params['w']``, ``args[2]``: the name of each flattened argument leaf, from
    its path in ``(args, kwargs)``."""
    params = errors.positional_names(fun)
    names = []
    for path in paths:
        where, key, rest = path[0], path[1], path[2:]
        if type(where) is SequenceKey and where.idx == 0 and type(key) is SequenceKey:
            i = key.idx
            head = params[i] if i < len(params) else f"args[{i}]"
        elif type(key) is DictKey:
            head = str(key.key)
        else:
            head = keystr(path[1:])
        names.append(head + keystr(rest))
    return names


def saved_residuals(
    f: Callable[..., Any], *args: Any, **kwargs: Any
) -> list[tuple[ShapedArray, str]]:
    """The residuals reverse mode saves from `f`'s forward pass at ``f(*args, **kwargs)``
    (what `vjp`'s backward function keeps), each as ``(aval, where it comes from)``: an
    argument (by name), a constant, or the result of a primitive at a line of the user's
    code, named when it is the value of a `checkpoint_name`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff.numpy as jnp
        from funcdiff.ad_checkpoint import saved_residuals

        [(aval, source)] = saved_residuals(lambda x: jnp.sum(jnp.sin(x)), np.ones(3))
        assert aval.shape == (3,) and source.startswith("output of cos from ")
        ```
    """
    errors.check_callable(f, "saved_residuals")
    leaves_with_paths, in_tree = tree_flatten_with_path((args, kwargs))
    leaves = [leaf for _, leaf in leaves_with_paths]
    arg_names = _argument_names(f, [path for path, _ in leaves_with_paths])

    def call(*xs: Any) -> Any:
        a, kw = in_tree.unflatten(xs)
        return f(*a, **kw)

    def residuals_of(*xs: Any) -> list[Any]:
        flat, flat_tree = _flatten_args(xs)
        _, linear, *_ = _linearize_leaves(call, xs, flat, flat_tree, False)
        return list(linear.residuals())

    closed = pe.trace_to_jaxpr(residuals_of, [core.get_aval(x) for x in leaves])
    return _describe(closed.jaxpr, arg_names)


def _describe(jaxpr: core.Jaxpr, arg_names: list[str]) -> list[tuple[ShapedArray, str]]:
    """Where each output of `jaxpr` (the residuals) comes from, in the order of the program:
    literals, constants, arguments, then the results of its equations."""
    outs = set(v for v in jaxpr.outvars if type(v) is not Literal)
    results = [(v.aval, "from a literal") for v in jaxpr.outvars if type(v) is Literal]
    results += [(v.aval, "from a constant") for v in jaxpr.constvars if v in outs]
    results += [
        (v.aval, f"from the argument {name}")
        for v, name in zip(jaxpr.invars, arg_names)
        if v in outs
    ]
    for eqn in jaxpr.eqns:
        where = f" from {eqn.source_info}" if eqn.source_info is not None else ""
        for v in eqn.outvars:
            if v not in outs:
                continue
            if eqn.primitive is name_p:
                results.append((v.aval, f"named {eqn.params['name']!r}{where}"))
            elif eqn.primitive.name == "jit":
                name = eqn.params["name"]
                results.append((v.aval, f"output of jitted function {name!r}{where}"))
            else:
                results.append((v.aval, f"output of {eqn.primitive.name}{where}"))
    return results


def print_saved_residuals(f: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Print, one a line, the residuals reverse mode saves from `f`'s forward pass at
    ``f(*args, **kwargs)`` (see `saved_residuals`): their shapes and dtypes, and where each
    comes from. Use it to check what a `checkpoint` policy saves.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp
        from funcdiff.ad_checkpoint import print_saved_residuals

        f = lambda w, x: jnp.sum(jnp.tanh(w @ x))
        print_saved_residuals(f, np.ones((2, 3)), np.ones(3))   # w, x and the tanh output
        print_saved_residuals(funcdiff.checkpoint(f), np.ones((2, 3)), np.ones(3))  # w and x
        ```
    """
    for aval, source in saved_residuals(f, *args, **kwargs):
        print(f"{aval.str_short()} {source}")
