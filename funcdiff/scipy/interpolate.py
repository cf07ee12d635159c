"""Interpolation with `scipy.interpolate`'s names (JAX's subset): `RegularGridInterpolator`."""

from funcdiff._src.scipy_interpolate import RegularGridInterpolator as RegularGridInterpolator

__all__ = ["RegularGridInterpolator"]
