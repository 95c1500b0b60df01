"""docs/backends.md shows the DDL the code sends: the masking-run and DMS tables, per dialect."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlglot

from dsc_engine.models import RecordKind
from dsc_engine.sql.dialects import CLICKHOUSE, DUCKDB, Dialect
from dsc_engine.sql.schema import TABLES

DOC = Path(__file__).resolve().parents[3] / "docs" / "backends.md"


def _documented(label: str) -> list[str]:
    blocks = re.findall(r"```sql\n-- (.+?)\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    text = next(body for name, body in blocks if name.startswith(label))
    return [statement.strip() for statement in text.split(";") if statement.strip()]


@pytest.mark.parametrize("dialect, label", [(DUCKDB, "DuckDB"), (CLICKHOUSE, "ClickHouse")])
def test_the_documented_ddl_is_the_ddl_sent(dialect: Dialect, label: str) -> None:
    def canonical(sql: str) -> str:
        return sqlglot.parse_one(sql, read=dialect.name).sql(dialect=dialect.name)

    sent = []
    for kind in (RecordKind.MASKING_RUN, RecordKind.DMS_LOG):
        for statement in dialect.create_statements(TABLES[kind], "dsc"):
            rendered = canonical(dialect.render(statement))
            if rendered not in sent:
                sent.append(rendered)
    assert [canonical(s) for s in _documented(label)] == sent
