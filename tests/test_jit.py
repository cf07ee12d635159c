"""jit: caching, composition with every transformation, inspection, errors, threads."""

import functools
import re
import threading
import warnings

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import grad, jit, lax
from funcdiff._src import core
from funcdiff._src.numpy.shape import take_in_bounds


def mlp_loss(params, x):
    h = jnp.tanh(x @ params["w1"] + params["b1"])
    return jnp.mean((h @ params["w2"]) ** 2)


def make_params(rng):
    return {"w1": rng.normal(size=(3, 4)), "b1": rng.normal(size=4), "w2": rng.normal(size=(4, 2))}


def assert_trees_close(a, b, **kw):
    la, ta = funcdiff.tree_util.tree_flatten(a)
    lb, tb = funcdiff.tree_util.tree_flatten(b)
    assert ta == tb
    for x, y in zip(la, lb):
        np.testing.assert_allclose(x, y, **kw)


def test_matches_eager_and_returns_numpy():
    f = jit(lambda x, y: {"s": jnp.sin(x) * y + 1.0, "t": (x @ x.T,)})
    x, y = np.arange(6.0).reshape(2, 3), 2.0
    out = f(x, y)
    assert isinstance(out["s"], np.ndarray) and isinstance(out["t"][0], np.ndarray)
    np.testing.assert_allclose(out["s"], np.sin(x) * y + 1.0)
    np.testing.assert_allclose(out["t"][0], x @ x.T)


def test_traces_once_per_signature():
    f = jit(lambda x: x * 2)
    for _ in range(3):
        f(np.ones(3))
    assert f.trace_count == 1 and f._cache_size() == 1
    f(np.ones(4))  # new shape
    f(np.ones(3, np.float32))  # new dtype
    f(1.0)  # weakly typed Python scalar
    f(np.float64(1.0))  # strongly typed scalar
    assert f.trace_count == 5
    f(np.ones(3) * 7)
    assert f.trace_count == 5


def test_weak_types_survive_jit():
    f = jit(lambda x, s: x * s)
    assert f(np.ones(2, np.float32), 2.0).dtype == np.float32
    assert f(np.ones(2, np.float32), np.float64(2.0)).dtype == np.float64


def test_static_arguments():
    def f(x, n, *, mode="sum"):
        y = x
        for _ in range(n):
            y = y * 2
        return jnp.sum(y) if mode == "sum" else jnp.max(y)

    g = jit(f, static_argnums=1, static_argnames="mode")
    assert g(np.ones(3), 2) == 12.0
    assert g(np.ones(3), 3) == 24.0
    assert g(np.ones(3), 3, mode="max") == 8.0
    assert g.trace_count == 3
    g(np.ones(3), 3, mode="max")
    assert g.trace_count == 3
    with pytest.raises(TypeError, match="hashable"):
        jit(lambda x, s: x, static_argnums=1)(1.0, [1, 2])


def test_cache_is_bounded():
    f = jit(lambda x: x + 1, cache_size=2)
    for n in range(1, 6):
        f(np.ones(n))
    assert f._cache_size() == 2


def test_explain_cache_misses():
    f = jit(lambda params, x: params["w"] * x)
    f({"w": np.ones(3)}, 1.0)
    with funcdiff.config.override("explain_cache_misses", True):
        with pytest.warns(UserWarning, match=r"params\['w'\] changed from f64\[3\] to f64\[4\]"):
            f({"w": np.ones(4)}, 1.0)
        with pytest.warns(UserWarning, match=r"x changed from a Python float"):
            f({"w": np.ones(4)}, np.float64(1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f({"w": np.ones(5)}, 1.0)  # off by default


@pytest.mark.parametrize("order", ["jit_of_grad", "grad_of_jit", "both"])
def test_composes_with_grad(order):
    rng = np.random.default_rng(0)
    params, x = make_params(rng), rng.normal(size=(5, 3))
    expected = grad(mlp_loss)(params, x)
    fn = {
        "jit_of_grad": jit(grad(mlp_loss)),
        "grad_of_jit": grad(jit(mlp_loss)),
        "both": jit(grad(jit(mlp_loss))),
    }[order]
    assert_trees_close(fn(params, x), expected, rtol=1e-12)


def test_composes_with_forward_mode_and_higher_order():
    f = lambda x: jnp.sum(jnp.sin(x) ** 3)
    x, t = np.array([0.1, 0.7, -0.3]), np.array([1.0, 0.5, 2.0])
    np.testing.assert_allclose(funcdiff.jvp(jit(f), (x,), (t,))[1], funcdiff.jvp(f, (x,), (t,))[1])
    np.testing.assert_allclose(funcdiff.hessian(jit(f))(x), funcdiff.hessian(f)(x), rtol=1e-12)
    np.testing.assert_allclose(jit(funcdiff.hessian(f))(x), funcdiff.hessian(f)(x), rtol=1e-12)
    assert np.isclose(grad(grad(jit(jnp.sin)))(1.0), -np.sin(1.0))
    assert jit(jit(lambda x: x * 2))(3.0) == 6.0
    np.testing.assert_allclose(funcdiff.jacrev(jit(jnp.tanh))(x), np.diag(1 - np.tanh(x) ** 2))


def test_grad_of_jit_stays_one_unit():
    jaxpr = funcdiff.make_jaxpr(grad(jit(mlp_loss)))(
        make_params(np.random.default_rng(0)), np.ones((2, 3))
    )
    names = [e.primitive.name for e in jaxpr.eqns]
    assert names == ["jit", "jit"]  # the forward pass with residuals, and its transpose
    core.typecheck_jaxpr(jaxpr.jaxpr)


def test_jit_of_a_partial_or_callable_object_composes_with_transformations():
    # Neither has a __name__, which the jit primitive of a traced call takes as its name.
    class Scale:
        def __call__(self, x):
            return x * 3.0

    x = np.array([1.0, 2.0])
    for fun, slope in ((functools.partial(lambda x, a: x * a, a=2.0), 2.0), (Scale(), 3.0)):
        f = jit(fun)
        np.testing.assert_array_equal(grad(lambda x: f(x).sum())(x), [slope, slope])
        np.testing.assert_array_equal(funcdiff.vmap(f)(x), x * slope)
    assert jit(functools.partial(np.sin)).__name__ == "sin"


def test_closure_over_outer_tracer():
    def f(x):
        g = jit(lambda y: y * x)  # closes over the outer traced x
        return g(2.0)

    assert grad(f)(3.0) == 2.0
    assert funcdiff.jvp(f, (3.0,), (1.0,))[1] == 2.0


def test_lower_shows_ir_and_python():
    lowered = jit(lambda x: jnp.sin(x) * x + 1.0).lower(0.5)
    assert "sin" in lowered.as_text()
    source = lowered.as_python()
    assert source.splitlines()[0] == "def jitted(a):"
    assert "xp.sin(a)" in source and "test_jit.py" in source


def test_backward_equations_point_at_the_users_lines():
    import inspect

    def f(x):
        y = jnp.sin(x)
        return jnp.sum(y * y)

    first = inspect.getsourcelines(f)[1]
    lowered = jit(grad(f)).lower(np.linspace(0.0, 1.0, 5))
    where = [line.rsplit("# ", 1)[1] for line in lowered.as_python().splitlines()[1:-1]]
    assert where and all(
        f"test_jit.py:{first + 1}" in w or f"test_jit.py:{first + 2}" in w for w in where
    ), where
    # The backward pass (cos of sin's derivative; the doubled cotangent of y * y) included.
    assert any(w.startswith("cos") for w in where) and len(where) >= 4


def test_operators_name_the_line_that_applies_them():
    # An operator on a traced value names its caller's line, also when user code calls the
    # operator through funcdiff (vmap) or from a helper called on another line.
    def helper(v):
        return v * 3.0

    def f(x):
        y = x * 2.0 + helper(x)
        return funcdiff.vmap(lambda r: r - 1.0)(y) / 4.0

    closed = funcdiff.make_jaxpr(f)(np.ones(3))
    where = [(e.primitive.name, e.source_info.function, e.source_info.lineno) for e in closed.eqns]
    lines = {
        name: line
        for name, line in [
            ("helper", helper.__code__.co_firstlineno + 1),
            ("f", f.__code__.co_firstlineno + 1),
        ]
    }
    assert ("mul", "f", lines["f"]) in where and ("mul", "helper", lines["helper"]) in where
    assert ("add", "f", lines["f"]) in where and ("div", "f", lines["f"] + 1) in where
    assert ("sub", "<lambda>", lines["f"] + 1) in where
    assert jit(f).lower(np.ones(3)).as_python().count("test_jit.py") == len(closed.eqns)


def test_an_error_in_compiled_code_names_its_line_primitive_and_users_line():
    def fail(v):
        raise ZeroDivisionError("from the callback")

    def h(x):
        y = x * 2.0
        funcdiff.debug.callback(fail, y)
        return y

    with pytest.raises(ZeroDivisionError) as info:
        jit(h)(np.ones(2))
    (note,) = info.value.__notes__
    line = h.__code__.co_firstlineno + 2
    assert note.startswith("(in jit-compiled code, line 3: ")
    assert f"primitive 'debug_callback', traced at {__file__}:{line} (h))" in note


def test_an_operator_read_once_by_an_in_place_statement_is_written_into_it():
    def f(x):
        return jnp.sin(x) + x * 1e308

    lowered = jit(f).lower(np.ones(3))
    body = lowered.program.source.splitlines()[1:-1]
    assert body == ["    b = xp.sin(a)", "    b += a * 1e+308"]
    annotated = lowered.as_python().splitlines()[2]
    line = f.__code__.co_firstlineno + 1
    assert (
        annotated.startswith("    b += a * 1e+308  # mul (") and f":{line} (f)), add (" in annotated
    )
    x = np.array([0.5, -0.25, 1e-300])
    np.testing.assert_array_equal(jit(f)(x), np.sin(x) + x * 1e308)
    # An error on that line names both equations, in the order they run.
    with np.errstate(over="raise"), pytest.raises(FloatingPointError) as info:
        jit(f)(np.array([10.0]))
    (note,) = info.value.__notes__
    assert "b += a * 1e+308 -- primitive 'mul', traced at " in note
    assert note.endswith(f":{line} (f); primitive 'add', traced at {__file__}:{line} (f))")


def test_grad_lowers_to_matmuls_without_transposed_copies():
    rng = np.random.default_rng(0)
    lowered = jit(grad(mlp_loss)).lower(make_params(rng), np.ones((5, 3)))
    names = [e.primitive.name for e in lowered.optimized.eqns]
    assert "transpose" not in names and names.count("dot_general") == 5
    assert ".T @" in lowered.as_python()


def test_python_if_on_traced_value_inside_jit():
    def f(x):
        if x > 0:
            return x
        return -x

    with pytest.raises(funcdiff.ConcretizationTypeError, match=r"test_jit.py:\d+ \(f\)"):
        jit(f)(1.0)
    assert jit(f, static_argnums=0)(-2.0) == 2.0


def test_user_strings_never_enter_generated_code():
    evil = "x'); import os; os.system('echo hacked'); ('"
    f = jit(lambda d: d[evil] * 2)
    lowered = f.lower({evil: np.ones(2)})
    assert "os" not in lowered.program.source and "hacked" not in lowered.program.source
    np.testing.assert_allclose(f({evil: np.ones(2)}), 2 * np.ones(2))


def test_errors_in_compiled_code_name_the_line():
    f = jit(lambda x, i: take_in_bounds(x, i))  # NumPy's gather: raises
    with pytest.raises(IndexError) as info:
        f(np.ones(3), np.array([5]))
    notes = "".join(getattr(info.value, "__notes__", []))
    assert "gather" in notes and "test_jit.py" in notes


def test_thread_safety():
    f = jit(lambda x: jnp.sum(jnp.tanh(x) ** 2))
    g = jit(grad(lambda x: jnp.sum(jnp.sin(x))))
    errors = []

    def work(seed):
        try:
            rng = np.random.default_rng(seed)
            for n in range(1, 20):
                x = rng.normal(size=n)
                assert np.isclose(f(x), np.sum(np.tanh(x) ** 2))
                np.testing.assert_allclose(g(x), np.cos(x))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert f._cache_size() == 19


class Model:
    @jit
    def apply(self, x):
        return x * 2


def test_non_array_arguments_are_rejected_with_their_path():
    with pytest.raises(TypeError, match=r"argument d\['a'\] of type str"):
        jit(lambda d: d)({"a": "text"})
    with pytest.raises(TypeError, match=r"argument self of type Model.*static_argnums"):
        Model().apply(2.0)


def test_decorator_form_and_methods():
    @funcdiff.jit
    def f(x):
        return x + 1

    class Model:
        @jit(static_argnums=0)
        def apply(self, x):
            return x * 2

    assert f(1.0) == 2.0
    assert Model().apply(2.0) == 4.0
    g = jit(static_argnames=("n",))(lambda x, n: x * n)
    assert g(2.0, n=3) == 6.0


def test_buffer_reuse_is_safe_and_lowers_peak_memory():
    def f(x, w):
        y = jnp.sin(x)  # an intermediate...
        z = y.reshape(-1)  # ...with a view that outlives it
        u = jnp.cos(y)  # y's last direct use: its buffer must not be reused (z sees it)
        v = jnp.exp(u) * 2.0 + w  # a chain that can reuse buffers
        return z, jnp.tanh(v) - 1.0

    x, w = np.linspace(0.0, 1.0, 12).reshape(3, 4), np.full((3, 4), 0.5)
    x_copy, w_copy = x.copy(), w.copy()
    lowered = jit(f).lower(x, w)
    z, out = jit(f)(x, w)
    np.testing.assert_allclose(z, np.sin(x).reshape(-1))
    np.testing.assert_allclose(out, np.tanh(np.exp(np.cos(np.sin(x))) * 2.0 + w) - 1.0)
    np.testing.assert_array_equal(x, x_copy)  # the caller's arrays are never written
    np.testing.assert_array_equal(w, w_copy)
    source = lowered.program.source
    written = set(re.findall(r"out=(\w+)", source)) | set(
        re.findall(r"^ +(\w+) [-+*/]= ", source, re.MULTILINE)
    )
    assert written and not written & {"b", "c"}, source  # w and the view of y: never written
    assert lowered.program.peak_bytes < lowered.program.peak_bytes_without_reuse


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.complex128])
def test_in_place_operators_match_eager(dtype):
    # Results written into a dying buffer become augmented assignments (`a += b`) when the
    # buffer is the first operand, or the second of a commutative operation; otherwise the
    # ufunc with `out=`. Each case must compute what the un-jitted function does.
    def f(x, y):
        u, v = x * y, x + y  # fresh buffers, each dying in one of the operations below
        inexact = u.dtype.kind in "fc"
        return [
            u - 3,
            3 - v,
            2 * (x + 1),
            (x * 2) + y,
            (y - x) * (x - y),
            (u / 2 if inexact else u // 2),
            (2 / v if inexact else -v),
        ]

    x = (np.arange(1, 7).reshape(2, 3) * 1.5).astype(dtype)
    y = np.full((2, 3), 2, dtype)
    lowered = jit(f).lower(x, y)
    source = lowered.program.source
    assert re.search(r"^ +\w+ [-+*]= ", source, re.MULTILINE), source
    assert "out=" in source, source  # 3 - v: the buffer is the second operand of a subtraction
    for got, want in zip(jit(f)(x, y), f(x, y)):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_a_jitted_function_and_its_programs_are_freed_together():
    import gc
    import weakref

    from funcdiff._src.lax import _jaxprs

    def make():
        return jit(grad(lambda x: jnp.sum(jnp.sin(x) * x)))

    make()(np.ones(3))  # warm up anything made once per process
    gc.collect()
    before = len(_jaxprs._cache)
    f = make()
    f(np.ones(3))
    (entry,) = f._cache.values()
    code = weakref.ref(entry.fn)  # the generated function
    assert len(_jaxprs._cache) > before
    del f, entry
    gc.collect()
    assert code() is None  # no global cache keeps a dead function's code
    assert len(_jaxprs._cache) == before


def test_constants_are_never_written():
    const = np.ones(4)
    f = jit(lambda x: jnp.exp(x + const) * 3.0)
    for _ in range(3):
        np.testing.assert_allclose(f(np.zeros(4)), np.exp(np.ones(4)) * 3.0)
    np.testing.assert_array_equal(const, np.ones(4))


def test_large_constants_are_not_deleted_as_locals():
    # Large dead values are deleted early; constants are globals of the generated code and
    # must never be (a `del` would make them unbound locals).
    W = np.ones((300, 300))
    f = jit(lambda x: jnp.tanh(W @ x) * W[0])
    np.testing.assert_allclose(f(np.ones(300)), np.tanh(W @ np.ones(300)) * W[0])
    np.testing.assert_allclose(f(np.ones(300)), np.tanh(W @ np.ones(300)) * W[0])


def test_reported_peak_bytes_match_tracemalloc():
    import tracemalloc

    f = jit(lambda x: sum(jnp.tanh(jnp.sin(x) * k) for k in range(4)))
    x = np.linspace(0.0, 1.0, 200_000)
    f(x)
    program = f.lower(x).program
    tracemalloc.start()
    f(x)
    measured = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert 0.8 * measured <= program.peak_bytes <= 1.25 * measured


def test_checkpoint_survives_jit():
    block = funcdiff.checkpoint(lambda x: jnp.sin(jnp.sin(x)))
    f = jit(grad(lambda x: jnp.sum(block(x))))
    names = [e.primitive.name for e in f.lower(np.ones(3)).optimized.eqns]
    assert "checkpoint" in names  # not inlined (CSE would undo the recomputation)
    np.testing.assert_allclose(f(np.ones(3)), np.cos(np.sin(1.0)) * np.cos(1.0) * np.ones(3))


def test_scalar_results_are_zero_dim_arrays_even_from_python_scalars():
    # Python-scalar arithmetic in the generated code stays Python; results are 0-d funcdiff
    # Arrays of the result's dtype, weakly typed when computed from Python scalars alone
    # (a WeakArray), as in JAX.
    cases = [
        (jit(grad(jit(lambda x: x**3))), 2.0, np.float64(12.0), True),
        (jit(lambda x: x * 2.0), 2.0, np.float64(4.0), True),
        (jit(lambda x: 1.0), 2.0, np.float64(1.0), True),
        (jit(lambda x: x), 3, np.int64(3), True),
        (jit(lambda x: x > 1.0), 2.0, np.True_, False),
    ]
    for f, arg, want, weak in cases:
        got = f(arg)
        assert isinstance(got, funcdiff.Array) and got.shape == () and got.dtype == want.dtype
        assert got == want, (got, want)
        assert got.weak_type == weak and f(arg).weak_type == weak  # the cached fast path too
        assert not weak or (got + np.ones(1, np.float32)).dtype == np.float32


def test_fast_path_by_scalar_type_keeps_one_program_per_type_and_the_switches():
    # Calls with one scalar argument find their program by the argument's type: each type is
    # its own signature, and turning jit off, NaN checks on, or clearing the cache still apply.
    runs = []

    def body(x):
        runs.append(x)  # a Python side effect: seen when the function itself runs
        return jnp.log(x) * 2.0

    f = jit(body)
    cases = [
        (0.5, np.float64),
        (np.float32(0.5), np.float32),
        (2, np.float64),
        (np.float16(0.5), np.float16),
    ]
    for _ in range(3):  # the first call traces, the next ones take the fast path
        for arg, dtype in cases:
            out = f(arg)
            assert isinstance(out, funcdiff.Array) and out.dtype == dtype and out.shape == ()
            assert out.weak_type == (type(arg) in (float, int))
            assert not out.flags.writeable
            np.testing.assert_allclose(out, np.log(np.float64(arg)) * 2.0, rtol=1e-3)
    assert f.trace_count == len(runs) == len(cases)
    with funcdiff.disable_jit():
        assert f(0.5) == np.log(0.5) * 2.0 and len(runs) == len(cases) + 1 and runs[-1] == 0.5
    with funcdiff.debug_nans(), pytest.raises(FloatingPointError, match="NaN"):
        f(-1.0)
    f.clear_cache()
    f(0.5)
    assert f.trace_count == len(cases) + 1 and len(runs) == len(cases) + 2


@pytest.mark.parametrize(
    "shapes, batch",
    [
        (((256, 10), (256,)), ((0,), (0,))),  # per-example gradients under vmap: x * g[:, None]
        (((3, 4), (5,)), ((), ())),  # outer product
        (((2, 3, 4), (4, 2, 5)), ((0, 2), (1, 0))),  # batch dimensions out of order
        (((2, 3), (3, 2)), ((0, 1), (1, 0))),  # all batch: an elementwise product
        (((4, 2, 3), (3, 5, 2)), ((1, 2), (2, 0))),
    ],
)
def test_dot_general_without_contraction_is_a_broadcast_product(shapes, batch):
    # vmap of a product with a scalar (the gradient of x @ w per example) gives a dot_general
    # that contracts nothing; it lowers to a product of broadcast views, not a batched matmul.
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=shapes[0]), rng.normal(size=shapes[1])
    dn = (((), ()), batch)
    letters = list("abcde"[: x.ndim]), list("pqrst"[: y.ndim])
    for i, j in zip(*batch):
        letters[1][j] = letters[0][i]
    xl, yl = letters
    out = (
        [xl[i] for i in batch[0]]
        + [c for i, c in enumerate(xl) if i not in batch[0]]
        + [c for i, c in enumerate(yl) if i not in batch[1]]
    )
    expected = np.einsum(f"{''.join(xl)},{''.join(yl)}->{''.join(out)}", x, y)
    f = lambda x, y: lax.dot_general(x, y, dn)  # noqa: E731
    source = jit(f).lower(x, y).as_python()
    assert " * " in source and "@" not in source and "dimension_numbers" not in source, source
    np.testing.assert_allclose(jit(f)(x, y), expected, rtol=1e-14)
    np.testing.assert_allclose(f(x, y), expected, rtol=1e-14)  # eager takes the same path


def test_per_example_gradients_multiply_instead_of_a_batched_matmul():
    loss = lambda w, x, y: jnp.log1p(jnp.exp(-y * jnp.dot(x, w)))  # noqa: E731
    rng = np.random.default_rng(1)
    w, xs, ys = rng.normal(size=5), rng.normal(size=(16, 5)), np.sign(rng.normal(size=16))
    per_example = jit(funcdiff.vmap(funcdiff.grad(loss), in_axes=(None, 0, 0)))
    source = per_example.lower(w, xs, ys).as_python()
    assert "dimension_numbers" not in source and "[..., None]" in source, source
    expected = np.stack([funcdiff.grad(loss)(w, xs[i], ys[i]) for i in range(16)])
    np.testing.assert_allclose(per_example(w, xs, ys), expected, rtol=1e-12)


@pytest.mark.parametrize(
    "config, value, edges_only",
    [
        (((0, 1, 0), (2, 0, 0)), 0.0, True),
        (((1, 1, 0), (0, 0, 0)), 2.5, True),
        (((1, 0, 0), (0, 1, 0)), -0.0, True),  # a signed zero is not zeros
        (((-1, 2, 0), (0, 0, 0)), 0.0, False),  # cropping: the general path
        (((0, 0, 1), (1, 0, 0)), 0.0, False),  # interior padding: the general path
    ],
)
def test_pad_lowering_matches_eager(config, value, edges_only):
    x = np.arange(12.0).reshape(3, 4) - 5.0
    f = lambda x: lax.pad(x, np.float64(value), config)  # noqa: E731
    source = jit(f).lower(x).as_python()
    assert ("shape=" in source) == edges_only, source
    got, expected = jit(f)(x), f(x)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))
