"""The smaller top-level APIs of JAX: `eval_shape` and `ShapeDtypeStruct`, `pure_callback`,
`debug.callback`, `ensure_compile_time_eval`, the naming and device contexts, `clear_caches`,
`funcdiff.dtypes`, `funcdiff.typing` and `flatten_util.ravel_pytree`. Expected values were
checked against JAX 0.10.2 where JAX's 32-bit defaults do not change them."""

from __future__ import annotations

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import dtypes
from funcdiff.flatten_util import ravel_pytree
from funcdiff.typing import ArrayLike

SDS = funcdiff.ShapeDtypeStruct

# ---- ShapeDtypeStruct and eval_shape --------------------------------------------------------


def test_shape_dtype_struct_value_semantics():
    a = SDS([3, np.int64(4)], "float32")
    assert a.shape == (3, 4) and a.dtype == np.float32 and a.ndim == 2 and a.size == 12
    assert len(a) == 3 and a == SDS((3, 4), np.float32) and hash(a) == hash(SDS((3, 4), "f4"))
    assert a != SDS((3, 4), np.float64) and a != SDS((3, 4), np.float32, weak_type=True)
    assert repr(a) == "ShapeDtypeStruct(shape=(3, 4), dtype=float32)"
    assert repr(SDS((), float, weak_type=True)).endswith("dtype=float64, weak_type=True)")


@pytest.mark.parametrize(
    "shape, dtype, error",
    [((-1,), np.float32, ValueError), ((2.5,), np.float32, TypeError), ((2,), None, TypeError)],
)
def test_shape_dtype_struct_rejects_bad_input(shape, dtype, error):
    with pytest.raises(error, match="ShapeDtypeStruct"):
        SDS(shape, dtype)


def test_eval_shape_returns_the_result_structure_without_computing():
    calls = []

    def f(a, b):
        calls.append(1)
        return {"gram": a.T @ a, "sum": jnp.sum(a, axis=0) + b, "n": (a > 0).sum()}

    # 10^5 x 10^5 float32 would need 40 GB: only shapes are computed.
    out = funcdiff.eval_shape(f, SDS((100_000, 100_000), np.float32), np.float32(1.0))
    assert out == {
        "gram": SDS((100_000, 100_000), np.float32),
        "sum": SDS((100_000,), np.float32),
        "n": SDS((), np.int64),
    }
    assert calls == [1]  # traced once


def test_eval_shape_takes_arrays_kwargs_and_objects_with_shape_and_dtype():
    class Spec:
        shape, dtype = (2, 3), np.dtype(np.float64)

    out = funcdiff.eval_shape(lambda x, *, y: (x @ y.T, x[0]), Spec(), y=np.ones((4, 3)))
    assert out == (SDS((2, 4), np.float64), SDS((3,), np.float64))
    assert funcdiff.eval_shape(lambda x: x * 2.0, 1.0) == SDS((), np.float64, weak_type=True)
    with pytest.raises(TypeError, match="eval_shape: argument of type str"):
        funcdiff.eval_shape(lambda x: x, "abc")


def test_a_weak_shape_dtype_struct_is_traced_as_a_python_scalar():
    # A weak float64 scalar runs as a Python float would: its product with a float32 array
    # keeps float32.
    weak = SDS((), np.float64, weak_type=True)
    x32 = SDS((2,), np.float32)
    traced = funcdiff.jit(lambda s, x: s * x).trace(weak, x32)
    assert traced.jaxpr.out_avals[0].dtype == np.float32
    strong = funcdiff.jit(lambda s, x: s * x).trace(SDS((), np.float64), x32)
    assert strong.jaxpr.out_avals[0].dtype == np.float64
    # No Python scalar has a weak float32: a clear error, not a strong trace.
    with pytest.raises(TypeError, match="drop weak_type=True"):
        funcdiff.make_jaxpr(lambda v: v)(SDS((), np.float32, weak_type=True))
    # A shaped one stands for a WeakArray.
    shaped = SDS((2,), np.float64, weak_type=True)
    traced = funcdiff.jit(lambda s, x: s * x).trace(shaped, x32)
    assert traced.jaxpr.in_avals[0].weak_type and traced.jaxpr.out_avals[0].dtype == np.float32
    assert funcdiff.eval_shape(lambda v: v, shaped) == shaped


def test_shape_dtype_struct_stands_for_arguments_of_make_jaxpr_and_jit():
    def f(x, y):
        return jnp.sin(x) @ y

    x, y = np.ones((2, 3), np.float32), np.ones((3,), np.float32)
    sx, sy = SDS(x.shape, x.dtype), SDS(y.shape, y.dtype)
    assert str(funcdiff.make_jaxpr(f)(sx, sy)) == str(funcdiff.make_jaxpr(f)(x, y))
    jf = funcdiff.jit(f)
    assert str(jf.trace(sx, y=sy).jaxpr) == str(funcdiff.jit(f).trace(x, y=y).jaxpr)
    lowered = jf.lower(sx, sy)
    assert lowered.as_python() == funcdiff.jit(f).lower(x, y).as_python()
    np.testing.assert_allclose(jf(x, y), np.sin(x) @ y, rtol=1e-6)
    assert jf.trace_count == 2  # the positional and the keyword call differ; the real one hit


# ---- pure_callback --------------------------------------------------------------------------


def _host_sort(x):
    return np.sort(np.asarray(x), axis=-1)


def _spec(x):
    return SDS(x.shape, x.dtype)


def test_pure_callback_eager_and_jit_with_pytrees():
    def f(x):
        out = funcdiff.pure_callback(
            lambda d: {"s": np.sort(d["a"]), "m": d["a"].max()},
            {"s": _spec(x), "m": SDS((), x.dtype)},
            {"a": x * 2},
        )
        return out["s"] + out["m"]

    x = np.array([3.0, 1.0, 2.0])
    expected = np.array([8.0, 10.0, 12.0])
    np.testing.assert_array_equal(f(x), expected)
    np.testing.assert_array_equal(funcdiff.jit(f)(x), expected)


@pytest.mark.parametrize("method", ["sequential", "expand_dims", "broadcast_all"])
def test_pure_callback_under_vmap(method):
    calls = []

    def cb(a, b):
        calls.append((a.shape, b.shape))
        return np.sort(a, axis=-1) + b

    def f(x, y):
        return funcdiff.pure_callback(cb, _spec(x), x, y, vmap_method=method)

    xs = np.array([[3.0, 1.0, 2.0], [0.0, -1.0, 5.0]])
    y = np.array([10.0, 20.0, 30.0])
    out = funcdiff.vmap(f, in_axes=(1, None))(xs.T.copy(), y)  # batched along axis 1
    np.testing.assert_array_equal(out, np.sort(xs, axis=-1) + y)
    expected_calls = {
        "sequential": [((3,), (3,)), ((3,), (3,))],
        "expand_dims": [((2, 3), (1, 3))],
        "broadcast_all": [((2, 3), (2, 3))],
    }[method]
    assert calls == expected_calls


def test_pure_callback_errors():
    x = np.ones(3)
    bad_shape = lambda x: funcdiff.pure_callback(lambda a: a[:2], _spec(x), x)  # noqa: E731
    with pytest.raises(Exception, match="declares shape"):
        bad_shape(x)
    bad_dtype = lambda x: funcdiff.pure_callback(lambda a: a.astype(np.float32), _spec(x), x)  # noqa: E731
    with pytest.raises(Exception, match="dtype float32"):
        funcdiff.jit(bad_dtype)(x)
    with pytest.raises(ValueError, match="custom_jvp"):
        funcdiff.grad(lambda x: funcdiff.pure_callback(np.sin, _spec(x), x))(1.0)
    with pytest.raises(NotImplementedError, match="vmap_method"):
        funcdiff.vmap(lambda x: funcdiff.pure_callback(np.sin, _spec(x), x))(x)
    with pytest.raises(ValueError, match="vmap_method must be one of"):
        funcdiff.pure_callback(np.sin, _spec(x), x, vmap_method="loop")


def test_pure_callback_differentiates_through_custom_jvp():
    @funcdiff.custom_jvp
    def host_sin(x):
        return funcdiff.pure_callback(np.sin, _spec(x), x)

    @host_sin.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return host_sin(x), jnp.cos(x) * t

    x = np.array([0.3, 1.2])
    np.testing.assert_allclose(funcdiff.grad(lambda x: host_sin(x).sum())(x), np.cos(x))


# ---- debug.callback -------------------------------------------------------------------------


def test_debug_callback_runs_at_run_time_under_every_transformation():
    seen = []

    def f(x):
        funcdiff.debug.callback(lambda v, scale: seen.append(float(v.sum()) * scale), x, scale=10)
        return x * 2

    jf = funcdiff.jit(f)
    jf(np.arange(3.0))
    jf(np.ones(3))  # the compiled program calls it again
    assert seen == [30.0, 30.0]
    seen.clear()
    funcdiff.vmap(f)(np.array([[1.0, 2.0], [3.0, 4.0]]))
    funcdiff.grad(lambda x: f(x).sum())(np.array([1.0, 2.0]))
    assert seen == [30.0, 70.0, 30.0]
    with pytest.raises(TypeError, match="callback must be callable"):
        funcdiff.debug.callback(3, 1.0)


# ---- ensure_compile_time_eval, naming, devices, caches --------------------------------------


def test_ensure_compile_time_eval_computes_constants_while_tracing():
    def f(x):
        with funcdiff.ensure_compile_time_eval():
            n = jnp.sum(jnp.arange(4))
            y = x + 1  # traced: x is a tracer
        return y * int(n)

    assert funcdiff.jit(f)(np.float64(2.0)) == 18.0
    text = str(funcdiff.make_jaxpr(f)(1.0))
    assert "iota" not in text and "reduce_sum" not in text and "add" in text

    def g(x):
        return x * int(jnp.sum(jnp.arange(4)))

    with pytest.raises(funcdiff.ConcretizationTypeError):
        funcdiff.jit(g)(np.float64(2.0))


def test_named_scope_and_named_call_compute_the_same():
    def layer(x):
        with funcdiff.named_scope("dense"):
            return jnp.tanh(2.0 * x)

    assert funcdiff.grad(layer)(0.0) == 2.0
    square = funcdiff.named_call(lambda x: x * x, name="square")
    assert square.__name__ == "square" and funcdiff.grad(square)(3.0) == 6.0
    assert funcdiff.jit(funcdiff.named_call(jnp.sin))(0.5) == np.sin(0.5)
    with pytest.raises(TypeError, match="named_scope: name must be a string"):
        with funcdiff.named_scope(3):
            pass
    with pytest.raises(TypeError, match="named_call: name must be a string"):
        funcdiff.named_call(jnp.sin, name=1)


def test_devices_and_processes():
    for device in (None, "cpu", funcdiff.devices()[0]):
        with funcdiff.default_device(device):
            x = jnp.ones(2)
        assert x.devices() == {funcdiff.devices()[0]}
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        with funcdiff.default_device("gpu"):
            pass
    assert isinstance(funcdiff.devices()[0], funcdiff.Device)
    assert funcdiff.local_device_count() == 1 and funcdiff.process_count() == 1
    assert funcdiff.process_index() == 0
    with pytest.raises(RuntimeError, match="Unknown backend"):
        funcdiff.process_count("tpu")


def test_clear_caches_makes_jitted_functions_trace_again():
    f = funcdiff.jit(lambda x: x + 1)
    g = funcdiff.jit(lambda x: x * 2)
    f(np.ones(2)), g(np.ones(2))
    funcdiff.clear_caches()
    assert f._cache_size() == 0 and g._cache_size() == 0
    np.testing.assert_array_equal(f(np.ones(2)), [2.0, 2.0])
    assert f.trace_count == 2


# ---- dtypes and typing ----------------------------------------------------------------------


def test_dtypes_helpers():
    assert dtypes.canonicalize_dtype(float) == np.float64  # 64-bit types are kept
    assert dtypes.canonicalize_dtype(np.float32) == np.float32
    assert dtypes.canonicalize_dtype(np.ones(2, np.int8)) == np.int8
    with pytest.raises(TypeError, match="is not a dtype"):
        dtypes.canonicalize_dtype("nonsense")
    assert dtypes.result_type(np.float32, 2.0) == np.float32
    assert dtypes.result_type(np.int8, np.uint8) == np.int16
    assert dtypes.result_type(jnp.ones(2, np.float32), np.float64) == np.float64
    assert dtypes.result_type(2.0, 3, return_weak_type_flag=True) == (np.float64, True)
    assert dtypes.result_type(np.int32, 3, return_weak_type_flag=True) == (np.int32, False)
    with pytest.raises(ValueError, match="at least one"):
        dtypes.result_type()
    assert dtypes.scalar_type_of(np.float32(1)) is float
    assert dtypes.scalar_type_of(np.arange(3)) is int
    assert dtypes.scalar_type_of(True) is bool and dtypes.scalar_type_of(1j) is complex
    assert dtypes.itemsize_bits(np.float32) == 32 and dtypes.itemsize_bits("bool") == 8
    assert dtypes.issubdtype(np.float32, np.floating) and not dtypes.issubdtype(int, np.floating)
    assert dtypes.finfo(np.float32).eps == np.finfo(np.float32).eps
    assert dtypes.iinfo(np.int8).max == 127 and dtypes.float0.itemsize == 0


def test_typing_array_like():
    for value in (1, 2.0, True, 1j, np.float32(1), np.ones(2), jnp.ones(2)):
        assert isinstance(value, ArrayLike)
    for value in ("1", [1.0], None):
        assert not isinstance(value, ArrayLike)


# ---- ravel_pytree ---------------------------------------------------------------------------


def test_ravel_pytree_round_trip_with_mixed_dtypes():
    tree = {"w": np.arange(4.0).reshape(2, 2), "b": np.array([7, 8], np.int32), "s": None}
    flat, unravel = ravel_pytree(tree)
    np.testing.assert_array_equal(flat, [7.0, 8.0, 0.0, 1.0, 2.0, 3.0])
    assert flat.dtype == np.float64
    back = unravel(flat + 0.5)
    assert back["b"].dtype == np.int32 and back["s"] is None
    np.testing.assert_array_equal(back["b"], [7, 8])
    np.testing.assert_array_equal(back["w"], tree["w"] + 0.5)


def test_ravel_pytree_float32_and_empty():
    flat, unravel = ravel_pytree((np.ones(2, np.float32), np.float32(3)))
    assert flat.dtype == np.float32 and flat.shape == (3,)
    a, b = unravel(flat * 2)
    assert a.shape == (2,) and b.shape == () and float(b) == 6.0
    flat, unravel = ravel_pytree({})
    assert flat.shape == (0,) and unravel(flat) == {}


def test_ravel_pytree_is_differentiable_both_ways():
    params = {"a": np.array([1.0, 2.0]), "c": np.array(3.0)}
    flat, unravel = ravel_pytree(params)

    def loss(v):
        p = unravel(v)
        return jnp.sum(p["a"] ** 2) * p["c"]

    np.testing.assert_allclose(funcdiff.grad(loss)(flat), [6.0, 12.0, 5.0])
    g = funcdiff.grad(lambda p: jnp.sum(ravel_pytree(p)[0] ** 3))(params)
    np.testing.assert_allclose(g["a"], [3.0, 12.0])
    np.testing.assert_allclose(g["c"], 27.0)


def test_unravel_rejects_wrong_shape_and_dtype():
    flat, unravel = ravel_pytree([np.ones(2), np.ones(3)])
    with pytest.raises(ValueError, match=r"shape \(5,\), got shape \(4,\)"):
        unravel(np.ones(4))
    with pytest.raises(TypeError, match="dtype float32"):
        unravel(np.ones(5, np.float32))


# ---- random: key data and the transforms of uniform/normal ----------------------------------

# jax.random.<name>(jax.random.PRNGKey(0), (3,), dtype) from JAX 0.10.2 (float64 in x64 mode).
JAX_SAMPLES = {
    ("exponential", np.float64): [0.5420705551711603, 0.24372318502372997, 3.3616342594163338],
    ("exponential", np.float32): [2.9501280784606934, 3.8434245586395264, 0.4039035439491272],
    ("laplace", np.float64): [0.17803369470862349, 0.8379627799904482, -2.66848707885639],
    ("laplace", np.float32): [-2.256981611251831, -3.1502788066864014, 0.4085954427719116],
    ("logistic", np.float64): [-0.3291103200974086, -1.2873867755266637, 3.3263401466314915],
    ("logistic", np.float32): [2.896375894546509, 3.8217716217041016, -0.6978392004966736],
    ("cauchy", np.float64): [-0.2619295066536063, -1.2378460184296847, 9.142528431003585],
    ("cauchy", np.float32): [6.027494430541992, 14.837895393371582, -0.5817222595214844],
    ("maxwell", np.float64): [1.9890699115189192, 0.42460738321377167, 1.2403079123658307],
    ("maxwell", np.float32): [2.631096601486206, 0.9910328388214111, 0.9649305939674377],
}


@pytest.mark.parametrize("name, dtype", list(JAX_SAMPLES))
def test_samplers_match_jax(name, dtype):
    out = getattr(funcdiff.random, name)(funcdiff.random.key(0), (3,), dtype)
    assert out.dtype == dtype
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(out, JAX_SAMPLES[name, dtype], rtol=rtol)


def test_parametrised_samplers_match_jax():
    r, k = funcdiff.random, funcdiff.random.key(0)
    f32 = np.float32
    cases = [
        (r.rayleigh(k, 2.0, (3,), f32), [0.6557566523551941, 0.41620054841041565, 2.968828439712]),
        (r.lognormal(k, 0.5, (3,), f32), [2.2508795261383057, 2.752837896347046, 0.8050932288169]),
        (r.pareto(k, 3.0, (3,), f32), [2.673466682434082, 3.600747585296631, 1.1441185474395752]),
        (r.weibull_min(k, 2.0, 1.5, (3,), f32), [4.113933563232422, 4.907295703887, 1.09281945]),
    ]
    for out, expected in cases:
        assert out.dtype == f32
        np.testing.assert_allclose(out, expected, rtol=1e-6)
    signs = r.rademacher(k, (6,))
    assert signs.dtype == np.int64 and signs.tolist() == [1, 1, -1, -1, -1, 1]
    assert r.lognormal(k, np.full((2, 2), 0.1)).shape == (2, 2)  # shape from the parameter


def test_samplers_work_under_jit_and_vmap():
    keys = funcdiff.random.split(funcdiff.random.key(1), 4)
    draw = funcdiff.jit(lambda k: funcdiff.random.laplace(k, (2,)))
    batched = funcdiff.vmap(draw)(keys)
    for i in range(4):
        np.testing.assert_array_equal(batched[i], funcdiff.random.laplace(keys[i], (2,)))


def test_key_data_and_wrap_key_data():
    r = funcdiff.random
    keys = r.split(r.key(0), 3)
    np.testing.assert_array_equal(r.key_data(keys), keys)
    k = r.wrap_key_data(np.array([0, 42], np.uint32))
    np.testing.assert_array_equal(r.normal(k, (2,)), r.normal(r.key(42), (2,)))
    with pytest.raises(TypeError, match=r"uint32 array of shape \(\.\.\., 2\)"):
        r.key_data(np.zeros(3, np.uint32))
    with pytest.raises(ValueError, match="only 'threefry2x32'"):
        r.wrap_key_data(keys, impl="rbg")
    with pytest.raises(TypeError, match="dtype must be float16, float32 or float64"):
        r.exponential(r.key(0), (2,), np.int32)


# ---- tree: broadcast and reduce_associative -------------------------------------------------


def test_tree_broadcast():
    from funcdiff import tree

    assert tree.broadcast((1, 2, 3), (0, {"a": 0, "b": 0}, (0, 0))) == (1, {"a": 2, "b": 2}, (3, 3))
    assert tree.broadcast({"x": 5}, {"x": [0, None, (0,)]}) == {"x": [5, None, (5,)]}
    with pytest.raises(ValueError):
        tree.broadcast((1, 2), (0, 0, 0))


def test_tree_reduce_associative_pairs_neighbours_in_order():
    from funcdiff import tree

    leaves = ["a", ("b", "c"), {"d": "d", "e": "e"}]
    assert tree.reduce_associative(lambda x, y: f"({x}{y})", leaves) == "(((ab)(cd))e)"
    assert tree.reduce_associative(lambda x, y: x + y, [1, (2, 3), {"a": 4}]) == 10
    assert tree.reduce_associative(lambda x, y: x + y, [], identity=0) == 0
    with pytest.raises(TypeError, match="identity="):
        tree.reduce_associative(lambda x, y: x + y, [])


# ---- configuration context managers and io_callback -----------------------------------------


def test_config_context_managers_set_and_restore_their_option():
    cases = [
        (funcdiff.explain_cache_misses, "explain_cache_misses", True),
        (funcdiff.log_compiles, "jax_log_compiles", True),
        (funcdiff.check_tracer_leaks, "jax_check_tracer_leaks", True),
        (funcdiff.checking_leaks, "jax_check_tracer_leaks", True),
        (funcdiff.default_matmul_precision, "jax_default_matmul_precision", "float32"),
        (funcdiff.numpy_rank_promotion, "jax_numpy_rank_promotion", "allow"),
        (funcdiff.numpy_dtype_promotion, "jax_numpy_dtype_promotion", "standard"),
        (funcdiff.enable_x64, "jax_enable_x64", True),
    ]
    for manager, option, value in cases:
        before = funcdiff.config.read(option)
        with manager(value):
            assert funcdiff.config.read(option) == value, option
        assert funcdiff.config.read(option) == before, option
    with pytest.raises(ValueError, match="jax_enable_x64=False"):
        with funcdiff.enable_x64(False):
            pass
    with pytest.raises(ValueError):
        with funcdiff.numpy_rank_promotion("raise"):
            pass
    assert funcdiff.config.jax_numpy_rank_promotion == "allow"


def test_explain_cache_misses_context_warns_only_inside():
    f = funcdiff.jit(lambda x: x + 1)
    f(np.ones(2))
    with funcdiff.explain_cache_misses():
        with pytest.warns(UserWarning, match="changed from"):
            f(np.ones(3))


def test_io_callback_runs_even_with_unused_results():
    from funcdiff.experimental import io_callback

    log = []

    @funcdiff.jit
    def f(x):
        io_callback(lambda v: log.append(v.tolist()) or v, _spec(x), x)  # result unused
        return x + 1

    f(np.arange(2.0))
    f(np.arange(2.0))
    assert log == [[0.0, 1.0], [0.0, 1.0]]
    g = lambda x: io_callback(lambda v: v * 2, _spec(x), x)  # noqa: E731
    np.testing.assert_array_equal(
        funcdiff.vmap(g)(np.arange(6.0).reshape(2, 3)), 2 * np.arange(6.0).reshape(2, 3)
    )
    ordered = lambda x: io_callback(lambda v: v, _spec(x), x, ordered=True)  # noqa: E731
    with pytest.raises(ValueError, match="cannot vmap the ordered callback"):
        funcdiff.vmap(ordered)(np.ones((2, 2)))
    with pytest.raises(ValueError, match="cannot differentiate"):
        funcdiff.grad(lambda x: g(x).sum())(np.ones(2))
