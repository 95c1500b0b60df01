"""Import, snapshot and open figures, each step in a fresh process.

    python3 -m benchmarks.snapshot_bench --data DIR --scratch DIR --out OUT.json [--runs 3]

1. ``--floor``: the stdlib ``json.loads`` of every line of the three files (the floor every
   import and open is compared with).
2. ``--save``: one import of the three JSON Lines files (``load_into``, kinds told from the
   content), then ``snapshot.save`` of the engine (size and time; it waits for the indexes the
   import's background builder was making).
3. ``--load PATH``: ``snapshot.load`` into an empty ``Engine``: time, peak RSS while opening and
   RSS after, and every record counted.
4. What a shell user waits for: ``dsc-engine call`` of each operation on the snapshot, each in a
   fresh process (interpreter start, imports, the open of the kind it reads, the answer, the
   output), wall-clock seconds, beside the interpreter's own start (``python3 -c pass``).

The machine is shared and its speed drifts over the minutes these steps take (the same import
measured 1.12x to 1.65x its floor in four runs, each with one sample of each): so ``--runs``
times the floor, an import and save, and an open, interleaved, and every figure is the median of
its runs (every sample is kept, in ``runs``). The snapshot is left in the scratch folder
(``bench.snapshot``) for the dsc-engine runner to open.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.datafiles import FILE_NAMES
from benchmarks.errors import BenchmarkError, WorkerError
from benchmarks.worker import memory_kib
from dsc_engine import Engine
from dsc_engine.io import imports, snapshot
from dsc_engine.models import RecordKind

SNAPSHOT_NAME = "bench.snapshot"


def floor(data: Path) -> dict[str, Any]:
    """Seconds the stdlib json.loads takes over every line of the three files."""
    loads = json.loads
    start = time.perf_counter()
    lines = 0
    for kind in RecordKind:
        with open(data / FILE_NAMES[kind], "rb") as source:
            for line in source:
                loads(line)
                lines += 1
    return {"json_loads_seconds": time.perf_counter() - start, "lines": lines}


def save(data: Path, target: Path) -> dict[str, Any]:
    engine = Engine()
    start = time.perf_counter()
    report = imports.load_into(engine, [data / FILE_NAMES[kind] for kind in RecordKind])  # one import
    imported = time.perf_counter() - start
    if not report.ok:
        raise BenchmarkError(f"dsc-engine did not import {data} cleanly: {report.summary()}")
    import_peak = memory_kib()["hwm"]
    start = time.perf_counter()
    counts = snapshot.save(engine, target)
    seconds = time.perf_counter() - start
    return {"import_seconds": imported, "import_peak_kib": import_peak, "save_seconds": seconds,
            "bytes": target.stat().st_size, "records": {kind.value: n for kind, n in counts.items()}}


def load(target: Path) -> dict[str, Any]:
    engine = Engine()
    start = time.perf_counter()
    counts = snapshot.load(engine, target)
    seconds = time.perf_counter() - start
    after = memory_kib()
    return {"load_seconds": seconds, "peak_kib": after["hwm"], "rss_after_kib": after["rss"],
            "records": {kind.value: n for kind, n in counts.items()}}


#: One call per operation, each answering a first page (the DMS one over every day of the data).
CLI_CALLS = {
    "DescribeAuditLogs": ["PageSize=10"],
    "DescribeDataMaskingRunHistory": ["PageSize=10"],
    "ListSensitiveDataAuditLog": ["PageNumber=1", "PageSize=10", "StartTime=2000-01-01 00:00:00",
                                  "EndTime=2099-12-31 23:59:59"],
}


def cli_calls(target: Path) -> dict[str, Any]:
    """Wall-clock seconds of a fresh ``dsc-engine call`` process per operation (the output is
    checked to be an answer), and of a fresh interpreter doing nothing. The processes may keep
    compiled bytecode, as an installed package does (``pip`` writes it at install): with
    ``PYTHONDONTWRITEBYTECODE`` set, as in some shells and containers, each process would compile
    every module of the engine again (~0.2 s); one call untimed comes first, to write it."""
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}

    def timed(command: list[str]) -> float:
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False, env=environment)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise WorkerError(f"{' '.join(command[:6])}", done.returncode, done.stderr or done.stdout)
        return seconds

    def command(action: str, params: list[str]) -> list[str]:
        call = [sys.executable, "-m", "dsc_engine.cli", "--format", "json", "call", action, "--data", str(target)]
        return call + [f"--param={param}" for param in params]

    timed(command(*next(iter(CLI_CALLS.items()))))  # writes the bytecode
    seconds = {action: timed(command(action, params)) for action, params in CLI_CALLS.items()}
    return {"cli_call_seconds": seconds, "python_start_seconds": timed([sys.executable, "-c", "pass"])}


def _step(arguments: list[str], out: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.snapshot_bench", *arguments, "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise WorkerError(f"snapshot step {arguments[0]}", done.returncode, done.stderr)
    return json.loads(out.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path)
    parser.add_argument("--scratch", type=Path)
    parser.add_argument("--floor", action="store_true", help="only time json.loads (a fresh-process step)")
    parser.add_argument("--save", type=Path, help="only import and save to this path (a fresh-process step)")
    parser.add_argument("--load", type=Path, help="only load this snapshot (a fresh-process step)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs of floor, import and open")
    args = parser.parse_args(argv)
    if args.floor:
        args.out.write_text(json.dumps(floor(args.data)), encoding="utf-8")
        return
    if args.save is not None:
        args.out.write_text(json.dumps(save(args.data, args.save)), encoding="utf-8")
        return
    if args.load is not None:
        args.out.write_text(json.dumps(load(args.load)), encoding="utf-8")
        return
    target = args.scratch / SNAPSHOT_NAME
    floors, saves, loads = [], [], []
    for _ in range(args.runs):  # interleaved: each figure's runs meet the machine at the same moments
        floors.append(_step(["--floor", "--data", str(args.data)], args.scratch / "floor.json"))
        saves.append(_step(["--save", str(target), "--data", str(args.data)], args.scratch / "save.json"))
        loads.append(_step(["--load", str(target)], args.scratch / "snapshot-load.json"))
    for loaded, saved in zip(loads, saves, strict=True):
        if loaded["records"] != saved["records"]:
            raise BenchmarkError(f"snapshot load gave {loaded['records']}, saved {saved['records']}")
    figures = {
        "json_loads_seconds": _median(floors, "json_loads_seconds"), "lines": floors[0]["lines"],
        **_median_run(saves, "import_seconds"),
        "save_seconds": _median(saves, "save_seconds"),
        **_median_run(loads, "load_seconds"),
        "runs": {"json_loads_seconds": [f["json_loads_seconds"] for f in floors],
                 "import_seconds": [s["import_seconds"] for s in saves],
                 "save_seconds": [s["save_seconds"] for s in saves],
                 "load_seconds": [f["load_seconds"] for f in loads]},
    }
    called = cli_calls(target)
    args.out.write_text(json.dumps({"available": True, "path": str(target), **figures, **called}), encoding="utf-8")


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def _median_run(runs: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The run whose ``key`` is the median (the lower middle of an even count), whole: its other
    figures (memory, counts) are that run's."""
    ordered = sorted(runs, key=lambda run: run[key])
    return ordered[(len(ordered) - 1) // 2]

if __name__ == "__main__":
    main()
