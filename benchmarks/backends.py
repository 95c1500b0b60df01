"""The SQL backends' benchmark: the workload on DuckDB and chDB beside the memory engine and sqlite3.

    python3 -m benchmarks.backends --sizes 1000000,10000000

For each size: the data (cached in ``benchmarks/out/``, as ``benchmarks.run`` makes it), the same
workload, each runner in its own subprocess loading the same files through the public API, and
the cross-check (every runner's TotalCount and page items identical, or the run stops). Runners
per size: ``--runners`` below ``--large`` audit logs, ``--large-runners`` from it on (the memory
engine's records take ~0.8 GiB per million, see ``report.py``). Writes
``benchmarks/results-backends.json`` and re-renders ``benchmarks/RESULTS.md``, whose "SQL
backends" section comes from it (the rest from ``results.json``, unchanged).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import crosscheck, datafiles, report, workload
from benchmarks.run import HERE, _machine, _sizes, _strip, run_worker
from benchmarks.runner_base import RUNNERS
from dsc_engine.sample import DEFAULT_SEED

RESULTS = HERE / "results-backends.json"


def _runners(text: str) -> list[str]:
    names = [name for name in text.split(",") if name]
    unknown = [name for name in names if name not in RUNNERS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown runner {unknown[0]!r}; known: {', '.join(RUNNERS)}")
    return names


def run_size(n: int, runners: list[str], reps: int, args: argparse.Namespace, log: Any) -> dict[str, Any]:
    data = datafiles.ensure(args.data_dir / f"data-{n}", n, args.seed)
    queries = workload.build(data.profiles)
    with tempfile.TemporaryDirectory(prefix=f"dsc-backends-{n}-", dir=args.scratch) as tmp:
        scratch = Path(tmp)
        queries_file = scratch / "workload.json"
        queries_file.write_text(json.dumps([q.to_json() for q in queries]), encoding="utf-8")
        reports = []
        for runner in runners:
            log(f"[{n}] {runner}: load + {len(queries)} queries x {reps} reps")
            reports.append(run_worker(runner, data.directory, queries_file, reps, scratch))
        checked = crosscheck.check(reports)
        log(f"[{n}] cross-check: {checked} queries, {len(reports)} runners agree")
    return {
        "sizes": {kind.value: count for kind, count in data.sizes.items()},
        "data_bytes": sum(data.path(kind).stat().st_size for kind in data.sizes),
        "reps": reps,
        "workload": [q.to_json() for q in queries],
        "crosscheck": f"{checked} queries x {len(reports)} runners ({', '.join(runners)}): identical totals and pages",
        "runners": {r["runner"]: _strip(r) for r in reports},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_sizes, default=[1_000_000, 10_000_000])
    parser.add_argument("--runners", type=_runners, default=["dsc-engine", "sqlite3", "duckdb", "chdb"])
    parser.add_argument("--large-runners", type=_runners, default=["duckdb", "chdb"])
    parser.add_argument("--large", type=int, default=5_000_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--data-dir", type=Path, default=HERE / "out")
    parser.add_argument("--scratch", type=Path, default=None, help="where databases are made (default: /tmp)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--markdown", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    shown = ["python3", "-m", "benchmarks.backends", *(argv if argv is not None else sys.argv[1:])]
    results: dict[str, Any] = {"command": shlex.join(shown), "machine": _machine(), "sizes": {}}
    if args.scratch is not None:
        args.scratch.mkdir(parents=True, exist_ok=True)
    for n in args.sizes:
        runners = args.runners if n < args.large else args.large_runners
        results["sizes"][str(n)] = run_size(n, runners, args.reps, args, log)
        args.results.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    main_results = HERE / "results.json"
    if main_results.exists():
        rendered = report.render(json.loads(main_results.read_text(encoding="utf-8")))
        args.markdown.write_text(rendered, encoding="utf-8")
    log(f"wrote {args.results} and {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
