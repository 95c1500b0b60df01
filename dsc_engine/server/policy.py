"""RAM-style authorization: which access key may call which action.

A policy is a RAM policy document::

    {"Version": "1",
     "Statement": [{"Effect": "Allow", "Action": ["yundun-sddp:Describe*"], "Resource": "*"},
                   {"Effect": "Deny",  "Action": "yundun-sddp:DescribeAuditLogs", "Resource": "*"}]}

An action is allowed when some ``Allow`` statement matches it and no ``Deny`` statement does
(Deny overrides Allow; nothing matching means denied). ``*`` in an action pattern matches any run of
characters, ``?`` one character; matching ignores case, as RAM does. ``Resource`` may only be
``"*"`` (these APIs have no resource-level authorization); ``Condition`` and ``NotAction`` are not
supported and are rejected when the policy is loaded, never ignored, as is an action that cannot
match the API it names (``DescribeAuditLogs``, ``sddp:DescribeAuditLogs``: :func:`_dead_action`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from dsc_engine.api.operations import FALLBACK, OPERATIONS
from dsc_engine.errors import ServerConfigError


_STATEMENT_KEYS = frozenset({"Effect", "Action", "Resource"})
_DOCUMENT_KEYS = frozenset({"Version", "Statement"})


def _pattern(text: str) -> re.Pattern[str]:
    body = "".join(
        ".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in text
    )
    return re.compile(f"{body}\\Z", re.IGNORECASE | re.DOTALL)


@attrs.frozen(kw_only=True)
class PolicyStatement:
    """One item of a policy's ``Statement`` list: ``allow`` or deny the actions matching any of
    ``actions``."""

    allow: bool
    actions: tuple[str, ...]
    _patterns: tuple[re.Pattern[str], ...] = attrs.field(eq=False, repr=False)

    @classmethod
    def of(cls, allow: bool, actions: Sequence[str]) -> PolicyStatement:
        return cls(allow=allow, actions=tuple(actions), patterns=tuple(map(_pattern, actions)))

    def matches(self, action: str) -> bool:
        return any(p.match(action) for p in self._patterns)


@attrs.frozen(kw_only=True)
class Policy:
    """An ordered set of statements; :meth:`allows` applies RAM's Deny-overrides-Allow rule."""

    statements: tuple[PolicyStatement, ...]

    @classmethod
    def allow_all(cls) -> Policy:
        """The policy of a key configured without one: every action allowed."""
        return cls(statements=(PolicyStatement.of(True, ["*"]),))

    def allows(self, action: str) -> bool:
        matching = [s for s in self.statements if s.matches(action)]
        return any(s.allow for s in matching) and not any(not s.allow for s in matching)

    @classmethod
    def from_document(cls, doc: object, source: str, key: str) -> Policy:
        """Read a RAM policy document (already decoded from JSON or TOML); strict about its shape."""
        if not isinstance(doc, Mapping):
            raise ServerConfigError(source, key, "a policy must be a table/object with a Statement list")
        _no_unknown_keys(doc, _DOCUMENT_KEYS, source, key)
        if "Version" in doc and doc["Version"] != "1":
            raise ServerConfigError(source, f"{key}.Version", 'only policy Version "1" is known')
        raw = doc.get("Statement")
        if not isinstance(raw, list) or not raw:
            raise ServerConfigError(source, f"{key}.Statement", "must be a non-empty list")
        return cls(
            statements=tuple(
                _statement(item, source, f"{key}.Statement[{i}]") for i, item in enumerate(raw)
            )
        )


def _no_unknown_keys(doc: Mapping[str, Any], known: frozenset[str], source: str, key: str) -> None:
    for name in doc:
        if name not in known:
            raise ServerConfigError(
                source, f"{key}.{name}", f"unsupported key (known: {', '.join(sorted(known))})"
            )


def _statement(item: object, source: str, key: str) -> PolicyStatement:
    if not isinstance(item, Mapping):
        raise ServerConfigError(source, key, "a statement must be a table/object")
    _no_unknown_keys(item, _STATEMENT_KEYS, source, key)
    effect = item.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise ServerConfigError(source, f"{key}.Effect", 'must be "Allow" or "Deny"')
    actions = item.get("Action")
    if isinstance(actions, str):
        actions = [actions]
    if (
        not isinstance(actions, list)
        or not actions
        or not all(isinstance(a, str) and a for a in actions)
    ):
        raise ServerConfigError(source, f"{key}.Action", "must be a non-empty string or list of strings")
    for action in actions:
        problem = _dead_action(action)
        if problem is not None:  # a Deny of it would never fire
            raise ServerConfigError(source, f"{key}.Action", problem)
    resource = item.get("Resource", "*")
    resources = [resource] if isinstance(resource, str) else resource
    if resources != ["*"]:
        raise ServerConfigError(
            source, f"{key}.Resource", 'only "*" is supported: these APIs have no resources to scope'
        )
    return PolicyStatement.of(effect == "Allow", actions)


def _dead_action(action: str) -> str | None:
    """Why an action pattern can never match the API it plainly means, or ``None``: a name with
    no service (RAM actions are all ``service:Name``), or an operation of this engine under
    another service than its own (``sddp:DescribeAuditLogs`` for ``yundun-sddp:...``)."""
    if "*" in action or "?" in action:
        return None
    service, colon, name = action.partition(":")
    operation = next((op for op in OPERATIONS.values() if op.action.lower() == (name if colon else service).lower()), None)
    if not colon:
        meant = (operation or FALLBACK).ram_action
        return f"{action!r} matches no RAM action: they all name their service, such as {meant!r}"
    if operation is not None and action.lower() != operation.ram_action.lower():
        return f"{action!r} matches no action of this API: its RAM action is {operation.ram_action!r}"
    return None
