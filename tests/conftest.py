"""Hypothesis profiles. The built-in ``ci`` profile (loaded by hypothesis when CI is set) is kept.

Bytecode for the processes the tests start: where ``PYTHONDONTWRITEBYTECODE`` is set (so that
nothing writes ``__pycache__`` beside the sources), every ``dsc-engine`` or ``python`` process a
test starts would compile the whole package from source again, a fifth of a second each. For
this session they write and read their bytecode in a folder of their own instead
(``PYTHONPYCACHEPREFIX``), removed at the end: the package is compiled once, nothing is written
beside the sources.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
if not os.environ.get("CI"):
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# Shared test helpers (strategies.py, oracle.py) are imported by plain module name.
sys.path.insert(0, str(Path(__file__).parent))

#: (the session's bytecode folder, the PYTHONDONTWRITEBYTECODE it replaced) while it is in use
_BYTECODE: list[tuple[str, str]] = []


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("PYTHONDONTWRITEBYTECODE") and not os.environ.get("PYTHONPYCACHEPREFIX"):
        folder = tempfile.mkdtemp(prefix="dsc-test-bytecode-")
        _BYTECODE.append((folder, os.environ.pop("PYTHONDONTWRITEBYTECODE")))
        os.environ["PYTHONPYCACHEPREFIX"] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    while _BYTECODE:
        folder, was = _BYTECODE.pop()
        os.environ.pop("PYTHONPYCACHEPREFIX", None)
        os.environ["PYTHONDONTWRITEBYTECODE"] = was
        shutil.rmtree(folder, ignore_errors=True)
