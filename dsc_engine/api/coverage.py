"""``docs/coverage.md``: every parameter and response field of the three pages, and how the engine
treats it, generated from the operation descriptions (``python3 -m dsc_engine.api.coverage``).

A test compares the committed page with :func:`render`, so the page cannot drift from the code.
"""

from __future__ import annotations

import sys

from dsc_engine.api.operations import OPERATIONS
from dsc_engine.api.read import LANG_SPELLINGS
from dsc_engine.api.spec import Match, Operation, Parameter, Role, WireType
from dsc_engine.wire.catalog import entry_catalog, wire_fields

_ROLE_TREATMENT = {
    Role.PAGE_NUMBER: "honoured: the page returned (§5.2-5.3)",
    Role.PAGE_SIZE: "honoured: records per page (§5.3)",
    Role.LANG: "honoured: the language of error messages (§6.4)",
    Role.NEGATIONS: "honoured: negates the filters its keys name (§4)",
    Role.GROUP_BY: "honoured: the newest record per value of the field (§5.4)",
    Role.SHOW_FIELD: "honoured: items carry the field only when true (§6.5)",
    Role.ECHO: "honoured: echoed, or a fresh id (§6.5)",
    Role.NO_EFFECT: "accepted without effect: a common RPC parameter, and one region offline (§6.2)",
}
_ENVELOPE = {
    "RequestId": ("string", "a fresh upper-case UUID per request"),
    "TotalCount": ("integer", "the true total, whatever the page (§5.2)"),
    "Success": ("boolean", "always true on a success"),
}


def _treatment(parameter: Parameter, operation: Operation) -> str:
    if parameter.role is Role.LANG and any(spec.name == "WarnLevelName" for spec in wire_fields(operation.kind)):
        return "honoured: WarnLevelName and the language of error messages (§6.4)"
    if parameter.role in (Role.PAGE_NUMBER, Role.PAGE_SIZE) and parameter.name in operation.response:
        return f"{_ROLE_TREATMENT[parameter.role]}, echoed"  # the DMS response echoes no paging
    if parameter.role is not Role.FILTER:
        return _ROLE_TREATMENT[parameter.role]
    match = parameter.match
    if match in (Match.WINDOW_START, Match.WINDOW_END):
        return f"honoured: {match.value} on `{parameter.field}` (§2.4)"
    return f"honoured: {match.value if match else ''} on `{parameter.field}` (§2.2)"


def _values(parameter: Parameter) -> str:
    if parameter.role is Role.LANG:
        return ", ".join(f"`{spelling}`" for spelling in LANG_SPELLINGS) + " (any letter case); `zh_cn` by default"
    if parameter.values is not None:
        return ", ".join(f"`{member.value}`" for member in parameter.values) + " only"
    if parameter.bounds is not None:
        low, high = parameter.bounds
        default = "" if parameter.default is None else f", default {parameter.default}"
        return f"{low}..{high}{default}"
    if parameter.wire is WireType.LONG:
        return "64-bit"
    return ""


def _parameters(operation: Operation) -> list[str]:
    lines = [
        "| parameter | wire type | required | how the engine treats it | documented values, bounds | LogQueryOpJson key | the page says |",
        "|---|---|---|---|---|---|---|",
    ]
    for parameter in operation.parameters:
        name = " / ".join(f"`{n}`" for n in (parameter.name, *parameter.aliases))
        key = f"`{parameter.query_key}`" if parameter.query_key else ""
        lines.append(
            f"| {name} | {parameter.wire.value} | {'yes' if parameter.required else 'no'} | {_treatment(parameter, operation)} "
            f"| {_values(parameter)} | {key} | {parameter.doc} |"
        )
    return lines


def _response(operation: Operation) -> list[str]:
    lines = ["| field | JSON type | how the engine treats it |", "|---|---|---|"]
    echoed = {p.name: p for p in operation.parameters if p.role in (Role.PAGE_NUMBER, Role.PAGE_SIZE, Role.ECHO)}
    for key in operation.response:
        if key == operation.list_key:
            lines.append(f"| `{key}` | array of objects | the page's records, in order (§5.1) |")
        elif key in echoed:
            kind = "string" if echoed[key].wire is WireType.STRING else "integer"
            lines.append(f"| `{key}` | {kind} | {_treatment(echoed[key], operation).removeprefix('honoured: ')} |")
        else:
            kind, treatment = _ENVELOPE[key]
            lines.append(f"| `{key}` | {kind} | {treatment} |")
    notes = operation.field_notes
    for spec in wire_fields(operation.kind):
        default = "never sent (record-only)" if spec.record_only else "sent as loaded; absent stays absent (§1.2)"
        lines.append(f"| `{operation.list_key}[].{spec.name}` | {spec.type.on_wire} | {notes.get(spec.name, default)} |")
    for spec in (entry_catalog(operation.kind) or {}).values():
        lines.append(f"| `...SensitiveDataLog[].{spec.name}` | {spec.type.on_wire} | sent as loaded (§1.3) |")
    for key, note in notes.items():
        if key not in {spec.name for spec in wire_fields(operation.kind)} and key not in operation.response:
            lines.append(f"| `{key}` | | {note} |")
    return lines


def render() -> str:
    """The text of ``docs/coverage.md``."""
    out = [
        "# API coverage",
        "",
        "<!-- Generated by `python3 -m dsc_engine.api.coverage > docs/coverage.md` from the operation",
        "descriptions in dsc_engine/api/operations/; tests/unit/api/test_api_coverage.py fails when they differ. -->",
        "",
        "Every request parameter and response field of the three API pages, and how dsc-engine treats",
        "it: honoured exactly (the rule cited from [semantics](semantics.md)), accepted without effect",
        "and why, or refused. A parameter no page lists is refused with `InvalidParameter` naming it;",
        "a value outside a parameter's documented values or bounds is refused the same way (§6).",
        "",
    ]
    for operation in OPERATIONS.values():
        out += [
            f"## {operation.action}",
            "",
            f"{operation.page_doc} Product `{operation.product}`, version `{operation.version}`, RAM action "
            f"`{operation.ram_action}`; records of kind `{operation.kind.value}`, items under `{operation.list_key}`.",
            "",
            "### Request parameters",
            "",
            *_parameters(operation),
            "",
            "### Response",
            "",
            *_response(operation),
            "",
        ]
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
