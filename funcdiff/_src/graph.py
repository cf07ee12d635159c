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

A `Graph` renders as Graphviz DOT (`to_dot`), Mermaid (`to_mermaid`), both written by
`graph_text.py`, and SVG (`to_svg`: through Graphviz when it is installed, otherwise by
funcdiff's own renderer in `graph_svg.py`); Jupyter displays it. The program behind a graph
(traced, flattened, evaluated, differentiated) is built by `graph_program.py`.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import dtypes, graph_svg, graph_text
from funcdiff._src import graph_program as gp
from funcdiff._src.core import JaxprEqn, Literal, Var
from funcdiff._src.graph_text import GRAD_COLOR as GRAD_COLOR
from funcdiff._src.graph_text import GRAD_MARK
from funcdiff._src.graph_text import VALUE_COLOR as VALUE_COLOR


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
            lines.append(f"{GRAD_MARK} {self.grad}")
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
        return graph_text.to_dot(self)

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
        return graph_text.to_mermaid(self)

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
    prog = gp.trace(fun, args, backward, group_by)
    vals: dict[Var, Any] = {}
    adjoint: dict[Var, Any] = {}
    along: dict[tuple[Var, int], Any] = {}
    tangents: dict[Var, Any] = {}
    forward: dict[tuple[Var, int], Any] = {}
    if values:
        vals.update(zip(prog.jaxpr.invars, prog.inputs))
        vals.update(prog.consts)
        gp.evaluate(prog.ops, vals)
        out = prog.outvars[0] if prog.outvars else None
        if tangent is not None:
            if tangent not in prog.in_names[:prog.n_args]:
                raise ValueError(f"graph: tangent={tangent!r} names no input of {prog.name}; "
                                 f"its inputs are {prog.in_names[:prog.n_args]}.")
            seed = prog.jaxpr.invars[prog.in_names.index(tangent)]
            if not gp.is_float(vals[seed]):
                raise TypeError(f"graph: tangent={tangent!r} is an input of dtype "
                                f"{np.asarray(vals[seed]).dtype}; forward mode needs a "
                                "floating-point input.")
            tangents, forward = gp.tangents(prog.ops, vals, seed)
        elif (prog.n_out == 1 and type(out) is Var and np.size(vals[out]) == 1
                and dtypes.is_float(out.aval.dtype)):
            adjoint, along = gp.adjoints(prog.ops, vals, out)
    fmt = lambda x: _fmt(x, precision, max_elements)  # noqa: E731
    g = _assemble(prog, vals, adjoint, along, fmt)
    if tangent is not None:
        _add_tangents(g, prog, tangents, forward, tangent, fmt)
    return _collapse(g, collapse) if collapse else g


def _add_tangents(g: Graph, prog: gp.Program, tangents: dict[Var, Any],
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


def _assemble(prog: gp.Program, vals: dict[Var, Any], adjoint: dict[Var, Any],
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
