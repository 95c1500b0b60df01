"""Hostile requests: whatever parameters a caller passes (any names, any Python values), the engine
answers or refuses with a typed service error, never ``InternalError`` (docs/semantics.md §7).

The other request tests draw valid requests and requests with one or two known faults; these draw
values nobody would send on purpose: text with lone surrogates, NUL and bidi marks, numbers past
64 bits, floats, range strings and LogQueryOpJson texts gone wrong, times at calendar edges,
containers, bytes, arrays, objects whose ``repr`` fails.
"""

from __future__ import annotations

import functools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import odd_requests

from dsc_engine import ApiError, Engine
from dsc_engine.strategies import ACTIONS

#: The codes a refusal may carry: the catalogue's request errors (InternalError is not one).
REFUSALS = ("InvalidParameter", "InvalidApi.NotFound")


@functools.cache
def _engine() -> Engine:
    return Engine.from_sample()


@pytest.mark.parametrize("action", ACTIONS)
@given(data=st.data())
def test_any_parameters_are_answered_or_refused_with_a_request_error(action: str, data: st.DataObject) -> None:
    params = data.draw(odd_requests(action), label="params")
    try:
        body = _engine().call(action, params, request_id="H-1")
    except ApiError as error:
        assert error.code in REFUSALS or error.code.startswith("Missing"), (error.code, error.__cause__)
        assert error.http_status == 400 and error.body["RequestId"] == "H-1"
        assert error.message  # and it prints
    else:
        assert body["RequestId"] == "H-1"
