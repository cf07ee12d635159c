"""Ordinary differential equations, as `jax.experimental.ode`: `odeint`, an adaptive
Dormand–Prince solver differentiable by the adjoint method."""

from funcdiff._src.ode import odeint as odeint

__all__ = ["odeint"]
