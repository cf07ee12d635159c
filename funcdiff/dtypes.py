"""Dtype utilities, as `jax.dtypes`. funcdiff's dtypes are NumPy's, promoted as NumPy 2
(NEP 50) promotes them, with Python scalars weakly typed and 64-bit types always kept."""

from numpy import finfo as finfo
from numpy import iinfo as iinfo

from funcdiff._src.dtypes import float0 as float0
from funcdiff._src.dtypes_api import canonicalize_dtype as canonicalize_dtype
from funcdiff._src.dtypes_api import itemsize_bits as itemsize_bits
from funcdiff._src.dtypes_api import result_type as result_type
from funcdiff._src.dtypes_api import scalar_type_of as scalar_type_of
from funcdiff.numpy import issubdtype as issubdtype

__all__ = [
    "canonicalize_dtype",
    "finfo",
    "float0",
    "iinfo",
    "issubdtype",
    "itemsize_bits",
    "result_type",
    "scalar_type_of",
]
