"""The lowering-rule registry: what each primitive contributes to `jit`'s code generator (and
which primitives are calls that jit's passes may inline).

Op modules fill these tables when they define a primitive (`define_primitive`'s `lower`,
`allocates` and `inline`); the code generator in `funcdiff._src.jit.lowering` reads them. This
module imports no code generator, so that the primitives sit below `jit` (see
docs/developer/layout.md).

A rule is ``rule(ctx, *operands, **params) -> str``: it returns a Python expression over its
operands' names (one per result for multiple-result primitives, as a tuple expression), and uses
the `LoweringContext` to bind constants and render static parameters. Primitives without a rule
call their NumPy implementation. A rule that runs a sub-program (``cond``, ``scan``, ``jit``...)
gets its compiled form from `funcdiff._src.lax._jaxprs.compiled`.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.array import Array, WeakArray
from funcdiff._src.core import JaxprEqn

# Primitives that call a jaxpr, and the parameter holding it: jit's passes inline such a call
# (replace it by the callee's equations) once no transformation needs the call boundary. Filled
# by `define_primitive(..., inline=param)` (`jit`, `custom_jvp_call`, `custom_vjp_call`).
# `checkpoint` is not inlined: merging its recomputation with the forward pass (by CSE) would
# undo it; as a separate compiled call its intermediates are freed when it returns.
inlinable_calls: dict[core.Primitive, str] = {}

# primitive -> its rule; read by the code generator.
lower_rules: dict[core.Primitive, Callable[..., Any]] = {}

# The only builtins generated code sees: the scalar conversions it emits, and `__import__`,
# which NumPy needs to build some of its own exceptions (so that an error inside generated code
# is the error eager evaluation raises).
_BUILTINS = {
    "__import__": builtins.__import__,
    "int": int,
    "float": float,
    "complex": complex,
    "bool": bool,
}


class LoweringContext:
    """Collects constants for the generated source and renders static values safely."""

    def __init__(self, xp: Any, target: Any = None):
        self.xp = xp
        self.target = target  # a `jit.backends.Backend` when compiling for another namespace
        self.namespace: dict[str, Any] = {"xp": xp, "__builtins__": _BUILTINS}
        self._names: dict[int, str] = {}
        self.eqn: JaxprEqn | None = None

    def const(self, value: Any, hint: str = "k") -> str:
        """A generated name bound to `value` in the namespace of the generated code."""
        name = self._names.get(id(value))
        if name is None:
            key = id(value)
            if isinstance(value, Array):  # generated code computes on plain NumPy arrays
                value = value.view(np.ndarray)  # (a WeakArray too: its operators are funcdiff's)
            if self.target is not None:  # converted to the namespace once, here
                value = self.target.convert_constant(self, value)
            name = f"_{hint}{len(self._names)}"
            self._names[key] = name
            self.namespace[name] = value
            self.namespace.setdefault("__keepalive__", []).append(value)
        return name

    def literal(self, value: Any) -> str:
        """Render a scalar: Python ints/bools/finite floats inline, anything else by name."""
        t = type(value)
        if t is WeakArray and not value.shape:
            # (a weakly typed 0-d constant is a Python scalar in generated code, as in eager
            # code: a plain 0-d float64 array would make float32 operands float64)
            value = value.item()
            t = type(value)
        if t is bool or t is int:
            return repr(value)
        if t is float and math.isfinite(value):
            return repr(value)
        return self.const(value)

    def param(self, value: Any) -> str:
        """Render a static parameter (ints, tuples, None inline; the rest by name)."""
        if value is None or type(value) in (bool, int):
            return repr(value)
        if type(value) is float and math.isfinite(value):
            return repr(value)
        if type(value) is tuple:
            parts = [self.param(v) for v in value]
            return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
        return self.const(value)

    @property
    def in_avals(self) -> list[core.ShapedArray]:
        assert self.eqn is not None
        return [a.aval for a in self.eqn.invars]

    @property
    def out_avals(self) -> list[core.ShapedArray]:
        assert self.eqn is not None
        return [v.aval for v in self.eqn.outvars]


# Primitives computed by a NumPy ufunc (name of the ufunc): their result can be written into a
# dead input's buffer with ``out=``. Filled by `define_primitive`.
ufunc_prims: dict[core.Primitive, str] = {}
# Primitives whose result is always a fresh array, never a view of an input. Every other
# primitive may return one of its operands or a view of it (a slice, a reshape, a broadcast).
allocating: set[core.Primitive] = set()


def is_fresh(prim: core.Primitive) -> bool:
    """Whether `prim`'s results are always new arrays (never an operand or a view of one)."""
    return prim in allocating or prim in ufunc_prims


def binary_operator(op: str) -> Callable[..., str]:
    """A rule writing ``x <op> y`` (NumPy's operators broadcast and promote like the
    primitives)."""

    def rule(ctx: LoweringContext, x: str, y: str) -> str:
        return f"({x} {op} {y})"

    rule.python_operator = op  # type: ignore[attr-defined]
    return rule


def unary_operator(op: str) -> Callable[..., str]:
    def rule(ctx: LoweringContext, x: str) -> str:
        return f"({op}{x})"

    rule.python_operator = "unary" + op  # type: ignore[attr-defined]
    return rule


def xp_function(name: str) -> Callable[..., str]:
    """A rule calling ``xp.<name>(*operands)``."""

    def rule(ctx: LoweringContext, *args: str) -> str:
        return f"xp.{name}({', '.join(args)})"

    rule.numpy_call = True  # type: ignore[attr-defined]
    return rule


def register(
    p: core.Primitive,
    rule: Callable[..., str] | None,
    ufunc: str | None = None,
    allocates: bool = False,
) -> None:
    """Register `p`'s lowering rule; `ufunc` names the NumPy ufunc computing it (enabling
    ``out=`` buffer reuse), `allocates` says its result is never a view of an input."""
    if rule is not None:
        lower_rules[p] = rule
    if ufunc is not None:
        ufunc_prims[p] = ufunc
    if allocates:
        allocating.add(p)
