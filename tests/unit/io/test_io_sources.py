"""Where imported bytes come from: folders, globs and symlinks, pipes and devices, long lines."""

from __future__ import annotations

import glob as std
import gzip
import io
import json
import os
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

from dsc_engine import sample
from dsc_engine.errors import ImportFailure
from dsc_engine.io import export, imports, snapshot, sources
from dsc_engine.wire.codec import to_wire
from dsc_engine.models import RecordKind

AUDIT = RecordKind.AUDIT_LOG


def _lines(n: int, seed: int = 3) -> str:
    return "".join(json.dumps(to_wire(r)) + "\n" for r in sample.generate(AUDIT, n, seed=seed))


def _load(source, **kwargs) -> tuple[imports.Stores, imports.ImportReport]:
    target = imports.Stores()
    return target, imports.load_into(target, source, **kwargs)


# --- folders, globs, symlinks ------------------------------------------------------------------


@pytest.fixture()
def looped(tmp_path: Path) -> Path:
    """logs/a/records.jsonl (10 records) with a/back -> logs and a/self -> a: two symlink loops."""
    logs = tmp_path / "logs"
    (logs / "a").mkdir(parents=True)
    (logs / "a" / "records.jsonl").write_text(_lines(10))
    (logs / "a" / "back").symlink_to(logs, target_is_directory=True)
    (logs / "a" / "self").symlink_to(logs / "a", target_is_directory=True)
    return logs


def test_recursive_glob_does_not_follow_symlink_loops(looped):
    files = sources.expand(f"{looped}/**/*.jsonl")
    assert files == [looped / "a" / "records.jsonl"]
    _, report = _load(f"{looped}/**/*.jsonl")
    assert report.read == 10 and report.loaded_total == 10


def test_folder_does_not_follow_symlink_loops(looped):
    assert sources.expand(looped) == [looped / "a" / "records.jsonl"]


def test_symlinked_file_is_loaded_once_per_import(tmp_path):
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "b.jsonl").write_text(_lines(4))
    (folder / "a-alias.jsonl").symlink_to(folder / "b.jsonl")
    os.link(folder / "b.jsonl", tmp_path / "hard.jsonl")
    for source in (folder, f"{folder}/*.jsonl", [folder, tmp_path / "hard.jsonl", folder / "b.jsonl"]):
        files = sources.expand(source)
        assert files == [folder / "a-alias.jsonl"], source
        _, report = _load(source)
        assert report.read == 4


def test_a_symlink_to_nothing_is_a_file_error_not_left_out(tmp_path):
    """A folder's or a glob's symlink whose target is gone was skipped without a word: its
    records lost unsaid. It is a file error naming it and its target; the other files load."""
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "a.jsonl").write_text(_lines(3))
    gone = folder / "b.jsonl"
    gone.symlink_to(tmp_path / "unmounted" / "b.jsonl")
    for source in (folder, f"{folder}/*.jsonl", f"{folder}/**/*.jsonl", [folder / "a.jsonl", gone]):
        assert sources.expand(source) == [folder / "a.jsonl", gone], source
        _, report = _load(source)
        assert report.read == 3 and report.loaded_total == 3
        (error,) = report.file_errors
        assert error.file == str(gone) and f"a symlink to {tmp_path / 'unmounted' / 'b.jsonl'}" in error.reason
    with pytest.raises(ImportFailure, match="which is not there"):
        imports.load_into(imports.Stores(), folder, strict=True)
    loop = folder / "c.jsonl"
    loop.symlink_to(folder / "d.jsonl")
    (folder / "d.jsonl").symlink_to(loop)
    errors = {error.file: error.reason for error in _load(folder)[1].file_errors}
    assert errors[str(loop)] == f"cannot open: a symlink to {folder / 'd.jsonl'}, in a loop of symlinks"


def test_symlinked_folder_without_a_loop_is_followed(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "r.jsonl").write_text(_lines(3))
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "linked").symlink_to(elsewhere, target_is_directory=True)
    assert sources.expand(logs) == [logs / "linked" / "r.jsonl"]
    assert sources.expand(f"{logs}/**/*.jsonl") == [logs / "linked" / "r.jsonl"]


def test_glob_keeps_its_matching_rules(tmp_path):
    """The loop-safe glob matches as glob.glob does: ``*`` skips hidden names, ``**`` is zero or
    more folders, ``[..]`` and ``?`` work, matches are sorted."""
    for name in ("a.jsonl", "b.json", ".hidden.jsonl", "x/c.jsonl", "x/y/d.jsonl", ".h/e.jsonl", "x/f1.csv"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    for pattern in ("*.jsonl", "**/*.jsonl", "x/**", "x/**/*", "*/?1.csv", "[ab].*", "**/y/*", ".*", "x/*/d.jsonl"):
        full = f"{tmp_path}/{pattern}"
        expected = sorted(Path(m) for m in std.glob(full, recursive=True) if Path(m).is_file())
        if expected:
            assert sources.expand(full) == expected, pattern


# --- pipes and devices -------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_fifo_source_is_read_as_a_stream(tmp_path, compress):
    fifo = tmp_path / "feed"
    os.mkfifo(fifo)
    data = _lines(25).encode()
    payload = gzip.compress(data) if compress else data

    def write() -> None:
        try:
            with open(fifo, "wb") as out:
                for start in range(0, len(payload), 1000):
                    out.write(payload[start : start + 1000])
                    out.flush()
        except BrokenPipeError:  # the reader gave up (the test fails on its own)
            pass

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        target, report = _load(fifo)
    finally:
        if writer.is_alive():  # a writer still waiting for a reader: give it one (the pipe's buffer
            drain = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # holds the payload), then let it end
            writer.join(timeout=10)
            os.close(drain)
    assert report.ok and report.loaded_total == 25


def test_dev_null_is_an_empty_file_not_a_missing_one():
    _, report = _load("/dev/null")
    assert [e.reason for e in report.file_errors] == ["file is empty (no records, no header)"]


# --- lines -------------------------------------------------------------------------------------


def test_a_long_line_splits_in_linear_time():
    line = b"x" * (8 << 20)
    parts = [line[i : i + 2048] for i in range(0, len(line), 2048)] + [b"\nnext\n"]
    started = time.perf_counter()
    got = list(sources.lines(parts))
    elapsed = time.perf_counter() - started
    assert got == [line, b"next"]
    assert elapsed < 1.0, f"{elapsed:.2f} s for one 8 MiB line"


def test_lines_keep_their_shape():
    parts = [b"a\r\nb", b"", b"c\n\n", b"d", b"e"]
    assert list(sources.lines(parts)) == [b"a\r", b"bc", b"", b"de"]
    assert list(sources.lines([b"one\n"])) == [b"one"]
    assert list(sources.lines([])) == []


@pytest.mark.parametrize("layout", ["jsonl", "csv"])
def test_a_line_over_the_limit_is_a_reject_naming_the_line_and_its_length(tmp_path, monkeypatch, layout):
    monkeypatch.setattr(sources, "MAX_LINE", 4096)
    monkeypatch.setattr(sources, "CHUNK_SIZE", 1000)
    records = sample.generate(AUDIT, 3, seed=3)
    long_sql = "select '" + "y" * 9000 + "'"
    if layout == "jsonl":
        wires = [to_wire(r) for r in records]
        wires[1]["SqlText"] = long_sql
        text = "".join(json.dumps(w) + "\n" for w in wires)
    else:
        out = io.StringIO()
        export.write_csv(records, AUDIT, out)
        rows = out.getvalue().splitlines(keepends=True)
        rows[2] = rows[2].replace("select", long_sql.replace("'", ""), 1)
        text = "".join(rows)
    path = tmp_path / f"long.{layout}"
    path.write_text(text)
    length = len(text.splitlines()[2 if layout == "csv" else 1].encode())
    assert length > 4096
    _, report = _load(path)
    assert report.loaded_total == 2 and report.rejected == 1
    (reject,) = report.rejects
    assert reject.line == (3 if layout == "csv" else 2)
    assert f"{length} bytes" in reject.reason and "4096" in reject.reason
    assert 0 < len(reject.raw) <= 4096


def test_a_first_line_over_the_limit_keeps_json_lines_mode(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_LINE", 4096)
    monkeypatch.setattr(sources, "CHUNK_SIZE", 1000)
    wires = [to_wire(r) for r in sample.generate(AUDIT, 4, seed=3)]
    wires[0]["SqlText"] = "z" * 10_000
    path = tmp_path / "first-long.jsonl"
    path.write_text("".join(json.dumps(w) + "\n" for w in wires))
    _, report = _load(path)
    assert report.loaded_total == 3 and [r.line for r in report.rejects] == [1]
    assert "bytes long, over the limit of 4096 bytes" in report.rejects[0].reason



@pytest.mark.parametrize("before", ["", "\n\n"], ids=["first", "after-blank-lines"])
def test_a_first_line_over_the_limit_that_is_not_json_is_a_file_error_naming_it(tmp_path, monkeypatch, before):
    # The CSV reader saw the over-long line as a blank one and took the next line for the
    # header: a JSON Lines file with a long damaged first line was refused at line 2 for lacking
    # the keys its line 2 has.
    monkeypatch.setattr(sources, "MAX_LINE", 4096)
    monkeypatch.setattr(sources, "CHUNK_SIZE", 1000)
    wires = [to_wire(r) for r in sample.generate(AUDIT, 3, seed=3)]
    path = tmp_path / "damaged-long.jsonl"
    path.write_text(before + "z" * 10_000 + "\n" + "".join(json.dumps(w) + "\n" for w in wires))
    _, report = _load(path)
    assert report.loaded_total == 0
    (error,) = report.file_errors
    assert error.line == before.count("\n") + 1
    assert "10000 bytes long, over the limit of 4096 bytes" in error.reason



@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_blank_lines_before_the_first_record_are_read_past_in_constant_memory(tmp_path, monkeypatch, compress):
    # They were all kept in memory until the file's format was told: a gzip of 2 GB of
    # newlines (2 MB) took 2 GB.
    monkeypatch.setattr(sources, "MAX_LINE", 4096)
    wires = [to_wire(r) for r in sample.generate(AUDIT, 2, seed=3)]
    text = ("\n" + " " * 1000) * 20_000 + "\n" + "".join(json.dumps(w) + "\n" for w in wires)
    path = tmp_path / ("blank.jsonl.gz" if compress else "blank.jsonl")
    path.write_bytes(gzip.compress(text.encode()) if compress else text.encode())
    tracemalloc.start()
    try:
        _, report = _load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.ok and report.loaded_total == 2
    assert [r.line for r in report.rejects] == []
    assert peak < 5_000_000  # the file is 20 MB


def test_blank_lines_are_not_offered_to_each_kinds_decoder(tmp_path, monkeypatch):
    from dsc_engine.io import jsonlines

    offered = []
    decode_other = jsonlines._decode_other
    monkeypatch.setattr(jsonlines, "_decode_other", lambda raw, *rest: offered.append(raw) or decode_other(raw, *rest))
    wires = [to_wire(r) for r in sample.generate(AUDIT, 2, seed=3)]
    path = tmp_path / "gaps.jsonl"
    path.write_text(json.dumps(wires[0]) + "\n\n \r\n\t\n" + json.dumps(wires[1]) + "\n\n")
    _, report = _load(path)
    assert report.ok and report.loaded_total == 2
    assert offered == []


def test_a_snapshot_through_a_pipe_is_a_clear_file_error(tmp_path):
    snap = tmp_path / "s.dscsnap"
    target = imports.Stores()
    imports.load_into(target, jsonl_file(tmp_path))
    snapshot.save(target, snap)
    fifo = tmp_path / "feed"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: _feed(fifo, snap.read_bytes()), daemon=True)
    writer.start()
    _, report = _load(fifo)
    writer.join(timeout=10)
    assert ["pipe or device" in e.reason for e in report.file_errors] == [True]


def jsonl_file(tmp_path: Path) -> Path:
    path = tmp_path / "some.jsonl"
    path.write_text(_lines(3))
    return path


def _feed(fifo: Path, payload: bytes) -> None:
    try:
        with open(fifo, "wb") as out:
            out.write(payload)
    except BrokenPipeError:
        pass


def test_a_gzipped_snapshot_file_is_told_to_be_unzipped(tmp_path):
    """``gzip logs.dscsnap`` then loading ``logs.dscsnap.gz``: the error says what to do, not that
    a regular file is a pipe or device."""
    import gzip

    snap = tmp_path / "s.dscsnap"
    target = imports.Stores()
    imports.load_into(target, jsonl_file(tmp_path))
    snapshot.save(target, snap)
    zipped = tmp_path / "s.dscsnap.gz"
    zipped.write_bytes(gzip.compress(snap.read_bytes()))
    _, report = _load(zipped)
    (error,) = report.file_errors
    assert "pipe or device" not in error.reason and "gzip" in error.reason and "gunzip" in error.reason


def test_an_empty_path_names_nothing_not_the_current_folder(tmp_path, monkeypatch):
    """``--data "$LOGS"`` with ``LOGS`` unset passes an empty path: it must not load every file
    below the current folder (``Path("")`` is ``.``)."""
    from dsc_engine.errors import ImportFailure

    jsonl_file(tmp_path)
    monkeypatch.chdir(tmp_path)
    for source in ("", ["", "some.jsonl"]):
        with pytest.raises(ImportFailure, match="an empty path"):
            _load(source)
    assert _load(".")[1].loaded_total == 3  # the current folder, when asked for


def test_a_one_line_json_array_lets_go_of_each_chunk_once_read(tmp_path: Path) -> None:
    """A compact JSON array on one line is read whole before its kind of file is known (up to the
    line limit, looking for a line end); those chunks are let go of as the records are read, not
    held until the file ends."""
    import tracemalloc

    from dsc_engine.io import formats

    wires = [to_wire(r) for r in sample.generate(AUDIT, 200, seed=4)]
    path = tmp_path / "one-line.json"
    path.write_text(json.dumps(wires * 60), encoding="utf-8")  # ~6 MB, no line end
    size = path.stat().st_size
    tracemalloc.start()
    try:
        records = formats.read_file(path)
        for number, _ in enumerate(records, 1):
            if number == len(wires) * 59:  # near the end: what the reader holds now
                held = tracemalloc.get_traced_memory()[0]
        records.close()
    finally:
        tracemalloc.stop()
    assert size > 5_000_000
    assert held < size / 4, (held, size)


@pytest.mark.parametrize("name", ["x" * 5000, "x" * 300 + "/a.jsonl"], ids=["path", "component"])
def test_a_path_too_long_to_look_up_is_an_import_failure_naming_it(tmp_path, name):
    # Path.is_dir() let the OSError (ENAMETOOLONG) through, a bare Python error from Engine.load
    source = str(tmp_path / name)
    with pytest.raises(ImportFailure) as caught:
        sources.expand(source)
    assert caught.value.path == source and "cannot be looked up: File name too long" in caught.value.reason


@pytest.mark.parametrize(
    ("encode", "says"),
    [
        (lambda text: text.encode("utf-16"), "the file is UTF-16 (its byte order mark is ff fe)"),
        (lambda text: b"\xfe\xff" + text.encode("utf-16-be"), "the file is UTF-16 (its byte order mark is fe ff)"),
        (lambda text: text.encode("utf-16-le"), "the file is UTF-16 (without a byte order mark"),
        (lambda text: gzip.compress(text.encode("utf-16")), "the file is UTF-16 (its byte order mark is ff fe)"),
    ],
    ids=["le", "be", "no-bom", "gzipped"],
)
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_an_export_saved_as_utf16_is_told_to_be_converted(tmp_path, encode, says, fmt):
    """PowerShell 5's ``dsc-engine export ... > out.jsonl`` writes UTF-16: the file error says so
    and how to convert it (a JSON Lines file was called a CSV header that is not UTF-8)."""
    recs = sample.generate(RecordKind.AUDIT_LOG, 3, seed=5)
    out = io.StringIO()
    export.write(recs, RecordKind.AUDIT_LOG, fmt, out)
    path = tmp_path / f"out.{fmt}"
    path.write_bytes(encode(out.getvalue()))
    _, report = _load(path)
    (error,) = report.file_errors
    assert error.reason.startswith(says) and "iconv -f UTF-16 -t UTF-8" in error.reason
    assert report.read == 0


def test_a_file_of_zero_bytes_is_not_called_utf16(tmp_path):
    path = tmp_path / "zeros"
    path.write_bytes(b"\0" * 64 + b"\n")
    _, report = _load(path)
    (error,) = report.file_errors
    assert "UTF-16" not in error.reason


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "a ZIP archive (an Excel .xlsx workbook is one)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", "an Excel .xls workbook"),
        (b"BZh91AY&SY\r\x01\x02\n", "bzip2-compressed"),
        (b"\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4F", "xz-compressed"),
        (b"\x28\xb5\x2f\xfd\x04\x58\r\n", "zstd-compressed"),
    ],
    ids=["xlsx", "xls", "bzip2", "xz", "zstd"],
)
def test_a_workbook_or_an_archive_is_named_for_what_it_is(tmp_path, data, says):
    """Not a CSV header that is not UTF-8, or one holding a carriage return."""
    path = tmp_path / "logs"
    path.write_bytes(data + b"\x00" * 64)
    _, report = _load(path)
    (error,) = report.file_errors
    assert error.reason.startswith(f"the file is {says}") and "not an export (JSON or CSV" in error.reason


@pytest.mark.parametrize("data", [b"BZh", b"BZh\n", b"BZh0"], ids=["alone", "line", "level-0"])
def test_text_starting_bzh_without_a_block_size_digit_is_not_called_bzip2(tmp_path, data):
    """bzip2's magic is ``BZh`` and a block size digit 1-9: three bytes alone, or another byte
    after them, are some text file's start, reported as what it is not (an export), not as bzip2."""
    path = tmp_path / "logs"
    path.write_bytes(data)
    _, report = _load(path)
    (error,) = report.file_errors
    assert "bzip2" not in error.reason
