"""The typed fast path of JSON Lines imports only ever accepts: for any line, it either declines
(and the precise path decides) or reads exactly the record the precise decoder reads."""

from __future__ import annotations

import json
import tempfile
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsc_engine.engine import Engine
from dsc_engine.errors import RecordError
from dsc_engine.io import imports
from dsc_engine.io.stores import Stores
from dsc_engine.models import RecordKind
from dsc_engine.strategies import records, sensitive_data_entries
from dsc_engine.wire import codec
from dsc_engine.wire.catalog import required_keys, wire_fields
from dsc_engine.wire.codec import ABSENT, DECLINED, FAIL, Narrowing, from_wire, line_decoder, struct_values, to_wire

#: JSON values of every type, including the ones a field must refuse.
ODD = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
    st.text(max_size=6), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.sampled_from(["2026-10-01 12:00:00", "2026-13-01 12:00:00", "２０２６-10-01 12:00:00", "1-01-01 00:00:00"]),
)


def _fast(kind: RecordKind, line: bytes) -> Any:
    decoder = line_decoder(kind)
    try:
        obj = decoder.decode(line)
    except DECLINED:
        return FAIL
    return decoder.convert(obj)


def _precise(kind: RecordKind, line: bytes) -> Any:
    try:
        return from_wire(kind, json.loads(line))
    except (RecordError, ValueError):
        return FAIL


@st.composite
def damaged(draw: st.DrawFn, kind: RecordKind) -> dict[str, Any]:
    """A record's wire form with a few keys damaged: odd values, unknown or dropped keys."""
    wire = to_wire(draw(records(kind)))
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from([*wire, "Unknown"]))
        if draw(st.booleans()):
            wire[key] = draw(ODD)
        else:
            wire.pop(key, None)
    return wire


@st.composite
def lines(draw: st.DrawFn) -> tuple[RecordKind, bytes]:
    kind = draw(st.sampled_from(list(RecordKind)))
    wire = draw(damaged(kind))
    text = json.dumps(wire, ensure_ascii=draw(st.booleans()))
    return kind, (text + draw(st.sampled_from(["", " ", "\r", " x", "{}"]))).encode("utf-8", "surrogatepass")


@settings(max_examples=400, deadline=None)
@given(lines())
def test_the_fast_path_declines_or_reads_the_precise_record(case: tuple[RecordKind, bytes]) -> None:
    kind, line = case
    fast = _fast(kind, line)
    if fast is not FAIL:
        assert fast == _precise(kind, line)


@settings(max_examples=60, deadline=None)
@given(st.lists(lines(), min_size=1, max_size=8))
def test_an_import_reads_the_same_with_and_without_the_fast_path(tmp_path_factory: Any, cases: list[tuple[RecordKind, bytes]]) -> None:
    path = tmp_path_factory.mktemp("fast") / "mixed.jsonl"
    path.write_bytes(b"\n".join(line for _, line in cases) + b"\n")
    _same_three_ways(path)


@st.composite
def page_lines(draw: st.DrawFn) -> tuple[RecordKind, bytes]:
    """A compact API page on a line: items of one kind (damaged now and then, by ``lines``), under
    its own list key or another, now and then in an SDK response map or beside a second list."""
    kind = draw(st.sampled_from(list(RecordKind)))
    items = [draw(damaged(kind)) if draw(st.booleans()) else to_wire(draw(records(kind)))
             for _ in range(draw(st.integers(0, 4)))]
    own = "SensitiveDataAuditLogList" if kind is RecordKind.DMS_LOG else "Items"
    key = draw(st.sampled_from([own, own, own, "Items", "SensitiveDataAuditLogList"]))
    page: dict[str, Any] = {"RequestId": "R", "TotalCount": len(items), key: items}
    if draw(st.integers(0, 9)) == 0:
        page["SensitiveDataAuditLogList" if key == "Items" else "Items"] = []
    if draw(st.integers(0, 9)) == 0:
        page = {"headers": {}, "statusCode": 200, "body": page}
    return kind, json.dumps(page, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(page_lines(), lines()), min_size=1, max_size=6))
def test_api_pages_read_the_same_with_and_without_the_fast_path(tmp_path_factory: Any, cases: list[tuple[RecordKind, bytes]]) -> None:
    """A page whose every item the fast path reads is read fast, as one batch of its listing;
    any other goes the precise way whole: either way the same report, rejects and records."""
    path = tmp_path_factory.mktemp("pages") / "pages.jsonl"
    path.write_bytes(b"\n".join(line for _, line in cases) + b"\n")
    _same_three_ways(path, Stores)


def test_a_page_of_good_items_is_read_by_the_fast_path(tmp_path: Any, monkeypatch: Any) -> None:
    """API pages one a line (what pull writes) took the precise path item by item: 4x the time of
    the same records one a line (200,000 audit logs: 14.4 s against 3.5 s; 3.3 s now)."""
    from dsc_engine import sample
    from dsc_engine.io import export, jsonlines

    read: list[Any] = []
    decode_page = jsonlines._decode_page

    def counted(*args: Any) -> Any:
        page = decode_page(*args)
        read.append(page)
        return page

    monkeypatch.setattr(jsonlines, "_decode_page", counted)
    runs = sample.generate(RecordKind.MASKING_RUN, 30, seed=23)
    path = tmp_path / "pages.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        export.write_pages(runs, RecordKind.MASKING_RUN, out, total=len(runs), page_size=10)
        out.write(json.dumps({"Items": [to_wire(runs[0]) | {"FailMsg": "other"}]}) + "\n")  # a conflicting Id
    with tempfile.TemporaryDirectory() as folder:  # a database takes the listing in batches
        _same_three_ways(path, lambda: Engine.connect(f"duckdb://{folder}/logs.duckdb"))
    read.clear()
    report = imports.load_into(Stores(), path)
    assert [page.page if page else None for page in read] == ["Items", "Items", "Items", "Items"]
    assert (report.loaded_total, report.rejected) == (30, 1)
    (reject,) = report.rejects
    assert (reject.line, reject.item) == (4, "Items[0]") and "already loaded with different content" in reject.reason


def _plain_or_fail(kind: RecordKind, line: bytes) -> Any:
    try:
        return line_decoder(kind).decode(line)
    except DECLINED:
        return FAIL


@settings(max_examples=300, deadline=None)
@given(lines(), st.data())
def test_a_narrowed_decoder_reads_what_the_plain_one_reads(case: tuple[RecordKind, bytes], data: st.DataObject) -> None:
    kind, line = case
    plain = _plain_or_fail(kind, line)
    texts = [v for v in json.loads(line).values() if isinstance(v, str)] if plain is not FAIL else []
    narrowing = Narrowing(kind)
    values = (st.sampled_from(texts) | st.text(max_size=4)) if texts else st.text(max_size=4)
    known = {spec.attr: [None, *data.draw(st.lists(values, max_size=5, unique=True))] for spec in wire_fields(kind)}
    narrowing.learn(known)
    try:
        narrowed = narrowing.decode(line)
    except DECLINED:
        narrowed = FAIL
    if plain is FAIL or narrowed is FAIL:
        assert plain is narrowed
    else:
        assert struct_values(narrowed) == struct_values(plain)


def test_a_narrowed_decoder_hands_back_the_known_string_itself() -> None:
    known = "huang_dev"[:5] + "_dev"  # a string object of its own
    narrowing = Narrowing(RecordKind.AUDIT_LOG)
    narrowing.learn({"user_name": [None, known]})
    wire = to_wire(sample_audit_log())
    wire["UserName"] = "huang_dev"
    struct = narrowing.decode(json.dumps(wire).encode())
    assert struct.user_name is known
    wire["UserName"] = "someone_else"  # not known: read by the plain struct
    assert narrowing.decode(json.dumps(wire).encode()).user_name == "someone_else"


def test_an_import_reads_the_same_while_its_decoders_narrow(tmp_path: Any, monkeypatch: Any) -> None:
    from dsc_engine import sample
    from dsc_engine.io import jsonlines

    monkeypatch.setattr(jsonlines, "_FAST_BATCH", 7)  # narrowed after a few lines; new values keep coming
    recs = sample.generate(RecordKind.AUDIT_LOG, 400, seed=21) + sample.generate(RecordKind.MASKING_RUN, 100, seed=21)
    path = tmp_path / "mixed.jsonl"
    path.write_text("".join(json.dumps(to_wire(r), ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    _same_three_ways(path)


def sample_audit_log() -> Any:
    from dsc_engine import sample

    return sample.generate(RecordKind.AUDIT_LOG, 1, seed=22)[0]


def _same_three_ways(path: Any, other: Any = None) -> None:
    """An import of ``path`` reads the same into in-memory stores (the fast path's structs read by
    column), into another source (the structs made records; ``other`` makes it, by default a
    wrapped store, which takes no API page's listing) and through the precise path alone (record
    by record): same report, rejects and records."""
    from dsc_engine.io import formats

    def precise(*args: Any, **options: Any) -> Any:
        return read_file(*args, **{**options, "fast": False})

    read_file = formats.read_file
    fast, converted, slow = Stores(), (other or _Plain)(), Stores() if other else _Plain()
    reports = [imports.load_into(fast, path), imports.load_into(converted, path)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(formats, "read_file", precise)
        reports.append(imports.load_into(slow, path))
    assert reports[0].to_json() == reports[1].to_json() == reports[2].to_json()
    assert [str(r) for r in reports[0].rejects] == [str(r) for r in reports[1].rejects] == [str(r) for r in reports[2].rejects]
    for kind in RecordKind:
        held = list(fast.store(kind).records_in_load_order())
        assert held == list(converted.store(kind).records_in_load_order()) == list(slow.store(kind).records_in_load_order())


class _Plain:
    """An import target whose sources are not in-memory stores (they take records in batches)."""

    def __init__(self) -> None:
        self.stores = {kind: _Wrapped(kind) for kind in RecordKind}

    def store(self, kind: RecordKind) -> Any:
        return self.stores[kind]


class _Wrapped:
    def __init__(self, kind: RecordKind) -> None:
        from dsc_engine.store import Store

        self._store = Store(kind)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def __len__(self) -> int:
        return len(self._store)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(sensitive_data_entries(), min_size=1, max_size=3),
    st.lists(records(RecordKind.DMS_LOG), min_size=1, max_size=6),
    st.data(),
    st.sampled_from([1, 2, codec.ENTRY_MEMO]),
)
def test_one_decoder_reads_logs_sharing_entries_as_the_precise_decoder(
    pool: list[Any], logs: list[Any], data: st.DataObject, memo: int
) -> None:
    # entries drawn from a small pool repeat across the logs: each converted once, while the
    # converter remembers (``memo``: how many it may), and every log still reads as it should
    lines = []
    for log in logs:
        entries = tuple(data.draw(st.lists(st.sampled_from(pool), max_size=4)))
        lines.append(json.dumps(to_wire(attrs.evolve(log, sensitive_data_log=entries))).encode())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(codec, "ENTRY_MEMO", memo)
        decoder = line_decoder(RecordKind.DMS_LOG)
        fast = [decoder.convert(decoder.decode(line)) for line in lines]
    assert fast == [_precise(RecordKind.DMS_LOG, line) for line in lines]
    shared: dict[Any, Any] = {}
    for record in fast:
        for entry in record.sensitive_data_log:
            first = shared.setdefault(entry, entry)
            if memo == codec.ENTRY_MEMO:
                assert entry is first  # equal entries: one record


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(list(RecordKind)),
    st.lists(sensitive_data_entries(), min_size=1, max_size=3),
    st.data(),
    st.sampled_from([1, 2, codec.ENTRY_MEMO]),
)
def test_a_batch_read_column_by_column_holds_its_records_values(
    kind: RecordKind, pool: list[Any], data: st.DataObject, memo: int
) -> None:
    # what a bulk load stores of the fast path's structs (``LineDecoder.columns``, two batches of
    # one import) is, attribute by attribute, what the precise decoder's records hold: parsed
    # DMS times, entry records, defaults for absent keys, derived attributes
    logs = data.draw(st.lists(records(kind), min_size=1, max_size=8))
    lines = []
    for log in logs:
        if kind is RecordKind.DMS_LOG:
            log = attrs.evolve(log, sensitive_data_log=tuple(data.draw(st.lists(st.sampled_from(pool), max_size=4))))
        wire = to_wire(log)
        for key in data.draw(st.lists(st.sampled_from(list(wire)), max_size=2, unique=True)):
            if key not in required_keys(kind):
                del wire[key]
        lines.append(json.dumps(wire).encode())
    cut = data.draw(st.integers(0, len(lines)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(codec, "ENTRY_MEMO", memo)
        decoder = line_decoder(kind)
        structs = [decoder.decode(line) for line in lines]
        assert decoder.check is None or all(map(decoder.check, structs))
        batches = [decoder.columns(part) for part in (structs[:cut], structs[cut:]) if part]
    precise = [_precise(kind, line) for line in lines]
    names = [f.name for f in attrs.fields(kind.record_class)] + list(kind.facts.derived)
    for name in names:
        stored = [None if v is ABSENT else v for batch in batches for v in batch[name]]
        assert stored == [getattr(record, name) for record in precise], name
    if kind is RecordKind.DMS_LOG and memo == codec.ENTRY_MEMO:
        shared: dict[Any, Any] = {}
        for entries in (e for batch in batches for e in batch["sensitive_data_log"]):
            assert all(shared.setdefault(entry, entry) is entry for entry in entries)  # equal: one record


def test_a_dms_import_reads_its_logs_column_by_column_without_making_records(tmp_path: Any, monkeypatch: Any) -> None:
    from dsc_engine import sample

    recs = sample.generate(RecordKind.DMS_LOG, 300, seed=23)
    path = tmp_path / "dms.jsonl"
    path.write_text("".join(json.dumps(to_wire(r), ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")

    def no_records(self: Any, memo: Any) -> Any:
        def refuse(struct: Any) -> Any:
            raise AssertionError("a record was made of a struct")

        return refuse

    monkeypatch.setattr(codec._ClassCodec, "converter", no_records)
    target = Stores()
    report = imports.load_into(target, path)
    assert (report.read, report.loaded_total) == (300, 300)
    assert list(target.store(RecordKind.DMS_LOG).records_in_load_order()) == recs
