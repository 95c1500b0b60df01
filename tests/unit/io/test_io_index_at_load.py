"""After an import into in-memory stores, the indexes the operations' parameters use are built in
the background; queries meanwhile give the same answers, and a save waits instead of building
them twice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dsc_engine import sample
from dsc_engine.io import imports, snapshot
from dsc_engine.io.stores import Stores
from dsc_engine.models import RecordKind
from dsc_engine.query.parse import parse_filter
from dsc_engine.query.plan import IndexKind
from dsc_engine.store import Store
from dsc_engine.store import store as store_module
from dsc_engine.wire.codec import to_wire


def _file(tmp_path: Path, kind: RecordKind, count: int) -> Path:
    path = tmp_path / f"{kind.value}.jsonl"
    path.write_text("".join(json.dumps(to_wire(r)) + "\n" for r in sample.generate(kind, count, seed=3)))
    return path


def test_an_import_builds_the_parameters_indexes_in_the_background(tmp_path: Path) -> None:
    target = Stores()
    imports.load_into(target, [_file(tmp_path, kind, 2_000) for kind in RecordKind])
    for kind in RecordKind:
        store = target.store(kind)
        assert isinstance(store, Store) and store.wait_for_indexes(timeout=60)
        (segment,) = store.segments()
        built = {attr for _, attr in segment.indexes()}
        wanted = set(snapshot.index_attrs(store)) - {store.schema.time_attr}
        assert wanted <= built, wanted - built
    dms = target.store(RecordKind.DMS_LOG).segments()[0].indexes()  # type: ignore[attr-defined]
    assert (IndexKind.ENTRY, "table_name") in dms
    # SensitiveDataLog any (TableName = t and ColumnName = c), a DMS call's two entry parameters
    assert {(IndexKind.ENTRY_PAIR, "table_name|column_name"), (IndexKind.ENTRY_PAIR, "column_name|table_name")} <= set(dms)


def test_an_import_builds_in_the_background_every_index_a_save_would_carry(tmp_path: Path) -> None:
    """The composite indexes of two low-cardinality fields were built by a save only: after an
    import, masking runs' ``SrcType = 1 and DstType = 2`` intersected two indexes (2.5 ms at
    100,000 runs) where the same data saved and reopened used its pair index (0.12 ms)."""
    imported = Stores()
    imports.load_into(imported, _file(tmp_path, RecordKind.MASKING_RUN, 2_000))
    store = imported.store(RecordKind.MASKING_RUN)
    assert isinstance(store, Store) and store.wait_for_indexes(timeout=60)
    saved = Stores()
    saved.store(RecordKind.MASKING_RUN).insert(store.records_in_load_order())
    snapshot.save(saved, tmp_path / "runs.dsc")
    reopened = Stores()
    snapshot.load(reopened, tmp_path / "runs.dsc")
    (after_import,) = store.segments()
    (after_open,) = reopened.store(RecordKind.MASKING_RUN).segments()  # type: ignore[attr-defined]
    pairs = {index for index in after_open.indexes() if index[0] is IndexKind.PAIR}
    assert pairs and {index for index in after_import.indexes() if index[0] is IndexKind.PAIR} == pairs


def test_a_save_builds_the_entry_pairs_of_a_segment_too_big_for_column_pairs(monkeypatch: Any) -> None:
    # a million DMS logs make one segment over PAIR_ROWS: its entry pairs (one pass over the
    # entries, their size) are still built at a save, not by the first query that needs one
    monkeypatch.setattr(store_module, "PAIR_ROWS", 100)
    store = Store(RecordKind.MASKING_RUN)
    store.insert(sample.generate(RecordKind.MASKING_RUN, 500, seed=4))
    assert store.build_pair_indexes(["src_type", "dst_type"]) == 0  # column pairs: too big a segment
    dms = Store(RecordKind.DMS_LOG)
    dms.insert(sample.generate(RecordKind.DMS_LOG, 500, seed=4))
    assert dms.build_pair_indexes(snapshot.index_attrs(dms)) == 2
    (segment,) = dms.segments()
    assert segment.has_index(IndexKind.ENTRY_PAIR, "table_name|column_name")
    assert segment.has_index(IndexKind.ENTRY_PAIR, "column_name|table_name")


def test_queries_while_the_indexes_are_built_answer_as_after(tmp_path: Path) -> None:
    texts = ['UserName = "admin"', "EffectRow in [1 40]", 'SqlText contains "select"', 'not OperateType = "Drop"']
    nodes = [parse_filter(text, RecordKind.AUDIT_LOG) for text in texts]
    target = Stores()
    imports.load_into(target, _file(tmp_path, RecordKind.AUDIT_LOG, 5_000))
    store = target.store(RecordKind.AUDIT_LOG)
    during = [(store.count(node), list(store.query(node, 7, 20).records)) for node in nodes]  # racing the builder
    assert isinstance(store, Store) and store.wait_for_indexes(timeout=60)
    fresh = Stores()
    fresh.store(RecordKind.AUDIT_LOG).insert(store.records_in_load_order())
    after = [(fresh.store(RecordKind.AUDIT_LOG).count(n), list(fresh.store(RecordKind.AUDIT_LOG).query(n, 7, 20).records))
             for n in nodes]
    assert during == after
