"""``dsc-engine shell``: load the data once, then answer queries, API calls and counts by field.

An interactive session on the standard ``cmd`` module, with ``readline`` history (kept in
``~/.dsc_engine_history``) when standard input is a terminal. Standard input that is not a
terminal is read as a script, one command a line, with no prompt. Every command prints with the
session's ``format`` (the one given before ``shell``, changed with ``format``) on standard output;
a failure prints one line (``error: ...``) on standard error and the session goes on, and a script
in which a command failed exits 1. ``--tz`` counts as in the one-shot commands:
filter times written without a zone are read in it, and tables show Sddp times in it. Commands::

    use KIND                       the kind queries and counts read (default: audit)
    query [FILTER]                 one page of the current kind, newest first
    page N / size N                the page and page size of ``query`` (default 1 and 10); after
                                   a query, its page again at the new page or size
    count [FILTER]                 how many records match
    count by FIELD [where FILTER]  how many match, per value of FIELD, most first
                                   (a DMS entry field, TableName: a log counts once per
                                   distinct value of its entries)
    count by day(FIELD) ...        per day (or hour(FIELD): hour) of a time field, newest first
    explain [FILTER]               the store's plan
    call ACTION Name=Value ...     one API call, as ``dsc-engine call`` prints it
    format table|json|jsonl|csv    how results print
    columns [A,B,...]              the columns of the kind's tables (none: the default ones)
    kinds                          how many records each kind holds
    quit (or exit, or end of input)
"""

from __future__ import annotations

import cmd
import contextlib
import datetime as dt
import io
import re
import shlex
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from dsc_engine.api.errors import ApiError
from dsc_engine.api.operations import OPERATIONS
from dsc_engine.api.read import INT32_MAX
from dsc_engine.cli.arguments import brief, column_names, parameters
from dsc_engine.cli.timebuckets import bucket_of, bucketed, regroup, time_field
from dsc_engine.cli.output import (
    NOT_FOUND, Format, dumps, not_found_hint, output_encoding, table, table_columns, time_cell, unwritable, write_items,
    write_mapping, write_plan,
)
from dsc_engine.engine import Engine
from dsc_engine.errors import DscError, FilterError
from dsc_engine.io.csvformat import row_writer, to_cell
from dsc_engine.models import RecordKind
from dsc_engine.query.parse import parse_filter
from dsc_engine.wire import times
from dsc_engine.wire.catalog import COUNTABLE, UnknownField, lookup, nearest
from dsc_engine.wire.codec import response_item, value_encoders

HISTORY = Path("~/.dsc_engine_history")
_HISTORY_LINES = 1000
#: Wire key -> the encoder of one present value, per kind: ``count by`` shows values as the API
#: writes them (a DMS time as its text, entries as JSON objects), not as the store holds them.
_WIRE_ENCODERS: dict[RecordKind, dict[str, Callable[[Any], Any]]] = {
    kind: {key: encode for _, key, encode in value_encoders(kind)} for kind in RecordKind
}


#: ``count by FIELD [where FILTER]``: its words in any case, as the filter language's keywords,
#: and apart by any blanks (``by`` alone, or a field followed by something else, is an error);
#: FIELD may be ``day(FIELD)`` or ``hour(FIELD)``, blanks inside its parentheses.
_COUNT_BY = re.compile(r"by(?:\s+(?P<field>[A-Za-z]+\s*\([^()]*\)|\S+)(?:\s+(?P<rest>.*))?)?", re.IGNORECASE | re.DOTALL)
_WHERE = re.compile(r"where\s+(?P<filter>.+)", re.IGNORECASE | re.DOTALL)


def _kind_first_hint(line: str) -> str:
    """For a ``query``/``count`` whose filter failed and starts with a kind's name (``query dms
    ...``, as the one-shot command is written): the shell's commands take the kind from ``use``."""
    words = line.split(maxsplit=2)
    if len(words) < 2 or words[0] not in ("query", "count"):
        return ""
    try:
        kind = RecordKind.parse(words[1])
    except ValueError:
        return ""
    return f"\n('{words[0]}' takes no kind in the shell: 'use {words[1]}' first, then '{words[0]} FILTER' reads {kind.value})"


#: What the shell takes instead of an option of the one-shot commands, typed after one of its
#: commands as those are written (``query --page 2``): its commands take no options.
_INSTEAD_OF_OPTIONS: dict[str, str] = {
    "--page": "'page N' sets the page",
    "--page-size": "'size N' sets the page size",
    "--format": "'format table|json|jsonl|csv' sets how results print",
    "--columns": "'columns A,B,...' sets a table's columns",
    "--explain": "'explain FILTER' shows the plan",
    "--help": "'help' says what each command does",
    "-h": "'help' says what each command does",
    "--param": "'call ACTION Name=Value ...' takes the parameters as they are",
    "--tz": "the zone is given when the shell starts: dsc-engine shell --tz ZONE",
    "--data": "the data is given when the shell starts: dsc-engine shell --data PATH",
}


def _option_hint(rest: str) -> str:
    """For a command that failed where ``rest`` starts, at an option of the one-shot commands
    (``--page 2``, ``--format=json``): what the shell takes instead."""
    words = rest.split(maxsplit=1)
    instead = _INSTEAD_OF_OPTIONS.get(words[0].partition("=")[0]) if words else None
    return "" if instead is None else f"\n(the shell's commands take no options: {instead})"


def _same(value: Any) -> Any:
    return value


def _count_cell(field: str, value: Any, zone: dt.tzinfo) -> str:
    """A value of ``count by``'s table: an Sddp time in ``zone``, text as it is, others as JSON."""
    if value is None:
        return "(absent)"
    if isinstance(value, str):
        return value
    time = time_cell(field, value, zone)
    return time if time is not None else dumps(value, pretty=False)


class Shell(cmd.Cmd):
    """The session: one loaded engine and the settings the commands share."""

    intro = ""

    def __init__(
        self, engine: Engine, fmt: Format, stdin: IO[str], out: IO[str], interactive: bool,
        zone: dt.tzinfo = times.UTC, err: IO[str] | None = None,
    ) -> None:
        super().__init__(stdin=stdin, stdout=out)
        self.engine = engine
        self.format = fmt
        self.zone = zone  # --tz: of filter times written without a zone, and of Sddp times in tables
        # audit logs, unless the data holds none and another kind some: the kind there is to ask about
        self.kind = next((k for k in RecordKind if len(engine.store(k))), RecordKind.AUDIT_LOG)
        self.page = 1
        self.page_size = 10
        self.last_query: str | None = None  # the filter of the kind's last query, which page and size show again
        self.columns: dict[RecordKind, tuple[str, ...]] = {}  # the table columns chosen for a kind (``columns``)
        self.use_rawinput = interactive
        self.prompt = "dsc> " if interactive else ""
        self.out = out
        self.err = err if err is not None else out  # where failures are told
        self.failures = 0  # commands that failed: a script that had any exits 1
        self.typed = 0  # lines typed at the terminal, which the history file is to keep

    # -- running ---------------------------------------------------------------------------------

    def precmd(self, line: str) -> str:
        """The command of a line, without the byte order mark a script saved on Windows starts
        with; a line that is not UTF-8 (a script's, or bytes a terminal sent) is an error, and
        nothing is run."""
        if self.use_rawinput and line and line != "EOF":  # a line readline put in the history ("EOF": the end)
            self.typed += 1
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:  # bytes the script's UTF-8 reading escaped (a file in another encoding)
            shown = line.strip().encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            why = "bytes the terminal sent" if self.use_rawinput else "a script is read as UTF-8"
            self._fail(f"not valid UTF-8 ({why}): {brief(shown)}")
            return ""
        line = line.removeprefix("\ufeff")
        word, blank, rest = line.lstrip().partition(" ")
        if word.lower() != word and hasattr(self, f"do_{word.lower()}"):  # COUNT BY ...: a command in any case
            return word.lower() + blank + rest
        return line

    def onecmd(self, line: str) -> bool:
        """Run one command; a failure prints one line and the session goes on."""
        try:
            return super().onecmd(line)
        except ApiError as exc:
            self._fail(f"{exc.http_status} {exc.code}: {exc.message}")
        except FilterError as exc:
            self._fail(str(exc) + _kind_first_hint(line) + _option_hint(exc.text[exc.offset:]))
        except DscError as exc:
            self._fail(str(exc))
        except UnicodeEncodeError as exc:  # a result that cannot be written as UTF-8
            self._fail(unwritable(exc))
        return False

    def _fail(self, message: str) -> None:
        """Tell a failed command (``error: ...``, on the error stream) and count it."""
        self.failures += 1
        self.err.write(f"error: {message}\n")

    def get_names(self) -> list[str]:
        """The commands completion offers: not ``EOF``, the end of input."""
        return [name for name in super().get_names() if name != "do_EOF"]

    def emptyline(self) -> bool:
        return False  # an empty line does nothing (cmd would repeat the last command)

    def default(self, line: str) -> None:
        if not line.strip().startswith("#"):  # a comment line of a script does nothing
            word = line.split()[0]
            near = nearest(word, [name.removeprefix("do_") for name in self.get_names()])
            self._fail(f"unknown command {word!r}{f'; did you mean {near}?' if near else ''} (try 'help')")

    # -- commands --------------------------------------------------------------------------------

    def do_use(self, arg: str) -> None:
        """use KIND: query and count records of KIND (audit, masking, dms)."""
        if not arg.strip():
            self._fail(f"expected 'use KIND': audit, masking or dms (in use: {self.kind.value})")
            return
        try:
            self.kind = RecordKind.parse(arg.strip())
        except ValueError as exc:
            self._fail(str(exc))
            return
        self.last_query = None  # another kind's filter
        records = len(self.engine.store(self.kind))
        if self.format is Format.TABLE:
            self.out.write(f"using {self.kind.value} ({records} records)\n")
        else:  # a line of the format, so that a script's output stays readable as it
            write_mapping(self.format, {"using": self.kind.value, "records": records}, self.out)

    def do_query(self, arg: str) -> None:
        """query [FILTER]: one page (see page, size) of the current kind, newest first."""
        text = arg.strip()
        result = self.engine.query(self.kind, text, page=self.page, page_size=self.page_size, zone=self.zone)
        self.last_query = text
        items = [response_item(r) for r in result.records]
        envelope = {"TotalCount": result.total, "Page": result.page, "PageSize": result.page_size}
        write_items(self.format, self.kind, items, self.out, envelope, self.zone, self.columns.get(self.kind))

    def do_page(self, arg: str) -> None:
        """page N: the page query shows (from 1); after a query, that page of it (count is not paged)."""
        page = self._positive(arg)
        if page is not None:
            self.page = page
            self._again(f"page {page}")

    def do_size(self, arg: str) -> None:
        """size N: the records a query page shows; after a query, its page at that size."""
        size = self._positive(arg)
        if size is not None:
            self.page_size = size
            self._again(f"pages of {size} records")

    def _again(self, setting: str) -> None:
        """The last query of the kind in use, at the page and size now set. None yet: the
        ``setting`` is kept for the next one, which a terminal is told (a ``count`` table is not
        paged); a script is not, as it sets them before its query (docs/cli.md, ``shell``)."""
        if self.last_query is not None:
            self.do_query(self.last_query)
        elif self.use_rawinput:
            self.err.write(f"note: no query of {self.kind.value} yet: the next one shows {setting}"
                           " (count tables are printed whole, not paged)\n")

    def _positive(self, arg: str) -> int | None:
        """A page or page size, from 1 to what a query takes (``Engine.query``); None (told) if not."""
        text = arg.strip()
        # the length first: int() refuses more than 4,300 digits with a message of its own
        if not (text.isascii() and text.isdigit() and len(text) <= 10) or not 1 <= int(text) <= INT32_MAX:
            self._fail(f"expected a whole number from 1 to {INT32_MAX}, got {brief(text)!r}")
            return None
        return int(text)

    def do_count(self, arg: str) -> None:
        """count [FILTER] | count by FIELD|day(FIELD)|hour(FIELD) [where FILTER]: how many match (per value)."""
        text = arg.strip()
        by = _COUNT_BY.fullmatch(text)
        if by is not None:
            field, rest = by.group("field"), by.group("rest")
            where = _WHERE.fullmatch(rest) if rest is not None else None
            if field is None or (rest is not None and where is None):
                self._fail("expected 'count by FIELD' or 'count by FIELD where FILTER'" + _option_hint(rest or ""))
                return
            self._count_by(field, where.group("filter") if where is not None else "")
            return
        if _WHERE.match(text):  # count where F, as after count by FIELD: the filter alone counts
            self._fail("count takes the filter itself: 'count FILTER' (a 'where' only follows 'count by FIELD')")
            return
        store = self.engine.store(self.kind)
        total = store.count(parse_filter(text, self.kind, zone=self.zone))
        write_mapping(self.format, {"kind": self.kind.value, "count": total}, self.out)

    def _count_by(self, field: str, filter_text: str) -> None:
        store = self.engine.store(self.kind)
        node = parse_filter(filter_text, self.kind, zone=self.zone)
        catalog = COUNTABLE[self.kind]
        bucket = None
        try:
            unit, field = bucketed(field) or (None, field)
            if unit is None:
                name = lookup(catalog, field).name  # an entry field too: TableName of DMS logs
            else:
                spec = time_field(unit, field, catalog)
                name, bucket = spec.name, bucket_of(unit, spec, self.zone)
        except (UnknownField, ValueError) as exc:
            self._fail(str(exc))
            return
        rows: list[tuple[Any, int]]
        if bucket is not None:  # counted by time, then added up per day or hour (timebuckets.py)
            rows, name = regroup(store.count_by(node, name), bucket), f"{unit}({name})"
        else:
            encode = _WIRE_ENCODERS[self.kind].get(name, _same)  # a DMS time, entries: as the API writes them
            rows = [(None if value is None else encode(value), count) for value, count in store.count_by(node, name)]
        if self.format is Format.TABLE:  # Sddp times in the session's zone, as query tables show them
            shown = [[_count_cell(name, v, self.zone), str(c)] for v, c in rows]
            self.out.write(table(shown, [name, "count"], output_encoding(self.out), whole=True) + "\n" if rows else "(no records)\n")
        elif self.format is Format.JSON:
            self.out.write(dumps([{name: v, "count": c} for v, c in rows]) + "\n")
        elif self.format is Format.JSONL:
            for value, count in rows:
                self.out.write(dumps({name: value, "count": count}, pretty=False) + "\n")
        else:
            write_row = row_writer(self.out)  # a value holding a lone \r is quoted, as the CSV reader needs
            write_row([name, "count"])
            for value, count in rows:
                write_row([to_cell(value), str(count)])

    def do_explain(self, arg: str) -> None:
        """explain [FILTER]: the plan the store runs for FILTER on the current kind."""
        text = arg.strip()
        plan = self.engine.explain(self.kind, text, zone=self.zone)
        write_plan(self.format, self.kind, text, plan, self.out)

    def do_call(self, arg: str) -> None:
        """call ACTION Name=Value ...: one API call (quote values with spaces)."""
        try:
            words = shlex.split(arg)
        except ValueError:  # an unclosed quote (shlex's only error)
            self._fail(f"call: a quote is not closed: {brief(arg.strip())}")
            return
        if not words:
            self._fail("expected 'call ACTION Name=Value ...'")
            return
        pairs: list[tuple[str, str]] = []
        for word in words[1:]:
            name, sep, value = word.partition("=")
            if not sep or not name:
                self._fail(f"expected Name=Value, got {word!r}" + _option_hint(word))
                return
            pairs.append((name, value))
        params = parameters(pairs, "call")
        try:
            body = self.engine.call(words[0], params)
        except ApiError as exc:
            if exc.code != NOT_FOUND:
                raise
            # the action as read (unquoted), which the hint's nearest name is looked up from
            self._fail(f"{exc.http_status} {exc.code}: {exc.message} {not_found_hint(words[0])}")
            return
        operation = OPERATIONS.get(words[0])
        if self.format is Format.JSON or operation is None:
            self.out.write(dumps(body) + "\n")
            return
        items = body.get(operation.list_key, [])
        envelope = {k: v for k, v in body.items() if k != operation.list_key}
        write_items(self.format, operation.kind, items, self.out, envelope, self.zone, self.columns.get(operation.kind))

    def do_format(self, arg: str) -> None:
        """format table|json|jsonl|csv: how results print (any letter case, as the kinds)."""
        try:
            self.format = Format(arg.strip().lower())
        except ValueError:
            self._fail(f"expected one of {', '.join(f.value for f in Format)}, got {arg.strip()!r}")

    def do_columns(self, arg: str) -> None:
        """columns [A,B,...]: the columns of the kind's tables, in order (none: the default ones)."""
        text = arg.strip()
        if not text:
            self.columns.pop(self.kind, None)
            return
        # errors of the command's name (columns: ...), as the option's name the one-shot commands'
        self.columns[self.kind] = table_columns(self.kind, column_names(text, "columns"), "columns")

    def do_kinds(self, arg: str) -> None:
        """kinds: how many records each kind holds."""
        if not self._no_argument("kinds", arg):
            return
        write_mapping(self.format, {k.value: len(self.engine.store(k)) for k in RecordKind}, self.out)

    def do_help(self, arg: str) -> None:
        """help [COMMAND]: what each command does, or what one does."""
        name = arg.strip()
        if name and getattr(getattr(self, f"do_{name}", None), "__doc__", None) is None:
            self._fail(f"no help on {name!r} (try 'help')")
        elif name:
            super().do_help(name)
        else:  # each command's line, in the order they are defined here (cmd's would list names alone)
            lines = [getattr(self, command).__doc__ for command in vars(Shell) if command.startswith("do_")
                     and command != "do_EOF"]
            self.out.write("commands ('help COMMAND' for one):\n" + "".join(f"  {line}\n" for line in lines))

    def do_quit(self, arg: str) -> bool:
        """quit: end the session (so does exit, or the end of input)."""
        return self._no_argument("quit", arg)

    def do_exit(self, arg: str) -> bool:
        """exit: end the session (so does quit, or the end of input)."""
        return self._no_argument("exit", arg)

    def _no_argument(self, command: str, arg: str) -> bool:
        """Whether ``arg`` is empty, as a command that takes none needs; else an error line (a
        word after it is not dropped unread)."""
        if arg.strip():
            self._fail(f"{command!r} takes no argument, got {brief(arg.strip())!r}")
            return False
        return True

    def do_EOF(self, arg: str) -> bool:  # noqa: N802 - the name cmd gives the end of input
        if isinstance(self.stdin, _Script) and not self.stdin.ended:  # a line of the script reading EOF
            self._fail("unknown command 'EOF' (try 'help'; quit or exit ends the session)")
            return False
        if self.use_rawinput:
            self.out.write("\n")
        return True


class _Script(io.TextIOWrapper):
    """A script's lines, telling its end from a line that reads ``EOF``: ``cmd`` runs both as
    ``do_EOF``, and such a line ended the session, the commands after it not run, unsaid."""

    ended = False

    def readline(self, size: int = -1, /) -> str:  # type: ignore[override]  # (typeshed: _IOBase's, in bytes)
        line = super().readline(size)
        self.ended = not line
        return line


@contextlib.contextmanager
def _history(interactive: bool, typed: Callable[[], int]) -> Iterator[None]:
    """Keep ``readline`` history across interactive sessions (nothing for a script): each
    session appends the lines typed in it (``typed()`` of them, counted as they are read: a
    history that ``history-size`` in ``~/.inputrc`` keeps short stops growing, so its length
    cannot tell), so two sessions at once both keep theirs."""
    if not interactive:
        yield
        return
    try:
        import readline
    except ImportError:  # a Python without readline: a session without history
        yield
        return
    path = HISTORY.expanduser()
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    try:
        yield
    finally:
        added = min(typed(), readline.get_current_history_length())
        readline.set_history_length(_HISTORY_LINES)
        # Appended, not rewritten: a session that ended meanwhile keeps its lines. The file is
        # then cut to its last _HISTORY_LINES lines (readline does so after an append).
        with contextlib.suppress(OSError):
            if not path.exists():
                path.touch(mode=0o600)
            if not hasattr(readline, "append_history_file"):  # a readline without append_history
                readline.write_history_file(path)
            elif added > 0:
                readline.append_history_file(min(added, _HISTORY_LINES), path)


def run(
    engine: Engine, fmt: Format, out: IO[str], stdin: IO[str] | None = None, zone: dt.tzinfo = times.UTC,
    err: IO[str] | None = None,
) -> int:
    """A session over ``engine``, reading commands from ``stdin`` until ``quit`` or its end;
    ``zone`` (``--tz``) as the one-shot commands take it. Results go to ``out``, failures to
    ``err``. The exit status: 0, or 1 for a script (not a terminal) in which a command failed,
    so that a failed step is seen by whatever ran it; its other commands still ran."""
    stdin = stdin if stdin is not None else sys.stdin
    interactive = bool(getattr(stdin, "isatty", lambda: False)()) and stdin is sys.stdin
    buffer = getattr(stdin, "buffer", None)
    if not interactive and buffer is not None:  # a script is UTF-8 (its mark is dropped), whatever the locale
        stdin = _Script(buffer, encoding="utf-8", errors="surrogateescape")
    shell = Shell(engine, fmt, stdin, out, interactive, zone, err)
    with _history(interactive, lambda: shell.typed):
        if interactive:
            counts = ", ".join(f"{len(engine.store(k))} {k.value}" for k in RecordKind)
            out.write(f"dsc-engine shell: {counts}; using {shell.kind.value}. Type 'help' for commands, 'quit' to leave.\n")
        serve(shell, interactive, out)
    return 1 if shell.failures and not interactive else 0


def serve(shell: Shell, interactive: bool, out: IO[str]) -> None:
    """Run the session's commands until it ends. On a terminal, Ctrl-C abandons the line being
    typed or the command under way and the session goes on, as at Python's own prompt; a
    script is stopped by it (``KeyboardInterrupt``: the CLI exits 130)."""
    while True:
        try:
            shell.cmdloop()
            return
        except KeyboardInterrupt:
            if not interactive:
                raise
            out.write("\ninterrupted ('quit' leaves the session)\n")


__all__ = ["HISTORY", "Shell", "run"]
