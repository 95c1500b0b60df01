"""The commands that talk to the real cloud: ``pull``, and ``record --upstream``.

``pull`` pages the real APIs into a file ``load`` imports (``dsc_engine.pull``), with a progress
bar on a terminal's stderr and a summary reconciling each slice's TotalCount with the records
written. ``record --upstream URL`` runs the recording proxy (``dsc_engine.server.proxy``) until
Ctrl-C or SIGTERM, then prints how many calls it captured.
"""

from __future__ import annotations

import argparse
import io
import logging
import time
from pathlib import Path
from collections.abc import Callable
from typing import IO

from dsc_engine import pull as pulling
from dsc_engine.cli.arguments import count, name_value, parameters, positive, refuse_file_options
from dsc_engine.cli.destination import growing, is_standard_output
from dsc_engine.cli.output import Format, dumps, output_encoding, table, write_mapping, write_rows
from dsc_engine.errors import ServerConfigError, UsageError
from dsc_engine.pull import credentials
from dsc_engine.pull.pacing import SERVICE_RATE, Backoff
from dsc_engine.pull.result import PullReport
from dsc_engine.pull.slicing import Progress
from dsc_engine.server.cli import host, output_file, port, wait_for_stop
from dsc_engine.server.config import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    ServerConfig,
    generate_access_key,
    parse_access_key_flag,
)

# ---------------------------------------------------------------------------------------------
# pull
# ---------------------------------------------------------------------------------------------

PULL_HELP = "page the real APIs with the official SDK into API pages that load imports"
PULL_EXAMPLES = """\
  export ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI... ALIBABA_CLOUD_ACCESS_KEY_SECRET=...
  dsc-engine pull audit --since 2026-10-01 --until 2026-11-01 --region cn-zhangjiakou --out audit.jsonl
  dsc-engine pull dms --since '2026-10-01 00:00:00' --param ModuleName=SQL_CONSOLE \\
      --endpoint dms-enterprise.cn-hangzhou.aliyuncs.com --out dms.jsonl
  dsc-engine --format json pull all --since 2026-10-01 --region cn-zhangjiakou --out cloud.jsonl
  (interrupted? run the same command again: it resumes from OUT.checkpoint.json)
"""


def register_pull(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], exit_codes: str
) -> argparse.ArgumentParser:
    """Add ``pull``; return its parser (the caller adds the options every command takes)."""
    parser = subparsers.add_parser(
        "pull", help=PULL_HELP, description=PULL_HELP,
        epilog=f"examples:\n{PULL_EXAMPLES}\n{exit_codes}", formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=cmd_pull)
    parser.add_argument("what", nargs="+", metavar="WHAT",
                        help="all, audit, masking, dms, or an action name (several allowed)")
    parser.add_argument("--out", required=True, metavar="FILE", type=output_file, help="the JSON Lines file of pages to write")
    window = parser.add_argument_group("window and filters")
    window.add_argument("--since", required=True, metavar="TIME",
                        help="window start, inclusive: UNIX ms or 2026-10-01[ 08:00:00][Z|+08:00] (in the --tz zone, "
                             "UTC by default, without one); DMS: a wall-clock yyyy-MM-dd HH:mm:ss, no zone")
    window.add_argument("--until", metavar="TIME",
                        help="window end, inclusive (default: the last whole ms, or DMS second of this machine's "
                             "wall clock, before the pull starts)")
    window.add_argument("--param", type=name_value, action="append", default=[], metavar="NAME=VALUE",
                        help="an API filter, e.g. UserName=admin (repeatable; each goes to the operations that take it)")
    where = parser.add_argument_group("where (credentials: ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, else the SDK's "
                                      "default credential chain)")
    where.add_argument("--region", help="the region whose endpoints the SDK picks, e.g. cn-zhangjiakou")
    where.add_argument("--endpoint", metavar="URL", help="host[:port] or http(s)://host[:port], for every operation")
    pace = parser.add_argument_group("pace and depth")
    pace.add_argument("--page-size", type=positive, help="records per page (default: each operation's largest)")
    pace.add_argument("--max-depth", type=positive, default=pulling.DEFAULT_MAX_DEPTH,
                      help=f"pages a time slice may hold before it is split (default {pulling.DEFAULT_MAX_DEPTH})")
    pace.add_argument("--rate", type=float, default=SERVICE_RATE,
                      help=f"calls per second at most (default {SERVICE_RATE:g}, the service's limit)")
    pace.add_argument("--retries", type=count, default=Backoff().retries,
                      help=f"retries of a throttled or failed call (default {Backoff().retries})")
    parser.add_argument("--checkpoint", metavar="FILE", type=output_file, help="where progress is kept (default OUT.checkpoint.json)")
    return parser


#: The logger of the official credentials package. Each provider of its default chain that finds
#: nothing (no profile file, no ECS instance role) is logged there with its traceback; the command
#: says why in its one line (``no Alibaba Cloud credentials: ... (each provider's reason)``).
SDK_CREDENTIALS_LOGGER = "credentials"


def quiet_sdk_credentials_log() -> None:
    """Keep the credentials package's log of the providers it tried off the terminal (see above)."""
    logging.getLogger(SDK_CREDENTIALS_LOGGER).disabled = True


def cmd_pull(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    # as `-` is to every other --out (pulled into a file named "-", it would be lost from view), and so
    # is another name of standard output (/dev/stdout redirected to a file): the pages would be
    # renamed over the file the shell opened, and the summary written to the one they replaced
    if is_standard_output(args.out, out):
        raise UsageError("--out", args.out, "a pull writes a file (its parts and checkpoint beside it), not standard "
                                            "output; name the file")
    quiet_sdk_credentials_log()
    params = parameters(args.param)
    checkpoint = Path(args.checkpoint) if args.checkpoint else pulling.default_checkpoint(args.out)
    bar = PullBar(err)
    try:
        report = pulling.pull(
            args.what, args.out, since=args.since, until=args.until, zone=args.tz, params=params,
            region=args.region, endpoint=args.endpoint, page_size=args.page_size, max_depth=args.max_depth,
            rate=args.rate, backoff=Backoff(retries=args.retries), checkpoint_path=checkpoint, progress=bar,
        )
    except KeyboardInterrupt:
        bar.finish()
        if checkpoint.exists():
            err.write(f"dsc-engine pull: {checkpoint} keeps what is done; run the same command again to resume\n")
        else:  # stopped within its first slice: a checkpoint is written once a slice is done
            err.write("dsc-engine pull: stopped before its first time slice was done, so there is nothing to resume;"
                      " the same command starts over\n")
        raise
    finally:
        bar.finish()
    write_pull_report(args.format, report, out)
    return 0


def write_pull_report(fmt: Format, report: PullReport, out: IO[str]) -> None:
    """The summary: every slice's TotalCount beside the records written for it."""
    rows = [
        {"action": job.action, **s.to_json()} for job in report.jobs for s in job.slices
    ]
    if fmt is Format.JSON:
        out.write(dumps(report.to_json()) + "\n")
    elif fmt is Format.CSV and not rows:  # no slice held records: the header alone
        out.write("action\n")
    elif fmt is not Format.TABLE:
        write_rows(fmt, rows, out)
    else:
        _pull_table(report, out)


def _pull_table(report: PullReport, out: IO[str]) -> None:
    pages = sum(job.pages for job in report.jobs)
    out.write(f"pulled {report.records} records into {report.output}: {pages} pages, {report.calls} calls, "
              f"{report.retries} retries{' (resumed)' if report.resumed else ''}\n")
    header = ["action", "from", "to", "TotalCount", "pages", "records", "restarts", "reconciled"]
    rows = []
    empty = 0
    for job in report.jobs:
        for s in job.slices:
            if s.total_count == 0 and s.records == 0:
                empty += 1
                continue
            rows.append([job.action, s.start, s.end, str(s.total_count), str(s.pages), str(s.records),
                         str(s.restarts), "yes" if s.reconciled else "NO"])
    out.write(table(rows, header, output_encoding(out)) + "\n")
    if empty:
        out.write(f"({empty} empty {'slice' if empty == 1 else 'slices'} not listed)\n")
    for job in report.jobs:
        out.write(f"{job.action} {job.since} .. {job.until}: TotalCount {job.total_count}, "
                  f"{job.records} records written\n")
    verdict = "every slice reconciles" if report.reconciled else "SOME SLICE DOES NOT RECONCILE"
    extra = []
    if report.restarts:
        extra.append(f"{report.restarts} slice pulls restarted (changed while paged)")
    if report.repulled:
        extra.append(f"{report.repulled} slices pulled again after the final check")
    if report.retried_codes:
        extra.append("retried " + ", ".join(f"{code} x{n}" for code, n in report.retried_codes.items()))
    out.write(verdict + (f"; {'; '.join(extra)}" if extra else "") + "\n")


class PullBar:
    """A progress bar with an ETA on a terminal's stderr (nothing elsewhere)."""

    def __init__(self, stream: IO[str], clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.enabled = bool(getattr(stream, "isatty", lambda: False)())
        self._clock = clock
        self._started: dict[str, tuple[float, int]] = {}
        self._last = 0.0
        self.shown = False

    def __call__(self, progress: Progress) -> None:
        if not self.enabled:
            return
        now = self._clock()
        start = self._started.setdefault(progress.action, (now, progress.written))
        if now - self._last < 0.1 and progress.written != progress.expected:
            return
        self._last = now
        self.shown = True
        self.stream.write("\r" + render(progress, now - start[0], progress.written - start[1]))
        self.stream.flush()

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 100 + "\r")
            self.stream.flush()
            self.shown = False


def render(progress: Progress, elapsed: float, gained: int) -> str:
    """One line: the action, a bar, records of the expected, and the time left at this pace."""
    expected = progress.expected
    if not expected:
        return f"{progress.action}: {progress.written} records"
    share = min(progress.written / expected, 1.0)
    filled = int(share * 30)
    eta = "?"
    if gained > 0 and elapsed > 0:
        left = max(expected - progress.written, 0) * elapsed / gained
        eta = time.strftime("%H:%M:%S", time.gmtime(left))
    return (f"{progress.action} [{'#' * filled}{'.' * (30 - filled)}] {share:4.0%} "
            f"{progress.written}/{expected} records, ETA {eta}")


# ---------------------------------------------------------------------------------------------
# record --upstream
# ---------------------------------------------------------------------------------------------


def add_upstream_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "recording the real service (--upstream; credentials: ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, else the "
        "SDK's default credential chain)"
    )
    group.add_argument("--upstream", metavar="URL", action="append", default=[],
                       help="run a local proxy to this real endpoint, e.g. https://sddp.cn-zhangjiakou.aliyuncs.com "
                            "(repeatable: one per product), and capture every call made through it")
    # unset (None) unless given, so that a recording of the engine refuses them (it runs no proxy)
    group.add_argument("--host", type=host, help=f"address the proxy binds (default {DEFAULT_HOST})")
    group.add_argument("--port", type=port, help=f"port, 0 for any free one (default {DEFAULT_PORT})")
    group.add_argument("--access-key", metavar="ID:SECRET", action="append", default=[],
                       help="the key the SDK signs with to the proxy (default: one generated and printed)")
    group.add_argument("--accept-any-key", action="store_true",
                       help="let any signed request through, whatever its key (anyone who can reach the proxy "
                            "then calls the cloud with your credentials)")


def refuse_proxy_options(args: argparse.Namespace) -> None:
    """A recording of the engine's answers runs no proxy: the proxy's options would do nothing."""
    given = [("--host", args.host), ("--port", args.port),
             ("--access-key", args.access_key or None), ("--accept-any-key", args.accept_any_key or None)]
    for option, value in given:
        if value is not None:
            raise UsageError(option, value, "applies to the proxy of --upstream; a recording of the engine's"
                             " answers runs none")


def record_upstream(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Run the recording proxy until stopped; print the summary."""
    if args.data or args.requests:
        raise UsageError("--upstream", args.upstream,
                                    "records the real service; --data and --requests do not apply")
    refuse_file_options(args, "the real service, which --upstream records")
    if args.out in (None, "-"):
        raise UsageError("--out", args.out, "name the capture file to write with --upstream")
    if args.accept_any_key and args.access_key:  # any key is taken: the proxy's own would check nothing
        raise UsageError("--access-key", args.access_key[0], "does nothing beside --accept-any-key, which takes"
                         " any signed call whatever its key; give one or the other")
    from dsc_engine.server.host import RunningServer  # the proxy and the HTTP server: only here,
    from dsc_engine.server.proxy import RecordingProxy, targets  # not for every command's parser

    try:
        upstreams = targets(args.upstream)
    except ServerConfigError as exc:  # a bad argument (exit 2), as a bad --out is
        raise UsageError("--upstream", exc.key, exc.reason) from None
    try:  # a bad argument (exit 2), said before the credentials are looked for
        keys = [parse_access_key_flag(text) for text in args.access_key]
    except ServerConfigError as exc:
        raise UsageError("--access-key", exc.key, f"{exc.key}: {exc.reason}") from None
    quiet_sdk_credentials_log()
    source = credentials.source()
    source.current()  # no credentials at all: say so now, not at the first call
    generated = None
    if not keys and not args.accept_any_key:
        generated = generate_access_key()
        keys = [generated]
    config = ServerConfig().with_keys(keys, "--access-key")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # bound before the capture is opened (and emptied): a port in use leaves an earlier capture whole
    proxy = RecordingProxy(upstreams, source, io.StringIO(), config, accept_any_key=args.accept_any_key)
    address = (DEFAULT_HOST if args.host is None else args.host, DEFAULT_PORT if args.port is None else args.port)
    try:
        server = RunningServer(proxy, *address, limits=config.limits)
    except OSError as exc:
        raise UsageError("--host/--port", "%s:%d" % address, f"cannot bind {address[0]}:{address[1]}:"
                         f" {exc.strerror or exc} ({args.out} not touched)") from None
    stopped = False
    try:
        with growing(args.out) as capture:
            proxy.capture_into(capture)
            try:
                # in json, jsonl or csv standard output holds the summary alone, readable as its format
                banner = out if args.format is Format.TABLE else err
                goes_to = ", ".join(u.url for u in upstreams)
                print(f"dsc-engine recording at {server.url} -> {goes_to} into {args.out} (Ctrl-C to stop)", file=banner)
                if generated is not None:
                    print("point the SDK at it with this key pair:", file=banner)
                    print(f"  AccessKeyId:     {generated.id}", file=banner)
                    print(f"  AccessKeySecret: {generated.secret}", file=banner)
                print(f'  Config(endpoint="{server.endpoint}", protocol="http", ...)', file=banner)
                banner.flush()
                wait_for_stop()
            finally:  # the calls being forwarded are captured before the capture closes
                stopped = True
                server.stop()
    finally:
        if not stopped:  # the capture could not be opened
            server.stop()
    summary = {"recorded": proxy.captured, "to": args.out}
    if proxy.not_captured:
        summary["not captured (no JSON object replay reads)"] = proxy.not_captured
    write_mapping(args.format, summary, out)
    return 0


__all__ = ["PullBar", "add_upstream_options", "cmd_pull", "record_upstream", "register_pull", "render"]
