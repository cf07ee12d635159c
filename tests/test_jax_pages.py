"""The points JAX's documentation pages make, as our own short programs.

Each section follows one page of JAX's documentation ("Quickstart", "Thinking in JAX", "Key
concepts", "Pytrees", "Custom pytree nodes", "Custom derivative rules", "JIT compilation",
"Automatic differentiation" and the "101" pages): the calls and semantic points its code cells
use, written anew, with results checked against values computed by hand or with NumPy. The
pages themselves are JAX's and are not in this repository; `tests/run_jax_pages.py` runs them
unchanged when given a directory that holds them. What still differs is listed on
docs/reference/jax-differences.md.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import namedtuple
from typing import Any

import numpy as np
import pytest

import funcdiff as jax
import funcdiff.numpy as jnp
from funcdiff import custom_jvp, custom_vjp, grad, jacfwd, jacrev, jit, lax, random, tree_util, vmap
from funcdiff.test_util import check_grads


def _selu(x, alpha=1.67, lmbda=1.05):
    return lmbda * jnp.where(x > 0, x, alpha * jnp.exp(x) - alpha)


def _selu_np(x, alpha=1.67, lmbda=1.05):
    return lmbda * np.where(x > 0, x, alpha * np.exp(x) - alpha)


# ---- Quickstart -------------------------------------------------------------------------------


def test_quickstart_numpy_style_code_and_jit_agree_and_block():
    x = jnp.arange(5.0)
    np.testing.assert_allclose(_selu(x), [0.0, 1.05, 2.1, 3.15, 4.2])
    big = random.normal(random.key(1), (1000,))
    fast = jit(_selu)
    out = fast(big).block_until_ready()  # the timing lines' idiom returns the array itself
    np.testing.assert_allclose(out, _selu_np(np.asarray(big)), rtol=1e-12)
    assert jax.block_until_ready(out) is out


def test_quickstart_derivatives():
    def sum_logistic(x):
        return jnp.sum(1.0 / (1.0 + jnp.exp(-x)))

    x = jnp.arange(3.0)
    s = 1 / (1 + np.exp(-np.arange(3.0)))
    np.testing.assert_allclose(grad(sum_logistic)(x), s * (1 - s), rtol=1e-12)
    # third derivative of the logistic at 1, through nested jit and grad
    d3 = grad(jit(grad(jit(grad(lambda t: 1.0 / (1.0 + jnp.exp(-t)))))))(1.0)
    s1 = 1 / (1 + np.exp(-1.0))
    np.testing.assert_allclose(d3, s1 * (1 - s1) * (1 - 6 * s1 + 6 * s1**2), rtol=1e-10)
    # Jacobian and Hessian
    np.testing.assert_allclose(jax.jacobian(jnp.exp)(x), np.diag(np.exp([0.0, 1.0, 2.0])))
    hess = jacfwd(jacrev(lambda v: jnp.sum(jnp.sin(v))))(x)
    np.testing.assert_allclose(hess, np.diag(-np.sin([0.0, 1.0, 2.0])), atol=1e-15)


def test_quickstart_vmap_matches_manual_batching():
    key1, key2 = random.split(random.key(0))
    mat = random.normal(key1, (150, 100))
    batched_x = random.normal(key2, (10, 100))

    def apply_matrix(x):
        return jnp.dot(mat, x)

    naive = jnp.stack([apply_matrix(v) for v in batched_x])
    manual = jnp.dot(batched_x, mat.T)
    mapped = vmap(apply_matrix)(batched_x)
    np.testing.assert_allclose(manual, naive, rtol=1e-10)
    np.testing.assert_allclose(jit(vmap(apply_matrix))(batched_x), mapped, rtol=1e-10)
    assert mapped.shape == (10, 150)


# ---- Thinking in JAX --------------------------------------------------------------------------


def test_arrays_are_immutable_with_functional_updates():
    x = jnp.arange(10)
    assert isinstance(x, jax.Array)
    with pytest.raises(TypeError, match=r"\.at"):
        x[0] = 10
    y = x.at[0].set(10)
    assert x[0] == 0 and y[0] == 10 and y[1:].tolist() == list(range(1, 10))
    np_x = np.arange(10)
    np_x[0] = 10  # NumPy arrays stay mutable
    assert np_x[0] == 10


def test_lax_requires_explicit_promotion_where_jnp_promotes():
    assert jnp.add(1, 1.0) == 2.0
    for f in (lax.add, jit(lax.add)):
        with pytest.raises(TypeError, match="jnp.add"):
            f(1, 1.0)
    assert lax.add(jnp.float32(1), jnp.float32(1.0)).dtype == np.float32
    out = lax.add(jnp.float32(1), 1.0)  # a Python scalar joins an array of its kind
    assert out == 2.0 and out.dtype == np.float32


def test_convolution_with_jnp_and_with_lax():
    x = jnp.array([1.0, 2.0, 1.0])
    y = jnp.ones(10)
    expected = np.convolve(np.array([1.0, 2.0, 1.0]), np.ones(10))
    np.testing.assert_allclose(jnp.convolve(x, y), expected)
    # the same with the general convolution: batch, channel and spatial dimensions, flipped kernel
    result = lax.conv_general_dilated(
        y.reshape(1, 1, 10), x[::-1].reshape(1, 1, 3), window_strides=(1,), padding=[(2, 2)]
    )
    np.testing.assert_allclose(result[0, 0], expected)


def test_jit_of_a_normalisation():
    def norm(X):
        X = X - X.mean(0)
        return X / X.std(0)

    X = np.random.default_rng(0).normal(size=(100, 5))
    expected = (X - X.mean(0)) / X.std(0)
    np.testing.assert_allclose(jit(norm)(X).block_until_ready(), expected, rtol=1e-12)
    np.testing.assert_allclose(norm(X), expected, rtol=1e-12)


def test_value_dependent_shapes_fail_under_jit_and_where_works():
    def negatives(x):
        return x[x < 0]

    x = jnp.array([-1.0, 2.0, -3.0])
    assert negatives(x).tolist() == [-1.0, -3.0]
    with pytest.raises(jax.errors.NonConcreteBooleanIndexError, match="boolean-mask"):
        jit(negatives)(x)
    with pytest.raises(IndexError):  # as in JAX, it is an IndexError
        jit(negatives)(x)

    def masked_sum(x):
        return jnp.where(x < 0, x, 0).sum()

    assert jit(masked_sum)(x) == -4.0


def test_tracers_print_their_type_and_side_effects_run_at_trace_time():
    seen = []

    @jit
    def f(x, y):
        seen.append(str(x))
        return jnp.dot(x + 1, y + 1)

    x = np.ones((3, 4))
    out = f(x, np.ones(4))
    np.testing.assert_allclose(out, np.full(3, 16.0))  # (1 + 1) * (1 + 1) over 4 terms
    f(x + 1, np.ones(4))  # same shapes: no new trace, no new print
    assert len(seen) == 1 and "f64[3,4]" in seen[0]
    jaxpr = str(jax.make_jaxpr(lambda x, y: jnp.dot(x + 1, y + 1))(x, np.ones(4)))
    assert "dot_general" in jaxpr and "add" in jaxpr


def test_static_arguments_allow_python_control_flow():
    def f(x, neg):
        return -x if neg else x

    with pytest.raises(jax.errors.TracerBoolConversionError):
        jit(f)(1.0, True)
    g = jit(f, static_argnums=1)
    assert g(1.0, True) == -1.0 and g(1.0, False) == 1.0
    assert jit(f, static_argnames="neg")(2.0, neg=True) == -2.0


def test_random_keys_are_explicit_state():
    key = random.key(43)
    a = random.normal(key)
    assert random.normal(key) == a  # the same key, the same draw
    new_key, subkey = random.split(key)
    assert random.normal(subkey) != a
    draws = [random.normal(k) for k in random.split(new_key, 3)]
    assert len(set(float(d) for d in draws)) == 3
    u = random.uniform(random.fold_in(key, 7), (1000,))
    assert 0.0 <= float(u.min()) and float(u.max()) < 1.0
    assert not np.array_equal(u, random.uniform(random.fold_in(key, 8), (1000,)))


def test_debug_print_shows_runtime_values_under_jit(capsys):
    @jit
    def f(x):
        jax.debug.print("x = {}", x)
        y = jnp.sin(x)
        jax.debug.print("y = {y}", y=y)
        return y

    f(2.0)
    f(3.0)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "x = 2.0" and out[2] == "x = 3.0"
    assert float(out[1].split("=")[1]) == pytest.approx(np.sin(2.0))


# ---- Key concepts and the 101 pages ------------------------------------------------------------


def test_arrays_answer_the_device_api_for_one_cpu():
    x = jnp.arange(5)
    assert isinstance(x, jax.Array)
    (device,) = x.devices()
    assert device.platform == "cpu"
    assert x.sharding.device_set == {device}
    assert x.is_fully_addressable
    assert jax.devices() == [device]


def test_typeof_describes_values_as_a_trace_does():
    assert str(jax.typeof(jnp.ones((2, 3), jnp.float32))) == "float32[2,3]"
    assert str(jax.typeof(1.0)) == "~float64[]"  # a Python scalar is weakly typed
    seen = []

    def f(x):
        seen.append(str(jax.typeof(x)))
        return x * 2

    np.testing.assert_array_equal(vmap(f)(jnp.arange(3)), [0, 2, 4])
    jit(f)(np.ones(2, np.float32))
    assert seen == ["int64[]", "float32[2]"]


def test_jnp_promotes_like_numpy():
    assert jnp.add(jnp.float32(1), 1.0).dtype == np.float32
    assert (jnp.ones(2, jnp.float32) + np.ones(2)).dtype == np.float64
    assert (jnp.arange(3) / 2).dtype == np.float64
    assert jnp.sum(jnp.array([1, 2, 3])) == 6


def test_pytree_structure_of_common_containers():
    tree = [1, 2, (jnp.arange(3), jnp.ones(2))]
    leaves, treedef = jax.tree.flatten(tree)
    assert str(treedef) == "PyTreeDef([*, *, (*, *)])" and len(leaves) == 4
    params = {"W": jnp.ones((2, 2)), "b": jnp.zeros(2), "n": 5}
    assert str(jax.tree.structure(params)) == "PyTreeDef({'W': *, 'b': *, 'n': *})"
    Params = namedtuple("Params", ["a", "b"])
    assert jax.tree.leaves(Params(1, 5.0)) == [1, 5.0]


def test_value_and_grad_of_a_loss():
    def loss(w, x, y):
        return jnp.sum((jnp.dot(x, w) - y) ** 2)

    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    y = np.array([1.0, 0.0])
    w = np.array([0.5, -0.5])
    value, g = jax.value_and_grad(loss)(w, x, y)
    r = x @ w - y
    assert value == pytest.approx(np.sum(r**2))
    np.testing.assert_allclose(g, 2 * x.T @ r)
    check_grads(loss, (w, x, y), order=2)


# ---- JIT compilation --------------------------------------------------------------------------


def test_make_jaxpr_of_log2_and_impure_prints():
    def log2(x):
        return jnp.log(x) / jnp.log(2.0)

    text = str(jax.make_jaxpr(log2)(3.0))
    assert text.count("log") == 2 and "div" in text
    assert jit(log2)(8.0) == pytest.approx(3.0)
    printed = []

    def log2_with_print(x):
        printed.append(type(x).__name__)
        return jnp.log(x) / jnp.log(2.0)

    jax.make_jaxpr(log2_with_print)(3.0)
    assert printed and "Tracer" in printed[0]


def test_jit_with_value_dependent_control_flow():
    def g(x, n):
        i = 0
        while i < n:
            i += 1
        return x + i

    with pytest.raises(jax.errors.TracerBoolConversionError):
        jit(g)(10, 20)
    assert jit(g, static_argnames=["n"])(10, 20) == 30

    @jit
    def loop_body(prev_i):
        return prev_i + 1

    def g_inner_jitted(x, n):
        i = 0
        while i < n:
            i = loop_body(i)
        return x + i

    assert g_inner_jitted(10, 20) == 30

    def f(x):
        return x if x > 0 else 2 * x

    with pytest.raises(jax.errors.ConcretizationTypeError):
        jit(f)(-1.0)
    assert f(-1.0) == -2.0 and jit(f, static_argnums=0)(-1.0) == -2.0


def test_jit_caches_by_function_identity():
    traces = []

    def unjitted(x, n):
        traces.append(n)
        return x * n

    partial_jitted = [jit(functools.partial(unjitted, n=2)) for _ in range(3)]
    for f in partial_jitted:
        assert f(3.0) == 6.0
    assert len(traces) == 3  # each partial object is a new function: traced again
    traces.clear()
    once = jit(functools.partial(unjitted, n=2))
    once(1.0)
    once(2.0)
    assert len(traces) == 1


# ---- Automatic differentiation ----------------------------------------------------------------


def test_higher_order_derivatives_of_tanh_and_a_polynomial():
    d = grad(jnp.tanh)
    t = np.tanh(2.0)
    assert d(2.0) == pytest.approx(1 - t**2)
    assert grad(grad(jnp.tanh))(2.0) == pytest.approx(-2 * t * (1 - t**2))
    f = lambda x: x**3 + 2 * x**2 - 3 * x + 1
    assert [grad(f)(1.0), grad(grad(f))(1.0), grad(grad(grad(f)))(1.0)] == [4.0, 10.0, 6.0]
    hess = jacfwd(jacrev(lambda v: jnp.sum(v**3)))(jnp.array([1.0, 2.0]))
    np.testing.assert_allclose(hess, np.diag([6.0, 12.0]))


def test_logistic_regression_gradients_with_argnums_and_aux():
    x = np.array([[0.5, -1.0], [1.5, 0.2], [-0.3, 0.8]])
    labels = np.array([1.0, 0.0, 1.0])
    W, b = np.array([0.1, -0.2]), 0.3

    def loss(W, b):
        preds = 1 / (1 + jnp.exp(-(jnp.dot(x, W) + b)))
        return -jnp.sum(jnp.log(preds * labels + (1 - preds) * (1 - labels)))

    p = 1 / (1 + np.exp(-(x @ W + b)))
    W_grad, b_grad = grad(loss, (0, 1))(W, b)
    np.testing.assert_allclose(W_grad, x.T @ (p - labels), rtol=1e-12)
    assert b_grad == pytest.approx(np.sum(p - labels))
    g = grad(lambda params: loss(params["W"], params["b"]))({"W": W, "b": b})
    np.testing.assert_allclose(g["W"], W_grad)
    (value, aux), _ = jax.value_and_grad(lambda W: (loss(W, b), "aux"), has_aux=True)(W)
    assert aux == "aux" and value == pytest.approx(loss(W, b))


def test_stop_gradient_in_a_td_update():
    def value_fn(theta, state):
        return jnp.dot(theta, state)

    def td_loss(theta, s_prev, r, s):
        target = r + value_fn(theta, s)
        return -0.5 * (jax.lax.stop_gradient(target) - value_fn(theta, s_prev)) ** 2

    theta = np.array([0.1, -0.2, 0.3])
    s_prev, s = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    delta = 1.0 + theta @ s - theta @ s_prev
    np.testing.assert_allclose(grad(td_loss)(theta, s_prev, 1.0, s), delta * s_prev)


# ---- Pytrees and custom pytree nodes ----------------------------------------------------------


def test_tree_leaves_and_tree_map():
    trees = [[1, "a", None], (1, (2, 3), ()), [1, {"k1": 2, "k2": (3, 4)}, 5], jnp.array([1, 2])]
    assert [len(jax.tree.leaves(t)) for t in trees] == [2, 3, 5, 1]  # None is an empty node
    list_of_lists = [[1, 2, 3], [1, 2], [1, 2, 3, 4]]
    assert jax.tree.map(lambda x: x * 2, list_of_lists) == [[2, 4, 6], [2, 4], [2, 4, 6, 8]]
    assert jax.tree.map(lambda x, y: x + y, list_of_lists, list_of_lists) == jax.tree.map(
        lambda x: 2 * x, list_of_lists
    )
    with pytest.raises(ValueError):
        jax.tree.map(lambda x, y: x + y, [1, 2], [1, 2, 3])


def test_mlp_parameters_as_a_pytree_trained_with_tree_map():
    def init(sizes):
        return [
            {"weights": np.full((n_in, n_out), 0.1), "biases": np.zeros(n_out)}
            for n_in, n_out in zip(sizes[:-1], sizes[1:])
        ]

    def forward(params, x):
        *hidden, last = params
        for layer in hidden:
            x = jax.nn.relu(x @ layer["weights"] + layer["biases"])
        return x @ last["weights"] + last["biases"]

    def loss(params, x, y):
        return jnp.mean((forward(params, x) - y) ** 2)

    params = init([1, 4, 1])
    shapes = jax.tree.map(lambda p: p.shape, params)
    assert shapes == [{"biases": (4,), "weights": (1, 4)}, {"biases": (1,), "weights": (4, 1)}]
    x = np.linspace(-1, 1, 20).reshape(-1, 1)
    y = x**2
    update = jit(lambda p, x, y: jax.tree.map(lambda a, g: a - 0.1 * g, p, grad(loss)(p, x, y)))
    before = loss(params, x, y)
    for _ in range(20):
        params = update(params, x, y)
    assert loss(params, x, y) < before


def test_custom_pytree_classes_and_namedtuples():
    class Container:
        def __init__(self, name: str, a: Any, b: Any):
            self.name, self.a, self.b = name, a, b

    tree_util.register_pytree_node(
        Container, lambda c: ((c.a, c.b), c.name), lambda name, ab: Container(name, *ab)
    )
    trees = [Container("x", 1.0, 2.0), Container("y", 3.0, 4.0)]
    assert jax.tree.leaves(trees) == [1.0, 2.0, 3.0, 4.0]
    doubled = jax.tree.map(lambda v: v * 2, trees)
    assert [(c.name, c.a, c.b) for c in doubled] == [("x", 2.0, 4.0), ("y", 6.0, 8.0)]

    @tree_util.register_pytree_node_class
    class Special:
        def __init__(self, x, y):
            self.x, self.y = x, y

        def tree_flatten(self):
            return (self.x, self.y), None

        @classmethod
        def tree_unflatten(cls, aux, children):
            return cls(*children)

    s = grad(lambda s: s.x * s.y)(Special(2.0, 5.0))
    assert (s.x, s.y) == (5.0, 2.0)

    Point = namedtuple("Point", ["x", "y"])
    assert jax.tree.leaves([Point(1, 2), Point(3, None)]) == [1, 2, 3]


def test_tree_transpose_and_key_paths():
    def outer():
        return [[1, 2], [3, 4], [5, 6]]

    tree = outer()
    transposed = jax.tree.transpose(jax.tree.structure([0, 0, 0]), jax.tree.structure([0, 0]), tree)
    assert transposed == [[1, 3, 5], [2, 4, 6]]
    Point = namedtuple("Point", ["x", "y"])
    with_paths, _ = tree_util.tree_flatten_with_path([Point(1, 2), {"k": 3}])
    keys = [tree_util.keystr(path) for path, _ in with_paths]
    assert keys == ["[0].x", "[0].y", "[1]['k']"]


def test_registered_dataclass_and_static_fields():
    @functools.partial(tree_util.register_dataclass, data_fields=["w"], meta_fields=["name"])
    @dataclasses.dataclass
    class Layer:
        w: Any
        name: str

    layer = Layer(np.array([1.0, 2.0]), "dense")
    leaves, treedef = jax.tree.flatten(layer)
    assert len(leaves) == 1
    g = grad(lambda layer: jnp.sum(layer.w**2))(layer)
    assert g.name == "dense"
    np.testing.assert_allclose(g.w, [2.0, 4.0])
    rebuilt = tree_util.tree_unflatten(treedef, [np.zeros(2)])
    assert rebuilt.name == "dense"


def test_unflatten_receives_the_leaves_of_transformations():
    built_with = []

    class Box:
        def __init__(self, a):
            built_with.append(type(a))
            self.a = a

    tree_util.register_pytree_node(Box, lambda b: ((b.a,), None), lambda _, c: Box(*c))
    out = vmap(lambda b: Box(b.a * 2))(Box(jnp.arange(3.0)))
    np.testing.assert_allclose(out.a, [0.0, 2.0, 4.0])
    jac = jax.jacobian(lambda b: b)(Box(jnp.arange(2.0)))  # leaves that are Boxes
    assert isinstance(jac.a, Box)
    np.testing.assert_allclose(jac.a.a, np.eye(2))
    with pytest.raises(TypeError, match="not a valid array"):
        jnp.asarray(Box(1.0))  # JAX refuses an arbitrary object as an array; so does funcdiff


# ---- Custom derivative rules ------------------------------------------------------------------


def test_custom_jvp_fixes_a_numerically_unstable_derivative():
    def log1pexp_naive(x):
        return jnp.log(1.0 + jnp.exp(x))

    @custom_jvp
    def log1pexp(x):
        return jnp.log(1.0 + jnp.exp(x))

    @log1pexp.defjvp
    def log1pexp_jvp(primals, tangents):
        (x,), (x_dot,) = primals, tangents
        return log1pexp(x), (1 - 1 / (1 + jnp.exp(x))) * x_dot

    with np.errstate(over="ignore", invalid="ignore"):
        assert np.isnan(grad(log1pexp_naive)(1000.0))  # inf / inf
        assert grad(log1pexp)(1000.0) == 1.0
        assert jit(grad(log1pexp))(1000.0) == 1.0
    np.testing.assert_allclose(
        vmap(jit(grad(log1pexp)))(jnp.arange(3.0)), 1 / (1 + np.exp(-np.arange(3.0)))
    )


def test_custom_jvp_with_defjvps_and_python_control_flow():
    @custom_jvp
    def f(x, y):
        return jnp.sin(x) * y

    f.defjvps(
        lambda x_dot, ans, x, y: jnp.cos(x) * x_dot * y, lambda y_dot, ans, x, y: jnp.sin(x) * y_dot
    )
    assert grad(f, 1)(2.0, 3.0) == pytest.approx(np.sin(2.0))
    assert grad(f)(2.0, 3.0) == pytest.approx(3 * np.cos(2.0))

    @custom_jvp
    def relu_like(x):
        if x > 0:  # runs on concrete values outside jit
            return x
        return 0.0 * x

    relu_like.defjvp(lambda p, t: (relu_like(p[0]), jnp.where(p[0] > 0, t[0], 0.0)))
    assert relu_like(3.0) == 3.0 and grad(relu_like)(3.0) == 1.0 and grad(relu_like)(-1.0) == 0.0


def test_custom_vjp_clip_gradient_and_jvp_refusal():
    @custom_vjp
    def clip_gradient(lo, hi, x):
        return x

    def fwd(lo, hi, x):
        return x, (lo, hi)

    def bwd(res, g):
        lo, hi = res
        return (None, None, jnp.clip(g, lo, hi))

    clip_gradient.defvjp(fwd, bwd)
    xs = jnp.linspace(0.0, 4.0, 5)
    # the incoming cotangent 1 is clipped to 0.75, then flows through sin
    g = vmap(grad(lambda x: clip_gradient(-0.75, 0.75, jnp.sin(x))))(xs)
    np.testing.assert_allclose(g, 0.75 * np.cos(np.linspace(0.0, 4.0, 5)))
    g = vmap(grad(lambda x: jnp.sin(clip_gradient(-0.75, 0.75, x))))(xs)
    np.testing.assert_allclose(g, np.clip(np.cos(np.linspace(0.0, 4.0, 5)), -0.75, 0.75))
    with pytest.raises(TypeError, match="custom_vjp"):
        jax.jvp(lambda x: clip_gradient(-1.0, 1.0, x), (1.0,), (1.0,))


def _adjoint_step(f, packed, w):
    a, x_star, x_star_bar = packed
    _, vjp_x = jax.vjp(lambda x: f(a, x), x_star)
    return x_star_bar + vjp_x(w)[0]


def test_custom_vjp_fixed_point_with_while_loop():
    @functools.partial(custom_vjp, nondiff_argnums=(0,))
    def fixed_point(f, a, x_guess):
        def cond(carry):
            prev, x = carry
            return jnp.abs(prev - x) > 1e-12

        return lax.while_loop(cond, lambda c: (c[1], f(a, c[1])), (x_guess, f(a, x_guess)))[1]

    def fixed_point_fwd(f, a, x_init):
        x_star = fixed_point(f, a, x_init)
        return x_star, (a, x_star)

    def fixed_point_rev(f, res, x_star_bar):
        a, x_star = res
        _, vjp_a = jax.vjp(lambda a: f(a, x_star), a)
        # w = x_star_bar + w * df/dx, solved by the same iteration; the values it needs are
        # passed as an argument, not closed over, so that it can be differentiated again
        w = fixed_point(functools.partial(_adjoint_step, f), (a, x_star, x_star_bar), x_star_bar)
        return vjp_a(w)[0], jnp.zeros_like(x_star)

    fixed_point.defvjp(fixed_point_fwd, fixed_point_rev)

    def newton_sqrt(a):
        return fixed_point(lambda a, z: 0.5 * (z + a / z), a, a)

    assert newton_sqrt(2.0) == pytest.approx(np.sqrt(2.0))
    np.testing.assert_allclose(vmap(newton_sqrt)(jnp.array([1.0, 4.0, 9.0])), [1.0, 2.0, 3.0])
    assert grad(newton_sqrt)(2.0) == pytest.approx(0.5 / np.sqrt(2.0))
    assert grad(grad(newton_sqrt))(2.0) == pytest.approx(-0.25 * 2.0**-1.5)


def test_custom_rules_on_pytrees():
    Point = namedtuple("Point", ["x", "y"])

    @custom_jvp
    def f(pt):
        return {"a": pt.x**2, "b": (jnp.sin(pt.x), jnp.cos(pt.y))}

    @f.defjvp
    def f_jvp(primals, tangents):
        (pt,), (dot,) = primals, tangents
        ans = f(pt)
        return ans, {"a": 2 * pt.x * dot.x, "b": (jnp.cos(pt.x) * dot.x, -jnp.sin(pt.y) * dot.y)}

    out = f(Point(1.0, 2.0))
    assert out["a"] == 1.0 and out["b"][0] == pytest.approx(np.sin(1.0))
    g = grad(lambda pt: f(pt)["a"] + f(pt)["b"][0])(Point(1.0, 2.0))
    assert isinstance(g, Point)
    assert g.x == pytest.approx(2.0 + np.cos(1.0)) and g.y == 0.0


# ---- JAX's lax dtype rules, eagerly and under jit ---------------------------------------------


@pytest.mark.parametrize(
    "f, args",
    [
        (lax.add, (1, 1.0)),
        (lax.add, (np.ones(2, np.float32), np.ones(2))),
        (lax.add, (np.ones(2), 1)),
        (lax.add, (np.ones(2, complex), 1.0)),
        (lax.add, (True, 1)),
        (lax.mul, (np.arange(3), 0.5)),
        (lax.max, (1, 2.0)),
        (lax.rem, (7, 2.0)),
        (lax.eq, (1, 1.0)),
        (lax.select, (True, 1, 1.0)),
        (lax.clamp, (0, np.ones(2), 1)),
        (lax.pow, (2.0, 3.0j)),
        (lax.sin, (1,)),
        (lax.sqrt, (np.int64(4),)),
        (lax.floor, (np.arange(3),)),
        (lax.atan2, (1, 2)),
        (lax.lgamma, (1,)),
        (lax.digamma, (np.int32(2),)),
        (lax.bessel_i0e, (np.arange(3),)),
        (lax.nextafter, (np.float32(1), np.float64(2))),
        (lax.polygamma, (1, np.float32(2))),
        (lax.zeta, (np.float32(2), np.float64(3))),
        (lax.igamma, (np.float32(1), np.float64(2))),
        (lax.betainc, (np.float32(1), np.float32(2), np.float64(0.5))),
    ],
)
def test_lax_refuses_mixed_or_wrong_dtypes_eagerly_and_under_jit(f, args):
    for g in (f, jit(f)):
        with pytest.raises(TypeError):
            g(*args)


@pytest.mark.parametrize(
    "f, args, expected, dtype",
    [
        (lax.add, (1, 2), 3, np.int64),
        (lax.add, (1.0, 2.0), 3.0, np.float64),
        (lax.add, (np.float32(1), 2.0), 3.0, np.float32),
        (lax.sub, (np.array([5], np.int32), 2), [3], np.int32),
        (lax.mul, (np.array([2], np.uint8), 3), [6], np.uint8),
        (lax.div, (np.array([-7]), np.array([2])), [-3], np.int64),
        (lax.pow, (np.float32(2), 3), 8.0, np.float32),  # an integer exponent is allowed
        (lax.pow, (2.0, np.array([2, 3])), [4.0, 8.0], np.float64),
        (lax.select, (np.array([True, False]), np.ones(2), np.zeros(2)), [1.0, 0.0], np.float64),
        (lax.clamp, (0.0, np.array([-1.0, 0.5, 2.0]), 1.0), [0.0, 0.5, 1.0], np.float64),
        (lax.complex, (np.float32(1), 2.0), 1 + 2j, np.complex64),
        (lax.abs, (-3,), 3, np.int64),
        (lax.shift_left, (np.array([1, 2]), 3), [8, 16], np.int64),
    ],
)
def test_lax_accepts_one_dtype_and_same_kind_python_scalars(f, args, expected, dtype):
    for g in (f, jit(f)):
        out = g(*args)
        np.testing.assert_array_equal(out, expected)
        assert np.result_type(out) == dtype


def test_every_public_elementwise_lax_function_is_checked():
    # A public `lax` function of an elementwise family must be the wrapper of `checked.py`,
    # which applies JAX's dtype rules to concrete operands as jit applies them to traced ones:
    # re-exporting the unchecked function lets `lax.lgamma(1)` compute eagerly and raise in jit.
    families = {"elementwise", "transcendental", "bits", "special"}
    unchecked = sorted(
        name
        for name in dir(lax)
        if callable(f := getattr(lax, name))
        and not isinstance(f, type)
        and getattr(f, "__module__", "").rpartition(".")[2] in families
        and getattr(f, "__module__", "").startswith("funcdiff._src.lax.")
        and not hasattr(f, "__wrapped__")
    )
    assert len([n for n in dir(lax) if callable(getattr(lax, n))]) > 100
    assert not unchecked, f"wrap these in funcdiff/_src/lax/checked.py: {unchecked}"


def test_lax_keyword_arguments_are_checked_too():
    assert lax.select(np.array([True]), on_true=np.ones(1), on_false=np.zeros(1)) == 1.0
    with pytest.raises(TypeError, match="jnp.where"):
        lax.select(np.array([True]), on_true=np.ones(1), on_false=0)


def test_lax_checks_leave_grad_and_vmap_working():
    f = lambda x: lax.mul(lax.sin(x), x)
    assert grad(f)(1.0) == pytest.approx(np.cos(1.0) + np.sin(1.0))
    np.testing.assert_allclose(vmap(f)(np.arange(3.0)), np.sin(np.arange(3.0)) * np.arange(3.0))
    with pytest.raises(TypeError):
        vmap(lambda x: lax.add(x, 1))(np.arange(3.0))


def test_jit_trace_gives_the_traced_program():
    def g(x):
        return jnp.sin(x) * 2.0

    traced = jit(g).trace(1.0)
    assert str(traced.jaxpr) == str(jax.make_jaxpr(g)(1.0))
    assert "sin" in traced.lower().as_text()
    batched = str(
        jit(vmap(lambda x, w: jnp.dot(x, w))).trace(np.ones((2, 3)), np.ones((2, 3))).jaxpr
    )
    assert "dot_general" in batched and "f64[2]" in batched


@pytest.mark.parametrize(
    "f",
    [
        lambda: lax.concatenate([np.ones(2, np.float32), np.ones(2)], 0),
        lambda: lax.dynamic_update_slice(np.ones(3), np.ones(1, np.int64), (0,)),
        lambda: lax.reduce_sum(np.array([True, True]), (0,)),
        lambda: lax.cumsum(np.array([True, False])),
        lambda: lax.round(np.array([1, 2])),
        lambda: lax.select_n(np.array([0, 1]), np.ones(2, np.float32), np.ones(2)),
        lambda: lax.integer_pow(np.array([2]), -1),
        lambda: lax.pad(np.ones(2), 0, [(1, 1, 0)]),
        lambda: lax.pad(np.ones(2, np.float32), np.float64(0.0), [(1, 1, 0)]),
        lambda: lax.scatter_add(
            np.ones(3),
            np.array([[0]]),
            np.ones(1, np.float32),
            lax.ScatterDimensionNumbers((), (0,), (0,)),
        ),
    ],
)
def test_other_lax_functions_refuse_eagerly_what_jit_refuses(f):
    for g in (f, jit(f)):
        with pytest.raises(TypeError):
            g()


def test_checked_lax_functions_still_compute_eagerly():
    x = np.arange(6.0)
    out = lax.concatenate([x[:2], x[4:]], 0)
    assert type(out) is jax.Array and out.tolist() == [0.0, 1.0, 4.0, 5.0]
    assert lax.reshape(x, (2, 3)).shape == (2, 3)
    assert lax.reshape(x, (np.int64(3), 2)).shape == (3, 2)  # NumPy integers in a shape
    assert lax.dynamic_slice(x, (np.array(4),), (2,)).tolist() == [4.0, 5.0]
    assert [lax.dynamic_index_in_dim(x, i, keepdims=False) for i in range(3)] == [0.0, 1.0, 2.0]
    assert lax.reduce_sum(np.array([1, 2], np.int8), (0,)).dtype == np.int8
    assert lax.round(np.array([0.5, -1.5])).tolist() == [1.0, -2.0]
    assert lax.sort(np.array([3.0, 1.0, 2.0])).tolist() == [1.0, 2.0, 3.0]
    assert lax.pad(np.ones(2, np.float32), 0.0, [(1, 1, 0)]).tolist() == [0.0, 1.0, 1.0, 0.0]
    dnums = lax.ScatterDimensionNumbers((), (0,), (0,))
    added = lax.scatter_add(np.ones(3), np.array([[0], [0]]), np.array([1.0, 2.0]), dnums)
    assert added.tolist() == [4.0, 1.0, 1.0]
    dn = (((0,), (0,)), ((), ()))
    assert lax.dot_general(x, x, dn) == 55.0


def test_lax_sort_of_several_operands_by_keys():
    k1 = np.array([2, 1, 2, 1, 0])
    k2 = np.array([0.5, 3.0, -1.0, np.nan, 2.0])
    v = np.arange(5.0)
    for sort in (lax.sort, jit(lax.sort, static_argnames="num_keys")):
        keys, values = sort((k1, v))
        assert keys.tolist() == [0, 1, 1, 2, 2] and values.tolist() == [4.0, 1.0, 3.0, 0.0, 2.0]
        out = sort((k1, k2, v), num_keys=2)  # ties of k1 broken by k2, NaN last
        np.testing.assert_array_equal(out[1], [2.0, 3.0, np.nan, -1.0, 0.5])
        assert out[2].tolist() == [4.0, 1.0, 3.0, 2.0, 0.0]
    # the derivative follows each value to its sorted place
    np.testing.assert_array_equal(grad(lambda v: lax.sort((k1, v))[1][0])(v), [0, 0, 0, 0, 1])
    assert lax.sort(np.array([1.0, 3.0, 2.0]), descending=True).tolist() == [3.0, 2.0, 1.0]
    with pytest.raises(ValueError, match="num_keys"):
        lax.sort((k1, v), num_keys=3)
    with pytest.raises(TypeError, match="one shape"):
        lax.sort((k1, v[:2]))


# ---- Common gotchas ---------------------------------------------------------------------------


def test_closed_over_array_indexed_by_the_loop_counter():
    # The page's iterator cell: a closed-over array read with fori_loop's counter, and a
    # scan over two arrays, whose staged program has one scan.
    array = jnp.arange(10)
    assert int(lax.fori_loop(0, 10, lambda i, x: x + array[i], 0)) == 45
    iterator = iter(range(10))
    assert int(lax.fori_loop(0, 10, lambda i, x: x + next(iterator), 0)) == 0

    def func11(arr, extra):
        ones = jnp.ones(arr.shape)

        def body(carry, aelems):
            ae1, ae2 = aelems
            return carry + ae1 * ae2 + extra, carry

        return lax.scan(body, 0.0, (arr, ones))

    carry, ys = func11(jnp.arange(16), 5.0)
    assert float(carry) == 120.0 + 16 * 5.0
    np.testing.assert_array_equal(ys[:3], [0.0, 5.0, 11.0])
    table = jnp.asarray([0.5, 1.5, 2.5])
    np.testing.assert_array_equal(vmap(lambda i: table[i])(np.array([2, 0])), [2.5, 0.5])
