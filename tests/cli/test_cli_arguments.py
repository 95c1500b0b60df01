"""How the command line reads its arguments, as a person writes them: options anywhere, ``-``
for standard input, no option taken and then ignored."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from dsc_engine.cli import main


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("argv", [
    ("query", "audit", "--page-size", "2", 'UserName = "admin"'),
    ("query", "audit", "--format", "json", "--page-size", "2", "--", 'UserName = "admin"'),
    ("export", "audit", "--page", "1", "--page-size", "2", 'UserName = "admin"'),
])
def test_the_filter_may_come_after_the_options(argv: tuple[str, ...]) -> None:
    before = (*argv[:2], 'UserName = "admin"', *(a for a in argv[2:-1] if a != "--"))
    code, out, err = run(*argv)
    assert (code, err) == (0, "")
    assert out == run(*before)[1] and "admin" in out


@pytest.fixture()
def audit_lines(tmp_path: Path) -> Path:
    """Three audit logs as JSON Lines."""
    path = tmp_path / "audit.jsonl"
    assert main(["export", "audit", "--page", "1", "--page-size", "3", "--out", str(path)], out=io.StringIO()) == 0
    return path


@pytest.mark.parametrize("argv", [("load", "-"), ("query", "audit", "--data", "-")])
def test_a_dash_reads_the_data_from_standard_input(
    argv: tuple[str, ...], audit_lines: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # a file named "-" here would be read instead
    with open(audit_lines, "rb") as stdin:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(stdin))
        code, out, err = run("--format", "json", *argv)
    assert (code, err) == (0, "")
    assert (json.loads(out).get("loaded_total") or json.loads(out)["TotalCount"]) == 3


@pytest.mark.parametrize("argv", [
    ("snapshot", "-"),
    ("load", "{data}", "--snapshot", "-"),
    ("load", "{data}", "--rejects", "-"),
])
def test_a_dash_for_a_file_only_a_file_can_be_is_refused_and_writes_no_file_named_dash(
    argv: tuple[str, ...], audit_lines: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(*(a.format(data=audit_lines) for a in argv))
    assert code == 2 and out == ""
    assert "standard output" in err and err.count("\n") == 1
    assert not (tmp_path / "-").exists()
