"""RESULTS.md from results.json: targets as pass/fail, then the figures behind them.

Ratios are *runner time / dsc-engine time* from the same run (above 1: dsc-engine is faster).
A hand-written ``analysis.md`` beside this file, when present, is included verbatim under
"Analysis" (the why of missed targets; the store's ``explain()`` of each miss is printed here).
``python3 -m benchmarks.report`` re-renders RESULTS.md from results.json without measuring again.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from benchmarks.workload import DEEP, PAGE1, SELECTIVE

ENGINE = "dsc-engine"
GIB = 1024 * 1024  # KiB in a GiB
FAST_MS = 2.0
#: How many of the slowest queries a target's detail names.
WORST_SHOWN = 6
ANALYSIS = Path(__file__).resolve().parent / "analysis.md"
#: The SQL backends' figures (``python3 -m benchmarks.backends``, one file per run: ``results-backends*.json``),
#: each rendered as a section of its own.
BACKENDS = Path(__file__).resolve().parent
BACKENDS_ANALYSIS = BACKENDS / "analysis-backends.md"
SQL_RUNNERS = ("duckdb", "chdb")
#: Target of selective API queries on DuckDB at 10M audit logs (ms).
SQL_SELECTIVE_MS = 50.0
MACHINE_GIB = 24


def _ms(value: float) -> str:
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _ratio(other: float, engine: float) -> str:
    if engine <= 0:
        return "n/a"
    ratio = other / engine
    return f"{ratio:.1f}x" if ratio >= 1 else f"{ratio:.2g}x"


def _mib(kib: int) -> str:
    return f"{kib / 1024:.0f}"


def _mark(ok: bool) -> str:
    return "pass" if ok else "**FAIL**"


def _n(size: str) -> str:
    return f"{int(size):,}"


def _engine_queries(run: dict[str, Any]) -> dict[str, Any]:
    return run["runners"][ENGINE]["queries"]  # type: ignore[no-any-return]


def _largest(results: dict[str, Any]) -> str:
    return max(results["sizes"], key=int)


def targets(results: dict[str, Any]) -> list[tuple[str, str, bool, str]]:
    """Each target at each size it applies to: (target, size, passed, detail)."""
    rows = []
    for size, run in results["sizes"].items():
        engine = _engine_queries(run)
        workload = {q["name"]: q for q in run["workload"]}
        if "sqlite3" in run["runners"]:
            lite = run["runners"]["sqlite3"]
            slower = [(name, q["median_ms"] / lite["queries"][name]["median_ms"])
                      for name, q in engine.items()
                      if q["median_ms"] > lite["queries"][name]["median_ms"]]
            worst = sorted(slower, key=lambda x: -x[1])[:WORST_SHOWN]
            detail = (f"{len(engine) - len(slower)} of {len(engine)} queries as fast or faster"
                      + ("; slowest vs sqlite3: " + ", ".join(f"{n} {r:.1f}x" for n, r in worst)
                         if slower else ""))
            rows.append(("each query no slower than sqlite3", size, not slower, detail))
            load_e = run["runners"][ENGINE]["load_total_seconds"]
            load_s = lite["load_total_seconds"]
            rows.append(("load no slower than sqlite3", size, load_e <= load_s,
                         f"dsc-engine {load_e:.1f} s, sqlite3 {load_s:.1f} s ({load_e / load_s:.2f}x)"))
        deep = [(q["name"], q["page1_twin"]) for q in run["workload"] if q["category"] == DEEP]
        worst = [(name, engine[name]["median_ms"] / engine[twin]["median_ms"]) for name, twin in deep]
        rows.append(("page 1000 within 2x of page 1", size, all(r <= 2 for _, r in worst),
                     ", ".join(f"{name} {r:.2f}x" for name, r in worst)))
        rows += _cold_targets(size, run)
        if int(size) >= 1_000_000 or size == _largest(results):
            fast = [name for name, q in workload.items() if q["category"] in (SELECTIVE, PAGE1)]
            slow = [(n, engine[n]["median_ms"]) for n in fast if engine[n]["median_ms"] >= FAST_MS]
            label = "selective and page-1 queries under 2 ms" + ("" if int(size) >= 1_000_000 else " (largest size run)")
            rows.append((label, size, not slow,
                         f"{len(fast) - len(slow)} of {len(fast)} under {FAST_MS} ms"
                         + ("; over: " + ", ".join(f"{n} {_ms(ms)} ms" for n, ms in slow) if slow else "")))
            peak = run["runners"][ENGINE]["memory_kib"]["end"]["hwm"]
            label = "resident memory under 1 GiB" + ("" if int(size) >= 1_000_000 else " (largest size run)")
            rows.append((label, size, peak < GIB, f"peak VmHWM {_mib(peak)} MiB"))
    return rows


def _cold_sum(report: dict[str, Any]) -> float:
    """Seconds of the first execution of every query, in order, in the runner's fresh process."""
    return sum(q.get("cold_ms", 0.0) for q in report["queries"].values()) / 1000


def _cold_targets(size: str, run: dict[str, Any]) -> list[tuple[str, str, bool, str]]:
    """The import, snapshot and first-query targets (where the run measured them)."""
    rows: list[tuple[str, str, bool, str]] = []
    snap = run.get("snapshot") or {}
    engine = run["runners"][ENGINE]
    floor = snap.get("json_loads_seconds")
    if snap.get("available") and floor:
        opened, imported = snap["load_seconds"], snap["import_seconds"]
        medians = f"; medians of {len(snap['runs']['load_seconds'])} interleaved runs" if snap.get("runs") else ""
        rows.append(("snapshot open <= 0.25x json.loads", size, opened <= 0.25 * floor,
                     f"open {opened:.2f} s, json.loads {floor:.2f} s ({opened / floor:.2f}x{medians})"))
        peak, after = snap["peak_kib"], snap["rss_after_kib"]
        rows.append(("peak RSS while opening <= 1.1x RSS after", size, peak <= 1.1 * after,
                     f"peak {_mib(peak)} MiB, after {_mib(after)} MiB ({peak / after:.2f}x)"))
        rows.append(("JSON Lines import <= 1.5x json.loads", size, imported <= 1.5 * floor,
                     f"import {imported:.2f} s, json.loads {floor:.2f} s ({imported / floor:.2f}x{medians})"))
        rows.append(("snapshot save <= import", size, snap["save_seconds"] <= imported,
                     f"save {snap['save_seconds']:.2f} s ({snap['bytes'] / 1e6:.0f} MB), import {imported:.2f} s"))
    queries = engine["queries"]
    if all("cold_ms" in q for q in queries.values()):
        over = sorted(((n, q["cold_ms"] / q["median_ms"]) for n, q in queries.items()
                       if q["cold_ms"] > 2 * q["median_ms"]), key=lambda x: -x[1])
        label = "each query's first execution <= 2x its warm median" + (" (after an open)" if snap.get("available") else "")
        rows.append((label, size, not over,
                     f"{len(queries) - len(over)} of {len(queries)} within 2x"
                     + ("; over: " + ", ".join(f"{n} {r:.1f}x" for n, r in over[:WORST_SHOWN]) if over else "")))
        cold = _cold_sum(engine)
        lite = run["runners"].get("sqlite3")
        if lite is not None:
            other = _cold_sum(lite)
            rows.append(("cold workload no slower than sqlite3's", size, cold <= other,
                         f"dsc-engine {cold:.2f} s, sqlite3 {other:.2f} s ({cold / other:.2f}x)"))
        duck = run["runners"].get("duckdb-plain")
        if duck is not None:
            mine = engine["load_total_seconds"] + cold
            theirs = duck["load_total_seconds"] + _cold_sum(duck)
            rows.append(("open + cold workload within 2x of DuckDB's load + cold workload", size,
                         mine <= 2 * theirs,
                         f"dsc-engine {engine['load_total_seconds']:.2f} + {cold:.2f} s, DuckDB "
                         f"{duck['load_total_seconds']:.2f} + {_cold_sum(duck):.2f} s ({mine / theirs:.2f}x)"))
    return rows


def _load_table(run: dict[str, Any]) -> list[str]:
    engine_load = run["runners"][ENGINE]["load_total_seconds"]
    out = ["| runner | audit logs s | masking runs s | DMS logs s | total s | vs dsc-engine "
           "| RSS before load MiB | RSS after load MiB | peak RSS MiB |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in run["runners"].items():
        s, m = r["load_seconds"], r["memory_kib"]
        out.append(f"| {name} | {s['audit_log']:.2f} | {s['masking_run']:.2f} | {s['dms_log']:.2f} "
                   f"| {r['load_total_seconds']:.2f} | {_ratio(r['load_total_seconds'], engine_load)} "
                   f"| {_mib(m['baseline']['rss'])} | {_mib(m['after_load']['rss'])} | {_mib(m['end']['hwm'])} |")
    return out


def _query_table(run: dict[str, Any]) -> list[str]:
    others = [name for name in run["runners"] if name != ENGINE]
    head = (["query", "category", "TotalCount", f"{ENGINE} ms", "of which store ms", f"{ENGINE} cold ms"]
            + [f"{o} ms" for o in others] + [f"{o} cold ms" for o in others]
            + [f"{o} / engine" for o in others] + ["no slower than sqlite3"])
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * 3 + "---:|" * (len(head) - 4) + "---|"]
    store = "store_median_ms"
    engine = _engine_queries(run)
    for q in run["workload"]:
        e = engine[q["name"]]
        cells = [f"`{q['name']}`", q["category"], f"{e['total']:,}", _ms(e["median_ms"]),
                 _ms(e[store]) if store in e else "n/a", _ms(e["cold_ms"]) if "cold_ms" in e else "n/a"]
        cells += [_ms(run["runners"][o]["queries"][q["name"]]["median_ms"]) for o in others]
        cells += [_ms(run["runners"][o]["queries"][q["name"]].get("cold_ms", 0.0)) for o in others]
        cells += [_ratio(run["runners"][o]["queries"][q["name"]]["median_ms"], e["median_ms"]) for o in others]
        lite = run["runners"].get("sqlite3")
        cells.append(_mark(e["median_ms"] <= lite["queries"][q["name"]]["median_ms"]) if lite else "n/a")
        out.append("| " + " | ".join(cells) + " |")
    return out


def _evicted_table(run: dict[str, Any]) -> list[str]:
    """Per runner, how many first executions are within 2x of the warm median and within 2x of
    the median after evicting the caches; then every query some runner has over 2x warm."""
    runners = [name for name, r in run["runners"].items()
               if all("evicted_ms" in q and "cold_ms" in q for q in r["queries"].values())]
    out = ["**evicted**: the median of the query repeated, each time right after writing "
           f"{run.get('evict_mib', 128)} MiB (the plan and every index kept; only the CPU caches "
           "lost), measured once every query had run.", "",
           "| runner | first execution <= 2x warm | first execution <= 2x evicted | cold workload s "
           "| evicted workload s |", "|---|---:|---:|---:|---:|"]
    over: set[str] = set()
    for name in runners:
        queries = run["runners"][name]["queries"]
        warm = [n for n, q in queries.items() if q["cold_ms"] <= 2 * q["median_ms"]]
        evicted = [n for n, q in queries.items() if q["cold_ms"] <= 2 * q["evicted_ms"]]
        over |= set(queries) - set(warm)
        out.append(f"| {name} | {len(warm)} of {len(queries)} | {len(evicted)} of {len(queries)} "
                   f"| {sum(q['cold_ms'] for q in queries.values()) / 1000:.3f} "
                   f"| {sum(q['evicted_ms'] for q in queries.values()) / 1000:.3f} |")
    out += ["", "| query | " + " | ".join(f"{n} cold / warm / evicted ms" for n in runners) + " |",
            "|---|" + "---:|" * len(runners)]
    for q in run["workload"]:
        if q["name"] in over:
            cells = []
            for name in runners:
                e = run["runners"][name]["queries"][q["name"]]
                cells.append(f"{_ms(e['cold_ms'])} / {_ms(e['median_ms'])} / {_ms(e['evicted_ms'])}")
            out.append(f"| `{q['name']}` | " + " | ".join(cells) + " |")
    return out


def _deep_table(results: dict[str, Any]) -> list[str]:
    out = ["| size | page-1000 query | page 1 ms | page 1000 ms | page 1000 / page 1 | within 2x |",
           "|---|---|---:|---:|---:|---|"]
    for size, run in results["sizes"].items():
        engine = _engine_queries(run)
        for q in run["workload"]:
            if q["category"] == DEEP:
                p1, deep = engine[q["page1_twin"]]["median_ms"], engine[q["name"]]["median_ms"]
                out.append(f"| {_n(size)} | `{q['name']}` (items {engine[q['name']]['items']}) | {_ms(p1)} "
                           f"| {_ms(deep)} | {deep / p1:.2f}x | {_mark(deep <= 2 * p1)} |")
    return out


def _growth_table(results: dict[str, Any]) -> list[str]:
    sizes = sorted(results["sizes"], key=int)
    if len(sizes) < 2:
        return ["(one size run; no growth figures)"]
    low, high = sizes[0], sizes[-1]
    factor = int(high) / int(low)
    out = [f"dsc-engine median per query at {_n(low)} and {_n(high)} audit logs "
           f"({factor:.0f}x the data); linear growth would be {factor:.0f}x.", "",
           f"| query | {_n(low)} ms | {_n(high)} ms | growth |", "|---|---:|---:|---:|"]
    a, b = _engine_queries(results["sizes"][low]), _engine_queries(results["sizes"][high])
    for name in a:
        out.append(f"| `{name}` | {_ms(a[name]['median_ms'])} | {_ms(b[name]['median_ms'])} "
                   f"| {b[name]['median_ms'] / a[name]['median_ms']:.1f}x |")
    return out


def _misses(results: dict[str, Any]) -> list[str]:
    """The plans of every query that misses a target, at the largest size run."""
    out = []
    for size, run in results["sizes"].items():
        if size != _largest(results):
            continue
        engine = _engine_queries(run)
        lite = run["runners"].get("sqlite3", {}).get("queries", {})
        slow = set()
        for q in run["workload"]:
            e = engine[q["name"]]
            if q["name"] in lite and e["median_ms"] > lite[q["name"]]["median_ms"]:
                slow.add(q["name"])
            if (q["category"] in (SELECTIVE, PAGE1)
                    and e["median_ms"] >= FAST_MS):
                slow.add(q["name"])
            if q["category"] == DEEP and e["median_ms"] > 2 * engine[q["page1_twin"]]["median_ms"]:
                slow.add(q["name"])
        for q in run["workload"]:
            if q["name"] not in slow:
                continue
            e = engine[q["name"]]
            out.append(f"- **{_n(size)}, `{q['name']}`** ({q['category']}, {e['total']:,} matches): "
                       f"dsc-engine {_ms(e['median_ms'])} ms"
                       + (f", sqlite3 {_ms(lite[q['name']]['median_ms'])} ms" if q["name"] in lite else ""))
            out.append(f"  - request: `{q['action']}` `{_params(q['params'])}`")
            out.append("  - dsc-engine `explain()`:")
            out += ["", "    ```", *(f"    {line}" for line in e.get("explain", "n/a").splitlines()),
                    "    ```", ""]
            if q["name"] in lite and "explain" in lite[q["name"]]:
                out.append(f"  - sqlite3 plan: `{lite[q['name']]['explain']}`")
    return out or ["No query misses a target of its own answer (no slower than sqlite3, selective and page-1 "
                   "answers under 2 ms, page 1000 within 2x of page 1); for the first-execution target, see the analysis."]


def _params(params: dict[str, Any]) -> str:
    text = ", ".join(f"{k}={v}" for k, v in params.items())
    return text.replace("`", "'").replace("|", "\\|") or "(no parameters)"


def _snapshot(results: dict[str, Any]) -> list[str]:
    out = ["| size | figure |", "|---|---|"]
    for size, run in results["sizes"].items():
        snap = run.get("snapshot")
        if snap is None:
            continue
        if not snap.get("available"):
            out.append(f"| {_n(size)} | not measured: {snap['reason']} |")
            continue
        floor = snap.get("json_loads_seconds", 0.0) or float("nan")
        out.append(f"| {_n(size)} | stdlib `json.loads` of every line: {floor:.2f} s{_runs(snap, 'json_loads_seconds')}"
                   f"; JSON Lines import {snap['import_seconds']:.2f} s{_runs(snap, 'import_seconds')} "
                   f"({snap['import_seconds'] / floor:.2f}x json.loads, peak RSS "
                   f"{_mib(snap['import_peak_kib'])} MiB); snapshot {snap['bytes'] / 1e6:.1f} MB, saved in "
                   f"{snap['save_seconds']:.2f} s{_runs(snap, 'save_seconds')}; opened in {snap['load_seconds']:.2f} s"
                   f"{_runs(snap, 'load_seconds')} "
                   f"({snap['load_seconds'] / floor:.2f}x json.loads), peak RSS {_mib(snap['peak_kib'])} MiB, "
                   f"{_mib(snap['rss_after_kib'])} MiB after{_cli_calls(snap)} |")
    return out if len(out) > 2 else ["(not run)"]


def _runs(snap: dict[str, Any], key: str) -> str:
    """`` (median of 3 runs: a, b, c s)`` when the figure is a median of interleaved runs."""
    samples = (snap.get("runs") or {}).get(key)
    if not samples or len(samples) < 2:
        return ""
    return f" (median of {len(samples)} runs: {', '.join(f'{x:.2f}' for x in samples)} s)"


def _cli_calls(snap: dict[str, Any]) -> str:
    """The fresh ``dsc-engine call`` processes on the snapshot, when the run timed them."""
    calls = snap.get("cli_call_seconds")
    if not calls:
        return ""
    each = ", ".join(f"{action} {seconds:.2f} s" for action, seconds in calls.items())
    return (f"; a fresh `dsc-engine call` process on it (start with compiled bytecode kept, open of the kind read, answer): {each} "
            f"(`python3 -c pass`: {snap['python_start_seconds']:.2f} s)")


def _server(results: dict[str, Any]) -> list[str]:
    server = results.get("server")
    if server is None:
        return ["(not run)"]
    if not server.get("available"):
        return [f"Not measured: {server['reason']}"]
    out = [f"{server['description']}", "",
           "| concurrent clients | requests | requests/s | p50 ms | p99 ms | errors |",
           "|---:|---:|---:|---:|---:|---:|"]
    for level in server["levels"]:
        out.append(f"| {level['clients']} | {level['requests']} | {level['rps']:.0f} | "
                   f"{_ms(level['p50_ms'])} | {_ms(level['p99_ms'])} | {level['errors']} |")
    return out


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        "# dsc-engine benchmark results", "",
        "Produced, in one run, by:", "", "```", results["command"], "```", "",
        f"Commit `{m['commit']}`, {m['date']}; {m['cpu']}, {m['cores']} cores, Python {m['python']}, "
        f"{m['platform']}. The machine is shared with other work, so figures are noisy: every "
        "latency is the median of the repetitions of that run, and every ratio compares runners "
        "measured in the same run. Each runner ran in its own subprocess, loading the same JSON "
        "Lines files (the wire form, one record a line) written by `dsc_engine.sample.generate`.",
        "", "Runners: **dsc-engine** through its public API (`Engine().load(path)`, "
        "`engine.call(action, params)`, `engine.query(kind, filter)`); **sqlite3** (stdlib, in "
        "memory, a table per kind, DMS entries in a child table, composite indexes on each "
        "filtered column followed by the sort key; `COUNT(*)` + `ORDER BY ... LIMIT/OFFSET`); "
        "**naive** (a list of dicts: filter, sort, slice). Before any figure was kept, every "
        "runner's TotalCount and page items (wire JSON) were checked identical for every query. "
        "When the run made a snapshot (the default), dsc-engine *opens* it instead of importing the "
        "files: its load figures are the open, and the import is in the snapshot section. **cold** is "
        "each query's first execution in the runner's fresh process, in workload order; **duckdb-plain** "
        "(DuckDB used directly, when run) reads each file with `read_json` into a table, one thread, no index.",
        "", "## Targets", "", "| target | size | result | detail |", "|---|---|---|---|",
    ]
    for target, size, ok, detail in targets(results):
        lines.append(f"| {target} | {_n(size)} | {_mark(ok)} | {detail} |")
    for size, run in results["sizes"].items():
        sizes = run["sizes"]
        lines += ["", f"## {_n(size)} audit alert logs", "",
                  f"{sizes['audit_log']:,} audit alert logs, {sizes['masking_run']:,} masking runs, "
                  f"{sizes['dms_log']:,} DMS logs; {run['reps']} timed repetitions per query "
                  f"after one untimed run; cross-check: {run['crosscheck']}.", "",
                  "### Load and memory", "", *_load_table(run), "",
                  "### Queries (median ms)", "", *_query_table(run)]
        if any("evicted_ms" in q for q in run["runners"][ENGINE]["queries"].values()):
            lines += ["", "### First executions and evicted caches", "", *_evicted_table(run)]
    lines += ["", "## Deep pages (dsc-engine)", "", *_deep_table(results),
              "", "## Growth with data size (dsc-engine)", "", *_growth_table(results),
              "", "## Import, snapshot save and open (each in a fresh process)", "", *_snapshot(results),
              "", "## Server throughput", "", *_server(results),
              "", f"## Missed targets at {_n(_largest(results))}: the plans", "", *_misses(results)]
    if ANALYSIS.exists():
        lines += ["", "## Analysis", "", ANALYSIS.read_text(encoding="utf-8").strip()]
    runs = [json.loads(path.read_text(encoding="utf-8")) for path in BACKENDS.glob("results-backends*.json")]
    for run in sorted(runs, key=lambda r: min(int(size) for size in r["sizes"])):
        lines += ["", *backends_section(run)]
    if runs and BACKENDS_ANALYSIS.exists():
        lines += ["", "## SQL backends: analysis", "", BACKENDS_ANALYSIS.read_text(encoding="utf-8").strip()]
    lines += ["", "Machine-readable figures (every sample, every plan): `benchmarks/results.json`"
              + (" and `benchmarks/results-backends*.json`." if runs else "."), ""]
    return "\n".join(lines)


def _selective_api(run: dict[str, Any]) -> list[str]:
    return [q["name"] for q in run["workload"] if q["category"] == SELECTIVE and q["action"] != "Filter"]


def _backend_targets(results: dict[str, Any]) -> list[str]:
    out = ["| target | size | result | detail |", "|---|---|---|---|"]
    for size, run in results["sizes"].items():
        if "duckdb" not in run["runners"] or int(size) < 10_000_000:
            continue
        queries = run["runners"]["duckdb"]["queries"]
        names = _selective_api(run)
        slow = [(n, queries[n]["median_ms"]) for n in names if queries[n]["median_ms"] > SQL_SELECTIVE_MS]
        worst = max(names, key=lambda n: queries[n]["median_ms"])
        detail = (f"{len(names) - len(slow)} of {len(names)} at or under {SQL_SELECTIVE_MS:.0f} ms; slowest "
                  f"`{worst}` {_ms(queries[worst]['median_ms'])} ms"
                  + ("; over: " + ", ".join(f"`{n}` {_ms(ms)} ms" for n, ms in slow) if slow else ""))
        out.append(f"| selective API queries on DuckDB under {SQL_SELECTIVE_MS:.0f} ms | {_n(size)} "
                   f"| {_mark(not slow)} | {detail} |")
    return out if len(out) > 2 else ["(no 10,000,000 run with DuckDB in these results)"]


def _backend_load(run: dict[str, Any]) -> list[str]:
    out = ["| runner | load s | audit logs s | on disk MiB | RSS after load MiB | peak RSS MiB |",
           "|---|---:|---:|---:|---:|---:|"]
    for name, r in run["runners"].items():
        disk = f"{r['disk_bytes'] / 2**20:.0f}" if "disk_bytes" in r else "(memory)"
        m = r["memory_kib"]
        out.append(f"| {name} | {r['load_total_seconds']:.1f} | {r['load_seconds']['audit_log']:.1f} | {disk} "
                   f"| {_mib(m['after_load']['rss'])} | {_mib(m['end']['hwm'])} |")
    return out


def _backend_queries(run: dict[str, Any]) -> list[str]:
    names = list(run["runners"])
    reference = ENGINE if ENGINE in names else None
    sql = [n for n in names if n in SQL_RUNNERS]
    head = ["query", "category", "TotalCount", *(f"{n} ms" for n in names)]
    if reference:
        head += [f"{n} / {reference}" for n in sql]
    out = ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 2)]
    first = run["runners"][names[0]]["queries"]
    for q in run["workload"]:
        cells = [f"`{q['name']}`", q["category"], f"{first[q['name']]['total']:,}"]
        cells += [_ms(run["runners"][n]["queries"][q["name"]]["median_ms"]) for n in names]
        if reference:
            base = run["runners"][reference]["queries"][q["name"]]["median_ms"]
            cells += [_ratio(run["runners"][n]["queries"][q["name"]]["median_ms"], base) for n in sql]
        out.append("| " + " | ".join(cells) + " |")
    return out


def _memory_ceiling(results: dict[str, Any]) -> list[str]:
    for size, run in sorted(results["sizes"].items(), key=lambda kv: -int(kv[0])):
        engine = run["runners"].get(ENGINE)
        if engine is None:
            continue
        m = engine["memory_kib"]
        per_million = (m["end"]["hwm"] - m["baseline"]["rss"]) / (int(size) / 1e6)
        ceiling = (MACHINE_GIB * GIB - m["baseline"]["rss"]) / per_million
        return [f"The memory engine's ceiling on this machine: at {_n(size)} audit logs (and a tenth as many "
                f"masking runs and DMS logs) its peak resident set grew by {per_million / 1024:.0f} MiB per "
                f"million audit logs above the interpreter's {_mib(m['baseline']['rss'])} MiB, so the "
                f"{MACHINE_GIB} GiB of this machine hold at most about {ceiling:.0f} million audit logs "
                "in memory, if nothing else ran (the machine is shared: in practice less). Past that, and "
                "past one machine, the SQL backends hold them on disk."]
    return []


_RUNNER_TEXT = {
    ENGINE: "**dsc-engine** (`Engine()`, in memory)",
    "sqlite3": "**sqlite3** (as above)",
    "duckdb": "**duckdb** (`Engine.connect('duckdb:///.../logs.duckdb')`, one file)",
    "chdb": "**chdb** (`Engine.connect('chdb:///.../dir')`, ClickHouse in the process)",
}


def backends_section(results: dict[str, Any]) -> list[str]:
    """The "SQL backends" section of RESULTS.md for one ``results-backends*.json`` run."""
    m = results["machine"]
    sizes = ", ".join(_n(size) for size in results["sizes"])
    names = list(dict.fromkeys(name for run in results["sizes"].values() for name in run["runners"]))
    checked = all(len(run["runners"]) > 1 for run in results["sizes"].values())
    lines = [
        f"## SQL backends at {sizes} audit logs", "",
        "Produced, in one run, by:", "", "```", results["command"], "```", "",
        f"Commit `{m['commit']}`, {m['date']}; {m['cpu']}, {m['cores']} cores, Python {m['python']}. "
        "Runners, each in its own subprocess loading the same JSON Lines files through the public "
        f"API: {', '.join(_RUNNER_TEXT.get(n, n) for n in names)}. The SQL runners load through the "
        "engine's own importer (every record validated, then inserted in batches of 50,000 as Arrow "
        "tables) and answer with the SQL of `dsc_engine/sql`. "
        + ("Every runner's TotalCount and page items were checked identical for every query before "
           "any figure was kept. " if checked else
           "One runner only: these answers were not cross-checked against another runner at this "
           "size (the analysis below says what they were compared with). ")
        + "Latencies are medians of the repetitions (the machine is shared: noisy); ratios compare "
        "runners of the same run (above 1: slower than the memory engine).",
    ]
    if any(int(size) >= 10_000_000 for size in results["sizes"]):
        lines += ["", "### Target", "", *_backend_targets(results)]
    ceiling = _memory_ceiling(results)
    if ceiling:
        lines += ["", *ceiling]
    for size, run in results["sizes"].items():
        counts = run["sizes"]
        lines += ["", f"### {_n(size)} audit alert logs", "",
                  f"{counts['audit_log']:,} audit alert logs, {counts['masking_run']:,} masking runs, "
                  f"{counts['dms_log']:,} DMS logs ({run['data_bytes'] / 2**30:.2f} GiB of JSON Lines); "
                  f"{run['reps']} timed repetitions per query after one untimed run; cross-check: "
                  f"{run['crosscheck']}.", "", "Load, disk and memory:", "", *_backend_load(run), "",
                  "Queries (median ms):", "", *_backend_queries(run)]
    return lines


def main(argv: list[str] | None = None) -> None:
    """Re-render RESULTS.md from results.json (after editing analysis.md); no figure changes."""
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("results", type=Path, nargs="?", default=here / "results.json")
    parser.add_argument("markdown", type=Path, nargs="?", default=here / "RESULTS.md")
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text(encoding="utf-8"))
    args.markdown.write_text(render(results), encoding="utf-8")


if __name__ == "__main__":
    main()
