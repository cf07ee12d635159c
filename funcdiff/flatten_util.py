"""Flatten a pytree into one vector and back, as `jax.flatten_util`."""

from funcdiff._src.flatten_util import ravel_pytree as ravel_pytree

__all__ = ["ravel_pytree"]
