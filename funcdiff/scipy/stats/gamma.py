"""The gamma distribution, as `jax.scipy.stats.gamma`."""

from funcdiff._src.scipy_stats.gamma import cdf as cdf
from funcdiff._src.scipy_stats.gamma import logcdf as logcdf
from funcdiff._src.scipy_stats.gamma import logpdf as logpdf
from funcdiff._src.scipy_stats.gamma import logsf as logsf
from funcdiff._src.scipy_stats.gamma import pdf as pdf
from funcdiff._src.scipy_stats.gamma import sf as sf
