"""Text the SQL engines treat otherwise than Python answers as in memory: case folding beyond
ASCII (``ß``, ``ſ``, ``İ``, ``ǅ``, ``ﬁ``, final sigma, the Kelvin sign), NUL and control
characters, LIKE's ``%`` and ``_``, quotes and backslashes, emoji, empty strings beside absent
values; needles also holding a lone surrogate, which no table can store. Every leaf the filter
language has on text, negated and combined, and RuleAggQuery's grouping, on each backend of
``backends.NAMES`` against the memory engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from backends import SQL_NAMES, Opened, examples, open_backend
from hypothesis import given
from hypothesis import strategies as st

from dsc_engine.models import AuditLog, RecordKind
from dsc_engine.query import ast
from dsc_engine.store import Store

AUDIT = RecordKind.AUDIT_LOG
#: Letters whose folding differs between Python and SQL, and characters SQL text is touchy about.
LETTERS = "aAsSßẞſıIİi\u0307ǅǆǄﬁKk\u212aΣσςΐ\x00\x01%_\\'\"😀é\u0301 \t\n"
STORED = st.text(alphabet=LETTERS, max_size=5)
NEEDLES = st.one_of(STORED, st.text(alphabet=LETTERS + "\ud800\udfff", max_size=4))
FIELDS = ("UserName", "SqlText", "OperateType", "RuleId")


@pytest.fixture(scope="module", params=SQL_NAMES)
def backend(request: pytest.FixtureRequest) -> Iterator[Opened]:
    opened = open_backend(request.param)
    yield opened
    opened.close()


def _leaves(field: str) -> st.SearchStrategy[ast.Node]:
    return st.one_of(
        st.builds(ast.Contains, st.just(field), NEEDLES),
        st.builds(ast.StartsWith, st.just(field), NEEDLES),
        st.builds(ast.EqualsIgnoreCase, st.just(field), NEEDLES),
        st.builds(lambda value: ast.Compare(field, ast.CompareOp.EQ, value), NEEDLES),
        st.builds(lambda value: ast.Compare(field, ast.CompareOp.NE, value), NEEDLES),
        st.lists(NEEDLES, min_size=1, max_size=3).map(lambda values: ast.InSet(field, tuple(dict.fromkeys(values)))),
    )


LEAVES = st.sampled_from(FIELDS).flatmap(_leaves)
FILTERS = st.one_of(
    LEAVES,
    LEAVES.map(ast.Not),
    st.lists(LEAVES, min_size=2, max_size=3).map(lambda items: ast.And(tuple(items))),
    st.tuples(LEAVES, LEAVES).map(lambda pair: ast.Or((pair[0], ast.Not(pair[1])))),
)
RECORDS = st.lists(
    st.builds(
        AuditLog,
        creation_time=st.integers(0, 2),
        **{name: st.one_of(st.none(), STORED) for name in ("user_name", "sql_text", "operate_type", "rule_id")},
    ),
    min_size=1,
    max_size=12,
)


def test_text_filters_answer_as_in_memory(backend: Opened) -> None:
    @examples(backend.name)
    @given(st.lists(RECORDS, min_size=1, max_size=2), st.lists(FILTERS, min_size=1, max_size=4))
    def check(batches: list[list[AuditLog]], filters: list[ast.Node]) -> None:
        source, memory = backend.fresh(AUDIT), Store(AUDIT)
        for batch in batches:
            source.insert(batch)
            memory.insert(batch)
        for node in filters:
            for distinct in (None, "RuleId"):
                expected = memory.query(node, 0, 100, distinct=distinct)
                got = source.query(node, 0, 100, distinct=distinct)
                assert (got.total, list(got.records)) == (expected.total, list(expected.records)), (node, distinct)
            assert source.count(node) == memory.count(node)
            page = source.query(node, 2, 3)
            assert list(page.records) == list(memory.query(node, 2, 3).records)

    check()
