"""JAX's example libraries, as `jax.example_libraries`: `optimizers` and `stax`."""

from funcdiff.example_libraries import optimizers as optimizers
from funcdiff.example_libraries import stax as stax
