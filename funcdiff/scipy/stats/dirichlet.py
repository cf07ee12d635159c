"""The Dirichlet distribution, as `jax.scipy.stats.dirichlet`."""

from funcdiff._src.scipy_stats.dirichlet import logpdf as logpdf
from funcdiff._src.scipy_stats.dirichlet import pdf as pdf
