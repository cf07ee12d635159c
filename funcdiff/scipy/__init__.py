"""SciPy-compatible functions (`funcdiff.scipy.linalg`, `funcdiff.scipy.special`,
`funcdiff.scipy.stats`)."""

from funcdiff.scipy import cluster as cluster
from funcdiff.scipy import interpolate as interpolate
from funcdiff.scipy import linalg as linalg
from funcdiff.scipy import optimize as optimize
from funcdiff.scipy import sparse as sparse
from funcdiff.scipy import special as special
from funcdiff.scipy import stats as stats
