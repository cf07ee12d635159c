"""The beta distribution, as `jax.scipy.stats.beta`."""

from funcdiff._src.scipy_stats.beta import cdf as cdf
from funcdiff._src.scipy_stats.beta import logcdf as logcdf
from funcdiff._src.scipy_stats.beta import logpdf as logpdf
from funcdiff._src.scipy_stats.beta import logsf as logsf
from funcdiff._src.scipy_stats.beta import pdf as pdf
from funcdiff._src.scipy_stats.beta import sf as sf
