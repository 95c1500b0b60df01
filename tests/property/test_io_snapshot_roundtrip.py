"""A snapshot gives back the engine it was saved from: random records of every kind, saved in
each format, opened in a fresh engine (and saved again after more loads and duplicates), answer
every filter and API request exactly as the original does, records in the same load order."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import asts

from dsc_engine import Engine
from dsc_engine.errors import DscError
from dsc_engine.io import snapshot
from dsc_engine.models import RecordKind
from dsc_engine.query import ast
from dsc_engine.strategies import AUDIT, DMS, MASKING, record_lists, requests

ACTIONS = {RecordKind.AUDIT_LOG: AUDIT, RecordKind.MASKING_RUN: MASKING, RecordKind.DMS_LOG: DMS}
FORMATS = [(3, None), (2, True), (2, False)]


def _answers(engine: Engine, kind: RecordKind, node: ast.Node, request: dict[str, object]) -> tuple[Any, ...]:
    page = engine.store(kind).query(node, 0, 1000)
    try:
        body: Any = engine.call(ACTIONS[kind], request, request_id="r")
        body.pop("AsyncRequestId", None)  # fresh for each call that does not pass one
    except DscError as exc:
        body = (type(exc).__name__, str(exc))
    return page.total, list(page.records), body


def _reopened(engine: Engine, path: Path, version: int, compress: bool | None) -> Engine:
    snapshot.save(engine, path, version=version, compress=compress)
    opened = Engine()
    snapshot.load(opened, path)
    return opened


@settings(deadline=None, max_examples=40)
@given(st.data(), st.sampled_from(FORMATS), st.sampled_from(["once", "more loads", "duplicates"]))
def test_a_reopened_snapshot_answers_as_the_engine_it_was_saved_from(
    data: st.DataObject, form: tuple[int, bool | None], then: str
) -> None:
    version, compress = form
    engine = Engine()
    later: dict[RecordKind, list[Any]] = {}
    for kind in RecordKind:
        first = data.draw(record_lists(kind, max_size=20), label=f"{kind.value} first")
        more = data.draw(record_lists(kind, max_size=8), label=f"{kind.value} later") if then != "once" else []
        if kind is RecordKind.MASKING_RUN:  # runs keep their Id rule: later runs are new ones
            more = [run for run in more if run.id not in {r.id for r in first}]
        elif then == "duplicates":
            more += first
        engine.store(kind).insert(first)
        later[kind] = more
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "engine.dscsnap"
        opened = _reopened(engine, path, version, compress)
        if then != "once":  # the same loads on both sides after the open, then saved over it again
            for kind, more in later.items():
                engine.store(kind).insert(more)
                opened.store(kind).insert(more)
            opened = _reopened(opened, path, version, compress)
    for kind in RecordKind:
        assert list(opened.store(kind).records_in_load_order()) == list(engine.store(kind).records_in_load_order())
        for _ in range(3):
            node = data.draw(asts(kind, max_leaves=4), label="filter")
            request = data.draw(requests(ACTIONS[kind]), label="request")
            assert _answers(opened, kind, node, request) == _answers(engine, kind, node, request)
