"""Functional, splittable pseudo-random numbers: ``from funcdiff import random``.

Keys are explicit values (uint32 arrays of shape ``(2,)``), never hidden global state: the
same key always gives the same numbers. Split a key to get independent streams.

```python
from funcdiff import random

key = random.key(0)
key, init_key, noise_key = random.split(key, 3)
w = random.normal(init_key, (3, 2))
eps = random.uniform(noise_key, (5,), minval=-1.0, maxval=1.0)
```
"""

from funcdiff._src.prng import PRNGKey as PRNGKey
from funcdiff._src.prng import bits as bits
from funcdiff._src.prng import fold_in as fold_in
from funcdiff._src.prng import key as key
from funcdiff._src.prng import split as split
from funcdiff._src.prng import threefry_2x32 as threefry_2x32
from funcdiff._src.random import bernoulli as bernoulli
from funcdiff._src.random import categorical as categorical
from funcdiff._src.random import cauchy as cauchy
from funcdiff._src.random import choice as choice
from funcdiff._src.random import clone as clone
from funcdiff._src.random import erf_inv as erf_inv
from funcdiff._src.random import exponential as exponential
from funcdiff._src.random import gumbel as gumbel
from funcdiff._src.random import key_data as key_data
from funcdiff._src.random import key_impl as key_impl
from funcdiff._src.random import laplace as laplace
from funcdiff._src.random import logistic as logistic
from funcdiff._src.random import lognormal as lognormal
from funcdiff._src.random import maxwell as maxwell
from funcdiff._src.random import normal as normal
from funcdiff._src.random import pareto as pareto
from funcdiff._src.random import permutation as permutation
from funcdiff._src.random import rademacher as rademacher
from funcdiff._src.random import randint as randint
from funcdiff._src.random import rayleigh as rayleigh
from funcdiff._src.random import truncated_normal as truncated_normal
from funcdiff._src.random import uniform as uniform
from funcdiff._src.random import weibull_min as weibull_min
from funcdiff._src.random import wrap_key_data as wrap_key_data
from funcdiff._src.random_binomial import binomial as binomial
from funcdiff._src.random_binomial import multinomial as multinomial
from funcdiff._src.random_gamma import beta as beta
from funcdiff._src.random_gamma import chisquare as chisquare
from funcdiff._src.random_gamma import dirichlet as dirichlet
from funcdiff._src.random_gamma import f as f
from funcdiff._src.random_gamma import gamma as gamma
from funcdiff._src.random_gamma import loggamma as loggamma
from funcdiff._src.random_gamma import t as t
from funcdiff._src.random_more import ball as ball
from funcdiff._src.random_more import double_sided_maxwell as double_sided_maxwell
from funcdiff._src.random_more import generalized_normal as generalized_normal
from funcdiff._src.random_more import geometric as geometric
from funcdiff._src.random_more import multivariate_normal as multivariate_normal
from funcdiff._src.random_more import orthogonal as orthogonal
from funcdiff._src.random_more import triangular as triangular
from funcdiff._src.random_more import wald as wald
from funcdiff._src.random_poisson import poisson as poisson
