"""Server throughput: signed requests per second and latency percentiles on loopback.

    python3 -m benchmarks.server_bench --data DIR --requests 400 --out OUT.json

The server runs in its own process (``--serve``): it loads the benchmark data into an ``Engine``
and serves it with ``dsc_engine.testing.TestServer`` (throttling off, since the point is to find
the ceiling), then writes its endpoint and access key to a file. This process then drives it with
the official SDK clients (ACS3-HMAC-SHA256 signatures, one client per thread) at 1, 4 and 16
concurrent clients, cycling through the workload's selective and page-1 API queries of all three
operations. Every answer is checked: an SDK exception counts as an error, and any error fails the
run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import workload
from benchmarks.datafiles import FILE_NAMES, MANIFEST
from benchmarks.errors import BenchmarkError, WorkerError
from dsc_engine.models import RecordKind

LEVELS = (1, 4, 16)
READY_TIMEOUT_S = 600.0


def serve(data: Path, ready: Path) -> None:
    """Serve the data until stdin closes; announce the endpoint and key in ``ready``."""
    from dsc_engine import Engine
    from dsc_engine.server.config import ServerConfig, ThrottleConfig
    from dsc_engine.testing import TestServer

    engine = Engine()
    for kind in RecordKind:
        engine.load(data / FILE_NAMES[kind], kind=kind)
    config = ServerConfig(throttle=ThrottleConfig(enabled=False))
    with TestServer(engine, config=config) as server:
        key = server.access_key
        partial = ready.with_suffix(".partial")
        partial.write_text(json.dumps({"endpoint": server.endpoint, "id": key.id, "secret": key.secret}),
                           encoding="utf-8")
        os.replace(partial, ready)
        sys.stdin.read()  # the driver closes our stdin when it is done


def _calls(server: dict[str, Any], queries: list[workload.Query]) -> list[Callable[[], Any]]:
    """One zero-argument SDK call per query, each on a fresh client of its product."""
    from alibabacloud_dms_enterprise20181101 import models as dms_models
    from alibabacloud_dms_enterprise20181101.client import Client as DmsClient
    from alibabacloud_sddp20190103 import models as sddp_models
    from alibabacloud_sddp20190103.client import Client as SddpClient
    from alibabacloud_tea_openapi.models import Config

    def config() -> Config:
        return Config(access_key_id=server["id"], access_key_secret=server["secret"],
                      endpoint=server["endpoint"], protocol="http", region_id="cn-hangzhou",
                      connect_timeout=5_000, read_timeout=30_000)

    sddp, dms = SddpClient(config()), DmsClient(config())
    calls = []
    for q in queries:
        if q.action == workload.SDDP_AUDIT:
            request = sddp_models.DescribeAuditLogsRequest().from_map(q.params)
            calls.append(lambda r=request: sddp.describe_audit_logs(r))
        elif q.action == workload.SDDP_MASKING:
            request = sddp_models.DescribeDataMaskingRunHistoryRequest().from_map(q.params)
            calls.append(lambda r=request: sddp.describe_data_masking_run_history(r))
        elif q.action == workload.DMS_AUDIT:
            request = dms_models.ListSensitiveDataAuditLogRequest().from_map(q.params)
            calls.append(lambda r=request: dms.list_sensitive_data_audit_log(r))
    return calls


def _level(server: dict[str, Any], queries: list[workload.Query], clients: int, requests: int) -> dict[str, Any]:
    per_client = max(1, requests // clients)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client(offset: int) -> None:
        calls = _calls(server, queries)
        calls[0]()  # connect and warm up outside the measurement
        mine, failed = [], []
        barrier.wait()
        for call in itertools.islice(itertools.cycle(calls[offset % len(calls):] + calls), per_client):
            t0 = time.perf_counter()
            try:
                call()
            except Exception as exc:  # noqa: BLE001 - last resort: any SDK failure is counted and reported
                failed.append(f"{type(exc).__name__}: {exc}")
            mine.append((time.perf_counter() - t0) * 1000)
        with lock:
            latencies.extend(mine)
            errors.extend(failed)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    if errors:
        raise BenchmarkError(f"{len(errors)} server requests failed at {clients} clients; first: {errors[0]}")
    cuts = statistics.quantiles(latencies, n=100)
    return {"clients": clients, "requests": len(latencies), "seconds": seconds,
            "rps": len(latencies) / seconds, "p50_ms": statistics.median(latencies),
            "p99_ms": cuts[98], "errors": len(errors)}


def drive(data: Path, requests: int) -> dict[str, Any]:
    manifest = json.loads((data / MANIFEST).read_text(encoding="utf-8"))
    profiles = {RecordKind(k): p for k, p in manifest["profiles"].items()}
    queries = [q for q in workload.build(profiles)
               if q.category in (workload.SELECTIVE, workload.PAGE1) and q.action != workload.FILTER_ACTION]
    ready = data / "server-ready.json"
    ready.unlink(missing_ok=True)
    command = [sys.executable, "-m", "benchmarks.server_bench", "--serve", "--data", str(data),
               "--ready", str(ready)]
    server = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not ready.exists():
            if server.poll() is not None or time.monotonic() > deadline:
                raise WorkerError("server", server.returncode or -1, server.stderr.read() if server.stderr else "")
            time.sleep(0.2)
        info = json.loads(ready.read_text(encoding="utf-8"))
        levels = [_level(info, queries, clients, requests) for clients in LEVELS]
    finally:
        if server.stdin is not None:
            server.stdin.close()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        ready.unlink(missing_ok=True)
    sizes = manifest["sizes"]
    return {
        "available": True,
        "description": (
            f"The official SDK clients (ACS3-HMAC-SHA256 signing, HTTP on loopback, one client per "
            f"thread) against `dsc_engine.testing.TestServer` in another process, throttling off, "
            f"serving {sizes['audit_log']:,} audit logs, {sizes['masking_run']:,} masking runs and "
            f"{sizes['dms_log']:,} DMS logs. Requests cycle through the {len(queries)} selective and "
            f"page-1 API queries of the workload (all three operations). Clients and server share "
            f"the machine's {os.cpu_count()} cores."),
        "levels": levels,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--serve", action="store_true", help="be the server process")
    parser.add_argument("--ready", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.data, args.ready)
        return
    args.out.write_text(json.dumps(drive(args.data, args.requests)), encoding="utf-8")


if __name__ == "__main__":
    main()
