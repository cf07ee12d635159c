"""`funcdiff.graph`: computation graphs from the IR, with values and gradients, the backward
pass, groups, and their DOT, Mermaid and SVG renderings.

The classic pictures of backpropagation are reproduced with their published numbers."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff._src.graph import GRAD_COLOR, VALUE_COLOR, Graph


def sigmoid_neuron(w, x):
    return 1.0 / (1.0 + jnp.exp(-(w[0] * x[0] + w[1] * x[1] + w[2])))


W = np.array([2.0, -3.0, -3.0])
X = np.array([-1.0, -2.0])


def one(g: Graph, label: str):
    (node,) = g.find(label)
    return node


def test_sigmoid_neuron_gate_by_gate():
    """CS231n's sigmoid neuron: the forward values and the gradient at every gate."""
    g = funcdiff.graph(sigmoid_neuron)(W, X)
    assert one(g, "w").value == "[2.00, -3.00, -3.00]"
    assert one(g, "w").grad == "[-0.20, -0.39, 0.20]"
    assert one(g, "x").grad == "[0.39, -0.59]"
    # 1/x, +1, exp, *-1, the last +: the gradient flowing into each gate's output.
    assert (one(g, "div").value, one(g, "div").grad) == ("0.73", "1.00")
    assert (one(g, "exp").value, one(g, "exp").grad) == ("0.37", "-0.53")
    assert one(g, "add(1.00, •)").grad == "-0.53"
    assert (one(g, "neg").value, one(g, "neg").grad) == ("-1.00", "-0.20")
    adds = [n for n in g.find("add") if n.label == "add"]
    assert [(n.value, n.grad) for n in adds] == [("4.00", "0.20"), ("1.00", "0.20")]
    muls = g.find("mul")
    assert [(n.value, n.grad) for n in muls] == [("-2.00", "0.20"), ("6.00", "0.20")]
    text = "\n".join(n.text for n in g.nodes)
    for number in ("-0.53", "-0.20", "0.20", "0.39", "-0.59"):
        assert number in text
    dot, mermaid = g.to_dot(), g.to_mermaid()
    for number in ("-0.53", "0.39", "-0.59"):
        assert number in dot and number in mermaid


def test_gradients_add_where_a_value_branches():
    """f = (a + b)(b + c): b feeds both sums, and its gradient is the sum of both edges'."""
    g = funcdiff.graph(lambda a, b, c: (a + b) * (b + c))(2.0, 1.0, 0.0)
    a, b, c = one(g, "a"), one(g, "b"), one(g, "c")
    assert (a.grad, b.grad, c.grad) == ("1.00", "4.00", "3.00")
    out_of_b = sorted(e.grad for e in g.edges if e.src == b.id)
    assert out_of_b == ["1.00", "3.00"]
    mermaid = g.to_mermaid()
    assert f'{b.id} -->|"1.00"|' in mermaid and f'{b.id} -->|"3.00"|' in mermaid


def test_gradients_match_grad():
    def f(x, y):
        h = jnp.tanh(x @ y)
        return jnp.sum(h * h) + jnp.sum(jnp.log1p(x**2))

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(2, 3)), rng.normal(size=3)
    g = funcdiff.graph(f, precision=8, max_elements=10)(x, y)
    gx, gy = funcdiff.grad(f, argnums=(0, 1))(x, y)
    shown = [float(v) for v in re.findall(r"-?\d+\.\d+", one(g, "x").grad)]
    np.testing.assert_allclose(shown, gx.ravel(), atol=1e-8)
    shown = [float(v) for v in re.findall(r"-?\d+\.\d+", one(g, "y").grad)]
    np.testing.assert_allclose(shown, gy, atol=1e-8)


def test_values_without_gradients_for_a_vector_output():
    g = funcdiff.graph(lambda x: jnp.sin(x) * 2.0)(np.array([0.0, 1.0]))
    assert one(g, "sin").value == "[0.00, 0.84]"
    assert all(n.grad is None for n in g.nodes) and all(e.grad is None for e in g.edges)


def test_structure_only_and_large_arrays():
    g = funcdiff.graph(lambda x: jnp.sum(x**2), values=False)(np.ones(3))
    assert all(n.value is None and n.grad is None for n in g.nodes)
    assert [n.kind for n in g.nodes] == ["input", "op", "op", "output"]
    g = funcdiff.graph(lambda x: jnp.sum(x**2))(np.arange(100.0))
    assert one(g, "x").value == "min 0.00, max 99.00"


def test_backward_graph_next_to_the_forward_one():
    g = funcdiff.graph(sigmoid_neuron, backward=True)(W, X)
    forward = [n for n in g.nodes if not n.backward]
    backward = [n for n in g.nodes if n.backward]
    assert backward and forward
    ct = next(n for n in backward if n.kind == "input")
    assert ct.label == "ct out" and ct.value == "1.00"
    grads = {n.label: n.value for n in backward if n.kind == "output"}
    assert grads == {"grad w": "[-0.20, -0.39, 0.20]", "grad x": "[0.39, -0.59]"}
    residual = [e for e in g.edges if e.residual]
    ids = {n.id: n for n in g.nodes}
    assert residual and all(not ids[e.src].backward and ids[e.dst].backward for e in residual)
    dot = g.to_dot()
    assert '"cluster_forward pass"' in dot and '"cluster_backward pass"' in dot
    assert "style=dashed" in dot and GRAD_COLOR in dot and VALUE_COLOR in dot
    # The forward nodes still carry their gradients.
    assert one(g, "exp").grad == "-0.53"


@funcdiff.jit
def layer(w, x):
    return jnp.tanh(w @ x)


def net(w1, w2, x):
    return jnp.sum(layer(w2, layer(w1, x)))


def _net_args():
    rng = np.random.default_rng(1)
    return rng.normal(size=(3, 2)), rng.normal(size=(1, 3)), rng.normal(size=2)


def test_jit_calls_are_inlined_and_grouped():
    g = funcdiff.graph(net)(*_net_args())
    groups = sorted({n.group for n in g.nodes if n.group})
    assert groups == [("jit(layer)",), ("jit(layer) #2",)]
    assert len(g.find("tanh")) == 2 and all(n.grad is not None for n in g.find("tanh"))
    mermaid = g.to_mermaid()
    assert mermaid.count("subgraph ") == mermaid.count("\n  end") == 2
    flat = funcdiff.graph(net, group_by=None)(*_net_args())
    assert all(not n.group for n in flat.nodes)


def test_groups_collapse_to_one_node():
    full = funcdiff.graph(net)(*_net_args())
    g = funcdiff.graph(net, collapse=True)(*_net_args())
    groups = [n for n in g.nodes if n.kind == "group"]
    assert [n.label for n in groups] == ["jit(layer)", "jit(layer) #2"]
    assert all(n.aval == "2 operations" for n in groups)
    assert len(g.nodes) == len(full.nodes) - 2
    # The second call's output is the first call's consumer.
    assert any(e.src == groups[0].id and e.dst == groups[1].id for e in g.edges)
    assert groups[1].grad == full.find("tanh")[1].grad  # the value leaving the group
    ids = {n.id for n in g.nodes}
    assert all(e.src in ids and e.dst in ids for e in g.edges)
    # By name: "jit(layer)" names both calls.
    named = funcdiff.graph(net, collapse=["jit(layer)"])(*_net_args())
    assert len([n for n in named.nodes if n.kind == "group"]) == 2


def test_collapsed_group_takes_its_constants():
    table = np.array([2, 0, 1])

    def inner(x):
        return x[table] * 2.0  # the index table is a constant read only here

    def outer(x):
        return jnp.sum(inner(x))

    full = funcdiff.graph(outer, group_by="function")(np.ones(3))
    assert [n.kind for n in full.nodes].count("const") == 1
    g = funcdiff.graph(outer, group_by="function", collapse=True)(np.ones(3))
    assert "const" not in [n.kind for n in g.nodes]
    assert [n.label for n in g.nodes if n.kind == "group"] == ["inner"]


def test_group_by_user_function():
    def inner(x):
        return jnp.sin(x) * 2.0

    def outer(x):
        return jnp.sum(inner(x) + inner(x * x))

    g = funcdiff.graph(outer, group_by="function")(np.ones(2))
    assert sorted({n.group for n in g.nodes if n.group}) == [("inner",), ("inner #2",)]
    (square,) = [n for n in g.nodes if n.label == "mul"]
    assert square.group == ()  # x * x is traced in outer itself
    g = funcdiff.graph(outer, group_by="function", collapse=["inner"])(np.ones(2))
    assert [n.label for n in g.nodes if n.kind == "group"] == ["inner", "inner #2"]


def test_dot_and_mermaid_are_well_formed():
    g = funcdiff.graph(net, backward=True)(*_net_args())
    dot = g.to_dot()
    assert dot.startswith('digraph "net" {') and dot.rstrip().endswith("}")
    assert dot.count("{") == dot.count("}")
    for n in g.nodes:
        assert re.search(rf"^\s*{n.id} \[", dot, re.M), n.id
    mermaid = g.to_mermaid()
    assert mermaid.startswith("flowchart LR\n")
    opened = len(re.findall(r"^\s*subgraph ", mermaid, re.M))
    assert opened == len(re.findall(r"^\s*end$", mermaid, re.M)) >= 2
    for n in g.nodes:
        assert re.search(rf"^\s*{n.id}[\(\[]", mermaid, re.M), n.id


def test_notebooks_display_the_graph():
    g = funcdiff.graph(lambda x: jnp.sum(x * x))(np.ones(2))
    bundle = g._repr_mimebundle_()
    assert bundle["text/vnd.mermaid"] == g.to_mermaid()
    assert bundle["text/plain"].startswith("<Graph <lambda>:")


@pytest.mark.skipif(shutil.which("dot") is None, reason="SVG needs Graphviz's dot program")
def test_svg_by_graphviz():
    svg = funcdiff.graph(sigmoid_neuron)(W, X).to_svg()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "0.53" in svg


def test_svg_without_graphviz(monkeypatch):
    """Asked for Graphviz, it says what to install; by default it draws with its own layout."""
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setitem(__import__("sys").modules, "graphviz", None)
    g = funcdiff.graph(sigmoid_neuron)(W, X)
    with pytest.raises(RuntimeError, match="Graphviz"):
        g.to_svg(engine="dot")
    assert g.to_svg() == g.to_svg(engine="python")
    assert "image/svg+xml" in g._repr_mimebundle_()
    with pytest.raises(ValueError, match="engine"):
        g.to_svg(engine="cairo")


def branches(**options):
    return funcdiff.graph(lambda a, b, c: (a + b) * (b + c), **options)(2.0, 1.0, 1.0)


def test_forward_mode_tangents():
    """tangent="b": the tangent d node / d b at every node and along every edge, as jvp
    computes it; tangents add where the two paths from b merge."""
    g = branches(tangent="b")
    assert (one(g, "a").tangent, one(g, "b").tangent, one(g, "c").tangent) == \
        (None, "1.00", None)
    assert [n.tangent for n in g.find("add")] == ["1.00", "1.00"]
    _, expected = funcdiff.jvp(lambda a, b, c: (a + b) * (b + c), (2.0, 1.0, 1.0),
                               (0.0, 1.0, 0.0))
    assert one(g, "mul").tangent == one(g, "out").tangent == f"{expected:.2f}" == "5.00"
    into_mul = sorted(e.tangent for e in g.edges if e.dst == one(g, "mul").id)
    assert into_mul == ["2.00", "3.00"]  # v * db/db and u * db/db, added in the product
    assert all(n.grad is None for n in g.nodes)
    assert one(g, "mul").text.splitlines()[-1] == "∂/∂b 5.00"
    for text in (g.to_dot(), g.to_mermaid(), g.to_svg(engine="python")):
        assert "∂/∂b 5.00" in text
    # An array input is seeded with ones: the derivative along (1, ..., 1).
    g = funcdiff.graph(lambda x: jnp.sum(x * x), tangent="x")(np.array([1.0, 2.0]))
    assert one(g, "out").tangent == "6.00"


def test_highlight_marks_the_paths_of_one_gradient():
    g = branches(highlight="a")
    lit = {n.label for n in g.nodes if n.highlight}
    assert lit == {"a", "add", "mul", "out"} and len([n for n in g.nodes if n.highlight]) == 4
    (first_add, second_add) = g.find("add")
    assert first_add.highlight and not second_add.highlight
    assert {(e.src, e.dst) for e in g.edges if e.highlight} == {
        (one(g, "a").id, first_add.id), (first_add.id, one(g, "mul").id),
        (one(g, "mul").id, one(g, "out").id)}
    g = branches(highlight="b")  # both paths
    assert all(n.highlight for n in g.find("add")) and not one(g, "c").highlight
    assert g.to_svg(engine="python").count('stroke="#ff7f0e"') == 5 + 5  # nodes + edges


def test_scalar_types_and_direction():
    g = branches(scalar_types=False, direction="TB")
    assert all(n.aval == "" for n in g.nodes)
    assert "rankdir=TB;" in g.to_dot() and g.to_mermaid().startswith("flowchart TB\n")
    g = funcdiff.graph(lambda x, s: jnp.sum(x) * s, scalar_types=False)(np.ones(2), 3.0)
    assert one(g, "x").aval == "f64[2]" and one(g, "s").aval == ""
    assert "rankdir=LR;" in g.to_dot()


def _boxes(svg: str):
    import xml.etree.ElementTree as ET

    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    boxes = {}
    for group in root.iter(ns + "g"):
        rect = group.find(ns + "rect")
        boxes[group.get("id")] = tuple(float(rect.get(k)) for k in ("x", "y", "width", "height"))
    return root, boxes


@pytest.mark.parametrize("options", [{}, {"direction": "TB"}, {"backward": True},
                                     {"collapse": True}, {"group_by": None}])
def test_python_svg_renderer(options):
    """funcdiff's own SVG: well-formed, every node drawn once without overlaps and inside the
    picture, every number shown, the same text every time, nothing loaded from elsewhere."""
    g = funcdiff.graph(net, **options)(*_net_args())
    svg = g.to_svg(engine="python")
    assert svg == g.to_svg(engine="python")
    root, boxes = _boxes(svg)
    assert set(boxes) == {n.id for n in g.nodes}
    width, height = float(root.get("width")), float(root.get("height"))
    items = list(boxes.values())
    for i, (x, y, w, h) in enumerate(items):
        assert 0 <= x and x + w <= width and 0 <= y and y + h <= height
        for x2, y2, w2, h2 in items[i + 1:]:
            assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y, "overlap"
    for n in g.nodes:
        for row in n.rows:
            assert html_escape(row) in svg
    assert svg.count("<path d=") == len(g.edges) + 2  # + the two arrowheads
    assert re.findall(r"https?://[^\"]+", svg) == ["http://www.w3.org/2000/svg"]


def html_escape(s: str) -> str:
    import html

    return html.escape(s, quote=True)


def test_sigmoid_neuron_svg_shows_every_gradient():
    svg = funcdiff.graph(sigmoid_neuron, scalar_types=False)(W, X).to_svg(engine="python")
    for number in ("-0.53", "-0.20", "0.20", "0.39", "-0.59", "0.73", "1.37"):
        assert number in svg
    assert GRAD_COLOR in svg and VALUE_COLOR in svg


def test_errors():
    with pytest.raises(ValueError, match="group_by"):
        funcdiff.graph(sigmoid_neuron, group_by="layer")
    with pytest.raises(TypeError, match="not an array"):
        funcdiff.graph(lambda x: x)("text")
    with pytest.raises(TypeError, match="no floating-point input"):
        funcdiff.graph(lambda k: k * 2, backward=True)(np.arange(3))
    with pytest.raises(ValueError, match=r"highlight='d' names no input .* \['a', 'b', 'c'\]"):
        branches(highlight="d")
    with pytest.raises(ValueError, match=r"tangent='w' names no input"):
        branches(tangent="w")
    with pytest.raises(ValueError, match="needs values=True and backward=False"):
        funcdiff.graph(sigmoid_neuron, tangent="w", backward=True)
    with pytest.raises(ValueError, match="direction must be 'LR'"):
        funcdiff.graph(sigmoid_neuron, direction="RL")
    with pytest.raises(TypeError, match="floating-point input"):
        funcdiff.graph(lambda k, x: k * x, tangent="k")(np.arange(3), 1.0)


def test_no_reverse_mode_through_a_while_loop_stops_the_gradient_there():
    # A while_loop has no reverse mode: the gradient reaches its output and stops, the ops
    # before it get none, and nothing is raised (the check is explicit, not a caught error).
    def f(x):
        y = jnp.abs(x) + 0.5
        return funcdiff.lax.while_loop(lambda c: c.sum() < 10, lambda c: c * 2, y).sum()

    g = funcdiff.graph(f)(np.array([0.3, -0.7, 1.1]))
    assert one(g, "while").grad == "[1.00, 1.00, 1.00]"
    assert one(g, "abs").grad is None and one(g, "x").grad is None
    assert one(g, "abs").value == "[0.30, 0.70, 1.10]"


def test_gradients_of_a_jitted_function_called_twice_are_kept_apart():
    # Each call is inlined with its own variables, so each copy gets its own gradient.
    @funcdiff.jit
    def h(x):
        return jnp.sin(x) * 2.0

    g = funcdiff.graph(lambda x: h(x) + h(3.0 * x))(0.5)
    sins = g.find("sin")
    assert len(sins) == 2
    assert sorted(n.value for n in sins) == ["0.48", "1.00"]  # sin(0.5), sin(1.5)
    assert [n.grad for n in sins] == ["2.00", "2.00"]
    assert float(one(g, "x").grad) == pytest.approx(2 * np.cos(0.5) + 6 * np.cos(1.5), abs=5e-3)
