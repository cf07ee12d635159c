"""Small top-level names of JAX: `print_environment_info`, `tree_util.flatten_one_level`,
`random.clone`, `random.key_impl` and `debug.breakpoint` (eager only: under a
transformation it raises)."""

from __future__ import annotations

import collections
import platform

import numpy as np
import pytest

import funcdiff
from funcdiff import random, tree_util
from funcdiff._src import debugging


def test_print_environment_info(capsys):
    text = funcdiff.print_environment_info(return_string=True)
    assert f"funcdiff: {funcdiff.__version__}" in text
    assert f"numpy:    {np.__version__}" in text and platform.system() in text
    assert funcdiff.print_environment_info() is None
    assert capsys.readouterr().out.strip() == text


def test_flatten_one_level():
    assert tree_util.flatten_one_level({"b": (2, 3), "a": 1}) == ((1, (2, 3)), ("a", "b"))
    assert tree_util.flatten_one_level([None, [4]]) == ((None, [4]), None)
    assert tree_util.flatten_one_level(None) == ((), None)
    point = collections.namedtuple("point", "x y")
    assert tree_util.flatten_one_level(point(1, (2,))) == ((1, (2,)), point)
    with pytest.raises(ValueError, match="can't tree-flatten type"):
        tree_util.flatten_one_level(np.ones(2))


def test_clone_and_key_impl():
    k = random.key(7)
    assert np.array_equal(random.clone(k), k)
    assert np.array_equal(random.uniform(random.clone(k)), random.uniform(k))
    assert random.key_impl(k) == "threefry2x32"
    assert random.key_impl(random.split(k, 3)) == "threefry2x32"
    with pytest.raises(TypeError, match="expected keys"):
        random.clone(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="expected keys"):
        random.key_impl(7)
    # under jit and vmap too
    assert np.array_equal(funcdiff.jit(random.clone)(k), k)
    keys = random.split(k, 2)
    assert np.array_equal(funcdiff.vmap(random.clone)(keys), keys)


def test_breakpoint_stops_in_the_callers_frame(monkeypatch):
    stopped = []

    class FakePdb:
        def set_trace(self, frame):
            stopped.append((frame.f_code.co_name, dict(frame.f_locals)))

    monkeypatch.setattr(debugging.pdb, "Pdb", FakePdb)
    monkeypatch.delenv("PYTHONBREAKPOINT", raising=False)

    def f(x):
        y = x * 2
        funcdiff.debug.breakpoint()
        return y

    assert f(3.0) == 6.0
    assert stopped[0][0] == "f" and stopped[0][1]["y"] == 6.0
    monkeypatch.setenv("PYTHONBREAKPOINT", "0")
    f(1.0)
    assert len(stopped) == 1


@pytest.mark.parametrize("transform", [funcdiff.jit, funcdiff.grad, funcdiff.vmap])
def test_breakpoint_under_a_transformation_raises(transform):
    def f(x):
        funcdiff.debug.breakpoint()
        return x.sum() * 2

    with pytest.raises(NotImplementedError, match="eager code only"):
        transform(f)(np.ones(2))
