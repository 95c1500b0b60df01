"""Where a command writes a file it was asked for: the folder made first (``--out``, ``--rejects``,
``--snapshot``), and an export or capture (``--out``) written whole or not at all."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from dsc_engine.errors import OutputError
from dsc_engine.io.atomic import replacing


def made_parent(path: str | None) -> None:
    """Create the folder an output file goes in (with its parents), unless it is standard output."""
    if path is None or path == "-":
        return
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(path, f"cannot create its folder: {exc.strerror or exc}") from None


@contextlib.contextmanager
def output(path: str | None, out: IO[str]) -> Iterator[IO[str]]:
    """Where an export or a capture goes: ``out`` (no path, or ``-``); a file, written whole or
    not at all (a failure, a full disk or Ctrl-C, leaves the file that was there); or a device or
    named pipe (``/dev/stdout``), written as it is."""
    if path is None or path == "-":
        yield out
        return
    made_parent(path)
    if not _streamed(path):
        with replacing(path) as handle:
            yield handle
        return
    try:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            yield handle
    except BrokenPipeError:  # /dev/stdout read by a program that stopped (``| head``): as for stdout
        raise
    except OSError as exc:
        if exc.filename is not None:  # opening it, or another file: the error names it already
            raise
        raise OutputError(path, f"cannot write: {exc.strerror or exc}") from exc


def _streamed(path: str) -> bool:
    """Whether ``path`` is a device or a named pipe, which is written to, not replaced."""
    try:
        mode = os.stat(path).st_mode
    except OSError:  # nothing there yet, or nothing that can be looked up (replacing says why)
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))  # a folder is refused by replacing


__all__ = ["made_parent", "output"]
