"""Failed-authentication throttle: after `limit` invalid API keys from one client address
within `window` seconds, that address's further invalid keys get 429 with Retry-After.

Valid keys are never slowed: a key is looked up first, and only a failure consults the
throttle. The count lives in this process (each API replica counts its own), keyed by the
address uvicorn reports (the peer, or X-Forwarded-For from a trusted proxy).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

# Beyond this many tracked addresses the quietest are forgotten first, so a flood of
# addresses cannot grow the table without bound.
MAX_ADDRESSES = 100_000


class FailedAuthThrottle:
    def __init__(
        self, *, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, address: str, now: float) -> deque[float] | None:
        failures = self._failures.get(address)
        if failures is None:
            return None
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[address]
            return None
        return failures

    def retry_after(self, address: str) -> int | None:
        """Seconds until this address may fail again, or None if it may now."""
        now = self.clock()
        failures = self._recent(address, now)
        if failures is None or len(failures) < self.limit:
            return None
        return max(1, math.ceil(failures[0] + self.window - now))

    def record_failure(self, address: str) -> None:
        now = self.clock()
        failures = self._recent(address, now)
        if failures is None:
            if len(self._failures) >= MAX_ADDRESSES:
                del self._failures[next(iter(self._failures))]
            failures = self._failures[address] = deque()
        else:
            # Most recently failing last: the oldest entry is the first to be forgotten.
            self._failures[address] = self._failures.pop(address)
        failures.append(now)
