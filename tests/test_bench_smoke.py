"""Every benchmark script runs: ``python bench/<script>.py --quick`` exits 0 and prints.

The scripts are found by glob, so a new one is covered as soon as it is added; each must
accept ``--quick`` (tiny sizes, a few seconds). JAX is hidden from them (``sys.modules["jax"]
= None`` before the script starts), so they take their no-JAX path whether or not JAX is
installed, and do not pay for importing it. Nothing here is timed: the figures belong to the
scripts' full runs (see bench/README.md).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted(p for p in (ROOT / "bench").glob("*.py") if not p.name.startswith("_"))

# Runs a script as __main__ with `import jax` failing, as `python bench/<script>.py` would (its
# directory first on sys.path, for helpers such as bench/_paired.py), from the repository root
# (also on sys.path, so that it imports this checkout's funcdiff).
_RUNNER = (
    "import os, runpy, sys; sys.modules['jax'] = None; path = sys.argv[1]; "
    "sys.path[:0] = [os.path.dirname(os.path.abspath(path)), '.']; sys.argv = sys.argv[1:]; "
    "runpy.run_path(path, run_name='__main__')"
)


def test_the_scripts_are_found() -> None:
    assert {"mlp_grad.py", "jit_bench.py", "vmap_bench.py"} <= {p.name for p in SCRIPTS}


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_bench_script_runs_quick(script: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _RUNNER, str(script.relative_to(ROOT)), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"{script.name} --quick failed (exit {result.returncode}):\n{result.stderr[-3000:]}"
    )
    assert result.stdout.strip(), f"{script.name} --quick printed nothing"
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
