"""Sddp ``DescribeDataMaskingRunHistory`` (2019-01-03): runs of static data masking tasks.

Filters (``docs/semantics.md`` §2): ``StartTime``/``EndTime`` bound the run's StartTime
inclusively; ``TaskId``, ``Status``, ``SrcType``, ``DstType``, ``MainProcessId`` and
``SrcTableName`` are exact, and the pages' valid values of ``Status``, ``SrcType`` and ``DstType``
are the only ones a request takes. ``Lang`` sets the language of error messages.
"""

from __future__ import annotations

from dsc_engine.api.spec import SDDP, Match, Operation, Parameter, Role, WireType
from dsc_engine.models import Lang, RecordKind, RunStatus, ServiceType

S, L, I = WireType.STRING, WireType.LONG, WireType.INTEGER  # noqa: E741

OPERATION = Operation(
    action="DescribeDataMaskingRunHistory",
    version="2019-01-03",
    product=SDDP,
    ram_action="yundun-sddp:DescribeDataMaskingRunHistory",
    kind=RecordKind.MASKING_RUN,
    list_key="Items",
    page_doc="Data Security Center: DescribeDataMaskingRunHistory, the execution history of masking tasks.",
    parameters=(
        Parameter(name="Lang", wire=S, role=Role.LANG, values=Lang,
                  doc="Language of error messages: zh_cn (default), en_us; zh and en too."),
        Parameter(name="TaskId", wire=S, match=Match.EXACT, field="TaskId", doc="The ID of the data masking task."),
        Parameter(name="StartTime", wire=L, match=Match.WINDOW_START, field="StartTime",
                  doc="The start of the window on the run's StartTime, UNIX milliseconds."),
        Parameter(name="EndTime", wire=L, match=Match.WINDOW_END, field="StartTime",
                  doc="The end of the window on the run's StartTime, UNIX milliseconds."),
        Parameter(name="Status", wire=I, match=Match.EXACT, field="Status", values=RunStatus,
                  doc="The execution status: -1 pending, 0 running, 1 successful, 2 failed, 3 stopped, 4 partially failed."),
        Parameter(name="SrcType", wire=I, match=Match.EXACT, field="SrcType", values=ServiceType,
                  doc="The source service: 1 MaxCompute, 2 OSS, 3 ADS, 4 OTS, 5 RDS."),
        Parameter(name="DstType", wire=I, match=Match.EXACT, field="DstType", values=ServiceType,
                  doc="The destination service: 1 MaxCompute, 2 OSS, 3 ADS, 4 OTS, 5 RDS."),
        Parameter(name="PageSize", wire=I, role=Role.PAGE_SIZE, bounds=(1, 100), default=10,
                  doc="Entries per page: at most 100, 10 by default."),
        Parameter(name="CurrentPage", wire=I, role=Role.PAGE_NUMBER, bounds=(1, 2**31 - 1), default=1,
                  doc="The page number, 1 by default."),
        Parameter(name="MainProcessId", wire=L, match=Match.EXACT, field="MainProcessId",
                  doc="The ID of the main task (a record-only field: filterable, never sent back)."),
        Parameter(name="SrcTableName", wire=S, match=Match.EXACT, field="SrcTableName",
                  doc="The name of the source table."),
        Parameter(name="RegionId", wire=S, role=Role.NO_EFFECT,
                  doc="A common parameter of RPC calls; one region offline, so it selects nothing."),
    ),
    response=("CurrentPage", "RequestId", "PageSize", "TotalCount", "Items"),
    field_notes={
        "SrcTypeCode": "sent as loaded, not checked against SrcType",
        "DstTypeCode": "sent as loaded, not checked against DstType",
        "MainProcessId": "record-only: loads and filters, never sent",
    },
)
