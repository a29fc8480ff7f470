"""Token buckets that pace requests to a provider, one bucket per org (API key)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class TokenBucket:
    """Up to `burst` requests at once, then `rate` per second. Waiters go in arrival order."""

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs a positive rate and a burst of at least 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated = clock()
        # Holding the lock while sleeping queues the waiters: each leaves one token interval
        # after the one before it, so the rate holds however many tasks wait.
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    async def acquire(self) -> float:
        """Take one token, waiting for it if needed; returns the seconds waited."""
        async with self._lock:
            self._refill()
            waited = 0.0
            if self._tokens < 1:
                waited = (1 - self._tokens) / self.rate
                await self._sleep(waited)
                self._refill()
            self._tokens -= 1
            return waited


class PerKeyRateLimit:
    """One token bucket per API key (each key is one org at the provider)."""

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._rate, self._burst, self._clock, self._sleep = rate, burst, clock, sleep
        self._buckets: dict[str, TokenBucket] = {}

    async def acquire(self, api_key: str) -> float:
        # Buckets are keyed by a digest, so this map never holds a key in clear.
        name = hashlib.sha256(api_key.encode()).hexdigest()
        bucket = self._buckets.get(name)
        if bucket is None:
            bucket = TokenBucket(self._rate, self._burst, clock=self._clock, sleep=self._sleep)
            self._buckets[name] = bucket
        return await bucket.acquire()
