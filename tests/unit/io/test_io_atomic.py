"""replacing: a file is replaced whole or left as it was, with ordinary permissions."""

from __future__ import annotations

import errno
import io
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from dsc_engine.errors import OutputError
from dsc_engine.io.atomic import replacing


def test_replacing_writes_text_and_bytes_whole(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    with replacing(target) as out:
        out.write("new\nlines ü\n")
        assert target.read_text(encoding="utf-8") == "old"  # not replaced before the block ends
    assert target.read_bytes() == "new\nlines ü\n".encode()
    with replacing(tmp_path / "out.bin", binary=True) as raw:
        raw.write(b"\x00\xff")
    assert (tmp_path / "out.bin").read_bytes() == b"\x00\xff"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin", "out.txt"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), replacing(target) as out:
        out.write("half")
        raise RuntimeError("stopped")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_the_file_gets_the_permissions_a_plain_open_gives(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        with replacing(tmp_path / "out.txt") as out:
            out.write("x")
        plain = tmp_path / "plain"
        plain.write_text("x", encoding="utf-8")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "out.txt").stat().st_mode) == stat.S_IMODE(plain.stat().st_mode) == 0o640


@pytest.mark.parametrize("what", ["pipe", "folder", "link to a pipe"])
def test_a_target_that_is_not_a_regular_file_is_refused_and_left_as_it_is(tmp_path: Path, what: str) -> None:
    """Replacing renames a new file over the target: over a device (``/dev/null`` when run as
    root), a named pipe or a folder that would destroy it, or fail only after the whole write,
    naming the temporary file. Such a target is refused before anything is written."""
    from dsc_engine.errors import OutputError
    from dsc_engine.io import snapshot
    from dsc_engine.engine import Engine

    target = tmp_path / "out"
    if what == "folder":
        target.mkdir()
    else:
        fifo = tmp_path / "fifo"
        os.mkfifo(fifo)
        if what == "pipe":
            target = fifo
        else:
            target.symlink_to(fifo)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(OutputError, match="not a regular file: the file is saved by renaming") as refused, replacing(target) as out:
        out.write("never")
    assert refused.value.path == str(target)
    with pytest.raises(OutputError, match="not a regular file: the file is saved by renaming"):
        snapshot.save(Engine(), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert stat.S_ISDIR(target.stat().st_mode) if what == "folder" else stat.S_ISFIFO(target.stat().st_mode)


class _FullDisk(io.FileIO):
    """A file whose writes fail as on a full disk (the OS error carries no file name)."""

    def write(self, data: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("binary", [True, False])
def test_a_write_that_fails_names_the_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, binary: bool) -> None:
    """A write error (a full disk) carries no file name; the error names the file being saved,
    whether it shows in a write or only in the flush at the end."""
    from dsc_engine.errors import OutputError
    from dsc_engine.io import atomic

    monkeypatch.setattr(atomic, "FileIO", _FullDisk)
    target = tmp_path / "out.bin"
    for size in (10, 1 << 20):  # kept in the buffer until the end; written at once
        with pytest.raises(OutputError, match="out.bin: cannot write: No space left on device") as failed, \
                replacing(target, binary=binary) as out:
            out.write(b"x" * size if binary else "x" * size)  # type: ignore[arg-type]
        assert failed.value.path == str(target)
        assert list(tmp_path.iterdir()) == []


def test_an_error_of_the_block_itself_is_not_called_a_write_failure(tmp_path: Path) -> None:
    """An OS error without a file name raised by the block's own work (a read of an input that
    fails) is that error, not a failure to write the output; the output is still not replaced."""
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(OSError, match="Input/output error") as failed, replacing(target) as out:
        out.write("new")
        raise OSError(errno.EIO, "Input/output error")
    assert type(failed.value) is OSError
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    assert target.read_text(encoding="utf-8") == "old"


@pytest.mark.parametrize("move", ["seek", "truncate"])
def test_a_write_that_fails_in_a_seek_names_the_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      move: str) -> None:
    """A seek or a truncate writes out the buffer first (a snapshot seeks back to fill in a
    header, and truncates): a full disk there is a failed write of the file too, not a bare OS
    error."""
    from dsc_engine.errors import OutputError
    from dsc_engine.io import atomic

    monkeypatch.setattr(atomic, "FileIO", _FullDisk)
    target = tmp_path / "out.bin"
    with pytest.raises(OutputError, match="out.bin: cannot write: No space left on device"), \
            replacing(target, binary=True) as out:
        out.write(b"buffered")
        out.seek(0) if move == "seek" else out.truncate(0)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("binary", [True, False])
def test_an_error_of_the_block_is_not_hidden_by_the_closing_flush(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, binary: bool
) -> None:
    """When the block fails with bytes still buffered and the disk is full, the block's error
    is the one raised: the new file is dropped, so its buffer is not flushed into a failure
    that would be reported instead (a pull's damaged part called a full disk)."""
    from dsc_engine.io import atomic

    monkeypatch.setattr(atomic, "FileIO", _FullDisk)
    target = tmp_path / "out.txt"
    with pytest.raises(ValueError, match="the input is damaged"), replacing(target, binary=binary) as out:
        out.write(b"buffered" if binary else "buffered")  # type: ignore[arg-type]
        raise ValueError("the input is damaged")
    assert list(tmp_path.iterdir()) == []


def test_a_temporary_file_left_by_a_killed_save_is_not_read_with_its_folder(tmp_path: Path) -> None:
    """A save killed outright (SIGKILL, out of memory, a power cut) cannot remove its temporary
    file. Named after the target but hidden, it is skipped by a folder or glob import, so the
    folder still loads instead of failing on a truncated snapshot."""
    from dsc_engine.io import atomic, imports, snapshot
    from dsc_engine.io.stores import Stores
    from dsc_engine import sample
    from dsc_engine.models import RecordKind

    engine = Stores()
    engine.store(RecordKind.AUDIT_LOG).insert(sample.generate(RecordKind.AUDIT_LOG, 5, seed=1))
    target = tmp_path / "logs.dscsnap"
    snapshot.save(engine, target)
    descriptor, partial = atomic._temporary(target)  # what a killed save leaves: part of a snapshot
    os.write(descriptor, target.read_bytes()[:100])
    os.close(descriptor)
    assert partial.name.startswith(".logs.dscsnap.") and partial.parent == tmp_path
    for source in (tmp_path, str(tmp_path / "*")):
        report = imports.load_into(Stores(), source)
        assert report.ok and report.loaded_total == 5


@pytest.mark.skipif(os.name != "posix", reason="flock is POSIX")
def test_a_later_write_removes_what_a_killed_writer_left_and_nothing_in_use(tmp_path: Path) -> None:
    """A save killed outright left its hidden temporary file for good (400 MB for a 1M snapshot);
    the next write to the target now removes it. A temporary file a live writer holds, one just
    made, and another target's are kept."""
    import signal
    import subprocess
    import sys

    from dsc_engine.io import atomic

    target = tmp_path / "logs.dscsnap"
    child = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys, time\n"
            "from dsc_engine.io.atomic import replacing\n"
            "with replacing(sys.argv[1], binary=True) as out:\n"
            "    out.write(b'part of a snapshot'); out.flush(); print('writing', flush=True); time.sleep(60)\n"
        ), str(target)],
        stdout=subprocess.PIPE, text=True,
    )
    assert child.stdout is not None and child.stdout.readline() == "writing\n"
    child.send_signal(signal.SIGKILL)
    child.communicate()
    (killed,) = tmp_path.glob(".logs.dscsnap.*.partial")
    in_use, in_use_path = atomic._temporary(target)  # a live writer's: its lock is held
    fresh, fresh_path = atomic._temporary(target)
    os.close(fresh)  # unlocked but just made: its writer may not have locked it yet
    other, other_path = atomic._temporary(tmp_path / "logs")  # another target's
    os.close(other)
    old = os.stat(killed).st_mtime - 3600  # unwritten for an hour
    for path in (killed, in_use_path, other_path):
        os.utime(path, (old, old))
    try:
        with replacing(target) as out:
            out.write("new")
        assert target.read_text() == "new"
        assert sorted(tmp_path.glob(".*.partial")) == sorted([in_use_path, fresh_path, other_path])
    finally:
        os.close(in_use)


@pytest.mark.skipif(os.name != "posix", reason="flock is POSIX")
def test_a_write_waits_for_another_writer_looking_at_its_new_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another write to the target, removing abandoned temporary files, may lock this write's new
    one for a moment (to tell whether it is held) before this write has locked it: the write's
    lock, tried once, failed, and the write was an ``OutputError`` ("cannot be created"), its
    temporary file and descriptor left behind."""
    import fcntl
    import threading

    real_open = os.open

    def open_and_look(path: Any, flags: int, *args: Any) -> int:
        descriptor = real_open(path, flags, *args)
        if flags & os.O_EXCL and str(path).endswith(".partial"):  # the other write looks at it now
            looking = real_open(path, os.O_RDONLY)
            fcntl.flock(looking, fcntl.LOCK_EX | fcntl.LOCK_NB)
            threading.Timer(0.2, os.close, (looking,)).start()
        return descriptor

    monkeypatch.setattr(os, "open", open_and_look)
    target = tmp_path / "out.txt"
    with replacing(target) as out:
        out.write("whole")
    monkeypatch.undo()
    assert target.read_text(encoding="utf-8") == "whole"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


@pytest.mark.skipif(os.name != "posix", reason="flock is POSIX")
def test_a_file_system_without_flock_still_takes_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where ``flock`` fails (ENOLCK: an NFS mount without a lock daemon), every write was an
    ``OutputError`` and left its temporary file and descriptor behind; the lock only lets later
    writes tell abandoned files, so the write goes on without it."""
    import errno
    import fcntl

    def no_locks(descriptor: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", no_locks)
    target = tmp_path / "out.txt"
    with replacing(target) as out:
        out.write("whole")
    assert target.read_text(encoding="utf-8") == "whole"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_an_interrupt_while_looking_for_abandoned_files_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The look for abandoned temporary files ran after this write's own was made and before
    the part that removes it on failure: a Ctrl-C there left it behind."""
    from dsc_engine.io import atomic

    def interrupted(target: Path, own: Path) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic, "_remove_abandoned", interrupted)
    with pytest.raises(KeyboardInterrupt), replacing(tmp_path / "out.txt") as out:
        out.write("never")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="flock is POSIX")
def test_a_write_keeps_its_lock_until_its_file_is_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer closed its temporary file, letting go of its lock, and only then renamed it:
    another write looking for abandoned files between the two, when this one's last write was a
    minute old (a long fsync, a block that wrote early), removed it, and the rename failed."""
    from dsc_engine.io import atomic

    target = tmp_path / "logs.dscsnap"
    real_replace = os.replace

    def another_write_looks_first(source: Any, destination: Any) -> None:
        other, other_own = atomic._temporary(target)  # another writer of the same target
        try:
            atomic._remove_abandoned(target, other_own)
        finally:
            os.close(other)
            os.unlink(other_own)
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", another_write_looks_first)
    with replacing(target, binary=True) as out:
        out.write(b"a snapshot")
        out.flush()
        (partial,) = tmp_path.glob(".logs.dscsnap.*.partial")
        old = partial.stat().st_mtime - 3600  # written an hour ago
        os.utime(partial, (old, old))
    monkeypatch.undo()
    assert target.read_bytes() == b"a snapshot"
    assert [p.name for p in tmp_path.iterdir()] == ["logs.dscsnap"]


def test_a_target_whose_name_is_near_the_longest_allowed_is_written(tmp_path: Path) -> None:
    """The temporary file's name adds a dot, a random part and ``.partial`` to the target's: for
    a target name of 234 to 255 bytes that was longer than a file name may be (``File name too
    long``, naming the temporary file), although the target itself could be made. The temporary
    name is cut to fit; it is still hidden, starts like the target's and is removed after."""
    from dsc_engine.io import atomic

    for length in (233, 240, 255):
        target = tmp_path / ("b" * (length - 5) + ".snap")
        with replacing(target, binary=True) as out:
            out.write(b"whole")
        assert target.read_bytes() == b"whole"
        descriptor, partial = atomic._temporary(target)
        os.close(descriptor)
        assert partial.name.startswith(".bbb") and len(os.fsencode(partial.name)) <= 255
        partial.unlink()
    long_utf8 = tmp_path / ("é" * 125 + ".txt")  # 254 bytes: cut between two é
    with replacing(long_utf8) as text:
        text.write("x")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["b" * 228 + ".snap", "b" * 235 + ".snap", "b" * 250 + ".snap", long_utf8.name]
    )


@pytest.mark.parametrize("where", ["missing folder", "name too long", "folder removed during the write"])
def test_a_file_that_cannot_be_made_or_put_in_place_is_an_output_error_naming_the_target(
    tmp_path: Path, where: str
) -> None:
    """The temporary file cannot be created (no such folder, a name too long) or renamed into
    place (its folder was removed while it was written): an :class:`OutputError` naming the
    file asked for, not a bare OS error naming the hidden temporary file."""
    from dsc_engine.errors import OutputError

    folder = tmp_path / "sub"
    folder.mkdir()
    target = {"missing folder": tmp_path / "none" / "out.bin", "name too long": folder / ("n" * 300),
              "folder removed during the write": folder / "out.bin"}[where]
    with pytest.raises(OutputError) as failed, replacing(target, binary=True) as out:
        out.write(b"data")
        if where == "folder removed during the write":
            for item in folder.iterdir():
                item.unlink()
            folder.rmdir()
    assert failed.value.path == str(target) and ".partial" not in str(failed.value)


def test_a_target_name_the_system_refuses_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    """A name longer than the system allows cannot be renamed into place: it is refused when the
    target is looked up, before the block writes (a snapshot of gigabytes), not after."""
    from dsc_engine.errors import OutputError

    entered = []
    with pytest.raises(OutputError, match="cannot be looked up: File name too long"), \
            replacing(tmp_path / ("n" * 300), binary=True) as out:
        entered.append(True)
        out.write(b"data")
    assert entered == [] and list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o644])
def test_a_replaced_file_keeps_the_permissions_it_had(tmp_path: Path, mode: int) -> None:
    """A plain ``open`` over an existing file keeps that file's permissions; so must a save that
    replaces it. A snapshot of audit logs someone restricted to its owner (0o600) became readable
    by everyone (0o644 under the usual umask) when it was saved again."""
    target = tmp_path / "logs.dscsnap"
    target.write_bytes(b"old")
    os.chmod(target, mode)
    with replacing(target, binary=True) as out:
        out.write(b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == mode


def test_a_symbolic_link_stays_and_the_file_it_points_to_is_replaced(tmp_path: Path) -> None:
    # the rename put a regular file in place of the link ("latest.dscsnap -> snaps/x"), and the
    # file it pointed to was left as it was
    (tmp_path / "snaps").mkdir()
    real = tmp_path / "snaps" / "x"
    real.write_text("old")
    link = tmp_path / "latest"
    link.symlink_to(Path("snaps") / "x")
    with replacing(link) as out:
        out.write("new")
    assert link.is_symlink() and os.readlink(link) == os.path.join("snaps", "x")
    assert real.read_text() == "new"
    dangling = tmp_path / "next"
    dangling.symlink_to(Path("snaps") / "y")  # a link to a file not there yet: made, as open makes it
    with replacing(dangling) as out:
        out.write("made")
    assert dangling.is_symlink() and (tmp_path / "snaps" / "y").read_text() == "made"
    assert sorted(p.name for p in (tmp_path / "snaps").iterdir()) == ["x", "y"]


@pytest.mark.parametrize("name", ["é" * 125 + ".txt", "b" + "語" * 80 + ".snap"], ids=["two-byte", "three-byte"])
def test_a_shortened_temporary_name_never_splits_a_character(tmp_path: Path, name: str) -> None:
    """The temporary name of a long target is its name cut to fit 255 bytes; cut between the
    bytes of one character, it was not UTF-8, and a file system that takes UTF-8 names only
    (APFS, ext4 with casefold, ZFS utf8only) refused to create it. It is cut between characters."""
    from dsc_engine.io import atomic

    descriptor, partial = atomic._temporary(tmp_path / name)
    os.close(descriptor)
    partial.unlink()
    raw = os.fsencode(partial.name)
    assert len(raw) <= 255 and raw.decode("utf-8").startswith(".")
    assert name.startswith(raw.decode("utf-8")[1 : -len(".0123456789ab.partial")])


def test_a_file_this_process_may_not_write_is_refused_as_open_refuses_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the rename replaced a file made read-only (0o444) so as not to be overwritten, where a plain
    # open would have been refused; os.access is asked, so root (who may write anything) still may
    from dsc_engine.errors import OutputError

    target = tmp_path / "kept.jsonl"
    target.write_text("kept")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if Path(path) == target else real_access(path, mode))
    with pytest.raises(OutputError, match="is read-only") as refused, replacing(target) as out:
        out.write("new")
    assert refused.value.path == str(target)
    assert target.read_text() == "kept" and sorted(p.name for p in tmp_path.iterdir()) == ["kept.jsonl"]


def test_sole_writer_refuses_a_second_holder_and_takes_over_a_killed_ones_lock_file(tmp_path):
    from dsc_engine.io.atomic import sole_writer

    target = tmp_path / "out.jsonl"
    stale = tmp_path / ".out.jsonl.lock"
    stale.write_text("")  # left by a process killed while it held the lock: the lock died with it
    with sole_writer(target, "busy here"):
        with pytest.raises(OutputError, match="busy here") as caught:
            with sole_writer(target, "busy here"):
                pass
        assert caught.value.path == str(target)
    assert not stale.exists()
    with sole_writer(target, "busy here"):  # free again
        assert stale.exists()
