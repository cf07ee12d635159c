"""SciPy-compatible functions (`funcdiff.scipy.linalg`, `funcdiff.scipy.special`,
`funcdiff.scipy.stats`)."""

from funcdiff.scipy import linalg as linalg
from funcdiff.scipy import optimize as optimize
from funcdiff.scipy import sparse as sparse
from funcdiff.scipy import special as special
from funcdiff.scipy import stats as stats
