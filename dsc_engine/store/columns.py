"""Column storage: how a store lays out the fields of one record kind, and its interned values.

Every record attribute becomes one column of a segment (``segment.py``), by the field's type:

- coded (strings, booleans, enumerations): an ``array('I')`` of codes into the store's
  :class:`Intern` table of that attribute. Code 0 is "absent". Each distinct value is kept once
  (interning), and the codes double as the keys of the hash index.
- int (counts and Sddp times): an ``array('q')`` with :data:`ABSENT_INT` for "absent"; a plain
  list when a value does not fit 64 bits.
- object (DMS wall-clock times, nested entry tuples): a list.

A :class:`Schema` is shared by all segments of a store; its intern tables only ever grow, so a
code means the same value in every segment and every version.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import threading
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

import attrs

from dsc_engine.models import RecordKind
from dsc_engine.query import ast
from dsc_engine.query.evaluate import compile_over
from dsc_engine.store.text import folded_text
from dsc_engine.wire.catalog import FIELDS, NESTED, FieldSpec, entry_catalog
from dsc_engine.wire.types import Storage

#: The int-column marker of an absent value.
ABSENT_INT = -(2**63)
IntColumn = array | list  # type: ignore[type-arg]
Column = Any  # array('I') of codes, an IntColumn, or a list of objects

#: Column-name prefix of the per-row entry codes of a nested attribute (``entries.table_name``).
ENTRY_PREFIX = "entries."
#: A table opened from a snapshot with at most this many values gets its value -> code map at once.
_EAGER_CODES = 1 << 16
#: How many filters an intern table remembers the matching codes of.
_CODESET_CACHE = 512
#: A ``startswith`` filter of this many prefixes has a table sort its values (``_prefixed``); one
#: of fewer tests each value, unless they are sorted already (at 1,000,000 distinct texts a sort
#: costs what testing each value against five or six prefixes does).
_SORTED_PREFIXES = 8


def _looked_up(node: ast.Node) -> bool:
    """Whether the matching codes of ``node`` are dictionary lookups (an ``or`` of such is
    their union)."""
    if isinstance(node, ast.Compare):
        return node.op is ast.CompareOp.EQ
    return isinstance(node, (ast.InSet, ast.EqualsIgnoreCase))


def _identity(value: Any) -> Any:
    return value


class Intern:
    """The append-only value table of one coded attribute: code -> value, value -> code.

    ``values[c]`` is the attribute value of code ``c`` (what filters compare with). Readers may
    use the table while a writer appends: a code is published in ``values`` before any segment
    uses it.
    """

    def __init__(self, spec: FieldSpec, values: list[Any] | None = None) -> None:
        self.spec = spec
        #: value -> code; for a large table opened from a snapshot, built on first need
        self._by_value: dict[Any, int] | None = {None: 0} if values is None else None
        self.values: list[Any] = [None] if values is None else values
        self._sets: dict[ast.Node, tuple[int, frozenset[int]]] = {}
        self._value_pred = _identity_catalog(spec)
        self._folded: list[bytes] = []
        self._by_folded: dict[bytes, frozenset[int]] = {}
        self._by_folded_upto = 0
        #: (how many codes it covers, the codes but absent ordered by ``folded``)
        self._by_prefix: tuple[int, array[int]] = (0, array("I"))
        self._settled = False
        self._lock = threading.Lock()
        if values is not None and len(values) <= _EAGER_CODES:
            _ = self._codes  # a small table costs little now, and its first lookup nothing

    def __len__(self) -> int:
        return len(self.values)

    @property
    def _codes(self) -> dict[Any, int]:
        codes = self._by_value
        if codes is None:  # a table read from a snapshot: its values are distinct (checked there)
            # Built once, under the lock: a query and a writer may both be first, and a map built
            # beside the writer's would replace it, losing the values the writer just added.
            with self._lock:
                codes = self._by_value
                if codes is None:
                    codes = dict(zip(self.values, itertools.count()))
                    codes[None] = 0
                    self._by_value = codes
        return codes

    def encode(self, values: Iterable[Any], absent: Any = None) -> list[int]:
        """The codes of ``values``, interning the new ones (writer only), as a list (of the
        table's own int objects). ``absent`` is the marker of a missing value (code 0) besides
        ``None``."""
        values = values if isinstance(values, (list, tuple)) else list(values)
        codes = self._codes
        if absent is not None and absent not in codes:
            codes[absent] = 0  # the marker reads as "absent" (it is never a value)
        if self._settled:  # the last batch had no new value: try one pass of lookups first
            try:
                return list(map(codes.__getitem__, values))
            except KeyError:
                pass
        # Each value is hashed once into a batch-local table (cheap for few distinct values),
        # only the distinct ones are looked up in the store's table, and the new ones are
        # numbered in first-seen order; all in C.
        fresh = list(itertools.filterfalse(codes.__contains__, dict.fromkeys(values)))
        self._settled = not fresh
        if fresh:
            first = len(self.values)
            self.values.extend(fresh)  # published before the codes that point at them
            codes.update(zip(fresh, itertools.count(first)))
        return list(map(codes.__getitem__, values))

    def code(self, value: Any) -> int:
        """The code of an attribute value (0: absent or never interned)."""
        return self._codes.get(value, 0)

    def _folded_codes(self) -> dict[bytes, frozenset[int]]:
        """The codes of each case-folded value (``folded``), absent (code 0) left out, grown as
        the table grows: ``ieq`` is a lookup, not a ``casefold`` of every distinct value (200
        ``SqlText ieq`` or'ed over 50,000 distinct texts took 2 s to plan)."""
        folded = self.folded()
        if self._by_folded_upto < len(folded):
            with self._lock:  # a reader meanwhile waits: ``_by_folded_upto`` moves last
                by_folded, known = self._by_folded, len(folded)
                for code in range(max(self._by_folded_upto, 1), known):
                    key = folded[code]
                    by_folded[key] = by_folded.get(key, frozenset()) | {code}
                self._by_folded_upto = known
        return self._by_folded

    def folded(self) -> list[bytes]:
        """``str.casefold`` of every value as UTF-8 (``b""`` for absent and non-text values), by
        code: what a text index (``text.py``) searches. Grown as the table grows."""
        folded = self._folded
        if len(folded) < len(self.values):
            with self._lock:  # readers may ask at once; each value is appended exactly once
                values = self.values[len(folded) :]
                folded.extend(
                    value.casefold().encode("utf-8", "surrogatepass") if type(value) is str else b""
                    for value in values
                )
        return folded

    def _sorted_by_folded(self) -> array[int]:
        """Every code but absent, ordered by its case-folded value (``folded``; ties by code),
        4 bytes a code, grown as the table grows: the new codes are sorted and merged into the
        order (a sort of two sorted runs, which ``sorted`` merges in one pass)."""
        folded = self.folded()
        known = len(folded)
        if self._by_prefix[0] < known:
            with self._lock:  # each code is placed once; readers keep the order they read
                upto, order = self._by_prefix
                if upto < known:
                    key = folded.__getitem__
                    fresh = sorted(range(max(upto, 1), known), key=key)
                    self._by_prefix = (known, array("I", sorted([*order, *fresh], key=key)))
        return self._by_prefix[1]

    def _prefixed(self, prefixes: list[str]) -> frozenset[int]:
        """The codes whose value starts with one of ``prefixes`` ignoring case (``startswith``:
        ``value.casefold().startswith(prefix.casefold())``), absent left out. A prefix's
        values are one run of the values ordered by their case-folded UTF-8 (a string starts
        with another exactly when its UTF-8 does), found by two bisections, and overlapping
        runs are merged: an ``or`` of 100,000 prefixes is ~200,000 bisections, not a test of
        every value against every prefix (``docs/store.md``)."""
        order = self._sorted_by_folded()
        key = self.folded().__getitem__
        runs: list[tuple[int, int]] = []
        for prefix in dict.fromkeys(map(folded_text, prefixes)):
            start = bisect.bisect_left(order, prefix, key=key)
            above = _above(prefix)
            stop = len(order) if above is None else bisect.bisect_left(order, above, start, key=key)
            if stop > start:
                runs.append((start, stop))
        runs.sort()
        merged: list[list[int]] = []
        for start, stop in runs:
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], stop)
            else:
                merged.append([start, stop])
        return frozenset(itertools.chain.from_iterable(order[start:stop] for start, stop in merged))

    def matching(self, node: ast.Node) -> frozenset[int]:
        """The codes whose value satisfies ``node`` (a filter on this attribute's field only)."""
        if isinstance(node, ast.Compare) and node.op is ast.CompareOp.EQ:
            code = self._codes.get(node.value)
            return frozenset() if code is None or code == 0 else frozenset((code,))
        if isinstance(node, ast.InSet):
            found = (self._codes.get(value) for value in node.values)
            return frozenset(code for code in found if code)
        text = self.spec.type.json is str
        if isinstance(node, ast.EqualsIgnoreCase) and text:
            return self._folded_codes().get(folded_text(node.value), frozenset())
        if isinstance(node, ast.Or) and all(_looked_up(item) for item in node.items):
            return frozenset().union(*map(self.matching, node.items))
        known = len(self.values)
        prefixes = _prefixes(node) if text else None
        if prefixes is not None and (len(prefixes) >= _SORTED_PREFIXES or self._by_prefix[0]):
            # prefixes (and lookups): runs of the sorted values, the answer kept per filter
            kept = self._sets.get(node)
            if kept is not None and kept[0] == known:
                return kept[1]
            looked_up = node.items if isinstance(node, ast.Or) else ()
            codes = self._prefixed(prefixes).union(
                *(self.matching(item) for item in looked_up if not isinstance(item, ast.StartsWith))
            )
            self._keep(node, known, codes)
            return codes
        checked, codes = self._sets.get(node, (0, frozenset()))
        if checked < known:
            test = compile_over(node, self._value_pred, {})
            values = self.values
            codes = codes | {c for c in range(checked, known) if test(values[c])}
            self._keep(node, known, codes)
        return codes

    def _keep(self, node: ast.Node, known: int, codes: frozenset[int]) -> None:
        """Remember the codes matching ``node`` among the first ``known``."""
        if len(self._sets) >= _CODESET_CACHE:
            self._sets.clear()
        self._sets[node] = (known, codes)


def _prefixes(node: ast.Node) -> list[str] | None:
    """The prefixes of a ``startswith``, or of an ``or`` of ``startswith`` and lookups
    (``_looked_up``) holding at least one; ``None`` for any other node."""
    items = node.items if isinstance(node, ast.Or) else (node,)
    found = [item.text for item in items if isinstance(item, ast.StartsWith)]
    if not found or not all(isinstance(item, ast.StartsWith) or _looked_up(item) for item in items):
        return None
    return found


def _above(prefix: bytes) -> bytes | None:
    """The least byte string above every string starting with ``prefix`` (``None``: none is)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes((stripped[-1] + 1,))


def _identity_catalog(spec: FieldSpec) -> Mapping[str, FieldSpec]:
    """A catalog whose one field reads the value itself (to test a filter on one value)."""
    return {spec.name: attrs.evolve(spec, get=_identity)}


def int_column(values: Sequence[int | None], absent: Any = None) -> IntColumn:
    """A compact column of optional ints: ``array('q')`` if every value fits, else a list.
    ``absent`` is the marker of a missing value besides ``None``."""
    if absent is not None and absent in values:
        values = [None if v is absent else v for v in values]
    try:  # the usual column: every value present and within 64 bits, packed in one C call
        packed = array("q", cast("Sequence[int]", values))
    except TypeError:  # a None among them
        if ABSENT_INT in values:
            return list(values)
        try:
            return array("q", [ABSENT_INT if v is None else v for v in values])
        except OverflowError:
            return list(values)
    except OverflowError:
        return list(values)
    if packed and min(cast("Sequence[int]", values)) == ABSENT_INT:  # the marker is a value: keep the ints
        return list(values)
    return packed


def int_getter(column: IntColumn) -> Callable[[int], int | None]:
    if isinstance(column, list):
        return column.__getitem__

    def get(row: int) -> int | None:
        value = column[row]
        return None if value == ABSENT_INT else value

    return get


@attrs.frozen
class ColumnSpec:
    """One stored column: the attribute it holds and how."""

    attr: str
    storage: Storage
    field: FieldSpec | None  # the query field reading this attribute, if any
    derived: bool = False  # computed from other attributes (not passed to the constructor)
    entry_attr: str | None = None  # codes of this attribute of the nested entries, per row


class Schema:
    """The column layout of one record kind and its intern tables (shared by a store's segments).

    Every field of the kind's catalog is a column, stored as its type says (``FieldSpec.storage``);
    a kind with a list field also gets, per entry attribute, a column of each row's entry codes
    (``entries.<attr>``), the key of its entry indexes. What is particular to a kind (its primary
    time, its tie-break, its list field) comes from its facts (``models/kinds.py``).
    """

    def __init__(self, kind: RecordKind) -> None:
        self.kind = kind
        facts = kind.facts
        self.cls: type = kind.record_class
        columns = [
            ColumnSpec(spec.attr, spec.storage, spec, derived=spec.derived) for spec in FIELDS[kind].values()
        ]
        entries = entry_catalog(kind) or {}
        self.entry_field: str | None = next(iter(NESTED[kind]), None)
        self.entry_attr_of = {spec.name: spec.attr for spec in entries.values()}
        self.entry_tables: dict[str, Intern] = {spec.attr: Intern(spec) for spec in entries.values()}
        columns.extend(
            ColumnSpec(f"{ENTRY_PREFIX}{spec.attr}", Storage.OBJECT, None, True, spec.attr)
            for spec in entries.values()
        )
        self.columns: dict[str, ColumnSpec] = {c.attr: c for c in columns}
        self.attr_of: dict[str, str] = {c.field.name: c.attr for c in columns if c.field}
        self.tables: dict[str, Intern] = {
            c.attr: Intern(c.field)
            for c in columns
            if c.storage is Storage.CODED and c.field is not None
        }
        self.time_attr = facts.primary_time
        #: the attribute breaking ties of the primary time, descending (masking runs: ``id``)
        self.tie_attr = facts.tie_break
        self.entries_attr = facts.entries or ""
        #: (filter, its attributes, their tables' sizes) -> (those tables, the code tuples matching
        #: the filter): what ``vector.codes_filter`` decides once per combination of codes, kept
        #: for the next segment and the next query while the tables are those and that long
        self.matching_codes: dict[tuple[Any, ...], tuple[tuple[Intern, ...], frozenset[tuple[int, ...]]]] = {}

    def storage_of(self, field: str) -> Storage:
        return self.columns[self.attr_of[field]].storage


_DT_ZERO = dt.datetime(1, 1, 1)
_MICROSECOND = dt.timedelta(microseconds=1)


def negated_time(time: Any) -> Any:
    """The primary time mapped so that newer is smaller (rows are stored ascending in this)."""
    if isinstance(time, dt.datetime):
        return -((time - _DT_ZERO) // _MICROSECOND)
    return -time
