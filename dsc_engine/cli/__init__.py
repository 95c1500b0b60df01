"""``dsc-engine``: the command line of the offline engine.

:func:`main` builds the argparse parser, runs one subcommand and returns its exit status; every
failure ends as a one-line message on stderr and one of the exit codes below, never a traceback.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
import textwrap
from collections.abc import Mapping, Sequence
from typing import IO

from dsc_engine.api.errors import ApiError
from dsc_engine.cli import cloud, commands
from dsc_engine.cli.arguments import CommandParser, ProgramParser
from dsc_engine.cli.destination import shown_output, utf8_output
from dsc_engine.cli.output import NOT_FOUND, Format, dumps, not_found_hint, unwritable, write_mapping
from dsc_engine.errors import (
    CheckpointError,
    DscError,
    FilterError,
    NO_RESPONSE,
    TLS_FAILURE,
    UNREADABLE_ANSWER,
    ImportFailure,
    RecordError,
    RequestError,
    SnapshotError,
    UpstreamError,
    UsageError,
)
from dsc_engine.wire import times

EXIT_OK = 0
EXIT_DIFFERENCES = 1
EXIT_USAGE = 2
EXIT_DATA = 3
EXIT_API = 4
EXIT_INTERNAL = 5
EXIT_INTERRUPTED = 130
#: The reader of standard output went away (``dsc-engine export | head``): what the shell reports
#: for a program that SIGPIPE ended (128 + 13), as for ``cat``; no message is printed.
EXIT_BROKEN_PIPE = 141

#: Each exit status: what it means for every command ("" for none), and for particular commands.
_STATUSES: tuple[tuple[int, str, Mapping[str, str]], ...] = (
    (EXIT_OK, "ok", {}),
    (EXIT_DIFFERENCES, "", {
        "replay": "some call answered differently from the capture",
        "shell": "reading a script: some command of it failed (the others still ran)",
    }),
    (EXIT_USAGE, "usage: bad arguments, an unparsable filter, a bad page or kind", {
        "pull": "a checkpoint of another pull",
    }),
    (EXIT_DATA, "data: a file that cannot be read (a bad snapshot or capture; with --strict, a record"
                " rejected), a database that cannot be used, a file that cannot be written, standard output closed", {
        "load": "records were rejected or a file error met (--rejects FILE keeps them)",
        "pull": "it cannot go on (the message says why and what to do; no answer after its retries)",
    }),
    (EXIT_API, "", {
        "call": "the API refused the call: HTTP status, Code and Message on stderr, and with --format json,"
                " jsonl or csv the error body on stdout",
        "pull": "the service refused a call",
    }),
    (EXIT_INTERNAL, "internal error (a bug: please report it with the message)", {}),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C)", {"pull": "run the same command again to resume"}),
    (EXIT_BROKEN_PIPE, "the reader of the output went away (e.g. piped into head); nothing is printed", {}),
)


def exit_statuses(command: str | None = None) -> str:
    """The exit-status table of the program's help, or of one ``command``'s: the statuses that
    concern it, with what they mean for it, and where the whole table is."""
    lines = ["exit status:"]
    for code, meaning, particular in _STATUSES:
        notes = particular.items() if command is None else [(c, n) for c, n in particular.items() if c == command]
        parts = ([meaning] if meaning else []) + [n if command is not None else f"{c}: {n}" for c, n in notes]
        if parts:
            text = f"  {code}  " + "; ".join(parts)
            lines.extend(textwrap.wrap(text, 100, subsequent_indent="     ", break_on_hyphens=False))
    if command is not None:
        lines.append("  (dsc-engine --help lists the statuses of every command)")
    return "\n".join(lines) + "\n"


EXIT_CODES = exit_statuses()

DESCRIPTION = """\
Answer Alibaba Cloud's audit-log APIs offline, from exported logs held in memory:
Sddp DescribeAuditLogs, Sddp DescribeDataMaskingRunHistory and DMS ListSensitiveDataAuditLog.
Commands that need data take --data PATH (files, folders, globs or snapshots; repeatable);
without it they use the sample data bundled with the package. --format and --tz go before or
after the command, a command's own options after its name; --tz (default UTC) is the zone
tables show Sddp times in and filter times without a zone are read in (DMS times are naive and
never converted).
"""

EPILOG = f"""\
examples:
  dsc-engine demo
  dsc-engine load exports/ --rejects rejects.jsonl --snapshot engine.dscsnap
  dsc-engine query audit 'UserName = "admin" and EffectRow > 100' --data engine.dscsnap
  dsc-engine call DescribeAuditLogs --param PageSize=5 --param Lang=en_us
  dsc-engine --format json call ListSensitiveDataAuditLog --param PageNumber=1 \\
      --param PageSize=10 --param StartTime='2026-10-01 00:00:00' --param EndTime='2026-10-31 23:59:59'
  dsc-engine record --out capture.jsonl && dsc-engine replay capture.jsonl
  dsc-engine pull all --since 2026-10-01 --region cn-zhangjiakou --out cloud.jsonl
  dsc-engine record --upstream https://sddp.cn-zhangjiakou.aliyuncs.com --port 8081 --out capture.jsonl
  dsc-engine serve --sample

{EXIT_CODES}
See docs/cli.md and docs/formats.md.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = ProgramParser(
        prog="dsc-engine",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_VersionAction)
    commands.output_options(parser, top=True)
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser] = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=CommandParser,
    )
    commands.register(subparsers, exit_statuses)
    commands.output_options(cloud.register_pull(subparsers, exit_statuses("pull")))  # --format/--tz after `pull` too
    _register_serve(subparsers)
    return parser


class _VersionAction(argparse.Action):
    """``--version``: argparse's version action, reading the installed version only when asked
    (importlib.metadata and its lookup cost every command's start a few hundredths of a second)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str = "show program's version number and exit") -> None:
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        sys.stdout.write(f"dsc-engine {_version()}\n")  # where argparse's version action writes it
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("dsc-engine")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


def _register_serve(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from dsc_engine.server.cli import register

    register(subparsers)


def exit_code(error: BaseException) -> int:
    """The exit status of a failure (see :data:`EXIT_CODES`)."""
    if isinstance(error, UpstreamError) and error.code in (NO_RESPONSE, TLS_FAILURE, UNREADABLE_ANSWER):
        return EXIT_DATA  # no service answered (readably): nothing refused the call, the pull cannot go on
    if isinstance(error, (ApiError, UpstreamError)):
        return EXIT_API
    if isinstance(error, (FilterError, RequestError, UsageError, CheckpointError)):
        return EXIT_USAGE
    if isinstance(error, (ImportFailure, RecordError, SnapshotError, DscError, OSError)):
        return EXIT_DATA
    return EXIT_INTERNAL


def main(argv: Sequence[str] | None = None, *, out: IO[str] | None = None, err: IO[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: the process arguments); return the exit status."""
    out = out if out is not None else sys.stdout
    # started with standard error closed (`2>&-`, sys.stderr None): messages are dropped, where
    # print(file=None) would write them among the results on standard output
    err = err if err is not None else sys.stderr if sys.stderr is not None else io.StringIO()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error argparse has already printed
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    except BrokenPipeError:  # --version read by a program that stopped (argparse's help is quiet then)
        _discard_output(sys.stdout)
        return EXIT_BROKEN_PIPE
    if out is None and args.command == "serve":  # started with standard output closed (`>&-`), as a
        out = io.StringIO()  # daemon may be: it serves, what it prints dropped
    elif out is None:  # the others' results or summary are their point: refused before anything is done
        print(f"dsc-engine {args.command}: standard output is closed, and the command writes its results"
              " or summary there", file=err)
        return EXIT_DATA
    if args.command in ("serve", "shell"):  # the server prints no results; the shell picks its streams
        return _run(args, out, err)
    if args.format not in (None, Format.TABLE.value):
        with utf8_output(out) as data:  # read by a program: UTF-8 and \n, whatever the locale
            return _run(args, data, err)
    with shown_output(out) as shown:  # read by a person: what the locale cannot write, escaped
        return _run(args, shown, err)


#: The loggers of the database drivers. clickhouse-connect logs a warning of its own beside the
#: error it raises (``Unexpected Http Driver Exception`` for a server that does not answer), which
#: Python prints on stderr when nothing configured logging: the commands say what failed in their
#: one line. ``serve`` configures logging (``--log-level``) and keeps them in its log.
DRIVER_LOGGERS = ("clickhouse_connect",)


def _quiet_driver_logs() -> None:
    """Keep the drivers' own log lines (:data:`DRIVER_LOGGERS`, their modules' loggers included)
    off stderr: handled by a handler that drops them, and not passed on to the root's."""
    for name in DRIVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(handler, logging.NullHandler) for handler in logger.handlers):
            logger.addHandler(logging.NullHandler())
        logger.propagate = False


def _run(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Run the parsed command; return the exit status (every failure a message and a status)."""
    try:
        if args.command == "serve":  # its own statuses and messages (its --help)
            _refuse_output_options(args)
            return int(args.func(args, out=out, err=err))
        _quiet_driver_logs()
        args.format = Format(args.format or Format.TABLE.value)
        args.tz_given = args.tz is not None  # also the zone of CSV times written without one
        args.tz = times.UTC if args.tz is None else args.tz
        code = int(args.func(args, out, err))
        out.flush()  # a reader gone away shows here, not in the interpreter's flush at exit
        return code
    except BrokenPipeError:
        _discard_output(out)
        return EXIT_BROKEN_PIPE
    except ApiError as exc:  # the body is data for a script; the message is for the person
        if args.format is Format.CSV:
            write_mapping(Format.CSV, exc.body, out)
        elif args.format is not Format.TABLE:
            out.write(dumps(exc.body, pretty=args.format is Format.JSON) + "\n")
        hint = f" {not_found_hint(args.action)}" if exc.code == NOT_FOUND and args.command == "call" else ""
        print(f"dsc-engine {args.command}: {exc.http_status} {exc.code}: {exc.message}{hint}", file=err)
        return EXIT_API
    except DscError as exc:
        # a filter error shows its caret line; every other message is one line
        message = str(exc) if isinstance(exc, FilterError) else str(exc).splitlines()[0]
        print(f"dsc-engine {args.command}: {message}", file=err)
        return exit_code(exc)
    except UnicodeEncodeError as exc:  # results that cannot be written as UTF-8 (the export's file is left as it was)
        print(f"dsc-engine {args.command}: {unwritable(exc)}", file=err)
        return EXIT_DATA
    except OSError as exc:
        place = "" if exc.filename is None else f"{exc.filename}: "  # a write to standard output names none
        print(f"dsc-engine {args.command}: {place}{exc.strerror or exc}", file=err)
        return EXIT_DATA
    except KeyboardInterrupt:
        print(f"dsc-engine {args.command}: interrupted", file=err)
        return EXIT_INTERRUPTED
    except Exception as exc:  # the last-resort handler: a bug must still end in one clear line
        print(f"dsc-engine {args.command}: internal error: {type(exc).__name__}: {exc}", file=err)
        return EXIT_INTERNAL


def _refuse_output_options(args: argparse.Namespace) -> None:
    """``serve`` prints no results: a ``--format`` or ``--tz`` given before it would do nothing."""
    for option, value in (("--format", args.format), ("--tz", args.tz)):
        if value is not None:
            raise UsageError(option, value, "serve prints no results: its answers are the API's JSON, its times"
                                            " the API's")


def _discard_output(out: IO[str]) -> None:
    """Send what is still buffered for ``out`` (and later writes) to the null device, so that the
    flush at exit does not fail again on the closed pipe."""
    try:
        fd = out.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test's StringIO)
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)


__all__ = ["EXIT_CODES", "build_parser", "exit_code", "main"]
