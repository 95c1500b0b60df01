"""The text index: substring search over mostly distinct text gives exactly the oracle's rows,
including characters whose case folding changes the length and values holding the separator."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import Oracle

from dsc_engine.models import AuditLog, RecordKind
from dsc_engine.query import ast
from dsc_engine.query.plan import IndexKind
from dsc_engine.store import Store
from dsc_engine.store.text import TextIndex, has_text_path

#: Characters whose case folding is special: longer ('ß' -> 'ss', 'İ' -> 'i̇', 'ﬁ' -> 'fi'),
#: Greek final sigma, the separator itself, a lone surrogate and wide characters.
TRICKY = "aAbBsSßẞİiIıﬁσςΣK\u212a\x00\ud800é\u0301中文 "
texts = st.text(alphabet=st.sampled_from(TRICKY), max_size=8)


def _naive(values: list[str | None], needle: str) -> list[int]:
    folded = needle.casefold()
    return [row for row, value in enumerate(values) if value is not None and folded in value.casefold()]


def _index(values: list[str | None]) -> TextIndex:
    table: list[str | None] = [None, *dict.fromkeys(v for v in values if v is not None)]
    code = {value: number for number, value in enumerate(table)}
    folded = [b"" if v is None else v.casefold().encode("utf-8", "surrogatepass") for v in table]
    return TextIndex.build([code[v] for v in values], folded)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.none() | texts, max_size=30), texts)
def test_text_index_rows_equal_the_naive_casefold_test(values: list[str | None], needle: str) -> None:
    if not has_text_path(ast.Contains("SqlText", needle)):
        return  # empty, or holding the separator once folded: the per-value test answers
    assert list(_index(values).rows(needle)) == _naive(values, needle)


@pytest.mark.parametrize(
    ("values", "needle", "rows"),
    [
        (["STRASSE", "straße", "Strasse"], "ß", [0, 1, 2]),  # 'ß' folds to 'ss'
        (["STRASSE", "straße"], "sSe", [0, 1]),
        (["İstanbul", "istanbul", "ISTANBUL"], "İ", [0]),  # 'İ' folds to 'i' + combining dot
        (["İstanbul", "istanbul"], "i", [0, 1]),
        (["a\x00b", "ab"], "b", [0, 1]),  # a value holding the separator is still one row
        (["x", "yx", None, "xx"], "x", [0, 1, 3]),  # a row found once, however many matches
    ],
)
def test_text_index_cases(values: list[str | None], needle: str, rows: list[int]) -> None:
    assert list(_index(values).rows(needle)) == rows == _naive(values, needle)


def test_needles_without_a_text_path() -> None:
    assert not has_text_path(ast.Contains("SqlText", ""))
    assert not has_text_path(ast.Contains("SqlText", "a\x00"))
    assert not has_text_path(ast.EqualsIgnoreCase("SqlText", "a"))
    assert has_text_path(ast.Contains("SqlText", "ß"))


def _store(values: list[str]) -> tuple[Store, Oracle]:
    records = [AuditLog(creation_time=1_000 + i % 7, sql_text=v, message=f"m{i % 3}") for i, v in enumerate(values)]
    store, oracle = Store(RecordKind.AUDIT_LOG), Oracle(RecordKind.AUDIT_LOG)
    store.insert(records)
    oracle.insert(records)
    return store, oracle


@settings(max_examples=100, deadline=None)
@given(st.lists(texts, min_size=1, max_size=25), texts, texts)
def test_store_substring_queries_through_the_text_index_equal_the_oracle(
    values: list[str], needle: str, other: str
) -> None:
    store, oracle = _store(values)
    contains = ast.Contains("SqlText", needle)
    for node in (
        contains,
        ast.Not(contains),
        ast.And((contains, ast.Compare("Message", ast.CompareOp.EQ, "m1"))),
        ast.Or((contains, ast.Contains("SqlText", other))),
        ast.And((ast.Range("CreationTime", 1_002, None), contains)),
    ):
        page = store.query(node, 0, None)
        total, expected = oracle.query(node, 0, None)
        assert (page.total, list(page.records)) == (total, expected), node


def test_a_mostly_distinct_column_is_searched_by_its_text_index() -> None:
    store, oracle = _store([f"select {i} from Straße" for i in range(40)])
    segment = store.segments()[0]
    assert segment.is_text("sql_text") and not segment.is_text("message")
    node = ast.Contains("SqlText", "STRASSE")
    assert store.count(node) == 40 == len(oracle.ordered(node))
    assert segment.has_index(IndexKind.TEXT, "sql_text")
    assert not segment.has_index(IndexKind.HASH, "sql_text")  # no posting list per distinct text


@settings(max_examples=150, deadline=None)
@given(st.lists(st.none() | texts, max_size=30), texts, st.integers(0, 32), st.integers(0, 32))
def test_a_text_search_within_a_run_of_rows_finds_exactly_those_rows(
    values: list[str | None], needle: str, first: int, stop: int
) -> None:
    if not has_text_path(ast.Contains("SqlText", needle)):
        return
    first, stop = min(first, len(values)), min(stop, len(values))
    expected = [row for row in _naive(values, needle) if first <= row < stop]
    assert list(_index(values).rows(needle, first, stop)) == expected


@settings(max_examples=150, deadline=None)
@given(st.lists(st.none() | texts, max_size=30), texts, st.data())
def test_a_text_test_of_chosen_rows_finds_exactly_those_that_match(
    values: list[str | None], needle: str, data: st.DataObject
) -> None:
    if not has_text_path(ast.Contains("SqlText", needle)):
        return
    rows = sorted(data.draw(st.sets(st.integers(0, max(len(values) - 1, 0)))) if values else [])
    expected = [row for row in _naive(values, needle) if row in rows]
    index = _index(values)
    assert list(index.among(needle, rows)) == expected  # few rows for their span: one by one
    assert list(index.among(needle, range(len(values)))) == _naive(values, needle)  # the span at once
    assert [row for row in rows if index.test(needle)(row)] == expected
    test = index.test(needle)  # asked of every row, twice: past its budget it answers from one search
    assert [row for row in range(len(values)) for _ in range(2) if test(row)] == sorted(
        _naive(values, needle) * 2)


def test_a_substring_query_searches_the_text_once_and_a_probe_searches_only_its_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Planning costs a text path without searching (a search costs what answering does), and
    a text condition checked on a selective driver's rows reads those rows' text only."""
    records = [
        AuditLog(creation_time=1_000 + i % 7, sql_text=f"select {i} from Straße" if i % 50 else f"UNION select {i}",
                 message="rare" if i % 100 == 1 else f"m{i % 3}")
        for i in range(2_000)
    ]
    store, oracle = Store(RecordKind.AUDIT_LOG), Oracle(RecordKind.AUDIT_LOG)
    store.insert(records)
    oracle.insert(records)
    searches: list[tuple[int, int | None]] = []
    rows = TextIndex.rows

    def counted(self: TextIndex, text: str, first: int = 0, stop: int | None = None) -> object:
        searches.append((first, stop))
        return rows(self, text, first, stop)

    monkeypatch.setattr(TextIndex, "rows", counted)
    node = ast.Contains("SqlText", "union SELECT")
    for _ in range(2):  # the same work the first time and the second
        searches.clear()
        page = store.query(node, 0, 10)
        assert (page.total, list(page.records)) == oracle.query(node, 0, 10)
        assert len(searches) == 1
    searches.clear()
    probe = ast.And((ast.Compare("Message", ast.CompareOp.EQ, "rare"), ast.Contains("SqlText", "straSSe")))
    assert "hash index Message" in store.explain(probe)
    page = store.query(probe, 0, 10)
    assert (page.total, list(page.records)) == oracle.query(probe, 0, 10)
    assert searches == []  # 20 candidates over 2,000 rows: each row's text is tested on its own


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.none() | texts, max_size=6), min_size=1, max_size=4), st.lists(texts, min_size=1, max_size=4))
def test_ieq_codes_are_looked_up_by_folded_value(batches: list[list[str | None]], needles: list[str]) -> None:
    """``SqlText ieq "..."`` found its codes by a ``casefold`` of every distinct value of the
    column (200 of them or'ed over 50,000 distinct texts: 2 s to plan); the table keeps its codes
    by case-folded value, grown as values are interned, so each is one lookup (44 ms). The codes
    are those of the naive test, absent left out, as the table grows between lookups; none is
    found by testing values."""
    from unittest import mock

    from dsc_engine.store.columns import Intern
    from dsc_engine.wire.catalog import FIELDS

    table = Intern(FIELDS[RecordKind.AUDIT_LOG]["SqlText"])
    nodes = [ast.EqualsIgnoreCase("SqlText", needle) for needle in needles]
    for batch in batches:
        table.encode(batch)
        with mock.patch("dsc_engine.store.columns.compile_over", side_effect=AssertionError("tested values")):
            for node in [*nodes, ast.Or(tuple(nodes))]:
                folded = {needle.casefold() for needle in needles} if isinstance(node, ast.Or) else {node.value.casefold()}
                expected = {code for code, value in enumerate(table.values) if value is not None and value.casefold() in folded}
                assert table.matching(node) == expected
