"""The query planner: filter AST -> optimized AST (``passes.py``) -> a plan over a store's indexes.

A :class:`Plan` has three parts, executed in this order by the store:

1. ``window``: bounds on the kind's primary time. Rows are stored newest first, so a window is
   one contiguous slice of rows, found by binary search.
2. ``access``: where candidate rows come from: every row of the window (:class:`FullScan`), or
   the posting lists of an index (:class:`HashLookup`, :class:`SortedLookup`,
   :class:`EntryLookup`, :class:`UnionOf`), cut to the window by binary search.
3. ``residual``: the part of the filter the access path does not answer, tested on each
   candidate. A candidate set is intersected with the other conjuncts by probing their columns,
   which costs one test per candidate of the most selective path.

The planner is pure: it reads the store only through :class:`Statistics`. It takes the most
selective conjunct that has an index path (by the store's estimate within the window) when it is
cheaper than scanning the window.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Protocol

import attrs

from dsc_engine.models import RecordKind
from dsc_engine.query import ast
from dsc_engine.wire.catalog import FIELDS, PRIMARY_TIME
from dsc_engine.query.passes import NOTHING, optimize, tighter_bound
from dsc_engine.query.render import range_text, render


class IndexKind(enum.Enum):
    """Every kind of index a store builds (each on first use, then kept with its segment)."""

    HASH = "hash index"  # value -> posting list of rows (coded fields: strings, categories)
    SORTED = "sorted index"  # rows sorted by value (integers and times)
    ENTRY = "entry index"  # an entry attribute's value -> rows having such an entry
    PAIR = "composite index"  # (value, value) of two coded fields -> rows
    ENTRY_PAIR = "entry pair index"  # (value, value) of two attributes of one entry -> rows
    TEXT = "text index"  # the case-folded text of every row, one blob (substring search)


@attrs.frozen
class Window:
    """Bounds on the primary time (``None`` is unbounded); a contiguous run of stored rows."""

    low: ast.Value | None = None
    high: ast.Value | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True


class Access:
    """Where a plan's candidate rows come from.

    Each subclass is one access path; :data:`ACCESS_PATHS` lists them all, and an executor must
    handle every one (``store/execute.py`` checks this when it is imported). ``describe`` is the
    path's line in ``explain``; ``conjunct`` the filter it answers, which an intersection tests
    on candidates when the path is a probe.
    """

    __slots__ = ()
    exact = True  # the candidates are exactly the rows matching the node this path answers

    def describe(self) -> str:
        raise NotImplementedError(type(self).__name__)

    def conjunct(self) -> ast.Node:
        raise NotImplementedError(f"{type(self).__name__} answers no single conjunct")


@attrs.frozen
class FullScan(Access):
    """Every row of the window."""

    def describe(self) -> str:
        return "scan the window"


@attrs.frozen
class NoRows(Access):
    """Nothing can match."""

    def describe(self) -> str:
        return "nothing (the filter matches no record)"


@attrs.frozen
class HashLookup(Access):
    """Posting lists of the values of ``field`` that satisfy ``node`` (a filter on that field only)."""

    field: str
    node: ast.Node

    def describe(self) -> str:
        return f"{IndexKind.HASH.value} {self.field}: {_text(self.node)}"

    def conjunct(self) -> ast.Node:
        return self.node


@attrs.frozen
class SortedLookup(Access):
    """A value range of ``field``'s sorted index (``node`` is a ``Range``, ``=`` or ``InSet``)."""

    field: str
    node: ast.Node

    def describe(self) -> str:
        return f"{IndexKind.SORTED.value} {self.field}: {_text(self.node)}"

    def conjunct(self) -> ast.Node:
        return self.node


@attrs.frozen
class TimeLookup(Access):
    """Rows by the primary time, which orders each segment: one slice of rows per window, found
    by binary search (``node``, on the primary time, is a range, an ``=``, or a set of values:
    one window per value). The plan's own window comes from the conjuncts; this
    path answers a primary-time condition the window cannot hold: one inside an ``or``
    (``CreationTime = a or UserName = u``), or a set (``CreationTime in (a, b, c)``)."""

    field: str
    node: ast.Node
    windows: tuple[Window, ...]

    def describe(self) -> str:
        return f"time order {self.field}: {_text(self.node)}"

    def conjunct(self) -> ast.Node:
        return self.node


@attrs.frozen
class EntryLookup(Access):
    """Rows having an entry of list field ``field`` whose ``entry_field`` satisfies ``node``.

    Exact when the ``AnyEntry`` condition is ``node`` itself; otherwise a superset, and the whole
    ``AnyEntry`` stays in the residual.
    """

    field: str
    entry_field: str
    node: ast.Node
    exact: bool = True

    def describe(self) -> str:
        verify = "" if self.exact else ", then verify the entry"
        return f"{IndexKind.ENTRY.value} {self.field}.{self.entry_field}: {_text(self.node)}{verify}"

    def conjunct(self) -> ast.Node:
        return ast.AnyEntry(self.field, self.node)


@attrs.frozen
class EntryPairLookup(Access):
    """Rows having one entry of list field ``field`` where both equalities hold (``first`` and
    ``second`` name two different entry fields): a composite index of entry value pairs."""

    field: str
    first: ast.Compare
    second: ast.Compare

    def describe(self) -> str:
        pair = f"{_text(self.first)} and {_text(self.second)}"
        return f"{IndexKind.ENTRY_PAIR.value} {self.field}.({self.first.field}, {self.second.field}): {pair}"

    def conjunct(self) -> ast.Node:
        return ast.AnyEntry(self.field, ast.And((self.first, self.second)))


@attrs.frozen
class IntersectOf(Access):
    """The candidates of ``driver`` (the cheapest path) kept where every probe also matches.

    Each probe is a path of another conjunct (``HashLookup``, ``SortedLookup``,
    ``EntryLookup``), tested on the driver's candidates against its column, most selective
    first: the intersection of all the posting lists in time proportional to the smallest.
    ``tests`` are the conjuncts of an ``or``'s branch that have no path to probe with (a
    substring of a text column, a union), tested on what the probes keep.
    """

    driver: Access
    probes: tuple[Access, ...]
    tests: tuple[ast.Node, ...] = ()

    @property
    def exact(self) -> bool:  # type: ignore[override]
        return self.driver.exact and all(probe.exact for probe in self.probes)

    def describe(self) -> str:
        probes = "".join(f"; probe {probe.describe()}" for probe in self.probes)
        tests = "".join(f"; test {_text(test)}" for test in self.tests)
        return f"intersect ({self.driver.describe()}{probes}{tests})"


@attrs.frozen
class Complement(Access):
    """The rows of the window that ``inner`` (an exact path) does not yield: ``not X`` as the
    window minus X's rows. A record without the field is not among X's rows, so it is kept,
    which is the meaning of ``not``."""

    inner: Access

    def describe(self) -> str:
        return f"the window minus ({self.inner.describe()})"


@attrs.frozen
class UnionOf(Access):
    """The union of the items' candidates (an ``Or`` whose every branch has an index path)."""

    items: tuple[Access, ...]

    @property
    def exact(self) -> bool:  # type: ignore[override]
        return all(item.exact for item in self.items)

    def describe(self) -> str:
        return "union of (" + "; ".join(item.describe() for item in self.items) + ")"


#: Every access path; an executor handles each (``store/execute.py`` checks it on import).
ACCESS_PATHS: tuple[type[Access], ...] = (
    FullScan, NoRows, HashLookup, SortedLookup, TimeLookup, EntryLookup, EntryPairLookup, IntersectOf, Complement,
    UnionOf,
)


class Statistics(Protocol):
    """What the planner asks a store."""

    @property
    def kind(self) -> RecordKind: ...

    def index_kind(self, field: str) -> IndexKind | None:
        """How ``field`` is indexed (``None``: not at all)."""

    def entry_indexed(self, field: str, entry_field: str) -> bool:
        """Whether rows are indexed by the values of ``entry_field`` in list ``field``."""

    def window_rows(self, window: Window | None) -> int:
        """How many rows the window holds (all rows for ``None``)."""

    def cost(self, access: Access, window: Window | None) -> int:
        """The work of producing ``access``'s candidates within ``window`` (about rows touched)."""


@attrs.frozen
class Plan:
    """A chosen way to answer ``source`` (the optimized filter)."""

    source: ast.Node
    time_field: str
    window: Window | None
    access: Access
    residual: ast.Node
    scan_cost: int
    access_cost: int

    def explain(self) -> str:
        lines = [f"filter:   {_text(self.source)}"]
        if self.window is not None:
            text = _window_text(self.window, self.time_field)
            lines.append(f"window:   {text}  (~{self.scan_cost} rows)")
        else:
            lines.append(f"window:   all rows  ({self.scan_cost} rows)")
        lines.append(f"access:   {self.access.describe()}  (cost ~{self.access_cost})")
        if not isinstance(self.residual, ast.MatchAll):
            lines.append(f"residual: {_text(self.residual)}  (tested on each candidate)")
        return "\n".join(lines)


def single_field(node: ast.Node) -> str | None:
    """The one field every leaf of ``node`` reads, if there is one (``AnyEntry`` excluded)."""
    fields = fields_read(node)
    return next(iter(fields)) if fields is not None and len(fields) == 1 else None


def fields_read(node: ast.Node) -> set[str] | None:
    """The fields the leaves of ``node`` read; ``None`` when a leaf reads none of its own (a
    ``MatchAll``, an ``AnyEntry``, whose entries' fields are another catalog's)."""
    if isinstance(node, (ast.And, ast.Or)):
        found: set[str] = set()
        for item in node.items:
            fields = fields_read(item)
            if fields is None:
                return None
            found |= fields
        return found
    if isinstance(node, ast.Not):
        return fields_read(node.item)
    if isinstance(node, (ast.MatchAll, ast.AnyEntry)):
        return None
    return {node.field}  # type: ignore[attr-defined]


def or_group(branch: ast.Node) -> str | None:
    """What the branches of an ``or`` tested in one pass share (``store/vector.py``): their one
    field, or for an ``AnyEntry`` its list field (some entry matches ``a`` or some entry matches
    ``b`` is some entry matching ``a or b``); ``None`` for a branch tested alone."""
    return f"{branch.field} any" if isinstance(branch, ast.AnyEntry) else single_field(branch)


def access_path(node: ast.Node, stats: Statistics) -> Access | None:
    """An index path for ``node`` alone, or ``None`` when only a scan can answer it."""
    if isinstance(node, ast.Or):
        items = [access_path(item, stats) for item in node.items]
        if any(item is None for item in items):
            return None
        return UnionOf(tuple(items))  # type: ignore[arg-type]
    if isinstance(node, ast.AnyEntry):
        return _entry_path(node, stats)
    if isinstance(node, ast.And):  # a branch of an Or: (UserName = "a" and EffectRow > 1) or ...
        return _and_path(node, stats)
    field = single_field(node)
    if field is None:
        return None
    if field == PRIMARY_TIME[stats.kind]:
        return _time_path(node, field, FIELDS[stats.kind][field].type.model)
    index = stats.index_kind(field)
    if index is IndexKind.HASH:
        return HashLookup(field, node)
    if index is IndexKind.SORTED and isinstance(node, (ast.Range, ast.Compare, ast.InSet)):
        if not isinstance(node, ast.Compare) or node.op is ast.CompareOp.EQ:
            return SortedLookup(field, node)
    return None


def _and_path(node: ast.And, stats: Statistics) -> Access | None:
    """The path of a conjunction (a branch of an ``or``): the cheapest of its conjuncts' paths
    drives and the others probe its candidates (as ``choose`` intersects a query's conjuncts),
    so that an ``or`` of conjunctions is a union of intersections rather than a scan testing
    every branch on every row. A conjunct without a path (a substring of a text column), or
    whose path is a union (a union tests no single conjunct, so it cannot probe), is tested on
    the branch's own candidates. ``None`` when no conjunct has a path."""
    paths = [(access_path(item, stats), item) for item in node.items]
    ranked = sorted((path for path, _ in paths if path is not None), key=lambda path: stats.cost(path, None))
    if not ranked:
        return None
    driver = ranked[0]  # stable: of equal costs, the first written
    probes = tuple(path for path in ranked[1:] if not isinstance(path, UnionOf))
    tests = tuple(item for path, item in paths if path is not driver and (path is None or isinstance(path, UnionOf)))
    return IntersectOf(driver, probes, tests) if probes or tests else driver


def _time_path(node: ast.Node, field: str, model: type) -> TimeLookup | None:
    """The time-order path of a condition on the primary time, when it is one or more windows
    whose bounds are times of the field's own type (``model``: what a record holds; a value of
    another type matches no record, which a scan says, where a search could not compare it)."""
    values: tuple[ast.Value | None, ...]
    if isinstance(node, ast.InSet):
        values = tuple(dict.fromkeys(node.values))  # a value twice is one window, not its rows twice
        windows = tuple(Window(value, value) for value in values)
    elif isinstance(node, (ast.Range, ast.Compare)):
        window = _as_window(node, field)  # the optimizer made every comparison but != a range
        if window is None:
            return None
        values, windows = (window.low, window.high), (window,)
    else:
        return None
    if not windows or not all(value is None or _fits(value, model) for value in values):
        return None
    return TimeLookup(field, node, windows)


def _fits(value: object, model: type) -> bool:
    """Whether ``value`` is a time of type ``model`` (a naive datetime, or an int not a bool)."""
    return type(value) is model and (model is not dt.datetime or value.tzinfo is None)  # type: ignore[attr-defined]


def _entry_path(node: ast.AnyEntry, stats: Statistics) -> Access | None:
    paths = entry_paths(node, stats)
    return paths[0] if paths else None


def entry_paths(node: ast.AnyEntry, stats: Statistics) -> list[Access]:
    """The entry-index paths of ``node``: the exact one for a one-field condition, else one
    inexact path per indexed conjunct of the entry condition (intersected, then verified)."""
    condition = node.condition
    field = single_field(condition)
    if field is not None and stats.entry_indexed(node.field, field):
        return [EntryLookup(node.field, field, condition)]
    pair = _entry_pair(node, stats)
    if pair is not None:
        return [pair]
    paths: list[Access] = []
    if isinstance(condition, ast.And):
        for item in condition.items:  # each conjunct of the entry narrows the rows
            field = single_field(item)
            if field is not None and stats.entry_indexed(node.field, field):
                paths.append(EntryLookup(node.field, field, item, exact=False))
    return paths


def _entry_pair(node: ast.AnyEntry, stats: Statistics) -> EntryPairLookup | None:
    """``TableName = t and ColumnName = c`` on one entry: the exact entry-pair path."""
    condition = node.condition
    if not isinstance(condition, ast.And) or len(condition.items) != 2:
        return None
    first, second = condition.items
    for item in (first, second):
        if not (isinstance(item, ast.Compare) and item.op is ast.CompareOp.EQ):
            return None
        if not stats.entry_indexed(node.field, item.field):
            return None
    if first.field == second.field:  # type: ignore[attr-defined]
        return None
    return EntryPairLookup(node.field, first, second)  # type: ignore[arg-type]


def conjunct_paths(node: ast.Node, stats: Statistics) -> list[Access]:
    """Every index path answering (or, when inexact, narrowing) the conjunct ``node``."""
    if isinstance(node, ast.AnyEntry):
        return entry_paths(node, stats)
    path = access_path(node, stats)
    return [] if path is None else [path]


def choose(node: ast.Node, stats: Statistics) -> Plan:
    """Optimize ``node`` and pick the cheapest access path for it."""
    source = optimize(node)
    time_field = PRIMARY_TIME[stats.kind]
    if source == NOTHING:
        return Plan(source, time_field, None, NoRows(), ast.MatchAll(), 0, 0)
    conjuncts = source.items if isinstance(source, ast.And) else (source,)
    window, rest = _split_window(conjuncts, time_field)
    scan_cost = stats.window_rows(window)
    paths: list[tuple[int, int, Access]] = []
    for index, item in enumerate(rest):
        for path in conjunct_paths(item, stats):
            paths.append((stats.cost(path, window), index, path))
    paths.sort(key=lambda found: found[0])  # stable: ties keep the written order
    if not paths or paths[0][0] >= scan_cost * _scan_passes(rest):
        complement = _complement(rest, stats, window)
        if complement is None or complement[0] >= scan_cost:
            return Plan(source, time_field, window, FullScan(), ast.conjunction(rest), scan_cost, scan_cost)
        cost, folded, access = _fold_negations(rest, stats, window, complement, scan_cost)
        residual = [item for i, item in enumerate(rest) if i not in folded]
        return Plan(source, time_field, window, access, ast.conjunction(residual), scan_cost, cost)
    cost, _, driver = paths[0]
    probes = tuple(path for _, _, path in paths[1:] if not isinstance(path, UnionOf))
    access = IntersectOf(driver, probes) if probes else driver
    answered = {index for _, index, path in paths if path is driver or path in probes}
    exact = {index for _, index, path in paths if path.exact and index in answered}
    residual = [item for i, item in enumerate(rest) if i not in exact]
    return Plan(source, time_field, window, access, ast.conjunction(residual), scan_cost, cost)


def _scan_passes(conjuncts: list[ast.Node]) -> int:
    """How many passes over the window a scan makes for the widest ``or`` among ``conjuncts``:
    the row filters test the branches of one field (or the ``any``s of one list field) in one
    pass and every other branch in a pass of its own (``store/vector.py``). A union of 1,000
    two-field branches cost ~100,000 against the 20,000 rows of a window it was scanned over,
    1,000 times (1.1 s instead of ~0.05 s)."""
    passes = 1
    for item in conjuncts:
        if isinstance(item, ast.Or):
            passes = max(passes, len({or_group(branch) or id(branch) for branch in item.items}))
    return passes


def _complement(
    conjuncts: list[ast.Node], stats: Statistics, window: Window | None
) -> tuple[int, int, Access] | None:
    """The cheapest ``not X`` conjunct whose ``X`` has an exact index path, as a ``Complement``
    (cost: producing X's rows; the complement itself is never built)."""
    best: tuple[int, int, Access] | None = None
    for index, item in enumerate(conjuncts):
        negated = _negated(item)
        if negated is None:
            continue
        inner = access_path(negated, stats)
        if inner is None or not inner.exact:
            continue
        cost = stats.cost(inner, window)
        if best is None or cost < best[0]:
            best = (cost, index, Complement(inner))
    return best


def _negated(item: ast.Node) -> ast.Node | None:
    """``X`` when the conjunct ``item`` is ``not X``: a ``Not``, or an ``or`` with a ``Not``
    branch, which is how ``push_not_down`` leaves ``not (a and b)`` (``not a or not b``), so that
    its ``X`` is the intersection ``a and b``; a branch ``c`` that is no ``Not`` is the conjunct
    ``not c`` of ``X`` (``not a or c`` is ``not (a and not c)``), tested on the candidates of
    the others. 300 conjuncts ``not (ClientIp = v and EffectRow > n)`` were each a pass over the
    window (13-22 s over 100,000 records), and so were 300 ``not ClientIp = v or not UserName =
    u or EffectRow >= n`` (14.5 s)."""
    if isinstance(item, ast.Not):
        return item.item
    if isinstance(item, ast.Or) and any(isinstance(branch, ast.Not) for branch in item.items):
        return ast.And(tuple(branch.item if isinstance(branch, ast.Not) else ast.Not(branch) for branch in item.items))
    return None


def _fold_negations(
    conjuncts: list[ast.Node], stats: Statistics, window: Window | None,
    complement: tuple[int, int, Access], scan_cost: int,
) -> tuple[int, set[int], Access]:
    """The complement widened by every other ``not Y`` conjunct whose ``Y`` has an exact path
    cheaper than testing the rows the complement leaves: ``not X and not Y`` is the window minus
    the union of X's and Y's rows (a union of rows, in C, instead of a test of each row left).
    Its cost, the conjuncts it answers, and the access."""
    cost, index, access = complement
    assert isinstance(access, Complement)
    inners, folded = [access.inner], {index}
    for position, item in enumerate(conjuncts):
        negated = _negated(item)
        if position == index or negated is None:
            continue
        inner = access_path(negated, stats)
        if inner is None or not inner.exact:
            continue
        extra = stats.cost(inner, window)
        if extra < scan_cost - cost:  # the rows left to test, about
            inners.append(inner)
            folded.add(position)
            cost += extra
    if len(inners) == 1:
        return cost, folded, access
    return cost, folded, Complement(UnionOf(tuple(inners)))


def _split_window(
    conjuncts: tuple[ast.Node, ...], time_field: str
) -> tuple[Window | None, list[ast.Node]]:
    """Move the primary-time bounds out of the conjuncts into one window."""
    window: Window | None = None
    rest: list[ast.Node] = []
    for item in conjuncts:
        bound = _as_window(item, time_field)
        if bound is not None and window is not None:
            bound = _narrow(window, bound)
        if bound is None:
            rest.append(item)
        else:
            window = bound
    return window, rest


def _as_window(node: ast.Node, time_field: str) -> Window | None:
    if isinstance(node, ast.Range) and node.field == time_field:
        values = [v for v in (node.low, node.high) if v is not None]
        if len({type(v) for v in values}) > 1:
            return None
        return Window(node.low, node.high, node.low_inclusive, node.high_inclusive)
    if isinstance(node, ast.Compare) and node.field == time_field and node.op is ast.CompareOp.EQ:
        return Window(node.value, node.value)
    return None


def _narrow(a: Window, b: Window) -> Window | None:
    """The intersection of two windows; ``None`` when their bounds are of different types."""
    both = [v for v in (a.low, a.high, b.low, b.high) if v is not None]
    if len({type(v) for v in both}) > 1:
        return None
    low, low_inc = tighter_bound(a.low, a.low_inclusive, b.low, b.low_inclusive, lower=True)
    high, high_inc = tighter_bound(a.high, a.high_inclusive, b.high, b.high_inclusive, lower=False)
    return Window(low, high, low_inc, high_inc)


def _text(node: ast.Node) -> str:
    return render(node) or "(all)"


def _window_text(window: Window, field: str) -> str:
    bounds = ast.Range(field, window.low, window.high, window.low_inclusive, window.high_inclusive)
    return f"{field} in {range_text(bounds)}"
