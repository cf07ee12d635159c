"""Discrete Fourier transforms of `funcdiff.numpy` (NumPy's `numpy.fft`, JAX's
`jax.numpy.fft`), differentiable in both modes."""

from funcdiff._src.numpy.fft import fft as fft
from funcdiff._src.numpy.fft import fft2 as fft2
from funcdiff._src.numpy.fft import fftfreq as fftfreq
from funcdiff._src.numpy.fft import fftn as fftn
from funcdiff._src.numpy.fft import fftshift as fftshift
from funcdiff._src.numpy.fft import hfft as hfft
from funcdiff._src.numpy.fft import ifft as ifft
from funcdiff._src.numpy.fft import ifft2 as ifft2
from funcdiff._src.numpy.fft import ifftn as ifftn
from funcdiff._src.numpy.fft import ifftshift as ifftshift
from funcdiff._src.numpy.fft import ihfft as ihfft
from funcdiff._src.numpy.fft import irfft as irfft
from funcdiff._src.numpy.fft import irfft2 as irfft2
from funcdiff._src.numpy.fft import irfftn as irfftn
from funcdiff._src.numpy.fft import rfft as rfft
from funcdiff._src.numpy.fft import rfft2 as rfft2
from funcdiff._src.numpy.fft import rfftfreq as rfftfreq
from funcdiff._src.numpy.fft import rfftn as rfftn

__all__ = [
    "fft", "fft2", "fftfreq", "fftn", "fftshift", "hfft", "ifft", "ifft2", "ifftn", "ifftshift",
    "ihfft", "irfft", "irfft2", "irfftn", "rfft", "rfft2", "rfftfreq", "rfftn",
]
