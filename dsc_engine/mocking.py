"""In-process mocking: the official SDK clients reach the engine without a socket, code unchanged.

    import dsc_engine

    def test_report():
        with dsc_engine.mock(records) as cloud:     # or @dsc_engine.mock(records) on a test or
                                                     # a test class, or the dsc_mock fixture
            assert my_report() == 5                  # builds its own Client(Config(...))

How: while a mock is active, the SDK's send functions are replaced (``DaraCore.do_action`` and
``async_do_action`` of ``darabonba``, what ``alibabacloud_tea_openapi`` 0.4 sends with, and the
same two of ``Tea``'s ``TeaCore``, what 0.3 sends with). That is the narrowest point where the
request is complete (signed, every header set) and nothing has touched the network yet. Each
request is turned into a WSGI environ for the server's own :class:`Application`
(``server/inprocess.py``), and its answer into the SDK's response object, so routing, checks and
error bodies are those of ``dsc-engine serve``.

Which requests the mock answers; every other one goes to the real HTTP layer, unchanged:

- any request to an Sddp or DMS endpoint (``sddp[-*].<region>.aliyuncs.com``,
  ``dms-enterprise[-*][.<region>].aliyuncs.com``): an action the engine does not serve, or one
  of the other product (a DMS action at an Sddp endpoint), is answered ``InvalidApi.NotFound``,
  never sent to the cloud;
- a request to any other host naming one of the engine's actions with its version (a custom
  endpoint in the code under test), except to a loopback host (``127.0.0.1``, ``localhost``,
  ``::1``): that is a local server, such as the ``dsc_config`` fixture's, and it answers itself.

Credentials: with no access key configured, any credentials are accepted and may call every
action (as moto does). Given keys (``access_keys=`` or ``config=``), every request is checked as
the server checks it: signature, key, token, time, nonce, then the key's RAM policy. Throttling is
off unless asked for (``throttle(rate)``, or a ``config`` whose throttle is on).

The patch is process-wide, as moto's is: requests from every thread are answered while a mock is
active. Mocks nest; the one started last answers.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import os
import threading
import time
import unittest
from collections.abc import Callable, Iterable, Iterator
from types import SimpleNamespace
from typing import Any, Final, Literal, TypeVar, cast

import attrs

from dsc_engine.engine import Engine
from dsc_engine.server.app import Application
from dsc_engine.server.auth import AnyCredentials
from dsc_engine.server.config import DEFAULT_RATE, AccessKey, ServerConfig, ThrottleConfig, checked_config
from dsc_engine.server.inprocess import (
    Sent,
    check_sendable,
    check_sendable_async,
    intercepts,
    routing,
    serve_request,
)
from dsc_engine.testdata import UNCHANGED, Data, Serving, Unchanged, kept, serving

#: What to install for the SDK-facing parts of dsc-engine (the SDK clients, pytest).
INSTALL_HINT = "pip install 'dsc-engine[test]'"

#: A ServerConfig for tests: no throttling (``ServerConfig()`` throttles at 10 calls/s, as the service).
UNTHROTTLED: Final = ServerConfig(throttle=ThrottleConfig(enabled=False))

F = TypeVar("F", bound=Callable[..., Any])


# ---------------------------------------------------------------------------------------------
# The patch on the SDK's HTTP layer
# ---------------------------------------------------------------------------------------------

#: ``(core module, core class, response module, response class)`` of each SDK generation.
_CORES = (
    ("darabonba.core", "DaraCore", "darabonba.response", "DaraResponse"),
    ("Tea.core", "TeaCore", "Tea.response", "TeaResponse"),
)
#: The cores whose asynchronous send loads the runtime options' ``ca`` and ``cert`` (``Tea``'s
#: reads neither: it verifies against the bundled CA certificates alone).
_ASYNC_CERTIFICATES = frozenset({"DaraCore"})


def _sdk_cores() -> list[tuple[type, type]]:
    """The SDK core classes installed, each with the response class its ``do_action`` returns."""
    found = []
    for core_module, core_name, response_module, response_name in _CORES:
        try:
            core = getattr(importlib.import_module(core_module), core_name)
            response = getattr(importlib.import_module(response_module), response_name)
        except ModuleNotFoundError:
            continue
        found.append((core, response))
    if not found:
        raise ModuleNotFoundError(
            "dsc_engine.mock answers the Alibaba Cloud SDK (alibabacloud_tea_openapi), which is not "
            f"installed: {INSTALL_HINT}", name="darabonba",
        )
    return found


class _Interceptor:
    """Replaces the SDK cores' send functions while at least one mock is active.

    One per process, because the SDK's core classes are: the active mocks are a stack, the
    replaced functions are put back when the last one stops.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: list[EngineMock] = []
        self._saved: list[tuple[type, str, Any]] = []

    def push(self, mock: EngineMock) -> None:
        cores = _sdk_cores()
        with self._lock:
            if not self._active:
                for core, response in cores:
                    self._patch(core, response)
            self._active.append(mock)

    def pop(self, mock: EngineMock) -> None:
        with self._lock:
            self._active.remove(mock)
            if not self._active:
                for core, name, original in reversed(self._saved):
                    setattr(core, name, original)
                self._saved.clear()

    def answering(self, request: Any) -> EngineMock | None:
        """The mock that answers ``request``, or ``None`` when it goes to the network."""
        with self._lock:
            mock = self._active[-1] if self._active else None
        return mock if mock is not None and intercepts(*routing(request)) else None

    def _patch(self, core: type, response: type) -> None:
        # called as the class hands them out: a staticmethod's function, or whatever a test's own
        # patch put there (monkeypatch sets a plain function); put back as they were found
        send = getattr(core, "do_action")
        send_async = getattr(core, "async_do_action")
        # the core's own URL: a request without a host (an empty endpoint) fails as in production
        compose_url = cast(Callable[[Any], str], getattr(core, "compose_url"))
        retry_error = getattr(importlib.import_module(core.__module__), "RetryError")
        certificates = core.__name__ in _ASYNC_CERTIFICATES
        # what the synchronous send logs the exchange with when asked (DEBUG=sdk)
        http_debug = cast(Callable[[Any, Any], None] | None, getattr(core, "_do_http_debug", None))

        def do_action(request: Any, runtime_option: Any = None) -> Any:
            mock = self.answering(request)
            if mock is None:
                return send(request, runtime_option)
            url = compose_url(request)
            sent = check_sendable(request, url, runtime_option, retry_error=retry_error)
            answer = mock.answer(request, sent, response)
            debug = (runtime_option or {}).get("debug") or os.getenv("DEBUG")  # as the core reads it
            if http_debug is not None and debug and debug.lower() == "sdk":
                http_debug(SimpleNamespace(url=url, method=str(request.method).upper(), headers=sent.prepared), answer)
            return answer

        async def async_do_action(request: Any, runtime_option: Any = None) -> Any:
            mock = self.answering(request)
            if mock is None:
                return await send_async(request, runtime_option)
            sent = check_sendable_async(request, compose_url(request), runtime_option, certificates=certificates)
            return mock.answer(request, sent, response)

        for name, replacement in (("do_action", do_action), ("async_do_action", async_do_action)):
            self._saved.append((core, name, core.__dict__[name]))
            setattr(core, name, staticmethod(replacement))


_INTERCEPTOR = _Interceptor()

# ---------------------------------------------------------------------------------------------
# The mock
# ---------------------------------------------------------------------------------------------

#: What pytest calls around each test of a plain class besides the test: run in a decorating mock.
_XUNIT_METHODS = frozenset({"setup_method", "teardown_method"})


class EngineMock:
    """The engine answering the official SDKs in-process while started (``with``, ``start()``,
    or as a decorator); :func:`mock` makes one.

    Each start serves the data afresh (see :func:`serving`); an :class:`Engine` given is served as is.
    """

    def __init__(
        self,
        data: Data = None,
        *,
        config: ServerConfig | None = None,
        access_keys: Iterable[AccessKey] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._data = kept(data)
        if isinstance(access_keys, Iterator):  # read once, here
            access_keys = tuple(access_keys)
        base = UNTHROTTLED if config is None else checked_config(config, "dsc_engine.mock")
        #: the configuration ``reset`` returns to: the last one given, at creation or to ``reset``
        self._base = base.with_keys(access_keys, "dsc_engine.mock")
        #: the keys given as ``access_keys``: checked under every configuration, a reset's too
        self._access_keys = tuple(access_keys)
        #: the configuration requests are checked under
        self.config = self._base
        self._clock = clock
        self._serving: Serving | None = None
        self._app: Application | None = None
        self._started = False
        #: guards starting and stopping: decorated calls may overlap, from threads or tasks
        self._lock = threading.RLock()
        #: decorated calls running in this mock now, and whether one of them started it
        self._calls = 0
        self._started_by_call = False

    @property
    def started(self) -> bool:
        """Whether the mock answers now (started and not stopped since)."""
        return self._started

    @property
    def engine(self) -> Engine:
        """The engine answering (built at each start; still there after ``stop``)."""
        if self._serving is None:
            raise RuntimeError("the mock has not started: its engine is built when it starts")
        return self._serving.engine

    def start(self) -> EngineMock:
        """Start answering, from a clean state: the data served afresh, under the configuration
        given (at creation or to ``reset``); a ``throttle`` of an earlier run is undone, so that
        one test decorated with this mock does not throttle the next."""
        with self._lock:
            if self._started:
                raise RuntimeError("this mock is already started")
            self.config = self._base
            self._serve()
            _INTERCEPTOR.push(self)
            self._started = True
        return self

    def stop(self) -> None:
        with self._lock:
            if not self._started:
                raise RuntimeError("this mock is not started")
            _INTERCEPTOR.pop(self)
            self._started = False

    def reset(
        self, data: Data | Literal[Unchanged.UNCHANGED] = UNCHANGED, *, config: ServerConfig | None = None
    ) -> None:
        """A clean state: ``data`` (by default the data given before) served afresh, under
        ``config`` (by default the last one given, at creation or to ``reset``; a ``throttle`` is
        undone) and the ``access_keys`` given at creation, which stay checked. On a stopped mock
        this takes effect at the next start. Data or a configuration that is refused
        (``RecordError``, ``ServerConfigError``) changes nothing, on a stopped mock too: it is
        refused here, not at every later start."""
        kept_data = self._data if data is UNCHANGED else kept(data)
        base = (
            self._base
            if config is None
            else checked_config(config, "EngineMock.reset").with_keys(self._access_keys, "EngineMock.reset")
        )
        fresh = serving(kept_data, self._serving)  # records refused: raised before any change
        app = self._application(fresh.engine, base)  # stopped too: else every later start fails
        if self._started:
            self._serving, self._app = fresh, app
        self._data, self._base, self.config = kept_data, base, base

    def throttle(self, rate: float = DEFAULT_RATE) -> None:
        """From now until the mock stops or is reset, throttle as the service does: ``rate`` calls
        per second per access key and operation, then ``Throttling.User``. On a mock that is not
        running a ``RuntimeError``: each start begins from the configuration given (a throttle
        asked for between two runs would be lost without a word)."""
        if not self._started:
            raise RuntimeError("the mock is not started: throttle a running mock (each start undoes a throttle)")
        engine = self.engine
        asked = attrs.evolve(self.config, throttle=ThrottleConfig(rate=rate))
        app = self._application(engine, asked)  # a rate that is none: ServerConfigError, nothing changed
        self.config, self._app = asked, app

    def answer(self, request: Any, sent: Sent, response_class: type) -> Any:
        """The SDK response (an instance of ``response_class``) to an SDK request, sent as
        ``sent`` (its request target and headers, as the HTTP layer puts them on the wire)."""
        if self._app is None:
            raise RuntimeError("the mock has not started")
        status, reason, headers, body = serve_request(self._app, request, sent, self._clock())
        response = response_class()
        response.status_code = status
        response.status_message = reason
        response.headers = headers
        response.body = body
        response.response = None
        return response

    def _serve(self) -> None:
        self._serving = serving(self._data, self._serving)
        self._app = self._application(self._serving.engine)

    def _application(self, engine: Engine, config: ServerConfig | None = None) -> Application:
        config = self.config if config is None else config
        authenticator = None if config.access_keys else AnyCredentials()
        return Application(engine, config, self._clock, authenticator=authenticator)

    def __enter__(self) -> EngineMock:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __call__(self, target: F) -> F:
        """Decorate a test (function, coroutine function or generator function) or a test class:
        each call runs inside this mock, started afresh.

        A class keeps being a class (so that pytest still collects it): each of its ``test*``
        methods, its own or inherited, is decorated, as moto decorates classes, and so are its
        ``setup_method`` and ``teardown_method`` (each runs in the mock, a run of its own). On a
        ``unittest.TestCase``, ``setUp``, the test and ``tearDown`` run inside the mock instead.
        A subclass decorated with the same mock runs each test in it once (a decorated call made
        while the mock runs already runs in it as it is); decorated calls that overlap, from
        threads or asyncio tasks, share one run, stopped when the last of them ends.
        An async generator function is refused: nothing here can tell when its consumer is done.
        """
        if inspect.isclass(target):
            return cast(F, self._decorate_class(target))
        return cast(F, self._decorate_function(target))

    @contextlib.contextmanager
    def _running(self) -> Iterator[None]:
        """This mock around one decorated call: started afresh if it is not running, and stopped
        when the last decorated call running in it ends, unless it was started otherwise (``with``,
        ``start()``). A call made while it runs already runs in it as it is: a test calling the
        decorated test of its base class (both classes decorated with this mock), or a decorated
        helper called from several threads or asyncio tasks at once, which share one run."""
        with self._lock:
            if not self._started:
                self.start()
                self._started_by_call = True
            self._calls += 1
        try:
            yield
        finally:
            with self._lock:
                self._calls -= 1
                if not self._calls and self._started_by_call and self._started:
                    self._started_by_call = False
                    self.stop()

    def _decorate_function(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.isasyncgenfunction(func):
            raise TypeError(
                f"dsc_engine.mock cannot decorate the async generator function {func.__qualname__} "
                "(it cannot tell when the generator's consumer is done); start the mock inside it: "
                "'with dsc_engine.mock(...):' around its yields"
            )
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with self._running():
                    return await func(*args, **kwargs)

            return run_async

        if inspect.isgeneratorfunction(func):  # a yielding fixture: the mock lasts until it ends

            @functools.wraps(func)
            def run_generator(*args: Any, **kwargs: Any) -> Any:
                with self._running():
                    return (yield from func(*args, **kwargs))

            return run_generator

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self._running():
                return func(*args, **kwargs)

        return run

    def _decorate_class(self, cls: type) -> type:
        if issubclass(cls, unittest.TestCase):
            self._decorate_test_case(cls)
            return cls
        for name in dir(cls):
            attribute = inspect.getattr_static(cls, name)
            if name in _XUNIT_METHODS and inspect.isfunction(attribute):
                setattr(cls, name, self._decorate_xunit_method(attribute))
            elif not name.startswith("test"):
                continue
            elif isinstance(attribute, staticmethod | classmethod):
                setattr(cls, name, type(attribute)(self._decorate_function(attribute.__func__)))
            elif inspect.isfunction(attribute):
                setattr(cls, name, self._decorate_function(attribute))
        return cls

    def _decorate_xunit_method(self, method: Callable[..., Any]) -> Callable[..., Any]:
        """``setup_method`` or ``teardown_method`` of a plain test class, run in this mock (a run
        of its own, as each test is). pytest hands it the test only if it takes an argument, which
        it tells by counting the function's own (``__code__.co_argcount``): the wrapper takes
        the same."""
        if method.__code__.co_argcount > 1:

            @functools.wraps(method)
            def run_with_test(instance: Any, test: Any) -> Any:
                with self._running():
                    return method(instance, test)

            return run_with_test

        @functools.wraps(method)
        def run(instance: Any) -> Any:
            with self._running():
                return method(instance)

        return run

    def _decorate_test_case(self, cls: type[unittest.TestCase]) -> None:
        """Start the mock before ``setUp``, stop it after ``tearDown`` (a cleanup, so it also
        stops when ``setUp`` or the test fails)."""
        set_up = cls.setUp
        engine_mock = self

        @functools.wraps(set_up)
        def start_then_set_up(case: unittest.TestCase) -> None:
            running = contextlib.ExitStack()
            running.enter_context(engine_mock._running())  # a subclass's setUp may have started it
            case.addCleanup(running.close)
            set_up(case)

        setattr(cls, "setUp", start_then_set_up)  # setattr: mypy refuses assigning to a method


def mock(
    data: Data = None,
    *,
    config: ServerConfig | None = None,
    access_keys: Iterable[AccessKey] = (),
    clock: Callable[[], float] = time.time,
) -> EngineMock:
    """Answer the official SDKs' Sddp and DMS requests from an engine serving ``data``, in-process.

    A context manager (``with mock(records) as cloud``, ``cloud.engine`` is the engine) and a
    decorator (``@mock(records)``). ``data``: records or their API JSON objects, a ``{kind: items}``
    mapping, an :class:`Engine`, or ``None`` for the bundled sample. ``access_keys`` (or the keys
    of ``config``) turn on the server's signature and RAM policy checks; without any, every
    credential is accepted. ``config`` applies as is (``ServerConfig()`` throttles at 10 calls/s);
    by default nothing is throttled. ``clock`` gives epoch seconds to the time checks and throttling.
    """
    return EngineMock(data, config=config, access_keys=access_keys, clock=clock)


__all__ = [
    "INSTALL_HINT",
    "UNTHROTTLED",
    "EngineMock",
    "check_sendable",
    "check_sendable_async",
    "intercepts",
    "mock",
]
