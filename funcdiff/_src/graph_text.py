"""A `Graph` as text: Graphviz's DOT language and Mermaid flowcharts (`Graph.to_dot`,
`Graph.to_mermaid`), with the colours every rendering of a graph uses."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from funcdiff._src.graph_svg import HIGHLIGHT_COLOR, TANGENT_COLOR

if TYPE_CHECKING:
    from funcdiff._src.graph import Graph, GraphNode

VALUE_COLOR = "#1f77b4"  # forward values: blue
GRAD_COLOR = "#d62728"  # gradients: red
GRAD_MARK = "∇"


def to_dot(g: Graph) -> str:
    """`g` in Graphviz's DOT language: values in blue, gradients in red, groups as clusters,
    residual edges dashed."""
    lines = [
        f"digraph {_dot_id(g.name)} {{",
        f"  rankdir={g.direction};",
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9, color="#555555"];',
    ]
    lines += _nest(g.nodes, _dot_open, "}", _dot_node, "  ")
    for e in g.edges:
        attrs = []
        parts = [
            f'<FONT COLOR="{c}">{_esc(t)}</FONT>'
            for t, c in ((e.tangent, TANGENT_COLOR), (e.grad, GRAD_COLOR))
            if t is not None
        ]
        if parts:
            attrs.append(f"label=<{' '.join(parts)}>")
        if e.residual:
            attrs.append('style=dashed, color="#999999"')
        if e.highlight:
            attrs.append(f'color="{HIGHLIGHT_COLOR}", penwidth=3')
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {e.src} -> {e.dst}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(g: Graph) -> str:
    """`g` as a Mermaid flowchart."""
    lines = [
        f"flowchart {g.direction}",
        f"  classDef input fill:#eef4fb,stroke:{VALUE_COLOR}",
        "  classDef const fill:#f4f4f4,stroke:#999999",
        "  classDef op fill:#ffffff,stroke:#555555",
        "  classDef output fill:#eef4fb,stroke:#555555,stroke-width:2px",
        "  classDef group fill:#f7f7f7,stroke:#555555,stroke-dasharray:4 2",
        f"  classDef backward fill:#fdecea,stroke:{GRAD_COLOR}",
    ]
    lines += _nest(g.nodes, _mermaid_open, "end", _mermaid_node, "  ")
    styled, highlighted = [], []
    for i, e in enumerate(g.edges):
        arrow = "-.->" if e.residual else "-->"
        text = " ".join(t for t in (e.tangent, e.grad) if t is not None)
        label = f'|"{_mermaid_text(text)}"|' if text else ""
        lines.append(f"  {e.src} {arrow}{label} {e.dst}")
        if text:
            styled.append(i)
        if e.highlight:
            highlighted.append(i)
    color = TANGENT_COLOR if any(e.tangent for e in g.edges) else GRAD_COLOR
    if styled:
        lines.append(f"  linkStyle {','.join(map(str, styled))} color:{color}")
    if highlighted:
        lines.append(
            f"  linkStyle {','.join(map(str, highlighted))} "
            f"stroke:{HIGHLIGHT_COLOR},stroke-width:3px"
        )
    return "\n".join(lines) + "\n"


def _sections(
    nodes: Sequence[GraphNode],
) -> tuple[dict[tuple[str, ...], list[GraphNode]], dict[tuple[str, ...], list]]:
    """Nodes by cluster path (the section, forward or backward pass, when both are drawn,
    then the group path), and the child clusters of each path."""
    members: dict[tuple[str, ...], list[GraphNode]] = {(): []}
    has_backward = any(n.backward for n in nodes)
    for n in nodes:
        section = (("backward pass",) if n.backward else ("forward pass",)) if has_backward else ()
        members.setdefault(section + n.group, []).append(n)
    for path in list(members):
        for k in range(len(path)):
            members.setdefault(path[:k], [])
    children: dict[tuple[str, ...], list] = {path: [] for path in members}
    for path in members:
        if path:
            children[path[:-1]].append(path)
    return members, children


def _nest(
    nodes: Sequence[GraphNode],
    open_: Callable[[tuple[str, ...]], str],
    close: str,
    node: Callable[[GraphNode], str],
    indent: str,
) -> list[str]:
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
    return (
        f"subgraph {_dot_id('cluster_' + '/'.join(path))} {{ label={_dot_id(name)}; "
        f'style="{style}"; fontname="Helvetica"; fontsize=10; color="#888888";'
    )


_DOT_SHAPES = {"input": "box", "const": "box", "op": "box", "output": "box", "group": "box3d"}
_DOT_FILL = {
    "input": "#eef4fb",
    "const": "#f4f4f4",
    "op": "#ffffff",
    "output": "#eef4fb",
    "group": "#f7f7f7",
}


def _dot_node(n: GraphNode) -> str:
    rows = [f"<B>{_esc(n.label)}</B>" if n.kind in ("input", "output") else _esc(n.label)]
    if n.aval:
        rows.append(f'<FONT POINT-SIZE="8" COLOR="#777777">{_esc(n.aval)}</FONT>')
    if n.value is not None:
        color = GRAD_COLOR if n.backward else VALUE_COLOR
        rows.append(f'<FONT COLOR="{color}">{_esc(n.value)}</FONT>')
    if n.tangent is not None:
        rows.append(f'<FONT COLOR="{TANGENT_COLOR}">{_esc(n.tangent_text)}</FONT>')
    if n.grad is not None:
        rows.append(f'<FONT COLOR="{GRAD_COLOR}">{GRAD_MARK} {_esc(n.grad)}</FONT>')
    style = "rounded,filled" + (",bold" if n.kind == "output" else "")
    fill = "#fdecea" if n.backward and n.kind == "op" else _DOT_FILL[n.kind]
    extra = f', color="{HIGHLIGHT_COLOR}", penwidth=3' if n.highlight else ""
    return (
        f'{n.id} [shape={_DOT_SHAPES[n.kind]}, style="{style}", fillcolor="{fill}", '
        f"label=<{'<BR/>'.join(rows)}>{extra}];"
    )


def _dot_id(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _esc(s: str) -> str:
    return html.escape(s, quote=True)


_MERMAID_SHAPES = {
    "input": ('(["', '"])'),
    "const": ('["', '"]'),
    "op": ('("', '")'),
    "output": ('[/"', '"/]'),
    "group": ('[["', '"]]'),
}


def _mermaid_open(path: tuple[str, ...]) -> str:
    sid = "sg_" + "".join(c if c.isalnum() else "_" for c in "/".join(path))
    return f'subgraph {sid}["{_mermaid_text(path[-1])}"]'


def _mermaid_node(n: GraphNode) -> str:
    left, right = _MERMAID_SHAPES[n.kind]
    cls = "backward" if n.backward and n.kind == "op" else n.kind
    return f"{n.id}{left}{'<br/>'.join(map(_mermaid_text, n.rows))}{right}:::{cls}"


def _mermaid_text(s: str) -> str:
    return s.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
