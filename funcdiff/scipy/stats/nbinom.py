"""The negative binomial distribution, as `jax.scipy.stats.nbinom`."""

from funcdiff._src.scipy_stats.nbinom import logpmf as logpmf
from funcdiff._src.scipy_stats.nbinom import pmf as pmf
