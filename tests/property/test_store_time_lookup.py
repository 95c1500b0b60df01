"""The store's time-order path (``TimeLookup``: a primary-time condition inside an ``or``, or a
set of times) answers exactly like the naive oracle: sets, ranges open or closed on either side,
times shared by rows of several segments, beside a plan window, negated, and probed."""

from __future__ import annotations

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import Oracle

from dsc_engine import sample
from dsc_engine.models import RecordKind
from dsc_engine.query import ast
from dsc_engine.store import Store
from dsc_engine.wire.catalog import PRIMARY_TIME

EQ = ast.CompareOp.EQ


@st.composite
def segment_sizes(draw: st.DrawFn) -> list[int]:
    """Batch sizes that stay apart as segments: each under a quarter of the one before (the
    store merges a batch into the previous segment when it is at least that)."""
    sizes = [draw(st.integers(1, 200))]
    for _ in range(draw(st.integers(0, 3))):
        if sizes[-1] < 5:
            break
        sizes.append(draw(st.integers(1, sizes[-1] // 5)))
    return sizes


def _loaded(kind: RecordKind, seed: int, pool: int, sizes: list[int]) -> tuple[Store, Oracle, list]:
    """A store of several segments and an oracle holding the same records, whose primary times
    come from a pool of ``pool`` values: many rows share a time, within and across segments."""
    records = sample.generate(kind, sum(sizes), seed=seed)
    attr = kind.facts.primary_time
    times = sorted({getattr(r, attr) for r in records})[:pool]
    records = [attrs.evolve(r, **{attr: times[i * 7 % len(times)]}) for i, r in enumerate(records)]
    store, oracle = Store(kind), Oracle(kind)
    start = 0
    for size in sizes:
        store.insert(records[start : start + size])
        oracle.insert(records[start : start + size])
        start += size
    return store, oracle, times


@st.composite
def time_nodes(draw: st.DrawFn, field: str, times: list, other: ast.Node) -> ast.Node:
    """A filter whose primary-time condition the plan window cannot hold alone."""
    def value() -> object:
        return draw(st.sampled_from(times))

    def condition() -> ast.Node:
        shape = draw(st.sampled_from(["eq", "set", "range", "ge", "lt"]))
        if shape == "eq":
            return ast.Compare(field, EQ, value())
        if shape == "set":
            return ast.InSet(field, tuple(dict.fromkeys(draw(st.lists(st.sampled_from(times), min_size=1, max_size=5)))))
        if shape == "range":
            low, high = sorted((value(), value()))
            return ast.Range(field, low, high, draw(st.booleans()), draw(st.booleans()))
        op = ast.CompareOp.GE if shape == "ge" else ast.CompareOp.LT
        return ast.Compare(field, op, value())

    inner = ast.Or((condition(), other)) if draw(st.booleans()) else condition()
    if draw(st.booleans()):
        inner = ast.Or((inner, condition()))
    if draw(st.booleans()):
        inner = ast.Not(inner)
    extra = draw(st.sampled_from(["none", "window", "probe"]))
    if extra == "window":
        low, high = sorted((value(), value()))
        return ast.And((ast.Range(field, low, high, draw(st.booleans()), draw(st.booleans())), inner))
    if extra == "probe":
        return ast.And((other, inner))
    return inner


OTHER = {
    RecordKind.AUDIT_LOG: lambda r: ast.Compare("UserName", EQ, r.user_name),
    RecordKind.MASKING_RUN: lambda r: ast.Compare("TaskId", EQ, r.task_id),
    RecordKind.DMS_LOG: lambda r: ast.Compare("UserName", EQ, r.user_name),
}


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(list(RecordKind)),
    st.integers(0, 50),
    st.integers(1, 40),
    segment_sizes(),
    st.data(),
)
def test_time_order_answers_equal_the_oracle(kind, seed, pool, sizes, data):
    store, oracle, times = _loaded(kind, seed, pool, sizes)
    assert len(store.segments()) == len(sizes)
    other = OTHER[kind](data.draw(st.sampled_from(oracle.records)))
    node = data.draw(time_nodes(PRIMARY_TIME[kind], times, other))
    expected = oracle.ordered(node)
    assert store.count(node) == len(expected)
    assert list(store.iter_ordered(node)) == expected
    page = store.query(node, 1, 3)
    assert (page.total, list(page.records)) == (len(expected), expected[1:4])
