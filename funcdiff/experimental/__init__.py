"""Experimental APIs, as `jax.experimental`: `funcdiff.experimental.ode` (`odeint`)."""

from funcdiff.experimental import ode as ode
