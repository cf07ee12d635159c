"""Computation graphs drawn from the IR: `graph(f)(*args)`.

The traced program (its `jit` calls inlined, so that every operation shows) becomes a graph
of input, constant, operation and output nodes, with an edge wherever a value flows. With
values, each node shows the value it computes and, for a scalar output, its gradient (the
adjoint ``d out / d node``); each edge shows the part of the gradient that flows back along
it, so that gradients visibly add where a value branches. With ``backward=True`` the graph
is the whole program `vjp` runs: the forward pass, then the transposed (backward) pass,
which reads residuals from the forward one.

With ``tangent="b"`` the graph shows forward mode instead: the tangent ``d node / d b`` of
every node, and along each edge the part of it that flows forward, so that tangents visibly
add where paths merge. ``highlight="b"`` marks the paths from input ``b`` to the output, the
ones its gradient flows back along.

A `Graph` renders as Graphviz DOT (`to_dot`), Mermaid (`to_mermaid`) and SVG (`to_svg`:
through Graphviz when it is installed, otherwise by funcdiff's own renderer in
`graph_svg.py`); Jupyter displays it.
"""

from __future__ import annotations

import dataclasses
import html
import shutil
import subprocess
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes, graph_svg
from funcdiff._src.api import jvp, make_jaxpr, vjp
from funcdiff._src.core import JaxprEqn, Literal, Var
from funcdiff._src.cost_analysis import leaf_names
from funcdiff._src.custom_derivatives import custom_vjp_call_p
from funcdiff._src.interpreters import ad
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.jit import passes
from funcdiff._src.jit.api import jit_p
from funcdiff._src.lax.control_flow import while_p
from funcdiff._src.tree_util import keystr, tree_flatten, tree_flatten_with_path, tree_unflatten

VALUE_COLOR = "#1f77b4"  # forward values: blue
GRAD_COLOR = "#d62728"  # gradients: red
_GRAD = "∇"


@dataclasses.dataclass
class GraphNode:
    """A node: an input, a constant, an operation, an output, or a collapsed group.

    `value`, `grad` and `tangent` are formatted text (None when not computed); `tangent` is
    the derivative of the node with respect to the input named `tangent_wrt`. `group` is the
    path of the groups (`jit` calls or user functions) the node belongs to; `backward` marks
    the nodes of the transposed program; `highlight` those on the highlighted gradient path.
    """

    id: str
    kind: str
    label: str
    aval: str = ""
    value: str | None = None
    grad: str | None = None
    group: tuple[str, ...] = ()
    backward: bool = False
    tangent: str | None = None
    tangent_wrt: str = ""
    highlight: bool = False

    @property
    def tangent_text(self) -> str:
        """The tangent as a node shows it: ``∂/∂b 1.00``."""
        return f"∂/∂{self.tangent_wrt} {self.tangent}"

    @property
    def rows(self) -> list[str]:
        """Everything the node's label shows, one item per line."""
        lines = [self.label]
        if self.aval:
            lines.append(self.aval)
        if self.value is not None:
            lines.append(self.value)
        if self.tangent is not None:
            lines.append(self.tangent_text)
        if self.grad is not None:
            lines.append(f"{_GRAD} {self.grad}")
        return lines

    @property
    def text(self) -> str:
        """Everything the node's label shows, one item per line."""
        return "\n".join(self.rows)


@dataclasses.dataclass
class GraphEdge:
    """A value flowing from node `src` to node `dst`. `grad` is the gradient contribution that
    flows back along it, `tangent` the tangent contribution that flows forward along it;
    `residual` marks a forward value read by the backward pass, `highlight` an edge of the
    highlighted gradient path."""

    src: str
    dst: str
    grad: str | None = None
    residual: bool = False
    tangent: str | None = None
    highlight: bool = False


@dataclasses.dataclass
class Graph:
    """A computation graph (see `funcdiff.graph`): `nodes`, `edges`, a `name` and the
    `direction` it is drawn in (``"LR"``, left to right, or ``"TB"``, top to bottom)."""

    name: str
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    direction: str = "LR"

    def find(self, label: str) -> list[GraphNode]:
        """The nodes whose label is `label`, or starts with ``label + "("`` (``"add"`` finds
        ``"add(1.0, •)"`` too)."""
        return [n for n in self.nodes if n.label == label or n.label.startswith(label + "(")]

    # ---- Graphviz -------------------------------------------------------------------------

    def to_dot(self) -> str:
        """The graph in Graphviz's DOT language: values in blue, gradients in red, groups as
        clusters, residual edges dashed."""
        lines = [f"digraph {_dot_id(self.name)} {{", f"  rankdir={self.direction};",
                 '  node [fontname="Helvetica", fontsize=11];',
                 '  edge [fontname="Helvetica", fontsize=9, color="#555555"];']
        lines += _nest(self.nodes, _dot_open, "}", _dot_node, "  ")
        for e in self.edges:
            attrs = []
            parts = [f'<FONT COLOR="{c}">{_esc(t)}</FONT>' for t, c in
                     ((e.tangent, graph_svg.TANGENT_COLOR), (e.grad, GRAD_COLOR))
                     if t is not None]
            if parts:
                attrs.append(f"label=<{' '.join(parts)}>")
            if e.residual:
                attrs.append('style=dashed, color="#999999"')
            if e.highlight:
                attrs.append(f'color="{graph_svg.HIGHLIGHT_COLOR}", penwidth=3')
            suffix = f" [{', '.join(attrs)}]" if attrs else ""
            lines.append(f"  {e.src} -> {e.dst}{suffix};")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def to_svg(self, engine: str = "auto") -> str:
        """The graph drawn as SVG text.

        `engine` is ``"dot"`` (Graphviz's ``dot`` program, through the optional `graphviz`
        Python package when installed), ``"python"`` (funcdiff's own layered layout, with no
        dependency: the same picture on every machine) or ``"auto"`` (Graphviz when it is
        installed, else funcdiff's own)."""
        if engine not in ("auto", "dot", "python"):
            raise ValueError(f"Graph.to_svg: engine must be 'auto', 'dot' or 'python', got "
                             f"{engine!r}")
        if engine == "python" or (engine == "auto" and not _have_dot()):
            return graph_svg.render(self, VALUE_COLOR, GRAD_COLOR)
        source = self.to_dot()
        try:
            import graphviz
        except ImportError:
            graphviz = None
        if graphviz is not None:
            try:
                return graphviz.Source(source).pipe(format="svg").decode("utf-8")
            except graphviz.ExecutableNotFound as e:
                raise RuntimeError(_NO_DOT) from e
        dot = shutil.which("dot")
        if dot is None:
            raise RuntimeError(_NO_DOT)
        done = subprocess.run([dot, "-Tsvg"], input=source.encode(), capture_output=True,
                              check=True)
        return done.stdout.decode("utf-8")

    # ---- Mermaid --------------------------------------------------------------------------

    def to_mermaid(self) -> str:
        """The graph as a Mermaid flowchart (put it in a ```mermaid block of a mkdocs-material
        page). Gradients are the red edge labels and the ∇ lines of the node labels."""
        lines = [f"flowchart {self.direction}",
                 f"  classDef input fill:#eef4fb,stroke:{VALUE_COLOR}",
                 "  classDef const fill:#f4f4f4,stroke:#999999",
                 "  classDef op fill:#ffffff,stroke:#555555",
                 "  classDef output fill:#eef4fb,stroke:#555555,stroke-width:2px",
                 "  classDef group fill:#f7f7f7,stroke:#555555,stroke-dasharray:4 2",
                 f"  classDef backward fill:#fdecea,stroke:{GRAD_COLOR}"]
        lines += _nest(self.nodes, _mermaid_open, "end", _mermaid_node, "  ")
        styled, highlighted = [], []
        for i, e in enumerate(self.edges):
            arrow = "-.->" if e.residual else "-->"
            text = " ".join(t for t in (e.tangent, e.grad) if t is not None)
            label = f'|"{_mermaid_text(text)}"|' if text else ""
            lines.append(f"  {e.src} {arrow}{label} {e.dst}")
            if text:
                styled.append(i)
            if e.highlight:
                highlighted.append(i)
        color = graph_svg.TANGENT_COLOR if any(e.tangent for e in self.edges) else GRAD_COLOR
        if styled:
            lines.append(f"  linkStyle {','.join(map(str, styled))} color:{color}")
        if highlighted:
            lines.append(f"  linkStyle {','.join(map(str, highlighted))} "
                         f"stroke:{graph_svg.HIGHLIGHT_COLOR},stroke-width:3px")
        return "\n".join(lines) + "\n"

    # ---- notebooks ------------------------------------------------------------------------

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        bundle = {"text/plain": repr(self), "text/vnd.mermaid": self.to_mermaid()}
        try:
            bundle["image/svg+xml"] = self.to_svg()
        except (RuntimeError, OSError, subprocess.CalledProcessError):
            bundle["image/svg+xml"] = self.to_svg(engine="python")
        return bundle

    def __repr__(self) -> str:
        ops = sum(n.kind == "op" for n in self.nodes)
        return f"<Graph {self.name}: {len(self.nodes)} nodes ({ops} operations), " \
               f"{len(self.edges)} edges>"


def _have_dot() -> bool:
    return shutil.which("dot") is not None


_NO_DOT = ("Graph.to_svg needs Graphviz's dot program: install Graphviz (e.g. apt-get install "
           "graphviz) and, optionally, the graphviz Python package (pip install graphviz).")


def _sections(nodes: Sequence[GraphNode]
              ) -> tuple[dict[tuple[str, ...], list[GraphNode]], dict[tuple[str, ...], list]]:
    """Nodes by cluster path (the section, forward or backward pass, when both are drawn,
    then the group path), and the child clusters of each path."""
    members: dict[tuple[str, ...], list[GraphNode]] = {(): []}
    has_backward = any(n.backward for n in nodes)
    for n in nodes:
        section = (("backward pass",) if n.backward else ("forward pass",)) if has_backward \
            else ()
        members.setdefault(section + n.group, []).append(n)
    for path in list(members):
        for k in range(len(path)):
            members.setdefault(path[:k], [])
    children: dict[tuple[str, ...], list] = {path: [] for path in members}
    for path in members:
        if path:
            children[path[:-1]].append(path)
    return members, children


def _nest(nodes: Sequence[GraphNode], open_: Callable[[tuple[str, ...]], str], close: str,
          node: Callable[[GraphNode], str], indent: str) -> list[str]:
    """Lines declaring every node inside properly nested clusters."""
    members, children = _sections(nodes)

    def emit(path: tuple[str, ...], pad: str) -> list[str]:
        lines = [pad + open_(path)] if path else []
        inner = pad + "  " if path else pad
        lines += [inner + node(n) for n in members[path]]
        for child in children[path]:
            lines += emit(child, inner)
        if path:
            lines.append(pad + close)
        return lines

    return emit((), indent)


def _dot_open(path: tuple[str, ...]) -> str:
    name = path[-1]
    style = "rounded" if name in ("forward pass", "backward pass") else "rounded,dashed"
    return (f"subgraph {_dot_id('cluster_' + '/'.join(path))} {{ label={_dot_id(name)}; "
            f'style="{style}"; fontname="Helvetica"; fontsize=10; color="#888888";')


_DOT_SHAPES = {"input": "box", "const": "box", "op": "box", "output": "box", "group": "box3d"}
_DOT_FILL = {"input": "#eef4fb", "const": "#f4f4f4", "op": "#ffffff", "output": "#eef4fb",
             "group": "#f7f7f7"}


def _dot_node(n: GraphNode) -> str:
    rows = [f"<B>{_esc(n.label)}</B>" if n.kind in ("input", "output") else _esc(n.label)]
    if n.aval:
        rows.append(f'<FONT POINT-SIZE="8" COLOR="#777777">{_esc(n.aval)}</FONT>')
    if n.value is not None:
        color = GRAD_COLOR if n.backward else VALUE_COLOR
        rows.append(f'<FONT COLOR="{color}">{_esc(n.value)}</FONT>')
    if n.tangent is not None:
        rows.append(f'<FONT COLOR="{graph_svg.TANGENT_COLOR}">{_esc(n.tangent_text)}</FONT>')
    if n.grad is not None:
        rows.append(f'<FONT COLOR="{GRAD_COLOR}">{_GRAD} {_esc(n.grad)}</FONT>')
    style = "rounded,filled" + (",bold" if n.kind == "output" else "")
    fill = "#fdecea" if n.backward and n.kind == "op" else _DOT_FILL[n.kind]
    extra = f', color="{graph_svg.HIGHLIGHT_COLOR}", penwidth=3' if n.highlight else ""
    return (f'{n.id} [shape={_DOT_SHAPES[n.kind]}, style="{style}", fillcolor="{fill}", '
            f"label=<{'<BR/>'.join(rows)}>{extra}];")


def _dot_id(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _esc(s: str) -> str:
    return html.escape(s, quote=True)


_MERMAID_SHAPES = {"input": ('(["', '"])'), "const": ('["', '"]'), "op": ('("', '")'),
                   "output": ('[/"', '"/]'), "group": ('[["', '"]]')}


def _mermaid_open(path: tuple[str, ...]) -> str:
    sid = "sg_" + "".join(c if c.isalnum() else "_" for c in "/".join(path))
    return f'subgraph {sid}["{_mermaid_text(path[-1])}"]'


def _mermaid_node(n: GraphNode) -> str:
    left, right = _MERMAID_SHAPES[n.kind]
    cls = "backward" if n.backward and n.kind == "op" else n.kind
    return f"{n.id}{left}{'<br/>'.join(map(_mermaid_text, n.rows))}{right}:::{cls}"


def _mermaid_text(s: str) -> str:
    return s.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


# ---- building the graph ---------------------------------------------------------------------


@dataclasses.dataclass
class _Op:
    """An equation of the flattened program (jit calls inlined) and its group path."""

    eqn: JaxprEqn
    group: tuple[str, ...]
    backward: bool = False


def _flatten(closed: core.ClosedJaxpr, group_by: str | None
             ) -> tuple[core.ClosedJaxpr, list[_Op]]:
    """The program with its `jit` calls inlined (jit's own inliner: a function called twice
    appears twice), each equation with its group path: with ``group_by="jit"``, the instances
    of the jitted functions it was inlined from."""
    flat, origins, calls = passes.flatten_calls(closed, lambda e: e.primitive is jit_p)
    counter: dict[str, int] = {}
    names = [_instance(f"jit({c.params['name']})", counter) for c in calls]
    ops = [_Op(eqn, tuple(names[k] for k in path) if group_by == "jit" else ())
           for eqn, path in zip(flat.jaxpr.eqns, origins, strict=True)]
    return flat, ops


def _instance(name: str, counter: dict[str, int]) -> str:
    counter[name] = counter.get(name, 0) + 1
    return name if counter[name] == 1 else f"{name} #{counter[name]}"


def _group_by_function(ops: list[_Op], top: str) -> None:
    """Group each run of consecutive forward operations traced in one user function (other
    than the top-level one) under that function's name."""
    counter: dict[str, int] = {}
    previous = None
    for op in ops:
        info = op.eqn.source_info
        fn = info.function if info is not None else None
        if op.backward or fn is None or fn == top:
            previous = None
            continue
        if fn != previous:
            name = _instance(fn, counter)
            previous = fn
        op.group = op.group + (name,)


def _depends_on(ops: list[_Op], seeds: set[Var]) -> None:
    """Mark as backward the operations that depend on the output cotangent."""
    tainted = set(seeds)
    for op in ops:
        if any(type(a) is Var and a in tainted for a in op.eqn.invars):
            op.backward = True
            tainted.update(op.eqn.outvars)


def _evaluate(ops: list[_Op], env: dict[Var, Any]) -> None:
    for op in ops:
        eqn = op.eqn
        invals = [a.val if type(a) is Literal else env[a] for a in eqn.invars]
        out = eqn.primitive.bind(*invals, **eqn.params)
        outs = out if eqn.primitive.multiple_results else [out]
        env.update(zip(eqn.outvars, outs))


def _is_float(x: Any) -> bool:
    return dtypes.is_float(core.get_aval(x).dtype)


# One equation of the linear program `_adjoints` transposes: the linear map of one forward
# operation (its `LinearFunction`), from the tangents of its differentiated inputs.
_linear_op_p = core.Primitive("graph_linear_op", multiple_results=True)
_linear_op_p.def_impl(lambda *tangents, linear, op, wrt: linear.apply(tangents))
_linear_op_p.def_abstract_eval(lambda *avals, linear, op, wrt: linear.jaxpr.out_avals)
cost_mod.cost_rules[_linear_op_p] = lambda avals_in, avals_out, *, linear, op, wrt: (
    cost_mod.jaxpr_cost(linear.jaxpr)
)


def _linear_op_transpose(cts: list[Any], *args: Any, linear: ad.LinearFunction, op: int,
                         wrt: tuple[int, ...]) -> list[Any]:
    return [ad.instantiate(ct) for ct in linear.transpose(cts)]


ad.transpose_rules[_linear_op_p] = _linear_op_transpose


# Primitives that have a derivative in one direction only: a `while_loop` has no reverse mode
# (its trip count is known at run time only), a `custom_vjp` function no forward mode. An
# operation that is or contains one gets no gradient (or tangent) in that direction.
_NO_REVERSE_MODE = frozenset({while_p})
_NO_FORWARD_MODE = frozenset({custom_vjp_call_p})


def _uses(eqn: JaxprEqn, prims: frozenset[core.Primitive]) -> bool:
    """Whether `eqn` is, or carries in a sub-program, one of `prims`."""
    if eqn.primitive in prims:
        return True
    for value in eqn.params.values():
        subs = value if isinstance(value, (tuple, list)) else (value,)
        for sub in subs:
            if isinstance(sub, core.ClosedJaxpr) and any(_uses(e, prims) for e in sub.eqns):
                return True
    return False


def _differentiable(eqn: JaxprEqn, without: frozenset[core.Primitive]) -> bool:
    """Whether the primitive has a derivative rule (or a zero derivative), and no part of
    the operation lacks the mode of differentiation that `without` rules out."""
    has_rule = eqn.primitive in ad.jvp_rules or eqn.primitive in ad.nondifferentiable
    return has_rule and not _uses(eqn, without)


def _transposable(linear: ad.LinearFunction) -> bool:
    """Whether every equation of `linear` that its inputs reach has a transpose rule (a
    `while_loop` has none: it has no reverse mode)."""
    jaxpr = linear.jaxpr.jaxpr
    reached = set(jaxpr.invars)
    for eqn in jaxpr.eqns:
        if not reached.isdisjoint(eqn.invars):
            if eqn.primitive not in ad.transpose_rules:
                return False
            reached.update(eqn.outvars)
    return True


def _adjoints(ops: list[_Op], env: dict[Var, Any], out: Var
              ) -> tuple[dict[Var, Any], dict[tuple[Var, int], Any]]:
    """Reverse mode over the flattened forward program: the adjoint of every variable and the
    contribution of each (variable, consumer) edge. Each forward operation is linearized on
    its own and becomes one equation of a linear program, which AD's `backward_pass`
    transposes; its `on_transpose` hook reports what flows through each equation.

    Operations that cannot carry a gradient are left out (their inputs get none from them):
    non-float values, the backward half of a ``backward=True`` graph, primitives without
    reverse mode."""
    tangent: dict[Var, Var] = {}  # forward variable -> its tangent in the linear program
    sources: list[Var] = []  # forward variables whose tangents are the linear program's inputs

    def tangent_of(v: Var) -> Var:
        if v not in tangent:
            tangent[v] = Var(v.aval)
            sources.append(v)
        return tangent[v]

    eqns: list[JaxprEqn] = []
    for i, op in enumerate(ops):
        eqn = op.eqn
        if op.backward or not _differentiable(eqn, _NO_REVERSE_MODE):
            continue
        invals = [a.val if type(a) is Literal else env[a] for a in eqn.invars]
        wrt = tuple(k for k, (a, x) in enumerate(zip(eqn.invars, invals))
                    if type(a) is Var and _is_float(x))
        if not wrt or not all(_is_float(env[v]) for v in eqn.outvars):
            continue

        def apply(*xs: Any, eqn: JaxprEqn = eqn, invals: list[Any] = invals,
                  wrt: tuple[int, ...] = wrt) -> list[Any]:
            full = list(invals)
            for k, x in zip(wrt, xs):
                full[k] = x
            out = eqn.primitive.bind(*full, **eqn.params)
            return out if eqn.primitive.multiple_results else [out]

        _, linear = ad.linearize_flat(apply, [invals[k] for k in wrt], [True] * len(wrt))
        if not _transposable(linear):
            continue
        ins = [tangent_of(eqn.invars[k]) for k in wrt]
        outs = [Var(v.aval) for v in eqn.outvars]
        tangent.update(zip(eqn.outvars, outs))
        eqns.append(JaxprEqn(_linear_op_p, ins, outs, {"linear": linear, "op": i, "wrt": wrt}))
    seed = tangent_of(out)
    adjoint: dict[Var, Any] = {}
    along: dict[tuple[Var, int], Any] = {}

    def record(eqn: JaxprEqn, cts_out: list[Any], cts_in: list[Any]) -> None:
        i = eqn.params["op"]
        forward = ops[i].eqn
        for v, ct in zip(forward.outvars, cts_out):
            if type(ct) is not ad.Zero:
                adjoint[v] = ct
        for k, ct in zip(eqn.params["wrt"], cts_in):
            v = forward.invars[k]
            along[(v, i)] = along[(v, i)] + ct if (v, i) in along else ct

    linear_program = core.Jaxpr([], [tangent[v] for v in sources], eqns, [seed])
    cts = ad.backward_pass(linear_program, [], [ad.UndefinedPrimal(v.aval) for v in sources],
                           [np.ones_like(env[out])], on_transpose=record)
    for v, ct in zip(sources, cts):
        if ct is not None and type(ct) is not ad.Zero:
            adjoint[v] = ct
    return adjoint, along


def _tangents(ops: list[_Op], env: dict[Var, Any], seed: Var
              ) -> tuple[dict[Var, Any], dict[tuple[Var, int], Any]]:
    """Forward mode over the flattened program, one equation at a time, from a tangent of ones
    on `seed`: the tangent of every variable it reaches and the contribution that flows along
    each (variable, consumer) edge."""
    tangent: dict[Var, Any] = {seed: np.ones_like(env[seed])}
    along: dict[tuple[Var, int], Any] = {}
    for i, op in enumerate(ops):
        eqn = op.eqn
        invals = [a.val if type(a) is Literal else env[a] for a in eqn.invars]
        if not _differentiable(eqn, _NO_FORWARD_MODE):
            continue
        for k, a in enumerate(eqn.invars):
            if type(a) is not Var or a not in tangent:
                continue

            def apply(x: Any, eqn: JaxprEqn = eqn, invals: list[Any] = invals,
                      k: int = k) -> Any:
                return eqn.primitive.bind(*invals[:k], x, *invals[k + 1:], **eqn.params)

            _, t_out = jvp(apply, (invals[k],), (tangent[a],))
            outs = t_out if eqn.primitive.multiple_results else [t_out]
            along[(a, i)] = outs[0]
            for v, t in zip(eqn.outvars, outs):
                tangent[v] = tangent[v] + t if v in tangent else t
    return tangent, along


def _highlight(g: Graph, start: str) -> None:
    """Mark the nodes and edges on the paths from node `start` to the first output."""
    succs: dict[str, list[str]] = {}
    preds: dict[str, list[str]] = {}
    for e in g.edges:
        succs.setdefault(e.src, []).append(e.dst)
        preds.setdefault(e.dst, []).append(e.src)

    def reach(frm: str, nxt: dict[str, list[str]]) -> set[str]:
        seen, todo = {frm}, [frm]
        while todo:
            for m in nxt.get(todo.pop(), []):
                if m not in seen:
                    seen.add(m)
                    todo.append(m)
        return seen

    on_path = reach(start, succs) & reach("out0", preds)
    for n in g.nodes:
        n.highlight = n.id in on_path
    for e in g.edges:
        e.highlight = e.src in on_path and e.dst in on_path


def _fmt(x: Any, precision: int, max_elements: int) -> str:
    a = np.asarray(x)
    if a.dtype == dtypes.float0:
        return "0"
    if a.dtype.kind == "f":
        def one(v: float) -> str:
            return f"{v:.{precision}f}"
    elif a.dtype.kind == "c":
        def one(v: complex) -> str:
            return f"{v:.{precision}f}"
    else:
        one = str
    if a.ndim == 0:
        return one(a.item())
    if a.size <= max_elements:
        text = np.array2string(a, separator=", ", max_line_width=10_000,
                               formatter={"all": lambda v: one(v)})
        return " ".join(line.strip() for line in text.splitlines())
    if a.dtype.kind in "fiu" and a.size:
        return f"min {one(a.min())}, max {one(a.max())}"
    return f"{a.size} values"


def _op_label(eqn: JaxprEqn, fmt: Callable[[Any], str]) -> str:
    name = eqn.primitive.name
    params = [f"{k}={v}" for k, v in sorted(eqn.params.items())
              if isinstance(v, int | bool | str) or (isinstance(v, tuple) and len(str(v)) < 24)]
    if params and len(", ".join(params)) <= 40:
        name += "[" + ", ".join(params) + "]"
    if any(type(a) is Literal for a in eqn.invars):
        args = [fmt(a.val) if type(a) is Literal else "•" for a in eqn.invars]
        name += "(" + ", ".join(args) + ")"
    return name


def graph(fun: Callable[..., Any], *, values: bool = True, backward: bool = False,
          group_by: str | None = "jit", collapse: bool | Sequence[str] = False,
          precision: int = 2, max_elements: int = 6, tangent: str | None = None,
          highlight: str | None = None, scalar_types: bool = True,
          direction: str = "LR") -> Callable[..., Graph]:
    """Build the computation graph of `fun` from its IR, optionally annotated with the values
    and gradients of every intermediate.

    **Arguments:**

    - `fun`: a function of arrays (pytrees allowed).
    - `values`: evaluate the graph on the given arguments: each node shows its value (blue)
      and, when `fun` returns one real scalar, its gradient ``d out / d node`` (red, after
      ∇); each edge shows the gradient flowing back along it, so that where a value feeds
      several operations its gradient is visibly the sum of its edges'.
    - `backward`: draw the program `vjp` runs: the forward pass (which also computes the
      residuals the derivative needs) and, next to it, the backward pass (the transposed
      program, seeded with the output cotangent ``ct``, ones), with dashed edges for the
      residuals it reads. Its values are gradients.
    - `group_by`: ``"jit"`` (clusters for the `jit`-compiled functions `fun` calls),
      ``"function"`` (clusters for each call of a user function, other than `fun`, that
      traced operations) or None.
    - `collapse`: True to draw each outermost group as one node, or the names of the groups
      to collapse (``"jit(layer)"``, ``"layer"``), so that large graphs stay readable.
    - `precision`, `max_elements`: decimals shown, and the largest array shown in full
      (larger ones show their minimum and maximum).
    - `tangent`: the name of an input (as the graph labels it: ``"b"``, ``"w"``,
      ``"params['w1']"``) to draw forward mode instead of reverse mode: each node shows its
      tangent ``d node / d input`` (green, after ∂/∂input), the input seeded with ones, and
      each edge the part of the tangent flowing forward along it, so that tangents visibly
      add where paths merge. No gradients are drawn then.
    - `highlight`: the name of an input whose gradient path is drawn in orange: every node
      and edge on a path from that input to the output.
    - `scalar_types`: False leaves out the type line (``f64[]``) of scalar nodes, which tells
      a learner nothing; arrays keep their shape.
    - `direction`: ``"LR"`` (left to right) or ``"TB"`` (top to bottom).

    **Returns:** a function taking `fun`'s arguments and returning a `Graph`, with
    ``to_dot()``, ``to_mermaid()`` and ``to_svg()``; Jupyter displays it.

    !!! Example
        ```python
        import funcdiff

        f = lambda a, b, c: (a + b) * (b + c)
        g = funcdiff.graph(f)(2.0, 1.0, 0.0)
        (b,) = g.find("b")
        assert b.grad == "4.00"  # 1.00 along one edge plus 3.00 along the other
        print(g.to_mermaid())

        # The same graph for a learner: forward mode from b, no type lines, top to bottom.
        g = funcdiff.graph(f, tangent="b", scalar_types=False, direction="TB")(2.0, 1.0, 0.0)
        assert [n.tangent for n in g.find("add")] == ["1.00", "1.00"]
        svg = g.to_svg(engine="python")  # no Graphviz needed
        ```
    """
    if group_by not in ("jit", "function", None):
        raise ValueError(f"graph: group_by must be 'jit', 'function' or None, got {group_by!r}")
    if direction not in ("LR", "TB"):
        raise ValueError(f"graph: direction must be 'LR' (left to right) or 'TB' (top to "
                         f"bottom), got {direction!r}")
    if tangent is not None and (backward or not values):
        raise ValueError("graph: tangent draws forward mode on the values of the forward "
                         "pass: it needs values=True and backward=False.")

    def build(*args: Any) -> Graph:
        g = _build(fun, args, values=values, backward=backward, group_by=group_by,
                   collapse=False, precision=precision, max_elements=max_elements,
                   tangent=tangent)
        g.direction = direction
        if highlight is not None:
            _highlight(g, _input_id(g, highlight, "highlight"))
        if not scalar_types:
            for n in g.nodes:
                if n.aval.endswith("[]"):
                    n.aval = ""
        return _collapse(g, collapse) if collapse else g

    return build


@dataclasses.dataclass
class _Program:
    """The traced program, flattened: its inputs (the argument leaves, then with ``backward``
    the output cotangents), constants, operations and outputs, and their names."""

    name: str
    jaxpr: core.Jaxpr
    inputs: list[Any]
    consts: dict[Var, Any]
    ops: list[_Op]
    outvars: list[core.Atom]
    in_names: list[str]
    out_names: list[str]
    n_args: int  # inputs that are argument leaves (the rest are output cotangents)
    n_out: int  # outputs of the function (the rest are input cotangents)


def _trace(fun: Callable[..., Any], args: Sequence[Any], backward: bool,
           group_by: str | None) -> _Program:
    name = getattr(fun, "__name__", type(fun).__name__)
    leaves, in_tree = tree_flatten(tuple(args))
    for i, leaf in enumerate(leaves):
        if not core.is_valid_array(leaf):
            raise TypeError(f"graph: argument leaf {i} of {name} is a {type(leaf).__name__}, "
                            "not an array.")
    store: list[Any] = [None]

    def flat(*xs: Any) -> list[Any]:
        out, store[0] = tree_flatten(fun(*tree_unflatten(in_tree, list(xs))))
        return out

    outs = flat(*leaves)
    in_names = leaf_names(fun, args)
    out_names = ["out" + keystr(path) for path, _ in
                 tree_flatten_with_path(tree_unflatten(store[0], outs))[0]]
    program, inputs = flat, list(leaves)
    if backward:
        diff = [_is_float(x) for x in leaves]
        if not any(diff):
            raise TypeError(f"graph: {name} has no floating-point input to differentiate.")
        program, inputs = _vjp_program(flat, leaves, diff, outs)
        out_names += [f"grad {n}" for n, d in zip(in_names, diff) if d]
        in_names += [f"ct {n}" for n in out_names[:len(outs)]]
    closed, ops = _flatten(make_jaxpr(program)(*inputs), group_by)
    jaxpr = closed.jaxpr
    consts: dict[Var, Any] = dict(zip(jaxpr.constvars, closed.consts, strict=True))
    if backward:
        _depends_on(ops, set(jaxpr.invars[len(leaves):]))
    if group_by == "function":
        _group_by_function(ops, name)
    return _Program(name, jaxpr, inputs, consts, ops, list(jaxpr.outvars), in_names,
                    out_names, len(leaves), len(outs))


def _input_id(g: Graph, name: str, option: str) -> str:
    """The id of the input node labelled `name`, or a clear error listing the inputs."""
    for n in g.nodes:
        if n.kind == "input" and n.label == name:
            return n.id
    inputs = [n.label for n in g.nodes if n.kind == "input"]
    raise ValueError(f"graph: {option}={name!r} names no input of {g.name}; its inputs are "
                     f"{inputs}.")


def _build(fun: Callable[..., Any], args: Sequence[Any], *, values: bool, backward: bool,
           group_by: str | None, collapse: bool | Sequence[str], precision: int,
           max_elements: int, tangent: str | None = None) -> Graph:
    prog = _trace(fun, args, backward, group_by)
    vals: dict[Var, Any] = {}
    adjoint: dict[Var, Any] = {}
    along: dict[tuple[Var, int], Any] = {}
    tangents: dict[Var, Any] = {}
    forward: dict[tuple[Var, int], Any] = {}
    if values:
        vals.update(zip(prog.jaxpr.invars, prog.inputs))
        vals.update(prog.consts)
        _evaluate(prog.ops, vals)
        out = prog.outvars[0] if prog.outvars else None
        if tangent is not None:
            if tangent not in prog.in_names[:prog.n_args]:
                raise ValueError(f"graph: tangent={tangent!r} names no input of {prog.name}; "
                                 f"its inputs are {prog.in_names[:prog.n_args]}.")
            seed = prog.jaxpr.invars[prog.in_names.index(tangent)]
            if not _is_float(vals[seed]):
                raise TypeError(f"graph: tangent={tangent!r} is an input of dtype "
                                f"{np.asarray(vals[seed]).dtype}; forward mode needs a "
                                "floating-point input.")
            tangents, forward = _tangents(prog.ops, vals, seed)
        elif (prog.n_out == 1 and type(out) is Var and np.size(vals[out]) == 1
                and dtypes.is_float(out.aval.dtype)):
            adjoint, along = _adjoints(prog.ops, vals, out)
    fmt = lambda x: _fmt(x, precision, max_elements)  # noqa: E731
    g = _assemble(prog, vals, adjoint, along, fmt)
    if tangent is not None:
        _add_tangents(g, prog, tangents, forward, tangent, fmt)
    return _collapse(g, collapse) if collapse else g


def _add_tangents(g: Graph, prog: _Program, tangents: dict[Var, Any],
                  forward: dict[tuple[Var, int], Any], wrt: str,
                  fmt: Callable[[Any], str]) -> None:
    """Label the nodes and edges of `g` (as `_assemble` built it) with the tangents."""
    by_id = {n.id: n for n in g.nodes}
    variable: dict[str, Var] = {f"in{i}": v for i, v in enumerate(prog.jaxpr.invars)}
    for j, op in enumerate(prog.ops):
        variable[f"op{j}"] = op.eqn.outvars[0]
    for i, a in enumerate(prog.outvars):
        if type(a) is Var:
            variable[f"out{i}"] = a
    for node_id, v in variable.items():
        if v in tangents:
            by_id[node_id].tangent = fmt(tangents[v])
            by_id[node_id].tangent_wrt = wrt
    producer = {nid: v for nid, v in variable.items() if not nid.startswith("out")}
    for e in g.edges:
        if e.dst.startswith("op") and e.src in producer:
            t = forward.get((producer[e.src], int(e.dst[2:])))
            e.tangent = None if t is None else fmt(t)


def _assemble(prog: _Program, vals: dict[Var, Any], adjoint: dict[Var, Any],
              along: dict[tuple[Var, int], Any], fmt: Callable[[Any], str]) -> Graph:
    """The nodes and edges of a traced program, labelled with whatever values and gradients
    were computed."""
    nodes: list[GraphNode] = []
    producer: dict[Var, str] = {}
    for i, v in enumerate(prog.jaxpr.invars):
        nodes.append(GraphNode(f"in{i}", "input", prog.in_names[i], v.aval.str_short(),
                               fmt(vals[v]) if v in vals else None,
                               fmt(adjoint[v]) if v in adjoint else None,
                               backward=i >= prog.n_args))
        producer[v] = f"in{i}"
    used = {a for op in prog.ops for a in op.eqn.invars if type(a) is Var} | set(prog.outvars)
    for k, (v, c) in enumerate(prog.consts.items()):
        if v in used:
            producer[v] = f"c{k}"
            nodes.append(GraphNode(f"c{k}", "const", "const", v.aval.str_short(),
                                   fmt(c) if v in vals else None))
    for j, op in enumerate(prog.ops):
        outs = [vals[v] for v in op.eqn.outvars if v in vals]
        grads = [adjoint[v] for v in op.eqn.outvars if v in adjoint]
        nodes.append(GraphNode(
            f"op{j}", "op", _op_label(op.eqn, fmt), ", ".join(v.aval.str_short()
                                                         for v in op.eqn.outvars),
            "; ".join(map(fmt, outs)) if outs else None,
            "; ".join(map(fmt, grads)) if grads else None, op.group, op.backward))
        producer.update((v, f"op{j}") for v in op.eqn.outvars)
    backward_ids = {n.id for n in nodes if n.backward}
    edges: list[GraphEdge] = []
    for j, op in enumerate(prog.ops):
        for a in dict.fromkeys(a for a in op.eqn.invars if type(a) is Var):
            src, grad = producer[a], along.get((a, j))
            edges.append(GraphEdge(src, f"op{j}", None if grad is None else fmt(grad),
                                   residual=op.backward and src not in backward_ids))
    for i, a in enumerate(prog.outvars):
        value = a.val if type(a) is Literal else vals.get(a)
        seed = fmt(1.0) if adjoint and i == 0 else None  # d out / d out
        nodes.append(GraphNode(f"out{i}", "output", prog.out_names[i], a.aval.str_short(),
                               None if value is None else fmt(value), seed,
                               backward=i >= prog.n_out))
        if type(a) is Var:
            edges.append(GraphEdge(producer[a], f"out{i}"))
    return Graph(prog.name, nodes, edges)


def _vjp_program(flat: Callable[..., list[Any]], leaves: list[Any], diff: list[bool],
                 outs: list[Any]) -> tuple[Callable[..., list[Any]], list[Any]]:
    """``(inputs, ct) -> (outputs, input cotangents)``: the program `vjp` runs, with the
    output cotangent as an input so that the backward pass can be told apart."""
    k = len(leaves)

    def program(*xs_ct: Any) -> list[Any]:
        xs, ct = list(xs_ct[:k]), list(xs_ct[k:])

        def of_diff(*dxs: Any) -> list[Any]:
            it = iter(dxs)
            return flat(*[next(it) if d else x for x, d in zip(xs, diff)])

        out, pull = vjp(of_diff, *[x for x, d in zip(xs, diff) if d])
        return list(out) + list(pull(ct))

    cts = [np.ones_like(np.asarray(o)) for o in outs]
    return program, list(leaves) + cts


def _collapse(g: Graph, which: bool | Sequence[str]) -> Graph:
    """Replace each chosen group by one node."""
    names = None if which is True else set(which)  # type: ignore[arg-type]
    target: dict[str, tuple[tuple[str, ...], bool]] = {}
    for n in g.nodes:
        for depth, group_name in enumerate(n.group):
            # "layer" also names its later calls, "layer #2"...
            if names is None or {group_name, group_name.split(" #")[0]} & names:
                target[n.id] = (n.group[: depth + 1], n.backward)
                break
    if not target:
        return g
    # A constant read only inside one collapsed group (an index table, say) goes in with it.
    readers: dict[str, set[Any]] = {}
    for e in g.edges:
        readers.setdefault(e.src, set()).add(target.get(e.dst))
    for n in g.nodes:
        inside = readers.get(n.id, {None})
        if n.kind == "const" and len(inside) == 1 and None not in inside:
            target[n.id] = next(iter(inside))
    by_id = {n.id: n for n in g.nodes}
    group_ids: dict[tuple[tuple[str, ...], bool], str] = {}
    members: dict[str, list[GraphNode]] = {}
    for node_id, key in target.items():
        gid = group_ids.setdefault(key, f"grp{len(group_ids)}")
        members.setdefault(gid, []).append(by_id[node_id])
    path_of = {gid: key for key, gid in group_ids.items()}
    rename = {node_id: group_ids[key] for node_id, key in target.items()}
    edges: list[GraphEdge] = []
    seen: dict[tuple[str, str], GraphEdge] = {}
    leaving: set[str] = set()
    for e in g.edges:
        src, dst = rename.get(e.src, e.src), rename.get(e.dst, e.dst)
        if src == dst:
            continue
        if src != e.src:
            leaving.add(e.src)
        key = (src, dst)
        if key in seen:
            seen[key].grad = None  # several values now share the edge
            continue
        seen[key] = GraphEdge(src, dst, e.grad, e.residual)
        edges.append(seen[key])
    nodes: list[GraphNode] = []
    placed: set[str] = set()
    for n in g.nodes:
        gid = rename.get(n.id)
        if gid is None:
            nodes.append(n)
            continue
        if gid in placed:
            continue
        placed.add(gid)
        group_nodes = members[gid]
        path, is_backward = path_of[gid]
        outs = [m for m in group_nodes if m.id in leaving]
        value = "; ".join(m.value for m in outs if m.value is not None) or None
        grad = "; ".join(m.grad for m in outs if m.grad is not None) or None
        count = sum(m.kind == "op" for m in group_nodes)
        nodes.append(GraphNode(gid, "group", path[-1], f"{count} operations", value, grad,
                               path[:-1], is_backward))
    return Graph(g.name, nodes, edges)


__all__ = ["Graph", "GraphEdge", "GraphNode", "graph"]
