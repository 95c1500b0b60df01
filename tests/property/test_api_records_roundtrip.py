"""The public record strategies draw valid records, and every record survives the wire mapping."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsc_engine.wire.codec import from_wire, response_item, to_wire
from dsc_engine.models import MaskingRun, RecordKind, ServiceType
from dsc_engine.strategies import record_lists, records


@pytest.mark.parametrize("kind", list(RecordKind))
@given(data=st.data())
def test_wire_round_trip(kind: RecordKind, data: st.DataObject) -> None:
    record = data.draw(records(kind))
    wire = to_wire(record)
    # through real JSON text, as an export file would carry it
    again = from_wire(kind, json.loads(json.dumps(wire, ensure_ascii=False)))
    assert again == record
    assert to_wire(again) == wire


@pytest.mark.parametrize("kind", list(RecordKind))
@given(data=st.data())
def test_response_items_leave_out_record_only_keys(kind: RecordKind, data: st.DataObject) -> None:
    item = response_item(data.draw(records(kind)))
    assert "MainProcessId" not in item and "Tid" not in item
    if kind is RecordKind.DMS_LOG:
        assert isinstance(item["SensitiveDataLog"], list)


@given(runs=record_lists(RecordKind.MASKING_RUN, min_size=2, max_size=10))
def test_masking_run_lists_have_unique_ids(runs: list[MaskingRun]) -> None:
    assert len({run.id for run in runs}) == len(runs)
    for run in runs:  # a documented type drawn with a code comes with its own code
        if run.src_type in {t.value for t in ServiceType} and run.src_type_code is not None:
            assert run.src_type_code == ServiceType(run.src_type).code
