"""The user-facing transformations, one module per concept (the helpers first):

* `flatten`: what every transformation shares: flattening a function of pytrees into a
  function of flat lists of leaves, checking arguments and outputs, and turning result leaves
  into the arrays handed back to the user.
* `staging`: `make_jaxpr` and `typeof`.
* `forward`: forward mode, `jvp` and `linearize`.
* `reverse`: reverse mode, `vjp`, `grad`, `value_and_grad` and `stop_gradient`.
* `jacobians`: `jacfwd`, `jacrev` and `hessian`.

Each transformation takes and returns pytrees: it flattens the arguments, runs a flat
interpreter from `funcdiff._src.interpreters`, and rebuilds the output structure. This package
module re-exports the public names (what `funcdiff` exports and the libraries use); define
nothing here.
"""

from funcdiff._src.api.forward import jvp as jvp
from funcdiff._src.api.forward import linearize as linearize
from funcdiff._src.api.jacobians import hessian as hessian
from funcdiff._src.api.jacobians import jacfwd as jacfwd
from funcdiff._src.api.jacobians import jacrev as jacrev
from funcdiff._src.api.reverse import grad as grad
from funcdiff._src.api.reverse import stop_gradient as stop_gradient
from funcdiff._src.api.reverse import value_and_grad as value_and_grad
from funcdiff._src.api.reverse import vjp as vjp
from funcdiff._src.api.staging import make_jaxpr as make_jaxpr
from funcdiff._src.api.staging import typeof as typeof
