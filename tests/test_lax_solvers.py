"""`lax.custom_root`, `lax.custom_linear_solve` (and its primitive) and `closure_convert`:
solutions against NumPy, derivatives against those of the direct computation
(`jnp.linalg.solve`, `sqrt`) and finite differences, under `jit`, `vmap`, forward and
reverse mode and their compositions, and the errors for missing pieces."""

from __future__ import annotations

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import lax
from funcdiff.test_util import check_grads

RNG = np.random.default_rng(3)
A = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]])  # symmetric positive definite
N = np.array([[3.0, 1.0, 0.5], [-1.0, 2.0, 0.0], [0.5, 0.2, 4.0]])  # not symmetric
B = np.array([1.0, 2.0, 3.0])


def conjugate_gradient(matvec, b):
    """A while_loop solver (reverse mode cannot go through it), returning (x, iterations)."""

    def cond(s):
        _, r, _, k = s
        return (k < 50) & (jnp.sum(r * r) > 1e-26)

    def body(s):
        x, r, p, k = s
        ap = matvec(p)
        alpha = jnp.sum(r * r) / jnp.sum(p * ap)
        r2 = r - alpha * ap
        return x + alpha * p, r2, r2 + jnp.sum(r2 * r2) / jnp.sum(r * r) * p, k + 1

    x, _, _, k = lax.while_loop(cond, body, (jnp.zeros_like(b), b, b, 0))
    return x, k


def dense(matvec, b):
    """A direct solver from the matrix that matvec applies (its Jacobian)."""
    return jnp.linalg.solve(funcdiff.jacfwd(matvec)(b), b)


def cg_solve(a, b):
    return lax.custom_linear_solve(
        lambda x: a @ x, b, conjugate_gradient, symmetric=True, has_aux=True
    )[0]


def general_solve(a, b):
    return lax.custom_linear_solve(lambda x: a @ x, b, dense, transpose_solve=dense)


def test_solution_and_aux():
    x, iterations = lax.custom_linear_solve(
        lambda x: A @ x, B, conjugate_gradient, symmetric=True, has_aux=True
    )
    np.testing.assert_allclose(x, np.linalg.solve(A, B))
    assert 1 <= int(iterations) <= 3
    np.testing.assert_allclose(general_solve(N, B), np.linalg.solve(N, B))


@pytest.mark.parametrize(("solver", "a"), [(cg_solve, A), (general_solve, N)])
def test_derivatives_match_the_direct_solve(solver, a):
    loss = lambda a, b: jnp.sum(solver(a, b) ** 3)
    direct = lambda a, b: jnp.sum(jnp.linalg.solve(a, b) ** 3)
    for transform in (
        lambda f: funcdiff.grad(f, argnums=(0, 1)),
        lambda f: funcdiff.jit(funcdiff.grad(f, argnums=(0, 1))),
        lambda f: funcdiff.jacfwd(f, argnums=(0, 1)),
        lambda f: funcdiff.hessian(f, argnums=1),
        lambda f: funcdiff.jacfwd(funcdiff.grad(f, argnums=0), argnums=1),
    ):
        got, expected = transform(loss)(a, B), transform(direct)(a, B)
        for g, e in zip(
            funcdiff.tree_util.tree_leaves(got), funcdiff.tree_util.tree_leaves(expected)
        ):
            np.testing.assert_allclose(g, e, rtol=1e-8, atol=1e-10)
    check_grads(lambda b: general_solve(N, b), (B,), order=2, modes=("fwd", "rev"))


def test_vmap_over_the_matrix_the_right_hand_side_or_both():
    mats = np.stack([A, A + np.eye(3), 2 * A])
    rhs = np.stack([B, -B, B * 3])
    expected = np.stack([np.linalg.solve(m, r) for m, r in zip(mats, rhs)])
    np.testing.assert_allclose(funcdiff.vmap(cg_solve)(mats, rhs), expected)
    np.testing.assert_allclose(
        funcdiff.vmap(cg_solve, (None, 0))(A, rhs), np.linalg.solve(A, rhs.T).T
    )
    np.testing.assert_allclose(
        funcdiff.vmap(cg_solve, (0, None))(mats, B), np.stack([np.linalg.solve(m, B) for m in mats])
    )
    grads = funcdiff.vmap(funcdiff.grad(lambda a, b: jnp.sum(cg_solve(a, b) ** 2)))(mats, rhs)
    direct = funcdiff.grad(lambda a, b: jnp.sum(jnp.linalg.solve(a, b) ** 2))
    for g, m, r in zip(grads, mats, rhs):
        np.testing.assert_allclose(g, direct(m, r), rtol=1e-8)
    jitted = funcdiff.jit(funcdiff.vmap(funcdiff.grad(lambda b: jnp.sum(cg_solve(A, b)))))
    np.testing.assert_allclose(jitted(rhs), np.tile(np.linalg.solve(A, np.ones(3)), (3, 1)))


def test_pytree_right_hand_side_and_partially_used_solution():
    def solve(a, t):
        matvec = lambda x: {"u": a * x["u"], "v": 2.0 * x["v"]}
        inverse = lambda mv, r: {"u": r["u"] / a, "v": r["v"] / 2.0}
        return lax.custom_linear_solve(matvec, t, inverse, symmetric=True)

    t = {"u": np.ones(2), "v": np.ones(3)}
    out = solve(2.0, t)
    np.testing.assert_allclose(out["u"], [0.5, 0.5])
    np.testing.assert_allclose(out["v"], [0.5, 0.5, 0.5])
    assert funcdiff.grad(lambda a: jnp.sum(solve(a, t)["u"]))(2.0) == pytest.approx(-0.5)


def test_one_primitive_and_clear_errors():
    jaxpr = str(funcdiff.make_jaxpr(cg_solve)(A, B))
    assert jaxpr.count("custom_linear_solve[") == 1 and "while" not in jaxpr.split("let")[1]
    no_transpose = lambda a: jnp.sum(lax.custom_linear_solve(lambda x: a * x, B, dense))
    assert funcdiff.jvp(no_transpose, (2.0,), (1.0,))[1] == pytest.approx(-np.sum(B) / 4)
    with pytest.raises(NotImplementedError, match="transpose_solve"):
        funcdiff.grad(no_transpose)(2.0)
    with pytest.raises(TypeError, match="shaped like b"):
        lax.custom_linear_solve(lambda x: x[:2], B, dense)
    with pytest.raises(TypeError, match=r"must return \(x, aux\)"):
        lax.custom_linear_solve(lambda x: x, B, lambda mv, b: b, has_aux=True)
    with pytest.raises(TypeError, match="not linear"):
        lax.custom_linear_solve(lambda x: x * x, B, dense, transpose_solve=dense)


# ---- custom_root ----------------------------------------------------------------------------


def newton(f, x0):
    step = lambda i, x: x - f(x) / funcdiff.grad(f)(x)
    return lax.fori_loop(0, 40, step, x0)


def scalar_solve(g, y):
    return y / g(1.0)


def cube_root(a):
    return lax.custom_root(lambda x: x**3 - a, 1.0, newton, scalar_solve)


def test_custom_root_value_and_derivatives():
    assert cube_root(8.0) == pytest.approx(2.0)
    # d/da a^(1/3) = a^(-2/3) / 3, and its derivative -2/9 a^(-5/3)
    assert funcdiff.grad(cube_root)(8.0) == pytest.approx(1 / 12)
    assert funcdiff.grad(funcdiff.grad(cube_root))(8.0) == pytest.approx(-2 / 9 / 32)
    assert funcdiff.jvp(cube_root, (8.0,), (1.0,))[1] == pytest.approx(1 / 12)
    a = np.array([1.0, 8.0, 27.0])
    np.testing.assert_allclose(funcdiff.jit(funcdiff.vmap(cube_root))(a), [1.0, 2.0, 3.0])
    np.testing.assert_allclose(funcdiff.vmap(funcdiff.grad(cube_root))(a), a ** (-2 / 3) / 3)
    check_grads(cube_root, (5.0,), order=2, modes=("fwd", "rev"))


def test_custom_root_of_a_vector_system_with_aux():
    # x = A⁻¹ b as the root of A x - b, found by a solver reporting its iterations
    def root(a, b):
        f = lambda x: a @ x - b
        solve = lambda f, x0: (x0 - jnp.linalg.solve(a, f(x0)), 1)
        tangent_solve = lambda g, y: jnp.linalg.solve(funcdiff.jacfwd(g)(y), y)
        return lax.custom_root(f, jnp.zeros(3), solve, tangent_solve, has_aux=True)

    x, iterations = root(A, B)
    np.testing.assert_allclose(x, np.linalg.solve(A, B))
    assert iterations == 1
    loss = lambda a, b: jnp.sum(root(a, b)[0] ** 2)
    direct = lambda a, b: jnp.sum(jnp.linalg.solve(a, b) ** 2)
    for g, e in zip(funcdiff.grad(loss, (0, 1))(N, B), funcdiff.grad(direct, (0, 1))(N, B)):
        np.testing.assert_allclose(g, e, rtol=1e-8)


def test_custom_root_solution_ignores_the_guess_and_checks_structure():
    # the root does not depend on the initial guess: no derivative flows to it
    g = funcdiff.grad(lambda x0: lax.custom_root(lambda x: x**3 - 8.0, x0, newton, scalar_solve))
    assert g(1.5) == 0.0
    with pytest.raises(TypeError, match="structure of initial_guess"):
        lax.custom_root(lambda x: (x, x), 1.0, newton, scalar_solve)


# ---- closure_convert ------------------------------------------------------------------------


def test_closure_convert_hoists_traced_values():
    hoisted = []

    def outer(w):
        f = lambda x: w * x**2
        converted, consts = funcdiff.closure_convert(f, 1.0)
        hoisted.append(len(consts))
        return converted(3.0, *consts)

    assert outer(2.0) == 18.0
    assert funcdiff.grad(outer)(2.0) == 9.0
    assert hoisted == [0, 1]  # a plain value stays in the function; a traced one is hoisted
    assert funcdiff.jit(funcdiff.grad(outer))(2.0) == 9.0
    np.testing.assert_allclose(funcdiff.vmap(outer)(np.array([1.0, 2.0])), [9.0, 18.0])
    converted, consts = funcdiff.closure_convert(lambda x, y: {"s": x + y}, 1.0, 2.0)
    assert consts == [] and converted(1.0, 2.0)["s"] == 3.0
    with pytest.raises(TypeError, match="takes arguments like"):
        converted(1.0)


def test_closure_convert_lets_custom_vjp_see_the_closed_over_value():
    @funcdiff.custom_vjp
    def scale(x, w):
        return x * w

    scale.defvjp(lambda x, w: (x * w, (x, w)), lambda res, g: (g * res[1], g * res[0]))

    def outer(w):
        f = lambda x: scale(x, w)
        converted, consts = funcdiff.closure_convert(f, 1.0)
        return converted(3.0, *consts)

    assert funcdiff.grad(outer)(2.0) == 3.0
