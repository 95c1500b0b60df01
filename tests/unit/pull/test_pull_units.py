"""The pieces of ``dsc_engine.pull`` alone: time axes and slices, pacing, plans, checkpoints."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsc_engine.api.operations import OPERATIONS
from dsc_engine.api.spec import Operation
from dsc_engine.errors import CheckpointError, UsageError, PullError, UpstreamError
from dsc_engine.pull import checkpoint
from dsc_engine.pull.axes import MILLISECONDS, WALL_CLOCK_SECONDS, Slice, axis_of, read_bound
from dsc_engine.pull.checkpoint import Done, Job, State
from dsc_engine.pull.credentials import ENV_KEY_ID, ENV_KEY_SECRET, ENV_TOKEN, Credentials, from_environment
from dsc_engine.pull.pacing import Backoff, Paced, RateLimiter
from dsc_engine.pull.plan import PullPlan, operations_for, page_size_for, read_params
from dsc_engine.pull.upstream import Endpoint, method_name, sdk_package

AUDIT = OPERATIONS["DescribeAuditLogs"]
RUNS = OPERATIONS["DescribeDataMaskingRunHistory"]
DMS = OPERATIONS["ListSensitiveDataAuditLog"]


# ------------------------------------------------------------------------------- axes, slices


@given(st.integers(-(2**40), 2**40), st.integers(1, 2**40))
def test_halves_of_a_slice_cover_it_without_sharing_a_unit(lo: int, width: int) -> None:
    piece = Slice(lo, lo + width)
    newer, older = piece.halves()
    assert older.lo == piece.lo and newer.hi == piece.hi and older.hi + 1 == newer.lo
    assert older.hi - older.lo <= newer.hi - newer.lo + 1  # halves, not a sliver


def test_a_slice_needs_its_bounds_in_order() -> None:
    with pytest.raises(ValueError, match="lo <= hi"):
        Slice(2, 1)


def test_sddp_windows_are_milliseconds_and_literals_default_to_utc() -> None:
    assert axis_of(AUDIT) is MILLISECONDS and axis_of(RUNS) is MILLISECONDS
    assert read_bound(AUDIT, "--since", "1790000000000") == 1_790_000_000_000
    assert read_bound(AUDIT, "--since", "2026-10-01") == 1_790_812_800_000
    assert read_bound(AUDIT, "--since", "2026-10-01T08:00:00+08:00") == 1_790_812_800_000
    assert MILLISECONDS.show(1_790_812_800_001) == "2026-10-01T00:00:00.001Z"


def test_dms_windows_are_naive_wall_clock_seconds_sent_as_text() -> None:
    assert axis_of(DMS) is WALL_CLOCK_SECONDS
    seconds = read_bound(DMS, "--since", "2026-10-01 08:00:00")
    assert WALL_CLOCK_SECONDS.wire(seconds) == "2026-10-01 08:00:00"
    assert WALL_CLOCK_SECONDS.wire(seconds + 59) == "2026-10-01 08:00:59"


@pytest.mark.parametrize(
    ("text", "reason"),
    [("1790000000000", "not UNIX times"), ("2026-10-01T08:00:00Z", "drop the zone"),
     ("2026-10-01 08:00:00.5", "whole seconds"), ("yesterday", "not a time")],
)
def test_dms_windows_refuse_what_a_wall_clock_cannot_say(text: str, reason: str) -> None:
    with pytest.raises(UsageError, match=reason):
        read_bound(DMS, "--until", text)


def test_the_last_complete_unit_is_before_now() -> None:
    assert MILLISECONDS.last_complete(1_790_000_000.0005) == 1_790_000_000_000 - 1
    now = dt.datetime(2026, 10, 1, 8, 0, 0).timestamp() + 0.25  # this machine's zone
    assert WALL_CLOCK_SECONDS.show(WALL_CLOCK_SECONDS.last_complete(now)) == "2026-10-01 07:59:59"


# ---------------------------------------------------------------------------------- pacing


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_rate_limiter_spaces_calls_one_interval_apart() -> None:
    clock = Clock()
    limiter = RateLimiter(10, clock.time, clock.sleep)
    for _ in range(5):
        limiter.wait()
    assert clock.slept == pytest.approx([0.1] * 4)
    clock.now += 5  # a pause: the next call goes at once
    limiter.wait()
    assert len(clock.slept) == 4


@given(st.integers(0, 40), st.floats(0.01, 2), st.floats(1, 60))
def test_backoff_grows_exponentially_with_jitter_under_its_cap(retry: int, base: float, cap: float) -> None:
    backoff = Backoff(base=base, cap=cap)
    ceiling = min(cap, base * 2.0**retry)
    delay = backoff.delay(retry, random.Random(retry).uniform)
    assert ceiling / 2 <= delay <= ceiling <= cap


class Scripted:
    """Answers each call with the next of ``script``: a body, or an error to raise."""

    def __init__(self, *script: Any) -> None:
        self.script = list(script)
        self.calls = 0

    def call(self, operation: Operation, params: Mapping[str, object]) -> dict[str, Any]:
        self.calls += 1
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return dict(step)


def _paced(upstream: Scripted, retries: int = 8) -> tuple[Paced, Clock]:
    clock = Clock()
    paced = Paced(upstream, RateLimiter(1000, clock.time, clock.sleep), Backoff(retries=retries),
                  sleep=clock.sleep, rng=random.Random(1))
    return paced, clock


@pytest.mark.parametrize(
    "error",
    [UpstreamError("Throttling.User", "Request was denied due to user flow control.", 400),
     UpstreamError("Throttling", "busy", 503),
     UpstreamError("InternalError", "oops", 500),
     UpstreamError("NoResponse", "ConnectionResetError", None)],
)
def test_throttling_server_errors_and_lost_connections_are_retried(error: UpstreamError) -> None:
    upstream = Scripted(error, error, {"TotalCount": 0})
    paced, clock = _paced(upstream)
    assert paced.call(AUDIT, {}) == {"TotalCount": 0}
    assert upstream.calls == 3 and paced.stats.retries == 2 and paced.stats.retried_codes == {error.code: 2}
    assert 0.25 <= clock.slept[-2] <= 0.5 and 0.5 <= clock.slept[-1] <= 1.0  # 0.5 s, then 1 s, jittered


@pytest.mark.parametrize(
    ("code", "status"),
    [("InvalidAccessKeyId.NotFound", 404), ("SignatureDoesNotMatch", 400), ("Forbidden.RAM", 403),
     ("InvalidParameter", 400), ("Unknown", None)],
)
def test_refusals_that_will_not_change_stop_at_once(code: str, status: int | None) -> None:
    upstream = Scripted(UpstreamError(code, "the service's words", status), {"TotalCount": 0})
    paced, _ = _paced(upstream)
    with pytest.raises(UpstreamError, match="the service's words") as refused:
        paced.call(AUDIT, {})
    assert refused.value.code == code and refused.value.attempts == 1 and upstream.calls == 1


def test_a_call_that_got_no_answer_says_it_failed_not_that_it_was_refused() -> None:
    assert str(UpstreamError("NoResponse", "ConnectionRefusedError", None, action="A", attempts=3)) == (
        "A failed after 3 attempts (no answer): NoResponse: ConnectionRefusedError"
    )


def test_a_retry_waits_at_least_what_the_service_asked_for() -> None:
    """A throttled answer's ``x-acs-retry-after`` (milliseconds; the SDK's ThrottlingException
    carries it) is waited before the retry when longer than the backoff, at most 120 s."""
    from alibabacloud_tea_openapi.exceptions import ThrottlingException

    from dsc_engine.pull.upstream import from_sdk_exception

    sdk = ThrottlingException(status_code=400, code="Throttling.User", message="busy", retry_after=7_500,
                              data={"Code": "Throttling.User", "Message": "busy"})
    asked = from_sdk_exception(sdk, "DescribeAuditLogs")
    assert asked.retry_after == 7.5 and asked.retryable
    far = UpstreamError("Throttling.User", "busy", 400, retry_after=900.0)
    upstream = Scripted(asked, far, {"TotalCount": 0})
    paced, clock = _paced(upstream)
    assert paced.call(AUDIT, {}) == {"TotalCount": 0}
    assert clock.slept[-2:] == [7.5, 120.0] and paced.stats.waited == 127.5
    unasked = from_sdk_exception(ThrottlingException(code="Throttling.User", message="busy"), "A")
    assert unasked.retry_after is None


def test_retries_give_up_after_their_limit_with_the_last_error() -> None:
    busy = UpstreamError("Throttling.User", "Request was denied due to user flow control.", 400)
    upstream = Scripted(*[busy] * 4)
    paced, _ = _paced(upstream, retries=3)
    with pytest.raises(UpstreamError, match="after 4 attempts.*Throttling.User") as refused:
        paced.call(AUDIT, {})
    assert refused.value.attempts == 4 and upstream.calls == 4


# ----------------------------------------------------------------------------------- plans


def test_operations_are_named_by_kind_action_or_all_each_once() -> None:
    assert operations_for("all") == list(OPERATIONS.values())
    assert operations_for(["dms", "ListSensitiveDataAuditLog", "audit_log"]) == [DMS, AUDIT]
    with pytest.raises(UsageError, match="expected all, audit, masking, dms"):
        operations_for("everything")


def test_parameters_are_read_as_their_wire_type_and_go_where_they_are_taken() -> None:
    filters = read_params([AUDIT, RUNS], {"ProductId": "8", "LoadWhiteList": "TRUE", "Status": "2", "Lang": "en_us"})
    assert filters == {
        "DescribeAuditLogs": {"ProductId": 8, "LoadWhiteList": True, "Lang": "en_us"},
        "DescribeDataMaskingRunHistory": {"Status": 2, "Lang": "en_us"},
    }
    with pytest.raises(UsageError, match="ProductId is an integer"):
        read_params([AUDIT], {"ProductId": "eight"})
    with pytest.raises(UsageError, match="DescribeDataMaskingRunHistory takes no parameter UserName"):
        read_params([RUNS], {"UserName": "x"})


def test_a_page_request_carries_the_window_and_paging_of_the_operation() -> None:
    plan = PullPlan(DMS, {"ModuleName": "SQL_CONSOLE"}, 20)
    piece = Slice(read_bound(DMS, "", "2026-10-01 00:00:00"), read_bound(DMS, "", "2026-10-01 23:59:59"))
    assert plan.request(piece, 3) == {
        "ModuleName": "SQL_CONSOLE", "StartTime": "2026-10-01 00:00:00", "EndTime": "2026-10-01 23:59:59",
        "PageSize": 20, "PageNumber": 3,
    }
    assert PullPlan(AUDIT, {}, 50).request(Slice(1, 2), 1) == {"StartTime": 1, "EndTime": 2, "PageSize": 50, "CurrentPage": 1}


def test_page_sizes_default_to_the_largest_and_stay_in_bounds() -> None:
    assert [page_size_for(op, None) for op in (AUDIT, RUNS, DMS)] == [50, 100, 100]
    with pytest.raises(UsageError, match="1 to 50"):
        page_size_for(AUDIT, 51)


@pytest.mark.parametrize(
    ("body", "read"),
    [({"Items": []}, "total"), ({"TotalCount": "3", "Items": []}, "total"), ({"TotalCount": 3}, "items"),
     ({"TotalCount": 3, "Items": {}}, "items")],
)
def test_an_answer_without_its_total_or_list_stops_the_pull(body: dict[str, Any], read: str) -> None:
    with pytest.raises(PullError, match="DescribeAuditLogs answered without"):
        getattr(PullPlan(AUDIT, {}, 50), read)(body)


def test_sdk_packages_and_methods_follow_the_sdk_naming() -> None:
    assert [sdk_package(op) for op in (AUDIT, DMS)] == ["alibabacloud_sddp20190103", "alibabacloud_dms_enterprise20181101"]
    assert method_name("ListSensitiveDataAuditLog") == "list_sensitive_data_audit_log"
    assert Endpoint.parse("http://127.0.0.1:8080/") == Endpoint("127.0.0.1:8080", "http")
    assert Endpoint.parse("sddp.cn-zhangjiakou.aliyuncs.com") == Endpoint("sddp.cn-zhangjiakou.aliyuncs.com", "https")


# ------------------------------------------------------------------------------ credentials


def test_credentials_come_from_the_environment_secrets_never_shown() -> None:
    found = from_environment({ENV_KEY_ID: "LTAIid", ENV_KEY_SECRET: "shh", ENV_TOKEN: "tok"})
    assert found == Credentials("LTAIid", "shh", "tok") and "shh" not in repr(found) and "tok" not in repr(found)
    assert from_environment({}) is None
    with pytest.raises(PullError, match=f"{ENV_KEY_SECRET} is not set"):
        from_environment({ENV_KEY_ID: "LTAIid"})


# ------------------------------------------------------------------------------ checkpoints


def test_a_checkpoint_round_trips_and_is_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "cp.json"
    state = State(str(tmp_path / "out"), [Job("DescribeAuditLogs", 1, 100, {"Lang": "en_us"}, 7,
                                              [Done(Slice(51, 100), 7, 2, 1)], [Slice(1, 50)])])
    checkpoint.save(state, path)
    assert checkpoint.load(path) == state
    assert [p.name for p in tmp_path.iterdir()] == ["cp.json"]  # no temporary file left


@pytest.mark.parametrize(
    ("text", "reason"),
    [("", "not JSON"), ("[]", "damaged"), ('{"dsc-engine pull checkpoint": 2}', "damaged"),
     (json.dumps({"dsc-engine pull checkpoint": 1, "output": "o", "jobs": [
         {"action": "A", "since": 1, "until": 0.5, "params": {}, "expected": None, "done": [], "todo": []}]}),
      "expected an integer")],
)
def test_a_damaged_checkpoint_says_so(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "cp.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CheckpointError, match=reason):
        checkpoint.load(path)


def test_a_page_holding_a_lone_surrogate_is_written_with_the_escape(tmp_path: Path) -> None:
    from dsc_engine.pull.checkpoint import PartWriter

    path = tmp_path / "part.jsonl"
    with open(path, "w", encoding="utf-8") as out:  # a str with half a pair cannot be UTF-8
        PartWriter(out).page({"TotalCount": 1, "Items": [{"CreationTime": 1, "UserName": "a\ud800"}]})
    assert '"a\\ud800"' in path.read_text(encoding="utf-8")
    assert json.loads(path.read_text(encoding="utf-8"))["Items"][0]["UserName"] == "a\ud800"


@pytest.mark.parametrize(
    ("done", "todo", "reason"),
    [([[51, 100]], [], r"leave \[1, 50\] of its window \[1, 100\] out"),
     ([[51, 100]], [[1, 40]], r"leave \[41, 50\] of its window \[1, 100\] out"),
     ([[51, 100]], [[1, 50], [1, 100]], "cover 1 twice"),
     ([[51, 100]], [[1, 50], [0, 0]], "cover 0 twice, or outside its window"),
     ([[51, 120]], [[1, 50]], "cover 101 to 120, outside its window")],
)
def test_a_checkpoint_whose_slices_do_not_cover_its_window_once_is_damaged(
    tmp_path: Path, done: list[list[int]], todo: list[list[int]], reason: str
) -> None:
    """A slice left out would be a gap in the output, two sharing a unit a record written twice."""
    path = tmp_path / "cp.json"
    job = {"action": "DescribeAuditLogs", "since": 1, "until": 100, "params": {}, "expected": 7,
           "done": [[lo, hi, 7, 2, 0] for lo, hi in done], "todo": todo}
    path.write_text(json.dumps({"dsc-engine pull checkpoint": 1, "output": "o", "jobs": [job]}), encoding="utf-8")
    with pytest.raises(CheckpointError, match=f"a damaged checkpoint .*{reason}"):
        checkpoint.load(path)


@pytest.mark.parametrize(
    "text", ["http://127.0.0.1:9000/some/path", "127.0.0.1:9000/x", "sddp.aliyuncs.com?x=1", "host:99999",
             "host:0", "host:port", "http://[::1", "user@host", ":80"]
)
def test_an_endpoint_that_is_no_host_and_port_is_refused_not_cut_down(text: str) -> None:
    with pytest.raises(PullError, match=r"expected host\[:port\] or http\(s\)://host\[:port\]"):
        Endpoint.parse(text)
    assert Endpoint.parse("http://[::1]:9000/") == Endpoint("[::1]:9000", "http")


@pytest.mark.parametrize("text", ["1_0", "\u0661", "\uff18", "99999999999999999999", "-9223372036854775809"])
def test_an_integer_filter_is_ascii_digits_within_64_bits_as_the_service_takes_it(text: str) -> None:
    """int() reads '1_0' as 10 and Arabic-Indic or full-width digits as numbers; the service
    refuses them, and a number past 64 bits, so they are told before any call."""
    with pytest.raises(UsageError, match=r"ProductId is an integer \(64-bit, in the digits 0-9\), not "):
        read_params([AUDIT], {"ProductId": text})
    assert read_params([AUDIT], {"ProductId": " +8"}) == {"DescribeAuditLogs": {"ProductId": 8}}
