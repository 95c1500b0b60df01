"""``dsc_engine.pull`` against the cloud as the engine's own server plays it, over real HTTP with the
official SDK: what is pulled, resuming, throttling, records arriving mid-pull, refusals."""

from __future__ import annotations

import collections
import datetime as dt
import importlib
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import attrs
import pytest
from pulltools import ACTIONS, SINCE, SIZES, UNTIL, FakeTime, pulled, served, upstream

from dsc_engine.api.operations import OPERATIONS
from dsc_engine.api.spec import Match, Operation, Role, WireType
from dsc_engine.engine import Engine
from dsc_engine.errors import CheckpointError, UsageError, OutputError, PullError, UpstreamError
from dsc_engine.models.records import Record
from dsc_engine.pull import Credentials, Timing, Upstream, default_checkpoint, parts_folder, pull
from dsc_engine.pull.axes import Slice
from dsc_engine.pull.plan import PullPlan, read_params
from dsc_engine.pull.upstream import sdk_package
from dsc_engine.sample import generate
from dsc_engine.server.config import AccessKey, ServerConfig, ThrottleConfig
from dsc_engine.server.policy import Policy
from dsc_engine.testing import TestServer

#: Small pages and shallow slices, so that a few dozen records need several slices.
SMALL = {"page_size": 5, "max_depth": 2, "rate": 1000.0}
NO_WAIT = Timing(sleep=lambda seconds: None)


class Interrupted(Exception):
    """Stands for the process being killed."""


@attrs.define
class Hooked:
    """An upstream that runs ``before(call number, params)`` ahead of each call (numbered from 1)."""

    inner: Upstream
    before: Any
    calls: int = 0

    def call(self, operation: Operation, params: Mapping[str, object]) -> dict[str, Any]:
        self.calls += 1
        self.before(self.calls, params)
        return self.inner.call(operation, params)


def _stop_at(number: int) -> Any:
    def before(call: int, params: object) -> None:
        if call == number:
            raise Interrupted(f"killed before call {number}")

    return before


# --------------------------------------------------------------------------------- what is pulled


@pytest.mark.parametrize("kind", list(ACTIONS))
def test_pulling_each_kind_reproduces_the_served_records_in_order(dsc_server: TestServer, tmp_path: Path, kind: str) -> None:
    out = tmp_path / f"{kind}.jsonl"
    report = pull(kind, out, since=SINCE, until=UNTIL, upstream=upstream(dsc_server), timing=NO_WAIT, **SMALL)
    expected = served(dsc_server.engine, kind)
    assert len(expected) == SIZES[kind]
    assert pulled(out) == expected
    assert report.records == SIZES[kind] and report.reconciled
    assert len(report.jobs[0].slices) > 1  # the window had to be cut
    loaded = Engine()
    assert loaded.load(str(out)).loaded_total == SIZES[kind]  # load imports the pages unchanged
    assert served(loaded, kind) == expected  # and then answers as the cloud did


def test_records_of_one_time_reload_in_the_order_the_service_listed_them(tmp_path: Path) -> None:
    logs = [attrs.evolve(r, creation_time=1_790_000_000_000) for r in generate("audit", 4, seed=5)]
    with TestServer(logs) as server:
        out = tmp_path / "ties.jsonl"
        pull("audit", out, since=SINCE, until=UNTIL, upstream=upstream(server), timing=NO_WAIT)
        loaded = Engine()
        loaded.load(str(out))
        assert served(loaded, "audit") == served(server.engine, "audit")


def test_pulling_all_writes_each_operation_in_turn(dsc_server: TestServer, tmp_path: Path) -> None:
    out = tmp_path / "all.jsonl"
    report = pull("all", out, since=SINCE, until=UNTIL, upstream=upstream(dsc_server), timing=NO_WAIT, **SMALL)
    assert pulled(out) == [item for kind in ACTIONS for item in served(dsc_server.engine, kind)]
    assert [job.action for job in report.jobs] == list(ACTIONS.values())
    assert not default_checkpoint(out).exists() and not parts_folder(out).exists()


def test_the_output_has_the_permissions_of_any_file_the_user_writes(dsc_server: TestServer, tmp_path: Path) -> None:
    out = tmp_path / "runs.jsonl"
    pull("masking", out, since=SINCE, until=UNTIL, upstream=upstream(dsc_server), timing=NO_WAIT, **SMALL)
    plain = tmp_path / "plain"
    plain.write_text("", encoding="utf-8")
    assert stat.S_IMODE(out.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)  # not mkstemp's 0o600


def test_a_second_pull_into_the_same_output_is_refused_while_the_first_runs(dsc_server: TestServer, tmp_path: Path) -> None:
    """Two pulls into one output shared its checkpoint and part files: one wrote a correct file,
    the other failed saying a part file could not be read. The second is refused at once, and
    the lock goes with the first pull."""
    out = tmp_path / "runs.jsonl"
    refused: list[OutputError] = []

    def second(call: int, params: object) -> None:
        if call == 3:  # the first pull is under way
            with pytest.raises(OutputError, match="another pull into it is running") as caught:
                pull("masking", out, since=SINCE, until=UNTIL, upstream=_never(), timing=NO_WAIT, **SMALL)
            refused.append(caught.value)

    report = pull("masking", out, since=SINCE, until=UNTIL, upstream=Hooked(upstream(dsc_server), second),
                  timing=NO_WAIT, **SMALL)
    assert refused and refused[0].path == str(out) and report.reconciled
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.jsonl"]  # no lock file left
    again = pull("masking", out, since=SINCE, until=UNTIL, upstream=upstream(dsc_server), timing=NO_WAIT, **SMALL)
    assert again.records == report.records


def test_a_second_pull_keeping_its_checkpoint_where_a_running_one_does_is_refused(
    dsc_server: TestServer, tmp_path: Path
) -> None:
    shared = tmp_path / "pull.checkpoint.json"
    refused: list[OutputError] = []

    def second(call: int, params: object) -> None:
        if call == 3:
            with pytest.raises(OutputError, match="another pull keeps its checkpoint there") as caught:
                pull("masking", tmp_path / "other.jsonl", since=SINCE, until=UNTIL, checkpoint_path=shared,
                     upstream=_never(), timing=NO_WAIT, **SMALL)
            refused.append(caught.value)

    report = pull("masking", tmp_path / "runs.jsonl", since=SINCE, until=UNTIL, checkpoint_path=shared,
                  upstream=Hooked(upstream(dsc_server), second), timing=NO_WAIT, **SMALL)
    assert refused and refused[0].path == str(shared) and report.reconciled
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.jsonl"]


def test_each_page_is_written_as_the_sdk_returned_it(dsc_server: TestServer, tmp_path: Path) -> None:
    out = tmp_path / "runs.jsonl"
    pull("masking", out, since=SINCE, until=UNTIL, upstream=upstream(dsc_server), timing=NO_WAIT, **SMALL)
    pages = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert all(set(page) == {"CurrentPage", "PageSize", "RequestId", "TotalCount", "Items"} for page in pages)
    assert all(page["PageSize"] == 5 and 0 < len(page["Items"]) <= 5 for page in pages)


def test_filters_reach_the_service(dsc_server: TestServer, tmp_path: Path) -> None:
    user = dsc_server.engine.store("audit").records_in_load_order()[0].user_name
    out = tmp_path / "user.jsonl"
    pull("audit", out, since=SINCE, until=UNTIL, params={"UserName": user, "Lang": "en_us"},
         upstream=upstream(dsc_server), timing=NO_WAIT, **SMALL)
    expected = served(dsc_server.engine, "audit", UserName=user, Lang="en_us")
    assert pulled(out) == expected and 0 < len(expected) < SIZES["audit"]


@pytest.mark.parametrize(
    ("name", "value"),
    [("PageSize", "5"), ("StartTime", "0"), ("CurrentPage", "2"), ("RuleAggQuery", "true"), ("RegionId", "cn"),
     ("Nope", "1")],
)
def test_parameters_the_pull_sets_itself_or_nobody_takes_are_refused(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(UsageError, match=name):
        pull("audit", tmp_path / "x.jsonl", since=SINCE, params={name: value}, upstream=_never())


@pytest.mark.parametrize("action", list(ACTIONS.values()))
def test_every_filter_of_every_operation_reaches_the_sdk_request(action: str) -> None:
    """The SDK's request model drops names it does not know; no filter the pull takes may be one."""
    operation = OPERATIONS[action]
    values = {WireType.LONG: "1", WireType.INTEGER: "1", WireType.BOOLEAN: "true"}
    given = {
        p.name: values.get(p.wire, "x") for p in operation.parameters
        if p.role in (Role.FILTER, Role.LANG, Role.SHOW_FIELD, Role.ECHO)
        and p.match not in (Match.WINDOW_START, Match.WINDOW_END)
    }
    filters = read_params([operation], given)[action]
    sent = PullPlan(operation, filters, 10).request(Slice(0, 1), 1)
    models = importlib.import_module(f"{sdk_package(operation)}.models")
    request = getattr(models, f"{action}Request")().from_map(sent)
    assert set(request.to_map()) == set(sent) and set(given) <= set(sent)


def _never() -> Upstream:
    """An upstream the test expects no call to."""

    def before(call: int, params: object) -> None:
        raise AssertionError("no call may be made")

    return Hooked(cast(Upstream, None), before)


def test_the_default_window_ends_before_the_pull_started(tmp_path: Path) -> None:
    start = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    ms = int(start.timestamp() * 1000)
    logs = [attrs.evolve(r, creation_time=ms + offset) for r, offset in zip(generate("audit", 3, seed=1), (-1, 0, 1))]
    with TestServer(logs) as server:
        out = tmp_path / "past.jsonl"
        report = pull("audit", out, since=0, upstream=upstream(server), timing=Timing(now=lambda: start.timestamp()))
    assert [item["CreationTime"] for item in pulled(out)] == [ms - 1]
    assert report.jobs[0].until == "2026-09-30T23:59:59.999Z"


# ------------------------------------------------------------------------------ slices too deep


def test_an_instant_deeper_than_max_depth_stops_with_advice_and_resumes_deeper(tmp_path: Path) -> None:
    same = [attrs.evolve(r, creation_time=1_790_000_000_000) for r in generate("audit", 12, seed=2)]
    with TestServer(same) as server:
        out = tmp_path / "same.jsonl"
        args: dict[str, Any] = {"since": SINCE, "until": UNTIL, "upstream": upstream(server), "timing": NO_WAIT,
                                "page_size": 5, "rate": 1000.0}
        with pytest.raises(PullError, match=r"12 records share the one instant .* --max-depth 3"):
            pull("audit", out, max_depth=2, **args)
        assert default_checkpoint(out).exists()
        report = pull("audit", out, max_depth=3, **args)
        assert report.resumed and len(pulled(out)) == 12


# --------------------------------------------------------------------------------- resuming


@pytest.mark.parametrize("killed_before", [1, 2, 4, 7, 11, 16, 23])
def test_a_killed_pull_resumes_with_no_gap_and_no_duplicate(
    dsc_server: TestServer, tmp_path: Path, killed_before: int
) -> None:
    out = tmp_path / "runs.jsonl"
    sdk = upstream(dsc_server)
    with pytest.raises(Interrupted):
        pull("masking", out, since=SINCE, until=UNTIL, upstream=Hooked(sdk, _stop_at(killed_before)),
             timing=NO_WAIT, **SMALL)
    assert default_checkpoint(out).exists() == (killed_before > 1) and not out.exists()
    report = pull("masking", out, since=SINCE, until=UNTIL, upstream=sdk, timing=NO_WAIT, **SMALL)
    assert report.resumed == (killed_before > 1) and report.reconciled
    items = pulled(out)
    assert items == served(dsc_server.engine, "masking")
    assert len({item["Id"] for item in items}) == len(items) == SIZES["masking"]


@pytest.mark.parametrize(
    "damage", [b'{"TotalCount": 3, "It\n', b"\xff\xfe not text\n", b"[1, 2]\n", b"{}\n", b'{"Items": {}}\n']
)
@pytest.mark.parametrize("at_start", [False, True])
def test_a_damaged_part_file_stops_the_resumed_pull_naming_it(
    dsc_server: TestServer, tmp_path: Path, damage: bytes, at_start: bool
) -> None:
    """A part file changed behind the pull's back (cut short, not UTF-8, not a page) is a
    PullError naming the file and its line, whether the final check reads it (its first line) or
    the output is joined from it; the output is not written."""
    out = tmp_path / "runs.jsonl"
    sdk = upstream(dsc_server)
    with pytest.raises(Interrupted):
        pull("masking", out, since=SINCE, until=UNTIL, upstream=Hooked(sdk, _stop_at(30)), timing=NO_WAIT, **SMALL)
    part = sorted(parts_folder(out).iterdir())[-1]  # the newest slice: pulled first, done
    pages = part.read_bytes()
    part.write_bytes(damage + pages if at_start else pages + damage)
    line = 1 if at_start else pages.count(b"\n") + 1
    with pytest.raises(PullError, match=rf"{part.name}, line {line}: cannot be read as the slice's pages \(.*\); "
                                        "delete the checkpoint to pull again"):
        pull("masking", out, since=SINCE, until=UNTIL, upstream=sdk, timing=NO_WAIT, **SMALL)
    assert not out.exists()


def test_a_part_file_whose_last_line_lost_its_line_end_stops_the_pull(dsc_server: TestServer, tmp_path: Path) -> None:
    """A part's last page without its line end (the file cut just before it) reads as a page,
    but joined as it is it would run into the next slice's first page on one output line."""
    out = tmp_path / "runs.jsonl"
    sdk = upstream(dsc_server)
    with pytest.raises(Interrupted):
        pull("masking", out, since=SINCE, until=UNTIL, upstream=Hooked(sdk, _stop_at(30)), timing=NO_WAIT, **SMALL)
    for part in parts_folder(out).iterdir():
        pages = part.read_bytes()
        part.write_bytes(pages.removesuffix(b"\n"))
    with pytest.raises(PullError, match=r", line \d+: cannot be read as the slice's pages \(the line has no line end"):
        pull("masking", out, since=SINCE, until=UNTIL, upstream=sdk, timing=NO_WAIT, **SMALL)
    assert not out.exists()


def test_a_resumed_pull_keeps_the_end_its_first_run_fixed(dsc_server: TestServer, tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    first = Timing(now=lambda: 1_792_000_000.0, sleep=lambda s: None)
    with pytest.raises(Interrupted):
        pull("audit", out, since=SINCE, upstream=Hooked(upstream(dsc_server), _stop_at(3)), timing=first, **SMALL)
    later = Timing(now=lambda: 1_795_000_000.0, sleep=lambda s: None)
    report = pull("audit", out, since=SINCE, upstream=upstream(dsc_server), timing=later, **SMALL)
    assert report.jobs[0].until == "2026-10-14T17:46:39.999Z"  # 1_792_000_000 s, less one ms


def test_the_checkpoint_of_another_pull_is_refused(dsc_server: TestServer, tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    with pytest.raises(Interrupted):
        pull("audit", out, since=SINCE, until=UNTIL, upstream=Hooked(upstream(dsc_server), _stop_at(2)),
             timing=NO_WAIT, **SMALL)
    with pytest.raises(CheckpointError, match="the checkpoint of another pull.*UserName"):
        pull("audit", out, since=SINCE, until=UNTIL, params={"UserName": "x"}, upstream=upstream(dsc_server),
             timing=NO_WAIT, **SMALL)


def test_an_output_in_a_missing_folder_is_refused_before_any_call(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="the folder of the output does not exist"):
        pull("audit", tmp_path / "nowhere" / "a.jsonl", since=SINCE, until=UNTIL, upstream=_never())
    with pytest.raises(OutputError, match="the folder of the checkpoint does not exist"):
        pull("audit", tmp_path / "a.jsonl", since=SINCE, until=UNTIL, upstream=_never(),
             checkpoint_path=tmp_path / "nowhere" / "cp.json")


def test_an_output_that_is_no_regular_file_is_refused_before_any_call(tmp_path: Path) -> None:
    """A named pipe (or a device) cannot have the joined pages renamed over it: told at the end,
    after every call, the whole pull would be spent for nothing, and again on each resume."""
    out = tmp_path / "pipe"
    os.mkfifo(out)
    with pytest.raises(OutputError, match="pipe.*not a regular file"):
        pull("audit", out, since=SINCE, until=UNTIL, upstream=_never())
    assert not default_checkpoint(out).exists() and not parts_folder(out).exists()


def test_a_checkpoint_named_for_a_folder_or_the_parts_is_refused_before_any_call(tmp_path: Path) -> None:
    out = tmp_path / "a.jsonl"
    with pytest.raises(UsageError, match="--checkpoint.*is a folder; name the file"):
        pull("audit", out, since=SINCE, until=UNTIL, upstream=_never(), checkpoint_path=tmp_path)
    with pytest.raises(UsageError, match="--checkpoint.*names the folder of the output's part files"):
        pull("audit", out, since=SINCE, until=UNTIL, upstream=_never(), checkpoint_path=parts_folder(out))
    assert list(tmp_path.iterdir()) == []


def test_a_damaged_checkpoint_is_refused_with_its_path(tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    default_checkpoint(out).write_text('{"dsc-engine pull checkpoint": 1, "jobs": 3}', encoding="utf-8")
    with pytest.raises(CheckpointError, match=r"audit\.jsonl\.checkpoint\.json: a damaged checkpoint"):
        pull("audit", out, since=SINCE, until=UNTIL, upstream=_never())


# ------------------------------------------------------------------------------ throttling


def test_a_throttling_upstream_slows_the_pull_and_it_still_completes(
    own_server: TestServer, fake_time: FakeTime, tmp_path: Path
) -> None:
    own_server.throttle(2.0)  # 2 calls a second; the pull is let go at 1000
    out = tmp_path / "audit.jsonl"
    timing = Timing(now=fake_time.now, monotonic=fake_time.monotonic, sleep=fake_time.sleep)
    start = fake_time.now()
    report = pull("audit", out, since=SINCE, until=UNTIL, upstream=upstream(own_server), timing=timing, **SMALL)
    assert report.retries > 0 and set(report.retried_codes) == {"Throttling.User"}
    assert pulled(out) == served(own_server.engine, "audit") and len(pulled(out)) == 40
    answered = report.calls - report.retries
    # no faster than the server lets it (a burst of 2), on the clock the sleeps move and the server reads
    assert fake_time.now() - start >= (answered - 2) / 2


def test_the_rate_limit_spaces_calls_for_the_service(own_server: TestServer, fake_time: FakeTime, tmp_path: Path) -> None:
    own_server.throttle(10.0)  # the service's own limit
    timing = Timing(now=fake_time.now, monotonic=fake_time.monotonic, sleep=fake_time.sleep)
    started = fake_time.monotonic()
    report = pull("audit", tmp_path / "a.jsonl", since=SINCE, until=UNTIL, upstream=upstream(own_server),
                  timing=timing, page_size=5, max_depth=2)
    assert report.retries == 0 and report.calls > 20  # never throttled, though past the burst
    assert fake_time.monotonic() - started >= (report.calls - 1) / 10


# ------------------------------------------------------------------- records arriving mid-pull


@pytest.mark.parametrize("kind", ["audit", "masking", "dms"])
def test_records_inserted_during_a_pull_are_in_the_result_once_or_after_its_end(
    dsc_server: TestServer, tmp_path: Path, kind: str
) -> None:
    """Records land in the slice being paged, in slices done and not yet pulled, and after the
    window; each inside the window ends in the result exactly once, none after it does."""
    existing = list(dsc_server.engine.store(kind).records_in_load_order())
    field = _TIME_FIELDS[kind]
    stamps = sorted(getattr(r, field) for r in existing)
    end = stamps[-1]
    fresh = iter(generate(kind, 40, seed=99))
    fresh_ids = iter(range(10_000_000, 10_000_040))  # masking runs: an Id no run has
    inside: list[Record] = []

    def insert(stamp: Any) -> None:
        record = _with_time(next(fresh), field, stamp, next(fresh_ids))
        dsc_server.engine.load([record])
        if stamp <= end:
            inside.append(record)

    def before(call: int, params: Mapping[str, object]) -> None:
        page = params.get("CurrentPage", params.get("PageNumber"))
        if page == 2 and len(inside) < 12:  # into the slice being paged, at its start
            insert(_bound(kind, params["StartTime"]))
        if call in (3, 20, 40):  # the newest slice (pulled first), the oldest, the middle, after the end
            for stamp in (stamps[-1], stamps[0], stamps[len(stamps) // 2], _after(end)):
                insert(stamp)

    out = tmp_path / f"{kind}.jsonl"
    report = pull(kind, out, since=SINCE, until=_show(kind, end), upstream=Hooked(upstream(dsc_server), before),
                  timing=NO_WAIT, **SMALL)
    got = collections.Counter(json.dumps(item, sort_keys=True) for item in pulled(out))
    assert max(got.values()) == 1, "a record pulled twice"
    expected = collections.Counter(
        json.dumps(item, sort_keys=True) for item in served(dsc_server.engine, kind) if _inside(kind, item, end)
    )
    assert got == expected
    assert len(got) == len(existing) + len(inside) and len(inside) > 9
    assert report.reconciled and report.restarts > 0  # the slices that changed while paged were pulled again
    assert report.repulled > 0  # the slices done before records landed in them were pulled again


_TIME_FIELDS = {"audit": "creation_time", "masking": "start_time", "dms": "op_time"}


def _bound(kind: str, value: object) -> Any:
    """A window parameter as the record field holds it."""
    return dt.datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S") if kind == "dms" else value


def _with_time(record: Record, field: str, stamp: Any, fresh_id: int) -> Record:
    if field == "start_time":  # masking runs: a fresh Id, so each is a new run
        return attrs.evolve(record, start_time=stamp, id=fresh_id)
    return attrs.evolve(record, **{field: stamp})


def _after(end: Any) -> Any:
    return end + dt.timedelta(seconds=1) if isinstance(end, dt.datetime) else end + 1


def _show(kind: str, end: Any) -> str:
    return end.strftime("%Y-%m-%d %H:%M:%S") if kind == "dms" else str(end)


def _inside(kind: str, item: dict[str, Any], end: Any) -> bool:
    if kind == "dms":
        return item["OpTime"] <= end.strftime("%Y-%m-%d %H:%M:%S")
    return item["CreationTime" if kind == "audit" else "StartTime"] <= end


# ------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("key", "code"),
    [
        (Credentials("LTAIwrong", "secret"), "InvalidAccessKeyId.NotFound"),
        (None, "SignatureDoesNotMatch"),
    ],
)
def test_a_wrong_key_stops_the_pull_with_the_upstream_error(
    dsc_server: TestServer, tmp_path: Path, key: Credentials | None, code: str
) -> None:
    key = key or Credentials(dsc_server.access_key.id, "not-the-secret")
    counted = Hooked(upstream(dsc_server, key), lambda call, params: None)
    with pytest.raises(UpstreamError) as refused:
        pull("audit", tmp_path / "a.jsonl", since=SINCE, until=UNTIL, upstream=counted, timing=NO_WAIT)
    assert refused.value.code == code and refused.value.http_status in (400, 404)
    assert refused.value.message.startswith("Specified")  # the service's own words
    assert counted.calls == 1 and refused.value.attempts == 1  # not retried
    assert not default_checkpoint(tmp_path / "a.jsonl").exists()  # nothing done, nothing kept


def test_a_key_without_permission_stops_the_pull_with_forbidden_ram(tmp_path: Path) -> None:
    document = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "dms:*", "Resource": "*"}]}
    reader = AccessKey(id="LTAIreader", secret="s3cret", policy=Policy.from_document(document, "test", "policy"))
    config = ServerConfig(throttle=ThrottleConfig(enabled=False)).with_keys([reader], "test")
    with TestServer(generate("audit", 3), config=config) as server:
        with pytest.raises(UpstreamError, match="Forbidden.RAM") as refused:
            pull("audit", tmp_path / "a.jsonl", since=SINCE, until=UNTIL,
                 upstream=upstream(server, Credentials("LTAIreader", "s3cret")), timing=NO_WAIT)
    assert refused.value.http_status == 403
