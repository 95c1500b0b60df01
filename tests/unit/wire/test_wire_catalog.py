"""The field catalog: wire names, types, documented values, record-only and derived fields."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsc_engine.errors import RecordError
from dsc_engine.models import RecordKind, SensitiveDataEntry
from dsc_engine.strategies import records
from dsc_engine.wire import types
from dsc_engine.wire.catalog import (
    _FITS,
    FIELDS,
    NESTED,
    PRIMARY_TIME,
    UnknownField,
    check_record,
    lookup,
    required_keys,
    wire_fields,
)
from dsc_engine.wire.types import Storage


def test_names_types_and_what_each_field_is() -> None:
    audit, runs, dms = (FIELDS[kind] for kind in RecordKind)
    assert audit["WarnLevel"].documented == ("1", "2", "3") and audit["WarnLevel"].storage is Storage.CODED
    assert runs["Status"].type is types.INTEGER and runs["Status"].storage is Storage.CODED  # a category
    assert runs["MaskingCount"].storage is Storage.INT
    assert runs["MainProcessId"].record_only and dms["Tid"].record_only and not dms["UserId"].record_only
    assert dms["DbName"].derived and "DbName" not in [spec.name for spec in wire_fields(RecordKind.DMS_LOG)]
    assert set(NESTED[RecordKind.DMS_LOG]) == {"SensitiveDataLog"}
    assert [PRIMARY_TIME[kind] for kind in RecordKind] == ["CreationTime", "StartTime", "OpTime"]
    assert [required_keys(kind) for kind in RecordKind] == [("CreationTime",), ("StartTime", "Id"), ("OpTime",)]


def test_lookup_ignores_case_and_suggests_the_closest_name() -> None:
    assert lookup(FIELDS[RecordKind.AUDIT_LOG], "username").name == "UserName"
    with pytest.raises(UnknownField) as caught:
        lookup(FIELDS[RecordKind.AUDIT_LOG], "UserNme")
    assert caught.value.suggestion == "UserName"


_ODD_MODEL_VALUES: list[object] = [None, 0, -1, 2**63 - 1, -(2**63), 2**63, -(2**63) - 1, True, "", "x", 1.0,
                                   dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
                                   dt.date(2024, 1, 1), (), [], ({},), (SensitiveDataEntry(),)]


@settings(max_examples=40)
@given(st.sampled_from(list(RecordKind)).flatmap(records), st.data())
def test_check_record_passes_every_valid_record_fast_and_refuses_exactly_what_the_walk_refuses(
    record: Any, data: st.DataObject
) -> None:
    # The generated test (_FITS) is an optimisation of the field-by-field walk: it must accept
    # every valid record, and never accept a record the walk refuses.
    kind = RecordKind.of(record)
    assert _FITS[kind](record)
    check_record(kind, record)
    spec = data.draw(st.sampled_from([s for s in FIELDS[kind].values() if not s.derived]))
    odd = attrs.evolve(record, **{spec.attr: data.draw(st.sampled_from(_ODD_MODEL_VALUES))})
    try:
        check_record(kind, odd)
        walk_refuses = False
    except RecordError as exc:
        walk_refuses = True
        assert exc.key.split("[")[0].split(".")[0] == spec.name
    assert not (_FITS[kind](odd) and walk_refuses)
