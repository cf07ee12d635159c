"""The chi-squared distribution, as `jax.scipy.stats.chi2`: a gamma distribution with shape
``df / 2`` and scale ``2 * scale``."""

from funcdiff._src.scipy_stats.chi2 import cdf as cdf
from funcdiff._src.scipy_stats.chi2 import logcdf as logcdf
from funcdiff._src.scipy_stats.chi2 import logpdf as logpdf
from funcdiff._src.scipy_stats.chi2 import logsf as logsf
from funcdiff._src.scipy_stats.chi2 import pdf as pdf
from funcdiff._src.scipy_stats.chi2 import sf as sf
