"""SciPy-compatible functions (`funcdiff.scipy.special`)."""

from funcdiff.scipy import special as special
