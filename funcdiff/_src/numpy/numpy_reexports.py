"""NumPy objects that `funcdiff.numpy` re-exports unchanged, as `jax.numpy` offers them:
scalar types and dtype queries, index helpers that build plain index objects or constant
grids, printing options and file input/output (funcdiff's arrays are NumPy arrays).

Functions here never see traced values: input/output and printing need concrete arrays.
"""

from numpy import (
    array_repr,
    array_str,
    can_cast,
    cdouble,
    character,
    csingle,
    double,
    euler_gamma,
    flexible,
    from_dlpack,
    frombuffer,
    fromfile,
    fromiter,
    fromstring,
    generic,
    get_printoptions,
    index_exp,
    int_,
    isdtype,
    iterable,
    load,
    mgrid,
    object_,
    ogrid,
    printoptions,
    promote_types,
    s_,
    save,
    savez,
    set_printoptions,
    signedinteger,
    single,
    uint,
    unsignedinteger,
)
from numpy import bool as bool  # noqa: A004
from numpy.exceptions import ComplexWarning

__all__ = [
    "ComplexWarning", "array_repr", "array_str", "bool", "can_cast", "cdouble", "character",
    "csingle", "double", "euler_gamma", "flexible", "from_dlpack", "frombuffer", "fromfile",
    "fromiter", "fromstring", "generic", "get_printoptions", "index_exp", "int_", "isdtype",
    "iterable", "load", "mgrid", "object_", "ogrid", "printoptions", "promote_types", "s_",
    "save", "savez", "set_printoptions", "signedinteger", "single", "uint", "unsignedinteger",
]
