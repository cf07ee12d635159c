"""funcdiff's top-level namespace and small modules against JAX 0.10.2's: every public name
of `jax`, `jax.tree`, `jax.tree_util`, `jax.debug`, `jax.errors`, `jax.typing`, `jax.dtypes`,
`jax.random`, `jax.flatten_util`, `jax.experimental`, `jax.custom_derivatives`,
`jax.ad_checkpoint` and the example libraries is in the matching funcdiff module or in
`ABSENT` with the reason. The lists (made with ``[n for n in dir(module) if not
n.startswith("_")]``, submodules left out) are written here so that the tests need no JAX.
`funcdiff.numpy` has its own test, test_numpy_completeness.py.
"""

from __future__ import annotations

import importlib

import pytest

# fmt: off
JAX_NAMES: dict[str, tuple[str, ...]] = {
    "jax": (
        "Array", "Device", "NamedSharding", "P", "Ref", "ShapeDtypeStruct", "Shard", "ad",
        "allow_f16_reductions", "array_garbage_collection_guard", "auto_pcast",
        "block_until_ready", "check_tracer_leaks", "checking_leaks", "checkpoint",
        "checkpoint_policies", "clear_caches", "closure_convert", "config",
        "copy_to_host_async", "custom_gradient", "custom_jvp", "custom_vjp", "debug_infs",
        "debug_key_reuse", "debug_nans", "default_backend", "default_device",
        "default_matmul_precision", "default_prng_impl", "device_count", "device_get",
        "device_put", "devices", "disable_jit", "ds", "effects_barrier", "empty_ref",
        "enable_checks", "enable_custom_prng", "enable_x64", "ensure_compile_time_eval",
        "eval_shape", "explain_cache_misses", "float0", "free_ref", "freeze", "fwd_and_bwd",
        "grad", "hessian", "host_count", "host_id", "host_ids", "jacfwd", "jacobian",
        "jacrev", "jax2tf_associative_scan_reductions", "jit", "jvp", "legacy_prng_key",
        "linear_transpose", "linearize", "live_arrays", "local_device_count",
        "local_devices", "log_compiles", "make_array_from_callback",
        "make_array_from_process_local_data", "make_array_from_single_device_arrays",
        "make_jaxpr", "make_mesh", "make_user_context", "memory", "named_call",
        "named_scope", "new_ref", "no_execution", "no_tracing", "numpy_dtype_promotion",
        "numpy_rank_promotion", "pmap", "print_environment_info", "process_count",
        "process_index", "process_indices", "pure_callback", "remat",
        "remove_size_one_mesh_axis_from_type", "reshard", "set_mesh", "shard_map", "smap",
        "softmax_custom_jvp", "thread_guard", "threefry_partitionable", "transfer_guard",
        "transfer_guard_device_to_device", "transfer_guard_device_to_host",
        "transfer_guard_host_to_device", "typeof", "value_and_grad", "vjp", "vmap",
    ),
    "jax.tree": (
        "all", "broadcast", "flatten", "flatten_with_path", "leaves", "leaves_with_path",
        "map", "map_with_path", "reduce", "reduce_associative", "static", "structure",
        "transpose", "unflatten",
    ),
    "jax.tree_util": (
        "DictKey", "FlattenedIndexKey", "GetAttrKey", "KeyEntry", "KeyPath", "Partial",
        "PyTreeDef", "SequenceKey", "all_leaves", "default_registry", "flatten_one_level",
        "flatten_one_level_with_keys", "is_tree_node", "keystr", "register_dataclass",
        "register_pytree_node", "register_pytree_node_class", "register_pytree_with_keys",
        "register_pytree_with_keys_class", "register_static", "tree_all", "tree_broadcast",
        "tree_flatten", "tree_flatten_with_path", "tree_leaves", "tree_leaves_with_path",
        "tree_map", "tree_map_with_path", "tree_reduce", "tree_reduce_associative",
        "tree_structure", "tree_transpose", "tree_unflatten", "treedef_children",
        "treedef_is_leaf", "treedef_tuple",
    ),
    "jax.debug": (
        "DebugEffect", "OrderedDebugEffect", "breakpoint", "callback",
        "inspect_array_sharding", "log", "print", "visualize_array_sharding",
        "visualize_sharding",
    ),
    "jax.errors": (
        "ConcretizationTypeError", "InconclusiveDimensionOperation", "JAXIndexError",
        "JAXTypeError", "JaxRuntimeError", "JaxprTypeError", "KeyReuseError",
        "NonConcreteBooleanIndexError", "TracerArrayConversionError",
        "TracerBoolConversionError", "TracerIntegerConversionError",
        "UnexpectedTracerError",
    ),
    "jax.typing": (
        "ArrayLike", "DTypeLike",
    ),
    "jax.dtypes": (
        "TypePromotionError", "bfloat16", "canonicalize_dtype", "extended", "finfo",
        "float0", "iinfo", "issubdtype", "itemsize_bits", "prng_key", "result_type",
        "scalar_type_of",
    ),
    "jax.random": (
        "PRNGKey", "ball", "bernoulli", "beta", "binomial", "bits", "categorical", "cauchy",
        "chisquare", "choice", "clone", "dirichlet", "double_sided_maxwell", "exponential",
        "f", "fold_in", "gamma", "generalized_normal", "geometric", "gumbel", "key",
        "key_data", "key_dtype", "key_impl", "laplace", "loggamma", "logistic", "lognormal",
        "maxwell", "multinomial", "multivariate_normal", "normal", "orthogonal", "pareto",
        "permutation", "poisson", "rademacher", "randint", "random_gamma_p", "rayleigh",
        "split", "t", "triangular", "truncated_normal", "uniform", "wald", "weibull_min",
        "wrap_key_data",
    ),
    "jax.flatten_util": (
        "ravel_pytree",
    ),
    "jax.custom_derivatives": (
        "CustomVJPPrimal", "SymbolicZero", "closure_convert", "custom_gradient", "custom_jvp",
        "custom_jvp_call_p", "custom_vjp", "custom_vjp_call_p", "custom_vjp_primal_tree_values",
        "linear_call", "remat_opt_p", "zero_from_primal",
    ),
    "jax.ad_checkpoint": (
        "Offloadable", "Recompute", "Saveable", "checkpoint_name", "checkpoint_policies",
        "print_saved_residuals",
    ),
    "jax.experimental": (
        "EArray", "cur_qdd", "io_callback", "primal_tangent_dtype",
    ),
    "jax.example_libraries.stax": (
        "AvgPool", "BatchNorm", "Conv", "Conv1DTranspose", "ConvTranspose", "Dense",
        "Dropout", "Elu", "Exp", "FanInConcat", "FanInSum", "FanOut", "Flatten", "Gelu",
        "GeneralConv", "GeneralConvTranspose", "Identity", "LeakyRelu", "LogSoftmax",
        "MaxPool", "Relu", "Selu", "Sigmoid", "Softmax", "Softplus", "SumPool", "Tanh",
        "elementwise", "parallel", "serial", "shape_dependent",
    ),
    "jax.example_libraries.optimizers": (
        "JoinPoint", "Optimizer", "OptimizerState", "adagrad", "adam", "adamax",
        "clip_grads", "constant", "exponential_decay", "inverse_time_decay", "l2_norm",
        "make_schedule", "momentum", "nesterov", "optimizer", "pack_optimizer_state",
        "piecewise_constant", "polynomial_decay", "rmsprop", "rmsprop_momentum", "sgd",
        "sm3", "unpack_optimizer_state",
    ),
}
# fmt: on

# The funcdiff module standing for each JAX module.
FUNCDIFF_MODULE = {
    "jax": "funcdiff",
    **{
        f"jax.{m}": f"funcdiff.{m}"
        for m in (
            "tree",
            "tree_util",
            "debug",
            "errors",
            "typing",
            "dtypes",
            "random",
            "flatten_util",
            "experimental",
            "custom_derivatives",
            "ad_checkpoint",
        )
    },
    "jax.example_libraries.stax": "funcdiff.example_libraries.stax",
    "jax.example_libraries.optimizers": "funcdiff.example_libraries.optimizers",
}

_SHARDING = "multi-device sharding: funcdiff computes on one CPU"
_CONFIG = (
    "a configuration context manager for an option funcdiff does not have (see "
    "funcdiff.config for the options it has)"
)
_REFS = "JAX's experimental mutable array references; funcdiff arrays are immutable"
_DEPRECATED = "deprecated in JAX"
_NOT_YET = "not implemented yet"
_TYPED_KEYS = "typed PRNG keys: funcdiff's keys are raw uint32 arrays (see jax-differences)"
_INTERNAL = "an internal or experimental detail of JAX's tracing, with no user-facing meaning"

ABSENT: dict[str, dict[str, str]] = {
    "jax": {
        **dict.fromkeys(
            [
                "NamedSharding",
                "P",
                "Shard",
                "make_mesh",
                "set_mesh",
                "reshard",
                "shard_map",
                "smap",
                "pmap",
                "make_array_from_callback",
                "make_array_from_process_local_data",
                "make_array_from_single_device_arrays",
                "remove_size_one_mesh_axis_from_type",
                "auto_pcast",
                "process_indices",
                "copy_to_host_async",
                "memory",
                "threefry_partitionable",
                "transfer_guard",
                "transfer_guard_device_to_device",
                "transfer_guard_device_to_host",
                "transfer_guard_host_to_device",
            ],
            _SHARDING,
        ),
        **dict.fromkeys(
            [
                "allow_f16_reductions",
                "debug_key_reuse",
                "default_prng_impl",
                "enable_checks",
                "enable_custom_prng",
                "jax2tf_associative_scan_reductions",
                "legacy_prng_key",
                "no_execution",
                "no_tracing",
                "array_garbage_collection_guard",
                "thread_guard",
            ],
            _CONFIG,
        ),
        **dict.fromkeys(["Ref", "new_ref", "empty_ref", "free_ref", "freeze"], _REFS),
        **dict.fromkeys(["host_count", "host_id", "host_ids", "ad"], _DEPRECATED),
        "fwd_and_bwd": _NOT_YET,
        "ds": _INTERNAL,
        "make_user_context": _INTERNAL,
        "effects_barrier": "funcdiff runs every effect when it is called: nothing to wait for",
        "live_arrays": "funcdiff arrays are NumPy arrays, owned by Python's garbage collector",
        "softmax_custom_jvp": _DEPRECATED,
    },
    "jax.tree": {"static": _NOT_YET},
    "jax.tree_util": {
        "default_registry": _INTERNAL,
    },
    "jax.debug": {
        "DebugEffect": _INTERNAL,
        "OrderedDebugEffect": _INTERNAL,
        "inspect_array_sharding": _SHARDING,
        "visualize_array_sharding": _SHARDING,
        "visualize_sharding": _SHARDING,
    },
    "jax.errors": {
        "InconclusiveDimensionOperation": "shape polymorphism (jax.export) does not exist",
        "JaxRuntimeError": "XLA runtime errors: funcdiff runs NumPy, which raises its own",
        "JaxprTypeError": "funcdiff's checker raises its own errors (config check_passes)",
        "KeyReuseError": "key-reuse checking does not exist",
    },
    "jax.dtypes": {
        "TypePromotionError": "funcdiff follows NumPy's promotion, which has no strict mode",
        "bfloat16": "NumPy has no bfloat16 dtype",
        "extended": _TYPED_KEYS,
        "prng_key": _TYPED_KEYS,
    },
    "jax.random": {
        **dict.fromkeys(["key_dtype", "random_gamma_p"], _TYPED_KEYS),
    },
    "jax.custom_derivatives": {
        **dict.fromkeys(
            [
                "SymbolicZero",
                "zero_from_primal",
                "CustomVJPPrimal",
                "custom_vjp_primal_tree_values",
            ],
            "symbolic zero tangents (custom_jvp(symbolic_zeros=True)) and custom_vjp's "
            "optimize_remat do not exist: rules get dense zeros",
        ),
        "linear_call": _NOT_YET,
        **dict.fromkeys(["custom_jvp_call_p", "custom_vjp_call_p", "remat_opt_p"], _INTERNAL),
    },
    "jax.experimental": {
        "EArray": _INTERNAL,
        "cur_qdd": _INTERNAL,
        "primal_tangent_dtype": _INTERNAL,
    },
}


def _module(name: str):
    try:
        return importlib.import_module(FUNCDIFF_MODULE[name])
    except ImportError:
        return None


def assert_here_or_absent(jax_module, names, absent, module, where):
    """Every JAX name of `jax_module` is in funcdiff's `module` (importable as `where`) or in
    `absent` with a reason (shared with test_jax_namespaces_completeness.py)."""
    missing = [n for n in names if (module is None or not hasattr(module, n)) and n not in absent]
    assert not missing, (
        f"{jax_module}: implement these in {where} or list them in ABSENT with the reason: "
        f"{missing}"
    )


def assert_absent_is_true(jax_module, names, absent, module):
    """An implemented name must leave `absent`, so the list stays true; each absent name is a
    JAX name with a real reason."""
    stale = [n for n in absent if module is not None and hasattr(module, n)]
    assert not stale, f"{jax_module}: now implemented, remove from ABSENT: {stale}"
    unknown = [n for n in absent if n not in names]
    assert not unknown, f"{jax_module}: not a JAX name: {unknown}"
    assert all(len(reason) > 15 for reason in absent.values())


@pytest.mark.parametrize("jax_module", list(JAX_NAMES))
def test_every_jax_name_is_here_or_absent_with_a_reason(jax_module):
    assert_here_or_absent(
        jax_module,
        JAX_NAMES[jax_module],
        ABSENT.get(jax_module, {}),
        _module(jax_module),
        FUNCDIFF_MODULE[jax_module],
    )


@pytest.mark.parametrize("jax_module", list(JAX_NAMES))
def test_absent_names_are_really_absent(jax_module):
    assert_absent_is_true(
        jax_module, JAX_NAMES[jax_module], ABSENT.get(jax_module, {}), _module(jax_module)
    )


def test_most_of_the_top_level_is_here():
    """At least the transformations and everything that means something on one CPU: count
    the implemented names of `jax` (sharding, refs and deprecated names aside)."""
    module = _module("jax")
    here = [n for n in JAX_NAMES["jax"] if hasattr(module, n)]
    assert len(here) >= 40, here


def test_implemented_names_are_the_same_kind_of_object():
    """A name that JAX gives as a class is a class here, and a function a callable."""
    import funcdiff

    for name in ("Array", "Device", "ShapeDtypeStruct"):
        assert isinstance(getattr(funcdiff, name), type), name
    for name in ("eval_shape", "pure_callback", "named_call", "clear_caches", "jit", "vmap"):
        assert callable(getattr(funcdiff, name)), name
