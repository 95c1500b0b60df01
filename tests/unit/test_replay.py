"""Replay compares a page's items as a list of records: missing, extra and reordered records
first, field differences only between records that line up."""

from __future__ import annotations

import io
import json

import pytest

from dsc_engine import sample
from dsc_engine.engine import Engine
from dsc_engine.models import RecordKind
from dsc_engine.errors import ImportFailure
from dsc_engine.io.sources import UNENDED
from dsc_engine.replay import Call, compare, read_calls, record, replay

DMS = RecordKind.DMS_LOG
WINDOW = {"StartTime": "2000-01-01 00:00:00", "EndTime": "2099-12-31 23:59:59", "PageNumber": "1", "PageSize": "100"}


def captured(engine: Engine, params: dict[str, str]) -> Call:
    out = io.StringIO()
    record(engine, [Call("ListSensitiveDataAuditLog", params)], out)
    data = json.loads(out.getvalue())
    return Call(data["action"], data["params"], data["response"], status=data["status"], line=1)


def test_replay_says_extra_records_when_every_record_was_loaded_twice():
    recs = sample.generate(DMS, 50, seed=3)
    once, twice = Engine(), Engine()
    once.load(recs)
    twice.load(recs + recs)
    call = captured(once, WINDOW)
    (result,) = replay(twice, [call]).results
    shown = [str(d) for d in result.differences]
    assert len(shown) == 2, shown
    assert shown[0] == "TotalCount: expected 50, got 100"
    assert shown[1].startswith("SensitiveDataAuditLogList: 50 extra records (SensitiveDataAuditLogList[")
    assert shown[1].endswith("; all 50 repeat another record of the page)")


def test_replay_names_missing_records_by_their_place_in_the_capture():
    recs = sample.generate(DMS, 30, seed=4)
    full, part = Engine(), Engine()
    full.load(recs)
    call = captured(full, WINDOW)
    items = call.response["SensitiveDataAuditLogList"]
    part.load(r for r in recs if r.op_time not in {_time(i) for i in items[10:13]})
    shown = [str(d) for d in compare(call, part.call(call.action, call.params))]
    assert shown == [
        "TotalCount: expected 30, got 27",
        "SensitiveDataAuditLogList: 3 missing records (SensitiveDataAuditLogList[10..12])",
    ]


def _time(item: dict) -> object:
    from dsc_engine.wire.times import parse_dms_time

    return parse_dms_time(item["OpTime"])


def test_replay_field_differences_between_records_that_line_up():
    call = Call("DescribeAuditLogs", {}, {"Items": [{"A": 1}, {"A": 2}, {"A": 3}], "TotalCount": 3})
    got = {"Items": [{"A": 1}, {"A": 9}, {"A": 3}], "TotalCount": 3}
    assert [str(d) for d in compare(call, got)] == ["Items[1].A: expected 2, got 9"]


def test_replay_records_in_another_order_are_named_not_diffed_field_by_field():
    a, b, c = {"A": 1, "B": "x"}, {"A": 2, "B": "y"}, {"A": 3, "B": "z"}
    call = Call("DescribeAuditLogs", {}, {"Items": [a, b, c]})
    assert [str(d) for d in compare(call, {"Items": [b, a, c]})] == [
        "Items: 1 record in another order (expected Items[1], got Items[0])"
    ]


def test_replay_long_index_lists_are_abridged():
    items = [{"A": n} for n in range(100)]
    call = Call("DescribeAuditLogs", {}, {"Items": items[::2]})
    (difference,) = compare(call, {"Items": items})
    assert str(difference) == "Items: 50 extra records (Items[1, 3, 5, 7, 9, 11, …, 99])"


def test_a_lone_surrogate_in_a_call_stays_escaped_in_the_capture_and_the_report(tmp_path):
    """A parameter may hold half a UTF-16 surrogate pair (``"\\ud800"``, as a capture of the real
    service keeps it): the capture is still written as UTF-8 (the escape kept), reads back the
    same, and the report of its replay can be printed."""
    from dsc_engine.replay import read_calls

    engine = Engine()
    engine.load(sample.generate(DMS, 5, seed=3))
    capture = tmp_path / "capture.jsonl"
    with open(capture, "w", encoding="utf-8") as out:
        assert record(engine, [Call("ListSensitiveDataAuditLog", {**WINDOW, "UserName": "li\ud800"})], out) == 1
    assert "\\ud800" in capture.read_text(encoding="utf-8")
    (call,) = read_calls(capture)
    assert call.params["UserName"] == "li\ud800"
    changed = Call(call.action, call.params, {**(call.response or {}), "Extra": ["\udfff"]}, line=1)
    report = replay(engine, [call, changed])
    text = "\n".join(report.lines())
    text.encode("utf-8")  # printable: no lone surrogate left in it
    assert "\\ud800" in text and "\\udfff" in text


def test_a_capture_line_that_is_not_utf8_is_named(tmp_path):
    from dsc_engine.errors import ImportFailure
    from dsc_engine.replay import read_calls

    engine = Engine()
    out = io.StringIO()
    record(engine, [Call("ListSensitiveDataAuditLog", WINDOW)] * 3, out)
    lines = out.getvalue().encode("utf-8").splitlines()
    lines[2] = lines[2].replace(b'"params"', b'"par\xffams"')
    capture = tmp_path / "capture.jsonl"
    capture.write_bytes(b"\n".join(lines) + b"\n")
    try:
        read_calls(capture)
    except ImportFailure as exc:
        assert exc.line == 3 and "UTF-8" in exc.reason, exc
    else:
        raise AssertionError("read a capture that is not UTF-8")


def test_a_capture_param_that_is_not_a_string_is_named(tmp_path):
    # {"PageSize": 5} was answered as "5" and {"UserName": null} as no UserName: not the call sent
    import pytest

    from dsc_engine.errors import ImportFailure
    from dsc_engine.replay import read_calls

    for value, shown in ((5, "5"), (None, "null"), (["a"], '["a"]')):
        line = {"action": "DescribeAuditLogs", "params": {"PageSize": "1", "UserName": value}, "response": {}}
        failure = _refusal(tmp_path, line)
        assert failure.line == 1
        assert failure.reason == f"'params' hold the parameters as sent, as strings; 'UserName' is {shown}"


def _refusal(tmp_path, line):
    """The ImportFailure of a capture holding the one call ``line``."""
    capture = tmp_path / "capture.jsonl"
    capture.write_text(json.dumps(line) + "\n", encoding="utf-8")
    with pytest.raises(ImportFailure) as failure:
        read_calls(capture)
    return failure.value


def _refused(code, status, action="DescribeAuditLogs"):
    body = {"RequestId": "R", "HostId": "sddp.cn-zhangjiakou.aliyuncs.com", "Code": code,
            "Message": "m", "Recommend": f"https://api.aliyun.com/troubleshoot?q={code}&product=Sddp&requestId=R"}
    return Call(action, {"PageSize": "5"}, body, status=status, line=2)


def test_replay_skips_calls_the_services_gateway_refused_and_says_why():
    # A capture of the real service holds the gateway's refusals (throttled, an expired STS token,
    # a 5xx): answers about how and when the call was sent, which the engine cannot reproduce
    engine = Engine()
    calls = [_refused("Throttling.User", 400), _refused("InvalidSecurityToken.Expired", 400),
             _refused("Forbidden.RAM", 403), _refused("ServiceUnavailable", 503)]
    report = replay(engine, calls)
    assert report.ok and report.skipped == 4 and report.matched == 0
    assert all(result.skipped and not result.differences for result in report.results)
    lines = list(report.lines())
    assert lines[0].startswith("skip line 2: DescribeAuditLogs")
    assert "Throttling.User" in lines[1]
    assert lines[-1] == "0 of 4 call(s) matched, 4 skipped (refused by the service's gateway)"


def test_replay_still_compares_the_apis_own_refusals():
    engine = Engine()
    (result,) = replay(engine, [_refused("InvalidParameter", 400)]).results
    assert result.skipped is None and not result.matched


def test_a_capture_whose_last_call_is_cut_short_says_it_may_still_be_being_written(tmp_path):
    path = tmp_path / "capture.jsonl"
    out = io.StringIO()
    record(Engine.from_sample(), [Call("DescribeAuditLogs", {"PageSize": "1"})] * 2, out)
    whole = out.getvalue()
    path.write_text(whole[:-40], encoding="utf-8")  # record --upstream is writing the second call
    with pytest.raises(ImportFailure) as refused:
        read_calls(path)
    assert refused.value.line == 2 and refused.value.reason.endswith(UNENDED)
    path.write_text(whole[:-40] + "\n", encoding="utf-8")
    with pytest.raises(ImportFailure) as refused:
        read_calls(path)
    assert not refused.value.reason.endswith(UNENDED)


def test_replay_ignores_the_host_id_of_any_error_body_with_or_without_recommend():
    engine = Engine()
    out = io.StringIO()
    record(engine, [Call("DescribeAuditLogs", {"PageSize": "500"})], out)
    data = json.loads(out.getvalue())
    body = {k: v for k, v in data["response"].items() if k != "Recommend"}  # an error body without it
    body["HostId"] = "sddp.cn-zhangjiakou.aliyuncs.com"
    differences = compare(Call("DescribeAuditLogs", {"PageSize": "500"}, body, status=400), dict(data["response"]))
    assert [d.path for d in differences] == ["Recommend"]  # a real difference; HostId is volatile


@pytest.mark.parametrize("status", [0, -1, 99, 600, 2000, True])
def test_a_capture_status_that_is_no_http_status_is_named_not_skipped_as_a_server_error(tmp_path, status):
    # a mistyped 2000 for 200 was read as a 5xx, so the call was skipped and the replay passed
    line = {"action": "DescribeAuditLogs", "params": {"PageSize": "1"}, "status": status, "response": {}}
    failure = _refusal(tmp_path, line)
    assert failure.line == 1
    assert failure.reason == f"'status' must be an HTTP status, an integer from 100 to 599; it is {json.dumps(status)}"


def test_a_gzipped_capture_is_read_as_the_importer_reads_gzip(tmp_path):
    # replay said a gzip'd capture was "not valid UTF-8", where every import reads gzip
    import gzip

    engine = Engine()
    engine.load(sample.generate(DMS, 5, seed=3))
    out = io.StringIO()
    record(engine, [Call("ListSensitiveDataAuditLog", WINDOW), Call("ListSensitiveDataAuditLog", {**WINDOW, "PageSize": "2"})], out)
    plain, packed = tmp_path / "capture.jsonl", tmp_path / "capture.jsonl.gz"
    plain.write_text("\ufeff" + out.getvalue(), encoding="utf-8")
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    calls = read_calls(packed)
    assert [(c.params, c.response) for c in calls] == [(c.params, c.response) for c in read_calls(plain)]
    assert len(calls) == 2 and replay(engine, calls).ok


@pytest.mark.parametrize("word", ["NaN", "Infinity", "-Infinity"])
def test_a_capture_holding_a_number_json_does_not_have_is_named_not_compared(tmp_path, word):
    # Python's json reads NaN and Infinity: a capture holding one was compared ("TotalCount:
    # expected NaN") instead of refused as the JSON it is not
    capture = tmp_path / "capture.jsonl"
    capture.write_text(json.dumps({"action": "ListSensitiveDataAuditLog", "params": WINDOW,
                                   "response": {"TotalCount": 0}}).replace("0}", word + "}") + "\n")
    with pytest.raises(ImportFailure, match=f"{word} is not JSON") as caught:
        read_calls(capture)
    assert caught.value.line == 1


@pytest.mark.parametrize(
    ("lines", "reasons"),
    [
        ('{"CreationTime": NaN}\n{"CreationTime": 1, "EffectRow": -Infinity}\n',
         ["expected an integer, got NaN, which is not JSON",
          "expected an integer, got -Infinity (a word that is not JSON, or a number too large for a float)"]),
        # 1e400 is JSON (too large for a float, so the reader gives Infinity) and 1.0 has no
        # fraction: the reasons name what was written, not a word JSON lacks or a fraction
        ('{"CreationTime": 1e400}\n{"CreationTime": 1.0}\n',
         ["expected an integer, got Infinity (a word that is not JSON, or a number too large for a float)",
          "expected an integer, got a number with a decimal point or an exponent"]),
    ],
    ids=["not-json", "json-floats"],
)
def test_a_record_holding_a_number_that_is_no_integer_says_what_it_is(tmp_path, lines, reasons):
    path = tmp_path / "logs.jsonl"
    path.write_text(lines)
    report = Engine().load(path, kind="audit")
    assert [r.reason.rsplit(": ", 1)[1] for r in report.rejects] == reasons


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('{"action": "DescribeAuditLogs", "params": {"PageSize": "5", "PageSize": "10"}, "response": {}}', "PageSize"),
        ('{"action": "DescribeAuditLogs", "params": {}, "response": {"TotalCount": 5, "TotalCount": 6}}', "TotalCount"),
        ('{"action": "DescribeAuditLogs", "action": "ListSensitiveDataAuditLog", "params": {}, "response": {}}',
         "action"),
    ],
    ids=["param", "response-field", "call-key"],
)
def test_a_capture_naming_a_key_twice_is_refused_not_read_as_its_last(tmp_path, text, key):
    # json kept the last of the two silently: the call replayed or the answer compared was not
    # the one the line also says
    capture = tmp_path / "capture.jsonl"
    capture.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(ImportFailure) as caught:
        read_calls(capture)
    assert caught.value.line == 1
    assert f"names {key!r} twice" in caught.value.reason


def test_one_extra_record_that_repeats_another_is_worded_for_one():
    a, b = {"A": 1}, {"A": 2}
    call = Call("DescribeAuditLogs", {}, {"Items": [a, b]})
    assert [str(d) for d in compare(call, {"Items": [a, b, b]})] == [
        "Items: 1 extra record (Items[2]; it repeats another record of the page)"
    ]


def test_replaying_a_call_with_no_recorded_response_is_a_usage_error_not_an_assertion(tmp_path):
    from dsc_engine.errors import UsageError

    requests = tmp_path / "requests.jsonl"
    requests.write_text('{"action": "DescribeAuditLogs", "params": {"PageSize": "5"}}\n', encoding="utf-8")
    calls = read_calls(requests, need_response=False)
    with pytest.raises(UsageError, match="line 1 has no recorded response"):
        replay(Engine(), calls)


@pytest.mark.parametrize("value", [5, None, True])
def test_record_refuses_a_param_that_is_no_string_rather_than_write_a_capture_that_does_not_read_back(value):
    from dsc_engine.errors import UsageError

    out = io.StringIO()
    with pytest.raises(UsageError, match="as strings") as caught:
        record(Engine(), [Call("DescribeAuditLogs", {"PageSize": "5"}), Call("DescribeAuditLogs", {"Lang": value})], out)
    assert caught.value.name == "params['Lang']"


@pytest.mark.parametrize(
    "response",
    [{"headers": {}, "statusCode": "200", "body": {"TotalCount": 1}},
     {"statusCode": 4000, "Code": "InvalidParameter", "Message": "m"}],
    ids=["to_map", "tea-exception"],
)
def test_an_sdk_status_code_that_is_no_http_status_is_named_as_written(tmp_path, response):
    # the reason named 'status', a key the line does not have
    failure = _refusal(tmp_path, {"action": "DescribeAuditLogs", "params": {}, "response": response})
    assert failure.reason.startswith("the response's 'statusCode' must be an HTTP status")


def test_captures_joined_with_cat_each_with_its_byte_order_mark_read_whole(tmp_path):
    # only the file's first line lost its mark: the second capture's first call was invalid JSON
    engine = Engine()
    engine.load(sample.generate(DMS, 5, seed=6))
    one = captured(engine, WINDOW).to_json()
    text = json.dumps(one) + "\n"
    capture = tmp_path / "joined.jsonl"
    capture.write_bytes(b"\xef\xbb\xbf" + text.encode() + b"\xef\xbb\xbf\xef\xbb\xbf" + text.encode())
    calls = read_calls(capture)
    assert len(calls) == 2 and replay(engine, calls).ok


def test_a_capture_page_of_100_000_records_is_compared_in_linear_time():
    # the places of the missing records checked the whole list's order once per record:
    # quadratic, minutes for a (hand-made) page of 100,000 records
    import time

    items = [{"A": n} for n in range(100_000)]
    started = time.monotonic()
    shown = [str(d) for d in compare(Call("DescribeAuditLogs", {}, {"Items": items}), {"Items": items[:100]})]
    assert time.monotonic() - started < 5
    assert shown == ["Items: 99900 missing records (Items[100..99999])"]


def test_a_capture_keeping_the_common_and_v2_signature_params_replays_as_the_server_reads_it(tmp_path):
    """A capture of requests as they were sent (a v2-signed SDK call logged whole) keeps Action,
    Version, Format and the signature's parameters, which the gateway consumes: each was passed
    to the engine, which refused it, so every such call was a difference."""
    engine = Engine.from_sample(DMS)
    sent = {**WINDOW, "PageSize": "3"}
    answered = engine.call("ListSensitiveDataAuditLog", sent)
    gateway = {"Action": "ListSensitiveDataAuditLog", "Version": "2018-11-01", "Format": "json",
               "RegionId": "cn-hangzhou", "AccessKeyId": "AK", "Signature": "c2ln", "SignatureMethod": "HMAC-SHA1",
               "SignatureVersion": "1.0", "SignatureNonce": "n1", "Timestamp": "2026-12-02T07:00:00Z"}
    capture = tmp_path / "capture.jsonl"
    capture.write_text(json.dumps({"action": "ListSensitiveDataAuditLog", "params": {**sent, **gateway},
                                   "response": answered}) + "\n", encoding="utf-8")
    (call,) = read_calls(capture)
    assert call.version == "2018-11-01"
    assert call.params == {**sent, "RegionId": "cn-hangzhou"}
    report = replay(engine, [call])
    assert report.ok and report.matched == 1
    unsigned = {"action": "DescribeAuditLogs", "params": {"PageSize": "1", "Timestamp": "x"}, "response": {}}
    assert _read(tmp_path, unsigned).params == {"PageSize": "1", "Timestamp": "x"}  # only v2 signs with it
    for params, says in (
        ({"Action": "DescribeAuditLogs"}, "'params' name Action 'DescribeAuditLogs' but the call's action is"),
        ({"Version": "2019-01-03"}, "'params' name Version '2019-01-03' but the call's version is '2018-11-01'"),
        ({"Format": "XML"}, "'params' ask for Format 'XML'"),
    ):
        line = {"action": "ListSensitiveDataAuditLog", "version": "2018-11-01", "params": params, "response": {}}
        assert _refusal(tmp_path, line).reason.startswith(says)


def _read(tmp_path, line):
    capture = tmp_path / "one.jsonl"
    capture.write_text(json.dumps(line) + "\n", encoding="utf-8")
    (call,) = read_calls(capture)
    return call
