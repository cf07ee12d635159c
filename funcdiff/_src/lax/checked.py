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

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from funcdiff._src import core
from funcdiff._src.core import ShapedArray
from funcdiff._src.errors import PrimitiveError
from funcdiff._src.lax import elementwise as ew

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
            f"Convert explicitly with lax.convert_element_type, or use jnp.{jnp_name}, which "
            "promotes." + core._at_user_line()
        )


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

    @functools.wraps(fun)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            args = signature.bind(*args, **kwargs).args
        avals = [core.get_aval(a) for a in args]
        positions = same
        if exponent is not None and avals[exponent].dtype.kind in "iu":
            positions = tuple(i for i in same if i != exponent)
            base = avals[0]
            if not avals[exponent].weak_type and base.dtype.kind in "fc":
                # JAX's pow takes an integer array exponent; the primitive takes the base's dtype
                args = (args[0], ew.convert_element_type(args[exponent], base.dtype))
                avals = [base, core.get_aval(args[1])]
        if len(positions) > 1:
            _check_same_dtypes(
                fun.__name__.removeprefix("lax_"), jnp_name, [avals[i] for i in positions]
            )
        if primitive is not None and not any(isinstance(a, core.Tracer) for a in args):
            primitive.abstract(avals, {})  # traced operands meet the same rule when bound
        return fun(*args)

    return checked


# Unary functions: only the dtype rule of their primitive (sin takes no integers).
abs = _checked(ew.abs, ew.abs_p)  # noqa: A001
acos = _checked(ew.acos, ew.acos_p)
acosh = _checked(ew.acosh, ew.acosh_p)
asin = _checked(ew.asin, ew.asin_p)
asinh = _checked(ew.asinh, ew.asinh_p)
atan = _checked(ew.atan, ew.atan_p)
atanh = _checked(ew.atanh, ew.atanh_p)
cbrt = _checked(ew.cbrt, ew.cbrt_p)
ceil = _checked(ew.ceil, ew.ceil_p)
cos = _checked(ew.cos, ew.cos_p)
cosh = _checked(ew.cosh, ew.cosh_p)
erf = _checked(ew.erf, ew.erf_p)
erfc = _checked(ew.erfc, ew.erfc_p)
exp = _checked(ew.exp, ew.exp_p)
expm1 = _checked(ew.expm1, ew.expm1_p)
floor = _checked(ew.floor, ew.floor_p)
imag = _checked(ew.imag, ew.imag_p)
is_finite = _checked(ew.is_finite, ew.is_finite_p)
log = _checked(ew.log, ew.log_p)
log1p = _checked(ew.log1p, ew.log1p_p)
logistic = _checked(ew.logistic, ew.logistic_p)
neg = _checked(ew.neg, ew.neg_p)
real = _checked(ew.real, ew.real_p)
rsqrt = _checked(ew.rsqrt, ew.rsqrt_p)
sign = _checked(ew.sign, ew.sign_p)
sin = _checked(ew.sin, ew.sin_p)
sinh = _checked(ew.sinh, ew.sinh_p)
sqrt = _checked(ew.sqrt, ew.sqrt_p)
tan = _checked(ew.tan, ew.tan_p)
tanh = _checked(ew.tanh, ew.tanh_p)
bitwise_not = _checked(ew.bitwise_not, ew.not_p)

# n-ary functions: one dtype for the operands; the error names the jnp function that promotes.
add = _checked(ew.add, ew.add_p, same=(0, 1), jnp_name="add")
sub = _checked(ew.sub, ew.sub_p, same=(0, 1), jnp_name="subtract")
mul = _checked(ew.mul, ew.mul_p, same=(0, 1), jnp_name="multiply")
div = _checked(ew.lax_div, None, same=(0, 1), jnp_name="divide")
rem = _checked(ew.rem, ew.rem_p, same=(0, 1), jnp_name="remainder")
max = _checked(ew.max, ew.max_p, same=(0, 1), jnp_name="maximum")  # noqa: A001
min = _checked(ew.min, ew.min_p, same=(0, 1), jnp_name="minimum")  # noqa: A001
atan2 = _checked(ew.atan2, ew.atan2_p, same=(0, 1), jnp_name="arctan2")
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
pow = _checked(ew.pow, ew.pow_p, same=(0, 1), jnp_name="power", exponent=1)  # noqa: A001
select = _checked(ew.select, None, same=(1, 2), jnp_name="where")
clamp = _checked(ew.clamp, ew.clamp_p, same=(0, 1, 2), jnp_name="clip")
