"""The binomial distribution, as `jax.scipy.stats.binom`."""

from funcdiff._src.scipy_stats.binom import logpmf as logpmf
from funcdiff._src.scipy_stats.binom import pmf as pmf
