"""replacing: a file is replaced whole or left as it was, with ordinary permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

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
