"""Global settings: ``funcdiff.config.update(name, value)``, as ``jax.config.update``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Config:
    """The settings object. Known names and their defaults:

    - `jax_enable_x64` (True): accepted so JAX programs run unchanged; funcdiff always keeps
      64-bit types (float64 is the default dtype, as in NumPy).
    - `explain_cache_misses` (False): reserved for `jit` cache-miss explanations.
    """

    _DEFAULTS: dict[str, Any] = {"jax_enable_x64": True, "explain_cache_misses": False}
    _ALIASES: dict[str, str] = {}

    def __init__(self) -> None:
        self._values = dict(self._DEFAULTS)
        self._lock = threading.Lock()

    def update(self, name: str, value: Any) -> None:
        """Set a setting by name; unknown names raise `AttributeError` listing known ones."""
        if name not in self._values:
            raise AttributeError(
                f"Unrecognized config option: {name!r}. Known options: {sorted(self._values)}"
            )
        if name == "jax_enable_x64" and not value:
            raise ValueError(
                "funcdiff always supports 64-bit types; jax_enable_x64=False is not available. "
                "Use float32 arrays explicitly for 32-bit computation."
            )
        with self._lock:
            self._values[name] = value

    def read(self, name: str) -> Any:
        return self._values[name]

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("_values", {})
        if name in values:
            return values[name]
        raise AttributeError(f"config has no option {name!r}")

    @contextmanager
    def override(self, name: str, value: Any) -> Iterator[None]:
        """Temporarily set a setting inside a `with` block."""
        old = self.read(name)
        self.update(name, value)
        try:
            yield
        finally:
            self.update(name, old)


config = Config()
