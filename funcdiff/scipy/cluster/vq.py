"""Vector quantisation with `scipy.cluster.vq`'s names (JAX's subset): `vq`."""

from funcdiff._src.scipy_cluster import vq as vq

__all__ = ["vq"]
