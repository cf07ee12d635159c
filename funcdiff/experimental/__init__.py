"""Experimental APIs, as `jax.experimental`: `io_callback` and `funcdiff.experimental.ode`
(`odeint`)."""

from funcdiff._src.api_extras import io_callback as io_callback
from funcdiff.experimental import ode as ode
