"""What a test serves: the data a mock or test server is given, and clean engines for it.

``Data`` is what ``dsc_engine.mock``, ``TestServer`` and the ``dsc_records`` fixture accept;
:func:`serving` turns it into an engine afresh for each start or reset, reusing the bundled
sample's engine while it is unchanged (``docs/server.md``, "Choosing the data").
"""

from __future__ import annotations

import enum
import functools
import os
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from dsc_engine.engine import Engine
from dsc_engine.errors import RecordError
from dsc_engine.io.candidates import detect_kind
from dsc_engine.wire.codec import from_wire
from dsc_engine.models import RecordKind
from dsc_engine.models.records import Record

Item = Record | Mapping[str, Any]
#: What a mock or a test server serves: records, or their API JSON objects (each one's kind told
#: from its keys, as the importer does); a ``{kind: items}`` mapping; an :class:`Engine`, served as
#: is; or ``None`` for the bundled sample.
Data = Engine | Mapping[RecordKind | str, Iterable[Item]] | Iterable[Item] | None


def engine_for(data: Data) -> Engine:
    """An engine serving ``data`` (see :data:`Data`); a given :class:`Engine` is returned as is."""
    if isinstance(data, Engine):
        return data
    engine = Engine()
    if data is None:
        for records in _sample_records():
            engine.load(records)
    elif isinstance(data, Mapping):
        for kind, items in data.items():
            engine.load(_items(items, f"data[{kind!r}]"), kind=kind)
    else:
        engine.load(records_of(_items(data, "data")))
    return engine


def records_of(items: Iterable[Item]) -> list[Record]:
    """Records as given, and each JSON object decoded as the kind its keys tell."""
    records: list[Record] = []
    for index, item in enumerate(items):
        if isinstance(item, Mapping):
            where = f"item {index}"
            try:
                kind = detect_kind(item.keys())
            except ValueError as exc:
                raise RecordError("record", "", f"{exc} (or pass {{kind: items}})", where) from None
            records.append(from_wire(kind, item, where))
        else:
            records.append(item)  # Engine.load says which item is not a record
    return records


def kept(data: Data) -> Data:
    """``data`` as it can be read again at every start (an iterator is read once, here).

    Anything that is not :data:`Data` (a path, a number, one record or JSON object not in a
    list, as a kind's items too) is a :class:`RecordError` on ``data`` (or ``data[kind]``)."""
    if data is None or isinstance(data, Engine):
        return data
    if isinstance(data, Mapping):
        return {kind: _items(items, f"data[{kind!r}]") for kind, items in data.items()}
    return _items(data, "data")


def _items(items: object, where: str) -> list[Item]:
    """The items of ``data`` (or of one of its kinds) in a list; refused when they are none."""
    hint = ""
    if isinstance(items, str | bytes | os.PathLike):
        hint = "; load a file with Engine().load(path)"
    elif isinstance(items, Mapping) or type(items) in {kind.record_class for kind in RecordKind}:
        hint = "; put one record in a list"
    elif isinstance(items, Iterable):
        return list(items)
    raise RecordError(
        "record", "", "data is records, a {kind: records} mapping, an Engine or None, not "
        f"{type(items).__name__}{hint}", where,
    )


@functools.cache
def _sample_records() -> tuple[tuple[Record, ...], ...]:
    """The bundled sample, decoded once per process (records are immutable)."""
    from dsc_engine.sample import bundled

    return tuple(tuple(bundled(kind)) for kind in RecordKind)


def _sizes(engine: Engine) -> tuple[int, ...]:
    return tuple(len(engine.store(kind)) for kind in RecordKind)


@attrs.frozen
class Serving:
    """The data a server or mock serves, and the engine answering from it."""

    data: Data
    engine: Engine
    #: the engine's store sizes when it was built from the bundled sample (``data`` None)
    sample_sizes: tuple[int, ...] | None = None


def serving(data: Data, previous: Serving | None = None) -> Serving:
    """A clean engine for ``data``: built afresh, except for the bundled sample (``data`` None),
    whose engine ``previous`` is reused while no record was added to it. That is exact: an
    :class:`Engine` only ever grows (``load``), so equal sizes mean an unchanged engine; it makes
    a reset to the sample cost microseconds instead of a 6,000-record load."""
    data = kept(data)
    if (
        data is None
        and previous is not None
        and previous.data is None
        and previous.sample_sizes == _sizes(previous.engine)
    ):
        return previous
    engine = engine_for(data)
    return Serving(data, engine, _sizes(engine) if data is None else None)


class Unchanged(enum.Enum):
    """The default of ``reset(data=...)``: serve the data given before, afresh."""

    UNCHANGED = "unchanged"


UNCHANGED: Final = Unchanged.UNCHANGED


__all__ = ["UNCHANGED", "Data", "Serving", "Unchanged", "engine_for", "kept", "records_of", "serving"]
