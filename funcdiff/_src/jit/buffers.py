"""jit's buffer plan: which elementwise equations write their result into the buffer of an
input that dies there (``out=``, or an augmented assignment), which results leave the program
as copies, when each variable dies, and the peak bytes of the arrays a program allocates. The
code generator (`lowering.py`) writes the program by this plan; `cost_analysis` reads its peak.
"""

from __future__ import annotations

from funcdiff._src.core import Jaxpr, Var
from funcdiff._src.interpreters.lowering_rules import allocating, ufunc_prims


class BufferPlan:
    """`reuse[i]`: the input whose buffer equation `i` writes into; `dies_at[i]`: variables
    last used by equation `i` (deleted right after it), `reads[v]`: how many times `v` is read
    (both emptied once the code is written); `copy_results[k]`: whether result `k` may share
    memory with an argument, a constant or another result (so it leaves as a copy). Peak bytes
    are computed on demand."""

    __slots__ = (
        "reuse",
        "dies_at",
        "reads",
        "results_unused",
        "copy_results",
        "_jaxpr",
        "_owned",
        "_end",
    )

    def __init__(self, reuse, dies_at, reads, results_unused, copy_results, jaxpr, owned, end):
        self.reuse = reuse
        self.dies_at = dies_at
        self.reads = reads
        self.results_unused = results_unused
        self.copy_results = copy_results
        self._jaxpr, self._owned, self._end = jaxpr, owned, end

    @property
    def peak_bytes(self) -> int:
        return _peak(self._jaxpr, self._owned, self._end, self.reuse)

    @property
    def peak_bytes_without_reuse(self) -> int:
        return _peak(self._jaxpr, self._owned, self._end, {})


def _nbytes(v: Var) -> int:
    return v.aval.size * v.aval.dtype.itemsize


def plan_buffers(jaxpr: Jaxpr, reuse: bool = True) -> BufferPlan:
    """Decide which elementwise equations write into a dying input (in place), which results
    must be copied on the way out, and count the peak bytes of the arrays the program
    allocates (inputs and constants excluded).

    Every variable gets the set of buffers it may share memory with (its roots): arguments
    and constants are their own roots, as is every result of a fresh primitive; any other
    result may be a view of its operands, so it has all their roots. A buffer is written in
    place only if this program allocated it, and neither it nor any view of it is used later
    or returned."""
    eqns = jaxpr.eqns
    n = len(eqns)
    last_use, reads, views, owned = _liveness_and_roots(jaxpr)
    # A buffer lives until the last use of itself or of any view of it.
    end: dict[Var, int] = {v: last_use.get(v, -1) for v in owned}
    for v, rs in views.items():
        used = last_use.get(v, -1)
        for r in rs:
            if r in end and used > end[r]:
                end[r] = used
    chosen: dict[int, Var] = {}
    unused: set[Var] = set()
    for i, eqn in enumerate(eqns):
        outs = eqn.outvars
        if len(outs) != 1:
            for v in outs:
                if v not in last_use:
                    unused.add(v)
            continue
        out = outs[0]
        if out not in last_use:
            unused.add(out)
        if not reuse or out not in owned or eqn.primitive not in ufunc_prims:
            continue
        shape, dtype = out.aval.shape, out.aval.dtype
        for a in eqn.invars:
            if a in owned and end[a] == i and a.aval.shape == shape and a.aval.dtype == dtype:
                chosen[i] = a
                break
    dies_at: dict[int, list[Var]] = {}
    for v, i in last_use.items():
        if i < n:
            dies_at.setdefault(i, []).append(v)
    copy_results = _copy_results(jaxpr, views)
    return BufferPlan(chosen, dies_at, reads, unused, copy_results, jaxpr, owned, end)


def _liveness_and_roots(
    jaxpr: Jaxpr,
) -> tuple[dict[Var, int], dict[Var, int], dict[Var, frozenset[Var]], set[Var]]:
    """In one walk: the liveness of `core.variable_uses` (``last_use``, ``reads``, the same
    dicts in the same order) and the roots of the results of primitives that are not fresh
    (possible views of their operands): the union of their operands' roots; every other
    variable (an argument, a constant, a fresh result) is its own only root. Also the arrays
    this program allocates (scalars excluded)."""
    n = len(jaxpr.eqns)
    last: dict[Var, int] = {}
    count: dict[Var, int] = {}
    views: dict[Var, frozenset[Var]] = {}
    owned: set[Var] = set()
    no_roots: frozenset[Var] = frozenset()
    for i, eqn in enumerate(jaxpr.eqns):
        for a in eqn.invars:
            if type(a) is Var:
                last[a] = i
                c = count.get(a)
                count[a] = 1 if c is None else c + 1
        prim = eqn.primitive
        if prim in ufunc_prims or prim in allocating:  # `is_fresh`, inlined: it runs per equation
            for v in eqn.outvars:
                if v.aval.shape != ():
                    owned.add(v)
            continue
        shared = no_roots
        for a in eqn.invars:
            if type(a) is Var:
                rs = views.get(a)
                shared = shared | (frozenset((a,)) if rs is None else rs)
        for v in eqn.outvars:
            views[v] = shared
    for a in jaxpr.outvars:
        if type(a) is Var:
            last[a] = n
            count[a] = count.get(a, 0) + 1
    return last, count, views, owned


def _copy_results(jaxpr: Jaxpr, views: dict[Var, frozenset[Var]]) -> list[bool]:
    """Results leave as they are only if they are this program's own, fresh arrays, seen by no
    earlier result; anything else (an argument, a constant, a view, a broadcast, the same
    buffer twice) leaves as a copy."""
    external = {*jaxpr.constvars, *jaxpr.invars}
    claimed: set[Var] = set()
    copy_results = []
    for a in jaxpr.outvars:
        if type(a) is not Var:
            copy_results.append(False)
            continue
        rs = views.get(a)
        if rs is None:  # its own root
            rs = frozenset((a,))
            fresh = a not in external
        else:
            fresh = False
        copy_results.append(not fresh or bool(rs & claimed))
        claimed |= rs
    return copy_results


def _peak(jaxpr: Jaxpr, owned: set[Var], end: dict[Var, int], reuse: dict[int, Var]) -> int:
    live = peak = 0
    dying: dict[int, list[Var]] = {}
    handed_over: set[Var] = set()  # inputs whose buffer a result took over
    for i, eqn in enumerate(jaxpr.eqns):
        for v in eqn.outvars:
            if v not in owned:
                continue
            dying.setdefault(end.get(v, i), []).append(v)
            if i in reuse:
                handed_over.add(reuse[i])  # same buffer, nothing new allocated
            else:
                live += _nbytes(v)
        peak = max(peak, live)
        for v in dying.pop(i, []):
            if v not in handed_over:
                live -= _nbytes(v)
    return peak


__all__ = ["BufferPlan", "plan_buffers"]
