"""Records loaded as wire objects of odd shapes (keys dropped, added, given values of any JSON
type; items that are no objects) are loaded or refused with a ``RecordError``, all of one call or
none of it; what is loaded is answered by the three operations and the filter language."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from strategies import odd_wire_objects

from dsc_engine import Engine
from dsc_engine.errors import RecordError
from dsc_engine.models import RecordKind

WHOLE = {
    "DescribeAuditLogs": {"PageSize": "50"},
    "DescribeDataMaskingRunHistory": {"PageSize": "100"},
    "ListSensitiveDataAuditLog": {
        "StartTime": "0001-01-01 00:00:00", "EndTime": "9999-12-31 23:59:59", "PageSize": "100", "PageNumber": "1",
    },
}


@st.composite
def _batch(draw: st.DrawFn) -> tuple[list[Any], RecordKind | None]:
    kind = draw(st.sampled_from(list(RecordKind)))
    items = draw(st.lists(odd_wire_objects(kind), min_size=1, max_size=3))
    return items, draw(st.sampled_from((None, kind)))


@given(_batch())
def test_odd_wire_objects_are_loaded_whole_or_refused_with_a_record_error(batch: tuple[list[Any], RecordKind | None]) -> None:
    items, kind = batch
    engine = Engine()
    try:
        report = engine.load(items, kind)
    except RecordError as error:
        assert str(error)
        assert all(len(engine.store(k)) == 0 for k in RecordKind)  # nothing of the call is loaded
        return
    assert report.read == len(items) and sum(len(engine.store(k)) for k in RecordKind) == sum(report.loaded.values())
    for action, params in WHOLE.items():
        body = engine.call(action, params)
        items_key = "SensitiveDataAuditLogList" if action == "ListSensitiveDataAuditLog" else "Items"
        assert len(body[items_key]) == body["TotalCount"]
    for each in RecordKind:
        assert engine.query(each, "", 1, 100).total == len(engine.store(each))
