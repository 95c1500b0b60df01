"""Filter text -> AST: the grammar's tree, turned into frozen ``ast`` nodes of one record kind.

One lark ``Transformer`` (:class:`_ToAst`) turns the parse tree into *binders*: functions that,
given the field catalog in scope, check each field and literal and build the node (what they check
and convert with is :mod:`binding`'s). Binding after the tree is complete is what lets ``SensitiveDataLog any (TableName = "t")`` check ``TableName``
against the entry catalog although lark transforms the inner condition first.

This module is the only place lark's errors are translated: :func:`parse_filter` raises
:class:`FilterSyntaxError` (the text does not parse) or :class:`FilterFieldError` (it parses,
but names an unknown field or compares a field with a literal of the wrong type), both with the
offset of the fault.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import zoneinfo
from collections.abc import Callable, Sequence

import attrs
from lark import Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from dsc_engine.errors import FilterSyntaxError, InvalidParameterError, Reason
from dsc_engine.models import RecordKind
from dsc_engine.query import ast, grammar
from dsc_engine.query.binding import (
    Binder,
    Bounds,
    Catalog,
    Literal,
    Scope,
    at,
    is_a,
    scalar,
    set_literals,
    value_of,
)
from dsc_engine.wire import times, types
from dsc_engine.wire.catalog import FIELDS, NESTED

#: How deeply ``not``, ``and``/``or`` alternation and ``any`` may nest (parentheses alone add
#: no level).
MAX_DEPTH = 100
_NESTING = frozenset({"not_", "and_", "or_", "any_entry"})
_JUNCTIONS = frozenset({"and_", "or_"})
#: Filters up to this many characters are parsed once per process (``_parsed``).
_CACHED_TEXT = 4_096
#: The zones a parsed filter is kept for: the ones ``times.parse_zone`` makes, hashable, and
#: equal only when their rules are the same. Another ``tzinfo`` (``dateutil``'s zones define
#: ``==`` and are unhashable; a class's ``==`` may be looser than its rules) is parsed each time.
_CACHED_ZONES = (dt.timezone, zoneinfo.ZoneInfo)


def parse_filter(text: str, kind: RecordKind | str, *, zone: dt.tzinfo | str = times.UTC) -> ast.Node:
    """Parse filter ``text`` into an AST over the fields of ``kind`` (a kind or its name).

    A time literal written without a zone and compared with an Sddp time (UNIX milliseconds) is
    read in ``zone`` (UTC by default: a ``tzinfo``, or a name such as ``"Asia/Shanghai"`` or
    ``"+08:00"``); DMS times are naive wall-clock times, which no zone changes.

    Blank text is :class:`ast.MatchAll`. Raises :class:`FilterSyntaxError` or
    :class:`FilterFieldError`, and :class:`InvalidParameterError` for a ``text`` that is not a
    string, an unknown ``kind`` or a ``zone`` that is none; never a lark or other Python exception.
    """
    zone = filter_zone(zone)
    if not isinstance(text, str):
        kind_name = type(text).__name__
        raise InvalidParameterError(
            "filter", text, Reason(f"a filter is a string, not {kind_name}", f"过滤条件必须是字符串，实际为 {kind_name}")
        )
    try:
        kind = RecordKind.parse(kind)
    except ValueError as exc:
        raise InvalidParameterError("kind", kind, Reason(str(exc), f"未知的记录类型 {kind!r}")) from None
    if not text.strip():  # what the grammar reads as an empty filter (its WS is \s, isspace)
        return ast.MatchAll(pos=0)  # without building the parser (some 35 ms a process)
    if len(text) <= _CACHED_TEXT and type(zone) in _CACHED_ZONES:
        return _parsed(text, kind, zone)
    return _parse(text, kind, zone)


def filter_zone(zone: object) -> dt.tzinfo:
    """The zone filter times without one are read in: a ``tzinfo`` as it is, or its name (``UTC``,
    an offset such as ``+08:00``, an IANA name); anything else is an :class:`InvalidParameterError`
    on ``zone``."""
    if isinstance(zone, str):
        try:
            return times.parse_zone(zone)
        except ValueError as exc:
            raise InvalidParameterError("zone", zone, Reason(str(exc), f"未知的时区 {zone!r}")) from None
    if not isinstance(zone, dt.tzinfo):
        raise InvalidParameterError("zone", zone, Reason("a zone is a tzinfo or its name", "时区必须是 tzinfo 或时区名称"))
    name = getattr(zone, "zone", None)
    if isinstance(name, str) and callable(getattr(zone, "localize", None)):
        # A pytz zone: put on a time with replace(), as any tzinfo is, it gives the zone's first
        # offset (local mean time, +08:06 for Asia/Shanghai), not the one in force then; its
        # IANA name gives the zone's own rules.
        return filter_zone(name)
    if type(zone) not in _CACHED_ZONES:  # a caller's own tzinfo: it must give an offset
        _check_offset(zone)
    return zone


def _check_offset(zone: dt.tzinfo) -> None:
    """Refuse a ``tzinfo`` whose ``utcoffset`` fails, gives none or gives a day or more, as the
    zone, before any time is read in it (tried on one time: a zone is not probed at every time)."""
    try:
        offset = dt.datetime(2000, 1, 1, tzinfo=zone).utcoffset()
    except Exception as exc:  # the deliberate catch-all of a caller's code: whatever it raises
        reason = f"its utcoffset failed ({type(exc).__name__}: {exc})"
    else:
        if offset is not None:
            return
        reason = "its utcoffset gives no offset (None)"
    raise InvalidParameterError("zone", zone, Reason(f"a zone must give a UTC offset; {reason}",
                                                      "时区必须给出 UTC 偏移，其 utcoffset 未给出"))


@functools.lru_cache(maxsize=1_024)
def _parsed(text: str, kind: RecordKind, zone: dt.tzinfo) -> ast.Node:
    """``_parse``, remembered: a process asks the same filters again and again (a replay, a
    test suite, a shell), parsing one costs ~50-150 µs, and its AST is immutable."""
    return _parse(text, kind, zone)


def _parse(text: str, kind: RecordKind, zone: dt.tzinfo) -> ast.Node:
    try:
        tree = grammar.parser().parse(text, start="filter")
    except UnexpectedInput as exc:
        raise syntax_error(text, exc) from exc
    _merge_junctions(tree)
    _check_depth(text, tree)
    bind: Binder = _TO_AST.transform(tree)
    return bind(Scope(text, FIELDS[kind], NESTED[kind], kind.value, zone))


def _merge_junctions(tree: Tree[Token]) -> None:
    """Give each ``and`` (``or``) the operands of the ``and``s (``or``s) written directly in it,
    in place: ``(a and b) and c`` is one ``And`` of three (``_flat`` builds the same node), so
    a filter built up one condition at a time, ``(...) and x``, nests no deeper for its length."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if node.data in _JUNCTIONS:
            operands: list[Tree[Token] | Token] = []
            pending = node.children[::-1]
            while pending:
                child = pending.pop()
                if isinstance(child, Tree) and child.data == node.data:
                    pending.extend(child.children[::-1])
                else:
                    operands.append(child)
            node.children = operands
        stack.extend(child for child in node.children if isinstance(child, Tree))


def _check_depth(text: str, tree: Tree[Token]) -> None:
    """Refuse trees nested deeper than :data:`MAX_DEPTH` (transforming them recurses per level)."""
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            first: Tree[Token] | Token = node
            while isinstance(first, Tree):  # the leftmost token says where the deep part starts
                first = first.children[0]
            raise FilterSyntaxError(f"the filter nests more than {MAX_DEPTH} levels deep", text, at(first))
        stack.extend(
            (child, depth + (child.data in _NESTING))
            for child in node.children
            if isinstance(child, Tree)
        )



def syntax_error(text: str, exc: UnexpectedInput) -> FilterSyntaxError:
    """Translate a lark error on ``text`` into a :class:`FilterSyntaxError`."""
    fault = fault_of(text, exc)
    expected = _expected_after(text[: fault.offset]) or expected_terminals(exc)
    return FilterSyntaxError(fault.english() + _value_hint(text, fault, expected), text, fault.offset, expected)


def _expected_after(prefix: str) -> tuple[str, ...]:
    """Readable names of what may follow ``prefix``, the text before a fault. The parser's own
    error state is no answer for a ``)`` or the end of input: it has read them ahead through
    reductions (``a = 1)`` reduces to a whole filter first, after which only the end fits, not
    'and' or 'or'). The prefix parsed before the fault, so it parses again; empty if not."""
    try:
        interactive = grammar.parser().parse_interactive(prefix, start="filter")
        interactive.exhaust_lexer()
        return grammar.readable(interactive.accepts())  # type: ignore[no-untyped-call]
    except UnexpectedInput:
        return ()


def _value_hint(text: str, fault: Fault, expected: tuple[str, ...]) -> str:
    """How to write a value written as another language writes it, where a value was expected:
    ``'admin'`` or a bare ``admin`` (strings take double quotes), ``==`` (equality is one ``=``),
    SQL's set ``in (a, b)`` (a comma where a range's upper bound is due)."""
    if "string" not in expected:
        return ""
    if fault.found == "character" and fault.text == "'":
        end = text.find("'", fault.offset + 1)
        shown = "" if end < 0 else f": {json.dumps(text[fault.offset + 1 : end], ensure_ascii=False)}"
        return f"; strings are written in double quotes{shown}"
    if fault.found == "token" and fault.name == "field name":
        return f"; strings are written in double quotes: {json.dumps(fault.text, ensure_ascii=False)}"
    if fault.found == "token" and fault.text == "," and "'*'" in expected:  # after a range's low bound
        return "; a set is written in braces, in {a, b}; a range with whitespace between its bounds, in [a b]"
    before = text[: fault.offset]
    doubled = before.endswith("=") and not before.endswith(("<=", ">=", "!="))  # '>==' is a stray '='
    if fault.found == "token" and fault.text == "=" and doubled:
        return "; equality is one '='"
    return ""


@attrs.frozen
class Fault:
    """Where a lark error happened in a text and what was found there.

    ``found`` is ``"end"`` (end of input, ``offset == len(text)``), ``"string"`` (an unterminated
    string), ``"character"`` (one the lexer cannot start a token with) or ``"token"``;
    ``text`` is the token or character; ``name`` the token's readable kind (``field name``,
    ``'and'``).
    """

    offset: int
    found: str
    text: str = ""
    name: str = ""

    def english(self, *, name_tokens: bool = True) -> str:
        """``unexpected field name 'x'``; without ``name_tokens`` only the token's text (for
        inputs that have no field names, such as range strings)."""
        if self.found == "end":
            return "unexpected end of input"
        if self.found == "string":
            return "unterminated string"
        if self.found == "character":
            return f"unexpected character {self.text!r}"
        if not name_tokens or self.name.startswith("'"):  # a keyword or punctuation says it all
            return f"unexpected {self.text!r}"
        return f"unexpected {self.name} {self.text!r}"


def fault_of(text: str, exc: UnexpectedInput) -> Fault:
    """The :class:`Fault` of a lark error on ``text`` (end of input is ``len(text)``)."""
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        if token.type == "$END":
            return Fault(len(text), "end")
        if token.type == "LITERAL_SET":  # a set where none may stand: its "{" is what is wrong
            return Fault(_clamp(at(token), text), "token", "{", "'{'")
        name = grammar.terminal_names().get(token.type, token.type)
        return Fault(_clamp(at(token), text), "token", str(token), name)
    if isinstance(exc, UnexpectedCharacters):
        offset = _clamp(exc.pos_in_stream, text)
        if offset < len(text) and text[offset] == '"':
            return Fault(offset, "string")
        return Fault(offset, "character", text[offset : offset + 1])
    return Fault(len(text), "end")  # UnexpectedEOF, which carries no position


def expected_terminals(exc: UnexpectedInput) -> tuple[str, ...]:
    """Readable names of what would have fit where ``exc`` happened."""
    interactive = getattr(exc, "interactive_parser", None)
    if interactive is not None:
        return grammar.readable(interactive.accepts())
    if isinstance(exc, UnexpectedToken):
        return grammar.readable(exc.expected)
    if isinstance(exc, UnexpectedCharacters) and exc.allowed:
        return grammar.readable(exc.allowed)
    return ()


def _clamp(offset: int | None, text: str) -> int:
    if offset is None or offset < 0:
        return len(text)
    return min(offset, len(text))


# --------------------------------------------------------------------------- tree -> binders


def _compare(field: Token, op: ast.CompareOp, literal: Literal) -> Binder:
    def bind(scope: Scope) -> ast.Node:
        spec = scalar(scope, field)
        if op in (ast.CompareOp.EQ, ast.CompareOp.NE):
            value = value_of(scope, spec, literal)
        elif not spec.type.ordered:
            raise scope.fail(
                f"{op.value!r} needs an integer or time field; {is_a(spec)}",
                literal.pos,
            )
        else:
            value = value_of(scope, spec, literal)
        return ast.Compare(spec.name, op, value, pos=at(field))

    return bind


def _comparison(op: ast.CompareOp) -> Callable[[Transformer[Token, Binder], Token, Literal], Binder]:
    """The transformer callback of one comparison operator (``eq`` ... ``ge`` in the grammar)."""

    def callback(self: Transformer[Token, Binder], field: Token, literal: Literal) -> Binder:
        return _compare(field, op, literal)

    return callback


@v_args(inline=True)
class _ToAst(Transformer[Token, Binder]):
    """Turns the parse tree of a filter into one :data:`Binder`. Stateless: one instance serves
    every parse (:data:`_TO_AST`)."""

    def __init__(self) -> None:
        super().__init__(visit_tokens=False)  # no callback takes a lone token
        # lark's ``v_args`` makes a new wrapper of a callback each time it is looked up: once per
        # tree node, which was most of the cost of a long ``in {...}``. Look each up once.
        for name in vars(_ToAst):
            if not name.startswith("_"):
                self.__dict__[name] = getattr(self, name)

    def filter(self, expr: Binder | None = None) -> Binder:
        return expr if expr is not None else lambda scope: ast.MatchAll(pos=0)

    def or_(self, *items: Binder) -> Binder:
        return lambda scope: _flat(ast.Or, [item(scope) for item in items])

    def and_(self, *items: Binder) -> Binder:
        return lambda scope: _flat(ast.And, [item(scope) for item in items])

    def not_(self, keyword: Token, item: Binder) -> Binder:
        return lambda scope: ast.Not(item(scope), pos=at(keyword))

    def match_all(self, paren: Token) -> Binder:
        return lambda scope: ast.MatchAll(pos=at(paren))

    # Comparisons ----------------------------------------------------------------------------

    eq = _comparison(ast.CompareOp.EQ)
    ne = _comparison(ast.CompareOp.NE)
    lt = _comparison(ast.CompareOp.LT)
    le = _comparison(ast.CompareOp.LE)
    gt = _comparison(ast.CompareOp.GT)
    ge = _comparison(ast.CompareOp.GE)

    # Text operators -------------------------------------------------------------------------

    def ieq(self, field: Token, keyword: Token, literal: Literal) -> Binder:
        return _text_predicate(ast.EqualsIgnoreCase, field, keyword, literal)

    def contains(self, field: Token, keyword: Token, literal: Literal) -> Binder:
        return _text_predicate(ast.Contains, field, keyword, literal)

    def startswith(self, field: Token, keyword: Token, literal: Literal) -> Binder:
        return _text_predicate(ast.StartsWith, field, keyword, literal)

    # Ranges, sets, entries ------------------------------------------------------------------

    def in_range(self, field: Token, keyword: Token, bounds: Bounds) -> Binder:
        def bind(scope: Scope) -> ast.Node:
            low_end = bounds.low.pos + len(bounds.low.text)
            if bounds.high.pos == low_end:  # "[-10-5]": the integers -10 and -5, not -10..5
                raise FilterSyntaxError(
                    f"the two bounds of a range are separated by whitespace: "
                    f"{bounds.low.text} {bounds.high.text}, not {bounds.low.text}{bounds.high.text}",
                    scope.text,
                    bounds.high.pos,
                )
            spec = scalar(scope, field)
            if not spec.type.ordered:
                raise scope.fail(
                    f"a range needs an integer or time field; {is_a(spec)}",
                    bounds.pos,
                )
            low = None if bounds.low.kind == "unbounded" else value_of(scope, spec, bounds.low)
            high = None if bounds.high.kind == "unbounded" else value_of(scope, spec, bounds.high)
            if low is not None and high is not None and low > high:  # type: ignore[operator]
                raise scope.fail(
                    f"the lower bound {bounds.low.text} is above the upper bound {bounds.high.text}",
                    bounds.low.pos,
                )
            return ast.Range(
                spec.name, low, high, bounds.low_inclusive, bounds.high_inclusive, pos=at(field)
            )

        return bind

    def in_set(self, field: Token, keyword: Token, *literals: Literal) -> Binder:
        return _in_set(field, literals)

    def in_literals(self, field: Token, keyword: Token, values: Token) -> Binder:
        return _in_set(field, set_literals(values))

    def any_entry(self, field: Token, keyword: Token, condition: Binder) -> Binder:
        def bind(scope: Scope) -> ast.Node:
            spec = scope.field(field)
            if spec.type is not types.ENTRIES:
                lists = ", ".join(scope.nested) or "none in these records"
                raise scope.fail(
                    f"'any' needs a list field (here: {lists}); {is_a(spec)}",
                    at(field),
                )
            inner = Scope(scope.text, scope.nested[spec.name], {}, f"{spec.name} entry", scope.zone)
            return ast.AnyEntry(spec.name, condition(inner), pos=at(field))

        return bind

    def range(self, low_open: bool, low: Literal, high: Literal, high_close: bool) -> Bounds:
        return Bounds(low, high, low_open, high_close)

    def closed(self, bracket: Token) -> bool:
        return True

    def open(self, bracket: Token) -> bool:
        return False

    # Literals -------------------------------------------------------------------------------

    def string(self, token: Token) -> Literal:
        return Literal.of("string", token)

    def integer(self, token: Token) -> Literal:
        return Literal.of("integer", token)

    def true(self, token: Token) -> Literal:
        return Literal.of("true", token)

    def false(self, token: Token) -> Literal:
        return Literal.of("false", token)

    def unbounded(self, token: Token) -> Literal:
        return Literal.of("unbounded", token)


_TO_AST = _ToAst()


def _in_set(field: Token, literals: Sequence[Literal]) -> Binder:
    def bind(scope: Scope) -> ast.Node:
        spec = scalar(scope, field)
        values = [value_of(scope, spec, literal) for literal in literals]
        return ast.InSet(spec.name, tuple(dict.fromkeys(values)), pos=at(field))

    return bind


def _flat(cls: type[ast.And] | type[ast.Or], items: list[ast.Node]) -> ast.Node:
    """An n-ary ``And``/``Or``: operands of the same kind are merged into it."""
    flat: list[ast.Node] = []
    for item in items:
        flat.extend(item.items if isinstance(item, cls) else (item,))
    return cls(tuple(flat), pos=items[0].pos)  # type: ignore[attr-defined]


def _text_predicate(
    node: type[ast.EqualsIgnoreCase] | type[ast.Contains] | type[ast.StartsWith],
    field: Token,
    keyword: Token,
    literal: Literal,
) -> Binder:
    """``ieq``, ``contains`` or ``startswith``: a string field and a string literal."""
    operator = str(keyword).lower()

    def bind(scope: Scope) -> ast.Node:
        spec = scalar(scope, field)
        if not spec.type.textual:
            raise scope.fail(f"{operator!r} needs a string field; {is_a(spec)}", literal.pos)
        if literal.kind != "string":
            raise scope.fail(f"{operator!r} takes a string, not {literal.describe()}", literal.pos)
        return node(spec.name, literal.string(scope), pos=at(field))

    return bind


__all__ = [
    "MAX_DEPTH",
    "Catalog",
    "Fault",
    "at",
    "expected_terminals",
    "fault_of",
    "filter_zone",
    "parse_filter",
    "syntax_error",
]
