"""An import's batch for a SQL table (``DecodedBatch``: records and the fast path's structs, in
load order) gives the columns its records would give (a struct's absent value the marker
``ABSENT``, its record's ``None``), and the Arrow table of an insert built from it is the one
built from the records: absent values, DMS times, entries and derived fields included."""

from __future__ import annotations

from typing import Any

import attrs
import msgspec
import pytest

from dsc_engine import sample
from dsc_engine.models import RecordKind
from dsc_engine.models.records import Record
from dsc_engine.sql.schema import TABLES
from dsc_engine.sql.source import _arrow
from dsc_engine.wire.batch import DecodedBatch
from dsc_engine.wire.codec import ABSENT, line_decoder, to_wire


def _records(kind: RecordKind) -> list[Record]:
    """Sample records, some lacking every optional field (absent in their lines)."""
    records = sample.generate(kind, 40, seed=11)
    optional = [f.name for f in attrs.fields(type(records[0])) if f.default is None]
    bare = attrs.evolve(records[5], **dict.fromkeys(optional))
    return [*records[:5], bare, *records[6:], bare]


def _mixed(kind: RecordKind, records: list[Record]) -> tuple[DecodedBatch, list[Any]]:
    """The records as one batch: every third one a record, the others structs of their lines."""
    decoder = line_decoder(kind)
    items = [
        record if index % 3 == 1 else decoder.decode(msgspec.json.encode(to_wire(record)))
        for index, record in enumerate(records)
    ]
    return DecodedBatch(kind, items, decoder), items


@pytest.mark.parametrize("kind", list(RecordKind))
@pytest.mark.parametrize("layout", ["mixed", "structs only", "records only"])
def test_a_batch_encodes_as_its_records(kind: RecordKind, layout: str) -> None:
    records = _records(kind)
    if layout == "structs only":
        decoder = line_decoder(kind)
        items: list[Any] = [decoder.decode(msgspec.json.encode(to_wire(r))) for r in records]
        batch = DecodedBatch(kind, items, decoder)
    elif layout == "records only":
        batch = DecodedBatch(kind, list(records), line_decoder(kind))
    else:
        batch, items = _mixed(kind, records)
        assert {type(item) for item in items} == {type(records[0]), type(items[0])}
    assert list(batch) == records
    assert batch[3] == records[3] and list(batch[2:6]) == records[2:6]
    table = TABLES[kind]
    from_batch, from_records = table.encode(batch, 7), table.encode(records, 7)
    absent = {name: [None if v is ABSENT else v for v in values] for name, values in from_batch.items()}
    assert absent == from_records
    assert _arrow(table, from_batch, batch).equals(_arrow(table, from_records, records))
    if layout != "records only":  # a struct's absent value is the marker, which Arrow reads as null
        assert any(ABSENT in values for values in from_batch.values())


def test_only_the_records_of_a_batch_are_given_to_be_checked() -> None:
    records = _records(RecordKind.DMS_LOG)
    batch, items = _mixed(RecordKind.DMS_LOG, records)
    assert list(batch.records()) == [(index, items[index]) for index in range(1, len(records), 3)]


def test_a_batch_refuses_another_kinds_decoder() -> None:
    with pytest.raises(ValueError, match="a dms_log decoder cannot read a batch of audit_log records"):
        DecodedBatch(RecordKind.AUDIT_LOG, [], line_decoder(RecordKind.DMS_LOG))


def test_an_empty_batch_has_empty_columns() -> None:
    batch = DecodedBatch(RecordKind.AUDIT_LOG, [], line_decoder(RecordKind.AUDIT_LOG))
    assert batch.columns(["user_name", "log_time"]) == {"user_name": [], "log_time": []}
