"""Discrete cosine transforms with `scipy.fft`'s names, differentiable in every mode."""

from funcdiff._src.scipy_fft import dct as dct
from funcdiff._src.scipy_fft import dctn as dctn
from funcdiff._src.scipy_fft import idct as idct
from funcdiff._src.scipy_fft import idctn as idctn
