"""Sddp ``DescribeDataMaskingRunHistory`` (2019-01-03): runs of static data masking tasks.

Filters (CONTRACT.md section 2): ``StartTime``/``EndTime`` bound the run's StartTime inclusively;
``TaskId``, ``Status``, ``SrcType``, ``DstType``, ``MainProcessId`` and ``SrcTableName`` are exact.
``Status``, ``SrcType`` and ``DstType`` must be documented values. ``Lang`` sets the language of
error messages (items carry no localised field).
"""

from __future__ import annotations

from typing import Any

import attrs

from dsc_engine.api.coerce import Paging, Reader, check_window, read_lang, read_paging
from dsc_engine.api.errors import SDDP
from dsc_engine.api.operation import Operation
from dsc_engine.wire.codec import response_item
from dsc_engine.models import Lang, RecordKind, RunStatus, ServiceType
from dsc_engine.query import ast
from dsc_engine.store.store import Store

ACTION = "DescribeDataMaskingRunHistory"
VERSION = "2019-01-03"
MAX_PAGE_SIZE = 100
PARAMETERS = frozenset(
    {
        "Lang",
        "TaskId",
        "StartTime",
        "EndTime",
        "Status",
        "SrcType",
        "DstType",
        "PageSize",
        "CurrentPage",
        "MainProcessId",
        "SrcTableName",
        "RegionId",  # a common RPC parameter some clients send; one region offline: no effect
    }
)


@attrs.frozen(kw_only=True)
class DescribeDataMaskingRunHistoryRequest:
    """A valid DescribeDataMaskingRunHistory request."""

    lang: Lang = Lang.ZH_CN
    paging: Paging = Paging(1, 10)
    task_id: str | None = None
    start_time: int | None = None
    end_time: int | None = None
    status: RunStatus | None = None
    src_type: ServiceType | None = None
    dst_type: ServiceType | None = None
    main_process_id: int | None = None
    src_table_name: str | None = None

    def filter(self) -> ast.Node:
        """The AST of this request: every given filter, ANDed."""
        parts: list[ast.Node] = []
        if self.start_time is not None or self.end_time is not None:
            parts.append(ast.Range("StartTime", self.start_time, self.end_time))
        for field, value in (
            ("TaskId", self.task_id),
            ("Status", None if self.status is None else self.status.value),
            ("SrcType", None if self.src_type is None else self.src_type.value),
            ("DstType", None if self.dst_type is None else self.dst_type.value),
            ("MainProcessId", self.main_process_id),
            ("SrcTableName", self.src_table_name),
        ):
            if value is not None:
                parts.append(ast.Compare(field, ast.CompareOp.EQ, value))
        return ast.conjunction(parts)


def read(reader: Reader) -> DescribeDataMaskingRunHistoryRequest:
    """Validate every parameter, in the page's order."""
    lang = read_lang(reader)
    task_id = reader.string("TaskId")
    start, end = reader.integer("StartTime"), reader.integer("EndTime")
    status = reader.choice("Status", RunStatus)
    src_type = reader.choice("SrcType", ServiceType)
    dst_type = reader.choice("DstType", ServiceType)
    paging = read_paging(reader, "CurrentPage", "PageSize", max_size=MAX_PAGE_SIZE)
    main_process_id = reader.integer("MainProcessId")
    src_table_name = reader.string("SrcTableName")
    reader.string("RegionId")
    check_window("StartTime", start, "EndTime", end)
    return DescribeDataMaskingRunHistoryRequest(
        lang=lang,
        paging=paging,
        task_id=task_id,
        start_time=start,
        end_time=end,
        status=status,
        src_type=src_type,
        dst_type=dst_type,
        main_process_id=main_process_id,
        src_table_name=src_table_name,
    )


def answer(
    request: DescribeDataMaskingRunHistoryRequest, store: Store, request_id: str
) -> dict[str, Any]:
    paging = request.paging
    page = store.query(request.filter(), paging.offset, paging.size)
    return {
        "CurrentPage": paging.page,
        "RequestId": request_id,
        "PageSize": paging.size,
        "TotalCount": page.total,
        "Items": [response_item(r) for r in page.records],
    }


OPERATION = Operation(
    action=ACTION,
    version=VERSION,
    product=SDDP,
    kind=RecordKind.MASKING_RUN,
    parameters=PARAMETERS,
    read=read,
    answer=answer,
    lang=lambda request: request.lang,
    has_lang=True,
)
