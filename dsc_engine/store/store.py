"""The store of one record kind: records in the contract's total order, answering filter ASTs.

Order (CONTRACT.md section 4): newest first by the kind's primary time; ties by ``Id`` descending
for masking runs; then by load order, the record loaded last first.

This first version scans; the indexed store and planner replace its internals behind the same
interface.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import attrs

from dsc_engine.models import MaskingRun, RecordKind
from dsc_engine.models.records import Record
from dsc_engine.query import ast
from dsc_engine.query.evaluate import compile_predicate
from dsc_engine.query.fields import FIELDS, PRIMARY_TIME


@attrs.frozen
class Page:
    """One page of a query: the true total and the records of the asked slice, in order."""

    total: int
    records: Sequence[Record]


class Store:
    """All records of one kind, queried by filter AST with exact paging."""

    def __init__(self, kind: RecordKind) -> None:
        self.kind = kind
        self._time = FIELDS[kind][PRIMARY_TIME[kind]].get
        self._by_id = kind is RecordKind.MASKING_RUN
        self._records: list[Record] = []  # load order
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._records)

    def insert(self, records: Iterable[Record]) -> int:
        """Append records in load order (later records sort first among equal keys)."""
        batch = list(records)
        for record in batch:
            if RecordKind.of(record) is not self.kind:
                raise TypeError(f"{type(record).__name__} is not a {self.kind.value} record")
        with self._lock:
            self._records = self._records + batch
        return len(batch)

    def records_in_load_order(self) -> Sequence[Record]:
        """Every record in the order it was loaded (what a snapshot keeps)."""
        return self._records

    def _sort_key(self, seq_record: tuple[int, Record]) -> tuple[Any, ...]:
        seq, record = seq_record
        ident = record.id if isinstance(record, MaskingRun) else 0
        return (self._time(record), ident, seq)

    def _ordered(self, node: ast.Node) -> list[Record]:
        matches = compile_predicate(node, self.kind)
        hits = [(seq, r) for seq, r in enumerate(self._records) if matches(r)]
        hits.sort(key=self._sort_key, reverse=True)
        return [r for _, r in hits]

    def query(
        self,
        node: ast.Node,
        offset: int = 0,
        limit: int | None = 10,
        *,
        distinct: str | None = None,
    ) -> Page:
        """The records matching ``node`` in contract order, sliced ``[offset, offset+limit)``.

        With ``distinct`` (a field name), only the first (newest) record of each value of that
        field counts, and ``total`` counts those.
        """
        ordered = self._ordered(node)
        if distinct is not None:
            get = FIELDS[self.kind][distinct].get
            seen: set[Any] = set()
            unique = []
            for record in ordered:
                key = get(record)
                if key not in seen:
                    seen.add(key)
                    unique.append(record)
            ordered = unique
        end = None if limit is None else offset + limit
        return Page(len(ordered), ordered[offset:end])

    def count(self, node: ast.Node) -> int:
        matches = compile_predicate(node, self.kind)
        return sum(1 for r in self._records if matches(r))

    def iter_ordered(self, node: ast.Node) -> Iterator[Record]:
        """Every matching record in contract order (for exports)."""
        return iter(self._ordered(node))

    def explain(self, node: ast.Node) -> str:
        return f"scan {len(self._records)} {self.kind.value} records, filter {node!r}"
