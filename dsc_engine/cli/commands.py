"""The subcommands of ``dsc-engine`` (all but ``serve``, which the server module registers).

Each handler takes ``(args, out, err)`` and returns the exit status; failures are raised as typed
errors and turned into messages and exit codes by :func:`dsc_engine.cli.main`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from dsc_engine import replay as replays
from dsc_engine.api.operations import BY_KIND, OPERATIONS
from dsc_engine.cli import demo as demos
from dsc_engine.cli import destination
from dsc_engine.cli import shell as shells
from dsc_engine.cli.arguments import (
    column_names, file_only, name_value, page_number, parameters, readable, refuse_file_options, time_zone,
)
from dsc_engine.cli.cloud import add_upstream_options, record_upstream, refuse_proxy_options
from dsc_engine.cli.output import (
    Format, Progress, dumps, printable, table_columns, write_items, write_mapping, write_plan, write_rejects, write_rows,
)
from dsc_engine.engine import Engine
from dsc_engine.errors import ImportFailure, OutputError, UsageError
from dsc_engine.io import export, importreport, imports, snapshot, sources
from dsc_engine.models import RecordKind
from dsc_engine.models.records import Record
from dsc_engine.query.parse import parse_filter
from dsc_engine.server.cli import named_source, output_file, record_kind, source  # the serve command's argument types, shared
from dsc_engine.sql.url import data_url, redact
from dsc_engine.wire.codec import response_item

Handler = Callable[[argparse.Namespace, IO[str], IO[str]], int]
#: The records of a ``query`` page when ``--page-size`` is not given.
QUERY_PAGE_SIZE = 10
_KINDS = "audit | masking | dms (or audit_log, masking_run, dms_log)"


_KEEP_HELP = (
    "load every file and every audit or DMS log even when identical to one loaded already"
    " (default: skipped and counted; masking runs are always told apart by Id)"
)


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------


def output_options(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """The options every command takes before or after its name. Given after the name they
    override the ones before; a subcommand's parser leaves them unset (``SUPPRESS``) when absent,
    so that it does not reset what was given before the name."""
    parser.add_argument("--format", choices=[f.value for f in Format],  # unset: main makes it a table
                        default=None if top else argparse.SUPPRESS,
                        help="how results are printed (default: table); before or after the command")
    parser.add_argument("--tz", type=time_zone, metavar="ZONE", default=None if top else argparse.SUPPRESS,  # unset: UTC
                        help="the time zone of Sddp times in tables and of filter times written without"
                             " one: UTC (default), +08:00, Asia/Shanghai ...; DMS times are naive and"
                             " never converted")


#: What a command that reads records says on stderr when it was given no --data.
SAMPLE_NOTE = "note: no --data given: answering from the sample data bundled with dsc-engine\n"


def _data_options(parser: argparse.ArgumentParser, standard_input: bool = True) -> None:
    """The options of the data a command reads; ``standard_input``: whether ``--data -`` is one
    (the shell's commands come from there: it refuses it, cmd_shell)."""
    group = parser.add_argument_group("data (default: the bundled sample data)")
    group.add_argument("--data", metavar="PATH|URL", action="append", default=[], type=source,
                       help="exported logs or a snapshot: file, folder or glob (repeatable"
                            f"{'; - for standard input' if standard_input else ''}); or one database URL:"
                            " duckdb:///logs.duckdb, chdb:///dir, clickhouse://host/db")
    group.add_argument("--backend", metavar="URL", dest="data", action="append",
                       help="the same as --data URL")
    group.add_argument("--kind", dest="data_kind", type=record_kind, help=f"read every --data record as this kind: {_KINDS}")
    group.add_argument("--strict", action="store_true", help="stop at the first bad record")
    group.add_argument("--keep-duplicates", action="store_true", help=_KEEP_HELP)


def _data_files(args: argparse.Namespace, *outputs: tuple[str | None, str]) -> list[Path]:
    """The files of --data, after checking that no output file (path, what) is one of them.

    Run before anything is opened, so that ``--out`` naming a --data file is refused instead of
    overwriting it.
    """
    _, paths = data_url(args.data)
    files = sources.expand(paths) if paths else []
    for path, what in outputs:
        sources.refuse_overwrite(path, files, what)
    return files


def _engine(
    args: argparse.Namespace, err: IO[str], files: list[Path], kind: RecordKind | str | None = None,
    *, sample_note: bool = True,
) -> Engine:
    """The engine of a command: the database of a --data URL, or its --data ``files`` loaded (with
    progress and a summary), else the sample; for a command that reads one ``kind`` alone, only
    that kind's records are loaded (a snapshot's other kinds are not even read). The caller
    closes it (``with``)."""
    url, _ = data_url(args.data)
    if url is not None:
        refuse_file_options(args, "a database, whose records are loaded already")
        return Engine.connect(url, read_only=True)
    if not args.data:
        refuse_file_options(args, "the bundled sample")
        if sample_note:  # a script that left --data out gets answers that look like data
            err.write(SAMPLE_NOTE)
        return Engine.from_sample(None if kind is None else [kind])
    engine = Engine()
    report = _import(engine, files, args, err, rejects=None, kinds=kind)
    if report.file_errors:  # a whole file missing from the data would make every answer wrong
        first = report.file_errors[0]
        more = f" (and {len(report.file_errors) - 1} more file error(s))" if len(report.file_errors) > 1 else ""
        raise ImportFailure(first.file, f"{first.reason}{more}; the --data cannot be used", first.line)
    if not report.ok:
        err.write(f"warning: {report.summary()}\n")
        write_rejects(_records_rejected(report), err, heading=False)
    if kind is not None:
        _note_other_kinds_only(RecordKind.parse(kind), report, err)
    return engine


def _note_other_kinds_only(kind: RecordKind, report: importreport.ImportReport, err: IO[str]) -> None:
    """Say so when the --data held records, but none of the one ``kind`` the command reads (a file
    of masking runs given to an audit-log query): its answers, all empty, would look like data."""
    others = {k: n for k, n in report.other_kinds.items() if n}
    if report.loaded.get(kind, 0) or report.rejected or report.duplicates_skipped or not others:
        return  # records of the kind were read (rejected ones are in the warning): it held some
    held = ", ".join(f"{n} {k.value}" for k, n in others.items())
    err.write(f"note: the --data holds no {kind.value} records, only {held} (not read); is it the data you meant?\n")


def _records_rejected(report: importreport.ImportReport) -> list[importreport.Reject]:
    """The rejected records the report kept (its file errors are listed apart)."""
    return [r for r in report.rejects if r.scope != "file"]


def _counted(records: Iterable[Record], progress: Progress, every: int = 1000) -> Iterator[Record]:
    """``records``, telling ``progress`` every ``every`` of them (and the rest at the end)."""
    count = 0
    for record in records:
        yield record
        count += 1
        if count == every:
            progress(count)
            count = 0
    progress(count)


def _import(
    engine: Engine, files: list[Path], args: argparse.Namespace, err: IO[str], rejects: str | None,
    kinds: RecordKind | str | None = None,
) -> importreport.ImportReport:
    progress = Progress(sources.total_size(files), err)
    try:
        return imports.load_into(
            engine, files, kind=args.data_kind, strict=args.strict, rejects_path=rejects, progress=progress,
            keep_duplicates=args.keep_duplicates, kinds=kinds, csv_zone=args.tz if args.tz_given else None,
        )
    finally:
        progress.finish()


#: About how many bytes a record takes in a snapshot (for the progress bar's scale only).
#: About how many bytes a record takes in a version 3 snapshot (for the progress bar's total).
_SNAPSHOT_BYTES_PER_RECORD = 350


def _save(engine: Engine, path: str, err: IO[str], *, version: int = snapshot.VERSION) -> dict[RecordKind, int]:
    """Save a snapshot (its folder made first), with a progress bar on a terminal's stderr:
    bytes written of an estimate (format 3), or records (format 2)."""
    destination.made_parent(path)
    records = sum(len(engine.store(kind)) for kind in RecordKind)
    if version == snapshot.VERSION:
        progress = Progress(records * _SNAPSHOT_BYTES_PER_RECORD, err, label="saving", unit="bytes")
    else:
        progress = Progress(records, err, label="saving", unit="records")
    try:
        return snapshot.save(engine, path, version=version, progress=progress)
    finally:
        progress.finish()


# ---------------------------------------------------------------------------------------------
# Handlers
# ---------------------------------------------------------------------------------------------


def _distinct(first: tuple[str | None, str], second: tuple[str | None, str]) -> None:
    """Refuse two output options naming the same file (the second would overwrite the first)."""
    (a, a_what), (b, b_what) = first, second
    if a is None or b is None:
        return
    same = Path(a).resolve() == Path(b).resolve()
    if not same and os.path.exists(a) and os.path.exists(b):
        same = os.path.samefile(a, b)
    if same:
        raise OutputError(b, f"{b_what} and {a_what} name the same file")


def cmd_load(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    file_only(args.rejects, "--rejects", "standard output holds the summary", out)
    file_only(args.snapshot, "--snapshot", "a snapshot is a file read back by seeking in it", out)
    files = sources.expand(args.paths)
    rejects, snap = (args.rejects, "the rejects file (--rejects)"), (args.snapshot, "the snapshot (--snapshot)")
    for path, what in (rejects, snap):
        sources.refuse_overwrite(path, files, what)
    _distinct(rejects, snap)
    destination.made_parent(args.rejects)
    with Engine() if args.into is None else Engine.connect(args.into) as engine:
        report = _import(engine, files, args, err, args.rejects)
        summary: dict[str, Any] = {"summary": report.summary(), **report.to_json()}
        if args.into is not None:
            summary["into"] = redact(args.into)
        if args.snapshot:
            _save(engine, args.snapshot, err)
            summary["snapshot"] = args.snapshot
    write_mapping(args.format, summary, out)
    if args.rejects is None:
        for problem in report.file_errors:
            err.write(f"file error: {problem}\n")
        write_rejects(_records_rejected(report), err)
    return 0 if report.ok else 3


def _columns(args: argparse.Namespace, kind: RecordKind) -> tuple[str, ...] | None:
    """The table columns ``--columns`` chooses for ``kind``'s items (``None``: the default ones);
    beside a format that is not a table, which prints every field, a usage error."""
    if args.columns is None:
        return None
    if args.format is not Format.TABLE:
        raise UsageError("--columns", ",".join(args.columns), f"chooses the columns of a table; --format"
                         f" {args.format.value} prints every field of each item")
    return table_columns(kind, [name for text in args.columns for name in column_names(text)])


def cmd_query(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    if args.explain:  # the plan is the same for every page: a page asked for would not be shown
        for option, value in (("--page", args.page), ("--page-size", args.page_size)):
            if value is not None:
                raise UsageError(option, value, "--explain shows how the filter is answered, the same for every page")
        if args.columns is not None:
            raise UsageError("--columns", ",".join(args.columns), "--explain shows how the filter is answered, no records")
    columns = _columns(args, args.kind)
    parse_filter(args.filter, args.kind, zone=args.tz)  # a bad filter is told before any data is read
    with _engine(args, err, _data_files(args), args.kind) as engine:
        if args.explain:
            write_plan(args.format, args.kind, args.filter, engine.explain(args.kind, args.filter, zone=args.tz), out)
            return 0
        result = engine.query(args.kind, args.filter, page=args.page or 1, page_size=args.page_size or QUERY_PAGE_SIZE,
                              zone=args.tz)
    items = [response_item(r) for r in result.records]
    envelope = {"TotalCount": result.total, "Page": result.page, "PageSize": result.page_size}
    write_items(args.format, args.kind, items, out, envelope, args.tz, columns)
    return 0


def cmd_call(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    params = parameters(args.param)
    operation = OPERATIONS.get(args.action)
    columns = _columns(args, operation.kind) if operation is not None else None  # else the call is refused
    with _engine(args, err, _data_files(args), operation.kind if operation is not None else None) as engine:
        body = engine.call(args.action, params, version=args.version)
    if args.format is Format.JSON or operation is None:
        out.write(dumps(body) + "\n")
        return 0
    envelope = {k: v for k, v in body.items() if k != operation.list_key}
    write_items(args.format, operation.kind, body.get(operation.list_key, []), out, envelope, args.tz, columns)
    return 0


def cmd_export(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    if destination.is_standard_output(args.out, out):  # --out /dev/stdout: the records alone, as for -
        args.out = "-"
    if args.out in (None, "-") and args.format is not Format.TABLE:  # the records are what is printed
        _records_format(args)
    if args.to is None:  # a file named .csv gets CSV, not JSON Lines under a CSV name
        csv_named = args.out is not None and destination.without_gz(args.out).lower().endswith(".csv")
        args.to = (export.ExportFormat.CSV if csv_named else export.ExportFormat.JSONL).value
    if args.to != export.ExportFormat.CSV.value:
        if not args.formula_guard:
            raise UsageError("--no-formula-guard", False, f"applies only to --to csv, not --to {args.to}")
        if args.times != export.Times.MS.value:
            raise UsageError("--times", args.times, f"applies only to --to csv, not --to {args.to}"
                             " (the JSON formats keep the API's milliseconds)")
    if args.page is None and args.page_size is not None and args.to != export.ExportFormat.PAGES.value:
        raise UsageError("--page-size", args.page_size, "applies to --page N or --to pages; an export of every"
                         f" record as --to {args.to} writes them all")
    node = parse_filter(args.filter, args.kind, zone=args.tz)
    page_size = args.page_size or BY_KIND[args.kind].max_page_size  # --page alone: the API's largest page
    to_file = args.out not in (None, "-")  # a bar beside records shown on a terminal would break their lines
    with _engine(args, err, _data_files(args, (args.out, "the export (--out)")), args.kind) as engine:
        store = engine.store(args.kind)
        records: Iterable[Record]
        if args.page is None:  # streamed: a database's records are never all in memory at once
            records, total, first = store.iter_ordered(node), store.count(node), 1
        else:
            page = store.query(node, (args.page - 1) * page_size, page_size)
            records, total, first = list(page.records), page.total, args.page
        progress = Progress(total if args.page is None else len(page.records), err, label="exporting", unit="records")
        try:
            with destination.output(args.out, out) as handle:
                count = export.write(_counted(records, progress) if to_file else records, args.kind, args.to, handle,
                                     total=total, page_size=page_size, first_page=first,
                                     formula_guard=args.formula_guard, times=args.times, zone=args.tz)
        finally:
            progress.finish()
    if to_file and count == 0 and args.to == export.ExportFormat.JSONL.value:  # no line: what load calls an empty file
        err.write("note: no record was exported, and JSON Lines of no record is an empty file, which load"
                  " refuses as a file error; --to csv (its header) or --to pages (one empty page) loads as none\n")
    if to_file:
        write_mapping(args.format, {"exported": count, "total": total, "to": args.out, "as": args.to}, out)
    return 0


def _records_format(args: argparse.Namespace) -> None:
    """``--format`` of an export to standard output, which prints the records themselves: csv or
    jsonl stands for ``--to`` (and must agree with one given); json is no export format."""
    wanted = args.format.value
    formats = [f.value for f in export.ExportFormat]
    if wanted not in formats:
        raise UsageError("--format", wanted, f"an export to standard output writes its records as --to says"
                         f" ({', '.join(formats)}); --format {wanted} is for the summary of an export to --out FILE")
    if args.to is not None and args.to != wanted:
        raise UsageError("--format", wanted, f"an export to standard output writes one format: --format {wanted}"
                         f" or --to {args.to}, not both")
    args.to = wanted


def cmd_snapshot(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    file_only(args.out, "OUT", "a snapshot is a file read back by seeking in it", out)
    with _engine(args, err, _data_files(args, (args.out, "the snapshot"))) as engine:
        counts = _save(engine, args.out, err, version=2 if args.compact else snapshot.VERSION)
    write_mapping(args.format, {"snapshot": args.out, **{k.value: n for k, n in counts.items()}}, out)
    return 0


def _standard_input(args: argparse.Namespace) -> str | None:
    """How ``--data`` names standard input when one of its sources is it (``-``, ``/dev/stdin``),
    else ``None`` (also when there is no standard input at all to take)."""
    with contextlib.suppress(ValueError):
        stdin = sources.from_command_line(sources.STANDARD_INPUT)
        if stdin in args.data:
            return stdin
    return None


def _one_standard_input(args: argparse.Namespace, option: str, path: str | None) -> None:
    """Refuse ``path`` (the calls) and ``--data`` both read from standard input: one would get it all."""
    if path is not None and path == _standard_input(args):
        raise UsageError(option, "-", "standard input can be read once: give --data or the calls as files")


def cmd_replay(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    _one_standard_input(args, "CAPTURE", args.capture)
    calls = replays.read_calls(args.capture)
    with _engine(args, err, _data_files(args)) as engine:
        report = replays.replay(engine, calls)
    if args.format is Format.TABLE:
        for line in report.lines():  # the capture's text is others': shown, never acted on
            out.write(printable(line) + "\n")
    else:
        rows = [
            {"line": r.call.line, "action": r.call.action, "matched": r.matched,
             "differences": [str(d) for d in r.differences], "skipped": r.skipped}
            for r in report.results
        ]
        if args.format is Format.JSON:
            summary = {"matched": report.matched, "skipped": report.skipped, "calls": len(rows)}
            out.write(dumps({**summary, "results": rows}) + "\n")
        else:
            write_rows(args.format, rows, out)
    return 0 if report.ok else 1


def cmd_record(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    if args.upstream:
        return record_upstream(args, out, err)
    refuse_proxy_options(args)
    if destination.is_standard_output(args.out, out):  # --out /dev/stdout: the capture alone, as for -
        args.out = "-"
    if args.out in (None, "-") and args.format not in (Format.TABLE, Format.JSONL):
        raise UsageError("--format", args.format.value, "a capture is JSON Lines; the format applies to the summary"
                         " printed when --out names a file")
    files = _data_files(args, (args.out, "the capture (--out)"))
    _one_standard_input(args, "--requests", args.requests)
    if args.requests:
        sources.refuse_overwrite(args.out, [Path(args.requests)], "the capture (--out)")
        requests = replays.read_calls(args.requests, need_response=False)
    else:
        requests = [call for _, call in demos.DEMO]
    with _engine(args, err, files) as engine, destination.output(args.out, out) as handle:
        count = replays.record(engine, requests, handle)
    if args.out not in (None, "-"):
        write_mapping(args.format, {"recorded": count, "to": args.out}, out)
    return 0


def cmd_shell(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    if sys.stdin is None or sys.stdin.closed:  # started with it closed (`<&-`): no command can come
        raise UsageError("standard input", None, "there is none (it is closed), and the shell reads its commands"
                                                 " from it; pipe a script in, or run it on a terminal")
    if _standard_input(args) is not None:  # --data - or /dev/stdin
        raise UsageError("--data", "-", "the shell reads its commands from standard input; the data must be files")
    # a session's output on a terminal is for a person (in the locale, what it cannot write
    # escaped); otherwise a program reads it, in whichever formats it switches to: UTF-8
    streamed = destination.shown_output if _isatty(out) else destination.utf8_output
    with _engine(args, err, _data_files(args)) as engine, streamed(out) as results:
        return shells.run(engine, args.format, results, zone=args.tz, err=err)


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except ValueError:  # closed
        return False


def cmd_demo(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    with _engine(args, err, _data_files(args), sample_note=False) as engine:  # the sample is what it shows
        demos.run(engine, engine, args.format, out, args.tz)
    return 0


# ---------------------------------------------------------------------------------------------
# Parsers
# ---------------------------------------------------------------------------------------------


def _add(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], name: str, handler: Handler,
    help_text: str, examples: str, exit_codes: Callable[[str], str], aliases: tuple[str, ...] = (),
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        name, aliases=list(aliases), help=help_text, description=help_text,
        epilog=f"examples:\n{examples}\n{exit_codes(name)}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=handler)
    output_options(parser)
    return parser


def _filter_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("filter", metavar="FILTER", nargs="?", default="", type=readable,
                        help="filter text (empty: everything)")


def _columns_option(parser: argparse.ArgumentParser) -> None:
    # each list read by _columns (column_names): a list that is none told as the other --columns errors
    parser.add_argument("--columns", action="append", metavar="A,B,...",
                        help="the columns of the table, in order: keys of the kind's items, in any letter case"
                             " (default: a few telling ones; repeated, the lists join); --format table only")


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], exit_codes: Callable[[str], str],
) -> None:
    """Add every subcommand but ``serve``; ``exit_codes(name)`` is the exit-status table of its help."""
    p = _add(subparsers, "load", cmd_load, "import exported logs, print the summary, optionally save a snapshot",
             "  dsc-engine load audit.jsonl.gz runs.csv dms/\n"
             "  dsc-engine load 'exports/**/*.json' --rejects rejects.jsonl --snapshot engine.dscsnap\n"
             "  dsc-engine load logs.csv --kind audit --strict\n"
             "  dsc-engine load exports/ --into duckdb:///data/logs.duckdb\n", exit_codes, aliases=("import",))
    p.add_argument("paths", nargs="+", metavar="PATH", type=source,
                   help="files, folders, globs or snapshots; - for standard input")
    p.add_argument("--kind", dest="data_kind", type=record_kind, help=f"read every record as this kind: {_KINDS}")
    p.add_argument("--strict", action="store_true", help="stop at the first bad record; load nothing then")
    p.add_argument("--keep-duplicates", action="store_true", help=_KEEP_HELP)
    p.add_argument("--rejects", metavar="FILE", type=output_file, help="write every rejected record here (JSON Lines)")
    p.add_argument("--snapshot", metavar="OUT", type=output_file, help="save what was loaded as a snapshot file")
    p.add_argument("--into", metavar="URL",
                   help="load into this database (duckdb:///logs.duckdb, chdb:///dir, clickhouse://host/db;"
                        " tables created if missing, records added to what it holds) instead of memory")

    p = _add(subparsers, "query", cmd_query, "query one kind of record with the filter language",
             "  dsc-engine query audit 'UserName = \"admin\" and EffectRow > 100'\n"
             "  dsc-engine query dms 'ModuleName = \"DATA_EXPORT\"' --page 2 --page-size 20\n"
             "  dsc-engine query audit 'EffectRow > 1000' --columns CreationTime,UserName,EffectRow,SqlText\n"
             "  dsc-engine --format jsonl query masking 'Status = 2' --data engine.dscsnap\n"
             "  dsc-engine query audit 'SqlText contains \"drop\"' --data duckdb:///data/logs.duckdb --explain\n",
             exit_codes)
    p.add_argument("kind", type=record_kind, metavar="KIND", help=_KINDS)
    _filter_argument(p)
    p.add_argument("--page", type=page_number, help="page number, from 1 (default 1)")
    p.add_argument("--page-size", type=page_number, help=f"records per page (default {QUERY_PAGE_SIZE})")
    _columns_option(p)
    p.add_argument("--explain", action="store_true",
                   help="print how the filter is answered (the store's plan, or the SQL a database is sent;"
                        " with --format json, jsonl or csv: kind, filter and plan as one record)")
    _data_options(p)

    p = _add(subparsers, "call", cmd_call, "call an API operation as the service answers it",
             "  dsc-engine call DescribeAuditLogs --param PageSize=5 --param UserName=admin\n"
             "  dsc-engine call DescribeDataMaskingRunHistory --param Status=2\n"
             "  dsc-engine --format json call ListSensitiveDataAuditLog --param PageNumber=1 --param PageSize=5 \\\n"
             "      --param 'StartTime=2026-10-01 00:00:00' --param 'EndTime=2026-10-31 23:59:59'\n", exit_codes)
    p.add_argument("action", metavar="ACTION", help=", ".join(OPERATIONS))
    p.add_argument("--param", type=name_value, action="append", default=[], metavar="NAME=VALUE",
                   help="a request parameter, as the query string carries it (repeatable)")
    p.add_argument("--version", help="the API version (default: the action's own)")
    _columns_option(p)
    _data_options(p)

    p = _add(subparsers, "export", cmd_export, "export a query result (all pages or one) as JSON Lines, CSV or API pages",
             "  dsc-engine export audit 'WarnLevel = \"3\"' --to csv --out high.csv\n"
             "  dsc-engine export dms --to pages --page 1 --page-size 100 --data exports/\n"
             "  dsc-engine export masking --to jsonl > runs.jsonl\n", exit_codes)
    p.add_argument("kind", type=record_kind, metavar="KIND", help=_KINDS)
    _filter_argument(p)
    p.add_argument("--to", choices=[f.value for f in export.ExportFormat], default=None,
                   help="the file format (default: csv for an --out FILE named .csv or .csv.gz, else jsonl)")
    p.add_argument("--out", metavar="FILE", type=output_file, help="where to write (default: standard output); a name ending .gz is written gzip'd")
    p.add_argument("--page", type=page_number, help="export only this page (default: every record)")
    p.add_argument("--page-size", type=page_number, help="page size for --page and for --to pages (default: the API's largest)")
    p.add_argument("--no-formula-guard", dest="formula_guard", action="store_false",
                   help="--to csv: write text a spreadsheet would run as a formula (=, +, -, @, tab, CR first)"
                        " as it is, not guarded with a leading ' (re-imports the same either way)")
    p.add_argument("--times", choices=[t.value for t in export.Times], default=export.Times.MS.value,
                   help="--to csv: Sddp times as UNIX milliseconds (ms, default) or readable with the --tz"
                        " offset (iso: 2026-10-01 10:00:00.123+08:00); both re-import exactly")
    _data_options(p)

    p = _add(subparsers, "snapshot", cmd_snapshot, "save the loaded records to a snapshot that loads fast",
             "  dsc-engine snapshot engine.dscsnap --data exports/\n"
             "  dsc-engine query audit 'UserName = \"root\"' --data engine.dscsnap\n", exit_codes)
    p.add_argument("out", metavar="OUT", type=output_file, help="the snapshot file to write")
    p.add_argument("--compact", action="store_true",
                   help="write the compact format 2 (gzip'd, about a ninth of the size) instead of format 3,"
                        " which opens about seven times faster and keeps the indexes")
    _data_options(p)

    p = _add(subparsers, "replay", cmd_replay, "re-run recorded calls and report every differing field",
             "  dsc-engine replay capture.jsonl --data exports/\n"
             "  dsc-engine --format json replay capture.jsonl\n", exit_codes)
    p.add_argument("capture", metavar="CAPTURE", type=named_source,
                   help="JSON Lines of {action, params, response} (- for standard input)")
    _data_options(p)

    p = _add(subparsers, "record", cmd_record,
             "write a capture for replay: the engine's answers, or the real service's through a local proxy",
             "  dsc-engine record --out capture.jsonl            (the demo requests)\n"
             "  dsc-engine record --requests calls.jsonl --out capture.jsonl --data exports/\n"
             "  dsc-engine record --upstream https://sddp.cn-zhangjiakou.aliyuncs.com --port 8081 --out capture.jsonl\n",
             exit_codes)
    p.add_argument("--requests", metavar="FILE", type=named_source,
                   help="JSON Lines of {action, params[, version]} (default: the demo's; - for standard input)")
    p.add_argument("--out", metavar="FILE", type=output_file, help="the capture to write (default: standard output)")
    _data_options(p)
    add_upstream_options(p)

    p = _add(subparsers, "shell", cmd_shell, "load the data once, then answer queries, calls and counts typed in",
             "  dsc-engine shell --data engine.dscsnap\n"
             "  printf 'use dms\\ncount by ModuleName\\ncount by TableName\\n' | dsc-engine shell --data exports/\n"
             "commands: use KIND, query [FILTER], page N, size N, count [FILTER],\n"
             "  count by FIELD [where FILTER] (FIELD: day(FIELD), hour(FIELD) of a time too),\n"
             "  explain [FILTER], call ACTION Name=Value ...,\n"
             "  format table|json|jsonl|csv, columns [A,B,...], kinds, help, quit\n", exit_codes)
    _data_options(p, standard_input=False)

    p = _add(subparsers, "demo", cmd_demo, "answer real requests of each operation over the sample data",
             "  dsc-engine demo\n  dsc-engine --format json demo\n  dsc-engine demo --data exports/\n", exit_codes)
    _data_options(p)

