"""Differentiable special functions with `scipy.special`'s names."""

from funcdiff._src.scipy_special import entr as entr
from funcdiff._src.scipy_special import erf as erf
from funcdiff._src.scipy_special import erfc as erfc
from funcdiff._src.scipy_special import expit as expit
from funcdiff._src.scipy_special import logit as logit
from funcdiff._src.scipy_special import logsumexp as logsumexp
from funcdiff._src.scipy_special import xlog1py as xlog1py
from funcdiff._src.scipy_special import xlogy as xlogy
