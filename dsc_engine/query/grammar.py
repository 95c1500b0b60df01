"""The filter grammar (``grammar/filter.lark``), loaded and compiled once per process.

The grammar file lives at the repository root in ``grammar/``. The wheel force-includes it as
``dsc_engine/grammar/filter.lark`` (see ``pyproject.toml``), so an installed package reads it as a
package resource; an editable install or a source checkout has no such resource and reads it from
``grammar/`` beside the package directory instead.

:func:`parser` is the one LALR parser of the process; nothing else builds a ``Lark``.
"""

from __future__ import annotations

import functools
import importlib.resources
from collections.abc import Iterable, Mapping
from importlib.resources.abc import Traversable
from pathlib import Path

from lark import Lark
from lark.lexer import PatternStr

GRAMMAR_FILE = "filter.lark"
#: The start rules: filter text, and the API range strings (ExecuteTimeRange, EffectRowRange).
STARTS = ("filter", "range_string")

#: Readable names of the terminals whose pattern is a regular expression.
_REGEX_NAMES = {
    "FIELD": "field name",
    "STRING": "string",
    "SIGNED_INT": "integer",
    "LITERAL_SET": "'{'",  # a whole set, which starts where a "{" would
    "WS": "whitespace",
}


def _grammar_source() -> Traversable:
    """Where the grammar file is: the packaged resource if present, else the source checkout
    (``grammar/`` beside the package directory, found from this module's own path)."""
    packaged = importlib.resources.files(_PACKAGE) / "grammar" / GRAMMAR_FILE
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "grammar" / GRAMMAR_FILE


#: The top-level package, whose resources hold the grammar in an installed wheel.
_PACKAGE = __name__.split(".", 1)[0]


@functools.cache
def grammar_text() -> str:
    """The text of ``filter.lark``."""
    return _grammar_source().read_text(encoding="utf-8")


def build(**options: object) -> Lark:
    """A new LALR parser for the grammar. Tests use this with ``debug=True``; code uses :func:`parser`.

    The lexer is lark's basic one: a keyword is a keyword wherever it stands (the contextual
    lexer would read ``and`` as a field name where only a field name can follow)."""
    return Lark(grammar_text(), parser="lalr", lexer="basic", start=list(STARTS), **options)


@functools.cache
def parser() -> Lark:
    """The process-wide LALR parser (built on first use, then reused by every parse).

    It is returned ready to lex: lark compiles its lexer's regular expressions on the first
    parse, not when it builds the tables (~3 ms, which the first query that parses anything,
    filter text or a range string, would otherwise pay after the open's warm-up built the
    parser). One throwaway parse of each start rule compiles them here, in the warm-up."""
    built = build()
    built.parse('f = 1', start="filter")
    built.parse("in[1 2]", start="range_string")
    return built


@functools.cache
def terminal_names() -> Mapping[str, str]:
    """Readable names of the grammar's terminals, for error messages (``'and'``, ``integer``)."""
    names = {"$END": "end of input"}
    for terminal in parser().terminals:
        pattern = terminal.pattern
        if isinstance(pattern, PatternStr):
            names[terminal.name] = repr(pattern.value)
        else:
            names[terminal.name] = _REGEX_NAMES.get(terminal.name, terminal.name)
    return names


def readable(terminals: Iterable[str]) -> tuple[str, ...]:
    """The readable names of a collection of terminal names, sorted and without duplicates."""
    names = terminal_names()
    return tuple(sorted({names.get(name, name) for name in terminals}))
