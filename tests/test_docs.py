"""The documentation is tested like code.

* Every ```python block of every page under ``docs/`` runs, page by page, in one fresh
  namespace per page (blocks in order, as a reader would run them). A block directly preceded
  by a ``<!-- skip -->`` line is not run.
* Printed output shown in the docs is never typed by hand: a ```text block that follows a
  ```python block (only blank lines between) is that block's output, and must equal what the
  block prints. A block that prints must show its output, and a ```text block must follow a
  ```python block. To regenerate the outputs after a change, run
  ``FUNCDIFF_UPDATE_DOCS=1 python -m pytest tests/test_docs.py``: the ```text blocks are
  rewritten with what the code prints (an empty ```text block is filled in).
* The ```python examples in the docstrings of the public API run too; blocks written as
  ``>>>`` sessions are checked with `doctest`.
* The API reference covers the whole public API, and ``mkdocs build --strict`` passes (when
  mkdocs is installed: it is the optional ``docs`` extra, not a test dependency).
* ``docs/performance.md`` includes ``bench/README.md`` (pymdownx.snippets), so that the
  benchmark tables on the site are the recorded ones, never retyped.
* Every picture is drawn by the build (``docs/_hooks/figures.py``): the committed graphs must
  be the ones it draws, every picture must be on a page, and the built site must load
  nothing from another host (no CDN, no web fonts).
"""

from __future__ import annotations

import contextlib
import dataclasses
import doctest
import importlib
import importlib.util
import inspect
import io
import os
import re
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "_griffe" not in p.parts)
UPDATE = os.environ.get("FUNCDIFF_UPDATE_DOCS") == "1"

# One module per distribution of funcdiff.scipy.stats.
STATS_MODULES = [
    "funcdiff.scipy.stats.bernoulli",
    "funcdiff.scipy.stats.beta",
    "funcdiff.scipy.stats.binom",
    "funcdiff.scipy.stats.cauchy",
    "funcdiff.scipy.stats.chi2",
    "funcdiff.scipy.stats.dirichlet",
    "funcdiff.scipy.stats.expon",
    "funcdiff.scipy.stats.gamma",
    "funcdiff.scipy.stats.geom",
    "funcdiff.scipy.stats.gumbel_l",
    "funcdiff.scipy.stats.gumbel_r",
    "funcdiff.scipy.stats.laplace",
    "funcdiff.scipy.stats.logistic",
    "funcdiff.scipy.stats.multivariate_normal",
    "funcdiff.scipy.stats.nbinom",
    "funcdiff.scipy.stats.norm",
    "funcdiff.scipy.stats.pareto",
    "funcdiff.scipy.stats.poisson",
    "funcdiff.scipy.stats.t",
    "funcdiff.scipy.stats.truncnorm",
    "funcdiff.scipy.stats.uniform",
    "funcdiff.scipy.stats.vonmises",
]
# The modules whose docstring examples run, and which the API reference must cover.
PUBLIC_MODULES = [
    "funcdiff",
    "funcdiff.numpy",
    "funcdiff.numpy.linalg",
    "funcdiff.numpy.fft",
    "funcdiff.lax",
    "funcdiff.lax.linalg",
    "funcdiff.nn",
    "funcdiff.scipy.linalg",
    "funcdiff.scipy.special",
    "funcdiff.scipy.fft",
    "funcdiff.scipy.signal",
    "funcdiff.scipy.ndimage",
    "funcdiff.scipy.integrate",
    "funcdiff.scipy.sparse.linalg",
    "funcdiff.scipy.optimize",
    "funcdiff.scipy.interpolate",
    "funcdiff.scipy.cluster.vq",
    *STATS_MODULES,
    "funcdiff.tree_util",
    "funcdiff.tree",
    "funcdiff.test_util",
    "funcdiff.random",
    "funcdiff.optim",
    "funcdiff.io",
    "funcdiff.dask",
    "funcdiff.nn_initializers",
    "funcdiff.debug",
    "funcdiff.ad_checkpoint",
    "funcdiff.errors",
    "funcdiff.custom_derivatives",
    "funcdiff.experimental.ode",
    "funcdiff.dtypes",
    "funcdiff.typing",
    "funcdiff.flatten_util",
    "funcdiff.example_libraries.optimizers",
    "funcdiff.example_libraries.stax",
    "funcdiff.experimental",
]
REFERENCE_PAGE = {
    "funcdiff": "reference/funcdiff.md",
    "funcdiff.numpy": "reference/numpy.md",
    "funcdiff.numpy.linalg": "reference/numpy-linalg.md",
    "funcdiff.numpy.fft": "reference/numpy-fft.md",
    "funcdiff.lax": "reference/lax.md",
    "funcdiff.lax.linalg": "reference/lax-linalg.md",
    "funcdiff.scipy.linalg": "reference/scipy-linalg.md",
    "funcdiff.nn": "reference/nn.md",
    "funcdiff.scipy.special": "reference/scipy-special.md",
    "funcdiff.scipy.fft": "reference/scipy-fft.md",
    "funcdiff.scipy.signal": "reference/scipy-signal.md",
    "funcdiff.scipy.ndimage": "reference/scipy-ndimage.md",
    "funcdiff.scipy.integrate": "reference/scipy-ndimage.md",
    "funcdiff.scipy.sparse.linalg": "reference/scipy-sparse-linalg.md",
    "funcdiff.scipy.optimize": "reference/scipy-optimize.md",
    "funcdiff.scipy.interpolate": "reference/scipy-interpolate.md",
    "funcdiff.scipy.cluster.vq": "reference/scipy-interpolate.md",
    **{m: "reference/scipy-stats.md" for m in STATS_MODULES},
    "funcdiff.tree_util": "reference/tree-util.md",
    "funcdiff.tree": "reference/tree-util.md",
    "funcdiff.test_util": "reference/test-util.md",
    "funcdiff.random": "reference/random.md",
    "funcdiff.optim": "reference/optim.md",
    "funcdiff.io": "reference/io.md",
    "funcdiff.dask": "reference/dask.md",
    "funcdiff.nn_initializers": "reference/nn-initializers.md",
    "funcdiff.debug": "reference/debug.md",
    "funcdiff.ad_checkpoint": "reference/ad-checkpoint.md",
    "funcdiff.errors": "reference/funcdiff.md",
    "funcdiff.custom_derivatives": "reference/funcdiff.md",
    "funcdiff.experimental.ode": "reference/ode.md",
    "funcdiff.dtypes": "reference/dtypes.md",
    "funcdiff.typing": "reference/dtypes.md",
    "funcdiff.flatten_util": "reference/tree-util.md",
    "funcdiff.example_libraries.optimizers": "reference/example-libraries.md",
    "funcdiff.example_libraries.stax": "reference/example-libraries.md",
    "funcdiff.experimental": "reference/funcdiff.md",
}


# ---- reading fenced blocks ------------------------------------------------------------------

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*)$")
SKIP_MARK = "<!-- skip -->"


@dataclasses.dataclass
class Block:
    lang: str
    code: str
    start: int  # index of the opening fence line
    end: int  # index of the closing fence line
    indent: str
    skip: bool = False
    output: Block | None = None  # the ```text block showing this block's stdout

    @property
    def lineno(self) -> int:
        return self.start + 1


def read_blocks(lines: list[str]) -> list[Block]:
    """The fenced code blocks of a Markdown page (any indentation, e.g. inside admonitions)."""
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence = m["indent"], m["fence"]
        lang = m["info"].strip().split(" ")[0].lower() if m["info"].strip() else ""
        j = i + 1
        while j < len(lines) and not (
            lines[j].strip().startswith(fence) and lines[j].strip().strip(fence[0]) == ""
        ):
            j += 1
        if j == len(lines):
            raise ValueError(f"unclosed code fence at line {i + 1}")
        body = [
            ln[len(indent) :] if ln.startswith(indent) else ln.lstrip() for ln in lines[i + 1 : j]
        ]
        prev = i - 1
        while prev >= 0 and not lines[prev].strip():
            prev -= 1
        skip = prev >= 0 and lines[prev].strip() == SKIP_MARK
        blocks.append(Block(lang, "\n".join(body) + "\n" if body else "", i, j, indent, skip))
        i = j + 1
    # Attach each ```text block to the ```python block right before it.
    for a, b in zip(blocks, blocks[1:]):
        between = lines[a.end + 1 : b.start]
        if a.lang == "python" and b.lang == "text" and all(not ln.strip() for ln in between):
            a.output = b
    return blocks


def _page_id(page: Path) -> str:
    return page.relative_to(DOCS).as_posix()


# ---- running a page -------------------------------------------------------------------------


def _normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def _run_block(block: Block, namespace: dict, where: str) -> str:
    """Execute one block and return what it printed. The code is compiled as ``example.py``,
    so that file names in error messages shown in the docs read as they would for a user."""
    out = io.StringIO()
    try:
        code = compile(block.code, "example.py", "exec")
        with contextlib.redirect_stdout(out):
            exec(code, namespace)
    except Exception as e:
        raise AssertionError(
            f"{where}: the code block at line {block.lineno} raised "
            f"{type(e).__name__}: {e}\n--- block ---\n{block.code}"
        ) from e
    return out.getvalue()


def run_page(page: Path) -> list[tuple[Block, str]]:
    """Run every python block of a page in one namespace; return (block, stdout) pairs."""
    lines = page.read_text(encoding="utf-8").splitlines()
    namespace: dict = {"__name__": "__main__"}
    results = []
    with np.printoptions():  # a page may change print options; do not leak them
        for block in read_blocks(lines):
            if block.lang != "python" or block.skip:
                continue
            results.append((block, _run_block(block, namespace, _page_id(page))))
    return results


def _rewrite_outputs(page: Path, results: list[tuple[Block, str]]) -> None:
    lines = page.read_text(encoding="utf-8").splitlines()
    for block, printed in sorted(results, key=lambda r: -r[0].start):
        if block.output is None:
            continue
        new = [block.output.indent + ln if ln else ln for ln in _normalise(printed).splitlines()]
        lines[block.output.start + 1 : block.output.end] = new
    page.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_page_code_runs_and_shows_its_output(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks = read_blocks(lines)
    for i, b in enumerate(blocks):
        if b.lang == "text":
            owner = [a for a in blocks[:i] if a.output is b]
            assert owner, (
                f"{_page_id(page)}:{b.lineno}: a ```text block shows printed output, so it must "
                "directly follow the ```python block that prints it (use ```console or a plain "
                "``` fence for other listings)."
            )
        assert not (b.skip and b.lang == "python" and b.output is not None), (
            f"{_page_id(page)}:{b.lineno}: a skipped block cannot show output."
        )
    results = run_page(page)
    if UPDATE:
        _rewrite_outputs(page, results)
        return
    for block, printed in results:
        where = f"{_page_id(page)}:{block.lineno}"
        if block.output is None:
            assert not printed.strip(), (
                f"{where}: this block prints, but the page does not show the output. Add an "
                "empty ```text block right after it and run FUNCDIFF_UPDATE_DOCS=1 pytest "
                f"tests/test_docs.py to fill it in.\nIt printed:\n{printed}"
            )
            continue
        assert _normalise(block.output.code) == _normalise(printed), (
            f"{where}: the output shown in the docs differs from what the code prints. Run "
            "FUNCDIFF_UPDATE_DOCS=1 pytest tests/test_docs.py to regenerate it.\n"
            f"--- shown ---\n{block.output.code}--- printed ---\n{printed}"
        )


def test_skip_is_rare() -> None:
    skipped = [
        f"{_page_id(p)}:{b.lineno}"
        for p in PAGES
        for b in read_blocks(p.read_text(encoding="utf-8").splitlines())
        if b.lang == "python" and b.skip
    ]
    assert len(skipped) <= 3, f"too many skipped code blocks: {skipped}"


def test_block_reader() -> None:
    page = textwrap.dedent(
        """\
        Text.

        ```python
        print(1)
        ```

        ```text
        1
        ```

        !!! example
            <!-- skip -->
            ```python
            pass
            ```

        ```console
        $ ls
        ```
        """
    ).splitlines()
    blocks = read_blocks(page)
    assert [b.lang for b in blocks] == ["python", "text", "python", "console"]
    assert blocks[0].output is blocks[1] and blocks[1].code == "1\n"
    assert blocks[2].skip and blocks[2].code == "pass\n" and blocks[2].output is None


# ---- docstring examples of the public API ---------------------------------------------------

_DOC_FENCE = re.compile(r"^[ \t]*```python[ \t]*\n(.*?)^[ \t]*```[ \t]*$", re.M | re.S)


def _public_objects() -> dict[str, object]:
    """Every public module, function and class of the public modules (and the methods of those
    classes) that funcdiff defines, keyed by a readable name, without duplicates."""
    found: dict[str, object] = {}
    seen: set[int] = set()

    def add(name: str, obj: object) -> None:
        if id(obj) not in seen:
            seen.add(id(obj))
            found[name] = obj

    for mod_name in PUBLIC_MODULES:
        module = importlib.import_module(mod_name)
        add(mod_name, module)
        for name in sorted(dir(module)):
            obj = getattr(module, name)
            if name.startswith("_") or isinstance(obj, types.ModuleType):
                continue
            if not (getattr(obj, "__module__", None) or "").startswith("funcdiff"):
                continue  # re-exported from NumPy
            if inspect.isclass(obj):
                add(f"{mod_name}.{name}", obj)
                for attr, member in vars(obj).items():
                    if not attr.startswith("_") and (
                        callable(member) or isinstance(member, property)
                    ):
                        add(f"{mod_name}.{name}.{attr}", member)
            elif callable(obj):
                add(f"{mod_name}.{name}", obj)
            elif not isinstance(obj, int | float | str | tuple):
                # An instance such as funcdiff.config: document its class.
                add(f"{mod_name}.{name}", type(obj))
    return found


def _docstring_examples() -> list[tuple[str, str]]:
    examples = []
    for name, obj in _public_objects().items():
        doc = inspect.getdoc(obj) if not isinstance(obj, property) else obj.__doc__
        if not doc:
            continue
        for k, m in enumerate(_DOC_FENCE.finditer(textwrap.dedent(doc))):
            examples.append((f"{name}[{k}]", textwrap.dedent(m.group(1))))
    return examples


DOCSTRING_EXAMPLES = _docstring_examples()


def test_there_are_docstring_examples() -> None:
    names = {n.rsplit("[", 1)[0] for n, _ in DOCSTRING_EXAMPLES}
    assert {"funcdiff.grad", "funcdiff.jvp", "funcdiff.test_util.check_grads"} <= names


@pytest.mark.parametrize(
    ("name", "code"), DOCSTRING_EXAMPLES, ids=[n for n, _ in DOCSTRING_EXAMPLES]
)
def test_docstring_example_runs(
    name: str, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # examples that write files (funcdiff.io) write them here
    if re.search(r"^\s*>>>", code, re.M):
        parser = doctest.DocTestParser()
        test = parser.get_doctest(code, {"__name__": "__main__"}, name, name, 0)
        runner = doctest.DocTestRunner(
            optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
        )
        report = io.StringIO()
        with np.printoptions():
            runner.run(test, out=report.write)
        assert runner.failures == 0, report.getvalue()
    else:
        with np.printoptions():
            exec(compile(code, f"<docstring of {name}>", "exec"), {"__name__": "__main__"})


# ---- the API reference ----------------------------------------------------------------------


def _directives(page_text: str) -> set[str]:
    return set(re.findall(r"^:::[ \t]+([\w.]+)", page_text, re.M))


def _documented_elsewhere(obj: object, mod_name: str, name: str) -> bool:
    """Whether `obj` is also a public name of another module whose reference page has a
    ``:::`` entry for it (a re-export, like `funcdiff.debug.debug_nans`)."""
    for other in PUBLIC_MODULES:
        if other == mod_name:
            continue
        if getattr(importlib.import_module(other), name, None) is obj:
            page = DOCS / REFERENCE_PAGE[other]
            if f"{other}.{name}" in _directives(page.read_text(encoding="utf-8")):
                return True
    return False


@pytest.mark.parametrize("mod_name", PUBLIC_MODULES)
def test_reference_covers_the_public_api(mod_name: str) -> None:
    """Each public name has a ``::: module.name`` entry on its module's reference page (names
    re-exported from NumPy, the aliases of `funcdiff.tree`, and objects re-exported from a
    module whose page documents them, such as `funcdiff.debug.disable_jit`, need only be
    mentioned)."""
    page = DOCS / REFERENCE_PAGE[mod_name]
    text = page.read_text(encoding="utf-8")
    directives = _directives(text)
    module = importlib.import_module(mod_name)
    missing = []
    for name in sorted(dir(module)):
        obj = getattr(module, name)
        if name.startswith("_") or isinstance(obj, types.ModuleType):
            continue
        ours = (getattr(obj, "__module__", None) or "").startswith("funcdiff")
        if mod_name == "funcdiff.tree":
            ok = f"`tree.{name}`" in text
        elif (
            ours
            and f"{mod_name}.{name}" not in directives
            and _documented_elsewhere(obj, mod_name, name)
        ):
            ok = f"`{name}`" in text
        elif ours or f"{mod_name}.{name}" in directives:
            ok = f"{mod_name}.{name}" in directives or (
                name == "config" and "funcdiff._src.config.Config" in directives
            )
        else:
            ok = f"`{name}`" in text
        if not ok:
            missing.append(name)
    assert not missing, f"{REFERENCE_PAGE[mod_name]} does not document: {missing}"


def test_every_public_module_has_a_reference_page() -> None:
    import funcdiff

    for name in dir(funcdiff):
        if name.startswith("_") or not isinstance(getattr(funcdiff, name), types.ModuleType):
            continue
        full = f"funcdiff.{name}"
        assert full in PUBLIC_MODULES or any(m.startswith(full + ".") for m in PUBLIC_MODULES), (
            f"{full} is public: add it to PUBLIC_MODULES and REFERENCE_PAGE in tests/test_docs.py, "
            "with a page under docs/reference/ listed in mkdocs.yml"
        )


def test_every_reference_directive_names_a_public_object() -> None:
    for page in (DOCS / "reference").glob("*.md"):
        for ident in _directives(page.read_text(encoding="utf-8")):
            if ident.startswith("funcdiff._src."):
                continue
            mod_name, _, attr = ident.rpartition(".")
            try:
                module = importlib.import_module(ident)
            except ImportError:
                module = None
            if module is None:
                assert hasattr(importlib.import_module(mod_name), attr), f"{page.name}: {ident}"


# ---- the performance page -------------------------------------------------------------------

BENCH_README = ROOT / "bench" / "README.md"
PERFORMANCE_SNIPPET = '--8<-- "bench/README.md:figures"'
RESULTS = ROOT / "bench" / "results"


def test_performance_page_includes_the_benchmark_readme() -> None:
    """docs/performance.md shows bench/README.md as it is (the part between its
    ``--8<-- [start:figures]`` and ``[end:figures]`` markers), included by pymdownx.snippets
    when the site is built, never retyped; docs/performance-runs.md includes every raw result
    of bench/results/, and each README link to one has a definition on the page."""
    page = (DOCS / "performance.md").read_text(encoding="utf-8")
    assert PERFORMANCE_SNIPPET in page.splitlines(), (
        f"docs/performance.md must include the benchmark results with {PERFORMANCE_SNIPPET}"
    )
    readme = BENCH_README.read_text(encoding="utf-8")
    assert "<!-- --8<-- [start:figures] -->" in readme and "<!-- --8<-- [end:figures] -->" in readme
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert re.search(r"pymdownx\.snippets:\n(\s+\S.*\n)*?\s+check_paths: true", config), (
        "mkdocs.yml must enable pymdownx.snippets with check_paths: true"
    )
    runs = (DOCS / "performance-runs.md").read_text(encoding="utf-8")
    for result in sorted(RESULTS.glob("*.md")):
        stem = result.stem
        assert f'--8<-- "bench/results/{result.name}:3:"' in runs, f"{result.name} not on the site"
        assert f"[{stem}]: results/{result.name}" in readme, f"README does not define [{stem}]"
        assert f"[{stem}]: performance-runs.md#{stem}" in page, f"performance.md lacks [{stem}]"


# ---- the pictures ---------------------------------------------------------------------------


def _figures() -> types.ModuleType:
    """docs/_hooks/figures.py, the mkdocs hook that draws every picture of the site."""
    spec = importlib.util.spec_from_file_location("docs_figures", DOCS / "_hooks" / "figures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FIGURES = _figures()
_IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+\.svg)\)")


def _pictures_on_pages() -> dict[str, list[str]]:
    """The figures each page shows, as paths relative to docs/."""
    shown: dict[str, list[str]] = {}
    for page in PAGES:
        for ref in _IMAGE.findall(page.read_text(encoding="utf-8")):
            target = os.path.relpath(page.parent / ref, DOCS)
            shown.setdefault(Path(target).as_posix(), []).append(_page_id(page))
    return shown


@pytest.mark.parametrize("path", sorted(FIGURES.GRAPHS))
def test_committed_graph_is_fresh(path: str) -> None:
    """Each graph is redrawn by the build; the committed copy (which GitHub shows) must be
    the picture the build draws, with the page's current numbers."""
    committed = DOCS / path
    assert committed.exists(), f"{path} is missing: run python docs/_hooks/figures.py"
    assert committed.read_text(encoding="utf-8") == FIGURES.graph_svg(path), (
        f"{path} is stale: run python docs/_hooks/figures.py and commit the result"
    )


def test_every_picture_is_drawn_and_shown() -> None:
    shown = _pictures_on_pages()
    drawn = set(FIGURES.GRAPHS) | set(FIGURES.PLOTS)
    assert set(shown) <= drawn, f"pages show pictures nothing draws: {set(shown) - drawn}"
    assert drawn <= set(shown), f"pictures no page shows: {drawn - set(shown)}"
    committed = {p.relative_to(DOCS).as_posix() for p in (DOCS / "figures").rglob("*")
                 if p.is_file()}
    assert committed == set(FIGURES.GRAPHS), "only the graphs are committed, all of them"
    # Every tutorial and the chain-rule page shows a graph with gradients (∇) or tangents.
    pages = {p for path in FIGURES.GRAPHS for p in shown[path]}
    wanted = {_page_id(p) for p in PAGES if "tutorials" in p.parts}
    assert wanted | {"concepts/chain-rule.md"} <= pages
    for path in FIGURES.GRAPHS:
        svg = (DOCS / path).read_text(encoding="utf-8")
        assert "∇ " in svg or "∂/∂" in svg, path


def test_graph_pictures_show_the_pages_numbers() -> None:
    """The numbers the tutorials derive by hand are in their pictures."""
    expected = {
        "figures/graphs/sigmoid-neuron.svg": ["∇ -0.53", "∇ 0.39", "∇ -0.59", "0.73"],
        "figures/graphs/branches-reverse.svg": ["∇ 5.00", "∇ 2.00", "∇ 3.00"],
        "figures/graphs/branches-tangents.svg": ["∂/∂b 5.00", "∂/∂b 1.00"],
        "figures/graphs/chain-rule.svg": ["∇ -4.00", "∇ 3.00", "-12.00"],
        "figures/graphs/training-a-neuron.svg": ["∇ -0.255", "∇ -0.357", "∇ -0.510"],
    }
    for path, numbers in expected.items():
        svg = (DOCS / path).read_text(encoding="utf-8")
        for number in numbers:
            assert number in svg, (path, number)


@pytest.mark.skipif(not FIGURES.have_matplotlib(), reason="the plots need matplotlib (docs extra)")
@pytest.mark.parametrize("path", sorted(FIGURES.PLOTS))
def test_plot_is_drawn_offline(path: str) -> None:
    svg = FIGURES.plot_svg(path)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "matplotlib" not in svg[-400:]
    hosts = set(re.findall(r"https?://([^/\"']+)", svg)) - {"www.w3.org", "matplotlib.org",
                                                           "purl.org", "creativecommons.org"}
    assert not hosts and "<image" not in svg and "@font-face" not in svg


def test_plots_degrade_without_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    path = sorted(FIGURES.PLOTS)[0]
    svg = FIGURES.plot_svg(path)
    assert "needs matplotlib" in svg and "pip install" in svg and path in svg


def test_output_tables_are_told_from_messages() -> None:
    table = "mode    ops  FLOPs\nf         3      3\njvp       8      8\n"
    assert FIGURES.is_table(table)
    assert not FIGURES.is_table("TypeError: the argument x of f has shape (3,), expected (2,).\n"
                                "Fix: pass an array of shape (2,).")
    html = ('<div class="language-text highlight"><pre><span></span><code>'
            + table + "</code></pre></div>")
    assert "output-table" in FIGURES.on_page_content(html, None, None, None)


def test_learning_path() -> None:
    """Tutorials come first in the nav and on the home page, in the order of the learning
    path; Getting started calls jvp and vjp next to grad."""
    path = ["training-a-neuron", "sigmoid-neuron", "gradients-add-at-branches",
            "backprop-equations", "two-layer-network", "forward-vs-reverse-cost",
            "training-an-mlp"]
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = re.findall(r"tutorials/([\w-]+)\.md", config)
    assert nav == path
    assert config.index("  - Tutorials:") < config.index("  - Concepts:") < \
        config.index("  - How-to:")
    home = (DOCS / "index.md").read_text(encoding="utf-8")
    home = home[home.index("## Where to start") :]
    on_home = list(dict.fromkeys(re.findall(r"\(tutorials/([\w-]+)\.md", home)))
    assert on_home[: len(path)] == path
    start = (DOCS / "getting-started.md").read_text(encoding="utf-8")
    assert "funcdiff.jvp(" in start and "funcdiff.vjp(" in start


# ---- building the site ----------------------------------------------------------------------

_DOCS_TOOLS = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")


def _have(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@pytest.mark.skipif(
    not all(_have(m) for m in _DOCS_TOOLS),
    reason="the docs tools are not installed (pip install '.[docs]'): mkdocs, mkdocs-material, "
    "mkdocstrings[python]",
)
def test_mkdocs_build_strict(tmp_path: Path) -> None:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    assert (tmp_path / "site" / "index.html").exists()
    # The benchmark README was included into the performance page, tables and all.
    performance = (tmp_path / "site" / "performance" / "index.html").read_text(encoding="utf-8")
    readme = BENCH_README.read_text(encoding="utf-8")
    assert "8&lt;" not in performance and "--8<--" not in performance
    tables = len(re.findall(r"^\|[-| :]+\|$", readme, re.M))
    assert performance.count("<table>") >= tables > 0
    _check_site_is_offline(tmp_path / "site")
    # The pictures were drawn by the build, and tables of printed output scroll.
    for path in list(FIGURES.GRAPHS) + list(FIGURES.PLOTS):
        assert (tmp_path / "site" / path).read_text(encoding="utf-8").count("<svg") == 1
    cost = (tmp_path / "site" / "tutorials" / "forward-vs-reverse-cost" / "index.html")
    assert "language-text highlight output-table" in cost.read_text(encoding="utf-8")


# A reference to another host that a browser would load: a script, a stylesheet, a font, an
# image, a frame (links a reader may follow, <a href>, are fine).
_LOADED = re.compile(
    r"<(?:script|img|iframe|source)\b[^>]*\bsrc=[\"']?(https?:)?//"
    r"|<link\b(?=[^>]*\brel=[\"']?(?:stylesheet|preload|preconnect|modulepreload|icon))"
    r"[^>]*\bhref=[\"']?(https?:)?//"
    r"|@import\s+(?:url\()?[\"']?(https?:)?//|url\([\"']?(https?:)?//",
    re.I,
)


def _check_site_is_offline(site: Path) -> None:
    """No page, stylesheet or picture of the built site loads anything from another host,
    so that the site works with no network (MathJax is bundled, no web fonts, no Mermaid)."""
    offenders = []
    for f in site.rglob("*"):
        if f.suffix not in (".html", ".css", ".svg"):
            continue
        text = f.read_text(encoding="utf-8", errors="replace")
        for m in _LOADED.finditer(text):
            offenders.append(f"{f.relative_to(site)}: {text[m.start():m.end() + 60]!r}")
        # mkdocs-material fetches Google Fonts unless theme.font is false, and Mermaid from a
        # CDN when a page has a diagram.
        if f.suffix == ".html" and ("fonts.gstatic" in text or 'class="mermaid"' in text):
            offenders.append(f"{f.relative_to(site)}: web fonts or a Mermaid diagram")
    assert not offenders, "the site loads from other hosts:\n" + "\n".join(offenders[:20])


def test_offline_check_finds_external_loads(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text('<script src="https://unpkg.com/mermaid"></script>')
    with pytest.raises(AssertionError, match="unpkg"):
        _check_site_is_offline(tmp_path)
    (tmp_path / "a.html").write_text('<a href="https://colah.github.io/">Olah</a>'
                                     '<script src="assets/javascripts/bundle.js"></script>')
    _check_site_is_offline(tmp_path)
    (tmp_path / "b.css").write_text("@import url(https://fonts.googleapis.com/css?family=Roboto);")
    with pytest.raises(AssertionError, match="googleapis"):
        _check_site_is_offline(tmp_path)
