"""The examples run (in their fast modes) and report success."""

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
