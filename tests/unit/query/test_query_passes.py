"""Each planner pass alone, on hand-written ASTs, and each checked for meaning on records."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import matches
from strategies import asts, field_leaves, ranges

from dsc_engine.models import RecordKind
from dsc_engine.query import ast
from dsc_engine.wire import types
from dsc_engine.wire.catalog import FIELDS, NESTED
from dsc_engine.query.passes import (
    NOTHING,
    PASSES,
    flatten,
    merge_ranges,
    merge_sets,
    normalize_ne,
    optimize,
    push_not_down,
    settled,
)
from dsc_engine.strategies import records

EQ, NE, LT, LE, GT, GE = (ast.CompareOp[n] for n in ("EQ", "NE", "LT", "LE", "GT", "GE"))
USER = ast.Compare("UserName", EQ, "admin")
IP = ast.Compare("ClientIp", EQ, "10.*.*.94")
SQL = ast.Contains("SqlText", "select")


def test_normalize_ne_spells_inequality_as_negated_equality() -> None:
    assert normalize_ne(ast.Compare("UserName", NE, "x")) == ast.Not(ast.Compare("UserName", EQ, "x"))
    nested = ast.Or((ast.Compare("UserName", NE, "x"), IP))
    assert normalize_ne(nested) == ast.Or((ast.Not(ast.Compare("UserName", EQ, "x")), IP))
    assert normalize_ne(ast.Compare("EffectRow", LT, 3)) == ast.Compare("EffectRow", LT, 3)


def test_flatten_merges_junctions_and_folds_constants() -> None:
    assert flatten(ast.And((USER, ast.And((IP, SQL))))) == ast.And((USER, IP, SQL))
    assert flatten(ast.And((USER, ast.MatchAll()))) == USER
    assert flatten(ast.And((USER, NOTHING))) == NOTHING
    assert flatten(ast.Or((USER, ast.MatchAll()))) == ast.MatchAll()
    assert flatten(ast.Or((USER, NOTHING))) == USER
    assert flatten(ast.Or(())) == NOTHING
    assert flatten(ast.And(())) == ast.MatchAll()
    assert flatten(ast.Not(ast.Not(USER))) == USER
    assert flatten(ast.And((USER, USER))) == USER


def test_push_not_down_applies_de_morgan_but_keeps_negated_leaves() -> None:
    assert push_not_down(ast.Not(ast.And((USER, IP)))) == ast.Or((ast.Not(USER), ast.Not(IP)))
    assert push_not_down(ast.Not(ast.Or((USER, ast.Not(IP))))) == ast.And((ast.Not(USER), IP))
    below = ast.Not(ast.Compare("EffectRow", LT, 5))  # absent EffectRow matches it: stays negated
    assert push_not_down(below) == below
    entry = ast.AnyEntry("SensitiveDataLog", ast.Not(ast.Not(ast.Compare("TableName", EQ, "t"))))
    assert push_not_down(entry) == ast.AnyEntry("SensitiveDataLog", ast.Compare("TableName", EQ, "t"))


def test_merge_ranges_intersects_bounds_on_one_field() -> None:
    node = ast.And((ast.Compare("EffectRow", GT, 1), USER, ast.Compare("EffectRow", LE, 9)))
    assert merge_ranges(node) == ast.And((ast.Range("EffectRow", 1, 9, False, True), USER))
    tight = ast.And((ast.Range("EffectRow", 1, 9), ast.Range("EffectRow", 1, 5, False, False)))
    assert merge_ranges(tight) == ast.Range("EffectRow", 1, 5, False, False)
    assert merge_ranges(ast.Compare("EffectRow", GE, 2)) == ast.Range("EffectRow", 2, None)
    apart = ast.And((ast.Range("EffectRow", 1, None), ast.Range("ExecuteTime", None, 4)))
    assert merge_ranges(apart) == apart
    assert merge_ranges(ast.Or((ast.Range("EffectRow", 1, 2), ast.Range("EffectRow", 5, 6)))) == ast.Or(
        (ast.Range("EffectRow", 1, 2), ast.Range("EffectRow", 5, 6))
    )


def test_ranges_on_one_field_that_do_not_meet_are_nothing() -> None:
    # "EffectRow >= 5 and EffectRow <= 4" was the range [5 4], which explain showed as filter
    # text the parser refuses; no value is in it, so the conjunction matches no record
    for low, high in [(GE, LE), (GT, LT), (GT, LE), (GE, LT)]:
        node = ast.And((ast.Compare("EffectRow", low, 5), USER, ast.Compare("EffectRow", high, 4)))
        assert merge_ranges(node) == NOTHING and optimize(node) == NOTHING
    touching = ast.And((ast.Compare("EffectRow", GT, 5), ast.Compare("EffectRow", LE, 5)))
    assert optimize(touching) == NOTHING
    point = ast.And((ast.Compare("EffectRow", GE, 5), ast.Compare("EffectRow", LE, 5)))
    assert optimize(point) == ast.Range("EffectRow", 5, 5)


def test_merge_sets_turns_alternative_equalities_into_one_set() -> None:
    node = ast.Or((USER, IP, ast.InSet("UserName", ("dev01", "admin")), SQL))
    expected = ast.Or((ast.InSet("UserName", ("admin", "dev01")), IP, SQL))
    assert merge_sets(node) == expected
    assert merge_sets(ast.And((USER, IP))) == ast.And((USER, IP))


def test_merge_sets_turns_excluded_values_into_one_excluded_set() -> None:
    """``not a and not b`` is ``not (a or b)``: the exclusions of one field are one negated set
    (a record lacking the field matches both forms). A SQL engine takes time quadratic in the
    conditions of a statement, and ClickHouse refuses one over 256 KiB: 6,000 ``!=`` on one field
    failed there, where the memory engine answered."""
    other = ast.Not(ast.Compare("UserName", EQ, "root"))
    node = ast.And((ast.Not(USER), ast.Not(IP), SQL, ast.Not(ast.InSet("UserName", ("dev01", "admin"))), other))
    expected = ast.And((ast.Not(ast.InSet("UserName", ("admin", "dev01", "root"))), ast.Not(IP), SQL))
    assert merge_sets(node) == expected
    lone = ast.And((ast.Not(USER), ast.Not(IP)))
    assert merge_sets(lone) is lone
    assert merge_sets(ast.Or((ast.Not(USER), other))) == ast.Or((ast.Not(USER), other))
    assert not settled(ast.And((ast.Not(USER), SQL, other)))
    assert optimize(ast.Not(ast.Or((USER, other.item)))) == ast.Not(ast.InSet("UserName", ("admin", "root")))


def test_the_passes_are_the_visible_tuple_in_order() -> None:
    assert PASSES[0] is normalize_ne and push_not_down in PASSES and PASSES[-1] is flatten
    node = ast.Not(ast.Or((ast.Compare("UserName", NE, "a"), ast.Compare("EffectRow", GT, 3))))
    assert optimize(node) == ast.And((ast.Compare("UserName", EQ, "a"), ast.Not(ast.Range("EffectRow", 3, None, False))))


@given(st.sampled_from(list(RecordKind)).flatmap(lambda k: st.tuples(st.just(k), asts(k), st.lists(records(k), max_size=20))))
def test_every_pass_keeps_the_meaning(case: tuple[RecordKind, ast.Node, list[object]]) -> None:
    kind, node, recs = case
    catalog, nested = FIELDS[kind], NESTED[kind]
    before = [matches(node, r, catalog, nested) for r in recs]
    for rewrite in PASSES:
        node = rewrite(node)
        assert [matches(node, r, catalog, nested) for r in recs] == before, rewrite.__name__


def test_a_filter_the_passes_leave_unchanged_comes_back_itself() -> None:
    """Planning a request's filter is on its first answer's path: a filter already in the form
    the passes produce is returned as it is, not rebuilt node by node."""
    window = ast.Range("CreationTime", 1, 5)
    node = ast.And((window, ast.Compare("UserName", ast.CompareOp.EQ, "a"), ast.Not(ast.Contains("SqlText", "x"))))
    assert optimize(node) is node
    either = ast.Or((ast.InSet("UserName", ("a", "b")), ast.Contains("SqlText", "x")))
    assert optimize(either) is either
    assert optimize(ast.And((node, either))).items[0] is window  # rebuilt above, kept below


def _conjunctions_of_leaves(kind: RecordKind) -> st.SearchStrategy[ast.Node]:
    """Leaves, negated or not, and ``And``s of two to four of them on at most two fields (so
    that two ranges, or two equal leaves, of one field are often drawn together): the shapes
    ``settled`` may accept."""
    valued = sorted(name for name, spec in FIELDS[kind].items() if spec.type is not types.ENTRIES)
    ordered = [name for name in valued if FIELDS[kind][name].type.ordered]
    specs = st.sampled_from(ordered).flatmap(
        lambda first: st.sampled_from(valued).map(lambda second: (first, second))
    )

    def conjunctions(names: tuple[str, str]) -> st.SearchStrategy[ast.Node]:
        plain = st.sampled_from(names).flatmap(lambda name: field_leaves(FIELDS[kind][name]))
        leaves = plain | plain.map(ast.Not) | ranges(FIELDS[kind][names[0]])
        return leaves | st.lists(leaves, min_size=1, max_size=4).map(lambda items: ast.And(tuple(items)))

    return specs.flatmap(conjunctions)


@settings(max_examples=500)  # no records drawn: an example costs microseconds
@given(st.sampled_from(list(RecordKind)).flatmap(_conjunctions_of_leaves) | st.sampled_from(list(RecordKind)).flatmap(asts))
def test_a_settled_filter_is_one_every_pass_returns_itself(node: ast.Node) -> None:
    """``optimize`` skips the passes for a filter ``settled`` accepts: each pass must then have
    returned that very node (a wrong acceptance would skip a rewrite the planner relies on)."""
    if settled(node):
        for rewrite in PASSES:
            assert rewrite(node) is node, rewrite.__name__


def test_settled_accepts_a_requests_usual_filter_and_nothing_a_pass_would_rewrite() -> None:
    window = ast.Range("CreationTime", 1, 5)
    assert settled(USER) and settled(ast.Not(SQL)) and settled(ast.And((window, USER, ast.Not(IP))))
    rewritten = [
        ast.Compare("UserName", NE, "a"),  # respelled as not (=)
        ast.Compare("EffectRow", GT, 3),  # respelled as a range
        ast.Not(ast.Not(USER)),
        ast.And((USER,)),  # one operand
        ast.And((USER, USER)),  # repeated
        ast.And((window, ast.Range("CreationTime", 2, 9))),  # two ranges on one field merge
        ast.And((USER, ast.And((IP, SQL)))),  # nested
        ast.And((USER, ast.MatchAll())),
        ast.Or((USER, IP)),
    ]
    for node in rewritten:
        assert not settled(node), node
        assert optimize(node) == _all_passes(node)


def _all_passes(node: ast.Node) -> ast.Node:
    for rewrite in PASSES:
        node = rewrite(node)
    return node
