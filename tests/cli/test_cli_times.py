"""Times in the CLI: tables show each Sddp time with its offset, --tz chooses the zone for display
and for filter literals without one, DMS times stay naive, CSV exports with readable times."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from clirun import run
from dsc_engine.cli import main


def newest_audit_ms() -> int:
    code, out, _ = run("--format", "jsonl", "query", "audit", "", "--page-size", "1")
    assert code == 0
    return int(json.loads(out)["CreationTime"])


def shown(ms: int, zone: dt.tzinfo) -> str:
    return (dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(milliseconds=ms)).astimezone(zone).isoformat(" ", "seconds")


def test_cli_tables_show_sddp_times_in_utc_with_the_offset():
    code, out, _ = run("query", "audit", "", "--page-size", "1")
    assert code == 0 and shown(newest_audit_ms(), dt.timezone.utc) in out
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00", out)


@pytest.mark.parametrize(
    ("zone", "tzinfo"),
    [("Asia/Shanghai", dt.timezone(dt.timedelta(hours=8))), ("+05:30", dt.timezone(dt.timedelta(hours=5, minutes=30))),
     ("UTC-03:00", dt.timezone(dt.timedelta(hours=-3))), ("UTC", dt.timezone.utc), ("Z", dt.timezone.utc)],
)
def test_cli_tz_shows_sddp_times_in_that_zone(zone, tzinfo):
    for argv in (("--tz", zone, "query", "audit", "", "--page-size", "1"), ("query", "audit", "", "--page-size", "1", f"--tz={zone}")):
        code, out, err = run(*argv)
        assert code == 0, err
        assert shown(newest_audit_ms(), tzinfo) in out


def test_cli_tz_reads_filter_times_without_a_zone_in_that_zone():
    def total(*argv: str) -> int:
        code, out, err = run("--format", "json", "query", "audit", *argv)
        assert code == 0, err
        return int(json.loads(out)["TotalCount"])

    utc = total('CreationTime >= "2026-10-20T00:00:00Z" and CreationTime < "2026-10-21T00:00:00.500Z"')
    assert total('CreationTime >= "2026-10-20 08:00:00" and CreationTime < "2026-10-21 08:00:00.500"', "--tz", "Asia/Shanghai") == utc
    assert total('CreationTime in ["2026-10-20" "2026-10-21T00:00:00.500"]', "--tz", "UTC") >= utc
    assert total('CreationTime >= "2026-10-20" and CreationTime < "2026-10-21T00:00:00.500"') == utc  # default UTC
    # a literal that carries its zone is read in that zone, whatever --tz says
    assert total('CreationTime >= "2026-10-20T00:00:00Z" and CreationTime < "2026-10-21T00:00:00.500Z"', "--tz=-07:00") == utc
    # a string compared with a text field is not a time
    assert total('UserName = "2026-10-20"', "--tz", "+08:00") == 0


def test_cli_tz_leaves_dms_op_time_naive():
    text = 'OpTime >= "2026-10-20 00:00:00"'
    plain = run("--format", "json", "query", "dms", text)[1]
    zoned = run("--format", "json", "query", "dms", text, "--tz", "Asia/Shanghai")[1]
    assert json.loads(plain)["TotalCount"] == json.loads(zoned)["TotalCount"]
    code, out, _ = run("query", "dms", "", "--page-size", "1", "--tz", "Asia/Shanghai")
    first = json.loads(run("--format", "jsonl", "query", "dms", "", "--page-size", "1")[1])["OpTime"]
    assert code == 0 and first in out and "+08:00" not in out


def test_cli_tz_filter_errors_point_at_the_text_as_typed():
    text = 'CreationTime >= "2026-10-20 08:00:00" and Nope = 1'
    code, _, err = run("query", "audit", text, "--tz", "+08:00")
    assert code == 2 and "unknown field 'Nope'" in err
    caret = err.splitlines()[-1]
    assert caret.index("^") - caret.index(" ") >= 0 and err.splitlines()[-2].endswith(text)
    assert caret.index("^") == err.splitlines()[-2].index(text) + text.index("Nope")


@pytest.mark.parametrize("zone", ["Mars/Olympus", "+25:00", "8", "", "../etc/passwd", "Asia", "Asia/" + "x" * 300])
def test_cli_tz_unknown_zone_is_a_usage_error(zone, capsys):
    assert main(["--tz", zone, "query", "audit"]) == 2
    assert "time zone" in capsys.readouterr().err


def test_cli_export_csv_with_readable_times_reimports_exactly(tmp_path):
    readable = tmp_path / "out" / "runs.csv"
    code, _, err = run("export", "masking", "--to", "csv", "--times", "iso", "--tz", "Asia/Shanghai", "--out", str(readable))
    assert code == 0, err
    header, first = readable.read_text(encoding="utf-8").splitlines()[:2]
    start = first.split(",")[header.split(",").index("StartTime")]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{3})?\+08:00", start)
    original = run("--format", "jsonl", "query", "masking", "", "--page-size", "1000")[1]
    again = run("--format", "jsonl", "query", "masking", "", "--page-size", "1000", "--data", str(readable))
    assert again[0] == 0 and again[1] == original


def test_cli_export_times_iso_applies_only_to_csv():
    code, out, err = run("export", "audit", "--to", "jsonl", "--times", "iso")
    assert (code, out) == (2, "") and "--times" in err


def test_cli_tz_is_the_zone_of_csv_times_written_without_one(tmp_path):
    """``--tz`` was taken by ``load`` and did nothing there: a CSV time written in local time
    (``2026-10-01 10:00:00``) stayed refused. It is now read in the ``--tz`` zone, by every command
    that reads --data files; without --tz such a time is refused as naming no instant."""
    import json

    path = tmp_path / "local.csv"
    path.write_text("CreationTime,UserName,RuleId\n2026-10-01 10:00:00,a,1\n2026-10-01 11:00:00+08:00,b,1\n",
                    encoding="utf-8")
    code, out, _ = run("--format", "json", "--tz", "+08:00", "load", str(path))
    assert code == 0 and json.loads(out)["loaded"]["audit_log"] == 2
    code, out, _ = run("--format", "json", "load", str(path))
    assert code == 3 and json.loads(out)["loaded"]["audit_log"] == 1
    code, out, _ = run("--format", "json", "query", "audit", "--data", str(path), "--tz", "Asia/Shanghai")
    assert code == 0 and [i["CreationTime"] for i in json.loads(out)["Items"]] == [1790823600000, 1790820000000]


def _shell(script: str, *argv: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO(script))
    return run(*argv, "shell")


def test_shell_counts_by_the_day_of_a_time_in_the_tz_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """``count by day(CreationTime)``: the audit logs per day of the ``--tz`` zone, newest day first
    (a naive count over every record agrees); DMS ``OpTime`` by its own wall-clock day, whatever
    ``--tz``; a field that is no time is an error naming the kind's time fields."""
    from dsc_engine.models import RecordKind
    from dsc_engine.sample import bundled

    shanghai = dt.timezone(dt.timedelta(hours=8))
    script = ("count by day(CreationTime)\ncount by DAY( CreationTime ) where UserName = \"admin\"\n"
              "count by day(ExecuteTime)\nuse dms\ncount by hour(OpTime)\n")
    code, out, err = _shell(script, "--format", "jsonl", "--tz", "+08:00", monkeypatch=monkeypatch)
    assert code == 1 and err == "error: day() counts by a time field: CreationTime, LogTime (ExecuteTime is not one)\n"
    rows = [json.loads(line) for line in out.splitlines()]
    days = [(r["day(CreationTime)"], r["count"]) for r in rows if "day(CreationTime)" in r]
    audit = bundled(RecordKind.AUDIT_LOG)
    expected: dict[tuple[str, bool], int] = {}
    for log in audit:
        day = shown(log.creation_time, shanghai)[:10]
        for admin in {False, log.user_name == "admin"}:
            expected[day, admin] = expected.get((day, admin), 0) + 1
    every = [(day, n) for (day, admin), n in sorted(expected.items(), reverse=True) if not admin]
    admins = [(day, n) for (day, admin), n in sorted(expected.items(), reverse=True) if admin]
    assert days == every + admins
    hours: dict[str, int] = {}
    for log in bundled(RecordKind.DMS_LOG):
        hour = log.op_time.strftime("%Y-%m-%d %H:00")  # naive: --tz does not move it
        hours[hour] = hours.get(hour, 0) + 1
    assert [(r["hour(OpTime)"], r["count"]) for r in rows if "hour(OpTime)" in r] == sorted(hours.items(), reverse=True)


def test_an_hour_bucket_tells_apart_the_hours_a_daylight_saving_change_repeats() -> None:
    """In New York 2026-11-01 01:00-01:59 happens twice (-04:00, then -05:00): two buckets, the
    later first; a day of the zone; a time outside the years 1-9999 keeps its digits; absent last."""
    from zoneinfo import ZoneInfo

    from dsc_engine.cli.timebuckets import bucket_of, regroup
    from dsc_engine.models import RecordKind
    from dsc_engine.wire.catalog import FIELDS

    catalog = FIELDS[RecordKind.AUDIT_LOG]
    new_york = ZoneInfo("America/New_York")
    first = int(dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.timezone.utc).timestamp() * 1000)  # 01:30-04:00
    second = first + 3_600_000  # 01:30-05:00
    far = 2**62
    counts = [(first, 2), (second, 3), (None, 4), (far, 1)]
    hour = bucket_of("hour", catalog["CreationTime"], new_york)
    assert regroup(counts, hour) == [
        (str(far), 1), ("2026-11-01 01:00-05:00", 3), ("2026-11-01 01:00-04:00", 2), (None, 4)]
    day = bucket_of("day", catalog["LogTime"], dt.timezone(dt.timedelta(hours=20)))
    assert regroup(counts[:2], day) == [("2026-11-02", 5)]


@pytest.mark.parametrize(
    ("text", "says"),
    [("hour(UserName)", r"hour\(\) counts by a time field: CreationTime, LogTime \(UserName is not one\)"),
     ("day()", r"day\(\) counts by a time field: CreationTime, LogTime \(nothing is not one\)"),
     ("DAY( Nope )", r"day\(\) counts by a time field: CreationTime, LogTime \(Nope is not one\)"),
     ("minute(CreationTime)", r"'minute\(CreationTime\)': counts by time are day\(FIELD\) and hour\(FIELD\)"),
     ("day(CreationTime", r"'day\(CreationTime': counts by time are day\(FIELD\) and hour\(FIELD\)")],
)
def test_a_count_by_time_of_no_time_field_names_the_time_fields(text: str, says: str) -> None:
    """``day()``, ``day(Foo)``, ``minute(...)`` and an unclosed ``day(`` were unknown fields
    listing all 36 (``unknown field 'day(CreationTime'``): they name what a count by time takes."""
    from dsc_engine.cli.timebuckets import bucketed, time_field
    from dsc_engine.models import RecordKind
    from dsc_engine.wire.catalog import FIELDS

    with pytest.raises(ValueError, match=says):
        unit, field = bucketed(text) or ("", text)
        time_field(unit, field, FIELDS[RecordKind.AUDIT_LOG])
    assert bucketed("CreationTime") is None and bucketed("Day(creationtime)") == ("day", "creationtime")
