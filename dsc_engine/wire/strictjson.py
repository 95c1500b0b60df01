"""JSON read strictly: what Python's ``json`` takes but JSON is not.

Python's ``json`` keeps the last of two members of one name, silently, and reads ``NaN``,
``Infinity`` and ``-Infinity``, which JSON does not have. Where the text is a request's or a
capture's (``LogQueryOpJson``, ``query/params.py``; a replay capture, ``replay.py``), the reader
passes :func:`unique_keys` as ``object_pairs_hook`` and :func:`no_constant` as
``parse_constant``, and words :class:`RepeatedKey` and :class:`NotJson` its own way.
"""

from __future__ import annotations

from typing import Any


class RepeatedKey(ValueError):
    """A JSON object names ``key`` twice."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """The object of ``pairs`` (``json``'s ``object_pairs_hook``); :class:`RepeatedKey` when a
    name comes twice."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise RepeatedKey(key)
        result[key] = value
    return result


class NotJson(ValueError):
    """``NaN``, ``Infinity`` or ``-Infinity`` (``word``), which Python's ``json`` reads."""

    def __init__(self, word: str) -> None:
        super().__init__(word)
        self.word = word


def no_constant(word: str) -> Any:
    """``json``'s ``parse_constant``: :class:`NotJson` for every one."""
    raise NotJson(word)
