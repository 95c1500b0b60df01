"""Test your own Alibaba Cloud SDK code against dsc-engine: a local server and a ready SDK Config.

Needs the test extra (``pip install 'dsc-engine[test]'``: pytest and the SDK packages)::

    from alibabacloud_sddp20190103.client import Client
    from alibabacloud_sddp20190103.models import DescribeAuditLogsRequest
    from dsc_engine.testing import dsc_config  # noqa: F401  (a pytest fixture)

    def test_my_report(dsc_config):
        logs = Client(dsc_config).describe_audit_logs(DescribeAuditLogsRequest(page_size=5))
        assert logs.body.total_count > 0

The fixture serves the bundled sample; define a ``dsc_records`` fixture (returning records, or an
``Engine``) in your module or ``conftest.py`` to serve your own. ``dsc_server`` gives the running
:class:`TestServer` itself (its engine, key, and more Configs). Outside pytest::

    with serve(records) as config:
        client = Client(config)

Each server listens on 127.0.0.1 on a free port, in a background thread, and stops when the
``with`` block (or the test) ends. The Config has short connect/read timeouts so a broken test
fails fast instead of hanging.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from alibabacloud_tea_openapi.models import Config

from dsc_engine.engine import Engine
from dsc_engine.models.records import Record
from dsc_engine.server.app import make_app
from dsc_engine.server.config import AccessKey, ServerConfig, generate_access_key
from dsc_engine.server.host import RunningServer

#: Milliseconds the SDK waits to connect and to read an answer from the local server.
CONNECT_TIMEOUT_MS = 5_000
READ_TIMEOUT_MS = 15_000


class TestServer:
    """A running server: its engine, access key and address, and SDK Configs for it."""

    __test__ = False  # not a test class, whatever pytest's collection thinks of the name

    def __init__(
        self,
        data: Engine | Iterable[Record] | None = None,
        *,
        access_key: AccessKey | None = None,
        config: ServerConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = _engine(data)
        self.access_key = access_key or generate_access_key()
        self.server_config = (config or ServerConfig()).with_keys([self.access_key], "testing")
        self._server = RunningServer(make_app(self.engine, self.server_config, clock))

    @property
    def endpoint(self) -> str:
        return self._server.endpoint

    @property
    def url(self) -> str:
        return self._server.url

    def sdk_config(self, access_key: AccessKey | None = None, **overrides: Any) -> Config:
        """A fresh SDK Config for this server (the SDK mutates Configs, so never share one).

        ``access_key`` signs as another configured key; ``overrides`` are Config fields, e.g.
        ``signature_algorithm="v2"`` or ``security_token="..."``.
        """
        key = access_key or self.access_key
        fields: dict[str, Any] = {
            "access_key_id": key.id,
            "access_key_secret": key.secret,
            "endpoint": self.endpoint,
            "protocol": "http",
            "region_id": "cn-hangzhou",
            "connect_timeout": CONNECT_TIMEOUT_MS,
            "read_timeout": READ_TIMEOUT_MS,
        }
        fields.update(overrides)
        return Config(**fields)

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> TestServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _engine(data: Engine | Iterable[Record] | None) -> Engine:
    if data is None:
        return Engine.from_sample()
    if isinstance(data, Engine):
        return data
    engine = Engine()
    engine.load(list(data))
    return engine


@contextlib.contextmanager
def serve(
    data: Engine | Iterable[Record] | None = None,
    *,
    access_key: AccessKey | None = None,
    config: ServerConfig | None = None,
    clock: Callable[[], float] = time.time,
    **sdk_overrides: Any,
) -> Iterator[Config]:
    """Serve ``data`` (records, an Engine, or the bundled sample) and yield an SDK Config for it."""
    with TestServer(data, access_key=access_key, config=config, clock=clock) as server:
        yield server.sdk_config(**sdk_overrides)


def _records(request: pytest.FixtureRequest) -> Engine | Iterable[Record] | None:
    """The test's ``dsc_records`` fixture if it has one (records or an Engine), else None."""
    try:
        return request.getfixturevalue("dsc_records")  # type: ignore[no-any-return]
    except pytest.FixtureLookupError:
        return None


@pytest.fixture
def dsc_server(request: pytest.FixtureRequest) -> Iterator[TestServer]:
    """A :class:`TestServer` running for one test, serving ``dsc_records`` (default: the sample)."""
    with TestServer(_records(request)) as server:
        yield server


@pytest.fixture
def dsc_config(request: pytest.FixtureRequest) -> Iterator[Config]:
    """A ready SDK Config (endpoint, http, key pair, timeouts) for a server running for one test.

    Shares the test's ``dsc_server`` when that fixture is in scope; otherwise runs its own, so
    importing ``dsc_config`` alone is enough.
    """
    try:
        server: TestServer = request.getfixturevalue("dsc_server")
    except pytest.FixtureLookupError:
        with TestServer(_records(request)) as own:
            yield own.sdk_config()
        return
    yield server.sdk_config()


__all__ = ["TestServer", "dsc_config", "dsc_server", "serve"]
