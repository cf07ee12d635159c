"""``python -m funcdiff cost|graph``: which party each failure is blamed on.

Bad command-line input exits with status 2 and one line naming the argument, before any work;
an exception inside the user's function exits with status 1 and one line pointing at the
user's source line; a module that exits while being imported is reported, not obeyed."""

import subprocess
import sys
import textwrap

import pytest

from funcdiff.__main__ import cli

MODULE = textwrap.dedent("""\
    import funcdiff.numpy as jnp

    def f(x):
        return jnp.sum(jnp.sin(x))

    def g(x, y):
        return jnp.sum(x * y)

    def scaled(x, scale=2.0):
        return jnp.sum(x) * scale

    def total(*xs):
        return sum(jnp.sum(x) for x in xs)

    def keyword(x, *, k):
        return jnp.sum(x) * k

    def boom(x):
        return jnp.sum(x) / undefined_name

    def leaves(x):
        raise SystemExit(3)

    not_a_function = 3
""")

# (command line with {m} for the module file and {tmp} for a scratch folder, exit status,
#  fragment of the one line on stderr, or for status 0 of the output)
CASES = [
    ("cost {m}:f --shape 3 --repeats 0", 0, "jvp"),
    ("cost {m}:scaled --shape 3 --repeats 0", 0, "jvp"),
    ("cost {m}:scaled --shape 3 --shape () --repeats 0", 0, "jvp"),
    ("cost {m}:total --shape 3 --shape 2 --repeats 0", 0, "jvp"),
    ("graph {m}:f --shape 3 -o {tmp}/out.svg", 0, "wrote {tmp}/out.svg (svg)"),
    # impossible shapes: refused before allocating
    ("cost {m}:f --shape 99999999999999999999", 2,
     "argument --shape 99999999999999999999: the float64 inputs would take "
     "799,999,999,999,999,999,992 bytes, more than the limit of 1,073,741,824"),
    ("cost {m}:g --shape 100000,100000 --shape 1 --dtype float32", 2,
     "argument --shape 100000,100000: the float32 inputs would take 40,000,000,000 bytes"),
    ("cost {m}:f --shape " + ",".join(["1"] * 33), 2, "33 dimensions, at most 32"),
    ("cost {m}:f --shape 3,x", 2, "argument --shape: malformed shape '3,x'"),
    ("cost {m}:f --shape -3", 2, "argument --shape: malformed shape '-3': sizes must be >= 0"),
    ("cost {m}:f --shape=-3", 2, "sizes must be >= 0"),
    # the wrong number of shapes
    ("cost {m}:g --shape 3", 2, "argument --shape: {m}:g takes 2 positional arguments (x, y), "
     "but 1 --shape was given"),
    ("cost {m}:f --shape 3 --shape 3", 2, "takes 1 positional arguments (x), but 2 --shape "
     "were given"),
    ("cost {m}:scaled --shape 1 --shape 1 --shape 1", 2, "takes 1 to 2 positional arguments"),
    ("cost {m}:keyword --shape 3", 2, "keyword-only parameters without defaults (k)"),
    # other bad arguments
    ("cost {m}:f --shape 3 --repeats -5", 2, "argument --repeats: must be >= 0, got -5"),
    ("cost {m}:f --shape 3 --repeats many", 2, "argument --repeats: expected a whole number"),
    ("cost {m}:f --shape 3 --seed -1", 2, "argument --seed: must be >= 0, got -1"),
    ("cost {m}:f --shape 3 --dtype int8", 2, "argument --dtype: invalid choice"),
    ("cost {m}", 2, "expected MODULE:FUNCTION"),
    ("cost {m}:nothing --shape 3", 2, "has no function 'nothing'"),
    ("cost {m}:not_a_function --shape 3", 2, "{m}:not_a_function is a int, not a function"),
    ("cost {tmp}/nowhere.py:f --shape 3", 2, "no such file: {tmp}/nowhere.py"),
    ("cost {tmp}/broken.py:f --shape 3", 2,
     "cannot import module '{tmp}/broken.py': ImportError: no such thing"),
    ("cost {tmp}/exits.py:f --shape 3", 2,
     "cannot import module '{tmp}/exits.py': it called sys.exit(0) while being imported"),
    # unwritable outputs
    ("graph {m}:f --shape 3 -o {tmp}/missing/out.dot", 2,
     "argument -o/--output: the folder '{tmp}/missing' does not exist"),
    ("graph {m}:f --shape 3 -o {tmp}/folder.svg", 2,
     "argument -o/--output: {tmp}/folder.svg is a folder"),
    ("graph {m}:f --shape 3 -o {tmp}/out.png", 2,
     "argument -o/--output: cannot tell the format of {tmp}/out.png"),
    ("cost {m}:f --shape 3 --plot {tmp}/missing/plot.png", 2,
     "argument --plot: the folder '{tmp}/missing' does not exist"),
    # the user's function fails: status 1, with its line
    ("cost {m}:boom --shape 3 --repeats 0", 1,
     "{m}:boom on shapes [(3,)]: NameError: name 'undefined_name' is not defined "
     "(at {m}:19 in boom: return jnp.sum(x) / undefined_name)"),
    ("graph {m}:boom --shape 2,2", 1, "{m}:boom on shapes [(2, 2)]: NameError"),
    ("cost {m}:leaves --shape 3 --repeats 0", 1,
     "{m}:leaves on shapes [(3,)]: SystemExit: 3 (at {m}:22 in leaves"),
]


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "m.py").write_text(MODULE)
    (tmp_path / "broken.py").write_text("raise ImportError('no such thing')\n")
    (tmp_path / "exits.py").write_text("import sys\nsys.exit(0)\n")
    (tmp_path / "folder.svg").mkdir()
    return tmp_path


def run(command, folder):
    argv = command.format(m=folder / "m.py", tmp=folder).split()
    try:
        return cli([a if a != "()" else "" for a in argv])
    except SystemExit as e:  # argparse's own usage errors
        return e.code


@pytest.mark.parametrize("command, status, message", CASES, ids=[c[0] for c in CASES])
def test_cli_blames_the_right_party(command, status, message, folder, capsys, monkeypatch):
    monkeypatch.setenv("PATH", "")  # no Graphviz: SVG comes from funcdiff's own layout
    assert run(command, folder) == status
    out, err = capsys.readouterr()
    expected = message.format(m=folder / "m.py", tmp=folder)
    if status == 0:
        assert expected in out + err
        return
    assert expected in err
    assert err.count("\n") == 1 and err.startswith("python -m funcdiff")
    assert out == ""


def test_graph_output_is_written_without_graphviz(folder, capsys, monkeypatch):
    monkeypatch.setenv("PATH", "")
    assert run("graph {m}:g --shape 2 --shape 2 -o {tmp}/g.svg", folder) == 0
    assert (folder / "g.svg").read_text().lstrip().startswith(("<svg", "<?xml"))


def test_an_exiting_import_is_reported_by_the_real_command(folder):
    done = subprocess.run([sys.executable, "-m", "funcdiff", "cost", f"{folder}/exits.py:f",
                           "--shape", "3"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "it called sys.exit(0) while being imported" in done.stderr
    assert done.stdout == ""
