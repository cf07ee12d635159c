"""Names of JAX's small modules added to funcdiff's: `tree_util.flatten_one_level_with_keys`,
`debug.log`, the base classes of `funcdiff.errors`, and `funcdiff.custom_derivatives`."""

import collections
import logging

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import errors, tree_util
from funcdiff.tree_util import DictKey, GetAttrKey, SequenceKey


def test_flatten_one_level_with_keys():
    pairs, aux = tree_util.flatten_one_level_with_keys({"b": [2, 3], "a": 1})
    assert pairs == ((DictKey("a"), 1), (DictKey("b"), [2, 3])) and aux == ("a", "b")
    assert tree_util.flatten_one_level_with_keys((1, None)) == (
        ((SequenceKey(0), 1), (SequenceKey(1), None)),
        None,
    )
    assert tree_util.flatten_one_level_with_keys(None) == ((), None)
    point = collections.namedtuple("Point", "x y")
    pairs, aux = tree_util.flatten_one_level_with_keys(point(1, [2]))
    assert pairs == ((GetAttrKey("x"), 1), (GetAttrKey("y"), [2])) and aux is point
    # the children and aux data are flatten_one_level's
    tree = {"p": (1, 2), "q": 3}
    children, aux = tree_util.flatten_one_level(tree)
    pairs, aux_k = tree_util.flatten_one_level_with_keys(tree)
    assert tuple(c for _, c in pairs) == children and aux_k == aux
    with pytest.raises(ValueError, match="can't tree-flatten"):
        tree_util.flatten_one_level_with_keys(np.ones(2))


def test_debug_log_logs_concrete_values_in_every_mode(caplog):
    def f(x):
        funcdiff.debug.log("total {t} first {}", x[0], t=jnp.sum(x))
        return x.sum()

    with caplog.at_level(logging.INFO, logger="funcdiff.debug"):
        f(np.ones(3))
        funcdiff.jit(f)(np.ones(3))
        funcdiff.vmap(f)(np.arange(4.0).reshape(2, 2))
        funcdiff.grad(f)(np.ones(2))
    messages = [r.getMessage() for r in caplog.records if r.name == "funcdiff.debug"]
    assert messages == [
        "total 3.0 first 1.0",
        "total 3.0 first 1.0",
        "total 1.0 first 0.0",
        "total 5.0 first 2.0",
        "total 2.0 first 1.0",
    ]
    assert all(r.levelno == logging.INFO for r in caplog.records)


def test_error_base_classes_follow_jax():
    for cls in (
        errors.ConcretizationTypeError,
        errors.TracerBoolConversionError,
        errors.TracerIntegerConversionError,
        errors.TracerArrayConversionError,
        errors.UnexpectedTracerError,
    ):
        assert issubclass(cls, errors.JAXTypeError) and issubclass(cls, TypeError), cls
    assert issubclass(errors.NonConcreteBooleanIndexError, errors.JAXIndexError)
    assert issubclass(errors.JAXIndexError, IndexError)
    with pytest.raises(errors.JAXTypeError):
        funcdiff.jit(lambda x: int(x))(1.0)
    with pytest.raises(errors.JAXIndexError):
        funcdiff.jit(lambda x: x[x > 0])(np.ones(3))


def test_custom_derivatives_module_holds_the_same_objects():
    from funcdiff import custom_derivatives as cd

    assert cd.custom_jvp is funcdiff.custom_jvp and cd.custom_vjp is funcdiff.custom_vjp
    assert cd.custom_gradient is funcdiff.custom_gradient
    assert cd.closure_convert is funcdiff.closure_convert

    @cd.custom_jvp
    def f(x):
        return jnp.sin(x)

    f.defjvp(lambda primals, tangents: (f(primals[0]), 2.0 * tangents[0]))
    assert funcdiff.grad(f)(0.3) == 2.0


def test_sem_matches_scipy():
    scipy_stats = pytest.importorskip("scipy.stats")
    from funcdiff.scipy import stats

    x = np.random.default_rng(1).normal(size=(3, 5))
    x[0, 1] = np.nan
    for kw in [
        {},
        {"axis": 1},
        {"axis": None},
        {"axis": 1, "nan_policy": "omit"},
        {"axis": 1, "ddof": 0, "nan_policy": "omit"},
    ]:
        np.testing.assert_allclose(stats.sem(x, **kw), scipy_stats.sem(x, **kw), equal_nan=True)
    assert stats.sem(x, axis=0, keepdims=True).shape == (1, 5)
    y = x[1:]
    g = funcdiff.grad(lambda v: stats.sem(v, axis=None))(y)
    eps = 1e-6
    bumped = y.copy()
    bumped[0, 0] += eps
    fd = (scipy_stats.sem(bumped, axis=None) - scipy_stats.sem(y, axis=None)) / eps
    np.testing.assert_allclose(g[0, 0], fd, rtol=1e-4)
    np.testing.assert_allclose(funcdiff.jit(stats.sem)(y), scipy_stats.sem(y))
    with pytest.raises(ValueError, match="nan_policy"):
        stats.sem(x, nan_policy="raise")


@pytest.mark.parametrize("shape", [(3, 2, 4), (3, 2, 3, 3), (2, 3, 3, 2, 5)])
def test_delta_orthogonal_is_orthogonal_at_the_centre_only(shape):
    w = funcdiff.nn.initializers.delta_orthogonal(scale=2.0)(funcdiff.random.key(3), shape)
    assert w.shape == shape and w.dtype == np.float64
    centre = tuple((k - 1) // 2 for k in shape[:-2])
    m = np.asarray(w[centre])
    np.testing.assert_allclose(m @ m.T, 4.0 * np.eye(shape[-2]), atol=1e-12)
    rest = np.asarray(w).copy()
    rest[centre] = 0
    assert not rest.any()
    w32 = funcdiff.nn.initializers.delta_orthogonal(dtype=np.float32)(funcdiff.random.key(3), shape)
    assert w32.dtype == np.float32


def test_delta_orthogonal_errors():
    init = funcdiff.nn.initializers.delta_orthogonal()
    with pytest.raises(ValueError, match="3-, 4- or 5-d"):
        init(funcdiff.random.key(0), (3, 3))
    with pytest.raises(ValueError, match="at most the output features"):
        init(funcdiff.random.key(0), (3, 4, 2))
