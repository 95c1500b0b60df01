"""A deliberately naive reference store: scan every record, test it, sort by the contract, slice.

It shares nothing with the engine's evaluator or store but the field catalog's getters (how to
read a field from a record); the meaning of each node is written out again here, plainly.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dsc_engine.models import MaskingRun, RecordKind
from dsc_engine.query import ast
from dsc_engine.wire.catalog import FIELDS, NESTED, PRIMARY_TIME


def matches(node: ast.Node, record: Any, catalog: Any, nested: Any) -> bool:
    if isinstance(node, ast.MatchAll):
        return True
    if isinstance(node, ast.And):
        return all(matches(item, record, catalog, nested) for item in node.items)
    if isinstance(node, ast.Or):
        return any(matches(item, record, catalog, nested) for item in node.items)
    if isinstance(node, ast.Not):
        return not matches(node.item, record, catalog, nested)
    value = catalog[node.field].get(record)
    if isinstance(node, ast.AnyEntry):
        return any(matches(node.condition, e, nested[node.field], {}) for e in value)
    if isinstance(node, ast.Compare) and node.op is ast.CompareOp.NE:
        return value != node.value
    if value is None:
        return False
    if isinstance(node, ast.Compare):
        return {"=": value == node.value, "<": value < node.value, "<=": value <= node.value,
                ">": value > node.value, ">=": value >= node.value}[node.op.value]
    if isinstance(node, ast.EqualsIgnoreCase):
        return value.casefold() == node.value.casefold()
    if isinstance(node, ast.InSet):
        return value in node.values
    if isinstance(node, ast.Contains):
        return node.text.casefold() in value.casefold()
    if isinstance(node, ast.StartsWith):
        return value.casefold().startswith(node.text.casefold())
    if isinstance(node, ast.Range):
        low_ok = node.low is None or value > node.low or (node.low_inclusive and value == node.low)
        high_ok = node.high is None or value < node.high or (node.high_inclusive and value == node.high)
        return low_ok and high_ok
    raise TypeError(f"not a filter node: {node!r}")


class Oracle:
    """Records of one kind in load order; every query scans them all.

    The answer of a filter is kept until the next insert: tests ask for several pages and the
    count of one filter, and each scan of a few thousand records costs tens of milliseconds.
    """

    def __init__(self, kind: RecordKind) -> None:
        self.kind = kind
        self.records: list[Any] = []
        self._answers: dict[tuple[ast.Node, int], list[Any]] = {}

    def insert(self, records: list[Any]) -> None:
        self.records.extend(records)
        self._answers.clear()

    def ordered(self, node: ast.Node) -> list[Any]:
        key = (node, len(self.records))
        if key not in self._answers:
            self._answers[key] = self._scan(node)
        return list(self._answers[key])

    def _scan(self, node: ast.Node) -> list[Any]:
        catalog, nested = FIELDS[self.kind], NESTED[self.kind]
        time = catalog[PRIMARY_TIME[self.kind]].get
        hits = [(i, r) for i, r in enumerate(self.records) if matches(node, r, catalog, nested)]
        # newest first; masking runs by Id descending; then the record loaded last first
        hits.sort(key=lambda h: (time(h[1]), h[1].id if isinstance(h[1], MaskingRun) else 0, h[0]))
        return [record for _, record in reversed(hits)]

    def query(self, node: ast.Node, offset: int = 0, limit: int | None = 10,
              distinct: str | None = None) -> tuple[int, list[Any]]:
        result = self.ordered(node)
        if distinct is not None:
            get, seen, unique = FIELDS[self.kind][distinct].get, set(), []
            for record in result:
                if get(record) not in seen:
                    seen.add(get(record))
                    unique.append(record)
            result = unique
        return len(result), result[offset:None if limit is None else offset + limit]

    def count_by(self, node: ast.Node, field: str) -> list[tuple[Any, int]]:
        """How many matching records count under each value of ``field``, most first, then by
        value (a list of entries by its text), absent last. A field of the kind's entries (a DMS
        log's ``TableName``): each distinct value
        the record's entries hold counts the record once; a record whose entries hold none, once
        as ``None``."""
        counts: dict[Any, int] = {}
        for record in self.ordered(node):
            if field in FIELDS[self.kind]:
                values = [FIELDS[self.kind][field].get(record)]
            else:
                (list_field, entry_fields), = NESTED[self.kind].items()
                entries = FIELDS[self.kind][list_field].get(record)
                values = []
                for entry in entries:
                    value = entry_fields[field].get(entry)
                    if value is not None and value not in values:
                        values.append(value)
                values = values or [None]
            for value in values:
                counts[value] = counts.get(value, 0) + 1
        def tie(value: Any) -> tuple[bool, Any]:
            return value is None, "" if value is None else value if isinstance(value, int | str | dt.datetime) else str(value)

        return sorted(counts.items(), key=lambda item: (-item[1], *tie(item[0])))


def store_and_oracle(kind: RecordKind, batches: list[int], seed: int) -> tuple[Any, Oracle]:
    """A ``Store`` and an oracle holding the same generated batches (of the sizes ``batches``,
    the first generated with ``seed``, the next with ``seed + 1``, and so on)."""
    from dsc_engine.sample import generate
    from dsc_engine.store import Store

    store, oracle = Store(kind), Oracle(kind)
    for offset, size in enumerate(batches):
        batch = generate(kind, size, seed=seed + offset)
        store.insert(batch)
        oracle.insert(batch)
    return store, oracle
