"""Pacing of requests to Vapi, measured on a virtual clock (no real waiting, no timing)."""

from __future__ import annotations

import asyncio

import pytest

from campaign_service.fakevapi import FakeOrg
from campaign_service.telephony.rate_limit import PerKeyRateLimit, TokenBucket
from campaign_service.telephony.vapi_client import Absent, VapiClient
from tests.fakevapi.helpers import KEY, SLOW


class VirtualTime:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def test_burst_then_rate():
    time = VirtualTime()
    bucket = TokenBucket(rate=4, burst=3, clock=time.clock, sleep=time.sleep)
    waits = [await bucket.acquire() for _ in range(7)]
    assert waits[:3] == [0, 0, 0]
    assert waits[3:] == pytest.approx([0.25] * 4)
    assert time.now - 100 == pytest.approx(1.0)  # 4 requests past the burst at 4 per second


async def test_idle_time_refills_up_to_the_burst_only():
    time = VirtualTime()
    bucket = TokenBucket(rate=10, burst=2, clock=time.clock, sleep=time.sleep)
    for _ in range(2):
        await bucket.acquire()
    time.now += 3600  # an hour idle earns two tokens, not 36,000
    waits = [await bucket.acquire() for _ in range(3)]
    assert waits == pytest.approx([0, 0, 0.1])


async def test_concurrent_waiters_are_spaced_by_the_rate():
    time = VirtualTime()
    bucket = TokenBucket(rate=2, burst=1, clock=time.clock, sleep=time.sleep)
    waits = await asyncio.gather(*(bucket.acquire() for _ in range(5)))
    assert sorted(waits) == pytest.approx([0, 0.5, 0.5, 0.5, 0.5])
    assert time.now - 100 == pytest.approx(2.0)


async def test_each_key_has_its_own_bucket():
    time = VirtualTime()
    limit = PerKeyRateLimit(1, 2, clock=time.clock, sleep=time.sleep)
    for key in ("a", "b", "a", "b"):
        assert await limit.acquire(key) == 0
    assert await limit.acquire("a") == pytest.approx(1.0)
    with pytest.raises(ValueError, match="positive rate"):
        TokenBucket(0, 1)


async def test_the_client_paces_each_org(start_fake):
    vapi = start_fake(orgs=(FakeOrg(KEY), FakeOrg("second")), timings=SLOW)
    time = VirtualTime()
    async with VapiClient(
        base_url=vapi.url, requests_per_second=5, burst=2, clock=time.clock, sleep=time.sleep
    ) as client:
        for _ in range(6):
            assert await client.get_call(KEY, "none") == Absent()
        assert time.sleeps == pytest.approx([0.2] * 4)
        for _ in range(2):  # another org has its own burst
            await client.get_call("second", "none")
        assert len(time.sleeps) == 4
        assert await client.get_call(KEY, "none") == Absent()
        assert len(time.sleeps) == 5
