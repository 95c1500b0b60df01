"""Any text either parses or raises a located FilterSyntaxError / FilterFieldError; nothing else.

Texts come from anywhere (``st.text``), from the grammar (``from_lark``) and from rendered filters
changed by a few edits (``mutated_filters``), which stay close enough to valid ones to reach the
checks behind the parser; a text that parses renders to canonical text of the same AST, and
answers ``Engine.query``. A zone given by name is a zone or an ``InvalidParameterError``.
"""

from __future__ import annotations

import functools
import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark.lexer import PatternStr
from strategies import mutated_filters

from dsc_engine import Engine
from dsc_engine.errors import FilterFieldError, FilterSyntaxError, InvalidParameterError
from dsc_engine.models import RecordKind
from dsc_engine.query import ast, grammar
from dsc_engine.wire.catalog import FIELDS, NESTED
from dsc_engine.query.params import range_filter
from dsc_engine.query.parse import parse_filter
from dsc_engine.query.render import render

KINDS = list(RecordKind)


def _outcome(text: str, kind: RecordKind) -> ast.Node | None:
    try:
        return parse_filter(text, kind)
    except (FilterSyntaxError, FilterFieldError) as error:
        assert 0 <= error.offset <= len(text)
        assert error.text == text
        assert str(error)  # the caret rendering never fails
        return None


def _field_names(kind: RecordKind) -> list[str]:
    names = [*FIELDS[kind], *(entry for catalog in NESTED[kind].values() for entry in catalog)]
    return sorted(set(names))


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.value)
@given(text=st.text())
@example(text="")
@example(text='"')
@example(text="\\")
@example(text='UserName = "\\')
@example(text="x in (")
def test_arbitrary_text(kind: RecordKind, text: str) -> None:
    _outcome(text, kind)


def _word(text: str) -> str:
    return text + " "


@functools.cache
def _grammar_texts(kind: RecordKind) -> st.SearchStrategy[str]:
    """Texts drawn from the filter grammar by ``from_lark``, built once per kind.

    Terminals with a regular expression or a case flag get explicit strategies: drawing them
    through ``from_regex`` dominates the run time. Field names come from the kind's catalogs (in
    any case) or are made up, so both successful parses and field errors are reached; strings
    include JSON-escaped text and raw backslash pairs (valid and invalid escapes). Words end
    in a space (from_lark inserts ignored whitespace only now and then, and two words that touch
    lex as one).
    """
    names = st.sampled_from(_field_names(kind)).flatmap(
        lambda n: st.sampled_from((n, n.lower(), n.upper()))
    )
    explicit: dict[str, st.SearchStrategy[str]] = {
        "FIELD": st.one_of(names, st.from_regex(r"\A[a-z_][a-z0-9_]{0,8}\Z")).map(_word),
        "STRING": st.one_of(
            st.text(max_size=10).map(lambda s: json.dumps(s, ensure_ascii=False)),
            st.from_regex(r'\A"(?:[a-z0-9 :T+-]|\\[nu"x\\])*"\Z'),
        ),
        "SIGNED_INT": st.integers().map(str).map(_word),
        "WS": st.sampled_from((" ", "  ", "\n", "\t", "\u3000")),
    }
    for terminal in grammar.parser().terminals:
        pattern = terminal.pattern
        if isinstance(pattern, PatternStr) and pattern.flags:  # keywords: any case
            word = pattern.value
            explicit[terminal.name] = st.sampled_from((word, word.upper(), word.title())).map(_word)
    return from_lark(grammar.parser(), start="filter", explicit=explicit)


@given(data=st.data())
def test_text_generated_from_the_grammar(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(KINDS), label="kind")
    _outcome(data.draw(_grammar_texts(kind), label="text"), kind)


@given(text=st.one_of(st.text(), from_lark(grammar.parser(), start="range_string")))
def test_range_strings_parse_or_raise_invalid_parameter(text: str) -> None:
    try:
        node = range_filter("EffectRowRange", text, "EffectRow")
    except InvalidParameterError as error:
        assert error.name == "EffectRowRange" and error.value == text
        assert "at offset " in error.reason.en
        offset = int(error.reason.en.split("at offset ", 1)[1].split(":", 1)[0])
        assert 0 <= offset <= len(text)
    else:
        assert node.low is not None and node.high is not None and node.low <= node.high


@functools.cache
def _engine() -> Engine:
    return Engine.from_sample()


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.value)
@given(data=st.data())
def test_mutated_filters_parse_to_canonical_asts_or_raise_located_errors(kind: RecordKind, data: st.DataObject) -> None:
    text = data.draw(mutated_filters(kind), label="text")
    node = _outcome(text, kind)
    if node is not None:
        assert parse_filter(render(node), kind) == node
        assert _engine().query(kind, text).total >= 0


#: Zone names near real ones: database folders, files that hold no zone, names too long for a
#: file, offsets out of range or in other digits, paths.
ZONE_NAMES = ("Asia", "Etc", "America/", "zone.tab", "tzdata.zi", "Asia/" + "x" * 300, "x" * 5000, "+24:00",
              "+\uff10\uff18:00", "UTC+8", "../etc/passwd", "/etc/localtime", "Asia/Shanghai\x00", "\ud800", "")


@given(zone=st.one_of(st.sampled_from(ZONE_NAMES), st.text(max_size=12), st.from_regex(r"\A[A-Z][a-z]{2,8}(/[A-Z][a-z_]{2,10})?\Z")))
@example(zone="Asia/Shanghai")
def test_a_zone_name_is_a_zone_or_an_invalid_parameter(zone: str) -> None:
    try:
        parse_filter('CreationTime >= "2026-01-01"', RecordKind.AUDIT_LOG, zone=zone)
    except InvalidParameterError as error:
        assert error.name == "zone" and str(error)
