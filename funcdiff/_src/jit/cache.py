"""jit's compile cache: the generated program of a jaxpr, built once per jaxpr object and
freed with it (`funcdiff._src.lax._jaxprs.derived` keeps it), and the garbage-collector pause
used while building programs. Importing this module installs `compiled` as the compiler the
control-flow primitives use for their sub-programs (`funcdiff._src.lax._jaxprs.set_compiler`),
so that those primitives, below jit, need not import it."""

from __future__ import annotations

import gc
import threading
from typing import Any

from funcdiff._src.core import ClosedJaxpr
from funcdiff._src.jit import lowering, passes
from funcdiff._src.lax import _jaxprs as jaxprs


class _GcPaused:
    """Pause the cyclic garbage collector while building a program: tracing and lowering
    allocate many small, acyclic objects, and collections triggered by them cost a quarter of
    a large program's compile time. Nested and concurrent uses are counted."""

    _lock = threading.Lock()
    _depth = 0
    _was_enabled = False

    def __enter__(self) -> None:
        with self._lock:
            if _GcPaused._depth == 0:
                _GcPaused._was_enabled = gc.isenabled()
                gc.disable()
            _GcPaused._depth += 1

    def __exit__(self, *exc: Any) -> None:
        with self._lock:
            _GcPaused._depth -= 1
            if _GcPaused._depth == 0 and _GcPaused._was_enabled:
                gc.enable()


gc_paused = _GcPaused


def compiled(jaxpr: ClosedJaxpr) -> lowering.CompiledProgram:
    """The optimised, generated NumPy program computing `jaxpr`."""

    def make() -> lowering.CompiledProgram:
        with gc_paused():
            return lowering.lower_jaxpr(passes.optimize(jaxpr))

    return jaxprs.derived(jaxpr, "compiled", make)


jaxprs.set_compiler(compiled)

__all__ = ["compiled", "gc_paused"]
