"""The geometric distribution (trials up to the first success), as `jax.scipy.stats.geom`."""

from funcdiff._src.scipy_stats.geom import logpmf as logpmf
from funcdiff._src.scipy_stats.geom import pmf as pmf
