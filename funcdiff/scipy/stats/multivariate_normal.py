"""The multivariate normal distribution, as `jax.scipy.stats.multivariate_normal`."""

from funcdiff._src.scipy_stats.multivariate_normal import logpdf as logpdf
from funcdiff._src.scipy_stats.multivariate_normal import pdf as pdf
