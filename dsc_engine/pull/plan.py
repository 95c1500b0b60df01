"""What a pull asks of one operation: its filters, its page size, each page's parameters.

Everything comes from the operation's description (``api/operations``): the window parameters
and their axis, the page-number and page-size parameters, the largest page, the list key, and
each filter's wire type. A filter given as text (``--param Name=Value``) is read as its wire type:
integers for ``Long``/``Integer``, ``true``/``false`` for ``Boolean``, text otherwise. The
parameters the pull sets itself (the window, the page number and size, ``RegionId``: ``--region``)
cannot be given, nor can ``RuleAggQuery``: it answers the newest record of each rule, which time
slices cannot add up to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from dsc_engine.api.operations import BY_KIND, OPERATIONS
from dsc_engine.api.spec import Operation, Parameter, Role, WireType
from dsc_engine.errors import PullError, UsageError
from dsc_engine.models import RecordKind
from dsc_engine.models.kinds import short_names
from dsc_engine.pull.axes import Axis, Slice, axis_of, window_parameters
from dsc_engine.wire.types import read_integer

ALL = "all"


def _integer(name: str, text: str) -> int:
    """As the service reads an integer: ``[+-]?`` and the digits 0-9, within 64 bits (``int()``
    would also take ``1_0`` and other scripts' digits, which the service refuses)."""
    value = read_integer(text.strip())
    if value is None:
        raise UsageError(name, text, f"{name} is an integer (64-bit, in the digits 0-9), not {text!r}")
    return value


def _boolean(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise UsageError(name, text, f"{name} is true or false, not {text!r}")
    return lowered == "true"


def _text(name: str, text: str) -> str:
    return text


#: How a parameter given as text is read, by its wire type.
READERS: Mapping[WireType, Callable[[str, str], object]] = {
    WireType.STRING: _text,
    WireType.WALL_CLOCK: _text,
    WireType.JSON: _text,
    WireType.LONG: _integer,
    WireType.INTEGER: _integer,
    WireType.BOOLEAN: _boolean,
}


def operations_for(what: str | RecordKind | Iterable[str | RecordKind]) -> list[Operation]:
    """The operations to pull: ``"all"``, a record kind (``audit``, ``masking``, ``dms`` or their
    long names) or an action name, or several of them; each once, in the order given."""
    items = [what] if isinstance(what, str | RecordKind) else list(what)
    found: dict[str, Operation] = {}
    for item in items:
        if item == ALL:
            found.update(OPERATIONS)
        elif isinstance(item, str) and item in OPERATIONS:
            found[item] = OPERATIONS[item]
        else:
            try:
                operation = BY_KIND[RecordKind.parse(item)]
            except ValueError:
                names = ", ".join(OPERATIONS)
                raise UsageError(
                    "operation", item, f"expected all, {short_names()} or an action ({names}), not {item!r}"
                ) from None
            found[operation.action] = operation
    if not found:
        raise UsageError("operation", what, "name at least one operation to pull")
    return list(found.values())


def _controlled(operation: Operation) -> dict[str, str]:
    """Parameters the pull sets itself, each with what to use instead."""
    start, end = window_parameters(operation)
    number, size = operation.one(Role.PAGE_NUMBER), operation.one(Role.PAGE_SIZE)
    assert number is not None and size is not None, f"{operation.action} has no paging"
    refused = {start.name: "--since", end.name: "--until", number.name: "nothing: every page is pulled",
               size.name: "--page-size"}
    for group in operation.with_role(Role.GROUP_BY):
        refused[group.name] = "nothing: it answers the newest record of each group, which slices cannot add up to"
    for common in operation.with_role(Role.NO_EFFECT):
        refused[common.name] = "--region"
    return refused


def read_params(operations: Sequence[Operation], given: Mapping[str, object]) -> dict[str, dict[str, object]]:
    """Each operation's filters out of ``given`` (wire names; text or typed values).

    A parameter goes to every operation that takes it; one that none of them takes, or that the
    pull sets itself, is an :class:`UsageError` naming it.
    """
    out: dict[str, dict[str, object]] = {op.action: {} for op in operations}
    for name, value in given.items():
        taken = False
        for operation in operations:
            refused = _controlled(operation)
            if name in refused:
                raise UsageError(
                    name, value, f"the pull sets {name} of {operation.action} itself; use {refused[name]}"
                )
            try:
                parameter = operation.parameter(name)
            except KeyError:
                continue
            out[operation.action][parameter.name] = _typed(parameter, value)
            taken = True
        if not taken:
            actions = " or ".join(op.action for op in operations)
            raise UsageError(name, value, f"{actions} takes no parameter {name}")
    return out


def _typed(parameter: Parameter, value: object) -> object:
    if isinstance(value, str):
        return READERS[parameter.wire](parameter.name, value)
    expected = _PYTHON_TYPES.get(parameter.wire)
    if expected is None or type(value) is not expected:
        raise UsageError(
            parameter.name, value, f"{parameter.name} is a {parameter.wire.value}, not {value!r}"
        )
    return value


#: The Python type of a parameter given as a value rather than text (text types take text only).
_PYTHON_TYPES: Mapping[WireType, type] = {WireType.LONG: int, WireType.INTEGER: int, WireType.BOOLEAN: bool}


@attrs.frozen
class PullPlan:
    """One operation's pull: its ``filters`` (typed, by wire name) and ``page_size``."""

    operation: Operation
    filters: Mapping[str, object]
    page_size: int

    @property
    def axis(self) -> Axis:
        return axis_of(self.operation)

    def request(self, piece: Slice, page: int) -> dict[str, object]:
        """The parameters of page ``page`` (from 1) of the slice ``piece``."""
        start, end = window_parameters(self.operation)
        number, size = self.operation.one(Role.PAGE_NUMBER), self.operation.one(Role.PAGE_SIZE)
        assert number is not None and size is not None
        return {
            **self.filters,
            start.name: self.axis.wire(piece.lo),
            end.name: self.axis.wire(piece.hi),
            size.name: self.page_size,
            number.name: page,
        }

    def total(self, body: Mapping[str, Any]) -> int:
        """The page's TotalCount, or a :class:`PullError` when the answer has none."""
        total = body.get("TotalCount")
        if type(total) is not int or total < 0:
            raise PullError(f"{self.operation.action} answered without a TotalCount: {_excerpt(body)}")
        return total

    def items(self, body: Mapping[str, Any]) -> list[Any]:
        """The page's records, or a :class:`PullError` when the answer has no list of them."""
        items = body.get(self.operation.list_key)
        if not isinstance(items, list):
            raise PullError(
                f"{self.operation.action} answered without its {self.operation.list_key} list: {_excerpt(body)}"
            )
        return items


def page_size_for(operation: Operation, asked: int | None) -> int:
    """``asked`` (or, by default, the operation's largest page), checked against its bounds."""
    if asked is None:
        return operation.max_page_size
    if not 1 <= asked <= operation.max_page_size:
        raise UsageError(
            "--page-size", asked, f"{operation.action} pages hold 1 to {operation.max_page_size} records"
        )
    return asked


def _excerpt(body: Mapping[str, Any]) -> str:
    text = repr(dict(body))
    return text if len(text) <= 300 else text[:297] + "..."


__all__ = ["ALL", "PullPlan", "operations_for", "page_size_for", "read_params"]
