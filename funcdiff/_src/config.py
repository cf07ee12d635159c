"""Global settings: ``funcdiff.config.update(name, value)``, as ``jax.config.update``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from funcdiff._src import core


class _JitFlags:
    """`jax_disable_jit`, read by every jitted call (kept here rather than in `core`, which
    never reads it: only `funcdiff._src.jit` does)."""

    disable_jit = False


jit_flags = _JitFlags()


class Config:
    """The settings object. Known names and their defaults:

    - `jax_enable_x64` (True): accepted so JAX programs run unchanged; funcdiff always keeps
      64-bit types (float64 is the default dtype, as in NumPy).
    - `explain_cache_misses` (False): `jit` warns why a call traced again (which argument
      changed, and how).
    - `jax_debug_nans` (False): raise `FloatingPointError` at the first primitive that
      produces a NaN, forward or backward, naming it and the user's line (jitted functions
      then run equation by equation).
    - `jax_debug_infs` (False): the same for infinities.
    - `jax_disable_jit` (False): jitted functions run eagerly (see `funcdiff.disable_jit`).
    - `check_passes` (False): `jit` type-checks the program after each optimisation pass
      (every variable bound once before use, every equation typed by its primitive's rule)
      and names the pass that broke it; the test suite turns it on.

    Accepted so that JAX programs run unchanged, and without effect (funcdiff runs NumPy on
    the CPU): `jax_platform_name`, `jax_platforms`, `jax_default_device`,
    `jax_default_matmul_precision`, `jax_log_compiles`, `jax_compilation_cache_dir`,
    `jax_persistent_cache_min_compile_time_secs`, `jax_traceback_filtering`,
    `jax_check_tracer_leaks`; `jax_numpy_rank_promotion` and `jax_numpy_dtype_promotion`
    accept only their default (`"allow"`, `"standard"`: NumPy's rules, which funcdiff always
    follows), and `jax_threefry_partitionable` only its default, True (the layout of random
    bits `funcdiff.random` reproduces). `config_with_absl()` and `parse_flags_with_absl()` do
    nothing.
    """

    _DEFAULTS: dict[str, Any] = {
        "jax_enable_x64": True,
        "explain_cache_misses": False,
        "jax_debug_nans": False,
        "jax_debug_infs": False,
        "jax_disable_jit": False,
        "check_passes": False,
        # Accepted for JAX programs, without effect.
        "jax_platform_name": "",
        "jax_platforms": None,
        "jax_default_device": None,
        "jax_default_matmul_precision": None,
        "jax_log_compiles": False,
        "jax_compilation_cache_dir": None,
        "jax_persistent_cache_min_compile_time_secs": 1.0,
        "jax_traceback_filtering": "auto",
        "jax_check_tracer_leaks": False,
        "jax_numpy_rank_promotion": "allow",
        "jax_numpy_dtype_promotion": "standard",
        "jax_threefry_partitionable": True,
    }
    # Options with only one value funcdiff can honour (NumPy's rules, JAX's default random
    # bits).
    _ONLY: dict[str, Any] = {"jax_numpy_rank_promotion": "allow",
                             "jax_numpy_dtype_promotion": "standard",
                             "jax_threefry_partitionable": True}
    _ALIASES: dict[str, str] = {"debug_nans": "jax_debug_nans", "debug_infs": "jax_debug_infs",
                                "disable_jit": "jax_disable_jit",
                                "jax_explain_cache_misses": "explain_cache_misses"}

    def __init__(self) -> None:
        self._values = dict(self._DEFAULTS)
        self._lock = threading.Lock()

    def update(self, name: str, value: Any) -> None:
        """Set a setting by name; unknown names raise `AttributeError` listing known ones."""
        name = self._ALIASES.get(name, name)
        if name not in self._values:
            raise AttributeError(
                f"Unrecognized config option: {name!r}. Known options: {sorted(self._values)}"
            )
        if name in self._ONLY and value != self._ONLY[name]:
            why = ("funcdiff.random draws JAX's default (partitionable) random bits"
                   if name == "jax_threefry_partitionable"
                   else "funcdiff always follows NumPy's rules")
            raise ValueError(f"{why}: {name}={value!r} is not available (only "
                             f"{self._ONLY[name]!r}).")
        if name == "jax_enable_x64" and not value:
            raise ValueError(
                "funcdiff always supports 64-bit types; jax_enable_x64=False is not available. "
                "Use float32 arrays explicitly for 32-bit computation."
            )
        with self._lock:
            self._values[name] = value
            if name in ("jax_debug_nans", "jax_debug_infs"):
                core.flags.debug_nans = bool(self._values["jax_debug_nans"])
                core.flags.debug_infs = bool(self._values["jax_debug_infs"])
                core.flags.check_nans = core.flags.debug_nans or core.flags.debug_infs
            elif name == "jax_disable_jit":
                jit_flags.disable_jit = bool(value)

    def config_with_absl(self) -> None:
        """Accepted for JAX programs (which call it before parsing absl flags); does nothing."""

    def parse_flags_with_absl(self) -> None:
        """Accepted for JAX programs; does nothing."""

    def read(self, name: str) -> Any:
        return self._values[self._ALIASES.get(name, name)]

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("_values", {})
        name = self._ALIASES.get(name, name)
        if name in values:
            return values[name]
        raise AttributeError(f"config has no option {name!r}")

    @contextmanager
    def override(self, name: str, value: Any) -> Iterator[None]:
        """Temporarily set a setting inside a `with` block."""
        name = self._ALIASES.get(name, name)
        old = self.read(name)
        self.update(name, value)
        try:
            yield
        finally:
            self.update(name, old)


config = Config()


@contextmanager
def debug_nans(enabled: bool = True) -> Iterator[None]:
    """Within the block, raise at the first primitive that produces a NaN.

    !!! Example
        ```python
        import numpy as np
        import pytest
        import funcdiff
        import funcdiff.numpy as jnp

        with funcdiff.debug_nans():
            with pytest.raises(FloatingPointError, match="log"):
                jnp.log(np.array(-1.0))
        ```
    """
    with config.override("jax_debug_nans", enabled):
        yield


@contextmanager
def debug_infs(enabled: bool = True) -> Iterator[None]:
    """Within the block, raise at the first primitive that produces an infinity (as
    `debug_nans` does for NaNs).

    !!! Example
        ```python
        import numpy as np
        import pytest
        import funcdiff
        import funcdiff.numpy as jnp

        with funcdiff.debug_infs():
            with pytest.raises(FloatingPointError, match="inf produced by primitive 'log'"):
                jnp.log(np.array(0.0))
        ```
    """
    with config.override("jax_debug_infs", enabled):
        yield


@contextmanager
def disable_jit(disable: bool = True) -> Iterator[None]:
    """Within the block, jitted functions run eagerly (Python prints and breakpoints inside
    them see concrete values).

    !!! Example
        ```python
        import funcdiff

        @funcdiff.jit
        def f(x):
            return float(x) + 1.0  # needs a concrete value

        with funcdiff.disable_jit():
            assert f(1.0) == 2.0
        ```
    """
    with config.override("jax_disable_jit", disable):
        yield
