"""Cost rules, `funcdiff.cost_analysis`, `funcdiff.cost_sweep`, the ``cost`` command and the
forward-versus-reverse example.

Counts are asserted exactly on small functions whose answers are known by hand; the
cheap-gradient principle (a JVP or VJP costs a small constant times the function) on a table
of functions; the recommendation on clearly tall and clearly wide Jacobians. No time is
asserted.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from registry import registered_primitives

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import lax
from funcdiff._src.cost_analysis import MODES, recommend
from funcdiff._src.interpreters import cost
from funcdiff._src.interpreters.cost import Cost, jaxpr_cost

ROOT = Path(__file__).resolve().parent.parent
F64 = 8  # bytes


def count(f, *args) -> Cost:
    return jaxpr_cost(funcdiff.make_jaxpr(f)(*args))


# ---- cost rules -----------------------------------------------------------------------------


def test_every_primitive_has_a_cost_rule():
    prims = registered_primitives()
    assert len(prims) > 80
    missing = sorted(p.name for p in prims if p not in cost.cost_rules)
    assert not missing, f"primitives without a cost rule (pass cost= to define_primitive): " \
                        f"{missing}"


def test_matmul_is_2mnk():
    a, b = np.ones((3, 4)), np.ones((4, 5))
    c = count(lambda a, b: a @ b, a, b)
    assert (c.flops, c.transcendentals, c.ops) == (2 * 3 * 5 * 4, 0, 1)
    assert (c.bytes_read, c.bytes_written) == ((12 + 20) * F64, 15 * F64)


def test_dot_general_counts_batch_free_and_contracting_sizes():
    a, b = np.ones((2, 3, 4)), np.ones((2, 4, 5))
    assert count(lambda a, b: jnp.einsum("bij,bjk->bik", a, b), a, b).flops == 2 * 2 * 3 * 5 * 4
    # A matrix-vector product, and a dot of vectors (k = 4, no free dimension).
    assert count(lambda a, v: a @ v, np.ones((3, 4)), np.ones(4)).flops == 2 * 3 * 4
    assert count(jnp.dot, np.ones(4), np.ones(4)).flops == 2 * 4


def test_elementwise_and_transcendental_counts():
    x = np.ones(3)
    c = count(lambda x: jnp.sum(jnp.sin(x)), x)
    assert (c.flops, c.transcendentals, c.ops) == (2, 3, 2)  # 3 sines; 2 additions to sum 3
    assert (c.bytes_read, c.bytes_written) == ((3 + 3) * F64, (3 + 1) * F64)
    c = count(lambda x, y: x * y + 1.0, np.ones(10), np.ones(10))
    assert (c.flops, c.transcendentals, c.ops) == (20, 0, 2)
    # Broadcasting: one flop per element of the result.
    assert count(lambda x, y: x + y, np.ones((4, 1)), np.ones(5)).flops == 20
    for fn in (jnp.exp, jnp.log, jnp.tanh, jnp.sqrt, funcdiff.scipy.special.erf):
        c = count(fn, np.ones(7))
        assert (c.flops, c.transcendentals) == (0, 7), fn


def test_integer_powers_count_multiplications():
    x = np.ones(4)
    assert count(lambda x: x**2, x).flops == 4
    assert count(lambda x: x**3, x).flops == 8
    assert count(lambda x: x**4, x).flops == 8  # two squarings


def test_reductions_and_shape_operations():
    x = np.ones((4, 5))
    assert count(jnp.max, x).flops == 19
    assert count(lambda x: jnp.sum(x, axis=0), x).flops == 15  # 5 sums of 4 terms
    assert count(lambda x: jnp.cumsum(x, axis=1), x).flops == 4 * 4
    c = count(lambda x: x.T, x)
    assert (c.flops, c.bytes_read, c.bytes_written) == (0, 20 * F64, 20 * F64)
    c = count(lambda x: x[np.array([0, 2])], x)  # gather reads only what it takes
    assert c.flops == 0 and c.bytes_written == 10 * F64


def test_higher_order_primitives_recurse():
    xs = np.ones(10)
    # scan: 10 times a body of one addition, plus the conversion of the initial carry.
    c = count(lambda xs: lax.scan(lambda c, x: (c + x, c), 0.0, xs), xs)
    assert (c.flops, c.ops) == (11, 11)
    # jit costs what it runs.
    plain = count(lambda x: jnp.sin(x) * x, xs)
    jitted = count(funcdiff.jit(lambda x: jnp.sin(x) * x), xs)
    assert (jitted.flops, jitted.transcendentals, jitted.ops) == (plain.flops,
                                                                  plain.transcendentals,
                                                                  plain.ops)
    assert count(funcdiff.checkpoint(lambda x: jnp.sin(x) * x), xs).flops == plain.flops


def test_cond_counts_the_costliest_branch_and_says_so():
    def f(x):
        return lax.cond(x[0] > 0, lambda x: jnp.exp(x), lambda x: x * 2.0 + 1.0, x)

    c = count(f, np.ones(10))
    assert c.transcendentals == 10  # the exp branch
    assert c.flops >= 20  # the other branch's two operations, as a maximum
    assert any("cond" in n and "costliest" in n for n in c.notes)


def test_while_counts_one_iteration_and_says_so():
    def f(x):
        return lax.while_loop(lambda c: c[0] < 10, lambda c: (c[0] + 1, c[1] * 2.0), (0, x))[1]

    c = count(f, np.ones(3))
    # The test, the counter and the three products (the counter, carried from a Python int,
    # stays a weak int, as in JAX: no conversion before the loop).
    assert c.flops == 1 + 1 + 3
    assert any("while_loop" in n and "trip count" in n for n in c.notes)


def test_custom_derivative_calls_count_the_function():
    @funcdiff.custom_jvp
    def g(x):
        return jnp.sin(x)

    g.defjvp(lambda primals, tangents: (g(primals[0]), jnp.cos(primals[0]) * tangents[0]))
    assert count(g, np.ones(5)).transcendentals == 5


def test_cost_arithmetic():
    a = Cost(1, 2, 3, 4)
    assert a.ops == 1 and a.bytes == 7
    assert (a + a).scale(3) == Cost(6, 12, 18, 24, ops=6)
    assert cost.maximum([Cost(5, 0, 1, 1), Cost(1, 3, 1, 2)]) == Cost(5, 3, 1, 2)
    assert cost.ZERO + a == a


# ---- the report -----------------------------------------------------------------------------


def mlp(w1, w2, x):
    return jnp.sum(jnp.tanh(jnp.tanh(x @ w1) @ w2) ** 2)


def _mlp_args():
    rng = np.random.default_rng(0)
    return rng.normal(size=(4, 6)), rng.normal(size=(6, 3)), rng.normal(size=(5, 4))


def test_report_counts_the_five_programs():
    report = funcdiff.cost_analysis(mlp, repeats=0)(*_mlp_args())
    assert list(report.modes) == list(MODES)
    assert (report.n, report.m) == (24 + 18 + 20, 1)
    f = report.modes["f"]
    # Two matmuls (5x4 @ 4x6, 5x6 @ 6x3), 30 + 15 tanh, the square and the sum.
    assert f.flops == 2 * 5 * 6 * 4 + 2 * 5 * 3 * 6 + 15 + 14
    assert f.transcendentals == 30 + 15
    assert f.ops == 6
    assert f.residual_bytes == 0 and report.modes["jvp"].residual_bytes == 0
    assert report.modes["vjp"].residual_bytes > 0
    assert report.modes["vjp"].residual_bytes == report.modes["jacrev"].residual_bytes
    assert all(math.isnan(m.time_s) for m in report.modes.values())
    # One output: reverse mode's Jacobian is one VJP.
    assert report.modes["jacrev"].work <= 1.5 * report.modes["vjp"].work
    assert report.recommendation == "jacrev"


def test_counts_leave_out_dead_code():
    # jacfwd's staged program also computes sin(x), which the Jacobian never uses (jit drops
    # it, and the times are measured under jit): only the cosines count.
    report = funcdiff.cost_analysis(jnp.sin, repeats=0)(np.ones(3))
    assert report.modes["f"].transcendentals == 3
    assert report.modes["jacfwd"].transcendentals == 3
    assert report.modes["jacrev"].transcendentals == 3


def test_report_as_data_and_as_text():
    report = funcdiff.cost_analysis(mlp, repeats=2)(*_mlp_args())
    data = report.to_dict()
    for mode in MODES:
        entry = data[mode]
        for key in ("ops", "flops", "transcendentals", "bytes", "residual_bytes", "time_s"):
            assert key in entry, (mode, key)
        assert entry["time_s"] > 0
    assert data["recommendation"] in ("jacfwd", "jacrev")
    reason = data["reason"]
    assert reason.endswith(".") and reason.count(". ") == 0, "one sentence"
    assert json.loads(json.dumps(data))["f"]["flops"] == report.modes["f"].flops
    text = str(report)
    lines = text.splitlines()
    assert lines[0].startswith("cost_analysis(mlp): n = 62 inputs, m = 1 output")
    table = [ln for ln in lines if ln.split(" ")[0] in MODES]
    assert [ln.split()[0] for ln in table] == list(MODES)
    assert len({len(ln) for ln in table} | {len(lines[2])}) == 1, "columns are aligned"
    assert "recommendation: " in text and "median of 2 calls" in text


CHEAP_GRADIENT = {
    "sum of sines": (lambda x: jnp.sum(jnp.sin(x)), (np.linspace(0, 1, 50),)),
    "mlp": (mlp, _mlp_args()),
    "softmax cross-entropy": (
        lambda z, y: -jnp.sum(y * funcdiff.nn.log_softmax(z)),
        (np.linspace(-1, 1, 12).reshape(3, 4), np.eye(4)[[0, 2, 3]])),
    "product": (lambda x: jnp.prod(x), (np.linspace(1, 2, 16),)),
    "rosenbrock": (lambda x: jnp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2),
                   (np.linspace(-1, 1, 20),)),
    "matrix power": (lambda a: jnp.sum(a @ a @ a), (np.eye(6) * 0.5,)),
    "scan": (lambda xs: lax.scan(lambda c, x: (jnp.sin(c * x), c), 1.0, xs)[0],
             (np.linspace(0, 1, 8),)),
    "vector output": (lambda x: jnp.tanh(np.ones((3, 10)) @ x), (np.linspace(0, 1, 10),)),
}


@pytest.mark.parametrize("name", list(CHEAP_GRADIENT))
def test_cheap_gradient_principle(name):
    """A JVP or a VJP (with the function evaluation it includes) does a small constant times
    the arithmetic of the function: the cheap-gradient principle. Most functions here take 2x
    to 3.5x; the product, whose JVP multiplies pairwise to stay exact at zeros, takes 6x.
    (Not so the number of operations: that JVP has O(log n) operations for one reduce_prod.)
    """
    f, args = CHEAP_GRADIENT[name]
    report = funcdiff.cost_analysis(f, repeats=0)(*args)
    for mode in ("jvp", "vjp"):
        assert 1 <= report.ratio(mode, "work") <= 6, (mode, report.ratio(mode, "work"))


def _network(n, m, hidden=16):
    rng = np.random.default_rng(0)
    w1, w2 = rng.normal(size=(hidden, n)), rng.normal(size=(m, hidden))
    return (lambda x: w2 @ jnp.tanh(w1 @ x)), (rng.normal(size=n),)


@pytest.mark.parametrize(("n", "m", "expected"), [(2, 200, "jacfwd"), (200, 2, "jacrev")])
def test_recommendation_for_tall_and_wide_jacobians(n, m, expected):
    f, args = _network(n, m)
    report = funcdiff.cost_analysis(f, repeats=0)(*args)
    assert report.recommendation == expected
    assert ("tall" if m > n else "wide") in report.reason
    fwd, rev = report.modes["jacfwd"], report.modes["jacrev"]
    assert (fwd.work < rev.work) == (expected == "jacfwd")


def test_recommend_weighs_time_counts_and_shape():
    def mc(work, t):
        return funcdiff._src.cost_analysis.ModeCost("x", 1, work, 0, 0, 0, 0, t, 3)

    assert recommend(10, 1, mc(100, 1.0), mc(10, 0.1))[0] == "jacrev"
    # Clearly faster wins over FLOPs, and the reason says so.
    mode, reason = recommend(10, 1, mc(100, 0.1), mc(10, 1.0))
    assert mode == "jacfwd" and "although" in reason
    # Times within noise: the counts decide; counts close too: the shape decides.
    assert recommend(10, 1, mc(100, 1.0), mc(10, 1.1))[0] == "jacrev"
    assert recommend(1, 10, mc(100, 1.0), mc(101, 1.0))[0] == "jacfwd"
    assert recommend(10, 1, mc(100, math.nan), mc(101, math.nan))[0] == "jacrev"
    assert recommend(10, 1, mc(100, 0.1), mc(10, 1.0))[1].endswith(
        "it ran 10.0x faster (median of 3 runs), although it counts 10.0x more FLOPs "
        "(per-operation overhead outweighs arithmetic at this size).")
    # A mode that does no arithmetic at all (indexing only): its counts, not an infinite factor.
    for fwd_time, rev_time, reason in ((math.nan, math.nan, "it counts 0 FLOPs against 4."),
                                       (1.0, 3.0, "and counts 0 FLOPs against 4.")):
        mode, why = recommend(12, 2, mc(0, fwd_time), mc(4, rev_time))
        assert mode == "jacfwd" and why.endswith(reason), why
    report = funcdiff.cost_analysis(lambda x: x[np.array([0, 2])], repeats=0)(np.ones(12))
    assert report.recommendation == "jacfwd" and "counts 0 FLOPs against" in str(report)


def test_arguments_are_pytrees_and_integer_leaves_are_held_fixed():
    def f(params, k):
        return jnp.sum(params["w"] * k) + params["b"]

    report = funcdiff.cost_analysis(f, repeats=0)({"w": np.ones(3), "b": 0.5}, np.int64(2))
    assert (report.n, report.m) == (4, 1)


def test_modes_that_cannot_run_are_reported_as_unavailable():
    def f(x):
        return lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, jnp.sin(c[1])), (0, x))[1]

    report = funcdiff.cost_analysis(f, repeats=0)(np.ones(3))
    assert set(report.modes) == {"f", "jvp", "jacfwd"}
    assert set(report.unavailable) == {"vjp", "jacrev"}
    assert report.recommendation == "jacfwd" and "while_loop" in report.reason
    assert report.reason.endswith(".") and ". " not in report.reason
    data = report.to_dict()
    assert data["vjp"] is None and "while_loop" in data["unavailable"]["vjp"]
    assert "vjp     not available: " in str(report)
    assert any("trip count" in n for n in report.notes)


def test_errors_name_the_problem():
    with pytest.raises(TypeError, match="no floating-point input"):
        funcdiff.cost_analysis(lambda k: k * 2.0)(np.arange(3))
    with pytest.raises(TypeError, match="floating-point outputs"):
        funcdiff.cost_analysis(lambda x: x > 0)(np.ones(3))


def test_plot_draws_and_saves_a_figure(tmp_path):
    pytest.importorskip("matplotlib", reason="plotting needs the optional matplotlib")
    report = funcdiff.cost_analysis(mlp, repeats=1)(*_mlp_args())
    fig = report.plot(tmp_path / "report.png")
    assert (tmp_path / "report.png").stat().st_size > 0 and len(fig.axes) == 3
    funcdiff.cost_analysis(mlp, repeats=0)(*_mlp_args()).plot()  # no time panel to draw
    sweep = funcdiff.cost_sweep(lambda n, m: _network(n, m, 4), [(1, 2), (2, 1)], repeats=1)
    sweep.plot(tmp_path / "sweep.png")
    assert (tmp_path / "sweep.png").stat().st_size > 0


def test_plot_without_matplotlib_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    report = funcdiff.cost_analysis(mlp, repeats=0)(*_mlp_args())
    with pytest.raises(ImportError, match="pip install matplotlib"):
        report.plot()


# ---- the sweep ------------------------------------------------------------------------------


def test_sweep_finds_the_crossover():
    sizes = [(1, 16), (2, 8), (4, 4), (8, 2), (16, 1)]
    sweep = funcdiff.cost_sweep(lambda n, m: _network(n, m, hidden=8), sizes, repeats=0)
    assert [(p.n, p.m) for p in sweep.points] == sizes
    winners = [p.winner() for p in sweep.points]
    assert winners[0] == "jacfwd" and winners[-1] == "jacrev"
    (a, b), = sweep.crossover()
    assert a.winner() == "jacfwd" and b.winner() == "jacrev"
    text = str(sweep)
    assert "crossover: between" in text and "jacfwd FLOPs" in text
    data = sweep.to_dict()
    assert len(data["points"]) == 5 and data["crossover"]


# ---- the command line and the example -------------------------------------------------------

USER_MODULE = '''
import funcdiff.numpy as jnp

def loss(w, x):
    return jnp.sum(jnp.tanh(x @ w) ** 2)

not_a_function = 3
'''


def _run(args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen([sys.executable, *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory):
    """Run every command at once (they are independent), then collect their results."""
    cwd = tmp_path_factory.mktemp("cli")
    (cwd / "usermod.py").write_text(USER_MODULE)
    commands = {
        "ok": ["-m", "funcdiff", "cost", "usermod:loss", "--shape", "6,2", "--shape", "3,6",
               "--repeats", "1"],
        "json": ["-m", "funcdiff", "cost", "usermod.py:loss", "--shape", "6,2", "--shape",
                 "3,6", "--repeats", "0", "--json"],
        "no module": ["-m", "funcdiff", "cost", "no_such_module:loss", "--shape", "3"],
        "no function": ["-m", "funcdiff", "cost", "usermod:lost", "--shape", "3"],
        "not callable": ["-m", "funcdiff", "graph", "usermod:not_a_function", "--shape", "3"],
        "bad shape": ["-m", "funcdiff", "cost", "usermod:loss", "--shape", "3,x"],
        "no colon": ["-m", "funcdiff", "graph", "usermod", "--shape", "3"],
        "bad suffix": ["-m", "funcdiff", "graph", "usermod:loss", "--shape", "3,2", "--shape",
                       "2,3", "-o", "g.png"],
        "wrong shapes": ["-m", "funcdiff", "cost", "usermod:loss", "--shape", "3",
                         "--shape", "4"],
        "graph": ["-m", "funcdiff", "graph", "usermod:loss", "--shape", "3,2", "--shape", "2,3",
                  "-o", "g.dot"],
        "mermaid": ["-m", "funcdiff", "graph", "usermod:loss", "--shape", "3,2", "--shape",
                    "2,3", "--format", "mermaid", "--backward"],
        "tour": ["-m", "funcdiff"],
        "example": [str(ROOT / "examples" / "forward_vs_reverse.py"), "--quick"],
    }
    procs = {k: _run(v, cwd) for k, v in commands.items()}
    results = {}
    for k, p in procs.items():
        out, err = p.communicate(timeout=120)
        results[k] = (p.returncode, out, err)
    return cwd, results


@pytest.mark.parametrize(("case", "message"), [
    ("no module", "cannot import module 'no_such_module'"),
    ("no function", "module 'usermod' has no function 'lost'"),
    ("not callable", "usermod:not_a_function is a int, not a function"),
    ("bad shape", "malformed shape '3,x'"),
    ("no colon", "expected MODULE:FUNCTION"),
    ("bad suffix", "cannot tell the format of g.png from its extension: use .dot, .gv, .mmd, "
                   ".mermaid, .md, .svg, or pass --format (dot, mermaid or svg)"),
])
def test_cli_usage_errors_are_one_line_with_status_2(cli_runs, case, message):
    code, out, err = cli_runs[1][case]
    assert code == 2, err
    assert err.count("\n") == 1 and message in err, err
    assert out == ""
    assert not (cli_runs[0] / "g.png").exists()


def test_cli_cost_prints_the_report(cli_runs):
    code, out, err = cli_runs[1]["ok"]
    assert code == 0, err
    assert out.startswith("cost_analysis(loss): n = 30 inputs, m = 1 output")
    assert "recommendation: jac" in out and "median of 1 call" in out
    code, out, err = cli_runs[1]["json"]
    assert code == 0, err
    data = json.loads(out)
    assert set(MODES) <= set(data) and data["recommendation"] == "jacrev"  # counted, not timed


def test_cli_reports_a_failing_function_in_one_line(cli_runs):
    code, out, err = cli_runs[1]["wrong shapes"]
    assert code == 1 and err.count("\n") == 1 and "usermod:loss on shapes" in err, err


def test_cli_graph_writes_the_graph(cli_runs):
    cwd, results = cli_runs
    code, out, err = results["graph"]
    assert code == 0, err
    assert (cwd / "g.dot").read_text().startswith('digraph "loss"')
    code, out, err = results["mermaid"]
    assert code == 0, err
    assert out.startswith("flowchart LR") and "backward pass" in out


def test_no_arguments_still_runs_the_tour(cli_runs):
    code, out, err = cli_runs[1]["tour"]
    assert code == 0, err
    assert out.startswith("funcdiff tour:") and "same gradient: True" in out


def test_forward_vs_reverse_example_runs_quick(cli_runs):
    code, out, err = cli_runs[1]["example"]
    assert code == 0, err
    assert "crossover: between" in out and "cost_analysis(network)" in out
    has_matplotlib = importlib.util.find_spec("matplotlib") is not None
    assert ("saved forward_vs_reverse.png" in out) == has_matplotlib
    assert ("matplotlib is not installed" in out) != has_matplotlib


def test_peak_bytes_are_those_of_the_program_jit_runs():
    # Reverse mode through a deep tanh network, weights differentiated: jit keeps one array
    # per layer, the activation, which the weight gradient reads too (each layer's derivative
    # is computed from it in the backward pass, see `passes.sink`), and the reported peak is
    # that of the scheduled program.
    rng = np.random.default_rng(0)
    ws = [rng.normal(size=(8, 8)) / 3 for _ in range(6)]

    def f(ws, x):
        for w in ws:
            x = jnp.tanh(x @ w)
        return jnp.sum(x * x)

    x = rng.normal(size=(32, 8))
    layer = x.nbytes
    jitted = funcdiff.cost_analysis(f, repeats=0)(ws, x).modes["vjp"].peak_bytes
    staged = funcdiff.cost_analysis(f, repeats=0, jit=False)(ws, x).modes["vjp"].peak_bytes
    assert jitted <= (len(ws) + 3) * layer < staged
