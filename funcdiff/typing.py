"""Type aliases for annotating functions that take arrays and dtypes, as `jax.typing`."""

from funcdiff._src.dtypes_api import ArrayLike as ArrayLike
from funcdiff._src.dtypes_api import DTypeLike as DTypeLike

__all__ = ["ArrayLike", "DTypeLike"]
