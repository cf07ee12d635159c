"""linear_transpose: the transpose of linear functions (matrices, pytrees, dtypes), under
jit, vmap and grad; non-linear functions and mismatched cotangents raise."""

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import linear_transpose

rng = np.random.default_rng(0)


def test_matrix_product_transposes_to_the_transposed_matrix():
    a = rng.standard_normal((2, 3))
    (x_ct,) = linear_transpose(lambda x: a @ x, np.ones(3))(np.array([1.0, -2.0]))
    np.testing.assert_allclose(x_ct, a.T @ [1.0, -2.0], rtol=1e-14)


@pytest.mark.parametrize(
    "fun",
    [
        lambda x: jnp.cumsum(x[::-1]) * 3.0,
        lambda x: jnp.roll(x, 2) - x / 4.0,
        lambda x: jnp.concatenate([x, x[:2]]).reshape(2, 3),
        lambda x: jnp.fft.rfft(x).real,
    ],
)
def test_inner_product_identity(fun):
    """<ct, f(x)> = <f^T(ct), x> for every x and ct."""
    x = rng.standard_normal(4)
    y = fun(x)
    ct = rng.standard_normal(np.shape(y))
    (x_ct,) = linear_transpose(fun, x)(ct)
    np.testing.assert_allclose(np.vdot(ct, y), np.vdot(x_ct, x), rtol=1e-12)


def test_pytrees_in_and_out_and_several_arguments():
    f = lambda p, y: {"s": p["u"] + 2 * y, "d": (p["u"] - p["v"]) * 3.0}  # noqa: E731
    t = linear_transpose(f, {"u": 0.0, "v": 0.0}, 0.0)
    p_ct, y_ct = t({"s": 1.0, "d": 10.0})
    assert p_ct == {"u": 31.0, "v": -30.0}
    assert y_ct == 2.0


def test_dtypes_follow_the_primals():
    scalar = funcdiff.ShapeDtypeStruct((), np.float32)
    out = linear_transpose(lambda x, y: 0.5 * x - 0.5 * y, scalar, scalar)(1.0)
    assert [o.dtype for o in out] == [np.float32, np.float32]
    assert [float(o) for o in out] == [0.5, -0.5]
    (n,) = linear_transpose(lambda x: 2 * x, np.int32(1))(np.int32(3))
    assert n.dtype == np.int32 and n == 6
    # an input the output does not depend on gets a zero cotangent of its dtype
    z = linear_transpose(lambda x, y: x, np.zeros(2), np.zeros(3, np.float32))(np.ones(2))
    assert z[1].dtype == np.float32 and not z[1].any()


def test_affine_functions_transpose_as_their_linear_part():
    assert linear_transpose(lambda x: x + 1.0, 0.0)(1.0) == (1.0,)


def test_the_transpose_is_a_pytree_under_jit_vmap_and_grad():
    t = linear_transpose(lambda x: 2.0 * x, 1.0)
    assert funcdiff.jit(t)(3.0) == (6.0,)
    np.testing.assert_allclose(funcdiff.vmap(t)(np.arange(3.0))[0], [0.0, 2.0, 4.0])
    # A closed-over coefficient stays differentiable.
    d = funcdiff.grad(lambda c: linear_transpose(lambda x: c * x, 1.0)(2.0)[0])(3.0)
    assert d == 2.0


@pytest.mark.parametrize(
    ("fun", "message"),
    [
        (jnp.sin, "primitive 'sin'"),
        (lambda x: x * x, "mul of two"),
    ],
)
def test_non_linear_functions_raise(fun, message):
    with pytest.raises(TypeError, match=f"not linear in its arguments.*{message}"):
        linear_transpose(fun, 1.0)


def test_mixed_float_and_integer_raises():
    with pytest.raises(TypeError, match=r"\['float64'\] -> \['int32'\]"):
        linear_transpose(lambda x: x.astype(jnp.int32), 1.0)


def test_cotangent_must_match_the_output():
    t = linear_transpose(lambda x: (x[0] * 2, x.sum()), np.ones(3))
    with pytest.raises(TypeError, match="structure"):
        t((1.0,))
    with pytest.raises(TypeError, match=r"cotangent 0 is f64\[2\].*output 0 is f64\[\]"):
        t((np.ones(2), 2.0))
    with pytest.raises(TypeError, match=r"cotangent 0 is f32\[\]"):
        t((np.float32(1.0), 2.0))
    with pytest.raises(NotImplementedError, match="reduce_axes"):
        linear_transpose(lambda x: x, 1.0, reduce_axes=("i",))
