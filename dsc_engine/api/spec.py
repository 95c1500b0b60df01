"""The vocabulary of an operation description: what an API operation is, as data.

Each operation module in ``api/operations/`` is one :class:`Operation`: its action, version,
product, RAM action, record kind, list key, and every request parameter in the page's order with
its wire type, role, the record field it reads and how (:class:`Match`), documented values,
bounds and LogQueryOpJson key. The request reader (``request.py``), the responder
(``respond.py``), the server's and the CLI's tables, export and import page handling, the public
strategies and ``docs/coverage.md`` all derive from these descriptions; none of them lists an
operation's facts again.

This module only describes; it imports nothing above the models.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from dsc_engine.models.kinds import RecordKind

#: Products as they appear in the ``Recommend`` link of an error (``docs/semantics.md`` §7.1).
SDDP = "Sddp"
DMS = "dms-enterprise"


class WireType(enum.Enum):
    """A request parameter's type on the wire (the Java type of the API's metadata)."""

    STRING = "String"
    LONG = "Long"  # a 64-bit integer
    INTEGER = "Integer"  # a 32-bit integer (page numbers)
    BOOLEAN = "Boolean"
    WALL_CLOCK = "String (yyyy-MM-dd HH:mm:ss)"
    JSON = "String (a JSON array)"


class Role(enum.Enum):
    """What a parameter does to the answer."""

    FILTER = "filter"  # narrows the records (see Match)
    PAGE_NUMBER = "page number"
    PAGE_SIZE = "page size"
    LANG = "language"  # of WarnLevelName and error messages
    NEGATIONS = "negates filters"  # LogQueryOpJson: isContain false negates the filter of a key
    GROUP_BY = "switch: newest record per value"  # RuleAggQuery
    SHOW_FIELD = "switch: items carry a field"  # LoadWhiteList
    ECHO = "echoed"  # AsyncRequestId: sent back, or a fresh id
    NO_EFFECT = "accepted, no effect"  # RegionId


class Match(enum.Enum):
    """How a filter parameter matches the record field it names (``docs/semantics.md`` §2.2)."""

    EXACT = "exact"
    IEQUAL = "case-insensitive equality"
    SUBSTRING = "case-insensitive substring"
    WINDOW_START = "window start, inclusive"
    WINDOW_END = "window end, inclusive"
    RANGE_STRING = "range string"
    ENTRY = "exact, on one nested entry"


@attrs.frozen(kw_only=True)
class Parameter:
    """One request parameter, as its page documents it.

    ``field`` is the record field (catalog wire name) the parameter filters, groups by or shows;
    for ``Match.ENTRY`` a field of the kind's nested entries. ``values`` are the valid values the
    page lists (requests take only these). ``bounds`` and ``default`` apply to integers.
    ``query_key`` is the LogQueryOpJson key that negates this filter; ``aliases`` are other names
    the same parameter is accepted under (an older spelling).
    """

    name: str
    wire: WireType
    role: Role = Role.FILTER
    match: Match | None = None
    field: str | None = None
    required: bool = False
    values: type[enum.Enum] | None = None
    bounds: tuple[int, int] | None = None
    default: int | None = None
    query_key: str | None = None
    aliases: tuple[str, ...] = ()
    doc: str = ""

    def __attrs_post_init__(self) -> None:
        if (self.role is Role.FILTER) != (self.match is not None):
            raise ValueError(f"parameter {self.name}: a filter needs a match, and only a filter has one")


@attrs.frozen(kw_only=True)
class Operation:
    """One API operation, described once (see the module docstring).

    ``response`` lists the keys of a successful response in the page's order: ``RequestId``,
    ``TotalCount``, the ``list_key``, ``Success`` (always ``true``), and the names of echoed
    parameters (page number and size as used, ``AsyncRequestId``). ``shape_item`` adjusts one
    item for a request, keeping its keys in wire order (DescribeAuditLogs: ``WarnLevelName`` by
    ``Lang``, ``InWhiteList`` on request). ``query_key_aliases`` maps an alias of a LogQueryOpJson key to the key.
    ``field_notes`` says how the engine treats response fields that are not plainly the record's
    own value (for ``docs/coverage.md``).
    """

    action: str
    version: str
    product: str
    ram_action: str
    kind: RecordKind
    list_key: str
    parameters: tuple[Parameter, ...]
    response: tuple[str, ...]
    shape_item: Callable[[dict[str, Any], Any, Any], dict[str, Any]] | None = None
    query_key_aliases: Mapping[str, str] = attrs.field(factory=dict)
    field_notes: Mapping[str, str] = attrs.field(factory=dict)
    page_doc: str = ""

    def parameter(self, name: str) -> Parameter:
        """The parameter named ``name`` (or one of its aliases); ``KeyError`` otherwise."""
        for parameter in self.parameters:
            if name == parameter.name or name in parameter.aliases:
                return parameter
        raise KeyError(name)

    def with_role(self, role: Role) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.role is role)

    def one(self, role: Role) -> Parameter | None:
        """The parameter of ``role`` (page number, page size, language ...), if the operation has one."""
        found = self.with_role(role)
        return found[0] if found else None

    # What every request needs, worked out once per operation (requests are the hot path).

    @functools.cached_property
    def positions(self) -> Mapping[str, int]:
        """Each accepted name (aliases included) -> its parameter's position in the page's order."""
        return {name: i for i, p in enumerate(self.parameters) for name in (p.name, *p.aliases)}

    @functools.cached_property
    def required_positions(self) -> tuple[int, ...]:
        return tuple(i for i, p in enumerate(self.parameters) if p.required)

    @functools.cached_property
    def paging(self) -> tuple[Parameter | None, Parameter | None]:
        """The page-number and page-size parameters (``None`` where the operation has none)."""
        return self.one(Role.PAGE_NUMBER), self.one(Role.PAGE_SIZE)

    @functools.cached_property
    def echoed(self) -> tuple[Parameter, ...]:
        return self.with_role(Role.ECHO)

    @functools.cached_property
    def grouping(self) -> tuple[Parameter, ...]:
        return self.with_role(Role.GROUP_BY)

    @functools.cached_property
    def has_lang(self) -> bool:
        return self.one(Role.LANG) is not None

    @functools.cached_property
    def names(self) -> frozenset[str]:
        """Every parameter name the operation accepts, aliases included."""
        return frozenset(n for p in self.parameters for n in (p.name, *p.aliases))

    @functools.cached_property
    def json_names(self) -> frozenset[str]:
        """The names of the parameters whose value is JSON text (``Reader.check_names``)."""
        return frozenset(p.name for p in self.parameters if p.wire is WireType.JSON)

    @property
    def max_page_size(self) -> int:
        size = self.one(Role.PAGE_SIZE)
        assert size is not None and size.bounds is not None, f"{self.action} has no bounded page size"
        return size.bounds[1]

    @functools.cached_property
    def query_keys(self) -> Mapping[str, str]:
        """Each LogQueryOpJson key (aliases included) -> the name of the parameter it negates."""
        keys = {p.query_key: p.name for p in self.parameters if p.query_key is not None}
        return keys | {alias: keys[key] for alias, key in self.query_key_aliases.items()}
