"""A state machine interleaving inserts and queries, against the oracle, on every backend
(``backends.NAMES``); and general properties of the in-memory store."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import pytest
from backends import NAMES, examples, open_backend
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from oracle import Oracle
from strategies import asts

from dsc_engine.models import RecordKind
from dsc_engine.query import ast
from dsc_engine.query.source import RecordSource
from dsc_engine.store import Store
from dsc_engine.strategies import record_lists

KINDS = st.sampled_from(list(RecordKind))


class StoreMachine(RuleBasedStateMachine):
    """Random batches and random requests; every answer equals the oracle's."""

    #: a new, empty source of a kind (the in-memory store here; a SQL table in the backend tests)
    fresh: Callable[[RecordKind], RecordSource] = Store

    @initialize(kind=KINDS)
    def start(self, kind: RecordKind) -> None:
        self.kind = kind
        self.store = type(self).fresh(kind)
        self.oracle = Oracle(kind)

    @rule(data=st.data())
    def insert(self, data: st.DataObject) -> None:
        batch = data.draw(record_lists(self.kind, max_size=40))
        assert self.store.insert(batch) == len(batch)
        self.oracle.insert(batch)

    @rule(data=st.data(), offset=st.integers(0, 60), limit=st.integers(0, 12))
    def query(self, data: st.DataObject, offset: int, limit: int) -> None:
        node = data.draw(asts(self.kind))
        page = self.store.query(node, offset, limit)
        assert (page.total, list(page.records)) == self.oracle.query(node, offset, limit)

    @rule(data=st.data())
    def count(self, data: st.DataObject) -> None:
        node = data.draw(asts(self.kind))
        assert self.store.count(node) == len(self.oracle.ordered(node))

    @invariant()
    def sizes_agree(self) -> None:
        assert len(self.store) == len(self.oracle.records)


@pytest.mark.parametrize("name", NAMES)
def test_the_store_machine_agrees_with_the_oracle(name: str) -> None:
    backend = open_backend(name)
    try:
        machine = type(f"{name}Machine", (StoreMachine,), {"fresh": staticmethod(backend.fresh)})
        settings = examples(name)
        if name != "memory":  # each step costs statements: fewer, shorter runs
            settings = type(settings)(settings, stateful_step_count=10)
        run_state_machine_as_test(machine, settings=settings)
    finally:
        backend.close()


@st.composite
def store_and_filter(draw: st.DrawFn, extra: int = 1) -> tuple[Store, list[ast.Node]]:
    kind = draw(KINDS)
    store = Store(kind)
    for batch in draw(st.lists(record_lists(kind, max_size=30), min_size=1, max_size=3)):
        store.insert(batch)
    return store, [draw(asts(kind)) for _ in range(extra)]


@given(store_and_filter(), st.integers(1, 9))
def test_pages_partition_the_result(setup: tuple[Store, list[ast.Node]], size: int) -> None:
    store, (node,) = setup
    everything = list(store.iter_ordered(node))
    pages: list[object] = []
    for offset in range(0, len(everything) + size, size):
        page = store.query(node, offset, size)
        assert page.total == len(everything)
        pages.extend(page.records)
    assert pages == everything  # no gap, no duplicate, stable order
    assert store.query(node, len(everything) + 3, size).records == []


@given(store_and_filter(extra=2))
def test_a_conjunct_never_grows_the_result(setup: tuple[Store, list[ast.Node]]) -> None:
    store, (node, more) = setup
    narrowed = store.query(ast.And((node, more)), 0, None)
    wide = store.query(node, 0, None)
    assert narrowed.total <= wide.total
    assert _is_subsequence(narrowed.records, wide.records)


@given(store_and_filter())
def test_a_filter_and_its_negation_cover_everything_once(setup: tuple[Store, list[ast.Node]]) -> None:
    store, (node,) = setup
    yes = list(store.iter_ordered(node))
    no = list(store.iter_ordered(ast.Not(node)))
    everything = list(store.iter_ordered(ast.MatchAll()))
    assert len(yes) + len(no) == len(store) == len(everything)
    assert Counter(yes + no) == Counter(everything)
    assert _is_subsequence(yes, everything) and _is_subsequence(no, everything)


def _is_subsequence(part: Sequence[object], whole: Sequence[object]) -> bool:
    rest = iter(whole)
    return all(any(item == other for other in rest) for item in part)
