"""What a filter's binders check and convert with: the fields in scope, and literals as written.

:mod:`parse` turns the parse tree into binders; each, given the :class:`Scope` (the text, for
offsets, and the field catalog in scope), checks the fields it names (:func:`scalar`) and converts
its :class:`Literal` values to the field's query type (:func:`value_of`), or fails at the offset
of the fault with :class:`FilterFieldError`. A bad escape in a string literal is a
:class:`FilterSyntaxError`. The values of a ``LITERAL_SET`` token (a long set, read by the lexer
as one token) are found by :func:`set_literals`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping

import attrs
from lark import Token

from dsc_engine.errors import FilterFieldError, FilterSyntaxError
from dsc_engine.query import ast
from dsc_engine.wire import types
from dsc_engine.wire.catalog import FieldSpec, UnknownField, entry_field, lookup

Catalog = Mapping[str, FieldSpec]

#: Decodes a string literal with escapes (a control character may stand as itself, as in the grammar).
_JSON_STRING = json.JSONDecoder(strict=False)
_ESCAPE = re.compile(r'\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})')


def at(token: Token) -> int:
    """Where ``token`` starts in the text (lark types it optional; parsed tokens always have it)."""
    return token.start_pos or 0


@attrs.frozen
class Scope:
    """What a binder checks against: the text (for error offsets) and the fields in scope."""

    text: str
    catalog: Catalog
    nested: Mapping[str, Catalog]
    owner: str  # "audit_log", or "SensitiveDataLog entry", for messages
    zone: dt.tzinfo  # of time literals written without one

    def field(self, token: Token) -> FieldSpec:
        try:
            return lookup(self.catalog, str(token))
        except UnknownField as exc:
            hint = f"; did you mean {exc.suggestion}?" if exc.suggestion else ""
            found = entry_field(self.nested, exc.name)  # TableName of a DMS log's entries
            if found is not None:
                hint = f"; {found[1]} is a field of its {found[0]} entries: {found[0]} any ({found[1]} = ...)"
            raise self.fail(
                f"unknown field {exc.name!r} in {self.owner} filters{hint} "
                f"(fields: {', '.join(exc.known)})",
                at(token),
            ) from None

    def fail(self, message: str, offset: int) -> FilterFieldError:
        return FilterFieldError(message, self.text, offset)


#: Builds a node of the filter, checking its fields and literals in the scope given.
Binder = Callable[[Scope], ast.Node]


@attrs.frozen
class Literal:
    """A literal as written: its grammar kind (string, integer, true, false, unbounded)."""

    kind: str
    text: str
    pos: int

    @classmethod
    def of(cls, kind: str, token: Token) -> Literal:
        return cls(kind, str(token), at(token))

    def describe(self) -> str:
        """``string "x"``, ``integer 5``, ``the boolean true``, ``an open bound '*'``."""
        if self.kind == "unbounded":
            return "an open bound '*'"
        if self.kind in ("true", "false"):  # the kind is the literal itself: name its type
            return f"the boolean {self.text}"
        return f"{self.kind} {self.text}"

    def string(self, scope: Scope) -> str:
        """The decoded text of a string literal (JSON escapes); a bad escape is a syntax error."""
        raw = self.text
        index = raw.find("\\")
        if index == -1:
            return raw[1:-1]  # no escapes: the text between the quotes, as JSON reads it
        while index != -1:
            match = _ESCAPE.match(raw, index)
            if match is None:
                raise FilterSyntaxError(
                    "invalid escape in string (use \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX)",
                    scope.text,
                    self.pos + index,
                )
            index = raw.find("\\", match.end())
        return _JSON_STRING.decode(raw)  # type: ignore[no-any-return]


@attrs.frozen
class Bounds:
    """A range's two bounds as written, and whether each is in the range."""

    low: Literal
    high: Literal
    low_inclusive: bool
    high_inclusive: bool

    @property
    def pos(self) -> int:
        return self.low.pos


#: A value in a LITERAL_SET token (the grammar's STRING and SIGNED_INT), its group named by its
#: literal kind: between values stand only whitespace and commas, so searching the token finds
#: each value in turn.
_SET_ITEM = re.compile(r'(?P<string>"[^"\\]*+(?:\\.[^"\\]*+)*+")|(?P<integer>-?[0-9]++)', re.S)


def set_literals(token: Token) -> list[Literal]:
    """The values of a ``LITERAL_SET`` token, each with its offset in the text."""
    start = at(token)
    return [Literal(str(match.lastgroup), match.group(), start + match.start()) for match in _SET_ITEM.finditer(token)]


def scalar(scope: Scope, field: Token) -> FieldSpec:
    """The field named by ``field``, which must hold one value (not a list of entries)."""
    spec = scope.field(field)
    if spec.type is types.ENTRIES:
        raise scope.fail(
            f"{spec.name} is a list of entries; filter it with "
            f"'{spec.name} any (<condition on its entries>)'",
            at(field),
        )
    return spec


def is_a(spec: FieldSpec) -> str:
    """``UserName is a string field``, ``EffectRow is an integer field``."""
    kind = spec.type.name
    article = "an" if kind[0] in "aeiou" else "a"
    return f"{spec.name} is {article} {kind} field"


def value_of(scope: Scope, spec: FieldSpec, literal: Literal) -> ast.Value:
    """Convert ``literal`` to the query type of ``spec``, or fail at the literal's offset."""
    kind = _LITERAL_KINDS.get(literal.kind)
    if kind is None or kind not in spec.type.literals:
        raise scope.fail(
            f"{is_a(spec)}; it cannot be compared with "
            f"{literal.describe()} (expected {spec.type.expected})",
            literal.pos,
        )
    text = literal.string(scope) if kind is types.LiteralKind.STRING else literal.text
    try:
        return spec.type.from_literal(kind, text, scope.zone)  # type: ignore[no-any-return]
    except types.BadValue as exc:
        raise scope.fail(f"{spec.name}: {exc}", literal.pos) from None


#: The grammar's literal kinds by the name :class:`Literal` gives them ("unbounded" is none).
_LITERAL_KINDS = {kind.value: kind for kind in types.LiteralKind}
