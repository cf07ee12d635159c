"""The normal distribution, as `jax.scipy.stats.norm`."""

from funcdiff._src.scipy_stats.norm import cdf as cdf
from funcdiff._src.scipy_stats.norm import isf as isf
from funcdiff._src.scipy_stats.norm import logcdf as logcdf
from funcdiff._src.scipy_stats.norm import logpdf as logpdf
from funcdiff._src.scipy_stats.norm import logsf as logsf
from funcdiff._src.scipy_stats.norm import pdf as pdf
from funcdiff._src.scipy_stats.norm import ppf as ppf
from funcdiff._src.scipy_stats.norm import sf as sf
