"""Shared hypothesis strategies of the test suite (records live in ``dsc_engine.strategies``).

Hostile input
-------------
:func:`odd_values` draws anything a caller may pass as a parameter value (text with surrogates,
NUL, bidi marks, full-width digits; numbers past 64 bits, floats, NaN; range strings and
LogQueryOpJson texts gone wrong; times at calendar edges; containers, bytes, objects).
:func:`odd_requests` puts them under an operation's parameter names (and made-up ones);
:func:`mutated_filters` changes rendered filter texts byte by byte; :func:`odd_wire_objects`
draws record objects with keys dropped, added or given values of any JSON type.
:data:`EDGE_RECORDS` are wire records holding values at the edges (NUL, case-folding traps, the
64-bit bounds, the years 1 and 9999) and :func:`edge_filters` filter texts whose literals are
those values, so that the backends are compared where they are most likely to differ.

Filter ASTs
-----------
:func:`asts` draws canonical filter ASTs of a record kind: every node type, nested boolean logic,
values of each field's query type (mostly documented values where the page lists them), ``And``/``Or``
with at least two operands and none of their own kind (the form the parser builds), set values
without duplicates, ranges whose lower bound is not above the upper one. String and time values
come partly from the record pools of ``dsc_engine.strategies`` so that filters hit records.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

import dsc_engine.strategies as pools
from dsc_engine.api.operations import OPERATIONS
from dsc_engine.models import RecordKind
from dsc_engine.query import ast
from dsc_engine.query.render import render
from dsc_engine.wire.codec import to_wire, wire_keys
from dsc_engine.wire import types
from dsc_engine.wire.catalog import FIELDS, NESTED, FieldSpec

Catalog = Mapping[str, FieldSpec]

#: Every string of the record pools: realistic values that match loaded records.
POOL_STRINGS: tuple[str, ...] = tuple(
    sorted(
        {
            value
            for name, pool in vars(pools).items()
            if name.isupper() and isinstance(pool, tuple)
            for value in pool
            if isinstance(value, str)
        }
    )
)
_BEYOND = {types.STRING: "4", types.INTEGER: 5}


def _strings() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(POOL_STRINGS), st.text(max_size=12))


def values(spec: FieldSpec) -> st.SearchStrategy[Any]:
    """Any value of the field's query type (enumerations included: ordering takes any value)."""
    if spec.type is types.STRING:
        return _strings()
    if spec.type is types.INTEGER:
        return st.one_of(st.integers(-10, 6_000), st.integers(-(2**63), 2**63 - 1))
    if spec.type is types.TIME_MS:
        return st.one_of(st.sampled_from(pools.TIMES_MS), st.integers(-(10**14), 10**14))
    if spec.type is types.WALL_CLOCK:
        return st.one_of(st.sampled_from(pools.DMS_TIMES), st.datetimes())
    if spec.type is types.BOOLEAN:
        return st.booleans()
    raise AssertionError(f"{spec.name} holds entries, not values")


def members(spec: FieldSpec) -> st.SearchStrategy[Any]:
    """A value for equality: mostly one of the documented values where the page lists them."""
    if spec.documented is not None:  # and one value beyond the list (records may hold it)
        return st.sampled_from((*spec.documented, _BEYOND[spec.type]))
    return values(spec)


def ranges(spec: FieldSpec) -> st.SearchStrategy[ast.Node]:
    """``Range`` leaves on the ordered field ``spec`` (either bound may be absent)."""
    bound = st.one_of(st.none(), values(spec))

    def build(low: Any, high: Any, low_inc: bool, high_inc: bool) -> ast.Node:
        if low is not None and high is not None and low > high:
            low, high = high, low
        return ast.Range(spec.name, low, high, low_inc, high_inc)

    return st.builds(build, bound, bound, st.booleans(), st.booleans())


def _text_leaves(spec: FieldSpec) -> list[st.SearchStrategy[ast.Node]]:
    if spec.documented is not None:
        folded = st.sampled_from(spec.documented).flatmap(
            lambda v: st.sampled_from((v, v.lower(), v.upper()))
        )
    else:
        folded = _strings()
    return [
        st.builds(ast.EqualsIgnoreCase, st.just(spec.name), folded),
        st.builds(ast.Contains, st.just(spec.name), _strings()),
        st.builds(ast.StartsWith, st.just(spec.name), _strings()),
    ]


def field_leaves(spec: FieldSpec) -> st.SearchStrategy[ast.Node]:
    """Every leaf node the filter language allows on ``spec`` (not ``AnyEntry``)."""
    name = st.just(spec.name)
    equality = st.sampled_from((ast.CompareOp.EQ, ast.CompareOp.NE))
    options = [
        st.builds(ast.Compare, name, equality, members(spec)),
        st.builds(
            lambda items: ast.InSet(spec.name, tuple(items)),
            st.lists(members(spec), min_size=1, max_size=4, unique=True),
        ),
    ]
    if spec.type.ordered:
        ordering = st.sampled_from(
            (ast.CompareOp.LT, ast.CompareOp.LE, ast.CompareOp.GT, ast.CompareOp.GE)
        )
        options += [st.builds(ast.Compare, name, ordering, values(spec)), ranges(spec)]
    if spec.type is types.STRING:
        options += _text_leaves(spec)
    return st.one_of(options)


def _junction(cls: type[ast.And] | type[ast.Or], items: list[ast.Node]) -> ast.Node:
    flat: list[ast.Node] = []
    for item in items:
        flat.extend(item.items if isinstance(item, cls) else (item,))
    return cls(tuple(flat))


def _trees(catalog: Catalog, nested: Mapping[str, Catalog], max_leaves: int) -> st.SearchStrategy[ast.Node]:
    leaves: list[st.SearchStrategy[ast.Node]] = []
    for spec in catalog.values():
        if spec.type is types.ENTRIES:
            inner = st.one_of(st.just(ast.MatchAll()), _trees(nested[spec.name], {}, 6))
            leaves.append(st.builds(ast.AnyEntry, st.just(spec.name), inner))
        else:
            leaves.append(field_leaves(spec))

    def extend(children: st.SearchStrategy[ast.Node]) -> st.SearchStrategy[ast.Node]:
        operands = st.lists(children, min_size=2, max_size=4)
        return st.one_of(
            st.builds(ast.Not, children),
            st.builds(ast.Not, st.just(ast.MatchAll())),
            operands.map(lambda items: _junction(ast.And, items)),
            operands.map(lambda items: _junction(ast.Or, items)),
        )

    return st.recursive(st.one_of(leaves), extend, max_leaves=max_leaves)


def asts(kind: RecordKind | str, max_leaves: int = 12) -> st.SearchStrategy[ast.Node]:
    """Canonical filter ASTs over the fields of ``kind`` (``MatchAll`` now and then)."""
    return _asts(RecordKind.parse(kind), max_leaves)


@functools.cache
def _asts(kind: RecordKind, max_leaves: int) -> st.SearchStrategy[ast.Node]:
    # Built once per kind: constructing this strategy costs more than drawing from it.
    return st.one_of(st.just(ast.MatchAll()), _trees(FIELDS[kind], NESTED[kind], max_leaves))



# ---------------------------------------------------------------------------------------------
# Hostile input
# ---------------------------------------------------------------------------------------------

#: Characters that break naive text handling: NUL, lone surrogates, bidi and zero-width marks,
#: full-width and Arabic-Indic digits, exotic whitespace, and the filter and JSON punctuation.
ODD_CHARS: tuple[str, ...] = (
    "\x00", "\ud800", "\udfff", "\u200f", "\u202e", "\ufeff", "\u200b", "\uff11", "\u0661", "\u3000", "\x85",
    "\u2028", "\t", "\n", "\r", "\x0b", " ", "[", "]", "(", ")", "{", "}", '"', "\\", ",", ":", "-", "+", ".",
    "e", "E", "0", "1", "9", "in", "\U0001f600", "张", "ß", "İ",
)
#: Values at the edges of what the parameters take: range strings, times, numbers, JSON texts.
ODD_TEXTS: tuple[str, ...] = (
    "in[1000 2000]", "in [1 2]", "in[[1 2]]", "in[1e3 2e3]", "in[1.0 2]", "in[\uff11 \uff12]", "in[ 1 2 ]",
    "in[1 2", "in(1 1)", "in[-9223372036854775809 0]", "in[0 9223372036854775808]", "IN[1 2]", "in[1\u30002]",
    "in[2 1]", "in[1\x002]", "2024-02-29 00:00:00", "2023-02-29 00:00:00", "2023-05-17 24:00:00",
    "0000-01-01 00:00:00", "0001-01-01 00:00:00", "9999-12-31 23:59:59", "2016-12-31 23:59:60",
    "\uff12\uff10\uff12\uff13-05-17 10:00:00", "2023-05-17 10:00:00\x00", "2023-05-17T10:00:00Z", "2147483647",
    "2147483648", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1e3", "1.0", "0x10",
    "\u0661\u0662", "+", "-", " ", "NaN", "Infinity", "true", "TRUE", "null", "[]", "{}", "\ufeff[]",
    '[{"queryKey": "userName", "isContain": false}]', '[{"queryKey": "userName", "isContain": false, "queryKey": "x"}]',
    '{"queryKey": "userName"}', "[" * 3000 + "]" * 3000, "[" + ", ".join(['{"queryKey": "ruleId", "isContain": true}'] * 500) + "]",
    '[{"queryKey": "userName", "isContain": 1}]', '[{"queryKey": 1e400, "isContain": true}]', "[1" + "0" * 400 + "]",
    '[{"queryKey": "\\ud800", "isContain": true}]', '[{"queryKey": "userName", "isContain": true}] x', "[NaN]",
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


class _Opaque:
    """An object a caller should not pass, whose ``repr`` and ``==`` fail."""

    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no ==")

    __hash__ = object.__hash__


class _Array:
    """A value that compares element-wise, as a NumPy array does: ``==`` gives an array whose truth
    is an error."""

    def __eq__(self, other: object) -> _Array:  # type: ignore[override]
        return self

    def __bool__(self) -> bool:
        raise ValueError("the truth value of an array is ambiguous")

    def __repr__(self) -> str:
        return "array([1, 2])"

    __hash__ = object.__hash__


#: Objects a caller should not pass, each of which breaks a naive reader in its own way.
ODD_OBJECTS = st.sampled_from((_Opaque(), _Array(), object(), float("nan"), b"\xff", bytearray(b"1"), 1j))


def odd_values() -> st.SearchStrategy[Any]:
    """Anything a caller may pass as a parameter value, valid or not (each kind of value about
    equally often: ``one_of`` drew a few of them once in two hundred)."""
    return st.sampled_from(_ODD_VALUE_KINDS).flatmap(lambda kind: kind)


_ODD_VALUE_KINDS: tuple[st.SearchStrategy[Any], ...] = (
    ODD_OBJECTS,
    st.sampled_from(ODD_TEXTS),
    st.lists(st.sampled_from(ODD_CHARS), max_size=12).map("".join),
    st.text(max_size=12),
    st.integers(),
    st.sampled_from((0, -1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, -(2**63) - 1, 10**30, 10**5000)),
    st.floats(),
    st.booleans(),
    st.none(),
    st.binary(max_size=4),
    st.decimals(),
    st.datetimes(),
    st.datetimes(timezones=st.timezones()),
    st.dates(),
    _JSON,
    st.lists(_JSON, max_size=3),
    st.frozensets(st.integers(), max_size=2),
)


@st.composite
def odd_requests(draw: st.DrawFn, action: str) -> dict[Any, Any]:
    """Parameters of ``action``: its own names (aliases included), made-up ones and names that are
    no strings, each with an :func:`odd_values` value or a valid one."""
    names = sorted(OPERATIONS[action].names)
    params: dict[Any, Any] = {}
    for _ in range(draw(st.integers(0, 4))):
        # a made-up name (refused before any value is read) one time in ten
        made_up = draw(st.integers(0, 9)) == 0
        name = draw(st.one_of(st.sampled_from(("lang", "Action", "RuleID")), st.text(max_size=5), st.integers(0, 3))
                    if made_up else st.sampled_from(names))
        params[name] = draw(odd_values())
    if draw(st.booleans()):  # now and then on top of a valid request, so that later checks are reached
        params = {**draw(pools.requests(action)), **params}
    return params


def _mutate(text: str, edits: list[tuple[int, int, str]]) -> str:
    for kind, where, char in edits:
        at = where % (len(text) + 1)
        if kind == 0:  # insert
            text = text[:at] + char + text[at:]
        elif kind == 1:  # delete a few
            text = text[:at] + text[at + 1 + where % 4:]
        elif kind == 2:  # replace
            text = text[:at] + char + text[at + 1:]
        else:  # repeat a slice
            text = text[:at] + text[at : at + 1 + where % 9] * 2 + text[at:]
    return text


#: What a mutation inserts: the odd characters and the language's own words and escapes.
_FILTER_BITS = (*ODD_CHARS, "and", "or", "not", "any", "true", "ieq", "contains", "*", "=", "!", "<", ">",
                "\\u", "\\ud800", "\\u00", '\\"', "99999999999999999999", "\r\n", "\x1c")


def mutated_filters(kind: RecordKind) -> st.SearchStrategy[str]:
    """Rendered filters of ``kind`` changed by one to four edits (insert, delete, replace a
    character, repeat a slice): texts near valid ones, which reach deep into the parser."""
    edits = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 10_000), st.sampled_from(_FILTER_BITS)),
                     min_size=1, max_size=4)
    return st.builds(_mutate, asts(kind).map(render), edits)


@st.composite
def odd_wire_objects(draw: st.DrawFn, kind: RecordKind) -> Any:
    """A record of ``kind`` in wire form with keys dropped, added or changed to values of any
    JSON type (now and then something that is no object at all)."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.one_of(_JSON, odd_values()))
    wire = to_wire(draw(pools.records(kind)))
    keys = sorted({*wire_keys(kind), "SensitiveDataLog", "TableName", "Id", "OpTime", "CreationTime"})
    for _ in range(draw(st.integers(1, 3))):
        change = draw(st.integers(0, 2))
        if change == 0 and wire:
            wire.pop(draw(st.sampled_from(sorted(wire))))
        else:
            key = draw(st.one_of(st.sampled_from(keys), st.text(max_size=4)))
            wire[key] = draw(st.one_of(_JSON, st.sampled_from(ODD_TEXTS), st.sampled_from((2**63, -(2**63) - 1))))
    return wire


#: Strings that differ between engines if any: NUL, case folding beyond ASCII (ß/SS, dotted I,
#: ligatures, title case), normalisation, bidi marks, LIKE wildcards, quotes, backslashes.
EDGE_STRINGS: tuple[str, ...] = (
    "", "\x00", "a\x00b", "straße", "STRASSE", "İ", "i\u0307", "ß", "ﬃ", "\u200f", "\U0001f600", "%", "_",
    "\\", "'", '"', "a%b", "*", "\t", " ", "admin", "ADMIN", "é", "e\u0301", "ǅ", "Σ", "ς", "σ", "K", "k",
)
EDGE_INTEGERS: tuple[int, ...] = (0, 1, -1, 2**63 - 1, -(2**63), 2**31, -(2**31) - 1, 2**53 + 1)
EDGE_MS: tuple[int, ...] = (0, -1, 2**63 - 1, -(2**63), 253402300799999, -62135596800000, 1536751124000)
EDGE_WALL_CLOCKS: tuple[str, ...] = (
    "0001-01-01 00:00:00", "9999-12-31 23:59:59", "1899-12-31 23:59:59", "1900-01-01 00:00:00",
    "2299-12-31 23:59:59", "2300-01-01 00:00:00", "1970-01-01 00:00:00", "2038-01-19 03:14:08",
    "2106-02-07 06:28:16", "2023-05-17 10:00:00",
)


def _edge_records() -> dict[RecordKind, list[dict[str, Any]]]:
    records: dict[RecordKind, list[dict[str, Any]]] = {kind: [] for kind in RecordKind}
    for i, text in enumerate(EDGE_STRINGS):
        def edge(pool: tuple[Any, ...], shift: int = 0) -> Any:
            return pool[(i + shift) % len(pool)]

        records[RecordKind.AUDIT_LOG].append({
            "CreationTime": edge(EDGE_MS), "LogTime": edge(EDGE_MS, 1), "UserName": text, "SqlText": f"{text}x{text}",
            "OperateType": text, "RuleId": text, "EffectRow": edge(EDGE_INTEGERS), "ExecuteTime": edge(EDGE_INTEGERS, 3),
            "InWhiteList": i % 2 == 0,
        })
        records[RecordKind.MASKING_RUN].append({
            "Id": (2**63 - 1, -(2**63), -1, 0)[i] if i < 4 else 10**12 + i, "StartTime": edge(EDGE_MS),
            "EndTime": edge(EDGE_MS, 4), "TaskId": text, "SrcTableName": text, "Status": edge(EDGE_INTEGERS),
            "MainProcessId": edge(EDGE_INTEGERS, 2),
        })
        records[RecordKind.DMS_LOG].append({
            "OpTime": edge(EDGE_WALL_CLOCKS), "UserName": text, "DbDisplayName": f"{text}@{text}", "ModuleName": text,
            "Tid": edge(EDGE_INTEGERS), "SensitiveDataLog": [{"TableName": text, "ColumnName": text, "SecurityLevel": text}],
        })
    return records


#: Wire records of each kind holding the edge values above (masking run Ids far from the sample's).
EDGE_RECORDS: Mapping[RecordKind, list[dict[str, Any]]] = _edge_records()


def _edge_literals(spec: FieldSpec) -> st.SearchStrategy[str]:
    if spec.type is types.STRING:
        return st.sampled_from(EDGE_STRINGS).flatmap(
            lambda v: st.sampled_from((json.dumps(v), json.dumps(v, ensure_ascii=False)))
        )
    if spec.type is types.INTEGER:
        return st.sampled_from((*EDGE_INTEGERS, 3, 100)).map(str)
    if spec.type is types.TIME_MS:
        return st.one_of(st.sampled_from(EDGE_MS).map(str), st.sampled_from(
            ('"9999-12-31T23:59:59.999Z"', '"0001-01-01"', '"1970-01-01T00:00:00.001+14:00"', '"2018-09-12"')))
    if spec.type is types.WALL_CLOCK:
        return st.sampled_from((*EDGE_WALL_CLOCKS, "2023-05-17", "9999-12-31 23:59:59.999999")).map(json.dumps)
    return st.sampled_from(("true", "false", "TRUE"))


def _edge_leaves(catalog: Catalog, nested: Mapping[str, Catalog]) -> st.SearchStrategy[str]:
    leaves = []
    for name, spec in catalog.items():
        if spec.type is types.ENTRIES:
            inner = st.recursive(_edge_leaves(nested[name], {}), _edge_junctions, max_leaves=3)
            leaves += [inner.map(lambda x, n=name: f"{n} any ({x})"), st.just(f"{name} any ()")]
            continue
        literal = _edge_literals(spec)
        ops = ["=", "!="]
        if spec.type.ordered:
            ops += ["<", "<=", ">", ">="]
            bound = st.one_of(literal, st.just("*"))
            leaves.append(st.tuples(st.sampled_from("[("), bound, bound, st.sampled_from("])")).map(
                lambda t, n=name: f"{n} in {t[0]}{t[1]} {t[2]}{t[3]}"))
        if spec.type is types.STRING:
            ops += ["ieq", "contains", "startswith"]
        leaves.append(st.tuples(st.sampled_from(ops), literal).map(lambda t, n=name: f"{n} {t[0]} {t[1]}"))
        leaves.append(st.lists(literal, min_size=1, max_size=4).map(lambda v, n=name: f"{n} in {{{', '.join(v)}}}"))
    return st.one_of(leaves)


def _edge_junctions(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    operands = st.lists(children, min_size=2, max_size=3)
    return st.one_of(
        children.map(lambda x: f"not ({x})"),
        operands.map(lambda xs: " and ".join(f"({x})" for x in xs)),
        operands.map(lambda xs: " or ".join(f"({x})" for x in xs)),
    )


@functools.cache
def edge_filters(kind: RecordKind) -> st.SearchStrategy[str]:
    """Filter texts of ``kind`` over every field and operator, their literals the edge values
    (some reversed ranges and wrong types among them, which must fail alike everywhere)."""
    return st.recursive(_edge_leaves(FIELDS[kind], NESTED[kind]), _edge_junctions, max_leaves=6)
