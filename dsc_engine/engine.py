"""The public library entry point: an :class:`Engine` holds one store per record kind and
answers the three APIs exactly as the cloud does, and the filter language.

    >>> from dsc_engine import Engine
    >>> engine = Engine.from_sample()
    >>> engine.call("DescribeAuditLogs", {"PageSize": "5", "Lang": "en_us"})["PageSize"]
    5
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from dsc_engine.api import router
from dsc_engine.api.coerce import INT32_MAX, invalid
from dsc_engine.errors import RecordError
from dsc_engine.wire.codec import from_wire
from dsc_engine.models import RecordKind
from dsc_engine.models.records import Record
from dsc_engine.store.store import Store


@attrs.frozen
class QueryResult:
    """One page of a filter-language query: the true ``total`` and that page's ``records``."""

    total: int
    records: Sequence[Record]
    page: int
    page_size: int


class Engine:
    """Records of the three kinds, in memory, answering the APIs and filter queries."""

    def __init__(self) -> None:
        self._stores = {kind: Store(kind) for kind in RecordKind}

    @classmethod
    def from_sample(cls) -> Engine:
        """An engine loaded with the sample bundled in the package (every kind)."""
        from dsc_engine.sample import bundled

        engine = cls()
        for kind in RecordKind:
            engine.load(bundled(kind))
        return engine

    def store(self, kind: RecordKind | str) -> Store:
        """The store of one kind (``kind`` as a :class:`RecordKind` or its name or alias)."""
        return self._stores[_kind(kind)]

    def load(
        self,
        records_or_path: Iterable[Record | Mapping[str, Any]] | str | os.PathLike[str],
        kind: RecordKind | str | None = None,
    ) -> Any:
        """Load records, or an exported file or directory.

        A path goes to the importer (``dsc_engine.io.imports.load_into``) and its
        ``ImportReport`` is returned. Otherwise each item is a record of any kind, or (with
        ``kind``) a record's wire JSON object; with ``kind`` every record must be of that kind.
        Records are appended in the order given (later ones sort first among ties); the number
        loaded is returned.
        """
        if isinstance(records_or_path, str | os.PathLike):
            from dsc_engine.io.imports import load_into

            return load_into(self, records_or_path, kind=kind)
        wanted = None if kind is None else _kind(kind)
        batches: dict[RecordKind, list[Record]] = {k: [] for k in RecordKind}
        for index, item in enumerate(records_or_path):
            record = _record(item, wanted, index)
            batches[RecordKind.of(record)].append(record)
        return sum(self._stores[k].insert(batch) for k, batch in batches.items() if batch)

    def call(
        self,
        action: str,
        params: Mapping[str, object],
        *,
        version: str | None = None,
        host: str = "localhost",
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Answer one API request as the cloud does; raise :class:`ApiError` when it refuses.

        ``params`` are the request parameters by wire name, as the wire carries them (strings)
        or as Python values. ``version=None`` means the action's own version.
        """
        return router.call(
            self._stores, action, params, version=version, host=host, request_id=request_id
        )

    def describe_audit_logs(self, **params: object) -> dict[str, Any]:
        """``DescribeAuditLogs`` with PascalCase keyword parameters (``PageSize=5``)."""
        return self.call("DescribeAuditLogs", params)

    def describe_data_masking_run_history(self, **params: object) -> dict[str, Any]:
        """``DescribeDataMaskingRunHistory`` with PascalCase keyword parameters."""
        return self.call("DescribeDataMaskingRunHistory", params)

    def list_sensitive_data_audit_log(self, **params: object) -> dict[str, Any]:
        """``ListSensitiveDataAuditLog`` with PascalCase keyword parameters."""
        return self.call("ListSensitiveDataAuditLog", params)

    def query(
        self, kind: RecordKind | str, filter_text: str, page: int = 1, page_size: int = 10
    ) -> QueryResult:
        """Records of ``kind`` matching a filter-language text, newest first, one page of them.

        Raises ``FilterSyntaxError``/``FilterFieldError`` for a bad filter and
        ``InvalidParameterError`` for an unknown kind, a filter that is not a string, a page below
        1 or a size outside 1..2147483647.
        """
        from dsc_engine.query.parse import parse_filter

        resolved = _kind(kind)
        if not isinstance(filter_text, str):
            raise invalid(
                "filter_text",
                filter_text,
                f"a filter is a string, not {type(filter_text).__name__}",
                f"过滤条件必须是字符串，实际为 {type(filter_text).__name__}",
            )
        for name, value in (("page", page), ("page_size", page_size)):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= INT32_MAX:
                raise invalid(
                    name,
                    value,
                    f"it must be an integer from 1 to {INT32_MAX}, got {value!r}",
                    f"它必须是 1 到 {INT32_MAX} 之间的整数，实际为 {value!r}",
                )
        node = parse_filter(filter_text, resolved)
        result = self._stores[resolved].query(node, (page - 1) * page_size, page_size)
        return QueryResult(result.total, result.records, page, page_size)


def _kind(kind: RecordKind | str) -> RecordKind:
    try:
        return RecordKind.parse(kind)
    except ValueError as exc:
        raise invalid("kind", kind, str(exc), f"未知的记录类型 {kind!r}") from None


def _record(item: object, kind: RecordKind | None, index: int) -> Record:
    """A loaded item as a record of ``kind`` (decoding a wire object when ``kind`` is given)."""
    where = f"item {index}"
    if isinstance(item, Mapping):
        if kind is None:
            raise RecordError(
                "record", "", "a JSON object needs kind= to say which record kind it is", where
            )
        return from_wire(kind, item, where)
    try:
        item_kind = RecordKind.of(item)
    except KeyError:
        raise RecordError(
            "record", "", f"expected a record, got {type(item).__name__}", where
        ) from None
    if kind is not None and item_kind is not kind:
        raise RecordError(
            kind.value, "", f"a {item_kind.value} record where {kind.value} was asked", where
        )
    return item  # type: ignore[return-value]
