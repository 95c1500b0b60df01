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

A call the service's gateway refused is skipped, not compared: a recorded 5xx, or a code of the
gateway (``Throttling*``, ``IncompleteSignature``, ``SignatureDoesNotMatch``, ``SignatureNonceUsed``,
``InvalidTimeStamp*``, ``InvalidAccessKeyId*``, ``InvalidSecurityToken*``, ``Forbidden*``). Those
answers are about how and when the call was sent (too fast, an expired token, a key without the
permission, an outage), not about what it asked, and the engine, which neither signs nor throttles,
cannot reproduce them; the report names each skipped call and the code. The API's own refusals
(``InvalidParameter``, ``Missing<Name>``, ``InvalidApi.NotFound``) are compared as any answer.

A page's item list (each operation's list key) is compared as a list of records first: records
the engine left out, records it added (``50 extra records (Items[50..99])``, saying how many of
them repeat another record of the page, as records loaded twice do) and records in another
order are named as such; fields are compared only between records that line up.

:func:`record` writes a capture from calls answered by the engine itself, so the format round-trips.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import attrs

from dsc_engine.api.common import COMMON_PARAMS, V2_SIGNATURE_PARAMS
from dsc_engine.api.errors import ApiError
from dsc_engine.api.router import Caller as Caller  # what calls are replayed against (cli.demo's too)
from dsc_engine.api.operations import OPERATIONS
from dsc_engine.errors import ImportFailure, UsageError
from dsc_engine.io.jsontext import decode_error, utf8_text
from dsc_engine.io import sources
from dsc_engine.io.sources import UNENDED
from dsc_engine.wire.strictjson import NotJson, RepeatedKey, no_constant, unique_keys

_ALLOWED_KEYS = frozenset({"action", "params", "response", "version", "status"})
#: How deeply a capture line may nest (a call with an API response nests 6 levels);
#: comparing and showing a deeper one would recurse past Python's limit.
MAX_DEPTH = 64
_RECOMMEND_ID = re.compile(r"([?&]requestId=)[^&]*")
#: The keys of the record lists of the operations' pages (compared as lists of records).
RECORD_LISTS = frozenset(operation.list_key for operation in OPERATIONS.values())
#: How many runs of indices a message about records shows before "…".
SHOWN_RUNS = 6
#: Codes (and code families) of the gateway's refusals, which replay skips (module docstring).
GATEWAY_CODES = ("IncompleteSignature", "SignatureDoesNotMatch", "SignatureNonceUsed")
GATEWAY_CODE_FAMILIES = ("Throttling", "InvalidTimeStamp", "InvalidAccessKeyId", "InvalidSecurityToken", "Forbidden")


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
class ValueDifference:
    """One value of an answer that is not the captured one: at ``path`` (``Items[0].Id``;
    ``(HTTP status)`` for the status, empty for the whole body), ``expected`` the capture's and
    ``got`` the answer's, :data:`ABSENT` where one of them lacks the key."""

    path: str
    expected: Any
    got: Any

    def __str__(self) -> str:
        return f"{self.path or '(response)'}: expected {_show(self.expected)}, got {_show(self.got)}"


@attrs.frozen
class RecordsDifference:
    """Whole records of a page's item list (at ``path``) that the engine left out, added, or
    put in another order: ``expected_at`` are places in the capture, ``got_at`` in the answer."""

    path: str
    what: str  # "missing", "extra" or "moved"
    expected_at: tuple[int, ...] = ()
    got_at: tuple[int, ...] = ()
    repeats: int = 0  # extra records equal to another record of the answer's page

    def __str__(self) -> str:
        if self.what == "missing":
            return f"{self.path}: {_records(len(self.expected_at), 'missing')} ({_places(self.path, self.expected_at)})"
        if self.what == "extra":
            text = f"{self.path}: {_records(len(self.got_at), 'extra')} ({_places(self.path, self.got_at)}"
            if self.repeats == len(self.got_at) == 1:
                text += "; it repeats another record of the page"
            elif self.repeats:
                share = f"all {self.repeats}" if self.repeats == len(self.got_at) else str(self.repeats)
                text += f"; {share} repeat{'s' if self.repeats == 1 else ''} another record of the page"
            return text + ")"
        return (
            f"{self.path}: {_records(len(self.expected_at))} in another order"
            f" (expected {_places(self.path, self.expected_at)}, got {_places(self.path, self.got_at)})"
        )


def _records(n: int, adjective: str = "") -> str:
    noun = "record" if n == 1 else "records"
    return f"{n} {adjective} {noun}" if adjective else f"{n} {noun}"


def _places(path: str, indices: tuple[int, ...]) -> str:
    """``Items[3]``, ``Items[10..12]``, ``Items[1, 3, 5, …, 99]``: runs of 3 or more as ranges."""
    runs: list[list[int]] = []
    ascending = all(a < b for a, b in zip(indices, indices[1:]))  # once: per index it was quadratic
    for index in indices:
        if runs and index == runs[-1][-1] + 1 and ascending:
            runs[-1].append(index)
        else:
            runs.append([index])
    parts: list[str] = []
    for run in runs:
        parts.extend([f"{run[0]}..{run[-1]}"] if len(run) > 2 else map(str, run))
    if len(parts) > SHOWN_RUNS + 1:
        parts = [*parts[:SHOWN_RUNS], "…", parts[-1]]
    return f"{path}[{', '.join(parts)}]"


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, (str, _Absent)) else utf8_text(value)
    return text if len(text) <= 200 else text[:197] + "..."


#: What a byte that is not UTF-8 decodes to with ``surrogateescape``.


@attrs.frozen
class CallResult:
    call: Call
    differences: tuple[ValueDifference | RecordsDifference, ...]
    #: why the call was not compared (the gateway refused it), or ``None``
    skipped: str | None = None

    @property
    def matched(self) -> bool:
        return not self.differences and self.skipped is None


@attrs.frozen
class ReplayReport:
    results: tuple[CallResult, ...]

    @property
    def matched(self) -> int:
        return sum(r.matched for r in self.results)

    @property
    def skipped(self) -> int:
        return sum(r.skipped is not None for r in self.results)

    @property
    def ok(self) -> bool:
        return self.matched + self.skipped == len(self.results)

    def lines(self) -> Iterator[str]:
        """The human report: one line per call, then its differences (or why it was skipped)
        indented."""
        for result in self.results:
            call = result.call
            verdict = "skip" if result.skipped else "ok  " if result.matched else "DIFF"
            yield f"{verdict} line {call.line}: {call.action} {_show(dict(call.params))}"
            if result.skipped:
                yield f"     {result.skipped}"
            for difference in result.differences:
                yield f"     {difference}"
        summary = f"{self.matched} of {len(self.results)} call(s) matched"
        if self.skipped:
            summary += f", {self.skipped} skipped (refused by the service's gateway)"
        yield summary


# ---------------------------------------------------------------------------------------------
# Reading and writing captures
# ---------------------------------------------------------------------------------------------


def read_calls(path: str | os.PathLike[str], *, need_response: bool = True) -> list[Call]:
    """The calls of a capture (or, with ``need_response=False``, of a request list): JSON Lines,
    UTF-8 (byte order marks are dropped, at the start of any line, as from captures joined with
    ``cat``), gzip'd or not, read as the importer reads files."""
    name = os.fspath(path)
    calls = []
    for number, line in enumerate(sources.lines(sources.chunks(Path(name))), 1):
        if isinstance(line, sources.LongLine):
            raise ImportFailure(name, line.reason, number)
        try:
            text = sources.strip_bom(line).decode("utf-8")  # on any line: captures joined with cat
        except UnicodeDecodeError:
            raise ImportFailure(name, "not valid UTF-8; a capture must be UTF-8 encoded", number) from None
        if not text.strip():
            continue
        try:
            calls.append(_call(name, number, text, need_response))
        except ImportFailure as exc:
            if not isinstance(line, sources.Unended):
                raise
            raise ImportFailure(name, exc.reason + UNENDED, number) from None  # a call cut short
    if not calls:
        raise ImportFailure(name, "holds no calls")
    return calls


class Unreadable(ValueError):
    """Why JSON text cannot be part of a capture (``str()`` is the reason)."""


def load_json(text: str, *, max_depth: int = MAX_DEPTH, what: str = "a call") -> Any:
    """JSON text as a capture line is read: strictly, so that what is compared is what the text
    says. ``NaN`` and ``Infinity`` (which Python reads and JSON does not have), a key given twice
    in one object (of which Python keeps the last, silently), an integer of more than 4,300 digits
    and nesting deeper than ``max_depth`` (levels ``what`` may nest, for the message) raise
    :class:`Unreadable`."""
    try:
        data = json.loads(text, object_pairs_hook=unique_keys, parse_constant=no_constant)
    except NotJson as exc:
        raise Unreadable(f"{exc.word} is not JSON (a number must be finite)") from None
    except RepeatedKey as exc:
        raise Unreadable(f"an object names {exc.key!r} twice (which one would be compared?)") from None
    except json.JSONDecodeError as exc:
        raise Unreadable(decode_error(exc)) from None
    except RecursionError:
        raise Unreadable(f"JSON nested too deeply to read ({what} may nest {max_depth} levels)") from None
    except ValueError:  # an integer with more digits than Python converts (4,300 by default)
        raise Unreadable(
            "an integer with too many digits to read, outside the signed 64-bit range of the API's integers"
        ) from None
    depth = _depth(data)
    if depth > max_depth:
        raise Unreadable(f"JSON nested too deeply: {depth} levels, more than the {max_depth} {what} may nest")
    return data


def _call(name: str, number: int, text: str, need_response: bool) -> Call:
    def fail(reason: str) -> ImportFailure:
        return ImportFailure(name, reason, number)

    try:
        data = load_json(text)
    except Unreadable as exc:
        raise fail(str(exc)) from None
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
    odd = next((name for name, value in params.items() if not isinstance(value, str)), None)
    if odd is not None:  # a number or null would be answered as its text, or as absent: not as sent
        raise fail(f"'params' hold the parameters as sent, as strings; {odd!r} is {json.dumps(params[odd])}")
    if need_response and not isinstance(response, dict):
        raise fail("'response' must be the JSON object the service returned")
    where = "'status'"
    if isinstance(response, dict):
        unwrapped, status = _unwrapped(response, status, "status" in data, fail)
        if unwrapped is not response and "status" not in data:
            where = "the response's 'statusCode'"
        response = unwrapped
    if version is not None and not isinstance(version, str):
        raise fail("'version' must be a string")
    params, version = _api_params(params, action, version, fail)
    if type(status) is not int or not 100 <= status <= 599:  # a mistyped 2000 would be skipped as a 5xx
        raise fail(f"{where} must be an HTTP status, an integer from 100 to 599; it is {json.dumps(status)}")
    return Call(action, params, response, version, status, number)


def _api_params(
    params: dict[str, str], action: str, version: str | None, fail: Callable[[str], ImportFailure]
) -> tuple[dict[str, str], str | None]:
    """A call's API parameters and version: a capture of requests as they were sent may keep the
    common parameters (``Action``, ``Version``, ``Format``, ``RegionId``) and a v2 signature's
    (``Signature``, ``Timestamp``, ...), which the service's gateway consumes; they are read as
    the server reads them. ``Version`` is the call's version; an ``Action`` or ``Version`` that
    says otherwise than the call's own key, or a ``Format`` other than JSON, is a bad line."""
    named = params.get("Action") or None  # empty counts as absent, as the server reads it
    if named is not None and named != action:
        raise fail(f"'params' name Action {named!r} but the call's action is {action!r}")
    given = params.get("Version") or None
    if given is not None and version is not None and given != version:
        raise fail(f"'params' name Version {given!r} but the call's version is {version!r}")
    fmt = params.get("Format") or None
    if fmt is not None and fmt.lower() != "json":
        raise fail(f"'params' ask for Format {fmt!r}: the engine answers JSON only, as compared here")
    dropped = COMMON_PARAMS - {"RegionId"}  # RegionId the engine reads (and ignores) itself
    if "Signature" in params:
        dropped |= V2_SIGNATURE_PARAMS
    if not dropped & params.keys():
        return params, version
    return {k: v for k, v in params.items() if k not in dropped}, version or given


def _unwrapped(
    response: dict[str, Any], status: object, status_given: bool, fail: Callable[[str], ImportFailure]
) -> tuple[dict[str, Any], object]:
    """A response as an official SDK hands it back, unwrapped, with its HTTP status: a result's
    map (``.to_map()``: ``headers``, ``statusCode``, ``body``) is its ``body``, and a refusal's
    ``TeaException.data`` (the error body plus ``statusCode``) is the error body. A ``status``
    written beside it must agree with its ``statusCode``. Anything else is the body as it is."""
    if isinstance(response.get("body"), dict) and set(response) <= {"headers", "statusCode", "body"}:
        code, body = response.get("statusCode", status), response["body"]
    elif "statusCode" in response and "Code" in response:
        code, body = response["statusCode"], {k: v for k, v in response.items() if k != "statusCode"}
    else:
        return response, status
    if status_given and code != status:
        raise fail(f"'status' {json.dumps(status)} disagrees with the response's statusCode {json.dumps(code)}")
    return body, code


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
        odd = next((name for name, value in request.params.items() if not isinstance(value, str)), None)
        if odd is not None:  # written as a number or null, the capture would not read back (read_calls)
            value = request.params[odd]
            raise UsageError(f"params[{odd!r}]", value, "a capture holds the parameters as sent, as strings"
                             f" (it would not read back otherwise); {odd!r} is {value!r}")
        status, body = answer(engine, request)
        recorded = attrs.evolve(request, response=body, status=status)
        out.write(utf8_text(recorded.to_json()) + "\n")
        count += 1
    return count


# ---------------------------------------------------------------------------------------------
# Comparing
# ---------------------------------------------------------------------------------------------


def gateway_refusal(call: Call) -> str | None:
    """Why replay skips ``call`` (the service's gateway refused it), or ``None`` to compare it."""
    code = (call.response or {}).get("Code")
    shown = f" {code}" if isinstance(code, str) else ""
    if call.status >= 500:
        return f"skipped: the service failed ({call.status}{shown}); nothing to compare"
    if isinstance(code, str) and (
        code in GATEWAY_CODES or any(code == f or code.startswith(f + ".") for f in GATEWAY_CODE_FAMILIES)
    ):
        return (
            f"skipped: the service's gateway refused the call ({call.status} {code}), which says how "
            "or when it was sent, not what it asked; the engine neither signs nor throttles"
        )
    return None


def replay(engine: Caller, calls: Iterable[Call]) -> ReplayReport:
    """Re-run every call and compare the engine's answers with the recorded ones (a call the
    gateway refused is skipped: :func:`gateway_refusal`)."""
    results = []
    for call in calls:
        if call.response is None:  # a request list's call (read_calls(need_response=False))
            raise UsageError("calls", call.action, f"the call of line {call.line} has no recorded response to"
                             " compare with; a request list is answered by record(), not replayed")
        refusal = gateway_refusal(call)
        if refusal is not None:
            results.append(CallResult(call, (), refusal))
            continue
        status, body = answer(engine, call)
        differences = compare(call, body)
        if status != call.status:
            differences.insert(0, ValueDifference("(HTTP status)", call.status, status))
        results.append(CallResult(call, tuple(differences)))
    return ReplayReport(tuple(results))


def compare(call: Call, got: Mapping[str, Any]) -> list[ValueDifference | RecordsDifference]:
    """The differences between the recorded response of ``call`` and ``got``, volatile fields aside."""
    expected = dict(call.response or {})
    actual = dict(got)
    volatile = {"RequestId"}
    if not str(call.params.get("AsyncRequestId", "") or ""):
        volatile.add("AsyncRequestId")
    if "Code" in expected:  # an error body: its HostId names the host that answered
        volatile.add("HostId")
        for body in (expected, actual):
            if isinstance(body.get("Recommend"), str):
                body["Recommend"] = _RECOMMEND_ID.sub(r"\1<RequestId>", body["Recommend"])
    for key in volatile:
        expected.pop(key, None)
        actual.pop(key, None)
    out: list[ValueDifference | RecordsDifference] = []
    _diff("", expected, actual, out.append)
    return out


Emit = Callable[[ValueDifference | RecordsDifference], None]


def _diff(path: str, expected: Any, got: Any, emit: Emit) -> None:
    if isinstance(expected, dict) and isinstance(got, dict):
        for key, value in expected.items():
            sub = f"{path}.{key}" if path else key
            other = got.get(key, ABSENT)
            if not path and key in RECORD_LISTS and isinstance(value, list) and isinstance(other, list):
                _diff_records(sub, value, other, emit)
            else:
                _diff(sub, value, other, emit)
        for key, value in got.items():
            if key not in expected:
                emit(ValueDifference(f"{path}.{key}" if path else key, ABSENT, value))
    elif isinstance(expected, list) and isinstance(got, list):
        for index in range(max(len(expected), len(got))):
            left = expected[index] if index < len(expected) else ABSENT
            right = got[index] if index < len(got) else ABSENT
            _diff(f"{path}[{index}]", left, right, emit)
    elif type(expected) is not type(got) or expected != got:
        emit(ValueDifference(path, expected, got))


def _diff_records(path: str, expected: list[Any], got: list[Any], emit: Emit) -> None:
    """Compare two item lists as lists of records (see the module docstring): whole records
    missing, extra or moved first, then the fields of the records that line up."""
    left = [_canonical(item) for item in expected]
    right = [_canonical(item) for item in got]
    missing: list[int] = []
    extra: list[int] = []
    paired: list[tuple[int, int]] = []
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        both = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        paired.extend((i1 + k, j1 + k) for k in range(both))
        missing.extend(range(i1 + both, i2))
        extra.extend(range(j1 + both, j2))
    moved = _moved(left, right, missing, extra)
    if moved:
        gone = {i for i, _ in moved}
        came = {j for _, j in moved}
        missing = [i for i in missing if i not in gone]
        extra = [j for j in extra if j not in came]
        emit(RecordsDifference(path, "moved", tuple(i for i, _ in moved), tuple(j for _, j in moved)))
    if missing:
        emit(RecordsDifference(path, "missing", expected_at=tuple(missing)))
    if extra:
        counts = Counter(right)
        repeats = sum(counts[right[j]] > 1 for j in extra)
        emit(RecordsDifference(path, "extra", got_at=tuple(extra), repeats=repeats))
    for i, j in paired:
        place = f"{path}[{i}]" if i == j else f"{path}[{i}→{j}]"
        _diff(place, expected[i], got[j], emit)


def _moved(left: list[str], right: list[str], missing: list[int], extra: list[int]) -> list[tuple[int, int]]:
    """Missing records that are among the extra ones (the same content elsewhere), paired in order."""
    places: dict[str, list[int]] = {}
    for j in extra:
        places.setdefault(right[j], []).append(j)
    moved = []
    for i in missing:
        found = places.get(left[i])
        if found:
            moved.append((i, found.pop(0)))
    return moved


def _canonical(item: Any) -> str:
    return json.dumps(item, sort_keys=True, ensure_ascii=False)
