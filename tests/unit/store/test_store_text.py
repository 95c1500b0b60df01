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
    assert list(_index(values).rows((needle,))) == _naive(values, needle)


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
    assert list(_index(values).rows((needle,))) == rows == _naive(values, needle)


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
    assert list(_index(values).rows((needle,), first, stop)) == expected


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
    assert list(index.among((needle,), rows)) == expected  # few rows for their span: one by one
    assert list(index.among((needle,), range(len(values)))) == _naive(values, needle)  # the span at once
    assert [row for row in rows if index.test((needle,))(row)] == expected
    test = index.test((needle,))  # asked of every row, twice: past its budget it answers from one search
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

    def counted(self: TextIndex, texts: tuple[str, ...], first: int = 0, stop: int | None = None) -> object:
        searches.append((first, stop))
        return rows(self, texts, first, stop)

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


#: Bytes a pattern reads as syntax: a needle holding them must still stand for itself.
META = ".*+?()[]{}|\\^$"
needle_texts = st.text(alphabet=st.sampled_from(TRICKY + META), max_size=4)


def _naive_any(values: list[str | None], needles: list[str]) -> list[int]:
    folded = [needle.casefold() for needle in needles]
    return [
        row for row, value in enumerate(values)
        if value is not None and any(needle in value.casefold() for needle in folded)
    ]


@st.composite
def values_and_needles(draw: st.DrawFn) -> tuple[list[str | None], list[str]]:
    """Texts, and needles that overlap, start one another, differ by case only, hold pattern
    syntax, or are cut from the texts; few of them (a ``find`` each) or many (one pattern)."""
    values = draw(st.lists(st.none() | st.text(alphabet=st.sampled_from(TRICKY + META), max_size=8), max_size=30))
    present = [value for value in values if value]
    cut = st.nothing() if not present else st.sampled_from(present).flatmap(
        lambda value: st.tuples(st.integers(0, len(value)), st.integers(0, len(value))).map(
            lambda ends: value[min(ends) : max(ends)]))
    needle = st.one_of(needle_texts, cut, cut.map(str.swapcase), cut.map(lambda text: text + "x"))
    needles = draw(st.lists(needle, min_size=1, max_size=14))
    return values, [text for text in needles if has_text_path(ast.Contains("SqlText", text))] or ["a"]


@settings(max_examples=300, deadline=None)
@given(values_and_needles(), st.data())
def test_a_search_for_several_needles_finds_the_rows_holding_any(
    found: tuple[list[str | None], list[str]], data: st.DataObject
) -> None:
    """An ``or`` of substrings is one search of the text: a ``find`` per needle when they are
    few, one pattern (a trie of the escaped needles) when they are many; either finds exactly
    the rows holding one of them, in a run of rows, among chosen rows and row by row."""
    values, needles = found
    texts = tuple(needles)
    index, expected = _index(values), _naive_any(values, needles)
    assert list(index.rows(texts)) == expected
    first, stop = sorted(data.draw(st.tuples(st.integers(0, len(values)), st.integers(0, len(values)))))
    assert list(index.rows(texts, first, stop)) == [row for row in expected if first <= row < stop]
    rows = sorted(data.draw(st.sets(st.integers(0, max(len(values) - 1, 0)))) if values else [])
    assert list(index.among(texts, rows)) == [row for row in expected if row in rows]
    assert list(index.among(texts, range(len(values)))) == expected
    test = index.test(texts)
    assert [row for row in range(len(values)) for _ in range(2) if test(row)] == sorted(expected * 2)


def test_needles_of_pattern_syntax_and_prefixes_of_one_another() -> None:
    values = ["a.c", "abc", "A|B", "x(y", "ss", "STRASSE", "za", None, "", "\\d", "[ab]", "aaab"]
    for needles in (
        ["a.c", "(", "|", "\\d", "[ab]", "$", "^", "*", "?", "+", "{"],  # each only itself
        ["a", "aa", "aaa", "ab", "abc", "z", "zz", "zza", "q", "qq", "ß"],  # prefixes of one another
        ["SS", "ss", "Ss", "sS", "ß", "ẞ", "STRASSE", "strasse", "x", "y", "z"],  # one needle once folded
        ["a" * depth + "b" for depth in range(80)],  # a trie too deep to be one pattern: written flat
    ):
        assert list(_index(values).rows(tuple(needles))) == _naive_any(values, needles), needles


def _distinct_store(values: list[str | None], users: list[str | None]) -> tuple[Store, Oracle]:
    """A store whose ``SqlText`` values are mostly distinct (a text index answers them)."""
    records = [
        AuditLog(creation_time=1_000 + i % 7, sql_text=None if value is None else f"{value} #{i}",
                 user_name=users[i % len(users)], message=f"m{i % 3}")
        for i, value in enumerate(values)
    ]
    store, oracle = Store(RecordKind.AUDIT_LOG), Oracle(RecordKind.AUDIT_LOG)
    store.insert(records)
    oracle.insert(records)
    return store, oracle


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.none() | st.text(alphabet=st.sampled_from(TRICKY + META), max_size=6), min_size=1, max_size=30),
    st.lists(st.none() | st.sampled_from(["admin", "Admin", "dev.ops", "DEV", "ß", ""]), min_size=1, max_size=4),
    st.lists(st.tuples(st.sampled_from(["contains", "startswith", "ieq", "="]), needle_texts | st.just("#1")),
             min_size=1, max_size=14),
    st.data(),
)
def test_ors_of_many_substrings_and_prefixes_equal_the_oracle(
    values: list[str | None], users: list[str | None], leaves: list[tuple[str, str]], data: st.DataObject,
) -> None:
    """``or``s of many ``contains`` and ``startswith`` on one field (the text column, searched
    once for all its needles, and a column of few values, whose prefixes are runs of its sorted
    values), with empty needles, pattern syntax, needles differing by case or starting one
    another, mixed with other leaves, with ``not`` and with other conditions: the oracle's
    records, page and total."""
    make = {"contains": ast.Contains, "startswith": ast.StartsWith, "ieq": ast.EqualsIgnoreCase,
            "=": lambda field, text: ast.Compare(field, ast.CompareOp.EQ, text)}
    store, oracle = _distinct_store(values, users)
    for field in ("SqlText", "UserName"):
        nodes = [make[op](field, text) for op, text in leaves]
        texts = [node for node in nodes if isinstance(node, (ast.Contains, ast.StartsWith))] or nodes
        some = ast.Or(tuple(texts)) if len(texts) > 1 else texts[0]
        every = ast.Or(tuple(nodes)) if len(nodes) > 1 else nodes[0]
        flipped = [ast.Not(node) if data.draw(st.booleans()) else node for node in nodes]
        for node in (
            some,
            every,
            ast.Not(some),
            ast.Not(every),
            ast.And((ast.Compare("Message", ast.CompareOp.EQ, "m1"), some)),
            ast.And((ast.Range("CreationTime", 1_002, None), ast.Not(some))),
            ast.Or((*texts, ast.Compare("Message", ast.CompareOp.EQ, "m2"))),
            ast.Or(tuple(flipped)) if len(flipped) > 1 else flipped[0],
            ast.And(tuple(flipped)) if len(flipped) > 1 else flipped[0],
        ):
            page = store.query(node, 0, None)
            assert (page.total, list(page.records)) == oracle.query(node, 0, None), node
            page = store.query(node, 1, 3)
            assert (page.total, list(page.records)) == oracle.query(node, 1, 3), node


def test_an_or_of_many_substrings_is_one_search_of_the_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """50 ``contains`` or'ed were 50 searches of the text (or a test of every distinct text);
    they are one, whether they drive, are scanned for, or are the complement's (``not``), and
    no distinct text is tested in Python."""
    from unittest import mock

    store, oracle = _distinct_store([f"select {i} from t{i % 13}" for i in range(2_000)], ["u1", "u2"])
    searches: list[int] = []
    finds = TextIndex._rows

    def counted(self: TextIndex, *args: object) -> object:
        searches.append(1)
        return finds(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(TextIndex, "_rows", counted)
    needles = tuple(ast.Contains("SqlText", f"FROM t{i} #") for i in range(50))
    with mock.patch("dsc_engine.store.columns.compile_over", side_effect=AssertionError("tested values")):
        for node in (
            ast.Or(needles),
            ast.Not(ast.Or(needles)),
            ast.And((ast.Compare("UserName", ast.CompareOp.EQ, "u1"), ast.Or(needles))),
            ast.And((ast.Compare("UserName", ast.CompareOp.EQ, "u1"), ast.Not(ast.Or(needles)))),
        ):
            searches.clear()
            page = store.query(node, 0, 10)
            assert (page.total, list(page.records)) == oracle.query(node, 0, 10)
            assert len(searches) <= 2, (node, len(searches))  # the complement's and the residual's


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.none() | texts, max_size=6), min_size=1, max_size=4), st.lists(texts, min_size=1, max_size=6)
)
def test_prefix_codes_are_runs_of_the_sorted_values(batches: list[list[str | None]], prefixes: list[str]) -> None:
    """``startswith`` tested every distinct value of the column against every prefix (100
    or'ed over 50,000 distinct texts: 7 s); a prefix's values are a run of the values sorted by
    their case-folded text, sorted for an ``or`` of many prefixes and kept as the table grows.
    The codes are those of the naive test, absent left out, for many prefixes, then one, an
    ``or`` of a few, and one with lookups; none is found by testing values."""
    from unittest import mock

    from dsc_engine.store.columns import _SORTED_PREFIXES, Intern
    from dsc_engine.wire.catalog import FIELDS

    table = Intern(FIELDS[RecordKind.AUDIT_LOG]["SqlText"])
    nodes = [ast.StartsWith("SqlText", prefix) for prefix in prefixes]
    many = ast.Or((*nodes, *(ast.StartsWith("SqlText", f"{i}") for i in range(_SORTED_PREFIXES))))
    lookup = ast.Compare("SqlText", ast.CompareOp.EQ, prefixes[0])
    for batch in batches:
        table.encode(batch)
        with mock.patch("dsc_engine.store.columns.compile_over", side_effect=AssertionError("tested values")):
            for node in [many, *nodes, ast.Or(tuple(nodes)), ast.Or((*nodes, lookup))]:
                items = node.items if isinstance(node, ast.Or) else (node,)
                expected = {
                    code for code, value in enumerate(table.values) if value is not None and any(
                        value.casefold().startswith(item.text.casefold()) if isinstance(item, ast.StartsWith)
                        else value == item.value for item in items)  # type: ignore[attr-defined]
                }
                assert table.matching(node) == expected
