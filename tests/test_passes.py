"""Each optimisation pass on its own: it simplifies what it should and keeps the meaning."""

import pathlib
import subprocess
import sys
import warnings

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import jit, lax
from funcdiff._src import core
from funcdiff._src.interpreters import ad
from funcdiff._src.jit import lowering, passes


def trace(f, *args):
    return funcdiff.make_jaxpr(f)(*args)


def names(closed):
    return [e.primitive.name for e in closed.eqns]


def same_values(before, after, *args):
    for a, b in zip(before(*args), after(*args)):
        np.testing.assert_allclose(a, b)


def test_dce_drops_unused_equations_and_constants():
    w = np.ones(3)
    closed = trace(lambda x: (jnp.sin(x * w), jnp.cos(x))[1], np.ones(3))
    assert names(closed) == ["mul", "sin", "cos"]
    out = passes.dce(closed)
    assert names(out) == ["cos"] and out.consts == []
    same_values(closed, out, np.arange(3.0))


def test_cse_reuses_identical_equations():
    closed = trace(lambda x: jnp.sin(x) + jnp.sin(x) * 2.0, np.ones(2))
    out = passes.dce(passes.cse(closed))
    assert names(out).count("sin") == 1
    same_values(closed, out, np.array([0.3, 0.4]))


def test_constant_folding():
    closed = trace(lambda x: x + jnp.exp(np.float64(2.0)) * np.arange(3.0), np.ones(3))
    out = passes.fold_constants(closed)
    assert names(out) == ["add"]
    same_values(closed, out, np.ones(3))


def test_folded_weak_scalars_stay_weak():
    # abs(3.0) folds to a weakly typed scalar: kept a Python float, it leaves a float32 operand
    # float32 at run time (a NumPy float64 would promote it).
    x = np.float32(0.8)
    closed = trace(lambda x: lax.rem(x, lax.abs(3.0)), x)
    out = passes.fold_constants(closed)
    assert names(out) == ["rem"] and out.consts == []
    assert jit(lambda x: lax.rem(x, lax.abs(3.0)))(x).dtype == np.float32
    xp, fp = np.array([-0.7], np.float32), np.array([0.5], np.float32)
    assert jit(lambda x: jnp.interp(x, xp, fp, period=3.0))(x).dtype == np.float32


def test_only_one_broadcast_operand_is_narrowed():
    # Both operands broadcast from scalars: dropping both broadcasts would lose the shape.
    f = lambda a: lax.broadcast_in_dim(a, (1,), ()) + lax.broadcast_in_dim(0.5, (1,), ())
    out = jit(f)(np.array(2.0))
    assert out.shape == (1,) and out.tolist() == [2.5]
    assert jit(lambda a, b: jnp.geomspace(a, b, 1))(np.array(2.0), np.array(3.0)).shape == (1,)


def test_folding_does_not_inflate_broadcasts():
    closed = trace(lambda x: x + lax.broadcast_in_dim(1.5, (512, 512), ()), np.ones((512, 512)))
    out = passes.fold_constants(closed)
    assert "broadcast_in_dim" in names(out)


def test_algebraic_identities():
    def f(x):
        y = x * 1.0 + 0.0
        y = lax.neg(lax.neg(y))
        y = lax.transpose(lax.transpose(y, (1, 0)), (1, 0))
        y = lax.broadcast_in_dim(y, (2, 3), (0, 1))
        y = lax.reduce_sum(lax.reshape(y, (2, 1, 3)), (1,))
        return y / 1.0

    closed = trace(f, np.ones((2, 3)))
    out = passes.simplify(closed)
    assert names(out) == ["reshape", "reshape"] or set(names(out)) <= {"reshape"}
    same_values(closed, out, np.arange(6.0).reshape(2, 3))


def test_identity_elements_on_each_side_only_where_they_hold():
    one32, zero32 = np.float32(1.0), np.float32(0.0)  # NumPy scalars as literals, too
    kept = {
        "0 - x": lambda x: lax.sub(zero32, x),
        "1 / x": lambda x: lax.div(one32, x),
        "x * 2": lambda x: lax.mul(x, np.float32(2.0)),
        "x + 1": lambda x: lax.add(x, one32),
    }
    dropped = {
        "x - 0": lambda x: lax.sub(x, zero32),
        "x / 1": lambda x: lax.div(x, one32),
        "0 + x": lambda x: lax.add(zero32, x),
        "1 * x": lambda x: lax.mul(one32, x),
        "x * 1": lambda x: lax.mul(x, one32),
        "x + 0": lambda x: lax.add(x, zero32),
    }
    x = np.array([0.5, -2.0], np.float32)
    for table, expected in ((kept, 1), (dropped, 0)):
        for label, f in table.items():
            closed = trace(f, x)
            out = passes.simplify(closed)
            assert len(out.eqns) == expected, label
            np.testing.assert_array_equal(out(x)[0], f(x), err_msg=label)


def test_multiplication_by_zero_scalar():
    closed = trace(lambda x: jnp.sum(x) * 0.0, np.ones(3))
    out = passes.simplify(closed)
    assert names(out) == []
    assert out(np.ones(3))[0] == 0.0


def test_transpose_of_dot_is_one_swapped_dot():
    closed = trace(lambda a, b: (a.T @ b).T, np.ones((4, 2)), np.ones((4, 3)))
    out = passes.simplify(closed)
    assert names(out) == ["dot_general"]
    a, b = np.arange(8.0).reshape(4, 2), np.arange(12.0).reshape(4, 3)
    same_values(closed, out, a, b)


def test_inline_nested_jit():
    inner = jit(lambda x: jnp.sin(x) * 2)
    closed = trace(lambda x: inner(x) + 1, np.ones(2))
    assert names(closed) == ["jit", "add"]
    out = passes.inline_calls(closed)
    assert names(out) == ["sin", "mul", "add"]
    core.typecheck_jaxpr(out.jaxpr)
    same_values(closed, out, np.array([0.1, 0.2]))


def test_optimize_keeps_meaning_of_a_gradient_program():
    f = lambda w, x: jnp.sum(jnp.tanh(x @ w) ** 2) + jnp.sum(w * 0.0)
    w, x = np.ones((3, 2)) * 0.1, np.arange(6.0).reshape(2, 3)
    closed = trace(funcdiff.grad(f), w, x)
    out = passes.optimize(closed)
    assert len(out.eqns) < len(closed.eqns)
    core.typecheck_jaxpr(out.jaxpr)
    same_values(closed, out, w, x)


def test_diagonal_matrix_product_becomes_a_broadcast_multiply():
    w = np.arange(12.0).reshape(3, 4) / 10
    closed = trace(funcdiff.jacrev(lambda x: jnp.tanh(x @ w)), np.ones(3))
    out = passes.optimize(closed)
    assert "dot_general" not in names(out)[1:]  # only the forward x @ w is a matrix product
    x = np.array([0.1, -0.2, 0.3])
    same_values(closed, out, x)


def test_variable_uses_gives_last_reader_and_read_count():
    # x is read by sin and mul; s by mul and as an output; the output lives to the end.
    closed = trace(lambda x: (jnp.sin(x) * x, jnp.sin(x)), np.ones(2))
    j = closed.jaxpr
    x = j.invars[0]
    last, count = core.variable_uses(j)
    readers = [i for i, e in enumerate(j.eqns) if x in e.invars]
    assert last[x] == readers[-1] and count[x] == len(readers)
    for out in j.outvars:
        assert last[out] == len(j.eqns)
    produced_unread = [v for e in j.eqns for v in e.outvars if v not in count]
    assert all(v not in last for v in produced_unread)
    # Evaluation frees by the same analysis: every non-output dies after its last reader.
    dead = core._dead_after(j)
    assert x in dead[last[x]]
    assert not any(out in vs for vs in dead.values() for out in j.outvars)


def test_variable_uses_gives_first_readers_when_asked():
    # `sink` schedules by the first and the last reader of each variable, from the same walk.
    closed = trace(lambda x: (jnp.sin(x) * x, jnp.cos(x), x * 2.0), np.ones(2))
    j = closed.jaxpr
    first: dict = {}
    last, count = core.variable_uses(j, first)
    assert (last, count) == core.variable_uses(j)
    for v in count:
        readers = [i for i, e in enumerate(j.eqns) if any(a is v for a in e.invars)]
        assert first[v] == (readers[0] if readers else len(j.eqns))
    x = j.invars[0]
    assert first[x] == 0 and last[x] == len(j.eqns) - 1 > 0


def test_flatten_calls_says_where_each_equation_came_from():
    inner = jit(lambda x: jnp.sin(x) * 2)
    outer = jit(lambda x: inner(x) + inner(x + 1.0))
    closed = trace(lambda x: jnp.cos(outer(x)), np.ones(2))
    flat, origins, calls = passes.flatten_calls(closed, lambda e: e.primitive.name == "jit")
    assert names(flat) == ["sin", "mul", "add", "sin", "mul", "add", "cos"]
    # Instance 0 is the outer call, 1 and 2 the two inner calls inside it.
    assert origins == [(0, 1), (0, 1), (0,), (0, 2), (0, 2), (0,), ()]
    assert len(calls) == 3 and calls[1].params["jaxpr"] is calls[2].params["jaxpr"]
    # The inner function's two copies define different variables.
    assert flat.jaxpr.eqns[0].outvars[0] is not flat.jaxpr.eqns[3].outvars[0]
    core.typecheck_jaxpr(flat.jaxpr)
    same_values(closed, flat, np.array([0.1, 0.2]))


def test_backward_pass_reports_each_transposed_equation():
    _, linear = ad.linearize_flat(lambda x: [jnp.sin(x) * 3.0], [np.array(0.5)], [True])
    seen = []
    args = [ad.UndefinedPrimal(a) for a in linear.in_avals]
    (ct,) = ad.backward_pass(
        linear.jaxpr.jaxpr,
        linear.jaxpr.consts,
        args,
        [np.array(1.0)],
        on_transpose=lambda eqn, ct_out, cts_in: seen.append((eqn.primitive.name, ct_out)),
    )
    np.testing.assert_allclose(ct, 3.0 * np.cos(0.5))
    assert [name for name, _ in seen] == ["mul", "mul"]
    np.testing.assert_allclose(seen[0][1], 1.0)  # the output's cotangent reaches the last mul


def _mlp_loss(ws, x):
    h = x
    for w in ws:
        h = jnp.tanh(h @ w)
    return jnp.sum(h * h)


def test_sink_computes_each_layers_derivative_where_the_backward_pass_needs_it():
    # Reverse mode stages `1 - tanh(z)**2` in the forward pass; sunk, it is computed from the
    # activation when the backward pass reaches that layer: one array per layer stays alive.
    rng = np.random.default_rng(0)
    ws = [rng.normal(size=(4, 4)) / 2 for _ in range(12)]
    x = rng.normal(size=(8, 4))
    before = passes.dce(passes.cse(passes.simplify(trace(funcdiff.grad(_mlp_loss), ws, x))))
    after = passes.sink(before)
    assert sorted(map(str, after.eqns)) == sorted(map(str, before.eqns))  # only the order moves
    core.typecheck_jaxpr(after.jaxpr)

    def subs_in_forward_pass(closed):
        kinds = names(closed)
        last_tanh = max(i for i, k in enumerate(kinds) if k == "tanh")
        return kinds[:last_tanh].count("sub")

    # Layers whose derivative is read within a few equations of being computed (the last
    # ones) are not worth moving.
    assert subs_in_forward_pass(before) == len(ws) - 1
    assert subs_in_forward_pass(after) <= 2
    layer = x.size * x.itemsize
    peak_before = lowering.plan_buffers(before.jaxpr).peak_bytes
    peak_after = lowering.plan_buffers(after.jaxpr).peak_bytes
    assert peak_after <= peak_before - (len(ws) - 3) * layer
    assert peak_after <= (len(ws) + 4) * layer
    same_values(before, after, *ws, x)
    for a, b in zip(jit(funcdiff.grad(_mlp_loss))(ws, x), funcdiff.grad(_mlp_loss)(ws, x)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_sink_never_keeps_an_input_alive_longer():
    def f(x, w):
        a = x @ w  # not elementwise: stays where it is
        b = a * 2.0  # a's last reader: deferring it would keep a alive instead of b
        d = x * 3.0  # x is an input: alive anyway, so this waits for its reader below
        c = jnp.exp(x) @ w
        for _ in range(20):
            c = jnp.cos(c) * 0.5
        return c + b, d + c

    x, w = np.linspace(0.0, 1.0, 6).reshape(2, 3), np.ones((3, 3))
    closed = trace(f, x, w)
    out = passes.sink(closed)
    kinds = names(out)
    assert kinds[:3] == ["dot_general", "mul", "exp"]
    assert str(out.eqns[-2]) == str(closed.eqns[2])  # `x * 3.0`, right before `d + c`
    same_values(closed, out, x, w)


def test_sink_leaves_results_read_soon_where_they_are():
    closed = trace(lambda x, w: (x * 3.0, jnp.sin(x) @ w), np.ones((2, 3)), np.ones((3, 3)))
    assert passes.sink(closed) is closed


def test_arithmetic_on_broadcast_scalars_is_one_broadcast():
    def f(x):
        ones = lax.broadcast_in_dim(1.0, x.shape, ())
        scaled = 100.0 * ones  # a broadcast 100.0, computed at compile time
        return scaled * x  # then a scalar multiply

    x = np.linspace(0.0, 1.0, 5)
    closed = trace(f, x)
    out = passes.dce(passes.simplify(closed))
    assert names(out) == ["mul"] and out.eqns[0].invars[0].val == 100.0
    same_values(closed, out, x)


def test_sum_with_a_broadcast_zero_is_the_other_operand():
    # add_any(x, broadcast(0)) is x, as x + 0 is; the broadcast of anything else stays.
    zeros = lambda x, v=0.0: lax.broadcast_in_dim(v, x.shape, ())  # noqa: E731
    x = np.array([1.5, -2.0, 0.25])
    for f, expected in [
        (lambda x: ad.add_any_p.bind(x, zeros(x)), []),
        (lambda x: ad.add_any_p.bind(zeros(x, -0.0), x), []),
        (lambda x: ad.add_any_p.bind(x, zeros(x, 0.5)), ["broadcast_in_dim", "add_any"]),
    ]:
        closed = trace(f, x)
        out = passes.dce(passes.simplify(closed))
        assert names(out) == expected
        same_values(closed, out, x)
        np.testing.assert_array_equal(jit(f)(x), f(x))
    # In a gradient: `x * 0.0` has the zero cotangent broadcast(0), which the sum of
    # cotangents of `x` no longer adds.
    g = funcdiff.grad(lambda x: jnp.sum(jnp.sin(x) * 0.5 + x * 0.0))
    program = jit(g).lower(x).program.jaxpr
    assert "add_any" not in names(program), names(program)
    np.testing.assert_allclose(jit(g)(x), 0.5 * np.cos(x), rtol=1e-15)


def test_negations_fold_into_scalar_factors():
    def f(x):
        return lax.neg(2.0 * x), 3.0 * lax.neg(x), lax.neg(lax.neg(x) * 0.5)

    x = np.array([1.5, -2.0, 0.0])
    closed = trace(f, x)
    out = passes.dce(passes.simplify(closed))
    assert names(out) == ["mul", "mul", "mul"]
    assert sorted(
        e.invars[0].val if type(e.invars[0]) is core.Literal else e.invars[1].val for e in out.eqns
    ) == [-3.0, -2.0, 0.5]
    for a, b in zip(funcdiff.jit(f)(x), f(x)):
        np.testing.assert_array_equal(a, b)  # exact, signed zeros included


def test_scales_merge_only_when_exact():
    def f(x):
        return 2.0 * (3.0 * x), 3.0 * (4.0 * x), 3.0 * (0.1 * x), 0.5 * (3.0 * x)

    x = np.array([0.1, 1e-310, 7.0, -3.3])
    closed = trace(f, x)
    out = passes.dce(passes.simplify(closed))
    # 2 * 3 and 3 * 4 merge (a power of two scales exactly); 3 * 0.1 and 0.5 * 3 do not.
    assert names(out).count("mul") == 2 + 2 * 2
    six = out.eqns[0].invars[0]  # Python scalars merge into a Python scalar, written inline
    assert six.val == 6.0 and type(six.val) is float and six.aval.weak_type
    assert "_k" not in jit(lambda x: 2.0 * (3.0 * x)).lower(x).as_python().split("\n")[1]
    for a, b in zip(funcdiff.jit(f)(x), f(x)):
        np.testing.assert_array_equal(a, b)


def test_sum_of_padded_arrays_is_padded_once():
    def f(x, y):
        z = lax.pad(x, 0.0, ((0, 1, 0),)) + lax.pad(y, 0.0, ((0, 1, 0),))
        return z + lax.pad(y, 0.0, ((1, 0, 0),))  # padded differently: stays

    x, y = np.arange(3.0), np.array([0.5, -1.0, 2.0])
    closed = trace(f, x, y)
    out = passes.dce(passes.simplify(closed))
    assert names(out).count("pad") == 2 and names(closed).count("pad") == 3
    same_values(closed, out, x, y)
    np.testing.assert_array_equal(funcdiff.jit(f)(x, y), f(x, y))


def test_hessian_vector_product_program_has_no_negations_or_extra_pads():
    def rosenbrock(x):
        return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    def hvp(x, v):
        return funcdiff.jvp(funcdiff.grad(rosenbrock), (x,), (v,))[1]

    rng = np.random.default_rng(0)
    x, v = rng.normal(size=50), rng.normal(size=50)
    kinds = names(jit(hvp).lower(x, v).program.jaxpr)
    assert "neg" not in kinds and kinds.count("pad") == 2 and "broadcast_in_dim" not in kinds
    np.testing.assert_allclose(jit(hvp)(x, v), hvp(x, v), rtol=1e-13)
    a, b = x[:-1], x[1:]
    expected = np.zeros_like(x)
    expected[:-1] = (1200 * a * a - 400 * b + 2) * v[:-1] - 400 * a * v[1:]
    expected[1:] += 200 * v[1:] - 400 * a * v[:-1]
    np.testing.assert_allclose(jit(hvp)(x, v), expected, rtol=1e-10)


def test_new_rewrites_keep_ieee_edge_cases():
    # Merged scale factors that overflow stay apart; a pad of -0.0 plus one of 0.0 keeps
    # 0.0 in the padding; 1 / broadcast(0.0) folds to inf without a warning.
    def f(x):
        big = 2.0**1000 * (1e10 * x)  # 2**1000 * 1e10 overflows; times 1e-20 first, not
        padded = lax.pad(x, -0.0, ((1, 0, 0),)) + lax.pad(x, 0.0, ((1, 0, 0),))
        inf = 1.0 / lax.broadcast_in_dim(0.0, x.shape, ())
        return big, padded, inf * x

    x = np.array([1e-20, 2e-20])
    closed = trace(f, x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = passes.optimize(closed)
    assert names(out).count("pad") == 2
    with np.errstate(divide="ignore"):  # the eager 1 / 0
        expected = f(x)
        same_values(closed, out, x)
    for a, b in zip(jit(f)(x), expected):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(np.signbit(a), np.signbit(b))


@pytest.mark.parametrize(
    "script, printed",
    [
        ("hvp_bench.py", "funcdiff jit(jvp(grad))"),
        ("memory_bench.py", "buffer plan (`peak_bytes`)"),
        ("compile_bench.py", "pass sink"),
        ("eager_bench.py", "| eager grad | funcdiff |"),
    ],
)
def test_issue_20_benchmarks_run(script, printed):
    # Each script checks funcdiff against its hand-written floor (assert_allclose) before
    # timing anything; --quick runs in seconds. No timing is asserted here.
    path = pathlib.Path(__file__).parent.parent / "bench" / script
    done = subprocess.run(
        [sys.executable, str(path), "--quick"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert printed in done.stdout


def test_sum_of_complex_pads_compiles():
    # Padding values of complex dtype: their zero signs are compared part by part.
    def f(x):
        return lax.pad(x, 0j, [(1, 0, 0)]) + lax.pad(x, 0j, [(1, 0, 0)])

    x = np.array([1 + 2j, 3 - 1j])
    np.testing.assert_array_equal(jit(f)(x), f(x))
    np.testing.assert_array_equal(
        jit(jnp.fft.ifft2)(x.reshape(1, 2)), jnp.fft.ifft2(x.reshape(1, 2))
    )
