"""How the subcommands read their arguments: their parser class and the argument types they
share (argparse ``type=`` functions; ``source`` and ``record_kind`` are the serve command's, in
``server/cli.py``, which the layers keep below this package)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
from collections.abc import Iterable, Sequence
from typing import IO

from dsc_engine.api.read import INT32_MAX
from dsc_engine.cli.destination import is_standard_output
from dsc_engine.errors import UsageError
from dsc_engine.wire import times
from dsc_engine.wire.catalog import nearest


class CommandParser(argparse.ArgumentParser):
    """A subcommand's parser: positionals and options in any order, as a person writes them.

    argparse alone reads ``query audit --page 2 'UserName = "x"'`` as ``query audit`` with no
    filter (an optional positional is matched, empty, with the first one) and then refuses the
    filter as an unrecognized argument; intermixed parsing reads the options first, then the
    positionals (``--`` still ends the options: ``query audit -- '-x'``).
    """

    _intermixing = False

    def parse_known_args(  # type: ignore[override]  # typeshed's overloads; the one shape used here
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None,
    ) -> tuple[argparse.Namespace, list[str]]:
        if self._intermixing:  # parse_known_intermixed_args calls back here, once per pass
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            parsed, extras = self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False
        if extras:  # said here, under this command's usage (the top parser would show its own)
            self.error(f"unrecognized arguments: {' '.join(extras)}{self._hint(extras)}")
        return parsed, extras

    def _hint(self, extras: list[str]) -> str:
        """What the words left over most likely meant: request parameters written without
        ``--param`` (as the shell's ``call`` takes them), or a filter not quoted as one argument."""
        if "--param" in self._option_string_actions and any(_NAME_VALUE.match(word) for word in extras):
            return " (request parameters are given as --param Name=Value)"
        if any(action.dest == "filter" for action in self._actions) and not any(w.startswith("-") for w in extras):
            return """ (a filter is one argument: quote it whole, 'UserName = "admin"')"""
        return ""


class ProgramParser(argparse.ArgumentParser):
    """The program's parser (``dsc-engine [--format F] [--tz Z] COMMAND ...``): an option of a
    command given before the command's name (``dsc-engine --columns X query ...``) is told where it
    goes, not refused as argparse refuses it (its value read as the command: ``invalid choice: 'X'``;
    a flag as an unrecognized argument); a mistyped command, the nearest one. Options stay where argparse reads them: the program's
    own (``--format``, ``--tz``) before or after the command, a command's after its name."""

    def parse_known_args(  # type: ignore[override]  # typeshed's overloads; the one shape used here
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None,
    ) -> tuple[argparse.Namespace, list[str]]:
        words = list(sys.argv[1:] if args is None else args)
        misplaced = self._misplaced(words)
        if misplaced is not None:
            self.exit(2, f"{self.prog}: {misplaced}\n")  # argparse's exit status of a usage error
        return super().parse_known_args(words, namespace)

    def _misplaced(self, words: list[str]) -> str | None:
        """What to say of the first option before the command that is not the program's but a
        command's, or of a command's name mistyped (None: neither; argparse's own errors tell the
        rest)."""
        commands = self._commands()
        at = 0
        while at < len(words) and words[at] != "--" and words[at].startswith("-"):  # up to the command
            option, equals, _ = words[at].partition("=")
            own = self._option_string_actions.get(option)
            if own is not None:  # --format F, --tz Z (the value the next word unless =), --version, -h
                at += 2 if own.nargs is None and not equals else 1
                continue
            takers = [name for name, parser in commands.items() if option in parser._option_string_actions]
            if not takers:
                return None
            valued = not equals and any(commands[name]._option_string_actions[option].nargs is None for name in takers)
            given = words[at:at + 2] if valued else words[at:at + 1]
            command = next((word for word in words[at + len(given):] if word in commands), None)
            if command in takers:
                return f"{option} belongs after the command: {self.prog} {command} {' '.join(given)} ..."
            names = ", ".join(dict.fromkeys(commands[name].prog.split()[-1] for name in takers))
            return f"{option} is no option of {self.prog} itself: it goes after the name of a command that takes it ({names})"
        near = nearest(words[at], commands) if at < len(words) and words[at] not in commands else None
        if near is not None:  # a mistyped command (argparse lists them all, and no nearest)
            return f"unknown command {words[at]!r}; did you mean {near}? ({self.prog} --help lists them)"
        return None

    def _commands(self) -> dict[str, argparse.ArgumentParser]:
        """Each command's parser by its names (aliases too)."""
        return next((dict(action.choices) for action in self._actions
                     if isinstance(action, argparse._SubParsersAction)), {})


#: A word that reads as ``Name=Value``.
_NAME_VALUE = re.compile(r"[A-Za-z][A-Za-z0-9_.]*=")

#: What ``-`` stands for where a command reads or writes files.
STANDARD = "-"


def time_zone(text: str) -> dt.tzinfo:
    """A time zone: UTC, an offset such as ``+08:00``, or an IANA name."""
    try:
        return times.parse_zone(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def refuse_file_options(args: argparse.Namespace, data: str) -> None:
    """Refuse an option of how --data files are read (``--kind``, ``--strict``,
    ``--keep-duplicates``) when the command reads none, rather than take it and do nothing."""
    for option, value in (("--kind", args.data_kind), ("--strict", args.strict),
                          ("--keep-duplicates", args.keep_duplicates)):
        if value not in (None, False):
            raise UsageError(option, value, f"applies only to --data files, not to {data}")


def file_only(path: str | None, option: str, why: str, out: IO[str] | None = None) -> None:
    """Refuse ``-`` for an output that must be a file (a snapshot, the rejects), which would
    otherwise be written to a file named ``-``; and another name of standard output ``out``
    (``/dev/stdout`` redirected to a file), which the file would be written over, or the summary
    over the file."""
    if path == STANDARD:
        raise UsageError(option, path, f"- (standard output) cannot be used: {why}; give a file name (./- for a file named -)")
    if path is not None and out is not None and is_standard_output(path, out):
        raise UsageError(option, path, f"{path} is standard output, which cannot be used: {why}; give a file name")


def column_names(text: str, option: str = "--columns") -> tuple[str, ...]:
    """``A,B,C``: the names of a table's columns, in order (blanks around a name dropped);
    checked against the kind's item keys once the kind is known (``output.table_columns``). A
    list that is none (``,``, ``A,,B``) is a :class:`UsageError` of ``option``, as a name that is
    no column is (one line naming the option, not argparse's usage text)."""
    names = tuple(name.strip() for name in text.split(","))
    if not all(names):
        raise UsageError(option, text, f"expected column names separated by commas (UserName,SqlText), got {brief(text)!r}")
    return names


def readable(text: str) -> str:
    """An argument that is text to match or send (a filter, a request parameter), as the locale's
    encoding decoded it; bytes it could not decode (held as ``\udce9``: a Latin-1 ``é`` on a UTF-8
    terminal) are refused, as the shell refuses such a line, where they would match nothing."""
    if any("\udc80" <= char <= "\udcff" for char in text):
        encoding = sys.getfilesystemencoding()
        shown = os.fsencode(text).decode(encoding, "backslashreplace")
        raise argparse.ArgumentTypeError(f"not valid {encoding} (the locale's encoding): {brief(shown)}")
    return text


def name_value(text: str) -> tuple[str, str]:
    """``Name=Value`` (the value may be empty or hold ``=``) -> ``(name, value)``."""
    name, sep, value = readable(text).partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected Name=Value, got {text!r}")
    return name, value


def parameters(pairs: Iterable[tuple[str, str]], option: str = "--param") -> dict[str, str]:
    """``Name=Value`` pairs as one request's parameters; a name given twice is a
    :class:`UsageError` (a request holds each parameter once: the server refuses a repeated one,
    and keeping the last would answer another request than the one written)."""
    params: dict[str, str] = {}
    repeated: list[str] = []
    for name, value in pairs:
        if name in params and name not in repeated:
            repeated.append(name)
        params[name] = value
    if repeated:
        names = ", ".join(repeated)
        raise UsageError(option, names, f"a parameter is given twice ({names}); a request holds each once")
    return params


#: The most digits :func:`positive` reads (a number past the signed 64-bit range is no page,
#: size or count any command takes).
_MOST_DIGITS = 18


def brief(text: str) -> str:
    """``text`` as an error quotes it: whole up to 40 characters, else its start and its length."""
    return text if len(text) <= 40 else f"{text[:20]}... ({len(text)} characters)"


def _whole(text: str, least: int, most: int | None = None) -> int:
    """A whole number of ``least`` or more, in ASCII digits (``int()`` would also take ``"١"``,
    ``"1_0"`` and ``" 5 "``, and refuses more than 4,300 digits with a message of its own)."""
    digits = text.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):
        raise argparse.ArgumentTypeError(f"expected a whole number in digits 0-9, got {brief(text)!r}")
    if len(digits.lstrip("0")) > _MOST_DIGITS:
        raise argparse.ArgumentTypeError(f"must be at most {_MOST_DIGITS} digits, got {len(digits)}")
    value = int(text)
    if value < least:
        raise argparse.ArgumentTypeError(f"must be {least} or more, got {value}")
    if most is not None and value > most:
        raise argparse.ArgumentTypeError(f"must be {most} or less, got {value}")
    return value


def positive(text: str) -> int:
    """A whole number of 1 or more, in ASCII digits (a page, a size, a depth)."""
    return _whole(text, 1)


def page_number(text: str) -> int:
    """A page or a page size: 1 to 2,147,483,647, as a query takes it (and the shell's ``page``
    and ``size``), in ASCII digits."""
    return _whole(text, 1, INT32_MAX)


def count(text: str) -> int:
    """A whole number of 0 or more, in ASCII digits (how many retries)."""
    return _whole(text, 0)
