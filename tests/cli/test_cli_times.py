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
