"""The README's examples run, and its printed outputs are what the code prints."""

import doctest
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_code_blocks_run_and_outputs_match():
    text = README.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    namespace: dict = {}
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for i, block in enumerate(blocks):
        if block.lstrip().startswith(">>>"):
            test = parser.get_doctest(block, namespace, f"README block {i}", str(README), 0)
            result = runner.run(test, clear_globs=False)
            assert result.failed == 0, f"README block {i} printed something else"
        else:
            exec(compile(block, f"README block {i}", "exec"), namespace)
    assert len(blocks) >= 4


def test_quick_start_has_exactly_two_command_lines():
    text = README.read_text()
    quick = text.split("## Quick start", 1)[1]
    commands = re.search(r"```bash\n(.*?)```", quick, re.S).group(1).strip().splitlines()
    assert commands == [
        "python -m pip install . && python -m funcdiff",
        'python -m pip install ".[test]" && python -m pytest -q',
    ]
