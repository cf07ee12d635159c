"""The exponential distribution, as `jax.scipy.stats.expon`."""

from funcdiff._src.scipy_stats.expon import cdf as cdf
from funcdiff._src.scipy_stats.expon import logcdf as logcdf
from funcdiff._src.scipy_stats.expon import logpdf as logpdf
from funcdiff._src.scipy_stats.expon import logsf as logsf
from funcdiff._src.scipy_stats.expon import pdf as pdf
from funcdiff._src.scipy_stats.expon import ppf as ppf
from funcdiff._src.scipy_stats.expon import sf as sf
