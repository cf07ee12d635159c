"""Weight initialisers with the names of `jax.nn.initializers`, so that
``import funcdiff.nn.initializers`` and ``from funcdiff.nn.initializers import glorot_normal``
work as in JAX: the same functions as `funcdiff.nn_initializers`, where they are documented.
"""

from funcdiff.nn_initializers import *  # noqa: F403 (every public name of that module)
