"""The Cauchy distribution, as `jax.scipy.stats.cauchy`."""

from funcdiff._src.scipy_stats.cauchy import cdf as cdf
from funcdiff._src.scipy_stats.cauchy import isf as isf
from funcdiff._src.scipy_stats.cauchy import logcdf as logcdf
from funcdiff._src.scipy_stats.cauchy import logpdf as logpdf
from funcdiff._src.scipy_stats.cauchy import logsf as logsf
from funcdiff._src.scipy_stats.cauchy import pdf as pdf
from funcdiff._src.scipy_stats.cauchy import ppf as ppf
from funcdiff._src.scipy_stats.cauchy import sf as sf
