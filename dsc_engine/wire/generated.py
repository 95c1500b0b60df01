"""Specialised decode and encode functions of one record class, generated once from its fields.

The codec (:mod:`codec`) describes each field by a :class:`GenField` (its wire key and its
:class:`~dsc_engine.wire.types.FieldType`); this module turns that table into straight-line Python
source, compiled once per class at import time (as ``attrs`` itself does for ``__init__``). The
source is built only from our own attribute names and wire keys (checked to be identifiers),
never from data. The type's ``form`` says how a value is handled: ``exact`` (the JSON type is the
model type; an integer must fit 64 bits), ``time`` (a DMS ``yyyy-MM-dd HH:mm:ss`` string) or
``entries`` (a JSON array of nested objects, each through the nested class's own functions).

The generated decoder is a *fast path*: it accepts a record only when every check passes (an
exact ``dict``, only known keys, no ``null``, every value of its exact JSON type, integers within
the signed 64-bit range, DMS times of the exact shape) and returns :data:`FAIL` otherwise,
without saying why. The caller then runs the precise, field-by-field decoder, which either raises
the :class:`RecordError` naming the key or (for the rare value the fast path declines, such as a
``Mapping`` that is not a ``dict``) returns the same record. So the fast path never decides what
is an error; it only skips the work of explaining a success.

:func:`build_struct`, :func:`build_checker` and :func:`build_converter` make the typed line
decoders of bulk imports (``codec.line_decoder``): a ``msgspec`` struct type per record class, as
strict as the precise decoder, the check of what the struct type cannot say (a DMS time out of
range), and the function turning such a struct into the record.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal

import attrs
import msgspec

from dsc_engine.models.records import INT64_MAX, INT64_MIN
from dsc_engine.wire.times import DMS_TIME_SHAPE, format_dms_time
from dsc_engine.wire.types import FieldType

#: What a fast decoder returns when it declines a value (the precise decoder then decides).
FAIL: Any = object()

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_from_iso = dt.datetime.fromisoformat


@attrs.frozen
class GenField:
    """One field of a generated codec. ``nested``: the entry class's fast decoder and encoder,
    for a field of the ``entries`` form."""

    attr: str
    key: str
    required: bool
    type: FieldType
    default: Any = None
    nested: tuple[Callable[[Any], Any], Callable[[Any], Any]] | None = None


def _time(text: str) -> Any:
    """A DMS time by the fast route, or :data:`FAIL` (non-ASCII digits, out-of-range parts)."""
    if len(text) == 19 and text.isascii() and DMS_TIME_SHAPE.match(text):
        try:
            return _from_iso(text)
        except ValueError:
            return FAIL
    return FAIL


def _entries_decoder(item_fast: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def decode(items: list[Any]) -> Any:
        out = []
        for item in items:
            entry = item_fast(item)
            if entry is FAIL:
                return FAIL
            out.append(entry)
        return tuple(out)

    return decode


def identifier(name: str) -> str:
    """``name``, checked to be a Python identifier (generated source names only our own fields)."""
    if not _NAME.match(name):
        raise ValueError(f"not an identifier: {name!r}")  # our own field table only
    return name


def compile_function(source: str, name: str, namespace: dict[str, Any]) -> Callable[..., Any]:
    """The function ``name`` defined by ``source`` (built from our field tables, never from
    data), its globals ``namespace``."""
    code = compile(source, f"<dsc_engine {name}>", "exec")
    exec(code, namespace)  # noqa: S102 - source built from our field table, never from data
    return namespace[name]  # type: ignore[no-any-return]


def build_decoder(cls: type, fields: Sequence[GenField]) -> Callable[[Any], Any]:
    """The fast decoder of ``cls``: the record, or :data:`FAIL` when any check fails.

    The JSON types of a record's values, in field order (``NoneType`` for an absent key), form
    its *signature*; whether a signature is acceptable, and how many keys a record of it has,
    is worked out once per distinct signature (:func:`_judge`) and remembered. A record whose
    key count differs from that number holds a ``null``.
    """
    keys = tuple(identifier(f.key) for f in fields)
    judged: dict[tuple[type, ...], int] = {}
    namespace: dict[str, Any] = {
        "_cls": cls, "_FAIL": FAIL, "_dict": dict, "_time": _time, "_MIN": INT64_MIN, "_MAX": INT64_MAX,
        "_keys": frozenset(keys), "_ordered": keys, "_map": map, "_type": type, "_list": list,
        "_tuple": tuple, "_len": len, "_judged": judged,
        "_judge": lambda signature: _judge(fields, judged, signature),
    }
    variables = [f"v{number}" for number in range(len(fields))]
    lines = [
        "def fast(data):",
        "    if type(data) is not _dict or not _keys.issuperset(data):",
        "        return _FAIL",
        "    values = _list(_map(data.get, _ordered))",
        "    signature = _tuple(_map(_type, values))",
        "    count = _judged.get(signature)",
        "    if count is None:",
        "        count = _judge(signature)",
        "    if count != _len(data):",
        "        return _FAIL",
        f"    {', '.join(variables)}{',' if len(variables) == 1 else ''} = values",
    ]
    args = []
    for number, field in enumerate(fields):
        var = variables[number]
        args.append(f"{identifier(field.attr)}={var}")
        form = field.type.form
        if form == "exact":
            if field.default is not None:
                raise ValueError(f"field {field.attr}: a default other than None")
            if field.type.json is int:  # the signature has checked the type; it must fit 64 bits
                test = f"not _MIN <= {var} <= _MAX"
                lines.append(f"    if {test if field.required else f'{var} is not None and {test}'}:")
                lines.append("        return _FAIL")
            continue
        lines.append("    if True:" if field.required else f"    if {var} is not None:")
        if form == "time":
            lines.append(f"        {var} = _time({var})")
        elif form == "entries" and field.nested is not None:
            namespace[f"_n{number}"] = _entries_decoder(field.nested[0])
            lines.append(f"        {var} = _n{number}({var})")
        else:
            raise ValueError(f"field {field.attr}: no fast decoding for the form {form!r}")
        lines.append(f"        if {var} is _FAIL:")
        lines.append("            return _FAIL")
        if not field.required and field.default is not None:
            namespace[f"_d{number}"] = field.default
            lines.append("    else:")
            lines.append(f"        {var} = _d{number}")
    lines.append(f"    return _cls({', '.join(args)})")
    return compile_function("\n".join(lines) + "\n", "fast", namespace)


#: The most signatures remembered per class (ordinary exports have a handful).
SIGNATURES = 4096


def _judge(fields: Sequence[GenField], judged: dict[tuple[type, ...], int], signature: tuple[type, ...]) -> int:
    """How many keys a record of this signature has, or -1 when the signature is not acceptable."""
    count = 0
    for field, found in zip(fields, signature):
        if found is type(None):
            if field.required:
                count = -1
                break
            continue
        if found is not field.type.json:
            count = -1
            break
        count += 1
    if len(judged) >= SIGNATURES:
        judged.clear()
    judged[signature] = count
    return count


def build_encoder(fields: Sequence[GenField], leave_out: frozenset[str] = frozenset()) -> Callable[[Any], dict[str, Any]]:
    """The encoder of a record class: its wire object, absent (``None``) fields left out."""
    namespace: dict[str, Any] = {"_time": format_dms_time}
    lines = ["def encode(record):", "    out = {}"]
    for number, field in enumerate(fields):
        if field.key in leave_out:
            continue
        var = f"v{number}"
        key = repr(identifier(field.key))
        form = field.type.form
        lines.append(f"    {var} = record.{identifier(field.attr)}")
        lines.append(f"    if {var} is not None:")
        if form == "exact":
            value = var
        elif form == "time":
            value = f"_time({var})"
        elif form == "entries" and field.nested is not None:
            namespace[f"_n{number}"] = field.nested[1]
            value = f"[_n{number}(e) for e in {var}]"
        else:
            raise ValueError(f"field {field.attr}: no fast encoding for the form {form!r}")
        lines.append(f"        out[{key}] = {value}")
    lines.append("    return out")
    return compile_function("\n".join(lines) + "\n", "encode", namespace)


@functools.lru_cache(maxsize=64)
def build_rows(cls: type, names: tuple[str, ...]) -> Callable[[Any], list[Any]]:
    """A function building ``cls`` records from rows of values (one per name, in that order)."""
    variables = [f"v{number}" for number in range(len(names))]
    args = ", ".join(f"{identifier(name)}={var}" for name, var in zip(names, variables))
    unpack = f"({', '.join(variables)},)" if variables else "()"
    source = f"def build(rows):\n    return [_cls({args}) for {unpack} in rows]\n"
    return compile_function(source, "build", {"_cls": cls})


# ---------------------------------------------------------------------------------------------
# Typed line decoders (msgspec): the bulk-import fast path
# ---------------------------------------------------------------------------------------------

#: A signed 64-bit JSON integer (the type of every integer the APIs carry).
_INT64 = Annotated[int, msgspec.Meta(ge=INT64_MIN, le=INT64_MAX)]
#: The marker of an absent key in a decoded struct (never a JSON value: ``null`` is refused).
ABSENT: Any = msgspec.UNSET


def build_struct(
    cls: type,
    fields: Sequence[GenField],
    nested: type | None = None,
    narrowed: Mapping[str, tuple[str, ...]] | None = None,
) -> type:
    """A ``msgspec`` struct type decoding ``cls``'s wire objects as strictly as the precise
    decoder: only the documented keys (``forbid_unknown_fields``), every value of its exact JSON
    type (an integer is not a boolean or a float, and fits 64 bits), ``null`` refused (an absent
    key is :data:`ABSENT`), required keys present. A DMS time stays its text (checked by
    :func:`build_checker`, parsed when read); entries are structs of ``nested``. Attribute names
    are the record's, so the store reads a struct's columns as it reads a record's.

    ``narrowed`` gives some text attributes a closed set of values (``Literal``): such a struct
    reads only lines whose value is one of them, as the very string object given."""
    specs: list[tuple[str, Any, Any]] = []
    for field in fields:
        form = field.type.form
        if narrowed and field.attr in narrowed and form == "exact" and field.type.json is str:
            kind: Any = Literal[narrowed[field.attr]]
        elif form == "exact":
            kind = _INT64 if field.type.json is int else field.type.json
        elif form == "time":
            kind = str
        elif form == "entries" and nested is not None:
            kind = list[nested]  # type: ignore[valid-type]
        else:
            raise ValueError(f"field {field.attr}: no typed decoding for the form {form!r}")
        if field.required:
            specs.append((identifier(field.attr), kind, msgspec.field(name=field.key)))
        else:
            specs.append((identifier(field.attr), kind | msgspec.UnsetType, msgspec.field(default=ABSENT, name=field.key)))
    name = f"{cls.__name__}Wire" if not narrowed else f"{cls.__name__}WireNarrowed"
    # frozen: hashable, so that an import converts equal entries once (``codec._entry_runs``)
    return msgspec.defstruct(name, specs, kw_only=True, forbid_unknown_fields=True, gc=False, frozen=True)


def build_checker(fields: Sequence[GenField]) -> Callable[[Any], bool] | None:
    """``struct -> whether the store may read it as it is``: every DMS time of the struct is
    well formed (what :func:`build_converter` would otherwise decline); ``None`` when a struct
    has nothing to check (every field exact, or entries of exact fields only)."""
    times = [field for field in fields if field.type.form == "time"]
    if not times:
        return None
    lines = ["def check(s):"]
    for field in times:
        lines.append(f"    v = s.{identifier(field.attr)}")
        lines.append("    if v is not _ABSENT and _time(v) is _FAIL:")
        lines.append("        return False")
    lines.append("    return True")
    namespace = {"_ABSENT": ABSENT, "_FAIL": FAIL, "_time": _time}
    return compile_function("\n".join(lines) + "\n", "check", namespace)


def build_converter(
    cls: type, fields: Sequence[GenField], nested: Callable[[Any], Any] | None = None
) -> Callable[[Any], Any]:
    """``struct -> record`` of ``cls`` (:data:`FAIL` when a DMS time is not well formed): absent
    keys become the field's default, times are parsed, entries converted by ``nested`` (their
    class's own converter)."""
    namespace: dict[str, Any] = {
        "_cls": cls, "_FAIL": FAIL, "_ABSENT": ABSENT, "_time": _time, "_tuple": tuple, "_any": any,
        "_failed": functools.partial(operator.is_, FAIL),  # by identity: no entry's ``__eq__`` is called
    }
    lines = ["def convert(s):"]
    args = []
    for number, field in enumerate(fields):
        var = f"v{number}"
        lines.append(f"    {var} = s.{identifier(field.attr)}")
        form = field.type.form
        if form == "time":
            lines.append(f"    if {var} is not _ABSENT:")
            lines.append(f"        {var} = _time({var})")
            lines.append(f"        if {var} is _FAIL:")
            lines.append("            return _FAIL")
        elif form == "entries" and nested is not None:
            namespace[f"_n{number}"] = nested
            lines.append(f"    if {var} is not _ABSENT:")
            lines.append(f"        {var} = _tuple(map(_n{number}, {var}))")
            lines.append(f"        if _any(map(_failed, {var})):")
            lines.append("            return _FAIL")
        if not field.required:
            namespace[f"_d{number}"] = field.default
            lines.append(f"    if {var} is _ABSENT:")
            lines.append(f"        {var} = _d{number}")
        args.append(f"{identifier(field.attr)}={var}")
    lines.append(f"    return _cls({', '.join(args)})")
    return compile_function("\n".join(lines) + "\n", "convert", namespace)
