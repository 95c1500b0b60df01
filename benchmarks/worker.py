"""One runner in its own process: load the data, answer the workload, report figures as JSON.

    python3 -m benchmarks.worker --runner sqlite3 --data DIR --workload W.json --out OUT.json --reps 5

Memory figures come from ``/proc/self/status`` (``VmHWM``: peak resident set; ``VmRSS``: now),
read before loading (the baseline of the interpreter and imports), after loading and at the end.
Each query runs once (its answer is what the cross-check compares; its time is the query's *cold*
figure, its first execution in a fresh process), then ``reps`` times.
A runner with ``store_call`` (dsc-engine) also has its store's share timed alone.

Once every query has run (and the memory figures are read), each runs ``reps`` times more, each
time right after ``--evict-mib`` MiB were written (the *evicted* figure): what a repeated query
costs when other work has pushed the process's code and data out of the CPU caches, as the
workload's previous query does to a first execution. A first execution near its evicted figure
did no work of its own; the gap between warm and evicted is the memory hierarchy's.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.datafiles import FILE_NAMES
from benchmarks.runner_base import make_runner
from benchmarks.workload import Query
from dsc_engine.models import RecordKind


def memory_kib() -> dict[str, int]:
    """Peak (``hwm``) and current (``rss``) resident memory of this process, in KiB."""
    fields = {}
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(("VmHWM:", "VmRSS:")):
                    name, value = line.split(":", 1)
                    fields[name] = int(value.split()[0])
    except OSError:
        pass
    peak = fields.get("VmHWM", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return {"hwm": peak, "rss": fields.get("VmRSS", peak)}


def _time(call: Callable[[], object], reps: int) -> list[float]:
    """Milliseconds of ``reps`` calls, one sample each."""
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - t0) / 1e6)
    return samples


def evictor(mib: int) -> Callable[[], None]:
    """A call that writes one byte of every 64-byte line of ``mib`` MiB of its own."""
    junk = bytearray(mib << 20)
    zeros = bytes(len(range(0, len(junk), 64)))

    def evict() -> None:
        junk[::64] = zeros

    return evict


def _time_evicted(call: Callable[[], object], reps: int, evict: Callable[[], None]) -> list[float]:
    """Milliseconds of ``reps`` calls, each right after ``evict``."""
    samples = []
    for _ in range(reps):
        evict()
        t0 = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - t0) / 1e6)
    return samples


def run(runner_name: str, data: Path, queries: list[Query], reps: int, snapshot: Path | None = None,
        evict_mib: int = 0) -> dict[str, Any]:
    runner = make_runner(runner_name)
    if snapshot is not None:  # dsc-engine: open this snapshot instead of importing the files
        runner.snapshot = snapshot  # type: ignore[attr-defined]
    gc.collect()
    baseline = memory_kib()
    paths = {kind: data / FILE_NAMES[kind] for kind in RecordKind}
    start = time.perf_counter()
    load = runner.load(paths)
    load_total = time.perf_counter() - start
    gc.collect()
    after_load = memory_kib()
    disk = getattr(runner, "disk_bytes", None)
    results = {}
    for query in queries:
        t0 = time.perf_counter_ns()
        answer = runner.run(query)  # the first execution in this process: the "cold" figure
        cold_ms = (time.perf_counter_ns() - t0) / 1e6
        samples = _time(lambda: runner.run(query), reps)
        entry: dict[str, Any] = {
            "cold_ms": cold_ms,
            "median_ms": statistics.median(samples),
            "min_ms": min(samples),
            "samples_ms": samples,
            "total": answer.total,
            "items": answer.items,
        }
        explain = getattr(runner, "explain", None)
        if explain is not None:
            entry["explain"] = explain(query)
        store_call = getattr(runner, "store_call", None)
        if store_call is not None:
            entry["store_median_ms"] = statistics.median(_time(store_call(query), reps))
        results[query.name] = entry
    end = memory_kib()
    if evict_mib:  # after the memory figures: the eviction buffer is no part of the runner's
        evict = evictor(evict_mib)
        for query in queries:
            samples = _time_evicted(lambda: runner.run(query), reps, evict)
            results[query.name]["evicted_ms"] = statistics.median(samples)
    return {
        "runner": runner_name,
        "load_seconds": {kind.value: s for kind, s in load.items()},
        "load_total_seconds": load_total,
        "memory_kib": {"baseline": baseline, "after_load": after_load, "end": end},
        **({"disk_bytes": disk()} if disk is not None else {}),
        "queries": results,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runner", required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--workload", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--snapshot", type=Path, help="dsc-engine: open this snapshot instead of the files")
    parser.add_argument("--evict-mib", type=int, default=0,
                        help="time each query again after writing this many MiB (0: do not)")
    args = parser.parse_args(argv)
    queries = [Query.from_json(q) for q in json.loads(args.workload.read_text(encoding="utf-8"))]
    report = run(args.runner, args.data, queries, args.reps, args.snapshot, args.evict_mib)
    args.out.write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
