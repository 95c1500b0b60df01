"""Calling the service at its pace: a client-side rate limit, and retries with backoff.

The service lets a key call an operation 10 times a second and answers ``Throttling.User`` past
that. :class:`RateLimiter` spaces calls at least ``1/rate`` seconds apart, so a pull stays under
the limit on its own. What still fails for a while (``Throttling*`` codes, 5xx, no answer at all)
is retried by :class:`Paced` after an exponential backoff with jitter, capped
(:class:`Backoff`), or after the wait the service asked for (``x-acs-retry-after``) when that is
longer, up to :data:`MOST_ASKED_WAIT` as the SDK's own retries do; any other refusal (a wrong key, a missing permission, a bad parameter) is
raised at once with the service's code and message.

Time is injected (``clock``: monotonic seconds, ``sleep``), and so is the randomness of the
jitter, so tests run without waiting.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from dsc_engine.api.spec import Operation
from dsc_engine.errors import UpstreamError
from dsc_engine.pull.upstream import Upstream

#: The service's flow-control limit: calls per second per access key and operation.
SERVICE_RATE = 10.0
#: The longest wait the service may ask for before a retry that is honoured (seconds; the SDK's
#: own retry policy caps it there too).
MOST_ASKED_WAIT = 120.0

Sleep = Callable[[float], None]
Clock = Callable[[], float]


class RateLimiter:
    """At most ``rate`` calls a second: each call waits until ``1/rate`` s after the previous one."""

    def __init__(self, rate: float, clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        if not rate > 0:
            raise ValueError(f"a rate must be positive, not {rate}")
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next: float | None = None

    def wait(self) -> None:
        now = self._clock()
        if self._next is not None and now < self._next:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + self.interval


@attrs.frozen
class Backoff:
    """Delays before retries: ``base * 2**n`` seconds for the n-th retry (from 0), at most
    ``cap``, drawn between half of that and all of it (jitter keeps concurrent pullers apart);
    at most ``retries`` retries of one call."""

    base: float = 0.5
    cap: float = 30.0
    retries: int = 8

    def delay(self, retry: int, draw: Callable[[float, float], float]) -> float:
        ceiling = min(self.cap, self.base * 2.0**retry)
        return draw(ceiling / 2, ceiling)


@attrs.define
class CallStats:
    """What the calls of a pull took: ``calls`` made (retries included), ``retries``, seconds
    ``waited`` in backoff, and the codes that were retried."""

    calls: int = 0
    retries: int = 0
    waited: float = 0.0
    retried_codes: dict[str, int] = attrs.field(factory=dict)


class Paced:
    """An :class:`Upstream` called through a rate limiter, retrying what may pass later."""

    def __init__(
        self,
        upstream: Upstream,
        limiter: RateLimiter,
        backoff: Backoff = Backoff(),
        *,
        sleep: Sleep = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.upstream = upstream
        self.limiter = limiter
        self.backoff = backoff
        self.stats = CallStats()
        self._sleep = sleep
        self._rng = rng or random.Random()

    def call(self, operation: Operation, params: Mapping[str, object]) -> dict[str, Any]:
        retry = 0
        while True:
            self.limiter.wait()
            self.stats.calls += 1
            try:
                return self.upstream.call(operation, params)
            except UpstreamError as exc:
                if not exc.retryable or retry >= self.backoff.retries:
                    raise UpstreamError(
                        exc.code, exc.message, exc.http_status, action=exc.action,
                        request_id=exc.request_id, attempts=retry + 1,
                    ) from None
                delay = self.backoff.delay(retry, self._rng.uniform)
                if exc.retry_after is not None:  # the service said how long: at least that
                    delay = max(delay, min(exc.retry_after, MOST_ASKED_WAIT))
                self.stats.retries += 1
                self.stats.waited += delay
                self.stats.retried_codes[exc.code] = self.stats.retried_codes.get(exc.code, 0) + 1
                self._sleep(delay)
                retry += 1
