"""Hypothesis profiles. The built-in ``ci`` profile (loaded by hypothesis when CI is set) is kept."""

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
if not os.environ.get("CI"):
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# Shared test helpers (strategies.py, oracle.py) are imported by plain module name.
sys.path.insert(0, str(Path(__file__).parent))
