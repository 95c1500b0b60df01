"""Argument types shared by the subcommands (argparse ``type=`` functions)."""

from __future__ import annotations

import argparse


def name_value(text: str) -> tuple[str, str]:
    """``Name=Value`` (the value may be empty or hold ``=``) -> ``(name, value)``."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected Name=Value, got {text!r}")
    return name, value


def positive(text: str) -> int:
    """A whole number of 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value
