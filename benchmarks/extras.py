"""Figures beyond the runner comparison: snapshot loading and server throughput.

Each is measured only when the feature exists in the installed package (``dsc_engine.io.snapshot``,
``dsc_engine.testing``); otherwise the figure says so instead of being left out silently.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.errors import WorkerError

HERE = Path(__file__).resolve().parent
SNAPSHOT_MODULE = "dsc_engine.io.snapshot"
TESTING_MODULE = "dsc_engine.testing"


def _exists(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def run_module(module: str, name: str, arguments: list[str], out: Path) -> dict[str, Any]:
    """Run ``python3 -m module ... --out out`` from the repository root; return the JSON it wrote."""
    command = [sys.executable, "-m", module, *arguments, "--out", str(out)]
    done = subprocess.run(command, cwd=HERE.parent, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise WorkerError(name, done.returncode, done.stderr)
    return json.loads(out.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def snapshot_figures(data: Path, scratch: Path, log: Callable[[str], None], runs: int = 3) -> dict[str, Any]:
    if not _exists(SNAPSHOT_MODULE):
        return {"available": False, "reason": f"{SNAPSHOT_MODULE} does not exist at this commit"}
    log(f"snapshot: save and load {data.name} ({runs} interleaved runs)")
    return run_module("benchmarks.snapshot_bench", "snapshot",
                       ["--data", str(data), "--scratch", str(scratch), "--runs", str(runs)], scratch / "snapshot.json")


def server_figures(data: Path, n: int, requests: int, log: Callable[[str], None]) -> dict[str, Any]:
    if not _exists(TESTING_MODULE):
        return {"available": False, "reason": f"{TESTING_MODULE} does not exist at this commit"}
    log(f"server: {requests} signed requests per level against {n:,} audit logs")
    out = data / "server.json"
    return run_module("benchmarks.server_bench", "server",
                       ["--data", str(data), "--requests", str(requests)], out)
