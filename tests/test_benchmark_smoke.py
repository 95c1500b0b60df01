"""The benchmark harness on a tiny data set, so that it cannot rot (benchmarks/ is outside
testpaths). One run of the real command: generate, every runner in its own subprocess, the
cross-check, snapshot and server figures, RESULTS.md and results.json."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

# benchmarks/ sits beside tests/ at the repository root, which plain ``pytest`` does not import from.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import crosscheck, semantics, workload
from benchmarks.datafiles import ensure
from benchmarks.errors import CrossCheckError, WorkloadError
from benchmarks.run import DEFAULT_RUNNERS, main
from dsc_engine.models import RecordKind

SIZE = 300


@pytest.fixture(scope="module")
def run_output(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str, Path]:
    out = tmp_path_factory.mktemp("bench")
    code = main([
        "--sizes", str(SIZE), "--reps", "1", "--server-requests", "16", "--quiet", "--evict-mib", "1", "--snapshot-runs", "2",
        "--data-dir", str(out / "data"), "--results", str(out / "results.json"),
        "--markdown", str(out / "RESULTS.md"),
    ])
    assert code == 0
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return results, (out / "RESULTS.md").read_text(encoding="utf-8"), out


@pytest.mark.slow
def test_benchmark_smoke_every_runner_answers_every_query(run_output: tuple[dict, str, Path]) -> None:
    results, _, _ = run_output
    run = results["sizes"][str(SIZE)]
    assert run["sizes"] == {"audit_log": SIZE, "masking_run": SIZE // 10, "dms_log": SIZE // 10}
    names = [q["name"] for q in run["workload"]]
    assert set(run["runners"]) == set(DEFAULT_RUNNERS)
    for report in run["runners"].values():
        assert list(report["queries"]) == names
        assert all(q["median_ms"] > 0 and q["evicted_ms"] > 0 for q in report["queries"].values())
        assert report["memory_kib"]["end"]["hwm"] >= report["memory_kib"]["baseline"]["rss"] > 0
    engine = run["runners"]["dsc-engine"]["queries"].values()
    assert all(0 < q["store_median_ms"] and q["explain"].strip() for q in engine)
    assert run["crosscheck"].startswith(f"{len(names)} queries x 3 runners")
    # The data has matches: not every query is trivially empty.
    totals = [q["total"] for q in run["runners"]["dsc-engine"]["queries"].values()]
    assert sum(t > 0 for t in totals) > len(totals) // 2


@pytest.mark.slow
def test_benchmark_smoke_extras_and_report(run_output: tuple[dict, str, Path]) -> None:
    results, markdown, _ = run_output
    snapshot = results["sizes"][str(SIZE)]["snapshot"]
    if snapshot["available"]:
        assert snapshot["records"]["audit_log"] == SIZE
        runs = snapshot["runs"]
        assert all(len(samples) == 2 for samples in runs.values())
        assert snapshot["json_loads_seconds"] == sum(runs["json_loads_seconds"]) / 2  # the median of two
        assert snapshot["import_seconds"] == min(runs["import_seconds"])  # the lower middle: a whole run
        assert "(median of 2 runs: " in markdown
        assert set(snapshot["cli_call_seconds"]) == {"DescribeAuditLogs", "DescribeDataMaskingRunHistory",
                                                     "ListSensitiveDataAuditLog"}
        assert all(s > snapshot["python_start_seconds"] > 0 for s in snapshot["cli_call_seconds"].values())
        assert "a fresh `dsc-engine call` process" in markdown
    server = results["server"]
    if server["available"]:
        assert [level["clients"] for level in server["levels"]] == [1, 4, 16]
        assert all(level["errors"] == 0 and level["rps"] > 0 for level in server["levels"])
    assert results["command"].startswith("python3 -m benchmarks.run --sizes 300")
    assert results["command"] in markdown
    for heading in ("## Targets", "### Load and memory", "### Queries (median ms)",
                    "### First executions and evicted caches", "## Deep pages"):
        assert heading in markdown


def test_benchmark_workload_covers_each_kind_and_names_are_unique(tmp_path: Path) -> None:
    data = ensure(tmp_path, 200, seed=5)
    queries = workload.build(data.profiles)
    assert len({q.name for q in queries}) == len(queries)
    for kind in RecordKind:
        assert sum(q.kind is kind for q in queries) >= 12
    for q in queries:
        assert semantics.plan(q).kind is q.kind
        if q.page1_twin is not None:
            assert q.page1_twin in {other.name for other in queries}


def test_benchmark_crosscheck_fails_loudly_on_any_difference() -> None:
    item = {"CreationTime": 1, "UserName": "admin"}
    base = {"runner": "dsc-engine", "queries": {"q": {"total": 1, "items": [item]}}}
    same = {"runner": "sqlite3", "queries": {"q": {"total": 1, "items": [dict(item)]}}}
    assert crosscheck.check([base, same]) == 1
    other_total = {"runner": "naive", "queries": {"q": {"total": 2, "items": [item]}}}
    with pytest.raises(CrossCheckError, match="TotalCount 1 != 2"):
        crosscheck.check([base, other_total])
    other_item = {"runner": "naive", "queries": {"q": {"total": 1, "items": [{**item, "UserName": "root"}]}}}
    with pytest.raises(CrossCheckError, match="UserName"):
        crosscheck.check([base, other_item])


def test_benchmark_semantics_rejects_parameters_it_does_not_model() -> None:
    query = workload.Query("x", RecordKind.AUDIT_LOG, workload.SELECTIVE, workload.SDDP_AUDIT,
                           {"DbType": "MySQL"})
    with pytest.raises(WorkloadError, match="DbType"):
        semantics.plan(query)


@pytest.mark.slow
def test_benchmark_smoke_backends_agree_and_render(tmp_path: Path) -> None:
    """``python3 -m benchmarks.backends`` on a tiny data set: the memory engine, DuckDB and chDB
    give identical answers, and the section renders with disk sizes and ratios."""
    from benchmarks import backends, report

    results = tmp_path / "results-backends.json"
    code = backends.main([
        "--sizes", str(SIZE), "--runners", "dsc-engine,duckdb,chdb", "--reps", "1", "--quiet",
        "--data-dir", str(tmp_path / "data"), "--results", str(results),
        "--markdown", str(tmp_path / "RESULTS.md"), "--scratch", str(tmp_path / "scratch"),
    ])
    assert code == 0
    data = json.loads(results.read_text(encoding="utf-8"))
    run = data["sizes"][str(SIZE)]
    assert run["crosscheck"].startswith("43 queries x 3 runners")
    assert all(run["runners"][name]["disk_bytes"] > 0 for name in ("duckdb", "chdb"))
    section = "\n".join(report.backends_section(data))
    assert "duckdb / dsc-engine" in section and "on disk MiB" in section
