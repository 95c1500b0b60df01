"""The benchmark data: generated once per (sizes, seed, generator source), as JSON Lines files.

Each kind is written to its own file in the wire form (``dsc_engine.wire.codec.to_wire``), one record
a line, in generation order (the load order every runner keeps). Beside the files,
``manifest.json`` holds the sizes, the seed, a digest of the generator's source (so a changed
generator regenerates the data) and a *profile* of each kind: its time span and value counts of
the fields the workload filters on, from which ``workload.py`` picks selective and common values.
"""

from __future__ import annotations

import collections
import hashlib
import importlib
import inspect
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from dsc_engine.wire.codec import to_wire
from dsc_engine.models import RecordKind
from dsc_engine.sample.generate import iterate

FILE_NAMES = {
    RecordKind.AUDIT_LOG: "audit_logs.jsonl",
    RecordKind.MASKING_RUN: "masking_runs.jsonl",
    RecordKind.DMS_LOG: "dms_logs.jsonl",
}

#: Primary time key of each kind's wire form.
TIME_KEYS = {
    RecordKind.AUDIT_LOG: "CreationTime",
    RecordKind.MASKING_RUN: "StartTime",
    RecordKind.DMS_LOG: "OpTime",
}

#: Wire keys whose value counts the workload needs (DMS also gets ``DbName`` and entry pairs).
PROFILED_KEYS = {
    RecordKind.AUDIT_LOG: ("UserName", "RuleId", "InstanceName", "OperateType", "ClientIp"),
    RecordKind.MASKING_RUN: ("TaskId", "Status", "SrcType", "DstType", "MainProcessId",
                             "SrcTableName"),
    RecordKind.DMS_LOG: ("UserName", "ModuleName", "Tid"),
}

MANIFEST = "manifest.json"


def sizes_for(audit_logs: int) -> dict[RecordKind, int]:
    """Sizes of the three kinds for a run of ``audit_logs`` audit alert logs (the others 1/10)."""
    other = max(1, audit_logs // 10)
    return {RecordKind.AUDIT_LOG: audit_logs, RecordKind.MASKING_RUN: other,
            RecordKind.DMS_LOG: other}


def _generator_digest() -> str:
    source = inspect.getsource(importlib.import_module("dsc_engine.sample.generate"))
    return hashlib.sha256(source.encode()).hexdigest()[:16]


@attrs.frozen
class DataSet:
    """Generated files of one size, and the profile of each kind."""

    directory: Path
    sizes: dict[RecordKind, int]
    seed: int
    profiles: dict[RecordKind, dict[str, Any]]

    def path(self, kind: RecordKind) -> Path:
        return self.directory / FILE_NAMES[kind]


def _profile(kind: RecordKind, items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    counts: dict[str, collections.Counter[Any]] = {k: collections.Counter() for k in PROFILED_KEYS[kind]}
    if kind is RecordKind.DMS_LOG:
        counts["DbName"] = collections.Counter()
        counts["Entry"] = collections.Counter()
    low = high = None
    n = 0
    for item in items:
        n += 1
        t = item[TIME_KEYS[kind]]
        low = t if low is None or t < low else low
        high = t if high is None or t > high else high
        for key in PROFILED_KEYS[kind]:
            if key in item:
                counts[key][item[key]] += 1
        if kind is RecordKind.DMS_LOG:
            if "DbDisplayName" in item:
                counts["DbName"][item["DbDisplayName"].split("@", 1)[0]] += 1
            pairs = {(e.get("TableName"), e.get("ColumnName")) for e in item["SensitiveDataLog"]}
            for table, column in pairs:
                if table is not None and column is not None:
                    counts["Entry"][f"{table}|{column}"] += 1
    return {
        "count": n,
        "time_min": low,
        "time_max": high,
        # JSON object keys are strings; the value's own JSON type is kept beside it.
        "values": {key: sorted(([v, c] for v, c in counter.items()), key=lambda vc: (-vc[1], str(vc[0])))
                   for key, counter in counts.items()},
    }


def _write(kind: RecordKind, n: int, seed: int, path: Path) -> dict[str, Any]:
    """Write the records one at a time (10M audit logs do not fit in memory as objects) and
    profile them on the way."""
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:

        def written() -> Iterable[dict[str, Any]]:
            for record in iterate(kind, n, seed=seed):
                item = to_wire(record)
                out.write(json.dumps(item, ensure_ascii=False, separators=(",", ":")))
                out.write("\n")
                yield item

        profile = _profile(kind, written())
    tmp.replace(path)
    return profile


def ensure(directory: Path, audit_logs: int, seed: int) -> DataSet:
    """The data set of this size in ``directory``, generated unless an identical one is there."""
    directory.mkdir(parents=True, exist_ok=True)
    sizes = sizes_for(audit_logs)
    wanted = {
        "sizes": {kind.value: n for kind, n in sizes.items()},
        "seed": seed,
        "generator": _generator_digest(),
    }
    manifest_path = directory / MANIFEST
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files_there = all((directory / FILE_NAMES[k]).exists() for k in sizes)
        if files_there and all(manifest.get(k) == v for k, v in wanted.items()):
            profiles = {RecordKind(k): p for k, p in manifest["profiles"].items()}
            return DataSet(directory, sizes, seed, profiles)
    profiles = {kind: _write(kind, n, seed, directory / FILE_NAMES[kind]) for kind, n in sizes.items()}
    manifest = {**wanted, "profiles": {kind.value: p for kind, p in profiles.items()}}
    manifest_path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return DataSet(directory, sizes, seed, profiles)
