"""Argument types shared by the subcommands (argparse ``type=`` functions)."""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from dsc_engine.errors import UsageError


def name_value(text: str) -> tuple[str, str]:
    """``Name=Value`` (the value may be empty or hold ``=``) -> ``(name, value)``."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected Name=Value, got {text!r}")
    return name, value


def parameters(pairs: Iterable[tuple[str, str]], option: str = "--param") -> dict[str, str]:
    """``Name=Value`` pairs as one request's parameters; a name given twice is a
    :class:`UsageError` (a request holds each parameter once: the server refuses a repeated one,
    and keeping the last would answer another request than the one written)."""
    params: dict[str, str] = {}
    repeated: list[str] = []
    for name, value in pairs:
        if name in params and name not in repeated:
            repeated.append(name)
        params[name] = value
    if repeated:
        names = ", ".join(repeated)
        raise UsageError(option, names, f"a parameter is given twice ({names}); a request holds each once")
    return params


def positive(text: str) -> int:
    """A whole number of 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value
