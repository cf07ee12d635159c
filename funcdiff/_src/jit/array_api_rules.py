"""The Array API lowering rules: each writes a primitive with the functions of the Array API
standard (``xp.sin(a)``), for `jit` on a namespace other than NumPy (`backends.Backend` calls
them from the table `api_rules`, keyed by primitive object).

A primitive computed by one function or operator of the standard declares it in its own
block (``define_primitive(..., array_api="sin")``, or ``"+"``), and its rule here is built
from that record (`rules_of[p].array_api`); so does a primitive the standard has no
equivalent for (``lacks={"array_api": why}``), which `UNSUPPORTED` collects, keyed likewise.
The rules written out below are those with logic of their own (casts, rounding modes,
reductions, shapes, `dot_general`, linear algebra), keyed by primitive object. Also here:
`ELEMENTWISE`, the
primitives computed element by element with broadcasting; and `dtype`, the expression naming
a dtype in the namespace. The rules of the primitives that run sub-programs are in
`array_api_calls.py`.

A rule is ``rule(ctx, *operand_names, **params) -> str``, as for NumPy
(`interpreters/lowering_rules.py`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from funcdiff._src.core import Primitive
from funcdiff._src.errors import BackendError
from funcdiff._src.interpreters.lowering_rules import LoweringContext

# The op modules whose primitives are read from their records (`rules_of`) are imported
# first, for those records to be there: `array_api` or ``lacks={"array_api": why}``.
from funcdiff._src.lax import (  # noqa: F401
    bits,
    convolution,
    decompositions,
    dynamic_slicing,
    elementwise,
    indexing,
    linalg,
    reductions,
    schur,
    sorting,
    special,
    spectral,
    transcendental,
    tridiagonal,
    windowed,
)
from funcdiff._src.lax import fft as fft_lax
from funcdiff._src.lax import shape as lax_shape
from funcdiff._src.lax._define import rules_of

Rule = Callable[..., str]


def dtype(d: Any) -> str:
    """The expression naming dtype `d` in the namespace (``xp.float64``...)."""
    name = np.dtype(d).name
    if name not in _API_DTYPES:
        raise BackendError(f"jit: dtype {name} is not an Array API dtype")
    return f"xp.{name}"


_API_DTYPES = {
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float32",
    "float64",
    "complex64",
    "complex128",
}


def own_rule_calls_program(rule: Rule) -> bool:
    return getattr(rule, "calls_program", False)


# ---- the lowering rules ---------------------------------------------------------------------
# Keyed by primitive object, as NumPy's (`lowering_rules.lower_rules`). A rule is
# ``rule(ctx, *operand_names, **params) -> str`` as for NumPy.

api_rules: dict[Primitive, Rule] = {}

# Primitives with no Array API equivalent, and why: their blocks declare it with
# ``lacks={"array_api": why}`` (docs/how-to/scaling-out.md lists them).
UNSUPPORTED: dict[Primitive, str] = {
    p: r.lacks["array_api"] for p, r in rules_of.items() if "array_api" in r.lacks
}


def _op(symbol: str) -> Rule:
    binary = symbol != "u-"

    def rule(ctx: LoweringContext, *xs: str) -> str:
        return f"({xs[0]} {symbol} {xs[1]})" if binary else f"(-{xs[0]})"

    rule.python_operator = True  # type: ignore[attr-defined]  # takes Python scalars as is
    return rule


def _fn(name: str) -> Rule:
    def rule(ctx: LoweringContext, *xs: str) -> str:
        return f"xp.{name}({', '.join(xs)})"

    return rule


# The primitives whose block names the standard's function or operator computing them
# (``array_api="sin"``): all elementwise.
_DECLARED = {p: r.array_api for p, r in rules_of.items() if r.array_api is not None}
for _prim, _name in _DECLARED.items():
    api_rules[_prim] = _fn(_name) if _name.isidentifier() else _op(_name)
    api_rules[_prim].declared = _name  # type: ignore[attr-defined]  # (checked by the tests)


def _rule(primitive: Primitive) -> Callable[[Rule], Rule]:
    def register(rule: Rule) -> Rule:
        api_rules[primitive] = rule
        return rule

    return register


def _out_dtype(ctx: LoweringContext, k: int = 0) -> str:
    return dtype(ctx.out_avals[k].dtype)


def _extremum(name: str, compare: str) -> Rule:
    """`maximum`/`minimum`, which the standard defines for real operands only; complex ones
    are ordered lexicographically (real part, then imaginary part) and a NaN propagates, as
    NumPy does (the first operand's NaN when both have one)."""

    def rule(ctx: LoweringContext, x: str, y: str) -> str:
        if all(a.dtype.kind != "c" for a in ctx.in_avals):
            return f"xp.{name}({x}, {y})"
        rx, ix, ry, iy = f"xp.real({x})", f"xp.imag({x})", f"xp.real({y})", f"xp.imag({y})"
        nan_x = f"(xp.isnan({rx}) | xp.isnan({ix}))"
        nan_y = f"(xp.isnan({ry}) | xp.isnan({iy}))"
        order = f"(({rx} {compare} {ry}) | (({rx} == {ry}) & ({ix} {compare} {iy})))"
        return f"xp.where({nan_x} | (~{nan_y} & {order}), {x}, {y})"

    return rule


api_rules[elementwise.max_p] = _extremum("maximum", ">")
api_rules[elementwise.min_p] = _extremum("minimum", "<")


@_rule(elementwise.rem_p)
def _rem(ctx, x, y):
    # C's fmod: the remainder takes the sign of the dividend.
    return f"(xp.sign({x}) * xp.remainder(xp.abs({x}), xp.abs({y})))"


@_rule(elementwise.round_p)
def _round(ctx, x, *, rounding_method=1):
    if int(rounding_method) == 1:  # to nearest even
        return f"xp.round({x})"
    # Half away from zero: x - trunc(x) is exact.
    return (
        f"(lambda t: t + xp.sign({x}) * xp.astype(xp.abs({x} - t) >= 0.5, "
        f"{_out_dtype(ctx)}))(xp.trunc({x}))"
    )


api_rules[elementwise.real_p] = lambda ctx, x: (
    f"xp.real({x})" if ctx.in_avals[0].dtype.kind == "c" else x
)
api_rules[elementwise.imag_p] = lambda ctx, x: (
    f"xp.imag({x})" if ctx.in_avals[0].dtype.kind == "c" else f"xp.zeros_like({x})"
)
api_rules[transcendental.rsqrt_p] = lambda ctx, x: f"(1 / xp.sqrt({x}))"
api_rules[elementwise.integer_pow_p] = lambda ctx, x, *, y: (
    f"({x} * {x})" if y == 2 else f"({x} ** {y})"
)
api_rules[elementwise.stop_gradient_p] = lambda ctx, x: x
api_rules[elementwise.clamp_p] = lambda ctx, lo, x, hi: f"xp.minimum(xp.maximum({x}, {lo}), {hi})"


@_rule(transcendental.logistic_p)
def _logistic(ctx, x):
    if ctx.in_avals[0].dtype.kind == "f":  # no overflow for large |x|
        return f"xp.exp(-xp.logaddexp(xp.zeros_like({x}), -{x}))"
    return f"(1 / (1 + xp.exp(-{x})))"


@_rule(elementwise.complex_p)
def _complex(ctx, x, y):
    c = _out_dtype(ctx)
    return f"(xp.astype({x}, {c}) + xp.astype({y}, {c}) * 1j)"


@_rule(elementwise.convert_element_type_p)
def _convert(ctx, x, *, new_dtype, weak_type=False):
    if ctx.in_avals[0].dtype.kind == "c" and np.dtype(new_dtype).kind != "c":
        x = f"xp.real({x})"
    return f"xp.astype({x}, {dtype(new_dtype)})"


@_rule(elementwise.select_n_p)
def _select_n(ctx, which, *cases):
    if ctx.in_avals[0].dtype.kind == "b":
        return f"xp.where({which}, {cases[1]}, {cases[0]})"
    expr = cases[-1]
    if len(cases) == 1:
        return f"xp.broadcast_to({expr}, {ctx.param(ctx.out_avals[0].shape)})"
    for k in range(len(cases) - 2, -1, -1):
        expr = f"xp.where({which} == {k}, {cases[k]}, {expr})"
    return expr


def _reduction(name: str, keep_dtype: bool = False) -> Rule:
    def rule(ctx, x, *, axes):
        kw = f", dtype={dtype(ctx.in_avals[0].dtype)}" if keep_dtype else ""
        return f"xp.{name}({x}, axis={ctx.param(tuple(axes))}{kw})"

    return rule


api_rules[reductions.reduce_sum_p] = _reduction("sum", keep_dtype=True)
api_rules[reductions.reduce_prod_p] = _reduction("prod", keep_dtype=True)
def _lex_first(xp: Any, flat: Any, largest: bool) -> Any:
    """The index along the last axis of complex `flat`'s first extreme element in the
    lexicographic order (real part, then imaginary part), or of its first NaN, as NumPy's
    `max`/`argmax` (the standard orders no complex numbers)."""
    r, i = xp.real(flat), xp.imag(flat)
    nan = xp.isnan(r) | xp.isnan(i)
    extreme, fill = (xp.max, -math.inf) if largest else (xp.min, math.inf)
    best_r = extreme(xp.where(nan, fill, r), axis=-1, keepdims=True)
    on_best = (r == best_r) & ~nan
    best_i = extreme(xp.where(on_best, i, fill), axis=-1, keepdims=True)
    pick = xp.where(xp.any(nan, axis=-1, keepdims=True), nan, on_best & (i == best_i))
    return xp.argmax(xp.astype(pick, xp.int8), axis=-1, keepdims=True)


def _lex_extreme(xp: Any, x: Any, axes: tuple[int, ...], largest: bool) -> Any:
    keep = [d for d in range(x.ndim) if d not in axes]
    size = math.prod(x.shape[d] for d in axes)  # (explicit: -1 is ambiguous for size 0)
    flat = xp.reshape(xp.permute_dims(x, (*keep, *axes)), (*[x.shape[d] for d in keep], size))
    return xp.take_along_axis(flat, _lex_first(xp, flat, largest), axis=-1)[..., 0]


def _lex_arg(xp: Any, x: Any, axis: int, largest: bool) -> Any:
    flat = xp.moveaxis(x, axis, -1)
    return _lex_first(xp, flat, largest)[..., 0]


def _lexicographic(real: Rule, helper: Callable[..., Any], largest: bool) -> Rule:
    """`real` for real operands; for complex ones, `helper` (`_lex_extreme` or `_lex_arg`)."""

    def rule(ctx, x, **params):
        if ctx.in_avals[0].dtype.kind != "c":
            return real(ctx, x, **params)
        where = tuple(params["axes"]) if "axes" in params else params["axis"]
        out = f"{ctx.const(helper, 'f')}(xp, {x}, {ctx.param(where)}, {largest})"
        if "index_dtype" in params:
            return f"xp.astype({out}, {dtype(params['index_dtype'])})"
        return out

    return rule


api_rules[reductions.reduce_max_p] = _lexicographic(_reduction("max"), _lex_extreme, True)
api_rules[reductions.reduce_min_p] = _lexicographic(_reduction("min"), _lex_extreme, False)


def _logical_reduction(name: str, prim: str) -> Rule:
    def rule(ctx, x, *, axes):
        if ctx.in_avals[0].dtype.kind != "b":
            raise BackendError(
                f"jit: primitive '{prim}' on integers (a bitwise reduction) has "
                "no Array API equivalent"
            )
        return f"xp.{name}({x}, axis={ctx.param(tuple(axes))})"

    return rule


api_rules[reductions.reduce_and_p] = _logical_reduction("all", "reduce_and")
api_rules[reductions.reduce_or_p] = _logical_reduction("any", "reduce_or")


def _arg_reduction(name: str) -> Rule:
    def rule(ctx, x, *, axis, index_dtype):
        return f"xp.astype(xp.{name}({x}, axis={axis}), {dtype(index_dtype)})"

    return rule


api_rules[reductions.argmax_p] = _lexicographic(_arg_reduction("argmax"), _lex_arg, True)
api_rules[reductions.argmin_p] = _lexicographic(_arg_reduction("argmin"), _lex_arg, False)


def _real_sort_only(ctx: LoweringContext, name: str) -> None:
    if ctx.in_avals[0].dtype.kind == "c":
        raise BackendError(
            f"jit: '{name}' of complex operands has no Array API equivalent (the standard sorts "
            "real numbers only); sort complex arrays with jit on NumPy arrays"
        )


@_rule(sorting.argsort_p)
def _argsort(ctx, x, *, dimension, descending):
    _real_sort_only(ctx, "argsort")
    return (
        f"xp.astype(xp.argsort({x}, axis={dimension}, descending={bool(descending)}, "
        f"stable=True), xp.int64)"
    )


@_rule(sorting.sort_p)
def _sort(ctx, x, *, dimension, descending):
    _real_sort_only(ctx, "sort")
    out = f"xp.sort({x}, axis={dimension}, stable=True)"
    return f"xp.flip({out}, axis={dimension})" if descending else out


@_rule(reductions.cumsum_p)
def _cumsum(ctx, x, *, axis, reverse):
    if reverse:
        x = f"xp.flip({x}, axis={axis})"
    out = f"xp.cumulative_sum({x}, axis={axis}, dtype={dtype(ctx.in_avals[0].dtype)})"
    return f"xp.flip({out}, axis={axis})" if reverse else out


# -- shapes --


def _to_out_shape(ctx, x, **_):
    return f"xp.reshape({x}, {ctx.param(ctx.out_avals[0].shape)})"


for _prim in (lax_shape.reshape_p, lax_shape.squeeze_p, lax_shape.expand_dims_p):
    api_rules[_prim] = _to_out_shape


@_rule(lax_shape.broadcast_in_dim_p)
def _broadcast_in_dim(ctx, x, *, shape, broadcast_dimensions):
    expanded = [1] * len(shape)
    for i, d in enumerate(broadcast_dimensions):
        expanded[d] = ctx.in_avals[0].shape[i]
    if tuple(expanded) != ctx.in_avals[0].shape:
        x = f"xp.reshape({x}, {ctx.param(tuple(expanded))})"
    return f"xp.broadcast_to({x}, {ctx.param(tuple(shape))})"


api_rules[lax_shape.transpose_p] = lambda ctx, x, *, permutation: (
    f"xp.permute_dims({x}, {ctx.param(tuple(permutation))})"
)
api_rules[lax_shape.rev_p] = lambda ctx, x, *, dimensions: (
    f"xp.flip({x}, axis={ctx.param(tuple(dimensions))})"
)
api_rules[lax_shape.concatenate_p] = lambda ctx, *xs, dimension: (
    f"xp.concat([{', '.join(xs)}], axis={dimension})"
)


@_rule(lax_shape.slice_p)
def _slice(ctx, x, *, start_indices, limit_indices, strides):
    steps = strides or (1,) * len(start_indices)
    parts = [f"{a}:{b}:{s}" for a, b, s in zip(start_indices, limit_indices, steps)]
    if not parts:
        return x
    return f"{x}[{', '.join(parts)}{',' if len(parts) == 1 else ''}]"


def _pad(xp: Any, x: Any, value: Any, config: tuple) -> Any:
    pos_shape, inner = [], []
    for n, (lo, hi, interior) in zip(x.shape, config):
        dilated = n + (n - 1) * interior if n else 0
        lo_p = max(lo, 0)
        pos_shape.append(lo_p + dilated + max(hi, 0))
        inner.append(slice(lo_p, lo_p + dilated, interior + 1))
    out = xp.zeros(tuple(pos_shape), dtype=x.dtype) + value
    out[tuple(inner)] = x
    return out[
        tuple(slice(-min(lo, 0), size + min(hi, 0)) for size, (lo, hi, _) in zip(pos_shape, config))
    ]


api_rules[lax_shape.pad_p] = lambda ctx, x, v, *, padding_config: (
    f"{ctx.const(_pad, 'f')}(xp, {x}, {v}, {ctx.param(tuple(map(tuple, padding_config)))})"
)


def _clamped(shape: tuple, starts: tuple, sizes: tuple) -> tuple:
    return tuple(
        slice(s, s + k)
        for s, k in ((min(max(int(s), 0), n - k), k) for s, n, k in zip(starts, shape, sizes))
    )


def _dynamic_slice(x: Any, *starts: Any, sizes: tuple) -> Any:
    return x[_clamped(x.shape, starts, sizes)]


def _dynamic_update_slice(xp: Any, x: Any, update: Any, *starts: Any) -> Any:
    out = xp.asarray(x, copy=True)
    out[_clamped(x.shape, starts, update.shape)] = update
    return out


api_rules[dynamic_slicing.dynamic_slice_p] = lambda ctx, x, *starts, slice_sizes: (
    f"{ctx.const(_dynamic_slice, 'f')}({', '.join([x, *starts])}, "
    f"sizes={ctx.param(tuple(slice_sizes))})"
)
api_rules[dynamic_slicing.dynamic_update_slice_p] = lambda ctx, x, u, *starts: (
    f"{ctx.const(_dynamic_update_slice, 'f')}({', '.join(['xp', x, u, *starts])})"
)


# -- products and linear algebra --


def _dot_general(xp: Any, x: Any, y: Any, dimension_numbers: tuple) -> Any:
    """dot_general with batch dimensions: (batch, free, contracted) @ (batch, contracted, free)
    as one matmul over flattened dimensions."""
    (xc, yc), (xb, yb) = dimension_numbers
    xf = [d for d in range(x.ndim) if d not in xc and d not in xb]
    yf = [d for d in range(y.ndim) if d not in yc and d not in yb]
    batch = [x.shape[d] for d in xb]
    k = math.prod(x.shape[d] for d in xc)
    xm = xp.reshape(
        xp.permute_dims(x, (*xb, *xf, *xc)), (*batch, math.prod(x.shape[d] for d in xf), k)
    )
    ym = xp.reshape(
        xp.permute_dims(y, (*yb, *yc, *yf)), (*batch, k, math.prod(y.shape[d] for d in yf))
    )
    return xp.reshape(
        xp.matmul(xm, ym), (*batch, *(x.shape[d] for d in xf), *(y.shape[d] for d in yf))
    )


@_rule(linalg.dot_general_p)
def _dot_general_rule(ctx, x, y, *, dimension_numbers):
    (xc, yc), (xb, _) = dimension_numbers
    if not xb:
        return f"xp.tensordot({x}, {y}, axes=({ctx.param(tuple(xc))}, {ctx.param(tuple(yc))}))"
    return f"{ctx.const(_dot_general, 'f')}(xp, {x}, {y}, {ctx.param(dimension_numbers)})"


api_rules[decompositions.cholesky_p] = lambda ctx, a: f"xp.linalg.cholesky({a})"
api_rules[spectral.qr_p] = lambda ctx, a, *, full_matrices: (
    f"(lambda r: (r[0], r[1]))(xp.linalg.qr({a}, "
    f"mode={ctx.const('complete' if full_matrices else 'reduced')}))"
)


@_rule(spectral.eigh_p)
def _eigh(ctx, a, *, lower):
    if not lower:  # the upper triangle of a is the lower one of its conjugate transpose
        a = f"xp.conj(xp.matrix_transpose({a}))"
    return f"(lambda r: (r[1], r[0]))(xp.linalg.eigh({a}))"


@_rule(spectral.svd_p)
def _svd(ctx, a, *, full_matrices, compute_uv):
    if not compute_uv:
        return f"(xp.linalg.svdvals({a}),)"
    return f"(lambda r: (r[1], r[0], r[2]))(xp.linalg.svd({a}, full_matrices={full_matrices}))"


def _triangular_solve(
    xp: Any,
    a: Any,
    b: Any,
    left_side: bool,
    lower: bool,
    transpose_a: bool,
    conjugate_a: bool,
    unit_diagonal: bool,
) -> Any:
    a = xp.tril(a) if lower else xp.triu(a)
    if unit_diagonal:
        n = a.shape[-1]
        eye = xp.eye(n, dtype=a.dtype)
        a = a * (1 - eye) + eye
    if conjugate_a:
        a = xp.conj(a)
    if transpose_a:
        a = xp.matrix_transpose(a)
    if left_side:
        return xp.linalg.solve(a, b)
    # x a = b  <=>  a^T x^T = b^T
    return xp.matrix_transpose(xp.linalg.solve(xp.matrix_transpose(a), xp.matrix_transpose(b)))


api_rules[decompositions.triangular_solve_p] = lambda ctx, a, b, **p: (
    f"{ctx.const(_triangular_solve, 'f')}(xp, {a}, {b}, "
    + ", ".join(f"{k}={bool(v)}" for k, v in p.items())
    + ")"
)


def _tridiagonal_solve(xp: Any, dl: Any, d: Any, du: Any, b: Any) -> Any:
    """The banded system as a dense one (the linalg extension has no banded solver)."""
    m = d.shape[-1]
    a = (d[..., :, None] * xp.eye(m, dtype=d.dtype)
         + dl[..., :, None] * xp.eye(m, k=-1, dtype=d.dtype)
         + du[..., :, None] * xp.eye(m, k=1, dtype=d.dtype))
    return xp.linalg.solve(a, b)


api_rules[tridiagonal.tridiagonal_solve_p] = lambda ctx, dl, d, du, b, **p: (
    f"{ctx.const(_tridiagonal_solve, 'f')}(xp, {dl}, {d}, {du}, {b})"
)


@_rule(fft_lax.fft_p)
def _fft(ctx, x, *, fft_type, fft_lengths):
    name = fft_lax._NUMPY_FUNCTIONS[fft_type]
    axes = ctx.param(fft_lax._axes(ctx.in_avals[0].ndim, fft_lengths))
    s = f", s={ctx.param(tuple(fft_lengths))}" if fft_type is fft_lax.FftType.IRFFT else ""
    return f"xp.astype(xp.fft.{name}({x}{s}, axes={axes}), {_out_dtype(ctx)})"


# Primitives computed element by element with broadcasting (see `Backend.begin`).
ELEMENTWISE = {
    *_DECLARED,
    elementwise.rem_p,
    elementwise.round_p,
    transcendental.rsqrt_p,
    elementwise.integer_pow_p,
    elementwise.stop_gradient_p,
    elementwise.clamp_p,
    transcendental.logistic_p,
    elementwise.complex_p,
    elementwise.convert_element_type_p,
    elementwise.select_n_p,
    elementwise.real_p,
    elementwise.imag_p,
}
