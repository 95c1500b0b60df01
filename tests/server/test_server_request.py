"""Reading a WSGI environ: the checks of server/request.py, driven through the application."""

from __future__ import annotations

import io
import json
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

from dsc_engine.engine import Engine
from dsc_engine.server.app import make_app
from dsc_engine.server.config import AccessKey, ServerConfig

KEY = AccessKey(id="LTAIrequest", secret="request-secret")


def call(environ: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Run the application on ``environ``; ``(status, decoded JSON body)``."""
    setup_testing_defaults(environ)
    environ.setdefault("wsgi.input", io.BytesIO(b""))
    app = make_app(Engine(), ServerConfig(access_keys={KEY.id: KEY}))
    answer: list[str] = []
    body = b"".join(app(environ, lambda status, headers: answer.append(status)))
    return int(answer[0].split()[0]), json.loads(body)


@pytest.mark.parametrize(
    ("length", "reason"),
    [
        ("\u0663", "ASCII digits"),  # ARABIC-INDIC DIGIT THREE: str.isdigit() and int() accept it
        ("\u00b2", "ASCII digits"),  # SUPERSCRIPT TWO, what latin-1 headers can carry: isdigit(), not int()
        ("5" * 5000, "ASCII digits"),  # int() refuses strings of more than 4300 digits
        ("-1", "ASCII digits"),
        ("1e3", "ASCII digits"),
        ("5,5", "more than once"),  # how a WSGI server hands over duplicate headers
        ("5, 7", "more than once"),
    ],
    ids=[
        "arabic-indic", "superscript", "5000-digits", "negative", "exponent",
        "duplicate", "duplicate-differing",
    ],
)
def test_bad_content_length_is_invalid_parameter_not_internal_error(length: str, reason: str) -> None:
    status, body = call({
        "REQUEST_METHOD": "POST", "QUERY_STRING": "Action=DescribeAuditLogs",
        "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": length,
        "wsgi.input": io.BytesIO(b"PageSize=5"),
    })
    assert (status, body["Code"]) == (400, "InvalidParameter"), body
    assert '"Content-Length"' in body["Message"] and reason in body["Message"]


def test_content_length_in_ascii_digits_is_read() -> None:
    status, body = call({
        "REQUEST_METHOD": "POST", "QUERY_STRING": "Action=DescribeAuditLogs",
        "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": "0010",
        "wsgi.input": io.BytesIO(b"PageSize=5"),
    })
    # the body was read and accepted; the request then fails only for want of a signature
    assert (status, body["Code"]) == (400, "IncompleteSignature"), body
