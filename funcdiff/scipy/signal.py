"""Signal processing with `scipy.signal`'s names, differentiable in every mode."""

from funcdiff._src.scipy_signal import convolve as convolve
from funcdiff._src.scipy_signal import convolve2d as convolve2d
from funcdiff._src.scipy_signal import correlate as correlate
from funcdiff._src.scipy_signal import correlate2d as correlate2d
from funcdiff._src.scipy_signal import detrend as detrend
from funcdiff._src.scipy_signal import fftconvolve as fftconvolve
from funcdiff._src.scipy_spectral import csd as csd
from funcdiff._src.scipy_spectral import istft as istft
from funcdiff._src.scipy_spectral import stft as stft
from funcdiff._src.scipy_spectral import welch as welch
