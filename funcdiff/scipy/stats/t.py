"""Student's t distribution, as `jax.scipy.stats.t`."""

from funcdiff._src.scipy_stats.t import logpdf as logpdf
from funcdiff._src.scipy_stats.t import pdf as pdf
