"""The built wheel carries the grammar and the sample data: installed into a fresh virtualenv,
away from the source checkout, its ``dsc-engine`` command answers real queries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*argv: str | Path, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    done = subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.slow
def test_installed_wheel_answers_queries(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", dist, ROOT, cwd=tmp_path)
    (wheel,) = dist.glob("dsc_engine-*.whl")
    with zipfile.ZipFile(wheel) as packed:  # the license the metadata names, in its own words
        (license_name,) = [n for n in packed.namelist() if n.endswith("/LICENSE")]
        assert "Apache License\n                           Version 2.0" in packed.read(license_name).decode()

    # A fresh virtualenv without a pip of its own (installing one takes seconds): this
    # interpreter's pip installs the wheel and its dependencies into it (pip --python).
    venv.create(tmp_path / "venv", with_pip=False)
    bin_dir = tmp_path / "venv" / "bin"
    _run(sys.executable, "-m", "pip", "--python", bin_dir / "python", "install", "-q", wheel, cwd=tmp_path)

    # The grammar is read from the installed package, not from a checkout.
    where = _run(
        bin_dir / "python", "-c",
        "import dsc_engine.query.grammar as g; g.parser(); print(g._grammar_source())",
        cwd=tmp_path,
    )
    assert "site-packages" in where and str(ROOT) not in where

    out = _run(
        bin_dir / "dsc-engine", "--format", "json", "query", "audit",
        'OperateType in {"Drop", "Delete"} and EffectRow in [1 1000]', "--page-size", "3",
        cwd=tmp_path,
    )
    answer = json.loads(out)
    assert answer["TotalCount"] > 0
    items = answer["Items"]
    assert 0 < len(items) <= 3
    assert all(i["OperateType"] in ("Drop", "Delete") and 1 <= i["EffectRow"] <= 1000 for i in items)

    demo = _run(bin_dir / "dsc-engine", "demo", cwd=tmp_path)
    assert "DescribeAuditLogs" in demo and "ListSensitiveDataAuditLog" in demo
