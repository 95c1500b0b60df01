"""Where exported logs come from: paths, folders and globs, opened as streams of bytes.

A source argument is a file, a folder (every file below it, recursively, in sorted path order) or
a glob pattern (``logs/*.jsonl.gz``, ``**`` allowed; matches in sorted order). Each file is read in
chunks, never whole: gzip is recognised by its magic bytes (not by the file name) and decompressed
on the fly. Reading problems of the bytes themselves (a cut or corrupt gzip stream, an unreadable
file) become :class:`ImportFailure` naming the file.
"""

from __future__ import annotations

import glob
import gzip
import os
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from dsc_engine.errors import ImportFailure, OutputError

CHUNK_SIZE = 1 << 16
GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"

#: Called with the number of raw (on-disk) bytes consumed since the last call.
ProgressFn = Callable[[int], None]

_GLOB_CHARS = frozenset("*?[")


def expand(sources: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The files a source argument names, in load order (CONTRACT.md section 4).

    Sources load in the order given; a folder or glob loads its files in sorted path order.
    Hidden files (a name starting with ``.``) inside a folder are skipped. A source that names
    nothing is an :class:`ImportFailure`.
    """
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    files: list[Path] = []
    for source in sources:
        text = os.fspath(source)
        path = Path(text)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                raise ImportFailure(text, "folder holds no files")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        elif _GLOB_CHARS & set(text):
            matches = sorted(Path(m) for m in glob.glob(text, recursive=True) if Path(m).is_file())
            if not matches:
                raise ImportFailure(text, "pattern matches no files")
            files.extend(matches)
        else:
            raise ImportFailure(text, "no such file or folder")
    return files


def refuse_overwrite(output: str | os.PathLike[str] | None, inputs: Iterable[Path], what: str) -> None:
    """Raise :class:`OutputError` when ``output`` is one of ``inputs``, under any name.

    Called before anything is opened: a file to write (``what``: "the rejects file", "the
    snapshot" ...) that is also a source would be truncated before it is read. The same file is
    told by device and inode when it exists (so a symlink, a hard link or ``./x`` is caught), else
    by its resolved path.
    """
    if output is None or os.fspath(output) == "-":
        return
    name = os.fspath(output)
    try:
        target: object = _identity(os.stat(name))
    except OSError:
        target = Path(name).resolve()
    for source in inputs:
        try:
            same = _identity(os.stat(source)) == target
        except OSError:
            same = Path(source).resolve() == target
        if same:
            raise OutputError(name, f"{what} is one of the sources ({source}); writing it would destroy that input")


def _identity(status: os.stat_result) -> tuple[int, int]:
    return status.st_dev, status.st_ino


def total_size(files: Iterable[Path]) -> int:
    """The on-disk size of the files, for progress reporting."""
    return sum(p.stat().st_size for p in files)


def open_binary(path: Path) -> BinaryIO:
    """Open a file for reading; an OS error becomes an :class:`ImportFailure`."""
    try:
        return open(path, "rb")
    except OSError as exc:
        raise ImportFailure(str(path), f"cannot open: {exc.strerror or exc}") from exc


def is_gzip(raw: BinaryIO) -> bool:
    """Whether the stream starts with the gzip magic bytes (the position is kept)."""
    start = raw.tell()
    head = raw.read(2)
    raw.seek(start)
    return head == GZIP_MAGIC


def chunks(path: Path, progress: ProgressFn | None = None) -> Iterator[bytes]:
    """The decompressed content of a file, in chunks of about :data:`CHUNK_SIZE` bytes.

    A gzip stream that ends early or is corrupt raises :class:`ImportFailure` at the point where
    it breaks; the chunks before it have been yielded already.
    """
    with open_binary(path) as raw:
        compressed = is_gzip(raw)
        stream: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw  # type: ignore[assignment]
        position = 0
        while True:
            try:
                chunk = stream.read(CHUNK_SIZE)
            except EOFError as exc:
                raise ImportFailure(
                    str(path), "gzip data is truncated (the compressed stream ends early)"
                ) from exc
            except (gzip.BadGzipFile, zlib.error) as exc:
                raise ImportFailure(str(path), f"gzip data is corrupt: {exc}") from exc
            except OSError as exc:
                raise ImportFailure(str(path), f"cannot read: {exc}") from exc
            if progress is not None:
                now = raw.tell()
                progress(now - position)
                position = now
            if not chunk:
                return
            yield chunk


def lines(parts: Iterable[bytes]) -> Iterator[bytes]:
    """Split a chunk stream into lines (each without its ``\\n``; a final ``\\r`` is kept)."""
    pending = b""
    for part in parts:
        pending += part
        pieces = pending.split(b"\n")
        pending = pieces.pop()
        yield from pieces
    if pending:
        yield pending


def strip_bom(first: bytes) -> bytes:
    """Drop a leading UTF-8 byte order mark (spreadsheets write one)."""
    return first[len(UTF8_BOM) :] if first.startswith(UTF8_BOM) else first


def decode_line(raw: bytes) -> str:
    """Decode one line as UTF-8; raise ``ValueError`` with the byte offset when it is not."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"not valid UTF-8 (byte {exc.start + 1} of the line is 0x{raw[exc.start]:02x}); "
            "exports must be UTF-8 encoded"
        ) from None
