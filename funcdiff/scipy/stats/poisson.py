"""The Poisson distribution, as `jax.scipy.stats.poisson`."""

from funcdiff._src.scipy_stats.poisson import cdf as cdf
from funcdiff._src.scipy_stats.poisson import entropy as entropy
from funcdiff._src.scipy_stats.poisson import logpmf as logpmf
from funcdiff._src.scipy_stats.poisson import pmf as pmf
