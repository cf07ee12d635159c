"""The examples run (in their fast modes) and report success."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_backprop_by_hand(tmp_path):
    result = run(str(EXAMPLES / "backprop_by_hand.py"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "agree with funcdiff.grad to 1e-10: True" in result.stdout


@pytest.mark.filterwarnings("ignore")
def test_mnist_style_mlp_quick(tmp_path):
    result = run(str(EXAMPLES / "mnist_style_mlp.py"), "--quick", "--plot",
                 str(tmp_path / "curve.png"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Training on" in result.stdout and "test accuracy" in result.stdout
    loss = float(result.stdout.split("final training loss ")[1].split(";")[0])
    assert loss < 2.3  # below chance level (log 10) after a few steps


def test_dask_logistic_regression_quick(tmp_path):
    # The worker processes import this checkout's funcdiff, not an installed one.
    env = {**os.environ, "PYTHONPATH": str(EXAMPLES.parent)}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "dask_logistic_regression.py"), "--quick"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "2 worker processes" in out and "dask  epoch  10: loss" in out
    dask_loss = float(out.split("Dask: final loss ")[1].split()[0])
    numpy_loss = float(out.split("final loss ")[-1].split()[0])
    assert dask_loss < 0.69 and abs(dask_loss - numpy_loss) < 0.02
    assert "Same loss (within 0.02, the sampling noise of the subsample): True" in out
