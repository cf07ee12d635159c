"""`funcdiff.numpy` against `jax.numpy`: every public name of `jax.numpy` (JAX 0.10.2, listed
here so that the tests need no JAX) is in `funcdiff.numpy` or in `ABSENT` with the reason;
at least 95% of JAX's functions are there (all of them but the absent ones). Also directed
checks of the objects that the generic table does not cover: `r_`, `c_`, `einsum_path`.

The lists were made with ``[n for n in dir(jax.numpy) if not n.startswith("_")]``, split into
functions, types (classes) and other objects (constants, modules, index objects).
"""

from __future__ import annotations

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as jnp

JAX_FUNCTIONS = (
    "abs", "absolute", "acos", "acosh", "add", "all", "allclose", "amax", "amin", "angle", "any",
    "append", "apply_along_axis", "apply_over_axes", "arange", "arccos", "arccosh", "arcsin",
    "arcsinh", "arctan", "arctan2", "arctanh", "argmax", "argmin", "argpartition", "argsort",
    "argwhere", "around", "array", "array_equal", "array_equiv", "array_repr", "array_split",
    "array_str", "asarray", "asin", "asinh", "astype", "atan", "atan2", "atanh", "atleast_1d",
    "atleast_2d", "atleast_3d", "average", "bartlett", "bincount", "bitwise_and", "bitwise_count",
    "bitwise_invert", "bitwise_left_shift", "bitwise_not", "bitwise_or", "bitwise_right_shift",
    "bitwise_xor", "blackman", "block", "broadcast_arrays", "broadcast_shapes", "broadcast_to",
    "can_cast", "cbrt", "ceil", "choose", "clip", "column_stack", "compress", "concat",
    "concatenate", "conj", "conjugate", "convolve", "copy", "copysign", "corrcoef", "correlate",
    "cos", "cosh", "count_nonzero", "cov", "cross", "cumprod", "cumsum", "cumulative_prod",
    "cumulative_sum", "deg2rad", "degrees", "delete", "diag", "diag_indices", "diag_indices_from",
    "diagflat", "diagonal", "diff", "digitize", "divide", "divmod", "dot", "dsplit", "dstack",
    "ediff1d", "einsum", "einsum_path", "empty", "empty_like", "equal", "exp", "exp2",
    "expand_dims", "expm1", "extract", "eye", "fabs", "fill_diagonal", "flatnonzero", "flip",
    "fliplr", "flipud", "float_power", "floor", "floor_divide", "fmax", "fmin", "fmod", "frexp",
    "from_dlpack", "frombuffer", "fromfile", "fromfunction", "fromiter", "frompyfunc",
    "fromstring", "full", "full_like", "gcd", "geomspace", "get_printoptions", "gradient",
    "greater", "greater_equal", "hamming", "hanning", "heaviside", "histogram", "histogram2d",
    "histogram_bin_edges", "histogramdd", "hsplit", "hstack", "hypot", "i0", "identity", "imag",
    "indices", "inner", "insert", "interp", "intersect1d", "invert", "isclose", "iscomplex",
    "iscomplexobj", "isdtype", "isfinite", "isin", "isinf", "isnan", "isneginf", "isposinf",
    "isreal", "isrealobj", "isscalar", "issubdtype", "iterable", "ix_", "kaiser", "kron", "lcm",
    "ldexp", "left_shift", "less", "less_equal", "lexsort", "linspace", "load", "log", "log10",
    "log1p", "log2", "logaddexp", "logaddexp2", "logical_and", "logical_not", "logical_or",
    "logical_xor", "logspace", "mask_indices", "matmul", "matrix_transpose", "matvec", "max",
    "maximum", "mean", "median", "meshgrid", "min", "minimum", "mod", "modf", "moveaxis",
    "multiply", "nan_to_num", "nanargmax", "nanargmin", "nancumprod", "nancumsum", "nanmax",
    "nanmean", "nanmedian", "nanmin", "nanpercentile", "nanprod", "nanquantile", "nanstd",
    "nansum", "nanvar", "ndim", "negative", "nextafter", "nonzero", "not_equal", "ones",
    "ones_like", "outer", "packbits", "pad", "partition", "percentile", "permute_dims",
    "piecewise", "place", "poly", "polyadd", "polyder", "polydiv", "polyfit", "polyint", "polymul",
    "polysub", "polyval", "positive", "pow", "power", "printoptions", "prod", "promote_types",
    "ptp", "put", "put_along_axis", "quantile", "rad2deg", "radians", "ravel", "ravel_multi_index",
    "real", "reciprocal", "remainder", "repeat", "reshape", "resize", "result_type", "right_shift",
    "rint", "roll", "rollaxis", "roots", "rot90", "round", "save", "savez", "searchsorted",
    "select", "set_printoptions", "setdiff1d", "setxor1d", "shape", "sign", "signbit", "sin",
    "sinc", "sinh", "size", "sort", "sort_complex", "spacing", "split", "sqrt", "square",
    "squeeze", "stack", "std", "subtract", "sum", "swapaxes", "take", "take_along_axis", "tan",
    "tanh", "tensordot", "tile", "trace", "transpose", "trapezoid", "tri", "tril", "tril_indices",
    "tril_indices_from", "trim_zeros", "triu", "triu_indices", "triu_indices_from", "true_divide",
    "trunc", "union1d", "unique", "unique_all", "unique_counts", "unique_inverse", "unique_values",
    "unpackbits", "unravel_index", "unstack", "unwrap", "vander", "var", "vdot", "vecdot",
    "vecmat", "vectorize", "vsplit", "vstack", "where", "zeros", "zeros_like",
)

JAX_TYPES = (
    "ComplexWarning", "bfloat16", "bool", "bool_", "cdouble", "character", "complex128",
    "complex64", "complex_", "complexfloating", "csingle", "double", "dtype", "finfo", "flexible",
    "float16", "float32", "float4_e2m1fn", "float64", "float6_e2m3fn", "float6_e3m2fn",
    "float8_e3m4", "float8_e4m3", "float8_e4m3b11fnuz", "float8_e4m3fn", "float8_e4m3fnuz",
    "float8_e5m2", "float8_e5m2fnuz", "float8_e8m0fnu", "float_", "floating", "generic", "iinfo",
    "inexact", "int1", "int16", "int2", "int32", "int4", "int64", "int8", "int_", "integer",
    "ndarray", "number", "object_", "signedinteger", "single", "ufunc", "uint", "uint1", "uint16",
    "uint2", "uint32", "uint4", "uint64", "uint8", "unsignedinteger",
)

JAX_OTHER = (
    "c_", "e", "euler_gamma", "fft", "index_exp", "inf", "linalg", "mgrid", "nan", "newaxis",
    "ogrid", "pi", "r_", "s_",
)


_ML_DTYPES = ("bfloat16", "float4_e2m1fn", "float6_e2m3fn", "float6_e3m2fn", "float8_e3m4",
              "float8_e4m3", "float8_e4m3b11fnuz", "float8_e4m3fn", "float8_e4m3fnuz",
              "float8_e5m2", "float8_e5m2fnuz", "float8_e8m0fnu", "int1", "int2", "int4",
              "uint1", "uint2", "uint4")

# JAX's names that funcdiff.numpy deliberately does not have, and why.
ABSENT = {
    **{n: "an ml_dtypes type: NumPy has no such dtype and funcdiff's runtime dependencies are "
          "NumPy and typing-extensions only" for n in _ML_DTYPES},
    "float_": "removed in NumPy 2 (funcdiff follows NumPy 2): use float64",
    "complex_": "removed in NumPy 2 (funcdiff follows NumPy 2): use complex128",
}


def test_every_jax_name_is_here_or_absent_with_a_reason():
    missing = [n for n in JAX_FUNCTIONS + JAX_TYPES + JAX_OTHER
               if not hasattr(jnp, n) and n not in ABSENT]
    assert not missing, f"jax.numpy names neither in funcdiff.numpy nor in ABSENT: {missing}"
    stale = [n for n in ABSENT if hasattr(jnp, n)]
    assert not stale, f"names listed as absent that funcdiff.numpy has: {stale}"
    unknown = [n for n in ABSENT if n not in JAX_FUNCTIONS + JAX_TYPES + JAX_OTHER]
    assert not unknown, unknown
    for name, reason in ABSENT.items():
        assert len(reason) > 20, name


def test_at_least_95_percent_of_jax_functions():
    have = [n for n in JAX_FUNCTIONS if callable(getattr(jnp, n, None))]
    assert len(JAX_FUNCTIONS) == 344
    assert len(have) / len(JAX_FUNCTIONS) >= 0.95, len(have)
    # In fact every function JAX has is here.
    assert sorted(set(JAX_FUNCTIONS) - set(have)) == []


def test_types_are_numpys():
    for name in JAX_TYPES:
        if name in ABSENT:
            continue
        ours = getattr(jnp, name)
        assert isinstance(ours, type), name
        if name in ("ufunc", "ndarray"):  # funcdiff's own, as JAX's are JAX's
            continue
        assert ours.__module__ in ("numpy", "builtins") or issubclass(ours, Warning), name


# ---- r_, c_, einsum_path --------------------------------------------------------------------


@pytest.mark.parametrize("expr", [
    "r_[np.array([1, 2, 3]), 0, 0, np.array([4, 5, 6])]",
    "r_[-1:1:6j, [0] * 3, 5, 6]",
    "r_[0:10:3]",
    "r_['-1', np.ones((2, 3)), np.zeros((2, 3))]",
    "r_['0,2', [1, 2, 3], [4, 5, 6]]",
    "r_['0,2,0', [1, 2, 3], [4, 5, 6]]",
    "r_['1,2,0', [1, 2, 3], [4, 5, 6]]",
    "r_['0,3,1', [1, 2], [3, 4]]",
    "c_[np.array([1, 2, 3]), np.array([4, 5, 6])]",
    "c_[np.array([[1, 2, 3]]), 0, 0, np.array([[4, 5, 6]])]",
    "c_[np.array([1.0, 2.0]), np.array([3, 4])]",
])
def test_r_and_c_match_numpy(expr):
    ours = eval(expr, {"np": np, "r_": jnp.r_, "c_": jnp.c_})
    theirs = eval(expr, {"np": np, "r_": np.r_, "c_": np.c_})
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


def test_r_and_c_trace_and_differentiate():
    f = lambda x: jnp.sum(jnp.r_[x, 2.0 * x, 3.0] ** 2)  # noqa: E731
    assert funcdiff.grad(f)(1.5) == 2 * 1.5 + 8 * 1.5
    g = funcdiff.jit(lambda x: jnp.c_[x, -x])
    np.testing.assert_array_equal(g(np.array([1.0, 2.0])), [[1.0, -1.0], [2.0, -2.0]])
    rows = funcdiff.vmap(lambda x: jnp.r_[x, x[:1]])(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(rows, [[0.0, 1.0, 2.0, 0.0], [3.0, 4.0, 5.0, 3.0]])


def test_r_rejects_matrix_directives():
    with pytest.raises(NotImplementedError, match="matrix"):
        jnp.r_["r", [1, 2], [3, 4]]
    with pytest.raises(ValueError, match="directive"):
        jnp.r_["x,y", [1, 2]]


def test_einsum_path_takes_traced_operands():
    ops = (np.ones((2, 3)), np.ones((3, 4)), np.ones((4, 5)))
    expected = np.einsum_path("ij,jk,kl->il", *ops, optimize="greedy")
    assert jnp.einsum_path("ij,jk,kl->il", *ops) == expected
    paths = []
    funcdiff.make_jaxpr(lambda *o: paths.append(jnp.einsum_path("ij,jk,kl->il", *o)[0]))(*ops)
    assert paths == [expected[0]]


def test_numpy_functions_reexported_unchanged_refuse_tracers():
    # np.save on a traced value must not be forwarded to funcdiff.numpy.save (which is
    # np.save itself, and would recurse); np.histogram is forwarded to funcdiff's.
    def f(x):
        with pytest.raises(TypeError, match="numpy.save cannot be applied to a traced value"):
            np.save("unused.npy", x)
        counts, edges = np.histogram(x, 2)
        return counts

    assert funcdiff.jit(f)(np.array([0.0, 1.0, 1.0])).tolist() == [1, 2]


def test_ufunc_methods_match_numpy():
    add = jnp.ufunc(lambda x, y: x + y, 2, 1, identity=0)
    mul = jnp.frompyfunc(lambda x, y: x * y, 2, 1)
    x = np.arange(1.0, 7.0).reshape(2, 3)
    for axis in (0, 1, None, (0, 1)):
        np.testing.assert_allclose(add.reduce(x, axis=axis), np.add.reduce(x, axis=axis))
        np.testing.assert_allclose(mul.reduce(x, axis=axis, keepdims=True),
                                   np.multiply.reduce(x, axis=axis, keepdims=True))
    np.testing.assert_allclose(mul.accumulate(x, axis=1), np.multiply.accumulate(x, axis=1))
    np.testing.assert_allclose(add.outer(x[0], x[1]), np.add.outer(x[0], x[1]))
    idx = np.array([0, 2, 1, 3])
    np.testing.assert_allclose(add.reduceat(np.arange(8.0), idx),
                               np.add.reduceat(np.arange(8.0), idx))
    expected = np.zeros(4)
    np.add.at(expected, [0, 0, 3], [1.0, 2.0, 3.0])
    got = add.at(np.zeros(4), np.array([0, 0, 3]), np.array([1.0, 2.0, 3.0]), inplace=False)
    np.testing.assert_array_equal(got, expected)
    with pytest.raises(ValueError, match="inplace=False"):
        add.at(np.zeros(4), np.array([0]), 1.0)
    with pytest.raises(ValueError, match="no identity"):
        mul.reduce(np.zeros((0, 2)))
    # Differentiable and staged like any composition.
    np.testing.assert_allclose(funcdiff.grad(lambda v: mul.reduce(v))(np.array([1.0, 2.0, 3.0])),
                               [6.0, 3.0, 2.0])
    np.testing.assert_allclose(funcdiff.jit(add.accumulate)(np.array([1.0, 2.0, 3.0])),
                               [1.0, 3.0, 6.0])
