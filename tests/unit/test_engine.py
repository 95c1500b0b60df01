"""The public Engine: loading, routing, versions, error bodies and the filter-language query."""

from __future__ import annotations

import datetime as dt
import enum
import inspect
import json
import os
import time
from typing import Any

import pytest
from backends import NAMES, open_backend

from dsc_engine import ApiError, Engine, sample
from dsc_engine.engine import PATH_OPTIONS
from dsc_engine.errors import InvalidParameterError, RecordError
from dsc_engine.io.imports import load_into
from dsc_engine.models import AuditLog, MaskingRun, RecordKind, SensitiveDataAuditLog, SensitiveDataEntry
from dsc_engine.store import Store
from dsc_engine.wire.codec import to_wire

DMS_WINDOW = {"StartTime": "2000-01-01 00:00:00", "EndTime": "2100-01-01 00:00:00"}


def engine_with_logs() -> Engine:
    engine = Engine()
    engine.load([AuditLog(creation_time=1000, rule_id="1"), MaskingRun(id=1, start_time=5)])
    engine.load([{"CreationTime": 2000, "RuleId": "2"}], kind="audit")
    return engine


def test_load_groups_records_by_kind_and_decodes_wire_objects() -> None:
    engine = engine_with_logs()
    assert len(engine.store(RecordKind.AUDIT_LOG)) == 2
    assert len(engine.store("masking_run")) == 1
    assert len(engine.store("dms")) == 0


def test_load_rejects_wrong_kinds_and_non_records() -> None:
    engine = Engine()
    with pytest.raises(RecordError):
        engine.load([MaskingRun(id=1, start_time=5)], kind="audit")
    with pytest.raises(RecordError, match="cannot tell the record kind"):
        engine.load([{"Colour": 1}])  # a JSON object whose keys tell no kind
    with pytest.raises(RecordError):
        engine.load([42])  # type: ignore[list-item]
    with pytest.raises(InvalidParameterError):
        engine.store("nope")
    assert len(engine.store("audit")) == 0


_BAD_RECORD_OBJECTS: list[tuple[Any, str]] = [
    (AuditLog(creation_time=1, effect_row="5"), "EffectRow"),  # type: ignore[arg-type]
    (AuditLog(creation_time=1, user_name=5), "UserName"),  # type: ignore[arg-type]
    (AuditLog(creation_time=2**70), "CreationTime"),
    (AuditLog(creation_time=1, in_white_list=1), "InWhiteList"),  # type: ignore[arg-type]
    (AuditLog(creation_time=True), "CreationTime"),
    (AuditLog(creation_time=None), "CreationTime"),  # type: ignore[arg-type]
    (MaskingRun(id=1, start_time=1, status=True), "Status"),
    (MaskingRun(id=1, start_time=1, masking_count=2**63), "MaskingCount"),
    (SensitiveDataAuditLog(op_time="2024-01-01 00:00:00"), "OpTime"),  # type: ignore[arg-type]
    (SensitiveDataAuditLog(op_time=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)), "OpTime"),
    (SensitiveDataAuditLog(op_time=dt.datetime(2024, 1, 1), sensitive_data_log=[SensitiveDataEntry()]),  # type: ignore[arg-type]
     "SensitiveDataLog"),
    (SensitiveDataAuditLog(op_time=dt.datetime(2024, 1, 1), sensitive_data_log=None), "SensitiveDataLog"),  # type: ignore[arg-type]
    (SensitiveDataAuditLog(op_time=dt.datetime(2024, 1, 1), sensitive_data_log=({"TableName": "t"},)),  # type: ignore[arg-type]
     "SensitiveDataLog[0]"),
    (SensitiveDataAuditLog(op_time=dt.datetime(2024, 1, 1),
                           sensitive_data_log=(SensitiveDataEntry(), SensitiveDataEntry(table_name=7))),  # type: ignore[arg-type]
     "SensitiveDataLog[1].TableName"),
]


@pytest.mark.parametrize(("record", "key"), _BAD_RECORD_OBJECTS)
def test_load_refuses_record_objects_whose_values_do_not_fit_their_fields_and_loads_nothing(
    record: Any, key: str
) -> None:
    # Record objects are checked as wire objects are (semantics §1.3, §1.4): a value of the wrong
    # type, or an integer beyond 64 bits, is a RecordError naming the key, and no kind of the call
    # is loaded. Before, the memory store took some of them (answering UserName as a JSON number),
    # crashed on others with a bare TypeError after loading the kinds before it, while a database
    # refused them.
    engine = Engine()
    good = [AuditLog(creation_time=5), MaskingRun(id=9, start_time=5),
            SensitiveDataAuditLog(op_time=dt.datetime(2024, 1, 1))]
    with pytest.raises(RecordError) as caught:
        engine.load([*good, record])
    assert (caught.value.key, caught.value.where) == (key, "item 3")
    assert [len(engine.store(kind)) for kind in RecordKind] == [0, 0, 0]


def test_load_keeps_record_objects_the_wire_could_not_carry_but_the_memory_store_holds() -> None:
    # Text with a lone surrogate is held by the memory engine when given as records (backends.md);
    # DMS times with microseconds are naive times too.
    engine = Engine()
    engine.load([AuditLog(creation_time=1, user_name="\ud800"),
                 SensitiveDataAuditLog(op_time=dt.datetime(2024, 1, 1, 0, 0, 0, 5))])
    assert [len(engine.store(kind)) for kind in RecordKind] == [1, 0, 1]


def test_load_tells_the_kind_of_json_objects_from_their_keys_and_reports_what_it_loaded() -> None:
    report = Engine().load([{"CreationTime": 1}, {"Id": 1, "StartTime": 2}, {"OpTime": "2024-01-01 00:00:00"}])
    assert dict(report.loaded) == {RecordKind.AUDIT_LOG: 1, RecordKind.MASKING_RUN: 1, RecordKind.DMS_LOG: 1}
    assert (report.read, report.ok, report.files) == (3, True, 0)


def test_each_action_at_its_own_version() -> None:
    engine = engine_with_logs()
    assert engine.call("DescribeAuditLogs", {}, version="2019-01-03")["TotalCount"] == 2
    assert engine.call("DescribeDataMaskingRunHistory", {})["TotalCount"] == 1
    dms = engine.call("ListSensitiveDataAuditLog", {**DMS_WINDOW, "PageSize": 10, "PageNumber": 1},
                      version="2018-11-01")
    assert dms["Success"] is True and dms["TotalCount"] == 0


def test_an_empty_version_is_the_actions_own_as_the_server_reads_it() -> None:
    # a capture's "version": "" replayed as InvalidApi.NotFound, where the server answered it
    engine = Engine.from_sample()
    for action in ("DescribeAuditLogs", "ListSensitiveDataAuditLog"):
        params = {"PageSize": "1", "AsyncRequestId": "A"} if action == "DescribeAuditLogs" else {
            "StartTime": "2000-01-01 00:00:00", "EndTime": "2100-01-01 00:00:00", "PageSize": "1", "PageNumber": "1"}
        assert engine.call(action, params, version="", request_id="R") == engine.call(action, params, request_id="R")


@pytest.mark.parametrize(
    ("action", "version", "product"),
    [
        ("DescribeAuditLog", None, "Sddp"),
        ("describeauditlogs", None, "Sddp"),
        ("ListSensitiveDataAuditLog", "2019-01-03", "dms-enterprise"),
        ("Nope", "2018-11-01", "dms-enterprise"),
        # an action or version that is not text, unhashable too, is no api either (it was a bare
        # TypeError "unhashable type", where call promises an ApiError for any request)
        (["DescribeAuditLogs"], None, "Sddp"),
        ("Nope", ["2018-11-01"], "Sddp"),
    ],
)
def test_unknown_action_or_version_is_404(action: str, version: str | None, product: str) -> None:
    with pytest.raises(ApiError) as info:
        Engine().call(action, {}, version=version, host="sddp.local", request_id="RID-1")
    error = info.value
    assert (error.code, error.http_status, error.request_id) == ("InvalidApi.NotFound", 404, "RID-1")
    assert error.body == {
        "RequestId": "RID-1",
        "HostId": "sddp.local",
        "Code": "InvalidApi.NotFound",
        "Message": "Specified api is not found, please check your url and method.",
        "Recommend": (
            f"https://api.aliyun.com/troubleshoot?q=InvalidApi.NotFound&product={product}"
            "&requestId=RID-1"
        ),
    }


@pytest.mark.parametrize(
    ("action", "version", "params", "message"),
    [
        ("DescribeAuditLogs", "2018-11-01", {}, "找不到指定的 API，请检查您的 URL 和请求方法。"),
        ("DescribeAuditLogs", {"2019-01-03": 1}, {}, "找不到指定的 API，请检查您的 URL 和请求方法。"),
        ("DescribeDataMaskingRunHistory", "2017-01-01", {"Lang": "en"},
         "Specified api is not found, please check your url and method."),
        ("ListSensitiveDataAuditLog", "2019-01-03", {}, "Specified api is not found, please check your url and method."),
    ],
)
def test_a_known_action_at_another_version_answers_in_its_operations_language(
    action: str, version: Any, params: dict[str, str], message: str
) -> None:
    # semantics §6.4: an Sddp action's errors are Chinese unless Lang says otherwise; its
    # InvalidApi.NotFound for a wrong Version was English, as for an action no product has
    with pytest.raises(ApiError) as info:
        Engine().call(action, params, version=version, request_id="RID-1")
    assert (info.value.code, info.value.body["Message"]) == ("InvalidApi.NotFound", message)


def test_request_id_is_used_or_fresh() -> None:
    engine = Engine()
    assert engine.call("DescribeAuditLogs", {}, request_id="R-9")["RequestId"] == "R-9"
    first = engine.call("DescribeAuditLogs", {})["RequestId"]
    second = engine.call("DescribeAuditLogs", {})["RequestId"]
    assert first != second and len(first) == 36 and first == first.upper()


def test_convenience_methods_take_pascal_case_keywords() -> None:
    engine = engine_with_logs()
    assert engine.describe_audit_logs(RuleId="2")["TotalCount"] == 1
    assert engine.describe_data_masking_run_history(Status=1)["TotalCount"] == 0
    dms = engine.list_sensitive_data_audit_log(**DMS_WINDOW, PageSize=1, PageNumber=1)
    assert dms["SensitiveDataAuditLogList"] == []


def test_an_unexpected_failure_is_an_internal_error() -> None:
    class Broken:
        def query(self, *args: Any, **kwargs: Any) -> Any:
            raise ZeroDivisionError("boom")

    engine = Engine({**{kind: Store(kind) for kind in RecordKind}, RecordKind.MASKING_RUN: Broken()})  # type: ignore[dict-item]
    with pytest.raises(ApiError) as info:
        engine.call("DescribeDataMaskingRunHistory", {"Lang": "en_us"}, request_id="R")
    assert (info.value.code, info.value.http_status) == ("InternalError", 500)
    assert info.value.message.startswith("The request processing has failed")
    with pytest.raises(ApiError) as info:
        engine.call("DescribeDataMaskingRunHistory", {}, request_id="R")
    assert info.value.message == "由于未知错误、异常或故障，请求处理失败。"


def test_errors_follow_lang_on_sddp_and_are_english_on_dms() -> None:
    engine = Engine()
    with pytest.raises(ApiError) as info:
        engine.call("DescribeAuditLogs", {"PageSize": "0"})
    assert info.value.message.startswith('指定的参数 "PageSize" 无效。')
    with pytest.raises(ApiError) as info:
        engine.call("DescribeAuditLogs", {"PageSize": "0", "Lang": "en_us"})
    assert info.value.message.startswith('The specified parameter "PageSize" is not valid. ')
    with pytest.raises(ApiError) as info:
        engine.call("DescribeAuditLogs", {"Lang": "fr"})
    assert info.value.message.startswith('指定的参数 "Lang" 无效。')
    with pytest.raises(ApiError) as info:
        engine.call("ListSensitiveDataAuditLog", {"EndTime": "2000-01-01 00:00:00"})
    assert (info.value.code, info.value.message) == (
        "MissingStartTime", "StartTime is mandatory for this action."
    )


def test_query_pages_the_filter_language() -> None:
    engine = engine_with_logs()
    with pytest.raises(InvalidParameterError):
        engine.query("audit", "", page=0)
    with pytest.raises(InvalidParameterError):
        engine.query("audit", "", page_size=True)  # type: ignore[arg-type]


def test_load_a_path_goes_to_the_importer(tmp_path: Any) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text('{"CreationTime": 5, "UserName": "a"}\n{"CreationTime": 6}\n', encoding="utf-8")
    engine = Engine()
    report = engine.load(str(path), kind="audit_log")
    assert report.loaded[RecordKind.AUDIT_LOG] == 2
    assert engine.describe_audit_logs(UserName="a")["TotalCount"] == 1
    assert Engine().load(path).loaded[RecordKind.AUDIT_LOG] == 2  # a PathLike, kind detected


def test_query_uses_the_filter_language_and_pages() -> None:
    engine = Engine()
    engine.load([AuditLog(creation_time=t, rule_id=str(t % 2)) for t in range(1, 8)])
    result = engine.query("audit", 'RuleId = "1"', page=2, page_size=3)
    assert (result.total, result.page, result.page_size) == (4, 2, 3)
    assert [r.creation_time for r in result.records] == [1]
    assert engine.query(RecordKind.AUDIT_LOG, "").total == 7


def test_query_reads_time_literals_without_a_zone_in_the_zone_given() -> None:
    midnight_utc = 1_790_812_800_000  # 2026-10-01T00:00:00Z
    engine = Engine()
    engine.load([AuditLog(creation_time=midnight_utc + shift) for shift in (-1, 0, 1)])
    text = 'CreationTime >= "2026-10-01 08:00:00"'
    assert engine.query("audit", text).total == 0  # 08:00 UTC: after all three
    for zone in ("Asia/Shanghai", "+08:00", dt.timezone(dt.timedelta(hours=8))):
        assert engine.query("audit", text, zone=zone).total == 2
    for zone in ("Mars/Olympus", 8, "Asia", "Asia/" + "x" * 300):  # a folder, a name too long for a file
        with pytest.raises(InvalidParameterError, match="zone"):
            engine.query("audit", text, zone=zone)  # type: ignore[arg-type]


def test_from_sample_loads_every_kind() -> None:
    engine = Engine.from_sample()
    assert all(len(engine.store(kind)) > 0 for kind in RecordKind)


def test_from_sample_of_some_kinds_loads_only_those() -> None:
    everything = Engine.from_sample()
    engine = Engine.from_sample(["dms", RecordKind.AUDIT_LOG])
    assert [len(engine.store(kind)) for kind in RecordKind] == [
        len(everything.store(RecordKind.AUDIT_LOG)), 0, len(everything.store(RecordKind.DMS_LOG))
    ]
    assert [len(Engine.from_sample([]).store(kind)) for kind in RecordKind] == [0, 0, 0]


def test_from_sample_of_one_kind_by_name_loads_that_kind() -> None:
    """``Engine.from_sample("audit")`` read the name letter by letter ("unknown record kind 'a'"),
    where ``Engine.load(path, kinds="audit")`` takes one name as one kind."""
    for one in ("audit", RecordKind.AUDIT_LOG):
        engine = Engine.from_sample(one)
        assert [len(engine.store(kind)) > 0 for kind in RecordKind] == [True, False, False]


@pytest.mark.parametrize("kinds", [3, [3], None.__class__])
def test_from_sample_of_no_kind_names_the_kinds_it_takes(kinds: Any) -> None:
    """A value that is no kind was iterated (``'int' object is not iterable``, an untyped error that
    did not say which argument); it is refused as a kind, as ``query`` refuses it."""
    with pytest.raises(InvalidParameterError, match=r"^kind: .*expected one of audit, masking, dms"):
        Engine.from_sample(kinds)


@pytest.mark.parametrize("value", [[{"queryKey": "userName", "isContain": {1, 2}}], 5, {"a": 1}])
def test_log_query_op_json_python_values_that_are_not_json_arrays(value: object) -> None:
    with pytest.raises(ApiError) as info:
        Engine().call("DescribeAuditLogs", {"LogQueryOpJson": value, "Lang": "en"})
    assert info.value.code == "InvalidParameter"
    assert info.value.message.startswith('The specified parameter "LogQueryOpJson" is not valid.')


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda e: e.query(5, ""), "kind"),
        (lambda e: e.query(None, ""), "kind"),
        (lambda e: e.query("audit", None), "filter_text"),
        (lambda e: e.query("audit", b"UserName = 'x'"), "filter_text"),
        (lambda e: e.store(7), "kind"),
    ],
)
def test_wrong_argument_types_are_typed_errors(call: Any, name: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        call(Engine())
    assert caught.value.name == name


def test_parse_filter_takes_a_kind_name_and_refuses_unknown_kinds_and_non_text() -> None:
    from dsc_engine.query.parse import parse_filter

    assert parse_filter('UserName = "a"', "audit") == parse_filter('UserName = "a"', RecordKind.AUDIT_LOG)
    with pytest.raises(InvalidParameterError, match="unknown record kind 'nope'"):
        parse_filter("", "nope")
    with pytest.raises(InvalidParameterError, match="a filter is a string"):
        parse_filter(None, "audit")  # type: ignore[arg-type]


def test_load_tells_what_it_takes_when_given_something_else(tmp_path):
    # a number, None, one record or one wire object were iterated (TypeError about iteration, or
    # "record (item 0): key '': expected a record, got int" for the bytes of a path)
    engine = Engine()
    record = sample.generate(RecordKind.AUDIT_LOG, 1, seed=3)[0]
    for odd in (42, None, record, to_wire(record)):
        with pytest.raises(TypeError, match="load takes records .* or a path"):
            engine.load(odd)
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(to_wire(record)) + "\n", encoding="utf-8")
    assert engine.load(os.fsencode(path)).loaded_total == 1  # a path as bytes, as open takes it
    assert list(engine.store(RecordKind.AUDIT_LOG).records_in_load_order()) == [record]
    for paths in ([str(path)], [path]):  # a list of paths is a list of records: say so
        with pytest.raises(RecordError, match="got (str|PosixPath); a list is of records: load a path at a time"):
            engine.load(paths)


def test_load_keeps_masking_run_ids_unique_as_imports_do(tmp_path: Any) -> None:
    """A masking run's Id is its identity and breaks ties of StartTime (docs/semantics.md §5.1):
    a run whose Id is held already, or comes earlier in the call, is skipped when identical and
    refused when not, as a file import does; so what the engine holds saves and reopens whole."""
    from dsc_engine.io.snapshot import save

    engine = Engine()
    first = engine.load([MaskingRun(id=1, start_time=5, task_id="a"), MaskingRun(id=2, start_time=5)])
    assert (first.loaded[RecordKind.MASKING_RUN], first.duplicates_skipped) == (2, 0)
    three = MaskingRun(id=3, start_time=5)
    again = engine.load([{"Id": 1, "StartTime": 5, "TaskId": "a"}, three, three])
    assert (again.loaded[RecordKind.MASKING_RUN], again.duplicates_skipped, again.read) == (1, 2, 3)
    for clash in ([MaskingRun(id=1, start_time=5, task_id="b")],
                  [MaskingRun(id=9, start_time=1), AuditLog(creation_time=1), MaskingRun(id=9, start_time=2)]):
        with pytest.raises(RecordError, match="Id 9|Id 1") as info:
            engine.load(clash)
        assert info.value.key == "Id" and info.value.where == f"item {len(clash) - 1}"
    assert len(engine.store(RecordKind.MASKING_RUN)) == 3 and len(engine.store(RecordKind.AUDIT_LOG)) == 0
    save(engine, tmp_path / "runs.dsc")
    reopened = Engine()
    assert reopened.load(str(tmp_path / "runs.dsc")).ok
    assert reopened.call("DescribeDataMaskingRunHistory", {}, request_id="r") == engine.call(
        "DescribeDataMaskingRunHistory", {}, request_id="r"
    )


@pytest.mark.parametrize("params", [None, [("PageSize", "1")], "PageSize=1"])
def test_call_says_it_takes_parameters_as_a_mapping(params: object) -> None:
    """A caller's slip is a TypeError saying what call takes, as load's is (it was an
    AttributeError from inside the router: 'NoneType' object has no attribute 'get')."""
    with pytest.raises(TypeError, match="call takes the request parameters as a mapping"):
        Engine().call("DescribeAuditLogs", params)  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "value"), [("host", None), ("host", 3), ("request_id", 5), ("request_id", b"id")])
def test_call_says_host_and_request_id_are_text(name: str, value: object) -> None:
    """They went into the body as given: an error whose ``RequestId`` was the number 5 or whose
    ``HostId`` was null, which no service answer holds, and a success echoing the number too."""
    for params in ({"PageSize": "5"}, {"PageSize": "500"}):
        with pytest.raises(TypeError, match=rf"call takes {name} as a str, not {type(value).__name__}"):
            Engine().call("DescribeAuditLogs", params, **{name: value})  # type: ignore[arg-type]


def test_load_of_a_path_names_the_options_it_takes(tmp_path) -> None:
    """An unknown option was refused as ``load_into() got an unexpected keyword argument``,
    naming a function the caller never called and not what load takes."""
    (tmp_path / "x.jsonl").write_text("")
    with pytest.raises(TypeError, match=r"^load takes no option 'strcit' .*: strict, rejects_path, progress"):
        Engine().load(str(tmp_path / "x.jsonl"), strcit=True)
    keywords = inspect.signature(load_into).parameters
    assert set(PATH_OPTIONS) == {n for n, p in keywords.items() if p.kind is p.KEYWORD_ONLY} - {"kind"}


@pytest.mark.parametrize("options", [{"kind": "audits"}, {"kinds": "audits"}, {"kinds": ["audit", "dmss"]}])
def test_load_of_a_path_with_an_unknown_kind_is_an_invalid_parameter(tmp_path, options) -> None:
    (tmp_path / "x.jsonl").write_text("")
    with pytest.raises(InvalidParameterError, match="unknown record kind"):
        Engine().load(str(tmp_path / "x.jsonl"), **options)


def _doubled(times: int) -> list[object]:
    """A list holding one list twice, that one another twice, ... ``times`` deep: ``times`` lists,
    2 ** ``times`` paths."""
    nested: list[object] = []
    for _ in range(times):
        nested = [nested, nested]
    return nested


def _holding_itself() -> dict[str, object]:
    record: dict[str, object] = {"CreationTime": 1}
    record["UserName"] = record
    return record


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (_holding_itself(), "key 'UserName': expected a string, got an object"),
        ({"CreationTime": 1, "UserName": _doubled(64)}, "key 'UserName': expected a string, got an array"),
        ({"OpTime": "2022-01-01 00:00:00", "SensitiveDataLog": _doubled(64)}, "expected a JSON object, got an array"),
        ({1: 2, "CreationTime": 1}, "key '1': unknown key"),
    ],
    ids=["holds-itself", "shared-lists", "shared-entries", "int-key"],
)
def test_load_refuses_values_no_json_could_be_at_once(item: dict[object, object], reason: str) -> None:
    # The scan for lone surrogates walked every path: a record holding itself looped forever and
    # 64 lists shared twice over had 2**64 paths.
    started = time.monotonic()
    with pytest.raises(RecordError) as caught:
        Engine().load([item])
    assert time.monotonic() - started < 1
    assert reason in str(caught.value)


class _Level(enum.IntEnum):
    DONE = 1


class _Warn(enum.StrEnum):
    HIGH = "3"


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({"Id": 1, "StartTime": 1, "Status": _Level.DONE},
         "key 'Status': expected an integer, got _Level, a subclass of int (give a plain int)"),
        ({"CreationTime": 1, "WarnLevel": _Warn.HIGH},
         "key 'WarnLevel': expected a string, got _Warn, a subclass of str (give a plain str)"),
    ],
    ids=["int-enum", "str-enum"],
)
def test_load_names_a_subclass_of_a_json_type_as_what_it_is(item: dict[str, object], reason: str) -> None:
    # it said "expected an integer, got an integer"
    with pytest.raises(RecordError) as caught:
        Engine().load([item])
    assert reason in str(caught.value)
    with pytest.raises(RecordError) as caught:
        Engine().load([MaskingRun(id=1, start_time=1, status=_Level.DONE)])
    assert "got _Level, a subclass of int" in str(caught.value)


class _Unprintable:
    """An object whose repr and str both fail."""

    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    __str__ = __repr__


@pytest.mark.parametrize(
    ("params", "name", "reason"),
    [
        ({"PageSize": _Unprintable()}, "PageSize", "<_Unprintable object>"),
        ({_Unprintable(): "1"}, "<_Unprintable object>", "parameter name is a string, not <_Unprintable object>"),
        ({7: "1"}, "7", "parameter name is a string, not 7"),
    ],
    ids=["value", "name", "int-name"],
)
def test_call_refuses_a_parameter_that_cannot_be_printed_as_invalid_not_internal(params, name, reason) -> None:
    # an object whose repr fails made the reason itself fail: InternalError instead of the refusal
    with pytest.raises(ApiError) as refused:
        Engine().call("DescribeAuditLogs", {**params, "Lang": "en_us"})
    assert refused.value.code == "InvalidParameter"
    assert refused.value.body["Message"].startswith(f'The specified parameter "{name}" is not valid.')
    assert reason in refused.value.body["Message"]


def _at_once(*loads: Any) -> None:
    """Run each of ``loads`` three times in its own thread, the threads started together and
    switching often, as on a busy machine."""
    import sys
    import threading

    barrier = threading.Barrier(len(loads))

    def repeat(load: Any) -> None:
        barrier.wait()
        for _ in range(3):
            load()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=repeat, args=(load,)) for load in loads]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)


_RUNS = [MaskingRun(id=i, start_time=i) for i in range(200)]


@pytest.mark.parametrize("backend", ["memory", "duckdb"])
def test_loads_of_the_same_masking_runs_at_once_keep_each_id_once(tmp_path: Any, backend: str) -> None:
    # each load looked the runs' Ids up, then inserted them: four threads loading the same runs
    # at once all found them new, and every run was held four times
    engine = Engine() if backend == "memory" else Engine.connect(f"duckdb://{tmp_path}/x.duckdb")
    try:
        _at_once(*[lambda: engine.load(_RUNS)] * 4)
        assert len(engine.store(RecordKind.MASKING_RUN)) == 200
    finally:
        engine.close()


def test_snapshot_load_and_engine_load_at_once_keep_each_id_once(tmp_path: Any) -> None:
    # snapshot.load, called directly, did not wait for an Engine.load in another thread: both
    # looked the same runs up, found them new, and held them twice
    from dsc_engine.io import snapshot

    path = tmp_path / "runs.dsc"
    with Engine() as source:
        source.load(_RUNS)
        snapshot.save(source, path)
    engine = Engine()
    engine.load(_RUNS[:1])  # the snapshot is appended, run by run, not taken as a whole store
    store = engine.store(RecordKind.MASKING_RUN)
    insert = store.insert

    def slow_insert(records: Any, **options: Any) -> int:
        time.sleep(0.005)  # between the look-up and the insert, where another load would look
        return insert(records, **options)

    store.insert = slow_insert  # type: ignore[method-assign]
    _at_once(lambda: snapshot.load(engine, path), lambda: engine.load(_RUNS), lambda: snapshot.load(engine, path))
    assert len(engine.store(RecordKind.MASKING_RUN)) == 200


def test_two_engines_over_one_database_load_the_same_runs_once(tmp_path: Any) -> None:
    # two Engine.connect on one DuckDB file (a server and a loader) each looked the runs up
    # before either inserted them: every run was held twice
    url = f"duckdb://{tmp_path}/x.duckdb"
    with Engine.connect(url) as first, Engine.connect(url) as second:
        _at_once(lambda: first.load(_RUNS), lambda: second.load(_RUNS), lambda: first.load(_RUNS))
        assert len(second.store(RecordKind.MASKING_RUN)) == 200


def test_a_parameter_given_as_none_is_left_out() -> None:
    """docs/api.md: ``None``, like an empty string, is the parameter left out, so optional
    keywords may be passed as ``None``; a required DMS parameter given so is missing."""
    engine = Engine.from_sample(["audit"])
    given = engine.describe_audit_logs(UserName=None, PageSize=None, LogQueryOpJson=None)
    plain = engine.describe_audit_logs()
    assert (given["TotalCount"], given["PageSize"], given["Items"]) == (plain["TotalCount"], 10, plain["Items"])
    with pytest.raises(ApiError) as info:
        engine.list_sensitive_data_audit_log(StartTime=None, EndTime="2026-10-31 23:59:59", PageSize=10, PageNumber=1)
    assert info.value.code == "MissingStartTime"


class _Page(enum.IntEnum):
    FIRST = 1
    THREE = 3


class _Module(str, enum.Enum):
    CONSOLE = "SQL_CONSOLE"
    USER = "u"


@pytest.mark.parametrize("backend", NAMES)
def test_parameter_values_of_a_subclass_are_read_as_the_plain_value_on_every_backend(backend: str) -> None:
    """An ``IntEnum`` or a ``str`` enum given for a parameter is the int or the text it holds,
    on every backend alike, and the response echoes a plain ``int``: the subclass was handed
    to the filters as it was, and a database backend, which cannot bind it, answered
    ``InternalError`` where the memory engine answered."""
    opened = open_backend(backend)
    try:
        engine = opened.engine
        engine.load([{"CreationTime": 5, "UserName": "u"}, {"CreationTime": 6, "UserName": "b"}], kind="audit")
        engine.load([{"OpTime": "2022-11-18 10:00:00", "UserName": "u", "ModuleName": "SQL_CONSOLE", "Tid": 1},
                     {"OpTime": "2022-11-18 10:00:01", "UserName": "b", "Tid": 3}], kind="dms")
        audit = engine.describe_audit_logs(UserName=_Module.USER, StartTime=_Page.THREE, PageSize=_Page.THREE,
                                           AsyncRequestId=_Module.USER)
        assert [item["UserName"] for item in audit["Items"]] == ["u"]
        assert type(audit["PageSize"]) is int and type(audit["AsyncRequestId"]) is str
        dms = engine.list_sensitive_data_audit_log(
            StartTime="2022-11-18 10:00:00", EndTime="2022-11-18 10:00:01", PageSize=10, PageNumber=_Page.FIRST,
            OpUserName=_Module.USER, ModuleName=_Module.CONSOLE, Tid=_Page.FIRST)
        assert [item["UserName"] for item in dms["SensitiveDataAuditLogList"]] == ["u"]
    finally:
        opened.close()


def test_a_wall_clock_subclass_holding_nanoseconds_is_refused_and_one_in_whole_seconds_is_read() -> None:
    """pandas' ``Timestamp`` is a ``datetime`` that may hold nanoseconds beyond its microseconds:
    such a ``StartTime`` was taken, compared with its nanoseconds in memory and without them in a
    database; it is not a time in whole seconds, so it is refused as a ``datetime`` with
    microseconds is."""
    pd = pytest.importorskip("pandas")
    engine = Engine()
    engine.load([{"OpTime": "2022-11-18 10:00:00"}, {"OpTime": "2022-11-18 10:00:01"}], kind="dms")
    window = {"EndTime": "2022-11-18 10:00:01", "PageSize": 10, "PageNumber": 1}
    with pytest.raises(ApiError) as info:
        engine.list_sensitive_data_audit_log(StartTime=pd.Timestamp("2022-11-18 10:00:00.000000500"), **window)
    assert info.value.code == "InvalidParameter"
    assert 'parameter "StartTime"' in info.value.message and "yyyy-MM-dd HH:mm:ss" in info.value.message
    body = engine.list_sensitive_data_audit_log(StartTime=pd.Timestamp("2022-11-18 10:00:00"), **window)
    assert body["TotalCount"] == 2


def test_dir_of_the_package_offers_its_public_names_before_their_first_use() -> None:
    """The public names are imported on first use; ``dir`` (tab completion) offers them anyway,
    in a process that has not used them yet."""
    import subprocess
    import sys

    script = "import dsc_engine, json; print(json.dumps(dir(dsc_engine)))"
    shown = json.loads(subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout)
    import dsc_engine

    assert set(dsc_engine.__all__) <= set(shown)
    assert {"Engine", "ApiError", "mock", "Page"} <= set(shown)
