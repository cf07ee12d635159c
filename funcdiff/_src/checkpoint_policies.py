"""What `checkpoint` saves: `checkpoint_name`, an identity primitive that names a value, and
the `checkpoint_policies`, functions of one equation (its primitive, input avals and params)
that say whether its results may be saved for the backward pass or must be recomputed
there."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

from funcdiff._src import core
from funcdiff._src.core import ShapedArray
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.lax._define import define_primitive
from funcdiff._src.tree_util import tree_map

# ---- checkpoint_name ------------------------------------------------------------------------


def _name_jvp(primals, tangents, *, name):
    # The primal is named, its tangent is not (the tangent program is not recomputed).
    return name_p.bind(primals[0], name=name), tangents[0]


def _name_transpose(ct, x, *, name):
    return [ct]


def _name_batch(axis_size, vals, dims, *, name):
    return name_p.bind(vals[0], name=name), dims[0]


name_p = define_primitive(
    "name",
    impl=lambda x, *, name: x,
    abstract_eval=lambda x, *, name: x,
    linear=True,
    jvp=_name_jvp,
    transpose=_name_transpose,
    batch=_name_batch,
    lower=lambda ctx, x, *, name: x,
    cost=cost_mod.free_cost,
)


def checkpoint_name(x: Any, name: str) -> Any:
    """Name `x` (an array or a pytree of arrays) for the policies of `checkpoint`: the
    identity, whose result a policy such as `checkpoint_policies.save_only_these_names` can
    choose to save by its name. Values and derivatives are those of `x`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp
        from funcdiff.ad_checkpoint import checkpoint_name

        def f(w, x):
            h = checkpoint_name(jnp.sin(w @ x), "hidden")
            return jnp.sum(jnp.tanh(h))

        policy = funcdiff.checkpoint_policies.save_only_these_names("hidden")
        w, x = np.ones((2, 3)), np.ones(3)
        g = funcdiff.grad(funcdiff.checkpoint(f, policy=policy))(w, x)
        assert np.allclose(g, funcdiff.grad(f)(w, x))
        ```
    """
    if not isinstance(name, str):
        raise TypeError(
            f"checkpoint_name: the name must be a str, got {name!r} of type "
            f"{type(name).__name__}; policies compare names as strings, e.g. "
            f"checkpoint_name(x, {str(name)!r})"
        )
    return tree_map(lambda leaf: name_p.bind(leaf, name=name), x)


# ---- policy results -------------------------------------------------------------------------


class _Verdict:
    __slots__ = ("_name",)

    def __init__(self, name: str):
        self._name = name

    def __repr__(self) -> str:
        return self._name


# What a policy may return besides True (save) and False (recompute), as in JAX.
Saveable = _Verdict("Saveable")
"""A policy's answer for an equation whose results are saved for the backward pass (like
True)."""

Recompute = _Verdict("Recompute")
"""A policy's answer for an equation that the backward pass recomputes (like False)."""


class Offloadable(NamedTuple):
    """A policy's verdict: save the value in the memory `dst` (copied from `src`) rather than
    recompute it. funcdiff has one memory, the host's, so an offloaded value is saved."""

    src: str
    dst: str


def saves(
    policy: Callable[..., Any],
    prim: core.Primitive,
    avals: list[ShapedArray],
    params: dict[str, Any],
) -> bool:
    """Whether `policy` saves the results of one equation, checking what it returned."""
    verdict = policy(prim, *avals, **params)
    if verdict is True or verdict is Saveable or isinstance(verdict, Offloadable):
        return True
    if verdict is False or verdict is Recompute or verdict is None:
        return False
    raise TypeError(
        f"checkpoint: the policy {getattr(policy, '__name__', policy)!r} returned "
        f"{verdict!r} for the primitive {prim.name}; a policy returns a bool (True: save the "
        "result, False: recompute it), Saveable, Recompute or Offloadable"
    )


# ---- the policies ---------------------------------------------------------------------------


def _is_dot(prim: core.Primitive) -> bool:
    return prim.name in ("dot_general", "conv_general_dilated")


def everything_saveable(prim: core.Primitive, *avals: ShapedArray, **params: Any) -> bool:
    """Save everything (no recomputation: the same as no checkpoint)."""
    return True


def nothing_saveable(prim: core.Primitive, *avals: ShapedArray, **params: Any) -> bool:
    """Recompute everything from the block's inputs (the least memory; the default)."""
    return False


def dots_saveable(prim: core.Primitive, *avals: ShapedArray, **params: Any) -> bool:
    """Save the results of matrix products and convolutions; recompute the elementwise work
    around them."""
    return _is_dot(prim)


def dots_with_no_batch_dims_saveable(
    prim: core.Primitive, *avals: ShapedArray, **params: Any
) -> bool:
    """Save the results of matrix products without batch dimensions only."""
    if prim.name != "dot_general":
        return False
    (_, _), (lhs_batch, rhs_batch) = params["dimension_numbers"]
    return not lhs_batch and not rhs_batch


def offload_dot_with_no_batch_dims(offload_src: str, offload_dst: str) -> Callable[..., Any]:
    """`dots_with_no_batch_dims_saveable`, offloading the products to the memory
    `offload_dst`; on funcdiff's one host memory, they are saved."""

    def policy(prim: core.Primitive, *avals: ShapedArray, **params: Any) -> Any:
        if dots_with_no_batch_dims_saveable(prim, *avals, **params):
            return Offloadable(offload_src, offload_dst)
        return Recompute

    return policy


@dataclasses.dataclass(frozen=True)
class _SaveOnlyTheseNames:
    names: frozenset[str]

    def __call__(self, prim: core.Primitive, *avals: ShapedArray, **params: Any) -> bool:
        return prim is name_p and params["name"] in self.names


@dataclasses.dataclass(frozen=True)
class _SaveAnyNamesButThese:
    names: frozenset[str]

    def __call__(self, prim: core.Primitive, *avals: ShapedArray, **params: Any) -> bool:
        return prim is name_p and params["name"] not in self.names


@dataclasses.dataclass(frozen=True)
class _SaveAnythingExceptTheseNames:
    # `checkpoint`'s split also recomputes the producer of a value named here, which would
    # otherwise be saved in its stead (under no name).
    unsaved_names: frozenset[str]

    def __call__(self, prim: core.Primitive, *avals: ShapedArray, **params: Any) -> bool:
        return not (prim is name_p and params["name"] in self.unsaved_names)


def _check_names(policy: str, names: tuple[Any, ...]) -> frozenset[str]:
    bad = [n for n in names if not isinstance(n, str)]
    if bad:
        raise TypeError(f"{policy}: names are str (as given to checkpoint_name), got {bad!r}")
    return frozenset(names)


def save_only_these_names(*names: str) -> Callable[..., bool]:
    """Save only the values named by `checkpoint_name` with one of `names`."""
    return _SaveOnlyTheseNames(_check_names("save_only_these_names", names))


def save_any_names_but_these(*names: str) -> Callable[..., bool]:
    """Save only named values (`checkpoint_name`), except those named with one of `names`."""
    return _SaveAnyNamesButThese(_check_names("save_any_names_but_these", names))


def save_anything_except_these_names(*names: str) -> Callable[..., bool]:
    """Save every value, named or not, except those named with one of `names`, which are
    recomputed (with the operation that made them)."""
    return _SaveAnythingExceptTheseNames(_check_names("save_anything_except_these_names", names))


def save_and_offload_only_these_names(
    *,
    names_which_can_be_saved: Any,
    names_which_can_be_offloaded: Any,
    offload_src: str,
    offload_dst: str,
) -> Callable[..., Any]:
    """Save the values named with `names_which_can_be_saved` and offload those named with
    `names_which_can_be_offloaded` to the memory `offload_dst`; recompute the rest. funcdiff
    has one memory, the host's: offloaded values are saved like the others."""
    saved = _check_names("save_and_offload_only_these_names", tuple(names_which_can_be_saved))
    offloaded = _check_names(
        "save_and_offload_only_these_names", tuple(names_which_can_be_offloaded)
    )
    if saved & offloaded:
        raise ValueError(
            "save_and_offload_only_these_names: a name is either saved or offloaded; "
            f"{sorted(saved & offloaded)} are in both names_which_can_be_saved and "
            "names_which_can_be_offloaded"
        )

    def policy(prim: core.Primitive, *avals: ShapedArray, **params: Any) -> Any:
        if prim is name_p and params["name"] in saved:
            return Saveable
        if prim is name_p and params["name"] in offloaded:
            return Offloadable(offload_src, offload_dst)
        return Recompute

    return policy


@dataclasses.dataclass(frozen=True)
class _Either:
    first: Callable[..., Any]
    second: Callable[..., Any]

    def __call__(self, prim: core.Primitive, *avals: ShapedArray, **params: Any) -> bool:
        return saves(self.first, prim, list(avals), params) or saves(
            self.second, prim, list(avals), params
        )


def save_from_both_policies(
    policy_1: Callable[..., Any], policy_2: Callable[..., Any]
) -> Callable[..., bool]:
    """Save what either policy saves."""
    for p in (policy_1, policy_2):
        if not callable(p):
            raise TypeError(
                f"save_from_both_policies: a policy is a callable, such as "
                f"checkpoint_policies.dots_saveable; got {p!r}"
            )
    return _Either(policy_1, policy_2)


def unsaved_names(policy: Any) -> frozenset[str]:
    """The names whose values `policy` keeps from being saved under no name (by their
    producer's result): those of `save_anything_except_these_names`, also inside
    `save_from_both_policies` (unless the other policy saves the named value itself)."""
    if isinstance(policy, _SaveAnythingExceptTheseNames):
        return policy.unsaved_names
    if isinstance(policy, _Either):
        return unsaved_names(policy.first) | unsaved_names(policy.second)
    return frozenset()


class checkpoint_policies:  # noqa: N801 - JAX's name
    """Which intermediate values `checkpoint` may save instead of recomputing them. A policy
    is a function ``policy(primitive, *input_avals, **params)`` of one equation of the
    checkpointed block, returning True to save its results for the backward pass and False
    to recompute them there; the `save_*` functions make policies about the values named
    with `checkpoint_name`.

    !!! Example
        ```python
        import numpy as np
        import funcdiff
        import funcdiff.numpy as jnp
        from funcdiff.ad_checkpoint import checkpoint_name

        policies = funcdiff.checkpoint_policies
        policy = policies.save_from_both_policies(policies.dots_saveable,
                                                  policies.save_only_these_names("act"))

        def loss(w, x):
            return jnp.sum(checkpoint_name(jnp.tanh(w @ x), "act"))

        w, x = np.ones((2, 3)), np.ones(3)
        block = funcdiff.checkpoint(loss, policy=policy)
        assert np.allclose(funcdiff.grad(block)(w, x), funcdiff.grad(loss)(w, x))
        ```
    """

    everything_saveable = staticmethod(everything_saveable)
    nothing_saveable = staticmethod(nothing_saveable)
    dots_saveable = staticmethod(dots_saveable)
    checkpoint_dots = staticmethod(dots_saveable)
    dots_with_no_batch_dims_saveable = staticmethod(dots_with_no_batch_dims_saveable)
    checkpoint_dots_with_no_batch_dims = staticmethod(dots_with_no_batch_dims_saveable)
    offload_dot_with_no_batch_dims = staticmethod(offload_dot_with_no_batch_dims)
    save_anything_except_these_names = staticmethod(save_anything_except_these_names)
    save_any_names_but_these = staticmethod(save_any_names_but_these)
    save_only_these_names = staticmethod(save_only_these_names)
    save_from_both_policies = staticmethod(save_from_both_policies)
    save_and_offload_only_these_names = staticmethod(save_and_offload_only_these_names)
