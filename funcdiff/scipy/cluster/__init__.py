"""Clustering with `scipy.cluster`'s names: `funcdiff.scipy.cluster.vq`."""

from funcdiff.scipy.cluster import vq as vq
