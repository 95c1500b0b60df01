"""DMS ``ListSensitiveDataAuditLog`` (2018-11-01): audit logs of sensitive-data access.

Required: ``StartTime``, ``EndTime`` (``yyyy-MM-dd HH:mm:ss``, an inclusive window on OpTime
compared as naive wall-clock times), ``PageSize`` (1..100) and ``PageNumber`` (>= 1). Filters
(``docs/semantics.md`` §2): ``OpUserName`` = UserName, ``DbName`` = the database part of
DbDisplayName, ``TableName``/``ColumnName`` on one nested entry, ``ModuleName`` (a documented
value), ``Tid`` (the tenant). A success always carries ``Success: true`` and no
ErrorCode/ErrorMessage; the response echoes no paging.
"""

from __future__ import annotations

from dsc_engine.api.spec import DMS, Match, Operation, Parameter, Role, WireType
from dsc_engine.models import ModuleName, RecordKind

S, T = WireType.STRING, WireType.WALL_CLOCK

OPERATION = Operation(
    action="ListSensitiveDataAuditLog",
    version="2018-11-01",
    product=DMS,
    ram_action="dms:ListSensitiveDataAuditLog",
    kind=RecordKind.DMS_LOG,
    list_key="SensitiveDataAuditLogList",
    page_doc="Data Management: ListSensitiveDataAuditLog, the audit logs of sensitive information.",
    parameters=(
        Parameter(name="StartTime", wire=T, match=Match.WINDOW_START, field="OpTime", required=True,
                  doc="The start of the window on OpTime, yyyy-MM-dd HH:mm:ss."),
        Parameter(name="EndTime", wire=T, match=Match.WINDOW_END, field="OpTime", required=True,
                  doc="The end of the window on OpTime, yyyy-MM-dd HH:mm:ss."),
        Parameter(name="ModuleName", wire=S, match=Match.EXACT, field="ModuleName", values=ModuleName,
                  doc="The module: SQL_CONSOLE, SQL_CONSOLE_EXPORT, DATA_CHANGE, DATA_EXPORT."),
        Parameter(name="OpUserName", wire=S, match=Match.EXACT, field="UserName",
                  doc="The username of the requester."),
        Parameter(name="DbName", wire=S, match=Match.EXACT, field="DbName",
                  doc="The database: the part of DbDisplayName before '@'."),
        Parameter(name="TableName", wire=S, match=Match.ENTRY, field="TableName",
                  doc="The table, in one SensitiveDataLog entry (with ColumnName: the same entry)."),
        Parameter(name="ColumnName", wire=S, match=Match.ENTRY, field="ColumnName",
                  doc="The column, in one SensitiveDataLog entry (with TableName: the same entry)."),
        Parameter(name="PageSize", wire=WireType.INTEGER, role=Role.PAGE_SIZE, bounds=(1, 100), required=True,
                  doc="Entries per page, 1 to 100; required."),
        Parameter(name="PageNumber", wire=WireType.INTEGER, role=Role.PAGE_NUMBER, bounds=(1, 2**31 - 1),
                  required=True, doc="The page number, from 1; required."),
        Parameter(name="Tid", wire=WireType.LONG, match=Match.EXACT, field="Tid",
                  doc="The tenant (a record-only field: filterable, never sent back)."),
        Parameter(name="RegionId", wire=S, role=Role.NO_EFFECT,
                  doc="A common parameter of RPC calls; one region offline, so it selects nothing."),
    ),
    response=("RequestId", "TotalCount", "Success", "SensitiveDataAuditLogList"),
    field_notes={
        "ErrorCode": "never on a success (the page's sample shows it beside Success: true)",
        "ErrorMessage": "never on a success",
        "Success": "always true on a success",
        "SensitiveDataLog": "always sent, [] when the record has no entries",
        "Tid": "record-only: loads and filters, never sent",
    },
)
