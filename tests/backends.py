"""The backends the suite runs on: the in-memory store, DuckDB and chDB, and a live ClickHouse
server when ``DSC_TEST_CLICKHOUSE_URL`` is set (``docs/backends.md``, "Testing").

- :data:`NAMES` lists them, for ``pytest.mark.parametrize``.
- :func:`open_backend` opens a new, empty one: an engine and a way to empty it again. DuckDB gets
  a file of its own; chDB (one engine path per process) and ClickHouse a database of their own.
- :func:`examples` caps hypothesis's examples on the SQL backends, whose every statement costs
  milliseconds, so that the parametrised property tests stay within the suite's time.
- :data:`RUNS`: DuckDB's key tables take a run every few records here (and are rewritten as one
  every few runs), so that the suite answers from key tables, their tail and rewritten runs, not
  only from the scan that a database under a million records would use.
"""

from __future__ import annotations

import atexit
import functools
import itertools
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import attrs
from hypothesis import settings

from dsc_engine import Engine
from dsc_engine.models import RecordKind
from dsc_engine.query.source import RecordSource
from dsc_engine.sql.keys import RunPolicy
from dsc_engine.store import Store

CLICKHOUSE_URL = os.environ.get("DSC_TEST_CLICKHOUSE_URL", "")
NAMES: tuple[str, ...] = ("memory", "duckdb", "chdb", *(("clickhouse",) if CLICKHOUSE_URL else ()))
SQL_NAMES = tuple(name for name in NAMES if name != "memory")
#: The most hypothesis examples a property test draws on each SQL backend (the memory engine
#: keeps the profile's number).
MAX_EXAMPLES = {"duckdb": 25, "chdb": 12, "clickhouse": 12}
#: When the test databases' key tables take runs (a run every 3 records, rewritten past 2 runs).
RUNS = RunPolicy(rows=3, most=2)

_numbers = itertools.count()


@functools.cache
def _scratch() -> Path:
    """One folder per test process for database files (chDB allows one engine path per process)."""
    path = Path(tempfile.mkdtemp(prefix="dsc-backends-"))
    atexit.register(shutil.rmtree, path, True)
    return path


def url_of(name: str) -> str:
    """A URL naming a new, empty database of backend ``name``."""
    number = f"{os.getpid()}_{next(_numbers)}"
    if name == "duckdb":
        return f"duckdb://{_scratch()}/test_{number}.duckdb"
    if name == "chdb":
        return f"chdb://{_scratch()}/chdb?database=test_{number}"
    if name == "clickhouse":
        base, _, _ = CLICKHOUSE_URL.partition("?")
        scheme, _, rest = base.partition("://")
        authority = rest.split("/", 1)[0]
        return f"{scheme}://{authority}/dsc_test_{number}"
    raise ValueError(f"no URL for backend {name!r}")


@attrs.define
class Opened:
    """An engine on one backend, and how to empty it (tables kept) or close it."""

    name: str
    engine: Engine
    clear: Callable[[], None]

    def fresh(self, kind: RecordKind) -> RecordSource:
        """The engine's source of ``kind``, emptied first (a new ``Store`` for the memory engine)."""
        if self.name == "memory":
            return Store(kind)
        self.clear()
        return self.engine.store(kind)

    def close(self) -> None:
        self.engine.close()


def open_backend(name: str) -> Opened:
    """A new, empty engine on backend ``name``."""
    if name == "memory":
        engine = Engine()

        def clear() -> None:
            engine._sources = {kind: Store(kind) for kind in RecordKind}

        return Opened(name, engine, clear)
    from dsc_engine.sql.backend import connect

    backend = connect(url_of(name), RUNS)
    return Opened(name, Engine(backend.sources, on_close=backend.close), backend.clear)


def examples(name: str) -> settings:
    """The hypothesis settings of a property test on backend ``name``."""
    cap = MAX_EXAMPLES.get(name)
    current = settings()
    if cap is None or current.max_examples <= cap:
        return current
    return settings(current, max_examples=cap)
