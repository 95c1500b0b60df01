"""DMS ``ListSensitiveDataAuditLog`` (2018-11-01): audit logs of sensitive-data access.

Required: ``StartTime``, ``EndTime`` (``yyyy-MM-dd HH:mm:ss``, an inclusive window on OpTime
compared as naive wall-clock times), ``PageSize`` (1..100) and ``PageNumber`` (>= 1); a missing
one is ``Missing<Name>``. Filters (CONTRACT.md section 2): ``OpUserName`` = UserName, ``DbName`` =
the database part of DbDisplayName, ``TableName``/``ColumnName`` on one nested entry,
``ModuleName`` (a documented value), ``Tid`` (the tenant). A success always carries
``Success: true`` and no ErrorCode/ErrorMessage; the response echoes no paging.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from dsc_engine.api.coerce import Paging, Reader, check_window, read_paging
from dsc_engine.api.errors import DMS
from dsc_engine.api.operation import Operation
from dsc_engine.wire.codec import response_item
from dsc_engine.models import Lang, ModuleName, RecordKind
from dsc_engine.query import ast
from dsc_engine.store.store import Store

ACTION = "ListSensitiveDataAuditLog"
VERSION = "2018-11-01"
MAX_PAGE_SIZE = 100
PARAMETERS = frozenset(
    {
        "StartTime",
        "EndTime",
        "ModuleName",
        "OpUserName",
        "DbName",
        "TableName",
        "ColumnName",
        "PageSize",
        "PageNumber",
        "Tid",
        "RegionId",  # a common RPC parameter some clients send; one region offline: no effect
    }
)


@attrs.frozen(kw_only=True)
class ListSensitiveDataAuditLogRequest:
    """A valid ListSensitiveDataAuditLog request."""

    start_time: dt.datetime
    end_time: dt.datetime
    paging: Paging
    module_name: ModuleName | None = None
    op_user_name: str | None = None
    db_name: str | None = None
    table_name: str | None = None
    column_name: str | None = None
    tid: int | None = None

    def filter(self) -> ast.Node:
        """The AST of this request: the OpTime window AND every given filter."""
        eq = ast.CompareOp.EQ
        parts: list[ast.Node] = [ast.Range("OpTime", self.start_time, self.end_time)]
        if self.module_name is not None:
            parts.append(ast.Compare("ModuleName", eq, self.module_name.value))
        if self.op_user_name is not None:
            parts.append(ast.Compare("UserName", eq, self.op_user_name))
        if self.db_name is not None:
            parts.append(ast.Compare("DbName", eq, self.db_name))
        entry = [
            ast.Compare(field, eq, value)
            for field, value in (("TableName", self.table_name), ("ColumnName", self.column_name))
            if value is not None
        ]
        if entry:  # both on the same entry when both are given
            parts.append(ast.AnyEntry("SensitiveDataLog", ast.conjunction(entry)))
        if self.tid is not None:
            parts.append(ast.Compare("Tid", eq, self.tid))
        return ast.conjunction(parts)


def read(reader: Reader) -> ListSensitiveDataAuditLogRequest:
    """Validate every parameter, in the page's order."""
    start = reader.wall_clock("StartTime")
    end = reader.wall_clock("EndTime")
    module_name = reader.choice("ModuleName", ModuleName)
    op_user_name = reader.string("OpUserName")
    db_name = reader.string("DbName")
    table_name = reader.string("TableName")
    column_name = reader.string("ColumnName")
    paging = read_paging(reader, "PageNumber", "PageSize", max_size=MAX_PAGE_SIZE, required=True)
    tid = reader.integer("Tid")
    reader.string("RegionId")
    check_window("StartTime", start, "EndTime", end)
    return ListSensitiveDataAuditLogRequest(
        start_time=start,
        end_time=end,
        paging=paging,
        module_name=module_name,
        op_user_name=op_user_name,
        db_name=db_name,
        table_name=table_name,
        column_name=column_name,
        tid=tid,
    )


def answer(
    request: ListSensitiveDataAuditLogRequest, store: Store, request_id: str
) -> dict[str, Any]:
    paging = request.paging
    page = store.query(request.filter(), paging.offset, paging.size)
    return {
        "RequestId": request_id,
        "TotalCount": page.total,
        "Success": True,
        "SensitiveDataAuditLogList": [response_item(r) for r in page.records],
    }


OPERATION = Operation(
    action=ACTION,
    version=VERSION,
    product=DMS,
    kind=RecordKind.DMS_LOG,
    parameters=PARAMETERS,
    read=read,
    answer=answer,
    lang=lambda request: Lang.EN_US,
    has_lang=False,
)
