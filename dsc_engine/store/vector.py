"""Row filters that run in C: a conjunct applied to a whole sequence of candidate rows at once.

A per-row Python predicate costs about a microsecond a row. Most conjuncts the planner meets can
instead be written as a chain of built-in iterators (``map`` over a column, a set's
``__contains__``, ``itertools.compress``) that never calls Python code per row:

- a filter on one coded field (any ``and``/``or``/``not`` of its leaves): the codes of the rows
  are looked up in the filter's set of matching codes (``Intern.matching``, which already gives
  ``not`` its absent-field meaning: code 0 is in the set of a negation);
- ``=``, ``in`` and ranges of an ``array('q')`` int column, and their ``not``: a ``range`` or a
  ``frozenset`` membership test (a range of at most ``_SET_SPAN`` values is a set of them: about
  twice as fast; the absent marker ``ABSENT_INT`` is never inside either, so an absent value
  fails the leaf and passes its ``not``);
- ``AnyEntry`` of a one-field entry condition: a row passes when its entry codes are not
  disjoint from the matching codes;
- an ``and`` of conjuncts that each have a form is their chain, and an ``or`` of several
  fields' conditions that each have one is the union of what each keeps.

Probing the column of a conjunct for each candidate of the most selective posting list is the
intersection of the two posting lists in time proportional to the smaller one.
"""

from __future__ import annotations

import bisect
import itertools
import math
import operator
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import attrs

from dsc_engine.query import ast
from dsc_engine.query.evaluate import compile_over
from dsc_engine.query.plan import fields_read, or_group, single_field
from dsc_engine.store.columns import ABSENT_INT, ENTRY_PREFIX, Schema
from dsc_engine.store.indexes import RowSeq
from dsc_engine.store.segment import Segment
from dsc_engine.wire.catalog import FIELDS, NESTED, FieldSpec
from dsc_engine.wire.types import Storage

RowFilter = Callable[[RowSeq], RowSeq]
_Item = TypeVar("_Item")
Selector = Callable[[Iterable[Any]], Iterable[Any]]  # column values -> truth of each

#: One past the largest value an ``array('q')`` holds.
_TOP = 2**63
#: A range of at most this many values is tested as a set of them.
_SET_SPAN = 256
#: An ``or`` of ranges and values on one int field of at most this many values in all is a set
#: of them; past it, a binary search of the intervals' bounds.
_SET_VALUES = 4096
#: An entry condition on several fields is decided per combination of their codes up to this many.
_ENTRY_COMBOS = 1 << 16
#: A filter on several coded fields is decided per combination of their codes when the
#: combinations times its leaves are at most this many.
_COMBO_TESTS = 1 << 18
#: ... and when it filters at least this many rows (fewer take its other C form).
_COMBO_ROWS = 1024
#: Filters whose matching code combinations a schema keeps (``_matching_codes``).
_MATCHING_KEPT = 64
#: ``either`` drops the rows kept so far from those its later parts test once a part keeps at
#: least 1/this of them (a part keeping fewer makes the next parts test a few rows twice).
_DROP_KEPT = 8


def row_filter(segment: Segment, node: ast.Node) -> RowFilter | None:
    """``rows -> the rows matching node`` (ascending in, ascending out), or ``None`` when ``node``
    has no C-level form (the caller then tests it row by row)."""
    if isinstance(node, ast.And):
        parts = [row_filter(segment, item) for item in node.items]
        if any(part is None for part in parts):
            return None
        return chained(parts)  # type: ignore[arg-type]
    searched = _text_filter(segment, node)
    if searched is not None:
        return searched
    if isinstance(node, ast.AnyEntry) and single_field(node.condition) is None:
        return _entries_filter(segment, node)
    found = _column_selector(segment, node)
    if found is not None:
        return _over(*found)
    if isinstance(node, ast.Or):  # of several fields' conditions (one field's is a selector above)
        branches: list[RowFilter | None] = []
        for group in _by_field(segment, node.items):
            joined = None if len(group) == 1 else _joined_filter(segment, group)
            branches += [joined] if joined is not None else [row_filter(segment, item) for item in group]
        if all(branch is not None for branch in branches):
            return either(branches)  # type: ignore[arg-type]
    return None


def codes_filter(segment: Segment, conjuncts: Sequence[ast.Node], rows: int) -> RowFilter | None:
    """Rows matching a filter on two or more coded fields of few values, in one pass in C: the
    filter is decided once per combination of their codes (from their intern tables, at most
    ``_COMBO_TESTS`` leaf tests in all), and a row is kept when its codes' tuple is a matching
    one. ``not ((SrcType = a and Status = b and DstType = c) or ...)``, 100 such conjunctions
    over 100,000 masking runs, was 100 ``or``s each read in a pass per field (1.4 s).

    The filter is the ``and`` of ``conjuncts``; ``None`` when it is not of this form (conjuncts
    each reading one field, which their selectors read, or another kind of column), or when the ``rows``
    it is to filter are fewer than ``_COMBO_ROWS`` or than the combinations (a selective
    query's candidates are filtered as before, and pay nothing for this)."""
    if rows < _COMBO_ROWS:
        return None
    reads = [found for found in map(fields_read, conjuncts) if found is not None]  # each walked once
    if len(reads) < len(conjuncts) or all(len(found) == 1 for found in reads):
        return None  # (conjuncts each on one field: each is one pass of its field's selector)
    node = ast.conjunction(tuple(conjuncts))
    if not isinstance(node, (ast.And, ast.Or, ast.Not)):
        return None
    fields: set[str] = set().union(*reads)
    schema = segment.schema
    if len(fields) < 2 or not all(schema.storage_of(field) == Storage.CODED for field in fields):
        return None
    names = sorted(fields)
    attrs_read = [schema.attr_of[name] for name in names]
    # every code of this segment is in its table as read now (a code is interned before use)
    sizes = [len(schema.tables[attr]) for attr in attrs_read]
    combos = math.prod(sizes)
    if combos > rows or combos * _leaves(node) > _COMBO_TESTS:
        return None
    contains = _matching_codes(schema, node, names, attrs_read, sizes).__contains__
    columns = [segment.columns[attr] for attr in attrs_read]

    def apply(rows: RowSeq) -> RowSeq:
        per_row = zip(*(_values_at(column, rows) for column in columns))
        return array("i", itertools.compress(rows, map(contains, per_row)))

    return apply


def clauses_filter(segment: Segment, conjuncts: Sequence[ast.Node], rows: int) -> tuple[RowFilter | None, set[int]]:
    """One pass in C for the conjuncts that are each an ``or`` of conditions on coded fields
    and ``=``, ``in`` and ranges of int fields (``(UserName = a or EffectRow >= 3) and ...``), and
    which of ``conjuncts`` it answers (by position). Conjunct ``i`` is bit ``i`` of a mask; a key
    of a column (a code, or for an int column the interval between two ends of its conditions'
    intervals that a value is in) carries the bits of the conjuncts it satisfies (the branches on
    that field: ``Intern.matching``, or ``_intervals``), a row's mask is the ``|`` of its
    columns' keys' masks, and the row is kept when it holds every bit. Reading each field once per
    row, whatever the number of conjuncts: 300 such conjuncts over 100,000 audit logs were each an
    ``or`` read in three passes over the ~40,000 rows they all kept (~10 s).

    A conjunct is taken when its branches' keys are at most ``rows`` (a key costs a mask update,
    a row a lookup per field): a negated branch matching most of a large table is filtered as
    before. ``None`` when the mask reads no fewer columns than the conjuncts taken
    would be read in alone (nothing is saved)."""
    if not _may_share_a_field(conjuncts):
        return None, set()  # (the usual filter: leaves, each on a field of its own)
    shapes = [(index, _mask_groups(segment, item)) for index, item in enumerate(conjuncts)]
    if not _saves_passes([groups for _, groups in shapes if groups is not None]):
        return None, set()  # (no field read by two conjuncts)
    tables = segment.schema.tables
    ends: dict[str, set[int]] = {}  # int attr -> the ends of every interval of its conditions
    for _, groups in shapes:
        for attr, node in groups or ():
            if attr not in tables:
                ends.setdefault(attr, set()).update(itertools.chain.from_iterable(_intervals(node) or ()))
    bounds = {attr: sorted(found) for attr, found in ends.items()}
    masks: dict[str, dict[int, int]] = {}  # attr -> key -> bits of the conjuncts it satisfies
    taken: dict[int, list[tuple[str, ast.Node]]] = {}
    for index, groups in shapes:
        if groups is None:
            continue
        matching = [(attr, *_mask_keys(segment, attr, node, bounds)) for attr, node in groups]
        if sum(size for _, size, _ in matching) > rows:
            continue
        bit = 1 << len(taken)
        taken[index] = groups
        for attr, _, keys in matching:
            mask = masks.setdefault(attr, {})
            for key in keys:
                mask[key] = mask.get(key, 0) | bit
    if not _saves_passes(list(taken.values())):
        return None, set()
    full = (1 << len(taken)) - 1
    lookups = [(segment.columns[attr], bounds.get(attr), mask.get) for attr, mask in masks.items()]

    def apply(rows: RowSeq) -> RowSeq:
        held: Iterable[int] | None = None
        for column, ends, get in lookups:
            keys = _values_at(column, rows)
            if ends is not None:  # an int value's key: the interval between two ends it is in
                keys = map(bisect.bisect_right, itertools.repeat(ends), keys)
            found = map(get, keys, itertools.repeat(0))
            held = found if held is None else map(operator.or_, held, found)
        return array("i", itertools.compress(rows, map(full.__eq__, held)))  # type: ignore[arg-type]

    return apply, set(taken)


def _may_share_a_field(conjuncts: Sequence[ast.Node]) -> bool:
    """Whether two of ``conjuncts`` may read one field, told from the fields their leaves and
    their ``or``s' leaf branches name, without walking them (a deeper node may read any): what
    a usual filter's residual is asked for each segment before anything else is."""
    seen: set[str] = set()
    for item in conjuncts:
        own: set[str] = set()
        for branch in item.items if isinstance(item, ast.Or) else (item,):
            leaf = branch.item if isinstance(branch, ast.Not) else branch
            field = getattr(leaf, "field", None)
            if field is None or isinstance(leaf, ast.AnyEntry):
                return True
            own.add(field)
        if not seen.isdisjoint(own):
            return True
        seen |= own
    return False


def _saves_passes(conjuncts: list[list[tuple[str, ast.Node]]]) -> bool:
    """Whether one mask of ``conjuncts`` (each its (attribute, condition) groups) reads fewer
    columns than their selectors would: two or more conjuncts, some column read by two."""
    columns = [attr for groups in conjuncts for attr, _ in groups]
    return len(conjuncts) > 1 and len(set(columns)) < len(columns)


def _mask_groups(segment: Segment, node: ast.Node) -> list[tuple[str, ast.Node]] | None:
    """``node`` as an ``or`` of conditions each on one coded field or the values of one int
    field (a field's branches joined), as (attribute, condition) pairs; ``None`` when a branch
    reads several fields, another kind of column, entries, or a text column's text index."""
    found: list[tuple[str, ast.Node]] = []
    schema = segment.schema
    for group in _by_field(segment, node.items if isinstance(node, ast.Or) else (node,)):
        field = single_field(group[0])
        if field is None:
            return None
        joined = group[0] if len(group) == 1 else ast.Or(tuple(group))
        attr = schema.attr_of[field]
        storage = schema.storage_of(field)
        if storage == Storage.CODED:
            if segment.has_text_branch(attr, joined):
                return None
        elif storage != Storage.INT or not isinstance(segment.columns[attr], array) or _intervals(joined) is None:
            return None
        found.append((attr, joined))
    return found


def _mask_keys(
    segment: Segment, attr: str, node: ast.Node, bounds: Mapping[str, list[int]]
) -> tuple[int, Iterable[int]]:
    """How many keys of column ``attr`` satisfy ``node`` (a group of ``_mask_groups``), at most,
    and those keys: the codes of a coded column; for an int one, the intervals between two
    consecutive ``bounds`` (the ends of every interval of the conditions on it, sorted) that
    the values of ``node`` make up, interval ``i`` holding the values ``v`` whose
    ``bisect_right(bounds, v)`` is ``i`` (an absent value, below every end, is in none)."""
    table = segment.schema.tables.get(attr)
    if table is not None:
        codes = table.matching(node)
        return len(codes), codes
    ends = bounds[attr]
    keys = [range(bisect.bisect_left(ends, start) + 1, bisect.bisect_left(ends, stop) + 1)
            for start, stop in _intervals(node) or ()]
    return sum(map(len, keys)), itertools.chain.from_iterable(keys)


def _matching_codes(
    schema: Schema, node: ast.Node, names: list[str], attrs_read: list[str], sizes: list[int]
) -> frozenset[tuple[int, ...]]:
    """The tuples of codes (of ``attrs_read``, below ``sizes``) whose values match ``node``,
    decided once per combination; kept on the schema (at most ``_MATCHING_KEPT`` filters) for the
    store's other segments and later queries while its tables are the same and as long."""
    interns = tuple(schema.tables[attr] for attr in attrs_read)
    key = (node, tuple(attrs_read), tuple(sizes))
    kept = schema.matching_codes.get(key)
    if kept is not None and all(map(operator.is_, kept[0], interns)):
        return kept[1]
    tables = [intern.values[:size] for intern, size in zip(interns, sizes)]
    test = _tuple_test(FIELDS[schema.kind], names, node)
    codes = itertools.product(*map(range, sizes))
    matching = frozenset(itertools.compress(codes, map(test, itertools.product(*tables))))
    if len(schema.matching_codes) >= _MATCHING_KEPT:
        schema.matching_codes.clear()
    schema.matching_codes[key] = (interns, matching)
    return matching


def _tuple_test(catalog: Mapping[str, FieldSpec], names: Sequence[str], node: ast.Node) -> Callable[[Any], bool]:
    """``node`` as a test of a tuple holding the values of the fields ``names``, in that order:
    how a condition on several fields of few values is decided once per combination of them."""
    getters = {name: attrs.evolve(catalog[name], get=operator.itemgetter(i)) for i, name in enumerate(names)}
    return compile_over(node, getters, {})


def _values_at(column: Any, rows: RowSeq) -> Iterable[Any]:
    """The values of ``column`` at ``rows``: a slice for a run of rows, else one lookup each (in C)."""
    if isinstance(rows, range) and rows.step == 1:
        return column[rows.start : rows.stop]  # type: ignore[no-any-return]
    return map(column.__getitem__, rows)


def _leaves(node: ast.Node) -> int:
    if isinstance(node, (ast.And, ast.Or)):
        return sum(map(_leaves, node.items))
    return _leaves(node.item) if isinstance(node, ast.Not) else 1


def _by_field(segment: Segment, items: tuple[ast.Node, ...]) -> list[list[ast.Node]]:
    """The branches of an ``or`` in groups, those on one field together in the place of the
    first, so that one selector may test them all in one pass over the rows (300 ranges of
    ``CreationTime`` or'ed with ``ClientIp`` values were 301 passes); a field's substrings that
    its text index answers are a group of their own, one search of the text for them all (50
    were 50 searches)."""
    groups: dict[tuple[str, bool], list[ast.Node]] = {}
    found: list[list[ast.Node]] = []
    for item in items:
        field = or_group(item)
        if field is None:
            found.append([item])
            continue
        searched = not isinstance(item, ast.AnyEntry) and segment.has_text_path(segment.schema.attr_of[field], item)
        group = groups.get((field, searched))
        if group is None:
            found.append(groups.setdefault((field, searched), []))
        groups[(field, searched)].append(item)
    return found


def _joined_filter(segment: Segment, group: list[ast.Node]) -> RowFilter | None:
    """One filter for a group of ``_by_field``, or ``None`` (its branches are then filtered one
    by one): the selector of the ``or`` of one field's branches, one search of a text index for
    its substrings, or the filter of one ``AnyEntry`` of the ``or`` of the entry conditions of a
    list field's."""
    if all(isinstance(item, ast.AnyEntry) for item in group):
        conditions = tuple(item.condition for item in group)  # type: ignore[attr-defined]
        return row_filter(segment, ast.AnyEntry(group[0].field, ast.Or(conditions)))  # type: ignore[attr-defined]
    joined = ast.Or(tuple(group))
    found = _column_selector(segment, joined)
    return _over(*found) if found is not None else _text_filter(segment, joined)


def _entries_filter(segment: Segment, node: ast.AnyEntry) -> RowFilter | None:
    """Rows having an entry that matches a condition on several entry fields, in C: the
    condition is decided once per combination of the values of the fields it reads (at most
    ``_ENTRY_COMBOS`` of them, from their intern tables), and a row is kept when the value tuples
    of its entries are not disjoint from the matching ones. An ``or`` of 200 ``(TableName = t
    and ColumnName = c)`` was tested entry by entry in Python (100,000 DMS logs: 13-18 s, now
    0.1-0.15 s)."""
    schema = segment.schema
    fields = fields_read(node.condition)
    if fields is None or len(fields) < 2 or not fields <= schema.entry_attr_of.keys():
        return None
    names = sorted(fields)
    tables = [list(schema.entry_tables[schema.entry_attr_of[name]].values) for name in names]
    if math.prod(map(len, tables)) > _ENTRY_COMBOS:
        return None
    entries = segment.columns[schema.entries_attr]
    if None in entries:  # no load stores it (a record without entries holds ``()``)
        return None
    test = _tuple_test(NESTED[schema.kind][node.field], names, node.condition)
    # every value an entry of this version holds is in its table, as read now
    disjoint = frozenset(filter(test, itertools.product(*tables))).isdisjoint
    key = operator.attrgetter(*(schema.entry_attr_of[name] for name in names))

    def apply(rows: RowSeq) -> RowSeq:
        keys = map(map, itertools.repeat(key), _values_at(entries, rows))
        return array("i", itertools.compress(rows, map(operator.not_, map(disjoint, keys))))

    return apply


def row_count(segment: Segment, node: ast.Node) -> Callable[[Iterable[int]], int] | None:
    """``rows -> how many of them match node`` (rows in any order), in C, or ``None`` when
    ``node`` is not one leaf-level conjunct with a C form (``row_filter`` then may still have one)."""
    found = _column_selector(segment, node)
    if found is None:
        return None
    column, selector = found
    return lambda rows: sum(selector(map(column.__getitem__, rows)))


def _column_selector(segment: Segment, node: ast.Node) -> tuple[Any, Selector] | None:
    """The column ``node`` reads and how its values say which rows match, for a filter on one
    coded field, one ``array('q')`` int field or a one-field ``AnyEntry`` (text searches of a
    column's text index are not column selectors: ``row_filter`` runs them)."""
    schema = segment.schema
    if isinstance(node, ast.AnyEntry):
        entry = single_field(node.condition)
        if entry is None:
            return None
        attr = schema.entry_attr_of[entry]
        disjoint = schema.entry_tables[attr].matching(node.condition).isdisjoint
        return segment.columns[f"{ENTRY_PREFIX}{attr}"], _negated(lambda v: map(disjoint, v))
    field = single_field(node)
    if field is None:
        return None
    attr = schema.attr_of[field]
    storage = schema.columns[attr].storage
    column = segment.columns[attr]
    if storage == Storage.CODED:
        if segment.has_text_branch(attr, node):
            return None
        contains = schema.tables[attr].matching(node).__contains__
        return column, lambda values: map(contains, values)
    if storage == Storage.INT and isinstance(column, array):
        selector = _int_selector(node)
        return None if selector is None else (column, selector)
    return None


def _text_filter(segment: Segment, node: ast.Node) -> RowFilter | None:
    """The filter of a node that the text index of its column answers (``Segment.text_needles``:
    a substring, or an ``or`` of substrings, one search for them all), or of its ``not``: the
    candidates' own bytes are searched, or their span at once when they are dense in it
    (``TextIndex.among``). ``None`` for any other node."""
    inner = node.item if isinstance(node, ast.Not) else node
    field = None if isinstance(inner, ast.AnyEntry) else single_field(inner)
    if field is None:
        return None
    attr = segment.schema.attr_of[field]
    texts = segment.text_needles(attr, inner)
    if texts is None:
        return None
    if inner is node:
        return lambda rows: segment.text_index(attr).among(texts, rows)

    def outside(rows: RowSeq) -> RowSeq:  # a row without the field holds no text: it is kept
        found = frozenset(segment.text_index(attr).among(texts, rows)).__contains__
        return array("i", itertools.filterfalse(found, rows))

    return outside


def joined_negations(segment: Segment, conjuncts: Sequence[_Item]) -> Sequence[_Item | ast.Not]:
    """``conjuncts`` with the ``not``s of substrings that one text index answers joined, in the
    place of the first, into the ``not`` of their ``or``: ``not a and not b`` is ``not (a or
    b)``, one search of the text for them all (``not (a or b or ...)`` of 50 needles reaches a
    residual as 50 conjuncts, which were 50 searches). Items that are no nodes (an
    intersection's probes, read later) are left as they are."""
    groups: dict[str, list[ast.Node]] = {}
    found: list[_Item | list[ast.Node]] = []
    for item in conjuncts:
        inner = item.item if isinstance(item, ast.Not) else None
        field = None if inner is None else single_field(inner)
        if field is None or inner is None or not segment.has_text_path(segment.schema.attr_of[field], inner):
            found.append(item)
            continue
        if field not in groups:
            found.append(groups.setdefault(field, []))
        groups[field].extend(inner.items if isinstance(inner, ast.Or) else (inner,))
    if len(found) == len(conjuncts):
        return conjuncts
    return [
        item if not isinstance(item, list) else ast.Not(item[0] if len(item) == 1 else ast.Or(tuple(item)))
        for item in found
    ]


def chained(parts: list[RowFilter]) -> RowFilter:
    """One filter applying ``parts`` in turn (the rows every part keeps)."""

    def apply(rows: RowSeq) -> RowSeq:
        for part in parts:
            if not len(rows):
                break
            rows = part(rows)
        return rows

    return apply


def either(parts: list[RowFilter]) -> RowFilter:
    """One filter keeping the rows any of ``parts`` keeps, each part run over all the rows in C:
    an ``or`` of 300 conjunctions of several fields tested row by row took ~60 µs a row."""

    def apply(rows: RowSeq) -> RowSeq:
        kept: set[int] = set()  # rows a part kept that are still among those left
        left = rows  # the rows no part has kept, but those of ``kept``
        for part in parts:
            if not len(left):
                break
            found = part(left)
            if len(found) * _DROP_KEPT >= len(left):  # each later part tests only what is left
                left = array("i", itertools.filterfalse(set(found).__contains__, left))
                kept.difference_update(found)
            else:
                kept.update(found)
        if left is rows:  # each part kept few: their union, sorted
            return array("i", sorted(kept))
        # the rows left out of what the parts kept (a sort of all that is kept would cost more)
        lost = set(left)
        lost.difference_update(kept)
        return array("i", itertools.filterfalse(lost.__contains__, rows))

    return apply


def _over(column: Any, selector: Selector) -> RowFilter:
    """Keep the rows whose column values ``selector`` says true."""

    def apply(rows: RowSeq) -> RowSeq:
        return array("i", itertools.compress(rows, selector(_values_at(column, rows))))

    return apply


def _negated(selector: Selector) -> Selector:
    return lambda values: map(operator.not_, selector(values))


def _int_selector(node: ast.Node) -> Selector | None:
    """Membership in a ``range``/``frozenset`` for a leaf on an ``array('q')`` column."""
    if isinstance(node, ast.Not):
        inner = _int_selector(node.item)
        return None if inner is None else _negated(inner)
    if isinstance(node, ast.Or):
        return _intervals_selector(node)
    if isinstance(node, ast.Compare) and node.op is ast.CompareOp.EQ:
        node = ast.InSet(node.field, (node.value,))
    if isinstance(node, ast.InSet):
        if not all(type(v) is int for v in node.values):
            return None
        members = frozenset(v for v in node.values if v != ABSENT_INT)
        contains = members.__contains__
        return lambda values: map(contains, values)
    if isinstance(node, ast.Range):
        low, high = node.low, node.high
        if (low is not None and type(low) is not int) or (high is not None and type(high) is not int):
            return None
        assert isinstance(low, int | None) and isinstance(high, int | None)
        start = ABSENT_INT + 1 if low is None else low + (0 if node.low_inclusive else 1)
        stop = _TOP if high is None else high + (1 if node.high_inclusive else 0)
        span = range(max(start, ABSENT_INT + 1), max(stop, ABSENT_INT + 1))
        # a short range as a set: a hash probe costs about half of range's comparisons
        inside = (frozenset(span) if span.stop - span.start <= _SET_SPAN else span).__contains__
        return lambda values: map(inside, values)
    return None


def _intervals_selector(node: ast.Or) -> Selector | None:
    """Membership in the union of the values an ``or`` of ``=``, ``in`` and ranges of one int
    field matches: a set of them when they are few, else the parity of a binary search of the
    intervals' bounds (inside ``[s0, e0) ∪ [s1, e1) ...`` exactly when ``bisect_right`` of
    ``[s0, e0, s1, e1, ...]`` is odd), both in C. An ``or`` of 500 ranges of ``EffectRow`` was
    500 passes over the rows."""
    spans = _intervals(node)
    if spans is None:
        return None
    spans.sort()
    bounds: list[int] = []
    for start, stop in spans:
        if bounds and start <= bounds[-1]:
            bounds[-1] = max(bounds[-1], stop)
        else:
            bounds += (start, stop)
    if sum(bounds[i + 1] - bounds[i] for i in range(0, len(bounds), 2)) <= _SET_VALUES:
        members = frozenset(itertools.chain.from_iterable(map(range, bounds[::2], bounds[1::2])))
        contains = members.__contains__
        return lambda values: map(contains, values)
    odd, search = (1).__and__, bisect.bisect_right
    return lambda values: map(odd, map(search, itertools.repeat(bounds), values))


def _intervals(node: ast.Node) -> list[tuple[int, int]] | None:
    """The ``[start, stop)`` intervals of the values ``node`` (``=``, ``in``, a range, or an
    ``or`` of them, on an int field) matches, none holding ``ABSENT_INT``; ``None`` for any
    other node or a bound that is not an int."""
    if isinstance(node, ast.Or):
        spans: list[tuple[int, int]] = []
        for item in node.items:
            found = _intervals(item)
            if found is None:
                return None
            spans += found
        return spans
    if isinstance(node, ast.Compare) and node.op is ast.CompareOp.EQ:
        node = ast.InSet(node.field, (node.value,))
    if isinstance(node, ast.InSet):
        values = [v for v in node.values if type(v) is int]
        if len(values) != len(node.values):
            return None
        return [(v, v + 1) for v in values if v != ABSENT_INT]
    if isinstance(node, ast.Range):
        low, high = node.low, node.high
        if (low is not None and type(low) is not int) or (high is not None and type(high) is not int):
            return None
        assert isinstance(low, int | None) and isinstance(high, int | None)
        start = ABSENT_INT + 1 if low is None else max(low + (0 if node.low_inclusive else 1), ABSENT_INT + 1)
        stop = _TOP if high is None else high + (1 if node.high_inclusive else 0)
        return [(start, stop)] if stop > start else []
    return None
