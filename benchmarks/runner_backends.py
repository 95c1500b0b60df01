"""The SQL backends as runners: dsc-engine itself, its records in DuckDB or chDB.

The same public API as the ``dsc-engine`` runner (``runner_engine.py``), on an engine from
``Engine.connect(url)``: ``engine.load(path, kind=...)`` (the importer, inserting in bulk),
``engine.call`` and ``engine.query``. The database is made in a fresh folder under
``DSC_BENCH_SCRATCH`` (default: the system's temporary folder) and removed when the process ends;
``disk_bytes`` is its size after loading.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from benchmarks.runner_engine import EngineRunner
from dsc_engine import Engine


def _folder(name: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=f"dsc-bench-{name}-", dir=os.environ.get("DSC_BENCH_SCRATCH")))
    atexit.register(shutil.rmtree, folder, True)
    return folder


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class DuckDBRunner(EngineRunner):
    name = "duckdb"

    def __init__(self) -> None:
        self.place = _folder(self.name) / "logs.duckdb"
        super().__init__(Engine.connect(f"duckdb://{self.place}"))

    def disk_bytes(self) -> int:
        wal = self.place.with_name(self.place.name + ".wal")
        return _size(self.place) + (_size(wal) if wal.exists() else 0)


class ChdbRunner(EngineRunner):
    name = "chdb"

    def __init__(self) -> None:
        self.place = _folder(self.name) / "chdb"
        super().__init__(Engine.connect(f"chdb://{self.place}"))

    def disk_bytes(self) -> int:
        return _size(self.place / "store") if (self.place / "store").exists() else _size(self.place)
