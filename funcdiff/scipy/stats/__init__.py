"""Probability distributions with `jax.scipy.stats`'s names and signatures: one module per
distribution (`norm.logpdf`, `gamma.cdf`, ...), differentiable in every argument where JAX
is, and usable under `jit` and `vmap`.

```python
from funcdiff.scipy.stats import norm

log_likelihood = norm.logpdf(0.3, loc=0.0, scale=2.0)
```
"""

from funcdiff._src.scipy_stats.kde import gaussian_kde as gaussian_kde
from funcdiff._src.scipy_stats.summary import ModeResult as ModeResult
from funcdiff._src.scipy_stats.summary import mode as mode
from funcdiff._src.scipy_stats.summary import rankdata as rankdata
from funcdiff._src.scipy_stats.summary import sem as sem
from funcdiff.scipy.stats import bernoulli as bernoulli
from funcdiff.scipy.stats import beta as beta
from funcdiff.scipy.stats import binom as binom
from funcdiff.scipy.stats import cauchy as cauchy
from funcdiff.scipy.stats import chi2 as chi2
from funcdiff.scipy.stats import dirichlet as dirichlet
from funcdiff.scipy.stats import expon as expon
from funcdiff.scipy.stats import gamma as gamma
from funcdiff.scipy.stats import geom as geom
from funcdiff.scipy.stats import gumbel_l as gumbel_l
from funcdiff.scipy.stats import gumbel_r as gumbel_r
from funcdiff.scipy.stats import laplace as laplace
from funcdiff.scipy.stats import logistic as logistic
from funcdiff.scipy.stats import multivariate_normal as multivariate_normal
from funcdiff.scipy.stats import nbinom as nbinom
from funcdiff.scipy.stats import norm as norm
from funcdiff.scipy.stats import pareto as pareto
from funcdiff.scipy.stats import poisson as poisson
from funcdiff.scipy.stats import t as t
from funcdiff.scipy.stats import truncnorm as truncnorm
from funcdiff.scipy.stats import uniform as uniform
from funcdiff.scipy.stats import vonmises as vonmises
