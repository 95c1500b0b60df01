"""Reading a request: raw parameters -> a typed :class:`Request`, for any described operation.

The reader walks the operation's parameters in the page's order (so with several faults the
first in that order is reported, ``docs/semantics.md`` §6.3), reads each by its wire type and
builds its part of the answer from its role: a filter becomes filter-AST nodes (the same nodes
the filter language builds), the page parameters become the page, ``Lang`` the language,
``LogQueryOpJson`` the negated filters, switches and echoes what they switch and echo. Nothing
here knows one operation from another: everything particular is in its description
(``api/operations/``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from dsc_engine.api.read import INT32_MAX, Reader, check_window, invalid, read_lang
from dsc_engine.api.spec import Match, Operation, Parameter, Role, WireType
from dsc_engine.models.enums import Lang
from dsc_engine.models.records import INT64_MAX, INT64_MIN
from dsc_engine.query import ast
from dsc_engine.query.params import parse_log_query_op, range_filter
from dsc_engine.wire.catalog import NESTED

_EQ = ast.CompareOp.EQ


@attrs.frozen(kw_only=True)
class Request:
    """A valid request of ``operation``.

    ``filters`` holds each filter's AST node by parameter name, in the page's order (the window's
    two bounds are one ``Range`` under the start parameter's name; the entry filters one
    ``AnyEntry`` under the first one's name); ``negated`` names those LogQueryOpJson negates;
    ``switches`` the switches turned on; ``echoes`` the values of echoed parameters.
    """

    operation: Operation
    lang: Lang = Lang.ZH_CN
    page: int = 1
    size: int = 10
    filters: Mapping[str, ast.Node] = attrs.field(factory=dict)
    negated: frozenset[str] = frozenset()
    switches: frozenset[str] = frozenset()
    echoes: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    def filter(self) -> ast.Node:
        """The AST of this request: every (possibly negated) filter, ANDed (§2.1, §4.2)."""
        return ast.conjunction(
            [ast.Not(node) if name in self.negated else node for name, node in self.filters.items()]
        )

    def switched(self, name: str) -> bool:
        return name in self.switches

    @property
    def group_by(self) -> str | None:
        """The field whose newest record per value is kept (RuleAggQuery, §5.4), if switched on."""
        for parameter in self.operation.grouping:
            if parameter.name in self.switches:
                return parameter.field
        return None


def read_request(operation: Operation, params: Mapping[str, object]) -> Request:
    """Validate every parameter of ``params`` for ``operation``, in the page's order."""
    reader = Reader(operation.action, params)
    reader.check_names(operation.names, operation.json_names)
    steps = _steps(operation)
    reading = _Reading(operation)
    # the parameters given and the required ones, in the page's order (an absent optional
    # parameter leaves its default); check_names has made sure every given name is known
    positions = operation.positions
    for position in sorted({*operation.required_positions, *(positions[name] for name in params)}):
        steps[position](reader, reading)
    return reading.request()


class _Reading:
    """What the parameters read so far make of a request."""

    def __init__(self, operation: Operation) -> None:
        self.operation = operation
        self.lang = Lang.ZH_CN
        number, size = operation.paging
        self.page = number.default if number is not None and number.default else 1
        self.size = size.default if size is not None and size.default else 10
        self.filters: dict[str, ast.Node] = {}
        self.window: dict[Match, tuple[Parameter, Any]] = {}
        self.entry: list[tuple[Parameter, ast.Node]] = []
        self.negated: frozenset[str] = frozenset()
        self.switches: set[str] = set()
        self.echoes: dict[str, str] = {}

    def request(self) -> Request:
        filters = _window(self.window)
        filters.update(self.filters)
        if self.entry:  # every entry filter on one and the same entry (§2.2)
            list_field = next(iter(NESTED[self.operation.kind]))
            condition = ast.conjunction([node for _, node in self.entry])
            filters[self.entry[0][0].name] = ast.AnyEntry(list_field, condition)
        return Request(
            operation=self.operation, lang=self.lang, page=self.page, size=self.size, filters=filters,
            negated=self.negated, switches=frozenset(self.switches), echoes=self.echoes,
        )


Step = Callable[[Reader, _Reading], None]


def _step(operation: Operation, parameter: Parameter) -> Step:
    """How one parameter is read into a request, by its role and match."""
    name, role = parameter.name, parameter.role

    def lang(reader: Reader, reading: _Reading) -> None:
        reading.lang = read_lang(reader)

    def negations(reader: Reader, reading: _Reading) -> None:
        reading.negated = _negations(reader, parameter, operation)

    def page(reader: Reader, reading: _Reading) -> None:
        value = _value(reader, parameter)
        if value is not None:
            reading.page = value

    def size(reader: Reader, reading: _Reading) -> None:
        value = _value(reader, parameter)
        if value is not None:
            reading.size = value

    def switch(reader: Reader, reading: _Reading) -> None:
        if reader.boolean(name):
            reading.switches.add(name)

    def echo(reader: Reader, reading: _Reading) -> None:
        value = reader.string(name)
        if value is not None:
            reading.echoes[name] = value

    def no_effect(reader: Reader, reading: _Reading) -> None:
        reader.string(name)  # still a string, if given (§6.2)

    def window(reader: Reader, reading: _Reading) -> None:
        value = _value(reader, parameter)
        if value is not None:
            reading.window[parameter.match] = (parameter, value)  # type: ignore[index]

    def entry(reader: Reader, reading: _Reading) -> None:
        value = _value(reader, parameter)
        if value is not None:
            reading.entry.append((parameter, ast.Compare(field, _EQ, value)))

    def filter_(reader: Reader, reading: _Reading) -> None:
        value = _value(reader, parameter)
        if value is not None:
            reading.filters[name] = _filter(parameter, value)

    field = parameter.field or ""
    by_role: dict[Role, Step] = {
        Role.LANG: lang, Role.NEGATIONS: negations, Role.PAGE_NUMBER: page, Role.PAGE_SIZE: size,
        Role.GROUP_BY: switch, Role.SHOW_FIELD: switch, Role.ECHO: echo, Role.NO_EFFECT: no_effect,
    }
    if role is not Role.FILTER:
        return by_role[role]
    if parameter.match in (Match.WINDOW_START, Match.WINDOW_END):
        return window
    return entry if parameter.match is Match.ENTRY else filter_


def _steps(operation: Operation) -> tuple[Step, ...]:
    """The step of each parameter of ``operation``, in the page's order (made once per action)."""
    steps = _STEPS.get(operation.action)
    if steps is None or steps[0] is not operation:
        steps = _STEPS[operation.action] = (operation, tuple(_step(operation, p) for p in operation.parameters))
    return steps[1]


_STEPS: dict[str, tuple[Operation, tuple[Step, ...]]] = {}


def prepare(operation: Operation) -> None:
    """Work out now what every request of ``operation`` needs (its steps and the operation's
    derived tables), so that a process's first request costs what the later ones do."""
    _steps(operation)
    for derived in ("positions", "required_positions", "names", "paging", "echoed", "grouping",
                    "has_lang", "query_keys"):
        getattr(operation, derived)


def _value(reader: Reader, parameter: Parameter) -> Any:
    """The parameter's value by its wire type, bounds and documented values (``None``: absent)."""
    name, kind = parameter.name, parameter.wire
    if parameter.values is not None:
        member = reader.choice(name, parameter.values)
        return None if member is None else member.value
    if kind is WireType.STRING:
        if parameter.aliases:
            return _aliased(reader, parameter)
        return reader.string(name, required=parameter.required)
    if kind in (WireType.LONG, WireType.INTEGER):
        low, high = parameter.bounds or ((INT64_MIN, INT64_MAX) if kind is WireType.LONG else (-INT32_MAX - 1, INT32_MAX))
        return reader.integer(name, low=low, high=high, required=parameter.required)
    if kind is WireType.BOOLEAN:
        return reader.boolean(name)
    if kind is WireType.WALL_CLOCK:
        return reader.wall_clock(name, required=parameter.required)
    raise TypeError(f"{parameter.name}: no reader for the wire type {kind}")


def _aliased(reader: Reader, parameter: Parameter) -> str | None:
    """A string given under its name or an alias (``RuleId``/``RuleID``); given twice with
    different values, it is invalid (§6.2)."""
    given = [(name, reader.string(name)) for name in (parameter.name, *parameter.aliases)]
    present = [(name, value) for name, value in given if value is not None]
    if len({value for _, value in present}) > 1:
        (first, a), (second, b) = present[:2]
        raise invalid(
            parameter.name,
            a,
            f"{first} {a!r} and {second} {b!r} disagree; send one of them",
            f"{first} {a!r} 与 {second} {b!r} 不一致；只需传其中一个",
        )
    return present[0][1] if present else None


def _filter(parameter: Parameter, value: Any) -> ast.Node:
    field = parameter.field
    assert field is not None, f"filter {parameter.name} names no field"
    if parameter.match is Match.EXACT:
        return ast.Compare(field, _EQ, value)
    if parameter.match is Match.IEQUAL:
        return ast.EqualsIgnoreCase(field, value)
    if parameter.match is Match.SUBSTRING:
        return ast.Contains(field, value)
    if parameter.match is Match.RANGE_STRING:
        return range_filter(parameter.name, value, field)
    raise TypeError(f"{parameter.name}: no filter for the match {parameter.match}")


def _window(bounds: Mapping[Match, tuple[Parameter, Any]]) -> dict[str, ast.Node]:
    """The window of the two bounds given (§2.4): one ``Range`` under the start's name."""
    if not bounds:
        return {}
    start, end = bounds.get(Match.WINDOW_START), bounds.get(Match.WINDOW_END)
    if start is not None and end is not None:
        check_window(start[0].name, start[1], end[0].name, end[1])
    first = start or end
    assert first is not None
    field = first[0].field
    assert field is not None
    node = ast.Range(field, None if start is None else start[1], None if end is None else end[1])
    return {first[0].name: node}


def _negations(reader: Reader, parameter: Parameter, operation: Operation) -> frozenset[str]:
    """The parameter names LogQueryOpJson marks ``isContain: false`` (§4)."""
    raw = reader.value(parameter.name)
    if raw is None:
        return frozenset()
    if isinstance(raw, list):  # the Python form: the array itself
        try:
            raw = json.dumps(raw)
        except (TypeError, ValueError):  # a value JSON cannot hold (a set, a datetime, a cycle)
            raw = None
    if not isinstance(raw, str):
        raise invalid(
            parameter.name,
            reader.raw[parameter.name],
            "it must be a JSON array text (or a list of JSON objects)",
            "它必须是 JSON 数组文本（或对象列表）",
        )
    keys = operation.query_keys
    negated = parse_log_query_op(raw, parameter.name, keys, operation.query_key_aliases)
    return frozenset(keys[key] for key, keep in negated.items() if not keep)
