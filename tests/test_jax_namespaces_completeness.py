"""`funcdiff.lax`, `funcdiff.nn` and `funcdiff.scipy` against JAX 0.10.2's `jax.lax`,
`jax.lax.linalg`, `jax.nn`, `jax.nn.initializers` and `jax.scipy.*`: every public name of those
JAX modules (and every function of each `jax.scipy.stats` distribution) is in the matching
funcdiff module or in `ABSENT` with the reason. The lists (made with ``[n for n in dir(module)
if not n.startswith("_")]``, submodules left out) are written here so that the tests need no
JAX. test_jax_api_completeness.py does the same for `jax` and its small modules.
"""

from __future__ import annotations

import importlib

import pytest
from test_jax_api_completeness import assert_absent_is_true, assert_here_or_absent

# fmt: off
JAX_NAMES: dict[str, tuple[str, ...]] = {
    "jax.lax": (
        "AccuracyMode", "ConvDimensionNumbers", "ConvGeneralDilatedDimensionNumbers",
        "DotAlgorithm", "DotAlgorithmPreset", "DotDimensionNumbers", "FftType",
        "GatherDimensionNumbers", "GatherScatterMode", "Precision", "PrecisionLike",
        "RaggedDotDimensionNumbers", "RandomAlgorithm", "RoundingMethod",
        "ScatterDimensionNumbers", "Tolerance", "abs", "abs_p", "acos", "acos_p", "acosh",
        "acosh_p", "add", "add_p", "after_all", "after_all_p", "all_gather", "all_gather_p",
        "all_to_all", "all_to_all_p", "and_p", "approx_max_k", "approx_min_k",
        "approx_top_k_p", "argmax", "argmax_p", "argmin", "argmin_p", "asin", "asin_p",
        "asinh", "asinh_p", "associative_scan", "atan", "atan2", "atan2_p", "atan_p",
        "atanh", "atanh_p", "axis_index", "axis_index_p", "axis_size", "batch_matmul",
        "bessel_i0e", "bessel_i0e_p", "bessel_i1e", "bessel_i1e_p", "betainc",
        "bitcast_convert_type", "bitcast_convert_type_p", "bitwise_and", "bitwise_not",
        "bitwise_or", "bitwise_xor", "broadcast", "broadcast_in_dim", "broadcast_in_dim_p",
        "broadcast_like", "broadcast_shapes", "broadcast_to_rank", "broadcasted_iota",
        "cbrt", "cbrt_p", "ceil", "ceil_p", "clamp", "clamp_p", "clz", "clz_p", "collapse",
        "complex", "complex_p", "composite", "concatenate", "concatenate_p", "cond",
        "cond_p", "conj", "conj_p", "conv", "conv_dimension_numbers",
        "conv_general_dilated", "conv_general_dilated_local", "conv_general_dilated_p",
        "conv_general_dilated_patches", "conv_general_permutations",
        "conv_general_shape_tuple", "conv_shape_tuple", "conv_transpose",
        "conv_transpose_shape_tuple", "conv_with_general_padding", "convert_element_type",
        "convert_element_type_p", "copy_p", "cos", "cos_p", "cosh", "cosh_p",
        "create_token", "create_token_p", "cumlogsumexp", "cumlogsumexp_p", "cummax",
        "cummax_p", "cummin", "cummin_p", "cumprod", "cumprod_p", "cumsum", "cumsum_p",
        "custom_linear_solve", "custom_root", "dce_sink", "dce_sink_p", "device_put_p",
        "digamma", "digamma_p", "div", "div_p", "dot", "dot_general", "dot_general_p",
        "dtype", "dynamic_index_in_dim", "dynamic_slice", "dynamic_slice_in_dim",
        "dynamic_slice_p", "dynamic_update_index_in_dim", "dynamic_update_slice",
        "dynamic_update_slice_in_dim", "dynamic_update_slice_p", "empty", "eq", "eq_p",
        "eq_to_p", "erf", "erf_inv", "erf_inv_p", "erf_p", "erfc", "erfc_p", "exp", "exp2",
        "exp2_p", "exp_p", "expand_dims", "expm1", "expm1_p", "fft", "fft_p", "floor",
        "floor_p", "fori_loop", "full", "full_like", "gather", "gather_p", "ge", "ge_p",
        "gt", "gt_p", "igamma", "igamma_grad_a", "igamma_grad_a_p", "igamma_p", "igammac",
        "igammac_p", "imag", "imag_p", "index_in_dim", "index_take", "integer_pow",
        "integer_pow_p", "iota", "iota_p", "is_finite", "is_finite_p", "le", "le_p",
        "le_to_p", "lgamma", "lgamma_p", "linear_solve_p", "log", "log1p", "log1p_p",
        "log_p", "logistic", "logistic_p", "lt", "lt_p", "lt_to_p", "map", "max", "max_p",
        "min", "min_p", "mul", "mul_p", "mulhi", "mulhi_p", "ne", "ne_p", "neg", "neg_p",
        "nextafter", "nextafter_p", "not_p", "optimization_barrier",
        "optimization_barrier_p", "or_p", "pad", "pad_p", "padtype_to_pads", "pbroadcast",
        "pcast", "platform_dependent", "pmax", "pmax_p", "pmean", "pmin", "pmin_p",
        "polygamma", "polygamma_p", "population_count", "population_count_p", "pow",
        "pow_p", "ppermute", "ppermute_p", "precv", "psend", "pshuffle", "psum", "psum_p",
        "psum_scatter", "pswapaxes", "ragged_all_to_all", "ragged_all_to_all_p",
        "ragged_dot", "ragged_dot_general", "random_gamma_grad", "real", "real_p",
        "reciprocal", "reduce", "reduce_and", "reduce_and_p", "reduce_max", "reduce_max_p",
        "reduce_min", "reduce_min_p", "reduce_or", "reduce_or_p", "reduce_p",
        "reduce_precision", "reduce_precision_p", "reduce_prod", "reduce_prod_p",
        "reduce_sum", "reduce_sum_p", "reduce_window", "reduce_window_max_p",
        "reduce_window_min_p", "reduce_window_p", "reduce_window_shape_tuple",
        "reduce_window_sum_p", "reduce_xor", "reduce_xor_p",
        "regularized_incomplete_beta_p", "rem", "rem_p", "reshape", "reshape_p", "rev",
        "rev_p", "rng_bit_generator", "rng_bit_generator_p", "rng_uniform", "rng_uniform_p",
        "round", "round_p", "rsqrt", "rsqrt_p", "scaled_dot", "scan", "scan_p", "scatter",
        "scatter_add", "scatter_add_p", "scatter_apply", "scatter_max", "scatter_max_p",
        "scatter_min", "scatter_min_p", "scatter_mul", "scatter_mul_p", "scatter_p",
        "scatter_sub", "scatter_sub_p", "select", "select_and_gather_add_p",
        "select_and_scatter_add_p", "select_and_scatter_p", "select_n", "select_n_p",
        "shape_as_value", "sharding_constraint_p", "shift_left", "shift_left_p",
        "shift_right_arithmetic", "shift_right_arithmetic_p", "shift_right_logical",
        "shift_right_logical_p", "sign", "sign_p", "sin", "sin_p", "sinh", "sinh_p",
        "slice", "slice_in_dim", "slice_p", "sort", "sort_key_val", "sort_p", "split",
        "split_p", "sqrt", "sqrt_p", "square", "square_p", "squeeze", "squeeze_p", "stack",
        "stack_p", "stage", "stage_p", "stop_gradient", "stop_gradient_p", "sub", "sub_p",
        "switch", "tan", "tan_p", "tanh", "tanh_p", "tile", "tile_p", "top_k", "top_k_p",
        "transpose", "transpose_p", "unstack", "unstack_p", "while_loop", "while_p",
        "with_sharding_constraint", "xor_p", "zeta", "zeta_p",
    ),
    "jax.lax.linalg": (
        "EigImplementation", "EighImplementation", "SvdAlgorithm", "cholesky", "cholesky_p",
        "cholesky_update", "cholesky_update_p", "eig", "eig_p", "eigh", "eigh_p",
        "hessenberg", "hessenberg_p", "householder_product", "householder_product_p", "lu",
        "lu_p", "lu_pivots_to_permutation", "lu_pivots_to_permutation_p", "ormqr",
        "ormqr_p", "qdwh", "qr", "qr_p", "schur", "schur_p", "svd", "svd_p",
        "symmetric_product", "symmetric_product_p", "triangular_solve",
        "triangular_solve_p", "tridiagonal", "tridiagonal_p", "tridiagonal_solve",
        "tridiagonal_solve_p",
    ),
    "jax.nn": (
        "celu", "dot_product_attention", "elu", "gelu", "get_scaled_dot_general_config",
        "glu", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "identity",
        "leaky_relu", "log1mexp", "log_sigmoid", "log_softmax", "logmeanexp", "logsumexp",
        "mish", "one_hot", "relu", "relu6", "scaled_dot_general", "scaled_matmul", "selu",
        "sigmoid", "silu", "soft_sign", "softmax", "softplus", "sparse_plus",
        "sparse_sigmoid", "squareplus", "standardize", "swish", "tanh",
    ),
    "jax.nn.initializers": (
        "Initializer", "constant", "delta_orthogonal", "glorot_normal", "glorot_uniform",
        "he_normal", "he_uniform", "kaiming_normal", "kaiming_uniform", "lecun_normal",
        "lecun_uniform", "normal", "ones", "orthogonal", "truncated_normal", "uniform",
        "variance_scaling", "xavier_normal", "xavier_uniform", "zeros",
    ),
    "jax.scipy.special": (
        "bernoulli", "bessel_jn", "beta", "betainc", "betaln", "boxcox", "boxcox1p", "comb",
        "dawsn", "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp1", "expi",
        "expit", "expn", "factorial", "fresnel", "gamma", "gammainc", "gammaincc",
        "gammaln", "gammasgn", "hyp1f1", "hyp2f1", "i0", "i0e", "i1", "i1e", "kl_div",
        "log_ndtr", "log_softmax", "loggamma", "logit", "logsumexp", "multigammaln", "ndtr",
        "ndtri", "owens_t", "poch", "polygamma", "rel_entr", "sici", "softmax", "spence",
        "sph_harm_y", "wofz", "xlog1py", "xlogy", "zeta",
    ),
    "jax.scipy.linalg": (
        "block_diag", "cho_factor", "cho_solve", "cholesky", "circulant", "companion",
        "convolution_matrix", "det", "dft", "eigh", "eigh_tridiagonal", "expm",
        "expm_frechet", "fiedler", "fiedler_companion", "funm", "hadamard", "hankel",
        "helmert", "hessenberg", "hilbert", "inv", "invhilbert", "invpascal", "leslie",
        "lu", "lu_factor", "lu_solve", "pascal", "polar", "qr", "qr_multiply", "rsf2csf",
        "schur", "solve", "solve_sylvester", "solve_triangular", "sqrtm", "svd", "toeplitz",
    ),
    "jax.scipy.stats": (
        "gaussian_kde", "mode", "rankdata", "sem",
    ),
    "jax.scipy.signal": (
        "convolve", "convolve2d", "correlate", "correlate2d", "csd", "detrend",
        "fftconvolve", "istft", "stft", "welch",
    ),
    "jax.scipy.optimize": (
        "OptimizeResults", "minimize",
    ),
    "jax.scipy.integrate": (
        "trapezoid",
    ),
    "jax.scipy.ndimage": (
        "map_coordinates",
    ),
    "jax.scipy.fft": (
        "dct", "dctn", "idct", "idctn",
    ),
    "jax.scipy.interpolate": (
        "RegularGridInterpolator",
    ),
    "jax.scipy.cluster.vq": (
        "vq",
    ),
    "jax.scipy.spatial.transform": (
        "Rotation", "Slerp",
    ),
    "jax.scipy.sparse.linalg": (
        "bicgstab", "cg", "gmres",
    ),
    "jax.scipy.stats.bernoulli": (
        "cdf", "logpmf", "pmf", "ppf",
    ),
    "jax.scipy.stats.beta": (
        "cdf", "logcdf", "logpdf", "logsf", "pdf", "sf",
    ),
    "jax.scipy.stats.betabinom": (
        "logpmf", "pmf",
    ),
    "jax.scipy.stats.binom": (
        "logpmf", "pmf",
    ),
    "jax.scipy.stats.cauchy": (
        "cdf", "isf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf",
    ),
    "jax.scipy.stats.chi2": (
        "cdf", "logcdf", "logpdf", "logsf", "pdf", "sf",
    ),
    "jax.scipy.stats.dirichlet": (
        "logpdf", "pdf",
    ),
    "jax.scipy.stats.expon": (
        "cdf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf",
    ),
    "jax.scipy.stats.gamma": (
        "cdf", "logcdf", "logpdf", "logsf", "pdf", "sf",
    ),
    "jax.scipy.stats.gennorm": (
        "cdf", "logpdf", "pdf",
    ),
    "jax.scipy.stats.geom": (
        "logpmf", "pmf",
    ),
    "jax.scipy.stats.gumbel_l": (
        "cdf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf",
    ),
    "jax.scipy.stats.gumbel_r": (
        "cdf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf",
    ),
    "jax.scipy.stats.laplace": (
        "cdf", "logpdf", "pdf",
    ),
    "jax.scipy.stats.logistic": (
        "cdf", "isf", "logpdf", "pdf", "ppf", "sf",
    ),
    "jax.scipy.stats.multinomial": (
        "logpmf", "pmf",
    ),
    "jax.scipy.stats.multivariate_normal": (
        "logpdf", "pdf",
    ),
    "jax.scipy.stats.nbinom": (
        "logpmf", "pmf",
    ),
    "jax.scipy.stats.norm": (
        "cdf", "isf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf",
    ),
    "jax.scipy.stats.pareto": (
        "cdf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf",
    ),
    "jax.scipy.stats.poisson": (
        "cdf", "entropy", "logpmf", "pmf",
    ),
    "jax.scipy.stats.t": (
        "logpdf", "pdf",
    ),
    "jax.scipy.stats.truncnorm": (
        "cdf", "logcdf", "logpdf", "logsf", "pdf", "sf",
    ),
    "jax.scipy.stats.uniform": (
        "cdf", "logpdf", "pdf", "ppf",
    ),
    "jax.scipy.stats.vonmises": (
        "logpdf", "pdf",
    ),
    "jax.scipy.stats.wrapcauchy": (
        "logpdf", "pdf",
    ),
}
# fmt: on


_PRIMITIVE = (
    "a primitive object of JAX's: funcdiff's primitives are internal (funcdiff._src.lax), "
    "public only where users write rules on them"
)
_XLA = "an XLA-specific knob of JAX's (tokens, effects, platforms, shape polymorphism)"
_TYPES = "a type for XLA's precision, algorithm or accuracy choices, which funcdiff does not take"
_SHARDING = "multi-device communication or sharding: funcdiff computes on one CPU"
_NOT_YET = "not implemented yet"
_NO_MODULE = "the module does not exist in funcdiff yet"

ABSENT: dict[str, dict[str, str]] = {
    "jax.lax": {
        **dict.fromkeys(
            [
                n
                for n in JAX_NAMES["jax.lax"]
                if n.endswith("_p")
                and n
                not in (
                    "conv_general_dilated_p",
                    "reduce_window_max_p",
                    "reduce_window_min_p",
                    "reduce_window_sum_p",
                )
            ],
            _PRIMITIVE,
        ),
        **dict.fromkeys(
            ["AccuracyMode", "DotAlgorithm", "DotAlgorithmPreset", "PrecisionLike", "Tolerance"],
            _TYPES,
        ),
        **dict.fromkeys(
            [
                "after_all",
                "create_token",
                "composite",
                "dce_sink",
                "platform_dependent",
                "shape_as_value",
                "stage",
            ],
            _XLA,
        ),
        **dict.fromkeys(["pbroadcast", "pcast", "precv", "psend", "ragged_all_to_all"], _SHARDING),
        "ConvGeneralDilatedDimensionNumbers": "a type alias; funcdiff.lax.ConvDimensionNumbers "
        "is the class",
        "DotDimensionNumbers": "a type alias: dot_general takes the nested tuples",
        "RaggedDotDimensionNumbers": "ragged_dot_general does not exist (ragged_dot does)",
        "dtype": "funcdiff.numpy.dtype / numpy.dtype give the dtype of a value",
        **dict.fromkeys(
            [
                "conv_general_dilated_local",
                "conv_general_permutations",
                "conv_transpose_shape_tuple",
                "ragged_dot_general",
                "rng_uniform",
                "scaled_dot",
                "scatter_apply",
            ],
            _NOT_YET,
        ),
        **dict.fromkeys(
            ["igamma_grad_a", "random_gamma_grad"],
            "derivative helpers of JAX's rules: funcdiff's igamma and gamma sampler "
            "differentiate themselves",
        ),
    },
    "jax.lax.linalg": {
        **dict.fromkeys([n for n in JAX_NAMES["jax.lax.linalg"] if n.endswith("_p")], _PRIMITIVE),
        **dict.fromkeys(
            ["EigImplementation", "EighImplementation", "SvdAlgorithm"],
            "a choice of XLA's algorithm: funcdiff calls LAPACK through NumPy",
        ),
    },
    "jax.scipy.special": dict.fromkeys(
        [
            "hyp1f1",
            "hyp2f1",
            "sph_harm_y",
            "wofz",
        ],
        _NOT_YET,
    ),
    "jax.scipy.linalg": {},
    **{m: dict.fromkeys(JAX_NAMES[m], _NO_MODULE) for m in ("jax.scipy.spatial.transform",)},
    **{
        f"jax.scipy.stats.{d}": dict.fromkeys(JAX_NAMES[f"jax.scipy.stats.{d}"], _NOT_YET)
        for d in ("betabinom", "gennorm", "multinomial", "wrapcauchy")
    },
}


def _module(name: str):
    try:
        return importlib.import_module(name.replace("jax", "funcdiff", 1))
    except ImportError:
        return None


@pytest.mark.parametrize("jax_module", list(JAX_NAMES))
def test_every_jax_name_is_here_or_absent_with_a_reason(jax_module):
    assert_here_or_absent(
        jax_module,
        JAX_NAMES[jax_module],
        ABSENT.get(jax_module, {}),
        _module(jax_module),
        jax_module.replace("jax", "funcdiff", 1),
    )


@pytest.mark.parametrize("jax_module", list(JAX_NAMES))
def test_absent_names_are_really_absent(jax_module):
    assert_absent_is_true(
        jax_module, JAX_NAMES[jax_module], ABSENT.get(jax_module, {}), _module(jax_module)
    )


def test_the_modules_funcdiff_has_cover_most_of_jax():
    """jax.nn and the stats distributions completely; jax.lax's functions (primitive objects
    aside) mostly: count them."""
    for m in ["jax.nn", *(m for m in JAX_NAMES if m.startswith("jax.scipy.stats."))]:
        if m not in ABSENT:
            assert all(hasattr(_module(m), n) for n in JAX_NAMES[m]), m
    lax = _module("jax.lax")
    functions = [n for n in JAX_NAMES["jax.lax"] if not n.endswith("_p")]
    assert sum(hasattr(lax, n) for n in functions) >= 170
