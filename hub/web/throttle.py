"""Exponential throttling of guesses (passwords, voucher codes, API keys). Pure: the clock is passed in.

Each key (an account, a client address, an API key) may fail `free` times; every further failure
doubles the wait before the next attempt (`base_s`, 2×, 4×, … up to `max_s`). A success clears the
key; failures are forgotten after `forget_s` without any.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Record:
    failures: int
    last_failure: float
    blocked_until: float


class Throttle:
    def __init__(
        self,
        clock: Callable[[], float],
        *,
        free: int = 3,
        base_s: float = 2.0,
        max_s: float = 900.0,
        forget_s: float = 3600.0,
        max_keys: int = 100_000,
    ) -> None:
        self._clock = clock
        self.free = free
        self.base_s = base_s
        self.max_s = max_s
        self.forget_s = forget_s
        self.max_keys = max_keys
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    def wait_for(self, *keys: str) -> float:
        """Seconds to wait before any of `keys` may try again (0: go ahead)."""
        now = self._clock()
        with self._lock:
            waits = [self._wait(key, now) for key in keys]
        return max(waits, default=0.0)

    def _wait(self, key: str, now: float) -> float:
        rec = self._records.get(key)
        if rec is None:
            return 0.0
        if now - rec.last_failure > self.forget_s:
            del self._records[key]
            return 0.0
        return max(0.0, rec.blocked_until - now)

    def failure(self, *keys: str) -> float:
        """Count a failure for every key; returns the longest wait it imposes."""
        now = self._clock()
        with self._lock:
            if len(self._records) >= self.max_keys:  # bounded memory under a flood of addresses
                self._forget_old(now)
            out = 0.0
            for key in keys:
                rec = self._records.get(key)
                if rec is None or now - rec.last_failure > self.forget_s:
                    rec = _Record(0, now, now)
                rec.failures += 1
                rec.last_failure = now
                over = rec.failures - self.free
                delay = 0.0 if over <= 0 else min(self.max_s, self.base_s * 2 ** (over - 1))
                rec.blocked_until = now + delay
                self._records[key] = rec
                out = max(out, delay)
            return out

    def success(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._records.pop(key, None)

    def _forget_old(self, now: float) -> None:
        stale = [k for k, r in self._records.items() if now - r.last_failure > self.forget_s]
        for key in stale:
            del self._records[key]
        if len(self._records) >= self.max_keys:  # still full: drop the oldest half
            for key, _ in sorted(self._records.items(), key=lambda kv: kv[1].last_failure)[
                : self.max_keys // 2
            ]:
                del self._records[key]
