"""The field-type registry: every type's wire decoding, CSV cells, literals and storage."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from dsc_engine.models import AuditLog, MaskingRun, SensitiveDataAuditLog
from dsc_engine.wire import types
from dsc_engine.wire.types import BadValue, LiteralKind, Storage


def test_each_model_field_has_the_type_its_annotation_and_metadata_say() -> None:
    fields = {**attrs.fields_dict(AuditLog), **attrs.fields_dict(SensitiveDataAuditLog)}
    assert types.type_of(fields["creation_time"]) is types.TIME_MS
    assert types.type_of(fields["effect_row"]) is types.INTEGER
    assert types.type_of(fields["in_white_list"]) is types.BOOLEAN
    assert types.type_of(fields["op_time"]) is types.WALL_CLOCK
    assert types.type_of(fields["sensitive_data_log"]) is types.ENTRIES
    assert types.type_of(attrs.fields_dict(MaskingRun)["status"]) is types.INTEGER


@pytest.mark.parametrize(
    ("field_type", "wire", "value"),
    [(types.STRING, "x", "x"), (types.INTEGER, -(2**63), -(2**63)), (types.TIME_MS, 5, 5),
     (types.BOOLEAN, False, False), (types.WALL_CLOCK, "0001-01-01 00:00:00", dt.datetime(1, 1, 1))],
)
def test_wire_values_decode_and_encode_back(field_type: types.FieldType, wire: object, value: object) -> None:
    assert field_type.decode(wire) == value
    assert field_type.encode(value) == wire


@pytest.mark.parametrize(
    ("field_type", "wire", "reason"),
    [(types.STRING, 5, "expected a string, got an integer"), (types.INTEGER, True, "expected an integer, got a boolean"),
     (types.INTEGER, 2**63, "outside the signed 64-bit range"), (types.BOOLEAN, "true", "expected a boolean"),
     (types.WALL_CLOCK, "2024-1-1 00:00:00", "is not a 'yyyy-MM-dd HH:mm:ss' time"),
     # the form is right, the date is not: said so, rather than only "not of the form"
     (types.WALL_CLOCK, "2024-02-30 00:00:00", r"no such date or time \(day is out of range for month\)")],
)
def test_wire_values_that_do_not_fit_say_why(field_type: types.FieldType, wire: object, reason: str) -> None:
    with pytest.raises(BadValue, match=reason):
        field_type.decode(wire)


def test_csv_cells() -> None:
    assert types.INTEGER.from_cell("-0007") == -7
    assert types.BOOLEAN.from_cell("TRUE") is True
    assert types.ENTRIES.from_cell('[{"TableName": "t"}]') == [{"TableName": "t"}]
    for field_type, text in ((types.INTEGER, "+5"), (types.INTEGER, "1.5"), (types.BOOLEAN, "yes"), (types.ENTRIES, "{}")):
        with pytest.raises(BadValue):
            field_type.from_cell(text)
    with pytest.raises(BadValue, match="an integer of 5000 digits"):
        types.INTEGER.from_cell("9" * 5000)


def test_literals_and_what_each_type_takes() -> None:
    assert types.TIME_MS.from_literal(LiteralKind.STRING, "1970-01-01T00:00:01Z") == 1000
    assert types.TIME_MS.from_literal(LiteralKind.INTEGER, "0001000") == 1000
    assert types.WALL_CLOCK.from_literal(LiteralKind.STRING, "2024-05-01") == dt.datetime(2024, 5, 1)
    assert types.BOOLEAN.from_literal(LiteralKind.TRUE, "true") is True
    assert LiteralKind.INTEGER not in types.STRING.literals and LiteralKind.STRING not in types.INTEGER.literals
    with pytest.raises(BadValue, match="drop the zone"):
        types.WALL_CLOCK.from_literal(LiteralKind.STRING, "2024-05-01T00:00:00Z")
    assert (types.STRING.textual, types.STRING.ordered, types.TIME_MS.ordered) == (True, False, True)
    assert (types.STRING.storage, types.INTEGER.storage, types.WALL_CLOCK.storage) == (
        Storage.CODED, Storage.INT, Storage.OBJECT)


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("-0", 0), ("+12", 12), ("0" * 5000 + "9", 9), ("9223372036854775807", 2**63 - 1),
     ("9223372036854775808", None), ("9" * 5000, None), ("1.0", None), ("١", None)],
)
def test_integer_texts_of_any_length(text: str, value: int | None) -> None:
    assert types.read_integer(text) == value
