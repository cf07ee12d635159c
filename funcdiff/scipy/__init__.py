"""SciPy-compatible functions (`funcdiff.scipy.linalg`, `funcdiff.scipy.special`,
`funcdiff.scipy.stats`, `funcdiff.scipy.fft`, `funcdiff.scipy.signal`,
`funcdiff.scipy.ndimage`, `funcdiff.scipy.integrate`)."""

from funcdiff.scipy import cluster as cluster
from funcdiff.scipy import fft as fft
from funcdiff.scipy import integrate as integrate
from funcdiff.scipy import interpolate as interpolate
from funcdiff.scipy import linalg as linalg
from funcdiff.scipy import ndimage as ndimage
from funcdiff.scipy import optimize as optimize
from funcdiff.scipy import signal as signal
from funcdiff.scipy import sparse as sparse
from funcdiff.scipy import special as special
from funcdiff.scipy import stats as stats
