"""The uniform distribution on ``[loc, loc + scale]``, as `jax.scipy.stats.uniform`."""

from funcdiff._src.scipy_stats.uniform import cdf as cdf
from funcdiff._src.scipy_stats.uniform import logpdf as logpdf
from funcdiff._src.scipy_stats.uniform import pdf as pdf
from funcdiff._src.scipy_stats.uniform import ppf as ppf
