"""The pictures of the documentation, made at build time (an mkdocs hook: see mkdocs.yml).

* **Graphs** (`GRAPHS`) are drawn by `funcdiff.graph` with funcdiff's own SVG renderer
  (``to_svg(engine="python")``), so that they are the same on every machine, Graphviz or
  not. They are also committed under ``docs/figures/graphs/`` so that the pages read well
  on GitHub; the build replaces them with freshly drawn ones, and ``tests/test_docs.py``
  fails when a committed one is stale. Regenerate them with
  ``python docs/_hooks/figures.py``.
* **Plots** (`PLOTS`) are drawn with matplotlib (in the ``docs`` extra) from numbers
  computed at build time, often by running a page's own code. They are not committed (their
  bytes depend on the matplotlib version). Without matplotlib the build still succeeds, and
  each plot is replaced by a picture saying what to install.

Every picture is SVG, with no external font or script: the site works offline.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

DOCS = Path(__file__).resolve().parent.parent
GRAPH_DIR = "figures/graphs"
PLOT_DIR = "figures/plots"
log = logging.getLogger("mkdocs.hooks.figures")

# ---- graphs ---------------------------------------------------------------------------------

GRAPHS: dict[str, Callable[[], Any]] = {}
PLOTS: dict[str, Callable[[Any], Any]] = {}


def _graph(name: str) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    def register(make: Callable[[], Any]) -> Callable[[], Any]:
        GRAPHS[f"{GRAPH_DIR}/{name}.svg"] = make
        return make

    return register


def _plot(name: str) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    def register(make: Callable[[Any], Any]) -> Callable[[Any], Any]:
        PLOTS[f"{PLOT_DIR}/{name}.svg"] = make
        return make

    return register


def sigmoid(z: Any) -> Any:
    """σ as its four gates (1 / (1 + exp(-z))), as the tutorials first draw it."""
    import funcdiff.numpy as jnp

    return 1.0 / (1.0 + jnp.exp(-z))


@_graph("sigmoid-neuron")
def _sigmoid_neuron() -> Any:
    """CS231n's neuron, gate by gate, at w = (2, -3, -3), x = (-1, -2)."""
    import funcdiff

    def neuron(w0, x0, w1, x1, w2):  # w2 is the bias
        return sigmoid(w0 * x0 + w1 * x1 + w2)

    return funcdiff.graph(neuron, scalar_types=False, direction="TB")(
        2.0, -1.0, -3.0, -2.0, -3.0)


def _branches(**options: Any) -> Any:
    import funcdiff

    def f(a, b, c):
        return (a + b) * (b + c)

    return funcdiff.graph(f, scalar_types=False, **options)(2.0, 1.0, 1.0)


@_graph("branches-reverse")
def _branches_reverse() -> Any:
    """(a + b)(b + c) at (2, 1, 1): the gradient of f at every node, b's two paths marked."""
    return _branches(highlight="b")


@_graph("branches-adjoints")
def _branches_adjoints() -> Any:
    """Reverse mode on the same graph, top to bottom, to set beside the forward-mode one."""
    return _branches(direction="TB")


@_graph("branches-tangents")
def _branches_tangents() -> Any:
    """The same graph in forward mode: the tangent d node / d b at every node."""
    return _branches(tangent="b", direction="TB")


@_graph("chain-rule")
def _chain_rule() -> Any:
    """CS231n's first circuit, f = (x + y) z at (-2, 5, -4)."""
    import funcdiff

    def f(x, y, z):
        return (x + y) * z

    return funcdiff.graph(f, scalar_types=False)(-2.0, 5.0, -4.0)


@_graph("cost-and-graphs")
def _cost_and_graphs() -> Any:
    """The how-to's graph with the default options (types shown)."""
    import funcdiff

    return funcdiff.graph(lambda a, b, c: (a + b) * (b + c))(2.0, 1.0, 1.0)


@_graph("training-a-neuron")
def _training_a_neuron() -> Any:
    """The loss of the linear neuron of the training tutorial, x = (0.5, 0.7), t = 3.5."""
    import funcdiff

    def loss(w0, w1, w2):  # w2 is the bias
        y_hat = w0 * 0.5 + w1 * 0.7 + w2
        return 0.5 * (y_hat - 3.5) ** 2

    return funcdiff.graph(loss, scalar_types=False, precision=3, direction="TB")(1.0, 0.7, 2.0)


@_graph("two-layer-network")
def _two_layer_network() -> Any:
    """The two-layer sigmoid chain of the two-layer tutorial, at its starting weights."""
    import funcdiff

    ns = page_namespace("tutorials/two-layer-network.md", until="## Training")
    return funcdiff.graph(ns["loss"], scalar_types=False, highlight="w1", direction="TB")(
        *ns["w_start"])


@_graph("backprop-equations")
def _backprop_equations() -> Any:
    """Nielsen's network on one example: the errors delta are the gradients of z2 and z3."""
    import funcdiff

    ns = page_namespace("tutorials/backprop-equations.md", until="## Backpropagation by hand")

    sigma = funcdiff.nn.sigmoid  # one gate each

    def cost(w2, b2, w3, b3, x):
        a2 = sigma(w2 @ x + b2)
        a3 = sigma(w3 @ a2 + b3)
        return 0.5 * funcdiff.numpy.sum((a3 - ns["t"]) ** 2)

    p = ns["params"]
    return funcdiff.graph(cost, max_elements=2, direction="TB")(
        p["w2"], p["b2"], p["w3"], p["b3"], ns["x"])


@_graph("training-an-mlp")
def _training_an_mlp() -> Any:
    """The MLP tutorial's network on four examples: its own `predict` and the loss, each one
    box (``group_by="function", collapse=True``), with the gradient of every parameter."""
    import funcdiff
    import funcdiff.numpy as jnp

    ns = page_namespace("tutorials/training-an-mlp.md", until="## The optimiser")
    predict, nn = ns["predict"], ns["nn"]

    def cross_entropy(logits, y):
        return jnp.mean(nn.softmax_cross_entropy_with_integer_labels(logits, y))

    def loss(params, x, y):
        return cross_entropy(predict(params, x), y)

    return funcdiff.graph(loss, group_by="function", collapse=True, max_elements=3)(
        ns["params"], ns["x_train"][:4], ns["y_train"][:4])


def graph_svg(path: str) -> str:
    """The SVG text of one graph figure."""
    return GRAPHS[path]().to_svg(engine="python")


# ---- running a page's code ------------------------------------------------------------------

_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
_SKIP = "<!-- skip -->"


def page_namespace(page: str, until: str | None = None) -> dict[str, Any]:
    """Run the top-level ```python blocks of a page (up to the heading `until`), as
    tests/test_docs.py does, and return the names they define (their output is dropped)."""
    text = (DOCS / page).read_text(encoding="utf-8")
    if until is not None:
        if until not in text:
            raise ValueError(f"{page} has no heading {until!r}")
        text = text[: text.index(until)]
    namespace: dict[str, Any] = {"__name__": "__main__"}
    with np.printoptions(), _quiet():
        for m in _BLOCK.finditer(text):
            if text[: m.start()].rstrip().endswith(_SKIP):
                continue
            exec(compile(m.group(1), f"<{page}>", "exec"), namespace)
    return namespace


class _quiet:
    def __enter__(self) -> None:
        import contextlib

        self._redirect = contextlib.redirect_stdout(io.StringIO())
        self._redirect.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._redirect.__exit__(*exc)


# ---- plots ----------------------------------------------------------------------------------


@_plot("cost-sweep")
def _cost_sweep(plt: Any) -> Any:
    """Forward against reverse work for the Jacobian of tanh(W x), with the crossover marked."""
    ns = page_namespace("tutorials/forward-vs-reverse-cost.md", until="## With times")
    sweep = ns["sweep"]
    fig, ax = plt.subplots(figsize=(6.4, 3.9), layout="constrained")
    ratio = [p.n / p.m for p in sweep.points]
    ax.loglog(ratio, [p.jacfwd.work for p in sweep.points], "o-", color="tab:blue",
              label="forward mode (jacfwd: one jvp per input)")
    ax.loglog(ratio, [p.jacrev.work for p in sweep.points], "s-", color="tab:red",
              label="reverse mode (jacrev: one vjp per output)")
    for a, b in sweep.crossover():
        ax.axvspan(a.n / a.m, b.n / b.m, color="0.85")
        ax.annotate(f"crossover\n({a.n}x{a.m} to {b.n}x{b.m})",
                    xy=((a.n / a.m * b.n / b.m) ** 0.5, ax.get_ylim()[1]), va="top",
                    ha="center", fontsize=8)
    ax.set_xticks(ratio, [f"{p.n}→{p.m}" for p in sweep.points])
    ax.minorticks_off()
    ax.set_xlabel("inputs n → outputs m")
    ax.set_ylabel("FLOPs + transcendentals")
    fig.legend(fontsize=8, loc="outside lower center", ncols=2)
    return fig


@_plot("neuron-loss")
def _neuron_loss(plt: Any) -> Any:
    """The neuron tutorial's loss, step by step, for the learning rates it discusses."""
    ns = page_namespace("tutorials/training-a-neuron.md")
    import funcdiff

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(9.0, 3.4), layout="constrained")
    for eta in (0.25, ns["learning_rate"], 1.1, 1.2):
        w, losses = ns["w"].copy(), []
        for _ in range(11):
            losses.append(float(ns["loss"](w, ns["x"], ns["target"])))
            w = w - eta * funcdiff.grad(ns["loss"])(w, ns["x"], ns["target"])
        ax.semilogy(losses, "o-", markersize=3, label=f"η = {eta}")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title("loss while training", fontsize=10)
    ax.legend(fontsize=8)
    etas = np.linspace(0.05, 1.4, 28)
    finals = [ns["final_loss"](float(e)) for e in etas]
    bx.semilogy(etas, finals, color="tab:purple")
    start = float(ns["loss"](ns["w"], ns["x"], ns["target"]))
    bx.axhline(start, color="0.6", linestyle=":", linewidth=1)
    bx.annotate("loss before training", xy=(0.07, start * 3), fontsize=8, color="0.4")
    limit = 2 / float(ns["x_tilde"] @ ns["x_tilde"])
    bx.axvspan(limit, etas[-1], color="tab:red", alpha=0.08)
    bx.axvline(limit, color="tab:red", linestyle="--")
    bx.annotate(f"η = 2/1.74 ≈ {limit:.2f}:\nconverges left,\ndiverges right", fontsize=8,
                xy=(limit, 1e-6), xytext=(limit - 0.5, 1e-6),
                arrowprops={"arrowstyle": "->", "color": "tab:red"})
    bx.set_ylim(1e-12, 1e5)
    bx.set_xlabel("learning rate η")
    bx.set_ylabel("loss after 10 steps")
    bx.set_title("the learning-rate analysis", fontsize=10)
    return fig


@_plot("mlp-loss")
def _mlp_loss(plt: Any) -> Any:
    """The MLP tutorial's batch losses, as its training loop recorded them."""
    ns = page_namespace("tutorials/training-an-mlp.md", until="## How good is it?")
    losses = np.asarray(ns["losses"])
    fig, ax = plt.subplots(figsize=(6.4, 3.2), layout="constrained")
    ax.semilogy(losses, color="0.75", linewidth=0.8, label="batch loss")
    window = 25
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
    ax.semilogy(np.arange(window - 1, len(losses)), smooth, color="tab:blue",
                label=f"mean of {window} steps")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy loss")
    ax.legend(fontsize=8)
    return fig


@_plot("two-layer-loss")
def _two_layer_loss(plt: Any) -> Any:
    """The two-layer network's loss: it reaches 0 for a target the sigmoid can reach, and
    stalls above 0 when the target (2) is out of its range."""
    ns = page_namespace("tutorials/two-layer-network.md")
    fig, ax = plt.subplots(figsize=(6.4, 3.2), layout="constrained")
    for label, losses in ns["curves"].items():
        ax.plot(losses, label=label)
    ax.axhline(0.5, color="0.5", linestyle=":", linewidth=1)
    ax.annotate("½ (1 − 2)² = 0.5: the best a sigmoid output can do for t = 2",
                xy=(len(losses) * 0.3, 0.5), xytext=(len(losses) * 0.3, 0.62), fontsize=8)
    ax.set_xlabel("step")
    ax.set_ylabel("loss ½ (ŷ − t)²")
    ax.legend(fontsize=8)
    return fig


def _missing_matplotlib(path: str) -> str:
    message = f"{path}: this plot needs matplotlib (pip install '.[docs]')"
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="640" height="60" '
            f'font-family="Helvetica, Arial, sans-serif" font-size="14">'
            f'<rect width="640" height="60" fill="#fff3cd" stroke="#d39e00"/>'
            f'<text x="12" y="35" fill="#5c4400">{message}</text></svg>\n')


def plot_svg(path: str) -> str:
    """The SVG text of one plot, or, without matplotlib, a picture saying what to install."""
    try:
        import matplotlib
    except ImportError:
        return _missing_matplotlib(path)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with matplotlib.rc_context({"svg.hashsalt": "funcdiff", "svg.fonttype": "path",
                                "font.size": 9}):
        fig = PLOTS[path](plt)
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata={"Date": None})
        plt.close(fig)
    return out.getvalue()


def have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


# ---- the mkdocs hook ------------------------------------------------------------------------


def on_files(files: Any, config: Any) -> Any:
    """Draw every picture and put it in the site, replacing any committed copy."""
    from mkdocs.structure.files import File

    if not have_matplotlib():
        log.info("matplotlib is not installed: the %d plots of the documentation are replaced "
                 "by a notice. Install the docs extra (pip install '.[docs]') to draw them.",
                 len(PLOTS))
    made = {path: graph_svg(path) for path in GRAPHS}
    made.update({path: plot_svg(path) for path in PLOTS})
    for path, svg in made.items():
        old = files.get_file_from_path(path)
        if old is not None:
            files.remove(old)
        files.append(File.generated(config, path, content=svg))
    return files


_OUTPUT = re.compile(r'<div class="language-text highlight">(.*?)</div>', re.S)
_COLUMNS = re.compile(r"\S {2,}\S")


def is_table(text: str) -> bool:
    """Whether printed output is a table: at least three lines whose columns are aligned
    with runs of spaces."""
    return sum(bool(_COLUMNS.search(line)) for line in text.splitlines()) >= 3


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    """Mark the output blocks that hold tables (class ``output-table``), which the
    stylesheet lets scroll sideways instead of wrapping."""

    def mark(m: re.Match) -> str:
        text = re.sub(r"<[^>]+>", "", m.group(1))
        if not is_table(text):
            return m.group(0)
        return m.group(0).replace('class="language-text highlight"',
                                  'class="language-text highlight output-table"', 1)

    return _OUTPUT.sub(mark, html)


def write_committed_graphs() -> list[str]:
    """Redraw the committed graphs under docs/figures/graphs/; return those that changed."""
    changed = []
    for path in GRAPHS:
        target = DOCS / path
        svg = graph_svg(path)
        if not target.exists() or target.read_text(encoding="utf-8") != svg:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(svg, encoding="utf-8")
            changed.append(path)
    return changed


if __name__ == "__main__":
    for path in write_committed_graphs():
        print("redrew", path)
