"""The Pareto distribution, as `jax.scipy.stats.pareto`."""

from funcdiff._src.scipy_stats.pareto import cdf as cdf
from funcdiff._src.scipy_stats.pareto import logcdf as logcdf
from funcdiff._src.scipy_stats.pareto import logpdf as logpdf
from funcdiff._src.scipy_stats.pareto import logsf as logsf
from funcdiff._src.scipy_stats.pareto import pdf as pdf
from funcdiff._src.scipy_stats.pareto import ppf as ppf
from funcdiff._src.scipy_stats.pareto import sf as sf
