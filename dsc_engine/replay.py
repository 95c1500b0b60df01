"""Replay of recorded API calls: does the engine answer what the real service answered?

A capture is JSON Lines, one call per line::

    {"action": "DescribeAuditLogs", "params": {"PageSize": "5"}, "response": {...}}

with optional ``"version"`` (the API version the call used) and ``"status"`` (the HTTP status;
200 when absent). ``response`` is the body as the service returned it: a page, or for a refused
call the error body (``RequestId``, ``HostId``, ``Code``, ``Message``, ``Recommend``).

:func:`replay` re-runs every call against an engine and compares the answer field by field. Only
volatile fields are ignored: the top-level ``RequestId``; ``AsyncRequestId`` when the request did
not pass one (the service then makes one up); and in error bodies ``HostId`` and the ``requestId``
part of ``Recommend``. Every other difference is listed by its path
(``Items[3].UserName: expected 'a', got 'b'``), types included (``"1"`` is not ``1``).

:func:`record` writes a capture from calls answered by the engine itself, so the format round-trips.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, Any, Protocol

import attrs

from dsc_engine.api.errors import ApiError
from dsc_engine.errors import ImportFailure

_ALLOWED_KEYS = frozenset({"action", "params", "response", "version", "status"})
#: How deeply a capture line may nest (a call with an API response nests 6 levels);
#: comparing and showing a deeper one would recurse past Python's limit.
MAX_DEPTH = 64
_RECOMMEND_ID = re.compile(r"([?&]requestId=)[^&]*")


class Caller(Protocol):
    """What calls are replayed against: ``Engine``."""

    def call(
        self, action: str, params: Mapping[str, object], *, version: str | None = None
    ) -> dict[str, Any]: ...


@attrs.frozen
class Call:
    """One recorded call (``response`` is ``None`` in a request list that has no answers yet)."""

    action: str
    params: Mapping[str, Any]
    response: Mapping[str, Any] | None = None
    version: str | None = None
    status: int = 200
    line: int = 0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action, "params": dict(self.params)}
        if self.version is not None:
            out["version"] = self.version
        out["status"] = self.status
        out["response"] = self.response
        return out


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Any = _Absent()


@attrs.frozen
class Difference:
    path: str
    expected: Any
    got: Any

    def __str__(self) -> str:
        return f"{self.path or '(response)'}: expected {_show(self.expected)}, got {_show(self.got)}"


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, (str, _Absent)) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 200 else text[:197] + "..."


@attrs.frozen
class CallResult:
    call: Call
    differences: tuple[Difference, ...]

    @property
    def matched(self) -> bool:
        return not self.differences


@attrs.frozen
class ReplayReport:
    results: tuple[CallResult, ...]

    @property
    def matched(self) -> int:
        return sum(r.matched for r in self.results)

    @property
    def ok(self) -> bool:
        return self.matched == len(self.results)

    def lines(self) -> Iterator[str]:
        """The human report: one line per call, then its differences indented."""
        for result in self.results:
            call = result.call
            verdict = "ok  " if result.matched else "DIFF"
            yield f"{verdict} line {call.line}: {call.action} {_show(dict(call.params))}"
            for difference in result.differences:
                yield f"     {difference}"
        yield f"{self.matched} of {len(self.results)} call(s) matched"


# ---------------------------------------------------------------------------------------------
# Reading and writing captures
# ---------------------------------------------------------------------------------------------


def read_calls(path: str | os.PathLike[str], *, need_response: bool = True) -> list[Call]:
    """The calls of a capture (or, with ``need_response=False``, of a request list)."""
    name = os.fspath(path)
    calls = []
    try:
        with open(path, encoding="utf-8-sig") as lines:
            for number, text in enumerate(lines, 1):
                if text.strip():
                    calls.append(_call(name, number, text, need_response))
    except OSError as exc:
        raise ImportFailure(name, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ImportFailure(name, "not valid UTF-8") from None
    if not calls:
        raise ImportFailure(name, "holds no calls")
    return calls


def _call(name: str, number: int, text: str, need_response: bool) -> Call:
    def fail(reason: str) -> ImportFailure:
        return ImportFailure(name, reason, number)

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(f"invalid JSON at column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise fail(f"JSON nested too deeply to read (a call may nest {MAX_DEPTH} levels)") from None
    except ValueError:  # an integer with more digits than Python converts (4,300 by default)
        reason = "an integer with too many digits to read, outside the signed 64-bit range of the API's integers"
        raise fail(reason) from None
    depth = _depth(data)
    if depth > MAX_DEPTH:
        raise fail(f"JSON nested too deeply: {depth} levels, more than the {MAX_DEPTH} a call may nest")
    if not isinstance(data, dict):
        raise fail("a call must be a JSON object with action, params and response")
    unknown = sorted(set(data) - _ALLOWED_KEYS)
    if unknown:
        raise fail(f"unknown key(s) {', '.join(unknown)}; a call has {', '.join(sorted(_ALLOWED_KEYS))}")
    action, params, response = data.get("action"), data.get("params", {}), data.get("response")
    version, status = data.get("version"), data.get("status", 200)
    if not isinstance(action, str) or not action:
        raise fail("'action' must be a non-empty string")
    if not isinstance(params, dict):
        raise fail("'params' must be a JSON object")
    if need_response and not isinstance(response, dict):
        raise fail("'response' must be the JSON object the service returned")
    if version is not None and not isinstance(version, str):
        raise fail("'version' must be a string")
    if type(status) is not int:
        raise fail("'status' must be an integer HTTP status")
    return Call(action, params, response, version, status, number)


def _depth(value: object) -> int:
    """How many arrays and objects deep ``value`` nests (iteratively: any depth is safe)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in children)
    return deepest


def answer(engine: Caller, call: Call) -> tuple[int, dict[str, Any]]:
    """The engine's HTTP status and body for a call (an error body when it refuses)."""
    try:
        return 200, engine.call(call.action, call.params, version=call.version)
    except ApiError as exc:
        return exc.http_status, exc.body


def record(engine: Caller, requests: Iterable[Call], out: IO[str]) -> int:
    """Answer each request with the engine and write the capture; return how many calls."""
    count = 0
    for request in requests:
        status, body = answer(engine, request)
        recorded = attrs.evolve(request, response=body, status=status)
        out.write(json.dumps(recorded.to_json(), ensure_ascii=False) + "\n")
        count += 1
    return count


# ---------------------------------------------------------------------------------------------
# Comparing
# ---------------------------------------------------------------------------------------------


def replay(engine: Caller, calls: Iterable[Call]) -> ReplayReport:
    """Re-run every call and compare the engine's answers with the recorded ones."""
    results = []
    for call in calls:
        status, body = answer(engine, call)
        assert call.response is not None
        differences = compare(call, body)
        if status != call.status:
            differences.insert(0, Difference("(HTTP status)", call.status, status))
        results.append(CallResult(call, tuple(differences)))
    return ReplayReport(tuple(results))


def compare(call: Call, got: Mapping[str, Any]) -> list[Difference]:
    """The differences between the recorded response of ``call`` and ``got``, volatile fields aside."""
    expected = dict(call.response or {})
    actual = dict(got)
    volatile = {"RequestId"}
    if not str(call.params.get("AsyncRequestId", "") or ""):
        volatile.add("AsyncRequestId")
    if "Code" in expected and "Recommend" in expected:
        volatile.add("HostId")
        for body in (expected, actual):
            if isinstance(body.get("Recommend"), str):
                body["Recommend"] = _RECOMMEND_ID.sub(r"\1<RequestId>", body["Recommend"])
    for key in volatile:
        expected.pop(key, None)
        actual.pop(key, None)
    out: list[Difference] = []
    _diff("", expected, actual, out.append)
    return out


def _diff(path: str, expected: Any, got: Any, emit: Callable[[Difference], None]) -> None:
    if isinstance(expected, dict) and isinstance(got, dict):
        for key, value in expected.items():
            sub = f"{path}.{key}" if path else key
            _diff(sub, value, got.get(key, ABSENT), emit)
        for key, value in got.items():
            if key not in expected:
                emit(Difference(f"{path}.{key}" if path else key, ABSENT, value))
    elif isinstance(expected, list) and isinstance(got, list):
        for index in range(max(len(expected), len(got))):
            left = expected[index] if index < len(expected) else ABSENT
            right = got[index] if index < len(got) else ABSENT
            _diff(f"{path}[{index}]", left, right, emit)
    elif type(expected) is not type(got) or expected != got:
        emit(Difference(path, expected, got))
