"""Running pytest in a fresh process on test modules written by a test: what a user's own suite
does with the fixtures, the plugin and the mock, with nothing of this session's state."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def run_pytest(
    folder: Path, modules: Mapping[str, str], *options: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> str:
    """Write ``modules`` (file name -> source) into ``folder``, run pytest there on them (with
    ``options``), and return its output; a run that does not pass fails the caller with it."""
    for name, source in modules.items():
        (folder / name).write_text(source, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *options, "-p", "no:cacheprovider", *modules],
        cwd=folder, capture_output=True, text=True, timeout=timeout, check=False, env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout
