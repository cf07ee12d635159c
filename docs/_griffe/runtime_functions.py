"""A griffe extension for the API reference: document functions that are made at run time.

Many `funcdiff.numpy` functions are built by small factories (``sin = _inexact_unary(tr.sin)``)
or are plain aliases (``true_divide = divide``). Static analysis sees those as attributes
without a docstring or signature. This extension imports each funcdiff module, and replaces
every module attribute whose run-time value is a function with a griffe `Function` carrying the
run-time signature and docstring, so the reference shows them like any other function.

It is loaded by `mkdocs.yml` (mkdocstrings' python handler, ``extensions:``); it is not part
of the site (``exclude_docs``).
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import griffe


def _annotation(value: Any) -> str | None:
    if value is inspect.Parameter.empty:
        return None
    return value if isinstance(value, str) else inspect.formatannotation(value)


def _parameters(fn: Any) -> griffe.Parameters:
    params = []
    for p in inspect.signature(fn).parameters.values():
        default = None if p.default is inspect.Parameter.empty else repr(p.default)
        params.append(
            griffe.Parameter(
                p.name,
                annotation=_annotation(p.annotation),
                kind=griffe.ParameterKind(p.kind.description),
                default=default,
            )
        )
    return griffe.Parameters(*params)


def _as_function(name: str, fn: Any, attribute: griffe.Object) -> griffe.Function:
    function = griffe.Function(
        name,
        lineno=attribute.lineno,
        endlineno=attribute.endlineno,
        parameters=_parameters(fn),
        returns=_annotation(inspect.signature(fn).return_annotation),
    )
    doc = inspect.getdoc(fn)
    if doc:
        function.docstring = griffe.Docstring(doc, parent=function)
    return function


def _modules(module: griffe.Module) -> list[griffe.Module]:
    found = [module]
    for member in module.members.values():
        if not member.is_alias and member.is_module:
            found.extend(_modules(member))
    return found


class RuntimeFunctions(griffe.Extension):
    """Turn module attributes that are functions at run time into documented functions."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        if pkg.name != "funcdiff":
            return
        for module in _modules(pkg):
            if module.name == "__main__":
                continue
            try:
                runtime = importlib.import_module(module.path)
            except Exception:  # a module being written, or one with optional dependencies
                continue
            for name, member in list(module.members.items()):
                if member.is_alias or not member.is_attribute:
                    continue
                value = getattr(runtime, name, None)
                if inspect.isfunction(value):
                    module.set_member(name, _as_function(name, value, member))
