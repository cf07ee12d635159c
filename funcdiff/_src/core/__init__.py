"""The core of funcdiff, independent of any particular primitive or transformation, in three
modules that each hold one concept (lowest first):

* `avals`: `ShapedArray`, the abstract value (shape, dtype, weak type) of an array.
* `trace`: `Primitive` and its `bind`, the stack of active transformations (`new_main`,
  `Trace`) and `Tracer`, with `get_aval` and the other functions that see any value, traced
  or not.
* `ir`: the IR (`Var`, `Literal`, `JaxprEqn`, `Jaxpr`, `ClosedJaxpr`), its evaluator
  `eval_jaxpr`, its liveness `variable_uses`, its checker `typecheck_jaxpr` and its printer.

This package module is the core's public face: it re-exports those names, so that the rest of
funcdiff writes `from funcdiff._src import core` and `core.Jaxpr` wherever a name is defined.
A name read through it is the defining module's own object (a module attribute costs the same
lookup either way); define nothing here.
"""

from funcdiff._src.core.avals import _PY_SCALAR_TYPES as _PY_SCALAR_TYPES
from funcdiff._src.core.avals import _PY_SCALARS as _PY_SCALARS
from funcdiff._src.core.avals import ShapedArray as ShapedArray
from funcdiff._src.core.avals import value_kind as value_kind
from funcdiff._src.core.ir import Atom as Atom
from funcdiff._src.core.ir import ClosedJaxpr as ClosedJaxpr
from funcdiff._src.core.ir import Jaxpr as Jaxpr
from funcdiff._src.core.ir import JaxprEqn as JaxprEqn
from funcdiff._src.core.ir import Literal as Literal
from funcdiff._src.core.ir import SourceInfo as SourceInfo
from funcdiff._src.core.ir import Var as Var
from funcdiff._src.core.ir import _dead_after as _dead_after
from funcdiff._src.core.ir import _var_names as _var_names
from funcdiff._src.core.ir import eval_jaxpr as eval_jaxpr
from funcdiff._src.core.ir import pp_eqn as pp_eqn
from funcdiff._src.core.ir import pp_jaxpr as pp_jaxpr
from funcdiff._src.core.ir import typecheck_jaxpr as typecheck_jaxpr
from funcdiff._src.core.ir import variable_uses as variable_uses
from funcdiff._src.core.trace import EvalTrace as EvalTrace
from funcdiff._src.core.trace import MainTrace as MainTrace
from funcdiff._src.core.trace import Primitive as Primitive
from funcdiff._src.core.trace import Trace as Trace
from funcdiff._src.core.trace import Tracer as Tracer
from funcdiff._src.core.trace import _at_user_line as _at_user_line
from funcdiff._src.core.trace import _leaked_tracer_error as _leaked_tracer_error
from funcdiff._src.core.trace import _state as _state
from funcdiff._src.core.trace import concrete_or_none as concrete_or_none
from funcdiff._src.core.trace import flags as flags
from funcdiff._src.core.trace import get_aval as get_aval
from funcdiff._src.core.trace import is_valid_array as is_valid_array
from funcdiff._src.core.trace import new_main as new_main
from funcdiff._src.core.trace import owned_results as owned_results
from funcdiff._src.core.trace import unchanged as unchanged
