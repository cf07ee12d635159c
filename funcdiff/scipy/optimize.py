"""Minimisation with `scipy.optimize`'s names (JAX's subset): `minimize` by BFGS."""

from funcdiff._src.scipy_optimize import OptimizeResults as OptimizeResults
from funcdiff._src.scipy_optimize import minimize as minimize

__all__ = ["OptimizeResults", "minimize"]
