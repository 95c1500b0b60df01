"""Public hypothesis strategies for code that calls the three APIs (or this engine).

- :func:`records` draws valid records of a kind. Values come from small realistic pools, so that
  equality filters hit, timestamps repeat (ties exercise the tie-break order) and optional fields
  are often absent. Masking runs drawn in one list have unique ``Id``s (:func:`record_lists`).
- :func:`requests` draws valid request parameters of an operation, in wire form (strings) or as
  Python values.
- :func:`invalid_requests` draws ``(params, expected_code)``: a request the service must refuse,
  labelled with the error code it must produce.

The records and their value pools are ``logs.py``'s, the requests ``calls.py``'s; every public name
of both is importable from here. Hypothesis is imported in this package and only here;
``import dsc_engine`` does not need it.
"""

from __future__ import annotations

from dsc_engine.strategies.calls import (
    ACTIONS,
    AUDIT,
    DMS,
    FIELD_POOLS,
    Fault,
    LOG_QUERY_KEYS,
    MASKING,
    faults,
    invalid_requests,
    requests,
)
from dsc_engine.strategies.logs import (
    CLIENT_IPS,
    CLIENT_UAS,
    COLUMN_NAMES,
    DATABASE_NAMES,
    DB_DISPLAY_NAMES,
    DB_TYPES,
    DMS_TIMES,
    INSTANCE_NAMES,
    IP_TYPES,
    LOG_SOURCES,
    MASK_RULES,
    MEMBER_ACCOUNTS,
    MESSAGES,
    MODEL_NAMES,
    OPERATE_TYPES,
    OSS_KEYS,
    PERMISSION_TYPES,
    PRODUCT_CODES,
    RULE_CATEGORIES,
    RULE_IDS,
    RULE_NAMES,
    SQL_TEXTS,
    TABLE_NAMES,
    TARGET_NAMES,
    TASK_IDS,
    TIDS,
    TIMES_MS,
    USER_NAMES,
    audit_logs,
    dms_logs,
    masking_runs,
    record_lists,
    records,
    sensitive_data_entries,
)

__all__ = [
    "ACTIONS",
    "AUDIT",
    "CLIENT_IPS",
    "CLIENT_UAS",
    "COLUMN_NAMES",
    "DATABASE_NAMES",
    "DB_DISPLAY_NAMES",
    "DB_TYPES",
    "DMS",
    "DMS_TIMES",
    "FIELD_POOLS",
    "Fault",
    "INSTANCE_NAMES",
    "IP_TYPES",
    "LOG_QUERY_KEYS",
    "LOG_SOURCES",
    "MASKING",
    "MASK_RULES",
    "MEMBER_ACCOUNTS",
    "MESSAGES",
    "MODEL_NAMES",
    "OPERATE_TYPES",
    "OSS_KEYS",
    "PERMISSION_TYPES",
    "PRODUCT_CODES",
    "RULE_CATEGORIES",
    "RULE_IDS",
    "RULE_NAMES",
    "SQL_TEXTS",
    "TABLE_NAMES",
    "TARGET_NAMES",
    "TASK_IDS",
    "TIDS",
    "TIMES_MS",
    "USER_NAMES",
    "audit_logs",
    "dms_logs",
    "faults",
    "invalid_requests",
    "masking_runs",
    "record_lists",
    "records",
    "requests",
    "sensitive_data_entries",
]
