"""JSON that Python cannot hold as is: integers over its digit limit, values nested too deeply.

Such a record is a counted reject with a clear reason (lenient) or a typed error (strict); the
rest of the file still loads; never a ValueError or a RecursionError.
"""

from __future__ import annotations

import io
import json
import sys

import pytest

from dsc_engine import sample
from dsc_engine.errors import ImportFailure
from dsc_engine.io import export, imports
from dsc_engine.wire.codec import to_wire
from dsc_engine.models import RecordKind
from dsc_engine.replay import read_calls

AUDIT = RecordKind.AUDIT_LOG
HUGE = "9" * (sys.get_int_max_str_digits() + 1)
DEEP = "[" * 100_000 + "]" * 100_000


def _wires(n: int = 4) -> list[dict]:
    return [to_wire(r) for r in sample.generate(AUDIT, n, seed=9)]


def _load(path, **kwargs):
    target = imports.Stores()
    return target, imports.load_into(target, path, **kwargs)


def _with(wire: dict, key: str, raw_json: str) -> str:
    """The compact JSON of ``wire`` with ``key`` set to the JSON text ``raw_json``."""
    marker = "__REPLACED__"
    return json.dumps({**wire, key: marker}).replace(json.dumps(marker), raw_json)


# --- integers over Python's digit limit --------------------------------------------------------


@pytest.mark.parametrize("sign", ["", "-"])
@pytest.mark.parametrize("where", ["first", "later"])
def test_json_lines_integer_over_the_digit_limit_is_a_counted_reject(tmp_path, sign, where):
    wires = _wires()
    index = 0 if where == "first" else 2
    lines = [json.dumps(w) for w in wires]
    lines[index] = _with(wires[index], "EffectRow", sign + HUGE)
    path = tmp_path / "huge.jsonl"
    path.write_text("\n".join(lines) + "\n")
    _, report = _load(path)
    assert report.loaded_total == 3 and report.rejected == 1
    (reject,) = report.rejects
    assert reject.line == index + 1
    assert "EffectRow" in reject.reason and "64-bit" in reject.reason
    assert f"{len(HUGE)} digits" in reject.reason
    with pytest.raises(ImportFailure) as caught:
        _load(path, strict=True)
    assert caught.value.line == index + 1 and "64-bit" in caught.value.reason


def test_page_item_with_an_integer_over_the_digit_limit_is_rejected_alone(tmp_path):
    wires = _wires()
    items = ",\n".join(_with(w, "ExecuteTime", HUGE) if i == 1 else json.dumps(w) for i, w in enumerate(wires))
    path = tmp_path / "page.json"
    path.write_text('{\n  "TotalCount": ' + HUGE + ',\n  "Items": [\n' + items + "\n  ]\n}\n")
    _, report = _load(path)
    assert report.loaded_total == 3 and report.rejected == 1
    (reject,) = report.rejects
    assert reject.item == "Items[1]" and "ExecuteTime" in reject.reason and "64-bit" in reject.reason


def test_array_of_records_with_an_integer_over_the_digit_limit(tmp_path):
    wires = _wires()
    path = tmp_path / "array.json"
    path.write_text("[\n" + ",\n".join([json.dumps(wires[0]), _with(wires[1], "LogTime", HUGE), json.dumps(wires[2])]) + "\n]")
    _, report = _load(path)
    assert report.loaded_total == 2 and [r.item for r in report.rejects] == ["[1]"]


def test_csv_integer_over_the_digit_limit_is_a_clear_reject(tmp_path):
    out = io.StringIO()
    export.write_csv(sample.generate(AUDIT, 3, seed=9), AUDIT, out)
    lines = out.getvalue().splitlines()
    header = lines[0].split(",")
    cells = lines[2].split(",")
    cells[header.index("CreationTime")] = HUGE
    lines[2] = ",".join(cells)
    path = tmp_path / "huge.csv"
    path.write_text("\n".join(lines) + "\n")
    _, report = _load(path)
    assert report.loaded_total == 2
    (reject,) = report.rejects
    assert reject.line == 3 and "CreationTime" in reject.reason and "64-bit" in reject.reason


# --- nesting -----------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["first", "later"])
def test_json_lines_nested_too_deeply_is_a_reject_not_a_recursion_error(tmp_path, where):
    wires = _wires()
    index = 0 if where == "first" else 2
    lines = [json.dumps(w) for w in wires]
    lines[index] = _with(wires[index], "SqlText", DEEP)
    path = tmp_path / "deep.jsonl"
    path.write_text("\n".join(lines) + "\n")
    _, report = _load(path)
    assert report.loaded_total == 3 and report.rejected == 1
    (reject,) = report.rejects
    assert reject.line == index + 1 and "nested too deeply" in reject.reason
    with pytest.raises(ImportFailure):
        _load(path, strict=True)


def test_a_pretty_page_nested_too_deeply_is_a_file_error(tmp_path):
    wires = _wires()
    path = tmp_path / "deep.json"
    first = json.dumps({"Items": wires[:2]}, indent=1)
    path.write_text(first + "\n" + '{\n "Items": ' + DEEP + "\n}\n")
    _, report = _load(path)
    assert report.loaded_total == 2
    (error,) = report.file_errors
    assert error.line == first.count("\n") + 2
    assert "nested too deeply" in error.reason


def test_csv_entries_cell_nested_too_deeply_is_a_reject(tmp_path):
    path = tmp_path / "deep.csv"
    path.write_text('OpTime,SensitiveDataLog\n2026-10-01 10:00:00,"' + DEEP + '"\n2026-10-01 10:00:01,\n')
    _, report = _load(path)
    assert report.loaded_total == 1
    (reject,) = report.rejects
    assert reject.line == 2 and "nested too deeply" in reject.reason


# --- replay captures ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "reason"),
    [(DEEP, "nested too deeply"), ('{"TotalCount": ' + HUGE + "}", "64-bit"),
     ('{"a":' * 200 + "1" + "}" * 200, "nested too deeply")],
    ids=["recursion", "huge-integer", "deeper-than-a-capture-may-be"],
)
def test_capture_line_that_cannot_be_held_is_an_import_failure_naming_the_line(tmp_path, response, reason):
    path = tmp_path / "capture.jsonl"
    ok = json.dumps({"action": "DescribeAuditLogs", "params": {}, "response": {"Items": []}})
    path.write_text(ok + "\n" + '{"action": "DescribeAuditLogs", "params": {}, "response": ' + response + "}\n")
    with pytest.raises(ImportFailure) as caught:
        read_calls(path)
    assert caught.value.line == 2 and reason in caught.value.reason
