"""Test your own Alibaba Cloud SDK code against dsc-engine: pytest fixtures, a local server, a mock.

A pytest plugin (registered as ``dsc_engine.testing``, loaded with dsc-engine installed): its
fixtures need no import. Needs the test extra (``pip install 'dsc-engine[test]'``)::

    def test_my_report(dsc_config):          # a ready SDK Config for a local server
        logs = Client(dsc_config).describe_audit_logs(DescribeAuditLogsRequest(page_size=5))
        assert logs.body.total_count > 0

    def test_unchanged_code(dsc_mock):       # the SDK answered in-process, any endpoint/region
        assert my_report() == 3000           # its TotalCount of the bundled sample's audit logs

Fixtures (all function-scoped views of what the session shares; ``docs/server.md``):

- ``dsc_records``: what is served; override it to return records, API JSON objects, a
  ``{kind: items}`` mapping or an ``Engine``. Default ``None``, the bundled sample.
- ``dsc_server_config``: the :class:`ServerConfig` of each test; default: no throttling.
- ``dsc_server``: the session's :class:`TestServer`, reset for the test (``dsc_records`` served
  afresh under ``dsc_server_config``; a new one when an earlier test stopped it), with
  ``HTTP_PROXY`` unset for the test (the SDK would send its requests to the proxy);
  ``dsc_config``: an SDK Config for it.
- ``dsc_mock``: the session's :class:`~dsc_engine.mocking.EngineMock`, reset and started for the test.

One server runs per session (per set of connection limits) and is reset before each test, so a
test costs a few milliseconds. Outside pytest, ``serve(records)`` yields a Config and
:class:`TestServer` gives full control. Each server listens on 127.0.0.1 on a free port, in a
background thread; its Configs have short connect/read timeouts so a broken test fails fast.

Every pytest session on a machine with dsc-engine installed loads this plugin, most of them for
tests that never ask for its fixtures; so this module imports neither the engine, the server
nor the mock (a third of a second at each pytest start): a fixture imports them when a test
first asks for it, and ``TestServer``, ``Session`` and ``serve`` (``testing/servers.py``) are
imported on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

try:
    import pytest
except ModuleNotFoundError as exc:
    from dsc_engine.mocking import INSTALL_HINT

    raise ModuleNotFoundError(
        f"dsc_engine.testing is a pytest plugin and needs pytest and the Alibaba Cloud SDK: {INSTALL_HINT}",
        name=exc.name,
    ) from exc

if TYPE_CHECKING:
    from alibabacloud_tea_openapi.models import Config

    from dsc_engine.mocking import EngineMock
    from dsc_engine.server.config import ServerConfig
    from dsc_engine.testdata import Data
    from dsc_engine.testing.servers import CONNECT_TIMEOUT_MS, READ_TIMEOUT_MS, Session, TestServer, serve

#: The names of ``testing/servers.py`` this module hands out, imported on first use.
_SERVERS = frozenset({"CONNECT_TIMEOUT_MS", "READ_TIMEOUT_MS", "Session", "TestServer", "serve"})


def __getattr__(name: str) -> Any:
    if name not in _SERVERS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.servers"), name)


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def dsc_records() -> Data:
    """What ``dsc_server``, ``dsc_config`` and ``dsc_mock`` serve; override it in a test module,
    class or ``conftest.py``. Default ``None``: the bundled sample."""
    return None


@pytest.fixture
def dsc_server_config() -> ServerConfig:
    """The server configuration of each test (keys, policies, throttling, limits); override it.
    Default: no throttling. ``dsc_mock`` checks signatures only when it names access keys."""
    from dsc_engine.mocking import UNTHROTTLED

    return UNTHROTTLED


@pytest.fixture(scope="session")
def dsc_session() -> Iterator[Session]:
    """The session's servers and mock, which the function-scoped fixtures reset for each test."""
    from dsc_engine.testing.servers import Session

    session = Session()
    yield session
    session.close()


#: The environment variables the SDK takes an ``http://`` request's proxy from. It sends every
#: request through that proxy, to a loopback address too (it ignores ``no_proxy``).
HTTP_PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy")


@pytest.fixture
def dsc_server(
    dsc_session: Session,
    dsc_records: Data,
    dsc_server_config: ServerConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> TestServer:
    """The session's :class:`TestServer`, serving ``dsc_records`` afresh under ``dsc_server_config``.

    For the test, ``HTTP_PROXY`` and ``http_proxy`` are unset (and restored after): the SDK would
    send the local server's requests to that proxy, which cannot reach this machine's loopback.
    """
    for name in HTTP_PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return dsc_session.server(dsc_records, dsc_server_config)


@pytest.fixture
def dsc_config(dsc_server: TestServer) -> Config:
    """A ready SDK Config (endpoint, http, key pair, timeouts) for ``dsc_server``."""
    return dsc_server.sdk_config()


@pytest.fixture
def dsc_mock(
    dsc_session: Session, dsc_records: Data, dsc_server_config: ServerConfig
) -> Iterator[EngineMock]:
    """The SDK answered in-process for the test (``dsc_engine.mock``), serving ``dsc_records``
    afresh under ``dsc_server_config``. The test may stop it (to see its code without the
    cloud); it is stopped after the test if it still runs."""
    engine_mock = dsc_session.mock
    engine_mock.reset(dsc_records, config=dsc_server_config)
    engine_mock.start()
    try:
        yield engine_mock
    finally:
        if engine_mock.started:
            engine_mock.stop()


__all__ = [
    "Session",
    "TestServer",
    "dsc_config",
    "dsc_mock",
    "dsc_records",
    "dsc_server",
    "dsc_server_config",
    "dsc_session",
    "serve",
]
