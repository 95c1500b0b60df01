"""The grammar file: found, LALR without conflicts, compiled once, readable terminal names."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from lark import Lark
from lark import logger as lark_logger

from dsc_engine.query import grammar


def _conflicts(build: Callable[[], Lark], caplog: pytest.LogCaptureFixture) -> list[str]:
    """The conflicts lark reports while building: with debug=True it logs every shift/reduce
    conflict it resolves (reduce/reduce conflicts raise GrammarError outright)."""
    lark_logger.addHandler(caplog.handler)
    previous = lark_logger.level
    lark_logger.setLevel(logging.DEBUG)
    try:
        build()
    finally:
        lark_logger.setLevel(previous)
        lark_logger.removeHandler(caplog.handler)
    return [r.getMessage() for r in caplog.records if "conflict" in r.getMessage().lower()]


def test_grammar_builds_without_lalr_conflicts(caplog: pytest.LogCaptureFixture) -> None:
    assert _conflicts(lambda: grammar.build(debug=True), caplog) == []


def test_the_conflict_check_sees_a_conflict(caplog: pytest.LogCaptureFixture) -> None:
    ambiguous = 'start: e\ne: e "+" e | "a"\n'
    assert _conflicts(lambda: Lark(ambiguous, parser="lalr", debug=True), caplog)


def test_both_start_rules_exist() -> None:
    parser = grammar.parser()
    assert parser.parse("UserName = \"a\"", start="filter").data == "filter"
    assert parser.parse("in[1 2]", start="range_string").data == "range_string"


def test_parser_is_built_once_per_process() -> None:
    assert grammar.parser() is grammar.parser()


def test_the_parser_comes_with_its_lexer_compiled(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first parse after ``parser()`` (the open's warm-up builds it) compiles no regular
    expression: lark compiles its scanner lazily, and that ~3 ms fell on a user's first query."""
    from lark.lexer import BasicLexer

    grammar.parser.cache_clear()
    try:
        parser = grammar.parser()
        compiled: list[object] = []
        real = BasicLexer._build_scanner
        monkeypatch.setattr(BasicLexer, "_build_scanner", lambda self: compiled.append(self) or real(self))
        parser.parse("in[1000 2000]", start="range_string")
        parser.parse('UserName = "a"', start="filter")
        assert compiled == []
    finally:
        grammar.parser.cache_clear()


def test_grammar_text_is_the_repository_file() -> None:
    text = grammar.grammar_text()
    assert "range_string:" in text and "%ignore WS" in text


def test_every_terminal_has_a_readable_name() -> None:
    names = grammar.terminal_names()
    assert names["$END"] == "end of input"
    assert names["SIGNED_INT"] == "integer"
    assert names["_AND"] == "'and'"
    assert all("__ANON" not in name for name in names.values())
    assert grammar.readable(["SIGNED_INT", "STRING", "SIGNED_INT"]) == ("integer", "string")
