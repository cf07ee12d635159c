"""Complex operands of max, min and the functions built on them: ordered lexicographically
(real part first, then imaginary part), the same eagerly, under `jit`, `vmap` and
`eval_shape`.

The derivative values were computed with JAX 0.10 (float64 enabled); the tests need no JAX.
One deliberate difference: a NaN operand propagates (as NumPy's `maximum`, and as JAX's own
real-valued `max`), where JAX's complex `max` returns the second operand when the comparison
with a NaN fails, so that ``max(nan, 1)`` is 1 but ``max(1, nan)`` is NaN."""

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import eval_shape, grad, jit, jvp, lax, vmap

X = np.array([1 + 2j, 3 - 1j, 1 + 1j, 2 + 0j, -1 + 4j])
Y = np.array([1 + 3j, 2 + 5j, 1 + 1j, 2 - 1j, -1 + 4j])

BINARY = {
    "maximum": (jnp.maximum, np.maximum),
    "minimum": (jnp.minimum, np.minimum),
    "lax.max": (lax.max, np.maximum),
    "lax.min": (lax.min, np.minimum),
    "fmax": (jnp.fmax, np.fmax),
    "fmin": (jnp.fmin, np.fmin),
    "clip": (lambda a, b: jnp.clip(a, b, b + 1), lambda a, b: np.minimum(np.maximum(a, b), b + 1)),
}
UNARY = {
    "max": (jnp.max, np.max),
    "amin": (jnp.amin, np.min),
    "argmax": (jnp.argmax, np.argmax),
    "argmin": (jnp.argmin, np.argmin),
    "sort": (jnp.sort, np.sort),
    "argsort": (jnp.argsort, lambda a: np.argsort(a, kind="stable")),
    "cummax": (lax.cummax, np.maximum.accumulate),
    "cummin": (lax.cummin, np.minimum.accumulate),
    "reduce_max": (lambda a: lax.reduce_max(a, (0,)), np.max),
}


def _modes(fn, *args):
    """`fn(*args)` eagerly, under jit, under vmap (over a leading axis of size 2) and
    eval_shape's aval; the vmapped result is checked to hold the eager one twice."""
    eager = np.asarray(fn(*args))
    staged = np.asarray(jit(fn)(*args))
    batched = np.asarray(vmap(fn)(*[np.stack([a, a]) for a in args]))
    np.testing.assert_array_equal(batched, np.stack([eager, eager]))
    shape = eval_shape(fn, *args)
    assert (shape.shape, shape.dtype) == (eager.shape, eager.dtype)
    return eager, staged


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_orders_lexicographically_in_every_mode(name):
    fn, reference = BINARY[name]
    eager, staged = _modes(fn, X, Y)
    np.testing.assert_array_equal(eager, reference(X, Y))
    np.testing.assert_array_equal(staged, eager)
    assert eager.dtype == np.complex128


@pytest.mark.parametrize("name", list(UNARY))
def test_reductions_and_sorts_order_lexicographically_in_every_mode(name):
    fn, reference = UNARY[name]
    eager, staged = _modes(fn, X)
    np.testing.assert_array_equal(eager, reference(X))
    np.testing.assert_array_equal(staged, eager)


def test_complex64_is_kept():
    x, y = X.astype(np.complex64), Y.astype(np.complex64)
    for fn in (jnp.maximum, jit(jnp.maximum), lax.min, jit(lax.min)):
        out = fn(x, y)
        assert out.dtype == np.complex64
    assert jit(jnp.max)(x).dtype == np.complex64


# NumPy's complex comparisons (under fmax's choice) warn on a NaN operand; the results hold.
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_nan_propagates_as_in_numpy_in_every_mode():
    x = np.array([np.nan + 0j, 1 + 0j, complex(2, np.nan)])
    y = np.array([1 + 1j, complex(np.nan, 1), 2 + 0j])
    for fn, reference in [(jnp.maximum, np.maximum), (lax.min, np.minimum)]:
        eager, staged = _modes(fn, x, y)
        expected = reference(x, y)
        assert np.isnan(expected).all()
        for out in (eager, staged):
            np.testing.assert_array_equal(
                np.isnan(out.real) | np.isnan(out.imag), [True, True, True]
            )
    # fmax and fmin ignore the NaN, as NumPy's and JAX's do.
    eager, staged = _modes(jnp.fmax, x, y)
    np.testing.assert_array_equal(eager, [1 + 1j, 1 + 0j, 2 + 0j])
    np.testing.assert_array_equal(staged, eager)
    assert np.isnan(jit(jnp.max)(x)) and np.isnan(jnp.max(x))


def test_derivatives_follow_the_chosen_operand_as_jax():
    f = lambda a: lax.max(a, 1 + 3j)  # noqa: E731
    # Values from JAX: the tangent of the chosen operand, half of it at a tie.
    assert jvp(f, (3 + 2j,), (1 + 1j,))[1] == 1 + 1j
    assert jvp(f, (1 + 3j,), (1 + 1j,))[1] == 0.5 + 0.5j
    assert jvp(f, (1 + 2j,), (1 + 1j,))[1] == 0
    assert grad(lambda a: f(a).real)(3 + 2j) == 1
    assert grad(lambda a: f(a).imag)(3 + 2j) == -1j
    assert grad(lambda a: f(a).real)(1 + 3j) == 0.5
    assert grad(f, holomorphic=True)(3 + 2j) == 1


def test_reduction_derivatives_share_ties_as_jax():
    a = np.array([3 + 2j, 1 + 1j, 3 + 2j])
    g = lambda v: jnp.max(v).imag  # noqa: E731
    for fn in (grad(g), jit(grad(g))):
        np.testing.assert_array_equal(fn(a), [-0.5j, 0, -0.5j])
    np.testing.assert_array_equal(vmap(grad(lambda v: jnp.max(v).real))(a[None]), [[0.5, 0, 0.5]])
    np.testing.assert_array_equal(grad(g)(np.array([3 + 2j, 1 + 1j, 3 + 1j])), [-1j, 0, 0])


def test_agrees_with_jax_when_installed():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(0)
    # Integer-valued parts: many ties in the real part, where the imaginary part decides.
    x = rng.integers(-2, 3, (4, 6)) + 1j * rng.integers(-2, 3, (4, 6))
    y = rng.integers(-2, 3, (4, 6)) + 1j * rng.integers(-2, 3, (4, 6))
    pairs = [
        (jnp.maximum, jax.numpy.maximum),
        (jnp.minimum, jax.numpy.minimum),
        (jnp.fmax, jax.numpy.fmax),
        (lax.max, jax.lax.max),
    ]
    for ours, theirs in pairs:
        np.testing.assert_array_equal(jit(ours)(x, y), theirs(x, y))
    for ours, theirs in [
        (jnp.max, jax.numpy.max),
        (jnp.sort, jax.numpy.sort),
        (lax.cummax, jax.lax.cummax),
    ]:
        np.testing.assert_array_equal(jit(ours)(x), theirs(x))
    ct = lambda f: lambda a: f(a, y).real.sum() + 2 * f(a, y).imag.sum()  # noqa: E731
    np.testing.assert_allclose(grad(ct(jnp.maximum))(x), jax.grad(ct(jax.numpy.maximum))(x))
    assert isinstance(jit(jnp.maximum)(x, y), funcdiff.Array)


def test_array_api_backends_order_complex_operands_too():
    xs = pytest.importorskip("array_api_strict")
    x = np.array([[1 + 2j, np.nan + 0j, 3 - 1j], [2 + 0j, 2 + 1j, -1 + 0j]])
    y = x[::-1]
    for fn, reference in [(lax.max, np.maximum), (lax.min, np.minimum)]:
        out = jit(fn, backend="array_api_strict")(xs.asarray(x), xs.asarray(y))
        np.testing.assert_array_equal(np.from_dlpack(out), reference(x, y))
    for fn, reference in [(jnp.max, np.max), (jnp.argmin, np.argmin)]:
        for axis in (0, 1):
            out = jit(lambda v: fn(v, axis=axis), backend="array_api_strict")(xs.asarray(x))
            np.testing.assert_array_equal(np.from_dlpack(out), reference(x, axis=axis))
    with pytest.raises(funcdiff.BackendError, match="'sort' of complex operands"):
        jit(jnp.sort, backend="array_api_strict")(xs.asarray(x))
