"""The primitives funcdiff registers, for the tests that check every one of them (its record
in the op tables, its derivative and cost rules)."""

from __future__ import annotations

import importlib
import pkgutil

import funcdiff._src as fd_src
from funcdiff._src import core


def registered_primitives() -> set[core.Primitive]:
    """Every primitive defined at the top level of a module of `funcdiff._src` (the families
    of `funcdiff._src.lax`, `ad.add_any_p`, and any defined elsewhere)."""
    prims = set()
    for info in pkgutil.walk_packages(fd_src.__path__, prefix=f"{fd_src.__name__}."):
        module = importlib.import_module(info.name)
        prims.update(v for v in vars(module).values() if isinstance(v, core.Primitive))
    return prims
