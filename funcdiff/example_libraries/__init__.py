"""JAX's example libraries, as `jax.example_libraries`: `optimizers`."""

from funcdiff.example_libraries import optimizers as optimizers
