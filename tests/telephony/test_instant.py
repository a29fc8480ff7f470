"""The benchmark provider's request latency (`CAMPAIGN_SERVICE_INSTANT_PLACE_SECONDS`)."""

from __future__ import annotations

import asyncio
import time

from campaign_service.calls.status import CallStatus
from campaign_service.settings import Settings
from campaign_service.telephony.base import StatusReport
from campaign_service.telephony.factory import build_default_provider
from tests.telephony.helpers import place_request


async def test_placing_takes_the_configured_latency_and_requests_overlap(monkeypatch):
    monkeypatch.setenv("CAMPAIGN_SERVICE_PROVIDER", "instant")
    monkeypatch.setenv("CAMPAIGN_SERVICE_INSTANT_PLACE_SECONDS", "0.5")
    provider = build_default_provider(Settings(), sessions=None, clock=None)  # type: ignore[arg-type]
    reports: list[StatusReport] = []

    async def sink(batch):
        reports.extend(batch)

    await provider.start(sink)
    try:
        started = time.monotonic()
        ids = await asyncio.gather(*(provider.place_call(place_request()) for _ in range(10)))
        elapsed = time.monotonic() - started
        assert len(set(ids)) == 10
        assert elapsed >= 0.5  # each request waited its latency...
        assert elapsed < 2.5  # ...at the same time as the others (one after another: 5 s)
        for _ in range(100):
            if len(reports) == 20:
                break
            await asyncio.sleep(0.01)
        assert sorted(r.status for r in reports).count(CallStatus.ENDED) == 10
    finally:
        await provider.stop()
