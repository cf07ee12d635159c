"""The Laplace distribution, as `jax.scipy.stats.laplace`."""

from funcdiff._src.scipy_stats.laplace import cdf as cdf
from funcdiff._src.scipy_stats.laplace import logpdf as logpdf
from funcdiff._src.scipy_stats.laplace import pdf as pdf
