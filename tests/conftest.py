"""Hypothesis profiles: "ci" (the default: few, reproducible examples, no deadline) and
"thorough" (many random examples), chosen by the HYPOTHESIS_PROFILE environment variable."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=10,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
)
settings.register_profile(
    "thorough",
    max_examples=200,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config):
    # Hypothesis's reporting of a failing example imports mypy_extensions, whose import warns;
    # with filterwarnings=error that would turn every falsified example into an INTERNALERROR.
    config.addinivalue_line(
        "filterwarnings", "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning"
    )
    # Every program jit builds in the tests is type-checked after each optimisation pass.
    import funcdiff

    funcdiff.config.update("check_passes", True)
