"""The testing example of docs/server.md runs as written, as a user's own pytest file."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "server.md"


def _testing_examples() -> list[str]:
    section = DOC.read_text(encoding="utf-8").split("## Testing your SDK code", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.DOTALL)


@pytest.mark.slow
def test_docs_fixture_example_runs(tmp_path: Path) -> None:
    examples = _testing_examples()
    assert len(examples) == 2  # the three-line test, then the dsc_records override
    (tmp_path / "test_user_code.py").write_text("\n".join(examples), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user_code.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
