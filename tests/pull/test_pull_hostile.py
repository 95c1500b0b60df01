"""``dsc_engine.pull`` against a service that misbehaves, played by a small WSGI application over
real HTTP with the official SDK: answers the SDK cannot read as a page, and counts that disagree
with the records beside them."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pulltools import pulled

from dsc_engine.errors import UNREADABLE_ANSWER, PullError, UpstreamError
from dsc_engine.io.jsontext import compact
from dsc_engine.pull import Backoff, Credentials, SdkUpstream, Timing, default_checkpoint, pull
from dsc_engine.pull.credentials import Fixed
from dsc_engine.pull.upstream import Endpoint
from dsc_engine.server.host import RunningServer

NO_WAIT = Timing(sleep=lambda seconds: None)
START = 1_790_000_000_000
#: Twenty audit logs a millisecond apart, newest first (the service's order).
LOGS = [{"CreationTime": START + i, "UserName": f"user{i}"} for i in reversed(range(20))]
WINDOW: dict[str, Any] = {"since": START, "until": START + 19, "page_size": 5, "rate": 1000.0, "timing": NO_WAIT}

Answer = Callable[[dict[str, str], int], tuple[int, object]]


class Served:
    """The service as ``answer(params, call number from 1) -> (status, body)`` says, over HTTP."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.calls: list[dict[str, str]] = []
        self.server = RunningServer(self._app)

    def _app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        params = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        params.update(urllib.parse.parse_qsl(environ["wsgi.input"].read(length).decode()))
        self.calls.append(params)
        status, body = self.answer(params, len(self.calls))
        data = (body if isinstance(body, str) else compact(body)).encode()
        start_response(f"{status} X", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    def upstream(self) -> SdkUpstream:
        endpoint = Endpoint.parse(f"http://{self.server.endpoint}")
        return SdkUpstream(Fixed(Credentials("LTAIkey", "secret")), endpoint=endpoint)


@pytest.fixture
def serve() -> Iterator[Callable[[Answer], Served]]:
    started: list[Served] = []

    def start(answer: Answer) -> Served:
        started.append(Served(answer))
        return started[-1]

    yield start
    for served in started:
        served.server.stop()


def page(params: dict[str, str], logs: list[dict[str, Any]] = LOGS, **overrides: object) -> dict[str, Any]:
    """The page ``params`` ask for of ``logs``, as the service answers it, with ``overrides``."""
    size, number = int(params["PageSize"]), int(params["CurrentPage"])
    inside = [log for log in logs if int(params["StartTime"]) <= log["CreationTime"] <= int(params["EndTime"])]
    body = {"RequestId": f"R{number}", "TotalCount": len(inside), "PageSize": size, "CurrentPage": number,
            "Items": inside[(number - 1) * size:number * size]}
    return {**body, **overrides}


def test_the_served_window_is_pulled_whole(serve: Callable[[Answer], Served], tmp_path: Path) -> None:
    served = serve(lambda params, call: (200, page(params)))
    report = pull("audit", tmp_path / "a.jsonl", upstream=served.upstream(), **WINDOW)
    assert pulled(tmp_path / "a.jsonl") == LOGS and report.reconciled


@pytest.mark.parametrize("body", ["[1, 2]", "null", {"TotalCount": 1, "Items": "x"}, {"TotalCount": 2, "Items": [1, 2]}])
def test_an_answer_the_sdk_cannot_read_as_a_page_stops_the_pull_saying_so(
    serve: Callable[[Answer], Served], tmp_path: Path, body: object
) -> None:
    served = serve(lambda params, call: (200, body))
    with pytest.raises(PullError, match="DescribeAuditLogs answered with a body the SDK .* cannot read as a page"):
        pull("audit", tmp_path / "a.jsonl", upstream=served.upstream(), **WINDOW)
    assert len(served.calls) == 1 and not default_checkpoint(tmp_path / "a.jsonl").exists()


def test_an_error_page_that_is_not_json_is_retried_and_named_for_what_it_is(
    serve: Callable[[Answer], Served], tmp_path: Path
) -> None:
    """A gateway's HTML error page (the SDK keeps no status of it) was reported as a call that
    got no answer; it is retried, and then, if it stays, named an answer that is not JSON."""
    served = serve(lambda params, call: (502, "<html>Bad Gateway</html>") if call < 3 else (200, page(params)))
    report = pull("audit", tmp_path / "a.jsonl", upstream=served.upstream(), **WINDOW)
    assert pulled(tmp_path / "a.jsonl") == LOGS and report.reconciled
    assert report.retried_codes == {UNREADABLE_ANSWER: 2}
    always = serve(lambda params, call: (500, "<html>oops</html>"))
    with pytest.raises(UpstreamError) as failed:
        pull("audit", tmp_path / "b.jsonl", upstream=always.upstream(), backoff=Backoff(retries=2), **WINDOW)
    assert failed.value.code == UNREADABLE_ANSWER and "<html>oops</html>" in failed.value.message
    assert len(always.calls) == 3 and "failed after 3 attempts (an answer that is not JSON)" in str(failed.value)


def test_records_beside_a_total_count_of_zero_are_pulled_again_not_dropped(
    serve: Callable[[Answer], Served], tmp_path: Path
) -> None:
    """A count taken before the records arrived (0) beside the records listed: the slice is paged
    again, and its records are in the result once the count agrees."""
    served = serve(lambda params, call: (200, page(params, TotalCount=0) if call == 1 else page(params)))
    report = pull("audit", tmp_path / "a.jsonl", upstream=served.upstream(), **WINDOW)
    assert pulled(tmp_path / "a.jsonl") == LOGS and report.restarts == 1 and report.reconciled


def test_a_total_count_of_zero_that_never_agrees_with_the_records_stops_the_pull(
    serve: Callable[[Answer], Served], tmp_path: Path
) -> None:
    served = serve(lambda params, call: (200, page(params, TotalCount=0)))
    with pytest.raises(PullError, match=r"kept changing .* the last: its pages held 5 records, its TotalCount is 0"):
        pull("audit", tmp_path / "a.jsonl", upstream=served.upstream(), **WINDOW)
    assert not (tmp_path / "a.jsonl").exists()


def test_an_empty_slice_whose_records_show_up_at_the_final_check_is_pulled_again(
    serve: Callable[[Answer], Served], tmp_path: Path
) -> None:
    """The final check finds records where the slice was empty, though the count still says 0."""

    def answer(params: dict[str, str], call: int) -> tuple[int, object]:
        if call == 1:
            return 200, page(params, logs=[])
        return 200, page(params, TotalCount=0) if call == 2 else page(params)

    served = serve(answer)
    report = pull("audit", tmp_path / "a.jsonl", upstream=served.upstream(), **WINDOW)
    assert pulled(tmp_path / "a.jsonl") == LOGS and report.repulled == 1
