"""Where a command writes a file it was asked for: the folder made first (``--out``, ``--rejects``,
``--snapshot``), and an export or capture (``--out``) written whole or not at all, gzip'd when its
name ends with ``.gz``."""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO

from dsc_engine.errors import OutputError
from dsc_engine.io.atomic import replacing


def made_parent(path: str | None) -> None:
    """Create the folder an output file goes in (with its parents), unless it is standard output."""
    if path is None or path == "-":
        return
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:  # a name on the way is a file's ("File exists")
        blocking = _a_file_on_the_way(Path(path).parent)
        reason = f"{blocking} is a file, not a folder" if blocking is not None else exc.strerror or str(exc)
        raise OutputError(path, f"cannot create its folder: {reason}") from None
    except OSError as exc:
        raise OutputError(path, f"cannot create its folder: {exc.strerror or exc}") from None


def _a_file_on_the_way(folder: Path) -> Path | None:
    """The first of ``folder`` and the folders above it that is something else than a folder."""
    for part in reversed((folder, *folder.parents)):
        if part.exists() and not part.is_dir():
            return part
    return None


def is_standard_output(path: str | None, out: IO[str]) -> bool:
    """Whether ``path`` names standard output: none, ``-``, or another name of the file ``out``
    writes to (``/dev/stdout``, ``/dev/fd/1``, the file standard output is redirected to)."""
    if path is None or path == "-":
        return True
    try:
        return os.path.samestat(os.stat(path), os.fstat(out.fileno()))
    except (AttributeError, OSError, ValueError):  # no such file, or ``out`` is no file (a StringIO)
        return False


@contextlib.contextmanager
def output(path: str | None, out: IO[str]) -> Iterator[IO[str]]:
    """Where an export or a capture goes: ``out`` (no path, or ``-``); a file, written whole or
    not at all (a failure, a full disk or Ctrl-C, leaves the file that was there); or a device or
    named pipe (``/dev/stdout``), written as it is. A name ending with ``.gz`` is written gzip'd."""
    if path is None or path == "-":
        with utf8_output(out) as handle:
            yield handle
        return
    made_parent(path)
    if not _streamed(path):
        if gzipped(path):
            with replacing(path, binary=True) as raw, _gzip_text(raw, path) as handle:
                yield handle
        else:
            with replacing(path) as handle:
                yield handle
        return
    try:
        with _written(path) as handle:
            yield handle
    except BrokenPipeError:  # /dev/stdout read by a program that stopped (``| head``): as for stdout
        raise
    except OSError as exc:
        if exc.filename is not None:  # opening it, or another file: the error names it already
            raise
        raise OutputError(path, f"cannot write: {exc.strerror or exc}") from exc


@contextlib.contextmanager
def growing(path: str) -> Iterator[IO[str]]:
    """A file written as it grows (the recording proxy's capture, flushed after each call): its
    folder made first, gzip'd when named ``.gz`` (each flush ends a gzip block, so what was
    flushed can be read while it is written)."""
    made_parent(path)
    with _written(path) as handle:
        yield handle


@contextlib.contextmanager
def _written(path: str) -> Iterator[IO[str]]:
    """``path`` opened and written as it is (not replaced): UTF-8 text with ``\\n`` line ends,
    gzip'd when its name ends with ``.gz``."""
    if gzipped(path):
        with open(path, "wb") as raw, _gzip_text(raw, path) as handle:
            yield handle
    else:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            yield handle


def gzipped(path: str) -> bool:
    """Whether an output named ``path`` is written gzip'd (its name ends with ``.gz``, in any case)."""
    return path.lower().endswith(".gz")


def without_gz(path: str) -> str:
    """``path`` without a ``.gz`` ending: the name that tells the format of what is gzip'd."""
    return path[: -len(".gz")] if gzipped(path) else path


@contextlib.contextmanager
def utf8_output(out: IO[str]) -> Iterator[IO[str]]:
    """Standard output as an export, or a command's ``json``, ``jsonl`` or ``csv`` results, are
    written to it: UTF-8 with ``\n`` line ends, whatever the locale makes of it (a Windows code
    page would refuse a Chinese user name and turn the line ends inside CSV cells into ``\r\n``;
    a GBK locale would write what the importer refuses)."""
    buffer = getattr(out, "buffer", None)
    if buffer is None:  # a text stream with no bytes below it (io.StringIO): its text is the output
        yield out
        return
    with _rewrapped(out, buffer, encoding="utf-8", newline="") as handle:
        yield handle


@contextlib.contextmanager
def shown_output(out: IO[str]) -> Iterator[IO[str]]:
    """Standard output as tables and summaries are written to it, for a person: in the locale's
    encoding, a character it cannot write shown as its escape (``\u5f20``, ``\U0001f600``) rather
    than failing the command (an ASCII locale, a GBK one and an emoji, a Windows code page)."""
    buffer, encoding = getattr(out, "buffer", None), getattr(out, "encoding", None)
    if buffer is None or not isinstance(encoding, str):  # (io.StringIO): its text is the output
        yield out
        return
    line_buffering = bool(getattr(out, "line_buffering", False))  # a terminal's: each line shown
    with _rewrapped(out, buffer, encoding=encoding, errors="backslashreplace", line_buffering=line_buffering) as handle:
        yield handle


@contextlib.contextmanager
def _rewrapped(out: IO[str], buffer: BinaryIO, **options: Any) -> Iterator[IO[str]]:
    """``out``'s bytes written through another text layer (``io.TextIOWrapper`` ``options``),
    ``out`` flushed first and left open after (standard output serves what follows)."""
    out.flush()
    handle = io.TextIOWrapper(buffer, write_through=True, **options)
    try:
        yield handle
    finally:
        handle.detach()


@contextlib.contextmanager
def _gzip_text(raw: BinaryIO, path: str) -> Iterator[IO[str]]:
    """UTF-8 text with ``\\n`` line ends, gzip'd onto ``raw`` (left open for its owner); the gzip
    header names the file without ``.gz``, as ``gzip`` writes it, and no time."""
    with gzip.GzipFile(Path(without_gz(path)).name, mode="wb", fileobj=raw, mtime=0) as zipped:
        with io.TextIOWrapper(zipped, encoding="utf-8", newline="\n") as handle:
            yield handle


def _streamed(path: str) -> bool:
    """Whether ``path`` is a device or a named pipe, which is written to, not replaced."""
    try:
        mode = os.stat(path).st_mode
    except OSError:  # nothing there yet, or nothing that can be looked up (replacing says why)
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))  # a folder is refused by replacing


__all__ = ["growing", "made_parent", "output", "shown_output", "utf8_output"]
