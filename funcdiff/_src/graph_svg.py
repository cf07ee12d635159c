"""A small layered-graph renderer in pure Python: `Graph.to_svg(engine="python")`.

It draws a `funcdiff.graph` picture without Graphviz, so that the documentation site (built
where Graphviz is not installed) ships pictures made by funcdiff itself. The layout is the
classic one for data-flow graphs, in four steps:

1. **ranks**: each node one column (or row) after the latest of its inputs; an input or
   constant sits just before its first consumer;
2. **order** within a rank: a few sweeps of the barycentre heuristic (each node moves to the
   mean position of its neighbours in the previous rank), which removes most crossings;
3. **coordinates**: ranks are spaced to leave room for the edge labels, and nodes are pulled
   towards their neighbours, keeping their order and a minimum gap;
4. **drawing**: rounded boxes with one line of text per item (label, type, value, gradient),
   edges as curves through the ranks they span, edge labels on a white background.

Text widths are estimated from character classes (no font is measured or embedded, so the
output is the same on every machine); the SVG names only generic system fonts.
"""

from __future__ import annotations

import dataclasses
import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from funcdiff._src.graph import Graph, GraphNode

FONT = "Helvetica, Arial, sans-serif"
FONT_SIZE = 13.0
SMALL = 10.0  # the shape/dtype line and edge labels
LINE = 1.3  # line height, in font sizes
PAD_X, PAD_Y = 10.0, 6.0  # inside a node
NODE_GAP = 22.0  # between nodes of one rank
RANK_GAP = 46.0  # between ranks, at least (more when edge labels need it)
MARGIN = 16.0

TANGENT_COLOR = "#2ca02c"  # forward-mode tangents: green
HIGHLIGHT_COLOR = "#ff7f0e"  # the highlighted gradient path: orange
_FILL = {"input": "#eef4fb", "const": "#f4f4f4", "op": "#ffffff", "output": "#eef4fb",
         "group": "#f7f7f7"}
_BACKWARD_FILL = "#fdecea"

# Approximate advance widths of Helvetica, in ems, by character class.
_NARROW = set("ijl.,:;'!|()[]{}•1 ")
_WIDE = set("mwMW∇∂")


def text_width(s: str, size: float) -> float:
    """An estimate of the width of `s` set in `FONT` at `size` pixels (slightly generous)."""
    em = 0.0
    for ch in s:
        if ch in _NARROW:
            em += 0.32
        elif ch in _WIDE:
            em += 0.86
        elif ch.isupper():
            em += 0.68
        else:
            em += 0.58
    return em * size


@dataclasses.dataclass
class _Line:
    text: str
    size: float
    color: str
    bold: bool = False


def _node_lines(n: GraphNode, value_color: str, grad_color: str) -> list[_Line]:
    lines = [_Line(n.label, FONT_SIZE, "#222222", n.kind in ("input", "output"))]
    if n.aval:
        lines.append(_Line(n.aval, SMALL, "#777777"))
    if n.value is not None:
        lines.append(_Line(n.value, FONT_SIZE, grad_color if n.backward else value_color))
    if n.tangent is not None:
        lines.append(_Line(n.tangent_text, FONT_SIZE, TANGENT_COLOR))
    if n.grad is not None:
        lines.append(_Line(f"∇ {n.grad}", FONT_SIZE, grad_color))
    return lines


@dataclasses.dataclass
class _Box:
    id: str
    lines: list[_Line]
    w: float
    h: float
    rank: int = 0
    pos: float = 0.0  # order within the rank, then the coordinate across ranks
    x: float = 0.0  # centre
    y: float = 0.0
    dummy: bool = False


def _ranks(ids: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest-path ranks; sources move next to their first consumer."""
    preds: dict[str, list[str]] = {i: [] for i in ids}
    succs: dict[str, list[str]] = {i: [] for i in ids}
    for s, d in edges:
        preds[d].append(s)
        succs[s].append(d)
    rank: dict[str, int] = {}
    indegree = {i: len(preds[i]) for i in ids}
    ready = [i for i in ids if indegree[i] == 0]
    order: list[str] = []
    while ready:
        i = ready.pop(0)
        order.append(i)
        rank[i] = max((rank[p] + 1 for p in preds[i]), default=0)
        for d in succs[i]:
            indegree[d] -= 1
            if indegree[d] == 0:
                ready.append(d)
    for i in ids:  # a cycle cannot happen in a program; be safe anyway
        rank.setdefault(i, 0)
    for i in reversed(order):
        if not preds[i] and succs[i]:
            rank[i] = max(0, min(rank[d] for d in succs[i]) - 1)
    return rank


def _order(layers: list[list[_Box]], links: list[tuple[_Box, _Box]]) -> None:
    """Barycentre sweeps, down then up, four times; ties keep the program's order."""
    up: dict[str, list[_Box]] = {}
    down: dict[str, list[_Box]] = {}
    for a, b in links:
        down.setdefault(a.id, []).append(b)
        up.setdefault(b.id, []).append(a)
    for layer in layers:
        for k, box in enumerate(layer):
            box.pos = float(k)
    for _ in range(4):
        for sweep, neighbours in ((range(1, len(layers)), up),
                                  (range(len(layers) - 2, -1, -1), down)):
            for r in sweep:
                layer = layers[r]
                keys = {}
                for box in layer:
                    near = neighbours.get(box.id, [])
                    keys[box.id] = sum(n.pos for n in near) / len(near) if near else box.pos
                layer.sort(key=lambda b: (keys[b.id], b.pos))
                for k, box in enumerate(layer):
                    box.pos = float(k)


def _place(layer: list[_Box], desired: dict[str, float], across: str) -> None:
    """Put the boxes of one rank as near their desired centres as their order and the gap
    allow, then shift them together so that the errors balance."""
    size = (lambda b: b.h) if across == "y" else (lambda b: b.w)
    centre: list[float] = []
    for k, box in enumerate(layer):
        want = desired.get(box.id, getattr(box, across))
        if k:
            prev = layer[k - 1]
            want = max(want, centre[-1] + (size(prev) + size(box)) / 2 + NODE_GAP)
        centre.append(want)
    errors = [c - desired.get(b.id, getattr(b, across)) for c, b in zip(centre, layer)]
    shift = -sum(errors) / len(errors) if errors else 0.0
    for box, c in zip(layer, centre):
        setattr(box, across, c + shift)


def render(g: Graph, value_color: str, grad_color: str) -> str:
    """The SVG text of `g`, laid out left to right or top to bottom (``g.direction``)."""
    horizontal = g.direction == "LR"
    boxes: dict[str, _Box] = {}
    for n in g.nodes:
        lines = _node_lines(n, value_color, grad_color)
        w = max(text_width(ln.text, ln.size) for ln in lines) + 2 * PAD_X
        h = sum(ln.size * LINE for ln in lines) + 2 * PAD_Y
        boxes[n.id] = _Box(n.id, lines, max(w, 36.0), h)
    rank = _ranks(list(boxes), [(e.src, e.dst) for e in g.edges])
    for box in boxes.values():
        box.rank = rank[box.id]
    n_ranks = max(rank.values(), default=0) + 1
    layers: list[list[_Box]] = [[] for _ in range(n_ranks)]
    for box in boxes.values():
        layers[box.rank].append(box)
    # Edges spanning several ranks pass through invisible points, one per rank crossed.
    routes: list[list[_Box]] = []
    links: list[tuple[_Box, _Box]] = []
    for k, e in enumerate(g.edges):
        a, b = boxes[e.src], boxes[e.dst]
        route = [a]
        for r in range(a.rank + 1, b.rank):
            dummy = _Box(f"_d{k}_{r}", [], 4.0, 4.0, r, dummy=True)
            layers[r].append(dummy)
            route.append(dummy)
        route.append(b)
        routes.append(route)
        links += list(zip(route, route[1:]))
    _order(layers, links)

    # Spacing between ranks: room for the widest (or tallest) label of the edges leaving it.
    label_room = [0.0] * n_ranks
    for e, route in zip(g.edges, routes):
        text = _edge_text(e)
        if text:
            need = (text_width(text, SMALL) + 16 if horizontal else SMALL * LINE + 14)
            label_room[route[0].rank] = max(label_room[route[0].rank], need)
    along, across = ("x", "y") if horizontal else ("y", "x")
    extent = (lambda b: b.w) if horizontal else (lambda b: b.h)
    cursor = MARGIN
    for r, layer in enumerate(layers):
        thick = max((extent(b) for b in layer), default=0.0)
        for box in layer:
            setattr(box, along, cursor + thick / 2)
        cursor += thick + max(RANK_GAP, label_room[r] + 24)
    # Across ranks: stack, then pull each node towards its neighbours, a few times.
    for layer in layers:
        _place(layer, {}, across)
    nbrs: dict[str, list[_Box]] = {}
    for a, b in links:
        nbrs.setdefault(a.id, []).append(b)
        nbrs.setdefault(b.id, []).append(a)
    for _ in range(6):
        for layer in layers:
            desired = {b.id: sum(getattr(n, across) for n in nbrs[b.id]) / len(nbrs[b.id])
                       for b in layer if b.id in nbrs}
            _place(layer, desired, across)
    everything = list(boxes.values()) + [b for layer in layers for b in layer if b.dummy]
    for axis, size in (("x", lambda b: b.w), ("y", lambda b: b.h)):
        low = min((getattr(b, axis) - size(b) / 2 for b in everything), default=0.0)
        for b in everything:
            setattr(b, axis, getattr(b, axis) - low + MARGIN)
    clusters = _clusters(g, boxes)
    width = max((b.x + b.w / 2 for b in everything), default=0.0) + MARGIN
    height = max((b.y + b.h / 2 for b in everything), default=0.0) + MARGIN
    for _, (_, y0, _, _) in clusters:
        if y0 < MARGIN:  # room for the cluster titles
            for b in everything:
                b.y += MARGIN
            height += MARGIN
            clusters = _clusters(g, boxes)
            break
    return _svg(g, boxes, routes, clusters, width, height, horizontal, grad_color)


def _edge_text(e: object) -> str:
    tangent, grad = getattr(e, "tangent", None), getattr(e, "grad", None)
    return "  ".join(t for t in (tangent, grad) if t is not None)


def _clusters(g: Graph, boxes: dict[str, _Box]
              ) -> list[tuple[str, tuple[float, float, float, float]]]:
    """The bounding boxes of the groups (and of the forward and backward passes)."""
    has_backward = any(n.backward for n in g.nodes)
    members: dict[tuple[str, ...], list[_Box]] = {}
    for n in g.nodes:
        section = (("backward pass",) if n.backward else ("forward pass",)) if has_backward \
            else ()
        path = section + n.group
        for k in range(1, len(path) + 1):
            members.setdefault(path[:k], []).append(boxes[n.id])
    out = []
    for path, bs in sorted(members.items(), key=lambda kv: len(kv[0])):
        pad = 8.0 + 6.0 * (4 - min(len(path), 4))
        x0 = min(b.x - b.w / 2 for b in bs) - pad
        y0 = min(b.y - b.h / 2 for b in bs) - pad - SMALL
        x1 = max(b.x + b.w / 2 for b in bs) + pad
        y1 = max(b.y + b.h / 2 for b in bs) + pad
        out.append((path[-1], (x0, y0, x1, y1)))
    return out


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _esc(s: str) -> str:
    return html.escape(s, quote=True)


def _anchor(box: _Box, toward: _Box, horizontal: bool) -> tuple[float, float]:
    """Where an edge leaves or enters a box: the middle of the side facing the other end."""
    if box.dummy:
        return box.x, box.y
    if horizontal:
        return (box.x + box.w / 2 if toward.x > box.x else box.x - box.w / 2), box.y
    return box.x, (box.y + box.h / 2 if toward.y > box.y else box.y - box.h / 2)


def _path(points: list[tuple[float, float]], horizontal: bool) -> str:
    """A smooth curve through `points`: cubic pieces with tangents along the rank axis."""
    (x, y), rest = points[0], points[1:]
    d = [f"M{_f(x)},{_f(y)}"]
    for nx, ny in rest:
        if horizontal:
            mid = (x + nx) / 2
            d.append(f"C{_f(mid)},{_f(y)} {_f(mid)},{_f(ny)} {_f(nx)},{_f(ny)}")
        else:
            mid = (y + ny) / 2
            d.append(f"C{_f(x)},{_f(mid)} {_f(nx)},{_f(mid)} {_f(nx)},{_f(ny)}")
        x, y = nx, ny
    return " ".join(d)


def _marker(name: str, size: int, color: str) -> str:
    """An arrowhead of `size` pixels whatever the edge's width."""
    return (f'<marker id="{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="{size}" '
            f'markerHeight="{size}" markerUnits="userSpaceOnUse" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>')


def _svg(g: Graph, boxes: dict[str, _Box], routes: list[list[_Box]],
         clusters: list[tuple[str, tuple[float, float, float, float]]], width: float,
         height: float, horizontal: bool, grad_color: str) -> str:
    nodes = {n.id: n for n in g.nodes}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" '
           f'height="{_f(height)}" viewBox="0 0 {_f(width)} {_f(height)}" '
           f'font-family="{FONT}" font-size="{_f(FONT_SIZE)}" role="img">',
           f"<title>{_esc(g.name)}</title>",
           "<defs>",
           _marker("arrow", 9, "#555555"),
           _marker("arrow-hi", 12, HIGHLIGHT_COLOR),
           "</defs>",
           f'<rect width="{_f(width)}" height="{_f(height)}" fill="#ffffff"/>']
    for name, (x0, y0, x1, y1) in clusters:
        dash = "" if name in ("forward pass", "backward pass") else ' stroke-dasharray="5,3"'
        out.append(f'<rect x="{_f(x0)}" y="{_f(y0)}" width="{_f(x1 - x0)}" '
                   f'height="{_f(y1 - y0)}" rx="8" fill="none" stroke="#888888"{dash}/>')
        out.append(f'<text x="{_f(x0 + 8)}" y="{_f(y0 + SMALL + 3)}" font-size="{_f(SMALL)}" '
                   f'fill="#555555">{_esc(name)}</text>')
    labels = []
    fan_out: dict[str, int] = {}
    for e in g.edges:
        fan_out[e.src] = fan_out.get(e.src, 0) + 1
    for e, route in zip(g.edges, routes):
        pts = [_anchor(route[0], route[1], horizontal)]
        pts += [(b.x, b.y) for b in route[1:-1]]
        pts.append(_anchor(route[-1], route[-2], horizontal))
        color, stroke = ("#999999", "1.2") if e.residual else ("#555555", "1.3")
        marker = "arrow"
        if e.highlight:
            color, stroke, marker = HIGHLIGHT_COLOR, "3", "arrow-hi"
        dash = ' stroke-dasharray="5,4"' if e.residual else ""
        out.append(f'<path d="{_path(pts, horizontal)}" fill="none" stroke="{color}" '
                   f'stroke-width="{stroke}"{dash} marker-end="url(#{marker})"/>')
        parts = [(t, c) for t, c in ((e.tangent, TANGENT_COLOR), (e.grad, grad_color))
                 if t is not None]
        if parts:
            # Nearer the source than the target, where edges into one node converge; top to
            # bottom, on the outer side of the edge: the side it heads to where edges leave one
            # node, the side it comes from where they meet at one.
            (x0, y0), (x1, y1) = pts[0], pts[1]
            heading = 0.0 if abs(x1 - x0) < 1 else (1.0 if x1 > x0 else -1.0)
            side = (heading if fan_out[e.src] > 1 else -heading) or 1.0
            labels.append(((x0 + 0.4 * (x1 - x0), y0 + 0.4 * (y1 - y0)), side, parts))
    for (cx, cy), side, parts in labels:
        text = "  ".join(t for t, _ in parts)
        w, h = text_width(text, SMALL) + 6, SMALL * LINE + 2
        if not horizontal:
            cx += side * (w / 2 + 4)
        out.append(f'<rect x="{_f(cx - w / 2)}" y="{_f(cy - h / 2)}" width="{_f(w)}" '
                   f'height="{_f(h)}" rx="3" fill="#ffffff" fill-opacity="0.9"/>')
        spans = "".join(f'<tspan fill="{c}">{_esc(t)}</tspan>' + ("  " if k < len(parts) - 1
                                                                   else "")
                        for k, (t, c) in enumerate(parts))
        out.append(f'<text x="{_f(cx)}" y="{_f(cy + SMALL * 0.35)}" font-size="{_f(SMALL)}" '
                   f'text-anchor="middle" xml:space="preserve">{spans}</text>')
    for box in boxes.values():
        n = nodes[box.id]
        fill = _BACKWARD_FILL if n.backward and n.kind == "op" else _FILL[n.kind]
        stroke, sw = ("#555555", "2.2") if n.kind == "output" else ("#777777", "1.2")
        if n.highlight:
            stroke, sw = HIGHLIGHT_COLOR, "3"
        dash = ' stroke-dasharray="4,2"' if n.kind == "group" else ""
        rx = box.h / 2 if n.kind == "input" else 6
        rx = min(rx, 16.0)
        out.append(f'<g class="node {n.kind}" id="{_esc(n.id)}">')
        out.append(f'<rect x="{_f(box.x - box.w / 2)}" y="{_f(box.y - box.h / 2)}" '
                   f'width="{_f(box.w)}" height="{_f(box.h)}" rx="{_f(rx)}" fill="{fill}" '
                   f'stroke="{stroke}" stroke-width="{sw}"{dash}/>')
        y = box.y - box.h / 2 + PAD_Y
        for ln in box.lines:
            y += ln.size * LINE
            weight = ' font-weight="bold"' if ln.bold else ""
            out.append(f'<text x="{_f(box.x)}" y="{_f(y - ln.size * 0.3)}" '
                       f'font-size="{_f(ln.size)}" fill="{ln.color}" text-anchor="middle"'
                       f"{weight}>{_esc(ln.text)}</text>")
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
