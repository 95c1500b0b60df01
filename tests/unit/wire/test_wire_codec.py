"""The wire mapping: the pages' sample items round-trip exactly; malformed records are named errors."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest

from dsc_engine.errors import RecordError
from dsc_engine.wire.codec import from_wire, response_item, to_wire, wire_keys
from dsc_engine.models import (
    AuditLog,
    MaskingRun,
    ModuleName,
    RecordKind,
    RunStatus,
    SecurityLevel,
    ServiceType,
    WarnLevel,
)

# The items of the three pages' sample responses, verbatim.
AUDIT_SAMPLE: dict[str, Any] = {
    "CreationTime": 1536751124000, "WarnLevel": "2", "ClientPort": "35756",
    "TableName": "it_table", "EffectRow": 10, "PackageName": "test01", "UserId": "19********94",
    "Message": "success", "RuleId": "9952275", "OperateType": "Drop", "LogTime": 1751870592000,
    "WarnLevelName": "高危", "InstanceName": "rm-1234", "DatabaseName": "chngc_b2b_migration_sh",
    "OssObjectKey": "oss-key1", "ExecuteStatus": 1, "ProductId": 5, "ExecuteTime": 1751870592000,
    "UserName": "admin", "InstanceDescription": "instance dscription", "RuleName": "name",
    "ColumnName": "hide14", "ClientIp": "139.*.*.57", "ClientUa": "mysql", "ProductCode": "RDS",
    "SqlText": "select * from test03\n", "InWhiteList": True, "MemberAccount": "**********8103",
    "RuleCategory": "10", "IpType": "aliyun", "ModelName": "Identity Card",
    "DataSet": "plan_id ~ application_id ~ plan_type ~ plan_name ~ plan_value_id",
    "LogSource": "SLOW_SQL", "InstanceAuditStatus": "2", "DbType": "MySQL",
}
MASKING_SAMPLE: dict[str, Any] = {
    "Status": 1, "Type": 1, "SrcType": 2, "SrcTableName": "add", "MaskingCount": 100,
    "Percentage": 100, "DstType": 2, "FailMsg": "error", "FailCode": "masking_task_not_found",
    "ConflictCount": 0, "DstTypeCode": "OSS", "EndTime": 1582251233000, "RunIndex": 1,
    "StartTime": 1582251233000, "HasSubProcess": 4, "HasDownloadFile": 1,
    "TaskId": "mt4HBgtw1B******", "SrcTypeCode": "OSS", "Id": 1,
}
# Verbatim, "SecurityLevel": "Low\n" included: a value that only describes loads as printed.
DMS_SAMPLE: dict[str, Any] = {
    "UserName": "ExampleUserName", "UserId": 0, "ModuleName": "SQL_CONSOLE",
    "DbDisplayName": "ExampleDbName@xxx.xxx.xxx.xxx:3306", "OpTime": "2022-11-18 10:01:00",
    "InstanceId": 0, "TargetName": "Ticket - 1\\*\\*\\*\\*\n",
    "SensitiveDataLog": [{
        "TableName": "ExampleTableName", "ColumnName": "ExampleColumnName", "SecurityLevel": "Low\n",
        "ColumnPermissionType": "Change\n", "DesensitizationRule": "Default - Full redaction\n",
    }],
}
SAMPLES = {
    RecordKind.AUDIT_LOG: AUDIT_SAMPLE,
    RecordKind.MASKING_RUN: MASKING_SAMPLE,
    RecordKind.DMS_LOG: DMS_SAMPLE,
}


@pytest.mark.parametrize("kind", list(RecordKind))
def test_page_samples_round_trip_exactly(kind: RecordKind) -> None:
    sample = SAMPLES[kind]
    record = from_wire(kind, json.loads(json.dumps(sample)))
    assert to_wire(record) == sample
    assert list(to_wire(record)) == list(sample)  # the documented key order, too


def test_sample_values_have_their_types() -> None:
    audit = from_wire(RecordKind.AUDIT_LOG, AUDIT_SAMPLE)
    assert isinstance(audit, AuditLog)
    assert audit.warn_level == WarnLevel.MEDIUM.value and audit.client_port == "35756"
    run = from_wire(RecordKind.MASKING_RUN, MASKING_SAMPLE)
    assert isinstance(run, MaskingRun)
    assert run.status == RunStatus.SUCCEEDED.value and run.src_type == ServiceType.OSS.value
    dms = from_wire(RecordKind.DMS_LOG, DMS_SAMPLE)
    assert dms.op_time == dt.datetime(2022, 11, 18, 10, 1)
    assert dms.module_name == ModuleName.SQL_CONSOLE.value
    assert dms.sensitive_data_log[0].security_level == SecurityLevel.LOW.value + "\n"
    assert dms.db_name == "ExampleDbName"


def test_audit_logs_have_the_36_documented_fields() -> None:
    keys = wire_keys(RecordKind.AUDIT_LOG)
    assert len(keys) == 36
    assert set(AUDIT_SAMPLE) | {"RamConsoleLink"} == set(keys)


def _broken(kind: RecordKind, change: dict[str, Any], drop: str | None = None) -> dict[str, Any]:
    data = copy.deepcopy(SAMPLES[kind])
    if drop:
        del data[drop]
    data.update(change)
    return data


@pytest.mark.parametrize(
    ("kind", "data", "key", "reason"),
    [
        (RecordKind.AUDIT_LOG, _broken(RecordKind.AUDIT_LOG, {}, drop="CreationTime"),
         "CreationTime", "required key is missing"),
        (RecordKind.MASKING_RUN, _broken(RecordKind.MASKING_RUN, {}, drop="Id"),
         "Id", "required key is missing"),
        (RecordKind.DMS_LOG, _broken(RecordKind.DMS_LOG, {}, drop="OpTime"),
         "OpTime", "required key is missing"),
        (RecordKind.AUDIT_LOG, _broken(RecordKind.AUDIT_LOG, {"WarnLevel": 2}),
         "WarnLevel", "expected a string, got an integer"),
        (RecordKind.AUDIT_LOG, _broken(RecordKind.AUDIT_LOG, {"ClientPort": 35756}),
         "ClientPort", "expected a string, got an integer"),
        (RecordKind.AUDIT_LOG, _broken(RecordKind.AUDIT_LOG, {"EffectRow": "10"}),
         "EffectRow", "expected an integer, got a string"),
        (RecordKind.AUDIT_LOG, _broken(RecordKind.AUDIT_LOG, {"EffectRow": True}),
         "EffectRow", "expected an integer, got a boolean"),
        (RecordKind.AUDIT_LOG, _broken(RecordKind.AUDIT_LOG, {"CreationTime": 1.5}),
         "CreationTime", "expected an integer, got a number with a decimal point or an exponent"),
        (RecordKind.AUDIT_LOG, _broken(RecordKind.AUDIT_LOG, {"InWhiteList": "true"}),
         "InWhiteList", "expected a boolean, got a string"),
        (RecordKind.AUDIT_LOG, _broken(RecordKind.AUDIT_LOG, {"UserName": None}),
         "UserName", "expected a string, got null"),
        (RecordKind.AUDIT_LOG, _broken(RecordKind.AUDIT_LOG, {"Severity": "high"}),
         "Severity", "unknown key"),
        (RecordKind.MASKING_RUN, _broken(RecordKind.MASKING_RUN, {"Status": "1"}),
         "Status", "expected an integer, got a string"),
        (RecordKind.AUDIT_LOG, _broken(RecordKind.AUDIT_LOG, {"CreationTime": 2**70}),
         "CreationTime", "outside the signed 64-bit range"),
        (RecordKind.AUDIT_LOG, _broken(RecordKind.AUDIT_LOG, {"EffectRow": -(2**63) - 1}),
         "EffectRow", "outside the signed 64-bit range"),
        (RecordKind.MASKING_RUN, _broken(RecordKind.MASKING_RUN, {"Id": 2**64}),
         "Id", "outside the signed 64-bit range"),
        (RecordKind.DMS_LOG, _broken(RecordKind.DMS_LOG, {"UserId": 2**70}),
         "UserId", "outside the signed 64-bit range"),
        (RecordKind.DMS_LOG, _broken(RecordKind.DMS_LOG, {"OpTime": "2022-11-18T10:01:00"}),
         "OpTime", "is not a 'yyyy-MM-dd HH:mm:ss' time"),
        (RecordKind.DMS_LOG, _broken(RecordKind.DMS_LOG, {"OpTime": "2022-11-18 25:01:00"}),
         "OpTime", "is not a 'yyyy-MM-dd HH:mm:ss' time"),
        (RecordKind.DMS_LOG, _broken(RecordKind.DMS_LOG, {"OpTime": "2022-1-8 10:01:00"}),
         "OpTime", "is not a 'yyyy-MM-dd HH:mm:ss' time"),
        (RecordKind.DMS_LOG, _broken(RecordKind.DMS_LOG, {"OpTime": "２０２２-11-18 10:01:00"}),
         "OpTime", "is not a 'yyyy-MM-dd HH:mm:ss' time"),
        (RecordKind.DMS_LOG, _broken(RecordKind.DMS_LOG, {"OpTime": "2022-11-18 1٠:01:00"}),
         "OpTime", "is not a 'yyyy-MM-dd HH:mm:ss' time"),
        (RecordKind.DMS_LOG, _broken(RecordKind.DMS_LOG, {"SensitiveDataLog": {}}),
         "SensitiveDataLog", "expected an array, got an object"),
        (RecordKind.DMS_LOG,
         _broken(RecordKind.DMS_LOG, {"SensitiveDataLog": [{"SecurityLevel": 1}]}),
         "SensitiveDataLog[0].SecurityLevel", "expected a string, got an integer"),
        (RecordKind.DMS_LOG,
         _broken(RecordKind.DMS_LOG, {"SensitiveDataLog": [{}, {"Column": "x"}]}),
         "SensitiveDataLog[1].Column", "unknown key"),
        # an entry that is no object is named by its place alone (it was 'SensitiveDataLog[1].')
        (RecordKind.DMS_LOG, _broken(RecordKind.DMS_LOG, {"SensitiveDataLog": [{}, None]}),
         "SensitiveDataLog[1]", "expected a JSON object, got null"),
    ],
)
def test_malformed_records_name_the_key(
    kind: RecordKind, data: dict[str, Any], key: str, reason: str
) -> None:
    with pytest.raises(RecordError) as caught:
        from_wire(kind, data, "export.jsonl:7")
    error = caught.value
    assert error.key == key
    assert reason in error.reason
    assert error.where == "export.jsonl:7"
    assert "export.jsonl:7" in str(error)


@pytest.mark.parametrize(
    ("kind", "change"),
    [
        (RecordKind.AUDIT_LOG, {"WarnLevel": "4"}),
        (RecordKind.AUDIT_LOG, {"WarnLevel": "0", "WarnLevelName": "Info"}),
        (RecordKind.MASKING_RUN, {"Status": 9, "Type": 3}),
        (RecordKind.MASKING_RUN, {"SrcType": 6, "SrcTypeCode": "PolarDB", "DstType": 2, "DstTypeCode": "RDS"}),
        (RecordKind.DMS_LOG, {"ModuleName": "SQL_REVIEW"}),
        (RecordKind.DMS_LOG, {"SensitiveDataLog": [{"SecurityLevel": "低敏感"}, {"SecurityLevel": "low"}]}),
        (RecordKind.DMS_LOG, {"SensitiveDataLog": [{"ColumnPermissionType": "Mask"}]}),
    ],
)
def test_values_beyond_the_documented_lists_load_and_come_back_exactly(
    kind: RecordKind, change: dict[str, Any]
) -> None:
    """Exports of other product versions carry values the pages do not list (docs/decisions.md,
    "Open values"): the JSON type is checked, the value kept."""
    data = _broken(kind, change)
    record = from_wire(kind, data)
    assert to_wire(record) == data


def test_an_undocumented_warn_level_keeps_its_loaded_name_in_responses() -> None:
    from dsc_engine import Engine

    engine = Engine()
    engine.load([{"CreationTime": 2, "WarnLevel": "5", "WarnLevelName": "Critical"},
                 {"CreationTime": 1, "WarnLevel": "3", "WarnLevelName": "whatever"}], kind="audit")
    items = engine.call("DescribeAuditLogs", {"Lang": "en_us"})["Items"]
    assert [(i["WarnLevel"], i["WarnLevelName"]) for i in items] == [("5", "Critical"), ("3", "Important")]


def test_a_non_object_is_rejected() -> None:
    with pytest.raises(RecordError, match="expected a JSON object, got an array"):
        from_wire(RecordKind.AUDIT_LOG, [1, 2])


def test_absent_fields_stay_absent_and_entries_are_always_sent() -> None:
    audit = from_wire(RecordKind.AUDIT_LOG, {"CreationTime": 5})
    assert to_wire(audit) == {"CreationTime": 5}
    dms = from_wire(RecordKind.DMS_LOG, {"OpTime": "2022-11-18 10:01:00", "Tid": 3})
    assert response_item(dms) == {"OpTime": "2022-11-18 10:01:00", "SensitiveDataLog": []}
    assert to_wire(dms)["Tid"] == 3


def test_record_only_keys_load_but_are_never_in_responses() -> None:
    run = from_wire(RecordKind.MASKING_RUN, {**MASKING_SAMPLE, "MainProcessId": 366731})
    assert run.main_process_id == 366731
    assert "MainProcessId" not in response_item(run)
    assert to_wire(run)["MainProcessId"] == 366731


# --- The generated fast codec agrees with the precise, field-by-field one --------------------

_ODD_VALUES: list[Any] = [None, 0, 7, -1, 2**70, 1.5, True, False, "", "1", "x", "Low", "OSS",
                          "SQL_CONSOLE", "2022-11-18 10:01:00", "2022-11-18 25:01:00",
                          "２０２２-11-18 10:01:00", [], [{}], [{"SecurityLevel": "High"}],
                          [{"SecurityLevel": None}], [7], {}]


def _outcome(decode: Any, data: Any) -> tuple[str, Any]:
    try:
        return "ok", decode(data)
    except RecordError as exc:
        return "error", (exc.key, exc.reason)


def _variants(kind: RecordKind) -> list[Any]:
    sample = SAMPLES[kind]
    out: list[Any] = [dict(sample), {}, [], "text", None]
    for key in [*wire_keys(kind), "Unknown"]:
        out.append({k: v for k, v in sample.items() if k != key})
        out.extend({**sample, key: value} for value in _ODD_VALUES)
    return out


@pytest.mark.parametrize("kind", list(RecordKind))
def test_fast_decoding_agrees_with_the_precise_decoder(kind: RecordKind) -> None:
    from collections import OrderedDict

    from dsc_engine.wire.codec import _CODECS

    codec = _CODECS[kind]
    for data in _variants(kind):
        assert _outcome(codec.decode, data) == _outcome(codec.decode_precisely, data), data
        if isinstance(data, dict):  # a Mapping that is not a dict takes the precise path
            assert _outcome(codec.decode, OrderedDict(data)) == _outcome(codec.decode_precisely, data)


@pytest.mark.parametrize("kind", list(RecordKind))
def test_the_fast_decoder_takes_ordinary_records(kind: RecordKind) -> None:
    from dsc_engine.wire.codec import _CODECS
    from dsc_engine.wire.generated import FAIL

    assert _CODECS[kind].fast(SAMPLES[kind]) is not FAIL
    assert _CODECS[kind].fast({**SAMPLES[kind], "Unknown": 1}) is FAIL


def test_fast_encoding_agrees_with_the_precise_encoder() -> None:
    from dsc_engine.wire.codec import _CODECS
    from dsc_engine.models import SensitiveDataAuditLog

    for kind in RecordKind:
        codec = _CODECS[kind]
        for data in _variants(kind):
            outcome, record = _outcome(codec.decode_precisely, data)
            if outcome == "ok":
                precise = {f.key: f.encode(getattr(record, f.attr)) for f in codec.fields if getattr(record, f.attr) is not None}
                assert list(to_wire(record).items()) == list(precise.items())
    times = [dt.datetime(2022, 1, 2, 3, 4, 5, 678), dt.datetime(999, 1, 2, 3, 4, 5),
             dt.datetime(2022, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc), dt.datetime(2022, 1, 2)]
    for op_time in times:
        record = SensitiveDataAuditLog(op_time=op_time)
        expected = f"{op_time.year:04d}-" + op_time.strftime("%m-%d %H:%M:%S")
        assert to_wire(record)["OpTime"] == expected


@pytest.mark.parametrize(
    "text", ["0001-01-01 00:00:00", "0999-12-31 23:59:59", "0045-06-07 08:09:10", "9999-12-31 23:59:59"]
)
def test_dms_times_before_year_1000_are_sent_zero_padded(text: str) -> None:
    """Go's zero time ``0001-01-01 00:00:00`` is a common placeholder: it must come back as
    loaded (not ``1-01-01``), or the engine refuses its own exports and snapshots."""
    record = from_wire(RecordKind.DMS_LOG, {"OpTime": text})
    assert to_wire(record)["OpTime"] == text
    assert response_item(record)["OpTime"] == text
    assert from_wire(RecordKind.DMS_LOG, to_wire(record)) == record


def test_an_export_holding_year_1_re_imports(tmp_path: Any) -> None:
    from dsc_engine.io import export, imports

    records = [from_wire(RecordKind.DMS_LOG, {"OpTime": t}) for t in ("0001-01-01 00:00:00", "2024-05-01 10:00:00")]
    for fmt in export.ExportFormat:
        path = tmp_path / f"out.{fmt.value}"
        with open(path, "w", encoding="utf-8", newline="") as out:
            export.write(records, RecordKind.DMS_LOG, fmt, out)
        listed = fmt is export.ExportFormat.PAGES  # a listing: the first item listed loads last
        assert imports.read_records(path)[RecordKind.DMS_LOG] == (records[::-1] if listed else records), fmt


def test_answered_items_keep_the_wire_order_with_a_derived_warn_level_name() -> None:
    """A name derived for a record loaded without one is put in its place among the keys, not
    last (JSON objects compare equal in any order, so only the keys' list shows it)."""
    from dsc_engine import Engine

    engine = Engine()
    engine.load([{"CreationTime": 2, "WarnLevel": "2", "EffectRow": 3, "UserName": "u", "InWhiteList": True},
                 {"CreationTime": 1, "WarnLevel": "1", "WarnLevelName": "x", "EffectRow": 4, "UserName": "v"}],
                kind="audit")
    order = wire_keys(RecordKind.AUDIT_LOG)
    for params in ({"Lang": "en_us"}, {"LoadWhiteList": "true"}):
        for item in engine.call("DescribeAuditLogs", params)["Items"]:
            assert "WarnLevelName" in item
            assert list(item) == [key for key in order if key in item]
