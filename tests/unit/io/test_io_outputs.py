"""Files an import or export writes: never one of its inputs, and a clear error when unwritable."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dsc_engine import sample
from dsc_engine.errors import DscError, OutputError
from dsc_engine.io import imports
from dsc_engine.wire.codec import to_wire
from dsc_engine.models import RecordKind


def _source(tmp_path: Path) -> Path:
    path = tmp_path / "x.jsonl"
    lines = [json.dumps(to_wire(r)) for r in sample.generate(RecordKind.AUDIT_LOG, 5, seed=3)]
    path.write_text("\n".join([*lines, "{not json"]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["same", "dotted", "symlink", "hardlink"])
def test_rejects_path_that_is_a_source_is_refused_before_opening(tmp_path, name):
    source = _source(tmp_path)
    before = source.read_bytes()
    rejects = {
        "same": source,
        "dotted": tmp_path / "." / "x.jsonl",
        "symlink": tmp_path / "link.jsonl",
        "hardlink": tmp_path / "hard.jsonl",
    }[name]
    if name == "symlink":
        rejects.symlink_to(source)
    elif name == "hardlink":
        os.link(source, rejects)
    target = imports.Stores()
    with pytest.raises(OutputError) as caught:
        imports.load_into(target, tmp_path / "x.jsonl", rejects_path=rejects)
    assert caught.value.path == os.fspath(rejects)
    assert "one of the sources" in str(caught.value)
    assert source.read_bytes() == before
    assert all(len(store) == 0 for store in target.stores.values())


def test_rejects_path_in_a_folder_source_is_refused(tmp_path):
    source = _source(tmp_path)
    with pytest.raises(OutputError):
        imports.load_into(imports.Stores(), tmp_path, rejects_path=source)


def test_unwritable_rejects_path_is_a_typed_error_before_any_record_is_read(tmp_path):
    source = _source(tmp_path)
    rejects = tmp_path / "no" / "such" / "folder" / "rejects.jsonl"
    target = imports.Stores()
    with pytest.raises(OutputError) as caught:
        imports.load_into(target, source, rejects_path=rejects)
    assert isinstance(caught.value, DscError)
    assert caught.value.path == os.fspath(rejects)
    assert "cannot write" in caught.value.reason
    assert all(len(store) == 0 for store in target.stores.values())
