"""`funcdiff.lax`'s elementwise functions as users call them: JAX's `lax` dtype rules, checked
the same way in eager code and under transformations.

The primitives promote their operands as NumPy does (`funcdiff.numpy` relies on that), but
JAX's `lax` functions take no implicit promotion: `lax.add(1, 1.0)` and `lax.add(x32, x64)`
raise, and `lax.sin(1)` raises because `sin` takes no integers. The wrappers here check the
operands' abstract values before binding, whether they are tracers or concrete arrays, so eager
code gets the errors that `jit` gives. Inside funcdiff, the unchecked functions of
`elementwise.py` are used.
"""

from __future__ import annotations

import builtins
import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcdiff._src import core
from funcdiff._src.array import Array
from funcdiff._src.core import ShapedArray
from funcdiff._src.errors import FuncdiffTypeError, PrimitiveError
from funcdiff._src.interpreters import partial_eval as pe
from funcdiff._src.lax import bits as bits_
from funcdiff._src.lax import bitwise as bw
from funcdiff._src.lax import composed as cp
from funcdiff._src.lax import conditionals as _cond  # noqa: F401 (registers cond's rules)
from funcdiff._src.lax import convolution as conv_
from funcdiff._src.lax import cumulative as cum
from funcdiff._src.lax import dynamic_slicing as ds
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax import fft as fft_
from funcdiff._src.lax import gather_scatter as gs
from funcdiff._src.lax import loops as _loops  # noqa: F401 (registers while's and scan's rules)
from funcdiff._src.lax import reductions as red
from funcdiff._src.lax import shape as sh
from funcdiff._src.lax import slicing as sl
from funcdiff._src.lax import sorting as so
from funcdiff._src.lax import special as special_
from funcdiff._src.lax import transcendental as tr
from funcdiff._src.lax import windowed as win
from funcdiff._src.tree_util import tree_flatten, tree_unflatten

# Kinds a Python scalar may join: an int scalar takes any integer dtype, and so on.
_FAMILY = {"b": "b", "i": "iu", "u": "iu", "f": "f", "c": "c"}


def _check_same_dtypes(name: str, jnp_name: str, avals: Sequence[ShapedArray]) -> None:
    """JAX's rule for `lax`'s n-ary functions: one dtype for all operands. A Python scalar
    (weakly typed) takes the dtype of the arrays when it is of the same kind."""
    strong = {a.dtype for a in avals if not a.weak_type}
    if len(strong) > 1:
        ok = False
    elif strong:
        family = _FAMILY[next(iter(strong)).kind]
        ok = all(a.dtype.kind in family for a in avals)
    else:
        ok = len({_FAMILY[a.dtype.kind] for a in avals}) == 1
    if not ok:
        got = ", ".join(("weak " if a.weak_type else "") + str(a.dtype) for a in avals)
        raise PrimitiveError(
            f"lax.{name} requires operands of one dtype, got {got}. A Python scalar takes the "
            "dtype of the arrays it meets only when of the same kind (int, float, complex). "
            f"Convert explicitly with lax.convert_element_type, or use {jnp_name}, which "
            "promotes." + core._at_user_line()
        )


def _signature(x: Any) -> Any:
    """What the checks depend on, quick to compute: the dtype and shape of an array (a
    tracer's abstract value, with its weak type), the type of a Python scalar."""
    t = type(x)
    if t is np.ndarray or t is Array:
        return x.dtype, x.shape
    if t in core._PY_SCALARS:
        return t
    return core.get_aval(x)


def _cast_weak_arrays(
    args: tuple[Any, ...], avals: Sequence[ShapedArray], positions: tuple[int, ...]
) -> tuple[tuple[Any, ...], bool]:
    """A weakly typed array (not a scalar) among operands of one dtype takes the strong
    operands' dtype here, as a Python scalar would: the primitive's NumPy computation (and
    jit's) would otherwise let its own precision promote (weak float64 + float32)."""
    strong = [avals[i].dtype for i in positions if not avals[i].weak_type]
    if not strong or not any(avals[i].weak_type and avals[i].shape for i in positions):
        return args, False
    out = list(args)
    for i in positions:
        if avals[i].weak_type and avals[i].shape and avals[i].dtype != strong[0]:
            out[i] = ew.convert_element_type(args[i], strong[0])
    return tuple(out), True


def _checked(
    fun: Callable[..., Any],
    primitive: core.Primitive | None,
    *,
    same: tuple[int, ...] = (),
    jnp_name: str = "",
    exponent: int | None = None,
) -> Callable[..., Any]:
    """`fun` with its operands checked: those at positions `same` must share one dtype, and
    concrete operands go through `primitive`'s shape and dtype rule, as traced ones do when
    bound. `exponent`: the position of `pow`'s exponent, which may be of any integer dtype."""

    signature = inspect.signature(fun)
    passed: set[tuple] = set()  # operand signatures that passed, and need no conversion

    @functools.wraps(fun)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            args = signature.bind(*args, **kwargs).args
        key = tuple(map(_signature, args))
        if key in passed:
            return fun(*args)
        avals = [core.get_aval(a) for a in args]
        positions = same
        converted = False
        if exponent is not None and avals[exponent].dtype.kind in "iu":
            positions = tuple(i for i in same if i != exponent)
            base = avals[0]
            if not avals[exponent].weak_type and base.dtype.kind in "fc":
                # JAX's pow takes an integer array exponent; the primitive takes the base's dtype
                args = (args[0], ew.convert_element_type(args[exponent], base.dtype))
                avals = [base, core.get_aval(args[1])]
                converted = True
        if len(positions) > 1:
            _check_same_dtypes(
                fun.__name__.removeprefix("lax_"),
                jnp_name if "." in jnp_name else f"jnp.{jnp_name}",
                [avals[i] for i in positions],
            )
            args, cast = _cast_weak_arrays(args, avals, positions)
            converted = converted or cast
        if primitive is not None and not any(isinstance(a, core.Tracer) for a in args):
            primitive.abstract(avals, {})  # traced operands meet the same rule when bound
        if not converted:
            if len(passed) > 1024:
                passed.clear()
            passed.add(key)
        return fun(*args)

    return checked


# Unary functions: only the dtype rule of their primitive (sin takes no integers).
abs = _checked(ew.abs, ew.abs_p)  # noqa: A001
acos = _checked(tr.acos, tr.acos_p)
acosh = _checked(tr.acosh, tr.acosh_p)
asin = _checked(tr.asin, tr.asin_p)
asinh = _checked(tr.asinh, tr.asinh_p)
atan = _checked(tr.atan, tr.atan_p)
atanh = _checked(tr.atanh, tr.atanh_p)
cbrt = _checked(tr.cbrt, tr.cbrt_p)
ceil = _checked(ew.ceil, ew.ceil_p)
cos = _checked(tr.cos, tr.cos_p)
cosh = _checked(tr.cosh, tr.cosh_p)
erf = _checked(tr.erf, tr.erf_p)
erfc = _checked(tr.erfc, tr.erfc_p)
erf_inv = _checked(special_.erf_inv, special_.erf_inv_p)
exp = _checked(tr.exp, tr.exp_p)
expm1 = _checked(tr.expm1, tr.expm1_p)
floor = _checked(ew.floor, ew.floor_p)
imag = _checked(ew.imag, ew.imag_p)
is_finite = _checked(ew.is_finite, ew.is_finite_p)
log = _checked(tr.log, tr.log_p)
log1p = _checked(tr.log1p, tr.log1p_p)
logistic = _checked(tr.logistic, tr.logistic_p)
neg = _checked(ew.neg, ew.neg_p)
real = _checked(ew.real, ew.real_p)
rsqrt = _checked(tr.rsqrt, tr.rsqrt_p)
sign = _checked(ew.sign, ew.sign_p)
sin = _checked(tr.sin, tr.sin_p)
sinh = _checked(tr.sinh, tr.sinh_p)
sqrt = _checked(tr.sqrt, tr.sqrt_p)
tan = _checked(tr.tan, tr.tan_p)
tanh = _checked(tr.tanh, tr.tanh_p)
bitwise_not = _checked(ew.bitwise_not, ew.not_p)

# n-ary functions: one dtype for the operands; the error names the jnp function that promotes.
add = _checked(ew.add, ew.add_p, same=(0, 1), jnp_name="add")
sub = _checked(ew.sub, ew.sub_p, same=(0, 1), jnp_name="subtract")
mul = _checked(ew.mul, ew.mul_p, same=(0, 1), jnp_name="multiply")
div = _checked(ew.lax_div, None, same=(0, 1), jnp_name="divide")
rem = _checked(ew.rem, ew.rem_p, same=(0, 1), jnp_name="remainder")
max = _checked(ew.max, ew.max_p, same=(0, 1), jnp_name="maximum")  # noqa: A001
min = _checked(ew.min, ew.min_p, same=(0, 1), jnp_name="minimum")  # noqa: A001
atan2 = _checked(tr.atan2, tr.atan2_p, same=(0, 1), jnp_name="arctan2")
complex = _checked(ew.complex, ew.complex_p, same=(0, 1), jnp_name="complex")  # noqa: A001
eq = _checked(ew.eq, ew.eq_p, same=(0, 1), jnp_name="equal")
ne = _checked(ew.ne, ew.ne_p, same=(0, 1), jnp_name="not_equal")
lt = _checked(ew.lt, ew.lt_p, same=(0, 1), jnp_name="less")
le = _checked(ew.le, ew.le_p, same=(0, 1), jnp_name="less_equal")
gt = _checked(ew.gt, ew.gt_p, same=(0, 1), jnp_name="greater")
ge = _checked(ew.ge, ew.ge_p, same=(0, 1), jnp_name="greater_equal")
bitwise_and = _checked(ew.bitwise_and, ew.and_p, same=(0, 1), jnp_name="bitwise_and")
bitwise_or = _checked(ew.bitwise_or, ew.or_p, same=(0, 1), jnp_name="bitwise_or")
bitwise_xor = _checked(ew.bitwise_xor, ew.xor_p, same=(0, 1), jnp_name="bitwise_xor")
shift_left = _checked(ew.shift_left, ew.shift_left_p, same=(0, 1), jnp_name="left_shift")
pow = _checked(tr.pow, tr.pow_p, same=(0, 1), jnp_name="power", exponent=1)  # noqa: A001
select = _checked(ew.select, None, same=(1, 2), jnp_name="where")
clamp = _checked(ew.clamp, ew.clamp_p, same=(0, 1, 2), jnp_name="clip")

# The special functions and nextafter: floating operands (their primitives' dtype rules), of one
# dtype where there are several, as JAX's `lax` takes them; `funcdiff.scipy.special` promotes.
_SPECIAL = "funcdiff.scipy.special."
bessel_i0e = _checked(special_.bessel_i0e, special_.bessel_i0e_p)
bessel_i1e = _checked(special_.bessel_i1e, special_.bessel_i1e_p)
digamma = _checked(special_.digamma, special_.digamma_p)
lgamma = _checked(special_.lgamma, special_.lgamma_p)
igamma = _checked(special_.igamma, special_.igamma_p, same=(0, 1), jnp_name=_SPECIAL + "gammainc")
igammac = _checked(
    special_.igammac, special_.igammac_p, same=(0, 1), jnp_name=_SPECIAL + "gammaincc"
)
polygamma = _checked(
    special_.polygamma,
    special_.polygamma_p,
    same=(0, 1),
    jnp_name=_SPECIAL + "polygamma",
)
zeta = _checked(special_.zeta, special_.zeta_p, same=(0, 1), jnp_name=_SPECIAL + "zeta")
betainc = _checked(
    special_.betainc, special_.betainc_p, same=(0, 1, 2), jnp_name=_SPECIAL + "betainc"
)
nextafter = _checked(bits_.nextafter, bits_.nextafter_p, same=(0, 1), jnp_name="nextafter")


# ---- the other functions: jit's shape and dtype rules, by tracing once per signature --------

_traced_ok: dict[tuple, bool] = {}


def _static_key(x: Any) -> Any:
    try:
        hash(x)
    except TypeError:
        return None
    return (type(x), x)


def _checked_by_trace(fun: Callable[..., Any]) -> Callable[..., Any]:
    """`fun` that, called on concrete arrays, first meets the rules it meets under `jit`: it
    is traced once per signature on abstract values of its array arguments (Python values
    stay as they are, as values a jitted function closes over), and then runs eagerly. Under
    a transformation the primitives check their operands as they are bound."""

    @functools.wraps(fun)
    def checked(*args: Any, **kwargs: Any) -> Any:
        leaves, treedef = tree_flatten((args, kwargs))
        if core._state.dynamic.level or any(isinstance(x, core.Tracer) for x in leaves):
            return fun(*args, **kwargs)
        abstract = [isinstance(x, np.ndarray) for x in leaves]
        key_parts = [core.get_aval(x) if a else _static_key(x) for x, a in zip(leaves, abstract)]
        key = (fun, treedef, *key_parts) if None not in key_parts else None
        if key is None or key not in _traced_ok:
            _trace_check(fun, leaves, abstract, treedef)
            if key is not None:
                if len(_traced_ok) > 4096:
                    _traced_ok.clear()
                _traced_ok[key] = True
        return fun(*args, **kwargs)

    return checked


def _trace_check(fun, leaves, abstract, treedef) -> None:
    def flat(*tracers: Any) -> list[Any]:
        it = iter(tracers)
        a, kw = tree_unflatten(treedef, [next(it) if m else x for x, m in zip(leaves, abstract)])
        fun(*a, **kw)
        return []

    try:
        pe.trace_to_jaxpr(flat, [core.get_aval(x) for x, m in zip(leaves, abstract) if m])
    except FuncdiffTypeError:
        pass  # an argument jit would need as a concrete value: not a dtype rule; run eagerly


def _same_dtypes(fun: Callable[..., Any], positions: tuple[int, ...], alternative: str):
    """`fun` whose operands at `positions` must share one dtype (see `_check_same_dtypes`)."""
    signature = inspect.signature(fun)

    @functools.wraps(fun)
    def checked(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs).args
        avals = [core.get_aval(bound[i]) for i in positions]
        _check_same_dtypes(fun.__name__, alternative, avals)
        return fun(*args, **kwargs)

    return checked


argmax = _checked_by_trace(red.argmax)
argmin = _checked_by_trace(red.argmin)
argsort = _checked_by_trace(so.argsort)
broadcast_in_dim = _checked_by_trace(sh.broadcast_in_dim)
broadcast_to = _checked_by_trace(sh.broadcast_to)
concatenate = _checked_by_trace(sh.concatenate)
conj = _checked_by_trace(ew.lax_conj)
conv = _checked_by_trace(conv_.conv)
conv_general_dilated = _checked_by_trace(conv_.conv_general_dilated)
conv_transpose = _checked_by_trace(conv_.conv_transpose)
conv_with_general_padding = _checked_by_trace(conv_.conv_with_general_padding)
convert_element_type = _checked_by_trace(ew.convert_element_type)
cumlogsumexp = _checked_by_trace(cum.cumlogsumexp)
cummax = _checked_by_trace(cum.cummax)
cummin = _checked_by_trace(cum.cummin)
cumprod = _checked_by_trace(cum.cumprod)
cumsum = _checked_by_trace(red.cumsum)
dynamic_index_in_dim = _checked_by_trace(sl.dynamic_index_in_dim)
dynamic_slice = _checked_by_trace(ds.dynamic_slice)
dynamic_slice_in_dim = _checked_by_trace(sl.dynamic_slice_in_dim)
dynamic_update_index_in_dim = _checked_by_trace(sl.dynamic_update_index_in_dim)
dynamic_update_slice = _checked_by_trace(ds.dynamic_update_slice)
dynamic_update_slice_in_dim = _checked_by_trace(sl.dynamic_update_slice_in_dim)
expand_dims = _checked_by_trace(sh.expand_dims)
fft = _checked_by_trace(fft_.fft)
gather = _checked_by_trace(gs.gather)
index_in_dim = _checked_by_trace(sl.index_in_dim)
integer_pow = _checked_by_trace(ew.integer_pow)
pad = _checked_by_trace(_same_dtypes(sh.pad, (0, 1), "jnp.pad"))
reduce_and = _checked_by_trace(red.reduce_and)
reduce_max = _checked_by_trace(red.reduce_max)
reduce_min = _checked_by_trace(red.reduce_min)
reduce_or = _checked_by_trace(red.reduce_or)
reduce_prod = _checked_by_trace(red.reduce_prod)
reduce_sum = _checked_by_trace(red.reduce_sum)
reduce_window = _checked_by_trace(win.reduce_window)
reshape = _checked_by_trace(sh.reshape)
rev = _checked_by_trace(sh.rev)
round = _checked_by_trace(ew.lax_round)  # noqa: A001
scatter = _checked_by_trace(_same_dtypes(gs.scatter, (0, 2), "x.at[...]"))
scatter_add = _checked_by_trace(_same_dtypes(gs.scatter_add, (0, 2), "x.at[...]"))
scatter_max = _checked_by_trace(_same_dtypes(gs.scatter_max, (0, 2), "x.at[...]"))
scatter_min = _checked_by_trace(_same_dtypes(gs.scatter_min, (0, 2), "x.at[...]"))
scatter_mul = _checked_by_trace(_same_dtypes(gs.scatter_mul, (0, 2), "x.at[...]"))
scatter_sub = _checked_by_trace(_same_dtypes(gs.scatter_sub, (0, 2), "x.at[...]"))
select_n = _checked_by_trace(ew.select_n)
slice = _checked_by_trace(sh.slice)  # noqa: A001
slice_in_dim = _checked_by_trace(sl.slice_in_dim)


def sort(
    operand: Any,
    dimension: int = -1,
    is_stable: bool = True,
    num_keys: int = 1,
    *,
    descending: bool = False,
) -> Any:
    """Sort an array along `dimension`, or several arrays of one shape together by the first
    `num_keys` of them (lexicographically, the first key primary), as JAX's `lax.sort`.

    NaNs go last (first when `descending`); the sort is always stable (`is_stable` is
    accepted for JAX compatibility). The derivative follows each element to its sorted place.
    `descending` is funcdiff's addition.

    !!! Example
        ```python
        import numpy as np
        from funcdiff import lax

        print(lax.sort(np.array([3.0, 1.0, 2.0])))
        keys, values = lax.sort((np.array([2, 1, 2]), np.array([10.0, 20.0, 30.0])))
        print(keys, values)
        ```
    """
    if not isinstance(operand, list | tuple):
        if num_keys != 1:
            raise ValueError(f"lax.sort: num_keys={num_keys} needs a sequence of operands")
        return so.sort(operand, dimension, descending)
    operands = list(operand)
    if not 1 <= num_keys <= len(operands):
        raise ValueError(
            f"lax.sort: num_keys={num_keys} must be between 1 and the number of operands, "
            f"{len(operands)}"
        )
    shapes = {core.get_aval(x).shape for x in operands}
    if len(shapes) != 1:
        raise PrimitiveError(f"lax.sort: the operands must have one shape, got {sorted(shapes)}")
    ndim = len(shapes.pop())
    dim = int(dimension) % builtins.max(ndim, 1)  # this module's max is lax.max
    perm = None  # stable sorts from the last key to the first: lexicographic order
    for key in reversed(operands[:num_keys]):
        k = key if perm is None else so.take_along(key, perm, dim)
        order = so.argsort(k, dim, descending)
        perm = order if perm is None else so.take_along(perm, order, dim)
    return tuple(so.take_along(x, perm, dim) for x in operands)


sort = _checked_by_trace(sort)
square = _checked_by_trace(ew.square)
squeeze = _checked_by_trace(sh.squeeze)
top_k = _checked_by_trace(sl.top_k)
transpose = _checked_by_trace(sh.transpose)


# ---- compositions of primitives (composed.py, bitwise.py), with jit's rules when eager ------

shift_right_logical = _checked(bw.shift_right_logical, None, same=(0, 1), jnp_name="right_shift")
shift_right_arithmetic = _checked(
    bw.shift_right_arithmetic, None, same=(0, 1), jnp_name="right_shift"
)
population_count = _checked_by_trace(bw.population_count)
clz = _checked_by_trace(bw.clz)
reduce_xor = _checked_by_trace(bw.reduce_xor)
mulhi = _checked(bw.mulhi, None, same=(0, 1), jnp_name="jnp.multiply on wider integers")
bitcast_convert_type = _checked_by_trace(bits_.bitcast_convert_type)
reduce_precision = _checked_by_trace(bits_.reduce_precision)
reciprocal = _checked_by_trace(cp.reciprocal)
exp2 = _checked_by_trace(cp.exp2)
dot = _checked_by_trace(cp.dot)
sort_key_val = _checked_by_trace(cp.sort_key_val)
index_take = _checked_by_trace(cp.index_take)
