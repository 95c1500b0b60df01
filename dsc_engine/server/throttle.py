"""Flow control: a token bucket per access key and operation.

Each bucket holds at most ``rate`` tokens (at least one) and refills at ``rate`` tokens per second; a call takes
one token or, when none is left, is refused (``Throttling.User``). With the default rate of 10 a
key may burst 10 calls of one operation at once and then sustain 10 per second.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

import attrs

from dsc_engine.errors import ServerConfigError


def rate_problem(rate: object) -> str | None:
    """Why ``rate`` is no throttle rate (``None`` when it is one): a finite number of calls per
    second above zero. Infinity is not "no limit" (flow control off is its own switch)."""
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not (math.isfinite(rate) and rate > 0):
        return f"must be a finite number of calls per second above 0, not {rate!r} (flow control is turned off apart)"
    return None


@attrs.define
class _Bucket:
    tokens: float
    stamp: float


class Throttle:
    """Thread-safe token buckets keyed by ``(access key id, action)``; ``clock`` gives seconds."""

    def __init__(self, rate: float, clock: Callable[[], float]) -> None:
        problem = rate_problem(rate)
        if problem is not None:
            raise ServerConfigError("throttle", "rate", problem)
        self._rate = rate
        self._capacity = max(rate, 1.0)
        self._clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, access_key_id: str, action: str) -> float:
        """Take a token for this key and action: ``0.0`` when one was there, else the seconds until
        one will be (the caller is throttled and takes none)."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get((access_key_id, action))
            if bucket is None:
                bucket = self._buckets[(access_key_id, action)] = _Bucket(self._capacity, now)
            elapsed = max(0.0, now - bucket.stamp)
            bucket.tokens = min(self._capacity, bucket.tokens + elapsed * self._rate)
            bucket.stamp = now
            if bucket.tokens < 1.0:
                return (1.0 - bucket.tokens) / self._rate
            bucket.tokens -= 1.0
            return 0.0
