"""How the command line reads its arguments, as a person writes them: options anywhere, ``-``
for standard input, no option taken and then ignored."""

from __future__ import annotations

import io
import json
from typing import Any
from pathlib import Path

import pytest

from clirun import run
from dsc_engine.cli import main


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


@pytest.mark.parametrize("argv", [
    ("snapshot", "{stdout}"),
    ("load", "{data}", "--snapshot", "{stdout}"),
    ("load", "{data}", "--rejects", "{stdout}"),
])
def test_standard_output_under_another_name_is_refused_where_dash_is(
    argv: tuple[str, ...], audit_lines: Path, tmp_path: Path,
) -> None:
    """``--rejects /dev/stdout`` with standard output redirected to a file: the rejects were
    written to the file from its start, then the summary over their first lines, through standard
    output's own offset; a snapshot was renamed over the file the shell opened. Refused as ``-``."""
    stdout_file = tmp_path / "stdout.txt"
    with stdout_file.open("w", encoding="utf-8") as stdout:
        err = io.StringIO()
        code = main([a.format(data=audit_lines, stdout=stdout_file) for a in argv], out=stdout, err=err)
    assert code == 2 and "standard output" in err.getvalue() and err.getvalue().count("\n") == 1, err.getvalue()
    assert stdout_file.read_text(encoding="utf-8") == ""


@pytest.mark.parametrize(("argv", "message"), [
    (("--kind", "bogus"), "unknown record kind 'bogus'"),
    (("--port", "١"), "digits 0-9"),
    (("--data", "duckdb:///nowhere.duckdb", "--data", "{data}"), "names all the data"),
])
def test_serve_refuses_bad_arguments_as_a_usage_error(
    argv: tuple[str, ...], message: str, audit_lines: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("dsc_engine.server.cli.wait_for_stop", lambda stop=None: None)  # a wrong start ends
    code, out, err = run("serve", "--data", str(audit_lines), "--port", "0", *(a.format(data=audit_lines) for a in argv))
    err += capsys.readouterr().err  # where argparse writes its usage errors
    assert code == 2 and message in err and "serving" not in out


def test_serve_interrupted_while_loading_exits_130_in_one_line(audit_lines: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dsc_engine.engine import Engine

    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Engine, "load", interrupted)
    code, out, err = run("serve", "--data", str(audit_lines), "--port", "0")
    assert (code, out, err) == (130, "", "dsc-engine serve: interrupted\n")


class _ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_version_read_by_a_program_that_stopped_exits_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdout", _ClosedPipe())
    assert main(["--version"], err=io.StringIO()) == 141


@pytest.mark.parametrize("command", ["serve", "record"])
def test_a_port_is_written_in_digits_0_to_9(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(command, "--port", "\u0661\u0660\u0668\u0660")  # int() reads it as 1080
    assert (code, out) == (2, "") and "digits 0-9" in capsys.readouterr().err


@pytest.mark.parametrize("option", [("--kind", "audit"), ("--strict",), ("--keep-duplicates",)])
@pytest.mark.parametrize("command", [("query", "audit"), ("export", "audit"), ("call", "DescribeAuditLogs"), ("demo",)])
def test_an_option_of_data_files_is_refused_without_them(option: tuple[str, ...], command: tuple[str, ...]) -> None:
    code, out, err = run(*command, *option)  # no --data: the bundled sample, which is not read as files are
    assert (code, out) == (2, "")
    assert err == f"dsc-engine {command[0]}: {option[0]}: applies only to --data files, not to the bundled sample\n"


def test_serve_refuses_kind_and_strict_without_data_files(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("dsc_engine.server.cli.wait_for_stop", lambda stop=None: None)  # a wrong start ends
    for option in (("--kind", "audit"), ("--strict",)):
        code, out, err = run("serve", "--sample", "--port", "0", *option)
        assert (code, out) == (2, "") and "applies only to --data files" in err


def test_export_page_size_without_a_page_is_refused_unless_writing_pages() -> None:
    code, out, err = run("export", "audit", "--page-size", "5")
    assert (code, out) == (2, "") and "--page-size" in err and "--page" in err
    code, out, _ = run("export", "audit", "--page-size", "1000", "--to", "pages")
    assert code == 0 and len(out.splitlines()) == 3  # 3000 records, 3 pages of 1000


@pytest.mark.parametrize("option", [("--page", "2"), ("--page-size", "5")])
def test_query_explain_refuses_a_page_it_would_not_show(option: tuple[str, ...]) -> None:
    code, out, err = run("query", "audit", 'UserName = "admin"', "--explain", *option)
    assert (code, out) == (2, "") and option[0] in err and "--explain" in err


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_to_standard_output_writes_the_format_asked_for(fmt: str) -> None:
    asked = run("--format", fmt, "export", "masking", "--page", "1", "--page-size", "3")
    assert asked == run("export", "masking", "--page", "1", "--page-size", "3", "--to", fmt)


@pytest.mark.parametrize("argv", [("--format", "json"), ("--format", "csv", "--to", "jsonl")])
def test_export_to_standard_output_refuses_a_format_it_cannot_write(argv: tuple[str, ...]) -> None:
    code, out, err = run("export", "masking", "--page", "1", *argv)
    assert (code, out) == (2, "") and err.startswith("dsc-engine export: --format: ")


@pytest.mark.parametrize("option", [("--format", "json"), ("--tz", "Asia/Shanghai")])
def test_serve_refuses_the_output_options_it_has_no_output_for(
    option: tuple[str, ...], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("dsc_engine.server.cli.wait_for_stop", lambda stop=None: None)  # a wrong start ends
    code, out, err = run(*option, "serve", "--sample", "--port", "0")
    assert (code, out) == (2, "") and err.startswith(f"dsc-engine serve: {option[0]}: ")


@pytest.mark.parametrize(("name", "first"), [("runs.jsonl.gz", '{"Status"'), ("runs.csv.gz", "Status,"), ("runs.CSV.GZ", "Status,")])
def test_an_export_to_a_gz_file_is_gzipped_in_the_format_its_name_says(tmp_path: Path, name: str, first: str) -> None:
    import gzip

    path = tmp_path / name
    code, out, err = run("export", "masking", "--page", "1", "--page-size", "3", "--out", str(path))
    assert (code, err) == (0, "")
    text = gzip.decompress(path.read_bytes()).decode()
    assert text.startswith(first) and text == run("export", "masking", "--page", "1", "--page-size", "3",
                                                   "--to", "csv" if "csv" in name.lower() else "jsonl")[1]
    assert json.loads(run("--format", "json", "load", str(path))[1])["loaded_total"] == 3


def test_help_lists_every_exit_status_the_docs_list(capsys: pytest.CaptureFixture[str]) -> None:
    import re

    docs = (Path(__file__).parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    table = docs[docs.index("## Exit status"):docs.index("## Examples in the docs")]
    assert main(["--help"]) == 0
    shown = capsys.readouterr().out
    assert main(["shell", "--help"]) == 0
    shell = capsys.readouterr().out
    for code, meaning in re.findall(r"^\| (\d+) \| (.*) \|$", table, re.MULTILINE):
        line = next((ln for ln in shown.splitlines() if ln.strip().startswith(f"{code}  ")), None)
        assert line is not None, code
        if "`shell`" in meaning:  # the status of a shell script is told where the shell's help is read
            assert "shell" in shown[shown.index(line):shown.index(line) + 300], code
            assert f"  {code}  reading a script" in shell, code


@pytest.mark.parametrize("command", [("query", "audit"), ("export", "audit", "--to", "pages")])
@pytest.mark.parametrize("option", ["--page", "--page-size"])
def test_a_page_past_what_a_query_takes_is_a_usage_error_of_the_option(
    command: tuple[str, ...], option: str, capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(*command, option, "2147483648")
    assert (code, out) == (2, "")
    assert f"argument {option}: must be 2147483647 or less, got 2147483648" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "option"), [
    (("record", "--port", "9000"), "--port"),
    (("record", "--host", "0.0.0.0"), "--host"),
    (("record", "--access-key", "id:secret"), "--access-key"),
    (("record", "--accept-any-key"), "--accept-any-key"),
    (("--format", "csv", "record"), "--format"),
    (("record", "--format", "json"), "--format"),
])
def test_record_of_the_engine_refuses_the_options_it_does_nothing_with(argv: tuple[str, ...], option: str) -> None:
    # the proxy's options without --upstream, and a --format for a capture printed as JSON Lines,
    # were accepted and did nothing
    code, out, err = run(*argv)
    assert (code, out) == (2, "")
    assert err.startswith(f"dsc-engine: {option}:") or f"{option}:" in err, err


def test_record_of_the_engine_to_standard_output_takes_its_own_format() -> None:
    code, out, err = run("--format", "jsonl", "record")
    assert code == 0, err
    assert all(json.loads(line)["action"] for line in out.splitlines())


def test_shell_refuses_data_from_the_input_it_reads_its_commands_from(audit_lines: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # shell --data - read the data from standard input, then found no command left there and ended
    with open(audit_lines, "rb") as stdin:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(stdin))
        code, out, err = run("shell", "--data", "-")
    assert (code, out) == (2, "")
    assert "the shell reads its commands from standard input" in err


def test_serve_refuses_a_throttle_rate_beside_no_throttle(
    audit_lines: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the rate was silently dropped
    monkeypatch.setattr("dsc_engine.server.cli.wait_for_stop", lambda stop=None: None)  # a wrong start ends
    code, out, err = run("serve", "--data", str(audit_lines), "--port", "0", "--no-throttle", "--throttle-rate", "5")
    assert code == 2 and "does nothing beside --no-throttle" in err + capsys.readouterr().err


def _usage_error(
    argv: tuple[str, ...], data: Path, folder: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> str:
    """Run ``argv`` (``{data}`` standing for ``data``) in ``folder``; assert it is a usage error
    (exit 2) and return what it wrote on stderr, argparse's usage errors included."""
    monkeypatch.chdir(folder)
    code, _, err = run(*(a.format(data=data) for a in argv))
    err += capsys.readouterr().err  # where argparse writes its usage errors
    assert code == 2, err
    return err


#: Every option naming a file a command writes, the name as ``{name}`` (``{data}``: a data file).
OUTPUT_NAMES = {
    "export-out": ("export", "audit", "--page-size", "1", "--page", "1", "--out", "{name}"),
    "snapshot": ("snapshot", "{name}", "--data", "{data}"),
    "load-snapshot": ("load", "{data}", "--snapshot", "{name}"),
    "load-rejects": ("load", "{data}", "--rejects", "{name}"),
    "record-out": ("record", "--out", "{name}"),
    "pull-out": ("pull", "audit", "--since", "2026-10-01", "--out", "{name}"),
}
#: ... and every other option naming a file (one a command reads, or a pull's checkpoint).
OTHER_NAMES = {
    "record-requests": ("record", "--requests", "{name}"),
    "replay": ("replay", "{name}"),
    "pull-checkpoint": ("pull", "audit", "--since", "2026-10-01", "--out", "pulled.jsonl", "--checkpoint", "{name}"),
    "serve-config": ("serve", "--data", "{data}", "--port", "0", "--config", "{name}"),
}


def _named(argvs: dict[str, tuple[str, ...]], name: str) -> list[Any]:
    """The command lines of ``argvs`` naming ``name``, as parameters with their ids."""
    return [pytest.param(tuple(a.replace("{name}", name) for a in argv), id=key) for key, argv in argvs.items()]


@pytest.mark.parametrize("argv", _named({**OUTPUT_NAMES, **OTHER_NAMES}, ""))
def test_an_empty_file_name_is_a_usage_error_not_the_current_folder_nor_the_option_left_out(
    argv: tuple[str, ...], audit_lines: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--out "$OUT"`` with ``OUT`` unset: an empty name was written as the current folder (``.: is
    a folder``), or taken for the option not given (no snapshot saved, the demo's requests
    recorded, the default checkpoint, no server configuration), exit status 0."""
    monkeypatch.setattr("dsc_engine.server.cli.wait_for_stop", lambda stop=None: None)  # a server started ends
    before = sorted(p.name for p in tmp_path.iterdir())
    err = _usage_error(argv, audit_lines, tmp_path, monkeypatch, capsys)
    assert "an empty name names no file" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("argv", _named(OUTPUT_NAMES, "exports/"))
def test_an_output_named_with_a_trailing_slash_is_a_folder_not_a_file_of_its_name(
    argv: tuple[str, ...], audit_lines: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--out exports/`` wrote a file named ``exports`` (or, for ``--rejects``, failed with "Is a
    directory" though nothing was there)."""
    err = _usage_error(argv, audit_lines, tmp_path, monkeypatch, capsys)
    assert "'exports/' ends with '/', which names a folder" in err
    assert not (tmp_path / "exports").exists()


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        (("snapshot", "--out", "x.dscsnap"), "usage: dsc-engine snapshot "),  # it takes OUT, not --out
        (("query", "audit", "--bogus"), "usage: dsc-engine query "),
    ],
)
def test_an_unknown_option_is_refused_under_its_command_s_usage(
    argv: tuple[str, ...], usage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # the top parser's usage was shown ("dsc-engine [-h] ... COMMAND ..."), not the command's options
    code, _, err = run(*argv)
    err += capsys.readouterr().err  # where argparse writes its usage errors
    assert code == 2
    assert err.startswith(usage), err
    assert f"dsc-engine {argv[0]}: error: unrecognized arguments: {argv[-2] if argv[0] == 'snapshot' else argv[-1]}" in err, err


@pytest.mark.parametrize("argv, hint", [
    (("call", "DescribeAuditLogs", "PageSize=5"), "(request parameters are given as --param Name=Value)"),
    (("query", "audit", "UserName", "=", "admin"), """(a filter is one argument: quote it whole, 'UserName = "admin"')"""),
    (("export", "dms", "UserName", "=", "x"), "(a filter is one argument: quote it whole"),
    (("query", "audit", "UserName = 'x'", "--bogus"), "unrecognized arguments: --bogus\n"),
])
def test_words_left_over_are_told_what_they_most_likely_meant(
    argv: tuple[str, ...], hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``call ACTION PageSize=5`` (as the shell's call takes it) and an unquoted filter were refused
    as unrecognized arguments with no hint; an unknown option gets none (it is no such mistake)."""
    code, out, err = run(*argv)
    err += capsys.readouterr().err  # where argparse writes its usage errors
    assert (code, out) == (2, "") and hint in err, err


@pytest.mark.parametrize(("argv", "said"), [
    (("--columns", "UserName", "query", "audit"), "--columns belongs after the command: dsc-engine query --columns UserName ..."),
    (("--format", "json", "--page=2", "query", "audit"), "--page belongs after the command: dsc-engine query --page=2 ..."),
    (("--strict", "load", "x.jsonl"), "--strict belongs after the command: dsc-engine load --strict ..."),
    (("--tz", "UTC", "--port", "8080", "serve"), "--port belongs after the command: dsc-engine serve --port 8080 ..."),
    (("--columns", "UserName", "export", "audit"),  # export takes none: the commands that do are named
     "--columns is no option of dsc-engine itself: it goes after the name of a command that takes it (query, call)"),
])
def test_an_option_of_a_command_given_before_it_says_where_it_goes(
    argv: tuple[str, ...], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``dsc-engine --columns X query ...`` was refused as "invalid choice: 'X'" (the option's value
    read as the command), ``--strict load ...`` as an unrecognized argument."""
    code, out, err = run(*argv)
    err += capsys.readouterr().err  # where argparse writes its usage errors
    assert (code, out) == (2, "")
    assert err == f"dsc-engine: {said}\n"


def test_an_option_of_no_command_before_the_command_is_argparse_s_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run("--bogus", "query", "audit")
    err += capsys.readouterr().err
    assert code == 2 and "unrecognized arguments: --bogus" in err, err


def test_the_shell_s_help_offers_no_data_from_standard_input(capsys: pytest.CaptureFixture[str]) -> None:
    """``shell --help`` said --data took "- for standard input", which the shell refuses (its
    commands come from there); the other commands' help still says it."""
    assert run("shell", "--help")[0] == 0
    shell_help = capsys.readouterr().out
    assert "--data PATH|URL" in shell_help and "standard input" not in shell_help.split("--data PATH|URL")[2]
    assert run("query", "--help")[0] == 0
    assert "- for standard input" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize(("argv", "argument"), [
    (("query", "audit", 'UserName = "Jos\udce9"'), "FILTER"),
    (("export", "audit", 'UserName = "Jos\udce9"'), "FILTER"),
    (("call", "DescribeAuditLogs", "--param", "UserName=Jos\udce9"), "--param"),
])
def test_a_filter_or_parameter_of_bytes_the_locale_cannot_read_is_a_usage_error(
    argv: tuple[str, ...], argument: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bytes that are not text in the locale's encoding (Latin-1 José on a UTF-8 terminal, read as
    ``\\udce9``) were taken into the filter or parameter, which then matched nothing, silently;
    the shell refuses such a line."""
    code, out, err = run(*argv)
    err += capsys.readouterr().err
    assert (code, out) == (2, "")
    assert f"argument {argument}: not valid utf-8 (the locale's encoding): " in err and "Jos\\xe9" in err, err


@pytest.mark.parametrize(("command", "said"), [
    ("qurey", "dsc-engine: unknown command 'qurey'; did you mean query? (dsc-engine --help lists them)\n"),
    ("Shell", "dsc-engine: unknown command 'Shell'; did you mean shell? (dsc-engine --help lists them)\n"),
])
def test_a_mistyped_command_is_told_the_nearest(command: str, said: str, capsys: pytest.CaptureFixture[str]) -> None:
    # argparse's usage and "invalid choice: 'qurey' (choose from 'load', 'import', ...)", no nearest
    code, out, err = run(command, "audit")
    err += capsys.readouterr().err
    assert (code, out, err) == (2, "", said)


def test_a_command_like_none_is_argparse_s_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run("xyzzy")
    err += capsys.readouterr().err
    assert code == 2 and "invalid choice: 'xyzzy'" in err, err
