"""The planner's choice of window, access path and residual, and ``explain``."""

from __future__ import annotations

import collections

import attrs

from oracle import matches

from dsc_engine.models import RecordKind
from dsc_engine.query import ast
from dsc_engine.query.passes import NOTHING
from dsc_engine.query.plan import (
    Access,
    Complement,
    EntryLookup,
    EntryPairLookup,
    FullScan,
    HashLookup,
    IndexKind,
    IntersectOf,
    NoRows,
    SortedLookup,
    TimeLookup,
    UnionOf,
    Window,
    choose,
)
from dsc_engine.sample import generate
from dsc_engine.store import Store
from dsc_engine.wire.catalog import FIELDS, NESTED

EQ, GT = ast.CompareOp.EQ, ast.CompareOp.GT
USER = ast.Compare("UserName", EQ, "admin")
IP = ast.Compare("ClientIp", EQ, "10.1.1.1")
ROWS = ast.Range("EffectRow", 10, None)
SQL = ast.Contains("SqlText", "drop")
TIME = ast.Range("CreationTime", 1_000, 2_000)


@attrs.define
class FakeStats:
    """Statistics with fixed costs per field (the planner reads nothing else)."""

    kind: RecordKind = RecordKind.AUDIT_LOG
    rows: int = 1_000
    costs: dict[str, int] = attrs.Factory(dict)

    def index_kind(self, field: str) -> IndexKind | None:
        if field in ("EffectRow", "ExecuteTime"):
            return IndexKind.SORTED
        return None if field == "SensitiveDataLog" else IndexKind.HASH

    def entry_indexed(self, field: str, entry_field: str) -> bool:
        return entry_field in ("TableName", "ColumnName")

    def window_rows(self, window: Window | None) -> int:
        return self.rows if window is None else self.rows // 10

    def cost(self, access: Access, window: Window | None) -> int:
        if isinstance(access, UnionOf):
            return sum(self.cost(item, window) for item in access.items)
        if isinstance(access, IntersectOf):
            return self.cost(access.driver, window)
        field = getattr(access, "entry_field", None) or access.field  # type: ignore[attr-defined]
        return self.costs.get(field, self.rows)


class _NegatedStats(FakeStats):
    """A negated lookup costs more than a scan (it reads nearly every row's posting list)."""

    def cost(self, access: Access, window: Window | None) -> int:
        if isinstance(access, HashLookup) and isinstance(access.node, ast.Not):
            return 10 * self.rows
        return super().cost(access, window)


def test_time_bounds_become_the_window_and_leave_the_residual() -> None:
    plan = choose(ast.And((TIME, ast.Compare("CreationTime", GT, 1_500), SQL)), FakeStats())
    assert plan.window == Window(1_500, 2_000, False, True)
    assert plan.access == FullScan()
    assert plan.residual == SQL


def test_the_most_selective_index_drives_and_every_other_index_is_probed() -> None:
    stats = FakeStats(costs={"UserName": 50, "ClientIp": 5, "EffectRow": 300})
    plan = choose(ast.And((USER, IP, ROWS, SQL)), stats)
    probes = (HashLookup("UserName", USER), SortedLookup("EffectRow", ROWS), HashLookup("SqlText", SQL))
    assert plan.access == IntersectOf(HashLookup("ClientIp", IP), probes)  # smallest first
    assert plan.residual == ast.MatchAll()  # every conjunct is answered by the intersection
    assert plan.access_cost == 5 and plan.scan_cost == 1_000
    assert "intersect (hash index ClientIp" in plan.explain()


def test_sorted_index_for_number_ranges() -> None:
    plan = choose(ast.And((USER, ROWS)), FakeStats(costs={"EffectRow": 7}))
    assert plan.access == IntersectOf(SortedLookup("EffectRow", ROWS), (HashLookup("UserName", USER),))
    assert plan.residual == ast.MatchAll()


def test_a_scan_wins_when_no_index_is_cheaper_than_the_window() -> None:
    plan = choose(ast.And((TIME, USER)), FakeStats(costs={"UserName": 100}))  # window holds 100
    assert plan.access == FullScan()
    assert plan.residual == USER


def test_or_of_indexed_branches_is_a_union() -> None:
    node = ast.Or((USER, IP))
    plan = choose(node, FakeStats(costs={"UserName": 3, "ClientIp": 4}))
    assert plan.access == UnionOf((HashLookup("UserName", USER), HashLookup("ClientIp", IP)))
    assert plan.residual == ast.MatchAll()
    dear = FakeStats(costs={"UserName": 2_000, "SqlText": 2_000, "CreationTime": 2_000})  # 6,000 > 4 passes of 1,000
    assert choose(ast.Or((USER, SQL, ast.Range("CreationTime", 1, 2))), dear).access == FullScan()


def test_an_or_of_indexed_conjunctions_is_a_union_of_intersections() -> None:
    """``(UserName = "a" and EffectRow > 1) or ...``: each branch is answered by its cheapest index
    and probed with the others; it was a scan testing every branch on every row (1,000 such pairs
    over 3,000 records: ~3 s, now ~0.15 s)."""
    more = ast.Range("EffectRow", 5, None)
    node = ast.Or((ast.And((USER, ROWS)), ast.And((IP, more))))
    plan = choose(node, FakeStats(costs={"UserName": 3, "ClientIp": 4, "EffectRow": 300}))
    assert plan.access == UnionOf((
        IntersectOf(HashLookup("UserName", USER), (SortedLookup("EffectRow", ROWS),)),
        IntersectOf(HashLookup("ClientIp", IP), (SortedLookup("EffectRow", more),)),
    ))
    assert plan.residual == ast.MatchAll()  # every branch answered exactly
    store = Store(RecordKind.AUDIT_LOG)
    records = generate(RecordKind.AUDIT_LOG, 400, seed=3)
    store.insert(records)
    users = sorted({r.user_name for r in records if r.user_name is not None})[:5]
    pairs = tuple(ast.And((ast.Compare("UserName", EQ, u), ast.Range("EffectRow", 10 * i, None))) for i, u in enumerate(users))
    branches = ast.Or(pairs)
    assert "union of (intersect" in store.explain(branches)
    expected = {id(r) for r in records if any(
        r.user_name == u and r.effect_row is not None and r.effect_row >= 10 * i for i, u in enumerate(users))}
    result = store.query(branches, 0, 1_000)
    assert result.total == len(expected) > 0
    # a branch whose cheapest path is not its union: the union cannot probe, and the Or is scanned
    ip = records[0].client_ip
    either = ast.Or((ast.Compare("OperateType", EQ, "SELECT"), ast.Compare("WarnLevel", EQ, "1")))
    node = ast.Or((ast.And((ast.Compare("ClientIp", EQ, ip), either)), ast.Compare("UserName", EQ, users[0])))
    expected_rows = [r for r in records if (r.client_ip == ip and (r.operate_type == "SELECT" or r.warn_level == "1"))
                     or r.user_name == users[0]]
    assert store.query(node, 0, 1_000).total == len(expected_rows) > 0


def test_a_branch_conjunct_without_a_path_is_tested_on_that_branchs_candidates() -> None:
    """``(ClientIp = "a" and EffectRow != 0) or ...``: a branch's conjunct with no index path
    (``!=`` on a sorted column, a substring of a text column, a union) made the whole ``or`` a
    scan testing every branch on every row (50 such branches over 100,000 records: 5.2 s); the
    branch is now its indexed conjuncts' intersection, the others tested on its candidates."""
    other = ast.Not(ast.Compare("EffectRow", EQ, 0))  # as the optimizer writes ``!=``
    either = ast.Or((USER, IP))
    node = ast.Or((ast.And((IP, other)), ast.And((ast.Compare("UserName", EQ, "b"), ROWS, either))))
    plan = choose(node, FakeStats(costs={"UserName": 3, "ClientIp": 4, "EffectRow": 300}))
    assert plan.access == UnionOf((
        IntersectOf(HashLookup("ClientIp", IP), (), (other,)),
        IntersectOf(HashLookup("UserName", ast.Compare("UserName", EQ, "b")), (SortedLookup("EffectRow", ROWS),), (either,)),
    ))
    assert plan.residual == ast.MatchAll()
    assert "test not EffectRow = 0" in plan.explain()
    unindexed = ast.And((other, ast.Not(ast.Compare("ExecuteTime", EQ, 1))))  # no conjunct has a path
    assert choose(ast.Or((unindexed, USER)), FakeStats()).access == FullScan()
    store = Store(RecordKind.AUDIT_LOG)
    records = generate(RecordKind.AUDIT_LOG, 600, seed=5)
    store.insert(records)
    ips = sorted({r.client_ip for r in records if r.client_ip is not None})[:6]
    users = sorted({r.user_name for r in records if r.user_name is not None})[:2]
    branches = [ast.And((ast.Compare("ClientIp", EQ, ip), ast.Compare("EffectRow", ast.CompareOp.NE, i),
                         ast.Not(ast.Contains("SqlText", "select")))) for i, ip in enumerate(ips)]
    branches.append(ast.And((ast.Compare("ClientIp", EQ, ips[0]), ast.Or(tuple(ast.Compare("UserName", EQ, u) for u in users)))))
    query = ast.Or(tuple(branches))
    assert "; test " in store.explain(query)
    expected = [r for r in records if matches(query, r, FIELDS[RecordKind.AUDIT_LOG], NESTED)]
    got = store.query(query, 0, 1_000)
    assert got.total == len(expected) > 0
    assert sorted(map(repr, got.records)) == sorted(map(repr, expected))


def test_a_scan_is_weighed_by_the_branches_it_would_test_on_every_row() -> None:
    """A scan tests an ``or`` of several fields' conditions branch by branch on every row: a
    union of its branches' candidates costing more rows than the window can still be far less
    work (300 two-field branches over 100,000 records: 2.7 s scanned, 0.12 s as a union)."""
    branches = tuple(ast.And((ast.Compare("ClientIp", EQ, f"10.0.0.{i}"), ast.Not(ast.Compare("EffectRow", EQ, i))))
                     for i in range(3))
    stats = FakeStats(costs={"ClientIp": 600})  # 3 x 600 candidates, a window of 1,000 rows
    plan = choose(ast.Or(branches), stats)
    assert isinstance(plan.access, UnionOf) and len(plan.access.items) == 3
    one_field = ast.Or((ast.Compare("ClientIp", EQ, "10.0.0.1"), ast.Contains("ClientIp", "10.0.1")))
    assert choose(one_field, stats).access == FullScan()  # one pass over each row, in C: 1,200 > 1,000


def test_a_primary_time_condition_the_window_cannot_hold_reads_the_time_order() -> None:
    """Inside an ``or``, or as a set of values, a condition on the primary time is answered by
    the rows' time order (one binary search per window), not by a scan testing every row."""
    plan = choose(ast.Or((USER, TIME)), FakeStats(costs={"UserName": 3, "CreationTime": 5}))
    assert plan.access == UnionOf((HashLookup("UserName", USER), TimeLookup("CreationTime", TIME, (Window(1_000, 2_000),))))
    assert plan.residual == ast.MatchAll()
    points = ast.InSet("CreationTime", (5, 7))
    plan = choose(points, FakeStats(costs={"CreationTime": 2}))
    assert plan.access == TimeLookup("CreationTime", points, (Window(5, 5), Window(7, 7)))
    assert plan.window is None and plan.residual == ast.MatchAll()
    before = ast.Compare("CreationTime", ast.CompareOp.LT, 9)  # the optimizer makes it a range
    assert choose(ast.Or((USER, before)), FakeStats(costs={"UserName": 3, "CreationTime": 5})).access.items[1] == (  # type: ignore[attr-defined]
        TimeLookup("CreationTime", ast.Range("CreationTime", None, 9, True, False), (Window(high=9, high_inclusive=False),))
    )
    other = ast.Compare("CreationTime", ast.CompareOp.NE, 9)
    assert choose(ast.Or((USER, other)), FakeStats(costs={"UserName": 3}, rows=2)).access == FullScan()
    # ... but it is not (CreationTime = 9 and not USER): the window minus that equality's rows
    negated = ast.Compare("CreationTime", EQ, 9)
    assert choose(ast.Or((USER, other)), _NegatedStats(costs={"UserName": 3, "CreationTime": 5})).access == Complement(
        IntersectOf(TimeLookup("CreationTime", negated, (Window(9, 9),)), (HashLookup("UserName", ast.Not(USER)),)))


def test_time_order_rows_equal_a_scan_of_the_records() -> None:
    store = Store(RecordKind.AUDIT_LOG)
    records = generate(RecordKind.AUDIT_LOG, 400, seed=7)
    store.insert(records[:250])
    store.insert(records[250:])  # two segments
    times = sorted({r.creation_time for r in records})
    user = records[3].user_name
    nodes = [
        ast.InSet("CreationTime", (times[5], times[200], times[-1], 1)),
        ast.Or((ast.Compare("UserName", EQ, user), ast.Range("CreationTime", times[100], times[140]))),
        ast.Or((ast.Compare("CreationTime", ast.CompareOp.GE, times[390]), ast.Compare("CreationTime", EQ, times[0]))),
    ]
    for node in nodes:
        assert "time order CreationTime" in store.explain(node)
        page = store.query(node, 0, None)
        expected = [r for r in records if _matches(node, r)]
        assert page.total == len(expected)
        assert sorted(map(repr, page.records)) == sorted(map(repr, expected))


def test_a_time_of_another_type_than_the_field_s_is_scanned_and_matches_nothing() -> None:
    """A set or an ``or`` holding a value no record's time can equal (text for an integer time,
    an aware datetime for DMS wall-clock times) took the time-order path and failed to compare
    (TypeError); it is tested on rows as before, and matches nothing."""
    import datetime as dt

    audit = Store(RecordKind.AUDIT_LOG)
    audit.insert(generate(RecordKind.AUDIT_LOG, 50, seed=7))
    text = ast.InSet("CreationTime", ("soon",))
    assert audit.query(text, 0, None).total == 0 and "time order" not in audit.explain(text)
    either = ast.Or((ast.Compare("CreationTime", EQ, True), ast.Compare("UserName", EQ, "nobody")))
    assert audit.query(either, 0, None).total == 0
    dms = Store(RecordKind.DMS_LOG)
    dms.insert(generate(RecordKind.DMS_LOG, 50, seed=7))
    aware = ast.InSet("OpTime", (dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc),))
    assert dms.query(aware, 0, None).total == 0
    naive = ast.InSet("OpTime", (dms.query(ast.MatchAll(), 0, 1).records[0].op_time,))
    assert dms.query(naive, 0, None).total >= 1 and "time order OpTime" in dms.explain(naive)


def test_a_time_given_twice_in_a_set_counts_its_rows_once() -> None:
    store = Store(RecordKind.AUDIT_LOG)
    store.insert(generate(RecordKind.AUDIT_LOG, 50, seed=7))
    time = store.query(ast.MatchAll(), 0, 1).records[0].creation_time
    once = store.query(ast.InSet("CreationTime", (time,)), 0, None).total
    assert store.query(ast.InSet("CreationTime", (time, time)), 0, None).total == once >= 1


def _matches(node: ast.Node, record: object) -> bool:
    """The naive meaning of the few nodes above."""
    if isinstance(node, ast.Or):
        return any(_matches(item, record) for item in node.items)
    value = getattr(record, "creation_time" if node.field == "CreationTime" else "user_name")  # type: ignore[attr-defined]
    if isinstance(node, ast.InSet):
        return value in node.values
    if isinstance(node, ast.Range):
        return node.low <= value <= node.high
    assert isinstance(node, ast.Compare)
    return value == node.value if node.op is EQ else value >= node.value


def test_entry_lookup_is_exact_only_for_a_one_field_condition() -> None:
    table = ast.Compare("TableName", EQ, "users")
    column = ast.Compare("ColumnName", EQ, "phone")
    stats = FakeStats(RecordKind.DMS_LOG, costs={"TableName": 2, "SensitiveDataLog": 3})
    exact = ast.AnyEntry("SensitiveDataLog", table)
    plan = choose(exact, stats)
    assert plan.access == EntryLookup("SensitiveDataLog", "TableName", table)
    assert plan.residual == ast.MatchAll()
    both = ast.AnyEntry("SensitiveDataLog", ast.And((table, column)))
    plan = choose(both, stats)
    assert plan.access == EntryPairLookup("SensitiveDataLog", table, column)  # pairs of one entry
    assert plan.residual == ast.MatchAll()
    assert "entry pair index SensitiveDataLog.(TableName, ColumnName)" in plan.explain()
    like = ast.Contains("ColumnName", "ph")
    loose = ast.AnyEntry("SensitiveDataLog", ast.And((table, like)))
    plan = choose(loose, stats)
    driver = EntryLookup("SensitiveDataLog", "TableName", table, exact=False)
    probe = EntryLookup("SensitiveDataLog", "ColumnName", like, exact=False)
    assert plan.access == IntersectOf(driver, (probe,))  # both entry postings intersected
    assert plan.residual == loose  # one entry must match both: verified per candidate


def test_a_filter_that_matches_nothing_reads_nothing() -> None:
    assert choose(ast.And((USER, NOTHING)), FakeStats()).access == NoRows()
    assert choose(ast.Not(ast.Or((ast.MatchAll(), USER))), FakeStats()).access == NoRows()


def test_negated_leaves_stay_residual_on_a_scan_when_not_selective() -> None:
    plan = choose(ast.Not(USER), FakeStats(costs={"UserName": 1_900}))  # many lists to merge
    assert plan.access == FullScan()
    assert plan.residual == ast.Not(USER)


def test_an_unselective_negation_is_the_window_minus_its_index_path() -> None:
    rows_in = ast.Range("EffectRow", 1, 33)
    node = ast.And((ast.Not(USER), ast.Not(rows_in)))
    plan = choose(node, FakeStats(costs={"UserName": 1_900, "EffectRow": 400}))
    assert plan.access == Complement(SortedLookup("EffectRow", rows_in))  # cheapest excluded rows
    assert plan.residual == ast.Not(USER)
    assert "the window minus (sorted index EffectRow" in plan.explain()
    inexact = ast.AnyEntry("SensitiveDataLog", ast.And((ast.Compare("TableName", EQ, "t"), ast.Compare("ColumnName", EQ, "c"))))
    assert choose(ast.Not(inexact), FakeStats(RecordKind.DMS_LOG, costs={"TableName": 2})).access == FullScan()


def test_other_cheap_negations_widen_the_complement_into_a_union() -> None:
    """``not X and not Y`` is the window minus X's and Y's rows: Y joins the complement when its
    rows cost less than testing the rows the complement leaves, and stays residual otherwise."""
    rows_in, slow = ast.Range("EffectRow", 1, 33), ast.Range("ExecuteTime", 500, None)
    node = ast.And((ast.Not(USER), ast.Not(rows_in), ast.Not(slow)))
    plan = choose(node, FakeStats(costs={"UserName": 1_900, "EffectRow": 150, "ExecuteTime": 400}))
    assert plan.access == Complement(UnionOf((SortedLookup("EffectRow", rows_in), SortedLookup("ExecuteTime", slow))))
    assert plan.residual == ast.Not(USER)  # 1,900 rows to produce, against ~450 left to test
    assert plan.access_cost == 550
    assert "access:   the window minus (union of (sorted index EffectRow" in plan.explain()


def test_a_scan_of_an_or_costs_a_pass_per_field_of_its_branches() -> None:
    """A scan tests an ``or`` in one pass over the window per group of branches on one field
    (``store/vector.py``), and a pass per other branch: 1,000 branches ``ClientIp = v and
    EffectRow > n`` over 20,000 records were scanned 1,000 times (1.1 s) because their union
    (~100,000) cost more than the window's rows; it is the union now (0.16 s). An ``or`` of one
    field's values is still scanned in one pass when its union costs more than the window."""
    branches = tuple(ast.And((ast.Compare("ClientIp", EQ, f"10.0.0.{i}"), ast.Range("EffectRow", i, None))) for i in range(20))
    plan = choose(ast.Or(branches), FakeStats(costs={"ClientIp": 100, "EffectRow": 600}))  # 2,000 > 1,000 rows
    assert isinstance(plan.access, UnionOf) and len(plan.access.items) == 20
    assert plan.residual == ast.MatchAll()
    same_field = ast.Or(tuple(ast.Range("EffectRow", 10 * i, 10 * i + 3) for i in range(20)))
    assert choose(same_field, FakeStats(costs={"EffectRow": 100})).access == FullScan()


def test_a_negated_conjunction_is_the_window_minus_its_intersection() -> None:
    """``not (ClientIp = a and EffectRow > n)`` reaches the planner as ``not ClientIp = a or not
    EffectRow > n``, which it took for a test of every row: 300 such conjuncts over 100,000
    records were 300 passes over the window (13-22 s). Each is now the window minus the
    intersection of its two index paths, folded into one complement (0.12 s)."""
    more = ast.Range("EffectRow", 5, None)
    node = ast.And((ast.Or((ast.Not(IP), ast.Not(ROWS))), ast.Or((ast.Not(USER), ast.Not(more)))))
    plan = choose(node, FakeStats(costs={"UserName": 3, "ClientIp": 4, "EffectRow": 300}))
    assert plan.access == Complement(UnionOf((  # the cheapest first
        IntersectOf(HashLookup("UserName", USER), (SortedLookup("EffectRow", more),)),
        IntersectOf(HashLookup("ClientIp", IP), (SortedLookup("EffectRow", ROWS),)),
    )))
    assert plan.residual == ast.MatchAll()
    store = Store(RecordKind.AUDIT_LOG)
    records = generate(RecordKind.AUDIT_LOG, 6_000, seed=4)  # past the scanned answers' 4,096 rows
    store.insert(records)
    ips = sorted({r.client_ip for r in records if r.client_ip is not None})
    for count in (1, 2, 30):
        pairs = [(ips[i], 10 * i) for i in range(count)]
        node = ast.Not(ast.Or(tuple(
            ast.And((ast.Compare("ClientIp", EQ, ip), ast.Range("EffectRow", low, None, False))) for ip, low in pairs)))
        assert "the window minus" in store.explain(node)
        expected = [r for r in records if not any(
            r.client_ip == ip and r.effect_row is not None and r.effect_row > low for ip, low in pairs)]
        page = store.query(node, 0, None)
        assert page.total == len(expected) < len(records)
        assert collections.Counter(page.records) == collections.Counter(expected)


def test_an_or_with_negated_branches_is_the_window_minus_an_intersection() -> None:
    """``not a or not b or c`` is ``not (a and b and not c)``: an ``and`` of 300 such ``or``s
    over 100,000 records was a scan testing each ``or`` on nearly every row (14.5 s); each is now
    the window minus the intersection of ``a``'s and ``b``'s paths, ``not c`` tested on its
    candidates, folded into one complement (~0.1 s). An ``or`` with no negated branch is left
    as it was."""
    stats = _NegatedStats(costs={"UserName": 3, "ClientIp": 4, "EffectRow": 300})
    node = ast.And((ast.Or((ast.Not(IP), ast.Not(USER), ROWS)), ast.Or((ast.Not(USER), ROWS))))
    plan = choose(node, stats)
    assert plan.access == Complement(UnionOf((
        IntersectOf(HashLookup("UserName", USER), (HashLookup("ClientIp", IP),), (ast.Not(ROWS),)),
        IntersectOf(HashLookup("UserName", USER), (), (ast.Not(ROWS),)),
    )))
    assert plan.residual == ast.MatchAll()
    assert choose(ast.Or((IP, ROWS)), stats).access == UnionOf((HashLookup("ClientIp", IP), SortedLookup("EffectRow", ROWS)))
    store = Store(RecordKind.AUDIT_LOG)
    records = generate(RecordKind.AUDIT_LOG, 2_000, seed=5)
    store.insert(records)
    held = [r for r in records if r.client_ip is not None and r.user_name is not None and r.effect_row is not None]
    for count in (1, 2, 15):
        node = ast.And(tuple(ast.Or((  # each excludes the records of one address and user below some rows
            ast.Not(ast.Compare("ClientIp", EQ, r.client_ip)), ast.Not(ast.Compare("UserName", EQ, r.user_name)),
            ast.Range("EffectRow", r.effect_row + 1 + i % 3, None),
        )) for i, r in enumerate(held[: 100 * count : 100])))
        assert "the window minus" in store.explain(node)
        expected = [r for r in records if matches(node, r, FIELDS[RecordKind.AUDIT_LOG], NESTED[RecordKind.AUDIT_LOG])]
        page = store.query(node, 0, None)
        assert page.total == len(expected) < len(records)
        assert collections.Counter(page.records) == collections.Counter(expected)


def test_explain_names_window_access_and_residual() -> None:
    store = Store(RecordKind.AUDIT_LOG)
    records = generate(RecordKind.AUDIT_LOG, 400, seed=7)
    store.insert(records)
    user = records[0].user_name
    newest = max(r.creation_time for r in records)
    node = ast.And(
        (
            ast.Range("CreationTime", newest - 86_400_000, newest),
            ast.Compare("UserName", EQ, user),
            ast.Or((ast.Contains("SqlText", "select"), ast.Range("CreationTime", None, 5))),
        )
    )
    text = store.explain(node)
    assert text.startswith("audit_log store: 400 rows in segments of 400")
    assert f"window:   CreationTime in [{newest - 86_400_000} {newest}]" in text
    assert f'access:   hash index UserName: UserName = "{user}"' in text
    assert 'residual: SqlText contains "select" or CreationTime' in text
    assert "scan the window" in store.explain(ast.MatchAll())
    assert "nothing" in store.explain(NOTHING)
