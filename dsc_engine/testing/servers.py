"""What the fixtures of :mod:`dsc_engine.testing` hand out, and ``serve``: :class:`TestServer` (a
running local server, reset between tests, with SDK Configs for it) and :class:`Session` (what the
tests of one pytest session share). Imported when a test first asks for a fixture, or for a name
of :mod:`dsc_engine.testing`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

import attrs

from dsc_engine.engine import Engine
from dsc_engine.errors import ServerConfigError
from dsc_engine.mocking import INSTALL_HINT, UNTHROTTLED, EngineMock
from dsc_engine.server.app import make_app
from dsc_engine.server.config import (
    DEFAULT_RATE,
    AccessKey,
    Limits,
    ServerConfig,
    ThrottleConfig,
    checked_config,
    checked_key,
    generate_access_key,
)
from dsc_engine.server.host import RunningServer
from dsc_engine.testdata import UNCHANGED, Data, Serving, Unchanged, serving

if TYPE_CHECKING:
    from alibabacloud_tea_openapi.models import Config

#: Milliseconds the SDK waits to connect and to read an answer from the local server.
CONNECT_TIMEOUT_MS = 5_000
READ_TIMEOUT_MS = 15_000


def _host_limits(limits: Limits) -> tuple[int, float]:
    """The limits a running host keeps from its start (the others are the application's)."""
    return limits.max_connections, limits.request_timeout


class TestServer:
    """A running server: its engine, access key and address, and SDK Configs for it.

    ``config`` applies as given (``ServerConfig()`` throttles at 10 calls/s, as the service);
    by default nothing is throttled. ``clock`` (epoch seconds) lets a test move time.
    """

    __test__ = False  # not a test class, whatever pytest's collection thinks of the name

    def __init__(
        self,
        data: Data = None,
        *,
        access_key: AccessKey | None = None,
        config: ServerConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.access_key = generate_access_key() if access_key is None else checked_key(
            access_key, "TestServer", "access_key"
        )
        self._clock = clock
        #: the configuration ``reset`` returns to: the last one given, at creation or to ``reset``
        self._base = self._keyed(UNTHROTTLED if config is None else checked_config(config, "TestServer"))
        #: the configuration requests are checked under (with this server's key)
        self.server_config = self._base
        self._serving: Serving = serving(data)
        self._app = make_app(self.engine, self.server_config, clock)
        self._server = RunningServer(self._answer, limits=self.server_config.limits)
        self._stopped = False

    @property
    def stopped(self) -> bool:
        """Whether ``stop`` was called: the server no longer answers (a session starts another)."""
        return self._stopped

    @property
    def engine(self) -> Engine:
        """The engine answering (a new one after each ``reset``, except the unchanged sample)."""
        return self._serving.engine

    @property
    def endpoint(self) -> str:
        return self._server.endpoint

    @property
    def url(self) -> str:
        return self._server.url

    def reset(
        self, data: Data | Literal[Unchanged.UNCHANGED] = UNCHANGED, *, config: ServerConfig | None = None
    ) -> None:
        """A clean state: ``data`` (by default the data given before) served afresh, under ``config``
        (by default the last one given, at creation or to ``reset``; a ``throttle`` is undone),
        nonces forgotten.

        The connection limits (``max_connections``, ``request_timeout``) stay those the server
        started with; a ``config`` asking for others is a :class:`ServerConfigError`. Data or a
        configuration that is refused changes nothing.
        """
        keyed = self._base if config is None else self._keyed(checked_config(config, "TestServer.reset"))
        for name, now, asked in zip(
            ("max_connections", "request_timeout"),
            _host_limits(self._base.limits),
            _host_limits(keyed.limits),
            strict=True,
        ):
            if now != asked:
                raise ServerConfigError(
                    "TestServer.reset", f"limits.{name}",
                    f"a running server keeps the {now} it started with; start a TestServer for {asked}",
                )
        # both built before anything changes: refused records or a rate are raised with none
        fresh = serving(self._serving.data if data is UNCHANGED else data, self._serving)
        app = make_app(fresh.engine, keyed, self._clock)
        self._base = self.server_config = keyed
        self._serving, self._app = fresh, app
        self._server.set_max_body(keyed.limits.max_body_bytes)

    def throttle(self, rate: float = DEFAULT_RATE) -> None:
        """From now until the next reset, throttle as the service does: ``rate`` calls per second
        per access key and operation, then ``Throttling.User``."""
        asked = attrs.evolve(self.server_config, throttle=ThrottleConfig(rate=rate))
        app = make_app(self.engine, asked, self._clock)  # a rate that is none: ServerConfigError, nothing changed
        self.server_config, self._app = asked, app

    def sdk_config(self, access_key: AccessKey | None = None, **overrides: Any) -> Config:
        """A fresh SDK Config for this server (the SDK mutates Configs, so never share one).

        ``access_key`` signs as another configured key; ``overrides`` are Config fields, e.g.
        ``signature_algorithm="v2"`` or ``security_token="..."``.
        """
        try:
            from alibabacloud_tea_openapi.models import Config
        except ModuleNotFoundError as exc:
            raise ModuleNotFoundError(
                f"an SDK Config needs the Alibaba Cloud SDK: {INSTALL_HINT}", name=exc.name
            ) from exc
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
        if not self._stopped:
            self._stopped = True
            self._server.stop()

    def _keyed(self, config: ServerConfig) -> ServerConfig:
        return config.with_keys([self.access_key], "testing")

    def _answer(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._app(environ, start_response)

    def __enter__(self) -> TestServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def serve(
    data: Data = None,
    *,
    access_key: AccessKey | None = None,
    config: ServerConfig | None = None,
    clock: Callable[[], float] = time.time,
    **sdk_overrides: Any,
) -> Iterator[Config]:
    """Serve ``data`` (records, an Engine, or the bundled sample) and yield an SDK Config for it."""
    with TestServer(data, access_key=access_key, config=config, clock=clock) as server:
        yield server.sdk_config(**sdk_overrides)


class Session:
    """What the tests of one pytest session share: a server per set of connection limits (started
    when a test first asks), and one mock."""

    def __init__(self) -> None:
        self._servers: dict[tuple[int, float], TestServer] = {}
        self.mock = EngineMock()

    def server(self, data: Data, config: ServerConfig) -> TestServer:
        """The server for ``config``'s connection limits, reset to serve ``data`` under ``config``;
        a new one if a test stopped it (``dsc_server.stop()``), so that the next tests are served."""
        key = _host_limits(config.limits)
        server = self._servers.get(key)
        if server is None or server.stopped:
            server = self._servers[key] = TestServer(data, config=config)
        else:
            server.reset(data, config=config)
        return server

    def close(self) -> None:
        for server in self._servers.values():
            server.stop()
        self._servers.clear()


__all__ = ["CONNECT_TIMEOUT_MS", "READ_TIMEOUT_MS", "Session", "TestServer", "serve"]
