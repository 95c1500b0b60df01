"""The dsc-engine runner: the public API only. ``Engine().load(path, kind=...)`` per file (or, when
the harness gives a snapshot of the same data, ``snapshot.load`` of it), then
``engine.call(action, params)`` for API queries and ``engine.query(kind, text)`` for the
filter-language ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import semantics
from benchmarks.errors import BenchmarkError
from benchmarks.runner_base import Answer
from benchmarks.workload import FILTER_ACTION, Query
from dsc_engine import Engine
from dsc_engine.api.operations import OPERATIONS
from dsc_engine.io import snapshot
from dsc_engine.models import RecordKind
from dsc_engine.wire.codec import response_item


class EngineRunner:
    name = "dsc-engine"

    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = Engine() if engine is None else engine
        #: a snapshot of the same data to open instead of importing the files (set by the worker)
        self.snapshot: Path | None = None

    def load(self, paths: dict[RecordKind, Path]) -> dict[RecordKind, float]:
        if self.snapshot is not None:
            start = time.perf_counter()
            counts = snapshot.load(self.engine, self.snapshot)
            seconds = time.perf_counter() - start
            total = sum(counts.values()) or 1  # one open for all kinds: shared out by records
            return {kind: seconds * counts[kind] / total for kind in paths}
        seconds = {}
        for kind, path in paths.items():
            start = time.perf_counter()
            report = self.engine.load(path, kind=kind)
            seconds[kind] = time.perf_counter() - start
            if not report.ok:
                raise BenchmarkError(f"dsc-engine did not load {path} cleanly: {report.summary()}")
        return seconds

    def run(self, query: Query) -> Answer:
        if query.action == FILTER_ACTION:
            plan = semantics.plan(query)
            result = self.engine.query(plan.kind, semantics.filter_text(plan),
                                       page=int(query.params["Page"]),
                                       page_size=int(query.params["PageSize"]))
            return Answer(result.total, [response_item(r) for r in result.records])
        body = self.engine.call(query.action, query.params)
        return Answer(body["TotalCount"], body[OPERATIONS[query.action].list_key])

    def explain(self, query: Query) -> str:
        """The store's plan for the query's filter AST."""
        store = self.engine.store(query.kind)
        return store.explain(self.filter_node(query))

    def store_call(self, query: Query) -> Callable[[], Any]:
        """The store's share of the query alone: ``store.query`` with the request's filter AST,
        slice and RuleAggQuery key, prepared in advance (no parameter parsing, no response)."""
        store = self.engine.store(query.kind)
        node = self.filter_node(query)
        if query.action == FILTER_ACTION:
            size = int(query.params["PageSize"])
            offset, distinct = (int(query.params["Page"]) - 1) * size, None
        else:
            request = self._request(query)
            size, offset, distinct = request.size, request.offset, request.group_by
        return lambda: store.query(node, offset, size, distinct=distinct)

    def _request(self, query: Query) -> Any:
        from dsc_engine.api.request import read_request

        return read_request(OPERATIONS[query.action], query.params)

    def filter_node(self, query: Query) -> Any:
        if query.action == FILTER_ACTION:
            from dsc_engine.query.parse import parse_filter

            plan = semantics.plan(query)
            return parse_filter(semantics.filter_text(plan), plan.kind)
        return self._request(query).filter()
