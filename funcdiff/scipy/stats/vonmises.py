"""The von Mises distribution on the circle, as `jax.scipy.stats.vonmises`."""

from funcdiff._src.scipy_stats.vonmises import logpdf as logpdf
from funcdiff._src.scipy_stats.vonmises import pdf as pdf
