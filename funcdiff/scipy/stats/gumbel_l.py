"""The left-skewed Gumbel distribution, as `jax.scipy.stats.gumbel_l`."""

from funcdiff._src.scipy_stats.gumbel import l_cdf as cdf
from funcdiff._src.scipy_stats.gumbel import l_logcdf as logcdf
from funcdiff._src.scipy_stats.gumbel import l_logpdf as logpdf
from funcdiff._src.scipy_stats.gumbel import l_logsf as logsf
from funcdiff._src.scipy_stats.gumbel import l_pdf as pdf
from funcdiff._src.scipy_stats.gumbel import l_ppf as ppf
from funcdiff._src.scipy_stats.gumbel import l_sf as sf

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf"]
