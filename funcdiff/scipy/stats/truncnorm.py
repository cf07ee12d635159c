"""The normal distribution truncated to ``[a, b]`` (in standard deviations from `loc`), as
`jax.scipy.stats.truncnorm`."""

from funcdiff._src.scipy_stats.truncnorm import cdf as cdf
from funcdiff._src.scipy_stats.truncnorm import logcdf as logcdf
from funcdiff._src.scipy_stats.truncnorm import logpdf as logpdf
from funcdiff._src.scipy_stats.truncnorm import logsf as logsf
from funcdiff._src.scipy_stats.truncnorm import pdf as pdf
from funcdiff._src.scipy_stats.truncnorm import sf as sf
