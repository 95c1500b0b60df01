"""The record reader: ``row -> the record of row``, rebuilt from a segment's columns (only the
records of a page are ever rebuilt; ``docs/store.md``, "Records of a page").

The reader is a function written out once per record class and form of its columns, then bound
to each segment's columns; it sets the new record's slots straight from the columns, which the
record classes' shape allows (checked here).
"""

from __future__ import annotations

import functools
from array import array
from collections.abc import Callable
from typing import Any

import attrs

from dsc_engine.models.records import Record
from dsc_engine.store.columns import ABSENT_INT, Column, Schema
from dsc_engine.wire.generated import compile_function, identifier
from dsc_engine.wire.types import Storage


def record_reader(schema: Schema, columns: dict[str, Column]) -> Callable[[int], Record]:
    """``row -> the record of row``: a new record whose slots are set straight from the columns
    (``docs/store.md``, "records of a page"), by a function written out once per record class
    and form of its columns (``_reader_maker``) and bound here to this segment's columns."""
    forms = tuple(
        (attr, _form(spec.storage, columns[attr]))
        for attr, spec in schema.columns.items()
        if not spec.derived
    )
    bound: list[Any] = []
    for attr, form in forms:
        bound.append(columns[attr])
        if form == "coded":
            bound.append(schema.tables[attr].values)
    return _reader_maker(schema.cls, forms)(*bound)


def _form(storage: Storage, column: Column) -> str:
    if storage == Storage.CODED:
        return "coded"
    return "packed" if storage == Storage.INT and isinstance(column, array) else "plain"


@functools.cache
def _reader_maker(cls: type, forms: tuple[tuple[str, str], ...]) -> Callable[..., Callable[[int], Record]]:
    """``(columns and intern values, in order) -> record reader`` for ``cls`` over columns of
    these forms (compiled once: a segment is made at every insert and merge, and compiling costs
    about half a millisecond).

    A coded value is its intern table's value (``None`` for code 0), a packed int's absent
    marker ``None``; a slot whose default is not ``None`` (a DMS log's entries) gets that default
    when its value is absent, as if the argument were left out. The record classes are frozen,
    slotted ``attrs`` classes without validators, converters or hooks, whose every field is a
    column (checked here), so this builds what their ``__init__`` would; their ``__init__`` sets
    each slot through ``object.__setattr__`` by name, about three times slower."""
    _check_plain(cls)
    stored = {attr for attr, _ in forms}
    unset = [field.name for field in attrs.fields(cls) if field.name not in stored]
    if unset:  # its slot would never be set: reading it would raise
        raise TypeError(f"{cls.__name__}: no column holds its field {', '.join(unset)}")
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "_ABSENT": ABSENT_INT}
    defaults = {field.name: field.default for field in attrs.fields(cls)}
    params: list[str] = []
    lines = ["def make({params}):", "    def record(row):", "        r = _new(_cls)"]
    for i, (attr, form) in enumerate(forms):
        params.append(f"c{i}")
        namespace[f"s{i}"] = getattr(cls, identifier(attr)).__set__
        if form == "coded":
            params.append(f"t{i}")
            value = f"t{i}[c{i}[row]]"
        elif form == "packed":
            value = f"(None if (v{i} := c{i}[row]) == _ABSENT else v{i})"
        else:
            value = f"c{i}[row]"
        default = defaults[attr]
        if default is not None and default is not attrs.NOTHING:
            factory = getattr(default, "factory", None)  # an ``attrs.Factory``
            namespace[f"d{i}"] = factory if factory is not None else (lambda d=default: d)
            value = f"(d{i}() if (x{i} := {value}) is None else x{i})"
        lines.append(f"        s{i}(r, {value})")
    lines += ["        return r", "    return record"]
    source = "\n".join(lines).replace("{params}", ", ".join(params)) + "\n"
    return compile_function(source, "make", namespace)


def _check_plain(cls: type) -> None:
    """Refuse a record class whose ``__init__`` does more than set its fields' slots: hooks, a
    hand-written ``__init__`` (``attrs`` then names its own ``__attrs_init__``), a cached hash
    (``__init__`` clears its slot, without which ``hash`` raises), validators, converters, fields
    left out of ``__init__``, defaults made from the record itself (``Factory(takes_self=True)``)."""
    hooks = [
        name
        for name in ("__attrs_pre_init__", "__attrs_post_init__", "__attrs_init__", "_attrs_cached_hash")
        if hasattr(cls, name)
    ]
    extra = [
        f.name
        for f in attrs.fields(cls)
        if f.validator is not None or f.converter is not None or not f.init
        or getattr(f.default, "takes_self", False)
    ]
    if hooks or extra or not hasattr(cls, "__slots__"):
        raise TypeError(f"{cls.__name__} is not a plain slotted record class: {hooks + extra}")
