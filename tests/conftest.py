import os

from hypothesis import HealthCheck, settings

# Hypothesis: a CI profile that is deterministic and does not flake on slow machines.
settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=150,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=150)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
