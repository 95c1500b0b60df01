"""Record kinds: names and aliases, and the facts generic code reads instead of testing kinds."""

from __future__ import annotations

import datetime as dt

import pytest

from dsc_engine.models import AuditLog, MaskingRun, RecordKind, SensitiveDataAuditLog, SensitiveDataEntry
from dsc_engine.models.kinds import keyed_kinds
from dsc_engine.models.records import database_name


@pytest.mark.parametrize(
    ("name", "kind"),
    [("audit", RecordKind.AUDIT_LOG), ("Masking-Runs", RecordKind.MASKING_RUN), (" dms ", RecordKind.DMS_LOG),
     ("dms_log", RecordKind.DMS_LOG), (RecordKind.AUDIT_LOG, RecordKind.AUDIT_LOG)],
)
def test_kinds_are_named_by_value_or_alias(name: str | RecordKind, kind: RecordKind) -> None:
    assert RecordKind.parse(name) is kind


@pytest.mark.parametrize("name", ["nope", 5, None])
def test_anything_else_is_a_value_error_listing_the_kinds(name: object) -> None:
    with pytest.raises(ValueError, match="audit_log, masking_run, dms_log"):
        RecordKind.parse(name)  # type: ignore[arg-type]


def test_the_facts_of_each_kind() -> None:
    audit, runs, dms = (kind.facts for kind in RecordKind)
    assert (audit.record_class, audit.primary_time, audit.tie_break, audit.entries) == (
        AuditLog, "creation_time", None, None)
    assert (runs.record_class, runs.primary_time, runs.tie_break, runs.record_only) == (
        MaskingRun, "start_time", "id", frozenset({"main_process_id"}))
    assert (dms.entries, dms.entry_class, dms.derived, dms.record_only) == (
        "sensitive_data_log", SensitiveDataEntry, {"db_name": ("db_display_name", database_name)}, frozenset({"tid"}))
    assert (audit.key, runs.key, dms.key) == (None, "id", None) and keyed_kinds() == (RecordKind.MASKING_RUN,)
    assert (audit.required, runs.required, dms.required) == (("creation_time",), ("start_time", "id"), ("op_time",))
    assert RecordKind.of(SensitiveDataAuditLog(op_time=dt.datetime(2024, 1, 1))) is RecordKind.DMS_LOG


def test_an_unknown_kind_names_the_short_names_the_docs_use_and_the_nearest() -> None:
    with pytest.raises(ValueError) as refused:
        RecordKind.parse("audits")
    message = str(refused.value)
    assert "audit, masking, dms" in message and "audit_log, masking_run, dms_log" in message
    assert message.endswith("did you mean audit?")
