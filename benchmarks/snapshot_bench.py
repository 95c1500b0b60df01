"""Snapshot figures: write a snapshot of the benchmark data, then load it in a fresh process.

    python3 -m benchmarks.snapshot_bench --data DIR --scratch DIR --out OUT.json

The save step loads the JSON Lines files into an engine and times ``snapshot.save``; the load step
(``--load PATH``, run in its own interpreter so its peak memory is its own) times
``snapshot.load`` into an empty ``Engine`` and checks every record arrived.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.datafiles import FILE_NAMES
from benchmarks.errors import BenchmarkError, WorkerError
from benchmarks.worker import memory_kib
from dsc_engine import Engine
from dsc_engine.io import snapshot
from dsc_engine.models import RecordKind


def save(data: Path, target: Path) -> dict[str, Any]:
    engine = Engine()
    for kind in RecordKind:
        engine.load(data / FILE_NAMES[kind], kind=kind)
    start = time.perf_counter()
    counts = snapshot.save(engine, target)
    seconds = time.perf_counter() - start
    return {"save_seconds": seconds, "bytes": target.stat().st_size,
            "records": {kind.value: n for kind, n in counts.items()}}


def load(target: Path) -> dict[str, Any]:
    engine = Engine()
    start = time.perf_counter()
    counts = snapshot.load(engine, target)
    seconds = time.perf_counter() - start
    return {"load_seconds": seconds, "peak_kib": memory_kib()["hwm"],
            "records": {kind.value: n for kind, n in counts.items()}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path)
    parser.add_argument("--scratch", type=Path)
    parser.add_argument("--load", type=Path, help="only load this snapshot (the fresh-process step)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.load is not None:
        args.out.write_text(json.dumps(load(args.load)), encoding="utf-8")
        return
    target = args.scratch / "bench.snapshot"
    saved = save(args.data, target)
    load_out = args.scratch / "snapshot-load.json"
    command = [sys.executable, "-m", "benchmarks.snapshot_bench", "--load", str(target),
               "--out", str(load_out)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise WorkerError("snapshot load", done.returncode, done.stderr)
    loaded = json.loads(load_out.read_text(encoding="utf-8"))
    if loaded["records"] != saved["records"]:
        raise BenchmarkError(f"snapshot load gave {loaded['records']}, saved {saved['records']}")
    target.unlink()
    args.out.write_text(json.dumps({"available": True, **saved, **loaded}), encoding="utf-8")


if __name__ == "__main__":
    main()
