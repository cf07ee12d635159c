"""`jit(f, donate_argnums=..., donate_argnames=...)`: JAX's donation semantics on funcdiff.

A donated funcdiff Array is deleted by a call outside every transformation when a result
could take its buffer over (same shape and dtype, or failing that the same size in bytes);
every later use raises a RuntimeError. NumPy arrays and Python scalars are never changed;
nothing is donated under another transformation; the arguments are checked when `jit` is
called. The behaviours checked against JAX 0.10.2 on the CPU are marked "(as JAX)".
"""

from __future__ import annotations

import functools
import operator
import warnings
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import grad, jit, vmap

DELETED = "Array has been deleted"


def add_mul(a, b):
    return a + b, a * b


def fresh(*shape, start=1.0):
    return jnp.arange(start, start + int(np.prod(shape))).reshape(shape)


# ---- checking the arguments when jit is called -------------------------------------------


@pytest.mark.parametrize("nums", [0, (0,), [0], (0, 0)])
def test_donate_argnums_int_or_sequence(nums):
    x, y = fresh(3), fresh(3)
    jit(add_mul, donate_argnums=nums)(x, y)
    assert x.is_deleted() and not y.is_deleted()


@pytest.mark.parametrize("bad", ["a", 1.5, True, (0, "b"), (0, None)])
def test_donate_argnums_of_a_wrong_type(bad):
    with pytest.raises(TypeError, match="donate_argnums must be an int or a sequence of ints"):
        jit(add_mul, donate_argnums=bad)


@pytest.mark.parametrize("bad", [3, ("a", 1), [None]])
def test_donate_argnames_of_a_wrong_type(bad):
    with pytest.raises(TypeError, match="donate_argnames must be a str or a sequence of strs"):
        jit(add_mul, donate_argnames=bad)


@pytest.mark.parametrize("n", [2, 7, -3])
def test_donate_argnums_out_of_range(n):  # (as JAX: a ValueError when jit is called)
    with pytest.raises(
        ValueError,
        match=rf"donate_argnums={n} is out of range: add_mul takes 2 "
        r"positional argument\(s\) \(a, b\)",
    ):
        jit(add_mul, donate_argnums=n)


def test_out_of_range_in_the_decorator_form():
    with pytest.raises(ValueError, match="donate_argnums=1 is out of range"):

        @functools.partial(jit, donate_argnums=1)
        def f(a):
            return a


def test_varargs_accept_any_position():
    f = jit(lambda *a: a[0] + a[1], donate_argnums=1)
    x, y = fresh(3), fresh(3)
    np.testing.assert_array_equal(f(x, y), [2.0, 4.0, 6.0])
    assert not x.is_deleted() and y.is_deleted()
    z = fresh(2)
    jit(lambda *a: a[0] * 2, donate_argnums=5)(z)  # position 5 not passed: nothing donated
    assert not z.is_deleted()


def test_negative_donate_argnums_warn_and_donate_nothing():  # (JAX donates nothing, silently)
    with pytest.warns(UserWarning, match=r"donate_argnums=\[-1\] donate nothing"):
        f = jit(add_mul, donate_argnums=-1)
    x, y = fresh(3), fresh(3)
    f(x, y)
    assert not x.is_deleted() and not y.is_deleted()


@pytest.mark.parametrize("name", ["c", "args"])
def test_unknown_donate_argnames(name):
    with pytest.raises(ValueError, match=f"donate_argnames='{name}' names no parameter of add_mul"):
        jit(add_mul, donate_argnames=name)


def test_positional_only_parameter_cannot_be_donated_by_name():
    def f(a, /, b):
        return a + b

    with pytest.raises(ValueError, match="donate_argnames='a' names no parameter"):
        jit(f, donate_argnames="a")


def test_var_keyword_accepts_any_name():  # (as JAX)
    def f(a, **kw):
        return a + kw["k"]

    x, k = fresh(3), fresh(3)
    jit(f, donate_argnames="k")(x, k=k)
    assert not x.is_deleted() and k.is_deleted()


@pytest.mark.parametrize(
    "kw",
    [
        dict(static_argnums=0, donate_argnums=0),
        dict(static_argnames="a", donate_argnames="a"),
        dict(static_argnums=0, donate_argnames="a"),
        dict(static_argnames="a", donate_argnums=(1, 0)),
    ],
)
def test_static_and_donated_argument(kw):  # (as JAX: a ValueError)
    with pytest.raises(ValueError, match="argument 'a'.* is both static .* and donated"):
        jit(add_mul, **kw)


def test_static_arguments_shift_nothing():  # donate_argnums count every position (as JAX)
    def f(s, a, b):
        return a * s + b

    x, y = fresh(3), fresh(3)
    out = jit(f, static_argnums=0, donate_argnums=1)(2.0, x, y)
    np.testing.assert_array_equal(out, [3.0, 6.0, 9.0])
    assert x.is_deleted() and not y.is_deleted()
    x, y = fresh(3), fresh(3)
    jit(f, static_argnames="s", donate_argnums=2)(2.0, x, y)
    assert not x.is_deleted() and y.is_deleted()


def test_a_function_without_signature():
    neg = operator.methodcaller("__neg__")  # (inspect.signature fails on it)
    x = fresh(3)
    out = jit(neg, donate_argnums=0)(x)
    np.testing.assert_array_equal(out, [-1.0, -2.0, -3.0])
    assert x.is_deleted()
    with pytest.raises(ValueError, match="signature .* cannot be read; pass donate_argnums"):
        jit(neg, donate_argnames="a")


# ---- what a donating call does --------------------------------------------------------------


def test_donated_array_is_deleted_and_values_match_the_plain_jit():
    x, y = fresh(2, 3), fresh(2, 3, start=4.0)
    expected = jit(add_mul)(x, y)
    out = jit(add_mul, donate_argnums=0)(x, y)
    for o, e in zip(out, expected):
        np.testing.assert_array_equal(o, e)
        assert isinstance(o, funcdiff.Array)
    assert x.is_deleted() and not y.is_deleted()
    assert x.shape == (2, 3) and x.dtype == np.float64 and x.ndim == 2 and x.size == 6
    np.testing.assert_array_equal(y, np.arange(4.0, 10.0).reshape(2, 3))


@pytest.mark.parametrize(
    "use",
    [
        lambda x: x + 1.0,
        lambda x: 1.0 + x,
        lambda x: jnp.sin(x),
        lambda x: np.sin(x),
        lambda x: np.sum(x),
        lambda x: x.sum(),
        lambda x: x[0],
        lambda x: float(x[0]),
        lambda x: repr(x),
        lambda x: str(x),
        lambda x: x.tolist(),
        lambda x: x.copy(),
        lambda x: x.reshape(3),
        lambda x: jnp.asarray(x),
        lambda x: jnp.array(x),
        lambda x: x.__array__(),
        lambda x: np.asanyarray(x) + 1.0,
        lambda x: np.asanyarray(x).sum(),
        lambda x: jnp.dot(x, np.ones(3)),
        lambda x: x.at[0].set(1.0),
        lambda x: funcdiff.device_get(x),
        lambda x: jit(lambda a: a * 2)(x),
        lambda x: jit(lambda a: a * 2)(a=x),
        lambda x: jit(lambda p: p["w"] * 2)({"w": x}),
        lambda x: grad(lambda a: (a * a).sum())(x),
        lambda x: vmap(lambda a: a * 2)(x),
        lambda x: jit(lambda a: a + x)(1.0),  # closed over after its deletion
        lambda x: funcdiff.make_jaxpr(lambda a: a + x)(1.0),
        lambda x: grad(lambda a: (a * x).sum())(1.0),
    ],
)
def test_every_use_of_a_donated_array_raises(use):
    x = fresh(3)
    g = jit(lambda a: a * 2.0, donate_argnums=0)
    g(fresh(3))  # compiled once: the next call takes the cached path
    g(x)
    with pytest.raises(RuntimeError, match=rf"{DELETED} with shape=float64\[3\]"):
        use(x)


def test_a_deleted_array_passed_to_the_donating_function_again():
    g = jit(lambda a: a * 2.0, donate_argnums=0)
    x = fresh(3)
    g(x)
    with pytest.raises(RuntimeError, match=DELETED):
        g(x)
    with pytest.raises(RuntimeError, match=DELETED):
        g.lower(x)
    with pytest.raises(RuntimeError, match=DELETED):
        g.trace(x)


def test_delete_and_is_deleted():  # (as JAX)
    x = fresh(2, 2)
    view = x[0]  # taken before: another array, still valid
    assert not x.is_deleted()
    x.delete()
    x.delete()  # a second delete does nothing
    assert x.is_deleted() and len(x) == 2
    np.testing.assert_array_equal(view, [1.0, 2.0])
    with pytest.raises(RuntimeError, match=DELETED):
        x * 2


def test_a_weakly_typed_array_keeps_its_weak_type_when_deleted():
    w = jnp.broadcast_to(1.0, (2,))
    assert w.weak_type
    w.delete()
    assert w.is_deleted() and w.weak_type


def test_a_donated_numpy_array_is_never_changed():
    a = np.arange(3.0)
    out = jit(lambda v: v * 2.0, donate_argnums=0)(a)
    np.testing.assert_array_equal(out, [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(a, [0.0, 1.0, 2.0])
    assert a.flags.writeable and not np.shares_memory(out, a)
    a[0] = 5.0  # still the caller's, writable
    np.testing.assert_array_equal(out, [0.0, 2.0, 4.0])


def test_donated_scalars():
    f = jit(add_mul, donate_argnums=(0, 1))
    assert [float(v) for v in f(2.0, 3.0)] == [5.0, 6.0]
    with pytest.warns(UserWarning, match=r"not usable.*: b \(i64\[\]\)"):  # f32 results
        assert [float(v) for v in f(np.float32(2.0), 3)] == [5.0, 6.0]
    x = jnp.zeros(()) + 2.0  # a 0-d Array
    f(x, 1.0)
    assert x.is_deleted()


class State(NamedTuple):
    w: object
    b: object


@pytest.mark.parametrize(
    "make",
    [
        lambda w, b: {"w": w, "b": b},
        lambda w, b: [w, (b,)],
        lambda w, b: State(w, b),
    ],
)
def test_donated_pytrees(make):
    w, b = fresh(3), fresh(2)
    params = make(w, b)
    step = jit(
        lambda p, g: funcdiff.tree_util.tree_map(lambda u, v: u - 0.5 * v, p, g),
        donate_argnums=0,
    )
    grads = make(jnp.ones(3), jnp.ones(2))
    expected = jit(step.fun)(make(fresh(3), fresh(2)), grads)
    out = step(params, grads)
    for o, e in zip(funcdiff.tree_util.tree_leaves(out), funcdiff.tree_util.tree_leaves(expected)):
        np.testing.assert_array_equal(o, e)
    assert w.is_deleted() and b.is_deleted()
    assert not any(g.is_deleted() for g in funcdiff.tree_util.tree_leaves(grads))


def test_a_mixed_pytree_deletes_only_its_funcdiff_arrays():
    a, x = np.ones(2), fresh(2)
    out = jit(lambda p: (p["a"] + p["x"], p["x"] * 2), donate_argnums=0)({"a": a, "x": x})
    np.testing.assert_array_equal(out[0], [2.0, 3.0])
    np.testing.assert_array_equal(a, [1.0, 1.0])
    assert x.is_deleted()


def test_donate_argnames_with_keyword_and_positional_calls():  # (as JAX)
    f = jit(add_mul, donate_argnames="b")
    x, y = fresh(3), fresh(3)
    f(x, y)  # b passed by position: donated too (its number is inferred)
    assert not x.is_deleted() and y.is_deleted()
    x, y = fresh(3), fresh(3)
    out = f(x, b=y)
    np.testing.assert_array_equal(out[1], [1.0, 4.0, 9.0])
    assert not x.is_deleted() and y.is_deleted()


def test_donate_argnums_covers_a_keyword_call():  # (as JAX: the name is inferred)
    x, y = fresh(3), fresh(3)
    jit(add_mul, donate_argnums=1)(a=x, b=y)
    assert not x.is_deleted() and y.is_deleted()


def test_both_numbers_and_names_donate_exactly_those():  # (as JAX: nothing is inferred)
    f = jit(add_mul, donate_argnums=0, donate_argnames="b")
    x, y = fresh(3), fresh(3)
    f(x, y)
    assert x.is_deleted() and not y.is_deleted()
    x, y = fresh(3), fresh(3)
    f(x, b=y)
    assert x.is_deleted() and y.is_deleted()


def test_keyword_only_argument_by_name():
    def f(a, *, k):
        return a + k

    x, k = fresh(3), fresh(3)
    jit(f, donate_argnames="k")(x, k=k)
    assert not x.is_deleted() and k.is_deleted()


def test_the_same_array_passed_twice():  # (JAX's runtime refuses both)
    x = fresh(3)
    with pytest.raises(ValueError, match="donated as argument a is also passed as argument b"):
        jit(add_mul, donate_argnums=0)(x, x)
    with pytest.raises(ValueError, match="donated twice, as argument a and as argument b"):
        jit(add_mul, donate_argnums=(0, 1))(x, x)
    with pytest.raises(ValueError, match=r"as argument p\['u'\] and as argument p\['v'\]"):
        jit(lambda p: p["u"] + p["v"], donate_argnums=0)({"u": x, "v": x})
    assert not x.is_deleted()  # nothing ran
    a = np.ones(3)  # a NumPy array passed twice is copied, as in JAX: fine
    np.testing.assert_array_equal(jit(add_mul, donate_argnums=0)(a, a)[0], [2.0, 2.0, 2.0])


def test_an_array_closed_over_and_donated():  # (as JAX: deleted, the result is right)
    c = fresh(3)
    out = jit(lambda a: a + c, donate_argnums=0)(c)
    np.testing.assert_array_equal(out, [2.0, 4.0, 6.0])
    assert c.is_deleted()


def test_a_constant_is_never_the_donated_buffer():
    const = fresh(3)
    f = jit(lambda a: a + const, donate_argnums=0)
    x = fresh(3, start=10.0)
    np.testing.assert_array_equal(f(x), [11.0, 13.0, 15.0])
    np.testing.assert_array_equal(f(fresh(3)), [2.0, 4.0, 6.0])
    np.testing.assert_array_equal(const, [1.0, 2.0, 3.0])
    assert x.is_deleted() and not const.is_deleted()


def test_results_share_no_memory_with_the_donated_buffer_or_earlier_views():
    x = fresh(4)
    view = x[:2]
    out = jit(lambda a: (a * 2.0, a), donate_argnums=0)(x)
    buffer = np.ndarray.view(x, np.ndarray)  # the deleted array's memory, read past the guard
    for o in out:
        assert not np.shares_memory(o, buffer)
    np.testing.assert_array_equal(view, [1.0, 2.0])
    np.testing.assert_array_equal(out[1], [1.0, 2.0, 3.0, 4.0])


def test_unusable_donations_warn_once_and_are_not_deleted():  # (as JAX)
    f = jit(lambda a: a.sum(), donate_argnums=0)
    x = fresh(3)
    with pytest.warns(UserWarning, match=r"donated buffers were not usable.*a \(f64\[3\]\)"):
        assert float(f(x)) == 6.0
    assert not x.is_deleted()
    f(x)  # the same signature: no second warning (pytest's filterwarnings=error checks)
    assert float(x.sum()) == 6.0


def test_each_result_takes_one_donation():  # (as JAX: the first donated argument)
    x, y = fresh(3), fresh(3)
    with pytest.warns(UserWarning, match=r"not usable.*: b \(f64\[3\]\)"):
        jit(lambda a, b: a + b, donate_argnums=(0, 1))(x, y)
    assert x.is_deleted() and not y.is_deleted()


def test_a_result_of_the_same_size_in_bytes_takes_a_donation():  # (as JAX on the CPU)
    x = fresh(2, 3)
    jit(lambda a: a.T, donate_argnums=0)(x)
    assert x.is_deleted()
    x = fresh(4)
    jit(lambda a: a.astype(np.int64).reshape(2, 2), donate_argnums=0)(x)
    assert x.is_deleted()


# ---- under transformations: nothing is donated ----------------------------------------------


def test_a_donating_jit_inside_jit():  # (as JAX)
    inner = jit(lambda a: a * 2.0, donate_argnums=0)
    x = fresh(3)
    out = jit(lambda a: inner(a) + 1.0)(x)
    np.testing.assert_array_equal(out, [3.0, 5.0, 7.0])
    assert not x.is_deleted()


def test_grad_of_a_donating_jit():  # (as JAX)
    g = jit(lambda a: (a * a).sum(), donate_argnums=0)
    x = fresh(3)
    np.testing.assert_array_equal(grad(g)(x), [2.0, 4.0, 6.0])
    assert not x.is_deleted()
    np.testing.assert_array_equal(jit(grad(g))(x), [2.0, 4.0, 6.0])
    assert not x.is_deleted()


def test_vmap_and_jvp_of_a_donating_jit_donate_nothing():  # (JAX deletes here: a subset)
    g = jit(lambda a: a * 2.0, donate_argnums=0)
    x = fresh(2, 3)
    np.testing.assert_array_equal(vmap(g)(x), 2.0 * np.arange(1.0, 7.0).reshape(2, 3))
    y, t = funcdiff.jvp(g, (x,), (jnp.ones((2, 3)),))
    np.testing.assert_array_equal(t, np.full((2, 3), 2.0))
    assert not x.is_deleted()


def test_a_donating_jit_called_on_a_concrete_array_inside_grad():
    g = jit(lambda a: a * 2.0, donate_argnums=0)
    x = fresh(3)
    assert grad(lambda p: (g(x) * p).sum())(1.0) == 12.0
    assert not x.is_deleted()


def test_disable_jit_donates_nothing():
    x = fresh(3)
    with funcdiff.disable_jit():
        out = jit(lambda a: a * 2.0, donate_argnums=0)(x)
    np.testing.assert_array_equal(out, [2.0, 4.0, 6.0])
    assert not x.is_deleted()


def test_lower_and_trace_donate_nothing():  # (as JAX)
    f = jit(add_mul, donate_argnums=0)
    x = fresh(3)
    assert "add" in f.lower(x, x).as_python()
    assert f.trace(x, x).jaxpr is not None
    assert not x.is_deleted()


# ---- the forms JAX programs use -------------------------------------------------------------


def test_decorator_and_training_loop_match_the_plain_jit():
    def update(params, x, y):
        def loss(p):
            return jnp.mean((x @ p["w"] + p["b"] - y) ** 2)

        g = grad(loss)(params)
        return {k: params[k] - 0.1 * g[k] for k in params}

    donating = functools.partial(jit, donate_argnums=(0,))(update)
    plain = jit(update)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 3)), rng.normal(size=(8,))
    p_plain = {"w": jnp.zeros(3), "b": jnp.zeros(())}
    p_don = {"w": jnp.zeros(3), "b": jnp.zeros(())}
    for _ in range(5):
        old = p_don
        p_plain, p_don = plain(p_plain, x, y), donating(p_don, x, y)
        assert old["w"].is_deleted() and old["b"].is_deleted()
        for k in p_plain:
            np.testing.assert_array_equal(p_don[k], p_plain[k])


def test_a_jitted_method():
    class Model:
        scale = 3.0

        @functools.partial(jit, static_argnums=0, donate_argnums=1)
        def apply(self, x):
            return x * self.scale

    x = fresh(2)
    np.testing.assert_array_equal(Model().apply(x), [3.0, 6.0])
    assert x.is_deleted()


def test_returning_the_donated_argument():
    x = fresh(3)
    out = jit(lambda a: a, donate_argnums=0)(x)
    np.testing.assert_array_equal(out, [1.0, 2.0, 3.0])
    assert x.is_deleted() and not out.is_deleted()


def test_a_vjp_holding_a_donated_array_refuses_to_run():  # (JAX refuses too)
    x = fresh(3)
    y, f_vjp = funcdiff.vjp(lambda a: jnp.sin(a) * a, x)
    jit(lambda a: a * 0.0 - 7.0, donate_argnums=0)(x)
    assert x.is_deleted()
    with pytest.raises(RuntimeError, match=DELETED):
        f_vjp(jnp.ones(3))
    np.testing.assert_allclose(y, np.sin(np.arange(1.0, 4.0)) * np.arange(1.0, 4.0), rtol=1e-15)


def test_a_view_taken_before_the_donation_keeps_its_values():
    x = fresh(2, 2)
    row, flat = x[1], jnp.reshape(x, (4,))
    out = jit(lambda a: a * 0.0 - 7.0, donate_argnums=0)(x)
    np.testing.assert_array_equal(out, np.full((2, 2), -7.0))
    np.testing.assert_array_equal(row, [3.0, 4.0])
    np.testing.assert_array_equal(flat, [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(jnp.sin(row), np.sin([3.0, 4.0]))


def test_a_call_that_fails_deletes_nothing():
    def f(a, b):
        return a @ b  # (3,) @ (2,): a shape error

    x = fresh(3)
    with pytest.raises(Exception, match="dot_general|matmul|shape"):
        jit(f, donate_argnums=0)(x, fresh(2))
    assert not x.is_deleted()
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])


def test_check_nans_donates_nothing():
    x = fresh(3)
    with funcdiff.debug_nans(True):
        out = jit(lambda a: a * 2.0, donate_argnums=0)(x)
    np.testing.assert_array_equal(out, [2.0, 4.0, 6.0])
    assert not x.is_deleted()


# ---- random mixes of donated and kept arguments ---------------------------------------------


@given(
    kinds=st.lists(st.sampled_from(["array", "numpy", "scalar"]), min_size=1, max_size=4),
    donate=st.lists(st.booleans(), min_size=4, max_size=4),
    shape=st.sampled_from([(), (3,), (2, 2)]),
)
def test_random_mix_of_donated_and_kept_arguments(kinds, donate, shape):
    n = len(kinds)

    def f(*xs):  # one result per argument, each of the arguments' shape: all donations usable
        total = sum(xs)
        return tuple(x * (i + 2.0) - total for i, x in enumerate(xs))

    def make(kind, i):
        if kind == "scalar":
            return float(i + 1)
        value = np.full(shape, i + 1.0)
        return value if kind == "numpy" else jnp.asarray(value)

    nums = tuple(i for i in range(n) if donate[i])
    args = [make(k, i) for i, k in enumerate(kinds)]
    kept = [np.array(a, copy=True) for a in args]
    expected = jit(f)(*args)
    with warnings.catch_warnings():  # a donated scalar next to arrays is unusable: warned
        warnings.simplefilter("ignore", UserWarning)
        out = jit(f, donate_argnums=nums)(*args)
    for o, e in zip(out, expected):
        np.testing.assert_array_equal(o, e)
    for i, (a, kind) in enumerate(zip(args, kinds)):
        # Every result has the shape of the array arguments: each donated Array is taken over.
        assert (kind == "array" and a.is_deleted()) == (kind == "array" and i in nums)
        if not (kind == "array" and i in nums):
            np.testing.assert_array_equal(a, kept[i])


# --- `Lowered.args_info` / `Traced.args_info` (structure as JAX 0.10.2) -------------------


def _info_tuple(tree):
    return funcdiff.tree_util.tree_map(lambda a: (a.shape, str(a.dtype), a.donated), tree)


def test_args_info_is_args_and_kwargs_without_static_ones():
    def f(x, p, n, *, z):
        return x * p["a"][0] + z * n

    j = jit(f, static_argnums=2, donate_argnums=0)
    args = (jnp.ones(3), {"a": jnp.ones(2, jnp.int32)}, 4)
    want = (((3,), "float64", True), {"a": ((2,), "int32", False)}), {"z": ((), "float64", False)}
    for staged in (j.lower(*args, z=1.0), j.trace(*args, z=1.0)):
        info = staged.args_info
        assert _info_tuple(info) == want
        assert type(info) is tuple and type(info[0]) is tuple and type(info[1]) is dict
        assert "ArgInfo(" in repr(info[0][0])
    # a static keyword argument is left out too; no donation: nothing donated
    info = jit(f, static_argnames="z").lower(1.0, {"a": [2.0]}, 3, z=1.0).args_info
    assert _info_tuple(info) == (
        (((), "float64", False), {"a": [((), "float64", False)]}, ((), "int64", False)), {})
    assert info[0][0]._aval.weak_type


def test_args_info_donated_name_passed_by_position_or_keyword():
    j = jit(lambda x, y: x + y, donate_argnames="y")
    assert [a.donated for a in funcdiff.tree_util.tree_leaves(j.lower(1.0, 2.0).args_info)] == [
        False, True]
    info = j.lower(1.0, y=np.zeros(2, np.float32)).args_info
    assert info[1]["y"].donated and info[1]["y"].dtype == np.float32
    assert info[1]["y"].shape == (2,) and not info[0][0].donated
