"""jit on other Array API namespaces: every primitive of the test table, jitted for
`array_api_strict` (the standard's strict reference implementation), gives NumPy's results, or
is one of the primitives the docs list as having no equivalent, and then fails at compile time
with an error naming it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import array_api_strict as xs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lax_table import LAX_OPS
from registry import registered_primitives
from test_lax_ops import _assert_matches, _ids, draw_jit_case

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import lax
from funcdiff._src.jit import array_api_rules, backends
from funcdiff._src.lax import special
from funcdiff._src.lax._define import rules_of
from funcdiff.tree_util import tree_leaves

DOCS = Path(__file__).resolve().parent.parent / "docs" / "how-to" / "scaling-out.md"


def documented_unsupported() -> dict[str, str]:
    """The table "Primitives without an Array API equivalent" of the Scaling out page."""
    text = DOCS.read_text()
    section = text.split("## Primitives without an Array API equivalent", 1)[1].split("\n## ")[0]
    rows = re.findall(r"^\| ((?:`\w+`(?:, )?)+) \| (.+?) \|$", section, flags=re.M)
    out = {}
    for names, reason in rows:
        for name in re.findall(r"`(\w+)`", names):
            out[name] = reason
    return out


UNSUPPORTED_DOCS = documented_unsupported()


def test_documented_list_is_the_code_list():
    assert len(UNSUPPORTED_DOCS) > 10
    assert set(UNSUPPORTED_DOCS) == {p.name for p in array_api_rules.UNSUPPORTED}


# Primitives with neither an Array API rule nor an UNSUPPORTED entry, and why. The last five
# can be in a jitted program: there they stop compilation for another namespace with the
# generic BackendError (no Array API lowering rule is defined).
NEVER_LOWERED = {
    "custom_lin": "a custom_vjp's tangent map: no forward evaluation, reverse mode transposes it",
    "odeint_tangent": "the tangent of odeint: a jvp through its solver, run eagerly in Python",
    "custom_linear_solve": "runs the user's staged solve as evaluated Python, as odeint_tangent",
    "psum": "a collective of vmap's named axes: vmap replaces it by a reduction",
    "pmax": "same as psum",
    "pmin": "same as psum",
    "all_gather": "same as psum (a reshape of the batch)",
    "axis_index": "same as psum (the positions in the batch)",
    "ppermute": "same as psum (a permutation of the batch)",
    "debug_print": "a side effect calling back into Python with NumPy values",
    "debug_callback": "same as debug_print",
    "pure_callback": "calls back into Python with NumPy values",
    "io_callback": "same as pure_callback",
}


def test_every_primitive_has_a_rule_or_a_reason():
    # The tables are keyed by primitive objects, as NumPy's lowering rules are.
    rules, unsupported = array_api_rules.api_rules, array_api_rules.UNSUPPORTED
    prims = registered_primitives()
    assert set(rules) <= prims and set(unsupported) <= prims
    assert not set(rules) & set(unsupported)
    lacking = {p.name for p in prims if p not in rules and p not in unsupported}
    unseen = {p.name for p, r in rules_of.items() if r.array_api or "array_api" in r.lacks}
    unseen &= lacking
    assert not unseen, (
        f"{sorted(unseen)}: their blocks declare array_api or lack it, but "
        "jit/array_api_rules.py did not see their records: import their module there"
    )
    assert lacking <= set(NEVER_LOWERED), (
        f"{sorted(lacking - set(NEVER_LOWERED))} have no Array API lowering: give "
        "define_primitive array_api='<the standard's function, or an operator of "
        "ARRAY_API_OPERATORS>' when one call of the standard computes it, else write a rule "
        "in jit/array_api_rules.py, or declare lacks={'array_api': 'why'} and list it in "
        "docs/how-to/scaling-out.md"
    )
    assert lacking == set(NEVER_LOWERED)
    # A rule written in array_api_rules.py does not silently replace a block's declaration.
    replaced = [
        p.name
        for p, r in rules_of.items()
        if r.array_api and getattr(rules[p], "declared", None) != r.array_api
    ]
    assert not replaced, f"{replaced} declare array_api, and array_api_rules.py replaces it"


def _to_strict(a):
    return xs.asarray(a) if isinstance(a, np.ndarray | np.generic) else a


@pytest.mark.parametrize("rec", LAX_OPS, ids=_ids(LAX_OPS))
@settings(max_examples=4)
@given(data=st.data())
def test_every_primitive_on_array_api_strict(rec, data):
    """Jitted for array_api_strict (operands given as strict arrays), the op computes what
    NumPy computes; a primitive the docs list as unsupported raises BackendError at compile
    time instead, naming itself and the namespace. So does a record whose program has such a
    primitive besides its own (a collective, which its vmap turns into a gather)."""
    f, args, dtype = draw_jit_case(rec, data)
    jitted = funcdiff.jit(f, backend="array_api_strict")
    strict_args = [_to_strict(a) for a in args]
    staged = {e.primitive.name for e in funcdiff.make_jaxpr(f)(*args).eqns}
    blocked = sorted(staged & (set(UNSUPPORTED_DOCS) | set(NEVER_LOWERED)))
    if blocked:
        names = "|".join(blocked)
        with pytest.raises(backends.BackendError, match=rf"'({names})'.*'array_api_strict'"):
            jitted.lower(*strict_args)
        return
    expected = f(*args)
    got = jitted(*strict_args)
    got_leaves, exp_leaves = tree_leaves(got), tree_leaves(expected)
    assert len(got_leaves) == len(exp_leaves)
    for y, e in zip(got_leaves, exp_leaves):
        assert type(y) is type(xs.asarray(0)), f"{rec.name}: result is a {type(y)}"
        _assert_matches(np.from_dlpack(y), e, dtype, f"{rec.name} on array_api_strict")
    program = jitted.lower(*strict_args).as_python()
    assert "out=" not in program and not re.search(r" [-+*/]= ", program)


def test_backend_is_detected_from_the_arguments_or_named():
    f = funcdiff.jit(lambda x, y: jnp.sin(x) * y + 1.0)
    x, y = np.linspace(0, 1, 5), np.arange(5.0)
    expected = np.sin(x) * y + 1.0
    on_numpy = f(x, y)
    assert type(on_numpy) is funcdiff.Array
    got = f(xs.asarray(x), y)  # NumPy operands join the namespace of the others
    assert type(got) is type(xs.asarray(0))
    np.testing.assert_allclose(np.from_dlpack(got), expected, rtol=1e-15)
    named = funcdiff.jit(lambda x, y: jnp.sin(x) * y + 1.0, backend="array_api_strict")
    got = named(x, y)
    assert type(got) is type(xs.asarray(0))
    np.testing.assert_allclose(np.from_dlpack(got), expected, rtol=1e-15)
    assert funcdiff.jit(jnp.sin, backend=xs)(xs.asarray(x)).dtype == xs.float64
    assert "out=" not in named.lower(x, y).as_python()


def test_numpy_keeps_in_place_code():
    f = lambda x: jnp.exp(jnp.sin(x) * 2.0)
    x = np.linspace(0, 1, 5)
    assert "out=" in funcdiff.jit(f).lower(x).as_python()
    assert "out=" not in funcdiff.jit(f, backend="array_api_strict").lower(x).as_python()


def test_constants_are_converted_once_per_program():
    c = np.arange(4.0)
    f = funcdiff.jit(lambda x: x * c + jnp.sum(c))
    x = xs.asarray(np.ones(4))
    lowered = f.lower(x)
    consts = [v for k, v in lowered.program.fn.__globals__.items() if k.startswith(("_c", "_k"))]
    assert consts and all(type(v) is type(x) for v in consts)
    for _ in range(2):
        np.testing.assert_allclose(np.from_dlpack(f(x)), c + 6.0)
    assert f.trace_count == 1


def test_unsupported_primitive_fails_at_compile_time():
    f = funcdiff.jit(lambda x: special.lgamma(x) + 1.0, backend="array_api_strict")
    with pytest.raises(backends.BackendError, match="'lgamma'.*'array_api_strict'.*special"):
        f(np.ones(3))


def test_bad_backend_names():
    with pytest.raises(ValueError, match="no module named 'nonexistent_xp'"):
        funcdiff.jit(jnp.sin, backend="nonexistent_xp")
    with pytest.raises(TypeError, match="backend must be"):
        funcdiff.jit(jnp.sin, backend=3)


def test_numpy_only_use_imports_no_array_api_library():
    code = (
        "import sys, numpy as np, funcdiff; import funcdiff.numpy as jnp\n"
        "y = funcdiff.jit(lambda x: jnp.sin(x) * 2)(np.ones(3))\n"
        "g = funcdiff.grad(lambda x: jnp.sum(x ** 2))(np.ones(3))\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('dask', 'distributed', 'array_api_strict', 'array_api_compat')]\n"
        "assert not bad, bad\nprint('ok')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def _cupy_with_gpu() -> bool:
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


@pytest.mark.skipif(not _cupy_with_gpu(), reason="needs CuPy and a GPU")
def test_cupy_gradient_matches_numpy():  # pragma: no cover - no GPU in CI
    import cupy

    def loss(w, X, y):
        return jnp.mean((jnp.tanh(X @ w) - y) ** 2)

    rng = np.random.default_rng(0)
    w, X, y = rng.normal(size=3), rng.normal(size=(64, 3)), rng.normal(size=64)
    g = funcdiff.jit(funcdiff.grad(loss))
    got = g(w, cupy.asarray(X), cupy.asarray(y))
    np.testing.assert_allclose(cupy.asnumpy(got), g(w, X, y), rtol=1e-12)


def _loops(x):
    y = lax.fori_loop(0, 5, lambda i, c: c * 0.5 + jnp.sin(x) * i, x)
    c, ys = lax.scan(lambda carry, xi: (carry + xi, carry * xi), 0.0, y)
    return jnp.sum(lax.cond(c > 0, lambda v: v + 1.0, lambda v: v - 1.0, ys))


def _control_flow(x):
    z = lax.while_loop(lambda v: jnp.sum(v) < 100.0, lambda v: v * 2.0 + 1.0, x)
    return _loops(z), z


def test_control_flow_and_its_gradient_on_array_api_strict():
    """fori_loop, scan, while_loop and cond run as Python loops over programs compiled for
    the namespace (a loop counter meets float arrays: it takes their dtype)."""
    x = np.linspace(0.1, 1.0, 4)
    for f in (_control_flow, funcdiff.grad(_loops)):
        expected = f(x)
        got = funcdiff.jit(f, backend="array_api_strict")(xs.asarray(x))
        for g, e in zip(tree_leaves(got), tree_leaves(expected)):
            np.testing.assert_allclose(np.from_dlpack(g), e, rtol=1e-14)
