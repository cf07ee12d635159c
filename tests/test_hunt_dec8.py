"""Regression tests for the wrong answers found by the adversarial hunt of 2026-12-08
(funcdiff's transformations compared with NumPy, SciPy and JAX 0.10.2 at the edges: infinities,
zeros, ties, repeated indices, weak types). One test per bug; each failed before its fix."""

from __future__ import annotations

import numpy as np
import pytest

import funcdiff
from funcdiff import jacfwd, jacrev, jit, lax
from funcdiff.scipy.special import logsumexp

INF = np.inf


@pytest.mark.parametrize("jac", [jacfwd, jacrev, lambda f: jit(jacrev(f))],
                         ids=["jacfwd", "jacrev", "jit"])
@pytest.mark.parametrize(("name", "x"), [
    ("cummax", [-INF, 1.0, 2.0]), ("cummin", [INF, 1.0, 2.0]),
    ("cumprod", [INF, 1.0, 2.0]), ("cumlogsumexp", [-INF, 1.0, 2.0])])
def test_first_entry_of_a_cumulative_op_is_the_operand(jac, name, x):
    # The first entry of a running reduction is the first operand itself: its derivative is 1
    # whatever the value. It was combined with a padded identity (-inf for cummax, 1 for
    # cumprod), so a tie gave 0.25 (cummax), a NaN came from inf * 0, and logaddexp(-inf, -inf)
    # gave 0.
    x = np.array(x)
    for reverse in (False, True):
        xs = x[::-1] if reverse else x
        with np.errstate(invalid="ignore"):  # other rows of cumprod's meet inf * 0
            jac_ = jac(lambda v, reverse=reverse: getattr(lax, name)(v, reverse=reverse))(xs)
        row = -1 if reverse else 0
        expected = np.zeros(3)
        expected[row] = 1.0
        if name == "cumprod" and jac is not jacfwd:  # reverse mode's 0 * inf, as JAX's
            np.testing.assert_array_equal(jac_[row, row], 1.0)
        else:
            np.testing.assert_array_equal(jac_[row], expected)


@pytest.mark.parametrize("jac", [jacfwd, jacrev])
def test_cumlogsumexp_at_infinities_has_softmaxs_limit_weights(jac):
    # log(exp(inf) + exp(x)): all weight on the +inf; two -infs share it, as softmax of equal
    # values does. These were 0 (the -inf pair) or 0 everywhere after a +inf.
    x = np.array([-INF, -INF, 0.0, INF, 1.0])
    expected = np.array([[1.0, 0, 0, 0, 0], [0.5, 0.5, 0, 0, 0], [0, 0, 1, 0, 0],
                         [0, 0, 0, 1, 0], [0, 0, 0, 1, 0]])
    np.testing.assert_array_equal(jac(lax.cumlogsumexp)(x), expected)
    np.testing.assert_array_equal(lax.cumlogsumexp(x), [-INF, -INF, 0.0, INF, INF])


@pytest.mark.parametrize("transform", [lambda f: f, jit], ids=["eager", "jit"])
def test_logsumexp_leaves_out_terms_scaled_by_zero(transform):
    # scipy.special.logsumexp and JAX's drop a term with b == 0 whatever its exponent; an inf
    # exponent gave NaN (0 * inf) and a large one set the shift, so the kept terms underflowed.
    b = np.array([1.0, 0.0, 2.0])
    f = transform(lambda a, b: logsumexp(a, b=b))
    for big in (INF, 1000.0):
        a = np.array([1.0, big, 0.0])
        expected = np.log(np.e + 2.0)
        np.testing.assert_allclose(f(a, b), expected)
        ga, gb = transform(funcdiff.grad(lambda a, b: logsumexp(a, b=b), (0, 1)))(a, b)
        np.testing.assert_allclose(ga, [np.e / (np.e + 2), 0.0, 2 / (np.e + 2)])
        np.testing.assert_allclose(gb, [np.e / (np.e + 2), 0.0, 1 / (np.e + 2)])


def test_arrays_metadata_and_flags_cannot_be_changed_in_place():
    # `x.shape = s` (a common NumPy idiom), `x.dtype = t` and `x.setflags(write=True)` changed
    # an Array in place, for every holder of it (a jit constant, a pytree of parameters); JAX's
    # arrays have no such setters.
    x = funcdiff.numpy.arange(6.0)
    params = {"w": x}
    for name, value in (("shape", (2, 3)), ("dtype", np.int64), ("strides", (0,))):
        with pytest.raises(AttributeError, match=f"cannot set {name} of a funcdiff Array"):
            setattr(params["w"], name, value)
    with pytest.raises(ValueError, match="cannot make a funcdiff Array writable"):
        params["w"].setflags(write=True)
    x.setflags(align=True)  # what does not make it writable is still NumPy's
    assert x.shape == (6,) and x.dtype == np.float64 and not x.flags.writeable
    np.testing.assert_array_equal(params["w"], np.arange(6.0))


def test_copies_of_an_array_are_immutable_arrays():
    # x.copy(), copy.copy and copy.deepcopy gave writable Arrays (NumPy's ndarray.copy keeps
    # the subclass but not the flag), which np.copyto and ufuncs' out= could then change.
    import copy

    x = funcdiff.numpy.arange(3.0)
    w = funcdiff.numpy.broadcast_to(1.0, (2,))
    for y in (x.copy(), copy.copy(x), copy.deepcopy(x), x.copy(order="F"), w.copy()):
        assert isinstance(y, funcdiff.Array) and not y.flags.writeable
        assert not np.shares_memory(y, x) and not np.shares_memory(y, w)
        with pytest.raises(ValueError, match="read-only"):
            np.copyto(y, 7.0)
    assert copy.deepcopy(w).weak_type and w.copy().weak_type


@pytest.mark.parametrize("identity", [lax.optimization_barrier,
                                      lambda t: lax.with_sharding_constraint(t, None)])
def test_identities_that_steer_xla_do_not_hand_back_the_callers_array(identity):
    # They returned a NumPy array argument itself, so a later write to it changed the result.
    x = np.array([1.0, 2.0])
    out, scalar = identity((x, 2.0))
    x[:] = 0.0
    assert type(out) is funcdiff.Array and not out.flags.writeable
    np.testing.assert_array_equal(out, [1.0, 2.0])
    assert scalar.weak_type and scalar == 2.0  # a weakly typed Array, as in JAX
    assert (scalar + np.ones(2, np.float32)).dtype == np.float32
    assert identity((np.float32(1.0),))[0].dtype == np.float32


def test_derivatives_of_hard_tanh_and_sparse_sigmoid_at_their_kinks_are_jaxs():
    # JAX's hard_tanh is two nested wheres (derivative 1 at -1 and 1) and its sparse_sigmoid
    # is 0.5 * clip(x + 1, 0, 2) (clip's tie share, 1/2, halved). Both gave 0 at the kinks,
    # the flat ends of relu6.
    x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])
    np.testing.assert_array_equal(funcdiff.vmap(funcdiff.grad(funcdiff.nn.hard_tanh))(x),
                                  [0.0, 1.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(funcdiff.vmap(funcdiff.grad(funcdiff.nn.sparse_sigmoid))(x),
                                  [0.0, 0.25, 0.5, 0.25, 0.0])
    np.testing.assert_array_equal(funcdiff.nn.hard_tanh(x), [-1.0, -1.0, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(funcdiff.nn.sparse_sigmoid(x), [0.0, 0.0, 0.5, 1.0, 1.0])


@pytest.mark.parametrize("jac", [jacfwd, jacrev])
def test_log_softmax_outside_where_has_no_derivative(jac):
    # A left-out element is the constant -inf (as in JAX); its row of the Jacobian was minus
    # the log-sum's derivative.
    x = np.array([1.0, 2.0, 3.0])
    mask = np.array([True, False, True])
    out = funcdiff.nn.log_softmax(x, where=mask)
    assert out[1] == -INF
    p = np.exp(out[[0, 2]])
    expected = np.array([[1 - p[0], 0.0, -p[1]], [0.0, 0.0, 0.0], [-p[0], 0.0, 1 - p[1]]])
    np.testing.assert_allclose(jac(lambda v: funcdiff.nn.log_softmax(v, where=mask))(x),
                               expected)


def test_logsumexp_and_softmax_over_an_empty_axis():
    # The shift was NumPy's max over the reduced axes, which raises for no elements: JAX (and
    # SciPy's logsumexp) give log(0) = -inf, and softmax of an empty axis is empty.
    empty = np.zeros((0, 3))
    for f in (logsumexp, funcdiff.nn.logsumexp, jit(logsumexp, static_argnums=1)):
        np.testing.assert_array_equal(f(empty, 0), [-INF, -INF, -INF])
    out, sign = logsumexp(empty, axis=0, return_sign=True)
    np.testing.assert_array_equal(out, [-INF] * 3)
    np.testing.assert_array_equal(sign, [0.0] * 3)
    assert logsumexp(empty) == -INF
    np.testing.assert_array_equal(funcdiff.grad(lambda x: logsumexp(x, axis=0).sum())(empty),
                                  empty)
    for f in (funcdiff.nn.softmax, funcdiff.nn.log_softmax):
        assert f(empty, axis=0).shape == (0, 3)
        assert funcdiff.vmap(lambda x, f=f: f(x, axis=0))(np.zeros((2, 0, 3))).shape == (2, 0, 3)


def test_determinant_of_empty_matrices():
    # LU reshaped its operand to (-1, 0, 0), which NumPy cannot do: det of a 0 x 0 matrix is
    # 1 (the empty product), as in JAX.
    assert funcdiff.numpy.linalg.det(np.zeros((0, 0))) == 1.0
    np.testing.assert_array_equal(funcdiff.numpy.linalg.det(np.zeros((2, 0, 0))), [1.0, 1.0])
    np.testing.assert_array_equal(funcdiff.vmap(funcdiff.numpy.linalg.det)(np.zeros((2, 0, 0))),
                                  [1.0, 1.0])
    assert lax.linalg.lu(np.zeros((3, 0, 0)))[2].shape == (3, 0)


def test_jit_of_control_flow_run_by_its_implementation_computes_on_plain_arrays():
    # A primitive without a lowering rule (here the chunked scan's loops, of length 1) ran its
    # implementation in the generated code and handed back funcdiff Arrays; an elementwise
    # result of one was then an immutable Array, and the buffer plan's in-place write into it
    # (in a switch branch) raised "funcdiff arrays are immutable".
    h = jit(lambda a: funcdiff.numpy.sin(a) * a + 1.0)

    def f(x):
        c = lax.scan(lambda c, v: (c * 0.1 + v, 0.0), 0.5, x, unroll=2)[0]
        return lax.switch(1, [h, lambda u: h(h(u))], c)

    x = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(jit(funcdiff.hessian(f))(x), funcdiff.hessian(f)(x),
                               rtol=1e-12)


def test_jit_closing_over_a_weakly_typed_array():
    # A closed-over constant became a plain NumPy array in the generated code only if it was
    # exactly an Array: a WeakArray (jnp.where of two Python floats, a broadcast Python float)
    # kept funcdiff's operators, its products were immutable Arrays, and the in-place sin
    # raised "funcdiff arrays are immutable".
    w = funcdiff.numpy.where(np.array([True, False, True]), 0.5, 2.0)
    assert w.weak_type
    f = jit(lambda x: funcdiff.numpy.sin(x * w) + 1.0)
    x = np.ones(3)
    for _ in range(2):
        np.testing.assert_allclose(f(x), np.sin(x * np.array([0.5, 2.0, 0.5])) + 1.0)
    g = jit(lambda x, v: funcdiff.numpy.sin(x * v) + 1.0)  # and as an argument
    np.testing.assert_allclose(g(x, w), f(x))
    assert f(x.astype(np.float32)).dtype == np.float32  # still weakly typed


def test_relu_of_a_weakly_typed_value_stays_weakly_typed():
    # Its zeros were strong float64, so relu of a Python float (or of a weakly typed traced
    # value under jit) was strong and turned float32 arithmetic into float64; JAX's is weak.
    f32 = np.ones(2, np.float32)
    assert funcdiff.nn.relu(0.5).weak_type
    assert (funcdiff.nn.relu(0.5) + f32).dtype == np.float32
    assert jit(lambda x: funcdiff.nn.relu(x) + f32)(0.5).dtype == np.float32
    assert funcdiff.nn.relu(np.float32(2.0)).dtype == np.float32
    assert not funcdiff.nn.relu(np.array([-1.0, 2.0])).weak_type


def _aux_of_every_transformation(f, x, y):
    """The aux output of `f(x, y) -> (out, aux)` under every transformation with has_aux."""
    yield "grad", funcdiff.grad(f, has_aux=True)(x, y)[1]
    yield "value_and_grad", funcdiff.value_and_grad(f, has_aux=True)(x, y)[0][1]
    yield "vjp", funcdiff.vjp(lambda a: f(a, y), x, has_aux=True)[2]
    yield "jvp", funcdiff.jvp(lambda a: f(a, y), (x,), (x,), has_aux=True)[2]
    yield "linearize", funcdiff.linearize(lambda a: f(a, y), x, has_aux=True)[2]
    yield "jacrev", funcdiff.jacrev(f, has_aux=True)(x, y)[1]
    yield "jacfwd", funcdiff.jacfwd(f, has_aux=True)(x, y)[1]
    yield "hessian", funcdiff.hessian(f, has_aux=True)(x, y)[1]


def test_aux_outputs_share_no_memory_with_the_callers_arrays():
    """An aux output that is (a view of) an argument was the caller's own NumPy array, so a
    later write into the argument changed the result. Now an Array of its own, as in JAX."""
    x, y = np.arange(3.0), np.arange(4.0)

    def f(a, b):
        return (a**2).sum(), {"arg": a, "other": b, "view": b[1:], "n": 3}

    for name, aux in _aux_of_every_transformation(f, x, y):
        assert aux["n"] == 3, name
        for key in ("arg", "other", "view"):
            leaf = aux[key]
            assert isinstance(leaf, funcdiff.Array), (name, key)
            assert not np.shares_memory(leaf, x) and not np.shares_memory(leaf, y), (name, key)
        np.testing.assert_array_equal(aux["other"], np.arange(4.0))
        np.testing.assert_array_equal(aux["view"], np.arange(1.0, 4.0))


def test_closed_over_weak_scalar_constant_keeps_float32_under_jit():
    """A 0-d weakly typed Array closed over by a jitted function (a jitted function's weak
    result, jnp.asarray(3.0)) was lowered as a plain float64 0-d array, so the generated code
    made float32 operands float64 while the program said float32."""
    x32 = np.ones(2, np.float32)
    weak_result = jit(lambda a: a * 2.0)(3.0)
    for c in (weak_result, funcdiff.numpy.asarray(3.0), funcdiff.numpy.asarray(2)):
        assert (c * x32).dtype == np.float32
        assert jit(lambda a, c=c: c * a)(x32).dtype == np.float32
        assert jit(lambda a, c=c: funcdiff.numpy.sin(c) + a)(x32).dtype == np.float32
    assert jit(lambda a: funcdiff.numpy.asarray(1j) * a)(x32).dtype == np.complex64


@pytest.mark.parametrize(
    "fn",
    [
        funcdiff.nn.elu,
        funcdiff.nn.selu,
        funcdiff.nn.softplus,
        funcdiff.nn.log_sigmoid,
        funcdiff.nn.mish,
        funcdiff.numpy.zeros_like,
        funcdiff.numpy.ones_like,
        funcdiff.numpy.empty_like,
        lambda v: funcdiff.numpy.full_like(v, 3.0),
        funcdiff.numpy.imag,
        lambda v: funcdiff.numpy.logaddexp(v, 0.5),
        lambda v: funcdiff.numpy.logaddexp2(v, 0.5),
    ],
)
def test_functions_of_a_weak_scalar_stay_weak_as_in_jax(fn):
    """These made a Python float strongly float64 (a zeros/ones constant of its dtype inside),
    so float32 operands became float64 where JAX keeps float32; eagerly and under jit."""
    x32 = np.ones(2, np.float32)
    assert (fn(1.5) * x32).dtype == np.float32
    assert jit(lambda a: fn(1.5) * a)(x32).dtype == np.float32
    assert jit(lambda a, b: fn(b) * a)(x32, 1.5).dtype == np.float32
    assert fn(np.float32(1.5)).dtype == np.float32  # a strong operand keeps its own dtype
    assert fn(np.ones(2)).dtype == np.float64
