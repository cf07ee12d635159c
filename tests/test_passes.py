"""Each optimisation pass on its own: it simplifies what it should and keeps the meaning."""

import numpy as np

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import jit, lax
from funcdiff._src import core
from funcdiff._src.interpreters import ad
from funcdiff._src.jit import passes


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
        "0 - x": lambda x: lax.sub(zero32, x), "1 / x": lambda x: lax.div(one32, x),
        "x * 2": lambda x: lax.mul(x, np.float32(2.0)), "x + 1": lambda x: lax.add(x, one32),
    }
    dropped = {
        "x - 0": lambda x: lax.sub(x, zero32), "x / 1": lambda x: lax.div(x, one32),
        "0 + x": lambda x: lax.add(zero32, x), "1 * x": lambda x: lax.mul(one32, x),
        "x * 1": lambda x: lax.mul(x, one32), "x + 0": lambda x: lax.add(x, zero32),
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
