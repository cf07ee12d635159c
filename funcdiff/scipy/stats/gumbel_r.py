"""The right-skewed Gumbel distribution, as `jax.scipy.stats.gumbel_r`."""

from funcdiff._src.scipy_stats.gumbel import r_cdf as cdf
from funcdiff._src.scipy_stats.gumbel import r_logcdf as logcdf
from funcdiff._src.scipy_stats.gumbel import r_logpdf as logpdf
from funcdiff._src.scipy_stats.gumbel import r_logsf as logsf
from funcdiff._src.scipy_stats.gumbel import r_pdf as pdf
from funcdiff._src.scipy_stats.gumbel import r_ppf as ppf
from funcdiff._src.scipy_stats.gumbel import r_sf as sf

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf"]
