"""``dsc-engine demo``: real requests of each operation over the bundled sample data.

The same requests are what ``dsc-engine record`` records when no request list is given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import IO, Any

from dsc_engine.api.operations import OPERATIONS
from dsc_engine.cli.output import Format, dumps, write_items, write_rows
from dsc_engine.io.stores import HasStores
from dsc_engine.models import RecordKind
from dsc_engine.replay import Call, Caller, answer

#: (title, the call).
DEMO: tuple[tuple[str, Call], ...] = (
    (
        "Audit alerts on RDS in a time window, 100 ms to 5 s long, by anyone but admin",
        Call(
            "DescribeAuditLogs",
            {
                "StartTime": "1792000000000",
                "EndTime": "1793000000000",
                "ProductCode": "RDS",
                "ExecuteTimeRange": "in[100 5000]",
                "UserName": "admin",
                "LogQueryOpJson": '[{"queryKey":"userName","isContain":false}]',
                "Lang": "en_us",
                "PageSize": "5",
            },
        ),
    ),
    (
        "The newest hit of each audit rule (RuleAggQuery)",
        Call("DescribeAuditLogs", {"RuleAggQuery": "true", "PageSize": "5", "Lang": "en_us"}),
    ),
    (
        "Failed masking runs since a time",
        Call("DescribeDataMaskingRunHistory", {"Status": "2", "StartTime": "1792000000000", "PageSize": "5"}),
    ),
    (
        "DMS logs that touched orders.email in ten days",
        Call(
            "ListSensitiveDataAuditLog",
            {
                "StartTime": "2026-10-10 00:00:00",
                "EndTime": "2026-10-20 23:59:59",
                "TableName": "orders",
                "ColumnName": "email",
                "PageNumber": "1",
                "PageSize": "5",
            },
        ),
    ),
    (
        "A request the service refuses (PageSize above 50)",
        Call("DescribeAuditLogs", {"PageSize": "500", "Lang": "en_us"}),
    ),
)


def holdings(engine: HasStores) -> dict[str, Any]:
    """What the engine holds: the number of records of each kind."""
    return {kind.value: len(engine.store(kind)) for kind in RecordKind}


def run(engine: Caller, stores: HasStores, fmt: Format, out: IO[str], zone: dt.tzinfo = dt.timezone.utc) -> int:
    """Answer every demo request and show it (a table's Sddp times in ``zone``); return how many
    were answered without error."""
    answered = 0
    if fmt is Format.TABLE:
        counts = ", ".join(f"{n} {kind}" for kind, n in holdings(stores).items())
        out.write(f"Loaded records: {counts}\n")
    shown: list[dict[str, Any]] = []
    for title, call in DEMO:
        status, body = answer(engine, call)
        answered += status == 200
        if fmt is not Format.TABLE:
            shown.append({"title": title, "action": call.action, "params": dict(call.params),
                          "status": status, "response": body})
            continue
        out.write(f"\n== {title}\n{call.action} {dumps(dict(call.params), pretty=False)}\n")
        if status != 200:
            out.write(f"HTTP {status} {body['Code']}: {body['Message']}\n")
            continue
        operation = OPERATIONS[call.action]
        envelope = {k: v for k, v in body.items() if k not in (operation.list_key, "RequestId")}
        write_items(fmt, operation.kind, body[operation.list_key], out, _brief(envelope), zone)
    if fmt is Format.JSON:
        out.write(dumps({"holdings": holdings(stores), "calls": shown}) + "\n")
    elif fmt is not Format.TABLE:
        write_rows(fmt, shown, out)
    return answered


def _brief(envelope: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in envelope.items() if k != "AsyncRequestId"}
