"""Cross-check: every runner must give the same TotalCount and the same page items (wire JSON)."""

from __future__ import annotations

import json
from typing import Any

from benchmarks.errors import CrossCheckError


def _canonical(item: Any) -> str:
    return json.dumps(item, sort_keys=True, ensure_ascii=False)


def _diff(left: dict[str, Any], right: dict[str, Any]) -> str:
    if left["total"] != right["total"]:
        return f"TotalCount {left['total']} != {right['total']}"
    a, b = left["items"], right["items"]
    if len(a) != len(b):
        return f"{len(a)} items != {len(b)} items"
    for index, (x, y) in enumerate(zip(a, b)):
        if _canonical(x) != _canonical(y):
            keys = sorted(k for k in set(x) | set(y) if x.get(k, "<absent>") != y.get(k, "<absent>"))
            shown = ", ".join(f"{k}: {x.get(k, '<absent>')!r} != {y.get(k, '<absent>')!r}"
                              for k in keys[:6])
            return f"item {index} differs ({shown})"
    return ""


def check(reports: list[dict[str, Any]]) -> int:
    """Compare every runner's answers with the first runner's; return the number of queries
    checked, or raise :class:`CrossCheckError` on the first disagreement."""
    reference = reports[0]
    for other in reports[1:]:
        for name, expected in reference["queries"].items():
            got = other["queries"].get(name)
            if got is None:
                raise CrossCheckError(name, reference["runner"], other["runner"], "query missing")
            diff = _diff(expected, got)
            if diff:
                raise CrossCheckError(name, reference["runner"], other["runner"], diff)
    return len(reference["queries"])
