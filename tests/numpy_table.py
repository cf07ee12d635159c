"""The table of public functions under test: every callable of `funcdiff.numpy` (plus
`funcdiff.numpy.linalg.norm`, `funcdiff.nn` and `funcdiff.scipy.special`), each with a NumPy
(or NumPy/`math`-formula) reference, a hypothesis strategy for its arguments, the dtypes to
check values in, and how far it can be differentiated.

`tests/test_numpy_ops.py` runs the generic checks over `RECORDS`; `EXCLUDED` lists (with a
reason) the public names that are not functions to check this way.

A record's `cases(dtype)` strategy draws a `Case`: ``args`` are arrays (traced by
`make_jaxpr`; the inexact ones are differentiated) and ``kwargs`` are static Python values.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple

import numpy as np
from domains import DISTINCT, Domain, draw_array, sample
from hypothesis import strategies as st
from strategies import (
    broadcastable_shapes,
    reduction_axes,
    seeds,
    shapes,
    subsets,
)

import funcdiff.numpy as jnp
from funcdiff import lax, nn
from funcdiff.experimental import ode
from funcdiff.scipy import linalg as scipy_linalg
from funcdiff.scipy import special, stats

F64, F32 = np.dtype(np.float64), np.dtype(np.float32)
C128 = np.dtype(np.complex128)
I32, I64, U8 = np.dtype(np.int32), np.dtype(np.int64), np.dtype(np.uint8)
BOOL = np.dtype(np.bool_)

FLOATS = (F64, F32)
INTS = (I32, I64)
REAL = FLOATS + (I32,)
NUMERIC = FLOATS + (I32, C128)
ALL = FLOATS + (I32, BOOL)


# ---- argument domains -----------------------------------------------------------------------


D = Domain()
POS = Domain(0.2, 3.0, ilo=1, ihi=6)          # log, sqrt, ...
NONZERO = Domain(0.3, 2.0, signed=True, ilo=1, ihi=5)  # integers keep the sign below
UNIT = Domain(-0.8, 0.8, ilo=0, ihi=0)        # arcsin, arctanh
DISCRETE = Domain(-2.0, 2.0, step=0.5, ilo=-2, ihi=2)
SPECIAL = Domain(-2.0, 2.0, specials=True)
NANS = Domain(-2.0, 2.0, specials=True, nan_only=True)
SMALL_INT = Domain(ilo=0, ihi=5)


# ---- records --------------------------------------------------------------------------------


class Case(NamedTuple):
    args: tuple
    kwargs: dict


def case(*args: Any, **kwargs: Any) -> Case:
    return Case(tuple(args), kwargs)


@dataclass(frozen=True, repr=False)
class Record:
    """One function under test.

    - `name`: the public name, dotted below `funcdiff.numpy` for the other namespaces
      (``"linalg.norm"``, ``"nn.relu"``, ``"scipy.special.erf"``); `variant` tells apart
      several records of one function.
    - `fn(*args, **kwargs)`: calls the funcdiff function; `ref`: NumPy's (or a formula).
    - `cases(dtype)`: a strategy of `Case`s; `grad_cases` overrides it for derivatives.
    - `dtypes`: dtypes to compare values in; `grad_dtypes`: dtypes to check derivatives in.
    - `grad_order`: 2 normally; 1 or 0 with `grad_note` saying why; `zero_grad`: the
      function is piecewise constant, so its derivative must be exactly zero; `fixed_args`:
      positions of inexact arguments not to differentiate (a float condition of `where`).
    - `domains`: the per-argument domains of elementwise functions (for the weak-scalar test).
    - `weak`: a Python scalar operand must adopt the array's dtype (``x32 * 2.0`` is f32).
    - `jaxpr`: ``"eval"`` (stage and evaluate), ``"concrete"`` (staging must raise
      `ConcretizationTypeError`) or ``"static"`` (no array arguments to stage).
    - `values`: compare values (False: only shapes and dtypes, e.g. `empty`).
    """

    name: str
    fn: Callable[..., Any]
    ref: Callable[..., Any]
    cases: Callable[[np.dtype], Any]
    dtypes: tuple = FLOATS
    variant: str = ""
    grad_cases: Callable[[np.dtype], Any] | None = None
    grad_dtypes: tuple = (F64,)
    grad_order: int = 2
    grad_note: str = ""
    fixed_args: tuple = ()
    zero_grad: bool = False
    grad_tol: float | None = None
    domains: tuple = ()
    weak: bool = False
    jaxpr: str = "eval"
    values: bool = True
    rtol: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"<record {self.label}>"

    @property
    def label(self) -> str:
        return f"{self.name}[{self.variant}]" if self.variant else self.name

    def tolerance(self, dtype: np.dtype) -> tuple[float, float]:
        """(rtol, atol) for comparing with the reference in `dtype`."""
        if dtype in self.rtol:
            r = self.rtol[dtype]
            return r, r
        if np.dtype(dtype) in (F32, np.dtype(np.complex64)):
            return 2e-5, 2e-6
        return 1e-10, 1e-12


def public(name: str) -> Callable[..., Any]:
    """The funcdiff function of a (dotted) public name."""
    obj: Any = jnp
    if name.startswith("nn."):
        obj, name = nn, name[3:]
    elif name.startswith("scipy.special."):
        obj, name = special, name[len("scipy.special."):]
    elif name.startswith("scipy.stats."):
        obj, name = stats, name[len("scipy.stats."):]
    elif name.startswith("scipy.linalg."):
        obj, name = scipy_linalg, name[len("scipy.linalg."):]
    elif name.startswith("lax."):
        obj, name = lax, name[4:]
    elif name.startswith("experimental.ode."):
        obj, name = ode, name[len("experimental.ode."):]
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


# ---- generic strategies ---------------------------------------------------------------------


@st.composite
def unary_cases(draw, in_dtype, domain=D, min_dims=0, max_dims=3, allow_empty=True,
                **kw_strats):
    shape = draw(shapes(min_dims, max_dims, allow_empty=allow_empty))
    kwargs = {k: draw(s) for k, s in kw_strats.items()}
    return case(draw_array(draw, shape, in_dtype, domain), **kwargs)


@st.composite
def nary_cases(draw, dtype, domains=(D, D), allow_empty=True, dtypes=None):
    shp = draw(broadcastable_shapes(len(domains), allow_empty=allow_empty))
    dts = dtypes or (dtype,) * len(domains)
    return case(*(draw_array(draw, s, dt, d) for s, dt, d in zip(shp, dts, domains)))


def _with_errstate(f: Callable[..., Any]) -> Callable[..., Any]:
    def g(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return f(*args, **kwargs)

    return g


RECORDS: list[Record] = []


def add(name: str, cases, ref: Callable[..., Any] | None = None, fn=None, **opts: Any) -> None:
    if ref is None:
        ref = getattr(np, name)
    if fn is None:
        fn = public(name)
    RECORDS.append(Record(name, fn, ref, cases, **opts))


def unary(name: str, domain: Domain = D, ref=None, **opts: Any) -> None:
    opts.setdefault("domains", (domain,))
    add(name, partial(unary_cases, domain=domain), ref, **opts)


def binary(name: str, d1: Domain = D, d2: Domain = D, ref=None, **opts: Any) -> None:
    opts.setdefault("domains", (d1, d2))
    opts.setdefault("weak", True)
    add(name, partial(nary_cases, domains=(d1, d2)), ref, **opts)


PIECEWISE = dict(grad_order=0, zero_grad=True,
                 grad_note="piecewise constant: the derivative is zero wherever it exists")
NO_GRAD = dict(grad_order=0, grad_note="boolean or integer result: no derivative")

# ---- elementwise: unary ---------------------------------------------------------------------

for _name, _dom in [
    ("sin", D), ("cos", D), ("tan", Domain(-1.2, 1.2, ilo=-1, ihi=1)), ("arcsin", UNIT),
    ("arccos", UNIT), ("arctan", D), ("sinh", D), ("cosh", D), ("tanh", D), ("arcsinh", D),
    ("arccosh", Domain(1.1, 3.0, ilo=1, ihi=5)), ("arctanh", UNIT), ("exp", D), ("exp2", D),
    ("expm1", D), ("log", POS), ("log1p", Domain(-0.8, 3.0, ilo=0, ihi=5)), ("log2", POS),
    ("log10", POS), ("sqrt", POS), ("cbrt", NONZERO), ("deg2rad", D), ("rad2deg", D),
    ("radians", D), ("degrees", D), ("sinc", D), ("fabs", NONZERO),
]:
    unary(_name, _dom, dtypes=REAL)

# (tanh has poles at +-i pi/2: its complex inputs stay inside |Im z| < 1.2.)
for _name, _dom in [("exp", D), ("log", POS), ("sqrt", POS), ("sin", D), ("cos", D),
                    ("tanh", Domain(-1.2, 1.2)), ("expm1", D), ("log1p", POS)]:
    unary(_name, _dom, variant="complex", dtypes=(C128,), grad_dtypes=(C128,))

unary("reciprocal", NONZERO, dtypes=NUMERIC, grad_dtypes=(F64, C128))
unary("square", D, dtypes=NUMERIC, grad_dtypes=(F64, C128))
unary("negative", D, dtypes=NUMERIC, grad_dtypes=(F64, C128))
unary("positive", D, dtypes=NUMERIC, grad_dtypes=(F64, C128))
for _name in ("abs", "absolute"):
    unary(_name, NONZERO, dtypes=NUMERIC + (BOOL,), grad_dtypes=(F64, C128),
          grad_order=2)
unary("sign", NONZERO, dtypes=REAL, **PIECEWISE)
for _name in ("floor", "ceil", "trunc", "fix"):
    unary(_name, D, dtypes=ALL, **PIECEWISE)
unary("rint", D, dtypes=REAL, **PIECEWISE)
for _name in ("round", "around"):
    add(_name, partial(unary_cases, domain=Domain(-30.0, 30.0, ilo=-40, ihi=40),
                       decimals=st.integers(-1, 2)),
        dtypes=REAL, **PIECEWISE)
for _name in ("isfinite", "isnan", "isinf"):
    unary(_name, SPECIAL, dtypes=ALL + (C128,), **NO_GRAD)
for _name in ("real", "imag", "conj", "conjugate"):
    unary(_name, D, dtypes=NUMERIC + (BOOL,), grad_dtypes=(F64, C128))
unary("angle", NONZERO, dtypes=NUMERIC, grad_dtypes=(C128,),
      grad_note="the angle of a real number is piecewise constant; checked on complex input")
add("angle", partial(unary_cases, domain=NONZERO, deg=st.just(True)), variant="deg",
    dtypes=(F64, C128), grad_dtypes=(C128,))
unary("logical_not", D, dtypes=ALL, **NO_GRAD)
for _name in ("invert", "bitwise_not"):
    unary(_name, D, dtypes=(I32, I64, U8, BOOL), **NO_GRAD)
unary("copy", D, dtypes=ALL + (C128,))
add("nan_to_num", partial(unary_cases, domain=SPECIAL), dtypes=FLOATS + (I32, C128),
    grad_dtypes=(F64, C128))
add("nan_to_num", partial(unary_cases, domain=SPECIAL, nan=st.sampled_from([0.0, -1.5]),
                          posinf=st.sampled_from([None, 7.0]),
                          neginf=st.sampled_from([None, -7.0])),
    variant="values", dtypes=FLOATS)

# ---- elementwise: binary --------------------------------------------------------------------

for _name in ("add", "subtract", "multiply"):
    binary(_name, dtypes=NUMERIC, grad_dtypes=(F64, C128))
binary("add", variant="bool", dtypes=(BOOL,), **NO_GRAD)
binary("multiply", variant="bool", dtypes=(BOOL,), **NO_GRAD)
for _name in ("divide", "true_divide"):
    binary(_name, D, NONZERO, dtypes=NUMERIC, grad_dtypes=(F64, C128))
binary("floor_divide", D, NONZERO, dtypes=REAL, **PIECEWISE)
binary("floor_divide", DISCRETE, NONZERO, variant="exact", dtypes=(F64,), **PIECEWISE)


@st.composite
def _between_jumps(draw, dtype):
    """x and y with x / y at least 0.1 away from an integer: finite differences of the
    remainder then never cross one of its jumps."""
    s = draw(broadcastable_shapes(2, allow_empty=True))
    shape = np.broadcast_shapes(*s)
    y = draw_array(draw, s[1], dtype, NONZERO)
    rng = np.random.default_rng(draw(seeds))
    q = rng.integers(-4, 5, size=shape) + rng.uniform(0.1, 0.9, size=shape)
    return case(np.asarray(q * y, dtype), y)


for _name in ("remainder", "mod", "fmod"):
    binary(_name, Domain(-5.0, 5.0, ilo=-9, ihi=9), NONZERO, dtypes=REAL,
           grad_cases=_between_jumps,
           grad_note="the derivative in y is -floor(x/y) (or trunc), exact between the jumps")
binary("power", POS, D, dtypes=FLOATS + (C128,), grad_dtypes=(F64,))
binary("power", D, SMALL_INT, variant="int", dtypes=(I32, I64), **NO_GRAD)
binary("float_power", POS, D, dtypes=FLOATS + (I32,))
add("power", partial(unary_cases, domain=NONZERO, y=st.integers(-3, 4)),
    ref=lambda x, y: np.power(x, float(y)) if y < 0 and x.dtype.kind in "iu" else np.power(x, y),
    fn=lambda x, y: jnp.power(x, y), variant="static_int", dtypes=FLOATS,
    grad_note="x ** n with a static Python int n, including negative bases")
for _name in ("maximum", "minimum"):
    binary(_name, dtypes=REAL + (BOOL,))
    binary(_name, SPECIAL, SPECIAL, variant="nan", dtypes=FLOATS, grad_order=0,
           grad_note="value check of NaN propagation only")
    binary(_name, DISCRETE, DISCRETE, variant="ties", dtypes=(F64,), grad_order=1,
           grad_note="at ties the derivative is shared equally, which is exactly what central"
                     " differences see; the second derivative is zero")
for _name in ("fmax", "fmin"):
    binary(_name, dtypes=REAL)
    binary(_name, SPECIAL, SPECIAL, variant="nan", dtypes=FLOATS, grad_order=0,
           grad_note="value check of NaN handling only")
binary("arctan2", NONZERO, NONZERO, dtypes=REAL)
binary("hypot", NONZERO, NONZERO, dtypes=REAL)
binary("logaddexp", Domain(-3.0, 3.0), Domain(-3.0, 3.0), dtypes=REAL)
binary("logaddexp", SPECIAL, SPECIAL, variant="inf", dtypes=FLOATS, grad_order=0,
       grad_note="value check at infinities only")
binary("logaddexp2", Domain(-3.0, 3.0), Domain(-3.0, 3.0), dtypes=REAL)
binary("copysign", NONZERO, NONZERO, dtypes=REAL)
binary("heaviside", DISCRETE, D, dtypes=REAL,
       grad_cases=partial(nary_cases, domains=(NONZERO, D)),
       grad_note="derivatives are checked away from x1 == 0, where the step jumps")
for _name in ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal"):
    binary(_name, DISCRETE, DISCRETE, dtypes=ALL, **NO_GRAD)
for _name in ("logical_and", "logical_or", "logical_xor"):
    binary(_name, DISCRETE, DISCRETE, dtypes=ALL, **NO_GRAD)
for _name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
    binary(_name, Domain(ilo=-9, ihi=9), Domain(ilo=-9, ihi=9), dtypes=(I32, I64, U8, BOOL),
           **NO_GRAD)
for _name in ("left_shift", "right_shift"):
    binary(_name, Domain(ilo=-9, ihi=9), SMALL_INT, dtypes=(I32, I64, U8), **NO_GRAD)


# where, clip
@st.composite
def _where_cases(draw, dtype):
    s = draw(broadcastable_shapes(3, allow_empty=True))
    return case(draw_array(draw, s[0], BOOL), draw_array(draw, s[1], dtype),
                draw_array(draw, s[2], dtype))


add("where", _where_cases, dtypes=ALL + (C128,), grad_dtypes=(F64, C128))


@st.composite
def _where_mixed_cases(draw, dtype):
    s = draw(broadcastable_shapes(3, allow_empty=True))
    return case(draw_array(draw, s[0], F64, DISCRETE), draw_array(draw, s[1], dtype),
                draw_array(draw, s[2], I32))


add("where", _where_mixed_cases, variant="promote", dtypes=FLOATS, fixed_args=(0,),
    grad_note="a non-boolean condition, and an int32 operand promoted to the float dtype")
add("where", partial(unary_cases, domain=DISCRETE, min_dims=1), variant="nonzero",
    fn=lambda c: jnp.where(c), ref=lambda c: np.where(c), dtypes=ALL, jaxpr="concrete",
    **NO_GRAD)
add("nonzero", partial(unary_cases, domain=DISCRETE, min_dims=1), dtypes=ALL,
    jaxpr="concrete", **NO_GRAD)


def _ref_nonzero_sized(a, size, fill_value=None):
    """JAX's nonzero with a static `size`: truncated, or padded with `fill_value` (0)."""
    fills = fill_value if isinstance(fill_value, tuple) else (fill_value or 0,) * a.ndim
    return tuple(np.concatenate([i[:size], np.full(max(size - len(i), 0), f)]).astype(np.int64)
                 for i, f in zip(np.nonzero(a), fills))


@st.composite
def _sized_nonzero_cases(draw, dtype, min_dims=1):
    shp = draw(shapes(min_dims, 3, allow_empty=True))
    kwargs = {"size": draw(st.integers(0, 7))}
    fill = draw(st.sampled_from([None, -1, 5, "per-dim"]))
    if fill == "per-dim":
        fill = tuple(range(-1, -len(shp) - 1, -1)) if shp else None
    if fill is not None:
        kwargs["fill_value"] = fill
    return case(draw_array(draw, shp, dtype, DISCRETE), **kwargs)


add("nonzero", _sized_nonzero_cases, variant="size", ref=_ref_nonzero_sized, dtypes=ALL,
    **NO_GRAD)
add("where", _sized_nonzero_cases, variant="size", fn=lambda c, **kw: jnp.where(c, **kw),
    ref=_ref_nonzero_sized, dtypes=(F64, BOOL), **NO_GRAD)


@st.composite
def _clip_cases(draw, dtype):
    s = draw(broadcastable_shapes(3, allow_empty=True))
    lo = draw_array(draw, s[1], dtype, Domain(-1.5, 0.0, ilo=-3, ihi=0))
    hi = draw_array(draw, s[2], dtype, Domain(0.1, 1.5, ilo=0, ihi=3))
    return case(draw_array(draw, s[0], dtype), lo, hi)


add("clip", _clip_cases, dtypes=REAL)


@st.composite
def _clip_one_bound(draw, dtype):
    x = draw_array(draw, draw(shapes(allow_empty=True)), dtype)
    if draw(st.booleans()):
        return case(x, a_min=draw(st.sampled_from([-1.0, -0.5, 0.25])))
    return case(x, a_max=draw(st.sampled_from([1.0, 0.5, -0.25])))


add("clip", _clip_one_bound, variant="scalar_bound", dtypes=FLOATS,
    fn=lambda x, a_min=None, a_max=None: jnp.clip(x, a_min, a_max),
    ref=lambda x, a_min=None, a_max=None: np.clip(x, a_min, a_max))


# ---- reductions -----------------------------------------------------------------------------


@st.composite
def _reduction_cases(draw, in_dtype, domain=D, allow_empty=True, int_axis_only=False,
                     keepdims=True, min_dims=0, min_side=1, nonempty_axes=False, **kw_strats):
    shape = draw(shapes(min_dims, 3, min_side=min_side, allow_empty=allow_empty))
    axis = draw(reduction_axes(len(shape), int_only=int_axis_only,
                               allow_empty_tuple=not nonempty_axes))
    kwargs = {"axis": axis}
    if keepdims:
        kwargs["keepdims"] = draw(st.booleans())
    kwargs.update({k: draw(s) for k, s in kw_strats.items()})
    return case(draw_array(draw, shape, in_dtype, domain), **kwargs)


def reduction(name: str, ref=None, **opts: Any) -> None:
    strat_opts = {k: opts.pop(k) for k in ("domain", "allow_empty", "int_axis_only",
                                           "keepdims", "min_side") if k in opts}
    kw = opts.pop("kw", {})
    add(name, partial(_reduction_cases, **strat_opts, **kw), ref, **opts)


reduction("sum", dtypes=NUMERIC + (BOOL,), grad_dtypes=(F64, C128))
reduction("sum", variant="dtype", kw={"dtype": st.sampled_from([F64, F32, C128])},
          dtypes=(F64, F32, I32),
          grad_cases=partial(_reduction_cases, dtype=st.sampled_from([F64, C128])),
          grad_note="derivatives of sums in float64 and complex128")
reduction("prod", domain=Domain(0.5, 1.5, signed=True, ilo=-2, ihi=2),
          dtypes=NUMERIC + (BOOL,), grad_dtypes=(F64, C128))
reduction("prod", variant="zeros", domain=Domain(-1.5, 1.5, step=0.5), dtypes=(F64,),
          grad_note="products with zero factors (and repeated values)")
reduction("mean", dtypes=NUMERIC + (BOOL,), grad_dtypes=(F64, C128),
          grad_cases=partial(_reduction_cases, allow_empty=False),
          grad_note="derivatives on non-empty input (the mean of nothing is NaN)")
for _name in ("var", "std"):
    reduction(_name, kw={"ddof": st.integers(0, 1)}, dtypes=NUMERIC,
              grad_dtypes=(F64, C128),
              grad_cases=partial(_reduction_cases, allow_empty=False, min_side=2,
                                 min_dims=1, nonempty_axes=True, ddof=st.integers(0, 1)),
              grad_note="derivatives where at least two values are reduced (std is sqrt(0), "
                        "not differentiable, for one)")
for _name in ("max", "amax", "min", "amin", "ptp"):
    reduction(_name, allow_empty=False, dtypes=REAL + (BOOL,) if _name != "ptp" else REAL)
for _name in ("all", "any"):
    reduction(_name, domain=DISCRETE, dtypes=ALL + (C128,), **NO_GRAD)
reduction("count_nonzero", domain=DISCRETE, dtypes=ALL, **NO_GRAD)
for _name in ("argmax", "argmin"):
    reduction(_name, allow_empty=False, int_axis_only=True, dtypes=REAL + (BOOL,), **NO_GRAD)
reduction("cumsum", int_axis_only=True, keepdims=False, dtypes=NUMERIC + (BOOL,),
          grad_dtypes=(F64, C128))
reduction("cumsum", variant="dtype", int_axis_only=True, keepdims=False,
          kw={"dtype": st.sampled_from([F64, F32])}, dtypes=(I32, F32),
          grad_cases=partial(_reduction_cases, int_axis_only=True, keepdims=False,
                             dtype=st.just(F64)))
reduction("average", allow_empty=False, dtypes=FLOATS + (I32,))


@st.composite
def _average_weights(draw, dtype):
    shape = draw(shapes(1, 3))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    x = draw_array(draw, shape, dtype)
    if draw(st.booleans()):
        w = draw_array(draw, (shape[axis],), dtype, POS)
    else:
        w = draw_array(draw, shape, dtype, POS)
        axis = draw(st.sampled_from([None, axis]))
    return case(x, w, axis=axis, returned=draw(st.booleans()))


add("average", _average_weights, variant="weights", dtypes=FLOATS,
    fn=lambda a, w, **kw: jnp.average(a, weights=w, **kw),
    ref=lambda a, w, **kw: np.average(a, weights=w, **kw))


@st.composite
def _average_returned(draw, dtype):
    shape = draw(shapes(1, 3))
    return case(draw_array(draw, shape, dtype),
                axis=draw(st.sampled_from([None, 0, -1])), returned=True)


add("average", _average_returned, variant="returned", dtypes=FLOATS)

# ---- sorting and order statistics -----------------------------------------------------------
# Values checks draw ties (a stable sort keeps them in order; NaNs sort last). Derivatives are
# checked on values without ties, so that the sorting permutation is the same at every point
# finite differences evaluate.


def _distinct(draw, shape, dtype) -> np.ndarray:
    return DISTINCT(shape, dtype, seed=draw(seeds))


@st.composite
def _sort_cases(draw, dtype, distinct=False, domain=DISCRETE):
    # (0-d arrays have no axis to sort along: NumPy's error is checked with the values.)
    shape = draw(shapes(1 if distinct else 0, 3, allow_empty=True))
    axis = draw(st.one_of(st.none(), st.integers(-max(len(shape), 1), max(len(shape), 1) - 1)))
    x = _distinct(draw, shape, dtype) if distinct else draw_array(draw, shape, dtype, domain)
    return case(x, axis=axis)


def _sort_descending_ref(x, axis):
    out = np.sort(x, axis=axis)
    return np.flip(out, -1 if axis is None else axis)


add("sort", _sort_cases, dtypes=ALL, grad_cases=partial(_sort_cases, distinct=True))
add("sort", partial(_sort_cases, domain=NANS), variant="nan", dtypes=FLOATS,
    grad_cases=partial(_sort_cases, distinct=True))
add("sort", _sort_cases, variant="descending", dtypes=ALL,
    fn=lambda x, axis: jnp.sort(x, axis, descending=True), ref=_sort_descending_ref,
    grad_cases=partial(_sort_cases, distinct=True))
add("argsort", _sort_cases, dtypes=ALL, ref=lambda x, axis: np.argsort(x, axis, kind="stable"),
    **NO_GRAD)
add("argsort", partial(_sort_cases, domain=NANS), variant="nan", dtypes=FLOATS,
    ref=lambda x, axis: np.argsort(x, axis, kind="stable"), **NO_GRAD)


@st.composite
def _median_cases(draw, dtype, distinct=False, domain=D):
    shape = draw(shapes(0, 3))
    axis = draw(reduction_axes(len(shape)))
    x = _distinct(draw, shape, dtype) if distinct else draw_array(draw, shape, dtype, domain)
    return case(x, axis=axis, keepdims=draw(st.booleans()))


add("median", _median_cases, dtypes=REAL, grad_cases=partial(_median_cases, distinct=True))
add("median", partial(_median_cases, domain=NANS), variant="nan", dtypes=FLOATS,
    grad_cases=partial(_median_cases, distinct=True))


@st.composite
def _quantile_cases(draw, dtype, scale=1.0, distinct=False, domain=D):
    """`a` and `q` (a scalar or a 1-d array; inexact, so differentiated too). For derivatives,
    `q * (n - 1)` stays at least 0.1 away from an integer, where the interpolation has a kink."""
    shape = draw(shapes(0, 3))
    axis = draw(reduction_axes(len(shape)))
    x = _distinct(draw, shape, dtype) if distinct else draw_array(draw, shape, dtype, domain)
    q_dtype = dtype if dtype.kind == "f" else F64
    q_shape = draw(st.sampled_from([(), (1,), (3,)]))
    rng = np.random.default_rng(draw(seeds))
    axes = range(len(shape)) if axis is None else [axis] if isinstance(axis, int) else axis
    n = int(np.prod([shape[a] for a in axes], dtype=np.int64))
    if distinct:  # inside (0, 1), where finite differences stay in range
        k = rng.integers(0, max(n - 1, 1), size=q_shape)
        q = (k + rng.uniform(0.1, 0.9, size=q_shape)) / max(n - 1, 1)
    else:
        q = rng.uniform(0.0, 1.0, size=q_shape)
        q = np.where(rng.random(q_shape) < 0.2, rng.choice([0.0, 1.0], size=q_shape), q)
    return case(x, np.asarray(q * scale, q_dtype), axis=axis, keepdims=draw(st.booleans()))


_QUANTILE_NOTE = ("derivatives in a and q, on values without ties and q away from the kinks "
                  "of the interpolation")
for _name, _scale in (("quantile", 1.0), ("percentile", 100.0)):
    add(_name, partial(_quantile_cases, scale=_scale), dtypes=REAL,
        grad_cases=partial(_quantile_cases, scale=_scale, distinct=True),
        grad_note=_QUANTILE_NOTE)
    add(_name, partial(_quantile_cases, scale=_scale, domain=NANS), variant="nan",
        dtypes=FLOATS, grad_cases=partial(_quantile_cases, scale=_scale, distinct=True),
        grad_note=_QUANTILE_NOTE)

# ---- creation -------------------------------------------------------------------------------

STATIC = dict(jaxpr="static", grad_order=0,
              grad_note="no array arguments: a constant of the static arguments")
_shape_arg = st.one_of(st.integers(0, 4), shapes(0, 3, allow_empty=True))
_dtype_arg = st.sampled_from([None, F64, F32, I32, BOOL, C128])


@st.composite
def _creation_cases(draw, in_dtype, **kw_strats):
    return case(**{k: draw(s) for k, s in kw_strats.items()})


for _name in ("zeros", "ones", "empty"):
    add(_name, partial(_creation_cases, shape=_shape_arg, dtype=_dtype_arg), dtypes=(F64,),
        values=_name != "empty", **STATIC)
add("eye", partial(_creation_cases, N=st.integers(0, 4), M=st.sampled_from([None, 0, 2, 5]),
                   k=st.integers(-3, 3), dtype=_dtype_arg), dtypes=(F64,), **STATIC)
add("identity", partial(_creation_cases, n=st.integers(0, 4), dtype=_dtype_arg),
    dtypes=(F64,), **STATIC)
add("tri", partial(_creation_cases, N=st.integers(0, 4), M=st.sampled_from([None, 0, 2, 5]),
                   k=st.integers(-3, 3), dtype=_dtype_arg), dtypes=(F64,), **STATIC)


@st.composite
def _arange_cases(draw, dtype):
    kind = draw(st.sampled_from(["stop", "int", "float"]))
    if kind == "stop":
        return case(draw(st.integers(0, 6)))
    if kind == "int":
        step = draw(st.sampled_from([1, 2, -1, -3]))
        return case(draw(st.integers(-5, 5)), draw(st.integers(-5, 5)), step,
                    dtype=draw(st.sampled_from([None, F64, I32])))
    step = draw(st.sampled_from([0.5, 0.3, -0.7]))
    return case(draw(st.sampled_from([-1.0, 0.0, 0.25])), draw(st.sampled_from([-2.0, 2.5])),
                step)


add("arange", _arange_cases, dtypes=(F64,), **STATIC)
add("broadcast_shapes", lambda dtype: broadcastable_shapes(3, allow_empty=True).map(
    lambda ss: case(*ss)), dtypes=(F64,), **STATIC)


@st.composite
def _result_type_cases(draw, dtype):
    args = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["array", "dtype", "scalar"]))
        dt = draw(st.sampled_from([F64, F32, I32, I64, U8, BOOL, C128]))
        if kind == "array":
            args.append(np.zeros(2, dt))
        elif kind == "dtype":
            args.append(dt)
        else:
            args.append(draw(st.sampled_from([2, 2.5, True, 1j])))
    return case(*args)


add("result_type", _result_type_cases, dtypes=(F64,), **STATIC)


@st.composite
def _full_cases(draw, dtype):
    shp = draw(shapes(0, 3, allow_empty=True))
    drop = draw(st.integers(0, len(shp)))
    fill_shape = tuple(1 if draw(st.booleans()) else n for n in shp[drop:])
    return case(draw_array(draw, fill_shape, dtype), shape=shp,
                dtype=draw(st.sampled_from([None, F64])))


add("full", _full_cases, fn=lambda f, shape, dtype=None: jnp.full(shape, f, dtype),
    ref=lambda f, shape, dtype=None: np.full(shape, f, dtype), dtypes=NUMERIC + (BOOL,),
    grad_note="differentiable in the fill value")


@st.composite
def _like_cases(draw, dtype, fill=False):
    a = draw_array(draw, draw(shapes(0, 3, allow_empty=True)), dtype)
    kwargs = {"dtype": draw(st.sampled_from([None, F32, I32])),
              "shape": draw(st.sampled_from([None, (2, 3), (0,), 3]))}
    if fill:
        return case(a, draw_array(draw, (), dtype), **kwargs)
    return case(a, **kwargs)


for _name in ("zeros_like", "ones_like", "empty_like"):
    add(_name, _like_cases, dtypes=ALL, values=_name != "empty_like",
        grad_cases=lambda dt: _like_cases(dt).filter(lambda c: c.kwargs["dtype"] != I32),
        grad_note="the result does not depend on the values: the derivative is zero")
add("full_like", partial(_like_cases, fill=True), dtypes=ALL + (C128,),
    grad_cases=lambda dt: _like_cases(dt, fill=True).filter(lambda c: c.kwargs["dtype"] is None),
    grad_note="derivatives with the default dtype (a float32 result loses precision)")


@st.composite
def _linspace_cases(draw, dtype, log=False):
    s = draw(broadcastable_shapes(2, max_dims=2))
    kwargs = {"num": draw(st.integers(0, 6)), "endpoint": draw(st.booleans()),
              "axis": draw(st.integers(-1, 0))}
    if log:
        kwargs["base"] = draw(st.sampled_from([10.0, 2.0, 3]))
    else:
        kwargs["retstep"] = draw(st.booleans())
    return case(draw_array(draw, s[0], dtype), draw_array(draw, s[1], dtype), **kwargs)


add("linspace", _linspace_cases, dtypes=FLOATS + (I32,), rtol={F32: 1e-5},
    grad_cases=lambda dt: _linspace_cases(dt).filter(lambda c: c.kwargs["num"] > 1),
    grad_note="derivatives with at least two samples (the step is NaN otherwise)")
add("logspace", partial(_linspace_cases, log=True), dtypes=FLOATS + (I32,),
    rtol={F32: 1e-5, F64: 1e-12})


@st.composite
def _meshgrid_cases(draw, dtype):
    n = draw(st.integers(1, 3))
    xs = [draw_array(draw, draw(shapes(0, 2, max_side=3, allow_empty=True)), dtype)
          for _ in range(n)]
    return case(*xs, indexing=draw(st.sampled_from(["xy", "ij"])), sparse=draw(st.booleans()))


add("meshgrid", _meshgrid_cases, dtypes=ALL)


@st.composite
def _array_cases(draw, dtype):
    n = draw(st.integers(1, 3))
    shp = draw(shapes(0, 2, allow_empty=True))
    return case(*(draw_array(draw, shp, dtype) for _ in range(n)))


add("array", _array_cases, fn=lambda *xs: jnp.array(list(xs)),
    ref=lambda *xs: np.array(list(xs)), dtypes=ALL + (C128,), grad_dtypes=(F64, C128),
    grad_note="a (nested) list of arrays, stacked")
add("array", partial(unary_cases, ndmin=st.integers(0, 4),
                     dtype=st.sampled_from([None, F64, C128])),
    variant="ndmin", dtypes=ALL, grad_dtypes=(F64,))
add("asarray", _array_cases, fn=lambda *xs: jnp.asarray(list(xs)),
    ref=lambda *xs: np.asarray(list(xs)), dtypes=ALL + (C128,))
add("asarray", partial(unary_cases, dtype=st.sampled_from([None, F64, C128])),
    variant="dtype", dtypes=ALL,
    grad_cases=partial(unary_cases, dtype=st.sampled_from([None, F64])))
add("astype", partial(unary_cases, dtype=st.sampled_from([F64, F32, I32, BOOL, C128])),
    ref=lambda x, dtype: x.astype(dtype), dtypes=ALL + (C128,),
    grad_cases=partial(unary_cases, dtype=st.sampled_from([F64, C128])),
    grad_note="derivatives of casts to float64 and complex128")

# ---- shape queries --------------------------------------------------------------------------

for _name in ("shape", "ndim", "size"):
    add(_name, unary_cases, dtypes=ALL, **NO_GRAD)
add("size", partial(unary_cases, min_dims=1, axis=st.sampled_from([0, -1])), variant="axis",
    dtypes=(F64,), **NO_GRAD)
add("isscalar", unary_cases, dtypes=ALL, ref=lambda x: np.ndim(x) == 0, jaxpr="static",
    grad_order=0, grad_note="a Python bool; like JAX (not NumPy), 0-d arrays are scalars")

# ---- reshaping ------------------------------------------------------------------------------


@st.composite
def _reshape_cases(draw, dtype):
    shp = draw(shapes(0, 3, allow_empty=True))
    size = int(np.prod(shp))
    options = [(size,), shp[::-1], shp + (1,), (1,) + shp, ()]
    if size:
        options.append((-1,))
        if len(shp) >= 2:
            options.append((shp[0], -1))
    new = draw(st.sampled_from([o for o in options if int(np.prod(o)) == size or -1 in o]))
    return case(draw_array(draw, shp, dtype), shape=new)


add("reshape", _reshape_cases, fn=lambda a, shape: jnp.reshape(a, shape),
    ref=lambda a, shape: np.reshape(a, shape), dtypes=ALL)
add("ravel", unary_cases, dtypes=ALL)


@st.composite
def _perm_cases(draw, dtype, allow_none=True):
    shp = draw(shapes(0, 3, allow_empty=True))
    nd = len(shp)
    perm = draw(st.permutations(list(range(nd))))
    perm = [p - nd if draw(st.booleans()) else p for p in perm]
    axes = None if allow_none and draw(st.booleans()) else tuple(perm)
    return case(draw_array(draw, shp, dtype), axes=axes)


add("transpose", _perm_cases, dtypes=ALL + (C128,))
add("permute_dims", partial(_perm_cases, allow_none=False), dtypes=ALL,
    ref=lambda a, axes: np.transpose(a, axes))


@st.composite
def _two_axes(draw, dtype, names=("axis1", "axis2"), min_dims=1):
    shp = draw(shapes(min_dims, 3, allow_empty=True))
    nd = len(shp)
    return case(draw_array(draw, shp, dtype),
                **{n: draw(st.integers(-nd, nd - 1)) for n in names})


add("swapaxes", _two_axes, dtypes=ALL)


@st.composite
def _moveaxis_cases(draw, dtype):
    shp = draw(shapes(1, 3, allow_empty=True))
    nd = len(shp)
    k = draw(st.integers(1, nd))
    src = draw(st.permutations(list(range(nd))))[:k]
    dst = draw(st.permutations(list(range(nd))))[:k]
    src = [s - nd if draw(st.booleans()) else s for s in src]
    if k == 1 and draw(st.booleans()):
        src, dst = src[0], dst[0]
    return case(draw_array(draw, shp, dtype), source=src, destination=dst)


add("moveaxis", _moveaxis_cases, dtypes=ALL)


@st.composite
def _expand_dims_cases(draw, dtype):
    shp = draw(shapes(0, 3, allow_empty=True))
    nd = len(shp) + draw(st.integers(1, 2))
    axes = draw(st.lists(st.integers(0, nd - 1), min_size=nd - len(shp), max_size=nd - len(shp),
                         unique=True))
    axes = [a - nd if draw(st.booleans()) else a for a in axes]
    axis = axes[0] if len(axes) == 1 and draw(st.booleans()) else tuple(axes)
    return case(draw_array(draw, shp, dtype), axis=axis)


add("expand_dims", _expand_dims_cases, dtypes=ALL)


@st.composite
def _squeeze_cases(draw, dtype):
    shp = tuple(draw(st.lists(st.sampled_from([1, 1, 2, 3, 0]), max_size=4)))
    ones = [i for i, n in enumerate(shp) if n == 1]
    if ones and draw(st.booleans()):
        sub = draw(st.lists(st.sampled_from(ones), min_size=1, unique=True))
        sub = [a - len(shp) if draw(st.booleans()) else a for a in sub]
        axis = sub[0] if len(sub) == 1 else tuple(sub)
    else:
        axis = None
    return case(draw_array(draw, shp, dtype), axis=axis)


add("squeeze", _squeeze_cases, dtypes=ALL)


@st.composite
def _atleast_cases(draw, dtype):
    n = draw(st.integers(1, 3))
    return case(*(draw_array(draw, draw(shapes(0, 3, allow_empty=True)), dtype)
                  for _ in range(n)))


for _name in ("atleast_1d", "atleast_2d", "atleast_3d"):
    add(_name, _atleast_cases, dtypes=ALL)


@st.composite
def _broadcast_to_cases(draw, dtype):
    target, src = draw(broadcastable_shapes(2, allow_empty=True))
    target = np.broadcast_shapes(target, src)
    return case(draw_array(draw, src, dtype), shape=target)


add("broadcast_to", _broadcast_to_cases, dtypes=ALL)
add("broadcast_arrays", lambda dtype: st.integers(1, 3).flatmap(
    lambda n: partial(nary_cases, domains=(D,) * n)(dtype)), dtypes=ALL)

# ---- joining and splitting ------------------------------------------------------------------


@st.composite
def _concat_cases(draw, dtype, new_axis=False):
    shp = list(draw(shapes(0 if new_axis else 1, 3, allow_empty=True)))
    n = draw(st.integers(1, 3))
    nd = len(shp)
    if new_axis:
        axis = draw(st.integers(-nd - 1, nd))
        arrays = [draw_array(draw, shp, dtype) for _ in range(n)]
        return case(*arrays, axis=axis)
    axis = draw(st.one_of(st.integers(-nd, nd - 1), st.none()))
    arrays = []
    for _ in range(n):
        s = list(shp)
        if axis is not None:
            s[axis] = draw(st.integers(0, 3))
        else:
            s = list(draw(shapes(1, 3, allow_empty=True)))
        arrays.append(draw_array(draw, s, dtype))
    return case(*arrays, axis=axis)


add("concatenate", _concat_cases, fn=lambda *xs, axis: jnp.concatenate(xs, axis=axis),
    ref=lambda *xs, axis: np.concatenate(xs, axis=axis), dtypes=ALL + (C128,))
add("stack", partial(_concat_cases, new_axis=True),
    fn=lambda *xs, axis: jnp.stack(xs, axis=axis), ref=lambda *xs, axis: np.stack(xs, axis=axis),
    dtypes=ALL)


@st.composite
def _concat_mixed(draw, dtype):
    shp = draw(shapes(1, 2))
    return case(draw_array(draw, shp, dtype), draw_array(draw, shp, I32),
                draw_array(draw, shp, BOOL), axis=0)


add("concatenate", _concat_mixed, variant="promote",
    fn=lambda *xs, axis: jnp.concatenate(xs, axis=axis),
    ref=lambda *xs, axis: np.concatenate(xs, axis=axis), dtypes=FLOATS)


@st.composite
def _stackers(draw, dtype, kind):
    n = draw(st.integers(1, 3))
    if kind == "h":
        nd = draw(st.integers(0, 3))
        base = list(draw(shapes(nd, nd, allow_empty=True)))
        out = []
        for _ in range(n):
            s = list(base)
            if nd >= 1:
                s[0 if nd == 1 else 1] = draw(st.integers(0, 3))
            out.append(s)
    elif kind == "v":
        nd = draw(st.integers(0, 3))
        base = list(draw(shapes(nd, nd, allow_empty=True)))
        out = []
        for _ in range(n):
            s = list(base)
            if nd >= 2:
                s[0] = draw(st.integers(0, 3))
            out.append(s)
    elif kind == "d":
        nd = draw(st.integers(0, 3))
        base = list(draw(shapes(nd, nd, allow_empty=True)))
        out = []
        for _ in range(n):
            s = list(base)
            if nd >= 3:
                s[2] = draw(st.integers(0, 3))
            out.append(s)
    else:  # column_stack: 1-D of one length, or 2-D with the same number of rows
        rows = draw(st.integers(0, 3))
        out = [[rows] if draw(st.booleans()) else [rows, draw(st.integers(0, 3))]
               for _ in range(n)]
    return case(*(draw_array(draw, s, dtype) for s in out))


for _name, _kind, _ref in [("hstack", "h", np.hstack), ("vstack", "v", np.vstack),
                           ("row_stack", "v", np.vstack), ("dstack", "d", np.dstack),
                           ("column_stack", "c", np.column_stack)]:
    _fd = public(_name)
    add(_name, partial(_stackers, kind=_kind), fn=lambda *xs, _f=_fd: _f(xs),
        ref=lambda *xs, _f=_ref: _f(xs), dtypes=ALL)


@st.composite
def _append_cases(draw, dtype):
    shp = list(draw(shapes(1, 3, allow_empty=True)))
    axis = draw(st.one_of(st.none(), st.integers(-len(shp), len(shp) - 1)))
    other = list(shp)
    if axis is None:
        other = list(draw(shapes(0, 2, allow_empty=True)))
    else:
        other[axis] = draw(st.integers(0, 3))
    return case(draw_array(draw, shp, dtype), draw_array(draw, other, dtype), axis=axis)


add("append", _append_cases, dtypes=ALL)


@st.composite
def _split_cases(draw, dtype, even=True, fixed_axis=None, min_dims=1):
    shp = list(draw(shapes(min_dims, 3, allow_empty=True)))
    nd = len(shp)
    axis = fixed_axis if fixed_axis is not None else draw(st.integers(-nd, nd - 1))
    n = shp[axis if fixed_axis is None else (axis if nd > 1 or axis == 0 else 0)]
    if draw(st.booleans()):
        if even:
            divisors = [d for d in range(1, 5) if n % d == 0] or [1]
            sections = draw(st.sampled_from(divisors))
        else:
            sections = draw(st.integers(1, 5))
    else:
        sections = draw(st.lists(st.integers(-5, 5), max_size=3))
    kwargs = {"indices_or_sections": sections}
    if fixed_axis is None:
        kwargs["axis"] = axis
    return case(draw_array(draw, shp, dtype), **kwargs)


add("split", _split_cases, dtypes=ALL)
add("array_split", partial(_split_cases, even=False), dtypes=ALL)


@st.composite
def _hvsplit_cases(draw, dtype, axis):
    shp = list(draw(shapes(1 if axis == "h" else 2, 3, allow_empty=True)))
    n = shp[1 if axis == "h" and len(shp) > 1 else 0]
    if draw(st.booleans()):
        sections = draw(st.sampled_from([d for d in range(1, 5) if n % d == 0] or [1]))
    else:
        sections = draw(st.lists(st.integers(-5, 5), max_size=3))
    return case(draw_array(draw, shp, dtype), indices_or_sections=sections)


add("hsplit", partial(_hvsplit_cases, axis="h"), dtypes=ALL)
add("vsplit", partial(_hvsplit_cases, axis="v"), dtypes=ALL)

# ---- rearranging ----------------------------------------------------------------------------


@st.composite
def _tile_cases(draw, dtype):
    reps = draw(st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), max_size=3).map(tuple)))
    return case(draw_array(draw, draw(shapes(0, 3, max_side=3, allow_empty=True)), dtype),
                reps=reps)


add("tile", _tile_cases, dtypes=ALL)


@st.composite
def _repeat_cases(draw, dtype):
    shp = draw(shapes(0, 3, max_side=3, allow_empty=True))
    nd = len(shp)
    axis = draw(st.one_of(st.none(), st.integers(-nd, nd - 1))) if nd else None
    n = int(np.prod(shp)) if axis is None else shp[axis]
    if draw(st.booleans()):
        repeats = draw(st.integers(0, 3))
    else:
        repeats = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    return case(draw_array(draw, shp, dtype), repeats=repeats, axis=axis)


add("repeat", _repeat_cases, dtypes=ALL)


def _ref_repeat_to_length(a, repeats, axis=None, total_repeat_length=0):
    """JAX's repeat with a static output length: extra elements dropped, the last repeated."""
    if axis is None:
        a, axis = np.ravel(a), 0
    n = a.shape[axis]
    idx = np.repeat(np.arange(n), np.broadcast_to(repeats, (n,)))[:total_repeat_length]
    idx = np.concatenate([idx, np.full(total_repeat_length - idx.size, n - 1)]).astype(int)
    return np.take(a, idx, axis=axis)


@st.composite
def _repeat_length_cases(draw, dtype):
    shp = draw(shapes(1, 3, max_side=3))
    nd = len(shp)
    axis = draw(st.one_of(st.none(), st.integers(-nd, nd - 1)))
    n = int(np.prod(shp)) if axis is None else shp[axis]
    shape = () if draw(st.booleans()) else (n,)
    repeats = sample(draw(seeds), shape, I64, Domain(ilo=0, ihi=3))
    return case(draw_array(draw, shp, dtype), repeats, axis=axis,
                total_repeat_length=draw(st.integers(0, 8)))


# The repeats are an array argument here, so they are traced under jit and vmap.
add("repeat", _repeat_length_cases, variant="total_repeat_length",
    ref=_ref_repeat_to_length, dtypes=ALL)


@st.composite
def _flip_cases(draw, dtype, min_dims=0):
    shp = draw(shapes(min_dims, 3, allow_empty=True))
    nd = len(shp)
    choice = draw(st.sampled_from(["none", "int", "tuple"])) if nd else "none"
    if choice == "none":
        axis = None
    elif choice == "int":
        axis = draw(st.integers(-nd, nd - 1))
    else:
        axis = tuple(draw(st.lists(st.integers(0, nd - 1), unique=True, max_size=nd)))
    return case(draw_array(draw, shp, dtype), axis=axis)


add("flip", _flip_cases, dtypes=ALL)
add("fliplr", partial(unary_cases, min_dims=2), dtypes=ALL)
add("flipud", partial(unary_cases, min_dims=1), dtypes=ALL)


@st.composite
def _roll_cases(draw, dtype):
    shp = draw(shapes(0, 3, allow_empty=True))
    nd = len(shp)
    choice = draw(st.sampled_from(["none", "int", "tuple"])) if nd else "none"
    if choice == "none":
        return case(draw_array(draw, shp, dtype), shift=draw(st.integers(-7, 7)), axis=None)
    if choice == "int":
        return case(draw_array(draw, shp, dtype), shift=draw(st.integers(-7, 7)),
                    axis=draw(st.integers(-nd, nd - 1)))
    axes = tuple(draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=3)))
    shift = draw(st.one_of(st.integers(-7, 7),
                           st.lists(st.integers(-7, 7), min_size=len(axes),
                                    max_size=len(axes)).map(tuple)))
    return case(draw_array(draw, shp, dtype), shift=shift, axis=axes)


add("roll", _roll_cases, dtypes=ALL)


@st.composite
def _rot90_cases(draw, dtype):
    shp = draw(shapes(2, 3, allow_empty=True))
    nd = len(shp)
    a0, a1 = draw(st.lists(st.integers(0, nd - 1), min_size=2, max_size=2, unique=True))
    a0 = a0 - nd if draw(st.booleans()) else a0
    return case(draw_array(draw, shp, dtype), k=draw(st.integers(-3, 5)), axes=(a0, a1))


add("rot90", _rot90_cases, dtypes=ALL)


@st.composite
def _pad_cases(draw, dtype):
    shp = draw(shapes(0, 3, max_side=3))
    nd = len(shp)
    mode = draw(st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]))
    form = draw(st.sampled_from(["int", "pair", "per_axis"] if nd else ["int", "pair"]))
    if form == "int":
        width = draw(st.integers(0, 2))
    elif form == "pair":
        width = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    else:
        width = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(nd))
    kwargs = {"pad_width": width, "mode": mode}
    if mode == "constant" and draw(st.booleans()):
        kwargs["constant_values"] = draw(st.sampled_from([0, 1.5, -2]))
    if dtype.kind == "b" and "constant_values" in kwargs:
        kwargs["constant_values"] = True
    return case(draw_array(draw, shp, dtype), **kwargs)


add("pad", _pad_cases, dtypes=ALL)


@st.composite
def _tril_cases(draw, dtype):
    return case(draw_array(draw, draw(shapes(2, 3, allow_empty=True)), dtype),
                k=draw(st.integers(-3, 3)))


add("tril", _tril_cases, dtypes=ALL)
add("triu", _tril_cases, dtypes=ALL)

# ---- gathering ------------------------------------------------------------------------------


@st.composite
def _take_cases(draw, dtype, modes=()):
    """In-bounds indices, or with `modes` any indices and one of those modes."""
    shp = draw(shapes(1, 3))
    nd = len(shp)
    axis = draw(st.one_of(st.none(), st.integers(-nd, nd - 1)))
    n = int(np.prod(shp)) if axis is None else shp[axis]
    idx_shape = draw(shapes(0, 2, allow_empty=True))
    bounds = Domain(ilo=-2 * n - 1, ihi=2 * n + 1) if modes else Domain(ilo=-n, ihi=n - 1)
    idx = sample(draw(seeds), idx_shape, I64, bounds)
    if not modes:
        return case(draw_array(draw, shp, dtype), idx, axis=axis)
    mode = draw(st.sampled_from(modes))
    # An explicit fill (the default NaN would defeat finite differences): 1 is in every dtype.
    kwargs = {"fill_value": 1} if mode == "fill" else {}
    return case(draw_array(draw, shp, dtype), idx, axis=axis, mode=mode, **kwargs)


add("take", _take_cases, dtypes=ALL + (C128,), grad_dtypes=(F64,))


def _ref_take_mode(a, idx, axis=None, mode=None, fill_value=None):
    """JAX's take: "fill" (negative indices down to -n wrap), "clip" or "wrap"."""
    if axis is None:
        a, axis = np.ravel(a), 0
    axis %= a.ndim
    n = a.shape[axis]
    if mode == "wrap":
        return np.take(a, np.mod(idx, n), axis=axis)
    if mode == "clip":
        return np.take(a, np.clip(idx, 0, n - 1), axis=axis)
    valid = (idx >= -n) & (idx < n)
    out = np.take(a, np.where(valid, idx, 0), axis=axis)
    mask = valid.reshape((1,) * axis + idx.shape + (1,) * (a.ndim - axis - 1))
    return np.where(mask, out, np.asarray(fill_value).astype(a.dtype))


add("take", partial(_take_cases, modes=("fill", "clip", "wrap")), variant="mode",
    ref=_ref_take_mode, dtypes=ALL + (C128,), grad_dtypes=(F64,))


@st.composite
def _take_along_cases(draw, dtype):
    shp = draw(shapes(1, 3))
    nd = len(shp)
    axis = draw(st.one_of(st.none(), st.integers(-nd, nd - 1)))
    if axis is None:
        n = int(np.prod(shp))
        idx_shape = (draw(st.integers(0, 5)),)
    else:
        n = shp[axis]
        idx_shape = list(1 if draw(st.booleans()) else s for s in shp)
        idx_shape[axis] = draw(st.integers(0, 5))
    idx = sample(draw(seeds), tuple(idx_shape), I64, Domain(ilo=-n, ihi=n - 1))
    return case(draw_array(draw, shp, dtype), idx, axis=axis)


add("take_along_axis", _take_along_cases, dtypes=ALL)


def _ref_take_along_mode(a, idx, axis, mode, fill_value=None):
    """JAX's take_along_axis: negative indices down to -n wrap, then "fill" or "clip"."""
    n = a.shape[axis]
    idx = np.where(idx < 0, idx + n, idx)
    if mode == "clip":
        return np.take_along_axis(a, np.clip(idx, 0, n - 1), axis)
    valid = (idx >= 0) & (idx < n)
    out = np.take_along_axis(a, np.where(valid, idx, 0), axis)
    return np.where(valid, out, np.asarray(fill_value).astype(a.dtype))


@st.composite
def _take_along_mode_cases(draw, dtype):
    shp = draw(shapes(1, 3))
    nd = len(shp)
    axis = draw(st.integers(-nd, nd - 1))
    n = shp[axis]
    idx_shape = [1 if draw(st.booleans()) else s for s in shp]
    idx_shape[axis] = draw(st.integers(0, 5))
    idx = sample(draw(seeds), tuple(idx_shape), I64, Domain(ilo=-2 * n - 1, ihi=2 * n + 1))
    mode = draw(st.sampled_from(["fill", "clip"]))
    kwargs = {"fill_value": 1} if mode == "fill" else {}
    return case(draw_array(draw, shp, dtype), idx, axis=axis, mode=mode, **kwargs)


add("take_along_axis", _take_along_mode_cases, variant="mode", ref=_ref_take_along_mode,
    dtypes=ALL)


@st.composite
def _diag_cases(draw, dtype):
    shp = draw(shapes(1, 2, allow_empty=True))
    return case(draw_array(draw, shp, dtype), k=draw(st.integers(-3, 3)))


add("diag", _diag_cases, dtypes=ALL + (C128,))


@st.composite
def _diagonal_cases(draw, dtype):
    shp = draw(shapes(2, 3, allow_empty=True))
    nd = len(shp)
    a1, a2 = draw(st.lists(st.integers(0, nd - 1), min_size=2, max_size=2, unique=True))
    return case(draw_array(draw, shp, dtype), offset=draw(st.integers(-3, 3)),
                axis1=a1 - nd if draw(st.booleans()) else a1,
                axis2=a2 - nd if draw(st.booleans()) else a2)


add("diagonal", _diagonal_cases, dtypes=ALL)
add("trace", _diagonal_cases, dtypes=NUMERIC, grad_dtypes=(F64, C128))

# ---- products -------------------------------------------------------------------------------


@st.composite
def _dot_cases(draw, dtype):
    na, nb = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    k = draw(st.integers(0, 3))
    sa = list(draw(shapes(na, na, allow_empty=True)))
    sb = list(draw(shapes(nb, nb, allow_empty=True)))
    if na and nb:
        sa[-1] = k
        sb[max(nb - 2, 0)] = k
    return case(draw_array(draw, sa, dtype), draw_array(draw, sb, dtype))


PRODUCT_DTYPES = FLOATS + (I32, C128)
add("dot", _dot_cases, dtypes=PRODUCT_DTYPES, grad_dtypes=(F64, C128))


@st.composite
def _matmul_cases(draw, dtype):
    na, nb = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    m, k, n = draw(st.integers(0, 3)), draw(st.integers(0, 3)), draw(st.integers(0, 3))
    batch = draw(broadcastable_shapes(2, max_dims=2, allow_empty=True))
    sa = [k] if na == 1 else list(batch[0][: max(na - 2, 0)])[-max(na - 2, 0):] + [m, k]
    sb = [k] if nb == 1 else list(batch[1][: max(nb - 2, 0)])[-max(nb - 2, 0):] + [k, n]
    if na > 2:
        sa = list(batch[0]) + [m, k]
    if nb > 2:
        sb = list(batch[1]) + [k, n]
    return case(draw_array(draw, sa, dtype), draw_array(draw, sb, dtype))


add("matmul", _matmul_cases, dtypes=PRODUCT_DTYPES, grad_dtypes=(F64, C128))


@st.composite
def _inner_cases(draw, dtype):
    k = draw(st.integers(0, 3))
    sa = list(draw(shapes(0, 2, allow_empty=True)))
    sb = list(draw(shapes(0, 2, allow_empty=True)))
    if sa and sb:
        sa[-1] = sb[-1] = k
    return case(draw_array(draw, sa, dtype), draw_array(draw, sb, dtype))


add("inner", _inner_cases, dtypes=PRODUCT_DTYPES, grad_dtypes=(F64, C128))


@st.composite
def _two_any(draw, dtype, max_dims=2, same_size=False):
    sa = draw(shapes(0, max_dims, max_side=3, allow_empty=True))
    sb = draw(shapes(0, max_dims, max_side=3, allow_empty=True))
    if same_size:
        sb = (int(np.prod(sa)),) if draw(st.booleans()) else sa
    return case(draw_array(draw, sa, dtype), draw_array(draw, sb, dtype))


add("outer", _two_any, dtypes=PRODUCT_DTYPES, grad_dtypes=(F64, C128))
add("vdot", partial(_two_any, same_size=True), dtypes=PRODUCT_DTYPES, grad_dtypes=(F64, C128))
add("kron", partial(_two_any, max_dims=3), dtypes=PRODUCT_DTYPES, grad_dtypes=(F64, C128))


@st.composite
def _tensordot_cases(draw, dtype):
    k = draw(st.integers(0, 2))
    shared = list(draw(shapes(k, k, max_side=3, allow_empty=True)))
    ra = list(draw(shapes(0, 2, max_side=3)))
    rb = list(draw(shapes(0, 2, max_side=3)))
    if draw(st.booleans()):
        return case(draw_array(draw, ra + shared, dtype), draw_array(draw, shared + rb, dtype),
                    axes=k)
    # Explicit axes, in a shuffled order, some negative.
    sa, sb = ra + shared, shared[::-1] + rb
    na, nb = len(sa), len(sb)
    ax_a = [len(ra) + i for i in range(k)]
    ax_b = [k - 1 - i for i in range(k)]
    ax_a = [a - na if draw(st.booleans()) else a for a in ax_a]
    ax_b = [b - nb if draw(st.booleans()) else b for b in ax_b]
    return case(draw_array(draw, sa, dtype), draw_array(draw, sb, dtype), axes=(ax_a, ax_b))


add("tensordot", _tensordot_cases, dtypes=PRODUCT_DTYPES, grad_dtypes=(F64, C128))


@st.composite
def _cross_cases(draw, dtype):
    sa, sb = draw(broadcastable_shapes(2, max_dims=2))
    nd = max(len(sa), len(sb)) + 1
    pos = draw(st.integers(0, nd - 1))
    sa = list(sa)
    sb = list(sb)
    sa = [1] * (nd - 1 - len(sa)) + sa
    sb = [1] * (nd - 1 - len(sb)) + sb
    sa.insert(pos, 3)
    sb.insert(pos, 3)
    axis = pos - nd if draw(st.booleans()) else pos
    return case(draw_array(draw, sa, dtype), draw_array(draw, sb, dtype), axis=axis)


add("cross", _cross_cases, dtypes=PRODUCT_DTYPES, grad_dtypes=(F64,))

_EINSUM_SPECS = [
    "ij,jk->ik", "ij,jk", "i,i", "i,i->", "i,j->ij", "ii->i", "ii", "ij->", "ij->ji", "ijk->kji",
    "bij,bjk->bik", "ij,jk,kl->il", "ij,ij->ij", "...ij,...jk->...ik", "i...->...",
    "ijk,ikl->ijl", "iij->ij", "ij,kj->ik", "a,b,c->abc", "ii,i->i",
]


@st.composite
def _einsum_cases(draw, dtype):
    spec = draw(st.sampled_from(_EINSUM_SPECS))
    lhs = spec.split("->")[0].split(",")
    letters = sorted(set("".join(lhs).replace(".", "")))
    sizes = {c: draw(st.integers(0 if draw(st.booleans()) else 1, 3)) for c in letters}
    batch = draw(shapes(0, 2, max_side=3))
    ops = []
    for term in lhs:
        shp = []
        for part in term.split("..."):
            shp.append([sizes[c] for c in part])
        if len(shp) == 2:
            shp = shp[0] + list(batch) + shp[1]
        else:
            shp = shp[0]
        ops.append(draw_array(draw, shp, dtype))
    optimize = draw(st.sampled_from(["optimal", False, True, "greedy"]))
    return case(*ops, subscripts=spec, optimize=optimize)


add("einsum", _einsum_cases, fn=lambda *ops, subscripts, optimize: jnp.einsum(
    subscripts, *ops, optimize=optimize), ref=lambda *ops, subscripts, optimize: np.einsum(
    subscripts, *ops, optimize=optimize), dtypes=PRODUCT_DTYPES, grad_dtypes=(F64, C128))


@st.composite
def _norm_cases(draw, dtype):
    kind = draw(st.sampled_from(["default", "vector", "matrix"]))
    if kind == "default":
        shp = draw(shapes(0, 3, allow_empty=True))
        return case(draw_array(draw, shp, dtype, NONZERO), keepdims=draw(st.booleans()))
    if kind == "vector":
        shp = draw(shapes(1, 3))
        nd = len(shp)
        axis = draw(st.sampled_from([None, 0, -1] if nd == 1 else list(range(-nd, nd))))
        ord_ = draw(st.sampled_from([None, 2, 1, np.inf, -np.inf, 0, 3, 0.5, -1.5]))
        return case(draw_array(draw, shp, dtype, NONZERO), ord=ord_, axis=axis,
                    keepdims=draw(st.booleans()))
    shp = draw(shapes(2, 3))
    nd = len(shp)
    if nd == 2 and draw(st.booleans()):
        axis = None
    else:
        a0, a1 = draw(st.lists(st.integers(0, nd - 1), min_size=2, max_size=2, unique=True))
        axis = (a0 - nd if draw(st.booleans()) else a0, a1)
    ord_ = draw(st.sampled_from([None, "fro", 1, -1, np.inf, -np.inf]))
    return case(draw_array(draw, shp, dtype, NONZERO), ord=ord_, axis=axis,
                keepdims=draw(st.booleans()))


add("linalg.norm", _norm_cases, ref=np.linalg.norm, dtypes=FLOATS + (C128,),
    grad_dtypes=(F64, C128),
    grad_cases=lambda dt: _norm_cases(dt).filter(lambda c: c.args[0].size),
    grad_note="derivatives of non-empty arrays (the 2-norm of nothing is sqrt(0))")

# ---- funcdiff.nn ----------------------------------------------------------------------------


def _erf(x: np.ndarray) -> np.ndarray:
    out = np.vectorize(math.erf, otypes=[np.float64])(x) if np.size(x) else np.zeros(np.shape(x))
    return np.asarray(out).astype(np.result_type(x, 1.0))


def _erfc(x: np.ndarray) -> np.ndarray:
    out = np.vectorize(math.erfc, otypes=[np.float64])(x) if np.size(x) else np.zeros(np.shape(x))
    return np.asarray(out).astype(np.result_type(x, 1.0))


def _inexact(x: np.ndarray) -> np.ndarray:
    return np.asarray(x) if np.asarray(x).dtype.kind in "fc" else np.asarray(x, np.float64)


def _ref_logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    a = _inexact(a)
    dt = np.result_type(a, b) if b is not None else a.dtype
    a64 = a.astype(np.float64)
    hi = np.max(a64, axis=axis, keepdims=True) if a.size else np.zeros([1] * a.ndim)
    hi = np.where(np.isfinite(hi), hi, 0.0)
    e = np.exp(a64 - hi)
    if b is not None:
        e = e * b
    s = np.sum(e, axis=axis, keepdims=True)
    out = np.log(np.abs(s) if return_sign else s) + hi
    sign = np.sign(s)
    if not keepdims:
        out = np.squeeze(out, axis=axis) if axis is not None or out.ndim else out
        sign = np.squeeze(sign, axis=axis) if axis is not None or sign.ndim else sign
        if axis is None:
            out, sign = out.reshape(()), sign.reshape(())
    return (out.astype(dt), sign.astype(dt)) if return_sign else out.astype(dt)


def _ref_softmax(x, axis=-1):
    x = _inexact(x)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _ref_log_softmax(x, axis=-1):
    x = _inexact(x)
    s = x - np.max(x, axis=axis, keepdims=True)
    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))


def _ref_gelu(x, approximate=True):
    x = _inexact(x)
    if approximate:
        c = math.sqrt(2 / math.pi)
        return 0.5 * x * (1 + np.tanh(c * (x + 0.044715 * x**3)))
    return 0.5 * x * _erfc(-x / math.sqrt(2))


def _ref_one_hot(x, num_classes, dtype=np.float64, axis=-1):
    out = (np.asarray(x)[..., None] == np.arange(num_classes)).astype(dtype)
    return np.moveaxis(out, -1, axis)


def _ref_standardize(x, axis=-1, eps=1e-5):
    x = _inexact(x)
    return (x - np.mean(x, axis, keepdims=True)) / np.sqrt(np.var(x, axis, keepdims=True) + eps)


_sigmoid = lambda x: 1 / (1 + np.exp(-_inexact(x)))

for _name, _ref, _dom in [
    ("nn.relu", lambda x: np.maximum(x, np.zeros((), np.asarray(x).dtype)), NONZERO),
    ("nn.sigmoid", _sigmoid, D),
    ("nn.softplus", lambda x: np.logaddexp(_inexact(x), 0.0), D),
    ("nn.silu", lambda x: _inexact(x) * _sigmoid(x), D),
    ("nn.swish", lambda x: _inexact(x) * _sigmoid(x), D),
    ("nn.log_sigmoid", lambda x: -np.logaddexp(0.0, -_inexact(x)), D),
    ("scipy.special.expit", _sigmoid, D),
    ("scipy.special.logit", lambda x: np.log(_inexact(x) / (1 - _inexact(x))),
     Domain(0.15, 0.85, ilo=0, ihi=0)),
    ("scipy.special.erf", lambda x: _erf(_inexact(x)), D),
    ("scipy.special.erfc", lambda x: _erfc(_inexact(x)), D),
    ("scipy.special.entr", lambda x: np.where(
        _inexact(x) > 0, -_inexact(x) * np.log(np.where(_inexact(x) > 0, _inexact(x), 1.0)),
        np.where(_inexact(x) == 0, 0.0, -np.inf)).astype(_inexact(x).dtype),
     Domain(0.1, 2.0, ilo=0, ihi=3)),
]:
    unary(_name, _dom, ref=_ref, dtypes=REAL, weak=False)

add("scipy.special.entr", partial(unary_cases, domain=Domain(-1.0, 1.0, step=0.5)),
    variant="edges", ref=RECORDS[-1].ref, dtypes=(F64,), grad_order=0,
    grad_note="value check at 0 and negative inputs only")
add("nn.relu", partial(unary_cases, domain=D), variant="int", dtypes=(I32,),
    ref=lambda x: np.maximum(x, 0), **NO_GRAD)
add("nn.gelu", partial(unary_cases, approximate=st.booleans()), ref=_ref_gelu, dtypes=REAL)
add("nn.elu", partial(unary_cases, domain=NONZERO, alpha=st.sampled_from([1.0, 0.5])),
    ref=lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(
        _inexact(x).dtype), dtypes=FLOATS)
add("nn.leaky_relu", partial(unary_cases, domain=NONZERO,
                             negative_slope=st.sampled_from([0.01, 0.2])),
    ref=lambda x, negative_slope: np.where(x >= 0, x, negative_slope * x).astype(
        _inexact(x).dtype), dtypes=FLOATS)


@st.composite
def _softmax_cases(draw, dtype, none_ok=True):
    shp = draw(shapes(1, 3))
    nd = len(shp)
    axis = draw(reduction_axes(nd, allow_none=none_ok, allow_empty_tuple=False))
    return case(draw_array(draw, shp, dtype, Domain(-3.0, 3.0)), axis=axis)


add("nn.softmax", _softmax_cases, ref=_ref_softmax, dtypes=REAL)
add("nn.log_softmax", _softmax_cases, ref=_ref_log_softmax, dtypes=REAL)


def _masked_shift(x, w, axis):
    """`x` (float64) minus its maximum over `axis` where the mask `w` holds, and `w`."""
    x = _inexact(x).astype(np.float64)
    w = np.broadcast_to(w, x.shape)
    hi = np.max(np.where(w, x, -np.inf), axis=axis, keepdims=True)
    return np.where(w, x - hi, -np.inf), w


def _ref_softmax_where(x, w, axis=-1):
    shifted, w = _masked_shift(x, w, axis)
    e = np.exp(shifted)
    return (e / np.sum(e, axis=axis, keepdims=True)).astype(_inexact(x).dtype)


def _ref_log_softmax_where(x, w, axis=-1):
    """Zero (instead of -inf) outside the mask, to keep finite differences finite."""
    shifted, w = _masked_shift(x, w, axis)
    out = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return np.where(w, out, 0.0).astype(_inexact(x).dtype)


def _ref_logsumexp_where(x, w, axis=None, keepdims=False):
    shifted, w = _masked_shift(x, w, axis)
    hi = np.max(np.where(w, _inexact(x), -np.inf), axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True)) + hi
    if not keepdims:
        out = np.squeeze(out, axis=axis) if axis is not None else out.reshape(())
    return out.astype(_inexact(x).dtype)


@st.composite
def _masked_softmax_cases(draw, dtype, none_ok=True, keepdims=False):
    """Softmax cases with a mask (shaped like x or like its trailing axes) that selects at
    least one element of every reduced slice."""
    x_case = draw(_softmax_cases(dtype, none_ok))
    x, axis = x_case.args[0], x_case.kwargs["axis"]
    w_shape = x.shape[draw(st.integers(0, x.ndim)):]
    w = np.broadcast_to(sample(draw(seeds), w_shape, BOOL), x.shape).copy()
    axes = range(x.ndim) if axis is None else np.atleast_1d(axis) % x.ndim
    first = tuple(0 if d in set(axes) else slice(None) for d in range(x.ndim))
    w[first] = True
    kwargs = {"axis": axis}
    if keepdims:
        kwargs["keepdims"] = draw(st.booleans())
    return case(x, w if w_shape == x.shape else w[(0,) * (x.ndim - len(w_shape))], **kwargs)


add("nn.softmax", _masked_softmax_cases, variant="where", ref=_ref_softmax_where,
    fn=lambda x, w, **kw: nn.softmax(x, where=w, **kw), dtypes=REAL)
add("nn.log_softmax", _masked_softmax_cases, variant="where", ref=_ref_log_softmax_where,
    fn=lambda x, w, **kw: jnp.where(w, nn.log_softmax(x, where=w, **kw), 0.0), dtypes=REAL)
@st.composite
def _spread_rows(draw, dtype):
    """Rows of at least three values spread over [-2, 2] (so that var + eps is not tiny)."""
    shp = draw(shapes(0, 2)) + (draw(st.integers(3, 4)),)
    rng = np.random.default_rng(draw(seeds))
    x = np.linspace(-2, 2, shp[-1]) + rng.uniform(-0.3, 0.3, shp)
    return case(rng.permuted(x, axis=-1).astype(dtype), axis=-1)


add("nn.standardize", _softmax_cases, ref=_ref_standardize, dtypes=FLOATS, rtol={F32: 1e-4},
    grad_cases=_spread_rows, grad_note="derivatives of rows whose variance is not tiny (the "
                                       "curvature of 1/sqrt(var + eps) defeats finite "
                                       "differences there)")


@st.composite
def _one_hot_cases(draw, dtype):
    shp = draw(shapes(0, 2, allow_empty=True))
    k = draw(st.integers(1, 4))
    nd = len(shp) + 1
    return case(sample(draw(seeds), shp, dtype, Domain(ilo=-1, ihi=k)), num_classes=k,
                dtype=draw(st.sampled_from([F64, F32, I32])), axis=draw(st.integers(-nd, nd - 1)))


add("nn.one_hot", _one_hot_cases, ref=_ref_one_hot, dtypes=INTS, **NO_GRAD)


@st.composite
def _logsumexp_cases(draw, dtype, signed_b=True):
    shp = draw(shapes(0, 3, allow_empty=False))
    axis = draw(reduction_axes(len(shp)))
    kwargs = {"axis": axis, "keepdims": draw(st.booleans())}
    a = draw_array(draw, shp, dtype, Domain(-3.0, 3.0))
    if draw(st.booleans()):
        kwargs["return_sign"] = draw(st.booleans())
        b_shape = draw(broadcastable_shapes(2))[0]
        b_shape = shp[len(shp) - len(b_shape):] if len(b_shape) <= len(shp) else shp
        dom = Domain(0.2, 2.0, signed=True) if kwargs["return_sign"] and signed_b else POS
        return case(a, draw_array(draw, b_shape, dtype, dom), **kwargs)
    return case(a, **kwargs)


for _name in ("nn.logsumexp", "scipy.special.logsumexp"):
    _fd = public(_name)
    add(_name, _logsumexp_cases, dtypes=REAL,
        fn=lambda a, b=None, _f=_fd, **kw: _f(a, b=b, **kw),
        ref=lambda a, b=None, **kw: _ref_logsumexp(a, b=b, **kw),
        grad_cases=partial(_logsumexp_cases, signed_b=False), rtol={F32: 1e-5},
        grad_note="derivatives with positive b (with signed b the sum can come arbitrarily "
                  "close to 0, where log|sum| is too steep for finite differences)")
    add(_name, partial(_masked_softmax_cases, keepdims=True), variant="where",
        fn=lambda x, w, _f=_fd, **kw: _f(x, where=w, **kw), ref=_ref_logsumexp_where,
        dtypes=REAL, rtol={F32: 1e-5})


def _ref_xlogy(x, y):
    dt = np.result_type(x, y, 1.0)  # NumPy promotion, Python scalars weak
    x, y = np.broadcast_arrays(x, y)
    return np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y))).astype(dt)


def _ref_xlog1py(x, y):
    dt = np.result_type(x, y, 1.0)
    x, y = np.broadcast_arrays(x, y)
    return np.where(x == 0, 0.0, x * np.log1p(np.where(x == 0, 0.0, y))).astype(dt)


binary("scipy.special.xlogy", DISCRETE, POS, ref=_ref_xlogy, dtypes=REAL,
       grad_cases=partial(nary_cases, domains=(D, POS)),
       grad_note="derivatives away from x == 0 (checked there by a directed test)")
binary("scipy.special.xlog1py", DISCRETE, Domain(-0.5, 2.0), ref=_ref_xlog1py, dtypes=REAL,
       grad_cases=partial(nary_cases, domains=(D, Domain(-0.5, 2.0))))

# ---- funcdiff.nn losses ---------------------------------------------------------------------


def _log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


@st.composite
def _loss_cases(draw, dtype, with_targets=True):
    p_shape, t_shape = draw(broadcastable_shapes(2, allow_empty=True))
    preds = draw_array(draw, p_shape, dtype)
    if with_targets and draw(st.booleans()):
        return case(preds, draw_array(draw, t_shape, dtype))
    return case(preds)


_sq_ref = lambda p, t=None: np.square(p if t is None else p - t)
add("nn.squared_error", _loss_cases, ref=_sq_ref, dtypes=REAL)
add("nn.l2_loss", _loss_cases, ref=lambda p, t=None: 0.5 * _sq_ref(p, t), dtypes=FLOATS)
add("nn.mean_squared_error", lambda dt: _loss_cases(dt).filter(
    lambda c: np.prod(np.broadcast_shapes(*(a.shape for a in c.args)))),
    ref=lambda p, t=None: np.mean(_sq_ref(p, t)), dtypes=FLOATS)


@st.composite
def _huber_cases(draw, dtype):
    c = draw(_loss_cases(dtype))
    return case(*c.args, delta=draw(st.sampled_from([1.0, 0.5, 2.0])))


def _ref_huber(p, t=None, delta=1.0):
    e = np.abs(p if t is None else p - t)
    return np.where(e <= delta, 0.5 * e**2, delta * (e - 0.5 * delta)).astype(
        np.result_type(e, 1.0))


add("nn.huber_loss", _huber_cases, ref=_ref_huber, dtypes=FLOATS,
    grad_note="derivatives away from |error| == delta, where the curvature jumps")


@st.composite
def _bce_cases(draw, dtype):
    x_shape, y_shape = draw(broadcastable_shapes(2, allow_empty=True))
    return case(draw_array(draw, x_shape, dtype, Domain(-4.0, 4.0)),
                draw_array(draw, y_shape, dtype, Domain(0.0, 1.0)))


add("nn.sigmoid_binary_cross_entropy", _bce_cases,
    ref=lambda x, y: -(y * _log_sigmoid(x) + (1 - y) * _log_sigmoid(-x)), dtypes=FLOATS)


@st.composite
def _xent_cases(draw, dtype, integer=False):
    shp = draw(shapes(1, 3))
    nd = len(shp)
    axis = draw(st.integers(-nd, nd - 1))
    logits = draw_array(draw, shp, dtype, Domain(-3.0, 3.0))
    if integer:
        lab_shape = shp[: axis % nd] + shp[axis % nd + 1:]
        labels = sample(draw(seeds), lab_shape, I64, Domain(ilo=0, ihi=shp[axis] - 1))
    else:
        labels = draw_array(draw, shp, dtype, Domain(0.0, 1.0, step=0.5))
    return case(logits, labels, axis=axis)


def _ref_xent(logits, labels, axis=-1):
    return -np.sum(np.where(labels == 0, 0.0, labels * _ref_log_softmax(logits, axis)), axis)


def _ref_xent_int(logits, labels, axis=-1):
    ls = _ref_log_softmax(logits, axis)
    picked = np.take_along_axis(ls, np.expand_dims(labels, axis), axis)
    return -np.squeeze(picked, axis)


add("nn.softmax_cross_entropy", _xent_cases, ref=_ref_xent, dtypes=FLOATS, fixed_args=(1,),
    rtol={F32: 1e-4}, grad_note="derivatives in the logits (the labels are data)")
add("nn.softmax_cross_entropy_with_integer_labels", partial(_xent_cases, integer=True),
    ref=_ref_xent_int, dtypes=FLOATS, rtol={F32: 1e-4})

# ---- functions added with these tests (NumPy 2 names, nan-reductions, differences...) ------

for _name, _dom in [("acos", UNIT), ("asin", UNIT), ("atan", D), ("asinh", D),
                    ("acosh", Domain(1.1, 3.0, ilo=1, ihi=5)), ("atanh", UNIT)]:
    unary(_name, _dom, dtypes=REAL)
binary("atan2", NONZERO, NONZERO, dtypes=REAL)
binary("pow", POS, D, dtypes=FLOATS)
unary("bitwise_invert", D, dtypes=(I32, U8, BOOL), **NO_GRAD)
for _name in ("bitwise_left_shift", "bitwise_right_shift"):
    binary(_name, Domain(ilo=-9, ihi=9), SMALL_INT, dtypes=(I32, I64), **NO_GRAD)
add("concat", _concat_cases, fn=lambda *xs, axis: jnp.concat(xs, axis=axis),
    ref=lambda *xs, axis: np.concat(xs, axis=axis), dtypes=ALL)
add("matrix_transpose", partial(unary_cases, min_dims=2), dtypes=ALL)
add("unstack", partial(unary_cases, min_dims=1, axis=st.integers(-1, 0)), dtypes=ALL)
add("dsplit", partial(_split_cases, fixed_axis=2, min_dims=3), dtypes=ALL)
binary("divmod", Domain(-5.0, 5.0, ilo=-9, ihi=9), NONZERO, dtypes=REAL,
       grad_cases=_between_jumps,
       grad_note="the quotient is piecewise constant, the remainder as in `remainder`")
unary("iscomplex", D, dtypes=NUMERIC, **NO_GRAD)
unary("isreal", D, dtypes=NUMERIC, **NO_GRAD)
unary("iscomplexobj", D, dtypes=NUMERIC, **NO_GRAD)
unary("isrealobj", D, dtypes=NUMERIC, **NO_GRAD)


@st.composite
def _close_cases(draw, dtype):
    s0, s1 = draw(broadcastable_shapes(2, allow_empty=True))
    if draw(st.booleans()):
        s1 = s0
    dom = SPECIAL if dtype.kind in "fc" else D
    a = draw_array(draw, s0, dtype, dom)
    b = draw_array(draw, s1, dtype, dom)
    if s1 == s0 and draw(st.booleans()):
        # Nearly equal, at several distances.
        noise = draw(st.sampled_from([0.0, 1e-9, 1e-6, 1e-3]))
        b = a + (noise * draw_array(draw, s0, F64)).astype(dtype) if dtype.kind in "fc" else a
    kwargs = {"equal_nan": draw(st.booleans())}
    if draw(st.booleans()):
        kwargs["rtol"], kwargs["atol"] = draw(st.sampled_from([(1e-3, 0.0), (0.0, 1e-7)]))
    return case(a, np.asarray(b, dtype), **kwargs)


add("isclose", _close_cases, dtypes=FLOATS + (I32, C128), **NO_GRAD)
add("allclose", _close_cases, ref=lambda *a, **k: np.asarray(np.allclose(*a, **k)),
    dtypes=FLOATS + (I32,), **NO_GRAD)


@st.composite
def _equal_cases(draw, dtype):
    a = draw_array(draw, draw(shapes(0, 2, allow_empty=True)), dtype, NANS)
    b = a.copy() if draw(st.booleans()) else draw_array(
        draw, a.shape if draw(st.booleans()) else draw(shapes(0, 2)), dtype, NANS)
    return case(a, b, equal_nan=draw(st.booleans()))


add("array_equal", _equal_cases, ref=lambda *a, **k: np.asarray(np.array_equal(*a, **k)),
    dtypes=FLOATS + (I32, BOOL), **NO_GRAD)
reduction("cumprod", domain=Domain(0.5, 1.5, signed=True, ilo=-2, ihi=2), int_axis_only=True,
          keepdims=False, dtypes=NUMERIC + (BOOL,), grad_dtypes=(F64, C128))
reduction("cumprod", variant="zeros", domain=Domain(-1.5, 1.5, step=0.5), int_axis_only=True,
          keepdims=False, dtypes=(F64,),
          grad_note="exact derivatives where some factors are zero")


@st.composite
def _cumulative_cases(draw, dtype):
    shp = draw(shapes(1, 3, allow_empty=True))
    axis = None if len(shp) == 1 and draw(st.booleans()) else draw(
        st.integers(-len(shp), len(shp) - 1))
    return case(draw_array(draw, shp, dtype, Domain(0.5, 1.5, signed=True, ilo=-2, ihi=2)),
                axis=axis, include_initial=draw(st.booleans()))


add("cumulative_sum", _cumulative_cases, dtypes=NUMERIC + (BOOL,))
add("cumulative_prod", _cumulative_cases, dtypes=NUMERIC)
for _name in ("nansum", "nanprod", "nanmean"):
    reduction(_name, domain=NANS, dtypes=FLOATS + (I32,),
              grad_cases=partial(_reduction_cases, domain=D, allow_empty=False),
              grad_note="derivatives without NaN here; with NaN in a directed test")
for _name in ("nanmax", "nanmin"):
    reduction(_name, domain=NANS, allow_empty=False, dtypes=FLOATS + (I32,),
              grad_cases=partial(_reduction_cases, domain=D, allow_empty=False),
              grad_note="derivatives without NaN here; with NaN in a directed test")


@st.composite
def _diff_cases(draw, dtype):
    shp = list(draw(shapes(1, 3, allow_empty=True)))
    nd = len(shp)
    axis = draw(st.integers(-nd, nd - 1))
    kwargs = {"n": draw(st.integers(0, 3)), "axis": axis}
    for key in ("prepend", "append"):
        kind = draw(st.sampled_from(["none", "scalar", "array"]))
        if kind == "scalar":
            kwargs[key] = draw_array(draw, (), dtype)
        elif kind == "array":
            s = list(shp)
            s[axis] = draw(st.integers(0, 2))
            kwargs[key] = draw_array(draw, s, dtype)
    return case(draw_array(draw, shp, dtype), **kwargs)


add("diff", _diff_cases, dtypes=ALL)


@st.composite
def _trapezoid_cases(draw, dtype):
    shp = list(draw(shapes(1, 3, allow_empty=True)))
    nd = len(shp)
    axis = draw(st.integers(-nd, nd - 1))
    y = draw_array(draw, shp, dtype)
    kind = draw(st.sampled_from(["dx", "x1", "xfull"]))
    if kind == "dx":
        return case(y, axis=axis, dx=draw(st.sampled_from([1.0, 0.5, 2])))
    xs = (shp[axis],) if kind == "x1" else tuple(shp)
    return case(y, draw_array(draw, xs, dtype), axis=axis)


add("trapezoid", _trapezoid_cases, fn=lambda y, x=None, **kw: jnp.trapezoid(y, x, **kw),
    ref=lambda y, x=None, **kw: np.trapezoid(y, x, **kw), dtypes=FLOATS + (I32,))


@st.composite
def _select_cases(draw, dtype):
    k = draw(st.integers(1, 3))
    s = draw(broadcastable_shapes(2 * k, allow_empty=True))
    conds = [draw_array(draw, sh_, BOOL) for sh_ in s[:k]]
    choices = [draw_array(draw, sh_, dtype) for sh_ in s[k:]]
    default = draw(st.sampled_from([0, -1.5]))
    if dtype.kind in "iub" and isinstance(default, float):
        default = 0
    return case(*conds, *choices, k=k, default=default)


add("select", _select_cases,
    fn=lambda *a, k, default: jnp.select(list(a[:k]), list(a[k:]), default),
    ref=lambda *a, k, default: np.select(list(a[:k]), list(a[k:]), default),
    dtypes=FLOATS + (I32, C128), grad_dtypes=(F64, C128))


@st.composite
def _polyval_cases(draw, dtype):
    return case(draw_array(draw, (draw(st.integers(0, 4)),), dtype),
                draw_array(draw, draw(shapes(0, 2, allow_empty=True)), dtype))


add("polyval", _polyval_cases, dtypes=FLOATS + (I32, C128), grad_dtypes=(F64, C128))


@st.composite
def _vecdot_cases(draw, dtype):
    s1, s2 = draw(broadcastable_shapes(2, max_dims=2, allow_empty=True))
    n = draw(st.integers(0, 3))
    pos = draw(st.sampled_from([-1, 0]))
    s1 = list(s1) + [n] if pos == -1 else [n] + list(s1)
    s2 = list(s2) + [n] if pos == -1 else [n] + list(s2)
    if pos == 0 and len(s1) != len(s2):
        pos = -1
        s1, s2 = s1[1:] + [n], s2[1:] + [n]
    return case(draw_array(draw, s1, dtype), draw_array(draw, s2, dtype), axis=pos)


add("vecdot", _vecdot_cases, dtypes=PRODUCT_DTYPES, grad_dtypes=(F64, C128))


@st.composite
def _convolve_cases(draw, dtype):
    return case(draw_array(draw, (draw(st.integers(1, 5)),), dtype),
                draw_array(draw, (draw(st.integers(1, 5)),), dtype),
                mode=draw(st.sampled_from(["full", "same", "valid"])))


add("convolve", _convolve_cases, dtypes=PRODUCT_DTYPES, grad_dtypes=(F64, C128))
add("correlate", _convolve_cases, dtypes=PRODUCT_DTYPES, grad_dtypes=(F64, C128))
add("indices", partial(_creation_cases, dimensions=shapes(0, 3, max_side=3, allow_empty=True),
                       sparse=st.booleans()), dtypes=(F64,), **STATIC)
for _name in ("tril_indices", "triu_indices"):
    add(_name, partial(_creation_cases, n=st.integers(0, 4), k=st.integers(-2, 2),
                       m=st.sampled_from([None, 0, 2, 5])), dtypes=(F64,), **STATIC)
add("diag_indices", partial(_creation_cases, n=st.integers(0, 4), ndim=st.integers(1, 3)),
    dtypes=(F64,), **STATIC)
for _name in ("tril_indices_from", "triu_indices_from"):
    add(_name, partial(_tril_cases), dtypes=(F64, I32), **NO_GRAD)
add("diag_indices_from", lambda dt: st.integers(1, 3).flatmap(lambda n: st.integers(2, 3).map(
    lambda nd: case(np.zeros((n,) * nd, dt)))), dtypes=(F64, BOOL), **NO_GRAD)
for _name in ("argwhere", "flatnonzero"):
    add(_name, partial(unary_cases, domain=DISCRETE), dtypes=ALL, jaxpr="concrete", **NO_GRAD)


def _ref_argwhere_sized(a, size, fill_value=None):
    if a.ndim == 0:
        return np.zeros((size, 0), np.int64)
    return np.stack(_ref_nonzero_sized(a, size, fill_value), axis=1)


def _ref_flatnonzero_sized(a, size, fill_value=None):
    fill = fill_value[0] if isinstance(fill_value, tuple) else fill_value
    return _ref_nonzero_sized(np.ravel(a), size, fill)[0]


add("argwhere", partial(_sized_nonzero_cases, min_dims=0), variant="size",
    ref=_ref_argwhere_sized, dtypes=ALL, **NO_GRAD)
add("flatnonzero", partial(_sized_nonzero_cases, min_dims=1), variant="size",
    fn=lambda a, fill_value=None, **kw: jnp.flatnonzero(
        a, fill_value=fill_value[0] if isinstance(fill_value, tuple) else fill_value, **kw),
    ref=_ref_flatnonzero_sized, dtypes=ALL, **NO_GRAD)

# ---- funcdiff.numpy.fft ---------------------------------------------------------------------

_C64 = np.dtype(np.complex64)
_FFT_NORMS = st.sampled_from([None, "backward", "ortho", "forward"])
_FFT_INVERSE_REAL = {"irfft", "hfft", "irfftn", "irfft2"}
_FFT_TOL = {F32: 1e-4, _C64: 1e-4}


@st.composite
def _fft1_cases(draw, dtype, name):
    """One axis: drawn length `n` (cropping, padding or None), axis and norm."""
    shp = list(draw(shapes(1, 3, max_side=5)))
    axis = draw(st.integers(-len(shp), len(shp) - 1))
    n = draw(st.sampled_from([None, None, 1, 2, 3, 4, 6]))
    if name in _FFT_INVERSE_REAL and n is None:
        shp[axis] = max(shp[axis], 2)  # the default n = 2 (m - 1) must be positive
    return case(draw_array(draw, shp, dtype), n=n, axis=axis, norm=draw(_FFT_NORMS))


@st.composite
def _fftn_cases(draw, dtype, name):
    """Several axes (two for the *2 functions): drawn axes in a drawn order (negative ones
    too) or the default, lengths `s` or the default, and norm."""
    two = name.endswith("2")
    shp = list(draw(shapes(2 if two else 1, 3, max_side=4)))
    nd = len(shp)
    kwargs = {"norm": draw(_FFT_NORMS)}
    k = 2 if two else draw(st.integers(1, nd))
    if draw(st.booleans()):
        axes = draw(subsets(nd, min_size=k, max_size=k, ordered=True))
        kwargs["axes"] = tuple(a - nd if draw(st.booleans()) else a for a in axes)
    elif not two:
        k = nd if draw(st.booleans()) else k  # without axes: all, or the last len(s)
    if draw(st.booleans()) or ("axes" not in kwargs and not two and k < nd):
        kwargs["s"] = tuple(draw(st.integers(1, 5)) for _ in range(k))
    elif name in _FFT_INVERSE_REAL:
        last = kwargs.get("axes", (-1,))[-1]
        shp[last] = max(shp[last], 2)
    return case(draw_array(draw, shp, dtype), **kwargs)


def _fftn_ref(name):
    def ref(x, s=None, axes=None, norm=None):
        if s is not None and axes is None and not name.endswith("2"):
            axes = tuple(range(-len(s), 0))  # NumPy's default, without its deprecation
        kwargs = {} if axes is None else {"axes": axes}
        return getattr(np.fft, name)(x, s=s, norm=norm, **kwargs)

    return ref


for _name in ("fft", "ifft", "irfft", "hfft", "rfft", "ihfft"):
    _real_input = _name in ("rfft", "ihfft")
    add("fft." + _name, partial(_fft1_cases, name=_name), ref=getattr(np.fft, _name),
        dtypes=FLOATS + (I32,) + (() if _real_input else (C128, _C64)),
        grad_dtypes=(F64,) if _real_input else (F64, C128), rtol=_FFT_TOL)
for _name in ("fftn", "ifftn", "irfftn", "rfftn", "fft2", "ifft2", "irfft2", "rfft2"):
    _real_input = _name.startswith("rfft")
    add("fft." + _name, partial(_fftn_cases, name=_name), ref=_fftn_ref(_name),
        dtypes=FLOATS + (I32,) + (() if _real_input else (C128, _C64)),
        grad_dtypes=(F64,) if _real_input else (F64, C128), rtol=_FFT_TOL)


@st.composite
def _fftfreq_cases(draw, dtype, cast=True):
    kwargs = {"n": draw(st.integers(1, 7))}
    if cast and draw(st.booleans()):
        kwargs["dtype"] = draw(st.sampled_from([F64, F32]))
    return case(draw_array(draw, (), dtype, Domain(0.2, 2.0, ilo=1, ihi=3)), **kwargs)


def _fftfreq_fns(name):
    """(funcdiff's, NumPy's) frequencies as functions of the spacing `d` (NumPy's has no
    `dtype`: its result is cast)."""
    ours = public("fft." + name)

    def fn(d, n, dtype=None):
        return ours(n, d, dtype=dtype)

    def ref(d, n, dtype=None):
        out = getattr(np.fft, name)(n, d)
        return out if dtype is None else out.astype(dtype)

    return fn, ref


for _name in ("fftfreq", "rfftfreq"):
    _fn, _ref = _fftfreq_fns(_name)
    add("fft." + _name, _fftfreq_cases, ref=_ref, fn=_fn, dtypes=FLOATS + (I32,),
        grad_cases=partial(_fftfreq_cases, cast=False),
        grad_note="derivatives in the spacing d, of float64 results")


@st.composite
def _fftshift_cases(draw, dtype):
    shp = draw(shapes(1, 3, allow_empty=True))
    nd = len(shp)
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    axes = None if kind == "none" else draw(st.integers(-nd, nd - 1)) if kind == "int" else \
        draw(subsets(nd, ordered=True))
    return case(draw_array(draw, shp, dtype), axes=axes)


for _name in ("fftshift", "ifftshift"):
    add("fft." + _name, _fftshift_cases, ref=getattr(np.fft, _name), dtypes=ALL + (C128,),
        grad_dtypes=(F64, C128))

# ---- the names that are not functions checked by the table ----------------------------------

EXCLUDED = {
    # NumPy's own dtype, dtype-class and dtype-query objects, re-exported unchanged (the test
    # checks that they *are* NumPy's).
    **{n: "NumPy scalar type / dtype class, re-exported from numpy" for n in (
        "bool_", "complex64", "complex128", "complexfloating", "float16", "float32", "float64",
        "floating", "inexact", "int8", "int16", "int32", "int64", "integer", "number", "uint8",
        "uint16", "uint32", "uint64")},
    "dtype": "numpy.dtype, re-exported",
    "finfo": "numpy.finfo, re-exported (dtype information, no arrays)",
    "iinfo": "numpy.iinfo, re-exported (dtype information, no arrays)",
    "issubdtype": "numpy.issubdtype, re-exported (dtype query, no arrays)",
    "ndarray": "funcdiff.Array, the array type (tested in test_array.py)",
    # Constants (checked for equality with NumPy's).
    "e": "constant", "pi": "constant", "inf": "constant", "nan": "constant",
    "newaxis": "constant (None)",
    # Sub-modules: each of their functions has records.
    "linalg": "module funcdiff.numpy.linalg (each of its functions is in the table)",
    "fft": "module funcdiff.numpy.fft (each of its functions is in the table)",
    # Not array functions, in the other namespaces.
    "nn.get_scaled_dot_general_config": "returns a config object, no arrays (its fields and "
                                        "errors: test_special_stats_nn.py)",
    "scipy.special.bernoulli": "takes a static Python int and returns constants, no array "
                               "argument (exact values and errors: test_special_more.py)",
    **{f"scipy.stats.ModeResult.{n}": "a field or method of the NamedTuple that stats.mode "
       "returns (mode and rankdata: test_scipy_stats_ranks.py)" for n in ("count", "index",
                                                                          "mode")},
    **{f"scipy.stats.gaussian_kde.{n}": "a field or method of the gaussian_kde estimator, "
       "composed from funcdiff.numpy (values against SciPy, jit/vmap/grad: "
       "test_scipy_stats_kde.py)" for n in ("covariance", "d", "dataset", "evaluate",
                                            "integrate_box", "integrate_box_1d",
                                            "integrate_gaussian", "integrate_kde", "inv_cov",
                                            "logpdf", "n", "neff", "pdf", "resample",
                                            "set_bandwidth", "tree_flatten", "tree_unflatten",
                                            "weights")},
}

# The records of funcdiff.numpy.linalg (beyond norm), with NumPy as the reference.
import linalg_table  # noqa: E402, F401

# The records of funcdiff.scipy.linalg, odeint and the lax compositions (gather, scatter*,
# cumulative reductions, *_in_dim, top_k, convolutions, reduce_window).
import namespaces_table  # noqa: E402, F401

# The records of the funcdiff.nn functions added for jax.nn coverage.
import nn_table  # noqa: E402, F401

# The records of the rest of jax.numpy (set operations, histograms, polynomials, index
# tricks...) join RECORDS from their own table.
import numpy_more_table  # noqa: E402, F401

# The records of funcdiff.scipy.special's special functions and of funcdiff.scipy.stats, with
# SciPy as the reference, join RECORDS from their own table.
import scipy_table  # noqa: E402, F401
