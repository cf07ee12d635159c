"""The Bernoulli distribution, as `jax.scipy.stats.bernoulli`."""

from funcdiff._src.scipy_stats.bernoulli import cdf as cdf
from funcdiff._src.scipy_stats.bernoulli import logpmf as logpmf
from funcdiff._src.scipy_stats.bernoulli import pmf as pmf
from funcdiff._src.scipy_stats.bernoulli import ppf as ppf
