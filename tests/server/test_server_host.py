"""The threaded host: requests gathered before they take a slot, connection slots, the
whole-request deadline, shutdown while full."""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from dsc_engine.engine import Engine
from dsc_engine.sample import generate
from dsc_engine.server import arrivals, departures, host
from dsc_engine.server.app import Application, make_app
from dsc_engine.server.client import SignedClient
from dsc_engine.server.config import AccessKey, Limits, ServerConfig, ThrottleConfig
from dsc_engine.server.host import RunningServer

KEY = AccessKey(id="LTAIhost", secret="host-secret")


@pytest.fixture(scope="module")
def engine() -> Engine:
    engine = Engine()
    engine.load(generate("audit", 20, seed=5))
    return engine


def serving(engine: Engine, limits: Limits, socket_timeout: float = 5.0) -> RunningServer:
    config = ServerConfig(access_keys={KEY.id: KEY}, throttle=ThrottleConfig(enabled=False), limits=limits)
    return RunningServer(make_app(engine, config), socket_timeout=socket_timeout, limits=limits)


def connection_threads() -> int:
    """Threads serving a connection (``socketserver`` names them after their target)."""
    return sum("process_request_thread" in t.name for t in threading.enumerate())


class Slowloris:
    """``count`` connections sending a request line and then one header byte every ``pace`` s."""

    def __init__(self, server: RunningServer, count: int, pace: float = 0.1) -> None:
        self.sockets = [socket.create_connection((server.host, server.port)) for _ in range(count)]
        self.dropped = [False] * count
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, args=(pace,), daemon=True)
        self._thread.start()

    def _trickle(self, pace: float) -> None:
        for sock in self.sockets:
            sock.sendall(b"GET /?Action=DescribeAuditLogs HTTP/1.1\r\nX-Slow: ")
        while not self._stop.wait(pace):
            for i, sock in enumerate(self.sockets):
                if not self.dropped[i]:
                    try:
                        sock.sendall(b"z")
                    except OSError:
                        self.dropped[i] = True

    def __enter__(self) -> Slowloris:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        for sock in self.sockets:
            sock.close()


class Held:
    """``count`` whole requests sent at once to an application that does not answer until the
    block is left (``Application.__call__`` waits on an event)."""

    def __init__(self, server: RunningServer, count: int, monkeypatch: pytest.MonkeyPatch) -> None:
        self.release = threading.Event()
        answer = Application.__call__
        release = self.release

        def waiting(app: Application, environ: dict[str, Any], start_response: Any) -> list[bytes]:
            release.wait(10)
            return answer(app, environ, start_response)

        monkeypatch.setattr(Application, "__call__", waiting)
        client = SignedClient(server.endpoint, KEY.id, KEY.secret, timeout=15)
        self.statuses: list[int] = []
        self._threads = [
            threading.Thread(target=lambda: self.statuses.append(client.call("DescribeAuditLogs", {})[0]))
            for _ in range(count)
        ]
        for thread in self._threads:
            thread.start()

    def __enter__(self) -> Held:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        for thread in self._threads:
            thread.join()


def test_requests_served_at_once_are_capped_and_the_others_wait(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    before = connection_threads()
    with serving(engine, Limits(max_connections=3, request_timeout=30)) as running:
        with Held(running, 10, monkeypatch) as held:
            time.sleep(0.5)
            assert connection_threads() - before == 3
        assert held.statuses == [200] * 10  # the seven that waited were answered too


def test_slow_senders_hold_no_thread(engine: Engine) -> None:
    before = connection_threads()
    with serving(engine, Limits(max_connections=3, request_timeout=30)) as running:
        with Slowloris(running, 10):
            time.sleep(0.3)
            assert connection_threads() - before == 0


def test_a_client_trickling_its_headers_is_dropped_at_the_request_deadline(engine: Engine) -> None:
    with serving(engine, Limits(request_timeout=1.0), socket_timeout=5.0) as running:
        with Slowloris(running, 1, pace=0.1) as slow:
            started = time.monotonic()
            slow.sockets[0].settimeout(6)
            assert slow.sockets[0].recv(1) == b""  # closed by the server, without an answer
            assert 0.9 < time.monotonic() - started < 3


def test_slowloris_on_more_connections_than_slots_does_not_delay_a_normal_client(engine: Engine) -> None:
    # Slow senders once held a thread each until their deadline: 100 of them kept a normal client
    # of the default 64-thread server waiting the whole request_timeout (30 s).
    with serving(engine, Limits(max_connections=4, request_timeout=30)) as running:
        with Slowloris(running, 40):
            time.sleep(0.2)
            client = SignedClient(running.endpoint, KEY.id, KEY.secret, timeout=10)
            started = time.monotonic()
            status, body = client.call("DescribeAuditLogs", {"PageSize": "1"})
            assert status == 200, body
            assert time.monotonic() - started < 1


def test_past_max_waiting_slow_connections_the_oldest_is_dropped(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(arrivals, "MAX_WAITING", 5)
    with serving(engine, Limits(request_timeout=30)) as running:
        with Slowloris(running, 6, pace=0.05) as slow:
            slow.sockets[0].settimeout(3)
            try:  # the first one, closed to make room (reset if some of its bytes were unread)
                assert slow.sockets[0].recv(1) == b""
            except ConnectionResetError:
                pass
            client = SignedClient(running.endpoint, KEY.id, KEY.secret, timeout=10)
            assert client.call("DescribeAuditLogs", {"PageSize": "1"})[0] == 200
            assert not any(slow.dropped[2:])


def test_a_head_longer_than_is_read_ahead_is_header_fields_too_large(engine: Engine) -> None:
    headers = b"".join(b"X-Long-%d: %s\r\n" % (i, b"v" * 4000) for i in range(80))  # 320 KB
    with serving(engine, Limits()) as running:
        with socket.create_connection((running.host, running.port), timeout=5) as sock:
            sock.sendall(b"GET /?Action=DescribeAuditLogs HTTP/1.1\r\nHost: x\r\n" + headers)
            answer = b""
            while chunk := sock.recv(65536):  # answered although the head has not ended
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 431 ") and b"RequestHeaderFieldsTooLarge" in answer, answer[:200]


@pytest.mark.parametrize(
    ("data", "arrived"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n", False),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", True),
        (b"GET / HTTP/1.1\nHost: x\n\n", True),
        (b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabc", False),
        (b"POST / HTTP/1.1\r\ncontent-length:5\r\n\r\nabcde", True),
        (b"POST / HTTP/1.1\r\ncontent_length: 5\r\n\r\nabc", False),  # read as every header, "_" as "-"
        (b"POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent_length: 5\r\n\r\n", True),  # two: refused
        (b"POST / HTTP/1.1\r\nContent-Length: 2000\r\n\r\nabc", True),  # above max_body: refused unread
        (b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", True),
        (b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", True),
        (b"POST / HTTP/1.1\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n", True),
        (b"\x00garbage\r\n", True),  # not a request line: answered from it alone
        (b"GET / HTTP/1.1\r\nX: " + b"a" * (arrivals.MAX_HEAD_BYTES + 10), None),
        # empty lines before the request line are ignored: neither a head ended nor a bad line
        (b"\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 5\r\n", False),
        (b"\r\n\nPOST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabc", False),
        (b"\r\nPOST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde", True),
    ],
)
def test_request_arrived(data: bytes, arrived: bool | None) -> None:
    assert arrivals.request_arrived(data, max_body=1000) is arrived


@pytest.mark.parametrize(
    ("data", "awaits"),
    [
        (b"POST / HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n", True),
        (b"POST / HTTP/1.1\r\nexpect:100-Continue\n\n", True),
        (b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", False),
        (b"POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", False),  # no 1xx to HTTP/1.0
        (b"POST / HTTP/1.1\r\nExpect: 100-continue\r\n", False),  # the head goes on
        (b"POST / HTTP/1.1\r\nX-Expect: 100-continue\r\n\r\n", False),
        (b"\r\nPOST / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n", True),  # after an empty line
    ],
)
def test_awaits_continue(data: bytes, awaits: bool) -> None:
    assert arrivals.awaits_continue(data) is awaits


def _signed_head(running: RunningServer, form: dict[str, str]) -> tuple[bytes, bytes]:
    """A signed v3 POST of ``form`` with ``Expect: 100-continue``: its head and its body."""
    client = SignedClient(running.endpoint, KEY.id, KEY.secret)
    request = client.prepare("DescribeAuditLogs", {}, form=form)
    target = request.url.split(running.endpoint, 1)[1]
    headers = {**request.headers, "Content-Length": str(len(request.body)), "Expect": "100-continue", "Connection": "close"}
    head = f"POST {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode("ascii"), request.body


def test_a_request_expecting_100_continue_gets_it_before_sending_its_body(engine: Engine) -> None:
    with serving(engine, Limits()) as running:
        head, body = _signed_head(running, {"PageSize": "1", "Lang": "en_us"})
        with socket.create_connection((running.host, running.port), timeout=5) as sock:
            sock.sendall(head)
            interim = b"HTTP/1.1 100 Continue\r\n\r\n"  # a client waits for it (curl: 1 s)
            assert sock.recv(len(interim)) == interim
            sock.sendall(body)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:300]
    assert b'"PageSize": 1' in answer or b'"PageSize":1' in answer, answer[-300:]


def test_a_body_over_the_limit_is_refused_without_100_continue(engine: Engine) -> None:
    with serving(engine, Limits(max_body_bytes=16)) as running:
        head, _ = _signed_head(running, {"PageSize": "1", "Lang": "en_us", "CurrentPage": "1"})
        with socket.create_connection((running.host, running.port), timeout=5) as sock:
            sock.sendall(head)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:300]


def test_stop_returns_while_connections_wait_for_a_slot(engine: Engine) -> None:
    running = serving(engine, Limits(max_connections=1, request_timeout=2.0))
    with Slowloris(running, 3):
        time.sleep(0.2)
        started = time.monotonic()
        running.stop()
        assert time.monotonic() - started < 1  # not held up by the waiting connections


class Slow:
    """An application that takes ``seconds`` to answer; ``entered`` is set once a request is in it."""

    def __init__(self, app: Any, seconds: float) -> None:
        self.app, self.seconds = app, seconds
        self.entered, self.answered = threading.Event(), threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.entered.set()
        time.sleep(self.seconds)
        try:
            return list(self.app(environ, start_response))
        finally:
            self.answered.set()


def test_a_client_that_stops_reading_its_answer_is_dropped_quietly(
    engine: Engine, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # wsgiref printed a TimeoutError traceback on stderr when a write of the answer timed out
    answered = threading.Event()

    def large(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        answered.set()
        return [b"x" * (32 << 20)]  # more than any socket buffers hold

    running = RunningServer(large, socket_timeout=0.3, limits=Limits())
    caplog.set_level("DEBUG", logger="dsc_engine.server")
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        with running:  # stopping waits for the request being served, with the client still there
            sock.connect((running.host, running.port))
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # and never read the answer
            assert answered.wait(5)
    assert "Traceback" not in capsys.readouterr().err
    assert "read no more of the answer" in caplog.text


def test_clients_that_stop_reading_large_answers_hold_no_thread() -> None:
    # each such client held a thread (and a connection slot) until a write of its answer had
    # waited the socket timeout (30 s): max_connections of them kept every other client waiting
    answered = threading.Semaphore(0)

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        size = 32 << 20 if environ["PATH_INFO"] == "/big" else 2  # more than any socket buffers hold
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(size))])
        answered.release()
        return [b"x" * size]

    stalled = []
    with RunningServer(app, socket_timeout=60, limits=Limits(max_connections=2)) as running:
        try:
            for _ in range(3):
                sock = socket.socket()
                stalled.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sock.connect((running.host, running.port))
                sock.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")  # and never read the answer
            for _ in range(2):
                assert answered.acquire(timeout=5)
            with socket.create_connection((running.host, running.port), timeout=15) as sock:
                sock.sendall(b"GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                answer = b""
                while chunk := sock.recv(65536):
                    answer += chunk
            assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"\r\n\r\nxx"), answer
        finally:
            for sock in stalled:
                sock.close()


def test_an_answer_its_client_stops_reading_is_dropped_after_the_socket_timeout() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"x" * (32 << 20)]

    with RunningServer(app, socket_timeout=0.3, limits=Limits()) as running, socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((running.host, running.port))
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(1.5)  # well past the socket timeout, reading nothing
        sock.settimeout(10)
        received = 0
        try:  # what was sent, then the connection's end
            while chunk := sock.recv(1 << 20):
                received += len(chunk)
        except ConnectionResetError:
            pass
        assert 0 < received < 32 << 20


def test_past_the_answers_held_for_slow_readers_the_oldest_is_dropped(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(departures, "MAX_DEPARTING", 1)
    caplog.set_level("INFO", logger="dsc_engine.server")

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"x" * (32 << 20)]

    with RunningServer(app, socket_timeout=60, limits=Limits()) as running:
        first, second = socket.socket(), socket.socket()
        with first, second:
            for sock in (first, second):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sock.connect((running.host, running.port))
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                time.sleep(0.3)  # its answer handed over before the next one's
            first.settimeout(10)
            received = 0
            try:
                while chunk := first.recv(1 << 20):
                    received += len(chunk)
            except ConnectionResetError:
                pass
            assert received < 32 << 20
    assert "dropping the one handed over longest ago" in caplog.text


def test_an_answer_is_not_cut_short_by_bytes_sent_after_the_request() -> None:
    # a client that sent more after its request (a pipelined request, a stray line end after a
    # body) had the connection closed with those bytes unread: the kernel then resets it and
    # drops what of the answer the client had not read yet (5.5 of 8 MiB arrived)
    payload = bytes(range(256)) * (8 << 12)  # 8 MiB: more than the socket buffers hold

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(payload)))])
        return [payload]

    with RunningServer(app, socket_timeout=5, limits=Limits()) as running, socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sock.connect((running.host, running.port))
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(1)  # the answer being written
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # pipelined: left unread
        time.sleep(0.3)
        sock.settimeout(10)
        answer = bytearray()
        while chunk := sock.recv(1 << 16):
            answer += chunk
    assert bytes(answer).partition(b"\r\n\r\n")[2].endswith(payload)


def test_stop_waits_for_answers_being_written_at_most_its_grace() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"x" * (32 << 20)]

    running = RunningServer(app, socket_timeout=60, limits=Limits())
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((running.host, running.port))
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(1)  # the answer is being written, and its client reads no more
        time.sleep(0.3)
        started = time.monotonic()
        running.stop(grace=0.3)
        assert time.monotonic() - started < 10  # not the socket timeout (60 s)
        assert not running._server._departures._thread.is_alive()


def test_a_streamed_answer_its_client_does_not_read_is_not_gathered_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    # an application answering in many parts had every part kept in memory when its client read
    # nothing (no back-pressure): a streamed answer of any size was held whole
    monkeypatch.setattr(host, "MAX_PENDING", 4 << 20)
    produced: list[int] = []
    done = threading.Event()

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            for part in range(100):
                produced.append(part)
                yield b"x" * (1 << 20)
        finally:
            done.set()

    with RunningServer(app, socket_timeout=0.5, limits=Limits()) as running, socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((running.host, running.port))
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # and never read the answer
        assert done.wait(10)
    assert len(produced) < 20  # the parts held: 4 MiB, and what the socket buffers took


def test_a_request_no_thread_could_be_started_for_leaves_the_server_serving(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the exception ended the thread that gathers requests: every later request went unanswered
    starts = socketserver.ThreadingMixIn.process_request
    failures = [RuntimeError("can't start new thread")]

    def start_once_failing(self: Any, request: Any, client_address: Any) -> None:
        if failures:
            raise failures.pop()
        starts(self, request, client_address)

    monkeypatch.setattr(socketserver.ThreadingMixIn, "process_request", start_once_failing)
    with serving(engine, Limits()) as running:
        client = SignedClient(running.endpoint, KEY.id, KEY.secret, timeout=5)
        with pytest.raises(OSError):  # dropped: no thread to answer it
            client.call("DescribeAuditLogs", {})
        assert client.call("DescribeAuditLogs", {})[0] == 200


def _call_in_background(running: RunningServer) -> tuple[threading.Thread, list[int]]:
    statuses: list[int] = []
    client = SignedClient(running.endpoint, KEY.id, KEY.secret, timeout=10)
    thread = threading.Thread(target=lambda: statuses.append(client.call("DescribeAuditLogs", {})[0]))
    thread.start()
    return thread, statuses


def test_stop_lets_the_requests_being_served_finish(engine: Engine) -> None:
    # stop() returned at once and the CLI then closed the engine and exited under the request,
    # whose client got no answer
    config = ServerConfig(access_keys={KEY.id: KEY}, throttle=ThrottleConfig(enabled=False))
    slow = Slow(make_app(engine, config), 0.3)
    running = RunningServer(slow, limits=config.limits)
    thread, statuses = _call_in_background(running)
    assert slow.entered.wait(5)
    running.stop()
    assert slow.answered.is_set()
    thread.join(5)
    assert statuses == [200]


def test_stop_waits_for_requests_being_served_at_most_its_grace(engine: Engine) -> None:
    config = ServerConfig(access_keys={KEY.id: KEY}, throttle=ThrottleConfig(enabled=False))
    slow = Slow(make_app(engine, config), 1.0)
    running = RunningServer(slow, limits=config.limits)
    thread, _ = _call_in_background(running)
    assert slow.entered.wait(5)
    started = time.monotonic()
    running.stop(grace=0.2)
    assert 0.15 < time.monotonic() - started < 0.9
    assert not slow.answered.is_set()
    thread.join(5)


def test_a_body_trickling_past_the_request_deadline_is_request_timeout(engine: Engine) -> None:
    with serving(engine, Limits(request_timeout=1.0)) as running:
        with socket.create_connection((running.host, running.port), timeout=6) as sock:
            sock.sendall(
                b"POST /?Action=DescribeAuditLogs HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nA="
            )
            answer = b""
            sending = True
            started = time.monotonic()
            while time.monotonic() - started < 4:
                if sending:
                    try:
                        sock.sendall(b"z")
                    except OSError:  # the server answered and closed: read the rest of its answer
                        sending = False
                sock.settimeout(0.1)
                try:
                    chunk = sock.recv(65536)
                except TimeoutError:
                    continue
                except OSError:  # reset once the server closed: what arrived is the answer
                    break
                if not chunk:
                    break
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 408 ") and b'"Code": "RequestTimeout"' in answer, answer


def test_nonce_cache_full_is_throttling_503_and_replays_stay_refused(engine: Engine) -> None:
    with serving(engine, Limits(max_nonces=2)) as running:
        client = SignedClient(running.endpoint, KEY.id, KEY.secret)
        first = client.prepare("DescribeAuditLogs", {})
        assert client.send(first)[0] == 200
        assert client.call("DescribeAuditLogs", {})[0] == 200
        answer = client.exchange(client.prepare("DescribeAuditLogs", {}))
        body = json.loads(answer.body)
        assert (answer.status, body["Code"]) == (503, "Throttling")
        assert "limits.max_nonces" in body["Message"]
        # the soonest nonce frees up at the end of its 15 minutes: the wait, in whole milliseconds
        assert 899_000 <= int(answer.headers["x-acs-retry-after"]) <= 901_000
        assert client.send(first)[1]["Code"] == "SignatureNonceUsed"


def test_host_takes_its_limits_from_the_application_config(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    limits = Limits(max_connections=2, request_timeout=1.0)
    config = ServerConfig(access_keys={KEY.id: KEY}, throttle=ThrottleConfig(enabled=False), limits=limits)
    before = connection_threads()
    with RunningServer(make_app(engine, config)) as running, Held(running, 5, monkeypatch):
        time.sleep(0.5)
        assert connection_threads() - before == 2


def _tcp_pair() -> tuple[socket.socket, socket.socket]:
    """A connection over loopback TCP: (the server's end, the client's), the client's receive
    buffer small so that an answer waits in the sender."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.socket()
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.connect(listener.getsockname())
        server, _ = listener.accept()
    return server, client


def _read_all(sock: socket.socket) -> bytes:
    sock.settimeout(20)
    parts = []
    while chunk := sock.recv(1 << 20):
        parts.append(chunk)
    return b"".join(parts)


def test_the_sender_writes_whole_answers_when_there_is_no_socket_timeout() -> None:
    """Without a socket timeout no answer has a deadline: the sender waited ``select(inf)``, which
    raises, so its thread died, cut the answer it held short and took later ones never written."""
    sender = departures.Sender(idle=None)
    payload = bytes(range(256)) * (16 << 12)  # 16 MiB: more than the socket buffers hold
    try:
        for _ in range(2):
            ours, theirs = socket.socketpair()
            with theirs:
                assert sender.add(ours, "peer", payload)
                assert _read_all(theirs) == payload
    finally:
        sender.close(grace=1)


def test_past_the_bytes_held_an_answer_written_whole_is_not_the_one_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer written whole and waiting for its client to close (it sent bytes that were not
    read) frees no bytes: dropping it to make room reset its connection and could cut its end off.
    The oldest answer with bytes left is dropped instead."""
    monkeypatch.setattr(departures, "MAX_DEPARTING_BYTES", 1 << 20)
    sender = departures.Sender(idle=30)
    lingering, lingering_client = _tcp_pair()  # (a reset shows over TCP, not over a socketpair)
    lingering_client.sendall(b"GET / HTTP/1.1\r\n\r\n")  # a pipelined request: left unread
    waiting = [_tcp_pair() for _ in range(2)]
    try:
        answer = bytes(range(256)) * 2048  # 512 KiB: handed whole to the kernel, most of it unread by the client
        assert sender.add(lingering, "first", answer, unread=True)
        time.sleep(0.3)  # written whole, its end sent: waiting for its client to close
        for ours, _ in waiting:
            assert sender.add(ours, "slow", b"x" * (4 << 20))  # clients that read nothing
            time.sleep(0.3)
        assert _read_all(lingering_client) == answer  # the whole answer, then its end: no reset
        try:  # the oldest with bytes left was dropped: reset, or cut short
            received = len(_read_all(waiting[0][1]))
        except ConnectionResetError:
            received = 0
        assert received < 4 << 20
    finally:
        sender.close()
        lingering_client.close()
        for _, theirs in waiting:
            theirs.close()
