"""Files written whole or not at all: :func:`replacing`.

Snapshots, pull outputs, pull checkpoints and the CLI's exports and captures are written to a
temporary file of their own beside the target, flushed to disk, then renamed over it: a reader
sees the old file or the new one, never part of one, and a write that fails leaves the old file
and no temporary file behind. The new file has the permissions a plain ``open`` would give it:
those of the file it replaces, else 0o666 less the umask; a file this process may not write is
refused, as ``open`` refuses it. A symbolic link stays: the file it points to is the one replaced.

A writer holds an exclusive ``flock`` on its temporary file from its creation until it is renamed
into place. A process killed outright (SIGKILL, a power cut) cannot remove its own: the next write
to the same target removes every one of the target's temporary files that no process holds and
that has not been written for :data:`ABANDONED_AFTER` seconds (``flock`` is POSIX; elsewhere, and
on a file system that takes no locks, they stay).

A failure to create the new file, of its own writes (a full disk) or of the rename is an
:class:`~dsc_engine.errors.OutputError` naming the target; any other error raised inside the
``with`` block (a read of an input that fails) goes on unchanged, after the temporary file is
removed (what the block wrote but was not yet flushed is dropped, not written into a second
error).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator
from io import FileIO
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal, TextIO, overload

from dsc_engine.errors import OutputError

try:
    import fcntl
except ImportError:  # not POSIX: abandoned temporary files are not removed
    fcntl = None  # type: ignore[assignment]


@overload
def replacing(path: str | os.PathLike[str], *, binary: Literal[True]) -> contextlib.AbstractContextManager[BinaryIO]: ...
@overload
def replacing(path: str | os.PathLike[str], *, binary: Literal[False] = ...) -> contextlib.AbstractContextManager[TextIO]: ...
def replacing(path: str | os.PathLike[str], *, binary: bool = False) -> contextlib.AbstractContextManager[IO[Any]]:
    """A new file (UTF-8 text with ``\\n`` line ends, or ``binary``) that replaces ``path`` when
    the ``with`` block ends without an error, and is removed when it does not."""
    return _replacing(Path(path), binary)


@contextlib.contextmanager
def _replacing(target: Path, binary: bool) -> Iterator[IO[Any]]:
    mode = _checked_mode(target)
    # a symbolic link stays, and the file it points to is replaced, as a plain open would write it
    # (errors still name the path given)
    real = target.resolve() if target.is_symlink() else target
    try:
        descriptor, partial = _temporary(real)
    except OSError as exc:  # no such folder, no permission, a read-only file system
        raise OutputError(str(target), f"cannot be created: {exc.strerror or exc}") from exc
    try:
        _remove_abandoned(real, partial)
        buffer = _Writer(FileIO(descriptor, "w"), str(target))
        out: IO[Any] = buffer if binary else io.TextIOWrapper(buffer, encoding="utf-8", newline="\n")
        with out:
            if mode is not None and os.name == "posix":  # the file replaced keeps its permissions
                with _writing(buffer.target):
                    os.fchmod(buffer.fileno(), mode)
            try:
                yield out
            except BaseException:
                buffer.abandon()  # the file is removed below: closing it must not flush into a new error
                raise
            out.flush()
            with _writing(buffer.target):
                os.fsync(buffer.fileno())
            if fcntl is not None:  # renamed while its lock is held: closed first, it could be taken for abandoned
                _put_in_place(partial, real, target)
        if fcntl is None:  # a file still open cannot be renamed everywhere
            _put_in_place(partial, real, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise
    _sync_directory(real.parent)


def _put_in_place(partial: Path, real: Path, target: Path) -> None:
    try:
        os.replace(partial, real)
    except OSError as exc:  # its folder removed meanwhile, a name too long for the system
        raise OutputError(str(target), f"cannot be put in place: {exc.strerror or exc}") from exc


class _Writer(io.BufferedWriter):
    """The new file's buffer: an error of its own writes (their OS errors carry no file name),
    in a write, a flush or the flush a seek or truncate makes first, becomes an :class:`OutputError` naming
    the file being saved, so that it is told apart from the errors of whatever else the ``with``
    block does."""

    def __init__(self, raw: FileIO, target: str) -> None:
        super().__init__(raw)
        self.target = target
        self.abandoned = False

    def abandon(self) -> None:
        """Drop what is still to be written (the ``with`` block failed and the file is removed),
        so that closing the file raises no write error in place of the block's own."""
        self.abandoned = True

    def write(self, data: Any) -> int:
        if self.abandoned:
            return memoryview(data).nbytes
        with _writing(self.target):
            return super().write(data)

    def flush(self) -> None:
        if self.abandoned:
            return
        with _writing(self.target):
            super().flush()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Seek, after writing out the buffer (which may fail as a write does)."""
        with _writing(self.target):
            return super().seek(offset, whence)

    def truncate(self, size: int | None = None) -> int:
        """Truncate, after writing out the buffer (which may fail as a write does)."""
        with _writing(self.target):
            return super().truncate(size)


def check_replaceable(path: str | os.PathLike[str]) -> None:
    """Raise the :class:`OutputError` :func:`replacing` would raise, before it writes anything,
    about what is at ``path`` (a device, pipe, socket or folder; a file that may not be written):
    for a writer that does much work before it saves (a pull), so that it is told at once."""
    _checked_mode(Path(path))


@contextlib.contextmanager
def _writing(target: str) -> Iterator[None]:
    """An OS error of the new file's own writing, as an :class:`OutputError` naming ``target``."""
    try:
        yield
    except OSError as exc:
        raise OutputError(target, f"cannot write: {exc.strerror or exc}") from exc


def _checked_mode(target: Path) -> int | None:
    """The read, write and execute bits of the regular file at ``target`` (through a symlink
    too), which the new file takes as a plain ``open`` over it would keep them; ``None`` when
    there is none yet.

    Raise :class:`OutputError`, before anything is written, when ``target``:
    - is a file this process may not write (a plain ``open`` would be refused: a file made
      read-only so as not to be overwritten stays);
    - cannot be looked up (a name too long: the rename would fail only after the whole write);
    - is something other than a regular file: the rename would put a file in place of a device
      (``/dev/null``, when run as root), a named pipe or a socket, and over a folder it fails
      only after the whole write."""
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:  # nothing there yet (or no folder: creating the new file says so)
        return None
    except OSError as exc:  # a name too long, a folder on the way that cannot be entered
        raise OutputError(str(target), f"cannot be looked up: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(mode):
        folder = stat.S_ISDIR(mode)
        what, effect = ("a folder", "cannot be done") if folder else ("a device, pipe or socket", "would replace it")
        raise OutputError(str(target), f"is {what}, not a regular file: the file is saved by renaming a new file "
                          f"over it, which {effect}")
    if not os.access(target, os.W_OK):  # a plain open would be refused: a rename must not go round that
        raise OutputError(str(target), "is read-only: it is not replaced (make it writable to save over it)")
    return stat.S_IMODE(mode) & 0o777


#: The longest file name, in bytes, on the systems the engine runs on (``NAME_MAX``).
_NAME_MAX = 255


def _temporary(target: Path) -> tuple[int, Path]:
    """A new hidden file beside ``target``, named after it, that no other write can be using.

    Created like ``tempfile.mkstemp`` (a random name, ``O_EXCL``) but with the mode a plain
    ``open`` gives (0o666 less the umask), so that the file's permissions are those of any
    other file the user writes (``mkstemp`` would make it 0o600)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    stem = _stem(target)
    while True:
        # hidden, so that one a killed save leaves is not read with its folder (nor a glob's '*')
        partial = target.with_name(f".{stem}.{secrets.token_hex(6)}.partial")
        try:
            descriptor = os.open(partial, flags, 0o666)
        except FileExistsError:
            continue
        if fcntl is not None:  # held until the descriptor closes, or the process ends
            # waited for: another write looking for abandoned files may hold it for a moment; a
            # file system without locks (ENOLCK) takes the write unlocked, as elsewhere
            with contextlib.suppress(OSError):
                fcntl.flock(descriptor, fcntl.LOCK_EX)
        return descriptor, partial


#: Seconds a temporary file must have gone unwritten before another write removes it (the time
#: between its creation and its writer's ``flock`` is then long past).
ABANDONED_AFTER = 60.0


def _remove_abandoned(target: Path, own: Path) -> None:
    """Remove the temporary files of ``target`` that a killed writer left: none holds its lock and
    none was written for :data:`ABANDONED_AFTER` seconds. Best effort: a file that cannot be
    opened, locked or removed stays."""
    if fcntl is None:
        return
    pattern = re.compile(rf"\.{re.escape(_stem(target))}\.[0-9a-f]{{12}}\.partial")
    try:
        names = [name for name in os.listdir(target.parent) if pattern.fullmatch(name)]
    except OSError:
        return
    for name in names:
        path = target.parent / name
        if path == own:
            continue
        try:
            descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held by its writer: busy
            status = os.fstat(descriptor)
            if stat.S_ISREG(status.st_mode) and time.time() - status.st_mtime >= ABANDONED_AFTER:
                os.unlink(path)
        except OSError:
            pass
        finally:
            os.close(descriptor)


@contextlib.contextmanager
def sole_writer(target: Path, busy: str) -> Iterator[None]:
    """Hold, for the ``with`` block, the exclusive ``flock`` of a hidden lock file beside
    ``target`` (``.NAME.lock``): a second process asking for it while it is held gets an
    :class:`OutputError` naming ``target`` and saying ``busy``, at once. The lock file is removed
    on the way out; one a killed process left is taken over (its lock died with it). Not POSIX,
    or a file system that takes no locks: nothing is held."""
    if fcntl is None:
        yield
        return
    lock = target.with_name(f".{_stem(target)}.lock")
    while True:
        try:
            descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise OutputError(str(target), f"cannot create its lock file {lock.name}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise OutputError(str(target), busy) from None
        except OSError:  # ENOLCK: no locks on this file system
            os.close(descriptor)
            yield
            return
        try:  # the file locked is still the lock file: not one its last holder removed meanwhile
            if os.stat(lock).st_ino == os.fstat(descriptor).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(descriptor)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)
        os.close(descriptor)


def _stem(target: Path) -> str:
    """What the temporary files of ``target`` are named after: its name, cut so that a temporary
    name is no longer than a name may be (a target named near that limit can be made; its
    temporary file, 22 bytes longer, could not)."""
    return _cut(target.name, _NAME_MAX - len(".") - 12 - len("..partial"))


def _cut(name: str, most: int) -> str:
    """The longest start of ``name`` that takes at most ``most`` bytes on the file system, cut
    between characters: half a character is no UTF-8, which some file systems refuse in a name
    (APFS, ext4 with casefold, ZFS with utf8only)."""
    used = 0
    for index, char in enumerate(name):
        used += len(os.fsencode(char))
        if used > most:
            return name[:index]
    return name


def _sync_directory(directory: Path) -> None:
    """Flush the rename in ``directory`` to disk where the system allows it (POSIX). The rename
    is done and the file complete either way: a system that cannot sync a directory (some file
    systems refuse) only loses the guarantee that the rename survives a power cut."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
