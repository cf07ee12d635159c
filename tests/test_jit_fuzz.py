"""Differential fuzzing of jit: random programs must give eager's answer under `jit`,
`jit(grad)`, `grad(jit)` and `vmap(jit)`, leave every argument and closed-over constant
unchanged, and return arrays that share memory with nothing else.

A program is a list of instructions drawn by hypothesis. Each reads values from a pool (the
arguments, a closed-over constant and earlier results, all of shape (3, 4)) and appends a new
value, using one family of operations: elementwise math, reductions broadcast back, static and
traced indexing (views of arguments and constants), `.at[]` updates with repeated indices,
matrix products, a jitted helper called twice, weakly typed values (which must take the
dtype of what they meet, float32 included, alike everywhere), control flow (`cond`,
`fori_loop`, `scan`, `while_loop`, `switch`, some with `.at[]` updates inside), cumulative
ops, sorting and ties of `max`. The program returns a few pool values, possibly an
argument or the constant itself. The "ci" hypothesis profile runs a few hundred programs;
"thorough" thousands.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import grad, jit, lax, vmap
from funcdiff._src import core
from funcdiff._src.jit import passes
from funcdiff._src.numpy.indexing import _IndexUpdateHelper

SHAPE = (3, 4)
CONST = np.linspace(-1.0, 1.0, 12).reshape(SHAPE)
CONST_SNAPSHOT = CONST.copy()
REPEATED = np.array([0, 2, 0, 1, 2])  # row indices with repeats, for .at[] updates


@jit
def helper(a):
    """A jitted function that programs call more than once."""
    return jnp.sin(a) * a + 1.0


def _at(a):
    return _IndexUpdateHelper(a)


# Each operation: (name, f(a, b, i) -> array of SHAPE). `a`, `b` are pool values, `i` a traced
# integer in [0, 3). All keep values bounded, so that every program is finite.
OPS: list[tuple[str, Callable[[Any, Any, Any], Any]]] = [
    # elementwise
    ("sin", lambda a, b, i: jnp.sin(a)),
    ("tanh_mul", lambda a, b, i: jnp.tanh(a * b)),
    ("add", lambda a, b, i: a + b),
    ("sub_scaled", lambda a, b, i: 0.5 * a - b * 0.25),
    ("div", lambda a, b, i: a / (1.0 + b * b)),
    ("max", lambda a, b, i: jnp.maximum(a, b)),
    ("where", lambda a, b, i: jnp.where(a > b, a, -b)),
    ("identity_ops", lambda a, b, i: a * 1.0 + 0.0),
    ("exp_tanh", lambda a, b, i: jnp.exp(jnp.tanh(a))),
    # reductions broadcast back
    ("sum_rows", lambda a, b, i: a + jnp.sum(b, axis=0) * 0.1),
    ("mean_cols", lambda a, b, i: a * jnp.mean(b, axis=1, keepdims=True)),
    # static indexing: views of arguments, constants and results
    ("row", lambda a, b, i: a + b[1]),
    ("column", lambda a, b, i: a * b[:, 2:3]),
    ("reverse", lambda a, b, i: b[::-1] * 1.5),
    ("transpose_twice", lambda a, b, i: jnp.transpose(jnp.transpose(b)) - a),
    ("reshape", lambda a, b, i: b.reshape(4, 3).reshape(SHAPE)),
    # traced indexing
    ("take_row", lambda a, b, i: a + jnp.take(b, i, axis=0)),
    ("dynamic_row", lambda a, b, i: a * lax.dynamic_slice(b, (i, 0), (1, 4))),
    ("dynamic_update", lambda a, b, i: lax.dynamic_update_slice(a, b[1:2] * 2.0, (i, 0))),
    # .at[] with repeated and traced indices
    ("at_add", lambda a, b, i: _at(a)[REPEATED].add(b[0] * 0.5)),
    ("at_mul", lambda a, b, i: _at(a)[REPEATED].multiply(0.9)),
    ("at_min", lambda a, b, i: _at(a)[REPEATED].min(b[1])),
    ("at_max", lambda a, b, i: _at(a)[REPEATED, 1].max(b[2, 1])),
    ("at_set_traced", lambda a, b, i: _at(a)[i].set(b[0])),
    # contractions
    ("matmul", lambda a, b, i: (a @ b.T) @ a * 0.1),
    ("einsum", lambda a, b, i: jnp.einsum("ij,kj->ik", a, b) @ b * 0.05),
    # closed-over constant
    ("const_mul", lambda a, b, i: a * CONST),
    ("const_row", lambda a, b, i: a + CONST[2]),
    ("const_itself", lambda a, b, i: CONST),
    # a jitted function used twice
    ("helper_twice", lambda a, b, i: helper(a) * helper(b)),
    ("nested_jit", lambda a, b, i: jit(lambda u, v: helper(u) - helper(v) * u)(a, b)),
    # weakly typed values (a selection of Python scalars, a broadcast one): they must take the
    # dtype of what they meet (float32 here) alike eagerly and transformed
    ("weak_fill", lambda a, b, i: jnp.broadcast_to(0.25, SHAPE)),
    ("where_scalars", lambda a, b, i: jnp.where(a > b, 0.5, -0.5)),
    ("weak_meets_f32", lambda a, b, i: (
        (a.astype(np.float32) + jnp.broadcast_to(0.3, (4,))) * jnp.where(b > 0, 0.1, 2.0)
    ).astype(np.float64)),
    # control flow
    ("cond", lambda a, b, i: lax.cond(jnp.sum(a) > 0, lambda u: u * 2.0,
                                      lambda u: jnp.sin(u) + helper(u), b)),
    ("fori", lambda a, b, i: lax.fori_loop(0, 3, lambda k, c: c * 0.5 + jnp.tanh(c) * b, a)),
    ("scan", lambda a, b, i: lax.scan(lambda c, r: (c + r, c * r + helper(r)),
                                      jnp.zeros(4), a)[1] + b),
    ("while", lambda a, b, i: lax.while_loop(lambda c: c[0] < 2,
                                             lambda c: (c[0] + 1, c[1] * 0.5 + b), (0, a))[1]),
    ("switch", lambda a, b, i: lax.switch(i, [lambda u: u * 2.0, jnp.sin, helper], a) * b),
    # .at[] with repeated indices inside loop and branch bodies, .at[].apply
    ("scan_at", lambda a, b, i: lax.scan(lambda c, r: (_at(c)[REPEATED].add(r * 0.1), c[0]),
                                         a, b[:2])[0]),
    ("cond_at", lambda a, b, i: lax.cond(i > 0, lambda u: _at(u)[REPEATED].multiply(0.5),
                                         helper, a) + b),
    ("at_apply", lambda a, b, i: _at(a)[REPEATED].apply(jnp.tanh) * b),
    # cumulative ops, sorting, ties of max, float32 inside
    ("cumulative", lambda a, b, i: jnp.cumsum(a, axis=1) * 0.25 + lax.cummax(b, axis=0)),
    ("cumprod", lambda a, b, i: jnp.cumprod(jnp.tanh(a), axis=0) - b),
    ("sort", lambda a, b, i: jnp.sort(a, axis=1) + jnp.take(b, jnp.argsort(b[0]), axis=1)),
    ("max_ties", lambda a, b, i: jnp.maximum(a, a * 1.0) + jnp.max(jnp.round(b), axis=0)),
    ("float32", lambda a, b, i: (jnp.tanh(a.astype(np.float32)) * b.astype(np.float32))
     .astype(np.float64)),
]
NOT_REVERSE = {"while"}  # reverse mode refuses while_loop (as in JAX)


@st.composite
def programs(draw):
    n = draw(st.integers(1, 7))
    instructions = [(draw(st.integers(0, len(OPS) - 1)), draw(st.integers(0, 63)),
                     draw(st.integers(0, 63))) for _ in range(n)]
    outputs = draw(st.lists(st.integers(0, 63), min_size=1, max_size=3))
    return instructions, outputs


def make(instructions, outputs) -> Callable[..., Any]:
    def program(x, y, i):
        pool = [x, y, CONST]
        for op, a, b in instructions:
            pool.append(OPS[op][1](pool[a % len(pool)], pool[b % len(pool)], i))
        return tuple(pool[k % len(pool)] for k in outputs)

    return program


def _arrays(out) -> list[np.ndarray]:
    return [np.asarray(v) for v in funcdiff.tree_util.tree_leaves(out)]


def _close(got, expected, what: str) -> None:
    weak = [(core.get_aval(g).weak_type, core.get_aval(e).weak_type)
            for g, e in zip(funcdiff.tree_util.tree_leaves(got),
                            funcdiff.tree_util.tree_leaves(expected))]
    assert all(a == b for a, b in weak), f"{what}: weak types {weak}"
    got, expected = _arrays(got), _arrays(expected)
    assert len(got) == len(expected), what
    for g, e in zip(got, expected):
        assert g.shape == e.shape and g.dtype == e.dtype, f"{what}: {g.dtype}{g.shape}"
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12, err_msg=what)


def _private(out, inputs, what: str) -> None:
    leaves = [v for v in funcdiff.tree_util.tree_leaves(out) if isinstance(v, np.ndarray)]
    for k, v in enumerate(leaves):
        assert isinstance(v, funcdiff.Array), f"{what}: a result that is not a funcdiff Array"
        others = [*inputs, *leaves[:k], *leaves[k + 1:]]
        assert not any(np.shares_memory(v, o) for o in others), (
            f"{what}: result {k} shares memory with an input, the constant or another result")


def _loss(program, weights):
    def loss(x, y, i):
        return sum(jnp.sum(o * w) for o, w in zip(program(x, y, i), weights))

    return loss


@settings(max_examples=15 * settings.default.max_examples)  # ci: 150, thorough: 3000
@given(prog=programs(), seed=st.integers(0, 2**32 - 1), index=st.integers(0, 2),
       sink_distance=st.sampled_from([passes._SINK_DISTANCE, 0]))
def test_random_programs_agree_under_every_transformation(prog, seed, index, sink_distance):
    # With distance 0, jit's `sink` pass defers every elementwise result it may, which the
    # small random programs would otherwise rarely let it do.
    default_distance, passes._SINK_DISTANCE = passes._SINK_DISTANCE, sink_distance
    try:
        _check_program(prog, seed, index)
    finally:
        passes._SINK_DISTANCE = default_distance


def _check_program(prog, seed, index):
    instructions, outputs = prog
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-1, 1, SHAPE), rng.uniform(-1, 1, SHAPE)
    snapshots = (x.copy(), y.copy())
    program = make(instructions, outputs)
    what = "program " + ", ".join(OPS[op][0] for op, _, _ in instructions)

    eager = program(x, y, index)
    jitted = jit(program)
    for call in range(2):  # the first call compiles, the second reuses the program
        got = jitted(x, y, index)
        _close(got, eager, f"jit, call {call + 1}: {what}")
        _private(got, [x, y, CONST], f"jit: {what}")
    # funcdiff Arrays as arguments: eager, and jit's fast path, which hands the program
    # plain views of them.
    xa, ya = jnp.asarray(x), jnp.asarray(y)
    _close(program(xa, ya, index), eager, f"eager on Arrays: {what}")
    for call in range(2):
        got = jitted(xa, ya, index)
        _close(got, eager, f"jit on Arrays, call {call + 1}: {what}")
        _private(got, [x, y, xa, ya, CONST], f"jit on Arrays: {what}")

    weights = [rng.uniform(-1, 1, SHAPE) for _ in outputs]
    loss = _loss(program, weights)
    if not any(OPS[op][0] in NOT_REVERSE for op, _, _ in instructions):
        expected = grad(loss, argnums=(0, 1))(x, y, index)
        for name, g in [("jit(grad)", jit(grad(loss, argnums=(0, 1)))),
                        ("grad(jit)", grad(jit(loss), argnums=(0, 1)))]:
            got = g(x, y, index)
            for a, b in zip(got, expected):
                np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12,
                                           err_msg=f"{name}: {what}")
            _private(got, [x, y, CONST], f"{name}: {what}")

    xs = np.stack([x, -x, x * 0.5])
    batched = vmap(jit(program), in_axes=(0, None, None))(xs, y, index)
    looped = [program(xb, y, index) for xb in xs]
    for k, out in enumerate(batched):
        np.testing.assert_allclose(out, np.stack([np.broadcast_to(lo[k], SHAPE) for lo in looped]),
                                   rtol=1e-12, atol=1e-12, err_msg=f"vmap(jit): {what}")

    np.testing.assert_array_equal(x, snapshots[0], err_msg=f"an argument changed: {what}")
    np.testing.assert_array_equal(y, snapshots[1], err_msg=f"an argument changed: {what}")
    np.testing.assert_array_equal(CONST, CONST_SNAPSHOT, err_msg=f"the constant changed: {what}")


def test_every_operation_appears_in_a_program():
    """Each family runs at least once on its own, under every transformation."""
    for op in range(len(OPS)):
        for a, b in [(0, 1), (1, 2), (3, 0)]:
            test_random_programs_agree_under_every_transformation.hypothesis.inner_test(
                ([(op, a, b)], [3, 0]), seed=op, index=op % 3, sink_distance=0)
