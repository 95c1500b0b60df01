"""Every record source answers exactly like the naive oracle: totals, pages, order, distinct.

Run on each backend of ``backends.NAMES``: the in-memory store, DuckDB, chDB (and a live
ClickHouse when one is configured); the SQL backends draw fewer examples (``backends.examples``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from backends import NAMES, Opened, examples, open_backend
from hypothesis import given
from hypothesis import strategies as st
from oracle import Oracle
from strategies import asts

from dsc_engine.models import RecordKind
from dsc_engine.query import ast
from dsc_engine.query.source import RecordSource
from dsc_engine.strategies import record_lists

KINDS = list(RecordKind)
DISTINCT = {
    RecordKind.AUDIT_LOG: "RuleId",
    RecordKind.MASKING_RUN: "TaskId",
    RecordKind.DMS_LOG: "UserName",
}
Fresh = Callable[[RecordKind], RecordSource]


@pytest.fixture(scope="module", params=NAMES)
def backend(request: pytest.FixtureRequest) -> Iterator[Opened]:
    """One backend per module and name: one DuckDB file, one chDB database."""
    opened = open_backend(request.param)
    yield opened
    opened.close()


@st.composite
def loaded(draw: st.DrawFn, kind: RecordKind, fresh: Fresh) -> tuple[RecordSource, Oracle]:
    """A source and an oracle holding the same records, inserted in the same batches."""
    batches = draw(st.lists(record_lists(kind, max_size=25), min_size=1, max_size=4))
    source, oracle = fresh(kind), Oracle(kind)
    for batch in batches:
        source.insert(batch)
        oracle.insert(batch)
    return source, oracle


def _same_everywhere(source: RecordSource, oracle: Oracle, node: ast.Node, size: int) -> None:
    everything = oracle.ordered(node)
    assert source.count(node) == len(everything)
    assert list(source.iter_ordered(node)) == everything
    for offset in range(0, len(everything) + size, size):
        page = source.query(node, offset, size)
        assert page.total == len(everything)
        assert list(page.records) == everything[offset : offset + size]


def test_pages_equal_the_oracle(backend: Opened) -> None:
    @examples(backend.name)
    @given(st.sampled_from(KINDS).flatmap(lambda k: st.tuples(loaded(k, backend.fresh), asts(k))), st.integers(1, 7))
    def check(setup: tuple[tuple[RecordSource, Oracle], ast.Node], size: int) -> None:
        (source, oracle), node = setup
        _same_everywhere(source, oracle, node, size)

    check()


def test_distinct_equals_the_oracle(backend: Opened) -> None:
    @examples(backend.name)
    @given(st.sampled_from(KINDS).flatmap(lambda k: st.tuples(loaded(k, backend.fresh), asts(k))), st.integers(0, 40))
    def check(setup: tuple[tuple[RecordSource, Oracle], ast.Node], offset: int) -> None:
        (source, oracle), node = setup
        field = DISTINCT[source.kind]
        page = source.query(node, offset, 5, distinct=field)
        assert (page.total, list(page.records)) == oracle.query(node, offset, 5, distinct=field)

    check()


def test_load_order_is_kept(backend: Opened) -> None:
    @examples(backend.name)
    @given(st.sampled_from(KINDS).flatmap(lambda k: loaded(k, backend.fresh)))
    def check(setup: tuple[RecordSource, Oracle]) -> None:
        source, oracle = setup
        assert list(source.records_in_load_order()) == oracle.records
        assert len(source) == len(oracle.records)

    check()
