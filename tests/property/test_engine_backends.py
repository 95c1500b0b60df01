"""The memory engine and each database backend answer alike: the same request gives the same
response body or the same error (RequestId and a generated AsyncRequestId aside), the same filter
text the same page or the same error.

Records are the bundled sample's first records of each kind and ``EDGE_RECORDS`` (NUL, case
folding beyond ASCII, the 64-bit bounds, the years 1 and 9999); requests are valid ones, ones
with a known fault and hostile ones; filters are texts whose literals are those edge values.
The SQL backends draw fewer examples (``backends.examples``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from backends import SQL_NAMES, Opened, examples, open_backend
from hypothesis import given
from hypothesis import strategies as st
from strategies import EDGE_RECORDS, edge_filters, odd_requests

from dsc_engine import ApiError, Engine
from dsc_engine.errors import DscError
from dsc_engine.models import RecordKind
from dsc_engine.sample import bundled
from dsc_engine.strategies import ACTIONS, invalid_requests, requests
from dsc_engine.wire.codec import to_wire

SAMPLE_RECORDS = 150  # of each kind


def _fill(engine: Engine) -> Engine:
    for kind in RecordKind:
        engine.load(list(bundled(kind))[:SAMPLE_RECORDS])
        engine.load(EDGE_RECORDS[kind], kind)
    return engine


@functools.cache
def _memory() -> Engine:
    return _fill(Engine())


@pytest.fixture(scope="module", params=SQL_NAMES)
def backend(request: pytest.FixtureRequest) -> Iterator[Opened]:
    opened = open_backend(request.param)
    _fill(opened.engine)
    yield opened
    opened.close()


def _outcome(run: Callable[[Engine], Any], engine: Engine) -> tuple[str, Any]:
    try:
        return "answer", run(engine)
    except ApiError as error:
        assert error.code != "InternalError", error.__cause__
        body = dict(error.body)
        body.pop("RequestId")
        body.pop("Recommend")
        return "refused", body
    except DscError as error:
        return type(error).__name__, str(error)


def _request(action: str, params: dict[Any, Any]) -> Callable[[Engine], Any]:
    def run(engine: Engine) -> Any:
        body = engine.call(action, params)
        body.pop("RequestId")
        if not params.get("AsyncRequestId"):  # made up afresh when not given
            body.pop("AsyncRequestId", None)
        return body

    return run


@st.composite
def _any_request(draw: st.DrawFn) -> tuple[str, dict[Any, Any]]:
    action = draw(st.sampled_from(ACTIONS))
    params = draw(st.one_of(
        requests(action), requests(action, wire=False), invalid_requests(action).map(lambda pair: pair[0]),
        odd_requests(action),
    ))
    return action, params


def test_requests_answer_alike_on_every_backend(backend: Opened) -> None:
    @examples(backend.name)
    @given(_any_request())
    def check(request: tuple[str, dict[Any, Any]]) -> None:
        run = _request(*request)
        assert _outcome(run, backend.engine) == _outcome(run, _memory())

    check()


def _page(kind: RecordKind, text: str, page: int, size: int) -> Callable[[Engine], Any]:
    def run(engine: Engine) -> Any:
        found = engine.query(kind, text, page, size)
        return found.total, [to_wire(record) for record in found.records]

    return run


def test_edge_filters_answer_alike_on_every_backend(backend: Opened) -> None:
    @examples(backend.name)
    @given(
        st.sampled_from(list(RecordKind)).flatmap(lambda kind: st.tuples(st.just(kind), edge_filters(kind))),
        st.integers(1, 3),
        st.sampled_from((1, 7, 50)),
    )
    def check(filtered: tuple[RecordKind, str], page: int, size: int) -> None:
        run = _page(*filtered, page, size)
        assert _outcome(run, backend.engine) == _outcome(run, _memory())

    check()
