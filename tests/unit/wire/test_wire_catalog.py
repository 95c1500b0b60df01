"""The field catalog: wire names, types, documented values, record-only and derived fields."""

from __future__ import annotations

import pytest

from dsc_engine.models import RecordKind
from dsc_engine.wire import types
from dsc_engine.wire.catalog import FIELDS, NESTED, PRIMARY_TIME, UnknownField, lookup, required_keys, wire_fields
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
