"""Counters behind the rate limits: token buckets for writes, growing delays for sign-in.

Both keep their state in this process (see docs/SECURITY.md for several workers) and take a
clock, so tests can move time instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

MAX_KEYS = 100_000


class TokenBucket:
    """``rate`` requests per minute with bursts up to ``burst``, per key."""

    def __init__(self, rate_per_min: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate_per_min / 60.0
        self.burst = burst
        self.clock = clock
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when allowed, else seconds until a request would be."""
        now = self.clock()
        with self._lock:
            tokens, last = self._state.get(key, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._state[key] = (tokens - 1, now)
                if len(self._state) > MAX_KEYS:
                    self._state.clear()
                return 0.0
            self._state[key] = (tokens, now)
            return (1 - tokens) / self.rate


class Backoff:
    """Growing delays after failures, per key.

    The first ``free`` failures cost nothing; then each further attempt has to wait 1 s, 2 s,
    4 s… (at most ``max_delay``) after the previous failure. Failures are forgotten
    ``forget_after`` seconds after the last one, or at once by :meth:`reset`.
    """

    def __init__(self, free: int, max_delay: float, clock: Callable[[], float] = time.monotonic,
                 forget_after: float = 86_400) -> None:
        self.free = max(1, free)
        self.max_delay = max_delay
        self.clock = clock
        self.forget_after = forget_after
        self._state: dict[str, tuple[int, float, float]] = {}  # key → (failures, last failure, next allowed)
        self._lock = threading.Lock()

    def wait(self, key: str) -> float:
        """Seconds until ``key`` may try again (0: now)."""
        now = self.clock()
        with self._lock:
            entry = self._live(key, now)
            return max(0.0, entry[2] - now) if entry else 0.0

    def fail(self, key: str) -> None:
        """Count one failure of ``key``."""
        now = self.clock()
        with self._lock:
            failures = (self._live(key, now) or (0, now, now))[0] + 1
            delay = 0.0 if failures < self.free else min(self.max_delay, 2.0 ** (failures - self.free))
            self._state[key] = (failures, now, now + delay)
            if len(self._state) > MAX_KEYS:
                self._sweep(now)

    def undo(self, key: str) -> None:
        """Take back one failure (an attempt counted in advance that turned out not to be one)."""
        with self._lock:
            entry = self._state.get(key)
            if entry is None:
                return
            failures = entry[0] - 1
            if failures <= 0:
                del self._state[key]
            else:
                self._state[key] = (failures, entry[1], entry[2] if failures >= self.free else entry[1])

    def reset(self, key: str) -> None:
        """Forget every failure of ``key`` (a successful sign-in)."""
        with self._lock:
            self._state.pop(key, None)

    def _live(self, key: str, now: float) -> tuple[int, float, float] | None:
        entry = self._state.get(key)
        if entry is not None and now - entry[1] > self.forget_after:
            del self._state[key]
            return None
        return entry

    def _sweep(self, now: float) -> None:
        for key in [k for k, v in self._state.items() if now - v[1] > self.forget_after]:
            del self._state[key]
        if len(self._state) > MAX_KEYS:  # still too many: keep the most recent half
            keep = sorted(self._state.items(), key=lambda kv: kv[1][1])[len(self._state) // 2:]
            self._state = dict(keep)
