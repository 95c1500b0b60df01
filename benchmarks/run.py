"""The one benchmark command.

    python3 -m benchmarks.run --sizes 100000,1000000

For each size (audit alert logs; masking runs and DMS logs get a tenth as many): generate the data
(cached in ``benchmarks/out/``), build the workload, time the stdlib ``json.loads`` of the lines,
dsc-engine's import of them, the snapshot's save and its open (each in a fresh process), then run
every runner in its own subprocess (dsc-engine opening that snapshot; the others loading the
files), timing each query's first execution (cold) and its repetitions (warm), cross-check their
answers (a disagreement stops the run), and measure server throughput. Writes ``benchmarks/results.json`` and
``benchmarks/RESULTS.md`` (with the command line that produced them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import crosscheck, datafiles, extras, report, workload
from benchmarks.runner_base import RUNNERS
from dsc_engine.sample import DEFAULT_SEED

HERE = Path(__file__).resolve().parent
DEFAULT_RUNNERS = ("dsc-engine", "sqlite3", "naive")  # and "duckdb-plain", "duckdb", "chdb" with the duckdb / clickhouse extras


def _sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def run_worker(runner: str, data: Path, queries_file: Path, reps: int, scratch: Path,
               snapshot: str | None = None, evict_mib: int = 0) -> dict[str, Any]:
    """Run one runner in a fresh interpreter and return its report (dsc-engine opens ``snapshot``
    when one is given, instead of importing the files)."""
    arguments = ["--runner", runner, "--data", str(data), "--workload", str(queries_file),
                 "--reps", str(reps), "--evict-mib", str(evict_mib)]
    if snapshot is not None and runner == "dsc-engine":
        arguments += ["--snapshot", snapshot]
    return extras.run_module("benchmarks.worker", runner, arguments, scratch / f"{runner}.json")


def _machine() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE.parent,
                            capture_output=True, text=True, check=False).stdout.strip()
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "commit": commit or "unknown",
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def _strip(report_: dict[str, Any]) -> dict[str, Any]:
    """A worker report without page items (they were cross-checked; results.json keeps counts)."""
    queries = {name: {k: v for k, v in q.items() if k != "items"} | {"items": len(q["items"])}
               for name, q in report_["queries"].items()}
    return {**report_, "queries": queries}


def run_size(n: int, args: argparse.Namespace, log: Any) -> dict[str, Any]:
    data = datafiles.ensure(args.data_dir / f"data-{n}", n, args.seed)
    queries = workload.build(data.profiles)
    reps = args.reps_large if n >= args.large else args.reps
    with tempfile.TemporaryDirectory(prefix=f"dsc-bench-{n}-") as tmp:
        scratch = Path(tmp)
        queries_file = scratch / "workload.json"
        queries_file.write_text(json.dumps([q.to_json() for q in queries]), encoding="utf-8")
        snap: dict[str, Any] | None = None
        if not args.no_snapshot:  # first: the import, the snapshot the engine then opens
            snap = extras.snapshot_figures(data.directory, scratch, log, args.snapshot_runs)
        opened = snap.get("path") if snap else None
        reports = []
        for runner in args.runners:
            how = "open the snapshot" if opened and runner == "dsc-engine" else "load"
            log(f"[{n}] {runner}: {how} + {len(queries)} queries x {reps} reps")
            reports.append(run_worker(runner, data.directory, queries_file, reps, scratch, opened, args.evict_mib))
        checked = crosscheck.check(reports)
        log(f"[{n}] cross-check: {checked} queries, {len(reports)} runners agree")
        result: dict[str, Any] = {
            "sizes": {kind.value: count for kind, count in data.sizes.items()},
            "reps": reps,
            "evict_mib": args.evict_mib,
            "workload": [q.to_json() for q in queries],
            "crosscheck": f"{checked} queries x {len(reports)} runners: identical totals and pages",
            "runners": {r["runner"]: _strip(r) for r in reports},
        }
        if snap is not None:
            result["snapshot"] = snap
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="dsc-engine benchmarks against sqlite3 and a naive scan")
    parser.add_argument("--sizes", type=_sizes, default=[100_000, 1_000_000],
                        help="comma-separated audit-log counts (others get 1/10), default 100000,1000000")
    parser.add_argument("--runners", type=lambda s: s.split(","), default=list(DEFAULT_RUNNERS),
                        help=f"comma-separated, dsc-engine first (from {', '.join(RUNNERS)})")
    parser.add_argument("--reps", type=int, default=7, help="timed repetitions per query")
    parser.add_argument("--reps-large", type=int, default=3, help="repetitions at sizes >= --large")
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--data-dir", type=Path, default=HERE / "out")
    parser.add_argument("--results", type=Path, default=HERE / "results.json")
    parser.add_argument("--markdown", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--no-snapshot", action="store_true",
                        help="skip the import/snapshot figures (dsc-engine then imports the files itself)")
    parser.add_argument("--no-server", action="store_true", help="skip server throughput")
    parser.add_argument("--server-requests", type=int, default=400,
                        help="signed requests per concurrency level")
    parser.add_argument("--snapshot-runs", type=int, default=3,
                        help="interleaved runs of the json.loads floor, the import and the open (medians)")
    parser.add_argument("--evict-mib", type=int, default=128,
                        help="MiB written before each 'evicted' repetition (0: no such figures)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.runners[0] != "dsc-engine":
        parser.error("--runners must start with dsc-engine (the reference of every ratio)")
    for name in args.runners:
        if name not in RUNNERS:
            parser.error(f"unknown runner {name!r}; known: {', '.join(RUNNERS)}")

    def log(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    shown = ["python3", "-m", "benchmarks.run", *(argv if argv is not None else sys.argv[1:])]
    results: dict[str, Any] = {"command": shlex.join(shown), "machine": _machine(), "sizes": {}}
    for n in args.sizes:
        results["sizes"][str(n)] = run_size(n, args, log)
    if not args.no_server:
        largest = max(args.sizes)
        data_dir = args.data_dir / f"data-{largest}"
        results["server"] = extras.server_figures(data_dir, largest, args.server_requests, log)
    args.results.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    args.markdown.write_text(report.render(results), encoding="utf-8")
    log(f"wrote {args.results} and {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
