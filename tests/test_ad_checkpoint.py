"""`funcdiff.ad_checkpoint`: `checkpoint_name`, the named-residual policies and
`print_saved_residuals`. The policies are checked on what reverse mode really keeps (the
residuals of `linearize`/`vjp`) and on what the backward program recomputes, and every
checkpointed function against the same function without checkpoint."""

from __future__ import annotations

import re

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import grad, jit, vmap
from funcdiff.ad_checkpoint import (
    Offloadable,
    Recompute,
    Saveable,
    checkpoint_name,
    checkpoint_policies,
    print_saved_residuals,
    saved_residuals,
)

P = checkpoint_policies
RNG = np.random.default_rng(0)
W1, W2, X = RNG.normal(size=(3, 4)), RNG.normal(size=(2, 3)), RNG.normal(size=4)


def mlp(w1, w2, x):
    h = checkpoint_name(jnp.sin(w1 @ x), "h")
    z = checkpoint_name(w2 @ h, "z")
    return jnp.sum(jnp.tanh(z))


LINE_H = mlp.__code__.co_firstlineno + 1  # the lines of `h` and `z` above
LINE_Z = LINE_H + 1


def _sources(f, *args, **kwargs):
    return [source.split(" from ")[0] for _, source in saved_residuals(f, *args, **kwargs)]


def _backward_text(f, *args):
    """The backward program of `f` at `args`: the pullback, staged."""
    out, pullback = funcdiff.vjp(f, *args)
    return str(funcdiff.make_jaxpr(pullback)(np.ones_like(out)))


def _count(text, primitive):
    return len(re.findall(rf"= {primitive}\b", text))


# ---- checkpoint_name ----------------------------------------------------------------------------


def test_checkpoint_name_is_invisible_in_values_and_derivatives():
    named = lambda x: jnp.sum(jnp.sin(checkpoint_name(x * 2.0, "a")) ** 2)  # noqa: E731
    plain = lambda x: jnp.sum(jnp.sin(x * 2.0) ** 2)  # noqa: E731
    x = RNG.normal(size=(2, 3))
    for transform in (lambda f: f, grad, lambda f: grad(lambda x: jnp.sum(grad(f)(x)))):
        np.testing.assert_allclose(transform(named)(x), transform(plain)(x), rtol=1e-13)
        np.testing.assert_allclose(jit(transform(named))(x), transform(plain)(x), rtol=1e-13)
    np.testing.assert_allclose(vmap(grad(named))(x), vmap(grad(plain))(x), rtol=1e-13)
    funcdiff.test_util.check_grads(named, (x,), order=2)


def test_checkpoint_name_names_every_leaf_of_a_pytree_and_copies():
    x = np.arange(3.0)
    tree = checkpoint_name({"a": x, "b": (2.0, np.ones(2, np.float32))}, "n")
    np.testing.assert_array_equal(tree["a"], x)
    assert tree["b"][0] == 2.0 and tree["b"][1].dtype == np.float32
    assert not np.shares_memory(tree["a"], x)
    jaxpr = funcdiff.make_jaxpr(lambda t: checkpoint_name(t, "n"))({"a": x, "b": x})
    assert [e.primitive.name for e in jaxpr.jaxpr.eqns] == ["name", "name"]
    assert all(e.params == {"name": "n"} for e in jaxpr.jaxpr.eqns)


def test_checkpoint_name_keeps_the_name_on_the_primal_only():
    text = str(funcdiff.make_jaxpr(grad(lambda x: jnp.sum(checkpoint_name(jnp.sin(x), "a"))))(X))
    assert _count(text, "name") == 1 and "name='a'" in text
    batched = str(funcdiff.make_jaxpr(vmap(lambda x: checkpoint_name(x, "a")))(W1))
    assert "f64[3,4] = name[name='a']" in batched


def test_checkpoint_name_wants_a_str():
    with pytest.raises(TypeError, match=r"name must be a str, got 3 .*checkpoint_name\(x, '3'\)"):
        checkpoint_name(X, 3)


# ---- policies ---------------------------------------------------------------------------------


def test_the_policies_are_jaxs():
    jax_policies = {
        "checkpoint_dots", "checkpoint_dots_with_no_batch_dims", "dots_saveable",
        "dots_with_no_batch_dims_saveable", "everything_saveable", "nothing_saveable",
        "offload_dot_with_no_batch_dims", "save_and_offload_only_these_names",
        "save_any_names_but_these", "save_anything_except_these_names",
        "save_from_both_policies", "save_only_these_names",
    }  # [n for n in dir(jax.checkpoint_policies) if not n.startswith("_")], JAX 0.10.2
    assert {n for n in dir(P) if not n.startswith("_")} == jax_policies
    assert funcdiff.checkpoint_policies is P


_ARGS = ["w1", "w2", "x"]
# What each policy saves from `mlp` (besides its arguments), as print_saved_residuals names
# the sources, and how many sin / dot_general equations the backward program runs again.
POLICY_CASES = {
    "none": (None, [], 1, 2),
    "everything": (P.everything_saveable, ["output of cos", "named 'h'", "output of sub"], 0, 0),
    "only_h": (P.save_only_these_names("h"), ["named 'h'"], 0, 2),
    "only_z": (P.save_only_these_names("z"), ["named 'z'"], 1, 1),
    "only_h_z": (P.save_only_these_names("h", "z"), ["named 'h'", "named 'z'"], 0, 1),
    "names_but_h": (P.save_any_names_but_these("h"), ["named 'z'"], 1, 1),
    "dots": (P.dots_saveable, ["output of dot_general"] * 2, 1, 0),
    "checkpoint_dots": (P.checkpoint_dots, ["output of dot_general"] * 2, 1, 0),
    "no_batch_dots": (P.dots_with_no_batch_dims_saveable, ["output of dot_general"] * 2, 1, 0),
    "both": (
        P.save_from_both_policies(P.dots_saveable, P.save_only_these_names("h")),
        ["output of dot_general", "named 'h'", "output of dot_general"], 0, 0,
    ),
    "offload_h": (
        P.save_and_offload_only_these_names(
            names_which_can_be_saved=["h"], names_which_can_be_offloaded=["z"],
            offload_src="device", offload_dst="pinned_host"),
        ["named 'h'", "named 'z'"], 0, 1,
    ),
    "offload_dots": (P.offload_dot_with_no_batch_dims("device", "pinned_host"),
                     ["output of dot_general"] * 2, 1, 0),
    # h itself is recomputed with its sin; the rest (the sin's input among it) is saved.
    "anything_but_h": (
        P.save_anything_except_these_names("h"),
        ["output of dot_general", "output of cos", "output of sub"], 1, 0,
    ),
}


@pytest.mark.parametrize("case", list(POLICY_CASES))
def test_policy_chooses_the_saved_residuals_and_the_recomputation(case):
    policy, saved, n_sin, n_dot_forward = POLICY_CASES[case]
    f = funcdiff.checkpoint(mlp, policy=policy)
    assert _sources(f, W1, W2, X) == [f"from the argument {a}" for a in _ARGS] + saved
    # The backward program of the plain function runs no sin and 4 products (the cotangents
    # of w1, w2, h and x); the checkpointed one adds what it recomputes.
    text = _backward_text(f, W1, W2, X)
    assert _count(text, "sin") == n_sin
    assert _count(text, "dot_general") == 4 + n_dot_forward
    plain = _backward_text(mlp, W1, W2, X)
    assert (_count(plain, "sin"), _count(plain, "dot_general")) == (0, 4)


@pytest.mark.parametrize("case", list(POLICY_CASES))
def test_policy_gives_the_uncheckpointed_values_and_derivatives(case):
    f = funcdiff.checkpoint(mlp, policy=POLICY_CASES[case][0])
    args = (W1, W2, X)
    np.testing.assert_allclose(f(*args), mlp(*args), rtol=1e-13)
    expected = grad(mlp, argnums=(0, 1, 2))(*args)
    for got in (grad(f, argnums=(0, 1, 2))(*args), jit(grad(f, argnums=(0, 1, 2)))(*args)):
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)
    xs = RNG.normal(size=(5, 4))
    np.testing.assert_allclose(
        vmap(grad(f, argnums=2), (None, None, 0))(W1, W2, xs),
        vmap(grad(mlp, argnums=2), (None, None, 0))(W1, W2, xs), rtol=1e-12)
    hess = funcdiff.hessian(f, argnums=2)(*args)
    np.testing.assert_allclose(hess, funcdiff.hessian(mlp, argnums=2)(*args), rtol=1e-10)
    np.testing.assert_allclose(jit(funcdiff.hessian(f, argnums=2))(*args), hess, rtol=1e-12)


def test_linearize_under_checkpoint_saves_what_the_policy_says():
    f = funcdiff.checkpoint(lambda x: mlp(W1, W2, x), policy=P.save_only_these_names("z"))
    y, f_jvp = funcdiff.linearize(f, X)
    t = RNG.normal(size=4)
    _, expected = funcdiff.jvp(lambda x: mlp(W1, W2, x), (X,), (t,))
    np.testing.assert_allclose(f_jvp(t), expected, rtol=1e-12)
    # The tangent program gets z (the only name saved) and recomputes from it and from x
    # the derivatives of tanh and sin; it needs no sin itself.
    text = str(funcdiff.make_jaxpr(f_jvp)(t))
    assert [_count(text, p) for p in ("tanh", "cos", "sin", "dot_general")] == [1, 1, 0, 3]


def test_nested_checkpoints_each_apply_their_policy():
    inner = funcdiff.checkpoint(lambda w, x: checkpoint_name(jnp.sin(w @ x), "h"),
                                policy=P.save_only_these_names("h"))
    f = funcdiff.checkpoint(lambda w1, w2, x: jnp.sum(jnp.tanh(w2 @ inner(w1, x))))
    assert _sources(f, W1, W2, X) == [f"from the argument {a}" for a in _ARGS]
    g = grad(f, argnums=(0, 1, 2))(W1, W2, X)
    for got, e in zip(g, grad(mlp, argnums=(0, 1, 2))(W1, W2, X)):
        np.testing.assert_allclose(got, e, rtol=1e-12)


def test_a_custom_policy_may_answer_with_jaxs_verdicts():
    def by_primitive(prim, *avals, **params):
        if prim.name == "sin":
            return Saveable
        if prim.name == "dot_general":
            return Offloadable("device", "pinned_host")
        return Recompute

    f = funcdiff.checkpoint(mlp, policy=by_primitive)
    # The products are saved (the backward pass needs cos(w1 @ x), and z for tanh's
    # derivative), and sin's output rather than the name h of it.
    assert _sources(f, W1, W2, X)[3:] == ["output of dot_general", "output of sin",
                                          "output of dot_general"]
    assert repr(Saveable) == "Saveable" and Offloadable("a", "b").dst == "b"


def test_bad_policies_and_names_are_clear_errors():
    f = funcdiff.checkpoint(mlp, policy=lambda prim, *a, **p: "yes")
    with pytest.raises(TypeError, match="returned 'yes' for the primitive .*returns a bool"):
        grad(f)(W1, W2, X)
    with pytest.raises(ValueError, match=r"\['h'\] are in both"):
        P.save_and_offload_only_these_names(
            names_which_can_be_saved=["h"], names_which_can_be_offloaded=["h", "z"],
            offload_src="device", offload_dst="pinned_host")
    with pytest.raises(TypeError, match="save_only_these_names: names are str"):
        P.save_only_these_names(1)
    with pytest.raises(TypeError, match="save_from_both_policies: .*callable"):
        P.save_from_both_policies(P.dots_saveable, "h")


# ---- print_saved_residuals --------------------------------------------------------------------


def test_print_saved_residuals_names_the_arguments_primitives_and_lines(capsys):
    print_saved_residuals(mlp, W1, W2, X)
    here = __file__
    assert capsys.readouterr().out.splitlines() == [
        "f64[3,4] from the argument w1",
        "f64[2,3] from the argument w2",
        "f64[4] from the argument x",
        f"f64[3] output of cos from {here}:{LINE_H} (mlp)",
        f"f64[3] named 'h' from {here}:{LINE_H} (mlp)",
        f"f64[2] output of sub from {here + ':' + str(LINE_Z + 1)} (mlp)",
    ]
    print_saved_residuals(funcdiff.checkpoint(mlp, policy=P.save_only_these_names("z")),
                          W1, W2, X)
    assert capsys.readouterr().out.splitlines()[3:] == [
        f"f64[2] named 'z' from {here}:{LINE_Z} (mlp)"
    ]


def test_saved_residuals_of_pytrees_keywords_constants_and_jit():
    c = np.arange(4.0)

    def f(params, x, *, scale):
        return jnp.sum(jnp.sin(params["w"] @ x) * scale * c) + jnp.sum(jit(jnp.cos)(x))

    sources = _sources(f, {"w": W1.T}, np.ones(3, np.float32), scale=2.0)
    # x is not saved: its float64 copy and the jitted cos's derivative are.
    assert sources == [
        "from a constant", "from the argument params['w']", "from the argument scale",
        "output of convert_element_type", "output of sin", "output of cos",
        "output of jitted function 'jvp(cos)'",
    ]
    # An integer argument is not differentiated, but saved when the derivative needs it.
    assert _sources(lambda x, n: jnp.sum(x**2 * n), X, 3) == ["from the argument n",
                                                              "output of mul"]
    with pytest.raises(TypeError, match="saved_residuals expects a callable"):
        saved_residuals(3, X)


def test_policies_see_the_names_inside_a_jitted_function():
    inner = jit(lambda w1, x: checkpoint_name(jnp.sin(w1 @ x), "h"))
    f = lambda w1, w2, x: jnp.sum(jnp.tanh(w2 @ inner(w1, x)))  # noqa: E731
    g = funcdiff.checkpoint(f, policy=P.save_only_these_names("h"))
    assert _sources(g, W1, W2, X) == [f"from the argument {a}" for a in _ARGS] + ["named 'h'"]
    # h is saved, so the backward program runs no sin (only cos, from w1 @ x recomputed).
    text = _backward_text(g, W1, W2, X)
    assert (_count(text, "sin"), _count(text, "cos"), _count(text, "dot_general")) == (0, 1, 6)
    for transform in (grad, lambda f: jit(grad(f))):
        np.testing.assert_allclose(transform(g)(W1, W2, X), grad(mlp)(W1, W2, X), rtol=1e-12)
    # Without names, the jitted function stays one call, recomputed whole.
    plain = funcdiff.checkpoint(lambda w1, x: jnp.sum(jit(jnp.sin)(w1 @ x)))
    assert "jit[" in _backward_text(plain, W1, X)
