"""Where exported logs come from: paths, folders and globs, opened as streams of bytes.

A source argument is a file, a folder (every file below it, recursively, in sorted path order) or
a glob pattern (``logs/*.jsonl.gz``, ``**`` allowed; matches in sorted order); a named pipe or a
character device given by name is read as a stream too. Folders and ``**`` follow symlinked
folders but never into one already walked (so a symlink loop ends), and each distinct file (told
by device and inode) is read once per import, under the first name that reaches it
(docs/formats.md, "What can be imported").

Each file is read in chunks, never whole: gzip is recognised by its magic bytes (not by the file
name) and decompressed on the fly; nothing seeks, so pipes work. Lines longer than
:data:`MAX_LINE` bytes are read past, not held: :func:`lines` yields a :class:`LongLine` in
their place. Reading problems of the bytes themselves (a cut or corrupt gzip stream, an
unreadable file) become :class:`ImportFailure` naming the file.
"""

from __future__ import annotations

import errno
import fnmatch
import glob
import gzip
import itertools
import os
import stat
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import attrs

from dsc_engine.errors import ImportFailure, OutputError

CHUNK_SIZE = 1 << 16
GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
#: The longest line (bytes, after gunzipping) of JSON Lines or CSV; a longer one is rejected.
MAX_LINE = 1 << 26
#: How many bytes of an over-long line are kept, to show in its reject.
LONG_LINE_KEPT = 1 << 20

#: Called with the number of raw (on-disk) bytes consumed since the last call.
ProgressFn = Callable[[int], None]

_GLOB_CHARS = frozenset("*?[")
_Identity = tuple[int, int]


# ---------------------------------------------------------------------------------------------
# Which files
# ---------------------------------------------------------------------------------------------


#: How a command line names standard input as a source (``dsc-engine load -``, ``--data -``).
STANDARD_INPUT = "-"


def from_command_line(text: str) -> str:
    """A source as a command line gives it: ``-`` is standard input (its device name,
    ``/dev/stdin``, read as a named pipe is, once, front to back); anything else is the path,
    folder, glob or URL it names (a file named ``-`` is ``./-``). ``ValueError`` when there is no
    standard input to read."""
    if text != STANDARD_INPUT:
        return text
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):  # closed, or none at all (sys.stdin is None)
        raise ValueError("- (standard input): there is no standard input to read") from None
    return "/dev/stdin" if fd == 0 else f"/dev/fd/{fd}"


def expand(sources: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The files a source argument names, in load order (docs/formats.md).

    Sources load in the order given; a folder or glob loads its files in sorted path order.
    Hidden files (a name starting with ``.``) inside a folder are skipped, and only regular files
    are taken from folders and globs; a pipe or character device counts only when named itself.
    A file reached again (another name, a symlink, a hard link) is left out. A source that names
    nothing is an :class:`ImportFailure`.
    """
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    files: list[Path] = []
    seen: set[_Identity] = set()
    for source in sources:
        text = os.fspath(source)
        path = Path(text)
        if not text:  # Path("") is the current folder: an unset variable must not load all of it
            raise ImportFailure("''", "an empty path names no file or folder (write . for the current folder)")
        try:
            found = _named(text, path)
            identities = [(file, _identity(file.stat() if not _dangling(file) else file.lstat())) for file in found]
        except OSError as exc:  # a name too long, a folder on the way that cannot be entered
            raise ImportFailure(text, f"cannot be looked up: {exc.strerror or exc}") from None
        for file, identity in identities:
            if identity not in seen:
                seen.add(identity)
                files.append(file)
    return files


def _named(text: str, path: Path) -> list[Path]:
    """The files one source names (:func:`expand`); ``OSError`` when it cannot be looked up
    (``Path.is_dir`` and ``exists`` answer ``False`` only for a name that is not there)."""
    if path.is_dir():
        found = list(_walk(path))
        if not found:
            raise ImportFailure(text, "folder holds no files")
    elif path.exists():
        found = [path]
        if not (path.is_file() or is_stream(path)):
            raise ImportFailure(text, "not a file, folder, pipe or character device")
    elif _dangling(path):  # there, but not readable: a file error of its own, as in a folder
        found = [path]
    elif _GLOB_CHARS & set(text):
        found = _glob(text)
        if not found and any(Path(match).is_dir() for match in glob.iglob(text)):  # 'exports/*' of subfolders
            raise ImportFailure(text, "pattern matches only folders, and a pattern takes only the files it matches;"
                                      " match the files in them (exports/*/*) or name each folder")
        if not found:
            raise ImportFailure(text, "pattern matches no files")
    else:
        raise ImportFailure(text, "no such file or folder")
    return found


def is_stream(path: Path) -> bool:
    """Whether ``path`` is a named pipe or a character device (read once, front to back)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


def _identity(status: os.stat_result) -> _Identity:
    return status.st_dev, status.st_ino


def _entries(folder: Path) -> list[tuple[str, Path]]:
    try:
        names = sorted(entry.name for entry in os.scandir(folder))
    except OSError as exc:
        raise ImportFailure(str(folder), f"cannot list the folder: {exc.strerror or exc}") from None
    return [(name, folder / name) for name in names]


def _tree(root: Path) -> Iterator[tuple[Path, bool]]:
    """``(path, is_folder)`` for ``root`` and everything below it that is not hidden, depth first
    in sorted order, following symlinked folders except into a folder already walked."""
    visited = {_identity(root.stat())}
    yield root, True
    stack = [iter(_entries(root))]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        name, path = entry
        if name.startswith("."):
            continue
        try:
            status = path.stat()
        except OSError:  # a dangling symlink: a file that cannot be read, reported as one
            if _dangling(path):
                yield path, False
            continue
        if stat.S_ISDIR(status.st_mode):
            identity = _identity(status)
            if identity not in visited:
                visited.add(identity)
                yield path, True
                stack.append(iter(_entries(path)))
        else:
            yield path, False


def _walk(root: Path) -> Iterator[Path]:
    """Every regular file below ``root`` (see :func:`_tree`), in sorted path order."""
    return (path for path, folder in _tree(root) if not folder and (path.is_file() or _dangling(path)))


def _dangling(path: Path) -> bool:
    """Whether ``path`` is a symlink to nothing: in a folder or a glob's matches, a file that
    cannot be read (a file error, never left out unsaid)."""
    return path.is_symlink() and not path.exists()


def _glob(pattern: str) -> list[Path]:
    """The regular files ``pattern`` matches, sorted: the matching rules of ``glob.glob(pattern,
    recursive=True)`` (``*``, ``?`` and ``[...]`` within a name, never a hidden one unless the
    pattern part starts with ``.``; ``**`` alone is zero or more folders), but ``**`` walks each
    folder once (:func:`_tree`), so symlink loops end."""
    if pattern.endswith(("/", os.sep)):  # only folders match
        return []
    path = Path(pattern)
    parts = list(path.parts)
    split = next((i for i, part in enumerate(parts) if _GLOB_CHARS & set(part)), len(parts))
    base = Path(*parts[:split]) if split else Path()
    matches = {p for p in _select(base, parts[split:]) if p.is_file() or _dangling(p)}
    return sorted(matches)


def _select(base: Path, parts: list[str]) -> Iterator[Path]:
    if not parts:
        yield base
        return
    part, rest = parts[0], parts[1:]
    if not base.is_dir():
        return
    if part == "**":
        for path, folder in _tree(base):
            if not rest:
                yield path
            elif folder:
                yield from _select(path, rest)
    elif _GLOB_CHARS & set(part):
        for name, path in _entries(base):
            if fnmatch.fnmatch(name, part) and (not name.startswith(".") or part.startswith(".")):
                if not rest:
                    yield path
                elif path.is_dir():
                    yield from _select(path, rest)
    else:
        path = base / part
        if not rest:
            yield path
        elif path.is_dir():
            yield from _select(path, rest)


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


def total_size(files: Iterable[Path]) -> int:
    """The on-disk size of the files, for progress reporting (0 for a pipe or device, and for
    what cannot be looked up: its reader reports it)."""
    return sum(_size_of(p) for p in files)


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


# ---------------------------------------------------------------------------------------------
# Bytes
# ---------------------------------------------------------------------------------------------


def open_binary(path: Path) -> BinaryIO:
    """Open a file for reading; an OS error becomes an :class:`ImportFailure`."""
    try:
        return open(path, "rb")
    except OSError as exc:
        if _dangling(path):
            target = os.readlink(path)
            what = "in a loop of symlinks" if exc.errno == errno.ELOOP else "which is not there"
            raise ImportFailure(str(path), f"cannot open: a symlink to {target}, {what}") from exc
        raise ImportFailure(str(path), f"cannot open: {exc.strerror or exc}") from exc


class _Counted:
    """A file's bytes as read, counted, with its first bytes looked at before they are read
    (a pipe cannot seek back to them)."""

    def __init__(self, raw: BinaryIO, read: Callable[[int], bytes] | None = None) -> None:
        self._raw = raw
        self._read = read or raw.read  # a gzip layer's read1 (:func:`_content`)
        self._head = b""
        self.count = 0

    def sniff(self, size: int) -> bytes:
        """The first ``size`` bytes (fewer at the end of the file), left to be read again."""
        while len(self._head) < size:
            more = self._read(size - len(self._head))
            if not more:
                break
            self._head += more
            self.count += len(more)
        return self._head[:size]

    def read(self, size: int = -1) -> bytes:
        taken = b""
        if self._head:
            taken = self._head if size < 0 else self._head[:size]
            self._head = self._head[len(taken) :]
            if len(taken) == size:
                return taken
            size = size if size < 0 else size - len(taken)
        data = self._read(size)
        self.count += len(data)
        return taken + data if taken else data


def chunks(path: Path, progress: ProgressFn | None = None) -> Iterator[bytes]:
    """The decompressed content of a file, in chunks of about :data:`CHUNK_SIZE` bytes.

    A gzip stream that ends early or is corrupt raises :class:`ImportFailure` at the point where
    it breaks; the chunks before it have been yielded already. Gzip'd content that is itself
    gzip'd (a gzip of a gzip) is gunzipped again, as many times as it starts with the magic bytes.
    """
    with open_binary(path) as raw:
        counted = _Counted(raw)
        try:
            read = _content(path, counted)
        except (EOFError, OSError, zlib.error) as exc:
            raise _read_error(path, exc) from exc
        position = 0
        while True:
            try:
                chunk = read(CHUNK_SIZE)
            except (EOFError, OSError, zlib.error) as exc:
                raise _read_error(path, exc) from exc
            if progress is not None:
                progress(counted.count - position)
                position = counted.count
            if not chunk:
                return
            yield chunk


#: The most gzip layers a file is gunzipped through (each one is a few calls deeper a read).
GZIP_LAYERS = 8


def _content(path: Path, counted: _Counted) -> Callable[[int], bytes]:
    """How to read a file's content: its bytes, gunzipped once for each gzip layer that its
    content starts with (told by the magic bytes, never by the name), up to :data:`GZIP_LAYERS`."""
    layer = counted
    for depth in itertools.count():
        if layer.sniff(len(GZIP_MAGIC)) != GZIP_MAGIC:
            break
        if depth == GZIP_LAYERS:
            raise ImportFailure(str(path), f"gzip'd more than {GZIP_LAYERS} times over: gunzip it first")
        # typeshed wants fileobj.seek, which GzipFile calls only when it is sought
        stream = gzip.GzipFile(fileobj=layer, mode="rb")  # type: ignore[call-overload]
        # read1: what one read of the compressed bytes gives, so that the data before a fault
        # is handed on before the read that meets it (read() would drop what it had gathered)
        layer = _Counted(stream, stream.read1)
    return layer.read


def _read_error(path: Path, exc: BaseException) -> ImportFailure:
    """The file error of a fault met reading a file's bytes or gunzipping them."""
    if isinstance(exc, EOFError):
        return ImportFailure(str(path), "gzip data is truncated (the compressed stream ends early)")
    if isinstance(exc, (gzip.BadGzipFile, zlib.error)):
        return ImportFailure(str(path), f"gzip data is corrupt: {exc}")
    return ImportFailure(str(path), f"cannot read: {getattr(exc, 'strerror', None) or exc}")


# ---------------------------------------------------------------------------------------------
# Lines
# ---------------------------------------------------------------------------------------------


@attrs.frozen
class LongLine:
    """A line longer than the limit: its first bytes and its length (the rest was read past)."""

    head: bytes
    length: int
    limit: int

    @property
    def reason(self) -> str:
        return f"the line is {self.length} bytes long, over the limit of {self.limit} bytes"


class Unended(bytes):
    """The last line of a file that does not end with a line end: a file cut short, or one still
    being written. It reads as any line; an error in it adds :data:`UNENDED`."""

    __slots__ = ()


#: What a line that cannot be read adds when it is :class:`Unended`.
UNENDED = "; the last line has no line end: the file is cut short, or still being written"


def lines(parts: Iterable[bytes]) -> Iterator[bytes | LongLine]:
    """Split a chunk stream into lines (each without its ``\\n``; a final ``\\r`` is kept; the
    last one is :class:`Unended` when the stream does not end with ``\\n``).

    Linear in the input however long a line is: the pieces of a line that spans chunks are
    joined once, when it ends. A line longer than :data:`MAX_LINE` bytes is not held: once past
    the limit only its first :data:`LONG_LINE_KEPT` bytes are kept, the rest is counted, and a
    :class:`LongLine` takes its place.
    """
    limit = MAX_LINE
    pending: list[bytes] = []  # the pieces of an unfinished line within the limit
    size = 0
    head: bytes | None = None  # the kept bytes of an unfinished line past the limit
    length = 0
    for part in parts:
        pieces = part.split(b"\n")
        rest = pieces.pop()
        if pieces:
            first = pieces[0]
            if head is not None:
                yield LongLine(head, length + len(first), limit)
                head = None
            elif pending:
                size += len(first)
                pending.append(first)
                yield b"".join(pending) if size <= limit else _long(pending, size, limit)
                pending, size = [], 0
            else:
                yield first if len(first) <= limit else _long([first], len(first), limit)
            if len(part) <= limit:
                yield from pieces[1:]
            else:  # a part longer than the limit may hold long lines
                for piece in pieces[1:]:
                    yield piece if len(piece) <= limit else _long([piece], len(piece), limit)
        if not rest:
            continue
        if head is not None:
            length += len(rest)
            continue
        pending.append(rest)
        size += len(rest)
        if size > limit:
            head, length = _long(pending, size, limit).head, size
            pending, size = [], 0
    if head is not None:
        yield LongLine(head, length, limit)
    elif pending:
        yield Unended(b"".join(pending)) if size <= limit else _long(pending, size, limit)


def _long(pieces: list[bytes], length: int, limit: int) -> LongLine:
    keep = min(LONG_LINE_KEPT, limit)
    kept: list[bytes] = []
    held = 0
    for piece in pieces:
        if held >= keep:
            break
        kept.append(piece[: keep - held])
        held += len(kept[-1])
    return LongLine(b"".join(kept), length, limit)


def strip_bom(first: bytes) -> bytes:
    """Drop the UTF-8 byte order marks that lead ``first`` (spreadsheets write one; files joined
    with ``cat``, an empty one among them, can put two in a row)."""
    while first.startswith(UTF8_BOM):
        first = first[len(UTF8_BOM) :]
    return first


def decode_line(raw: bytes) -> str:
    """Decode one line as UTF-8; raise ``ValueError`` with the byte offset when it is not."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"not valid UTF-8 (byte {exc.start + 1} of the line is 0x{raw[exc.start]:02x}); "
            "exports must be UTF-8 encoded"
        ) from None
