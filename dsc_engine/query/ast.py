"""The filter AST: frozen attrs nodes that every query in the engine is made of.

Filter text (``parse.py``) and API parameters (``params.py`` and ``dsc_engine.api``) build these
same nodes. Field names are canonical PascalCase API names (as ``fields.py`` spells them); values
are already converted to the field's query type (``str``, ``int``, ``bool`` or naive
``datetime``), so two ASTs that mean the same compare equal. ``pos`` is the offset in the filter
text the node came from (-1 when built from parameters); it is kept out of equality and hashing.

Semantics (``docs/semantics.md`` §2.3): a record whose field is absent matches no comparison, range,
set or substring leaf on that field, and so matches its ``Not``. ``a != b`` means
``not (a = b)``.
"""

from __future__ import annotations

import datetime as dt
import enum

import attrs

Value = str | int | bool | dt.datetime


def _pos() -> int:
    return attrs.field(default=-1, eq=False, kw_only=True)


class Node:
    """Base class of all filter nodes."""

    __slots__ = ()


class CompareOp(enum.Enum):
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="

    # Members are singletons compared by identity: hashing by identity (in C) is consistent
    # with that, and nodes holding an operator are hashed whenever a filter is planned.
    __hash__ = object.__hash__


@attrs.frozen
class Compare(Node):
    """``field op value``. String comparisons are exact and case-sensitive."""

    field: str
    op: CompareOp
    value: Value
    pos: int = _pos()


@attrs.frozen
class EqualsIgnoreCase(Node):
    """Case-insensitive string equality (DescribeAuditLogs ``OperateType``)."""

    field: str
    value: str
    pos: int = _pos()


@attrs.frozen
class Range(Node):
    """``low <(=) field <(=) high``; a ``None`` bound is open (no limit on that side)."""

    field: str
    low: Value | None
    high: Value | None
    low_inclusive: bool = True
    high_inclusive: bool = True
    pos: int = _pos()


@attrs.frozen
class InSet(Node):
    """``field`` equals one of ``values`` (kept in the order written, duplicates removed)."""

    field: str
    values: tuple[Value, ...]
    pos: int = _pos()


@attrs.frozen
class Contains(Node):
    """Case-insensitive substring: ``text`` occurs in the field (compared with ``str.casefold``)."""

    field: str
    text: str
    pos: int = _pos()


@attrs.frozen
class StartsWith(Node):
    """Case-insensitive prefix (compared with ``str.casefold``)."""

    field: str
    text: str
    pos: int = _pos()


@attrs.frozen
class AnyEntry(Node):
    """Some entry of the list field ``field`` (``SensitiveDataLog``) matches ``condition``.

    ``condition`` names the entry's own fields (``TableName``, ``ColumnName`` ...). A record
    without entries matches no ``AnyEntry``.
    """

    field: str
    condition: Node
    pos: int = _pos()


@attrs.frozen
class And(Node):
    items: tuple[Node, ...]
    pos: int = _pos()


@attrs.frozen
class Or(Node):
    items: tuple[Node, ...]
    pos: int = _pos()


@attrs.frozen
class Not(Node):
    item: Node
    pos: int = _pos()


@attrs.frozen
class MatchAll(Node):
    """Matches every record: the filter of a request with no filter parameters (empty text)."""

    pos: int = _pos()


def conjunction(items: list[Node] | tuple[Node, ...]) -> Node:
    """``And`` of the items, flattening nested ``And`` and dropping ``MatchAll``."""
    flat: list[Node] = []
    for item in items:
        if isinstance(item, And):
            flat.extend(item.items)
        elif not isinstance(item, MatchAll):
            flat.append(item)
    if not flat:
        return MatchAll()
    if len(flat) == 1:
        return flat[0]
    return And(tuple(flat))
