"""How the CLI shows results: values a table cannot show as dates, a reader that goes away."""

from __future__ import annotations

import io
import json

import pytest

from dsc_engine import sample
from dsc_engine.cli import main
from dsc_engine.io.wire import to_wire
from dsc_engine.models import RecordKind


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("ms", [253402300800000, -62135596800001, 2**63 - 1, -(2**63)])
def test_table_shows_a_time_outside_years_1_to_9999_as_raw_milliseconds(tmp_path, ms):
    record = to_wire(sample.generate(RecordKind.AUDIT_LOG, 1, seed=3)[0])
    record["CreationTime"] = ms
    path = tmp_path / "far.jsonl"
    path.write_text(json.dumps(record) + "\n")
    code, out, err = run("query", "audit", "--data", str(path))
    assert code == 0, err
    assert str(ms) in out
