"""Interpolation with `scipy.ndimage`'s names, differentiable in every mode."""

from funcdiff._src.scipy_ndimage import map_coordinates as map_coordinates
