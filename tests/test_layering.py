"""The package's layers point down, and docs/developer/layout.md shows them as they are.

Every module of `funcdiff` is parsed with `ast` (nothing is imported) into the graph of its
module-level imports. The test fails on any import cycle, on an import from a lower layer to a
higher one (the list `LAYERS` below, lowest first; a module may import its own layer and the
layers below it), on a module that no layer declares, and on an import inside a function that
`LAZY_IMPORTS` does not list with its reason. Imports under ``if TYPE_CHECKING:`` are for type
checkers only and are not edges. The "Layers" section of the layout page must list exactly
`LAYERS`.
"""

from __future__ import annotations

import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "funcdiff"
LAYOUT_PAGE = ROOT / "docs" / "developer" / "layout.md"

# Lowest first. Names are modules or packages under `funcdiff._src` (a package covers its
# submodules), or absolute `funcdiff...` names for the public re-export modules; the longest
# matching name places a module.
LAYERS: list[tuple[str, list[str]]] = [
    (
        "foundation",
        [
            "funcdiff._src",
            "errors",
            "dtypes",
            "tree_util",
            "tree_util_extras",
            "array",
            "shape_dtype",
        ],
    ),
    ("core", ["core", "config"]),
    ("interpreters", ["interpreters"]),
    ("lax", ["lax"]),
    (
        "transformations",
        [
            "vmap",
            "custom_calls",
            "custom_jvp",
            "custom_vjp",
            "custom_gradient",
            "checkpoint_policies",
            "checkpoint",
            "debugging",
        ],
    ),
    ("jit", ["jit"]),
    (
        "api",
        [
            "api",
            "api_extras",
            "linear_transpose",
            "implicit",
            "linear_solve",
            "saved_residuals",
        ],
    ),
    ("numpy", ["numpy", "funcdiff.numpy"]),
    (
        "libraries",
        [
            "nn",
            "losses",
            "nn_init",
            "nn_init_conv",
            "nn_functions",
            "nn_scaled",
            "scipy_special",
            "scipy_special_more",
            "scipy_stats",
            "scipy_linalg",
            "scipy_linalg_special",
            "scipy_linalg_decomp",
            "lax_linalg_extras",
            "lax_qdwh",
            "scipy_sparse_linalg",
            "scipy_optimize",
            "scipy_interpolate",
            "scipy_cluster",
            "prng",
            "random",
            "random_gamma",
            "random_more",
            "random_poisson",
            "random_binomial",
            "optim",
            "ode",
            "scipy_fft",
            "scipy_signal",
            "scipy_spectral",
            "scipy_ndimage",
            "io_checks",
            "io",
            "test_util",
            "dask",
            "dtypes_api",
            "flatten_util",
            "example_optimizers",
            "example_stax",
            "example_stax_combinators",
        ],
    ),
    ("tools", ["cost_analysis", "graph_svg", "graph_text", "graph_program", "graph"]),
    ("public", ["funcdiff"]),
]

# Imports inside functions, run when the function is called: (importer, imported) -> reason.
# Each is either an upward arrow needed at call time only, or a convenience that must stay
# justified; anything not listed here fails.
LAZY_IMPORTS: dict[tuple[str, str], str] = {
    (
        "lax._define",
        "lax.structural",
    ): "define_primitive's per-operand JVP and broadcasting batching rules use structural's "
    "primitives, which are themselves defined with define_primitive; the rules run after "
    "both modules are loaded",
    (
        "lax.scans",
        "vmap",
    ): "lax.map with batch_size vmaps its function over each chunk: vmap is a transformation "
    "above lax, needed only when map is called",
    (
        "numpy.polynomial",
        "funcdiff.numpy",
    ): "uses the public funcdiff.numpy namespace, which imports this module",
}


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _short(name: str) -> str:
    return name.removeprefix("funcdiff._src.")


def _absolute(name: str) -> str:
    return name if name.split(".")[0] == "funcdiff" else f"funcdiff._src.{name}"


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The funcdiff modules an import statement loads (the deepest existing module)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        assert node.level == 0, "funcdiff uses absolute imports only"
        names = [f"{node.module}.{a.name}" for a in node.names]
    out = []
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name:
            out.append(name)
    return out


def _imports(path: pathlib.Path) -> tuple[set[str], set[str]]:
    """(module-level imports, imports inside functions) of one module."""
    top: set[str] = set()
    lazy: set[str] = set()

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                (lazy if in_function else top).update(_targets(child))
            else:
                visit(
                    child,
                    in_function
                    or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)),
                )

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return top, lazy


GRAPH: dict[str, set[str]] = {}
LAZY: dict[str, set[str]] = {}
for _name, _path in MODULES.items():
    _top, _lazy = _imports(_path)
    GRAPH[_name] = _top - {_name}
    LAZY[_name] = _lazy - {_name}


def _covers(name: str, module: str) -> bool:
    """Whether the layer entry `name` places `module`. The two root packages stand for
    themselves only: `funcdiff._src` for its (empty) package module, `funcdiff` for the public
    modules, so that a new module of `funcdiff/_src/` is in no layer until one names it."""
    if module == name:
        return True
    if name == "funcdiff._src" or not module.startswith(name + "."):
        return False
    return name != "funcdiff" or not module.startswith("funcdiff._src.")


def _layer_of(module: str) -> int | None:
    best, best_len = None, -1
    for i, (_, names) in enumerate(LAYERS):
        for n in map(_absolute, names):
            if _covers(n, module) and len(n) > best_len:
                best, best_len = i, len(n)
    return best


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def test_the_graph_sees_the_known_arrows():
    # Guards the parser itself: if it stopped seeing imports, every other test would pass.
    assert "funcdiff._src.core" in GRAPH["funcdiff._src.lax.structural"]
    assert "funcdiff._src.lax._jaxprs" in GRAPH["funcdiff._src.jit.cache"]
    assert "funcdiff._src.lax.structural" in LAZY["funcdiff._src.lax._define"]
    assert len(GRAPH) > 100


def test_a_new_module_is_in_no_layer_until_named():
    assert _layer_of("funcdiff._src.brand_new") is None
    assert LAYERS[_layer_of("funcdiff._src.lax.brand_new")][0] == "lax"
    assert LAYERS[_layer_of("funcdiff.brand_new")][0] == "public"
    assert LAYERS[_layer_of("funcdiff._src")][0] == "foundation"


def test_cycle_detection_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    cycles = _cycles(GRAPH)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(map(_short, c)) for c in cycles)


def test_every_module_has_a_layer():
    unplaced = [m for m in MODULES if _layer_of(m) is None]
    assert not unplaced, f"add these modules to LAYERS and to the layout page: {unplaced}"


def test_imports_point_down():
    upward = [
        f"{_short(m)} ({LAYERS[_layer_of(m)][0]}) imports {_short(t)} ({LAYERS[_layer_of(t)][0]})"
        for m, targets in GRAPH.items()
        for t in sorted(targets)
        if _layer_of(t) > _layer_of(m)
    ]
    assert not upward, "imports from a lower layer to a higher one:\n" + "\n".join(upward)


def _imports_of(prefix: str) -> set[tuple[str, str]]:
    return {
        (_short(m), _short(t))
        for m, targets in GRAPH.items()
        for t in targets
        if m == prefix or m.startswith(prefix + ".")
    }


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_named_arrows_are_absent():
    # The arrows issue #16 names, checked by name as well as through the layer order.
    core_imports = {t for _, t in _imports_of("funcdiff._src.core") if not _within(t, ("core",))}
    assert core_imports <= {"array", "dtypes", "errors"}
    above_ops = ("jit", "api", "vmap", "cost_analysis", "graph")
    for low in ("funcdiff._src.lax", "funcdiff._src.interpreters"):
        bad = {(m, t) for m, t in _imports_of(low) if _within(t, above_ops)}
        assert not bad, f"{bad}: primitives and interpreters must not import jit or the APIs"
    bad = {
        (m, t)
        for m, t in _imports_of("funcdiff._src.jit")
        if _within(t, ("api", "graph", "cost_analysis"))
    }
    assert not bad, f"{bad}: jit must not import the APIs above it"


def test_function_level_imports_are_listed_with_a_reason():
    actual = {(_short(m), _short(t)) for m, targets in LAZY.items() for t in targets}
    unlisted = sorted(actual - set(LAZY_IMPORTS))
    assert not unlisted, (
        f"imports inside functions not in LAZY_IMPORTS (add them with a reason, or move them "
        f"to module level): {unlisted}"
    )
    stale = sorted(set(LAZY_IMPORTS) - actual)
    assert not stale, f"LAZY_IMPORTS lists imports that no longer exist: {stale}"
    assert all(len(reason) > 20 for reason in LAZY_IMPORTS.values())


def _page_layers() -> list[tuple[str, list[str]]]:
    text = LAYOUT_PAGE.read_text(encoding="utf-8")
    section = text.split("\n## Layers\n", 1)[1].split("\n## ", 1)[0]
    return [
        (m.group(1), re.findall(r"`([^`]+)`", m.group(2)))
        for m in re.finditer(r"^\d+\. \*\*([a-z]+)\*\*: (.*)$", section, flags=re.M)
    ]


def test_layout_page_lists_the_layers():
    expected = "\n".join(
        f"{i}. **{name}**: " + ", ".join(f"`{n}`" for n in names)
        for i, (name, names) in enumerate(LAYERS, 1)
    )
    assert _page_layers() == LAYERS, (
        "the Layers section of docs/developer/layout.md must list LAYERS of "
        f"tests/test_layering.py; expected lines:\n{expected}"
    )


def test_jit_passes_name_no_primitive_and_import_no_op_module():
    # The simplifier reads tables keyed by primitive objects that lax fills
    # (funcdiff._src.lax.simplify_rules); the pass itself stays free of op modules and names.
    imported = GRAPH["funcdiff._src.jit.passes"] | LAZY.get("funcdiff._src.jit.passes", set())
    assert not [m for m in imported if m.startswith("funcdiff._src.lax")]
    source = MODULES["funcdiff._src.jit.passes"].read_text()
    assert "primitive.name" not in source


# Packages whose modules are ordered too (lowest first; the layout page says the same), and
# whose package module defines nothing: it re-exports at most (core and api are the public
# face of their modules), so every name has one home.
PACKAGE_ORDER: dict[str, list[str]] = {
    "funcdiff._src.core": ["avals", "trace", "ir"],
    "funcdiff._src.api": ["flatten", "staging", "forward", "reverse", "jacobians"],
    "funcdiff._src.jit": [
        "buffers",
        "lowering",
        "passes",
        "cache",
        "primitive",
        "array_api_rules",
        "array_api_calls",
        "backends",
        "signature",
        "donation",
        "api",
    ],
}


def test_ordered_packages_point_down_and_define_nothing():
    for package, order in PACKAGE_ORDER.items():
        modules = sorted(m for m in MODULES if m.startswith(package + "."))
        assert modules == sorted(f"{package}.{m}" for m in order), (
            f"list the modules of {package} in PACKAGE_ORDER: {modules}"
        )
        rank = {f"{package}.{m}": i for i, m in enumerate(order)}
        upward = [(m, t) for m in rank for t in GRAPH[m] if t in rank and rank[t] >= rank[m]]
        assert not upward, f"modules of {package} import sideways or up: {upward}"
        body = ast.parse(MODULES[package].read_text(encoding="utf-8")).body
        defined = [
            type(node).__name__
            for node in body[1:]
            if not (isinstance(node, ast.ImportFrom) and node.module.startswith(package + "."))
        ]
        assert isinstance(body[0], ast.Expr) and not defined, (
            f"{package}/__init__.py has a docstring and re-exports only, got {defined}"
        )
