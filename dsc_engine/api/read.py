"""Reading request parameters by wire type: one place for the coercions every operation shares.

Parameters arrive as the wire has them (strings such as ``"10"``, ``"True"``) or as Python values
(``int``, ``bool``, ``datetime``, a list for ``LogQueryOpJson``). Rules (``docs/semantics.md`` §6):

- an empty string or ``None`` counts as absent;
- integers: a Python ``int`` (not ``bool``) or ASCII ``[+-]digits`` text, within the Java type's
  range (``Integer`` for page parameters, ``Long`` otherwise) and the documented bounds;
  never clamped;
- booleans: ``True``/``False`` or the text ``true``/``false`` in any letter case;
- strings: a ``str`` only (a Python ``int`` is not silently turned into a string filter);
- a value of a subclass (an ``IntEnum``, a ``StrEnum``, NumPy's ``str_``, pandas' ``Timestamp``)
  is read as the plain ``str``, ``int`` or ``datetime`` it holds, so that no store is handed a
  type it cannot bind; a ``datetime`` holding less than a second (nanoseconds) is refused;
- an unknown parameter name is an invalid parameter, never ignored.

Every failure is a :class:`MissingParameterError` or :class:`InvalidParameterError` whose reason is
a :class:`~dsc_engine.errors.Reason`, the English and the Chinese sentence.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Collection, Mapping
from typing import TypeVar

import attrs

from dsc_engine.errors import InvalidParameterError, MissingParameterError, Reason
from dsc_engine.models import Lang
from dsc_engine.models.records import INT64_MAX, INT64_MIN
from dsc_engine.wire.catalog import nearest
from dsc_engine.wire.times import NoSuchTime, parse_dms_time
from dsc_engine.wire.types import read_integer

E = TypeVar("E", bound=enum.Enum)

INT32_MAX = 2**31 - 1
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+\Z")


def invalid(name: str, value: object, en: str, zh: str) -> InvalidParameterError:
    """An :class:`InvalidParameterError` with its reason in both languages."""
    return InvalidParameterError(name, value, Reason(en, zh))


def _shown(value: object, *, zh: bool = False) -> str:
    """``value`` as a reason shows it (``zh``: in a Chinese reason), at most 80 characters."""
    if isinstance(value, int) and not -(10**40) < value < 10**40:  # repr of a huge int may fail
        bits = value.bit_length()
        return f"一个 {bits} 位二进制的整数" if zh else f"an integer of {bits} bits"
    if isinstance(value, str):
        text = repr(value if len(value) <= 80 else value[:77])
    else:
        try:
            text = repr(value)
        except Exception:  # an object whose repr fails is still named, by its type
            text = f"<{type(value).__name__} object>"
    return text if len(text) <= 80 else text[:77] + "..."


@attrs.frozen
class Reader:
    """The raw parameters of one request of ``action``, read by name with typed coercions."""

    action: str
    raw: Mapping[str, object]

    def check_names(self, allowed: Collection[str], json_names: Collection[str] = ()) -> None:
        """Reject a parameter name the operation does not have (names are case-sensitive).

        ``json_names`` are the allowed parameters whose value is JSON text: a refused
        ``Name.1.key`` (a list flattened by the SDK) says to send such a value as its text."""
        for name in self.raw:
            if name not in allowed:
                if not isinstance(name, str):  # a name is text; another object may not even print
                    raise invalid(_shown(name), self.raw[name], f"a parameter name is a string, not {_shown(name)}",
                                  f"参数名必须是字符串，而不是 {_shown(name, zh=True)}")
                base, dot, _ = name.partition(".")
                if dot and base in allowed:  # ``Name.1.key``: how the SDK sends a list or a dict
                    en, zh = ("its JSON text as one value (json.dumps)", "其 JSON 文本，作为一个值（json.dumps）") \
                        if base in json_names else ("one value", "一个值")
                    raise invalid(
                        name,
                        self.raw[name],
                        f"{self.action} has no parameter named {name!r}: a list or an object given "
                        f"for {base} is sent flattened under such names, but {base} takes {en}",
                        f"{self.action} 没有名为 {name!r} 的参数：为 {base} 传入的列表或对象会被展开成"
                        f"这样的名称发送，而 {base} 只取{zh}",
                    )
                near = nearest(name, allowed)
                raise invalid(
                    name,
                    self.raw[name],
                    f"{self.action} has no parameter named {name!r}" + (f"; did you mean {near}?" if near else ""),
                    f"{self.action} 没有名为 {name!r} 的参数" + (f"；是否想写 {near}？" if near else ""),
                )

    def value(self, name: str, *, required: bool = False) -> object | None:
        """The raw value, or ``None`` when absent or empty (``Missing<Name>`` if required)."""
        value = self.raw.get(name)
        # an empty *string*: ``value == ""`` of an array (NumPy, pandas) is an array, not a truth
        if value is None or (isinstance(value, str) and not value):
            if required:
                raise MissingParameterError(name)
            return None
        return value

    def string(self, name: str, *, required: bool = False) -> str | None:
        value = self.value(name, required=required)
        if value is None or type(value) is str:
            return value
        if isinstance(value, str):  # a StrEnum, NumPy's str_: the text it holds
            return str.__str__(value)
        raise invalid(
            name,
            value,
            f"it must be a string, got {type(value).__name__} {_shown(value)}",
            f"它必须是字符串，实际为 {type(value).__name__} {_shown(value, zh=True)}",
        )

    def integer(
        self,
        name: str,
        *,
        low: int = INT64_MIN,
        high: int = INT64_MAX,
        required: bool = False,
    ) -> int | None:
        """An integer in ``[low, high]``."""
        value = self.value(name, required=required)
        if value is None:
            return None
        number: int | None
        if isinstance(value, str) and _INTEGER_TEXT.match(value):
            number = read_integer(value)  # None beyond 64 bits, however many digits
        elif isinstance(value, int) and not isinstance(value, bool):
            number = int.__int__(value)  # an IntEnum's plain value, which every store binds
        else:
            raise invalid(
                name,
                value,
                f"it must be an integer, got {_shown(value)}",
                f"它必须是整数，实际为 {_shown(value, zh=True)}",
            )
        if number is None or not low <= number <= high:
            got = value if number is None else number
            raise invalid(
                name,
                value,
                f"it must be an integer from {low} to {high}, got {_shown(got)}",
                f"它必须是 {low} 到 {high} 之间的整数，实际为 {_shown(got, zh=True)}",
            )
        return number

    def boolean(self, name: str) -> bool | None:
        value = self.value(name)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise invalid(
            name,
            value,
            f"it must be true or false, got {_shown(value)}",
            f"它必须是 true 或 false，实际为 {_shown(value, zh=True)}",
        )

    def choice(self, name: str, enum_type: type[E]) -> E | None:
        """A member of ``enum_type``, given by its wire value (an int enum also takes text)."""
        members = list(enum_type)
        if isinstance(members[0].value, int):
            number = self.integer(name)
            raw: object = number
        else:
            raw = self.string(name)
        if raw is None:
            return None
        for member in members:
            if member.value == raw:
                return member
        allowed = [str(m.value) for m in members]
        raise invalid(
            name,
            self.raw.get(name),
            f"{_shown(raw)} is not one of {', '.join(allowed)}",
            f"{_shown(raw, zh=True)} 不是 {'、'.join(allowed)} 之一",  # as Lang's and the filter grammar's lists
        )

    def wall_clock(self, name: str, *, required: bool = False) -> dt.datetime | None:
        """A naive ``yyyy-MM-dd HH:mm:ss`` time (or a naive ``datetime``, whole seconds)."""
        value = self.value(name, required=required)
        if value is None:
            return None
        if isinstance(value, dt.datetime) and value.tzinfo is None and not value.microsecond:
            if type(value) is dt.datetime:
                return value
            plain = dt.datetime(value.year, value.month, value.day, value.hour, value.minute, value.second)
            if value == plain:  # a subclass (pandas' Timestamp) may hold nanoseconds: refused below
                return plain
        try:
            return parse_dms_time(value)
        except NoSuchTime as exc:  # the form is right, the time is not
            raise invalid(
                name,
                value,
                f"{_shown(value)} has the form yyyy-MM-dd HH:mm:ss but there is no such date or time ({exc.reason})",
                f"{_shown(value, zh=True)} 符合 yyyy-MM-dd HH:mm:ss 格式，但这个日期或时间不存在",
            ) from None
        except ValueError:
            raise invalid(
                name,
                value,
                f"it must be a time in the form yyyy-MM-dd HH:mm:ss, got {_shown(value)}",
                f"它必须是 yyyy-MM-dd HH:mm:ss 格式的时间，实际为 {_shown(value, zh=True)}",
            ) from None


#: Accepted spellings of ``Lang`` (compared case-insensitively).
LANG_SPELLINGS: Mapping[str, Lang] = {
    "zh_cn": Lang.ZH_CN,
    "zh": Lang.ZH_CN,
    "en_us": Lang.EN_US,
    "en": Lang.EN_US,
}


def read_lang(reader: Reader) -> Lang:
    """``Lang``: ``zh_cn`` (default), ``en_us``, ``zh`` or ``en``, in any letter case."""
    text = reader.string("Lang")
    if text is None:
        return Lang.ZH_CN
    try:
        return LANG_SPELLINGS[text.lower()]
    except KeyError:
        raise invalid(
            "Lang",
            text,
            f"{_shown(text)} is not one of zh_cn, en_us, zh, en",
            f"{_shown(text, zh=True)} 不是 zh_cn、en_us、zh、en 之一",
        ) from None


def check_window(
    start_name: str, start: object | None, end_name: str, end: object | None
) -> None:
    """StartTime later than EndTime is an invalid parameter (named after StartTime)."""
    if start is not None and end is not None and start > end:  # type: ignore[operator]
        raise invalid(
            start_name,
            start,
            f"{start_name} {start} is later than {end_name} {end}",
            f"{start_name} {start} 晚于 {end_name} {end}",
        )
