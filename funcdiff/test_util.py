"""Derivative checking against finite differences, for your own functions and rules."""

from funcdiff._src.test_util import check_grads as check_grads
from funcdiff._src.test_util import check_jvp as check_jvp
from funcdiff._src.test_util import check_vjp as check_vjp
from funcdiff._src.test_util import check_vmap as check_vmap
from funcdiff._src.test_util import numerical_jvp as numerical_jvp
