"""``dsc-engine serve``: answer the official SDKs over HTTP from loaded logs.

The main CLI calls :func:`register` with its subparsers; the ``serve`` parser's default ``func``
is :func:`run`, which returns the process exit code.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO

import attrs

from dsc_engine.errors import DscError, ImportFailure, RequestError, ServerConfigError, UsageError
from dsc_engine.io import sources
from dsc_engine.io.importreport import reject_lines
from dsc_engine.models import RecordKind
from dsc_engine.models.kinds import short_names
from dsc_engine.server.throttle import rate_problem
from dsc_engine.server.config import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    ServerConfig,
    ThrottleConfig,
    generate_access_key,
    load_config,
    parse_access_key_flag,
)
from dsc_engine.sql.url import data_url

if TYPE_CHECKING:
    from dsc_engine.engine import Engine

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_DATA = 3
EXIT_BIND = 4
EXIT_INTERRUPTED = 130

DESCRIPTION = """\
Serve DescribeAuditLogs, DescribeDataMaskingRunHistory (Sddp 2019-01-03) and
ListSensitiveDataAuditLog (dms-enterprise 2018-11-01) over HTTP, so the official
Alibaba Cloud SDKs (and anything that signs requests like them) talk to the loaded
logs unchanged. Requests must be signed (ACS3-HMAC-SHA256 or HMAC-SHA1 v2) with a
configured access key; with none configured, a fresh key pair is generated and printed.
"""

EPILOG = """\
examples:
  dsc-engine serve --sample
  dsc-engine serve --data audit.jsonl --data runs.csv --port 8080
  dsc-engine serve --data exports/ --access-key LTAIexample:secret123
  dsc-engine serve --data logs.jsonl --config server.toml --host 0.0.0.0

  then point an SDK at it:
    Config(access_key_id=ID, access_key_secret=SECRET,
           endpoint="127.0.0.1:8080", protocol="http")

exit status:
  0  stopped by Ctrl-C or SIGTERM
  2  bad arguments or configuration (--config, --access-key, a database URL beside files)
  3  the data cannot be loaded (or, with --strict, some record was rejected)
  4  the address cannot be bound (port in use, no such interface)
  130  interrupted (Ctrl-C) while the data was loading

See docs/server.md for the configuration file, policies and error codes.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add the ``serve`` subcommand; its ``func`` default is :func:`run`."""
    parser = subparsers.add_parser(
        "serve",
        help="answer the Alibaba Cloud SDKs over HTTP from loaded logs",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data", metavar="PATH|URL", action="append", default=[], type=source,
        help="an exported file or directory to load (repeatable; kinds are detected; - for standard input),"
             " or one database URL to answer from: duckdb:///logs.duckdb, chdb:///dir, clickhouse://host/db",
    )
    data.add_argument("--backend", metavar="URL", dest="data", action="append", help="the same as --data URL")
    data.add_argument("--kind", type=record_kind, metavar="KIND",
                      help=f"read every --data record as this kind instead of detecting it: {short_names()}")
    data.add_argument("--sample", action="store_true", help="also load the bundled sample logs")
    data.add_argument(
        "--strict", action="store_true", help="refuse to start if any record is rejected on load"
    )
    net = parser.add_argument_group("network")
    net.add_argument("--host", type=host, help=f"address to bind (default {DEFAULT_HOST}, or the config's)")
    net.add_argument(
        "--port", type=port, help=f"port to bind, 0 for any free one (default {DEFAULT_PORT})"
    )
    auth = parser.add_argument_group("access")
    auth.add_argument("--config", metavar="FILE", type=file_name, help="JSON or TOML file: keys, policies, limits")
    auth.add_argument(
        "--access-key", metavar="ID:SECRET", action="append", default=[],
        help="an access key allowed every action (repeatable)",
    )
    auth.add_argument(
        "--throttle-rate", type=rate, metavar="N",
        help="calls per second per access key and operation (default 10)",
    )
    auth.add_argument("--no-throttle", action="store_true", help="turn flow control off")
    parser.add_argument(
        "--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="server log verbosity on stderr (INFO logs one line per request)",
    )
    parser.set_defaults(func=run)
    return parser


# The argument types the other commands share too (``dsc_engine.cli.arguments`` takes them from
# here: the serve command's parser is the lowest of the command-line modules).


def source(text: str) -> str:
    """A ``--data`` or ``load`` source: ``-`` is standard input (:func:`sources.from_command_line`)."""
    try:
        return sources.from_command_line(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def file_name(text: str) -> str:
    """A file a command reads or writes by name (``--out``, ``--rejects``, ``--config`` ...): an
    empty one, such as ``--out "$OUT"`` with ``OUT`` unset, names no file and is refused, rather
    than taken for the current folder or for the option left out."""
    if not text:
        raise argparse.ArgumentTypeError("an empty name names no file (an unset variable?)")
    return text


def named_source(text: str) -> str:
    """A file a command reads by name, or ``-`` for standard input: a :func:`source` that is a
    :func:`file_name` (not empty)."""
    return source(file_name(text))


def output_file(text: str) -> str:
    """A file a command writes (``--out``, ``--rejects``, ``--snapshot`` ...): a :func:`file_name`
    that does not end with a path separator, which names a folder (``--out exports/``) where the
    file would otherwise be written under the folder's name."""
    text = file_name(text)
    if text.endswith((os.sep, os.altsep or os.sep)):
        raise argparse.ArgumentTypeError(f"{text!r} ends with {text[-1]!r}, which names a folder; name the file to"
                                         " write in it")
    return text


def record_kind(text: str) -> RecordKind:
    """A record kind, by any of its names (``audit``, ``audit_log`` ...)."""
    try:
        return RecordKind.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


#: The highest TCP port.
_MOST_PORT = 65535


def host(text: str) -> str:
    """An address to bind; an empty one is refused (a socket bound to ``""`` listens on every
    interface, as ``0.0.0.0`` does, which an unset shell variable must not decide)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            f"expected an address to bind, such as 127.0.0.1 (0.0.0.0 for every interface), got {text!r}"
        )
    return text


def port(text: str) -> int:
    """A TCP port, 0 to 65535 in the digits 0-9 (``int()`` would also read ``"١"`` or ``" 80"``)."""
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"expected a port number in digits 0-9, got {text[:40]!r}")
    if len(text.lstrip("0")) > len(str(_MOST_PORT)) or int(text) > _MOST_PORT:
        raise argparse.ArgumentTypeError(f"must be 0 to {_MOST_PORT}, got {text[:40]}")
    return int(text)


_RATE = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")


def rate(text: str) -> float:
    """Calls per second as a decimal number in the digits 0-9 (``10``, ``2.5``): ``float()``
    would also read ``"1_000"``, ``" 5"``, ``"1e3"`` or ``"٣"``. Above 0 is checked with the
    configuration file's rate (``rate_problem``), so ``0`` says why as a rate."""
    if not _RATE.fullmatch(text):
        raise argparse.ArgumentTypeError(f"expected calls per second in digits 0-9, such as 10 or 2.5, got {text[:40]!r}")
    return float(text)


def build_config(args: argparse.Namespace) -> ServerConfig:
    """The configuration from ``--config`` and the flags (flags win over the file)."""
    config = load_config(args.config) if args.config else ServerConfig()
    config = config.with_keys(
        (parse_access_key_flag(text) for text in args.access_key), "--access-key"
    )
    if args.host is not None:
        config = attrs.evolve(config, host=args.host)
    if args.port is not None:
        if not 0 <= args.port <= 65535:
            raise ServerConfigError("--port", str(args.port), "must be in 0..65535")
        config = attrs.evolve(config, port=args.port)
    if args.no_throttle and args.throttle_rate is not None:
        raise ServerConfigError("--throttle-rate", str(args.throttle_rate), "does nothing beside --no-throttle")
    if args.no_throttle or args.throttle_rate is not None:
        rate = config.throttle.rate if args.throttle_rate is None else args.throttle_rate
        problem = rate_problem(rate)
        if problem is not None:
            raise ServerConfigError("--throttle-rate", str(rate), problem)
        config = attrs.evolve(config, throttle=ThrottleConfig(enabled=not args.no_throttle, rate=rate))
    return config


def _load(args: argparse.Namespace, err: TextIO) -> Engine:
    from dsc_engine.engine import Engine  # noqa: F811 (the runtime import of the hint above)

    url, paths = data_url(args.data)
    if not paths:  # how files are read: with none (the sample, a database), it would do nothing
        data = "the bundled sample" if url is None else "a database, whose records are loaded already"
        for option, value in (("--kind", args.kind), ("--strict", args.strict)):
            if value not in (None, False):
                raise UsageError(option, value, f"applies only to --data files, not to {data}")
    if url is not None:
        if args.sample:
            raise ServerConfigError("--sample", "", "a database URL names all the data: no --sample beside it")
        return Engine.connect(url, read_only=True)
    engine: Engine = Engine.from_sample() if args.sample else Engine()
    for path in paths:
        report = engine.load(path, kind=args.kind)
        print(f"loaded {path}: {report.summary()}", file=err)
        for problem in report.file_errors:
            print(f"  file error: {problem}", file=err)
        for line in reject_lines(r for r in report.rejects if r.scope != "file"):
            print(line, file=err)
        if not report.ok and args.strict:
            raise ImportFailure(path, "some records were rejected (--strict)")
    return engine


def run(
    args: argparse.Namespace,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Serve until Ctrl-C, SIGTERM or ``stop`` is set; return the exit status (see ``EPILOG``)."""
    out = out or sys.stdout
    err = err or sys.stderr
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        config = build_config(args)
    except ServerConfigError as exc:
        print(f"dsc-engine serve: {exc}", file=err)
        return EXIT_USAGE
    if not args.data and not args.sample:
        print("dsc-engine serve: give --data PATH (repeatable) or --sample", file=err)
        return EXIT_USAGE
    try:
        engine = _load(args, err)
    except (RequestError, ServerConfigError, UsageError) as exc:  # what was asked for, not the data
        print(f"dsc-engine serve: {exc}", file=err)
        return EXIT_USAGE
    except DscError as exc:
        print(f"dsc-engine serve: cannot load data: {exc}", file=err)
        return EXIT_DATA
    except KeyboardInterrupt:
        print("dsc-engine serve: interrupted", file=err)
        return EXIT_INTERRUPTED
    generated = None
    if not config.access_keys:
        generated = generate_access_key()
        config = config.with_keys([generated], "generated")
    from dsc_engine.server.app import make_app  # the application and the HTTP server: only here,
    from dsc_engine.server.host import RunningServer  # not for every command's parser (docs/cli.md)

    try:
        server = RunningServer(make_app(engine, config), config.host, config.port)
    except OSError as exc:
        engine.close()
        print(f"dsc-engine serve: cannot bind {config.host}:{config.port}: {exc.strerror or exc}", file=err)
        return EXIT_BIND
    try:
        print(f"dsc-engine serving at {server.url} (Ctrl-C to stop)", file=out)
        if generated is not None:
            print("no access key configured; use this one for this run:", file=out)
            print(f"  AccessKeyId:     {generated.id}", file=out)
            print(f"  AccessKeySecret: {generated.secret}", file=out)
        out.flush()
        wait_for_stop(stop)
    finally:
        server.stop()
        engine.close()
    return EXIT_OK


def wait_for_stop(stop: threading.Event | None = None) -> None:
    """Block until Ctrl-C, SIGTERM (in the main thread) or ``stop`` is set."""
    stop = stop or threading.Event()
    restore = _on_signals(stop)
    try:
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        restore()


def _on_signals(stop: threading.Event) -> Callable[[], None]:
    """Make SIGTERM set ``stop`` (main thread only); return the function that undoes it."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``serve`` on its own (``python -m dsc_engine.server.cli``), outside the main CLI."""
    parser = argparse.ArgumentParser(prog="dsc-engine")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
