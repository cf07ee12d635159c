"""Custom derivative rules, under the module name of `jax.custom_derivatives`: the same
objects as `funcdiff.custom_jvp`, `funcdiff.custom_vjp`, `funcdiff.custom_gradient` and
`funcdiff.closure_convert`."""

from funcdiff._src.custom_gradient import custom_gradient as custom_gradient
from funcdiff._src.custom_jvp import custom_jvp as custom_jvp
from funcdiff._src.custom_vjp import custom_vjp as custom_vjp
from funcdiff._src.implicit import closure_convert as closure_convert
