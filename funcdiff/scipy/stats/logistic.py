"""The logistic distribution, as `jax.scipy.stats.logistic`."""

from funcdiff._src.scipy_stats.logistic import cdf as cdf
from funcdiff._src.scipy_stats.logistic import isf as isf
from funcdiff._src.scipy_stats.logistic import logpdf as logpdf
from funcdiff._src.scipy_stats.logistic import pdf as pdf
from funcdiff._src.scipy_stats.logistic import ppf as ppf
from funcdiff._src.scipy_stats.logistic import sf as sf
