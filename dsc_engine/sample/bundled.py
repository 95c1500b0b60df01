"""The small sample dataset shipped inside the package (the engine's embedded default).

It is exactly ``generate(kind, BUNDLED_SIZES[kind], DEFAULT_SEED)``, stored as gzip'd JSON Lines of
the full wire form, so it can be read by anything that reads exports. Regenerate it with
``python3 -m dsc_engine.sample``.
"""

from __future__ import annotations

import functools
import gzip
import io
import json
from importlib import resources
from pathlib import Path

from dsc_engine.wire.codec import from_wire, to_wire
from dsc_engine.models import RecordKind
from dsc_engine.models.records import Record
from dsc_engine.sample.generate import DEFAULT_SEED, generate

BUNDLED_SIZES = {
    RecordKind.AUDIT_LOG: 3000,
    RecordKind.MASKING_RUN: 1000,
    RecordKind.DMS_LOG: 2000,
}
_FILES = {
    RecordKind.AUDIT_LOG: "audit_logs.jsonl.gz",
    RecordKind.MASKING_RUN: "masking_runs.jsonl.gz",
    RecordKind.DMS_LOG: "dms_logs.jsonl.gz",
}


def bundled_path(kind: RecordKind | str) -> Path:
    """Where the bundled file of ``kind`` lies (inside the installed package)."""
    return Path(str(resources.files("dsc_engine.sample") / "data" / _FILES[RecordKind.parse(kind)]))


def bundled(kind: RecordKind | str) -> list[Record]:
    """The bundled sample records of ``kind``, in their load order (a new list at each call)."""
    return list(_decoded(RecordKind.parse(kind)))


@functools.cache
def _decoded(kind: RecordKind) -> tuple[Record, ...]:
    """The bundled file of ``kind``, decoded once per process: records are immutable, and every
    ``Engine.from_sample()`` (each command run without ``--data``) would decode all 6,000 again."""
    path = bundled_path(kind)
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return tuple(from_wire(kind, json.loads(line), f"{path.name}:{n}") for n, line in enumerate(lines, 1))


def write_bundled() -> None:
    """Regenerate the bundled files (byte-for-byte reproducible: gzip mtime is fixed)."""
    for kind, size in BUNDLED_SIZES.items():
        text = "".join(
            json.dumps(to_wire(r), ensure_ascii=False, separators=(",", ":")) + "\n"
            for r in generate(kind, size, DEFAULT_SEED)
        )
        buffer = io.BytesIO()
        with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="") as out:
            out.write(text.encode("utf-8"))
        bundled_path(kind).write_bytes(buffer.getvalue())
    _decoded.cache_clear()
