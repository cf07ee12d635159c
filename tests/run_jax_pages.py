"""Run JAX's documentation pages against funcdiff, with only the imports changed (a dev tool).

JAX's documentation pages are MyST notebooks: their code is in ```` ```{code-cell} ````
blocks. This script runs each page's cells in order, in one namespace as a notebook does,
after rewriting the import lines from `jax` to `funcdiff` (nothing else in the code changes).
A cell tagged `raises-exception` must raise. IPython's `%timeit` line runs its statement a
few times; other magics are skipped. The pages are not part of this repository (they are
JAX's): pass the directory that holds them. With no directory, or a missing one, it reports
that and exits successfully, so it is never a CI test; `tests/test_jax_pages.py` is, with our
own programs for each page's points.

    python tests/run_jax_pages.py DIR [PAGE.md ...] [-v] [--compare]

`-v` prints every cell's source and output; `--compare` also runs each page with the real
`jax` (when installed) and prints the outputs that differ, for a person to read (the printed
forms differ anyway: JAX computes in float32 and prints `Array(...)`).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

# Import this checkout's funcdiff, not an installed one.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```\s*$", re.S | re.M)
_IMPORT = re.compile(r"^(\s*)(import|from)\s+jax\b(.*)$")


@dataclass
class Cell:
    source: str
    tags: list[str] = field(default_factory=list)


def cells_of(text: str) -> list[Cell]:
    """The code cells of a MyST page, with their tags, in order."""
    out = []
    for m in _CELL.finditer(text):
        body = m.group(1)
        tags: list[str] = []
        lines = body.splitlines()
        while lines and lines[0].startswith(":"):
            key, _, value = lines.pop(0)[1:].partition(":")
            if key.strip() == "tags":
                tags = [t.strip() for t in value.strip().strip("[]").split(",")]
        if lines and lines[0].strip() == "---":  # YAML-style options block
            end = lines.index("---", 1)
            for opt in lines[1:end]:
                if opt.strip().startswith("tags:"):
                    tags = [t.strip() for t in opt.split(":", 1)[1].strip().strip("[]").split(",")]
            lines = lines[end + 1 :]
        out.append(Cell("\n".join(lines), tags))
    return out


def rewrite_imports(source: str, target: str = "funcdiff") -> str:
    """Change `jax` to `target` in import lines only."""
    if target == "jax":
        return source
    lines = []
    for line in source.splitlines():
        m = _IMPORT.match(line)
        if m is None:
            lines.append(line)
            continue
        indent, kind, rest = m.groups()
        if kind == "from":  # from jax[.x] import ...
            lines.append(f"{indent}from {target}{rest}")
        elif rest.strip() == "":  # import jax
            lines.append(f"{indent}import {target} as jax")
        elif " as " in rest:  # import jax.numpy as jnp
            lines.append(f"{indent}import {target}{rest}")
        else:  # import jax.numpy: binds the name jax
            lines.append(f"{indent}import {target}{rest}; import {target} as jax")
    return "\n".join(lines)


def _magic(source: str) -> str:
    """IPython line magics as Python: `%timeit stmt` runs stmt three times, others go."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("%timeit"):
            # (IPython's options go: `-n10 -r3`, `-n 10`, `-o`...)
            stmt = re.sub(r"^(-[a-z]\s*\d*\s+)*", "", stripped[len("%timeit") :].strip())
            indent = line[: len(line) - len(stripped)]
            lines.append(f"{indent}for _timeit_i in range(3): {stmt}")
        elif stripped.startswith(("%", "!")):
            lines.append(line[: len(line) - len(stripped)] + "pass")
        else:
            lines.append(line)
    return "\n".join(lines)


@dataclass
class Result:
    index: int
    cell: Cell
    ok: bool
    output: str
    error: str = ""


def run_page(path: Path, target: str = "funcdiff") -> list[Result]:
    """Run a page's cells in one namespace; a `raises-exception` cell passes when it raises."""
    namespace: dict = {"__name__": "__main__"}
    results = []
    for i, cell in enumerate(cells_of(path.read_text())):
        code = _magic(rewrite_imports(cell.source, target))
        buf = io.StringIO()
        error = ""
        with contextlib.redirect_stdout(buf):
            try:
                exec(compile(code, f"{path.name}[{i}]", "exec"), namespace)
                raised = False
            except Exception:
                raised = True
                error = traceback.format_exc(limit=-4)
        expected = "raises-exception" in cell.tags
        ok = raised == expected
        if expected and not raised:
            error = "the page expects this cell to raise; it did not"
        results.append(Result(i, cell, ok, buf.getvalue(), error))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?")
    parser.add_argument("pages", nargs="*")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--compare", action="store_true")
    args = parser.parse_args(argv)
    if args.directory is None or not Path(args.directory).is_dir():
        print("no directory of JAX documentation pages given: nothing to run")
        return 0
    root = Path(args.directory)
    pages = [root / p for p in args.pages] or sorted(root.glob("*.md"))
    failures = 0
    for page in pages:
        results = run_page(page)
        reference = run_page(page, "jax") if args.compare else None
        bad = [r for r in results if not r.ok]
        failures += len(bad)
        print(f"{page.name}: {len(results)} cells, {len(results) - len(bad)} ok")
        for r in results:
            if args.verbose or not r.ok:
                print(f"--- cell {r.index} {'ok' if r.ok else 'FAILED'} {r.cell.tags or ''}")
                print(r.cell.source)
                if r.output:
                    print(">>>", r.output.rstrip().replace("\n", "\n>>> "))
                if not r.ok:
                    print(r.error)
            if reference is not None and reference[r.index].output != r.output:
                print(f"--- cell {r.index} output differs from jax's")
                print("funcdiff:", r.output.rstrip().replace("\n", "\n          "))
                print("jax:     ", reference[r.index].output.rstrip().replace("\n", "\n          "))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
